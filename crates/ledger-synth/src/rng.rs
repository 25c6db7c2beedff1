//! The generator's only source of randomness: a seeded xoshiro256++ and the few distributions
//! the world needs, written with nothing but IEEE basic arithmetic so that the same seed gives
//! the same bytes on every machine.
//!
//! Why not the `rand` crate: its distributions (`random_range`, float sampling) are allowed to
//! change their output between minor releases, and `f64::ln`/`exp` come from the platform's
//! libm, whose last bit differs between glibc, musl and macOS. A seeded history that changes
//! with a `cargo update` or a CI image would make fixtures and benchmarks incomparable, so
//! the algorithm is fixed here, in one small file. Addition, multiplication, division and
//! square root are correctly rounded everywhere (and Rust never fuses them into FMA on its
//! own), so [`exp`] and [`ln`] below are portable bit for bit.

/// SplitMix64: expands one 64-bit seed into the 256-bit state of xoshiro (its authors'
/// recommended seeding) and derives independent sub-seeds.
fn split_mix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// xoshiro256++ (Blackman and Vigna, 2019): fast, 256 bits of state, passes BigCrush.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: [u64; 4],
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        let mut mixer = seed;
        let state = [
            split_mix(&mut mixer),
            split_mix(&mut mixer),
            split_mix(&mut mixer),
            split_mix(&mut mixer),
        ];
        Self { state }
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        let [s0, s1, s2, s3] = self.state;
        let result = s0.wrapping_add(s3).rotate_left(23).wrapping_add(s0);
        let t = s1 << 17;
        let mut next = [s0, s1, s2 ^ s0, s3 ^ s1];
        next[1] ^= next[2];
        next[0] ^= next[3];
        next[2] ^= t;
        next[3] = next[3].rotate_left(45);
        self.state = next;
        result
    }

    /// A uniform float in [0, 1) with 52 random bits: the bits are placed in the mantissa of a
    /// number in [1, 2), which needs no integer-to-float conversion.
    pub(crate) fn unit(&mut self) -> f64 {
        f64::from_bits(0x3FF0_0000_0000_0000 | (self.next_u64() >> 12)) - 1.0
    }

    /// Uniform in `0..bound` (`bound` > 0), by Lemire's multiply-and-reject, so no value is
    /// favoured whatever the bound.
    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        assert!(bound > 0, "below(0) has no value to return");
        let threshold = bound.wrapping_neg() % bound;
        loop {
            let product = u128::from(self.next_u64()) * u128::from(bound);
            let low = u64::try_from(product & u128::from(u64::MAX)).unwrap_or(u64::MAX);
            if low >= threshold {
                return u64::try_from(product >> 64).unwrap_or(u64::MAX);
            }
        }
    }

    /// Uniform in `low..=high`.
    pub(crate) fn range(&mut self, low: i64, high: i64) -> i64 {
        assert!(low <= high, "range({low}, {high}) is empty");
        let width = u64::try_from(i128::from(high) - i128::from(low) + 1).unwrap_or(u64::MAX);
        let offset = i64::try_from(self.below(width)).unwrap_or(i64::MAX);
        low.saturating_add(offset)
    }

    /// An index into a slice of `length` items.
    pub(crate) fn index(&mut self, length: usize) -> usize {
        let bound = u64::try_from(length).unwrap_or(u64::MAX);
        usize::try_from(self.below(bound)).unwrap_or(0)
    }

    pub(crate) fn chance(&mut self, probability: f64) -> bool {
        self.unit() < probability
    }

    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.index(items.len())]
    }

    /// An index chosen with the given relative weights (at least one must be positive).
    pub(crate) fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        let mut target = self.unit() * total;
        for (index, weight) in weights.iter().enumerate() {
            if target < *weight {
                return index;
            }
            target -= weight;
        }
        weights.len() - 1
    }

    /// The index of an item of `items` chosen by the weight `weight` gives it.
    pub(crate) fn weighted_by<T>(&mut self, items: &[T], weight: impl Fn(&T) -> f64) -> usize {
        let total: f64 = items.iter().map(&weight).sum();
        let mut target = self.unit() * total;
        for (index, item) in items.iter().enumerate() {
            let item_weight = weight(item);
            if target < item_weight {
                return index;
            }
            target -= item_weight;
        }
        items.len() - 1
    }

    /// The item of a `(item, weight)` table chosen by weight.
    pub(crate) fn weighted_pick<T: Copy>(&mut self, table: &[(T, f64)]) -> T {
        let total: f64 = table.iter().map(|(_, weight)| weight).sum();
        let mut target = self.unit() * total;
        for (item, weight) in table {
            if target < *weight {
                return *item;
            }
            target -= weight;
        }
        table[table.len() - 1].0
    }

    /// Approximately standard normal: the Irwin–Hall sum of twelve uniforms minus six. Its
    /// tails stop at ±6, which suits synthetic data (no 9-sigma premiums), and it needs no
    /// transcendental function.
    pub(crate) fn normal(&mut self) -> f64 {
        (0..12).map(|_| self.unit()).sum::<f64>() - 6.0
    }

    /// Log-normal with the given median and log-scale spread.
    pub(crate) fn log_normal(&mut self, median: f64, sigma: f64) -> f64 {
        median * exp(sigma * self.normal())
    }

    /// Pareto with scale `minimum` and shape `alpha`, truncated at `maximum` by resampling
    /// from the distribution's own inverse over the truncated range.
    pub(crate) fn pareto(&mut self, minimum: f64, alpha: f64, maximum: f64) -> f64 {
        // Inverse CDF of the truncated Pareto: F(x) = (1 - (m/x)^a) / (1 - (m/M)^a).
        let tail = exp(alpha * ln(minimum / maximum));
        let u = self.unit() * (1.0 - tail);
        minimum * exp(-ln(1.0 - u) / alpha)
    }

    /// Exponential with the given mean.
    pub(crate) fn exponential(&mut self, mean: f64) -> f64 {
        -mean * ln(1.0 - self.unit())
    }

    /// Sixteen random bytes (for v7 UUID payloads).
    pub(crate) fn bytes16(&mut self) -> [u8; 16] {
        let high = self.next_u64().to_be_bytes();
        let low = self.next_u64().to_be_bytes();
        let mut bytes = [0; 16];
        bytes[..8].copy_from_slice(&high);
        bytes[8..].copy_from_slice(&low);
        bytes
    }
}

/// ln 2, as the nearest f64.
const LN_2: f64 = std::f64::consts::LN_2;

/// e^x from basic arithmetic: x = k·ln 2 + r with |r| ≤ ln 2 / 2, a 16-term Taylor series for
/// e^r (error below 1e-16 there), then the exponent of the result is raised by k. Arguments
/// beyond ±700 saturate (no synthetic quantity gets near).
pub(crate) fn exp(x: f64) -> f64 {
    if x.is_nan() {
        return f64::NAN;
    }
    let x = x.clamp(-700.0, 700.0);
    let k = (x / LN_2).round();
    let r = x - k * LN_2;
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 1..=16 {
        term *= r / f64::from(n);
        sum += term;
    }
    let k = round_to_i64(k).unwrap_or(0);
    scale_by_power_of_two(sum, k)
}

/// The natural logarithm from basic arithmetic: x = m·2^e with m in [√½, √2), then
/// ln m = 2·atanh((m−1)/(m+1)) as an odd series (|z| ≤ 0.172, so 20 terms are exact to the last
/// bit that matters). Non-positive arguments give −∞ as `f64::ln` does.
pub(crate) fn ln(x: f64) -> f64 {
    if x.is_nan() || x < 0.0 {
        return f64::NAN;
    }
    if x == 0.0 {
        return f64::NEG_INFINITY;
    }
    if x.is_infinite() {
        return f64::INFINITY;
    }
    let (mut mantissa, mut exponent) = split_exponent(x);
    if mantissa > std::f64::consts::SQRT_2 {
        mantissa /= 2.0;
        exponent += 1;
    }
    let z = (mantissa - 1.0) / (mantissa + 1.0);
    let z2 = z * z;
    let mut power = z;
    let mut sum = 0.0;
    for n in 0..20 {
        sum += power / f64::from(2 * n + 1);
        power *= z2;
    }
    2.0 * sum + f64::from(exponent) * LN_2
}

/// Splits a positive, finite x into m in [1, 2) and e with x = m·2^e (subnormals are
/// normalised first).
fn split_exponent(x: f64) -> (f64, i32) {
    let (x, bias) = if x < f64::MIN_POSITIVE {
        (x * 2f64.powi(64), -64)
    } else {
        (x, 0)
    };
    let bits = x.to_bits();
    let biased = i32::try_from((bits >> 52) & 0x7FF).unwrap_or(1023);
    let mantissa = f64::from_bits((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000);
    (mantissa, biased - 1023 + bias)
}

/// value · 2^k, by halving or doubling in steps that stay exact.
fn scale_by_power_of_two(value: f64, k: i64) -> f64 {
    let mut result = value;
    let mut remaining = k;
    while remaining > 0 {
        let step = remaining.min(1000);
        result *= 2f64.powi(i32::try_from(step).unwrap_or(0));
        remaining -= step;
    }
    while remaining < 0 {
        let step = remaining.max(-1000);
        result *= 2f64.powi(i32::try_from(step).unwrap_or(0));
        remaining -= step;
    }
    result
}

/// Rounds `value` to the nearest integer, halves away from zero (`f64::round`), and returns
/// it as an `i64`; `None` for NaN, infinities and magnitudes of 2^62 or more.
///
/// The workspace denies lossy `as` casts and std has no `TryFrom<f64>` for integers, so the
/// conversion reads the integer straight out of the float's bits: a rounded float below 2^62
/// is `mantissa · 2^(exponent − 52)` exactly, with no fraction left to lose.
pub(crate) fn round_to_i64(value: f64) -> Option<i64> {
    let rounded = value.round();
    if !rounded.is_finite() || rounded.abs() >= 4_611_686_018_427_387_904.0 {
        return None;
    }
    if rounded == 0.0 {
        return Some(0);
    }
    let bits = rounded.to_bits();
    let exponent = i64::try_from((bits >> 52) & 0x7FF).ok()? - 1075;
    let mantissa = (bits & 0x000F_FFFF_FFFF_FFFF) | 0x0010_0000_0000_0000;
    let magnitude = if exponent >= 0 {
        mantissa << u32::try_from(exponent).ok()?
    } else {
        mantissa >> u32::try_from(-exponent).ok()?
    };
    let magnitude = i64::try_from(magnitude).ok()?;
    Some(if rounded < 0.0 { -magnitude } else { magnitude })
}

/// [`round_to_i64`] clamped into `low..=high` (NaN gives `low`): for counts, amounts and
/// offsets drawn from a distribution whose range the caller knows.
pub(crate) fn round_clamped(value: f64, low: i64, high: i64) -> i64 {
    round_to_i64(value)
        .unwrap_or(if value > 0.0 { high } else { low })
        .clamp(low, high)
}

/// An `i64` as the nearest `f64` (exact below 2^53): the high and low 32-bit halves each
/// convert losslessly, and one multiplication and one addition join them.
pub(crate) fn to_f64(value: i64) -> f64 {
    let high = i32::try_from(value >> 32).expect("an i64 shifted right by 32 fits in i32");
    let low = u32::try_from(value & 0xFFFF_FFFF).expect("masked to 32 bits");
    f64::from(high) * 4_294_967_296.0 + f64::from(low)
}

/// An `f64` for a count (exact below 2^32, which every count here is).
pub(crate) fn float(count: impl TryInto<u32>) -> f64 {
    f64::from(count.try_into().unwrap_or(u32::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_is_fixed_for_a_seed() {
        // The first outputs for seed 0 are part of the contract: changing them changes every
        // synthetic history ever generated.
        let mut rng = Rng::new(0);
        let first: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        let mut again = Rng::new(0);
        assert_eq!(first, (0..3).map(|_| again.next_u64()).collect::<Vec<_>>());
        assert_ne!(Rng::new(1).next_u64(), first[0]);
    }

    #[test]
    fn portable_exp_and_ln_agree_with_the_platform() {
        for x in [-20.0, -3.5, -1.0, -0.1, 0.0, 0.3, 1.0, 2.5, 10.0, 50.0] {
            let ours = exp(x);
            assert!(
                (ours - x.exp()).abs() <= 1e-13 * x.exp(),
                "exp({x}) = {ours}"
            );
        }
        for x in [
            1e-300, 1e-5, 0.2, 0.5, 0.7, 1.0, 1.5, 2.0, 10.0, 12345.678, 1e300,
        ] {
            let ours = ln(x);
            assert!(
                (ours - x.ln()).abs() <= 1e-13 * x.ln().abs().max(1.0),
                "ln({x}) = {ours}"
            );
        }
        assert_eq!(ln(0.0), f64::NEG_INFINITY);
    }

    #[test]
    fn rounding_to_integers_follows_the_documented_rule() {
        assert_eq!(round_to_i64(2.5), Some(3));
        assert_eq!(round_to_i64(-2.5), Some(-3));
        assert_eq!(round_to_i64(2.4999), Some(2));
        assert_eq!(round_to_i64(0.2), Some(0));
        assert_eq!(round_to_i64(-0.2), Some(0));
        assert_eq!(round_to_i64(123_456_789_012.0), Some(123_456_789_012));
        assert_eq!(
            round_to_i64(-9_007_199_254_740_993.0),
            Some(-9_007_199_254_740_992)
        );
        assert_eq!(round_to_i64(f64::NAN), None);
        assert_eq!(round_to_i64(1e19), None);
        assert_eq!(round_clamped(1e30, 0, 10), 10);
        assert_eq!(round_clamped(f64::NAN, 0, 10), 0);
        for value in [
            0,
            1,
            -1,
            4_294_967_296,
            -4_294_967_297,
            123_456_789_012_345,
            -(1 << 61),
        ] {
            assert_eq!(round_to_i64(to_f64(value)), Some(value), "{value}");
        }
    }

    #[test]
    fn distributions_have_their_shape() {
        let mut rng = Rng::new(42);
        let n = 20_000;
        let mean: f64 = (0..n).map(|_| rng.unit()).sum::<f64>() / float(n);
        assert!((mean - 0.5).abs() < 0.01, "{mean}");
        let exponential: f64 = (0..n).map(|_| rng.exponential(2.0)).sum();
        assert!((exponential / float(n) - 2.0).abs() < 0.1, "{exponential}");
        let counts = (0..n).fold([0u32; 3], |mut counts, _| {
            counts[rng.weighted(&[1.0, 2.0, 7.0])] += 1;
            counts
        });
        assert!(counts[2] > counts[1] && counts[1] > counts[0], "{counts:?}");
        for _ in 0..1_000 {
            let x = rng.pareto(3.0, 1.2, 500.0);
            assert!((3.0..=500.0).contains(&x), "{x}");
            assert!((5..=10).contains(&rng.range(5, 10)));
        }
    }
}
