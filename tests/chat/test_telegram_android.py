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
        (15, BOB, 1, 0, 1700000360, _u32(0x7600B9D3) + b"\x00" * 20, 0),  # an Android class with no public layout
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
    assert "0x7600b9d3" in parsed.warnings[0].message
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


# --- Older and newer API layers (layouts from the per-layer TL schema; see parsers/chat/_telegram_tl.py) ---

def _i64(value: int) -> bytes:
    return struct.pack("<q", value)


def _peer_user_int(user_id: int) -> bytes:
    return _u32(0x9DB1BC6D) + _i32(user_id)


def _peer_chat_int(chat_id: int) -> bytes:
    return _u32(0xBAD0E5BB) + _i32(chat_id)


BOOL_TRUE, BOOL_FALSE = _u32(0x997275B5), _u32(0xBC799737)
MEDIA_EMPTY = _u32(0x3DED6320)
ATTACH = _tl_string(" ")  # Android's trailing attachPath string


def _older_rows() -> list[tuple]:
    """One row per older layout, in the 2013 `messages` table (mid, uid, read_state, send_state, date, data, out, ttl)."""
    d = 1400000000
    blobs = [
        # message_old#22eb6aba: id from_id to_id out:Bool unread:Bool date message media
        (1, _u32(0x22EB6ABA) + _i32(1) + _i32(BOB) + _peer_user_int(OWNER) + BOOL_FALSE + BOOL_TRUE + _i32(d) + _tl_string("layer 1 hello")
         + MEDIA_EMPTY + ATTACH, 0),
        # message#567699b3 (layers 18-23): flags id from_id to_id date message media
        (2, _u32(0x567699B3) + _u32(2) + _i32(2) + _i32(OWNER) + _peer_user_int(BOB) + _i32(d + 1) + _tl_string("layer 18 out")
         + MEDIA_EMPTY, 1),
        # message#a7ab1991 (25-27): forwarded (flags.2: fwd_from_id, fwd_date) and a reply (flags.3)
        (3, _u32(0xA7AB1991) + _u32(4 | 8) + _i32(3) + _i32(BOB) + _peer_user_int(OWNER) + _i32(777) + _i32(d - 50) + _i32(1)
         + _i32(d + 2) + _tl_string("layer 25 fwd") + MEDIA_EMPTY, 0),
        # message#5ba66c13 (38-44): from_id flags.8, forward from a Peer, media flags.9 (geo with the old geoPoint)
        (4, _u32(0x5BA66C13) + _u32(1 << 8 | 1 << 9) + _i32(4) + _i32(BOB) + _peer_chat_int(300) + _i32(d + 3) + _tl_string("")
         + _u32(0x56E0D474) + _u32(0x2049D70C) + struct.pack("<d", 30.5) + struct.pack("<d", 50.25), 0),
        # message#c09be45f (51-68): fwd header c786ddcb (from_id flags.0, date), edit_date flags.15
        (5, _u32(0xC09BE45F) + _u32(1 << 8 | 4 | 1 << 15) + _i32(5) + _i32(BOB) + _peer_user_int(OWNER)
         + _u32(0xC786DDCB) + _u32(1) + _i32(888) + _i32(d - 100) + _i32(d + 4) + _tl_string("layer 51 edited fwd") + _i32(d + 9), 0),
        # message#44f9b43d (73-104): via bot (int, flags.11), reply (int, flags.3)
        (6, _u32(0x44F9B43D) + _u32(2 | 1 << 8 | 1 << 11 | 8) + _i32(6) + _i32(OWNER) + _peer_user_int(BOB) + _i32(4242) + _i32(5)
         + _i32(d + 5) + _tl_string("layer 73 via bot"), 1),
        # message#58ae39c9 (119-121): from_id is a Peer (int ids), reply header a6d57763
        (7, _u32(0x58AE39C9) + _u32(1 << 8 | 8) + _i32(7) + _peer_user_int(BOB) + _peer_user_int(OWNER)
         + _u32(0xA6D57763) + _u32(0) + _i32(6) + _i32(d + 6) + _tl_string("layer 119"), 0),
        # messageService#9e19a1f6 (51-117) with messageActionPhoneCall
        (8, _u32(0x9E19A1F6) + _u32(1 << 8) + _i32(8) + _i32(BOB) + _peer_user_int(OWNER) + _i32(d + 7) + _u32(0x80E11A7F), 0),
        # messageEmpty#83e5de54 (to layer 121): id only
        (9, _u32(0x83E5DE54) + _i32(9), 0),
    ]
    rows = [(mid, BOB if mid != 4 else -300, 1, 0, d + mid - 1, blob, out, 0) for mid, blob, out in blobs]
    # Android's secret-chat class 555555fa: flags id ttl from_id:int to_id date message media; a negative mid
    secret = (_u32(0x555555FA) + _u32(0) + _i32(-10) + _i32(30) + _i32(BOB) + _peer_user_int(OWNER) + _i32(d + 10)
              + _tl_string("secret hi") + MEDIA_EMPTY + _u32(0x1CB5C415) + _i32(0))
    secret_uid = 55 << 32
    rows.append((-10, secret_uid, 1, 0, d + 10, secret, 0, 30))
    return rows


OLDEST_SCHEMA = """
CREATE TABLE messages(mid INTEGER PRIMARY KEY, uid INTEGER, read_state INTEGER, send_state INTEGER, date INTEGER, data BLOB,
  out INTEGER, ttl INTEGER);
CREATE TABLE users(uid INTEGER PRIMARY KEY, name TEXT, status INTEGER, data BLOB);
CREATE TABLE chats(uid INTEGER PRIMARY KEY, name TEXT, data BLOB);
CREATE TABLE enc_chats(uid INTEGER PRIMARY KEY, user INTEGER, name TEXT, data BLOB, g BLOB, authkey BLOB, ttl INTEGER);
"""


def test_older_layers_in_the_2013_table(tmp_path: Path) -> None:
    db = build_database(tmp_path / "cache4.db", OLDEST_SCHEMA, {
        "messages": _older_rows(), "users": [(OWNER, "alice a;;;alice", 0, None), (BOB, "bob b;;;bobby", 0, None)],
        "chats": [(300, "family", None)],
        # secret chat 55 with Bob (and -3, a random id may be negative); a type-confused row (user as text) is ignored
        "enc_chats": [(55, BOB, "", None, None, None, 30), (-3, BOB, "", None, None, None, 0), (56, "bob", "", None, None, None, 0)]})
    parsed = parse_files(db, logical={db: b"/data/data/org.telegram.messenger/files/cache4.db"})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"telegram_android"}
    assert len(parsed.messages) == 10
    by_mid = {m.details["mid"]: m for m in parsed.messages}
    assert by_mid["1"] == Message(
        source_table="messages", source_row_id=1, conversation_id=str(BOB), conversation_title="bob b",
        sender=Participant(f"user:{BOB}", "bob b"), direction="incoming", sent=1400000000 * 10**9, sent_raw="1400000000",
        body="layer 1 hello", kind="text", is_edited=None, is_forwarded=False,
        details={"mid": "1", "read_state": "1", "send_state": "0", "ttl": "0", "tl_constructor": "message_old", "media_type": "empty"},
    )
    assert [(m.details["tl_constructor"], m.body) for m in parsed.messages] == [
        ("message_old", "layer 1 hello"), ("message_old2", "layer 18 out"), ("message_old3", "layer 25 fwd"),
        ("message_layer38", None), ("message_layer51", "layer 51 edited fwd"), ("message_layer73", "layer 73 via bot"),
        ("message_layer119", "layer 119"), ("messageService_layer51", None), ("messageEmpty_old", None),
        ("message_secret", "secret hi")]
    out18, fwd25, geo38, edit51, via73, reply119, call, empty, secret = parsed.messages[1:]
    assert (out18.direction, out18.sender, out18.account_id) == ("outgoing", Participant(f"user:{OWNER}", "alice a"), f"user:{OWNER}")
    assert (fwd25.is_forwarded, fwd25.details["forwarded_from"], fwd25.details["forwarded_date"], fwd25.details["reply_to_message_id"]) == (
        True, "user:777", "1399999950", "1")
    assert (geo38.kind, geo38.latitude, geo38.longitude, geo38.conversation_title, geo38.sender.name) == (
        "location", 50.25, 30.5, "family", "bob b")
    assert (edit51.is_edited, edit51.is_forwarded, edit51.details["forwarded_from"]) == (True, True, "user:888")
    assert (via73.details["via_bot_id"], via73.details["reply_to_message_id"], via73.is_edited) == ("4242", "5", False)
    assert (reply119.details["reply_to_message_id"], reply119.sender.id) == ("6", f"user:{BOB}")
    assert (call.kind, call.details["action"], call.is_forwarded) == ("call", "0x80e11a7f", None)
    assert (empty.kind, empty.body) == ("deleted", None)
    assert (secret.source_row_id, secret.conversation_id, secret.conversation_title, secret.sender, secret.details["ttl"],
            secret.direction) == (-10, str(55 << 32), "bob b", Participant(f"user:{BOB}", "bob b"), "30", "incoming")


NEWEST_SCHEMA = """
CREATE TABLE messages_v2(mid INTEGER, uid INTEGER, date INTEGER, data BLOB, out INTEGER, PRIMARY KEY(mid, uid));
"""


def _fwd_header_170(from_user: int, name: str, date: int) -> bytes:
    # messageFwdHeader#4e4df4bb: flags from_id?0 from_name?5 date ... saved_from_peer?4 saved_from_msg_id?4 saved_from_id?8
    return (_u32(0x4E4DF4BB) + _u32(1 | 1 << 5 | 1 << 4 | 1 << 8) + _peer_user(from_user) + _tl_string(name) + _i32(date)
            + _peer_chat(301) + _i32(77) + _peer_user(from_user))


def _newer_rows() -> list[tuple]:
    d = 1750000000
    flags2_head = lambda flags, flags2, mid: _u32(flags) + _u32(flags2) + _i32(mid)  # noqa: E731
    blobs = [
        # message#76bec211 (170-173): saved_peer_id flags.28, forward header 4e4df4bb
        (1, _u32(0x76BEC211) + _u32(1 << 8 | 1 << 28 | 4) + _i32(1) + _peer_user(BOB) + _peer_user(OWNER) + _peer_user(BOB)
         + _fwd_header_170(999, "Dave", d - 5) + _i32(d) + _tl_string("layer 170 saved fwd"), 0),
        # message#2357bf25 (177-179): flags2 with via_business_bot_id (flags2.0), boosts (flags.29), via bot long (flags.11)
        (2, _u32(0x2357BF25) + flags2_head(1 << 8 | 1 << 29 | 1 << 11, 1, 2) + _peer_user(BOB) + _i32(3) + _peer_user(OWNER)
         + _i64(5555) + _i64(6666) + _i32(d + 1) + _tl_string("layer 177 business"), 0),
        # message#3ae56482 (223-224): from_rank (flags2.12); reply header afbc09db with a quote and its origin (flags 4, 5, 6, 10)
        (3, _u32(0x3AE56482) + flags2_head(1 << 8 | 8 | 1 << 9, 1 << 12, 3) + _peer_user(OWNER) + _tl_string("admin") + _peer_user(BOB)
         + _u32(0xAFBC09DB) + _u32(1 << 4 | 1 << 5 | 1 << 6 | 1 << 7 | 1 << 10) + _i32(2)
         + _u32(0x5F777DCE) + _u32(1 << 5) + _tl_string("Eve") + _i32(d - 9) + _tl_string("quoted words")
         + _u32(0x1CB5C415) + _i32(3) + _u32(0xBD610BC9) + _i32(0) + _i32(6)  # quote entities: bold,
         + _u32(0x76A6D327) + _i32(0) + _i32(6) + _tl_string("https://t.me/x")  # a text URL,
         + _u32(0xF1CCAAAC) + _u32(1) + _i32(0) + _i32(12)  # a collapsed blockquote
         + _i32(4)
         + _i32(d + 2) + _tl_string("layer 223 quoting reply") + _u32(0xB940C666) + _u32(0) + _u32(0xB2A2F663) + _u32(0)
         + struct.pack("<d", 2.35) + struct.pack("<d", 48.85) + _i64(1) + _i32(60), 1),
        # message#95ef6f2b (225): guestchat_via_from (flags2.19), a reply to a story (messageReplyStoryHeader#0e5af939)
        (4, _u32(0x95EF6F2B) + flags2_head(1 << 8 | 8, 1 << 19, 4) + _peer_user(BOB) + _peer_user(OWNER) + _peer_user(123)
         + _u32(0x0E5AF939) + _peer_user(BOB) + _i32(17) + _i32(d + 3) + _tl_string("layer 225 story reply"), 0),
        # messageService#7a800e0a (205-225): saved_peer_id flags.28
        (5, _u32(0x7A800E0A) + _u32(1 << 8 | 1 << 28) + _i32(5) + _peer_user(BOB) + _peer_user(OWNER) + _peer_user(BOB) + _i32(d + 4)
         + _u32(0x80E11A7F), 0),
        # messageEmpty#90a6ca84 with its peer
        (6, _u32(0x90A6CA84) + _u32(1) + _i32(6) + _peer_user(BOB), 0),
    ]
    return [(mid, BOB, d + mid - 1, blob + ATTACH, out) for mid, blob, out in blobs]


def test_newer_layers_in_a_minimal_messages_v2(tmp_path: Path) -> None:
    db = build_database(tmp_path / "cache4.db", NEWEST_SCHEMA, {"messages_v2": _newer_rows()})
    parsed = parse_files(db, logical={db: LOGICAL.replace(b"{}", b"account2")})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 6
    assert parsed.messages[0] == Message(
        source_table="messages_v2", source_row_id=1, conversation_id=str(BOB), conversation_title=None,
        sender=Participant(f"user:{BOB}", None), direction="incoming", sent=1750000000 * 10**9, sent_raw="1750000000",
        body="layer 170 saved fwd", kind="text", is_edited=False, is_forwarded=True,
        details={"mid": "1", "tl_constructor": "message_layer170", "forwarded_from": "user:999", "forwarded_from_name": "Dave",
                 "forwarded_date": "1749999995"},
    )
    business, quoting, story, call, empty = parsed.messages[1:]
    assert (business.body, business.details["via_bot_id"], business.is_forwarded) == ("layer 177 business", "5555", False)
    assert (quoting.body, quoting.direction, quoting.details["reply_to_message_id"], quoting.details["reply_quote"]) == (
        "layer 223 quoting reply", "outgoing", "2", "quoted words")
    assert (quoting.kind, quoting.latitude, quoting.longitude, quoting.details["media_type"]) == ("location", 48.85, 2.35, "geo_live")
    assert "forwarded_from_name" not in quoting.details  # the quote's origin is not a forward of this message
    assert (story.body, story.details["reply_to_story"]) == ("layer 225 story reply", f"user:{BOB}/17")
    assert (call.kind, call.details["tl_constructor"]) == ("call", "messageService_layer205")
    assert (empty.kind, empty.details["tl_constructor"]) == ("deleted", "messageEmpty")


SIXTY_FOUR_BIT_SCHEMA = NEWEST_SCHEMA + """
CREATE TABLE users(uid INTEGER PRIMARY KEY, name TEXT, status INTEGER, data BLOB);
CREATE TABLE chats(uid INTEGER PRIMARY KEY, name TEXT, data BLOB);
CREATE TABLE enc_chats(uid INTEGER PRIMARY KEY, user INTEGER, name TEXT, data BLOB, g BLOB, authkey BLOB, ttl INTEGER);
"""


def test_64_bit_dialog_ids(tmp_path: Path) -> None:
    # Since 64-bit ids: user ids may pass 2^32; a secret chat's dialog id is bit 62 | (encrypted chat id & 0xffffffff),
    # and the chat id is a random int32, so it may be negative. The old scheme (chat id << 32) still reads.
    big_user, channel = 6_000_000_123, 1_900_000_000_000
    d = 1760000000
    new_secret, negative_secret, old_secret = 1 << 62 | 77, 1 << 62 | ((-5) & 0xFFFFFFFF), (-5) << 32
    unknown_secret = 1 << 62 | 4242  # no enc_chats row: a secret chat, not a user
    rows = [
        (1, big_user, d, _message(1, None, _peer_user(OWNER), d, "from a big id"), 0),
        (2, big_user, d + 1, _message(2, OWNER, _peer_user(big_user), d + 1, "to a big id", out=True), 1),
        (3, new_secret, d + 2, _message(3, None, _peer_user(OWNER), d + 2, "new-scheme secret"), 0),
        (4, negative_secret, d + 3, _message(4, None, _peer_user(OWNER), d + 3, "negative chat id"), 0),
        (5, old_secret, d + 4, _message(5, None, _peer_user(OWNER), d + 4, "old-scheme negative"), 0),
        (6, unknown_secret, d + 5, _message(6, None, _peer_user(OWNER), d + 5, "no partner row"), 0),
        (7, -channel, d + 6, _message(7, big_user, _peer_chat(channel), d + 6, "in a channel"), 0),
    ]
    db = build_database(tmp_path / "cache4.db", SIXTY_FOUR_BIT_SCHEMA, {
        "messages_v2": rows,
        "users": [(OWNER, "alice a;;;alice", 0, None), (BOB, "bob b", 0, None), (big_user, "carol c;;;carol", 0, None)],
        "chats": [(channel, "big channel", None)],
        "enc_chats": [(77, big_user, "", None, None, None, 0), (-5, BOB, "", None, None, None, 0)]})
    parsed = parse_files(db, logical={db: LOGICAL.replace(b"{}", b"account1")})
    assert_no_warnings(parsed)
    carol, bob = Participant(f"user:{big_user}", "carol c"), Participant(f"user:{BOB}", "bob b")
    assert [(m.body, m.conversation_id, m.conversation_title, m.sender, m.direction, m.account_id) for m in parsed.messages] == [
        ("from a big id", str(big_user), "carol c", carol, "incoming", None),
        ("to a big id", str(big_user), "carol c", Participant(f"user:{OWNER}", "alice a"), "outgoing", f"user:{OWNER}"),
        ("new-scheme secret", str(new_secret), "carol c", carol, "incoming", None),
        ("negative chat id", str(negative_secret), "bob b", bob, "incoming", None),
        ("old-scheme negative", str(old_secret), "bob b", bob, "incoming", None),
        ("no partner row", str(unknown_secret), None, None, "incoming", None),
        ("in a channel", str(-channel), "big channel", carol, "incoming", None),
    ]


def test_reply_with_the_replied_media_is_kept_without_text(tmp_path: Path) -> None:
    blob = (_u32(0x38116EE0) + _u32(8) + _i32(1) + _peer_user(BOB) + _u32(0xAFBC09DB) + _u32(1 << 4 | 1 << 8) + _i32(2)
            + _u32(0x695150D7) + _u32(0) + _i32(1750000000) + _tl_string("never reached"))
    db = build_database(tmp_path / "cache4.db", NEWEST_SCHEMA, {"messages_v2": [(1, BOB, 1750000000, blob, 0)]})
    parsed = parse_files(db)
    (message,) = parsed.messages
    assert (message.body, message.kind, message.sent, message.direction) == (None, "unknown", 1750000000 * 10**9, "incoming")
    assert [(w.kind, w.message) for w in parsed.warnings] == [(
        "unsupported_tl", "message data not decoded: reply header carries the replied-to media, which is not decoded")]


def test_hostile_quote_entity_counts_are_tl_errors() -> None:
    import pytest

    from parsers.chat._telegram_tl import TLError, decode_message

    head = _u32(0x38116EE0) + _u32(8) + _i32(1) + _peer_user(BOB) + _u32(0xAFBC09DB) + _u32(1 << 7)
    tail = _i32(1750000000) + _tl_string("t")
    for entities, problem in ((_u32(0x1CB5C415) + _i32(0x7FFFFFFF), "does not fit"), (_u32(0x1CB5C415) + _i32(-1), "does not fit"),
                              (_u32(0x12345678) + _i32(0), "not a Vector"),
                              (_u32(0x1CB5C415) + _i32(1) + _u32(0x208E68C9) + _i32(0) + _i32(0), "unsupported MessageEntity")):
        with pytest.raises(TLError, match=problem):
            decode_message(head + entities + tail)


def test_every_truncation_and_corruption_of_every_layout_is_a_tl_error() -> None:
    import random

    from parsers.chat._telegram_tl import TLError, decode_message

    blobs = [row[5] for row in _older_rows()] + [row[3] for row in _newer_rows()] + [row[5] for row in _v2_rows()["messages_v2"]]
    chance = random.Random(10)
    for blob in blobs:
        for size in range(len(blob)):
            try:
                decode_message(blob[:size])
            except TLError:
                pass
        for _ in range(200):
            damaged = bytearray(blob)
            damaged[chance.randrange(len(damaged))] = chance.randrange(256)
            try:
                decode_message(bytes(damaged))
            except TLError:
                pass


def test_type_confused_columns_are_warnings(tmp_path: Path) -> None:
    good = _message(1, BOB, _peer_user(OWNER), 1700000000, "ok")
    db = build_database(tmp_path / "cache4.db", NEWEST_SCHEMA, {"messages_v2": [
        (1, BOB, "yesterday", good, 0), (2, BOB, 1700000001, "text, not a blob", 0), (3, "bob", 1700000002, good, "x")]})
    parsed = parse_files(db)
    # SQLite orders text after numbers, so the row with a text date comes last.
    assert [(m.source_row_id, m.sent, m.body, m.direction, m.conversation_id) for m in parsed.messages] == [
        (2, 1700000001 * 10**9, None, "incoming", str(BOB)), (3, 1700000002 * 10**9, "ok", "unknown", "bob"), (1, None, "ok", "incoming", str(BOB))]
    assert [(w.kind, w.row_id) for w in parsed.warnings] == [("missing_blob", 2), ("bad_time", 1)]


def test_a_messages_table_without_out_is_not_telegram(tmp_path: Path) -> None:
    db = build_database(tmp_path / "cache4.db", "CREATE TABLE messages(mid INTEGER PRIMARY KEY, uid INTEGER, date INTEGER, data BLOB);")
    parsed = parse_files(db, logical={db: LOGICAL.replace(b"{}", b"account1")})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]
