"""Messenger Lite Android core.db, from fixtures built here (no corpus sample).

Facts used (see parsers/chat/messenger_lite.py; source: MonroCoury Forensic_Tools
`facebook_scanner.py`, 2017): `messages(sender, thread_key, timestamp ms, snippet, is_unsent,
attachment_*, media_playable_url, voice_call_*, user_id)`, an empty sender = the owner;
`threads(thread_key, thread_name)`, `contact(contact_user_id, name)`,
`aggregated_calls(thread_name, updated_timestamp ms, is_incoming, is_answered, attempt_count)`;
the account in the companion `cross_account.db` `accounts(user_id, display_name)`.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, parse_files, truncate_to_half
from tests.chat.hostile import assert_side_table_stopped, rows_before_damage, wreck_last_page, wreck_middle_page

CORE = b"/data/data/com.facebook.mlite/databases/core.db"
CROSS = b"/data/data/com.facebook.mlite/databases/cross_account.db"

SCHEMA = """
CREATE TABLE messages (_id INTEGER PRIMARY KEY, message_id TEXT, sender TEXT, thread_key TEXT, timestamp INTEGER, snippet TEXT,
  is_unsent INTEGER, attachment_filename TEXT, attachment_filesize INTEGER, attachment_mime_type TEXT, media_playable_url TEXT,
  voice_call_duration_s INTEGER, voice_call_start_time INTEGER, is_voice_call_answered INTEGER, is_voice_call_incoming INTEGER,
  user_id TEXT);
CREATE TABLE threads (thread_key TEXT PRIMARY KEY, thread_name TEXT);
CREATE TABLE contact (contact_user_id TEXT PRIMARY KEY, name TEXT, profile_picture_url TEXT, is_blocked INTEGER,
  last_seen_timestamp INTEGER, last_seen_update_timestamp INTEGER, is_friend INTEGER);
CREATE TABLE aggregated_calls (_id INTEGER PRIMARY KEY, thread_name TEXT, updated_timestamp INTEGER, is_incoming INTEGER,
  is_answered INTEGER, attempt_count INTEGER);
"""
CROSS_SCHEMA = "CREATE TABLE accounts (user_id TEXT PRIMARY KEY, display_name TEXT, profile_pic TEXT, nonce TEXT);"
OWNER = "100001"
RAY = "100002"
SAM = "100003"
DM = f"ONE_TO_ONE:{RAY}:{OWNER}"
GROUP = "GROUP:5550001"
ME = Participant(OWNER, "Olive Owner")


def _rows() -> list[tuple]:
    return [
        (1, "mid.1", "Ray R", DM, 1600000000123, "send me a photo", 0, None, None, None, None, None, None, None, None, RAY),
        (2, "mid.2", None, DM, 1600000060000, "why", 0, None, None, None, None, None, None, None, None, OWNER),
        (3, "mid.3", "Ray R", DM, 1600000120000, None, 0, "IMG_1.jpg", 204800, "image/jpeg", "https://cdn.example/1", None, None,
         None, None, RAY),
        (4, "mid.4", "Ray R", DM, 1600000180000, None, None, None, None, None, None, 65, 1600000180500, 1, 1, RAY),
        (5, "mid.5", None, GROUP, 1600000240000, "hi all", 1, None, None, None, None, None, None, None, None, OWNER),
        (6, "mid.6", "Sam S", GROUP, 1600000300000, "hello", 0, None, None, None, None, None, None, None, None, SAM),
    ]


def _fixture(tmp_path: Path, rows: list[tuple] | None = None, accounts: list[tuple] | None = None) -> tuple[Path, Path]:
    core = build_database(tmp_path / "core.db", SCHEMA, {
        "messages": _rows() if rows is None else rows,
        "threads": [(DM, "Ray R"), (GROUP, "Night owls")],
        "contact": [(RAY, "Ray Contact", None, 0, None, None, 1), (SAM, "Sam S", None, 0, None, None, 0)],
        "aggregated_calls": [(1, "Ray R", 1600000400000, 1, 0, 2), (2, "Sam S", 1600000500000, 0, 1, 1)]})
    cross = build_database(tmp_path / "cross_account.db", CROSS_SCHEMA,
                           {"accounts": [(OWNER, "Olive Owner", None, "n1")] if accounts is None else accounts})
    return core, cross


def test_messages_calls_and_golden_record(tmp_path: Path) -> None:
    core, cross = _fixture(tmp_path)
    parsed = parse_files(core, cross, logical={core: CORE, cross: CROSS})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"messenger_lite"}
    assert len(parsed.messages) == 8  # 6 messages + 2 aggregated calls
    ray = Participant(RAY, "Ray R")
    assert parsed.messages[2] == Message(
        source_table="messages", source_row_id=3, conversation_id=DM, conversation_title="Ray R", sender=ray,
        recipients=(ME,), direction="incoming", sent=1600000120000000000, sent_raw="1600000120000", body=None, kind="media",
        attachments=(Attachment(file_name="IMG_1.jpg", mime_type="image/jpeg", size=204800),), account_id=OWNER,
        details={"is_unsent": "0", "media_url": "https://cdn.example/1"},
    )
    first, second, _, call, group_out, group_in, log_in, log_out = parsed.messages
    assert (first.direction, first.sender, first.recipients, first.kind) == ("incoming", ray, (ME,), "text")
    assert (second.direction, second.sender, second.recipients) == ("outgoing", ME, (Participant(RAY, "Ray Contact"),))
    assert (call.kind, call.details) == ("call", {"call_duration_s": "65", "call_answered": "1", "call_incoming": "1",
                                                 "call_start_time": "1600000180500"})
    assert (group_out.direction, group_out.recipients, group_out.details) == (
        "outgoing", (Participant(SAM, "Sam S"),), {"is_unsent": "1", "thread_type": "group"})
    assert (group_in.sender, group_in.conversation_title) == (Participant(SAM, "Sam S"), "Night owls")
    assert log_in == Message(source_table="aggregated_calls", source_row_id=1, conversation_title="Ray R", sender=None,
                             recipients=(ME,), direction="incoming", sent=1600000400000000000, sent_raw="1600000400000",
                             kind="call", account_id=OWNER, details={"is_incoming": "1", "is_answered": "0", "attempt_count": "2"})
    assert (log_out.direction, log_out.sender) == ("outgoing", ME)


def test_without_cross_account_owner_is_unknown_but_direction_stays(tmp_path: Path) -> None:
    core, _ = _fixture(tmp_path)
    parsed = parse_files(core, logical={core: CORE})
    assert_no_warnings(parsed)
    assert [m.direction for m in parsed.messages[:6]] == ["incoming", "outgoing", "incoming", "incoming", "outgoing", "incoming"]
    assert parsed.messages[1].sender == Participant(OWNER, None)  # the writer id, no owner name
    assert {m.account_id for m in parsed.messages} == {None}


def test_two_accounts_leave_the_owner_unknown_with_a_warning(tmp_path: Path) -> None:
    core, cross = _fixture(tmp_path, accounts=[(OWNER, "Olive Owner", None, None), ("100009", "Other", None, None)])
    parsed = parse_files(core, cross, logical={core: CORE, cross: CROSS})
    assert [(w.kind, w.table) for w in parsed.warnings] == [("owner_ambiguous", "accounts")]
    assert {m.account_id for m in parsed.messages} == {None}


def test_minimal_store_reads_every_message(tmp_path: Path) -> None:
    """Only the four required columns: no names, titles or calls, and every row still read."""
    core = build_database(tmp_path / "core.db", "CREATE TABLE messages (sender TEXT, thread_key TEXT, timestamp INTEGER, snippet TEXT);",
                          {"messages": [("Ray R", DM, 1600000000000, "hi"), (None, DM, 1600000001000, "hey")]})
    parsed = parse_files(core, logical={core: CORE})
    assert_no_warnings(parsed)
    assert parsed.messages == [
        Message(source_table="messages", source_row_id=1, conversation_id=DM, sender=Participant(None, "Ray R"), direction="incoming",
                sent=1600000000000000000, sent_raw="1600000000000", body="hi", kind="text", details={}),
        Message(source_table="messages", source_row_id=2, conversation_id=DM, sender=None, direction="outgoing",
                sent=1600000001000000000, sent_raw="1600000001000", body="hey", kind="text", details={}),
    ]


def test_bad_values_are_warnings_and_the_rest_go_on(tmp_path: Path) -> None:
    rows = [_rows()[0],
            (2, "m2", "Ray R", DM, "noon", "text time", 0, None, None, None, None, None, None, None, None, RAY),
            (3, "m3", "Ray R", DM, 10**15, "far future", 0, None, None, None, None, None, None, None, None, RAY),
            (4, "m4", "Ray R", DM, 1600000000000, "bad size", 0, "a.bin", "huge", None, None, None, None, None, None, RAY),
            (5, "m5", b"R\xffy", 77, 1600000000000, b"\xfe body", 0, None, None, None, None, None, "later", None, None, 5)]
    core, cross = _fixture(tmp_path, rows)
    parsed = parse_files(core, cross, logical={core: CORE, cross: CROSS})
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [
        ("bad_time", 2, "timestamp"), ("bad_time", 3, "timestamp"), ("bad_time", 5, "voice_call_start_time")]
    assert len(parsed.messages) == 7
    assert [(m.sent, m.sent_raw) for m in parsed.messages[1:3]] == [(None, "noon"), (None, str(10**15))]
    assert (parsed.messages[3].attachments, parsed.messages[3].details["attachment_filesize"]) == (
        (Attachment(file_name="a.bin"),), "huge")
    odd = parsed.messages[4]
    assert (odd.conversation_id, odd.sender.id, odd.sender.name.raw, odd.body.raw, odd.kind) == (
        "77", "5", b"R\xffy", b"\xfe body", "text")


def test_missing_table_at_the_app_path_is_schema_unrecognised(tmp_path: Path) -> None:
    core = build_database(tmp_path / "core.db", "CREATE TABLE threads (thread_key TEXT, thread_name TEXT);")
    parsed = parse_files(core, logical={core: CORE})
    assert parsed.messages == []
    (warning,) = parsed.warnings
    assert warning.kind == "schema_unrecognised" and "messenger_lite" in warning.message and "tables: threads" in warning.message


def test_truncated_store_is_database_unreadable(tmp_path: Path) -> None:
    rows = [(i, f"m{i}", "Ray R", DM, 1600000000000 + i, "z" * 2000, 0, None, None, None, None, None, None, None, None, RAY)
            for i in range(1, 200)]
    core, _ = _fixture(tmp_path, rows)
    truncate_to_half(core)
    parsed = parse_files(core, logical={core: CORE})
    assert parsed.messages == []
    (warning,) = parsed.warnings
    assert warning.kind == "database_unreadable" and "messenger_lite" in warning.message


def test_corrupt_data_page_keeps_the_rows_before_it(tmp_path: Path) -> None:
    rows = [(i, f"m{i}", "Ray R", DM, 1600000000000 + i, "w" * 1500, 0, None, None, None, None, None, None, None, None, RAY)
            for i in range(1, 301)]
    core, _ = _fixture(tmp_path, rows)
    wreck_middle_page(core, 0x5A)
    parsed = parse_files(core, logical={core: CORE})
    assert [(w.kind, w.severity) for w in parsed.warnings] == [("parse_stopped", "error")] * 2
    kept = len(parsed.messages)
    assert f"reading stopped after {kept} messages" in parsed.warnings[1].message and 0 < kept < 300
    assert [m.source_row_id for m in parsed.messages] == list(range(1, kept + 1))
    assert kept == 141  # the leaves before the wrecked page


def test_a_call_whose_is_incoming_is_null_or_odd_has_an_unknown_direction(tmp_path: Path) -> None:
    core, cross = _fixture(tmp_path)
    connection = sqlite3.connect(core)
    connection.executemany("INSERT INTO aggregated_calls VALUES (?, ?, ?, ?, ?, ?)",
                           [(3, "Ray R", 1600000600000, None, 1, 1), (4, "Ray R", 1600000700000, 2, 1, 1)])
    connection.commit()
    connection.close()
    parsed = parse_files(core, cross, logical={core: CORE, cross: CROSS})
    assert_no_warnings(parsed)
    calls = [m for m in parsed.messages if m.source_table == "aggregated_calls"]
    assert [(m.direction, m.sender, m.recipients, m.details.get("is_incoming")) for m in calls] == [
        ("incoming", None, (ME,), "1"), ("outgoing", ME, (), "0"), ("unknown", None, (), None), ("unknown", None, (), "2")]


def test_a_damaged_contact_table_costs_the_names_only(tmp_path: Path) -> None:
    many = [(RAY, "Ray Contact", None, 0, None, None, 1)] + [(str(200000 + i), "x" * 300, None, 0, None, None, 0) for i in range(200)]
    # contact is filled last, so the file's last page is one of its leaves
    core = build_database(tmp_path / "core.db", SCHEMA, {"messages": _rows(), "threads": [(DM, "Ray R"), (GROUP, "Night owls")],
                                                         "aggregated_calls": [], "contact": many})
    wreck_last_page(core)
    assert rows_before_damage(core, "SELECT * FROM contact") < len(many)
    parsed = parse_files(core, logical={core: CORE})
    assert_side_table_stopped(parsed, "contact", len(_rows()))
    assert parsed.messages[1].recipients == (Participant(RAY, "Ray Contact"),)  # names before the damaged page are kept
    assert parsed.messages[5].conversation_title == "Night owls"  # the threads table, read after it, is whole
