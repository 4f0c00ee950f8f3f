//! The Image Pixel attributes (PS3.3 C.7.6.3) that say what a frame decodes to.

use dimse_core::dataset::{ElementSpan, Tag};

use crate::CodecError;

pub(crate) const SAMPLES_PER_PIXEL: Tag = Tag(0x0028, 0x0002);
pub(crate) const PHOTOMETRIC: Tag = Tag(0x0028, 0x0004);
pub(crate) const PLANAR_CONFIGURATION: Tag = Tag(0x0028, 0x0006);
pub(crate) const NUMBER_OF_FRAMES: Tag = Tag(0x0028, 0x0008);
pub(crate) const ROWS: Tag = Tag(0x0028, 0x0010);
pub(crate) const COLUMNS: Tag = Tag(0x0028, 0x0011);
pub(crate) const BITS_ALLOCATED: Tag = Tag(0x0028, 0x0100);
pub(crate) const BITS_STORED: Tag = Tag(0x0028, 0x0101);
pub(crate) const PIXEL_REPRESENTATION: Tag = Tag(0x0028, 0x0103);
pub(crate) const LOSSY_IMAGE_COMPRESSION: Tag = Tag(0x0028, 0x2110);
pub(crate) const EXTENDED_OFFSET_TABLE: Tag = Tag(0x7FE0, 0x0001);
pub(crate) const EXTENDED_OFFSET_TABLE_LENGTHS: Tag = Tag(0x7FE0, 0x0002);
pub(crate) const PIXEL_DATA: Tag = Tag(0x7FE0, 0x0010);

/// What every frame must decode to, from the top-level attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ImageInfo {
    pub rows: u16,
    pub columns: u16,
    pub samples_per_pixel: u16,
    pub bits_allocated: u16,
    pub bits_stored: u16,
    /// 1 when samples are two's complement.
    pub pixel_representation: u16,
    /// Photometric Interpretation, padding removed; empty when absent.
    pub photometric: String,
    pub frames: u32,
}

impl ImageInfo {
    /// Reads the attributes from the top-level `spans` of `data`.
    pub fn read(data: &[u8], spans: &[ElementSpan]) -> Result<ImageInfo, CodecError> {
        let value = |tag| value_of(data, spans, tag);
        let required = |tag, name| {
            let bytes = value(tag).ok_or(CodecError::MissingAttribute { tag, name })?;
            us(bytes, tag, name)
        };
        let optional = |tag, name, default| match value(tag) {
            Some(bytes) if !bytes.is_empty() => us(bytes, tag, name),
            _ => Ok(default),
        };
        let rows = required(ROWS, "Rows")?;
        let columns = required(COLUMNS, "Columns")?;
        let bits_allocated = required(BITS_ALLOCATED, "BitsAllocated")?;
        let info = ImageInfo {
            rows,
            columns,
            samples_per_pixel: optional(SAMPLES_PER_PIXEL, "SamplesPerPixel", 1)?,
            bits_allocated,
            bits_stored: optional(BITS_STORED, "BitsStored", bits_allocated)?,
            pixel_representation: optional(PIXEL_REPRESENTATION, "PixelRepresentation", 0)?,
            photometric: value(PHOTOMETRIC).map(text).unwrap_or_default(),
            frames: number_of_frames(value(NUMBER_OF_FRAMES))?,
        };
        if rows == 0 || columns == 0 {
            let (tag, name, v) = if rows == 0 {
                (ROWS, "Rows", rows)
            } else {
                (COLUMNS, "Columns", columns)
            };
            return Err(invalid(tag, name, v.to_string(), "at least 1"));
        }
        if !matches!(info.samples_per_pixel, 1 | 3 | 4) {
            return Err(invalid(
                SAMPLES_PER_PIXEL,
                "SamplesPerPixel",
                info.samples_per_pixel.to_string(),
                "1, 3 or 4",
            ));
        }
        // 1-bit images are never encapsulated in the syntaxes decoded here, and the codecs
        // yield whole bytes per sample.
        if !matches!(bits_allocated, 8 | 16 | 32) {
            return Err(invalid(
                BITS_ALLOCATED,
                "BitsAllocated",
                bits_allocated.to_string(),
                "8, 16 or 32",
            ));
        }
        if info.bits_stored == 0 || info.bits_stored > bits_allocated {
            return Err(invalid(
                BITS_STORED,
                "BitsStored",
                info.bits_stored.to_string(),
                "1 to Bits Allocated",
            ));
        }
        Ok(info)
    }

    /// Bytes per sample in the native encoding.
    pub fn bytes_per_sample(&self) -> usize {
        usize::from(self.bits_allocated / 8)
    }

    /// Pixels in one frame.
    pub fn pixels(&self) -> usize {
        usize::from(self.rows) * usize::from(self.columns)
    }

    /// Bytes of one native frame: Rows × Columns × Samples per Pixel × bytes per sample.
    pub fn frame_len(&self) -> usize {
        self.pixels() * usize::from(self.samples_per_pixel) * self.bytes_per_sample()
    }

    /// Whether the Photometric Interpretation is one of JPEG's full-range YCbCr ones, which
    /// a lossy JPEG decoder turns into RGB (PS3.5 §8.2.1).
    pub fn is_ybr_full(&self) -> bool {
        matches!(self.photometric.as_str(), "YBR_FULL" | "YBR_FULL_422")
    }
}

fn invalid(tag: Tag, name: &'static str, value: String, expected: &'static str) -> CodecError {
    CodecError::InvalidAttribute {
        tag,
        name,
        value,
        expected,
    }
}

/// The value bytes of the top-level element `tag`, if present with a defined length.
pub(crate) fn value_of<'a>(data: &'a [u8], spans: &[ElementSpan], tag: Tag) -> Option<&'a [u8]> {
    let span = spans.iter().find(|s| s.tag == tag)?;
    if span.is_undefined_length() {
        return None;
    }
    data.get(span.value_offset..span.end)
}

/// A US value (the first one of a multi-valued element), little endian.
fn us(bytes: &[u8], tag: Tag, name: &'static str) -> Result<u16, CodecError> {
    match bytes {
        [lo, hi, ..] => Ok(u16::from_le_bytes([*lo, *hi])),
        _ => Err(invalid(
            tag,
            name,
            format!("{} byte(s)", bytes.len()),
            "a 2-byte US value",
        )),
    }
}

/// A string value with its padding removed.
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .trim_matches(|c: char| c == ' ' || c == '\0')
        .to_string()
}

/// Number of Frames, an IS: leading and trailing padding ignored, `"2.0"` read as 2 (seen from
/// writers that format it as a decimal), absent or empty meaning 1 (PS3.3 C.7.6.6).
fn number_of_frames(value: Option<&[u8]>) -> Result<u32, CodecError> {
    let Some(bytes) = value else { return Ok(1) };
    let text = text(bytes);
    // A multi-valued IS would be an encoding error; its first value is the only candidate.
    let first = text.split('\\').next().unwrap_or("").trim();
    if first.is_empty() {
        return Ok(1);
    }
    let parsed = first.parse::<u32>().ok().or_else(|| {
        let f = first.parse::<f64>().ok()?;
        (f.fract() == 0.0 && (0.0..=f64::from(u32::MAX)).contains(&f)).then_some(f as u32)
    });
    match parsed {
        Some(n) if n > 0 => Ok(n),
        _ => Err(invalid(
            NUMBER_OF_FRAMES,
            "NumberOfFrames",
            text,
            "a positive integer",
        )),
    }
}

/// An unsigned image of `rows` × `columns`, `samples` per pixel (MONOCHROME2 or RGB) and
/// `bits` allocated and stored, one frame: what the decoders' unit tests decode into.
#[cfg(test)]
pub(crate) fn test_info(rows: u16, columns: u16, samples: u16, bits: u16) -> ImageInfo {
    ImageInfo {
        rows,
        columns,
        samples_per_pixel: samples,
        bits_allocated: bits,
        bits_stored: bits,
        pixel_representation: 0,
        photometric: if samples == 1 { "MONOCHROME2" } else { "RGB" }.into(),
        frames: 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_of_frames_is_lenient() {
        assert_eq!(number_of_frames(None), Ok(1));
        assert_eq!(number_of_frames(Some(b"")), Ok(1));
        assert_eq!(number_of_frames(Some(b"  ")), Ok(1));
        assert_eq!(number_of_frames(Some(b"3 ")), Ok(3));
        assert_eq!(number_of_frames(Some(b" 12\0")), Ok(12));
        assert_eq!(number_of_frames(Some(b"+4")), Ok(4));
        assert_eq!(number_of_frames(Some(b"2.0")), Ok(2));
        assert_eq!(number_of_frames(Some(b"5\\6")), Ok(5));
        assert!(number_of_frames(Some(b"0")).is_err());
        assert!(number_of_frames(Some(b"2.5")).is_err());
        assert!(number_of_frames(Some(b"x")).is_err());
    }
}
