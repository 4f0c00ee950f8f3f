//! The structural check of a large data set, piece by piece from its file: element headers
//! are read, bulk values (pixels, waveforms, documents) skipped, and the elements between them
//! checked in small windows, so that checking a 1 GiB instance costs as little memory as
//! checking a 1 MiB one. The walking itself is the core's (`dataset::element_header`,
//! `element_extent`, `validate_noting_values`); this module only feeds it from the file.

use std::fs::File;
use std::io::{self, BufReader, Read, Seek, SeekFrom};

use dimse_core::dataset::{self, DataSetError, DataSetErrorKind, Tag, Vr};
use dimse_core::uid::TransferSyntax;

/// A defined-length value at least this long is skipped, not read.
const BULK: u32 = 256 * 1024;
/// Elements between bulk values are checked in windows of about this many bytes.
const WINDOW: usize = 1024 * 1024;
/// An undefined-length element (a sequence) longer than this is not read whole: the check
/// stops there, with a note, and the file is sent as it is.
const MAX_ELEMENT: usize = 8 * 1024 * 1024;

/// What the check found: the data set's own SOP Class and Instance UIDs, and the windows'
/// findings for the caller to judge (offsets are from the start of the data set).
#[derive(Debug, Default)]
pub(super) struct Found {
    pub sop_class_uid: Option<String>,
    pub sop_instance_uid: Option<String>,
    /// Values that break their VR's rules.
    pub odd_values: Vec<DataSetError>,
    /// Where the check stopped short of the end, and why.
    pub stopped: Option<String>,
}

/// Why the check failed: the file could not be read, or its data set is broken.
#[derive(Debug)]
pub(super) enum Broken {
    Io(io::Error),
    DataSet(DataSetError),
}

impl From<io::Error> for Broken {
    fn from(e: io::Error) -> Self {
        Broken::Io(e)
    }
}

impl From<DataSetError> for Broken {
    fn from(e: DataSetError) -> Self {
        Broken::DataSet(e)
    }
}

/// Reads at positions of the data set, seeking only when it must (a skip within the buffer
/// costs nothing).
struct Source<'f> {
    reader: BufReader<&'f File>,
    /// Start of the data set in the file.
    base: u64,
    /// Where the reader is, from the start of the data set.
    at: u64,
}

impl Source<'_> {
    fn read_at(&mut self, pos: u64, buf: &mut [u8]) -> io::Result<()> {
        if pos != self.at {
            let delta = pos as i64 - self.at as i64;
            match i64::try_from(self.reader.buffer().len()) {
                Ok(buffered) if delta >= 0 && delta <= buffered => {
                    self.reader.seek_relative(delta)?
                }
                _ => {
                    self.reader.seek(SeekFrom::Start(self.base + pos))?;
                }
            }
        }
        self.reader.read_exact(buf)?;
        self.at = pos + buf.len() as u64;
        Ok(())
    }
}

/// Checks the data set of `len` bytes at `base` in `file`, piece by piece.
pub(super) fn check(
    file: &File,
    base: u64,
    len: u64,
    ts: &TransferSyntax,
) -> Result<Found, Broken> {
    let mut source = Source {
        reader: BufReader::with_capacity(64 * 1024, file),
        base,
        at: 0,
    };
    source.reader.seek(SeekFrom::Start(base))?;
    let mut found = Found::default();
    let mut window: Vec<u8> = Vec::new();
    let mut window_at = 0u64;
    let mut pos = 0u64;
    let shift = |mut e: DataSetError, by: u64| {
        e.offset += by as usize;
        e
    };
    while pos < len {
        let mut head = [0u8; 12];
        let n = (len - pos).min(12) as usize;
        source.read_at(pos, &mut head[..n])?;
        let h = dataset::element_header(&head[..n], ts).map_err(|e| shift(e, pos))?;
        if h.tag.0 == 0xFFFE {
            return Err(Broken::DataSet(error(
                pos,
                h.tag,
                DataSetErrorKind::UnexpectedItemTag,
            )));
        }
        let undefined = h.is_undefined_length();
        let pixels =
            h.tag == Tag::PIXEL_DATA && matches!(h.vr, None | Some(Vr::OB | Vr::OW | Vr::UN));
        if !undefined {
            let available = len - pos - h.value_offset as u64;
            if u64::from(h.length) > available {
                return Err(Broken::DataSet(error(
                    pos,
                    h.tag,
                    DataSetErrorKind::ValuePastEnd {
                        length: h.length,
                        available: available as usize,
                    },
                )));
            }
        }
        if !undefined && h.length >= BULK {
            // Bulk data: only its length is checked against the file (above).
            check_window(&mut window, window_at, ts, &mut found)?;
            pos += h.end as u64;
            window_at = pos;
            continue;
        }
        if undefined && pixels {
            check_window(&mut window, window_at, ts, &mut found)?;
            pos = fragments(&mut source, pos + h.value_offset as u64, len, ts)?;
            window_at = pos;
            continue;
        }
        let start = window.len();
        if !undefined {
            window.resize(start + h.end, 0);
            source.read_at(pos, &mut window[start..])?;
            pos += h.end as u64;
        } else {
            // A sequence of undefined length: read on until the core finds its end.
            let mut ahead = 64 * 1024usize;
            loop {
                let take = (ahead as u64).min(len - pos) as usize;
                window.resize(start + take, 0);
                source.read_at(pos, &mut window[start..])?;
                match dataset::element_extent(&window[start..], ts) {
                    Ok(end) => {
                        window.truncate(start + end);
                        pos += end as u64;
                        break;
                    }
                    Err(e) if take as u64 == len - pos => {
                        return Err(Broken::DataSet(shift(e, pos)))
                    }
                    Err(_) if take >= MAX_ELEMENT => {
                        window.truncate(start);
                        check_window(&mut window, window_at, ts, &mut found)?;
                        found.stopped = Some(format!(
                            "not checked past offset {pos}: a sequence longer than {} MiB",
                            MAX_ELEMENT >> 20
                        ));
                        return Ok(found);
                    }
                    Err(_) => ahead *= 4,
                }
            }
        }
        if window.len() >= WINDOW {
            check_window(&mut window, window_at, ts, &mut found)?;
            window_at = pos;
        }
    }
    check_window(&mut window, window_at, ts, &mut found)?;
    Ok(found)
}

/// Walks the fragments of encapsulated Pixel Data from `pos` (its first item) to past its
/// sequence delimiter, reading only their headers.
fn fragments(
    source: &mut Source<'_>,
    mut pos: u64,
    len: u64,
    ts: &TransferSyntax,
) -> Result<u64, Broken> {
    loop {
        if len - pos < 8 {
            let kind = DataSetErrorKind::TruncatedHeader {
                needed: 8,
                available: (len - pos) as usize,
            };
            return Err(Broken::DataSet(error(pos, Tag::ITEM, kind)));
        }
        let mut head = [0u8; 8];
        source.read_at(pos, &mut head)?;
        let item = dataset::element_header(&head, ts).map_err(|mut e| {
            e.offset += pos as usize;
            e
        })?;
        match item.tag {
            Tag::SEQUENCE_DELIMITER => return Ok(pos + 8),
            Tag::ITEM if item.is_undefined_length() => {
                return Err(Broken::DataSet(error(
                    pos,
                    item.tag,
                    DataSetErrorKind::UndefinedLengthFragment,
                )))
            }
            Tag::ITEM => {
                let available = len - pos - 8;
                if u64::from(item.length) > available {
                    return Err(Broken::DataSet(error(
                        pos,
                        item.tag,
                        DataSetErrorKind::ValuePastEnd {
                            length: item.length,
                            available: available as usize,
                        },
                    )));
                }
                pos += 8 + u64::from(item.length);
            }
            tag => {
                return Err(Broken::DataSet(error(
                    pos,
                    tag,
                    DataSetErrorKind::ExpectedItem,
                )))
            }
        }
    }
}

/// Checks the whole elements gathered in `window` (which starts at `at` in the data set),
/// takes the UIDs from it while they are still unknown, and empties it.
fn check_window(
    window: &mut Vec<u8>,
    at: u64,
    ts: &TransferSyntax,
    found: &mut Found,
) -> Result<(), DataSetError> {
    if window.is_empty() {
        return Ok(());
    }
    let shift = |mut e: DataSetError| {
        e.offset += at as usize;
        e
    };
    let odd = dataset::validate_noting_values(window, ts).map_err(shift)?;
    found.odd_values.extend(odd.into_iter().map(shift));
    for (element, slot) in [
        (0x0016, &mut found.sop_class_uid),
        (0x0018, &mut found.sop_instance_uid),
    ] {
        if slot.is_none() {
            *slot = dataset::find_top_level_string(window, ts, Tag(0x0008, element))
                .map_err(shift)?
                .filter(|v| !v.is_empty());
        }
    }
    window.clear();
    Ok(())
}

fn error(pos: u64, tag: Tag, kind: DataSetErrorKind) -> DataSetError {
    DataSetError {
        offset: pos as usize,
        tag: Some(tag),
        kind,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    use dimse_core::uid;

    fn explicit(tag: (u16, u16), vr: &[u8; 2], value: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(&tag.0.to_le_bytes());
        out.extend_from_slice(&tag.1.to_le_bytes());
        out.extend_from_slice(vr);
        if matches!(vr, b"OB" | b"OW" | b"SQ" | b"UN" | b"UT") {
            out.extend_from_slice(&[0, 0]);
            out.extend_from_slice(&(value.len() as u32).to_le_bytes());
        } else {
            out.extend_from_slice(&(value.len() as u16).to_le_bytes());
        }
        out.extend_from_slice(value);
        out
    }

    fn written(name: &str, data: &[u8]) -> (PathBuf, File) {
        let dir = std::env::temp_dir().join(format!("dimse-pieces-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, data).unwrap();
        let file = File::open(&path).unwrap();
        (path, file)
    }

    const TS: &TransferSyntax = &TransferSyntax::EXPLICIT_VR_LITTLE_ENDIAN;

    fn head() -> Vec<u8> {
        let mut d = explicit((0x0008, 0x0016), b"UI", b"1.2.840.10008.5.1.4.1.1.7\0");
        d.extend(explicit((0x0008, 0x0018), b"UI", b"1.2.3.4\0"));
        d
    }

    #[test]
    fn bulk_pixels_are_skipped_and_uids_found() {
        let mut d = head();
        d.extend(explicit((0x0028, 0x0008), b"IS", b"1A"));
        d.extend(explicit(PIXELS, b"OW", &vec![7u8; 3 << 20]));
        d.extend(explicit((0xFFFA, 0xFFFA), b"OB", b"xy"));
        let (_, file) = written("bulk", &d);
        let found = check(&file, 0, d.len() as u64, TS).unwrap();
        assert_eq!(
            found.sop_class_uid.as_deref(),
            Some(uid::SECONDARY_CAPTURE_IMAGE_STORAGE)
        );
        assert_eq!(found.sop_instance_uid.as_deref(), Some("1.2.3.4"));
        assert_eq!(found.odd_values.len(), 1);
        assert_eq!(found.odd_values[0].tag, Some(Tag(0x0028, 0x0008)));
        assert_eq!(found.odd_values[0].offset, head().len());
        assert!(found.stopped.is_none());
    }

    const PIXELS: (u16, u16) = (0x7FE0, 0x0010);

    #[test]
    fn encapsulated_fragments_are_walked_and_a_cut_one_is_an_error() {
        let mut d = head();
        d.extend_from_slice(&[0xE0, 0x7F, 0x10, 0x00, b'O', b'B', 0, 0]);
        d.extend_from_slice(&u32::MAX.to_le_bytes());
        let item = |len: u32| {
            let mut i = vec![0xFE, 0xFF, 0x00, 0xE0];
            i.extend_from_slice(&len.to_le_bytes());
            i
        };
        d.extend(item(0));
        for _ in 0..3 {
            d.extend(item(1 << 20));
            d.extend(vec![0u8; 1 << 20]);
        }
        d.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
        let (_, file) = written("fragments", &d);
        let found = check(&file, 0, d.len() as u64, TS).unwrap();
        assert_eq!(found.sop_instance_uid.as_deref(), Some("1.2.3.4"));

        let cut = d.len() - 100;
        let (_, file) = written("fragments-cut", &d[..cut]);
        match check(&file, 0, cut as u64, TS) {
            Err(Broken::DataSet(e)) => {
                assert!(
                    matches!(e.kind, DataSetErrorKind::ValuePastEnd { .. }),
                    "{e}"
                )
            }
            other => panic!("{other:?}"),
        }
    }

    /// The piece-by-piece check agrees with the whole-data one on every file of the corpus,
    /// and on each cut short at several points: same verdict, same UIDs, same notes.
    #[test]
    fn agrees_with_the_whole_data_check_on_the_corpus() {
        let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/dicom");
        let Ok(entries) = std::fs::read_dir(&corpus) else {
            panic!("{}: the shared corpus is needed", corpus.display());
        };
        let mut compared = 0;
        for path in entries.flatten().map(|e| e.path()) {
            if !path.extension().is_some_and(|x| x == "dcm") {
                continue;
            }
            let bytes = std::fs::read(&path).unwrap();
            let Ok(layout) = dimse_core::part10::read_layout(&bytes) else {
                continue;
            };
            let Some(ts) = layout
                .transfer_syntax_uid
                .as_deref()
                .and_then(uid::transfer_syntax)
            else {
                continue;
            };
            if ts.deflated || layout.data_offset > bytes.len() {
                continue;
            }
            let data = &bytes[layout.data_offset..];
            for cut in [
                data.len(),
                data.len() * 3 / 4,
                data.len() / 2,
                200.min(data.len()),
            ] {
                let whole = dataset::validate_noting_values(&data[..cut], ts);
                let (_, file) = written("corpus", &data[..cut]);
                let pieces = check(&file, 0, cut as u64, ts);
                match (&whole, &pieces) {
                    (Ok(odd), Ok(found)) => {
                        assert_eq!(odd, &found.odd_values, "{} cut {cut}", path.display());
                        let uid = |e| {
                            dataset::find_top_level_string(&data[..cut], ts, Tag(0x0008, e))
                                .unwrap()
                                .filter(|v| !v.is_empty())
                        };
                        assert_eq!(found.sop_class_uid, uid(0x0016), "{}", path.display());
                        assert_eq!(found.sop_instance_uid, uid(0x0018), "{}", path.display());
                    }
                    (Err(_), Err(Broken::DataSet(_))) => {}
                    _ => panic!(
                        "{} cut {cut}: whole {whole:?}, pieces {pieces:?}",
                        path.display()
                    ),
                }
                compared += 1;
            }
        }
        assert!(compared >= 40, "only {compared} comparisons");
    }
}
