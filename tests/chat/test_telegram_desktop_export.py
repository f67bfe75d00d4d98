"""Telegram Desktop JSON export (result.json), from fixtures written here (no corpus sample).

Facts used (tdesktop `export/output/export_output_json.cpp`, read for facts only): single-chat
export = {name, type, id, messages[]}; full export = {personal_information{user_id...},
chats{list[]}, left_chats{list[]}}; message fields id, type (message/service), date (local),
date_unixtime (UTC seconds, string), from/from_id, text (string or list of strings/entities),
photo/file (relative paths), media_type, mime_type, edited/edited_unixtime, forwarded_from,
reply_to_message_id, location_information{latitude, longitude}; service messages actor/actor_id/action.
"""

from __future__ import annotations

import dataclasses
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
    folder.mkdir(parents=True)
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


# --- streamed reading (ijson): order, faults and budgets -----------------------------------------

def _raw(tmp_path: Path, data: bytes) -> Path:
    folder = tmp_path / "ChatExport_2023-03-02"
    folder.mkdir(parents=True)
    path = folder / "result.json"
    path.write_bytes(data)
    return path


def _full_bytes() -> bytes:
    return json.dumps(FULL, ensure_ascii=False, indent=1).encode("utf-8")


def test_chat_fields_and_owner_after_the_messages_are_still_used(tmp_path: Path) -> None:
    """The JSON may list a chat's `messages` before its name and id, and the owner last: a first pass reads those."""
    chat = {"messages": SINGLE["messages"], "name": "Bob", "type": "personal_chat", "id": 4455}
    document = {"about": FULL["about"], "chats": {"about": "x", "list": [chat]}, "personal_information": FULL["personal_information"]}
    streamed = parse_files(_write(tmp_path / "late", document)).messages
    in_order = parse_files(_write(tmp_path / "early", {k: FULL[k] for k in ("about", "personal_information")} | {
        "chats": {"about": "x", "list": [SINGLE]}})).messages
    assert len(streamed) == 6
    assert streamed == in_order
    assert {(m.conversation_id, m.conversation_title, m.account_id) for m in streamed} == {("4455", "Bob", "1001")}
    assert [m.direction for m in streamed] == ["incoming", "outgoing", "incoming", "incoming", "outgoing", "outgoing"]


def test_a_byte_order_mark_is_read_past(tmp_path: Path) -> None:
    parsed = parse_files(_raw(tmp_path, b"\xef\xbb\xbf" + json.dumps(SINGLE).encode()))
    assert_no_warnings(parsed)
    assert [m.source_row_id for m in parsed.messages] == [1, 2, 3, 4, 5, 6]


def test_a_truncated_export_keeps_every_message_before_the_cut(tmp_path: Path) -> None:
    data = _full_bytes()
    cut = data.index(b'"create_group"')  # inside the second chat's only message
    parsed = parse_files(_raw(tmp_path, data[:cut]))
    assert [(m.source_table, m.source_row_id) for m in parsed.messages] == [("chats.list[0].messages", i) for i in range(1, 7)]
    assert [(w.kind, w.severity, w.table, w.row_id) for w in parsed.warnings] == [("bad_json", "error", "chats.list[1].messages", 1)]
    assert f"stopped after reading {cut} bytes, in chats.list[1].messages at message 1" in parsed.warnings[0].message


def test_corrupt_bytes_mid_file_cost_the_rest_of_the_file_only(tmp_path: Path) -> None:
    data = _full_bytes()
    at = data.index(b'"plain hello"') + 3
    parsed = parse_files(_raw(tmp_path, data[:at] + b"\xff\xfe" + data[at + 2:]))  # not UTF-8, inside the first body
    assert parsed.messages == []
    assert [(w.kind, w.severity, w.table, w.row_id) for w in parsed.warnings] == [("bad_json", "error", "chats.list[0].messages", 1)]
    at = data.index(b'"id": 777')
    broken = parse_files(_raw(tmp_path / "b", data[:at] + b"}}}}" + data[at:]))  # a structural break in the second chat
    assert len(broken.messages) == 6
    assert [(w.kind, w.severity) for w in broken.warnings] == [("bad_json", "error")]


def test_values_of_the_wrong_type_cost_their_message_or_section(tmp_path: Path) -> None:
    document = {"name": "Bob", "type": "personal_chat", "id": 4455, "messages": [
        "not an object",
        {"id": 2, "type": "message", "date_unixtime": "1677664800", "from_id": "user4455", "text": 12345},
        {"id": 3, "type": "message", "date_unixtime": ["1677664800"], "from_id": "user4455", "text": "list date"},
        {"id": 4, "type": "message", "date_unixtime": "1677664900", "from_id": "user4455", "text": "fine"}]}
    parsed = parse_files(_write(tmp_path, document))
    assert [(m.source_row_id, m.body, m.sent) for m in parsed.messages] == [
        (2, None, 1677664800 * 10**9), (3, "list date", None), (4, "fine", 1677664900 * 10**9)]
    assert [(w.kind, w.row_id) for w in parsed.warnings] == [("bad_row", 1), ("bad_time", 3)]
    as_dict = parse_files(_write(tmp_path / "d", {"name": "Bob", "type": "personal_chat", "id": 1, "messages": {"1": {"id": 1}}}))
    assert as_dict.messages == []
    assert [(w.kind, w.message, w.table) for w in as_dict.warnings] == [("bad_json", "messages is not a list", "messages")]
    holder = {"about": "x", "personal_information": {"user_id": 1}, "chats": {"about": "x", "list": 7},
              "left_chats": {"list": [{"name": "gone", "type": "personal_chat", "id": 9}]}}
    odd = parse_files(_write(tmp_path / "h", holder))
    assert [(w.kind, w.message) for w in odd.warnings] == [("bad_json", "chats.list is missing or not a list"),
                                                           ("bad_json", "left_chats.list[0].messages is not a list")]


def test_an_oversized_message_is_left_out_with_a_warning(tmp_path: Path) -> None:
    from parsers.chat import _telegram_export_stream as telegram_desktop_export

    huge = {"id": 2, "type": "message", "date_unixtime": "1677664800", "from_id": "user1", "text": "x" * (telegram_desktop_export.MAX_MESSAGE_BYTES + 1)}
    document = {"name": "Bob", "type": "personal_chat", "id": 1, "messages": [SINGLE["messages"][0], huge, SINGLE["messages"][2]]}
    parsed = parse_files(_write(tmp_path, document))
    assert [m.source_row_id for m in parsed.messages] == [1, 3]
    assert [(w.kind, w.table, w.row_id, w.message) for w in parsed.warnings] == [
        ("message_too_large", "messages", 2, f"message 2 is larger than {telegram_desktop_export.MAX_MESSAGE_BYTES} bytes; it is left out")]


def test_deep_nesting_stops_at_the_budget(tmp_path: Path) -> None:
    head = json.dumps({"name": "Bob", "type": "personal_chat", "id": 1, "messages": [SINGLE["messages"][0]]})[:-2]
    data = head.encode() + b', {"id": 2, "text": ' + b"[" * 1_000_000 + b"]" * 1_000_000 + b"}]}"
    parsed = parse_files(_raw(tmp_path, data))
    assert [m.source_row_id for m in parsed.messages] == [1]
    assert [(w.kind, w.severity, w.table, w.row_id) for w in parsed.warnings] == [("bad_json", "error", "messages", 2)]
    assert parsed.warnings[0].message.endswith("nested deeper than 64 levels")


def test_the_careful_stream_gives_what_the_sound_one_gives(tmp_path: Path, monkeypatch) -> None:
    """A file the survey proves sound is read by ijson's C builder; any other by the careful stream. Same rows."""
    from parsers.chat import _telegram_export_stream as stream_json

    documents = {"single": SINGLE, "full": FULL, "old": OLD,
                 "late": {"chats": {"list": [{"messages": SINGLE["messages"], "name": "Bob", "id": 1}, 5, {"name": "no messages"}]},
                          "personal_information": {"user_id": 1001}, "left_chats": {"list": [SINGLE]}}}
    sound = {name: parse_files(_write(tmp_path / "sound" / name, document)) for name, document in documents.items()}
    real_survey = stream_json.survey

    def unsound(path: Path) -> stream_json.Survey:
        found = real_survey(path)
        assert found.sound
        found.sound = False
        return found

    monkeypatch.setattr(stream_json, "survey", unsound)
    for name, document in documents.items():
        careful = parse_files(_write(tmp_path / "careful" / name, document))
        assert careful.messages == sound[name].messages, name
        assert [(w.kind, w.message, w.table, w.row_id) for w in careful.warnings] == [
            (w.kind, w.message, w.table, w.row_id) for w in sound[name].warnings], name
    assert [len(sound[name].messages) for name in documents] == [6, 7, 5, 12]
    assert [(w.kind, w.message) for w in sound["late"].warnings] == [("bad_json", "chats.list[2].messages is not a list")]


def test_a_key_holding_a_dot_is_read_carefully(tmp_path: Path) -> None:
    """ijson's string prefixes would take the key "chats.list.item.messages" for the path: such a file takes the careful stream."""
    from parsers.chat import _telegram_export_stream as stream_json

    document = {"personal_information": {"user_id": 1001}, "chats.list.item.messages": [SINGLE["messages"][0]],
                "chats": {"list": [SINGLE]}}
    path = _write(tmp_path, document)
    assert stream_json.survey(path).sound is False
    parsed = parse_files(path)
    assert_no_warnings(parsed)
    assert [(m.source_table, m.source_row_id) for m in parsed.messages] == [("chats.list[0].messages", i) for i in range(1, 7)]


def test_a_key_named_item_cannot_pass_for_a_message(tmp_path: Path, monkeypatch) -> None:
    """ijson's string prefixes give an object member named "item" the prefix of an array element; the survey sends
    such a file to the careful stream, whose prefixes cannot confuse the two, so no message lands in another chat."""
    ghost = {"id": 99, "type": "message", "date_unixtime": "1600000099", "text": "ghost"}
    real = {"id": 5, "type": "message", "date_unixtime": "1600000005", "text": "real"}
    document = {"personal_information": {"user_id": 1}, "chats": {"list": [
        {"id": 1, "name": "A", "type": "personal_chat", "messages": {"item": ghost}},
        {"id": 2, "name": "B", "type": "personal_chat", "messages": [real]}]}}
    parsed = parse_files(_write(tmp_path / "full", document))
    assert [(m.conversation_id, m.source_table, m.source_row_id, m.body) for m in parsed.messages] == [
        ("2", "chats.list[1].messages", 1, "real")]
    assert [(w.kind, w.message) for w in parsed.warnings] == [("bad_json", "chats.list[0].messages is not a list")]
    single = parse_files(_write(tmp_path / "single", {"name": "A", "type": "personal_chat", "id": 1, "messages": {"item": ghost}}))
    assert single.messages == [] and [(w.kind, w.message) for w in single.warnings] == [("bad_json", "messages is not a list")]
    as_object = parse_files(_write(tmp_path / "object", {"personal_information": {"user_id": 1},
                                                          "chats": {"list": {"item": {"id": 3, "messages": [real]}}}}))
    assert as_object.messages == [] and [(w.kind, w.message) for w in as_object.warnings] == [
        ("bad_json", "chats.list is missing or not a list")]


def test_lone_surrogate_escapes_and_big_integers_are_kept_exactly(tmp_path: Path) -> None:
    """ijson's C backend refuses a lone low surrogate, writes '?' for a lone high one and refuses integers past 64
    bits; such files are read with the pure-Python backend, as json.load reads them, and nothing after them is lost."""
    head = '{"name": "Bob", "type": "personal_chat", "id": 1, "messages": [{"id": 1, "date_unixtime": "1600000001", "text": "first"}, '
    tail = ', {"id": 3, "date_unixtime": "1600000003", "text": "third"}]}'
    cases = {"low": ('{"id": 2, "date_unixtime": "1600000002", "text": "\\udc00 x"}', "\udc00 x"),
             "high": ('{"id": 2, "date_unixtime": "1600000002", "text": "a\\ud83d b"}', "a\ud83d b"),
             "pair": ('{"id": 2, "date_unixtime": "1600000002", "text": "\\ud83d\\ude00"}', "\U0001f600"),
             "bigint": ('{"id": 2, "date_unixtime": "1600000002", "reply_to_message_id": 18446744073709551616, "text": "big"}', "big")}
    for name, (middle, body) in cases.items():
        parsed = parse_files(_raw(tmp_path / name, (head + middle + tail).encode("ascii")))
        assert_no_warnings(parsed)
        assert [m.body for m in parsed.messages][::2] == ["first", "third"], name
        second = parsed.messages[1].body
        if name in ("low", "high"):
            assert (second.raw, str(second)) == (body.encode("utf-8", "surrogatepass"),
                                                 body.encode("utf-8", "surrogatepass").decode("utf-8", "backslashreplace")), name
        else:
            assert second == body, name
    assert parse_files(_raw(tmp_path / "b2", (head + cases["bigint"][0] + tail).encode())).messages[1].details[
        "reply_to_message_id"] == "18446744073709551616"


def test_a_value_past_the_budget_stops_the_file_at_once(tmp_path: Path, monkeypatch) -> None:
    """yajl's time on one long string grows with its square: no value may run past MAX_VALUE_BYTES without an event."""
    from parsers.chat import _telegram_export_stream as stream_json

    monkeypatch.setattr(stream_json, "MAX_VALUE_BYTES", 1 << 20)
    head = json.dumps({"name": "Bob", "type": "personal_chat", "id": 1, "messages": [SINGLE["messages"][0]]})[:-2]
    data = head.encode() + b', {"id": 2, "text": "' + b"x" * (3 << 20) + b'"}]}'
    parsed = parse_files(_raw(tmp_path, data))
    assert [m.source_row_id for m in parsed.messages] == [1]
    assert [(w.kind, w.severity, w.table, w.row_id) for w in parsed.warnings] == [("bad_json", "error", "messages", 2)]
    assert f"no JSON value ended within {1 << 20} bytes" in parsed.warnings[0].message


def test_both_paths_give_chats_before_left_chats_whatever_the_file_order(tmp_path: Path, monkeypatch) -> None:
    from parsers.chat import _telegram_export_stream as stream_json

    document = {"personal_information": {"user_id": 1001}, "left_chats": {"list": [dict(SINGLE, id=9)]}, "chats": {"list": [SINGLE]}}
    sound = parse_files(_write(tmp_path / "sound", document))
    real_survey = stream_json.survey
    monkeypatch.setattr(stream_json, "survey", lambda path: dataclasses.replace(real_survey(path), sound=False))
    careful = parse_files(_write(tmp_path / "careful", document))
    assert careful.messages == sound.messages
    assert [m.source_table for m in sound.messages] == ["chats.list[0].messages"] * 6 + ["left_chats.list[0].messages"] * 6
