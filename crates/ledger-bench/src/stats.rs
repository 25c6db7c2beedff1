//! Latency samples and their percentiles, and the few conversions the figures need.

use std::time::Duration;

/// Latency samples of one workload, in any order.
#[derive(Debug, Default, Clone)]
pub struct Latencies {
    samples: Vec<Duration>,
}

impl Latencies {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn record(&mut self, sample: Duration) {
        self.samples.push(sample);
    }

    pub fn extend(&mut self, other: Latencies) {
        self.samples.extend(other.samples);
    }

    pub fn len(&self) -> usize {
        self.samples.len()
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// The nearest-rank percentile (`percent` in 0..=100); `None` without samples.
    pub fn percentile(&mut self, percent: u32) -> Option<Duration> {
        if self.samples.is_empty() {
            return None;
        }
        self.samples.sort_unstable();
        let count = self.samples.len();
        // Nearest rank: ceil(p/100 × n), 1-based; p ≤ 100 keeps it within 1..=n.
        let rank = (usize::try_from(percent.min(100)).unwrap_or(100) * count).div_ceil(100);
        Some(self.samples[rank.clamp(1, count) - 1])
    }
}

/// A count as a float for a rate; exact below 2^53, which every count here is.
pub fn float(count: u64) -> f64 {
    f64::from(u32::try_from(count >> 32).unwrap_or(u32::MAX)) * 4_294_967_296.0
        + f64::from(u32::try_from(count & 0xFFFF_FFFF).unwrap_or(u32::MAX))
}

/// Events (or records, or queries) per second.
pub fn per_second(count: u64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 {
        float(count) / seconds
    } else {
        0.0
    }
}

/// A rate as people read it: `254 k/s`, `1.23 M/s`, `812/s`.
pub fn rate(per_second: f64) -> String {
    if per_second >= 1e6 {
        format!("{:.2} M/s", per_second / 1e6)
    } else if per_second >= 1e4 {
        format!("{:.0} k/s", per_second / 1e3)
    } else if per_second >= 1e3 {
        format!("{:.1} k/s", per_second / 1e3)
    } else {
        format!("{per_second:.0}/s")
    }
}

/// A latency as people read it: `412 µs`, `3.1 ms`, `1.20 s`.
pub fn latency(duration: Duration) -> String {
    let micros = duration.as_secs_f64() * 1e6;
    if micros < 1_000.0 {
        format!("{micros:.0} µs")
    } else if micros < 1_000_000.0 {
        format!("{:.2} ms", micros / 1e3)
    } else {
        format!("{:.2} s", micros / 1e6)
    }
}

/// Bytes as people read them: `1.52 GiB`, `310 MiB`, `12 KiB`.
pub fn bytes(count: u64) -> String {
    let value = float(count);
    if value >= 1024.0 * 1024.0 * 1024.0 {
        format!("{:.2} GiB", value / (1024.0 * 1024.0 * 1024.0))
    } else if value >= 1024.0 * 1024.0 {
        format!("{:.0} MiB", value / (1024.0 * 1024.0))
    } else {
        format!("{:.0} KiB", value / 1024.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let mut latencies = Latencies::new();
        for micros in (1..=100).rev() {
            latencies.record(Duration::from_micros(micros));
        }
        assert_eq!(latencies.percentile(50), Some(Duration::from_micros(50)));
        assert_eq!(latencies.percentile(99), Some(Duration::from_micros(99)));
        assert_eq!(latencies.percentile(100), Some(Duration::from_micros(100)));
        assert_eq!(latencies.percentile(0), Some(Duration::from_micros(1)));
        assert_eq!(Latencies::new().percentile(50), None);
    }

    #[test]
    fn human_units() {
        assert_eq!(rate(254_300.0), "254 k/s");
        assert_eq!(rate(1_234_000.0), "1.23 M/s");
        assert_eq!(rate(2_500.0), "2.5 k/s");
        assert_eq!(latency(Duration::from_micros(412)), "412 µs");
        assert_eq!(latency(Duration::from_micros(3_100)), "3.10 ms");
        assert_eq!(bytes(3 * 1024 * 1024 * 1024 / 2), "1.50 GiB");
        assert_eq!(float(u64::from(u32::MAX) + 1), 4_294_967_296.0);
    }
}
