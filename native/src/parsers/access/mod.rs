//! Access lines: Apache / nginx common and combined formats.
//!
//! `match_line` (in `line`) reads a line against one pattern (an escape-aware variant too
//! when the line holds a backslash), by hand: once the client's end is chosen, every part
//! has one reading. A client list gives its first public address (`client`); which text is
//! an address and which address is public are fixed tables and rules in `ip` (`ipv4`,
//! `ipv6`, `is_global`), so a client gets the `source.ip` it always has. An absolute-form
//! request target is split into path and query (`request`); its host may hold any text. The
//! stamp's shape and value are read in `timestamp`.
//!
//! This file holds the entry points: `looks_like` and `parse`, which turns the matched parts
//! into fields.

mod client;
mod ip;
mod line;
mod request;
mod timestamp;

use super::Fields;
use super::{Outcome, Refusal};
use crate::json::Value;
use crate::time::Stamp;
use client::client;
use line::{Span, groups, number, unescape};
use request::request_fields;
use timestamp::{date_shape, timestamp};

/// Whether the line opens like an access line: a prefix `A B C [dd/Mon/yyyy:HH:MM:SS` where
/// A (1..=512 bytes, spaces allowed) holds no `[` or newline and B, C (1..=256 bytes each)
/// hold no space or newline.
pub fn looks_like(line: &[u8]) -> bool {
    // The longest head the bounded repeats allow, plus the ` [` after it.
    let limit = line.len().min(512 + 1 + 256 + 1 + 256 + 2);
    // B and C may hold `[`, so any ` [` followed by a date is a candidate, not just the first.
    (0..limit.saturating_sub(1)).any(|p| {
        line[p] == b' ' && line[p + 1] == b'[' && date_shape(&line[p + 2..]) && head_shape(&line[..p])
    })
}

/// Whether `head` reads as `A B C` for `looks_like`. B and C hold no space, so they are the
/// last two space-separated words; A is all that comes before.
fn head_shape(head: &[u8]) -> bool {
    let Some(s2) = head.iter().rposition(|&c| c == b' ') else { return false };
    let Some(s1) = head[..s2].iter().rposition(|&c| c == b' ') else { return false };
    let fits = |part: &[u8], max: usize| !part.is_empty() && part.len() <= max && !part.contains(&b'\n');
    let a = &head[..s1];
    fits(a, 512) && !a.contains(&b'[') && fits(&head[s1 + 1..s2], 256) && fits(&head[s2 + 1..], 256)
}

/// One access line. `reference` is unused: an access stamp has a year and a zone.
pub fn parse(line: &[u8], _reference: Option<Stamp>) -> Outcome {
    if line.is_empty() {
        return Outcome::refuse("access.empty", "");
    }
    let Ok(text) = std::str::from_utf8(line) else { return Outcome::Refused(Refusal::utf8(line)) };
    let Some(g) = groups(line) else { return Outcome::refuse("access.no_match", "") };
    let part = |(a, b): Span| &text[a..b];
    let Some(stamp) = timestamp(part(g.stamp).as_bytes()) else {
        return Outcome::refuse("access.bad_timestamp", part(g.stamp));
    };

    let mut fields = Fields::with_capacity(14);
    fields.timestamp = Some(stamp);
    let mut put = |key: &'static str, value: Value| fields.set(key, value);
    put("message", Value::from(text));

    if let Some((address, is_ip)) = client(part(g.client)) {
        put("source.address", Value::from(address));
        if is_ip {
            put("source.ip", Value::from(address));
        }
    }
    let user = part(g.user);
    if user != "-" {
        put("user.name", Value::from(unescape(user).into_owned()));
    }
    let request = part(g.request);
    if !request.is_empty() && request != "-" {
        request_fields(&mut put, unescape(request));
    }
    let code = number(part(g.status).as_bytes());
    put("http.response.status_code", Value::from(code));
    let level = if code >= 500 {
        "error"
    } else if code >= 400 {
        "warn"
    } else {
        "info"
    };
    put("log.level", Value::from(level));
    let size = part(g.size);
    if size != "-" {
        // At most 18 digits: always an i64.
        put("http.response.body.bytes", Value::from(number(size.as_bytes())));
    }
    if let Some((referrer, agent)) = g.extra {
        let (referrer, agent) = (part(referrer), part(agent));
        if !referrer.is_empty() && referrer != "-" {
            put("http.request.referrer", Value::from(unescape(referrer).into_owned()));
        }
        if !agent.is_empty() && agent != "-" {
            put("user_agent.original", Value::from(unescape(agent).into_owned()));
        }
    }
    Outcome::Parsed(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(super) fn parsed(line: &str) -> Vec<(String, String)> {
        match parse(line.as_bytes(), None) {
            Outcome::Parsed(f) => f
                .items()
                .into_iter()
                .map(|(k, v)| {
                    let v = match v {
                        Value::String(s) => s.into(),
                        Value::Number(n) => n.to_string(),
                        other => format!("{other:?}"),
                    };
                    (k, v)
                })
                .collect(),
            other => panic!("{other:?}"),
        }
    }

    pub(super) fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn combined_line() {
        let line = r#"83.149.9.216 - - [17/May/2015:10:05:03 +0000] "GET /presentations/logstash-monitorama-2013/images/kibana-search.png?x=1 HTTP/1.1" 200 203023 "http://semicomplete.com/presentations/logstash-monitorama-2013/" "Mozilla/5.0""#;
        assert_eq!(
            parsed(line),
            pairs(&[
                ("@timestamp", "2015-05-17T10:05:03.000000Z"),
                ("message", line),
                ("source.address", "83.149.9.216"),
                ("source.ip", "83.149.9.216"),
                ("http.request.method", "GET"),
                ("url.original", "/presentations/logstash-monitorama-2013/images/kibana-search.png?x=1"),
                ("http.version", "1.1"),
                ("url.path", "/presentations/logstash-monitorama-2013/images/kibana-search.png"),
                ("url.query", "x=1"),
                ("http.response.status_code", "200"),
                ("log.level", "info"),
                ("http.response.body.bytes", "203023"),
                ("http.request.referrer", "http://semicomplete.com/presentations/logstash-monitorama-2013/"),
                ("user_agent.original", "Mozilla/5.0"),
            ])
        );
    }

    #[test]
    fn refusals() {
        let refused = |l: &[u8], reason: &str| assert_eq!(parse(l, None).reason(), Some(reason));
        refused(b"", "access.empty");
        refused(b"\xff - - [01/Jan/2020:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1", "invalid_utf8");
        refused(b"h - - [01/Foo/2020:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1", "access.bad_timestamp");
        refused(b"h - - [31/Feb/2020:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1", "access.bad_timestamp");
        refused(b"h - - [01/Jan/0001:00:00:00 +0100] \"GET / HTTP/1.1\" 200 1", "access.bad_timestamp");
        refused(b"h - - [01/Jan/2020:00:00:00 +0000] \"GET / HTTP/1.1\" 200 1x", "access.no_match");
    }

    #[test]
    fn looks() {
        assert!(looks_like(b"h - - [01/Jan/2020:00:00:00"));
        assert!(!looks_like(b"h[ - - [01/Jan/2020:00:00:00"));
        assert!(looks_like(b"h x[ - [01/Jan/2020:00:00:00"));
        assert!(!looks_like(b"h - - [01/Jan/2020:00:00"));
    }
}
