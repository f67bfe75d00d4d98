"""Hash sets of a case: import reference sets (known files to set aside, notable files to look at) into
CASE/hashsets/NAME/, and match them against the artefacts of every sealed exhibit into CASE/hash_hits.parquet.

Sorting, deduplicating and joining run in DuckDB directly on the Parquet files, with a memory limit and
a temporary folder inside the case, so a set of fifty million hashes is never held in Python's memory.
An import is all or nothing: the set is built in a staging folder, renamed into place, and its
`hashset_imported` custody event appended; if that append fails the folder is taken back.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import stat
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from itertools import islice
from pathlib import Path
from typing import Iterator

import duckdb
import ijson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from case.hashset_formats import Entry, NotThisFormat, Tally, detect, formats
from manifests import custody
from manifests.confined import Refused, open_member
from manifests.files import fsync_dir, fsync_file, sha256_and_size
from manifests.schemas import HASH_HITS, HASHSET

SETS_FOLDER = "hashsets"
SET_TABLE = "hashset.parquet"
SET_INFO = "hashset.json"
HITS_NAME = "hash_hits.parquet"
LOCK_NAME = ".hashsets.lock"
STAGING_PREFIX = ".hashsets.partial-"
INFO_FORMAT = "exhibit.hashset/1"
KINDS = ("known", "notable")
FORMAT_CHOICES = ("auto", "nsrl", "vics", "caid", "plain")
DEFAULT_MEMORY_LIMIT = "2GB"
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_MEMORY = re.compile(r"[0-9]{1,6}(\.[0-9]{1,3})?\s?(KB|MB|GB|TB|KiB|MiB|GiB|TiB)")
MAX_INFO_BYTES = 1 << 20
MAX_MANIFEST_BYTES = 16 << 20
MAX_CATEGORY = 200
BATCH_ROWS = 100_000
_STAGING = re.compile(re.escape(STAGING_PREFIX) + r"[0-9a-f]{32}")
_ARTEFACT_COLUMNS = ("case_id", "exhibit_id", "entry_index", "path", "md5", "sha1", "sha256")
_RAW = pa.schema([("algorithm", pa.string()), ("hash", pa.string()), ("category", pa.string()), ("set_entry_id", pa.string()),
                  ("set_entry_name", pa.string())])


class HashSetError(ValueError):
    """Bad usage or input that cannot be imported as claimed: nothing was written (exit 2)."""


@dataclass(frozen=True)
class ImportResult:
    info: dict
    replaced: bool
    event: dict
    stale_removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Count:
    set_name: str
    set_kind: str
    exhibit_id: str
    artefacts: int
    rows: int


@dataclass
class MatchResult:
    counts: list[Count] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    rows: int = 0
    hits_path: Path | None = None
    empty_skipped: dict[tuple[str, str], int] = field(default_factory=dict)  # (set, exhibit) -> empty files not reported


def name_problem(name: str) -> str | None:
    """Why NAME cannot name a hash set folder (None when it can): letters, digits, _ . -, not first a dot."""
    if NAME_PATTERN.fullmatch(name) is None:
        return (f"hash set name {name!r} is not a safe folder name: use 1 to 64 letters, digits, '_', '.' or '-', "
                "starting with a letter or digit (no '/', no '..')")
    return None


def memory_problem(limit: str) -> str | None:
    return None if _MEMORY.fullmatch(limit) else f"memory limit {limit!r}: use a size such as 512MB or 2GB"


def sets_folder(case_dir: Path) -> Path:
    return case_dir / SETS_FOLDER


def is_sets_folder(path: Path) -> bool:
    """True for CASE/hashsets when it holds hash sets, not a sealed exhibit that happens to be named `hashsets`."""
    return path.name == SETS_FOLDER and not (path / "manifest.json").exists()


# ---------------------------------------------------------------- staging, locks and DuckDB


@contextmanager
def _case_lock(case_dir: Path) -> Iterator[None]:
    """One writer of CASE/hashsets and CASE/hash_hits.parquet at a time (imports, matches, ingests)."""
    descriptor = os.open(case_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        os.close(descriptor)


def _remove_stale_staging(case_dir: Path) -> list[str]:
    """Staging folders whose own lock nobody holds were left by a killed run: removed (never a live one's)."""
    removed = []
    for path in sorted(case_dir.iterdir()):
        if not _STAGING.fullmatch(path.name) or path.is_symlink() or not path.is_dir():
            continue
        try:
            descriptor = os.open(path / ".lock", os.O_RDWR)
        except FileNotFoundError:
            continue  # a folder made this instant, before its lock file: not stale
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            continue
        finally:
            os.close(descriptor)
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    return removed


@contextmanager
def _staging(case_dir: Path) -> Iterator[Path]:
    """A hidden folder in the case for one operation's files and DuckDB's spill, removed afterwards."""
    path = case_dir / f"{STAGING_PREFIX}{uuid.uuid4().hex}"
    path.mkdir()
    descriptor = os.open(path / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        os.close(descriptor)


def _connect(staging: Path, memory_limit: str) -> duckdb.DuckDBPyConnection:
    problem = memory_problem(memory_limit)
    if problem is not None:
        raise HashSetError(problem)
    spill = staging / "duckdb-tmp"
    spill.mkdir(exist_ok=True)
    return duckdb.connect(":memory:", config={"memory_limit": memory_limit, "temp_directory": str(spill),
                                              "preserve_insertion_order": False, "autoinstall_known_extensions": False,
                                              "autoload_known_extensions": False})


def _write_query(connection: duckdb.DuckDBPyConnection, sql: str, params: list, path: Path, schema: pa.Schema) -> int:
    """Stream a query's rows into a Parquet file of `schema` (our metadata and nullability), in row groups."""
    reader = connection.sql(sql, params=params).to_arrow_reader(BATCH_ROWS)
    rows = 0
    with pq.ParquetWriter(str(path), schema, compression="zstd") as writer:
        for batch in reader:
            arrays = [batch.column(index).cast(target.type) for index, target in enumerate(schema)]
            writer.write_table(pa.Table.from_arrays(arrays, schema=schema))
            rows += batch.num_rows
    fsync_file(path)
    return rows


def _utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---------------------------------------------------------------- import


@dataclass(frozen=True)
class ImportRequest:
    case_dir: Path
    case_id: str
    name: str
    source: Path
    kind: str
    category: str | None = None
    claimed_format: str = "auto"
    replace: bool = False
    actor: str | None = None
    organisation: str | None = None
    signing_key: Ed25519PrivateKey | None = None
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    tool_version: str | None = None


def _check_request(request: ImportRequest) -> None:
    problem = name_problem(request.name)
    if problem is not None:
        raise HashSetError(problem)
    if request.kind not in KINDS:
        raise HashSetError(f"--kind {request.kind!r}: use one of {', '.join(KINDS)}")
    if request.category is not None and not (0 < len(request.category) <= MAX_CATEGORY):
        raise HashSetError(f"--category must be 1 to {MAX_CATEGORY} characters")
    if request.claimed_format not in FORMAT_CHOICES:
        raise HashSetError(f"--format {request.claimed_format!r}: use one of {', '.join(FORMAT_CHOICES)}")
    problem = memory_problem(request.memory_limit)
    if problem is not None:
        raise HashSetError(problem)
    try:
        info = os.stat(request.source)
    except OSError as error:
        raise HashSetError(f"{request.source}: cannot be read ({error.strerror or error})") from None
    if not stat.S_ISREG(info.st_mode):
        raise HashSetError(f"{request.source}: not a regular file")
    if not request.case_dir.is_dir():
        raise HashSetError(f"{request.case_dir}: no such case folder")
    folder = sets_folder(request.case_dir)
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise HashSetError(f"{folder} is not a folder of hash sets (a link or a file); nothing written")
    if folder.exists() and not is_sets_folder(folder):
        raise HashSetError(f"{folder} is the sealed exhibit named {SETS_FOLDER!r}; hash sets cannot be stored in this case")
    custody.require_readable(request.case_dir)
    _check_target(request)


def _check_target(request: ImportRequest) -> None:
    target = sets_folder(request.case_dir) / request.name
    if target.is_symlink():
        raise HashSetError(f"{target} is a symbolic link; nothing written")
    if target.exists() and not request.replace:
        raise HashSetError(f"the case already holds a hash set named {request.name!r}; give --replace to replace it")


def _entries(request: ImportRequest, format_name: str, tally: Tally, facts: dict) -> Iterator[Entry]:
    try:
        yield from formats()[format_name].read(request.source, tally, facts)
    except NotThisFormat as error:
        raise HashSetError(f"{request.source}: {error}") from None
    except OSError as error:
        raise HashSetError(f"{request.source}: cannot be read ({error.strerror or error})") from None


def _write_raw(entries: Iterator[Entry], path: Path, category: str | None) -> int:
    """Every entry read, unsorted, to a Parquet file in the staging folder (bounded batches in memory)."""
    rows = 0
    with pq.ParquetWriter(str(path), _RAW, compression="zstd") as writer:
        while batch := list(islice(entries, BATCH_ROWS)):
            arrays = [pa.array(column, pa.string()) for column in zip(*batch, strict=True)]
            if category is not None:
                arrays[2] = pc.fill_null(arrays[2], category)
            writer.write_table(pa.Table.from_arrays(arrays, schema=_RAW))
            rows += len(batch)
    return rows


# One row per (algorithm, hash): the least (category, set_entry_id, set_entry_name), nulls last, taken whole
# from one source row. A hash aggregate and an external sort, both of which DuckDB spills to its temporary
# folder, so the memory limit holds for any size (a window function would not spill as well).
_DEDUP = ("SELECT ? AS case_id, ? AS set_name, algorithm, hash, k.c AS category, k.i AS set_entry_id, k.n AS set_entry_name FROM ("
          "SELECT algorithm, hash, min(struct_pack(c := category, i := set_entry_id, n := set_entry_name)) AS k "
          "FROM read_parquet(?) GROUP BY algorithm, hash) ORDER BY algorithm, hash")
# Hashes the source gives more than one category (a null category counts as one of them).
_CONFLICTS = ("SELECT count(*) FROM (SELECT 1 FROM read_parquet(?) GROUP BY algorithm, hash "
              "HAVING min(category) IS DISTINCT FROM max(category) OR (count(category) > 0 AND count(category) < count(*)))")
_COUNTS = "SELECT algorithm, count(*) FROM read_parquet(?) GROUP BY algorithm ORDER BY algorithm"


def import_set(request: ImportRequest) -> ImportResult:
    """Read FILE as its format, store it as CASE/hashsets/NAME and record the import in the ledger.

    HashSetError (nothing written) for bad usage, a NAME that exists without --replace, or a file that is
    not the claimed format; custody.CustodyError when the ledger cannot take the event (the set is taken back).
    """
    _check_request(request)
    format_name = detect(request.source) if request.claimed_format == "auto" else request.claimed_format
    case_dir = request.case_dir
    before = os.stat(request.source)
    source_sha256, source_size = sha256_and_size(request.source)
    with _case_lock(case_dir):
        stale = _remove_stale_staging(case_dir)
    with _staging(case_dir) as staging:
        tally, facts = Tally(), {}
        raw = staging / "raw.parquet"
        read = _write_raw(_entries(request, format_name, tally, facts), raw, request.category)
        after = os.stat(request.source)
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or after.st_size != source_size:
            raise HashSetError(f"{request.source} changed while it was being imported; nothing written")
        if read == 0:
            reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(tally.skipped.items())) or "none"
            raise HashSetError(f"{request.source}: no hash could be read as {format_name} (entries skipped: {reasons}); nothing written")
        built = staging / request.name
        built.mkdir()
        table = built / SET_TABLE
        schema = HASHSET.arrow_schema()
        schema = schema.with_metadata({**schema.metadata, b"exhibit.case_id": request.case_id.encode(),
                                       b"exhibit.set_name": request.name.encode()})
        try:
            with _connect(staging, request.memory_limit) as connection:
                rows = _write_query(connection, _DEDUP, [request.case_id, request.name, str(raw)], table, schema)
                conflicts = connection.execute(_CONFLICTS, [str(raw)]).fetchone()[0]
                counts = dict(connection.execute(_COUNTS, [str(table)]).fetchall())
        except duckdb.Error as error:  # out of memory or disk while sorting: nothing was published
            raise HashSetError(f"sorting the set failed ({str(error)[:300]}); nothing was imported") from None
        table_sha256, table_size = sha256_and_size(table)
        info = {
            "format": INFO_FORMAT,
            "name": request.name,
            "case_id": request.case_id,
            "kind": request.kind,
            "category": request.category,
            "file_format": format_name,
            "file_name": os.fsdecode(request.source.name),
            "file_sha256": source_sha256,
            "file_size": source_size,
            "file_facts": facts,
            "imported_time": _utc_text(datetime.now(timezone.utc)),
            "importer": f"case.hashset_formats.{formats()[format_name].read.__module__.rsplit('.', 1)[-1]}",
            "importer_version": formats()[format_name].version,
            "libraries": {"duckdb": duckdb.__version__, "pyarrow": pa.__version__, "ijson": ijson.__version__},
            "table_version": HASHSET.version,
            "entries_read": read,
            "rows": rows,
            "counts": {algorithm: counts.get(algorithm, 0) for algorithm in ("md5", "sha1", "sha256")},
            "duplicates_merged": read - rows,
            "category_conflicts": conflicts,
            "skipped_total": tally.total,
            "skipped": dict(sorted(tally.skipped.items())),
            "skipped_examples": tally.examples,
            "table_sha256": table_sha256,
            "table_size": table_size,
            "actor": request.actor,
        }
        _write_json(built / SET_INFO, info)
        fsync_dir(built)
        raw.unlink()
        with _case_lock(case_dir):
            event, replaced = _publish(request, built, staging, info)
    return ImportResult(info=info, replaced=replaced, event=event, stale_removed=tuple(stale))


def _write_json(path: Path, value: dict) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=2, sort_keys=True, ensure_ascii=True)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())


def _publish(request: ImportRequest, built: Path, staging: Path, info: dict) -> tuple[dict, bool]:
    """Rename the built set into place (the old one aside when replacing), then append the custody event;
    if the append fails, everything is put back as it was."""
    _check_target(request)  # again, under the lock: another import may have published the name meanwhile
    folder = sets_folder(request.case_dir)
    folder.mkdir(exist_ok=True)
    target = folder / request.name
    previous = None
    aside = staging / "previous"
    replacing = target.exists()
    if replacing:
        previous = _read_info(target)
        os.rename(target, aside)
    os.rename(built, target)
    appended = False
    try:
        fsync_dir(folder)
        event = custody.append(request.case_dir, request.case_id, _event(request, info, previous), request.signing_key)
        appended = True
    finally:
        if not appended:  # whatever stopped the append (an error, a signal): the set is taken back, the error goes on
            os.rename(target, built)
            if aside.exists():
                os.rename(aside, target)
            elif not any(folder.iterdir()):
                folder.rmdir()  # the case holds no set again, as before
    return event, replacing


def _event(request: ImportRequest, info: dict, previous: dict | str | None) -> custody.Event:
    counts = ", ".join(f"{algorithm} {count:,}" for algorithm, count in info["counts"].items() if count)
    notes = (f"hash set {info['name']} ({info['kind']}{', category ' + info['category'] if info['category'] else ''}) imported from "
             f"{info['file_name']} as {info['file_format']}: {info['rows']:,} hashes ({counts}), "
             f"{info['skipped_total']:,} entries skipped")
    if previous is not None:
        old = previous.get("table_sha256") if isinstance(previous, dict) else None
        notes += f"; replaced the set of that name (table sha256 {old or 'unknown'})"
    hashes = (("hashset file", "sha256", info["file_sha256"]), ("hashset table", "sha256", info["table_sha256"]))
    return custody.Event(exhibit_id="", action="hashset_imported", actor_name=request.actor or "exhibit (no examiner given)",
                         actor_role="examiner" if request.actor else "tool", actor_organisation=request.organisation,
                         purpose="hash set import", hashes=hashes, notes=notes, tool_version=request.tool_version)


# ---------------------------------------------------------------- reading sets and exhibits


def _read_json_member(folder: Path, name: str, limit: int) -> dict | str:
    """The JSON object in folder/name, or why it cannot be read (never following a link)."""
    try:
        descriptor = open_member(folder, name, limit)
    except Refused as error:
        return f"{name} {error}"
    if descriptor is None:
        return f"{name} is missing"
    try:
        with os.fdopen(descriptor, "rb") as handle:
            value = json.loads(handle.read(limit + 1))
    except (OSError, ValueError) as error:
        return f"{name} is not readable JSON ({str(error)[:200]})"
    return value if isinstance(value, dict) else f"{name} is not a JSON object"


def _read_info(folder: Path) -> dict | str:
    return _read_json_member(folder, SET_INFO, MAX_INFO_BYTES)


@dataclass(frozen=True)
class StoredSet:
    name: str
    kind: str
    table: Path
    info: dict


def list_sets(case_dir: Path) -> tuple[list[StoredSet], list[str]]:
    """Every hash set of the case that can be used, and a problem line for each that cannot."""
    folder = sets_folder(case_dir)
    if not folder.is_dir() or folder.is_symlink() or not is_sets_folder(folder):
        return [], []
    found, problems = [], []
    for path in sorted(folder.iterdir()):
        label = f"hash set {path.name!r}"
        if path.is_symlink() or not path.is_dir():
            problems.append(f"{label}: not a folder (a link or a file); not used")
            continue
        info = _read_info(path)
        if isinstance(info, str):
            problems.append(f"{label}: {info}; not used")
            continue
        if info.get("name") != path.name or info.get("kind") not in KINDS or type(info.get("rows")) is not int:
            problems.append(f"{label}: {SET_INFO} does not describe this set (name, kind or rows wrong); not used")
            continue
        table = path / SET_TABLE
        try:
            mode = os.lstat(table).st_mode
            rows = pq.read_metadata(table).num_rows if stat.S_ISREG(mode) else None
        except (OSError, pa.ArrowException) as error:
            problems.append(f"{label}: {SET_TABLE} cannot be read ({str(error)[:200]}); not used")
            continue
        if rows is None or rows != info["rows"] or os.lstat(table).st_size != info.get("table_size"):
            problems.append(f"{label}: {SET_TABLE} is not the table {SET_INFO} records (rows or size differ, or not a regular file); not used")
            continue
        try:
            digest, _ = sha256_and_size(table)  # the digest the import recorded (and its custody event states), checked
        except OSError as error:
            problems.append(f"{label}: {SET_TABLE} cannot be read ({str(error)[:200]}); not used")
            continue
        if digest != info.get("table_sha256"):
            problems.append(f"{label}: {SET_TABLE} has SHA-256 {digest}, not the {info.get('table_sha256')!r} {SET_INFO} records "
                            "(changed since it was imported); not used")
            continue
        found.append(StoredSet(path.name, info["kind"], table, info))
    return found, problems


@dataclass(frozen=True)
class SealedExhibit:
    exhibit_id: str
    artefacts: Path


def _exhibit(folder: Path) -> SealedExhibit | str:
    manifest = _read_json_member(folder, "manifest.json", MAX_MANIFEST_BYTES)
    if isinstance(manifest, str):
        return f"exhibit folder {folder.name}: {manifest}; not matched"
    exhibit_id = manifest.get("exhibit_id")
    if not isinstance(exhibit_id, str) or not exhibit_id:
        return f"exhibit folder {folder.name}: manifest.json names no exhibit; not matched"
    artefacts = folder / "artefacts.parquet"
    try:
        if not stat.S_ISREG(os.lstat(artefacts).st_mode):
            return f"exhibit {exhibit_id!r}: artefacts.parquet is not a regular file; not matched"
        names = set(pq.read_schema(artefacts).names)
    except (OSError, pa.ArrowException) as error:
        return f"exhibit {exhibit_id!r}: artefacts.parquet cannot be read ({str(error)[:200]}); not matched"
    missing = [c for c in _ARTEFACT_COLUMNS if c not in names]
    if missing:
        return f"exhibit {exhibit_id!r}: artefacts.parquet has no column {', '.join(missing)}; not matched"
    return SealedExhibit(exhibit_id, artefacts)


# ---------------------------------------------------------------- matching

_SET_PART = "SELECT ? AS set_name, ? AS set_kind, algorithm, hash, category, set_entry_id FROM read_parquet(?)"
_HIT_COLUMNS = ", ".join(c.name for c in HASH_HITS.columns)
# Matching runs in three steps, so the big join carries nothing but 8-byte keys (a set of fifty million hashes
# against sixty million artefact hashes stays within the memory limit instead of spilling paths and case ids):
# 1. the (exhibit, entry, algorithm) of every artefact hash whose 64-bit hash() is among the sets' (a semi-join;
#    the algorithm needs no key of its own, as MD5, SHA-1 and SHA-256 differ in length);
# 2. those artefacts' rows fetched again with their path and exact hash (a handful of rows);
# 3. the exact join of those rows with the sets' rows: a hash() collision finds nothing here.
_CANDIDATES = (
    "CREATE TEMP TABLE hit_keys AS WITH a AS (SELECT exhibit_id, entry_index, md5, sha1, sha256 FROM read_parquet(?, union_by_name = true)), "
    "h AS (SELECT exhibit_id, entry_index, 'md5' AS algorithm, hash(md5) AS k FROM a WHERE md5 IS NOT NULL "
    "UNION ALL SELECT exhibit_id, entry_index, 'sha1', hash(sha1) FROM a WHERE sha1 IS NOT NULL "
    "UNION ALL SELECT exhibit_id, entry_index, 'sha256', hash(sha256) FROM a WHERE sha256 IS NOT NULL) "
    "SELECT DISTINCT exhibit_id, entry_index, algorithm FROM h WHERE k IN (SELECT hash(hash) FROM read_parquet(?))"
)
_CANDIDATE_ROWS = (
    "CREATE TEMP TABLE hit_rows AS SELECT a.case_id, a.exhibit_id, a.entry_index, a.path, c.algorithm, "
    "CASE c.algorithm WHEN 'md5' THEN a.md5 WHEN 'sha1' THEN a.sha1 ELSE a.sha256 END AS hash "
    "FROM read_parquet(?, union_by_name = true) a JOIN hit_keys c ON a.exhibit_id = c.exhibit_id AND a.entry_index = c.entry_index"
)
_HITS = (
    "CREATE TEMP TABLE new_hits AS WITH s AS ({sets}) "
    "SELECT h.case_id, h.exhibit_id, s.set_name, s.set_kind, s.category, s.set_entry_id, h.entry_index, h.path, h.algorithm, h.hash "
    "FROM hit_rows h JOIN s ON h.algorithm = s.algorithm AND h.hash = s.hash"
)
# The hashes of empty content. A set that holds one (many do) would "match" every empty file of every exhibit:
# such hits are not reported, only counted per set (an empty file is told apart by its size, not by a hash set).
EMPTY_HASHES = {"md5": "d41d8cd98f00b204e9800998ecf8427e", "sha1": "da39a3ee5e6b4b0d3255bfef95601890afd80709",
                "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}
_NEW_HITS = f"SELECT {_HIT_COLUMNS} FROM new_hits WHERE NOT list_contains(?, hash)"
_EMPTY_SKIPPED = ("SELECT set_name, exhibit_id, count(DISTINCT entry_index) FROM new_hits WHERE list_contains(?, hash) "
                  "GROUP BY set_name, exhibit_id")
_CLEAR = "DROP TABLE IF EXISTS hit_keys; DROP TABLE IF EXISTS hit_rows; DROP TABLE IF EXISTS new_hits"
_KEPT = f"SELECT {_HIT_COLUMNS} FROM read_parquet(?) WHERE NOT list_contains(?, exhibit_id)"
_ORDER = " ORDER BY set_name, exhibit_id, entry_index, algorithm"
_SUMMARY = ("SELECT set_name, exhibit_id, count(DISTINCT entry_index), count(*) FROM read_parquet(?) "
            "WHERE list_contains(?, exhibit_id) GROUP BY set_name, exhibit_id")


def match(case_dir: Path, exhibit_dirs: list[Path], every_exhibit: bool, memory_limit: str = DEFAULT_MEMORY_LIMIT) -> MatchResult:
    """Join every hash set of the case with the artefacts of the given sealed exhibits into CASE/hash_hits.parquet.

    With `every_exhibit` the file is rebuilt from these exhibits alone; otherwise their rows are replaced
    and every other exhibit's rows are kept as they were. HashSetError when the case holds no usable set.
    """
    problem = memory_problem(memory_limit)
    if problem is not None:
        raise HashSetError(problem)
    result = MatchResult()
    exhibits = []
    for folder in exhibit_dirs:
        exhibit = _exhibit(folder)
        if isinstance(exhibit, str):
            result.problems.append(exhibit)
        else:
            exhibits.append(exhibit)
    with _case_lock(case_dir):
        sets, set_problems = list_sets(case_dir)
        result.problems += set_problems
        if not sets:
            raise HashSetError(f"the case {case_dir} holds no usable hash set{' (' + '; '.join(set_problems) + ')' if set_problems else ''}; "
                               "import one with `exhibit hashset import`")
        _remove_stale_staging(case_dir)
        ids = [e.exhibit_id for e in exhibits]
        old = _old_hits(case_dir, keep=not every_exhibit)
        if not exhibits:
            return result
        with _staging(case_dir) as staging, _connect(staging, memory_limit) as connection:
            try:
                sql = _stage_hits(connection, sets, [e.artefacts for e in exhibits])
                result.empty_skipped = _empty_skipped(connection)
            except duckdb.Error as error:
                raise HashSetError(f"matching failed ({str(error)[:300]}); {case_dir / HITS_NAME} was not changed") from None
            result.rows, summary = _replace_hits(case_dir, staging, connection, sql, [list(EMPTY_HASHES.values())], ids, old)
    found = {(name, exhibit): (artefacts, rows) for name, exhibit, artefacts, rows in summary}
    for stored in sets:
        for exhibit_id in ids:
            artefacts, rows = found.get((stored.name, exhibit_id), (0, 0))
            result.counts.append(Count(stored.name, stored.kind, exhibit_id, artefacts, rows))
    result.hits_path = case_dir / HITS_NAME
    return result


def _old_hits(case_dir: Path, keep: bool) -> Path | None:
    """CASE/hash_hits.parquet when its other exhibits' rows are to be kept (None: rebuilt from the new rows)."""
    old = case_dir / HITS_NAME
    if not keep or not (old.exists() or old.is_symlink()):
        return None
    if old.is_symlink() or not old.is_file():
        raise HashSetError(f"{old} is not a regular file; not replaced")
    return old


def _stage_hits(connection: duckdb.DuckDBPyConnection, sets: list[StoredSet], artefacts: list[Path]) -> str:
    """The join of these sets with these artefacts tables into the connection's temporary table `new_hits`;
    returns the SQL that reads it without empty-content hashes (HASH_HITS columns, unordered; one parameter:
    the EMPTY_HASHES)."""
    files = [str(path) for path in artefacts]
    connection.execute(_CLEAR)
    connection.execute(_CANDIDATES, [files, [str(stored.table) for stored in sets]])
    connection.execute(_CANDIDATE_ROWS, [files])
    params: list = []
    for stored in sets:
        params += [stored.name, stored.kind, str(stored.table)]
    connection.execute(_HITS.format(sets=" UNION ALL ".join([_SET_PART] * len(sets))), params)
    return _NEW_HITS


def _empty_skipped(connection: duckdb.DuckDBPyConnection) -> dict[tuple[str, str], int]:
    """(set, exhibit) -> artefacts whose only reason to match was an empty-content hash in the set (not reported)."""
    return {(name, exhibit): count for name, exhibit, count in connection.execute(_EMPTY_SKIPPED, [list(EMPTY_HASHES.values())]).fetchall()}


def _replace_hits(case_dir: Path, staging: Path, connection: duckdb.DuckDBPyConnection, sql: str, params: list, ids: list[str],
                  old: Path | None) -> tuple[int, list[tuple]]:
    """Write the new rows (`sql`), with the rows of every exhibit not in `ids` kept from `old`, sorted, to the
    staging folder, then rename them over CASE/hash_hits.parquet. Returns (rows written, per set and exhibit
    of `ids`: artefacts and rows). The caller holds the case lock."""
    target = case_dir / HITS_NAME
    if old is not None:
        sql = f"{sql} UNION ALL {_KEPT}"
        params = [*params, str(old), ids]
    written = staging / HITS_NAME
    try:
        rows = _write_query(connection, sql + _ORDER, params, written, HASH_HITS.arrow_schema())
        summary = connection.execute(_SUMMARY, [str(written), ids]).fetchall() if ids else []
    except duckdb.Error as error:
        if old is not None:
            raise HashSetError(f"{old} cannot be read with the new hits ({str(error)[:300]}); run `exhibit hashset match` "
                               "without --exhibit to rebuild it for every exhibit") from None
        raise HashSetError(f"matching failed ({str(error)[:300]}); {target} was not changed") from None
    os.replace(written, target)
    fsync_dir(case_dir)
    return rows, summary


_FILE_COUNTS = "SELECT set_name, count(DISTINCT entry_index), count(*) FROM read_parquet(?) GROUP BY set_name"


def count_hits(case_dir: Path, artefacts: Path, hits_file: Path, memory_limit: str = DEFAULT_MEMORY_LIMIT) -> tuple[list[dict], list[str]]:
    """Before an exhibit is sealed: its hits per hash set of the case, for the manifest (so the seal covers them).

    The hit rows themselves (HASH_HITS, in hash_hits.parquet's order) are written to `hits_file`, a file
    the caller keeps outside the exhibit, so that after publishing `merge_hits` puts them into the case
    without joining again. Returns one entry per usable set (set name, kind, category, the imported file's
    and the stored table's SHA-256, artefacts and hash rows matched) and a problem line per set that cannot
    be used. A case without hash sets gives ([], []), writes no `hits_file` and is left untouched.
    HashSetError when DuckDB cannot do the join.
    """
    folder = sets_folder(case_dir)
    if not folder.is_dir() or not is_sets_folder(folder) or not any(folder.iterdir()):
        return [], []
    with _case_lock(case_dir):
        sets, problems = list_sets(case_dir)
        if not sets:
            return [], problems
        with _staging(case_dir) as staging, _connect(staging, memory_limit) as connection:
            try:
                sql = _stage_hits(connection, sets, [artefacts])
                skipped = {name: count for (name, _), count in _empty_skipped(connection).items()}
                _write_query(connection, sql + _ORDER, [list(EMPTY_HASHES.values())], hits_file, HASH_HITS.arrow_schema())
                found = {name: (matched, rows) for name, matched, rows in connection.execute(_FILE_COUNTS, [str(hits_file)]).fetchall()}
            except duckdb.Error as error:
                raise HashSetError(f"counting the exhibit's hash-set hits failed ({str(error)[:300]})") from None
    counts = []
    for stored in sets:
        matched, rows = found.get(stored.name, (0, 0))
        counts.append({"set": stored.name, "kind": stored.kind, "category": stored.info.get("category"),
                       "file_sha256": stored.info.get("file_sha256"), "table_sha256": stored.info.get("table_sha256"),
                       "artefacts": matched, "rows": rows, "empty_files_skipped": skipped.get(stored.name, 0)})
    return counts, problems


_NEW_ROWS = f"SELECT {_HIT_COLUMNS} FROM read_parquet(?) WHERE exhibit_id = ?"


def merge_hits(case_dir: Path, exhibit_id: str, hits_file: Path, memory_limit: str = DEFAULT_MEMORY_LIMIT) -> int:
    """After an ingest: the rows `count_hits` wrote for the exhibit replace its rows in CASE/hash_hits.parquet
    (every other exhibit's kept), atomically. Returns the exhibit's rows; HashSetError when it cannot be done."""
    problem = memory_problem(memory_limit)
    if problem is not None:
        raise HashSetError(problem)
    with _case_lock(case_dir):
        old = _old_hits(case_dir, keep=True)
        with _staging(case_dir) as staging, _connect(staging, memory_limit) as connection:
            _, summary = _replace_hits(case_dir, staging, connection, _NEW_ROWS, [str(hits_file), exhibit_id], [exhibit_id], old)
    return sum(rows for _, _, _, rows in summary)
