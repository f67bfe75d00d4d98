"""Facebook Messenger iOS lightspeed store: fixture from the documented schema (no corpus sample).

Facts (own words; sources: iLEAPP scripts/artifacts/facebookMessenger.py, ALEAPP FacebookMessenger.py):
`lightspeed-userDatabases/<uid>.db` holds messages(message_id, thread_key, sender_id, text, timestamp_ms
Unix ms, is_admin_message) — iLEAPP reads them through the view thread_messages —, contacts(id, name),
attachments(message_id, filename, filesize), attachment_items(message_id, title_text, subtitle_text: call
captions), _user_info(facebook_user_id) = the logged-in account.
"""

from __future__ import annotations

from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, parse_files

OWNER = "100009999"
LOGICAL = (b"/private/var/mobile/Containers/Shared/AppGroup/1234-ABCD/Library/Application Support/"
           b"lightspeed-userDatabases/" + OWNER.encode() + b".db")
DDL = """
CREATE TABLE messages (thread_key INTEGER, timestamp_ms INTEGER, message_id TEXT PRIMARY KEY, sender_id INTEGER, text TEXT,
  has_attachment INTEGER, is_admin_message INTEGER, offline_threading_id TEXT);
CREATE VIEW thread_messages AS SELECT * FROM messages;
CREATE TABLE contacts (id INTEGER PRIMARY KEY, name TEXT, profile_picture_url TEXT);
CREATE TABLE _user_info (facebook_user_id INTEGER);
CREATE TABLE threads (thread_key INTEGER PRIMARY KEY, thread_name TEXT);
CREATE TABLE attachments (message_id TEXT, attachment_fbid TEXT, filename TEXT, filesize INTEGER, playable_url_mime_type TEXT);
CREATE TABLE attachment_items (message_id TEXT, title_text TEXT, subtitle_text TEXT);
"""


def fixture(tmp_path: Path) -> Path:
    return build_database(tmp_path / f"{OWNER}.db", DDL, {
        "messages": [
            (777, 1650000000000, "mid.$b1", 300003333, "Are you coming?", 0, 0, "9001"),
            (777, 1650000030000, "mid.$b2", int(OWNER), "Yes, 10 minutes", 0, 0, "9002"),
            (777, 1650000060000, "mid.$b3", int(OWNER), None, 1, 0, "9003"),
            (777, 1650000090000, "mid.$b4", 300003333, None, 1, 0, "9004"),
        ],
        "contacts": [(int(OWNER), "Olivia Owner", None), (300003333, "Paul Pal", None)],
        "_user_info": [(int(OWNER),)],
        "threads": [(777, None)],
        "attachments": [("mid.$b3", "555", "IMG_0001.jpg", 123456, "image/jpeg")],
        "attachment_items": [("mid.$b4", "Audio call", "1 min")],
    })


def test_lightspeed_store(tmp_path: Path) -> None:
    db = fixture(tmp_path)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"messenger_ios"}  # messenger_android steps aside for _user_info stores
    assert len(parsed.messages) == 4
    assert [(m.direction, m.kind) for m in parsed.messages] == [("incoming", "text"), ("outgoing", "text"), ("outgoing", "media"), ("incoming", "call")]
    assert parsed.time_range() == ("2022-04-15T05:20:00Z", "2022-04-15T05:21:30Z")
    assert parsed.messages[1] == Message(
        source_table="messages", source_row_id=2, conversation_id="777", sender=Participant(OWNER, "Olivia Owner"),
        direction="outgoing", sent=1650000030000 * 10**6, sent_raw="1650000030000", body="Yes, 10 minutes", kind="text",
        account_id=OWNER, details={"message_id": "mid.$b2", "is_admin_message": "0", "offline_threading_id": "9002"},
    )
    assert parsed.messages[2].attachments == (Attachment(file_name="IMG_0001.jpg", mime_type="image/jpeg", size=123456),)
    assert parsed.messages[3].details["attachment_text"] == "Audio call | 1 min"


def test_unknown_schema_at_lightspeed_path_is_reported(tmp_path: Path) -> None:
    db = build_database(tmp_path / "x.db", "CREATE TABLE messages (id INTEGER PRIMARY KEY, blob BLOB);")
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


def test_pre_lightspeed_orca2_store_is_reported_not_skipped(tmp_path: Path) -> None:
    """orca2.db (Messenger iOS before about 2020): its schema is not publicly documented, so it is named, not read."""
    logical = (b"/private/var/mobile/Containers/Shared/AppGroup/1234-ABCD/_store_5678/messenger_messages_v1/orca2.db")
    db = build_database(tmp_path / "orca2.db", "CREATE TABLE items (key TEXT PRIMARY KEY, value BLOB);", {"items": [("m1", b"\x01\x02")]})
    parsed = parse_files(db, logical={db: logical})
    assert parsed.messages == []
    (warning,) = parsed.warnings
    assert warning.kind == "schema_unrecognised"
    assert "messenger_ios" in warning.message and "tables: items" in warning.message


MINIMAL_DDL = """
CREATE TABLE messages (message_id TEXT PRIMARY KEY, thread_key INTEGER, sender_id INTEGER, text TEXT, timestamp_ms INTEGER);
CREATE TABLE _user_info (facebook_user_id INTEGER);
"""


def test_lightspeed_store_with_only_required_columns(tmp_path: Path) -> None:
    """No contacts, threads or attachments tables, no optional message columns: every message still read."""
    db = build_database(tmp_path / f"{OWNER}.db", MINIMAL_DDL, {
        "messages": [("mid.$c1", 888, 300003333, "hi", 1650000000000), ("mid.$c2", 888, int(OWNER), "hello", 1650000001000),
                     ("mid.$c3", 888, None, None, 1650000002000)],
        "_user_info": [(int(OWNER),)],
    })
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"messenger_ios"}
    assert len(parsed.messages) == 3
    assert parsed.messages[0] == Message(
        source_table="messages", source_row_id=1, conversation_id="888", sender=Participant("300003333"),
        direction="incoming", sent=1650000000000 * 10**6, sent_raw="1650000000000", body="hi", kind="text",
        account_id=OWNER, details={"message_id": "mid.$c1"},
    )
    assert [m.direction for m in parsed.messages] == ["incoming", "outgoing", "unknown"]


def test_hostile_minimal_store_types_and_several_owners(tmp_path: Path) -> None:
    db = build_database(tmp_path / f"{OWNER}.db", MINIMAL_DDL, {
        "messages": [("mid.$d1", b"\x00\x01", "not a number", b"\xff\xfe", "soon"), ("mid.$d2", 888, int(OWNER), "ok", 2**62)],
        "_user_info": [(int(OWNER),), (42,)],
    })
    parsed = parse_files(db, logical={db: LOGICAL})
    assert len(parsed.messages) == 2
    assert sorted((w.kind, w.row_id or 0) for w in parsed.warnings) == [("ambiguous_owner", 0), ("bad_time", 1), ("bad_time", 2)]
    second, first = parsed.messages  # ordered by timestamp_ms: the text "soon" sorts after every number
    assert (first.sent, first.direction, first.sender, first.conversation_id) == (None, "incoming", Participant("not a number"), "\x00\x01")
    assert first.body == "\\xff\\xfe" and first.body.raw == b"\xff\xfe"
    assert second.direction == "outgoing"


def test_truncated_lightspeed_store_is_one_unreadable_row(tmp_path: Path) -> None:
    from tests.chat.hostile import assert_truncated_store_is_unreadable

    rows = [(f"mid.$e{i}", 888, 300003333, "x" * 200, 1650000000000 + i) for i in range(400)]
    db = build_database(tmp_path / f"{OWNER}.db", MINIMAL_DDL, {"messages": rows, "_user_info": [(int(OWNER),)]})
    assert_truncated_store_is_unreadable(db, LOGICAL)
