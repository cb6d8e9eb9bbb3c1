//! A level word anywhere near the start of a line without a header that says it: the
//! leftmost of a bracketed word (`[warn]`, `[core:warn]`), an upper-case word standing alone
//! (`WARN`), a word after `level=` / `severity:` and the like (any case), and a word before a
//! colon (`error:`). Every spelling comes from the one level table (`parsers::level`).

use super::is_word;
use crate::parsers::level::{header_word, level_of_text};

/// Keys whose value is a level (`level=warn`, `severity: "error"`).
const KEYS: [&[u8]; 4] = [b"level", b"lvl", b"loglevel", b"severity"];

/// The level of the leftmost level word in `rest`.
pub fn level_word(rest: &[u8]) -> Option<&'static str> {
    let mut i = 0;
    while let Some(n) = rest[i..].iter().position(u8::is_ascii_alphabetic) {
        let s = i + n;
        let letters = rest[s..].iter().take_while(|c| c.is_ascii_alphabetic()).count();
        // `TRACE1`, `DEBUG2`: one digit may end a level word.
        let digit = usize::from(rest.get(s + letters).is_some_and(u8::is_ascii_digit));
        let e = s + letters + digit;
        i = e.max(s + 1);
        if glued(rest, s, e) {
            continue;
        }
        let word = &rest[s..e];
        if keyed(rest, s) {
            match std::str::from_utf8(word).ok().and_then(level_of_text) {
                Some(level) => return Some(level),
                None => continue,
            }
        }
        let marked = bracketed(rest, s, e) || rest.get(e) == Some(&b':');
        let upper = word.iter().all(|c| !c.is_ascii_lowercase());
        if (marked || upper)
            && let Some(level) = header_word(word, marked)
        {
            return Some(level);
        }
    }
    None
}

/// Whether the word at `s..e` is part of a longer word or name (`INFO_FILE`, `x.error`,
/// `error-rate`).
fn glued(rest: &[u8], s: usize, e: usize) -> bool {
    let before = s > 0 && (is_word(rest[s - 1]) || matches!(rest[s - 1], b'.' | b'/' | b'-'));
    let after = rest.get(e).is_some_and(|&c| is_word(c) || matches!(c, b'/' | b'-'));
    before || after
}

/// `[word]` (up to three blanks before `]`), or `[module:word]`.
fn bracketed(rest: &[u8], s: usize, e: usize) -> bool {
    let blanks = rest[e..].iter().take(3).take_while(|c| **c == b' ').count();
    if rest.get(e + blanks) != Some(&b']') || s == 0 {
        return false;
    }
    let opens = |k: usize| rest.get(k) == Some(&b'[');
    match rest[s - 1] {
        b'[' => true,
        b' ' => s >= 2 && opens(s - 2),
        b':' => {
            let module =
                rest[..s - 1].iter().rev().take(33).take_while(|c| is_word(**c) || b".-".contains(c));
            let n = module.count();
            (1..=32).contains(&n) && s >= n + 2 && opens(s - 2 - n)
        }
        _ => false,
    }
}

/// Whether a level key and `=` or `:` (a blank on either side, a quote after) come just
/// before `s`.
fn keyed(rest: &[u8], s: usize) -> bool {
    let mut j = s;
    if j > 0 && rest[j - 1] == b'"' {
        j -= 1;
    }
    if j > 0 && rest[j - 1] == b' ' {
        j -= 1;
    }
    if j == 0 || !matches!(rest[j - 1], b'=' | b':') {
        return false;
    }
    j -= 1;
    if j > 0 && rest[j - 1] == b' ' {
        j -= 1;
    }
    KEYS.iter().any(|k| rest[..j].ends_with(k) && (j == k.len() || !is_word(rest[j - k.len() - 1])))
}
