"""Every identifier family (each module of this package that binds `EXTRACTOR`), run on one field.

Families run in priority order; a family that yields (phones) drops a match overlapping a span an
earlier family took, except a wallet's (a GCash number is a phone number too). Budgets: only the
first MAX_TEXT_CHARS characters of a field are searched, and at most MAX_PER_FIELD identifiers are
kept (the first in text order); passing either is reported, never silent.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import parsers.identifiers as package
from parsers.discovery import discover
from parsers.identifiers.base import Context, Extractor, Found, Limit, Spans

MAX_TEXT_CHARS = 1 << 20
MAX_PER_FIELD = 1000
SHARED_KINDS = frozenset({"mobile_wallet"})  # spans a yielding family may still read


@dataclass(frozen=True)
class Hit:
    """One identifier and the family that found it."""

    found: Found
    extractor: str
    extractor_version: str


@dataclass(frozen=True)
class Extracted:
    hits: tuple[Hit, ...]
    limits: tuple[Limit, ...]


@cache
def all_extractors() -> tuple[Extractor, ...]:
    return tuple(sorted(discover(package, "EXTRACTOR", Extractor), key=lambda e: (e.priority, e.name)))


def versions() -> dict[str, str]:
    """Family name -> version, for the Parquet metadata of identifiers.parquet."""
    return {e.name: e.version for e in all_extractors()}


def extract(text: str, context: Context, max_chars: int | None = None, max_hits: int | None = None) -> Extracted:
    """Every identifier in one field's text, in text order (then kind, then value); budgets default to the module's."""
    max_chars = MAX_TEXT_CHARS if max_chars is None else max_chars
    max_hits = MAX_PER_FIELD if max_hits is None else max_hits
    limits: list[Limit] = []
    if len(text) > max_chars:
        limits.append(Limit("identifier_text_truncated", f"only the first {max_chars:,} of {len(text):,} characters were searched for identifiers"))
        text = text[:max_chars]
    hits: list[Hit] = []
    taken = Spans()
    over = False
    for extractor in all_extractors():
        if context.field_class not in extractor.field_classes:
            continue
        found: list[Found] = []
        # Only identifiers count against the budget: a family's own notice (its matcher's tries ran
        # out) is kept beside it, so a field that passes both budgets reports both.
        for item in extractor.find(text, context):
            if isinstance(item, Limit):
                limits.append(item)
                continue
            found.append(item)
            if len(found) > max_hits:
                break
        over = over or len(found) > max_hits
        if extractor.yields:
            found = [f for f in found if not taken.overlaps(f.start, f.end)]
        for f in found:
            if f.kind not in SHARED_KINDS:
                taken.add(f.start, f.end)
        hits += [Hit(f, extractor.name, extractor.version) for f in found]
        if extractor.exclusive and found:
            break
    hits.sort(key=lambda h: (h.found.start, h.found.kind, h.found.value, h.extractor))
    if over or len(hits) > max_hits:
        limits.append(Limit("identifier_limit", f"more than {max_hits:,} identifiers in one field: the first {max_hits:,} were kept"))
        hits = hits[:max_hits]
    return Extracted(tuple(hits), tuple(limits))
