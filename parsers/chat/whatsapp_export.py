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
- Locations: `location: https://maps.google.com/?q=LAT,LON`; deleted: `This message was deleted` (iOS:
  `\u200eThis message was deleted.`, a message of its sender, not an event).
- Older iOS exports write the encryption notice as a message of the chat partner or the group
  (`[1.1.2019, 12.00.00] Jane Doe: Messages to this chat and calls are now secured with end-to-end
  encryption.`, no U+200E); it is a system line (English wording only). Finnish iOS writes `klo`
  between date and time (`[12.3.2022 klo 14.08.18]`).

Supported time stamps: date `D/M/Y`, `M/D/Y` or `Y-M-D`, separators `/`, `.` or `-`, two- or
four-digit years; time `H:MM` or `H:MM:SS` (also with `.`), 24-hour or 12-hour with AM/PM
(`AM`, `am`, `a.m.`, `a. m.`, after a space, no-break space or U+202F); date and time apart by
`, `, a space or ` klo ` (Finnish). Not supported: markers written before the time in other
scripts (`下午`, `오후`, `午後`): such a line is not a stamp (it continues the message before it) and
a file that starts with one is not taken for an export. Localised words for
"file attached"/"omitted" are not recognised except English (attachments are still found by the
`<attached: ...>` form on iOS).

Decisions:
- Day/month order is decided once for the whole file, from all its lines, before any message is
  made: a first number above 12 anywhere (`25/12/23`) means day first for every line, a second above
  12 (`12/25/23`) month first, so an early `03/04/23` is read the same way as the later line that
  settles it. When neither occurs, chronology decides only if exactly one order keeps every message
  in time order (exports are written oldest first); otherwise day first is assumed with a
  `date_order_ambiguous` warning naming the assumption. A file with both (two phones' exports
  pasted together) is `date_order_conflict`, naming the first line of each, day first assumed.
  details["date_order"] records the order and its basis.
- Memory is bounded: the scratch copy is read twice as a stream (pass 1 gathers the date-order
  evidence in constant memory, pass 2 makes the messages one at a time), never held whole. A line
  is read in pieces of at most MAX_PIECE bytes; a message keeps at most MAX_MESSAGE_BYTES of text
  and the rest is left out with a `message_too_long` warning (WhatsApp itself caps a message at
  65,536 characters, so only a damaged or hostile file gets there).
- Text is decoded per message: a message that is not valid UTF-8 keeps its exact bytes (body_bytes),
  with one `bad_text` warning per file naming the first such line.
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
from pathlib import Path
from typing import Iterator

from manifests.records import Attachment, Message, Participant, UndecodedText, decode_text
from parsers.artefact import Artefact
from parsers.chat.base import FileChatParser, ParseContext

TABLE = "messages"
OFFSET_KEY = "whatsapp_export_utc_offset"
LRM = "\u200e"
_STAMP = (r"(?P<stamp>(?P<date>\d{1,4}[./-]\d{1,2}[./-]\d{1,4}),?\s(?:klo\s)?(?P<time>\d{1,2}[:.]\d{2}(?:[:.]\d{2})?)"
          r"(?:[\s\u202f\u00a0]?(?P<ampm>[AaPp]\.?\s?[Mm]\.?))?)")
ANDROID = re.compile(r"^" + _STAMP + r"\s[-\u2013]\s(?P<rest>.*)$", re.DOTALL)
IOS = re.compile(r"^\u200e?\[" + _STAMP + r"\]\s(?P<rest>.*)$", re.DOTALL)
ANDROID_FILE = re.compile(r"^\u200e?(?P<name>.+?) \(file attached\)$")  # U+200E before the name is no part of it
IOS_FILE = re.compile(r"^\u200e?<attached: (?P<name>[^>]+)>$")
OMITTED = re.compile(r"^\u200e?(?:<Media omitted>|(?:image|video|audio|sticker|GIF|document|Contact card) omitted)$")
LOCATION = re.compile(r"location: https?://maps\.google\.com/\?q=(?P<lat>-?\d+(?:\.\d+)?),(?P<lon>-?\d+(?:\.\d+)?)", re.IGNORECASE)
DELETED = ("This message was deleted", "You deleted this message")  # iOS adds a full stop (and U+200E)
# Encryption notices: iOS exports of about 2019 write them like a message from the chat partner (or
# the group), with no U+200E to tell them apart; English only.
NOTICES = ("Messages and calls are end-to-end encrypted", "Messages to this chat and calls are now secured with end-to-end encryption",
           "Messages to this group are now secured with end-to-end encryption")
LINE_BYTES = re.compile(rb"[^\r\n]*(?:\r\n|\n|\r)|[^\r\n]+$")  # only \r\n, \n and \r end a line (not U+2028 ...)
EDITED = "<This message was edited>"
MAX_NAME = 64  # a longer text before ": " is a system line's own words, not a name
HEAD_BYTES = 256  # a time stamp and its lead-in fit in the first bytes of a line
MAX_PIECE = 1 << 20  # a line is read in pieces of at most this many bytes
MAX_MESSAGE_BYTES = 4 << 20  # text kept for one message; the rest is left out with a warning


@dataclass(frozen=True)
class Stamp:
    """The time stamp a line starts with, and where (in bytes) the text after it begins."""

    form: str
    stamp: str
    date: tuple[int, int, int]
    year_first: bool
    time: str
    ampm: str | None
    rest_at: int


@dataclass
class Entry:
    """One message: the line it starts on, its parsed stamp and its text bytes (lines joined as stored)."""

    line: int
    stamp: Stamp
    parts: list[bytes] = field(default_factory=list)
    size: int = 0
    dropped: int = 0

    def add(self, data: bytes) -> None:
        if self.dropped or self.size + len(data) > MAX_MESSAGE_BYTES:
            self.dropped += len(data)  # once past the bound, everything after is left out (the text kept stays contiguous)
            return
        self.parts.append(data)
        self.size += len(data)

    def text(self) -> bytes:
        return _strip_final_end(b"".join(self.parts))


@dataclass
class Order:
    """A file's day/month order, why, and the warning (kind, message) that goes with an assumption."""

    order: str
    basis: str
    warning: tuple[str, str] | None = None


class WhatsAppExport(FileChatParser):
    name = "whatsapp_export"
    version = "2"
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
        order = _date_order(target)
        if order is None:
            context.warn("no_messages", f"{artefact.path}: no line starts with a WhatsApp time stamp", table=TABLE, severity="error")
            return
        if order.warning is not None:
            context.warn(*order.warning, table=TABLE)
        offset = context.utc_offset(OFFSET_KEY, TABLE)
        if offset is None:
            context.warn("local_time_unknown_offset", "export times are local with no offset in the file; sent is left empty "
                         f"(supply --app-key {OFFSET_KEY}=+HH:MM to convert)", table=TABLE)
        path = artefact.path  # a display string built on each access: taken once, not once per message
        folder = posixpath.dirname(path.replace("\\", "/"))
        title = _title(path)
        undecodable: list[int] = []
        convert = lambda entry: self._message(entry, order, offset, folder, title, path, undecodable, context)  # noqa: E731
        yield from context.each(_entries(target, context), TABLE, convert, "line")

    def _message(self, entry: Entry, order: Order, offset: int | None, folder: str, title: str | None,
                 path: str, undecodable: list[int], context: ParseContext) -> Message:
        sender_name, body = _split_sender(entry.text())
        if isinstance(body, UndecodedText) and not undecodable:
            undecodable.append(entry.line)
            context.warn("bad_text", f"the export is not valid UTF-8 (first at line {entry.line}); such messages keep their exact "
                         "bytes in body_bytes and are shown escaped", table=TABLE, row_id=entry.line)
        if entry.dropped:
            context.warn("message_too_long", f"the message at line {entry.line} is longer than {MAX_MESSAGE_BYTES} bytes; "
                         f"its last {entry.dropped} bytes are left out", table=TABLE, row_id=entry.line)
        stamp = entry.stamp
        details = {"format": stamp.form, "date_order": f"{order.order} ({order.basis})"}
        kind = "text"
        plain = body.lstrip(LRM)
        deleted = plain.removesuffix(".") in DELETED
        if stamp.form == "ios" and body.startswith(LRM) and not (IOS_FILE.match(body) or OMITTED.match(body) or deleted):
            kind = "system"  # iOS marks events (encryption notice, member added ...) with U+200E
        if sender_name is None or plain.startswith(NOTICES):
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
            elif deleted:
                kind = "deleted"
        if sender_name is not None and kind == "system":
            details["name_in_line"] = sender_name
        sent = context.local_time(_local_time(stamp, entry.line, order.order, context), offset, OFFSET_KEY, details,
                                  table=TABLE, row_id=entry.line, field="stamp")
        return Message(
            source_table=TABLE, source_row_id=entry.line, conversation_id=path, conversation_title=title,
            sender=Participant(None, sender_name) if sender_name is not None and kind != "system" else None,
            direction="unknown", sent=sent, sent_raw=stamp.stamp, body=body, kind=kind, attachments=attachments,
            latitude=latitude, longitude=longitude, is_deleted=True if kind == "deleted" else None,
            is_edited=True if body.endswith(EDITED) else None, details=details,
        )


def _lines(path: Path) -> Iterator[tuple[int, bytes, bytes, bool]]:
    """(line number, bytes, line end, starts a line) for the scratch copy, streamed in pieces of at most MAX_PIECE.

    A line longer than MAX_PIECE comes as several pieces; only the first starts the line (and may start a message).
    """
    number = 0
    continues = False
    with open(path, "rb") as handle:
        if handle.peek(3)[:3] == b"\xef\xbb\xbf":
            handle.read(3)
        while segment := handle.readline(MAX_PIECE):
            if segment.endswith(b"\r") and handle.peek(1)[:1] == b"\n":
                segment += handle.read(1)  # a \r\n split by the piece limit stays one line end
            for piece in LINE_BYTES.findall(segment):
                content = piece.rstrip(b"\r\n")
                if not continues:
                    number += 1
                yield number, content, piece[len(content):], not continues
                continues = len(piece) == len(content)


def _stamp(content: bytes) -> Stamp | None:
    """The time stamp at the start of a line, or None for a continuation line."""
    head = content[:HEAD_BYTES].decode("utf-8", errors="backslashreplace")
    match, form = ANDROID.match(head), "android"
    if match is None:
        match, form = IOS.match(head), "ios"
    if match is None:
        return None
    fields = re.split(r"[./-]", match["date"])
    rest_at = len(head[: match.start("rest")].encode("utf-8"))  # the stamp and its lead-in are valid UTF-8
    return Stamp(form, match["stamp"], (int(fields[0]), int(fields[1]), int(fields[2])), len(fields[0]) == 4,
                 match["time"], match["ampm"], rest_at)


def _entries(path: Path, context: ParseContext) -> Iterator[Entry]:
    """Group lines into messages, one at a time: a stamped line starts one, the lines after it continue it.

    A message's text keeps its inner line ends exactly as stored; only its last line end is dropped.
    """
    entry: Entry | None = None
    for number, content, ending, starts in _lines(path):
        stamp = _stamp(content) if starts else None
        if stamp is not None:
            if entry is not None:
                yield entry
            entry = Entry(number, stamp)
            entry.add(content[stamp.rest_at:] + ending)
        elif entry is not None:
            entry.add(content + ending)
        elif starts and content.strip():
            context.warn("unparsed_line", "text before the first time-stamped line is not a message", table=TABLE, row_id=number)
    if entry is not None:
        yield entry


def _strip_final_end(chunk: bytes) -> bytes:
    """Remove only the last line's terminator (one \\r\\n, \\n or \\r), never other whitespace."""
    for ending in (b"\r\n", b"\n", b"\r"):
        if chunk.endswith(ending):
            return chunk[: -len(ending)]
    return chunk


def _split_sender(data: bytes) -> tuple[str | None, str]:
    """NAME: TEXT -> (NAME, TEXT); a line with no plausible name is a system line (None, text). Text keeps its bytes."""
    head, separator, rest = data.partition(b": ")
    if not separator or b"\n" in head or b'"' in head:
        return None, decode_text(data)
    name = decode_text(head)
    if len(name) > MAX_NAME:
        return None, decode_text(data)
    return name.lstrip(LRM), decode_text(rest)


def _date_order(path: Path) -> Order | None:
    """Pass 1: the day/month order of the whole file from every stamped line (see the module docstring); None: no stamp."""
    stamps = 0
    all_year_first = True
    day_first: int | None = None  # the first line whose first number is above 12
    month_first: int | None = None  # the first line whose second number is above 12
    previous: dict[str, tuple[int, ...]] = {}
    inversions = {"DMY": 0, "MDY": 0}
    for number, content, _, starts in _lines(path):
        stamp = _stamp(content) if starts else None
        if stamp is None:
            continue
        stamps += 1
        if stamp.year_first:
            continue
        all_year_first = False
        if day_first is None and stamp.date[0] > 12:
            day_first = number
        if month_first is None and stamp.date[1] > 12:
            month_first = number
        for order in inversions:
            key = _sort_key(stamp, order)
            if order in previous and key < previous[order]:
                inversions[order] += 1
            previous[order] = key
    if stamps == 0:
        return None
    if all_year_first:
        return Order("YMD", "year first")
    if day_first is not None and month_first is None:
        return Order("DMY", "a first number above 12")
    if month_first is not None and day_first is None:
        return Order("MDY", "a second number above 12")
    if day_first is not None and month_first is not None:
        return Order("DMY", "assumed", ("date_order_conflict", f"line {day_first} can only be day/month/year and line {month_first} "
                                        "only month/day/year; day first (D/M/Y) is assumed for every line"))
    if (inversions["DMY"] == 0) != (inversions["MDY"] == 0):
        return Order("DMY" if inversions["DMY"] == 0 else "MDY", "chronological order")
    return Order("DMY", "assumed", ("date_order_ambiguous", f"day/month order cannot be told from this file (no date has a number "
                                    f"above 12 in either place, {stamps} dated lines); day first (D/M/Y) is assumed for every line"))


def _sort_key(stamp: Stamp, order: str) -> tuple[int, ...]:
    year, month, day = _ymd(stamp, order)
    hour, minute, second = _hms(stamp)
    return (year, month, day, hour, minute, second)


def _ymd(stamp: Stamp, order: str) -> tuple[int, int, int]:
    a, b, c = stamp.date
    if stamp.year_first:
        year, month, day = a, b, c
    elif order == "MDY":
        month, day, year = a, b, c
    else:
        day, month, year = a, b, c
    return (year + 2000 if year < 100 else year), month, day


def _hms(stamp: Stamp) -> tuple[int, int, int]:
    numbers = [int(n) for n in re.split(r"[:.]", stamp.time)]
    hour, minute, second = numbers[0], numbers[1], numbers[2] if len(numbers) > 2 else 0
    if stamp.ampm:
        pm = stamp.ampm.lower().startswith("p")
        hour = hour % 12 + (12 if pm else 0)
    return hour, minute, second


def _local_time(stamp: Stamp, line: int, order: str, context: ParseContext) -> datetime | None:
    try:
        return datetime(*_ymd(stamp, order), *_hms(stamp))
    except ValueError as error:
        context.warn("bad_time", f"{stamp.stamp!r} is not a valid {order} date and time: {error}", table=TABLE,
                     row_id=line, field="stamp")
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
