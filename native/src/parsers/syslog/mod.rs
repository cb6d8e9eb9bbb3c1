//! Syslog lines: RFC 5424, RFC 3164 (BSD) and its variants, the RFC 6587 octet-counting
//! prefix, structured data (with its `\"`, `\]`, `\\` escapes), and the priority / facility /
//! severity fields.
//!
//! Each part of the grammar is a sequence of disjoint character classes, so each is read in
//! one left-to-right scan, with bounded lengths. Digits are ASCII: a version or a date
//! written in another script's digits is `syslog.bad_timestamp`.

use super::Fields;
use super::structured::{SYSLOG_SEVERITIES, py_space};
use super::{Outcome, Refusal};
use crate::json::{Object, Value};
use crate::time::{Stamp, complete_year, parse_iso_timestamp};

/// RFC 5424 table 1, with the keywords rsyslog / syslog-ng / Filebeat use for them.
const FACILITIES: [&str; 24] = [
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "security",
    "console",
    "solaris-cron",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

/// RFC 5424 table 2, spelt as ECS's log.syslog.severity.name (log.level uses SYSLOG_SEVERITIES).
const SEVERITIES: [&str; 8] =
    ["emergency", "alert", "critical", "error", "warning", "notice", "informational", "debug"];

const MONTHS: [&[u8; 3]; 12] =
    [b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec"];

const BOM: &str = "\u{feff}";

/// Why a line is refused: it ends the parse.
type Stop = Refusal;

fn refuse(reason: &'static str, detail: impl Into<String>) -> Stop {
    Refusal::new(reason, detail)
}

/// At most `n` characters of `text`, as a refusal's detail.
fn clip(text: &str, n: usize) -> String {
    text.chars().take(n).collect()
}

type Step<T> = Result<T, Stop>;

/// Whether the line opens like syslog: `<` and a digit, a month name and a space, or an
/// octet count and ` <`.
pub fn looks_like(line: &[u8]) -> bool {
    let Some(&first) = line.first() else { return false };
    if first == b'<' {
        return line.get(1).is_some_and(u8::is_ascii_digit);
    }
    if line.len() >= 4 && line[3] == b' ' && MONTHS.iter().any(|m| line[..3] == m[..]) {
        return true;
    }
    if first.is_ascii_digit() {
        // " <" wholly within bytes 1..8, after 1..=6 digits.
        let digits = line.iter().take_while(|c| c.is_ascii_digit()).count();
        return (1..=6).contains(&digits) && line.get(digits..digits + 2) == Some(b" <");
    }
    false
}

/// One syslog line: RFC 5424 when a version follows the priority, else RFC 3164.
pub fn parse(line: &[u8], reference: Option<Stamp>) -> Outcome {
    match parse_text(line, reference) {
        Ok(fields) => Outcome::Parsed(fields),
        Err(refusal) => Outcome::Refused(refusal),
    }
}

fn parse_text(line: &[u8], reference: Option<Stamp>) -> Step<Fields> {
    if line.is_empty() {
        return Err(refuse("syslog.empty", ""));
    }
    let Ok(mut text) = std::str::from_utf8(line) else {
        // A reason of its own, not `invalid_utf8`: syslog's dead letter has stage `parse`.
        return Err(Refusal { reason: "syslog.invalid_utf8", ..Refusal::utf8(line) });
    };
    // A non-ASCII first digit cannot start an (ASCII-only) octet count: only ASCII matters.
    if text.as_bytes()[0].is_ascii_digit() {
        text = strip_octet_count(text)?;
    }
    let mut fields = Fields::with_capacity(16);
    let mut rest = text;
    if text.as_bytes()[0] == b'<' {
        rest = priority(text, &mut fields)?;
        // `<PRI>digits ` is RFC 5424's VERSION; `<PRI>2024-...` is a 3164 line with an ISO date.
        match rest.as_bytes().first() {
            Some(c) if c.is_ascii_digit() && !iso_date_start(rest) => {
                parse_5424(rest, &mut fields)?;
                return Ok(fields);
            }
            // Digits are ASCII: a version or a date in another script's digits is a bad
            // timestamp.
            Some(c) if !c.is_ascii() => return Err(refuse("syslog.bad_timestamp", clip(rest, 20))),
            _ => {}
        }
    }
    parse_3164(rest, &mut fields, reference)?;
    Ok(fields)
}

/// Four ASCII digits and a `-`: the start of an ISO date.
fn iso_date_start(rest: &str) -> bool {
    let b = rest.as_bytes();
    b.len() > 4 && b[..4].iter().all(u8::is_ascii_digit) && b[4] == b'-'
}

/// Drops `123 ` before `<` when the count fits the line (it may include the LF / CRLF the
/// line reader removed).
fn strip_octet_count(text: &str) -> Step<&str> {
    let b = text.as_bytes();
    let digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    // At most seven digits, then a space and `<`.
    if digits > 7 || b.get(digits) != Some(&b' ') || b.get(digits + 1) != Some(&b'<') {
        return Ok(text);
    }
    // At most seven ASCII digits: always a number.
    let count: usize = text[..digits].parse().unwrap_or(usize::MAX);
    let body = &text[digits + 1..];
    match count.checked_sub(body.len()) {
        Some(excess) if excess <= 2 => Ok(body),
        _ => Err(refuse("syslog.bad_frame", "octet count does not match the line")),
    }
}

/// The `<PRI>` fields; the text after `>`.
fn priority<'a>(text: &'a str, fields: &mut Fields) -> Step<&'a str> {
    let b = text.as_bytes();
    let digits = b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    // `>` within characters 1..5, only ASCII digits before it, no leading zero.
    if !(1..=3).contains(&digits) || b.get(1 + digits) != Some(&b'>') || (b[1] == b'0' && digits > 1) {
        return Err(refuse("syslog.bad_priority", clip(text, 5)));
    }
    let pri = b[1..=digits].iter().fold(0usize, |acc, &c| acc * 10 + (c - b'0') as usize);
    if pri > 191 {
        return Err(refuse("syslog.bad_priority", &text[1..=digits]));
    }
    let (facility, severity) = (pri / 8, pri % 8);
    push(fields, "log.syslog.priority", Value::from(pri));
    push(fields, "log.syslog.facility.code", Value::from(facility));
    push(fields, "log.syslog.facility.name", Value::from(FACILITIES[facility]));
    push(fields, "log.syslog.severity.code", Value::from(severity));
    push(fields, "log.syslog.severity.name", Value::from(SEVERITIES[severity]));
    push(fields, "log.level", Value::from(SYSLOG_SEVERITIES[severity]));
    Ok(&text[digits + 2..])
}

/// Sets `key` in the fields.
fn push(fields: &mut Fields, key: &'static str, value: Value) {
    fields.set(key, value);
}

// ------------------------------------------------------------------------------ RFC 5424

fn parse_5424(rest: &str, fields: &mut Fields) -> Step<()> {
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

/// A procid of one to nine ASCII digits as a pid (always below 2^31, as every pid is); None
/// for any other.
fn small_int(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.is_empty() || b.len() >= 10 || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0i64, |acc, &c| acc * 10 + (c - b'0') as i64))
}

fn digit_run(b: &[u8], at: usize, n: usize) -> Option<i64> {
    let part = b.get(at..at + n)?;
    part.iter()
        .all(u8::is_ascii_digit)
        .then(|| part.iter().fold(0i64, |acc, &c| acc * 10 + (c - b'0') as i64))
}

/// The fields of an RFC 5424 timestamp (RFC 3339, up to nine fraction digits): (y, mo, d,
/// h, mi, s, micros, zone), where zone is None for `Z` and (sign, hh, mm) for an offset.
type Ts5424 = (i64, i64, i64, i64, i64, i64, i64, Option<(u8, i64, i64)>);

fn match_5424(b: &[u8]) -> Option<Ts5424> {
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
fn stamp_of((y, mo, d, h, mi, s, us, zone): Ts5424, text: &str) -> Step<Stamp> {
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

/// RFC 5424's SD-NAME characters: printable ASCII but `=`, space, `]`, `"`.
fn sd_name_char(c: u8) -> bool {
    (0x21..=0x7e).contains(&c) && !matches!(c, b'=' | b']' | b'"')
}

/// `[id name="value" ...]...` from the start of `tail`; the data and the offset just after
/// it.
fn structured_data(tail: &str) -> Step<(Object, usize)> {
    let b = tail.as_bytes();
    let mut data = Object::new();
    let mut pos = 0;
    while b.get(pos) == Some(&b'[') {
        let id_len = b[pos + 1..].iter().take(32).take_while(|&&c| sd_name_char(c)).count();
        if id_len == 0 {
            return Err(refuse("syslog.bad_structured_data", clip(&tail[pos..], 16)));
        }
        let sd_id = &tail[pos + 1..pos + 1 + id_len];
        if data.contains_key(sd_id) {
            // RFC 5424 6.3.2: an SD-ID must not occur twice
            return Err(refuse("syslog.bad_structured_data", format!("duplicate {sd_id}")));
        }
        pos += 1 + id_len;
        let mut params = Object::new();
        while let Some((name, value, end)) = sd_param(tail, pos) {
            params.insert(name, Value::from(value));
            pos = end;
        }
        if b.get(pos) != Some(&b']') {
            return Err(refuse("syslog.bad_structured_data", clip(&tail[pos..], 16)));
        }
        data.insert(sd_id, Value::Object(params));
        pos += 1;
    }
    Ok((data, pos))
}

/// One SD-PARAM at `pos`: ` +NAME *= *"VALUE"`, with VALUE unescaped.
fn sd_param(tail: &str, pos: usize) -> Option<(&str, String, usize)> {
    let b = tail.as_bytes();
    let skip_spaces = |mut i: usize| {
        while b.get(i) == Some(&b' ') {
            i += 1;
        }
        i
    };
    let mut i = skip_spaces(pos);
    if i == pos {
        return None;
    }
    let name_len = b[i..].iter().take(32).take_while(|&&c| sd_name_char(c)).count();
    if name_len == 0 {
        return None;
    }
    let name = &tail[i..i + name_len];
    i = skip_spaces(i + name_len);
    if b.get(i) != Some(&b'=') {
        return None;
    }
    i = skip_spaces(i + 1);
    if b.get(i) != Some(&b'"') {
        return None;
    }
    let start = i + 1;
    let mut j = start;
    let mut escaped = false;
    loop {
        match *b.get(j)? {
            b'"' => break,
            b']' => return None,
            // A backslash and whatever byte follows, a newline too (a UTF-8 lead byte's
            // continuation bytes are plain value characters after it).
            b'\\' => {
                b.get(j + 1)?;
                escaped = true;
                j += 2;
            }
            _ => j += 1,
        }
    }
    let raw = &tail[start..j];
    let value = if escaped { sd_unescape(raw) } else { raw.to_owned() };
    Some((name, value, j + 1))
}

/// RFC 5424's PARAM-VALUE escapes: `\\`, `\"` and `\]` lose their backslash; any other
/// backslash stays.
fn sd_unescape(raw: &str) -> String {
    let b = raw.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && matches!(b.get(i + 1), Some(b'\\' | b'"' | b']')) {
            out.push(b[i + 1]);
            i += 2;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    // Only ASCII bytes were removed, so the text is still UTF-8.
    String::from_utf8(out).unwrap_or_default()
}

// ------------------------------------------------------------------------------ RFC 3164

fn parse_3164(rest: &str, fields: &mut Fields, reference: Option<Stamp>) -> Step<()> {
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
    use super::*;

    fn parsed(line: &str, reference: Option<Stamp>) -> Fields {
        match parse(line.as_bytes(), reference) {
            Outcome::Parsed(f) => f,
            other => panic!("{line:?}: {other:?}"),
        }
    }

    fn text(fields: &Fields, key: &str) -> Option<String> {
        fields.items().into_iter().find(|(k, _)| k == key).map(|(_, v)| match v {
            Value::String(s) => s.into(),
            Value::Number(n) => n.to_string(),
            other => format!("{other:?}"),
        })
    }

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

    #[test]
    fn rfc3164_and_octet_counting() {
        let reference = Some(Stamp(1_782_907_200_000_000)); // 2026-07-01T12:00:00Z
        let f = parsed("<34>Oct 11 22:14:15 mymachine su[230]: 'su root' failed", reference);
        assert_eq!(text(&f, "@timestamp").as_deref(), Some("2026-10-11T22:14:15.000000Z"));
        assert_eq!(text(&f, "host.name").as_deref(), Some("mymachine"));
        assert_eq!(text(&f, "process.name").as_deref(), Some("su"));
        assert_eq!(text(&f, "process.pid").as_deref(), Some("230"));
        assert_eq!(text(&f, "message").as_deref(), Some("'su root' failed"));

        let f = parsed("2018-08-14T14:30:02.203151+02:00 linux-sqrz systemd[4179]: Stopped.", None);
        assert_eq!(text(&f, "@timestamp").as_deref(), Some("2018-08-14T12:30:02.203151Z"));
        assert!(!f.contains_key("log.syslog.priority"));

        // Without a reference the year is the one nearest 1970-01-01.
        let f = parsed("Dec  1 10:00:00 host free text", None);
        assert_eq!(text(&f, "@timestamp").as_deref(), Some("1969-12-01T10:00:00.000000Z"));
        assert_eq!(text(&f, "message").as_deref(), Some("free text"));

        // The count may include a removed LF or CRLF, no more.
        assert!(matches!(parse(b"17 <13>1 - - - - - -", None), Outcome::Parsed(_)));
        assert!(matches!(parse(b"19 <13>1 - - - - - -", None), Outcome::Parsed(_)));
        assert_eq!(parse(b"20 <13>1 - - - - - -", None).reason(), Some("syslog.bad_frame"));
        assert_eq!(parse(b"16 <13>1 - - - - - -", None).reason(), Some("syslog.bad_frame"));
    }

    #[test]
    fn refusals() {
        for (line, reason) in [
            (&b""[..], "syslog.empty"),
            (b"<192>1 - - - - - -", "syslog.bad_priority"),
            (b"<013>1 - - - - - -", "syslog.bad_priority"),
            (b"\xff", "syslog.invalid_utf8"),
            (b"hello", "syslog.bad_timestamp"),
            (b"<13>1 - h a p m x", "syslog.bad_structured_data"),
            ("<13>\u{e9} x".as_bytes(), "syslog.bad_timestamp"),
        ] {
            assert_eq!(parse(line, None).reason(), Some(reason), "{line:?}");
        }
        // Arabic-Indic digits of a date: digits are ASCII, so no timestamp.
        let arabic_digits = "<13>\u{662}\u{660}\u{662}\u{664}-01-01 x";
        assert_eq!(parse(arabic_digits.as_bytes(), None).reason(), Some("syslog.bad_timestamp"));
        // Leaving years 1..=9999 on the way to UTC: a bad timestamp.
        let overflow = b"<13>1 0001-01-01T00:00:00+01:00 - - - - -";
        assert_eq!(parse(overflow, None).reason(), Some("syslog.bad_timestamp"));
    }

    #[test]
    fn looks_like_shapes() {
        assert!(looks_like(b"<13>1"));
        assert!(looks_like(b"Jan  1"));
        assert!(looks_like(b"123456 <13>"));
        assert!(!looks_like(b"1234567 <13>"));
        assert!(!looks_like(b"<x"));
        assert!(!looks_like(b"2024-01-01 x"));
    }
}
