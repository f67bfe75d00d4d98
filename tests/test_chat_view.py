"""`exhibit chats` over synthetic exhibits: one block per conversation in time order, the search filters,
and an --app that matches nothing. One exhibit's messages.parquet uses the column names of issue 11, the
other the names before it, and both read the same."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from ingest.cli import main
from ingest.naming import decode_id
from manifests.seal import seal

UTC_NS = pa.timestamp("ns", tz="UTC")
PARTICIPANT = pa.struct([pa.field("id", pa.string()), pa.field("name", pa.string())])
ATTACHMENT = pa.struct([pa.field(n, pa.string() if n != "size" else pa.int64())
                        for n in ("file_name", "mime_type", "size", "local_path", "artefact_path", "sha256")])
NEW = {"sent_time": "sent_time", "received_time": "received_time", "message_kind": "message_kind", "path": "path",
       "store_table": "store_table", "store_row_id": "store_row_id"}
OLD = {"sent_time": "sent", "received_time": "received", "message_kind": "kind", "path": "source_path",
       "store_table": "source_table", "store_row_id": "source_row_id"}


def ns(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=timezone.utc).timestamp()) * 1_000_000_000


def _schema(names: dict[str, str]) -> pa.Schema:
    return pa.schema([("exhibit_id", pa.string()), ("message_index", pa.int64()), ("app", pa.string()), ("parser", pa.string()),
                      ("conversation_id", pa.string()), ("conversation_title", pa.string()), ("sender_id", pa.string()),
                      ("sender_name", pa.string()), ("recipients", pa.list_(PARTICIPANT)), ("direction", pa.string()),
                      (names["sent_time"], UTC_NS), (names["received_time"], UTC_NS), ("body", pa.string()), (names["message_kind"], pa.string()),
                      ("attachments", pa.list_(ATTACHMENT)), ("record_state", pa.string()), (names["path"], pa.string()),
                      (names["store_table"], pa.string()), (names["store_row_id"], pa.int64())])


def _row(names: dict[str, str], exhibit: str, index: int, conversation: str, body: str, sent: str | None, **extra: object) -> dict:
    row = {"exhibit_id": exhibit, "message_index": index, "app": "WhatsApp", "parser": "android_whatsapp", "conversation_id": conversation,
           "conversation_title": None, "sender_id": "+639170000001", "sender_name": "Juan", "recipients": None, "direction": "incoming",
           names["sent_time"]: ns(sent) if sent else None, names["received_time"]: None, "body": body, names["message_kind"]: "text",
           "attachments": None, "record_state": "live", names["path"]: "/msgstore.db", names["store_table"]: "message",
           names["store_row_id"]: 10 + index}
    row.update(extra)
    return row


def _exhibit(case: Path, folder: str, names: dict[str, str], rows: list[dict]) -> None:
    """A sealed (unsigned) exhibit holding only messages.parquet: chats reads verified exhibits only."""
    (case / folder).mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows, schema=_schema(names)), case / folder / "messages.parquet")
    seal(case / folder, {"case_id": case.name, "exhibit_id": decode_id(folder)}, None)


@pytest.fixture()
def case(tmp_path: Path) -> Path:
    return build_case(tmp_path)


def build_case(tmp_path: Path) -> Path:
    """Case OP-1: JS/1 with the column names of issue 11, JS/2 with the names before; also built by
    tests/test_chats_sealed.py."""
    case = tmp_path / "OP-1"
    _exhibit(case, "JS%2F1", NEW, [
        _row(NEW, "JS/1", 0, "c1", "Magpadala ka ng PERA", "2026-03-01T09:00:00", conversation_title="Pamilya"),
        _row(NEW, "JS/1", 1, "c2", "envíe el dinero", "2026-03-01T08:00:00", conversation_title="Trabajo \u202eevil"),
        _row(NEW, "JS/1", 2, "c1", "sige po", "2026-03-01T08:30:00", direction="outgoing", sender_id=None, conversation_title="Pamilya"),
        _row(NEW, "JS/1", 3, "c1", "same second, stored later", "2026-03-01T09:00:00", conversation_title="Pamilya"),
        _row(NEW, "JS/1", 4, "c1", "no time at all", None),
    ])
    _exhibit(case, "JS%2F2", OLD, [
        _row(OLD, "JS/2", 0, "c9", "STRASSE und péra", "2026-03-05T12:00:00", app="Android SMS/MMS", parser="android_sms"),
    ])
    return case


def _lines(*args: str) -> tuple[int, list[str]]:
    result = CliRunner().invoke(main, ["chats", *args])
    notes = ("read ", "signatures not checked")  # which exhibits were read: tests/test_chats_sealed.py asserts them
    return result.exit_code, [line for line in result.output.splitlines() if line and not line.startswith(notes)]


def test_one_block_per_conversation_in_time_order(case: Path) -> None:
    code, lines = _lines(str(case))
    assert code == 0
    assert lines == [
        "== JS/1 | WhatsApp | conversation c1 \"Pamilya\" | 4 messages, 2026-03-01 08:30:00Z to 2026-03-01 09:00:00Z | /msgstore.db",
        "2026-03-01 08:30:00Z -> me: sige po  (message#12)",
        "2026-03-01 09:00:00Z <- Juan <+639170000001>: Magpadala ka ng PERA  (message#10)",
        "2026-03-01 09:00:00Z <- Juan <+639170000001>: same second, stored later  (message#13)",
        "(no time)            <- Juan <+639170000001>: no time at all  (message#14)",
        "== JS/1 | WhatsApp | conversation c2 \"Trabajo \\u202eevil\" | 1 message, 2026-03-01 08:00:00Z to 2026-03-01 08:00:00Z | /msgstore.db",
        "2026-03-01 08:00:00Z <- Juan <+639170000001>: envíe el dinero  (message#11)",
        "== JS/2 | Android SMS/MMS | conversation c9 | 1 message, 2026-03-05 12:00:00Z to 2026-03-05 12:00:00Z | /msgstore.db",
        "2026-03-05 12:00:00Z <- Juan <+639170000001>: STRASSE und péra  (message#10)",
        "6 messages",
    ]


def test_terms_regex_terms_file_and_times_filter_messages(case: Path, tmp_path: Path) -> None:
    code, lines = _lines(str(case), "pera")
    assert code == 0 and [line for line in lines if not line.startswith("==")] == [
        "2026-03-01 09:00:00Z <- Juan <+639170000001>: Magpadala ka ng PERA  (message#10)",
        "2026-03-05 12:00:00Z <- Juan <+639170000001>: STRASSE und péra  (message#10)",
        "2 messages"]
    assert _lines(str(case), "straße")[1][-1] == "1 message"
    assert _lines(str(case), "pamilya")[1][-1] == "3 messages"  # each message that carries the conversation's name
    terms = tmp_path / "terms.txt"
    terms.write_text("# Spanish\nENVIE EL\nre:^sige\\b\n", encoding="utf-8")
    code, lines = _lines(str(case), "--terms-file", str(terms), "--exhibit", "JS/1")
    assert code == 0 and [line[:20] for line in lines if not line.startswith("==")] == ["2026-03-01 08:00:00Z", "2026-03-01 08:30:00Z", "2 messages"]
    code, lines = _lines(str(case), "--regex", r"p[eé]ra\b", "--since", "2026-03-02", "--until", "2026-03-05")
    assert (code, lines[-1]) == (0, "1 message")
    assert _lines(str(case), "--since", "2026-03-01T08:30:00+00:00", "--until", "2026-03-01T17:00:00+08:00")[1][-1] == "3 messages"


def test_bad_filters_and_an_app_that_matches_nothing_are_usage_errors(case: Path) -> None:
    code, lines = _lines(str(case), "--app", "signal")
    assert (code, lines) == (2, ["Error: no such app: signal (apps in this case: Android SMS/MMS, WhatsApp)"])
    assert _lines(str(case), "--app", "android_sms")[1][-1] == "1 message"
    assert _lines(str(case), "--regex", "(")[0] == 2
    assert _lines(str(case), "--since", "2026-03-01T08:00:00")[1] == ["Error: time without UTC offset: 2026-03-01T08:00:00 (add Z or +hh:mm)"]
    assert _lines(str(case), "--exhibit", "JS/9")[0] == 2


def test_nanosecond_times_render(tmp_path: Path) -> None:
    """A time with digits below the microsecond (WhatsApp iOS stores Core Data dates as fractional seconds) has no
    Python datetime: the block must still print, to the second."""
    case = tmp_path / "OP-NS"
    sent = ns("2023-05-02T15:56:47") + 221_498_100
    _exhibit(case, "JS%2F1", NEW, [_row(NEW, "JS/1", 0, "c1", "I'm here!", None, **{"sent_time": sent})])
    code, lines = _lines(str(case))
    assert code == 0
    assert lines == ["== JS/1 | WhatsApp | conversation c1 | 1 message, 2023-05-02 15:56:47Z to 2023-05-02 15:56:47Z | /msgstore.db",
                     "2023-05-02 15:56:47Z <- Juan <+639170000001>: I'm here!  (message#10)", "1 message"]
