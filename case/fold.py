"""Case- and accent-insensitive text for searching, with a map from the folded text back to the original.

A search term and an evidence string are both folded the same way: NFKD (compatibility decomposition:
full-width letters, ligatures and superscripts become plain letters), combining marks removed (accents),
then Unicode full case folding ("ß" becomes "ss"), decomposed and stripped once more for the few
characters whose case fold brings a mark back. So "pera", "PERA", "péra" and "ＰＥＲＡ" fold alike.
Format characters (Unicode category Cf: zero-width spaces and joiners, soft hyphens, bidi controls) fold
to nothing as well, so one hidden inside a word ("pe\u200bra", "pe\u202era") cannot hide it from a search.

The fold works one original character at a time, so every folded character knows the original
character it came from, and a hit is reported on the original text's span, never on the folded copy.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")


@lru_cache(maxsize=65536)
def fold_char(ch: str) -> str:
    """The folded form of one character (often "", for a combining mark; sometimes two or more characters)."""
    decomposed = "".join(c for c in unicodedata.normalize("NFKD", ch) if not _ignored(c))
    folded = unicodedata.normalize("NFKD", decomposed.casefold())
    return "".join(c for c in folded if not _ignored(c))


def _ignored(ch: str) -> bool:
    """A combining mark (an accent) or a format character (zero-width, soft hyphen, bidi control)."""
    return unicodedata.combining(ch) != 0 or unicodedata.category(ch) == "Cf"


@dataclass(frozen=True)
class Folded:
    """A folded text and, for each of its characters, the index of the original character it came from.

    `origin` is None when the fold kept every character in place (ASCII text: only the case changes).
    """

    text: str
    origin: list[int] | None

    def original_span(self, start: int, end: int, original: str) -> tuple[int, int]:
        """The original text's [start, end) that produced folded[start:end] (end > start).

        The span grows to whole original characters ("s" inside "ß" is the whole "ß") and takes in
        the combining marks that follow its last character (they folded to nothing but belong to it).
        """
        if self.origin is None:
            return start, end
        first = self.origin[start]
        last = self.origin[end - 1] + 1
        while last < len(original) and unicodedata.combining(original[last]):
            last += 1
        return first, last


def fold(text: str) -> str:
    """The folded text alone (for terms and quick tests)."""
    return fold_with_map(text).text


def fold_with_map(text: str) -> Folded:
    """Fold `text`, keeping where each folded character came from. ASCII runs fold by lower() (NFKD and the
    mark removal leave ASCII alone, and its case fold is its lower case); other characters one by one."""
    if text.isascii():
        return Folded(text.lower(), None)
    parts: list[str] = []
    origin: list[int] = []
    position = 0
    for run in _NON_ASCII_RUN.finditer(text):
        if run.start() > position:
            parts.append(text[position:run.start()].lower())
            origin.extend(range(position, run.start()))
        for index in range(run.start(), run.end()):
            piece = fold_char(text[index])
            if piece:
                parts.append(piece)
                origin.extend([index] * len(piece))
        position = run.end()
    if position < len(text):
        parts.append(text[position:].lower())
        origin.extend(range(position, len(text)))
    return Folded("".join(parts), origin)
