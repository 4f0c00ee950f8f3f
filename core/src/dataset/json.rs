//! The DICOM JSON Model (PS3.18 Annex F): a [`DataSet`] written as JSON, without dependencies.
//!
//! One JSON object per data set, keyed by the tags as eight uppercase hexadecimal digits
//! (`"00100020"`) in ascending order; each attribute is `{"vr":"LO","Value":[...]}`:
//!
//! - **Empty** values (zero length, or text that is only padding) have no `"Value"` key
//!   (F.2.5); an empty value among several (`A\\B` with nothing in between) is `null`.
//! - **Text** (AE, AS, CS, DA, DT, LO, SH, TM, UC, UI, …) is decoded with the data set's
//!   Specific Character Set (an item inherits its enclosing data set's), split at backslashes
//!   and trimmed of padding; LT, ST, UT and UR are single values, backslashes included.
//! - **PN** values are objects: the component groups split at `=` are `"Alphabetic"`,
//!   `"Ideographic"` and `"Phonetic"`, each present only when not empty (F.2.2).
//! - **IS** and **DS** are JSON numbers. A DS that is already a valid JSON number is written
//!   verbatim (no precision lost); one that is not (`"+1.5"`, `".5"`, `"007"`) is rewritten
//!   from its value; a value that is no finite number (`"1A"`, `"NaN"`, `"1e999"`) is kept
//!   as a JSON **string**, so no data is lost and the output stays valid JSON. An IS that is
//!   not an integer is likewise a string.
//! - **US, SS, UL, SL, FL, FD, SV, UV** are JSON numbers. SV and UV values outside
//!   ±2<sup>53</sup> are strings of decimal digits (F.2.3.1), as a JSON reader would round
//!   them. FL/FD infinities and NaN, which JSON numbers cannot express, are the strings
//!   `"Infinity"`, `"-Infinity"` and `"NaN"`.
//! - **AT** values are strings of eight uppercase hexadecimal digits.
//! - **SQ** values are arrays of item objects. A sequence held by another VR (a UN of
//!   undefined length, decoded as a sequence) is written with `"vr":"SQ"`, as its items are.
//! - **OB, OD, OF, OL, OV, OW, UN** are `"InlineBinary"`: the value's bytes, little endian,
//!   in base64 (RFC 4648, padded). Encapsulated Pixel Data ([`Value::Fragments`]) is the
//!   encapsulated value as Explicit VR Little Endian would carry it: each fragment (the Basic
//!   Offset Table first) as an item, then a sequence delimiter.
//!
//! Group length elements (gggg,0000) and private elements are written like any other.
//! The output is compact (no whitespace); strings escape `"` and `\`, and control characters
//! as `\u00XX`.
//!
//! ```
//! use dimse_core::dataset::{self, DataSet};
//!
//! # fn main() -> Result<(), dimse_core::dataset::ValueError> {
//! let ds = DataSet::new()
//!     .with("PatientName", "Doe^John")?
//!     .with_empty("PatientID")?;
//! assert_eq!(
//!     dataset::to_json(&ds)?,
//!     r#"{"00100010":{"vr":"PN","Value":[{"Alphabetic":"Doe^John"}]},"00100020":{"vr":"LO"}}"#
//! );
//! # Ok(())
//! # }
//! ```

use std::fmt::Write as _;

use super::{DataSet, Element, Tag, Value, ValueError, Vr};

/// Writes `ds` as one DICOM JSON object (PS3.18 F.2), as described in the
/// [module documentation](self).
///
/// Errors: text that cannot be decoded (an unsupported Specific Character Set, invalid UTF-8
/// under ISO_IR 192), a binary number value whose length is not a multiple of its size, or an
/// SQ element holding bytes.
///
/// ```
/// use dimse_core::dataset::{self, DataSet, Tag};
///
/// # fn main() -> Result<(), dimse_core::dataset::ValueError> {
/// let mut ds = DataSet::new().with("StudyDate", "20240229")?;
/// ds.set_u16(Tag(0x0028, 0x0010), 512)?; // Rows
/// assert_eq!(
///     dataset::to_json(&ds)?,
///     r#"{"00080020":{"vr":"DA","Value":["20240229"]},"00280010":{"vr":"US","Value":[512]}}"#
/// );
/// # Ok(())
/// # }
/// ```
pub fn to_json(ds: &DataSet) -> Result<String, ValueError> {
    let mut out = String::new();
    write_data_set(ds, &mut out)?;
    Ok(out)
}

/// Writes several data sets as a JSON array of DICOM JSON objects, as a QIDO-RS response
/// carries them (PS3.18 F.2.1).
///
/// ```
/// use dimse_core::dataset::{self, DataSet};
///
/// # fn main() -> Result<(), dimse_core::dataset::ValueError> {
/// let a = DataSet::new().with("PatientID", "1")?;
/// let b = DataSet::new();
/// assert_eq!(
///     dataset::array_to_json(&[a, b])?,
///     r#"[{"00100020":{"vr":"LO","Value":["1"]}},{}]"#
/// );
/// assert_eq!(dataset::array_to_json(&[])?, "[]");
/// # Ok(())
/// # }
/// ```
pub fn array_to_json(sets: &[DataSet]) -> Result<String, ValueError> {
    let mut out = String::from("[");
    for (i, ds) in sets.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_data_set(ds, &mut out)?;
    }
    out.push(']');
    Ok(out)
}

fn write_data_set(ds: &DataSet, out: &mut String) -> Result<(), ValueError> {
    out.push('{');
    for (i, e) in ds.elements().iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "\"{:04X}{:04X}\":", e.tag.0, e.tag.1);
        write_element(ds, e, out)?;
    }
    out.push('}');
    Ok(())
}

/// One JSON value of an attribute's "Value" array.
enum Item {
    Null,
    /// Already JSON (a number, or a nested object).
    Raw(String),
    Str(String),
}

fn write_element(ds: &DataSet, e: &Element, out: &mut String) -> Result<(), ValueError> {
    let tag = e.tag;
    let bytes = match &e.value {
        Value::Sequence(items) => {
            out.push_str("{\"vr\":\"SQ\"");
            if !items.is_empty() {
                out.push_str(",\"Value\":[");
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    write_data_set(item, out)?;
                }
                out.push(']');
            }
            out.push('}');
            return Ok(());
        }
        Value::Fragments(fragments) => {
            let _ = write!(out, "{{\"vr\":\"{}\",\"InlineBinary\":\"", e.vr);
            base64_encode(&encapsulated(fragments), out);
            out.push_str("\"}");
            return Ok(());
        }
        Value::Bytes(b) => b,
    };
    let _ = write!(out, "{{\"vr\":\"{}\"", e.vr);
    if bytes.is_empty() {
        out.push('}');
        return Ok(());
    }
    let items: Vec<Item> = match e.vr {
        Vr::SQ => return Err(ValueError::WrongValueKind { tag }),
        Vr::OB | Vr::OD | Vr::OF | Vr::OL | Vr::OV | Vr::OW | Vr::UN => {
            out.push_str(",\"InlineBinary\":\"");
            base64_encode(bytes, out);
            out.push_str("\"}");
            return Ok(());
        }
        Vr::US => numbers(tag, bytes, 2, |x| {
            u16::from_le_bytes([x[0], x[1]]).to_string()
        })?,
        Vr::SS => numbers(tag, bytes, 2, |x| {
            i16::from_le_bytes([x[0], x[1]]).to_string()
        })?,
        Vr::UL => numbers(tag, bytes, 4, |x| u32::from_le_bytes(arr(x)).to_string())?,
        Vr::SL => numbers(tag, bytes, 4, |x| i32::from_le_bytes(arr(x)).to_string())?,
        Vr::UV => big_numbers(tag, bytes, |x| i128::from(u64::from_le_bytes(arr(x))))?,
        Vr::SV => big_numbers(tag, bytes, |x| i128::from(i64::from_le_bytes(arr(x))))?,
        Vr::FL => floats(tag, bytes, 4, |x| {
            let v = f32::from_le_bytes(arr(x));
            float_json(f64::from(v), || (v.to_string(), format!("{v:e}")))
        })?,
        Vr::FD => floats(tag, bytes, 8, |x| {
            let v = f64::from_le_bytes(arr(x));
            float_json(v, || (v.to_string(), format!("{v:e}")))
        })?,
        Vr::AT => {
            if bytes.len() % 4 != 0 {
                return Err(bad_length(tag, bytes.len(), 4));
            }
            bytes
                .chunks_exact(4)
                .map(|x| {
                    let g = u16::from_le_bytes([x[0], x[1]]);
                    let el = u16::from_le_bytes([x[2], x[3]]);
                    Item::Str(format!("{g:04X}{el:04X}"))
                })
                .collect()
        }
        vr => {
            let values = ds
                .get_strs(tag)
                .unwrap_or(Err(ValueError::WrongValueKind { tag }))?;
            values
                .into_iter()
                .map(|v| {
                    if v.is_empty() {
                        Item::Null
                    } else {
                        match vr {
                            Vr::PN => person_name(&v),
                            Vr::IS => integer_string(&v),
                            Vr::DS => decimal_string(&v),
                            _ => Item::Str(v),
                        }
                    }
                })
                .collect()
        }
    };
    if !items.is_empty() {
        out.push_str(",\"Value\":[");
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            match item {
                Item::Null => out.push_str("null"),
                Item::Raw(s) => out.push_str(s),
                Item::Str(s) => write_string(s, out),
            }
        }
        out.push(']');
    }
    out.push('}');
    Ok(())
}

fn arr<const N: usize>(x: &[u8]) -> [u8; N] {
    x.try_into().expect("chunk of the VR's size")
}

fn bad_length(tag: Tag, length: usize, unit: usize) -> ValueError {
    if length < unit {
        ValueError::TooShort { tag, length }
    } else {
        ValueError::Malformed {
            tag,
            text: format!("{length} bytes, not a multiple of {unit}"),
        }
    }
}

fn numbers(
    tag: Tag,
    bytes: &[u8],
    unit: usize,
    f: impl Fn(&[u8]) -> String,
) -> Result<Vec<Item>, ValueError> {
    if bytes.len() % unit != 0 {
        return Err(bad_length(tag, bytes.len(), unit));
    }
    Ok(bytes.chunks_exact(unit).map(|x| Item::Raw(f(x))).collect())
}

/// The largest magnitude an IEEE double holds exactly together with its neighbours.
const MAX_EXACT: i128 = 1 << 53;

fn big_numbers(tag: Tag, bytes: &[u8], f: impl Fn(&[u8]) -> i128) -> Result<Vec<Item>, ValueError> {
    if bytes.len() % 8 != 0 {
        return Err(bad_length(tag, bytes.len(), 8));
    }
    Ok(bytes
        .chunks_exact(8)
        .map(|x| {
            let v = f(x);
            if (-MAX_EXACT..=MAX_EXACT).contains(&v) {
                Item::Raw(v.to_string())
            } else {
                Item::Str(v.to_string())
            }
        })
        .collect())
}

fn floats(
    tag: Tag,
    bytes: &[u8],
    unit: usize,
    f: impl Fn(&[u8]) -> Item,
) -> Result<Vec<Item>, ValueError> {
    if bytes.len() % unit != 0 {
        return Err(bad_length(tag, bytes.len(), unit));
    }
    Ok(bytes.chunks_exact(unit).map(f).collect())
}

/// A float as JSON: the shortest text that reads back the same value, in plain notation for
/// ordinary magnitudes and exponent notation (`1e300`) for very large or small ones, both
/// valid JSON; non-finite values as strings.
/// `v` is the value (an f32 widened) to classify, `text` its plain and exponent notations.
fn float_json(v: f64, text: impl FnOnce() -> (String, String)) -> Item {
    if v.is_nan() {
        return Item::Str("NaN".to_string());
    }
    if v.is_infinite() {
        let s = if v < 0.0 { "-Infinity" } else { "Infinity" };
        return Item::Str(s.to_string());
    }
    let magnitude = v.abs();
    let (plain, exp) = text();
    if magnitude == 0.0 || (1e-6..1e21).contains(&magnitude) {
        Item::Raw(plain)
    } else {
        Item::Raw(exp)
    }
}

/// PN: `{"Alphabetic":…,"Ideographic":…,"Phonetic":…}` with the non-empty groups.
fn person_name(v: &str) -> Item {
    const GROUPS: [&str; 3] = ["Alphabetic", "Ideographic", "Phonetic"];
    let mut obj = String::from("{");
    for (name, group) in GROUPS.iter().zip(v.split('=')) {
        if group.is_empty() {
            continue;
        }
        if obj.len() > 1 {
            obj.push(',');
        }
        let _ = write!(obj, "\"{name}\":");
        write_string(group, &mut obj);
    }
    if obj.len() == 1 {
        return Item::Null;
    }
    obj.push('}');
    Item::Raw(obj)
}

fn integer_string(v: &str) -> Item {
    match v.parse::<i128>() {
        Ok(n) => Item::Raw(n.to_string()),
        Err(_) => Item::Str(v.to_string()),
    }
}

/// DS: verbatim when already a JSON number, else rewritten from its value; a string when it
/// is no finite number (`"1A"`, `"NaN"`, or `"1e999"`, which readers would take as infinite).
fn decimal_string(v: &str) -> Item {
    let numeric = v.bytes().all(|b| b"+-.eE0123456789".contains(&b));
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() && numeric => {
            if is_json_number(v) {
                Item::Raw(v.to_string())
            } else {
                float_json(x, || (x.to_string(), format!("{x:e}")))
            }
        }
        _ => Item::Str(v.to_string()),
    }
}

/// RFC 8259 number: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`.
fn is_json_number(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let digits = |i: &mut usize| {
        let start = *i;
        while *i < b.len() && b[*i].is_ascii_digit() {
            *i += 1;
        }
        *i - start
    };
    if b.first() == Some(&b'-') {
        i += 1;
    }
    match b.get(i) {
        Some(b'0') => i += 1,
        Some(b'1'..=b'9') => {
            digits(&mut i);
        }
        _ => return false,
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// A JSON string literal: `"` and `\` escaped, control characters as `\u00XX`.
fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 || c == '\u{7F}' => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The encapsulated value as its bytes: items (FFFE,E000) holding the fragments, then the
/// sequence delimiter (FFFE,E0DD), little endian.
fn encapsulated(fragments: &[bytes::Bytes]) -> Vec<u8> {
    let mut v = Vec::with_capacity(fragments.iter().map(|f| f.len() + 8).sum::<usize>() + 8);
    for f in fragments {
        v.extend_from_slice(&[0xFE, 0xFF, 0x00, 0xE0]);
        let len = u32::try_from(f.len()).unwrap_or(u32::MAX);
        v.extend_from_slice(&len.to_le_bytes());
        v.extend_from_slice(f);
    }
    v.extend_from_slice(&[0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]);
    v
}

/// Base64 (RFC 4648 §4, standard alphabet, `=` padding).
fn base64_encode(data: &[u8], out: &mut String) {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    out.reserve(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let n = match *chunk {
            [a, b, c] => u32::from_be_bytes([0, a, b, c]),
            [a, b] => u32::from_be_bytes([0, a, b, 0]),
            [a] => u32::from_be_bytes([0, a, 0, 0]),
            _ => unreachable!("chunks of 1 to 3 bytes"),
        };
        let sextet = |shift: u32| char::from(ALPHABET[((n >> shift) & 0x3F) as usize]);
        out.push(sextet(18));
        out.push(sextet(12));
        out.push(if chunk.len() > 1 { sextet(6) } else { '=' });
        out.push(if chunk.len() > 2 { sextet(0) } else { '=' });
    }
}
