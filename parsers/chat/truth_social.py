"""Truth Social for iOS: chat events from the Core Data store chat/v1/<account id>/ChatModel.sqlite.

Schema facts (iLEAPP `scripts/artifacts/truthSocial.py`, checked against the iLEAPP sample
`truthSocial/...josh_ios17_ffs`):
- `ZMANAGEDEVENTBASE` holds every chat event; `Z_ENT` names its Core Data entity through
  `Z_PRIMARYKEY` (`Z_ENT`, `Z_NAME`): ManagedMessage, ManagedMembership, ManagedExpirationChanged,
  ManagedInvite, ManagedFeatureUnavailable, or the base entity itself (e.g. "chatCreated").
  Columns: `Z_PK`, `ZTYPE` (message, memberJoined, chatCreated, messageExpirationChanged, ...),
  `ZCHATID` (-> ZMANAGEDCHAT.ZSERVERID), `ZCREATEDAT` (Cocoa seconds), `ZCONTENT` (the message
  body as an HTML fragment), `ZTEXT` (text of some events), `ZMESSAGEID`, `ZACCOUNTID1` (message
  sender), `ZACCOUNTID` (member of a membership event), `ZISUNREAD`, `ZISHIDDEN`,
  `ZFAILEDTOSEND`, `ZMESSAGEEXPIRATION` (seconds), `ZCHANGEDBYACCOUNTID`, `ZINVITEDACCOUNTID`,
  `ZINVITEDBYACCOUNTID`, `ZURL`.
- `ZMANAGEDCHAT`: `ZSERVERID`, `ZTYPE` ('channel' or empty for a direct chat), `ZOTHERACCOUNTID`,
  `ZOWNEDBYACCOUNTID` (the account the store belongs to).
- `ZMANAGEDACCOUNT`: `ZSERVERID`, `ZACCT` (handle), `ZDISPLAYNAME`.
- `ZMANAGEDATTACHMENT` (`ZMESSAGE` -> event Z_PK, `ZTYPE`, `ZURL`, `ZREMOTEURL`) and
  `ZMANAGEDREACTION` (`ZMESSAGE`, `ZNAME` emoji, `ZCOUNT`, `ZISME`): kept with their message
  (a reaction is not an event of its own in this store).
Every event becomes a Message: ManagedMessage as text/media, every other entity as `system` with
the event type in `details` and no body (the store keeps none).
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import cocoa_seconds
from parsers.sqlite_store import Database

EVENTS_SQL = ("SELECT e.Z_PK, e.Z_ENT, k.Z_NAME AS entity, e.ZTYPE, e.ZCHATID, e.ZCREATEDAT, e.ZCONTENT, e.ZTEXT, e.ZMESSAGEID, "
              "e.ZACCOUNTID, e.ZACCOUNTID1, e.ZISUNREAD, e.ZISHIDDEN, e.ZFAILEDTOSEND, e.ZMESSAGEEXPIRATION, "
              "e.ZCHANGEDBYACCOUNTID, e.ZINVITEDACCOUNTID, e.ZINVITEDBYACCOUNTID, e.ZURL "
              "FROM ZMANAGEDEVENTBASE e LEFT JOIN Z_PRIMARYKEY k ON k.Z_ENT = e.Z_ENT ORDER BY e.ZCREATEDAT, e.Z_PK")
CHATS_SQL = "SELECT ZSERVERID, ZTYPE, ZOTHERACCOUNTID, ZOWNEDBYACCOUNTID FROM ZMANAGEDCHAT"
ACCOUNTS_SQL = "SELECT ZSERVERID, ZACCT, ZDISPLAYNAME FROM ZMANAGEDACCOUNT"
ATTACHMENTS_SQL = "SELECT Z_PK, ZMESSAGE, ZTYPE, ZURL, ZREMOTEURL FROM ZMANAGEDATTACHMENT ORDER BY Z_PK"
REACTIONS_SQL = "SELECT Z_PK, ZMESSAGE, ZNAME, ZCOUNT, ZISME FROM ZMANAGEDREACTION ORDER BY Z_PK"
TABLE = "ZMANAGEDEVENTBASE"
MESSAGE_ENTITY = "ManagedMessage"
EVENT_COLUMNS = (("expiration_s", "ZMESSAGEEXPIRATION"), ("changed_by", "ZCHANGEDBYACCOUNTID"), ("invited", "ZINVITEDACCOUNTID"),
                 ("invited_by", "ZINVITEDBYACCOUNTID"), ("url", "ZURL"), ("event_text", "ZTEXT"))


class TruthSocial(SqliteChatParser):
    name = "truth_social"
    version = "1"
    app = "Truth Social"
    platform = "iOS"
    paths = ("*/chat/v1/*/ChatModel.sqlite",)
    variants = (
        Variant("core_data", {"ZMANAGEDEVENTBASE": ("Z_PK", "Z_ENT", "ZTYPE", "ZCHATID", "ZCREATEDAT", "ZCONTENT", "ZTEXT", "ZMESSAGEID",
                                                    "ZACCOUNTID", "ZACCOUNTID1", "ZISUNREAD", "ZISHIDDEN", "ZFAILEDTOSEND",
                                                    "ZMESSAGEEXPIRATION", "ZCHANGEDBYACCOUNTID", "ZINVITEDACCOUNTID",
                                                    "ZINVITEDBYACCOUNTID", "ZURL"),
                              "Z_PRIMARYKEY": ("Z_ENT", "Z_NAME"),
                              "ZMANAGEDCHAT": ("ZSERVERID", "ZTYPE", "ZOTHERACCOUNTID", "ZOWNEDBYACCOUNTID"),
                              "ZMANAGEDACCOUNT": ("ZSERVERID", "ZACCT", "ZDISPLAYNAME"),
                              "ZMANAGEDATTACHMENT": ("ZMESSAGE", "ZTYPE", "ZURL", "ZREMOTEURL"),
                              "ZMANAGEDREACTION": ("ZMESSAGE", "ZNAME", "ZCOUNT", "ZISME")}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        accounts = {str(r["ZSERVERID"]): Participant(str(r["ZSERVERID"]), r["ZDISPLAYNAME"] or r["ZACCT"])
                    for r in database.query(ACCOUNTS_SQL) if r["ZSERVERID"] is not None}
        handles = {str(r["ZSERVERID"]): r["ZACCT"] for r in database.query(ACCOUNTS_SQL) if r["ZSERVERID"] is not None and r["ZACCT"]}
        chats = {str(r["ZSERVERID"]): r for r in database.query(CHATS_SQL) if r["ZSERVERID"] is not None}
        attachments: dict[int, list[Attachment]] = {}
        urls: dict[int, list[str]] = {}
        for row in database.query(ATTACHMENTS_SQL):
            url = row["ZURL"] or row["ZREMOTEURL"]
            attachments.setdefault(row["ZMESSAGE"], []).append(
                Attachment(file_name=str(url).rsplit("/", 1)[-1] if url else None, mime_type=None))
            urls.setdefault(row["ZMESSAGE"], []).append(f"{row['ZTYPE']}: {url}")
        reactions: dict[int, list[str]] = {}
        for row in database.query(REACTIONS_SQL):
            mine = " (by me)" if row["ZISME"] else ""
            reactions.setdefault(row["ZMESSAGE"], []).append(f"{row['ZNAME']} x{row['ZCOUNT']}{mine}")
        rows = database.query(EVENTS_SQL)
        yield from context.each(rows, TABLE, lambda row: self._event(row, accounts, handles, chats, attachments, urls, reactions,
                                                                     context), "Z_PK")

    def _event(self, row: sqlite3.Row, accounts: dict[str, Participant], handles: dict[str, str], chats: dict[str, sqlite3.Row],
               attachments: dict[int, list[Attachment]], urls: dict[int, list[str]], reactions: dict[int, list[str]],
               context: ParseContext) -> Message:
        row_id = row["Z_PK"]
        chat_id = None if row["ZCHATID"] is None else str(row["ZCHATID"])
        chat = chats.get(chat_id or "")
        owner = None if chat is None or chat["ZOWNEDBYACCOUNTID"] is None else str(chat["ZOWNEDBYACCOUNTID"])
        other_id = None if chat is None or chat["ZOTHERACCOUNTID"] is None else str(chat["ZOTHERACCOUNTID"])
        other = accounts.get(other_id or "") or (Participant(other_id) if other_id else None)
        sender_id = row["ZACCOUNTID1"] or row["ZACCOUNTID"]
        sender = (accounts.get(str(sender_id)) or Participant(str(sender_id))) if sender_id else None
        direction = "unknown" if owner is None or sender is None else ("outgoing" if sender.id == owner else "incoming")
        is_message = row["entity"] == MESSAGE_ENTITY
        files = tuple(attachments.get(row_id, ())) if is_message else ()
        details = {"entity": str(row["entity"]), "event_type": str(row["ZTYPE"]),
                   "chat_type": str(chat["ZTYPE"] or "direct") if chat is not None else "unknown"}
        if row["ZMESSAGEID"] is not None:
            details["message_id"] = str(row["ZMESSAGEID"])
        if sender is not None and sender.id in handles:
            details["sender_handle"] = "@" + handles[sender.id]
        for key, column in (("unread", "ZISUNREAD"), ("hidden", "ZISHIDDEN"), ("failed_to_send", "ZFAILEDTOSEND")):
            if row[column] is not None:
                details[key] = str(row[column])
        for key, column in EVENT_COLUMNS:
            if row[column] not in (None, ""):
                details[key] = str(row[column])
        if urls.get(row_id) and is_message:
            details["attachment_urls"] = "\n".join(urls[row_id])
        if reactions.get(row_id):
            details["reactions"] = ", ".join(reactions[row_id])
        recipients = (other,) if direction == "outgoing" and other is not None else \
            ((accounts.get(owner or "") or Participant(owner),) if direction == "incoming" and owner else ())
        return Message(
            source_table=TABLE, source_row_id=row_id, conversation_id=chat_id,
            conversation_title=other.name or other.id if other else None, sender=sender, recipients=recipients,
            direction=direction, sent=context.time(row["ZCREATEDAT"], cocoa_seconds, table=TABLE, row_id=row_id, field="ZCREATEDAT"),
            sent_raw=None if row["ZCREATEDAT"] is None else str(row["ZCREATEDAT"]),
            body=row["ZCONTENT"] if is_message else None,
            kind=("media" if files else "text") if is_message else "system", attachments=files, account_id=owner, details=details,
        )


PARSER = TruthSocial()
