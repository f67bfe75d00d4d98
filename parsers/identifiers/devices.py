"""Camera body and lens serial numbers from photo and video metadata (media.body_serial, media.lens_serial).

The serial is the text the file stores with surrounding spaces and NULs trimmed; values that
stand for "no serial" (empty, all zeros, all the same character) are left out.
"""

from __future__ import annotations

from typing import Iterator

from parsers.identifiers.base import SERIAL, Context, Extractor, Found

MAX_SERIAL = 64  # longer is not a serial number but something else written into the tag


class Devices(Extractor):
    name = "devices"
    version = "1"
    kinds = ("camera_serial", "lens_serial")
    field_classes = (SERIAL,)
    priority = 5

    def find(self, text: str, context: Context) -> Iterator[Found]:
        raw = text.strip(" \t\r\n\x00")
        if not raw or len(raw) > MAX_SERIAL or len(set(raw)) == 1 or not raw.isprintable():
            return
        kind = "lens_serial" if context.field == "lens_serial" else "camera_serial"
        yield Found(kind, raw, raw, text.find(raw))


EXTRACTOR = Devices()
