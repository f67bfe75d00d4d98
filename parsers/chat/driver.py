"""Parse one artefact with every chat parser that recognises it, and mark WAL-only rows.

Recognition is by schema (a variant's required tables and columns), so a renamed or relocated copy
of a database is still read; a path match alone with no variant is a warning carrying the schema's
fingerprint, so a new app version shows up instead of vanishing; a database anywhere else that no
parser reads but whose tables look like a message store is one `chat_store_unrecognised` warning
(see `parsers/chat/unrecognised.py`), never both.

Messages stream: `stream_artefact` yields each one as its parser produces it, so memory does not
grow with the size of a store. Here is the one boundary where one artefact meets one parser: any
exception a parser raises becomes a `parser_failed` warning (parser, path, table and row where
known, the exception's type and message), the messages it gave before are kept, and the next
parser and the next artefact go on. A database whose queries exhaust their budget gives
`query_budget_exceeded`.
"""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, Mapping

from manifests.records import Message, ParseWarning
from parsers.artefact import Artefact, Catalog
from parsers.chat.base import ChatParser, FileChatParser, ParseContext, SqliteChatParser, Variant
from parsers.chat.registry import file_parsers, sqlite_parsers
from parsers.chat.unrecognised import unrecognised_warning
from parsers.sqlite_store import Database, NotSQLiteError, QueryBudgetExceeded, QueryLimits, _schema_tables, is_sqlite_head, open_copy

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


Warnings = list[tuple[str, ParseWarning]]


def parse_artefact(artefact: Artefact, catalog: Catalog, keys: Mapping[str, str] | None = None,
                   scratch: Path | None = None, limits: QueryLimits | None = None) -> ArtefactResult:
    """Every message any parser reads from `artefact`, collected; every failure as a warning."""
    result = ArtefactResult()
    result.messages.extend(stream_artefact(artefact, catalog, result.warnings, keys, scratch, limits))
    return result


def stream_artefact(artefact: Artefact, catalog: Catalog, warnings: Warnings, keys: Mapping[str, str] | None = None,
                    scratch: Path | None = None, limits: QueryLimits | None = None) -> Iterator[ParsedMessage]:
    """Every message any parser reads from `artefact`, one at a time; failures are appended to `warnings`.

    A failure of the driver itself on this artefact (outside any one parser) is a `parser_failed`
    warning without a parser name; the messages already given stay given.
    """
    keys = keys or {}
    limits = limits or QueryLimits()
    produced = [0]

    def failed(error: Exception) -> None:
        warnings.append(("", _failure(artefact, "the chat driver", error, produced[0], None)))

    with tempfile.TemporaryDirectory(prefix="exhibit-chat-", dir=scratch) as folder:
        for parsed in _guarded(_artefact_messages(artefact, catalog, keys, Path(folder), warnings, limits), failed):
            produced[0] += 1
            yield parsed


def _artefact_messages(artefact: Artefact, catalog: Catalog, keys: Mapping[str, str], work: Path, warnings: Warnings,
                       limits: QueryLimits) -> Iterator[ParsedMessage]:
    try:
        head = artefact.read_head(HEAD_BYTES)
    except OSError as error:
        warnings.append(("", ParseWarning("artefact_unreadable", f"{artefact.path}: {error}", severity="error")))
        return
    if is_sqlite_head(head):
        yield from _parse_sqlite(artefact, catalog, keys, work, warnings, limits)
    else:
        yield from _parse_other(artefact, catalog, keys, work, head, warnings, limits)


def _guarded(messages: Iterable, on_failure: Callable[[Exception], None]) -> Iterator:
    """The items of `messages` until it raises: then `on_failure(error)` and the end.

    Only taking the next item is guarded, never what the consumer does with it, so a failure to
    store a message is not mistaken for a parser's failure.
    """
    iterator = iter(messages)
    while True:
        try:
            item = next(iterator)
        except StopIteration:
            return
        except Exception as error:  # the boundary: one artefact meets one parser; anything it raises is a row
            on_failure(error)
            return
        yield item


def _named(parser: ChatParser) -> str:
    """How a failure names its parser: name and version, so the row says which code met the artefact."""
    return f"parser {parser.name} (version {parser.version})"


def _failure(artefact: Artefact, who: str, error: Exception, produced: int, where: tuple[str, int | None] | None) -> ParseWarning:
    table, row_id = where if where is not None else (None, None)
    at = "" if table is None else f" at {table}" + ("" if row_id is None else f" row {row_id}")
    return ParseWarning("parser_failed", f"{artefact.path}: {who} failed{at} after {produced} messages: {type(error).__name__}: {error}",
                        table=table, row_id=row_id, severity="error")


def _parse_sqlite(artefact: Artefact, catalog: Catalog, keys: Mapping[str, str], work: Path, warnings: Warnings,
                  limits: QueryLimits) -> Iterator[ParsedMessage]:
    path_matched = [p for p in sqlite_parsers() if p.path_matches(artefact.path)]
    try:
        database = open_copy(artefact, catalog, work / "db", limits)
    except QueryBudgetExceeded as error:
        warnings.append(("", ParseWarning("query_budget_exceeded", f"{artefact.path}: its schema could not be read within the query budget: "
                                          f"{error}; no parser read it")))
        return
    except (NotSQLiteError, sqlite3.DatabaseError, OSError) as error:
        encrypted = [p for p in path_matched if p.key_name is not None]
        if encrypted and not isinstance(error, OSError):
            # SQLCipher with a plaintext header (iOS Signal keeps the first 32 bytes clear): SQLite
            # sees its magic but cannot read the pages; the key holder's parser takes over.
            yield from _run_encrypted(encrypted, artefact, catalog, keys, work, warnings, limits)
            return
        if path_matched:
            names = ", ".join(p.name for p in path_matched)
            warnings.append(("", ParseWarning("database_unreadable", f"{artefact.path}: SQLite cannot read it ({error}); expected by {names}")))
        else:
            warnings.append(("", ParseWarning("database_unreadable", f"{artefact.path}: SQLite cannot read it ({error})")))
        return
    try:
        matched = [(p, v) for p in sqlite_parsers() if (v := p.match(database)) is not None]
        if not matched and path_matched:
            names = ", ".join(p.name for p in path_matched)
            warnings.append(("", ParseWarning("schema_unrecognised",
                f"{artefact.path}: path expected by {names} but no known schema variant matches (schema fingerprint {database.fingerprint()}, "
                f"tables: {', '.join(sorted(database.tables)) or 'none'})")))
        elif not matched and (warning := unrecognised_warning(database)) is not None:
            warnings.append(("", warning))
        for index, (parser, variant) in enumerate(matched):
            yield from _run_sqlite_parser(parser, variant, database, artefact, catalog, keys, work / f"p{index}", warnings, limits)
    finally:
        database.close()


def _run_sqlite_parser(parser: SqliteChatParser, variant: Variant, database: Database, artefact: Artefact, catalog: Catalog,
                       keys: Mapping[str, str], work: Path, warnings: Warnings, limits: QueryLimits) -> Iterator[ParsedMessage]:
    work.mkdir()
    full = _collect(parser, lambda ctx: parser.parse(database, variant, ctx), artefact, catalog, keys, work / "full", warnings, limits)
    if database.main_only is None:
        yield from (ParsedMessage(parser, m, "live") for m in full)
        return
    # The WAL holds frames: rows whose key is missing from the main file alone are WAL-only, and rows
    # of the main file that the WAL removed are reported too (deleted, not yet checkpointed). Row ids
    # (integers) are kept per table for this; the messages themselves still stream.
    main_rowids: dict[str, set[int]] = {}
    full_rowids: dict[str, set[int]] = {}
    unknown: set[str] = set()
    wal_warnings: Warnings = []  # after the parser's own, as when the messages were collected first
    budget_spent = False
    for message in full:
        table = message.source_table
        if table not in main_rowids and table not in unknown:
            budget_spent = _read_main_rowids(parser, database, artefact, table, main_rowids, unknown, wal_warnings) or budget_spent
        in_main = message.source_row_id is None or table in unknown or message.source_row_id in main_rowids[table]
        yield ParsedMessage(parser, message, "live" if in_main else "wal_only")
        full_rowids.setdefault(table, set()).add(message.source_row_id)
    warnings.extend(wal_warnings)
    if budget_spent or database.budget.exceeded is not None:
        return  # the main file alone cannot be read either: removed rows are not looked for (the warning says the budget ran out)
    yield from _removed_in_wal(parser, database, artefact, catalog, keys, work, warnings, limits, unknown, full_rowids)


def _read_main_rowids(parser: SqliteChatParser, database: Database, artefact: Artefact, table: str, main_rowids: dict[str, set[int]],
                      unknown: set[str], wal_warnings: Warnings) -> bool:
    """The row ids of `table` in the main file without the WAL, into `main_rowids`; when they cannot be read the
    table goes to `unknown` (its rows are reported live) with a warning. True when the query budget ran out."""
    try:
        main_rowids[table] = database.rowids(table, main_only=True)
    except sqlite3.OperationalError as error:  # a WITHOUT ROWID table: no rowid to compare
        unknown.add(table)
        wal_warnings.append((parser.name, ParseWarning("wal_state_unknown",
            f"{artefact.path}: table {table} has no rowid ({error}); its rows are reported live whether or not "
            "they are only in the WAL", table=table)))
    except sqlite3.DatabaseError as error:  # the main file alone is damaged where the WAL is not
        unknown.add(table)
        wal_warnings.append((parser.name, ParseWarning("wal_state_unknown",
            f"{artefact.path}: the row ids of table {table} in the main file without the WAL could not be read "
            f"({type(error).__name__}: {error}); its rows are reported live whether or not they are only in the WAL",
            table=table, severity="error")))
    except QueryBudgetExceeded as error:
        unknown.add(table)
        wal_warnings.append((parser.name, ParseWarning("query_budget_exceeded",
            f"{artefact.path}: the row ids of table {table} in the main file could not be read within the query budget ({error}); "
            "its rows are reported live whether or not they are only in the WAL", table=table)))
        return True
    return False


def _removed_in_wal(parser: SqliteChatParser, database: Database, artefact: Artefact, catalog: Catalog, keys: Mapping[str, str],
                    work: Path, warnings: Warnings, limits: QueryLimits, unknown: set[str],
                    full_rowids: dict[str, set[int]]) -> Iterator[ParsedMessage]:
    """Messages of the main file alone whose rows the WAL removed (deleted, not yet checkpointed): the parser runs
    again over the main file without the WAL; rows it gives that the full pass did not, and that are gone now."""
    older_warnings: Warnings = []
    try:
        main_view = Database(artefact=artefact, connection=database.main_only, main_only=None,
                             tables=_schema_tables(database.main_only, database.budget), budget=database.budget)
        main_variant = parser.match(main_view)
        if main_variant is None:
            return
        older = _collect(parser, lambda ctx: parser.parse(main_view, main_variant, ctx), artefact, catalog, keys, work / "main",
                         older_warnings, limits)
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
                    yield ParsedMessage(parser, message, "removed_in_wal")
    except QueryBudgetExceeded as error:
        older_warnings.append((parser.name, ParseWarning("query_budget_exceeded", f"{artefact.path}: {error}")))
    except sqlite3.DatabaseError as error:  # the main file alone is damaged: removed rows cannot be looked for
        older_warnings.append((parser.name, ParseWarning("parse_stopped", f"{artefact.path}: {type(error).__name__}: {error}",
                                                         severity="error")))
    # Only failures of the pass over the main file alone are kept (its bad values were reported by the full pass).
    warnings.extend((name, replace(w, message=f"{w.message} (reading the main file without the WAL, to find removed rows)"))
                    for name, w in older_warnings if w.kind in ("query_budget_exceeded", "parser_failed", "parse_stopped"))


def _collect(parser: ChatParser, produce: Callable[[ParseContext], Iterable[Message]], artefact: Artefact, catalog: Catalog,
             keys: Mapping[str, str], work: Path, warnings: Warnings, limits: QueryLimits) -> Iterator[Message]:
    """The messages one parser gives for one artefact, streamed; its warnings go to `warnings` when it is done.

    A read error stops the parser with `parse_stopped`, an exhausted budget with
    `query_budget_exceeded`, and anything else it raises with `parser_failed`; what it gave before stays.
    """
    work.mkdir(parents=True, exist_ok=True)
    context = ParseContext(artefact=artefact, catalog=catalog, scratch=work, parser_name=parser.name, keys=keys, limits=limits)
    count = 0

    def failed(error: Exception) -> None:
        if isinstance(error, QueryBudgetExceeded):
            context.warn("query_budget_exceeded", f"{artefact.path}: reading stopped after {count} messages: {error}",
                         table=context.current[0] if context.current else None)
        elif isinstance(error, (sqlite3.DatabaseError, OSError)):
            context.warn("parse_stopped", f"{artefact.path}: reading stopped after {count} messages: {type(error).__name__}: {error}",
                         severity="error")
        else:
            context.warnings.append(_failure(artefact, _named(parser), error, count, context.current))

    try:
        for message in _guarded(_produced(produce, context), failed):
            count += 1
            yield message
    finally:
        context.close()
        warnings.extend((parser.name, w) for w in context.warnings)


def _recognises(parser: FileChatParser, artefact: Artefact, head: bytes, warnings: Warnings) -> bool:
    """Whether an export parser takes this file; one that raises while looking is a `parser_failed` warning."""
    try:
        return parser.recognises(artefact.path, head)
    except Exception as error:  # the boundary: one artefact meets one parser; anything it raises is a row
        warnings.append((parser.name, _failure(artefact, _named(parser), error, 0, None)))
        return False


def _produced(produce: Callable[[ParseContext], Iterable[Message]], context: ParseContext) -> Iterator[Message]:
    """Calling the parser is part of what is guarded: a parser that fails before its first message is caught too.

    Anything but a Message (a parser bug: a dict, None, a tuple) stops the parser there, as if it had raised.
    """
    for message in produce(context):
        if not isinstance(message, Message):
            raise TypeError(f"gave a {type(message).__name__} where a Message belongs")
        yield message


def _run_encrypted(parsers: list[SqliteChatParser], artefact: Artefact, catalog: Catalog, keys: Mapping[str, str], work: Path,
                   warnings: Warnings, limits: QueryLimits) -> Iterator[ParsedMessage]:
    """An encrypted store: parsed with its key, or one clear warning saying which key is missing."""
    for parser in parsers:
        key = parser.supplied_key(keys)
        if key is None:
            warnings.append((parser.name, ParseWarning("encrypted_no_key",
                f"{artefact.path}: encrypted {parser.app} store; supply --app-key {parser.key_name}=KEY to read it")))
            continue
        messages = _collect(parser, lambda ctx, p=parser, k=key: p.parse_encrypted(artefact, k, ctx), artefact, catalog, keys,
                            work / parser.name, warnings, limits)
        yield from (ParsedMessage(parser, m, "live") for m in messages)


def _parse_other(artefact: Artefact, catalog: Catalog, keys: Mapping[str, str], work: Path, head: bytes, warnings: Warnings,
                 limits: QueryLimits) -> Iterator[ParsedMessage]:
    path = artefact.path
    for parser in sqlite_parsers():
        if not parser.path_matches(path):
            continue
        if parser.key_name is not None:
            yield from _run_encrypted([parser], artefact, catalog, keys, work, warnings, limits)
            continue
        warnings.append((parser.name, ParseWarning("not_sqlite",
            f"{path}: named like a {parser.app} database but is not SQLite (first bytes {head[:16].hex()}); "
            "encrypted, truncated or another format")))
    for parser in file_parsers():
        if not _recognises(parser, artefact, head, warnings):
            continue
        messages = _collect(parser, lambda ctx, p=parser: p.parse(artefact, ctx), artefact, catalog, keys, work / parser.name,
                            warnings, limits)
        yield from (ParsedMessage(parser, m, "live") for m in messages)
