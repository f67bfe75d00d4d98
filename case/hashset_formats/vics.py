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


def read(path: Path, tally: Tally, info: dict) -> Iterator[Entry]:
    """Entries of the `value` list; `info` receives the OData metadata URL (odata)."""
    with open(path, "rb") as handle:
        if handle.read(len(BOM)) != BOM:  # a UTF-8 byte order mark (written by some Windows tools) is passed over
            handle.seek(0)
        budget = field_budget()
        events = ijson.parse(_Budgeted(handle, budget))
        depth = 0
        top_key: str | None = None
        item_key: str | None = None
        in_value = saw_value = False
        number = -1
        fields: dict[str, object] = {}
        try:
            for _, event, value in events:
                if depth == 0 and event != "start_map":
                    raise NotThisFormat(f"{path.name}: the JSON is not an object, so not a VICS/CAID OData file")
                if event == "map_key":
                    if depth == 1:
                        top_key = value
                    elif in_value and depth == 3:
                        item_key = value.lower()
                    continue
                if event in ("start_map", "start_array"):
                    if depth == 1 and top_key == "value":
                        if event != "start_array":
                            raise NotThisFormat(f"{path.name}: `value` is not a list of Media entries")
                        in_value = saw_value = True
                    elif in_value and depth == 2:
                        number += 1
                        fields = {}
                        item_key = None
                        if event != "start_map":
                            tally.skip("entry_not_object", f"value[{number}]", "a list")
                    depth += 1
                    if depth > MAX_DEPTH:
                        raise NotThisFormat(f"{path.name}: JSON nested deeper than {MAX_DEPTH} levels")
                    continue
                if event in ("end_map", "end_array"):
                    depth -= 1
                    if in_value and depth == 2 and event == "end_map":
                        yield from _entry_fields(fields, number, tally)
                    elif in_value and depth == 1:
                        in_value = False
                    continue
                # a scalar
                if depth == 1 and top_key == "value":
                    raise NotThisFormat(f"{path.name}: `value` is not a list of Media entries")
                if depth == 1 and top_key in ODATA_KEYS and isinstance(value, str):
                    info["odata"] = value[:1000]
                elif in_value and depth == 2:
                    number += 1
                    tally.skip("entry_not_object", f"value[{number}]", type(value).__name__)
                elif in_value and depth == 3 and item_key in ("mediaid", "category", *HASH_FIELDS):
                    fields[item_key] = value
        except FieldTooLong:
            raise NotThisFormat(f"{path.name}: a field or token longer than {budget:,} bytes (the budget; set {FIELD_BUDGET_ENV} "
                                "to change it): not a VICS/CAID file this importer reads; nothing imported") from None
        except ijson.JSONError as error:  # IncompleteJSONError included: a truncated file is not a whole set
            raise NotThisFormat(f"{path.name}: not complete, valid JSON ({str(error)[:200]}); nothing imported") from None
        if not saw_value:
            raise NotThisFormat(f"{path.name}: a JSON object without a `value` list: not a VICS/CAID OData file")


FORMAT = Format("vics", VERSION, read)
CAID_FORMAT = Format("caid", VERSION, read)
