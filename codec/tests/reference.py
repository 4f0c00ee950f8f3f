#!/usr/bin/env python3
"""Reference side of codec/tests/reference.rs: makes test images and decodes them with
pydicom and the pylibjpeg plugins (libjpeg, openjpeg, rle), so the Rust decoder can be
compared with an independent one.

  reference.py check                     exit 0 when pydicom, numpy and the plugins import
  reference.py make DIR                  write the uncompressed test images into DIR
  reference.py j2k IN OUT MODE          compress IN to JPEG 2000 with pylibjpeg-openjpeg;
                                         MODE lossless, lossy, lossless-mct or lossy-mct
  reference.py encapsulate TEMPLATE OUT TS CODESTREAM...
                                         TEMPLATE's attributes, CODESTREAMs as its frames
  reference.py extended IN OUT           IN's frames again, with an empty Basic Offset Table
                                         and an Extended Offset Table (PS3.5 A.4)
  reference.py array IN OUT [rgb]        IN's pixels (Part 10) as raw native bytes
  reference.py dataset IN OUT            the same for a bare Explicit VR Little Endian
                                         data set (what dimse_codec::decompress returns)
  reference.py testdata NAME             the path of pydicom's test file NAME, or "-"

`array` and `dataset` write the pixel array as bytes: frames concatenated, samples
interleaved, little endian, Bits Allocated bits a sample; `rgb` asks pydicom to convert
YCbCr to RGB. They print the image attributes as JSON on stdout.
"""

import io
import json
import sys


def pixels_and_attributes(ds, as_rgb):
    from pydicom.pixels import pixel_array

    arr = pixel_array(ds, as_rgb=as_rgb)
    bits = int(ds.BitsAllocated)
    dtype = {8: "<u1", 16: "<u2", 32: "<u4"}[bits]
    # Signed arrays keep their two's complement bits.
    if arr.dtype.kind == "i":
        arr = arr.view(arr.dtype.str.replace("i", "u"))
    raw = arr.astype(dtype)
    attributes = {
        "photometric": str(ds.get("PhotometricInterpretation", "")),
        "planar": ds.get("PlanarConfiguration"),
        "lossy": ds.get("LossyImageCompression"),
        "lossy_ratio": str(ds.get("LossyImageCompressionRatio", "")),
        "lossy_method": str(ds.get("LossyImageCompressionMethod", "")),
        "frames": int(ds.get("NumberOfFrames", 1) or 1),
        "samples": int(ds.get("SamplesPerPixel", 1)),
        "bits_allocated": bits,
        "bits_stored": int(ds.get("BitsStored", bits)),
        "signed": int(ds.get("PixelRepresentation", 0)),
        "sop_instance": str(ds.get("SOPInstanceUID", "")),
    }
    return raw.tobytes(), attributes


def write_array(ds, out, as_rgb):
    data, attributes = pixels_and_attributes(ds, as_rgb)
    with open(out, "wb") as f:
        f.write(data)
    print(json.dumps(attributes))


def base_dataset(rows, columns, samples, bits_allocated, bits_stored, frames, signed=0):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    uid = "1.2.826.0.1.3680043.8.498.1.%d.%d.%d.%d.%d" % (
        rows, columns, samples, bits_stored, frames)
    ds.file_meta.MediaStorageSOPInstanceUID = uid
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = SecondaryCaptureImageStorage
    ds.SOPInstanceUID = uid
    ds.PatientName = "Codec^Test"
    ds.PatientID = "CODEC"
    ds.Modality = "OT"
    ds.SamplesPerPixel = samples
    ds.PhotometricInterpretation = "RGB" if samples == 3 else "MONOCHROME2"
    if samples > 1:
        ds.PlanarConfiguration = 0
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.Rows = rows
    ds.Columns = columns
    ds.BitsAllocated = bits_allocated
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = signed
    return ds


def image(rows, columns, samples, bits, frames, seed):
    """A deterministic image with edges, gradients and texture (something to compress)."""
    import numpy as np

    y, x = np.mgrid[0:rows, 0:columns]
    planes = []
    for f in range(frames):
        for s in range(samples):
            v = (x * (3 + s) + y * (5 + f) + seed) % 97
            v = v + ((x // 8 + y // 8 + s + f) % 2) * 120
            v = v + ((x * 7919 + y * 104729 + s * 31 + f * 17 + seed) % 23)
            planes.append(v)
    a = np.stack(planes).reshape(frames, samples, rows, columns).transpose(0, 2, 3, 1)
    top = (1 << bits) - 1
    a = (a.astype(np.int64) * top // int(a.max())).clip(0, top)
    dtype = np.uint8 if bits <= 8 else np.uint16
    if frames == 1:
        a = a[0]
    if samples == 1:
        a = a[..., 0]
    return a.astype(dtype)


def make(directory):
    import os

    specs = {
        # name: rows, columns, samples, bits allocated, bits stored, frames
        "mono8.dcm": (40, 33, 1, 8, 8, 1),
        "mono12.dcm": (48, 40, 1, 16, 12, 1),
        "mono16.dcm": (32, 24, 1, 16, 16, 1),
        "rgb8.dcm": (48, 64, 3, 8, 8, 1),
        "multi8.dcm": (24, 32, 1, 8, 8, 3),
        "multi16.dcm": (40, 56, 1, 16, 16, 3),
        "multi_rgb.dcm": (32, 48, 3, 8, 8, 2),
        "rgb16.dcm": (30, 44, 3, 16, 16, 1),
        "multi_rgb12.dcm": (26, 36, 3, 16, 12, 3),
        "rgb_odd.dcm": (19, 27, 3, 8, 8, 2),
        "rgb16_odd.dcm": (13, 21, 3, 16, 16, 1),
    }
    for name, (rows, columns, samples, allocated, stored, frames) in specs.items():
        ds = base_dataset(rows, columns, samples, allocated, stored, frames)
        ds.PixelData = image(rows, columns, samples, stored, frames, len(name)).tobytes()
        ds.save_as(os.path.join(directory, name), enforce_file_format=True)


def j2k(src, out, mode):
    import pydicom
    from pydicom.uid import JPEG2000, JPEG2000Lossless

    ds = pydicom.dcmread(src)
    # With a YBR_RCT / YBR_ICT Photometric Interpretation the encoder applies the
    # multiple component transform to the RGB samples.
    if mode.endswith("-mct"):
        ds.PhotometricInterpretation = "YBR_RCT" if mode.startswith("lossless") else "YBR_ICT"
    if mode.startswith("lossless"):
        ds.compress(JPEG2000Lossless, encoding_plugin="pylibjpeg")
    else:
        ds.compress(JPEG2000, encoding_plugin="pylibjpeg", j2k_cr=[8])
    ds.save_as(out, enforce_file_format=True)
    print(ds.PhotometricInterpretation)


def encapsulate(template, out, ts, codestreams):
    import pydicom
    from pydicom.encaps import encapsulate as wrap

    ds = pydicom.dcmread(template)
    frames = []
    for path in codestreams:
        with open(path, "rb") as f:
            frames.append(f.read())
    ds.PixelData = wrap(frames, has_bot=len(frames) > 1)
    ds["PixelData"].VR = "OB"
    if len(frames) > 1:
        ds.NumberOfFrames = len(frames)
    ds.file_meta.TransferSyntaxUID = ts
    ds.save_as(out, enforce_file_format=True)


def extended(src, out):
    import pydicom
    from pydicom.encaps import encapsulate_extended, generate_frames

    ds = pydicom.dcmread(src)
    frames = list(generate_frames(ds.PixelData, number_of_frames=int(ds.get("NumberOfFrames", 1))))
    ds.PixelData, ds.ExtendedOffsetTable, ds.ExtendedOffsetTableLengths = encapsulate_extended(frames)
    ds["PixelData"].VR = "OB"
    ds.save_as(out, enforce_file_format=True)


def bare_dataset(path):
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.filereader import read_dataset
    from pydicom.uid import ExplicitVRLittleEndian

    with open(path, "rb") as f:
        ds = read_dataset(io.BytesIO(f.read()), is_implicit_VR=False, is_little_endian=True)
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    return ds


def main(argv):
    command = argv[1] if len(argv) > 1 else ""
    if command == "check":
        import numpy  # noqa: F401
        import pydicom  # noqa: F401
        import pylibjpeg  # noqa: F401
        import libjpeg  # noqa: F401
        import openjpeg  # noqa: F401
        import rle  # noqa: F401
    elif command == "make":
        make(argv[2])
    elif command == "j2k":
        j2k(argv[2], argv[3], argv[4])
    elif command == "encapsulate":
        encapsulate(argv[2], argv[3], argv[4], argv[5:])
    elif command == "extended":
        extended(argv[2], argv[3])
    elif command == "array":
        import pydicom

        write_array(pydicom.dcmread(argv[2]), argv[3], len(argv) > 4 and argv[4] == "rgb")
    elif command == "dataset":
        write_array(bare_dataset(argv[2]), argv[3], False)
    elif command == "testdata":
        from pydicom.data import get_testdata_file

        try:
            print(get_testdata_file(argv[2]) or "-")
        except Exception:  # noqa: BLE001 - absent (pydicom-data not installed)
            print("-")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
