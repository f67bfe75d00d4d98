"""XChat / HexChat IRC logs: plaso's sample test_data/xchat.log and fixtures in the documented shape.

Facts (own words; sources: xchat.org / HexChat docs on logging, plaso `parsers/xchatlog.py` docstring,
and the corpus file): sessions open with `**** BEGIN LOGGING AT <ctime>` (words translated with the
client language, ctime English), lines are `<%b %d %H:%M:%S> <event>` in local time with no year;
`<nick> text` = message, `-nick- text` = notice, `-->`/`<--`/`---`/`*` = events.

The corpus file has 22 lines (CRLF): 4 session headers (BEGIN, END, Italian INIZIO, FINE), 6 blank,
6 nick lines (messages: fpi, STRANGER (UTF-8 '日本'), fpi with the impossible time 39:95:90, fpi,
Kristinn, empty_text with no text) and 6 system lines (a join `-->`, a topic `---`, the topic's
"set by" continuation, a voice mode `---`, and two `*` lines). 12 Messages: 6 text + 6 system.
CHATS.tsv has no row for this file. Times are local: `sent` stays None with one
`local_time_unknown_offset` warning unless `xchat_log_utc_offset` is supplied.
"""

from __future__ import annotations

from pathlib import Path

from manifests.records import Message, Participant
from parsers.chat.registry import file_parsers
from tests.chat.helpers import corpus_file, parse_files

SAMPLE = "log2timeline__plaso/test_data/xchat.log"
LOGICAL = b"/home/u/.xchat2/xchatlogs/FreeNode-#gugle.log"
HEADER = "BEGIN LOGGING AT Mon Dec 31 21:11:55 2011"


def _corpus(keys: dict[str, str] | None = None, logical: bytes | None = LOGICAL):
    path = corpus_file(SAMPLE)
    return parse_files(path, logical={path: logical} if logical else None, keys=keys)


def test_corpus_counts_kinds_and_golden_record() -> None:
    parsed = _corpus()
    assert parsed.parser_names() == {"xchat_log"}
    assert [(w.kind, w.row_id) for w in parsed.warnings] == [("local_time_unknown_offset", None), ("bad_time", 10)]
    assert len(parsed.messages) == 12
    assert [m.source_row_id for m in parsed.messages] == [3, 4, 5, 6, 7, 8, 9, 10, 16, 17, 18, 19]
    kinds = [m.kind for m in parsed.messages]
    assert (kinds.count("text"), kinds.count("system")) == (6, 6)
    assert [m.details["line_type"] for m in parsed.messages if m.kind == "system"] == [
        "join", "info", "continuation", "info", "action_or_event", "action_or_event"]
    assert [m.sender.name for m in parsed.messages if m.kind == "text"] == ["fpi", "STRANGER", "fpi", "fpi", "Kristinn", "empty_text"]
    assert all(m.sent is None for m in parsed.messages)
    assert parsed.messages[6] == Message(
        source_table="lines", source_row_id=9, conversation_id=LOGICAL.decode(), conversation_title="#gugle",
        sender=Participant(None, "STRANGER"), direction="unknown", sent=None, sent_raw="dec 31 23:00:00", body="日本",
        kind="text", details={"line_type": "message", "network": "FreeNode", "session_header": HEADER,
                              "local_time": "2011-12-31T23:00:00"},
    )
    system = parsed.messages[0]
    assert (system.sender, system.body) == (None, "--> You are now talking on #gugle")
    bad = parsed.messages[7]
    assert (bad.sent_raw, bad.body, "local_time" in bad.details) == ("dec 31 39:95:90", "uh oh wronggg date!", False)
    italian = parsed.messages[9]  # year from the translated header's (English) ctime
    assert (italian.body, italian.details["local_time"], italian.details["session_header"]) == (
        "ciao plaso! Com'è?!", "2012-02-26T19:53:01", "INIZIO DEL LOG Sun Feb 26 19:52:46 2012")
    assert parsed.messages[10].body == "ftw (it :p)?" and parsed.messages[11].body == ""


def test_corpus_with_offset_key_gives_utc() -> None:
    parsed = _corpus(keys={"xchat_log_utc_offset": "+01:00"})
    assert [(w.kind, w.row_id) for w in parsed.warnings] == [("bad_time", 10)]
    assert parsed.time_range() == ("2011-12-31T20:11:55Z", "2012-02-26T18:56:01Z")
    assert parsed.messages[5].sent == 1325362318 * 10**9  # 2011-12-31 21:11:58 at +01:00
    assert parsed.messages[5].details["utc_offset_supplied"] == "+01:00"


def test_recognised_by_content_at_any_path() -> None:
    parsed = _corpus(logical=None)  # host path .../test_data/xchat.log: the BEGIN LOGGING head decides
    assert len(parsed.messages) == 12
    assert parsed.messages[0].conversation_title == "xchat"


HEXCHAT = (
    "Dec 31 23:59:50 <ana> before the header\n"
    "**** BEGIN LOGGING AT Sat Dec 31 23:59:00 2022\n"
    "Dec 31 23:59:58 <ana>\tlast of the year\n"
    "Jan 01 00:00:02 -NickServ- You are now identified\n"
    "Jan 01 00:00:05 <--\tbo has quit (Quit: bye)\n"
    "Foo 01 00:00:06 <ana> odd month\n"
    "not a log line\n"
)


def test_hexchat_fixture_new_year_notice_and_year_unknown(tmp_path: Path) -> None:
    path = tmp_path / "#chan.log"
    path.write_bytes(HEXCHAT.encode())
    parsed = parse_files(path, logical={path: b"/home/u/.config/hexchat/logs/libera/#chan.log"})
    assert [(w.kind, w.row_id) for w in parsed.warnings] == [
        ("unparsed_line", 7), ("year_unknown", None), ("local_time_unknown_offset", None), ("bad_time", 6)]
    assert [m.source_row_id for m in parsed.messages] == [1, 3, 4, 5, 6]
    first, last_of_year, notice, quit_line, odd = parsed.messages
    assert "local_time" not in first.details and "session_header" not in first.details
    assert (last_of_year.body, last_of_year.details["local_time"]) == ("last of the year", "2022-12-31T23:59:58")
    assert (notice.kind, notice.sender, notice.details["line_type"], notice.details["local_time"]) == (
        "text", Participant(None, "NickServ"), "notice", "2023-01-01T00:00:02")
    assert (quit_line.kind, quit_line.body, quit_line.details["line_type"]) == ("system", "<--\tbo has quit (Quit: bye)", "part")
    assert (notice.conversation_title, notice.details["network"]) == ("#chan", "libera")
    assert odd.body == "odd month" and "local_time" not in odd.details


def test_garbage_at_xchat_path_is_a_warning_and_other_logs_are_ignored(tmp_path: Path) -> None:
    path = tmp_path / "FreeNode-#x.log"
    path.write_bytes(b"\x00\x01 truncated")
    parsed = parse_files(path, logical={path: b"/home/u/.xchat2/xchatlogs/FreeNode-#x.log"})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["unparsed_line", "no_messages"]
    parser = next(p for p in file_parsers() if p.name == "xchat_log")
    assert not parser.recognises("/var/log/syslog.log", b"Dec 31 23:59:50 host kernel: x\n")
    assert parser.recognises("/tmp/x.txt", b"**** BEGIN LOGGING AT Sat Dec 31 23:59:00 2022\n")
