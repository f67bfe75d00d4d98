"""Locate, list and unpack the shared real-world test corpus.

The corpus is read-only evidence made by other people (see its README.md and
SOURCES.tsv). Tests never write to it: compressed entries are unpacked into a
temporary folder that the caller owns.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import lzma
import os
import shutil
import subprocess
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import BinaryIO

import pytest

CORPUS_ENV = "EXHIBIT_CORPUS"
LARGE_SPARSE_ENV = "EXHIBIT_ALLOW_LARGE_SPARSE"
REPO_ROOT = Path(__file__).resolve().parent.parent

# An archive whose images add up to more than this must land on a file system
# that keeps holes; one with a single image above LARGE_SPARSE_BYTES (the VSS
# samples: 5 GiB and 128 GiB apparent) also needs an explicit opt-in.
HOLES_NEEDED_BYTES = 1 << 30
LARGE_SPARSE_BYTES = 4 << 30
FREE_SPACE_MARGIN = 256 << 20

_CHUNK = 1 << 20
_ZERO_CHUNK = bytes(_CHUNK)
_TAR_SUFFIXES = (".tar.gz", ".tar.xz", ".tgz", ".txz", ".tar")
_STREAM_SUFFIXES = (".gz", ".xz")


def corpus_root() -> Path:
    """Where the corpus lives: $EXHIBIT_CORPUS, else ../shared/corpus from the repo."""
    configured = os.environ.get(CORPUS_ENV)
    if configured:
        return Path(configured)
    return REPO_ROOT.parent / "shared" / "corpus"


def _corpus_present(root: Path) -> bool:
    """A folder counts as the corpus only if it holds the SOURCES.tsv index."""
    return (root / "SOURCES.tsv").is_file()


def require_corpus() -> Path:
    """Return the corpus root; skip the test without it, but fail it under CI=true.

    CI must never pass green just because the corpus was not mounted.
    """
    root = corpus_root()
    if _corpus_present(root):
        return root
    reason = (
        f"real test corpus not found at {root} (no SOURCES.tsv); "
        f"set {CORPUS_ENV} to the corpus folder"
    )
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason}; CI=true requires the corpus", pytrace=False)
    pytest.skip(reason)


def _all_rows(root: Path) -> list[dict[str, str]]:
    """Parse SOURCES.tsv verbatim (tab separated, no quoting)."""
    with open(root / "SOURCES.tsv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE))


def _category_of(description: str) -> str:
    """The description's first word is its category, e.g. '[disk]'."""
    return description.split(maxsplit=1)[0] if description else ""


def sources_rows(category: str) -> list[dict[str, str]]:
    """Rows of SOURCES.tsv in one category ('[disk]' or 'disk').

    Returns [] when the corpus is absent so that it is safe to call at
    collection time (parametrize); tests still call require_corpus(), which
    skips, or fails under CI.
    """
    root = corpus_root()
    if not _corpus_present(root):
        return []
    wanted = category if category.startswith("[") else f"[{category}]"
    return [row for row in _all_rows(root) if _category_of(row["description"]) == wanted]


def _sha256_file(path: Path) -> str:
    """Stream a file through SHA-256 without loading it whole."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


def check_untouched(local_path: str) -> bool:
    """True when the corpus file still has the sha256 that SOURCES.tsv records.

    Raises KeyError for a path that SOURCES.tsv does not list.
    """
    root = require_corpus()
    expected = {row["local_path"]: row["sha256"] for row in _all_rows(root)}[local_path]
    return _sha256_file(root / local_path) == expected.lower()


# --- unpacking -------------------------------------------------------------


def _magic_kind(head: bytes) -> str:
    """Classify by magic bytes, because names lie (mbr-win-512.raw.tgz is a plain tar)."""
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith(b"PK\x03\x04"):
        return "zip"
    if head[257:262] == b"ustar":
        return "tar"
    return "plain"


def _open_stream(path: Path, kind: str) -> BinaryIO:
    """Open a gzip or xz file as a decompressed byte stream."""
    if kind == "gzip":
        return gzip.open(path, "rb")
    return lzma.open(path, "rb")


def container_kind(path: Path) -> str:
    """One of 'plain', 'gzip', 'xz', 'zip', 'tar', 'tar+gzip', 'tar+xz'.

    A gzip/xz stream is a tarball when its first decompressed block carries
    the ustar magic.
    """
    with open(path, "rb") as handle:
        head = handle.read(512)
    kind = _magic_kind(head)
    if kind in ("gzip", "xz"):
        with _open_stream(path, kind) as stream:
            if _magic_kind(stream.read(512)) == "tar":
                return f"tar+{kind}"
    return kind


def _strip_suffix(name: str) -> str:
    """Drop the compression/archive suffix to name the unpacked result."""
    for suffix in _TAR_SUFFIXES + _STREAM_SUFFIXES + (".zip",):
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def _cache_name(local_path: str) -> str:
    """A flat, unique name in tmp_root for one corpus entry."""
    return _strip_suffix(local_path.replace("/", "__"))


def _write_sparse(source: BinaryIO, target: BinaryIO) -> None:
    """Copy a stream, seeking over all-zero chunks so the copy keeps holes."""
    size = 0
    for block in iter(lambda: source.read(_CHUNK), b""):
        if block == _ZERO_CHUNK[: len(block)]:
            target.seek(len(block), os.SEEK_CUR)
        else:
            target.write(block)
        size += len(block)
    target.truncate(size)


def _keeps_holes(folder: Path) -> bool:
    """Probe whether files in folder can be sparse (a 64 MiB hole must cost < 1 MiB)."""
    fd, name = tempfile.mkstemp(prefix=".hole-probe-", dir=folder)
    try:
        os.lseek(fd, 64 << 20, os.SEEK_SET)
        os.write(fd, b"\x01")
        os.fsync(fd)
        return os.fstat(fd).st_blocks * 512 < (1 << 20)
    finally:
        os.close(fd)
        os.unlink(name)


def _tar_sizes(archive: Path) -> tuple[int, int, int]:
    """(apparent total, largest member, bytes of real data) of a tar's files.

    Real data excludes the holes of GNU sparse members, which is what a
    hole-keeping file system will actually store.
    """
    apparent = largest = stored = 0
    with tarfile.open(archive) as tar:
        for member in tar.getmembers():
            if not member.isfile():
                continue
            apparent += member.size
            largest = max(largest, member.size)
            if member.sparse:
                stored += sum(length for _offset, length in member.sparse)
            else:
                stored += member.size
    return apparent, largest, stored


def _large_sparse_allowed(flag: bool | None) -> bool:
    """Explicit argument wins; otherwise $EXHIBIT_ALLOW_LARGE_SPARSE=1 opts in."""
    if flag is not None:
        return flag
    return os.environ.get(LARGE_SPARSE_ENV, "") in ("1", "true", "yes")


def _check_tar_fits(archive: Path, tmp_root: Path, allow_large_sparse: bool | None) -> None:
    """Skip rather than fill a small CI disk with the holes of huge sparse images.

    Large sparse images (the VSS samples, 5-128 GiB apparent) are extracted
    only when allowed and only when the file system keeps holes.
    """
    apparent, largest, stored = _tar_sizes(archive)
    if largest > LARGE_SPARSE_BYTES and not _large_sparse_allowed(allow_large_sparse):
        pytest.skip(
            f"{archive.name} holds a {largest / (1 << 30):.0f} GiB sparse image; "
            f"extracted only with {LARGE_SPARSE_ENV}=1 (large sparse; extracted only "
            "when the file system keeps holes)"
        )
    if apparent > HOLES_NEEDED_BYTES and not _keeps_holes(tmp_root):
        pytest.skip(f"{archive.name}: {tmp_root} does not keep holes; refusing "
                    f"to write {apparent / (1 << 30):.1f} GiB")
    stat = os.statvfs(tmp_root)
    free = stat.f_bavail * stat.f_frsize
    if stored + FREE_SPACE_MARGIN > free:
        pytest.skip(f"{archive.name}: needs {stored >> 20} MiB, only {free >> 20} MiB free")


def _extract_tar(archive: Path, dest: Path) -> None:
    """GNU tar, which recreates the holes of sparse members and detects compression itself."""
    subprocess.run(
        ["tar", "-xSf", str(archive), "-C", str(dest), "--no-same-owner"],
        check=True,
        stdin=subprocess.DEVNULL,
        capture_output=True,
    )


def _extract_zip(archive: Path, dest: Path) -> None:
    """zipfile's extractall already refuses absolute and '..' member names."""
    with zipfile.ZipFile(archive) as zipped:
        zipped.extractall(dest)


def _archive_result(folder: Path) -> Path:
    """The single file an archive held; else its single top folder; else folder."""
    files = [path for path in folder.rglob("*") if path.is_file()]
    if len(files) == 1:
        return files[0]
    children = list(folder.iterdir())
    if len(children) == 1 and children[0].is_dir():
        return children[0]
    return folder


def _publish(partial: Path, final: Path) -> None:
    """Atomically move a finished unpack into place; a parallel winner is kept."""
    try:
        os.rename(partial, final)
    except OSError:
        if not final.exists():
            raise
        if partial.is_dir():
            shutil.rmtree(partial)
        else:
            partial.unlink()


def unpacked(local_path: str, tmp_root: Path, allow_large_sparse: bool | None = None) -> Path:
    """A readable image for a corpus entry, unpacking it into tmp_root at most once.

    Plain files, and zip-based formats not named *.zip (AFF4), come back as the
    corpus path itself (read-only: never write to it). gzip/xz streams become one sparse file; tar (any compression, chosen
    by magic bytes) and zip archives become a folder, and the result is the
    only file in it, or its only top folder, or the folder. Archives with
    multi-GiB sparse images skip the calling test unless allowed (see
    _check_tar_fits).
    """
    source = require_corpus() / local_path
    kind = container_kind(source)
    if kind == "plain" or (kind == "zip" and not local_path.lower().endswith(".zip")):
        return source  # AFF4 images are zip containers too, read as they are
    tmp_root.mkdir(parents=True, exist_ok=True)
    final = tmp_root / _cache_name(local_path)
    if kind in ("gzip", "xz"):
        if not final.exists():
            _unpack_stream(source, kind, final)
        return final
    final = final.with_name(final.name + ".d")
    if not final.exists():
        _unpack_archive(source, kind, final, tmp_root, allow_large_sparse)
    return _archive_result(final)


def _unpack_stream(source: Path, kind: str, final: Path) -> None:
    """Decompress one gzip/xz file into final, via a partial file."""
    fd, name = tempfile.mkstemp(prefix=".partial-", dir=final.parent)
    try:
        with os.fdopen(fd, "wb") as target, _open_stream(source, kind) as stream:
            _write_sparse(stream, target)
    except (OSError, EOFError, lzma.LZMAError):
        os.unlink(name)
        raise
    _publish(Path(name), final)


def _unpack_archive(
    source: Path, kind: str, final: Path, tmp_root: Path, allow_large_sparse: bool | None
) -> None:
    """Extract a tar or zip archive into final, via a partial folder."""
    if kind.startswith("tar"):
        _check_tar_fits(source, tmp_root, allow_large_sparse)
    partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=tmp_root))
    try:
        if kind == "zip":
            _extract_zip(source, partial)
        else:
            _extract_tar(source, partial)
    except (subprocess.CalledProcessError, zipfile.BadZipFile, OSError):
        shutil.rmtree(partial, ignore_errors=True)
        raise
    _publish(partial, final)
