"""Signal messages: Android `signal.db` and iOS `signal.sqlite` (both SQLCipher-encrypted).

Encryption facts (Signal-Android `database/SqlCipherDatabaseHook.java`, read for facts only):
Android opens signal.db with SQLCipher 4, the passphrase being the database secret as hex text
(from the app's keystore-wrapped preferences), `kdf_iter = 1` and `cipher_page_size = 4096`;
some releases also set `cipher_compatibility = 3`. Both are tried. iOS (GRDB) uses a raw 32-byte
key plus a 16-byte salt and `cipher_plaintext_header_size = 32`; a 96-hex-digit key is tried that way.
The key comes from `--app-key signal=HEX` (context.keys["signal"] via `key_name`).

Schema facts (Signal-Android `database/MessageTable.kt`, `MessageTypes.java`, `RecipientTable.kt`,
`ThreadTable.kt`, `AttachmentTable.kt`; Signal-iOS `SignalServiceKit/Resources/schema.sql`):
- Android since 2023: `message` (`_id`, `date_sent`, `date_received`, `date_server` in Unix ms,
  `thread_id`, `from_recipient_id`, `to_recipient_id`, `type`, `body`, `read`, `remote_deleted`,
  `view_once`); early 2023 used one `recipient_id` (the other party) instead of from/to. Before
  that, `sms` (`date` = received, `date_sent`, `address` = recipient id, `type`) and `mms`
  (`date` = sent, `date_received`, `msg_box` = type, `address`).
- `type & 0x1F` is the base type: 20 inbox; 21 outbox, 22 sending, 23 sent, 24 sent failed,
  25/26 pending fallback (outgoing); 27 draft; calls 1 incoming audio, 2 outgoing audio, 3 missed
  audio, 8 missed video, 10 incoming video, 11 outgoing video, 12 group call; 4..18 otherwise are
  service events (joined, profile change, safety number, ...).
- `recipient` (`_id`, `e164` or older `phone`, `aci` or older `uuid`, `group_id`,
  `system_joined_name`/`system_display_name`, `profile_joined_name`); `thread` (`_id`,
  `recipient_id`); `groups` (`recipient_id`, `title`); `attachment` (`message_id`, `content_type`,
  `file_name`, `data_size`, `data_file`) or older `part` (`mid`, `ct`, `file_name`, `data_size`, `_data`).
- iOS: `model_TSInteraction` (`id`, `uniqueThreadId`, `timestamp` (sent, Unix ms),
  `receivedAtTimestamp`, `body`, `authorPhoneNumber`/`authorUUID` (set on incoming messages),
  `recipientAddressStates` (set on outgoing messages), `wasRemotelyDeleted`, `isViewOnceMessage`);
  `model_TSThread` (`uniqueId`, `contactPhoneNumber`, `contactUUID`, `name`).
"""

from __future__ import annotations

import re
import sqlite3
from typing import Any, Iterator

from manifests.records import Attachment, Message, Participant, decode_text
from parsers.artefact import Artefact
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_ms
from parsers.sqlite_store import PROGRESS_STEPS, Database, QueryBudget, stream

BASE_MASK = 0x1F
INBOX = 20
OUTGOING_BASES = {21, 22, 23, 24, 25, 26, 2, 11}
INCOMING_BASES = {20, 1, 3, 8, 10}
CALL_BASES = {1, 2, 3, 8, 10, 11, 12}
DRAFT = 27
HEX_KEY = re.compile(r"^[0-9A-Fa-f]{16,}$")

MESSAGE_V2_SQL = ("SELECT _id, thread_id, date_sent, date_received, from_recipient_id, to_recipient_id, type, body, "
                  "remote_deleted, view_once FROM message ORDER BY _id")
MESSAGE_V1_SQL = ("SELECT _id, thread_id, date_sent, date_received, recipient_id, type, body, remote_deleted, view_once "
                  "FROM message ORDER BY _id")
SMS_SQL = "SELECT _id, thread_id, date, date_sent, address, type, body FROM sms ORDER BY _id"
MMS_SQL = "SELECT _id, thread_id, date, date_received, address, msg_box, body FROM mms ORDER BY _id"
RECIPIENT_SQL = "SELECT * FROM recipient"
THREAD_SQL = "SELECT _id, recipient_id FROM thread"
GROUPS_SQL = "SELECT recipient_id, title FROM groups"
ATTACHMENT_SQL = "SELECT message_id, content_type, file_name, data_size, data_file FROM attachment ORDER BY message_id, _id"
PART_SQL = "SELECT mid, ct, file_name, data_size, _data FROM part ORDER BY mid, _id"
IOS_SQL = ("SELECT id, uniqueThreadId, timestamp, receivedAtTimestamp, body, authorPhoneNumber, authorUUID, "
           "recipientAddressStates, wasRemotelyDeleted, isViewOnceMessage FROM model_TSInteraction ORDER BY id")
IOS_THREAD_SQL = "SELECT uniqueId, contactPhoneNumber, contactUUID, name FROM model_TSThread"
TABLES_SQL = "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"
COLUMNS_SQL = "SELECT name FROM pragma_table_info(?)"

COMMON = ("_id", "thread_id", "date_sent", "date_received", "type", "body", "remote_deleted", "view_once")


class Signal(SqliteChatParser):
    name = "signal"
    version = "1"
    app = "Signal"
    platform = "Android/iOS"
    key_name = "signal"
    paths = ("*/org.thoughtcrime.securesms/databases/signal.db", "*/grdb/signal.sqlite")
    variants = (
        Variant("android_message_from_to", {"message": COMMON + ("from_recipient_id", "to_recipient_id"),
                                            "thread": ("_id", "recipient_id"), "recipient": ("_id",)}),
        Variant("android_message_recipient", {"message": COMMON + ("recipient_id",),
                                              "thread": ("_id", "recipient_id"), "recipient": ("_id",)}),
        Variant("android_sms_mms", {"sms": ("_id", "thread_id", "date", "date_sent", "address", "type", "body"),
                                    "mms": ("_id", "thread_id", "date", "date_received", "address", "msg_box", "body"),
                                    "thread": ("_id", "recipient_id"), "recipient": ("_id",)}),
        Variant("ios_grdb", {"model_TSInteraction": ("id", "uniqueThreadId", "timestamp", "receivedAtTimestamp", "body",
                                                     "authorPhoneNumber", "authorUUID", "recipientAddressStates",
                                                     "wasRemotelyDeleted", "isViewOnceMessage"),
                             "model_TSThread": ("uniqueId", "contactPhoneNumber", "contactUUID", "name")}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        if variant.name == "ios_grdb":
            yield from self._ios(database, context)
            return
        people = _recipients(database)
        threads = {row["_id"]: row["recipient_id"] for row in database.query(THREAD_SQL)}
        if database.has("groups", "recipient_id", "title"):
            for row in database.query(GROUPS_SQL):
                if row["recipient_id"] in people and row["title"] is not None:
                    people[row["recipient_id"]] = Participant(people[row["recipient_id"]].id, row["title"])
        attachments = _attachments(database)
        if variant.name == "android_sms_mms":
            yield from context.each(database.query(SMS_SQL), "sms", lambda r: self._legacy(r, "sms", people, threads, {}, context), "_id")
            yield from context.each(database.query(MMS_SQL), "mms", lambda r: self._legacy(r, "mms", people, threads, attachments, context), "_id")
            return
        sql = MESSAGE_V2_SQL if variant.name == "android_message_from_to" else MESSAGE_V1_SQL
        yield from context.each(database.query(sql), "message", lambda r: self._message(r, people, threads, attachments, context), "_id")

    def parse_encrypted(self, artefact: Artefact, key: str, context: ParseContext) -> Iterator[Message]:
        database = _open_encrypted(artefact, key, context)
        if database is None:
            return
        import sqlcipher3

        try:
            variant = self.match(database)
            if variant is None:
                context.warn("schema_unrecognised", f"{artefact.path}: decrypted, but no known Signal schema variant matches "
                             f"(tables: {', '.join(sorted(database.tables))})")
                return
            yield from self.parse(database, variant, context)
        except sqlcipher3.DatabaseError as error:
            context.warn("parse_stopped", f"{artefact.path}: reading the decrypted copy stopped: {error}", severity="error")
        finally:
            database.connection.close()

    def _message(self, row: sqlite3.Row, people: dict[int, Participant], threads: dict[int, int],
                 attachments: dict[int, list[Attachment]], context: ParseContext) -> Message:
        row_id = row["_id"]
        kind_code = row["type"]
        base = kind_code & BASE_MASK
        direction = _direction(base)
        keys = row.keys()
        if "from_recipient_id" in keys:
            sender = _person(people, row["from_recipient_id"])
            recipients = _people(people, row["to_recipient_id"])
        else:
            other = _person(people, row["recipient_id"])
            sender, recipients = (None, _people(people, row["recipient_id"])) if direction == "outgoing" else (other, ())
        thread_recipient = threads.get(row["thread_id"])
        files = tuple(attachments.get(row_id, ()))
        sent = context.time(row["date_sent"], unix_ms, table="message", row_id=row_id, field="date_sent")
        received = context.time(row["date_received"], unix_ms, table="message", row_id=row_id, field="date_received")
        return Message(
            source_table="message", source_row_id=row_id, conversation_id=_text(row["thread_id"]),
            conversation_title=people[thread_recipient].name if thread_recipient in people else None,
            sender=sender, recipients=recipients, direction=direction, sent=sent, sent_raw=_text(row["date_sent"]),
            received=None if direction == "outgoing" else received, body=row["body"], kind=_kind(base, files),
            attachments=files, is_deleted=bool(row["remote_deleted"]) if row["remote_deleted"] is not None else None,
            is_view_once=bool(row["view_once"]) if row["view_once"] is not None else None,
            details={"type": f"{kind_code} (base {base})"},
        )

    def _legacy(self, row: sqlite3.Row, table: str, people: dict[int, Participant], threads: dict[int, int],
                attachments: dict[int, list[Attachment]], context: ParseContext) -> Message:
        row_id = row["_id"]
        kind_code = row["type"] if table == "sms" else row["msg_box"]
        base = kind_code & BASE_MASK
        direction = _direction(base)
        sent_field, received_field = ("date_sent", "date") if table == "sms" else ("date", "date_received")
        other = _person(people, row["address"])
        files = tuple(attachments.get(row_id, ())) if table == "mms" else ()
        thread_recipient = threads.get(row["thread_id"])
        received = context.time(row[received_field], unix_ms, table=table, row_id=row_id, field=received_field)
        return Message(
            source_table=table, source_row_id=row_id, conversation_id=_text(row["thread_id"]),
            conversation_title=people[thread_recipient].name if thread_recipient in people else None,
            sender=None if direction == "outgoing" else other,
            recipients=(other,) if direction == "outgoing" and other is not None else (), direction=direction,
            sent=context.time(row[sent_field], unix_ms, table=table, row_id=row_id, field=sent_field),
            sent_raw=_text(row[sent_field]), received=None if direction == "outgoing" else received,
            body=row["body"], kind=_kind(base, files), attachments=files, details={"type": f"{kind_code} (base {base})"},
        )

    def _ios(self, database: Database, context: ParseContext) -> Iterator[Message]:
        threads = {row["uniqueId"]: row for row in database.query(IOS_THREAD_SQL)}

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
                is_deleted=None if row["wasRemotelyDeleted"] is None else bool(row["wasRemotelyDeleted"]),
                is_view_once=None if row["isViewOnceMessage"] is None else bool(row["isViewOnceMessage"]),
            )

        yield from context.each(database.query(IOS_SQL), "model_TSInteraction", convert, "id")


def _direction(base: int) -> str:
    if base in OUTGOING_BASES:
        return "outgoing"
    if base in INCOMING_BASES:
        return "incoming"
    return "unknown"


def _kind(base: int, files: tuple[Attachment, ...]) -> str:
    if base in CALL_BASES:
        return "call"
    if base < INBOX:
        return "system"
    return "media" if files else "text"


def _recipients(database: Database) -> dict[int, Participant]:
    """recipient _id -> Participant(phone, uuid, group id or the row id; the best name the row has)."""
    people: dict[int, Participant] = {}
    for row in database.query(RECIPIENT_SQL):
        keys = set(row.keys())

        def pick(*names: str) -> object:
            return next((row[n] for n in names if n in keys and row[n] not in (None, "")), None)

        identifier = pick("e164", "phone", "aci", "uuid", "group_id")
        name = pick("system_joined_name", "system_display_name", "profile_joined_name", "signal_profile_name")
        people[row["_id"]] = Participant(str(identifier) if identifier is not None else f"recipient:{row['_id']}",
                                         str(name) if name is not None else None)
    return people


def _attachments(database: Database) -> dict[int, list[Attachment]]:
    found: dict[int, list[Attachment]] = {}
    if database.has("attachment", "message_id", "content_type", "file_name", "data_size", "data_file"):
        rows, key, mime, path = database.query(ATTACHMENT_SQL), "message_id", "content_type", "data_file"
    elif database.has("part", "mid", "ct", "file_name", "data_size", "_data"):
        rows, key, mime, path = database.query(PART_SQL), "mid", "ct", "_data"
    else:
        return found
    for row in rows:
        found.setdefault(row[key], []).append(Attachment(file_name=row["file_name"], mime_type=row[mime],
                                                         size=row["data_size"], local_path=row[path]))
    return found


def _person(people: dict[int, Participant], recipient_id: object) -> Participant | None:
    if recipient_id is None:
        return None
    return people.get(recipient_id, Participant(f"recipient:{recipient_id}"))  # type: ignore[arg-type]


def _people(people: dict[int, Participant], recipient_id: object) -> tuple[Participant, ...]:
    person = _person(people, recipient_id)
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


def _open_encrypted(artefact: Artefact, key: str, context: ParseContext) -> Database | None:
    """A decrypted view of a scratch copy (with its -wal), or None with a warning saying why."""
    try:
        import sqlcipher3
    except ImportError:
        context.warn("sqlcipher_missing", f"{artefact.path}: the sqlcipher3 module is not installed; cannot decrypt", severity="error")
        return None
    key = key.strip()
    if not HEX_KEY.match(key):
        context.warn("bad_key", f"{artefact.path}: the Signal key must be hex digits", severity="error")
        return None
    folder = context.scratch / "signal"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "signal.db"
    artefact.copy_to(target)
    for suffix in (b"-wal", b"-journal"):
        sibling = context.catalog.sibling(artefact, suffix)
        if sibling is not None:
            sibling.copy_to(folder / ("signal.db" + suffix.decode()))
    # A wrong key fails on the first read and writes nothing, so one copy serves every attempt.
    budget = QueryBudget(context.limits, interrupted=(sqlcipher3.OperationalError,))
    for _label, pragmas in _key_attempts(key):
        connection = sqlcipher3.connect(str(target), isolation_level=None, check_same_thread=False)
        connection.set_progress_handler(budget.on_progress, PROGRESS_STEPS)
        try:
            for pragma in pragmas:
                connection.execute(pragma)
            tables = _tables(connection, budget)
        except sqlcipher3.DatabaseError:
            connection.close()
            continue
        connection.text_factory = decode_text
        connection.row_factory = sqlcipher3.Row
        return Database(artefact=artefact, connection=connection, main_only=None, tables=tables, budget=budget)  # type: ignore[arg-type]
    context.warn("encrypted_bad_key", f"{artefact.path}: the supplied Signal key did not open the database with any known setting",
                 severity="error")
    return None


def _tables(connection: Any, budget: QueryBudget) -> dict[str, frozenset[str]]:
    """Table -> column names of a sqlcipher3 connection (the same query the framework runs on sqlite3)."""
    names = [row[0] for row in stream(connection, budget, TABLES_SQL)]
    return {str(n).lower(): frozenset(str(c[0]).lower() for c in stream(connection, budget, COLUMNS_SQL, (n,))) for n in names}


PARSER = Signal()
