"""`exhibit chats` over the same seal-checked exhibits as `exhibit query`: verified ones only, unless asked.

Each exhibit's messages.parquet is read only when it is a regular file of a folder that is not a link
(case/views.py `exhibit_file`); a verified exhibit's part is the one sealed. A part of an exhibit read
unverified that cannot be read or shown (truncated, not Parquet, columns of the wrong type) is a
problem line naming it, and the other exhibits are still printed. Rows are labelled with the
exhibit of their folder, never the id a part stores (a part copied from another exhibit would claim it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import pyarrow as pa

from case import query, views
from case.selection import Exhibit
from manifests import chat_view
from manifests.confined import brief
from manifests.text import display, display_message

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# What a part of an unverified exhibit may raise while it is read, filtered or rendered
READ_ERRORS = (OSError, pa.ArrowException, ValueError, KeyError, TypeError)


def clamp_ns(value: int | None) -> int | None:
    """A --since/--until bound in the range of a stored time (int64 nanoseconds, years 1677-2262): any time
    of years 1-9999 is accepted, and a bound past the range keeps every (or no) message, as it should."""
    return None if value is None else min(max(value, INT64_MIN), INT64_MAX)


def chats_selection(selection: query.Selection) -> query.Selection:
    """The query selection without the case-level files, which chats never reads."""
    return replace(selection, case_read=[], case_skipped=[])


@dataclass
class ChatsRead:
    """The lines to print, how many messages they hold, and what could not be read."""

    lines: list[str] = field(default_factory=list)
    shown: int = 0
    problems: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # exhibits without messages.parquet


def _problem(exhibit: Exhibit, path: Path, error: Exception) -> str:
    return display_message(f"{exhibit.label}: {display(str(path))} not read ({type(error).__name__}: {error})")


def messages_parts(selection: query.Selection, result: ChatsRead) -> list[tuple[Exhibit, Path]]:
    """Each read exhibit's messages.parquet; one that is absent, or not a regular file, is noted."""
    parts = []
    for exhibit in selection.read:
        path = views.exhibit_file(exhibit, "messages")
        if path is not None:
            parts.append((exhibit, path))
        elif (exhibit.folder / "messages.parquet").exists() or (exhibit.folder / "messages.parquet").is_symlink():
            result.problems.append(display_message(f"{exhibit.label}: messages.parquet is not a regular file (a link or a device); not read"))
        else:
            result.missing.append(exhibit.label)
    return parts


def known_apps(parts: list[tuple[Exhibit, Path]], result: ChatsRead) -> tuple[list[tuple[Exhibit, Path]], set[tuple[str, str]]]:
    """The (app, parser) pairs of the parts, and the parts that could be read for them."""
    kept, known = [], set()
    for exhibit, path in parts:
        try:
            known |= chat_view.apps(path.parent)
        except READ_ERRORS as error:
            result.problems.append(_problem(exhibit, path, error))
            continue
        kept.append((exhibit, path))
    return kept, known


def _relabelled(exhibit: Exhibit, table: pa.Table, result: ChatsRead, path: Path) -> pa.Table:
    own = views.folder_exhibit_id(exhibit)
    stored = {value for value in table["exhibit_id"].unique().to_pylist() if value != own} if table.num_rows else set()
    if stored:
        result.problems.append(display_message(f"warning: {display(str(path))}: stores exhibit id(s) "
                                               f"{', '.join(brief(v) for v in sorted(stored, key=str))}, shown as its folder's {brief(own)}"))
    index = table.schema.get_field_index("exhibit_id")
    return table.set_column(index, "exhibit_id", pa.array([own] * table.num_rows, pa.string()))


def read_chats(parts: list[tuple[Exhibit, Path]], chat_filter: chat_view.ChatFilter, result: ChatsRead) -> ChatsRead:
    """The rendered conversations of every part; a part that fails to read or render costs only itself."""
    for exhibit, path in parts:
        try:
            table = _relabelled(exhibit, chat_view.read_messages(path.parent, chat_filter), result, path)
            lines = list(chat_view.render(table))
        except READ_ERRORS as error:
            result.problems.append(_problem(exhibit, path, error))
            continue
        result.lines.extend(lines)
        result.shown += table.num_rows
    return result
