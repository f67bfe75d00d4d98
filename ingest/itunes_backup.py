"""iTunes/Finder iOS backup folders: map hashed file names back to device paths.

A backup stores each file as `xx/<sha1 fileID>` and keeps the real names in
Manifest.db (SQLite table Files). This module reads that table from a copy,
because opening evidence SQLite in place can write -wal/-shm files or
checkpoint a journal into it. Rows that cannot be trusted as text are
reported in `errors` with their raw bytes, never dropped silently.
"""

from __future__ import annotations

import plistlib
import re
import shutil
import sqlite3
import tempfile
from collections.abc import Mapping
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from xml.parsers.expat import ExpatError

__all__ = [
    "KIND_BY_FLAGS",
    "BackupError",
    "BackupFile",
    "BackupManifest",
    "ManifestRowError",
    "is_itunes_backup",
    "logical_path",
    "read_manifest",
    "stored_relative_path",
]

MANIFEST_DB = "Manifest.db"
MANIFEST_MBDB = "Manifest.mbdb"
MANIFEST_PLIST = "Manifest.plist"
INFO_PLIST = "Info.plist"
STATUS_PLIST = "Status.plist"
_SIDECARS = ("-wal", "-journal", "-shm")
_SQLITE_MAGIC = b"SQLite format 3\x00"

# Files.flags as written by iOS: what kind of entry the row describes.
KIND_BY_FLAGS = {1: "file", 2: "directory", 4: "symlink"}
_FILE_ID = re.compile(r"[0-9a-f]{40}")

# Fixed text: typeof() is selected next to each value because SQLite lets any
# type sit in a TEXT column, and with bytes text_factory a BLOB and a TEXT
# value would otherwise look alike.
_FILES_SQL = (
    "SELECT rowid, fileID, typeof(fileID), domain, typeof(domain), "
    "relativePath, typeof(relativePath), flags, typeof(flags), file "
    "FROM Files ORDER BY rowid"
)


class BackupError(ValueError):
    """The backup cannot be read as a whole (encrypted, missing or corrupt manifest)."""


@dataclass(frozen=True)
class BackupFile:
    """One Files row: the device-side identity of a hashed file.

    `file_blob` is the raw NSKeyedArchiver plist of the row (size, times,
    mode), kept undecoded so nothing is lost; None when the column is NULL.
    """

    file_id: str
    domain: str
    relative_path: str
    flags: int
    kind: str
    file_blob: bytes | None = field(default=None, repr=False)

    @property
    def logical_path(self) -> str:
        """See the module-level logical_path()."""
        return logical_path(self.domain, self.relative_path)


@dataclass(frozen=True)
class ManifestRowError:
    """A problem with one Files row (or, with row_id None, with the backup's plists).

    `raw` holds the offending value as stored, so an examiner can still see it.
    """

    row_id: int | None
    field: str
    why: str
    raw: bytes | int | float | None = None


@dataclass(frozen=True)
class BackupManifest:
    """What Manifest.db and Manifest.plist say about a backup.

    `files` maps the stored path relative to the backup folder, e.g.
    "3d/3d0d7e5f...", to its row. Directories and symlinks are included
    although no stored file exists for them. `is_encrypted` is None when
    Manifest.plist is missing or unreadable (an entry in `errors` says why).
    """

    files: Mapping[str, BackupFile]
    is_encrypted: bool | None
    errors: tuple[ManifestRowError, ...]
    row_count: int
    database_copy: Path


def logical_path(domain: str, relative_path: str) -> str:
    """The path a backup file is reported under: "<domain>/<relativePath>".

    The domain is kept rather than translated to a device path (HomeDomain
    -> /private/var/mobile, ...) because that translation differs between
    iOS versions and app domains and would invent data the backup does not
    hold. Both parts are kept verbatim, control characters included; an
    empty relativePath (a domain's root) gives "<domain>/". Escaping for
    display is the job of the manifest writer.
    """
    return f"{domain}/{relative_path}"


def stored_relative_path(file_id: str) -> str:
    """Where iOS 10+ stores a file inside the backup: first two hex digits, then the ID."""
    return f"{file_id[:2]}/{file_id}"


def is_itunes_backup(folder: Path) -> bool:
    """Whether a folder looks like an iTunes/Finder backup.

    A manifest (Manifest.db, or Manifest.mbdb from iOS < 10 so that such a
    backup is reported rather than walked as plain files) plus at least one
    of the backup plists. Only names are checked; nothing is opened.
    """
    if not folder.is_dir():
        return False
    has_manifest = (folder / MANIFEST_DB).is_file() or (folder / MANIFEST_MBDB).is_file()
    has_plist = any(
        (folder / name).is_file() for name in (INFO_PLIST, MANIFEST_PLIST, STATUS_PLIST)
    )
    return has_manifest and has_plist


def _read_is_encrypted(folder: Path, errors: list[ManifestRowError]) -> bool | None:
    """IsEncrypted from Manifest.plist; problems go to errors, since the db decides too."""
    path = folder / MANIFEST_PLIST
    if not path.is_file():
        errors.append(ManifestRowError(None, MANIFEST_PLIST, "missing; IsEncrypted unknown"))
        return None
    try:
        with path.open("rb") as handle:
            document = plistlib.load(handle)
    except (plistlib.InvalidFileException, ExpatError, ValueError, OSError) as error:
        errors.append(ManifestRowError(None, MANIFEST_PLIST, f"unreadable: {error}"))
        return None
    value = document.get("IsEncrypted") if isinstance(document, dict) else None
    if value is None:
        errors.append(ManifestRowError(None, "IsEncrypted", "key missing in Manifest.plist"))
        return None
    if not isinstance(value, bool):
        errors.append(ManifestRowError(None, "IsEncrypted", f"not a boolean: {value!r}"))
        return None
    return value


def _check_plain_sqlite(database: Path) -> None:
    """Encrypted backups encrypt Manifest.db itself; say so instead of a SQLite error."""
    with database.open("rb") as handle:
        head = handle.read(len(_SQLITE_MAGIC))
    if head != _SQLITE_MAGIC:
        raise BackupError(
            f"{database} is not a plain SQLite database; the backup is probably "
            "encrypted and needs the backup password to read"
        )


def _copy_database(folder: Path, tmp_dir: Path) -> Path:
    """Copy Manifest.db and its sidecar files into a fresh folder under tmp_dir."""
    source_root = folder.resolve()
    target_root = tmp_dir.resolve()
    if target_root == source_root or source_root in target_root.parents:
        raise BackupError(f"tmp_dir {tmp_dir} is inside the evidence folder {folder}")
    tmp_dir.mkdir(parents=True, exist_ok=True)
    target = Path(tempfile.mkdtemp(prefix="manifest-", dir=tmp_dir))
    for suffix in ("",) + _SIDECARS:
        source = folder / f"{MANIFEST_DB}{suffix}"
        if source.is_file():
            shutil.copyfile(source, target / source.name)
    return target / MANIFEST_DB


def _text(
    row_id: int, name: str, value: bytes | int | float | None, sql_type: str,
    errors: list[ManifestRowError],
) -> str | None:
    """Decode a TEXT value exactly (strict UTF-8) or record why it is not text."""
    if sql_type != "text":
        errors.append(ManifestRowError(row_id, name, f"stored as {sql_type}, not text", value))
        return None
    if not isinstance(value, bytes):
        errors.append(ManifestRowError(row_id, name, "text value not returned as bytes", value))
        return None
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as error:
        errors.append(ManifestRowError(row_id, name, f"invalid UTF-8: {error}", value))
        return None


def _type_name(value: bytes | str) -> str:
    """SQLite storage class name as str ('text', 'blob', 'null', ...)."""
    return value.decode("ascii") if isinstance(value, bytes) else value


def _row_to_file(row: tuple, errors: list[ManifestRowError]) -> BackupFile | None:
    """Validate one Files row; None (with errors recorded) when it cannot be mapped."""
    row_id, file_id, id_type, domain, domain_type, rel, rel_type, flags, flags_type, blob = row
    # typeof() names are TEXT too, so the bytes text_factory hands them over as bytes.
    id_type, domain_type, rel_type, flags_type = (
        _type_name(value) for value in (id_type, domain_type, rel_type, flags_type)
    )
    before = len(errors)
    file_id_text = _text(row_id, "fileID", file_id, id_type, errors)
    domain_text = _text(row_id, "domain", domain, domain_type, errors)
    rel_text = _text(row_id, "relativePath", rel, rel_type, errors)
    if file_id_text is not None and not _FILE_ID.fullmatch(file_id_text):
        # The ID becomes a path inside the backup, so anything but 40 hex is refused.
        errors.append(ManifestRowError(row_id, "fileID", "not 40 lowercase hex digits", file_id))
    if flags_type != "integer":
        errors.append(ManifestRowError(row_id, "flags", f"stored as {flags_type}, not integer",
                                       flags))
    if len(errors) != before:
        return None
    kind = KIND_BY_FLAGS.get(flags)
    if kind is None:
        # Kept in the mapping (the names are sound) but flagged for the examiner.
        errors.append(ManifestRowError(row_id, "flags", f"unknown flags value {flags}", flags))
        kind = "unknown"
    return BackupFile(file_id_text, domain_text, rel_text, flags, kind,
                      blob if isinstance(blob, bytes) else None)


def _read_files(
    database: Path, errors: list[ManifestRowError]
) -> tuple[dict[str, BackupFile], int]:
    """Read every Files row from the copy, opened read-only."""
    files: dict[str, BackupFile] = {}
    count = 0
    uri = f"{database.resolve().as_uri()}?mode=ro"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as connection:
            connection.text_factory = bytes
            for row in connection.execute(_FILES_SQL):
                count += 1
                entry = _row_to_file(row, errors)
                if entry is None:
                    continue
                key = stored_relative_path(entry.file_id)
                if key in files:
                    errors.append(ManifestRowError(
                        row[0], "fileID", "duplicate fileID; first row kept", row[1]))
                    continue
                files[key] = entry
    except sqlite3.DatabaseError as error:
        raise BackupError(f"cannot read Files from {database}: {error}") from error
    return files, count


def read_manifest(folder: Path, tmp_dir: Path) -> BackupManifest:
    """Read a backup's manifest without touching the backup.

    Manifest.db (with -wal/-journal/-shm when present) is copied to a new
    folder under tmp_dir and opened there read-only; the copy is left for
    the caller, who owns tmp_dir. Raises BackupError for encrypted, old
    (Manifest.mbdb) or unreadable manifests; OSError from copying passes up.
    """
    errors: list[ManifestRowError] = []
    is_encrypted = _read_is_encrypted(folder, errors)
    database = folder / MANIFEST_DB
    if not database.is_file():
        if (folder / MANIFEST_MBDB).is_file():
            raise BackupError(f"{folder} is a pre-iOS 10 backup (Manifest.mbdb), not supported")
        raise BackupError(f"{folder} has no {MANIFEST_DB}")
    if is_encrypted:
        raise BackupError(
            f"{folder} is an encrypted backup (Manifest.plist IsEncrypted is true); "
            "its files cannot be read without the backup password"
        )
    _check_plain_sqlite(database)
    copy = _copy_database(folder, tmp_dir)
    files, count = _read_files(copy, errors)
    return BackupManifest(MappingProxyType(files), is_encrypted, tuple(errors), count, copy)
