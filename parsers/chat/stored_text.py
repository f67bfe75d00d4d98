"""A text column's value as text, for stores whose text columns also hold numbers or blobs."""

from __future__ import annotations

from manifests.records import decode_text


def stored_text(value: object) -> str | None:
    """None stays None, text stays text, a number is written out, a blob keeps its bytes (decode_text)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return decode_text(value)
    return str(value)
