"""Facebook Messenger on iOS: the "lightspeed" (MSYS) store `lightspeed-userDatabases/<uid>.db`.

Schema facts (own words; sources: iLEAPP `scripts/artifacts/facebookMessenger.py` and ALEAPP
`scripts/artifacts/FacebookMessenger.py`, read for facts): the iOS store is the same MSYS schema as
Android's `msys_database_*`, plus `_user_info(facebook_user_id)` naming the logged-in account.
- `messages`: `message_id`, `thread_key`, `sender_id`, `text`, `timestamp_ms` (Unix ms),
  `is_admin_message`; iLEAPP reads it through the view `thread_messages` (a view has no rowid, so
  this parser reads the table itself, keeping source_table/source_row_id real).
- `contacts`: `id`, `name`; `attachments`: `message_id`, `filename`, `filesize`,
  `playable_url_mime_type`, `playable_url`; `attachment_items`: `message_id`, `title_text`,
  `subtitle_text` (call captions such as "Audio call" / duration); `reactions`: `message_id`,
  `reaction`, `actor_id`; `participants`: `thread_key`, `contact_id`; `threads`: `thread_key`,
  `thread_name`.
- The Facebook app keeps a copy of the same mailbox at
  `cask/<uid>/FBMessagingMailboxCaskStore/<n>/fb-msys-<uid>.db`.
Required (issue 10): only `messages` `message_id`, `thread_key`, `sender_id`, `text`, `timestamp_ms` and
`_user_info.facebook_user_id` (the owner, so the direction; it is also what tells this store from Android's
`msys_database_*`). `contacts` was required before and is now read when present (names are missing without
it, the messages are not). No public source lists lightspeed schema changes between app versions (iLEAPP's
and ALEAPP's modules read one column set for every image they name): which columns older or newer builds
lack is **not confirmed**, so every other table and column is optional.
End-to-end encrypted chats (`client_messages`) are a different table family and not read here.
Before lightspeed (about 2020), Messenger for iOS kept chats in
`AppGroup/<UUID>/_store_<ID>/messenger_messages_v1/orca2.db` (contacts in `messenger_contacts_v1/
fbsyncstore.db`, table `people`), with the messages inside blob fields (a forensics textbook and a 2018
Autopsy plugin that decodes the file with a closed helper). Its tables and blob format are **not publicly
documented** in any source found, so there is no variant: the path is declared so that such a store is
reported (`schema_unrecognised`, naming this parser), never silently skipped.
"""

from __future__ import annotations

from typing import Iterator

from manifests.records import Attachment, Message
from parsers.chat._rows import side_read
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.chat.messenger_android import (
    MSYS_MESSAGE_COLUMNS,
    MSYS_OPTIONAL,
    msys_message,
    msys_participants,
    msys_reactions,
    msys_titles,
    names_by_id,
    select,
)
from parsers.sqlite_store import Database


class MessengerIos(SqliteChatParser):
    name = "messenger_ios"
    version = "2"
    app = "Facebook Messenger"
    platform = "iOS"
    paths = ("*/lightspeed-userDatabases/*.db", "*/lightspeed-*.db", "*/FBMessagingMailboxCaskStore/*/fb-msys-*.db",
             "*/messenger_messages_v1/orca2.db")
    variants = (
        # `_user_info` names the owner (the direction) and keeps the store off messenger_android; contacts,
        # threads, participants, attachments and reactions are read when the store has them.
        Variant("lightspeed", {"messages": MSYS_MESSAGE_COLUMNS, "_user_info": ("facebook_user_id",)},
                {"messages": MSYS_OPTIONAL}),
    )

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        rows = side_read(database.query("SELECT facebook_user_id FROM _user_info"), "_user_info", context)
        owners = [str(r[0]) for r in rows if r[0] is not None]
        if len(set(owners)) > 1:
            context.warn("ambiguous_owner", f"_user_info lists several accounts {sorted(set(owners))}; the first is used as owner")
        owner = owners[0] if owners else None
        names = names_by_id(database, context)
        files = self._files(database, context)
        captions = self._captions(database, context)
        reactions = msys_reactions(database, context)
        members = msys_participants(database, context)
        titles = msys_titles(database, context)
        rows = select(database, "messages", MSYS_MESSAGE_COLUMNS, MSYS_OPTIONAL, "timestamp_ms, message_id", context)
        yield from context.each(rows, "messages", lambda r: msys_message(
            r, owner, names, files.get(str(r["message_id"]), []), captions.get(str(r["message_id"]), []),
            reactions.get(str(r["message_id"]), []), members.get(str(r["thread_key"]), []), titles.get(str(r["thread_key"])),
            context), "row_key")

    def _files(self, database: Database, context: ParseContext) -> dict[str, list[Attachment]]:
        files: dict[str, list[Attachment]] = {}
        if not database.has("attachments", "message_id"):
            return files
        wanted = ("filename", "filesize", "playable_url_mime_type", "playable_url")
        columns = ["message_id", *(c if database.has("attachments", c) else f"NULL AS {c}" for c in wanted)]
        sql = f"SELECT {', '.join(columns)} FROM attachments ORDER BY message_id, filename"
        for row in side_read(database.query(sql), "attachments", context):
            size = row["filesize"] if isinstance(row["filesize"], int) else None
            files.setdefault(str(row["message_id"]), []).append(
                Attachment(file_name=row["filename"], mime_type=row["playable_url_mime_type"], size=size, local_path=row["playable_url"]))
        return files

    def _captions(self, database: Database, context: ParseContext) -> dict[str, list[str]]:
        captions: dict[str, list[str]] = {}
        for table in ("attachment_items", "attachments"):
            if not database.has(table, "message_id", "title_text", "subtitle_text"):
                continue
            sql = f"SELECT message_id, title_text, subtitle_text FROM {table} ORDER BY message_id, title_text"
            for row in side_read(database.query(sql), table, context):
                captions.setdefault(str(row["message_id"]), []).extend(t for t in (row["title_text"], row["subtitle_text"]) if t)
        return captions


PARSER = MessengerIos()
