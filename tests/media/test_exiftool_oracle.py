"""exiftool is the oracle: for every `[media]` file of the corpus, make, model, capture time, GPS
latitude and longitude (to 1e-6 degree), altitude, width, height and the body serial number agree
with `exiftool -n`, field by field. Every disagreement allowed is listed below with its reason; any other fails the test.
"""

from __future__ import annotations

import csv
import json
import math
import re
import subprocess
from datetime import datetime, timezone
from functools import cache
from pathlib import Path

import pytest

from manifests.records import MediaRecord
from tests.conftest import require_tool
from tests.corpus import require_corpus
from tests.media.helpers import exiftool_time_ns, read_file

FIELDS = ("make", "model", "capture_time", "gps_latitude", "gps_longitude", "gps_altitude", "width", "height", "body_serial", "lens_serial")

# (corpus path, field) -> why Exhibit's value differs from exiftool's (both values are asserted).
ALLOWED: dict[tuple[str, str], tuple[object, object, str]] = {
    ("photoprism__photoprism/internal/photoprism/testdata/panorama360.jpg", "gps_altitude"): (
        None, "undef", "GPSAltitude is the rational 0/0: exiftool prints 'undef'; Exhibit keeps no number, flags gps_invalid and warns"),
}


def _media_paths(root: Path) -> list[str]:
    with open(root / "SOURCES.tsv", newline="", encoding="utf-8") as handle:
        return sorted(row["local_path"] for row in csv.DictReader(handle, delimiter="\t") if row["description"].startswith("[media]"))


@cache
def _exiftool(root: Path) -> dict[str, dict]:
    require_tool("exiftool")
    paths = _media_paths(root)
    output = subprocess.run(["exiftool", "-j", "-n", "-G", "-q", "-q", *[str(root / p) for p in paths]], capture_output=True, check=False).stdout
    return {str(Path(item["SourceFile"]).relative_to(root)): item for item in json.loads(output)}


def _first(tags: dict, *names: str) -> object:
    for name in names:
        if name in tags:
            return tags[name]
    return None


def _text(value: object) -> str | None:
    return None if value is None else str(value).strip()


def _raw_text(value: object) -> str | None:
    return None if value is None else str(value)


def _utc_text(stamp: object) -> str | None:
    """exiftool's QuickTime date ('2023:09:22 18:34:05+02:00', or a bare stored UTC value) as UTC text."""
    if stamp in (None, "0000:00:00 00:00:00"):
        return None
    nanoseconds = exiftool_time_ns(stamp)  # no offset: QuickTime CreateDate is stored UTC, printed unconverted
    if nanoseconds is None:
        return str(stamp)
    return datetime.fromtimestamp(nanoseconds // 10**9, tz=timezone.utc).strftime("%Y:%m:%d %H:%M:%S")


def _size(tags: dict, index: int) -> object:
    """Width (0) or height (1): Composite:ImageSize is exiftool's answer for every format ('W H' with -n)."""
    size = tags.get("Composite:ImageSize")
    if isinstance(size, str) and len(size.split()) == 2:
        return int(size.split()[index])
    return None


def _expected(tags: dict, record: MediaRecord) -> dict[str, object]:
    """exiftool's value for each compared field, picked the way its -n output names them."""
    video = record.container_format in ("MP4", "QuickTime", "3GP", "M4V", "AVI", "Matroska")
    if video and record.capture_time_source == "quicktime_creation_date":
        capture = _utc_text(_first(tags, "QuickTime:CreationDate"))
    elif video:
        capture = _utc_text(_first(tags, "QuickTime:CreateDate"))
    else:  # EXIF, else the XMP fallbacks of parsers.media.xmp (exiftool prints XMP dates in EXIF form)
        capture = _text(_first(tags, "EXIF:DateTimeOriginal", "XMP:DateTimeOriginal", "XMP:DateCreated"))
    return {
        "make": _text(_first(tags, "EXIF:Make", "QuickTime:Make", "XMP:Make")),
        "model": _text(_first(tags, "EXIF:Model", "QuickTime:Model", "XMP:Model")),
        "capture_time": capture,
        "gps_latitude": _first(tags, "Composite:GPSLatitude", "EXIF:GPSLatitude", "XMP:GPSLatitude"),
        "gps_longitude": _first(tags, "Composite:GPSLongitude", "EXIF:GPSLongitude", "XMP:GPSLongitude"),
        "gps_altitude": _first(tags, "Composite:GPSAltitude", "EXIF:GPSAltitude", "XMP:GPSAltitude"),
        "width": _size(tags, 0),
        "height": _size(tags, 1),
        # In parsers.media.maker_notes' order: EXIF, DNG, maker serial, maker internal serial, XMP;
        # GoPro video's CASN is exiftool's CameraSerialNumber.
        # Compared as exiftool prints it, trailing blanks and all (a serial is kept exactly as stored).
        "body_serial": _raw_text(_first(tags, "EXIF:SerialNumber", "EXIF:CameraSerialNumber", "MakerNotes:SerialNumber",
                                    "MakerNotes:InternalSerialNumber", "XMP:SerialNumber", "QuickTime:CameraSerialNumber")),
        # EXIF, then XMP (an empty XMP value is no value), then GoPro's udta LENS.
        "lens_serial": _raw_text(_first(tags, "EXIF:LensSerialNumber", "XMP:LensSerialNumber", "QuickTime:LensSerialNumber")) or None,
    }


def _ours(record: MediaRecord) -> dict[str, object]:
    video = record.container_format in ("MP4", "QuickTime", "3GP", "M4V", "AVI", "Matroska")
    if video:  # compared in UTC: exiftool's QuickTime dates converted the same way
        utc = record.capture_time_utc
        capture = None if utc is None else datetime.fromtimestamp(utc // 10**9, tz=timezone.utc).strftime("%Y:%m:%d %H:%M:%S")
    elif record.capture_time_source and record.capture_time_source.startswith("xmp_"):
        capture = re.sub(r"^(\d{4})-(\d{2})-(\d{2})T", r"\1:\2:\3 ", record.capture_time_raw or "")
    else:
        capture = record.capture_time_raw
    return {"make": record.make, "model": record.model, "capture_time": capture, "gps_latitude": record.gps_latitude,
            "gps_longitude": record.gps_longitude, "gps_altitude": record.gps_altitude, "width": record.width, "height": record.height,
            "body_serial": record.body_serial, "lens_serial": record.lens_serial}


def _same(field: str, ours: object, theirs: object) -> bool:
    if field.startswith("gps_") and isinstance(ours, (int, float)) and isinstance(theirs, (int, float)):
        return math.isclose(float(ours), float(theirs), abs_tol=1e-6 if field != "gps_altitude" else 1e-3)
    if field in ("width", "height") and ours is not None and theirs is not None:
        return int(ours) == int(theirs)
    return ours == theirs


def _read(path: Path) -> MediaRecord:
    result = read_file(path)
    assert result.record is not None, f"{path}: no reader recognised it"
    return result.record


def test_every_corpus_media_file_agrees_with_exiftool() -> None:
    root = require_corpus()
    tags_by_file = _exiftool(root)
    paths = _media_paths(root)
    assert len(paths) == 83
    disagreements: dict[tuple[str, str], tuple[object, object]] = {}
    compared = 0
    for relative in paths:
        record = _read(root / relative)
        expected = _expected(tags_by_file[relative], record)
        ours = _ours(record)
        for field in FIELDS:
            compared += 1
            if not _same(field, ours[field], expected[field]):
                disagreements[(relative, field)] = (ours[field], expected[field])
    allowed = {key: (ours, theirs) for key, (ours, theirs, _why) in ALLOWED.items()}
    assert disagreements == allowed
    assert compared == 83 * len(FIELDS)


def test_media_tsv_positions() -> None:
    """MEDIA.tsv holds exiftool 12.57's decimal degrees for the files with GPS."""
    root = require_corpus()
    with open(root / "MEDIA.tsv", newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    assert rows
    for row in rows:
        record = _read(root / row["local_path"])
        assert (record.make, record.model) == (row["make"] or None, row["model"] or None), row["local_path"]
        assert record.gps_latitude == pytest.approx(float(row["gps_lat_decimal"]), abs=1e-6), row["local_path"]
        assert record.gps_longitude == pytest.approx(float(row["gps_lon_decimal"]), abs=1e-6), row["local_path"]
