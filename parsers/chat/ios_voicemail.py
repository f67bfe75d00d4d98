"""iOS visual voicemail: /private/var/mobile/Library/Voicemail/voicemail.db and its <ROWID>.amr files.

Schema facts (from the corpus database's DDL, josh_ios15_ffs; meanings from iLEAPP
scripts/artifacts/voicemail.py, read for facts only):
- `voicemail`: `ROWID` (INTEGER PRIMARY KEY AUTOINCREMENT), `remote_uid` (the carrier's id),
  `date` (when the voicemail was left, Unix seconds), `token`, `sender` (caller's number),
  `callback_num`, `duration` (seconds), `expiration`, `trashed_date` (when it was moved to the
  deleted list, Cocoa seconds since 2001-01-01; 0 = not trashed), `flags` (bit field; iLEAPP treats
  the value 75 as deleted, without a source). Newer releases add `receiver` (the owner's number the
  voicemail was left for) and `label`, which joins `map.label` -> `map.account` (the SIM's ICCID).
- `deleted`: the same columns as `voicemail`. Its meaning is inferred from its name and shape only
  (voicemails removed on the phone and kept until the carrier confirms); its rows are emitted with
  is_deleted=True and source_table "deleted" so they are never silently dropped.
- The audio of a voicemail is `<ROWID>.amr` in the same folder as voicemail.db (iLEAPP looks it up
  the same way); it is given as an attachment with that path, found or not by ingest.

Decisions: kind "call", direction incoming, sender = `sender` (no name: the address book is not
read here), recipient = `receiver` where stored, body None. Variants: "old" without
receiver/label, "current" with them and the `map` table.
"""

from __future__ import annotations

import posixpath
import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import cocoa_seconds, unix_seconds
from parsers.sqlite_store import Database

OLD_COLUMNS = ("ROWID", "remote_uid", "date", "sender", "callback_num", "duration", "flags", "trashed_date")
CURRENT_COLUMNS = OLD_COLUMNS + ("receiver", "label")
OLD_SQL = ("SELECT ROWID, remote_uid, date, sender, callback_num, duration, flags, trashed_date, NULL AS receiver, "
           "NULL AS account FROM {table} ORDER BY ROWID")
CURRENT_SQL = ("SELECT v.ROWID AS ROWID, v.remote_uid, v.date, v.sender, v.callback_num, v.duration, v.flags, v.trashed_date, "
               "v.receiver, (SELECT m.account FROM map m WHERE m.label = v.label ORDER BY m.ROWID LIMIT 1) AS account "
               "FROM {table} v ORDER BY v.ROWID")
# The table names are these two constants, never taken from the data.
TABLES = ("voicemail", "deleted")


class IosVoicemail(SqliteChatParser):
    name = "ios_voicemail"
    version = "1"
    app = "iOS Voicemail"
    platform = "iOS"
    paths = ("*/Library/Voicemail/voicemail.db",)
    variants = (
        Variant("current", {"voicemail": CURRENT_COLUMNS, "map": ("label", "account")}),
        Variant("old", {"voicemail": OLD_COLUMNS}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        folder = posixpath.dirname(context.artefact.path.replace("\\", "/"))
        template = CURRENT_SQL if variant.name == "current" else OLD_SQL
        columns = CURRENT_COLUMNS if variant.name == "current" else OLD_COLUMNS
        for table in TABLES:
            if table != "voicemail" and not database.has(table):
                continue
            if not database.has(table, *columns):
                context.warn("table_not_read", f"table {table} lacks the {variant.name} schema's columns; its rows are not read",
                             table=table)
                continue
            rows = database.query(template.format(table=table))
            yield from context.each(rows, table, lambda row, t=table: self._voicemail(row, t, folder, context), "ROWID")

    def _voicemail(self, row: sqlite3.Row, table: str, folder: str, context: ParseContext) -> Message:
        row_id = row["ROWID"]
        trashed = context.time(row["trashed_date"], cocoa_seconds, table=table, row_id=row_id, field="trashed_date")
        details = {"voicemail": "true", "duration_seconds": str(row["duration"]), "flags": str(row["flags"])}
        for column in ("remote_uid", "callback_num", "account"):
            if row[column] not in (None, ""):
                details["receiver_account" if column == "account" else column] = str(row[column])
        if row["trashed_date"]:
            details["trashed_date"] = str(row["trashed_date"])
        receiver = row["receiver"]
        audio = f"{row_id}.amr"
        audio_path = posixpath.join(folder, audio) if folder else audio
        return Message(
            source_table=table, source_row_id=row_id, conversation_id=row["sender"] or None,
            sender=Participant(row["sender"]) if row["sender"] else None,
            recipients=(Participant(receiver),) if receiver else (), direction="incoming",
            sent=context.time(row["date"], unix_seconds, table=table, row_id=row_id, field="date"),
            sent_raw=None if row["date"] is None else str(row["date"]), deleted=trashed, kind="call",
            attachments=(Attachment(file_name=audio, mime_type="audio/amr", local_path=audio_path),),
            is_deleted=table == "deleted" or bool(row["trashed_date"]), details=details,
        )


PARSER = IosVoicemail()
