"""parsers.media.xmp: XMP fills only what the EXIF left empty (dates, serial; position is in test_still_images)."""

from __future__ import annotations

import io
import random
import subprocess

import pytest
from PIL import Image

from manifests.records import MediaRecord
from parsers.media.base import MediaContext
from parsers.media.xmp import apply_xmp, xmp_date
from tests.conftest import require_tool
from tests.corpus import require_corpus
from tests.images import damaged
from tests.media.helpers import read_bytes, read_file
from tests.media.test_exif import ASCII, ascii_, build_tiff
from tests.media.test_still_images import ns


def _packet(description: str) -> bytes:
    return ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
            '<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/" '
            'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" xmlns:tiff="http://ns.adobe.com/tiff/1.0/" '
            'xmlns:aux="http://ns.adobe.com/exif/1.0/aux/" xmlns:exifEX="http://cipa.jp/exif/1.0/" '
            f'{description}/></rdf:RDF></x:xmpmeta>').encode()


def _apply(description: str, record: MediaRecord | None = None) -> tuple[MediaRecord, MediaContext]:
    record = record or MediaRecord(container_format="JPEG")
    context = MediaContext()
    apply_xmp(_packet(description), record, context)
    return record, context


def test_xmp_date_forms() -> None:
    assert xmp_date("2010-07-11T13:53:00+02:00") == ("+02:00", ns("2010-07-11 11:53:00"))
    assert xmp_date("2010-07-11T13:53:00.9-03:30") == ("-03:30", ns("2010-07-11 17:23:00.9"))
    assert xmp_date("2010-07-11T13:53Z") == ("Z", ns("2010-07-11 13:53:00"))
    assert xmp_date("2022-01-10T15:15:44.31") == (None, None)  # no zone: local time, no UTC
    assert xmp_date("2010-07") == (None, None)
    assert xmp_date("2010") == (None, None)
    for bad in ("2010-13-01T00:00:00Z", "2010-02-30", "2010:07:11 13:53:00", "yesterday", "2010-07-11T25:00:00Z"):
        with pytest.raises(ValueError):
            xmp_date(bad)


def test_dates_fill_only_empty_fields_in_the_mwg_pairs() -> None:
    record, context = _apply('exif:DateTimeOriginal="2010-07-11T13:53:00+02:00" photoshop:DateCreated="2001-01-01" '
                             'xmp:CreateDate="2010-07-11T13:53:01Z" xmp:ModifyDate="2011-01-02T03:04:05.123456789+00:00" '
                             'tiff:DateTime="1999-01-01"')
    assert context.warnings == []
    assert record == MediaRecord(
        container_format="JPEG", capture_time_raw="2010-07-11T13:53:00+02:00", capture_offset="+02:00",
        capture_time_utc=ns("2010-07-11 11:53:00"), capture_time_source="xmp_exif_datetime_original",
        digitized_time_raw="2010-07-11T13:53:01Z", digitized_time_utc=ns("2010-07-11 13:53:01"),
        modified_time_raw="2011-01-02T03:04:05.123456789+00:00", modified_time_utc=ns("2011-01-02 03:04:05.123456789"))


def test_photoshop_date_created_when_there_is_no_exif_datetime_original() -> None:
    record, _ = _apply('photoshop:DateCreated="2022-01-10T15:15:44.31" tiff:DateTime="2022-01-11T00:00:00Z"')
    assert (record.capture_time_raw, record.capture_offset, record.capture_time_utc, record.capture_time_source) == (
        "2022-01-10T15:15:44.31", None, None, "xmp_photoshop_date_created")
    assert (record.modified_time_raw, record.modified_time_utc) == ("2022-01-11T00:00:00Z", ns("2022-01-11 00:00:00"))


def test_exif_times_and_serial_stand() -> None:
    exif_record = MediaRecord(container_format="JPEG", capture_time_raw="2010:07:11 13:53:00",
                              capture_time_source="exif_datetime_original", body_serial="123", body_serial_source="exif_body_serial")
    record, context = _apply('exif:DateTimeOriginal="2012-01-01T00:00:00Z" aux:SerialNumber="999"', exif_record)
    assert (record.capture_time_raw, record.capture_time_utc, record.capture_time_source) == (
        "2010:07:11 13:53:00", None, "exif_datetime_original")
    assert (record.body_serial, record.body_serial_source, context.warnings) == ("123", "exif_body_serial", [])


def test_an_invalid_exif_time_is_not_replaced_by_xmp() -> None:
    exif_record = MediaRecord(container_format="JPEG", flags=["capture_time_invalid"])
    record, _ = _apply('exif:DateTimeOriginal="2012-01-01T00:00:00Z"', exif_record)
    assert (record.capture_time_raw, record.flags) == (None, ["capture_time_invalid"])


def test_an_invalid_xmp_date_is_kept_raw_flagged_and_warned() -> None:
    record, context = _apply('exif:DateTimeOriginal="0000-00-00T00:00:00Z"')
    assert (record.capture_time_raw, record.capture_time_utc, record.flags) == ("0000-00-00T00:00:00Z", None, ["capture_time_invalid"])
    assert [(w.kind, w.field) for w in context.warnings] == [("xmp_unreadable", "capture_time_raw")]


def test_serials_from_aux_then_exifex() -> None:
    record, _ = _apply('aux:SerialNumber="062021002724" exifEX:BodySerialNumber="X" aux:LensSerialNumber="4803006108" '
                       'exifEX:LensSerialNumber="Y"')
    assert (record.body_serial, record.body_serial_source, record.lens_serial) == ("062021002724", "xmp_aux_serial", "4803006108")
    record, _ = _apply('exifEX:BodySerialNumber="BX1" exifEX:LensSerialNumber="L2" aux:LensSerialNumber=""')
    assert (record.body_serial, record.body_serial_source, record.lens_serial) == ("BX1", "xmp_exifex_body_serial", "L2")


def test_jpeg_with_exif_and_xmp_end_to_end() -> None:
    """Through the still-image reader: EXIF's DateTimeOriginal stands, XMP adds the modified time."""
    exif = build_tiff(ifd0=[(0x010F, ASCII, ascii_(b"Canon"))], exif=[(0x9003, ASCII, ascii_(b"2020:01:02 03:04:05"))])
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2)).save(buffer, "JPEG", exif=b"Exif\x00\x00" + exif,
                                  xmp=_packet('exif:DateTimeOriginal="1999-01-01T00:00:00Z" xmp:ModifyDate="2020-02-03T04:05:06+01:00"'))
    data = buffer.getvalue()
    result = read_bytes(data, "x.jpg")
    assert result.record is not None and result.warnings == []
    record = result.record
    assert (record.capture_time_raw, record.capture_time_source) == ("2020:01:02 03:04:05", "exif_datetime_original")
    assert (record.modified_time_raw, record.modified_time_utc) == ("2020-02-03T04:05:06+01:00", ns("2020-02-03 03:05:06"))


def test_corpus_thompson_springs_times_come_from_xmp() -> None:
    """No EXIF dates; the XMP's photoshop:DateCreated/xmp:CreateDate/xmp:ModifyDate (exiftool 12.57
    prints them as 2022:01:10 15:15:44.31) with no zone: raw only."""
    result = read_file(require_corpus() / "immich-app__test-assets/metadata/gps-position/thompson-springs.jpg")
    record = result.record
    assert record is not None and result.warnings == []
    assert (record.capture_time_raw, record.capture_time_source, record.capture_time_utc) == (
        "2022-01-10T15:15:44.31", "xmp_photoshop_date_created", None)
    assert (record.digitized_time_raw, record.modified_time_raw) == ("2022-01-10T15:15:44.31", "2022-01-10T15:15:44.31")
    assert (record.body_serial, record.body_serial_source) == ("062021002724", "xmp_aux_serial")


def test_damaged_real_packets_never_raise() -> None:
    """Bytes changed and packets cut at random in two real XMP packets: a warning at most, never an exception."""
    require_tool("exiftool")
    generator = random.Random(11)
    for relative in ("python-pillow__Pillow/Tests/images/exif_gps_typeerror.jpg",
                     "immich-app__test-assets/metadata/gps-position/thompson-springs.jpg"):
        packet = subprocess.run(["exiftool", "-b", "-XMP", str(require_corpus() / relative)], capture_output=True, check=True).stdout
        assert packet.startswith(b"<")
        for _ in range(1000):
            context = MediaContext()
            apply_xmp(damaged(packet, generator), MediaRecord(container_format="JPEG"), context)
            assert all(w.kind == "xmp_unreadable" for w in context.warnings)
