"""WhatsApp "Export chat" text files: Android and iOS line shapes, date order, offsets, attachments.

No corpus sample exists; fixtures are written here in the shapes the apps write (facts and sources
in parsers/chat/whatsapp_export.py: WhatsApp FAQ "How to export your chat history" and public
sample exports). Times are local: `sent` stays None with one `local_time_unknown_offset` warning
unless the examiner supplies `whatsapp_export_utc_offset`.
"""

from __future__ import annotations

from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import assert_no_warnings, parse_files

NO_OFFSET = ("local_time_unknown_offset",)

ANDROID_US = (
    "1/14/21, 9:05\u202fPM - Messages and calls are end-to-end encrypted. No one outside of this chat, not even WhatsApp, can read or listen to them.\n"
    "1/14/21, 9:06\u202fPM - Ana: Hi Bo\n"
    "1/14/21, 9:07\u202fPM - Bo: two lines:\n"
    "  second line: indented \n"
    "1/14/21, 9:08\u202fPM - Ana: IMG-20210114-WA0003.jpg (file attached)\n"
    "the beach\n"
    "1/14/21, 9:09\u202fPM - Bo: <Media omitted>\n"
    "1/14/21, 9:10\u202fPM - Ana: location: https://maps.google.com/?q=47.3769,8.5417\n"
    "1/14/21, 9:11\u202fPM - Bo: This message was deleted\n"
    "1/15/21, 12:01\u202fAM - Ana: late <This message was edited>\n"
)

IOS_DE = (
    "[01.03.2021, 10:00:00] Familie: \u200eNachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt.\r\n"
    "[01.03.2021, 10:00:05] Ana: Hallo\r\n"
    "\u200e[01.03.2021, 10:01:00] Ana: \u200e<attached: 00000012-PHOTO-2021-03-01-10-01-00.jpg>\r\n"
    "[13.03.2021, 08:30:00] Bo: Guten Morgen\r\n"
    "zweite Zeile\r\n"
    "[13.03.2021, 08:31:00] Bo: \u200eimage omitted\r\n"
)


def _export(tmp_path: Path, name: str, text: str, logical: bytes, keys: dict[str, str] | None = None):
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return parse_files(path, logical={path: logical}, keys=keys)


def test_android_us_export(tmp_path: Path) -> None:
    logical = b"/sdcard/Download/WhatsApp Chat with Ana.txt"
    parsed = _export(tmp_path, "WhatsApp Chat with Ana.txt", ANDROID_US, logical)
    assert_no_warnings(parsed, allowed=NO_OFFSET)
    assert [w.kind for w in parsed.warnings] == ["local_time_unknown_offset"]
    assert parsed.parser_names() == {"whatsapp_export"}
    assert [m.source_row_id for m in parsed.messages] == [1, 2, 3, 5, 7, 8, 9, 10]
    assert [m.kind for m in parsed.messages] == ["system", "text", "text", "media", "media", "location", "deleted", "text"]
    media = parsed.messages[3]
    assert media == Message(
        source_table="messages", source_row_id=5, conversation_id="/sdcard/Download/WhatsApp Chat with Ana.txt",
        conversation_title="Ana", sender=Participant(None, "Ana"), direction="unknown", sent=None,
        sent_raw="1/14/21, 9:08\u202fPM", body="IMG-20210114-WA0003.jpg (file attached)\nthe beach", kind="media",
        attachments=(Attachment(file_name="IMG-20210114-WA0003.jpg", local_path="/sdcard/Download/IMG-20210114-WA0003.jpg"),),
        details={"format": "android", "date_order": "MDY (a second number above 12)", "local_time": "2021-01-14T21:08:00"},
    )
    assert parsed.messages[2].body == "two lines:\n  second line: indented "  # kept exactly, inner ': ' too
    assert parsed.messages[0].sender is None
    assert parsed.messages[4].details["media_omitted"] == "true"
    assert (parsed.messages[5].latitude, parsed.messages[5].longitude) == (47.3769, 8.5417)
    assert parsed.messages[6].is_deleted is True
    assert (parsed.messages[7].details["local_time"], parsed.messages[7].is_edited) == ("2021-01-15T00:01:00", True)


def test_ios_german_export_with_offset_key(tmp_path: Path) -> None:
    folder = tmp_path / "WhatsApp Chat - Familie"
    folder.mkdir()
    logical = b"/Users/x/Downloads/WhatsApp Chat - Familie/_chat.txt"
    parsed = _export(folder, "_chat.txt", IOS_DE, logical, keys={"whatsapp_export_utc_offset": "+01:00"})
    assert_no_warnings(parsed)
    assert [m.kind for m in parsed.messages] == ["system", "text", "media", "text", "media"]
    system, _, photo, morning, omitted = parsed.messages
    assert system.sender is None and system.details["name_in_line"] == "Familie"
    assert photo == Message(
        source_table="messages", source_row_id=3, conversation_id=logical.decode(), conversation_title="Familie",
        sender=Participant(None, "Ana"), direction="unknown", sent=1614589260 * 10**9, sent_raw="01.03.2021, 10:01:00",
        body="\u200e<attached: 00000012-PHOTO-2021-03-01-10-01-00.jpg>", kind="media",
        attachments=(Attachment(file_name="00000012-PHOTO-2021-03-01-10-01-00.jpg",
                                local_path="/Users/x/Downloads/WhatsApp Chat - Familie/00000012-PHOTO-2021-03-01-10-01-00.jpg"),),
        details={"format": "ios", "date_order": "DMY (a first number above 12)", "local_time": "2021-03-01T10:01:00",
                 "utc_offset_supplied": "+01:00"},
    )
    assert morning.body == "Guten Morgen\r\nzweite Zeile"  # CRLF inside a message kept as stored
    assert parsed.time_range() == ("2021-03-01T09:00:00Z", "2021-03-13T07:31:00Z")
    assert omitted.details["media_omitted"] == "true"


def test_date_order_from_chronology_and_still_ambiguous(tmp_path: Path) -> None:
    # 03/04 then 04/04: day first keeps time order (3 Apr, 4 Apr); month first would go Mar 4 -> Apr 4 too,
    # so add 05/03: DMY = 3 Apr, 4 Apr, 5 Mar (one step back); MDY = Mar 4, Apr 4, May 3 (in order).
    text = "03/04/2021, 10:00 - Ana: a\n04/04/2021, 10:00 - Ana: b\n05/03/2021, 10:00 - Ana: c\n"
    parsed = _export(tmp_path, "WhatsApp Chat with Ana.txt", text, b"/x/WhatsApp Chat with Ana.txt")
    assert_no_warnings(parsed, allowed=NO_OFFSET)
    assert [m.details["local_time"][:10] for m in parsed.messages] == ["2021-03-04", "2021-04-04", "2021-05-03"]
    single = _export(tmp_path, "WhatsApp Chat with Bo.txt", "03/04/2021, 10:00 - Bo: only\n", b"/x/WhatsApp Chat with Bo.txt")
    assert [w.kind for w in single.warnings] == ["date_order_ambiguous", "local_time_unknown_offset"]
    assert single.messages[0].details["date_order"] == "DMY (assumed)"


def test_bad_date_is_a_warning_and_message_stays(tmp_path: Path) -> None:
    text = "31/12/2020, 23:59 - Ana: ok\n31/02/2021, 10:00 - Ana: no such day\n"
    parsed = _export(tmp_path, "WhatsApp Chat with Ana.txt", text, b"/x/WhatsApp Chat with Ana.txt")
    assert [(w.kind, w.row_id) for w in parsed.warnings] == [("local_time_unknown_offset", None), ("bad_time", 2)]
    assert [m.body for m in parsed.messages] == ["ok", "no such day"]
    assert "local_time" not in parsed.messages[1].details


def test_other_text_files_are_not_exports(tmp_path: Path) -> None:
    parsed = _export(tmp_path, "notes.txt", "shopping: milk\n2021 was a year\n", b"/x/notes.txt")
    assert parsed.messages == [] and parsed.warnings == []
