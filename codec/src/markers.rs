//! The marker framing JPEG (ISO 10918-1 B.1.1) and JPEG-LS (T.87 Annex D) share, and the
//! whole-word load both scan readers use where no FF byte is.

/// One marker and its segment.
pub(crate) struct Marker<'a> {
    /// The byte after FF.
    pub code: u8,
    /// The segment after its length field; empty for markers without one (SOI, EOI, RSTn,
    /// TEM).
    pub payload: &'a [u8],
    /// Where the next marker (or a scan's entropy-coded data) starts.
    pub next: usize,
}

/// The marker at `pos` (after any fill bytes FF); `Ok(None)` at the end of the stream.
pub(crate) fn read(stream: &[u8], mut pos: usize) -> Result<Option<Marker<'_>>, String> {
    // Markers may be preceded by any number of fill bytes (FF).
    while stream.get(pos) == Some(&0xFF) && stream.get(pos + 1) == Some(&0xFF) {
        pos += 1;
    }
    let code = match stream.get(pos..pos + 2) {
        Some([0xFF, m]) => *m,
        Some(_) => return Err(format!("expected a marker at byte {pos}")),
        None => return Ok(None),
    };
    pos += 2;
    // Standalone markers carry no length: TEM, RSTn, SOI, EOI.
    if code == 0x01 || (0xD0..=0xD9).contains(&code) {
        return Ok(Some(Marker {
            code,
            payload: &[],
            next: pos,
        }));
    }
    let length = match stream.get(pos..pos + 2) {
        Some(&[hi, lo]) => usize::from(u16::from_be_bytes([hi, lo])),
        _ => return Err(format!("marker FF{code:02X} has no length")),
    };
    if length < 2 {
        return Err(format!("marker FF{code:02X} has length {length}"));
    }
    let payload = stream
        .get(pos + 2..pos + length)
        .ok_or_else(|| format!("marker FF{code:02X} runs past the stream"))?;
    Ok(Some(Marker {
        code,
        payload,
        next: pos + length,
    }))
}

/// Loads the eight bytes at `pos` of entropy-coded `data` at once when none of them is FF
/// (no marker and no stuffed bit among them: most of a scan): as many whole bytes as fit
/// below the `valid` left-aligned bits of `cache` (at most 56), which it returns. It returns
/// 0, loading nothing, when an FF is among them or fewer than eight bytes are left; the
/// caller's bytewise path handles those.
#[inline]
pub(crate) fn load_unstuffed(data: &[u8], pos: usize, cache: &mut u64, valid: u32) -> u32 {
    let Some(chunk) = data.get(pos..pos + 8) else {
        return 0;
    };
    let word = u64::from_be_bytes(chunk.try_into().expect("eight bytes"));
    // Some byte of `word` is FF exactly when some byte of its complement is 0.
    let inverted = !word;
    if inverted.wrapping_sub(0x0101_0101_0101_0101) & !inverted & 0x8080_8080_8080_8080 != 0 {
        return 0;
    }
    let take = (64 - valid) / 8;
    let kept = if take == 8 {
        word
    } else {
        word & !(u64::MAX >> (take * 8))
    };
    *cache |= kept >> valid;
    take
}
