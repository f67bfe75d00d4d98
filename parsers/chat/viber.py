"""Viber: Android `viber_messages` (chats), Android `viber_data` (call log), iOS `Contacts.data` (chats).

Android `viber_messages` facts (read for facts only: decompiled ViberMessagesHelper `onCreate` DDL of
DB version 53 and of a later version, as published in public GitHub code; the app's own list query
joins `messages.participant_id = participants._id` and `participants.participant_info_id =
participants_info._id`):
- current `messages`: `_id`, `conversation_id` -> `conversations._id`, `msg_date` (Unix ms),
  `participant_id` -> `participants._id` (the writer), `send_type` (1 = sent by the owner, 0 received),
  `unread`, `deleted`, `extra_mime` (integer content type, kept raw), `extra_uri` (media location),
  `location_lat`/`location_lng` (integers; their scale is not confirmed by a source: read as degrees
  x 1e7, and the raw integers are kept in details), `body`, `token`, `msg_info` (JSON, kept raw).
- older (v53) `messages`: `address` (the other party's number), `date` (Unix ms), `type` (read as
  the predecessor of `send_type`, 1 sent / 0 received: an inference, the raw value is kept in details), `read`, `body`, `extra_mime` (text), `extra_uri`,
  `location_lat`/`location_lng`, `deleted`, `conversation_id`, `participant_id`.
- `conversations`: `_id`, `name` (group name), `recipient_number`, `group_id`, `conversation_type`.
  Later versions drop `recipient_number` (a decompiled later build keeps the conversation's
  participants in `participants` and up to four preview ids `participant_id_1`..`_4` ->
  participants_info._id in `conversations`); the 1:1 partner then comes from `participants` only.
  So only `_id` is required there, and only time, body, direction, conversation and writer in
  `messages`: every other column is optional (NULL when the store lacks it).
- `participants`: `_id`, `conversation_id`, `participant_info_id`; `participants_info`: `_id`,
  `number`, `display_name`, `contact_name`, `participant_type` (0 = the owner).
Content kind: extra_mime is kept raw in details; kind = location when coordinates are set, media when
`extra_uri` names a file, text when there is a body, unknown otherwise.

Android `viber_data` facts (plaso test file `android/viber_data`; ALEAPP/Autopsy Viber call queries):
- `calls`: `_id`, `number`, `canonized_number`, `date` (Unix ms), `duration` (seconds), `type`
  (1 incoming, 2 outgoing, 3 missed), `viber_call_type` (1 audio, 4 video). Each row becomes a
  kind="call" message. Names: `phonebookdata.data2` (canonized number) -> `contact_id` ->
  `phonebookcontact._id`.`display_name`. The owner's number is not in this database.

iOS `Contacts.data` facts (iLEAPP `scripts/artifacts/viber.py`):
- `ZVIBERMESSAGE`: `Z_PK`, `ZCONVERSATION` -> `ZCONVERSATION.Z_PK`, `ZPHONENUMINDEX` -> `ZMEMBER.Z_PK`
  (the writer), `ZDATE` and `ZSTATEDATE` (Core Data seconds; iLEAPP labels ZSTATEDATE "creation" and
  ZDATE "change state"; we take ZDATE as the message time, by the columns' own names, and keep
  ZSTATEDATE raw and converted in details so either reading stays available), `ZSTATE`
  ("send"/"delivered" = outgoing, "received" = incoming), `ZTEXT`,
  `ZSYSTEMTYPE`, `ZMETADATA` (JSON, kept raw), `ZATTACHMENT` -> `ZATTACHMENT` (`ZNAME`, `ZTYPE`,
  `ZFILESIZE`), `ZLOCATION` -> `ZVIBERLOCATION` (`ZLATITUDE`, `ZLONGITUDE`), `ZBEINGDELETED`.
- `ZCONVERSATION`: `Z_PK`, `ZNAME`, `ZINTERLOCUTOR` -> `ZMEMBER` (1:1 partner). `ZMEMBER`: `Z_PK`,
  `ZDISPLAYFULLNAME`, `ZNAME`; `ZPHONENUMBER`: `ZMEMBER`, `ZPHONE`, `ZCANONIZEDPHONENUM`.
- The owner is in the companion `Settings.data` (`Data` table, keys `_myPhoneNumber`, `_myUserName`).
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import cocoa_seconds, unix_ms
from parsers.sqlite_store import Database

OWNER_TYPE = 0
CALL_TYPES = {1: "incoming", 2: "outgoing", 3: "missed"}
CALL_MEDIA = {1: "audio", 4: "video"}
IOS_OUTGOING = ("send", "delivered")

PARTICIPANTS_SQL = ("SELECT p._id AS participant_id, p.conversation_id, i._id AS info_id, i.number, i.display_name, i.contact_name, "
                    "i.participant_type FROM participants p JOIN participants_info i ON i._id = p.participant_info_id")
INFOS_SQL = "SELECT _id, number, display_name, contact_name, participant_type FROM participants_info"
CALLS_SQL = "SELECT _id, number, canonized_number, date, duration, type, viber_call_type FROM calls ORDER BY _id"
PHONEBOOK_SQL = ("SELECT d.data2 AS number, c.display_name FROM phonebookdata d JOIN phonebookcontact c ON c._id = d.contact_id "
                 "WHERE d.data2 IS NOT NULL AND c.display_name IS NOT NULL ORDER BY d._id")
IOS_SQL = ("SELECT m.Z_PK, m.ZCONVERSATION, m.ZPHONENUMINDEX, m.ZDATE, m.ZSTATEDATE, m.ZSTATE, m.ZTEXT, m.ZSYSTEMTYPE, m.ZMETADATA, "
           "m.ZBEINGDELETED, a.ZNAME AS attachment_name, a.ZTYPE AS attachment_type, a.ZFILESIZE AS attachment_size, "
           "l.ZLATITUDE AS latitude, l.ZLONGITUDE AS longitude FROM ZVIBERMESSAGE m "
           "LEFT JOIN ZATTACHMENT a ON a.Z_PK = m.ZATTACHMENT LEFT JOIN ZVIBERLOCATION l ON l.Z_PK = m.ZLOCATION ORDER BY m.Z_PK")
IOS_CONVERSATIONS_SQL = "SELECT Z_PK, ZNAME, ZINTERLOCUTOR FROM ZCONVERSATION"
IOS_MEMBERS_SQL = ("SELECT m.Z_PK, m.ZDISPLAYFULLNAME, m.ZNAME, (SELECT p.ZPHONE FROM ZPHONENUMBER p WHERE p.ZMEMBER = m.Z_PK "
                   "ORDER BY p.Z_PK LIMIT 1) AS phone FROM ZMEMBER m")
SETTINGS_SQL = "SELECT key, value FROM Data WHERE key IN ('_myPhoneNumber', '_myUserName')"

ANDROID_COMMON = {"conversations": ("_id",),
                  "participants": ("_id", "conversation_id", "participant_info_id"),
                  "participants_info": ("_id", "number", "display_name", "contact_name", "participant_type")}
# Read when present: content, flags and the conversation's name, group and (older builds) number.
MESSAGE_OPTIONAL = ("deleted", "extra_mime", "extra_uri", "location_lat", "location_lng", "token")
CONVERSATION_OPTIONAL = ("name", "recipient_number", "group_id")


class Viber(SqliteChatParser):
    name = "viber"
    version = "1"
    app = "Viber"
    platform = "Android/iOS"
    paths = ("*/com.viber.voip/databases/viber_messages", "*/com.viber.voip/databases/viber_data",
             "*/com.viber/database/Contacts.data")
    variants = (
        Variant("android_messages", {"messages": ("_id", "conversation_id", "msg_date AS date", "participant_id",
                                                  "send_type AS direction_flag", "body"), **ANDROID_COMMON},
                optional={"messages": ("unread AS read_flag", *MESSAGE_OPTIONAL, "msg_info", "address"),
                          "conversations": CONVERSATION_OPTIONAL}),
        Variant("android_messages_v53", {"messages": ("_id", "conversation_id", "date", "participant_id", "type AS direction_flag",
                                                      "body", "address"), **ANDROID_COMMON},
                optional={"messages": ("read AS read_flag", *MESSAGE_OPTIONAL, "msg_info"),
                          "conversations": CONVERSATION_OPTIONAL}),
        Variant("android_data_calls", {"calls": ("_id", "number", "canonized_number", "date", "duration", "type", "viber_call_type")}),
        Variant("ios_contacts_data", {"ZVIBERMESSAGE": ("Z_PK", "ZCONVERSATION", "ZPHONENUMINDEX", "ZDATE", "ZSTATEDATE", "ZSTATE",
                                                        "ZTEXT", "ZSYSTEMTYPE", "ZMETADATA", "ZBEINGDELETED", "ZATTACHMENT", "ZLOCATION"),
                                      "ZCONVERSATION": ("Z_PK", "ZNAME", "ZINTERLOCUTOR"),
                                      "ZMEMBER": ("Z_PK", "ZDISPLAYFULLNAME", "ZNAME"), "ZPHONENUMBER": ("Z_PK", "ZMEMBER", "ZPHONE"),
                                      "ZATTACHMENT": ("Z_PK", "ZNAME", "ZTYPE", "ZFILESIZE"),
                                      "ZVIBERLOCATION": ("Z_PK", "ZLATITUDE", "ZLONGITUDE")}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        if variant.name == "android_data_calls":
            yield from self._calls(database, context)
        elif variant.name == "ios_contacts_data":
            yield from self._ios(database, context)
        else:
            yield from self._android(database, variant, context)

    # Android viber_messages -------------------------------------------------------------------------

    def _android(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        conversations = {row["_id"]: row for row in database.query(variant.select(database, "conversations"))}
        sql = variant.select(database, "messages", "_id")
        participants = {row["participant_id"]: row for row in database.query(PARTICIPANTS_SQL)}
        members: dict[int, list[Participant]] = {}
        for row in participants.values():
            if row["participant_type"] != OWNER_TYPE:
                members.setdefault(row["conversation_id"], []).append(_android_person(row))
        owners = [row for row in database.query(INFOS_SQL) if row["participant_type"] == OWNER_TYPE]
        owner = _android_person(owners[0]) if owners else None
        yield from context.each(database.query(sql), "messages",
                                lambda row: self._android_message(row, conversations, participants, members, owner, context), "_id")

    def _android_message(self, row: sqlite3.Row, conversations: dict[int, sqlite3.Row], participants: dict[int, sqlite3.Row],
                         members: dict[int, list[Participant]], owner: Participant | None, context: ParseContext) -> Message:
        row_id = row["_id"]
        outgoing = row["direction_flag"] == 1
        conversation = conversations.get(row["conversation_id"])
        writer = participants.get(row["participant_id"])
        number = conversation["recipient_number"] if conversation is not None else None
        partner = Participant(row["address"] or number) if row["address"] or number else None  # older builds only
        sender = owner if outgoing else (_android_person(writer) if writer is not None else partner)
        others = tuple(members.get(row["conversation_id"], [])) or ((partner,) if partner else ())
        latitude, longitude = _degrees(row["location_lat"]), _degrees(row["location_lng"])
        details = {"direction_flag": str(row["direction_flag"])}
        if row["extra_mime"] is not None:
            details["extra_mime"] = str(row["extra_mime"])
        for column in ("read_flag", "token", "msg_info", "address", "location_lat", "location_lng"):
            if row[column] not in (None, "", 0) or column == "read_flag" and row[column] == 0:
                details[column] = str(row[column])
        if conversation is not None and conversation["group_id"]:
            details["group_id"] = str(conversation["group_id"])
        media = bool(row["extra_uri"])
        return Message(
            source_table="messages", source_row_id=row_id, conversation_id=_text(row["conversation_id"]),
            conversation_title=conversation["name"] or None if conversation is not None else None,
            sender=sender, recipients=others if outgoing else ((owner,) if owner else ()),
            direction="outgoing" if outgoing else ("incoming" if row["direction_flag"] == 0 else "unknown"),
            sent=context.time(row["date"], unix_ms, table="messages", row_id=row_id, field="date"),
            sent_raw=_text(row["date"]), body=row["body"],
            kind="location" if latitude is not None else ("media" if media else ("text" if row["body"] else "unknown")),
            attachments=(Attachment(local_path=row["extra_uri"]),) if media else (),
            latitude=latitude, longitude=longitude,
            is_deleted=None if row["deleted"] is None else row["deleted"] != 0,
            account_id=owner.id if owner else None, details=details,
        )

    # Android viber_data calls -----------------------------------------------------------------------

    def _calls(self, database: Database, context: ParseContext) -> Iterator[Message]:
        names: dict[str, str] = {}
        if database.has("phonebookdata", "_id", "contact_id", "data2") and database.has("phonebookcontact", "_id", "display_name"):
            for row in database.query(PHONEBOOK_SQL):
                names.setdefault(row["number"], row["display_name"])
        yield from context.each(database.query(CALLS_SQL), "calls", lambda row: self._call(row, names, context), "_id")

    def _call(self, row: sqlite3.Row, names: dict[str, str], context: ParseContext) -> Message:
        row_id = row["_id"]
        number = row["canonized_number"] or row["number"]
        other = Participant(number, names.get(number)) if number else None
        call_type = row["type"]
        outgoing = call_type == 2
        details = {"call_type": f"{call_type} ({CALL_TYPES.get(call_type, 'unknown')})", "duration": str(row["duration"]),
                   "media": f"{row['viber_call_type']} ({CALL_MEDIA.get(row['viber_call_type'], 'unknown')})"}
        if row["number"] != number:
            details["number"] = str(row["number"])
        return Message(
            source_table="calls", source_row_id=row_id, conversation_id=number, sender=None if outgoing else other,
            recipients=(other,) if outgoing and other else (),
            direction="outgoing" if outgoing else ("incoming" if call_type in (1, 3) else "unknown"),
            sent=context.time(row["date"], unix_ms, table="calls", row_id=row_id, field="date"), sent_raw=_text(row["date"]),
            kind="call", details=details,
        )

    # iOS Contacts.data ------------------------------------------------------------------------------

    def _ios(self, database: Database, context: ParseContext) -> Iterator[Message]:
        members = {row["Z_PK"]: row for row in database.query(IOS_MEMBERS_SQL)}
        conversations = {row["Z_PK"]: row for row in database.query(IOS_CONVERSATIONS_SQL)}
        owner = _ios_owner(context)
        yield from context.each(database.query(IOS_SQL), "ZVIBERMESSAGE",
                                lambda row: self._ios_message(row, members, conversations, owner, context), "Z_PK")

    def _ios_message(self, row: sqlite3.Row, members: dict[int, sqlite3.Row], conversations: dict[int, sqlite3.Row],
                     owner: Participant | None, context: ParseContext) -> Message:
        row_id = row["Z_PK"]
        state = row["ZSTATE"]
        outgoing = state in IOS_OUTGOING
        conversation = conversations.get(row["ZCONVERSATION"])
        partner = _ios_person(members.get(conversation["ZINTERLOCUTOR"])) if conversation is not None and conversation["ZINTERLOCUTOR"] else None
        writer = _ios_person(members.get(row["ZPHONENUMINDEX"])) if row["ZPHONENUMINDEX"] else partner
        state_date = context.time(row["ZSTATEDATE"], cocoa_seconds, table="ZVIBERMESSAGE", row_id=row_id, field="ZSTATEDATE")
        details = {"state": str(state)}
        for column, key in (("ZSTATEDATE", "state_date"), ("ZSYSTEMTYPE", "system_type"), ("ZMETADATA", "metadata"),
                            ("attachment_type", "attachment_type")):
            if row[column] not in (None, ""):
                details[key] = str(row[column])
        if state_date is not None:
            details["state_date_utc_ns"] = str(state_date)
        attachment = Attachment(file_name=row["attachment_name"], size=row["attachment_size"]) if row["attachment_name"] else None
        latitude, longitude = row["latitude"], row["longitude"]
        located = latitude is not None and longitude is not None and (latitude, longitude) != (0, 0)
        return Message(
            source_table="ZVIBERMESSAGE", source_row_id=row_id, conversation_id=_text(row["ZCONVERSATION"]),
            conversation_title=conversation["ZNAME"] or None if conversation is not None else None,
            sender=owner if outgoing else writer,
            recipients=((partner,) if partner else ()) if outgoing else ((owner,) if owner else ()),
            direction="outgoing" if outgoing else ("incoming" if state == "received" else "unknown"),
            sent=context.time(row["ZDATE"], cocoa_seconds, table="ZVIBERMESSAGE", row_id=row_id, field="ZDATE"),
            sent_raw=_text(row["ZDATE"]), body=row["ZTEXT"],
            kind="location" if located else ("media" if attachment else ("system" if row["ZSYSTEMTYPE"] else "text")),
            attachments=(attachment,) if attachment else (), latitude=latitude if located else None,
            longitude=longitude if located else None,
            is_deleted=None if row["ZBEINGDELETED"] is None else row["ZBEINGDELETED"] == 1,
            account_id=owner.id if owner else None, details=details,
        )


def _android_person(row: sqlite3.Row) -> Participant:
    return Participant(row["number"], row["contact_name"] or row["display_name"])


def _ios_person(row: sqlite3.Row | None) -> Participant | None:
    if row is None:
        return None
    return Participant(row["phone"] or f"member:{row['Z_PK']}", row["ZDISPLAYFULLNAME"] or row["ZNAME"])


def _ios_owner(context: ParseContext) -> Participant | None:
    """The owner's number and name from the companion Settings.data (absent: outgoing senders stay unknown)."""
    settings = context.companion("*/com.viber/settings/Settings.data")
    if settings is None or not settings.has("Data", "key", "value"):
        return None
    values = {row["key"]: row["value"] for row in settings.query(SETTINGS_SQL)}
    number = values.get("_myPhoneNumber")
    name = values.get("_myUserName")
    if not isinstance(number, str):
        return None
    return Participant(number, name if isinstance(name, str) else None)


def _degrees(value: object) -> float | None:
    """Android stores coordinates as integer degrees x 1e7; 0 or NULL means none."""
    if value in (None, 0, ""):
        return None
    return int(value) / 10_000_000


def _text(value: object) -> str | None:
    return None if value is None else str(value)


PARSER = Viber()
