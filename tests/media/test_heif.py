"""HEIF/HEIC, AVIF and CR3 (parsers/media/heif.py): brands, golden records, exiftool, pillow-heif, damage.

Oracles: exiftool 12.57 (`-n -j`) for the EXIF-derived fields and sizes, pillow-heif (libheif) for
the EXIF block, the size and the thumbnail's existence, `exiftool -b -ThumbnailImage` for the CR3
thumbnail hash. Every disagreement with exiftool is listed in EXIFTOOL_DIFFERENCES with its reason;
any other difference (or a listed one that went away) fails.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import struct
import subprocess
from functools import cache
from pathlib import Path

import pillow_heif
import pytest
from PIL import Image

from manifests.records import MediaRecord
from parsers.artefact import close_host_source, host_media_source
from parsers.media import heif
from parsers.media.base import MediaContext, MediaSource
from parsers.media.exif import apply_exif, exif_from_tiff_bytes
from parsers.media.registry import all_readers
from tests.conftest import require_tool
from tests.corpus import require_corpus, sources_rows
from tests.media.helpers import read_file

IPHONE_15 = "photoprism__photoprism/assets/examples/iphone_15_pro.heic"
IPHONE_11 = "ianare__exif-samples/heic/IMG_5195.HEIC"
AVIF = "mindeng__nom-exif/testdata/exif.avif"
CR3 = "mindeng__nom-exif/testdata/canon-r6.cr3"
OURS = (".heic", ".heif", ".avif", ".cr3")


def _corpus_files() -> list[str]:
    """The heic/heif/avif/cr3 rows of SOURCES.tsv [media] (9 files in the current corpus)."""
    return sorted(row["local_path"] for row in sources_rows("media") if row["local_path"].lower().endswith(OURS))


def _read_path(path: Path) -> tuple[MediaRecord | None, list, str | None]:
    result = read_file(path)
    return result.record, result.warnings, result.reader.name if result.reader else None


def _memory(data: bytes) -> MediaSource:
    return MediaSource(lambda offset, size: data[offset:offset + size], len(data), name="memory")


def _read_bytes(data: bytes, container: str) -> tuple[MediaRecord, MediaContext]:
    context = MediaContext()
    return heif.READER.read(_memory(data), container, context), context


# --- brands -----------------------------------------------------------------------------------------


def _ftyp(major: bytes, *compatible: bytes) -> bytes:
    payload = major + b"\0\0\0\0" + b"".join(compatible)
    return struct.pack(">I", 8 + len(payload)) + b"ftyp" + payload


@pytest.mark.parametrize(("head", "expected"), [
    (_ftyp(b"heic", b"mif1", b"heic"), "HEIF"),
    (_ftyp(b"heix", b"mif1"), "HEIF"),
    (_ftyp(b"heim"), "HEIF"),
    (_ftyp(b"heis", b"msf1"), "HEIF"),
    (_ftyp(b"hevc", b"msf1"), "HEIF"),
    (_ftyp(b"hevx"), "HEIF"),
    (_ftyp(b"mif1", b"heic"), "HEIF"),
    (_ftyp(b"msf1", b"hevc"), "HEIF"),
    (_ftyp(b"avif", b"mif1", b"miaf"), "AVIF"),
    (_ftyp(b"avis", b"msf1"), "AVIF"),
    (_ftyp(b"mif1", b"avif"), "AVIF"),  # a generic major brand refined by the compatible brands
    (_ftyp(b"crx ", b"isom"), "CR3"),
    (_ftyp(b"mif1", b"mp42", b"isom"), "HEIF"),  # both still and video brands: the major decides
    (_ftyp(b"mp42", b"mif1", b"heic"), None),  # ... and here it is a video (the video reader's)
    (_ftyp(b"isom", b"iso2", b"avc1", b"mp41"), None),
    (_ftyp(b"mp41"), None),
    (_ftyp(b"qt  ", b"qt  "), None),
    (_ftyp(b"3gp5", b"3gp5", b"isom"), None),
    (_ftyp(b"3g2a"), None),
    (_ftyp(b"M4V ", b"M4V ", b"mp42"), None),
    (_ftyp(b"avc1", b"isom"), None),
    (_ftyp(b"heic")[:15], None),  # too short to hold a major brand and version
    (b"\0\0\0\x18moov" + b"\0" * 16, None),
    (b"\xff\xd8\xff\xe1" + b"\0" * 20, None),
])
def test_recognise_decides_by_the_major_brand(head: bytes, expected: str | None) -> None:
    assert heif.READER.recognise(head) == expected


def test_reader_is_registered() -> None:
    assert any(reader.name == "heif" and reader is heif.READER for reader in all_readers())


# --- golden records ---------------------------------------------------------------------------------

GOLDEN: dict[str, MediaRecord] = {
    IPHONE_15: MediaRecord(
        container_format="HEIF", codec="HEVC", width=4032, height=3024, orientation=6,
        capture_time_raw="2023:10:31 11:44:43", capture_offset="+01:00",
        capture_time_utc=1698749083432000000,  # 10:44:43.432 UTC (SubSecTimeOriginal 432, offset +01:00)
        capture_time_source="exif_datetime_original",
        digitized_time_raw="2023:10:31 11:44:43", digitized_time_utc=1698749083432000000,
        modified_time_raw="2023:10:31 11:44:43", modified_time_utc=1698749083000000000,
        make="Apple", model="iPhone 15 Pro", lens_make="Apple",
        lens_model="iPhone 15 Pro back triple camera 2.22mm f/2.2", software="17.1",
        gps_latitude=52.459605555555555, gps_longitude=13.321841666666666, gps_altitude=50.15664187035069,
        gps_time_utc=1698749083000000000, gps_source="exif",
        has_thumbnail=True,
        thumbnail_sha256="74231513547664d6e11704afaf7a9d5fca6f587f7dab80c528475ee2421c1325",
    ),
    IPHONE_11: MediaRecord(
        container_format="HEIF", codec="HEVC", width=2566, height=3313,
        capture_time_raw="2021:04:11 15:47:53", capture_offset="-05:00",
        capture_time_utc=1618174073054000000, capture_time_source="exif_datetime_original",
        digitized_time_raw="2021:04:11 15:47:53", digitized_time_utc=1618174073054000000,
        modified_time_raw="2021:04:11 15:47:53", modified_time_utc=1618174073000000000,
        make="Apple", model="iPhone 11 Pro Max", lens_make="Apple",
        lens_model="iPhone 11 Pro Max back triple camera 4.25mm f/1.8", software="14.4.2",
        gps_latitude=39.051344444444446, gps_longitude=-94.28877222222222, gps_altitude=260.56063829787234,
        gps_source="exif", content_identifier="570F1469-09C7-4E50-9875-05F21D5BD166",
        has_thumbnail=False,
    ),
    AVIF: MediaRecord(
        container_format="AVIF", codec="AV1", width=192, height=256, orientation=1,
        capture_time_raw="2022:07:22 21:26:32", capture_offset="+08:00",
        capture_time_utc=1658496392092000000, capture_time_source="exif_datetime_original",
        digitized_time_raw="2022:07:22 21:26:32", digitized_time_utc=1658496392092000000,
        modified_time_raw="2022:07:22 21:26:32", modified_time_utc=1658496392000000000,
        make="Apple", model="iPhone 12 Pro", lens_make="Apple",
        lens_model="iPhone 12 Pro back triple camera 4.2mm f/1.6", software="15.5",
        gps_latitude=43.290127777777776, gps_longitude=84.22712777777778, gps_altitude=1595.949860724234,
        gps_source="exif", content_identifier="242684F6-0839-44E0-8E39-A8FE43182C29",
        has_thumbnail=False,
    ),
    CR3: MediaRecord(
        container_format="CR3", codec="CRAW", width=5472, height=3648, orientation=1,
        capture_time_raw="2025:09:06 20:24:47", capture_offset="-08:00",
        capture_time_utc=1757219087720000000,  # 2025-09-07 04:24:47.72 UTC = the mvhd creation time (04:24:47)
        capture_time_source="exif_datetime_original",
        digitized_time_raw="2025:09:06 20:24:47", digitized_time_utc=1757219087720000000,
        modified_time_raw="2025:09:06 20:24:47", modified_time_utc=1757219087720000000,
        make="Canon", model="Canon EOS R6", body_serial="072021007989", body_serial_source="exif_body_serial",
        lens_model="EF100mm f/2.8L Macro IS USM", lens_serial="000005e4d2", image_unique_id="48bd7700e1c1456a988ebe0df2ca4002",  # CMT3 0x0028
        gps_latitude=37.386505, gps_longitude=-122.07646166666666, gps_altitude=-0.9,
        gps_time_utc=1757215157000000000, gps_source="exif",
        has_thumbnail=True,
        thumbnail_sha256="bec8ccb245edde71f6e5843da273c5442192a7c342858fceec737e31b7656128",
    ),
}


@pytest.mark.parametrize("local_path", sorted(GOLDEN))
def test_golden_record(local_path: str) -> None:
    root = require_corpus()
    record, warnings, reader = _read_path(root / local_path)
    assert reader == "heif"
    assert warnings == []
    assert record == GOLDEN[local_path]


def test_every_corpus_file_is_ours_without_warnings() -> None:
    root = require_corpus()
    files = _corpus_files()
    assert len(files) == 9
    for local_path in files:
        record, warnings, reader = _read_path(root / local_path)
        assert reader == "heif", local_path
        assert record is not None and record.flags == [], local_path
        assert warnings == [], local_path


# --- exiftool -------------------------------------------------------------------------------------

# (file, field) -> (ours, exiftool's, why). Everything not listed must agree.
# (Apple's and Canon's maker-note ImageUniqueID are now read, so none is left.)
EXIFTOOL_DIFFERENCES: dict[tuple[str, str], tuple[object, object, str]] = {}


@cache
def _exiftool(root: Path) -> dict[str, dict]:
    require_tool("exiftool")
    files = _corpus_files()
    tags = ["-Make", "-Model", "-ExifIFD:DateTimeOriginal", "-ExifIFD:OffsetTimeOriginal", "-ExifIFD:CreateDate",
            "-IFD0:ModifyDate", "-Composite:GPSLatitude", "-Composite:GPSLongitude", "-Composite:GPSAltitude",
            "-Composite:GPSDateTime", "-ImageWidth", "-ImageHeight", "-Orientation", "-Software", "-LensMake",
            "-LensModel", "-SerialNumber", "-ImageUniqueID", "-MediaGroupUUID", "-ContentIdentifier"]
    output = subprocess.run(["exiftool", "-n", "-j", "-q", "-q", *tags, *[str(root / f) for f in files]],
                            capture_output=True, check=False).stdout
    return {str(Path(item["SourceFile"]).relative_to(root)): item for item in json.loads(output)}


def _gps_time_text(nanoseconds: int | None) -> str | None:
    if nanoseconds is None:
        return None
    seconds, rest = divmod(nanoseconds, 10**9)
    from datetime import datetime, timezone

    text = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y:%m:%d %H:%M:%S")
    return text + (f"{rest / 10**9:.9f}".rstrip("0")[1:] if rest else "") + "Z"


def _compared(record: MediaRecord, tags: dict) -> list[tuple[str, object, object]]:
    """(field, ours, exiftool's) for every field compared; text compared as text (exiftool -j prints 17.1 as a number)."""

    def text(name: str) -> str | None:
        return None if name not in tags else str(tags[name])

    return [
        ("make", record.make, text("Make")),
        ("model", record.model, text("Model")),
        ("capture_time_raw", record.capture_time_raw, text("DateTimeOriginal")),
        ("capture_offset", record.capture_offset, text("OffsetTimeOriginal")),
        ("digitized_time_raw", record.digitized_time_raw, text("CreateDate")),
        ("modified_time_raw", record.modified_time_raw, text("ModifyDate")),
        ("gps_latitude", record.gps_latitude, tags.get("GPSLatitude")),
        ("gps_longitude", record.gps_longitude, tags.get("GPSLongitude")),
        ("gps_altitude", record.gps_altitude, tags.get("GPSAltitude")),
        ("gps_time_utc", _gps_time_text(record.gps_time_utc), text("GPSDateTime")),
        ("width", record.width, tags.get("ImageWidth")),
        ("height", record.height, tags.get("ImageHeight")),
        ("orientation", record.orientation, tags.get("Orientation")),
        ("software", record.software, text("Software")),
        ("lens_make", record.lens_make, text("LensMake")),
        ("lens_model", record.lens_model, text("LensModel")),
        ("body_serial", record.body_serial, text("SerialNumber")),
        ("image_unique_id", record.image_unique_id, text("ImageUniqueID")),
        ("content_identifier", record.content_identifier, text("MediaGroupUUID") or text("ContentIdentifier")),
    ]


def _agree(field: str, ours: object, theirs: object) -> bool:
    if field.startswith("gps_") and field != "gps_time_utc" and isinstance(ours, float) and isinstance(theirs, (int, float)):
        # exiftool prints 15 significant digits; 1e-6 degree is about 0.1 m, and altitude is compared to 1 mm.
        return math.isclose(ours, theirs, abs_tol=1e-6 if field != "gps_altitude" else 1e-3)
    return ours == theirs


def test_agreement_with_exiftool() -> None:
    root = require_corpus()
    oracle = _exiftool(root)
    differences: dict[tuple[str, str], tuple[object, object]] = {}
    agreed = 0
    files = _corpus_files()
    for local_path in files:
        record, _, _ = _read_path(root / local_path)
        assert record is not None
        for field, ours, theirs in _compared(record, oracle[local_path]):
            if _agree(field, ours, theirs):
                agreed += 1
            else:
                differences[(local_path, field)] = (ours, theirs)
    assert differences == {key: value[:2] for key, value in EXIFTOOL_DIFFERENCES.items()}
    assert agreed == len(files) * 19 - len(EXIFTOOL_DIFFERENCES)  # 9 files x 19 fields: all 171 agree


def test_cr3_thumbnail_is_exiftools_thumbnail_image() -> None:
    root = require_corpus()
    require_tool("exiftool")
    jpeg = subprocess.run(["exiftool", "-b", "-ThumbnailImage", str(root / CR3)], capture_output=True, check=True).stdout
    assert jpeg.startswith(b"\xff\xd8") and len(jpeg) == 12840
    record, _, _ = _read_path(root / CR3)
    assert record is not None and record.thumbnail_sha256 == hashlib.sha256(jpeg).hexdigest()


def test_cr3_capture_time_matches_its_utc_movie_header() -> None:
    """EXIF time + OffsetTimeOriginal gives the same second as the mvhd creation time (UTC by definition)."""
    root = require_corpus()
    require_tool("exiftool")
    output = subprocess.run(["exiftool", "-j", "-QuickTime:CreateDate", "-d", "%s", str(root / CR3)],
                            capture_output=True, check=True).stdout
    (tags,) = json.loads(output)
    record, _, _ = _read_path(root / CR3)
    assert record is not None and record.capture_time_utc is not None
    assert record.capture_time_utc // 10**9 == int(tags["CreateDate"])


# --- pillow-heif (libheif) ------------------------------------------------------------------------


@pytest.mark.parametrize("local_path", [p for p in _corpus_files() if not p.endswith(".cr3")] or ["(no corpus)"])
def test_agreement_with_pillow_heif(local_path: str) -> None:
    """Same EXIF block, same size (libheif applies irot, so 90/270 swaps it), same thumbnail existence."""
    root = require_corpus()
    record, _, _ = _read_path(root / local_path)
    assert record is not None
    opened = pillow_heif.open_heif(root / local_path)
    # The irot rotation (exiftool's QuickTime:Rotation), not the EXIF orientation: iphone_7.heic (ProCam)
    # has EXIF orientation 6 and no irot, so libheif keeps 4032x3024 there.
    require_tool("exiftool")
    output = subprocess.run(["exiftool", "-n", "-j", "-QuickTime:Rotation", str(root / local_path)],
                            capture_output=True, check=True).stdout
    (tags,) = json.loads(output)
    if tags.get("Rotation") in (90, 270):
        assert opened.size == (record.height, record.width)
    else:
        assert opened.size == (record.width, record.height)
    assert record.has_thumbnail == bool(opened.info["thumbnails"])
    from_libheif = MediaRecord(container_format=record.container_format)
    if opened.info.get("exif"):
        exif = exif_from_tiff_bytes(opened.info["exif"])
        apply_exif(from_libheif, exif, MediaContext())  # with Apple's maker note (content identifier)
    for name in ("make", "model", "capture_time_raw", "capture_time_utc", "gps_latitude", "gps_longitude",
                 "gps_altitude", "gps_time_utc", "orientation", "software", "content_identifier", "flags"):
        assert getattr(record, name) == getattr(from_libheif, name), name


def _thumbnail_bytes(path: Path) -> tuple[bytes, bytes]:
    """The thumbnail item's stored bytes and its hvcC property, found with the module's box reader."""
    source = host_media_source(path)
    try:
        box = next(b for b in heif._top_boxes(source) if b.kind == b"meta")
        meta = heif._parse_meta(heif._read_box(source, box, 1 << 24), MediaContext())
        (thumb_id, *_) = meta.referring(b"thmb", meta.primary)
        return heif._item_data(source, meta, meta.items[thumb_id]), meta.property(thumb_id, b"hvcC") or b""
    finally:
        close_host_source(source)


@pytest.mark.parametrize("local_path", [p for p in _corpus_files() if p.endswith((".heic", ".HEIC", ".heif"))] or ["(none)"])
def test_heic_thumbnail_bytes_are_whole_hevc_access_units(local_path: str) -> None:
    """What is hashed: 4-byte-length-prefixed NAL units that exactly fill the item (a wrong extent would not)."""
    root = require_corpus()
    record, _, _ = _read_path(root / local_path)
    assert record is not None
    if not record.has_thumbnail:
        assert record.thumbnail_sha256 is None
        return
    data, hvcc = _thumbnail_bytes(root / local_path)
    assert hashlib.sha256(data).hexdigest() == record.thumbnail_sha256
    if local_path == "exiftool__exiftool/t/images/QuickTime.heic":
        # exiftool's minimal test file: both image items are 18 bytes of placeholder text in two mdat boxes.
        assert data == b"<dummy image data>"
        return
    assert len(hvcc) > 22 and (hvcc[21] & 3) + 1 == 4  # lengthSizeMinusOne: 4-byte NAL lengths
    offset, nal_types = 0, []
    while offset < len(data):
        (length,) = struct.unpack_from(">I", data, offset)
        nal_types.append((data[offset + 4] >> 1) & 0x3F)
        assert data[offset + 4] & 0x80 == 0  # forbidden_zero_bit
        offset += 4 + length
    assert offset == len(data)
    assert any(16 <= kind <= 21 for kind in nal_types)  # an intra (IRAP) picture


# --- synthetic files: layouts the corpus lacks, and damage -----------------------------------------


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def _full(kind: bytes, version: int, flags: int, payload: bytes) -> bytes:
    return _box(kind, bytes([version]) + flags.to_bytes(3, "big") + payload)


def _exif_payload(latitude: float = 213.0) -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "Maker"
    exif[0x0110] = "Model X"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (latitude, 0.0, 0.0)
    gps[3], gps[4] = "W", (1.0, 30.0, 0.0)
    block = exif.tobytes()  # b"Exif\0\0" + TIFF
    assert block.startswith(b"Exif\0\0")
    return struct.pack(">I", 6) + block


def _synthetic_heif(wide: bool, grid: bool = False, thumb_extent_past_end: bool = False) -> tuple[bytes, bytes]:
    """A HEIF with a primary image (or a grid of one tile), a two-extent thumbnail and an Exif item in idat.

    wide=True uses 32-bit item ids (infe v3, iloc v2, iref v1, ipma v1 with 16-bit property indexes);
    wide=False uses 16-bit ids (infe v2, iloc v1, iref v0, ipma v0). Returns (file, thumbnail bytes).
    """
    id_size = 4 if wide else 2
    ids = {"image": 1, "thumb": 2, "exif": 3, "grid": 4}
    exif = _exif_payload()
    image_data, thumb_parts = b"IMAGE-DATA", (b"THUMB-PART-ONE", b"-AND-TWO")
    primary = ids["grid"] if grid else ids["image"]

    def infe(item_id: int, kind: bytes) -> bytes:
        return _full(b"infe", 3 if wide else 2, 0, item_id.to_bytes(id_size, "big") + b"\0\0" + kind + b"name\0")

    def meta(mdat_offset: int) -> bytes:
        entries = [infe(ids["image"], b"hvc1"), infe(ids["thumb"], b"hvc1"), infe(ids["exif"], b"Exif")]
        if grid:
            entries.append(infe(ids["grid"], b"grid"))
        iinf = _full(b"iinf", 1 if wide else 0, 0, len(entries).to_bytes(4 if wide else 2, "big") + b"".join(entries))
        refs = [(b"thmb", ids["thumb"], [primary]), (b"cdsc", ids["exif"], [primary])]
        if grid:
            refs.append((b"dimg", ids["grid"], [ids["image"]]))
        iref = _full(b"iref", 1 if wide else 0, 0, b"".join(
            _box(kind, src.to_bytes(id_size, "big") + len(dst).to_bytes(2, "big") + b"".join(d.to_bytes(id_size, "big") for d in dst))
            for kind, src, dst in refs))
        ispe = _full(b"ispe", 0, 0, struct.pack(">II", 64, 48))
        small = _full(b"ispe", 0, 0, struct.pack(">II", 16, 12))
        hvcc = _box(b"hvcC", bytes(23))
        ipco = _box(b"ipco", ispe + small + hvcc)

        def association(item_id: int, indexes: list[int]) -> bytes:
            encoded = b"".join((0x8000 | i).to_bytes(2, "big") if wide else bytes([0x80 | i]) for i in indexes)
            return item_id.to_bytes(id_size, "big") + bytes([len(indexes)]) + encoded

        associations = [association(primary, [1]), association(ids["thumb"], [2, 3])]
        ipma = _full(b"ipma", 1 if wide else 0, 1 if wide else 0, len(associations).to_bytes(4, "big") + b"".join(associations))
        iprp = _box(b"iprp", ipco + ipma)
        version = 2 if wide else 1
        thumb_offset = mdat_offset + len(image_data) + (10**6 if thumb_extent_past_end else 0)

        def location(item_id: int, method: int, extents: list[tuple[int, int]]) -> bytes:
            return (item_id.to_bytes(id_size, "big") + method.to_bytes(2, "big") + b"\0\0"
                    + len(extents).to_bytes(2, "big") + b"".join(struct.pack(">II", o, n) for o, n in extents))

        locations = [location(ids["image"], 0, [(mdat_offset, len(image_data))]),
                     location(ids["thumb"], 0, [(thumb_offset, len(thumb_parts[0])),
                                                (thumb_offset + len(thumb_parts[0]), len(thumb_parts[1]))]),
                     location(ids["exif"], 1, [(0, len(exif))])]
        iloc = _full(b"iloc", version, 0, bytes([0x44, 0x00]) + len(locations).to_bytes(4 if wide else 2, "big")
                     + b"".join(locations))
        pitm = _full(b"pitm", 1 if wide else 0, 0, primary.to_bytes(id_size, "big"))
        hdlr = _full(b"hdlr", 0, 0, b"\0\0\0\0pict" + bytes(12) + b"\0")
        return _full(b"meta", 0, 0, hdlr + pitm + iinf + iref + iprp + iloc + _box(b"idat", exif))

    ftyp = _ftyp(b"heic", b"mif1", b"heic")
    mdat_offset = len(ftyp) + len(meta(0)) + 8
    data = ftyp + meta(mdat_offset) + _box(b"mdat", image_data + b"".join(thumb_parts))
    return data, b"".join(thumb_parts)


@pytest.mark.parametrize("wide", [False, True])
@pytest.mark.parametrize("grid", [False, True])
def test_synthetic_heif_layouts(wide: bool, grid: bool) -> None:
    data, thumbnail = _synthetic_heif(wide, grid)
    assert heif.READER.recognise(data[:4096]) == "HEIF"
    record, context = _read_bytes(data, "HEIF")
    assert context.warnings == []
    assert record == MediaRecord(
        container_format="HEIF", codec="HEVC", width=64, height=48, make="Maker", model="Model X",
        gps_latitude=213.0, gps_longitude=-1.5, gps_source="exif",
        flags=["gps_latitude_out_of_range"],  # kept raw and flagged by exif.py
        has_thumbnail=True, thumbnail_sha256=hashlib.sha256(thumbnail).hexdigest(),
    )


def test_thumbnail_outside_the_file_is_a_warning_and_the_rest_is_kept() -> None:
    data, _ = _synthetic_heif(wide=False, thumb_extent_past_end=True)
    record, context = _read_bytes(data, "HEIF")
    assert (record.make, record.width, record.has_thumbnail, record.thumbnail_sha256) == ("Maker", 64, True, None)
    assert [(w.kind, w.field) for w in context.warnings] == [("malformed_media", "thumbnail_sha256")]


def test_missing_meta_and_cr3_without_boxes_are_warnings() -> None:
    record, context = _read_bytes(_ftyp(b"heic", b"mif1") + _box(b"mdat", b"x" * 10), "HEIF")
    assert record == MediaRecord(container_format="HEIF")
    assert [w.kind for w in context.warnings] == ["malformed_media"]
    record, context = _read_bytes(_ftyp(b"crx ", b"isom") + _box(b"moov", _box(b"free", b"")), "CR3")
    assert record == MediaRecord(container_format="CR3", has_thumbnail=False)
    assert [w.kind for w in context.warnings] == ["malformed_media"]


def test_box_size_beyond_parent_is_a_warning_not_a_crash() -> None:
    data, _ = _synthetic_heif(wide=False)
    meta_at = data.index(b"meta") - 4
    broken = bytearray(data)
    broken[meta_at + 12:meta_at + 16] = struct.pack(">I", 0x7FFFFFF0)  # the hdlr box's size
    record, context = _read_bytes(bytes(broken), "HEIF")
    assert record.container_format == "HEIF" and context.warnings
    assert "metadata_unreadable" in record.flags


@pytest.mark.filterwarnings("ignore:Tag data larger than file:UserWarning")  # Pillow, on damaged EXIF
@pytest.mark.filterwarnings("ignore:Possibly corrupt EXIF:UserWarning")
@pytest.mark.filterwarnings("ignore:Truncated File Read:UserWarning")
def test_truncated_and_corrupted_real_files_never_raise() -> None:
    """Cut and byte-flipped copies of real files: always a record, damage only ever a warning."""
    root = require_corpus()
    generator = random.Random(20261128)
    for local_path, container in ((IPHONE_15, "HEIF"), (AVIF, "AVIF"), (CR3, "CR3")):
        original = (root / local_path).read_bytes()[:60000]
        for cut in list(range(0, 6000, 53)) + list(range(6000, 60000, 997)):
            record, _ = _read_bytes(original[:cut], container)
            assert record.container_format == container
        for _ in range(300):
            damaged = bytearray(original)
            for _ in range(generator.randint(1, 8)):
                damaged[generator.randrange(0, 5000)] = generator.randrange(256)
            record, _ = _read_bytes(bytes(damaged), container)
            assert record.container_format == container


def test_reads_only_metadata() -> None:
    """The reader touches the boxes it needs, not the coded image: a few KiB of a 0.9 MB HEIC."""
    root = require_corpus()
    data = (root / IPHONE_15).read_bytes()
    touched: list[int] = []

    def read(offset: int, size: int) -> bytes:
        touched.append(size)
        return data[offset:offset + size]

    record = heif.READER.read(MediaSource(read, len(data)), "HEIF", MediaContext())
    assert record == GOLDEN[IPHONE_15]
    assert sum(touched) < 40_000 < len(data)


@pytest.mark.parametrize("local_path", [IPHONE_11, AVIF])
def test_xmp_item_is_the_packet_exiftool_extracts(local_path: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The application/rdf+xml item describing the primary image reaches the XMP reader byte for byte."""
    require_tool("exiftool")
    path = require_corpus() / local_path
    expected = subprocess.run(["exiftool", "-b", "-XMP", str(path)], capture_output=True, check=True).stdout
    assert expected.startswith(b"<") and len(expected) > 100
    packets: list[bytes] = []
    original = heif.apply_xmp
    monkeypatch.setattr(heif, "apply_xmp", lambda packet, record, context: (packets.append(packet), original(packet, record, context)))
    result = read_file(path)
    assert result.record is not None and result.warnings == []
    assert packets == [expected]
