"""TikTok: iOS AwemeIM.db (plaso sample, contacts only) and Android/iOS message stores from fixtures.

Facts and sources are in parsers/chat/tiktok.py (ALEAPP and iLEAPP `tikTok.py`). CHATS.tsv lists
AwemeIM.db as AwemeContactsV5 4 rows with no message bodies and one latestChatTimestamp
(2023-05-20T14:48:02Z, Unix seconds): 0 messages, and one info notice carrying that time.
The Android fixture follows ALEAPP's `msg`/`SIMPLE_USER` columns (current layout: msg in
`<uid>_im.db`, names in the companion `db_im_xx`; older layout: both tables in db_im_xx); the iOS
fixture follows iLEAPP's `TIMMessageORM` with names from AwemeIM.db.
"""

from __future__ import annotations

import json
from pathlib import Path

from manifests.records import Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, corpus_file, parse_files

AWEME = "log2timeline__plaso/test_data/AwemeIM.db"
IOS_CONTAINER = b"/private/var/mobile/Containers/Data/Application/0A1B/"
ANDROID_DIR = b"/data/data/com.zhiliaoapp.musically/databases/"
MSG = """CREATE TABLE msg (msg_uuid TEXT, conversation_id TEXT, created_time INTEGER, sender INTEGER, content TEXT,
  type INTEGER, deleted INTEGER, read_status INTEGER, local_info TEXT);"""
SIMPLE_USER = "CREATE TABLE SIMPLE_USER (UID TEXT PRIMARY KEY, UNIQUE_ID TEXT, NICK_NAME TEXT, AVATAR_THUMB TEXT);"


def test_aweme_im_db_is_contacts_only() -> None:
    path = corpus_file(AWEME)
    parsed = parse_files(path, logical={path: IOS_CONTAINER + b"Documents/AwemeIM.db"})
    assert parsed.messages == []  # CHATS.tsv: AwemeContactsV5 4 rows, no message bodies
    assert_no_warnings(parsed, allowed=("contacts_only",))
    (notice,) = parsed.warnings
    assert (notice.kind, notice.severity, notice.table) == ("contacts_only", "info", "AwemeContactsV5")
    assert "4 contacts" in notice.message
    assert "6874298119962887173 (ThisIsDFIR Two) last chat 2023-05-20T14:48:02Z" in notice.message


def _android_rows() -> list[tuple]:
    return [("u1", "0:1:111:222", 1684594082123, 111, json.dumps({"text": "hey", "aweType": 700}), 7, 0, 1, None),
            ("u2", "0:1:111:222", 1684594090000, 222, json.dumps({"display_name": "gif", "url": {"url_list": ["https://x/1.gif"]}}), 5, 0, 0, None),
            ("u3", "0:1:111:222", 1684594095000, 222, "not json", 7, 0, 0, None)]


def test_android_current_layout_with_db_im_xx_companion(tmp_path: Path) -> None:
    main = build_database(tmp_path / "111_im.db", MSG, {"msg": _android_rows()})
    names = build_database(tmp_path / "db_im_xx", SIMPLE_USER, {"SIMPLE_USER": [("222", "friend.2", "Friend", None)]})
    parsed = parse_files(main, names, logical={main: ANDROID_DIR + b"111_im.db", names: ANDROID_DIR + b"db_im_xx"})
    assert [(w.kind, w.row_id) for w in parsed.warnings] == [("bad_json", 3)]
    assert len(parsed.messages) == 3
    assert parsed.messages[0] == Message(
        source_table="msg", source_row_id=1, conversation_id="0:1:111:222", sender=Participant("111"), direction="outgoing",
        sent=1684594082123000000, sent_raw="1684594082123", body="hey", kind="text", account_id="111",
        details={"type": "7", "deleted_flag": "0", "read_status": "1"},
    )
    gif = parsed.messages[1]
    assert (gif.sender, gif.direction, gif.body, gif.kind, gif.details["url"], gif.details["display_name"]) == (
        Participant("222", "Friend"), "incoming", None, "unknown", "https://x/1.gif", "gif")
    assert parsed.messages[2].details["content"] == "not json"


def test_android_older_layout_msg_beside_simple_user(tmp_path: Path) -> None:
    db = build_database(tmp_path / "db_im_xx", MSG + SIMPLE_USER,
                        {"msg": _android_rows()[:1], "SIMPLE_USER": [("111", "me.1", "Me", None)]})
    parsed = parse_files(db, logical={db: ANDROID_DIR + b"db_im_xx"})
    assert_no_warnings(parsed)
    (message,) = parsed.messages
    assert (message.sender, message.direction, message.account_id, message.body) == (Participant("111", "Me"), "unknown", None, "hey")


def test_current_db_im_xx_alone_is_a_names_store_without_warnings(tmp_path: Path) -> None:
    names = build_database(tmp_path / "db_im_xx", SIMPLE_USER, {"SIMPLE_USER": [("222", "friend.2", "Friend", None)]})
    parsed = parse_files(names, logical={names: ANDROID_DIR + b"db_im_xx"})
    assert parsed.messages == [] and parsed.warnings == []


def test_ios_chatfiles_with_aweme_names(tmp_path: Path) -> None:
    chat = build_database(tmp_path / "db.sqlite", """CREATE TABLE TIMMessageORM (identifier TEXT, localcreatedat REAL,
        servercreatedat INTEGER, sender TEXT, content TEXT, belongingConversationIdentifier TEXT);""",
        {"TIMMessageORM": [("m1", 1684594082.5, 1684594082, "6874298119962887173", json.dumps({"text": "yo"}), "0:1:a:b"),
                           ("m2", 1684594100.0, 1684594100, "999", json.dumps({"tips": "You are now friends"}), "0:1:a:b")]})
    aweme = corpus_file(AWEME)
    parsed = parse_files(chat, aweme, logical={chat: IOS_CONTAINER + b"Library/Application Support/ChatFiles/999/db.sqlite",
                                               aweme: IOS_CONTAINER + b"Documents/AwemeIM.db"})
    assert_no_warnings(parsed)
    first, second = parsed.messages
    assert (first.sender, first.direction, first.sent, first.body) == (
        Participant("6874298119962887173", "ThisIsDFIR Two"), "incoming", 1684594082500000000, "yo")
    assert (second.direction, second.kind, second.body, second.details["tips"]) == ("outgoing", "system", None, "You are now friends")


def test_unknown_schema_at_tiktok_path_warns_once(tmp_path: Path) -> None:
    db = build_database(tmp_path / "111_im.db", "CREATE TABLE msg (id INTEGER PRIMARY KEY, text TEXT);")
    parsed = parse_files(db, logical={db: ANDROID_DIR + b"111_im.db"})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


MINIMAL_MSG = "CREATE TABLE msg (conversation_id TEXT, created_time INTEGER, sender INTEGER, content TEXT);"
USER_BASE_INFO = """CREATE TABLE IM_USER_BASE_INFO (UID TEXT PRIMARY KEY, NICK_NAME TEXT, UNIQUE_ID TEXT, INITIAL_LETTER TEXT,
  AVATAR_THUMB TEXT, FOLLOW_STATUS INTEGER, UPDATE_TIME INTEGER, BLOCK INTEGER, DELETED INTEGER);"""


def test_android_minimal_msg_with_db_im_contact_names(tmp_path: Path) -> None:
    """Only the four required msg columns; names from the newer db_im_contact IM_USER_BASE_INFO (preferred over db_im_xx)."""
    main = build_database(tmp_path / "111_im.db", MINIMAL_MSG, {"msg": [
        ("0:1:111:222", 1700000000000, 222, json.dumps({"text": "see you"})),
        ("0:1:111:222", 1700000001000, 111, json.dumps({"text": "ok"})),
    ]})
    contacts = build_database(tmp_path / "db_im_contact", USER_BASE_INFO, {"IM_USER_BASE_INFO": [
        ("222", "Friend Two", "friend.2", "F", None, 1, 1700000000000, 0, 0)]})
    old = build_database(tmp_path / "db_im_xx", SIMPLE_USER, {"SIMPLE_USER": [("222", "old.2", "Old Name", None)]})
    parsed = parse_files(main, contacts, old, logical={main: ANDROID_DIR + b"111_im.db", contacts: ANDROID_DIR + b"db_im_contact",
                                                       old: ANDROID_DIR + b"db_im_xx"})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"tiktok"}
    assert len(parsed.messages) == 2
    assert parsed.messages[0] == Message(
        source_table="msg", source_row_id=1, conversation_id="0:1:111:222", sender=Participant("222", "Friend Two"),
        direction="incoming", sent=1700000000000000000, sent_raw="1700000000000", body="see you", kind="text",
        account_id="111", details={},
    )
    assert (parsed.messages[1].direction, parsed.messages[1].sender) == ("outgoing", Participant("111"))


def test_ios_minimal_timmessage_with_2018_aweme_contacts(tmp_path: Path) -> None:
    """No servercreatedat; names from the 2018 `AwemeContacts` table (Brignoni's query), not AwemeContactsV5."""
    chat = build_database(tmp_path / "db.sqlite", "CREATE TABLE TIMMessageORM (localcreatedat REAL, sender TEXT, content TEXT,"
                          " belongingConversationIdentifier TEXT);",
                          {"TIMMessageORM": [(1541000000.0, "6500000000000000001", json.dumps({"text": "hello"}), "0:1:a:b"),
                                             (1541000060.0, "999", json.dumps({"text": "hi back"}), "0:1:a:b")]})
    aweme = build_database(tmp_path / "AwemeIM.db", "CREATE TABLE AwemeContacts (uid TEXT, customID TEXT, nickname TEXT,"
                           " latestChatTimestamp INTEGER, url1 TEXT);",
                           {"AwemeContacts": [("6500000000000000001", "pal.one", "Pal One", 1541000000, None)]})
    parsed = parse_files(chat, aweme, logical={chat: IOS_CONTAINER + b"Library/Application Support/ChatFiles/999/db.sqlite",
                                               aweme: IOS_CONTAINER + b"Documents/AwemeIM.db"})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 2
    assert parsed.messages[0] == Message(
        source_table="TIMMessageORM", source_row_id=1, conversation_id="0:1:a:b",
        sender=Participant("6500000000000000001", "Pal One"), direction="incoming", sent=1541000000000000000,
        sent_raw="1541000000.0", body="hello", kind="text", account_id="999", details={},
    )
    assert parsed.messages[1].direction == "outgoing"
    alone = parse_files(aweme, logical={aweme: IOS_CONTAINER + b"Documents/AwemeIM.db"})
    assert alone.messages == []
    (notice,) = alone.warnings
    assert (notice.kind, notice.severity, notice.table) == ("contacts_only", "info", "AwemeContacts")
    assert "1 contacts; 6500000000000000001 (Pal One) last chat 2018-10-31T15:33:20Z" in notice.message


def test_hostile_minimal_msg_types_and_bad_names_store(tmp_path: Path) -> None:
    main = build_database(tmp_path / "111_im.db", MINIMAL_MSG, {"msg": [
        (b"\xff\x00", "noon", b"\x80", json.dumps(["a", "list"])),
        (None, 2**62, None, b"{\"text\": \"blob json\"}"),
        ("0:1", 1700000000000, 111, json.dumps({"text": 5})),
    ]})
    broken = tmp_path / "db_im_contact"
    broken.write_bytes(b"SQLite format 3\x00" + b"\xff" * 200)
    parsed = parse_files(main, broken, logical={main: ANDROID_DIR + b"111_im.db", broken: ANDROID_DIR + b"db_im_contact"})
    assert len(parsed.messages) == 3
    assert sorted((w.kind, w.row_id or 0) for w in parsed.warnings) == [("bad_time", 1), ("bad_time", 2), ("companion_unreadable", 0)]
    by_row = {m.source_row_id: m for m in parsed.messages}
    assert (by_row[1].conversation_id.raw, by_row[1].sender.id.raw, by_row[1].body) == (b"\xff\x00", b"\x80", None)
    assert by_row[1].details["content"] == '["a", "list"]'
    assert (by_row[2].body, by_row[2].sender, by_row[2].direction) == ("blob json", None, "unknown")
    assert (by_row[3].body, by_row[3].kind, by_row[3].direction) == (None, "unknown", "outgoing")


def test_truncated_minimal_msg_store_is_one_unreadable_row(tmp_path: Path) -> None:
    from tests.chat.hostile import assert_truncated_store_is_unreadable

    rows = [("0:1", 1700000000000 + i, 222, json.dumps({"text": "x" * 200})) for i in range(400)]
    db = build_database(tmp_path / "111_im.db", MINIMAL_MSG, {"msg": rows})
    assert_truncated_store_is_unreadable(db, ANDROID_DIR + b"111_im.db")


def test_aweme_contact_tables_found_by_pattern_only(tmp_path: Path) -> None:
    """Only `AwemeContacts`/`AwemeContactsV<n>` tables that have `uid` give names; look-alikes are left alone."""
    chat = build_database(tmp_path / "db.sqlite", "CREATE TABLE TIMMessageORM (localcreatedat REAL, sender TEXT, content TEXT,"
                          " belongingConversationIdentifier TEXT);",
                          {"TIMMessageORM": [(1700000000.0, "1", json.dumps({"text": "a"}), "c"),
                                             (1700000001.0, "2", json.dumps({"text": "b"}), "c"),
                                             (1700000002.0, "3", json.dumps({"text": "c"}), "c")]})
    aweme = build_database(tmp_path / "AwemeIM.db", """
        CREATE TABLE AwemeContactsV6 (uid INTEGER, customID BLOB, nickname INTEGER);
        CREATE TABLE AwemeContactsV7 (user TEXT, nickname TEXT);
        CREATE TABLE "AwemeContacts_backup" (uid TEXT, nickname TEXT);
        CREATE TABLE "AwemeContactsV1; DROP TABLE x" (uid TEXT, nickname TEXT);""", {
        "AwemeContactsV6": [(1, b"\xff", None), (2, None, 42)],
        "AwemeContactsV7": [("3", "never read")],
        "AwemeContacts_backup": [("3", "not a contacts table")],
        '"AwemeContactsV1; DROP TABLE x"': [("3", "hostile name")],
    })
    parsed = parse_files(chat, aweme, logical={chat: IOS_CONTAINER + b"Library/Application Support/ChatFiles/9/db.sqlite",
                                               aweme: IOS_CONTAINER + b"Documents/AwemeIM.db"})
    assert_no_warnings(parsed)
    senders = [m.sender for m in parsed.messages]
    assert senders[1:] == [Participant("2", "42"), Participant("3")]
    assert (senders[0].id, senders[0].name.raw) == ("1", b"\xff")
