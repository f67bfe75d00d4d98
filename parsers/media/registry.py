"""Every media reader, found by importing each module of this package that binds `READER`."""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

import parsers.media as package
from parsers.media.base import MediaReader


@cache
def all_readers() -> tuple[MediaReader, ...]:
    found: list[MediaReader] = []
    for module_info in pkgutil.iter_modules(package.__path__):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        reader = getattr(module, "READER", None)
        if reader is None:
            continue
        if not isinstance(reader, MediaReader):
            raise TypeError(f"{module.__name__}.READER is not a MediaReader")
        found.append(reader)
    names = [r.name for r in found]
    if len(set(names)) != len(names):
        raise ValueError(f"two media readers share a name: {sorted(names)}")
    return tuple(sorted(found, key=lambda r: r.name))
