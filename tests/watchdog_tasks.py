"""Task functions for tests/test_watchdog.py, importable by the forkserver's workers.

Each item is (action, value): "ok" returns value; "segv", "abort", "sleep", "alloc" (MiB, touched),
"raise", "memerror" misbehave; "once" crashes the first time only (its value is a marker file).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import time
from pathlib import Path


def init_nothing() -> None:
    """A worker initializer that does nothing (the real one is ingest.work.init_pool_worker)."""


def init_fails() -> None:
    raise RuntimeError("initializer refused")


def act(items: list) -> list:
    return [_one(action, value) for action, value in items]


def _one(action: str, value: object) -> object:
    if action == "segv":
        ctypes.string_at(0)
    elif action == "abort":
        os.abort()
    elif action == "sleep":
        time.sleep(float(value))
    elif action == "alloc":
        held = [bytearray(50 << 20) for _ in range(int(value) // 50)]  # bytearray zero-fills: the pages are touched
        time.sleep(30)
        return len(held)
    elif action == "raise":
        raise ValueError(value)
    elif action == "memerror":
        raise MemoryError(value)
    elif action == "once":
        marker = Path(str(value))
        if not marker.exists():
            marker.write_text(str(os.getpid()))
            ctypes.string_at(0)
        return (int(marker.read_text()), os.getpid())
    return value


def identity(items: list) -> list:
    return list(items)


def sha256_items(items: list) -> list:
    return [hashlib.sha256(bytes([i % 256]) * 65536).hexdigest() for i in items]
