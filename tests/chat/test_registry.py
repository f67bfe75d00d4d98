"""The registry itself: every parser found, named once, declared fully, tested and documented."""

from __future__ import annotations

from pathlib import Path

from parsers.chat.base import FileChatParser, SqliteChatParser
from parsers.chat.registry import all_parsers, by_name, file_parsers, sqlite_parsers

ROOT = Path(__file__).resolve().parent.parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_module_binding_parser_is_registered() -> None:
    modules = sorted(p.stem for p in (ROOT / "parsers" / "chat").glob("*.py")
                     if not p.stem.startswith("_") and "\nPARSER = " in p.read_text(encoding="utf-8"))
    registered = sorted(type(p).__module__.rsplit(".", 1)[1] for p in all_parsers())
    assert registered == modules
    assert len(all_parsers()) == len(sqlite_parsers()) + len(file_parsers()) == 47


def test_declarations_are_complete() -> None:
    for parser in all_parsers():
        assert parser.name and parser.version and parser.app and parser.platform, parser
        assert parser.paths, f"{parser.name} declares no paths"
        assert by_name(parser.name) is parser
        if isinstance(parser, SqliteChatParser):
            assert parser.variants or parser.schema_undocumented, f"{parser.name} declares no schema variant"
            assert not (parser.variants and parser.schema_undocumented), parser.name
            for variant in parser.variants:
                assert variant.required and all(variant.required.values()), (parser.name, variant.name)
        else:
            assert isinstance(parser, FileChatParser)


def test_every_parser_has_a_test_module_that_names_it() -> None:
    for parser in all_parsers():
        module = type(parser).__module__.rsplit(".", 1)[1]
        test = ROOT / "tests" / "chat" / f"test_{module}.py"
        assert test.is_file(), f"{parser.name}: {test} is missing"
        text = test.read_text(encoding="utf-8")
        assert "def test_" in text and ("assert" in text), parser.name


def test_every_parser_is_documented_in_the_readme() -> None:
    missing = [p.name for p in all_parsers() if f"`{p.name}`" not in README]
    assert missing == []
