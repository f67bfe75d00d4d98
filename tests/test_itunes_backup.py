"""Tests for ingest.itunes_backup on the real mvt sample and on synthetic backups."""

from __future__ import annotations

import hashlib
import os
import plistlib
import shutil
import sqlite3
import unicodedata
from collections import Counter
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

import pytest

from ingest.itunes_backup import (
    BackupError,
    BackupFile,
    ManifestRowError,
    is_itunes_backup,
    logical_path,
    read_manifest,
    stored_relative_path,
)
from tests.corpus import check_untouched, require_corpus

BACKUP_CORPUS = "mvt-project__mvt/tests/artifacts/ios_backup"

# Checked with the sqlite3 CLI on a copy of the sample's Manifest.db:
# 3721 Files rows (flags 1: 1089, 2: 2618, 4: 14), all TEXT, fileIDs unique.
CORPUS_ROWS = 3721
CORPUS_KINDS = {"file": 1089, "directory": 2618, "symlink": 14}
# The stored files present in the sample folder, with their Files rows.
CORPUS_STORED = {
    "0d/0d609c54856a9bb2d56729df1d68f2958a88426b": (
        "WirelessDomain", "Library/Databases/DataUsage.sqlite"),
    "0d/0dc926a1810f7aee4e8f38793ed788701f93bf9d": (
        "HomeDomain", "Library/Preferences/.GlobalPreferences.plist"),
    "1f/1f5a521220a3ad80ebfdc196978df8e7a2e49dee": (
        "HomeDomain", "Library/CoreDuet/People/interactionC.db"),
    "20/2041457d5fe04d39d0ab481178355df6781e6858": (
        "HomeDomain", "Library/Calendar/Calendar.sqlitedb"),
    "3a/3a47b0981ed7c10f3e2800aa66bac96a3b5db28e": (
        "HomeDomain", "Library/Safari/BrowserState.db"),
    "3d/3d0d7e5fb2ce288813306e4d4636395e047a3d28": ("HomeDomain", "Library/SMS/sms.db"),
    "64/64d0019cb3d46bfc8cce545a8ba54b93e7ea9347": ("HomeDomain", "Library/TCC/TCC.db"),
    "6e/6e9d0cb750a70e7fa10943c134a5f021dab327e7": (
        "AppDomain-com.google.chrome.ios",
        "Library/WebKit/WebsiteData/ResourceLoadStatistics/observations.db"),
    "7c/7c7fba66680ef796b916b067077cc246adacf01d": (
        "AppDomainGroup-group.net.whatsapp.WhatsApp.shared", "ChatStorage.sqlite"),
    "b8/b8548dc30aa1030df0ce18ef08b882cf7ab5212f": (
        "AppDomainGroup-group.net.whatsapp.WhatsApp.shared", "ContactsV2.sqlite"),
}
# Present in the folder but absent from Manifest.db (checked with sqlite3).
CORPUS_UNLISTED = "e7/e794f6ffcc3c222535f47684a63d5178da3c4500"
SMS_ID = "3d0d7e5fb2ce288813306e4d4636395e047a3d28"

SCHEMA = (
    "CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, "
    "flags INTEGER, file BLOB)"
)


def tree_state(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file: proves a folder was not written to."""
    state = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            state[path.relative_to(folder).as_posix()] = hashlib.sha256(
                path.read_bytes()).hexdigest()
        else:
            state[path.relative_to(folder).as_posix()] = "<dir>"
    return state


def file_id(seed: str) -> str:
    """A realistic fileID (SHA-1 of domain-relativePath, as iOS makes them)."""
    return hashlib.sha1(seed.encode("utf-8")).hexdigest()


# --- real sample --------------------------------------------------------------


@pytest.fixture(scope="module")
def corpus_backup() -> Path:
    return require_corpus() / BACKUP_CORPUS


def test_corpus_is_backup(corpus_backup: Path) -> None:
    assert is_itunes_backup(corpus_backup)


def test_corpus_manifest(corpus_backup: Path, tmp_path: Path) -> None:
    before = tree_state(corpus_backup)
    manifest = read_manifest(corpus_backup, tmp_path)
    assert tree_state(corpus_backup) == before

    assert manifest.row_count == CORPUS_ROWS
    assert len(manifest.files) == CORPUS_ROWS
    assert Counter(f.kind for f in manifest.files.values()) == CORPUS_KINDS
    # The sample ships no Manifest.plist: reported, and IsEncrypted unknown.
    assert manifest.is_encrypted is None
    assert manifest.errors == (
        ManifestRowError(None, "Manifest.plist", "missing; IsEncrypted unknown"),
    )

    sms = manifest.files[f"3d/{SMS_ID}"]
    assert sms == BackupFile(SMS_ID, "HomeDomain", "Library/SMS/sms.db", 1, "file",
                             sms.file_blob)
    assert sms.logical_path == "HomeDomain/Library/SMS/sms.db"
    assert sms.file_blob is not None and sms.file_blob.startswith(b"bplist00")

    for stored, (domain, relative) in CORPUS_STORED.items():
        entry = manifest.files[stored]
        assert (entry.domain, entry.relative_path, entry.kind) == (domain, relative, "file")
        assert (corpus_backup / stored).is_file()
    assert CORPUS_UNLISTED not in manifest.files
    assert (corpus_backup / CORPUS_UNLISTED).is_file()

    # The copy was read, not the evidence.
    assert manifest.database_copy.parent.parent == tmp_path
    assert manifest.database_copy.read_bytes() == (corpus_backup / "Manifest.db").read_bytes()


def test_corpus_files_untouched(corpus_backup: Path, tmp_path: Path) -> None:
    read_manifest(corpus_backup, tmp_path)
    names = ["Manifest.db", "Info.plist", CORPUS_UNLISTED, *CORPUS_STORED]
    for name in names:
        assert check_untouched(f"{BACKUP_CORPUS}/{name}"), name
    assert not list(corpus_backup.glob("Manifest.db-*"))


def test_tmp_dir_inside_evidence_refused(corpus_backup: Path) -> None:
    with pytest.raises(BackupError, match="inside the evidence folder"):
        read_manifest(corpus_backup, corpus_backup / "tmp")


# --- synthetic backups -----------------------------------------------------------

HOSTILE = "Library/evil\nname\u202etxt.exe"
NFD_NAME = unicodedata.normalize("NFD", "Media/DCIM/café 😀.jpg")
NUL_NAME = "Library/a\x00b"


def make_backup(
    folder: Path,
    rows: list[tuple[str, str, str, int]],
    raw_sql: Sequence[str] = (),
    encrypted: bool | None = False,
    wal_rows: Sequence[tuple[str, str, str, int]] = (),
) -> Path:
    """A backup folder with our own Manifest.db; wal_rows stay in an unmerged -wal."""
    folder.mkdir(parents=True)
    database = folder / "Manifest.db"
    connection = sqlite3.connect(database)
    connection.execute(SCHEMA)
    connection.executemany(
        "INSERT INTO Files VALUES (?, ?, ?, ?, ?)",
        [(fid, dom, rel, flags, plistlib.dumps({"Size": 1}, fmt=plistlib.FMT_BINARY))
         for fid, dom, rel, flags in rows],
    )
    for statement in raw_sql:
        connection.execute(statement)
    connection.commit()
    if wal_rows:
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA wal_autocheckpoint=0")
        connection.executemany(
            "INSERT INTO Files VALUES (?, ?, ?, ?, NULL)", list(wal_rows))
        connection.commit()
        # Snapshot while the connection is open: closing would merge the WAL.
        snapshot = folder.parent / f"{folder.name}.snapshot"
        snapshot.mkdir()
        for path in folder.glob("Manifest.db*"):
            shutil.copyfile(path, snapshot / path.name)
        connection.close()
        for path in folder.glob("Manifest.db*"):
            path.unlink()
        for path in snapshot.iterdir():
            shutil.copyfile(path, folder / path.name)
        shutil.rmtree(snapshot)
    else:
        connection.close()
    for stored in {stored_relative_path(r[0]) for r in rows if r[3] == 1}:
        target = folder / stored
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(b"content of " + stored.encode())
    (folder / "Info.plist").write_bytes(plistlib.dumps({"Device Name": "test"}))
    (folder / "Status.plist").write_bytes(plistlib.dumps({"IsFullBackup": False}))
    if encrypted is not None:
        (folder / "Manifest.plist").write_bytes(plistlib.dumps({"IsEncrypted": encrypted}))
    return folder


GOOD_ROWS = [
    (file_id("HomeDomain-Library/SMS/sms.db"), "HomeDomain", "Library/SMS/sms.db", 1),
    (file_id("HomeDomain-Library"), "HomeDomain", "Library", 2),
    (file_id("HomeDomain-"), "HomeDomain", "", 2),
    (file_id("HomeDomain-Library/link"), "HomeDomain", "Library/link", 4),
    (file_id("hostile"), "AppDomain-evil\u202e", HOSTILE, 1),
    (file_id("nfd"), "CameraRollDomain", NFD_NAME, 1),
    (file_id("nul"), "HomeDomain", NUL_NAME, 1),
]


def test_synthetic_backup_exact_names(tmp_path: Path) -> None:
    folder = make_backup(tmp_path / "backup", GOOD_ROWS)
    assert is_itunes_backup(folder)
    before = tree_state(folder)
    manifest = read_manifest(folder, tmp_path / "work")
    assert tree_state(folder) == before
    assert manifest.is_encrypted is False
    assert manifest.errors == ()
    assert manifest.row_count == len(GOOD_ROWS) == len(manifest.files)
    for fid, domain, relative, flags in GOOD_ROWS:
        entry = manifest.files[f"{fid[:2]}/{fid}"]
        assert (entry.file_id, entry.domain, entry.relative_path, entry.flags) == (
            fid, domain, relative, flags)
        assert entry.kind == {1: "file", 2: "directory", 4: "symlink"}[flags]
        assert entry.logical_path == f"{domain}/{relative}"
    hostile = manifest.files[stored_relative_path(file_id("hostile"))]
    assert hostile.relative_path.encode("utf-8") == b"Library/evil\nname\xe2\x80\xaetxt.exe"
    assert hostile.logical_path == "AppDomain-evil\u202e/Library/evil\nname\u202etxt.exe"
    nfd = manifest.files[stored_relative_path(file_id("nfd"))]
    assert nfd.relative_path == NFD_NAME
    assert unicodedata.normalize("NFC", nfd.relative_path) != nfd.relative_path
    assert manifest.files[stored_relative_path(file_id("nul"))].relative_path == NUL_NAME
    root = manifest.files[stored_relative_path(file_id("HomeDomain-"))]
    assert root.logical_path == "HomeDomain/"


def test_logical_path() -> None:
    assert logical_path("HomeDomain", "Library/SMS/sms.db") == "HomeDomain/Library/SMS/sms.db"
    assert logical_path("HomeDomain", "") == "HomeDomain/"
    assert logical_path("D", "a\nb") == "D/a\nb"


def test_bad_rows_reported_not_dropped(tmp_path: Path) -> None:
    good = GOOD_ROWS[0]
    bad_utf8 = file_id("bad-utf8")
    blob_path = file_id("blob-path")
    null_path = file_id("null-path")
    text_flags = file_id("text-flags")
    odd_flags = file_id("odd-flags")
    raw_sql = [
        f"INSERT INTO Files VALUES ('{bad_utf8}', CAST(X'486f6d65ff' AS TEXT), 'a', 1, NULL)",
        f"INSERT INTO Files VALUES ('{blob_path}', 'HomeDomain', X'2e2e2f78', 1, NULL)",
        f"INSERT INTO Files VALUES ('{null_path}', 'HomeDomain', NULL, 1, NULL)",
        f"INSERT INTO Files VALUES ('{text_flags}', 'HomeDomain', 'b', 'x', NULL)",
        f"INSERT INTO Files VALUES ('{odd_flags}', 'HomeDomain', 'c', 8, NULL)",
        "INSERT INTO Files VALUES ('../../etc/passwd', 'HomeDomain', 'd', 1, NULL)",
        "INSERT INTO Files VALUES ('ABCDEF0123456789ABCDEF0123456789ABCDEF01', 'H', 'e', 1, NULL)",
    ]
    folder = make_backup(tmp_path / "backup", [good], raw_sql=raw_sql)
    manifest = read_manifest(folder, tmp_path / "work")
    assert manifest.row_count == 8

    by_row = {(e.row_id, e.field): e for e in manifest.errors}
    assert len(by_row) == len(manifest.errors) == 7
    assert by_row[(2, "domain")].why.startswith("invalid UTF-8")
    assert by_row[(2, "domain")].raw == b"Home\xff"
    assert by_row[(3, "relativePath")].why == "stored as blob, not text"
    assert by_row[(3, "relativePath")].raw == b"../x"
    assert by_row[(4, "relativePath")].why == "stored as null, not text"
    assert by_row[(5, "flags")].why == "stored as text, not integer"
    assert by_row[(6, "flags")].why == "unknown flags value 8"
    assert by_row[(7, "fileID")].raw == b"../../etc/passwd"
    assert by_row[(8, "fileID")].why == "not 40 lowercase hex digits"

    # Only the good row and the odd-flags row (names sound) are mapped.
    assert set(manifest.files) == {stored_relative_path(good[0]), stored_relative_path(odd_flags)}
    assert manifest.files[stored_relative_path(odd_flags)].kind == "unknown"


def test_wal_rows_are_read_from_the_copy(tmp_path: Path) -> None:
    in_wal = (file_id("wal"), "HomeDomain", "Library/only-in-wal.db", 1)
    folder = make_backup(tmp_path / "backup", GOOD_ROWS[:1], wal_rows=[in_wal])
    assert (folder / "Manifest.db-wal").stat().st_size > 0
    # Without its -wal the main file alone does not hold the row.
    with closing(sqlite3.connect(f"file:{folder / 'Manifest.db'}?immutable=1", uri=True)) as c:
        assert c.execute("SELECT count(*) FROM Files").fetchone()[0] == 1
    before = tree_state(folder)
    manifest = read_manifest(folder, tmp_path / "work")
    assert tree_state(folder) == before
    assert manifest.row_count == 2
    assert manifest.files[stored_relative_path(in_wal[0])].relative_path == in_wal[2]
    assert (manifest.database_copy.parent / "Manifest.db-wal").is_file()


def test_encrypted_flag_raises(tmp_path: Path) -> None:
    folder = make_backup(tmp_path / "backup", GOOD_ROWS[:1], encrypted=True)
    with pytest.raises(BackupError, match="encrypted backup"):
        read_manifest(folder, tmp_path / "work")
    assert not (tmp_path / "work").exists()


def test_encrypted_database_raises(tmp_path: Path) -> None:
    folder = make_backup(tmp_path / "backup", GOOD_ROWS[:1], encrypted=None)
    (folder / "Manifest.db").write_bytes(os.urandom(4096))
    with pytest.raises(BackupError, match="not a plain SQLite database.*encrypted"):
        read_manifest(folder, tmp_path / "work")


def test_missing_and_old_manifests(tmp_path: Path) -> None:
    folder = make_backup(tmp_path / "backup", GOOD_ROWS[:1])
    (folder / "Manifest.db").unlink()
    assert not is_itunes_backup(folder)
    with pytest.raises(BackupError, match="has no Manifest.db"):
        read_manifest(folder, tmp_path / "work")
    (folder / "Manifest.mbdb").write_bytes(b"mbdb\x05\x00")
    assert is_itunes_backup(folder)
    with pytest.raises(BackupError, match="Manifest.mbdb"):
        read_manifest(folder, tmp_path / "work")


def test_unreadable_manifest_plist_is_reported(tmp_path: Path) -> None:
    folder = make_backup(tmp_path / "backup", GOOD_ROWS[:1])
    (folder / "Manifest.plist").write_bytes(b"<plist><dict><key>IsEncrypted</key>")
    manifest = read_manifest(folder, tmp_path / "work")
    assert manifest.is_encrypted is None
    assert [(e.row_id, e.field) for e in manifest.errors] == [(None, "Manifest.plist")]
    assert manifest.errors[0].why.startswith("unreadable")
    assert len(manifest.files) == 1


def test_corrupt_database_raises(tmp_path: Path) -> None:
    folder = make_backup(tmp_path / "backup", GOOD_ROWS[:1])
    data = (folder / "Manifest.db").read_bytes()
    (folder / "Manifest.db").write_bytes(data[:16] + b"\xff" * (len(data) - 16))
    with pytest.raises(BackupError, match="cannot read Files"):
        read_manifest(folder, tmp_path / "work")


def test_is_itunes_backup_negatives(tmp_path: Path) -> None:
    assert not is_itunes_backup(tmp_path / "missing")
    assert not is_itunes_backup(tmp_path)
    (tmp_path / "Manifest.db").write_bytes(b"")
    assert not is_itunes_backup(tmp_path)
    plain = tmp_path / "file"
    plain.write_bytes(b"x")
    assert not is_itunes_backup(plain)


def test_duplicate_file_id_reported(tmp_path: Path) -> None:
    folder = make_backup(tmp_path / "backup", GOOD_ROWS[:1])
    (folder / "Manifest.db").unlink()
    fid = GOOD_ROWS[0][0]
    with closing(sqlite3.connect(folder / "Manifest.db")) as connection:
        # A tampered manifest without the PRIMARY KEY can repeat a fileID.
        connection.execute(
            "CREATE TABLE Files (fileID TEXT, domain TEXT, relativePath TEXT, "
            "flags INTEGER, file BLOB)")
        connection.executemany(
            "INSERT INTO Files VALUES (?, 'HomeDomain', ?, 1, NULL)",
            [(fid, "first"), (fid, "second")])
        connection.commit()
    manifest = read_manifest(folder, tmp_path / "work")
    assert manifest.row_count == 2
    assert manifest.files[stored_relative_path(fid)].relative_path == "first"
    assert manifest.errors == (
        ManifestRowError(2, "fileID", "duplicate fileID; first row kept", fid.encode()),
    )
