"""Chat phase of an ingest: find chat stores among the hashed artefacts, parse them in the workers,
tie attachments to artefacts, and write messages.parquet.

Candidates are chosen from what the walk already learned (libmagic's type, the path), so no file is
read twice unless it is a database, an export, or one of their siblings. Parsing happens on copies
in a scratch folder: SQLite never opens anything inside the evidence.

Messages stream: a worker writes the rows of its unit to a file in the chat phase's scratch folder
in batches, and the main process reads them back batch by batch, ties their attachments to
artefacts and appends them to messages.parquet, so memory does not grow with the number of messages.
"""

from __future__ import annotations

import fnmatch
import json
import os
import pickle
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq

from ingest.config import Config
from ingest.work import OPEN_ERRORS, VolumeRecipe, open_content, open_volume
from manifests.records import Participant, UndecodedText
from manifests.schemas import MESSAGES
from manifests.text import display
from parsers.artefact import Catalog
from parsers.chat.driver import ParsedMessage, stream_artefact
from parsers.chat.registry import all_parsers
from parsers.sqlite_store import QueryLimits

SQLITE_MIMES = frozenset({"application/vnd.sqlite3", "application/x-sqlite3"})
# SQLite's own sidecars, and Messenger's threads_db2-uid (the owner's id beside its database).
SIBLING_SUFFIXES = (b"-wal", b"-journal", b"-shm", b"-uid")
COPY_CHUNK = 1 << 20
# Message rows per batch in a unit's scratch file (and so in the main process at once).
BATCH_ROWS = 1000
# A message row as a worker builds it: messages.parquet less the columns the main process adds.
_ADDED_LATER = ("case_id", "exhibit_id", "message_index")
ROW_SCHEMA = pa.schema([f for f in MESSAGES.arrow_schema() if f.name not in _ADDED_LATER])
# What a parser's record can hold that does not make a row: a wrong type, a value out of range.
ROW_ERRORS: tuple[type[BaseException], ...] = (AttributeError, TypeError, ValueError, OverflowError, pa.ArrowInvalid, pa.ArrowTypeError)
ARTEFACT_BATCH_ROWS = 65536


@dataclass(frozen=True)
class Candidate:
    """One artefact the chat phase may read: plain data, so it travels to a worker as JSON."""

    entry_index: int
    path: str  # path bytes as latin-1 text (exact, reversible)
    path_spec: str
    sha256: str | None
    size: int
    recipe: dict
    target: list
    parse: bool  # False: only a sibling or companion of a database


class ImageArtefact:
    """An artefact inside the image, read through the worker's open volume (never the host's file system)."""

    def __init__(self, candidate: Candidate) -> None:
        self.candidate = candidate
        self.path_bytes = candidate.path.encode("latin-1")
        self.sha256 = candidate.sha256
        self.entry_index = candidate.entry_index

    @property
    def path(self) -> str:
        return display(self.path_bytes) or ""

    def _reader(self):
        recipe = VolumeRecipe(**self.candidate.recipe)
        try:
            read, size, errors, descriptor = open_content(recipe, open_volume(recipe), self.candidate.target)
        except OPEN_ERRORS as error:
            raise OSError(f"{self.path}: cannot open: {error}") from None
        return read, size, errors, descriptor

    def read_head(self, size: int) -> bytes:
        read, total, errors, descriptor = self._reader()
        try:
            want = min(size, total)
            try:
                data = read(0, want)
            except errors as error:
                raise OSError(f"{self.path}: read error at offset 0: {error}") from None
            if len(data) != want:
                raise OSError(f"{self.path}: short read at offset 0 ({len(data)} of {want} bytes)")
            return data
        finally:
            if descriptor is not None:
                os.close(descriptor)

    def copy_to(self, destination: Path) -> None:
        """Exact content to `destination`; a read error or short read raises rather than leave a hole."""
        read, total, errors, descriptor = self._reader()
        try:
            with open(destination, "xb") as target:
                offset = 0
                while offset < total:
                    want = min(COPY_CHUNK, total - offset)
                    try:
                        data = read(offset, want)
                    except errors as error:
                        raise OSError(f"{self.path}: read error at offset {offset}: {error}") from None
                    if len(data) != want:
                        raise OSError(f"{self.path}: short read at offset {offset} ({len(data)} of {want} bytes)")
                    target.write(data)
                    offset += want
        finally:
            if descriptor is not None:
                os.close(descriptor)


def _glob_pattern(globs: tuple[str, ...]) -> re.Pattern[str] | None:
    """One compiled regular expression for many globs: a phone holds hundreds of thousands of files."""
    if not globs:
        return None
    return re.compile("|".join(f"(?:{fnmatch.translate(g.lower())})" for g in sorted(set(globs))))


@dataclass
class CandidateCollector:
    """Picks chat candidates from artefacts rows as they are written (in walk order)."""

    candidates: list[Candidate] = field(default_factory=list)
    parse_paths: re.Pattern[str] | None = field(default_factory=lambda: _glob_pattern(tuple(g for p in all_parsers() for g in p.paths)))
    companion_paths: re.Pattern[str] | None = field(default_factory=lambda: _glob_pattern(tuple(g for p in all_parsers() for g in p.companions)))

    def consider(self, row: dict, recipe: VolumeRecipe, target: list | None) -> None:
        if target is None or row.get("content_status") != "hashed" or row.get("data_stream") is not None:
            return
        path_bytes: bytes = row["path_bytes"]
        lowered = path_bytes.decode("utf-8", "surrogateescape").lower()
        parse = row.get("mime_type") in SQLITE_MIMES or bool(self.parse_paths and self.parse_paths.match(lowered))
        # A deleted -wal or contacts file beside a live database would be read as if current: siblings
        # and companions are taken from allocated entries only (a deleted database itself is parsed).
        helper = not row.get("is_deleted") and (path_bytes.endswith(SIBLING_SUFFIXES)
                                             or bool(self.companion_paths and self.companion_paths.match(lowered)))
        if parse or helper:
            self.candidates.append(Candidate(entry_index=row["entry_index"], path=path_bytes.decode("latin-1"), path_spec=row["path_spec"],
                                             sha256=row.get("sha256"), size=row["size"] or 0, recipe=asdict(recipe), target=list(target),
                                             parse=parse))


def write_catalog(candidates: list[Candidate], folder: Path) -> Path:
    """The candidate catalog as one JSON file in the scratch folder, read once by each worker."""
    path = folder / "chat-catalog.json"
    path.write_text(json.dumps([asdict(c) for c in candidates]), encoding="utf-8")
    return path


def unit_json(catalog_file: Path, index: int, keys: dict[str, str], messages_file: Path, config: Config) -> str:
    """A chat unit: which catalog entry to parse, where its rows go, and the query budget of each database.

    Keys travel in memory only, never to a file.
    """
    return json.dumps({"catalog_file": str(catalog_file), "parse": index, "keys": keys, "messages_file": str(messages_file),
                       "database_seconds": config.chat_database_seconds, "database_rows": config.chat_database_rows})


_CATALOGS: dict[str, tuple[list[ImageArtefact], Catalog]] = {}


def _catalog(path: str) -> tuple[list[ImageArtefact], Catalog]:
    if path not in _CATALOGS:
        _CATALOGS.clear()
        artefacts = [ImageArtefact(Candidate(**c)) for c in json.loads(Path(path).read_text(encoding="utf-8"))]
        _CATALOGS[path] = (artefacts, Catalog.of(artefacts))
    return _CATALOGS[path]


def run_chat_unit(unit: str) -> dict:
    """Worker side: parse one candidate, its rows for messages.parquet written in batches to the unit's file.

    Returns the file, the number of rows in it, the file names its attachments refer to (to look up
    in artefacts once per unit), and the problems as plain dicts.
    """
    data = json.loads(unit)
    artefacts, catalog = _catalog(data["catalog_file"])
    main = artefacts[data["parse"]]
    limits = QueryLimits(seconds=float(data["database_seconds"]), rows=int(data["database_rows"]))
    warnings: list = []
    names: set[bytes] = set()
    count = 0
    bad_rows: list[dict] = []
    with open(data["messages_file"], "wb") as handle:  # "wb": a retried unit starts its file again
        batch: list[dict] = []
        for parsed in stream_artefact(main, catalog, warnings, keys=data["keys"], scratch=_scratch(), limits=limits):
            row = _message_row_or_problem(parsed, main, bad_rows)
            if row is None:
                continue
            batch.append(row)
            if len(batch) >= BATCH_ROWS:
                count += _write_batch(handle, batch, main, bad_rows, names)
                batch = []
        if batch:
            count += _write_batch(handle, batch, main, bad_rows, names)
    problems = [_problem(main, parser, w.kind, w.severity, w.message, w.table, w.row_id, w.field) for parser, w in warnings]
    problems.extend(bad_rows)
    return {"messages_file": data["messages_file"], "count": count, "attachment_names": sorted(names), "problems": problems}


def run_chat_units(units: list[str]) -> list[dict]:
    """The chat task (`ingest.tasks`): each item one chat unit's JSON."""
    return [run_chat_unit(unit) for unit in units]


def _message_row_or_problem(parsed: ParsedMessage, artefact: "ImageArtefact", bad_rows: list[dict]) -> dict | None:
    """The row of one message, or None and a `parser_failed` problem when the parser's record cannot make one."""
    try:
        return _message_row(parsed, artefact)
    except ROW_ERRORS as error:
        bad_rows.append(_unfit(parsed.parser.name, parsed.parser.version, parsed.message.source_table, parsed.message.source_row_id, artefact, error))
        return None


def _write_batch(handle, batch: list[dict], artefact: "ImageArtefact", bad_rows: list[dict], names: set[bytes]) -> int:
    """Write the rows that fit messages.parquet; each one that does not is a `parser_failed` problem.

    The whole batch is checked against the schema at once; only a batch that fails is checked row by
    row, so a wrong value costs its own message and the cost stays one conversion per batch.
    """
    try:
        pa.Table.from_pylist(batch, schema=ROW_SCHEMA)
        fitting = batch
    except ROW_ERRORS:
        fitting = []
        for row in batch:
            try:
                pa.Table.from_pylist([row], schema=ROW_SCHEMA)
            except ROW_ERRORS as error:
                bad_rows.append(_unfit(row["parser"], row["parser_version"], row["store_table"], row["store_row_id"], artefact, error))
                continue
            fitting.append(row)
    if fitting:
        names.update(_attachment_names(fitting))
        pickle.dump(fitting, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return len(fitting)


def _unfit(parser: str, version: str, table: object, row_id: object, artefact: "ImageArtefact", error: BaseException) -> dict:
    table_name = table if isinstance(table, str) else None
    row = row_id if isinstance(row_id, int) and not isinstance(row_id, bool) and -2 ** 63 <= row_id < 2 ** 63 else None
    where = f" ({table_name}#{row})" if table_name and row is not None else (f" ({table_name})" if table_name else "")
    return _problem(artefact, parser, "parser_failed", "error",
                    f"{artefact.path}: {parser} (version {version}) gave a message{where} that does not fit messages.parquet; the message is left out: "
                    f"{type(error).__name__}: {error}", table_name, row)


def read_messages(path: Path) -> Iterator[list[dict]]:
    """The batches of rows a unit wrote, in order (a private file of this run, written by run_chat_unit)."""
    with open(path, "rb") as handle:
        while True:
            try:
                yield pickle.load(handle)
            except EOFError:
                return


def _scratch() -> Path | None:
    configured = os.environ.get("EXHIBIT_SCRATCH")
    return Path(configured) if configured else None


def _problem(artefact: ImageArtefact, parser: str, kind: str, severity: str, message: str, table: str | None = None,
             row_id: int | None = None, field_name: str | None = None) -> dict:
    return {"stage": "parse", "error_kind": kind, "severity": severity, "path": artefact.path, "path_spec": artefact.candidate.path_spec,
            "message": message, "parser": parser or None, "store_table": table, "store_row_id": row_id, "store_field": field_name}


def _participant(value: Participant | None) -> dict | None:
    return None if value is None else {"id": value.id, "name": value.name}


def _message_row(parsed: ParsedMessage, artefact: ImageArtefact) -> dict:
    message = parsed.message
    parser = parsed.parser
    body = message.body
    return {
        "app": parser.app,
        "platform": parser.platform,
        "app_version": message.app_version,
        "account_id": message.account_id,
        "conversation_id": message.conversation_id,
        "conversation_title": message.conversation_title,
        "sender_id": message.sender.id if message.sender else None,
        "sender_name": message.sender.name if message.sender else None,
        "recipients": [_participant(p) for p in message.recipients] or None,
        "direction": message.direction,
        "sent_time": message.sent,
        "sent_time_raw": message.sent_raw,
        "received_time": message.received,
        "read_time": message.read,
        "edited_time": message.edited,
        "deleted_time": message.deleted,
        "body": body,
        "body_bytes": body.raw if isinstance(body, UndecodedText) else None,
        "message_kind": message.kind,
        "attachments": [asdict(a) for a in message.attachments] or None,
        "latitude": message.latitude,
        "longitude": message.longitude,
        "location_name": message.location_name,
        "is_deleted": message.is_deleted,
        "is_edited": message.is_edited,
        "is_forwarded": message.is_forwarded,
        "is_view_once": message.is_view_once,
        "record_state": parsed.record_state,
        "details": sorted(message.details.items()) or None,
        "path": artefact.path,
        "path_bytes": artefact.path_bytes,
        "entry_index": artefact.entry_index,
        "sha256": artefact.sha256,
        "store_table": message.source_table,
        "store_row_id": message.source_row_id,
        "parser": parser.name,
        "parser_version": parser.version,
    }


def parser_metadata() -> dict[str, str]:
    """Parser names and versions for the Parquet metadata of messages.parquet."""
    return {f"exhibit.parser.{p.name}": p.version for p in all_parsers()}


# ---- attachments: tie a stored path to the artefact that holds the file -------------------------

def _components(path: str) -> list[str]:
    trimmed = path.replace("\\", "/")
    if trimmed.startswith("file://"):
        trimmed = trimmed[len("file://"):]
    return [part for part in trimmed.split("/") if part not in ("", ".", "~")]


AttachmentIndex = dict[bytes, list[tuple[list[str], bytes, str | None]]]


def _attachment_names(rows: Iterable[dict]) -> set[bytes]:
    """The file names (exact bytes) the attachments of `rows` refer to."""
    wanted: set[bytes] = set()
    for row in rows:
        for attachment in row["attachments"] or ():
            parts = _components(attachment["local_path"] or "")
            if parts:
                wanted.add(parts[-1].encode("utf-8", "surrogatepass"))
    return wanted


def attachment_index(names: Iterable[bytes], artefacts_parquet: Path) -> AttachmentIndex:
    """Regular files of this exhibit named like one of `names`, by name, read from artefacts in batches."""
    wanted = sorted(set(names))
    by_name: AttachmentIndex = {}
    if not wanted:
        return by_name
    import pyarrow as pa
    import pyarrow.compute as pc

    value_set = pa.array(wanted, pa.binary())
    artefacts = pq.ParquetFile(artefacts_parquet)
    for batch in artefacts.iter_batches(batch_size=ARTEFACT_BATCH_ROWS, columns=["name_bytes", "path_bytes", "sha256", "entry_type", "data_stream"]):
        mask = pc.and_(pc.is_in(batch["name_bytes"], value_set=value_set), pc.is_null(batch["data_stream"]))
        for item in batch.filter(mask).to_pylist():
            if item["entry_type"] != "file":
                continue
            path_text = item["path_bytes"].decode("utf-8", "surrogateescape")
            by_name.setdefault(item["name_bytes"], []).append((_components(path_text), item["path_bytes"], item["sha256"]))
    return by_name


def resolve_batch(rows: Iterable[dict], index: AttachmentIndex) -> None:
    """Fill artefact_path and sha256 of the attachments of `rows` whose file is in `index`.

    A stored path matches an artefact when they share the file name and at least the folder above
    it; the artefact sharing the most trailing components wins. When several share as many with
    different content the attachment stays unresolved, rather than guessing.
    """
    for row in rows:
        for attachment in row["attachments"] or ():
            _resolve_one(attachment, index)


def _resolve_one(attachment: dict, by_name: dict[bytes, list[tuple[list[str], bytes, str | None]]]) -> None:
    parts = _components(attachment["local_path"] or "")
    if not parts:
        return
    options = by_name.get(parts[-1].encode("utf-8", "surrogatepass"), [])
    scored: list[tuple[int, bytes, str | None]] = []
    for components, path_bytes, sha256 in options:
        common = 0
        # strict=False: the two paths differ in depth; only their shared trailing components are compared
        for mine, theirs in zip(reversed(parts), reversed(components), strict=False):
            if mine != theirs:
                break
            common += 1
        if common >= 2 or (len(parts) == 1 and common == 1):
            scored.append((common, path_bytes, sha256))
    if not scored:
        return
    best = max(score for score, _, _ in scored)
    top = sorted((p, s) for score, p, s in scored if score == best)
    if len({s for _, s in top}) > 1:
        return
    path_bytes, sha256 = top[0]
    attachment["artefact_path"] = display(path_bytes)
    attachment["sha256"] = sha256


__all__ = ["Candidate", "CandidateCollector", "attachment_index", "read_messages", "resolve_batch", "run_chat_unit", "run_chat_units",
           "unit_json", "write_catalog", "parser_metadata"]

