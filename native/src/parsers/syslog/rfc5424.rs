//! RFC 5424 lines after the priority: VERSION, TIMESTAMP, HOSTNAME, APP-NAME, PROCID,
//! MSGID, the structured data and MSG. Its RFC 3339 TIMESTAMP reading also serves RFC 3164
//! lines with an ISO stamp.

use super::structured_data::structured_data;
use super::{Step, clip, digit_run, push, refuse, small_int};
use crate::json::Value;
use crate::parsers::Fields;
use crate::time::Stamp;

const BOM: &str = "\u{feff}";

pub(super) fn parse_5424(rest: &str, fields: &mut Fields) -> Step<()> {
    // Split at single spaces, at most six times.
    let mut parts: [&str; 7] = [""; 7];
    let mut count = 0;
    let mut remaining = rest;
    while count < 6 {
        match remaining.find(' ') {
            Some(i) => {
                parts[count] = &remaining[..i];
                remaining = &remaining[i + 1..];
                count += 1;
            }
            None => break,
        }
    }
    parts[count] = remaining;
    count += 1;

    let version = parts[0];
    let vb = version.as_bytes();
    if vb.is_empty() || vb.len() > 3 || !vb.iter().all(u8::is_ascii_digit) || vb[0] == b'0' {
        return Err(refuse("syslog.bad_version", clip(version, 8)));
    }
    push(fields, "log.syslog.version", Value::from(version));
    // Checked before the field count so that a cut-off line reports its first bad field.
    if count > 1 && parts[1] != "-" {
        fields.timestamp = Some(timestamp_5424(parts[1].as_bytes())?);
    }
    if count < 7 {
        return Err(refuse("syslog.bad_header", "truncated RFC 5424 header"));
    }
    let [_, _, hostname, appname, procid, msgid, tail] = parts;
    if hostname != "-" {
        header(hostname, 255)?;
        push(fields, "log.syslog.hostname", Value::from(hostname));
        push(fields, "host.name", Value::from(hostname));
    }
    if appname != "-" {
        header(appname, 48)?;
        push(fields, "log.syslog.appname", Value::from(appname));
        push(fields, "service.name", Value::from(appname));
        push(fields, "process.name", Value::from(appname));
    }
    if procid != "-" {
        header(procid, 128)?;
        push(fields, "log.syslog.procid", Value::from(procid));
        if let Some(pid) = small_int(procid) {
            push(fields, "process.pid", Value::from(pid));
        }
    }
    if msgid != "-" {
        header(msgid, 32)?;
        push(fields, "log.syslog.msgid", Value::from(msgid));
    }

    let pos = match tail.as_bytes().first() {
        Some(b'[') => {
            let (data, pos) = structured_data(tail)?;
            push(fields, "log.syslog.structured_data", Value::Object(data));
            pos
        }
        Some(b'-') => 1,
        _ => return Err(refuse("syslog.bad_structured_data", clip(tail, 16))),
    };
    if pos < tail.len() {
        if tail.as_bytes()[pos] != b' ' {
            return Err(refuse("syslog.bad_structured_data", "no space before MSG"));
        }
        let message = &tail[pos + 1..];
        let message = message.strip_prefix(BOM).unwrap_or(message);
        if !message.is_empty() {
            push(fields, "message", Value::from(message));
        }
    }
    Ok(())
}

/// A header field: non-empty, at most `limit` long, printable ASCII (no space: the header
/// was split at spaces).
fn header(value: &str, limit: usize) -> Step<()> {
    let b = value.as_bytes();
    if b.is_empty() || b.len() > limit || !b.iter().all(|&c| (0x20..0x7f).contains(&c)) {
        return Err(refuse("syslog.bad_header", clip(value, 32)));
    }
    Ok(())
}

/// The fields of an RFC 5424 timestamp (RFC 3339, up to nine fraction digits): (y, mo, d,
/// h, mi, s, micros, zone), where zone is None for `Z` and (sign, hh, mm) for an offset.
pub(super) type Ts5424 = (i64, i64, i64, i64, i64, i64, i64, Option<(u8, i64, i64)>);

pub(super) fn match_5424(b: &[u8]) -> Option<Ts5424> {
    let y = digit_run(b, 0, 4)?;
    let sep = |i: usize, c: u8| (b.get(i) == Some(&c)).then_some(());
    sep(4, b'-')?;
    let mo = digit_run(b, 5, 2)?;
    sep(7, b'-')?;
    let d = digit_run(b, 8, 2)?;
    sep(10, b'T')?;
    let h = digit_run(b, 11, 2)?;
    sep(13, b':')?;
    let mi = digit_run(b, 14, 2)?;
    sep(16, b':')?;
    let s = digit_run(b, 17, 2)?;
    let mut i = 19;
    let mut micros = 0;
    if b.get(i) == Some(&b'.') {
        let n = b[i + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if !(1..=9).contains(&n) {
            return None;
        }
        // The first six fraction digits, padded with zeros.
        for k in 0..6 {
            micros = micros * 10 + if k < n { (b[i + 1 + k] - b'0') as i64 } else { 0 };
        }
        i += 1 + n;
    }
    let zone = match *b.get(i)? {
        b'Z' => {
            i += 1;
            None
        }
        sign @ (b'+' | b'-') => {
            let hh = digit_run(b, i + 1, 2)?;
            sep(i + 3, b':')?;
            let mm = digit_run(b, i + 4, 2)?;
            i += 6;
            Some((sign, hh, mm))
        }
        _ => return None,
    };
    (i == b.len()).then_some((y, mo, d, h, mi, s, micros, zone))
}

/// RFC 5424's TIMESTAMP field as a stamp, or `syslog.bad_timestamp`.
fn timestamp_5424(stamp: &[u8]) -> Step<Stamp> {
    let text = String::from_utf8_lossy(stamp);
    let Some(ts) = match_5424(stamp) else { return Err(refuse("syslog.bad_timestamp", clip(&text, 40))) };
    stamp_of(ts, &text)
}

/// The stamp of an RFC 5424 timestamp's fields, read from `text` (the refusal's detail).
pub(super) fn stamp_of((y, mo, d, h, mi, s, us, zone): Ts5424, text: &str) -> Step<Stamp> {
    let offset = match zone {
        None => 0,
        Some((sign, hh, mm)) => {
            if hh > 23 || mm > 59 {
                return Err(refuse("syslog.bad_timestamp", format!("offset {hh:02}:{mm:02}")));
            }
            let total = hh * 3600 + mm * 60;
            if sign == b'-' { -total } else { total }
        }
    };
    // None: a field out of range, or a UTC time outside years 1..=9999.
    Stamp::from_local(y, mo, d, h, mi, s, us, offset)
        .ok_or_else(|| refuse("syslog.bad_timestamp", clip(text, 40)))
}

#[cfg(test)]
mod tests {
    use super::super::tests::{parsed, text};
    use crate::json::{Object, Value};

    #[test]
    fn rfc5424_with_structured_data() {
        let line = r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog 42 ID47 [exampleSDID@32473 iut="3" eventID="1\"0\]1\x"][x@1] BOM'An application event"#;
        let f = parsed(line, None);
        assert_eq!(
            f.keys(),
            [
                "@timestamp",
                "log.syslog.priority",
                "log.syslog.facility.code",
                "log.syslog.facility.name",
                "log.syslog.severity.code",
                "log.syslog.severity.name",
                "log.level",
                "log.syslog.version",
                "log.syslog.hostname",
                "host.name",
                "log.syslog.appname",
                "service.name",
                "process.name",
                "log.syslog.procid",
                "process.pid",
                "log.syslog.msgid",
                "log.syslog.structured_data",
                "message",
            ]
        );
        assert_eq!(text(&f, "log.syslog.facility.name").as_deref(), Some("local4"));
        assert_eq!(text(&f, "log.level").as_deref(), Some("notice"));
        assert_eq!(text(&f, "@timestamp").as_deref(), Some("2003-10-11T22:14:15.003000Z"));
        assert_eq!(text(&f, "process.pid").as_deref(), Some("42"));
        let sd = f.get("log.syslog.structured_data").and_then(Value::as_object).unwrap();
        let first = sd.get("exampleSDID@32473").and_then(Value::as_object).unwrap();
        assert_eq!(first.get("eventID"), Some(&Value::from(r#"1"0]1\x"#)));
        assert_eq!(sd.get("x@1"), Some(&Value::Object(Object::new())));
        assert_eq!(text(&f, "message").as_deref(), Some("BOM'An application event"));
    }
}
