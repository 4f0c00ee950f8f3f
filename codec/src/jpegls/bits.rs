//! The bit reader of a JPEG-LS scan's entropy-coded data (T.87 A.1 and D.1).
//!
//! Bits are read most significant first. After a byte FF the coder inserts a 0 bit, so the
//! byte that follows carries 7 bits of data (its top bit, which keeps FF 80..FF FF free
//! for markers, is dropped). Past the end of the data the reader supplies 0 bits and keeps
//! count, so a scan cut short is seen ([`BitReader::overran`]) rather than read out of
//! bounds.

pub(super) struct BitReader<'a> {
    data: &'a [u8],
    /// Next byte of `data` to load.
    pos: usize,
    /// Unread bits, left-aligned: the next bit is the top one.
    cache: u64,
    /// How many of `cache`'s bits are valid.
    valid: u32,
    /// Whether the last byte loaded was FF.
    after_ff: bool,
    /// Bytes of 0 bits supplied past the end of `data`.
    padding: usize,
}

impl<'a> BitReader<'a> {
    pub(super) fn new(data: &'a [u8]) -> Self {
        BitReader {
            data,
            pos: 0,
            cache: 0,
            valid: 0,
            after_ff: false,
            padding: 0,
        }
    }

    /// Loads whole bytes until more than 56 bits are valid.
    #[inline]
    fn fill(&mut self) {
        // After an FF the next byte carries 7 bits, which only the bytewise path knows.
        if !self.after_ff {
            let taken =
                crate::markers::load_unstuffed(self.data, self.pos, &mut self.cache, self.valid);
            if taken > 0 {
                self.valid += taken * 8;
                self.pos += taken as usize;
                return;
            }
        }
        self.fill_slow();
    }

    /// [`fill`](Self::fill) a byte at a time, for stuffed bytes and the end of the data.
    fn fill_slow(&mut self) {
        while self.valid <= 56 {
            let (value, width) = match self.data.get(self.pos) {
                Some(&byte) => {
                    self.pos += 1;
                    let loaded = if self.after_ff {
                        (byte & 0x7F, 7)
                    } else {
                        (byte, 8)
                    };
                    self.after_ff = byte == 0xFF;
                    loaded
                }
                None => {
                    self.padding += 1;
                    (0, 8)
                }
            };
            self.cache |= u64::from(value) << (64 - self.valid - width);
            self.valid += width;
        }
    }

    /// The next `n` bits (at most 32) as a number.
    #[inline]
    pub(super) fn bits(&mut self, n: u32) -> u32 {
        debug_assert!(n <= 32);
        if n == 0 {
            return 0;
        }
        if self.valid < n {
            self.fill();
        }
        let value = (self.cache >> (64 - n)) as u32;
        self.cache <<= n;
        self.valid -= n;
        value
    }

    /// The next bit.
    #[inline]
    pub(super) fn bit(&mut self) -> bool {
        self.bits(1) == 1
    }

    /// Counts the 0 bits before the next 1 bit, and consumes them and the 1 bit; `None`
    /// when there are more than `max` of them (nothing sensible is left to read then).
    #[inline]
    pub(super) fn zeros(&mut self, max: u32) -> Option<u32> {
        let mut count: u32 = 0;
        loop {
            if self.valid == 0 {
                self.fill();
            }
            let run = self.cache.leading_zeros();
            if run < self.valid {
                count = count.checked_add(run).filter(|&c| c <= max)?;
                // run + 1 <= 64; a shift by 64 empties the cache.
                self.cache = self.cache.checked_shl(run + 1).unwrap_or(0);
                self.valid -= run + 1;
                return Some(count);
            }
            count = count.saturating_add(self.valid);
            self.cache = 0;
            self.valid = 0;
            if count > max {
                return None;
            }
        }
    }

    /// Whether bits past the end of the data have been consumed: the scan was cut short
    /// (or is corrupt).
    pub(super) fn overran(&self) -> bool {
        self.padding as u64 * 8 > u64::from(self.valid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The data's bits as the reader must give them, one byte at a time (A.1): the stuffed
    /// bit after FF dropped, then 0s without end.
    fn model(data: &[u8]) -> impl Iterator<Item = bool> + '_ {
        let mut after_ff = false;
        data.iter()
            .flat_map(move |&byte| {
                let width = if after_ff { 7 } else { 8 };
                after_ff = byte == 0xFF;
                (0..width).rev().map(move |i| byte >> i & 1 == 1)
            })
            .chain(std::iter::repeat(false))
    }

    proptest! {
        /// The whole-word loads give the same bits as the byte-at-a-time model, whatever
        /// mix of reads and wherever the FF bytes fall.
        #[test]
        fn loads_agree_with_the_bytewise_model(
            data in prop::collection::vec(prop_oneof![15 => any::<u8>(), 1 => Just(0xFFu8)], 0..160),
            widths in prop::collection::vec(0u32..=32, 1..80),
        ) {
            let mut reader = BitReader::new(&data);
            let mut expected = model(&data);
            for n in widths {
                let want = (0..n).fold(0u32, |v, _| v << 1 | u32::from(expected.next().unwrap()));
                prop_assert_eq!(reader.bits(n), want);
            }
        }
    }

    #[test]
    fn reads_msb_first_and_drops_the_stuffed_bit() {
        // FF then 0x55: the 0x55's top bit (0) is the stuffed one.
        let mut r = BitReader::new(&[0xA5, 0xFF, 0x55, 0x80]);
        assert_eq!(r.bits(4), 0xA);
        assert_eq!(r.bits(4), 0x5);
        assert_eq!(r.bits(8), 0xFF);
        assert_eq!(r.bits(7), 0x55);
        assert!(r.bit());
        assert_eq!(r.zeros(10), None);
        assert!(r.overran());
    }

    #[test]
    fn counts_zeros_across_bytes() {
        let mut r = BitReader::new(&[0x00, 0x00, 0x01, 0x40]);
        assert_eq!(r.zeros(100), Some(23));
        assert_eq!(r.zeros(100), Some(1));
        assert!(!r.overran());
        assert_eq!(r.bits(6), 0);
        assert!(!r.overran());
        assert_eq!(r.bits(1), 0);
        assert!(r.overran());
    }
}
