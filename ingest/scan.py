"""Find what a source holds: container layers, volume systems, encrypted volumes, file systems.

dfVFS's source scanner does the format detection; this module walks its scan tree, unlocks
encrypted volumes with the credentials given, applies the VSS policy and records every node as a
volume, so that the volume tree (including what could not be opened) lands in sources.parquet.
It never hands back an OS path spec for a file that is not a directory source: an unknown file
is an error, not a folder to catalogue.
"""

from __future__ import annotations

import gzip
import os
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytsk3
from dfvfs.analyzer import analyzer
from dfvfs.helpers import source_scanner
from dfvfs.lib import definitions
from dfvfs.lib import errors as dfvfs_errors
from dfvfs.path import factory
from dfvfs.path.path_spec import PathSpec
from dfvfs.resolver import context as resolver_context
from dfvfs.resolver import resolver
from dfvfs.volume import factory as volume_factory

from ingest import android_sparse, confine, zip_directory
from ingest.containers import IncompleteSet, Resolved, resolve
from ingest.path_specs import serialize
from ingest.problems import Problems
from ingest.tsk import DfvfsImage

# Formats the scanner tries, for the message given when a source matches none of them.
FORMATS_TRIED = (
    "raw/dd, split raw, E01/Ex01 (EWF), VMDK, VHD/VHDX, QCOW/QCOW2, Parallels, Android sparse, "
    "MBR, GPT, APM, LVM, APFS container, CoreStorage, VSS, BitLocker, LUKS, "
    "NTFS, FAT12/16/32, exFAT, ext2/3/4, HFS+, APFS, XFS, ISO9660, ZIP, TAR, TAR.GZ, a folder"
)

FILE_SYSTEM_TYPES = frozenset(
    {
        definitions.TYPE_INDICATOR_APFS,
        definitions.TYPE_INDICATOR_EXT,
        definitions.TYPE_INDICATOR_FAT,
        definitions.TYPE_INDICATOR_HFS,
        definitions.TYPE_INDICATOR_NTFS,
        definitions.TYPE_INDICATOR_TSK,
        definitions.TYPE_INDICATOR_XFS,
        getattr(definitions, "TYPE_INDICATOR_EXFAT", "EXFAT"),
    }
)
ENCRYPTED_TYPES = frozenset(
    {
        definitions.TYPE_INDICATOR_BDE,
        definitions.TYPE_INDICATOR_LUKSDE,
        definitions.TYPE_INDICATOR_CS,
        definitions.TYPE_INDICATOR_CS,
        definitions.TYPE_INDICATOR_APFS_CONTAINER,
    }
)
# Storage-media layers whose decoded stream is the media (hashed, and scanned for volumes).
MEDIA_TYPES = definitions.STORAGE_MEDIA_IMAGE_TYPE_INDICATORS | {
    definitions.TYPE_INDICATOR_MODI,
    definitions.TYPE_INDICATOR_PHDI,
    android_sparse.TYPE_INDICATOR_ANDROID_SPARSE,
}
# Top-level members the AFF4 standard puts in every AFF4 ZIP container (volume metadata).
AFF4_MARKERS = frozenset({"information.turtle", "container.description"})
READ_ERRORS: tuple[type[BaseException], ...] = (dfvfs_errors.BackEndError, KeyError, ValueError, OSError, RuntimeError)
PARTITION_TYPES = frozenset(
    {
        definitions.TYPE_INDICATOR_TSK_PARTITION,
        definitions.TYPE_INDICATOR_GPT,
        definitions.TYPE_INDICATOR_APM,
        getattr(definitions, "TYPE_INDICATOR_MBR", "MBR"),
    }
)


class SourceError(ValueError):
    """The source cannot be opened as any supported format; the message names the file and what was tried."""


@dataclass(frozen=True)
class Credentials:
    """What the technician gave to unlock encrypted volumes."""

    password: str | None = None
    recovery_password: str | None = None
    key_file: Path | None = None

    def offers(self) -> list[tuple[str, object]]:
        offered: list[tuple[str, object]] = []
        if self.password is not None:
            offered.append(("password", self.password))
        if self.recovery_password is not None:
            offered.append(("recovery_password", self.recovery_password))
        if self.key_file is not None:
            offered.append(("startup_key", str(self.key_file)))
            offered.append(("key_data", self.key_file.read_bytes()))
        return offered


@dataclass
class Volume:
    """One node of the volume tree; `walkable` ones are file systems (or a folder or archive)."""

    index: int
    parent_index: int | None
    location: str | None
    type: str
    role: str
    path_spec: PathSpec
    offset: int | None = None
    size: int | None = None
    encrypted: bool = False
    unlocked: bool | None = None
    file_system: str | None = None
    status: str = "found"
    walkable: bool = False
    entries: int = 0
    credential: tuple[str, object] | None = None

    def path_spec_json(self) -> str:
        return serialize(self.path_spec)


@dataclass
class Layout:
    """Everything the scan learned about one source."""

    source: Path
    kind: str
    format_chain: list[str]
    volumes: list[Volume] = field(default_factory=list)
    media_path_spec: PathSpec | None = None
    container_files: list[Path] = field(default_factory=list)
    confinement: confine.Confinement | None = None  # the host files dfVFS may open (None: a folder source)

    def walkable(self) -> list[Volume]:
        return [v for v in self.volumes if v.walkable]


def _os_spec(path: Path) -> PathSpec:
    return factory.Factory.NewPathSpec(definitions.TYPE_INDICATOR_OS, location=os.fsdecode(path))


class _Scanner:
    def __init__(self, source: Path, credentials: Credentials, vss: str, problems: Problems) -> None:
        self.source = source
        self.credentials = credentials
        self.vss = vss
        self.problems = problems
        # A private resolver context: volumes opened (and unlocked) by an earlier scan in this
        # process must not be reused, so that an unlock always depends on this run's credentials.
        self.scanner = source_scanner.SourceScanner(resolver_context=resolver_context.Context())
        self.context = source_scanner.SourceScannerContext()
        self.volumes: list[Volume] = []
        self.scan_errors: dict[str, str] = {}

    def add(self, volume: Volume) -> Volume:
        self.volumes.append(volume)
        return volume

    def run(self, root_spec: PathSpec) -> None:
        self.context.AddScanNode(root_spec, None)
        try:
            self.scanner.Scan(self.context)
        except (dfvfs_errors.BackEndError, ValueError, OSError, RuntimeError):  # RuntimeError: pytsk3 under dfVFS
            # dfVFS abandons the whole tree when one node fails (a LUKS2 partition stops the scan
            # of every other partition); scan again one node at a time so a bad volume costs only itself.
            self.context = source_scanner.SourceScannerContext()
            self.context.AddScanNode(root_spec, None)
            self._scan_node_by_node()

    def _scan_node_by_node(self) -> None:
        """dfVFS's own step-wise scan, with a failing node recorded and left as a leaf."""
        root = self.context.GetRootScanNode()
        while (node := self.context.GetUnscannedScanNode()) is not None:
            if node.type_indicator == definitions.TYPE_INDICATOR_VSHADOW and getattr(node.path_spec, "location", "/") != "/":
                node.scanned = True  # snapshot stores are read only when asked for, as in dfVFS's full scan
                continue
            try:
                self.scanner.Scan(self.context, auto_recurse=False, scan_path_spec=node.path_spec)
            except (dfvfs_errors.BackEndError, ValueError, OSError, RuntimeError) as error:
                if node is root:
                    raise SourceError(f"{self.source}: cannot be read as a disk or volume image ({error}); "
                                      f"formats tried: {FORMATS_TRIED}") from None
                node.scanned = True
                self.scan_errors[node.path_spec.comparable] = str(error)

    def walk(self, node: source_scanner.SourceScanNode, parent_index: int | None) -> None:
        spec = node.path_spec
        kind = node.type_indicator
        location = getattr(spec, "location", None)
        if kind in PARTITION_TYPES and location is None and node.parent_node is not None and node.parent_node.type_indicator == kind:
            return  # a partition-table slot (unallocated or meta entry), not a volume
        volume = self.add(
            Volume(
                index=len(self.volumes),
                parent_index=parent_index,
                location=location,
                type=kind,
                role=_role(node),
                path_spec=spec,
                offset=getattr(spec, "start_offset", None),
            )
        )
        if kind in PARTITION_TYPES and location and location != "/":
            volume.offset, volume.size = _partition_extent(spec)
        failure = self.scan_errors.get(spec.comparable)
        if failure is not None:
            volume.encrypted = kind in ENCRYPTED_TYPES
            volume.status = "unreadable"
            self.problems.add("scan", "unreadable_volume", "error", f"{kind} volume {location or ''} cannot be opened: {failure}",
                              volume_index=volume.index, path_spec=volume.path_spec_json())
            return
        if self.context.IsLockedScanNode(spec):
            volume.encrypted = True
            self._unlock(node, volume)
            if self.context.IsLockedScanNode(spec):
                return
        elif kind in (definitions.TYPE_INDICATOR_BDE, definitions.TYPE_INDICATOR_LUKSDE):
            volume.encrypted = True
        if kind in FILE_SYSTEM_TYPES:
            if volume.offset is None and parent_index is not None:
                volume.offset = self.volumes[parent_index].offset
            volume.role = "file_system"
            volume.file_system = kind
            volume.walkable = True
            volume.status = "ingested"
            return
        if kind == definitions.TYPE_INDICATOR_VSHADOW:
            self._shadow_copies(node, volume)
            return
        if kind == definitions.TYPE_INDICATOR_APFS_CONTAINER and location not in (None, "/"):
            volume.encrypted = volume.encrypted or _apfs_volume_encrypted(spec)
        if not node.sub_nodes and volume.role == "volume_system":
            self._empty_volume_system(volume)
        leaf = volume.role in ("partition", "volume") and volume.status == "found"
        unlocked_leaf = volume.role == "encrypted_volume" and volume.status == "unlocked"
        if not node.sub_nodes and (leaf or unlocked_leaf) and not self._tsk_fallback(volume):
            volume.status = "no_file_system"
            self.problems.add(
                "scan", "no_file_system", "warning", f"no supported file system found in {kind} volume {location or ''}",
                volume_index=volume.index, path_spec=volume.path_spec_json(),
            )
        for sub_node in node.sub_nodes:
            self.walk(sub_node, volume.index)

    def _empty_volume_system(self, volume: Volume) -> None:
        """A volume system with no volumes: either it could not be opened (dfVFS drops the error) or it is empty."""
        try:
            system = volume_factory.Factory.NewVolumeSystem(volume.type)
            system.Open(volume.path_spec)
            count = system.number_of_volumes
        except READ_ERRORS as error:
            volume.status = "unreadable"
            self.problems.add("scan", "unreadable_volume", "error", f"{volume.type} volume system cannot be opened: {error}",
                              volume_index=volume.index, path_spec=volume.path_spec_json())
            return
        volume.status = "no_volumes"
        self.problems.add("scan", "no_volumes", "warning", f"{volume.type} volume system holds {count} volumes",
                          volume_index=volume.index, path_spec=volume.path_spec_json())

    def _tsk_fallback(self, volume: Volume) -> bool:
        """Add a file system that dfVFS refuses but The Sleuth Kit opens (e.g. exFAT with a label libfsfat rejects).

        dfVFS decides which file systems exist; without this a file system that the TSK walker
        could read would be reported as missing and none of its entries listed.
        """
        spec = volume.path_spec
        try:
            indicators = analyzer.Analyzer.GetFileSystemTypeIndicators(spec)
            image = DfvfsImage(spec)
            ftype = int(pytsk3.FS_Info(image).info.ftype)
        except READ_ERRORS:
            return False
        name = indicators[0] if len(indicators) == 1 else _tsk_file_system_name(ftype)
        refused = "no file-system signature recognised"
        if indicators:
            try:
                resolver.Resolver.OpenFileSystem(factory.Factory.NewPathSpec(indicators[0], location="/", parent=spec))
                refused = f"{indicators[0]} opened now but not during the scan"
            except READ_ERRORS as error:
                refused = str(error)
        fs_spec = factory.Factory.NewPathSpec(definitions.TYPE_INDICATOR_TSK, location="/", parent=spec)
        fs_volume = self.add(Volume(index=len(self.volumes), parent_index=volume.index, location="/", type=definitions.TYPE_INDICATOR_TSK,
                                    role="file_system", path_spec=fs_spec, offset=volume.offset, file_system=name, walkable=True,
                                    status="ingested"))
        self.problems.add("scan", "tsk_fallback", "warning",
                          f"dfVFS cannot open the file system in {volume.type} volume {volume.location or ''} ({refused}); "
                          f"The Sleuth Kit opens it as {name} and walks it",
                          volume_index=fs_volume.index, path_spec=fs_volume.path_spec_json())
        return True

    def _unlock(self, node: source_scanner.SourceScanNode, volume: Volume) -> None:
        offers = self.credentials.offers()
        tried: list[str] = []
        for identifier, data in offers:
            tried.append(identifier)
            try:
                unlocked = self.scanner.Unlock(self.context, node.path_spec, identifier, data)
            except (dfvfs_errors.BackEndError, KeyError, ValueError, OSError) as error:
                self.problems.add("scan", "unlock_failed", "warning", f"{node.type_indicator} {identifier}: {error}",
                                  volume_index=volume.index, path_spec=volume.path_spec_json())
                unlocked = False
            if unlocked:
                volume.unlocked = True
                volume.credential = (identifier, data)
                volume.status = "unlocked"
                try:
                    self.scanner.Scan(self.context, scan_path_spec=node.path_spec)
                except (dfvfs_errors.BackEndError, ValueError, OSError) as error:
                    self.problems.add("scan", "corrupt_volume", "error", f"unlocked {node.type_indicator} volume could not be scanned: {error}",
                                      volume_index=volume.index, path_spec=volume.path_spec_json())
                return
        volume.unlocked = False
        volume.status = "locked"
        why = f"credentials tried: {', '.join(tried)}; none unlocked it" if tried else "no credentials were given"
        self.problems.add("scan", "locked_volume", "error", f"encrypted {node.type_indicator} volume {volume.location or ''} left locked: {why}",
                          volume_index=volume.index, path_spec=volume.path_spec_json())

    def _shadow_copies(self, node: source_scanner.SourceScanNode, volume: Volume) -> None:
        volume.role = "snapshot_store"
        for sub_node in node.sub_nodes:
            snapshot = self.add(
                Volume(index=len(self.volumes), parent_index=volume.index, location=sub_node.path_spec.location,
                       type=sub_node.type_indicator, role="snapshot", path_spec=sub_node.path_spec)
            )
            if self.vss != "all":
                snapshot.status = "skipped (vss=none)"
                continue
            try:
                store = resolver.Resolver.OpenFileObject(sub_node.path_spec)
                store.seek(0)
                store.read(512)
            except READ_ERRORS as error:
                snapshot.status = "unreadable"
                self.problems.add("scan", "unreadable_volume", "error", f"VSS snapshot {snapshot.location} cannot be read: {error}",
                                  volume_index=snapshot.index, path_spec=snapshot.path_spec_json())
                continue
            fs_spec = factory.Factory.NewPathSpec(definitions.TYPE_INDICATOR_TSK, location="/", parent=sub_node.path_spec)
            snapshot.status = "ingested"
            self.add(
                Volume(index=len(self.volumes), parent_index=snapshot.index, location=sub_node.path_spec.location,
                       type=definitions.TYPE_INDICATOR_TSK, role="file_system", path_spec=fs_spec,
                       file_system=definitions.TYPE_INDICATOR_NTFS, walkable=True, status="ingested")
            )
        if self.vss != "all":
            volume.status = "snapshots skipped (vss=none)"
        elif any(v.parent_index == volume.index and v.status == "unreadable" for v in self.volumes):
            volume.status = "snapshots partly unreadable"
        else:
            volume.status = "snapshots ingested"


def _role(node: source_scanner.SourceScanNode) -> str:
    kind = node.type_indicator
    location = getattr(node.path_spec, "location", None)
    if kind == definitions.TYPE_INDICATOR_OS:
        return "source_file"
    if node.IsVolumeSystemRoot() or (kind in PARTITION_TYPES and location == "/"):
        return "volume_system"
    if kind in PARTITION_TYPES:
        return "partition"
    if kind in (definitions.TYPE_INDICATOR_LVM, definitions.TYPE_INDICATOR_APFS_CONTAINER, definitions.TYPE_INDICATOR_CS):
        return "volume"
    if kind in ENCRYPTED_TYPES:
        return "encrypted_volume"
    if kind in FILE_SYSTEM_TYPES:
        return "file_system"
    return "container"


def _tsk_file_system_name(ftype: int) -> str:
    """The file_system name run.py routes to the TSK walker, from TSK's detected type."""
    if ftype == int(pytsk3.TSK_FS_TYPE_EXFAT) or ftype & int(pytsk3.TSK_FS_TYPE_FAT_DETECT):
        return definitions.TYPE_INDICATOR_FAT
    if ftype & int(pytsk3.TSK_FS_TYPE_NTFS_DETECT):
        return definitions.TYPE_INDICATOR_NTFS
    if ftype & int(pytsk3.TSK_FS_TYPE_EXT_DETECT):
        return definitions.TYPE_INDICATOR_EXT
    if ftype & int(pytsk3.TSK_FS_TYPE_HFS_DETECT):
        return definitions.TYPE_INDICATOR_HFS
    if ftype & int(pytsk3.TSK_FS_TYPE_ISO9660_DETECT):
        return "ISO9660"
    return definitions.TYPE_INDICATOR_TSK


def tsk_file_system_name(ftype: int) -> str:
    """Name of the file system TSK opened, for volumes dfVFS only knew as generic TSK."""
    return _tsk_file_system_name(ftype)


def _partition_extent(spec: PathSpec) -> tuple[int | None, int | None]:
    """Byte offset and size of a partition, from the volume system that holds it."""
    parent = spec.parent
    try:
        system = volume_factory.Factory.NewVolumeSystem(spec.type_indicator)
        system.Open(factory.Factory.NewPathSpec(spec.type_indicator, location="/", parent=parent))
        volume = system.GetVolumeByIdentifier(spec.location.lstrip("/"))
    except (dfvfs_errors.BackEndError, ValueError, OSError, KeyError):
        return getattr(spec, "start_offset", None), None
    if volume is None or not volume.extents:
        return getattr(spec, "start_offset", None), None
    return volume.extents[0].offset, sum(extent.size for extent in volume.extents)


def _apfs_volume_encrypted(spec: PathSpec) -> bool:
    try:
        system = volume_factory.Factory.NewVolumeSystem(definitions.TYPE_INDICATOR_APFS_CONTAINER)
        system.Open(factory.Factory.NewPathSpec(definitions.TYPE_INDICATOR_APFS_CONTAINER, location="/", parent=spec.parent))
        volume = system.GetVolumeByIdentifier(spec.location.lstrip("/"))
    except (dfvfs_errors.BackEndError, ValueError, OSError, KeyError):
        return False
    attribute = volume.GetAttribute("is_locked") if volume else None
    return bool(attribute and attribute.value)


def _chain(volume_spec: PathSpec | None) -> list[str]:
    names: list[str] = []
    spec = volume_spec
    while spec is not None:
        if spec.type_indicator != definitions.TYPE_INDICATOR_OS:
            names.append(spec.type_indicator)
        spec = spec.parent
    return list(reversed(names))


def scan_source(source: Path, credentials: Credentials, vss: str, problems: Problems, parent_dirs: tuple[Path, ...] = ()) -> Layout:
    """The layout of a source; SourceError when nothing in it is supported.

    From here on this process's dfVFS opens only the source's container files (ingest.confine) until
    the run ends; `Layout.confinement` carries the same rule to the workers.
    """
    try:
        return _scan_source(source, credentials, vss, problems, parent_dirs)
    except SourceError:
        confine.activate(None)
        raise


def _scan_source(source: Path, credentials: Credentials, vss: str, problems: Problems, parent_dirs: tuple[Path, ...]) -> Layout:
    if not os.path.lexists(source):
        raise SourceError(f"{source}: no such file or folder")
    if source.is_dir():
        confine.activate(None)
        return _folder_layout(source)
    if not source.is_file():
        raise SourceError(f"{source}: not a regular file or folder (block devices are ingested from an image of them)")
    _check_parent_dirs(parent_dirs)
    # Credentials given to an earlier ingest in this process must not unlock anything in this one.
    resolver.Resolver.key_chain.Empty()
    confine.activate(Resolved(files=[source]).confinement())
    os_spec = _os_spec(source)
    root = _root_spec(source, os_spec)
    logical = _logical_layout(source, root)
    if logical is not None:
        logical.confinement = confine.Confinement(files=(os.path.abspath(source),))
        return logical
    kind = _media_kind(os_spec) if root is os_spec else None
    try:
        resolved = resolve(source, kind, parent_dirs, problems) if root is os_spec else Resolved(files=[source])
    except IncompleteSet as error:
        raise SourceError(str(error)) from None
    confinement = resolved.confinement()
    confine.activate(confinement)
    if resolved.broken is not None:
        return _unreadable_layout(source, kind, os_spec, resolved, problems)
    scanner = _Scanner(source, credentials, vss, problems)
    scanner.run(root)
    for location in confine.refused():
        problems.add("scan", "outside_evidence_refused", "error", f"{location}: a container layer asked for this host file, which is not "
                     "a container file of the source; it was not opened", path=location)
    context = scanner.context
    root_node = context.GetRootScanNode()
    if context.source_type not in (definitions.SOURCE_TYPE_STORAGE_MEDIA_IMAGE, definitions.SOURCE_TYPE_STORAGE_MEDIA_DEVICE) and root is os_spec:
        raise SourceError(f"{source}: not a supported disk, volume, file-system or archive image; formats tried: {FORMATS_TRIED}")
    media_node = _media_node(root_node)
    if not media_node.sub_nodes:
        _media_alone(scanner, media_node, source, root is os_spec, problems)
    for child in media_node.sub_nodes:
        scanner.walk(child, None)
    _check_volumes_found(scanner, source, problems)
    media_spec = media_node.path_spec
    layout = Layout(source=source, kind="storage_media_image", format_chain=_chain(media_spec), volumes=scanner.volumes,
                    media_path_spec=media_spec, container_files=resolved.files, confinement=confinement)
    if len(layout.volumes) == 1 and layout.volumes[0].walkable:
        layout.kind = "file_system_image"
    return layout


def _check_parent_dirs(parent_dirs: tuple[Path, ...]) -> None:
    for folder in parent_dirs:
        if not folder.is_dir():
            raise SourceError(f"--parent-dir {folder}: not a folder")


def _root_spec(source: Path, os_spec: PathSpec) -> PathSpec:
    """Where the scan starts: the file itself, or the image an Android sparse file expands to."""
    with open(source, "rb") as handle:
        header = handle.read(64)
    if android_sparse.is_android_sparse(header):
        return factory.Factory.NewPathSpec(android_sparse.TYPE_INDICATOR_ANDROID_SPARSE, parent=os_spec)
    return os_spec


def _media_alone(scanner: _Scanner, media_node: source_scanner.SourceScanNode, source: Path, plain_file: bool, problems: Problems) -> None:
    """Media in which the scan found no volume or file system: a raw file is no supported image (SourceError);
    a recognised container is still evidence, recorded as a media volume with an error row."""
    if media_node.type_indicator in (definitions.TYPE_INDICATOR_RAW, definitions.TYPE_INDICATOR_OS) and plain_file:
        raise SourceError(f"{source}: no volume system or file system found in it; formats tried: {FORMATS_TRIED}")
    # A recognised container (E01, QCOW2, ...) with no known volume or file system inside is still
    # evidence: its media is hashed and checked, and the missing file system is an error row.
    failure = scanner.scan_errors.get(media_node.path_spec.comparable)
    media = scanner.add(Volume(index=0, parent_index=None, location=None, type=media_node.type_indicator, role="media",
                               path_spec=media_node.path_spec, status="no_file_system" if failure is None else "unreadable"))
    if failure is not None:
        problems.add("scan", "unreadable_volume", "error", f"{media_node.type_indicator} media cannot be opened: {failure}",
                     volume_index=media.index, path_spec=media.path_spec_json())
    else:
        problems.add("scan", "no_file_system", "error",
                     f"{media_node.type_indicator} media holds no supported volume system or file system; tried: {FORMATS_TRIED}",
                     volume_index=media.index, path_spec=media.path_spec_json())


def _check_volumes_found(scanner: _Scanner, source: Path, problems: Problems) -> None:
    """SourceError when the scan found no volume at all; an error row when none of them holds a readable file system."""
    if not scanner.volumes:
        raise SourceError(f"{source}: no volume or file system found; formats tried: {FORMATS_TRIED}")
    if not any(v.walkable for v in scanner.volumes) and problems.count("error") == 0:
        # Only warnings so far (empty partitions, an empty volume group): the run would end
        # "completed" with nothing catalogued, which an examiner must not read as a clean result.
        problems.add("scan", "no_file_system", "error", f"no readable file system in any of the {len(scanner.volumes)} volumes found; "
                     f"tried: {FORMATS_TRIED}")


def _media_kind(os_spec: PathSpec) -> str | None:
    """The storage-media format dfVFS's analyzer sees at the source (None: raw, or none it knows by signature)."""
    try:
        kinds = analyzer.Analyzer.GetStorageMediaImageTypeIndicators(os_spec)
    except READ_ERRORS:
        return None
    return kinds[0] if len(kinds) == 1 else None


def _unreadable_layout(source: Path, kind: str | None, os_spec: PathSpec, resolved: Resolved, problems: Problems) -> Layout:
    """A child whose parent or extent is refused or missing: its media is recorded as unreadable, never read partly."""
    media_spec = factory.Factory.NewPathSpec(kind, parent=os_spec)
    media = Volume(index=0, parent_index=None, location=None, type=kind, role="media", path_spec=media_spec, status="unreadable")
    problems.add("scan", "unreadable_volume", "error", f"{kind} media is not read: {resolved.broken}", volume_index=0,
                 path_spec=media.path_spec_json())
    return Layout(source=source, kind="storage_media_image", format_chain=[kind], volumes=[media], media_path_spec=media_spec,
                  container_files=resolved.files, confinement=resolved.confinement())


def _media_node(root_node: source_scanner.SourceScanNode) -> source_scanner.SourceScanNode:
    """The deepest storage-media layer (EWF, QCOW, RAW, ...): its stream is the media that gets hashed."""
    layers = MEDIA_TYPES
    node = root_node
    media_node = root_node
    while True:
        if node.type_indicator in layers:
            media_node = node
        if len(node.sub_nodes) == 1 and node.sub_nodes[0].type_indicator in layers:
            node = node.sub_nodes[0]
            continue
        return media_node


def _logical_layout(source: Path, root: PathSpec) -> Layout | None:
    """ZIP, TAR and TAR.GZ extractions: walked as archives (ingest/archive_walk.py), not scanned as disks.

    Recognised by their own signatures (a ZIP local header or end record at byte 0; "ustar" in the
    first TAR header, inside a gzip stream or not) rather than through dfVFS, whose gzip layer
    decompresses the whole stream when opened and fails on a damaged one before any member is listed.
    """
    if root.type_indicator != definitions.TYPE_INDICATOR_OS:
        return None
    kind, compressed = _archive_signature(source)
    if kind is None:
        return None
    if kind == definitions.TYPE_INDICATOR_ZIP and _is_aff4(source):
        raise SourceError(f"{source}: AFF4 container (a ZIP holding an AFF4 volume); AFF4 is not supported, convert it to E01 or raw "
                          f"first; formats tried: {FORMATS_TRIED}")
    spec = factory.Factory.NewPathSpec(definitions.TYPE_INDICATOR_GZIP, parent=root) if compressed else root
    chain = [definitions.TYPE_INDICATOR_GZIP, kind] if compressed else [kind]
    archive_spec = factory.Factory.NewPathSpec(kind, location="/", parent=spec)
    volume = Volume(index=0, parent_index=None, location="/", type=kind, role="archive", path_spec=archive_spec,
                    file_system=kind, walkable=True, status="ingested")
    return Layout(source=source, kind="archive", format_chain=chain, volumes=[volume], media_path_spec=None, container_files=[source])


def _archive_signature(source: Path) -> tuple[str | None, bool]:
    """("ZIP" or "TAR" or None, whether a gzip stream holds it), from the first bytes only."""
    with open(source, "rb") as handle:
        head = handle.read(512)
        compressed = head[:2] == b"\x1f\x8b"
        if compressed:
            handle.seek(0)
            try:
                head = gzip.GzipFile(fileobj=handle, mode="rb").read(512)
            except (OSError, EOFError, zlib.error):
                return None, False  # not even one TAR header decompresses: left to the disk-image scan
    if head[257:262] == b"ustar":
        return definitions.TYPE_INDICATOR_TAR, compressed
    if not compressed and head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return definitions.TYPE_INDICATOR_ZIP, False
    return None, False


def _is_aff4(source: Path) -> bool:
    """An AFF4 image is a ZIP whose members are chunks and RDF metadata, not evidence files."""
    try:
        with zip_directory.open_zip(source) as archive:
            names = {name.lstrip("/") for name in archive.namelist()}
    except zip_directory.OPEN_ERRORS:  # damaged or over budget: not an AFF4 image; the archive walk reports why
        return False
    return bool(names & AFF4_MARKERS)


def _folder_layout(source: Path) -> Layout:
    spec = _os_spec(source.resolve())
    volume = Volume(index=0, parent_index=None, location=os.fsdecode(source.resolve()), type=definitions.TYPE_INDICATOR_OS,
                    role="folder", path_spec=spec, file_system="folder", walkable=True, status="ingested")
    return Layout(source=source, kind="directory", format_chain=["FOLDER"], volumes=[volume], media_path_spec=None, container_files=[])


def register_credentials(volumes: list[Volume]) -> None:
    """Give this process's dfVFS key chain the credentials that unlocked volumes (workers need them too)."""
    for volume in volumes:
        if volume.credential is not None:
            identifier, data = volume.credential
            resolver.Resolver.key_chain.SetCredential(volume.path_spec, identifier, data)
