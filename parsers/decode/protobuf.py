"""A small reader for the protobuf wire format, for app blobs whose .proto is not published.

Wire format (https://protobuf.dev/programming-guides/encoding/): each field is a varint key
`(field_number << 3) | wire_type`; wire types 0 varint, 1 fixed 64-bit little-endian, 2
length-delimited (a varint length, then bytes: a string, bytes or a nested message), 5 fixed
32-bit little-endian. Groups (3, 4) are deprecated and rejected here. Without the schema a
length-delimited value is only bytes; callers decide whether it is text or a nested message.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

VARINT, FIXED64, LENGTH, FIXED32 = 0, 1, 2, 5


class ProtobufError(ValueError):
    """The bytes are not a well-formed protobuf message."""


@dataclass(frozen=True)
class Field:
    """One field as stored: number, wire type and value (int for varint/fixed, bytes for length-delimited)."""

    number: int
    wire_type: int
    value: int | bytes


def read_varint(data: bytes, offset: int) -> tuple[int, int]:
    """The unsigned varint at `offset` and the offset after it."""
    result = 0
    shift = 0
    while True:
        if offset >= len(data):
            raise ProtobufError("varint runs past the end")
        byte = data[offset]
        offset += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, offset
        shift += 7
        if shift > 63:
            raise ProtobufError("varint longer than 10 bytes")


def parse(data: bytes) -> list[Field]:
    """Every top-level field of a message, in stored order; ProtobufError if it is not well formed."""
    fields: list[Field] = []
    offset = 0
    while offset < len(data):
        key, offset = read_varint(data, offset)
        number, wire_type = key >> 3, key & 7
        if number == 0:
            raise ProtobufError("field number 0")
        if wire_type == VARINT:
            value, offset = read_varint(data, offset)
        elif wire_type == FIXED64:
            if offset + 8 > len(data):
                raise ProtobufError("fixed64 runs past the end")
            value = struct.unpack_from("<Q", data, offset)[0]
            offset += 8
        elif wire_type == FIXED32:
            if offset + 4 > len(data):
                raise ProtobufError("fixed32 runs past the end")
            value = struct.unpack_from("<I", data, offset)[0]
            offset += 4
        elif wire_type == LENGTH:
            size, offset = read_varint(data, offset)
            if offset + size > len(data):
                raise ProtobufError("length-delimited field runs past the end")
            value = bytes(data[offset:offset + size])
            offset += size
        else:
            raise ProtobufError(f"unsupported wire type {wire_type}")
        fields.append(Field(number, wire_type, value))
    return fields


def first(fields: list[Field], number: int) -> Field | None:
    return next((f for f in fields if f.number == number), None)


def follow(data: bytes, *path: int) -> bytes | None:
    """The bytes of the first length-delimited field along `path` (each a field number), or None when absent."""
    current = data
    for number in path:
        field = first(parse(current), number)
        if field is None or field.wire_type != LENGTH:
            return None
        current = field.value  # type: ignore[assignment]
    return current


def as_double(value: int) -> float:
    """A fixed64 field's bits as an IEEE double."""
    return struct.unpack("<d", struct.pack("<Q", value))[0]


def encode_varint(value: int) -> bytes:
    """The varint encoding of a non-negative int (for building test fixtures)."""
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def encode_field(number: int, value: int | bytes | str) -> bytes:
    """One field: an int as a varint, bytes/str as length-delimited (for building test fixtures)."""
    if isinstance(value, int):
        return encode_varint(number << 3 | VARINT) + encode_varint(value)
    raw = value.encode("utf-8") if isinstance(value, str) else value
    return encode_varint(number << 3 | LENGTH) + encode_varint(len(raw)) + raw
