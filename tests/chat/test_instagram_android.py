"""Instagram Android direct.db: fixture from the documented schema (no corpus sample).

Facts (own words; sources: karlicoss/HPI src/my/instagram/android.py, a public direct.db analyser note):
messages(_id, user_id = account owner, server_item_id, client_item_id, thread_id, timestamp Unix µs, message_type,
text, message JSON {item_id, item_type, user_id = sender, timestamp, text, reel_share.text, action_log.description,
edit_count, edit_history [{body, timestamp}], reactions {emojis [{sender_id, emoji}]}}); threads(thread_id,
thread_info JSON {thread_v2_id, thread_title, inviter, recipients [{pk|pk_id|id, username, full_name}]}).
"""

from __future__ import annotations

import json
from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, parse_files

LOGICAL = b"/data/data/com.instagram.android/databases/direct.db"
OWNER = "4455667788"
FRIEND = "1122334455"
DDL = """
CREATE TABLE messages (_id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL, server_item_id TEXT, client_item_id TEXT,
  thread_id TEXT, recipient_ids TEXT, timestamp INTEGER, message_type TEXT, text TEXT, message TEXT);
CREATE TABLE threads (_id INTEGER PRIMARY KEY AUTOINCREMENT, user_id TEXT NOT NULL, thread_id TEXT, thread_info TEXT);
"""


def item(item_id: str, item_type: str, sender: str, stamp: int, **extra: object) -> str:
    return json.dumps({"item_id": item_id, "item_type": item_type, "user_id": int(sender), "timestamp": str(stamp),
                       "thread_key": {"thread_id": "340282366841710300949128171234567890"}, **extra})


def fixture(tmp_path: Path, bad: bool = False) -> Path:
    thread = "340282366841710300949128171234567890"
    info = json.dumps({"thread_id": thread, "thread_v2_id": "17850000000000001", "thread_title": "pal_of_mine",
                       "inviter": {"pk": OWNER, "username": "me_owner", "full_name": "Me Owner"},
                       "recipients": [{"pk_id": FRIEND, "username": "pal_of_mine", "full_name": "Pal Of Mine"}]})
    return build_database(tmp_path / "direct.db", DDL, {
        "threads": [(1, OWNER, thread, info)],
        "messages": [
            (1, OWNER, "2895001", "6900001", thread, None, 1690000000123456, "text", "see you at 8",
             item("2895001", "text", FRIEND, 1690000000123456, text="see you at 8", edit_count=1,
                  edit_history=[{"body": "see you at 7", "timestamp": 1690000000500}],
                  reactions={"emojis": [{"sender_id": int(OWNER), "emoji": "👍", "timestamp": 1690000001000000}]})),
            (2, OWNER, "2895002", "6900002", thread, None, 1690000060000000, "media", None,
             "{broken" if bad else item("2895002", "media", OWNER, 1690000060000000,
                                        media={"image_versions2": {"candidates": [{"url": "https://scontent.example/p.jpg", "width": 1080}]}})),
            (3, OWNER, "2895003", "6900003", thread, None, 1690000120000000, "action_log", None,
             item("2895003", "action_log", FRIEND, 1690000120000000, action_log={"description": "Liked a message"})),
        ],
    })


def test_direct_db(tmp_path: Path) -> None:
    db = fixture(tmp_path)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"instagram_android"}
    assert len(parsed.messages) == 3
    assert [(m.direction, m.kind, m.body) for m in parsed.messages] == [
        ("incoming", "text", "see you at 8"), ("outgoing", "media", None), ("incoming", "system", "Liked a message")]
    assert parsed.time_range() == ("2023-07-22T04:26:40Z", "2023-07-22T04:28:40Z")
    assert parsed.messages[0] == Message(
        source_table="messages", source_row_id=1, conversation_id="340282366841710300949128171234567890",
        conversation_title="pal_of_mine", sender=Participant(FRIEND, "Pal Of Mine"), recipients=(Participant(OWNER, "Me Owner"),),
        direction="incoming", sent=1690000000123456000, sent_raw="1690000000123456", body="see you at 8", kind="text",
        is_edited=True, account_id=OWNER,
        details={"server_item_id": "2895001", "client_item_id": "6900001", "item_id": "2895001", "item_type": "text",
                 "thread_v2_id": "17850000000000001", "edit_history": "see you at 7", "reactions": f"{OWNER}:👍"},
    )
    assert parsed.messages[1].attachments == (Attachment(local_path="https://scontent.example/p.jpg"),)


def test_bad_message_json_keeps_the_row(tmp_path: Path) -> None:
    db = fixture(tmp_path, bad=True)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_json", 2, "message")]
    assert len(parsed.messages) == 3
    broken = parsed.messages[1]
    assert (broken.sender, broken.direction, broken.kind, broken.details["item_type"]) == (None, "unknown", "media", "media")


def test_unknown_schema_at_direct_db_path_is_reported(tmp_path: Path) -> None:
    db = build_database(tmp_path / "direct.db", "CREATE TABLE messages (id INTEGER PRIMARY KEY, blob BLOB);")
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]
