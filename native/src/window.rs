//! Which time names a document's dated index.
//!
//! The event time, while it lies within a window around the Kafka timestamp; outside it, the
//! Kafka timestamp, so a line dated 1970 or 9999 cannot create an index. The bounds arrive
//! in whole microseconds, a `Stamp`'s unit: the comparison is exact integer arithmetic.

use crate::time::Stamp;

/// Where the event time lay against the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Inside,
    Behind,
    Ahead,
}

impl Side {
    /// Its name for Python (`IndexAction.outside_window`, the `outside` counts): empty inside.
    pub fn name(self) -> &'static str {
        match self {
            Side::Inside => "",
            Side::Behind => "behind",
            Side::Ahead => "ahead",
        }
    }
}

/// The window of one topic: how far the event time may lie before and after the Kafka
/// timestamp, in microseconds, bounds included.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub back_us: i64,
    pub ahead_us: i64,
}

impl Window {
    /// The time whose day names the index, and where the event time lay.
    /// Without a Kafka timestamp there is no window: the event time decides.
    pub fn index_time(self, stamp: Stamp, kafka_time: Option<Stamp>) -> (Stamp, Side) {
        let Some(kafka) = kafka_time else {
            return (stamp, Side::Inside);
        };
        // Both instants lie within years 1..=9999 and the bounds within 100 years (the
        // configuration's limit): no sum or difference here can overflow.
        let delta = stamp.0 - kafka.0;
        if delta < -self.back_us {
            (kafka, Side::Behind)
        } else if delta > self.ahead_us {
            (kafka, Side::Ahead)
        } else {
            (stamp, Side::Inside)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400 * 1_000_000;
    const WINDOW: Window = Window { back_us: 7 * DAY, ahead_us: DAY };
    const KAFKA: Stamp = Stamp(1_764_064_800_123_000); // 2025-11-25T10:00:00.123Z

    #[test]
    fn inside_the_window_the_event_time_decides() {
        for delta in [0, -7 * DAY, DAY, -1, 1, -3 * DAY] {
            let stamp = Stamp(KAFKA.0 + delta);
            assert_eq!(WINDOW.index_time(stamp, Some(KAFKA)), (stamp, Side::Inside), "{delta}");
        }
    }

    #[test]
    fn outside_it_the_kafka_time_decides() {
        let before = Stamp(KAFKA.0 - 7 * DAY - 1);
        let after = Stamp(KAFKA.0 + DAY + 1);
        assert_eq!(WINDOW.index_time(before, Some(KAFKA)), (KAFKA, Side::Behind));
        assert_eq!(WINDOW.index_time(after, Some(KAFKA)), (KAFKA, Side::Ahead));
    }

    #[test]
    fn the_ends_of_time_are_compared_without_overflow() {
        let first = Stamp(-62_135_596_800 * 1_000_000); // 0001-01-01
        let last = Stamp(253_402_300_800 * 1_000_000 - 1); // 9999-12-31T23:59:59.999999
        let wide = Window { back_us: 100 * 365 * DAY, ahead_us: 100 * 365 * DAY };
        assert_eq!(wide.index_time(first, Some(last)), (last, Side::Behind));
        assert_eq!(wide.index_time(last, Some(first)), (first, Side::Ahead));
        assert_eq!(wide.index_time(last, Some(Stamp(last.0 - DAY))), (last, Side::Inside));
    }

    #[test]
    fn without_a_kafka_time_there_is_no_window() {
        let epoch = Stamp(0);
        assert_eq!(WINDOW.index_time(epoch, None), (epoch, Side::Inside));
    }

    #[test]
    fn a_zero_window_keeps_only_the_exact_instant() {
        let zero = Window { back_us: 0, ahead_us: 0 };
        assert_eq!(zero.index_time(KAFKA, Some(KAFKA)), (KAFKA, Side::Inside));
        assert_eq!(zero.index_time(Stamp(KAFKA.0 + 1), Some(KAFKA)), (KAFKA, Side::Ahead));
    }
}
