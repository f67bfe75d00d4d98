"""A small NSKeyedArchiver unarchiver on top of the standard library's plistlib.

Apple's NSKeyedArchiver writes a binary plist whose `$objects` array holds every object once and
refers to others by UID; `$top` names the roots. Apple documents the format only through the
Foundation API (NSKeyedArchiver / NSKeyedUnarchiver); the layout facts used here (`$archiver`,
`$top`, `$objects`, `$class` -> `{$classname, $classes}`, `$null` at index 0, `NS.keys` /
`NS.objects` for collections, `NS.time` for NSDate as seconds since 2001, `NS.string` /
`NS.bytes` / `NS.data` for mutable strings and data) are common knowledge of the format, written
here in our own words.

The result is plain Python: archived objects become `Archived` dicts (their keys exactly as the
archive stores them, plus `classname`), collections become lists / dicts, NSDate becomes a
`CocoaDate` holding the stored seconds, NSURL its text (base + relative), UID 0 (`$null`) becomes None. Cycles are broken by
returning the same `Archived` object already being built.
"""

from __future__ import annotations

import plistlib
from dataclasses import dataclass
from typing import Any

NULL = "$null"
LIST_CLASSES = {"NSArray", "NSMutableArray", "NSSet", "NSMutableSet", "NSOrderedSet", "NSMutableOrderedSet"}
DICT_CLASSES = {"NSDictionary", "NSMutableDictionary"}
STRING_CLASSES = {"NSString", "NSMutableString"}
DATA_CLASSES = {"NSData", "NSMutableData"}


class ArchiveError(ValueError):
    """The bytes are not a readable NSKeyedArchiver plist (bad plist, missing keys, bad UID)."""


@dataclass(frozen=True)
class CocoaDate:
    """An NSDate: `seconds` since 2001-01-01 UTC exactly as archived (a float)."""

    seconds: float


class Archived(dict):
    """An archived object: its stored keys (e.g. 'NSString*senderPk') and `classname`."""

    classname: str = ""

    def field(self, name: str, default: Any = None) -> Any:
        """The value whose key is `name` or ends with '*name' / a type prefix then `name`.

        Swift/ObjC ivar-based coders store keys such as 'NSString*text' or
        'IGDirectMessageCollectionSaveIconStatecollectionSaveIconState'; callers ask by ivar name.
        """
        if name in self:
            return self[name]
        for key, value in self.items():
            if isinstance(key, str) and key.endswith("*" + name):
                return value
        for key, value in self.items():
            # Scalar ivars carry their type glued on: 'BOOLisShhMode', 'NSUIntegerrawThreadSubtype'.
            if isinstance(key, str) and key.endswith(name) and key[: -len(name)].isidentifier() and key[: -len(name)][:1].isupper():
                return value
        return default


def unarchive(data: bytes) -> Any:
    """The root object of an NSKeyedArchiver blob (`$top`'s `root`, else its only entry)."""
    try:
        plist = plistlib.loads(data)
    except (plistlib.InvalidFileException, ValueError, OverflowError, KeyError, IndexError, TypeError) as error:
        raise ArchiveError(f"not a readable plist: {type(error).__name__}: {error}") from error
    if not isinstance(plist, dict) or "$objects" not in plist or "$top" not in plist:
        raise ArchiveError("plist is not an NSKeyedArchiver archive (no $objects / $top)")
    objects = plist["$objects"]
    top = plist["$top"]
    if not isinstance(objects, list) or not isinstance(top, dict) or not top:
        raise ArchiveError("malformed $objects or $top")
    root = top.get("root", next(iter(top.values())))
    try:
        return _Resolver(objects).value(root)
    except (TypeError, AttributeError, ValueError, RecursionError) as error:  # a damaged archive: wrong shapes where refs belong
        raise ArchiveError(f"malformed archive: {type(error).__name__}: {error}") from error


class _Resolver:
    """Turns UIDs into Python values, each object once (so shared and cyclic references hold)."""

    def __init__(self, objects: list[Any]) -> None:
        self.objects = objects
        self.done: dict[int, Any] = {}

    def value(self, item: Any) -> Any:
        if isinstance(item, plistlib.UID):
            return self.resolve(item.data)
        if isinstance(item, list):
            return [self.value(i) for i in item]
        if isinstance(item, dict):
            return {k: self.value(v) for k, v in item.items()}
        return item

    def resolve(self, index: int) -> Any:
        if index in self.done:
            return self.done[index]
        if not 0 <= index < len(self.objects):
            raise ArchiveError(f"UID {index} outside $objects (size {len(self.objects)})")
        raw = self.objects[index]
        if raw == NULL and index == 0:
            return None
        if not isinstance(raw, dict) or "$class" not in raw:
            self.done[index] = raw
            return raw
        classname = self._classname(raw["$class"])
        if classname in LIST_CLASSES:
            result: Any = []
            self.done[index] = result
            result.extend(self.value(i) for i in raw.get("NS.objects", []))
            return result
        if classname in DICT_CLASSES:
            keys = [self.value(k) for k in raw.get("NS.keys", [])]
            values = [self.value(v) for v in raw.get("NS.objects", [])]
            if len(keys) != len(values):
                raise ArchiveError(f"{classname} at {index}: {len(keys)} keys but {len(values)} values")
            result = dict(zip(keys, values, strict=True))
            self.done[index] = result
            return result
        if classname in ("NSDate",) and "NS.time" in raw:
            result = CocoaDate(raw["NS.time"])
        elif classname in STRING_CLASSES and "NS.string" in raw:
            result = raw["NS.string"]
        elif classname in DATA_CLASSES and ("NS.data" in raw or "NS.bytes" in raw):
            result = raw.get("NS.data", raw.get("NS.bytes"))
        elif classname in ("NSURL",) and "NS.relative" in raw:
            base = self.value(raw.get("NS.base"))
            relative = self.value(raw["NS.relative"])
            result = relative if base is None else f"{base}{relative}"
        elif classname in ("NSUUID",) and "NS.uuidbytes" in raw:
            result = raw["NS.uuidbytes"]
        else:
            result = Archived()
            result.classname = classname
            self.done[index] = result
            for key, value in raw.items():
                if key != "$class":
                    result[key] = self.value(value)
            return result
        self.done[index] = result
        return result

    def _classname(self, uid: Any) -> str:
        if not isinstance(uid, plistlib.UID) or not 0 <= uid.data < len(self.objects):
            raise ArchiveError(f"bad $class reference {uid!r}")
        described = self.objects[uid.data]
        if not isinstance(described, dict) or not isinstance(described.get("$classname"), str):
            raise ArchiveError(f"$class {uid.data} has no $classname")
        return described["$classname"]
