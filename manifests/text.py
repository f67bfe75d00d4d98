"""Display strings for evidence text: exact bytes are kept elsewhere; this only makes them safe to show.

Control characters, bidi overrides and undecodable bytes are escaped with backslash sequences so
that no name in any output can move the cursor, reorder a line or pass for another name.
"""

from __future__ import annotations

import unicodedata

# Bidi embedding/override/isolate controls and marks: they can reorder what a reader sees.
_BIDI = {0x061C, 0x200E, 0x200F, 0x202A, 0x202B, 0x202C, 0x202D, 0x202E, 0x2066, 0x2067, 0x2068, 0x2069}


def _escape_char(ch: str) -> str:
    code = ord(ch)
    if ch == "\\":
        return "\\\\"
    if code < 0x20 or code == 0x7F or 0x80 <= code < 0xA0:
        return f"\\x{code:02x}"
    if code in _BIDI or 0xD800 <= code <= 0xDFFF or unicodedata.category(ch) in ("Cf", "Zl", "Zp"):
        return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"
    return ch


def display(value: bytes | str | None) -> str | None:
    """Escaped, printable form of a name or text; bytes that are not UTF-8 appear as \\xNN."""
    if value is None:
        return None
    if isinstance(value, bytes):
        text = value.decode("utf-8", errors="surrogateescape")
        out = []
        for ch in text:
            code = ord(ch)
            if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte, carried by surrogateescape
                out.append(f"\\x{code - 0xDC00:02x}")
            else:
                out.append(_escape_char(ch))
        return "".join(out)
    return "".join(_escape_char(ch) for ch in value)


def display_message(value: str) -> str:
    """Prose that may quote already-escaped names: control and bidi characters escaped, backslashes kept."""
    return "".join(ch if ch == "\\" else _escape_char(ch) for ch in value)


def exact_bytes(value: str) -> bytes:
    """Bytes of a name that arrived as text (lone surrogates kept, as UTF-8 with surrogatepass)."""
    return value.encode("utf-8", errors="surrogatepass")


# Characters a spreadsheet may read as the start of a formula (OWASP, "CSV Injection"): = + - @, tab
# and carriage return, and their full-width and small forms (U+FF1D U+FF0B U+FF0D U+FF20, U+FE66 U+FE62
# U+FE63), which some spreadsheets fold to ASCII on import.
_FORMULA_STARTS = frozenset("=+-@\t\r\uff1d\uff0b\uff0d\uff20\ufe66\ufe62\ufe63")


def csv_cell(value: str) -> str:
    """A CSV cell no spreadsheet runs as a formula: a single quote before a cell whose first character,
    or first after leading whitespace of any kind (importers that trim it), starts a formula.

    The quote is added, never a character removed, so the cell still shows every character of the value;
    the exact value stays in the Parquet tables.
    """
    if value[:1] in _FORMULA_STARTS or value.lstrip()[:1] in _FORMULA_STARTS:
        return "'" + value
    return value
