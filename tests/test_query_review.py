"""`exhibit query` against the hostile cases of the review: a part copied into another exhibit, an unreadable
hash_hits.parquet, result types Parquet cannot hold, glob characters in the case path, years before 1000."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from case import views
from tests.test_query import _copy, _json_lines, _query, build_case

COUNT = "SELECT exhibit_id, count(*) AS n FROM artefacts GROUP BY ALL ORDER BY 1"
ALL_THREE = [{"exhibit_id": "JS/1", "n": 13}, {"exhibit_id": "JS/2", "n": 9}, {"exhibit_id": "JS/3", "n": 2}]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The case of tests/test_query.py, built once for this module."""
    return build_case(tmp_path_factory.mktemp("query"))


def test_rows_carry_their_folders_exhibit_id(built: tuple[Path, Path], tmp_path: Path) -> None:
    case = _copy(built[0], tmp_path)
    part = case / "JS%2F3" / "artefacts.parquet"
    shutil.copyfile(case / "JS%2F2" / "artefacts.parquet", part)  # JS/2's rows, claiming JS/2, in JS/3's folder
    code, out, err = _query(case, COUNT, "--format", "json")
    assert (code, _json_lines(out)) == (1, ALL_THREE[:2])  # JS/3's seal fails: not read
    code, out, err = _query(case, COUNT, "--format", "json", "--unverified")
    assert (code, _json_lines(out)) == (0, [{"exhibit_id": "JS/1", "n": 13}, {"exhibit_id": "JS/2", "n": 9}, {"exhibit_id": "JS/3", "n": 9}])
    assert f"warning: {part.absolute()}: stores exhibit id(s) 'JS/2', not 'JS/3'; its rows are given its folder's exhibit id 'JS/3'" in err.splitlines()
    code, out, _ = _query(case, "SELECT a.exhibit_id, e.folder, count(*) AS n FROM artefacts a JOIN exhibits e USING (exhibit_id) "
                                "WHERE a.exhibit_id = 'JS/3' GROUP BY ALL", "--format", "json", "--unverified")
    assert (code, _json_lines(out)) == (0, [{"exhibit_id": "JS/3", "folder": "JS%2F3", "n": 9}])
    # an edited part without the column at all: its rows still belong to its folder
    pq.write_table(pa.table({"entry_index": pa.array([7, 8, 9], pa.int64())}), part)
    code, out, err = _query(case, COUNT, "--format", "json", "--unverified")
    assert (code, _json_lines(out)) == (0, [{"exhibit_id": "JS/1", "n": 13}, {"exhibit_id": "JS/2", "n": 9}, {"exhibit_id": "JS/3", "n": 3}])
    assert not any(line.startswith("warning:") for line in err.splitlines())


def _hash_hits_cases(case: Path, tmp_path: Path) -> dict[str, object]:
    good = tmp_path / "good.parquet"
    pq.write_table(pa.table({"exhibit_id": ["JS/1"], "entry_index": [1]}), good)
    data = good.read_bytes()
    return {"corrupt": b"PAR1" + b"\x00" * 64 + b"PAR1", "truncated": data[: len(data) // 2], "empty": b"",
            "folder": "dir", "link": good}


@pytest.mark.parametrize("kind", ["corrupt", "truncated", "empty", "folder", "link"])
def test_an_unreadable_hash_hits_costs_only_its_view(built: tuple[Path, Path], tmp_path: Path, kind: str) -> None:
    case = _copy(built[0], tmp_path)
    target = case / "hash_hits.parquet"
    made = _hash_hits_cases(case, tmp_path)[kind]
    if made == "dir":
        target.mkdir()
    elif isinstance(made, Path):
        target.symlink_to(made)
    else:
        target.write_bytes(made)
    code, out, err = _query(case, COUNT, "--format", "json")
    assert (code, _json_lines(out)) == (1, ALL_THREE)
    lines = err.splitlines()
    if kind in ("folder", "link"):
        assert "skipped hash_hits.parquet (its view is empty): hash_hits.parquet is not a regular file (a link or a device); not read" in lines
    else:
        assert any(line.startswith(f"{target.absolute()}: not read, not readable Parquet (") for line in lines), lines
    code, out, _ = _query(case, "SELECT count(*) AS n FROM hash_hits", "--format", "json")
    assert (code, _json_lines(out)) == (1, [{"n": 0}])


def test_a_hash_hits_of_the_wrong_types_still_reads_the_rest(built: tuple[Path, Path], tmp_path: Path) -> None:
    case = _copy(built[0], tmp_path)
    pq.write_table(pa.table({"exhibit_id": [1, 2], "entry_index": ["x", "y"]}), case / "hash_hits.parquet")
    code, out, _ = _query(case, COUNT, "--format", "json")
    assert (code, _json_lines(out)) == (0, ALL_THREE)
    code, out, _ = _query(case, "SELECT count(*) AS n FROM hash_hits", "--format", "json")
    assert (code, _json_lines(out)) == (0, [{"n": 2}])


@pytest.mark.parametrize(("sql", "column", "kind"), [
    ("SELECT INTERVAL 1 DAY AS i", "i", "INTERVAL"),
    ("SELECT union_value(k := 1) AS u", "u", "UNION"),
    ("SELECT 1 AS n, [INTERVAL 2 HOUR] AS held", "held", "INTERVAL"),
    ("SELECT {'a': union_value(k := 'x')} AS s", "s", "UNION"),
])
def test_parquet_refuses_what_it_cannot_store(built: tuple[Path, Path], tmp_path: Path, sql: str, column: str, kind: str) -> None:
    out_file = tmp_path / "out.parquet"
    code, out, err = _query(built[0], sql, "--format", "parquet", "--output", str(out_file))
    assert code == 2
    assert err.splitlines()[-1] == (f"Error: SQL: column {column} is (or holds) {kind}, which Parquet cannot store: cast it in the SQL "
                                    "(an INTERVAL to VARCHAR, or to seconds with epoch(x); a UNION to VARCHAR), or use --format csv or json")
    assert not out_file.exists() and list(tmp_path.iterdir()) == []
    code, _, _ = _query(built[0], "SELECT CAST(INTERVAL 1 DAY AS VARCHAR) AS i, epoch(INTERVAL 90 SECOND) AS s", "--format", "parquet",
                        "--output", str(out_file))
    assert code == 0 and pq.read_table(out_file).to_pylist() == [{"i": "1 day", "s": 90.0}]


def test_any_legal_folder_name_works(built: tuple[Path, Path], tmp_path: Path) -> None:
    odd = tmp_path / "case [1]*?"
    odd.mkdir()
    case = _copy(built[0], odd)
    decoy = tmp_path / "case 1xy"  # what `case [1]*?` matches as a glob: its rows must never be read
    decoy.mkdir()
    shutil.copytree(built[0], decoy / case.name)
    shutil.copyfile(case / "JS%2F2" / "artefacts.parquet", decoy / case.name / "JS%2F1" / "artefacts.parquet")
    code, out, err = _query(case, COUNT, "--format", "json")
    assert (code, _json_lines(out)) == (0, ALL_THREE), err
    shutil.copyfile(case / "JS%2F1" / "artefacts.parquet", case / "JS%2F3" / "artefacts.parquet")  # read unverified: relabelled by file name
    code, out, err = _query(case, COUNT, "--format", "json", "--unverified")
    assert (code, _json_lines(out)) == (0, [{"exhibit_id": "JS/1", "n": 13}, {"exhibit_id": "JS/2", "n": 9}, {"exhibit_id": "JS/3", "n": 13}]), err
    (case / "hash_hits.parquet").write_bytes(b"junk")
    code, out, err = _query(case, "SELECT count(*) AS n FROM hash_hits", "--format", "json", "--unverified")
    assert (code, _json_lines(out)) == (1, [{"n": 0}])


def test_years_before_1000_have_four_digits(built: tuple[Path, Path]) -> None:
    sql = ("SELECT TIMESTAMPTZ '0999-01-02 03:04:05+00' AS t, TIMESTAMP '0001-01-01 00:00:00' AS u, DATE '0999-01-01' AS d, "
           "CAST('0042-06-07 08:09:10.5' AS TIMESTAMP_MS) AS m")
    code, out, _ = _query(built[0], sql, "--format", "json")
    assert (code, out) == (0, '{"t":"0999-01-02T03:04:05.000000Z","u":"0001-01-01T00:00:00.000000","d":"0999-01-01",'
                              '"m":"0042-06-07T08:09:10.500"}\n')
    code, out, _ = _query(built[0], sql, "--format", "csv")
    assert out.split("\r\n")[1] == "0999-01-02T03:04:05.000000Z,0001-01-01T00:00:00.000000,0999-01-01,0042-06-07T08:09:10.500"
    code, out, _ = _query(built[0], sql)
    assert out.splitlines()[2] == "0999-01-02T03:04:05.000000Z | 0001-01-01T00:00:00.000000 | 0999-01-01 | 0042-06-07T08:09:10.500"


def test_a_failed_view_closes_its_connection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    junk = tmp_path / "artefacts.parquet"
    junk.write_bytes(b"not parquet")
    closed = []
    real = duckdb.connect

    def tracked(*args: object, **kwargs: object) -> duckdb.DuckDBPyConnection:
        connection = real(*args, **kwargs)
        closed.append(connection)
        return connection

    monkeypatch.setattr(views.duckdb, "connect", tracked)
    with pytest.raises(duckdb.Error):
        views.open_views({"artefacts": [junk]}, views.exhibits_table([]))
    with pytest.raises(duckdb.ConnectionException):
        closed[0].execute("SELECT 1")
