"""What the case connection holds: which views exist with which columns, so a command uses only those."""

from __future__ import annotations

import re

import duckdb

_TIMES = frozenset({"TIMESTAMP WITH TIME ZONE", "TIMESTAMPTZ_NS"})
_INTEGERS = frozenset({"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"})
_INTEGER_COLUMNS = frozenset({"entry_index", "message_index", "media_index", "event_index", "size", "inode", "mode", "uid", "gid",
                              "store_row_id", "origin_index"})
_RECIPIENTS = re.compile(r"STRUCT\((.*, )?id VARCHAR(, .*)?\)\[\]")


def _type_fits(column: str, data_type: str) -> bool:
    """The type a column of that name has in every table (manifests/schemas.py), or a compatible one."""
    if column.endswith("_time"):
        return data_type in _TIMES
    if column in _INTEGER_COLUMNS:
        return data_type in _INTEGERS
    if column.startswith(("is_", "has_")):
        return data_type == "BOOLEAN"
    if column in ("latitude", "longitude"):
        return data_type in ("DOUBLE", "FLOAT")
    if column == "recipients":
        return _RECIPIENTS.fullmatch(data_type) is not None
    return data_type == "VARCHAR"


def column_types(con: duckdb.DuckDBPyConnection, name: str) -> dict[str, str]:
    """Column name -> DuckDB type of the table or view `name` (empty when there is none)."""
    rows = con.execute("SELECT column_name, data_type FROM duckdb_columns() WHERE table_name = ?", [name]).fetchall()
    return dict(rows)


def problem(con: duckdb.DuckDBPyConnection, name: str, columns: tuple[str, ...]) -> str | None:
    """Why `name` cannot be read for `columns` (absent, a column missing, a column of another type), or None.

    A column of the wrong type comes from an exhibit read with --unverified whose Parquet does not
    follow the schema: the source is then left out, never cast into something it is not."""
    types = column_types(con, name)
    if not types:
        return f"the case has no {name} view"
    missing = [column for column in columns if column not in types]
    if missing:
        return f"{name} has no column {', '.join(missing)}: written before the column vocabulary of issue 11?"
    mistyped = [f"{column} is {types[column]}" for column in columns if not _type_fits(column, types[column])]
    if mistyped:
        return f"{name} has a column of an unexpected type ({'; '.join(mistyped)}): an exhibit not written by Exhibit?"
    return None


def has_columns(con: duckdb.DuckDBPyConnection, name: str, columns: tuple[str, ...]) -> bool:
    """True when `name` exists and has every one of `columns`, each of its expected type."""
    return problem(con, name, columns) is None


def missing_note(con: duckdb.DuckDBPyConnection, name: str, columns: tuple[str, ...], what: str) -> str | None:
    """A sentence for standard error when `name` cannot be read for `columns` (None when it can)."""
    reason = problem(con, name, columns)
    return None if reason is None else f"{what}: not read ({reason})"


def exhibit_filter(exhibits: list[str] | None, alias: str = "") -> str:
    """A fixed SQL condition on exhibit_id against the bound list `$exhibits` ('TRUE' when all exhibits)."""
    if exhibits is None:
        return "TRUE"
    prefix = f"{alias}." if alias else ""
    return f"list_contains($exhibits::VARCHAR[], {prefix}exhibit_id)"


def bound(sql: str, params: dict[str, object]) -> dict[str, object]:
    """The named parameters `sql` uses (DuckDB refuses any extra one)."""
    return {name: value for name, value in params.items() if re.search(rf"\${re.escape(name)}\b", sql)}
