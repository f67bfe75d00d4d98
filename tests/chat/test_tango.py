"""Tango Android (tc.db + tango_profile.db): corpus count, range, golden record, profile DB alone.

Facts (see parsers/chat/tango.py): plaso `tango_android.py` names the tables and gives the Java-ms
epoch of create_time/send_time; the payload layout and direction codes were read from the plaso
sample itself. CHATS.tsv lists the range of `messages.create_time` (2014-04-30 .. 2016-01-15);
the parser's `sent` is `send_time`, so the range check uses create_time kept in details.
"""

from __future__ import annotations

from pathlib import Path

from manifests.records import Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, corpus_file, parse_files

TC = "log2timeline__plaso/test_data/tango_android_tc.db"
PROFILE = "log2timeline__plaso/test_data/android/tango_profile.db"
TC_LOGICAL = b"/data/data/com.sgiggle.production/files/tc.db"
PROFILE_LOGICAL = b"/data/data/com.sgiggle.production/files/tango_profile.db"


def test_plaso_tc_db_counts_range_and_golden_record() -> None:
    tc, profile = corpus_file(TC), corpus_file(PROFILE)
    parsed = parse_files(tc, profile, logical={tc: TC_LOGICAL, profile: PROFILE_LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 18  # CHATS.tsv: messages 18
    assert parsed.parser_names() == {"tango"}
    assert len({m.conversation_id for m in parsed.messages}) == 7  # CHATS.tsv: conversations 7
    created = parsed.time_range(key=lambda m: int(m.details["create_time"]) * 1_000_000)
    assert created == ("2014-04-30T01:00:33Z", "2016-01-15T14:53:32Z")
    assert parsed.time_range() == ("2016-01-15T14:29:18Z", "2016-01-15T14:53:32Z")
    assert parsed.messages[8] == Message(
        source_table="messages", source_row_id=16777225, conversation_id="sw9dX9KKt9JIhOxd2Kkv9Q",
        conversation_title="Justin M", sender=Participant("sw9dX9KKt9JIhOxd2Kkv9Q", "Justin M"), direction="incoming",
        sent=1452868908526000000, sent_raw="1452868908526", received=1452868907961000000, body="Wow  big belly", kind="text",
        details={"type": "0 (text)", "create_time": "1452868907961", "status": "1", "del_status": "0", "direction_code": "1"},
    )
    kinds = [m.kind for m in parsed.messages]
    assert (kinds.count("text"), kinds.count("media"), kinds.count("reaction"), kinds.count("unknown")) == (7, 7, 3, 1)
    like = parsed.messages[15]
    assert (like.kind, like.body, like.sender) == ("reaction", "Hank liked the message.", Participant("sMawZoHh9XG5SwDP28ObAQ", "Hank Fresh"))
    assert {p.record_state for p in parsed.parsed} == {"live"}


def test_without_profile_db_names_come_from_conversation_payload_only() -> None:
    tc = corpus_file(TC)
    parsed = parse_files(tc, logical={tc: TC_LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 18
    assert parsed.messages[0].recipients == (Participant("mC5mPUPZh1ZsQP2zhN8s-g", "Tango"),)
    assert parsed.messages[8].sender == Participant("sw9dX9KKt9JIhOxd2Kkv9Q", None)


def test_profile_db_alone_gives_no_messages() -> None:
    profile = corpus_file(PROFILE)
    parsed = parse_files(profile, logical={profile: PROFILE_LOGICAL})
    assert parsed.messages == []
    assert_no_warnings(parsed)  # CHATS.tsv: profiles only, 12 rows; not a message store


def test_bad_payload_is_a_warning_and_the_row_stays(tmp_path: Path) -> None:
    db = build_database(tmp_path / "tc.db", """
        CREATE TABLE messages (msg_id INTEGER PRIMARY KEY, conv_id TEXT, type INTEGER, media_id TEXT, share_id TEXT,
          create_time BIGINT, send_time BIGINT, direction INTEGER, status INTEGER, payload BLOB, del_status INTEGER);
        CREATE TABLE conversations (conv_id TEXT PRIMARY KEY, conv_type INTEGER, payload BLOB);
    """, {"messages": [(1, "c1", 0, None, None, 1600000000000, 1600000001000, 1, 1, "!!notbase64", 0)],
          "conversations": [("c1", 0, None)]})
    parsed = parse_files(db, logical={db: TC_LOGICAL})
    assert [w.kind for w in parsed.warnings] == ["bad_blob"]
    assert len(parsed.messages) == 1 and parsed.messages[0].body is None and parsed.messages[0].sent == 1600000001 * 10**9


def test_unknown_schema_at_tango_path_warns_once(tmp_path: Path) -> None:
    db = build_database(tmp_path / "tc.db", "CREATE TABLE messages (id INTEGER PRIMARY KEY, text TEXT);")
    parsed = parse_files(db, logical={db: TC_LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


def test_messages_alone_with_only_the_minimum_columns(tmp_path: Path) -> None:
    import base64

    text = "hola".encode()
    payload = base64.b64encode(b"\x22" + bytes([len(text)]) + text).decode()  # protobuf field 4 (text), length-delimited
    db = build_database(tmp_path / "tc.db", """CREATE TABLE messages (msg_id INTEGER PRIMARY KEY, conv_id TEXT, send_time BIGINT,
        direction INTEGER, payload TEXT);""", {"messages": [(7, "c2", 1600000005000, 1, payload), (8, "c2", 1600000006000, 2, payload)]})
    parsed = parse_files(db, logical={db: TC_LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 2
    assert parsed.messages[0] == Message(
        source_table="messages", source_row_id=7, conversation_id="c2", conversation_title=None, sender=Participant("c2", None),
        direction="incoming", sent=1600000005 * 10**9, sent_raw="1600000005000", body="hola", kind="unknown",
        details={"direction_code": "1"},
    )
    assert (parsed.messages[1].direction, parsed.messages[1].recipients) == ("outgoing", (Participant("c2", None),))
