//! The `<PRI>` that opens a line: the priority, its facility and severity (codes and
//! names, RFC 5424's tables), and `log.level`.

use super::{Step, clip, push, refuse};
use crate::json::Value;
use crate::parsers::Fields;
use crate::parsers::level::SYSLOG_SEVERITIES;

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

/// The `<PRI>` fields; the text after `>`.
pub(super) fn priority<'a>(text: &'a str, fields: &mut Fields) -> Step<&'a str> {
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
