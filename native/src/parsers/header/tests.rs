//! One line per layout, written from each format's documentation: the timestamp (UTC), the
//! level, the logger and the message the header gives.

use super::*;

/// 2026-12-07T12:00:00Z: the receive time of every line here.
const RECEIVED: Stamp = Stamp(1_796_644_800_000_000);

struct Case {
    line: &'static str,
    stamp: Option<&'static str>,
    level: Option<&'static str>,
    logger: Option<&'static str>,
    message: &'static str,
}

const fn case(
    line: &'static str,
    stamp: Option<&'static str>,
    level: Option<&'static str>,
    logger: Option<&'static str>,
    message: &'static str,
) -> Case {
    Case { line, stamp, level, logger, message }
}

const CASES: &[Case] = &[
    // RFC 3339, ISO 8601 and their common variants
    case("2024-01-02T15:04:05Z started", Some("2024-01-02T15:04:05.000000Z"), None, None, "started"),
    case(
        "2024-01-02T15:04:05.123456789+02:00 WARN disk 91% full",
        Some("2024-01-02T13:04:05.123456Z"),
        Some("warn"),
        None,
        "disk 91% full",
    ),
    case("2024-01-02 15:04:05 -0530 x", Some("2024-01-02T20:34:05.000000Z"), None, None, "x"),
    case("2024-01-02 15:04:05 CET x", Some("2024-01-02T14:04:05.000000Z"), None, None, "x"),
    // log4j / logback default layouts (`%d [%t] %-5level %logger{36} - %msg`)
    case(
        "2024-01-02 15:04:05,678 [main] INFO  com.example.App - Started in 2.1 s",
        Some("2024-01-02T15:04:05.678000Z"),
        Some("info"),
        Some("com.example.App"),
        "Started in 2.1 s",
    ),
    case(
        "2024-01-02 15:04:05,678 ERROR [http-nio-8080-exec-1] o.a.c.c.C.[Tomcat]: Servlet failed",
        Some("2024-01-02T15:04:05.678000Z"),
        Some("error"),
        Some("o.a.c.c.C.[Tomcat]"),
        "Servlet failed",
    ),
    // Python logging: the default asctime, and `%(asctime)s - %(name)s - %(levelname)s`
    case(
        "2024-01-02 15:04:05,678 - payments - WARNING - retrying",
        Some("2024-01-02T15:04:05.678000Z"),
        Some("warn"),
        Some("payments"),
        "retrying",
    ),
    // Go's log (LstdFlags | Lmicroseconds | Lshortfile)
    case(
        "2024/01/02 15:04:05.000123 main.go:12: ready",
        Some("2024-01-02T15:04:05.000123Z"),
        None,
        None,
        "ready",
    ),
    // klog / glog, year-less and with a year
    case(
        "I1206 12:34:56.789012    1234 server.go:123] listening",
        Some("2026-12-06T12:34:56.789012Z"),
        Some("info"),
        None,
        "listening",
    ),
    case(
        "E20240102 15:04:05.000001 77 x.cc:9] bad",
        Some("2024-01-02T15:04:05.000001Z"),
        Some("error"),
        None,
        "bad",
    ),
    // Hadoop-style two-digit years
    case(
        "081109 203615 148 INFO dfs.DataNode$PacketResponder: done",
        Some("2008-11-09T20:36:15.000000Z"),
        Some("info"),
        Some("dfs.DataNode$PacketResponder"),
        "done",
    ),
    case(
        "17/06/09 20:10:40 WARN storage.BlockManager: slow",
        Some("2017-06-09T20:10:40.000000Z"),
        Some("warn"),
        Some("storage.BlockManager"),
        "slow",
    ),
    // Android logcat: threadtime and brief/time
    case(
        "12-01 09:10:11.123  1702  2395 W ActivityManager: Slow operation",
        Some("2026-12-01T09:10:11.123000Z"),
        Some("warn"),
        Some("ActivityManager"),
        "Slow operation",
    ),
    case(
        "12-01 09:10:11.123 E/AndroidRuntime( 4242): FATAL EXCEPTION: main",
        Some("2026-12-01T09:10:11.123000Z"),
        Some("error"),
        Some("AndroidRuntime"),
        "FATAL EXCEPTION: main",
    ),
    // bracketed `[MM.dd HH:mm:ss]`, compact, dotted dates
    case(
        "[10.30 16:49:06] chrome.exe - proxy:5070 open",
        Some("2026-10-30T16:49:06.000000Z"),
        None,
        Some("chrome.exe"),
        "proxy:5070 open",
    ),
    case(
        "20171223-22:15:29:606|Step_LSC|30002312|onStandStepChanged 3579",
        Some("2017-12-23T22:15:29.606000Z"),
        None,
        Some("Step_LSC"),
        "onStandStepChanged 3579",
    ),
    case("2024.01.02 15:04:05 node up", Some("2024-01-02T15:04:05.000000Z"), None, None, "node up"),
    // Windows CBS
    case(
        "2016-09-28 04:30:30, Warning               CBS    Failed to get session",
        Some("2016-09-28T04:30:30.000000Z"),
        Some("warn"),
        Some("CBS"),
        "Failed to get session",
    ),
    // PostgreSQL (log_line_prefix '%m [%p] ')
    case(
        "2024-01-02 15:04:05.678 UTC [4711] ERROR:  relation \"t\" does not exist",
        Some("2024-01-02T15:04:05.678000Z"),
        Some("error"),
        None,
        "relation \"t\" does not exist",
    ),
    // MySQL 8 error log: code and subsystem stay in the message, as Filebeat keeps them
    case(
        "2024-01-02T15:04:05.123456Z 0 [System] [MY-010931] [Server] ready for connections",
        Some("2024-01-02T15:04:05.123456Z"),
        Some("info"),
        None,
        "[MY-010931] [Server] ready for connections",
    ),
    // Redis 3+ and before
    case(
        "1:M 02 Jan 2024 15:04:05.678 # Server initialized",
        Some("2024-01-02T15:04:05.678000Z"),
        Some("warn"),
        None,
        "Server initialized",
    ),
    case(
        "[4018] 14 Nov 07:07:41.367 * Background saving started",
        Some("2026-11-14T07:07:41.367000Z"),
        Some("notice"),
        None,
        "Background saving started",
    ),
    // MongoDB before 4.4
    case(
        "2014-11-03T18:28:32.450-0500 I NETWORK  [initandlisten] waiting for connections",
        Some("2014-11-03T23:28:32.450000Z"),
        Some("info"),
        Some("NETWORK"),
        "waiting for connections",
    ),
    // Apache httpd error log, 2.2 and 2.4
    case(
        "[Sun Dec 04 04:47:44 2005] [error] mod_jk child init 1 -2",
        Some("2005-12-04T04:47:44.000000Z"),
        Some("error"),
        None,
        "mod_jk child init 1 -2",
    ),
    case(
        "[Wed Oct 11 14:32:52.123456 2000] [core:warn] [pid 35708:tid 4328636416] [client 1.2.3.4] x",
        Some("2000-10-11T14:32:52.123456Z"),
        Some("warn"),
        None,
        "x",
    ),
    // Tomcat / java.util.logging, Tomcat 8+
    case(
        "Jan 2, 2024 3:04:05 PM org.apache.catalina.startup.Catalina start",
        Some("2024-01-02T15:04:05.000000Z"),
        None,
        None,
        "org.apache.catalina.startup.Catalina start",
    ),
    case(
        "02-Jan-2024 15:04:05.678 SEVERE [main] org.apache.catalina.core.StandardContext.startInternal Error",
        Some("2024-01-02T15:04:05.678000Z"),
        Some("error"),
        Some("org.apache.catalina.core.StandardContext.startInternal"),
        "Error",
    ),
    // A timestamp after a sequence number and a date, after a file name, after an epoch
    case(
        "- 1117838570 2005.06.03 R02-M1-N0 2005-06-03-15.42.50.675872 R02-M1-N0 RAS KERNEL INFO cache error corrected",
        Some("2005-06-03T15:42:50.675872Z"),
        Some("info"),
        None,
        "cache error corrected",
    ),
    case(
        "api.log.1.2017-05-16_13:53:08 2017-05-16 00:00:00.008 25746 INFO nova.api [req-1 - -] GET /v2",
        Some("2017-05-16T00:00:00.008000Z"),
        Some("info"),
        Some("nova.api"),
        "GET /v2",
    ),
    case(
        "- 1131566461 2005.11.09 admin1 Nov 10 00:00:00 local@admin1 gmetad[1682]: no answer",
        Some("2005-11-10T00:00:00.000000Z"),
        None,
        None,
        "local@admin1 gmetad[1682]: no answer",
    ),
    // Epoch seconds and milliseconds leading a line (Squid, Zeek, strace after a pid)
    case(
        "1525344856.899 16867 10.0.0.1 TCP_MISS/200",
        Some("2018-05-03T10:54:16.899000Z"),
        None,
        None,
        "16867 10.0.0.1 TCP_MISS/200",
    ),
    case("1525344856899 job done", Some("2018-05-03T10:54:16.899000Z"), None, None, "job done"),
    case(
        "4242 1525344856.000001 open(\"/x\")",
        Some("2018-05-03T10:54:16.000001Z"),
        None,
        None,
        "open(\"/x\")",
    ),
    // Rust env_logger, HAProxy, TAI64N, a kernel priority
    case(
        "[2024-01-02T15:04:05Z DEBUG hyper::proto] flushed",
        Some("2024-01-02T15:04:05.000000Z"),
        Some("debug"),
        Some("hyper::proto"),
        "flushed",
    ),
    case(
        "[09/Dec/2013:12:59:46.633] fe be/s1 200",
        Some("2013-12-09T12:59:46.633000Z"),
        None,
        None,
        "fe be/s1 200",
    ),
    case("@4000000050d506ab2a1b2b54 run", Some("2012-12-22T01:02:25.706423Z"), None, None, "run"),
    case("<3>disk failed", None, Some("error"), None, "<3>disk failed"),
    // No header: the time in a sentence is the message's, and an id is no epoch
    case(
        "backup finished at 2024-01-02 10:00:00 ok",
        None,
        None,
        None,
        "backup finished at 2024-01-02 10:00:00 ok",
    ),
    case(
        "Last login: Mon Dec  7 10:00:00 2026 from 1.2.3.4",
        None,
        None,
        None,
        "Last login: Mon Dec  7 10:00:00 2026 from 1.2.3.4",
    ),
    case("order 12345678901 shipped", None, None, None, "order 12345678901 shipped"),
    case("[10/Oct/2000:13:55:36 +2500] bad zone", None, None, None, "[10/Oct/2000:13:55:36 +2500] bad zone"),
    case("Error handling request", None, None, None, "Error handling request"),
    case(
        "2024-01-02 10:00:00 java.lang.RuntimeException: boom",
        Some("2024-01-02T10:00:00.000000Z"),
        None,
        None,
        "java.lang.RuntimeException: boom",
    ),
    case("2024-01-02 10:00:00 I think so", Some("2024-01-02T10:00:00.000000Z"), None, None, "I think so"),
];

#[test]
fn every_layout() {
    for c in CASES {
        let h = read(c.line, Some(RECEIVED));
        let message = &c.line[h.message..];
        let got = (h.stamp.map(Stamp::iso), h.level, h.logger, message);
        let want = (c.stamp.map(String::from), c.level, c.logger, c.message);
        assert_eq!(got, want, "{}", c.line);
    }
}

#[test]
fn never_a_day_ahead_of_receipt() {
    // Year-less: the year before. With a year: the header says so (the parsers' caller
    // drops it, `time::trusted`).
    let h = read("Dec 31 23:00:00 host x", Some(RECEIVED));
    assert_eq!(h.stamp.map(Stamp::iso).as_deref(), Some("2025-12-31T23:00:00.000000Z"));
    let h = read("Dec 08 11:59:59 host x", Some(RECEIVED));
    assert_eq!(h.stamp.map(Stamp::iso).as_deref(), Some("2026-12-08T11:59:59.000000Z"));
    let h = read("Dec 08 12:00:01 host x", Some(RECEIVED));
    assert_eq!(h.stamp.map(Stamp::iso).as_deref(), Some("2025-12-08T12:00:01.000000Z"));
}

#[test]
fn non_ascii_is_never_split() {
    for line in ["2024-01-02 10:00:00 ünïcode – text", "é 2024-01-02 10:00:00 x", "[é] x", "１２:００"]
    {
        let h = read(line, Some(RECEIVED));
        assert!(line.is_char_boundary(h.message), "{line}");
    }
}

#[test]
fn format_details() {
    let cases = [
        case(
            "I20210131 14:48:54.411655 15520 main.c++:9] Hello",
            Some("2021-01-31T14:48:54.411655Z"),
            Some("info"),
            None,
            "Hello",
        ),
        case(
            "E [08/Jun/2013:11:28:58 -0700] Unknown directive",
            Some("2013-06-08T18:28:58.000000Z"),
            Some("error"),
            None,
            "Unknown directive",
        ),
        case(
            "12-01 01:02:03.123  1234  1234 D threadtime: test",
            Some("2026-12-01T01:02:03.123000Z"),
            Some("debug"),
            Some("threadtime"),
            "test",
        ),
        case(
            "2022-01-02 11:42:10.613472 +1000 I/AppTag    ( 1080: 1179): zone",
            Some("2022-01-02T01:42:10.613472Z"),
            Some("info"),
            Some("AppTag"),
            "zone",
        ),
        case(
            "12-01 20:54:20.971  root  1215  1215 W wlan: mark",
            Some("2026-12-01T20:54:20.971000Z"),
            Some("warn"),
            Some("wlan"),
            "mark",
        ),
        case(
            "2025-04-24T22:09:20.854Z\tinfo\tMetrics\t{\"k\": 1}",
            Some("2025-04-24T22:09:20.854000Z"),
            Some("info"),
            Some("Metrics"),
            "{\"k\": 1}",
        ),
        case(
            "[Mon Aug 31 16:27:04 2015] [error] [client 10.17.42.3] Premature end",
            Some("2015-08-31T16:27:04.000000Z"),
            Some("error"),
            None,
            "Premature end",
        ),
        case(
            "31-Jul-2020 16:40:38.451 INFO [main] org.apache.x.Y.log Listener: added",
            Some("2020-07-31T16:40:38.451000Z"),
            Some("info"),
            Some("org.apache.x.Y.log"),
            "Listener: added",
        ),
    ];
    for c in cases {
        let h = read(c.line, Some(RECEIVED));
        let got = (h.stamp.map(Stamp::iso), h.level, h.logger, &c.line[h.message..]);
        assert_eq!(got, (c.stamp.map(String::from), c.level, c.logger, c.message), "{}", c.line);
    }
}
