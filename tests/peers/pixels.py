#!/usr/bin/env python3
"""Pixel comparison for the field-send tests (tests/tests/field_send.rs).

Reads jobs from the file named by its argument (stdin without one), one per
line, tab-separated:

    RECEIVED <TAB> ORIGINAL [<TAB> REFERENCE ...]

RECEIVED is a file as a receiver wrote it (native pixel data expected),
ORIGINAL the file that was sent (usually compressed), each REFERENCE an
uncompressed decode of ORIGINAL by another decoder (DCMTK dcmdjpeg, dcmdjpls,
dcmdrle). For each job it prints one tab-separated line:

    RECEIVED  key=value  key=value ...

with these keys (values never contain tabs):

    ts        transfer syntax of RECEIVED
    pi        Photometric Interpretation of RECEIVED ("-" when absent)
    pc        Planar Configuration of RECEIVED ("-" when absent)
    spp       Samples per Pixel of RECEIVED
    lic       Lossy Image Compression (0028,2110) of RECEIVED ("-" when absent)
    orig_ts   transfer syntax of ORIGINAL
    orig_pi   Photometric Interpretation of ORIGINAL
    orig_lic  Lossy Image Compression of ORIGINAL ("-" when absent)
    lossy     "yes" when ORIGINAL holds lossy-compressed pixels (see
              lossy_original), "no" when its encoding is lossless, "unknown"
    diff0     max |RECEIVED - decode of ORIGINAL by pydicom with the
              pylibjpeg plugins (libjpeg, openjpeg, rle)|
    diffN     max |RECEIVED - REFERENCE N| (N = 1, 2, ...)
    elements  "same" when every data element of ORIGINAL outside the file meta
              and the pixel-encoding ones (Pixel Data, Photometric
              Interpretation, Planar Configuration, Lossy Image Compression,
              its Ratio and Method, group lengths, Data Set Trailing Padding)
              is in RECEIVED with an equal value and RECEIVED has no other;
              otherwise "differ:" and the first differences

When ORIGINAL has no Pixel Data, the diffs are "nopixels".

A diff is an integer, or "error:<why>" when a decode failed or the arrays
differ in shape. Pixels are compared as pydicom returns them with
as_rgb=True (YBR data converted to RGB, so a receiver's RGB and a decoder's
YBR output compare in one colour space), as int64, all frames at once.

Needs pydicom 3 and numpy; the pylibjpeg, pylibjpeg-libjpeg,
pylibjpeg-openjpeg and pylibjpeg-rle plugins for the compressed originals.
"""

import sys
import warnings

import numpy as np
import pydicom
from pydicom.pixels import pixel_array

warnings.simplefilter("ignore")

# Transfer syntaxes whose pixel data is native (not encapsulated).
NATIVE = {
    "1.2.840.10008.1.2",
    "1.2.840.10008.1.2.1",
    "1.2.840.10008.1.2.1.99",
    "1.2.840.10008.1.2.2",
}
JPEG_LOSSY = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51"}
JPEG_LOSSLESS = {"1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70"}
JPEG_LS = {"1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81"}
J2K = {
    "1.2.840.10008.1.2.4.90",
    "1.2.840.10008.1.2.4.91",
    "1.2.840.10008.1.2.4.201",
    "1.2.840.10008.1.2.4.202",
    "1.2.840.10008.1.2.4.203",
}
RLE = {"1.2.840.10008.1.2.5"}


def read(path):
    return pydicom.dcmread(path, force=True)


def ts_of(ds):
    meta = getattr(ds, "file_meta", None)
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    return str(ts) if ts else "-"


def value(ds, keyword):
    v = ds.get(keyword)
    if v is None or v == "":
        return "-"
    return str(v).replace("\t", " ")


def first_frame(ds):
    """The first frame of ds's encapsulated Pixel Data (bytes)."""
    from pydicom.encaps import generate_frames

    frames = int(ds.get("NumberOfFrames") or 1)
    return next(generate_frames(ds.PixelData, number_of_frames=frames))


def j2k_irreversible(codestream):
    """Whether a JPEG 2000 codestream uses the 9-7 irreversible wavelet (COD
    marker, SPcod transformation byte: 0 = 9-7 irreversible, 1 = 5-3
    reversible; ISO 15444-1 A.6.1). None when no COD marker is found."""
    start = codestream.find(b"\xff\x4f\xff\x51")  # SOC then SIZ
    if start < 0:
        return None
    pos = start + 2
    while pos + 4 <= len(codestream):
        marker = codestream[pos : pos + 2]
        length = int.from_bytes(codestream[pos + 2 : pos + 4], "big")
        if marker == b"\xff\x52":  # COD
            # Lcod(2) Scod(1) SGcod(4: order, layers(2), MCT) SPcod(levels,
            # cb width, cb height, cb style, transformation)
            transform = codestream[pos + 4 + 1 + 4 + 4]
            return transform == 0
        if marker == b"\xff\x90":  # SOT: main header is over
            return None
        pos += 2 + length
    return None


def jpeg_ls_near(codestream):
    """NEAR of the first scan of a JPEG-LS stream (SOS: Ls, Ns, Ns x (Ci,
    Tmi), NEAR, ILV, Al/Ah; ISO 14495-1 C.2.3). None when not found."""
    pos = codestream.find(b"\xff\xda")
    if pos < 0:
        return None
    ns = codestream[pos + 4]
    return codestream[pos + 5 + 2 * ns]


def lossy_original(ds, ts):
    """'yes' / 'no' / 'unknown': whether ORIGINAL's pixels went through lossy
    compression: its own (0028,2110) says "01", or its encoding is lossy
    (JPEG baseline/extended; JPEG-LS with NEAR > 0; JPEG 2000 with the 9-7
    irreversible wavelet)."""
    if value(ds, "LossyImageCompression") == "01":
        return "yes"
    if ts in JPEG_LOSSY:
        return "yes"
    if ts in JPEG_LOSSLESS or ts in RLE or ts in NATIVE:
        return "no"
    try:
        frag = first_frame(ds)
    except Exception:
        return "unknown"
    if ts in JPEG_LS:
        near = jpeg_ls_near(frag)
        if near is None:
            return "unknown"
        return "yes" if near > 0 else "no"
    if ts in J2K:
        irr = j2k_irreversible(frag)
        if irr is None:
            return "unknown"
        return "yes" if irr else "no"
    return "unknown"


def pixels(ds, plugin):
    kwargs = {"as_rgb": True}
    if plugin and ts_of(ds) not in NATIVE:
        kwargs["decoding_plugin"] = plugin
    return np.asarray(pixel_array(ds, **kwargs)).astype(np.int64)


def diff(received, other):
    if isinstance(received, str):
        return "error:received " + received
    if isinstance(other, str):
        return "error:" + other
    if received.shape != other.shape:
        return "error:shape {} vs {}".format(received.shape, other.shape)
    if received.size == 0:
        return "0"
    return str(int(np.abs(received - other).max()))


def decode(path_or_ds, plugin):
    try:
        ds = path_or_ds if isinstance(path_or_ds, pydicom.Dataset) else read(path_or_ds)
        return pixels(ds, plugin)
    except Exception as e:  # reported, not raised: one bad file must not hide the rest
        return "{}: {}".format(type(e).__name__, e).replace("\t", " ").replace("\n", " ")


# Elements a decompression may change (PS3.5 8.2, A.4; PS3.3 C.7.6.3): not compared.
PIXEL_ENCODING = {
    0x7FE00010,  # Pixel Data
    0x00280004,  # Photometric Interpretation
    0x00280006,  # Planar Configuration
    0x00282110,  # Lossy Image Compression
    0x00282112,  # Lossy Image Compression Ratio
    0x00282114,  # Lossy Image Compression Method
    0xFFFCFFFC,  # Data Set Trailing Padding
}


def short(v):
    text = repr(v).replace("\t", " ").replace("\n", " ")
    return text if len(text) <= 60 else text[:57] + "..."


def element_differences(orig, rec):
    diffs = []
    tags = sorted(set(orig.keys()) | set(rec.keys()))
    for tag in tags:
        if tag.group == 0x0002 or tag.element == 0x0000 or int(tag) in PIXEL_ENCODING:
            continue
        a = orig.get(tag)
        b = rec.get(tag)
        if b is None:
            diffs.append("{} missing".format(tag))
        elif a is None:
            diffs.append("{} added ({})".format(tag, short(b.value)))
        else:
            try:
                same = a.value == b.value
            except Exception as e:
                same = False
                diffs.append("{} not comparable: {}".format(tag, e))
                continue
            if not same:
                diffs.append("{}: {} vs {}".format(tag, short(a.value), short(b.value)))
    return diffs


def job(line):
    parts = line.rstrip("\n").split("\t")
    received_path, original_path, refs = parts[0], parts[1], parts[2:]
    rec = read(received_path)
    orig = read(original_path)
    orig_ts = ts_of(orig)
    fields = [
        ("ts", ts_of(rec)),
        ("pi", value(rec, "PhotometricInterpretation")),
        ("pc", value(rec, "PlanarConfiguration")),
        ("spp", value(rec, "SamplesPerPixel")),
        ("lic", value(rec, "LossyImageCompression")),
        ("orig_ts", orig_ts),
        ("orig_pi", value(orig, "PhotometricInterpretation")),
        ("orig_lic", value(orig, "LossyImageCompression")),
        ("lossy", lossy_original(orig, orig_ts)),
    ]
    diffs = element_differences(orig, rec)
    fields.append(("elements", "same" if not diffs else "differ:" + "; ".join(diffs[:8])))
    if "PixelData" not in orig:
        fields.append(("diff0", "nopixels"))
    else:
        received = decode(rec, None)
        fields.append(("diff0", diff(received, decode(orig, "pylibjpeg"))))
        for n, ref in enumerate(refs, start=1):
            fields.append(("diff{}".format(n), diff(received, decode(ref, None))))
    return "\t".join([received_path] + ["{}={}".format(k, v) for k, v in fields])


def main():
    jobs = open(sys.argv[1]) if len(sys.argv) > 1 else sys.stdin
    for line in jobs:
        if line.strip():
            try:
                print(job(line), flush=True)
            except Exception as e:
                path = line.split("\t")[0]
                why = "{}: {}".format(type(e).__name__, e).replace("\n", " ").replace("\t", " ")
                print("{}\terror={}".format(path, why), flush=True)


if __name__ == "__main__":
    main()
