"""The identity of a staging folder (`STAGING/resume.json`): a rerun resumes only the same ingest.

Same case and exhibit ids, tool version, configuration digest (`Config.digest()`) and source
fingerprint. The fingerprint of a container source is, per container file, its resolved path,
size, mtime_ns and the SHA-256 of its first and last MiB: cheap (two MiB read per file, whatever its
size) and it changes when a file is replaced, grown, truncated or rewritten at either end; a change
in the middle alone that keeps size and mtime is not seen, which is why the full evidence hashes
are still computed again by every run. A folder source is fingerprinted by its resolved path and
the stat (device, inode, mtime_ns) of its root only: hashing every file would cost a full read;
units still carry the SHA-256 of their items, so a file whose name or size changed is reread.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

FORMAT = "exhibit-resume/1"
EDGE = 1 << 20
MAX_IDENTITY_BYTES = 16 << 20


class IdentityInvalid(ValueError):
    """A resume.json that cannot be trusted (missing, a symlink, too big, not this format)."""


def _edges(path: Path, size: int) -> tuple[str, str]:
    with open(path, "rb") as handle:
        first = hashlib.sha256(handle.read(EDGE)).hexdigest()
        handle.seek(max(0, size - EDGE))
        last = hashlib.sha256(handle.read(EDGE)).hexdigest()
    return first, last


def source_fingerprint(source: Path, container_files: list[Path]) -> dict:
    """What identifies the evidence, cheaply (see the module docstring)."""
    if source.is_dir():
        info = os.stat(source)
        return {"kind": "folder", "path": os.fsdecode(source.resolve()), "device": info.st_dev, "inode": info.st_ino,
                "mtime_ns": info.st_mtime_ns}
    files = []
    for path in container_files:
        info = os.stat(path)
        first, last = _edges(path, info.st_size)
        files.append({"path": os.fsdecode(path.resolve()), "size": info.st_size, "mtime_ns": info.st_mtime_ns,
                      "first_mib_sha256": first, "last_mib_sha256": last})
    return {"kind": "containers", "files": files}


def identity(case_id: str, exhibit_id: str, tool_version: str, config_digest: str, fingerprint: dict) -> dict:
    return {"format": FORMAT, "case_id": case_id, "exhibit_id": exhibit_id, "tool_version": tool_version,
            "config_digest": config_digest, "source": fingerprint}


def differences(stored: dict, current: dict) -> list[str]:
    """What differs, in words, for the refusal message (empty: the same ingest)."""
    names = {"format": "file format", "case_id": "case id", "exhibit_id": "exhibit id", "tool_version": "tool version",
             "config_digest": "configuration", "source": "source"}
    return [f"{label} ({stored.get(key)!r} then, {current.get(key)!r} now)" if key != "source" else "source (other files, sizes, times or content)"
            for key, label in names.items() if stored.get(key) != current.get(key)]


def write(staging: Path, value: dict) -> None:
    """Durably: temporary name, fsync, rename, folder fsync."""
    target = staging / "resume.json"
    temporary = staging / ".resume.json.tmp"
    with open(temporary, "wb") as handle:
        handle.write(json.dumps(value, sort_keys=True, indent=1).encode())
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)
    fd = os.open(staging, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def read(staging: Path) -> dict:
    """The stored identity; IdentityInvalid when it cannot be trusted (never follows a symlink)."""
    try:
        fd = os.open(staging / "resume.json", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as exc:
        raise IdentityInvalid(f"resume.json cannot be read safely: {exc.strerror or exc}") from None
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_IDENTITY_BYTES:
            raise IdentityInvalid("resume.json is not a regular file within its budget")
        data = handle.read(MAX_IDENTITY_BYTES + 1)
    try:
        value = json.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise IdentityInvalid(f"resume.json is not valid JSON: {str(exc)[:200]}") from None
    if not isinstance(value, dict) or value.get("format") != FORMAT:
        raise IdentityInvalid("resume.json is not an exhibit-resume/1 document")
    return value


__all__ = ["FORMAT", "IdentityInvalid", "differences", "identity", "read", "source_fingerprint", "write"]
