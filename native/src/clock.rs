//! One poll's samples of each host's clock: how far the newest line time lay from its receive
//! time. The newest line a host sent in a poll was written moments before it was sent, even
//! in a backfill after hours offline, so its offset is the host's clock error plus a small
//! delay; the older lines of a backfill say how long the host was away, not how wrong its
//! clock is. Python keeps the per-poll maxima over a window and takes their median
//! (`pipeline/ingest/clock.py`).

use std::collections::HashMap;

use crate::json::Str;

/// The largest offset (microseconds, positive: the line's time ahead) per host in one poll.
#[derive(Debug, Default)]
pub struct Maxima {
    by_host: HashMap<Str, i64>,
}

impl Maxima {
    /// Counts one line of `host` whose time lay `offset_us` from its receive time.
    pub fn add(&mut self, host: Str, offset_us: i64) {
        self.by_host.entry(host).and_modify(|m| *m = (*m).max(offset_us)).or_insert(offset_us);
    }

    /// (host, largest offset) pairs, in no particular order.
    pub fn into_pairs(self) -> Vec<(String, i64)> {
        self.by_host.into_iter().map(|(host, offset)| (host.into(), offset)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_line_per_host() {
        let mut m = Maxima::default();
        m.add(Str::from("edge-07"), -3_600_000_000); // an hour-old line of a backfill
        m.add(Str::from("edge-07"), -2_000_000); // and its newest, two seconds old
        m.add(Str::from("edge-08"), 600_000_000); // a clock ten minutes ahead
        let mut pairs = m.into_pairs();
        pairs.sort();
        assert_eq!(pairs, [("edge-07".into(), -2_000_000), ("edge-08".into(), 600_000_000)]);
    }
}
