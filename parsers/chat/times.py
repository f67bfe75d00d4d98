"""Epoch conversions used by chat stores, to integer nanoseconds since 1970 UTC.

Each converter keeps the source's precision (integer arithmetic where the source is integral) and
raises ValueError for a value outside 1970..2100, which the caller records as a warning while
keeping the raw value: a wrong year in a chat is evidence too, never silently "fixed".
"""

from __future__ import annotations

from decimal import Decimal

NS = 1_000_000_000
UNIX_1601 = -11_644_473_600  # seconds from 1970-01-01 back to 1601-01-01 (Windows, WebKit)
COCOA_2001 = 978_307_200  # seconds from 1970-01-01 to 2001-01-01 (Apple Cocoa / Core Data)
LOW = 0
HIGH = 4_102_444_800 * NS  # 2100-01-01


def _checked(ns: int, raw: object, unit: str) -> int:
    if not LOW <= ns < HIGH:
        raise ValueError(f"{raw!r} as {unit} is outside 1970..2100")
    return ns


def _scaled(value: int | float | str, per_second: int) -> int:
    """value / per_second seconds, as exact integer nanoseconds (floats through their decimal text)."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a time")
    if isinstance(value, int):
        return value * NS // per_second
    exact = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
    return int(exact * NS / per_second)


def unix_seconds(value: int | float | str) -> int:
    return _checked(_scaled(value, 1), value, "Unix seconds")


def unix_ms(value: int | float | str) -> int:
    return _checked(_scaled(value, 1000), value, "Unix milliseconds")


def unix_us(value: int | float | str) -> int:
    return _checked(_scaled(value, 1_000_000), value, "Unix microseconds")


def unix_ns(value: int | str) -> int:
    return _checked(_scaled(value, NS), value, "Unix nanoseconds")


def cocoa_seconds(value: int | float | str) -> int:
    """Seconds since 2001-01-01 (Core Data timestamps, CFAbsoluteTime)."""
    return _checked(_scaled(value, 1) + COCOA_2001 * NS, value, "Cocoa seconds")


def cocoa_ns(value: int | str) -> int:
    return _checked(_scaled(value, NS) + COCOA_2001 * NS, value, "Cocoa nanoseconds")


def cocoa_auto(value: int | float | str) -> int:
    """iOS Messages: seconds since 2001 before iOS 11, nanoseconds since; told apart by magnitude."""
    number = float(value)
    return cocoa_ns(int(value)) if abs(number) > 1e12 else cocoa_seconds(value)


def webkit_us(value: int | str) -> int:
    """Microseconds since 1601-01-01 (Chrome/WebKit, some Google apps)."""
    return _checked(_scaled(value, 1_000_000) + UNIX_1601 * NS, value, "microseconds since 1601")


def filetime(value: int | str) -> int:
    """Windows FILETIME: 100-nanosecond ticks since 1601-01-01."""
    return _checked(_scaled(value, 10_000_000) + UNIX_1601 * NS, value, "FILETIME")


def iso_text(ns: int | None) -> str | None:
    """ISO 8601 UTC text of a nanosecond time (for display and tests), trailing zeros trimmed."""
    if ns is None:
        return None
    from datetime import datetime, timezone

    seconds, fraction = divmod(ns, NS)
    stamp = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        stamp += "." + f"{fraction:09d}".rstrip("0")
    return stamp + "Z"
