"""Facebook / Instagram "Download your information" message exports (JSON).

Layout facts (own words; sources: jpfranci/facebook-messages-visualizer
`angular-electron/src/app/core/models/message-model.ts`, ohare93/Python-Mini-Projects
`MessengerFileViewer/view.py`, and a public "Facebook Messenger JSON Schema" note; read for facts):
- one folder per conversation, `messages/inbox/<thread>/message_<n>.json` (also
  `archived_threads`, `filtered_threads`, `message_requests`, `e2ee_cutover`; Instagram puts the same
  tree under `your_instagram_activity/messages/`). Long threads are split over message_1, _2 ...
- top level: `participants` [{name}], `title`, `thread_path` (e.g. 'inbox/janedoe_abc123'),
  `thread_type` ('Regular', 'RegularGroup'), `is_still_participant`, `messages` (newest first).
- a message: `sender_name`, `timestamp_ms` (Unix ms), `content`, `type` ('Generic', 'Share',
  'Call', 'Subscribe', 'Unsubscribe'), `photos` / `videos` / `audio_files` / `files` / `gifs`
  [{uri, creation_timestamp}], `sticker` {uri}, `share` {link, share_text}, `reactions`
  [{reaction, actor}], `call_duration` (seconds), `users` [{name}] (who was added/removed),
  `is_unsent`, `is_taken_down`, `is_geoblocked_for_viewer`, `ip`.
- the exports carry no user ids, only display names, so a Participant's id is None and its name
  the exported name. The owner is named in `profile_information/profile_information.json`
  (`profile_v2.name.full_name`) when that file is in the same export: then direction is known.

Text encoding quirk: Meta writes each UTF-8 byte of a string as its own `\\u00XX` escape, so a
plain JSON reader yields mojibake ('donâ\\x80\\x99t' for 'don’t'). Every string is therefore mapped
back (its code points taken as latin-1 bytes, decoded as UTF-8); a string that does not survive this
(a code point above U+00FF, or bytes that are not UTF-8) was not mangled and is kept as read. The
body is the repaired text and `details['text_repaired'] = 'true'` says a string was changed; the file's
exact bytes stay identified by the artefact's SHA-256 (`source_sha256` in the manifest), so the
stored form can always be re-read.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, Iterator

from manifests.records import Attachment, Message, Participant
from parsers.artefact import Artefact
from parsers.chat.base import ROW_ERRORS, FileChatParser, ParseContext
from parsers.chat.times import unix_ms

FOLDERS = ("inbox", "archived_threads", "filtered_threads", "message_requests", "e2ee_cutover")
MEDIA_LISTS = ("photos", "videos", "audio_files", "files", "gifs")
TABLE = "messages"
GROUPING_FOLDERS = ("your_activity_across_facebook", "your_facebook_activity", "your_instagram_activity")


def repair(text: str) -> str:
    """Meta's UTF-8-as-latin-1 text back to what was written; anything else unchanged."""
    try:
        return text.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return text


class MetaDyiExport(FileChatParser):
    name = "meta_dyi_export"
    version = "1"
    app = "Facebook / Instagram (Download your information)"
    platform = "export"
    paths = tuple(f"*/messages/{folder}/*/message_*.json" for folder in FOLDERS)

    def recognises(self, path: str, head: bytes) -> bool:
        if self.path_matches(path):
            return True
        start = head.lstrip()
        return start.startswith(b"{") and b'"participants"' in head and (b'"sender_name"' in head or b'"thread_path"' in head)

    def parse(self, artefact: Artefact, context: ParseContext) -> Iterator[Message]:
        export = _load_json(artefact, context, "export.json")
        if export is None:
            return
        if not isinstance(export, dict) or not isinstance(export.get("messages"), list):
            context.warn("bad_json", f"{artefact.path}: no 'messages' list at the top level", table=TABLE, severity="error")
            return
        thread = _Thread(export, _owner(artefact, context))
        for index, item in enumerate(export["messages"], start=1):
            try:
                yield self._message(index, item, thread, context)
            except ROW_ERRORS as error:
                context.warn("bad_row", f"message could not be read: {type(error).__name__}: {error}", table=TABLE, row_id=index)

    def _message(self, index: int, item: dict[str, Any], thread: "_Thread", context: ParseContext) -> Message:
        if not isinstance(item, dict):
            raise TypeError(f"message is a {type(item).__name__}, not an object")
        changed: list[bool] = []
        text = lambda value: _fixed(value, changed)  # noqa: E731 - records whether any string was repaired
        sender_name = text(item.get("sender_name"))
        sender = Participant(None, sender_name) if sender_name is not None else None
        details: dict[str, str] = {}
        message_type = item.get("type")
        if message_type is not None:
            details["type"] = str(message_type)
        attachments = _attachments(item, text)
        kind = _kind(item, attachments)
        share = item.get("share")
        if isinstance(share, dict):
            for key in ("link", "share_text", "original_content_owner"):
                if share.get(key) is not None:
                    details[f"share_{key}"] = text(str(share[key]))
        reactions = [f"{text(r.get('actor'))}:{text(r.get('reaction'))}" for r in item.get("reactions") or [] if isinstance(r, dict)]
        if reactions:
            details["reactions"] = "; ".join(reactions)
        users = [text(u.get("name")) for u in item.get("users") or [] if isinstance(u, dict)]
        if users:
            details["users"] = "; ".join(str(u) for u in users)
        for key in ("call_duration", "missed", "is_taken_down", "is_geoblocked_for_viewer", "ip"):
            if item.get(key) is not None:
                details[key] = str(item[key])
        body = text(item.get("content"))
        title = text(thread.title)
        if any(changed):
            details["text_repaired"] = "true"
        unsent = item.get("is_unsent")
        direction = "unknown" if thread.owner is None or sender_name is None else ("outgoing" if sender_name == thread.owner else "incoming")
        stamp = item.get("timestamp_ms")
        return Message(
            source_table=TABLE, source_row_id=index, conversation_id=thread.path, conversation_title=title,
            sender=sender, recipients=tuple(p for p in thread.participants if p.name != sender_name), direction=direction,
            sent=context.time(stamp, unix_ms, table=TABLE, row_id=index, field="timestamp_ms"),
            sent_raw=None if stamp is None else str(stamp), body=body, kind="deleted" if unsent is True else kind,
            attachments=attachments, is_deleted=None if unsent is None else bool(unsent), details=details,
        )


class _Thread:
    """The conversation-level fields every message of the file shares."""

    def __init__(self, export: dict[str, Any], owner: str | None) -> None:
        self.owner = owner
        self.title = export.get("title") if isinstance(export.get("title"), str) else None
        path = export.get("thread_path")
        self.path = path if isinstance(path, str) else None
        names = [repair(p["name"]) for p in export.get("participants") or [] if isinstance(p, dict) and isinstance(p.get("name"), str)]
        self.participants = tuple(Participant(None, name) for name in names)


def _fixed(value: Any, changed: list[bool]) -> Any:
    if not isinstance(value, str):
        return value
    fixed = repair(value)
    changed.append(fixed != value)
    return fixed


def _attachments(item: dict[str, Any], text: Any) -> tuple[Attachment, ...]:
    found: list[Attachment] = []
    for key in MEDIA_LISTS:
        for media in item.get(key) or []:
            if isinstance(media, dict) and isinstance(media.get("uri"), str):
                found.append(_attachment(text(media["uri"])))
    sticker = item.get("sticker")
    if isinstance(sticker, dict) and isinstance(sticker.get("uri"), str):
        found.append(_attachment(text(sticker["uri"])))
    return tuple(found)


def _attachment(uri: str) -> Attachment:
    """The export's uri is a path relative to the export root (or a URL for remote media)."""
    return Attachment(file_name=os.path.basename(uri.rstrip("/")) or None, local_path=uri)


def _kind(item: dict[str, Any], attachments: tuple[Attachment, ...]) -> str:
    message_type = item.get("type")
    if message_type == "Call" or "call_duration" in item:
        return "call"
    if message_type in ("Subscribe", "Unsubscribe"):
        return "system"
    if isinstance(item.get("sticker"), dict):
        return "sticker"
    if attachments:
        return "media"
    return "text"


def _load_json(artefact: Artefact, context: ParseContext, name: str) -> Any:
    """The parsed JSON of an artefact (read from a scratch copy), or None with a warning."""
    target = Path(context.scratch) / name
    if target.exists():
        target.unlink()
    artefact.copy_to(target)
    try:
        return json.loads(target.read_bytes())
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        context.warn("bad_json", f"{artefact.path}: not readable JSON: {type(error).__name__}: {error}", table=TABLE, severity="error")
        return None


def _owner(artefact: Artefact, context: ParseContext) -> str | None:
    """The account owner's name from the same export's profile_information.json, when present."""
    root = _export_root(artefact.path)
    for candidate in context.catalog.find("*/profile_information/profile_information.json", near=artefact):
        if root is None or not candidate.path.startswith(root + "/"):
            continue  # another export's profile: its owner is not this thread's
        profile = _load_json(candidate, context, "profile.json")
        try:
            name = profile["profile_v2"]["name"]["full_name"]
        except (KeyError, TypeError):
            context.warn("bad_json", f"{candidate.path}: no profile_v2.name.full_name; directions unknown")
            return None
        return repair(name) if isinstance(name, str) else None
    return None


def _export_root(path: str) -> str | None:
    """The export's top folder: above `messages/` and above Meta's grouping folder if any."""
    cut = path.find("/messages/")
    if cut < 0:
        return None
    root = path[:cut]
    parent, _, last = root.rpartition("/")
    return parent if last in GROUPING_FOLDERS else root


PARSER = MetaDyiExport()
