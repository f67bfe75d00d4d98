"""Find plug-in objects by importing every module of a package: adding a parser is adding a module.

Modules whose names start with `_` are skipped (private helpers, work in progress). The result is
sorted by the objects' `name`, so every run uses the same order.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType
from typing import TypeVar

T = TypeVar("T")


def discover(package: ModuleType, attribute: str, kind: type[T]) -> tuple[T, ...]:
    """Every `attribute` bound by a module of `package`, checked to be a `kind`, names unique."""
    found: list[T] = []
    for module_info in pkgutil.iter_modules(package.__path__):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        value = getattr(module, attribute, None)
        if value is None:
            continue
        if not isinstance(value, kind):
            raise TypeError(f"{module.__name__}.{attribute} is not a {kind.__name__}")
        found.append(value)
    names = [v.name for v in found]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"two {kind.__name__}s share a name: {duplicates}")
    return tuple(sorted(found, key=lambda v: v.name))
