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
- Required: only `_id`, `number`, `date`, `type` (time, direction, the other party, who the
  conversation is with) and `new`, an API 1 column that is kept as the marker so that another app's
  `calls` table (Viber's has number/date/duration/type but no `new`) is not taken for the system call
  log. Everything else, `duration` and the cached `name`/`numbertype` included, is read when the
  release has it and null when not.
- Column history (Android SDK API diffs, developer.android.com/sdk/api_diff/<level>/changes/
  android.provider.CallLog.Calls, and the reference's "Added in API level" notes): API 1 `number`,
  `date`, `duration`, `type`, `new`, `name`, `numbertype`, `numberlabel`; API 24 adds `via_number`,
  `post_dial_digits`, `last_modified` (and types 5 rejected / 6 blocked); API 25 type 7 answered
  externally; API 35 `is_business_call`, `asserted_display_name`. The API levels of the columns in
  between (`countryiso`, `geocoded_location`, `is_read`, `voicemail_uri`, `features`,
  `subscription_id`, `phone_account_address`, `transcription` ...) were not checked one by one here
  (**not confirmed** per level); all are optional.
- Samsung builds (forensenellanebbia, "Calllog.db and SMS data on Android 7.0 Nougat", 2018,
  https://forensenellanebbia.blogspot.com/2018/10/calllogdb-and-sms-data-on-android-70.html, two
  Galaxy S7 phones) add `m_content` to `calls`: a row whose `m_content` is not empty is a text
  message (its first 50 characters), type 1 received / 2 sent. Such a row is kind "text" with that
  text as body (details["m_content"] says it is the first 50 characters at most); others stay calls.
  The Samsung `logs.db` of the logs provider is not read (no schema source found: **not confirmed**).
"""

from __future__ import annotations

import posixpath
import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat._rows import text_value
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_ms
from parsers.sqlite_store import Database

CALL_TYPES = {1: "incoming", 2: "outgoing", 3: "missed", 4: "voicemail", 5: "rejected", 6: "blocked",
              7: "answered_externally"}
OUTGOING = 2
REQUIRED = ("_id", "number", "date", "type", "new")
# Kept as text in details when the release has the column and the row holds a value.
DETAILS = ("numbertype", "numberlabel", "countryiso", "geocoded_location", "normalized_number", "formatted_number",
           "matched_number", "is_read", "voicemail_uri", "features", "presentation", "subscription_id",
           "phone_account_address", "transcription", "via_number", "post_dial_digits", "last_modified",
           "is_business_call", "asserted_display_name")
OPTIONAL = ("duration", "name", *DETAILS, "_data", "mime_type", "m_content")
SAMSUNG_TEXT_NOTE = "Samsung calls.m_content: a text message, its first 50 characters at most"


class AndroidCallLog(SqliteChatParser):
    name = "android_call_log"
    version = "2"
    app = "Android call log"
    platform = "Android"
    paths = ("*/com.android.providers.contacts/databases/calllog.db", "*/calllog.db")
    variants = (Variant("calls", {"calls": REQUIRED}, {"calls": OPTIONAL}),)

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        rows = database.query(variant.select(database, "calls", "_id"))
        yield from context.each(rows, "calls", lambda row: self._call(row, context), "_id")

    def _call(self, row: sqlite3.Row, context: ParseContext) -> Message:
        row_id = row["_id"]
        call_type = row["type"]
        other = Participant(row["number"], row["name"] or None) if row["number"] not in (None, "") else None
        outgoing = call_type == OUTGOING
        details = {"call_type": f"{call_type} ({CALL_TYPES.get(call_type, 'unknown')})"}
        if row["duration"] is not None:
            details["duration_seconds"] = str(row["duration"])
        details["new"] = str(row["new"])
        for column in DETAILS:
            if row[column] not in (None, ""):
                details[column] = str(row[column])
        text = text_value(row["m_content"])
        if text:
            details["m_content"] = SAMSUNG_TEXT_NOTE
        return Message(
            source_table="calls", source_row_id=row_id, conversation_id=row["number"] or None,
            sender=None if outgoing else other, recipients=(other,) if outgoing and other else (),
            direction="outgoing" if outgoing else ("incoming" if call_type in CALL_TYPES else "unknown"),
            sent=context.time(row["date"], unix_ms, table="calls", row_id=row_id, field="date"),
            sent_raw=None if row["date"] is None else str(row["date"]), body=text or None,
            kind="text" if text else "call", attachments=_audio(row), details=details,
        )


def _audio(row: sqlite3.Row) -> tuple[Attachment, ...]:
    """A voicemail's audio file, on releases that keep it in `_data`."""
    path = row["_data"]
    if not path:
        return ()
    return (Attachment(file_name=posixpath.basename(path), mime_type=row["mime_type"] or None, local_path=path),)


PARSER = AndroidCallLog()
