"""Project VIC VICS JSON (and CAID exports in the same shape): an OData object
`{"odata.metadata": ..., "value": [Media, ...]}` (VICS 2 names the first key `@odata.context`), where
each Media entry carries MediaID, Category and its hashes MD5, SHA1 and, where present, SHA256.

The file is streamed event by event with ijson, so a set of millions of entries is never loaded whole;
only the few scalar fields of one entry are held at a time. Nesting past MAX_DEPTH, a `value` that is
not a list, a file without `value`, and truncated JSON are refused: the file is not what it claims.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO, Iterator

import ijson

from case.hashset_formats import Entry, Format, NotThisFormat, Tally, hex_problem

VERSION = "1"
MAX_DEPTH = 64
HASH_FIELDS = {"md5": "md5", "sha1": "sha1", "sha256": "sha256"}  # field name (lowercased) -> algorithm
_SCALARS = ("string", "number", "boolean", "null")
ODATA_KEYS = ("odata.metadata", "@odata.context")
BOM = b"\xef\xbb\xbf"
# ijson's C backend takes time quadratic in one string's length (300 MB: 8 minutes). No field of a VICS
# entry is anywhere near this long, so a file with a run of more bytes than this without a quote (a string
# or any token that long) is refused, found in linear time before ijson sees those bytes.
MAX_FIELD_BYTES = 16 << 20
FIELD_BUDGET_ENV = "EXHIBIT_VICS_MAX_FIELD_BYTES"


def field_budget() -> int:
    """MAX_FIELD_BYTES, or the positive whole number of bytes in EXHIBIT_VICS_MAX_FIELD_BYTES."""
    configured = os.environ.get(FIELD_BUDGET_ENV, "")
    return int(configured) if configured.isdigit() and int(configured) > 0 else MAX_FIELD_BYTES


class FieldTooLong(Exception):
    """A run of bytes without a quote longer than the budget."""


class _Budgeted:
    """A binary reader that raises FieldTooLong once more than `budget` bytes pass without a `"`."""

    def __init__(self, raw: BinaryIO, budget: int) -> None:
        self.raw, self.budget, self.since_quote = raw, budget, 0

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        start = 0
        while (found := data.find(b'"', start)) != -1:
            if self.since_quote + found - start > self.budget:
                raise FieldTooLong
            self.since_quote, start = 0, found + 1
        self.since_quote += len(data) - start
        if self.since_quote > self.budget:
            raise FieldTooLong
        return data


def _entry_fields(fields: dict[str, object], number: int, tally: Tally) -> Iterator[Entry]:
    """The hashes of one Media entry; an entry without any usable hash is counted, not dropped silently."""
    category = fields.get("category")
    category = None if category is None or isinstance(category, (dict, list)) else str(category)
    media_id = fields.get("mediaid")
    media_id = None if media_id is None else str(media_id)
    found = 0
    for key, algorithm in HASH_FIELDS.items():
        value = fields.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            tally.skip("hash_not_text", f"value[{number}] {key.upper()}", type(value).__name__)
            continue
        problem = hex_problem(value, algorithm)
        if problem is not None:
            tally.skip(problem, f"value[{number}] {key.upper()}", value[:80])
            continue
        found += 1
        yield Entry(algorithm, value.lower(), category, media_id, None)
    if found == 0 and not any(fields.get(key) is not None for key in HASH_FIELDS):
        tally.skip("no_hash", f"value[{number}]", f"MediaID {media_id}" if media_id else "")


class _Walk:
    """Where the stream of ijson events is in the document, and the fields of the entry being read.

    `step` takes one event; it returns True when a Media entry has just ended (its fields are in `fields`)."""

    def __init__(self, name: str, tally: Tally, info: dict) -> None:
        self.name, self.tally, self.info = name, tally, info
        self.depth = 0
        self.top_key: str | None = None
        self.item_key: str | None = None
        self.in_value = self.saw_value = False
        self.number = -1
        self.fields: dict[str, object] = {}

    def step(self, event: str, value: object) -> bool:
        if self.depth == 0 and event != "start_map":
            raise NotThisFormat(f"{self.name}: the JSON is not an object, so not a VICS/CAID OData file")
        if event == "map_key":
            self._key(value)  # type: ignore[arg-type]
        elif event in ("start_map", "start_array"):
            self._start(event)
        elif event in ("end_map", "end_array"):
            return self._end(event)
        else:
            self._scalar(value)
        return False

    def _key(self, value: str) -> None:
        if self.depth == 1:
            self.top_key = value
        elif self.in_value and self.depth == 3:
            self.item_key = value.lower()

    def _start(self, event: str) -> None:
        if self.depth == 1 and self.top_key == "value":
            if event != "start_array":
                raise NotThisFormat(f"{self.name}: `value` is not a list of Media entries")
            self.in_value = self.saw_value = True
        elif self.in_value and self.depth == 2:
            self.number += 1
            self.fields = {}
            self.item_key = None
            if event != "start_map":
                self.tally.skip("entry_not_object", f"value[{self.number}]", "a list")
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise NotThisFormat(f"{self.name}: JSON nested deeper than {MAX_DEPTH} levels")

    def _end(self, event: str) -> bool:
        self.depth -= 1
        if self.in_value and self.depth == 2 and event == "end_map":
            return True
        if self.in_value and self.depth == 1:
            self.in_value = False
        return False

    def _scalar(self, value: object) -> None:
        if self.depth == 1 and self.top_key == "value":
            raise NotThisFormat(f"{self.name}: `value` is not a list of Media entries")
        if self.depth == 1 and self.top_key in ODATA_KEYS and isinstance(value, str):
            self.info["odata"] = value[:1000]
        elif self.in_value and self.depth == 2:
            self.number += 1
            self.tally.skip("entry_not_object", f"value[{self.number}]", type(value).__name__)
        elif self.in_value and self.depth == 3 and self.item_key in ("mediaid", "category", *HASH_FIELDS):
            self.fields[self.item_key] = value


def read(path: Path, tally: Tally, info: dict) -> Iterator[Entry]:
    """Entries of the `value` list; `info` receives the OData metadata URL (odata)."""
    with open(path, "rb") as handle:
        if handle.read(len(BOM)) != BOM:  # a UTF-8 byte order mark (written by some Windows tools) is passed over
            handle.seek(0)
        budget = field_budget()
        events = ijson.parse(_Budgeted(handle, budget))
        walk = _Walk(path.name, tally, info)
        try:
            for _, event, value in events:
                if walk.step(event, value):
                    yield from _entry_fields(walk.fields, walk.number, tally)
        except FieldTooLong:
            raise NotThisFormat(f"{path.name}: a field or token longer than {budget:,} bytes (the budget; set {FIELD_BUDGET_ENV} "
                                "to change it): not a VICS/CAID file this importer reads; nothing imported") from None
        except ijson.JSONError as error:  # IncompleteJSONError included: a truncated file is not a whole set
            raise NotThisFormat(f"{path.name}: not complete, valid JSON ({str(error)[:200]}); nothing imported") from None
        if not walk.saw_value:
            raise NotThisFormat(f"{path.name}: a JSON object without a `value` list: not a VICS/CAID OData file")


FORMAT = Format("vics", VERSION, read)
CAID_FORMAT = Format("caid", VERSION, read)
