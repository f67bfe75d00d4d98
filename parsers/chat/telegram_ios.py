"""Telegram for iOS: the Postbox key-value store `postbox/db/db_sqlite` — recognised, not decoded.

Format facts (TelegramMessenger/Telegram-iOS `submodules/Postbox/Sources/SqliteValueBox.swift`,
read for facts only): Postbox keeps every table in SQLite as `t<id>` with columns `key` and
`value` (binary keys: `key BLOB`, in newer releases `WITHOUT ROWID`; int64 keys: `key INTEGER
PRIMARY KEY`), lists them in `__meta_tables (name INTEGER, keyType INTEGER)`, and full-text indexes
in `__meta_fulltext_tables` / `ft<id>` (fts5). In the message history table a key is peer id
(int64), namespace (int32), timestamp (int32) and message id (int32), big-endian; the value is
Postbox's own serialisation of the message (flags, ids, forward info, author, text, attributes
and embedded media as PostboxEncoder objects), whose layout changed between app versions.
Recent releases also encrypt db_sqlite with SQLCipher (key in `.tempkeyEncrypted`).

Why no messages: the value layout is versioned and undocumented outside the app's source, and a
wrong decode would put wrong text or times in evidence. Every Postbox database found therefore
gives one `unsupported_format` warning naming it and how many Postbox tables it lists, so the
examiner knows Telegram iOS data is present and unread.
"""

from __future__ import annotations

from typing import Iterator

from manifests.records import Message
from parsers.chat.base import ParseContext, SqliteChatParser, Variant
from parsers.sqlite_store import Database

TABLES_SQL = "SELECT count(*) AS tables FROM __meta_tables"


class TelegramIos(SqliteChatParser):
    name = "telegram_ios"
    version = "1"
    app = "Telegram"
    platform = "iOS"
    paths = ("*/telegram-data/account-*/postbox/db/db_sqlite", "*/postbox/db/db_sqlite")
    variants = (Variant("postbox", {"__meta_tables": ("name", "keyType")}),)

    def parse(self, database: Database, variant: Variant, context: ParseContext) -> Iterator[Message]:
        count = database.query(TABLES_SQL)[0]["tables"]
        context.warn("unsupported_format",
                     f"{database.artefact.path}: Telegram iOS Postbox database ({count} Postbox tables); its message values "
                     "use an undocumented, versioned serialisation that this parser does not decode, so no messages were read",
                     table="__meta_tables")
        return iter(())


PARSER = TelegramIos()
