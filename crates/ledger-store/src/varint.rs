//! LEB128 unsigned integers: seven bits a byte, low bits first, the top bit set on every byte
//! but the last. The stream index's position deltas and the packed projection blocks' lengths
//! use them.

/// Reads one value at `*at` and moves past it; `None` when the bytes end first or the value
/// does not fit 64 bits.
pub(crate) fn read(bytes: &[u8], at: &mut usize) -> Option<u64> {
    let mut value = 0_u64;
    for shift in (0..64).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return Some(value);
        }
    }
    None
}

/// Appends `value` to `out`.
pub(crate) fn write(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(low_seven_bits(value) | 0x80);
        value >>= 7;
    }
    out.push(low_seven_bits(value));
}

/// How many bytes [`write`] takes for `value`.
pub(crate) fn len(value: u64) -> usize {
    let bits = 64 - (value | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

fn low_seven_bits(value: u64) -> u8 {
    (value & 0x7f).to_le_bytes()[0]
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn every_value_reads_back_in_its_stated_length(value in any::<u64>(), tail in any::<u8>()) {
            let mut bytes = Vec::new();
            super::write(&mut bytes, value);
            prop_assert_eq!(bytes.len(), super::len(value));
            bytes.push(tail);
            let mut at = 0;
            prop_assert_eq!(super::read(&bytes, &mut at), Some(value));
            prop_assert_eq!(at, super::len(value));
        }
    }

    #[test]
    fn a_value_cut_short_reads_as_none() {
        let mut bytes = Vec::new();
        super::write(&mut bytes, 300);
        let mut at = 0;
        assert_eq!(super::read(&bytes[..1], &mut at), None);
    }
}
