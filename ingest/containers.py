"""Which host files a container image is made of, resolved without ever leaving the evidence.

A QCOW2 backing file, a VHD/VHDX parent and VMDK extents are names written inside the image; EWF
and split-raw segments are siblings found by name. A name is normalised (a Windows `\\` is a
separator, `.` segments go) and looked up in the child's folder, then the source's folder, then
each `--parent-dir` the technician named. An absolute name, a name that climbs with `..`, a file
that resolves (through a symbolic link) outside those folders, and anything but a regular file are
refused: an error row names the reference and the rule, and the child is unreadable where it
needs that file. A segment set with a gap, a refused segment or a cut end is refused as a whole
(IncompleteSet): the set is one evidence file, and a partial one is a copy to fix, not an exhibit.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

import pyewf
import pyqcow
import pyvhdi
import pyvmdk
from dfvfs.lib import definitions

from ingest.confine import Confinement
from ingest.problems import Problems

MAX_CHAIN = 64  # parent disks followed from one child; a longer chain is refused (a loop or a hostile image)
_VMDK_SINGLE_FILE = (b"KDMV", b"COWD")  # sparse VMDKs whose descriptor is embedded: the file is its own extent
_WHAT = {definitions.TYPE_INDICATOR_QCOW: "backing file", definitions.TYPE_INDICATOR_VHDI: "parent disk",
         definitions.TYPE_INDICATOR_VMDK: "extent file"}


class IncompleteSet(ValueError):
    """A segment set that cannot be read whole; the message names the file and the reason."""


@dataclass
class Resolved:
    """The container files of a source, in reading order, and why its media cannot be read (None: it can)."""

    files: list[Path]
    links: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    broken: str | None = None

    def confinement(self) -> Confinement:
        return Confinement(files=tuple(dict.fromkeys(os.path.abspath(f) for f in self.files)), links=tuple(self.links))


def resolve(source: Path, kind: str | None, parent_dirs: tuple[Path, ...], problems: Problems) -> Resolved:
    """The files `source` (detected as `kind` by dfVFS's analyzer) is read from; refusals become rows."""
    folders = _folders(source, parent_dirs)
    if kind in (definitions.TYPE_INDICATOR_QCOW, definitions.TYPE_INDICATOR_VHDI):
        return _chain(source, kind, folders, problems)
    if kind == definitions.TYPE_INDICATOR_VMDK:
        return _vmdk(source, folders, problems)
    if kind in (definitions.TYPE_INDICATOR_EWF, definitions.TYPE_INDICATOR_RAW, None):
        segments = _segment_set(source, kind == definitions.TYPE_INDICATOR_EWF)
        key = os.path.abspath(source)
        return Resolved(files=segments, links=[(key, tuple(os.path.abspath(s) for s in segments))])
    return Resolved(files=[source])


def _folders(source: Path, parent_dirs: tuple[Path, ...]) -> list[Path]:
    folders = [Path(os.path.abspath(source)).parent] + [Path(os.path.abspath(d)) for d in parent_dirs]
    return list(dict.fromkeys(folders))


def _normalise(reference: str, windows: bool) -> tuple[str | None, str | None]:
    """(relative name, None), or (None, the rule it breaks)."""
    name = reference.replace("\\", "/") if windows else reference
    if not name or "\x00" in name:
        return None, "it is empty or holds a NUL character"
    if name.startswith("/") or (windows and re.match(r"[A-Za-z]:", name)):
        return None, "it is an absolute path"
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        return None, "it climbs out of the folder with '..'"
    if not parts:
        return None, "it names a folder, not a file"
    return "/".join(parts), None


def _refusal(candidate: Path, folders: list[Path]) -> str | None:
    """Why an existing `candidate` may not be read (None: it may)."""
    real = os.path.realpath(candidate)
    inside = [os.path.realpath(f) for f in folders]
    if not any(real == f or real.startswith(f.rstrip(os.sep) + os.sep) for f in inside):
        return f"it leads outside the allowed folders (to {real})"
    try:
        mode = os.stat(candidate).st_mode
    except OSError as error:
        return f"it cannot be examined ({error.strerror or error})"
    if stat.S_ISBLK(mode) or stat.S_ISCHR(mode):
        return "it is a device file"
    if not stat.S_ISREG(mode):
        return "it is not a regular file"
    return None


def _locate(reference: str, child: Path, folders: list[Path], windows: bool) -> tuple[Path | None, str | None]:
    """(the file a reference names, None), (None, the rule it breaks) or (None, None) when it is in no allowed folder."""
    name, rule = _normalise(reference, windows)
    if name is None:
        return None, rule
    for folder in dict.fromkeys([child.parent, *folders]):
        candidate = folder / name
        if os.path.lexists(candidate):
            rule = _refusal(candidate, folders)
            return (None, rule) if rule else (candidate, None)
    return None, None


def _reference_problem(problems: Problems, child: Path, what: str, reference: str, rule: str | None, folders: list[Path]) -> str:
    """The error row for a reference that cannot be followed; returns why the media is unreadable."""
    if rule is not None:
        message = f"{child}: the {what} {reference!r} it names is refused: {rule}; nothing outside the evidence is read"
        problems.add("source", "container_reference_refused", "error", message, path=os.fsdecode(child))
    else:
        where = ", ".join(os.fsdecode(f) for f in folders)
        message = f"{child}: the {what} {reference!r} it names is in none of the allowed folders ({where})"
        problems.add("source", "container_file_missing", "error", message, path=os.fsdecode(child))
    return message


def _parent_name(path: Path, kind: str) -> str | None:
    """The backing/parent name a QCOW or VHD/VHDX header gives (None: it has none). libyal opens only this file."""
    if kind == definitions.TYPE_INDICATOR_QCOW:
        handle = pyqcow.file()
        handle.open(os.fsdecode(path))
        try:
            return handle.backing_filename or None
        finally:
            handle.close()
    handle = pyvhdi.file()
    handle.open(os.fsdecode(path))
    try:
        return (handle.parent_filename or "") if handle.parent_identifier else None
    finally:
        handle.close()


def _chain(source: Path, kind: str, folders: list[Path], problems: Problems) -> Resolved:
    """A QCOW2 backing chain or a differencing VHD/VHDX chain, child first."""
    resolved = Resolved(files=[source])
    what = _WHAT[kind]
    child = source
    for _ in range(MAX_CHAIN):
        try:
            reference = _parent_name(child, kind)
        except OSError as error:
            resolved.broken = f"{child}: its header cannot be read to find its {what} ({error})"
            problems.add("source", "source_unreadable", "error", resolved.broken, path=os.fsdecode(child))
            return resolved
        if reference is None:
            return resolved
        parent, rule = _locate(reference, child, folders, windows=kind == definitions.TYPE_INDICATOR_VHDI)
        if parent is not None and os.path.abspath(parent) in {os.path.abspath(f) for f in resolved.files}:
            parent, rule = None, f"it is {parent.name}, already in the chain (a loop)"
        if parent is None:
            resolved.broken = _reference_problem(problems, child, what, reference, rule, folders)
            return resolved
        resolved.links.append((os.path.abspath(child), (os.path.abspath(parent),)))
        resolved.files.append(parent)
        child = parent
    resolved.broken = f"{source}: more than {MAX_CHAIN} {what}s in its chain; refused"
    problems.add("source", "container_reference_refused", "error", resolved.broken, path=os.fsdecode(source))
    return resolved


def _extent_names(source: Path) -> list[str]:
    """The extent file names of a VMDK descriptor, as libvmdk parses them (it opens only the descriptor)."""
    vmdk = pyvmdk.handle()
    vmdk.open(os.fsdecode(source))
    try:
        return [extent.filename or "" for extent in vmdk.extent_descriptors]
    finally:
        vmdk.close()


def _vmdk(source: Path, folders: list[Path], problems: Problems) -> Resolved:
    """A VMDK descriptor names its extent files; a sparse VMDK with its descriptor inside is its own extent."""
    resolved = Resolved(files=[source])
    key = os.path.abspath(source)
    with open(source, "rb") as handle:
        head = handle.read(4)
    try:
        names = _extent_names(source)
    except OSError as error:
        resolved.broken = f"{source}: the VMDK descriptor cannot be read to find its extent files ({error})"
        problems.add("source", "source_unreadable", "error", resolved.broken, path=os.fsdecode(source))
        return resolved
    if head in _VMDK_SINGLE_FILE and len(names) == 1:
        resolved.links.append((key, (key,)))
        return resolved
    extents: list[str] = []
    for reference in names:
        extent, rule = _locate(reference, source, folders, windows=True)
        if extent is None:
            resolved.broken = _reference_problem(problems, source, "extent file", reference, rule, folders)
            return resolved
        extents.append(os.path.abspath(extent))
        if os.path.abspath(extent) not in {os.path.abspath(f) for f in resolved.files}:
            resolved.files.append(extent)
    resolved.links.append((key, tuple(extents)))
    return resolved


# --- segment sets -----------------------------------------------------------------------------

def split_raw_segments(source: Path) -> list[Path]:
    """All files of a split raw or multi-segment EWF set that starts at `source`, up to the first gap."""
    scheme = _scheme(source)
    if scheme is None:
        return [source]
    _pattern, _number_of, name_of, start = scheme
    candidates: list[Path] = []
    number = start
    while (part := source.with_name(name_of(number))).exists() or os.path.islink(part):
        candidates.append(part)
        number += 1
    return candidates or [source]


def _scheme(source: Path):
    """(pattern of a segment name, its number, the name of a number, the first number) for the source's naming."""
    name = source.name
    stem, _, suffix = name.rpartition(".")
    if stem and suffix.isdigit():
        width = len(suffix)
        return (re.compile(re.escape(stem) + r"\.(\d{%d})" % width), lambda match: int(match.group(1)),
                lambda number: f"{stem}.{number:0{width}d}", int(suffix))
    if stem and len(suffix) == 2 and suffix.lower() == "aa":
        alphabet = "abcdefghijklmnopqrstuvwxyz" if suffix.islower() else "ABCDEFGHIJKLMNOPQRSTUVWXYZ"

        def letters_name(number: int) -> str:
            first, second = divmod(number, 26)
            return f"{stem}.{alphabet[first]}{alphabet[second]}" if first < 26 else f"{stem}.{{past zz}}"

        return (re.compile(re.escape(stem) + r"\.([" + alphabet[0] + "-" + alphabet[-1] + "]{2})"),
                lambda match: alphabet.index(match.group(1)[0]) * 26 + alphabet.index(match.group(1)[1]), letters_name, 0)
    if name.lower().endswith((".e01", ".ex01", ".s01", ".l01")):
        head = name[:-2]
        letter = head[-1]

        def ewf_name(number: int) -> str:
            return f"{head}{number:02d}" if number < 100 else f"{head[:-1]}{_ewf_extension(letter, number)}"

        def ewf_number(match: re.Match) -> int:
            tail = match.group(1)
            if tail.isdigit():
                return int(tail)
            base = "A" if letter.isupper() else "a"
            return 100 + (ord(tail[0]) - ord(base)) * 26 + (ord(tail[1]) - ord(base))

        return re.compile(re.escape(head[:-1]) + re.escape(letter) + r"(\d\d|[A-Za-z]{2})"), ewf_number, ewf_name, 1
    return None


def _ewf_extension(letter: str, number: int) -> str:
    """EWF segment extension past .E99: .EAA, .EAB, ... (letter kept, two letters follow)."""
    value = number - 100
    first, second = divmod(value, 26)
    base = "A" if letter.isupper() else "a"
    return f"{letter}{chr(ord(base) + first)}{chr(ord(base) + second)}"


def _segment_set(source: Path, ewf: bool) -> list[Path]:
    """The whole segment set from the source's own folder, or IncompleteSet naming what is wrong."""
    segments = split_raw_segments(source)
    scheme = _scheme(source)
    if scheme is not None and scheme[3] <= 1:  # the source is the set's first segment
        pattern, number_of, name_of, start = scheme
        after = start + len(segments)
        later = sorted(number_of(match) for entry in os.listdir(source.parent)
                       if (match := pattern.fullmatch(entry)) and number_of(match) > after)
        if later:
            raise IncompleteSet(f"{source}: the segment set is incomplete: {name_of(after)} is missing after {segments[-1].name}, "
                                f"while {len(later)} later segment(s) from {name_of(later[0])} are present; ingest needs the whole set")
    folder = [Path(os.path.abspath(source)).parent]
    for segment in segments[1:]:
        rule = _refusal(segment, folder)
        if rule is not None:
            raise IncompleteSet(f"{source}: segment {segment.name} is refused: {rule}; segments are read from the source's own folder only")
    if ewf:
        _check_ewf_end(source, segments)
    return segments


def _check_ewf_end(source: Path, segments: list[Path]) -> None:
    """libewf reads the media's last sector only when every segment up to the last is there and whole."""
    handle = pyewf.handle()
    try:
        handle.open([os.fsdecode(s) for s in segments])
    except OSError as error:
        raise IncompleteSet(f"{source}: the EWF set cannot be opened ({len(segments)} segment(s)): {error}") from None
    try:
        size = handle.get_media_size()
        if size:
            handle.read_buffer_at_offset(1, size - 1)
    except OSError as error:
        raise IncompleteSet(f"{source}: the EWF set {segments[0].name}..{segments[-1].name} does not hold the media's last sector "
                            f"(byte {size - 1} of {size}): its last segment is cut short or segments after it are missing; "
                            f"ingest needs the whole set (libewf: {error})") from None
    finally:
        handle.close()
