"""Android sparse images (simg), expanded on the fly, with a dfvfs layer.

A sparse image stores a raw partition as a list of chunks: RAW (data
follows), FILL (one 4-byte word repeated), DONT_CARE (a hole, read as
zeros) and CRC32 (a checksum of everything expanded so far). Expanding to a
temp file would double disk use and write outside the case folder, so this
module builds an index of the chunks once and serves random reads from the
source file directly.

Importing the module registers the "ANDROID_SPARSE" type with dfvfs (path
spec factory and resolver helper), so a path spec chain such as
ANDROID_SPARSE(parent=OS(location=...)) can be opened, scanned and
serialized like any built-in dfvfs layer.
"""

from __future__ import annotations

import bisect
import os
import struct
import zlib
from dataclasses import dataclass
from typing import BinaryIO, Protocol

from dfvfs.file_io import file_io
from dfvfs.lib import definitions as dfvfs_definitions
from dfvfs.lib import errors as dfvfs_errors
from dfvfs.path import factory as path_spec_factory
from dfvfs.path import path_spec as dfvfs_path_spec
from dfvfs.resolver import context as dfvfs_context
from dfvfs.resolver import resolver as dfvfs_resolver
from dfvfs.resolver_helpers import manager as resolver_helper_manager
from dfvfs.resolver_helpers import resolver_helper
from dfvfs.vfs import root_only_file_entry, root_only_file_system

__all__ = [
    "CHUNK_CRC32",
    "CHUNK_DONT_CARE",
    "CHUNK_FILL",
    "CHUNK_RAW",
    "SPARSE_MAGIC",
    "TYPE_INDICATOR_ANDROID_SPARSE",
    "AndroidSparseFileEntry",
    "AndroidSparseFileIO",
    "AndroidSparseFileSystem",
    "AndroidSparsePathSpec",
    "AndroidSparseResolverHelper",
    "Crc32Check",
    "SparseChunk",
    "SparseHeader",
    "SparseImage",
    "SparseImageError",
    "SparseRegistrationError",
    "is_android_sparse",
    "register",
]

SPARSE_MAGIC = 0xED26FF3A
CHUNK_RAW = 0xCAC1
CHUNK_FILL = 0xCAC2
CHUNK_DONT_CARE = 0xCAC3
CHUNK_CRC32 = 0xCAC4

TYPE_INDICATOR_ANDROID_SPARSE = "ANDROID_SPARSE"

# magic, major, minor, file_hdr_sz, chunk_hdr_sz, blk_sz, total_blks,
# total_chunks, image_checksum: the 28-byte version 1.0 file header.
_FILE_HEADER = struct.Struct("<IHHHHIIII")
# chunk_type, reserved, chunk_sz (in blocks), total_sz (header + payload).
_CHUNK_HEADER = struct.Struct("<HHII")
_WORD = struct.Struct("<I")

_KIND_NAMES = {
    CHUNK_RAW: "raw",
    CHUNK_FILL: "fill",
    CHUNK_DONT_CARE: "dont_care",
    CHUNK_CRC32: "crc32",
}

# Reads are capped per request when streaming a whole image for CRC checks.
_STREAM_PIECE = 4 * 1024 * 1024


class SparseImageError(ValueError):
    """A sparse image header or chunk is malformed, truncated or unreadable."""


class SparseRegistrationError(RuntimeError):
    """Another module already registered the ANDROID_SPARSE type with dfvfs."""


class _Source(Protocol):
    """The file object shape SparseImage needs: seek, tell and read."""

    def seek(self, offset: int, whence: int = ...) -> object: ...

    def tell(self) -> int: ...

    def read(self, size: int = ...) -> bytes: ...


@dataclass(frozen=True)
class SparseHeader:
    """The decoded file header, kept so a manifest can record it as found."""

    major_version: int
    minor_version: int
    file_header_size: int
    chunk_header_size: int
    block_size: int
    total_blocks: int
    total_chunks: int
    image_checksum: int


@dataclass(frozen=True)
class SparseChunk:
    """One index entry: where the chunk lands in the output and where it comes from.

    `input_offset` is the payload offset in the sparse file (RAW, and the
    stored value of FILL/CRC32); `fill` is the 4-byte FILL word; `crc32`
    the stored checksum of a CRC32 chunk (which covers no output bytes).
    """

    index: int
    kind: int
    output_offset: int
    output_size: int
    input_offset: int
    fill: bytes = b""
    crc32: int | None = None

    @property
    def kind_name(self) -> str:
        """Human-readable chunk type for reports."""
        return _KIND_NAMES.get(self.kind, f"0x{self.kind:04x}")


@dataclass(frozen=True)
class Crc32Check:
    """Outcome of one stored CRC32 chunk checked against the expanded data."""

    chunk_index: int
    output_offset: int
    expected: int
    actual: int

    @property
    def ok(self) -> bool:
        """True when the stored checksum matches the data before it."""
        return self.expected == self.actual


def is_android_sparse(header: bytes) -> bool:
    """Tell from the first bytes of a file whether it is a sparse image.

    Only the 4-byte magic is checked, so a caller can sniff cheaply; the
    full validation happens in SparseImage.
    """
    if len(header) < _WORD.size:
        return False
    return _WORD.unpack_from(header, 0)[0] == SPARSE_MAGIC


def _read_exact(source: _Source, offset: int, size: int, what: str) -> bytes:
    """Read exactly `size` bytes or fail loudly: short reads mean truncation."""
    source.seek(offset, os.SEEK_SET)
    data = source.read(size)
    if len(data) != size:
        raise SparseImageError(
            f"truncated {what} at input offset {offset}: wanted {size} bytes, got {len(data)}"
        )
    return data


def _source_size(source: _Source) -> int:
    """Size of the sparse file, needed to detect truncated RAW chunks up front."""
    source.seek(0, os.SEEK_END)
    size = source.tell()
    source.seek(0, os.SEEK_SET)
    return size


def _parse_header(source: _Source) -> SparseHeader:
    """Decode and sanity-check the file header; extended sizes are allowed."""
    raw = _read_exact(source, 0, _FILE_HEADER.size, "file header")
    (magic, major, minor, file_hdr_sz, chunk_hdr_sz, blk_sz, total_blks, total_chunks,
     checksum) = _FILE_HEADER.unpack(raw)
    if magic != SPARSE_MAGIC:
        raise SparseImageError(f"not an Android sparse image: magic 0x{magic:08x}")
    if major != 1:
        raise SparseImageError(f"unsupported sparse format major version {major}")
    if file_hdr_sz < _FILE_HEADER.size:
        raise SparseImageError(f"file header size {file_hdr_sz} is below the minimum 28")
    if chunk_hdr_sz < _CHUNK_HEADER.size:
        raise SparseImageError(f"chunk header size {chunk_hdr_sz} is below the minimum 12")
    if blk_sz == 0 or blk_sz % 4:
        raise SparseImageError(f"block size {blk_sz} is not a non-zero multiple of 4")
    return SparseHeader(major, minor, file_hdr_sz, chunk_hdr_sz, blk_sz, total_blks,
                        total_chunks, checksum)


def _check_total(index: int, chunk_type: int, total_sz: int, expected: int, at: int) -> None:
    """A chunk's declared total size must match what its type implies."""
    if total_sz != expected:
        name = _KIND_NAMES.get(chunk_type, hex(chunk_type))
        raise SparseImageError(
            f"chunk {index} ({name}) at input offset {at}: total size {total_sz}, "
            f"expected {expected}"
        )


def _build_index(
    source: _Source, header: SparseHeader, file_size: int
) -> tuple[list[SparseChunk], int]:
    """Walk every chunk header once; return the chunks and the input end offset."""
    chunks: list[SparseChunk] = []
    position = header.file_header_size
    out = 0
    hdr_sz = header.chunk_header_size
    blk = header.block_size
    for index in range(header.total_chunks):
        raw = _read_exact(source, position, _CHUNK_HEADER.size, f"chunk {index} header")
        if position + hdr_sz > file_size:
            raise SparseImageError(f"truncated chunk {index} header at input offset {position}")
        chunk_type, _reserved, chunk_sz, total_sz = _CHUNK_HEADER.unpack(raw)
        payload = position + hdr_sz
        if chunk_type == CHUNK_RAW:
            _check_total(index, chunk_type, total_sz, hdr_sz + chunk_sz * blk, position)
            if payload + chunk_sz * blk > file_size:
                raise SparseImageError(
                    f"truncated RAW chunk {index}: needs {chunk_sz * blk} bytes at input "
                    f"offset {payload}, file has {max(file_size - payload, 0)}"
                )
            chunks.append(SparseChunk(index, chunk_type, out, chunk_sz * blk, payload))
        elif chunk_type == CHUNK_FILL:
            _check_total(index, chunk_type, total_sz, hdr_sz + 4, position)
            word = _read_exact(source, payload, 4, f"FILL chunk {index} word")
            chunks.append(SparseChunk(index, chunk_type, out, chunk_sz * blk, payload, word))
        elif chunk_type == CHUNK_DONT_CARE:
            _check_total(index, chunk_type, total_sz, hdr_sz, position)
            chunks.append(SparseChunk(index, chunk_type, out, chunk_sz * blk, payload))
        elif chunk_type == CHUNK_CRC32:
            _check_total(index, chunk_type, total_sz, hdr_sz + 4, position)
            if chunk_sz:
                raise SparseImageError(
                    f"CRC32 chunk {index} at input offset {position} claims {chunk_sz} blocks"
                )
            value = _WORD.unpack(_read_exact(source, payload, 4, f"CRC32 chunk {index}"))[0]
            chunks.append(SparseChunk(index, chunk_type, out, 0, payload, crc32=value))
        else:
            raise SparseImageError(
                f"chunk {index} at input offset {position}: unknown type 0x{chunk_type:04x}"
            )
        out += chunk_sz * blk  # CRC32 chunks were checked to cover 0 blocks
        position += total_sz
    if out != header.total_blocks * blk:
        raise SparseImageError(
            f"chunks cover {out // blk} blocks, header declares {header.total_blocks}"
        )
    return chunks, position


class SparseImage:
    """Random-access view of the expanded image, backed by the sparse file.

    The source file object is only read (seek + read), never written, and
    is not closed here: whoever opened it owns it. Not thread-safe, because
    reads move the source's file position.
    """

    def __init__(self, source: BinaryIO | _Source) -> None:
        """Index the chunks now so malformed images fail at open, not mid-hash."""
        self._source = source
        file_size = _source_size(source)
        self._header = _parse_header(source)
        chunks, end = _build_index(source, self._header, file_size)
        self._chunks = tuple(chunks)
        # Only chunks that cover output bytes take part in offset lookups.
        self._data_chunks = tuple(c for c in chunks if c.output_size)
        self._starts = [c.output_offset for c in self._data_chunks]
        self._size = self._header.total_blocks * self._header.block_size
        self._trailing_bytes = file_size - end

    @property
    def size(self) -> int:
        """Expanded size in bytes (total_blks * blk_sz)."""
        return self._size

    @property
    def header(self) -> SparseHeader:
        """The file header as decoded."""
        return self._header

    @property
    def chunks(self) -> tuple[SparseChunk, ...]:
        """Every chunk in file order, including CRC32 chunks."""
        return self._chunks

    @property
    def trailing_bytes(self) -> int:
        """Bytes after the last chunk; non-zero is worth a note in a report."""
        return self._trailing_bytes

    def read_at(self, offset: int, size: int) -> bytes:
        """Return up to `size` expanded bytes at `offset`; short only at the end."""
        if offset < 0 or size < 0:
            raise ValueError(f"negative offset {offset} or size {size}")
        end = min(offset + size, self._size)
        if offset >= end:
            return b""
        pieces: list[bytes] = []
        position = offset
        slot = bisect.bisect_right(self._starts, position) - 1
        while position < end:
            chunk = self._data_chunks[slot]
            within = position - chunk.output_offset
            take = min(chunk.output_size - within, end - position)
            pieces.append(self._chunk_bytes(chunk, within, take))
            position += take
            slot += 1
        return b"".join(pieces)

    def _chunk_bytes(self, chunk: SparseChunk, within: int, take: int) -> bytes:
        """Bytes `within`..`within+take` of one chunk's expansion."""
        if chunk.kind == CHUNK_RAW:
            return _read_exact(
                self._source, chunk.input_offset + within, take, f"RAW chunk {chunk.index} data"
            )
        if chunk.kind == CHUNK_FILL:
            phase = within % 4
            repeats = (phase + take + 3) // 4
            return (chunk.fill * repeats)[phase:phase + take]
        return bytes(take)

    def verify_crc32(self) -> list[Crc32Check]:
        """Check every stored CRC32 chunk against the data expanded before it.

        The checksum is zlib's CRC-32 over all output bytes (holes count as
        zeros) from offset 0 to the chunk. Results are returned, not raised,
        so a mismatch is reported alongside the evidence rather than hiding it.
        """
        results: list[Crc32Check] = []
        running = 0
        done = 0
        for chunk in self._chunks:
            if chunk.kind != CHUNK_CRC32:
                continue
            while done < chunk.output_offset:
                piece = self.read_at(done, min(_STREAM_PIECE, chunk.output_offset - done))
                running = zlib.crc32(piece, running)
                done += len(piece)
            results.append(Crc32Check(chunk.index, chunk.output_offset, chunk.crc32 or 0, running))
        return results


# --- dfvfs integration -------------------------------------------------------


class AndroidSparsePathSpec(dfvfs_path_spec.PathSpec):
    """Path spec of the expanded stream; like gzip it has no own attributes.

    Having no attributes outside dfvfs's PROPERTY_NAMES means the JSON
    serializer round-trips it once the type is in the factory.
    """

    TYPE_INDICATOR = TYPE_INDICATOR_ANDROID_SPARSE

    def __init__(self, parent: dfvfs_path_spec.PathSpec | None = None, **kwargs: object) -> None:
        """A sparse layer is meaningless without the file it expands."""
        if not parent:
            raise ValueError("Missing parent value.")
        super().__init__(parent=parent, **kwargs)


class AndroidSparseFileIO(file_io.FileIO):
    """dfvfs file object over SparseImage, so upper layers see plain bytes."""

    def __init__(
        self, resolver_context: dfvfs_context.Context, path_spec: dfvfs_path_spec.PathSpec
    ) -> None:
        """Nothing is opened until dfvfs calls Open()."""
        super().__init__(resolver_context, path_spec)
        self._image: SparseImage | None = None
        self._offset = 0

    def _Open(self) -> None:
        """Open the parent through the resolver and index it.

        SparseImageError is a ValueError, which dfvfs's resolver turns into
        a BackEndError carrying our message.
        """
        if not self._path_spec.HasParent():
            raise dfvfs_errors.PathSpecError("Unsupported path specification without parent.")
        parent = dfvfs_resolver.Resolver.OpenFileObject(
            self._path_spec.parent, resolver_context=self._resolver_context
        )
        self._image = SparseImage(parent)
        self._offset = 0

    def _Close(self) -> None:
        """Drop the index; the parent file object belongs to the resolver cache."""
        self._image = None

    def _opened(self) -> SparseImage:
        """The open image, or the OSError dfvfs callers expect."""
        if self._image is None or not self._is_open:
            raise OSError("Not opened.")
        return self._image

    # File-like interface names follow dfvfs, not this project's style.

    def read(self, size: int | None = None) -> bytes:
        """Read from the current offset; None reads to the end."""
        image = self._opened()
        if size is None:
            size = max(image.size - self._offset, 0)
        if size < 0:
            raise OSError(f"Invalid read size {size}.")
        try:
            data = image.read_at(self._offset, size)
        except SparseImageError as error:
            raise OSError(str(error)) from error
        self._offset += len(data)
        return data

    def seek(self, offset: int, whence: int = os.SEEK_SET) -> None:
        """Move the expanded-stream offset; past the end is allowed, as for files."""
        image = self._opened()
        if whence == os.SEEK_CUR:
            offset += self._offset
        elif whence == os.SEEK_END:
            offset += image.size
        elif whence != os.SEEK_SET:
            raise OSError("Unsupported whence.")
        if offset < 0:
            raise OSError("Invalid offset value less than zero.")
        self._offset = offset

    def get_offset(self) -> int:
        """Current offset in the expanded stream."""
        self._opened()
        return self._offset

    def get_size(self) -> int:
        """Expanded size."""
        return self._opened().size

    @property
    def sparse_image(self) -> SparseImage:
        """The underlying index, for callers that want chunks or CRC checks."""
        return self._opened()


class AndroidSparseFileEntry(root_only_file_entry.RootOnlyFileEntry):
    """The single file a sparse layer exposes: the expanded image."""

    TYPE_INDICATOR = TYPE_INDICATOR_ANDROID_SPARSE

    def __init__(
        self,
        resolver_context: dfvfs_context.Context,
        file_system: AndroidSparseFileSystem,
        path_spec: dfvfs_path_spec.PathSpec,
        is_root: bool = False,
        is_virtual: bool = False,
    ) -> None:
        """Open the stream up front so size is known and errors surface early."""
        stream = dfvfs_resolver.Resolver.OpenFileObject(
            path_spec, resolver_context=resolver_context
        )
        super().__init__(
            resolver_context, file_system, path_spec, is_root=is_root, is_virtual=is_virtual
        )
        self._stream = stream
        self.entry_type = dfvfs_definitions.FILE_ENTRY_TYPE_FILE

    @property
    def size(self) -> int:
        """Expanded size in bytes."""
        return self._stream.get_size()


class AndroidSparseFileSystem(root_only_file_system.RootOnlyFileSystem):
    """Root-only file system so Resolver.OpenFileEntry works on the layer."""

    TYPE_INDICATOR = TYPE_INDICATOR_ANDROID_SPARSE

    def GetFileEntryByPathSpec(
        self, path_spec: dfvfs_path_spec.PathSpec
    ) -> AndroidSparseFileEntry:
        """Every path spec of this layer names the one expanded file."""
        return AndroidSparseFileEntry(
            self._resolver_context, self, path_spec, is_root=True, is_virtual=True
        )

    def GetRootFileEntry(self) -> AndroidSparseFileEntry:
        """The expanded image is the root."""
        return self.GetFileEntryByPathSpec(AndroidSparsePathSpec(parent=self._path_spec.parent))


class AndroidSparseResolverHelper(resolver_helper.ResolverHelper):
    """Tells dfvfs's resolver how to build our file object and file system."""

    TYPE_INDICATOR = TYPE_INDICATOR_ANDROID_SPARSE

    def NewFileObject(
        self, resolver_context: dfvfs_context.Context, path_spec: dfvfs_path_spec.PathSpec
    ) -> AndroidSparseFileIO:
        """A new, unopened file object; the resolver opens and caches it."""
        return AndroidSparseFileIO(resolver_context, path_spec)

    def NewFileSystem(
        self, resolver_context: dfvfs_context.Context, path_spec: dfvfs_path_spec.PathSpec
    ) -> AndroidSparseFileSystem:
        """A new, unopened root-only file system."""
        return AndroidSparseFileSystem(resolver_context, path_spec)


def _is_ours(obj: object) -> bool:
    """Whether a registered class/helper came from this module (maybe an older load)."""
    cls = obj if isinstance(obj, type) else type(obj)
    return cls.__module__ == __name__


def _registered_path_spec_type() -> type | None:
    """The class dfvfs maps ANDROID_SPARSE to, found through the public factory API."""
    probe_parent = path_spec_factory.Factory.NewPathSpec(
        dfvfs_definitions.TYPE_INDICATOR_OS, location="/"
    )
    try:
        probe = path_spec_factory.Factory.NewPathSpec(
            TYPE_INDICATOR_ANDROID_SPARSE, parent=probe_parent
        )
    except KeyError:
        return None
    return type(probe)


def _registered_helper() -> resolver_helper.ResolverHelper | None:
    """The resolver helper dfvfs holds for ANDROID_SPARSE, if any."""
    try:
        return resolver_helper_manager.ResolverHelperManager.GetHelper(
            TYPE_INDICATOR_ANDROID_SPARSE
        )
    except KeyError:
        return None


def register() -> None:
    """Register ANDROID_SPARSE with dfvfs; safe to call any number of times.

    dfvfs's registries raise on duplicates, so an existing entry from this
    module (e.g. after importlib.reload) is replaced by the current classes;
    an entry from any other module is a conflict and is reported, not
    overwritten.
    """
    current = _registered_path_spec_type()
    if current is not AndroidSparsePathSpec:
        if current is not None:
            if not _is_ours(current):
                raise SparseRegistrationError(
                    f"{TYPE_INDICATOR_ANDROID_SPARSE} path spec already registered by "
                    f"{current.__module__}"
                )
            path_spec_factory.Factory.DeregisterPathSpec(current)
        path_spec_factory.Factory.RegisterPathSpec(AndroidSparsePathSpec)

    helper = _registered_helper()
    if not isinstance(helper, AndroidSparseResolverHelper):
        if helper is not None:
            if not _is_ours(helper):
                raise SparseRegistrationError(
                    f"{TYPE_INDICATOR_ANDROID_SPARSE} resolver helper already registered by "
                    f"{type(helper).__module__}"
                )
            resolver_helper_manager.ResolverHelperManager.DeregisterHelper(helper)
        resolver_helper_manager.ResolverHelperManager.RegisterHelper(
            AndroidSparseResolverHelper()
        )


register()
