"""TSK reads one image file through Exhibit's own descriptor: no segment lookup by name, no zero-filled short reads."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ingest import confine, tsk
from tests.images import _mbr, _mbr_entry, make_fat, pseudo_random, tool

FILLER = pseudo_random(6 << 20, 1)
SECRET = b"the secret lies past the cut\n" * 100
CUT = 5 << 20  # inside the filler: the secret's clusters lie past it


@pytest.fixture(scope="module")
def fat_disk(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A 12 MiB FAT16 file system whose /secret.txt is stored after a 6 MiB /filler."""
    image = make_fat(tmp_path_factory.mktemp("fat") / "fs.raw", 12 * 1024, {"filler": FILLER})
    secret = image.with_name("secret.txt")
    secret.write_bytes(SECRET)
    tool("mcopy", "-m", "-i", image, secret, "::/secret.txt")
    return image.read_bytes()


def _read_errors(errors: list[dict]) -> dict[str, tuple[str, str]]:
    return {row["path"]: (row["error_kind"], row["message"]) for row in errors if row["path"] in ("/filler", "/secret.txt")}


@pytest.mark.parametrize("decoy", ["symlink", "file"])
def test_tsk_never_reads_a_segment_beside_a_raw_image(tmp_path: Path, fat_disk: bytes, ingest_image, decoy: str) -> None:
    """TSK given the name c.dmg would read c.002.dmgpart as its second segment; Exhibit lists no such segment."""
    evidence, outside = tmp_path / "ev", tmp_path / "outside"
    evidence.mkdir()
    outside.mkdir()
    source = evidence / "c.dmg"
    source.write_bytes(fat_disk[:CUT])
    (outside / "part2").write_bytes(fat_disk[CUT:])
    if decoy == "symlink":
        (evidence / "c.002.dmgpart").symlink_to(outside / "part2")
    else:
        (evidence / "c.002.dmgpart").write_bytes(fat_disk[CUT:])
    result = ingest_image(source)
    assert result.exit_code == 1, result.output
    assert [c["path"] for c in result.source()["container_files"]] == [str(source)]
    secret = result.by_path()[b"/secret.txt"]
    assert (secret["content_status"], secret["sha256"], secret["size"]) == ("read_error", None, len(SECRET))
    assert secret["read_error_message"] == ("File_read_random: (tsk3.cpp:731) Read error: Error reading image file (tsk_fs_read: Offset "
                                            "missing in partial image: 6334464)) (tsk_fs_attr_read_type: offset: 6334464  Len: 2900)")
    assert _read_errors(result.errors()) == {
        "/filler": ("short_read", "content of /filler could not be read: asked for 1048576 bytes at offset 4194304, got 1005568"),
        "/secret.txt": ("io_error", "content of /secret.txt could not be read: " + secret["read_error_message"]),
    }
    assert result.by_path()[b"/filler"]["sha256"] is None


def test_a_partition_cut_short_is_a_read_error_not_zeros(tmp_path: Path, fat_disk: bytes, ingest_image) -> None:
    """MBR partition read through dfVFS: the partition claims 12 MiB, the image ends 5 MiB in; nothing is hashed over zeros."""
    disk = _mbr([_mbr_entry(0x80, 0x06, 2048, len(fat_disk) // 512)]).ljust(1 << 20, b"\0") + fat_disk
    source = tmp_path / "c.bin"
    source.write_bytes(disk[:(1 << 20) + CUT])
    result = ingest_image(source)
    assert result.exit_code == 1, result.output
    secret = result.by_path()[b"/secret.txt"]
    assert (secret["content_status"], secret["sha256"]) == ("read_error", None)
    assert result.by_path()[b"/filler"]["sha256"] is None
    assert hashlib.sha256(bytes(len(SECRET))).hexdigest() not in {row["sha256"] for row in result.artefacts()}
    assert _read_errors(result.errors()) == {
        "/filler": ("io_error", "content of /filler could not be read: ShortImageRead('/p1: read of 1048576 bytes at offset 4237312 "
                                "returned 1005568')\\x0aFile_read_random: (tsk3.cpp:731) Read error: unknown libtsk error"),
        "/secret.txt": ("io_error", "content of /secret.txt could not be read: ShortImageRead('/p1: read of 3072 bytes at offset 6334464 "
                                    "returned 0')"),
    }


def test_a_short_read_is_an_error_not_zeros(tmp_path: Path) -> None:
    image = tmp_path / "c.raw"
    image.write_bytes(b"x" * 1000)
    raw = tsk.RawFileImage(str(image))
    assert raw.read(0, 4096) == b"x" * 1000  # TSK itself asks no further than the end (it clips to get_size)
    with pytest.raises(tsk.ShortImageRead, match=r"c.raw: read at offset 1000 lies at or past the image end \(1000 bytes\)$"):
        raw.read(1000, 512)
    image.write_bytes(b"x" * 600)  # the file shrank under the open image
    with pytest.raises(tsk.ShortImageRead, match=r"c.raw: read of 400 bytes at offset 600 returned 0$"):
        raw.read(600, 512)
    with pytest.raises(tsk.ShortImageRead, match=r"c.raw: read of 500 bytes at offset 500 returned 100$"):
        raw.read(500, 512)


def test_a_symlinked_image_is_not_opened_by_the_raw_reader(tmp_path: Path) -> None:
    (tmp_path / "real.raw").write_bytes(b"x" * 512)
    (tmp_path / "link.raw").symlink_to(tmp_path / "real.raw")
    with pytest.raises(OSError) as raised:
        tsk.RawFileImage(str(tmp_path / "link.raw"))
    assert raised.value.errno == 40  # ELOOP: O_NOFOLLOW


def test_a_failed_run_leaves_no_confinement(tmp_path: Path, fat_disk: bytes, ingest_image) -> None:
    from tests.conftest import run_ingest

    source = tmp_path / "c.raw"
    source.write_bytes(fat_disk)
    first = run_ingest(source, tmp_path / "out")
    assert first.exit_code == 0, first.output
    assert confine.active() is None
    again = run_ingest(source, tmp_path / "out")
    assert again.exit_code != 0
    assert confine.active() is None
