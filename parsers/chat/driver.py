"""Parse one artefact with every chat parser that recognises it, and mark WAL-only rows.

Recognition is by schema (a variant's required tables and columns), so a renamed or relocated copy
of a database is still read; a path match alone with no variant is a warning carrying the schema's
fingerprint, so a new app version shows up instead of vanishing.
"""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from manifests.records import Message, ParseWarning
from parsers.artefact import Artefact, Catalog
from parsers.chat.base import ChatParser, ParseContext, SqliteChatParser, Variant
from parsers.chat.registry import file_parsers, sqlite_parsers
from parsers.sqlite_store import Database, NotSQLiteError, _schema_tables, is_sqlite_head, open_copy

HEAD_BYTES = 4096


@dataclass(frozen=True)
class ParsedMessage:
    parser: ChatParser
    message: Message
    record_state: str


@dataclass
class ArtefactResult:
    """Messages in parser order, then message order; warnings as (parser name or '', warning)."""

    messages: list[ParsedMessage] = field(default_factory=list)
    warnings: list[tuple[str, ParseWarning]] = field(default_factory=list)


def parse_artefact(artefact: Artefact, catalog: Catalog, keys: Mapping[str, str] | None = None,
                   scratch: Path | None = None) -> ArtefactResult:
    """Every message any parser reads from `artefact`; every failure as a warning."""
    result = ArtefactResult()
    keys = keys or {}
    with tempfile.TemporaryDirectory(prefix="exhibit-chat-", dir=scratch) as folder:
        work = Path(folder)
        try:
            head = artefact.read_head(HEAD_BYTES)
        except OSError as error:
            result.warnings.append(("", ParseWarning("artefact_unreadable", f"{artefact.path}: {error}", severity="error")))
            return result
        if is_sqlite_head(head):
            _parse_sqlite(artefact, catalog, keys, work, result)
        else:
            _parse_other(artefact, catalog, keys, work, head, result)
    return result


def _parse_sqlite(artefact: Artefact, catalog: Catalog, keys: Mapping[str, str], work: Path, result: ArtefactResult) -> None:
    path_matched = [p for p in sqlite_parsers() if p.path_matches(artefact.path)]
    try:
        database = open_copy(artefact, catalog, work / "db")
    except (NotSQLiteError, sqlite3.DatabaseError, OSError) as error:
        encrypted = [p for p in path_matched if p.key_name is not None]
        if encrypted and not isinstance(error, OSError):
            # SQLCipher with a plaintext header (iOS Signal keeps the first 32 bytes clear): SQLite
            # sees its magic but cannot read the pages; the key holder's parser takes over.
            _run_encrypted(encrypted, artefact, catalog, keys, work, result)
            return
        if path_matched:
            names = ", ".join(p.name for p in path_matched)
            result.warnings.append(("", ParseWarning("database_unreadable", f"{artefact.path}: SQLite cannot read it ({error}); expected by {names}")))
        else:
            result.warnings.append(("", ParseWarning("database_unreadable", f"{artefact.path}: SQLite cannot read it ({error})")))
        return
    try:
        matched = [(p, v) for p in sqlite_parsers() if (v := p.match(database)) is not None]
        if not matched and path_matched:
            names = ", ".join(p.name for p in path_matched)
            result.warnings.append(("", ParseWarning("schema_unrecognised",
                f"{artefact.path}: path expected by {names} but no known schema variant matches (schema fingerprint {database.fingerprint()}, "
                f"tables: {', '.join(sorted(database.tables)) or 'none'})")))
        for index, (parser, variant) in enumerate(matched):
            _run_sqlite_parser(parser, variant, database, artefact, catalog, keys, work / f"p{index}", result)
    finally:
        database.close()


def _run_sqlite_parser(parser: SqliteChatParser, variant: Variant, database: Database, artefact: Artefact, catalog: Catalog,
                       keys: Mapping[str, str], work: Path, result: ArtefactResult) -> None:
    work.mkdir()
    full = _collect(parser, lambda ctx: parser.parse(database, variant, ctx), artefact, catalog, keys, work / "full", result)
    if database.main_only is None:
        result.messages.extend(ParsedMessage(parser, m, "live") for m in full)
        return
    # The WAL holds frames: rows whose key is missing from the main file alone are WAL-only, and rows
    # of the main file that the WAL removed are reported too (deleted, not yet checkpointed).
    main_rowids: dict[str, set[int]] = {}
    full_rowids: dict[str, set[int]] = {}
    unknown: set[str] = set()
    for message in full:
        table = message.source_table
        if table not in main_rowids and table not in unknown:
            try:
                main_rowids[table] = database.rowids(table, main_only=True)
            except sqlite3.OperationalError as error:  # a WITHOUT ROWID table: no rowid to compare
                unknown.add(table)
                result.warnings.append((parser.name, ParseWarning("wal_state_unknown",
                    f"{artefact.path}: table {table} has no rowid ({error}); its rows are reported live whether or not "
                    "they are only in the WAL", table=table)))
        in_main = message.source_row_id is None or table in unknown or message.source_row_id in main_rowids[table]
        result.messages.append(ParsedMessage(parser, message, "live" if in_main else "wal_only"))
        full_rowids.setdefault(table, set()).add(message.source_row_id)
    main_view = Database(artefact=artefact, connection=database.main_only, main_only=None, tables=_schema_tables(database.main_only))
    main_variant = parser.match(main_view)
    if main_variant is None:
        return
    older = _collect(parser, lambda ctx: parser.parse(main_view, main_variant, ctx), artefact, catalog, keys, work / "main", ArtefactResult())
    live_now: dict[str, set[int]] = {}
    for message in older:
        if message.source_row_id is None:
            continue
        if message.source_table in unknown:
            continue
        if message.source_row_id not in full_rowids.get(message.source_table, set()):
            if message.source_table not in live_now:
                live_now[message.source_table] = database.rowids(message.source_table)
            if message.source_row_id not in live_now[message.source_table]:
                result.messages.append(ParsedMessage(parser, message, "removed_in_wal"))


def _collect(parser: ChatParser, produce, artefact: Artefact, catalog: Catalog, keys: Mapping[str, str], work: Path,
             result: ArtefactResult) -> list[Message]:
    work.mkdir(parents=True, exist_ok=True)
    context = ParseContext(artefact=artefact, catalog=catalog, scratch=work, parser_name=parser.name, keys=keys)
    messages: list[Message] = []
    try:
        for message in produce(context):
            messages.append(message)
    except (sqlite3.DatabaseError, OSError) as error:
        context.warn("parse_stopped", f"{artefact.path}: reading stopped after {len(messages)} messages: {type(error).__name__}: {error}",
                     severity="error")
    finally:
        context.close()
    result.warnings.extend((parser.name, w) for w in context.warnings)
    return messages


def _run_encrypted(parsers: list[SqliteChatParser], artefact: Artefact, catalog: Catalog, keys: Mapping[str, str], work: Path,
                   result: ArtefactResult) -> None:
    """An encrypted store: parsed with its key, or one clear warning saying which key is missing."""
    for parser in parsers:
        key = keys.get(parser.key_name or "")
        if key is None:
            result.warnings.append((parser.name, ParseWarning("encrypted_no_key",
                f"{artefact.path}: encrypted {parser.app} store; supply --app-key {parser.key_name}=KEY to read it")))
            continue
        messages = _collect(parser, lambda ctx, p=parser, k=key: p.parse_encrypted(artefact, k, ctx), artefact, catalog, keys,
                            work / parser.name, result)
        result.messages.extend(ParsedMessage(parser, m, "live") for m in messages)


def _parse_other(artefact: Artefact, catalog: Catalog, keys: Mapping[str, str], work: Path, head: bytes, result: ArtefactResult) -> None:
    path = artefact.path
    for parser in sqlite_parsers():
        if not parser.path_matches(path):
            continue
        if parser.key_name is not None:
            _run_encrypted([parser], artefact, catalog, keys, work, result)
            continue
        result.warnings.append((parser.name, ParseWarning("not_sqlite",
            f"{path}: named like a {parser.app} database but is not SQLite (first bytes {head[:16].hex()}); "
            "encrypted, truncated or another format")))
    for parser in file_parsers():
        if not parser.recognises(path, head):
            continue
        messages = _collect(parser, lambda ctx, p=parser: p.parse(artefact, ctx), artefact, catalog, keys, work / parser.name, result)
        result.messages.extend(ParsedMessage(parser, m, "live") for m in messages)
