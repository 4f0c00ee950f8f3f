//! Decoding and encoding [`DataSet`]s in the uncompressed transfer syntaxes.

use bytes::{BufMut, Bytes, BytesMut};

use super::header::{self, error as err, need, u16_at, u32_at, Enc, Header, UNDEFINED_LENGTH};
use super::{
    dictionary, DataSet, DataSetError, DataSetErrorKind, Element, Tag, Value, Vr, MAX_DEPTH,
};
use crate::uid::TransferSyntax;

/// Largest inflated data set [`DataSet::decode`] accepts: a deflate stream expands up to ~1000
/// times, so a small hostile message must not be able to make us allocate without bound.
pub const MAX_INFLATED_LEN: usize = 256 * 1024 * 1024;

/// The padding byte that makes a value of `vr` even (PS3.5 §6.2): NUL for UI and binary
/// values, space for the other text VRs.
pub(super) fn padding(vr: Vr) -> u8 {
    if vr.is_text() && vr != Vr::UI {
        b' '
    } else {
        0
    }
}

/// Swaps each `unit`-byte number of `b` (little ↔ big endian); a ragged tail stays as is.
fn swapped(b: &[u8], unit: usize) -> Vec<u8> {
    let mut v = b.to_vec();
    for chunk in v.chunks_exact_mut(unit) {
        chunk.reverse();
    }
    v
}

struct Decoder {
    data: Bytes,
}

impl Decoder {
    fn header(&self, pos: usize, limit: usize, enc: Enc) -> Result<Header, DataSetError> {
        header::read(&self.data, pos, limit, enc)
    }

    /// Decodes data elements from `pos` up to `limit`; with `delimited` (the offset of the
    /// item header), up to and including an item delimiter instead.
    fn elements(
        &self,
        mut pos: usize,
        limit: usize,
        delimited: Option<usize>,
        enc: Enc,
        depth: usize,
    ) -> Result<(DataSet, usize), DataSetError> {
        let mut ds = DataSet::new();
        loop {
            if pos == limit {
                return match delimited {
                    Some(started_at) => Err(err(
                        pos,
                        None,
                        DataSetErrorKind::MissingDelimiter { started_at },
                    )),
                    None => Ok((ds, pos)),
                };
            }
            let h = self.header(pos, limit, enc)?;
            if h.tag.0 == 0xFFFE {
                if h.tag == Tag::ITEM_DELIMITER && delimited.is_some() {
                    return Ok((ds, pos + 8));
                }
                return Err(err(pos, Some(h.tag), DataSetErrorKind::UnexpectedItemTag));
            }
            let (element, end) = self.element(pos, &h, limit, enc, depth)?;
            ds.insert(element);
            pos = end;
        }
    }

    fn element(
        &self,
        pos: usize,
        h: &Header,
        limit: usize,
        enc: Enc,
        depth: usize,
    ) -> Result<(Element, usize), DataSetError> {
        let start = pos + h.header_len;
        let tag = h.tag;
        let vr = h.vr.unwrap_or_else(|| dictionary::vr_of(tag));
        if h.length == UNDEFINED_LENGTH {
            let pixel_vr_ok = matches!(h.vr, None | Some(Vr::OB | Vr::OW | Vr::UN));
            if tag == Tag::PIXEL_DATA && pixel_vr_ok {
                let (fragments, end) = self.fragments(start, limit, pos, tag)?;
                let mut e = Element::new(tag, vr, Value::Fragments(fragments));
                e.undefined_length = true;
                return Ok((e, end));
            }
            let (vr, inner) = match h.vr {
                // Implicit VR: undefined length can only be a sequence.
                None | Some(Vr::SQ) => (Vr::SQ, enc),
                // UN of undefined length holds Implicit VR Little Endian items (PS3.5 §6.2.2).
                Some(Vr::UN) => (Vr::UN, Enc::IMPLICIT_LE),
                Some(other) => {
                    return Err(err(
                        pos,
                        Some(tag),
                        DataSetErrorKind::UndefinedLengthNotAllowed { vr: Some(other) },
                    ))
                }
            };
            let (items, end) = self.sequence(start, limit, Some(pos), inner, depth + 1, tag)?;
            let mut e = Element::new(tag, vr, Value::Sequence(items));
            e.undefined_length = true;
            return Ok((e, end));
        }
        let available = limit - start;
        if h.length as usize > available {
            return Err(err(
                pos,
                Some(tag),
                DataSetErrorKind::ValuePastEnd {
                    length: h.length,
                    available,
                },
            ));
        }
        let end = start + h.length as usize;
        let value = if vr == Vr::SQ {
            let (items, _) = self.sequence(start, end, None, enc, depth + 1, tag)?;
            Value::Sequence(items)
        } else {
            match vr.swap_unit() {
                Some(unit) if enc.big_endian => {
                    Value::Bytes(Bytes::from(swapped(&self.data[start..end], unit)))
                }
                _ => Value::Bytes(self.data.slice(start..end)),
            }
        };
        Ok((Element::new(tag, vr, value), end))
    }

    /// Decodes the items of a sequence. Defined length (`delimited` None): items fill exactly
    /// up to `limit`. Undefined length: items until a sequence delimiter.
    fn sequence(
        &self,
        mut pos: usize,
        limit: usize,
        delimited: Option<usize>,
        enc: Enc,
        depth: usize,
        tag: Tag,
    ) -> Result<(Vec<DataSet>, usize), DataSetError> {
        if depth > MAX_DEPTH {
            return Err(err(pos, Some(tag), DataSetErrorKind::TooDeep));
        }
        let mut items = Vec::new();
        loop {
            if pos == limit {
                return match delimited {
                    Some(started_at) => Err(err(
                        pos,
                        Some(tag),
                        DataSetErrorKind::MissingDelimiter { started_at },
                    )),
                    None => Ok((items, pos)),
                };
            }
            need(pos, limit, 8, None)?;
            let item_tag = Tag(
                u16_at(&self.data, pos, enc),
                u16_at(&self.data, pos + 2, enc),
            );
            let length = u32_at(&self.data, pos + 4, enc);
            match item_tag {
                Tag::ITEM if length == UNDEFINED_LENGTH => {
                    let (mut item, end) = self.elements(pos + 8, limit, Some(pos), enc, depth)?;
                    item.set_item_undefined_length(true);
                    items.push(item);
                    pos = end;
                }
                Tag::ITEM => {
                    let available = limit - (pos + 8);
                    if length as usize > available {
                        return Err(err(
                            pos,
                            Some(item_tag),
                            DataSetErrorKind::ValuePastEnd { length, available },
                        ));
                    }
                    let end = pos + 8 + length as usize;
                    let (item, _) = self.elements(pos + 8, end, None, enc, depth)?;
                    items.push(item);
                    pos = end;
                }
                Tag::SEQUENCE_DELIMITER if delimited.is_some() => return Ok((items, pos + 8)),
                _ => return Err(err(pos, Some(item_tag), DataSetErrorKind::ExpectedItem)),
            }
        }
    }

    /// Reads encapsulated Pixel Data: defined-length items up to a sequence delimiter. The
    /// fragments are zero-copy slices of the input.
    fn fragments(
        &self,
        mut pos: usize,
        limit: usize,
        started_at: usize,
        tag: Tag,
    ) -> Result<(Vec<Bytes>, usize), DataSetError> {
        // Encapsulation only exists in little endian syntaxes; fragments have no VR.
        let enc = Enc::IMPLICIT_LE;
        let mut fragments = Vec::new();
        loop {
            if pos == limit {
                return Err(err(
                    pos,
                    Some(tag),
                    DataSetErrorKind::MissingDelimiter { started_at },
                ));
            }
            need(pos, limit, 8, None)?;
            let item_tag = Tag(
                u16_at(&self.data, pos, enc),
                u16_at(&self.data, pos + 2, enc),
            );
            let length = u32_at(&self.data, pos + 4, enc);
            match item_tag {
                Tag::ITEM if length == UNDEFINED_LENGTH => {
                    return Err(err(
                        pos,
                        Some(item_tag),
                        DataSetErrorKind::UndefinedLengthFragment,
                    ))
                }
                Tag::ITEM => {
                    let available = limit - (pos + 8);
                    if length as usize > available {
                        return Err(err(
                            pos,
                            Some(item_tag),
                            DataSetErrorKind::ValuePastEnd { length, available },
                        ));
                    }
                    let end = pos + 8 + length as usize;
                    fragments.push(self.data.slice(pos + 8..end));
                    pos = end;
                }
                Tag::SEQUENCE_DELIMITER => return Ok((fragments, pos + 8)),
                _ => return Err(err(pos, Some(item_tag), DataSetErrorKind::ExpectedItem)),
            }
        }
    }
}

/// Deflated syntaxes carry the data set raw-deflated; inflate it, bounded by
/// [`MAX_INFLATED_LEN`].
fn inflate_if_deflated(data: Bytes, ts: &TransferSyntax) -> Result<Bytes, DataSetError> {
    if !ts.deflated {
        return Ok(data);
    }
    miniz_oxide::inflate::decompress_to_vec_with_limit(&data, MAX_INFLATED_LEN)
        .map(Bytes::from)
        .map_err(|e| {
            err(
                0,
                None,
                DataSetErrorKind::Inflate(format!("{:?}", e.status)),
            )
        })
}

impl DataSet {
    /// Decodes a data set (no preamble or group 0002) encoded in `ts`. Values are zero-copy
    /// slices of `data` (except binary numbers in big endian, swapped into new buffers, and
    /// deflated data sets, inflated into one new buffer first; error offsets then count in the
    /// inflated bytes).
    ///
    /// Implicit VR takes VRs from the [`dictionary`] (UN for unknown tags, which stay bytes;
    /// undefined lengths are sequences). Checks the structure as [`validate`](super::validate)
    /// does, nesting at most [`MAX_DEPTH`] deep. Elements out of order are sorted; of repeated
    /// tags the last wins. Never panics, whatever `data` holds.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use dimse_core::dataset::{DataSet, Tag};
    /// use dimse_core::uid::TransferSyntax;
    ///
    /// // (0010,0020) LO "123 ", implicit VR little endian
    /// let data = Bytes::from_static(&[0x10, 0, 0x20, 0, 4, 0, 0, 0, b'1', b'2', b'3', b' ']);
    /// let ds = DataSet::decode(data, &TransferSyntax::IMPLICIT_VR_LITTLE_ENDIAN).unwrap();
    /// assert_eq!(ds.get_str(Tag(0x0010, 0x0020)), Some(Ok("123".into())));
    /// ```
    pub fn decode(data: Bytes, ts: &TransferSyntax) -> Result<DataSet, DataSetError> {
        let decoder = Decoder {
            data: inflate_if_deflated(data, ts)?,
        };
        let (mut ds, _) = decoder.elements(0, decoder.data.len(), None, Enc::of(ts), 0)?;
        ds.propagate_charset();
        Ok(ds)
    }

    /// Decodes the top-level elements that come before `stop`, reading nothing of the first
    /// element at or after it but its header: the attributes an archive indexes, without
    /// touching the Pixel Data that follows them. `data` may be a prefix of the data set
    /// that ends anywhere after that header; a prefix that ends sooner is an error of kind
    /// [`DataSetErrorKind::TruncatedHeader`] or [`DataSetErrorKind::ValuePastEnd`] (read more
    /// and try again).
    ///
    /// ```
    /// use bytes::Bytes;
    /// use dimse_core::dataset::{DataSet, Tag};
    /// use dimse_core::uid::TransferSyntax;
    ///
    /// // (0010,0020) LO "123 ", then the header of a 1000-byte (7FE0,0010) that is not there
    /// let data = Bytes::from_static(&[
    ///     0x10, 0, 0x20, 0, 4, 0, 0, 0, b'1', b'2', b'3', b' ',
    ///     0xE0, 0x7F, 0x10, 0, 0xE8, 0x03, 0, 0,
    /// ]);
    /// let ts = TransferSyntax::IMPLICIT_VR_LITTLE_ENDIAN;
    /// let ds = DataSet::decode_until(data, &ts, Tag::PIXEL_DATA).unwrap();
    /// assert_eq!(ds.get_str(Tag(0x0010, 0x0020)), Some(Ok("123".into())));
    /// assert!(ds.get(Tag::PIXEL_DATA).is_none());
    /// ```
    pub fn decode_until(
        data: Bytes,
        ts: &TransferSyntax,
        stop: Tag,
    ) -> Result<DataSet, DataSetError> {
        DataSet::decode_head(data, ts, stop).map(|(ds, _)| ds)
    }

    /// [`DataSet::decode_until`] for `data` that is known to be only the first part of a
    /// longer data set: `Ok(None)` when it ends before the header of an element at or after
    /// `stop` (including in the middle of an element), so that the caller reads more and
    /// tries again. [`DataSet::decode_until`] cannot tell a prefix that happens to end
    /// between two elements from a whole data set; this can, because it is told.
    ///
    /// ```
    /// use bytes::Bytes;
    /// use dimse_core::dataset::{DataSet, Tag};
    /// use dimse_core::uid::TransferSyntax;
    ///
    /// let ts = TransferSyntax::IMPLICIT_VR_LITTLE_ENDIAN;
    /// // (0010,0020) LO "123 ", and the rest of the data set still to come
    /// let head = Bytes::from_static(&[0x10, 0, 0x20, 0, 4, 0, 0, 0, b'1', b'2', b'3', b' ']);
    /// assert!(DataSet::decode_prefix_until(head.clone(), &ts, Tag::PIXEL_DATA).unwrap().is_none());
    /// // the same followed by the header of (7FE0,0010)
    /// let mut more = head.to_vec();
    /// more.extend_from_slice(&[0xE0, 0x7F, 0x10, 0, 0xE8, 0x03, 0, 0]);
    /// let ds = DataSet::decode_prefix_until(more.into(), &ts, Tag::PIXEL_DATA).unwrap().unwrap();
    /// assert_eq!(ds.get_str(Tag(0x0010, 0x0020)), Some(Ok("123".into())));
    /// ```
    pub fn decode_prefix_until(
        data: Bytes,
        ts: &TransferSyntax,
        stop: Tag,
    ) -> Result<Option<DataSet>, DataSetError> {
        match DataSet::decode_head(data, ts, stop) {
            Ok((ds, true)) => Ok(Some(ds)),
            Ok((_, false)) => Ok(None),
            Err(e)
                if matches!(
                    e.kind,
                    DataSetErrorKind::TruncatedHeader { .. }
                        | DataSetErrorKind::ValuePastEnd { .. }
                        | DataSetErrorKind::MissingDelimiter { .. }
                ) =>
            {
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// The elements before `stop`, and whether an element at or after `stop` was reached
    /// (rather than the end of `data`).
    fn decode_head(
        data: Bytes,
        ts: &TransferSyntax,
        stop: Tag,
    ) -> Result<(DataSet, bool), DataSetError> {
        let decoder = Decoder {
            data: inflate_if_deflated(data, ts)?,
        };
        let enc = Enc::of(ts);
        let limit = decoder.data.len();
        let mut ds = DataSet::new();
        let mut pos = 0;
        let mut stopped = false;
        while pos < limit {
            let h = decoder.header(pos, limit, enc)?;
            if h.tag >= stop {
                stopped = true;
                break;
            }
            if h.tag.0 == 0xFFFE {
                return Err(err(pos, Some(h.tag), DataSetErrorKind::UnexpectedItemTag));
            }
            let (element, end) = decoder.element(pos, &h, limit, enc, 0)?;
            ds.insert(element);
            pos = end;
        }
        ds.propagate_charset();
        Ok((ds, stopped))
    }

    /// [`DataSet::decode`] of borrowed bytes (copied once, then sliced).
    pub fn decode_slice(data: &[u8], ts: &TransferSyntax) -> Result<DataSet, DataSetError> {
        DataSet::decode(Bytes::copy_from_slice(data), ts)
    }

    /// Appends the data set encoded in `ts` to `out`.
    ///
    /// Values are written as they are, padded to even length when odd (NUL for UI and binary
    /// values, space for text); group lengths (gggg,0000) are written as they are, not
    /// recomputed. Sequences and items keep their length encoding
    /// ([`Element::undefined_length`], [`DataSet::item_undefined_length`]); defined lengths are
    /// computed. A value too long for the 16-bit length of its VR in explicit VR is written as
    /// UN (PS3.5 §6.2.2 Note). Deflated syntaxes deflate the Explicit VR Little Endian encoding
    /// (raw RFC 1951), padded with a NUL to even length.
    ///
    /// ```
    /// use bytes::BytesMut;
    /// use dimse_core::dataset::DataSet;
    /// use dimse_core::uid::TransferSyntax;
    ///
    /// let ds = DataSet::new().with("PatientID", "123").unwrap();
    /// let mut out = BytesMut::new();
    /// ds.encode(&TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN, &mut out);
    /// assert_eq!(&out[..], b"\x10\x00\x20\x00LO\x04\x00123 ");
    /// ```
    pub fn encode(&self, ts: &TransferSyntax, out: &mut BytesMut) {
        if ts.deflated {
            let mut plain = BytesMut::new();
            encode_elements(
                self,
                Enc {
                    explicit: true,
                    big_endian: false,
                },
                &mut plain,
            );
            let mut deflated = miniz_oxide::deflate::compress_to_vec(&plain, 6);
            if deflated.len() % 2 == 1 {
                deflated.push(0);
            }
            out.put_slice(&deflated);
        } else {
            encode_elements(self, Enc::of(ts), out);
        }
    }
}

fn put_u16(out: &mut BytesMut, v: u16, enc: Enc) {
    if enc.big_endian {
        out.put_u16(v)
    } else {
        out.put_u16_le(v)
    }
}

fn put_u32(out: &mut BytesMut, v: u32, enc: Enc) {
    if enc.big_endian {
        out.put_u32(v)
    } else {
        out.put_u32_le(v)
    }
}

fn put_tag(out: &mut BytesMut, tag: Tag, enc: Enc) {
    put_u16(out, tag.0, enc);
    put_u16(out, tag.1, enc);
}

/// Writes an element header; returns the offset of its 32-bit length field when it has one
/// (so that a defined length can be patched in afterwards).
fn put_header(out: &mut BytesMut, tag: Tag, vr: Vr, length: u32, enc: Enc) -> Option<usize> {
    put_tag(out, tag, enc);
    if !enc.explicit {
        let at = out.len();
        put_u32(out, length, enc);
        return Some(at);
    }
    // A value too long for a 16-bit length can only be written as UN.
    let vr = if !vr.has_long_length() && length > 0xFFFF {
        Vr::UN
    } else {
        vr
    };
    out.put_slice(&vr.as_bytes());
    if vr.has_long_length() {
        out.put_u16(0);
        let at = out.len();
        put_u32(out, length, enc);
        Some(at)
    } else {
        put_u16(out, length as u16, enc);
        None
    }
}

fn patch_u32(out: &mut BytesMut, at: usize, v: u32, enc: Enc) {
    let b = if enc.big_endian {
        v.to_be_bytes()
    } else {
        v.to_le_bytes()
    };
    out[at..at + 4].copy_from_slice(&b);
}

fn encode_elements(ds: &DataSet, enc: Enc, out: &mut BytesMut) {
    for e in ds.elements() {
        encode_element(e, enc, out);
    }
}

fn encode_element(e: &Element, enc: Enc, out: &mut BytesMut) {
    match &e.value {
        Value::Bytes(b) => {
            let pad = b.len() % 2 == 1;
            let len = b.len() + usize::from(pad);
            put_header(out, e.tag, e.vr, len as u32, enc);
            match e.vr.swap_unit() {
                Some(unit) if enc.big_endian => out.put_slice(&swapped(b, unit)),
                _ => out.put_slice(b),
            }
            if pad {
                out.put_u8(padding(e.vr));
            }
        }
        Value::Fragments(fragments) => {
            put_header(out, e.tag, e.vr, UNDEFINED_LENGTH, enc);
            let le = Enc::IMPLICIT_LE;
            for f in fragments {
                let pad = f.len() % 2 == 1;
                put_tag(out, Tag::ITEM, le);
                put_u32(out, (f.len() + usize::from(pad)) as u32, le);
                out.put_slice(f);
                if pad {
                    out.put_u8(0);
                }
            }
            put_tag(out, Tag::SEQUENCE_DELIMITER, le);
            put_u32(out, 0, le);
        }
        Value::Sequence(items) => {
            // UN holds its items in Implicit VR Little Endian (PS3.5 §6.2.2); anything else
            // holding items is a sequence.
            let (vr, inner) = if e.vr == Vr::UN {
                (Vr::UN, Enc::IMPLICIT_LE)
            } else {
                (Vr::SQ, enc)
            };
            let at = put_header(out, e.tag, vr, UNDEFINED_LENGTH, enc);
            let start = out.len();
            for item in items {
                put_tag(out, Tag::ITEM, inner);
                let item_at = out.len();
                put_u32(out, UNDEFINED_LENGTH, inner);
                let item_start = out.len();
                encode_elements(item, inner, out);
                if item.item_undefined_length() {
                    put_tag(out, Tag::ITEM_DELIMITER, inner);
                    put_u32(out, 0, inner);
                } else {
                    let len = (out.len() - item_start) as u32;
                    patch_u32(out, item_at, len, inner);
                }
            }
            if e.undefined_length {
                put_tag(out, Tag::SEQUENCE_DELIMITER, inner);
                put_u32(out, 0, inner);
            } else if let Some(at) = at {
                let len = (out.len() - start) as u32;
                patch_u32(out, at, len, enc);
            }
        }
    }
}
