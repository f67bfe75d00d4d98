"""Nothing outside the evidence is read into it: parents, backing files, extents and segments.

Every fixture puts a decoy disk with a known file outside the evidence folder (../x/) and names
it from inside the evidence; the decoy's content must never be catalogued, and the refusal must
be an exact error row (or, for a segment set, an exact exit-2 refusal with nothing written).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import struct
from pathlib import Path

import pytest
import pyvhdi
from dfvfs.lib import definitions
from dfvfs.lib import errors as dfvfs_errors
from dfvfs.path import factory
from dfvfs.resolver import context, resolver

from ingest import confine
from tests import images
from tests.conftest import require_tool
from tests.corpus import require_corpus

DECOY = b"decoy: a host file that is not part of the evidence\n"
DECOY_SHA256 = hashlib.sha256(DECOY).hexdigest()
MIB = 1 << 20


@pytest.fixture(scope="module")
def decoy_raw(tmp_path_factory) -> Path:
    """A 4 MiB ext4 holding /decoy.txt, as raw."""
    require_tool("mkfs.ext4")
    folder = tmp_path_factory.mktemp("decoy")
    staging = folder / "staging"
    images.write_tree(staging, {b"decoy.txt": DECOY})
    return images.make_ext4(staging, folder / "decoy.raw", "4M")


def _qcow2(raw: Path, out: Path) -> Path:
    require_tool("qemu-img")
    return images.qemu_convert(raw, out, "qcow2")


def _outside_base(tmp_path: Path, decoy_raw: Path) -> Path:
    """The decoy as x/base.qcow2, beside (not inside) the evidence folder."""
    (tmp_path / "x").mkdir()
    return _qcow2(decoy_raw, tmp_path / "x" / "base.qcow2")


def _child(folder: Path, backing: str, name: str = "child.qcow2") -> Path:
    """A QCOW2 whose backing name is `backing` exactly (-u: qemu-img does not check it)."""
    folder.mkdir(parents=True, exist_ok=True)
    images.tool("qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", backing, "-F", "qcow2", name, "4M", cwd=folder)
    return folder / name


def _no_decoy(result) -> None:
    assert DECOY_SHA256 not in {row["sha256"] for row in result.artefacts()}


def _refused_qcow_rows(child: Path, reference: str, rule: str) -> list[tuple[str, str, str]]:
    refusal = f"{child}: the backing file {reference!r} it names is refused: {rule}; nothing outside the evidence is read"
    return [
        ("source", "container_reference_refused", refusal),
        ("scan", "unreadable_volume", f"QCOW media is not read: {refusal}"),
        ("source", "media_read_error", f"media stream cannot be opened: Unable to open file object with error: {child}: its backing file "
                                       f"{reference!r} was not resolved inside the evidence; not opened"),
    ]


def _rows(result) -> list[tuple[str, str, str]]:
    return [(e["stage"], e["error_kind"], e["message"]) for e in result.errors()]


def _only_the_child(result, child: Path) -> None:
    source = result.source()
    assert [c["path"] for c in source["container_files"]] == [str(child)]
    assert source["container_files"][0]["sha256_before"] == images.sha256_file(child)
    assert source["is_source_unchanged"] is True
    assert source["stream_sha256"] is None
    assert [(v["type"], v["status"]) for v in source["volumes"]] == [("QCOW", "unreadable")]
    assert result.artefacts() == []


def test_qcow2_backing_file_that_climbs_out_is_refused(tmp_path: Path, decoy_raw: Path, ingest_image) -> None:
    _outside_base(tmp_path, decoy_raw)
    child = _child(tmp_path / "evidence", "../x/base.qcow2")
    result = ingest_image(child)
    assert result.exit_code == 1, result.output
    _no_decoy(result)
    assert _rows(result) == _refused_qcow_rows(child, "../x/base.qcow2", "it climbs out of the folder with '..'")
    _only_the_child(result, child)


def test_qcow2_absolute_backing_name_is_refused(tmp_path: Path, decoy_raw: Path, ingest_image) -> None:
    base = _outside_base(tmp_path, decoy_raw)
    child = _child(tmp_path / "evidence", str(base))
    result = ingest_image(child, workers=2)
    assert result.exit_code == 1, result.output
    _no_decoy(result)
    assert _rows(result) == _refused_qcow_rows(child, str(base), "it is an absolute path")
    _only_the_child(result, child)


def test_qcow2_backing_symlink_leaving_the_folder_is_refused(tmp_path: Path, decoy_raw: Path, ingest_image) -> None:
    base = _outside_base(tmp_path, decoy_raw)
    child = _child(tmp_path / "evidence", "base.qcow2")
    (tmp_path / "evidence" / "base.qcow2").symlink_to("../x/base.qcow2")
    result = ingest_image(child)
    assert result.exit_code == 1, result.output
    _no_decoy(result)
    assert _rows(result) == _refused_qcow_rows(child, "base.qcow2", f"it leads outside the allowed folders (to {base})")
    _only_the_child(result, child)


def test_qcow2_backing_fifo_and_device_are_refused(tmp_path: Path, ingest_image) -> None:
    child = _child(tmp_path / "evidence", "base.qcow2")
    os.mkfifo(tmp_path / "evidence" / "base.qcow2")
    result = ingest_image(child)
    assert result.exit_code == 1, result.output
    assert _rows(result) == _refused_qcow_rows(child, "base.qcow2", "it is not a regular file")
    device = _child(tmp_path / "evidence2", "null")
    try:
        os.mknod(tmp_path / "evidence2" / "null", 0o600 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("mknod needs CAP_MKNOD here")
    result = ingest_image(device)
    assert result.exit_code == 1, result.output
    assert _rows(result) == _refused_qcow_rows(device, "null", "it is a device file")


def test_qcow2_backing_loop_is_refused(tmp_path: Path, ingest_image) -> None:
    folder = tmp_path / "evidence"
    child = _child(folder, "b.qcow2", "a.qcow2")
    _child(folder, "a.qcow2", "b.qcow2")
    result = ingest_image(child)
    assert result.exit_code == 1, result.output
    refusal = f"{folder / 'b.qcow2'}: the backing file 'a.qcow2' it names is refused: it is a.qcow2, already in the chain (a loop); " \
              "nothing outside the evidence is read"
    assert _rows(result)[:2] == [("source", "container_reference_refused", refusal),
                                 ("scan", "unreadable_volume", f"QCOW media is not read: {refusal}")]
    assert [c["path"] for c in result.source()["container_files"]] == [str(child), str(folder / "b.qcow2")]


def test_qcow2_backing_chain_longer_than_the_budget_is_refused(tmp_path: Path, ingest_image) -> None:
    folder = tmp_path / "evidence"
    for level in range(66):
        _child(folder, f"c{level + 1}.qcow2", f"c{level}.qcow2")
    result = ingest_image(folder / "c0.qcow2")
    assert result.exit_code == 1, result.output
    refusal = f"{folder / 'c0.qcow2'}: more than 64 backing files in its chain; refused"
    assert _rows(result)[:2] == [("source", "container_reference_refused", refusal),
                                 ("scan", "unreadable_volume", f"QCOW media is not read: {refusal}")]
    assert len(result.source()["container_files"]) == 65


def test_qcow2_hostile_headers_are_rows(tmp_path: Path, ingest_image) -> None:
    """A backing name that is not UTF-8, and a header cut short: the child is unreadable, the run goes on."""
    folder = tmp_path / "evidence"
    folder.mkdir()
    images.tool("qemu-img", "create", "-q", "-f", "qcow2", "-u", "-b", os.fsdecode(b"bad\xff\xfe.qcow2"), "-F", "qcow2", "child.qcow2",
                "4M", cwd=folder)
    cut = folder / "cut.qcow2"
    cut.write_bytes((folder / "child.qcow2").read_bytes()[:100])
    for image, why in ((folder / "child.qcow2", "pyqcow_file_get_backing_filename: unable to determine size of backing filename as UTF-8 "
                                                "string."),
                       (cut, "pyqcow_file_open: unable to open file. libqcow_file_header_read_file_io_handle: unable to read file header")):
        result = ingest_image(image)
        assert result.exit_code == 1, result.output
        (first, second, third) = result.errors()
        assert (first["stage"], first["error_kind"], second["error_kind"], third["error_kind"]) == ("source", "source_unreadable", "unreadable_volume",
                                                                                 "media_read_error")
        assert first["message"].startswith(f"{image}: its header cannot be read to find its backing file ({why}"), first["message"]
        assert [(v["type"], v["status"]) for v in result.source()["volumes"]] == [("QCOW", "unreadable")]


def test_qcow2_backing_file_beside_it_is_read_and_hashed(tmp_path: Path, decoy_raw: Path, ingest_image) -> None:
    folder = tmp_path / "evidence"
    folder.mkdir()
    base = _qcow2(decoy_raw, folder / "base.qcow2")
    child = _child(folder, "base.qcow2")
    result = ingest_image(child, workers=2)
    assert result.exit_code == 0, result.output
    assert result.errors() == []
    assert result.by_path()[b"/decoy.txt"]["sha256"] == DECOY_SHA256
    files = result.source()["container_files"]
    assert [(c["path"], c["sha256_before"], c["sha256_after"], c["is_unchanged"]) for c in files] == [
        (str(child), images.sha256_file(child), images.sha256_file(child), True),
        (str(base), images.sha256_file(base), images.sha256_file(base), True),
    ]


def test_parent_dir_names_where_the_backing_file_lies(tmp_path: Path, decoy_raw: Path, ingest_image) -> None:
    parents = tmp_path / "parents"
    parents.mkdir()
    base = _qcow2(decoy_raw, parents / "base.qcow2")
    child = _child(tmp_path / "evidence", "base.qcow2")
    missing = ingest_image(child)
    assert missing.exit_code == 1
    message = f"{child}: the backing file 'base.qcow2' it names is in none of the allowed folders ({child.parent})"
    assert _rows(missing)[:2] == [("source", "container_file_missing", message), ("scan", "unreadable_volume", f"QCOW media is not read: {message}")]
    found = ingest_image(child, "--parent-dir", str(parents))
    assert found.exit_code == 0, found.output
    assert found.by_path()[b"/decoy.txt"]["sha256"] == DECOY_SHA256
    assert [c["path"] for c in found.source()["container_files"]] == [str(child), str(base)]


def test_confined_dfvfs_does_not_follow_a_backing_name_itself(tmp_path: Path, decoy_raw: Path) -> None:
    """The depth of the fix: dfVFS's own QCOW layer, asked directly, opens nothing outside the confinement."""
    _outside_base(tmp_path, decoy_raw)
    child = _child(tmp_path / "evidence", "../x/base.qcow2")
    spec = factory.Factory.NewPathSpec(definitions.TYPE_INDICATOR_QCOW,
                                       parent=factory.Factory.NewPathSpec(definitions.TYPE_INDICATOR_OS, location=str(child)))
    outside = factory.Factory.NewPathSpec(definitions.TYPE_INDICATOR_OS, location=str(tmp_path / "x" / "base.qcow2"))
    confine.activate(confine.Confinement(files=(str(child),)))
    try:
        with pytest.raises(dfvfs_errors.BackEndError, match="its backing file '../x/base.qcow2' was not resolved inside the evidence; not opened"):
            resolver.Resolver.OpenFileObject(spec, resolver_context=context.Context())
        with pytest.raises(dfvfs_errors.BackEndError, match="not a container file of the source; nothing outside the evidence is opened"):
            resolver.Resolver.OpenFileObject(outside, resolver_context=context.Context())
        assert confine.refused() == [str(tmp_path / "evidence" / "../x/base.qcow2"), str(tmp_path / "x" / "base.qcow2")]
    finally:
        confine.activate(None)


# --- VHD ---------------------------------------------------------------------------------------

def _rename_vhd_parent(vhd: Path, parent_name: str) -> None:
    """Write `parent_name` into the dynamic header's Parent Unicode Name and fix the header checksum."""
    data = bytearray(vhd.read_bytes())
    header = struct.unpack(">Q", data[16:24])[0]
    data[header + 64:header + 64 + 512] = parent_name.encode("utf-16-be").ljust(512, b"\0")
    data[header + 36:header + 40] = b"\0\0\0\0"
    checksum = ~sum(data[header:header + 1024]) & 0xFFFFFFFF
    data[header + 36:header + 40] = struct.pack(">I", checksum)
    vhd.write_bytes(bytes(data))


def test_differencing_vhd_whose_parent_climbs_out_is_refused(tmp_path: Path, ingest_image) -> None:
    corpus = require_corpus() / "log2timeline__dfvfs/test_data"
    (tmp_path / "x").mkdir()
    shutil.copyfile(corpus / "image.vhd", tmp_path / "x" / "image.vhd")
    (tmp_path / "evidence").mkdir()
    child = tmp_path / "evidence" / "image-differential.vhd"
    shutil.copyfile(corpus / "image-differential.vhd", child)
    _rename_vhd_parent(child, "../x/image.vhd")
    result = ingest_image(child)
    assert result.exit_code == 1, result.output
    assert result.artefacts() == []
    refusal = f"{child}: the parent disk '../x/image.vhd' it names is refused: it climbs out of the folder with '..'; nothing outside the evidence is read"
    assert _rows(result) == [
        ("source", "container_reference_refused", refusal),
        ("scan", "unreadable_volume", f"VHDI media is not read: {refusal}"),
        ("source", "media_read_error", f"media stream cannot be opened: Unable to open file object with error: {child}: its parent disk "
                                       "'../x/image.vhd' was not resolved inside the evidence; not opened"),
    ]
    assert [c["path"] for c in result.source()["container_files"]] == [str(child)]


def test_differencing_vhd_without_its_parent(tmp_path: Path, ingest_image) -> None:
    child = require_corpus() / "log2timeline__dfvfs/test_data/image-differential.vhd"
    alone = tmp_path / "evidence" / child.name
    alone.parent.mkdir()
    shutil.copyfile(child, alone)
    result = ingest_image(alone)
    assert result.exit_code == 1
    assert result.artefacts() == []
    message = f"{alone}: the parent disk 'image.vhd' it names is in none of the allowed folders ({alone.parent})"
    assert [(e["stage"], e["error_kind"], e["message"]) for e in result.errors()][:2] == [
        ("source", "container_file_missing", message), ("scan", "unreadable_volume", f"VHDI media is not read: {message}")]
    assert [(e["stage"], e["error_kind"]) for e in result.errors()][2:] == [("source", "media_read_error")]
    source = result.source()
    assert [c["path"] for c in source["container_files"]] == [str(alone)]
    assert source["is_source_unchanged"] is True
    assert source["stream_sha256"] is None


def test_differencing_vhd_with_its_parent_beside_it(tmp_path: Path, ingest_image) -> None:
    corpus = require_corpus() / "log2timeline__dfvfs/test_data"
    (tmp_path / "evidence").mkdir()
    for name in ("image.vhd", "image-differential.vhd"):
        shutil.copyfile(corpus / name, tmp_path / "evidence" / name)
    result = ingest_image(tmp_path / "evidence" / "image-differential.vhd")
    assert [c["path"] for c in result.source()["container_files"]] == [str(tmp_path / "evidence" / n)
                                                                        for n in ("image-differential.vhd", "image.vhd")]
    assert result.exit_code == 0, result.output
    assert result.errors() == []
    assert len(result.artefacts()) == 11
    child, parent = pyvhdi.file(), pyvhdi.file()  # oracle: libvhdi directly, the parent attached by hand
    child.open(str(tmp_path / "evidence" / "image-differential.vhd"))
    parent.open(str(tmp_path / "evidence" / "image.vhd"))
    child.set_parent(parent)
    media = child.read_buffer_at_offset(child.get_media_size(), 0)
    assert (result.source()["stream_size"], result.source()["stream_sha256"]) == (104448, hashlib.sha256(media).hexdigest())
    assert result.source()["is_source_unchanged"] is True


# --- VMDK --------------------------------------------------------------------------------------

def _descriptor(folder: Path, extent: str, sectors: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    text = ("# Disk DescriptorFile\nversion=1\nCID=fffffffe\nparentCID=ffffffff\ncreateType=\"monolithicFlat\"\n\n"
            f"# Extent description\nRW {sectors} FLAT \"{extent}\" 0\n\n# The Disk Data Base\n#DDB\n\n"
            "ddb.virtualHWVersion = \"4\"\nddb.adapterType = \"ide\"\n")
    path = folder / "disk.vmdk"
    path.write_text(text, encoding="ascii")
    return path


@pytest.mark.parametrize(("extent", "rule"), [("/etc/passwd", "it is an absolute path"),
                                              ("../x/decoy.raw", "it climbs out of the folder with '..'"),
                                              ("..\\x\\decoy.raw", "it climbs out of the folder with '..'"),
                                              ("C:\\VMs\\decoy.raw", "it is an absolute path")])
def test_vmdk_extent_outside_the_folder_is_refused(extent: str, rule: str, tmp_path: Path, decoy_raw: Path, ingest_image) -> None:
    (tmp_path / "x").mkdir()
    shutil.copyfile(decoy_raw, tmp_path / "x" / "decoy.raw")
    descriptor = _descriptor(tmp_path / "evidence", extent, 8192)
    result = ingest_image(descriptor)
    assert result.exit_code == 1, result.output
    _no_decoy(result)
    refusal = f"{descriptor}: the extent file {extent!r} it names is refused: {rule}; nothing outside the evidence is read"
    assert _rows(result)[:2] == [("source", "container_reference_refused", refusal),
                                 ("scan", "unreadable_volume", f"VMDK media is not read: {refusal}")]
    assert [(e["stage"], e["error_kind"]) for e in result.errors()][2:] == [("source", "media_read_error")]
    assert [c["path"] for c in result.source()["container_files"]] == [str(descriptor)]


def test_vmdk_descriptor_that_is_garbage_is_a_row(tmp_path: Path, ingest_image) -> None:
    descriptor = _descriptor(tmp_path / "evidence", "disk-flat.vmdk", 8192)
    descriptor.write_bytes(descriptor.read_bytes().replace(b'RW 8192 FLAT "disk-flat.vmdk" 0', b"RW \xff\x00 FLAT \"\x01" * 50))
    result = ingest_image(descriptor)
    assert result.exit_code == 1, result.output
    assert result.artefacts() == []
    (first, second, third) = _rows(result)
    why = (f"{descriptor}: the VMDK descriptor cannot be read to find its extent files (pyvmdk_handle_open: unable to open handle. "
           "libvmdk_extent_values_read: unsupported number of extent values: 2.")
    assert first[:2] == ("source", "source_unreadable") and first[2].startswith(why), first
    assert second == ("scan", "unreadable_volume", f"VMDK media is not read: {first[2]}")
    assert third == ("source", "media_read_error", f"media stream cannot be opened: Unable to open file object with error: {descriptor}: "
                                                   "its extent files were not resolved inside the evidence; not opened")
    assert [c["path"] for c in result.source()["container_files"]] == [str(descriptor)]


def test_vmdk_flat_extent_beside_the_descriptor_is_read_and_hashed(tmp_path: Path, decoy_raw: Path, ingest_image) -> None:
    descriptor = _descriptor(tmp_path / "evidence", "disk-flat.vmdk", 8192)
    extent = tmp_path / "evidence" / "disk-flat.vmdk"
    shutil.copyfile(decoy_raw, extent)
    result = ingest_image(descriptor, workers=2)
    assert result.exit_code == 0, result.output
    assert result.by_path()[b"/decoy.txt"]["sha256"] == DECOY_SHA256
    source = result.source()
    assert [(c["path"], c["sha256_before"], c["is_unchanged"]) for c in source["container_files"]] == [
        (str(descriptor), images.sha256_file(descriptor), True), (str(extent), images.sha256_file(extent), True)]
    assert source["stream_sha256"] == images.sha256_file(decoy_raw)


# --- segment sets: refused whole, exit 2, nothing written --------------------------------------

@pytest.fixture(scope="module")
def e01_set(tmp_path_factory, decoy_raw: Path) -> list[Path]:
    """The decoy disk grown to 8 MiB of incompressible data, as nine 1 MiB EWF segments."""
    require_tool("ewfacquire")
    folder = tmp_path_factory.mktemp("e01")
    raw = folder / "disk.raw"
    raw.write_bytes(decoy_raw.read_bytes() + images.pseudo_random(4 * MIB, seed=9))
    segments = images.make_e01(raw, folder / "fs", MIB)
    raw.unlink()
    return segments


def _copy_set(segments: list[Path], folder: Path) -> list[Path]:
    folder.mkdir()
    return [Path(shutil.copyfile(s, folder / s.name)) for s in segments]


def _refused_whole(result, message: str) -> None:
    """Exit 2, the exact message, and nothing written."""
    assert (result.exit_code, result.output) == (2, f"Error: {message}\n")
    assert not result.folder.exists()


def test_e01_set_with_a_missing_middle_segment_is_refused(tmp_path: Path, e01_set: list[Path], ingest_image) -> None:
    segments = _copy_set(e01_set, tmp_path / "evidence")
    assert len(segments) == 9
    segments[3].unlink()
    _refused_whole(ingest_image(segments[0]), f"{segments[0]}: the segment set is incomplete: fs.E04 is missing after fs.E03, while 5 "
                                                "later segment(s) from fs.E05 are present; ingest needs the whole set")


def test_e01_set_with_a_cut_last_segment_is_refused(tmp_path: Path, e01_set: list[Path], ingest_image) -> None:
    segments = _copy_set(e01_set, tmp_path / "evidence")
    os.truncate(segments[-1], segments[-1].stat().st_size // 2)
    result = ingest_image(segments[0])
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: {segments[0]}: the EWF set fs.E01..fs.E09 does not hold the media's last sector (byte 8388607 "
                                    "of 8388608): its last segment is cut short or segments after it are missing; ingest needs the whole "
                                    "set (libewf: pyewf_handle_read_buffer_at_offset: unable to read data.")
    assert not result.folder.exists()


def test_e01_segment_symlink_leaving_the_folder_is_refused(tmp_path: Path, e01_set: list[Path], ingest_image) -> None:
    segments = _copy_set(e01_set, tmp_path / "evidence")
    (tmp_path / "x").mkdir()
    shutil.move(segments[1], tmp_path / "x" / "fs.E02")
    segments[1].symlink_to(tmp_path / "x" / "fs.E02")
    _refused_whole(ingest_image(segments[0]), f"{segments[0]}: segment fs.E02 is refused: it leads outside the allowed folders (to "
                                                f"{tmp_path / 'x' / 'fs.E02'}); segments are read from the source's own folder only")


def test_e01_whole_set_is_read_with_every_segment_hashed(tmp_path: Path, e01_set: list[Path], ingest_image) -> None:
    segments = _copy_set(e01_set, tmp_path / "evidence")
    result = ingest_image(segments[0])
    assert result.exit_code == 0, result.output
    assert [c["path"] for c in result.source()["container_files"]] == [str(s) for s in segments]
    assert result.by_path()[b"/decoy.txt"]["sha256"] == DECOY_SHA256


def test_split_raw_with_a_missing_middle_segment_is_refused(tmp_path: Path, decoy_raw: Path, ingest_image) -> None:
    require_tool("split")
    (tmp_path / "evidence").mkdir()
    parts = images.split_raw(decoy_raw, tmp_path / "evidence" / "disk.raw", MIB)
    assert [p.name for p in parts] == ["disk.raw.000", "disk.raw.001", "disk.raw.002", "disk.raw.003"]
    parts[1].unlink()
    _refused_whole(ingest_image(parts[0]), f"{parts[0]}: the segment set is incomplete: disk.raw.001 is missing after disk.raw.000, "
                                             "while 2 later segment(s) from disk.raw.002 are present; ingest needs the whole set")
