"""Zalo iOS chat_dbs, from fixtures built here from the schema iLEAPP documents (no corpus sample).

Facts used (see parsers/chat/zalo.py): `Documents/chat_dbs/<account>/<peer>.db` or `group_<id>.db`,
table `ChatContent` (`SenderId`, `CliMsgId`, `MsgType`, `TimeStamp`, `MsgContent`, `BinNet`,
`LocalPath`); outgoing when `SenderId` is the account id; names from `profile.sqlite`
`ProfileEntity` and `chatgroup.sqlite` `GroupEntity`. Android: only the path `databases/zalo`.
"""

from __future__ import annotations

from pathlib import Path

from manifests.records import Attachment, Message, Participant, UndecodedText
from tests.chat.helpers import assert_no_warnings, build_database, parse_files

DOCS = b"/private/var/mobile/Containers/Data/Application/5E6F7A8B-0000-4000-8000-00000000000B/Documents/"
ACCOUNT, PEER, GROUP = "450986601", "454362368", "621589592"
CHAT = ("CREATE TABLE ChatContent (SenderId TEXT, CliMsgId INTEGER, MsgType INTEGER, TimeStamp INTEGER, MsgContent TEXT, "
        "BinNet BLOB, LocalPath TEXT);")


def _names(tmp_path: Path) -> tuple[Path, Path]:
    profile = build_database(tmp_path / "profile.sqlite", "CREATE TABLE ProfileEntity (userid TEXT, displayname TEXT);", {
        "ProfileEntity": [(ACCOUNT, "Me"), (PEER, "Minh Anh"), ("777000111", "Tuan")]})
    groups = build_database(tmp_path / "chatgroup.sqlite", "CREATE TABLE GroupEntity (groupid TEXT, name TEXT);", {
        "GroupEntity": [(GROUP, "Nhóm bạn")]})
    return profile, groups


def _chat(tmp_path: Path, name: str, rows: list, schema: str = CHAT) -> Path:
    return build_database(tmp_path / name, schema, {"ChatContent": rows} if rows else None)


def _parse(db: Path, logical_name: bytes, tmp_path: Path):
    profile, groups = _names(tmp_path)
    return parse_files(db, profile, groups, logical={db: DOCS + b"chat_dbs/" + ACCOUNT.encode() + b"/" + logical_name,
                                                     profile: DOCS + b"profile.sqlite", groups: DOCS + b"chatgroup.sqlite"})


PEER_ROWS = [
    (PEER, 1001, 0, 1700000000123, "xin chào", None, None),
    (ACCOUNT, 1002, 0, 1700000060000, "chào bạn", None, None),
    (PEER, 1003, 2, 1700000120000, "", b"\x00https://example.invalid/p.jpg", "/var/mobile/Containers/Data/Application/X/Documents/450986601/1/a.jpg"),
    (PEER, 1004, 36, 1700000180, "system note", None, ""),
]


def test_one_to_one_chat_golden_record(tmp_path: Path) -> None:
    db = _chat(tmp_path, "peer.db", PEER_ROWS)
    parsed = _parse(db, PEER.encode() + b".db", tmp_path)
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"zalo"}
    assert len(parsed.messages) == 4
    assert parsed.messages[0] == Message(
        source_table="ChatContent", source_row_id=1, conversation_id=PEER, conversation_title="Minh Anh",
        sender=Participant(PEER, "Minh Anh"), direction="incoming", sent=1700000000123 * 10**6, sent_raw="1700000000123",
        body="xin chào", kind="text", account_id=ACCOUNT, details={"msg_type": "0 (text, iLEAPP reading)", "CliMsgId": "1001"},
    )
    sent, media, system = parsed.messages[1:]
    assert (sent.direction, sent.sender, sent.recipients) == ("outgoing", Participant(ACCOUNT, "Me"), (Participant(PEER, "Minh Anh"),))
    assert (media.kind, media.attachments) == ("media", (Attachment(
        file_name="a.jpg", local_path="/var/mobile/Containers/Data/Application/X/Documents/450986601/1/a.jpg"),))
    assert (system.kind, system.sent, system.attachments) == ("system", 1700000180 * 10**9, ())


def test_group_chat_names_group_and_senders(tmp_path: Path) -> None:
    db = _chat(tmp_path, "group.db", [("777000111", 1, 0, 1700000300000, "hello group", None, None),
                                      (ACCOUNT, 2, 10, 1700000360000, "[^1,2^]", None, None)])
    parsed = _parse(db, b"group_" + GROUP.encode() + b".db", tmp_path)
    assert_no_warnings(parsed)
    incoming, sticker = parsed.messages
    assert (incoming.conversation_id, incoming.conversation_title, incoming.sender, incoming.direction) == (
        f"group_{GROUP}", "Nhóm bạn", Participant("777000111", "Tuan"), "incoming")
    assert (sticker.direction, sticker.recipients, sticker.kind) == ("outgoing", (), "sticker")


def test_renamed_copy_has_no_direction(tmp_path: Path) -> None:
    db = _chat(tmp_path, "exported.sqlite", PEER_ROWS[:1])
    parsed = parse_files(db)
    assert_no_warnings(parsed)
    (message,) = parsed.messages
    assert (message.direction, message.conversation_id, message.account_id, message.sender) == ("unknown", None, None, Participant(PEER))


def test_wrong_types_become_row_warnings(tmp_path: Path) -> None:
    db = _chat(tmp_path, "peer.db", [(PEER, 1, "zero", "noon", "text", None, None), (None, None, 99, 2.5, b"\xff", None, b"\x01path")])
    parsed = _parse(db, PEER.encode() + b".db", tmp_path)
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_time", 1, "TimeStamp"), ("bad_time", 2, "TimeStamp")]
    first, second = parsed.messages
    assert (first.sent, first.sent_raw, first.kind, first.details["msg_type"]) == (None, "noon", "unknown", "zero (unlisted, iLEAPP reading)")
    assert (second.sender, second.direction, second.body, second.attachments) == (None, "unknown", UndecodedText.of(b"\xff"), ())
    assert second.body.raw == b"\xff"  # the exact bytes, kept


def test_android_path_warns_schema_unrecognised(tmp_path: Path) -> None:
    db = build_database(tmp_path / "zalo", "CREATE TABLE some_table (id INTEGER, payload BLOB);")
    parsed = parse_files(db, logical={db: b"/data/data/com.zing.zalo/databases/zalo"})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]
    assert "path expected by zalo" in parsed.warnings[0].message


def test_ext_database_is_not_expected_to_be_a_chat(tmp_path: Path) -> None:
    db = build_database(tmp_path / "x_ext.db", "CREATE TABLE Ext (k TEXT, v BLOB);")
    parsed = parse_files(db, logical={db: DOCS + b"chat_dbs/" + ACCOUNT.encode() + b"/" + PEER.encode() + b"_ext.db"})
    assert (parsed.messages, parsed.warnings) == ([], [])


def test_missing_table_at_chat_path(tmp_path: Path) -> None:
    db = build_database(tmp_path / "peer.db", "CREATE TABLE ChatInfo (id INTEGER);")
    parsed = _parse(db, PEER.encode() + b".db", tmp_path)
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


def test_truncated_store_is_unreadable(tmp_path: Path) -> None:
    big = _chat(tmp_path, "big.db", [(PEER, i, 0, 1700000000000 + i, "z" * 3000, None, None) for i in range(200)])
    big.write_bytes(big.read_bytes()[: big.stat().st_size // 2])
    parsed = _parse(big, PEER.encode() + b".db", tmp_path)
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["database_unreadable"]
    assert "expected by zalo" in parsed.warnings[0].message


def test_minimum_columns_read_with_the_others_null(tmp_path: Path) -> None:
    db = _chat(tmp_path, "peer.db", [(PEER, 1600000000, "minimal")], "CREATE TABLE ChatContent (SenderId TEXT, TimeStamp INTEGER, MsgContent TEXT);")
    parsed = _parse(db, PEER.encode() + b".db", tmp_path)
    assert_no_warnings(parsed)
    assert parsed.messages == [Message(
        source_table="ChatContent", source_row_id=1, conversation_id=PEER, conversation_title="Minh Anh", sender=Participant(PEER, "Minh Anh"),
        direction="incoming", sent=1600000000 * 10**9, sent_raw="1600000000", body="minimal", kind="unknown", account_id=ACCOUNT)]
