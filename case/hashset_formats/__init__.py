"""Readers of hash-set files: each turns one format into (algorithm, hash, category, id, name) entries.

A reader never drops a bad entry silently: it counts it under a reason in a Tally (with the first
few places it happened), and a file that is not of its format at all raises NotThisFormat, which
the command reports as bad input (exit 2) before anything is written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, NamedTuple

ALGORITHM_BY_LENGTH = {32: "md5", 40: "sha1", 64: "sha256"}
_HEX = re.compile(r"[0-9a-fA-F]+")
MAX_EXAMPLES = 20
SQLITE_MAGIC = b"SQLite format 3\x00"


class NotThisFormat(ValueError):
    """The file is not of the format it was read as (or claimed to be): nothing is imported."""


class Entry(NamedTuple):
    """One hash of a set, lowercase hex; category, set_entry_id and set_entry_name as the set gives them.

    A named tuple: a 50-million-line list makes 50 million of them."""

    algorithm: str
    hash: str
    category: str | None = None
    set_entry_id: str | None = None
    set_entry_name: str | None = None


@dataclass
class Tally:
    """Entries skipped, counted by reason, with the first MAX_EXAMPLES of them located."""

    skipped: dict[str, int] = field(default_factory=dict)
    examples: list[dict] = field(default_factory=list)

    def skip(self, reason: str, where: str, detail: str = "") -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append({"reason": reason, "where": where, "detail": detail[:200]})

    @property
    def total(self) -> int:
        return sum(self.skipped.values())


def hex_problem(text: str, expected: str | None = None) -> str | None:
    """Why `text` is not a full md5/sha1/sha256 hex digest (of `expected` when given): not_hex or wrong_length."""
    if not _HEX.fullmatch(text):
        return "not_hex"
    algorithm = ALGORITHM_BY_LENGTH.get(len(text))
    if algorithm is None or (expected is not None and algorithm != expected):
        return "wrong_length"
    return None


@dataclass(frozen=True)
class Format:
    """A reader, its version (recorded with every set it imported) and how to recognise its files."""

    name: str
    version: str
    read: Callable[[Path, Tally, dict], Iterator[Entry]]  # the dict receives facts of the file (its version)


def formats() -> dict[str, Format]:
    from case.hashset_formats import nsrl, plain, vics

    return {f.name: f for f in (nsrl.FORMAT, vics.FORMAT, vics.CAID_FORMAT, plain.FORMAT)}


def detect(path: Path) -> str:
    """nsrl for an SQLite file, vics for JSON (an object), plain otherwise; OSError when unreadable."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head.startswith(SQLITE_MAGIC):
        return "nsrl"
    if head.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"{"):
        return "vics"
    return "plain"
