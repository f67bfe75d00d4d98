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
