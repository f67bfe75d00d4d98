"""Telegram iOS Postbox db_sqlite: messages from t7, names from t2 (no corpus sample: fixtures built here).

Facts used, all from TelegramMessenger/Telegram-iOS `submodules/Postbox/Sources/` (values follow
MessageHistoryTable.swift at commit 008c4daa111aa2f043a667c4e7d3b0555202de4f; the app version of
that commit was not established):
- SqliteValueBox.swift: tables `t<id>` (`key`, `value`), listed in `__meta_tables (name, keyType)`;
  binary keys `key BLOB` (older: plain column + index; current: `key BLOB PRIMARY KEY`), int64
  keys `key INTEGER PRIMARY KEY`. Postbox.swift: message history = t7, peers = t2.
- MessageHistoryTable.swift / ValueBoxKey.swift: key = peer id int64, namespace int32, timestamp
  int32, id int32, big-endian; value = type, stableId, stableVersion, dataFlags (+ flagged fields),
  flags, tags, forward info, author, text, attributes, embedded media, referenced media, custom
  tags, written little-endian (native iOS order). Message.swift: Incoming flag = 4.
- Coding.swift: PostboxEncoder root object "_" / type 5 / MurmurHash3-x86-32 type hash of the
  class name (seed -137723950, MurMurHash32.m) / length / fields; TelegramCore peers: user "fn",
  "ln"; group and channel "t".
The fixtures below are serialised with this module's own writer following those facts.
"""

from __future__ import annotations

import struct
from pathlib import Path

from manifests.records import Message, Participant
from parsers.chat.telegram_ios import murmur3_32, type_hash
from tests.chat.helpers import assert_no_warnings, build_database, parse_files

LOGICAL = b"/private/var/mobile/Containers/Shared/AppGroup/X/telegram-data/account-123/postbox/db/db_sqlite"
CURRENT_SCHEMA = """
CREATE TABLE __meta_tables (name INTEGER, keyType INTEGER);
CREATE TABLE __meta_fulltext_tables (name INTEGER);
CREATE TABLE t0 (key INTEGER PRIMARY KEY, value BLOB);
CREATE TABLE t2 (key INTEGER PRIMARY KEY, value BLOB);
CREATE TABLE t7 (key BLOB PRIMARY KEY, value BLOB);
"""
OLD_SCHEMA = """
CREATE TABLE __meta_tables (name INTEGER, keyType INTEGER);
CREATE TABLE t2 (key INTEGER PRIMARY KEY, value BLOB);
CREATE TABLE t7 (key BLOB, value BLOB);
CREATE INDEX t7_key ON t7 (key);
"""
META = [(0, 1), (2, 1), (7, 0)]

USER_ID, CHANNEL_ID, OWNER_ID = 1001, -1000123, 77


def key(peer: int, namespace: int, timestamp: int, message_id: int) -> bytes:
    return struct.pack(">qiii", peer, namespace, timestamp, message_id)


def _blobs(items: list[bytes]) -> bytes:
    return struct.pack("<i", len(items)) + b"".join(struct.pack("<i", len(i)) + i for i in items)


def root_object(class_name: str, fields: bytes) -> bytes:
    return b"\x01_" + struct.pack("<bii", 5, type_hash(class_name), len(fields)) + fields


def string_field(name: str, value: str) -> bytes:
    data = value.encode()
    return bytes([len(name)]) + name.encode() + struct.pack("<bi", 4, len(data)) + data


def int64_field(name: str, value: int) -> bytes:
    return bytes([len(name)]) + name.encode() + struct.pack("<bq", 1, value)


def message_value(text: str, *, flags: int = 0, author: int | None = None, media: list[bytes] = (), thread_id: int | None = None,
                  forward: tuple[int, int] | None = None, custom_tags: list[bytes] | None = None) -> bytes:
    data_flags = 32 if thread_id is not None else 0
    value = struct.pack("<bIIB", 0, 11, 1, data_flags)
    if thread_id is not None:
        value += struct.pack("<q", thread_id)
    value += struct.pack("<II", flags, 0)
    value += struct.pack("<Bqi", 1, *forward) if forward else b"\x00"
    value += struct.pack("<bq", 1, author) if author is not None else b"\x00"
    encoded = text.encode()
    value += struct.pack("<i", len(encoded)) + encoded
    value += _blobs([root_object("TextEntitiesMessageAttribute", b"")])
    value += _blobs(list(media))
    value += struct.pack("<i", 0)
    if custom_tags is not None:
        value += _blobs(custom_tags)
    return value


def _peers() -> list[tuple[int, bytes]]:
    user = root_object("TelegramUser", int64_field("i", USER_ID) + string_field("fn", "Zoë") + string_field("ln", "Ray")
                       + b"\x02ph" + struct.pack("<bi", 8, 0) + b"\x02bi" + bytes([11]))
    channel = root_object("TelegramChannel", int64_field("i", CHANNEL_ID) + b"\x02ah" + bytes([11]) + string_field("t", "News"))
    return [(USER_ID, user), (CHANNEL_ID, channel)]


def _history() -> list[tuple[bytes, bytes]]:
    photo = root_object("TelegramMediaImage", int64_field("i", 5))
    return [
        (key(USER_ID, 0, 1700000000, 10), message_value("Привет 👋", flags=4, author=USER_ID)),
        (key(USER_ID, 0, 1700000060, 11), message_value("hi", flags=0, author=OWNER_ID, custom_tags=[])),
        (key(USER_ID, 0, 1700000120, 12), message_value("", flags=4, author=USER_ID, media=[photo])),
        (key(CHANNEL_ID, 0, 1700000200, 3), message_value("post", flags=4, author=CHANNEL_ID, thread_id=9, forward=(USER_ID, 1699999999))),
    ]


def _fixture(tmp_path: Path, schema: str = CURRENT_SCHEMA, history: list[tuple[bytes, bytes]] | None = None) -> Path:
    return build_database(tmp_path / "db_sqlite", schema, {
        "__meta_tables": META, "t2": _peers(), "t7": _history() if history is None else history})


def _incoming_from_user(timestamp: int, body: str, message_id: int) -> Message:
    """The complete record of an incoming text from USER_ID in the first t7 row (the golden records below)."""
    return Message(
        source_table="t7", source_row_id=1, conversation_id=str(USER_ID), conversation_title="Zoë Ray",
        sender=Participant(str(USER_ID), "Zoë Ray"), direction="incoming", sent=timestamp * 10**9, sent_raw=str(timestamp),
        body=body, kind="text", is_forwarded=False,
        details={"message_id": str(message_id), "namespace": "0", "flags": "4 (Incoming)", "stable_id": "11"},
    )


def test_murmur_matches_the_reference_vector() -> None:
    assert murmur3_32(b"hello", 0) == 0x248BFA47  # MurmurHash3 x86-32 published value for "hello", seed 0
    assert murmur3_32(b"", 0) == 0


def test_current_layout_messages_names_and_golden_record(tmp_path: Path) -> None:
    db = _fixture(tmp_path)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 4
    assert parsed.messages[0] == _incoming_from_user(1700000000, "Привет 👋", 10)
    outgoing, photo, post = parsed.messages[1:]
    assert (outgoing.direction, outgoing.sender, outgoing.body) == ("outgoing", Participant(str(OWNER_ID)), "hi")
    assert (photo.kind, photo.body, photo.details["media"]) == ("media", "", "TelegramMediaImage")
    assert (post.conversation_title, post.sender, post.is_forwarded) == ("News", Participant(str(CHANNEL_ID), "News"), True)
    assert (post.details["thread_id"], post.details["forward_author_id"], post.details["forward_date"]) == ("9", str(USER_ID), "1699999999")
    assert parsed.time_range() == ("2023-11-14T22:13:20Z", "2023-11-14T22:16:40Z")


def test_old_table_shape_reads_the_same(tmp_path: Path) -> None:
    db = _fixture(tmp_path, OLD_SCHEMA)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert [m.body for m in parsed.messages] == ["Привет 👋", "hi", "", "post"]


def test_truncated_value_gives_bad_blob_and_keeps_key_fields(tmp_path: Path) -> None:
    history = _history()
    history.insert(1, (key(USER_ID, 0, 1700000030, 20), message_value("cut short", flags=4, author=USER_ID)[:30]))
    db = _fixture(tmp_path, history=history)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(w.kind, w.table, w.row_id, w.field) for w in parsed.warnings] == [("bad_blob", "t7", 2, "value")]
    assert len(parsed.messages) == 5
    assert parsed.messages[1] == Message(
        source_table="t7", source_row_id=2, conversation_id=str(USER_ID), conversation_title="Zoë Ray",
        sent=1700000030 * 10**9, sent_raw="1700000030", body=None, kind="unknown", details={"message_id": "20", "namespace": "0"},
    )


def test_bad_first_row_is_reported_once_the_layout_fits(tmp_path: Path) -> None:
    history = [(key(USER_ID, 0, 1700000001, 1), b"\x00\x01")] + _history()
    db = _fixture(tmp_path, history=history)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(w.kind, w.row_id) for w in parsed.warnings] == [("bad_blob", 1)]
    assert [m.source_row_id for m in parsed.messages] == [1, 2, 3, 4, 5]
    assert parsed.messages[0].body is None


def test_unknown_value_layout_gives_unsupported_format(tmp_path: Path) -> None:
    history = [(key(USER_ID, 0, 1700000000, i), bytes([7]) + b"\x00" * 40) for i in range(3)]
    db = _fixture(tmp_path, history=history)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    assert [(w.kind, w.table) for w in parsed.warnings] == [("unsupported_format", "__meta_tables")]
    assert "none of its 3 message values" in parsed.warnings[0].message


def test_postbox_without_history_table_gives_unsupported_format(tmp_path: Path) -> None:
    db = build_database(tmp_path / "db_sqlite", "CREATE TABLE __meta_tables (name INTEGER, keyType INTEGER);"
                        "CREATE TABLE t0 (key INTEGER PRIMARY KEY, value BLOB);", {"__meta_tables": [(0, 1)]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    assert [(w.kind, w.table) for w in parsed.warnings] == [("unsupported_format", "__meta_tables")]
    assert "1 Postbox tables" in parsed.warnings[0].message


def test_postbox_found_by_schema_when_renamed(tmp_path: Path) -> None:
    db = _fixture(tmp_path)
    parsed = parse_files(db, logical={db: b"/evidence/export/copy.bin"})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 4


def test_unknown_schema_at_postbox_path(tmp_path: Path) -> None:
    db = build_database(tmp_path / "db_sqlite", "CREATE TABLE t0 (key INTEGER PRIMARY KEY, value BLOB);")
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


def test_sqlcipher_store_without_header_is_not_sqlite(tmp_path: Path) -> None:
    db = tmp_path / "db_sqlite"
    db.write_bytes(bytes(range(256)) * 16)  # SQLCipher encrypts the header too: no "SQLite format 3"
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    assert [(w.kind, "Telegram" in w.message) for w in parsed.warnings] == [("not_sqlite", True)]


def test_sqlcipher_store_with_plaintext_header_is_unreadable(tmp_path: Path) -> None:
    db = tmp_path / "db_sqlite"
    db.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 16)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    assert [(w.kind, "telegram_ios" in w.message) for w in parsed.warnings] == [("database_unreadable", True)]


def test_media_classes_give_kinds_and_a_broken_media_header_keeps_the_text(tmp_path: Path) -> None:
    action = root_object("TelegramMediaAction", b"")
    other = root_object("SomeFutureMedia", b"")
    history = [(key(USER_ID, 0, 1700000000, 1), message_value("", flags=4, author=USER_ID, media=[action])),
               (key(USER_ID, 0, 1700000001, 2), message_value("x", flags=4, author=USER_ID, media=[other])),
               (key(USER_ID, 0, 1700000002, 3), message_value("kept", flags=4, author=USER_ID, media=[b"\x02ab\x05"]))]
    db = _fixture(tmp_path, history=history)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_blob", 3, "value.media")]
    assert [(m.kind, m.details["media"]) for m in parsed.messages] == [
        ("system", "TelegramMediaAction"), ("unknown", f"type hash {type_hash('SomeFutureMedia')}"), ("unknown", "undecoded object")]
    assert parsed.messages[2].body == "kept"


def old_key(peer: int, timestamp: int, namespace: int, message_id: int) -> bytes:
    """The older Postbox key order (Telegram-iOS commit cb125f8a, Postbox/MessageHistoryTable.swift)."""
    return struct.pack(">qiii", peer, timestamp, namespace, message_id)


def test_older_postbox_key_order_and_holes(tmp_path: Path) -> None:
    hole = struct.pack("<bIiI", 1, 40, 1, 0)  # type 1 (hole), stableId, min id, tags: 13 bytes
    history = [
        (old_key(USER_ID, 1500000000, 0, 5), message_value("from 2017", flags=4, author=USER_ID)),
        (old_key(USER_ID, 1500000300, 0, 6), message_value("reply", flags=0, author=OWNER_ID)),
        (old_key(USER_ID, 1499990000, 0, 4), hole),
        (old_key(CHANNEL_ID, 1500000400, 1, 2), message_value("local", flags=0, author=OWNER_ID)),
    ]
    db = _fixture(tmp_path, OLD_SCHEMA, history)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed, allowed=("history_holes",))
    assert [(w.kind, w.severity, w.message) for w in parsed.warnings] == [(
        "history_holes", "info", "1 history holes in t7 (ranges of messages the app had not downloaded); they are not messages")]
    assert len(parsed.messages) == 3
    assert parsed.messages[0] == _incoming_from_user(1500000000, "from 2017", 5)
    assert [(m.details["namespace"], m.details["message_id"], m.sent_raw) for m in parsed.messages[1:]] == [
        ("0", "6", "1500000300"), ("1", "2", "1500000400")]


def test_current_key_order_is_kept_when_keys_are_ambiguous(tmp_path: Path) -> None:
    # Timestamps of 0 (never a real message) make both orders look alike: the current order is used.
    db = _fixture(tmp_path, history=[(key(USER_ID, 0, 0, 10), message_value("x", flags=4, author=USER_ID))])
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert [(m.details["namespace"], m.details["message_id"], m.sent) for m in parsed.messages] == [("0", "10", None)]
