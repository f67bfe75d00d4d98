"""Hash sets: every importer, built here from the published shapes, against a case ingested here; hostile files refused or counted."""

from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from case import hashsets
from ingest.cli import main
from manifests import keys
from manifests.custody import read_events
from tests.conftest import run_ingest

FILES = {"a.txt": b"alpha\n", "b.txt": b"beta\n", "c.bin": b"gamma\n", "d.txt": b"delta, in no set\n"}


def _hashes(data: bytes) -> dict[str, str]:
    return {name: hashlib.new(name, data).hexdigest() for name in ("md5", "sha1", "sha256")}


H = {name: _hashes(data) for name, data in FILES.items()}


def _cli(*args: str):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


@pytest.fixture
def case(tmp_path: Path) -> Path:
    source = tmp_path / "seized"
    source.mkdir()
    for name, data in FILES.items():
        (source / name).write_bytes(data)
    done = run_ingest(source, tmp_path / "cases", case="OP/1", exhibit="JS/1")
    assert done.exit_code == 0, done.output
    return tmp_path / "cases" / "OP%2F1"


def _entry_index(case_dir: Path, exhibit: str = "JS%2F1") -> dict[str, int]:
    rows = pq.read_table(case_dir / exhibit / "artefacts.parquet", columns=["path", "entry_index"]).to_pylist()
    return {row["path"].lstrip("/"): row["entry_index"] for row in rows}


def _set_rows(case_dir: Path, name: str) -> list[dict]:
    return pq.read_table(case_dir / "hashsets" / name / "hashset.parquet").to_pylist()


def _info(case_dir: Path, name: str) -> dict:
    return json.loads((case_dir / "hashsets" / name / "hashset.json").read_text())


def _hits(case_dir: Path) -> list[tuple]:
    rows = pq.read_table(case_dir / "hash_hits.parquet").to_pylist()
    return [(r["set_name"], r["set_kind"], r["category"], r["set_entry_id"], r["exhibit_id"], r["path"], r["algorithm"], r["hash"]) for r in rows]


# ---------------------------------------------------------------- plain lists


def _plain_list(tmp_path: Path) -> Path:
    lines = [
        "# notable files, md5sum and sha256sum output",
        "",
        f"{H['a.txt']['md5']}  a.txt",
        f"{H['b.txt']['sha256'].upper()} *b.txt",
        f"   {H['c.bin']['sha1']}",
        f"{H['a.txt']['md5']}  copy of a.txt",  # a duplicate: merged, the first by set_entry_id kept
        "0123456789abcdef0123456789abcdef0123",  # 36 hex digits: no algorithm
        "zz" * 16 + "  not hex.txt",
        "\t# indented comment",
    ]
    path = tmp_path / "notable.md5"
    path.write_text("\r\n".join(lines) + "\r\n")
    return path


def test_plain_list_import_and_match(case: Path, tmp_path: Path) -> None:
    listing = _plain_list(tmp_path)
    done = _cli("hashset", "import", case, "notable-1", listing, "--kind", "notable", "--category", "CAT-A")
    assert done.exit_code == 1, done.output  # completed, with two lines counted as bad
    assert done.output.splitlines()[0] == ("imported hash set notable-1 (notable): 3 hashes (md5 1, sha1 1, sha256 1) from notable.md5 as "
                                           "plain, 1 duplicates merged, 2 entries skipped; custody event 2")
    assert "skipped 1 not_hex" in done.output and "skipped 1 wrong_length" in done.output
    info = _info(case, "notable-1")
    source = listing.read_bytes()
    assert {k: info[k] for k in ("name", "case_id", "kind", "category", "file_format", "file_name", "file_sha256", "file_size",
                                 "entries_read", "rows", "counts", "duplicates_merged", "skipped_total", "skipped", "importer",
                                 "importer_version", "table_version")} == {
        "name": "notable-1", "case_id": "OP/1", "kind": "notable", "category": "CAT-A", "file_format": "plain",
        "file_name": "notable.md5", "file_sha256": hashlib.sha256(source).hexdigest(), "file_size": len(source),
        "entries_read": 4, "rows": 3, "counts": {"md5": 1, "sha1": 1, "sha256": 1}, "duplicates_merged": 1, "skipped_total": 2,
        "skipped": {"not_hex": 1, "wrong_length": 1}, "importer": "case.hashset_formats.plain", "importer_version": "1", "table_version": 1}
    assert info["skipped_examples"] == [{"reason": "wrong_length", "where": "line 7", "detail": "0123456789abcdef0123456789abcdef0123"},
                                        {"reason": "not_hex", "where": "line 8", "detail": "z" * 32 + "  not hex.txt"}]
    assert info["imported_time"].endswith("Z")
    assert _set_rows(case, "notable-1") == [
        {"case_id": "OP/1", "set_name": "notable-1", "algorithm": "md5", "hash": H["a.txt"]["md5"], "category": "CAT-A", "set_entry_id": "3",
         "set_entry_name": "a.txt"},
        {"case_id": "OP/1", "set_name": "notable-1", "algorithm": "sha1", "hash": H["c.bin"]["sha1"], "category": "CAT-A", "set_entry_id": "5",
         "set_entry_name": None},
        {"case_id": "OP/1", "set_name": "notable-1", "algorithm": "sha256", "hash": H["b.txt"]["sha256"], "category": "CAT-A",
         "set_entry_id": "4", "set_entry_name": "b.txt"},
    ]
    assert pq.read_schema(case / "hashsets" / "notable-1" / "hashset.parquet").metadata[b"exhibit.table"] == b"hashset"

    matched = _cli("hashset", "match", case)
    assert matched.exit_code == 0, matched.output
    lines = matched.output.splitlines()
    assert lines[1].split() == ["notable-1", "notable", "JS/1", "3", "3"]
    assert lines[-1] == f"3 hit rows in 1 exhibit -> {case / 'hash_hits.parquet'}"
    index = _entry_index(case)
    rows = pq.read_table(case / "hash_hits.parquet").to_pylist()
    assert rows[0] == {"case_id": "OP/1", "exhibit_id": "JS/1", "set_name": "notable-1", "set_kind": "notable", "category": "CAT-A",
                       "set_entry_id": "3", "entry_index": index["a.txt"], "path": "/a.txt", "algorithm": "md5", "hash": H["a.txt"]["md5"]}
    assert sorted((r["path"], r["algorithm"]) for r in rows) == [("/a.txt", "md5"), ("/b.txt", "sha256"), ("/c.bin", "sha1")]
    assert [r["entry_index"] for r in rows] == sorted(r["entry_index"] for r in rows)


def test_import_is_a_custody_event_and_replace_is_another(case: Path, tmp_path: Path) -> None:
    listing = tmp_path / "one.txt"
    listing.write_text(H["a.txt"]["sha256"] + "\n")
    assert _cli("hashset", "import", case, "set1", listing, "--kind", "known", "--examiner", "A. Smith").exit_code == 0
    again = _cli("hashset", "import", case, "set1", listing, "--kind", "known")
    assert again.exit_code == 2 and "already holds a hash set named 'set1'" in again.output
    table_before = _info(case, "set1")["table_sha256"]
    listing.write_text(H["a.txt"]["sha256"] + "\n" + H["b.txt"]["md5"] + "\n")
    replaced = _cli("hashset", "import", case, "set1", listing, "--kind", "known", "--replace", "--examiner", "A. Smith")
    assert replaced.exit_code == 0, replaced.output
    assert replaced.output.startswith("replaced hash set set1 (known): 2 hashes (md5 1, sha256 1)")
    events = read_events(case)
    assert [(e["action"], e["exhibit_id"]) for e in events] == [("ingest_started", "JS/1"), ("ingested", "JS/1"), ("hashset_imported", ""),
                                                                 ("hashset_imported", "")]
    last = events[-1]
    assert last["actor_name"] == "A. Smith" and last["purpose"] == "hash set import"
    assert [(h["subject"], h["algorithm"], h["value"]) for h in last["hashes"]] == [
        ("hashset file", "sha256", hashlib.sha256(listing.read_bytes()).hexdigest()),
        ("hashset table", "sha256", _info(case, "set1")["table_sha256"])]
    assert last["notes"] == (f"hash set set1 (known) imported from one.txt as plain: 2 hashes (md5 1, sha256 1), 0 entries skipped; "
                             f"replaced the set of that name (table sha256 {table_before})")
    assert sorted(p.name for p in case.iterdir() if p.name.startswith(".hashsets.partial")) == []
    refused = _cli("custody", "add", case, "--exhibit", "JS/1", "--action", "hashset_imported", "--actor", "X")
    assert refused.exit_code == 2 and "written by `exhibit hashset import` only" in refused.output


def test_signed_case_with_hash_sets_verifies_and_matches_at_ingest(tmp_path: Path) -> None:
    private, public = keys.generate("lab", tmp_path / "keys")
    sources = []
    for number, name in enumerate(("a.txt", "b.txt"), 1):
        source = tmp_path / f"seized{number}"
        source.mkdir()
        (source / name).write_bytes(FILES[name])
        sources.append(source)
    assert run_ingest(sources[0], tmp_path / "cases", "--signing-key", str(private), case="OP/2", exhibit="JS/1").exit_code == 0
    case_dir = tmp_path / "cases" / "OP%2F2"
    listing = tmp_path / "l.txt"
    listing.write_text(H["b.txt"]["sha1"] + "\n")
    assert _cli("hashset", "import", case_dir, "s", listing, "--kind", "notable", "--signing-key", private).exit_code == 0
    done = run_ingest(sources[1], tmp_path / "cases", "--signing-key", str(private), case="OP/2", exhibit="JS/2")
    assert done.exit_code == 0
    assert ", 1 hash-set hit, " in done.output  # matched at ingest, into the case's hash_hits.parquet
    assert [r[4:7] for r in _hits(case_dir)] == [("JS/2", "/b.txt", "sha1")]
    # the hits are counted before sealing, so the signed manifest states them; the first exhibit predates the set
    sealed = [json.loads((case_dir / folder / "manifest.json").read_text())["hash_set_hits"] for folder in ("JS%2F1", "JS%2F2")]
    assert sealed == [[], [{"set": "s", "kind": "notable", "category": None, "file_sha256": hashlib.sha256(listing.read_bytes()).hexdigest(),
                            "table_sha256": _info(case_dir, "s")["table_sha256"], "artefacts": 1, "rows": 1,
                            "empty_files_skipped": 0}]]
    report_file = tmp_path / "report.csv"
    assert _cli("report", case_dir, "--format", "csv", "--output", report_file, "--trusted-key", public).exit_code == 0
    with report_file.open(encoding="utf-8", newline="") as handle:
        cells = [tuple(row) for row in csv.reader(handle)]
    assert [row for row in cells if row[1] == "Summary" and row[2] in ("identifiers", "hash-set hits")] == [
        ("JS/1", "Summary", "identifiers", "0"), ("JS/1", "Summary", "hash-set hits", "0"),
        ("JS/2", "Summary", "identifiers", "0"), ("JS/2", "Summary", "hash-set hits", "1")]
    assert [row for row in cells if row[1] == "Hash sets"] == [
        ("JS/1", "Hash sets", "matched at ingest", "none: the case held no hash set when the exhibit was sealed"),
        ("JS/1", "Hash sets", "latest match (hash_hits.parquet, not sealed)", "no hits"),
        ("JS/2", "Hash sets", "s (notable), at ingest", f"1 artefact matched (1 hash); set file SHA-256 {sealed[1][0]['file_sha256']}, "
                                                         f"set table SHA-256 {sealed[1][0]['table_sha256']}"),
        ("JS/2", "Hash sets", "s, latest match (hash_hits.parquet, not sealed)", "1 artefact matched (1 hash)")]
    verified = _cli("verify", case_dir, "--trusted-key", public)
    assert verified.exit_code == 0, verified.output  # the hashsets folder is no exhibit; its signed event keeps the chain
    assert verified.output.splitlines()[-1].startswith("VERIFIED: ")
    assert "OK   custody event 2 (hashset_imported case): sha256" in verified.output


def test_match_of_one_exhibit_keeps_the_others(case: Path, tmp_path: Path) -> None:
    listing = tmp_path / "l.txt"
    listing.write_text(H["a.txt"]["md5"] + "\n" + H["d.txt"]["sha1"] + "\n")
    assert _cli("hashset", "import", case, "k", listing, "--kind", "known").exit_code == 0
    assert _cli("hashset", "match", case).exit_code == 0
    source = tmp_path / "seized2"
    source.mkdir()
    (source / "d.txt").write_bytes(FILES["d.txt"])
    assert run_ingest(source, case.parent, case="OP/1", exhibit="JS/2").exit_code == 0
    assert [(r[4], r[5]) for r in _hits(case)] == [("JS/1", "/a.txt"), ("JS/1", "/d.txt"), ("JS/2", "/d.txt")]
    only = _cli("hashset", "match", case, "--exhibit", "JS/2")
    assert only.exit_code == 0 and only.output.splitlines()[1].split() == ["k", "known", "JS/2", "1", "1"]
    assert [(r[4], r[5]) for r in _hits(case)] == [("JS/1", "/a.txt"), ("JS/1", "/d.txt"), ("JS/2", "/d.txt")]


# ---------------------------------------------------------------- NSRL RDSv3


def _rds(path: Path, rows: list[tuple], with_file: bool = True) -> Path:
    """An RDSv3-shaped release: METADATA holds the file rows, FILE is the documented view of them."""
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE VERSION (version TEXT, build_set TEXT, build_date TEXT, release_date TEXT, description TEXT)")
    db.execute("INSERT INTO VERSION VALUES ('2026.09.1', 'test', '2026-09-01', '2026-09-15', 'built in a test')")
    db.execute("CREATE TABLE METADATA (package_id INTEGER, sha256 VARCHAR, sha1 VARCHAR, md5 VARCHAR, crc32 VARCHAR, file_name VARCHAR, "
               "file_size INTEGER, extension VARCHAR)")
    db.executemany("INSERT INTO METADATA VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    if with_file:
        db.execute("CREATE VIEW FILE AS SELECT sha256, sha1, md5, crc32, file_name, file_size, package_id FROM METADATA")
    db.commit()
    db.close()
    return path


def test_nsrl_release_import_read_only(case: Path, tmp_path: Path) -> None:
    b = H["b.txt"]
    rds = _rds(tmp_path / "RDS_2026.09.1_modern_minimal.db", [
        (7, b["sha256"].upper(), b["sha1"].upper(), b["md5"].upper(), "00000000", "b.txt", 5, "txt"),
        (3, b["sha256"].upper(), b["sha1"].upper(), b["md5"].upper(), "00000000", "beta.txt", 5, "txt"),
        (9, "1" * 64, "XYZ", "2" * 32, "00000000", "odd.dll", 1, "dll"),
        (11, b"\x01\x02", None, "3" * 32, "00000000", "typed.dll", 1, "dll"),
    ])
    before = hashlib.sha256(rds.read_bytes()).hexdigest()
    listing_before = sorted(p.name for p in tmp_path.iterdir())
    done = _cli("hashset", "import", case, "NSRL-2026.09", rds, "--kind", "known")
    assert done.exit_code == 1, done.output
    assert hashlib.sha256(rds.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == listing_before  # no journal, WAL or shm beside it
    info = _info(case, "NSRL-2026.09")
    assert info["file_format"] == "nsrl" and info["importer"] == "case.hashset_formats.nsrl"
    assert info["counts"] == {"md5": 3, "sha1": 1, "sha256": 2}
    assert info["skipped"] == {"hash_not_text": 1, "not_hex": 1, "sha1_missing": 1}
    assert info["duplicates_merged"] == 3
    assert info["file_facts"]["nsrl_version"]["version"] == "2026.09.1"
    rows = [r for r in _set_rows(case, "NSRL-2026.09") if r["hash"] in b.values()]
    assert [(r["algorithm"], r["set_entry_id"], r["set_entry_name"], r["category"]) for r in rows] == [
        ("md5", "3", "beta.txt", None), ("sha1", "3", "beta.txt", None), ("sha256", "3", "beta.txt", None)]
    assert _cli("hashset", "match", case).exit_code == 0
    assert _hits(case) == [("NSRL-2026.09", "known", None, "3", "JS/1", "/b.txt", algorithm, b[algorithm]) for algorithm in ("md5", "sha1", "sha256")]


def test_sqlite_without_file_table_is_refused(case: Path, tmp_path: Path) -> None:
    rds = _rds(tmp_path / "nofile.db", [], with_file=False)
    done = _cli("hashset", "import", case, "x", rds, "--kind", "known")
    assert done.exit_code == 2
    assert "without the FILE table" in done.output
    assert not (case / "hashsets").exists()


# ---------------------------------------------------------------- VICS and CAID


def _vics(path: Path, entries: list, key: str = "odata.metadata") -> Path:
    path.write_text(json.dumps({key: "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/1.3.xml/Default/$metadata#Media",
                                "value": entries}, indent=1))
    return path


def test_vics_json_import_and_match(case: Path, tmp_path: Path) -> None:
    a, c = H["a.txt"], H["c.bin"]
    vics = _vics(tmp_path / "vics.json", [
        {"MediaID": 17, "Category": 1, "MD5": a["md5"].upper(), "SHA1": a["sha1"].upper(), "MediaSize": 6, "Tags": {"x": [1, 2]}},
        {"MediaID": 18, "Category": 2, "SHA256": c["sha256"]},
        {"MediaID": 19, "Category": 1, "MD5": "ABC"},
        {"MediaID": 20, "Category": 3},
        42,
        {"MediaID": 21, "Category": 1, "SHA1": 7},
        {"MediaID": 22, "Category": 2, "MD5": a["md5"]},  # the same file in another category: merged, the conflict counted
    ])
    done = _cli("hashset", "import", case, "vics-13", vics, "--kind", "notable")
    assert done.exit_code == 1, done.output
    info = _info(case, "vics-13")
    assert info["file_format"] == "vics" and info["file_facts"]["odata"].endswith("$metadata#Media")
    assert info["counts"] == {"md5": 1, "sha1": 1, "sha256": 1}
    assert (info["entries_read"], info["duplicates_merged"], info["category_conflicts"]) == (4, 1, 1)
    assert info["skipped"] == {"entry_not_object": 1, "hash_not_text": 1, "no_hash": 1, "wrong_length": 1}
    assert [e["where"] for e in info["skipped_examples"]] == ["value[2] MD5", "value[3]", "value[4]", "value[5] SHA1"]
    assert _cli("hashset", "match", case).exit_code == 0
    assert _hits(case) == [("vics-13", "notable", "1", "17", "JS/1", "/a.txt", "md5", a["md5"]),
                           ("vics-13", "notable", "1", "17", "JS/1", "/a.txt", "sha1", a["sha1"]),
                           ("vics-13", "notable", "2", "18", "JS/1", "/c.bin", "sha256", c["sha256"])]


def test_caid_export_import(case: Path, tmp_path: Path) -> None:
    caid = _vics(tmp_path / "caid.json", [{"MediaID": 5, "Category": 1, "MD5": H["b.txt"]["md5"]}], key="@odata.context")
    done = _cli("hashset", "import", case, "caid", caid, "--kind", "notable", "--format", "caid")
    assert done.exit_code == 0, done.output
    assert _info(case, "caid")["file_format"] == "caid"
    assert [(r["algorithm"], r["category"], r["set_entry_id"]) for r in _set_rows(case, "caid")] == [("md5", "1", "5")]


# ---------------------------------------------------------------- hostile input


@pytest.mark.parametrize(("name", "content", "claimed", "message"), [
    ("truncated.json", b'{"odata.metadata": "x", "value": [{"MediaID": 1, "MD5": "' + b"a" * 32 + b'"}, {"Media', "auto", "not complete, valid JSON"),
    ("notlist.json", b'{"odata.metadata": "x", "value": {"MediaID": 1}}', "auto", "`value` is not a list"),
    ("scalar.json", b'{"odata.metadata": "x", "value": 3}', "auto", "`value` is not a list"),
    ("novalue.json", b'{"odata.metadata": "x", "items": []}', "auto", "without a `value` list"),
    ("array.json", b'[{"MD5": "' + b"a" * 32 + b'"}]', "vics", "not an object"),
    ("deep.json", b'{"value": [{"x": ' + b"[" * 100 + b"]" * 100 + b"}]}", "auto", "nested deeper than 64"),
    ("empty.txt", b"", "auto", "no hash could be read"),
    ("comments.txt", b"# only a comment\n\n", "auto", "no hash could be read"),
    ("binary.bin", b"\x7fELF\x00\x01" + b"a" * 40, "auto", "holds NUL bytes"),
    ("plain-as-nsrl.txt", (("a" * 32) + "\n").encode(), "nsrl", "not an SQLite database"),
    ("plain-as-vics.txt", (("a" * 32) + "\n").encode(), "vics", "not complete, valid JSON"),
])
def test_a_file_not_of_its_format_is_refused(case: Path, tmp_path: Path, name: str, content: bytes, claimed: str, message: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    done = _cli("hashset", "import", case, "bad", path, "--kind", "notable", "--format", claimed)
    assert done.exit_code == 2, done.output
    assert message in done.output
    assert not (case / "hashsets").exists()
    assert [e["action"] for e in read_events(case)] == ["ingest_started", "ingested"]
    assert [p.name for p in case.iterdir() if p.name.startswith(".hashsets.partial")] == []


@pytest.mark.parametrize("name", ["../escape", "a/b", "..", ".", ".hidden", "", "x" * 65, "nul\x00", "sp ace", "_under"])
def test_unsafe_set_names_are_refused(case: Path, tmp_path: Path, name: str) -> None:
    listing = tmp_path / "l.txt"
    listing.write_text("a" * 32 + "\n")
    done = _cli("hashset", "import", case, name, listing, "--kind", "known")
    assert done.exit_code == 2
    assert "not a safe folder name" in done.output
    assert not (case / "hashsets").exists() and not (case.parent / "escape").exists()


def test_wrong_length_non_hex_and_a_huge_line_are_counted(case: Path, tmp_path: Path) -> None:
    path = tmp_path / "mixed.txt"
    path.write_bytes(b"a" * 31 + b"\n" + b"g" * 32 + b"\n" + b"f" * 300_000 + b"\n" + H["d.txt"]["sha1"].encode() + b"  d.txt\n"
                     + b"\xff\xfe" + b"1" * 30 + b"\n" + b"b" * 32 + b" \xe9t\xe9.txt")
    done = _cli("hashset", "import", case, "mixed", path, "--kind", "known")
    assert done.exit_code == 1, done.output
    info = _info(case, "mixed")
    assert info["skipped"] == {"line_too_long": 1, "not_hex": 2, "wrong_length": 1}
    assert info["counts"] == {"md5": 1, "sha1": 1, "sha256": 0}
    assert [(r["set_entry_id"], r["set_entry_name"]) for r in _set_rows(case, "mixed")] == [("6", "\\xe9t\\xe9.txt"), ("4", "d.txt")]


def test_nsrl_claimed_for_json_and_bad_memory_limit(case: Path, tmp_path: Path) -> None:
    vics = _vics(tmp_path / "v.json", [{"MD5": "a" * 32}])
    assert _cli("hashset", "import", case, "v", vics, "--kind", "known", "--format", "nsrl").exit_code == 2
    assert _cli("hashset", "import", case, "v", vics, "--kind", "known", "--memory-limit", "lots").exit_code == 2
    assert _cli("hashset", "import", case, "v", vics, "--kind", "known").exit_code == 0
    assert _cli("hashset", "match", case, "--memory-limit", "1; DROP").exit_code == 2


def test_match_without_sets_and_a_damaged_set(case: Path, tmp_path: Path) -> None:
    none = _cli("hashset", "match", case)
    assert none.exit_code == 2 and "holds no usable hash set" in none.output
    listing = tmp_path / "l.txt"
    listing.write_text(H["a.txt"]["md5"] + "\n")
    assert _cli("hashset", "import", case, "good", listing, "--kind", "known").exit_code == 0
    assert _cli("hashset", "import", case, "bad", listing, "--kind", "known").exit_code == 0
    (case / "hashsets" / "bad" / "hashset.parquet").write_bytes(b"not parquet")
    done = _cli("hashset", "match", case)
    assert done.exit_code == 1
    assert "hash set 'bad'" in done.output and "not used" in done.output
    assert [r[0] for r in _hits(case)] == ["good"]


def test_an_exhibit_named_hashsets_keeps_its_folder(tmp_path: Path) -> None:
    source = tmp_path / "seized"
    source.mkdir()
    (source / "a.txt").write_bytes(FILES["a.txt"])
    assert run_ingest(source, tmp_path / "cases", case="C", exhibit="hashsets").exit_code == 0
    listing = tmp_path / "l.txt"
    listing.write_text(H["a.txt"]["md5"] + "\n")
    done = _cli("hashset", "import", tmp_path / "cases" / "C", "s", listing, "--kind", "known")
    assert done.exit_code == 2 and "is the sealed exhibit named 'hashsets'" in done.output
    assert sorted(p.name for p in (tmp_path / "cases" / "C" / "hashsets").iterdir()) == [
        "artefacts.parquet", "errors.parquet", "identifiers.parquet", "manifest.json", "media.parquet", "messages.parquet", "sources.parquet"]


def test_a_failed_custody_append_takes_the_set_back(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from manifests import custody

    listing = tmp_path / "l.txt"
    listing.write_text(H["a.txt"]["md5"] + "\n")
    assert _cli("hashset", "import", case, "kept", listing, "--kind", "known").exit_code == 0
    before = _info(case, "kept")

    def full_disk(*args, **kwargs):
        raise custody.CustodyError("the ledger cannot be written (simulated full disk)")

    monkeypatch.setattr(custody, "append", full_disk)
    listing.write_text(H["b.txt"]["md5"] + "\n")
    for name in ("kept", "new"):
        done = _cli("hashset", "import", case, name, listing, "--kind", "known", "--replace")
        assert done.exit_code == 2 and "simulated full disk" in done.output
    assert sorted(p.name for p in (case / "hashsets").iterdir()) == ["kept"]
    assert _info(case, "kept") == before  # the replaced set is back as it was
    assert [p.name for p in case.iterdir() if p.name.startswith(".hashsets.partial")] == []


def test_query_reads_hash_hits_and_passes_the_hashsets_folder_by(case: Path, tmp_path: Path) -> None:
    listing = tmp_path / "l.txt"
    listing.write_text(H["a.txt"]["md5"] + "\n" + H["c.bin"]["sha256"] + "\n")
    assert _cli("hashset", "import", case, "n", listing, "--kind", "notable").exit_code == 0
    assert _cli("hashset", "match", case).exit_code == 0
    done = _cli("query", case, "SELECT h.set_name, a.path, h.algorithm FROM hash_hits h JOIN artefacts a USING (exhibit_id, entry_index) "
                "ORDER BY 2", "--format", "csv")
    assert done.exit_code == 0, done.output
    assert done.stdout.splitlines() == ["set_name,path,algorithm", "n,/a.txt,md5", "n,/c.bin,sha256"]
    assert "hashsets" not in done.stderr


def test_name_rules() -> None:
    assert hashsets.name_problem("NSRL_2026.09-modern") is None
    assert hashsets.name_problem("../x") is not None


def test_a_case_lock_that_cannot_be_opened_never_costs_the_exhibit(case: Path, tmp_path: Path) -> None:
    listing = tmp_path / "l.txt"
    listing.write_text(H["d.txt"]["sha1"] + "\n")
    assert _cli("hashset", "import", case, "k", listing, "--kind", "known").exit_code == 0
    lock = case / hashsets.LOCK_NAME
    lock.unlink()
    lock.mkdir()  # what a lock owned by another examiner, or a damaged case, looks like to open()
    source = tmp_path / "seized2"
    source.mkdir()
    (source / "d.txt").write_bytes(FILES["d.txt"])
    done = run_ingest(source, case.parent, case="OP/1", exhibit="JS/2")
    assert done.exit_code == 0, done.output  # warnings only: the exhibit is published
    manifest = json.loads((case / "JS%2F2" / "manifest.json").read_text())
    assert manifest["hash_set_hits"] == []
    errors = pq.read_table(case / "JS%2F2" / "errors.parquet").to_pylist()
    assert [(e["stage"], e["error_kind"], e["severity"]) for e in errors] == [("hashsets", "hash_set_match_failed", "warning")]
    assert "Is a directory" in errors[0]["message"]


def test_ingest_joins_once_and_publishes_what_match_gives(case: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    listing = tmp_path / "l.txt"
    listing.write_text("\n".join([H["a.txt"]["md5"], H["d.txt"]["sha1"], H["b.txt"]["sha256"], H["c.bin"]["md5"]]) + "\n")
    assert _cli("hashset", "import", case, "k", listing, "--kind", "known").exit_code == 0
    assert _cli("hashset", "match", case).exit_code == 0
    joins = []
    real = hashsets._stage_hits
    monkeypatch.setattr(hashsets, "_stage_hits", lambda *args: joins.append(args) or real(*args))
    scratch = tmp_path / "scratch"
    monkeypatch.setenv("EXHIBIT_SCRATCH", str(scratch))
    source = tmp_path / "seized2"
    source.mkdir()
    for name in ("d.txt", "b.txt", "c.bin"):
        (source / name).write_bytes(FILES[name])
    done = run_ingest(source, case.parent, case="OP/1", exhibit="JS/2")
    assert done.exit_code == 0, done.output
    assert ", 3 hash-set hits, " in done.output
    assert len(joins) == 1  # counted before sealing; the same rows merged after publishing, never joined again
    assert list(scratch.iterdir()) == []  # the hit rows' temporary file is gone
    assert not (case / "JS%2F2" / "hash_hits.parquet").exists()
    assert not hasattr(hashsets, "match_exhibit")
    published = pq.read_table(case / "hash_hits.parquet")
    assert [(r[4], r[5], r[6]) for r in _hits(case)] == [
        ("JS/1", "/a.txt", "md5"), ("JS/1", "/b.txt", "sha256"), ("JS/1", "/c.bin", "md5"), ("JS/1", "/d.txt", "sha1"),
        ("JS/2", "/b.txt", "sha256"), ("JS/2", "/c.bin", "md5"), ("JS/2", "/d.txt", "sha1")]
    assert _cli("hashset", "match", case).exit_code == 0
    rebuilt = pq.read_table(case / "hash_hits.parquet")
    assert published.equals(rebuilt) and published.schema.equals(rebuilt.schema, check_metadata=True)


def test_an_interrupted_custody_append_takes_the_set_back_and_the_interrupt_goes_on(case: Path, tmp_path: Path,
                                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from manifests import custody

    listing = tmp_path / "l.txt"
    listing.write_text(H["a.txt"]["md5"] + "\n")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(custody, "append", interrupted)
    request = hashsets.ImportRequest(case_dir=case, case_id="OP/1", name="s", source=listing, kind="known")
    with pytest.raises(KeyboardInterrupt):
        hashsets.import_set(request)
    assert not (case / "hashsets").exists()  # the case holds no set again, as before
    assert [p.name for p in case.iterdir() if p.name.startswith(".hashsets.partial")] == []


def test_a_tampered_set_table_is_refused_by_its_sha256(case: Path, tmp_path: Path) -> None:
    listing = tmp_path / "l.txt"
    listing.write_text(H["a.txt"]["md5"] + "\n")
    assert _cli("hashset", "import", case, "good", listing, "--kind", "known").exit_code == 0
    assert _cli("hashset", "import", case, "bad", listing, "--kind", "known").exit_code == 0
    table = case / "hashsets" / "bad" / "hashset.parquet"
    data = bytearray(table.read_bytes())
    data[8] ^= 0x01  # one bit inside the first page: same size, same footer and row count
    table.write_bytes(bytes(data))
    recorded = _info(case, "bad")["table_sha256"]
    digest = hashlib.sha256(bytes(data)).hexdigest()
    sets, problems = hashsets.list_sets(case)
    assert [s.name for s in sets] == ["good"]
    assert problems == [f"hash set 'bad': hashset.parquet has SHA-256 {digest}, not the {recorded!r} hashset.json records "
                        "(changed since it was imported); not used"]
    done = _cli("hashset", "match", case)
    assert done.exit_code == 1 and "changed since it was imported" in done.output
    assert [r[0] for r in _hits(case)] == ["good"]


def test_empty_content_hashes_match_no_empty_file_and_are_counted(tmp_path: Path) -> None:
    source = tmp_path / "seized"
    source.mkdir()
    (source / "a.txt").write_bytes(FILES["a.txt"])
    (source / "empty1").write_bytes(b"")
    (source / "empty2").write_bytes(b"")
    assert run_ingest(source, tmp_path / "cases", case="C", exhibit="E1").exit_code == 0
    case_dir = tmp_path / "cases" / "C"
    listing = tmp_path / "l.txt"
    listing.write_text("\n".join([hashsets.EMPTY_HASHES["md5"], hashsets.EMPTY_HASHES["sha256"], H["a.txt"]["md5"]]) + "\n")
    assert _cli("hashset", "import", case_dir, "s", listing, "--kind", "notable").exit_code == 0
    done = CliRunner().invoke(main, ["hashset", "match", str(case_dir)], catch_exceptions=False)
    assert done.exit_code == 0
    assert done.output.splitlines()[1].split() == ["s", "notable", "E1", "1", "1"]
    assert "note: 2 empty files of E1 not reported as hits of s (the set holds the hash of empty content)" in done.output
    assert [(r[4], r[5], r[6]) for r in _hits(case_dir)] == [("E1", "/a.txt", "md5")]
    (source / "empty3").write_bytes(b"")
    assert run_ingest(source, tmp_path / "cases", case="C", exhibit="E2").exit_code == 0
    sealed = json.loads((case_dir / "E2" / "manifest.json").read_text())["hash_set_hits"]
    assert [(h["set"], h["artefacts"], h["rows"], h["empty_files_skipped"]) for h in sealed] == [("s", 1, 1, 3)]
    assert [(r[4], r[5]) for r in _hits(case_dir)] == [("E1", "/a.txt"), ("E2", "/a.txt")]


def test_a_stray_folder_in_the_case_is_named_and_passed_by(case: Path, tmp_path: Path) -> None:
    listing = tmp_path / "l.txt"
    listing.write_text(H["a.txt"]["md5"] + "\n")
    assert _cli("hashset", "import", case, "k", listing, "--kind", "known").exit_code == 0
    (case / "notes").mkdir()
    (case / "notes" / "todo.txt").write_text("not an exhibit")
    done = CliRunner().invoke(main, ["hashset", "match", str(case)], catch_exceptions=False)
    assert done.exit_code == 1
    assert done.output.splitlines() == [
        f"{'set':<24} {'kind':<8} {'exhibit':<24} {'artefacts':>10} {'hits':>10}",
        f"{'k':<24} {'known':<8} {'JS/1':<24} {1:>10} {1:>10}",
        "problem: exhibit folder notes: manifest.json is missing; not matched",
        f"1 hit row in 1 exhibit -> {case / 'hash_hits.parquet'}"]
    assert [(r[4], r[5]) for r in _hits(case)] == [("JS/1", "/a.txt")]
    named = _cli("hashset", "match", case, "--exhibit", "notes")
    assert named.exit_code == 2 and "no such sealed exhibit folder" in named.output


def test_the_manifest_tells_no_set_from_no_usable_set(case: Path, tmp_path: Path) -> None:
    listing = tmp_path / "l.txt"
    listing.write_text(H["a.txt"]["md5"] + "\n")
    assert _cli("hashset", "import", case, "bad", listing, "--kind", "known").exit_code == 0
    (case / "hashsets" / "bad" / "hashset.parquet").write_bytes(b"not parquet")
    source = tmp_path / "seized2"
    source.mkdir()
    (source / "a.txt").write_bytes(FILES["a.txt"])
    done = run_ingest(source, case.parent, case="OP/1", exhibit="JS/2")
    assert done.exit_code == 0, done.output
    sealed = [json.loads((case / folder / "manifest.json").read_text()) for folder in ("JS%2F1", "JS%2F2")]
    assert [(m["hash_set_hits"], m["hash_set_status"], m["hash_sets_unusable"]) for m in sealed] == [
        ([], "no_set", 0), ([], "no_usable_set", 1)]
    report_file = tmp_path / "report.csv"
    assert _cli("report", case, "--format", "csv", "--output", report_file).exit_code in (0, 1)
    with report_file.open(encoding="utf-8", newline="") as handle:
        cells = [tuple(row) for row in csv.reader(handle)]
    assert [row for row in cells if row[1] == "Hash sets" and row[2] == "matched at ingest"] == [
        ("JS/1", "Hash sets", "matched at ingest", "none: the case held no hash set when the exhibit was sealed"),
        ("JS/2", "Hash sets", "matched at ingest", "not matched: the case held 1 hash set, none of which could be used when the "
                                                   "exhibit was sealed (warnings hash_set_unusable)")]
    assert [row[3] for row in cells if row[1] == "Summary" and row[2] == "hash-set hits"] == ["0", "\u2014"]


def test_an_nsrl_row_not_utf8_is_skipped_and_counted(case: Path, tmp_path: Path) -> None:
    b, a = H["b.txt"], H["a.txt"]
    rds = _rds(tmp_path / "rds.db", [(7, b["sha256"], b["sha1"], b["md5"], "0", "b.txt", 5, "txt"),
                                     (8, a["sha256"], a["sha1"], a["md5"], "0", "a.txt", 5, "txt")])
    db = sqlite3.connect(rds)
    db.execute("UPDATE METADATA SET file_name = CAST(X'61FF62' AS TEXT) WHERE package_id = 8")  # invalid UTF-8 text
    db.commit()
    db.close()
    done = _cli("hashset", "import", case, "n", rds, "--kind", "known")
    assert done.exit_code == 1, done.output
    info = _info(case, "n")
    assert info["skipped"] == {"row_not_utf8": 1} and info["counts"] == {"md5": 1, "sha1": 1, "sha256": 1}
    assert [e["where"] for e in info["skipped_examples"]] == ["FILE row 2"]
    assert "skipped 1 row_not_utf8" in done.output
    assert ", 1 entries skipped" in read_events(case)[-1]["notes"]


def test_a_vics_file_with_a_byte_order_mark_imports(case: Path, tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    body = json.dumps({"odata.metadata": "http://github.com/ICMEC/ProjectVic/DataModels/1.3.xml#Media",
                       "value": [{"MediaID": 1, "Category": 1, "MD5": H["a.txt"]["md5"].upper()}]})
    path.write_bytes(b"\xef\xbb\xbf" + body.encode())
    done = _cli("hashset", "import", case, "v", path, "--kind", "notable", "--format", "vics")
    assert done.exit_code == 0, done.output
    assert [(r["algorithm"], r["hash"], r["category"], r["set_entry_id"]) for r in _set_rows(case, "v")] == [
        ("md5", H["a.txt"]["md5"], "1", "1")]


def test_a_vics_string_over_the_field_budget_is_refused_in_linear_time(case: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    path = tmp_path / "huge.json"
    path.write_bytes(b'{"odata.metadata": "x", "value": [{"MediaID": 1, "MD5": "' + b"a" * (4 << 20) + b'"}]}')
    monkeypatch.setenv("EXHIBIT_VICS_MAX_FIELD_BYTES", str(1 << 20))
    began = time.monotonic()
    done = _cli("hashset", "import", case, "v", path, "--kind", "notable", "--format", "vics")
    assert time.monotonic() - began < 5
    assert done.exit_code == 2
    assert "huge.json: a field or token longer than 1,048,576 bytes (the budget; set EXHIBIT_VICS_MAX_FIELD_BYTES" in done.output
    assert not (case / "hashsets").exists()
    monkeypatch.setenv("EXHIBIT_VICS_MAX_FIELD_BYTES", str(8 << 20))  # within a larger budget the string is read, and counted
    done = _cli("hashset", "import", case, "v", path, "--kind", "notable", "--format", "vics")
    assert done.exit_code == 2 and "no hash could be read" in done.output


def test_nsrl_version_is_read_by_column_name(case: Path, tmp_path: Path) -> None:
    b = H["b.txt"]
    rds = _rds(tmp_path / "rds.db", [(7, b["sha256"], b["sha1"], b["md5"], "0", "b.txt", 5, "txt")])
    db = sqlite3.connect(rds)
    db.execute("DROP TABLE VERSION")
    db.execute("CREATE TABLE VERSION (build_set TEXT, description TEXT, version TEXT, release_date TEXT)")
    db.execute("INSERT INTO VERSION VALUES ('modern', CAST(X'61FF' AS TEXT), '2026.12.1', '2026-12-01')")
    db.commit()
    db.close()
    assert _cli("hashset", "import", case, "n", rds, "--kind", "known").exit_code == 0
    assert _info(case, "n")["file_facts"]["nsrl_version"] == {"build_set": "modern", "description": "a\\xff", "version": "2026.12.1",
                                                              "release_date": "2026-12-01"}
