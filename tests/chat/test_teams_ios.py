"""Microsoft Teams iOS: the iLEAPP test database, row for row against iLEAPP's expected teamsMessages output.

Facts (see parsers/chat/teams_ios.py; iLEAPP scripts/artifacts/teams.py): ZSMESSAGE.ZARRIVALTIME is Core
Data seconds; ZFROM the sender MRI; ZTS_ISSENTBYME 1 = sent by the owner; ZUSER.ZTSID/ZDISPLAYNAME names
users; ZDELETETIME is Unix ms text.
Field mapping to iLEAPP's JSON: "Timestamp" is ZARRIVALTIME as whole Unix seconds UTC (SQLite datetime()
drops the fraction, so we compare sent // 1e9); "Sender" = sender.id; "Message" = body; "Sent By Me" =
direction; "Display Name" is ZIMDISPLAYNAME, which is NULL on 15 rows: there our name comes from ZUSER
(the app's own user table), so names are compared only where iLEAPP has one.
"""

from __future__ import annotations

import json
from pathlib import Path

from manifests.records import Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, corpus_file, parse_files

CORPUS = ("abrignoni__iLEAPP/admin/test/cases/data/teams/testdata.teams.teamsMessages.josh_ios15_ffs.zip.extracted/filesystem2/"
          "mobile/Containers/Shared/AppGroup/E12BE95F-EA64-4826-8A15-DB2CF818F268/SkypeSpacesDogfood/"
          "148AB670-2197-4B7F-AD74-206D4AB2ED62/SkypeSpacesDogfood-9188040d-6c67-4c5b-b112-36a304b66dad.sqlite")
EXPECTED = "abrignoni__iLEAPP/admin/test/results/teams/teams.teamsMessages.josh_ios15_ffs.20241106012047.json"
LOGICAL = (b"/private/var/mobile/Containers/Shared/AppGroup/E12BE95F-EA64-4826-8A15-DB2CF818F268/SkypeSpacesDogfood/"
           b"148AB670-2197-4B7F-AD74-206D4AB2ED62/SkypeSpacesDogfood-9188040d-6c67-4c5b-b112-36a304b66dad.sqlite")
OWNER = "8:live:.cid.832804f1252ed9b2"


def test_ileapp_teams_database_counts_and_golden_record() -> None:
    path = corpus_file(CORPUS)
    parsed = parse_files(path, logical={path: LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"teams_ios"}
    assert len(parsed.messages) == 81  # CHATS.tsv: ZSMESSAGE 81; iLEAPP: 81 rows
    assert parsed.time_range() == ("2021-11-24T19:44:28Z", "2023-05-17T13:30:23Z")
    assert parsed.messages[4] == Message(
        source_table="ZSMESSAGE", source_row_id=5,
        conversation_id="19:uni01_vfk7ic77xguoerggt75tzdmq5zgcejy3hc7jcpkm5bpqnl4sza4a@thread.v2",
        sender=Participant("8:live:.cid.5638f9306b7b8594", "ThisIs DfirTwo"), direction="incoming",
        sent=1682689489392000000, sent_raw="704382289.392", body="You here yet?", kind="text", account_id=OWNER,
        details={"message_type": "Text", "compose_time": "2023-04-28T13:44:49.3920000Z", "is_sent_by_me": "0", "thread_type": "chat"},
    )
    assert parsed.messages[0].conversation_title == "DFIR family"
    assert parsed.messages[0].kind == "system"
    deleted = [m for m in parsed.messages if m.is_deleted]
    assert len(deleted) == 3
    assert {m.details["delete_type"] for m in deleted} == {"pendingUserDeleted"}
    assert sorted(m.deleted for m in deleted) == [1641648196802000000, 1670361137492000000, 1682693295843000000]


def test_matches_ileapp_row_for_row() -> None:
    path = corpus_file(CORPUS)
    parsed = parse_files(path, logical={path: LOGICAL})
    rows = json.loads(corpus_file(EXPECTED).read_text(encoding="utf-8"))
    headers = rows["headers"]
    index = {name: headers.index(name) for name in ("Timestamp", "Display Name", "Message", "Sender", "Sent By Me")}
    expected = sorted((r[index["Timestamp"]], r[index["Sender"]], r[index["Message"]], r[index["Sent By Me"]], r[index["Display Name"]])
                      for r in rows["data"])
    ours = sorted((m.sent // 10**9, m.sender.id if m.sender else "", m.body or "", 1 if m.direction == "outgoing" else 0,
                   (m.sender.name or "") if m.sender else "") for m in parsed.messages)
    assert len(expected) == len(ours) == 81
    for theirs, mine in zip(expected, ours, strict=True):
        assert theirs[:4] == mine[:4]
        assert theirs[4] in ("", mine[4])  # iLEAPP shows ZIMDISPLAYNAME; empty on thread events and some rows
    assert sum(1 for row in expected if row[4] == "") == 15


def test_teams_with_unknown_schema_is_reported(tmp_path: Path) -> None:
    folder = tmp_path / "x"
    folder.mkdir()
    db = build_database(folder / "SkypeSpacesDogfood-1.sqlite", "CREATE TABLE ZSMESSAGE (Z_PK INTEGER PRIMARY KEY, ZCONTENT VARCHAR);")
    parsed = parse_files(db, logical={db: b"/private/var/mobile/Containers/Shared/AppGroup/A/SkypeSpacesDogfood/B/SkypeSpacesDogfood-1.sqlite"})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


def test_zsmessage_alone_with_only_the_minimum_columns(tmp_path: Path) -> None:
    # A build without ZTHREAD/ZUSER and without the optional message columns: messages still come out.
    db = build_database(tmp_path / "SkypeSpacesDogfood-x.sqlite", """CREATE TABLE ZSMESSAGE (Z_PK INTEGER PRIMARY KEY,
        ZARRIVALTIME TIMESTAMP, ZFROM VARCHAR, ZTS_ISSENTBYME INTEGER, ZTHREADID VARCHAR, ZCONTENT VARCHAR);""", {"ZSMESSAGE": [
        (1, 700000000.5, "8:live:.cid.aa", 0, "19:thread", "hello"), (2, 700000060.0, OWNER, 1, "19:thread", "<p>hi</p>")]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 2
    assert parsed.messages[0] == Message(
        source_table="ZSMESSAGE", source_row_id=1, conversation_id="19:thread", sender=Participant("8:live:.cid.aa", None),
        direction="incoming", sent=(700000000 + 978307200) * 10**9 + 500_000_000, sent_raw="700000000.5", body="hello",
        kind="unknown", account_id=OWNER, details={"message_type": "", "is_sent_by_me": "0"},
    )
    assert (parsed.messages[1].direction, parsed.messages[1].sender.id) == ("outgoing", OWNER)
