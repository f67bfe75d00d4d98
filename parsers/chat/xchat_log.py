"""XChat / HexChat IRC text logs (`~/.xchat2/xchatlogs/<network>-<channel>.log`, `hexchat/logs/...`).

Format facts (xchat.org / hexchat.github.io documentation of logging and text events, and plaso's
`parsers/xchatlog.py` docstring, read for facts only; the corpus sample plaso/test_data/xchat.log):
- A logging session starts with `**** BEGIN LOGGING AT <ctime>` and ends with `**** END LOGGING AT
  <ctime>`; <ctime> is C's `Www Mmm dd HH:MM:SS YYYY` (English day and month names). Those words
  are translated with the client's language (`**** INIZIO DEL LOG ...` / `**** FINE DEL LOG ...`)
  while the ctime stays English.
- Each line is `<stamp> <event>`; the default stamp is strftime `%b %d %H:%M:%S` (month name, day,
  time, no year: the year is only in the session header) in the client's local time, no offset.
- Events: `<nick> text` is a channel message, `-nick- text` a notice; `-->` (joins, "You are now
  talking on"), `<--` (parts, quits), `---` (topics, modes, nick changes) and `*` lines are client
  or server events. `*` also marks /me actions; a line cannot tell an action from an event, so `*`
  lines are kept as system lines. A line with no marker after the stamp continues an event
  (`Topic for #x set by ...`).

Decisions:
- Every stamped line is a Message: `<nick>` and `-nick-` lines kind "text" with sender Participant(None, nick)
  (IRC gives no stable id), all other lines kind "system" with no sender; details["line_type"] says
  which (message, notice, join, part, info, action_or_event, continuation). Session headers and blank
  lines are not messages. Leading whitespace before the stamp is tolerated.
- Body: the text after the `<nick>`/`-nick-` marker and one separating space or tab, exactly as
  stored; for system lines the whole text after the stamp (marker included).
- The year is the one of the latest session header (any language: its ctime is read); a line whose
  month is before the header's month is in the next year (a session crossing New Year). Lines before
  any header have no year: no local time, one `year_unknown` warning.
- Times are local: `sent` is None, `sent_raw` the stamp as written, details["local_time"] the ISO local
  time, one `local_time_unknown_offset` warning per file; the key `xchat_log_utc_offset` (e.g.
  `--app-key xchat_log_utc_offset=+01:00`) makes `sent` UTC (recorded in details["utc_offset_supplied"]).
- Month names are read in English only; an unknown month or impossible time (`39:95:90`) is a
  `bad_time` warning and the line is kept without a local time.
- source_table "lines", source_row_id = the 1-based line number; conversation_id = the log's path;
  the title is the channel from `<network>-<channel>.log` (XChat's default log name) or the file name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Iterator

from manifests.records import Message, Participant, UndecodedText, decode_text
from parsers.artefact import Artefact
from parsers.chat.base import FileChatParser, ParseContext

TABLE = "lines"
OFFSET_KEY = "xchat_log_utc_offset"
BEGIN = b"**** BEGIN LOGGING AT "
# strftime's %b in the C locale (calendar.month_abbr would follow the machine's locale).
MONTHS = {name: number for number, name in enumerate(
    ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), start=1)}
CTIME = r"(?P<weekday>[A-Za-z]{3}) (?P<month>[A-Za-z]{3}) +(?P<day>\d{1,2}) (?P<time>\d{1,2}:\d{2}:\d{2}) (?P<year>\d{4})"
HEADER = re.compile(r"^\*\*\*\* (?P<words>.*?) " + CTIME + r"\s*$")
LINE = re.compile(r"^\s*(?P<stamp>(?P<month>[^\W\d_]{3,}\.?) +(?P<day>\d{1,2}) (?P<time>\d{1,2}:\d{2}:\d{2}))[ \t]?(?P<rest>.*)$")
NICK = re.compile(r"^\s*<(?P<nick>[^<>\s]+)>(?:[ \t](?P<text>.*))?$", re.DOTALL)
NOTICE = re.compile(r"^\s*-(?P<nick>[^\s-][^\s]*?)-(?:[ \t](?P<text>.*))?$", re.DOTALL)
EVENTS = (("-->", "join"), ("<--", "part"), ("---", "info"), ("*", "action_or_event"))
LINES = re.compile(rb"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$")


@dataclass
class Session:
    """The header a line falls under: its words (BEGIN LOGGING AT / a translation) and its ctime."""

    line: int
    words: str
    year: int
    month: int
    raw: str


@dataclass
class Line:
    """A stamped line (ParseContext.each names a bad one by its `number`)."""

    number: int
    stamp: str
    month: str
    day: int
    time: str
    rest: str
    session: Session | None



class XChatLog(FileChatParser):
    name = "xchat_log"
    version = "1"
    app = "XChat (IRC)"
    platform = "desktop"
    paths = ("*xchat*/xchatlogs/*.log", "*/x-chat 2/xchatlogs/*.log", "*/hexchat/logs/*.log")

    def recognises(self, path: str, head: bytes) -> bool:
        return self.path_matches(path) or head.removeprefix(b"\xef\xbb\xbf").startswith(BEGIN)

    def parse(self, artefact: Artefact, context: ParseContext) -> Iterator[Message]:
        target = context.scratch / "irc.log"
        artefact.copy_to(target)
        lines = _lines(target.read_bytes().removeprefix(b"\xef\xbb\xbf"), context)
        if not lines:
            context.warn("no_messages", f"{artefact.path}: no line starts with an XChat time stamp", table=TABLE, severity="error")
            return
        if any(line.session is None for line in lines):
            context.warn("year_unknown", "lines before the first session header have no year; their local time is left empty",
                         table=TABLE)
        offset = context.utc_offset(OFFSET_KEY, TABLE)
        if offset is None:
            context.warn("local_time_unknown_offset", "log times are local with no offset in the file; sent is left empty "
                         f"(supply --app-key {OFFSET_KEY}=+HH:MM to convert)", table=TABLE)
        path = artefact.path
        network, title = _names(path)
        convert = lambda line: _message(line, offset, path, network, title, context)  # noqa: E731
        yield from context.each(lines, TABLE, convert, "number")


def _lines(data: bytes, context: ParseContext) -> list[Line]:
    """Stamped lines with the session header each falls under; headers and blank lines are skipped."""
    found: list[Line] = []
    session: Session | None = None
    for number, raw in enumerate(LINES.findall(data), start=1):
        text = decode_text(raw.rstrip(b"\r\n"))
        if isinstance(text, UndecodedText):
            context.warn("bad_text", "line is not valid UTF-8; undecodable bytes are shown escaped", table=TABLE, row_id=number)
        if text.startswith("****"):
            session = _session(number, text, context) or session
            continue
        match = LINE.match(text)
        if match is not None:
            found.append(Line(number, match["stamp"], match["month"], int(match["day"]), match["time"], match["rest"], session))
        elif text.strip():
            context.warn("unparsed_line", "line has no XChat time stamp", table=TABLE, row_id=number)
    return found


def _session(number: int, text: str, context: ParseContext) -> Session | None:
    match = HEADER.match(text)
    month = MONTHS.get(match["month"].title()) if match else None
    if match is None or month is None:
        context.warn("bad_header", "a '****' line is not a session header with a date; the year is unchanged", table=TABLE,
                     row_id=number)
        return None
    return Session(number, match["words"], int(match["year"]), month, text[5:].rstrip())


def _message(line: Line, offset: int | None, path: str, network: str | None, title: str | None,
             context: ParseContext) -> Message:
    kind, line_type, nick, body = _classify(line.rest)
    details = {"line_type": line_type}
    if network:
        details["network"] = network
    if line.session is not None:
        details["session_header"] = line.session.raw
    sent = context.local_time(_local_time(line, context), offset, OFFSET_KEY, details,
                              table=TABLE, row_id=line.number, field="stamp")
    return Message(
        source_table=TABLE, source_row_id=line.number, conversation_id=path, conversation_title=title,
        sender=Participant(None, nick) if nick is not None else None, direction="unknown", sent=sent, sent_raw=line.stamp,
        body=body, kind=kind, details=details,
    )


def _classify(rest: str) -> tuple[str, str, str | None, str]:
    """(kind, line type, nick, body) of the text after the stamp."""
    for pattern, line_type in ((NICK, "message"), (NOTICE, "notice")):
        match = pattern.match(rest)
        if match is not None:
            return "text", line_type, match["nick"], match["text"] or ""
    stripped = rest.lstrip()
    for marker, line_type in EVENTS:
        if stripped.startswith(marker):
            return "system", line_type, None, rest
    return "system", "continuation", None, rest


def _local_time(line: Line, context: ParseContext) -> datetime | None:
    if line.session is None:
        return None
    month = MONTHS.get(line.month.rstrip(".").title())
    try:
        if month is None:
            raise ValueError(f"month name {line.month!r} is not an English abbreviation")
        hour, minute, second = (int(n) for n in line.time.split(":"))
        year = line.session.year + (1 if month < line.session.month else 0)  # the session crossed New Year
        return datetime(year, month, line.day, hour, minute, second)
    except ValueError as error:
        context.warn("bad_time", f"{line.stamp!r} is not a valid date and time: {error}", table=TABLE, row_id=line.number,
                     field="stamp")
        return None


def _names(path: str) -> tuple[str | None, str | None]:
    """(network, channel) from XChat's `<network>-<channel>.log` or HexChat's `<network>/<channel>.log`."""
    parts = path.replace("\\", "/").split("/")
    stem = parts[-1][:-4] if parts[-1].lower().endswith(".log") else parts[-1]
    match = re.match(r"^(?P<network>.+?)-(?P<channel>[#&+!].*)$", stem)
    if match is not None:
        return match["network"], match["channel"]
    if len(parts) >= 4 and parts[-3].lower() == "logs" and parts[-4].lower() == "hexchat":
        return parts[-2], stem or None
    return None, stem or None


PARSER = XChatLog()
