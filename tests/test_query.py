"""`exhibit query`: SQL over a case of three exhibits ingested here from folder sources that share one
file. Exact rows per exhibit, every output format byte for byte, exhibits whose seal fails skipped
(and read with --unverified), SQL errors and file access refused, hostile names escaped."""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from case import query, views
from ingest.cli import main
from manifests.schemas import TABLES
from manifests.seal import root_digest
from tests.folder_case import SMS_PATH, ingest_folder, lab_key, write_files, write_sms_database

CASE = "OP-Q"
SHARED = b"the same file on two devices\n"
SHARED_SHA = hashlib.sha256(SHARED).hexdigest()
HOSTILE_NAME = "evil\x1b[31m\u202etxt.exe"
FORMULA_NAME = "=cmd|' -C calc'!A0.txt"


def _jpeg() -> bytes:
    """A 1x1 JPEG header carrying EXIF make, model, body serial and a GPS position."""
    from PIL import Image

    exif = Image.Exif()
    exif[0x010F] = "QueryCam"  # Make
    exif[0x0110] = "Q 1"  # Model
    sub = exif.get_ifd(0x8769)
    sub[0xA431] = "SN-0042"  # BodySerialNumber
    sub[0x9003] = "2024:01:02 04:04:05"  # DateTimeOriginal
    sub[0x9011] = "+01:00"  # OffsetTimeOriginal
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (51.0, 30.0, 0.0)
    gps[3], gps[4] = "W", (0.0, 7.0, 30.0)
    payload = exif.tobytes()
    app1 = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 1, 1, 1) + b"\x01\x11\x00"
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00\x00\x3f\x00"
    return b"\xff\xd8" + app1 + sof0 + sos + b"\x00" + b"\xff\xd9"


def _ingest(source: Path, out: Path, exhibit: str, *extra: str) -> None:
    ingest_folder(source, out, CASE, exhibit, "--description", f"phone {exhibit}", *extra)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return build_case(tmp_path_factory.mktemp("query"))


def build_case(root: Path) -> tuple[Path, Path]:
    """(case folder, lab public key): JS/1 and JS/2 signed with the lab key, JS/3 unsigned; also built by
    tests/test_query_review.py."""
    private, public = lab_key(root)
    one = write_files(root / "src1", {"Download/shared.bin": SHARED, "DCIM/Camera/IMG_0001.jpg": _jpeg(), f"Download/{HOSTILE_NAME}": b"x\n",
                                      f"Download/{FORMULA_NAME}": b"y\n"})
    write_sms_database(one / SMS_PATH, [(1, "+447700900123", 1704164645000, 0, 1, "send the money tonight"),
                                        (2, "+447700900123", 1704164700000, 0, 2, "=HYPERLINK(\"http://x\")"),
                                        (3, "+447700900456", 1704164760000, 0, 1, "clear\x1b[2J\u202eyenom")])
    two = write_files(root / "src2", {"backup/renamed.dat": SHARED, "notes.txt": b"nothing here\n"})
    write_sms_database(two / SMS_PATH, [(1, "+447700900999", 1704250000000, 0, 1, "where is the cash")])
    three = write_files(root / "src3", {"only.txt": b"third device\n"})
    _ingest(one, root / "cases", "JS/1", "--signing-key", str(private))
    _ingest(two, root / "cases", "JS/2", "--signing-key", str(private))
    _ingest(three, root / "cases", "JS/3")
    return root / "cases" / CASE, public


def _query(case: Path, sql: str, *extra: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["query", *extra, "--", str(case), sql])
    return result.exit_code, result.stdout_bytes.decode("utf-8"), result.stderr


def _json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines()]


NOTES = ["read 3 exhibit(s): JS/1, JS/2, JS/3",
         "signatures not checked (no --trusted-key): seals and the custody chain were recomputed, but a manifest or ledger "
         "rewritten and resealed by anyone would pass"]


def test_counts_per_exhibit_and_what_was_read(built: tuple[Path, Path]) -> None:
    case, _ = built
    code, out, err = _query(case, "SELECT exhibit_id, count(*) AS n FROM artefacts GROUP BY ALL ORDER BY exhibit_id", "--format", "json")
    assert code == 0, err
    assert _json_lines(out) == [{"exhibit_id": "JS/1", "n": 13}, {"exhibit_id": "JS/2", "n": 9}, {"exhibit_id": "JS/3", "n": 2}]
    assert err.splitlines() == NOTES + ["3 row(s)"]
    code, out, _ = _query(case, "SELECT exhibit_id, app, count(*) AS n FROM messages GROUP BY ALL ORDER BY exhibit_id", "--format", "json")
    assert _json_lines(out) == [{"exhibit_id": "JS/1", "app": "Android SMS/MMS", "n": 3}, {"exhibit_id": "JS/2", "app": "Android SMS/MMS", "n": 1}]
    code, out, _ = _query(case, "SELECT exhibit_id, folder, description, outcome, is_verified, verify_failures, case_id FROM exhibits "
                                "ORDER BY exhibit_id", "--format", "json")
    assert _json_lines(out) == [{"exhibit_id": f"JS/{n}", "folder": f"JS%2F{n}", "description": f"phone JS/{n}", "outcome": "completed",
                                 "is_verified": True, "verify_failures": [], "case_id": CASE} for n in (1, 2, 3)]
    code, out, _ = _query(case, "SELECT exhibit_id, action FROM custody ORDER BY event_index", "--format", "csv")
    assert out == "exhibit_id,action\r\n" + "".join(f"JS/{n},ingest_started\r\nJS/{n},ingested\r\n" for n in (1, 2, 3))


def test_the_shared_file_is_found_on_both_exhibits(built: tuple[Path, Path]) -> None:
    case, _ = built
    sql = ("SELECT exhibit_id, path, sha256 FROM artefacts WHERE sha256 IN (SELECT sha256 FROM artefacts WHERE sha256 IS NOT NULL "
           "GROUP BY sha256 HAVING count(DISTINCT exhibit_id) > 1) ORDER BY exhibit_id")
    code, out, _ = _query(case, sql, "--format", "json")
    assert code == 0
    assert _json_lines(out) == [{"exhibit_id": "JS/1", "path": "/Download/shared.bin", "sha256": SHARED_SHA},
                                {"exhibit_id": "JS/2", "path": "/backup/renamed.dat", "sha256": SHARED_SHA}]


def test_messages_and_media_join_their_artefacts(built: tuple[Path, Path]) -> None:
    case, _ = built
    code, out, _ = _query(case, "SELECT m.exhibit_id, m.body, a.path FROM messages m JOIN artefacts a ON a.exhibit_id = m.exhibit_id "
                                "AND a.entry_index = m.entry_index WHERE m.body ILIKE '%money%' OR m.body ILIKE '%cash%' ORDER BY m.body",
                          "--format", "json")
    assert code == 0
    database = f"/{SMS_PATH}"
    assert _json_lines(out) == [{"exhibit_id": "JS/1", "body": "send the money tonight", "path": database},
                                {"exhibit_id": "JS/2", "body": "where is the cash", "path": database}]
    jpeg = _jpeg()
    code, out, _ = _query(case, "SELECT a.exhibit_id, a.path, a.size, a.mime_type, m.make, m.model, m.body_serial FROM media m "
                                "JOIN artefacts a ON a.exhibit_id = m.exhibit_id AND a.entry_index = m.entry_index", "--format", "json")
    assert _json_lines(out) == [{"exhibit_id": "JS/1", "path": "/DCIM/Camera/IMG_0001.jpg", "size": len(jpeg), "mime_type": "image/jpeg",
                                 "make": "QueryCam", "model": "Q 1", "body_serial": "SN-0042"}]


SHARED_SQL = ("SELECT exhibit_id, path, size, sha256, path_bytes, size > 10 AS big, NULL AS nothing FROM artefacts "
              f"WHERE sha256 = '{SHARED_SHA}' ORDER BY exhibit_id")


def test_table_output_exactly(built: tuple[Path, Path]) -> None:
    case, _ = built
    code, out, err = _query(case, SHARED_SQL)
    assert code == 0, err
    one, two = b"/Download/shared.bin".hex(), b"/backup/renamed.dat".hex()
    assert out == (
        "exhibit_id | path                 | size | sha256" + " " * 59 + "| path_bytes" + " " * 31 + "| big  | nothing\n"
        "-----------+----------------------+------+" + "-" * 66 + "+" + "-" * 42 + "+------+--------\n"
        f"JS/1       | /Download/shared.bin |   29 | {SHARED_SHA} | {one} | true | \u2014\n"
        f"JS/2       | /backup/renamed.dat  |   29 | {SHARED_SHA} | {two}   | true | \u2014\n")
    assert err.splitlines()[-1] == "2 row(s)"


def test_csv_output_exactly(built: tuple[Path, Path]) -> None:
    case, _ = built
    code, out, _ = _query(case, SHARED_SQL, "--format", "csv")
    assert code == 0
    assert out == ("exhibit_id,path,size,sha256,path_bytes,big,nothing\r\n"
                   f"JS/1,/Download/shared.bin,29,{SHARED_SHA},{b'/Download/shared.bin'.hex()},true,\r\n"
                   f"JS/2,/backup/renamed.dat,29,{SHARED_SHA},{b'/backup/renamed.dat'.hex()},true,\r\n")


def test_json_output_exactly(built: tuple[Path, Path]) -> None:
    case, _ = built
    code, out, _ = _query(case, SHARED_SQL, "--format", "json")
    assert code == 0
    assert out == "".join(
        f'{{"exhibit_id":"{e}","path":"{p}","size":29,"sha256":"{SHARED_SHA}","path_bytes":"{p.encode().hex()}","big":true,"nothing":null}}\n'
        for e, p in (("JS/1", "/Download/shared.bin"), ("JS/2", "/backup/renamed.dat")))
    sql = ("SELECT CAST('2024-01-02 03:04:05.123456789+00' AS TIMESTAMPTZ_NS) AS t, TIMESTAMP '2024-01-02 03:04:05' AS naive, "
           "[1, 2] AS l, {'a': 1, 'b': 'x'} AS s, MAP {'k': 'v'} AS m, 'ab'::BLOB AS b, 1.5::DECIMAL(5,2) AS d, 'nan'::DOUBLE AS f, "
           "DATE '2024-01-02' AS day, '\u202e' AS bidi")
    code, out, _ = _query(case, sql, "--format", "json")
    assert (code, out) == (0, '{"t":"2024-01-02T03:04:05.123456789Z","naive":"2024-01-02T03:04:05.000000","l":[1,2],"s":{"a":1,"b":"x"},'
                              '"m":{"k":"v"},"b":"6162","d":"1.50","f":"NaN","day":"2024-01-02","bidi":"\\u202e"}\n')
    code, _, err = _query(case, "SELECT 1 AS a, 2 AS a", "--format", "json")
    assert code == 2 and "repeats column name(s) a" in err


def test_parquet_output_written_atomically(built: tuple[Path, Path], tmp_path: Path) -> None:
    case, _ = built
    target = tmp_path / "shared.parquet"
    code, out, err = _query(case, SHARED_SQL, "--format", "parquet", "--output", str(target))
    assert (code, out) == (0, "")
    assert err.splitlines()[-1] == f"2 row(s) -> {target}"
    assert pq.read_table(target).to_pylist() == [
        {"exhibit_id": "JS/1", "path": "/Download/shared.bin", "size": 29, "sha256": SHARED_SHA, "path_bytes": b"/Download/shared.bin",
         "big": True, "nothing": None},
        {"exhibit_id": "JS/2", "path": "/backup/renamed.dat", "size": 29, "sha256": SHARED_SHA, "path_bytes": b"/backup/renamed.dat",
         "big": True, "nothing": None}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared.parquet"]
    before = target.read_bytes()
    code, _, err = _query(case, "SELECT 1 / 0::INTEGER AS x, CAST('x' AS INTEGER) AS y", "--format", "parquet", "--output", str(target))
    assert code == 2 and "SQL: Conversion Error" in err
    assert target.read_bytes() == before  # a failed query leaves the old file whole, and no temporary beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shared.parquet"]
    code, _, err = _query(case, SHARED_SQL, "--format", "parquet")
    assert code == 2 and "--format parquet needs --output FILE" in err
    code, _, err = _query(case, SHARED_SQL, "--format", "csv", "--output", str(case / "JS%2F1" / "out.csv"))
    assert code == 2 and "inside the case folder" in err
    assert not (case / "JS%2F1" / "out.csv").exists()


def _copy(case: Path, tmp_path: Path) -> Path:
    target = tmp_path / CASE
    shutil.copytree(case, target)
    return target


def _reseal(folder: Path, drop: str | None = None, add: str | None = None) -> None:
    """Rewrite the manifest (unsigned) as an older or newer ingest would have sealed it: a part gone, or one more."""
    manifest = json.loads((folder / "manifest.json").read_text())
    if drop is not None:
        (folder / drop).unlink()
        manifest["parts"] = [p for p in manifest["parts"] if p["name"] != drop]
    if add is not None:
        path = folder / add
        manifest["parts"].append({"name": add, "size": path.stat().st_size, "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                                  "rows": pq.ParquetFile(path).metadata.num_rows, "schema": path.stem, "schema_version": 1})
    manifest["signature"] = None
    manifest["root_digest"] = root_digest(manifest)
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")


def test_a_tampered_exhibit_is_skipped_and_read_with_unverified(built: tuple[Path, Path], tmp_path: Path) -> None:
    case = _copy(built[0], tmp_path)
    part = case / "JS%2F3" / "artefacts.parquet"
    recorded = next(p for p in json.loads((part.parent / "manifest.json").read_text())["parts"] if p["name"] == "artefacts.parquet")
    table = pq.read_table(part)
    pq.write_table(table.slice(0, 1), part)  # the root folder only: one row taken out after sealing
    size, digest = part.stat().st_size, hashlib.sha256(part.read_bytes()).hexdigest()
    failure = (f"part artefacts.parquet: size {size} != recorded {recorded['size']}; sha256 {digest} != recorded {recorded['sha256']}; "
               "rows 1 != recorded 2")
    sql = "SELECT exhibit_id, count(*) AS n FROM artefacts GROUP BY ALL ORDER BY exhibit_id"
    code, out, err = _query(case, sql, "--format", "json")
    assert code == 1
    assert _json_lines(out) == [{"exhibit_id": "JS/1", "n": 13}, {"exhibit_id": "JS/2", "n": 9}]
    assert err.splitlines() == ["read 2 exhibit(s): JS/1, JS/2", f"skipped JS/3: its manifest does not verify: {failure}", NOTES[1], "2 row(s)"]
    code, out, err = _query(case, sql, "--format", "json", "--unverified")
    assert code == 0
    assert _json_lines(out) == [{"exhibit_id": "JS/1", "n": 13}, {"exhibit_id": "JS/2", "n": 9}, {"exhibit_id": "JS/3", "n": 1}]
    assert err.splitlines() == [NOTES[0], f"read JS/3 UNVERIFIED (--unverified): its manifest does not verify: {failure}", NOTES[1], "3 row(s)"]
    code, out, _ = _query(case, "SELECT exhibit_id, is_verified, verify_failures FROM exhibits ORDER BY 1", "--format", "json", "--unverified")
    assert _json_lines(out)[2] == {"exhibit_id": "JS/3", "is_verified": False, "verify_failures": [failure]}
    code, out, err = _query(case, sql, "--format", "json", "--exhibit", "JS/2", "--exhibit", "JS/2")
    assert (code, _json_lines(out), err.splitlines()[0]) == (0, [{"exhibit_id": "JS/2", "n": 9}], "read 1 exhibit(s): JS/2")


def test_an_unverified_part_that_is_not_parquet_is_left_out(built: tuple[Path, Path], tmp_path: Path) -> None:
    case = _copy(built[0], tmp_path)
    (case / "JS%2F3" / "artefacts.parquet").write_bytes(b"PAR1 not really")
    code, out, err = _query(case, "SELECT exhibit_id, count(*) AS n FROM artefacts GROUP BY ALL ORDER BY 1", "--format", "json", "--unverified")
    assert code == 1  # a part left out is an exhibit not read whole
    assert _json_lines(out) == [{"exhibit_id": "JS/1", "n": 13}, {"exhibit_id": "JS/2", "n": 9}]
    assert any(line.startswith(f"{case.absolute() / 'JS%2F3' / 'artefacts.parquet'}: not read, not readable Parquet") for line in err.splitlines())


def test_trusted_keys_make_signatures_count(built: tuple[Path, Path]) -> None:
    case, public = built
    code, out, err = _query(case, "SELECT (SELECT count(*) FROM custody) AS events, (SELECT count(DISTINCT exhibit_id) FROM artefacts) AS exhibits",
                            "--format", "json", "--trusted-key", str(public))
    assert code == 1
    assert _json_lines(out) == [{"events": 0, "exhibits": 2}]
    lines = err.splitlines()
    assert lines[:2] == ["read 2 exhibit(s): JS/1, JS/2", "skipped JS/3: its manifest does not verify: signature: the manifest is unsigned"]
    assert lines[2].startswith("skipped custody.parquet (its view is empty): custody event 4 signature: ")
    assert lines[3:] == ["1 row(s)"]


def test_sql_errors_exit_2_with_duckdb_message(built: tuple[Path, Path]) -> None:
    case, _ = built
    code, out, err = _query(case, "SELECT * FROM nope")
    assert (code, out) == (2, "")
    assert "SQL: Catalog Error: Table with name nope does not exist" in err
    code, _, err = _query(case, "SELEC 1")
    assert code == 2 and "SQL: Parser Error: syntax error" in err
    code, _, err = _query(case, "SELECT 1; SELECT 2")
    assert code == 2 and "give exactly one SQL statement (got 2)" in err
    code, _, err = _query(case, "CREATE TABLE t AS SELECT 1")
    assert code == 2 and "this is a CREATE statement" in err
    code, _, err = _query(case, "SELECT 1", "--exhibit", "JS/9")
    assert code == 2 and "no such exhibit folder" in err


def test_no_other_file_can_be_read_or_written(built: tuple[Path, Path], tmp_path: Path) -> None:
    case, _ = built
    for sql in ("SELECT * FROM read_csv('/etc/passwd')", "SELECT * FROM read_text('/etc/passwd')", "SELECT * FROM glob('/etc/*')",
                f"SELECT * FROM read_parquet('{case}/*/*.parquet')", f"SELECT * FROM read_blob('{tmp_path}/*')"):
        code, out, err = _query(case, sql)
        assert (code, out) == (2, ""), sql
        assert "Permission Error" in err and "disabled by configuration" in err, sql
    code, out, err = _query(case, "SELECT * FROM '/etc/passwd'")  # no file scan at all: only a (missing) table name
    assert (code, out) == (2, "") and "Catalog Error: Table with name /etc/passwd does not exist" in err
    evidence = case / "JS%2F1" / "artefacts.parquet"
    before = evidence.read_bytes()
    for target in (tmp_path / "out.csv", evidence):
        code, _, err = _query(case, f"COPY (SELECT 1) TO '{target}' (FORMAT parquet, USE_TMP_FILE false)")
        assert code == 2 and "only a SELECT statement is run (this is a COPY statement)" in err
        # EXPLAIN ANALYZE runs the statement it wraps: refused like the statement itself
        code, _, err = _query(case, f"EXPLAIN ANALYZE COPY (SELECT 1 AS x) TO '{target}' (FORMAT parquet, USE_TMP_FILE false)")
        assert code == 2 and "only a SELECT statement is run (this is a EXPLAIN statement)" in err
        code, _, err = _query(case, f"SELECT * FROM query('COPY (SELECT 1) TO ''{target}'' (FORMAT parquet, USE_TMP_FILE false)')")
        assert code == 2 and "Parser Error: Expected a single SELECT statement" in err
    assert not (tmp_path / "out.csv").exists() and evidence.read_bytes() == before
    # Below the statement check, DuckDB itself refuses: the connection is locked to the case's Parquet files.
    selection = query.select(case, [("JS/1", case / "JS%2F1")], [], False)
    opened = query.open_case(selection)
    try:
        for sql in (f"COPY (SELECT 1) TO '{tmp_path / 'x.csv'}'", f"ATTACH '{tmp_path / 'x.db'}'", "SELECT * FROM read_csv('/etc/passwd')",
                    f"EXPORT DATABASE '{tmp_path / 'dump'}'", "INSTALL httpfs", "LOAD httpfs"):
            with pytest.raises(duckdb.PermissionException):
                opened.connection.execute(sql)
        with pytest.raises(duckdb.InvalidInputException, match="the configuration has been locked"):
            opened.connection.execute("SET enable_external_access = true")
        assert opened.connection.execute("SELECT count(*) FROM artefacts").fetchall() == [(13,)]
    finally:
        opened.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_hostile_names_are_escaped_in_the_table_and_neutralised_in_csv(built: tuple[Path, Path]) -> None:
    case, _ = built
    sql = ("SELECT decode(name_bytes) AS name FROM artefacts WHERE exhibit_id = 'JS/1' AND path LIKE '/Download/%' AND entry_type = 'file' "
           "UNION ALL SELECT body FROM messages WHERE exhibit_id = 'JS/1' ORDER BY name")
    code, out, _ = _query(case, sql)
    assert code == 0
    assert "\x1b" not in out and "\u202e" not in out
    assert out.splitlines() == ["name", "-" * 25, "=HYPERLINK(\"http://x\")", f"{FORMULA_NAME}", "clear\\x1b[2J\\u202eyenom",
                                "evil\\x1b[31m\\u202etxt.exe", "send the money tonight", "shared.bin"]
    code, out, _ = _query(case, sql, "--format", "csv")
    assert out.split("\r\n") == ["name", "\"'=HYPERLINK(\"\"http://x\"\")\"", f"'{FORMULA_NAME}", "clear\x1b[2J\u202eyenom",
                                 "evil\x1b[31m\u202etxt.exe", "send the money tonight", "shared.bin", ""]
    code, out, _ = _query(case, sql, "--format", "json")
    assert [row["name"] for row in _json_lines(out)][2:4] == ["clear\x1b[2J\u202eyenom", "evil\x1b[31m\u202etxt.exe"]
    assert out.isascii()


def test_a_table_an_exhibit_lacks_gives_no_rows_and_new_tables_appear(built: tuple[Path, Path], tmp_path: Path) -> None:
    case = _copy(built[0], tmp_path)
    _reseal(case / "JS%2F2", drop="messages.parquet")  # as an exhibit ingested before chat parsing existed
    code, out, err = _query(case, "SELECT exhibit_id, count(*) AS n FROM messages GROUP BY ALL ORDER BY 1", "--format", "json")
    assert (code, _json_lines(out)) == (0, [{"exhibit_id": "JS/1", "n": 3}])
    assert err.splitlines()[0] == NOTES[0]
    # identifiers (per exhibit) and hash_hits (case level) are views as soon as their files exist.
    _reseal(case / "JS%2F3", drop="identifiers.parquet")  # as sealed before identifiers existed, then as by a newer ingest
    row = {"case_id": CASE, "exhibit_id": "JS/3", "identifier_index": 0, "identifier_kind": "phone", "identifier": "+447700900123",
           "identifier_raw": "+44 7700 900123", "origin_table": "messages", "origin_index": 0, "origin_field": "body", "origin_offset": 0,
           "entry_index": 1, "extractor": "phones", "extractor_version": "1"}
    pq.write_table(pa.Table.from_pylist([row], schema=TABLES["identifiers"].arrow_schema()), case / "JS%2F3" / "identifiers.parquet")
    _reseal(case / "JS%2F3", add="identifiers.parquet")
    pq.write_table(pa.table({"case_id": [CASE], "exhibit_id": ["JS/1"], "entry_index": [8], "set_name": ["known"],
                             "seen_time": pa.array([1_700_000_000_123_456_789], pa.timestamp("ns", tz="UTC"))}), case / "hash_hits.parquet")
    sql = ("SELECT h.exhibit_id, a.path, h.set_name, h.seen_time, (SELECT identifier FROM identifiers WHERE exhibit_id = 'JS/3') AS identifier FROM hash_hits h "
           "JOIN artefacts a USING (exhibit_id, entry_index)")
    code, out, err = _query(case, sql, "--format", "json")
    assert code == 0, err
    assert "read hash_hits.parquet as it is: no seal covers this case-level file" in err.splitlines()
    assert _json_lines(out) == [{"exhibit_id": "JS/1", "path": "/Download/shared.bin", "set_name": "known",
                                 "seen_time": "2023-11-14T22:13:20.123456789Z", "identifier": "+447700900123"}]  # nanoseconds kept
    target = tmp_path / "hits.parquet"
    assert _query(case, sql, "--format", "parquet", "--output", str(target))[0] == 0
    assert pq.read_schema(target).field("seen_time").type == pa.timestamp("ns", tz="UTC")
    assert pq.read_table(target).column("seen_time").cast(pa.int64()).to_pylist() == [1_700_000_000_123_456_789]
    for folder in ("JS%2F1", "JS%2F2", "JS%2F3"):
        _reseal(case / folder, drop="identifiers.parquet")
    code, out, err = _query(case, "SELECT count(*) AS n FROM identifiers", "--format", "json")
    assert (code, _json_lines(out)) == (0, [{"n": 0}])  # declared: an empty view of its schema while no exhibit has the file


def test_views_are_declared_in_one_place() -> None:
    assert views.EXHIBIT_TABLES == ("artefacts", "sources", "errors", "messages", "media", "identifiers")
    assert views.CASE_TABLES == ("custody", "hash_hits")
    assert all(name in TABLES for name in ("artefacts", "sources", "errors", "messages", "media", "custody"))


README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def ready_queries() -> list[tuple[str, str]]:
    """(title, SQL) of every query in the README's ready-query block, in order."""
    block = README.split("<!-- ready-queries:start -->", 1)[1].split("<!-- ready-queries:end -->", 1)[0]
    block = block.strip().removeprefix("```sql").removesuffix("```")
    queries = []
    for chunk in block.split(";\n"):
        chunk = chunk.strip()
        if chunk:
            title = chunk.splitlines()[0].removeprefix("-- ")
            queries.append((title, chunk + ";"))
    return queries


def test_the_readme_block_holds_a_dozen_ready_queries() -> None:
    titles = [title for title, _ in ready_queries()]
    assert len(titles) == 18
    assert titles[0].startswith("1. Messages that mention money") and titles[-1].startswith("18. ")


def test_every_ready_query_runs_with_exact_answers(built: tuple[Path, Path]) -> None:
    answers = {}
    for title, sql in ready_queries():
        code, out, err = _query(built[0], sql, "--format", "json")
        assert code == 0, f"{title}: {err}"
        answers[title.split(".")[0]] = _json_lines(out)
    assert [(r["exhibit_id"], r["time"], r["body"]) for r in answers["1"]] == [("JS/1", "2024-01-02T03:04:05.000000000Z", "send the money tonight"),
                                                                             ("JS/2", "2024-01-03T02:46:40.000000000Z", "where is the cash")]
    assert [(r["path"], r["make"], r["body_serial"], r["capture_time"], r["latitude"], r["longitude"]) for r in answers["2"]] == [
        ("/DCIM/Camera/IMG_0001.jpg", "QueryCam", "SN-0042", "2024-01-02T03:04:05.000000000Z", 51.5, -0.125)]
    assert answers["4"] == [{"sha256": SHARED_SHA, "exhibits": 2, "on_exhibits": ["JS/1", "JS/2"], "size": 29,
                             "paths": ["JS/1: /Download/shared.bin", "JS/2: /backup/renamed.dat"]}]
    assert [(r["event"], r["what"]) for r in answers["5"]] == [("message incoming (Android SMS/MMS)", "send the money tonight"),
                                                               ("photo or video taken", "/DCIM/Camera/IMG_0001.jpg"),
                                                               ("message outgoing (Android SMS/MMS)", "=HYPERLINK(\"http://x\")"),
                                                               ("message incoming (Android SMS/MMS)", "clear\x1b[2J\u202eyenom")]
    assert [(r["exhibit_id"], r["app"], r["messages"]) for r in answers["7"]] == [("JS/1", "Android SMS/MMS", 3), ("JS/2", "Android SMS/MMS", 1)]
    assert [(r["exhibit_id"], r["store"], r["messages"]) for r in answers["11"]] == [("JS/1", f"/{SMS_PATH}", 3), ("JS/2", f"/{SMS_PATH}", 1)]
    assert [(r["exhibit_id"], r["action"]) for r in answers["18"]] == [(f"JS/{n}", a) for n in (1, 2, 3) for a in ("ingest_started", "ingested")]


def test_a_key_that_signed_nothing_skips_everything(built: tuple[Path, Path], tmp_path: Path) -> None:
    case, _ = built
    assert CliRunner().invoke(main, ["keys", "generate", "--name", "other", "--out", str(tmp_path)]).exit_code == 0
    code, out, err = _query(case, "SELECT (SELECT count(*) FROM artefacts) AS a, (SELECT count(*) FROM exhibits) AS e, "
                                  "(SELECT count(*) FROM custody) AS c", "--format", "json", "--trusted-key", str(tmp_path / "other.pub"))
    assert (code, _json_lines(out)) == (1, [{"a": 0, "e": 0, "c": 0}])
    lines = err.splitlines()
    assert lines[0] == "read 0 exhibit(s): none"
    assert [line.split(":", 1)[0] for line in lines[1:4]] == ["skipped JS/1", "skipped JS/2", "skipped JS/3"]
    assert "which is not among the trusted keys" in lines[1]


def test_the_table_shows_at_most_ten_thousand_rows(built: tuple[Path, Path]) -> None:
    code, out, err = _query(built[0], "SELECT range AS n FROM range(10005)")
    assert code == 0
    lines = out.splitlines()
    assert (len(lines), lines[0], lines[2].strip(), lines[-1].strip()) == (10002, "n", "0", "9999")
    assert err.splitlines()[-1] == "10,005 row(s) (the table shows the first 10,000: use --format csv, json or parquet for all)"
    code, out, _ = _query(built[0], "SELECT range AS n FROM range(10005)", "--format", "csv")
    assert len(out.split("\r\n")) == 10007


def test_case_paths_with_quotes_and_glob_characters(built: tuple[Path, Path], tmp_path: Path) -> None:
    odd = tmp_path / "it's [1]*"
    odd.mkdir()
    case = _copy(built[0], odd)
    (tmp_path / "it's 1x").mkdir()  # what the glob would also match
    code, out, err = _query(case, "SELECT exhibit_id, count(*) AS n FROM artefacts GROUP BY ALL ORDER BY 1", "--format", "json")
    assert code == 0, err
    assert _json_lines(out) == [{"exhibit_id": "JS/1", "n": 13}, {"exhibit_id": "JS/2", "n": 9}, {"exhibit_id": "JS/3", "n": 2}]


def test_skipped_and_linked_exhibits_are_out_of_reach(built: tuple[Path, Path], tmp_path: Path) -> None:
    case = _copy(built[0], tmp_path)
    outside = tmp_path / "elsewhere"
    shutil.move(case / "JS%2F3", outside)
    (case / "JS%2F3").symlink_to(outside)
    code, out, err = _query(case, "SELECT count(DISTINCT exhibit_id) AS n FROM artefacts", "--format", "json", "--unverified")
    assert (code, _json_lines(out)) == (0, [{"n": 2}])
    assert "read JS/3 UNVERIFIED (--unverified): its manifest does not verify: exhibit folder: is a symbolic link; not followed" in err
    (case / "JS%2F3").unlink()
    shutil.move(outside, case / "JS%2F3")
    shutil.move(case / "custody.parquet", tmp_path / "ledger.parquet")
    (case / "custody.parquet").symlink_to(tmp_path / "ledger.parquet")
    code, out, err = _query(case, "SELECT count(*) AS n FROM custody", "--format", "json", "--unverified")
    assert (code, _json_lines(out)) == (1, [{"n": 0}])
    assert "skipped custody.parquet (its view is empty): custody.parquet is not a regular file (a link or a device); not read" in err
    (case / "JS%2F3" / "notes.txt").write_text("added after sealing\n")
    part = case.absolute() / "JS%2F3" / "artefacts.parquet"
    code, out, err = _query(case, f"SELECT count(*) FROM read_parquet('{part}')")
    assert code == 2 and "Permission Error" in err
    assert "skipped JS/3: its manifest does not verify: part notes.txt: not listed in the manifest (a stray or added file)" in err
