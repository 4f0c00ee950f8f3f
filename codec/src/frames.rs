//! Encapsulated Pixel Data (PS3.5 A.4): the Basic Offset Table, the fragments, and which
//! fragments make up which frame.

use std::borrow::Cow;
use std::ops::Range;

use crate::{Codec, CodecError};

const ITEM: [u8; 4] = [0xFE, 0xFF, 0x00, 0xE0];
const SEQUENCE_DELIMITER: [u8; 4] = [0xFE, 0xFF, 0xDD, 0xE0];

/// One fragment: its item's offset, counted like Basic Offset Table entries from the first
/// byte of the first fragment item after the table, and its value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Fragment<'a> {
    pub offset: u64,
    pub data: &'a [u8],
}

/// The items of encapsulated Pixel Data.
#[derive(Debug)]
pub(crate) struct Encapsulated<'a> {
    /// The Basic Offset Table item's value (empty when the table is).
    pub offset_table: &'a [u8],
    pub fragments: Vec<Fragment<'a>>,
}

/// The fragments of one frame.
#[derive(Debug)]
pub(crate) struct Frame<'a>(pub &'a [Fragment<'a>]);

impl<'a> Frame<'a> {
    /// The frame's stream: the fragment's value, or the fragments' values joined (a stream
    /// split over fragments is one byte sequence, PS3.5 A.4).
    pub fn bytes(&self) -> Cow<'a, [u8]> {
        match self.0 {
            [one] => Cow::Borrowed(one.data),
            many => Cow::Owned(many.iter().flat_map(|f| f.data.iter().copied()).collect()),
        }
    }
}

/// Reads the items of encapsulated Pixel Data: `value` runs from just past the Pixel Data
/// header to the end of its sequence delimiter (as the core's walker has checked).
pub(crate) fn parse(value: &[u8]) -> Result<Encapsulated<'_>, String> {
    let mut pos = 0usize;
    let mut items: Vec<(usize, &[u8])> = Vec::new();
    loop {
        let header = value
            .get(pos..pos + 8)
            .ok_or_else(|| format!("item header at {pos} runs past the data"))?;
        let length = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
        if header[..4] == SEQUENCE_DELIMITER {
            break;
        }
        if header[..4] != ITEM {
            return Err(format!("expected an item at {pos}"));
        }
        let data = (pos + 8)
            .checked_add(length)
            .and_then(|end| value.get(pos + 8..end))
            .ok_or_else(|| format!("item at {pos} runs past the data"))?;
        items.push((pos, data));
        pos += 8 + length;
    }
    let mut items = items.into_iter();
    let (_, offset_table) = items
        .next()
        .ok_or("no Basic Offset Table item before the sequence delimiter")?;
    let mut first = None;
    let fragments = items
        .map(|(pos, data)| {
            let base = *first.get_or_insert(pos);
            Fragment {
                offset: (pos - base) as u64,
                data,
            }
        })
        .collect();
    Ok(Encapsulated {
        offset_table,
        fragments,
    })
}

/// Groups the fragments into `frames` frames (PS3.5 A.4): by the Basic Offset Table when it
/// is not empty, else by the Extended Offset Table (`extended`, the (7FE0,0001) value), else
/// one fragment per frame when the counts match, else all fragments as one frame when there
/// is one frame, else a new frame at each fragment that starts with the codec's start marker.
/// An offset table that does not fit the fragments is passed over for the next rule:
/// writers get them wrong and the later rules still find well-formed frames.
pub(crate) fn split<'a>(
    enc: &'a Encapsulated<'a>,
    frames: u32,
    extended: Option<&[u8]>,
    codec: Codec,
) -> Result<Vec<Frame<'a>>, CodecError> {
    let fragments = &enc.fragments;
    let error = |detail: String| CodecError::Frames {
        frames,
        fragments: fragments.len(),
        detail,
    };
    if fragments.is_empty() {
        return Err(error("Pixel Data has no fragments".into()));
    }
    let wanted = frames as usize;
    let frame = |range: Range<usize>| Frame(&fragments[range]);

    let tables = [
        offsets::<4>(enc.offset_table),
        extended.map(offsets::<8>).unwrap_or_default(),
    ];
    for table in tables.iter().filter(|t| !t.is_empty()) {
        if let Some(ranges) = ranges_at_offsets(fragments, table, wanted) {
            return Ok(ranges.into_iter().map(frame).collect());
        }
    }
    if fragments.len() == wanted {
        return Ok((0..wanted).map(|i| frame(i..i + 1)).collect());
    }
    if wanted == 1 {
        return Ok(vec![frame(0..fragments.len())]);
    }
    let markers = codec.start_markers();
    if markers.is_empty() {
        return Err(error(format!(
            "{codec} needs one fragment per frame or an offset table"
        )));
    }
    let starts: Vec<usize> = (0..fragments.len())
        .filter(|&i| markers.iter().any(|m| fragments[i].data.starts_with(m)))
        .collect();
    if starts.first() != Some(&0) || starts.len() != wanted {
        return Err(error(format!(
            "{} fragment(s) start a {codec} stream and the first {} one",
            starts.len(),
            if starts.first() == Some(&0) {
                "is"
            } else {
                "is not"
            }
        )));
    }
    Ok(starts_to_ranges(&starts, fragments.len())
        .into_iter()
        .map(frame)
        .collect())
}

/// The little-endian offsets of an offset table with `N`-byte entries; empty when the table
/// is empty or not a whole number of entries.
fn offsets<const N: usize>(table: &[u8]) -> Vec<u64> {
    if !table.len().is_multiple_of(N) {
        return Vec::new();
    }
    table
        .chunks_exact(N)
        .map(|c| c.iter().rev().fold(0u64, |v, b| (v << 8) | u64::from(*b)))
        .collect()
}

/// Fragment ranges for frames starting at `table`'s offsets, if there is one offset per frame,
/// the first is the first fragment, and each names a later fragment than the one before.
fn ranges_at_offsets(
    fragments: &[Fragment<'_>],
    table: &[u64],
    wanted: usize,
) -> Option<Vec<Range<usize>>> {
    if table.len() != wanted {
        return None;
    }
    let starts = table
        .iter()
        .map(|&offset| fragments.binary_search_by_key(&offset, |f| f.offset).ok())
        .collect::<Option<Vec<usize>>>()?;
    if starts.first() != Some(&0) || starts.windows(2).any(|w| w[0] >= w[1]) {
        return None;
    }
    Some(starts_to_ranges(&starts, fragments.len()))
}

fn starts_to_ranges(starts: &[usize], count: usize) -> Vec<Range<usize>> {
    starts
        .iter()
        .enumerate()
        .map(|(i, &start)| start..starts.get(i + 1).copied().unwrap_or(count))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(value: &[u8]) -> Vec<u8> {
        let mut v = ITEM.to_vec();
        v.extend_from_slice(&(value.len() as u32).to_le_bytes());
        v.extend_from_slice(value);
        v
    }

    fn encapsulated(table: &[u8], fragments: &[&[u8]]) -> Vec<u8> {
        let mut v = item(table);
        for f in fragments {
            v.extend(item(f));
        }
        v.extend_from_slice(&SEQUENCE_DELIMITER);
        v.extend_from_slice(&[0; 4]);
        v
    }

    fn lens(frames: &[Frame<'_>]) -> Vec<usize> {
        frames.iter().map(|f| f.0.len()).collect()
    }

    const SOI: &[u8] = &[0xFF, 0xD8, 0, 0];
    const MID: &[u8] = &[1, 2, 3, 4];

    #[test]
    fn basic_offset_table_groups_fragments() {
        // Fragments of 4 bytes: items 12 bytes apart; frames start at fragments 0 and 2.
        let table: Vec<u8> = [0u32, 24].iter().flat_map(|o| o.to_le_bytes()).collect();
        let value = encapsulated(&table, &[SOI, MID, SOI]);
        let enc = parse(&value).unwrap();
        let frames = split(&enc, 2, None, Codec::Jpeg).unwrap();
        assert_eq!(lens(&frames), [2, 1]);
        assert_eq!(frames[0].bytes().len(), 8);
    }

    #[test]
    fn a_bad_table_falls_back_to_markers() {
        let table: Vec<u8> = [0u32, 7].iter().flat_map(|o| o.to_le_bytes()).collect();
        let value = encapsulated(&table, &[SOI, MID, MID, SOI]);
        let enc = parse(&value).unwrap();
        assert_eq!(lens(&split(&enc, 2, None, Codec::Jpeg).unwrap()), [3, 1]);
    }

    #[test]
    fn extended_offset_table_when_the_basic_one_is_empty() {
        let value = encapsulated(&[], &[SOI, MID, SOI]);
        let enc = parse(&value).unwrap();
        let eot: Vec<u8> = [0u64, 12].iter().flat_map(|o| o.to_le_bytes()).collect();
        assert_eq!(
            lens(&split(&enc, 2, Some(&eot), Codec::Jpeg2000).unwrap()),
            [1, 2]
        );
    }

    #[test]
    fn counts_and_single_frames() {
        let value = encapsulated(&[], &[MID, MID, MID]);
        let enc = parse(&value).unwrap();
        assert_eq!(lens(&split(&enc, 3, None, Codec::Rle).unwrap()), [1, 1, 1]);
        assert_eq!(lens(&split(&enc, 1, None, Codec::Rle).unwrap()), [3]);
        let err = split(&enc, 2, None, Codec::Rle).unwrap_err();
        assert!(
            matches!(
                err,
                CodecError::Frames {
                    frames: 2,
                    fragments: 3,
                    ..
                }
            ),
            "{err}"
        );
        let err = split(&enc, 2, None, Codec::Jpeg).unwrap_err();
        assert!(err.to_string().contains("is not"), "{err}");
    }

    #[test]
    fn broken_items_are_errors() {
        assert!(parse(&[]).is_err());
        assert!(parse(&SEQUENCE_DELIMITER).is_err());
        let mut value = encapsulated(&[], &[MID]);
        value.truncate(value.len() - 9);
        assert!(parse(&value).is_err());
        let value = encapsulated(&[], &[]);
        let enc = parse(&value).unwrap();
        assert!(split(&enc, 1, None, Codec::Jpeg).is_err());
    }
}
