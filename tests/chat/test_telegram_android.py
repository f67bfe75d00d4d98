"""Telegram Android cache4.db: IPED's schema-only corpus copies and fixtures with TL blobs built here.

Facts used (see parsers/chat/telegram_android.py; sources: DrKLO/Telegram `MessagesStorage.java`
for tables, Telegram's public API schema (core.telegram.org/schema, tdesktop api.tl) for TL):
messages_v2/messages(mid, uid, read_state, send_state, date, data, out); users/chats(uid, name, data);
message#38116ee0, messageService#2b085862, peerUser#59511722, peerChat#36c6019a,
messageFwdHeader#5f777dce, messageReplyHeader#a6d57763, messageMediaPhoto#695150d7,
messageMediaGeo#56e0d474 + geoPoint#b2a2f663, messageActionPhoneCall#80e11a7f.
CHATS.tsv: both IPED copies list 0 messages (schema only; the schema itself lives in the WAL).
"""

from __future__ import annotations

import struct
from pathlib import Path

from manifests.records import Message, Participant
from parsers.artefact import Catalog, HostArtefact
from parsers.chat.telegram_android import PARSER
from parsers.sqlite_store import open_copy
from tests.chat.helpers import assert_no_warnings, build_database, corpus_file, parse_files

IPED = "sepinf-inc__IPED/iped-parsers/iped-parsers-impl/src/test/resources/test-files/org.telegram.messenger.web/files/{}/cache4.db"
LOGICAL = b"/data/data/org.telegram.messenger.web/files/{}/cache4.db"


def _corpus(account: str) -> tuple[Path, bytes]:
    return corpus_file(IPED.format(account)), LOGICAL.replace(b"{}", account.encode())


def test_iped_accounts_hold_schema_only(tmp_path: Path) -> None:
    for account in ("account1", "account2"):
        path, logical = _corpus(account)
        parsed = parse_files(path, logical={path: logical})
        assert parsed.messages == []  # CHATS.tsv: 0 messages
        assert parsed.warnings == []
        # The tables exist only in the WAL: the main file alone has none, so a match proves the WAL was read.
        main = HostArtefact(path)
        catalog = Catalog.of([main, HostArtefact(path.with_name("cache4.db-wal")), HostArtefact(path.with_name("cache4.db-shm"))])
        database = open_copy(main, catalog, tmp_path / account)
        try:
            assert database.has_wal_frames
            assert PARSER.match(database).name == "messages_old"
            assert database.main_only is not None
            assert database.main_only.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
        finally:
            database.close()


# --- TL serialisation for fixtures (layout from the public API schema) -----------------------------

def _u32(value: int) -> bytes:
    return struct.pack("<I", value)


def _i32(value: int) -> bytes:
    return struct.pack("<i", value)


def _tl_string(text: str) -> bytes:
    raw = text.encode("utf-8")
    head = bytes([len(raw)]) if len(raw) < 254 else b"\xfe" + len(raw).to_bytes(3, "little")
    body = head + raw
    return body + b"\x00" * ((-len(body)) % 4)


def _peer_user(user_id: int) -> bytes:
    return _u32(0x59511722) + struct.pack("<q", user_id)


def _peer_chat(chat_id: int) -> bytes:
    return _u32(0x36C6019A) + struct.pack("<q", chat_id)


def _message(mid: int, from_id: int | None, peer: bytes, date: int, text: str, out: bool = False, media: bytes = b"",
             fwd: bytes = b"", reply: bytes = b"", edited: bool = False) -> bytes:
    flags = (2 if out else 0) | (1 << 8 if from_id is not None else 0) | (1 << 9 if media else 0) | (4 if fwd else 0) | (
        8 if reply else 0) | (1 << 15 if edited else 0)
    blob = _u32(0x38116EE0) + _u32(flags) + _i32(mid)
    if from_id is not None:
        blob += _peer_user(from_id)
    blob += peer + fwd + reply + _i32(date) + _tl_string(text) + media
    if edited:
        blob += _i32(date + 60)  # edit_date comes after fields this reader stops before
    return blob + _tl_string(" ")  # Android appends its attachPath string after the object


def _service_call(mid: int, from_id: int, peer: bytes, date: int) -> bytes:
    return _u32(0x2B085862) + _u32(1 << 8) + _i32(mid) + _peer_user(from_id) + peer + _i32(date) + _u32(0x80E11A7F) + b"\x00" * 12


PHOTO = _u32(0x695150D7) + _u32(0)  # messageMediaPhoto with no photo object (flags 0)
GEO = _u32(0x56E0D474) + _u32(0xB2A2F663) + _u32(0) + struct.pack("<d", 13.4) + struct.pack("<d", 52.5) + struct.pack("<q", 99)
FWD = _u32(0x5F777DCE) + _u32(1 | 1 << 5) + _peer_user(777) + _tl_string("Carol") + _i32(1690000000)
REPLY = _u32(0xA6D57763) + _u32(0) + _i32(10)

OWNER, BOB = 1001, 2002
V2_SCHEMA = """
CREATE TABLE messages_v2(mid INTEGER, uid INTEGER, read_state INTEGER, send_state INTEGER, date INTEGER, data BLOB, out INTEGER,
  ttl INTEGER, media INTEGER, replydata BLOB, imp INTEGER, mention INTEGER, forwards INTEGER, replies_data BLOB,
  thread_reply_id INTEGER, is_channel INTEGER, reply_to_message_id INTEGER, custom_params BLOB, group_id INTEGER,
  PRIMARY KEY(mid, uid));
CREATE TABLE users(uid INTEGER PRIMARY KEY, name TEXT, status INTEGER, data BLOB);
CREATE TABLE chats(uid INTEGER PRIMARY KEY, name TEXT, data BLOB);
CREATE TABLE dialogs(did INTEGER PRIMARY KEY, date INTEGER, unread_count INTEGER, last_mid INTEGER);
"""


def _v2_rows() -> dict:
    peer_bob = _peer_user(BOB)
    messages = [
        (10, BOB, 1, 0, 1700000000, _message(10, BOB, _peer_user(OWNER), 1700000000, "Привет, it's Bob"), 0),
        (11, BOB, 1, 0, 1700000060, _message(11, OWNER, peer_bob, 1700000060, "reply", out=True, reply=REPLY, edited=True), 1),
        (12, BOB, 1, 0, 1700000120, _message(12, BOB, _peer_user(OWNER), 1700000120, "", media=PHOTO), 0),
        (13, BOB, 1, 0, 1700000180, _message(13, OWNER, peer_bob, 1700000180, "", out=True, media=GEO, fwd=FWD), 1),
        (14, BOB, 1, 0, 1700000240, _service_call(14, OWNER, peer_bob, 1700000240), 1),
        (5, -300, 1, 0, 1700000300, _message(5, BOB, _peer_chat(300), 1700000300, "in the group"), 0),
        (15, BOB, 1, 0, 1700000360, _u32(0x555555F8) + b"\x00" * 20, 0),  # Android's secret-chat class: not decoded
    ]
    return {"messages_v2": [row[:6] + (row[6],) + (None,) * 12 for row in messages],
            "users": [(OWNER, "alice a;;;alice", 0, None), (BOB, "bob b;;;bobby", 0, None)],
            "chats": [(300, "family", None)], "dialogs": [(BOB, 1700000360, 0, 15), (-300, 1700000300, 0, 5)]}


def test_messages_v2_fixture(tmp_path: Path) -> None:
    db = build_database(tmp_path / "cache4.db", V2_SCHEMA, _v2_rows())
    parsed = parse_files(db, logical={db: LOGICAL.replace(b"{}", b"account1")})
    assert parsed.parser_names() == {"telegram_android"}
    assert len(parsed.messages) == 7
    assert parsed.messages[0] == Message(
        source_table="messages_v2", source_row_id=1, conversation_id=str(BOB), conversation_title="bob b",
        sender=Participant(f"user:{BOB}", "bob b"), direction="incoming", sent=1700000000 * 10**9, sent_raw="1700000000",
        body="Привет, it's Bob", kind="text", is_edited=False, is_forwarded=False,
        details={"mid": "10", "read_state": "1", "send_state": "0", "tl_constructor": "message"},
    )
    reply, photo, geo, call, group, secret = parsed.messages[1:]
    assert (reply.direction, reply.sender, reply.account_id, reply.is_edited, reply.details["reply_to_message_id"]) == (
        "outgoing", Participant(f"user:{OWNER}", "alice a"), f"user:{OWNER}", True, "10")
    assert (photo.kind, photo.body, photo.details["media_type"]) == ("media", None, "photo")
    assert (geo.kind, geo.latitude, geo.longitude, geo.is_forwarded, geo.details["forwarded_from_name"]) == (
        "location", 52.5, 13.4, True, "Carol")
    assert (call.kind, call.details["action"]) == ("call", "0x80e11a7f")
    assert (group.conversation_id, group.conversation_title, group.sender) == ("-300", "family", Participant(f"user:{BOB}", "bob b"))
    assert (secret.kind, secret.body, secret.sent) == ("unknown", None, 1700000360 * 10**9)
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("unsupported_tl", 7, "data")]
    assert "0x555555f8" in parsed.warnings[0].message
    assert parsed.time_range() == ("2023-11-14T22:13:20Z", "2023-11-14T22:19:20Z")


OLD_SCHEMA = """
CREATE TABLE messages(mid INTEGER PRIMARY KEY, uid INTEGER, read_state INTEGER, send_state INTEGER, date INTEGER, data BLOB,
  out INTEGER, ttl INTEGER, media INTEGER, replydata BLOB, imp INTEGER, mention INTEGER, forwards INTEGER, replies_data BLOB,
  thread_reply_id INTEGER);
CREATE TABLE users(uid INTEGER PRIMARY KEY, name TEXT, status INTEGER, data BLOB);
CREATE TABLE chats(uid INTEGER PRIMARY KEY, name TEXT, data BLOB);
CREATE TABLE dialogs(did INTEGER PRIMARY KEY, date INTEGER, unread_count INTEGER, last_mid INTEGER);
"""


def test_old_messages_table_fixture(tmp_path: Path) -> None:
    db = build_database(tmp_path / "cache4.db", OLD_SCHEMA, {
        "messages": [(42, BOB, 1, 0, 1650000000, _message(42, BOB, _peer_user(OWNER), 1650000000, "old schema"), 0) + (None,) * 8],
        "users": [(BOB, "bob b;;;bobby", 0, None)], "chats": [], "dialogs": []})
    parsed = parse_files(db, logical={db: b"/data/data/org.telegram.messenger/files/cache4.db"})
    assert_no_warnings(parsed)
    (message,) = parsed.messages
    assert (message.source_table, message.source_row_id, message.body, message.sender.name) == ("messages", 42, "old schema", "bob b")


def test_truncated_blob_keeps_the_row(tmp_path: Path) -> None:
    rows = _v2_rows()
    rows["messages_v2"] = [rows["messages_v2"][0][:5] + (rows["messages_v2"][0][5][:30],) + rows["messages_v2"][0][6:]]
    db = build_database(tmp_path / "cache4.db", V2_SCHEMA, rows)
    parsed = parse_files(db)
    (message,) = parsed.messages
    assert (message.body, message.direction, message.sent) == (None, "incoming", 1700000000 * 10**9)
    assert [w.kind for w in parsed.warnings] == ["unsupported_tl"]


def test_unknown_schema_at_telegram_path(tmp_path: Path) -> None:
    db = build_database(tmp_path / "cache4.db", "CREATE TABLE messages_v9 (mid INTEGER, blob BLOB);")
    parsed = parse_files(db, logical={db: LOGICAL.replace(b"{}", b"account1")})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]
