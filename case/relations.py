"""What the case connection holds: which views exist with which columns, so a command uses only those."""

from __future__ import annotations

import re

import duckdb


def columns_of(con: duckdb.DuckDBPyConnection, name: str) -> frozenset[str]:
    """Column names of the table or view `name` (empty when there is none)."""
    rows = con.execute("SELECT column_name FROM duckdb_columns() WHERE table_name = ?", [name]).fetchall()
    return frozenset(row[0] for row in rows)


def has_columns(con: duckdb.DuckDBPyConnection, name: str, columns: tuple[str, ...]) -> bool:
    """True when `name` exists and has every one of `columns`."""
    present = columns_of(con, name)
    return bool(present) and all(column in present for column in columns)


def missing_note(con: duckdb.DuckDBPyConnection, name: str, columns: tuple[str, ...], what: str) -> str | None:
    """A sentence for standard error when `name` is absent or lacks some of `columns` (None when all are there)."""
    present = columns_of(con, name)
    if not present:
        return f"{what}: not read (the case has no {name} view)"
    missing = [column for column in columns if column not in present]
    if missing:
        return f"{what}: not read ({name} has no column {', '.join(missing)}: written before the column vocabulary of issue 11?)"
    return None


def exhibit_filter(exhibits: list[str] | None, alias: str = "") -> str:
    """A fixed SQL condition on exhibit_id against the bound list `$exhibits` ('TRUE' when all exhibits)."""
    if exhibits is None:
        return "TRUE"
    prefix = f"{alias}." if alias else ""
    return f"list_contains($exhibits::VARCHAR[], {prefix}exhibit_id)"


def bound(sql: str, params: dict[str, object]) -> dict[str, object]:
    """The named parameters `sql` uses (DuckDB refuses any extra one)."""
    return {name: value for name, value in params.items() if re.search(rf"\${re.escape(name)}\b", sql)}
