"""One vocabulary across tables (README "Column vocabulary"): the same name means the same thing in
every table, and a thing has one name. Every column of every table, and every field of the structs
nested in them, is held to the rules here; the checker is itself tested on schemas that break each rule."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import pyarrow as pa
import pytest

from manifests.schemas import TABLES, UTC_NS, Column, Table

BOOL_PREFIXES = ("is_", "has_")
# Names the table vocabulary defines, with their one type.
DEFINED = {
    "case_id": pa.string(), "exhibit_id": pa.string(),
    "path": pa.string(), "path_bytes": pa.binary(), "path_spec": pa.string(), "entry_index": pa.int64(), "sha256": pa.string(),
    "store_table": pa.string(), "store_row_id": pa.int64(), "store_field": pa.string(),
}
# Other names once used for the artefact a row came from: a table column says `path`, `entry_index`, `sha256`.
ARTEFACT_SYNONYMS = ("source_path", "source_path_bytes", "source_entry_index", "source_sha256", "artefact_path", "artefact_sha256",
                     "file_path", "database_path", "artefact_entry_index")
# The only table whose columns may start with source_: what the technician gave.
SOURCES_TABLE = "sources"


def fields_of(table: Table) -> Iterator[tuple[str, str, pa.DataType, tuple[str, ...]]]:
    """(where, name, type, sibling names) of every column and nested struct field; `where` reads like
    sources.volumes[].is_encrypted."""
    names = tuple(c.name for c in table.columns)
    for column in table.columns:
        where = f"{table.name}.{column.name}"
        yield where, column.name, column.type, names
        yield from _nested(where, column.type)


def _nested(where: str, data_type: pa.DataType) -> Iterator[tuple[str, str, pa.DataType, tuple[str, ...]]]:
    if pa.types.is_struct(data_type):
        names = tuple(data_type.field(i).name for i in range(data_type.num_fields))
        for i in range(data_type.num_fields):
            field = data_type.field(i)
            inner = f"{where}.{field.name}"
            yield inner, field.name, field.type, names
            yield from _nested(inner, field.type)
    elif pa.types.is_map(data_type):
        yield from _nested(f"{where}{{key}}", data_type.key_type)
        yield from _nested(f"{where}{{value}}", data_type.item_type)
    elif pa.types.is_list(data_type) or pa.types.is_large_list(data_type):
        yield from _nested(f"{where}[]", data_type.value_type)


def vocabulary(tables: Iterable[Table]) -> dict[str, set[str]]:
    """Every name used, with the types it is used with (one, when the vocabulary holds)."""
    types: dict[str, set[str]] = {}
    for table in tables:
        for _, name, data_type, _ in fields_of(table):
            types.setdefault(name, set()).add(str(data_type))
    return types


CASE_LEVEL = {"hashset"}  # a reference hash set belongs to the case, no exhibit (custody and hash_hits name exhibits)


def problems(tables: Iterable[Table]) -> list[str]:
    """Every way the tables break the vocabulary, one sentence each, in a fixed order."""
    tables = list(tables)
    found: list[str] = []
    for name, types in sorted(vocabulary(tables).items()):
        if len(types) > 1:
            found.append(f"{name} has {len(types)} types across tables: {', '.join(sorted(types))}")
        elif name in DEFINED and types != {str(DEFINED[name])}:
            found.append(f"{name} is {next(iter(types))}, but the vocabulary defines it as {DEFINED[name]}")
    for table in tables:
        top = set(table.column_names())
        for column in ("case_id",) if table.name in CASE_LEVEL else ("case_id", "exhibit_id"):
            if column not in top:
                found.append(f"{table.name} has no {column}")
        for where, name, data_type, siblings in fields_of(table):
            found.extend(_name_problems(table, where, name, data_type, siblings, name in top and where == f"{table.name}.{name}"))
    return found


def _name_problems(table: Table, where: str, name: str, data_type: pa.DataType, siblings: tuple[str, ...], top: bool) -> list[str]:
    found = []
    if pa.types.is_timestamp(data_type):
        if not data_type.equals(UTC_NS):
            found.append(f"{where} is {data_type}, not {UTC_NS}")
        if not name.endswith("_time"):
            found.append(f"{where} is a timestamp but its name does not end in _time")
    elif name.endswith("_time"):
        found.append(f"{where} ends in _time but is {data_type}, not a timestamp")
    if name.endswith("_utc"):
        found.append(f"{where} ends in _utc (a time is <event>_time, always UTC)")
    if name.endswith("_raw"):
        base = name.removesuffix("_raw")
        if base not in siblings:
            found.append(f"{where} has no {base} beside it")
        if not pa.types.is_string(data_type):
            found.append(f"{where} is {data_type}; the stored text is a string")
    if pa.types.is_boolean(data_type) and not name.startswith(BOOL_PREFIXES):
        found.append(f"{where} is a bool but its name does not start with is_ or has_")
    if name.startswith(BOOL_PREFIXES) and not pa.types.is_boolean(data_type):
        found.append(f"{where} starts with {name.split('_')[0]}_ but is {data_type}, not a bool")
    if name.startswith("source_") and (table.name != SOURCES_TABLE or not top):
        found.append(f"{where}: source_ names only the evidence source, in the sources table")
    if top and name in ARTEFACT_SYNONYMS and not (table.name == SOURCES_TABLE and name.startswith("source_")):
        found.append(f"{where} names the artefact: use path, path_bytes, entry_index or sha256")
    if name in ("store_row_id", "store_field") and "store_table" not in siblings:
        found.append(f"{where} has no store_table beside it")
    if name == "path_bytes" and "path" not in siblings:
        found.append(f"{where} has no path beside it")
    return found


def test_every_table_follows_the_vocabulary() -> None:
    assert problems(TABLES.values()) == []


def test_each_name_has_one_type_everywhere() -> None:
    words = vocabulary(TABLES.values())
    assert {name for name, types in words.items() if len(types) > 1} == set()
    assert {name: words[name] for name in ("size", "offset", "length", "volume_index", "path", "sha256", "entry_index")} == {
        "size": {"int64"}, "offset": {"int64"}, "length": {"int64"}, "volume_index": {"int32"}, "path": {"string"},
        "sha256": {"string"}, "entry_index": {"int64"}}
    timestamps = sorted(name for name, types in words.items() if types == {"timestamp[ns, tz=UTC]"})
    assert timestamps == ["accessed_time", "capture_time", "changed_time", "created_time", "deleted_time", "digitized_time",
                          "edited_time", "finished_time", "gps_time", "metadata_modified_time", "modified_time", "occurred_time",
                          "read_time", "received_time", "sent_time", "started_time"]


def test_nested_fields_are_checked() -> None:
    walked = {where for table in TABLES.values() for where, *_ in fields_of(table)}
    assert {"sources.volumes[].is_encrypted", "sources.hash_checks[].is_match", "sources.container_files[].is_unchanged",
            "messages.attachments[].sha256", "custody.hashes[].algorithm"} <= walked


def _table(*columns: Column, name: str = "things", ids: bool = True) -> Table:
    ident = (Column("case_id", pa.string(), "", False), Column("exhibit_id", pa.string(), "", False)) if ids else ()
    return Table(name=name, version=1, doc="", columns=ident + columns)


@pytest.mark.parametrize(("columns", "expected"), [
    ((Column("modified", UTC_NS, ""),), ["things.modified is a timestamp but its name does not end in _time"]),
    ((Column("occurred_time", pa.timestamp("us", tz="UTC"), ""),), ["things.occurred_time is timestamp[us, tz=UTC], not timestamp[ns, tz=UTC]"]),
    ((Column("taken_time", pa.timestamp("ns"), ""),), ["things.taken_time is timestamp[ns], not timestamp[ns, tz=UTC]"]),
    ((Column("sent_time", pa.string(), ""),), ["things.sent_time ends in _time but is string, not a timestamp"]),
    ((Column("capture_utc", pa.int64(), ""),), ["things.capture_utc ends in _utc (a time is <event>_time, always UTC)"]),
    ((Column("capture_time_utc", UTC_NS, ""),), ["things.capture_time_utc is a timestamp but its name does not end in _time",
                                                 "things.capture_time_utc ends in _utc (a time is <event>_time, always UTC)"]),
    ((Column("sent_time_raw", pa.string(), ""),), ["things.sent_time_raw has no sent_time beside it"]),
    ((Column("sent_time", UTC_NS, ""), Column("sent_time_raw", pa.int64(), "")), ["things.sent_time_raw is int64; the stored text is a string"]),
    ((Column("deleted", pa.bool_(), ""),), ["things.deleted is a bool but its name does not start with is_ or has_"]),
    ((Column("is_deleted", pa.int8(), ""),), ["things.is_deleted starts with is_ but is int8, not a bool"]),
    ((Column("checks", pa.list_(pa.struct([pa.field("match", pa.bool_())])), ""),),
     ["things.checks[].match is a bool but its name does not start with is_ or has_"]),
    ((Column("source_path", pa.string(), ""),), ["things.source_path: source_ names only the evidence source, in the sources table",
                                                 "things.source_path names the artefact: use path, path_bytes, entry_index or sha256"]),
    ((Column("artefact_path", pa.string(), ""),), ["things.artefact_path names the artefact: use path, path_bytes, entry_index or sha256"]),
    ((Column("store_row_id", pa.int64(), ""),), ["things.store_row_id has no store_table beside it"]),
    ((Column("path_bytes", pa.binary(), ""),), ["things.path_bytes has no path beside it"]),
    ((Column("entry_index", pa.int32(), ""),), ["entry_index is int32, but the vocabulary defines it as int64"]),
    ((Column("row_of", pa.map_(pa.string(), pa.struct([pa.field("seen_time", pa.int64())])), ""),),
     ["things.row_of{value}.seen_time ends in _time but is int64, not a timestamp"]),
])
def test_the_checker_names_each_broken_rule(columns: tuple[Column, ...], expected: list[str]) -> None:
    assert problems([_table(*columns)]) == expected


def test_the_checker_finds_one_name_with_two_types_and_missing_ids() -> None:
    first = _table(Column("size", pa.int64(), ""), name="first")
    second = _table(Column("parts", pa.list_(pa.struct([pa.field("size", pa.int32())])), ""), name="second", ids=False)
    assert problems([first, second]) == ["size has 2 types across tables: int32, int64", "second has no case_id", "second has no exhibit_id"]


def test_source_columns_belong_to_the_sources_table_only() -> None:
    sources = _table(Column("source_kind", pa.string(), ""), Column("parts", pa.list_(pa.struct([pa.field("source_kind", pa.string())])), ""),
                     name="sources")
    assert problems([sources]) == ["sources.parts[].source_kind: source_ names only the evidence source, in the sources table"]
