//! RFC 3164 (BSD) lines and their variants: a BSD stamp (its year from the reference) or
//! an ISO one, an optional host name, the TAG (`name[pid]:` or `name:`) and the message.

use super::rfc5424::{match_5424, stamp_of};
use super::{MONTHS, Step, clip, digit_run, iso_date_start, push, refuse, small_int};
use crate::json::Value;
use crate::parsers::Fields;
use crate::parsers::level::opening_word;
use crate::parsers::structured::py_space;
use crate::time::{Stamp, complete_year, parse_iso_timestamp};

pub(super) fn parse_3164(rest: &str, fields: &mut Fields, reference: Option<Stamp>) -> Step<()> {
    let (stamp, mut pos) = timestamp_3164(rest, reference)?;
    fields.timestamp = Some(stamp);
    if pos < rest.len() {
        if rest.as_bytes()[pos] != b' ' {
            return Err(refuse("syslog.bad_timestamp", clip(rest, 32)));
        }
        pos += 1;
    }
    let mut body = rest[pos..].trim_start_matches(' ');

    let mut tag = match_tag(body);
    if tag.is_none() && !body.starts_with("---") && !body.starts_with("last message repeated ") {
        let (host, after) = match body.find(' ') {
            Some(i) => (&body[..i], &body[i + 1..]),
            None => (body, ""),
        };
        // A first word that cannot be a host name is message text from a host-less sender.
        let hb = host.as_bytes();
        if !hb.is_empty() && hb.len() <= 255 && hb.iter().all(|&c| (0x20..0x7f).contains(&c)) {
            push(fields, "log.syslog.hostname", Value::from(host));
            push(fields, "host.name", Value::from(host));
            body = after;
            tag = match_tag(body);
        }
    }
    if let Some(tag) = tag {
        push(fields, "log.syslog.appname", Value::from(tag.name));
        push(fields, "service.name", Value::from(tag.name));
        push(fields, "process.name", Value::from(tag.name));
        if let Some(procid) = tag.procid {
            push(fields, "log.syslog.procid", Value::from(procid));
            if let Some(pid) = small_int(procid) {
                push(fields, "process.pid", Value::from(pid));
            }
        }
        body = &body[tag.end..];
    }
    // Without a priority, the level the message opens with (`error: ...`).
    if !fields.contains_key("log.level")
        && let Some(level) = opening_word(body)
    {
        push(fields, "log.level", Value::from(level));
    }
    if !body.is_empty() {
        push(fields, "message", Value::from(body));
    }
    Ok(())
}

struct Tag<'a> {
    name: &'a str,
    procid: Option<&'a str>,
    end: usize,
}

/// A run of characters other than whitespace (`py_space`), `[`, `]` (and `:` if asked): its
/// byte length, and its length in characters up to `limit + 1` (enough to tell "too long").
fn tag_run(text: &str, stop_at_colon: bool, limit: usize) -> (usize, usize) {
    let mut bytes = 0;
    let mut chars = 0;
    for c in text.chars() {
        if py_space(c) || c == '[' || c == ']' || (stop_at_colon && c == ':') {
            break;
        }
        bytes += c.len_utf8();
        chars += 1;
        if chars > limit {
            break;
        }
    }
    (bytes, chars)
}

/// The TAG at the start of `body`: `name[pid]` then `:`, `: `, a space or the end; or `name:`
/// then a space or the end. The classes are disjoint from what follows them, so a run longer
/// than its limit can never match.
fn match_tag(body: &str) -> Option<Tag<'_>> {
    let (name_len, name_chars) = tag_run(body, true, 64);
    if name_chars == 0 || name_chars > 64 {
        return None;
    }
    let b = body.as_bytes();
    let name = &body[..name_len];
    let mut i = name_len;
    match b.get(i)? {
        b'[' => {
            // The PID class, unlike the name's, allows ':'.
            let (pid_len, pid_chars) = tag_run(&body[i + 1..], false, 128);
            if pid_chars == 0 || pid_chars > 128 {
                return None;
            }
            let procid = &body[i + 1..i + 1 + pid_len];
            i += 1 + pid_len;
            if b.get(i) != Some(&b']') {
                return None;
            }
            i += 1;
            match b.get(i) {
                None => {}
                Some(b':') => {
                    i += 1;
                    if b.get(i) == Some(&b' ') {
                        i += 1;
                    }
                }
                Some(b' ') => i += 1,
                Some(_) => return None,
            }
            Some(Tag { name, procid: Some(procid), end: i })
        }
        b':' => {
            i += 1;
            match b.get(i) {
                None => {}
                Some(b' ') => i += 1,
                Some(_) => return None,
            }
            Some(Tag { name, procid: None, end: i })
        }
        _ => None,
    }
}

/// The BSD `Mmm dd hh:mm:ss[.ffffff]` (year from `reference`) or an ISO date-time; the
/// stamp and the offset just after it.
fn timestamp_3164(rest: &str, reference: Option<Stamp>) -> Step<(Stamp, usize)> {
    let b = rest.as_bytes();
    if let Some((month, day, clock, end)) = match_bsd(b) {
        let stamp = month.and_then(|m| complete_year(m, day, clock, reference));
        return stamp.map(|s| (s, end)).ok_or_else(|| refuse("syslog.bad_timestamp", clip(rest, 20)));
    }
    if !iso_date_start(rest) {
        return Err(refuse("syslog.bad_timestamp", clip(rest, 20)));
    }
    let token = match rest.find(' ') {
        Some(i) => &rest[..i],
        None => rest,
    };
    // rsyslog's RFC 3339 stamp takes the stricter 5424 reading; others the general one.
    let stamp = match match_5424(token.as_bytes()) {
        Some(ts) => stamp_of(ts, token)?,
        None => parse_iso_timestamp(token).ok_or_else(|| refuse("syslog.bad_timestamp", clip(token, 40)))?,
    };
    Ok((stamp, token.len()))
}

/// A BSD stamp at the start of `b`: (month if the name is one, day, clock, end).
#[allow(clippy::type_complexity)]
fn match_bsd(b: &[u8]) -> Option<(Option<i64>, i64, (i64, i64, i64, i64), usize)> {
    let name = b.get(..3)?;
    if !name[0].is_ascii_uppercase() || !name[1].is_ascii_lowercase() || !name[2].is_ascii_lowercase() {
        return None;
    }
    let mut i = 3;
    let spaces = b[i..].iter().take(2).take_while(|&&c| c == b' ').count();
    if spaces == 0 {
        return None;
    }
    i += spaces;
    let day_len = b[i..].iter().take(2).take_while(|c| c.is_ascii_digit()).count();
    if day_len == 0 {
        return None;
    }
    let day = digit_run(b, i, day_len)?;
    i += day_len;
    if b.get(i) != Some(&b' ') {
        return None;
    }
    let h = digit_run(b, i + 1, 2)?;
    (b.get(i + 3) == Some(&b':')).then_some(())?;
    let mi = digit_run(b, i + 4, 2)?;
    (b.get(i + 6) == Some(&b':')).then_some(())?;
    let s = digit_run(b, i + 7, 2)?;
    i += 9;
    let mut micros = 0;
    if b.get(i) == Some(&b'.') {
        let n = b[i + 1..].iter().take(6).take_while(|c| c.is_ascii_digit()).count();
        if n > 0 {
            // Up to six fraction digits, padded with zeros.
            for k in 0..6 {
                micros = micros * 10 + if k < n { (b[i + 1 + k] - b'0') as i64 } else { 0 };
            }
            i += 1 + n;
        }
    }
    let month = MONTHS.iter().position(|m| name == &m[..]).map(|p| p as i64 + 1);
    Some((month, day, (h, mi, s, micros), i))
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::super::tests::{parsed, text};
    use crate::parsers::Outcome;
    use crate::time::Stamp;

    #[test]
    fn rfc3164_and_octet_counting() {
        let reference = Some(Stamp(1_782_907_200_000_000)); // 2026-07-01T12:00:00Z
        let f = parsed("<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed", reference);
        // Received on 1 July 2026: 11 October is last year's, never ahead of its receipt.
        assert_eq!(text(&f, "@timestamp").as_deref(), Some("2025-10-11T22:14:15.000000Z"));
        assert_eq!(text(&f, "host.name").as_deref(), Some("mymachine"));
        assert_eq!(text(&f, "process.name").as_deref(), Some("su"));
        assert_eq!(text(&f, "process.pid").as_deref(), Some("230"));
        assert_eq!(text(&f, "message").as_deref(), Some("'su root' failed"));

        let f = parsed("2018-08-14T14:30:02.203151+02:00 linux-sqrz systemd[4179]: Stopped.", None);
        assert_eq!(text(&f, "@timestamp").as_deref(), Some("2018-08-14T12:30:02.203151Z"));
        assert!(!f.contains_key("log.syslog.priority"));

        // Without a reference the year is 1970.
        let f = parsed("Dec  1 10:00:00 host free text", None);
        assert_eq!(text(&f, "@timestamp").as_deref(), Some("1970-12-01T10:00:00.000000Z"));
        assert_eq!(text(&f, "message").as_deref(), Some("free text"));

        // The count may include a removed LF or CRLF, no more.
        assert!(matches!(parse(b"17 <13>1 - - - - - -", None), Outcome::Parsed(_)));
        assert!(matches!(parse(b"19 <13>1 - - - - - -", None), Outcome::Parsed(_)));
        assert_eq!(parse(b"20 <13>1 - - - - - -", None).reason(), Some("syslog.bad_frame"));
        assert_eq!(parse(b"16 <13>1 - - - - - -", None).reason(), Some("syslog.bad_frame"));
    }
}
