"""Plain hash lists: md5sum/sha1sum/sha256sum output (`HEX  name`, `HEX *name`, `\\HEX  escaped name`) or
one hash a line. The algorithm of each line is recognised by its hex length (32 md5, 40 sha1, 64 sha256);
blank lines and lines starting with `#` are skipped and not counted as bad.

Lines are read with a length budget, so a file that is one endless line costs one skipped entry and
bounded memory, never the whole file in memory.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

from case.hashset_formats import ALGORITHM_BY_LENGTH, Entry, Format, NotThisFormat, Tally, hex_problem

VERSION = "1"
MAX_LINE = 64 * 1024
_SNIFF = 64 * 1024


def _unescape(name: bytes) -> bytes:
    """md5sum's escaping of a name holding a backslash or newline (the line then starts with a backslash)."""
    out, position = bytearray(), 0
    while position < len(name):
        byte = name[position]
        if byte == 0x5C and position + 1 < len(name) and name[position + 1] in b"\\nr":
            out += {0x5C: b"\\", 0x6E: b"\n", 0x72: b"\r"}[name[position + 1]]
            position += 2
        else:
            out.append(byte)
            position += 1
    return bytes(out)


_BARE_HEX = re.compile(rb"[0-9a-fA-F]+")
_LINE = re.compile(rb"(\\?)(\S+)(?:[ \t][ *]?(.*))?", re.DOTALL)


def _parse(line: bytes) -> tuple[str, bytes | None] | str:
    """(hex, name or None) of one line (leading blanks already stripped), or the reason it is not a hash line."""
    match = _LINE.fullmatch(line)
    if match is None:
        return "not_hex"
    escaped, digest, name = match.groups()
    if name is not None:
        name = _unescape(name) if escaped else name
        if not name.strip():
            name = None
    try:
        return digest.decode("ascii"), name
    except UnicodeDecodeError:
        return "not_hex"


def read(path: Path, tally: Tally, info: dict) -> Iterator[Entry]:
    with open(path, "rb") as handle:
        head = handle.read(_SNIFF)
        if b"\x00" in head:
            raise NotThisFormat(f"{path.name} holds NUL bytes: it is not a text list of hashes")
        handle.seek(0)
        number = 0
        while True:
            line = handle.readline(MAX_LINE + 1)
            if not line:
                return
            number += 1
            if number == 1:
                line = line.removeprefix(b"\xef\xbb\xbf")
            if len(line) > MAX_LINE and not line.endswith(b"\n"):
                while chunk := handle.readline(MAX_LINE):  # the rest of the over-long line, in bounded pieces
                    if chunk.endswith(b"\n"):
                        break
                tally.skip("line_too_long", f"line {number}", f"longer than {MAX_LINE} bytes")
                continue
            line = line.rstrip(b"\r\n")
            stripped = line.strip()
            if len(stripped) in ALGORITHM_BY_LENGTH and _BARE_HEX.fullmatch(stripped):  # the common case: one hash a line
                yield Entry(ALGORITHM_BY_LENGTH[len(stripped)], stripped.decode("ascii").lower(), None, str(number), None)
                continue
            if not stripped or stripped.startswith(b"#"):
                continue
            parsed = _parse(line.lstrip())
            if isinstance(parsed, str):
                tally.skip(parsed, f"line {number}", line[:80].decode("utf-8", "backslashreplace"))
                continue
            text, name = parsed
            problem = hex_problem(text)
            if problem is not None:
                tally.skip(problem, f"line {number}", line[:80].decode("utf-8", "backslashreplace"))
                continue
            yield Entry(ALGORITHM_BY_LENGTH[len(text)], text.lower(), None, str(number),
                        name.decode("utf-8", "backslashreplace") if name is not None else None)


FORMAT = Format("plain", VERSION, read)
