"""Renamed copies of corpus chat databases at odd paths (a backup folder, another name, no extension) give
the same messages as the originals, by schema alone; an unknown message-like database beside them gives
`chat_store_unrecognised`. The copies are made in the test's tmp_path, never in the corpus or the repo."""

from __future__ import annotations

import csv
import shutil
from collections import Counter
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from ingest.cli import main
from parsers.sqlite_store import schema_fingerprint
from tests.chat.helpers import build_database, parse_files
from tests.chat.test_corpus_chats import EXPECTED, WHATSAPP_PLACEHOLDER
from tests.corpus import require_corpus

# corpus path -> (renamed path in the test's folder, parser that must read it)
RENAMED: dict[str, tuple[str, str]] = {
    "log2timeline__plaso/test_data/android/mmssms.db": ("Backup 2013/old phone/texts.sqlite", "android_sms"),
    "sepinf-inc__IPED/iped-parsers/iped-parsers-impl/src/test/resources/test-files/test_whatsAppMsgStore.db":
        ("restore/2021/chats copy.db", "whatsapp_android"),
    "amandawills__CS426-iphone-sms-forensics/sms.db": ("iTunes copy/3d/3d0d7e5fb2ce", "apple_messages"),
    "abrignoni__iLEAPP/admin/test/cases/data/whatsApp/testdata.whatsApp.whatsAppMessages.josh_ios15_ffs.zip.extracted/filesystem2/mobile/"
    "Containers/Shared/AppGroup/694FBBC5-2E69-480A-A25B-FF8CC038BEF8/ChatStorage.sqlite": ("Desktop/wa-ios.sqlite", "whatsapp_ios"),
    "log2timeline__plaso/test_data/android/viber_data": ("sdcard/backups/viber/calls.bin", "viber"),
    "log2timeline__plaso/test_data/ios/kik.sqlite": ("misc/k.db", "kik"),
    "log2timeline__plaso/test_data/tango_android_tc.db": ("sdcard/Download/tc-backup.sqlite", "tango"),
    "log2timeline__plaso/test_data/android/babel.db": ("export/hangouts_2017.sqlite", "hangouts"),
}
UNKNOWN = "sdcard/NewChat/store.db"
# messages.parquet columns that name where a row came from: the only ones that may differ.
WHERE = ("message_index", "path", "path_bytes", "entry_index")


def _expected_messages(root: Path, relative: str) -> int:
    """CHATS.tsv's count, less WhatsApp's placeholder row where the store has one (see test_corpus_chats)."""
    return _listed_counts(root)[relative] - _placeholders(root, relative)


def _placeholders(root: Path, relative: str) -> int:
    """WhatsApp's placeholder rows in a corpus store: CHATS.tsv counts them, Exhibit gives an info row instead."""
    parsers, listed, why = EXPECTED[relative]
    return listed - sum(parsers.values()) if why == WHATSAPP_PLACEHOLDER else 0


def _listed_counts(root: Path) -> dict[str, int]:
    with open(root / "CHATS.tsv", newline="", encoding="utf-8") as handle:
        return {row["local_path"]: int(row["message_count"]) for row in csv.DictReader(handle, delimiter="\t")}


def _copy(source: Path, target: Path) -> None:
    """The database and its -wal/-journal/-shm siblings, under the new name."""
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-journal", "-shm"):
        sibling = source.with_name(source.name + suffix)
        if sibling.is_file():
            shutil.copyfile(sibling, target.with_name(target.name + suffix))


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(corpus root, originals under their corpus paths, renamed copies plus one unknown chat-like database)."""
    root = require_corpus()
    base = tmp_path_factory.mktemp("renamed")
    originals, renamed = base / "originals", base / "renamed"
    for relative, (new_name, _) in RENAMED.items():
        _copy(root / relative, originals / relative)
        _copy(root / relative, renamed / new_name)
    unknown = renamed / UNKNOWN
    unknown.parent.mkdir(parents=True)
    build_database(unknown, "CREATE TABLE entries (id INTEGER PRIMARY KEY, body TEXT, sent_at INTEGER);",
                   {"entries": [(i, f"hi {i}", 1_700_000_000 + i) for i in range(1, 13)]})
    return root, originals, renamed


@pytest.mark.parametrize("relative", sorted(RENAMED))
def test_renamed_copy_gives_the_original_messages(folders: tuple[Path, Path, Path], relative: str) -> None:
    root, _, renamed = folders
    new_name, parser = RENAMED[relative]
    original = parse_files(root / relative)
    copy = parse_files(renamed / new_name)
    assert len(copy.messages) == _expected_messages(root, relative)
    assert copy.parser_names() == {parser}
    assert [(p.parser.name, p.record_state, p.message) for p in copy.parsed] == \
        [(p.parser.name, p.record_state, p.message) for p in original.parsed]
    assert copy.warnings == original.warnings
    # WhatsApp's placeholder rows give info rows (one per table that has one); nothing else is said.
    assert {w.kind for w in copy.warnings} == ({"placeholder_row"} if _placeholders(root, relative) else set())


def _ingest(source: Path, out: Path) -> Path:
    result = CliRunner().invoke(main, ["ingest", str(source), "--case", "OP-1", "--exhibit", "X1", "--out", str(out), "--workers", "2"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return out / "OP-1" / "X1"


def _rows_without_where(exhibit: Path) -> list[tuple]:
    table = pq.read_table(exhibit / "messages.parquet")
    columns = {name: (column.cast(pa.int64()) if pa.types.is_timestamp(column.type) else column)  # nanoseconds, as stored
               for name, column in zip(table.column_names, table.columns, strict=True) if name not in WHERE}
    rows = pa.table(columns).to_pylist()
    return sorted(repr(sorted(row.items())) for row in rows)


def test_ingested_folder_of_renamed_copies(folders: tuple[Path, Path, Path], tmp_path: Path) -> None:
    root, originals, renamed = folders
    copied = _ingest(renamed, tmp_path / "renamed-cases")
    parsers = Counter(pq.read_table(copied / "messages.parquet", columns=["parser"]).column("parser").to_pylist())
    assert dict(parsers) == {parser: _expected_messages(root, relative) for relative, (_, parser) in RENAMED.items()}
    original = _ingest(originals, tmp_path / "original-cases")
    assert _rows_without_where(copied) == _rows_without_where(original)
    errors = pq.read_table(copied / "errors.parquet").to_pylist()
    unknown = [e for e in errors if e["error_kind"] == "chat_store_unrecognised"]
    assert len(unknown) == 1 and unknown[0]["stage"] == "parse" and unknown[0]["severity"] == "warning"
    fingerprint = schema_fingerprint({"entries": frozenset({"id", "body", "sent_at"})})
    assert unknown[0]["message"] == (f"/{UNKNOWN}: looks like a message store but no chat parser reads it (schema fingerprint "
                                     f"{fingerprint}; message-like tables: entries (text column body, time column sent_at, "
                                     "at least 10 rows); tables: entries)")
    said = sorted((e["error_kind"], e["store_table"], e["store_row_id"]) for e in errors if e["stage"] == "parse" and e is not unknown[0])
    said_of_originals = sorted((e["error_kind"], e["store_table"], e["store_row_id"]) for e in pq.read_table(original / "errors.parquet").to_pylist()
                               if e["stage"] == "parse")
    assert said == said_of_originals and {kind for kind, _, _ in said} == {"placeholder_row"}
