"""WhatsApp "Export chat" text files: Android and iOS line shapes, date order, offsets, attachments.

No corpus sample exists; fixtures are written here in the shapes the apps write (facts and sources
in parsers/chat/whatsapp_export.py: WhatsApp FAQ "How to export your chat history" and public
sample exports). Times are local: `sent` stays None with one `local_time_unknown_offset` warning
unless the examiner supplies `whatsapp_export_utc_offset`.
"""

from __future__ import annotations

from pathlib import Path

from manifests.records import Attachment, Message, Participant, UndecodedText
from parsers.chat import whatsapp_export
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


def _ambiguous_first(settling: str) -> str:
    """Two ambiguous dates, then (much later, past the first message) one that settles the order."""
    return ("03/04/23, 9:15\u202fAM - Ana: early, ambiguous\n"
            "03/04/23, 9:16\u202fAM - Bo: still ambiguous\n"
            "continued on a second line\n"
            f"{settling}, 11:30\u202fPM - Ana: settles it\n")


def test_a_later_month_first_line_settles_every_line(tmp_path: Path) -> None:
    parsed = _export(tmp_path, "WhatsApp Chat with Ana.txt", _ambiguous_first("12/25/23"), b"/x/WhatsApp Chat with Ana.txt")
    assert [w.kind for w in parsed.warnings] == ["local_time_unknown_offset"]
    assert parsed.messages[0] == Message(
        source_table="messages", source_row_id=1, conversation_id="/x/WhatsApp Chat with Ana.txt", conversation_title="Ana",
        sender=Participant(None, "Ana"), direction="unknown", sent=None, sent_raw="03/04/23, 9:15\u202fAM", body="early, ambiguous",
        kind="text", details={"format": "android", "date_order": "MDY (a second number above 12)", "local_time": "2023-03-04T09:15:00"},
    )
    assert [(m.source_row_id, m.details["local_time"], m.body) for m in parsed.messages] == [
        (1, "2023-03-04T09:15:00", "early, ambiguous"), (2, "2023-03-04T09:16:00", "still ambiguous\ncontinued on a second line"),
        (4, "2023-12-25T23:30:00", "settles it")]


def test_a_later_day_first_line_settles_every_line(tmp_path: Path) -> None:
    parsed = _export(tmp_path, "WhatsApp Chat with Ana.txt", _ambiguous_first("25/12/23"), b"/x/WhatsApp Chat with Ana.txt",
                     keys={"whatsapp_export_utc_offset": "+02:00"})
    assert_no_warnings(parsed)
    assert [(m.details["date_order"], m.details["local_time"], m.sent) for m in parsed.messages] == [
        ("DMY (a first number above 12)", "2023-04-03T09:15:00", 1680506100 * 10**9),
        ("DMY (a first number above 12)", "2023-04-03T09:16:00", 1680506160 * 10**9),
        ("DMY (a first number above 12)", "2023-12-25T23:30:00", 1703539800 * 10**9)]


def test_nothing_settles_the_order_is_a_warning_naming_the_assumption(tmp_path: Path) -> None:
    # (first, second) = (1,2) (2,1) (1,3) (2,2) (1,1): day first has 3 steps back in time, month first 2;
    # neither keeps the file in order, so chronology does not decide either.
    text = "".join(f"{a:02d}/{b:02d}/2022, 10:00 - Ana: m{n}\n" for n, (a, b) in enumerate([(1, 2), (2, 1), (1, 3), (2, 2), (1, 1)]))
    parsed = _export(tmp_path, "WhatsApp Chat with Ana.txt", text, b"/x/WhatsApp Chat with Ana.txt")
    assert [(w.kind, w.message, w.table, w.row_id) for w in parsed.warnings[:1]] == [(
        "date_order_ambiguous", "day/month order cannot be told from this file (no date has a number above 12 in either place, "
        "5 dated lines); day first (D/M/Y) is assumed for every line", "messages", None)]
    assert [w.kind for w in parsed.warnings] == ["date_order_ambiguous", "local_time_unknown_offset"]
    assert [(m.details["date_order"], m.details["local_time"]) for m in parsed.messages] == [
        ("DMY (assumed)", "2022-02-01T10:00:00"), ("DMY (assumed)", "2022-01-02T10:00:00"), ("DMY (assumed)", "2022-03-01T10:00:00"),
        ("DMY (assumed)", "2022-02-02T10:00:00"), ("DMY (assumed)", "2022-01-01T10:00:00")]


def test_both_orders_in_one_file_is_a_conflict(tmp_path: Path) -> None:
    text = "01/02/23, 10:00 - Ana: a\n25/12/23, 10:00 - Ana: day first\n12/26/23, 10:00 - Bo: month first\n"
    parsed = _export(tmp_path, "WhatsApp Chat with Ana.txt", text, b"/x/WhatsApp Chat with Ana.txt")
    assert [(w.kind, w.message, w.row_id) for w in parsed.warnings] == [
        ("date_order_conflict", "line 2 can only be day/month/year and line 3 only month/day/year; day first (D/M/Y) is assumed "
         "for every line", None),
        ("local_time_unknown_offset", "export times are local with no offset in the file; sent is left empty "
         "(supply --app-key whatsapp_export_utc_offset=+HH:MM to convert)", None),
        ("bad_time", "'12/26/23, 10:00' is not a valid DMY date and time: month must be in 1..12", 3)]
    assert [m.details.get("local_time") for m in parsed.messages] == ["2023-02-01T10:00:00", "2023-12-25T10:00:00", None]


def test_undecodable_bytes_are_kept_exactly_per_message(tmp_path: Path) -> None:
    path = tmp_path / "WhatsApp Chat with Ana.txt"
    path.write_bytes(b"\xef\xbb\xbf25/12/23, 10:00 - Ana: fine\n25/12/23, 10:01 - Ana: bad \xff\xfe byte\r\n25/12/23, 10:02 - Bo: caf\xc3\xa9")
    parsed = parse_files(path)
    assert [(w.kind, w.row_id) for w in parsed.warnings] == [("local_time_unknown_offset", None), ("bad_text", 2)]
    fine, bad, last = parsed.messages
    assert (type(fine.body), fine.body) == (str, "fine")
    assert isinstance(bad.body, UndecodedText) and bad.body.raw == b"bad \xff\xfe byte" and bad.body == "bad \\xff\\xfe byte"
    assert (bad.sender, last.body, last.details["local_time"]) == (Participant(None, "Ana"), "café", "2023-12-25T10:02:00")


def test_lines_read_in_pieces_give_the_same_messages(tmp_path: Path, monkeypatch) -> None:
    long_line = "x" * 700
    text = ANDROID_US.replace("the beach\n", f"the beach {long_line}\r\n{long_line}\r") + (
        f"1/15/21, 12:02\u202fAM - Bo: {long_line}\n" + "y" * 299 + "\r\n" + "z\n"  # 299 + \r fill a 300-byte piece exactly
        "1/15/21, 12:03\u202fAM - Ana: after\n")
    whole = _export(tmp_path, "WhatsApp Chat with Ana.txt", text, b"/x/WhatsApp Chat with Ana.txt")
    monkeypatch.setattr(whatsapp_export, "MAX_PIECE", 300)  # above HEAD_BYTES (256): a stamp is always in a line's first piece
    pieces = parse_files(tmp_path / "WhatsApp Chat with Ana.txt", logical={tmp_path / "WhatsApp Chat with Ana.txt": b"/x/WhatsApp Chat with Ana.txt"})
    assert pieces.messages == whole.messages and len(whole.messages) == 10
    assert whole.messages[3].body == f"IMG-20210114-WA0003.jpg (file attached)\nthe beach {long_line}\r\n{long_line}"
    assert whole.messages[8].body == f"{long_line}\n" + "y" * 299 + "\r\nz"
    assert [m.source_row_id for m in whole.messages] == [1, 2, 3, 5, 8, 9, 10, 11, 12, 15]


def test_a_message_past_its_bound_is_cut_with_a_warning(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(whatsapp_export, "MAX_MESSAGE_BYTES", 40)
    text = "25/12/23, 10:00 - Ana: " + "a" * 30 + "\n" + "b" * 20 + "\n" + "c\n" + "25/12/23, 10:01 - Bo: next\n"
    parsed = _export(tmp_path, "WhatsApp Chat with Ana.txt", text, b"/x/WhatsApp Chat with Ana.txt")
    assert [(w.kind, w.message, w.row_id) for w in parsed.warnings] == [
        ("local_time_unknown_offset", parsed.warnings[0].message, None),
        ("message_too_long", "the message at line 1 is longer than 40 bytes; its last 23 bytes are left out", 1)]
    assert [m.body for m in parsed.messages] == ["a" * 30, "next"]


def test_hostile_exports_cost_only_themselves(tmp_path: Path) -> None:
    # Truncated mid-stamp, CR-only line ends, a NUL and control bytes, a 1-digit year: no traceback, exact rows.
    path = tmp_path / "WhatsApp Chat with Ana.txt"
    path.write_bytes(b"25/12/23, 10:00 - Ana: one\rtwo\x00\x1b[0m\r25/12/23, 10:01 - Bo: \r25/12/2")
    parsed = parse_files(path)
    assert [(m.source_row_id, m.body) for m in parsed.messages] == [(1, "one\rtwo\x00\x1b[0m"), (3, "\r25/12/2")]  # a cut stamp continues
    assert [w.kind for w in parsed.warnings] == ["local_time_unknown_offset"]
    empty = tmp_path / "_chat.txt"
    empty.write_bytes(b"[25/12/23, 10:00:00] ")
    cut = parse_files(empty)  # the file ends right after a stamp: one empty system line, nothing invented
    assert [(m.kind, m.body, m.sender, m.details["local_time"]) for m in cut.messages] == [("system", "", None, "2023-12-25T10:00:00")]


def test_ios_pitfalls_deleted_notice_without_mark_and_finnish_klo(tmp_path: Path) -> None:
    text = ("[1.1.2019, 12.00.00] Jane Doe: Messages to this chat and calls are now secured with end-to-end encryption.\n"
            "[13.3.2022 klo 14.08.18] Jane Doe: \u200eThis message was deleted.\n"
            "[13.3.2022 klo 14.09.00] Matti: You deleted this message\n"
            "[13.3.2022 klo 14.10.00] Matti: \u200eMessages and calls are end-to-end encrypted. Tap to learn more.\n"
            "[13.3.2022 klo 14.11.00] Matti: my text says This message was deleted.\n")
    parsed = _export(tmp_path, "WhatsApp Chat with Jane.txt", text, b"/x/WhatsApp Chat with Jane.txt")
    assert_no_warnings(parsed, allowed=NO_OFFSET)
    assert [(m.kind, m.sender, m.is_deleted) for m in parsed.messages] == [
        ("system", None, None), ("deleted", Participant(None, "Jane Doe"), True), ("deleted", Participant(None, "Matti"), True),
        ("system", None, None), ("text", Participant(None, "Matti"), None)]
    assert parsed.messages[1] == Message(
        source_table="messages", source_row_id=2, conversation_id="/x/WhatsApp Chat with Jane.txt", conversation_title="Jane",
        sender=Participant(None, "Jane Doe"), direction="unknown", sent=None, sent_raw="13.3.2022 klo 14.08.18",
        body="\u200eThis message was deleted.", kind="deleted", is_deleted=True,
        details={"format": "ios", "date_order": "DMY (a first number above 12)", "local_time": "2022-03-13T14:08:18"},
    )
    assert parsed.messages[0].details["name_in_line"] == "Jane Doe"


def test_a_mark_before_an_android_attachment_is_no_part_of_its_name(tmp_path: Path) -> None:
    text = "25/12/23, 10:00 - Ana: \u200eIMG-20231225-WA0001.jpg (file attached)\n"
    parsed = _export(tmp_path, "WhatsApp Chat with Ana.txt", text, b"/sdcard/WhatsApp Chat with Ana.txt")
    assert [(m.kind, m.body, m.attachments) for m in parsed.messages] == [("media", "\u200eIMG-20231225-WA0001.jpg (file attached)", (
        Attachment(file_name="IMG-20231225-WA0001.jpg", local_path="/sdcard/IMG-20231225-WA0001.jpg"),))]
