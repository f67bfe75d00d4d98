"""WhatsApp Android msgstore.db eras beyond the corpus samples, from documented DDL.

Facts (see parsers/chat/whatsapp_android.py and docs/chat-schema-otherhist.md): the app's own
msgstore helper creates `messages` and, on opening an older store, adds by ALTER TABLE the columns
raw_data, media_hash, media_duration, origin, recipient_count, read/played_device_timestamp,
media_caption, participant_hash, starred, quoted_row_id, mentioned_jids, multicast_id, edit_version and
media_enc_hash, and to `chat_list` subject, creation and later columns. So the oldest store it upgrades
has only the other columns (BASE below). A store without key_id/status/media_* is not documented
anywhere (not confirmed); the minimum-column test shows it would still be read, not refused.
"""

from __future__ import annotations

from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import build_database, parse_files

MSGSTORE = b"/data/data/com.whatsapp/databases/msgstore.db"
ANA = "4915100000001@s.whatsapp.net"
GROUP = "4915100000001-1380000000@g.us"
BOB = "4915100000002@s.whatsapp.net"

BASE = """
CREATE TABLE messages (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT NOT NULL, key_from_me INTEGER,
  key_id TEXT NOT NULL, status INTEGER, needs_push INTEGER, data TEXT, timestamp INTEGER, media_url TEXT, media_mime_type TEXT,
  media_wa_type TEXT, media_size INTEGER, media_name TEXT, latitude REAL, longitude REAL, thumb_image TEXT, remote_resource TEXT,
  received_timestamp INTEGER, send_timestamp INTEGER, receipt_server_timestamp INTEGER, receipt_device_timestamp INTEGER);
CREATE TABLE chat_list (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT UNIQUE, message_table_id INTEGER);
"""
BASE_PLACEHOLDER = (1, "-1", 0, "-1", -1, 0, None, 0, None, None, "-1", -1, None, 0.0, 0.0, None, None, -1, -1, -1, -1)
BASE_ROWS = {
    "messages": [
        BASE_PLACEHOLDER,
        (2, ANA, 0, "K2", 0, 0, "hi from 2013", 1380000000000, None, None, "0", 0, None, 0.0, 0.0, None, None,
         1380000002000, -1, -1, -1),
        (3, ANA, 1, "K3", 5, 0, "reply", 1380000100000, None, None, "0", 0, None, 0.0, 0.0, None, None, -1, -1, 1380000101000, -1),
        (4, GROUP, 0, "K4", 0, 0, None, 1380000200000, "https://mms.example/x.jpg", "image/jpeg", "1", 20480, "IMG-1.jpg",
         0.0, 0.0, b"\xff\xd8\xff thumbnail picture", BOB, 1380000201000, -1, -1, -1),
        (5, ANA, 0, "K5", 0, 0, None, 1380000300000, None, None, "5", 0, "Harbour", 53.5, 9.9, None, None,
         1380000301000, -1, -1, -1),
    ],
    "chat_list": [(1, ANA, 5), (2, GROUP, 4)],
}


def test_oldest_documented_legacy_schema_golden_record(tmp_path: Path) -> None:
    db = build_database(tmp_path / "msgstore.db", BASE, BASE_ROWS)
    parsed = parse_files(db, logical={db: MSGSTORE})
    assert [(w.kind, w.table, w.row_id) for w in parsed.warnings] == [("placeholder_row", "messages", 1)]
    assert len(parsed.messages) == 4
    assert parsed.messages[2] == Message(
        source_table="messages", source_row_id=4, conversation_id=GROUP, sender=Participant(BOB), direction="incoming",
        sent=1380000200000 * 10**6, sent_raw="1380000200000", received=1380000201000 * 10**6, kind="media",
        attachments=(Attachment(file_name="IMG-1.jpg", mime_type="image/jpeg", size=20480),),
        details={"key_id": "K4", "status": "0", "media_wa_type": "1"})
    first, reply, _, place = parsed.messages
    assert (first.body, first.direction, first.sender, first.received) == ("hi from 2013", "incoming", Participant(ANA),
                                                                          1380000002000 * 10**6)
    assert (reply.direction, reply.recipients, reply.received) == ("outgoing", (Participant(ANA),), None)
    assert (place.kind, place.latitude, place.longitude, place.location_name) == ("location", 53.5, 9.9, "Harbour")


def test_legacy_minimum_columns_only(tmp_path: Path) -> None:
    """No key_id, status, media_* columns (no documented build; not confirmed): still every message, as text or media."""
    db = build_database(tmp_path / "msgstore.db", """
        CREATE TABLE messages (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT NOT NULL, key_from_me INTEGER,
          data TEXT, timestamp INTEGER);
    """, {"messages": [(1, ANA, 0, "bare in", 1300000000000), (2, ANA, 1, "bare out", 1300000100000), (3, ANA, 0, None, 1300000200000)]})
    parsed = parse_files(db, logical={db: MSGSTORE})
    assert parsed.warnings == []
    assert parsed.messages[0] == Message(
        source_table="messages", source_row_id=1, conversation_id=ANA, sender=Participant(ANA), direction="incoming",
        sent=1300000000000 * 10**6, sent_raw="1300000000000", body="bare in", kind="text")
    assert [(m.direction, m.body, m.kind) for m in parsed.messages[1:]] == [("outgoing", "bare out", "text"), ("incoming", None, "text")]


CURRENT_MINIMUM = """
CREATE TABLE jid (_id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL, server TEXT NOT NULL, raw_string TEXT);
CREATE TABLE chat (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid_row_id INTEGER UNIQUE);
CREATE TABLE message (_id INTEGER PRIMARY KEY AUTOINCREMENT, chat_row_id INTEGER NOT NULL, from_me INTEGER NOT NULL,
  timestamp INTEGER, text_data TEXT);
"""


def test_current_schema_minimum_columns_and_no_chat_subject(tmp_path: Path) -> None:
    db = build_database(tmp_path / "msgstore.db", CURRENT_MINIMUM, {
        "jid": [(1, "4915100000001", "s.whatsapp.net", ANA)], "chat": [(1, 1)],
        "message": [(1, -1, 0, None, None), (2, 1, 0, 1700000000000, "current in"), (3, 1, 1, 1700000100000, "current out")]})
    parsed = parse_files(db, logical={db: MSGSTORE})
    assert [(w.kind, w.table, w.row_id) for w in parsed.warnings] == [("placeholder_row", "message", 1)]
    assert parsed.messages == [
        Message(source_table="message", source_row_id=2, conversation_id=ANA, sender=Participant(ANA), direction="incoming",
                sent=1700000000000 * 10**6, sent_raw="1700000000000", body="current in", kind="text", details={"chat_row_id": "1"}),
        Message(source_table="message", source_row_id=3, conversation_id=ANA, recipients=(Participant(ANA),), direction="outgoing",
                sent=1700000100000 * 10**6, sent_raw="1700000100000", body="current out", kind="text", details={"chat_row_id": "1"})]


def test_current_schema_without_chat_or_jid_tables(tmp_path: Path) -> None:
    """The message table alone: messages stay, the chat is known only by its row id (details)."""
    db = build_database(tmp_path / "msgstore.db", CURRENT_MINIMUM.split("CREATE TABLE message")[0].replace(
        "CREATE TABLE jid", "CREATE TABLE unrelated_jid").replace("CREATE TABLE chat", "CREATE TABLE unrelated_chat")
        + "CREATE TABLE message (_id INTEGER PRIMARY KEY, chat_row_id INTEGER, from_me INTEGER, timestamp INTEGER, text_data TEXT);",
        {"message": [(2, 7, 0, 1700000000000, "orphan")]})
    parsed = parse_files(db, logical={db: MSGSTORE})
    assert parsed.warnings == []
    assert parsed.messages == [Message(source_table="message", source_row_id=2, direction="incoming", sent=1700000000000 * 10**6,
                                       sent_raw="1700000000000", body="orphan", kind="text", details={"chat_row_id": "7"})]


def test_hostile_legacy_values(tmp_path: Path) -> None:
    """A media type that is not a number is a bad_row; a text timestamp is a bad_time (INTEGER affinity keeps "1" a number)."""
    rows = [(2, ANA, 0, "K2", 0, 0, "ok", 1380000000000, None, None, "0", 0, None, 0.0, 0.0, None, None, 0, -1, -1, -1),
            (3, ANA, 0, "K3", 0, 0, "bad type", 1380000000000, None, None, "image", 0, None, 0.0, 0.0, None, None, 0, -1, -1, -1),
            (4, ANA, "1", "K4", 0, 0, "text flag", "yesterday", None, None, "0", 0, None, 0.0, 0.0, None, None, 0, -1, -1, -1),
            (5, ANA, 0, "K5", 0, 0, None, 1380000000000, None, None, "1", "big", None, 0.0, 0.0, b"\x00java.io.File", None, 0, -1, -1, -1)]
    db = build_database(tmp_path / "msgstore.db", BASE, {"messages": rows})
    parsed = parse_files(db, logical={db: MSGSTORE})
    assert [(w.kind, w.row_id) for w in parsed.warnings] == [("bad_row", 3), ("bad_time", 4)]
    assert [(m.source_row_id, m.direction, m.sent, m.kind) for m in parsed.messages] == [
        (2, "incoming", 1380000000000 * 10**6, "text"), (4, "outgoing", None, "text"), (5, "incoming", 1380000000000 * 10**6, "media")]
    assert parsed.messages[2].attachments == (Attachment(),)


def test_side_tables_with_fewer_columns(tmp_path: Path) -> None:
    """message_media without media_name/mime_type, message_location without place_name, wa.db without wa_name."""
    db = build_database(tmp_path / "msgstore.db", CURRENT_MINIMUM + """
        CREATE TABLE message_media (message_row_id INTEGER PRIMARY KEY, file_path TEXT, file_size INTEGER);
        CREATE TABLE message_location (message_row_id INTEGER PRIMARY KEY, latitude REAL, longitude REAL);
    """, {"jid": [(1, "4915100000001", "s.whatsapp.net", ANA)], "chat": [(1, 1)],
          "message": [(2, 1, 0, 1700000000000, None), (3, 1, 0, 1700000100000, None)],
          "message_media": [(2, "Media/WhatsApp Images/IMG-2.jpg", 777)], "message_location": [(3, 53.5, 9.9)]})
    wa = build_database(tmp_path / "wa.db", "CREATE TABLE wa_contacts (_id INTEGER PRIMARY KEY, jid TEXT, display_name TEXT);",
                        {"wa_contacts": [(1, ANA, "Ana Book")]})
    parsed = parse_files(db, wa, logical={db: MSGSTORE, wa: b"/data/data/com.whatsapp/databases/wa.db"})
    assert parsed.warnings == []
    assert parsed.messages[0] == Message(
        source_table="message", source_row_id=2, conversation_id=ANA, sender=Participant(ANA, "Ana Book"), direction="incoming",
        sent=1700000000000 * 10**6, sent_raw="1700000000000", kind="media",
        attachments=(Attachment(file_name="IMG-2.jpg", size=777, local_path="Media/WhatsApp Images/IMG-2.jpg"),),
        details={"chat_row_id": "1"})
    assert (parsed.messages[1].latitude, parsed.messages[1].longitude, parsed.messages[1].location_name) == (53.5, 9.9, None)


def test_status_and_broadcast_chats_have_no_single_recipient(tmp_path: Path) -> None:
    """`status@broadcast` (Status posts; the poster is remote_resource, as in the Er-Simon corpus sample) and
    broadcast lists: an outgoing post gets no recipient, an incoming one the poster as sender."""
    rows = [(2, "status@broadcast", 1, "K2", 13, 0, "my status", 1380000000000, None, None, "0", 0, None, 0.0, 0.0, None, None,
             0, -1, -1, -1),
            (3, "status@broadcast", 0, "K3", 0, 0, "their status", 1380000100000, None, None, "0", 0, None, 0.0, 0.0, None, ANA,
             1380000101000, -1, -1, -1),
            (4, "1380000000@broadcast", 1, "K4", 13, 0, "to my list", 1380000200000, None, None, "0", 0, None, 0.0, 0.0, None,
             None, 0, -1, -1, -1)]
    db = build_database(tmp_path / "msgstore.db", BASE, {"messages": rows})
    parsed = parse_files(db, logical={db: MSGSTORE})
    assert parsed.warnings == []
    assert parsed.messages[0] == Message(
        source_table="messages", source_row_id=2, conversation_id="status@broadcast", direction="outgoing",
        sent=1380000000000 * 10**6, sent_raw="1380000000000", body="my status", kind="text",
        details={"key_id": "K2", "status": "13", "media_wa_type": "0"})
    assert [(m.sender, m.recipients) for m in parsed.messages[1:]] == [(Participant(ANA), ()), (None, ())]


ADD_ONS = """
CREATE TABLE message_add_on (_id INTEGER PRIMARY KEY, parent_message_row_id INTEGER, sender_jid_row_id INTEGER, key_id TEXT,
  timestamp INTEGER, from_me INTEGER, message_add_on_type INTEGER);
CREATE TABLE message_add_on_reaction (message_add_on_row_id INTEGER PRIMARY KEY, reaction TEXT, sender_timestamp INTEGER);
CREATE TABLE message_edit_info (message_row_id INTEGER PRIMARY KEY, edited_timestamp INTEGER, sender_timestamp INTEGER,
  original_key_id TEXT);
"""


def test_current_schema_reactions_and_edits(tmp_path: Path) -> None:
    """message_add_on(+_reaction) and message_edit_info: reactions and the edit record become details; a
    taken-back (empty) reaction and an unknown sender row are handled, not lost."""
    db = build_database(tmp_path / "msgstore.db", CURRENT_MINIMUM + ADD_ONS, {
        "jid": [(1, "4915100000001", "s.whatsapp.net", ANA)], "chat": [(1, 1)],
        "message": [(2, 1, 0, 1700000000000, "edited text"), (3, 1, 1, 1700000100000, "plain")],
        "message_add_on": [(1, 2, 1, "R1", 1700000005000, 0, 56), (2, 2, None, "R2", 1700000006000, 1, 56),
                           (3, 3, 1, "R3", 1700000105000, 0, 56), (4, 2, 99, "R4", 1700000007000, 0, 56)],
        "message_add_on_reaction": [(1, "👍", 1700000005000), (2, "❤", 1700000006000), (3, "", 1700000105000),
                                    (4, "😮", 1700000007000)],
        "message_edit_info": [(2, 1700000050000, 1700000049000, "K-old")]})
    parsed = parse_files(db, logical={db: MSGSTORE})
    assert parsed.warnings == []
    assert parsed.messages[0] == Message(
        source_table="message", source_row_id=2, conversation_id=ANA, sender=Participant(ANA), direction="incoming",
        sent=1700000000000 * 10**6, sent_raw="1700000000000", body="edited text", kind="text", is_edited=True,
        details={"chat_row_id": "1", "reactions": f"{ANA}:👍; owner:❤; jid_row:99:😮", "edited_timestamp": "1700000050000"})
    assert (parsed.messages[1].details, parsed.messages[1].is_edited) == ({"chat_row_id": "1"}, None)


def test_transition_store_reaction_reaches_the_legacy_row(tmp_path: Path) -> None:
    """A transition store pairs rows by _id, so a reaction on message 2 belongs to the reported legacy row 2."""
    db = build_database(tmp_path / "msgstore.db", BASE + CURRENT_MINIMUM + ADD_ONS, {
        "messages": [(2, ANA, 0, "K2", 0, 0, "both tables", 1650000000000, None, None, "0", 0, None, 0.0, 0.0, None, None,
                      1650000001000, -1, -1, -1)],
        "jid": [(1, "4915100000001", "s.whatsapp.net", ANA)], "chat": [(1, 1)],
        "message": [(2, 1, 0, 1650000000000, "both tables")],
        "message_add_on": [(1, 2, None, "R1", 1650000005000, 1, 56)], "message_add_on_reaction": [(1, "🙏", 1650000005000)]})
    parsed = parse_files(db, logical={db: MSGSTORE})
    assert parsed.warnings == []
    assert [(m.source_table, m.details.get("reactions")) for m in parsed.messages] == [("messages", "owner:🙏")]


LIDS = """
CREATE TABLE jid_map (lid_row_id INTEGER PRIMARY KEY NOT NULL, jid_row_id INTEGER NOT NULL, sort_id INTEGER);
CREATE TABLE lid_display_name (lid_row_id INTEGER PRIMARY KEY, display_name TEXT, username TEXT);
"""


def test_lid_senders_keep_their_jid_and_gain_the_mapped_phone_and_name(tmp_path: Path) -> None:
    """jid_map links a `@lid` jid row to the phone jid row; lid_display_name names an unmapped lid."""
    group = "120363000000000001@g.us"
    db = build_database(tmp_path / "msgstore.db", CURRENT_MINIMUM.replace("text_data TEXT);", "text_data TEXT, sender_jid_row_id INTEGER);")
                        + LIDS, {
        "jid": [(1, "120363000000000001", "g.us", group), (2, "98765432101234", "lid", "98765432101234@lid"),
                (3, "4915100000001", "s.whatsapp.net", ANA), (4, "11112222333344", "lid", "11112222333344@lid")],
        "chat": [(1, 1), (2, 2)],
        "message": [(2, 1, 0, 1700000000000, "from a lid", 2), (3, 1, 0, 1700000100000, "from another lid", 4),
                    (4, 2, 0, 1700000200000, "lid one-to-one", None)],
        "jid_map": [(2, 3, 1)], "lid_display_name": [(4, "Bo", None)]})
    wa = build_database(tmp_path / "wa.db", "CREATE TABLE wa_contacts (_id INTEGER PRIMARY KEY, jid TEXT, display_name TEXT, wa_name TEXT);",
                        {"wa_contacts": [(1, ANA, "Ana Book", None)]})
    parsed = parse_files(db, wa, logical={db: MSGSTORE, wa: b"/data/data/com.whatsapp/databases/wa.db"})
    assert parsed.warnings == []
    assert parsed.messages[0] == Message(
        source_table="message", source_row_id=2, conversation_id=group, sender=Participant("98765432101234@lid", "Ana Book"),
        direction="incoming", sent=1700000000000 * 10**6, sent_raw="1700000000000", body="from a lid", kind="text",
        details={"chat_row_id": "1", "sender_phone_jid": ANA})
    assert (parsed.messages[1].sender, parsed.messages[1].details) == (Participant("11112222333344@lid", "Bo"), {"chat_row_id": "1"})
    assert (parsed.messages[2].sender, parsed.messages[2].details) == (
        Participant("98765432101234@lid", "Ana Book"), {"chat_row_id": "2", "chat_phone_jid": ANA})
