"""A DuckDB connection over one case: a view per table, the union of every exhibit's Parquet file of it.

Each per-exhibit table (`EXHIBIT_TABLES`) is one view over the `<name>.parquet` of every exhibit
read (union by column name, so exhibits sealed with different table versions sit side by side);
each case-level table (`CASE_TABLES`) is a view over `CASE_DIR/<name>.parquet`. A new table needs
only its name added to one tuple. An exhibit without a table contributes no rows; a table no
exhibit has is an empty view of its declared schema (manifests/schemas.py), or no view at all when
the table is not declared there.

Rows carry the exhibit id of their folder. A verified exhibit's parts are read as they are (its
seal proves ingest wrote them for that folder, and the common case must cost nothing per row); the
parts of an exhibit read unverified have their stored `exhibit_id` replaced by their folder's,
joined on the file name to the small `_exhibit_parts` view (file, exhibit_id). DuckDB globs every
path it is given, so each is passed with its glob characters escaped (`_exact`): a case folder may
have any legal name.

Once the views exist the connection is closed around the files they read: DuckDB may open only
those paths (`allowed_paths`), external access and extension loading are off, nothing is spilled
to a temporary folder, and the configuration is locked, so SQL given to it cannot read another file
(`read_csv('/etc/passwd')`), list folders, attach a database or write a file (`COPY`), nor undo
any of this with `SET`. DuckDB still lets a statement write to an allowed path, so query.py runs
only a single SELECT or EXPLAIN.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa

from case.selection import CaseFile, Exhibit, regular_file
from manifests.schemas import TABLES, UTC_NS

EXHIBIT_TABLES: tuple[str, ...] = ("artefacts", "sources", "errors", "messages", "media", "identifiers")
CASE_TABLES: tuple[str, ...] = ("custody", "hash_hits")

EXHIBITS_SCHEMA = pa.schema([
    pa.field("case_id", pa.string()),
    pa.field("exhibit_id", pa.string()),
    pa.field("folder", pa.string()),
    pa.field("description", pa.string()),
    pa.field("outcome", pa.string()),
    pa.field("is_verified", pa.bool_(), nullable=False),
    pa.field("verify_failures", pa.list_(pa.string()), nullable=False),
    pa.field("sealed_time", UTC_NS),
    pa.field("root_digest", pa.string()),
])


@dataclass
class CaseViews:
    """The locked connection and the files behind each view (for messages and tests)."""

    connection: duckdb.DuckDBPyConnection
    files: dict[str, list[Path]]
    _keep: list[object]  # Arrow-backed relations must outlive the views built on them

    def close(self) -> None:
        self.connection.close()


def _literal(text: str) -> str:
    """A SQL string literal of a path this code built (the case folder and fixed file names)."""
    return "'" + text.replace("'", "''") + "'"


_GLOB_ESCAPES = {"[": "[[]", "*": "[*]", "?": "[?]"}


def _exact(path: Path) -> str:
    """A path DuckDB reads as exactly that file: it globs every path it is given, so each glob character
    of the name (a case folder `case [1]*?`) is written as a one-character class matching only itself."""
    return "".join(_GLOB_ESCAPES.get(ch, ch) for ch in str(path))


def _path_list(paths: list[Path]) -> str:
    return "[" + ", ".join(_literal(str(path)) for path in paths) + "]"


def _read_list(paths: list[Path]) -> str:
    """The file list of a read_parquet: literal paths, never a pattern."""
    return "[" + ", ".join(_literal(_exact(path)) for path in paths) + "]"


def exhibit_file(exhibit: Exhibit, name: str) -> Path | None:
    """The exhibit's `name`.parquet when it is a regular file in its folder (a verified exhibit's parts all are);
    nothing of a folder that is a symbolic link, even when asked for unverified exhibits."""
    if exhibit.folder.is_symlink():
        return None
    path = exhibit.folder.absolute() / f"{name}.parquet"
    return path if regular_file(path) else None


def _sealed_time(manifest: dict | None) -> datetime | None:
    """The seal's time: the manifest's `finished`, written just before sealing; None when absent or malformed."""
    text = manifest.get("finished") if manifest else None
    if not isinstance(text, str):
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.astimezone(timezone.utc) if moment.tzinfo is not None else None


def _text(manifest: dict | None, key: str) -> str | None:
    value = manifest.get(key) if manifest else None
    return value if isinstance(value, str) else None


def folder_exhibit_id(exhibit: Exhibit) -> str:
    """The exhibit a row of this folder belongs to: the id its folder name encodes (the manifest's, or the
    folder name, when the name encodes none). Never the id stored in a part, which a copied part would bring along."""
    return exhibit.exhibit_id or _text(exhibit.manifest, "exhibit_id") or exhibit.folder.name


def exhibits_table(exhibits: list[Exhibit]) -> pa.Table:
    """One row per exhibit read, facts from its manifest (null where it has none or they are malformed)."""
    rows = [{
        "case_id": _text(e.manifest, "case_id"),
        "exhibit_id": folder_exhibit_id(e),
        "folder": e.folder.name,
        "description": _text(e.manifest, "description"),
        "outcome": _text(e.manifest, "outcome"),
        "is_verified": e.verified,
        "verify_failures": list(e.failures),
        "sealed_time": _sealed_time(e.manifest),
        "root_digest": _text(e.manifest, "root_digest"),
    } for e in exhibits]
    return pa.Table.from_pylist(rows, schema=EXHIBITS_SCHEMA)


def table_files(exhibits: list[Exhibit], case_files: list[CaseFile]) -> dict[str, list[Path]]:
    """The Parquet files behind each view: every exhibit's file of each table, and each case-level file."""
    files = {name: [path for path in (exhibit_file(e, name) for e in exhibits) if path is not None] for name in EXHIBIT_TABLES}
    for case_file in case_files:
        if regular_file(case_file.path):  # never through a link, even when unverified files are asked for
            files[case_file.name] = [case_file.path.absolute()]
    return files


FILE_COLUMN = "_exhibit_part_file"  # read_parquet's file name column while exhibit_id is taken from the folder
PARTS_TABLE = "_exhibit_parts"


def _view_sql(name: str, paths: list[Path], relabel: dict[Path, str], with_id: bool) -> str:
    """The view of one table. Parts in `relabel` (those of exhibits read unverified) have their stored exhibit_id
    replaced by their folder's, joined on the file name; verified parts are read as they are (their seal
    proves ingest wrote them for this folder), so the common case costs nothing per row."""
    plain = [p for p in paths if p not in relabel]
    other = [p for p in paths if p in relabel]
    parts = []
    if plain:
        parts.append(f"SELECT * FROM read_parquet({_read_list(plain)}, union_by_name = true)")
    if other:
        drop = f"EXCLUDE ({FILE_COLUMN}, exhibit_id)" if with_id else f"EXCLUDE ({FILE_COLUMN})"
        parts.append(f"SELECT t.* {drop}, p.exhibit_id AS exhibit_id FROM read_parquet({_read_list(other)}, union_by_name = true, "
                     f"filename = '{FILE_COLUMN}') AS t JOIN {PARTS_TABLE} AS p ON t.{FILE_COLUMN} = p.file")
    return " UNION ALL BY NAME ".join(parts)


def open_views(files: dict[str, list[Path]], exhibits: pa.Table, relabel: dict[Path, str] | None = None,
               with_id: dict[str, bool] | None = None) -> CaseViews:
    """A connection with a view per table over `files` and the `exhibits` view, then locked to those files.
    `relabel` maps a part to the exhibit id its rows get (see `_view_sql`); `with_id` says per table whether
    any relabelled part has an exhibit_id column to replace."""
    relabel = relabel or {}
    connection = duckdb.connect(":memory:", config={"autoload_known_extensions": False, "autoinstall_known_extensions": False})
    keep: list[object] = []
    opened = False
    try:
        every = sorted({path for paths in files.values() for path in paths})
        # DuckDB checks the path as given (escaped) before globbing it, and the file it then opens
        allowed = sorted({str(path) for path in every} | {_exact(path) for path in every})
        connection.execute(f"SET allowed_paths = [{', '.join(_literal(text) for text in allowed)}]")
        parts = connection.from_arrow(pa.table({"file": pa.array([str(p) for p in relabel], pa.string()),
                                                "exhibit_id": pa.array(list(relabel.values()), pa.string())}))
        parts.create_view(PARTS_TABLE)
        keep.append(parts)
        for name in EXHIBIT_TABLES + CASE_TABLES:
            paths = files.get(name, [])
            if paths:
                sql = _view_sql(name, paths, relabel, (with_id or {}).get(name, True))
                connection.execute(f"CREATE VIEW {name} AS {sql}")
            elif name in TABLES:
                relation = connection.from_arrow(TABLES[name].arrow_schema().empty_table())
                relation.create_view(name)
                keep.append(relation)
        relation = connection.from_arrow(exhibits)
        relation.create_view("exhibits")
        keep.append(relation)
        for setting in ("SET TimeZone = 'UTC'", "SET temp_directory = ''", "SET enable_external_access = false",
                        "SET lock_configuration = true"):
            connection.execute(setting)
        opened = True
    finally:
        if not opened:  # whatever stopped it (a DuckDB error, an interrupt), the half-made connection is closed
            connection.close()
    return CaseViews(connection, files, keep)
