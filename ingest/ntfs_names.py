"""Exact NTFS names where The Sleuth Kit's UTF-8 is not: names holding unpaired UTF-16 surrogates.

NTFS stores names as UTF-16LE code units with no validity check, so a name may hold a lone
surrogate (a known way to hide a file from tools). TSK converts names to UTF-8 and replaces what
it cannot convert with '^' (swallowing the code unit after a lone high surrogate too: "X<D800>.txt"
is listed as "X^txt"). For an entry whose TSK name has a '^', the name is read again from the MFT
entry's own $FILE_NAME attribute (type 0x30: parent reference in the low 48 bits of its first 8
bytes, name length in UTF-16 units at 0x40, namespace at 0x41, the name at 0x42; NTFS
documentation of the attribute) and kept as WTF-8: UTF-8 in which a lone surrogate is encoded
like any other code point (Python's 'surrogatepass'), the same bytes a Linux file system would
hold for it. A valid name that simply contains '^' comes back unchanged.

The $FILE_NAME used is the one in the listed directory (parent reference), not in the DOS 8.3
namespace, whose text agrees with TSK's around each '^'. A deleted name whose MFT entry has since
been reused has no such attribute: TSK's name is kept and the walk records `name_not_exact`.
"""

from __future__ import annotations

import re
import struct

import pytsk3

FILE_NAME = 0x30
DOS_NAMESPACE = 2
_NAME_AT = 0x42


def file_names(entry: pytsk3.File) -> list[tuple[int, int, bytes]]:
    """(parent MFT number, namespace, UTF-16LE name) of each $FILE_NAME attribute of the entry."""
    names = []
    for attribute in entry:
        info = attribute.info
        if int(info.type) != FILE_NAME or not 0 < int(info.size) <= 4096:
            continue
        data = entry.read_random(0, int(info.size), info.type, info.id)
        if len(data) < _NAME_AT:
            continue
        parent = struct.unpack_from("<Q", data, 0)[0] & 0xFFFFFFFFFFFF
        length, namespace = data[0x40], data[0x41]
        raw = data[_NAME_AT:_NAME_AT + 2 * length]
        if len(raw) == 2 * length:
            names.append((parent, namespace, raw))
    return names


def wtf8(utf16le: bytes) -> bytes:
    """UTF-16LE code units as WTF-8: valid pairs as UTF-8, a lone surrogate as its own 3 bytes."""
    return utf16le.decode("utf-16-le", "surrogatepass").encode("utf-8", "surrogatepass")


def agrees(tsk_name: bytes, exact: bytes) -> bool:
    """Whether `exact` reads as TSK's name with each '^' standing for what TSK could not convert."""
    pattern = b".+?".join(re.escape(part) for part in tsk_name.split(b"^"))
    return re.fullmatch(pattern, exact, re.DOTALL) is not None or exact == tsk_name


def exact_name(entry: pytsk3.File, tsk_name: bytes, parent_inode: int,
               read_errors: tuple[type[BaseException], ...]) -> bytes | None:
    """The exact name of a directory entry whose TSK name has a '^', or None when it cannot be shown."""
    try:
        candidates = file_names(entry)
    except read_errors:
        return None
    for parent, namespace, raw in candidates:
        if parent != parent_inode or namespace == DOS_NAMESPACE:
            continue
        exact = wtf8(raw)
        if agrees(tsk_name, exact):
            return exact
    return None
