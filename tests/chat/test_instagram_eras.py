"""Instagram stores with only the minimum columns: every message is still read.

Facts (docs/chat-schema-otherhist.md): ALEAPP `scripts/artifacts/instagram.py` (2026) reads Android
`direct.db` `messages` (JSON copy of each item, epoch-µs `timestamp`) and `threads` (`thread_info`
JSON, `last_activity_time`) on Android 10..17 test images and finds the owner in the `session` table;
the iOS file is `DirectSQLiteDatabase/<owner pk>.db` (plaso sample 9368974384.db). No public source
here documents a build without `thread_info`, `message_id` or `viewer_id`; the tests show the
minimum-column guarantee, not a documented build.
"""

from __future__ import annotations

import json
from pathlib import Path

from manifests.records import Message, Participant
from parsers.chat.times import cocoa_seconds
from tests.chat.helpers import build_database, parse_files
from tests.chat.test_instagram_android import FRIEND, OWNER, item
from tests.chat.test_instagram_ios import LOGICAL as IOS_LOGICAL
from tests.chat.test_instagram_ios import _message_archive

ANDROID_LOGICAL = b"/data/data/com.instagram.android/databases/direct.db"
THREAD = "340282366841710300949128171234567890"


def test_android_minimum_columns_with_session_owner(tmp_path: Path) -> None:
    db = build_database(tmp_path / "direct.db", """
        CREATE TABLE messages (_id INTEGER PRIMARY KEY, thread_id TEXT, timestamp INTEGER, message TEXT);
        CREATE TABLE threads (thread_id TEXT);
        CREATE TABLE session (user_id TEXT);
    """, {"messages": [(1, THREAD, 1690000000123456, item("2895001", "text", FRIEND, 1690000000123456, text="hi")),
                       (2, THREAD, 1690000060000000, item("2895002", "text", OWNER, 1690000060000000, text="yo"))],
          "threads": [(THREAD,)], "session": [(OWNER,)]})
    parsed = parse_files(db, logical={db: ANDROID_LOGICAL})
    assert parsed.warnings == []
    assert parsed.messages[0] == Message(
        source_table="messages", source_row_id=1, conversation_id=THREAD, sender=Participant(FRIEND), direction="incoming",
        sent=1690000000123456000, sent_raw="1690000000123456", body="hi", kind="text", account_id=OWNER,
        details={"item_id": "2895001", "item_type": "text"})
    assert (parsed.messages[1].direction, parsed.messages[1].sender) == ("outgoing", Participant(OWNER))


def test_android_hostile_thread_info_and_types(tmp_path: Path) -> None:
    """thread_info that is a JSON list, a message JSON that is a string and a text timestamp end as data."""
    db = build_database(tmp_path / "direct.db", """
        CREATE TABLE messages (_id INTEGER PRIMARY KEY, thread_id TEXT, timestamp INTEGER, message TEXT, text TEXT);
        CREATE TABLE threads (thread_id TEXT, thread_info TEXT);
    """, {"messages": [(1, THREAD, "later", json.dumps("just a string"), "kept"), (2, None, 5, "[]", None)],
          "threads": [(THREAD, "[1, 2]")]})
    parsed = parse_files(db, logical={db: ANDROID_LOGICAL})
    assert [(w.kind, w.row_id) for w in parsed.warnings] == [("bad_time", 1)]
    # ORDER BY timestamp puts the text value after the number (SQLite sorts text after integers).
    assert [(m.source_row_id, m.body, m.sender, m.direction) for m in parsed.messages] == [(2, None, None, "unknown"),
                                                                                          (1, "kept", None, "unknown")]


def test_ios_minimum_columns_owner_from_file_name(tmp_path: Path) -> None:
    db = build_database(tmp_path / "9368974384.db", """
        CREATE TABLE threads (thread_id TEXT UNIQUE NOT NULL, row_id INTEGER PRIMARY KEY AUTOINCREMENT);
        CREATE TABLE messages (thread_id TEXT NOT NULL, archive BLOB NOT NULL, row_id INTEGER PRIMARY KEY AUTOINCREMENT);
    """, {"threads": [("t1", 1)], "messages": [("t1", _message_archive(3), 1), ("t-unlisted", _message_archive(3), 2)]})
    parsed = parse_files(db, logical={db: IOS_LOGICAL})
    assert parsed.warnings == []
    golden = Message(source_table="messages", source_row_id=1, conversation_id="t1", sender=Participant("22824420"),
                     direction="incoming", sent=cocoa_seconds(606793277.5), sent_raw="606793277.5", body="hello", kind="text",
                     account_id="9368974384", details={"subtype": "SUBTYPE_TEXT"})
    assert parsed.messages[0] == golden
    assert parsed.messages[1].account_id == "9368974384" and parsed.messages[1].direction == "incoming"
