//! The line's layout: `match_line` reads a combined or common format line into the byte
//! spans of its parts (client, user, stamp, request, status, size, then referrer and agent),
//! and the small readers those parts share: digit runs, numbers, Apache's escapes in quoted
//! fields.

use std::borrow::Cow;

use super::timestamp::date_shape;

/// Byte range of a group in the line.
pub(super) type Span = (usize, usize);

/// The groups of `match_line`'s pattern (ident is matched but unused).
pub(super) struct Groups {
    pub(super) client: Span,
    pub(super) user: Span,
    pub(super) stamp: Span,
    pub(super) request: Span,
    pub(super) status: Span,
    pub(super) size: Span,
    /// Referrer and user agent: the optional group matches both or neither.
    pub(super) extra: Option<(Span, Span)>,
}

/// Which reading of a line with a backslash wins: Apache's escape-aware one, unless only
/// nginx's plain one finds the user agent.
pub(super) fn groups(t: &[u8]) -> Option<Groups> {
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
pub(super) fn number(s: &[u8]) -> i64 {
    s.iter().fold(0, |n, &c| n * 10 + i64::from(c - b'0'))
}

/// `\"` and `\\` lose their backslash, left to right (Apache's escapes in quoted fields).
pub(super) fn unescape(text: &str) -> Cow<'_, str> {
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
