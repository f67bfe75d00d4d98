"""Telegram Desktop "Export chat history" in machine-readable JSON (`result.json`).

Format facts (Telegram Desktop source, github.com/telegramdesktop/tdesktop,
`Telegram/SourceFiles/export/output/export_output_json.cpp`, read for facts only):
- A single-chat export is an object with `name`, `type` (personal_chat, private_group, ...), `id`
  and `messages`. A full export has `personal_information` (`user_id`, names, phone) and
  `chats.list[]` (and `left_chats.list[]`), each element a chat object as above.
- A message has `id`, `type` ("message" or "service"), `date` (local time of the exporting PC, no
  zone), `date_unixtime` (Unix seconds as a string, UTC; exports since about 2021),
  `edited`/`edited_unixtime`, `from`/`from_id` ("user123", "channel123"), service messages
  `actor`/`actor_id`/`action` (e.g. "phone_call" with `duration_seconds`, `discard_reason`),
  `text` (a string, or a list of strings and entity objects with `type` and `text`), `photo`,
  `file` (paths relative to the export folder), `media_type` (sticker, voice_message,
  video_message, video_file, animation, audio_file), `mime_type`, `forwarded_from`,
  `reply_to_message_id`, `location_information` {latitude, longitude}, `contact_information`, `poll`.
Body: a list-form `text` is the concatenation of its parts' text (what the app displays).
Old exports (before `date_unixtime`, about 2021) write `edited` on every message, and a message never
edited gets the epoch rendered in the exporting PC's local time (`"edited": "1970-01-01T05:00:00"` at
UTC+5, `"1969-12-31T19:00:00"` at UTC-5; public parsers of such exports quote these): an `edited`
within the world's offsets (UTC-12 to UTC+14) of the epoch, or an `edited_unixtime` of "0", is "never
edited" (edited None, is_edited False; the raw value stays in details["edited"]). Old exports also
write `from_id`/`actor_id` as a bare number (182120723) where new ones write "user182120723"; the owner
is recognised in both forms. Their `date` is the exporting PC's local time with no zone: sent stays
None (sent_raw the local text) with one `local_time_only` warning per chat, unless the examiner
supplies the offset (`--app-key telegram_desktop_export_utc_offset=+03:00`), which converts `date`
and a real local `edited` to UTC and is recorded in details.
A file the export did not save has a placeholder instead of its path ("(File not included. Change data
exporting settings to download.)", "(File exceeds maximum size. ...)"): the attachment keeps its name,
type and size but no local_path, and details["file_not_saved"] (or "photo_not_saved") the placeholder.
source_table is the JSON path of the chat's message list; source_row_id the 1-based index in it.
The file is streamed (parsers/chat/_telegram_export_stream.py): memory holds one message and the
chats' names, never the export; a fault keeps every message before it and is one `bad_json` error
naming the byte, chat and message; a message over 4 MiB is a `message_too_large` warning.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timedelta
from typing import Iterator

from manifests.records import Attachment, Message, Participant, UndecodedText
from parsers.artefact import Artefact
from parsers.chat import _telegram_export_stream as stream_json
from parsers.chat.base import FileChatParser, ParseContext
from parsers.chat.times import unix_seconds

OFFSET_KEY = "telegram_desktop_export_utc_offset"
CHAT_TYPES = (b'"personal_chat"', b'"private_group"', b'"private_supergroup"', b'"public_supergroup"',
              b'"private_channel"', b'"public_channel"', b'"bot_chat"', b'"saved_messages"')
MEDIA_KINDS = {"sticker": "sticker"}
EPOCH = datetime(1970, 1, 1)
EPOCH_EARLIEST, EPOCH_LATEST = EPOCH - timedelta(hours=12), EPOCH + timedelta(hours=14)  # the epoch in UTC-12 .. UTC+14


class TelegramDesktopExport(FileChatParser):
    name = "telegram_desktop_export"
    version = "2"
    app = "Telegram Desktop export"
    platform = "Desktop"
    paths = ("*/result.json",)

    def recognises(self, path: str, head: bytes) -> bool:
        if not path.lower().replace("\\", "/").endswith("result.json"):
            return False
        start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
        if not start.startswith(b"{"):
            return False
        if b'"personal_information"' in start or (b'"chats"' in start and b'"about"' in start):
            return True  # a full export
        return b'"messages"' in start and any(t in start for t in CHAT_TYPES)  # a single chat

    def parse(self, artefact: Artefact, context: ParseContext) -> Iterator[Message]:
        target = context.scratch / "result.json"
        artefact.copy_to(target)
        survey = stream_json.survey(target)
        if survey.top_not_object:
            context.warn("bad_json", f"{artefact.path}: top level is not an object")
            return
        offset = context.utc_offset(OFFSET_KEY, "messages")
        stream = stream_json.MessageStream(target, survey)
        for place, item in stream:
            if isinstance(item, stream_json.Skipped):
                context.warn(item.kind, item.message, table=place.section, row_id=place.index)
                continue
            if isinstance(item, stream_json.ChatEnd):
                self._chat_end(place.section, item.local_only, offset, context)
                continue
            chat = survey.chats.get(place.section, {})
            try:
                message = self._message(place.section, place.index, item, _conversation(chat.get("id")), _title(chat.get("name")),
                                        chat.get("type"), survey.owner, offset, context)
            except (ValueError, TypeError, KeyError, AttributeError) as error:
                context.warn("bad_row", f"message could not be read: {type(error).__name__}: {error}", table=place.section,
                             row_id=place.index)
                continue
            if item.get("date_unixtime") is None and item.get("date") is not None:
                stream.local_only(place.index)
            yield message
        if stream.failure is not None:
            context.warn("bad_json", f"{artefact.path}: not readable JSON {stream.failure}", severity="error",
                         table=stream.failure_place.section if stream.failure_place else None,
                         row_id=stream.failure_place.index if stream.failure_place else None)

    def _chat_end(self, section: str, local_only: list[int], offset: int | None, context: ParseContext) -> None:
        if local_only and offset is None:
            context.warn("local_time_only", f"{len(local_only)} messages have only a local date (an export from before date_unixtime), "
                         f"the first at row {local_only[0]}; sent is left empty (supply --app-key {OFFSET_KEY}=+HH:MM to convert)",
                         table=section, row_id=local_only[0], field="date")

    def _message(self, section: str, index: int, item: dict, conversation: str | None, title: str | None, chat_type: object,
                 owner: str | None, offset: int | None, context: ParseContext) -> Message:
        if not isinstance(item, dict):
            raise TypeError("message is not an object")
        service = item.get("type") == "service"
        sender_id = item.get("actor_id" if service else "from_id")
        sender_name = item.get("actor" if service else "from")
        sender = Participant(str(sender_id), sender_name if isinstance(sender_name, str) else None) if sender_id is not None else None
        direction = "unknown"
        if owner is not None and sender_id is not None:
            direction = "outgoing" if str(sender_id) in (f"user{owner}", owner) else "incoming"
        details = _details(item, chat_type)
        unixtime = item.get("date_unixtime")
        sent = context.time(unixtime, unix_seconds, table=section, row_id=index, field="date_unixtime") if unixtime is not None else None
        if unixtime is None and offset is not None:
            sent = context.local_time(_local(item.get("date"), section, index, "date", context), offset, OFFSET_KEY, details,
                                      table=section, row_id=index, field="date")
        never_edited = _never_edited(item)
        edited_raw = None if never_edited else item.get("edited_unixtime")
        edited = context.time(edited_raw, unix_seconds, table=section, row_id=index, field="edited_unixtime") if edited_raw else None
        if not never_edited and "edited_unixtime" not in item and offset is not None and item.get("edited") is not None:
            edited = context.local_time(_local(item["edited"], section, index, "edited", context), offset, OFFSET_KEY, {},
                                        table=section, row_id=index, field="edited")
        kind, attachments = _kind_and_attachments(item, service)
        location = item.get("location_information") if isinstance(item.get("location_information"), dict) else {}
        return Message(
            source_table=section, source_row_id=index, conversation_id=conversation, conversation_title=title,
            sender=sender, direction=direction, sent=sent,
            sent_raw=str(unixtime) if unixtime is not None else (str(item["date"]) if item.get("date") is not None else None),
            edited=edited, body=_text(item.get("text")), kind=kind, attachments=attachments,
            latitude=_float(location.get("latitude")), longitude=_float(location.get("longitude")),
            location_name=item.get("place_name") if isinstance(item.get("place_name"), str) else None,
            is_edited=not never_edited and ("edited" in item or "edited_unixtime" in item), is_forwarded="forwarded_from" in item,
            account_id=owner, details=details,
        )


def _conversation(value: object) -> str | None:
    return None if value is None else str(value)


def _title(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _local(value: object, section: str, index: int, name: str, context: ParseContext) -> datetime | None:
    """An old export's local time ("2017-11-14T20:42:15"), or None with a `bad_time` warning."""
    if value is None:
        return None
    try:
        local = datetime.fromisoformat(str(value))
    except ValueError as error:
        context.warn("bad_time", f"{value!r} is not a local date and time: {error}", table=section, row_id=index, field=name)
        return None
    if local.tzinfo is not None:
        context.warn("bad_time", f"{value!r} carries a zone; an export's local date never does", table=section, row_id=index, field=name)
        return None
    return local


def _never_edited(item: dict) -> bool:
    """An `edited` that is the epoch in local time (old exports' "not edited"), or an `edited_unixtime` of 0."""
    if "edited_unixtime" in item:  # the UTC value, when there is one, decides
        return str(item["edited_unixtime"]) in ("0", "")
    edited = item.get("edited")
    if not isinstance(edited, str):
        return False
    try:
        local = datetime.fromisoformat(edited)
    except ValueError:
        return False
    return local.tzinfo is None and EPOCH_EARLIEST <= local <= EPOCH_LATEST


def _text(value: object) -> str | None:
    if isinstance(value, str):
        return _exact(value) if value != "" else None
    if isinstance(value, list):
        parts = [part if isinstance(part, str) else str(part.get("text", "")) for part in value if isinstance(part, (str, dict))]
        joined = "".join(parts)
        return _exact(joined) if joined != "" else None
    return None


def _exact(text: str) -> str:
    """JSON can escape a lone surrogate (`\\ud83d`), which is no character and has no UTF-8: such a body is kept
    as its WTF-8 bytes in body_bytes (UndecodedText), shown escaped, never replaced."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return UndecodedText.of(text.encode("utf-8", "surrogatepass"))
    return text


def _saved(value: object) -> str | None:
    """The path of a file the export saved; None for Desktop's placeholder ("(File not included. ...)") or no path."""
    if not isinstance(value, str) or (value.startswith("(File ") and value.endswith(")")):
        return None
    return value


def _kind_and_attachments(item: dict, service: bool) -> tuple[str, tuple[Attachment, ...]]:
    if service:
        return ("call" if item.get("action") == "phone_call" else "system"), ()
    attachments: list[Attachment] = []
    if isinstance(item.get("photo"), str):
        photo = _saved(item["photo"])
        attachments.append(Attachment(file_name=os.path.basename(photo) if photo else None,
                                      mime_type="image/jpeg" if (photo or "").lower().endswith(".jpg") else None,
                                      size=_int(item.get("photo_file_size")), local_path=photo))
    if isinstance(item.get("file"), str):
        file = _saved(item["file"])
        name = item.get("file_name") if isinstance(item.get("file_name"), str) else (os.path.basename(file) if file else None)
        attachments.append(Attachment(file_name=name, mime_type=item.get("mime_type") if isinstance(item.get("mime_type"), str) else None,
                                      size=_int(item.get("file_size")), local_path=file))
    if "location_information" in item:
        return "location", tuple(attachments)
    if "contact_information" in item:
        return "contact", tuple(attachments)
    if "poll" in item:
        return "poll", tuple(attachments)
    if attachments:
        return MEDIA_KINDS.get(str(item.get("media_type")), "media"), tuple(attachments)
    return "text", ()


def _details(item: dict, chat_type: object) -> dict[str, str]:
    details: dict[str, str] = {}
    if item.get("id") is not None:
        details["message_id"] = str(item["id"])
    if item.get("date") is not None:
        details["date_local"] = str(item["date"])
    if chat_type is not None:
        details["chat_type"] = str(chat_type)
    for key in ("type", "action", "media_type", "forwarded_from", "reply_to_message_id", "duration_seconds", "discard_reason",
                "sticker_emoji", "via_bot", "edited"):
        if item.get(key) is not None and not isinstance(item.get(key), (dict, list)):
            details[key] = str(item[key])
    for key in ("photo", "file"):
        if isinstance(item.get(key), str) and _saved(item[key]) is None:
            details[f"{key}_not_saved"] = item[key]  # why the export holds no file, in Desktop's words
    for key in ("contact_information", "poll"):
        if isinstance(item.get(key), (dict, list)):
            details[key] = json.dumps(item[key], ensure_ascii=False, sort_keys=True)
    return details


def _float(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


PARSER = TelegramDesktopExport()
