"""EXIF -> MediaRecord fields: the one place every image reader (JPEG, TIFF, PNG, WebP, HEIF, raws) shares.

Not a reader (no READER). `apply_exif` takes a Pillow `Image.Exif` (IFD0 plus, via get_ifd, the
Exif and GPS sub-IFDs, and the maker note through parsers.media.maker_notes) and fills the record; a field that cannot be read becomes a warning naming
that field, and the rest is still read. Values that are present but invalid (latitude 213, a GPS
block of zeros, the date 0000:00:00 00:00:00) are kept as read and named in `record.flags`.

Text values are shown the way `exiftool` shows them: EXIF ASCII is NUL-terminated, so every
value is cut at its first NUL; Make, Model and Software (which cameras pad with blanks, "unknown"
by the EXIF spec) also lose trailing whitespace, as exiftool trims exactly those (and Artist);
other text (serials, lens, ImageUniqueID, dates) keeps trailing blanks as stored. The bytes are
decoded as UTF-8 (exiftool's default for EXIF); bytes that are not UTF-8 are kept exactly as an
UndecodedText. An empty value (nothing before the NUL, or only blanks where trimmed) is None.

Tag ids are from the EXIF 2.32 / CIPA DC-008 specification and TIFF 6.0.
"""

from __future__ import annotations

import calendar
import math
import re
import warnings
from fractions import Fraction
from typing import Any

from PIL import Image, TiffImagePlugin

from manifests.records import MediaRecord, decode_text
from parsers.media.base import MEDIA_ERRORS, MediaContext
from parsers.media.maker_notes import apply_maker_note

# Pointers from IFD0 to the sub-IFDs (TIFF/EXIF).
EXIF_IFD = 0x8769
GPS_IFD = 0x8825

# IFD0 (TIFF) tags.
MAKE = 0x010F
MODEL = 0x0110
ORIENTATION = 0x0112
SOFTWARE = 0x0131
DATE_TIME = 0x0132  # ModifyDate
CAMERA_SERIAL_NUMBER = 0xC62F  # DNG 1.x CameraSerialNumber (IFD0)

# Exif IFD tags.
DATE_TIME_ORIGINAL = 0x9003
DATE_TIME_DIGITIZED = 0x9004  # CreateDate
OFFSET_TIME = 0x9010
OFFSET_TIME_ORIGINAL = 0x9011
OFFSET_TIME_DIGITIZED = 0x9012
SUBSEC_TIME = 0x9290
SUBSEC_TIME_ORIGINAL = 0x9291
SUBSEC_TIME_DIGITIZED = 0x9292
IMAGE_UNIQUE_ID = 0xA420
BODY_SERIAL_NUMBER = 0xA431
LENS_MAKE = 0xA433
LENS_MODEL = 0xA434
LENS_SERIAL_NUMBER = 0xA435

# GPS IFD tags.
GPS_LATITUDE_REF = 0x0001
GPS_LATITUDE = 0x0002
GPS_LONGITUDE_REF = 0x0003
GPS_LONGITUDE = 0x0004
GPS_ALTITUDE_REF = 0x0005
GPS_ALTITUDE = 0x0006
GPS_TIME_STAMP = 0x0007
GPS_DATE_STAMP = 0x001D

_NS = 1_000_000_000
_DATE_TIME = re.compile(r"(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_GPS_DATE = re.compile(r"(\d{4})[:\-](\d{2})[:\-](\d{2})")
_OFFSET = re.compile(r"([+-])(\d{2}):(\d{2})")


class _Unreadable(ValueError):
    """A tag value of a shape or type the field cannot use (e.g. a number where text is due)."""


def exif_from_tiff_bytes(data: bytes) -> Image.Exif:
    """An Exif over a raw EXIF block: a TIFF header (II*\\0 / MM\\0*), optionally after b"Exif\\0\\0".

    For EXIF that is not inside a file Pillow opens itself (HEIF items, PNG eXIf, WebP EXIF
    chunks, CR3 CMT boxes). Raises one of MEDIA_ERRORS when the block is not EXIF.
    """
    exif = Image.Exif()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        exif.load(data)
    # IFD0 is parsed here; Pillow's complaints (truncated entries) are kept for apply_exif to report.
    exif.exhibit_load_warnings = [str(warning.message) for warning in caught]  # type: ignore[attr-defined]
    return exif


def apply_exif(record: MediaRecord, exif: Image.Exif, context: MediaContext) -> None:
    """Fill `record` from `exif` (IFD0 + Exif IFD + GPS IFD); never raises for bad values."""
    with warnings.catch_warnings(record=True) as caught:
        # Pillow reports truncated or odd IFDs with warnings.warn: they belong to this file.
        warnings.simplefilter("always")
        ifd0 = _ifd0(exif, context)
        exif_ifd = _sub_ifd(exif, EXIF_IFD, "exif_ifd", context)
        gps = _sub_ifd(exif, GPS_IFD, "gps_ifd", context)
    for message in [*getattr(exif, "exhibit_load_warnings", ()), *(str(w.message) for w in caught)]:
        context.warn("exif_damaged", f"Pillow: {message}", field="exif")
    for tag, name in ((EXIF_IFD, "exif_ifd"), (GPS_IFD, "gps_ifd")):
        pointer = ifd0.get(tag)
        if pointer is not None and (not isinstance(pointer, int) or isinstance(pointer, bool)):
            # e.g. a GPSInfo tag stored as a string: the sub-IFD cannot be found, so it is not read.
            context.warn("exif_pointer_invalid", f"IFD0 tag 0x{tag:04X} is not an IFD offset but "
                         f"{type(pointer).__name__} ({len(pointer) if hasattr(pointer, '__len__') else 1} long); "
                         f"{name} not read", field=name)
            if tag == GPS_IFD:
                record.flags.append("gps_invalid")
    # Cameras sometimes put a tag in the "wrong" IFD; exiftool reads it wherever it is, so do we,
    # preferring the IFD the standard names.
    primary0 = (ifd0, exif_ifd)
    primaryx = (exif_ifd, ifd0)

    _set_text(record, "make", primary0, MAKE, context, trim=True)
    _set_text(record, "model", primary0, MODEL, context, trim=True)
    _set_text(record, "software", primary0, SOFTWARE, context, trim=True)
    for ifds, tag, source in ((primaryx, BODY_SERIAL_NUMBER, "exif_body_serial"), (primary0, CAMERA_SERIAL_NUMBER, "dng_camera_serial")):
        if record.body_serial is None:
            _set_text(record, "body_serial", ifds, tag, context, number=True)
            record.body_serial_source = source if record.body_serial is not None else None
    _set_text(record, "lens_make", primaryx, LENS_MAKE, context)
    _set_text(record, "lens_model", primaryx, LENS_MODEL, context)
    _set_text(record, "lens_serial", primaryx, LENS_SERIAL_NUMBER, context, number=True)
    _set_text(record, "image_unique_id", primaryx, IMAGE_UNIQUE_ID, context)
    _set_orientation(record, primary0, context)

    capture = _time(primaryx, DATE_TIME_ORIGINAL, SUBSEC_TIME_ORIGINAL, OFFSET_TIME_ORIGINAL,
                    "capture_time", "capture_time_invalid", record, context)
    if capture is not None:
        record.capture_time_raw, record.capture_offset, record.capture_time_utc = capture
        record.capture_time_source = "exif_datetime_original"
    digitized = _time(primaryx, DATE_TIME_DIGITIZED, SUBSEC_TIME_DIGITIZED, OFFSET_TIME_DIGITIZED,
                      "digitized_time", "digitized_time_invalid", record, context)
    if digitized is not None:
        record.digitized_time_raw, _, record.digitized_time_utc = digitized
    modified = _time(primary0, DATE_TIME, SUBSEC_TIME, OFFSET_TIME,
                     "modified_time", "modified_time_invalid", record, context)
    if modified is not None:
        record.modified_time_raw, _, record.modified_time_utc = modified

    if gps:
        _apply_gps(record, gps, context)
    apply_maker_note(record, exif, ifd0, exif_ifd, context)


# --- IFD access ---------------------------------------------------------------------------------


def _ifd0(exif: Image.Exif, context: MediaContext) -> dict[int, Any]:
    """IFD0's tags as a plain dict (reading them can fail on a damaged block)."""
    try:
        return dict(exif.items())
    except MEDIA_ERRORS as error:
        context.warn("exif_unreadable", f"IFD0 could not be read: {type(error).__name__}: {error}", field="exif")
        return {}


def _sub_ifd(exif: Image.Exif, tag: int, name: str, context: MediaContext) -> dict[int, Any]:
    """A sub-IFD's tags ({} when absent or unreadable, the latter with a warning)."""
    try:
        return dict(exif.get_ifd(tag))
    except MEDIA_ERRORS as error:
        context.warn("exif_unreadable", f"{name} could not be read: {type(error).__name__}: {error}", field=name)
        return {}


def _lookup(ifds: tuple[dict[int, Any], ...], tag: int) -> Any:
    for ifd in ifds:
        if tag in ifd:
            return ifd[tag]
    return None


# --- values -------------------------------------------------------------------------------------


def clean_text(value: Any, trim: bool = False) -> str | None:
    """An EXIF ASCII value as exiftool shows it: cut at the first NUL; trailing whitespace removed if `trim`.

    Pillow decodes ASCII as Latin-1 (one char per byte), so encoding back gives the exact stored
    bytes. Returns None for an empty value. Raises _Unreadable for a non-text value.
    """
    if isinstance(value, str):
        try:
            data = value.encode("latin-1")
        except UnicodeEncodeError:  # Pillow decoded it as UTF-8: those are the stored bytes
            data = value.encode("utf-8", "surrogateescape")
    elif isinstance(value, (bytes, bytearray)):
        data = bytes(value)
    elif isinstance(value, tuple) and value and all(isinstance(v, int) and 0 <= v < 256 for v in value):
        data = bytes(value)
    else:
        raise _Unreadable(f"not text: {type(value).__name__} {value!r:.60}")
    data = data.split(b"\0", 1)[0]
    if trim:
        data = data.rstrip(b" \t\r\n\x0b\x0c")
    if not data:
        return None
    return decode_text(data)


def _set_text(record: MediaRecord, name: str, ifds: tuple[dict[int, Any], ...], tag: int, context: MediaContext,
              trim: bool = False, number: bool = False) -> None:
    """A text field; with `number`, an integer value (a serial some writers store as LONG) as its digits."""
    value = _lookup(ifds, tag)
    if value is None:
        return
    if number and isinstance(value, int) and not isinstance(value, bool):
        setattr(record, name, str(value))
        return
    try:
        setattr(record, name, clean_text(value, trim))
    except _Unreadable as error:
        context.warn("exif_field_unreadable", f"EXIF tag 0x{tag:04X}: {error}", field=name)


def _set_orientation(record: MediaRecord, ifds: tuple[dict[int, Any], ...], context: MediaContext) -> None:
    value = _lookup(ifds, ORIENTATION)
    if value is None:
        return
    if isinstance(value, tuple) and len(value) == 1:
        value = value[0]
    if not isinstance(value, int) or isinstance(value, bool):
        context.warn("exif_field_unreadable", f"Orientation is not an integer: {value!r:.60}", field="orientation")
        return
    record.orientation = value
    if not 1 <= value <= 8:
        record.flags.append("orientation_invalid")


def _offset_seconds(offset: str) -> int | None:
    """'+02:00' -> 7200; None when it is not the EXIF form ±HH:MM (e.g. blanks or '   :  ')."""
    match = _OFFSET.fullmatch(offset)
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    if int(hours) > 14 or int(minutes) > 59:
        return None
    seconds = int(hours) * 3600 + int(minutes) * 60
    return -seconds if sign == "-" else seconds


def _local_ns(text: str, subsec: str | None) -> int | None:
    """The EXIF 'YYYY:MM:DD HH:MM:SS' text (plus SubSec digits) as ns since the epoch, read as UTC.

    None when it is not a real date and time (0000:00:00 00:00:00, blanks, month 13...).
    """
    match = _DATE_TIME.match(text)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(part) for part in match.groups())
    if not (1 <= month <= 12 and 1 <= day <= calendar.monthrange(max(year, 1), month)[1]
            and year >= 1 and hour <= 23 and minute <= 59 and second <= 60):
        return None
    seconds = calendar.timegm((year, month, day, hour, minute, second, 0, 0, 0))
    fraction = 0
    if subsec and subsec.isdigit():
        # SubSecTime digits are the decimal fraction of the second: "07" = 0.07 s.
        digits = subsec[:9]
        fraction = int(digits) * 10 ** (9 - len(digits))
    return seconds * _NS + fraction


def _time(ifds: tuple[dict[int, Any], ...], tag: int, subsec_tag: int, offset_tag: int, field: str, flag: str,
          record: MediaRecord, context: MediaContext) -> tuple[str, str | None, int | None] | None:
    """(raw text, offset text, UTC ns or None) for one EXIF time; flags invalid dates and offsets."""
    value = _lookup(ifds, tag)
    if value is None:
        return None
    try:
        raw = clean_text(value)
    except _Unreadable as error:
        context.warn("exif_field_unreadable", f"EXIF tag 0x{tag:04X}: {error}", field=f"{field}_raw")
        return None
    if raw is None:
        return None
    subsec: str | None = None
    offset: str | None = None
    try:
        subsec = clean_text(_lookup(ifds, subsec_tag)) if _lookup(ifds, subsec_tag) is not None else None
        subsec = subsec.strip() if subsec else None
    except _Unreadable as error:
        context.warn("exif_field_unreadable", f"EXIF tag 0x{subsec_tag:04X}: {error}", field=f"{field}_utc")
    try:
        offset = clean_text(_lookup(ifds, offset_tag)) if _lookup(ifds, offset_tag) is not None else None
        if offset is not None and not offset.strip():
            offset = None  # blanks mean "unknown" in EXIF
    except _Unreadable as error:
        context.warn("exif_field_unreadable", f"EXIF tag 0x{offset_tag:04X}: {error}", field=f"{field}_utc")
    local = _local_ns(raw, subsec)
    if local is None and raw.strip(" :"):
        # All blanks (and colons) is the EXIF spelling of "unknown", not an invalid value.
        record.flags.append(flag)
    utc: int | None = None
    if offset is not None:
        seconds = _offset_seconds(offset.strip())
        if seconds is None:
            if "offset_invalid" not in record.flags:
                record.flags.append("offset_invalid")
        elif local is not None:
            utc = local - seconds * _NS
    return raw, offset, utc


# --- GPS ----------------------------------------------------------------------------------------


def _rational(value: Any) -> Fraction:
    """One EXIF rational as an exact Fraction; raises _Unreadable for n/0 or a non-number."""
    if isinstance(value, TiffImagePlugin.IFDRational):
        if value.denominator == 0:
            raise _Unreadable(f"rational with denominator 0 ({value.numerator}/0)")
        return Fraction(value.numerator, value.denominator)
    if isinstance(value, bool) or not isinstance(value, (int, float, Fraction)):
        raise _Unreadable(f"not a number: {type(value).__name__} {value!r:.60}")
    if isinstance(value, float) and not math.isfinite(value):
        raise _Unreadable(f"not a finite number: {value!r}")
    return Fraction(value)


def _triple(value: Any) -> Fraction:
    """Degrees/minutes/seconds (1 to 3 rationals, as written) as a Fraction of the first unit."""
    parts = value if isinstance(value, tuple) else (value,)
    if not 1 <= len(parts) <= 3:
        raise _Unreadable(f"expected 1 to 3 rationals, got {len(parts)}")
    total = Fraction(0)
    # strict=False: 1 to 3 rationals (degrees, then minutes, then seconds); the scales of absent ones go unused
    for scale, part in zip((1, 60, 3600), parts, strict=False):
        total += _rational(part) / scale
    return total


def _ref(value: Any) -> str | None:
    try:
        text = clean_text(value) if value is not None else None
    except _Unreadable:
        return None
    return text.strip().upper() if text else None


def _apply_gps(record: MediaRecord, gps: dict[int, Any], context: MediaContext) -> None:
    """Latitude/longitude/altitude/time from the GPS IFD, flagged and never fixed."""
    latitude = longitude = None
    for name, tag, ref_tag, negative, limit, flag in (
        ("gps_latitude", GPS_LATITUDE, GPS_LATITUDE_REF, "S", 90, "gps_latitude_out_of_range"),
        ("gps_longitude", GPS_LONGITUDE, GPS_LONGITUDE_REF, "W", 180, "gps_longitude_out_of_range"),
    ):
        value = gps.get(tag)
        if value is None:
            continue
        try:
            degrees = _triple(value)
        except (_Unreadable, *MEDIA_ERRORS) as error:
            context.warn("exif_field_unreadable", f"GPS tag {tag}: {error}", field=name)
            if "gps_invalid" not in record.flags:
                record.flags.append("gps_invalid")
            continue
        if _ref(gps.get(ref_tag)) == negative:
            degrees = -degrees
        number = float(degrees)
        setattr(record, name, number)
        if abs(number) > limit:
            record.flags.append(flag)
        if name == "gps_latitude":
            latitude = number
        else:
            longitude = number
    if latitude == 0 and longitude == 0:
        record.flags.append("gps_all_zero")

    _apply_gps_altitude(record, gps, context)
    if latitude is not None or longitude is not None:
        record.gps_source = "exif"
    _apply_gps_time(record, gps, context)


def _apply_gps_altitude(record: MediaRecord, gps: dict[int, Any], context: MediaContext) -> None:
    """GPSAltitude in metres, below sea level when GPSAltitudeRef is 1; an unreadable one is flagged."""
    altitude = gps.get(GPS_ALTITUDE)
    if altitude is None:
        return
    try:
        metres = _rational(altitude[0] if isinstance(altitude, tuple) and len(altitude) == 1 else altitude)
    except (_Unreadable, *MEDIA_ERRORS) as error:
        context.warn("exif_field_unreadable", f"GPSAltitude: {error}", field="gps_altitude")
        if "gps_invalid" not in record.flags:
            record.flags.append("gps_invalid")
        return
    reference = gps.get(GPS_ALTITUDE_REF)
    if isinstance(reference, bytes):
        reference = reference[0] if reference else None
    elif isinstance(reference, tuple):
        reference = reference[0] if reference else None
    record.gps_altitude = float(-metres if reference == 1 else metres)


def _apply_gps_time(record: MediaRecord, gps: dict[int, Any], context: MediaContext) -> None:
    """GPSDateStamp + GPSTimeStamp as UTC ns (UTC by definition); needs both; a bad date is flagged."""
    date_value = gps.get(GPS_DATE_STAMP)
    time_value = gps.get(GPS_TIME_STAMP)
    if date_value is None:
        return  # a time of day without its date is not a point in time
    try:
        date_text = clean_text(date_value)
        match = _GPS_DATE.fullmatch((date_text or "").strip())
        if match is None:
            raise _Unreadable(f"GPSDateStamp is not YYYY:MM:DD: {date_text!r}")
        year, month, day = (int(part) for part in match.groups())
        if not (year >= 1 and 1 <= month <= 12 and 1 <= day <= calendar.monthrange(year, month)[1]):
            raise _Unreadable(f"GPSDateStamp is not a real date: {date_text!r}")
        if time_value is None:
            return  # a valid date alone is not a time
        seconds_of_day = _triple(time_value) * 3600  # hours, minutes, seconds
        if not 0 <= seconds_of_day < 86401:
            raise _Unreadable(f"GPSTimeStamp out of range: {float(seconds_of_day)} s")
    except (_Unreadable, *MEDIA_ERRORS) as error:
        context.warn("exif_field_unreadable", f"GPS time: {error}", field="gps_time_utc")
        if "gps_time_invalid" not in record.flags:
            record.flags.append("gps_time_invalid")
        return
    midnight = calendar.timegm((year, month, day, 0, 0, 0, 0, 0, 0))
    record.gps_time_utc = midnight * _NS + round(seconds_of_day * _NS)
