"""Walking a folder source (a logical extraction as phone tools deliver it, or an iTunes backup).

Only the folder given is read: symbolic links are recorded with their target and never
followed, and a mount point inside the folder (another file system, or a bind mount of any
folder or file, even one of the same file system) is recorded as an entry and never crossed, so
nothing outside the evidence folder is catalogued. Files are opened read-only with
O_NOATIME where the system allows it, so not even access times change.
"""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Callable, Iterator

from ingest.tsk import WalkItem
from manifests.text import display

_TYPES = (
    (stat.S_ISLNK, "symlink"),
    (stat.S_ISDIR, "directory"),
    (stat.S_ISREG, "file"),
    (stat.S_ISCHR, "char_device"),
    (stat.S_ISBLK, "block_device"),
    (stat.S_ISFIFO, "fifo"),
    (stat.S_ISSOCK, "socket"),
)


def _entry_type(mode: int) -> str:
    for test, name in _TYPES:
        if test(mode):
            return name
    return "unknown"


def _list_without_atime(directory: bytes) -> list[str]:
    """Names in a directory, read through an O_NOATIME descriptor so its access time does not move."""
    try:
        descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_NOATIME", 0))
    except PermissionError:  # O_NOATIME needs ownership
        descriptor = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return os.listdir(descriptor)
    finally:
        os.close(descriptor)


MOUNT_TABLE = "/proc/self/mountinfo"
_OCTAL = re.compile(rb"\\([0-7]{3})")


def mount_points(root: bytes, table: str = MOUNT_TABLE) -> frozenset[bytes]:
    """Mount points strictly below `root` (a resolved path), from the kernel's mount table.

    A bind mount of a folder of the same file system keeps st_dev, so the device number alone
    cannot tell it apart; the mount table can. Without a readable table only st_dev is checked.
    """
    try:
        with open(table, "rb") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return frozenset()
    prefix = root.rstrip(b"/") + b"/"
    found = set()
    for line in lines:
        fields = line.split(b" ")
        if len(fields) > 4:
            point = _OCTAL.sub(lambda match: bytes([int(match.group(1), 8)]), fields[4])
            if point.startswith(prefix):
                found.add(point)
    return frozenset(found)


def _spec(location: bytes) -> str:
    return json.dumps({"__type__": "PathSpec", "location": os.fsdecode(location), "type_indicator": "OS"})


def walk(root: Path, problems_add: Callable[..., None], volume_index: int,
         logical_paths: dict[bytes, str] | None = None) -> Iterator[WalkItem]:
    """Every entry under `root`, depth first, names sorted by their bytes for a stable order."""
    root_bytes = os.fsencode(root)
    try:
        info = os.lstat(root_bytes)
    except OSError as error:
        problems_add("walk", "unreadable_directory", "error", f"source folder cannot be read: {error}", volume_index=volume_index)
        return
    yield _item(root_bytes, b"/", b"", info, None, logical_paths, problems_add, volume_index)
    mounts = mount_points(root_bytes)
    stack: list[tuple[bytes, bytes, int]] = [(root_bytes, b"", info.st_ino)]
    while stack:
        directory, relative, inode = stack.pop()
        try:
            names = sorted(os.fsencode(name) for name in _list_without_atime(directory))
        except OSError as error:
            problems_add("walk", "unreadable_directory", "error", f"{display(relative or b'/')} cannot be listed: {error}",
                         volume_index=volume_index, path=display(relative or b"/"), path_spec=_spec(directory))
            continue
        children = []
        for name in names:
            absolute = directory + b"/" + name
            full = relative + b"/" + name
            try:
                child = os.lstat(absolute)
            except OSError as error:
                problems_add("walk", "unreadable_entry", "error", f"{display(full)} cannot be examined: {error}",
                             volume_index=volume_index, path=display(full), path_spec=_spec(absolute))
                continue
            if absolute in mounts or (stat.S_ISDIR(child.st_mode) and child.st_dev != info.st_dev):
                yield _mount_point(absolute, full, name, child, inode, problems_add, volume_index)
                continue
            yield _item(absolute, full, name, child, inode, logical_paths, problems_add, volume_index)
            if stat.S_ISDIR(child.st_mode):
                children.append((absolute, full, child.st_ino))
        stack.extend(reversed(children))


def _mount_point(absolute: bytes, full: bytes, name: bytes, info: os.stat_result, parent_inode: int | None,
                 problems_add: Callable[..., None], volume_index: int) -> WalkItem:
    """A mount point's name is evidence; what is mounted there is not: no metadata, no content, no children."""
    spec = _spec(absolute)
    problems_add("walk", "mount_point_not_crossed", "warning",
                 f"{display(full)} is a mount point (another file system or a bind mount): recorded by name, not crossed; "
                 "its metadata and content belong to what is mounted there and are not read",
                 volume_index=volume_index, path=display(full), path_spec=spec)
    row = {
        "path": display(full), "path_bytes": full, "name_bytes": name, "data_stream": None, "logical_path": None, "inode": None,
        "sequence": None, "parent_inode": parent_inode, "entry_type": _entry_type(info.st_mode), "size": None, "is_allocated": True,
        "is_deleted": False, "is_orphan": False, "created_time": None, "modified_time": None, "accessed_time": None, "changed_time": None, "deleted_time": None,
        "mode": None, "uid": None, "gid": None, "link_target": None, "link_target_bytes": None, "path_spec": spec,
    }
    return WalkItem(row, None)


def _item(absolute: bytes, full: bytes, name: bytes, info: os.stat_result, parent_inode: int | None,
          logical_paths: dict[bytes, str] | None, problems_add: Callable[..., None], volume_index: int) -> WalkItem:
    entry_type = _entry_type(info.st_mode)
    row = {
        "path": display(full),
        "path_bytes": full,
        "name_bytes": name,
        "data_stream": None,
        "logical_path": display((logical_paths or {}).get(full.lstrip(b"/"))),
        "inode": info.st_ino,
        "sequence": None,
        "parent_inode": parent_inode,
        "entry_type": entry_type,
        "size": info.st_size,
        "is_allocated": True,
        "is_deleted": False,
        "is_orphan": False,
        "created_time": getattr(info, "st_birthtime_ns", None),
        "modified_time": info.st_mtime_ns,
        "accessed_time": info.st_atime_ns,
        "changed_time": info.st_ctime_ns,
        "deleted_time": None,
        "mode": stat.S_IMODE(info.st_mode),
        "uid": info.st_uid,
        "gid": info.st_gid,
        "link_target": None,
        "link_target_bytes": None,
        "path_spec": _spec(absolute),
    }
    if entry_type == "symlink":
        try:
            target = os.readlink(absolute)
        except OSError as error:
            problems_add("walk", "unreadable_link", "error", f"target of symbolic link {display(full)} cannot be read: {error}",
                         volume_index=volume_index, path=display(full), path_spec=row["path_spec"])
        else:
            row["link_target"], row["link_target_bytes"] = display(target), target
    work = ("folder", os.fsdecode(absolute), info.st_size) if entry_type == "file" else None
    return WalkItem(row, work)
