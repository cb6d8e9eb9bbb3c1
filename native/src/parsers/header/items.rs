//! The items of a header after its timestamp, up to where the message starts: the level
//! (a word, a bracketed word, a letter, Redis's sign), numbers (pid, thread id), bracketed
//! thread and context groups, the logger, tag or program, and the separators between them
//! (` - `, `, `, `| `).
//!
//! A bracketed group is header only where the header goes on after it (a separator or a
//! logger follows) or a logger came before it: in MySQL's `[Warning] [MY-010453] [Server]
//! text` the code and subsystem stay in the message, as Filebeat keeps them.

use super::{header_like, is_blank, letter_level, token_end};
use crate::parsers::level::header_word;

/// At most this many items follow a timestamp.
const ITEMS: usize = 8;
/// A level is looked for this many tokens ahead, over header-like tokens.
const LEVEL_AHEAD: usize = 4;
/// A logcat tag ends with `: ` within this many bytes.
const TAG: usize = 64;

/// The header after its timestamp.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct After<'a> {
    pub level: Option<&'static str>,
    pub logger: Option<&'a str>,
    pub pid: Option<i64>,
    pub message: usize,
}

/// What is known where the timestamp ends.
#[derive(Clone, Copy, Debug, Default)]
pub struct Start {
    /// A level already read (before the timestamp, or klog's letter).
    pub level: Option<&'static str>,
    /// Whether the line opened with Redis's `pid:role`.
    pub redis: bool,
    /// Whether a bracket opened before the timestamp and is still open.
    pub open: bool,
}

/// The items from `start` (where the timestamp ended) on.
pub fn after(b: &[u8], start: usize, known: Start) -> After<'_> {
    let Start { level, redis, open } = known;
    let mut out = After { level, logger: None, pid: None, message: start };
    if b.get(start) == Some(&b'|') {
        return pipes(b, start + 1, out);
    }
    let mut i = skip_blanks(b, start);
    if redis && let Some(l) = redis_sign(b, i) {
        out.level = Some(l);
        i = skip_blanks(b, i + 1);
    }
    i = skip_separators(b, i);
    out.message = i;
    let mut logger_before = false;
    let mut numbers = 0;
    let mut first_number = None;
    // Numbers after the time are header (pid, thread) only where more header follows them
    // (`148 INFO`, `25746 INFO`, `0 [System]`); else they are data (Squid's elapsed time
    // after its epoch) and stay in the message: where the message started before them.
    let mut tentative: Option<usize> = None;
    for _ in 0..ITEMS {
        if i >= b.len() {
            break;
        }
        let end = token_end(b, i);
        let token = &b[i..end];
        let commit = |out: &mut After, at: usize| {
            out.message = skip_separators(b, at);
            out.message
        };
        let numeric = token.iter().all(u8::is_ascii_digit) && token.len() <= 10;
        let uid = numbers == 0 && out.level.is_none() && numbers_after(b, end) >= 2;
        // Whatever this token turns out to be, it decides for the numbers before it.
        if !(numeric || uid)
            && let Some(before) = tentative.take()
            && !header_ahead(b, i, end, out.level.is_some())
        {
            out.message = before;
            break;
        }
        if open && let Some(name) = token.strip_suffix(b"]").filter(|n| !n.contains(&b'[')) {
            out.logger = name.first().is_some_and(u8::is_ascii_alphabetic).then(|| ascii(name));
            commit(&mut out, end);
            break;
        }
        if out.level.is_none() {
            let first = i == skip_separators(b, skip_blanks(b, start));
            if let Some((l, e)) = level_item(b, i, end, numbers < 2)
                .or_else(|| first.then(|| lower_level(token, end)).flatten())
            {
                out.level = Some(l);
                // PostgreSQL's `LOG:`, `error:`: the colon ends the header.
                if token.ends_with(b":") {
                    commit(&mut out, e);
                    break;
                }
                // A letter level's context bracket is the header's (MongoDB's `I NETWORK
                // [conn1] text`, `F -  [conn11] text`).
                logger_before |= token.len() == 1;
                // Logcat's letter follows its pid and tid; MongoDB's (no tag) the time.
                if token.len() == 1
                    && numbers >= 2
                    && let Some(e) = logcat_tag(b, skip_blanks(b, e), &mut out)
                {
                    out.pid = first_number;
                    commit(&mut out, e);
                    break;
                }
                i = commit(&mut out, e);
                continue;
            }
            if let Some(e) = logcat_brief(b, i, &mut out) {
                commit(&mut out, e);
                break;
            }
        }
        // Logcat's `uid pid tid` (`root  1215  1215 W`): the user name before two numbers.
        if uid {
            tentative = tentative.or(Some(out.message));
            i = commit(&mut out, end);
            continue;
        }
        if numeric {
            tentative = tentative.or(Some(out.message));
            numbers += 1;
            first_number = first_number.or(ascii(token).parse().ok());
            i = commit(&mut out, end);
            continue;
        }
        if let Some(e) = pid_bracket(b, i, &mut out) {
            i = commit(&mut out, e);
            continue;
        }
        // Apache's `[client 1.2.3.4:5678]` after its level and pid.
        if out.level.is_some()
            && token == b"[client"
            && let Some(close) = bracket_end(b, i)
        {
            i = commit(&mut out, close);
            continue;
        }
        if out.logger.is_none()
            && let Some((name, pid, e)) = program(token, out.level.is_some())
        {
            out.logger = out.logger.or(name);
            out.pid = out.pid.or(pid);
            commit(&mut out, i + e);
            break;
        }
        if out.level.is_none() {
            // `R02-M1 RAS KERNEL INFO text`, `myapp - INFO - text`: header up to a level.
            match level_ahead(b, i) {
                Some(at) => {
                    if dash_field(b, end).is_some() && !token.iter().all(u8::is_ascii_digit) {
                        out.logger = Some(ascii(token));
                    }
                    i = at;
                }
                None => {
                    if let Some(e) = dash_field(b, end) {
                        out.logger = Some(ascii(token));
                        i = commit(&mut out, e);
                        continue;
                    }
                    break;
                }
            }
            continue;
        }
        if b[i] == b'[' {
            let Some(close) = bracket_end(b, i) else { break };
            let next = skip_separators(b, close);
            let goes_on = next > skip_blanks(b, close) || logger_ahead(b, next);
            if !(goes_on || logger_before) {
                break;
            }
            i = commit(&mut out, close);
            continue;
        }
        if out.logger.is_none()
            && let Some(e) = logger(b, i, end)
        {
            out.logger = Some(ascii(&b[i..e]));
            logger_before = true;
            i = commit(&mut out, end);
            continue;
        }
        break;
    }
    if let Some(before) = tentative {
        out.message = before;
    }
    out
}

/// Whether the token at `i..end` is header that numbers may stand before: a level (or one
/// a few header-like tokens ahead), a letter level, a pid bracket, a program or logger, a
/// bracketed group, klog's source.
fn header_ahead(b: &[u8], i: usize, end: usize, has_level: bool) -> bool {
    let token = &b[i..end];
    level_item(b, i, end, false).is_some()
        || (!has_level && level_ahead(b, i).is_some())
        || token.starts_with(b"[")
        || program(token, has_level).is_some()
        || logger(b, i, end).is_some()
}

/// `Step_LSC|30002312|message`: fields without blanks before the message, the first word a
/// logger, a number the pid.
fn pipes<'a>(b: &'a [u8], mut i: usize, mut out: After<'a>) -> After<'a> {
    while let Some(n) = b[i..].iter().position(|c| *c == b'|' || is_blank(*c)) {
        let field = &b[i..i + n];
        if b[i + n] != b'|' || field.is_empty() {
            break;
        }
        if field.iter().all(u8::is_ascii_digit) && field.len() < 10 {
            out.pid = out.pid.or(ascii(field).parse().ok());
        } else if out.logger.is_none() {
            out.logger = Some(ascii(field));
        }
        i += n + 1;
    }
    out.message = i;
    out
}

/// The ASCII bytes of a token as text (every token here is checked ASCII, or cut at ASCII
/// bytes of a UTF-8 text).
fn ascii(token: &[u8]) -> &str {
    std::str::from_utf8(token).unwrap_or_default()
}

fn skip_blanks(b: &[u8], mut i: usize) -> usize {
    while b.get(i).is_some_and(|c| is_blank(*c)) {
        i += 1;
    }
    i
}

/// Past blanks and lone separators (`-`, `|`, `,`, `:`) between them.
fn skip_separators(b: &[u8], mut i: usize) -> usize {
    loop {
        i = skip_blanks(b, i);
        let lone =
            matches!(b.get(i), Some(b'-' | b'|' | b',' | b':')) && b.get(i + 1).is_none_or(|c| is_blank(*c));
        if !lone {
            return i;
        }
        i += 1;
    }
}

/// A level at `i`, and where it ends: a word (`INFO`, `error:`, or any case between tabs, as
/// zap writes it), a bracketed one (`[notice]`, `[core:error]`, `<WARN>`), or a letter
/// (logcat, MongoDB; `strict`: not before a lower-case word, unless after logcat's pid and
/// tid).
fn level_item(b: &[u8], i: usize, end: usize, strict: bool) -> Option<(&'static str, usize)> {
    let token = &b[i..end];
    if let Some(l) = letter_level(b, i, strict).filter(|_| token.len() == 1) {
        return Some((l, end));
    }
    if let [open @ (b'[' | b'<' | b'('), inner @ .., close] = token
        && *close == matching(*open)
    {
        let word = inner.rsplit(|c| *c == b':').next().unwrap_or(inner);
        return header_word(word, true).map(|l| (l, end));
    }
    let tabbed = b.get(end) == Some(&b'\t') && i > 0 && b[i - 1] == b'\t';
    let (word, marked) = match token.strip_suffix(b":") {
        Some(w) => (w, true),
        None => (token, tabbed),
    };
    header_word(word, marked).map(|l| (l, end))
}

/// A lower-case level word right after the timestamp (`2022-06-02T12:25:11Z info wcp ...`):
/// read as its upper-case spelling, so `log` or `note` there are still words.
fn lower_level(token: &[u8], end: usize) -> Option<(&'static str, usize)> {
    if token.len() > 13 || !token.iter().all(u8::is_ascii_lowercase) {
        return None;
    }
    let mut upper = [0u8; 13];
    let upper = &mut upper[..token.len()];
    upper.copy_from_slice(token);
    upper.make_ascii_uppercase();
    header_word(upper, false).map(|l| (l, end))
}

fn matching(open: u8) -> u8 {
    match open {
        b'[' => b']',
        b'<' => b'>',
        _ => b')',
    }
}

/// Redis's level sign after the time: `.` debug, `-` verbose, `*` notice, `#` warning.
fn redis_sign(b: &[u8], i: usize) -> Option<&'static str> {
    if !b.get(i + 1).is_none_or(|c| is_blank(*c)) {
        return None;
    }
    match b.get(i)? {
        b'.' | b'-' => Some("debug"),
        b'*' => Some("notice"),
        b'#' => Some("warn"),
        _ => None,
    }
}

/// Logcat's tag after its level letter, up to `: ` (`WindowManager: `, `FMQ     : `).
fn logcat_tag<'a>(b: &'a [u8], i: usize, out: &mut After<'a>) -> Option<usize> {
    let window = &b[i.min(b.len())..b.len().min(i + TAG)];
    let n = window.windows(2).position(|w| w == b": ")?;
    let tag = ascii(&window[..n]).trim_end();
    out.logger = (!tag.is_empty()).then_some(tag);
    Some(i + n + 2)
}

/// Logcat's brief and time formats: `I/tag(  190): ` (letter, `/`, tag, pid in brackets).
fn logcat_brief<'a>(b: &'a [u8], i: usize, out: &mut After<'a>) -> Option<usize> {
    let level = letter_level_slash(b, i)?;
    let rest = &b[i + 2..b.len().min(i + 2 + TAG)];
    // `I/AppTag    ( 1080: 1179): `: the pid (and uid) in brackets may hold a `: ` too.
    let colon = match rest.windows(3).position(|w| w == b"): ") {
        Some(n) => n + 1,
        None => rest.windows(2).position(|w| w == b": ")?,
    };
    let head = &rest[..colon];
    let (tag, pid) = match head.iter().position(|c| *c == b'(') {
        Some(open) if head.last() == Some(&b')') => {
            let inside = ascii(&head[open + 1..head.len() - 1]);
            (&head[..open], inside.split(':').next().unwrap_or_default().trim().parse().ok())
        }
        _ => (head, None),
    };
    out.level = Some(level);
    out.logger = Some(ascii(tag).trim_end());
    out.pid = pid;
    Some(i + 2 + colon + 2)
}

fn letter_level_slash(b: &[u8], i: usize) -> Option<&'static str> {
    (b.get(i + 1) == Some(&b'/')).then(|| crate::parsers::level::letter(b[i])).flatten()
}

/// `[1234]`, `[pid 35708]`, `[pid 35708:tid 4328636416]`: the pid, and where it ends.
fn pid_bracket(b: &[u8], i: usize, out: &mut After) -> Option<usize> {
    let rest = b.get(i..)?.strip_prefix(b"[")?;
    let rest_at = rest.strip_prefix(b"pid ").map_or(0, |_| 4);
    let digits = rest[rest_at..].iter().take_while(|c| c.is_ascii_digit()).count();
    let after = rest_at + digits;
    if digits == 0 || digits > 9 {
        return None;
    }
    let close = match rest.get(after) {
        Some(b']') => after,
        Some(b':') if rest_at == 4 => after + rest[after..].iter().position(|c| *c == b']')?,
        _ => return None,
    };
    out.pid = out.pid.or(ascii(&rest[rest_at..after]).parse().ok());
    Some(i + 1 + close + 1)
}

/// A program or logger that ends the header with a colon: `sshd[123]:`, `MRAppMaster:`,
/// `org.apache.Foo$Bar:`, or a source location, `main.go:12:` or glog's `file.go:70]`: (the
/// name, None for a source location; a pid in brackets; where it ends). A plain word is one
/// only after a level (`INFO Main: text`), not in "connecting: timed out".
fn program(token: &[u8], plain: bool) -> Option<(Option<&str>, Option<i64>, usize)> {
    let body = token.strip_suffix(b":").or_else(|| token.strip_suffix(b"]").filter(|t| is_source(t)))?;
    let first = *body.first()?;
    if !(first.is_ascii_alphabetic() || first == b'/')
        || !body.iter().all(|c| c.is_ascii_alphanumeric() || b"._$-/[]():+".contains(c))
    {
        return None;
    }
    if is_source(body) {
        return Some((None, None, token.len()));
    }
    // `java.lang.RuntimeException: boom` is the message (an error's), not a logger.
    if [&b"Exception"[..], b"Error", b"Throwable"].iter().any(|k| body.ends_with(k)) {
        return None;
    }
    let dotted = body.contains(&b'.') || body.contains(&b'/');
    let word = body.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'_' || *c == b'-');
    let pid = |open: usize| ascii(&body[open + 1..body.len() - 1]).parse::<i64>().ok();
    let (name, pid) = match body.iter().position(|c| *c == b'[') {
        Some(open) if body.ends_with(b"]") && pid(open).is_some() => (&body[..open], pid(open)),
        _ if dotted || (word && plain) => (body, None),
        _ => return None,
    };
    Some((Some(ascii(name)), pid, token.len()))
}

/// `file.ext:line` (a source location, as glog and Go's log print it).
fn is_source(t: &[u8]) -> bool {
    let Some(colon) = t.iter().rposition(|c| *c == b':') else { return false };
    let line = &t[colon + 1..];
    !line.is_empty() && line.iter().all(u8::is_ascii_digit) && t[..colon].contains(&b'.')
}

/// Where the next level token starts, over up to `LEVEL_AHEAD` header-like tokens (or
/// tokens followed by ` - `).
fn level_ahead(b: &[u8], mut i: usize) -> Option<usize> {
    for _ in 0..LEVEL_AHEAD {
        let end = token_end(b, i);
        if !header_like(&b[i..end]) && dash_field(b, end).is_none() {
            return None;
        }
        i = skip_separators(b, end);
        let next = token_end(b, i);
        if i < b.len() && level_item(b, i, next, true).is_some() {
            return Some(i);
        }
    }
    None
}

/// How many number tokens (up to two) follow `end`.
fn numbers_after(b: &[u8], end: usize) -> usize {
    let mut i = skip_blanks(b, end);
    let mut n = 0;
    while n < 2 {
        let e = token_end(b, i);
        if e == i || !b[i..e].iter().all(u8::is_ascii_digit) {
            break;
        }
        n += 1;
        i = skip_blanks(b, e);
    }
    n
}

/// ` - ` after a token that ends at `end` (Python's `name - LEVEL - message`, `program -`):
/// where the separator ends.
fn dash_field(b: &[u8], end: usize) -> Option<usize> {
    (b.get(end) == Some(&b' ') && b.get(end + 1) == Some(&b'-') && b.get(end + 2) == Some(&b' '))
        .then_some(end + 3)
}

/// The end of the bracketed group at `i` (nested brackets counted), within the head.
fn bracket_end(b: &[u8], i: usize) -> Option<usize> {
    let mut depth = 0;
    for (n, c) in b[i..].iter().enumerate().take(160) {
        match c {
            b'[' => depth += 1,
            b']' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i + n + 1);
                }
            }
            _ => {}
        }
    }
    None
}

/// Whether a logger or program starts at `i`.
fn logger_ahead(b: &[u8], i: usize) -> bool {
    let end = token_end(b, i);
    i < b.len() && (program(&b[i..end], true).is_some() || logger(b, i, end).is_some())
}

/// A logger name at `i` (a Java class `org.apache.Foo`, a Go package `logger/name`, an upper
/// case component `NETWORK`, `CBS`), where a field ends after it (a tab, ` - `, a bracket or
/// a column's two blanks) or, for a Java class, anywhere. Its end.
fn logger(b: &[u8], i: usize, end: usize) -> Option<usize> {
    let token = &b[i..end];
    let name_like = token.first().is_some_and(u8::is_ascii_alphabetic)
        && token.iter().all(|c| c.is_ascii_alphanumeric() || b"._$-/:".contains(c));
    let dotted = token.contains(&b'.') || token.contains(&b'/');
    let component = token.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == b'_');
    let field_ends = match b.get(end) {
        None => false,
        Some(b'\t') => true,
        _ => dash_field(b, end).is_some() || b.get(end + 1) == Some(&b'[') || b.get(end + 1) == Some(&b' '),
    };
    // A Java class (`org.apache.Foo`, two dots or more) is a logger whatever follows it.
    let class = token.iter().filter(|c| **c == b'.').count() >= 2 && !token.ends_with(b".");
    // zap's console encoder: tab-separated fields, the logger's name any word.
    let tabbed = i > 0 && b[i - 1] == b'\t' && b.get(end) == Some(&b'\t');
    (name_like && ((dotted || component) && field_ends || class || tabbed)).then_some(end)
}
