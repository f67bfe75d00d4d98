"""Seal and verify: a real ingest is sealed and signed; each tampering makes `exhibit verify` fail and
name what is wrong; the untouched case passes."""

from __future__ import annotations

import json
import shutil
import stat
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from ingest.cli import main
from manifests.keys import fingerprint, load_public
from tests.conftest import require_tool

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from make_sample import build_sample  # noqa: E402


@pytest.fixture(scope="module")
def sealed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(case folder, lab public key, another key's public key) after one signed ingest."""
    require_tool("mkfs.ext4")
    root = tmp_path_factory.mktemp("seal")
    image = build_sample(root / "image")
    for name in ("lab", "other"):
        result = CliRunner().invoke(main, ["keys", "generate", "--name", name, "--out", str(root / "keys")])
        assert result.exit_code == 0, result.output
    result = CliRunner().invoke(main, ["ingest", str(image), "--case", "OP-1", "--exhibit", "JS/1", "--out", str(root / "cases"),
                                       "--workers", "1", "--signing-key", str(root / "keys" / "lab.key"), "--examiner", "A. Smith"])
    assert result.exit_code == 0, result.output
    return root / "cases" / "OP-1", root / "keys" / "lab.pub", root / "keys" / "other.pub"


def _verify(case: Path, *keys: Path) -> tuple[int, str]:
    args = ["verify", str(case)] + [arg for key in keys for arg in ("--trusted-key", str(key))]
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


def _copy(case: Path, tmp_path: Path) -> tuple[Path, Path]:
    target = tmp_path / "OP-1"
    shutil.copytree(case, target)
    return target, target / "JS%2F1"


def test_keys_are_written_private_0600(sealed: tuple[Path, Path, Path]) -> None:
    _, public, _ = sealed
    private = public.with_suffix(".key")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert len(fingerprint(load_public(public))) == 64


def test_manifest_lists_every_part_and_is_signed(sealed: tuple[Path, Path, Path]) -> None:
    case, public, _ = sealed
    manifest = json.loads((case / "JS%2F1" / "manifest.json").read_text())
    assert [(p["name"], p["schema"], p["schema_version"]) for p in manifest["parts"]] == [
        ("artefacts.parquet", "artefacts", 2), ("errors.parquet", "errors", 3), ("identifiers.parquet", "identifiers", 1),
        ("media.parquet", "media", 3), ("messages.parquet", "messages", 2), ("sources.parquet", "sources", 2)]
    assert [p["rows"] for p in manifest["parts"]] == [19, 0, 0, 3, 2, 1]
    assert (manifest["case_id"], manifest["exhibit_id"], manifest["examiner"], manifest["outcome"]) == ("OP-1", "JS/1", "A. Smith", "completed")
    assert manifest["signature"]["algorithm"] == "Ed25519"
    assert manifest["signature"]["public_key_fingerprint"] == fingerprint(load_public(public))
    assert manifest["source"]["is_source_unchanged"] is True and len(manifest["source"]["stream_sha256"]) == 64


def test_untouched_case_verifies(sealed: tuple[Path, Path, Path]) -> None:
    case, public, _ = sealed
    code, output = _verify(case, public)
    assert code == 0, output
    assert output.count("OK   JS/1: part ") == 6
    assert "OK   JS/1: signature: valid Ed25519 signature by trusted key" in output
    assert output.strip().endswith("1 exhibit(s) checked, 0 check(s) failed\nVERIFIED: 15 checks hold")


def test_untrusted_and_unsigned_are_failures(sealed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    case, public, other = sealed
    code, output = _verify(case, other)
    assert code == 1 and "which is not among the trusted keys" in output
    copy, exhibit = _copy(case, tmp_path)
    manifest = json.loads((exhibit / "manifest.json").read_text())
    manifest["signature"] = None
    (exhibit / "manifest.json").write_text(json.dumps(manifest))
    code, output = _verify(copy, public)
    assert code == 1 and "FAIL JS/1: signature: the manifest is unsigned" in output


@pytest.mark.parametrize("part", ["artefacts.parquet", "errors.parquet", "sources.parquet"])
def test_flipped_byte_in_each_part_is_found(sealed: tuple[Path, Path, Path], tmp_path: Path, part: str) -> None:
    case, public, _ = sealed
    copy, exhibit = _copy(case, tmp_path)
    data = bytearray((exhibit / part).read_bytes())
    data[len(data) // 2] ^= 0x01
    (exhibit / part).write_bytes(bytes(data))
    code, output = _verify(copy, public)
    assert code == 1
    assert f"FAIL JS/1: part {part}: sha256 " in output
    assert output.strip().endswith(f"1 exhibit(s) checked, 1 check(s) failed\nNOT VERIFIED: JS/1 part {part} (1 of 15 checks failed)")


def test_deleted_row_rewritten_part_is_found(sealed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    case, public, _ = sealed
    copy, exhibit = _copy(case, tmp_path)
    table = pq.read_table(exhibit / "artefacts.parquet")
    pq.write_table(table.slice(0, table.num_rows - 1), exhibit / "artefacts.parquet")
    code, output = _verify(copy, public)
    assert code == 1 and "rows 18 != recorded 19" in output


def test_edited_manifest_breaks_digest_and_signature(sealed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    case, public, _ = sealed
    copy, exhibit = _copy(case, tmp_path)
    manifest = json.loads((exhibit / "manifest.json").read_text())
    manifest["examiner"] = "Someone Else"
    (exhibit / "manifest.json").write_text(json.dumps(manifest))
    code, output = _verify(copy, public)
    assert code == 1
    assert "FAIL JS/1: root digest: recorded" in output
    assert "FAIL JS/1: signature: signature by trusted key" in output


def test_signature_by_another_key_is_refused(sealed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    """A forger re-signs an edited manifest with their own key: only trusting that key would accept it."""
    from manifests.keys import load_private
    from manifests.seal import seal

    case, public, other = sealed
    copy, exhibit = _copy(case, tmp_path)
    manifest = json.loads((exhibit / "manifest.json").read_text())
    facts = {k: v for k, v in manifest.items() if k not in ("format", "parts", "root_digest", "signature")}
    facts["examiner"] = "Forger"
    seal(exhibit, facts, load_private(other.with_suffix(".key")))
    code, output = _verify(copy, public)
    assert code == 1 and "which is not among the trusted keys" in output


def test_removed_part_and_stray_file_are_found(sealed: tuple[Path, Path, Path], tmp_path: Path) -> None:
    case, public, _ = sealed
    copy, exhibit = _copy(case, tmp_path)
    (exhibit / "errors.parquet").unlink()
    (exhibit / "notes.txt").write_text("added later\n")
    code, output = _verify(copy, public)
    assert code == 1
    assert "FAIL JS/1: part errors.parquet: listed in the manifest but missing" in output
    assert "FAIL JS/1: part notes.txt: not listed in the manifest (a stray or added file)" in output
    assert output.strip().endswith("NOT VERIFIED: JS/1 part errors.parquet, JS/1 part notes.txt (2 of 16 checks failed)")


def test_unsigned_ingest_says_so(tmp_path: Path) -> None:
    require_tool("mkfs.ext4")
    image = build_sample(tmp_path / "img")
    result = CliRunner().invoke(main, ["ingest", str(image), "--case", "C", "--exhibit", "E", "--out", str(tmp_path / "cases"), "--workers", "1"])
    assert result.exit_code == 0
    assert "UNSIGNED" in result.output
    assert json.loads((tmp_path / "cases" / "C" / "E" / "manifest.json").read_text())["signature"] is None


def test_passphrase_protected_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LAB_PASS", "correct horse")
    result = CliRunner().invoke(main, ["keys", "generate", "--name", "lab", "--out", str(tmp_path), "--passphrase-env", "LAB_PASS"])
    assert result.exit_code == 0
    assert (tmp_path / "lab.key").read_bytes().startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    again = CliRunner().invoke(main, ["keys", "generate", "--name", "lab", "--out", str(tmp_path)])
    assert again.exit_code == 2 and "never overwritten" in again.output


def test_rehash_source_matches_then_catches_a_changed_image(tmp_path: Path) -> None:
    require_tool("mkfs.ext4")
    image = build_sample(tmp_path / "img")
    assert CliRunner().invoke(main, ["keys", "generate", "--name", "lab", "--out", str(tmp_path / "keys")]).exit_code == 0
    result = CliRunner().invoke(main, ["ingest", str(image), "--case", "C", "--exhibit", "E", "--out", str(tmp_path / "cases"), "--workers", "1",
                                       "--signing-key", str(tmp_path / "keys" / "lab.key")])
    assert result.exit_code == 0
    trusted = ["--trusted-key", str(tmp_path / "keys" / "lab.pub")]  # only a seal by a trusted key may direct reads
    good = CliRunner().invoke(main, ["verify", str(tmp_path / "cases" / "C"), "--rehash-source", *trusted])
    assert good.exit_code == 0, good.output
    assert f"OK   E: source {image}: sha256 " in good.output
    data = bytearray(image.read_bytes())
    data[-1] ^= 0xFF
    image.write_bytes(bytes(data))
    bad = CliRunner().invoke(main, ["verify", str(tmp_path / "cases" / "C"), "--rehash-source", *trusted])
    assert bad.exit_code == 1
    assert f"FAIL E: source {image}: sha256 " in bad.output and "!= recorded" in bad.output
