"""Video readers: isobmff_video (MP4, QuickTime, M4V, 3GP), riff_avi and matroska.

Corpus videos get complete golden records (compared with ==) and are checked field by field against
`exiftool -n -j`; AVI and Matroska fixtures are built here with struct (no ffmpeg/mkvmerge installed).
Every disagreement with exiftool is listed in ALLOWED with its reason; any other fails.

exiftool shows QuickTime times as the stored value taken as UTC (it converts to local time only with
-api QuickTimeUTC), so its CreateDate is read as UTC here and compared with capture_time_utc; when
we prefer Apple's com.apple.quicktime.creationdate (local time with offset), its CreationDate (with
the offset) is compared instead.
"""

from __future__ import annotations

import json
import math
import struct
import subprocess
from functools import cache
from pathlib import Path

import pytest

from manifests.records import MediaRecord
from parsers.media.base import MediaSource
from parsers.media.driver import read_media
from parsers.media.isobmff_video import container_of_brand, parse_iso6709
from tests.conftest import require_tool
from tests.corpus import require_corpus, sources_rows
from tests.media.helpers import exiftool_time_ns, read_bytes, read_file

VIDEO_SUFFIXES = (".mp4", ".mov", ".3gp", ".m4v")

# ---------------------------------------------------------------- golden records of the corpus videos

GOLDEN: dict[str, MediaRecord] = {
    "exiftool__exiftool/t/images/QuickTime.mov": MediaRecord(
        container_format="QuickTime", codec="jpeg", width=320, height=240, orientation=1, duration_seconds=4.966666666666667,
        frame_rate=30.0, capture_time_raw="2005-08-11T14:03:54", capture_time_utc=1123769034000000000,
        capture_time_source="mvhd_creation_time", modified_time_raw="2010-07-30T15:43:59", modified_time_utc=1280504639000000000),
    "photoprism__photoprism/pkg/media/video/testdata/quicktime-hvc1.mov": MediaRecord(
        container_format="QuickTime", codec="hvc1", width=1280, height=720, orientation=6, duration_seconds=1.1666666666666667,
        frame_rate=29.957203994293867, capture_time_raw="2023-09-22T18:34:05+0200", capture_offset="+0200",
        capture_time_utc=1695400445000000000, capture_time_source="quicktime_creation_date",
        modified_time_raw="2023-09-22T16:34:07", modified_time_utc=1695400447000000000, make="Apple", model="iPad mini",
        lens_model="iPad mini back camera 3mm f/1.8", software="17.0", gps_latitude=52.4597, gps_longitude=13.322,
        gps_altitude=51.178, gps_source="quicktime_iso6709"),
    "photoprism__photoprism/pkg/media/video/testdata/mp42-hvc1.mp4": MediaRecord(
        container_format="MP4", codec="avc1", width=464, height=848, orientation=1, duration_seconds=1.0666666666666667,
        frame_rate=29.0625, capture_time_raw="2023-09-22T16:35:02", capture_time_utc=1695400502000000000,
        capture_time_source="mvhd_creation_time", modified_time_raw="2023-09-22T16:35:03", modified_time_utc=1695400503000000000),
    # The corpus video with a 0,0 position (3GPP 'loci' box) and zero (1904-01-01) mvhd times.
    "photoprism__photoprism/pkg/media/video/testdata/isom-avc1.mp4": MediaRecord(
        container_format="MP4", codec="avc1", width=320, height=180, orientation=1, duration_seconds=1.024, frame_rate=10.0,
        capture_time_raw="1904-01-01T00:00:00", capture_time_source="mvhd_creation_time", modified_time_raw="1904-01-01T00:00:00",
        software="Lavf58.29.100", gps_latitude=0.0, gps_longitude=0.0, gps_altitude=0.0, gps_source="3gpp_loci",
        flags=["capture_time_invalid", "modified_time_invalid", "gps_all_zero"]),
    # Apple creationdate (2019, +08:00) differs from mvhd (2024): the Apple key is the capture time.
    "mindeng__nom-exif/testdata/meta.mov": MediaRecord(
        container_format="QuickTime", codec="avc1", width=720, height=1280, orientation=1, duration_seconds=0.5, frame_rate=60.0,
        capture_time_raw="2019-02-12T15:27:12+08:00", capture_offset="+08:00", capture_time_utc=1549956432000000000,
        capture_time_source="quicktime_creation_date", modified_time_raw="2024-02-02T08:09:57", modified_time_utc=1706861397000000000,
        make="Apple", model="iPhone X", software="12.1.2", gps_latitude=27.1281, gps_longitude=100.2508, gps_altitude=0.0,
        gps_source="quicktime_iso6709"),
    "mindeng__nom-exif/testdata/meta.mp4": MediaRecord(
        container_format="MP4", codec="avc1", width=1920, height=1080, orientation=6, duration_seconds=1.0632, frame_rate=30.0,
        capture_time_raw="2024-02-03T07:05:38", capture_time_utc=1706943938000000000, capture_time_source="mvhd_creation_time",
        modified_time_raw="2024-02-03T07:05:38", modified_time_utc=1706943938000000000, gps_latitude=27.2939,
        gps_longitude=112.6932, gps_source="quicktime_xyz"),
    "mindeng__nom-exif/testdata/3gp_640x360.3gp": MediaRecord(
        container_format="3GP", codec="avc1", width=640, height=360, orientation=1, duration_seconds=13.347,
        frame_rate=29.97002997002997, capture_time_raw="1904-01-01T00:00:00", capture_time_source="mvhd_creation_time",
        modified_time_raw="1904-01-01T00:00:00", flags=["capture_time_invalid", "modified_time_invalid"]),
    # GoPro: model and body serial from the udta GPMF block, firmware from udta FIRM.
    "gopro__gpmf-parser/samples/max-heromode.mp4": MediaRecord(
        container_format="MP4", codec="avc1", width=848, height=480, orientation=1, duration_seconds=10.517333333333333,
        frame_rate=29.97002997002997, capture_time_raw="2019-11-18T15:45:32", capture_time_utc=1574091932000000000,
        capture_time_source="mvhd_creation_time", modified_time_raw="2019-11-18T15:45:32", modified_time_utc=1574091932000000000,
        model="GoPro Max", body_serial="C3353424500199", body_serial_source="gopro_casn", lens_serial="C33632245042171", software="H19.03.01.30.00", gps_latitude=33.1268,
        gps_longitude=-117.3273, gps_source="quicktime_xyz"),
    "jcodec__jcodec/src/test/resources/metaedit/keyed.mp4": MediaRecord(
        container_format="MP4", codec="avc1", width=1920, height=1080, orientation=6, duration_seconds=11.371,
        frame_rate=29.748155820310547, capture_time_raw="2017-07-13T19:16:41", capture_time_utc=1499973401000000000,
        capture_time_source="mvhd_creation_time", modified_time_raw="2017-07-13T19:16:41", modified_time_utc=1499973401000000000,
        gps_latitude=33.9951, gps_longitude=-118.4762, gps_source="quicktime_xyz"),
    "jcodec__jcodec/src/test/resources/metaedit/itunes.mov": MediaRecord(
        container_format="QuickTime", codec="avc1", width=1920, height=1080, orientation=6, duration_seconds=1.003,
        frame_rate=120.0, capture_time_raw="1904-01-01T00:00:00", capture_time_source="mvhd_creation_time",
        modified_time_raw="1904-01-01T00:00:00", software="Lavf57.71.100", gps_latitude=33.9951, gps_longitude=-118.4762,
        gps_source="quicktime_xyz", flags=["capture_time_invalid", "modified_time_invalid"]),
}


def _read_path(path: Path):
    return read_file(path)


def _read_bytes(data: bytes):
    return read_bytes(data, "fixture")


def _corpus_videos() -> list[str]:
    return sorted(row["local_path"] for row in sources_rows("media") if row["local_path"].lower().endswith(VIDEO_SUFFIXES))


def test_every_corpus_video_has_a_golden_record() -> None:
    require_corpus()
    assert _corpus_videos() == sorted(GOLDEN)


@pytest.mark.parametrize("local_path", sorted(GOLDEN))
def test_corpus_golden(local_path: str) -> None:
    result = _read_path(require_corpus() / local_path)
    assert result.reader is not None and result.reader.name == "isobmff_video"
    assert result.warnings == []
    assert result.record == GOLDEN[local_path]


# ---------------------------------------------------------------- agreement with exiftool -n

# (path, field) -> (ours, exiftool's, why). Both values are asserted, so a change on either side fails.
ALLOWED: dict[tuple[str, str], tuple[object, object, str]] = {
    ("exiftool__exiftool/t/images/QuickTime.mov", "make"): (
        None, "PENTAX DIGITAL CAMERA",
        "exiftool reads Pentax's private udta 'TAGS' maker block; it has no public specification, so we do not"),
}

COMPARED = ("make", "model", "capture_time_utc", "gps_latitude", "gps_longitude", "gps_altitude", "width", "height",
            "duration_seconds", "frame_rate", "orientation")
_ROTATION_TO_ORIENTATION = {0: 1, 90: 6, 180: 3, 270: 8}


@cache
def _exiftool(root: Path) -> dict[str, dict]:
    require_tool("exiftool")
    paths = sorted(GOLDEN)
    output = subprocess.run(["exiftool", "-n", "-j", "-q", "-q", *[str(root / p) for p in paths]],
                            capture_output=True, check=False).stdout
    return {str(Path(item["SourceFile"]).relative_to(root)): item for item in json.loads(output)}


def _expected(tags: dict, record: MediaRecord) -> dict[str, object]:
    capture = tags.get("CreationDate") if record.capture_time_source == "quicktime_creation_date" else tags.get("CreateDate")
    rotation = tags.get("Rotation")
    return {
        "make": tags.get("Make"), "model": tags.get("Model"), "capture_time_utc": exiftool_time_ns(capture),
        "gps_latitude": tags.get("GPSLatitude"), "gps_longitude": tags.get("GPSLongitude"), "gps_altitude": tags.get("GPSAltitude"),
        "width": tags.get("ImageWidth"), "height": tags.get("ImageHeight"), "duration_seconds": tags.get("Duration"),
        "frame_rate": tags.get("VideoFrameRate"), "orientation": _ROTATION_TO_ORIENTATION.get(rotation, rotation),
    }


def _same(ours: object, theirs: object, name: str) -> bool:
    if ours is None or theirs is None:
        return ours is None and theirs is None
    if name.startswith("gps_"):
        return math.isclose(float(ours), float(theirs), abs_tol=1e-6)
    if name in ("duration_seconds", "frame_rate"):  # exiftool prints 15 significant digits
        return math.isclose(float(ours), float(theirs), rel_tol=1e-9)
    return ours == theirs


def test_agreement_with_exiftool() -> None:
    root = require_corpus()
    tags = _exiftool(root)
    agreed = 0
    problems = []
    for path in sorted(GOLDEN):
        record = _read_path(root / path).record
        assert record is not None
        expected = _expected(tags[path], record)
        for name in COMPARED:
            ours, theirs = getattr(record, name), expected[name]
            if (path, name) in ALLOWED:
                allowed_ours, allowed_theirs, _ = ALLOWED[(path, name)]
                assert (ours, theirs) == (allowed_ours, allowed_theirs), (path, name)
            elif _same(ours, theirs, name):
                agreed += 1
            else:
                problems.append((path, name, ours, theirs))
    assert problems == []
    assert agreed == len(GOLDEN) * len(COMPARED) - len(ALLOWED)


def test_zero_gps_video_agrees_with_media_tsv() -> None:
    """MEDIA.tsv (exiftool's values recorded with the corpus) has the 0,0 video: we keep 0,0 and flag it."""
    root = require_corpus()
    rows = (root / "MEDIA.tsv").read_text(encoding="utf-8").splitlines()
    row = next(line.split("\t") for line in rows if line.startswith("photoprism__photoprism/pkg/media/video/testdata/isom-avc1.mp4\t"))
    assert (float(row[8]), float(row[9])) == (0.0, 0.0)
    record = _read_path(root / "photoprism__photoprism/pkg/media/video/testdata/isom-avc1.mp4").record
    assert (record.gps_latitude, record.gps_longitude, "gps_all_zero" in record.flags) == (0.0, 0.0, True)


class _CountingSource(MediaSource):
    def __init__(self, path: Path) -> None:
        self._data = path.read_bytes()
        self.reads: list[tuple[int, int]] = []
        super().__init__(self._record, len(self._data), name=str(path))

    def _record(self, offset: int, size: int) -> bytes:
        self.reads.append((offset, size))
        return self._data[offset:offset + size]


def test_mdat_is_never_read() -> None:
    """Only headers are read: nothing inside mdat, a few kB in all for a 3.6 MB GoPro file."""
    path = require_corpus() / "gopro__gpmf-parser/samples/max-heromode.mp4"
    source = _CountingSource(path)
    read_media(source)
    mdat_start, mdat_end = 20 + 8, 20 + 3638590  # from the file's box layout (ftyp 20 bytes, then mdat)
    assert not [r for r in source.reads if r[0] < mdat_end and r[0] + r[1] > mdat_start and r[0] != 0]
    assert sum(size for offset, size in source.reads if offset != 0) < 64 * 1024


# ---------------------------------------------------------------- synthetic MP4 / QuickTime

def box(kind: bytes, payload: bytes = b"") -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def full(kind: bytes, payload: bytes, version: int = 0) -> bytes:
    return box(kind, bytes([version, 0, 0, 0]) + payload)


MAC = 2082844800  # seconds from 1904-01-01 to 1970-01-01
ROT_180 = (-0x10000, 0, 0, 0, -0x10000, 0, 0, 0, 0x40000000)
ROT_270 = (0, -0x10000, 0, 0x10000, 0, 0, 0, 0, 0x40000000)
IDENTITY = (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)


def _video_trak(matrix: tuple[int, ...] = IDENTITY, width: int = 1920, height: int = 1080) -> bytes:
    tkhd = full(b"tkhd", struct.pack(">QQIIQ", 0, 0, 1, 0, 5000) + bytes(8) + bytes(8)
                + struct.pack(">9i", *matrix) + struct.pack(">II", width << 16, height << 16), version=1)
    mdhd = full(b"mdhd", struct.pack(">IIII", 0, 0, 30000, 150150) + bytes(4))
    hdlr = full(b"hdlr", b"\0\0\0\0vide" + bytes(12) + b"Video\0")
    entry = box(b"hvc1", bytes(6) + b"\0\x01" + bytes(16) + struct.pack(">HH", width, height) + bytes(50))
    stsd = full(b"stsd", struct.pack(">I", 1) + entry)
    stts = full(b"stts", struct.pack(">III", 1, 150, 1001))
    stbl = box(b"stbl", stsd + stts)
    return box(b"trak", tkhd + box(b"mdia", mdhd + hdlr + box(b"minf", stbl)))


def _keys_meta(items: dict[str, str]) -> bytes:
    hdlr = full(b"hdlr", b"\0\0\0\0mdta" + bytes(12) + b"\0")
    keys = full(b"keys", struct.pack(">I", len(items)) + b"".join(box(b"mdta", k.encode()) for k in items))
    ilst = box(b"ilst", b"".join(box(struct.pack(">I", i), box(b"data", struct.pack(">II", 1, 0) + v.encode()))
                                 for i, v in enumerate(items.values(), start=1)))
    return box(b"meta", hdlr + keys + ilst)


def _mp4(moov_parts: bytes, brand: bytes = b"isom", created: int = 3_900_000_000, mdat: bytes = b"\0" * 64) -> bytes:
    mvhd = full(b"mvhd", struct.pack(">QQIQ", created, created + 60, 1000, 5005) + bytes(80), version=1)
    return box(b"ftyp", brand + bytes(4) + brand + b"mp41") + box(b"mdat", mdat) + box(b"moov", mvhd + moov_parts)


def test_synthetic_apple_keys_version1_mvhd_and_rotation() -> None:
    data = _mp4(_video_trak(ROT_180) + _keys_meta({
        "com.apple.quicktime.make": "Apple",
        "com.apple.quicktime.model": "iPhone 15 Pro",
        "com.apple.quicktime.software": "17.1",
        "com.apple.quicktime.creationdate": "2024-05-06T07:08:09-0700",
        "com.apple.quicktime.location.ISO6709": "+40.7128-074.0060+010.500/",
        "com.apple.quicktime.content.identifier": "6A1D4C1E-0F5B-4C29-9B44-2D6C3A1F0E11",
    }), brand=b"qt  ")
    result = _read_bytes(data)
    assert result.warnings == []
    assert result.record == MediaRecord(
        container_format="QuickTime", codec="hvc1", width=1920, height=1080, orientation=3, duration_seconds=5.005,
        frame_rate=30000 / 1001, capture_time_raw="2024-05-06T07:08:09-0700", capture_offset="-0700",
        capture_time_utc=1715004489 * 1_000_000_000, capture_time_source="quicktime_creation_date",
        modified_time_raw="2027-08-01T21:21:00", modified_time_utc=(3_900_000_060 - MAC) * 1_000_000_000,
        make="Apple", model="iPhone 15 Pro", software="17.1", gps_latitude=40.7128, gps_longitude=-74.006,
        gps_altitude=10.5, gps_source="quicktime_iso6709", content_identifier="6A1D4C1E-0F5B-4C29-9B44-2D6C3A1F0E11")


def test_synthetic_udta_text_atoms_out_of_range_gps_and_270() -> None:
    def text(kind: bytes, value: str) -> bytes:
        raw = value.encode()
        return box(kind, struct.pack(">HH", len(raw), 0x15C7) + raw)
    udta = box(b"udta", text(b"\xa9xyz", "+213.0000+100.0000/") + text(b"\xa9mak", "samsung") + text(b"\xa9mod", "SM-G991B")
               + text(b"\xa9swr", "G991BXXU5CVF1"))
    result = _read_bytes(_mp4(_video_trak(ROT_270, 1280, 720) + udta, brand=b"3gp5", created=MAC + 1_700_000_000))
    record = result.record
    assert (record.container_format, record.orientation, record.make, record.model, record.software) == (
        "3GP", 8, "samsung", "SM-G991B", "G991BXXU5CVF1")
    assert (record.capture_time_raw, record.capture_time_utc, record.capture_time_source) == (
        "2023-11-14T22:13:20", 1_700_000_000 * 1_000_000_000, "mvhd_creation_time")
    assert (record.gps_latitude, record.gps_longitude, record.gps_source, record.flags) == (
        213.0, 100.0, "quicktime_xyz", ["gps_latitude_out_of_range"])


@pytest.mark.parametrize(("text", "offset", "utc", "flags"), [
    ("2019-02-12T15:27:12+08:00", "+08:00", 1549956432 * 1_000_000_000, []),
    ("2019-02-12T15:27:12.25Z", "Z", 1549985232 * 1_000_000_000 + 250_000_000, []),
    ("2019-02-12T15:27:12", None, None, []),                      # no offset recorded: no UTC, not invalid
    ("2019-13-12T15:27:12+0800", "+0800", None, ["capture_time_invalid"]),
    ("0000-00-00T00:00:00+0000", "+0000", None, ["capture_time_invalid"]),
    ("yesterday", None, None, ["capture_time_invalid"]),
])
def test_apple_creation_date_kept_raw(text: str, offset: str | None, utc: int | None, flags: list[str]) -> None:
    record = _read_bytes(_mp4(_video_trak() + _keys_meta({"com.apple.quicktime.creationdate": text}))).record
    assert (record.capture_time_raw, record.capture_offset, record.capture_time_utc, record.capture_time_source, record.flags) == (
        text, offset, utc, "quicktime_creation_date", flags)


def test_old_quicktime_without_ftyp() -> None:
    mvhd = full(b"mvhd", struct.pack(">IIII", MAC + 1_000_000_000, MAC + 1_000_000_000, 600, 1200) + bytes(80))
    data = box(b"wide") + box(b"mdat", b"\xff" * 5000) + box(b"moov", mvhd + _video_trak())
    result = _read_bytes(data)
    assert result.reader.name == "isobmff_video"
    assert (result.record.container_format, result.record.duration_seconds, result.record.capture_time_raw) == (
        "QuickTime", 2.0, "2001-09-09T01:46:40")
    # Random data after a first 'free' box is not a QuickTime file.
    assert read_media(MediaSource(lambda o, s: (box(b"free") + b"notabox!" * 10)[o:o + s], 88)).reader is None


@pytest.mark.parametrize(("brand", "expected"), [
    (b"isom", "MP4"), (b"iso5", "MP4"), (b"mp42", "MP4"), (b"avc1", "MP4"), (b"qt  ", "QuickTime"), (b"M4V ", "M4V"),
    (b"M4VP", "M4V"), (b"3gp4", "3GP"), (b"3g2a", "3GP"), (b"dash", "MP4"),
    (b"heic", None), (b"mif1", None), (b"miaf", None), (b"msf1", None), (b"avif", None), (b"crx ", None), (b"M4A ", None),
])
def test_brands(brand: bytes, expected: str | None) -> None:
    assert container_of_brand(brand) == expected
    head = box(b"ftyp", brand + bytes(4) + brand)
    found = read_media(MediaSource(lambda o, s: head[o:o + s], len(head)))
    if expected is not None:
        assert (found.reader.name, found.record.container_format) == ("isobmff_video", expected)
    else:
        assert found.reader is None or found.reader.name != "isobmff_video"


def test_truncated_and_moovless_files_are_warnings() -> None:
    data = _mp4(_video_trak())
    cut = data[: len(data) - 200]
    result = _read_bytes(cut)
    assert result.record is not None and result.record.container_format == "MP4"
    assert result.warnings and all(w.kind == "malformed_media" for w in result.warnings)
    nothing = _read_bytes(box(b"ftyp", b"mp42" + bytes(4)) + box(b"mdat", bytes(32)))
    assert nothing.record == MediaRecord(container_format="MP4")
    assert [w.kind for w in nothing.warnings] == ["malformed_media"]
    garbage = box(b"ftyp", b"isom" + bytes(4)) + struct.pack(">I4s", 3, b"moov") + bytes(40)
    assert [w.kind for w in _read_bytes(garbage).warnings] == ["malformed_media", "malformed_media"]  # bad size, then no moov


@pytest.mark.parametrize(("text", "expected"), [
    ("+52.4597+013.3220+051.178/", (52.4597, 13.322, 51.178)),
    ("+27.1281+100.2508+000.000/", (27.1281, 100.2508, 0.0)),
    ("-33.8688+151.2093/", (-33.8688, 151.2093, None)),
    ("+213.0000+100.0000/", (213.0, 100.0, None)),                                # kept, flagged by the reader
    ("+4042.77-07400.36/", (40 + 42.77 / 60, -(74 + 0.36 / 60), None)),         # DDMM.mm / DDDMM.mm
    ("+404246-0740021CRSWGS_84/", (40 + 42 / 60 + 46 / 3600, -(74 + 0 / 60 + 21 / 3600), None)),  # DDMMSS
])
def test_iso6709(text: str, expected: tuple) -> None:
    found = parse_iso6709(text)
    assert found is not None
    assert [round(v, 9) if v is not None else None for v in found] == [round(v, 9) if v is not None else None for v in expected]


# ---------------------------------------------------------------- AVI

def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack("<4sI", kind, len(data)) + data + (b"\0" if len(data) % 2 else b"")


def riff_list(kind: bytes, data: bytes) -> bytes:
    return chunk(b"LIST", kind + data)


def _avi(idit: bytes | None = b"MON JAN 01 12:00:00 2024\n\0") -> bytes:
    avih = struct.pack("<10I", 33367, 0, 0, 0x10, 300, 0, 2, 0, 640, 480) + bytes(16)
    strh = b"vidsxvid" + struct.pack("<IHHIIIIIIII", 0, 0, 0, 0, 1001, 30000, 0, 300, 0, 0xFFFFFFFF, 0) + struct.pack("<4h", 0, 0, 640, 480)
    strf = struct.pack("<IiiHH4sIiiII", 40, 640, 480, 1, 24, b"XVID", 0, 0, 0, 0, 0)
    audio = riff_list(b"strl", chunk(b"strh", b"auds" + bytes(52)) + chunk(b"strf", bytes(18)))
    hdrl = chunk(b"avih", avih) + riff_list(b"strl", chunk(b"strh", strh) + chunk(b"strf", strf)) + audio
    if idit is not None:
        hdrl += chunk(b"IDIT", idit)
    body = b"AVI " + riff_list(b"hdrl", hdrl) + riff_list(b"movi", chunk(b"00dc", b"\x99" * 101)) + riff_list(
        b"INFO", chunk(b"ISFT", b"CanonMVI06\0") + chunk(b"ICRD", b"2024-01-01\0"))
    return b"RIFF" + struct.pack("<I", len(body)) + body


def test_avi_golden() -> None:
    result = _read_bytes(_avi())
    assert result.reader.name == "riff_avi"
    assert result.warnings == []
    assert result.record == MediaRecord(
        container_format="AVI", codec="XVID", width=640, height=480, duration_seconds=10.01, frame_rate=30000 / 1001,
        capture_time_raw="MON JAN 01 12:00:00 2024\n", capture_time_source="avi_idit", software="CanonMVI06")


def test_avi_icrd_fallback_and_truncation() -> None:
    record = _read_bytes(_avi(idit=None)).record
    assert (record.capture_time_raw, record.capture_time_source, record.capture_time_utc) == ("2024-01-01", "avi_icrd", None)
    cut = _avi()[:200]
    result = _read_bytes(cut)
    assert result.record.container_format == "AVI" and result.record.width == 640
    assert any(w.kind == "malformed_media" for w in result.warnings)
    assert _read_bytes(b"RIFF\x10\0\0\0WAVEfmt ").reader is None  # a WAV is not ours


# ---------------------------------------------------------------- Matroska / WebM

def element(ident: int, data: bytes, unknown: bool = False) -> bytes:
    size = b"\x01\xff\xff\xff\xff\xff\xff\xff" if unknown else b"\x01" + len(data).to_bytes(7, "big")
    return ident.to_bytes((ident.bit_length() + 7) // 8, "big") + size + data


def uint(ident: int, value: int) -> bytes:
    return element(ident, value.to_bytes(max(1, (value.bit_length() + 7) // 8), "big"))


DATE_NS = (1704164645 - 978307200) * 1_000_000_000  # 2024-01-02T03:04:05Z in ns since 2001-01-01


def _info() -> bytes:
    return element(0x1549A966, uint(0x2AD7B1, 1_000_000) + element(0x4489, struct.pack(">d", 12345.0))
                   + element(0x4461, DATE_NS.to_bytes(8, "big", signed=True)) + element(0x4D80, b"libebml v1.4.4 + libmatroska v1.7.1")
                   + element(0x5741, b"mkvmerge v80.0"))


def _tracks() -> bytes:
    audio = element(0xAE, uint(0x83, 2) + element(0x86, b"A_OPUS"))
    video = element(0xAE, uint(0x83, 1) + element(0x86, b"V_MPEG4/ISO/AVC") + uint(0x23E383, 33_366_667)
                    + element(0xE0, uint(0xB0, 1920) + uint(0xBA, 1080)))
    return element(0x1654AE6B, audio + video)


def _mkv(doc: bytes = b"matroska", body: bytes | None = None, unknown_segment: bool = False) -> bytes:
    header = element(0x1A45DFA3, uint(0x4286, 1) + element(0x4282, doc) + uint(0x4287, 4))
    if body is None:
        body = _info() + _tracks() + element(0x1F43B675, uint(0xE7, 0) + element(0xA3, b"\0" * 50))
    return header + element(0x18538067, body, unknown=unknown_segment)


MKV_GOLDEN = MediaRecord(
    container_format="Matroska", codec="V_MPEG4/ISO/AVC", width=1920, height=1080, duration_seconds=12.345,
    frame_rate=1e9 / 33_366_667, capture_time_raw="2024-01-02T03:04:05Z", capture_time_utc=1704164645 * 1_000_000_000,
    capture_time_source="matroska_date_utc", software="mkvmerge v80.0")


def test_matroska_golden() -> None:
    result = _read_bytes(_mkv())
    assert result.reader.name == "matroska"
    assert result.warnings == []
    assert result.record == MKV_GOLDEN


def test_webm_tracks_after_unknown_size_cluster_found_by_seekhead() -> None:
    """A live WebM: unknown-size Segment and Cluster, Tracks only reachable through the SeekHead."""
    info, tracks = _info(), _tracks()

    def seek_head(tracks_at: int) -> bytes:
        return element(0x114D9B74, element(0x4DBB, element(0x53AB, (0x1654AE6B).to_bytes(4, "big")) + uint(0x53AC, tracks_at)))
    probe = seek_head(0)
    cluster = element(0x1F43B675, uint(0xE7, 0) + element(0xA3, b"\0" * 20), unknown=True)
    body = seek_head(len(probe) + len(info) + len(cluster)) + info + cluster + tracks
    assert len(seek_head(len(probe) + len(info) + len(cluster))) == len(probe)
    result = _read_bytes(_mkv(b"webm", body, unknown_segment=True))
    assert result.record == MKV_GOLDEN


def test_matroska_not_claimed_and_damaged() -> None:
    assert _read_bytes(_mkv(b"somethingelse")).reader is None
    damaged = _mkv()[:60]
    result = _read_bytes(damaged)
    assert result.record is not None and result.record.container_format == "Matroska"
    assert result.warnings


XMP_PACKET = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
              b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
              b'xmlns:aux="http://ns.adobe.com/exif/1.0/aux/" exif:GPSLatitude="43,28.0468N" exif:GPSLongitude="11,53.1077W" '
              b'xmp:CreateDate="2024-05-06T07:08:09-07:00" xmp:ModifyDate="2030-01-01T00:00:00Z" aux:SerialNumber="CAM-7"/>'
              b'</rdf:RDF></x:xmpmeta>')


@pytest.mark.parametrize("where", ["top-level uuid after moov", "moov uuid", "udta XMP_"])
def test_xmp_fills_only_what_the_boxes_left_empty(where: str) -> None:
    uuid = box(b"uuid", bytes.fromhex("be7acfcb97a942e89c71999491e3afac") + XMP_PACKET)
    inside = {"moov uuid": uuid, "udta XMP_": box(b"udta", box(b"XMP_", XMP_PACKET))}.get(where, b"")
    data = _mp4(_video_trak() + inside) + (uuid if where.startswith("top-level") else b"")
    result = _read_bytes(data)
    assert result.warnings == []
    record = result.record
    # mvhd gives the capture and modified times: XMP's ModifyDate does not replace them.
    assert (record.capture_time_source, record.modified_time_raw) == ("mvhd_creation_time", "2027-08-01T21:21:00")
    assert (record.gps_latitude, record.gps_longitude, record.gps_source) == (
        pytest.approx(43 + 28.0468 / 60, abs=1e-12), pytest.approx(-(11 + 53.1077 / 60), abs=1e-12), "xmp")
    assert (record.digitized_time_raw, record.digitized_time_utc) == ("2024-05-06T07:08:09-07:00", 1715004489 * 1_000_000_000)
    assert (record.body_serial, record.body_serial_source) == ("CAM-7", "xmp_aux_serial")


def test_corpus_quicktime_xmp_packet_is_exiftools(monkeypatch: pytest.MonkeyPatch) -> None:
    """QuickTime.mov's udta XMP_ reaches the XMP reader byte for byte (it holds no field we take)."""
    from parsers.media import isobmff_video

    require_tool("exiftool")
    path = require_corpus() / "exiftool__exiftool/t/images/QuickTime.mov"
    expected = subprocess.run(["exiftool", "-b", "-XMP", str(path)], capture_output=True, check=True).stdout
    packets: list[bytes] = []
    original = isobmff_video.apply_xmp
    monkeypatch.setattr(isobmff_video, "apply_xmp", lambda packet, record, context: (packets.append(packet), original(packet, record, context)))
    result = _read_path(path)
    assert packets == [expected] and len(expected) == 704
    assert result.warnings == []


def test_top_level_scan_stops_soon_after_moov(tmp_path: Path) -> None:
    """A fragmented file's moof/mdat pairs are not walked: 8 boxes after moov at most, then stop."""
    fragments = b"".join(box(b"moof", b"\0" * 8) + box(b"mdat", b"\0" * 8) for _ in range(50))
    uuid = box(b"uuid", bytes.fromhex("be7acfcb97a942e89c71999491e3afac") + XMP_PACKET)
    near = _read_bytes(_mp4(_video_trak()) + box(b"free") + uuid + fragments)
    far = _read_bytes(_mp4(_video_trak()) + fragments + uuid)
    assert (near.warnings, far.warnings) == ([], [])
    assert (near.record.gps_source, far.record.gps_source) == ("xmp", None)
    fragmented = tmp_path / "fragmented.mp4"
    fragmented.write_bytes(_mp4(_video_trak()) + fragments)
    counting = _CountingSource(fragmented)
    read_media(counting)
    headers_after_moov = [r for r in counting.reads if r[0] >= len(_mp4(_video_trak())) and r[1] == 8]
    assert len(headers_after_moov) == 8
