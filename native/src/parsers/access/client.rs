//! The client, the text before ident: `source.address`, and `source.ip` when it is an
//! address. A forwarded list gives its first public address, else its first entry.

use super::ip::{ip_address, is_global};
use crate::parsers::structured::py_space;

/// (source.address, whether it is also source.ip) for the text before ident.
pub(super) fn client(text: &str) -> Option<(&str, bool)> {
    if !text.contains([',', ' ', '"']) {
        return (text != "-").then(|| (text, ip_address(text).is_some()));
    }
    // A list is split on commas, quotes and whitespace (any Unicode whitespace: `py_space`).
    let mut entries = text.split(|c: char| c == ',' || c == '"' || py_space(c)).filter(|e| !e.is_empty());
    let first = entries.next()?;
    // Filebeat's rule: the first public address of the list, else its first entry.
    if let Some(found) = std::iter::once(first).chain(entries).find(|e| ip_address(e).is_some_and(is_global))
    {
        return Some((found, true));
    }
    Some((first, ip_address(first).is_some()))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{pairs, parsed};

    #[test]
    fn forwarded_list_and_common_format() {
        let line = r#"10.0.0.2, 10.0.0.1, 85.181.35.98 frank \"x\" [07/Dec/2016:11:05:07.5 +0100] "-" 503 -"#;
        assert_eq!(
            parsed(line),
            pairs(&[
                ("@timestamp", "2016-12-07T10:05:07.500000Z"),
                ("message", line),
                ("source.address", "85.181.35.98"),
                ("source.ip", "85.181.35.98"),
                ("user.name", "\"x\""),
                ("http.response.status_code", "503"),
                ("log.level", "error"),
            ])
        );
        let private = r#"10.0.0.2, host.local - - [07/Dec/2016:11:05:07 +0100] "\x16\x03" 400 0"#;
        let got = parsed(private);
        assert_eq!(got[2], ("source.address".to_string(), "10.0.0.2".to_string()));
        assert_eq!(got[3], ("source.ip".to_string(), "10.0.0.2".to_string()));
        assert_eq!(got[4], ("url.original".to_string(), "\\x16\\x03".to_string()));
    }
}
