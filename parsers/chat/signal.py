"""Signal messages: Android `signal.db` and iOS `signal.sqlite` (both SQLCipher-encrypted).

Encryption facts (Signal-Android `database/SqlCipherDatabaseHook.java`, read for facts only):
Android opens signal.db with SQLCipher 4, the passphrase being the database secret as hex text
(from the app's keystore-wrapped preferences), `kdf_iter = 1` and `cipher_page_size = 4096`;
some releases also set `cipher_compatibility = 3`. Both are tried. iOS (GRDB) uses a raw 32-byte
key plus a 16-byte salt and `cipher_plaintext_header_size = 32`; a 96-hex-digit key is tried that way.
The key comes from `--app-key signal=HEX` (context.keys["signal"] via `key_name`).

Android schema eras, by the app's own database version (Signal-Android
`database/helpers/migration/V149_LegacyMigrations.kt` (versions 2..149), `V166_ThreadAndMessageForeignKeys.kt`,
`V168_SingleMessageTableMigration.kt`, `V174_ReactionForeignKeyMigration.kt`,
`V185_MessageRecipientsAndEditMessageMigration.kt`, `V200_ResetPniColumn.kt`,
`V201_RecipientTableValidations.kt`, `V215_RemoveAttachmentUniqueId.kt`; the app release of each
version is not confirmed; docs/chat-schema-otherhist.md has the detail):
- up to v165: `sms` (`date` = received, `date_sent`, `address`, `type`) and `mms` (`date` = sent,
  `date_received`, `msg_box` = type, `address`; from v22 `reveal_duration`, 1 = view once). Before
  v24 `address` and `thread.recipient_ids` hold phone numbers or group ids and names live in
  `recipient_preferences` (`recipient_ids`, `system_display_name`, `signal_profile_name`); from v24 they
  hold `recipient._id`. The thread's recipient column is `recipient_ids` until v107,
  `thread_recipient_id` from v108 and `recipient_id` from v166.
- v166/v167: `sms` and `mms` both get `date_sent`, `date_received`, `recipient_id`, `type`; mms `view_once`.
- v168: sms rows are copied into `mms` and `sms` is dropped; v174: `mms` is renamed `message`;
  v185: `recipient_id` is split into `from_recipient_id`/`to_recipient_id` (outgoing rows get the
  owner as sender), and edits arrive: `latest_revision_id`, `original_message_id`, `revision_number`
  (each revision its own row; kept as details, not interpreted).
- `recipient`: `uuid` became `aci` (v200); `phone` became `e164`, `system_display_name` became
  `system_joined_name` and `signal_profile_name` became `profile_given_name` (v201). `part` (`mid`,
  `ct`, `_data`) became `attachment` (`message_id`, `content_type`, `data_file`) in v215.
Every era is read by the variants below; a variant requires only `_id`, `thread_id` (the
conversation), `date_sent` (time), `type` (direction) and `body`, plus a `thread` table (present in
every era); every other column is optional.

Meanings (Signal-Android `MessageTable.kt`, `MessageTypes.java`, `RecipientTable.kt`, `ThreadTable.kt`):
- times are Unix ms. `type & 0x1F` is the base type: 20 inbox; 21 outbox, 22 sending, 23 sent,
  24 sent failed, 25/26 pending fallback (outgoing); 27 draft; calls 1 incoming audio, 2 outgoing
  audio, 3 missed audio, 8 missed video, 10 incoming video, 11 outgoing video, 12 group call; 4..18
  otherwise are service events (joined, profile change, safety number, ...).
- `groups` (`recipient_id`, or before v24 `group_id`, with `title`) names group threads.
- `reaction` (v121 on: `message_id`, `author_id` -> recipient, `emoji`; `is_mms` until v174) is kept
  as details["reactions"] ("author:emoji"), as is the older per-row `reactions` protobuf blob (v37..v120).
- iOS (Signal-iOS `SignalServiceKit/Resources/schema.sql`): `model_TSInteraction` (`id`,
  `uniqueThreadId`, `timestamp` (sent, Unix ms), `receivedAtTimestamp`, `body`,
  `authorPhoneNumber`/`authorUUID` (set on incoming messages), `recipientAddressStates` (set on
  outgoing messages), `wasRemotelyDeleted`, `isViewOnceMessage`); `model_TSThread` (`uniqueId`,
  `contactPhoneNumber`, `contactUUID`, `name`). iOS has no direction column: without the author and
  recipient-state columns the direction is "unknown". The pre-GRDB iOS store (YapDatabase) is not read.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Iterator

from manifests.records import Attachment, Message, Participant, decode_text
from parsers.artefact import Artefact
from parsers.chat._rows import side_read, side_table
from parsers.chat._sqlcipher import read_decrypted
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_ms
from parsers.decode import protobuf
from parsers.sqlite_store import Database

BASE_MASK = 0x1F
INBOX = 20
OUTGOING_BASES = {21, 22, 23, 24, 25, 26, 2, 11}
INCOMING_BASES = {20, 1, 3, 8, 10}
CALL_BASES = {1, 2, 3, 8, 10, 11, 12}
DRAFT = 27
HEX_KEY = re.compile(r"^[0-9A-Fa-f]{16,}$")

RECIPIENT_SQL = "SELECT * FROM recipient"

# The minimum a message is read with: row id, conversation, time, direction (type), body.
MINIMUM = ("_id", "thread_id", "date_sent", "type", "body")
FLAGS = ("date_received", "remote_deleted", "view_once")
FROM_TO = ("from_recipient_id", "to_recipient_id")
# Edit history (v185): each revision is its own row; the columns are kept as details, not interpreted.
REVISIONS = ("latest_revision_id", "original_message_id", "revision_number")
LEGACY_MMS = ("_id", "thread_id", "date AS date_sent", "msg_box AS type", "body")
LEGACY_SMS_OPTIONAL = ("date AS date_received", "address AS recipient_id", "remote_deleted", "view_once", "reactions AS reaction_blob")
LEGACY_MMS_OPTIONAL = ("date_received", "address AS recipient_id", "remote_deleted", "reveal_duration AS view_once",
                       "reactions AS reaction_blob")
# v37..v120 kept reactions in that column as a ReactionList protobuf: repeated Reaction (field 1) of
# emoji (1, string), author (2, recipient id), sentTime (3), receivedTime (4) (signalbackup-tools
# reactionlist.h); v121 moved them to the `reaction` table and cleared the column.
# Every Android era has a `thread` table (its recipient column is optional): it keeps these broad
# variants off other apps' `message`/`sms` tables, which the registry also tries them on.
THREAD = {"thread": ("_id",)}

# Side tables: each layout in the order tried; only declared identifiers reach the SQL.
THREAD_LAYOUTS = (Variant("thread", {"thread": ("_id", "recipient_id")}),                        # v166 on
                  Variant("thread", {"thread": ("_id", "thread_recipient_id AS recipient_id")}),  # v108..v165
                  Variant("thread", {"thread": ("_id", "recipient_ids AS recipient_id")}))        # up to v107
ATTACHMENT_LAYOUTS = (
    Variant("attachment", {"attachment": ("_id", "message_id")},
            {"attachment": ("content_type", "file_name", "data_size", "data_file")}),          # v215 on
    Variant("part", {"part": ("_id", "mid AS message_id")},
            {"part": ("ct AS content_type", "file_name", "data_size", "_data AS data_file")}))  # up to v214
GROUP_LAYOUTS = (Variant("groups", {"groups": ("recipient_id AS owner", "title")}),
                 Variant("groups", {"groups": ("group_id AS owner", "title")}))
PREFERENCES = Variant("recipient_preferences", {"recipient_preferences": ("recipient_ids",)},
                      {"recipient_preferences": ("system_display_name", "signal_profile_name")})
# Reactions (V149 REACTION_REFACTOR, v121): `reaction(message_id, is_mms, author_id, emoji, ...)`; `is_mms`
# says which of sms/mms the id names until v174 dropped it (V174_ReactionForeignKeyMigration).
REACTIONS = Variant("reaction", {"reaction": ("_id", "message_id", "author_id", "emoji")}, {"reaction": ("is_mms",)})
IOS_THREAD = Variant("model_TSThread", {"model_TSThread": ("uniqueId",)},
                     {"model_TSThread": ("contactPhoneNumber", "contactUUID", "name")})


class Signal(SqliteChatParser):
    name = "signal"
    version = "2"
    app = "Signal"
    platform = "Android/iOS"
    key_name = "signal"
    paths = ("*/org.thoughtcrime.securesms/databases/signal.db", "*/grdb/signal.sqlite")
    variants = (
        Variant("android_message_from_to", {"message": MINIMUM + FROM_TO, **THREAD}, {"message": FLAGS + REVISIONS}),  # v185 on
        Variant("android_message_recipient", {"message": MINIMUM + ("recipient_id",), **THREAD}, {"message": FLAGS}),  # v174..v184
        Variant("android_sms_mms_recipient", {"sms": MINIMUM, "mms": MINIMUM, **THREAD},                       # v166, v167
                {"sms": FLAGS + ("recipient_id",), "mms": FLAGS + ("recipient_id",)}),
        Variant("android_mms_recipient", {"mms": MINIMUM, **THREAD}, {"mms": FLAGS + ("recipient_id",)}),       # v168..v173
        Variant("android_sms_mms", {"sms": MINIMUM, "mms": LEGACY_MMS, **THREAD},                              # up to v165
                {"sms": LEGACY_SMS_OPTIONAL, "mms": LEGACY_MMS_OPTIONAL}),
        Variant("ios_grdb", {"model_TSInteraction": ("id", "uniqueThreadId", "timestamp", "body")},
                {"model_TSInteraction": ("receivedAtTimestamp", "authorPhoneNumber", "authorUUID", "recipientAddressStates",
                                         "wasRemotelyDeleted", "isViewOnceMessage")}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        if variant.name == "ios_grdb":
            yield from self._ios(database, variant, context)
            return
        # Before v24 there is no recipient table: addresses are phone numbers or group ids, kept as text.
        by_id = database.has("recipient", "_id")
        people = _recipients(database, context) if by_id else _preferences(database, context)
        _name_groups(database, people, by_id, context)
        threads = _threads(database, by_id, context)
        attachments = _attachments(database, context)
        reactions = _reactions(database, people, by_id, context, split=database.has("sms", "_id") and "sms" in variant.required)
        from_to = variant.name == "android_message_from_to"
        for table in (t for t in variant.required if t != "thread"):
            # Attachments (part.mid) point at mms rows; sms rows never had any.
            files = {} if table == "sms" else attachments
            rows = database.query(variant.select(database, table, order_by="_id"))
            convert = (lambda row, t=table, f=files:  # noqa: E731
                       self._message(row, t, from_to, by_id, people, threads, f, reactions, context))
            yield from context.each(rows, table, convert, "_id")

    def parse_encrypted(self, artefact: Artefact, key: str, context: ParseContext) -> Iterator[Message]:
        key = key.strip()
        if not HEX_KEY.match(key):
            context.warn("bad_key", f"{artefact.path}: the Signal key must be hex digits", severity="error")
            return
        yield from read_decrypted(self, artefact, context, _key_attempts(key), "signal.db")

    def _message(self, row: sqlite3.Row, table: str, from_to: bool, by_id: bool, people: dict[object, Participant],
                 threads: dict[object, object], attachments: dict[int, list[Attachment]],
                 reactions: dict[tuple[str | None, object], list[str]], context: ParseContext) -> Message:
        row_id = row["_id"]
        kind_code = _type_code(row["type"])
        base = kind_code & BASE_MASK if kind_code is not None else None
        direction = _direction(base)
        if from_to:
            sender = _person(people, row["from_recipient_id"], by_id)
            recipients = _people(people, row["to_recipient_id"], by_id)
        else:
            other = _person(people, row["recipient_id"], by_id)
            sender, recipients = (None, (other,) if other else ()) if direction == "outgoing" else (other, ())
        thread_recipient = threads.get(row["thread_id"])
        files = tuple(attachments.get(row_id, ()))
        details = {"type": f"{kind_code} (base {base})"}
        keys = row.keys()
        details.update({c: str(row[c]) for c in REVISIONS if c in keys and row[c] not in (None, 0)})
        found = reactions.get((table, row_id)) or reactions.get((None, row_id)) or []
        if "reaction_blob" in keys and row["reaction_blob"] is not None:
            found = found + _reaction_blob(row["reaction_blob"], people, by_id, table, row_id, context)
        if found:
            details["reactions"] = "; ".join(found)
        sent = context.time(row["date_sent"], unix_ms, table=table, row_id=row_id, field="date_sent")
        received = context.time(row["date_received"], unix_ms, table=table, row_id=row_id, field="date_received")
        return Message(
            source_table=table, source_row_id=row_id, conversation_id=_text(row["thread_id"]),
            conversation_title=people[thread_recipient].name if thread_recipient in people else None,
            sender=sender, recipients=recipients, direction=direction, sent=sent, sent_raw=_text(row["date_sent"]),
            received=None if direction == "outgoing" else received, body=row["body"], kind=_kind(base, files),
            attachments=files, is_deleted=_flag(row["remote_deleted"]), is_view_once=_flag(row["view_once"]),
            details=details,
        )

    def _ios(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        threads = {}
        if IOS_THREAD.matches(database):
            threads = {row["uniqueId"]: row for row in side_table(database, IOS_THREAD, "model_TSThread", context)}

        def convert(row: sqlite3.Row) -> Message:
            row_id = row["id"]
            author = row["authorPhoneNumber"] or row["authorUUID"]
            outgoing = author is None and row["recipientAddressStates"] is not None
            direction = "incoming" if author is not None else ("outgoing" if outgoing else "unknown")
            thread = threads.get(row["uniqueThreadId"])
            title = None
            recipients: tuple[Participant, ...] = ()
            if thread is not None:
                title = thread["name"]
                contact = thread["contactPhoneNumber"] or thread["contactUUID"]
                if outgoing and contact is not None:
                    recipients = (Participant(contact),)
            return Message(
                source_table="model_TSInteraction", source_row_id=row_id, conversation_id=row["uniqueThreadId"],
                conversation_title=title, sender=Participant(author) if author is not None else None, recipients=recipients,
                direction=direction,
                sent=context.time(row["timestamp"], unix_ms, table="model_TSInteraction", row_id=row_id, field="timestamp"),
                sent_raw=_text(row["timestamp"]),
                received=None if outgoing else context.time(row["receivedAtTimestamp"], unix_ms, table="model_TSInteraction",
                                                             row_id=row_id, field="receivedAtTimestamp"),
                body=row["body"], kind="text" if row["body"] is not None else "unknown",
                is_deleted=_flag(row["wasRemotelyDeleted"]), is_view_once=_flag(row["isViewOnceMessage"]),
            )

        rows = database.query(variant.select(database, "model_TSInteraction", order_by="id"))
        yield from context.each(rows, "model_TSInteraction", convert, "id")


def _direction(base: int | None) -> str:
    if base in OUTGOING_BASES:
        return "outgoing"
    if base in INCOMING_BASES:
        return "incoming"
    return "unknown"


def _kind(base: int | None, files: tuple[Attachment, ...]) -> str:
    if base in CALL_BASES:
        return "call"
    if base is not None and base < INBOX:
        return "system"
    return "media" if files else "text"


def _type_code(value: object) -> int | None:
    """The `type`/`msg_box` bit field; digits stored as text are read as the number, anything else is a bad row."""
    if value is None or isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    raise ValueError(f"type {value!r} is not an integer")


def _flag(value: object) -> bool | None:
    return None if value is None else bool(value)


def _key(value: object, by_id: bool) -> object:
    """A recipient reference: a `recipient._id` (int; text digits too) from v24 on, else the address text itself."""
    if by_id and isinstance(value, str) and value.isdigit():
        return int(value)
    if not by_id and value is not None and not isinstance(value, str):
        return str(value)
    return value


def _pick(row: sqlite3.Row, keys: set[str], *names: str) -> object:
    """The first of `names` the row has (its column names are `keys`) holding a value other than NULL or ''."""
    return next((row[n] for n in names if n in keys and row[n] not in (None, "")), None)


def _recipients(database: Database, context: ParseContext) -> dict[object, Participant]:
    """recipient _id -> Participant(phone, uuid, group id or the row id; the best name the row has)."""
    people: dict[object, Participant] = {}
    for row in side_read(database.query(RECIPIENT_SQL), "recipient", context):
        keys = set(row.keys())
        identifier = _pick(row, keys, "e164", "phone", "aci", "uuid", "group_id")
        name = _pick(row, keys, "system_joined_name", "system_display_name", "profile_joined_name", "profile_given_name",
                     "signal_profile_name")
        people[row["_id"]] = Participant(str(identifier) if identifier is not None else f"recipient:{row['_id']}",
                                         str(name) if name is not None else None)
    return people


def _preferences(database: Database, context: ParseContext) -> dict[object, Participant]:
    """Before v24: address (phone or group id) -> Participant with the name recipient_preferences holds."""
    people: dict[object, Participant] = {}
    if not PREFERENCES.matches(database):
        return people
    for row in side_table(database, PREFERENCES, "recipient_preferences", context):
        address = row["recipient_ids"]
        if address in (None, ""):
            continue
        name = row["system_display_name"] or row["signal_profile_name"]
        people[str(address)] = Participant(str(address), str(name) if name else None)
    return people


def _name_groups(database: Database, people: dict[object, Participant], by_id: bool, context: ParseContext) -> None:
    """Group threads are titled from `groups`: keyed by recipient_id (v24 on) or by group_id (before)."""
    layout = GROUP_LAYOUTS[0] if by_id else GROUP_LAYOUTS[1]
    if not layout.matches(database):
        return
    for row in side_table(database, layout, "groups", context):
        owner = _key(row["owner"], by_id)
        if row["title"] is None or owner is None:
            continue
        identifier = people[owner].id if owner in people else (str(owner) if not by_id else f"recipient:{owner}")
        people[owner] = Participant(identifier, row["title"])


def _threads(database: Database, by_id: bool, context: ParseContext) -> dict[object, object]:
    """thread _id -> its recipient, from whichever thread layout the store has; empty without a thread table."""
    for layout in THREAD_LAYOUTS:
        if layout.matches(database):
            return {row["_id"]: _key(row["recipient_id"], by_id) for row in side_table(database, layout, "thread", context)}
    return {}


def _reactions(database: Database, people: dict[object, Participant], by_id: bool, context: ParseContext,
               split: bool) -> dict[tuple[str | None, object], list[str]]:
    """(table or None, message id) -> "author:emoji" in row order. `split`: the store still has sms and mms,
    so `is_mms` says which table an id belongs to; otherwise ids name rows of the one message table."""
    found: dict[tuple[str | None, object], list[str]] = {}
    if not REACTIONS.matches(database):
        return found
    for row in side_table(database, REACTIONS, "reaction", context, "message_id, _id"):
        table = ("mms" if row["is_mms"] else "sms") if split and row["is_mms"] is not None else None
        author = _person(people, row["author_id"], by_id)
        found.setdefault((table, row["message_id"]), []).append(f"{author.id if author else None}:{row['emoji']}")
    return found


def _reaction_blob(blob: object, people: dict[object, Participant], by_id: bool, table: str, row_id: int,
                   context: ParseContext) -> list[str]:
    """"author:emoji" for each reaction of a pre-v121 ReactionList blob; a malformed blob is a bad_blob warning."""
    try:
        if not isinstance(blob, bytes):
            raise protobuf.ProtobufError(f"{type(blob).__name__}, not a blob")
        found = []
        for item in protobuf.parse(blob):
            if item.number != 1 or not isinstance(item.value, bytes):
                continue
            fields = protobuf.parse(item.value)
            emoji, author = protobuf.first(fields, 1), protobuf.first(fields, 2)
            who = _person(people, author.value, by_id) if author is not None and isinstance(author.value, int) else None
            text = decode_text(emoji.value) if emoji is not None and isinstance(emoji.value, bytes) else None
            found.append(f"{who.id if who else None}:{text}")
        return found
    except protobuf.ProtobufError as error:
        context.warn("bad_blob", f"reactions: {error}", table=table, row_id=row_id, field="reactions")
        return []


def _attachments(database: Database, context: ParseContext) -> dict[int, list[Attachment]]:
    found: dict[int, list[Attachment]] = {}
    layout = next((layout for layout in ATTACHMENT_LAYOUTS if layout.matches(database)), None)
    if layout is None:
        return found
    table = next(iter(layout.required))
    for row in side_table(database, layout, table, context, "message_id, _id"):
        size = row["data_size"]
        found.setdefault(row["message_id"], []).append(Attachment(
            file_name=row["file_name"], mime_type=row["content_type"], size=size if isinstance(size, int) else None,
            local_path=row["data_file"]))
    return found


def _person(people: dict[object, Participant], reference: object, by_id: bool) -> Participant | None:
    key = _key(reference, by_id)
    if key is None or key == "":
        return None
    if key in people:
        return people[key]
    return Participant(f"recipient:{key}" if by_id else str(key))


def _people(people: dict[object, Participant], reference: object, by_id: bool) -> tuple[Participant, ...]:
    person = _person(people, reference, by_id)
    return (person,) if person is not None else ()


def _text(value: object) -> str | None:
    return None if value is None else str(value)


# --- SQLCipher ---------------------------------------------------------------------------------

def _key_attempts(key: str) -> list[tuple[str, list[str]]]:
    """(label, PRAGMA statements) to try, most likely first. The key is checked to be hex before use."""
    android = [f"PRAGMA key = '{key}'", "PRAGMA kdf_iter = 1", "PRAGMA cipher_page_size = 4096"]
    attempts = [("android sqlcipher4 passphrase", android),
                ("android sqlcipher3-compatible passphrase", [android[0], "PRAGMA cipher_compatibility = 3"] + android[1:]),
                ("raw key", [f"PRAGMA key = \"x'{key}'\""])]
    if len(key) == 96:
        attempts.append(("ios raw key + salt, plaintext header", [f"PRAGMA key = \"x'{key}'\"", "PRAGMA cipher_plaintext_header_size = 32"]))
    return attempts


PARSER = Signal()
