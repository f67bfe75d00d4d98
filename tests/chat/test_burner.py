"""Burner: Android burners.sqlite (plaso sample) and iOS NSURLCache Cache.db (iLEAPP sample).

Facts and sources are in parsers/chat/burner.py (plaso sample schema; iLEAPP
`scripts/artifacts/burnerCache.py` for the cached API responses and the meaning of direction,
messageType and call state). CHATS.tsv lists the iOS Cache.db as 39 cached responses, not
messages; iLEAPP's burnerCache_messages lists 18 message rows (its JSON holds the same 18 rows
twice, once per output style): the 18 are compared row for row here. Mapping: iLEAPP "Sent" is
UTC text to the second; its call/voicemail "Message" text is made up by iLEAPP from direction and
state, so it is compared with `details["call"]` while the stored body ('') is kept as stored.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from manifests.records import Attachment, Message, Participant, decode_text
from tests.chat.helpers import assert_no_warnings, build_database, corpus_file, parse_files
from tests.chat.hostile import assert_truncated_store_is_unreadable

ANDROID = "log2timeline__plaso/test_data/android/burners.sqlite"
ANDROID_LOGICAL = b"/data/data/com.adhoclabs.burner/databases/burners.sqlite"
IOS_DIR = ("abrignoni__iLEAPP/admin/test/cases/data/burnerCache/testdata.burnerCache.burnerCache_messages.josh_ios15_ffs.zip.extracted/"
           "filesystem2/mobile/Containers/Data/Application/43637BC0-E3FA-4375-9A56-B85713075C0D/Library/Caches/com.adhoclabs.burner")
IOS_LOGICAL = b"/private/var/mobile/Containers/Data/Application/43637BC0-E3FA-4375-9A56-B85713075C0D/Library/Caches/com.adhoclabs.burner"
ILEAPP = "abrignoni__iLEAPP/admin/test/results/burnerCache/burnerCache.burnerCache_messages.josh_ios15_ffs.20250621013336.json"
CALL_TEXT = {("incoming", "completed"): "Completed incoming call", ("outgoing", "completed"): "Completed outgoing call",
             ("incoming", "missed"): "Missed incoming call", ("outgoing", "missed"): "Missed outgoing call",
             ("incoming", "missed with voicemail"): "Missed incoming call with voicemail"}


def test_android_counts_range_and_golden_record() -> None:
    path = corpus_file(ANDROID)
    parsed = parse_files(path, logical={path: ANDROID_LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 16  # CHATS.tsv: messages 16
    assert parsed.parser_names() == {"burner"}
    assert parsed.time_range() == ("2022-12-01T18:16:30Z", "2022-12-01T18:53:34Z")
    burner, contact = Participant("+19102484781", "My Burner"), Participant("+19198887386", "This Is DFIR Two")
    assert parsed.messages[12] == Message(
        source_table="messages", source_row_id=25, conversation_id="+19198887386", conversation_title="This Is DFIR Two",
        sender=contact, recipients=(burner,), direction="incoming", sent=1669920120720000000, sent_raw="1669920120720",
        body="", kind="call", account_id="21d2ca9c-aba1-4ada-b7f5-23b0d97acb47",
        details={"message_id": "5c0dde0c-5f2d-4e67-9ed7-33ed9048d4a2", "message_type": "1", "state": "3", "call": "completed",
                 "duration_s": "2", "burner_id": "5b7c579e-5d24-49e2-a9b8-82641ef1dbe3", "read_flag": "1", "connected": "1"},
    )
    pictures = [m for m in parsed.messages if m.kind == "media"]
    assert [m.attachments for m in pictures] == [(Attachment(file_name="248d9fad-db20-417e-87be-2c09a83d4ef6.jpg"),),
                                                (Attachment(file_name="2d19a270-4502-42e0-8d8c-ce757f10dec6.jpg"),)]
    assert [m.direction for m in parsed.messages].count("outgoing") == 9


def _ios_files() -> tuple[Path, list[Path], dict[Path, bytes]]:
    cache = corpus_file(f"{IOS_DIR}/Cache.db")
    bodies = sorted((cache.parent / "fsCachedData").iterdir())
    logical = {cache: IOS_LOGICAL + b"/Cache.db"}
    logical.update({f: IOS_LOGICAL + b"/fsCachedData/" + f.name.encode() for f in bodies})
    return cache, bodies, logical


def test_ios_cache_matches_ileapp_row_for_row() -> None:
    cache, bodies, logical = _ios_files()
    parsed = parse_files(cache, *bodies, logical=logical)
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"burner"}  # discord_ios reads the same schema but finds no Discord URLs here
    expected = json.loads(corpus_file(ILEAPP).read_text())["data"][0]
    assert len(expected) == 18 and len(parsed.messages) == 18
    for message, row in zip(parsed.messages, expected, strict=True):
        thread, sent, direction, _read, sender, recipient, text, kind, _media, _url, message_id, _file, location = row
        assert message.details["message_id"] == message_id
        assert datetime.fromtimestamp(message.sent // 10**9, timezone.utc).strftime("%Y-%m-%d %H:%M:%S+00:00") == sent
        assert message.direction == direction.lower()
        assert message.sender.id == sender.split(" ")[0] and message.recipients[0].id == recipient.split(" ")[0]
        assert message.conversation_id == thread.split(" ")[0]
        if kind in ("Call", "Voicemail"):
            assert message.kind == "call" and CALL_TEXT[(message.direction, message.details["call"])] == text
        else:
            assert message.body == text and message.kind == ("media" if kind == "Picture" else "text")
        assert location.startswith(f"cfurl_cache_receiver_data (entry_ID: {message.source_row_id})")
    assert parsed.messages[0] == Message(
        source_table="cfurl_cache_receiver_data", source_row_id=31, conversation_id="+19198887386",
        conversation_title="This Is DFIR Two", sender=Participant("+18285205789", "My New Burner"),
        recipients=(Participant("+19198887386", "This Is DFIR Two"),), direction="outgoing", sent=1683568731554000000,
        sent_raw="1683568731554", body="Ok. We got that backwards.  You can call me now. Lol.", kind="text",
        account_id="21d2ca9c-aba1-4ada-b7f5-23b0d97acb47",
        details={"message_id": "1e4549e2-3059-4300-8ee8-44e5a0a2ebb1", "message_type": "2", "state": "1",
                 "burner_id": "3419959a-a3aa-4cd0-b5e1-eed24fa52192", "read_flag": "True", "cache_source": "receiver_data",
                 "cache_item": "0", "cache_stored": "2023-05-08 17:25:37"},
    )
    voicemail = parsed.messages[1]
    assert voicemail.details["cache_source"] == "fsCachedData/34A0C948-4FFD-4FA3-B5DC-5DB8ADBD8B0D"
    assert voicemail.attachments == (Attachment(file_name="e22e2267-b483-4504-a186-1ae9948e3821.wav"),)


def test_ios_cache_without_fscacheddata_warns_and_keeps_inline_message() -> None:
    cache, _bodies, logical = _ios_files()
    parsed = parse_files(cache, logical={cache: logical[cache]})
    assert [m.source_row_id for m in parsed.messages] == [31]
    assert [(w.kind, w.row_id) for w in parsed.warnings] == [("companion_missing", 32)]


URLCACHE = """
CREATE TABLE cfurl_cache_response(entry_ID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, version INTEGER, hash_value INTEGER,
  storage_policy INTEGER, request_key TEXT UNIQUE, time_stamp NOT NULL DEFAULT CURRENT_TIMESTAMP, partition TEXT);
CREATE TABLE cfurl_cache_receiver_data(entry_ID INTEGER PRIMARY KEY, isDataOnFS INTEGER, receiver_data BLOB);
"""


def test_ios_newer_conversation_objects_and_bad_json(tmp_path: Path) -> None:
    item = {"id": "m1", "dateCreated": 1700000000000, "direction": "Inbound", "state": "Voicemail", "messageType": "Voice",
            "text": "", "voicemail": {"audioUrl": "https://s3.amazonaws.com/burner-voicemail/prod/v1.wav"},
            "conversation": {"conversationId": "+15550001"}, "burnerId": "b1", "userId": "u1", "read": False}
    base = "https://phoenix.burnerapp.com/v1/user/u1"
    db = build_database(tmp_path / "Cache.db", URLCACHE, {
        "cfurl_cache_response": [(1, 0, 0, 0, f"{base}/burners/b1/conversations/c1/messages?pageSize=50", "2023-11-14 22:13:20", None),
                                 (2, 0, 0, 0, f"{base}/messages", "2023-11-14 22:13:21", None),
                                 (3, 0, 0, 0, "https://example.com/user/u1/messages", "2023-11-14 22:13:22", None)],
        "cfurl_cache_receiver_data": [(1, 0, json.dumps([item]).encode()), (2, 0, b"{not json"), (3, 0, json.dumps([item]).encode())],
    })
    parsed = parse_files(db, logical={db: IOS_LOGICAL + b"/Cache.db"})
    assert [(w.kind, w.row_id) for w in parsed.warnings] == [("bad_json", 2)]
    assert len(parsed.messages) == 1
    message = parsed.messages[0]
    assert (message.direction, message.kind, message.sender, message.details["call"], message.sent) == (
        "incoming", "call", Participant("+15550001"), "missed with voicemail", 1700000000 * 10**9)


def test_unknown_schema_at_burner_path_warns_once(tmp_path: Path) -> None:
    db = build_database(tmp_path / "burners.sqlite", "CREATE TABLE messages (_id INTEGER PRIMARY KEY, body TEXT);")
    parsed = parse_files(db, logical={db: ANDROID_LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


MINIMAL = "CREATE TABLE messages (_id INTEGER PRIMARY KEY, date_created INTEGER, message TEXT, direction INTEGER, contact_phone_number TEXT);"


def test_android_minimal_store_reads_every_message(tmp_path: Path) -> None:
    db = build_database(tmp_path / "burners.sqlite", MINIMAL, {"messages": [
        (1, 1669920000000, "hi there", 1, "+15550001"), (2, 1669920001000, "back", 2, "+15550001"), (3, None, None, None, None)]})
    parsed = parse_files(db, logical={db: ANDROID_LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 3
    assert parsed.messages[0] == Message(
        source_table="messages", source_row_id=1, conversation_id="+15550001", sender=Participant("+15550001"),
        direction="incoming", sent=1669920000000 * 10**6, sent_raw="1669920000000", body="hi there", kind="text",
    )
    assert [(m.direction, m.sender, m.recipients) for m in parsed.messages[1:]] == [
        ("outgoing", None, (Participant("+15550001"),)), ("unknown", None, ())]


def test_android_type_confused_values_cost_only_the_value(tmp_path: Path) -> None:
    db = build_database(tmp_path / "burners.sqlite", MINIMAL + "CREATE TABLE contacts (phone_number TEXT);", {
        "messages": [(1, "noon", b"\xff", "x", 5), (2, 1669920000000, "ok", 2, "+15550001")], "contacts": [(None,), (b"\x00",)]})
    parsed = parse_files(db, logical={db: ANDROID_LOGICAL})
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_time", 1, "date_created")]
    assert [(m.direction, m.body, m.conversation_id) for m in parsed.messages] == [
        ("unknown", decode_text(b"\xff"), "5"), ("outgoing", "ok", "+15550001")]  # TEXT affinity stores 5 as "5"


def test_android_truncated_minimal_store_is_database_unreadable(tmp_path: Path) -> None:
    db = build_database(tmp_path / "burners.sqlite", MINIMAL, {"messages": [(i, 1669920000000 + i, "x" * 300, 1, "+1") for i in range(400)]})
    assert_truncated_store_is_unreadable(db, ANDROID_LOGICAL)
