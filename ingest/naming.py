"""Folder names for case and exhibit ids: safe on every file system, and reversible.

Any byte outside [A-Za-z0-9_-] (and a leading dot) is written as %XX of its UTF-8 encoding, so
`JS/1` becomes `JS%2F1` and the exact id can always be recovered from the folder name.
"""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

_SAFE = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.")


def encode_id(identifier: str) -> str:
    """Folder name for an id; refuses an empty id, which has no folder."""
    if not identifier:
        raise ValueError("an empty id cannot name a folder")
    raw = identifier.encode("utf-8", errors="surrogatepass")
    out = []
    for position, byte in enumerate(raw):
        if byte in _SAFE and not (byte == 0x2E and position == 0):
            out.append(chr(byte))
        else:
            out.append(f"%{byte:02X}")
    return "".join(out)


def decode_id(folder_name: str) -> str:
    """The exact id a folder name stands for."""
    return unquote_to_bytes(folder_name).decode("utf-8", errors="surrogatepass")
