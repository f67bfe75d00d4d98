"""WhatsApp "Export chat" text files (`WhatsApp Chat with NAME.txt`, iOS `_chat.txt`).

Format facts (WhatsApp FAQ "How to export your chat history", faq.whatsapp.com; the line shapes as
written by the apps, seen in public sample exports):
- Android: `DATE, TIME - NAME: TEXT`; system lines have no `NAME: ` (`DATE, TIME - Messages and
  calls are end-to-end encrypted...`). Attachments: `IMG-20210301-WA0001.jpg (file attached)`, or
  `<Media omitted>` when exported without media.
- iOS: `[DATE, TIME] NAME: TEXT`; the text of attachments and system lines starts with U+200E (LEFT-TO-RIGHT
  MARK): `<attached: 00000012-PHOTO-2021-03-01-10-00-00.jpg>`, `image omitted`, or an event such
  as `Messages and calls are end-to-end encrypted.` (iOS puts the chat's name as its "sender").
- A message continues on the following lines until the next line that starts with a time stamp.
- Locations: `location: https://maps.google.com/?q=LAT,LON`; deleted: `This message was deleted`.

Supported time stamps: date `D/M/Y`, `M/D/Y` or `Y-M-D`, separators `/`, `.` or `-`, two- or
four-digit years; time `H:MM` or `H:MM:SS` (also with `.`), 24-hour or 12-hour with AM/PM
(`AM`, `am`, `a.m.`, `a. m.`, after a space, no-break space or U+202F). Localised words for
"file attached"/"omitted" are not recognised except English (attachments are still found by the
`<attached: ...>` form on iOS).

Decisions:
- Day/month order is decided for the whole file: a first number above 12 means day first, a second
  above 12 month first; when neither occurs, the order that keeps the messages chronological wins;
  when that also ties (or both occur), day first is assumed and a `date_order_ambiguous` warning says
  so. details["date_order"] records the basis.
- Times are the exporting phone's local time with no offset in the file. `sent` must be UTC, so it
  is left None, `sent_raw` holds the stamp exactly as written and details["local_time"] the ISO
  local time, with one `local_time_unknown_offset` warning per file. When the examiner knows the
  offset, the key `whatsapp_export_utc_offset` (e.g. `--app-key whatsapp_export_utc_offset=+02:00`)
  makes `sent` UTC and suppresses that warning.
- The export names people only by display name (or number): sender = Participant(None, name).
  Direction is unknown (the file does not say which name is the owner's).
- source_table "messages", source_row_id = the 1-based line number where the message starts.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterator

from manifests.records import Attachment, Message, Participant, UndecodedText, decode_text
from parsers.artefact import Artefact
from parsers.chat.base import FileChatParser, ParseContext

TABLE = "messages"
OFFSET_KEY = "whatsapp_export_utc_offset"
LRM = "\u200e"
_STAMP = (r"(?P<stamp>(?P<date>\d{1,4}[./-]\d{1,2}[./-]\d{1,4}),?\s(?P<time>\d{1,2}[:.]\d{2}(?:[:.]\d{2})?)"
          r"(?:[\s\u202f\u00a0]?(?P<ampm>[AaPp]\.?\s?[Mm]\.?))?)")
ANDROID = re.compile(r"^" + _STAMP + r"\s[-\u2013]\s(?P<rest>.*)$", re.DOTALL)
IOS = re.compile(r"^\u200e?\[" + _STAMP + r"\]\s(?P<rest>.*)$", re.DOTALL)
ANDROID_FILE = re.compile(r"^(?P<name>.+?) \(file attached\)$")
IOS_FILE = re.compile(r"^\u200e?<attached: (?P<name>[^>]+)>$")
OMITTED = re.compile(r"^\u200e?(?:<Media omitted>|(?:image|video|audio|sticker|GIF|document|Contact card) omitted)$")
LOCATION = re.compile(r"location: https?://maps\.google\.com/\?q=(?P<lat>-?\d+(?:\.\d+)?),(?P<lon>-?\d+(?:\.\d+)?)", re.IGNORECASE)
DELETED = ("This message was deleted", "You deleted this message")
LINES = re.compile(r"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$")
EDITED = "<This message was edited>"
MAX_NAME = 64  # a longer text before ": " is a system line's own words, not a name


@dataclass
class Entry:
    """One message: the line it starts on, its parsed stamp and its text (lines joined as stored)."""

    line: int
    form: str
    stamp: str
    date: tuple[int, int, int]
    year_first: bool
    time: str
    ampm: str | None
    parts: list[str] = field(default_factory=list)



class WhatsAppExport(FileChatParser):
    name = "whatsapp_export"
    version = "1"
    app = "WhatsApp"
    platform = "export"
    paths = ("*/WhatsApp Chat with *.txt", "*/WhatsApp Chat - *.txt", "*/_chat.txt")

    def recognises(self, path: str, head: bytes) -> bool:
        if not path.lower().endswith(".txt"):
            return False
        first = head.decode("utf-8", errors="backslashreplace").lstrip("\ufeff").split("\n", 1)[0].rstrip("\r")
        return bool(ANDROID.match(first) or IOS.match(first))

    def parse(self, artefact: Artefact, context: ParseContext) -> Iterator[Message]:
        target = context.scratch / "export.txt"
        artefact.copy_to(target)
        data = target.read_bytes()
        if data.startswith(b"\xef\xbb\xbf"):
            data = data[3:]
        text = decode_text(data)
        if isinstance(text, UndecodedText):
            context.warn("bad_text", "the export is not valid UTF-8; undecodable bytes are shown escaped", table=TABLE)
        entries = _entries(text, context)
        if not entries:
            context.warn("no_messages", f"{artefact.path}: no line starts with a WhatsApp time stamp", table=TABLE, severity="error")
            return
        order, basis = _date_order(entries, context)
        offset = context.utc_offset(OFFSET_KEY, TABLE)
        if offset is None:
            context.warn("local_time_unknown_offset", "export times are local with no offset in the file; sent is left empty "
                         f"(supply --app-key {OFFSET_KEY}=+HH:MM to convert)", table=TABLE)
        folder = posixpath.dirname(artefact.path.replace("\\", "/"))
        title = _title(artefact.path)
        convert = lambda entry: self._message(entry, order, basis, offset, folder, title, artefact.path, context)  # noqa: E731
        yield from context.each(entries, TABLE, convert, "line")

    def _message(self, entry: Entry, order: str, basis: str, offset: int | None, folder: str, title: str | None,
                 path: str, context: ParseContext) -> Message:
        body_text = "".join(entry.parts)
        sender_name, body = _split_sender(body_text)
        details = {"format": entry.form, "date_order": f"{order} ({basis})"}
        kind = "text"
        if entry.form == "ios" and body.startswith(LRM) and not (IOS_FILE.match(body) or OMITTED.match(body)):
            kind = "system"  # iOS marks events (encryption notice, member added ...) with U+200E
        if sender_name is None:
            kind = "system"
        attachments: tuple[Attachment, ...] = ()
        first_line = body.split("\n", 1)[0].rstrip("\r")
        attached = ANDROID_FILE.match(first_line) or IOS_FILE.match(first_line)
        latitude = longitude = None
        if kind != "system":
            if attached:
                name = attached["name"]
                kind = "media"
                attachments = (Attachment(file_name=name, local_path=posixpath.join(folder, name) if folder else name),)
            elif OMITTED.match(first_line):
                kind = "media"
                details["media_omitted"] = "true"
            elif (where := LOCATION.search(body)) is not None:
                kind, latitude, longitude = "location", float(where["lat"]), float(where["lon"])
            elif body.lstrip(LRM) in DELETED:
                kind = "deleted"
        if sender_name is not None and kind == "system":
            details["name_in_line"] = sender_name
        sent = context.local_time(_local_time(entry, order, context), offset, OFFSET_KEY, details,
                                  table=TABLE, row_id=entry.line, field="stamp")
        return Message(
            source_table=TABLE, source_row_id=entry.line, conversation_id=path, conversation_title=title,
            sender=Participant(None, sender_name) if sender_name is not None and kind != "system" else None,
            direction="unknown", sent=sent, sent_raw=entry.stamp, body=body, kind=kind, attachments=attachments,
            latitude=latitude, longitude=longitude, is_deleted=True if kind == "deleted" else None,
            is_edited=True if body.endswith(EDITED) else None, details=details,
        )


def _entries(text: str, context: ParseContext) -> list[Entry]:
    """Group lines into messages: a stamped line starts one, the lines after it continue it.

    A message's text keeps its inner line ends exactly as stored; only its last line end is dropped.
    """
    lines = LINES.findall(text)  # only \r\n, \n and \r end a line (not U+2028 and the like)
    entries: list[Entry] = []
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        match, form = ANDROID.match(line), "android"
        if match is None:
            match, form = IOS.match(line), "ios"
        if match is not None:
            fields = re.split(r"[./-]", match["date"])
            entries.append(Entry(number, form, match["stamp"], tuple(int(n) for n in fields), len(fields[0]) == 4,
                                 match["time"], match["ampm"], [match["rest"] + raw[len(line):]]))
        elif entries:
            entries[-1].parts.append(raw)
        elif line.strip():
            context.warn("unparsed_line", "text before the first time-stamped line is not a message", table=TABLE, row_id=number)
    for entry in entries:
        entry.parts = [_strip_final_end("".join(entry.parts))]
    return entries


def _strip_final_end(chunk: str) -> str:
    """Remove only the last line's terminator (one \\r\\n, \\n or \\r), never other whitespace."""
    for ending in ("\r\n", "\n", "\r"):
        if chunk.endswith(ending):
            return chunk[: -len(ending)]
    return chunk


def _split_sender(text: str) -> tuple[str | None, str]:
    """NAME: TEXT -> (NAME, TEXT); a line with no plausible name is a system line (None, text)."""
    head, separator, rest = text.partition(": ")
    if not separator or "\n" in head or len(head) > MAX_NAME or '"' in head:
        return None, text
    return head.lstrip(LRM), rest


def _date_order(entries: list[Entry], context: ParseContext) -> tuple[str, str]:
    """'DMY', 'MDY' or 'YMD' for the whole file, and why (see the module docstring)."""
    if all(e.year_first for e in entries):
        return "YMD", "year first"
    day_first = any(e.date[0] > 12 for e in entries if not e.year_first)
    month_first = any(e.date[1] > 12 for e in entries if not e.year_first)
    if day_first and not month_first:
        return "DMY", "a first number above 12"
    if month_first and not day_first:
        return "MDY", "a second number above 12"
    if not day_first and not month_first:
        dmy, mdy = _inversions(entries, "DMY"), _inversions(entries, "MDY")
        if dmy != mdy:
            return ("DMY", "chronological order") if dmy < mdy else ("MDY", "chronological order")
    context.warn("date_order_ambiguous", "day/month order cannot be told from this file; day first is assumed", table=TABLE)
    return "DMY", "assumed"


def _inversions(entries: list[Entry], order: str) -> int:
    keys = [_sort_key(e, order) for e in entries]
    return sum(1 for a, b in zip(keys, keys[1:]) if b < a)


def _sort_key(entry: Entry, order: str) -> tuple[int, ...]:
    year, month, day = _ymd(entry, order)
    hour, minute, second = _hms(entry)
    return (year, month, day, hour, minute, second)


def _ymd(entry: Entry, order: str) -> tuple[int, int, int]:
    a, b, c = entry.date
    if entry.year_first:
        year, month, day = a, b, c
    elif order == "MDY":
        month, day, year = a, b, c
    else:
        day, month, year = a, b, c
    return (year + 2000 if year < 100 else year), month, day


def _hms(entry: Entry) -> tuple[int, int, int]:
    numbers = [int(n) for n in re.split(r"[:.]", entry.time)]
    hour, minute, second = numbers[0], numbers[1], numbers[2] if len(numbers) > 2 else 0
    if entry.ampm:
        pm = entry.ampm.lower().startswith("p")
        hour = hour % 12 + (12 if pm else 0)
    return hour, minute, second


def _local_time(entry: Entry, order: str, context: ParseContext) -> datetime | None:
    try:
        return datetime(*_ymd(entry, order), *_hms(entry))
    except ValueError as error:
        context.warn("bad_time", f"{entry.stamp!r} is not a valid {order} date and time: {error}", table=TABLE,
                     row_id=entry.line, field="stamp")
        return None


def _title(path: str) -> str | None:
    """The chat name from 'WhatsApp Chat with NAME.txt' / 'WhatsApp Chat - NAME/_chat.txt'."""
    parts = path.replace("\\", "/").split("/")
    name = parts[-1]
    for prefix in ("WhatsApp Chat with ", "WhatsApp Chat - "):
        if name.startswith(prefix) and name.lower().endswith(".txt"):
            return name[len(prefix):-4]
        if name == "_chat.txt" and len(parts) > 1 and parts[-2].startswith(prefix):
            return parts[-2][len(prefix):].removesuffix(".zip")
    return None


PARSER = WhatsAppExport()
