"""Known-noise values that every device shares for reasons that say nothing about the case.

A value on this list is dropped before exhibits are counted, so it never ranks above a real link.
A noise file holds one entry a line: `KIND:VALUE` drops VALUE for one link family only, where KIND
is one of `FAMILIES`; any other line (or one written `*:VALUE`) drops the value for every family.
Blank lines and lines starting with `#` are skipped. Values compare case-insensitively, after
leading and trailing white space is removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from manifests.files import FileTooLargeError, read_utf8

# Link families, the part of a link_kind before its first colon (correlate.py).
FAMILIES: tuple[str, ...] = ("file_sha256", "identifier", "conversation", "account", "contact_owner", "owner_identifier")

# Built-in defaults, always applied (documented in the README):
DEFAULT_VALUES: tuple[str, ...] = (
    "status@broadcast",  # WhatsApp's Status pseudo-chat, on every WhatsApp device
    "0@s.whatsapp.net",  # WhatsApp's system sender (security-code and group notices)
    "777000",  # Telegram's service-notifications account, in every Telegram account's chat list
)
# A value made of digits only (an optional sign in front) with fewer than this many digits is a
# short code (carrier service numbers, SMS thread ids, small local row ids): never a link.
SHORT_CODE_DIGITS = 6

MAX_NOISE_BYTES = 16 * 1024 * 1024
MAX_NOISE_LINES = 1_000_000


class NoiseFileError(ValueError):
    """The noise file cannot be used (unreadable, too big, not UTF-8); the message says why and where."""


@dataclass(frozen=True)
class Noise:
    """Values dropped everywhere (`anywhere`) and values dropped for one family (`by_family`), lowercased."""

    anywhere: frozenset[str] = frozenset(v.lower() for v in DEFAULT_VALUES)
    by_family: frozenset[tuple[str, str]] = field(default_factory=frozenset)

    def scoped_keys(self) -> list[str]:
        """`family:value` keys, the form the SQL filter compares with."""
        return sorted(f"{family}:{value}" for family, value in self.by_family)


def parse_line(line: str) -> tuple[str | None, str] | None:
    """One noise-file line as (family or None, lowercased value); None for a blank or comment line."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None
    kind, colon, rest = text.partition(":")
    if colon and kind == "*":
        value = rest.strip()
        return (None, value.lower()) if value else None
    if colon and kind in FAMILIES:
        value = rest.strip()
        return (kind, value.lower()) if value else None
    return None, text.lower()


def load_noise(path: Path | None) -> Noise:
    """The built-in defaults plus the entries of `path` (when given)."""
    defaults = Noise()
    if path is None:
        return defaults
    try:
        text = read_utf8(path, MAX_NOISE_BYTES)
    except OSError as error:
        raise NoiseFileError(f"noise file {path}: cannot be read: {error.strerror or error}") from None
    except FileTooLargeError:
        raise NoiseFileError(f"noise file {path}: larger than {MAX_NOISE_BYTES} bytes") from None
    except UnicodeDecodeError as error:
        raise NoiseFileError(f"noise file {path}: not UTF-8 (byte {error.start})") from None
    lines = text.splitlines()
    if len(lines) > MAX_NOISE_LINES:
        raise NoiseFileError(f"noise file {path}: more than {MAX_NOISE_LINES} lines")
    anywhere = set(defaults.anywhere)
    scoped: set[tuple[str, str]] = set()
    for line in lines:
        entry = parse_line(line)
        if entry is None:
            continue
        family, value = entry
        if family is None:
            anywhere.add(value)
        else:
            scoped.add((family, value))
    return Noise(anywhere=frozenset(anywhere), by_family=frozenset(scoped))
