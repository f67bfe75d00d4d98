"""Damage a fixture database the way a bad extraction does, and say what SQLite itself can still read.

Used by the TextNow, LINE and imo tests: a truncated file, a data page overwritten with 0xff, and
an independent count (plain sqlite3) of the rows readable before the damaged page.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def truncate_to_half(path: Path) -> None:
    size = path.stat().st_size
    with open(path, "r+b") as handle:
        handle.truncate(size // 2)


def wreck_last_page(path: Path) -> None:
    """Overwrite the file's last page (a leaf of the biggest table when it was filled last) with 0xff."""
    connection = sqlite3.connect(path)
    page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    connection.close()
    data = bytearray(path.read_bytes())
    data[-page_size:] = b"\xff" * page_size
    path.write_bytes(bytes(data))


def rows_before_damage(path: Path, sql: str) -> int:
    """How many rows plain sqlite3 returns for `sql` before it reports the damage (the oracle)."""
    connection = sqlite3.connect(path)
    count = 0
    try:
        for _ in connection.execute(sql):
            count += 1
    except sqlite3.DatabaseError:
        return count
    finally:
        connection.close()
    raise AssertionError("the damaged page was never reached")
