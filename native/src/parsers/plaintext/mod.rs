//! Plain text: any line, its header read where it has one (`parsers::header`: timestamp,
//! level, logger, pid) and `message` the text after it; a line without a header is its own
//! message, its level sniffed from a level word near its start (`sniff`) or an error marker
//! (`markers`).

mod markers;
mod sniff;

use super::header;
use super::{Fields, Outcome, Refusal};
use crate::json::Value;
use crate::time::Stamp;

/// How far after the header a level word is looked for (characters).
const WINDOW: usize = 160;

/// Any non-empty line.
pub fn looks_like(line: &[u8]) -> bool {
    !line.is_empty()
}

/// One line of text: refused only when empty or not UTF-8.
pub fn parse(line: &[u8], reference: Option<Stamp>) -> Outcome {
    if line.is_empty() {
        return Outcome::refuse("empty", "empty line");
    }
    let Ok(text) = std::str::from_utf8(line) else { return Outcome::Refused(Refusal::utf8(line)) };
    Outcome::Parsed(parse_text(text, reference))
}

fn parse_text(text: &str, reference: Option<Stamp>) -> Fields {
    let head = header::read(text, reference);
    let message = &text[head.message..];
    let mut level = head.level;
    if level.is_none() {
        let window = &message[..advance_chars(message, 0, WINDOW)];
        level = markers::go_fatal(window)
            .or_else(|| sniff::level_word(window.as_bytes()))
            .or_else(|| markers::marker(text, window));
    }
    let mut fields = Fields::with_capacity(5);
    fields.timestamp = head.stamp;
    fields.set("message", Value::from(message));
    if let Some(level) = level {
        fields.set("log.level", Value::from(level));
    }
    if let Some(logger) = head.logger {
        fields.set("log.logger", Value::from(logger));
    }
    if let Some(pid) = head.pid.filter(|p| (1..1 << 31).contains(p)) {
        fields.set("process.pid", Value::from(pid));
    }
    fields
}

/// The byte index `count` characters after byte index `from` (or the end).
fn advance_chars(text: &str, from: usize, count: usize) -> usize {
    text[from..].char_indices().nth(count).map_or(text.len(), |(i, _)| from + i)
}

/// A word character of the patterns: an ASCII letter, digit or `_`.
fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(line: &str, reference: Option<Stamp>) -> Vec<(String, String)> {
        let Outcome::Parsed(f) = parse(line.as_bytes(), reference) else { panic!("{line}") };
        f.items()
            .into_iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::String(s) => s.into(),
                    other => format!("{other:?}"),
                };
                (k, v)
            })
            .collect()
    }

    fn level(line: &str) -> Option<String> {
        fields(line, None).into_iter().find(|(k, _)| k == "log.level").map(|(_, v)| v)
    }

    fn stamp(line: &str, reference: Option<Stamp>) -> Option<String> {
        fields(line, reference).into_iter().find(|(k, _)| k == "@timestamp").map(|(_, v)| v)
    }

    #[test]
    fn timestamps() {
        let s = |line| stamp(line, None);
        assert_eq!(s("2026-11-25 10:00:00,123 ERROR x").as_deref(), Some("2026-11-25T10:00:00.123000Z"));
        assert_eq!(s("[2026-11-25T10:00:00+01:00] x").as_deref(), Some("2026-11-25T09:00:00.000000Z"));
        assert_eq!(s("2026/11/25 10:00:00.000001 x").as_deref(), Some("2026-11-25T10:00:00.000001Z"));
        assert_eq!(s("2026-11-25 10:00:00 -0530 x").as_deref(), Some("2026-11-25T15:30:00.000000Z"));
        assert_eq!(s("2026-11-25 10:00:00.5:x").as_deref(), Some("2026-11-25T10:00:00.500000Z"));
        assert_eq!(s("2026-11-25 10:00:00:5x"), None);
        assert_eq!(s("2026-11-25 10:00:00x"), None);
        assert_eq!(s("2026-02-30 10:00:00 x"), None);
        assert_eq!(s("Wed Oct 11 14:32:52 2000 x").as_deref(), Some("2000-10-11T14:32:52.000000Z"));
        assert_eq!(s("Oct 11 14:32:52 2000x").as_deref(), Some("1970-10-11T14:32:52.000000Z"));
        let reference = Some(Stamp(1_767_227_400_000_000)); // 2026-01-01T00:30:00Z
        assert_eq!(
            stamp("Dec 31 23:59:59 host x", reference).as_deref(),
            Some("2025-12-31T23:59:59.000000Z")
        );
        assert_eq!(
            stamp("I1231 23:59:59.123456 1 x.go] y", reference).as_deref(),
            Some("2025-12-31T23:59:59.123456Z")
        );
    }

    #[test]
    fn levels() {
        assert_eq!(level("2026-11-25 10:00:01,456 INFO  [main] c.e.Pump - done").as_deref(), Some("info"));
        assert_eq!(level("[core:warn] something").as_deref(), Some("warn"));
        assert_eq!(level("x level=debug y").as_deref(), Some("debug"));
        assert_eq!(level("a INFO_FILE b"), None);
        assert_eq!(level("main: error: boom WARN").as_deref(), Some("error"));
        assert_eq!(level("E0102 15:04:05.123456 1 x.go] y").as_deref(), Some("error"));
        assert_eq!(level("panic: runtime error: index out of range").as_deref(), Some("fatal"));
    }

    #[test]
    fn markers() {
        assert_eq!(level("fatal error: all goroutines are asleep").as_deref(), Some("fatal"));
        assert_eq!(level("Traceback (most recent call last):").as_deref(), Some("error"));
        assert_eq!(level("java.lang.IllegalStateException: bad").as_deref(), Some("error"));
        assert_eq!(level("Caused by: java.io.IOException").as_deref(), Some("error"));
        assert_eq!(level("\tat java.lang.Thread.run(Thread.java:750)"), None);
        assert_eq!(level("Memory cgroup out of memory: oom_kill_process").as_deref(), Some("error"));
        assert_eq!(level("zoom_kill"), None);
    }

    #[test]
    fn refusals() {
        assert_eq!(parse(b"", None).reason(), Some("empty"));
        assert_eq!(parse(b"\xff", None).reason(), Some("invalid_utf8"));
    }
}
