"""Signal Android schema eras before the `message` table, built from the app's own migration DDL.

Sources (facts only; see parsers/chat/signal.py and docs/chat-schema-otherhist.md): Signal-Android
`database/helpers/migration/V149_LegacyMigrations.kt` (the v108 `thread` rebuild with
`thread_recipient_id`, the v109 `sms`/`mms` rebuilds; `thread.recipient_ids` and
`recipient_preferences` before), `V166_ThreadAndMessageForeignKeys.kt` (new sms/mms column names,
`thread.recipient_id`), `V168_SingleMessageTableMigration.kt` (sms copied into mms and dropped).
Columns are the documented ones; a fixture keeps the subset a reader touches plus a few others.
Decrypted copies are used (the SQLCipher layer is tested in test_signal.py).
"""

from __future__ import annotations

from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import Parsed, assert_no_warnings, build_database, parse_files

LOGICAL = b"/data/data/org.thoughtcrime.securesms/databases/signal.db"
IN, SENT, CALL_OUT, JOINED = 10485780, 10485783, 2, 4  # base types 20 inbox, 23 sent, 2 outgoing audio, 4 joined


def _read(tmp_path: Path, schema: str, rows: dict) -> Parsed:
    """A decrypted signal.db fixture parsed at its phone path."""
    db = build_database(tmp_path / "signal.db", schema, rows)
    return parse_files(db, logical={db: LOGICAL})

# v108..v165: thread rebuilt with thread_recipient_id (v108); sms and mms rebuilt by v109 (MMS_AUTOINCREMENT).
V109 = """
CREATE TABLE recipient (_id INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT UNIQUE DEFAULT NULL, phone TEXT UNIQUE DEFAULT NULL,
  group_id TEXT UNIQUE DEFAULT NULL, system_display_name TEXT DEFAULT NULL, signal_profile_name TEXT DEFAULT NULL,
  profile_joined_name TEXT DEFAULT NULL);
CREATE TABLE groups (_id INTEGER PRIMARY KEY, group_id TEXT, recipient_id INTEGER, title TEXT, members TEXT);
CREATE TABLE thread (_id INTEGER PRIMARY KEY AUTOINCREMENT, date INTEGER DEFAULT 0, thread_recipient_id INTEGER,
  message_count INTEGER DEFAULT 0, snippet TEXT, read INTEGER DEFAULT 1, archived INTEGER DEFAULT 0, pinned INTEGER DEFAULT 0);
CREATE TABLE sms (_id INTEGER PRIMARY KEY AUTOINCREMENT, thread_id INTEGER, address INTEGER, address_device_id INTEGER DEFAULT 1,
  person INTEGER, date INTEGER, date_sent INTEGER, date_server INTEGER DEFAULT -1, protocol INTEGER, read INTEGER DEFAULT 0,
  status INTEGER DEFAULT -1, type INTEGER, body TEXT, remote_deleted INTEGER DEFAULT 0, server_guid TEXT DEFAULT NULL);
CREATE TABLE mms (_id INTEGER PRIMARY KEY AUTOINCREMENT, thread_id INTEGER, date INTEGER, date_received INTEGER,
  date_server INTEGER DEFAULT -1, msg_box INTEGER, read INTEGER DEFAULT 0, body TEXT, part_count INTEGER, address INTEGER,
  address_device_id INTEGER, reveal_duration INTEGER DEFAULT 0, remote_deleted INTEGER DEFAULT 0, server_guid TEXT DEFAULT NULL);
CREATE TABLE part (_id INTEGER PRIMARY KEY, mid INTEGER, seq INTEGER DEFAULT 0, ct TEXT, name TEXT, _data TEXT,
  file_name TEXT, data_size INTEGER, unique_id INTEGER NOT NULL);
"""
V109_ROWS = {
    "recipient": [(1, "aci-self", "+15550001", None, None, "Me", None), (2, "aci-dana", "+15550004", None, "Dana Contact", "dana", None),
                  (3, None, None, "__textsecure_group__!0011", None, None, None)],
    "groups": [(1, "__textsecure_group__!0011", 3, "Book club", "1,2")],
    "thread": [(1, 1620000300000, 2, 4, "photo", 1, 0, 0), (2, 1620000400000, 3, 1, "group hi", 1, 0, 0)],
    "sms": [(1, 1, 2, 1, None, 1620000001000, 1620000000000, 1620000000500, 31337, 1, -1, IN, "old sms in", 0, "guid-1"),
            (2, 1, 2, 1, None, 1620000100000, 1620000100000, -1, 31337, 1, -1, SENT, "old sms out", 0, None),
            (3, 1, 2, 1, None, 1620000150000, 1620000150000, -1, 31337, 1, -1, JOINED, None, 0, None)],
    "mms": [(1, 1, 1620000300000, 1620000301000, -1, IN, 1, None, 1, 2, 1, 1, 0, "guid-2"),
            (2, 2, 1620000400000, 1620000401000, -1, IN, 1, "group hi", 0, 2, 1, 0, 1, "guid-3")],
    "part": [(1, 1, 0, "image/jpeg", None, "/data/user/0/org.thoughtcrime.securesms/app_parts/part9.mms", None, 4321, 1620000300001)],
}


def test_v109_thread_recipient_id_era_golden_record(tmp_path: Path) -> None:
    parsed = _read(tmp_path, V109, V109_ROWS)
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 5
    assert parsed.messages[0] == Message(
        source_table="sms", source_row_id=1, conversation_id="1", conversation_title="Dana Contact",
        sender=Participant("+15550004", "Dana Contact"), recipients=(), direction="incoming",
        sent=1620000000000 * 10**6, sent_raw="1620000000000", received=1620000001000 * 10**6, body="old sms in", kind="text",
        is_deleted=False, is_view_once=None, details={"type": f"{IN} (base 20)"},
    )
    out, joined, picture, group = parsed.messages[1:]
    assert (out.direction, out.sender, out.recipients, out.received) == (
        "outgoing", None, (Participant("+15550004", "Dana Contact"),), None)
    assert (joined.kind, joined.direction) == ("system", "unknown")
    assert picture == Message(
        source_table="mms", source_row_id=1, conversation_id="1", conversation_title="Dana Contact",
        sender=Participant("+15550004", "Dana Contact"), direction="incoming", sent=1620000300000 * 10**6,
        sent_raw="1620000300000", received=1620000301000 * 10**6, kind="media",
        attachments=(Attachment(mime_type="image/jpeg", size=4321,
                                local_path="/data/user/0/org.thoughtcrime.securesms/app_parts/part9.mms"),),
        is_deleted=False, is_view_once=True, details={"type": f"{IN} (base 20)"},
    )
    assert (group.conversation_title, group.is_deleted, group.body) == ("Book club", True, "group hi")


# v24..v107: the thread's recipient column is still `recipient_ids`, now holding the recipient _id as text.
V24 = """
CREATE TABLE recipient (_id INTEGER PRIMARY KEY AUTOINCREMENT, phone TEXT UNIQUE DEFAULT NULL, system_display_name TEXT);
CREATE TABLE thread (_id INTEGER PRIMARY KEY AUTOINCREMENT, date INTEGER DEFAULT 0, message_count INTEGER DEFAULT 0,
  recipient_ids TEXT, snippet TEXT);
CREATE TABLE sms (_id integer PRIMARY KEY, thread_id INTEGER, address TEXT, address_device_id INTEGER DEFAULT 1, person INTEGER,
  date INTEGER, date_sent INTEGER, protocol INTEGER, read INTEGER DEFAULT 0, status INTEGER DEFAULT -1, type INTEGER, body TEXT);
CREATE TABLE mms (_id INTEGER PRIMARY KEY, thread_id INTEGER, date INTEGER, date_received INTEGER, msg_box INTEGER,
  read INTEGER DEFAULT 0, body TEXT, part_count INTEGER, address TEXT, address_device_id INTEGER);
"""


def test_v24_recipient_ids_era_reads_text_ids(tmp_path: Path) -> None:
    db = build_database(tmp_path / "signal.db", V24, {
        "recipient": [(7, "+15550007", "Eve")], "thread": [(1, 1560000000000, 2, "7", "x")],
        "sms": [(1, 1, "7", 1, None, 1560000001000, 1560000000000, 31337, 1, -1, IN, "era v24 in")],
        "mms": [(1, 1, 1560000100000, 1560000100500, SENT, 1, "era v24 out", 0, "7", 1)]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert [(m.source_table, m.direction, m.conversation_title, m.sender, m.recipients) for m in parsed.messages] == [
        ("sms", "incoming", "Eve", Participant("+15550007", "Eve"), ()),
        ("mms", "outgoing", "Eve", None, (Participant("+15550007", "Eve"),))]
    assert (parsed.messages[0].is_deleted, parsed.messages[1].is_view_once) == (None, None)  # columns not yet there


# Before v24: no recipient table; addresses are phone numbers, names in recipient_preferences.
PRE_V24 = """
CREATE TABLE recipient_preferences (_id INTEGER PRIMARY KEY, recipient_ids TEXT UNIQUE, block INTEGER DEFAULT 0,
  notification TEXT DEFAULT NULL, vibrate INTEGER DEFAULT 0, system_display_name TEXT DEFAULT NULL,
  signal_profile_name TEXT DEFAULT NULL);
CREATE TABLE groups (_id INTEGER PRIMARY KEY, group_id TEXT, title TEXT, members TEXT);
CREATE TABLE thread (_id INTEGER PRIMARY KEY, date INTEGER DEFAULT 0, message_count INTEGER DEFAULT 0, recipient_ids TEXT);
CREATE TABLE sms (_id integer PRIMARY KEY, thread_id INTEGER, address TEXT, date INTEGER, date_sent INTEGER, type INTEGER,
  body TEXT);
CREATE TABLE mms (_id INTEGER PRIMARY KEY, thread_id INTEGER, date INTEGER, date_received INTEGER, msg_box INTEGER,
  body TEXT, address TEXT);
"""


def test_before_v24_phone_number_addresses(tmp_path: Path) -> None:
    db = build_database(tmp_path / "signal.db", PRE_V24, {
        "recipient_preferences": [(1, "+15550008", 0, None, 0, None, "frank")],
        "groups": [(1, "__textsecure_group__!aa", "Old group", "+15550008,+15550001")],
        "thread": [(1, 1500000000000, 1, "+15550008"), (2, 1500000100000, 1, "__textsecure_group__!aa")],
        "sms": [(1, 1, "+15550008", 1500000001000, 1500000000000, IN, "pre v24 in")],
        "mms": [(1, 2, 1500000100000, 1500000100500, SENT, "pre v24 group out", "__textsecure_group__!aa")]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    incoming, group = parsed.messages
    assert incoming == Message(
        source_table="sms", source_row_id=1, conversation_id="1", conversation_title="frank",
        sender=Participant("+15550008", "frank"), direction="incoming", sent=1500000000000 * 10**6, sent_raw="1500000000000",
        received=1500000001000 * 10**6, body="pre v24 in", kind="text", details={"type": f"{IN} (base 20)"})
    assert (group.conversation_title, group.recipients, group.direction) == (
        "Old group", (Participant("__textsecure_group__!aa", "Old group"),), "outgoing")


# v166/v167: sms and mms keep their tables but take the new column names; thread.recipient_id.
V166 = """
CREATE TABLE recipient (_id INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT UNIQUE DEFAULT NULL, phone TEXT UNIQUE DEFAULT NULL,
  group_id TEXT UNIQUE DEFAULT NULL, system_display_name TEXT DEFAULT NULL);
CREATE TABLE thread (_id INTEGER PRIMARY KEY AUTOINCREMENT, date INTEGER DEFAULT 0, meaningful_messages INTEGER DEFAULT 0,
  recipient_id INTEGER NOT NULL UNIQUE REFERENCES recipient (_id) ON DELETE CASCADE, read INTEGER DEFAULT 1, snippet TEXT);
CREATE TABLE sms (_id INTEGER PRIMARY KEY AUTOINCREMENT, date_sent INTEGER NOT NULL, date_received INTEGER NOT NULL,
  date_server INTEGER DEFAULT -1, thread_id INTEGER NOT NULL REFERENCES thread (_id) ON DELETE CASCADE,
  recipient_id NOT NULL REFERENCES recipient (_id) ON DELETE CASCADE, recipient_device_id INTEGER DEFAULT 1, type INTEGER,
  body TEXT, read INTEGER DEFAULT 0, status INTEGER DEFAULT -1, remote_deleted INTEGER DEFAULT 0, exported INTEGER DEFAULT 0);
CREATE TABLE mms (_id INTEGER PRIMARY KEY AUTOINCREMENT, date_sent INTEGER NOT NULL, date_received INTEGER NOT NULL,
  date_server INTEGER DEFAULT -1, thread_id INTEGER NOT NULL REFERENCES thread (_id) ON DELETE CASCADE,
  recipient_id INTEGER NOT NULL REFERENCES recipient (_id) ON DELETE CASCADE, recipient_device_id INTEGER,
  type INTEGER NOT NULL, body TEXT, read INTEGER DEFAULT 0, view_once INTEGER DEFAULT 0, remote_deleted INTEGER DEFAULT 0,
  story_type INTEGER DEFAULT 0, parent_story_id INTEGER DEFAULT 0, exported INTEGER DEFAULT 0);
CREATE TABLE part (_id INTEGER PRIMARY KEY, mid INTEGER, ct TEXT, _data TEXT, file_name TEXT, data_size INTEGER,
  unique_id INTEGER NOT NULL);
"""
V166_ROWS = {
    "recipient": [(1, "aci-self", "+15550001", None, "Me"), (2, "aci-gus", "+15550009", None, "Gus")],
    "thread": [(1, 1660000200000, 3, 2, 1, "bye")],
    "sms": [(1, 1660000000000, 1660000001000, -1, 1, 2, 1, IN, "v166 sms in", 1, -1, 0, 0),
            (2, 1660000100000, 1660000100000, -1, 1, 2, 1, SENT, "v166 sms out", 1, -1, 0, 0)],
    "mms": [(1, 1660000200000, 1660000200000, -1, 1, 2, 1, CALL_OUT, None, 1, 0, 0, 0, 0, 0)],
}


def test_v166_sms_mms_with_new_column_names(tmp_path: Path) -> None:
    parsed = _read(tmp_path, V166, V166_ROWS)
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 3
    assert parsed.messages[1] == Message(
        source_table="sms", source_row_id=2, conversation_id="1", conversation_title="Gus", recipients=(Participant("+15550009", "Gus"),),
        direction="outgoing", sent=1660000100000 * 10**6, sent_raw="1660000100000", body="v166 sms out", kind="text",
        is_deleted=False, details={"type": f"{SENT} (base 23)"})
    call = parsed.messages[2]
    assert (call.source_table, call.kind, call.direction, call.is_view_once) == ("mms", "call", "outgoing", False)


def test_v168_single_mms_table(tmp_path: Path) -> None:
    """v168 copied every sms row into mms (ids offset) and dropped sms; mms is renamed message only at v174."""
    schema = V166.replace(V166[V166.index("CREATE TABLE sms"):V166.index("CREATE TABLE mms")], "")
    rows = {"recipient": V166_ROWS["recipient"], "thread": V166_ROWS["thread"],
            "mms": [(1, 1660000200000, 1660000200000, -1, 1, 2, 1, CALL_OUT, None, 1, 0, 0, 0, 0, 0),
                    (3, 1660000000000, 1660000001000, -1, 1, 2, 1, IN, "copied from sms", 1, 0, 0, 0, 0, 0)]}
    parsed = _read(tmp_path, schema, rows)
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 2
    assert parsed.messages[1] == Message(
        source_table="mms", source_row_id=3, conversation_id="1", conversation_title="Gus", sender=Participant("+15550009", "Gus"),
        direction="incoming", sent=1660000000000 * 10**6, sent_raw="1660000000000", received=1660000001000 * 10**6,
        body="copied from sms", kind="text", is_deleted=False, is_view_once=False, details={"type": f"{IN} (base 20)"})


def test_message_table_with_only_the_minimum_columns(tmp_path: Path) -> None:
    """A trimmed v174 `message` table: no recipient table, no thread recipient, flag or receipt columns; still read."""
    db = build_database(tmp_path / "signal.db", """
        CREATE TABLE thread (_id INTEGER PRIMARY KEY, date INTEGER);
        CREATE TABLE message (_id INTEGER PRIMARY KEY, thread_id INTEGER, date_sent INTEGER, type INTEGER, body TEXT,
          recipient_id INTEGER, extra BLOB);
    """, {"message": [(1, 4, 1700000000000, IN, "bare", None, None)]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.messages == [Message(
        source_table="message", source_row_id=1, conversation_id="4", direction="incoming", sent=1700000000000 * 10**6,
        sent_raw="1700000000000", body="bare", kind="text", details={"type": f"{IN} (base 20)"})]


def test_hostile_type_values_and_missing_side_tables(tmp_path: Path) -> None:
    """A text type that is a number is read; one that is not is a bad_row warning; no thread recipient column, no part table."""
    db = build_database(tmp_path / "signal.db", V24.split("CREATE TABLE sms")[0].replace("recipient_ids TEXT,", "")
                        + "CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id, address, date, date_sent, type, body);"
                        "CREATE TABLE mms (_id INTEGER PRIMARY KEY, thread_id, date, date_received, msg_box, body, address);", {
        "sms": [(1, 1, 99, 1, 1, str(IN), "digits as text"), (2, 1, None, None, None, "not-a-type", "bad"),
                (3, None, None, "x", -5, None, None)],
        "mms": [(1, 1, b"\x00blob", 1, SENT, "blob time", 99)]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(w.kind, w.table, w.row_id) for w in parsed.warnings] == [
        ("bad_row", "sms", 2), ("bad_time", "sms", 3), ("bad_time", "sms", 3), ("bad_time", "mms", 1)]
    assert [(m.source_table, m.source_row_id, m.direction, m.sender) for m in parsed.messages] == [
        ("sms", 1, "incoming", Participant("recipient:99")), ("sms", 3, "unknown", None), ("mms", 1, "outgoing", None)]


def test_ios_interaction_table_with_only_the_minimum_columns(tmp_path: Path) -> None:
    """No author, recipient-state or flag columns and no thread table: the direction is unknown, nothing is lost."""
    db = build_database(tmp_path / "signal.sqlite", """
        CREATE TABLE model_TSInteraction (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, recordType INTEGER NOT NULL,
          uniqueId TEXT NOT NULL, timestamp INTEGER NOT NULL, uniqueThreadId TEXT NOT NULL, body TEXT);
    """, {"model_TSInteraction": [(1, 0, "m1", 1690000000000, "t1", "ios bare"), (2, 0, "m2", 1690000100000, "t1", None)]})
    parsed = parse_files(db, logical={db: b"/private/var/mobile/Containers/Shared/AppGroup/X/grdb/signal.sqlite"})
    assert_no_warnings(parsed)
    assert parsed.messages == [
        Message(source_table="model_TSInteraction", source_row_id=1, conversation_id="t1", sent=1690000000000 * 10**6,
                sent_raw="1690000000000", body="ios bare", kind="text"),
        Message(source_table="model_TSInteraction", source_row_id=2, conversation_id="t1", sent=1690000100000 * 10**6,
                sent_raw="1690000100000", kind="unknown")]


def test_sms_table_of_another_app_is_not_taken_for_signal(tmp_path: Path) -> None:
    """Android's own mmssms.db has `sms` with the same minimum columns but `threads`/`pdu`, not `thread`/`mms`."""
    db = build_database(tmp_path / "other.db", """
        CREATE TABLE threads (_id INTEGER PRIMARY KEY, date INTEGER);
        CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, date INTEGER, date_sent INTEGER,
          type INTEGER, body TEXT);
        CREATE TABLE mms (_id INTEGER PRIMARY KEY, thread_id INTEGER, date_sent INTEGER, type INTEGER, body TEXT);
        CREATE TABLE message (_id INTEGER PRIMARY KEY, thread_id INTEGER, date_sent INTEGER, type INTEGER, body TEXT,
          recipient_id INTEGER);
    """, {"sms": [(1, 1, "+1555", 1, 1, 1, "x")], "mms": [(1, 1, 1, 1, "y")], "message": [(1, 1, 1, IN, "z", 1)]})
    parsed = parse_files(db)
    assert "signal" not in parsed.parser_names()
    assert [m.body for m in parsed.messages if m.body in ("y", "z")] == []


# Signal-iOS SignalServiceKit/Resources/schema.sql at commit 026b02c2 (an older GRDB schema): model_TSThread
# has contactPhoneNumber/contactUUID but no `name` column, which the parser once required.
IOS_OLDER = """
CREATE TABLE model_TSThread (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, recordType INTEGER NOT NULL, uniqueId TEXT NOT NULL UNIQUE,
  conversationColorName TEXT NOT NULL, creationDate DOUBLE, isArchived INTEGER NOT NULL, lastInteractionRowId INTEGER NOT NULL,
  shouldThreadBeVisible INTEGER NOT NULL, contactPhoneNumber TEXT, contactUUID TEXT, groupModel BLOB);
CREATE TABLE model_TSInteraction (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, recordType INTEGER NOT NULL, uniqueId TEXT NOT NULL UNIQUE,
  receivedAtTimestamp INTEGER NOT NULL, timestamp INTEGER NOT NULL, uniqueThreadId TEXT NOT NULL, authorPhoneNumber TEXT,
  authorUUID TEXT, body TEXT, isViewOnceMessage INTEGER, read INTEGER, recipientAddressStates BLOB, wasRemotelyDeleted BOOLEAN);
"""


def test_ios_older_grdb_schema_without_thread_name(tmp_path: Path) -> None:
    db = build_database(tmp_path / "signal.sqlite", IOS_OLDER, {
        "model_TSThread": [(1, 0, "c+15550002", "blue", 1.0, 0, 2, 1, "+15550002", "uuid-b", None)],
        "model_TSInteraction": [(1, 31, "m1", 1600000001000, 1600000000000, "c+15550002", "+15550002", "uuid-b", "old ios in", 0, 1, None, 0),
                                (2, 19, "m2", 1600000100000, 1600000100000, "c+15550002", None, None, "old ios out", 0, 1, b"bplist00", 0)]})
    parsed = parse_files(db, logical={db: b"/private/var/mobile/Containers/Shared/AppGroup/X/grdb/signal.sqlite"})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 2
    assert parsed.messages[1] == Message(
        source_table="model_TSInteraction", source_row_id=2, conversation_id="c+15550002", recipients=(Participant("+15550002"),),
        direction="outgoing", sent=1600000100000 * 10**6, sent_raw="1600000100000", body="old ios out", kind="text",
        is_deleted=False, is_view_once=False)


def test_v185_edit_revisions_are_kept_as_details(tmp_path: Path) -> None:
    """V185 added latest_revision_id, original_message_id, revision_number: every revision row is read, linked in details."""
    parsed = _read(tmp_path, """
        CREATE TABLE thread (_id INTEGER PRIMARY KEY, recipient_id INTEGER);
        CREATE TABLE recipient (_id INTEGER PRIMARY KEY, e164 TEXT);
        CREATE TABLE message (_id INTEGER PRIMARY KEY AUTOINCREMENT, date_sent INTEGER NOT NULL, date_received INTEGER NOT NULL,
          thread_id INTEGER NOT NULL, from_recipient_id INTEGER NOT NULL, to_recipient_id INTEGER NOT NULL, type INTEGER NOT NULL,
          body TEXT, remote_deleted INTEGER DEFAULT 0, view_once INTEGER DEFAULT 0,
          latest_revision_id INTEGER DEFAULT NULL REFERENCES message (_id) ON DELETE CASCADE,
          original_message_id INTEGER DEFAULT NULL REFERENCES message (_id) ON DELETE CASCADE, revision_number INTEGER DEFAULT 0);
    """, {"thread": [(1, 2)], "recipient": [(1, "+15550001"), (2, "+15550002")],
          "message": [(1, 1700000000000, 1700000001000, 1, 2, 1, IN, "first text", 0, 0, 2, None, 0),
                      (2, 1700000000000, 1700000060000, 1, 2, 1, IN, "edited text", 0, 0, None, 1, 1)]})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 2
    assert parsed.messages[1] == Message(
        source_table="message", source_row_id=2, conversation_id="1", sender=Participant("+15550002"),
        recipients=(Participant("+15550001"),), direction="incoming", sent=1700000000000 * 10**6, sent_raw="1700000000000",
        received=1700000060000 * 10**6, body="edited text", kind="text", is_deleted=False, is_view_once=False,
        details={"type": f"{IN} (base 20)", "original_message_id": "1", "revision_number": "1"})
    assert parsed.messages[0].details == {"type": f"{IN} (base 20)", "latest_revision_id": "2"}


REACTION_V121 = """
CREATE TABLE reaction (_id INTEGER PRIMARY KEY, message_id INTEGER NOT NULL, is_mms INTEGER NOT NULL,
  author_id INTEGER NOT NULL REFERENCES recipient (_id) ON DELETE CASCADE, emoji TEXT NOT NULL, date_sent INTEGER NOT NULL,
  date_received INTEGER NOT NULL, UNIQUE(message_id, is_mms, author_id) ON CONFLICT REPLACE);
"""


def test_reactions_follow_is_mms_while_sms_and_mms_coexist(tmp_path: Path) -> None:
    """v121..v173: `reaction.is_mms` tells sms row 1 from mms row 1 (V149 REACTION_REFACTOR DDL)."""
    rows = dict(V166_ROWS, reaction=[(1, 1, 0, 1, "👍", 1660000002000, 1660000002000),
                                     (2, 1, 1, 2, "❤", 1660000203000, 1660000203000)])
    parsed = _read(tmp_path, V166 + REACTION_V121, rows)
    assert_no_warnings(parsed)
    assert [(m.source_table, m.source_row_id, m.details.get("reactions")) for m in parsed.messages] == [
        ("sms", 1, "+15550001:👍"), ("sms", 2, None), ("mms", 1, "+15550009:❤")]


def test_reactions_on_the_single_message_table(tmp_path: Path) -> None:
    """v174 on: no `is_mms` (V174_ReactionForeignKeyMigration); an author missing from `recipient` keeps its id."""
    parsed = _read(tmp_path, """
        CREATE TABLE thread (_id INTEGER PRIMARY KEY, recipient_id INTEGER);
        CREATE TABLE recipient (_id INTEGER PRIMARY KEY, e164 TEXT);
        CREATE TABLE message (_id INTEGER PRIMARY KEY, date_sent INTEGER, date_received INTEGER, thread_id INTEGER,
          recipient_id INTEGER, type INTEGER, body TEXT);
        CREATE TABLE reaction (_id INTEGER PRIMARY KEY, message_id INTEGER NOT NULL, author_id INTEGER NOT NULL, emoji TEXT NOT NULL,
          date_sent INTEGER NOT NULL, date_received INTEGER NOT NULL);
    """, {"thread": [(1, 2)], "recipient": [(2, "+15550002")], "message": [(1, 1690000000000, 1690000001000, 1, 2, IN, "hey")],
          "reaction": [(1, 1, 2, "😂", 1690000002000, 1690000002000), (2, 1, 9, "👍", 1690000003000, 1690000003000)]})
    assert_no_warnings(parsed)
    assert parsed.messages == [Message(
        source_table="message", source_row_id=1, conversation_id="1", conversation_title=None, sender=Participant("+15550002"),
        direction="incoming", sent=1690000000000 * 10**6, sent_raw="1690000000000", received=1690000001000 * 10**6, body="hey",
        kind="text", details={"type": f"{IN} (base 20)", "reactions": "+15550002:😂; recipient:9:👍"})]


def _reaction_list(*reactions: tuple[str, int]) -> bytes:
    """A ReactionList (signalbackup-tools reactionlist.h): repeated Reaction{1 emoji, 2 author, 3 sent, 4 received} as field 1."""
    from parsers.decode.protobuf import encode_field

    return b"".join(encode_field(1, encode_field(1, emoji) + encode_field(2, author) + encode_field(3, 1) + encode_field(4, 2))
                    for emoji, author in reactions)


def test_pre_v121_reaction_blobs_on_sms_and_mms(tmp_path: Path) -> None:
    """v37..v120 keep reactions in sms/mms `reactions` BLOBs; a truncated or type-confused one is a bad_blob, the message stays."""
    schema = (V109.replace("remote_deleted INTEGER DEFAULT 0, server_guid TEXT DEFAULT NULL);",
                           "remote_deleted INTEGER DEFAULT 0, server_guid TEXT DEFAULT NULL, reactions BLOB DEFAULT NULL);"))
    assert schema.count("reactions BLOB") == 2
    rows = {**V109_ROWS,
            "sms": [r + ({1: _reaction_list(("👍", 1), ("😂", 2)), 2: "text, not a blob"}.get(r[0]),) for r in V109_ROWS["sms"]],
            "mms": [r + (_reaction_list(("❤", 1))[:-3] if r[0] == 2 else None,) for r in V109_ROWS["mms"]]}
    parsed = _read(tmp_path, schema, rows)
    assert [(w.kind, w.table, w.row_id, w.field) for w in parsed.warnings] == [("bad_blob", "sms", 2, "reactions"),
                                                                               ("bad_blob", "mms", 2, "reactions")]
    assert parsed.warnings[0].message == "reactions: str, not a blob"
    assert len(parsed.messages) == 5
    assert parsed.messages[0].details == {"type": f"{IN} (base 20)", "reactions": "+15550001:👍; +15550004:😂"}
    assert (parsed.messages[4].body, parsed.messages[4].details) == ("group hi", {"type": f"{IN} (base 20)"})
