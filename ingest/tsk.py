"""The Sleuth Kit (pytsk3) over any dfVFS layer: opening a file system, walking it, reading content.

TSK is used for NTFS, FAT/exFAT, ext2/3/4, HFS+ and ISO9660 because, unlike dfVFS's directory
listing, it reports deleted names, orphan inodes and every NTFS data stream. TSK never opens a
file by name: given a name it would itself look for split-image segments beside it (`x.002.dmgpart`,
`x(2).bin`, `x.aab`, `x.001`) and follow symlinks, outside the confinement. A plain single-file raw
image is read through one descriptor Exhibit opened (`RawFileImage`, one pread per TSK cache
fill); anything nested (E01, QCOW2, partitions in LVM, VSS stores, unlocked encrypted volumes) is
read through a dfVFS file object. Both refuse a short read: TSK would zero-fill it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytsk3
from dfvfs.lib import definitions
from dfvfs.lib import errors as dfvfs_errors
from dfvfs.path.path_spec import PathSpec
from dfvfs.resolver import resolver

from ingest import confine, ntfs_names
from ingest.containers import split_raw_segments
from ingest.ext_inodes import ExtInodeTable, ExtLayoutError
from ingest.path_specs import deserialize, serialize
from manifests.text import display

TSK_READ_ERRORS: tuple[type[BaseException], ...] = (OSError, IOError, dfvfs_errors.Error, RuntimeError)

_ENTRY_TYPES = {
    pytsk3.TSK_FS_META_TYPE_REG: "file",
    pytsk3.TSK_FS_META_TYPE_DIR: "directory",
    pytsk3.TSK_FS_META_TYPE_LNK: "symlink",
    pytsk3.TSK_FS_META_TYPE_CHR: "char_device",
    pytsk3.TSK_FS_META_TYPE_BLK: "block_device",
    pytsk3.TSK_FS_META_TYPE_FIFO: "fifo",
    pytsk3.TSK_FS_META_TYPE_SOCK: "socket",
    pytsk3.TSK_FS_META_TYPE_SHAD: "shadow",
    pytsk3.TSK_FS_META_TYPE_WHT: "whiteout",
    pytsk3.TSK_FS_META_TYPE_VIRT: "virtual",
    pytsk3.TSK_FS_META_TYPE_VIRT_DIR: "virtual_directory",
}
_NAME_TYPES = {
    pytsk3.TSK_FS_NAME_TYPE_REG: "file",
    pytsk3.TSK_FS_NAME_TYPE_DIR: "directory",
    pytsk3.TSK_FS_NAME_TYPE_LNK: "symlink",
    pytsk3.TSK_FS_NAME_TYPE_CHR: "char_device",
    pytsk3.TSK_FS_NAME_TYPE_BLK: "block_device",
    pytsk3.TSK_FS_NAME_TYPE_FIFO: "fifo",
    pytsk3.TSK_FS_NAME_TYPE_SOCK: "socket",
    pytsk3.TSK_FS_NAME_TYPE_SHAD: "shadow",
    pytsk3.TSK_FS_NAME_TYPE_WHT: "whiteout",
    pytsk3.TSK_FS_NAME_TYPE_VIRT: "virtual",
    pytsk3.TSK_FS_NAME_TYPE_VIRT_DIR: "virtual_directory",
}
_DIRECTORY_TYPES = (pytsk3.TSK_FS_META_TYPE_DIR, pytsk3.TSK_FS_META_TYPE_VIRT_DIR)
_NS = 1_000_000_000
_NTFS_BADCLUS_INODE = 8


class ShortImageRead(IOError):
    """The image holds fewer bytes than TSK asked for: TSK would zero-fill the rest, so the read fails."""


def _checked(data: bytes, offset: int, size: int, image_size: int, name: str) -> bytes:
    """`data` when it holds every byte the image has in [offset, offset + size); ShortImageRead otherwise."""
    if offset < 0 or offset >= image_size:
        raise ShortImageRead(f"{name}: read at offset {offset} lies at or past the image end ({image_size} bytes)")
    expected = min(size, image_size - offset)
    if len(data) < expected:
        raise ShortImageRead(f"{name}: read of {expected} bytes at offset {offset} returned {len(data)}")
    return data[:expected]


class DfvfsImage(pytsk3.Img_Info):
    """A TSK image whose bytes come from a dfVFS file object (any container or volume layer)."""

    def __init__(self, path_spec: PathSpec) -> None:
        self._file_object = resolver.Resolver.OpenFileObject(path_spec)
        self._size = self._file_object.get_size()
        self._name = getattr(path_spec, "location", None) or path_spec.type_indicator
        super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

    def read(self, offset: int, size: int) -> bytes:
        self._file_object.seek(offset)
        return _checked(self._file_object.read(size), offset, size, self._size, self._name)

    def get_size(self) -> int:
        return self._size

    def close(self) -> None:
        return None


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
_NOATIME = getattr(os, "O_NOATIME", 0)


class RawFileImage(pytsk3.Img_Info):
    """One raw image file, read through a descriptor Exhibit opened (never a name handed to TSK)."""

    def __init__(self, location: str) -> None:
        self._name = location
        self._file = os.fdopen(_open_evidence(location), "rb", buffering=0)  # closed when the image is collected
        self._fd = self._file.fileno()
        self._size = os.fstat(self._fd).st_size
        super().__init__(url="", type=pytsk3.TSK_IMG_TYPE_EXTERNAL)

    def read(self, offset: int, size: int) -> bytes:
        if offset < 0 or offset >= self._size:
            return _checked(b"", offset, size, self._size, self._name)
        return _checked(os.pread(self._fd, size, offset), offset, size, self._size, self._name)

    def get_size(self) -> int:
        return self._size

    def close(self) -> None:
        return None  # TSK's close; the descriptor lives as long as this object, so no later read meets a reused number


def _open_evidence(location: str) -> int:
    """A read-only descriptor on the file itself (a symlink is refused); O_NOATIME where the owner allows it."""
    confine.check(location)
    if _NOATIME:
        try:
            return os.open(location, _OPEN_FLAGS | _NOATIME)
        except PermissionError:
            pass  # O_NOATIME needs the file's owner (or CAP_FOWNER); the plain open still reads nothing else
    return os.open(location, _OPEN_FLAGS)


@dataclass(frozen=True)
class TskVolume:
    """Serialisable recipe to open one TSK file system again, in any process."""

    parent_spec: str
    raw_file: str | None
    offset: int

    def open_image(self) -> pytsk3.Img_Info:
        """The bytes the file system lies in (it starts at `offset`)."""
        if self.raw_file is not None:
            return RawFileImage(self.raw_file)
        return DfvfsImage(deserialize(self.parent_spec))

    def open(self) -> pytsk3.FS_Info:
        return pytsk3.FS_Info(self.open_image(), offset=self.offset)

    def open_for_walk(self) -> tuple[pytsk3.FS_Info, Callable[[int, int], bytes]]:
        """The file system, and a reader of its own bytes (offset 0 = its first byte) for the walk."""
        image = self.open_image()
        start = self.offset
        return pytsk3.FS_Info(image, offset=start), lambda offset, size: image.read(start + offset, size)


def tsk_volume_for(fs_spec: PathSpec, offset: int | None) -> TskVolume:
    """The recipe for the file system described by a dfVFS file-system path spec."""
    parent = fs_spec.parent
    spec = parent
    if spec.type_indicator in (definitions.TYPE_INDICATOR_TSK_PARTITION, definitions.TYPE_INDICATOR_GPT) and offset is not None:
        spec = spec.parent
    raw_file = None
    if (
        spec is not None
        and spec.type_indicator == definitions.TYPE_INDICATOR_RAW
        and spec.parent is not None
        and spec.parent.type_indicator == definitions.TYPE_INDICATOR_OS
        and _single_raw_segment(spec.parent.location)
    ):
        raw_file = spec.parent.location
    return TskVolume(parent_spec=serialize(parent), raw_file=raw_file, offset=(offset or 0) if raw_file else 0)


def _single_raw_segment(location: str) -> bool:
    return len(split_raw_segments(Path(location))) == 1


def _time(seconds: int, nanoseconds: int) -> int | None:
    if not seconds and not nanoseconds:
        return None
    return seconds * _NS + (nanoseconds or 0)


@dataclass
class WalkItem:
    """One artefacts row (without content fields) and, for content-bearing rows, what to read."""

    row: dict
    target: tuple | None


def walk(fs: pytsk3.FS_Info, parent_spec_json: str, problems_add: Callable[..., None], volume_index: int,
         read_volume: Callable[[int, int], bytes] | None = None) -> Iterator[WalkItem]:
    """Every entry reachable from the root, including deleted names and TSK's orphan directory.

    Directories are walked depth-first in on-disk order; a directory already on the current
    path is not entered again, so a corrupt loop cannot run forever. `read_volume` (bytes of the
    file system from its start) lets ext entries whose inode is free carry their deletion time.
    """
    ftype = int(fs.info.ftype)
    is_ntfs = bool(ftype & int(pytsk3.TSK_FS_TYPE_NTFS_DETECT))
    is_hfs = bool(ftype & int(pytsk3.TSK_FS_TYPE_HFS_DETECT))
    report = _Reporter(problems_add, volume_index)
    deletion_times = None
    if ftype & int(pytsk3.TSK_FS_TYPE_EXT_DETECT) and read_volume is not None:
        try:
            deletion_times = ExtInodeTable(read_volume)
        except (ExtLayoutError, *TSK_READ_ERRORS) as error:
            problems_add("walk", "deletion_times_unread", "warning", f"ext deletion times (inode dtime) not read: {error}",
                         volume_index=volume_index, path_spec=parent_spec_json)
    root_inode = fs.info.root_inum
    orphan_inode = fs.info.last_inum  # TSK's virtual $OrphanFiles directory is the last inode
    try:
        root = fs.open_meta(inode=root_inode)
    except TSK_READ_ERRORS as error:
        problems_add("walk", "corrupt_volume", "error", f"root directory cannot be opened: {error}", volume_index=volume_index, path_spec=parent_spec_json)
        return
    flags = _Flags(is_ntfs, is_hfs, deletion_times)
    yield from _entry_items(root, b"/", b"", None, parent_spec_json, flags, report, orphan=False, root=True)
    stack: list[tuple[int, bytes, tuple[int, ...], bool]] = [(root_inode, b"", (root_inode,), False)]
    while stack:
        inode, path, ancestors, in_orphans = stack.pop()
        try:
            directory = fs.open_dir(inode=inode)
        except TSK_READ_ERRORS as error:
            problems_add("walk", "unreadable_directory", "error", f"directory {display(path or b'/')} (inode {inode}) cannot be listed: {error}",
                         volume_index=volume_index, path=display(path or b"/"), path_spec=parent_spec_json)
            continue
        subdirectories = []
        try:
            for entry in directory:
                name_info = entry.info.name
                name = name_info.name
                if name in (b".", b"..") or name is None:
                    continue
                meta = entry.info.meta
                if flags.is_ntfs and b"^" in name and meta is not None:
                    name = _ntfs_exact_name(entry, name, inode, path, parent_spec_json, report)
                full = path + b"/" + name
                child_orphan = in_orphans or (meta is not None and orphan_inode is not None and meta.addr == orphan_inode and path == b"")
                yield from _entry_items(entry, full, name, inode, parent_spec_json, flags, report, orphan=in_orphans, root=False)
                if meta is not None and meta.type in _DIRECTORY_TYPES and meta.addr not in ancestors:
                    subdirectories.append((meta.addr, full, ancestors + (meta.addr,), child_orphan))
        except TSK_READ_ERRORS as error:
            problems_add("walk", "unreadable_directory", "error", f"listing of {display(path or b'/')} stopped early: {error}",
                         volume_index=volume_index, path=display(path or b"/"), path_spec=parent_spec_json)
        stack.extend(reversed(subdirectories))


@dataclass(frozen=True)
class _Reporter:
    """Where the walk's per-entry problems go: errors.parquet, with the volume they belong to."""

    add: Callable[..., None]
    volume_index: int

    def __call__(self, kind: str, message: str, path: bytes, spec: str, severity: str = "error") -> None:
        self.add("walk", kind, severity, message, volume_index=self.volume_index, path=display(path), path_spec=spec)


@dataclass(frozen=True)
class _Flags:
    """What kind of file system the walk is in, and where ext deletion times come from."""

    is_ntfs: bool
    is_hfs: bool
    deletion_times: ExtInodeTable | None


def _ntfs_exact_name(entry: pytsk3.File, name: bytes, directory_inode: int, path: bytes, spec: str, report: _Reporter) -> bytes:
    """The name as NTFS stores it where TSK's conversion may have replaced part of it with '^'."""
    exact = ntfs_names.exact_name(entry, name, directory_inode, TSK_READ_ERRORS)
    if exact is None:
        full = path + b"/" + name
        report("name_not_exact", f"{display(full)}: the name has '^' from The Sleuth Kit's conversion and no $FILE_NAME "
               f"attribute of inode {entry.info.meta.addr} in this directory confirms it; kept as TSK gives it", full, spec,
               severity="warning")
        return name
    return exact


def _deletion_time(flags: _Flags, meta: pytsk3.TSK_FS_META, full: bytes, spec: str, report: _Reporter) -> int | None:
    """An ext inode's dtime, only when the inode is free (a live inode uses the field for the orphan list)."""
    if flags.deletion_times is None or meta is None or not meta.addr or int(meta.flags) & pytsk3.TSK_FS_META_FLAG_ALLOC:
        return None  # no inode (address 0) has no deletion time to read
    try:
        return flags.deletion_times.deletion_time(int(meta.addr))
    except (ExtLayoutError, *TSK_READ_ERRORS) as error:
        report("unreadable_inode", f"deletion time of {display(full)} (inode {meta.addr}) cannot be read: {error}", full, spec)
        return None


def _entry_items(entry: pytsk3.File, full: bytes, name: bytes, parent_inode: int | None, parent_spec_json: str,
                 flags: _Flags, report: _Reporter, orphan: bool, root: bool) -> Iterator[WalkItem]:
    is_ntfs, is_hfs = flags.is_ntfs, flags.is_hfs
    name_info = entry.info.name
    meta = entry.info.meta
    name_allocated = root or bool(name_info is not None and int(name_info.flags) & pytsk3.TSK_FS_NAME_FLAG_ALLOC)
    meta_allocated = meta is not None and bool(int(meta.flags) & pytsk3.TSK_FS_META_FLAG_ALLOC)
    allocated = name_allocated and (meta is None or meta_allocated)
    reallocated = not name_allocated and meta_allocated
    if meta is not None:
        entry_type = _ENTRY_TYPES.get(meta.type, "unknown")
    elif name_info is not None:
        entry_type = _NAME_TYPES.get(name_info.type, "unknown")
    else:
        entry_type = "unknown"
    inode = meta.addr if meta is not None else (name_info.meta_addr if name_info is not None else None)
    location = full.decode("utf-8", errors="surrogateescape")
    row = {
        "path": display(full),
        "path_bytes": full,
        "name_bytes": name,
        "data_stream": None,
        "inode": inode,
        "sequence": meta.seq if meta is not None and is_ntfs else None,
        "parent_inode": parent_inode,
        "entry_type": entry_type,
        "size": meta.size if meta is not None else None,
        "is_allocated": allocated,
        "is_deleted": not allocated,
        "is_orphan": orphan,
        "created_time": _time(meta.crtime, meta.crtime_nano) if meta is not None else None,
        "modified_time": _time(meta.mtime, meta.mtime_nano) if meta is not None else None,
        "accessed_time": _time(meta.atime, meta.atime_nano) if meta is not None else None,
        "changed_time": _time(meta.ctime, meta.ctime_nano) if meta is not None else None,
        "deleted_time": None,
        "mode": int(meta.mode) if meta is not None else None,
        "uid": meta.uid if meta is not None else None,
        "gid": meta.gid if meta is not None else None,
        "link_target": None,
        "link_target_bytes": None,
        "path_spec": _spec_json(inode, location, None, parent_spec_json),
    }
    row["deleted_time"] = _deletion_time(flags, meta, full, row["path_spec"], report)
    link = None
    if meta is not None and entry_type == "symlink":
        link = meta.link if isinstance(meta.link, bytes) or meta.link is None else str(meta.link).encode("utf-8", errors="surrogateescape")
        if not link and 0 < int(meta.size) <= 65536:
            try:  # a target too long for the inode (ext: > 60 bytes) is the symlink's data
                link = entry.read_random(0, int(meta.size))
            except TSK_READ_ERRORS as error:
                link = None
                report("unreadable_link", f"target of symbolic link {display(full)} cannot be read: {error}", full, row["path_spec"])
    if link:
        row["link_target_bytes"] = link
        row["link_target"] = display(link)
    target = None
    if entry_type in ("file", "virtual") and meta is not None and not reallocated:
        target = (inode, pytsk3.TSK_FS_ATTR_TYPE_DEFAULT, -1, int(meta.size), allocated)
    elif reallocated:
        row["content_status"] = "not_hashed_deleted"
    yield WalkItem(row, target)
    if meta is None or reallocated or not (is_ntfs or is_hfs):
        return
    for stream_name, attr_type, attr_id, size in _named_streams(entry, is_ntfs, full, row["path_spec"], report):
        stream_row = dict(row)
        stream_text = stream_name.decode("utf-8", errors="surrogateescape")
        stream_full = full + b":" + stream_name
        stream_row.update(
            path=display(stream_full),
            path_bytes=stream_full,
            data_stream=display(stream_name),
            entry_type="data_stream",
            size=size,
            path_spec=_spec_json(inode, location, stream_text, parent_spec_json),
        )
        if is_ntfs and inode == _NTFS_BADCLUS_INODE and stream_name == b"$Bad":
            # The bad-cluster map: a sparse stream as long as the volume, not file data. TSK
            # (and so icat) returns no bytes for it; hashing it would state nothing.
            stream_row["content_status"] = "not_file_data"
            yield WalkItem(stream_row, None)
            continue
        yield WalkItem(stream_row, (inode, attr_type, attr_id, size, allocated))


def _named_streams(entry: pytsk3.File, is_ntfs: bool, full: bytes, spec: str, report: _Reporter) -> Iterator[tuple[bytes, int, int, int]]:
    """NTFS named $DATA attributes (alternate data streams) and HFS+ resource forks."""
    try:
        attributes = list(entry)
    except TSK_READ_ERRORS as error:
        report("unreadable_attributes", f"data streams of {display(full)} cannot be listed: {error}", full, spec)
        return
    for attribute in attributes:
        info = attribute.info
        if is_ntfs and info.type == pytsk3.TSK_FS_ATTR_TYPE_NTFS_DATA and info.name:
            yield info.name, int(info.type), int(info.id), int(info.size)
        elif not is_ntfs and info.type == pytsk3.TSK_FS_ATTR_TYPE_HFS_RSRC and int(info.size) > 0:
            yield b"rsrc", int(info.type), int(info.id), int(info.size)


def _spec_json(inode: int | None, location: str, data_stream: str | None, parent_json: str) -> str:
    parts = ['{"__type__": "PathSpec"']
    if data_stream is not None:
        parts.append(f'"data_stream": {json.dumps(data_stream)}')
    if inode is not None:
        parts.append(f'"inode": {inode}')
    parts.append(f'"location": {json.dumps(location)}')
    parts.append(f'"parent": {parent_json}')
    parts.append('"type_indicator": "TSK"}')
    return ", ".join(parts)


def reader_for(fs: pytsk3.FS_Info, target: tuple):
    """A read(offset, size) function over one attribute of one inode."""
    inode, attr_type, attr_id, _size, _allocated = target
    handle = fs.open_meta(inode=inode)

    def read(offset: int, size: int) -> bytes:
        return handle.read_random(offset, size, attr_type, attr_id)

    return read
