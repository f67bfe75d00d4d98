"""Cases ingested here from folder sources, for the end-to-end tests of the case commands (query,
search): files written into a folder (an Android SMS store among them, built by
scripts/make_sample.py's writer, as for the README's sample), each folder ingested through the CLI
as one exhibit, some signed with a lab key made for the test."""

from __future__ import annotations

import sys
from pathlib import Path

from click.testing import CliRunner

from ingest.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from make_sample import write_sms_database  # noqa: E402

SMS_PATH = "data/data/com.android.providers.telephony/databases/mmssms.db"

__all__ = ["SMS_PATH", "ingest_folder", "lab_key", "write_files", "write_sms_database"]


def write_files(root: Path, files: dict[str, bytes]) -> Path:
    """Each relative path with its content under `root` (folders made as needed); `root`."""
    for relative, content in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return root


def lab_key(root: Path) -> tuple[Path, Path]:
    """A fresh Ed25519 key pair root/keys/lab.key and lab.pub (private, public)."""
    assert CliRunner().invoke(main, ["keys", "generate", "--name", "lab", "--out", str(root / "keys")]).exit_code == 0
    return root / "keys" / "lab.key", root / "keys" / "lab.pub"


def ingest_folder(source: Path, out: Path, case: str, exhibit: str, *extra: str) -> None:
    """`exhibit ingest SOURCE --case CASE --exhibit EXHIBIT --out OUT --workers 1 EXTRA...`, which must exit 0."""
    result = CliRunner().invoke(main, ["ingest", str(source), "--case", case, "--exhibit", exhibit, "--out", str(out), "--workers", "1",
                                       *extra], catch_exceptions=False)
    assert result.exit_code == 0, result.output
