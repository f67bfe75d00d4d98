"""WeChat iOS MM.sqlite / message_<n>.sqlite, from fixtures built here from the documented schema.

Facts used (see parsers/chat/wechat_ios.py; BlueMatthew/WechatExporter): one `Chat_<md5(user name)>`
table per chat with `MesLocalID`, `CreateTime` (Unix s), `Message`, `Des` (0 sent by the owner,
else received), `Type`; group messages received carry "<sender>:\\n"; names from
`WCDB_Contact.sqlite` `Friend` (`userName`, `dbContactRemark` protobuf field 1).
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from manifests.records import Attachment, Message, Participant, UndecodedText
from parsers.decode.protobuf import encode_field
from tests.chat.helpers import assert_no_warnings, build_database, parse_files

ROOT = b"/private/var/mobile/Containers/Data/Application/0A1B2C3D-0000-4000-8000-00000000000A/Documents/00112233445566778899aabbccddeeff/DB/"
BOB, GROUP, CAROL = "wxid_bob", "99887766@chatroom", "wxid_carol"


def md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()


def chat_table(user: str, optional: bool = True) -> str:
    extra = "MesSvrID integer default 0, " if optional else ""
    status = ", Status integer default 0" if optional else ""
    return (f"CREATE TABLE Chat_{md5(user)} (MesLocalID integer primary key autoincrement, {extra}CreateTime integer default 0, "
            f"Message text, Type integer, Des integer{status});")


def _fixture(tmp_path: Path, extra_schema: str = "", extra_rows: dict | None = None) -> tuple[Path, Path]:
    mm = build_database(tmp_path / "MM.sqlite", chat_table(BOB) + chat_table(GROUP, optional=False) + extra_schema, {
        f"Chat_{md5(BOB)}": [(1, 9001, 1700000000, "hi from bob", 1, 1, 0), (2, 9002, 1700000060, "hi bob", 1, 0, 2),
                             (3, 9003, 1700000120, "<msg><img/></msg>", 3, 1, 0)],
        f"Chat_{md5(GROUP)}": [(1, 1700000180, f"{CAROL}:\ngroup hello", 1, 1), (2, 1700000240, "my reply", 1, 0)],
        **(extra_rows or {})})
    contacts = build_database(tmp_path / "WCDB_Contact.sqlite", "CREATE TABLE Friend (userName TEXT PRIMARY KEY, dbContactRemark BLOB, type INTEGER);", {
        "Friend": [(BOB, encode_field(1, "Bob Li") + encode_field(6, "x"), 1), (GROUP, encode_field(1, "Family"), 2),
                   (CAROL, encode_field(1, "Carol"), 1)]})
    return mm, contacts


def _parse(mm: Path, contacts: Path):
    return parse_files(mm, contacts, logical={mm: ROOT + b"MM.sqlite", contacts: ROOT + b"WCDB_Contact.sqlite"})


def test_chat_tables_golden_record(tmp_path: Path) -> None:
    parsed = _parse(*_fixture(tmp_path))
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"wechat_ios"}
    assert len(parsed.messages) == 5
    bob_table = f"Chat_{md5(BOB)}"
    assert parsed.messages[0] == Message(
        source_table=bob_table, source_row_id=1, conversation_id=BOB, conversation_title="Bob Li", sender=Participant(BOB, "Bob Li"),
        direction="incoming", sent=1700000000 * 10**9, sent_raw="1700000000", body="hi from bob", kind="text",
        details={"type": "1 (text)", "MesLocalID": "1", "chat_table_md5": md5(BOB), "MesSvrID": "9001", "Status": "0"},
    )
    sent, image, group_in, group_out = parsed.messages[1:]
    assert (sent.direction, sent.sender, sent.recipients) == ("outgoing", None, (Participant(BOB, "Bob Li"),))
    assert (image.kind, image.attachments) == ("media", (Attachment(file_name="3.pic", local_path=f"Img/{md5(BOB)}/3.pic"),))
    assert (group_in.sender, group_in.body, group_in.conversation_title, group_in.details) == (
        Participant(CAROL, "Carol"), "group hello", "Family", {"type": "1 (text)", "MesLocalID": "1", "chat_table_md5": md5(GROUP)})
    assert (group_out.direction, group_out.recipients, group_out.body) == ("outgoing", (), "my reply")


def test_without_contacts_the_md5_is_the_conversation(tmp_path: Path) -> None:
    mm, _ = _fixture(tmp_path)
    parsed = parse_files(mm, logical={mm: ROOT + b"message_1.sqlite"})
    assert_no_warnings(parsed)
    group_in = parsed.messages[3]
    assert (group_in.conversation_id, group_in.sender, group_in.body) == (md5(GROUP), None, f"{CAROL}:\ngroup hello")


def test_hostile_table_names_are_skipped_with_a_warning(tmp_path: Path) -> None:
    schema = ('CREATE TABLE "Chat_x""; DROP TABLE Friend; --" (MesLocalID integer, CreateTime integer, Message text, Type integer, Des integer);'
              f"CREATE TABLE Chat_{'0' * 32} (MesLocalID integer, Message text, Type integer);")
    parsed = _parse(*_fixture(tmp_path, schema))
    assert len(parsed.messages) == 5
    assert [(w.kind, w.table) for w in parsed.warnings] == [("table_skipped", f"Chat_{'0' * 32}"), ("table_skipped", None)]
    assert "lacks the columns CreateTime, Message, Des" in parsed.warnings[0].message
    assert "'Chat_x\"; DROP TABLE Friend; --' is named like a WeChat chat table" in parsed.warnings[1].message


def test_wrong_types_become_row_warnings(tmp_path: Path) -> None:
    rows = {f"Chat_{'a' * 32}": [(1, "noon", "text time", "one", "x"), (2, 1700000000, b"\x00\xff", 3, 7)]}
    parsed = _parse(*_fixture(tmp_path, f"CREATE TABLE Chat_{'a' * 32} (MesLocalID integer, CreateTime integer, Message text, Type integer, Des integer);", rows))
    assert [(w.kind, w.table, w.row_id, w.field) for w in parsed.warnings] == [("bad_time", f"Chat_{'a' * 32}", 1, "CreateTime")]
    assert len(parsed.messages) == 7
    first, second = [m for m in parsed.messages if m.source_table == f"Chat_{'a' * 32}"]
    assert (first.sent, first.sent_raw, first.direction, first.kind, first.conversation_id) == (None, "noon", "unknown", "unknown", "a" * 32)
    assert (second.direction, second.kind, second.body, second.attachments) == ("unknown", "media", UndecodedText.of(b"\x00\xff"),
                                                                                 (Attachment(file_name="2.pic", local_path=f"Img/{'a' * 32}/2.pic"),))
    assert second.body.raw == b"\x00\xff"  # the exact bytes, kept


def test_store_without_chat_tables_at_wechat_path(tmp_path: Path) -> None:
    mm = build_database(tmp_path / "MM.sqlite", "CREATE TABLE Hello_abc (MsgID integer, Message text);")
    parsed = parse_files(mm, logical={mm: ROOT + b"MM.sqlite"})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]
    assert "expected by wechat_ios" in parsed.warnings[0].message


def test_corrupt_contact_blob_keeps_the_messages(tmp_path: Path) -> None:
    mm, contacts = _fixture(tmp_path)
    build_database(contacts, "INSERT INTO Friend VALUES ('wxid_dave', x'0a05ff', 1);")
    parsed = _parse(mm, contacts)
    assert len(parsed.messages) == 5
    assert [(w.kind, w.table, w.field) for w in parsed.warnings] == [("bad_blob", "Friend", "dbContactRemark")]


def test_truncated_store_is_unreadable(tmp_path: Path) -> None:
    rows = {f"Chat_{md5(BOB)}": [(i, i, 1700000000 + i, "y" * 3000, 1, 1, 0) for i in range(10, 200)]}
    mm, contacts = _fixture(tmp_path, extra_rows=rows)
    mm.write_bytes(mm.read_bytes()[: mm.stat().st_size // 2])
    parsed = _parse(mm, contacts)
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["database_unreadable"]
    assert "expected by wechat_ios" in parsed.warnings[0].message


def test_minimum_columns_read_with_the_others_null(tmp_path: Path) -> None:
    mm = build_database(tmp_path / "MM.sqlite", f"CREATE TABLE Chat_{md5(BOB)} (CreateTime integer, Message text, Des integer);",
                        {f"Chat_{md5(BOB)}": [(1600000000, "minimal", 0)]})
    parsed = parse_files(mm, logical={mm: ROOT + b"MM.sqlite"})
    assert_no_warnings(parsed)
    assert parsed.messages == [Message(
        source_table=f"Chat_{md5(BOB)}", source_row_id=1, conversation_id=md5(BOB), direction="outgoing", sent=1600000000 * 10**9,
        sent_raw="1600000000", body="minimal", kind="unknown", details={"chat_table_md5": md5(BOB)})]


def test_row_only_in_the_wal_is_marked(tmp_path: Path) -> None:
    import shutil
    import sqlite3

    live = tmp_path / "live"
    live.mkdir()
    table = f"Chat_{md5(BOB)}"
    db = build_database(live / "MM.sqlite", chat_table(BOB), {table: [(1, 9001, 1700000000, "checkpointed", 1, 1, 0)]}, journal_mode="wal")
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA wal_autocheckpoint=0")
    connection.execute(f"INSERT INTO {table} VALUES (2, 9002, 1700000100, 'only in the WAL', 1, 0, 0)")
    connection.commit()
    copy = tmp_path / "MM.sqlite"
    for suffix in ("", "-wal", "-shm"):
        shutil.copyfile(live / f"MM.sqlite{suffix}", tmp_path / f"MM.sqlite{suffix}")
    connection.close()
    parsed = parse_files(copy, logical={copy: ROOT + b"MM.sqlite"})
    assert_no_warnings(parsed)
    assert [(p.message.body, p.record_state) for p in parsed.parsed] == [("checkpointed", "live"), ("only in the WAL", "wal_only")]


def test_control_characters_in_a_table_name_are_escaped(tmp_path: Path) -> None:
    schema = 'CREATE TABLE "Chat_\u202eevil\x1b[2J" (CreateTime integer, Message text, Des integer);'
    parsed = _parse(*_fixture(tmp_path, schema))
    assert len(parsed.messages) == 5
    (warning,) = parsed.warnings
    assert warning.kind == "table_skipped"
    assert "table 'Chat_\\u202eevil\\x1b[2J' is named like a WeChat chat table" in warning.message


def test_a_damaged_contact_companion_costs_the_names_only(tmp_path: Path) -> None:
    from tests.chat.hostile import assert_side_table_stopped, rows_before_damage, wreck_last_page

    mm, contacts = _fixture(tmp_path)
    connection = sqlite3.connect(contacts)
    connection.executemany("INSERT INTO Friend VALUES (?, ?, 1)", [(f"wxid_many{i:04d}", encode_field(1, "x" * 300)) for i in range(250)])
    connection.commit()
    connection.close()
    wreck_last_page(contacts)
    assert rows_before_damage(contacts, "SELECT * FROM Friend") < 253
    parsed = _parse(mm, contacts)
    assert_side_table_stopped(parsed, "Friend", 5)
    assert parsed.messages[0].sender == Participant(BOB, "Bob Li")  # names before the damaged page are kept
