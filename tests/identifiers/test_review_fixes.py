"""The review's findings on the extractor, each held by exact rows: both budget notices, IBANs back to
back, offsets of repeated values and of a handle named like its host, WhatsApp link numbers, a 1 MiB
field of URLs, and a quoted boolean in the configuration."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ingest.cli import main
from parsers.identifiers import phones
from parsers.identifiers.base import TEXT, Context
from parsers.identifiers.registry import extract


def _iban(country: str, bban: str) -> str:
    """A valid IBAN for `bban`: check digits computed by ISO 13616 mod 97, not copied from anywhere."""
    moved = bban + country + "00"
    number = int("".join(str(int(ch, 36)) for ch in moved))
    return f"{country}{98 - number % 97:02d}{bban}"


def _ibans(text: str) -> list[tuple[str, str, int]]:
    result = extract(text, Context(TEXT))
    assert result.limits == ()
    return [(h.found.value, h.found.raw, h.found.start) for h in result.hits if h.found.kind == "iban"]


def test_the_check_digits_helper_matches_the_standards_example() -> None:
    assert _iban("GB", "WEST12345698765432") == "GB82WEST12345698765432"


@pytest.mark.parametrize("gap", [" ", "\n", ", "])
def test_back_to_back_ibans_give_two_rows(gap: str) -> None:
    first, second = _iban("DE", "370400440532013000"), _iban("NL", "ABNA0417164300")
    text = f"{first}{gap}{second}"
    assert _ibans(text) == [(first, first, 0), (second, second, len(first) + len(gap))]


def test_glued_ibans_give_two_rows_and_five_hundred_give_five_hundred() -> None:
    first, second = _iban("DE", "370400440532013000"), _iban("GB", "WEST12345698765432")
    assert _ibans(first + second) == [(first, first, 0), (second, second, 22)]
    many = "".join(_iban("DE", f"{37040044:08d}{n:010d}") for n in range(500))
    rows = _ibans(many)
    assert len(rows) == 500 and [start for _, _, start in rows] == [22 * n for n in range(500)]


def test_a_repeated_handle_has_each_occurrence_at_its_own_offset() -> None:
    text = "see instagram.com/foo and instagram.com/foo and instagram.com/foo"
    hits = extract(text, Context(TEXT)).hits
    handles = [(h.found.value, h.found.start) for h in hits if h.found.kind == "handle"]
    assert [start for _, start in handles] == [18, 40, 62]
    for hit in hits:
        assert text[hit.found.start:hit.found.end] == hit.found.raw


def test_a_handle_named_like_its_host_is_found_in_the_path() -> None:
    text = "at https://x.com/x now"
    handles = [(h.found.value, h.found.raw, h.found.start) for h in extract(text, Context(TEXT)).hits if h.found.kind == "handle"]
    assert [start for _, _, start in handles] == [text.index("/x ") + 1]


@pytest.mark.parametrize("link", ["https://wa.me/+63 917 123 4567", "https://wa.me/639171234567",
                                  "https://api.whatsapp.com/send?phone=639171234567"])
def test_whatsapp_links_give_the_phone(link: str) -> None:
    text = f"message me {link} today"
    phones_found = {h.found.value for h in extract(text, Context(TEXT)).hits if h.found.kind == "phone"}
    assert phones_found == {"+639171234567"}


def test_a_whatsapp_link_with_an_invalid_number_gives_no_phone() -> None:
    assert [h for h in extract("https://wa.me/6300000", Context(TEXT)).hits if h.found.kind == "phone"] == []


def test_both_budget_notices_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(phones, "MAX_TRIES", 5)
    text = ", ".join(f"0917 123 456{n}" for n in range(5)) + " " + "12 34 " * 20
    result = extract(text, Context(TEXT, ("PH",)), max_hits=3)
    kinds = [limit.kind for limit in result.limits]
    assert "identifier_limit" in kinds and "identifier_tries_exhausted" in kinds
    assert len(result.hits) == 3


def test_a_megabyte_of_urls_gives_every_url_once() -> None:
    unit = "http://10.0.0.1/p?a=b c "
    text = unit * ((1 << 20) // len(unit))
    result = extract(text, Context(TEXT))
    urls = [h for h in result.hits if h.found.kind == "url"]
    assert len(urls) == 1000 and [u.found.start for u in urls[:3]] == [0, len(unit), 2 * len(unit)]
    # the digits of the hosts also run down the phone matcher's own budget, and that is said too
    assert [limit.kind for limit in result.limits] == ["identifier_tries_exhausted", "identifier_limit"]


@pytest.mark.parametrize("section", ["identifiers", "chats", "media"])
def test_a_quoted_boolean_is_a_configuration_error(tmp_path: Path, section: str) -> None:
    (tmp_path / "evidence").mkdir()
    (tmp_path / "evidence" / "a.txt").write_bytes(b"a")
    config = tmp_path / "bad.toml"
    config.write_text(f'[{section}]\nenabled = "false"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["ingest", str(tmp_path / "evidence"), "--case", "C", "--exhibit", "E", "--out",
                                       str(tmp_path / "cases"), "--config", str(config)])
    assert result.exit_code == 2
    assert f"[{section}] enabled must be true or false" in result.output
    assert not (tmp_path / "cases").exists() or not any((tmp_path / "cases").rglob("manifest.json"))
