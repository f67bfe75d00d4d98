"""Truth Social iOS (ChatModel.sqlite, iLEAPP sample): events, WAL states, iLEAPP row for row.

Facts and sources are in parsers/chat/truth_social.py (iLEAPP `scripts/artifacts/truthSocial.py`).
CHATS.tsv: 13 messages (Z_ENT 10 ManagedMessage) of 18 events; iLEAPP lists all 18. Here all 18
are emitted: 13 text/media messages and 5 `system` events (2 chatCreated, 2 memberJoined,
1 messageExpirationChanged). The 13 messages exist only in the -wal (`wal_only`); the main file
alone still holds 21 older messages (Z_PK 6..27, January-February 2024) that the WAL deleted
(the chat expires messages after 90 days): the driver reports them as `removed_in_wal`.
iLEAPP mapping: Timestamp is Unix seconds (UTC), Message is the HTML body flattened to text
(compared with our stored HTML flattened the same way here), "From Me" 1/0/'' vs direction.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from pathlib import Path

from manifests.records import Attachment, Message, Participant, decode_text
from tests.chat.helpers import assert_no_warnings, build_database, corpus_file, parse_files
from tests.chat.hostile import assert_truncated_store_is_unreadable

DB = ("abrignoni__iLEAPP/admin/test/cases/data/truthSocial/testdata.truthSocial.truthSocialMessages.josh_ios17_ffs.zip.extracted/"
      "filesystem1/private/var/mobile/Containers/Shared/AppGroup/E9E0EAAD-CA38-4661-999B-1E6B130F3288/chat/v1/107848900006371409/"
      "ChatModel.sqlite")
LOGICAL = b"/private/var/mobile/Containers/Shared/AppGroup/E9E0EAAD-CA38-4661-999B-1E6B130F3288/chat/v1/107848900006371409/ChatModel.sqlite"
ILEAPP = "abrignoni__iLEAPP/admin/test/results/truthSocial/truthSocial.truthSocialMessages.josh_ios17_ffs.20260725220319.json"
OWNER = "107848900006371409"
LIZ = Participant("108809937055864312", "lizdehner05")


def _flat(content: str | None) -> str:
    """HTML body to the plain text iLEAPP shows: paragraph breaks as newlines, tags dropped, entities decoded."""
    lines = re.split(r"</p>\s*<p>|<br\s*/?>", content or "")
    text = "\n".join(re.sub(r"<[^>]*>", "", line) for line in lines)
    return html.unescape(text).replace("\u00a0", " ").strip()


def test_corpus_events_states_and_golden_record() -> None:
    path = corpus_file(DB)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    parsed = parse_files(path, logical={path: LOGICAL})
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"truth_social"}
    states = [p.record_state for p in parsed.parsed]
    assert (states.count("live"), states.count("wal_only"), states.count("removed_in_wal")) == (5, 13, 21)
    current = [p.message for p in parsed.parsed if p.record_state != "removed_in_wal"]
    assert len(current) == 18  # CHATS.tsv: all events 18
    messages = [m for m in current if m.kind != "system"]
    assert len(messages) == 13  # CHATS.tsv: ZMANAGEDEVENTBASE (Z_ENT=10 ManagedMessage) 13
    assert {p.message.kind for p in parsed.parsed if p.record_state == "wal_only"} == {"text", "media"}
    assert sorted(m.details["event_type"] for m in current if m.kind == "system") == [
        "chatCreated", "chatCreated", "memberJoined", "memberJoined", "messageExpirationChanged"]
    assert len({m.conversation_id for m in current}) == 2  # CHATS.tsv: chats 2
    times = sorted(m.sent for m in messages)
    assert _second_range(times) == ("2024-07-22T17:11:37Z", "2024-07-22T18:05:49Z")
    golden = next(m for m in current if m.source_row_id == 32)
    assert golden == Message(
        source_table="ZMANAGEDEVENTBASE", source_row_id=32, conversation_id="239", conversation_title="lizdehner05",
        sender=LIZ, recipients=(Participant(OWNER),), direction="incoming", sent=1721668408500000000, sent_raw="743361208.5",
        body="<p>I completely forgot messages are deleted after 90 days (max). </p>", kind="text", account_id=OWNER,
        details={"entity": "ManagedMessage", "event_type": "message", "chat_type": "direct", "message_id": "68331945",
                 "sender_handle": "@lizdehner", "unread": "1", "hidden": "0", "failed_to_send": "0", "reactions": "👍 x1 (by me)"},
    )
    picture = next(m for m in current if m.source_row_id == 39)
    assert (picture.kind, picture.body, picture.attachments) == ("media", None, (Attachment(file_name="fcec9bce6bc9c2c5.png"),))
    removed = [p.message for p in parsed.parsed if p.record_state == "removed_in_wal"]
    assert [m.source_row_id for m in removed] == [6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 19, 20, 21, 22, 23, 24, 25, 26, 27]
    assert removed[0].body == "<p>Hey I’m over on Truth now. </p>"


def _second_range(times: list[int]) -> tuple[str, str]:
    from parsers.chat.times import iso_text

    return iso_text(times[0] - times[0] % 10**9) or "", iso_text(times[-1] - times[-1] % 10**9) or ""


def test_matches_ileapp_row_for_row() -> None:
    path = corpus_file(DB)
    parsed = parse_files(path, logical={path: LOGICAL})
    current = [p.message for p in parsed.parsed if p.record_state != "removed_in_wal"]
    expected = json.loads(corpus_file(ILEAPP).read_text())["data"]
    assert len(expected) == len(current) == 18
    for message, row in zip(current, expected, strict=True):
        assert message.sent // 10**9 == row[0]
        assert message.conversation_id == row[2]
        assert message.details["event_type"] == row[4]
        assert (message.sender.id if message.sender else None) == row[6]
        assert _flat(message.body) == (row[7] or "")
        assert message.details.get("message_id") == row[21]
        assert {1: "outgoing", 0: "incoming", "": "unknown"}[row[22]] == message.direction
        assert [a.file_name for a in message.attachments] == [u.rsplit("/", 1)[-1] for u in (row[9] or "").split(", ") if u]


SCHEMA = """
CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER, Z_MAX INTEGER);
CREATE TABLE ZMANAGEDEVENTBASE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, ZMESSAGEEXPIRATION INTEGER, ZFAILEDTOSEND INTEGER,
  ZISHIDDEN INTEGER, ZISUNREAD INTEGER, ZCREATEDAT TIMESTAMP, ZCHATID VARCHAR, ZTYPE VARCHAR, ZCHANGEDBYACCOUNTID VARCHAR,
  ZTEXT VARCHAR, ZINVITEDACCOUNTID VARCHAR, ZINVITEDBYACCOUNTID VARCHAR, ZACCOUNTID VARCHAR, ZACCOUNTID1 VARCHAR,
  ZCONTENT VARCHAR, ZMESSAGEID VARCHAR, ZURL VARCHAR);
CREATE TABLE ZMANAGEDCHAT (Z_PK INTEGER PRIMARY KEY, ZSERVERID VARCHAR, ZTYPE VARCHAR, ZOTHERACCOUNTID VARCHAR, ZOWNEDBYACCOUNTID VARCHAR);
CREATE TABLE ZMANAGEDACCOUNT (Z_PK INTEGER PRIMARY KEY, ZSERVERID VARCHAR, ZACCT VARCHAR, ZDISPLAYNAME VARCHAR);
CREATE TABLE ZMANAGEDATTACHMENT (Z_PK INTEGER PRIMARY KEY, ZMESSAGE INTEGER, ZTYPE VARCHAR, ZURL VARCHAR, ZREMOTEURL VARCHAR);
CREATE TABLE ZMANAGEDREACTION (Z_PK INTEGER PRIMARY KEY, ZMESSAGE INTEGER, ZNAME VARCHAR, ZCOUNT INTEGER, ZISME INTEGER);
"""


def test_fixture_invite_event_and_bad_time(tmp_path: Path) -> None:
    db = build_database(tmp_path / "ChatModel.sqlite", SCHEMA, {
        "Z_PRIMARYKEY": [(5, "ManagedEventBase", 0, 0), (8, "ManagedInvite", 5, 0), (10, "ManagedMessage", 5, 0)],
        "ZMANAGEDCHAT": [(1, "c1", None, "2", "1")],
        "ZMANAGEDACCOUNT": [(1, "2", "bob", "Bob")],
        "ZMANAGEDEVENTBASE": [(1, 8, None, None, None, None, 700000000, "c1", "invite", None, None, "2", "1", None, None, None, None, None),
                              (2, 10, None, 0, 0, 0, -1e12, "c1", "message", None, None, None, None, None, "1", "<p>hi</p>", "9", None)],
    })
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(w.kind, w.row_id) for w in parsed.warnings] == [("bad_time", 2)]
    invite, message = sorted(parsed.messages, key=lambda m: m.source_row_id)
    assert (invite.kind, invite.body, invite.details["invited"], invite.details["invited_by"]) == ("system", None, "2", "1")
    assert (message.direction, message.sent, message.body, message.recipients) == ("outgoing", None, "<p>hi</p>", (Participant("2", "Bob"),))


def test_unknown_schema_at_truth_social_path_warns_once(tmp_path: Path) -> None:
    db = build_database(tmp_path / "ChatModel.sqlite", "CREATE TABLE ZMANAGEDEVENTBASE (Z_PK INTEGER PRIMARY KEY);")
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


MINIMAL = "CREATE TABLE ZMANAGEDEVENTBASE (Z_PK INTEGER PRIMARY KEY, ZCHATID VARCHAR, ZCREATEDAT TIMESTAMP, ZCONTENT VARCHAR);"


def test_minimal_store_reads_every_event_as_a_message(tmp_path: Path) -> None:
    db = build_database(tmp_path / "ChatModel.sqlite", MINIMAL, {"ZMANAGEDEVENTBASE": [
        (2, "c1", 700000010, "<p>second</p>"), (1, "c1", 700000000, "<p>first</p>"), (3, None, None, None)]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 3
    assert [m.source_row_id for m in parsed.messages] == [3, 1, 2]  # ZCREATEDAT order, NULL first as SQLite sorts it
    assert parsed.messages[1] == Message(
        source_table="ZMANAGEDEVENTBASE", source_row_id=1, conversation_id="c1", direction="unknown",
        sent=(700000000 + 978307200) * 10**9, sent_raw="700000000", body="<p>first</p>", kind="text",
        details={"chat_type": "unknown"},
    )


def test_without_z_primarykey_ztype_tells_messages_from_events(tmp_path: Path) -> None:
    db = build_database(tmp_path / "ChatModel.sqlite", MINIMAL.replace("ZCONTENT VARCHAR", "ZCONTENT VARCHAR, ZTYPE VARCHAR, ZACCOUNTID VARCHAR") + """
        CREATE TABLE ZMANAGEDCHAT (Z_PK INTEGER PRIMARY KEY, ZSERVERID VARCHAR, ZOWNEDBYACCOUNTID VARCHAR);""", {
        "ZMANAGEDEVENTBASE": [(1, "c1", 700000000, None, "chatCreated", "1"), (2, "c1", 700000001, "hey", "message", "2")],
        "ZMANAGEDCHAT": [(1, "c1", "1")]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert [(m.kind, m.direction, m.body, m.details["event_type"]) for m in parsed.messages] == [
        ("system", "outgoing", None, "chatCreated"), ("text", "incoming", "hey", "message")]
    assert parsed.messages[1].recipients == (Participant("1"),)


def test_type_confused_minimal_store_costs_only_the_value(tmp_path: Path) -> None:
    db = build_database(tmp_path / "ChatModel.sqlite", MINIMAL + """
        CREATE TABLE ZMANAGEDATTACHMENT (Z_PK INTEGER PRIMARY KEY, ZMESSAGE INTEGER);""", {
        "ZMANAGEDEVENTBASE": [(1, 42, "yesterday", b"\xff"), (2, "c1", 700000000, "ok")], "ZMANAGEDATTACHMENT": [(1, 2), (2, "x")]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_time", 1, "ZCREATEDAT")]
    assert [(m.conversation_id, m.body, m.kind) for m in sorted(parsed.messages, key=lambda m: m.source_row_id)] == [
        ("42", decode_text(b"\xff"), "text"), ("c1", "ok", "media")]


def test_truncated_minimal_store_is_database_unreadable(tmp_path: Path) -> None:
    db = build_database(tmp_path / "ChatModel.sqlite", MINIMAL, {"ZMANAGEDEVENTBASE": [(i, "c", 700000000 + i, "x" * 300) for i in range(400)]})
    assert_truncated_store_is_unreadable(db, LOGICAL)
