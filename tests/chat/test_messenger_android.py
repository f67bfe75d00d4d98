"""Facebook Messenger Android: fixtures from the documented schemas (no corpus sample).

Facts (own words; source: ALEAPP scripts/artifacts/FacebookMessenger.py):
- current `msys_database_<uid>`: messages(message_id, thread_key, sender_id, text, timestamp_ms Unix ms,
  is_admin_message), contacts(id, name, username), attachments(message_id, title_text, subtitle_text,
  filename, playable_url_mime_type, playable_url), reactions(message_id, reaction,
  reaction_creation_timestamp_ms, actor_id), participants(thread_key, contact_id), threads(thread_key, thread_name).
- legacy `threads_db2`: messages(msg_id, thread_key, text, sender JSON {user_key 'FACEBOOK:<id>', name},
  timestamp_ms, timestamp_sent_ms, msg_type, attachments JSON, shares JSON,
  generic_admin_message_extensible_data JSON with call_duration), thread_users(user_key, first_name,
  last_name, name), threads(thread_key, name); owner id in the text file `threads_db2-uid`.
"""

from __future__ import annotations

import json
from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, parse_files

OWNER = "100001111"
MSYS_LOGICAL = f"/data/data/com.facebook.orca/databases/msys_database_{OWNER}".encode()
LEGACY_LOGICAL = b"/data/data/com.facebook.orca/databases/threads_db2"

MSYS_DDL = """
CREATE TABLE messages (thread_key INTEGER, timestamp_ms INTEGER, message_id TEXT PRIMARY KEY, offline_threading_id TEXT,
  sender_id INTEGER, text TEXT, is_admin_message INTEGER, is_unsent INTEGER);
CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT, normalized_name_for_search TEXT, username TEXT);
CREATE TABLE threads (thread_key INTEGER PRIMARY KEY, thread_name TEXT, last_activity_timestamp_ms INTEGER);
CREATE TABLE participants (thread_key INTEGER, contact_id INTEGER, PRIMARY KEY (thread_key, contact_id));
CREATE TABLE attachments (message_id TEXT, thread_key INTEGER, title_text TEXT, subtitle_text TEXT, filename TEXT,
  playable_url_mime_type TEXT, playable_url TEXT);
CREATE TABLE reactions (thread_key INTEGER, message_id TEXT, actor_id INTEGER, reaction TEXT, reaction_creation_timestamp_ms INTEGER);
"""

LEGACY_DDL = """
CREATE TABLE messages (msg_id TEXT PRIMARY KEY, thread_key TEXT, action_id INTEGER, text TEXT, sender TEXT,
  timestamp_ms INTEGER, timestamp_sent_ms INTEGER, attachments TEXT, shares TEXT, msg_type INTEGER,
  generic_admin_message_extensible_data TEXT, snippet TEXT);
CREATE TABLE thread_users (user_key TEXT PRIMARY KEY, first_name TEXT, last_name TEXT, name TEXT, username TEXT);
CREATE TABLE threads (thread_key TEXT PRIMARY KEY, name TEXT);
"""


def msys_fixture(tmp_path: Path) -> Path:
    return build_database(tmp_path / f"msys_database_{OWNER}", MSYS_DDL, {
        "messages": [
            (5001, 1600000000000, "mid.$a1", "7001", 200002222, "Hi there", 0, 0),
            (5001, 1600000060000, "mid.$a2", "7002", int(OWNER), None, 0, 0),
            (5001, 1600000120000, "mid.$a3", "7003", int(OWNER), None, 0, 0),
            (5001, 1600000180000, "mid.$a4", "7004", 200002222, "You named the group Trip.", 1, 0),
        ],
        "contacts": [(int(OWNER), "Jane Owner", "jane owner", "jane.owner"), (200002222, "John Friend", "john friend", "john.f")],
        "threads": [(5001, "Trip", 1600000180000)],
        "participants": [(5001, int(OWNER)), (5001, 200002222)],
        "attachments": [("mid.$a2", 5001, None, None, "image-1.jpg", "image/jpeg", "https://scontent.example/image-1.jpg"),
                        ("mid.$a3", 5001, "Video call ended", "2 min", None, None, None)],
        "reactions": [(5001, "mid.$a1", int(OWNER), "❤", 1600000010000)],
    })


def test_msys_current_variant(tmp_path: Path) -> None:
    db = msys_fixture(tmp_path)
    parsed = parse_files(db, logical={db: MSYS_LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"messenger_android"}
    assert len(parsed.messages) == 4
    assert [m.kind for m in parsed.messages] == ["text", "media", "call", "system"]
    assert [m.direction for m in parsed.messages] == ["incoming", "outgoing", "outgoing", "incoming"]
    assert parsed.time_range() == ("2020-09-13T12:26:40Z", "2020-09-13T12:29:40Z")
    assert parsed.messages[0] == Message(
        source_table="messages", source_row_id=1, conversation_id="5001", conversation_title="Trip",
        sender=Participant("200002222", "John Friend"), recipients=(Participant(OWNER, "Jane Owner"),), direction="incoming",
        sent=1600000000000 * 10**6, sent_raw="1600000000000", body="Hi there", kind="text", is_deleted=False,
        account_id=OWNER, details={"message_id": "mid.$a1", "is_admin_message": "0", "offline_threading_id": "7001",
                                   "reactions": f"{OWNER}:❤"},
    )
    photo = parsed.messages[1]
    assert photo.attachments == (Attachment(file_name="image-1.jpg", mime_type="image/jpeg", local_path="https://scontent.example/image-1.jpg"),)
    assert parsed.messages[2].details["attachment_text"] == "Video call ended | 2 min"


def legacy_fixture(tmp_path: Path, bad_sender: bool = False) -> Path:
    sender = lambda key, name: json.dumps({"user_key": key, "name": name, "email": None})  # noqa: E731
    return build_database(tmp_path / "threads_db2", LEGACY_DDL, {
        "messages": [
            ("m_1", "ONE_TO_ONE:200002222:100001111", 1, "Hello old app", sender("FACEBOOK:200002222", "John F."),
             1500000000000, 1499999999000, None, None, 0, None, None),
            ("m_2", "ONE_TO_ONE:200002222:100001111", 2, None, "{not json" if bad_sender else sender(f"FACEBOOK:{OWNER}", "Jane"),
             1500000100000, 1500000099000, json.dumps([{"filename": "photo.jpg", "mime_type": "image/jpeg"}]), None, 0, None, None),
            ("m_3", "ONE_TO_ONE:200002222:100001111", 3, None, sender(f"FACEBOOK:{OWNER}", "Jane"), 1500000200000, None, None, None,
             0, json.dumps({"call_duration": 42, "video": False, "caller_id": OWNER}), "You called John."),
        ],
        "thread_users": [("FACEBOOK:200002222", "John", "Friend", "John Friend", "john.f"), (f"FACEBOOK:{OWNER}", "Jane", "Owner", "Jane Owner", None)],
        "threads": [("ONE_TO_ONE:200002222:100001111", None)],
    })


def test_threads_db2_legacy_variant_with_uid_file(tmp_path: Path) -> None:
    db = legacy_fixture(tmp_path)
    uid = tmp_path / "threads_db2-uid"
    uid.write_text(OWNER + "\n")
    parsed = parse_files(db, uid, logical={db: LEGACY_LOGICAL, uid: LEGACY_LOGICAL + b"-uid"})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"messenger_android"}
    assert len(parsed.messages) == 3
    assert [m.kind for m in parsed.messages] == ["text", "media", "call"]
    assert [m.direction for m in parsed.messages] == ["incoming", "outgoing", "outgoing"]
    assert parsed.messages[0] == Message(
        source_table="messages", source_row_id=1, conversation_id="ONE_TO_ONE:200002222:100001111",
        sender=Participant("200002222", "John Friend"), direction="incoming", sent=1500000000000 * 10**6,
        sent_raw="1500000000000", body="Hello old app", kind="text", account_id=OWNER,
        details={"msg_id": "m_1", "sender_user_key": "FACEBOOK:200002222", "msg_type": "0", "timestamp_sent_ms": "1499999999000"},
    )
    assert parsed.messages[1].attachments == (Attachment(file_name="photo.jpg", mime_type="image/jpeg"),)
    assert parsed.messages[2].details["call_duration"] == "42" and parsed.messages[2].body is None


def test_legacy_without_uid_and_bad_json(tmp_path: Path) -> None:
    db = legacy_fixture(tmp_path, bad_sender=True)
    parsed = parse_files(db, logical={db: LEGACY_LOGICAL})
    assert len(parsed.messages) == 3
    assert {m.direction for m in parsed.messages} == {"unknown"}
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_json", 2, "sender")]
    assert parsed.messages[1].sender is None and parsed.messages[1].kind == "media"


def test_unknown_schema_at_messenger_path_is_reported(tmp_path: Path) -> None:
    db = build_database(tmp_path / "threads_db2", "CREATE TABLE messages (id INTEGER PRIMARY KEY, blob BLOB);")
    parsed = parse_files(db, logical={db: LEGACY_LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


def test_without_rowid_messages_table_is_read_and_reported(tmp_path: Path) -> None:
    ddl = MSYS_DDL.replace("is_unsent INTEGER);", "is_unsent INTEGER) WITHOUT ROWID;", 1)
    db = build_database(tmp_path / f"msys_database_{OWNER}", ddl, {
        "messages": [(5001, 1600000000000, "mid.$a1", "7001", 200002222, "Hi there", 0, 0)],
        "contacts": [(200002222, "John Friend", None, None)], "threads": [(5001, None, None)],
    })
    parsed = parse_files(db, logical={db: MSYS_LOGICAL})
    assert [(w.kind, w.table) for w in parsed.warnings] == [("no_rowid", "messages")]
    assert [(m.source_row_id, m.body, m.sender) for m in parsed.messages] == [(None, "Hi there", Participant("200002222", "John Friend"))]
