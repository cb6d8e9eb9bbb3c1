//! Access lines: Apache / nginx common and combined formats.
//!
//! `match_line` reads a line against one pattern (an escape-aware variant too when the line
//! holds a backslash), by hand: once the client's end is chosen, every part has one reading.
//! A client list gives its first public address; which text is an address and which
//! address is public are fixed tables and rules here (`ipv4`, `ipv6`, `is_global`), so a
//! client gets the `source.ip` it always has. An absolute-form request target is split into
//! path and query; its host may hold any text.

use std::borrow::Cow;

use super::Fields;
use super::structured::py_space;
use super::{Outcome, Refusal};
use crate::json::Value;
use crate::time::Stamp;

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

/// `\d\d/[A-Za-z]{3}/\d{4}:\d\d:\d\d:\d\d` at the start of `d` (20 bytes).
fn date_shape(d: &[u8]) -> bool {
    let Some(d) = d.get(..20) else { return false };
    let digit = |i: usize| d[i].is_ascii_digit();
    digit(0)
        && digit(1)
        && d[2] == b'/'
        && d[3..6].iter().all(u8::is_ascii_alphabetic)
        && d[6] == b'/'
        && (7..11).all(digit)
        && d[11] == b':'
        && digit(12)
        && digit(13)
        && d[14] == b':'
        && digit(15)
        && digit(16)
        && d[17] == b':'
        && digit(18)
        && digit(19)
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

// ------------------------------------------------------------------------------ the line

/// Byte range of a group in the line.
type Span = (usize, usize);

/// The groups of `match_line`'s pattern (ident is matched but unused).
struct Groups {
    client: Span,
    user: Span,
    stamp: Span,
    request: Span,
    status: Span,
    size: Span,
    /// Referrer and user agent: the optional group matches both or neither.
    extra: Option<(Span, Span)>,
}

/// Which reading of a line with a backslash wins: Apache's escape-aware one, unless only
/// nginx's plain one finds the user agent.
fn groups(t: &[u8]) -> Option<Groups> {
    if !t.contains(&b'\\') {
        return match_line(t, false);
    }
    let escaped = match_line(t, true);
    if escaped.as_ref().is_some_and(|g| g.extra.is_some()) {
        return escaped;
    }
    match match_line(t, false) {
        Some(plain) if escaped.is_none() || plain.extra.is_some() => Some(plain),
        _ => escaped,
    }
}

/// The whole line against
/// `([^\[]+?) [^ ]+ ([^ ]+) \[(STAMP)\] "(Q)" (\d{3}) (\d{1,18}|-)(?: "(Q)" "(Q)")?(?: .*)?`
/// (ASCII, `.` matching newlines too). Once the client has chosen its end, every later part
/// has a single reading (each repeat stops at a character it cannot take, which is the one
/// that must follow it), so the match is the one from the first client end that works: the
/// shortest client. The client cannot hold `[`: its end is a space before the first `[`.
/// Byte-wise scanning of the UTF-8 text is exact: every delimiter is ASCII, and the bytes of
/// a multi-byte character are none of them.
fn match_line(t: &[u8], escaped: bool) -> Option<Groups> {
    let bracket = t.iter().position(|&c| c == b'[').unwrap_or(t.len());
    (1..bracket).filter(|&s| t[s] == b' ').find_map(|s| match_from(t, s, escaped))
}

/// The rest of the pattern, with the client ending at the space at `s`.
fn match_from(t: &[u8], s: usize, escaped: bool) -> Option<Groups> {
    let word = |i: usize| -> Option<usize> {
        // `[^ ]+ ` from i: the end of the word.
        let n = t.get(i..)?.iter().position(|&c| c == b' ')?;
        (n > 0).then_some(i + n)
    };
    let ident_end = word(s + 1)?;
    let user = (ident_end + 1, word(ident_end + 1)?);
    let mut i = user.1 + 1;
    if t.get(i) != Some(&b'[') || !date_shape(&t[i + 1..]) {
        return None;
    }
    let stamp_start = i + 1;
    i = stamp_start + 20;
    if t.get(i) == Some(&b'.') {
        let n = digits(t, i + 1);
        if !(1..=9).contains(&n) {
            return None;
        }
        i += 1 + n;
    }
    let zone = t.get(i..i + 6)?;
    if zone[0] != b' ' || !matches!(zone[1], b'+' | b'-') || !zone[2..].iter().all(u8::is_ascii_digit) {
        return None;
    }
    i += 6;
    let stamp = (stamp_start, i);
    if t.get(i..i + 3)? != b"] \"" {
        return None;
    }
    i += 3;
    let close = closing_quote(t, i, escaped)?;
    let request = (i, close);
    i = close + 1;
    if t.get(i) != Some(&b' ') || digits(t, i + 1) != 3 || t.get(i + 4) != Some(&b' ') {
        return None;
    }
    let status = (i + 1, i + 4);
    i += 5;
    let n = if t.get(i) == Some(&b'-') { 1 } else { digits(t, i) };
    if !(1..=18).contains(&n) {
        return None;
    }
    let size = (i, i + n);
    i += n;
    let mut groups = Groups { client: (0, s), user, stamp, request, status, size, extra: None };
    if i == t.len() {
        return Some(groups);
    }
    if t[i] != b' ' {
        return None;
    }
    // Past here `(?: .*)?` accepts anything, so the line matches; the referrer / agent
    // group is taken only if it reads whole and is followed by the end or a space.
    groups.extra = extra(t, i, escaped);
    Some(groups)
}

/// ` "referrer" "agent"` at `i`, followed by the end of the line or a space.
fn extra(t: &[u8], i: usize, escaped: bool) -> Option<(Span, Span)> {
    if t.get(i + 1) != Some(&b'"') {
        return None;
    }
    let q1 = closing_quote(t, i + 2, escaped)?;
    if t.get(q1 + 1..q1 + 3)? != b" \"" {
        return None;
    }
    let q2 = closing_quote(t, q1 + 3, escaped)?;
    (q2 + 1 == t.len() || t[q2 + 1] == b' ').then_some(((i + 2, q1), (q1 + 3, q2)))
}

/// Index of the `"` that closes a quoted field whose text starts at `i`: the first `"` for
/// `[^"]*`; the first one not taken by a `\.` pair for `(?:[^"\\]|\\.)*`.
fn closing_quote(t: &[u8], mut i: usize, escaped: bool) -> Option<usize> {
    if !escaped {
        return t.get(i..)?.iter().position(|&c| c == b'"').map(|n| i + n);
    }
    while i < t.len() {
        match t[i] {
            b'"' => return Some(i),
            // `.` takes a whole character; skipping one byte is the same, since the rest of
            // a multi-byte character is neither `"` nor `\`.
            b'\\' => i += 2,
            _ => i += 1,
        }
    }
    None
}

/// How many ASCII digits start at `i`.
fn digits(t: &[u8], i: usize) -> usize {
    t.get(i..).map_or(0, |r| r.iter().take_while(|c| c.is_ascii_digit()).count())
}

/// ASCII digits (at most 18) as a number.
fn number(s: &[u8]) -> i64 {
    s.iter().fold(0, |n, &c| n * 10 + i64::from(c - b'0'))
}

/// `\"` and `\\` lose their backslash, left to right (Apache's escapes in quoted fields).
fn unescape(text: &str) -> Cow<'_, str> {
    if !text.contains('\\') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.clone().next() {
                Some(next @ ('"' | '\\')) => {
                    out.push(next);
                    chars.next();
                }
                _ => out.push(c),
            }
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

// ------------------------------------------------------------------------------ timestamp

/// `dd/Mon/yyyy:HH:MM:SS[.f{1,9}] +zzzz` (shape checked by the matcher) in UTC; None for
/// `access.bad_timestamp`.
fn timestamp(s: &[u8]) -> Option<Stamp> {
    const MONTHS: [&[u8; 3]; 12] =
        [b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec"];
    let name = &s[3..6];
    // A month name may be lower case, title case or upper case, nothing in between.
    let month = MONTHS.iter().position(|m| {
        let lower = name == &m[..];
        let title = name[0] == m[0].to_ascii_uppercase() && name[1..] == m[1..];
        let upper = name.iter().zip(m.iter()).all(|(&c, &l)| c == l.to_ascii_uppercase());
        lower || title || upper
    })? as i64
        + 1;
    let zone = &s[s.len() - 5..];
    let (zh, zm) = (number(&zone[1..3]), number(&zone[3..5]));
    if zh > 23 || zm > 59 {
        return None;
    }
    let offset = (zh * 3600 + zm * 60) * if zone[0] == b'-' { -1 } else { 1 };
    let micro = if s[20] == b'.' {
        let frac = &s[21..s.len() - 6];
        let frac = &frac[..frac.len().min(6)];
        number(frac) * 10i64.pow((6 - frac.len()) as u32)
    } else {
        0
    };
    let (day, year) = (number(&s[0..2]), number(&s[7..11]));
    let (hour, minute, second) = (number(&s[12..14]), number(&s[15..17]), number(&s[18..20]));
    // None (a field out of range, or a UTC time outside years 1..=9999) is
    // access.bad_timestamp.
    Stamp::from_local(year, month, day, hour, minute, second, micro, offset)
}

// ------------------------------------------------------------------------------ client

/// (source.address, whether it is also source.ip) for the text before ident.
fn client(text: &str) -> Option<(&str, bool)> {
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

#[derive(Clone, Copy)]
enum Ip {
    V4(u32),
    V6(u128),
}

/// The address `text` is, IPv4 or IPv6; None if it is neither.
fn ip_address(text: &str) -> Option<Ip> {
    if let Some(a) = ipv4(text) {
        return Some(Ip::V4(a));
    }
    ipv6(text).map(Ip::V6)
}

/// Four dotted decimal octets, 0..=255, no leading zeros (`010` might mean octal 8).
fn ipv4(text: &str) -> Option<u32> {
    let mut value = 0u32;
    let mut count = 0;
    for octet in text.split('.') {
        count += 1;
        let b = octet.as_bytes();
        let leading_zero = b.len() > 1 && b[0] == b'0';
        if count > 4 || b.is_empty() || b.len() > 3 || !b.iter().all(u8::is_ascii_digit) || leading_zero {
            return None;
        }
        let n = number(b);
        if n > 255 {
            return None;
        }
        value = value << 8 | n as u32;
    }
    (count == 4).then_some(value)
}

/// One group of an IPv6 address: text as written, or a value from an IPv4 suffix.
#[derive(Clone, Copy)]
enum Hextet<'a> {
    Text(&'a str),
    Value(u16),
}

impl Hextet<'_> {
    fn is_empty(self) -> bool {
        matches!(self, Hextet::Text(""))
    }

    /// 1..=4 ASCII hex digits.
    fn value(self) -> Option<u128> {
        match self {
            Hextet::Value(v) => Some(u128::from(v)),
            Hextet::Text(t) => {
                let ok = (1..=4).contains(&t.len()) && t.bytes().all(|c| c.is_ascii_hexdigit());
                ok.then(|| u128::from(u16::from_str_radix(t, 16).unwrap_or(0)))
            }
        }
    }
}

/// An IPv6 address: up to eight groups, one `::`, an optional IPv4 tail and `%scope`. Read
/// here, not by `std::net::Ipv6Addr`, which refuses a scope id and differs in corner cases:
/// which text is an address decides `source.ip`. The scope id does not change the value.
fn ipv6(text: &str) -> Option<u128> {
    if text.contains('/') {
        return None;
    }
    let addr = match text.split_once('%') {
        Some((addr, scope)) if !scope.is_empty() && !scope.contains('%') => addr,
        Some(_) => return None,
        None => text,
    };
    if addr.is_empty() {
        return None;
    }
    let colons = addr.bytes().filter(|&c| c == b':').count();
    // At least 3 parts; at most 9 (an IPv4 suffix only adds one).
    if !(2..=8).contains(&colons) {
        return None;
    }
    let mut parts = [Hextet::Text(""); 10];
    let mut len = 0;
    for part in addr.split(':') {
        parts[len] = Hextet::Text(part);
        len += 1;
    }
    if let Hextet::Text(last) = parts[len - 1]
        && last.contains('.')
    {
        let v4 = ipv4(last)?;
        parts[len - 1] = Hextet::Value((v4 >> 16) as u16);
        parts[len] = Hextet::Value(v4 as u16);
        len += 1;
        if len > 9 {
            return None;
        }
    }
    let mut skip = None;
    for (i, part) in parts.iter().enumerate().take(len - 1).skip(1) {
        if part.is_empty() {
            if skip.is_some() {
                return None;
            }
            skip = Some(i);
        }
    }
    let (hi, lo, skipped) = match skip {
        Some(skip) => {
            let (mut hi, mut lo) = (skip, len - skip - 1);
            if parts[0].is_empty() {
                hi -= 1;
                if hi > 0 {
                    return None;
                }
            }
            if parts[len - 1].is_empty() {
                lo -= 1;
                if lo > 0 {
                    return None;
                }
            }
            if hi + lo >= 8 {
                return None;
            }
            (hi, lo, 8 - hi - lo)
        }
        None => {
            if len != 8 || parts[0].is_empty() || parts[len - 1].is_empty() {
                return None;
            }
            (len, 0, 0)
        }
    };
    let mut value = 0u128;
    for part in &parts[..hi] {
        value = value << 16 | part.value()?;
    }
    // A shift by 128 (`::`) leaves the zero it starts from.
    value = value.checked_shl(16 * skipped as u32).unwrap_or(0);
    for part in &parts[len - lo..len] {
        value = value << 16 | part.value()?;
    }
    Some(value)
}

/// Whether `a` lies in `net/bits`.
fn in_v4(a: u32, net: u32, bits: u32) -> bool {
    (a ^ net) >> (32 - bits) == 0
}

fn in_v6(a: u128, net: u128, bits: u32) -> bool {
    (a ^ net) >> (128 - bits) == 0
}

/// Whether an IPv4 address lies in a private or special-purpose range (IANA's registry).
fn v4_private(a: u32) -> bool {
    const PRIVATE: [(u32, u32); 14] = [
        (0x0000_0000, 8),  // 0.0.0.0/8
        (0x0a00_0000, 8),  // 10.0.0.0/8
        (0x7f00_0000, 8),  // 127.0.0.0/8
        (0xa9fe_0000, 16), // 169.254.0.0/16
        (0xac10_0000, 12), // 172.16.0.0/12
        (0xc000_0000, 29), // 192.0.0.0/29
        (0xc000_00aa, 31), // 192.0.0.170/31
        (0xc000_0200, 24), // 192.0.2.0/24
        (0xc0a8_0000, 16), // 192.168.0.0/16
        (0xc612_0000, 15), // 198.18.0.0/15
        (0xc633_6400, 24), // 198.51.100.0/24
        (0xcb00_7100, 24), // 203.0.113.0/24
        (0xf000_0000, 4),  // 240.0.0.0/4
        (0xffff_ffff, 32), // 255.255.255.255/32
    ];
    PRIVATE.iter().any(|&(net, bits)| in_v4(a, net, bits))
}

/// Whether an address is public: IPv4 outside 100.64.0.0/10 (shared address space) and the
/// private ranges; IPv6 outside its private ranges, an IPv4-mapped address judged by the
/// IPv4 private ranges.
fn is_global(ip: Ip) -> bool {
    const V6_PRIVATE: [(u128, u32); 10] = [
        (1, 128),                                        // ::1/128
        (0, 128),                                        // ::/128
        (0xffff_0000_0000, 96),                          // ::ffff:0:0/96
        (0x0100_0000_0000_0000_0000_0000_0000_0000, 64), // 100::/64
        (0x2001_0000_0000_0000_0000_0000_0000_0000, 23), // 2001::/23
        (0x2001_0002_0000_0000_0000_0000_0000_0000, 48), // 2001:2::/48
        (0x2001_0db8_0000_0000_0000_0000_0000_0000, 32), // 2001:db8::/32
        (0x2001_0010_0000_0000_0000_0000_0000_0000, 28), // 2001:10::/28
        (0xfc00_0000_0000_0000_0000_0000_0000_0000, 7),  // fc00::/7
        (0xfe80_0000_0000_0000_0000_0000_0000_0000, 10), // fe80::/10
    ];
    match ip {
        Ip::V4(a) => !in_v4(a, 0x6440_0000, 10) && !v4_private(a),
        Ip::V6(a) if a >> 32 == 0xffff => !v4_private(a as u32),
        Ip::V6(a) => !V6_PRIVATE.iter().any(|&(net, bits)| in_v6(a, net, bits)),
    }
}

// ------------------------------------------------------------------------------ request

/// `METHOD target HTTP/x.y` into its fields; anything else kept whole.
fn request_fields(put: &mut impl FnMut(&'static str, Value), request: Cow<'_, str>) {
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
    use super::*;

    fn parsed(line: &str) -> Vec<(String, String)> {
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

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
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
