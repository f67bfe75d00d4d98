"""What the technician asks of one ingest, and the counters a progress display reads while it runs."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ingest.config import Config
from ingest.scan import Credentials

if TYPE_CHECKING:
    from ingest.cluster import ClusterChoice


@dataclass(frozen=True)
class IngestRequest:
    source: Path
    case_id: str
    exhibit_id: str
    config: Config
    credentials: Credentials = Credentials()
    expected_hashes: tuple[tuple[str, str], ...] = ()
    signing_key: Ed25519PrivateKey | None = None
    description: str = ""
    app_keys: tuple[tuple[str, str], ...] = ()  # (app, key) for encrypted chat stores; never written out
    parent_dirs: tuple[Path, ...] = ()  # folders where parent disks and extents may also be found (--parent-dir)
    cluster: ClusterChoice | None = None  # run the tasks on this Dask cluster (--scheduler, --path-map); None: the local pool


@dataclass
class Progress:
    """Counters a terminal display reads while the run goes on."""

    volumes_done: int = 0
    volumes_total: int = 0
    entries: int = 0
    files_hashed: int = 0
    bytes_hashed: int = 0
    messages: int = 0
    identifiers: int = 0
    started: float = field(default_factory=time.monotonic)


__all__ = ["IngestRequest", "Progress"]
