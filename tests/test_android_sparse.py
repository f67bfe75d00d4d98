"""Tests for ingest.android_sparse: expansion, malformed input, dfvfs layer."""

from __future__ import annotations

import hashlib
import importlib
import io
import os
import shutil
import struct
import subprocess
import zlib
from collections.abc import Sequence
from pathlib import Path

import pytest
from dfvfs.helpers import source_scanner
from dfvfs.lib import definitions
from dfvfs.lib import errors as dfvfs_errors
from dfvfs.path import factory
from dfvfs.path import path_spec as dfvfs_path_spec
from dfvfs.resolver import context, resolver
from dfvfs.serializer import json_serializer

from ingest import android_sparse
from ingest.android_sparse import (
    CHUNK_CRC32,
    CHUNK_DONT_CARE,
    CHUNK_FILL,
    CHUNK_RAW,
    SparseImage,
    SparseImageError,
    is_android_sparse,
)
from tests.corpus import check_untouched, require_corpus

IN_CI = os.environ.get("CI", "").lower() == "true"

# Independently checked with simg2img (android-sdk-libsparse-utils 29.0.6)
# and by hand from the chunk list: extended-headers.img has 32/16-byte
# headers, blk_sz 1024: RAW 1 block (bytes 00..ff x4), FILL 2 blocks
# "ABC\0", DONT_CARE 3 blocks, CRC32 0x93af6c01 over all 6144 bytes.
CORPUS_EXPECTED = {
    "extended-headers.img": (
        6144,
        "8bd4f67357e44f0e6853548d0af40f2168b28e25e55b135d18226a794a1294ef",
    ),
    "fill-4k-zeros.img": (
        4096,
        "ad7facb2586fc6e966c004d7d1d16b024f5805ff7cb47c7a85dabd8b48892ca7",
    ),
}


# --- a small simg writer, written for these tests ---------------------------

Chunk = tuple  # ("raw", data) | ("fill", word, blocks) | ("skip", blocks) | ("crc", value|None)


def write_simg(
    chunks: Sequence[Chunk],
    block_size: int = 4096,
    file_header_size: int = 28,
    chunk_header_size: int = 12,
    total_blocks: int | None = None,
) -> bytes:
    """Serialise chunks into a sparse image; extra header bytes are filled with 0xEE.

    A ("crc", None) chunk gets the CRC-32 of everything expanded before it.
    """
    body = bytearray()
    expanded_crc = 0
    blocks = 0
    pad_chunk = b"\xee" * (chunk_header_size - 12)
    for chunk in chunks:
        kind = chunk[0]
        if kind == "raw":
            data = chunk[1]
            assert len(data) % block_size == 0
            count = len(data) // block_size
            body += struct.pack("<HHII", CHUNK_RAW, 0, count, chunk_header_size + len(data))
            body += pad_chunk + data
            expanded_crc = zlib.crc32(data, expanded_crc)
        elif kind == "fill":
            word, count = chunk[1], chunk[2]
            body += struct.pack("<HHII", CHUNK_FILL, 0, count, chunk_header_size + 4)
            body += pad_chunk + word
            expanded_crc = zlib.crc32(word * (count * block_size // 4), expanded_crc)
        elif kind == "skip":
            count = chunk[1]
            body += struct.pack("<HHII", CHUNK_DONT_CARE, 0, count, chunk_header_size)
            body += pad_chunk
            expanded_crc = zlib.crc32(bytes(count * block_size), expanded_crc)
        elif kind == "crc":
            count = 0
            value = expanded_crc if chunk[1] is None else chunk[1]
            body += struct.pack("<HHII", CHUNK_CRC32, 0, 0, chunk_header_size + 4)
            body += pad_chunk + struct.pack("<I", value)
        else:
            raise AssertionError(kind)
        blocks += count
    header = struct.pack(
        "<IHHHHIIII",
        0xED26FF3A,
        1,
        0,
        file_header_size,
        chunk_header_size,
        block_size,
        blocks if total_blocks is None else total_blocks,
        len(chunks),
        0,
    )
    return header + b"\xee" * (file_header_size - 28) + bytes(body)


def simg_from_raw(raw: bytes, block_size: int = 4096) -> bytes:
    """Sparse-encode a raw image: zero runs become DONT_CARE, uniform words FILL."""
    assert len(raw) % block_size == 0
    chunks: list[Chunk] = []
    for start in range(0, len(raw), block_size):
        block = raw[start:start + block_size]
        if block == bytes(block_size):
            kind: Chunk = ("skip", 1)
        elif block == block[:4] * (block_size // 4):
            kind = ("fill", block[:4], 1)
        else:
            kind = ("raw", block)
        last = chunks[-1] if chunks else None
        if last and last[0] == kind[0] == "skip":
            chunks[-1] = ("skip", last[1] + 1)
        elif last and last[0] == kind[0] == "fill" and last[1] == kind[1]:
            chunks[-1] = ("fill", last[1], last[2] + 1)
        elif last and last[0] == kind[0] == "raw":
            chunks[-1] = ("raw", last[1] + kind[1])
        else:
            chunks.append(kind)
    chunks.append(("crc", None))
    return write_simg(chunks, block_size)


def mixed_chunks(block_size: int) -> tuple[list[Chunk], bytes]:
    """Chunks of every type plus the exact bytes they must expand to."""
    raw1 = bytes(range(256)) * (block_size // 256) * 2
    raw2 = hashlib.sha256(b"exhibit").digest() * (block_size // 32)
    chunks: list[Chunk] = [
        ("raw", raw1),
        ("fill", b"\x01\x02\x03\x04", 3),
        ("crc", None),
        ("skip", 2),
        ("raw", raw2),
        ("fill", b"\x00\x00\x00\x00", 1),
        ("crc", None),
    ]
    expected = (
        raw1
        + b"\x01\x02\x03\x04" * (3 * block_size // 4)
        + bytes(2 * block_size)
        + raw2
        + bytes(block_size)
    )
    return chunks, expected


def open_image(data: bytes) -> SparseImage:
    """SparseImage over in-memory bytes."""
    return SparseImage(io.BytesIO(data))


def require_tool(name: str) -> str:
    """Path of an external tool; skip when missing, but fail in CI."""
    path = shutil.which(name)
    if path is None:
        message = f"{name} not installed (apt-get install android-sdk-libsparse-utils e2fsprogs)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


SPARSE_CORPUS = "kaitai-io__kaitai_struct_samples/archive/android_sparse"


def corpus_dir() -> Path:
    """The android_sparse corpus folder; skips without the corpus, fails under CI=true."""
    return require_corpus() / SPARSE_CORPUS


def sha256(data: bytes) -> str:
    """Hex SHA-256."""
    return hashlib.sha256(data).hexdigest()


# --- pure expansion -----------------------------------------------------------


def test_is_android_sparse() -> None:
    assert is_android_sparse(b"\x3a\xff\x26\xed" + b"\0" * 24)
    assert not is_android_sparse(b"\xed\x26\xff\x3a")
    assert not is_android_sparse(b"\x3a\xff\x26")
    assert not is_android_sparse(b"")


@pytest.mark.parametrize("block_size", [1024, 4096])
def test_expands_every_chunk_type(block_size: int) -> None:
    chunks, expected = mixed_chunks(block_size)
    image = open_image(write_simg(chunks, block_size))
    assert image.size == len(expected) == 9 * block_size
    out = image.read_at(0, image.size)
    assert out == expected
    assert sha256(out) == sha256(expected)
    kinds = [c.kind for c in image.chunks]
    assert kinds == [CHUNK_RAW, CHUNK_FILL, CHUNK_CRC32, CHUNK_DONT_CARE, CHUNK_RAW,
                     CHUNK_FILL, CHUNK_CRC32]
    checks = image.verify_crc32()
    assert [c.output_offset for c in checks] == [5 * block_size, 9 * block_size]
    assert all(c.ok for c in checks)
    assert image.trailing_bytes == 0


def test_random_reads_match_slices() -> None:
    chunks, expected = mixed_chunks(1024)
    image = open_image(write_simg(chunks, 1024))
    # Offsets straddle chunk edges and start FILL reads off the 4-byte phase.
    for offset in [0, 1, 1023, 2047, 2048, 2049, 3071, 4094, 5119, 5121, 7000, 9215]:
        for size in [0, 1, 3, 5, 1024, 3000, 20000]:
            assert image.read_at(offset, size) == expected[offset:offset + size], (offset, size)
    assert image.read_at(image.size, 10) == b""
    assert image.read_at(image.size + 5, 10) == b""
    with pytest.raises(ValueError):
        image.read_at(-1, 4)


def test_extended_header_sizes() -> None:
    chunks, expected = mixed_chunks(4096)
    data = write_simg(chunks, 4096, file_header_size=40, chunk_header_size=20)
    image = open_image(data)
    assert image.header.file_header_size == 40
    assert image.header.chunk_header_size == 20
    assert image.read_at(0, image.size) == expected
    assert all(c.ok for c in image.verify_crc32())


def test_crc_mismatch_is_reported() -> None:
    data = write_simg([("raw", b"\x55" * 4096), ("crc", 0xDEADBEEF)])
    checks = open_image(data).verify_crc32()
    assert len(checks) == 1
    assert not checks[0].ok
    assert checks[0].expected == 0xDEADBEEF
    assert checks[0].actual == zlib.crc32(b"\x55" * 4096)


def test_trailing_bytes_counted() -> None:
    data = write_simg([("fill", b"abcd", 1)]) + b"junk"
    assert open_image(data).trailing_bytes == 4


# --- malformed input ------------------------------------------------------------


def test_truncated_raw_chunk() -> None:
    data = write_simg([("raw", b"\x11" * 8192)])
    with pytest.raises(SparseImageError, match="truncated RAW chunk 0"):
        open_image(data[:-100])


def test_bad_magic() -> None:
    data = bytearray(write_simg([("skip", 1)]))
    data[0] ^= 0xFF
    with pytest.raises(SparseImageError, match="magic"):
        open_image(bytes(data))


def test_truncated_file_header() -> None:
    with pytest.raises(SparseImageError, match="truncated file header"):
        open_image(write_simg([("skip", 1)])[:20])


def test_truncated_chunk_header() -> None:
    data = write_simg([("skip", 1), ("skip", 1)])
    with pytest.raises(SparseImageError, match="chunk 1 header"):
        open_image(data[:-4])


def test_small_header_sizes_rejected() -> None:
    data = bytearray(write_simg([("skip", 1)]))
    struct.pack_into("<H", data, 8, 20)
    with pytest.raises(SparseImageError, match="file header size 20"):
        open_image(bytes(data))
    data = bytearray(write_simg([("skip", 1)]))
    struct.pack_into("<H", data, 10, 8)
    with pytest.raises(SparseImageError, match="chunk header size 8"):
        open_image(bytes(data))


def test_bad_block_size() -> None:
    with pytest.raises(SparseImageError, match="block size 1022"):
        open_image(write_simg([("skip", 1)], block_size=1022))


def test_unknown_chunk_type() -> None:
    data = bytearray(write_simg([("skip", 1)]))
    struct.pack_into("<H", data, 28, 0xCAC9)
    with pytest.raises(SparseImageError, match="unknown type 0xcac9"):
        open_image(bytes(data))


def test_inconsistent_total_size() -> None:
    data = bytearray(write_simg([("fill", b"abcd", 2)]))
    struct.pack_into("<I", data, 28 + 8, 20)
    with pytest.raises(SparseImageError, match=r"chunk 0 \(fill\).*total size 20, expected 16"):
        open_image(bytes(data))


def test_block_count_mismatch() -> None:
    with pytest.raises(SparseImageError, match="cover 2 blocks, header declares 3"):
        open_image(write_simg([("skip", 2)], total_blocks=3))


def test_wrong_major_version() -> None:
    data = bytearray(write_simg([("skip", 1)]))
    struct.pack_into("<H", data, 4, 2)
    with pytest.raises(SparseImageError, match="major version 2"):
        open_image(bytes(data))


def test_source_shrinking_after_open_is_an_error() -> None:
    data = write_simg([("raw", b"\x22" * 4096)])
    source = io.BytesIO(data)
    image = SparseImage(source)
    source.truncate(100)
    with pytest.raises(SparseImageError, match="truncated RAW chunk 0 data"):
        image.read_at(0, 4096)


# --- simg2img as an independent oracle -----------------------------------------


def test_synthetic_images_match_simg2img(tmp_path: Path) -> None:
    tool = require_tool("simg2img")
    cases = {
        "mixed-4k": (write_simg(mixed_chunks(4096)[0], 4096), mixed_chunks(4096)[1]),
        "mixed-1k": (write_simg(mixed_chunks(1024)[0], 1024), mixed_chunks(1024)[1]),
        "extended": (
            write_simg(mixed_chunks(4096)[0], 4096, file_header_size=32, chunk_header_size=16),
            mixed_chunks(4096)[1],
        ),
    }
    for name, (data, expected) in cases.items():
        sparse = tmp_path / f"{name}.simg"
        sparse.write_bytes(data)
        raw = tmp_path / f"{name}.raw"
        subprocess.run([tool, str(sparse), str(raw)], check=True, capture_output=True)
        oracle = raw.read_bytes()
        assert oracle == expected, name
        assert sha256(open_image(data).read_at(0, 1 << 30)) == sha256(oracle), name


# --- real corpus samples -------------------------------------------------------


@pytest.mark.parametrize("name", sorted(CORPUS_EXPECTED))
def test_corpus_samples(name: str) -> None:
    path = corpus_dir() / name
    size, digest = CORPUS_EXPECTED[name]
    with path.open("rb") as handle:
        image = SparseImage(handle)
        assert image.size == size
        assert sha256(image.read_at(0, image.size)) == digest
        assert all(check.ok for check in image.verify_crc32())
    assert check_untouched(f"{SPARSE_CORPUS}/{name}")


def test_corpus_extended_headers_content() -> None:
    with (corpus_dir() / "extended-headers.img").open("rb") as handle:
        image = SparseImage(handle)
        assert (image.header.file_header_size, image.header.chunk_header_size) == (32, 16)
        expected = bytes(range(256)) * 4 + b"ABC\x00" * 512 + bytes(3072)
        assert image.read_at(0, image.size) == expected
        assert [c.crc32 for c in image.chunks if c.kind == CHUNK_CRC32] == [0x93AF6C01]


def test_corpus_via_dfvfs() -> None:
    path = corpus_dir() / "extended-headers.img"
    spec = sparse_spec(path)
    stream = resolver.Resolver.OpenFileObject(spec, resolver_context=context.Context())
    assert stream.get_size() == 6144
    assert sha256(stream.read()) == CORPUS_EXPECTED["extended-headers.img"][1]


# --- dfvfs integration -----------------------------------------------------------


def sparse_spec(path: Path) -> dfvfs_path_spec.PathSpec:
    """ANDROID_SPARSE(parent=OS(location=path))."""
    os_spec = factory.Factory.NewPathSpec(definitions.TYPE_INDICATOR_OS, location=str(path))
    return factory.Factory.NewPathSpec(
        android_sparse.TYPE_INDICATOR_ANDROID_SPARSE, parent=os_spec
    )


def test_register_is_idempotent() -> None:
    android_sparse.register()
    android_sparse.register()
    importlib.import_module("ingest.android_sparse")
    reloaded = importlib.reload(android_sparse)
    spec = factory.Factory.NewPathSpec(
        "ANDROID_SPARSE",
        parent=factory.Factory.NewPathSpec(definitions.TYPE_INDICATOR_OS, location="/x"),
    )
    assert isinstance(spec, reloaded.AndroidSparsePathSpec)


def test_path_spec_needs_parent() -> None:
    with pytest.raises(ValueError, match="parent"):
        factory.Factory.NewPathSpec("ANDROID_SPARSE")


def test_json_round_trip(tmp_path: Path) -> None:
    spec = sparse_spec(tmp_path / "image.simg")
    text = json_serializer.JsonPathSpecSerializer.WriteSerialized(spec)
    back = json_serializer.JsonPathSpecSerializer.ReadSerialized(text)
    assert back == spec
    assert back.type_indicator == "ANDROID_SPARSE"
    assert back.parent.location == str(tmp_path / "image.simg")
    ext = factory.Factory.NewPathSpec(definitions.TYPE_INDICATOR_EXT, location="/a", parent=spec)
    text = json_serializer.JsonPathSpecSerializer.WriteSerialized(ext)
    assert json_serializer.JsonPathSpecSerializer.ReadSerialized(text) == ext


def test_dfvfs_file_object_reads(tmp_path: Path) -> None:
    chunks, expected = mixed_chunks(4096)
    path = tmp_path / "mixed.simg"
    path.write_bytes(write_simg(chunks, 4096))
    stream = resolver.Resolver.OpenFileObject(sparse_spec(path), resolver_context=context.Context())
    assert stream.get_size() == len(expected)
    assert stream.read() == expected
    stream.seek(4095)
    assert stream.read(6) == expected[4095:4101]
    assert stream.tell() == 4101
    stream.seek(-10, os.SEEK_END)
    assert stream.read() == expected[-10:]
    stream.seek(len(expected) + 100)
    assert stream.read(5) == b""
    entry = resolver.Resolver.OpenFileEntry(sparse_spec(path), resolver_context=context.Context())
    assert entry.IsFile() and entry.size == len(expected)


def test_dfvfs_reports_malformed_image(tmp_path: Path) -> None:
    path = tmp_path / "bad.simg"
    path.write_bytes(write_simg([("raw", b"\x11" * 4096)])[:-1])
    with pytest.raises(dfvfs_errors.BackEndError, match="truncated RAW chunk"):
        resolver.Resolver.OpenFileObject(sparse_spec(path), resolver_context=context.Context())


EXT4_FILES = {
    "hello.txt": b"hello sparse\n",
    "docs/notes.txt": b"exhibit \xe2\x9c\x93 notes\n" * 50,
    "docs/pattern.bin": b"\xab\xcd\xef\x01" * 4096,
    "random.bin": hashlib.sha256(b"seed").digest() * 6000,
}


def build_ext4(tmp_path: Path) -> Path:
    """A 4 MiB ext4 image populated with mkfs.ext4 -d."""
    mkfs = require_tool("mkfs.ext4")
    source = tmp_path / "tree"
    for name, content in EXT4_FILES.items():
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    image = tmp_path / "ext4.raw"
    with image.open("wb") as handle:
        handle.truncate(4 * 1024 * 1024)
    subprocess.run(
        [mkfs, "-q", "-F", "-b", "4096", "-O", "^has_journal", "-d", str(source), str(image)],
        check=True,
        capture_output=True,
    )
    return image


def test_source_scanner_finds_ext_through_sparse_layer(tmp_path: Path) -> None:
    raw_path = build_ext4(tmp_path)
    raw = raw_path.read_bytes()
    simg = simg_from_raw(raw)
    assert len(simg) < len(raw)
    sparse_path = tmp_path / "ext4.simg"
    sparse_path.write_bytes(simg)

    image = open_image(simg)
    assert sha256(image.read_at(0, image.size)) == sha256(raw)
    kinds = {c.kind for c in image.chunks}
    assert kinds == {CHUNK_RAW, CHUNK_FILL, CHUNK_DONT_CARE, CHUNK_CRC32}

    if shutil.which("simg2img"):
        oracle = tmp_path / "oracle.raw"
        subprocess.run(["simg2img", str(sparse_path), str(oracle)], check=True)
        assert sha256(oracle.read_bytes()) == sha256(raw)

    resolver_context = context.Context()
    spec = sparse_spec(sparse_path)
    scanner = source_scanner.SourceScanner(resolver_context=resolver_context)
    scan_context = source_scanner.SourceScannerContext()
    scan_context.AddScanNode(spec, None)
    scanner.Scan(scan_context)

    root = scan_context.GetRootScanNode()
    assert root.path_spec == spec
    found = [node for node in root.sub_nodes if node.path_spec.IsFileSystem()]
    assert [node.type_indicator for node in found] == [definitions.TYPE_INDICATOR_EXT]
    fs_spec = found[0].path_spec
    assert fs_spec.parent == spec

    for name, content in EXT4_FILES.items():
        file_spec = factory.Factory.NewPathSpec(
            definitions.TYPE_INDICATOR_EXT, location=f"/{name}", parent=spec
        )
        entry = resolver.Resolver.OpenFileEntry(file_spec, resolver_context=resolver_context)
        assert entry is not None, name
        assert entry.size == len(content)
        stream = entry.GetFileObject()
        assert stream.read() == content, name
