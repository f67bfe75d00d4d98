"""ZIP, TAR and TAR.GZ sources: every member catalogued and hashed on its own, damage costs one member.

Archives are built here with tarfile/zipfile (and damaged by hand); the oracle for what must be
catalogued is the same library reading the undamaged archive: every member's normalised name
and the SHA-256 of the content tarfile/zipfile extract for it.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import random
import struct
import tarfile
import warnings
import zipfile
import zlib
from pathlib import Path

import pytest

from tests.conftest import Ingested, run_ingest
from tests.images import damaged

WORDS = (b"alpha", b"beta", b"gamma", b"delta", b"omega", b"sigma")


def text(seed: int, size: int) -> bytes:
    """Compressible but varied content: deflate codes it with dynamic Huffman blocks."""
    chooser = random.Random(seed)
    out = bytearray()
    while len(out) < size:
        out += chooser.choice(WORDS) + b" %d\n" % chooser.randrange(10**6)
    return bytes(out[:size])


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


THREE = [(b"one.txt", text(1, 200_000)), (b"two.txt", text(2, 300_000)), (b"three.txt", text(3, 200_000))]


def ingest(source: Path, tmp_path: Path, workers: int = 1) -> Ingested:
    source.chmod(0o444)
    before = sha(source.read_bytes())
    result = run_ingest(source, tmp_path / "out", workers=workers)
    assert sha(source.read_bytes()) == before
    return result


def files(result: Ingested) -> list[tuple[bytes, str | None]]:
    return [(r["path_bytes"], r["sha256"]) for r in result.artefacts() if r["entry_type"] == "file"]


def errors(result: Ingested) -> list[tuple]:
    return [(e["stage"], e["error_kind"], e["severity"], e["path"], e["offset"], e["length"]) for e in result.errors()]


def content_fields(row: dict) -> tuple:
    return (row["content_status"], row["read_error_kind"], row["read_error_offset"], row["read_error_length"], row["sha256"])


def _info(name: bytes, data: bytes | None = None, kind: bytes = tarfile.REGTYPE, link: bytes = b"") -> tuple[tarfile.TarInfo, bytes | None]:
    info = tarfile.TarInfo(name.decode("utf-8", "surrogateescape"))
    info.type = kind
    info.mtime = 1_704_164_645
    info.mode = 0o640
    info.linkname = link.decode("utf-8", "surrogateescape")
    info.size = len(data) if data is not None else 0
    return info, data


def write_tar(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], compress: bool = False,
              fmt: int = tarfile.GNU_FORMAT) -> Path:
    with tarfile.open(path, "w:gz" if compress else "w", format=fmt, encoding="utf-8", errors="surrogateescape") as archive:
        for info, data in members:
            archive.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def write_zip(path: Path, members: list[tuple[bytes, bytes]], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": exactly what the test wants
        with zipfile.ZipFile(path, "w", method) as archive:
            for name, data in members:
                info = zipfile.ZipInfo(name.decode("utf-8"), date_time=(2024, 1, 2, 3, 4, 5))
                info.compress_type = method
                archive.writestr(info, data)
    return path


def tar_oracle(path: Path) -> list[tuple[bytes, str]]:
    """What tarfile lists and extracts: each regular member and hard link with its content's SHA-256."""
    expected = []
    with tarfile.open(path, encoding="utf-8", errors="surrogateescape") as archive:
        for member in archive.getmembers():
            if member.isreg() or member.islnk():
                raw = member.name.encode("utf-8", "surrogateescape")
                expected.append((_normalised(raw), sha(archive.extractfile(member).read())))
    return expected


def tar_oracle_bytes(data: bytes) -> list[tuple[bytes, str]]:
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        return [(_normalised(m.name.encode()), sha(archive.extractfile(m).read())) for m in archive.getmembers() if m.isreg()]


def zip_oracle(path: Path) -> list[tuple[bytes, str]]:
    with zipfile.ZipFile(path) as archive:
        return [(_normalised(i.orig_filename.encode("utf-8" if i.flag_bits & 0x800 else "cp437", "surrogateescape")), sha(archive.read(i)))
                for i in archive.infolist() if not i.is_dir()]


def _normalised(raw: bytes) -> bytes:
    return b"/" + b"/".join(p for p in raw.split(b"/") if p not in (b"", b"."))


def _zip_data_offset(raw: bytes, info: zipfile.ZipInfo) -> int:
    name_length, extra_length = struct.unpack("<HH", raw[info.header_offset + 26:info.header_offset + 30])
    return info.header_offset + 30 + name_length + extra_length


# --- damage costs one member ------------------------------------------------------------------

def test_zip_bad_deflate_costs_only_that_member(tmp_path: Path) -> None:
    good = write_zip(tmp_path / "good.zip", THREE)
    raw = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as archive:
        two = archive.infolist()[1]
    damage = _zip_data_offset(bytes(raw), two) + two.compress_size // 4
    raw[damage:damage + 32] = b"\xff" * 32  # "invalid block type" once the decoder reaches it
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(raw))
    # Oracle for where reading stops: zipfile itself, read in the walk's 64 KiB pieces.
    with zipfile.ZipFile(bad) as archive, archive.open(archive.infolist()[1]) as member:
        delivered = 0
        with pytest.raises(zlib.error, match="invalid block type"):
            while piece := member.read(1 << 16):
                delivered += len(piece)
    assert 0 < delivered < 300_000
    result = ingest(bad, tmp_path)
    assert result.exit_code == 1, result.output
    assert result.output.startswith("completed with 1 error:")
    assert files(result) == [(b"/one.txt", sha(THREE[0][1])), (b"/two.txt", None), (b"/three.txt", sha(THREE[2][1]))]
    row = result.by_path()[b"/two.txt"]
    assert content_fields(row) == ("read_error", "corrupt_member", delivered, 300_000 - delivered, None)
    assert errors(result) == [("read", "corrupt_member", "error", "/two.txt", delivered, 300_000 - delivered)]
    (error,) = result.errors()
    assert error["message"] == (f"content of /two.txt could not be read: ZIP member 1 (local header at byte {two.header_offset}): "
                                "Error -3 while decompressing data: invalid block type")
    assert json.loads(error["path_spec"])["member_index"] == 1


def test_zip_bad_crc_costs_only_that_member(tmp_path: Path) -> None:
    good = write_zip(tmp_path / "good.zip", THREE)
    raw = bytearray(good.read_bytes())
    central = raw.find(b"PK\x01\x02" + raw[raw.find(b"PK\x01\x02") + 4:raw.find(b"PK\x01\x02") + 16])  # first entry
    entries = [i for i in range(central, len(raw) - 4) if raw[i:i + 4] == b"PK\x01\x02"]
    second = entries[1]
    assert raw[second + 46:second + 46 + 7] == b"two.txt"
    raw[second + 16:second + 20] = bytes(b ^ 0xFF for b in raw[second + 16:second + 20])  # the stored CRC-32
    bad = tmp_path / "crc.zip"
    bad.write_bytes(bytes(raw))
    with zipfile.ZipFile(bad) as archive, pytest.raises(zipfile.BadZipFile, match="Bad CRC-32 for file 'two.txt'"):
        archive.read("two.txt")
    result = ingest(bad, tmp_path)
    assert result.exit_code == 1, result.output
    assert files(result) == [(b"/one.txt", sha(THREE[0][1])), (b"/two.txt", None), (b"/three.txt", sha(THREE[2][1]))]
    assert content_fields(result.by_path()[b"/two.txt"]) == ("read_error", "crc_mismatch", 0, 300_000, None)
    assert errors(result) == [("read", "crc_mismatch", "error", "/two.txt", 0, 300_000)]


def test_tar_cut_inside_the_second_member(tmp_path: Path) -> None:
    good = write_tar(tmp_path / "good.tar", [_info(n, d) for n, d in THREE])
    with tarfile.open(good) as archive:
        two, three = archive.getmember("two.txt"), archive.getmember("three.txt")
    kept = 100_000
    cut = tmp_path / "cut.tar"
    cut.write_bytes(good.read_bytes()[:two.offset_data + kept])
    result = ingest(cut, tmp_path)
    assert result.exit_code == 1, result.output
    assert files(result) == [(b"/one.txt", sha(THREE[0][1])), (b"/two.txt", None)]
    assert content_fields(result.by_path()[b"/two.txt"]) == ("read_error", "short_read", kept, 300_000 - kept, None)
    assert errors(result) == [("walk", "archive_truncated", "error", None, three.offset, None),
                              ("read", "short_read", "error", "/two.txt", kept, 300_000 - kept)]
    assert result.errors()[0]["message"] == (f"the TAR stream ends inside the data of the member whose header is at byte {two.offset}, "
                                             f"before byte {three.offset}: that member is cut, and members after it (if any) are missing")


def _decompressible(damaged: bytes) -> tuple[int, BaseException | None]:
    """How many bytes zlib gives before it fails, fed one compressed byte at a time (the exact oracle)."""
    decoder, out = zlib.decompressobj(31), 0
    try:
        for index in range(len(damaged)):
            out += len(decoder.decompress(damaged[index:index + 1]))
    except zlib.error as error:
        return out, error
    return out, None


def _gz_damage(raw: bytes, accept, flip: bool = False) -> bytes:
    """32 bytes of 0xff (or 8 bytes inverted) at the first place in the compressed middle where `accept(damaged)` holds."""
    for position in range(len(raw) // 4, len(raw) * 3 // 4, 997):
        if flip:
            damaged = raw[:position] + bytes(b ^ 0xFF for b in raw[position:position + 8]) + raw[position + 8:]
        else:
            damaged = raw[:position] + b"\xff" * 32 + raw[position + 32:]
        if accept(damaged):
            return damaged
    raise AssertionError("no damage of the wanted kind found")


def _tar_names(data: bytes) -> list[str] | None:
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
            return archive.getnames()
    except (tarfile.TarError, zlib.error, OSError, EOFError):
        return None


def test_tar_gz_damaged_in_the_middle(tmp_path: Path) -> None:
    good = write_tar(tmp_path / "good.tar.gz", [_info(n, d) for n, d in THREE], compress=True)
    with tarfile.open(good) as archive:
        two, three = archive.getmember("two.txt"), archive.getmember("three.txt")
    damaged = _gz_damage(good.read_bytes(), lambda d: _decompressible(d)[1] is not None
                         and two.offset_data <= _decompressible(d)[0] < two.offset_data + 300_000)
    delivered, failure = _decompressible(damaged)
    assert "invalid" in str(failure)
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(damaged)
    result = ingest(bad, tmp_path)
    assert result.exit_code == 1, result.output
    assert files(result) == [(b"/one.txt", sha(THREE[0][1])), (b"/two.txt", None)]
    at = delivered - two.offset_data
    assert content_fields(result.by_path()[b"/two.txt"]) == ("read_error", "corrupt_stream", at, 300_000 - at, None)
    assert errors(result) == [("walk", "corrupt_stream", "error", None, delivered, None),
                              ("read", "corrupt_stream", "error", "/two.txt", at, 300_000 - at)]
    assert three.offset > delivered
    assert result.errors()[1]["message"].startswith(f"content of /two.txt could not be read: the gzip stream cannot be decompressed "
                                                     f"past byte {at} of this member: Error -3 while decompressing data")


def test_tar_gz_damage_found_only_by_the_next_header(tmp_path: Path) -> None:
    """Damaged deflate data often decompresses to garbage without an error: the next header failing
    its checksum is the first sign, and it condemns the member before it instead of letting garbage be hashed."""
    good = write_tar(tmp_path / "good.tar.gz", [_info(n, d) for n, d in THREE], compress=True)
    with tarfile.open(good) as archive:
        three = archive.getmember("three.txt")
    raw = good.read_bytes()
    for position in range(len(raw) // 4, len(raw) * 3 // 4, 997):
        damaged = raw[:position] + bytes(b ^ 0xFF for b in raw[position:position + 8]) + raw[position + 8:]
        try:
            with tarfile.open(fileobj=io.BytesIO(damaged)) as archive:
                archive.getmembers()
        except (tarfile.TarError, zlib.error, OSError, EOFError):
            continue
        if [m.name for m in tarfile.open(fileobj=io.BytesIO(damaged)).getmembers()] == ["one.txt", "two.txt"]:
            break  # tarfile itself silently stops after two.txt: the next header is garbage
    else:
        raise AssertionError("no damage that garbles the third header found")
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(damaged)
    result = ingest(bad, tmp_path)
    assert result.exit_code == 1, result.output
    assert files(result) == [(b"/one.txt", sha(THREE[0][1])), (b"/two.txt", None)]
    assert content_fields(result.by_path()[b"/two.txt"]) == ("read_error", "corrupt_stream", 0, 300_000, None)
    assert errors(result) == [("read", "corrupt_stream", "error", "/two.txt", 0, 300_000),
                              ("walk", "corrupt_header", "error", None, three.offset, None)]
    messages = [e["message"] for e in result.errors()]
    assert messages[0].startswith(f"content of /two.txt could not be read: the gzip stream is damaged in or before this member's data: "
                                  f"the TAR header after it, at byte {three.offset}, is invalid (")


def test_tar_gz_damage_seen_only_by_the_crc_is_an_error_on_the_archive(tmp_path: Path) -> None:
    """When garbage keeps every header valid, only the stream's CRC-32 at its end shows it: which
    member holds it cannot be known, so the error says every member hash is unverified."""
    good = write_tar(tmp_path / "good.tar.gz", [_info(n, d) for n, d in THREE], compress=True)
    damaged = _gz_damage(good.read_bytes(), lambda d: "incorrect data check" in str(_decompressible(d)[1]) and _tar_names(d) == ["one.txt", "two.txt", "three.txt"],
                         flip=True)
    with pytest.raises(gzip.BadGzipFile, match="CRC check failed"):
        gzip.decompress(damaged)
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(damaged)
    result = ingest(bad, tmp_path)
    assert result.exit_code == 1, result.output
    listed = files(result)
    assert [p for p, _ in listed] == [b"/one.txt", b"/two.txt", b"/three.txt"]
    decoder = zlib.decompressobj(-15)  # raw deflate after gzip's 10-byte header + "good.tar\0": no CRC check
    name_end = damaged.index(b"\0", 10) + 1
    assert tar_oracle_bytes(decoder.decompress(damaged[name_end:])) == listed  # exactly what the stream decompresses to
    assert sum(digest != sha(data) for (_, digest), (_, data) in zip(listed, THREE, strict=True)) >= 1  # and that is not what was stored
    assert errors(result) == [("walk", "corrupt_stream", "error", None, None, None)]
    assert "which member holds it is unknown; the member hashes of this archive are unverified" in result.errors()[0]["message"]


def test_tar_gz_cut_keeps_the_members_before(tmp_path: Path) -> None:
    good = write_tar(tmp_path / "good.tar.gz", [_info(n, d) for n, d in THREE], compress=True)
    raw = good.read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(raw[:len(raw) * 2 // 3])
    result = ingest(cut, tmp_path)
    assert result.exit_code == 1, result.output
    listed = files(result)
    assert listed[0] == (b"/one.txt", sha(THREE[0][1]))
    assert all(digest is None for _, digest in listed[1:]) and len(listed) in (2, 3)
    kinds = [(e["stage"], e["error_kind"]) for e in result.errors()]
    assert ("walk", "corrupt_stream") in kinds
    assert all(kind in ("corrupt_stream", "short_read") for _, kind in kinds)


# --- names, duplicates, links -----------------------------------------------------------------

NAMED = [
    (b"plain.txt", b"plain\n"),
    (b"/etc/x", b"absolute name\n"),
    (b"./dump/x", b"dot-slash name\n"),
    (b"dup.txt", b"first copy\n"),
    (b"../../etc/climb", b"climbing name\n"),
    (b"dup.txt", b"second, longer copy\n"),
]


@pytest.mark.parametrize("kind", ["tar", "tar.gz", "zip"])
def test_catalogue_is_what_tarfile_and_zipfile_list(kind: str, tmp_path: Path) -> None:
    if kind == "zip":
        source = write_zip(tmp_path / "named.zip", NAMED)
        expected = zip_oracle(source)
    else:
        members = [_info(n, d) for n, d in NAMED] + [_info(b"bad\xff\xfe.bin", b"not utf-8\n"), _info(b"hard", kind=tarfile.LNKTYPE, link=b"plain.txt")]
        source = write_tar(tmp_path / f"named.{kind}", members, compress=kind == "tar.gz")
        expected = tar_oracle(source)
    assert len(expected) == (6 if kind == "zip" else 8)
    result = ingest(source, tmp_path)
    assert result.exit_code == 0, result.output
    assert result.errors() == []
    assert files(result) == expected
    rows = [r for r in result.artefacts() if r["entry_type"] == "file"]
    assert [r["path"] for r in rows[:6]] == ["/plain.txt", "/etc/x", "/dump/x", "/dup.txt", "/../../etc/climb", "/dup.txt"]
    assert [r["size"] for r in rows if r["path"] == "/dup.txt"] == [11, 20]
    assert [json.loads(r["path_spec"])["member_name"] for r in rows[:6]] == [n.decode() for n, _ in NAMED]
    assert [r["name_bytes"] for r in rows[:6]] == [b"plain.txt", b"x", b"x", b"dup.txt", b"climb", b"dup.txt"]
    if kind != "zip":
        assert (rows[6]["path_bytes"], rows[6]["name_bytes"], rows[6]["path"]) == (b"/bad\xff\xfe.bin", b"bad\xff\xfe.bin", "/bad\\xff\\xfe.bin")
        assert (rows[7]["path"], rows[7]["link_target_bytes"], rows[7]["sha256"]) == ("/hard", b"plain.txt", sha(b"plain\n"))
    assert not (tmp_path / "etc").exists()


def test_zip_name_without_utf8_flag_keeps_its_cp437_bytes(tmp_path: Path) -> None:
    source = write_zip(tmp_path / "names.zip", [(b"badXX.bin", b"cp437 name\n")])
    raw = source.read_bytes().replace(b"badXX.bin", b"bad\x81\xe9.bin")  # both headers; no UTF-8 flag set
    source.write_bytes(raw)
    result = ingest(source, tmp_path)
    assert result.exit_code == 0, result.output
    (row,) = [r for r in result.artefacts() if r["entry_type"] == "file"]
    assert (row["name_bytes"], row["path_bytes"], row["sha256"]) == (b"bad\x81\xe9.bin", b"/bad\x81\xe9.bin", sha(b"cp437 name\n"))


def test_tar_hard_links_take_the_content_they_name(tmp_path: Path) -> None:
    members = [
        _info(b"a.txt", b"first a\n"),
        _info(b"to-a", kind=tarfile.LNKTYPE, link=b"a.txt"),
        _info(b"to-to-a", kind=tarfile.LNKTYPE, link=b"to-a"),
        _info(b"self", kind=tarfile.LNKTYPE, link=b"self"),
        _info(b"to-later", kind=tarfile.LNKTYPE, link=b"later.txt"),
        _info(b"folder", kind=tarfile.DIRTYPE),
        _info(b"to-folder", kind=tarfile.LNKTYPE, link=b"folder"),
        _info(b"later.txt", b"later\n"),
        _info(b"a.txt", b"second a, replacing the first\n"),
        _info(b"to-new-a", kind=tarfile.LNKTYPE, link=b"a.txt"),
    ]
    source = write_tar(tmp_path / "links.tar", members)
    result = ingest(source, tmp_path)
    assert result.exit_code == 1, result.output
    first, second = sha(b"first a\n"), sha(b"second a, replacing the first\n")
    assert files(result) == [(b"/a.txt", first), (b"/to-a", first), (b"/to-to-a", first), (b"/self", None), (b"/to-later", None),
                             (b"/to-folder", None), (b"/later.txt", sha(b"later\n")), (b"/a.txt", second), (b"/to-new-a", second)]
    with tarfile.open(source) as archive:  # the oracle agrees wherever tarfile can resolve the link
        assert sha(archive.extractfile("to-to-a").read()) == first
        assert sha(archive.extractfile(archive.getmembers()[-1]).read()) == second
        offsets = {m.name: m.offset for m in archive.getmembers()}
    rows = {r["path"]: r for r in result.artefacts() if r["entry_type"] == "file"}
    assert content_fields(rows["/self"]) == ("read_error", "hard_link_unresolved", 0, None, None)
    assert (rows["/to-a"]["link_target_bytes"], rows["/to-a"]["size"]) == (b"a.txt", 8)
    assert errors(result) == [("walk", "hard_link_unresolved", "error", path, offsets[path[1:]], None) for path in ("/self", "/to-later", "/to-folder")]
    assert result.errors()[0]["message"] == ("hard link /self names self, which is no earlier file member of the archive "
                                             "(a later member, itself, a folder or nothing): its content is unknown")


def test_sibling_folders_give_no_phantom_entries(tmp_path: Path) -> None:
    """dfVFS matched `data/user` as a prefix of `data/user_de/...` and listed /data/user/user_de/...;
    the own walker lists exactly the members (issue 10)."""
    members = [_info(b"data", kind=tarfile.DIRTYPE), _info(b"data/user", kind=tarfile.DIRTYPE), _info(b"data/user/0", b"zero\n"),
               _info(b"data/user_de", kind=tarfile.DIRTYPE), _info(b"data/user_de/0", b"de zero\n")]
    source = write_tar(tmp_path / "siblings.tar", members)
    result = ingest(source, tmp_path)
    assert result.exit_code == 0, result.output
    assert [(r["path"], r["entry_type"]) for r in result.artefacts()] == [
        ("/", "virtual_directory"), ("/data", "directory"), ("/data/user", "directory"), ("/data/user/0", "file"),
        ("/data/user_de", "directory"), ("/data/user_de/0", "file")]


@pytest.mark.parametrize("kind", ["tar", "zip"])
def test_folders_only_implied_by_names_are_virtual(kind: str, tmp_path: Path) -> None:
    if kind == "zip":
        source = write_zip(tmp_path / "implied.zip", [(b"a/b/c.txt", b"c\n"), (b"a/d.txt", b"d\n"), (b"a/", b"")])
    else:
        source = write_tar(tmp_path / "implied.tar", [_info(b"a/b/c.txt", b"c\n"), _info(b"a/d.txt", b"d\n"), _info(b"a", kind=tarfile.DIRTYPE)])
    result = ingest(source, tmp_path)
    assert result.exit_code == 0, result.output
    assert [(r["path"], r["name_bytes"], r["entry_type"], r["sha256"]) for r in result.artefacts()] == [
        ("/", b"", "virtual_directory", None), ("/a", b"a", "virtual_directory", None), ("/a/b", b"b", "virtual_directory", None),
        ("/a/b/c.txt", b"c.txt", "file", sha(b"c\n")), ("/a/d.txt", b"d.txt", "file", sha(b"d\n")), ("/a", b"a", "directory", None)]


def test_tar_with_its_own_root_folder(tmp_path: Path) -> None:
    source = write_tar(tmp_path / "dot.tar", [_info(b"./", kind=tarfile.DIRTYPE), _info(b"./x", b"x\n")])
    result = ingest(source, tmp_path)
    assert [(r["path"], r["entry_type"], r["mode"]) for r in result.artefacts()] == [("/", "directory", 0o640), ("/x", "file", 0o640)]


# --- hostile archives -------------------------------------------------------------------------

def _header_block(name: bytes, size_field: bytes, kind: bytes = b"0") -> bytes:
    """A ustar header with a raw size field, checksum made valid."""
    block = bytearray(512)
    block[0:len(name)] = name
    block[100:108] = b"0000644\0"
    block[108:116] = block[116:124] = b"0000000\0"
    block[124:136] = size_field
    block[136:148] = b"00000000000\0"
    block[156:157] = kind
    block[257:265] = b"ustar\x0000"
    block[148:156] = b" " * 8
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


def test_header_claiming_a_huge_size_is_a_cut_member(tmp_path: Path) -> None:
    before = write_tar(tmp_path / "a.tar", [_info(b"first.txt", b"first\n")]).read_bytes()[:1024]  # header + data, no end blocks
    huge = _header_block(b"huge.bin", b"77777777777\0")  # 8 GiB - 1
    source = tmp_path / "huge.tar"
    source.write_bytes(before + huge + b"tiny" + b"\0" * 508)
    result = ingest(source, tmp_path)
    assert result.exit_code == 1, result.output
    assert files(result) == [(b"/first.txt", sha(b"first\n")), (b"/huge.bin", None)]
    size = 8 * 1024**3 - 1
    assert result.by_path()[b"/huge.bin"]["size"] == size
    assert content_fields(result.by_path()[b"/huge.bin"]) == ("read_error", "short_read", 512, size - 512, None)
    assert errors(result)[0] == ("walk", "archive_truncated", "error", None, 1536 + ((size + 511) // 512) * 512, None)


def test_negative_size_and_garbage_headers_are_skipped_to_the_next_valid_one(tmp_path: Path) -> None:
    negative = _header_block(b"negative", b"\xff" * 12)  # base-256: -1
    garbage = b"\x13" * 512
    good = write_tar(tmp_path / "g.tar", [_info(b"after.txt", b"after\n")]).read_bytes()
    head = write_tar(tmp_path / "h.tar", [_info(b"before.txt", b"before\n")]).read_bytes()[:1024]
    source = tmp_path / "hostile.tar"
    source.write_bytes(head + negative + garbage + good)
    result = ingest(source, tmp_path)
    assert result.exit_code == 1, result.output
    assert files(result) == [(b"/before.txt", sha(b"before\n")), (b"/after.txt", sha(b"after\n"))]
    assert errors(result) == [("walk", "corrupt_header", "error", None, 1024, None)]
    assert result.errors()[0]["message"] == ("TAR header at byte 1024 is invalid (member size -1 does not advance the archive); "
                                             "skipped 1024 bytes to the next valid header at byte 2048 (members in between, if any, are not listed)")


def test_oversized_pax_header_is_refused_not_read_into_memory(tmp_path: Path) -> None:
    pax = _header_block(b"PaxHeaders/x", b"%011o\0" % (64 << 20), kind=b"x")  # claims 64 MiB of pax records
    tail = write_tar(tmp_path / "t.tar", [_info(b"ok.txt", b"ok\n")]).read_bytes()
    source = tmp_path / "pax.tar.gz"
    source.write_bytes(gzip.compress(pax + b"\0" * 512 + tail, mtime=0))
    result = ingest(source, tmp_path)
    assert result.exit_code == 1, result.output
    assert files(result) == [(b"/ok.txt", sha(b"ok\n"))]
    assert errors(result) == [("walk", "corrupt_header", "error", None, 0, None)]
    assert "headers of one member ask for more than 1048576 bytes or 64 reads" in result.errors()[0]["message"]


def test_pax_header_with_undecodable_charset_is_a_corrupt_header(tmp_path: Path) -> None:
    """tarfile raises UnicodeDecodeError (not a TarError) on this record; found by the fuzz test below."""
    record = b" hdrcharset=\xff\xfe\n"
    record = b"%d" % (len(record) + 2) + record
    pax = _header_block(b"PaxHeaders/x", b"%011o\0" % len(record), kind=b"x") + record.ljust(512, b"\0")
    member = write_tar(tmp_path / "m.tar", [_info(b"ok.txt", b"ok\n")]).read_bytes()
    source = tmp_path / "charset.tar"
    source.write_bytes(pax + member)
    result = ingest(source, tmp_path)
    assert result.exit_code == 1, result.output
    assert files(result) == [(b"/ok.txt", sha(b"ok\n"))]
    assert errors(result) == [("walk", "corrupt_header", "error", None, 0, None)]
    assert result.errors()[0]["message"].startswith("TAR header at byte 0 is invalid ('utf-8' codec can't decode byte 0xff")


def test_type_confused_members(tmp_path: Path) -> None:
    directory_with_data, _ = _info(b"dir-with-size", kind=tarfile.DIRTYPE)
    directory_with_data.size = 600  # tar skips no data for a folder: this is ignored, as GNU tar does
    members = [(directory_with_data, None), _info(b"device", kind=tarfile.CHRTYPE), _info(b"fifo", kind=tarfile.FIFOTYPE),
               _info(b"odd-type", b"data of an unknown type\n", kind=b"Z"), _info(b"sym", kind=tarfile.SYMTYPE, link=b"/etc/shadow")]
    source = write_tar(tmp_path / "types.tar", members)
    result = ingest(source, tmp_path)
    assert result.exit_code == 0, result.output
    assert [(r["path"], r["entry_type"], r["sha256"], r["link_target_bytes"]) for r in result.artefacts()] == [
        ("/", "virtual_directory", None, None), ("/dir-with-size", "directory", None, None), ("/device", "char_device", None, None),
        ("/fifo", "fifo", None, None), ("/odd-type", "unknown", sha(b"data of an unknown type\n"), None),
        ("/sym", "symlink", None, b"/etc/shadow")]


def test_corrupt_zip_central_directory_is_an_error_not_a_crash(tmp_path: Path) -> None:
    source = write_zip(tmp_path / "z.zip", THREE)
    raw = bytearray(source.read_bytes())
    first = raw.find(b"PK\x01\x02")
    raw[first:first + 4] = b"PK\x09\x09"  # the first central-directory entry loses its signature
    source.write_bytes(bytes(raw))
    result = ingest(source, tmp_path)
    assert result.exit_code == 1, result.output
    assert result.artefacts() == []
    assert [(e["stage"], e["error_kind"]) for e in result.errors()] == [("walk", "corrupt_volume")]


def _messages(result: Ingested) -> list[tuple]:
    return [(e["stage"], e["error_kind"], e["severity"], e["path"], e["message"]) for e in result.errors()]


def test_zip_entry_needing_an_unknown_version_is_a_corrupt_volume(tmp_path: Path) -> None:
    """zipfile raises NotImplementedError (not BadZipFile) for "version needed" above 6.3; found by a reviewer's fuzzing."""
    from ingest import archive_walk

    source = write_zip(tmp_path / "v.zip", THREE)
    raw = bytearray(source.read_bytes())
    raw[raw.rfind(b"PK\x01\x02") + 6] = 233  # the last entry needs "version 23.3"
    source.write_bytes(bytes(raw))
    result = ingest(source, tmp_path)
    assert result.exit_code == 1, result.output
    assert result.artefacts() == []
    assert _messages(result) == [("walk", "corrupt_volume", "error", None, "ZIP central directory cannot be read: zip file version 23.3")]
    with pytest.raises(OSError) as raised:
        archive_walk.ArchiveSource(str(source)).zip_archive()
    assert (raised.value.kind, str(raised.value)) == ("open_failed", "ZIP central directory cannot be read: zip file version 23.3")


def _zip64_end(entries: int, directory_bytes: int, directory_offset: int, record_offset: int) -> bytes:
    """A ZIP64 end record (at record_offset), its locator and a classic end record that defers to them."""
    record = struct.pack("<4sQHHIIQQQQ", b"PK\x06\x06", 44, 45, 45, 0, 0, entries, entries, directory_bytes, directory_offset)
    locator = struct.pack("<4sIQI", b"PK\x06\x07", 0, record_offset, 1)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    return record + locator + end


@pytest.mark.parametrize("claim, detail", [
    ("zip64_entries", "claims 1000000000 members, more than the 5000000 listed"),
    ("directory_bytes", "claims 4294967280 bytes of central directory, more than 1073741824"),
])
def test_zip_end_record_over_budget_is_refused_before_the_directory_is_read(claim: str, detail: str, tmp_path: Path) -> None:
    """A real three-member ZIP whose end record claims 10^9 members (ZIP64) or a 4 GiB central directory."""
    raw = write_zip(tmp_path / "big.zip", THREE).read_bytes()
    body, directory = raw[:raw.rfind(b"PK\x05\x06")], raw.find(b"PK\x01\x02")
    if claim == "zip64_entries":
        end = _zip64_end(10 ** 9, 46 * 10 ** 9, directory, len(body))
    else:
        end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 3, 3, 0xFFFFFFF0, directory, 0)
    source = tmp_path / "big.zip"
    source.write_bytes(body + end)
    result = ingest(source, tmp_path)
    assert result.exit_code == 1, result.output
    assert result.artefacts() == []
    assert _messages(result) == [("walk", "archive_budget", "error", None, f"ZIP: the end of the central directory {detail}; the archive is "
                                                                           "not opened")]


def test_encrypted_zip_member_costs_only_itself(tmp_path: Path) -> None:
    source = write_zip(tmp_path / "enc.zip", [(b"open.txt", b"open\n"), (b"locked.txt", b"locked\n")], method=zipfile.ZIP_STORED)
    raw = bytearray(source.read_bytes())
    with zipfile.ZipFile(source) as archive:
        locked = archive.getinfo("locked.txt")
    raw[locked.header_offset + 6] |= 0x01  # general-purpose flag bit 0: encrypted (local header)
    central = raw.rfind(b"PK\x01\x02")
    raw[central + 8] |= 0x01  # and in its central-directory entry
    source.write_bytes(bytes(raw))
    result = ingest(source, tmp_path)
    assert result.exit_code == 1, result.output
    assert files(result) == [(b"/open.txt", sha(b"open\n")), (b"/locked.txt", None)]
    assert content_fields(result.by_path()[b"/locked.txt"]) == ("read_error", "encrypted_member", 0, 7, None)
    assert errors(result) == [("read", "encrypted_member", "error", "/locked.txt", 0, 7)]


def test_empty_zip_is_its_root_alone(tmp_path: Path) -> None:
    source = write_zip(tmp_path / "e.zip", [])
    result = ingest(source, tmp_path)
    assert result.exit_code == 0, result.output
    assert [(r["path"], r["entry_type"]) for r in result.artefacts()] == [("/", "virtual_directory")]


# --- determinism --------------------------------------------------------------------------------

def test_tar_gz_gives_the_same_tables_with_two_workers(tmp_path: Path) -> None:
    members = [_info(b"f%02d.bin" % n, text(n, 50_000 + n)) for n in range(40)]
    source = write_tar(tmp_path / "many.tar.gz", members, compress=True)
    one = run_ingest(source, tmp_path / "one", workers=1)
    two = run_ingest(source, tmp_path / "two", workers=2)
    assert one.exit_code == two.exit_code == 0
    assert files(one) == files(two) == tar_oracle(source)
    assert one.artefacts() == [dict(r, exhibit_id=r["exhibit_id"]) for r in two.artefacts()]


# --- fuzzing: no damage may raise out of the walk or a member read -----------------------------

DOCUMENTED_KINDS = {"corrupt_member", "crc_mismatch", "encrypted_member", "unsupported_compression", "corrupt_stream", "truncated_member",
                    "archive_truncated", "corrupt_header", "archive_budget", "hard_link_unresolved", "corrupt_volume", "unreadable_link",
                    "open_failed"}


def _walk_and_read(path: Path, compressed: bool) -> set[str]:
    from ingest import archive_walk
    from ingest.scan import _logical_layout, _os_spec

    layout = _logical_layout(path, _os_spec(path))
    if layout is None:
        return {"unrecognised"}
    kinds: set[str] = set()
    source = archive_walk.ArchiveSource(str(path))
    for item in archive_walk.walk(path, layout.volumes[0], compressed, lambda stage, kind, *a, **k: kinds.add(kind)):
        if item.target is not None:
            try:
                archive_walk.reader_for(source, item.target[1])(0, min(item.target[2], 1 << 16))
            except OSError as error:
                kinds.add(getattr(error, "kind", "oserror"))
    return kinds


@pytest.mark.parametrize("kind", ["tar", "tar.gz", "zip"])
def test_randomly_damaged_archives_give_only_documented_problems(kind: str, tmp_path: Path) -> None:
    chooser = random.Random(kind)
    if kind == "zip":
        good = write_zip(tmp_path / "g.zip", [(b"a/b.txt", text(1, 5000)), (b"c", text(2, 3000)), (b"d/", b"")]).read_bytes()
    else:
        members = [_info(b"a" * 120 + b"/" + b"x" * 150, text(1, 3000)), _info(b"l", kind=tarfile.LNKTYPE, link=b"zz"),
                   _info(b"s", kind=tarfile.SYMTYPE, link=b"t" * 200), _info(b"f\xff", text(2, 1000))]
        good = write_tar(tmp_path / "g.tar", members, fmt=tarfile.PAX_FORMAT).read_bytes()
    seen: set[str] = set()
    for round_ in range(150):
        data = damaged(good, chooser)
        if kind == "zip" and round_ % 5 == 0 and (entry := data.rfind(b"PK\x01\x02")) >= 0 and entry + 7 < len(data):
            data = data[:entry + 6] + bytes([chooser.randrange(64, 256)]) + data[entry + 7:]  # "version needed" past 6.3
        path = tmp_path / f"x.{kind}"
        path.write_bytes(gzip.compress(data, mtime=0) if kind == "tar.gz" else data)
        seen |= _walk_and_read(path, kind == "tar.gz")
    assert seen - {"unrecognised"} <= DOCUMENTED_KINDS
    assert len(seen - {"unrecognised"}) >= 2  # the damage did reach the walker
