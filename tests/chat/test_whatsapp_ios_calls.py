"""WhatsApp iOS call history (CallHistory.sqlite + ContactsV2.sqlite): corpus, iLEAPP row for row, old schema.

Facts (own words; sources in parsers/chat/whatsapp_ios_calls.py: corpus DDL, iLEAPP whatsApp.py):
ZWACDCALLEVENT is one call (ZDATE Cocoa seconds, ZDURATION seconds, ZOUTCOME 0 ended / 1 missed /
4 rejected), ZWACDCALLEVENTPARTICIPANT its other parties (Z1PARTICIPANTS -> call), ZWAAGGREGATECALLEVENT
the call-log line grouping calls (ZINCOMING, ZVIDEO). Older releases (iOS 14.3 per iLEAPP) have no
ZGROUPCALLCREATORUSERJIDSTRING.
iLEAPP's expected output maps to ours as follows: "Starting Timestamp" = int(ZDATE + 978307200) =
our sent // 1e9 (UTC); "Ending Timestamp" = int(ZDATE + ZDURATION + 978307200); "Duration H:M:S" =
whole seconds of ZDURATION; "Direction" Incoming/Outgoing = our direction; "Disconnected cause"
Ended = outcome "0 (ended)"; "Contact ID"/"Contact Fullname" = the other party (our sender for
incoming calls, our recipient for outgoing ones).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from manifests.records import Message, Participant
from tests.chat.helpers import Parsed, assert_no_warnings, build_database, corpus_file, parse_files
from tests.chat.hostile import assert_truncated_store_is_unreadable

FOLDER = ("abrignoni__iLEAPP/admin/test/cases/data/whatsApp/testdata.whatsApp.whatsAppCallHistory.josh_ios15_ffs.zip.extracted/"
          "filesystem2/mobile/Containers/Shared/AppGroup/694FBBC5-2E69-480A-A25B-FF8CC038BEF8/")
EXPECTED = "abrignoni__iLEAPP/admin/test/results/whatsApp/whatsApp.whatsAppCallHistory.josh_ios15_ffs.20250621193412.json"
GROUP = b"/private/var/mobile/Containers/Shared/AppGroup/694FBBC5-2E69-480A-A25B-FF8CC038BEF8/"
OWNER = "19195794674@s.whatsapp.net"
OTHER = "19198887386@s.whatsapp.net"


def _josh() -> Parsed:
    db, contacts = corpus_file(FOLDER + "CallHistory.sqlite"), corpus_file(FOLDER + "ContactsV2.sqlite")
    return parse_files(db, contacts, logical={db: GROUP + b"CallHistory.sqlite", contacts: GROUP + b"ContactsV2.sqlite"})


def test_josh_counts_range_and_golden_record() -> None:
    parsed = _josh()
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 4  # CHATS.tsv: ZWACDCALLEVENT 4
    assert parsed.parser_names() == {"whatsapp_ios_calls"}
    assert parsed.time_range() == ("2023-05-02T16:12:10Z", "2023-05-02T16:24:21Z")
    assert parsed.messages[3] == Message(
        source_table="ZWACDCALLEVENT", source_row_id=4, conversation_id=OTHER, sender=Participant(OTHER, "This Is DFIR Two"),
        direction="incoming", sent=1683044661638928400, sent_raw="704737461.6389284", kind="call", account_id=OWNER,
        details={"duration_seconds": "103.99500274658203", "outcome": "0 (ended)", "bytes_sent": "27642951",
                 "bytes_received": "4430316", "aggregate_event": "4", "creator": OTHER, "aggregate_incoming": "1",
                 "aggregate_video": "1", "aggregate_missed": "0", "aggregate_missedreason": "1"},
    )
    assert [m.direction for m in parsed.messages] == ["outgoing", "incoming", "outgoing", "incoming"]
    assert parsed.messages[0].sender == Participant(OWNER)
    assert parsed.messages[0].recipients == (Participant(OTHER, "This Is DFIR Two"),)


def test_josh_matches_ileapp_row_for_row() -> None:
    expected = json.loads(corpus_file(EXPECTED).read_text(encoding="utf-8"))
    rows = [dict(zip(expected["headers"], row, strict=True)) for row in expected["data"]]
    messages = _josh().messages
    assert len(rows) == len(messages) == 4
    for want, got in zip(rows, messages, strict=True):
        duration = Decimal(got.details["duration_seconds"])
        start = Decimal(got.sent_raw) + 978307200
        assert want["Starting Timestamp"] == got.sent // 10**9 == int(start)
        assert want["Ending Timestamp"] == int(start + duration)
        seconds = int(duration)
        assert want["Duration H:M:S"] == f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        assert want["Direction"].lower() == got.direction
        assert (want["Disconnected cause"], got.details["outcome"]) == ("Ended", "0 (ended)")
        other = got.sender if got.direction == "incoming" else got.recipients[0]
        assert other == Participant(want["Contact ID"], want["Contact Fullname"])


OLD_SCHEMA = """
CREATE TABLE ZWAAGGREGATECALLEVENT (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZINCOMING INTEGER, ZMISSED INTEGER,
  ZMISSEDREASON INTEGER, ZVIDEO INTEGER, ZFIRSTDATE TIMESTAMP);
CREATE TABLE ZWACDCALLEVENT (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZBYTESRECEIVED INTEGER, ZBYTESSENT INTEGER,
  ZOUTCOME INTEGER, Z1CALLEVENTS INTEGER, Z_FOK_1CALLEVENTS INTEGER, ZDATE TIMESTAMP, ZDURATION FLOAT, ZGROUPJIDSTRING VARCHAR);
CREATE TABLE ZWACDCALLEVENTPARTICIPANT (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER, ZOUTCOME INTEGER,
  Z1PARTICIPANTS INTEGER, Z_FOK_1PARTICIPANTS INTEGER, ZJIDSTRING VARCHAR);
"""


def test_old_schema_without_creator_uses_aggregate_incoming(tmp_path: Path) -> None:
    db = build_database(tmp_path / "CallHistory.sqlite", OLD_SCHEMA, {
        "ZWAAGGREGATECALLEVENT": [(1, 1, 1, 1, 1, 1, 0, 600000000.5), (2, 1, 1, 0, 0, 0, 1, 600000100.0)],
        "ZWACDCALLEVENT": [(1, 2, 1, 0, 0, 1, 1, 2048, 600000000.5, 0.0, None),
                           (2, 2, 1, 10, 20, 0, 2, 2048, 600000100.0, 12.5, "1203@g.us")],
        "ZWACDCALLEVENTPARTICIPANT": [(1, 3, 1, 1, 1, 2048, "155501@s.whatsapp.net"),
                                      (2, 3, 1, 0, 2, 2048, "155502@s.whatsapp.net"),
                                      (3, 3, 1, 0, 2, 2048, "155503@s.whatsapp.net")],
    })
    parsed = parse_files(db, logical={db: GROUP + b"CallHistory.sqlite"})
    assert_no_warnings(parsed)
    missed, group = parsed.messages
    assert missed == Message(
        source_table="ZWACDCALLEVENT", source_row_id=1, conversation_id="155501@s.whatsapp.net",
        sender=Participant("155501@s.whatsapp.net"), direction="incoming", sent=(600000000 + 978307200) * 10**9 + 500_000_000,
        sent_raw="600000000.5", kind="call",
        details={"duration_seconds": "0.0", "outcome": "1 (missed)", "bytes_sent": "0", "bytes_received": "0",
                 "aggregate_event": "1", "aggregate_incoming": "1", "aggregate_video": "0", "aggregate_missed": "1",
                 "aggregate_missedreason": "1"},
    )
    assert (group.direction, group.conversation_id, group.sender, group.account_id) == ("outgoing", "1203@g.us", None, None)
    assert group.recipients == (Participant("155502@s.whatsapp.net"), Participant("155503@s.whatsapp.net"))


def test_unknown_schema_at_call_history_path_warns_once(tmp_path: Path) -> None:
    db = build_database(tmp_path / "CallHistory.sqlite", "CREATE TABLE ZCALLRECORD (Z_PK INTEGER PRIMARY KEY, ZDATE TIMESTAMP);")
    parsed = parse_files(db, logical={db: GROUP + b"CallHistory.sqlite"})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


MINIMAL = """
CREATE TABLE ZWACDCALLEVENT (Z_PK INTEGER PRIMARY KEY, ZDATE TIMESTAMP);
CREATE TABLE ZWACDCALLEVENTPARTICIPANT (Z_PK INTEGER PRIMARY KEY, Z1PARTICIPANTS INTEGER, ZJIDSTRING VARCHAR);
"""


def test_minimal_schema_reads_every_call(tmp_path: Path) -> None:
    db = build_database(tmp_path / "CallHistory.sqlite", MINIMAL, {
        "ZWACDCALLEVENT": [(1, 600000000.0), (2, None)], "ZWACDCALLEVENTPARTICIPANT": [(1, 1, "155501@s.whatsapp.net")]})
    parsed = parse_files(db, logical={db: GROUP + b"CallHistory.sqlite"})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 2
    assert parsed.messages[0] == Message(
        source_table="ZWACDCALLEVENT", source_row_id=1, conversation_id="155501@s.whatsapp.net",
        recipients=(Participant("155501@s.whatsapp.net"),), direction="unknown", sent=(600000000 + 978307200) * 10**9,
        sent_raw="600000000", kind="call", details={},  # NUMERIC affinity keeps 600000000.0 as an integer
    )
    assert (parsed.messages[1].sent, parsed.messages[1].recipients) == (None, ())


def test_renumbered_link_columns_are_found_by_pattern(tmp_path: Path) -> None:
    schema = """
    CREATE TABLE ZWAAGGREGATECALLEVENT (Z_PK INTEGER PRIMARY KEY, ZINCOMING INTEGER, ZVIDEO INTEGER);
    CREATE TABLE ZWACDCALLEVENT (Z_PK INTEGER PRIMARY KEY, Z2CALLEVENTS INTEGER, ZDATE TIMESTAMP, ZDURATION FLOAT, ZOUTCOME INTEGER);
    CREATE TABLE ZWACDCALLEVENTPARTICIPANT (Z_PK INTEGER PRIMARY KEY, Z3PARTICIPANTS INTEGER, ZJIDSTRING VARCHAR);
    """
    db = build_database(tmp_path / "CallHistory.sqlite", schema, {
        "ZWAAGGREGATECALLEVENT": [(7, 0, 1)], "ZWACDCALLEVENT": [(1, 7, 600000000.0, 61.5, 0)],
        "ZWACDCALLEVENTPARTICIPANT": [(1, 1, "155501@s.whatsapp.net")]})
    parsed = parse_files(db, logical={db: GROUP + b"CallHistory.sqlite"})
    assert_no_warnings(parsed)
    (call,) = parsed.messages
    assert (call.direction, call.recipients, call.details) == ("outgoing", (Participant("155501@s.whatsapp.net"),), {
        "duration_seconds": "61.5", "outcome": "0 (ended)", "aggregate_event": "7", "aggregate_incoming": "0", "aggregate_video": "1"})


def test_participants_without_a_link_column_say_why(tmp_path: Path) -> None:
    schema = MINIMAL.replace("Z1PARTICIPANTS INTEGER", "Z1PARTICIPANTS INTEGER, Z4PARTICIPANTS INTEGER")
    db = build_database(tmp_path / "CallHistory.sqlite", schema, {
        "ZWACDCALLEVENT": [(1, 600000000.0)], "ZWACDCALLEVENTPARTICIPANT": [(1, 1, 1, "155501@s.whatsapp.net")]})
    parsed = parse_files(db, logical={db: GROUP + b"CallHistory.sqlite"})
    assert [(w.kind, w.table) for w in parsed.warnings] == [("participants_unlinked", "ZWACDCALLEVENTPARTICIPANT")]
    assert [(m.source_row_id, m.recipients) for m in parsed.messages] == [(1, ())]


def test_type_confused_values_cost_only_the_value(tmp_path: Path) -> None:
    db = build_database(tmp_path / "CallHistory.sqlite", MINIMAL, {
        "ZWACDCALLEVENT": [(1, "noon"), (2, 600000000.0)],
        "ZWACDCALLEVENTPARTICIPANT": [(1, "x", b"\xff"), (2, 2, b"155502@s.whatsapp.net"), (3, None, None)]})
    parsed = parse_files(db, logical={db: GROUP + b"CallHistory.sqlite"})
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_time", 1, "ZDATE")]
    assert [(m.sent is None, m.recipients) for m in parsed.messages] == [(True, ()), (False, (Participant("155502@s.whatsapp.net"),))]


def test_truncated_store_is_database_unreadable(tmp_path: Path) -> None:
    db = build_database(tmp_path / "CallHistory.sqlite", MINIMAL, {
        "ZWACDCALLEVENT": [(i, 600000000.0 + i) for i in range(300)],
        "ZWACDCALLEVENTPARTICIPANT": [(i, i, f"{i:0>200}@s.whatsapp.net") for i in range(300)]})
    assert_truncated_store_is_unreadable(db, GROUP + b"CallHistory.sqlite")
