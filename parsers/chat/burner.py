"""Burner (com.adhoclabs.burner): Android burners.sqlite, and iOS API responses kept in NSURLCache.

Android schema facts (read from the plaso sample `test_data/android/burners.sqlite`; meanings of
the codes from iLEAPP `scripts/artifacts/burnerCache.py`, whose iOS JSON carries the same fields):
- `messages`: `_id`, `message_id` (server UUID), `state`, `message`, `contact_phone_number`,
  `connected`, `message_type` (1 voice call, 2 text/picture), `voice_url`, `date_created`
  (Unix ms), `read`, `user_id`, `burner_id`, `duration` (s), `direction` (1 incoming,
  2 outgoing), `asset_url` (picture URL).
- `state` of calls: 3 completed, 4 missed, 5 missed with voicemail.
- `burners`: `burner_id`, `phone_number_id` (the burner number), `name`.
- `contacts`: `phone_number`, `name`.
- Android history: only that one store is public (plaso's sample, Burner of late 2022); no source
  documents another build (docs/chat-schema-hist4.md), so what older or newer builds lack is **not
  confirmed**. Only `messages` `_id`, `date_created`, `message`, `direction`, `contact_phone_number`
  are required; every other column is read when present, `burners` and `contacts` when the store has them.

iOS (no message database): iLEAPP `burnerCache.py` documents the cached API responses of
`https://phoenix.burnerapp.com`: `/user/<uid>/messages` (a POST answer: one message object; a GET
with `contactPhoneNumber=`: an array), `/v<n>/user/<uid>/burners` (id, phoneNumber, name or settings.name),
`/user/<uid>/contacts` (id, phoneNumber, name), `/user/<uid>/burners/<id>/conversations/<c>/messages`
(newer "conversation" objects: direction Inbound/Outbound, state CallCompleted/CallMissed/
Voicemail, messageType Voice/Text, text, mediaUrl, voicemail.audioUrl). Message objects:
`id`, `dateCreated` (Unix ms), `direction`, `state`, `messageType`, `message`, `assetUrl`,
`voiceUrl`, `contactPhoneNumber`, `burnerId`, `userId`, `read`, `messageDuration`.
Every cached copy of a message is reported (the same id can sit in two responses); `details`
carries `message_id` and the cache location so copies can be told apart and matched.
"""

from __future__ import annotations

import re
import sqlite3
from typing import Callable, ClassVar, Iterator
from urllib.parse import urlsplit

from manifests.records import Attachment, Message, Participant
from parsers.chat import _nsurlcache
from parsers.chat._rows import side_table, text_value
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_ms
from parsers.sqlite_store import Database

# The minimum a message is read with (time, body, direction, the other party); every other column is optional.
MESSAGE_REQUIRED = ("_id", "date_created", "message", "direction", "contact_phone_number")
MESSAGE_OPTIONAL = ("message_id", "state", "connected", "message_type", "voice_url", "read", "user_id", "burner_id", "duration",
                    "asset_url")
# Side tables: the burner numbers and the address book, read when the store has them.
BURNERS = Variant("burners", {"burners": ("burner_id",)}, {"burners": ("phone_number_id", "name")})
CONTACTS = Variant("contacts", {"contacts": ("phone_number",)}, {"contacts": ("name",)})

CALL_STATES = {3: "completed", 4: "missed", 5: "missed with voicemail"}
CONVERSATION_STATES = {"CallCompleted": "completed", "CallMissed": "missed", "Voicemail": "missed with voicemail"}
DIRECTIONS = {1: "incoming", 2: "outgoing", "Inbound": "incoming", "Outbound": "outgoing"}
API_HOST = "phoenix.burnerapp.com"
MESSAGES_PATH = re.compile(r"^(/v\d+)?/user/[^/]+(/burners/[^/]+/conversations/[^/]+)?/messages$")
BURNERS_PATH = re.compile(r"^(/v\d+)?/user/[^/]+/burners$")
CONTACTS_PATH = re.compile(r"^(/v\d+)?/user/[^/]+/contacts$")
TABLE = "cfurl_cache_receiver_data"


class Burner(SqliteChatParser):
    name = "burner"
    version = "2"
    app = "Burner"
    platform = "Android, iOS"
    paths = ("*/com.adhoclabs.burner/databases/burners.sqlite", "*/Library/Caches/com.adhoclabs.burner/Cache.db")
    companions: ClassVar[tuple[str, ...]] = ("*/Library/Caches/com.adhoclabs.burner/fsCachedData/*",)
    variants = (
        Variant("android", {"messages": MESSAGE_REQUIRED}, {"messages": MESSAGE_OPTIONAL}),
        _nsurlcache.variant("ios_nsurlcache"),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        if variant.name == "android":
            yield from self._android(database, variant, context)
        else:
            yield from self._ios(database, context)

    # Android -------------------------------------------------------------------------------

    def _android(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        burners = {str(r["burner_id"]): Participant(r["phone_number_id"], r["name"])
                   for r in side_table(database, BURNERS, "burners", context)}
        contacts = {str(r["phone_number"]): r["name"] for r in side_table(database, CONTACTS, "contacts", context)
                    if r["phone_number"] is not None}
        rows = database.query(variant.select(database, "messages", "_id"))
        yield from context.each(rows, "messages", lambda row: self._android_row(row, burners, contacts, context), "_id")

    def _android_row(self, row: sqlite3.Row, burners: dict[str, Participant], contacts: dict[str, str],
                     context: ParseContext) -> Message:
        row_id = row["_id"]
        record = {"id": row["message_id"], "dateCreated": row["date_created"], "direction": row["direction"],
                  "state": row["state"], "messageType": row["message_type"], "message": row["message"],
                  "assetUrl": row["asset_url"], "voiceUrl": row["voice_url"], "contactPhoneNumber": row["contact_phone_number"],
                  "burnerId": row["burner_id"], "userId": row["user_id"], "read": row["read"], "duration": row["duration"]}
        time = lambda value: context.time(value, unix_ms, table="messages", row_id=row_id, field="date_created")  # noqa: E731
        message = _message(record, "messages", row_id, burners, contacts, time)
        if row["connected"] is not None:
            message.details["connected"] = str(row["connected"])
        return message

    # iOS -----------------------------------------------------------------------------------

    def _ios(self, database: Database, context: ParseContext) -> Iterator[Message]:
        cached = list(_nsurlcache.responses(database, context, _is_api))
        burners: dict[str, Participant] = {}
        contacts: dict[str, str] = {}
        found: list[tuple[_nsurlcache.CachedResponse, object]] = []
        for response in cached:
            path = _path(response.url)
            try:
                document = response.json()
            except ValueError as error:
                context.warn("bad_json", f"cached response of {_path(response.url)} is not JSON: {error}", table=TABLE,
                             row_id=response.entry_id, field=response.source)
                continue
            if BURNERS_PATH.match(path):
                for item in _items(document):
                    if isinstance(item.get("id"), str):
                        settings = item.get("settings") if isinstance(item.get("settings"), dict) else {}
                        burners[item["id"]] = Participant(item.get("phoneNumber"), item.get("name") or settings.get("name"))
            elif CONTACTS_PATH.match(path):
                for item in _items(document):
                    if isinstance(item.get("phoneNumber"), str):
                        contacts[item["phoneNumber"]] = item.get("name")
            elif MESSAGES_PATH.match(path):
                found.append((response, document))
        for response, document in found:
            yield from self._ios_response(response, document, burners, contacts, context)

    def _ios_response(self, response: _nsurlcache.CachedResponse, document: object, burners: dict[str, Participant],
                      contacts: dict[str, str], context: ParseContext) -> Iterator[Message]:
        items = document if isinstance(document, list) else [document]
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                context.warn("bad_json", f"item {index} of {response.source} is not a message object", table=TABLE,
                             row_id=response.entry_id, field=response.source)
                continue
            message = _message(_flatten(item), TABLE, response.entry_id, burners, contacts, _ios_time(response, index, context))
            message.details.update({"cache_source": response.source, "cache_item": str(index),
                                    "cache_stored": str(response.time_stamp)})
            yield message


def _ios_time(response: _nsurlcache.CachedResponse, index: int, context: ParseContext) -> Callable[[object], int | None]:
    """The converter of item `index`'s dateCreated in one cached response; errors name that item."""
    field = f"{response.source}[{index}].dateCreated"
    return lambda value: context.time(value, unix_ms, table=TABLE, row_id=response.entry_id, field=field)


def _message(record: dict, table: str, row_id: int, burners: dict[str, Participant], contacts: dict[str, str],
             time: Callable[[object], int | None]) -> Message:
    """One Burner message from the fields Android columns and iOS JSON share."""
    direction = DIRECTIONS.get(record.get("direction"), "unknown")  # type: ignore[arg-type]
    burner_id = record.get("burnerId")
    burner = burners.get(str(burner_id)) if burner_id is not None else None
    number = record.get("contactPhoneNumber")
    contact = Participant(number, contacts.get(number)) if isinstance(number, str) and number else None
    is_call = record.get("messageType") in (1, "Voice")
    details = {key: str(record[field]) for key, field in (("message_id", "id"), ("message_type", "messageType"), ("state", "state"))
               if record.get(field) is not None}
    state = record.get("state")
    if is_call:
        details["call"] = CALL_STATES.get(state) or CONVERSATION_STATES.get(state) or "unknown"  # type: ignore[arg-type]
    for key, name in (("duration", "duration_s"), ("messageDuration", "voicemail_duration_s"), ("burnerId", "burner_id"),
                      ("voiceUrl", "voice_url"), ("assetUrl", "asset_url")):
        if record.get(key) not in (None, ""):
            details[name] = str(record[key])
    if record.get("read") is not None:
        details["read_flag"] = str(record["read"])
    media_url = record.get("assetUrl") or record.get("voiceUrl")
    user = record.get("userId")
    return Message(
        source_table=table, source_row_id=row_id, conversation_id=number if isinstance(number, str) else None,
        conversation_title=contact.name if contact else None,
        sender=burner if direction == "outgoing" else contact,
        recipients=tuple(p for p in ((contact if direction == "outgoing" else burner),) if p is not None),
        direction=direction, sent=time(record.get("dateCreated")),
        sent_raw=None if record.get("dateCreated") is None else str(record.get("dateCreated")),
        body=text_value(record.get("message")), kind="call" if is_call else ("media" if record.get("assetUrl") else "text"),
        attachments=(Attachment(file_name=str(media_url).rsplit("/", 1)[-1]),) if media_url else (),
        account_id=str(user) if user is not None else None, details=details,
    )


def _flatten(item: dict) -> dict:
    """A newer "conversation" object in the older message shape (same meanings, other names)."""
    if not isinstance(item.get("conversation"), dict):
        return item
    voicemail = item.get("voicemail") if isinstance(item.get("voicemail"), dict) else {}
    return {"id": item.get("id"), "dateCreated": item.get("dateCreated"), "direction": item.get("direction"),
            "state": item.get("state"), "messageType": item.get("messageType"), "message": item.get("text"),
            "assetUrl": item.get("mediaUrl"), "voiceUrl": voicemail.get("audioUrl"),
            "contactPhoneNumber": item["conversation"].get("conversationId"), "burnerId": item.get("burnerId"),
            "userId": item.get("userId"), "read": item.get("read")}


def _items(document: object) -> list[dict]:
    items = document if isinstance(document, list) else [document]
    return [item for item in items if isinstance(item, dict)]


def _path(url: str) -> str:
    return urlsplit(url).path


def _is_api(url: str) -> bool:
    """Only the answers that hold messages or names; other API answers are never read."""
    parts = urlsplit(url)
    return parts.hostname == API_HOST and any(p.match(parts.path) for p in (MESSAGES_PATH, BURNERS_PATH, CONTACTS_PATH))


PARSER = Burner()
