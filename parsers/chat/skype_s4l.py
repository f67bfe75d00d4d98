"""Skype 8+ (Electron / "Skype for Linux") `s4l-<user>.db`: key-value tables of JSON documents.

Schema facts (read for facts only: the IPED corpus file `test_skypeS4lStreeguil1.db`; IPED
`iped-parsers/.../skype/v8/SkypeSqliteV12.java`):
- Every store table is `(nsp_pk TEXT PRIMARY KEY, nsp_data TEXT, nsp_i_* index columns)`: `nsp_pk` is
  a text key, so the SQLite rowid is the implicit one (read as `rowid`); `nsp_data` is one JSON object.
- `messagesv12.nsp_data`: `cuid` (client message id), `conversationId`, `creator` (MRI such as
  "8:streeguil1" or "8:live:.cid..."), `_isMyMessage` (1 when the owner wrote it), `content` (text with
  Skype markup, kept exactly), `createdTime` (Unix milliseconds), `messagetype` ("Text", "RichText",
  "RichText/UriObject", "Event/Call", "ThreadActivity/...").
- `conversationsv14` (older builds: `conversationsv13`) `.nsp_data.conv`: `id`, `_threadProps.topic`
  (group title), `_threadMembers[].id`.
- `profilecachev8.nsp_data`: `mri`, `fullName`, `displayNameOverride`, `firstName`, `lastName`.
- `internaldata` row `Cpriv_prefs_v2`: `value.skypeName` is the owner's Skype name (MRI "8:<name>").
Where it is kept: Skype 8 desktop (`Skype for Desktop/IndexedDB/`), the Windows 10 Store app from about
14.23 (`Packages/Microsoft.SkypeApp_*/LocalState/s4l-<user>.db`; bebinary4n6, 2019-07-23), and on
Android names beginning `s4l-live:` in `com.skype.raider/databases/` (bebinary4n6, 2020-01-28; whether
those hold this layout or skype_android's `chatItem` is not confirmed: the schema decides).
Other table versions: only `messagesv12`, `conversationsv13` and `conversationsv14` are documented (IPED,
the corpus store). A store with another `messagesvNN`/`conversationsvNN` (the highest of each that has the
`nsp_pk`/`nsp_data` columns; names checked against a fixed pattern before they reach SQL) is still read
with the same JSON field names, with an info warning `s4l_version_unconfirmed` saying so.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Iterable, Iterator

from manifests.records import Message, Participant
from parsers.chat._rows import side_read
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.times import unix_ms
from parsers.sqlite_store import Database

STORE = ("nsp_pk", "nsp_data")
# Table names reach SQL only from the declared variants or after matching this pattern.
VERSIONED = re.compile(r"(messages|conversations)v([0-9]{1,4})")
PROFILES_SQL = "SELECT rowid AS row_id, nsp_pk, nsp_data FROM profilecachev8"
PREFS_SQL = "SELECT nsp_data FROM internaldata WHERE nsp_pk = ?"
PREFS_KEY = "Cpriv_prefs_v2"

KINDS = {"text": "text", "richtext": "text", "richtext/uriobject": "media", "richtext/media_genericfile": "media",
         "richtext/media_video": "media", "richtext/media_audiomsg": "media", "richtext/media_album": "media",
         "richtext/media_card": "media", "richtext/location": "location", "richtext/contacts": "contact",
         "event/call": "call", "poll": "poll"}


class SkypeS4l(SqliteChatParser):
    name = "skype_s4l"
    version = "1"
    app = "Skype 8+"
    platform = "Windows/macOS/Linux desktop"
    paths = ("*/s4l-*.db",)
    variants = (
        Variant("messagesv12_conversationsv14", {"messagesv12": STORE, "conversationsv14": STORE}),
        Variant("messagesv12_conversationsv13", {"messagesv12": STORE, "conversationsv13": STORE}),
    )

    def match(self, database: Database) -> Variant | None:
        return super().match(database) or _by_pattern(database)

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        owner = _owner(database, context)
        names = _profiles(database, context)
        tables = {VERSIONED.fullmatch(t)[1]: t for t in variant.required if VERSIONED.fullmatch(t)}  # type: ignore[index]
        if variant.name.startswith("pattern:"):
            context.warn("s4l_version_unconfirmed",
                         f"{', '.join(sorted(tables.values()))}: table version not documented (known: messagesv12, "
                         "conversationsv13/v14); read with the messagesv12/conversationsv14 JSON field names",
                         table=tables["messages"], severity="info")
        conversations: dict[str, tuple[str | None, tuple[str, ...]]] = {}
        if "conversations" in tables:
            table = tables["conversations"]
            rows = side_read(database.query(f"SELECT rowid AS row_id, nsp_pk, nsp_data FROM {table}"), table, context)
            conversations = _conversations(rows, table, context)
        messages = tables["messages"]
        yield from context.each(database.query(f"SELECT rowid AS row_id, nsp_pk, nsp_data FROM {messages} ORDER BY rowid"), messages,
                                lambda row: self._message(row, messages, owner, names, conversations, context), "row_id")

    def _message(self, row: sqlite3.Row, table: str, owner: str | None, names: dict[str, str],
                 conversations: dict[str, tuple[str | None, tuple[str, ...]]], context: ParseContext) -> Message:
        row_id = row["row_id"]
        data = _json(row["nsp_data"], table, row_id, context)
        if data is None:
            return Message(source_table=table, source_row_id=row_id, kind="unknown", account_id=owner,
                           details={"nsp_pk": str(row["nsp_pk"])})
        creator = _str(data.get("creator"))
        direction = _direction(data.get("_isMyMessage"), creator, owner)
        outgoing = direction == "outgoing"
        conversation_id = _str(data.get("conversationId"))
        title, members = conversations.get(conversation_id or "", (None, ()))
        created = data.get("createdTime")
        message_type = _str(data.get("messagetype"))
        recipients = _recipients(conversation_id, members, creator, outgoing, owner, names)
        details = {"nsp_pk": str(row["nsp_pk"])}
        for key in ("cuid", "messagetype", "_isMyMessage"):
            if data.get(key) is not None:
                details[key] = str(data[key])
        return Message(
            source_table=table, source_row_id=row_id, conversation_id=conversation_id, conversation_title=title,
            sender=Participant(creator, names.get(creator)) if creator else None, recipients=recipients,
            direction=direction,
            sent=context.time(created, unix_ms, table=table, row_id=row_id, field="nsp_data.createdTime"),
            sent_raw=None if created is None else str(created), body=_str(data.get("content")),
            kind=KINDS.get((message_type or "").lower(), "system" if (message_type or "").lower().startswith("threadactivity/") else
                           ("text" if message_type is None else "unknown")),
            account_id=owner, details=details,
        )


def _by_pattern(database: Database) -> Variant | None:
    """An undocumented `messagesvNN` (and `conversationsvNN` when there is one): the highest version of each."""
    best: dict[str, tuple[int, str]] = {}
    for table in sorted(database.tables):
        found = VERSIONED.fullmatch(table)
        if found is None or not database.has(table, *STORE):
            continue
        number = int(found[2])
        if number > best.get(found[1], (-1, ""))[0]:
            best[found[1]] = (number, table)
    if "messages" not in best:
        return None
    required = {table: STORE for _, table in (best[k] for k in ("messages", "conversations") if k in best)}
    return Variant("pattern:" + "_".join(required), required)


def _direction(mine: object, creator: str | None, owner: str | None) -> str:
    """`_isMyMessage` when stored; else the writer compared with the owner; else unknown."""
    if mine in (1, True):
        return "outgoing"
    if mine in (0, False):
        return "incoming"
    if owner is not None and creator is not None:
        return "outgoing" if creator == owner else "incoming"
    return "unknown"


def _recipients(conversation_id: str | None, members: tuple[str, ...], creator: str | None, outgoing: bool,
                owner: str | None, names: dict[str, str]) -> tuple[Participant, ...]:
    """Group members other than the writer; in a 1:1 chat (id = the partner's MRI) the other side."""
    if members:
        return tuple(Participant(m, names.get(m)) for m in members if m != creator)
    if conversation_id and not conversation_id.startswith("19:"):
        other = conversation_id if outgoing else owner
        return (Participant(other, names.get(other)),) if other else ()
    return ()


def _json(text: object, table: str, row_id: int | None, context: ParseContext) -> dict | None:
    """One JSON object, or None with a warning (the row is still reported)."""
    try:
        value = json.loads(text) if isinstance(text, (str, bytes)) else None
    except ValueError as error:
        context.warn("bad_json", f"nsp_data is not JSON: {error}", table=table, row_id=row_id, field="nsp_data")
        return None
    if not isinstance(value, dict):
        context.warn("bad_json", f"nsp_data is not a JSON object ({type(value).__name__})", table=table, row_id=row_id, field="nsp_data")
        return None
    return value


def _owner(database: Database, context: ParseContext) -> str | None:
    if not database.has("internaldata", *STORE):
        return None
    for row in side_read(database.query(PREFS_SQL, (PREFS_KEY,)), "internaldata", context):
        data = _json(row["nsp_data"], "internaldata", None, context)
        value = data.get("value") if data else None
        name = value.get("skypeName") if isinstance(value, dict) else None
        if isinstance(name, str) and name:
            return f"8:{name}"
    return None


def _profiles(database: Database, context: ParseContext) -> dict[str, str]:
    names: dict[str, str] = {}
    if not database.has("profilecachev8", *STORE):
        return names
    for row in side_read(database.query(PROFILES_SQL), "profilecachev8", context):
        data = _json(row["nsp_data"], "profilecachev8", row["row_id"], context)
        if not data or not isinstance(data.get("mri"), str):
            continue
        joined = " ".join(p for p in (data.get("firstName"), data.get("lastName")) if isinstance(p, str) and p)
        label = data.get("displayNameOverride") or data.get("fullName") or joined
        if isinstance(label, str) and label:
            names[data["mri"]] = label
    return names


def _conversations(rows: Iterable[sqlite3.Row], table: str, context: ParseContext) -> dict[str, tuple[str | None, tuple[str, ...]]]:
    """conversation id -> (topic, member MRIs)."""
    found: dict[str, tuple[str | None, tuple[str, ...]]] = {}
    for row in rows:
        data = _json(row["nsp_data"], table, row["row_id"], context)
        conv = data.get("conv") if data else None
        if not isinstance(conv, dict) or not isinstance(conv.get("id"), str):
            continue
        props = conv.get("_threadProps")
        topic = props.get("topic") if isinstance(props, dict) and isinstance(props.get("topic"), str) else None
        members = conv.get("_threadMembers")
        ids = tuple(m["id"] for m in members if isinstance(m, dict) and isinstance(m.get("id"), str)) if isinstance(members, list) else ()
        found[conv["id"]] = (topic or None, ids)
    return found


def _str(value: object) -> str | None:
    return value if isinstance(value, str) else (None if value is None else str(value))


PARSER = SkypeS4l()
