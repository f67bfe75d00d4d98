"""Skype 8+ s4l-<user>.db: the IPED corpus file (empty messagesv12) and fixtures with messages.

Facts (see parsers/chat/skype_s4l.py; IPED SkypeSqliteV12.java, the corpus file's own schema): store tables
are (nsp_pk TEXT PRIMARY KEY, nsp_data JSON); messagesv12 JSON has cuid, conversationId, creator (MRI),
_isMyMessage, content, createdTime (Unix ms), messagetype; conversationsv14 (older: v13) JSON conv.id,
conv._threadProps.topic, conv._threadMembers[].id; profilecachev8 JSON mri/fullName/displayNameOverride;
internaldata 'Cpriv_prefs_v2' value.skypeName is the owner.
"""

from __future__ import annotations

import json
from pathlib import Path

from manifests.records import Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, corpus_file, parse_files
from tests.chat.hostile import assert_truncated_store_is_unreadable

IPED = "sepinf-inc__IPED/iped-parsers/iped-parsers-impl/src/test/resources/test-files/test_skypeS4lStreeguil1.db"
LOGICAL = b"/Users/x/Library/Application Support/Microsoft/Skype for Desktop/IndexedDB/s4l-streeguil1.db"


def _schema(conversations: str) -> str:
    return f"""
CREATE TABLE messagesv12 (nsp_pk TEXT PRIMARY KEY, nsp_data TEXT, nsp_i_convidcreatedtime TEXT);
CREATE TABLE {conversations} (nsp_pk TEXT PRIMARY KEY, nsp_data TEXT);
CREATE TABLE profilecachev8 (nsp_pk TEXT PRIMARY KEY, nsp_data TEXT);
CREATE TABLE internaldata (nsp_pk TEXT PRIMARY KEY, nsp_data TEXT);
"""


GROUP = "19:abc@thread.skype"
ROWS = {
    "messagesv12": [
        ("1001", json.dumps({"cuid": "1001", "conversationId": "8:bob", "creator": "8:bob", "_isMyMessage": 0,
                             "content": "hi <b>there</b>", "createdTime": 1600000000123, "messagetype": "RichText"}), "x"),
        ("1002", json.dumps({"cuid": "1002", "conversationId": "8:bob", "creator": "8:alice", "_isMyMessage": 1,
                             "content": "hello", "createdTime": 1600000001000, "messagetype": "Text"}), "x"),
        ("1003", json.dumps({"cuid": "1003", "conversationId": GROUP, "creator": "8:bob", "_isMyMessage": 0,
                             "content": "<URIObject type=\"Picture.1\"/>", "createdTime": 1600000002000,
                             "messagetype": "RichText/UriObject"}), "x"),
        ("1004", "{not json", "x"),
    ],
    "profilecachev8": [("C8:bob", json.dumps({"mri": "8:bob", "fullName": "Bob B", "displayNameOverride": "Bobby"})),
                       ("C8:alice", json.dumps({"mri": "8:alice", "fullName": "Alice A"}))],
    "internaldata": [("Cpriv_prefs_v2", json.dumps({"id": "priv_prefs_v2", "value": {"skypeName": "alice"}}))],
}


def _rows(conversations: str) -> dict[str, list[tuple]]:
    rows = dict(ROWS)
    rows[conversations] = [(GROUP, json.dumps({"conv": {"id": GROUP, "_threadProps": {"topic": "Team"},
                                                        "_threadMembers": [{"id": "8:alice"}, {"id": "8:bob"}]}}))]
    return rows


def test_iped_s4l_has_no_messages() -> None:
    path = corpus_file(IPED)
    parsed = parse_files(path, logical={path: LOGICAL})
    # CHATS.tsv: messagesv12 0 rows (only profile/metadata rows): nothing to report, and nothing failed.
    assert parsed.messages == []
    assert parsed.warnings == []


def test_current_schema_fixture(tmp_path: Path) -> None:
    db = build_database(tmp_path / "s4l-alice.db", _schema("conversationsv14"), _rows("conversationsv14"))
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.parser_names() == {"skype_s4l"}
    assert len(parsed.messages) == 4
    assert [(w.kind, w.table, w.row_id) for w in parsed.warnings] == [("bad_json", "messagesv12", 4)]
    assert parsed.messages[0] == Message(
        source_table="messagesv12", source_row_id=1, conversation_id="8:bob", sender=Participant("8:bob", "Bobby"),
        recipients=(Participant("8:alice", "Alice A"),), direction="incoming", sent=1600000000123000000,
        sent_raw="1600000000123", body="hi <b>there</b>", kind="text", account_id="8:alice",
        details={"nsp_pk": "1001", "cuid": "1001", "messagetype": "RichText", "_isMyMessage": "0"},
    )
    sent, group, broken = parsed.messages[1:]
    assert (sent.direction, sent.sender, sent.recipients) == ("outgoing", Participant("8:alice", "Alice A"), (Participant("8:bob", "Bobby"),))
    assert (group.conversation_title, group.kind, group.recipients) == ("Team", "media", (Participant("8:alice", "Alice A"),))
    assert (broken.kind, broken.body, broken.details) == ("unknown", None, {"nsp_pk": "1004"})


def test_older_conversations_table(tmp_path: Path) -> None:
    rows = _rows("conversationsv13")
    rows["messagesv12"] = rows["messagesv12"][:3]
    db = build_database(tmp_path / "s4l-alice.db", _schema("conversationsv13"), rows)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 3
    assert parsed.messages[2].conversation_title == "Team"


def test_s4l_with_unknown_schema_is_reported(tmp_path: Path) -> None:
    db = build_database(tmp_path / "s4l-x.db", "CREATE TABLE messagesv99 (id INTEGER PRIMARY KEY, body TEXT);")
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


def test_undocumented_table_versions_are_read_and_said(tmp_path: Path) -> None:
    """messagesv13/conversationsv15 are not documented versions (made up here to test the pattern): read, with a notice."""
    rows = _rows("conversationsv15")
    rows["messagesv13"] = rows.pop("messagesv12")[:3]
    schema = _schema("conversationsv15").replace("messagesv12", "messagesv13")
    # Look-alikes that must not be taken: a lower version, a name outside the pattern, a table without nsp_data.
    schema += """
CREATE TABLE messagesv11 (nsp_pk TEXT PRIMARY KEY, nsp_data TEXT);
CREATE TABLE "messagesv14; DROP TABLE x" (nsp_pk TEXT PRIMARY KEY, nsp_data TEXT);
CREATE TABLE messagesv20 (nsp_pk TEXT PRIMARY KEY, body TEXT);
CREATE TABLE messagesv123456 (nsp_pk TEXT PRIMARY KEY, nsp_data TEXT);
CREATE TABLE "messagesv99
" (nsp_pk TEXT PRIMARY KEY, nsp_data TEXT);
"""
    rows["messagesv11"] = [("old", json.dumps({"content": "must not be read"}))]
    db = build_database(tmp_path / "s4l-alice.db", schema, rows)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.parser_names() == {"skype_s4l"}
    assert [(w.kind, w.table, w.severity) for w in parsed.warnings] == [("s4l_version_unconfirmed", "messagesv13", "info")]
    assert "conversationsv15, messagesv13" in parsed.warnings[0].message
    assert len(parsed.messages) == 3
    assert parsed.messages[0] == Message(
        source_table="messagesv13", source_row_id=1, conversation_id="8:bob", sender=Participant("8:bob", "Bobby"),
        recipients=(Participant("8:alice", "Alice A"),), direction="incoming", sent=1600000000123000000,
        sent_raw="1600000000123", body="hi <b>there</b>", kind="text", account_id="8:alice",
        details={"nsp_pk": "1001", "cuid": "1001", "messagetype": "RichText", "_isMyMessage": "0"},
    )
    assert parsed.messages[2].conversation_title == "Team"


def test_messages_table_without_conversations_table(tmp_path: Path) -> None:
    rows = {"messagesv12": ROWS["messagesv12"][:1], "internaldata": ROWS["internaldata"]}
    db = build_database(tmp_path / "s4l-alice.db", "CREATE TABLE messagesv12 (nsp_pk TEXT PRIMARY KEY, nsp_data TEXT, x TEXT);"
                        "CREATE TABLE internaldata (nsp_pk TEXT PRIMARY KEY, nsp_data TEXT);", rows)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [w.kind for w in parsed.warnings] == ["s4l_version_unconfirmed"]
    assert [(m.source_table, m.body, m.conversation_title, m.direction) for m in parsed.messages] == [
        ("messagesv12", "hi <b>there</b>", None, "incoming")]


def test_wrong_json_types_cost_only_the_field(tmp_path: Path) -> None:
    rows = _rows("conversationsv14")
    rows["messagesv12"] = [("1", json.dumps([1, 2]), "x"), ("2", json.dumps({"createdTime": "soon", "content": 5, "creator": ["x"]}), "x"),
                           ("3", b"\xff\xfe", "x")]
    db = build_database(tmp_path / "s4l-alice.db", _schema("conversationsv14"), rows)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert len(parsed.messages) == 3
    assert [(w.kind, w.row_id) for w in parsed.warnings] == [("bad_json", 1), ("bad_time", 2), ("bad_json", 3)]
    assert (parsed.messages[1].body, parsed.messages[1].sent_raw) == ("5", "soon")


def test_truncated_s4l_is_a_warning(tmp_path: Path) -> None:
    rows = _rows("conversationsv14")
    rows["messagesv12"] = [(str(i), json.dumps({"content": "q" * 3000, "createdTime": 1600000000000}), "x") for i in range(200)]
    db = build_database(tmp_path / "s4l-alice.db", _schema("conversationsv14"), rows)
    assert_truncated_store_is_unreadable(db, LOGICAL)
