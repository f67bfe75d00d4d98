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
read here), recipient = `receiver` where stored, body None.
History (docs/chat-schema-hist4.md): an iOS 9.3.5 voicemail.db (iphonebackuptools' schema notes)
has `voicemail` with exactly the ten columns before `receiver`, and no `deleted` or `map` table;
the iOS 15 corpus store adds `receiver`, `label`, `map` and `deleted`. Which release added them is
**not confirmed**. One variant reads every era: `ROWID`, `remote_uid`, `date`, `sender` are
required; every other column is read when present (NULL otherwise), `map` when the store has it.
Transcripts (newer iLEAPP reads `.transcript` files beside the audio) are not read here.
"""

from __future__ import annotations

import posixpath
import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat._rows import side_table, text_value
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import cocoa_seconds, unix_seconds
from parsers.sqlite_store import Database

# The minimum a voicemail is read with (time, the caller) plus `remote_uid`, the carrier's id, which every
# documented release has and which keeps this off other apps' `voicemail` tables; the rest is optional.
REQUIRED = ("ROWID", "remote_uid", "date", "sender")
OPTIONAL = ("callback_num", "duration", "flags", "trashed_date", "receiver", "label")
LABELS = Variant("labels", {"map": ("label", "account")})
# The two tables of one shape, each declared like a variant (so only these names reach SQL, never store text).
TABLES = {table: Variant(table, {table: REQUIRED}, {table: OPTIONAL}) for table in ("voicemail", "deleted")}


class IosVoicemail(SqliteChatParser):
    name = "ios_voicemail"
    version = "2"
    app = "iOS Voicemail"
    platform = "iOS"
    paths = ("*/Library/Voicemail/voicemail.db",)
    variants = (
        TABLES["voicemail"],
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        folder = posixpath.dirname(context.artefact.path.replace("\\", "/"))
        accounts: dict[object, object] = {}
        for row in side_table(database, LABELS, "map", context, "ROWID DESC"):
            accounts[row["label"]] = row["account"]  # the lowest ROWID of a label wins, as before
        for table, shape in TABLES.items():
            if table != "voicemail" and not database.has(table):
                continue
            if not shape.matches(database):
                context.warn("table_not_read", f"table {table} lacks the columns {', '.join(REQUIRED)}; its rows are not read", table=table)
                continue
            rows = database.query(shape.select(database, table, "ROWID"))
            yield from context.each(rows, table, lambda row, t=table: self._voicemail(row, t, folder, accounts, context), "ROWID")

    def _voicemail(self, row: sqlite3.Row, table: str, folder: str, accounts: dict[object, object], context: ParseContext) -> Message:
        row_id = row["ROWID"]
        account = accounts.get(row["label"]) if row["label"] is not None else None
        trashed = context.time(row["trashed_date"], cocoa_seconds, table=table, row_id=row_id, field="trashed_date")
        details = {"voicemail": "true"}
        for key, value in (("duration_seconds", row["duration"]), ("flags", row["flags"]), ("remote_uid", row["remote_uid"]),
                           ("callback_num", row["callback_num"]), ("receiver_account", text_value(account))):
            if value not in (None, ""):
                details[key] = str(value)
        if row["trashed_date"]:
            details["trashed_date"] = str(row["trashed_date"])
        receiver = text_value(row["receiver"])
        sender = text_value(row["sender"])
        audio = f"{row_id}.amr"
        audio_path = posixpath.join(folder, audio) if folder else audio
        return Message(
            source_table=table, source_row_id=row_id, conversation_id=sender or None,
            sender=Participant(sender) if sender else None,
            recipients=(Participant(receiver),) if receiver else (), direction="incoming",
            sent=context.time(row["date"], unix_seconds, table=table, row_id=row_id, field="date"),
            sent_raw=None if row["date"] is None else str(row["date"]), deleted=trashed, kind="call",
            attachments=(Attachment(file_name=audio, mime_type="audio/amr", local_path=audio_path),),
            is_deleted=table == "deleted" or bool(row["trashed_date"]), details=details,
        )


PARSER = IosVoicemail()
