"""Times as integers of nanoseconds since 1970 UTC: how case commands read, compare and print them.

DuckDB gives `epoch_ns(...)` exactly, where a Python datetime would drop the nanoseconds; printing
from the integer keeps the source's precision (a FAT time prints whole seconds, an ext4 time nine
digits), because no digit is shown that the value does not carry.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
NS_PER_SECOND = 1_000_000_000


INT64_MAX = 2**63 - 1


def epoch_ns_sql(column: str) -> str:
    """SQL for a timestamp column as integer nanoseconds, the stored value kept at the int64 limits.

    DuckDB reads a stored int64 maximum (2262-04-11T23:47:16.854775807Z) as `infinity` and one above
    the minimum as `-infinity`, and `epoch_ns` of either is NULL: a time that is there would read as
    no time. Those two are given back as the integers that were stored (+-(2**63 - 1)). `column`
    is a fixed column name of the code, never user text."""
    return (f"CASE WHEN {column} IS NOT NULL THEN coalesce(epoch_ns({column}), CASE WHEN CAST({column} AS TIMESTAMPTZ) > "
            f"TIMESTAMPTZ '1970-01-01 00:00:00+00' THEN {INT64_MAX} ELSE -{INT64_MAX} END) END")


class NaiveTimeError(ValueError):
    """A time given without a UTC offset: which zone it meant cannot be known."""


def iso_utc(ns: int) -> str:
    """ISO 8601 in UTC with `+00:00`, and only as many fraction digits (0, 3, 6 or 9) as the value needs."""
    seconds, fraction = divmod(ns, NS_PER_SECOND)
    moment = _EPOCH + timedelta(seconds=seconds)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        if fraction % 1_000_000 == 0:
            text += f".{fraction // 1_000_000:03d}"
        elif fraction % 1_000 == 0:
            text += f".{fraction // 1_000:06d}"
        else:
            text += f".{fraction:09d}"
    return text + "+00:00"


def parse_utc(text: str) -> int:
    """An ISO 8601 time with its UTC offset (`Z` or `+01:00`) as nanoseconds since 1970 UTC.

    Up to nine fraction digits are kept exactly, after a full stop or a comma (ISO 8601 allows both:
    `2024-01-01T00:00:00,5Z`). A time without an offset is refused
    (NaiveTimeError), and so is anything that is not ISO 8601 (ValueError)."""
    value = text.strip()
    fraction_ns = 0
    main = value
    dot = min((i for i in (value.find("."), value.find(",")) if i != -1), default=-1)
    if dot != -1:
        end = dot + 1
        while end < len(value) and value[end].isdigit():
            end += 1
        digits = value[dot + 1:end]
        if not digits or len(digits) > 9:
            raise ValueError(f"not an ISO 8601 time: {text!r}")
        fraction_ns = int(digits.ljust(9, "0"))
        main = value[:dot] + value[end:]
    try:
        moment = datetime.fromisoformat(main)
    except ValueError:
        raise ValueError(f"not an ISO 8601 time: {text!r}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise NaiveTimeError(f"time has no UTC offset (add Z or +HH:MM): {text!r}")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * NS_PER_SECOND + delta.microseconds * 1_000 + fraction_ns
