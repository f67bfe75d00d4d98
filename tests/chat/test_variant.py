"""Variant: required columns decide the match; optional ones are read when present and NULL when absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from parsers.artefact import Catalog, HostArtefact
from parsers.chat.base import Variant
from parsers.sqlite_store import open_copy
from tests.chat.helpers import build_database

VARIANT = Variant("v", {"t": ("id", "sent AS time")}, optional={"t": ("body", "flag AS read_flag")})


def test_optional_columns_are_selected_or_null(tmp_path: Path) -> None:
    path = build_database(tmp_path / "a.db", "CREATE TABLE t (id INTEGER PRIMARY KEY, sent INTEGER, body TEXT);", {"t": [(1, 5, "x")]})
    artefact = HostArtefact(path)
    database = open_copy(artefact, Catalog.of([artefact]), tmp_path / "scratch")
    try:
        assert VARIANT.matches(database)
        assert VARIANT.select(database, "t", "id") == "SELECT id, sent AS time, body, NULL AS read_flag FROM t ORDER BY id"
        assert [tuple(row) for row in database.query(VARIANT.select(database, "t", "id"))] == [(1, 5, "x", None)]
        assert [dict(row) for row in database.query(VARIANT.select(database, "t"))] == [{"id": 1, "time": 5, "body": "x", "read_flag": None}]
        assert not Variant("w", {"t": ("id", "missing")}).matches(database)
    finally:
        database.close()


@pytest.mark.parametrize("spec", ["x; DROP TABLE t", "a AS b AS c", "1abc", "'text'", "x AS", ""])
def test_only_plain_identifiers_can_be_declared(spec: str) -> None:
    with pytest.raises(ValueError, match="not a column declaration"):
        Variant("bad", {"t": ("id",)}, optional={"t": (spec,)})
    with pytest.raises(ValueError, match="not a table name"):
        Variant("bad", {"t x": ("id",)})
