//! The standard's data dictionary (PS3.6, PS3.7): tag ↔ keyword ↔ VR.
//!
//! The table is generated from DCMTK's `dicom.dic` (itself generated from the standard) by
//! `core/gen/dictionary.py`, never typed by hand; see that script for the choices made:
//! retired keywords without DCMTK's `RETIRED_` prefix, repeating groups (50xx, 60xx, 7Fxx) kept
//! once at their base group, and DCMTK's pseudo-VRs (US or SS, OB or OW, …) resolved to the VR
//! an Implicit VR reader must assume, with [`Entry::ambiguous_vr`] set.
//!
//! ```
//! use dimse_core::dataset::{dictionary, Tag, Vr};
//!
//! let e = dictionary::by_keyword("StudyInstanceUID").unwrap();
//! assert_eq!((e.tag, e.vr), (Tag(0x0020, 0x000D), Vr::UI));
//! assert_eq!(dictionary::by_tag(Tag(0x0010, 0x0020)).unwrap().keyword, "PatientID");
//! // Repeating groups: Overlay Data of the second overlay plane.
//! assert_eq!(dictionary::by_tag(Tag(0x6002, 0x3000)).unwrap().keyword, "OverlayData");
//! // Rules beyond the table: group lengths and private creators.
//! assert_eq!(dictionary::vr_of(Tag(0x0009, 0x0010)), Vr::LO);
//! assert_eq!(dictionary::vr_of(Tag(0x0009, 0x1001)), Vr::UN);
//! ```

use super::{Tag, Vr};

#[path = "dictionary_table.rs"]
mod table;

const RETIRED: u8 = 1;
const REPEATING: u8 = 2;
const AMBIGUOUS_VR: u8 = 4;

/// One data element of the dictionary.
///
/// ```
/// let e = dimse_core::dataset::dictionary::by_keyword("PatientName").unwrap();
/// assert!(!e.retired() && !e.ambiguous_vr());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// The tag; for a repeating-group element, the tag in its base group (5000, 6000, 7F00).
    pub tag: Tag,
    /// The VR; where the standard allows several (US or SS, OB or OW), the one Implicit VR
    /// readers assume (see [`Entry::ambiguous_vr`]).
    pub vr: Vr,
    /// The standard's keyword (PS3.6 column "Keyword").
    pub keyword: &'static str,
    flags: u8,
}

impl Entry {
    /// Whether the standard has retired the element.
    pub fn retired(&self) -> bool {
        self.flags & RETIRED != 0
    }

    /// Whether the element repeats over the even groups `gg00`–`ggFF` of its base group.
    pub fn repeating(&self) -> bool {
        self.flags & REPEATING != 0
    }

    /// Whether the standard allows more than one VR (US or SS, OB or OW, …), [`Entry::vr`]
    /// being the one chosen when nothing says otherwise.
    pub fn ambiguous_vr(&self) -> bool {
        self.flags & AMBIGUOUS_VR != 0
    }
}

/// Every entry of the dictionary, sorted by tag.
pub fn entries() -> &'static [Entry] {
    &table::ENTRIES
}

/// The entry of `tag`, also for any group of a repeating-group element; `None` for tags the
/// standard does not define (private ones, group lengths other than those it lists).
pub fn by_tag(tag: Tag) -> Option<&'static Entry> {
    let find = |t: Tag| {
        table::ENTRIES
            .binary_search_by(|e| e.tag.cmp(&t))
            .ok()
            .map(|i| &table::ENTRIES[i])
    };
    if let Some(e) = find(tag) {
        return Some(e);
    }
    let base = tag.0 & 0xFF00;
    if tag.0 % 2 == 0 && matches!(base, 0x5000 | 0x6000 | 0x7F00) {
        return find(Tag(base, tag.1)).filter(|e| e.repeating());
    }
    None
}

/// The entry whose keyword is `keyword` (exact, case-sensitive, as in PS3.6).
pub fn by_keyword(keyword: &str) -> Option<&'static Entry> {
    table::BY_KEYWORD
        .binary_search_by(|&i| table::ENTRIES[usize::from(i)].keyword.cmp(keyword))
        .ok()
        .map(|i| &table::ENTRIES[usize::from(table::BY_KEYWORD[i])])
}

/// The VR to assume for `tag` when none is written (Implicit VR): the dictionary's, UL for
/// group lengths (gggg,0000), LO for private creators (odd gggg, 0010–00FF), UN otherwise.
pub fn vr_of(tag: Tag) -> Vr {
    if let Some(e) = by_tag(tag) {
        return e.vr;
    }
    if tag.1 == 0 {
        Vr::UL
    } else if tag.is_private() && (0x0010..=0x00FF).contains(&tag.1) {
        Vr::LO
    } else {
        Vr::UN
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_are_sorted_and_consistent() {
        assert!(table::ENTRIES.windows(2).all(|w| w[0].tag < w[1].tag));
        let kw: Vec<&str> = table::BY_KEYWORD
            .iter()
            .map(|&i| table::ENTRIES[usize::from(i)].keyword)
            .collect();
        assert!(kw.windows(2).all(|w| w[0] < w[1]));
        for e in entries() {
            assert_eq!(by_tag(e.tag).map(|x| x.tag), Some(e.tag));
        }
    }
}
