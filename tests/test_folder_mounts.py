"""A folder source never leaves its file system: a mount point inside it is recorded, never crossed.

The mount is a bind mount made here (the tests run as root in CI). A bind mount of a folder of
the same file system keeps st_dev, so only the kernel's mount table tells it apart.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from ingest.folder_walk import mount_points
from tests.conftest import run_ingest


def _bind(source: Path, target: Path) -> None:
    result = subprocess.run(["mount", "--bind", str(source), str(target)], capture_output=True)
    if result.returncode != 0:
        message = result.stderr.decode(errors="backslashreplace").strip()
        if os.environ.get("CI") == "true" and os.geteuid() == 0:
            pytest.fail(f"mount --bind refused under CI: {message}")
        pytest.skip(f"bind mounts are refused here ({message}): a mount point cannot be made to test against")


def _unmount(target: Path) -> None:
    subprocess.run(["umount", str(target)], check=True, capture_output=True)


def test_bind_mounts_inside_the_folder_are_recorded_not_crossed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "deep").mkdir(parents=True)
    (outside / "deep" / "secret.txt").write_bytes(b"host secret, not evidence\n")
    (outside / "file.txt").write_bytes(b"a host file, not evidence\n")
    evidence = tmp_path / "evidence"
    (evidence / "sub").mkdir(parents=True)
    (evidence / "sub" / "kept.txt").write_bytes(b"evidence\n")
    (evidence / "mnt").mkdir()
    (evidence / "sub" / "bound.txt").write_bytes(b"the file under the mount\n")
    _bind(outside, evidence / "mnt")
    try:
        _bind(outside / "file.txt", evidence / "sub" / "bound.txt")
        try:
            assert os.stat(evidence / "mnt").st_dev == os.stat(evidence).st_dev  # same file system: st_dev alone cannot tell
            assert mount_points(os.fsencode(evidence.resolve())) == {os.fsencode(evidence.resolve() / "mnt"),
                                                                     os.fsencode(evidence.resolve() / "sub" / "bound.txt")}
            result = run_ingest(evidence, tmp_path / "out")
        finally:
            _unmount(evidence / "sub" / "bound.txt")
    finally:
        _unmount(evidence / "mnt")
    assert result.exit_code == 0, result.output
    rows = result.artefacts()
    assert [(r["path"], r["entry_type"], r["size"], r["inode"], r["sha256"]) for r in rows] == [
        ("/", "directory", rows[0]["size"], os.stat(evidence).st_ino, None),
        ("/mnt", "directory", None, None, None),
        ("/sub", "directory", rows[2]["size"], os.stat(evidence / "sub").st_ino, None),
        ("/sub/bound.txt", "file", None, None, None),
        ("/sub/kept.txt", "file", 9, os.stat(evidence / "sub" / "kept.txt").st_ino, hashlib.sha256(b"evidence\n").hexdigest()),
    ]
    assert [(e["stage"], e["error_kind"], e["severity"], e["path"]) for e in result.errors()] == [
        ("walk", "mount_point_not_crossed", "warning", "/mnt"), ("walk", "mount_point_not_crossed", "warning", "/sub/bound.txt")]
    assert result.errors()[0]["message"] == ("/mnt is a mount point (another file system or a bind mount): recorded by name, not crossed; "
                                             "its metadata and content belong to what is mounted there and are not read")


def test_mount_table_names_are_unescaped(tmp_path: Path) -> None:
    table = tmp_path / "mountinfo"
    table.write_bytes(b"45 27 254:0 /etc /ev/with\\040space rw - ext4 /dev/vda rw\n"
                      b"46 27 254:0 /etc /ev rw - ext4 /dev/vda rw\n"
                      b"47 27 254:0 /etc /evil/x rw - ext4 /dev/vda rw\n")
    assert mount_points(b"/ev", str(table)) == {b"/ev/with space"}
    assert mount_points(b"/ev", str(tmp_path / "missing")) == frozenset()
