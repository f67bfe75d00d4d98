"""Kik: the plaso iOS kik.sqlite (counts, range, golden records) and an Android kikDatabase.db fixture.

Facts (see parsers/chat/kik.py): iOS ZKIKMESSAGE.ZTYPE 1 received / 2 sent / 3 group admin / 4 group
notice, ZTIMESTAMP Core Data seconds, ZUSER -> ZKIKUSER, chats linked through Z_3MESSAGES (iLEAPP's Kik
messages artifact). Android messagesTable: partner_jid, was_me, timestamp (Unix ms),
bin_id (conversation JID), content_id; KIKcontactsTable jid/display_name (ALEAPP's Kik artifact).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, corpus_file, parse_files, truncate_to_half

PLASO = "log2timeline__plaso/test_data/ios/kik.sqlite"
IOS_LOGICAL = b"/private/var/mobile/Containers/Shared/AppGroup/ABC/cores/private/xyz/kik.sqlite"
ANDROID_LOGICAL = b"/data/data/kik.android/databases/kikDatabase.db"
GROUP = "1100024090445_g@groups.kik.com"


def test_plaso_ios_counts_range_and_golden_records() -> None:
    path = corpus_file(PLASO)
    parsed = parse_files(path, logical={path: IOS_LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"kik"}
    assert len(parsed.messages) == 60  # CHATS.tsv: ZKIKMESSAGE 60
    assert parsed.time_range() == ("2015-06-29T08:46:12Z", "2015-07-02T09:16:58Z")
    assert parsed.messages[10] == Message(
        source_table="ZKIKMESSAGE", source_row_id=11, conversation_id=GROUP, conversation_title="EveryoneButRoss",
        sender=Participant("sbabadi61_jet@talk.kik.com", "Sina Babadi"), direction="incoming",
        sent=1435587560719000100, sent_raw="457280360.7190001", received=1435587561704937040, body="Hi there", kind="text",
        details={"type": "1 (received)", "state": "16", "system_state": "12",
                 "stanza_id": "340c4e48-f928-4188-a6ca-443b1fd6a869", "chat_pk": "2"},
    )
    # Sent in the group: addressed to the group user; message 2 is linked to two chats and goes to Ken's own.
    sent_to_group = parsed.messages[9]
    assert (sent_to_group.direction, sent_to_group.recipients, sent_to_group.conversation_id) == (
        "outgoing", (Participant(GROUP, "EveryoneButRoss"),), GROUP)
    assert parsed.messages[1].conversation_id == "ken.doh_khv@talk.kik.com"
    media = [m for m in parsed.messages if m.kind == "media"]
    assert [(m.source_row_id, m.attachments) for m in media] == [
        (20, (Attachment(file_name="a7160843-c595-4afb-a359-4151dcd79157"),)),
        (26, (Attachment(file_name="b98fc1f4-8862-48fd-9cba-cc0fc4d12037"),))]
    assert sum(m.kind == "system" for m in parsed.messages) == 5  # ZTYPE 3: 3 rows, ZTYPE 4: 2 rows


ANDROID_SCHEMA = """
CREATE TABLE messagesTable (_id INTEGER PRIMARY KEY AUTOINCREMENT, body VARCHAR, partner_jid VARCHAR, was_me INT,
  read_state INT, uid VARCHAR, length INT, timestamp LONG, bin_id VARCHAR, sys_msg VARCHAR, stat_msg VARCHAR,
  stat_user_jid VARCHAR, req_read_reciept BOOLEAN, content_id VARCHAR, app_id VARCHAR, message_retry_count INT,
  encryption_failure BOOLEAN, encryption_key VARCHAR, render_instructions VARCHAR);
CREATE TABLE KIKcontactsTable (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid VARCHAR UNIQUE, display_name VARCHAR,
  user_name VARCHAR, in_roster INT, is_blocked INT, is_group INT);
"""


def test_android_fixture(tmp_path: Path) -> None:
    db = build_database(tmp_path / "kikDatabase.db", ANDROID_SCHEMA, {
        "messagesTable": [
            (1, "hey", "bob_x1@talk.kik.com", 0, 500, "u-1", 3, 1600000000123, "bob_x1@talk.kik.com", None, None, None, 0, None, None, 0, 0, None, None),
            (2, "yo", "bob_x1@talk.kik.com", 1, 500, "u-2", 2, 1600000005000, "bob_x1@talk.kik.com", None, None, None, 0, None, None, 0, 0, None, None),
            (3, None, "carol_y2@talk.kik.com", 0, 500, "u-3", 0, 1600000006000, "123_g@groups.kik.com", None, None, None, 0,
             "c0ffee", "com.kik.ext.camera", 0, 0, None, None),
            (4, None, "carol_y2@talk.kik.com", 0, 500, "u-4", 0, 1600000007000, "123_g@groups.kik.com", None,
             "Carol has joined the chat", None, 0, None, None, 0, 0, None, None),
        ],
        "KIKcontactsTable": [(1, "bob_x1@talk.kik.com", "Bob", "bob", 1, 0, 0), (2, "carol_y2@talk.kik.com", None, "carol", 1, 0, 0),
                             (3, "123_g@groups.kik.com", "Crew", None, 1, 0, 1)],
    })
    parsed = parse_files(db, logical={db: ANDROID_LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 4
    assert parsed.messages[0] == Message(
        source_table="messagesTable", source_row_id=1, conversation_id="bob_x1@talk.kik.com", conversation_title="Bob",
        sender=Participant("bob_x1@talk.kik.com", "Bob"), direction="incoming", sent=1600000000123000000,
        sent_raw="1600000000123", body="hey", kind="text", details={"was_me": "0", "read_state": "500", "uid": "u-1"},
    )
    sent, photo, joined = parsed.messages[1:]
    assert (sent.direction, sent.sender, sent.recipients) == ("outgoing", None, (Participant("bob_x1@talk.kik.com", "Bob"),))
    assert (photo.kind, photo.conversation_title, photo.sender, photo.attachments) == (
        "media", "Crew", Participant("carol_y2@talk.kik.com", "carol"), (Attachment(file_name="c0ffee"),))
    assert (joined.kind, joined.body, joined.details["stat_msg"]) == ("system", None, "Carol has joined the chat")


def test_kik_with_unknown_schema_is_reported(tmp_path: Path) -> None:
    db = build_database(tmp_path / "kikDatabase.db", "CREATE TABLE messagesTable (_id INTEGER PRIMARY KEY, body TEXT);")
    parsed = parse_files(db, logical={db: ANDROID_LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


# iOS builds with other Core Data entity numbers (facts: parsers/chat/kik.py). The store below is the
# plaso layout with two more entities ahead of KikChat, so the join table is Z_4MESSAGES(Z_4CHAT, Z_6MESSAGES).
IOS_SCHEMA = """
CREATE TABLE ZKIKMESSAGE ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZFLAGS INTEGER, ZINTERNALID INTEGER,
  ZSTATE INTEGER, ZSYSTEMSTATE INTEGER, ZTYPE INTEGER, ZUSER INTEGER, ZRECEIVEDTIMESTAMP TIMESTAMP, ZTIMESTAMP TIMESTAMP,
  ZBODY VARCHAR, ZSTANZAID VARCHAR, ZRENDERINSTRUCTIONSET BLOB );
CREATE TABLE ZKIKUSER ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZDISPLAYNAME VARCHAR, ZJID VARCHAR, ZUSERNAME VARCHAR );
CREATE TABLE ZKIKCHAT ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZFLAGS INTEGER, ZLASTMESSAGE INTEGER, ZUSER INTEGER );
CREATE TABLE ZKIKATTACHMENT ( Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZTYPE INTEGER, ZMESSAGE INTEGER, ZCONTENT VARCHAR );
CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER);
"""
IOS_JOIN_4 = "CREATE TABLE Z_4MESSAGES ( Z_4CHAT INTEGER, Z_6MESSAGES INTEGER, PRIMARY KEY (Z_4CHAT, Z_6MESSAGES) );"
ENTITIES_4 = [(1, "KikAttachment", 0, 1), (2, "KikAttachmentExtra", 0, 1), (3, "KikBot", 0, 0), (4, "KikChat", 0, 2),
              (5, "KikChatExtra", 0, 2), (6, "KikMessage", 0, 3), (7, "KikUser", 0, 2), (8, "KikUserExtra", 0, 2)]
DANA, ERIN = "dana_q7@talk.kik.com", "erin.w_2b@talk.kik.com"


def _ios_rows(entities: list[tuple[object, ...]] = ENTITIES_4) -> dict[str, list[tuple[object, ...]]]:
    return {
        "ZKIKMESSAGE": [
            (1, 6, 1, 0, 11, 16, 12, 1, 1, 600000001.5, 600000000.25, "are you there?", "s-1", None),
            (2, 6, 1, 0, 12, 32, 0, 2, 1, None, 600000060.0, "yes", "s-2", None),
            (3, 6, 1, 0, 13, 16, 12, 1, 2, 600000121.0, 600000120.0, "a7160843-0000-4afb-a359-4151dcd79157", "s-3", None),
        ],
        "ZKIKUSER": [(1, 7, 1, "Dana Q", DANA, "dana_q7"), (2, 7, 1, None, ERIN, "erin.w_2b")],
        "ZKIKCHAT": [(1, 4, 1, 0, 2, 1), (2, 4, 1, 0, 3, 2)],
        "ZKIKATTACHMENT": [(1, 1, 1, 3, 3, "a7160843-0000-4afb-a359-4151dcd79157")],
        "Z_PRIMARYKEY": entities,
    }


def _ios(tmp_path: Path, join: str = IOS_JOIN_4, links: list[tuple[int, int]] | None = None,
         entities: list[tuple[object, ...]] = ENTITIES_4, schema: str = IOS_SCHEMA) -> Path:
    rows = _ios_rows(entities)
    if join:
        table = join.split()[2]
        rows[table] = links if links is not None else [(1, 1), (1, 2), (2, 3)]
    return build_database(tmp_path / "kik.sqlite", schema + join, rows)


IOS_GOLDEN = Message(
    source_table="ZKIKMESSAGE", source_row_id=1, conversation_id=DANA, conversation_title="Dana Q",
    sender=Participant(DANA, "Dana Q"), direction="incoming", sent=1578307200250000000, sent_raw="600000000.25",
    received=1578307201500000000, body="are you there?", kind="text",
    details={"type": "1 (received)", "state": "16", "system_state": "12", "stanza_id": "s-1", "chat_pk": "1"},
)


def test_ios_join_table_renumbered_found_from_z_primarykey(tmp_path: Path) -> None:
    db = _ios(tmp_path)
    parsed = parse_files(db, logical={db: IOS_LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"kik"}
    assert len(parsed.messages) == 3
    assert parsed.messages[0] == IOS_GOLDEN
    sent, photo = parsed.messages[1:]
    assert (sent.direction, sent.recipients, sent.conversation_id, sent.received) == ("outgoing", (Participant(DANA, "Dana Q"),), DANA, None)
    assert (photo.kind, photo.conversation_id, photo.conversation_title, photo.attachments, photo.details["chat_pk"]) == (
        "media", ERIN, None, (Attachment(file_name="a7160843-0000-4afb-a359-4151dcd79157"),), "2")


def test_ios_join_table_found_by_pattern_when_z_primarykey_names_nothing(tmp_path: Path) -> None:
    # Entity numbers that are not integers (type-confused) are ignored; the one Z_<n>MESSAGES table is used.
    untyped = IOS_SCHEMA.replace("Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY,", "Z_PRIMARYKEY (Z_ENT,")
    db = _ios(tmp_path, entities=[("4; DROP TABLE ZKIKMESSAGE", "KikChat", 0, 2), (6.5, "KikMessage", 0, 3), (9, None, 0, 0)],
              schema=untyped)
    parsed = parse_files(db, logical={db: IOS_LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 3
    assert parsed.messages[0] == IOS_GOLDEN


def test_ios_z_primarykey_wins_over_a_second_lookalike_table(tmp_path: Path) -> None:
    decoy = "CREATE TABLE Z_2MESSAGES ( Z_2CHAT INTEGER, Z_9MESSAGES INTEGER );"
    db = _ios(tmp_path, join=IOS_JOIN_4 + decoy)
    with sqlite3.connect(db) as connection:
        connection.execute("INSERT INTO Z_2MESSAGES VALUES (2, 1)")
    connection.close()
    parsed = parse_files(db, logical={db: IOS_LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.messages[0] == IOS_GOLDEN


def test_ios_two_lookalike_tables_without_entity_names_are_not_guessed(tmp_path: Path) -> None:
    decoy = "CREATE TABLE Z_2MESSAGES ( Z_2CHAT INTEGER, Z_9MESSAGES INTEGER );"
    db = _ios(tmp_path, join=IOS_JOIN_4 + decoy, entities=[])
    parsed = parse_files(db, logical={db: IOS_LOGICAL})
    assert [(w.kind, w.table) for w in parsed.warnings] == [("chat_links_missing", "ZKIKMESSAGE")]
    assert parsed.warnings[0].message == ("messages are read without their conversation: 2 tables look like the chat-message "
                                          "join table (Z_2MESSAGES, Z_4MESSAGES); none is taken")
    assert [(m.source_row_id, m.conversation_id, m.body) for m in parsed.messages] == [
        (1, None, "are you there?"), (2, None, "yes"), (3, None, "a7160843-0000-4afb-a359-4151dcd79157")]


def test_ios_without_join_table_reads_messages_and_says_why(tmp_path: Path) -> None:
    db = _ios(tmp_path, join="")
    parsed = parse_files(db, logical={db: IOS_LOGICAL})
    assert [(w.kind, w.message) for w in parsed.warnings] == [(
        "chat_links_missing", "messages are read without their conversation: no Z_<n>MESSAGES table with Z_<n>CHAT and "
        "Z_<m>MESSAGES columns (Core Data chat-message join table)")]
    assert len(parsed.messages) == 3
    first = parsed.messages[0]
    assert first == Message(
        source_table="ZKIKMESSAGE", source_row_id=1, sender=Participant(DANA, "Dana Q"), direction="incoming",
        sent=1578307200250000000, sent_raw="600000000.25", received=1578307201500000000, body="are you there?", kind="text",
        details={"type": "1 (received)", "state": "16", "system_state": "12", "stanza_id": "s-1"},
    )


def test_ios_minimal_store_reads_with_optional_columns_and_tables_absent(tmp_path: Path) -> None:
    # ZKIKUSER row 5 names nobody (all null): the message is addressed to no participant rather than to an empty one.
    db = build_database(tmp_path / "kik.sqlite", "CREATE TABLE ZKIKMESSAGE (Z_PK INTEGER PRIMARY KEY, ZTYPE INTEGER, ZUSER INTEGER, "
                        "ZTIMESTAMP TIMESTAMP, ZBODY VARCHAR); CREATE TABLE ZKIKUSER (Z_PK INTEGER PRIMARY KEY, ZJID VARCHAR);",
                        {"ZKIKMESSAGE": [(1, 2, 5, 400000000, "hello")], "ZKIKUSER": [(5, None)]})
    parsed = parse_files(db, logical={db: IOS_LOGICAL})
    assert [w.kind for w in parsed.warnings] == ["chat_links_missing"]
    assert "no ZKIKCHAT table" in parsed.warnings[0].message
    assert parsed.messages == [Message(source_table="ZKIKMESSAGE", source_row_id=1, direction="outgoing", sent=1378307200000000000,
                                       sent_raw="400000000", body="hello", kind="text", details={"type": "2 (sent)"})]


def test_ios_type_confused_values_cost_only_the_value(tmp_path: Path) -> None:
    rows = _ios_rows()
    rows["ZKIKMESSAGE"] = [(1, 6, 1, 0, 11, "x", None, "one", 1, "later", "yesterday", b"\xff\xfehi", 7, None)]
    rows["Z_4MESSAGES"] = [(1, 1)]
    db = build_database(tmp_path / "kik.sqlite", IOS_SCHEMA + IOS_JOIN_4, rows)
    parsed = parse_files(db, logical={db: IOS_LOGICAL})
    assert [(w.kind, w.field) for w in parsed.warnings] == [("bad_time", "ZTIMESTAMP"), ("bad_time", "ZRECEIVEDTIMESTAMP")]
    (message,) = parsed.messages
    assert (message.direction, message.sent, message.received) == ("unknown", None, None)
    assert message.details == {"type": "one (unknown)", "state": "x", "stanza_id": "7", "chat_pk": "1"}
    from manifests.records import UndecodedText

    assert isinstance(message.body, UndecodedText)


def test_ios_truncated_store_is_database_unreadable(tmp_path: Path) -> None:
    db = _ios(tmp_path, links=[(1, i) for i in range(1, 400)])
    with sqlite3.connect(db) as connection:
        connection.executemany("INSERT INTO ZKIKMESSAGE (Z_PK, ZTYPE, ZUSER, ZTIMESTAMP, ZBODY) VALUES (?, 1, 1, 6e8, ?)",
                               [(i, "z" * 2000) for i in range(4, 400)])
    connection.close()
    truncate_to_half(db)
    parsed = parse_files(db, logical={db: IOS_LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["database_unreadable"]
    assert "expected by kik" in parsed.warnings[0].message


# Android 2015 (anparser's column list): no bin_id, sys_msg, stat_msg; KIKContentTable alongside.
ANDROID_2015_SCHEMA = """
CREATE TABLE messagesTable (_id INTEGER PRIMARY KEY AUTOINCREMENT, body VARCHAR, partner_jid VARCHAR, was_me INT,
  read_state INT, uid VARCHAR, length INT, timestamp LONG, content_id VARCHAR, app_id VARCHAR);
CREATE TABLE KIKcontactsTable (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid VARCHAR UNIQUE, display_name VARCHAR,
  user_name VARCHAR, is_blocked INT, is_ignored INT);
CREATE TABLE KIKContentTable (_id INTEGER PRIMARY KEY AUTOINCREMENT, content_id VARCHAR, content_type VARCHAR,
  content_name VARCHAR, content_string VARCHAR);
"""


def test_android_2015_schema_without_bin_id_and_system_columns(tmp_path: Path) -> None:
    db = build_database(tmp_path / "kikDatabase.db", ANDROID_2015_SCHEMA, {
        "messagesTable": [(1, "hi from 2015", "fay_k@talk.kik.com", 0, 400, "u-1", 12, 1420000000123, None, None),
                          (2, "back at you", "fay_k@talk.kik.com", 1, 500, "u-2", 11, 1420000005000, None, None),
                          (3, None, "fay_k@talk.kik.com", 0, 400, "u-3", 0, 1420000009000, "c-77", "com.kik.ext.gallery")],
        "KIKcontactsTable": [(1, "fay_k@talk.kik.com", "Fay K", "fay_k", 0, 0)],
        "KIKContentTable": [(1, "c-77", "image", "preview", None)],
    })
    parsed = parse_files(db, logical={db: ANDROID_LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 3
    assert parsed.messages[0] == Message(
        source_table="messagesTable", source_row_id=1, conversation_id="fay_k@talk.kik.com", conversation_title="Fay K",
        sender=Participant("fay_k@talk.kik.com", "Fay K"), direction="incoming", sent=1420000000123000000,
        sent_raw="1420000000123", body="hi from 2015", kind="text", details={"was_me": "0", "read_state": "400", "uid": "u-1"},
    )
    assert (parsed.messages[1].direction, parsed.messages[1].recipients) == ("outgoing", (Participant("fay_k@talk.kik.com", "Fay K"),))
    assert (parsed.messages[2].kind, parsed.messages[2].attachments) == ("media", (Attachment(file_name="c-77"),))


def test_android_without_contacts_table_and_type_confused_values(tmp_path: Path) -> None:
    db = build_database(tmp_path / "kikDatabase.db", "CREATE TABLE messagesTable (_id INTEGER PRIMARY KEY, body VARCHAR, "
                        "partner_jid VARCHAR, was_me INT, timestamp LONG);",
                        {"messagesTable": [(1, "ok", "gil@talk.kik.com", 0, "noon"), (2, 42, 7, "yes", 1420000000000)]})
    parsed = parse_files(db, logical={db: ANDROID_LOGICAL})
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_time", 1, "timestamp")]
    first, second = parsed.messages
    assert first == Message(source_table="messagesTable", source_row_id=1, conversation_id="gil@talk.kik.com",
                            sender=Participant("gil@talk.kik.com", None), direction="incoming", sent_raw="noon", body="ok",
                            kind="text", details={"was_me": "0"})
    assert (second.body, second.conversation_id, second.direction, second.details) == ("42", "7", "unknown", {"was_me": "yes"})


def test_android_missing_messages_table_is_not_read_as_kik(tmp_path: Path) -> None:
    db = build_database(tmp_path / "kikDatabase.db", "CREATE TABLE KIKcontactsTable (_id INTEGER PRIMARY KEY, jid VARCHAR);")
    parsed = parse_files(db, logical={db: ANDROID_LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]
