"""`exhibit chats` reads only exhibits whose seal holds (as `exhibit query` does), unless --unverified; a
messages.parquet tampered with, linked, truncated, type-confused or copied from another exhibit is never
printed as evidence of its folder, and never stops the other exhibits (exit 1, never 3). --since/--until
take the whole range of years 1-9999 and a comma as the decimal separator."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from case.search import parse_time
from ingest.cli import main
from tests.test_chat_view import build_case

JS2_BLOCK = ["== JS/2 | Android SMS/MMS | conversation c9 | 1 message, 2026-03-05 12:00:00Z to 2026-03-05 12:00:00Z | /msgstore.db",
             "2026-03-05 12:00:00Z <- Juan <+639170000001>: STRASSE und péra  (message#10)"]
UNSIGNED = ("signatures not checked (no --trusted-key): seals and the custody chain were recomputed, "
            "but a manifest or ledger rewritten and resealed by anyone would pass")


@pytest.fixture()
def case(tmp_path: Path) -> Path:
    """The case of tests/test_chat_view.py."""
    return build_case(tmp_path)


def _chats(*args: str) -> tuple[int, list[str], list[str]]:
    result = CliRunner().invoke(main, ["chats", *args])
    return result.exit_code, [line for line in result.stdout.splitlines() if line], result.stderr.splitlines()


def test_chats_says_how_many_exhibits_it_read(case: Path) -> None:
    code, out, err = _chats(str(case))
    assert (code, len(out), err) == (0, 9, ["read 2 exhibit(s): JS/1, JS/2", UNSIGNED, "6 messages"])


def test_a_tampered_part_is_skipped_and_read_only_with_unverified(case: Path) -> None:
    part = case / "JS%2F1" / "messages.parquet"
    table = pq.read_table(part)
    pq.write_table(table.set_column(table.schema.get_field_index("body"), "body", pa.array(["planted"] * table.num_rows)), part)
    code, out, err = _chats(str(case))
    assert (code, out) == (1, JS2_BLOCK)
    assert err[0] == "read 1 exhibit(s): JS/2"
    assert err[1].startswith("skipped JS/1: its manifest does not verify: ")
    assert err[-1] == "1 message"
    code, out, err = _chats(str(case), "--unverified")
    assert (code, len(out), err[0], err[-1]) == (0, 9, "read 2 exhibit(s): JS/1, JS/2", "6 messages")  # read as asked
    assert err[1].startswith("read JS/1 UNVERIFIED (--unverified): its manifest does not verify: ")
    assert sum("planted" in line for line in out) == 5


def test_a_linked_part_is_never_followed(case: Path, tmp_path: Path) -> None:
    part = case / "JS%2F1" / "messages.parquet"
    outside = tmp_path / "elsewhere.parquet"
    shutil.move(part, outside)
    part.symlink_to(outside)
    code, out, err = _chats(str(case))
    assert (code, out, err[0], err[-1]) == (1, JS2_BLOCK, "read 1 exhibit(s): JS/2", "1 message")
    code, out, err = _chats(str(case), "--unverified")
    assert (code, out, err[-2:]) == (1, JS2_BLOCK, ["JS/1: messages.parquet is not a regular file (a link or a device); not read", "1 message"])


def test_a_truncated_or_type_confused_part_costs_only_itself(case: Path) -> None:
    part = case / "JS%2F1" / "messages.parquet"
    data = part.read_bytes()
    part.write_bytes(data[: len(data) // 2])
    code, out, err = _chats(str(case), "--unverified")
    assert (code, out, err[-1]) == (1, JS2_BLOCK, "1 message")
    assert err[-2].startswith(f"JS/1: {part.absolute()} not read (ArrowInvalid: ")
    confused = pa.table({"exhibit_id": ["JS/1"], "message_index": ["zero"], "app": [7], "parser": [True], "sent_time": ["noon"]})
    pq.write_table(confused, part)
    code, out, err = _chats(str(case), "--unverified")
    assert (code, out, err[-1]) == (1, JS2_BLOCK, "1 message")
    assert err[-2].startswith(f"JS/1: {part.absolute()} not read (")


def test_a_part_copied_from_another_exhibit_shows_its_folder(case: Path) -> None:
    shutil.copyfile(case / "JS%2F2" / "messages.parquet", case / "JS%2F1" / "messages.parquet")
    code, out, err = _chats(str(case), "--unverified")
    assert code == 0  # read as asked; the stored id that disagrees is a warning
    assert out == [JS2_BLOCK[0].replace("JS/2", "JS/1"), JS2_BLOCK[1]] + JS2_BLOCK
    part = (case / "JS%2F1" / "messages.parquet").absolute()
    assert err[-2:] == [f"warning: {part}: stores exhibit id(s) 'JS/2', shown as its folder's 'JS/1'", "2 messages"]


def test_the_whole_range_of_years_and_a_decimal_comma(case: Path) -> None:
    assert _chats(str(case), "--until", "9999-12-31")[0::2] == (0, ["read 2 exhibit(s): JS/1, JS/2", UNSIGNED, "5 messages"])
    assert _chats(str(case), "--since", "0001-01-01")[2][-1] == "5 messages"  # the message without a time is left out
    assert _chats(str(case), "--since", "9999-12-31T23:59:59.999999999Z")[2][-1] == "0 messages"
    assert _chats(str(case), "--until", "0001-01-01T00:00:00Z")[2][-1] == "0 messages"
    assert _chats(str(case), "--since", "2026-03-05T12:00:00,5Z")[2][-1] == "0 messages"
    assert _chats(str(case), "--since", "2026-03-05T11:59:59,999999999+00:00")[2][-1] == "1 message"
    assert parse_time("2024-01-01T00:00:00,5Z") == 1_704_067_200_500_000_000
    assert parse_time("2024-01-01T00:00:00.5Z") == 1_704_067_200_500_000_000
    code, _out, err = _chats(str(case), "--since", "2024-01-01T00:00:00,Z")
    assert (code, err) == (2, ["Error: not an ISO 8601 time: 2024-01-01T00:00:00,Z (e.g. 2026-03-01 or 2026-03-01T08:00:00+08:00)"])
