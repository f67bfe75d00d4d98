"""HEIF/HEIC, AVIF and Canon CR3: still images in ISO base media files, read from their boxes.

All three start with an ISO/IEC 14496-12 `ftyp` box. The MAJOR brand decides whether a file is
ours: heic/heix/heim/heis/hevc/hevx/mif1/mif2/msf1/miaf/avci -> HEIF, avif/avis -> AVIF,
`crx ` -> CR3. A file whose major brand is a video brand (isom, mp41, mp42, qt, 3gp*, M4V,
avc1, ...) belongs to the video reader even when its compatible brands list mif1 or heic; the
compatible brands only refine a generic major brand (mif1/msf1/mif2/miaf) into AVIF when they
list avif/avis.

HEIF and AVIF (ISO/IEC 23008-12): the `meta` box is read whole (it is small) and nothing else
except the Exif item and the thumbnail item's bytes, located through `iloc`. We do not hand the
file to pillow-heif: its `open_heif` reads the whole file into memory first (pillow_heif.misc.
_get_bytes), it reports the size after applying `irot`/`clap`, and it does not expose a thumbnail
item's coded bytes. The tests use pillow-heif as an independent check of what is read here.
  - width/height: the primary item's `ispe` property, i.e. the coded size before `irot`/`imir`
    are applied. This is what exiftool reports and it is the frame that the EXIF orientation
    refers to (an iPhone portrait photo: 4032x3024 with EXIF orientation 6 and irot 270).
  - codec: from the primary item's type (hvc1 -> HEVC, av01 -> AV1, ...); for a `grid`, `iovl`
    or `iden` primary item, from the first image it derives from (`dimg` reference).
  - EXIF: the `Exif` item that describes (`cdsc`) the primary item, else the first one; its
    payload starts with a 4-byte offset to the TIFF header (ISO/IEC 23008-12 Annex A.2.1).
  - thumbnail: an item with a `thmb` reference to the primary item. thumbnail_sha256 is the
    SHA-256 of that item's data exactly as stored (its `iloc` extents concatenated): for HEVC a
    run of length-prefixed NAL units WITHOUT the parameter sets, which live in its `hvcC`
    property. It is not a hash of a decodable file; it identifies the stored thumbnail.
  - content_identifier: Apple's maker note tag 0x0011 (exiftool 12.57 names it MediaGroupUUID,
    other versions ContentIdentifier), the UUID shared with the Live Photo's video; read by
    parsers.media.maker_notes for every EXIF block (JPEG from an iPhone too).
  - orientation: the EXIF value as stored; `irot`/`imir` are not turned into an orientation (an
    iPhone writes both; iphone_7.heic from the ProCam app has EXIF orientation 6 and no irot).
  - XMP: the `mime` item of type application/rdf+xml that describes the primary item, read after
    the EXIF by parsers.media.xmp (fills only what the EXIF left empty).
  - image_unique_id: EXIF ImageUniqueID (0xA420), else Apple's maker note tag 0x0015 (through
    parsers.media.maker_notes), which is where an iPhone HEIC keeps it.

CR3 (Canon; layout as documented by the community's "Describing the CR3 format" notes): `moov`
holds a uuid box 85c0b687-820f-11e0-8111-f4ce462b6a48 whose CMT1 (IFD0), CMT2 (Exif IFD),
CMT3 (Canon maker note) and CMT4 (GPS IFD) boxes are each a whole TIFF block, and whose THMB box
holds a small JPEG thumbnail (16 bytes of header: version, flags, width, height, JPEG length, then
the JPEG). width/height are IFD0 ImageWidth/ImageLength from CMT1 (the full raw image size, as
exiftool shows), else ExifImageWidth/Height from CMT2. thumbnail_sha256 is the SHA-256 of the THMB
JPEG (the same bytes as `exiftool -b -ThumbnailImage`). codec is the first track's sample entry
type ("CRAW"). The CMT3 maker note gives image_unique_id (and a serial where EXIF has none)
through parsers.media.maker_notes. CRM movies use the same `crx ` brand and would also be named
CR3 here.
"""

from __future__ import annotations

import hashlib
import struct
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from PIL import Image

from manifests.records import MediaRecord
from parsers.media.base import MEDIA_ERRORS, MediaContext, MediaReader, MediaSource
from parsers.media.exif import apply_exif, exif_from_tiff_bytes
from parsers.media.maker_notes import apply_canon_block
from parsers.media.xmp import MAX_XMP_BYTES, apply_xmp

# Major brands (ISO/IEC 23008-12 Annex B, AV1-ISOBMFF/AVIF, Canon) that make a file ours.
_HEIF_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1", b"mif2", b"msf1",
                          b"miaf", b"avci"})
_AVIF_BRANDS = frozenset({b"avif", b"avis"})
_GENERIC_BRANDS = frozenset({b"mif1", b"mif2", b"msf1", b"miaf"})  # say "image file", not which coding
_CR3_BRAND = b"crx "

# Item types (the `infe` 4CC) of coded images -> MediaRecord.codec.
_CODECS = {b"hvc1": "HEVC", b"av01": "AV1", b"avc1": "AVC", b"jpeg": "JPEG", b"vvc1": "VVC",
           b"j2k1": "JPEG 2000", b"unci": "uncompressed"}
_DERIVED = frozenset({b"grid", b"iovl", b"iden"})

_CANON_UUID = bytes.fromhex("85c0b687820f11e08111f4ce462b6a48")

# Limits: a metadata box or item larger than this is not metadata we read whole.
_MAX_META = 16 << 20
_MAX_ITEM = 16 << 20
_MAX_TOP_BOXES = 4096
_HASH_CHUNK = 1 << 20

# EXIF tags used here (TIFF 6.0, EXIF 2.32).
_EXIF_IFD = 0x8769
_GPS_IFD = 0x8825
_IMAGE_WIDTH = 0x0100
_IMAGE_LENGTH = 0x0101
_EXIF_IMAGE_WIDTH = 0xA002
_EXIF_IMAGE_HEIGHT = 0xA003


def container_for_brands(head: bytes) -> str | None:
    """HEIF, AVIF or CR3 from the `ftyp` box at the start of `head`; None when it is not ours."""
    if len(head) < 16 or head[4:8] != b"ftyp":
        return None
    size = struct.unpack(">I", head[:4])[0]
    if size < 16:
        return None
    major = head[8:12]
    compatible = {head[i:i + 4] for i in range(16, min(size, len(head)) - 3, 4)}
    if major == _CR3_BRAND:
        return "CR3"
    if major in _AVIF_BRANDS:
        return "AVIF"
    if major in _HEIF_BRANDS:
        if major in _GENERIC_BRANDS and compatible & _AVIF_BRANDS:
            return "AVIF"
        return "HEIF"
    return None


# --- boxes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Box:
    kind: bytes
    start: int  # of the payload (after size, type and any uuid)
    end: int
    uuid: bytes | None = None


def _boxes(data: bytes, start: int, end: int) -> Iterator[_Box]:
    """The boxes laid end to end in data[start:end]; stops at the first malformed header."""
    end = min(end, len(data))
    offset = start
    while offset + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, offset)
        header = 8
        if size == 1:
            if offset + 16 > end:
                return
            size = struct.unpack_from(">Q", data, offset + 8)[0]
            header = 16
        elif size == 0:
            size = end - offset
        uuid = None
        if kind == b"uuid":
            uuid = data[offset + header:offset + header + 16]
            header += 16
        if size < header or offset + size > end:
            raise ValueError(f"box {kind!r} at {offset} has size {size} beyond its parent (ends at {end})")
        yield _Box(kind, offset + header, offset + size, uuid)
        offset += size


def _top_boxes(source: MediaSource) -> Iterator[_Box]:
    """Top-level boxes from their headers only (16 or 32 bytes each); payloads are not read."""
    offset = 0
    for _ in range(_MAX_TOP_BOXES):
        head = source.read_at(offset, 32)
        if len(head) < 8:
            return
        size, kind = struct.unpack_from(">I4s", head)
        header = 8
        if size == 1:
            if len(head) < 16:
                raise ValueError(f"truncated 64-bit box size at {offset}")
            size = struct.unpack_from(">Q", head, 8)[0]
            header = 16
        elif size == 0:
            size = source.size - offset
        uuid = None
        if kind == b"uuid":
            uuid = head[header:header + 16]
            header += 16
        if size < header:
            raise ValueError(f"box {kind!r} at {offset} has impossible size {size}")
        yield _Box(kind, offset + header, offset + size, uuid)
        offset += size


def _read_box(source: MediaSource, box: _Box, limit: int) -> bytes:
    """A (small) box's payload; raises ValueError above `limit` or when the file is cut short."""
    length = box.end - box.start
    if length > limit:
        raise ValueError(f"{box.kind!r} box of {length} bytes is larger than the {limit} read for metadata")
    data = source.read_at(box.start, length)
    if len(data) != length:
        raise ValueError(f"{box.kind!r} box is cut short: {len(data)} of {length} bytes")
    return data


def _uint(data: bytes, offset: int, size: int) -> int:
    """A big-endian unsigned integer of 0, 2, 4 or 8 bytes (iloc field sizes)."""
    if size == 0:
        return 0
    if offset + size > len(data):
        raise ValueError(f"field of {size} bytes at {offset} runs past its box ({len(data)} bytes)")
    return int.from_bytes(data[offset:offset + size], "big")


def _cstring(data: bytes, offset: int, end: int) -> tuple[bytes, int]:
    """A NUL-terminated string and the offset after it (an unterminated one runs to `end`)."""
    stop = data.find(b"\0", offset, end)
    if stop < 0:
        return data[offset:end], end
    return data[offset:stop], stop + 1


# --- HEIF meta box (ISO/IEC 23008-12 and 14496-12 section 8.11) ------------------------------------


@dataclass
class _Item:
    item_id: int
    kind: bytes | None = None
    content_type: str | None = None
    construction: int = 0
    data_reference: int = 0
    base_offset: int = 0
    extents: list[tuple[int, int]] = field(default_factory=list)
    located: bool = False
    properties: list[int] = field(default_factory=list)  # 1-based indexes into ipco


@dataclass
class _Meta:
    handler: bytes | None = None
    primary: int | None = None
    items: dict[int, _Item] = field(default_factory=dict)
    references: list[tuple[bytes, int, tuple[int, ...]]] = field(default_factory=list)
    properties: list[tuple[bytes, bytes]] = field(default_factory=list)
    idat: bytes = b""

    def item(self, item_id: int) -> _Item:
        return self.items.setdefault(item_id, _Item(item_id))

    def referring(self, kind: bytes, to_id: int) -> list[int]:
        """Items that have a `kind` reference to item `to_id`, in file order."""
        return [from_id for ref_kind, from_id, to_ids in self.references if ref_kind == kind and to_id in to_ids]

    def referenced(self, kind: bytes, from_id: int) -> tuple[int, ...]:
        for ref_kind, ref_from, to_ids in self.references:
            if ref_kind == kind and ref_from == from_id:
                return to_ids
        return ()

    def property(self, item_id: int, kind: bytes) -> bytes | None:
        """Payload of the first property of type `kind` associated with the item."""
        item = self.items.get(item_id)
        if item is None:
            return None
        for index in item.properties:
            if 1 <= index <= len(self.properties) and self.properties[index - 1][0] == kind:
                return self.properties[index - 1][1]
        return None


def _parse_meta(data: bytes, context: MediaContext) -> _Meta:
    """The parts of a HEIF `meta` box payload (a FullBox: 4 bytes of version/flags first) we use."""
    meta = _Meta()
    for box in _boxes(data, 4, len(data)):
        body = data[box.start:box.end]
        try:
            if box.kind == b"hdlr" and len(body) >= 12:
                meta.handler = body[8:12]
            elif box.kind == b"pitm":
                meta.primary = _uint(body, 4, 2 if body[0] == 0 else 4)
            elif box.kind == b"iinf":
                _parse_iinf(body, meta)
            elif box.kind == b"iloc":
                _parse_iloc(body, meta)
            elif box.kind == b"iref":
                _parse_iref(body, meta)
            elif box.kind == b"iprp":
                _parse_iprp(body, meta)
            elif box.kind == b"idat":
                meta.idat = body
        except MEDIA_ERRORS as error:
            context.warn("malformed_media", f"HEIF {box.kind.decode('latin-1')} box could not be read: {error}")
    return meta


def _parse_iinf(body: bytes, meta: _Meta) -> None:
    start = 6 if body[0] == 0 else 8  # version/flags, then a 16- or 32-bit entry count
    for box in _boxes(body, start, len(body)):
        if box.kind != b"infe":
            continue
        entry = body[box.start:box.end]
        version = entry[0]
        if version >= 2:
            id_size = 2 if version == 2 else 4
            item = meta.item(_uint(entry, 4, id_size))
            position = 4 + id_size + 2  # skip item_protection_index
            item.kind = entry[position:position + 4]
            _, position = _cstring(entry, position + 4, len(entry))  # item_name
            if item.kind == b"mime":
                content_type, _ = _cstring(entry, position, len(entry))
                item.content_type = content_type.decode("utf-8", "backslashreplace")
        else:  # versions 0 and 1: no item type, a MIME content type after the name
            item = meta.item(_uint(entry, 4, 2))
            _, position = _cstring(entry, 8, len(entry))
            content_type, _ = _cstring(entry, position, len(entry))
            item.content_type = content_type.decode("utf-8", "backslashreplace")


def _parse_iloc(body: bytes, meta: _Meta) -> None:
    version = body[0]
    if version > 2:
        raise ValueError(f"iloc version {version} is unknown")
    offset_size, length_size = body[4] >> 4, body[4] & 0x0F
    base_offset_size, index_size = body[5] >> 4, (body[5] & 0x0F if version in (1, 2) else 0)
    for size in (offset_size, length_size, base_offset_size, index_size):
        if size not in (0, 4, 8):
            raise ValueError(f"iloc field size {size} is not 0, 4 or 8")
    id_size = 4 if version == 2 else 2
    count = _uint(body, 6, id_size)
    position = 6 + id_size
    for _ in range(count):
        item = meta.item(_uint(body, position, id_size))
        position += id_size
        if version in (1, 2):
            item.construction = _uint(body, position, 2) & 0x0F
            position += 2
        item.data_reference = _uint(body, position, 2)
        item.base_offset = _uint(body, position + 2, base_offset_size)
        position += 2 + base_offset_size
        extent_count = _uint(body, position, 2)
        position += 2
        per_extent = index_size + offset_size + length_size
        if per_extent * extent_count > len(body) - position or (per_extent == 0 and extent_count > 1):
            raise ValueError(f"iloc item {item.item_id} lists {extent_count} extents that do not fit its box")
        item.extents = []
        for _ in range(extent_count):
            position += index_size
            extent_offset = _uint(body, position, offset_size)
            extent_length = _uint(body, position + offset_size, length_size)
            position += offset_size + length_size
            item.extents.append((extent_offset, extent_length))
        item.located = True


def _parse_iref(body: bytes, meta: _Meta) -> None:
    id_size = 2 if body[0] == 0 else 4
    for box in _boxes(body, 4, len(body)):
        position = box.start
        from_id = _uint(body, position, id_size)
        count = _uint(body, position + id_size, 2)
        position += id_size + 2
        to_ids = tuple(_uint(body, position + i * id_size, id_size) for i in range(count))
        meta.references.append((box.kind, from_id, to_ids))


def _parse_iprp(body: bytes, meta: _Meta) -> None:
    for box in _boxes(body, 0, len(body)):
        if box.kind == b"ipco":
            meta.properties = [(child.kind, body[child.start:child.end]) for child in _boxes(body, box.start, box.end)]
        elif box.kind == b"ipma":
            entry = body[box.start:box.end]
            version, flags = entry[0], int.from_bytes(entry[1:4], "big")
            id_size = 2 if version < 1 else 4
            wide = bool(flags & 1)
            position = 8
            for _ in range(_uint(entry, 4, 4)):
                item = meta.item(_uint(entry, position, id_size))
                position += id_size
                associations = _uint(entry, position, 1)
                position += 1
                for _ in range(associations):
                    if wide:
                        item.properties.append(_uint(entry, position, 2) & 0x7FFF)
                        position += 2
                    else:
                        item.properties.append(_uint(entry, position, 1) & 0x7F)
                        position += 1


def _item_extents(source: MediaSource, meta: _Meta, item: _Item) -> list[tuple[bytes, int, int]]:
    """Where an item's bytes are: (b"file" or b"idat", offset, length) per extent."""
    if not item.located:
        raise ValueError(f"item {item.item_id} has no iloc entry")
    if item.data_reference != 0:
        raise ValueError(f"item {item.item_id} is in another file (data_reference_index {item.data_reference})")
    if item.construction not in (0, 1):
        raise ValueError(f"item {item.item_id} uses iloc construction method {item.construction}, not read")
    where = b"file" if item.construction == 0 else b"idat"
    total = source.size if item.construction == 0 else len(meta.idat)
    extents = []
    for offset, length in item.extents:
        offset += item.base_offset
        if length == 0:  # "the entire referenced resource" from the offset
            length = total - offset
        if offset < 0 or length < 0 or offset + length > total:
            raise ValueError(f"item {item.item_id} extent {offset}+{length} lies outside its {total} bytes")
        extents.append((where, offset, length))
    return extents


def _item_data(source: MediaSource, meta: _Meta, item: _Item, limit: int = _MAX_ITEM) -> bytes:
    extents = _item_extents(source, meta, item)
    if sum(length for _, _, length in extents) > limit:
        raise ValueError(f"item {item.item_id} is larger than the {limit} bytes read for metadata")
    parts = [meta.idat[offset:offset + length] if where == b"idat" else source.read_at(offset, length)
             for where, offset, length in extents]
    return b"".join(parts)


def _item_sha256(source: MediaSource, meta: _Meta, item: _Item) -> str:
    """SHA-256 of an item's bytes as stored (extents concatenated), read in chunks."""
    digest = hashlib.sha256()
    for where, offset, length in _item_extents(source, meta, item):
        if where == b"idat":
            digest.update(meta.idat[offset:offset + length])
            continue
        done = 0
        while done < length:
            chunk = source.read_at(offset + done, min(_HASH_CHUNK, length - done))
            if not chunk:
                raise ValueError(f"item {item.item_id} is cut short at {offset + done}")
            digest.update(chunk)
            done += len(chunk)
    return digest.hexdigest()


def _describing(meta: _Meta, primary: int | None, wanted: Callable[[_Item], bool]) -> _Item | None:
    """The metadata item that `cdsc`-describes the primary item, else the first such item."""
    candidates = [item for item in meta.items.values() if wanted(item)]
    if primary is not None:
        for item in candidates:
            if primary in meta.referenced(b"cdsc", item.item_id):
                return item
    return candidates[0] if candidates else None


def _codec(meta: _Meta, primary: _Item) -> str | None:
    kind = primary.kind
    if kind in _DERIVED:
        tiles = meta.referenced(b"dimg", primary.item_id)
        kind = meta.items[tiles[0]].kind if tiles and tiles[0] in meta.items else None
    if kind is None:
        return None
    return _CODECS.get(kind, kind.decode("latin-1").strip())


def _exif_tiff(payload: bytes) -> bytes:
    """The TIFF block of a HEIF Exif item: a 4-byte big-endian offset to the TIFF header comes first."""
    if len(payload) < 4:
        raise ValueError("Exif item shorter than its 4-byte header offset")
    skip = 4 + struct.unpack(">I", payload[:4])[0]
    tiff = payload[skip:]
    if tiff[:4] in (b"II*\0", b"MM\0*"):
        return tiff
    raise ValueError(f"Exif item has no TIFF header at offset {skip}")


# --- CR3 -------------------------------------------------------------------------------------------


class _SplitExif(Image.Exif):
    """An Exif whose Exif and GPS IFDs come from separate TIFF blocks (CR3's CMT2 and CMT4).

    apply_exif reads IFD0 with items() and the sub-IFDs with get_ifd(); CR3 stores each as the
    IFD0 of its own TIFF block, so get_ifd answers those two from the blocks given.
    """

    def __init__(self, sub_ifds: dict[int, dict[int, Any]]) -> None:
        super().__init__()
        self._split = sub_ifds

    def get_ifd(self, tag: int) -> dict[int, Any]:
        if tag in self._split:
            return self._split[tag]
        return super().get_ifd(tag)


def _read_cr3(source: MediaSource, record: MediaRecord, context: MediaContext) -> None:
    moov = next((box for box in _top_boxes(source) if box.kind == b"moov"), None)
    if moov is None:
        context.warn("malformed_media", "CR3 has no moov box")
        return
    data = _read_box(source, moov, _MAX_META)
    blocks, thumbnail = _cr3_boxes(data, moov.start, record, context)
    if b"CMT1" not in blocks:
        context.warn("malformed_media", "CR3 has no CMT1 (IFD0) box: no EXIF read")
    else:
        _apply_cr3_exif(blocks, record, context)
    record.has_thumbnail = thumbnail is not None
    if thumbnail is not None:
        record.thumbnail_sha256 = hashlib.sha256(thumbnail).hexdigest()


def _cr3_boxes(data: bytes, shifted: int, record: MediaRecord, context: MediaContext) -> tuple[dict[bytes, bytes], bytes | None]:
    """Canon's CMT1-4 blocks and THMB thumbnail from the moov box's data (offset 0 = file offset `shifted`); the
    first track's codec goes to the record."""
    blocks: dict[bytes, bytes] = {}
    thumbnail: bytes | None = None
    for box in _boxes(data, 0, len(data)):
        if box.kind == b"uuid" and box.uuid == _CANON_UUID:
            for child in _boxes(data, box.start, box.end):
                if child.kind in (b"CMT1", b"CMT2", b"CMT3", b"CMT4"):
                    blocks[child.kind] = data[child.start:child.end]
                elif child.kind == b"THMB":
                    thumbnail = _thmb_jpeg(data[child.start:child.end], shifted + child.start, context)
        elif box.kind == b"trak" and record.codec is None:
            record.codec = _first_sample_entry(data, box)
    return blocks, thumbnail


def _apply_cr3_exif(blocks: dict[bytes, bytes], record: MediaRecord, context: MediaContext) -> None:
    """EXIF from CMT1 (IFD0) with CMT2 (Exif IFD) and CMT4 (GPS IFD), the image size, and CMT3 (Canon's own tags)."""
    sub_ifds: dict[int, dict[int, Any]] = {}
    for tag, kind, name in ((_EXIF_IFD, b"CMT2", "exif_ifd"), (_GPS_IFD, b"CMT4", "gps_ifd")):
        if kind in blocks:
            try:
                sub_ifds[tag] = dict(exif_from_tiff_bytes(blocks[kind]).items())
            except MEDIA_ERRORS as error:
                context.warn("exif_unreadable", f"CR3 {kind.decode()} could not be read: {error}", field=name)
    exif = _SplitExif(sub_ifds)
    try:
        exif.load(blocks[b"CMT1"])
    except MEDIA_ERRORS as error:
        context.warn("exif_unreadable", f"CR3 CMT1 could not be read: {type(error).__name__}: {error}", field="exif")
    apply_exif(record, exif, context)
    try:
        ifd0 = dict(exif.items())
    except MEDIA_ERRORS:
        ifd0 = {}  # apply_exif has warned
    width, height = ifd0.get(_IMAGE_WIDTH), ifd0.get(_IMAGE_LENGTH)
    if not isinstance(width, int) or not isinstance(height, int):
        exif_ifd = sub_ifds.get(_EXIF_IFD, {})
        width, height = exif_ifd.get(_EXIF_IMAGE_WIDTH), exif_ifd.get(_EXIF_IMAGE_HEIGHT)
    if isinstance(width, int) and isinstance(height, int):
        record.width, record.height = width, height
    if b"CMT3" in blocks:
        apply_canon_block(blocks[b"CMT3"], record, context)


def _thmb_jpeg(body: bytes, file_offset: int, context: MediaContext) -> bytes | None:
    """The JPEG in a CR3 THMB box: version/flags (4), width (2), height (2), JPEG length (4), 4 more, JPEG."""
    if len(body) < 16:
        context.warn("malformed_media", f"CR3 THMB box at {file_offset} is too short", field="thumbnail_sha256")
        return None
    length = struct.unpack_from(">I", body, 8)[0]
    jpeg = body[16:16 + length]
    if len(jpeg) != length or not jpeg.startswith(b"\xff\xd8"):
        context.warn("malformed_media", f"CR3 THMB box at {file_offset} does not hold a {length}-byte JPEG",
                     field="thumbnail_sha256")
        return None
    return jpeg


def _first_sample_entry(data: bytes, trak: _Box) -> str | None:
    """The 4CC of the first sample entry of a track (trak/mdia/minf/stbl/stsd), e.g. CRAW."""
    box: _Box | None = trak
    for kind in (b"mdia", b"minf", b"stbl", b"stsd"):
        box = next((child for child in _boxes(data, box.start, box.end) if child.kind == kind), None)
        if box is None:
            return None
    entry = data[box.start + 8:box.start + 16]  # version/flags and entry count, then the first entry
    return entry[4:8].decode("latin-1").strip() if len(entry) == 8 else None


# --- the reader ------------------------------------------------------------------------------------


def _read_heif(source: MediaSource, record: MediaRecord, context: MediaContext) -> None:
    meta_box = next((box for box in _top_boxes(source) if box.kind == b"meta"), None)
    if meta_box is None:
        context.warn("malformed_media", f"{record.container_format} has no top-level meta box")
        return
    meta = _parse_meta(_read_box(source, meta_box, _MAX_META), context)
    if meta.handler != b"pict":
        context.warn("malformed_media", f"meta handler is {meta.handler!r}, not 'pict'")
    primary = meta.items.get(meta.primary) if meta.primary is not None else None
    if primary is None:
        context.warn("malformed_media", f"primary item {meta.primary} is missing", field="width")
    else:
        record.codec = _codec(meta, primary)
        extent = meta.property(primary.item_id, b"ispe")
        if extent is not None and len(extent) >= 12:
            record.width, record.height = struct.unpack_from(">II", extent, 4)
        else:
            context.warn("malformed_media", "primary item has no ispe (image size) property", field="width")

    exif_item = _describing(meta, meta.primary, lambda item: item.kind == b"Exif")
    if exif_item is not None:
        try:
            exif = exif_from_tiff_bytes(_exif_tiff(_item_data(source, meta, exif_item)))
        except MEDIA_ERRORS as error:
            context.warn("exif_unreadable", f"Exif item {exif_item.item_id}: {type(error).__name__}: {error}", field="exif")
        else:
            apply_exif(record, exif, context)  # also Apple's maker note (content identifier)
    xmp_item = _describing(meta, meta.primary, lambda item: item.kind == b"mime" and item.content_type == "application/rdf+xml")
    if xmp_item is not None:
        try:
            packet = _item_data(source, meta, xmp_item, MAX_XMP_BYTES)
        except MEDIA_ERRORS as error:
            context.warn("xmp_unreadable", f"XMP item {xmp_item.item_id}: {type(error).__name__}: {error}", field="xmp")
        else:
            apply_xmp(packet, record, context)

    thumbnails = meta.referring(b"thmb", meta.primary) if meta.primary is not None else []
    record.has_thumbnail = bool(thumbnails)
    if thumbnails:
        item = meta.items.get(thumbnails[0])
        try:
            if item is None:
                raise KeyError(f"thumbnail item {thumbnails[0]} is not described")
            record.thumbnail_sha256 = _item_sha256(source, meta, item)
        except MEDIA_ERRORS as error:
            context.warn("malformed_media", f"thumbnail item could not be read: {type(error).__name__}: {error}",
                         field="thumbnail_sha256")


class HeifReader(MediaReader):
    """HEIF/HEIC, AVIF and Canon CR3 (ISO base media still images), chosen by the ftyp major brand."""

    name = "heif"
    version = "1"
    formats = ("HEIF", "AVIF", "CR3")

    def recognise(self, head: bytes) -> str | None:
        return container_for_brands(head)

    def read(self, source: MediaSource, container: str, context: MediaContext) -> MediaRecord:
        record = MediaRecord(container_format=container)
        try:
            if container == "CR3":
                _read_cr3(source, record, context)
            else:
                _read_heif(source, record, context)
        except MEDIA_ERRORS as error:
            # Keep what was read before the damage (e.g. EXIF before a broken thumbnail extent).
            context.warn("malformed_media", f"{container} metadata could not be read: {type(error).__name__}: {error}")
            if "metadata_unreadable" not in record.flags:
                record.flags.append("metadata_unreadable")
        return record


READER = HeifReader()
