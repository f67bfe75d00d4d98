"""Twitter/X for iOS: the direct-message cache (`Library/Caches/com.atebits.tweetie.direct-message.cache/<account>`).

Format facts (read from the corpus file of iLEAPP's test case `twitterX` (josh_ios17_ffs) and the column
list of iLEAPP's expected output for it, for facts only; written in our own words):
- The file is one NSKeyedArchiver binary plist per account (named by the account key, e.g.
  `TDfir-725479270958694`). Its root object (`TFNDirectMessageContextState`) holds `inbox`
  (`TFNDirectMessageInbox`), `cachedUserByUserID` (user id -> `TFNDirectMessageUser`: `userID`,
  `fullName`, `username`), `outgoingMessages` (messages not yet sent) and `directMessageModelVersion`.
- `inbox.context` names the owner: `userID` (numeric) and `accountID` (the account key).
- The inbox has three timelines, `trusted_conversations_timeline` (the inbox proper),
  `untrusted_conversations_timeline` (message requests) and `low_quality_conversations_timeline`;
  each lists `conversations` (`TFNDirectMessageConversation`: `identifier.canonicalID` -- for a
  one-to-one chat the two user ids joined by '-' --, `conversationName` for named groups,
  `participants`, `entries`).
- Entries, by class: `TFNDirectMessageEntry` (a message: `identifier.canonicalID` = message id,
  `time` NSDate (Cocoa seconds, UTC), `sender` (a user object), `originalText` (the text as sent; media
  appear as a t.co link), `attachment` (`TFNDirectMessageMediaAttachment.entityMedia`: `mediaURL`,
  `displayURL`, `expandedURL`, `mediaID`), `inReplyToMessageEntry` (the replied-to entry),
  `marked_as_spam`, `marked_as_abuse`, `encryptedText`); `TFNDirectMessageReactionCreatedEntry`
  (`sender`, `time`, `message_id` = the reacted-to message, `reaction_key`, `emoji_reaction`);
  `TFNDirectMessageEndAvBroadcastEntry` (an audio/video call: `call_type`, `is_caller`, `started_at`,
  `ended_at`, `end_reason`, `time`). Other entry classes are kept as kind "unknown" with their class name.

Decisions:
- source_table "entries", source_row_id = the 1-based index of the entry in file order (timelines in
  the order above, conversations and entries as stored).
- account_id is the owner's numeric user id (so it equals an outgoing message's sender id); the account
  key (iLEAPP's "Account ID") is details["account_key"]. Names are "fullName (@username)" from the
  user cache, else from the entry's own sender object.
- Body = `originalText` exactly as stored (None for reactions and calls; the emoji is in details).
- Calls: direction from `is_caller` (outgoing when the owner called); sender is the owner for an
  outgoing call and otherwise unknown (the entry does not name the caller).
- `outgoingMessages` (unsent drafts) are not read; when that section is not empty a warning says so.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import urlsplit

from manifests.records import Attachment, Message, Participant
from parsers.artefact import Artefact
from parsers.chat.base import FileChatParser, ParseContext
from parsers.chat.times import cocoa_seconds
from parsers.decode.nskeyed import Archived, ArchiveError, CocoaDate, unarchive

TABLE = "entries"
TIMELINES = (("trusted_conversations_timeline", "trusted"), ("untrusted_conversations_timeline", "untrusted"),
             ("low_quality_conversations_timeline", "low_quality"))
MESSAGE, REACTION, CALL = "TFNDirectMessageEntry", "TFNDirectMessageReactionCreatedEntry", "TFNDirectMessageEndAvBroadcastEntry"
# A damaged archive can hold a UID where a key name belongs; Archived.field then raises AttributeError.
CORRUPT = (AttributeError, TypeError, ValueError)
PATH_GLOB = "*/Library/Caches/com.atebits.tweetie.direct-message.cache/*"


@dataclass
class Owner:
    """The account the cache belongs to, and the users the cache knows by id."""

    user_id: str | None
    account_key: str | None
    users: dict[str, Participant]
    model_version: str | None


@dataclass
class Item:
    """One entry with where it was found (ParseContext.each names a bad one by its `index`)."""

    index: int
    timeline: str
    conversation: Archived
    entry: Any


class TwitterXIos(FileChatParser):
    name = "twitter_x_ios"
    version = "1"
    app = "Twitter/X"
    platform = "iOS"
    paths = (PATH_GLOB,)

    def recognises(self, path: str, head: bytes) -> bool:
        return head.startswith(b"bplist00") and self.path_matches(path)

    def parse(self, artefact: Artefact, context: ParseContext) -> Iterator[Message]:
        target = context.scratch / "dm.cache"
        artefact.copy_to(target)
        try:
            root = unarchive(target.read_bytes())
        except (ArchiveError, *CORRUPT) as error:  # the unarchiver can trip over a damaged object graph
            context.warn("bad_archive", f"{artefact.path}: the DM cache cannot be read ({error}); no messages from it",
                         table=TABLE, severity="error")
            return
        try:
            prepared = _prepare(root, artefact.path, context)
        except CORRUPT as error:
            context.warn("bad_archive", f"{artefact.path}: the inbox is damaged ({type(error).__name__}: {error}); "
                         "no messages from it", table=TABLE, severity="error")
            return
        if prepared is None:
            return
        owner, items = prepared
        yield from context.each(items, TABLE, lambda item: self._checked(item, owner, context), "index")

    def _checked(self, item: Item, owner: Owner, context: ParseContext) -> Message:
        """_message, with a damaged archive's odd shapes (a UID where a key name belongs) as a row error."""
        try:
            return self._message(item, owner, context)
        except CORRUPT as error:
            raise ValueError(f"damaged entry: {type(error).__name__}: {error}") from error

    def _message(self, item: Item, owner: Owner, context: ParseContext) -> Message:
        entry = item.entry
        if not isinstance(entry, Archived):
            raise TypeError(f"entry is {type(entry).__name__}, not an archived object")
        conversation_id = _text(_canonical(item.conversation.field("identifier")))
        details = {"timeline": item.timeline, "entry_class": entry.classname}
        for name, value in (("account_key", owner.account_key), ("model_version", owner.model_version)):
            if value is not None:
                details[name] = value
        message_id = _text(_canonical(entry.field("identifier")))
        if message_id is not None:
            details["message_id"] = message_id
        stamp = entry.field("time")
        seconds = stamp.seconds if isinstance(stamp, CocoaDate) else None
        sent = context.time(seconds, cocoa_seconds, table=TABLE, row_id=item.index, field="time")
        sender_id = _text(_user_id(entry.field("sender")))
        kind, body, attachments = "unknown", None, ()
        if entry.classname == MESSAGE:
            kind, body, attachments = _content(entry, details)
        elif entry.classname == REACTION:
            kind = "reaction"
            for name in ("reaction_key", "emoji_reaction"):
                if entry.field(name) is not None:
                    details[name] = str(entry.field(name))
            reacted = _canonical(entry.field("message_id"))
            if reacted is not None:
                details["reacted_to_message_id"] = str(reacted)
        elif entry.classname == CALL:
            kind = "call"
            _call(entry, details)
            if entry.field("is_caller") is True:
                sender_id = owner.user_id
        direction = _direction(entry, sender_id, owner)
        members = _members(item.conversation, conversation_id)
        sender = _person(sender_id, entry.field("sender"), owner) if sender_id else None
        recipients = tuple(_person(m, None, owner) for m in members if m != sender_id) if sender_id else ()
        title = item.conversation.field("conversationName")
        return Message(
            source_table=TABLE, source_row_id=item.index, conversation_id=conversation_id,
            conversation_title=title if isinstance(title, str) and title else None, sender=sender, recipients=recipients,
            direction=direction, sent=sent, sent_raw=repr(seconds) if seconds is not None else None, body=body, kind=kind,
            attachments=attachments, account_id=owner.user_id, details=details,
        )


def _prepare(root: Any, path: str, context: ParseContext) -> tuple[Owner, list[Item]] | None:
    """Owner and entries of the inbox; None (with a warning) when there is no inbox."""
    inbox = root.field("inbox") if isinstance(root, Archived) else None
    if not isinstance(inbox, Archived):
        context.warn("bad_archive", f"{path}: archive root has no inbox (root {type(root).__name__}); no messages from it",
                     table=TABLE, severity="error")
        return None
    if root.field("outgoingMessages"):
        context.warn("not_read", "outgoingMessages (unsent messages) is not empty and is not read", table=TABLE)
    for key, _ in TIMELINES:
        if not isinstance(inbox.field(key), Archived):
            context.warn("missing_section", f"{path}: the inbox has no {key}; its conversations are missing", table=TABLE)
    return _owner(root, inbox), list(_items(inbox))


def _owner(root: Archived, inbox: Archived) -> Owner:
    owner_context = inbox.field("context")
    user_id = account_key = None
    if isinstance(owner_context, Archived):
        user_id, account_key = _text(owner_context.field("userID")), _text(owner_context.field("accountID"))
    users: dict[str, Participant] = {}
    cached = root.field("cachedUserByUserID")
    if isinstance(cached, dict):
        for key, user in cached.items():
            if isinstance(user, Archived):
                users[str(key)] = Participant(str(key), _name(user))
    version = root.field("directMessageModelVersion")
    return Owner(user_id, account_key, users, None if version is None else str(version))


def _items(inbox: Archived) -> Iterator[Item]:
    """Every entry of every conversation of every timeline, numbered from 1 in file order."""
    index = 0
    for key, label in TIMELINES:
        timeline = inbox.field(key)
        if not isinstance(timeline, Archived):
            continue
        for conversation in timeline.field("conversations") or []:
            if not isinstance(conversation, Archived):
                continue
            for entry in conversation.field("entries") or []:
                index += 1
                yield Item(index, label, conversation, entry)


def _content(entry: Archived, details: dict[str, str]) -> tuple[str, str | None, tuple[Attachment, ...]]:
    """Kind, body and attachments of a message entry; reply, spam and media facts into details."""
    text = entry.field("originalText")
    body = text if isinstance(text, str) else None
    for name in ("marked_as_spam", "marked_as_abuse"):
        if isinstance(entry.field(name), bool):
            details[name] = "true" if entry.field(name) else "false"
    if entry.field("encryptedText") is not None:
        details["encrypted_text"] = "present"
    reply = entry.field("inReplyToMessageEntry")
    if isinstance(reply, Archived) and _canonical(reply.field("identifier")) is not None:
        details["reply_to_message_id"] = str(_canonical(reply.field("identifier")))
    attachment = entry.field("attachment")
    if not isinstance(attachment, Archived):
        return "text", body, ()
    details["attachment_class"] = attachment.classname
    media = attachment.field("entityMedia")
    if not isinstance(media, Archived):
        return "media", body, ()
    for source, name in (("mediaURL", "media_url"), ("displayURL", "display_url"), ("expandedURL", "expanded_url"),
                         ("mediaID", "media_id"), ("mediaType", "media_type")):
        if media.field(source) not in (None, ""):
            details[name] = str(media.field(source))
    url = media.field("mediaURL")
    file_name = (posixpath.basename(urlsplit(url).path) or None) if isinstance(url, str) else None
    return "media", body, (Attachment(file_name=file_name),)


def _call(entry: Archived, details: dict[str, str]) -> None:
    for name in ("call_type", "is_caller", "end_reason"):
        value = entry.field(name)
        if value is not None:
            details[name] = str(value).lower() if isinstance(value, bool) else str(value)
    for name in ("started_at", "ended_at"):
        value = entry.field(name)
        if isinstance(value, CocoaDate):
            details[name] = repr(value.seconds)  # Cocoa seconds, as stored


def _direction(entry: Archived, sender_id: str | None, owner: Owner) -> str:
    if entry.classname == CALL:
        caller = entry.field("is_caller")
        return "unknown" if not isinstance(caller, bool) else ("outgoing" if caller else "incoming")
    if sender_id is None or owner.user_id is None:
        return "unknown"
    return "outgoing" if sender_id == owner.user_id else "incoming"


def _members(conversation: Archived, conversation_id: str | None) -> list[str]:
    """Member ids: the participants list, else the ids a one-to-one canonical id is made of."""
    found: list[str] = []
    for participant in conversation.field("participants") or []:
        user_id = _user_id(participant)
        if user_id is not None and str(user_id) not in found:
            found.append(str(user_id))
    if not found and conversation_id and all(part.isdigit() for part in conversation_id.split("-")):
        found = conversation_id.split("-")
    return found


def _person(user_id: str, embedded: Any, owner: Owner) -> Participant:
    if user_id in owner.users:
        return owner.users[user_id]
    if isinstance(embedded, Archived) and _text(embedded.field("userID")) == user_id:
        return Participant(user_id, _name(embedded))
    return Participant(user_id)


def _name(user: Archived) -> str | None:
    full_name, user_name = user.field("fullName"), user.field("username")
    if full_name and user_name:
        return f"{full_name} (@{user_name})"
    return full_name or (f"@{user_name}" if user_name else None)


def _user_id(user: Any) -> Any:
    if isinstance(user, dict):
        return user.get("userID") if not isinstance(user, Archived) else user.field("userID")
    return None


def _canonical(identifier: Any) -> Any:
    return identifier.get("canonicalID") if isinstance(identifier, dict) else None


def _text(value: object) -> str | None:
    return None if value is None else str(value)


PARSER = TwitterXIos()
