"""Messenger Android stores whose name tables are absent: messages are still read (no names).

Facts: ALEAPP `scripts/artifacts/FacebookMessenger.py` (msys `messages`/`contacts`/`threads`/
`participants`/`attachments`/`reactions`; threads_db2 `messages`/`thread_users`/`threads`; its
threads_db2 reader probes four spellings of the reaction time column across generations, and its
samples list Messenger (com.facebook.orca) version codes 323609457..343213368 on Android 13..16). No
public source found here documents an msys store without `contacts` or a threads_db2 without
`thread_users`; these fixtures show the minimum-column guarantee, not a documented build.
"""

from __future__ import annotations

from pathlib import Path

from manifests.records import Message, Participant
from tests.chat.helpers import build_database, parse_files
from tests.chat.test_messenger_android import LEGACY_LOGICAL, MSYS_LOGICAL, OWNER


def test_msys_without_contacts_or_participants(tmp_path: Path) -> None:
    db = build_database(tmp_path / f"msys_database_{OWNER}", """
        CREATE TABLE messages (thread_key INTEGER, timestamp_ms INTEGER, message_id TEXT PRIMARY KEY, sender_id INTEGER, text TEXT);
        CREATE TABLE threads (thread_key INTEGER PRIMARY KEY);
    """, {"messages": [(5001, 1600000000000, "mid.$b1", 200002222, "hello"), (5001, 1600000060000, "mid.$b2", int(OWNER), "hi")],
          "threads": [(5001,)]})
    parsed = parse_files(db, logical={db: MSYS_LOGICAL})
    assert parsed.warnings == []
    assert parsed.messages == [
        Message(source_table="messages", source_row_id=1, conversation_id="5001", sender=Participant("200002222"),
                direction="incoming", sent=1600000000000 * 10**6, sent_raw="1600000000000", body="hello", kind="text",
                account_id=OWNER, details={"message_id": "mid.$b1"}),
        Message(source_table="messages", source_row_id=2, conversation_id="5001", sender=Participant(OWNER),
                direction="outgoing", sent=1600000060000 * 10**6, sent_raw="1600000060000", body="hi", kind="text",
                account_id=OWNER, details={"message_id": "mid.$b2"})]


def test_threads_db2_without_thread_users(tmp_path: Path) -> None:
    db = build_database(tmp_path / "threads_db2", """
        CREATE TABLE messages (msg_id TEXT PRIMARY KEY, thread_key TEXT, text TEXT, sender TEXT, timestamp_ms INTEGER);
        CREATE TABLE threads (thread_key TEXT PRIMARY KEY);
    """, {"messages": [("m1", "ONE_TO_ONE:1:2", "old", '{"user_key": "FACEBOOK:200002222", "name": "John"}', 1400000000000),
                       ("m2", "ONE_TO_ONE:1:2", "typed", 17, "soon")],
          "threads": [("ONE_TO_ONE:1:2",)]})
    parsed = parse_files(db, logical={db: LEGACY_LOGICAL})
    assert [(w.kind, w.row_id) for w in parsed.warnings] == [("bad_time", 2)]
    assert parsed.messages[0] == Message(
        source_table="messages", source_row_id=1, conversation_id="ONE_TO_ONE:1:2", sender=Participant("200002222", "John"),
        sent=1400000000000 * 10**6, sent_raw="1400000000000", body="old", kind="text",
        details={"msg_id": "m1", "sender_user_key": "FACEBOOK:200002222"})
    assert (parsed.messages[1].sender, parsed.messages[1].sent) == (None, None)  # sender 17 is JSON but not an object


def test_messages_table_without_threads_is_not_taken_for_messenger(tmp_path: Path) -> None:
    """Without the `threads` marker table a bare `messages` table is not claimed (other apps use the same names)."""
    db = build_database(tmp_path / "other.db", """
        CREATE TABLE messages (thread_key INTEGER, timestamp_ms INTEGER, message_id TEXT PRIMARY KEY, sender_id INTEGER, text TEXT);
    """, {"messages": [(1, 1600000000000, "x", 2, "not messenger")]})
    parsed = parse_files(db)
    assert "messenger_android" not in parsed.parser_names()


def test_ssus_renamed_threads_db2_takes_the_owner_from_its_name(tmp_path: Path) -> None:
    """From at least 379.1.0.23.114 the file is `ssus.<account id>.threads_db2` (ALEAPP PR #297, 2022)."""
    from parsers.chat.messenger_android import PARSER
    from tests.chat.test_messenger_android import LEGACY_DDL

    assert PARSER.path_matches("/data/data/com.facebook.orca/databases/ssus.100001111.threads_db2")

    db = build_database(tmp_path / "ssus.100001111.threads_db2", LEGACY_DDL, {
        "messages": [("m1", "ONE_TO_ONE:1:2", 1, "mine", '{"user_key": "FACEBOOK:100001111", "name": "Jane"}', 1500000000000,
                      None, None, None, 0, None, None)],
        "threads": [("ONE_TO_ONE:1:2", None)]})
    parsed = parse_files(db, logical={db: b"/data/data/com.facebook.orca/databases/ssus.100001111.threads_db2"})
    assert parsed.warnings == []
    assert parsed.messages == [Message(
        source_table="messages", source_row_id=1, conversation_id="ONE_TO_ONE:1:2", sender=Participant(OWNER, "Jane"),
        direction="outgoing", sent=1500000000000 * 10**6, sent_raw="1500000000000", body="mine", kind="text", account_id=OWNER,
        details={"msg_id": "m1", "sender_user_key": "FACEBOOK:100001111", "msg_type": "0"})]


def test_threads_db2_reactions_are_kept_with_any_time_column(tmp_path: Path) -> None:
    """message_reactions(msg_id, reaction, <time>): the time column's spelling varies by generation (ALEAPP)."""
    from tests.chat.test_messenger_android import LEGACY_DDL

    db = build_database(tmp_path / "threads_db2", LEGACY_DDL + """
        CREATE TABLE message_reactions (msg_id TEXT, reaction TEXT, reaction_creation_time_ms INTEGER);
    """, {"messages": [("m1", "T1", 1, "nice", '{"user_key": "FACEBOOK:200002222", "name": "John"}', 1500000000000,
                        None, None, None, 0, None, None)],
          "threads": [("T1", None)], "message_reactions": [("m1", "😮", 1500000001000), ("m1", "👍", 1500000002000)]})
    parsed = parse_files(db, logical={db: LEGACY_LOGICAL})
    assert parsed.warnings == []
    assert parsed.messages == [Message(
        source_table="messages", source_row_id=1, conversation_id="T1", sender=Participant("200002222", "John"),
        sent=1500000000000 * 10**6, sent_raw="1500000000000", body="nice", kind="text",
        details={"msg_id": "m1", "reactions": "😮; 👍", "sender_user_key": "FACEBOOK:200002222", "msg_type": "0"})]
