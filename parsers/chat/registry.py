"""Every chat parser, found by importing each module of this package that binds `PARSER`.

Adding an app is adding a module; the order is by parser name, so runs are deterministic.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import cache

import parsers.chat as package
from parsers.chat.base import ChatParser, FileChatParser, SqliteChatParser


@cache
def all_parsers() -> tuple[ChatParser, ...]:
    found: list[ChatParser] = []
    for module_info in pkgutil.iter_modules(package.__path__):
        if module_info.name.startswith("_"):
            continue  # work in progress or private helpers
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        parser = getattr(module, "PARSER", None)
        if parser is None:
            continue
        if not isinstance(parser, ChatParser):
            raise TypeError(f"{module.__name__}.PARSER is not a ChatParser")
        found.append(parser)
    names = [p.name for p in found]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"two chat parsers share a name: {duplicates}")
    return tuple(sorted(found, key=lambda p: p.name))


def sqlite_parsers() -> tuple[SqliteChatParser, ...]:
    return tuple(p for p in all_parsers() if isinstance(p, SqliteChatParser))


def file_parsers() -> tuple[FileChatParser, ...]:
    return tuple(p for p in all_parsers() if isinstance(p, FileChatParser))


def by_name(name: str) -> ChatParser:
    for parser in all_parsers():
        if parser.name == name:
            return parser
    raise KeyError(name)
