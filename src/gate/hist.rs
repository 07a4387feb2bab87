//! A fixed-size log-linear histogram of wait times in microseconds (four
//! buckets per power of two, so a percentile is off by at most 25%). Plain
//! integers: it lives in the shared mapping and is updated under the gate's
//! lock.

pub const BUCKETS: usize = 128;

#[repr(C)]
#[derive(Clone, Copy)]
pub struct Histogram {
    counts: [u64; BUCKETS],
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: [0; BUCKETS],
        }
    }
}

fn index(us: u64) -> usize {
    if us < 4 {
        return us as usize;
    }
    let e = 63 - us.leading_zeros() as usize; // floor(log2), >= 2
    let sub = ((us >> (e - 2)) & 3) as usize;
    (4 + (e - 2) * 4 + sub).min(BUCKETS - 1)
}

/// The largest value that falls into bucket `i`.
fn upper(i: usize) -> u64 {
    if i < 4 {
        return i as u64;
    }
    let e = (i - 4) / 4 + 2;
    let sub = ((i - 4) % 4) as u64;
    ((4 + sub) << (e - 2)) + (1u64 << (e - 2)) - 1
}

impl Histogram {
    pub fn record(&mut self, us: u64) {
        let i = index(us);
        self.counts[i] = self.counts[i].saturating_add(1);
    }

    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The value below which a fraction `q` (0..=1) of samples fall,
    /// rounded up to its bucket's upper bound; 0 without samples.
    pub fn quantile(&self, q: f64) -> u64 {
        let total = self.count();
        if total == 0 {
            return 0;
        }
        let want = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (i, c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= want {
                return upper(i);
            }
        }
        upper(BUCKETS - 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_values_in_order() {
        let mut last = 0;
        for v in [0u64, 1, 3, 4, 5, 7, 8, 100, 1000, 65_535, 1 << 30] {
            let i = index(v);
            assert!(i >= last, "{v}");
            assert!(upper(i) >= v, "{v} -> {}", upper(i));
            assert!(upper(i) <= v + v / 4 + 1, "{v} -> {}", upper(i));
            last = i;
        }
    }

    #[test]
    fn quantiles() {
        let mut h = Histogram::default();
        assert_eq!(h.quantile(0.5), 0);
        for v in 1..=100 {
            h.record(v * 10);
        }
        let p50 = h.quantile(0.5);
        assert!((500..=640).contains(&p50), "{p50}");
        let p99 = h.quantile(0.99);
        assert!((990..=1280).contains(&p99), "{p99}");
    }
}
