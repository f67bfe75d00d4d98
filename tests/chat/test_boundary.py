"""One bad artefact costs that artefact, never the device: a parser that raises anything becomes one
`parser_failed` row, and a database whose queries never end is stopped by its query budget with a
`query_budget_exceeded` row; in both cases the run completes and every other message is there.

Both go through a real `exhibit ingest` of a folder (one worker, in this process, so that the
parser patched here is the one that runs)."""

from __future__ import annotations

import dataclasses
import inspect
import sqlite3
from pathlib import Path

import pytest

from parsers.artefact import Catalog, HostArtefact
from parsers.chat import android_sms
from parsers.chat.base import ParseContext
from parsers.chat.driver import stream_artefact
from parsers.sqlite_store import open_copy
from tests.chat.helpers import build_database
from tests.chat.test_android_sms import SCHEMA as SMS_SCHEMA
from tests.chat.test_whatsapp_android import CURRENT_DDL, CURRENT_ROWS
from tests.conftest import Ingested, run_ingest

TELEPHONY = "data/data/com.android.providers.telephony/databases"
WHATSAPP = "data/data/com.whatsapp/databases"
SMS_ROWS = {"sms": [(1, 1, "+15550001", 1700000000000, 0, 1, 1, None, "one", None),
                    (2, 1, "+15550001", 1700000100000, 0, 1, 1, None, "two", None),
                    (3, 1, "+15550001", 1700000200000, 0, 1, 1, None, "three", None)]}
ENDLESS_SMS = """
CREATE VIEW sms AS WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)
  SELECT x AS _id, 1 AS thread_id, '+15550001' AS address, 1700000000000 AS date, 0 AS date_sent, 1 AS read, 1 AS type,
         NULL AS subject, 'again' AS body, NULL AS service_center FROM c WHERE x < 0 OR x > 0 ORDER BY x DESC;
"""


def _phone(root: Path, sms_schema: str, sms_rows: dict) -> None:
    """A folder holding an SMS store and a WhatsApp store (the one that must survive)."""
    (root / TELEPHONY).mkdir(parents=True)
    (root / WHATSAPP).mkdir(parents=True)
    build_database(root / TELEPHONY / "mmssms.db", sms_schema, sms_rows)
    build_database(root / WHATSAPP / "msgstore.db", CURRENT_DDL, CURRENT_ROWS)


def _parse_errors(ingested: Ingested) -> list[tuple]:
    return [(e["stage"], e["error_kind"], e["severity"], e["path"], e["parser"], e["store_table"], e["store_row_id"], e["store_field"], e["message"])
            for e in ingested.errors() if e["stage"] == "parse"]


def _messages(ingested: Ingested) -> list[tuple]:
    return [(m["message_index"], m["parser"], m["store_table"], m["store_row_id"]) for m in ingested.table("messages")]


# Rows the schema reading takes from the budget: sqlite_master's 5 names (sqlite_sequence too), then their 10 + 8 + 9 + 6 + 2 columns.
BUDGET_ROWS_FOR_SCHEMA = 5 + 10 + 8 + 9 + 6 + 2
WHATSAPP_MESSAGES = [("whatsapp_android", "message", row_id) for row_id in (2, 3, 4)]


def test_a_parser_that_raises_is_one_error_row_and_the_run_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "phone"
    _phone(source, SMS_SCHEMA, SMS_ROWS)
    original = android_sms.AndroidSms._sms

    def confused(self, row: sqlite3.Row, context: ParseContext):
        if row["_id"] == 2:
            raise AttributeError("'str' object has no attribute 'field'")  # a bug no named exception anticipates
        return original(self, row, context)

    monkeypatch.setattr(android_sms.AndroidSms, "_sms", confused)
    ingested = run_ingest(source, tmp_path / "cases")
    assert ingested.exit_code == 1, ingested.output  # completed, with one error
    path = f"/{TELEPHONY}/mmssms.db"
    assert _parse_errors(ingested) == [
        ("parse", "parser_failed", "error", path, "android_sms", "sms", 2, None,
         f"{path}: parser android_sms (version 1) failed at sms row 2 after 1 messages: AttributeError: 'str' object has no attribute 'field'")]
    # The message read before the failure is kept; the WhatsApp store after it is read in full.
    assert _messages(ingested) == [(0, "android_sms", "sms", 1)] + [(i + 1, *m) for i, m in enumerate(WHATSAPP_MESSAGES)]


def test_a_parser_that_fails_before_its_first_message(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "phone"
    _phone(source, SMS_SCHEMA, SMS_ROWS)

    def broken(self, database, variant, context):
        raise KeyError("no such variant")

    monkeypatch.setattr(android_sms.AndroidSms, "parse", broken)
    ingested = run_ingest(source, tmp_path / "cases")
    assert ingested.exit_code == 1, ingested.output
    path = f"/{TELEPHONY}/mmssms.db"
    assert _parse_errors(ingested) == [
        ("parse", "parser_failed", "error", path, "android_sms", None, None, None,
         f"{path}: parser android_sms (version 1) failed after 0 messages: KeyError: 'no such variant'")]
    assert _messages(ingested) == [(i, *m) for i, m in enumerate(WHATSAPP_MESSAGES)]


def _ingest_with_sms_view(tmp_path: Path, view_sql: str, old_rows: dict, config_text: str) -> Ingested:
    """Ingest the phone folder whose `sms` is the view `view_sql` (the real table renamed sms_old), with `config_text`."""
    source = tmp_path / "phone"
    _phone(source, SMS_SCHEMA.replace("CREATE TABLE sms (", "CREATE TABLE sms_old ("), old_rows)
    connection = sqlite3.connect(source / TELEPHONY / "mmssms.db")
    connection.executescript(view_sql)
    connection.close()
    config = tmp_path / "budget.toml"
    config.write_text(config_text)
    return run_ingest(source, tmp_path / "cases", "--config", str(config))


def test_an_endless_view_is_stopped_by_the_query_budget(tmp_path: Path) -> None:
    """`sms` is a view over a recursive query with no end: the 1 s budget stops it, the run completes."""
    ingested = _ingest_with_sms_view(tmp_path, ENDLESS_SMS, {}, "[chats]\ndatabase_seconds = 1\n")
    assert ingested.exit_code == 0, ingested.output  # a warning, not an error
    path = f"/{TELEPHONY}/mmssms.db"
    assert _parse_errors(ingested) == [
        ("parse", "query_budget_exceeded", "warning", path, "android_sms", None, None, None,
         f"{path}: reading stopped after 0 messages: SQLite worked on this database for more than 1 s")]
    assert _messages(ingested) == [(i, *m) for i, m in enumerate(WHATSAPP_MESSAGES)]


EXPLODING_SMS = """
CREATE TABLE pad (x INTEGER PRIMARY KEY);
WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 1000) INSERT INTO pad SELECT x FROM c;
CREATE VIEW sms AS SELECT a._id AS _id, a.thread_id AS thread_id, a.address AS address, a.date AS date, a.date_sent AS date_sent,
  a.read AS read, a.type AS type, a.subject AS subject, a.body AS body, a.service_center AS service_center
  FROM sms_old a, pad b, pad c;
"""


def test_the_row_budget_stops_a_join_that_explodes(tmp_path: Path) -> None:
    """`sms` is a view joining its 3 rows with a million pad rows: rows come fast, the row budget stops them."""
    ingested = _ingest_with_sms_view(tmp_path, EXPLODING_SMS, {"sms_old": SMS_ROWS["sms"]}, "[chats]\ndatabase_seconds = 600\ndatabase_rows = 5000\n")
    assert ingested.exit_code == 0, ingested.output
    path = f"/{TELEPHONY}/mmssms.db"
    kept = [m for m in _messages(ingested) if m[1] == "android_sms"]
    # The schema queries read a few rows of the same budget first, so a few fewer than 5000 messages are kept.
    assert _parse_errors(ingested) == [
        ("parse", "query_budget_exceeded", "warning", path, "android_sms", None, None, None,
         f"{path}: reading stopped after {len(kept)} messages: more than 5000 rows were read from this database")]
    assert 4900 < len(kept) < 5000 and {m[3] for m in kept} == {1}
    assert _messages(ingested)[len(kept):] == [(len(kept) + i, *m) for i, m in enumerate(WHATSAPP_MESSAGES)]


def test_messages_stream_one_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The driver hands each message over as the parser yields it, before the parser has read the rest."""
    db = build_database(tmp_path / "mmssms.db", SMS_SCHEMA, SMS_ROWS)
    artefact = HostArtefact(db, path_bytes=b"/" + TELEPHONY.encode() + b"/mmssms.db")
    converted: list[int] = []
    original = android_sms.AndroidSms._sms

    def spy(self, row: sqlite3.Row, context: ParseContext):
        converted.append(row["_id"])
        return original(self, row, context)

    monkeypatch.setattr(android_sms.AndroidSms, "_sms", spy)
    warnings: list = []
    stream = stream_artefact(artefact, Catalog.of([artefact]), warnings)
    assert inspect.isgenerator(stream)
    first = next(stream)
    assert (first.parser.name, first.message.source_row_id, converted) == ("android_sms", 1, [1])
    assert [p.message.source_row_id for p in stream] == [2, 3] and converted == [1, 2, 3]
    assert warnings == []


def test_query_returns_a_cursor_not_a_list(tmp_path: Path) -> None:
    db = build_database(tmp_path / "mmssms.db", SMS_SCHEMA, SMS_ROWS)
    artefact = HostArtefact(db, path_bytes=b"/mmssms.db")
    database = open_copy(artefact, Catalog.of([artefact]), tmp_path / "copy")
    try:
        rows = database.query("SELECT _id FROM sms ORDER BY _id")
        assert inspect.isgenerator(rows)
        assert next(rows)["_id"] == 1 and database.budget.rows == 1 + BUDGET_ROWS_FOR_SCHEMA
        assert [r["_id"] for r in rows] == [2, 3]
    finally:
        database.close()


@pytest.mark.parametrize("change, error", [
    ({"sent": "2023-11-14"}, "ArrowTypeError: object of type <class 'str'> cannot be converted to int"),
    ({"sender": "+15550001"}, "AttributeError: 'str' object has no attribute 'id'"),
    ({"source_row_id": 2 ** 70}, "OverflowError: Python int too large to convert to C long"),
])
def test_a_message_that_does_not_fit_the_table_costs_only_itself(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                 change: dict, error: str) -> None:
    """A parser bug that yields a record of the wrong types (a string time, a string sender, a row id
    past int64) is caught where the record becomes a row: that message is a `parser_failed` row, every
    other message of the store and of the device is written."""
    source = tmp_path / "phone"
    _phone(source, SMS_SCHEMA, SMS_ROWS)
    original = android_sms.AndroidSms._sms

    def confused(self, row: sqlite3.Row, context: ParseContext):
        message = original(self, row, context)
        return dataclasses.replace(message, **change) if row["_id"] == 2 else message

    monkeypatch.setattr(android_sms.AndroidSms, "_sms", confused)
    ingested = run_ingest(source, tmp_path / "cases")
    assert ingested.exit_code == 1, ingested.output
    path = f"/{TELEPHONY}/mmssms.db"
    row_id = change.get("source_row_id", 2)
    where = " (sms#2)" if row_id == 2 else " (sms)"
    assert _parse_errors(ingested) == [
        ("parse", "parser_failed", "error", path, "android_sms", "sms", 2 if row_id == 2 else None, None,
         f"{path}: android_sms (version 1) gave a message{where} that does not fit messages.parquet; the message is left out: {error}")]
    assert _messages(ingested) == ([(0, "android_sms", "sms", 1), (1, "android_sms", "sms", 3)]
                                   + [(i + 2, *m) for i, m in enumerate(WHATSAPP_MESSAGES)])
