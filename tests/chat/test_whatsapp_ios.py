"""WhatsApp iOS (ChatStorage.sqlite + ContactsV2.sqlite): iLEAPP row-for-row comparison, mvt sample.

Schema facts and their sources are in parsers/chat/whatsapp_ios.py (corpus DDL; iLEAPP whatsApp.py
and mvt whatsapp.py read for facts only). iLEAPP's expected output lists the same 32 rows in Z_PK
order; its field mapping to ours:
- "Timestamp" = ZMESSAGEDATE + 978307200 truncated to whole seconds = our `sent` // 1e9 (UTC).
- "Sender Name"/"From ID": "Local User"/None for the owner's messages (ours: direction outgoing,
  sender = the owner's jid found from ZTOJID, no name); for group events and system notices iLEAPP
  names the chat (ours: sender None, kind system, so compared with conversation_title/_id).
- "Receiver"/"To ID" of outgoing rows = our single recipient.
- "Attachment File" is iLEAPP's media-manager name "mock_hash_for_<file name>"; ours is the file name.
- Latitude/Longitude: "" when absent, ours None.
"""

from __future__ import annotations

import json
from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, corpus_file, parse_files

CASE = ("abrignoni__iLEAPP/admin/test/cases/data/whatsApp/testdata.whatsApp.whatsAppMessages.josh_ios15_ffs.zip.extracted/"
        "filesystem2/mobile/Containers/Shared/AppGroup/694FBBC5-2E69-480A-A25B-FF8CC038BEF8/ChatStorage.sqlite")
CONTACTS = ("abrignoni__iLEAPP/admin/test/cases/data/whatsApp/testdata.whatsApp.whatsAppCallHistory.josh_ios15_ffs.zip.extracted/"
            "filesystem2/mobile/Containers/Shared/AppGroup/694FBBC5-2E69-480A-A25B-FF8CC038BEF8/ContactsV2.sqlite")
EXPECTED = "abrignoni__iLEAPP/admin/test/results/whatsApp/whatsApp.whatsAppMessages.josh_ios15_ffs.20250621193412.json"
GROUP = b"/private/var/mobile/Containers/Shared/AppGroup/694FBBC5-2E69-480A-A25B-FF8CC038BEF8/"
OWNER = "19195794674@s.whatsapp.net"
MVT = "mvt-project__mvt/tests/artifacts/ios_backup/7c/7c7fba66680ef796b916b067077cc246adacf01d"


def _josh():
    db, contacts = corpus_file(CASE), corpus_file(CONTACTS)
    return parse_files(db, contacts, logical={db: GROUP + b"ChatStorage.sqlite", contacts: GROUP + b"ContactsV2.sqlite"})


def test_josh_counts_range_and_golden_record() -> None:
    parsed = _josh()
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 32
    assert parsed.parser_names() == {"whatsapp_ios"}
    assert parsed.time_range() == ("2022-03-26T17:44:06Z", "2023-05-17T14:36:40Z")
    by_row = {m.source_row_id: m for m in parsed.messages}
    assert by_row[23] == Message(
        source_table="ZWAMESSAGE", source_row_id=23, conversation_id="19198887386@s.whatsapp.net",
        conversation_title="This Is DFIR Two", sender=Participant("19198887386@s.whatsapp.net", "This Is DFIR Two"),
        direction="incoming", sent=1683043754000000000, sent_raw="704736554", kind="media",
        attachments=(Attachment(file_name="074dc9c5-d1e2-418b-8bcc-8c4ed1f67f7e.jpg", size=55290,
                                local_path="Media/19198887386@s.whatsapp.net/0/7/074dc9c5-d1e2-418b-8bcc-8c4ed1f67f7e.jpg"),),
        account_id=OWNER,
        details={"ZMESSAGETYPE": "1", "ZMESSAGESTATUS": "8", "ZGROUPEVENTTYPE": "2", "ZSTANZAID": "3AC10519F2AFF5B61D26",
                 "ZSENTDATE": "704736605.546525"},
    )
    assert sum(m.kind == "system" for m in parsed.messages) == 11


def test_josh_matches_ileapp_row_for_row() -> None:
    expected = json.loads(corpus_file(EXPECTED).read_text(encoding="utf-8"))
    columns = expected["headers"]
    rows = [dict(zip(columns, row, strict=True)) for row in expected["data"]]
    messages = _josh().messages
    assert len(rows) == len(messages) == 32
    for want, got in zip(rows, messages, strict=True):
        assert want["Timestamp"] == got.sent // 10**9
        assert want["Message"] == got.body
        if want["Sender Name"] == "Local User":
            assert (got.direction, got.sender, want["From ID"]) == ("outgoing", Participant(OWNER), None)
            assert got.recipients == (Participant(want["To ID"], want["Receiver"]),)
        elif got.kind == "system":
            assert (want["From ID"], want["Sender Name"]) == (got.conversation_id, got.conversation_title)
        else:
            assert got.sender == Participant(want["From ID"], want["Sender Name"])
        names = [a.file_name for a in got.attachments]
        assert want["Attachment File"] in ("", *("mock_hash_for_" + n for n in names))
        assert (want["Latitude"] or None, want["Longitude"] or None) == (got.latitude, got.longitude)


def test_mvt_backup_file_found_by_schema() -> None:
    path = corpus_file(MVT)
    parsed = parse_files(path)  # an iTunes backup names files by hash: recognised by schema alone
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 3
    assert parsed.time_range() == ("2025-08-27T15:06:40Z", "2025-08-29T22:40:00Z")
    assert parsed.messages[1] == Message(
        source_table="ZWAMESSAGE", source_row_id=2, conversation_id="100000000000001@lid", conversation_title="Alice Example",
        recipients=(Participant("14155550100@s.whatsapp.net"),), direction="outgoing", sent=1756407200 * 10**9,
        sent_raw="778100000.0", body="Check https://example.org/news", details={"ZMESSAGETYPE": "0"},
    )


DDL = """
CREATE TABLE ZWACHATSESSION (Z_PK INTEGER PRIMARY KEY, ZCONTACTJID VARCHAR, ZPARTNERNAME VARCHAR, ZSESSIONTYPE INTEGER);
CREATE TABLE ZWAGROUPMEMBER (Z_PK INTEGER PRIMARY KEY, ZCHATSESSION INTEGER, ZMEMBERJID VARCHAR, ZCONTACTNAME VARCHAR, ZFIRSTNAME VARCHAR);
CREATE TABLE ZWAMEDIAITEM (Z_PK INTEGER PRIMARY KEY, ZMESSAGE INTEGER, ZFILESIZE INTEGER, ZLATITUDE FLOAT, ZLONGITUDE FLOAT,
  ZMEDIALOCALPATH VARCHAR, ZTITLE VARCHAR, ZVCARDSTRING VARCHAR);
CREATE TABLE ZWAMESSAGE (Z_PK INTEGER PRIMARY KEY, ZCHATSESSION INTEGER, ZGROUPMEMBER INTEGER, ZISFROMME INTEGER,
  ZMESSAGETYPE INTEGER, ZMESSAGEDATE TIMESTAMP, ZFROMJID VARCHAR, ZTOJID VARCHAR, ZTEXT VARCHAR);
"""


def test_group_member_caption_vcard_and_bad_time(tmp_path: Path) -> None:
    db = build_database(tmp_path / "ChatStorage.sqlite", DDL, {
        "ZWACHATSESSION": [(1, "120363000000000009@g.us", "Band", 1)],
        "ZWAGROUPMEMBER": [(1, 1, "4915100000002@s.whatsapp.net", None, "Ben")],
        "ZWAMEDIAITEM": [(1, 1, 900, 640.0, 480.0, "Media/120363000000000009@g.us/a/b/x.mp4", "gig", None),
                         (2, 2, 0, 0.0, 0.0, None, None, "BEGIN:VCARD\nFN:Cleo\nEND:VCARD")],
        "ZWAMESSAGE": [(1, 1, 1, 0, 2, 700000000.5, "120363000000000009@g.us", None, None),
                       (2, 1, 1, 0, 4, 700000001, "120363000000000009@g.us", None, None),
                       (3, 1, 1, 0, 0, 9e15, "120363000000000009@g.us", None, "when?")],
    })
    parsed = parse_files(db, logical={db: GROUP + b"ChatStorage.sqlite"})
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_time", 3, "ZMESSAGEDATE")]
    video, card, late = parsed.messages
    assert video == Message(
        source_table="ZWAMESSAGE", source_row_id=1, conversation_id="120363000000000009@g.us", conversation_title="Band",
        sender=Participant("4915100000002@s.whatsapp.net", "Ben"), direction="incoming", sent=1678307200500000000,
        sent_raw="700000000.5", body="gig", kind="media",
        attachments=(Attachment(file_name="x.mp4", size=900, local_path="Media/120363000000000009@g.us/a/b/x.mp4"),),
        details={"ZMESSAGETYPE": "2", "body_from": "ZWAMEDIAITEM.ZTITLE"},
    )
    assert (video.latitude, video.longitude) == (None, None)  # width/height of the video, not a place
    assert (card.kind, card.body, card.attachments) == ("contact", "BEGIN:VCARD\nFN:Cleo\nEND:VCARD", ())
    assert (late.sent, late.body) == (None, "when?")


def test_unknown_schema_at_whatsapp_path(tmp_path: Path) -> None:
    db = build_database(tmp_path / "ChatStorage.sqlite", "CREATE TABLE ZWAMESSAGE (Z_PK INTEGER PRIMARY KEY, ZBODY VARCHAR);")
    parsed = parse_files(db, logical={db: GROUP + b"ChatStorage.sqlite"})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]
