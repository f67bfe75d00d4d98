"""Many devices as one case: devices.csv read and checked whole, then one `ingest()` per device, each
in its own child process (the ingest sets process-wide state: signal handlers, TZ, EXHIBIT_SCRATCH).

What the summary states is read back from the published exhibit (its manifest's outcome and part
row counts), never from the run's memory. Secrets never sit in devices.csv: its `credentials` cell
names an entry of a separate TOML file.
"""

from __future__ import annotations

import csv
import io
import json
import multiprocessing
import os
import queue as queue_module
import signal
import time
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import pyarrow.parquet as pq

from ingest.cluster import ClusterChoice, ClusterLost
from ingest.config import Config
from ingest.hash_syntax import parse_expected_hash
from ingest.run import IngestRequest, Progress, exhibit_dir, ingest
from ingest.scan import Credentials, SourceError
from ingest.stopping import Interrupted, StopOnSignals
from manifests import custody, keys
from manifests.text import display, display_message
from manifests.writer import ExhibitBusyError, ExhibitExistsError, PublishUndoError

COLUMNS = ("source", "exhibit_id", "description", "expected_hashes", "credentials", "parent_dirs")
REQUIRED = ("source", "exhibit_id", "description", "expected_hashes", "credentials")
_SECRET_WORDS = ("password", "passphrase", "secret", "key", "pin", "token")
_CREDENTIAL_FIELDS = ("password", "recovery_password", "key_file", "app_keys")
MAX_DEVICES_BYTES = 16 * 1024 * 1024  # a devices list is a few kB; anything near this is not one
MAX_DEVICES = 100_000
_PROGRESS_INTERVAL = 0.5  # seconds between a child's progress reports


class DevicesError(ValueError):
    """devices.csv or the credentials file is not usable; the message names the file and line."""


@dataclass(frozen=True)
class DeviceCredentials:
    credentials: Credentials = Credentials()
    app_keys: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Device:
    line: int
    source: Path
    exhibit_id: str
    description: str
    expected_hashes: tuple[tuple[str, str], ...]
    credentials_name: str
    parent_dirs: tuple[Path, ...]


@dataclass(frozen=True)
class DeviceResult:
    exhibit_id: str
    status: str  # completed | skipped | failed | stopped
    reason: str = ""  # why it failed or stopped
    seconds: float | None = None
    outcome: str = ""  # the published manifest's outcome
    counts: dict | None = None  # rows written: entries, messages, media, errors (read from the published exhibit)

    @property
    def clean(self) -> bool:
        return self.status in ("completed", "skipped") and self.outcome == "completed"


def read_credentials(path: Path | None) -> dict[str, DeviceCredentials]:
    """The named credential entries of a TOML file (one table per name); key_file paths resolve against its folder."""
    if path is None:
        return {}
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8"))
    except OSError as error:
        raise DevicesError(f"credentials file {path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise DevicesError(f"credentials file {path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as error:
        raise DevicesError(f"credentials file {path}: not TOML ({error})") from None
    entries = {}
    for name, table in data.items():
        if not isinstance(table, dict):
            raise DevicesError(f"credentials file {path}: {display(name)} must be a table ([{display(name)}] with password = ... etc.)")
        unknown = sorted(set(table) - set(_CREDENTIAL_FIELDS))
        if unknown:
            raise DevicesError(f"credentials file {path}: [{display(name)}] has unknown field(s) {', '.join(display(u) for u in unknown)} "
                               f"(known: {', '.join(_CREDENTIAL_FIELDS)})")
        given = [f for f in ("password", "recovery_password", "key_file") if f in table]
        if len(given) > 1:
            raise DevicesError(f"credentials file {path}: [{display(name)}] gives {' and '.join(given)}; give at most one, as for exhibit ingest")
        for field in given:
            if not isinstance(table[field], str) or not table[field]:
                raise DevicesError(f"credentials file {path}: [{display(name)}] {field} must be a non-empty string")
        app_keys = table.get("app_keys", {})
        if not isinstance(app_keys, dict) or not all(isinstance(k, str) and isinstance(v, str) and k.strip() and v.strip()
                                                     for k, v in app_keys.items()):
            raise DevicesError(f"credentials file {path}: [{display(name)}] app_keys must be a table of app = \"key\" strings")
        key_file = (path.parent / table["key_file"]) if "key_file" in table else None
        if key_file is not None and not key_file.is_file():
            raise DevicesError(f"credentials file {path}: [{display(name)}] key_file {display(str(key_file))} is not a file")
        entries[name] = DeviceCredentials(Credentials(password=table.get("password"), recovery_password=table.get("recovery_password"),
                                                      key_file=key_file),
                                          tuple(sorted((k.strip().lower(), v.strip()) for k, v in app_keys.items())))
    return entries


def read_devices(path: Path, credentials: dict[str, DeviceCredentials]) -> list[Device]:
    """Every row of devices.csv, checked whole before anything runs; relative paths resolve against the CSV's folder."""
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_DEVICES_BYTES + 1)
    except OSError as error:
        raise DevicesError(f"{path}: {error.strerror or error}") from None
    if len(raw) > MAX_DEVICES_BYTES:
        raise DevicesError(f"{path}: over {MAX_DEVICES_BYTES // (1024 * 1024)} MiB; not a devices list")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[:error.start].count(b"\n") + 1
        raise DevicesError(f"{path} line {line}: not UTF-8 text (byte {error.start}); save the file as UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        rows = list(_bounded(reader))
    except csv.Error as error:
        raise DevicesError(f"{path} line {reader.line_num}: not valid CSV ({error})") from None
    if not rows:
        raise DevicesError(f"{path}: empty; the first line must be the header {','.join(REQUIRED)}[,parent_dirs]")
    header = [cell.strip() for cell in rows[0]]
    secret = [h for h in header if h not in COLUMNS and any(w in h.lower() for w in _SECRET_WORDS)]
    if secret:
        raise DevicesError(f"{path} line 1: column {display(secret[0])} looks like a secret; passwords and keys do not belong in "
                           "devices.csv: put them in the --credentials file and name the entry in the credentials column")
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise DevicesError(f"{path} line 1: unknown column(s) {', '.join(display(u) for u in unknown)} (columns: {', '.join(COLUMNS)})")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise DevicesError(f"{path} line 1: missing column(s) {', '.join(missing)}")
    if len(set(header)) != len(header):
        raise DevicesError(f"{path} line 1: a column is named twice")
    devices: list[Device] = []
    seen: dict[str, int] = {}
    line = 1
    for line_cells in rows[1:]:
        line += 1
        if not any(cell.strip() for cell in line_cells):
            continue  # a blank line
        if len(line_cells) != len(header):
            raise DevicesError(f"{path} line {line}: {len(line_cells)} cells, the header has {len(header)}")
        cells = dict(zip(header, line_cells, strict=True))
        devices.append(_device(path, line, cells, credentials, seen))
    if not devices:
        raise DevicesError(f"{path}: no device rows")
    return devices


def _bounded(reader: object) -> object:
    for count, row in enumerate(reader):
        if count > MAX_DEVICES:
            raise DevicesError(f"over {MAX_DEVICES:,} rows; not a devices list")
        yield row


def _device(path: Path, line: int, cells: dict[str, str], credentials: dict[str, DeviceCredentials], seen: dict[str, int]) -> Device:
    where = f"{path} line {line}"
    if not cells["source"]:
        raise DevicesError(f"{where}: empty source")
    exhibit_id = cells["exhibit_id"]
    if not exhibit_id:
        raise DevicesError(f"{where}: empty exhibit_id")
    if exhibit_id in seen:
        raise DevicesError(f"{where}: exhibit_id {display(exhibit_id)} is already on line {seen[exhibit_id]}")
    seen[exhibit_id] = line
    hashes = []
    for value in (v.strip() for v in cells["expected_hashes"].split(";")):
        if value:
            try:
                hashes.append(parse_expected_hash(value))
            except ValueError as error:
                raise DevicesError(f"{where}: expected_hashes {display(str(error))}") from None
    name = cells["credentials"].strip()
    if name and name not in credentials:
        raise DevicesError(f"{where}: credentials {display(name)} is not an entry of the --credentials file"
                           f"{'' if credentials else ' (none was given)'}")
    base = path.parent
    parents = tuple(base / p.strip() for p in cells.get("parent_dirs", "").split(";") if p.strip())
    return Device(line=line, source=base / cells["source"], exhibit_id=exhibit_id, description=cells["description"],
                  expected_hashes=tuple(hashes), credentials_name=name, parent_dirs=parents)


def is_sealed(folder: Path) -> bool:
    return folder.is_dir() and not folder.is_symlink() and (folder / "manifest.json").is_file()


def published_result(exhibit_id: str, folder: Path, status: str, seconds: float | None) -> DeviceResult:
    """What the published exhibit holds: its manifest's outcome and the row counts of its parts."""
    manifest = json.loads((folder / "manifest.json").read_bytes())
    rows = {part["name"]: part["rows"] for part in manifest.get("parts", [])}
    errors_part = folder / "errors.parquet"
    error_rows = 0
    if errors_part.is_file():
        error_rows = sum(1 for value in pq.read_table(errors_part, columns=["severity"]).column("severity").to_pylist() if value == "error")
    counts = {"entries": rows.get("artefacts.parquet", 0), "messages": rows.get("messages.parquet", 0),
              "media": rows.get("media.parquet", 0), "errors": error_rows}
    return DeviceResult(exhibit_id, status, seconds=seconds, outcome=str(manifest.get("outcome", "")), counts=counts)


def workers_per_device(config: Config, parallel: int) -> int:
    """The configured worker count shared out: each of the N devices at once gets total // N, at least one."""
    return max(1, config.effective_workers() // parallel)


def _device_main(results: object, index: int, request: IngestRequest, signing_key: str | None) -> None:
    """One device in its own process: ingest, then one ("result", ...) message; progress as it goes."""
    last = [0.0]

    def report(progress: Progress) -> None:
        now = time.monotonic()
        if now - last[0] >= _PROGRESS_INTERVAL:
            last[0] = now
            results.put(("progress", index, progress.bytes_hashed))

    started = time.monotonic()
    try:
        if signing_key is not None:
            passphrase = os.environ.get("EXHIBIT_KEY_PASSPHRASE")
            request = replace(request, signing_key=keys.load_private(Path(signing_key), passphrase.encode() if passphrase else None))
        summary = ingest(request, on_progress=report)
    except Interrupted as stop:
        results.put(("result", index, "stopped", f"stopped by {stop.signal_name}; nothing was published", time.monotonic() - started))
        return
    except (SourceError, ExhibitExistsError, ExhibitBusyError, custody.CustodyError, keys.KeyFileError, ClusterLost) as error:
        results.put(("result", index, "failed", str(error), time.monotonic() - started))
        return
    except PublishUndoError as error:
        results.put(("result", index, "failed", f"{error}; the exhibit folder stands without its ingested custody event",
                     time.monotonic() - started))
        return
    except OSError as error:
        where = "".join(f" {note}" for note in getattr(error, "__notes__", ()))
        results.put(("result", index, "failed", f"{error}{where}; nothing was published", time.monotonic() - started))
        return
    results.put(("result", index, "completed", "", summary.seconds))


@dataclass
class CaseProgress:
    """What the terminal line shows: devices done / running / left, bytes hashed."""

    total: int
    done: int = 0
    running: int = 0
    bytes_done: int = 0
    started: float = 0.0

    def line(self, running_bytes: int) -> str:
        hashed = self.bytes_done + running_bytes
        rate = hashed / max(time.monotonic() - self.started, 1e-6) / 1e6
        return (f"devices done {self.done}/{self.total}  running {self.running}  left {self.total - self.done - self.running}  "
                f"{hashed / 1e6:,.1f} MB hashed  {rate:,.1f} MB/s")


class _CaseRun:
    """One case run's bookkeeping: the device processes running, their last progress, the results so far."""

    def __init__(self, out_dir: Path, case_id: str, devices: list[Device], config: Config,
                 credentials: dict[str, DeviceCredentials], signing_key: Path | None, parallel: int,
                 cluster: ClusterChoice | None = None) -> None:
        self.out_dir, self.case_id, self.devices, self.config, self.cluster = out_dir, case_id, devices, config, cluster
        self.credentials, self.signing_key, self.parallel = credentials, signing_key, parallel
        self.context = multiprocessing.get_context("spawn")
        self.messages = self.context.Queue()
        self.results: dict[int, DeviceResult] = {}
        self.pending: list[int] = []
        self.running: dict[int, multiprocessing.process.BaseProcess] = {}
        self.running_bytes: dict[int, int] = {}
        self.stopped: str | None = None
        for index, device in enumerate(devices):
            folder = exhibit_dir(out_dir, case_id, device.exhibit_id)
            if is_sealed(folder):
                self.results[index] = replace(published_result(device.exhibit_id, folder, "skipped", None), reason="already sealed")
            else:
                self.pending.append(index)
        self.state = CaseProgress(total=len(devices), done=len(self.results), started=time.monotonic())

    def handle(self, message: tuple) -> None:
        kind, index = message[0], message[1]
        if kind == "progress":
            self.running_bytes[index] = message[2]
            return
        _, _, status, reason, seconds = message
        device = self.devices[index]
        self.state.bytes_done += self.running_bytes.pop(index, 0)
        if status == "completed":
            folder = exhibit_dir(self.out_dir, self.case_id, device.exhibit_id)
            self.results[index] = published_result(device.exhibit_id, folder, "completed", seconds)
        else:
            self.results[index] = DeviceResult(device.exhibit_id, status, reason=reason, seconds=seconds)

    def drain(self, timeout: float) -> None:
        try:
            self.handle(self.messages.get(timeout=timeout))
            while True:
                self.handle(self.messages.get_nowait())
        except queue_module.Empty:
            pass

    def reap(self) -> None:
        for index, process in list(self.running.items()):
            if process.exitcode is None:
                continue
            process.join()
            self.drain(0.05)
            if index not in self.results:
                code = process.exitcode
                why = f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit {code}"
                self.results[index] = DeviceResult(self.devices[index].exhibit_id, "failed" if self.stopped is None else "stopped",
                                                   reason=f"the device's process ended without a result ({why}); nothing was published")
            del self.running[index]
            self.state.done += 1
        self.state.running = len(self.running)

    def start_next(self) -> None:
        index = self.pending.pop(0)
        device = self.devices[index]
        named = self.credentials.get(device.credentials_name, DeviceCredentials())
        request = IngestRequest(source=device.source, case_id=self.case_id, exhibit_id=device.exhibit_id, config=self.config,
                                credentials=named.credentials, expected_hashes=device.expected_hashes,
                                description=device.description, app_keys=named.app_keys, parent_dirs=device.parent_dirs,
                                cluster=self.cluster)
        key = str(self.signing_key) if self.signing_key else None
        process = self.context.Process(target=_device_main, args=(self.messages, index, request, key), name=f"exhibit-device-{index}")
        process.start()
        self.running[index] = process
        self.state.running = len(self.running)

    def stop(self, stop: Interrupted) -> None:
        """Pass the signal on to every running device (each child's own stop handling removes what it staged) and wait for them."""
        self.stopped = stop.signal_name
        for process in self.running.values():
            if process.pid is not None and process.exitcode is None:
                os.kill(process.pid, stop.signum)
        while self.running:
            self.drain(0.2)
            self.reap()

    def run(self, on_progress: Callable[[CaseProgress, int], None] | None) -> tuple[list[DeviceResult], str | None]:
        with StopOnSignals():
            try:
                while self.pending or self.running:
                    while self.pending and len(self.running) < self.parallel:
                        self.start_next()
                    self.drain(0.2)
                    self.reap()
                    if on_progress is not None:
                        on_progress(self.state, sum(self.running_bytes.values()))
            except Interrupted as stop:
                self.stop(stop)
        for index in self.pending:
            self.results[index] = DeviceResult(self.devices[index].exhibit_id, "stopped", reason=f"not started ({self.stopped})")
        return [self.results[i] for i in range(len(self.devices))], self.stopped


def ingest_case(out_dir: Path, case_id: str, devices: list[Device], config: Config, credentials: dict[str, DeviceCredentials],
                signing_key: Path | None, parallel: int, on_progress: Callable[[CaseProgress, int], None] | None = None,
                cluster: ClusterChoice | None = None) -> tuple[list[DeviceResult], str | None]:
    """Every device of the list, at most `parallel` at once; (a result per device in list order, the stop signal's name or None).
    With `cluster`, every device's tasks run on that Dask cluster."""
    config = config.with_overrides(output_dir=str(out_dir), workers=workers_per_device(config, parallel))
    return _CaseRun(out_dir, case_id, devices, config, credentials, signing_key, parallel, cluster).run(on_progress)


def outcome_cell(result: DeviceResult) -> str:
    if result.status == "skipped":
        return f"skipped (already sealed: {result.outcome})" if result.outcome != "completed" else "skipped (already sealed)"
    if result.status == "completed":
        return result.outcome
    return f"{result.status}: {result.reason}"


TABLE_HEADER = ("exhibit", "outcome", "entries", "messages", "media", "errors", "seconds")


def table_rows(results: list[DeviceResult]) -> list[tuple[str, ...]]:
    """One display row per device: the exhibit id escaped, the outcome's prose with control and bidi characters escaped."""
    rows = []
    for result in results:
        counts = result.counts or {}
        rows.append((display(result.exhibit_id), display_message(outcome_cell(result)),
                     *(str(counts[k]) if k in counts else "-" for k in ("entries", "messages", "media", "errors")),
                     f"{result.seconds:.1f}" if result.seconds is not None else "-"))
    return rows


def format_table(results: list[DeviceResult]) -> list[str]:
    rows = [TABLE_HEADER, *table_rows(results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(TABLE_HEADER))]
    return ["  ".join(cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]
