"""Every chat parser, found by importing each module of this package that binds `PARSER`.

Adding an app is adding a module; the order is by parser name, so runs are deterministic.
"""

from __future__ import annotations

from functools import cache

import parsers.chat as package
from parsers.chat.base import ChatParser, FileChatParser, SqliteChatParser
from parsers.discovery import discover


@cache
def all_parsers() -> tuple[ChatParser, ...]:
    return discover(package, "PARSER", ChatParser, "exhibit.chat_parsers")


def sqlite_parsers() -> tuple[SqliteChatParser, ...]:
    return tuple(p for p in all_parsers() if isinstance(p, SqliteChatParser))


def file_parsers() -> tuple[FileChatParser, ...]:
    return tuple(p for p in all_parsers() if isinstance(p, FileChatParser))


def by_name(name: str) -> ChatParser:
    for parser in all_parsers():
        if parser.name == name:
            return parser
    raise KeyError(name)
