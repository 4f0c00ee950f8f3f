//! DICOM JSON (PS3.18 F.2) to a data set, for the data sets the N-service commands send.
//!
//! Attributes are keyed by `"GGGGEEEE"`, each an object with `"vr"` and `"Value"` (an array),
//! `"InlineBinary"` (base64) or neither (an empty value). Person names are objects with an
//! `"Alphabetic"` (and optionally `"Ideographic"`, `"Phonetic"`) group; sequences hold
//! objects; AT values are `"GGGGEEEE"` strings; IS and DS may be numbers or strings.

use base64::Engine;
use bytes::Bytes;
use dimse_core::dataset::{DataSet, Element, Tag, Value, Vr};
use serde_json::Value as Json;

/// The data set `text` describes: one object, or an array holding exactly one.
pub fn data_set_from_json(text: &str) -> Result<DataSet, String> {
    let json: Json = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let object = match &json {
        Json::Array(items) if items.len() == 1 => &items[0],
        Json::Array(items) => {
            return Err(format!(
                "an array of {} data sets; give exactly one",
                items.len()
            ))
        }
        other => other,
    };
    let mut ds = data_set(object, "")?;
    // Text values are written as given (UTF-8): say so unless the JSON names a charset.
    let non_ascii = ds.elements().iter().any(has_non_ascii);
    if non_ascii && ds.get(Tag::SPECIFIC_CHARACTER_SET).is_none() {
        ds.set_str(Tag::SPECIFIC_CHARACTER_SET, "ISO_IR 192")
            .map_err(|e| e.to_string())?;
    }
    Ok(ds)
}

fn has_non_ascii(e: &Element) -> bool {
    match &e.value {
        Value::Bytes(b) => e.vr.is_text() && !b.is_ascii(),
        Value::Sequence(items) => items.iter().any(|i| i.elements().iter().any(has_non_ascii)),
        Value::Fragments(_) => false,
    }
}

fn data_set(json: &Json, path: &str) -> Result<DataSet, String> {
    let Json::Object(map) = json else {
        return Err(format!("{}: expected an object of attributes", here(path)));
    };
    let mut ds = DataSet::new();
    for (key, attr) in map {
        let at = format!("{path}{key}");
        let tag = parse_tag(key).ok_or_else(|| format!("{at}: not a tag \"GGGGEEEE\""))?;
        let vr = attr
            .get("vr")
            .and_then(Json::as_str)
            .and_then(|v| <[u8; 2]>::try_from(v.as_bytes()).ok())
            .and_then(Vr::from_bytes)
            .ok_or_else(|| format!("{at}: missing or unknown \"vr\""))?;
        let value = element_value(attr, vr, &at)?;
        ds.insert(Element::new(tag, vr, value));
    }
    Ok(ds)
}

fn here(path: &str) -> &str {
    if path.is_empty() {
        "the data set"
    } else {
        path
    }
}

fn parse_tag(key: &str) -> Option<Tag> {
    (key.len() == 8)
        .then(|| u32::from_str_radix(key, 16).ok())
        .flatten()
        .map(Tag::from_u32)
}

fn element_value(attr: &Json, vr: Vr, at: &str) -> Result<Value, String> {
    if let Some(b64) = attr.get("InlineBinary") {
        let text = b64
            .as_str()
            .ok_or_else(|| format!("{at}: InlineBinary must be a string"))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text)
            .map_err(|e| format!("{at}: InlineBinary: {e}"))?;
        return Ok(Value::Bytes(pad(bytes, 0)));
    }
    let values: &[Json] = match attr.get("Value") {
        None | Some(Json::Null) => &[],
        Some(Json::Array(v)) => v,
        Some(_) => return Err(format!("{at}: \"Value\" must be an array")),
    };
    if vr == Vr::SQ {
        let items = values
            .iter()
            .enumerate()
            .map(|(i, item)| data_set(item, &format!("{at}[{i}].")))
            .collect::<Result<_, _>>()?;
        return Ok(Value::Sequence(items));
    }
    let number = |v: &Json| {
        v.as_f64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()))
            .ok_or_else(|| format!("{at}: {v} is not a number"))
    };
    let mut out = Vec::new();
    match vr.as_str() {
        "US" | "SS" | "UL" | "SL" | "FL" | "FD" | "UV" | "SV" => {
            for v in values {
                let n = number(v)?;
                match vr.as_str() {
                    "US" => out.extend((n as u16).to_le_bytes()),
                    "SS" => out.extend((n as i16).to_le_bytes()),
                    "UL" => out.extend((n as u32).to_le_bytes()),
                    "SL" => out.extend((n as i32).to_le_bytes()),
                    "FL" => out.extend((n as f32).to_le_bytes()),
                    "FD" => out.extend(n.to_le_bytes()),
                    "UV" => out.extend((n as u64).to_le_bytes()),
                    _ => out.extend((n as i64).to_le_bytes()),
                }
            }
            Ok(Value::Bytes(Bytes::from(out)))
        }
        "AT" => {
            for v in values {
                let tag = v
                    .as_str()
                    .and_then(parse_tag)
                    .ok_or_else(|| format!("{at}: AT value {v} is not \"GGGGEEEE\""))?;
                out.extend(tag.0.to_le_bytes());
                out.extend(tag.1.to_le_bytes());
            }
            Ok(Value::Bytes(Bytes::from(out)))
        }
        _ => {
            let texts = values
                .iter()
                .map(|v| text(v, vr, at))
                .collect::<Result<Vec<_>, _>>()?;
            let padding = if vr == Vr::UI { 0 } else { b' ' };
            Ok(Value::Bytes(pad(texts.join("\\").into_bytes(), padding)))
        }
    }
}

/// One text value as written in the data set.
fn text(v: &Json, vr: Vr, at: &str) -> Result<String, String> {
    match v {
        Json::String(s) => Ok(s.clone()),
        Json::Number(n) if matches!(vr.as_str(), "IS" | "DS") => Ok(n.to_string()),
        Json::Object(groups) if vr == Vr::PN => {
            let group = |name: &str| groups.get(name).and_then(Json::as_str).unwrap_or("");
            let mut pn = [group("Alphabetic"), group("Ideographic"), group("Phonetic")].join("=");
            while pn.ends_with('=') {
                pn.pop();
            }
            Ok(pn)
        }
        Json::Null => Ok(String::new()),
        other => Err(format!("{at}: {other} is not a {} value", vr.as_str())),
    }
}

/// Even length, as every value must have.
fn pad(mut bytes: Vec<u8>, with: u8) -> Bytes {
    if bytes.len() % 2 == 1 {
        bytes.push(with);
    }
    Bytes::from(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use dimse_core::dataset::to_json;

    /// What our own DICOM JSON writer writes reads back to the same data set.
    #[test]
    fn reads_what_to_json_writes() {
        let mut item = DataSet::new();
        item.set_str(Tag(0x0020, 0x000D), "1.2.3").unwrap();
        let mut ds = DataSet::new();
        ds.set_str(Tag(0x0010, 0x0010), "Doe^John").unwrap();
        ds.set_str(Tag(0x0040, 0x0252), "IN PROGRESS").unwrap();
        ds.set_u16(Tag(0x0028, 0x0010), 512).unwrap();
        ds.set_sequence(Tag(0x0040, 0x0270), vec![item]).unwrap();
        let text = to_json(&ds).unwrap();
        assert_eq!(data_set_from_json(&text).unwrap(), ds);
    }

    #[test]
    fn names_where_it_is_wrong() {
        let e = data_set_from_json(r#"{"00100010": {"vr": "XX"}}"#).unwrap_err();
        assert!(e.contains("00100010"), "{e}");
        let e = data_set_from_json(r#"{"00400270": {"vr": "SQ", "Value": [{"0020000D": 3}]}}"#)
            .unwrap_err();
        assert!(e.contains("00400270[0].0020000D"), "{e}");
        assert!(data_set_from_json("[{}, {}]").is_err());
    }

    #[test]
    fn person_names_and_numbers() {
        let ds = data_set_from_json(
            r#"{"00100010": {"vr": "PN", "Value": [{"Alphabetic": "Yamada^Tarou"}]},
                "00200013": {"vr": "IS", "Value": [7]},
                "00280030": {"vr": "DS", "Value": [0.5, "0.25"]}}"#,
        )
        .unwrap();
        assert_eq!(
            ds.get_str(Tag(0x0010, 0x0010)).unwrap().unwrap(),
            "Yamada^Tarou"
        );
        assert_eq!(ds.get_str(Tag(0x0020, 0x0013)).unwrap().unwrap(), "7");
        assert_eq!(
            ds.get_strs(Tag(0x0028, 0x0030)).unwrap().unwrap(),
            ["0.5", "0.25"]
        );
    }
}
