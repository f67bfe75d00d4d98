"""Twitter: Android DMs (conversation_entries), the iOS tweet cache (no DMs), Serial blob fixtures.

Facts (own words; sources in parsers/chat/twitter.py): Android keeps DMs in `conversation_entries`
(created = Unix ms, user_id = author, data = a Twitter "Serial" blob whose outer object starts with
the entry id (long) and the text (string)); names come from `users`; participants from
`conversation_participants`; the account is the `owner_id` of cached rows that is a DM participant.
Serial header byte = type << 3 | subtype (types: 2 int, 3 long, 7 null, 8 UTF-8 string, 9 object
start, 11 object end, 13 ASCII string; subtypes: 1 = zero/no payload, 2 = 1 byte, 5 = 8 bytes); a
UTF-8 string's length counts UTF-16 units.
The iOS twitter.db caches tweets (`Statuses`, 67 rows in the corpus) and has no DM table: tweets are
public posts, not messages, so it gives 0 messages.
"""

from __future__ import annotations

import shutil
import sqlite3
import struct
from pathlib import Path

from manifests.records import Message, Participant
from parsers.chat.twitter import serial_tokens
from tests.chat.helpers import assert_no_warnings, build_database, corpus_file, parse_files

ANDROID = "log2timeline__plaso/test_data/android/twitter.db"
IOS = "log2timeline__plaso/test_data/ios/twitter.db"
ANDROID_LOGICAL = b"/data/data/com.twitter.android/databases/4354196549-66.db"
IOS_LOGICAL = b"/private/var/mobile/Containers/Data/Application/0A1B/Library/Caches/databases/twitter.db"
TEXT = "Hey! Thnx for the follow. See https://t.co/syj7UmxniM for events in Germany. Looking forward to some interaction!"


def test_android_corpus_count_range_and_golden_record() -> None:
    path = corpus_file(ANDROID)
    parsed = parse_files(path, logical={path: ANDROID_LOGICAL})
    assert_no_warnings(parsed)
    # CHATS.tsv: 1 DM entry; the 263 `statuses` rows are tweets, not messages, and are not emitted.
    assert len(parsed.messages) == 1
    assert parsed.parser_names() == {"twitter"}
    assert parsed.time_range() == ("2015-12-03T02:11:43Z", "2015-12-03T02:11:43Z")
    assert parsed.messages[0] == Message(
        source_table="conversation_entries", source_row_id=2, conversation_id="2643181713-4354196549",
        sender=Participant("2643181713", "Manuel Schoenthaler"), recipients=(Participant("4354196549", "martha vines"),),
        direction="incoming", sent=1449108703000000000, sent_raw="1449108703000", body=TEXT, kind="text",
        account_id="4354196549",
        details={"entry_type": "0", "entry_id": "672236744016809987", "sender_username": "ManuelS_SANS"},
    )


def test_android_found_by_schema_under_another_name() -> None:
    path = corpus_file(ANDROID)
    assert len(parse_files(path).messages) == 1


def test_ios_tweet_cache_has_no_dms(tmp_path: Path) -> None:
    path = corpus_file(IOS)
    copy = tmp_path / "twitter.db"
    shutil.copyfile(path, copy)
    connection = sqlite3.connect(f"file:{copy}?immutable=1", uri=True)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        statuses = connection.execute("SELECT COUNT(*) FROM Statuses").fetchone()[0]
    finally:
        connection.close()
    assert statuses == 67  # CHATS.tsv lists these 67 tweets
    assert not any("message" in t.lower() or "conversation" in t.lower() for t in tables)
    parsed = parse_files(path, logical={path: IOS_LOGICAL})
    # Tweets with a text and a date column, read by no parser: said once, not silently dropped.
    assert [(w.kind, w.table) for w in parsed.warnings] == [("chat_store_unrecognised", "Statuses")]
    assert "Statuses (text column text, time column date, at least 10 rows)" in parsed.warnings[0].message
    assert parsed.messages == []  # no DM table: 0 messages, and none of the 67 Statuses rows
    assert not any(m.source_table == "Statuses" for m in parsed.messages)


# --- Serial encoding, for fixtures -------------------------------------------------------------

def _h(kind: int, subtype: int) -> bytes:
    return bytes([kind << 3 | subtype])


def _long(value: int) -> bytes:
    return _h(3, 5) + struct.pack(">q", value)


def _utf8(text: str) -> bytes:
    units = len(text.encode("utf-16-le")) // 2
    return _h(8, 2) + bytes([units]) + text.encode("utf-8")


def _entry(entry_id: int, text: str) -> bytes:
    return _h(9, 1) + _long(entry_id) + _utf8(text) + _h(9, 1) + _h(2, 2) + b"\x05" + _h(11, 0) + _h(7, 0) + _h(11, 0)


SCHEMA = """
CREATE TABLE users (_id INTEGER PRIMARY KEY, user_id INT UNIQUE NOT NULL, username TEXT, name TEXT);
CREATE TABLE conversation_entries (_id INTEGER PRIMARY KEY, entry_id INT UNIQUE NOT NULL, sort_entry_id INT UNIQUE NOT NULL,
  conversation_id TEXT, user_id INT, created INT, entry_type INT, data BLOB, request_id TEXT);
CREATE TABLE conversations (_id INTEGER PRIMARY KEY, conversation_id TEXT UNIQUE NOT NULL, title TEXT, type INT);
CREATE TABLE conversation_participants (_id INTEGER PRIMARY KEY, conversation_id TEXT NOT NULL, user_id TEXT NOT NULL,
  join_time INT NOT NULL, participant_type INT NOT NULL);
CREATE TABLE status_groups (_id INTEGER PRIMARY KEY, owner_id INT);
"""


def test_fixture_outgoing_group_emoji_other_entry_and_bad_blob(tmp_path: Path) -> None:
    emoji = "on my way \U0001F697 ok"  # a 4-byte character counts as two UTF-16 units
    db = build_database(tmp_path / "100-66.db", SCHEMA, {
        "users": [(1, 100, "me", "Owner"), (2, 200, "bob", "Bob"), (3, 300, "carol", None)],
        "conversations": [(1, "g1", "Trip", 1)],
        "conversation_participants": [(1, "g1", "100", 0, 1), (2, "g1", "200", 0, 1), (3, "g1", "300", 0, 1)],
        "status_groups": [(1, 100), (2, 999)],
        "conversation_entries": [
            (1, 11, 11, "g1", 100, 1600000000123, 0, _entry(11, emoji), None),
            (2, 12, 12, "g1", 200, 1600000001000, 0, _entry(12, "hi"), None),
            (3, 13, 13, "g1", 300, 1600000002000, 3, _h(9, 1) + _long(13) + _h(11, 0), None),
            (4, 14, 14, "g1", 200, 1600000003000, 0, b"\xff\x00garbage", None),
        ],
    })
    parsed = parse_files(db, logical={db: b"/data/data/com.twitter.android/databases/100-66.db"})
    assert [w.kind for w in parsed.warnings] == ["undecoded_blob"]
    assert parsed.warnings[0].row_id == 4
    assert [m.source_row_id for m in parsed.messages] == [1, 2, 3, 4]
    first, second, other, broken = parsed.messages
    assert first == Message(
        source_table="conversation_entries", source_row_id=1, conversation_id="g1", conversation_title="Trip",
        sender=Participant("100", "Owner"), recipients=(Participant("200", "Bob"), Participant("300", None)),
        direction="outgoing", sent=1600000000123000000, sent_raw="1600000000123", body=emoji, kind="text",
        account_id="100", details={"entry_type": "0", "entry_id": "11", "sender_username": "me"},
    )
    assert (second.direction, second.sender, second.body) == ("incoming", Participant("200", "Bob"), "hi")
    assert (other.kind, other.body, other.details["entry_type"]) == ("unknown", None, "3")
    assert (broken.body, broken.sent, broken.sender) == (None, 1600000003000000000, Participant("200", "Bob"))


def test_serial_tokens_depths_and_truncation() -> None:
    tokens = serial_tokens(_entry(7, "x"))
    assert [(d, k, v) for d, k, v in tokens if k in (3, 8)] == [(1, 3, 7), (1, 8, "x")]
    try:
        serial_tokens(_h(8, 2) + b"\x05ab")
    except ValueError as error:
        assert "past the end" in str(error)
    else:
        raise AssertionError("a truncated string must raise")


def test_unknown_schema_at_twitter_path_warns_once(tmp_path: Path) -> None:
    db = build_database(tmp_path / "100-66.db", "CREATE TABLE statuses (_id INTEGER PRIMARY KEY, content BLOB);")
    parsed = parse_files(db, logical={db: b"/data/data/com.twitter.android/databases/100-66.db"})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


MINIMAL = "CREATE TABLE conversation_entries (_id INTEGER PRIMARY KEY, conversation_id TEXT, user_id INT, created INT, data BLOB);"
MINIMAL_LOGICAL = b"/data/data/com.twitter.android/databases/100-71.db"


def test_minimal_entries_only_required_columns(tmp_path: Path) -> None:
    """No users, conversations, participants or owner tables and no entry_id/entry_type: owner from the file name."""
    db = build_database(tmp_path / "100-71.db", MINIMAL, {"conversation_entries": [
        (1, "100-200", 200, 1600000000000, _entry(21, "ping")),
        (2, "100-200", 100, 1600000005000, _entry(22, "pong")),
    ]})
    parsed = parse_files(db, logical={db: MINIMAL_LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"twitter"}
    assert len(parsed.messages) == 2
    assert parsed.messages[1] == Message(
        source_table="conversation_entries", source_row_id=2, conversation_id="100-200", sender=Participant("100"),
        direction="outgoing", sent=1600000005000000000, sent_raw="1600000005000", body="pong", kind="text",
        account_id="100", details={},
    )
    assert parsed.messages[0].direction == "incoming"


def test_hostile_minimal_entries_without_entry_type(tmp_path: Path) -> None:
    """Every entry is read as a message when the type is unknown: a blob without text, text in place of a blob."""
    db = build_database(tmp_path / "100-71.db", MINIMAL, {"conversation_entries": [
        (1, "100-200", 200, "tomorrow", _h(9, 1) + _long(13) + _h(11, 0)),
        (2, None, None, 2**62, "plain text, not a blob"),
        (3, "100-200", 200, 1600000000000, _h(9, 1) + _h(11, 0) + _h(11, 0)),
    ]})
    parsed = parse_files(db, logical={db: b"/data/data/com.twitter.android/databases/not-an-id.db"})
    assert [(m.kind, m.direction, m.body) for m in parsed.messages] == [("unknown", "unknown", None)] * 3
    assert [(w.kind, w.row_id) for w in parsed.warnings] == [
        ("undecoded_blob", 1), ("bad_time", 1), ("undecoded_blob", 2), ("bad_time", 2), ("undecoded_blob", 3)]
    assert "object end without a start" in parsed.warnings[4].message


def test_truncated_minimal_entries_is_one_unreadable_row(tmp_path: Path) -> None:
    from tests.chat.hostile import assert_truncated_store_is_unreadable

    rows = [(i, "100-200", 200, 1600000000000 + i, _entry(i, "x" * 100)) for i in range(1, 400)]
    db = build_database(tmp_path / "100-71.db", MINIMAL, {"conversation_entries": rows})
    assert_truncated_store_is_unreadable(db, MINIMAL_LOGICAL)
