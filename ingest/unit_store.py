"""Durable unit results in a staging folder, so a killed run can take finished units from disk.

A unit's Outcome is written as one JSON file `units/<kind>-<unit_id>.json`: to a temporary name,
fsynced, renamed, the folder fsynced. JSON with tagged values, never pickle: a file in the case
folder must not be able to run code when it is read back. Every value is encoded exactly
(datetimes with their UTC offset, floats as their hex form, bytes as base64, UTF-8-invalid text with
its raw bytes); a type the codec does not know is refused when writing (the unit is then simply not
stored and reruns), and anything unexpected when reading makes the file invalid (it is discarded and
the unit reruns). A file is trusted only if it is a regular file (never a symlink), within the size
budget, of this format, for this unit id and this SHA-256 of the unit's items, and its payload
matches the SHA-256 it carries.

File format (`exhibit-unit/1`)::

    {"format": "exhibit-unit/1", "unit_id": "<kind>-<volume>-<n>", "items_sha256": "<hex>",
     "payload": {"results": V, "failures": [[V item, kind, detail], ...], "retries": int},
     "payload_sha256": "<hex of the canonical JSON of payload>"}

where V is a tagged value: null, true/false, int, str and lists are JSON's own; every other value is
an object with exactly one key: {"$map": [[k, v], ...]} (a dict, keys of any encodable type, order
kept), {"$tuple": [...]}, {"$float": "<float.hex>"}, {"$bytes": "<base64>"},
{"$datetime": ["<naive ISO>", <utcoffset seconds or null>]}, {"$undecoded": "<base64 raw>"}.
The canonical JSON is `json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=True)`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Iterator

from ingest.tasks import FAILURE_KINDS, Failure, Outcome
from manifests.files import atomic_output, fsync_dir
from manifests.records import UndecodedText

FORMAT = "exhibit-unit/1"
MAX_UNIT_FILE_BYTES = 256 << 20  # a unit's results are per-file metadata; a bigger file is not ours
MAX_DEPTH = 64  # nesting a real result never reaches


class UnitEncodeError(TypeError):
    """A result value the codec cannot store exactly; the unit is not stored and reruns on resume."""


class UnitFileInvalid(ValueError):
    """A unit file that cannot be trusted: missing fields, wrong types, other unit, digest mismatch."""


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False).encode("ascii")


def items_digest(items: list) -> str:
    """SHA-256 of a unit's items, so a unit with the same id but other items is never reused."""
    return hashlib.sha256(canonical(encode(items))).hexdigest()


def encode(value: Any, depth: int = 0) -> Any:  # noqa: C901 - one branch per tagged type
    if depth > MAX_DEPTH:
        raise UnitEncodeError("value nested too deep")
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, UndecodedText):
        return {"$undecoded": base64.b64encode(value.raw).decode("ascii")}
    if type(value) is int or type(value) is str:
        return value
    if type(value) is float:
        return {"$float": value.hex()}
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$bytes": base64.b64encode(bytes(value)).decode("ascii")}
    if type(value) is dt.datetime:
        offset = value.utcoffset()
        return {"$datetime": [value.replace(tzinfo=None).isoformat(), None if offset is None else offset // dt.timedelta(microseconds=1)]}
    if type(value) is list:
        return [encode(v, depth + 1) for v in value]
    if type(value) is tuple:
        return {"$tuple": [encode(v, depth + 1) for v in value]}
    if type(value) is dict:
        return {"$map": [[encode(k, depth + 1), encode(v, depth + 1)] for k, v in value.items()]}
    raise UnitEncodeError(f"cannot store a {type(value).__name__} exactly")


def _b64(text: Any) -> bytes:
    if not isinstance(text, str):
        raise UnitFileInvalid("base64 value is not text")
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError) as exc:
        raise UnitFileInvalid(f"bad base64: {exc}") from None


def _datetime(value: Any) -> dt.datetime:
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[0], str)
            and (value[1] is None or type(value[1]) is int)):
        raise UnitFileInvalid("bad datetime")
    try:
        moment = dt.datetime.fromisoformat(value[0])
        if moment.tzinfo is not None:
            raise UnitFileInvalid("datetime text carries its own zone")
        return moment if value[1] is None else moment.replace(tzinfo=dt.timezone(dt.timedelta(microseconds=value[1])))
    except (ValueError, OverflowError) as exc:
        raise UnitFileInvalid(f"bad datetime: {exc}") from None


def _tagged(tag: str, body: Any, depth: int) -> Any:  # noqa: C901 - one branch per tag
    if tag == "$map":
        if not isinstance(body, list) or not all(isinstance(p, list) and len(p) == 2 for p in body):
            raise UnitFileInvalid("bad map")
        out = {}
        for key, item in body:
            key = decode(key, depth + 1)
            if isinstance(key, (list, dict)):
                raise UnitFileInvalid("unhashable map key")
            out[key] = decode(item, depth + 1)
        return out
    if tag == "$tuple":
        if not isinstance(body, list):
            raise UnitFileInvalid("bad tuple")
        return tuple(decode(v, depth + 1) for v in body)
    if tag == "$float":
        try:
            return float.fromhex(body) if isinstance(body, str) else _raise("bad float")
        except ValueError:
            raise UnitFileInvalid("bad float") from None
    if tag == "$bytes":
        return _b64(body)
    if tag == "$undecoded":
        return UndecodedText.of(_b64(body))
    if tag == "$datetime":
        return _datetime(body)
    raise UnitFileInvalid(f"unknown tag {tag[:40]!r}")


def _raise(message: str) -> Any:
    raise UnitFileInvalid(message)


def decode(value: Any, depth: int = 0) -> Any:
    if depth > MAX_DEPTH:
        raise UnitFileInvalid("value nested too deep")
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, list):
        return [decode(v, depth + 1) for v in value]
    if isinstance(value, dict) and len(value) == 1:
        (tag, body), = value.items()
        return _tagged(tag, body, depth)
    raise UnitFileInvalid(f"untagged {type(value).__name__}")


def _payload(outcome: Outcome) -> dict:
    return {"results": encode(outcome.results), "retries": outcome.retries,
            "failures": [[encode(f.item), f.kind, f.detail] for f in outcome.failures]}


def _outcome(payload: Any) -> Outcome:
    if not (isinstance(payload, dict) and set(payload) == {"results", "retries", "failures"}
            and type(payload["retries"]) is int and payload["retries"] >= 0 and isinstance(payload["failures"], list)):
        raise UnitFileInvalid("bad payload")
    results = decode(payload["results"])
    if not isinstance(results, list):
        raise UnitFileInvalid("results is not a list")
    failures = []
    for entry in payload["failures"]:
        if not (isinstance(entry, list) and len(entry) == 3 and entry[1] in FAILURE_KINDS and isinstance(entry[2], str)):
            raise UnitFileInvalid("bad failure")
        failures.append(Failure(decode(entry[0]), entry[1], entry[2]))
    return Outcome(results=results, failures=failures, retries=payload["retries"])


def unit_path(folder: Path, unit_id: str) -> Path:
    if not unit_id or any(c not in "abcdefghijklmnopqrstuvwxyz0123456789-_" for c in unit_id):
        raise ValueError(f"unit id {unit_id!r} is not a safe file name")
    return folder / f"{unit_id}.json"


def save(folder: Path, unit_id: str, items: list, outcome: Outcome) -> Path:
    """Write a unit's outcome durably; raises UnitEncodeError (nothing written) or OSError (disk full)."""
    payload = _payload(outcome)
    document = {"format": FORMAT, "unit_id": unit_id, "items_sha256": items_digest(items),
                "payload": payload, "payload_sha256": hashlib.sha256(canonical(payload)).hexdigest()}
    data = canonical(document)
    target = unit_path(folder, unit_id)
    with _durable(target) as handle:
        handle.write(data)
    return target


@contextmanager
def _durable(target: Path) -> Iterator[BinaryIO]:
    """`atomic_output` (a fresh temporary file, never one reached through a symbolic link, synced and
    renamed into place), then the folder synced, so a unit reported done survives a power cut."""
    with atomic_output(target) as handle:
        yield handle
    fsync_dir(target.parent)


def _read_bounded(path: Path) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise UnitFileInvalid("not a regular file")
        if info.st_size > MAX_UNIT_FILE_BYTES:
            raise UnitFileInvalid(f"{info.st_size} bytes, over the {MAX_UNIT_FILE_BYTES}-byte budget")
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            data = handle.read(MAX_UNIT_FILE_BYTES + 1)
    finally:
        if fd >= 0:
            os.close(fd)
    if len(data) > MAX_UNIT_FILE_BYTES:
        raise UnitFileInvalid("grew past the budget while read")
    return data


def load(folder: Path, unit_id: str, items: list) -> Outcome | None:
    """The stored outcome of this unit with these items; None if none is stored; UnitFileInvalid if untrustworthy."""
    path = unit_path(folder, unit_id)
    try:
        data = _read_bounded(path)
    except FileNotFoundError:
        return None
    except OSError as exc:  # ELOOP: a symlink (O_NOFOLLOW); anything else unreadable
        raise UnitFileInvalid(f"cannot be read safely: {exc.strerror or exc}") from None
    try:
        document = json.loads(data.decode("ascii"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise UnitFileInvalid(f"not valid JSON: {str(exc)[:200]}") from None
    expected = {"format", "unit_id", "items_sha256", "payload", "payload_sha256"}
    if not isinstance(document, dict) or set(document) != expected or document["format"] != FORMAT:
        raise UnitFileInvalid("not an exhibit-unit/1 document")
    if document["unit_id"] != unit_id or document["items_sha256"] != items_digest(items):
        raise UnitFileInvalid("stored for another unit or other items")
    if not isinstance(document["payload_sha256"], str) or hashlib.sha256(canonical(document["payload"])).hexdigest() != document["payload_sha256"]:
        raise UnitFileInvalid("payload does not match its SHA-256")
    return _outcome(document["payload"])


ROWS_FORMAT = "exhibit-unit-rows/1"
MAX_ROW_LINE_BYTES = 64 << 20  # one message row; a longer line is not ours


def rows_path(folder: Path, unit_id: str) -> Path:
    return unit_path(folder, unit_id).with_suffix(".rows.jsonl")


def save_rows(folder: Path, unit_id: str, items: list, rows: Iterable[dict]) -> int:
    """Stream a unit's rows durably as JSON lines (memory flat): a header line, one tagged value per
    row, and a trailer line with the row count and the SHA-256 of every line before it."""
    target = rows_path(folder, unit_id)
    digest = hashlib.sha256()
    count = 0
    with _durable(target) as handle:
        header = canonical({"format": ROWS_FORMAT, "unit_id": unit_id, "items_sha256": items_digest(items)}) + b"\n"
        digest.update(header)
        handle.write(header)
        for row in rows:
            line = canonical(encode(row)) + b"\n"
            digest.update(line)
            handle.write(line)
            count += 1
        handle.write(canonical({"rows": count, "sha256": digest.hexdigest()}) + b"\n")
    return count


def _lines(path: Path) -> Iterator[bytes]:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise UnitFileInvalid("not a regular file")
    with os.fdopen(fd, "rb") as handle:
        while line := handle.readline(MAX_ROW_LINE_BYTES + 1):
            if len(line) > MAX_ROW_LINE_BYTES or not line.endswith(b"\n"):
                raise UnitFileInvalid("a line is over its budget or unterminated")
            yield line


def _json_line(line: bytes) -> Any:
    try:
        return json.loads(line.decode("ascii"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise UnitFileInvalid(f"not valid JSON: {str(exc)[:200]}") from None


def verify_rows(folder: Path, unit_id: str, items: list) -> int | None:
    """First pass: the row count of a stored rows file that verifies; None if none is stored."""
    path = rows_path(folder, unit_id)
    digest = hashlib.sha256()
    count = 0
    previous: bytes | None = None
    try:
        for number, line in enumerate(_lines(path)):
            if previous is not None:
                digest.update(previous)
                count += number > 1
            if number == 0:
                header = _json_line(line)
                if header != {"format": ROWS_FORMAT, "unit_id": unit_id, "items_sha256": items_digest(items)}:
                    raise UnitFileInvalid("stored for another unit, other items or another format")
            previous = line
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise UnitFileInvalid(f"cannot be read safely: {exc.strerror or exc}") from None
    trailer = _json_line(previous) if previous is not None else None
    if trailer != {"rows": count, "sha256": digest.hexdigest()}:
        raise UnitFileInvalid("rows do not match their count and SHA-256 (truncated or changed)")
    return count


def load_rows(folder: Path, unit_id: str, items: list) -> Iterator[dict]:
    """Second pass, after verify_rows: the rows, one at a time; any surprise is UnitFileInvalid."""
    try:
        lines = _lines(rows_path(folder, unit_id))
        next(lines)
        previous = next(lines)
        for line in lines:
            row = decode(_json_line(previous))
            if not isinstance(row, dict):
                raise UnitFileInvalid("a row is not a map")
            yield row
            previous = line
    except OSError as exc:
        raise UnitFileInvalid(f"cannot be read safely: {exc.strerror or exc}") from None


__all__ = ["FORMAT", "MAX_UNIT_FILE_BYTES", "UnitEncodeError", "UnitFileInvalid", "decode", "encode", "items_digest", "load", "load_rows", "rows_path", "save", "save_rows", "unit_path", "verify_rows"]
