"""Open a scratch copy of a SQLCipher store with an examiner-supplied key, trying known cipher settings.

Why a helper: each encrypted app (WeChat here) differs only in its PRAGMA settings; copying the
file with its -wal/-journal, the budgeted schema read and the "which setting opened it" loop are
the same. A wrong key (or a damaged file) fails on the first read and writes nothing, so one copy
serves every attempt. The key only ever reaches the PRAGMA text after the caller validated it.
"""

from __future__ import annotations

from typing import Any, Iterator, Sequence

from manifests.records import Message, decode_text
from parsers.artefact import Artefact
from parsers.chat.base import ParseContext, SqliteChatParser
from parsers.sqlite_store import PROGRESS_STEPS, Database, QueryBudget, stream

SCHEMA_SQL = "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"
COLUMNS_SQL = "SELECT name FROM pragma_table_info(?)"

Attempt = tuple[str, Sequence[str]]


def open_decrypted(artefact: Artefact, context: ParseContext, attempts: Sequence[Attempt], app: str,
                   copy_name: str) -> Database | None:
    """A decrypted view of a scratch copy, or None with one warning saying why (never the key)."""
    try:
        import sqlcipher3
    except ImportError:
        context.warn("sqlcipher_missing", f"{artefact.path}: the sqlcipher3 module is not installed; cannot decrypt", severity="error")
        return None
    folder = context.scratch / "sqlcipher"
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / copy_name
    artefact.copy_to(target)
    for suffix in (b"-wal", b"-journal"):
        sibling = context.catalog.sibling(artefact, suffix)
        if sibling is not None:
            sibling.copy_to(folder / (copy_name + suffix.decode()))
    budget = QueryBudget(context.limits, interrupted=(sqlcipher3.OperationalError,))
    for _label, pragmas in attempts:
        connection = sqlcipher3.connect(str(target), isolation_level=None, check_same_thread=False)
        connection.set_progress_handler(budget.on_progress, PROGRESS_STEPS)
        try:
            for pragma in pragmas:
                connection.execute(pragma)
            tables = schema(connection, budget)
        except sqlcipher3.DatabaseError:
            connection.close()
            continue
        connection.text_factory = decode_text
        connection.row_factory = sqlcipher3.Row
        return Database(artefact=artefact, connection=connection, main_only=None, tables=tables, budget=budget)  # type: ignore[arg-type]
    tried = ", ".join(label for label, _ in attempts)
    context.warn("encrypted_bad_key", f"{artefact.path}: the supplied {app} key did not open the database with any known "
                 f"setting ({tried}): a wrong key, or a damaged or truncated file", severity="error")
    return None


def read_decrypted(parser: SqliteChatParser, artefact: Artefact, context: ParseContext, attempts: Sequence[Attempt],
                   copy_name: str) -> Iterator[Message]:
    """The messages of a decrypted copy, matched against the parser's variants like a plain store."""
    database = open_decrypted(artefact, context, attempts, parser.app, copy_name)
    if database is None:
        return
    import sqlcipher3

    try:
        variant = parser.match(database)
        if variant is None:
            context.warn("schema_unrecognised", f"{artefact.path}: decrypted, but no known {parser.app} schema variant matches "
                         f"(schema fingerprint {database.fingerprint()}, tables: {', '.join(sorted(database.tables)) or 'none'})")
            return
        yield from parser.parse(database, variant, context)
    except sqlcipher3.DatabaseError as error:
        context.warn("parse_stopped", f"{artefact.path}: reading the decrypted copy stopped: {error}", severity="error")
    finally:
        database.connection.close()


def schema(connection: Any, budget: QueryBudget) -> dict[str, frozenset[str]]:
    """Table (lowercased) -> column names of a decrypted connection, as the framework reads a plain one."""
    names = [row[0] for row in stream(connection, budget, SCHEMA_SQL)]
    return {str(n).lower(): frozenset(str(c[0]).lower() for c in stream(connection, budget, COLUMNS_SQL, (n,))) for n in names}
