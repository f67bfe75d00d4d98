"""Facebook / Instagram "Download your information" message JSON: fixtures built here (no corpus sample).

Facts (own words; sources: jpfranci/facebook-messages-visualizer message-model.ts, ohare93/Python-Mini-Projects
MessengerFileViewer/view.py): messages/inbox/<thread>/message_1.json holds participants [{name}], title,
thread_path, thread_type, messages newest first [{sender_name, timestamp_ms, content, type, photos, videos,
share, sticker, reactions, call_duration, is_unsent ...}]; strings are UTF-8 bytes written as \\u00XX escapes.
The owner's name is in profile_information/profile_information.json (profile_v2.name.full_name).
"""

from __future__ import annotations

import json
from pathlib import Path

from manifests.records import Attachment, Message, Participant
from parsers.chat.meta_dyi_export import repair
from tests.chat.helpers import assert_no_warnings, parse_files

ROOT = b"/exports/facebook-janedoe"
THREAD = ROOT + b"/messages/inbox/johnsmith_abc123/message_1.json"


def mangle(text: str) -> str:
    """What Meta's exporter writes: each UTF-8 byte as its own code point."""
    return text.encode("utf-8").decode("latin-1")


def export() -> dict:
    return {
        "participants": [{"name": "John Smith"}, {"name": mangle("Jane Doé")}],
        "messages": [
            {"sender_name": "John Smith", "timestamp_ms": 1600000300000, "content": "You unsent a message", "is_unsent": True, "type": "Generic"},
            {"sender_name": "John Smith", "timestamp_ms": 1600000200000, "call_duration": 65, "type": "Call", "content": "The video chat ended."},
            {"sender_name": mangle("Jane Doé"), "timestamp_ms": 1600000100000, "type": "Generic",
             "photos": [{"uri": "messages/inbox/johnsmith_abc123/photos/123_456.jpg", "creation_timestamp": 1600000100}]},
            {"sender_name": "John Smith", "timestamp_ms": 1600000000000, "content": mangle("I don’t know 😀"), "type": "Generic",
             "reactions": [{"reaction": mangle("❤"), "actor": mangle("Jane Doé")}], "is_unsent": False},
        ],
        "title": "John Smith", "is_still_participant": True, "thread_type": "Regular", "thread_path": "inbox/johnsmith_abc123",
    }


def write(path: Path, data: object) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, ensure_ascii=True), encoding="ascii")  # as Meta writes: \u00XX escapes only
    return path


def test_repair_only_changes_mangled_text() -> None:
    assert repair(mangle("don’t 😀")) == "don’t 😀"
    assert repair("café") == "café"  # é alone is not UTF-8: kept as read
    assert repair("€ already fine") == "€ already fine"  # code point above U+00FF: never mangled


def test_thread_with_owner_profile(tmp_path: Path) -> None:
    thread = write(tmp_path / "message_1.json", export())
    profile = write(tmp_path / "profile_information.json", {"profile_v2": {"name": {"full_name": mangle("Jane Doé")}}})
    parsed = parse_files(thread, profile, logical={thread: THREAD, profile: ROOT + b"/profile_information/profile_information.json"})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"meta_dyi_export"}
    assert len(parsed.messages) == 4
    assert [m.kind for m in parsed.messages] == ["deleted", "call", "media", "text"]
    assert [m.direction for m in parsed.messages] == ["incoming", "incoming", "outgoing", "incoming"]
    assert parsed.time_range() == ("2020-09-13T12:26:40Z", "2020-09-13T12:31:40Z")
    assert parsed.messages[3] == Message(
        source_table="messages", source_row_id=4, conversation_id="inbox/johnsmith_abc123", conversation_title="John Smith",
        sender=Participant(None, "John Smith"), recipients=(Participant(None, "Jane Doé"),), direction="incoming",
        sent=1600000000000 * 10**6, sent_raw="1600000000000", body="I don’t know 😀", kind="text", is_deleted=False,
        details={"type": "Generic", "reactions": "Jane Doé:❤", "text_repaired": "true"},
    )
    photo = parsed.messages[2]
    assert photo.sender == Participant(None, "Jane Doé") and photo.body is None
    assert photo.attachments == (Attachment(file_name="123_456.jpg", local_path="messages/inbox/johnsmith_abc123/photos/123_456.jpg"),)
    assert parsed.messages[0].is_deleted is True and parsed.messages[1].details["call_duration"] == "65"


def test_without_profile_direction_is_unknown_and_found_by_content(tmp_path: Path) -> None:
    thread = write(tmp_path / "message_1.json", export())
    parsed = parse_files(thread, logical={thread: b"/somewhere/else/renamed.json"})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 4
    assert {m.direction for m in parsed.messages} == {"unknown"}


def test_profile_of_another_export_is_not_used(tmp_path: Path) -> None:
    thread = write(tmp_path / "message_1.json", export())
    profile = write(tmp_path / "profile_information.json", {"profile_v2": {"name": {"full_name": "John Smith"}}})
    parsed = parse_files(thread, profile, logical={thread: THREAD, profile: b"/exports/other/profile_information/profile_information.json"})
    assert {m.direction for m in parsed.messages} == {"unknown"}


def test_broken_json_and_bad_item_are_warnings(tmp_path: Path) -> None:
    broken = tmp_path / "broken" / "message_1.json"
    broken.parent.mkdir()
    broken.write_bytes(b'{"participants": [{"name": "A"}], "messages": [{"sender_name": "A", ')
    parsed = parse_files(broken, logical={broken: THREAD})
    assert parsed.messages == []
    assert [(w.kind, w.severity) for w in parsed.warnings] == [("bad_json", "error")]
    data = export()
    data["messages"].insert(1, "not an object")
    data["messages"][0]["timestamp_ms"] = 99999999999999999
    thread = write(tmp_path / "message_1.json", data)
    parsed = parse_files(thread, logical={thread: THREAD})
    assert len(parsed.messages) == 4
    assert [(w.kind, w.row_id) for w in parsed.warnings] == [("bad_time", 1), ("bad_row", 2)]
    assert parsed.messages[0].sent is None and parsed.messages[0].sent_raw == "99999999999999999"


def test_instagram_export_path_and_unexpected_shape(tmp_path: Path) -> None:
    thread = write(tmp_path / "ig" / "message_1.json", export())
    logical = b"/exports/instagram-pal/your_instagram_activity/messages/inbox/johnsmith_abc123/message_1.json"
    parsed = parse_files(thread, logical={thread: logical})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 4 and parsed.messages[3].body == "I don’t know 😀"
    other = write(tmp_path / "other" / "message_1.json", {"participants": [], "thread_path": "inbox/x", "note": "no messages"})
    parsed = parse_files(other, logical={other: THREAD})
    assert parsed.messages == []
    assert [(w.kind, w.severity) for w in parsed.warnings] == [("bad_json", "error")]
