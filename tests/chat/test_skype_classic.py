"""Skype classic main.db: two corpus databases (plaso, IPED), golden records, call/transfer rows, schema miss.

Facts used (see parsers/chat/skype_classic.py): Messages.timestamp is Unix seconds, `type` says what a
row is (61 text, 64 SMS, 201 cloud media ...), Accounts.skypename is the owner, Transfers.chatmsg_guid
names the Messages.guid of the chat row announcing the file (IPED SkypeSqlite / SkypeMessage.java, plaso skype.py).
"""

from __future__ import annotations

from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, corpus_file, parse_files
from tests.chat.hostile import assert_truncated_store_is_unreadable

PLASO = "log2timeline__plaso/test_data/sqlite/skype_main.db"
IPED = "sepinf-inc__IPED/iped-parsers/iped-parsers-impl/src/test/resources/test-files/test_skypeMain.db"
LOGICAL = b"/Users/gberinger/Library/Application Support/Skype/gen.beringer/main.db"


def _messages_table(message: Message) -> int | None:
    return message.sent if message.source_table == "Messages" else None


def test_plaso_main_db_counts_bad_time_and_golden_record() -> None:
    path = corpus_file(PLASO)
    parsed = parse_files(path, logical={path: LOGICAL})
    assert parsed.parser_names() == {"skype_classic"}
    # CHATS.tsv: Messages 15, calls 1, transfers 2. The call-log row and the two transfers that no chat
    # row announces (their chatmsg_guid is NULL) are emitted too, as kind call / media: 15 + 1 + 2 = 18.
    tables = [m.source_table for m in parsed.messages]
    assert (tables.count("Messages"), tables.count("Calls"), tables.count("Transfers"), len(tables)) == (15, 1, 2, 18)
    # One SMS row holds 13727168620 (year 2404): a bad_time warning, the raw value kept.
    assert [(w.kind, w.table, w.row_id, w.field) for w in parsed.warnings] == [("bad_time", "Messages", 61, "timestamp")]
    sms = next(m for m in parsed.messages if m.source_row_id == 61)
    assert (sms.sent, sms.sent_raw, sms.kind, sms.recipients) == (None, "13727168620", "text", (Participant("+34123456789"),))
    assert parsed.time_range(key=_messages_table) == ("2013-07-30T21:26:28Z", "2013-10-27T15:29:19Z")
    owner = Participant("gen.beringer", "Gen Beringer")
    assert parsed.messages[4] == Message(
        source_table="Messages", source_row_id=52, conversation_id="european.bbq.competitor",
        conversation_title="European Competitor", sender=Participant("european.bbq.competitor", "European Competitor"),
        recipients=(owner,), direction="incoming", sent=1375219676 * 10**9, sent_raw="1375219676",
        body="I&apos;m here", kind="text", account_id="gen.beringer",
        details={"type": "61 (text)", "chatmsg_type": "3", "from_dispname": "European Competitor",
                 "dialog_partner": "european.bbq.competitor"},
    )
    call = next(m for m in parsed.messages if m.source_table == "Calls")
    assert (call.source_row_id, call.kind, call.direction, call.sender, call.sent) == (110, "call", "outgoing", owner, 1372716737 * 10**9)
    # The callee and the talk time come from CallMembers (Calls.duration is NULL in this row).
    assert (call.recipients, call.details["call_duration"]) == ((Participant("european.bbq.competitor", "European Competitor"),), "646")
    transfer = next(m for m in parsed.messages if m.source_row_id == 1094)
    assert (transfer.kind, transfer.recipients, transfer.attachments) == (
        "media", (Participant("european.bbq.competitor", "European Competitor"),),
        (Attachment(file_name="secret-project.pdf", size=69986, local_path="/Users/gberinger/Desktop/secret-project.pdf"),))


def test_iped_main_db_transfers_attach_to_their_messages() -> None:
    path = corpus_file(IPED)
    parsed = parse_files(path)
    assert_no_warnings(parsed)
    # CHATS.tsv: Messages 9, calls 0, transfers 2; both transfers are announced by Messages rows 2 and 5.
    assert len(parsed.messages) == 9
    assert {m.source_table for m in parsed.messages} == {"Messages"}
    assert parsed.time_range() == ("2021-05-28T17:33:39Z", "2021-05-28T18:49:22Z")
    media = parsed.messages[4]
    assert media == Message(
        source_table="Messages", source_row_id=5, conversation_id="live:.cid.893f2f4e6e65933c",
        conversation_title="Guilherme Andreúce Monteiro",
        sender=Participant("live:.cid.893f2f4e6e65933c", "Guilherme Andreúce Monteiro"),
        recipients=(Participant("streeguil1", "Guilherme Andreúce"),), direction="incoming",
        sent=1622224648 * 10**9, sent_raw="1622224648", body=media.body, kind="media",
        attachments=(Attachment(file_name="32116927_477863452651162_4835592743856111616_n.jpg", size=149384),),
        account_id="streeguil1",
        details={"type": "201 (cloud media)", "chatmsg_type": "7", "from_dispname": "Guilherme Andreúce Monteiro",
                 "dialog_partner": "live:.cid.893f2f4e6e65933c"},
    )
    assert media.body.startswith('<URIObject uri="https://api.asm.skype.com/v1/objects/0-eus-d20-b74bebb901cfa570a')
    removed = parsed.messages[3]
    assert (removed.body, removed.is_edited, removed.is_deleted, removed.edited) == ("", True, True, 1622225204 * 10**9)
    group = parsed.messages[8]
    assert (group.conversation_id, group.conversation_title, group.direction, group.recipients) == (
        "19:bc94e0f43b30493d924cbc14864ad892@thread.skype", "streeguil1, rafabressan", "outgoing", ())


def test_main_db_with_unknown_schema_is_reported(tmp_path: Path) -> None:
    db = build_database(tmp_path / "main.db", "CREATE TABLE Messages (id INTEGER PRIMARY KEY, body TEXT);", {"Messages": [(1, "x")]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


# Columns the 2009 Skype 4.0 write-up names (kosi2801): Messages(author, timestamp, body_xml, dialog_partner,
# chatname, chatmsg_type), Chats(name, participants, posters, activemembers, last_change, type: 4 group).
# Chats.friendlyname and type 2 (dialog) as in the corpus stores. No Conversations, convo_id, guid, type,
# identities or edited_*: whether a real 4.x store looked exactly so is not confirmed; this is the store
# with only the columns a message needs, plus those the old queries name.
CHATNAME_DDL = """
CREATE TABLE Messages (id INTEGER PRIMARY KEY, chatname TEXT, author TEXT, from_dispname TEXT, dialog_partner TEXT,
  timestamp INTEGER, chatmsg_type INTEGER, body_xml TEXT);
CREATE TABLE Chats (id INTEGER PRIMARY KEY, name TEXT, type INTEGER, friendlyname TEXT, participants TEXT, posters TEXT,
  activemembers TEXT, last_change INTEGER, dialog_partner TEXT);
CREATE TABLE Contacts (id INTEGER PRIMARY KEY, skypename TEXT, fullname TEXT, displayname TEXT);
CREATE TABLE Accounts (id INTEGER PRIMARY KEY, skypename TEXT, fullname TEXT);
"""
DIALOG = "#alice/$bob;0123456789abcdef"
GROUPCHAT = "#alice/$carol;fedcba9876543210"
CHATNAME_ROWS = {
    "Messages": [
        (1, DIALOG, "bob", "Bob B", "bob", 1262304000, 3, "hi Alice"),
        (2, DIALOG, "alice", "Alice A", None, 1262304060, 3, "hi &lt;Bob&gt;"),
        (3, GROUPCHAT, "carol", "Carol C", None, 1262304120, 3, "group hello"),
        (4, GROUPCHAT, "alice", "Alice A", None, 1262304180, 5, "New topic"),
        (5, DIALOG, "bob", "Bob B", "bob", 1262304240, 18, None),
    ],
    "Chats": [(1, DIALOG, 2, "Bob B", "alice bob", "alice bob", "alice bob", 1262304060, "bob"),
              (2, GROUPCHAT, 4, "Planning", "alice bob carol", "alice carol", "alice bob carol", 1262304180, None)],
    "Contacts": [(1, "bob", "Bob Builder", None), (2, "carol", None, "Carol")],
    "Accounts": [(1, "alice", "Alice Owner")],
}
ALICE = Participant("alice", "Alice Owner")


def test_chatname_store_without_conversations(tmp_path: Path) -> None:
    db = build_database(tmp_path / "main.db", CHATNAME_DDL, CHATNAME_ROWS)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"skype_classic"}
    assert len(parsed.messages) == 5
    assert [(m.direction, m.kind, m.conversation_title) for m in parsed.messages] == [
        ("incoming", "text", "Bob B"), ("outgoing", "text", "Bob B"), ("incoming", "text", "Planning"),
        ("outgoing", "system", "Planning"), ("incoming", "unknown", "Bob B")]
    assert parsed.messages[0] == Message(
        source_table="Messages", source_row_id=1, conversation_id=DIALOG, conversation_title="Bob B",
        sender=Participant("bob", "Bob Builder"), recipients=(ALICE,), direction="incoming",
        sent=1262304000 * 10**9, sent_raw="1262304000", body="hi Alice", kind="text", account_id="alice",
        details={"chatmsg_type": "3", "from_dispname": "Bob B", "dialog_partner": "bob"},
    )
    # Row 2 names no dialog_partner: the partner comes from its Chats row (type 2, a dialog).
    assert parsed.messages[1].recipients == (Participant("bob", "Bob Builder"),)
    assert (parsed.messages[2].sender, parsed.messages[2].recipients) == (Participant("carol", "Carol"), ())


def test_minimum_main_db_columns(tmp_path: Path) -> None:
    ddl = """
CREATE TABLE Messages (id INTEGER PRIMARY KEY, convo_id INTEGER, author TEXT, timestamp INTEGER, body_xml TEXT);
CREATE TABLE Conversations (id INTEGER PRIMARY KEY, identity TEXT, type INTEGER);
"""
    db = build_database(tmp_path / "main.db", ddl, {"Messages": [(7, 1, "bob", 1262304000, "x"), (8, 9, "alice", 1262304001, "y")],
                                                     "Conversations": [(1, "bob", 1)]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    # No Accounts table: the owner, and so the direction, is unknown; a convo_id without a row is kept as text.
    assert parsed.messages == [
        Message(source_table="Messages", source_row_id=7, conversation_id="bob", sender=Participant("bob"),
                sent=1262304000 * 10**9, sent_raw="1262304000", body="x", kind="unknown"),
        Message(source_table="Messages", source_row_id=8, conversation_id="9", sender=Participant("alice"),
                sent=1262304001 * 10**9, sent_raw="1262304001", body="y", kind="unknown"),
    ]


def test_wrong_types_cost_only_the_field(tmp_path: Path) -> None:
    rows = dict(CHATNAME_ROWS)
    rows["Messages"] = [(1, DIALOG, 42, None, None, "noon", "three", b"\xff\xfe"), (2, DIALOG, "bob", None, 7, 10**15, 3, b"ok")]
    db = build_database(tmp_path / "main.db", CHATNAME_DDL, rows)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert len(parsed.messages) == 2
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [
        ("bad_time", 1, "timestamp"), ("bad_time", 2, "timestamp")]
    odd, far = parsed.messages
    # A body that is not UTF-8 is kept as text with its exact bytes.
    assert (odd.sender, odd.sent_raw, odd.body, odd.body.raw, odd.kind) == (Participant("42"), "noon", "\\xff\\xfe", b"\xff\xfe", "unknown")
    assert (far.body, far.recipients) == ("ok", (ALICE,))


def test_truncated_main_db_is_a_warning(tmp_path: Path) -> None:
    rows = dict(CHATNAME_ROWS)
    rows["Messages"] = [(i, DIALOG, "bob", None, "bob", 1262304000 + i, 3, "w" * 3000) for i in range(1, 200)]
    db = build_database(tmp_path / "main.db", CHATNAME_DDL, rows)
    assert_truncated_store_is_unreadable(db, LOGICAL)
