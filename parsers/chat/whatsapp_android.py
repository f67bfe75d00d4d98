"""WhatsApp for Android: msgstore.db, legacy `messages` schema and the current `message` schema.

Schema facts (read from the corpus databases' own DDL and for meanings from IPED's WhatsApp parser,
github.com/sepinf-inc/IPED iped-parsers .../whatsapp/ExtractorAndroid*.java, and ALEAPP
scripts/artifacts/whatsApp.py; facts only, in our own words):
- Legacy `messages` (until about 2021): `_id`, `key_remote_jid` (the chat: a person
  `NUMBER@s.whatsapp.net`, a group `...@g.us`, `status@broadcast` for Status posts), `key_from_me`
  (1 sent by the owner), `key_id` (message id), `status` (6 = a control/system row; 0 received;
  4/5/13 sent, on server, delivered/read), `data` (text, or a vCard for contact messages), `timestamp`
  (Unix ms, the sender's time), `received_timestamp` (Unix ms, stored on this phone),
  `media_wa_type` (TEXT: 0 text, 1 image, 2 audio, 3 video, 4 contact, 5 location, 8 call,
  9 document, 13 GIF, 14 contacts, 15 revoked, 16 live location, 20 sticker), `media_mime_type`,
  `media_size` (bytes; for status-6 rows the system action code instead), `media_name`,
  `media_caption`, `media_duration` (seconds; a call's length for type 8), `latitude`/`longitude`,
  `remote_resource` (the group member who sent it; for system rows the member it is about).
- Current schema (2021 onwards): `message` (`_id`, `chat_row_id` -> `chat._id`, `from_me`,
  `key_id`, `sender_jid_row_id` -> `jid._id` in groups, `status`, `timestamp` and
  `received_timestamp` in Unix ms, `message_type` with the same numbering plus 7 system,
  42/43 view-once image/video, `text_data` (text or caption), `starred`); `chat` (`_id`,
  `jid_row_id`, `subject` = group name); `jid` (`_id`, `raw_string`); `message_media`
  (`message_row_id`, `file_path` relative to the WhatsApp folder, e.g. "Media/WhatsApp Images/...",
  `file_size`, `mime_type`, `media_name`); `message_location` (`message_row_id`, `latitude`,
  `longitude`, `place_name`).
- Reactions: `message_add_on` (`_id`, `parent_message_row_id`, `sender_jid_row_id`, `from_me`) with
  `message_add_on_reaction` (`message_add_on_row_id`, `reaction`; '' = taken back); edits:
  `message_edit_info` (`message_row_id`, `edited_timestamp`, unit not confirmed: kept as stored).
- LID jids (`<id>@lid`): `jid_map` (`lid_row_id` -> `jid_row_id` of the phone jid) and
  `lid_display_name` (`lid_row_id`, `display_name`); the stored lid jid stays the id, the phone jid is a detail.
- Names: wa.db `wa_contacts` (`jid`, `display_name` = address-book name, `wa_name` = the name the
  contact set in WhatsApp), found as a companion (`*/com.whatsapp/databases/wa.db`, else `*wa.db`).

Schema history (docs/chat-schema-otherhist.md): the app's own upgrade code adds media_caption,
media_duration, starred, quoted_row_id, forwarded and more to `messages` by ALTER TABLE, so older stores
lack them; key_id, status and media_* were in the oldest DDL found. Every variant therefore requires
only what a message needs (row id, chat, direction, time, body): `messages(_id, key_remote_jid,
key_from_me, timestamp, data)` or `message(_id, chat_row_id, from_me, timestamp, text_data)`; every
other column, and the `chat`/`jid` tables, are read when present and NULL when absent.

Decisions (documented, tested):
- Placeholder row: the app creates every msgstore with one row that is no one's message. In
  `messages` it is _id 1 with key_remote_jid and key_id "-1", key_from_me 0, status -1,
  media_wa_type "-1", media_size -1, timestamp 0 and received_timestamp -1 (every corpus sample);
  in `message` it is _id 1 with chat_row_id -1 (no chat row has that id), key_id "-1", from_me 0,
  sort_id 0 and no text or times. It is a schema artefact, not evidence of a message, so it is not
  a message row; it is counted instead in one info row `placeholder_row` (its table and row id),
  so messages + info rows still equal the table's row count. Recognised by key_remote_jid "-1"
  (legacy) or chat_row_id -1 (current), whatever the _id.
- Status-6 legacy rows and message_type 7 are kind "system" with direction "unknown" (key_from_me
  is set on them even for events done by others); media_size is their action code
  (details["system_action"]), never an attachment size. media_wa_type 8 rows are kind "call".
- Transition databases (2021-22) hold BOTH tables; the schema's own delete trigger pairs rows by
  `_id` (`DELETE FROM message WHERE _id=old._id`). The legacy `messages` row is authoritative (the
  app still wrote every column there; in every corpus sample `message` holds only the placeholder).
  A `message` row with a legacy twin is not emitted again (details["also_in"]="message"; a different
  text is a `twin_differs` warning); a `message` row without a twin is emitted from `message`.
- The owner's own jid is not in msgstore.db (it lives in shared_prefs), so outgoing messages have
  no sender; recipients are the other party of a one-to-one chat.
- Legacy media file path: databases before `message_media` keep it only inside `thumb_image`, a Java
  serialised `com.whatsapp.MediaData` object whose `file` field is a `java.io.File`; its `path`
  string (Java serialisation TC_STRING: 0x74, 2-byte big-endian length, modified UTF-8; spec:
  docs.oracle.com/javase/8/docs/platform/serialization/spec/protocol.html) is read by
  `_java_file_path`. A blob naming java.io.File whose path cannot be read is a `bad_blob` warning.
- Legacy `forwarded` is a bit field whose bits are not documented: kept as details, is_forwarded None.
"""

from __future__ import annotations

import posixpath
import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant, decode_text
from parsers.chat._rows import side_read, side_table
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_ms
from parsers.sqlite_store import Database

# The minimum a message is read with (row id, chat, direction, time, body); everything else is optional.
LEGACY_REQUIRED = {"messages": ("_id", "key_remote_jid", "key_from_me", "timestamp", "data")}
CURRENT_REQUIRED = {"message": ("_id", "chat_row_id", "from_me", "timestamp", "text_data")}

MEDIA_TYPES = {1: "image", 2: "audio", 3: "video", 9: "document", 13: "gif", 42: "view-once image", 43: "view-once video"}
KINDS = {0: "text", 4: "contact", 5: "location", 7: "system", 8: "call", 14: "contact", 15: "deleted",
         16: "location", 20: "sticker", **{t: "media" for t in MEDIA_TYPES}}
VIEW_ONCE = {42, 43}
SYSTEM_STATUS = 6
PLACEHOLDER = "-1"
PLACEHOLDER_CHAT = -1
# Chats with no single other party: groups, broadcast lists and Status (`status@broadcast`); an
# outgoing message there gets no recipient rather than the pseudo-jid.
MULTI = ("@g.us", "@broadcast")

# Optional columns: selected when the table has them, NULL when it does not (names from these lists only).
# key_id .. media_name are in the oldest `messages` DDL the app's own upgrade code knows; the rest were
# added later by ALTER TABLE (docs/chat-schema-otherhist.md).
LEGACY_OPTIONAL = {"messages": ("key_id", "status", "media_wa_type", "media_mime_type", "media_size", "media_name",
                                "media_caption", "media_duration", "latitude", "longitude", "remote_resource",
                                "received_timestamp", "starred", "forwarded", "media_url", "thumb_image")}
CURRENT_OPTIONAL = {"message": ("key_id", "sender_jid_row_id", "status", "received_timestamp", "message_type", "starred")}
JAVA_FILE_CLASS = b"\x00\x0cjava.io.File"
JAVA_STRING_AFTER_CLASS = b"xpt"  # end of class description, no superclass, then the path as TC_STRING

# Side tables: the link column is required, the rest optional (NULL when a version lacks it).
CONTACTS = Variant("wa_contacts", {"wa_contacts": ("_id", "jid")}, {"wa_contacts": ("display_name", "wa_name")})
MEDIA = Variant("message_media", {"message_media": ("message_row_id",)},
                {"message_media": ("file_path", "file_size", "mime_type", "media_name")})
# Reactions and edits of the current schema (message_add_on DDL in the code corpus; docs/chat-schema-otherhist.md).
ADD_ON = Variant("message_add_on", {"message_add_on": ("_id", "parent_message_row_id", "sender_jid_row_id", "from_me")})
ADD_ON_REACTION = Variant("message_add_on_reaction", {"message_add_on_reaction": ("message_add_on_row_id", "reaction")})
EDIT_INFO = Variant("message_edit_info", {"message_edit_info": ("message_row_id", "edited_timestamp")})
REACTIONS_SQL = ("SELECT a.parent_message_row_id AS parent, a.sender_jid_row_id AS sender, a.from_me AS from_me, r.reaction AS reaction "
                 "FROM message_add_on a JOIN message_add_on_reaction r ON r.message_add_on_row_id = a._id "
                 "ORDER BY a.parent_message_row_id, a._id")
EDITS_SQL = "SELECT message_row_id, edited_timestamp FROM message_edit_info ORDER BY message_row_id"
# LID jids (`<id>@lid`, not phone numbers): `jid_map(lid_row_id, jid_row_id)` links a lid jid row to the
# phone jid row, `lid_display_name(lid_row_id, display_name)` names it (several tools' copies of the DDL agree).
JID_MAP = Variant("jid_map", {"jid_map": ("lid_row_id", "jid_row_id")})
LID_NAMES = Variant("lid_display_name", {"lid_display_name": ("lid_row_id", "display_name")})
JID_MAP_SQL = "SELECT lid_row_id, jid_row_id FROM jid_map ORDER BY lid_row_id"
LID_NAMES_SQL = "SELECT lid_row_id, display_name FROM lid_display_name ORDER BY lid_row_id"
LOCATION = Variant("message_location", {"message_location": ("message_row_id",)},
                   {"message_location": ("latitude", "longitude", "place_name")})
CHAT_LIST_SQL = "SELECT key_remote_jid, subject FROM chat_list"
CHAT_SQL = "SELECT c._id AS _id, j.raw_string AS jid, c.subject AS subject FROM chat c LEFT JOIN jid j ON j._id = c.jid_row_id"
CHAT_NO_SUBJECT_SQL = "SELECT c._id AS _id, j.raw_string AS jid, NULL AS subject FROM chat c LEFT JOIN jid j ON j._id = c.jid_row_id"
CHAT_BARE_SQL = "SELECT _id, NULL AS jid, NULL AS subject FROM chat"
JID_SQL = "SELECT _id, raw_string FROM jid"
TWIN_SQL = "SELECT data FROM messages WHERE _id = ? LIMIT 1"


class WhatsAppAndroid(SqliteChatParser):
    name = "whatsapp_android"
    version = "2"
    app = "WhatsApp"
    platform = "Android"
    paths = ("*/com.whatsapp/databases/msgstore.db", "*/msgstore.db", "*/com.whatsapp.w4b/databases/msgstore.db")
    variants = (
        Variant("transition", {**LEGACY_REQUIRED, **CURRENT_REQUIRED}, {**LEGACY_OPTIONAL, **CURRENT_OPTIONAL}),
        Variant("legacy", LEGACY_REQUIRED, LEGACY_OPTIONAL),
        Variant("current", CURRENT_REQUIRED, CURRENT_OPTIONAL),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        names = _contact_names(context)
        media = _by_message(database, MEDIA, context)
        places = _by_message(database, LOCATION, context)
        jids = ({row["_id"]: row["raw_string"] for row in side_read(database.query(JID_SQL), "jid", context)}
                if database.has("jid", "_id", "raw_string") else {})
        # Reactions and edits name rows by _id, which a transition store shares between both tables.
        add_ons = _add_ons(database, jids, context)
        if variant.name in ("transition", "legacy"):
            titles = _chat_list_titles(database, context)
            rows = database.query(variant.select(database, "messages", order_by="_id"))
            convert = lambda row: self._legacy(row, names, titles, media, add_ons, context)  # noqa: E731
            yield from context.each(rows, "messages", convert, "_id")
        if variant.name in ("transition", "current"):
            chats = _chats(database, context)
            phones = _lid_phones(database, jids, names, context)
            rows = database.query(variant.select(database, "message", order_by="_id"))
            twins = variant.name == "transition"
            # A placeholder is not skipped as a twin: its own info row says why it is left out.
            fresh = (row for row in rows
                     if row["chat_row_id"] == PLACEHOLDER_CHAT or not (twins and _twin(row, database, context)))
            convert = lambda row: self._current(row, names, chats, jids, phones, media, places, add_ons, context)  # noqa: E731
            yield from context.each(fresh, "message", convert, "_id")

    def _legacy(self, row: sqlite3.Row, names: dict[str, str], titles: dict[str, str], media: dict[int, sqlite3.Row],
                add_ons: dict[int, dict[str, str]], context: ParseContext) -> Message | None:
        row_id = row["_id"]
        if row["key_remote_jid"] == PLACEHOLDER:
            _placeholder("messages", row_id, f"key_remote_jid {PLACEHOLDER!r}", context)
            return None
        chat = row["key_remote_jid"]
        wa_type = _int(row["media_wa_type"])
        system = row["status"] == SYSTEM_STATUS and wa_type != 8
        if system:
            kind = "system"
        elif wa_type is None:  # a store without media_wa_type: media if it names a file, else text
            kind = "media" if row["media_mime_type"] or row["media_url"] else "text"
        else:
            kind = KINDS.get(wa_type, "unknown")
        from_me = row["key_from_me"] == 1
        details = {column: str(row[column]) for column in ("key_id", "status", "media_wa_type") if row[column] is not None}
        _optional_details(row, details, ("starred", "forwarded"))
        details.update(add_ons.get(row_id, {}))
        group_member = _get(row, "remote_resource") or None
        other = Participant(chat, names.get(chat))
        if system:
            direction, sender = "unknown", None
            details["key_from_me"] = str(row["key_from_me"])
            if row["media_size"] is not None:
                details["system_action"] = str(row["media_size"])
            if group_member:
                details["about_member"] = group_member
        elif from_me:
            direction, sender = "outgoing", None
        else:
            direction = "incoming"
            sender = Participant(group_member, names.get(group_member)) if group_member else other
        body = row["data"]
        caption = _get(row, "media_caption")
        if kind == "call" and caption is not None:
            details["call_media"] = caption  # "audio" or "video": the call's kind, not a caption
        elif body is None and caption is not None:
            body = caption
            details["body_from"] = "media_caption"
        attachments: tuple[Attachment, ...] = ()
        if kind in ("media", "sticker", "call") or (kind == "deleted" and row["media_mime_type"]):
            if kind == "call":
                if _get(row, "media_duration") is not None:
                    details["call_duration_s"] = str(row["media_duration"])
            else:
                attachments = (_legacy_attachment(row, media.get(row_id), _thumb_path(row, context)),)
        latitude = longitude = location_name = None
        if kind == "location":
            latitude, longitude = _get(row, "latitude"), _get(row, "longitude")
            location_name = row["media_name"]
        received = None
        if direction == "incoming":
            received = context.time(_get(row, "received_timestamp"), unix_ms, table="messages", row_id=row_id, field="received_timestamp")
        return Message(
            source_table="messages", source_row_id=row_id, conversation_id=chat,
            conversation_title=titles.get(chat) or (names.get(chat) if chat.endswith(MULTI) else None),
            sender=sender, recipients=(other,) if direction == "outgoing" and not chat.endswith(MULTI) else (),
            direction=direction, sent=context.time(row["timestamp"], unix_ms, table="messages", row_id=row_id, field="timestamp"),
            sent_raw=_text(row["timestamp"]), received=received, body=body, kind=kind, attachments=attachments,
            latitude=latitude, longitude=longitude, location_name=location_name,
            is_deleted=True if kind == "deleted" else None, is_edited=True if "edited_timestamp" in details else None,
            details=details,
        )

    def _current(self, row: sqlite3.Row, names: dict[str, str], chats: dict[int, sqlite3.Row], jids: dict[int, str],
                 phones: dict[str, str], media: dict[int, sqlite3.Row], places: dict[int, sqlite3.Row], add_ons: dict[int, dict[str, str]],
                 context: ParseContext) -> Message | None:
        row_id = row["_id"]
        if row["chat_row_id"] == PLACEHOLDER_CHAT:
            _placeholder("message", row_id, f"chat_row_id {PLACEHOLDER_CHAT}", context)
            return None
        chat_row = chats.get(row["chat_row_id"])
        chat = chat_row["jid"] if chat_row is not None else None
        message_type = _get(row, "message_type")
        kind = KINDS.get(message_type, "unknown") if message_type is not None else ("media" if row_id in media else "text")
        from_me = row["from_me"] == 1
        details = {"chat_row_id": str(row["chat_row_id"])}
        _optional_details(row, details, ("key_id", "status", "message_type", "starred"))
        details.update(add_ons.get(row_id, {}))
        member_row = _get(row, "sender_jid_row_id")
        member = jids.get(member_row) if member_row else None
        for key, jid in (("chat_phone_jid", chat), ("sender_phone_jid", member)):
            if jid in phones:
                details[key] = phones[jid]
        other = Participant(chat, names.get(chat)) if chat else None
        is_group = bool(chat and chat.endswith(MULTI))
        if kind == "system":
            direction, sender = "unknown", None
            details["from_me"] = str(row["from_me"])
        elif from_me:
            direction, sender = "outgoing", None
        else:
            direction = "incoming"
            sender = Participant(member, names.get(member)) if member else (None if is_group else other)
        attachments: tuple[Attachment, ...] = ()
        if row_id in media and kind != "location":
            attachments = (_current_attachment(media[row_id]),)
        latitude = longitude = location_name = None
        place = places.get(row_id)
        if place is not None:
            latitude, longitude, location_name = place["latitude"], place["longitude"], place["place_name"]
        received = None
        if direction == "incoming":
            received = context.time(_get(row, "received_timestamp"), unix_ms, table="message", row_id=row_id, field="received_timestamp")
        title = chat_row["subject"] if chat_row is not None else None
        return Message(
            source_table="message", source_row_id=row_id, conversation_id=chat,
            conversation_title=title or (names.get(chat) if is_group and chat else None),
            sender=sender, recipients=(other,) if direction == "outgoing" and other and not is_group else (),
            direction=direction, sent=context.time(row["timestamp"], unix_ms, table="message", row_id=row_id, field="timestamp"),
            sent_raw=_text(row["timestamp"]), received=received, body=row["text_data"], kind=kind, attachments=attachments,
            latitude=latitude, longitude=longitude, location_name=location_name,
            is_deleted=True if kind == "deleted" else None,
            is_view_once=True if message_type in VIEW_ONCE else None,
            is_edited=True if "edited_timestamp" in details else None, details=details,
        )


def _placeholder(table: str, row_id: int, marker: str, context: ParseContext) -> None:
    """The "-1" row WhatsApp creates with every database: left out, and counted in one info row."""
    context.warn("placeholder_row", f"{table} row {row_id} ({marker}) is the placeholder row WhatsApp creates with every "
                 "database, not a message; left out", table=table, row_id=row_id, severity="info")


def _twin(row: sqlite3.Row, database: Database, context: ParseContext) -> bool:
    """True when the legacy table holds the same _id (that row is authoritative); warn if texts differ.

    One lookup per row rather than a map of every legacy row, so memory does not grow with the table.
    """
    legacy = database.first(TWIN_SQL, (row["_id"],))
    if legacy is None:
        return False
    if row["text_data"] is not None and row["text_data"] != legacy["data"]:
        context.warn("twin_differs", "message and messages rows with this _id hold different text; messages is reported",
                     table="message", row_id=row["_id"], field="text_data")
    return True


def _chats(database: Database, context: ParseContext) -> dict[int, sqlite3.Row]:
    """chat _id -> (jid, subject); without a `chat` table (or its jid link) conversations stay unnamed."""
    if not database.has("chat", "_id", "jid_row_id"):
        return {}
    sql = CHAT_SQL if database.has("chat", "subject") and database.has("jid", "_id", "raw_string") else (
        CHAT_NO_SUBJECT_SQL if database.has("jid", "_id", "raw_string") else CHAT_BARE_SQL)
    return {row["_id"]: row for row in side_read(database.query(sql), "chat", context)}


def _add_ons(database: Database, jids: dict[int, str], context: ParseContext) -> dict[int, dict[str, str]]:
    """message _id -> details from its reactions ("jid:emoji", "owner" for the owner's own) and edit record.

    An empty reaction is one taken back (the app clears such rows), so it is left out. The edit time's
    unit is not confirmed, so it is kept as stored.
    """
    extra: dict[int, dict[str, str]] = {}
    if ADD_ON.matches(database) and ADD_ON_REACTION.matches(database):
        found: dict[int, list[str]] = {}
        for row in side_read(database.query(REACTIONS_SQL), "message_add_on_reaction", context):
            if row["reaction"] in (None, ""):
                continue
            who = "owner" if row["from_me"] == 1 else jids.get(row["sender"], f"jid_row:{row['sender']}")
            found.setdefault(row["parent"], []).append(f"{who}:{row['reaction']}")
        for parent, items in found.items():
            extra.setdefault(parent, {})["reactions"] = "; ".join(items)
    if EDIT_INFO.matches(database):
        for row in side_read(database.query(EDITS_SQL), "message_edit_info", context):
            if row["edited_timestamp"] is not None:
                extra.setdefault(row["message_row_id"], {})["edited_timestamp"] = str(row["edited_timestamp"])
    return extra


def _lid_phones(database: Database, jids: dict[int, str], names: dict[str, str], context: ParseContext) -> dict[str, str]:
    """lid jid -> the phone jid jid_map links it to; `names` gains each lid's name (the phone's, else its display name).

    The stored lid jid stays the participant's id; the phone jid is added as a detail, never substituted.
    """
    phones: dict[str, str] = {}
    if JID_MAP.matches(database):
        for row in side_read(database.query(JID_MAP_SQL), "jid_map", context):
            lid, phone = jids.get(row["lid_row_id"]), jids.get(row["jid_row_id"])
            if lid and phone:
                phones[lid] = phone
                if phone in names and lid not in names:
                    names[lid] = names[phone]
    if LID_NAMES.matches(database):
        for row in side_read(database.query(LID_NAMES_SQL), "lid_display_name", context):
            lid = jids.get(row["lid_row_id"])
            if lid and row["display_name"] and lid not in names:
                names[lid] = str(row["display_name"])
    return phones


def _contact_names(context: ParseContext) -> dict[str, str]:
    """jid -> name from wa.db: the address-book name, else the name the contact chose in WhatsApp."""
    database = context.companion("*/com.whatsapp/databases/wa.db") or context.companion("*wa.db")
    names: dict[str, str] = {}
    if database is None or not CONTACTS.matches(database):
        return names
    for row in side_table(database, CONTACTS, "wa_contacts", context, "_id"):
        name = row["display_name"] or row["wa_name"]
        if row["jid"] and name and row["jid"] not in names:
            names[row["jid"]] = name
    return names


def _chat_list_titles(database: Database, context: ParseContext) -> dict[str, str]:
    if not database.has("chat_list", "key_remote_jid", "subject"):
        return {}
    rows = side_read(database.query(CHAT_LIST_SQL), "chat_list", context)
    return {row["key_remote_jid"]: row["subject"] for row in rows if row["subject"]}


def _by_message(database: Database, layout: Variant, context: ParseContext) -> dict[int, sqlite3.Row]:
    """message _id -> its row in a side table (message_media, message_location); empty when the table is absent."""
    if not layout.matches(database):
        return {}
    return {row["message_row_id"]: row for row in side_table(database, layout, layout.name, context)}


def _legacy_attachment(row: sqlite3.Row, media: sqlite3.Row | None, thumb_path: str | None) -> Attachment:
    """Legacy columns; the file path from message_media when a transition database has it, else thumb_image."""
    path = media["file_path"] if media is not None and media["file_path"] else thumb_path
    name = row["media_name"] or (posixpath.basename(path) if path else None)
    return Attachment(file_name=name, mime_type=row["media_mime_type"] or (media["mime_type"] if media is not None else None),
                      size=row["media_size"] if isinstance(row["media_size"], int) else None, local_path=path)


def _thumb_path(row: sqlite3.Row, context: ParseContext) -> str | None:
    blob = _get(row, "thumb_image")
    if not isinstance(blob, bytes) or JAVA_FILE_CLASS not in blob:
        return None  # absent, or an old-style thumbnail picture: no path stored
    path = _java_file_path(blob)
    if path is None:
        context.warn("bad_blob", "thumb_image names java.io.File but its path could not be read", table="messages",
                     row_id=row["_id"], field="thumb_image")
    return path


def _java_file_path(blob: bytes) -> str | None:
    """The `path` of the first java.io.File in a Java-serialised blob, or None when it is not laid out as expected."""
    start = blob.find(JAVA_FILE_CLASS)
    marker = blob.find(JAVA_STRING_AFTER_CLASS, start, start + 120)
    if start < 0 or marker < 0 or marker + 5 > len(blob):
        return None
    length = int.from_bytes(blob[marker + 3:marker + 5], "big")
    data = blob[marker + 5:marker + 5 + length]
    if len(data) != length:
        return None
    return decode_text(data)


def _current_attachment(media: sqlite3.Row) -> Attachment:
    path = media["file_path"]
    return Attachment(file_name=media["media_name"] or (posixpath.basename(path) if path else None), mime_type=media["mime_type"],
                      size=media["file_size"], local_path=path)


def _optional_details(row: sqlite3.Row, details: dict[str, str], columns: tuple[str, ...]) -> None:
    for column in columns:
        value = _get(row, column)
        if value not in (None, 0, ""):
            details[column] = str(value)


def _get(row: sqlite3.Row, column: str) -> object:
    return row[column] if column in row.keys() else None


def _int(value: object) -> int | None:
    """media_wa_type is declared TEXT: '1' and 1 both occur."""
    if value is None or value == "":
        return None
    return int(value)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


PARSER = WhatsAppAndroid()
