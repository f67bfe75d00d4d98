"""Damage a fixture database the way a bad extraction does: cut short, or one page overwritten."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def truncate_half(path: Path) -> None:
    """Cut the file to half its length (a copy that stopped part way)."""
    with open(path, "r+b") as handle:
        handle.truncate(path.stat().st_size // 2)


def wreck_middle_page(path: Path, fill: int) -> None:
    """Overwrite the page in the middle of the file with one byte value (a bad sector inside a table's leaves)."""
    connection = sqlite3.connect(path)
    try:
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
    finally:
        connection.close()
    data = bytearray(path.read_bytes())
    start = (pages // 2) * page_size
    data[start:start + page_size] = bytes([fill]) * page_size
    path.write_bytes(bytes(data))
