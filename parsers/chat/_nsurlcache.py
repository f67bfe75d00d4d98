"""Reading Apple NSURLCache stores (Library/Caches/<bundle id>/Cache.db) for chat parsers.

Not a parser (the leading underscore keeps the registry away): Burner and Discord for iOS keep
no message database, but the HTTP cache keeps their API responses, and those are JSON messages.

Format facts (Apple CFNetwork URL cache, as documented by iLEAPP `scripts/artifacts/discordCache.py`
/ `burnerCache.py` and checked against the iLEAPP sample caches):
- `cfurl_cache_response`: `entry_ID` (INTEGER PRIMARY KEY), `request_key` (the URL),
  `time_stamp` (text "YYYY-MM-DD HH:MM:SS", UTC, when the response was stored).
- `cfurl_cache_receiver_data`: `entry_ID`, `isDataOnFS` (0/1), `receiver_data`: the response
  body itself when 0; when 1, the name of a file in the `fsCachedData` folder beside Cache.db
  that holds the body (a UUID).
Bodies kept on disk are separate artefacts: they are taken from the catalog (the parser declares
the folder in `companions`), copied to scratch and read there.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator

from parsers.chat.base import ParseContext, Variant
from parsers.sqlite_store import Database

REQUIRED = {"cfurl_cache_response": ("entry_ID", "request_key", "time_stamp"),
            "cfurl_cache_receiver_data": ("entry_ID", "isDataOnFS", "receiver_data")}
RESPONSES_SQL = ("SELECT r.entry_ID AS entry_ID, r.request_key AS request_key, r.time_stamp AS time_stamp, "
                 "d.isDataOnFS AS isDataOnFS, d.receiver_data AS receiver_data "
                 "FROM cfurl_cache_response r JOIN cfurl_cache_receiver_data d ON d.entry_ID = r.entry_ID "
                 "ORDER BY r.entry_ID")
TABLE = "cfurl_cache_receiver_data"
MAX_BODY = 64 << 20


def variant(name: str = "nsurlcache") -> Variant:
    """The schema every NSURLCache Cache.db shares."""
    return Variant(name, REQUIRED)


@dataclass(frozen=True)
class CachedResponse:
    """One cached response body: where it was (inline or a fsCachedData file) and when it was stored."""

    entry_id: int
    url: str
    time_stamp: str | None
    body: bytes
    file_name: str | None  # the fsCachedData file name when the body was on disk

    @property
    def source(self) -> str:
        return f"fsCachedData/{self.file_name}" if self.file_name else "receiver_data"

    def json(self) -> object:
        """The body as JSON; raises ValueError (json.JSONDecodeError, UnicodeDecodeError) when it is not."""
        return json.loads(self.body.decode("utf-8"))


def stored_at(time_stamp: object) -> int:
    """`time_stamp` text (UTC) as ns since 1970; ValueError when it is not that format."""
    moment = datetime.strptime(str(time_stamp), "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
    return int(moment.timestamp()) * 1_000_000_000


def responses(database: Database, context: ParseContext, wanted: Callable[[str], bool]) -> Iterator[CachedResponse]:
    """Cached responses whose URL `wanted` accepts, with bodies read inline or from fsCachedData."""
    for row in database.query(RESPONSES_SQL):
        url = row["request_key"]
        if not isinstance(url, str) or not wanted(url):
            continue
        entry_id = row["entry_ID"]
        data = row["receiver_data"]
        raw = data.encode("utf-8") if isinstance(data, str) else (bytes(data) if data is not None else b"")
        if row["isDataOnFS"]:
            file_name = raw.decode("ascii", "backslashreplace").strip()
            body = _on_disk(file_name, entry_id, context)
            if body is None:
                continue
            yield CachedResponse(entry_id, url, row["time_stamp"], body, file_name)
        else:
            yield CachedResponse(entry_id, url, row["time_stamp"], raw, None)


def _on_disk(file_name: str, entry_id: int, context: ParseContext) -> bytes | None:
    """The body kept in fsCachedData/<file_name> beside the cache, or None with a warning."""
    if not file_name or "/" in file_name or any(c in file_name for c in "*?["):
        context.warn("bad_value", f"fsCachedData name {file_name!r} is not a file name", table=TABLE, row_id=entry_id,
                     field="receiver_data")
        return None
    # An exact lookup, not a glob: the folder of an image path may hold "[" or "*".
    folder = context.artefact.path_bytes.rsplit(b"/", 1)[0]
    artefact = context.catalog.by_path.get(folder + b"/fsCachedData/" + file_name.encode("utf-8"))
    if artefact is None:
        context.warn("companion_missing", f"cached body fsCachedData/{file_name} is not among the exhibit's files; "
                     "messages in it are missing", table=TABLE, row_id=entry_id, field="receiver_data")
        return None
    target = context.scratch / f"fscacheddata-{entry_id}"
    try:
        if not target.exists():
            artefact.copy_to(target)
        data = Path(target).read_bytes()
    except OSError as error:
        context.warn("companion_unreadable", f"fsCachedData/{file_name}: {error}", table=TABLE, row_id=entry_id,
                     field="receiver_data")
        return None
    if len(data) > MAX_BODY:
        context.warn("bad_value", f"fsCachedData/{file_name} is {len(data)} bytes; not read", table=TABLE, row_id=entry_id)
        return None
    return data
