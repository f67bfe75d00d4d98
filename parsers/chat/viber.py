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
- Only `ZVIBERMESSAGE` `Z_PK`, `ZCONVERSATION`, `ZDATE`, `ZSTATE`, `ZTEXT` are required; the other
  message columns are read when present, and the conversation, member, phone, attachment and
  location tables when the store has them. No public source lists Contacts.data columns per Viber
  build (docs/chat-schema-hist4.md); theAtropos4n6's DFIR_SQL_Queries (Viber 14.2.0.1, iOS 14.2)
  use the same ZVIBERMESSAGE/ZMEMBER/ZPHONENUMBER columns, and keep calls in `ZRECENT` (`ZDATE`,
  `ZDURATION`, `ZCALLTYPE`, `ZRECENTSLINE` -> `ZRECENTSLINE.ZPHONENUMBER`, `ZCALLLOGMESSAGE` ->
  ZVIBERMESSAGE). Every `ZRECENT` row becomes a kind="call" message (source_table "ZRECENT"; a
  call that also has a ZVIBERMESSAGE bubble names it in details["call_log_message"], so nothing is
  dropped and the pair can be matched). Missed calls are incoming; "_with_video" types are video.
"""

from __future__ import annotations

import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant
from parsers.chat._rows import side_read, side_rows, side_table, text_value
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
PHONEBOOK_SQL = ("SELECT d.data2 AS number, c.display_name FROM phonebookdata d JOIN phonebookcontact c ON c._id = d.contact_id "
                 "WHERE d.data2 IS NOT NULL AND c.display_name IS NOT NULL ORDER BY d._id")
# iOS Contacts.data: the message needs its time, text, state (direction) and conversation; the writer,
# state date, system type, metadata, deletion flag and links are optional, and so is every side table.
IOS_REQUIRED = ("Z_PK", "ZCONVERSATION", "ZDATE", "ZSTATE", "ZTEXT")
IOS_OPTIONAL = ("ZPHONENUMINDEX", "ZSTATEDATE", "ZSYSTEMTYPE", "ZMETADATA", "ZBEINGDELETED", "ZATTACHMENT", "ZLOCATION")
IOS_CONVERSATIONS = Variant("ios_conversations", {"ZCONVERSATION": ("Z_PK",)}, {"ZCONVERSATION": ("ZNAME", "ZINTERLOCUTOR")})
IOS_MEMBERS = Variant("ios_members", {"ZMEMBER": ("Z_PK",)}, {"ZMEMBER": ("ZDISPLAYFULLNAME", "ZNAME")})
IOS_PHONES = Variant("ios_phones", {"ZPHONENUMBER": ("Z_PK", "ZMEMBER")}, {"ZPHONENUMBER": ("ZPHONE", "ZCANONIZEDPHONENUM")})
IOS_ATTACHMENTS = Variant("ios_attachments", {"ZATTACHMENT": ("Z_PK",)}, {"ZATTACHMENT": ("ZNAME", "ZTYPE", "ZFILESIZE")})
# The call log (DFIR_SQL_Queries, Viber 14.2.0.1): a call repeated without a message in between is only here.
IOS_RECENTS = Variant("ios_recents", {"ZRECENT": ("Z_PK", "ZDATE")},
                      {"ZRECENT": ("ZDURATION", "ZCALLTYPE", "ZRECENTSLINE", "ZCALLLOGMESSAGE")})
IOS_RECENT_LINES = Variant("ios_recent_lines", {"ZRECENTSLINE": ("Z_PK",)}, {"ZRECENTSLINE": ("ZPHONENUMBER",)})
IOS_CALL_DIRECTIONS = {"incoming": "incoming", "incoming_with_video": "incoming", "missed": "incoming",
                       "missed_with_video": "incoming", "outgoing_viber": "outgoing", "outgoing_viber_with_video": "outgoing"}
IOS_LOCATIONS = Variant("ios_locations", {"ZVIBERLOCATION": ("Z_PK",)}, {"ZVIBERLOCATION": ("ZLATITUDE", "ZLONGITUDE")})
SETTINGS_SQL = "SELECT key, value FROM Data WHERE key IN ('_myPhoneNumber', '_myUserName')"

ANDROID_COMMON = {"conversations": ("_id",),
                  "participants": ("_id", "conversation_id", "participant_info_id"),
                  "participants_info": ("_id", "number", "display_name", "contact_name", "participant_type")}
# Read when present: content, flags and the conversation's name, group and (older builds) number.
MESSAGE_OPTIONAL = ("deleted", "extra_mime", "extra_uri", "location_lat", "location_lng", "token")
CONVERSATION_OPTIONAL = ("name", "recipient_number", "group_id")


class Viber(SqliteChatParser):
    name = "viber"
    version = "2"
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
        # `viber_call_type` is the marker that keeps this off Android's own call log (`calls` there too).
        Variant("android_data_calls", {"calls": ("_id", "number", "date", "type", "viber_call_type")},
                optional={"calls": ("canonized_number", "duration")}),
        Variant("ios_contacts_data", {"ZVIBERMESSAGE": IOS_REQUIRED}, {"ZVIBERMESSAGE": IOS_OPTIONAL}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        if variant.name == "android_data_calls":
            yield from self._calls(database, variant, context)
        elif variant.name == "ios_contacts_data":
            yield from self._ios(database, variant, context)
        else:
            yield from self._android(database, variant, context)

    # Android viber_messages -------------------------------------------------------------------------

    def _android(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        conversations = {row["_id"]: row
                         for row in side_read(database.query(variant.select(database, "conversations")), "conversations", context)}
        sql = variant.select(database, "messages", "_id")
        participants = {row["participant_id"]: row for row in side_read(database.query(PARTICIPANTS_SQL), "participants", context)}
        members: dict[int, list[Participant]] = {}
        for row in participants.values():
            if row["participant_type"] != OWNER_TYPE:
                members.setdefault(row["conversation_id"], []).append(_android_person(row))
        infos = side_read(database.query(INFOS_SQL), "participants_info", context)
        owners = [row for row in infos if row["participant_type"] == OWNER_TYPE]
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

    def _calls(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        names: dict[str, str] = {}
        if database.has("phonebookdata", "_id", "contact_id", "data2") and database.has("phonebookcontact", "_id", "display_name"):
            for row in side_read(database.query(PHONEBOOK_SQL), "phonebookdata", context):
                names.setdefault(row["number"], row["display_name"])
        rows = database.query(variant.select(database, "calls", "_id"))
        yield from context.each(rows, "calls", lambda row: self._call(row, names, context), "_id")

    def _call(self, row: sqlite3.Row, names: dict[str, str], context: ParseContext) -> Message:
        row_id = row["_id"]
        stored = text_value(row["number"])
        number = text_value(row["canonized_number"]) or stored
        other = Participant(number, names.get(number)) if number else None
        call_type = row["type"]
        outgoing = call_type == 2
        details = {"call_type": f"{call_type} ({CALL_TYPES.get(call_type, 'unknown')})",
                   "media": f"{row['viber_call_type']} ({CALL_MEDIA.get(row['viber_call_type'], 'unknown')})"}
        if row["duration"] is not None:
            details["duration"] = str(row["duration"])
        if stored != number:
            details["number"] = str(stored)
        return Message(
            source_table="calls", source_row_id=row_id, conversation_id=number, sender=None if outgoing else other,
            recipients=(other,) if outgoing and other else (),
            direction="outgoing" if outgoing else ("incoming" if call_type in (1, 3) else "unknown"),
            sent=context.time(row["date"], unix_ms, table="calls", row_id=row_id, field="date"), sent_raw=_text(row["date"]),
            kind="call", details=details,
        )

    # iOS Contacts.data ------------------------------------------------------------------------------

    def _ios(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        phones: dict[object, object] = {}
        numbers: dict[object, object] = {}  # a number as stored or canonized -> its member
        for row in side_table(database, IOS_PHONES, "ZPHONENUMBER", context, "Z_PK"):
            phones.setdefault(row["ZMEMBER"], row["ZPHONE"])  # a member's first number, by Z_PK
            for number in (row["ZPHONE"], row["ZCANONIZEDPHONENUM"]):
                if number is not None:
                    numbers.setdefault(number, row["ZMEMBER"])
        members = {row["Z_PK"]: _ios_person(row, phones) for row in side_table(database, IOS_MEMBERS, "ZMEMBER", context)}
        conversations = {row["Z_PK"]: row for row in side_table(database, IOS_CONVERSATIONS, "ZCONVERSATION", context)}
        attachments = {row["Z_PK"]: row for row in side_table(database, IOS_ATTACHMENTS, "ZATTACHMENT", context)}
        locations = {row["Z_PK"]: row for row in side_table(database, IOS_LOCATIONS, "ZVIBERLOCATION", context)}
        owner = _ios_owner(context)
        rows = database.query(variant.select(database, "ZVIBERMESSAGE", "Z_PK"))
        yield from context.each(rows, "ZVIBERMESSAGE",
                                lambda row: self._ios_message(row, members, conversations, attachments, locations, owner, context), "Z_PK")
        if database.has("ZRECENT") and not IOS_RECENTS.matches(database):
            context.warn("table_not_read", "ZRECENT lacks Z_PK or ZDATE; its call-log rows are not read", table="ZRECENT")
        lines = {row["Z_PK"]: row["ZPHONENUMBER"] for row in side_table(database, IOS_RECENT_LINES, "ZRECENTSLINE", context)}
        names = {number: members[member].name for number, member in numbers.items() if member in members}
        yield from context.each(side_rows(database, IOS_RECENTS, "ZRECENT", "Z_PK"), "ZRECENT",
                                lambda row: self._ios_call(row, lines, names, owner, context), "Z_PK")

    def _ios_call(self, row: sqlite3.Row, lines: dict[object, object], names: dict[object, str | None], owner: Participant | None,
                  context: ParseContext) -> Message:
        """One call-log row: every ZRECENT row is reported, also those whose call has a ZVIBERMESSAGE bubble (linked in details)."""
        row_id = row["Z_PK"]
        number = text_value(lines.get(row["ZRECENTSLINE"])) if row["ZRECENTSLINE"] is not None else None
        other = Participant(number, names.get(number)) if number else None
        call_type = text_value(row["ZCALLTYPE"])
        direction = IOS_CALL_DIRECTIONS.get(call_type or "", "unknown")
        details = {"call_type": str(call_type)}
        for key, value in (("duration", row["ZDURATION"]), ("call_log_message", row["ZCALLLOGMESSAGE"])):
            if value is not None:
                details[key] = str(value)
        if call_type in IOS_CALL_DIRECTIONS:  # only the documented types say audio or video
            details["media"] = "video" if call_type.endswith("_with_video") else "audio"
        outgoing = direction == "outgoing"
        return Message(
            source_table="ZRECENT", source_row_id=row_id, conversation_id=number,
            sender=owner if outgoing else other, recipients=tuple(p for p in ((other if outgoing else owner),) if p is not None),
            direction=direction, sent=context.time(row["ZDATE"], cocoa_seconds, table="ZRECENT", row_id=row_id, field="ZDATE"),
            sent_raw=_text(row["ZDATE"]), kind="call", account_id=owner.id if owner else None, details=details,
        )

    def _ios_message(self, row: sqlite3.Row, members: dict[object, Participant], conversations: dict[object, sqlite3.Row],
                     attachments: dict[object, sqlite3.Row], locations: dict[object, sqlite3.Row], owner: Participant | None,
                     context: ParseContext) -> Message:
        row_id = row["Z_PK"]
        stored = attachments.get(row["ZATTACHMENT"]) if row["ZATTACHMENT"] is not None else None
        place = locations.get(row["ZLOCATION"]) if row["ZLOCATION"] is not None else None
        state = row["ZSTATE"]
        outgoing = state in IOS_OUTGOING
        conversation = conversations.get(row["ZCONVERSATION"])
        partner = members.get(conversation["ZINTERLOCUTOR"]) if conversation is not None and conversation["ZINTERLOCUTOR"] else None
        writer = members.get(row["ZPHONENUMINDEX"]) if row["ZPHONENUMINDEX"] else partner
        state_date = context.time(row["ZSTATEDATE"], cocoa_seconds, table="ZVIBERMESSAGE", row_id=row_id, field="ZSTATEDATE")
        details = {"state": str(state)}
        for key, value in (("state_date", row["ZSTATEDATE"]), ("system_type", row["ZSYSTEMTYPE"]), ("metadata", row["ZMETADATA"]),
                           ("attachment_type", stored["ZTYPE"] if stored is not None else None)):
            if value not in (None, ""):
                details[key] = str(value)
        if state_date is not None:
            details["state_date_utc_ns"] = str(state_date)
        attachment = (Attachment(file_name=text_value(stored["ZNAME"]), size=stored["ZFILESIZE"])
                      if stored is not None and stored["ZNAME"] else None)
        latitude, longitude = (place["ZLATITUDE"], place["ZLONGITUDE"]) if place is not None else (None, None)
        located = latitude is not None and longitude is not None and (latitude, longitude) != (0, 0)
        return Message(
            source_table="ZVIBERMESSAGE", source_row_id=row_id, conversation_id=_text(row["ZCONVERSATION"]),
            conversation_title=conversation["ZNAME"] or None if conversation is not None else None,
            sender=owner if outgoing else writer,
            recipients=((partner,) if partner else ()) if outgoing else ((owner,) if owner else ()),
            direction="outgoing" if outgoing else ("incoming" if state == "received" else "unknown"),
            sent=context.time(row["ZDATE"], cocoa_seconds, table="ZVIBERMESSAGE", row_id=row_id, field="ZDATE"),
            sent_raw=_text(row["ZDATE"]), body=text_value(row["ZTEXT"]),
            kind="location" if located else ("media" if attachment else ("system" if row["ZSYSTEMTYPE"] else "text")),
            attachments=(attachment,) if attachment else (), latitude=latitude if located else None,
            longitude=longitude if located else None,
            is_deleted=None if row["ZBEINGDELETED"] is None else row["ZBEINGDELETED"] == 1,
            account_id=owner.id if owner else None, details=details,
        )


def _android_person(row: sqlite3.Row) -> Participant:
    return Participant(row["number"], row["contact_name"] or row["display_name"])


def _ios_person(row: sqlite3.Row, phones: dict[object, object]) -> Participant:
    phone = text_value(phones.get(row["Z_PK"]))
    return Participant(phone or f"member:{row['Z_PK']}", text_value(row["ZDISPLAYFULLNAME"] or row["ZNAME"]))


def _ios_owner(context: ParseContext) -> Participant | None:
    """The owner's number and name from the companion Settings.data (absent: outgoing senders stay unknown)."""
    settings = context.companion("*/com.viber/settings/Settings.data")
    if settings is None or not settings.has("Data", "key", "value"):
        return None
    values = {row["key"]: row["value"] for row in side_read(settings.query(SETTINGS_SQL), "Data", context)}
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
