"""WhatsApp iOS ChatStorage.sqlite: broadcast and status sessions, and stores with only the minimum columns.

Facts: ZWACHATSESSION.ZSESSIONTYPE is 0 private, 1 group, 2 broadcast, 3 status (bakerst221b.com
WhatsApp notes, 2023, https://bakerst221b.com/docs/artefacts/applications/communication/whatsapp/);
WhatsApp Desktop for macOS keeps the same Core Data ChatStorage.sqlite
(https://kb-macfor-io.pages.dev/docs/communication/whatsapp/chat-database). Not confirmed: the jid form
of a broadcast list and which column names a status poster; the fixtures put the poster in ZFROMJID,
as for a one-to-one incoming message, and the parser reads whatever ZGROUPMEMBER/ZFROMJID hold.
"""

from __future__ import annotations

from pathlib import Path

from manifests.records import Message, Participant
from tests.chat.helpers import build_database, parse_files
from tests.chat.test_whatsapp_ios import DDL

LOGICAL = b"/private/var/mobile/Containers/Shared/AppGroup/X/ChatStorage.sqlite"
OWNER = "4915100000009@s.whatsapp.net"
ANA = "4915100000001@s.whatsapp.net"


def test_broadcast_and_status_sessions_have_no_single_recipient(tmp_path: Path) -> None:
    db = build_database(tmp_path / "ChatStorage.sqlite", DDL, {
        "ZWACHATSESSION": [(1, ANA, "Ana", 0), (2, "1700000000@broadcast", "Customers", 2), (3, "status@broadcast", None, 3)],
        "ZWAMESSAGE": [(1, 1, None, 0, 0, 700000000, ANA, OWNER, "hi"),
                       (2, 2, None, 1, 0, 700000100, None, "1700000000@broadcast", "offer to all"),
                       (3, 3, None, 0, 0, 700000200, ANA, OWNER, "my status"),
                       (4, 3, None, 1, 0, 700000300, None, "status@broadcast", "owner status")]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.warnings == []
    assert len(parsed.messages) == 4
    assert parsed.messages[1] == Message(
        source_table="ZWAMESSAGE", source_row_id=2, conversation_id="1700000000@broadcast", conversation_title="Customers",
        sender=Participant(OWNER), direction="outgoing", sent=(700000100 + 978307200) * 10**9, sent_raw="700000100",
        body="offer to all", kind="text", account_id=OWNER, details={"ZMESSAGETYPE": "0", "session_type": "broadcast"})
    private, _, status_in, status_out = parsed.messages
    assert (private.recipients, private.details) == ((), {"ZMESSAGETYPE": "0"})
    assert (status_in.sender, status_in.direction, status_in.details["session_type"]) == (Participant(ANA, "Ana"), "incoming", "status")
    assert (status_out.recipients, status_out.direction) == ((), "outgoing")


def test_message_table_with_only_the_minimum_columns(tmp_path: Path) -> None:
    """No ZMESSAGETYPE, ZFROMJID, ZTOJID and no session table: every message is still read."""
    db = build_database(tmp_path / "ChatStorage.sqlite", """
        CREATE TABLE ZWAMESSAGE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, ZCHATSESSION INTEGER, ZISFROMME INTEGER,
          ZMESSAGEDATE TIMESTAMP, ZTEXT VARCHAR);
    """, {"ZWAMESSAGE": [(1, 9, 4, 0, 700000000, "bare in"), (2, 9, 4, 1, 700000100, "bare out")]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.warnings == []
    assert parsed.messages == [
        Message(source_table="ZWAMESSAGE", source_row_id=1, direction="incoming", sent=(700000000 + 978307200) * 10**9,
                sent_raw="700000000", body="bare in", kind="text"),
        Message(source_table="ZWAMESSAGE", source_row_id=2, direction="outgoing", sent=(700000100 + 978307200) * 10**9,
                sent_raw="700000100", body="bare out", kind="text")]


def test_hostile_session_and_time_values(tmp_path: Path) -> None:
    """A text session type, a dangling session link and a text date end as data, never a traceback."""
    db = build_database(tmp_path / "ChatStorage.sqlite", DDL, {
        "ZWACHATSESSION": [(1, ANA, "Ana", "status?")],
        "ZWAMESSAGE": [(1, 1, None, 0, 0, "noon", ANA, OWNER, "text date"), (2, 77, None, 0, 0, 700000000, ANA, OWNER, "no session"),
                       (3, 1, None, 1, 99, 700000000, None, ANA, "unknown type")]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_time", 1, "ZMESSAGEDATE")]
    assert [(m.source_row_id, m.conversation_id, m.kind, m.recipients) for m in parsed.messages] == [
        (1, ANA, "text", ()), (2, None, "text", ()), (3, ANA, "unknown", (Participant(ANA, "Ana"),))]


def test_group_member_table_without_name_columns(tmp_path: Path) -> None:
    """ZWAGROUPMEMBER with only Z_PK and ZMEMBERJID still names the group sender by jid."""
    ddl = DDL.replace("ZMEMBERJID VARCHAR, ZCONTACTNAME VARCHAR, ZFIRSTNAME VARCHAR", "ZMEMBERJID VARCHAR")
    assert "ZFIRSTNAME" not in ddl
    db = build_database(tmp_path / "ChatStorage.sqlite", ddl, {
        "ZWACHATSESSION": [(1, "120363000000000009@g.us", "Band", 1)], "ZWAGROUPMEMBER": [(1, 1, ANA)],
        "ZWAMESSAGE": [(1, 1, 1, 0, 0, 700000000, "120363000000000009@g.us", None, "gig tonight")]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.warnings == []
    assert parsed.messages == [Message(
        source_table="ZWAMESSAGE", source_row_id=1, conversation_id="120363000000000009@g.us", conversation_title="Band",
        sender=Participant(ANA), direction="incoming", sent=(700000000 + 978307200) * 10**9, sent_raw="700000000",
        body="gig tonight", kind="text", details={"ZMESSAGETYPE": "0"})]
