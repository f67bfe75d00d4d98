"""Microsoft Teams for iOS: `SkypeSpacesDogfood/<id>/SkypeSpacesDogfood-<uuid>.sqlite` (Core Data).

Schema facts (read for facts only: the iLEAPP test case database for `teamsMessages`; iLEAPP
`scripts/artifacts/teams.py`, https://github.com/abrignoni/iLEAPP):
- `ZSMESSAGE`: `Z_PK` (row key), `ZARRIVALTIME` (Core Data seconds since 2001, the server's arrival
  time: what the app shows and iLEAPP lists), `ZCOMPOSETIME` (ISO 8601 text of the client's compose
  time), `ZFROM` (sender MRI such as "8:live:.cid..." or a thread id for thread events),
  `ZIMDISPLAYNAME` (sender's display name as sent, often NULL), `ZTS_ISSENTBYME` (1 = the owner sent it),
  `ZMESSAGETYPE` ("Text", "RichText/Html", "Event/LocationSharing", "ThreadActivity/AddMember", ...),
  `ZTS_MESSAGEBASETYPE` / `ZTS_MESSAGECONTENTTYPE` (the same split in two), `ZTHREADID` -> `ZTHREAD.ZTSID`,
  `ZCONTENT` (HTML or text, kept exactly), `ZSUBJECT`, `ZDELETETIME` (Unix ms as text) with
  `ZDELETETYPE` ("pendingUserDeleted"), `ZEDITTIME` (Unix ms).
- `ZTHREAD`: `ZTSID` (thread id), `ZTHREADTYPE` ("chat", "streamofnotes", ...), `ZTHREADTOPIC`.
- `ZUSER`: `ZTSID` (the MRI), `ZDISPLAYNAME`.
The owner's MRI is not stored in these tables; it is the one `ZFROM` of rows with `ZTS_ISSENTBYME` = 1
(left unknown when those rows disagree). Thread members sit in an archived blob (`ZTHREAD.ZMEMBERS`) and
are not decoded, so `recipients` stays empty.
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from manifests.records import Message, Participant
from parsers.chat._rows import side_read, side_whole
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import cocoa_seconds, unix_ms
from parsers.sqlite_store import Database

# What a message cannot be read without (time, body, direction, conversation, sender); the rest is
# read when the store has it, so a Teams build that lacks or renames one of them still yields its messages.
MESSAGE_COLUMNS = ("Z_PK", "ZARRIVALTIME", "ZFROM", "ZTS_ISSENTBYME", "ZTHREADID", "ZCONTENT")
OPTIONAL_COLUMNS = ("ZCOMPOSETIME", "ZIMDISPLAYNAME", "ZMESSAGETYPE", "ZSUBJECT", "ZDELETETIME", "ZDELETETYPE", "ZEDITTIME")
THREAD_COLUMNS = ("ZTSID", "ZTHREADTYPE", "ZTHREADTOPIC")
THREADS_SQL = "SELECT ZTSID, ZTHREADTYPE, ZTHREADTOPIC FROM ZTHREAD"
USERS_SQL = "SELECT ZTSID, ZDISPLAYNAME FROM ZUSER"
OWNER_SQL = "SELECT DISTINCT ZFROM FROM ZSMESSAGE WHERE ZTS_ISSENTBYME = 1 AND ZFROM IS NOT NULL"
MEDIA_MARKERS = ("schema.skype.com/AMSImage", "schema.skype.com/AMSVideo")


class TeamsIos(SqliteChatParser):
    name = "teams_ios"
    version = "2"
    app = "Microsoft Teams"
    platform = "iOS"
    paths = ("*/SkypeSpacesDogfood/*/SkypeSpacesDogfood-*.sqlite",)
    variants = (
        Variant("core_data", {"ZSMESSAGE": MESSAGE_COLUMNS}, optional={"ZSMESSAGE": OPTIONAL_COLUMNS}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        threads = ({row["ZTSID"]: row for row in side_read(database.query(THREADS_SQL), "ZTHREAD", context)}
                   if database.has("ZTHREAD", *THREAD_COLUMNS) else {})
        names = ({row["ZTSID"]: row["ZDISPLAYNAME"] for row in side_read(database.query(USERS_SQL), "ZUSER", context)
                  if row["ZTSID"] and row["ZDISPLAYNAME"]}
                 if database.has("ZUSER", "ZTSID", "ZDISPLAYNAME") else {})
        senders, whole = side_whole(database.query(OWNER_SQL), "ZSMESSAGE", context)  # one sender only the whole table proves
        owner = senders[0]["ZFROM"] if whole and len(senders) == 1 else None
        yield from context.each(database.query(variant.select(database, "ZSMESSAGE", "Z_PK")), "ZSMESSAGE",
                                lambda row: self._message(row, threads, names, owner, context), "Z_PK")

    def _message(self, row: sqlite3.Row, threads: dict[str, sqlite3.Row], names: dict[str, str], owner: str | None,
                 context: ParseContext) -> Message:
        row_id = row["Z_PK"]
        sender_id = row["ZFROM"]
        thread = threads.get(row["ZTHREADID"])
        deleted_raw = row["ZDELETETIME"]
        details = {"message_type": row["ZMESSAGETYPE"] or ""}
        for column, key in (("ZCOMPOSETIME", "compose_time"), ("ZSUBJECT", "subject"), ("ZDELETETYPE", "delete_type"),
                            ("ZTS_ISSENTBYME", "is_sent_by_me")):
            if row[column] not in (None, ""):
                details[key] = str(row[column])
        if thread is not None and thread["ZTHREADTYPE"]:
            details["thread_type"] = thread["ZTHREADTYPE"]
        outgoing = row["ZTS_ISSENTBYME"] == 1
        return Message(
            source_table="ZSMESSAGE", source_row_id=row_id, conversation_id=row["ZTHREADID"],
            conversation_title=(thread["ZTHREADTOPIC"] or None) if thread is not None else None,
            sender=Participant(sender_id, names.get(sender_id) or row["ZIMDISPLAYNAME"]) if sender_id else None,
            direction="outgoing" if outgoing else ("incoming" if row["ZTS_ISSENTBYME"] == 0 else "unknown"),
            sent=context.time(row["ZARRIVALTIME"], cocoa_seconds, table="ZSMESSAGE", row_id=row_id, field="ZARRIVALTIME"),
            sent_raw=None if row["ZARRIVALTIME"] is None else str(row["ZARRIVALTIME"]),
            edited=context.time(row["ZEDITTIME"], unix_ms, table="ZSMESSAGE", row_id=row_id, field="ZEDITTIME"),
            deleted=context.time(_number(deleted_raw), unix_ms, table="ZSMESSAGE", row_id=row_id, field="ZDELETETIME"),
            body=row["ZCONTENT"], kind=_kind(row["ZMESSAGETYPE"], row["ZCONTENT"]),
            is_deleted=True if deleted_raw not in (None, "") else None,
            is_edited=True if row["ZEDITTIME"] else None,
            account_id=owner, details=details,
        )


def _kind(message_type: str | None, content: str | None) -> str:
    lowered = (message_type or "").lower()
    if lowered.startswith("threadactivity/"):
        return "system"
    if lowered == "event/locationsharing" or lowered == "richtext/location":
        return "location"
    if lowered.startswith("event/call"):
        return "call"
    if lowered.startswith("richtext/media_") or (content and any(marker in content for marker in MEDIA_MARKERS)):
        return "media"
    if lowered in ("text", "richtext", "richtext/html"):
        return "text"
    return "unknown"


def _number(value: object) -> object:
    """ZDELETETIME is declared VARCHAR: digits are a Unix ms number; anything else is passed on to warn."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return value


PARSER = TeamsIos()
