"""README stays true: the schema section is the generated one, and every CLI option is documented."""

from __future__ import annotations

from pathlib import Path

from ingest.cli import main
from manifests.docs import schema_markdown

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_schema_section_is_current() -> None:
    assert schema_markdown() in README, "run `python -m manifests.docs` and paste its output into README.md"


def test_every_ingest_option_is_documented() -> None:
    command = main.commands["ingest"]
    options = [opt for param in command.params for opt in getattr(param, "opts", []) if opt.startswith("--")]
    assert len(options) == 17
    missing = [opt for opt in options if opt not in README]
    assert missing == []


def test_exit_codes_documented() -> None:
    for code in ("| 0 |", "| 1 |", "| 2 |", "| 3 |"):
        assert code in README


def test_every_command_and_option_is_documented() -> None:
    commands = {"ingest": main.commands["ingest"], "verify": main.commands["verify"], "keys generate": main.commands["keys"].commands["generate"],
                "custody add": main.commands["custody"].commands["add"], "custody show": main.commands["custody"].commands["show"], "report": main.commands["report"],
                "chats": main.commands["chats"], "query": main.commands["query"], "correlate": main.commands["correlate"],
                "timeline": main.commands["timeline"], "search": main.commands["search"],
                "hashset import": main.commands["hashset"].commands["import"], "hashset match": main.commands["hashset"].commands["match"],
                "case ingest": main.commands["case"].commands["ingest"]}
    for name, command in commands.items():
        assert f"exhibit {name}" in README, name
        options = [opt for param in command.params for opt in getattr(param, "opts", []) if opt.startswith("--")]
        assert [opt for opt in options if opt not in README] == [], name
