"""Telegram Desktop JSON export (result.json), from fixtures written here (no corpus sample).

Facts used (tdesktop `export/output/export_output_json.cpp`, read for facts only): single-chat
export = {name, type, id, messages[]}; full export = {personal_information{user_id...},
chats{list[]}, left_chats{list[]}}; message fields id, type (message/service), date (local),
date_unixtime (UTC seconds, string), from/from_id, text (string or list of strings/entities),
photo/file (relative paths), media_type, mime_type, edited/edited_unixtime, forwarded_from,
reply_to_message_id, location_information{latitude, longitude}; service messages actor/actor_id/action.
"""

from __future__ import annotations

import json
from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import assert_no_warnings, parse_files

SINGLE = {
    "name": "Bob", "type": "personal_chat", "id": 4455,
    "messages": [
        {"id": 10, "type": "message", "date": "2023-03-01T10:00:00", "date_unixtime": "1677664800", "from": "Bob",
         "from_id": "user4455", "text": "plain hello"},
        {"id": 11, "type": "message", "date": "2023-03-01T10:01:00", "date_unixtime": "1677664860", "edited": "2023-03-01T10:02:00",
         "edited_unixtime": "1677664920", "from": "Alice", "from_id": "user1001", "reply_to_message_id": 10,
         "text": ["see ", {"type": "link", "text": "https://example.org"}, " ok"],
         "text_entities": [{"type": "plain", "text": "see "}, {"type": "link", "text": "https://example.org"}, {"type": "plain", "text": " ok"}]},
        {"id": 12, "type": "message", "date": "2023-03-01T10:03:00", "date_unixtime": "1677664980", "from": "Bob", "from_id": "user4455",
         "photo": "photos/photo_1@01-03-2023_10-03-00.jpg", "width": 800, "height": 600, "text": ""},
        {"id": 13, "type": "message", "date": "2023-03-01T10:04:00", "date_unixtime": "1677665040", "from": "Bob", "from_id": "user4455",
         "file": "stickers/sticker.webp", "media_type": "sticker", "sticker_emoji": "😀", "mime_type": "image/webp", "text": ""},
        {"id": 14, "type": "message", "date": "2023-03-01T10:05:00", "date_unixtime": "1677665100", "from": "Alice", "from_id": "user1001",
         "forwarded_from": "News", "location_information": {"latitude": 52.5, "longitude": 13.4}, "text": ""},
        {"id": 15, "type": "service", "date": "2023-03-01T10:06:00", "date_unixtime": "1677665160", "actor": "Alice",
         "actor_id": "user1001", "action": "phone_call", "duration_seconds": 42, "discard_reason": "hangup", "text": ""},
    ],
}

FULL = {
    "about": "Here is the data you requested.",
    "personal_information": {"user_id": 1001, "first_name": "Alice", "last_name": "", "phone_number": "+1 555 0100"},
    "chats": {"about": "This page lists all chats from this export.", "list": [SINGLE, {
        "name": "Group", "type": "private_group", "id": 777,
        "messages": [{"id": 1, "type": "service", "date": "2023-02-01T09:00:00", "date_unixtime": "1675242000", "actor": "Alice",
                      "actor_id": "user1001", "action": "create_group", "title": "Group", "members": ["Alice", "Bob"], "text": ""}]}]},
}


def _write(tmp_path: Path, document: dict) -> Path:
    folder = tmp_path / "ChatExport_2023-03-02"
    folder.mkdir()
    path = folder / "result.json"
    path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def test_single_chat_export(tmp_path: Path) -> None:
    path = _write(tmp_path, SINGLE)
    parsed = parse_files(path, logical={path: b"/Users/alice/Downloads/Telegram Desktop/ChatExport_2023-03-02/result.json"})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"telegram_desktop_export"}
    assert len(parsed.messages) == 6
    assert parsed.time_range() == ("2023-03-01T10:00:00Z", "2023-03-01T10:06:00Z")
    assert parsed.messages[1] == Message(
        source_table="messages", source_row_id=2, conversation_id="4455", conversation_title="Bob",
        sender=Participant("user1001", "Alice"), direction="unknown", sent=1677664860 * 10**9, sent_raw="1677664860",
        edited=1677664920 * 10**9, body="see https://example.org ok", kind="text", is_edited=True, is_forwarded=False,
        details={"message_id": "11", "date_local": "2023-03-01T10:01:00", "chat_type": "personal_chat", "type": "message",
                 "reply_to_message_id": "10", "edited": "2023-03-01T10:02:00"},
    )
    photo, sticker, location, call = parsed.messages[2:]
    assert (photo.kind, photo.body, photo.attachments) == ("media", None, (Attachment(
        file_name="photo_1@01-03-2023_10-03-00.jpg", mime_type="image/jpeg", local_path="photos/photo_1@01-03-2023_10-03-00.jpg"),))
    assert (sticker.kind, sticker.attachments[0].mime_type, sticker.details["sticker_emoji"]) == ("sticker", "image/webp", "😀")
    assert (location.kind, location.latitude, location.longitude, location.is_forwarded) == ("location", 52.5, 13.4, True)
    assert (call.kind, call.sender, call.details["duration_seconds"]) == ("call", Participant("user1001", "Alice"), "42")


def test_full_export_owner_and_directions(tmp_path: Path) -> None:
    path = _write(tmp_path, FULL)
    parsed = parse_files(path)
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 7
    assert [m.direction for m in parsed.messages] == ["incoming", "outgoing", "incoming", "incoming", "outgoing", "outgoing", "outgoing"]
    assert {m.account_id for m in parsed.messages} == {"1001"}
    group = parsed.messages[6]
    assert (group.source_table, group.source_row_id, group.conversation_id, group.kind, group.details["action"]) == (
        "chats.list[1].messages", 1, "777", "system", "create_group")


def test_local_date_only_is_a_warning(tmp_path: Path) -> None:
    path = _write(tmp_path, {"name": "Old", "type": "personal_chat", "id": 1, "messages": [
        {"id": 1, "type": "message", "date": "2019-05-05T12:00:00", "from": "X", "from_id": 5, "text": "old"}]})
    parsed = parse_files(path)
    assert [(m.sent, m.body, m.details["date_local"]) for m in parsed.messages] == [(None, "old", "2019-05-05T12:00:00")]
    assert [w.kind for w in parsed.warnings] == ["local_time_only"]


def test_other_result_json_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text('{"status": "ok", "items": [1, 2]}')
    parsed = parse_files(path)
    assert parsed.messages == [] and parsed.warnings == []


def test_broken_json_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text('{"name": "Bob", "type": "personal_chat", "id": 1, "messages": [{"id": 1,')
    parsed = parse_files(path)
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["bad_json"]


def test_json_with_messages_key_but_no_chat_type_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text('{"messages": [{"id": 1, "text": "not telegram"}], "count": 1}')
    parsed = parse_files(path)
    assert parsed.messages == [] and parsed.warnings == []


# An export of the old format (before date_unixtime): `edited` on every message, the epoch in the
# exporting PC's local time when never edited ("1970-01-01T01:00:00" at UTC+1, as public parsers of
# such exports quote it), and bare-number from_id/actor_id.
OLD = {
    "about": "Here is the data you requested.",
    "personal_information": {"user_id": 352786456, "first_name": "Yuliya", "last_name": "", "phone_number": "+1 555 0100"},
    "chats": {"about": "This page lists all chats from this export.", "list": [{
        "name": "Vadim", "type": "personal_chat", "id": 4647753752,
        "messages": [
            {"id": 2, "type": "message", "date": "2017-11-14T20:42:15", "edited": "1970-01-01T01:00:00",
             "from": "Yuliya", "from_id": 352786456, "text": "Hey"},
            {"id": 3, "type": "message", "date": "2017-11-14T20:43:00", "edited": "2017-11-14T20:50:00",
             "from": "Vadim", "from_id": 182120723, "text": "fixed typo"},
            {"id": 4, "type": "message", "date": "2017-11-14T20:44:00", "edited": "1969-12-31T19:00:00",
             "from": "Vadim", "from_id": 182120723, "text": "exported at UTC-5"},
            {"id": 5, "type": "service", "date": "2017-11-14T20:45:00", "edited": "1970-01-01T14:00:00",
             "actor": "Yuliya", "actor_id": 352786456, "action": "pin_message", "text": ""},
            {"id": 6, "type": "message", "date": "2017-11-14T20:46:00", "edited": "1970-01-01T14:00:01",
             "from": "Vadim", "from_id": 182120723, "text": "past every zone's epoch: an edit"},
        ]}]},
}


def test_old_export_epoch_edited_means_never_edited(tmp_path: Path) -> None:
    path = _write(tmp_path, OLD)
    parsed = parse_files(path)
    assert [(w.kind, w.message, w.table, w.row_id) for w in parsed.warnings] == [(
        "local_time_only", "5 messages have only a local date (an export from before date_unixtime), the first at row 1; sent is "
        "left empty (supply --app-key telegram_desktop_export_utc_offset=+HH:MM to convert)", "chats.list[0].messages", 1)]
    assert [(m.is_edited, m.edited) for m in parsed.messages] == [(False, None), (True, None), (False, None), (False, None), (True, None)]
    assert [m.direction for m in parsed.messages] == ["outgoing", "incoming", "incoming", "outgoing", "incoming"]
    assert parsed.messages[0] == Message(
        source_table="chats.list[0].messages", source_row_id=1, conversation_id="4647753752", conversation_title="Vadim",
        sender=Participant("352786456", "Yuliya"), direction="outgoing", sent=None, sent_raw="2017-11-14T20:42:15", edited=None, body="Hey",
        kind="text", is_edited=False, is_forwarded=False, account_id="352786456",
        details={"message_id": "2", "date_local": "2017-11-14T20:42:15", "chat_type": "personal_chat", "type": "message",
                 "edited": "1970-01-01T01:00:00"},
    )
    assert parsed.messages[1].details["edited"] == "2017-11-14T20:50:00"  # a real edit, local time only: kept, no UTC


def test_new_export_edit_times(tmp_path: Path) -> None:
    document = {"name": "Bob", "type": "personal_chat", "id": 4455, "messages": [
        {"id": 1, "type": "message", "date": "2023-03-01T10:00:00", "date_unixtime": "1677664800", "from": "Bob", "from_id": "user4455",
         "text": "not edited"},
        {"id": 2, "type": "message", "date": "2023-03-01T10:01:00", "date_unixtime": "1677664860", "edited": "2023-03-01T10:02:00",
         "edited_unixtime": "1677664920", "from": "Bob", "from_id": "user4455", "text": "edited"},
        {"id": 3, "type": "message", "date": "2023-03-01T10:03:00", "date_unixtime": "1677664980", "edited": "1970-01-01T01:00:00",
         "edited_unixtime": "0", "from": "Bob", "from_id": "user4455", "text": "epoch in both"},
    ]}
    path = _write(tmp_path, document)
    parsed = parse_files(path)
    assert_no_warnings(parsed)
    assert [(m.is_edited, m.edited) for m in parsed.messages] == [(False, None), (True, 1677664920 * 10**9), (False, None)]
    assert parsed.messages[1] == Message(
        source_table="messages", source_row_id=2, conversation_id="4455", conversation_title="Bob",
        sender=Participant("user4455", "Bob"), direction="unknown", sent=1677664860 * 10**9, sent_raw="1677664860",
        edited=1677664920 * 10**9, body="edited", kind="text", is_edited=True, is_forwarded=False,
        details={"message_id": "2", "date_local": "2023-03-01T10:01:00", "chat_type": "personal_chat", "type": "message",
                 "edited": "2023-03-01T10:02:00"},
    )


def test_files_the_export_did_not_save_have_no_path(tmp_path: Path) -> None:
    too_big = "(File exceeds maximum size. Change data exporting settings to download.)"
    not_included = "(File not included. Change data exporting settings to download.)"
    path = _write(tmp_path, {"name": "Bob", "type": "personal_chat", "id": 4455, "messages": [
        {"id": 1, "type": "message", "date": "2023-03-01T10:00:00", "date_unixtime": "1677664800", "from": "Bob", "from_id": "user4455",
         "file": too_big, "file_name": "holiday.mp4", "file_size": 3000000000, "media_type": "video_file", "mime_type": "video/mp4", "text": ""},
        {"id": 2, "type": "message", "date": "2023-03-01T10:01:00", "date_unixtime": "1677664860", "from": "Bob", "from_id": "user4455",
         "photo": not_included, "photo_file_size": 81234, "text": "look"},
    ]})
    parsed = parse_files(path)
    assert_no_warnings(parsed)
    video, photo = parsed.messages
    assert video == Message(
        source_table="messages", source_row_id=1, conversation_id="4455", conversation_title="Bob",
        sender=Participant("user4455", "Bob"), direction="unknown", sent=1677664800 * 10**9, sent_raw="1677664800", body=None,
        kind="media", attachments=(Attachment(file_name="holiday.mp4", mime_type="video/mp4", size=3000000000, local_path=None),),
        is_edited=False, is_forwarded=False,
        details={"message_id": "1", "date_local": "2023-03-01T10:00:00", "chat_type": "personal_chat", "type": "message",
                 "media_type": "video_file", "file_not_saved": too_big},
    )
    assert (photo.kind, photo.body, photo.attachments, photo.details["photo_not_saved"]) == (
        "media", "look", (Attachment(file_name=None, mime_type=None, size=81234, local_path=None),), not_included)


def test_old_export_with_a_supplied_offset(tmp_path: Path) -> None:
    path = _write(tmp_path, OLD)
    parsed = parse_files(path, keys={"telegram_desktop_export_utc_offset": "+01:00"})
    assert_no_warnings(parsed)
    assert [(m.sent, m.edited, m.is_edited) for m in parsed.messages[:3]] == [
        (1510688535 * 10**9, None, False), (1510688580 * 10**9, 1510689000 * 10**9, True), (1510688640 * 10**9, None, False)]
    assert (parsed.messages[0].details["local_time"], parsed.messages[0].details["utc_offset_supplied"]) == ("2017-11-14T20:42:15", "+01:00")
    bad = {"name": "X", "type": "personal_chat", "id": 1, "messages": [
        {"id": 1, "type": "message", "date": "14.11.2017 20:42", "from": "X", "from_id": 5, "text": "odd date"}]}
    (tmp_path / "b").mkdir()
    odd = parse_files(_write(tmp_path / "b", bad), keys={"telegram_desktop_export_utc_offset": "+01:00"})
    assert [(m.sent, m.body) for m in odd.messages] == [(None, "odd date")]
    assert [(w.kind, w.row_id, w.field) for w in odd.warnings] == [("bad_time", 1, "date")]
