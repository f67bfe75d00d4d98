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
Schema history: no public source documents another build's store (docs/chat-schema-hist4.md), and
Core Data names such as `ZACCOUNTID1` (a suffix Core Data adds when two entities of one table share
an attribute name) and the `Z_ENT` numbers move when the model gains entities: **not confirmed**
for any build. So only `Z_PK`, `ZCHATID`, `ZCREATEDAT`, `ZCONTENT` are required; the writer is
`ZACCOUNTID1` or else `ZACCOUNTID`, the entity comes from `Z_PRIMARYKEY` when present (else an
event is a message when its `ZTYPE` is "message" or absent), and the chat, account, attachment and
reaction tables are read when the store has them (without `ZMANAGEDCHAT` the direction is unknown).
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat._rows import side_table, text_value
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import cocoa_seconds
from parsers.sqlite_store import Database

# The minimum an event is read with (time, body, conversation); writer, entity and the rest are optional.
EVENT_REQUIRED = ("Z_PK", "ZCHATID", "ZCREATEDAT", "ZCONTENT")
EVENT_OPTIONAL = ("Z_ENT", "ZTYPE", "ZTEXT", "ZMESSAGEID", "ZACCOUNTID", "ZACCOUNTID1", "ZISUNREAD", "ZISHIDDEN", "ZFAILEDTOSEND",
                  "ZMESSAGEEXPIRATION", "ZCHANGEDBYACCOUNTID", "ZINVITEDACCOUNTID", "ZINVITEDBYACCOUNTID", "ZURL")
# Side tables, read when the store has them (declared like variants, so only these names reach SQL).
ENTITIES = Variant("entities", {"Z_PRIMARYKEY": ("Z_ENT", "Z_NAME")})
CHATS = Variant("chats", {"ZMANAGEDCHAT": ("ZSERVERID",)}, {"ZMANAGEDCHAT": ("ZTYPE", "ZOTHERACCOUNTID", "ZOWNEDBYACCOUNTID")})
ACCOUNTS = Variant("accounts", {"ZMANAGEDACCOUNT": ("ZSERVERID",)}, {"ZMANAGEDACCOUNT": ("ZACCT", "ZDISPLAYNAME")})
ATTACHMENTS = Variant("attachments", {"ZMANAGEDATTACHMENT": ("Z_PK", "ZMESSAGE")},
                      {"ZMANAGEDATTACHMENT": ("ZTYPE", "ZURL", "ZREMOTEURL")})
REACTIONS = Variant("reactions", {"ZMANAGEDREACTION": ("Z_PK", "ZMESSAGE")}, {"ZMANAGEDREACTION": ("ZNAME", "ZCOUNT", "ZISME")})
TABLE = "ZMANAGEDEVENTBASE"
MESSAGE_ENTITY = "ManagedMessage"
EVENT_COLUMNS = (("expiration_s", "ZMESSAGEEXPIRATION"), ("changed_by", "ZCHANGEDBYACCOUNTID"), ("invited", "ZINVITEDACCOUNTID"),
                 ("invited_by", "ZINVITEDBYACCOUNTID"), ("url", "ZURL"), ("event_text", "ZTEXT"))


class TruthSocial(SqliteChatParser):
    name = "truth_social"
    version = "2"
    app = "Truth Social"
    platform = "iOS"
    paths = ("*/chat/v1/*/ChatModel.sqlite",)
    variants = (
        Variant("core_data", {"ZMANAGEDEVENTBASE": EVENT_REQUIRED}, {"ZMANAGEDEVENTBASE": EVENT_OPTIONAL}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        account_rows = [r for r in side_table(database, ACCOUNTS, "ZMANAGEDACCOUNT", context) if r["ZSERVERID"] is not None]
        accounts = {str(r["ZSERVERID"]): Participant(str(r["ZSERVERID"]), r["ZDISPLAYNAME"] or r["ZACCT"]) for r in account_rows}
        handles = {str(r["ZSERVERID"]): r["ZACCT"] for r in account_rows if r["ZACCT"]}
        chats = {str(r["ZSERVERID"]): r for r in side_table(database, CHATS, "ZMANAGEDCHAT", context) if r["ZSERVERID"] is not None}
        entities = {r["Z_ENT"]: r["Z_NAME"] for r in side_table(database, ENTITIES, "Z_PRIMARYKEY", context)}
        attachments: dict[int, list[Attachment]] = {}
        urls: dict[int, list[str]] = {}
        for row in side_table(database, ATTACHMENTS, "ZMANAGEDATTACHMENT", context, "Z_PK"):
            url = row["ZURL"] or row["ZREMOTEURL"]
            attachments.setdefault(row["ZMESSAGE"], []).append(
                Attachment(file_name=str(url).rsplit("/", 1)[-1] if url else None, mime_type=None))
            urls.setdefault(row["ZMESSAGE"], []).append(f"{row['ZTYPE']}: {url}")
        reactions: dict[int, list[str]] = {}
        for row in side_table(database, REACTIONS, "ZMANAGEDREACTION", context, "Z_PK"):
            mine = " (by me)" if row["ZISME"] else ""
            reactions.setdefault(row["ZMESSAGE"], []).append(f"{row['ZNAME']} x{row['ZCOUNT']}{mine}")
        rows = database.query(variant.select(database, TABLE, "ZCREATEDAT, Z_PK"))
        yield from context.each(rows, TABLE, lambda row: self._event(row, entities, accounts, handles, chats, attachments, urls,
                                                                     reactions, context), "Z_PK")

    def _event(self, row: sqlite3.Row, entities: dict[object, object], accounts: dict[str, Participant], handles: dict[str, str],
               chats: dict[str, sqlite3.Row],
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
        entity = entities.get(row["Z_ENT"])
        is_message = _is_message(entity, row["ZTYPE"])
        files = tuple(attachments.get(row_id, ())) if is_message else ()
        details = {"chat_type": str(chat["ZTYPE"] or "direct") if chat is not None else "unknown"}
        for key, value in (("entity", entity), ("event_type", row["ZTYPE"])):
            if value is not None:
                details[key] = str(value)
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
            body=text_value(row["ZCONTENT"]) if is_message else None,
            kind=("media" if files else "text") if is_message else "system", attachments=files, account_id=owner, details=details,
        )


def _is_message(entity: object, event_type: object) -> bool:
    """A message by its Core Data entity; without Z_PRIMARYKEY by its ZTYPE; with neither, every event with content is read as one."""
    if entity is not None:
        return entity == MESSAGE_ENTITY
    return event_type in (None, "message")


PARSER = TruthSocial()
