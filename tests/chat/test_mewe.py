"""MeWe iOS (sgrouplesdb.sqlite, iLEAPP sample): count, range, WAL state, iLEAPP row-for-row, golden record.

Facts and sources are in parsers/chat/mewe.py (iLEAPP `scripts/artifacts/meWe.py`). iLEAPP's
meWeMessages lists 53 rows (Timestamp as Unix seconds UTC, ZDATE truncated); they are matched
to ours by message id. The sample's -wal holds 17 frames, but they change ZUSER, ZPROFILE, ZPAGE
and ZHYPERLINK rows only: every ZCHATMESSAGE row is already in the main file, so no message is
`wal_only` and none is `removed_in_wal` (checked against the driver's main-file-only view).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from manifests.records import Attachment, Message, Participant, decode_text
from tests.chat.helpers import assert_no_warnings, build_database, corpus_file, parse_files
from tests.chat.hostile import assert_truncated_store_is_unreadable

DB = ("abrignoni__iLEAPP/admin/test/cases/data/meWe/testdata.meWe.meWeMessages.josh_ios17_ffs.zip.extracted/filesystem1/private/"
      "var/mobile/Containers/Data/Application/B8B1A6C3-DCBA-468D-B2B4-EA42DD1B07AF/Documents/sgrouplesdb.sqlite")
LOGICAL = b"/private/var/mobile/Containers/Data/Application/B8B1A6C3-DCBA-468D-B2B4-EA42DD1B07AF/Documents/sgrouplesdb.sqlite"
ILEAPP = "abrignoni__iLEAPP/admin/test/results/meWe/meWe.meWeMessages.josh_ios17_ffs.20260725220318.json"
ME = Participant("5e2f8b72ae8d404b182c0d14", "This Is DFIR")


def _hashes(path: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(path.parent.glob(path.name + "*"))}


def test_corpus_count_range_wal_state_and_golden_record() -> None:
    path = corpus_file(DB)
    before = _hashes(path)
    assert set(before) == {"sgrouplesdb.sqlite", "sgrouplesdb.sqlite-shm", "sgrouplesdb.sqlite-wal"}
    parsed = parse_files(path, logical={path: LOGICAL})
    assert _hashes(path) == before  # the evidence is only ever read through copies
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 53  # CHATS.tsv: ZCHATMESSAGE 53
    assert parsed.parser_names() == {"mewe"}
    assert len({m.conversation_id for m in parsed.messages}) == 4  # CHATS.tsv: chat threads 4
    assert parsed.time_range() == ("2020-04-11T18:05:26Z", "2024-07-26T14:12:18Z")
    assert [p.message.source_row_id for p in parsed.parsed if p.record_state != "live"] == []
    assert parsed.messages[4] == Message(
        source_table="ZCHATMESSAGE", source_row_id=5, conversation_id="619e62ffdb02f31fbfaf0cfa", conversation_title="ThisIs DFIRTwo",
        sender=ME, recipients=(Participant("6172162ca0c1ec13cbd9da0e", "ThisIs DFIRTwo"),), direction="outgoing",
        sent=1682688072000000000, sent_raw="704380872", body="", kind="media",
        attachments=parsed.messages[4].attachments, is_edited=False, account_id=ME.id,
        details={"message_id": "644bc8486cc5860d5530d8e0", "chat_type": "UserChat"},
    )
    assert [(a.file_name, a.mime_type) for a in parsed.messages[4].attachments] == [("image.jpg", "jpg")]
    kinds = [m.kind for m in parsed.messages]
    assert (kinds.count("text"), kinds.count("location"), kinds.count("media")) == (38, 9, 6)


def test_matches_ileapp_row_for_row() -> None:
    path = corpus_file(DB)
    parsed = parse_files(path, logical={path: LOGICAL})
    expected = json.loads(corpus_file(ILEAPP).read_text())["data"]
    assert len(expected) == 53
    # Two message ids occur twice (rows 34/35 and 68/70: the second copy has ZREPLYMESSAGEID and
    # ZORIGINALTEXT set); iLEAPP lists both copies too, so rows are keyed by (id, second).
    ours = {(m.details["message_id"], m.sent // 10**9): m for m in parsed.messages}
    assert len(ours) == 53 and set(ours) == {(row[19], row[0]) for row in expected}
    for row in expected:
        message = ours[(row[19], row[0])]
        assert message.conversation_id == row[2]
        assert (message.sender.name, message.sender.id) == (row[4], row[5])
        assert message.body == row[6]
        if row[7]:
            assert (message.latitude, message.longitude) == (float(row[7]), float(row[8]))
        else:
            assert message.latitude is None
        assert (message.direction == "outgoing") == (row[21] == 1)
        assert [a.file_name for a in message.attachments if a.file_name] == ([row[10]] if row[10] else [])


def test_fixture_edited_deleted_event_and_call(tmp_path: Path) -> None:
    db = build_database(tmp_path / "sgrouplesdb.sqlite", """
        CREATE TABLE ZCHATMESSAGE (Z_PK INTEGER PRIMARY KEY, ZDATE TIMESTAMP, ZEDITEDDATE TIMESTAMP, ZTEXT VARCHAR,
          ZORIGINALTEXT VARCHAR, ZSENDER VARCHAR, ZTHREADID VARCHAR, ZMESSAGEID VARCHAR, ZREPLYMESSAGEID VARCHAR,
          ZDELETEDBYSENDER INTEGER, ZDISAPPEARINGTYPE VARCHAR, ZEVENTTYPE VARCHAR, ZCALLDURATION INTEGER, ZCALLHASVIDEO INTEGER);
        CREATE TABLE ZUSER (Z_PK INTEGER PRIMARY KEY, ZUSERID VARCHAR, ZNAME VARCHAR, ZFIRSTNAME VARCHAR, ZLASTNAME VARCHAR,
          ZHANDLE VARCHAR, ZCURRENTUSER INTEGER);
        CREATE TABLE ZCHATTHREAD (Z_PK INTEGER PRIMARY KEY, ZTHREADID VARCHAR, ZCHATTYPE VARCHAR);
        CREATE TABLE ZCHATATTACHMENT (Z_PK INTEGER PRIMARY KEY, ZCHATMESSAGE INTEGER, ZATYPE VARCHAR, ZFILENAME VARCHAR,
          ZMIMETYPE VARCHAR, ZURL VARCHAR);
    """, {"ZUSER": [(1, "me", None, "Ann", "B", "ann", 1), (2, "you", None, None, None, "you.1", None)],
          "ZCHATTHREAD": [(1, "t1", "UserChat")],
          "ZCHATMESSAGE": [(1, 700000000, 700000060, "new", "old", "me", "t1", "m1", None, 0, None, None, 0, 0),
                           (2, 700000100, None, "", None, "you", "t1", "m2", "m1", 1, None, None, 0, 0),
                           (3, 700000200, None, None, None, "you", "t1", "m3", None, None, None, "callEnded", 42, 1),
                           (4, 5e12, None, "far", None, "you", "t1", "m4", None, None, None, None, 0, 0)]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(w.kind, w.row_id) for w in parsed.warnings] == [("bad_time", 4)]
    first, second, third, fourth = parsed.messages
    assert (first.sender, first.is_edited, first.edited, first.details["original_text"]) == (
        Participant("me", "Ann B"), True, (700000060 + 978307200) * 10**9, "old")
    assert (second.kind, second.is_deleted, second.sender, second.details["reply_to"]) == ("deleted", True, Participant("you", "you.1"), "m1")
    assert (third.kind, third.details["call_duration"], third.details["event_type"]) == ("system", "42", "callEnded")
    assert fourth.sent is None and fourth.body == "far"


def test_unknown_schema_at_mewe_path_warns_once(tmp_path: Path) -> None:
    db = build_database(tmp_path / "sgrouplesdb.sqlite", "CREATE TABLE ZCHATMESSAGE (Z_PK INTEGER PRIMARY KEY, ZTEXT VARCHAR);")
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


MINIMAL = "CREATE TABLE ZCHATMESSAGE (Z_PK INTEGER PRIMARY KEY, ZDATE TIMESTAMP, ZTEXT VARCHAR, ZSENDER VARCHAR, ZTHREADID VARCHAR);"


def test_minimal_store_reads_every_message_with_optional_columns_and_tables_absent(tmp_path: Path) -> None:
    db = build_database(tmp_path / "sgrouplesdb.sqlite", MINIMAL, {"ZCHATMESSAGE": [
        (1, 700000000, "hello", "u1", "t1"), (2, 700000100, "https://www.openstreetmap.org/?mlat=51.5&mlon=-0.12", "u2", "t1"),
        (3, None, None, None, None)]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 3
    assert parsed.messages[0] == Message(
        source_table="ZCHATMESSAGE", source_row_id=1, conversation_id="t1", conversation_title="u1, u2", sender=Participant("u1"),
        direction="unknown", sent=(700000000 + 978307200) * 10**9, sent_raw="700000000", body="hello", kind="text",
        is_edited=False, details={"message_id": "None"},
    )
    assert (parsed.messages[1].kind, parsed.messages[1].latitude, parsed.messages[1].longitude) == ("location", 51.5, -0.12)
    assert (parsed.messages[2].sender, parsed.messages[2].conversation_id, parsed.messages[2].sent) == (None, None, None)


def test_type_confused_values_in_a_minimal_store_cost_only_the_value(tmp_path: Path) -> None:
    db = build_database(tmp_path / "sgrouplesdb.sqlite", MINIMAL + """
        CREATE TABLE ZUSER (Z_PK INTEGER PRIMARY KEY, ZUSERID VARCHAR);
        CREATE TABLE ZCHATATTACHMENT (Z_PK INTEGER PRIMARY KEY, ZCHATMESSAGE INTEGER);""", {
        "ZCHATMESSAGE": [(1, "not a date", b"\xff\xfe", 7, 8), (2, 700000000, "ok", "u1", "t1")],
        "ZUSER": [(1, None), (2, b"\x00")], "ZCHATATTACHMENT": [(1, 2), (2, "x")]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_time", 1, "ZDATE")]
    assert [(m.source_row_id, m.sender, m.conversation_id) for m in parsed.messages] == [
        (1, Participant("7"), "8"), (2, Participant("u1"), "t1")]
    assert parsed.messages[0].body == decode_text(b"\xff\xfe")  # a BLOB body keeps its exact bytes
    assert parsed.messages[1].attachments == (Attachment(),) and parsed.messages[1].kind == "media"


def test_truncated_minimal_store_is_database_unreadable(tmp_path: Path) -> None:
    db = build_database(tmp_path / "sgrouplesdb.sqlite", MINIMAL, {"ZCHATMESSAGE": [(i, 700000000 + i, "x" * 300, "u", "t") for i in range(400)]})
    assert_truncated_store_is_unreadable(db, LOGICAL)
