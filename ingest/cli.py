"""The `exhibit` command line: options are parsed here, the work is done in library code.

Exit codes (documented in README.md):
  0  completed, no errors recorded
  1  completed, with errors recorded in errors.parquet
  2  bad usage, or a source that cannot be opened as any supported format
  3  the run failed (nothing was published), e.g. the output disk is full, or the Dask scheduler of
     --scheduler could not be reached or went away
  130  stopped by SIGINT (Ctrl-C), 143  stopped by SIGTERM: nothing was published, workers and scratch removed
"""

from __future__ import annotations

import os
import re
import sys
from datetime import datetime
from pathlib import Path
from typing import NoReturn

import click
import duckdb

from case import chats as case_chats
from case import correlate as case_correlate
from case import correlate_output, graph_export, hashsets, search, search_output, timeline_output
from case import noise as case_noise
from case import output as case_output
from case import query as case_query
from case import timeline as case_timeline
from case import views as case_views
from case.times import parse_utc
from ingest import __version__, case_ingest
from ingest.cluster import ClusterChoice, ClusterLost, PathMap, PathMapError
from ingest.config import ConfigError, load_config
from ingest.hash_syntax import parse_expected_hash
from ingest.naming import decode_id, encode_id
from ingest.run import IngestRequest, Progress, Summary, ingest, plural
from ingest.scan import Credentials, SourceError
from ingest.stopping import Interrupted
from manifests import chat_view, custody, keys, report, verify
from manifests.text import display, display_message
from manifests.writer import ExhibitBusyError, ExhibitExistsError, PublishUndoError

EXIT_OK, EXIT_WITH_ERRORS, EXIT_USAGE, EXIT_FAILURE = 0, 1, 2, 3
EXIT_SIGNAL_BASE = 128  # the shell's convention: 128 + signal number (130 SIGINT, 143 SIGTERM)
EXIT_BROKEN_PIPE = EXIT_SIGNAL_BASE + 13  # 141: standard output closed by its reader (SIGPIPE)


class UsageFailure(click.ClickException):
    exit_code = EXIT_USAGE


# Arguments and options that several commands share, word for word.
_CASE_DIR = click.argument("case_dir", type=click.Path(path_type=Path, file_okay=False, exists=True))
_EXHIBITS = click.option("--exhibit", "exhibit_ids", multiple=True, help="Only this exhibit id (repeatable); default every exhibit in the case.")
_UNVERIFIED = click.option("--unverified", is_flag=True, help="Also read exhibits whose manifest does not verify (each is named on standard error).")
_SIGNED_BY = click.option("--trusted-key", "trusted_keys", multiple=True, type=click.Path(path_type=Path, dir_okay=False, exists=True),
                          help="Public key: manifests (and custody events) must then be signed by one of these keys (repeatable).")
_OUTPUT = click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
                       help="File to write (atomically; outside the case folder); default standard output.")
_TABLE_FORMAT = click.option("--format", "output_format", type=click.Choice(case_output.FORMATS), default="table", show_default=True,
                             help="table (escaped for the terminal), csv, json (JSON lines) or parquet (needs --output).")


_SCHEDULER = click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
                          help="Run the tasks on the Dask cluster of this scheduler (default: local worker processes).")
_PATH_MAP = click.option("--path-map", "path_maps", multiple=True, metavar="HERE=THERE",
                         help="With --scheduler: workers see the evidence folder HERE as THERE, e.g. /evidence=/mnt/evidence (repeatable).")
_SCHEDULER_ADDRESS = re.compile(r"(tcp|tls)://[^\s/]+:[0-9]{1,5}")


def _cluster_choice(scheduler: str | None, path_maps: tuple[str, ...]) -> ClusterChoice | None:
    """--scheduler and --path-map checked here, before anything runs (exit 2 for a bad one)."""
    if scheduler is None:
        if path_maps:
            raise UsageFailure("--path-map needs --scheduler (the local workers see the evidence where this process does)")
        return None
    if not _SCHEDULER_ADDRESS.fullmatch(scheduler):
        raise UsageFailure(f"--scheduler {display(scheduler)}: expected tcp://HOST:PORT (or tls://HOST:PORT)")
    try:
        return ClusterChoice(scheduler=scheduler, path_map=PathMap.parse(list(path_maps)))
    except PathMapError as error:
        raise UsageFailure(f"--path-map: {display_message(str(error))}") from None


def _expected_hash(value: str) -> tuple[str, str]:
    try:
        return parse_expected_hash(value)
    except ValueError as error:
        raise UsageFailure(f"--expected-hash {error}") from None


def _show_progress(progress: Progress) -> None:
    import time

    elapsed = max(time.monotonic() - progress.started, 1e-6)
    rate = progress.bytes_hashed / elapsed / 1e6
    click.echo(
        f"\rvolumes {progress.volumes_done}/{progress.volumes_total}  entries {progress.entries:,}  files hashed "
        f"{progress.files_hashed:,}  {progress.bytes_hashed / 1e6:,.1f} MB  {rate:,.1f} MB/s   ",
        nl=False,
        err=True,
    )


@click.group()
@click.version_option(__version__, prog_name="exhibit")
def main() -> None:
    """Exhibit: catalogue and hash every artefact of seized-device images into Parquet."""


@main.command("ingest")
@click.argument("source", type=click.Path(path_type=Path, exists=False))
@click.option("--case", "case_id", required=True, help="Case identifier (kept exactly; the folder name is a safe encoding).")
@click.option("--exhibit", "exhibit_id", required=True, help="Exhibit identifier, e.g. JS/1 (kept exactly; folder JS%2F1).")
@click.option("--examiner", default=None, help="Who runs the ingest (default from pipeline.toml).")
@click.option("--description", default="", help="What the exhibit is (e.g. 'Samsung phone, black, seized from desk 4'); kept in the manifest.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), default=None, help="Output folder (default ./cases).")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="A pipeline.toml whose settings override the defaults.")
@click.option("--password", default=None, help="Password for encrypted volumes (BitLocker, LUKS, FileVault, APFS).")
@click.option("--recovery-password", default=None, help="Recovery password (BitLocker, FileVault, APFS).")
@click.option("--key-file", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="Key file (BitLocker startup key .BEK).")
@click.option("--expected-hash", "expected_hashes", multiple=True, metavar="ALG:HEX",
              help="Hash from the acquisition log to check the media against (repeatable).")
@click.option("--vss", type=click.Choice(["none", "all"]), default=None, help="Volume Shadow Copies: none (default) or all.")
@click.option("--workers", type=click.IntRange(min=0), default=None, help="Worker processes (0: one per core).")
@click.option("--signing-key", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="Ed25519 private key that signs manifest.json (default from pipeline.toml; none: unsigned).")
@click.option("--app-key", "app_keys", multiple=True, metavar="APP=KEY",
              help="Key of an encrypted chat store, e.g. signal=<hex> (repeatable; never written to any output).")
@click.option("--parent-dir", "parent_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False, exists=True),
              help="Folder where parent disks, backing files and extents named by the image may also be found (repeatable).")
@_SCHEDULER
@_PATH_MAP
def ingest_command(source: Path, case_id: str, exhibit_id: str, examiner: str | None, description: str, out_dir: Path | None, config_path: Path | None,
                   password: str | None, recovery_password: str | None, key_file: Path | None, expected_hashes: tuple[str, ...],
                   vss: str | None, workers: int | None, signing_key: Path | None, app_keys: tuple[str, ...],
                   parent_dirs: tuple[Path, ...], scheduler: str | None, path_maps: tuple[str, ...]) -> None:
    """Ingest SOURCE (a disk, phone or volume image, an archive or a folder) as one exhibit."""
    cluster = _cluster_choice(scheduler, path_maps)
    if sum(x is not None for x in (password, recovery_password, key_file)) > 1:
        raise UsageFailure("give at most one of --password, --recovery-password, --key-file")
    if not case_id or not exhibit_id:
        raise UsageFailure("--case and --exhibit must not be empty")
    config, key = _config(config_path, output_dir=str(out_dir) if out_dir else None, examiner=examiner, vss=vss, workers=workers,
                          signing_key=str(signing_key) if signing_key else None)
    _check_plugins()
    request = IngestRequest(
        source=source,
        case_id=case_id,
        exhibit_id=exhibit_id,
        config=config,
        credentials=Credentials(password=password, recovery_password=recovery_password, key_file=key_file),
        expected_hashes=tuple(_expected_hash(v) for v in expected_hashes),
        signing_key=key,
        description=description,
        app_keys=_app_keys(app_keys, Path(config.app_keys_file) if config.app_keys_file else None),
        parent_dirs=parent_dirs,
        cluster=cluster,
    )
    on_progress = _show_progress if sys.stderr.isatty() else None
    try:
        summary = ingest(request, on_progress=on_progress)
    except (SourceError, ExhibitExistsError, ExhibitBusyError, custody.CustodyError) as error:
        raise UsageFailure(display_message(str(error))) from None
    except Interrupted as stop:
        _end_line(on_progress)
        click.echo(f"exhibit: stopped by {stop.signal_name}; nothing was published (the staging folder, scratch copies and "
                   f"worker processes were removed) (exit {EXIT_SIGNAL_BASE + stop.signum})", err=True)
        sys.exit(EXIT_SIGNAL_BASE + stop.signum)
    except PublishUndoError as error:
        _end_line(on_progress)
        click.echo(f"exhibit: the run failed: {display_message(str(error))}; the exhibit folder stands without its ingested "
                   f"custody event (exit {EXIT_FAILURE})", err=True)
        sys.exit(EXIT_FAILURE)
    except ClusterLost as error:
        _end_line(on_progress)
        click.echo(f"exhibit: the run failed: {display_message(str(error))}; nothing was published (exit {EXIT_FAILURE})", err=True)
        sys.exit(EXIT_FAILURE)
    except OSError as error:  # a full or failing output disk: what ingest() raises was never published
        _end_line(on_progress)
        where = "".join(f" {note}" for note in getattr(error, "__notes__", ()))
        click.echo(f"exhibit: the run failed: {display_message(str(error) + where)}; nothing was published (exit {EXIT_FAILURE})", err=True)
        sys.exit(EXIT_FAILURE)
    _end_line(on_progress)
    click.echo(_summary_line(summary))
    if summary.held_signal:
        click.echo(f"note: {summary.held_signal} came while the exhibit was being published; the run finished publishing first", err=True)
    if summary.hash_hits_problem:
        click.echo(f"warning: the exhibit was published, but matching it against the case's hash sets failed: "
                   f"{display_message(summary.hash_hits_problem)} (run `exhibit hashset match`)", err=True)
    if summary.cleanup_failure:
        click.echo(f"warning: the exhibit was published, but cleaning up after it failed: {display_message(summary.cleanup_failure)}", err=True)
    if key is None:
        click.echo("note: manifest.json is sealed but UNSIGNED (no signing key configured)", err=True)
    sys.exit(EXIT_OK if summary.errors == 0 else EXIT_WITH_ERRORS)


def _end_line(on_progress: object) -> None:
    if on_progress is not None:
        click.echo("", err=True)


def _summary_line(summary: Summary) -> str:
    return (f"{summary.outcome}: {plural(summary.entries, 'entry', 'entries')}, {plural(summary.files_hashed, 'file')} hashed, "
            f"{plural(summary.bytes_hashed, 'byte')}, {plural(summary.messages, 'message')}, "
            f"{plural(summary.identifiers, 'identifier')}, {plural(summary.errors, 'error')}, "
            f"{plural(summary.warnings, 'warning')}, "
            f"{plural(summary.hash_hits, 'hash-set hit') + ', ' if summary.hash_hits is not None else ''}"
            f"{_engine_text(summary)}"
            f"{summary.seconds:.1f} s -> {display(str(summary.output_dir))}")


def _engine_text(summary: Summary) -> str:
    """Said only when the watchdog had work to do: units run again, artefacts given up."""
    if not summary.units_retried and not summary.artefacts_given_up:
        return ""
    return f"{plural(summary.units_retried, 'unit')} retried, {plural(summary.artefacts_given_up, 'artefact')} given up, "


def _app_keys(values: tuple[str, ...], key_file: Path | None) -> tuple[tuple[str, str], ...]:
    """APP=KEY pairs from the command line, after those of the configured key file (the command line wins)."""
    lines: list[tuple[str, str]] = []
    if key_file is not None:
        try:
            text = key_file.read_text(encoding="utf-8")
        except OSError as error:
            raise UsageFailure(f"app keys file {key_file}: {error.strerror or error}") from None
        lines += [(f"{key_file} line {n}", line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.lstrip().startswith("#")]
    lines += [("--app-key", value) for value in values]
    keys_by_app: dict[str, str] = {}
    for origin, value in lines:
        app, sep, key = value.partition("=")
        if not sep or not app.strip() or not key.strip():
            raise UsageFailure(f"{origin}: expected APP=KEY (for example signal=<hex>), got a value without '=' or with an empty side")
        keys_by_app[app.strip().lower()] = key.strip()
    return tuple(sorted(keys_by_app.items()))


def _config(config_path: Path | None, **overrides: object):
    """pipeline.toml (or the defaults) with the command line's overrides, and the signing key it names (or None)."""
    try:
        config = load_config(config_path).with_overrides(**overrides)
    except ConfigError as error:
        raise UsageFailure(f"configuration: {error}") from None
    return config, (_signing_key(Path(config.signing_key)) if config.signing_key else None)


def _check_plugins() -> None:
    """Every parser and reader, built in or installed, loads: a broken or clashing plug-in is named before evidence is opened."""
    from parsers.chat.registry import all_parsers  # imported here: only the ingest commands need every parser
    from parsers.discovery import PluginError
    from parsers.media.registry import all_readers

    try:
        all_parsers()
        all_readers()
    except PluginError as error:
        raise UsageFailure(f"parsers: {display_message(str(error))}") from None


def _signing_key(path: Path):
    """The Ed25519 private key; a passphrase-protected one reads EXHIBIT_KEY_PASSPHRASE."""
    passphrase = os.environ.get("EXHIBIT_KEY_PASSPHRASE")
    try:
        return keys.load_private(path, passphrase.encode() if passphrase else None)
    except keys.KeyFileError as error:
        raise UsageFailure(str(error)) from None


def _trusted_keys(paths: tuple[Path, ...]) -> list:
    try:
        return [keys.load_public(path) for path in paths]
    except keys.KeyFileError as error:
        raise UsageFailure(str(error)) from None


def _exhibit_folders(case_dir: Path, exhibit_ids: tuple[str, ...], sealed: bool) -> list[Path]:
    """The named exhibits' folders, or every exhibit folder of the case; each must exist (and be sealed)."""
    if exhibit_ids:
        folders = [case_dir / encode_id(e) for e in exhibit_ids]
    else:
        folders = sorted(p for p in case_dir.iterdir() if p.is_dir() and not p.name.startswith(".") and not hashsets.is_sets_folder(p))
    missing = [str(f) for f in folders if not (f / "manifest.json" if sealed else f).exists()]
    if missing:
        raise UsageFailure(f"no such {'sealed ' if sealed else ''}exhibit folder: {', '.join(missing)}")
    if sealed and not folders:
        raise UsageFailure(f"no sealed exhibit folder in {case_dir}")
    return folders


@main.group("case")
def case_group() -> None:
    """Commands on a whole case: many devices ingested as one case."""


@case_group.command("ingest")
@click.argument("case_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--devices", "devices_csv", required=True, type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="devices.csv: one row per device (source, exhibit_id, description, expected_hashes, credentials[, parent_dirs]).")
@click.option("--case", "case_id", default=None, help="Case id (default: the one CASE_DIR's folder name encodes); must match CASE_DIR's name.")
@click.option("--parallel", type=click.IntRange(min=1), default=1, show_default=True, help="Devices ingested at once, each in its own process.")
@click.option("--credentials", "credentials_file", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="TOML file of named credentials ([NAME] password / recovery_password / key_file / app_keys).")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None, help="pipeline.toml.")
@click.option("--signing-key", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None, help="Ed25519 private key sealing every exhibit.")
@click.option("--examiner", default=None, help="Who runs the ingest (default from pipeline.toml).")
@click.option("--progress/--no-progress", "show_progress", default=None, help="Progress line on standard error (default: when it is a terminal).")
@_SCHEDULER
@_PATH_MAP
def case_ingest_command(case_dir: Path, devices_csv: Path, case_id: str | None, parallel: int, credentials_file: Path | None,
                        config_path: Path | None, signing_key: Path | None, examiner: str | None, show_progress: bool | None,
                        scheduler: str | None, path_maps: tuple[str, ...]) -> None:
    """Ingest every device listed in devices.csv into CASE_DIR (OUT/<encoded case id>), one exhibit each."""
    cluster = _cluster_choice(scheduler, path_maps)
    if case_id is None:
        case_id = _decoded_or_none(case_dir.name)
        if not case_id:
            raise UsageFailure(f"{display(case_dir.name)} is not a case folder name Exhibit writes; give --case")
    elif not case_id or encode_id(case_id) != case_dir.name:
        raise UsageFailure(f"--case {display(case_id)}: its folder is named {encode_id(case_id) if case_id else '(none)'}, "
                           f"not {display(case_dir.name)}")
    try:
        credentials = case_ingest.read_credentials(credentials_file)
        devices = case_ingest.read_devices(devices_csv, credentials)
    except case_ingest.DevicesError as error:
        raise UsageFailure(display_message(str(error))) from None
    config, key = _config(config_path, examiner=examiner, signing_key=str(signing_key) if signing_key else None)
    _check_plugins()
    if show_progress is None:
        show_progress = sys.stderr.isatty()

    def on_progress(state: case_ingest.CaseProgress, running_bytes: int) -> None:
        click.echo(f"\r{state.line(running_bytes)}   ", nl=False, err=True)

    results, stopped = case_ingest.ingest_case(case_dir.parent, case_id, devices, config, credentials,
                                               Path(config.signing_key) if key is not None else None, parallel,
                                               on_progress if show_progress else None, cluster=cluster)
    _end_line(on_progress if show_progress else None)
    for line in case_ingest.format_table(results):
        click.echo(line)
    if key is None:
        click.echo("note: manifests are sealed but UNSIGNED (no signing key configured)", err=True)
    if stopped is not None:
        finished = [display(r.exhibit_id) for r in results if r.status == "completed"]
        click.echo(f"exhibit: stopped by {stopped}; finished: {', '.join(finished) or 'none'}; the others published nothing", err=True)
        sys.exit(EXIT_SIGNAL_BASE + {"SIGINT": 2, "SIGTERM": 15}.get(stopped, 2))
    sys.exit(EXIT_OK if all(r.clean for r in results) else EXIT_WITH_ERRORS)


@main.group("keys")
def keys_group() -> None:
    """Ed25519 keys that sign manifests."""


@keys_group.command("generate")
@click.option("--name", required=True, help="Key name: NAME.key (private, mode 0600) and NAME.pub are written.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), required=True, help="Folder for the two files.")
@click.option("--passphrase-env", default=None, metavar="VAR", help="Encrypt the private key with the passphrase in this environment variable.")
def keys_generate(name: str, out_dir: Path, passphrase_env: str | None) -> None:
    """Create a signing key pair; hand NAME.pub to examiners and prosecutors."""
    passphrase = None
    if passphrase_env:
        value = os.environ.get(passphrase_env)
        if not value:
            raise UsageFailure(f"--passphrase-env {passphrase_env}: the variable is not set or empty")
        passphrase = value.encode()
    try:
        private_path, public_path = keys.generate(name, out_dir, passphrase)
    except keys.KeyFileError as error:
        raise UsageFailure(str(error)) from None
    click.echo(f"private key: {private_path} (keep it secret)\npublic key: {public_path}\n"
               f"fingerprint: {keys.fingerprint(keys.load_public(public_path))}")


def _decoded_or_none(folder_name: str) -> str | None:
    """The exhibit id a folder name encodes; None for a name Exhibit never wrote (verify says so)."""
    try:
        return decode_id(folder_name)
    except UnicodeDecodeError:
        return None


def _named(folders: list[Path]) -> list[tuple[str | None, Path]]:
    """Each exhibit folder with the exhibit id its name encodes (None when it encodes none)."""
    return [(_decoded_or_none(folder.name), folder) for folder in folders]


def _custody_head(value: str) -> dict:
    index, _, digest = value.partition(":")
    if not re.fullmatch(r"[0-9]{1,18}", index) or not re.fullmatch(r"[0-9a-fA-F]{64}", digest):
        raise UsageFailure(f"--custody-head {value!r}: use INDEX:SHA256 as `exhibit custody show` prints it, e.g. 4:ab12...")
    return {"event_index": int(index), "event_sha256": digest.lower()}


@main.command("verify")
@_CASE_DIR
@_EXHIBITS
@click.option("--trusted-key", "trusted_keys", multiple=True, type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Public key whose signatures are trusted (repeatable).")
@click.option("--rehash-source", is_flag=True, help="Hash the source again (image files, or every file of a folder source) and compare.")
@click.option("--summary", is_flag=True, help="One line per exhibit (VERIFIED or NOT VERIFIED, number of checks), failures in full.")
@click.option("--custody-head", default=None, metavar="INDEX:SHA256",
              help="A ledger head kept outside the case (from custody show or a report): the ledger must still hold it.")
def verify_command(case_dir: Path, exhibit_ids: tuple[str, ...], trusted_keys: tuple[Path, ...], rehash_source: bool, summary: bool,
                   custody_head: str | None) -> None:
    """Check every sealed exhibit of CASE_DIR: parts, root digest, signature, custody. Exit 0 only when all hold."""
    trusted = _trusted_keys(trusted_keys)
    folders = _exhibit_folders(case_dir, exhibit_ids, sealed=False)
    exhibits = _named(folders)
    known_head = _custody_head(custody_head) if custody_head is not None else None
    checks = verify.verify_case(case_dir, exhibits, trusted, rehash=rehash_source, known_head=known_head)
    for line in verify.printed_lines(checks, len(folders), summary):
        click.echo(line)
    failures = sum(not c.ok for c in checks)
    sys.exit(EXIT_OK if failures == 0 else EXIT_WITH_ERRORS)


@main.command("report")
@_CASE_DIR
@_EXHIBITS
@click.option("--format", "output_format", type=click.Choice(["pdf", "html", "csv"]), required=True, help="Report format.")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), required=True, help="File to write.")
@click.option("--trusted-key", "trusted_keys", multiple=True, type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Public key trusted when the report verifies the case (repeatable).")
def report_command(case_dir: Path, exhibit_ids: tuple[str, ...], output_format: str, output: Path, trusted_keys: tuple[Path, ...]) -> None:
    """Write the evidence-hash report of CASE_DIR for prosecutors."""
    trusted = _trusted_keys(trusted_keys)
    folders = _exhibit_folders(case_dir, exhibit_ids, sealed=True)
    made = report.collect(case_dir, _named(folders), trusted, decode_id(case_dir.name))
    writers = {"pdf": report.write_pdf, "html": report.write_html, "csv": report.write_csv}
    try:
        writers[output_format](made, output)
    except report.ReportError as error:
        raise UsageFailure(str(error)) from None
    except OSError as error:
        raise UsageFailure(f"cannot write {display(str(output))}: {error.strerror or error}") from None
    verified = sum(entry.verified for entry in made.exhibits)
    click.echo(f"{output_format} report of {len(made.exhibits)} exhibit(s), {verified} verified: {output}")


@main.group("custody")
def custody_group() -> None:
    """The case's chain-of-custody ledger (CASE_DIR/custody.parquet)."""


def _hash_ref(value: str) -> tuple[str, str, str]:
    subject, _, rest = value.partition("=")
    algorithm, _, digest = rest.partition(":")
    if not subject or not algorithm or not re.fullmatch(r"[0-9a-fA-F]{32,128}", digest):
        raise UsageFailure(f"--hash {value!r}: use SUBJECT=ALG:HEX, e.g. image=sha256:ab12...")
    return subject, algorithm.lower(), digest.lower()


@custody_group.command("add")
@click.argument("case_dir", type=click.Path(path_type=Path, file_okay=False))
@click.option("--exhibit", "exhibit_id", required=True, help="Exhibit id the event concerns.")
@click.option("--action", required=True, type=click.Choice(custody.ACTIONS), help="What happened.")
@click.option("--actor", required=True, help="Who acted (name).")
@click.option("--role", default=None, help="Their role.")
@click.option("--organisation", default=None, help="Their organisation.")
@click.option("--from", "from_party", default=None, help="For transfers: from whom.")
@click.option("--to", "to_party", default=None, help="For transfers: to whom.")
@click.option("--when", default=None, help="ISO 8601 time with its UTC offset (default: now, local offset).")
@click.option("--where", "location", default=None, help="Where it happened.")
@click.option("--reason", default=None, help="Why (purpose).")
@click.option("--authority", default=None, help="Under what authority (warrant, order).")
@click.option("--hash", "hashes", multiple=True, metavar="SUBJECT=ALG:HEX", help="A hash the event concerns (repeatable).")
@click.option("--note", default=None, help="Free text.")
@click.option("--signing-key", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None, help="Sign the event.")
@click.option("--new-exhibit", is_flag=True, help="The case does not hold this exhibit yet (an event before ingest, such as its seizure).")
def custody_add(case_dir: Path, exhibit_id: str, action: str, actor: str, role: str | None, organisation: str | None,
                from_party: str | None, to_party: str | None, when: str | None, location: str | None, reason: str | None,
                authority: str | None, hashes: tuple[str, ...], note: str | None, signing_key: Path | None, new_exhibit: bool) -> None:
    """Record a human custody event for an exhibit of CASE_DIR."""
    occurred = None
    if when is not None:
        try:
            occurred = datetime.fromisoformat(when)
        except ValueError:
            raise UsageFailure(f"--when {when!r}: not an ISO 8601 time") from None
        if occurred.tzinfo is None:
            raise UsageFailure(f"--when {when!r}: give the UTC offset too, e.g. 2026-11-27T14:05:00+01:00")
    key = _signing_key(signing_key) if signing_key is not None else None
    event = custody.Event(exhibit_id=exhibit_id, action=action, actor_name=actor, actor_role=role, actor_organisation=organisation,
                          from_party=from_party, to_party=to_party, occurred=occurred, location=location, purpose=reason,
                          authority=authority, hashes=tuple(_hash_ref(h) for h in hashes), notes=note, tool_version=__version__)
    try:
        sealed = bool(exhibit_id) and (case_dir / encode_id(exhibit_id) / "manifest.json").is_file()
        row = custody.record(case_dir, decode_id(case_dir.name), event, key, exhibit_sealed=sealed, new_exhibit=new_exhibit)
    except custody.CustodyError as error:
        raise UsageFailure(str(error)) from None
    click.echo(f"event {row['event_index']} recorded: {row['event_sha256']}")


@custody_group.command("show")
@_CASE_DIR
@click.option("--exhibit", "exhibit_id", default=None, help="Only this exhibit's events.")
@click.option("--trusted-key", "trusted_keys", multiple=True, type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Public key to tell trusted signers from others (repeatable).")
def custody_show(case_dir: Path, exhibit_id: str | None, trusted_keys: tuple[Path, ...]) -> None:
    """Print the chain of custody, oldest first, who signed each event, and the ledger's head."""
    trusted = _trusted_keys(trusted_keys) if trusted_keys else None
    ledger = custody.read_ledger(case_dir)
    if ledger.problem is not None:
        click.echo(f"FAIL {display_message(ledger.problem)}")
        sys.exit(EXIT_WITH_ERRORS)
    for row in ledger.events:
        if exhibit_id is not None and row["exhibit_id"] != exhibit_id:
            continue
        parts = [f"#{row['event_index']}", row["occurred_time"].isoformat(), f"(UTC{row['utc_offset_minutes']:+d} min)", display(row["action"]),
                 display(row["exhibit_id"]) or "(case)", "by", display(row["actor_name"])]
        for label, key in (("role", "actor_role"), ("org", "actor_organisation"), ("from", "from_party"), ("to", "to_party"),
                           ("at", "location"), ("why", "purpose"), ("authority", "authority"), ("note", "notes")):
            if row[key]:
                parts.append(f"{label}: {display(row[key])}")
        for ref in row["hashes"] or []:
            parts.append(f"{display(ref['subject'])}={display(ref['algorithm'])}:{display(ref['value'])}")
        parts.append(f"sha256 {display(row['event_sha256'][:16])}")
        parts.append(display_message(custody.signature_status(row, trusted)))
        click.echo("  ".join(parts))
    head = ledger.head
    click.echo(f"head: event {head['event_index']} sha256 {display(head['event_sha256'])}" if head else "head: none (the ledger is empty)")


@main.group("hashset")
def hashset_group() -> None:
    """Hash sets of a case (NSRL, Project VIC VICS/CAID, md5sum lists) and their hits in the exhibits."""


@hashset_group.command("import")
@_CASE_DIR
@click.argument("name")
@click.argument("source_file", metavar="FILE", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--kind", required=True, type=click.Choice(hashsets.KINDS), help="known (set aside, e.g. NSRL) or notable (look at).")
@click.option("--category", default=None, help="Category of every entry that does not carry its own (VICS/CAID entries do).")
@click.option("--format", "claimed_format", type=click.Choice(hashsets.FORMAT_CHOICES), default="auto", show_default=True,
              help="Format of FILE; auto: SQLite is NSRL RDSv3, a JSON object VICS/CAID, anything else a plain list.")
@click.option("--replace", is_flag=True, help="Replace the case's set of this NAME (recorded in the custody ledger too).")
@click.option("--examiner", default=None, help="Who imports the set (default from pipeline.toml).")
@click.option("--config", "config_path", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="A pipeline.toml for the examiner, lab and signing key.")
@click.option("--signing-key", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="Ed25519 private key that signs the custody event (default from pipeline.toml).")
@click.option("--memory-limit", default=hashsets.DEFAULT_MEMORY_LIMIT, show_default=True, help="DuckDB memory limit for sorting the set.")
def hashset_import(case_dir: Path, name: str, source_file: Path, kind: str, category: str | None, claimed_format: str, replace: bool,
                   examiner: str | None, config_path: Path | None, signing_key: Path | None, memory_limit: str) -> None:
    """Import FILE as the hash set NAME of CASE_DIR (CASE_DIR/hashsets/NAME) and record it in the custody ledger."""
    config, key = _config(config_path, examiner=examiner, signing_key=str(signing_key) if signing_key else None)
    request = hashsets.ImportRequest(case_dir=case_dir, case_id=decode_id(case_dir.resolve().name), name=name, source=source_file, kind=kind,
                                     category=category, claimed_format=claimed_format, replace=replace, actor=config.examiner or None,
                                     organisation=config.lab or None, signing_key=key, memory_limit=memory_limit, tool_version=__version__)
    try:
        result = hashsets.import_set(request)
    except (hashsets.HashSetError, custody.CustodyError) as error:
        raise UsageFailure(display_message(str(error))) from None
    except OSError as error:
        raise UsageFailure(f"the import failed: {display_message(str(error))}; nothing was imported") from None
    info = result.info
    counts = ", ".join(f"{algorithm} {count:,}" for algorithm, count in info["counts"].items() if count)
    click.echo(f"{'replaced' if result.replaced else 'imported'} hash set {display(name)} ({kind}): {info['rows']:,} hashes ({counts}) "
               f"from {display(info['file_name'])} as {info['file_format']}, {info['duplicates_merged']:,} duplicates merged, "
               f"{info['skipped_total']:,} entries skipped; custody event {result.event['event_index']}")
    for reason, count in info["skipped"].items():
        click.echo(f"skipped {count:,} {display(reason)}", err=True)
    for example in info["skipped_examples"]:
        click.echo(f"  {display(example['where'])}: {display(example['reason'])} {display_message(example['detail'])}", err=True)
    if key is None:
        click.echo("note: the custody event is UNSIGNED (no signing key configured)", err=True)
    sys.exit(EXIT_OK if info["skipped_total"] == 0 else EXIT_WITH_ERRORS)


@hashset_group.command("match")
@_CASE_DIR
@click.option("--exhibit", "exhibit_ids", multiple=True, help="Only this exhibit id (repeatable); default every sealed exhibit.")
@click.option("--memory-limit", default=hashsets.DEFAULT_MEMORY_LIMIT, show_default=True, help="DuckDB memory limit for the join.")
def hashset_match(case_dir: Path, exhibit_ids: tuple[str, ...], memory_limit: str) -> None:
    """Match every hash set of CASE_DIR against its sealed exhibits' artefacts into CASE_DIR/hash_hits.parquet."""
    # An exhibit named with --exhibit must be sealed; a stray folder among every exhibit's is named and passed by (exit 1), as query does.
    folders = _exhibit_folders(case_dir, exhibit_ids, sealed=bool(exhibit_ids))
    try:
        result = hashsets.match(case_dir, folders, every_exhibit=not exhibit_ids, memory_limit=memory_limit)
    except hashsets.HashSetError as error:
        raise UsageFailure(display_message(str(error))) from None
    click.echo(f"{'set':<24} {'kind':<8} {'exhibit':<24} {'artefacts':>10} {'hits':>10}")
    for count in result.counts:
        click.echo(f"{display(count.set_name):<24} {count.set_kind:<8} {display(count.exhibit_id):<24} {count.artefacts:>10,} {count.rows:>10,}")
    for (set_name, exhibit_id), skipped in sorted(result.empty_skipped.items()):
        click.echo(f"note: {plural(skipped, 'empty file')} of {display(exhibit_id)} not reported as hits of {display(set_name)} "
                   "(the set holds the hash of empty content)", err=True)
    for problem in result.problems:
        click.echo(f"problem: {display_message(problem)}", err=True)
    where = f" -> {display(str(result.hits_path))}" if result.hits_path else " (hash_hits.parquet not written)"
    click.echo(f"{plural(result.rows, 'hit row')} in {plural(len({c.exhibit_id for c in result.counts}), 'exhibit')}{where}")
    sys.exit(EXIT_OK if not result.problems else EXIT_WITH_ERRORS)


@main.command("query")
@_CASE_DIR
@click.argument("sql")
@_TABLE_FORMAT
@_OUTPUT
@_UNVERIFIED
@_EXHIBITS
@_SIGNED_BY
def query_command(case_dir: Path, sql: str, output_format: str, output: Path | None, unverified: bool, exhibit_ids: tuple[str, ...],
                  trusted_keys: tuple[Path, ...]) -> None:
    """Run one SQL SELECT over every verified exhibit of CASE_DIR (DuckDB views artefacts, messages, media, ...)."""
    _parquet_needs_output(output_format, output)
    _not_in_case(output, case_dir, "--output")
    selection, opened = _open_selected(case_dir, exhibit_ids, trusted_keys, unverified)
    try:
        result = case_query.run(opened, sql)
        written = case_output.write(result, output_format, output, sys.stdout.buffer)
    except case_query.QueryError as error:
        raise UsageFailure(f"SQL: {display_message(str(error))}") from None
    except OSError as error:
        raise _cannot_write(output, error) from None
    except KeyboardInterrupt:
        click.echo(f"exhibit: stopped by SIGINT; no answer was written (exit {EXIT_SIGNAL_BASE + 2})", err=True)
        sys.exit(EXIT_SIGNAL_BASE + 2)
    finally:
        opened.close()
    click.echo(f"{written.rows:,} row(s){_table_cut(written)}{_written_to(output)}", err=True)
    _exit_for(selection)


def _open_selected(case_dir: Path, exhibit_ids: tuple[str, ...], trusted_keys: tuple[Path, ...],
                   unverified: bool) -> tuple[case_query.Selection, case_views.CaseViews]:
    """The seal-checked selection of CASE_DIR's exhibits and the locked views over it (the case commands
    read only these); each exhibit skipped or read unverified is named on standard error."""
    trusted = _trusted_keys(trusted_keys)
    folders = _exhibit_folders(case_dir, exhibit_ids, sealed=False)
    if not folders:
        raise UsageFailure(f"no exhibit folder in {display(str(case_dir))}")
    selection = case_query.select(case_dir, _named(folders), trusted, unverified)
    try:
        opened = case_query.open_case(selection)
    except case_query.ViewError as error:
        raise UsageFailure(display_message(str(error))) from None
    for line in case_query.notes(selection):
        click.echo(line, err=True)
    return selection, opened


def _exit_for(selection: case_query.Selection) -> NoReturn:
    """Exit 1 when an exhibit of the case was skipped (its seal failed), else 0."""
    sys.exit(EXIT_WITH_ERRORS if selection.skipped_any else EXIT_OK)


def _parquet_needs_output(output_format: str, output: Path | None) -> None:
    if output_format == "parquet" and output is None:
        raise UsageFailure("--format parquet needs --output FILE (Parquet is never written to a terminal)")


def _not_in_case(output: Path | None, case_dir: Path, option: str) -> None:
    """Nothing is written into the evidence: an output file inside the case folder is refused."""
    if output is not None and case_output.inside(output, case_dir):
        raise UsageFailure(f"{option} {display(str(output))} is inside the case folder: nothing is written into the evidence")


def _outside_case(output: Path | None, case_dir: Path, option: str) -> None:
    """An output file must be outside the case folder, in a folder that exists (checked before any work)."""
    _not_in_case(output, case_dir, option)
    if output is not None and not output.absolute().parent.is_dir():
        raise UsageFailure(f"{option} {display(str(output))}: no such folder {display(str(output.absolute().parent))}")


def _cannot_write(output: Path | None, error: OSError) -> UsageFailure:
    target = display(str(output)) if output is not None else "standard output"
    return UsageFailure(f"cannot write {target}: {error.strerror or error}")


def _table_cut(written: case_output.Written) -> str:
    """What the summary line adds when the terminal table showed only the first rows."""
    if written.shown < written.rows:
        return f" (the table shows the first {written.shown:,}: use --format csv, json or parquet for all)"
    return ""


def _written_to(*outputs: Path | None) -> str:
    """` -> FILE, FILE` for the files written, or nothing when all went to standard output."""
    targets = [display(str(p)) for p in outputs if p is not None]
    return f" -> {', '.join(targets)}" if targets else ""


@main.command("correlate")
@_CASE_DIR
@_TABLE_FORMAT
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="File for the table (atomically; outside the case folder); default standard output.")
@click.option("--graphml", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Also write the graph as GraphML to this file.")
@click.option("--gexf", type=click.Path(path_type=Path, dir_okay=False), default=None, help="Also write the graph as GEXF 1.2 to this file.")
@click.option("--noise", "noise_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Known-noise values, one a line (KIND:VALUE or VALUE), dropped besides the built-in ones.")
@click.option("--min-exhibits", type=click.IntRange(min=1), default=2, show_default=True, help="Keep values found on at least N exhibits.")
@_EXHIBITS
@_UNVERIFIED
@_SIGNED_BY
def correlate_command(case_dir: Path, output_format: str, output: Path | None, graphml: Path | None, gexf: Path | None,
                      noise_file: Path | None, min_exhibits: int, exhibit_ids: tuple[str, ...], unverified: bool,
                      trusted_keys: tuple[Path, ...]) -> None:
    """Values (file hashes, identifiers, conversations, accounts) shared by several exhibits of CASE_DIR, most shared first."""
    _parquet_needs_output(output_format, output)
    for option, path in (("--output", output), ("--graphml", graphml), ("--gexf", gexf)):
        _outside_case(path, case_dir, option)
    try:
        noise = case_noise.load_noise(noise_file)
    except case_noise.NoiseFileError as error:
        raise UsageFailure(display_message(str(error))) from None
    selection, opened = _open_selected(case_dir, exhibit_ids, trusted_keys, unverified)
    try:
        correlation = case_correlate.correlate(opened.connection, noise=noise, min_exhibits=min_exhibits)
        for line in correlation.notes:
            click.echo(line, err=True)
        graph_export.write_files(correlation, graphml, gexf)
        written = case_output.write(correlate_output.result(correlation), output_format, output, sys.stdout.buffer)
    except (case_query.QueryError, duckdb.Error) as error:
        raise UsageFailure(f"correlate: {display_message(str(error))}") from None
    except OSError as error:
        raise UsageFailure(f"cannot write: {display_message(str(error))}") from None
    finally:
        opened.close()
    click.echo(f"{written.rows:,} shared value(s){_table_cut(written)}{_written_to(output, graphml, gexf)}", err=True)
    _exit_for(selection)


def _utc_option(value: str | None, option: str) -> int | None:
    if value is None:
        return None
    try:
        return parse_utc(value)
    except ValueError as error:
        raise UsageFailure(f"{option}: {display_message(str(error))}") from None


@main.command("timeline")
@_CASE_DIR
@click.option("--format", "output_format", type=click.Choice(timeline_output.FORMATS), default="csv", show_default=True,
              help="csv or jsonl (Timesketch import), or body (Sleuth Kit body file for mactime).")
@_OUTPUT
@click.option("--since", default=None, metavar="TIME", help="Only events at or after TIME (ISO 8601 with a UTC offset).")
@click.option("--until", default=None, metavar="TIME", help="Only events at or before TIME (ISO 8601 with a UTC offset).")
@_EXHIBITS
@click.option("--kind", "kinds", multiple=True, type=click.Choice(case_timeline.KINDS), help="Only these sources (repeatable).")
@_UNVERIFIED
@_SIGNED_BY
def timeline_command(case_dir: Path, output_format: str, output: Path | None, since: str | None, until: str | None,
                     exhibit_ids: tuple[str, ...], kinds: tuple[str, ...], unverified: bool, trusted_keys: tuple[Path, ...]) -> None:
    """Every time in CASE_DIR (files, photos, messages, custody) in one sorted stream."""
    _outside_case(output, case_dir, "--output")
    try:
        flt = case_timeline.TimelineFilter(exhibits=sorted(set(exhibit_ids)) or None,  # custody names every exhibit: keep the asked ones
                                           since_ns=_utc_option(since, "--since"), until_ns=_utc_option(until, "--until"),
                                           kinds=tuple(sorted(set(kinds))) or None)
    except ValueError as error:
        raise UsageFailure(display_message(str(error))) from None
    if output_format == "body" and flt.kinds not in (None, ("artefacts",)):
        raise UsageFailure("--format body holds artefacts only: give no --kind, or --kind artefacts")
    selection, opened = _open_selected(case_dir, exhibit_ids, trusted_keys, unverified)
    try:
        for line in case_timeline.unread_notes(opened.connection, flt, body=output_format == "body"):
            click.echo(line, err=True)
        count = timeline_output.write(opened.connection, flt, output_format, output, sys.stdout.buffer)
    except duckdb.Error as error:
        raise UsageFailure(f"timeline: {display_message(str(error))}") from None
    except BrokenPipeError:
        _quiet_broken_pipe()
    except OSError as error:
        raise _cannot_write(output, error) from None
    finally:
        opened.close()
    click.echo(f"{count:,} {'line' if output_format == 'body' else 'event'}(s){_written_to(output)}", err=True)
    _exit_for(selection)


@main.command("search")
@_CASE_DIR
@click.argument("terms", nargs=-1, metavar="[TERM ...]")
@click.option("--terms-file", "terms_files", multiple=True, type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="A UTF-8 file of terms, one a line (re: for a regex, # for a comment; repeatable).")
@click.option("--regex", "regexes", multiple=True, metavar="R", help="A Python regex, run on the folded text (repeatable).")
@click.option("--identifier", "identifiers", multiple=True, metavar="VALUE",
              help="Find VALUE, normalised as the identifiers extractor does, in identifiers, message bodies, sender and recipient ids (repeatable).")
@click.option("--region", "regions", multiple=True, metavar="CC",
              help="Region (ISO 3166, e.g. PH) a national phone number given to --identifier is resolved against (repeatable, in order).")
@_EXHIBITS
@click.option("--since", default=None, metavar="T", help="Only rows at or after T (YYYY-MM-DD, UTC, or ISO 8601 with its offset).")
@click.option("--until", default=None, metavar="T", help="Only rows at or before T (a date: the whole UTC day).")
@click.option("--format", "output_format", type=click.Choice(search_output.FORMATS), default="table", show_default=True,
              help="table (escaped for the terminal), csv or json.")
@_OUTPUT
@click.option("--max-hits", type=click.IntRange(min=1), default=search.HIT_BUDGET, show_default=True,
              help="Stop after this many hits (the output says so).")
@click.option("--unverified", is_flag=True, help="Also search exhibits whose manifest does not verify (each is named on standard error).")
@click.option("--trusted-key", "trusted_keys", multiple=True, type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="Public key: manifests must then be signed by one of these keys (repeatable).")
def search_command(case_dir: Path, terms: tuple[str, ...], terms_files: tuple[Path, ...], regexes: tuple[str, ...], identifiers: tuple[str, ...],
                   regions: tuple[str, ...], exhibit_ids: tuple[str, ...], since: str | None, until: str | None, output_format: str,
                   output: Path | None, max_hits: int, unverified: bool, trusted_keys: tuple[Path, ...]) -> None:
    """Search every verified exhibit of CASE_DIR: messages, artefact paths, camera serials, identifiers.

    Case- and accent-insensitive; each hit with its exhibit, table, field, time, escaped context and
    the provenance that opens it.
    """
    try:
        matcher = search.build_matcher(terms, regexes, terms_files, identifiers, search.regions(regions))
        filters = search.Filters(since_ns=search.parse_time(since) if since else None,
                                 until_ns=search.parse_time(until, end_of_day=True) if until else None)
    except search.SearchUsageError as error:
        raise UsageFailure(display_message(str(error))) from None
    _outside_case(output, case_dir, "--output")
    selection, opened = _open_selected(case_dir, exhibit_ids, trusted_keys, unverified)
    report_ = search.SearchReport()
    for line in selection.unreadable:  # parts left out of the views: the search cannot be complete
        report_.unreadable(line)
    try:
        hits = search.search(opened.connection, matcher, filters, report_, hit_budget=max_hits, parts=opened.files)
        search_output.write_hits(hits, output_format, output if output is not None else sys.stdout, report_, max_hits,
                                 search.FIELD_BUDGET)
        if output is None:
            sys.stdout.flush()  # a closed pipe is found here, not in Python's flush at exit
    except BrokenPipeError:
        _quiet_broken_pipe()
    except OSError as error:
        raise _cannot_write(output, error) from None
    finally:
        opened.close()
    for line in report_.lines(max_hits, search.FIELD_BUDGET):
        click.echo(line, err=True)
    if output is not None:
        click.echo(f"-> {display(str(output))}", err=True)
    if report_.unread:
        sys.exit(EXIT_WITH_ERRORS)
    _exit_for(selection)


def _quiet_broken_pipe() -> NoReturn:
    """The reader of standard output went away (`| head -1`): nothing more can be said there, and no
    claim is made on standard error; exit 141 (128 + SIGPIPE), as a shell tool killed by the signal."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # Python's own flush at exit must not fail again
    except OSError:
        pass  # standard output has no descriptor to replace; the exit below still holds
    sys.exit(EXIT_BROKEN_PIPE)


def run() -> None:
    """Console entry point: an unexpected crash exits with 3 (nothing published), never with 1 or 0."""
    try:
        main(standalone_mode=True)
    except Exception:  # the top of the program: the full traceback is printed and the exit code says "failed"
        import traceback

        traceback.print_exc()
        if sys.argv[1:2] == ["ingest"]:
            click.echo("exhibit: the run failed; nothing was published (exit 3)", err=True)
        else:
            click.echo("exhibit: internal error (exit 3); this is a fault of exhibit, not a verdict on the case", err=True)
        sys.exit(EXIT_FAILURE)


if __name__ == "__main__":
    run()


@main.command("chats")
@_CASE_DIR
@click.argument("terms", nargs=-1, metavar="[TERM ...]")
@_EXHIBITS
@click.option("--app", default=None, help="Only this app (a part of its name, e.g. whatsapp, or a parser name such as android_sms).")
@click.option("--grep", default=None, metavar="TEXT", help="Only messages whose text contains TEXT (case-insensitive).")
@click.option("--regex", "regexes", multiple=True, metavar="R", help="Only messages a Python regex matches (on the folded text; repeatable).")
@click.option("--terms-file", "terms_files", multiple=True, type=click.Path(path_type=Path, dir_okay=False, exists=True),
              help="A UTF-8 file of terms, one a line (re: for a regex, # for a comment; repeatable).")
@click.option("--since", default=None, metavar="T", help="Only messages at or after T (YYYY-MM-DD, UTC, or ISO 8601 with its offset).")
@click.option("--until", default=None, metavar="T", help="Only messages at or before T (a date: the whole UTC day).")
@_UNVERIFIED
@_SIGNED_BY
def chats_command(case_dir: Path, terms: tuple[str, ...], exhibit_ids: tuple[str, ...], app: str | None, grep: str | None,
                  regexes: tuple[str, ...], terms_files: tuple[Path, ...], since: str | None, until: str | None,
                  unverified: bool, trusted_keys: tuple[Path, ...]) -> None:
    """Print the conversations of CASE_DIR's verified exhibits from messages.parquet, escaped for the terminal.

    With TERMs, --regex or --terms-file, only the messages they match (body, sender, conversation and
    recipient names; case- and accent-insensitive).
    """
    try:
        matcher = search.build_matcher(terms, regexes, terms_files) if (terms or regexes or terms_files) else None
        since_ns = case_chats.clamp_ns(search.parse_time(since) if since else None)
        until_ns = case_chats.clamp_ns(search.parse_time(until, end_of_day=True) if until else None)
    except search.SearchUsageError as error:
        raise UsageFailure(str(error)) from None
    chat_filter = chat_view.ChatFilter(app=app, grep=grep, since_ns=since_ns, until_ns=until_ns,
                                       matches=search.message_predicate(matcher) if matcher else None)
    folders = _exhibit_folders(case_dir, exhibit_ids, sealed=False)
    if not folders:
        raise UsageFailure(f"no exhibit folder in {display(str(case_dir))}")
    selection = case_chats.chats_selection(case_query.select(case_dir, _named(folders), _trusted_keys(trusted_keys), unverified))
    for line in case_query.notes(selection):
        click.echo(line, err=True)
    result = case_chats.ChatsRead()
    parts, known = case_chats.known_apps(case_chats.messages_parts(selection, result), result)
    for label in result.missing:
        click.echo(f"{label}: no messages.parquet (ingested before chat parsing existed)", err=True)
    if app and not any(chat_view.app_matches(app, name, parser) for name, parser in known):
        names = sorted({display(name) for name, _parser in known if isinstance(name, str)})
        raise UsageFailure(f"no such app: {display(app)} (apps in this case: {', '.join(names) or 'none'})")
    case_chats.read_chats(parts, chat_filter, result)
    for line in result.lines:
        click.echo(line)
    for problem in result.problems:
        click.echo(problem, err=True)
    click.echo(plural(result.shown, "message"), err=True)
    failed = [p for p in result.problems if not p.startswith("warning: ")]
    sys.exit(EXIT_WITH_ERRORS if selection.skipped_any or failed else EXIT_OK)
