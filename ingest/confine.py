"""The host files a run may open, and a dfVFS layer that opens no others.

A QCOW2 backing file, a VHD/VHDX parent, VMDK extents and EWF or split-raw segments are named
inside the evidence, and dfVFS would look those names up on the host itself (joining `..` or an
absolute name onto the image's folder, or globbing by name through libewf/libsmraw). Exhibit
resolves them once, under its own rules (ingest/containers.py), and this module makes that
resolution the only one: the OS layer refuses to open any host file that is not a container file
of the source, and the QCOW, VHDI, VMDK, EWF and RAW layers take the files they pull in from the
resolution instead of looking for them. Worker processes install the same confinement.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import pyewf
import pyqcow
import pysmraw
import pyvhdi
import pyvmdk
from dfvfs.file_io import ewf_file_io, os_file_io, qcow_file_io, raw_file_io, vhdi_file_io, vmdk_file_io
from dfvfs.lib import definitions
from dfvfs.path import factory
from dfvfs.resolver import resolver
from dfvfs.resolver_helpers import (
    ewf_resolver_helper,
    manager,
    os_resolver_helper,
    qcow_resolver_helper,
    raw_resolver_helper,
    vhdi_resolver_helper,
    vmdk_resolver_helper,
)
from dfvfs.vfs import os_file_system


class OutsideEvidence(OSError):
    """A host file that is not a container file of the source was asked for; it was not opened."""


@dataclass(frozen=True)
class Confinement:
    """Absolute paths of the files that may be opened, and what each container file pulls in."""

    files: tuple[str, ...]
    links: tuple[tuple[str, tuple[str, ...]], ...] = ()

    def allows(self, location: str) -> bool:
        return os.path.abspath(location) in self.files

    def pulled_in(self, location: str) -> tuple[str, ...] | None:
        key = os.path.abspath(location)
        return next((files for container, files in self.links if container == key), None)


_ACTIVE: list[Confinement | None] = [None]
_REFUSED: list[str] = []


def activate(confinement: Confinement | None) -> None:
    """Confine this process's dfVFS to `confinement` (None: a folder source, whose walk does not go through dfVFS)."""
    _ACTIVE[0] = confinement
    _REFUSED.clear()


def active() -> Confinement | None:
    """The confinement this process's dfVFS is under (None: none)."""
    return _ACTIVE[0]


def refused() -> list[str]:
    """Host locations refused since the last activate, in order, each once."""
    return list(dict.fromkeys(_REFUSED))


def check(location: str) -> None:
    """OutsideEvidence unless the active confinement (if any) lets this host file be opened."""
    _check(location)


def _check(location: str | None) -> None:
    confinement = _ACTIVE[0]
    if confinement is None or location is None or confinement.allows(location):
        return
    _REFUSED.append(location)
    raise OutsideEvidence(f"{location}: not a container file of the source; nothing outside the evidence is opened")


def _pulled_in(path_spec, what: str, name: str) -> tuple[str, ...] | None:
    """The resolved files a container on the host needs; None when dfVFS may look itself (not on the host, or unconfined)."""
    if _ACTIVE[0] is None or path_spec.type_indicator != definitions.TYPE_INDICATOR_OS:
        return None
    files = _ACTIVE[0].pulled_in(path_spec.location)
    if files is None:
        _REFUSED.append(os.path.join(os.path.dirname(path_spec.location), name) if name else path_spec.location)
        named = f"its {what} {name!r} was" if name else f"its {what} were"
        raise OutsideEvidence(f"{path_spec.location}: {named} not resolved inside the evidence; not opened")
    return files


def _os_spec(location: str):
    return factory.Factory.NewPathSpec(definitions.TYPE_INDICATOR_OS, location=location)


class _OSFile(os_file_io.OSFile):
    def _Open(self):
        _check(getattr(self._path_spec, "location", None))
        super()._Open()


class _OSFileSystem(os_file_system.OSFileSystem):
    def FileEntryExistsByPathSpec(self, path_spec):
        # A host file outside the evidence does not exist as far as the evidence is concerned.
        confinement = _ACTIVE[0]
        location = getattr(path_spec, "location", None)
        if confinement is not None and location is not None and not confinement.allows(location):
            return False
        return super().FileEntryExistsByPathSpec(path_spec)


def _attach_parent(file_io, path_spec, child, what: str, name: str, new_handle, has_parent, parents: list) -> bool:
    """Open the resolved parent of `child` (and its own parents) and attach it; False when dfVFS may look itself."""
    files = _pulled_in(path_spec, what, name)
    if files is None:
        return False
    parent_spec = _os_spec(files[0])
    file_object = resolver.Resolver.OpenFileObject(parent_spec, resolver_context=file_io._resolver_context)
    parent = new_handle()
    parent.open_file_object(file_object)
    if has_parent(parent):
        file_io._OpenParentFile(None, parent_spec, parent)
    child.set_parent(parent)
    parents.append(parent)
    file_io._sub_file_objects.append(file_object)
    return True


class _QCOWFile(qcow_file_io.QCOWFile):
    def _OpenParentFile(self, file_system, path_spec, qcow_file):
        if not _attach_parent(self, path_spec, qcow_file, "backing file", qcow_file.backing_filename, pyqcow.file,
                              lambda handle: handle.backing_filename, self._parent_qcow_files):
            super()._OpenParentFile(file_system, path_spec, qcow_file)


class _VHDIFile(vhdi_file_io.VHDIFile):
    def _OpenParentFile(self, file_system, path_spec, vhdi_file):
        if not _attach_parent(self, path_spec, vhdi_file, "parent disk", vhdi_file.parent_filename or "", pyvhdi.file,
                              lambda handle: handle.parent_identifier, self._parent_vhdi_files):
            super()._OpenParentFile(file_system, path_spec, vhdi_file)


class _VMDKFile(vmdk_file_io.VMDKFile):
    def _OpenFileObject(self, path_spec):
        parent_spec = path_spec.parent
        if parent_spec is None or _ACTIVE[0] is None or parent_spec.type_indicator != definitions.TYPE_INDICATOR_OS:
            return super()._OpenFileObject(path_spec)
        files = _pulled_in(parent_spec, "extent files", "")
        file_object = resolver.Resolver.OpenFileObject(parent_spec, resolver_context=self._resolver_context)
        handle = pyvmdk.handle()
        handle.open_file_object(file_object)
        if len(files) != handle.number_of_extents:
            raise OSError(f"{parent_spec.location}: {handle.number_of_extents} extents named, {len(files)} resolved")
        extents = [resolver.Resolver.OpenFileObject(_os_spec(f), resolver_context=self._resolver_context) for f in files]
        handle.open_extent_data_files_as_file_objects(extents)
        return handle


def _segments(path_spec) -> tuple[str, ...] | None:
    """The resolved segment files when the segments lie on the host under a confinement."""
    parent_spec = path_spec.parent
    if parent_spec is None or _ACTIVE[0] is None or not parent_spec.IsSystemLevel():
        return None
    files = _pulled_in(parent_spec, "segment files", "")
    for location in files:
        _check(location)
    return files


class _EWFFile(ewf_file_io.EWFFile):
    def _OpenFileObject(self, path_spec):
        files = _segments(path_spec)
        if files is None:
            return super()._OpenFileObject(path_spec)
        handle = pyewf.handle()
        handle.open(list(files))
        return handle


class _RawFile(raw_file_io.RawFile):
    def _OpenFileObject(self, path_spec):
        files = _segments(path_spec)
        if files is None:
            return super()._OpenFileObject(path_spec)
        handle = pysmraw.handle()
        handle.open(list(files))
        return handle


def _helper(base: type, file_class: type | None, system_class: type | None = None):
    class Helper(base):  # type: ignore[misc, valid-type]
        if file_class is not None:
            def NewFileObject(self, resolver_context, path_spec):  # noqa: N802 (dfVFS's name)
                return file_class(resolver_context, path_spec)
        if system_class is not None:
            def NewFileSystem(self, resolver_context, path_spec):  # noqa: N802
                return system_class(resolver_context, path_spec)
    return Helper()


def _install() -> None:
    """Put the confined layers in place of dfVFS's own, once per process (at import)."""
    replacements = [
        _helper(os_resolver_helper.OSResolverHelper, _OSFile, _OSFileSystem),
        _helper(qcow_resolver_helper.QCOWResolverHelper, _QCOWFile),
        _helper(vhdi_resolver_helper.VHDIResolverHelper, _VHDIFile),
        _helper(vmdk_resolver_helper.VMDKResolverHelper, _VMDKFile),
        _helper(ewf_resolver_helper.EWFResolverHelper, _EWFFile),
        _helper(raw_resolver_helper.RawResolverHelper, _RawFile),
    ]
    for helper in replacements:
        current = manager.ResolverHelperManager.GetHelper(helper.type_indicator)
        if type(current).__module__ == __name__:
            continue
        manager.ResolverHelperManager.DeregisterHelper(current)
        manager.ResolverHelperManager.RegisterHelper(helper)


_install()
