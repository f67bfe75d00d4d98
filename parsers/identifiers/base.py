"""What an identifier extractor declares, what it is given and what it returns.

A module of this package defines one `Extractor` subclass and binds an instance to `EXTRACTOR`;
the registry finds it. An extractor is handed the text of one field and returns `Found` records:
the kind, the normalised value, the raw text exactly as it stands in the field and its offset.
Extractors never guess: a value is emitted only when it validates (a checksum, a phone number
library's metadata) or when the text around it says what it is (a label such as "MTCN").
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from typing import ClassVar, Iterable

# Field classes: free text (a message body, a conversation title), an identifier field (sender,
# recipient, conversation or account id as the app stores it), a device serial (media metadata).
TEXT, ID, SERIAL = "text", "id", "serial"


@dataclass(frozen=True)
class Context:
    """What an extractor may know besides the text: the field class, the app and the configured regions."""

    field_class: str
    regions: tuple[str, ...] = ()  # ISO 3166 region codes a national phone number is resolved against, in order
    app: str | None = None  # the app that wrote a message (messages.app), for id formats only that app uses
    field: str | None = None  # the column the text came from (body, sender_id, lens_serial, ...)


@dataclass(frozen=True)
class Found:
    """One identifier in one field: `raw` is text[start:start + len(raw)] exactly."""

    kind: str
    value: str
    raw: str
    start: int
    service: str | None = None
    region: str | None = None

    @property
    def end(self) -> int:
        return self.start + len(self.raw)


@dataclass(frozen=True)
class Limit:
    """A budget a field passed: what was left unsearched or unkept. An extractor may yield one among its Found."""

    kind: str  # identifier_text_truncated, identifier_limit or identifier_tries_exhausted
    message: str


class Extractor:
    """One family of identifiers. `priority` orders the families: a lower one runs first, and a
    family with `yields` drops what overlaps a span an earlier family already took (a phone-like
    digit run inside a URL, an IBAN or a card number is not a phone number)."""

    name: ClassVar[str]
    version: ClassVar[str]
    kinds: ClassVar[tuple[str, ...]]
    field_classes: ClassVar[tuple[str, ...]]
    priority: ClassVar[int] = 50
    yields: ClassVar[bool] = False
    exclusive: ClassVar[bool] = False  # in an id field, a match here means the field is that, and nothing else is looked for

    def find(self, text: str, context: Context) -> Iterable[Found | Limit]:
        raise NotImplementedError


def labelled(text: str, start: int, end: int, label: re.Pattern[str], before: int = 40, after: int = 20) -> re.Match[str] | None:
    """The label nearest a match within `before` characters before it or `after` characters after it."""
    window_before = text[max(0, start - before):start]
    nearest = None
    for match in label.finditer(window_before):
        nearest = match  # the last one is the nearest
    if nearest is not None:
        return nearest
    return label.search(text[end:end + after])


def alone(text: str, start: int, end: int) -> bool:
    """True when the match is not glued to a letter or digit on either side."""
    return (start == 0 or not text[start - 1].isalnum()) and (end >= len(text) or not text[end].isalnum())


class Spans:
    """Spans already taken, kept merged and sorted, so asking whether a span overlaps any costs a
    bisection (log n), not a pass over every span taken (a field of many URLs made that quadratic)."""

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []

    def overlaps(self, start: int, end: int) -> bool:
        """True when [start, end) shares a character with a span taken."""
        i = bisect_left(self._starts, end) - 1  # the last span starting before `end`; merged spans' ends rise with their starts
        return i >= 0 and self._ends[i] > start

    def add(self, start: int, end: int) -> None:
        lo, hi = bisect_left(self._ends, start), bisect_right(self._starts, end)
        if lo < hi:
            start, end = min(start, self._starts[lo]), max(end, self._ends[hi - 1])
        self._starts[lo:hi], self._ends[lo:hi] = [start], [end]
