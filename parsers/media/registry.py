"""Every media reader: each module of this package that binds `READER`."""

from __future__ import annotations

from functools import cache

import parsers.media as package
from parsers.discovery import discover
from parsers.media.base import MediaReader


@cache
def all_readers() -> tuple[MediaReader, ...]:
    return discover(package, "READER", MediaReader, "exhibit.media_readers")
