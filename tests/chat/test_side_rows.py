"""parsers/chat/_rows.py side reads: a damaged page stops only the side read, with one error row, and says whether it was whole."""

from __future__ import annotations

import sqlite3
from typing import Iterator

from manifests.records import ParseWarning
from parsers.chat._rows import side_first, side_read, side_whole


class _Context:
    """Only what the side reads use of ParseContext: `warn`."""

    def __init__(self) -> None:
        self.warnings: list[ParseWarning] = []

    def warn(self, kind: str, message: str, *, table: str | None = None, row_id: int | None = None,
             field: str | None = None, severity: str = "warning") -> None:
        self.warnings.append(ParseWarning(kind=kind, message=message, table=table, row_id=row_id, field=field, severity=severity))


def _damaged_after(count: int) -> Iterator[int]:
    yield from range(count)
    raise sqlite3.DatabaseError("database disk image is malformed")


def _stopped(context: _Context) -> list[tuple[str, str | None, str]]:
    return [(w.kind, w.table, w.severity) for w in context.warnings]


def test_side_read_keeps_the_rows_before_the_damage_and_warns_once() -> None:
    context = _Context()
    assert list(side_read(_damaged_after(3), "contacts", context)) == [0, 1, 2]  # type: ignore[arg-type]
    assert _stopped(context) == [("parse_stopped", "contacts", "error")]
    assert context.warnings[0].message == ("side table contacts could not be read whole (DatabaseError: database disk image is "
                                           "malformed); names or links from it may be missing")


def test_side_read_of_a_whole_table_says_nothing() -> None:
    context = _Context()
    assert list(side_read(iter(range(3)), "contacts", context)) == [0, 1, 2]  # type: ignore[arg-type]
    assert context.warnings == []


def test_an_error_in_the_callers_own_work_is_not_swallowed() -> None:
    """Only the reading is guarded: a DatabaseError the loop body raises (another query) goes on up."""
    context = _Context()
    try:
        for _ in side_read(iter(range(3)), "contacts", context):  # type: ignore[arg-type]
            raise sqlite3.DatabaseError("another table")
    except sqlite3.DatabaseError as error:
        assert str(error) == "another table"
    else:
        raise AssertionError("the error was swallowed")
    assert context.warnings == []


def test_side_whole_says_whether_every_row_was_read() -> None:
    context = _Context()
    assert side_whole(iter(range(2)), "accounts", context) == ([0, 1], True)  # type: ignore[arg-type]
    assert side_whole(_damaged_after(1), "accounts", context) == ([0], False)  # type: ignore[arg-type]
    assert _stopped(context) == [("parse_stopped", "accounts", "error")]


def test_side_first_is_none_when_the_first_page_is_damaged() -> None:
    context = _Context()
    assert side_first(iter(range(5)), "userinfo", context) == 0  # type: ignore[arg-type]
    assert side_first(_damaged_after(0), "userinfo", context) is None  # type: ignore[arg-type]
    assert _stopped(context) == [("parse_stopped", "userinfo", "error")]
