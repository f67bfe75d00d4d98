"""Discord (com.hammerandchisel.discord) for iOS: messages from API responses kept in NSURLCache.

Discord for iOS keeps no readable message database; its HTTP cache (Library/Caches/
com.hammerandchisel.discord/Cache.db, format in parsers/chat/_nsurlcache.py) holds the answers
of `https://discord.com/api/v<n>/channels/<channel id>/messages` (GET: a JSON array of messages,
newest first; POST: the one message sent), as iLEAPP `scripts/artifacts/discordCache.py` lists them.

Message object facts (Discord developer documentation, "Message Resource",
https://discord.com/developers/docs/resources/message): `id` (snowflake), `type` (0 default,
1/2 recipient added/removed, 3 call, 4/5 channel name/icon change, 6 pinned, 7 member join,
19 reply, 20 slash-command answer), `content`, `channel_id`, `author` {`id`, `username`,
`global_name`, `discriminator`}, `timestamp` and `edited_timestamp` (ISO 8601, UTC offset),
`attachments` [{`filename`, `size`, `url`, `content_type`}], `sticker_items`, `reactions`
[{`emoji`: {`name`}, `count`}], `referenced_message` (the message replied to), `call`
{`participants`, `ended_timestamp`} on type 3.
The account's own user id is the `user_id` of a cached `/auth/login` answer when present.
Every cached copy of a message is reported: overlapping pages repeat messages, and `details`
carries `message_id` and the cache entry so copies can be matched.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import ClassVar, Iterator
from urllib.parse import urlsplit

from manifests.records import Attachment, Message, Participant
from parsers.chat import _nsurlcache
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import HIGH
from parsers.sqlite_store import Database

HOSTS = ("discord.com", "discordapp.com", "ptb.discord.com", "canary.discord.com")
MESSAGES_PATH = re.compile(r"^/api(/v\d+)?/channels/(\d+)/messages$")
LOGIN_PATH = re.compile(r"^/api(/v\d+)?/auth/login$")
TABLE = "cfurl_cache_receiver_data"
SYSTEM_TYPES = {1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 14, 15, 16, 17, 18, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 32, 36, 37, 38, 39}
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


class DiscordIos(SqliteChatParser):
    name = "discord_ios"
    version = "1"
    app = "Discord"
    platform = "iOS"
    paths = ("*/Library/Caches/com.hammerandchisel.discord/Cache.db",)
    companions: ClassVar[tuple[str, ...]] = ("*/Library/Caches/com.hammerandchisel.discord/fsCachedData/*",)
    variants = (_nsurlcache.variant("ios_nsurlcache"),)

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        cached = list(_nsurlcache.responses(database, context, _wanted))
        owner: str | None = None
        pages: list[tuple[_nsurlcache.CachedResponse, object]] = []
        for response in cached:
            try:
                document = response.json()
            except ValueError as error:
                context.warn("bad_json", f"cached response of {urlsplit(response.url).path} is not JSON: {error}", table=TABLE,
                             row_id=response.entry_id, field=response.source)
                continue
            if LOGIN_PATH.match(urlsplit(response.url).path):
                if isinstance(document, dict) and isinstance(document.get("user_id"), str):
                    owner = document["user_id"]
            else:
                pages.append((response, document))
        for response, document in pages:
            yield from self._page(response, document, owner, context)

    def _page(self, response: _nsurlcache.CachedResponse, document: object, owner: str | None,
              context: ParseContext) -> Iterator[Message]:
        items = document if isinstance(document, list) else [document]
        for index, item in enumerate(items):
            field = f"{response.source}[{index}]"
            if not isinstance(item, dict) or "id" not in item:
                context.warn("bad_json", f"{field} is not a message object", table=TABLE, row_id=response.entry_id, field=field)
                continue
            try:
                message = _message(item, owner, response.entry_id, field, context)
            except (TypeError, ValueError, KeyError) as error:
                context.warn("bad_row", f"{field}: {type(error).__name__}: {error}", table=TABLE, row_id=response.entry_id, field=field)
                continue
            message.details.update({"cache_source": response.source, "cache_item": str(index),
                                    "cache_stored": str(response.time_stamp)})
            yield message


def _message(item: dict, owner: str | None, entry_id: int, field: str, context: ParseContext) -> Message:
    author = item.get("author") if isinstance(item.get("author"), dict) else {}
    author_id = author.get("id")
    sender = Participant(author_id, author.get("global_name") or author.get("username")) if author_id else None
    direction = "unknown" if owner is None or author_id is None else ("outgoing" if author_id == owner else "incoming")
    sent = context.time(item.get("timestamp"), iso_ns, table=TABLE, row_id=entry_id, field=f"{field}.timestamp")
    edited = context.time(item.get("edited_timestamp"), iso_ns, table=TABLE, row_id=entry_id, field=f"{field}.edited_timestamp")
    attachments = tuple(
        Attachment(file_name=a.get("filename"), mime_type=a.get("content_type"), size=a.get("size") if isinstance(a.get("size"), int) else None)
        for a in item.get("attachments") or () if isinstance(a, dict))
    details = {"message_id": str(item["id"]), "type": str(item.get("type"))}
    if author.get("username"):
        details["author_username"] = str(author["username"])
        if author.get("discriminator") not in (None, "0"):
            details["author_username"] += f"#{author['discriminator']}"
    urls = [a.get("url") for a in item.get("attachments") or () if isinstance(a, dict) and a.get("url")]
    if urls:
        details["attachment_urls"] = "\n".join(urls)
    reactions = [f"{r['emoji'].get('name')} {r.get('count')}" for r in item.get("reactions") or ()
                 if isinstance(r, dict) and isinstance(r.get("emoji"), dict)]
    if reactions:
        details["reactions"] = ", ".join(reactions)
    reference = item.get("referenced_message")
    if isinstance(reference, dict) and reference.get("id"):
        details["reply_to"] = str(reference["id"])
    call = item.get("call")
    if isinstance(call, dict):
        details["call_ended"] = str(call.get("ended_timestamp"))
        details["call_participants"] = ", ".join(str(p) for p in call.get("participants") or ())
    stickers = [s.get("name") for s in item.get("sticker_items") or () if isinstance(s, dict)]
    if stickers:
        details["stickers"] = ", ".join(str(s) for s in stickers)
    return Message(
        source_table=TABLE, source_row_id=entry_id, conversation_id=str(item.get("channel_id")), sender=sender,
        direction=direction, sent=sent, sent_raw=item.get("timestamp"), edited=edited,
        body=item.get("content"), kind=_kind(item.get("type"), attachments, stickers),
        attachments=attachments, is_edited=edited is not None, account_id=owner, details=details,
    )


def _kind(code: object, attachments: tuple[Attachment, ...], stickers: list) -> str:
    if code == 3:
        return "call"
    if code in SYSTEM_TYPES:
        return "system"
    if stickers:
        return "sticker"
    if attachments:
        return "media"
    return "text" if code in (0, 19, 20, 23) else "unknown"


def iso_ns(value: object) -> int:
    """Discord's ISO 8601 time (with UTC offset) as exact integer ns since 1970."""
    moment = datetime.fromisoformat(str(value))
    if moment.tzinfo is None:
        raise ValueError("time has no UTC offset")
    delta = moment - EPOCH
    ns = (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
    if not 0 <= ns < HIGH:
        raise ValueError(f"{value!r} is outside 1970..2100")
    return ns


def _wanted(url: str) -> bool:
    parts = urlsplit(url)
    return parts.hostname in HOSTS and bool(MESSAGES_PATH.match(parts.path) or LOGIN_PATH.match(parts.path))


PARSER = DiscordIos()
