use std::collections::BTreeMap;
use std::fmt;

use bytes::{BufMut, Bytes, BytesMut};

use super::{command_name, tags};
use crate::dataset::Tag;

/// The group-0000 elements of one DIMSE command, kept as tag → raw value bytes.
///
/// The wire form is Implicit VR Little Endian in ascending tag order (PS3.7 §6.3.1).
/// (0000,0000) CommandGroupLength is never stored: [`encode`](Self::encode) computes it and
/// [`decode`](Self::decode) only checks it is well formed, because the PDV framing, not the
/// group length, says where a command ends (DCMTK does the same).
///
/// Setters do not check the tag is in group 0000, so a tester can build commands a peer
/// should reject; [`decode`](Self::decode) does check.
///
/// ```
/// use dimse_core::dimse::{tags, CommandSet};
///
/// let mut cmd = CommandSet::new();
/// cmd.set_u16(tags::COMMAND_FIELD, 0x0030);
/// cmd.set_uid(tags::AFFECTED_SOP_CLASS_UID, "1.2.840.10008.1.1");
/// assert_eq!(cmd.get(tags::AFFECTED_SOP_CLASS_UID), Some(&b"1.2.840.10008.1.1\0"[..]));
/// assert_eq!(cmd.get_str(tags::AFFECTED_SOP_CLASS_UID), Some("1.2.840.10008.1.1"));
/// let decoded = CommandSet::decode(&cmd.to_bytes()).unwrap();
/// assert_eq!(decoded, cmd);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandSet {
    elements: BTreeMap<Tag, Vec<u8>>,
}

/// Why a command set could not be decoded or turned into a typed message.
///
/// Offsets are byte offsets into the command set as given to [`CommandSet::decode`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandError {
    /// Fewer than the 8 bytes of an element header remain.
    TruncatedHeader {
        /// Where the header starts.
        offset: usize,
        /// How many bytes are left.
        available: usize,
    },
    /// An element outside group 0000 (commands hold no data elements).
    NotCommandGroup {
        /// The element's tag.
        tag: Tag,
        /// Where its header starts.
        offset: usize,
    },
    /// An element with an odd value length (PS3.5 §7.1.1 requires even lengths).
    OddLength {
        /// The element's tag.
        tag: Tag,
        /// Where its header starts.
        offset: usize,
        /// The declared length.
        length: u32,
    },
    /// An element whose value runs past the end of the command set (undefined length included).
    LengthPastEnd {
        /// The element's tag.
        tag: Tag,
        /// Where its header starts.
        offset: usize,
        /// The declared length.
        length: u32,
        /// How many bytes follow the header.
        available: usize,
    },
    /// The same tag twice; which value counts would be a guess.
    DuplicateElement {
        /// The repeated tag.
        tag: Tag,
        /// Where the second occurrence starts.
        offset: usize,
    },
    /// (0000,0000) CommandGroupLength whose value is not 4 bytes (UL).
    InvalidGroupLength {
        /// Where its header starts.
        offset: usize,
        /// Its value length.
        length: u32,
    },
    /// A typed message lacks an element the standard requires of it.
    MissingElement {
        /// The message type (`"C-STORE-RQ"`), or `"command"` when the type is not known yet.
        command: &'static str,
        /// The missing element's tag.
        tag: Tag,
        /// Its keyword.
        name: &'static str,
    },
    /// An element is present but its value cannot be what it must be.
    InvalidValue {
        /// The message type.
        command: &'static str,
        /// The element's tag.
        tag: Tag,
        /// Its keyword.
        name: &'static str,
        /// What is wrong, e.g. `"US value must be 2 bytes"`.
        reason: &'static str,
    },
    /// A typed decoder was given a command of another type.
    WrongCommandField {
        /// The command field the decoder handles.
        expected: u16,
        /// The command field found.
        found: u16,
    },
    /// CommandDataSetType announces a data set where the message type has none, or none where
    /// it requires one.
    DataSetTypeMismatch {
        /// The message type.
        command: &'static str,
        /// The CommandDataSetType value received.
        data_set_type: u16,
    },
}

fn tag_label(tag: Tag) -> String {
    match tags::name(tag) {
        Some(name) => format!("{tag} {name}"),
        None => tag.to_string(),
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::TruncatedHeader { offset, available } => write!(
                f,
                "command set truncated: element header at offset {offset} needs 8 bytes, \
                 {available} left"
            ),
            CommandError::NotCommandGroup { tag, offset } => write!(
                f,
                "element {} at offset {offset} is not in command group 0000",
                tag
            ),
            CommandError::OddLength {
                tag,
                offset,
                length,
            } => write!(
                f,
                "element {} at offset {offset} has odd length {length}",
                tag_label(*tag)
            ),
            CommandError::LengthPastEnd {
                tag,
                offset,
                length,
                available,
            } => write!(
                f,
                "element {} at offset {offset} has length {length} but only {available} bytes \
                 follow its header",
                tag_label(*tag)
            ),
            CommandError::DuplicateElement { tag, offset } => write!(
                f,
                "element {} at offset {offset} occurs more than once",
                tag_label(*tag)
            ),
            CommandError::InvalidGroupLength { offset, length } => write!(
                f,
                "CommandGroupLength at offset {offset} has length {length}, must be 4"
            ),
            CommandError::MissingElement { command, tag, name } => {
                write!(f, "{command}: missing required element {} {name}", tag)
            }
            CommandError::InvalidValue {
                command,
                tag,
                name,
                reason,
            } => write!(f, "{command}: invalid value of {} {name}: {reason}", tag),
            CommandError::WrongCommandField { expected, found } => write!(
                f,
                "command field 0x{found:04X} ({}) where 0x{expected:04X} ({}) was expected",
                command_name(*found),
                command_name(*expected)
            ),
            CommandError::DataSetTypeMismatch {
                command,
                data_set_type,
            } => {
                let says = if *data_set_type == super::DATA_SET_ABSENT {
                    "no data set"
                } else {
                    "a data set"
                };
                write!(
                    f,
                    "{command}: CommandDataSetType 0x{data_set_type:04X} announces {says}, which \
                     this message type does not allow"
                )
            }
        }
    }
}

impl std::error::Error for CommandError {}

fn trim_padding(s: &str) -> &str {
    s.trim_end_matches(['\0', ' '])
}

impl CommandSet {
    /// An empty command set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Decodes a complete command set (the concatenated command PDV fragments).
    ///
    /// Lenient where the standard lets receivers be: elements may come in any order, retired
    /// and unknown group-0000 elements are kept, and the CommandGroupLength value is not
    /// compared with the actual length. Rejected, with tag and offset: elements of other
    /// groups, odd lengths, values running past the end, duplicate tags, a malformed
    /// CommandGroupLength, and trailing bytes too short for a header.
    pub fn decode(bytes: &[u8]) -> Result<CommandSet, CommandError> {
        let mut elements = BTreeMap::new();
        let mut offset = 0;
        while offset < bytes.len() {
            let available = bytes.len() - offset;
            if available < 8 {
                return Err(CommandError::TruncatedHeader { offset, available });
            }
            let h = &bytes[offset..offset + 8];
            let group = u16::from_le_bytes([h[0], h[1]]);
            let element = u16::from_le_bytes([h[2], h[3]]);
            let tag = Tag(group, element);
            let length = u32::from_le_bytes([h[4], h[5], h[6], h[7]]);
            if group != 0x0000 {
                return Err(CommandError::NotCommandGroup { tag, offset });
            }
            let available = available - 8;
            if length as usize > available {
                return Err(CommandError::LengthPastEnd {
                    tag,
                    offset,
                    length,
                    available,
                });
            }
            // Bit tests instead of `is_multiple_of`, which needs a newer Rust than the MSRV.
            if length & 1 != 0 {
                return Err(CommandError::OddLength {
                    tag,
                    offset,
                    length,
                });
            }
            let start = offset + 8;
            let value = &bytes[start..start + length as usize];
            if tag == tags::COMMAND_GROUP_LENGTH {
                if length != 4 {
                    return Err(CommandError::InvalidGroupLength { offset, length });
                }
                if elements.contains_key(&tag) {
                    return Err(CommandError::DuplicateElement { tag, offset });
                }
                // Remember that it was seen (for duplicate detection) without keeping a value
                // that encode would contradict.
                elements.insert(tag, Vec::new());
            } else if elements.insert(tag, value.to_vec()).is_some() {
                return Err(CommandError::DuplicateElement { tag, offset });
            }
            offset = start + length as usize;
        }
        elements.remove(&tags::COMMAND_GROUP_LENGTH);
        Ok(CommandSet { elements })
    }

    /// Appends the encoded command set, CommandGroupLength first, to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        out.reserve(self.encoded_len());
        let group_length = self.encoded_len() - 12;
        out.put_u16_le(tags::COMMAND_GROUP_LENGTH.0);
        out.put_u16_le(tags::COMMAND_GROUP_LENGTH.1);
        out.put_u32_le(4);
        // Command sets are far below 4 GiB (PDV lengths are u32 too).
        out.put_u32_le(group_length as u32);
        for (&tag, value) in self.stored() {
            out.put_u16_le(tag.0);
            out.put_u16_le(tag.1);
            out.put_u32_le(value.len() as u32);
            out.put_slice(value);
        }
    }

    /// The encoded command set as bytes (see [`encode`](Self::encode)).
    pub fn to_bytes(&self) -> Bytes {
        let mut out = BytesMut::with_capacity(self.encoded_len());
        self.encode(&mut out);
        out.freeze()
    }

    /// The number of bytes [`encode`](Self::encode) writes, CommandGroupLength included.
    pub fn encoded_len(&self) -> usize {
        12 + self.stored().map(|(_, v)| 8 + v.len()).sum::<usize>()
    }

    fn stored(&self) -> impl Iterator<Item = (&Tag, &Vec<u8>)> {
        self.elements
            .iter()
            .filter(|(&t, _)| t != tags::COMMAND_GROUP_LENGTH)
    }

    /// The elements in ascending tag order, as (tag, raw value); CommandGroupLength excluded.
    pub fn iter(&self) -> impl Iterator<Item = (Tag, &[u8])> {
        self.stored().map(|(&t, v)| (t, v.as_slice()))
    }

    /// Number of elements (CommandGroupLength not counted).
    pub fn len(&self) -> usize {
        self.stored().count()
    }

    /// Whether there are no elements (CommandGroupLength not counted).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether an element with this tag is present.
    pub fn contains(&self, tag: Tag) -> bool {
        tag != tags::COMMAND_GROUP_LENGTH && self.elements.contains_key(&tag)
    }

    /// The raw value of an element, padding included.
    pub fn get(&self, tag: Tag) -> Option<&[u8]> {
        if tag == tags::COMMAND_GROUP_LENGTH {
            return None;
        }
        self.elements.get(&tag).map(Vec::as_slice)
    }

    /// A US value; `None` if absent or not exactly 2 bytes.
    pub fn get_u16(&self, tag: Tag) -> Option<u16> {
        match self.get(tag)? {
            [a, b] => Some(u16::from_le_bytes([*a, *b])),
            _ => None,
        }
    }

    /// A US list (VM 1-n); `None` if absent or of odd length.
    pub fn get_u16s(&self, tag: Tag) -> Option<Vec<u16>> {
        let v = self.get(tag)?;
        if v.len() & 1 != 0 {
            return None;
        }
        Some(
            v.chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .collect(),
        )
    }

    /// An AT list (VM 1-n); `None` if absent or not a multiple of 4 bytes.
    ///
    /// Each AT value is group then element, each a little-endian u16 (PS3.5 §6.2).
    pub fn get_tags(&self, tag: Tag) -> Option<Vec<Tag>> {
        let v = self.get(tag)?;
        if v.len() & 3 != 0 {
            return None;
        }
        Some(
            v.chunks_exact(4)
                .map(|c| {
                    Tag(
                        u16::from_le_bytes([c[0], c[1]]),
                        u16::from_le_bytes([c[2], c[3]]),
                    )
                })
                .collect(),
        )
    }

    /// A string value (UI, AE, LO, SH) with trailing NUL/space padding removed; `None` if
    /// absent or not UTF-8 (the command set repertoire is ASCII).
    pub fn get_str(&self, tag: Tag) -> Option<&str> {
        std::str::from_utf8(self.get(tag)?).ok().map(trim_padding)
    }

    /// Sets a raw value, as is (no padding added).
    pub fn set(&mut self, tag: Tag, value: impl Into<Vec<u8>>) {
        self.elements.insert(tag, value.into());
    }

    /// Sets a US value.
    pub fn set_u16(&mut self, tag: Tag, value: u16) {
        self.set(tag, value.to_le_bytes());
    }

    /// Sets a US list.
    pub fn set_u16s(&mut self, tag: Tag, values: &[u16]) {
        self.set(
            tag,
            values
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect::<Vec<u8>>(),
        );
    }

    /// Sets an AT list.
    pub fn set_tags(&mut self, tag: Tag, values: &[Tag]) {
        let bytes = values
            .iter()
            .flat_map(|t| {
                let [g0, g1] = t.0.to_le_bytes();
                let [e0, e1] = t.1.to_le_bytes();
                [g0, g1, e0, e1]
            })
            .collect::<Vec<u8>>();
        self.set(tag, bytes);
    }

    /// Sets a UI value, padded with one 0x00 to even length (existing padding is removed
    /// first, so values read back with [`get_str`](Self::get_str) can be passed as they are).
    pub fn set_uid(&mut self, tag: Tag, uid: &str) {
        self.set(tag, padded(trim_padding(uid), 0x00));
    }

    /// Sets an AE/LO/SH value, padded with a space to even length.
    pub fn set_str(&mut self, tag: Tag, value: &str) {
        self.set(tag, padded(value, b' '));
    }

    /// Removes an element, returning its raw value.
    pub fn remove(&mut self, tag: Tag) -> Option<Vec<u8>> {
        self.elements.remove(&tag)
    }
}

fn padded(value: &str, pad: u8) -> Vec<u8> {
    let mut v = Vec::with_capacity(value.len() + 1);
    v.extend_from_slice(value.as_bytes());
    if v.len() & 1 != 0 {
        v.push(pad);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_length_is_kept_out() {
        let mut cmd = CommandSet::new();
        cmd.set_u16(tags::MESSAGE_ID, 1);
        cmd.set(tags::COMMAND_GROUP_LENGTH, vec![9, 9, 9, 9]);
        let bytes = cmd.to_bytes();
        assert_eq!(&bytes[..12], &[0, 0, 0, 0, 4, 0, 0, 0, 10, 0, 0, 0]);
        assert_eq!(bytes.len(), 22);
        let back = CommandSet::decode(&bytes).unwrap();
        assert_eq!(back.len(), 1);
        assert_eq!(back.get(tags::COMMAND_GROUP_LENGTH), None);
    }

    #[test]
    fn errors_name_tag_and_offset() {
        let mut b = vec![0, 0, 0x10, 0x01, 2, 0, 0, 0, 1, 0];
        b.extend_from_slice(&[0, 0, 0x10, 0x01, 2, 0, 0, 0, 1, 0]);
        assert_eq!(
            CommandSet::decode(&b),
            Err(CommandError::DuplicateElement {
                tag: tags::MESSAGE_ID,
                offset: 10
            })
        );
        let b = [8, 0, 0x16, 0, 0, 0, 0, 0];
        let e = CommandSet::decode(&b).unwrap_err();
        assert_eq!(
            e,
            CommandError::NotCommandGroup {
                tag: Tag(0x0008, 0x0016),
                offset: 0
            }
        );
        assert!(e.to_string().contains("(0008,0016)"));
        let b = [0, 0, 0, 1, 3, 0, 0, 0, 1, 2, 3];
        assert!(matches!(
            CommandSet::decode(&b),
            Err(CommandError::OddLength { .. })
        ));
        let b = [0, 0, 0, 1, 4, 0, 0, 0, 1, 2];
        assert!(matches!(
            CommandSet::decode(&b),
            Err(CommandError::LengthPastEnd { .. })
        ));
        assert!(matches!(
            CommandSet::decode(&[0, 0]),
            Err(CommandError::TruncatedHeader { .. })
        ));
    }
}
