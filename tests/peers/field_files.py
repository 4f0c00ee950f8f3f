#!/usr/bin/env python3
"""Test files for the field-send tests (tests/tests/field_send.rs), made with
pydicom (3.x), numpy and, for JPEG 2000, the pylibjpeg-openjpeg encoder.

    field_files.py sources OUT CORPUS
        Uncompressed explicit VR little endian images that DCMTK's dcmcjpeg,
        dcmcjpls and dcmcrle then compress (the corpus has no 8-bit grayscale,
        12-bit or multi-frame image in a native syntax):
          gray8.dcm       8-bit MONOCHROME2, 128x128 (from CT_small, scaled)
          gray8_mf.dcm    the same, 4 frames (each frame shifted)
          gray12.dcm      12 bits stored in 16, unsigned, 64x64 (from MR_small)
          gray12_mf.dcm   the same, 3 frames
          gray16s_mf.dcm  16-bit signed, 128x128, 3 frames (from CT_small)
          rgb.dcm         8-bit RGB, Planar Configuration 0, 60x80 (from
                          ExplVR_BigEnd, which is planar configuration 1)
          rgb_mf.dcm      the same, 3 frames

    field_files.py j2k OUT CORPUS SOURCES
        JPEG 2000 files, all in one new study (one series), for the C-MOVE
        test: lossless (1.2.840.10008.1.2.4.90) of CT_small (16-bit signed),
        gray8_mf and rgb (YBR_RCT, reversible colour transform) and
        rgb_mf (RGB, no colour transform); lossy (1.2.840.10008.1.2.4.91,
        Lossy Image Compression "01") of CT_small, gray12_mf and rgb
        (YBR_ICT, irreversible colour transform).

    field_files.py classes OUT SOURCE N
        N copies of SOURCE with SOP Class UIDs 1.2.826.0.1.3680043.10.1000.1
        to .N (not a standard class; storescp -pm accepts them) and fresh
        SOP Instance UIDs: class<i>.dcm.

Every file gets a fresh SOP Instance UID (and the file meta follows). Prints
one line per file written: "<path>\\t<SOP Instance UID>".
"""

import os
import sys
import warnings

import numpy as np
import pydicom
from pydicom.uid import (
    ExplicitVRLittleEndian,
    JPEG2000,
    JPEG2000Lossless,
    generate_uid,
)

warnings.simplefilter("ignore")

SC = "1.2.840.10008.5.1.4.1.1.7"
MF_GRAY_BYTE_SC = "1.2.840.10008.5.1.4.1.1.7.2"
MF_GRAY_WORD_SC = "1.2.840.10008.5.1.4.1.1.7.3"
MF_TRUE_COLOR_SC = "1.2.840.10008.5.1.4.1.1.7.4"


def fresh(ds, sop_class=None):
    """New SOP Instance UID (and SOP Class UID if given), meta to match."""
    if sop_class is not None:
        ds.SOPClassUID = sop_class
        ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID


def save(ds, out, name):
    path = os.path.join(out, name)
    explicit_le = ds.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    if explicit_le:
        # Big endian sources are re-encoded here (save_as refuses to).
        pydicom.dcmwrite(path, ds, implicit_vr=False, little_endian=True, enforce_file_format=True)
    else:
        ds.save_as(path, enforce_file_format=True)
    print("{}\t{}".format(path, ds.SOPInstanceUID), flush=True)
    return path


def image(src, arr, bits_stored, signed, photometric, sop_class, frames=1):
    """src re-encoded in explicit VR little endian with pixels arr."""
    ds = pydicom.dcmread(src)
    arr = np.ascontiguousarray(arr)
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    for kw in (
        "LossyImageCompression",
        "LossyImageCompressionRatio",
        "LossyImageCompressionMethod",
        "WindowCenter",
        "WindowWidth",
        "SmallestImagePixelValue",
        "LargestImagePixelValue",
    ):
        if kw in ds:
            delattr(ds, kw)
    samples = 3 if photometric == "RGB" else 1
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = photometric
    if samples == 3:
        ds.PlanarConfiguration = 0
    elif "PlanarConfiguration" in ds:
        del ds.PlanarConfiguration
    ds.Rows = arr.shape[1] if frames > 1 else arr.shape[0]
    ds.Columns = arr.shape[2] if frames > 1 else arr.shape[1]
    allocated = 8 if arr.dtype.itemsize == 1 else 16
    ds.BitsAllocated = allocated
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if frames > 1:
        ds.NumberOfFrames = frames
    elif "NumberOfFrames" in ds:
        del ds.NumberOfFrames
    ds.PixelData = arr.tobytes()
    ds["PixelData"].VR = "OB" if allocated == 8 else "OW"
    fresh(ds, sop_class)
    return ds


def frames_of(arr, n):
    """n frames: arr rolled by a few pixels each time (distinct frames)."""
    return np.stack([np.roll(arr, 5 * i, axis=1) for i in range(n)])


def sources(out, corpus):
    ct = os.path.join(corpus, "CT_small.dcm")
    mr = os.path.join(corpus, "MR_small.dcm")
    big = os.path.join(corpus, "ExplVR_BigEnd.dcm")
    ct_px = pydicom.dcmread(ct).pixel_array.astype(np.int32)
    lo, hi = int(ct_px.min()), int(ct_px.max())
    gray8 = ((ct_px - lo) * 255 // max(hi - lo, 1)).astype(np.uint8)
    save(image(ct, gray8, 8, False, "MONOCHROME2", SC), out, "gray8.dcm")
    save(
        image(ct, frames_of(gray8, 4), 8, False, "MONOCHROME2", MF_GRAY_BYTE_SC, 4),
        out,
        "gray8_mf.dcm",
    )
    mr_px = pydicom.dcmread(mr).pixel_array.astype(np.int32)
    lo, hi = int(mr_px.min()), int(mr_px.max())
    gray12 = ((mr_px - lo) * 4095 // max(hi - lo, 1)).astype(np.uint16)
    save(image(mr, gray12, 12, False, "MONOCHROME2", None), out, "gray12.dcm")
    save(
        image(mr, frames_of(gray12, 3), 12, False, "MONOCHROME2", MF_GRAY_WORD_SC, 3),
        out,
        "gray12_mf.dcm",
    )
    save(
        image(ct, frames_of(ct_px.astype(np.int16), 3), 16, True, "MONOCHROME2", MF_GRAY_WORD_SC, 3),
        out,
        "gray16s_mf.dcm",
    )
    rgb = pydicom.dcmread(big).pixel_array.astype(np.uint8)
    save(image(big, rgb, 8, False, "RGB", SC), out, "rgb.dcm")
    save(
        image(big, frames_of(rgb, 3), 8, False, "RGB", MF_TRUE_COLOR_SC, 3),
        out,
        "rgb_mf.dcm",
    )


def j2k(out, corpus, srcdir):
    study = generate_uid()
    series = generate_uid()
    plan = [
        # (source, output name, transfer syntax, photometric for the encoder, options)
        (os.path.join(corpus, "CT_small.dcm"), "j2k_ct_lossless.dcm", JPEG2000Lossless, None, {}),
        (os.path.join(srcdir, "gray8_mf.dcm"), "j2k_gray8_mf_lossless.dcm", JPEG2000Lossless, None, {}),
        (os.path.join(srcdir, "rgb.dcm"), "j2k_rgb_rct_lossless.dcm", JPEG2000Lossless, "YBR_RCT", {}),
        (os.path.join(srcdir, "rgb_mf.dcm"), "j2k_rgb_mf_lossless.dcm", JPEG2000Lossless, None, {}),
        (os.path.join(corpus, "CT_small.dcm"), "j2k_ct_lossy.dcm", JPEG2000, None, {"j2k_cr": [12]}),
        (os.path.join(srcdir, "gray12_mf.dcm"), "j2k_gray12_mf_lossy.dcm", JPEG2000, None, {"j2k_cr": [8]}),
        (os.path.join(srcdir, "rgb.dcm"), "j2k_rgb_ict_lossy.dcm", JPEG2000, "YBR_ICT", {"j2k_psnr": [40]}),
    ]
    for number, (src, name, ts, photometric, opts) in enumerate(plan, start=1):
        ds = pydicom.dcmread(src)
        if photometric is not None:
            # pydicom's openjpeg encoder applies the multiple component
            # transform to RGB input when the target is YBR_RCT / YBR_ICT.
            ds.PhotometricInterpretation = photometric
        ds.compress(ts, **opts)
        if ts == JPEG2000:
            ds.LossyImageCompression = "01"
            ds.LossyImageCompressionMethod = "ISO_15444_1"
        ds.StudyInstanceUID = study
        ds.SeriesInstanceUID = series
        ds.InstanceNumber = number
        fresh(ds)
        save(ds, out, name)


def classes(out, source, n):
    for i in range(1, n + 1):
        ds = pydicom.dcmread(source)
        fresh(ds, "1.2.826.0.1.3680043.10.1000.{}".format(i))
        save(ds, out, "class{}.dcm".format(i))


def info(paths):
    for path in paths:
        fields = ["-"] * 5
        try:
            ds = pydicom.dcmread(path, force=True, defer_size=256)
            meta = getattr(ds, "file_meta", None)

            def get(d, kw):
                v = d.get(kw) if d is not None else None
                return str(v) if v else "-"

            fields = [
                get(meta, "TransferSyntaxUID"),
                get(ds, "SOPInstanceUID"),
                get(meta, "MediaStorageSOPInstanceUID"),
                get(ds, "StudyInstanceUID"),
                "pixels" if "PixelData" in ds else "nopixels",
            ]
        except Exception:
            pass
        print("\t".join([path] + fields), flush=True)


def testdata(names):
    from pydicom.data import get_testdata_file

    for name in names:
        try:
            path = get_testdata_file(name, download=False)
        except Exception:
            path = None
        print(path or "-", flush=True)


def main(argv):
    if len(argv) >= 4 and argv[1] == "sources":
        sources(argv[2], argv[3])
    elif len(argv) >= 5 and argv[1] == "j2k":
        j2k(argv[2], argv[3], argv[4])
    elif len(argv) >= 2 and argv[1] == "info":
        info(argv[2:])
    elif len(argv) >= 2 and argv[1] == "testdata":
        testdata(argv[2:])
    elif len(argv) >= 5 and argv[1] == "classes":
        classes(argv[2], argv[3], int(argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
