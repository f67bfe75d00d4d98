"""Run chat parsers on files (corpus databases or fixtures built here) without a disk image."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Iterable, Mapping, Sequence

import pyarrow as pa

from ingest.chats import ROW_ERRORS, ROW_SCHEMA, _message_row
from manifests.records import Message, ParseWarning
from parsers.artefact import Catalog, HostArtefact
from parsers.chat.driver import ArtefactResult, ParsedMessage, parse_artefact
from parsers.chat.times import iso_text
from tests.corpus import require_corpus


@dataclass
class Parsed:
    result: ArtefactResult

    @property
    def messages(self) -> list[Message]:
        return [p.message for p in self.result.messages]

    @property
    def parsed(self) -> list[ParsedMessage]:
        return self.result.messages

    @property
    def warnings(self) -> list[ParseWarning]:
        return [w for _, w in self.result.warnings]

    def parser_names(self) -> set[str]:
        return {p.parser.name for p in self.result.messages}

    def time_range(self, key: Callable[[Message], int | None] | None = None) -> tuple[str | None, str | None]:
        """Earliest and latest message time, to the second (how CHATS.tsv lists them).

        `key` picks the time the store's own message table orders by; the default is sent, else received.
        """
        pick = key or (lambda m: m.sent if m.sent is not None else m.received)
        times = [t for m in self.messages if (t := pick(m)) is not None]
        if not times:
            return None, None
        return _second(min(times)), _second(max(times))


def _second(ns: int) -> str:
    return (iso_text(ns - ns % 1_000_000_000) or "")


def parse_files(main: Path, *others: Path, logical: Mapping[Path, bytes] | None = None,
                keys: Mapping[str, str] | None = None, check_rows: bool = True) -> Parsed:
    """Parse `main`; `others` (siblings such as -wal, companion databases) are in the catalog.

    `logical` gives paths as the image would hold them (e.g. b"/data/data/com.whatsapp/databases/msgstore.db"),
    so path globs and companion lookups behave as on a phone. Sibling files (-wal, -journal,
    -shm) next to a file are added automatically with the matching logical path. Every message is
    checked to fit messages.parquet (`check_rows=False` only for tests of what ingest does when not).
    """
    logical = dict(logical or {})
    artefacts: list[HostArtefact] = []
    seen: set[Path] = set()
    for path in (main, *others):
        for candidate in (path, *(path.with_name(path.name + s) for s in ("-wal", "-journal", "-shm"))):
            if candidate in seen or not candidate.exists():
                continue
            seen.add(candidate)
            base = logical.get(path)
            path_bytes = (base + candidate.name[len(path.name):].encode()) if base else b""
            artefacts.append(HostArtefact(candidate, path_bytes=path_bytes))
    catalog = Catalog.of(artefacts)
    parsed = Parsed(parse_artefact(artefacts[0], catalog, keys=keys))
    if check_rows:
        assert_rows_fit(parsed)
    return parsed


_STAND_IN = SimpleNamespace(path="/evidence/store.db", path_bytes=b"/evidence/store.db", entry_index=0, sha256="0" * 64)


def assert_rows_fit(parsed: Parsed) -> None:
    """Every message makes a messages.parquet row, as ingest builds it: a message the parser yields but
    ingest would drop (`parser_failed`, a wrong type in a column) fails here, in the parser's own test."""
    for item in parsed.parsed:
        try:
            row = _message_row(item, _STAND_IN)  # type: ignore[arg-type]
            assert set(row) <= set(ROW_SCHEMA.names), f"keys that are not columns: {sorted(set(row) - set(ROW_SCHEMA.names))}"
            pa.Table.from_pylist([row], schema=ROW_SCHEMA)
        except ROW_ERRORS as error:
            raise AssertionError(f"{item.parser.name} {item.message.source_table}#{item.message.source_row_id} does not fit "
                                 f"messages.parquet: {type(error).__name__}: {error}") from error


def corpus_file(relative: str) -> Path:
    path = require_corpus() / relative
    assert path.is_file(), f"corpus file missing: {path}"
    return path


def build_database(path: Path, schema: str, rows: Mapping[str, Sequence[Sequence[object]]] | None = None,
                   journal_mode: str = "delete") -> Path:
    """A fixture database from DDL text and rows per table (columns in DDL order)."""
    connection = sqlite3.connect(path)
    try:
        connection.execute(f"PRAGMA journal_mode={journal_mode}")
        connection.executescript(schema)
        for table, values in (rows or {}).items():
            for row in values:
                marks = ", ".join("?" for _ in row)
                connection.execute(f"INSERT INTO {table} VALUES ({marks})", tuple(row))
        connection.commit()
    finally:
        connection.close()
    return path


def assert_no_warnings(parsed: Parsed, allowed: Iterable[str] = ()) -> None:
    unexpected = [w for w in parsed.warnings if w.kind not in set(allowed)]
    assert unexpected == []


def truncate_to_half(path: Path) -> Path:
    """Cut a fixture file to half its size (a truncated copy of a store)."""
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size // 2)
    return path


def sqlcipher_encrypt(plain: Path, target: Path, pragmas: Sequence[str]) -> Path:
    """`plain` exported into a new SQLCipher file opened with `pragmas` (the key first), as an app would write it."""
    import sqlcipher3

    connection = sqlcipher3.connect(str(target))
    for pragma in pragmas:
        connection.execute(pragma)
    connection.execute(f"ATTACH DATABASE '{plain}' AS plain KEY ''")
    connection.execute("SELECT sqlcipher_export('main', 'plain')")
    connection.execute("DETACH DATABASE plain")
    connection.close()
    return target
