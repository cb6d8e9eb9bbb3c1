//! The request line: `METHOD target HTTP/x.y` into the method, the version and
//! `url.original`, and an origin-form or absolute-form target into its path and query.

use std::borrow::Cow;

use super::ip::{ipv4, ipv6};
use crate::json::Value;

/// `METHOD target HTTP/x.y` into its fields; anything else kept whole.
pub(super) fn request_fields(put: &mut impl FnMut(&'static str, Value), request: Cow<'_, str>) {
    let r: &str = &request;
    let (method, rest) = r.split_once(' ').unwrap_or((r, ""));
    let (target, protocol) = rest.rsplit_once(' ').unwrap_or(("", rest));
    let version = http_version(protocol);
    // HTTP/0.9 has no version (`GET /path`); more words than that is no request line.
    let target = match version {
        Some(_) => target,
        None if rest.contains(' ') => "",
        None => rest,
    };
    if target.is_empty() || !is_method(method) {
        put("url.original", Value::from(request.into_owned()));
        return;
    }
    put("http.request.method", Value::from(method));
    put("url.original", Value::from(target));
    if let Some(v) = version {
        put("http.version", Value::from(v));
    }
    let (path, query): (Cow<'_, str>, Cow<'_, str>) = if target.starts_with('/') {
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        (Cow::Borrowed(path), Cow::Borrowed(query))
    } else if target.contains("://") {
        match url_split(target) {
            Some((path, query)) => (Cow::Owned(path), Cow::Owned(query)),
            None => return, // no URL: a bad bracketed host
        }
    } else {
        return; // `CONNECT host:443`, `OPTIONS *`
    };
    if !path.is_empty() {
        put("url.path", Value::from(path.into_owned()));
    }
    if !query.is_empty() {
        put("url.query", Value::from(query.into_owned()));
    }
}

/// The version of `HTTP/(\d{1,2}(?:\.\d{1,2})?)`, the group; None for anything else.
fn http_version(protocol: &str) -> Option<&str> {
    let v = protocol.strip_prefix("HTTP/")?;
    let short = |s: &str| (1..=2).contains(&s.len()) && s.bytes().all(|c| c.is_ascii_digit());
    let ok = match v.split_once('.') {
        Some((major, minor)) => short(major) && short(minor),
        None => short(v),
    };
    ok.then_some(v)
}

/// A method token: `[A-Za-z][A-Za-z0-9_-]{0,31}`.
fn is_method(m: &str) -> bool {
    let b = m.as_bytes();
    (1..=32).contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b[1..].iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// (path, query) of an absolute-form target (scheme, `//` authority, path, `?` query,
/// `#` fragment); None for an authority whose brackets do not hold an IP literal.
fn url_split(target: &str) -> Option<(String, String)> {
    // Leading C0 controls and spaces go, and tabs and line breaks anywhere: no URL holds them.
    let url: String = target
        .trim_start_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect();
    let mut rest = url.as_str();
    if let Some(colon) = rest.find(':') {
        let scheme = &rest.as_bytes()[..colon];
        if colon > 0
            && scheme[0].is_ascii_alphabetic()
            && scheme.iter().all(|&c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
        {
            rest = &rest[colon + 1..];
        }
    }
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        let netloc = &after[..end];
        rest = &after[end..];
        let (open, close) = (netloc.contains('['), netloc.contains(']'));
        if open != close {
            return None; // an unbalanced bracket
        }
        if open && !bracketed_host_ok(netloc) {
            return None;
        }
    }
    if let Some(hash) = rest.find('#') {
        rest = &rest[..hash];
    }
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    Some((path.to_owned(), query.to_owned()))
}

/// The text between the authority's first `[` and the `]` after it is an IP literal (RFC
/// 3986): an IPvFuture `v<hex>.<anything>` or an IPv6 address (IPv4 in brackets is not).
fn bracketed_host_ok(netloc: &str) -> bool {
    let host = netloc.split_once('[').map_or("", |(_, h)| h);
    let host = host.split_once(']').map_or(host, |(h, _)| h);
    match host.strip_prefix('v') {
        // `v`, hex digits, `.`, then anything (line breaks were removed above).
        Some(future) => {
            let hex = future.bytes().take_while(u8::is_ascii_hexdigit).count();
            hex > 0 && future[hex..].strip_prefix('.').is_some_and(|tail| !tail.is_empty())
        }
        None => ipv4(host).is_none() && ipv6(host).is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::parsed;

    #[test]
    fn absolute_target_and_ipv6() {
        let line = r#"::ffff:8.8.8.8 - - [01/JAN/2020:00:00:00 -0000] "GET http://[::1]:80/a?b#c HTTP/2" 302 5 "" "-" 0.003"#;
        let got = parsed(line);
        assert_eq!(got[2].1, "::ffff:8.8.8.8");
        assert_eq!(got[3].1, "::ffff:8.8.8.8");
        assert_eq!(got[7].1, "/a");
        assert_eq!(got[8].1, "b");
        assert_eq!(got.len(), 12);
        let non_ascii_host = r#"h - - [01/Jan/2020:00:00:00 +0000] "GET http://ä/ HTTP/1.1" 200 1"#;
        assert!(parsed(non_ascii_host).contains(&("url.path".to_string(), "/".to_string())));
    }
}
