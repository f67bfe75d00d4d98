"""Walking a file system or archive through dfVFS file entries.

Used where TSK does not serve: APFS, XFS, and any file system TSK refuses to open. dfVFS lists
allocated entries only; where that matters the volume's walker is TSK. Archives (ZIP, TAR,
TAR.GZ) have their own walker, ingest/archive_walk.py.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Callable, Iterator

from dfdatetime import interface as dfdatetime_interface
from dfvfs.lib import definitions
from dfvfs.lib import errors as dfvfs_errors
from dfvfs.path import factory as path_spec_factory
from dfvfs.path.path_spec import PathSpec
from dfvfs.resolver import resolver
from dfvfs.vfs.file_entry import FileEntry

from ingest.path_specs import serialize
from ingest.tsk import WalkItem
from manifests.text import display

DFVFS_READ_ERRORS: tuple[type[BaseException], ...] = (OSError, IOError, dfvfs_errors.Error, ValueError, RuntimeError)
_NS = Decimal(1_000_000_000)


def timestamp_ns(value: dfdatetime_interface.DateTimeValues | None) -> int | None:
    """Nanoseconds since the epoch, UTC; None when absent or not a real time (dfDateTime's 'Not set')."""
    if value is None:
        return None
    # dfDateTime's normalised timestamp is a Decimal in seconds that keeps the source's precision and
    # applies any time-zone offset the value carries; it has no public accessor in this release.
    normalized = value._GetNormalizedTimestamp()
    if normalized is None:
        return None
    return int(normalized * _NS)


def _entry_type(entry: FileEntry) -> str:
    if entry.IsLink():
        return "symlink"
    if entry.IsDirectory():
        return "directory"
    if entry.IsFile():
        return "file"
    if entry.IsDevice():
        return "char_device"
    if entry.IsPipe():
        return "fifo"
    if entry.IsSocket():
        return "socket"
    return "unknown"


def _name_bytes(entry: FileEntry) -> bytes:
    return (entry.name or "").encode("utf-8", errors="surrogateescape")


def walk(fs_spec: PathSpec, problems_add: Callable[..., None], volume_index: int) -> Iterator[WalkItem]:
    """Every entry below the root, depth first, children in the order dfVFS lists them."""
    try:
        root = resolver.Resolver.OpenFileEntry(fs_spec)
    except DFVFS_READ_ERRORS as error:
        root = None
        problems_add("walk", "corrupt_volume", "error", f"root cannot be opened: {error}", volume_index=volume_index, path_spec=serialize(fs_spec))
    if root is None:
        return
    def report(kind: str, message: str, path: bytes, spec: str) -> None:
        problems_add("walk", kind, "error", message, volume_index=volume_index, path=display(path), path_spec=spec)

    yield from _items(root, b"/", b"", None, report)
    stack: list[tuple[FileEntry, bytes]] = [(root, b"")]
    while stack:
        directory, path = stack.pop()
        children: list[tuple[FileEntry, bytes]] = []
        listed = 0
        listing = iter(directory.sub_file_entries)
        while True:
            try:
                child = next(listing)
            except StopIteration:
                break
            except DFVFS_READ_ERRORS as error:
                resumed = _resume_listing(directory, listed)
                if resumed is None:
                    problems_add("walk", "unreadable_directory", "error", f"listing of {display(path or b'/')} stopped early: {error}",
                                 volume_index=volume_index, path=display(path or b"/"), path_spec=serialize(directory.path_spec))
                else:
                    yield from _resumed(resumed, path, directory, children, report)
                break
            listed += 1
            yield from _checked_child(child, path, directory, children, report)
        stack.extend(reversed(children))


def _child(child: FileEntry, path: bytes, directory: FileEntry, children: list[tuple[FileEntry, bytes]],
           report: Callable[[str, str, bytes, str], None]) -> Iterator[WalkItem]:
    name = _name_bytes(child)
    full = path + b"/" + name
    yield from _items(child, full, name, _inode(directory), report)
    if child.IsDirectory() and not child.IsLink():
        children.append((child, full))


@dataclass(frozen=True)
class UnnamedEntry:
    """A folder entry whose name the back end cannot decode (libyal refuses names that are not UTF-8)."""

    index: int
    number: int | None
    error: str
    name_failed: bool  # the entry was read and only its name could not be decoded


# dfVFS's own listing gives up on the whole folder at the first name its libyal back end cannot
# decode; these are the libyal entries (private to dfVFS, no public accessor) that can be listed
# by index instead, with the path-spec key that addresses an entry of that back end.
_NATIVE_ENTRIES = {definitions.TYPE_INDICATOR_EXT: ("_fsext_file_entry", "inode"),
                   definitions.TYPE_INDICATOR_XFS: ("_fsxfs_file_entry", "inode"),
                   definitions.TYPE_INDICATOR_APFS: ("_fsapfs_file_entry", "identifier")}


def _resume_listing(directory: FileEntry, listed: int) -> Iterator[FileEntry | UnnamedEntry] | None:
    """The entries after the one dfVFS stopped at, by index; None when the back end cannot be listed so."""
    native_attribute, key = _NATIVE_ENTRIES.get(directory.type_indicator, (None, None))
    native = getattr(directory, native_attribute, None) if native_attribute else None
    if native is None or key is None:
        return None
    try:
        total = native.number_of_sub_file_entries
    except DFVFS_READ_ERRORS:
        return None
    return _by_index(directory, native, key, listed, total)


def _by_index(directory: FileEntry, native: object, key: str, start: int, total: int) -> Iterator[FileEntry | UnnamedEntry]:
    location = getattr(directory.path_spec, "location", None) or ""
    file_system = directory.GetFileSystem()
    for index in range(start, total):
        try:
            sub = native.get_sub_file_entry(index)
        except DFVFS_READ_ERRORS as error:
            yield UnnamedEntry(index, None, str(error), name_failed=False)
            continue
        number = getattr(sub, f"{key}_number" if key == "inode" else key, None)
        try:
            name = sub.name
        except DFVFS_READ_ERRORS as error:
            yield UnnamedEntry(index, number, str(error), name_failed=True)
            continue
        spec = path_spec_factory.Factory.NewPathSpec(directory.type_indicator, location=file_system.JoinPath([location, name]),
                                                     parent=directory.path_spec.parent, **{key: number})
        entry = file_system.GetFileEntryByPathSpec(spec)
        if entry is None:
            yield UnnamedEntry(index, number, f"entry {display(name.encode('utf-8', 'surrogateescape'))} cannot be opened", name_failed=False)
            continue
        yield entry


def _resumed(entries: Iterator[FileEntry | UnnamedEntry], path: bytes, directory: FileEntry,
             children: list[tuple[FileEntry, bytes]], report: Callable[[str, str, bytes, str], None]) -> Iterator[WalkItem]:
    """The rest of a folder after a name dfVFS could not give: siblings are walked, each unnamed entry is an error row."""
    folder = path or b"/"
    spec = serialize(directory.path_spec)
    while True:
        try:
            entry = next(entries)
        except StopIteration:
            return
        except DFVFS_READ_ERRORS as error:
            report("unreadable_directory", f"listing of {display(folder)} stopped early: {error}", folder, spec)
            return
        if isinstance(entry, UnnamedEntry):
            number = "unknown" if entry.number is None else str(entry.number)
            if entry.name_failed:
                report("name_undecodable", f"entry {entry.index} of {display(folder)} (inode or identifier {number}) has a name the "
                       f"file-system library cannot decode (not UTF-8); it and anything below it are not catalogued: {entry.error}",
                       folder, spec)
            else:
                report("unreadable_entry", f"entry {entry.index} of {display(folder)} (inode or identifier {number}) cannot be read; "
                       f"it and anything below it are not catalogued: {entry.error}", folder, spec)
            continue
        yield from _checked_child(entry, path, directory, children, report)


def _checked_child(child: FileEntry, path: bytes, directory: FileEntry, children: list[tuple[FileEntry, bytes]],
                   report: Callable[[str, str, bytes, str], None]) -> Iterator[WalkItem]:
    """One listed entry; one that cannot be read is an error row and its siblings go on."""
    try:
        yield from _child(child, path, directory, children, report)
    except DFVFS_READ_ERRORS as error:
        folder = path or b"/"
        report("unreadable_directory", f"entry {display(_name_bytes(child))} of {display(folder)} cannot be read: {error}",
               folder, serialize(directory.path_spec))


def _permission_bits(mode: int | None) -> int | None:
    """Some back ends give the file type in the mode too (0o100644); keep permission, set-id and sticky bits only."""
    return None if mode is None else mode & 0o7777


def _inode(entry: FileEntry) -> int | None:
    stat = entry.GetStatAttribute()
    return getattr(stat, "inode_number", None) if stat is not None else None


def _items(entry: FileEntry, full: bytes, name: bytes, parent_inode: int | None,
           report: Callable[[str, str, bytes, str], None]) -> Iterator[WalkItem]:
    stat = entry.GetStatAttribute()
    entry_type = _entry_type(entry)
    allocated = entry.IsAllocated()
    spec_json = serialize(entry.path_spec)
    size = getattr(stat, "size", None) if stat is not None else None
    if size is None and entry_type == "file":
        size = entry.size
    row = {
        "path": display(full),
        "path_bytes": full,
        "name_bytes": name,
        "data_stream": None,
        "inode": getattr(stat, "inode_number", None) if stat is not None else None,
        "sequence": None,
        "parent_inode": parent_inode,
        "entry_type": entry_type,
        "size": size,
        "is_allocated": allocated,
        "is_deleted": not allocated,
        "is_orphan": False,
        "created_time": timestamp_ns(entry.creation_time),
        "modified_time": timestamp_ns(entry.modification_time),
        "accessed_time": timestamp_ns(entry.access_time),
        "changed_time": timestamp_ns(entry.change_time),
        "deleted_time": timestamp_ns(getattr(entry, "deletion_time", None)),
        "mode": _permission_bits(getattr(stat, "mode", None) if stat is not None else None),
        "uid": getattr(stat, "owner_identifier", None) if stat is not None else None,
        "gid": getattr(stat, "group_identifier", None) if stat is not None else None,
        "link_target": None,
        "link_target_bytes": None,
        "path_spec": spec_json,
    }
    if entry_type == "symlink" and entry.link:
        link = entry.link.encode("utf-8", errors="surrogateescape")
        row["link_target"], row["link_target_bytes"] = display(link), link
    target = ("dfvfs", spec_json, int(size or 0)) if entry_type == "file" else None
    yield WalkItem(row, target)
    for stream in entry.data_streams:
        if not stream.name:
            continue
        stream_name = stream.name.encode("utf-8", errors="surrogateescape")
        stream_spec = json.loads(spec_json)
        stream_spec["data_stream"] = stream.name
        stream_json = json.dumps(stream_spec, sort_keys=True)
        stream_row = dict(row)
        stream_full = full + b":" + stream_name
        try:
            stream_size = _stream_size(entry, stream.name)
        except DFVFS_READ_ERRORS as error:
            stream_size = None
            report("unreadable_stream", f"data stream {display(stream_full)} cannot be opened: {error}", stream_full, stream_json)
        stream_row.update(path=display(stream_full), path_bytes=stream_full, data_stream=display(stream_name),
                          entry_type="data_stream", size=stream_size, path_spec=stream_json)
        if stream_size is None:  # never hash a stream we could not open as if it were empty
            stream_row.update(content_status="read_error", read_error_kind="open_failed", read_error_offset=0)
            yield WalkItem(stream_row, None)
            continue
        yield WalkItem(stream_row, ("dfvfs", stream_json, stream_size))


def _stream_size(entry: FileEntry, name: str) -> int | None:
    file_object = entry.GetFileObject(data_stream_name=name)
    return file_object.get_size() if file_object is not None else None


def reader_for(spec_json: str):
    """A read(offset, size) function over one dfVFS file object."""
    from ingest.path_specs import deserialize

    file_object = resolver.Resolver.OpenFileObject(deserialize(spec_json))

    def read(offset: int, size: int) -> bytes:
        file_object.seek(offset)
        return file_object.read(size)

    return read
