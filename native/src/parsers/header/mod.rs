//! A text line's header: its timestamp wherever the header puts it, its level, logger and
//! pid, and where its message starts.
//!
//! Software writes its own time first, after a sequence number, an epoch, a file or host
//! name, a level or a bracket: the timestamp is looked for at every token start of the first
//! `HEAD_TOKENS` tokens (and `HEAD_BYTES` bytes), in every layout `time::text` knows, and the
//! first found is the line's. Only header-like tokens may come before it (numbers, names with
//! digits or dots, upper-case words, levels, brackets): in "backup finished at 2024-01-02
//! 10:00:00" the time is the message's, not the line's. An epoch number counts only where no
//! written date does. The items after the timestamp (`items`) end the header.

mod items;

use crate::parsers::level::SYSLOG_SEVERITIES;
use crate::parsers::level::{header_word, letter};
use crate::time::Stamp;
use crate::time::text::{self, Context, Found};

/// A timestamp starts within the first this many bytes of a line...
const HEAD_BYTES: usize = 120;
/// ... and within its first this many tokens.
const HEAD_TOKENS: usize = 7;
/// An epoch number counts within the first this many tokens.
const EPOCH_TOKENS: usize = 5;

/// What a line's header says. `message` is where the message starts (a byte index, 0 for a
/// line whose header was not read).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header<'a> {
    pub stamp: Option<Stamp>,
    pub level: Option<&'static str>,
    pub logger: Option<&'a str>,
    pub pid: Option<i64>,
    pub message: usize,
}

/// The header of `text`, a year-less timestamp completed with `reference` (the receive
/// time).
pub fn read(text: &str, reference: Option<Stamp>) -> Header<'_> {
    let b = text.as_bytes();
    let mut cx = Context { reference, hint: None };
    let mut level = priority(b);
    let mut epoch: Option<(Found, usize)> = None;
    let mut redis = false;
    let mut found: Option<(Found, usize)> = None;
    for (n, (p, bracket)) in starts(b).enumerate() {
        if let Some(f) = text::at(b, p, cx) {
            found = Some((f, p));
            break;
        }
        let end = token_end(b, p);
        let token = &b[p..end];
        if n < EPOCH_TOKENS
            && epoch.is_none()
            && let Some(f) = text::epoch_at(b, p)
        {
            cx.hint = Some(f.stamp.fields().0);
            epoch = Some((f, p));
        } else if let Some(year) = text::year_at(b, p) {
            cx.hint = Some(year);
        }
        // Before the time, a level word in upper case or brackets (`[INFO] 2024-...`,
        // `WARN 2024-...`): "Error handling request" has no level here.
        let word = token.strip_suffix(b"]").unwrap_or(token);
        let word = word.strip_suffix(b":").unwrap_or(word);
        if level.is_none()
            && (bracket || word.iter().all(|c| !c.is_ascii_lowercase()))
            && let Some(l) = header_word(word, bracket)
        {
            level = Some(l);
        }
        // CUPS: `E [08/Jun/2013:11:28:58 -0700] text`, the level's letter first.
        if n == 0 && token.len() == 1 && b.get(end + 1) == Some(&b'[') {
            level = level.or(letter_level(b, p, false));
        }
        redis |= n == 0 && is_redis_role(&b[p - usize::from(bracket)..end]);
        if !header_like(token) {
            break;
        }
    }
    let Some((f, p)) = found.or(epoch) else {
        return Header { level, ..Header::default() };
    };
    let mut end = f.end;
    let bracket = p > 0 && b[p - 1] == b'[';
    if bracket && b.get(end) == Some(&b']') {
        end += 1;
    }
    // `[2024-01-02T15:04:05Z INFO  my_crate::module] text`: the bracket closes the header.
    let open = bracket && end == f.end;
    let after = items::after(b, end, items::Start { level: f.level.or(level), redis, open });
    let message = if after.message < b.len() { after.message } else { 0 };
    Header { stamp: Some(f.stamp), level: after.level, logger: after.logger, pid: after.pid, message }
}

/// The places a timestamp may start: the first byte that is not blank, and each byte after
/// a blank, bracket, `|`, `,`, `;` or `=`, within the head; with whether a bracket
/// opened just before.
fn starts(b: &[u8]) -> impl Iterator<Item = (usize, bool)> + '_ {
    let limit = b.len().min(HEAD_BYTES);
    let mut tokens = 0;
    (0..limit)
        .filter(move |&i| {
            let c = b[i];
            let after_open = i == 0 || opens(b[i - 1]);
            if !after_open || opens(c) {
                return false;
            }
            if i == 0 || is_blank(b[i - 1]) || b[i - 1] == b'|' {
                tokens += 1;
            }
            tokens <= HEAD_TOKENS
        })
        .map(move |i| (i, i > 0 && matches!(b[i - 1], b'[' | b'(' | b'<')))
}

fn opens(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'[' | b'(' | b'<' | b'|' | b',' | b';' | b'=')
}

fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t')
}

/// Where the token at `p` ends: the next blank or the line's end.
fn token_end(b: &[u8], p: usize) -> usize {
    b[p..].iter().position(|c| is_blank(*c)).map_or(b.len(), |n| p + n)
}

/// Whether a token may stand before a line's timestamp: punctuation, numbers, names with a
/// digit, `.`, `_`, `-`, `@`, `/` or `:` in them (hosts, files, components), upper-case
/// words (`RAS KERNEL`), level words, bracketed groups. A word of letters in lower or mixed
/// case is the message's.
fn header_like(token: &[u8]) -> bool {
    let letters = token.iter().filter(|c| c.is_ascii_alphabetic()).count();
    let marked = token.iter().any(|c| c.is_ascii_digit() || b"._-@/:[]()<>|#*".contains(c));
    let upper = token.iter().all(|c| !c.is_ascii_lowercase());
    (letters == 0 || marked || upper) && token.is_ascii()
}

/// A leading `<N>` (a kernel or syslog priority without the rest of a syslog header): its
/// severity's level.
fn priority(b: &[u8]) -> Option<&'static str> {
    let close = b.iter().take(5).position(|c| *c == b'>')?;
    let digits = b.get(1..close)?;
    if b[0] != b'<' || digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let pri: usize = std::str::from_utf8(digits).ok()?.parse().ok()?;
    (pri < 192).then(|| SYSLOG_SEVERITIES[pri % 8])
}

/// Redis's `pid:role` (`1:M`, `12:C`) or, before Redis 3, `[pid]`, which mark the level
/// sign after the time.
fn is_redis_role(token: &[u8]) -> bool {
    let digits = match token {
        [digits @ .., b':', b'M' | b'S' | b'C' | b'X'] => digits,
        [b'[', digits @ .., b']'] => digits,
        _ => return false,
    };
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}

/// A one-letter level at `i` (logcat, MongoDB, CUPS): the letter, then a blank and, where
/// `strict`, no lower-case letter (so "I think" is no level).
fn letter_level(b: &[u8], i: usize, strict: bool) -> Option<&'static str> {
    let level = letter(*b.get(i)?)?;
    let next_blank = b.get(i + 1).is_some_and(|c| is_blank(*c));
    let word = b[(i + 1).min(b.len())..].iter().find(|c| !is_blank(**c));
    (next_blank && !(strict && word.is_some_and(u8::is_ascii_lowercase))).then_some(level)
}

#[cfg(test)]
mod tests;
