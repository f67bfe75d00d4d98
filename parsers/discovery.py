"""Find plug-in objects by importing every module of a package: adding a parser is adding a module.

Modules whose names start with `_` are skipped (private helpers, work in progress). A lab's own
parsers and readers, kept outside this repository, are found the way Python plug-ins usually are:
an installed distribution declares them under an entry point group (`exhibit.chat_parsers`,
`exhibit.media_readers`), naming either the object (`mylab.chat:PARSER`) or a module binding the
attribute (`mylab.chat`). The result is sorted by the objects' `name`, so every run uses the same
order, and two objects sharing a name are an error rather than one silently hiding the other.
"""

from __future__ import annotations

import importlib
import pkgutil
from importlib.metadata import entry_points
from types import ModuleType
from typing import TypeVar

T = TypeVar("T")


class PluginError(ValueError):
    """A parser or reader cannot be used: an installed entry point that does not load or is of
    another kind, or two that share a name. Named before any evidence is opened."""


def discover(package: ModuleType, attribute: str, kind: type[T], group: str | None = None) -> tuple[T, ...]:
    """Every `attribute` bound by a module of `package` or named by entry point `group`, checked to be a `kind`, names unique."""
    found: list[T] = []
    for module_info in pkgutil.iter_modules(package.__path__):
        if module_info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        value = getattr(module, attribute, None)
        if value is None:
            continue
        found.append(_checked(value, f"{module.__name__}.{attribute}", kind))
    if group is not None:
        found.extend(_plugins(group, attribute, kind))
    names = [v.name for v in found]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise PluginError(f"two {kind.__name__}s share a name: {', '.join(duplicates)}")
    return tuple(sorted(found, key=lambda v: v.name))


def _plugins(group: str, attribute: str, kind: type[T]) -> list[T]:
    """The objects installed distributions declare under entry point `group` (a module: its `attribute`)."""
    found: list[T] = []
    for point in sorted(entry_points(group=group), key=lambda p: (p.name, p.value)):
        try:
            value = point.load()
        except (ImportError, AttributeError, SyntaxError) as error:
            raise PluginError(f"entry point {group}:{point.name} ({point.value}) does not load: {type(error).__name__}: {error}") from error
        if isinstance(value, ModuleType):
            value = getattr(value, attribute, None)
        found.append(_checked(value, f"entry point {group}:{point.name} ({point.value})", kind))
    return found


def _checked(value: object, where: str, kind: type[T]) -> T:
    if not isinstance(value, kind):
        raise PluginError(f"{where} is not a {kind.__name__}")
    return value
