"""The command line's contract: exit codes, messages that name the file, ids kept exactly, atomic output."""

from __future__ import annotations

import hashlib
import json
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.cli import main
from ingest.naming import decode_id, encode_id
from ingest.work import Unit, VolumeRecipe
from manifests.text import display
from tests.conftest import require_tool

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
from make_sample import build_sample  # noqa: E402


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_tool("mkfs.ext4")
    return build_sample(tmp_path_factory.mktemp("cli"))


def test_unknown_file_exits_2_naming_it_and_writes_nothing(tmp_path: Path) -> None:
    source = tmp_path / "notes.bin"
    source.write_bytes(b"plain words, no image here\n" * 40)
    result = CliRunner().invoke(main, ["ingest", str(source), "--case", "C", "--exhibit", "E", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert str(source) in result.output
    assert "formats tried: raw/dd" in result.output
    assert not (tmp_path / "out" / "C" / "E").exists()


def test_missing_source_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["ingest", str(tmp_path / "nope.E01"), "--case", "C", "--exhibit", "E", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "nope.E01: no such file or folder" in result.output


def test_bad_expected_hash_and_two_credentials_are_usage_errors(sample: Path, tmp_path: Path) -> None:
    base = ["ingest", str(sample), "--case", "C", "--exhibit", "E", "--out", str(tmp_path)]
    result = CliRunner().invoke(main, base + ["--expected-hash", "md5:xyz"])
    assert (result.exit_code, "use ALG:HEX" in result.output) == (2, True)
    result = CliRunner().invoke(main, base + ["--password", "a", "--recovery-password", "b"])
    assert (result.exit_code, "at most one of" in result.output) == (2, True)


def test_expected_hash_match_and_mismatch(sample: Path, ingest_image) -> None:
    digest = hashlib.sha256(sample.read_bytes()).hexdigest()
    good = ingest_image(sample, "--expected-hash", f"sha256:{digest.upper()}")
    assert good.exit_code == 0
    assert good.source()["hash_checks"] == [{"origin": "expected", "algorithm": "sha256", "expected": digest, "computed": digest, "is_match": True}]
    bad = ingest_image(sample, "--expected-hash", "md5:" + "0" * 32)
    assert bad.exit_code == 1
    assert _summary(bad) == ("MD5 MISMATCH against --expected-hash; completed with 1 error: 19 entries, 7 files hashed, 20,996 bytes, "
                             f"2 messages, 0 identifiers, 1 error, 0 warnings, S s -> {bad.folder}")
    (error,) = bad.errors()
    assert (error["stage"], error["error_kind"], error["severity"]) == ("verify", "hash_mismatch", "error")
    assert json.loads((bad.folder / "manifest.json").read_text())["outcome"] == "MD5 MISMATCH against --expected-hash; completed with 1 error"


def _summary(result) -> str:
    """The summary line (the first line of output) with its run time replaced by S."""
    line = result.output.splitlines()[0]
    return re.sub(r", [0-9]+\.[0-9] s -> ", ", S s -> ", line)


def test_e01_stored_hash_mismatch_is_named(tmp_path: Path, ingest_image, monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest import media
    from tests import images

    require_tool("ewfacquire")
    raw = tmp_path / "fs.raw"
    images.write_tree(tmp_path / "tree", {b"a.txt": b"alpha\n"})
    images.make_ext4(tmp_path / "tree", raw, "2M")
    (e01,) = images.make_e01(raw, tmp_path / "disk")
    real = media._hash_ewf

    def stored_md5_differs(segments: list[str]) -> media.MediaResult:
        result = real(segments)
        assert result.stored_hashes["md5"] == hashlib.md5(raw.read_bytes()).hexdigest()
        result.stored_hashes["md5"] = "0" * 32  # as if the acquisition had recorded another image
        return result

    monkeypatch.setattr(media, "_hash_ewf", stored_md5_differs)
    result = ingest_image(e01)
    assert result.exit_code == 1
    assert _summary(result) == ("MD5 MISMATCH against the E01 stored hash; completed with 1 error: 4 entries, 1 file hashed, "
                                f"6 bytes, 0 messages, 0 identifiers, 1 error, 0 warnings, S s -> {result.folder}")


def test_existing_exhibit_is_never_overwritten(sample: Path, tmp_path: Path) -> None:
    args = ["ingest", str(sample), "--case", "C", "--exhibit", "JS/1", "--out", str(tmp_path), "--workers", "1"]
    assert CliRunner().invoke(main, args).exit_code == 0
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 2
    assert "already exists" in again.output


def test_a_run_that_dies_publishes_nothing(sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest import content_units

    def explode(*args, **kwargs):
        raise RuntimeError("simulated crash in the middle of the walk")

    monkeypatch.setattr(content_units.ContentPhase, "add", explode)
    with pytest.raises(RuntimeError):
        CliRunner().invoke(main, ["ingest", str(sample), "--case", "C", "--exhibit", "E", "--out", str(tmp_path), "--workers", "1"],
                           catch_exceptions=False)
    assert sorted(p.name for p in (tmp_path / "C").iterdir()) == [".custody.lock", "custody.parquet"]
    from manifests.custody import read_events

    assert [(e["exhibit_id"], e["action"]) for e in read_events(tmp_path / "C")] == [("E", "ingest_started")]


def test_crash_maps_to_exit_3(sample: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    from ingest import cli, content_units

    monkeypatch.setattr(content_units.ContentPhase, "add", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("boom")))
    monkeypatch.setattr(sys, "argv", ["exhibit", "ingest", str(sample), "--case", "C", "--exhibit", "E", "--out", str(tmp_path), "--workers", "1"])
    with pytest.raises(SystemExit) as stopped:
        cli.run()
    assert stopped.value.code == 3
    assert "nothing was published" in capsys.readouterr().err


def test_python_dash_m_ingest_runs_the_cli() -> None:
    import subprocess

    done = subprocess.run([sys.executable, "-m", "ingest", "--version"], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "exhibit, version 0.1.0"


@pytest.mark.parametrize(
    ("identifier", "folder"),
    [("JS/1", "JS%2F1"), ("..", "%2E."), (".hidden", "%2Ehidden"), ("a b", "a%20b"), ("Ø/\n", "%C3%98%2F%0A"), ("plain-ID_1.2", "plain-ID_1.2")],
)
def test_folder_names_are_safe_and_reversible(identifier: str, folder: str) -> None:
    assert encode_id(identifier) == folder
    assert decode_id(folder) == identifier
    assert "/" not in folder


def test_display_escapes_controls_bidi_and_bad_bytes() -> None:
    assert display(b"a\nb\x1b[31m\xe2\x80\xaeexe.jpg\xff\\") == "a\\x0ab\\x1b[31m\\u202eexe.jpg\\xff\\\\"
    assert display("lone \udc80 surrogate") == "lone \\udc80 surrogate"
    assert display("Ímynd tëst") == "Ímynd tëst"


def test_units_round_trip_through_json() -> None:
    unit = Unit(unit_id="3-7", volume=VolumeRecipe(index=3, walker="tsk", tsk_parent_spec='{"x": 1}', tsk_raw_file="/e/x.raw", tsk_offset=1048576),
                items=((10, [12, 1, -1, 4096, True], "a\xff.txt"), (11, [13, 128, 3, 5, False], "b")))
    assert Unit.from_json(unit.to_json()) == unit


def test_output_inside_a_folder_source_is_refused(tmp_path: Path) -> None:
    evidence = tmp_path / "extraction"
    (evidence / "DCIM").mkdir(parents=True)
    (evidence / "DCIM" / "a.jpg").write_bytes(b"\xff\xd8\xff\xe0")
    before = sorted(p.relative_to(evidence) for p in evidence.rglob("*"))
    result = CliRunner().invoke(main, ["ingest", str(evidence), "--case", "C", "--exhibit", "E", "--out", str(evidence / "cases")])
    assert result.exit_code == 2
    assert "lies inside the evidence folder" in result.output
    assert sorted(p.relative_to(evidence) for p in evidence.rglob("*")) == before


def test_libmagic_failure_is_an_error_row_and_hashes_stand(sample: Path, ingest_image, monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest.identify import Identifier, IdentifyError

    real = Identifier.identify

    def flaky(self: Identifier, head: bytes) -> tuple[str, str]:
        if head.startswith(b"meet at"):
            raise IdentifyError("simulated libmagic failure")
        return real(self, head)

    monkeypatch.setattr(Identifier, "identify", flaky)
    result = ingest_image(sample)
    assert result.exit_code == 1
    row = result.by_path()[b"/Download/notes.txt"]
    assert (row["content_status"], row["sha256"], row["mime_type"]) == ("hashed", hashlib.sha256(b"meet at the usual place\n").hexdigest(), None)
    assert [(e["stage"], e["error_kind"], e["path"], e["message"]) for e in result.errors()] == [
        ("identify", "identify_failed", "/Download/notes.txt", "libmagic could not type /Download/notes.txt: simulated libmagic failure")]
