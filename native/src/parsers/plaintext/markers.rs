//! Error markers: a level implied by what a line says rather than by a level word (a Go
//! fatal error, a kernel panic, a traceback, an exception's name, running out of memory).

use super::is_word;

/// Whether each byte is one of the markers' rarer bytes (p, k, x, O): scanning for these
/// skips the rest of a line quickly.
static MARKER_BYTE: [bool; 256] = {
    let mut t = [false; 256];
    t[b'p' as usize] = true;
    t[b'k' as usize] = true;
    t[b'x' as usize] = true;
    t[b'O' as usize] = true;
    t
};

/// Go's `fatal error:` opening `rest`, which a level word (`error:`) must not shadow.
pub fn go_fatal(rest: &str) -> Option<&'static str> {
    rest.starts_with("fatal error:").then_some("fatal")
}

/// A level implied by an error marker: a kernel panic is `fatal`; a traceback, an exception
/// or running out of memory is `error`.
pub fn marker(text: &str, rest: &str) -> Option<&'static str> {
    // Which markers occur anywhere in the text, in one pass. Each is found through one of
    // its rarer bytes (p, k, x, O) and checked from where it starts.
    let (mut panic, mut traceback, mut oom_seen) = (false, false, false);
    let b = text.as_bytes();
    let from = |at: usize, back: usize, marker: &[u8]| at >= back && b[at - back..].starts_with(marker);
    let mut i = 0;
    while let Some(at) = b[i..].iter().position(|c| MARKER_BYTE[*c as usize]).map(|n| i + n) {
        i = at + 1;
        match b[at] {
            b'p' => panic |= from(at, 6, b"ernel panic"),
            b'k' => {
                traceback |= from(at, 8, b"Traceback (most recent call last):");
                oom_seen |= at >= 4 && oom_at(b, at - 4);
            }
            b'x' => traceback |= from(at, 1, b"Exception in thread "),
            _ => oom_seen |= oom_at(b, at),
        }
        if panic {
            return Some("fatal");
        }
    }
    if traceback || exception(rest.as_bytes()) || oom_seen {
        return Some("error");
    }
    None
}

/// Whether `rest` opens with an exception's name (`java.io.IOException: ...`), maybe after
/// `Caused by: `, `Uncaught ` or `Unhandled `.
fn exception(rest: &[u8]) -> bool {
    for prefix in [&b"Caused by: "[..], b"Uncaught ", b"Unhandled "] {
        if let Some(tail) = rest.strip_prefix(prefix)
            && dotted_exception(tail)
        {
            return true;
        }
    }
    dotted_exception(rest)
}

/// `(?:[A-Za-z_$][\w$]{0,80}\.){0,16}[\w$]{0,80}(?:Exception|Error|Throwable)(?::|$)` at the
/// start of `s`. Nothing in it matches `.` but the separators and nothing matches `:` or a
/// line end but its last part, so a match spans exactly the leading run of `[\w$.]`: check
/// what ends the run, then the pieces between the dots.
fn dotted_exception(s: &[u8]) -> bool {
    let name_char = |c: &u8| is_word(*c) || *c == b'$';
    let e = s.iter().take_while(|c| name_char(c) || **c == b'.').count();
    // `$`: the end, or just before a newline that ends the text.
    let ends = e == s.len() || s[e] == b':' || (e + 1 == s.len() && s[e] == b'\n');
    if !ends {
        return false;
    }
    let mut pieces = s[..e].split(|&c| c == b'.');
    let Some(last) = pieces.next_back() else { return false };
    let mut count = 0;
    for piece in pieces {
        count += 1;
        let first_ok = piece.first().is_some_and(|&c| c.is_ascii_alphabetic() || c == b'_' || c == b'$');
        if count > 16 || !first_ok || piece.len() > 81 {
            return false;
        }
    }
    [&b"Exception"[..], b"Error", b"Throwable"]
        .iter()
        .any(|k| last.ends_with(k) && last.len() - k.len() <= 80)
}

/// Whether an out-of-memory marker (`\bOOM|\boom[-_]kill|Out of memory`) starts at `i` of
/// `text`.
fn oom_at(text: &[u8], i: usize) -> bool {
    let tail = &text[i..];
    let starts_word = i == 0 || !is_word(text[i - 1]);
    (starts_word
        && (tail.starts_with(b"OOM") || tail.starts_with(b"oom-kill") || tail.starts_with(b"oom_kill")))
        || tail.starts_with(b"Out of memory")
}
