//! Huffman decoding of JPEG's entropy-coded data (ISO 10918-1 Annex C and F.2.2), shared by
//! the crate's two fast paths: lossless ([`super::lossless`]) and sequential DCT
//! ([`super::sequential`]).

use crate::markers;

/// Bits looked up at once in a Huffman table: a code and its extra bits within them give
/// the coefficient or difference in one step; a code within them whose extra bits are not
/// gives its symbol, and a longer code takes the canonical decoding of F.2.2.3.
pub(super) const LOOKUP: u32 = 11;

/// What a table's symbols stand for, which decides how [`Huffman::whole`] is built.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Class {
    /// A category SSSS (DC tables, and the lossless processes' only tables): a difference
    /// of SSSS extra bits.
    Difference,
    /// RRRRSSSS (AC tables): a run of RRRR zero coefficients, then one of SSSS extra bits;
    /// SSSS 0 is a run of 16 zeros (ZRL, RRRR 15) or the end of the block (any other RRRR,
    /// as libjpeg reads it).
    Ac,
}

/// The run that marks the end of the block in an [`Class::Ac`] table's `whole` entry.
pub(super) const END_OF_BLOCK: i32 = 0xFF;

/// A Huffman table (C.2) with a lookup of the first [`LOOKUP`] bits.
pub(super) struct Huffman {
    /// For each value of the next LOOKUP bits: the code's length << 8 | its symbol, or 0
    /// when the code is longer.
    fast: Vec<u16>,
    /// For each value of the next LOOKUP bits that holds a whole code and its extra bits,
    /// what they decode to, otherwise 0. [`Class::Difference`]: the difference << 16 | the
    /// bits taken. [`Class::Ac`]: the coefficient << 16 | the run << 8 | the bits taken, the
    /// run being [`END_OF_BLOCK`] at the end of the block.
    pub whole: Vec<i32>,
    /// For codes longer than LOOKUP (F.2.2.3): the largest code of each length (-1: none),
    /// and what to add to a code of that length to index `symbols`.
    max_code: [i32; 17],
    offset: [i32; 17],
    symbols: Vec<u8>,
}

impl Huffman {
    /// The table of DHT's code counts per length and symbols; `None` when the counts
    /// overflow their lengths, a code of all ones included. Callers check what symbols their
    /// process allows.
    pub fn new(counts: &[u8; 16], symbols: &[u8], class: Class) -> Option<Huffman> {
        let mut table = Huffman {
            fast: vec![0; 1 << LOOKUP],
            whole: Vec::new(),
            max_code: [-1; 17],
            offset: [0; 17],
            symbols: symbols.to_vec(),
        };
        let (mut code, mut index) = (0u32, 0usize);
        for length in 1..=16u32 {
            let count = usize::from(counts[length as usize - 1]);
            if count > 0 {
                table.offset[length as usize] = index as i32 - code as i32;
                for &symbol in symbols.get(index..index + count)? {
                    // libjpeg refuses a code of all ones (jpeg_make_d_derived_tbl): the
                    // fast paths leave such a table to the crate.
                    if code + 1 >= 1 << length {
                        return None;
                    }
                    if length <= LOOKUP {
                        let spare = LOOKUP - length;
                        let first = (code << spare) as usize;
                        table.fast[first..first + (1 << spare)]
                            .fill((length as u16) << 8 | u16::from(symbol));
                    }
                    code += 1;
                }
                table.max_code[length as usize] = code as i32 - 1;
                index += count;
            }
            code <<= 1;
        }
        table.whole = (0..1u32 << LOOKUP)
            .map(|bits| {
                let entry = table.fast[bits as usize];
                let (length, symbol) = (u32::from(entry >> 8), u32::from(entry & 0xFF));
                let (run, size) = match class {
                    // Category 16 (lossless only) stands for 32768 with no bits: decoded
                    // the long way.
                    Class::Difference if symbol > 15 => return 0,
                    Class::Difference => (0, symbol),
                    Class::Ac => (symbol >> 4, symbol & 0x0F),
                };
                let taken = length + size;
                if entry == 0 || taken > LOOKUP {
                    return 0;
                }
                let value = match size {
                    0 => 0,
                    s => extend(bits >> (LOOKUP - taken) & ((1 << s) - 1), s),
                };
                let run = match (class, size, run) {
                    (Class::Ac, 0, 15) => 15,
                    (Class::Ac, 0, _) => END_OF_BLOCK,
                    _ => run as i32,
                };
                value << 16 | run << 8 | taken as i32
            })
            .collect();
        Some(table)
    }

    /// The next symbol, or `None` for bits that are no code of the table.
    #[inline(always)]
    pub fn decode(&self, bits: &mut Bits<'_>) -> Option<u32> {
        let peek = bits.peek16();
        let entry = self.fast[(peek >> (16 - LOOKUP)) as usize];
        if entry != 0 {
            bits.skip(u32::from(entry >> 8));
            return Some(u32::from(entry & 0xFF));
        }
        for length in LOOKUP + 1..=16 {
            let code = (peek >> (16 - length)) as i32;
            if code <= self.max_code[length as usize] {
                bits.skip(length);
                let index = code + self.offset[length as usize];
                return self.symbols.get(index as usize).map(|&s| u32::from(s));
            }
        }
        None
    }
}

/// One difference of a [`Class::Difference`] table: its category SSSS by Huffman code, then
/// SSSS bits (F.1.2.1.1, H.1.2.2); category 16 is 32768 with no bits.
#[inline(always)]
pub(super) fn difference(bits: &mut Bits<'_>, table: &Huffman) -> Option<i32> {
    let peek = bits.peek32();
    let whole = table.whole[(peek >> (32 - LOOKUP)) as usize];
    if whole != 0 {
        bits.skip((whole & 0xFF) as u32);
        return Some(whole >> 16);
    }
    Some(match table.decode(bits)? {
        0 => 0,
        16 => 32768,
        t => extend(bits.take(t), t),
    })
}

/// The value that `t` extra bits `v` stand for in category `t` (1..=15; F.2.2.1).
#[inline]
pub(super) fn extend(v: u32, t: u32) -> i32 {
    let v = v as i32;
    if v < 1 << (t - 1) {
        v - (1 << t) + 1
    } else {
        v
    }
}

/// The bits of entropy-coded data (F.2.2.5): FF 00 stands for FF, and any other FF xx is a
/// marker that ends the data; past it the reader supplies 0 bits and counts them.
pub(super) struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
    /// Unread bits, left-aligned.
    cache: u64,
    valid: u32,
    /// Whether the end (a marker or the end of `data`) has been reached.
    ended: bool,
    /// Bits of padding loaded after the end.
    padding: u32,
}

impl<'a> Bits<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Bits {
            data,
            pos: 0,
            cache: 0,
            valid: 0,
            ended: false,
            padding: 0,
        }
    }

    /// Loads bytes until more than 56 bits are valid.
    #[inline]
    fn fill(&mut self) {
        let taken = markers::load_unstuffed(self.data, self.pos, &mut self.cache, self.valid);
        if taken > 0 {
            self.valid += taken * 8;
            self.pos += taken as usize;
            return;
        }
        while self.valid <= 56 {
            let byte = match self.data.get(self.pos) {
                _ if self.ended => None,
                Some(0xFF) if self.data.get(self.pos + 1) == Some(&0) => {
                    self.pos += 2;
                    Some(0xFF)
                }
                Some(0xFF) | None => None,
                Some(&byte) => {
                    self.pos += 1;
                    Some(byte)
                }
            };
            let byte = byte.unwrap_or_else(|| {
                self.ended = true;
                self.padding += 8;
                0
            });
            self.cache |= u64::from(byte) << (56 - self.valid);
            self.valid += 8;
        }
    }

    /// The next 16 bits, not consumed.
    #[inline]
    pub fn peek16(&mut self) -> u32 {
        if self.valid < 16 {
            self.fill();
        }
        (self.cache >> 48) as u32
    }

    /// The next 32 bits, not consumed.
    #[inline]
    pub fn peek32(&mut self) -> u32 {
        if self.valid < 32 {
            self.fill();
        }
        (self.cache >> 32) as u32
    }

    /// Consumes `n` (at most 16) bits already peeked.
    #[inline]
    pub fn skip(&mut self, n: u32) {
        self.cache <<= n;
        self.valid -= n;
    }

    /// The next `n` bits, 1 <= n <= 16.
    #[inline]
    pub fn take(&mut self, n: u32) -> u32 {
        if self.valid < n {
            self.fill();
        }
        let value = (self.cache >> (64 - n)) as u32;
        self.skip(n);
        value
    }

    /// Whether bits past the end were consumed.
    pub fn overran(&self) -> bool {
        self.padding > self.valid
    }

    /// Drops what is left of this interval's bits (its padding) and goes past the marker
    /// that ends it (F.1.2.3), whose code it returns; `None` when the data ends first.
    pub fn restart(&mut self) -> Option<u8> {
        let mut at = self.pos;
        let code = loop {
            match self.data.get(at..at + 2)? {
                // Stuffed FF, or fill bytes before the marker.
                [0xFF, 0x00] => at += 2,
                [0xFF, 0xFF] => at += 1,
                [0xFF, code] => break *code,
                _ => at += 1,
            }
        };
        *self = Bits::new(self.data);
        self.pos = at + 2;
        Some(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(of_length: &[(usize, u8)]) -> [u8; 16] {
        let mut counts = [0; 16];
        for &(length, count) in of_length {
            counts[length - 1] = count;
        }
        counts
    }

    #[test]
    fn a_code_of_all_ones_is_refused_as_libjpeg_refuses_it() {
        // Two codes of one bit are "0" and "1"; libjpeg says JERR_BAD_HUFF_TABLE.
        assert!(Huffman::new(&counts(&[(1, 2)]), &[0, 1], Class::Difference).is_none());
        // Three of two bits and two of three: the last is 111.
        let symbols = [0, 1, 2, 3, 4];
        assert!(Huffman::new(&counts(&[(2, 3), (3, 2)]), &symbols, Class::Ac).is_none());
        // One fewer leaves 110 the longest code, and the table stands.
        let table = Huffman::new(&counts(&[(2, 3), (3, 1)]), &symbols[..4], Class::Ac);
        assert!(table.is_some());
        // One code of each length up to 15 and two of 16: the second is sixteen ones.
        let mut lengths: Vec<(usize, u8)> = (1..=15).map(|length| (length, 1)).collect();
        lengths.push((16, 2));
        let symbols: Vec<u8> = (0..17).collect();
        assert!(Huffman::new(&counts(&lengths), &symbols, Class::Ac).is_none());
        lengths[15].1 = 1;
        assert!(Huffman::new(&counts(&lengths), &symbols[..16], Class::Ac).is_some());
    }
}
