"""XMP packets -> MediaRecord fields the binary EXIF left empty: position, dates, body serial.

Not a reader (no READER): the still-image reader finds the packet (JPEG APP1, PNG iTXt/tEXt/zTXt
`XML:com.adobe.xmp`, WebP `XMP `, TIFF tag 700) and calls `apply_xmp` after the EXIF. XMP is
text that editing software writes and rewrites, so every value here is a fallback: a field the
EXIF (or a maker note) already filled is never replaced.

- Position: exif:GPSLatitude/GPSLongitude ("DDD,MM,SSk" or "DDD,MM.mmk", XMP specification part
  2, 1.2.7.4), exif:GPSAltitude with GPSAltitudeRef; gps_source "xmp"; flags as for EXIF.
- Dates, paired with their EXIF tags as the Metadata Working Group's guidelines pair them:
  capture = exif:DateTimeOriginal, else photoshop:DateCreated; digitised = exif:DateTimeDigitized,
  else xmp:CreateDate; modified = xmp:ModifyDate, else tiff:DateTime. XMP dates are ISO 8601
  ("2010-07-11T13:53:00.9+02:00", possibly only "2010-07" or "2010"): the raw value is the stored
  text; UTC is given only for a full date and time with a zone ("Z" or ±hh:mm), at the stored
  precision. Text that is not such a date is kept raw and flagged (capture_time_invalid, ...).
- Body serial: aux:SerialNumber, else exifEX:BodySerialNumber; lens serial: aux:LensSerialNumber,
  else exifEX:LensSerialNumber.

Packets with a DTD are refused (entity expansion) with an `xmp_unreadable` warning.
"""

from __future__ import annotations

import calendar
import re
import xml.etree.ElementTree as ElementTree
from fractions import Fraction

from manifests.records import MediaRecord
from parsers.media.base import MediaContext

MAX_XMP_BYTES = 4 << 20

XMP_EXIF_NS = "http://ns.adobe.com/exif/1.0/"
XMP_AUX_NS = "http://ns.adobe.com/exif/1.0/aux/"
XMP_EXIFEX_NS = "http://cipa.jp/exif/1.0/"
XMP_BASIC_NS = "http://ns.adobe.com/xap/1.0/"
XMP_PHOTOSHOP_NS = "http://ns.adobe.com/photoshop/1.0/"
XMP_TIFF_NS = "http://ns.adobe.com/tiff/1.0/"

_XMP_COORDINATE = re.compile(r"\s*(\d+(?:\.\d+)?)(?:,(\d+(?:\.\d+)?))?(?:,(\d+(?:\.\d+)?))?\s*([NSEW])\s*", re.I)
_XMP_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
                       r"(Z|[+-]\d{2}:\d{2})?)?)?)?")

# (record prefix, invalid flag, [(namespace, property, capture_time_source)])
_DATES = (
    ("capture_time", "capture_time_invalid", ((XMP_EXIF_NS, "DateTimeOriginal", "xmp_exif_datetime_original"),
                                              (XMP_PHOTOSHOP_NS, "DateCreated", "xmp_photoshop_date_created"))),
    ("digitized_time", "digitized_time_invalid", ((XMP_EXIF_NS, "DateTimeDigitized", ""), (XMP_BASIC_NS, "CreateDate", ""))),
    ("modified_time", "modified_time_invalid", ((XMP_BASIC_NS, "ModifyDate", ""), (XMP_TIFF_NS, "DateTime", ""))),
)


def xmp_values(xmp: bytes) -> dict[str, dict[str, str]]:
    """Namespace URI -> {property local name: value}, written as attributes or elements."""
    start = xmp.find(b"<x:xmpmeta")
    if start < 0:
        start = xmp.find(b"<rdf:RDF")
    end_tag = b"</x:xmpmeta>" if xmp[start:start + 10] == b"<x:xmpmeta" else b"</rdf:RDF>"
    end = xmp.find(end_tag, start)
    if start < 0 or end < 0:
        raise ValueError("no x:xmpmeta or rdf:RDF element")
    if b"<!ENTITY" in xmp[: end]:
        raise ValueError("XMP with DTD entities is not read")  # entity expansion is a trap
    root = ElementTree.fromstring(xmp[start:end + len(end_tag)])
    values: dict[str, dict[str, str]] = {}
    for element in root.iter():
        for key, value in element.attrib.items():
            if key.startswith("{"):
                namespace, _, local = key[1:].partition("}")
                values.setdefault(namespace, {}).setdefault(local, value)
        if element.tag.startswith("{") and element.text and element.text.strip():
            namespace, _, local = element.tag[1:].partition("}")
            values.setdefault(namespace, {}).setdefault(local, element.text.strip())
    return values


def xmp_coordinate(text: str) -> float:
    """XMP GPSCoordinate 'DDD,MM,SSk' or 'DDD,MM.mmk' (XMP spec part 2, 1.2.7.4) in signed degrees."""
    match = _XMP_COORDINATE.fullmatch(text)
    if match is None:
        raise ValueError(f"not an XMP GPS coordinate: {text!r:.60}")
    degrees, minutes, seconds, ref = match.groups()
    value = Fraction(degrees) + Fraction(minutes or 0) / 60 + Fraction(seconds or 0) / 3600
    return float(-value if ref.upper() in "SW" else value)


def xmp_date(text: str) -> tuple[str | None, int | None]:
    """(zone as stored, UTC ns) of an XMP date; UTC only for a full date-time with a zone.

    Raises ValueError for text that is not an XMP (ISO 8601) date or names an impossible one.
    """
    match = _XMP_DATE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not an XMP date: {text!r:.60}")
    year, month, day, hour, minute, second, fraction, zone = match.groups()
    parts = [int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0), int(second or 0)]
    if not (1 <= parts[1] <= 12 and 1 <= parts[2] <= calendar.monthrange(parts[0], parts[1])[1]
            and parts[3] <= 23 and parts[4] <= 59 and parts[5] <= 60):
        raise ValueError(f"not a real date and time: {text!r:.60}")
    if hour is None or zone is None:
        return zone, None
    seconds = calendar.timegm((*parts, 0, 0, 0))
    if zone != "Z":
        sign = -1 if zone[0] == "-" else 1
        seconds -= sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return zone, seconds * 1_000_000_000 + int((fraction or "0").ljust(9, "0"))


def apply_xmp(xmp: bytes, record: MediaRecord, context: MediaContext) -> None:
    """Fill what the EXIF left empty from the packet; a packet that cannot be read is one warning."""
    try:
        namespaces = xmp_values(xmp[:MAX_XMP_BYTES])
    except (ElementTree.ParseError, ValueError) as error:
        context.warn("xmp_unreadable", f"XMP unreadable: {error}", field="xmp")
        return
    if record.body_serial is None:
        for namespace, name, source in ((XMP_AUX_NS, "SerialNumber", "xmp_aux_serial"),
                                        (XMP_EXIFEX_NS, "BodySerialNumber", "xmp_exifex_body_serial")):
            serial = namespaces.get(namespace, {}).get(name)
            if serial:
                record.body_serial, record.body_serial_source = serial, source
                break
    if record.lens_serial is None:
        record.lens_serial = (namespaces.get(XMP_AUX_NS, {}).get("LensSerialNumber")
                              or namespaces.get(XMP_EXIFEX_NS, {}).get("LensSerialNumber") or None)
    _apply_dates(namespaces, record, context)
    if record.gps_latitude is None and record.gps_longitude is None:
        _apply_position(namespaces.get(XMP_EXIF_NS, {}), record, context)


def _apply_dates(namespaces: dict[str, dict[str, str]], record: MediaRecord, context: MediaContext) -> None:
    for prefix, flag, candidates in _DATES:
        if getattr(record, f"{prefix}_raw") is not None or flag in record.flags:
            continue  # the EXIF recorded this time (even an invalid one): it stands
        found = next(((text, source) for namespace, name, source in candidates
                      if (text := namespaces.get(namespace, {}).get(name))), None)
        if found is None:
            continue
        text, source = found
        setattr(record, f"{prefix}_raw", text)
        if prefix == "capture_time":
            record.capture_time_source = source
        try:
            zone, utc = xmp_date(text)
        except ValueError as error:
            record.flags.append(flag)
            context.warn("xmp_unreadable", f"XMP {prefix.replace('_', ' ')}: {error}", field=f"{prefix}_raw")
            continue
        setattr(record, f"{prefix}_utc", utc)
        if prefix == "capture_time":
            record.capture_offset = zone


def _apply_position(values: dict[str, str], record: MediaRecord, context: MediaContext) -> None:
    if "GPSLatitude" not in values and "GPSLongitude" not in values:
        return
    for name, key, limit, flag in (("gps_latitude", "GPSLatitude", 90, "gps_latitude_out_of_range"),
                                   ("gps_longitude", "GPSLongitude", 180, "gps_longitude_out_of_range")):
        if key not in values:
            continue
        try:
            number = xmp_coordinate(values[key])
        except (ValueError, ZeroDivisionError) as error:
            context.warn("xmp_unreadable", str(error), field=name)
            if "gps_invalid" not in record.flags:
                record.flags.append("gps_invalid")
            continue
        setattr(record, name, number)
        if abs(number) > limit:
            record.flags.append(flag)
    if record.gps_latitude == 0 and record.gps_longitude == 0:
        record.flags.append("gps_all_zero")
    if "GPSAltitude" in values:
        try:
            metres = Fraction(values["GPSAltitude"].strip())
            record.gps_altitude = float(-metres if values.get("GPSAltitudeRef", "").strip() == "1" else metres)
        except (ValueError, ZeroDivisionError) as error:
            context.warn("xmp_unreadable", f"XMP GPSAltitude: {error}", field="gps_altitude")
    if record.gps_latitude is not None or record.gps_longitude is not None:
        record.gps_source = "xmp"
