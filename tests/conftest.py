"""Shared fixtures: run an ingest through the real CLI and read its tables back."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from ingest.cli import main
from ingest.naming import encode_id


@dataclass
class Ingested:
    exit_code: int
    output: str
    folder: Path

    def table(self, name: str) -> list[dict]:
        """Rows as dicts; timestamps as integer nanoseconds since the epoch (UTC), the precision stored."""
        table = pq.read_table(self.folder / f"{name}.parquet")
        for index, field in enumerate(table.schema):
            if pa.types.is_timestamp(field.type):
                table = table.set_column(index, field.name, table.column(index).cast(pa.int64()))
        return table.to_pylist()

    def artefacts(self) -> list[dict]:
        return self.table("artefacts")

    def source(self) -> dict:
        (row,) = self.table("sources")
        return row

    def errors(self) -> list[dict]:
        return self.table("errors")

    def by_path(self) -> dict[bytes, dict]:
        return {row["path_bytes"]: row for row in self.artefacts() if row["data_stream"] is None}


def run_ingest(source: Path, out: Path, *extra: str, case: str = "CASE-1", exhibit: str = "EX-1", workers: int = 1) -> Ingested:
    """`exhibit ingest` in this process, exactly as a technician would type it."""
    args = ["ingest", str(source), "--case", case, "--exhibit", exhibit, "--out", str(out), "--workers", str(workers), *extra]
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    return Ingested(result.exit_code, result.output, out / encode_id(case) / encode_id(exhibit))


@pytest.fixture
def ingest_image(tmp_path: Path):
    counter = iter(range(1_000_000))

    def _run(source: Path, *extra: str, **kwargs) -> Ingested:
        return run_ingest(source, tmp_path / f"cases{next(counter)}", *extra, **kwargs)

    return _run


def require_tool(name: str) -> str:
    """Path of an oracle or image-building tool; .ci/run installs them all, so CI never skips."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        if os.environ.get("CI") == "true":  # CI must never pass green because an oracle was missing
            pytest.fail(f"{name} is not installed; scripts/setup.sh installs it")
        pytest.skip(f"{name} is not installed (scripts/setup.sh installs it)")
    return path


def run_tool(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), check=True, capture_output=True, **kwargs)
