"""The `exhibit` command line: options are parsed here, the work is done in library code.

Exit codes (documented in README.md):
  0  completed, no errors recorded
  1  completed, with errors recorded in errors.parquet
  2  bad usage, or a source that cannot be opened as any supported format
  3  the run failed (nothing was published)
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from ingest import __version__
from ingest.config import ConfigError, load_config
from ingest.run import IngestRequest, Progress, ingest
from ingest.scan import Credentials, SourceError
from manifests.text import display, display_message
from manifests.writer import ExhibitExistsError

EXIT_OK, EXIT_WITH_ERRORS, EXIT_USAGE, EXIT_FAILURE = 0, 1, 2, 3
_HASH_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64}


class UsageFailure(click.ClickException):
    exit_code = EXIT_USAGE


def _expected_hash(value: str) -> tuple[str, str]:
    algorithm, _, digest = value.partition(":")
    algorithm = algorithm.lower().replace("-", "")
    length = _HASH_LENGTHS.get(algorithm)
    if length is None or not re.fullmatch(rf"[0-9a-fA-F]{{{length}}}", digest):
        raise UsageFailure(f"--expected-hash {value!r}: use ALG:HEX with ALG one of md5, sha1, sha256 and a full hex digest")
    return algorithm, digest.lower()


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
def ingest_command(source: Path, case_id: str, exhibit_id: str, examiner: str | None, out_dir: Path | None, config_path: Path | None,
                   password: str | None, recovery_password: str | None, key_file: Path | None, expected_hashes: tuple[str, ...],
                   vss: str | None, workers: int | None) -> None:
    """Ingest SOURCE (a disk, phone or volume image, an archive or a folder) as one exhibit."""
    if sum(x is not None for x in (password, recovery_password, key_file)) > 1:
        raise UsageFailure("give at most one of --password, --recovery-password, --key-file")
    if not case_id or not exhibit_id:
        raise UsageFailure("--case and --exhibit must not be empty")
    try:
        config = load_config(config_path).with_overrides(output_dir=str(out_dir) if out_dir else None, examiner=examiner, vss=vss,
                                                         workers=workers)
    except ConfigError as error:
        raise UsageFailure(f"configuration: {error}") from None
    request = IngestRequest(
        source=source,
        case_id=case_id,
        exhibit_id=exhibit_id,
        config=config,
        credentials=Credentials(password=password, recovery_password=recovery_password, key_file=key_file),
        expected_hashes=tuple(_expected_hash(v) for v in expected_hashes),
    )
    on_progress = _show_progress if sys.stderr.isatty() else None
    try:
        summary = ingest(request, on_progress=on_progress)
    except (SourceError, ExhibitExistsError) as error:
        raise UsageFailure(display_message(str(error))) from None
    if on_progress is not None:
        click.echo("", err=True)
    click.echo(
        f"{summary.outcome}: {summary.entries:,} entries, {summary.files_hashed:,} files hashed, "
        f"{summary.bytes_hashed:,} bytes, {summary.errors} errors, {summary.warnings} warnings, "
        f"{summary.seconds:.1f} s -> {display(str(summary.output_dir))}"
    )
    sys.exit(EXIT_OK if summary.errors == 0 else EXIT_WITH_ERRORS)


def run() -> None:
    """Console entry point: an unexpected crash exits with 3 (nothing published), never with 1 or 0."""
    try:
        main(standalone_mode=True)
    except Exception:  # the top of the program: the full traceback is printed and the exit code says "failed"
        import traceback

        traceback.print_exc()
        click.echo("exhibit: the run failed; nothing was published (exit 3)", err=True)
        sys.exit(EXIT_FAILURE)


if __name__ == "__main__":
    run()
