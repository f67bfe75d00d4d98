"""Android call log: the `calls` table of the contacts provider (contacts2.db, later calllog.db).

Schema facts (Android SDK reference for `android.provider.CallLog.Calls`,
https://developer.android.com/reference/android/provider/CallLog.Calls, and the corpus database
log2timeline__plaso/test_data/android/contacts2.db; read for facts only):
- `calls`: `_id` (INTEGER PRIMARY KEY), `number` (the other party as dialled or presented),
  `date` (call start, Unix milliseconds), `duration` (seconds), `type` (1 incoming, 2 outgoing,
  3 missed, 4 voicemail, 5 rejected, 6 blocked, 7 answered on another device), `new` (1 = not yet
  acknowledged), `name` / `numbertype` / `numberlabel` (the contact name and number type cached when
  the call was logged), since API 1. Later releases add `countryiso`, `geocoded_location`,
  `normalized_number`, `formatted_number`, `is_read`, `voicemail_uri`, `features` (bit 1 = video),
  `presentation`, `subscription_id`, `phone_account_address`, `transcription`, `_data` and
  `mime_type` (a voicemail's audio file, on releases that keep voicemails in the same table).
- Up to Android 6 the table lives in com.android.providers.contacts/databases/contacts2.db; from
  Android 7 in com.android.providers.contacts/databases/calllog.db, with the same `calls` table.

Decisions:
- One message per row, kind "call", body None (a call has no text); the duration and the call type
  are in details. Types 1, 3-7 are calls placed to the owner (incoming, sender = the number), type 2
  is outgoing (recipient = the number). The owner's own number is not stored, so outgoing calls have
  no sender.
- Only calllog.db is in `paths`: contacts2.db of Android 7+ has no `calls` table and would otherwise
  warn on every phone. contacts2.db of older releases is still read, recognised by its schema.
- The required columns are the API 1 set, so a `calls` table of another app (Viber's has no
  `new`/`numbertype`) is not taken for the system call log.
"""

from __future__ import annotations

import posixpath
import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_ms
from parsers.sqlite_store import Database

CALL_TYPES = {1: "incoming", 2: "outgoing", 3: "missed", 4: "voicemail", 5: "rejected", 6: "blocked",
              7: "answered_externally"}
OUTGOING = 2
REQUIRED = ("_id", "number", "date", "duration", "type", "new", "name", "numbertype")
# Kept as text in details when the release has the column and the row holds a value.
OPTIONAL = ("numberlabel", "countryiso", "geocoded_location", "normalized_number", "formatted_number", "matched_number",
            "is_read", "voicemail_uri", "features", "presentation", "subscription_id", "phone_account_address",
            "transcription", "via_number", "last_modified", "_data", "mime_type")


class AndroidCallLog(SqliteChatParser):
    name = "android_call_log"
    version = "1"
    app = "Android call log"
    platform = "Android"
    paths = ("*/com.android.providers.contacts/databases/calllog.db", "*/calllog.db")
    variants = (Variant("calls", {"calls": REQUIRED}),)

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        optional = [c for c in OPTIONAL if database.has("calls", c)]
        # Column names come from the fixed lists above, never from the data.
        rows = database.query(f"SELECT {', '.join(REQUIRED + tuple(optional))} FROM calls ORDER BY _id")
        yield from context.each(rows, "calls", lambda row: self._call(row, optional, context), "_id")

    def _call(self, row: sqlite3.Row, optional: list[str], context: ParseContext) -> Message:
        row_id = row["_id"]
        call_type = row["type"]
        other = Participant(row["number"], row["name"] or None) if row["number"] not in (None, "") else None
        outgoing = call_type == OUTGOING
        details = {"call_type": f"{call_type} ({CALL_TYPES.get(call_type, 'unknown')})",
                   "duration_seconds": str(row["duration"]), "new": str(row["new"])}
        if row["numbertype"] is not None:
            details["numbertype"] = str(row["numbertype"])
        for column in optional:
            if row[column] not in (None, ""):
                details[column] = str(row[column])
        return Message(
            source_table="calls", source_row_id=row_id, conversation_id=row["number"] or None,
            sender=None if outgoing else other, recipients=(other,) if outgoing and other else (),
            direction="outgoing" if outgoing else ("incoming" if call_type in CALL_TYPES else "unknown"),
            sent=context.time(row["date"], unix_ms, table="calls", row_id=row_id, field="date"),
            sent_raw=None if row["date"] is None else str(row["date"]), kind="call",
            attachments=_audio(row, optional), details=details,
        )


def _audio(row: sqlite3.Row, optional: list[str]) -> tuple[Attachment, ...]:
    """A voicemail's audio file, on releases that keep it in `_data`."""
    path = row["_data"] if "_data" in optional else None
    if not path:
        return ()
    mime = row["mime_type"] if "mime_type" in optional else None
    return (Attachment(file_name=posixpath.basename(path), mime_type=mime or None, local_path=path),)


PARSER = AndroidCallLog()
