"""`exhibit verify` on hostile case folders: malformed manifests and ledgers, parts that climb out or are
symbolic links, a case with nothing sealed, re-hashing a folder source. Each is a FAIL line and exit 1,
never a traceback and never the ingest's "nothing was published"."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner, Result

from ingest.cli import main
from manifests import custody, verify
from manifests.custody import LEDGER_NAME, read_events
from manifests.schemas import CUSTODY


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(case folder, lab public key, evidence folder) after a signed ingest of a small folder source."""
    root = tmp_path_factory.mktemp("hostile")
    assert CliRunner().invoke(main, ["keys", "generate", "--name", "lab", "--out", str(root / "keys")]).exit_code == 0
    evidence = root / "evidence"
    (evidence / "DCIM").mkdir(parents=True)
    (evidence / "DCIM" / "a.jpg").write_bytes(b"\xff\xd8\xff\xe0 not much of a photo")
    (evidence / "notes.txt").write_bytes(b"meet at the usual place\n")
    result = CliRunner().invoke(main, ["ingest", str(evidence), "--case", "OP-3", "--exhibit", "E", "--out", str(root / "cases"),
                                       "--workers", "1", "--signing-key", str(root / "keys" / "lab.key")])
    assert result.exit_code == 0, result.output
    return root / "cases" / "OP-3", root / "keys" / "lab.pub", evidence


def _copy(sealed: tuple[Path, Path, Path], tmp_path: Path) -> Path:
    copy = tmp_path / "OP-3"
    shutil.copytree(sealed[0], copy, symlinks=True)
    return copy


def _verify(case_dir: Path, key: Path, *extra: str) -> Result:
    result = CliRunner().invoke(main, ["verify", str(case_dir), "--trusted-key", str(key), *extra])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output and "nothing was published" not in result.output
    return result


def _manifest(case_dir: Path) -> dict:
    return json.loads((case_dir / "E" / "manifest.json").read_text())


def _write(case_dir: Path, manifest: object) -> None:
    (case_dir / "E" / "manifest.json").write_text(json.dumps(manifest))


def test_folder_source_verifies_and_rehashes(sealed: tuple[Path, Path, Path]) -> None:
    case_dir, key, evidence = sealed
    result = _verify(case_dir, key, "--rehash-source")
    assert result.exit_code == 0, result.output
    assert f"OK   E: source folder {evidence}: 2 of 2 files listed with a SHA-256 in artefacts.parquet hash as recorded" in result.output
    assert _manifest(case_dir)["source"]["kind"] == "directory"
    assert result.output.splitlines()[-1] == "VERIFIED: 16 checks hold"


@pytest.mark.parametrize(
    ("raw", "line"),
    [
        (b"{not json", "FAIL E: manifest: manifest.json cannot be read as JSON: JSONDecodeError: Expecting property name enclosed in double quotes: "
                       "line 1 column 2 (char 1)"),
        (b"\xff\xfe{}", "FAIL E: manifest: manifest.json cannot be read as JSON: UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in "
                        "position 0: invalid start byte"),
        (b"[" * 100_000, "FAIL E: manifest: manifest.json cannot be read as JSON: RecursionError: maximum recursion depth exceeded"),
        (b"[1, 2]", "FAIL E: manifest: manifest.json holds a JSON list, not an object"),
        (b'{"root_digest": "a", "parts": [], "root_digest": "b"}',
         "FAIL E: manifest: manifest.json cannot be read as JSON: ValueError: the key 'root_digest' appears more than once in one object"),
        (b"", "FAIL E: manifest: manifest.json cannot be read as JSON: JSONDecodeError: Expecting value: line 1 column 1 (char 0)"),
    ],
)
def test_unreadable_manifest_is_a_fail_line(sealed: tuple[Path, Path, Path], tmp_path: Path, raw: bytes, line: str) -> None:
    copy = _copy(sealed, tmp_path)
    (copy / "E" / "manifest.json").write_bytes(raw)
    result = _verify(copy, sealed[1])
    assert result.exit_code == 1
    assert any(out.startswith(line) for out in result.output.splitlines()), result.output
    assert "FAIL E: custody: cannot be checked: manifest.json" in result.output
    assert result.output.splitlines()[-1].startswith("NOT VERIFIED: E manifest, E custody (2 of ")


def _set(path: tuple, value: object):
    def change(manifest: dict) -> dict:
        target = manifest
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        return manifest
    return change


@pytest.mark.parametrize(
    ("change", "line"),
    [
        (_set(("parts",), "artefacts.parquet"), "FAIL E: manifest: 'parts' is str, not a list of parts"),
        (_set(("parts", 0), "artefacts.parquet"), "FAIL E: part #0: the manifest's part entry is a str, not an object: 'artefacts.parquet'"),
        (_set(("parts", 0, "size"), "16559"), "FAIL E: part artefacts.parquet: malformed part entry: size '16559' is not int"),
        (_set(("parts", 0, "rows"), True), "FAIL E: part artefacts.parquet: malformed part entry: rows True is not int"),
        (_set(("parts", 0, "sha256"), None), "FAIL E: part artefacts.parquet: malformed part entry: sha256 None is not str"),
        (_set(("parts", 0, "name"), 7), "FAIL E: part #0: name 7 is not a non-empty string"),
        (_set(("parts", 0, "name"), "../../x"), "FAIL E: part #0: name '../../x' is not a plain file name inside the folder (a path, '..' or NUL); not opened"),
        (_set(("parts", 0, "name"), "/etc/passwd"), "FAIL E: part #0: name '/etc/passwd' is not a plain file name inside the folder (a path, '..' or NUL); not opened"),
        (_set(("parts", 0, "name"), "\ud800.parquet"), "FAIL E: part #0: name '\\ud800.parquet' holds characters no file name can (a lone surrogate); not opened"),
        (_set(("parts", 0, "name"), ".."), "FAIL E: part #0: name '..' is not a plain file name inside the folder (a path, '..' or NUL); not opened"),
        (_set(("signature",), "c2lnbmVk"), "FAIL E: signature: malformed signature entry 'c2lnbmVk'"),
        (_set(("signature", "value"), 12), "FAIL E: signature: malformed signature entry"),
        (_set(("source", "hash_checks"), "none"), "FAIL E: acquisition hashes: source.hash_checks is str, not a list"),
        (_set(("source", "hash_checks"), ["md5"]), "FAIL E: acquisition hash #0: malformed entry 'md5'"),
        (_set(("custody_head",), "event 1"), "FAIL E: custody anchor: the manifest records no custody head (custody_head missing or not an object)"),
        (_set(("custody_head", "event_index"), "1"), "FAIL E: custody anchor: the manifest's custody_head is malformed: {'event_index': '1', "),
        (_set(("exhibit_id",), ["E"]), "FAIL E: exhibit id: the manifest names exhibit ['E'], but its folder is that of 'E'"),
        (_set(("root_digest",), 5), "FAIL E: root digest: recorded 5, computed "),
    ],
)
def test_malformed_manifest_fields_are_fail_lines(sealed: tuple[Path, Path, Path], tmp_path: Path, change, line: str) -> None:
    copy = _copy(sealed, tmp_path)
    _write(copy, change(_manifest(copy)))
    result = _verify(copy, sealed[1])
    assert result.exit_code == 1
    assert any(out.startswith(line) for out in result.output.splitlines()), result.output


def test_climbing_part_names_are_never_opened(sealed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    copy = _copy(sealed, tmp_path)
    outside = tmp_path / "outside.parquet"
    shutil.copy(copy / "E" / "errors.parquet", outside)
    manifest = _manifest(copy)
    manifest["parts"] += [dict(manifest["parts"][1], name=f"../../{outside.name}"), dict(manifest["parts"][1], name=str(outside))]
    _write(copy, manifest)
    result = _verify(copy, sealed[1])
    assert result.exit_code == 1
    assert result.output.count(f"{outside.name}' is not a plain file name inside the folder (a path, '..' or NUL); not opened") == 2
    assert [line.split(":")[1] for line in result.output.splitlines() if manifest["parts"][1]["sha256"] in line] == [" part errors.parquet"]


def test_symlinked_part_is_not_followed(sealed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """The link points at an identical copy, so only refusing the link itself can fail it."""
    copy = _copy(sealed, tmp_path)
    outside = tmp_path / "elsewhere.parquet"
    shutil.copy(copy / "E" / "artefacts.parquet", outside)
    (copy / "E" / "artefacts.parquet").unlink()
    (copy / "E" / "artefacts.parquet").symlink_to(outside)
    result = _verify(copy, sealed[1])
    assert result.exit_code == 1
    assert f"FAIL E: part artefacts.parquet: is a symbolic link (to '{outside}'); not followed" in result.output


def test_link_to_a_fifo_and_a_fifo_part_do_not_hang(sealed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    copy = _copy(sealed, tmp_path)
    os.mkfifo(tmp_path / "pipe")
    (copy / "E" / "errors.parquet").unlink()
    (copy / "E" / "errors.parquet").symlink_to(tmp_path / "pipe")
    (copy / "E" / "media.parquet").unlink()
    os.mkfifo(copy / "E" / "media.parquet")
    result = _verify(copy, sealed[1])
    assert result.exit_code == 1
    assert f"FAIL E: part errors.parquet: is a symbolic link (to '{tmp_path / 'pipe'}'); not followed" in result.output
    assert "FAIL E: part media.parquet: is not a regular file; not read" in result.output


def test_symlinked_manifest_exhibit_folder_and_ledger_are_refused(sealed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    copy = _copy(sealed, tmp_path)
    shutil.copy(copy / "E" / "manifest.json", tmp_path / "manifest.json")
    (copy / "E" / "manifest.json").unlink()
    (copy / "E" / "manifest.json").symlink_to(tmp_path / "manifest.json")
    shutil.move(copy / LEDGER_NAME, tmp_path / LEDGER_NAME)
    (copy / LEDGER_NAME).symlink_to(tmp_path / LEDGER_NAME)
    result = _verify(copy, sealed[1])
    assert result.exit_code == 1
    assert "FAIL E: manifest: manifest.json is a symbolic link; not followed" in result.output
    assert "FAIL custody ledger: custody.parquet is a symbolic link; not followed" in result.output
    second = tmp_path / "second"
    second.mkdir()
    moved = _copy(sealed, second)
    shutil.move(moved / "E", second / "E-real")
    (moved / "E").symlink_to(second / "E-real")
    result = _verify(moved, sealed[1])
    assert "FAIL E: exhibit folder: is a symbolic link; not followed" in result.output


def _ledger_table(rows: list[dict], schema: pa.Schema) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=schema)


@pytest.mark.parametrize(
    ("damage", "line"),
    [
        ("garbage", "FAIL custody ledger: custody.parquet is not a readable Parquet file: "),
        ("empty file", "FAIL custody ledger: custody.parquet is not a readable Parquet file: "),
        ("index as text", "FAIL custody ledger: custody.parquet has columns of the wrong type: event_index is string, not int64"),
        ("missing column", "FAIL custody ledger: custody.parquet has columns ['case_id', 'event_index', 'exhibit_id', 'action', 'actor_role'"),
        ("null actor", "FAIL custody ledger: custody.parquet: the event at position 1 has no actor_name"),
        ("directory", "FAIL custody ledger: custody.parquet is not a regular file; not read"),
    ],
)
def test_malformed_ledger_is_a_fail_line(sealed: tuple[Path, Path, Path], tmp_path: Path, damage: str, line: str) -> None:
    copy = _copy(sealed, tmp_path)
    ledger = copy / LEDGER_NAME
    rows = read_events(copy)
    schema = CUSTODY.arrow_schema()
    if damage == "garbage":
        ledger.write_bytes(b"PAR1 this is not parquet at all PAR1")
    elif damage == "empty file":
        ledger.write_bytes(b"")
    elif damage == "index as text":
        table = _ledger_table(rows, schema)
        pq.write_table(table.set_column(1, "event_index", pa.array([str(r["event_index"]) for r in rows])), ledger)
    elif damage == "missing column":
        pq.write_table(_ledger_table(rows, schema).drop_columns(["actor_name"]), ledger)
    elif damage == "null actor":
        loose = pa.schema([field.with_nullable(True) for field in schema], metadata=schema.metadata)
        pq.write_table(_ledger_table([rows[0], dict(rows[1], actor_name=None)], loose), ledger)
    else:
        ledger.unlink()
        ledger.mkdir()
    result = _verify(copy, sealed[1])
    assert result.exit_code == 1
    assert any(out.startswith(line) for out in result.output.splitlines()), result.output
    assert "FAIL E: custody anchor: cannot be checked: custody.parquet" in result.output
    shown = CliRunner().invoke(main, ["custody", "show", str(copy)])
    assert shown.exit_code == 1 and shown.output.startswith(line.replace("FAIL custody ledger: ", "FAIL "))
    assert custody.read_ledger(copy).events == [] and custody.latest_seal(copy, "E") is None
    checks = verify.verify_case(copy, [("E", copy / "E")], [])
    assert not all(check.ok for check in checks)


def test_library_functions_do_not_raise_on_a_malformed_manifest(sealed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    copy = _copy(sealed, tmp_path)
    _write(copy, {"parts": [None, {"name": "x"}], "source": [], "signature": [1], "custody_head": None})
    checks = verify.verify_case(copy, [("E", copy / "E")], [], rehash=True)
    failed = [(c.exhibit, c.what) for c in checks if not c.ok]
    assert ("E", "part #0") in failed and ("E", "part x") in failed and ("E", "signature") in failed and ("E", "source") in failed
    assert verify.recorded_root_digest(copy / "E") is None
    assert verify.verdict(checks).startswith("NOT VERIFIED: ")


def test_acquisition_hash_checks() -> None:
    def checks(*entries: dict) -> list[tuple[str, bool, str]]:
        return [(c.what, c.ok, c.detail) for c in verify.acquisition_checks({"source": {"hash_checks": list(entries)}})]

    assert checks({"origin": "expected", "algorithm": "md5", "expected": "00", "computed": "ab", "is_match": False},
                  {"origin": "ewf", "algorithm": "sha1", "expected": "cd", "computed": "cd", "is_match": True},
                  {"origin": "ewf", "algorithm": "md5", "expected": "ef", "computed": None, "is_match": None}) == [
        ("acquisition hash expected md5", False, "expected 00, computed ab: MISMATCH"),
        ("acquisition hash ewf sha1", True, "expected cd, computed cd: MATCH"),
        ("acquisition hash ewf md5", False, "expected ef, computed None: could not be compared (the media was not hashed whole)")]
    # A seal from before the column vocabulary wrote "match": it fails by name, never as "could not be compared".
    assert checks({"origin": "expected", "algorithm": "md5", "expected": "cd", "computed": "cd", "match": True}) == [
        ("acquisition hash expected md5", False, "expected cd, computed cd: recorded as 'match' by an Exhibit before the column "
         "vocabulary (this version reads 'is_match'); verify it with the version that sealed it")]
    assert verify.acquisition_checks({"source": None}) == [] and verify.acquisition_checks({}) == []


def test_mismatching_expected_hash_fails_verify(tmp_path: Path) -> None:
    from tests.conftest import require_tool

    require_tool("mkfs.ext4")
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    from make_sample import build_sample

    image = build_sample(tmp_path / "img")
    import hashlib

    digest = hashlib.sha256(image.read_bytes()).hexdigest()
    md5 = hashlib.md5(image.read_bytes()).hexdigest()
    ingest = CliRunner().invoke(main, ["ingest", str(image), "--case", "C", "--exhibit", "E", "--out", str(tmp_path / "cases"), "--workers", "1",
                                       "--expected-hash", f"sha256:{digest}", "--expected-hash", "md5:" + "0" * 32])
    assert ingest.exit_code == 1, ingest.output
    result = CliRunner().invoke(main, ["verify", str(tmp_path / "cases" / "C")])
    assert result.exit_code == 1
    assert f"OK   E: acquisition hash expected sha256: expected {digest}, computed {digest}: MATCH" in result.output
    assert f"FAIL E: acquisition hash expected md5: expected {'0' * 32}, computed {md5}: MISMATCH" in result.output


def test_rehash_folder_source_catches_changes_without_following_links(sealed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    case_dir, key, evidence = sealed
    copy = _copy(sealed, tmp_path)
    changed = tmp_path / "evidence"
    shutil.copytree(evidence, changed)
    manifest = _manifest(copy)
    manifest["source"]["path"] = str(changed)
    _resealed(copy, manifest, key.with_suffix(".key"))  # sealed again by the lab: only a trusted seal may direct reads
    (changed / "notes.txt").write_bytes(b"meet at the other place\n")
    result = _verify(copy, key, "--rehash-source")
    recorded = {r["path_bytes"]: r["sha256"] for r in pq.read_table(copy / "E" / "artefacts.parquet", columns=["path_bytes", "sha256"]).to_pylist()}
    import hashlib

    now = hashlib.sha256(b"meet at the other place\n").hexdigest()
    assert f"FAIL E: source file /notes.txt: sha256 {now} != recorded {recorded[b'/notes.txt']}" in result.output
    assert f"FAIL E: source folder {changed}: 1 of 2 files listed with a SHA-256 in artefacts.parquet hash as recorded" in result.output
    real = tmp_path / "real-dcim"
    shutil.move(changed / "DCIM", real)
    (changed / "DCIM").symlink_to(real)
    (changed / "notes.txt").unlink()
    (changed / "notes.txt").symlink_to(evidence / "notes.txt")
    result = _verify(copy, key, "--rehash-source")
    assert "FAIL E: source file /DCIM/a.jpg: 'DCIM' on the way is a symbolic link or not a folder; not followed" in result.output
    assert "FAIL E: source file /notes.txt: is a symbolic link; not followed" in result.output
    assert f"FAIL E: source folder {changed}: 0 of 2 files listed" in result.output
    shutil.rmtree(changed)
    changed.mkdir()
    result = _verify(copy, key, "--rehash-source")
    assert "FAIL E: source file /notes.txt: missing" in result.output


def test_case_without_sealed_exhibits(tmp_path: Path, sealed: tuple[Path, Path, Path]) -> None:
    empty = tmp_path / "EMPTY"
    empty.mkdir()
    result = _verify(empty, sealed[1])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "FAIL custody ledger: custody.parquet is missing or empty",
        f"FAIL exhibits: no exhibit folder in {empty}: nothing sealed to verify",
        "custody ledger NOT VERIFIED: custody.parquet is missing or empty",
        "0 exhibit(s) checked, 2 check(s) failed",
        "NOT VERIFIED: custody ledger, exhibits (2 of 2 checks failed)"]
    copy = _copy(sealed, tmp_path)
    (copy / "unfinished").mkdir()
    result = _verify(copy, sealed[1])
    assert "FAIL unfinished: manifest: manifest.json is missing: the folder is not a sealed exhibit" in result.output


def test_summary_is_one_line_per_exhibit_with_failures_in_full(sealed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    copy = _copy(sealed, tmp_path)
    (copy / "E" / "stray.txt").write_text("added\n")
    result = _verify(copy, sealed[1], "--summary")
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "case (custody ledger): VERIFIED (4 checks)",
        "E: NOT VERIFIED (1 of 12 checks failed)",
        "FAIL E: part stray.txt: not listed in the manifest (a stray or added file)",
        "custody chain intact (2 events), every event validly signed by a trusted key: VERIFIED",
        "1 exhibit(s) checked, 1 check(s) failed",
        "NOT VERIFIED: E part stray.txt (1 of 16 checks failed)"]


def test_a_crash_in_verify_is_not_called_an_unpublished_run(sealed: tuple[Path, Path, Path], monkeypatch: pytest.MonkeyPatch,
                                                            capsys: pytest.CaptureFixture) -> None:
    from ingest import cli

    monkeypatch.setattr(verify, "verify_case", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    monkeypatch.setattr(sys, "argv", ["exhibit", "verify", str(sealed[0])])
    with pytest.raises(SystemExit) as stopped:
        cli.run()
    err = capsys.readouterr().err
    assert stopped.value.code == 3
    assert "nothing was published" not in err
    assert "exhibit: internal error (exit 3); this is a fault of exhibit, not a verdict on the case" in err


def test_huge_hostile_values_are_quoted_briefly(sealed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    copy = _copy(sealed, tmp_path)
    manifest = _manifest(copy)
    manifest["parts"][0] = "x" * 1_000_000
    manifest["parts"][1]["name"] = "n" * 100_000
    manifest["custody_head"] = {"event_index": [0] * 100_000, "event_sha256": "y" * 1_000_000}
    manifest["root_digest"] = "z" * 1_000_000
    manifest["signature"]["public_key_fingerprint"] = "f" * 1_000_000
    manifest["source"]["hash_checks"] = [{"origin": "o" * 1_000_000, "algorithm": "md5", "expected": "e" * 1_000_000, "is_match": False}]
    _write(copy, manifest)
    result = _verify(copy, sealed[1])
    assert result.exit_code == 1
    assert max(len(line) for line in result.output.splitlines()) < 1000
    lines = [line for line in result.output.splitlines() if line.startswith(("FAIL E: part #0", "FAIL E: custody anchor"))]
    assert len(lines) == 2
    assert "FAIL E: part #1: name 'nnnnnnnn" in result.output and "is longer than any file name (255 bytes); not opened" in result.output
    assert lines[0].startswith("FAIL E: part #0: the manifest's part entry is a str, not an object: 'xxxx")


def test_folder_name_that_encodes_no_id(sealed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    copy = _copy(sealed, tmp_path)
    shutil.copytree(copy / "E", copy / "%FF")
    result = _verify(copy, sealed[1])
    assert result.exit_code == 1
    assert "FAIL %FF: exhibit id: the folder name '%FF' is the encoding of no exhibit id (the manifest names 'E')" in result.output
    assert "FAIL %FF: custody: latest ingested event names seal None" in result.output
    assert "OK   E: exhibit id: the manifest names exhibit 'E'" in result.output


def _resealed(case_dir: Path, manifest: dict, private_key: Path) -> None:
    """The manifest rewritten and sealed again with the lab's key: root digest and signature hold, so its paths are read."""
    import base64

    from manifests.keys import fingerprint, load_private
    from manifests.seal import root_digest

    key = load_private(private_key)
    manifest["root_digest"] = root_digest(manifest)
    manifest["signature"] = {"algorithm": "Ed25519", "public_key_fingerprint": fingerprint(key.public_key()),
                             "value": base64.b64encode(key.sign(bytes.fromhex(manifest["root_digest"]))).decode()}
    _write(case_dir, manifest)


def _verify_in_a_process(case_dir: Path, *args: str) -> subprocess.CompletedProcess:
    """A hang (reading /dev/zero or a FIFO to its end) must fail the test, not stop it: run apart, with a time limit."""
    root = Path(__file__).resolve().parent.parent
    return subprocess.run([sys.executable, "-c", "from ingest.cli import run; run()", "verify", str(case_dir), *args],
                          cwd=root, capture_output=True, text=True, timeout=120)


def test_rehash_reads_only_regular_files_a_sealed_manifest_names(sealed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    case_dir, key, evidence = sealed
    copy = _copy(sealed, tmp_path)
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "link.raw"
    link.symlink_to(evidence / "notes.txt")
    image = tmp_path / "image.raw"
    image.write_bytes(b"an image\n")
    import hashlib

    digest = hashlib.sha256(b"an image\n").hexdigest()
    manifest = _manifest(copy)
    manifest["source"] = {**manifest["source"], "kind": "image", "path": str(image), "container_files": [
        {"path": "/dev/zero", "sha256_before": digest}, {"path": str(fifo), "sha256_before": digest},
        {"path": str(link), "sha256_before": digest}, {"path": str(image), "sha256_before": digest}]}
    _resealed(copy, manifest, key.with_suffix(".key"))
    result = _verify_in_a_process(copy, "--trusted-key", str(key), "--rehash-source")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stdout.splitlines()
    assert "OK   E: root digest: recorded " + manifest["root_digest"] + ", computed " + manifest["root_digest"] in lines
    assert [line for line in lines if line.startswith(("OK   E: source", "FAIL E: source"))] == [
        "FAIL E: source /dev/zero: is not a regular file; not read",
        f"FAIL E: source {fifo}: is not a regular file; not read",
        f"FAIL E: source {link}: is a symbolic link; not followed",
        f"OK   E: source {image}: sha256 {digest}",
    ]


def test_rehash_is_refused_when_the_manifest_is_not_sealed_by_a_trusted_key(sealed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    case_dir, key, _ = sealed
    copy = _copy(sealed, tmp_path)
    manifest = _manifest(copy)
    manifest["source"] = {**manifest["source"], "kind": "image", "container_files": [{"path": "/dev/zero", "sha256_before": "0" * 64}]}
    _write(copy, manifest)  # an attacker's edit: the root digest no longer holds
    refused = ("FAIL E: source: not hashed again: the manifest's root digest and signature check did not hold, so the paths it names "
               "are not read (a manifest anyone could have written must not direct reads)")
    result = _verify_in_a_process(copy, "--trusted-key", str(key), "--rehash-source")
    assert result.returncode == 1, result.stderr
    assert [line for line in result.stdout.splitlines() if line.startswith(("OK   E: source", "FAIL E: source"))] == [refused]
    _resealed(copy, manifest, key.with_suffix(".key"))  # sealed again, but checked without the key that signed it
    result = _verify_in_a_process(copy, "--rehash-source")
    assert result.returncode == 1, result.stderr
    assert [line for line in result.stdout.splitlines() if line.startswith(("OK   E: source", "FAIL E: source"))] == [refused.replace("root digest and signature", "signature")]
