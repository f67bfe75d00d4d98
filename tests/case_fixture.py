"""A synthetic three-exhibit case (unsealed: the commands read it with --unverified) written as Parquet with the new column names, and a DuckDB connection
with views over it made the way case/views.py makes them (read_parquet over every exhibit's part,
union_by_name). Shared by the correlate and timeline tests."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.naming import encode_id
from manifests.schemas import UTC_NS

CASE = "OP-TEST"
A, B, C = "A/1", "B/2", "C/3"
H_SHARED = "aa" * 32
H_HOSTILE = "bb" * 32
H_UNIQUE = "cc" * 32
H_ZERO = "dd" * 32
EMPTY = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
OWNER_A = "447700900001@s.whatsapp.net"
OWNER_B = "447700900002@s.whatsapp.net"
STRANGER = "447700900009@s.whatsapp.net"
GROUP = "120363000000000001@g.us"
HOSTILE = "=cmd<&\"'\x00\u202e\ufffe>x"
HOSTILE_TABLE = "=cmd|' /C calc'!A0"  # a table name in the evidence that a spreadsheet would run
HOSTILE_PATH = "/sdcard/=cmd<&\">\\x1b\\u202e|.txt"  # a stored path: already display-escaped by ingest
ARTEFACT_COLUMNS = ("entry_index", "path", "entry_type", "size", "is_deleted", "inode", "mode", "uid", "gid", "md5",
                    "sha256", "created_time", "modified_time", "accessed_time", "changed_time", "deleted_time")


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def ns(text: str) -> int:
    """ISO text with up to nine fraction digits as ns (datetime keeps only six)."""
    main, _, rest = text.partition(".")
    if not rest:
        return int(t(text).timestamp()) * 1_000_000_000
    digits = rest.rstrip("Z")
    return int(t(main + "Z").timestamp()) * 1_000_000_000 + int(digits.ljust(9, "0"))


def _times(values: list[int | None]) -> pa.Array:
    return pa.array(values, pa.int64()).cast(UTC_NS)


def _artefacts(exhibit: str, rows: list[tuple]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in ARTEFACT_COLUMNS]
    data: dict[str, pa.Array] = {
        "case_id": pa.array([CASE] * len(rows), pa.string()),
        "exhibit_id": pa.array([exhibit] * len(rows), pa.string()),
    }
    types = {"entry_index": pa.int64(), "path": pa.string(), "entry_type": pa.string(), "size": pa.int64(),
             "is_deleted": pa.bool_(), "inode": pa.int64(), "mode": pa.int32(), "uid": pa.int64(), "gid": pa.int64(),
             "md5": pa.string(), "sha256": pa.string()}
    for name, values in zip(ARTEFACT_COLUMNS, columns, strict=True):
        data[name] = _times(list(values)) if name.endswith("_time") else pa.array(list(values), types[name])
    return pa.table(data)


def _messages(exhibit: str, rows: list[dict]) -> pa.Table:
    participant = pa.struct([pa.field("id", pa.string()), pa.field("name", pa.string())])
    def col(name: str) -> list:
        return [row.get(name) for row in rows]
    return pa.table({
        "case_id": pa.array([CASE] * len(rows)), "exhibit_id": pa.array([exhibit] * len(rows)),
        "message_index": pa.array(range(len(rows)), pa.int64()), "app": pa.array(col("app")),
        "account_id": pa.array(col("account_id"), pa.string()), "conversation_id": pa.array(col("conversation_id"), pa.string()),
        "conversation_title": pa.array(col("conversation_title"), pa.string()),
        "sender_id": pa.array(col("sender_id"), pa.string()), "sender_name": pa.array(col("sender_name"), pa.string()),
        "recipients": pa.array(col("recipients"), pa.list_(participant)), "direction": pa.array(col("direction")),
        "sent_time": _times(col("sent_time")), "received_time": _times(col("received_time")),
        "read_time": _times(col("read_time")), "edited_time": _times(col("edited_time")),
        "deleted_time": _times(col("deleted_time")), "body": pa.array(col("body"), pa.string()),
        "message_kind": pa.array([row.get("message_kind", "text") for row in rows]),
        "path": pa.array(col("path")), "entry_index": pa.array(col("entry_index"), pa.int64()),
        "store_table": pa.array(col("store_table")), "store_row_id": pa.array(col("store_row_id"), pa.int64()),
    })


def _wa(**values: object) -> dict:
    base = {"app": "WhatsApp", "path": "/data/data/com.whatsapp/databases/msgstore.db", "entry_index": 9,
            "store_table": "message"}
    base.update(values)
    return base


ARTEFACTS = {
    A: [
        (0, "/sdcard/DCIM/shared.jpg", "file", 100, False, 12, 0o100644, 10001, 10001, "11" * 16, H_SHARED,
         ns("2026-01-01T10:00:00Z"), ns("2026-01-01T10:00:00.5Z"), None, None, None),
        (1, "/sdcard/empty.txt", "file", 0, False, 13, 0o100644, 0, 0, "d41d8cd98f00b204e9800998ecf8427e", EMPTY,
         ns("2026-01-01T11:00:00Z"), None, None, None, None),
        (2, "/data/unique.bin", "file", 10, False, 14, 0o104755, 0, 0, "22" * 16, H_UNIQUE,
         ns("2026-01-05T00:00:00Z"), ns("2026-01-05T00:00:00Z"), ns("2026-01-05T00:00:00.123456789Z"), None, None),
        (3, HOSTILE_PATH, "file", 5, True, 15, None, None, None, None, H_HOSTILE,
         None, ns("2026-01-04T08:00:00Z"), None, ns("2026-01-04T08:30:00Z"), ns("2026-01-04T09:00:00Z")),
        (4, "/sdcard", "directory", None, False, 2, 0o40771, 1000, 1000, None, None,
         None, None, None, None, None),
    ],
    B: [
        (0, "/Download/shared.jpg", "file", 100, False, 40, 0o100600, 0, 0, "11" * 16, H_SHARED,
         None, ns("2026-01-02T10:00:00Z"), None, None, None),
        (1, "/x/hostile", "file", 5, False, 41, 0o100644, 0, 0, None, H_HOSTILE,
         None, ns("2026-01-04T07:00:00Z"), None, None, None),
        (2, "/zero", "file", 0, False, 42, 0o100644, 0, 0, None, H_ZERO, None, None, None, None, None),
    ],
    C: [
        (0, "/x/shared.jpg", "file", 100, False, 7, 0o100644, 0, 0, None, H_SHARED.upper(),
         ns("2025-12-31T23:00:00Z"), None, None, None, None),
        (1, "/zero", "file", 0, False, 8, 0o100644, 0, 0, None, H_ZERO, None, None, None, None, None),
    ],
}

MESSAGES = {
    A: [
        _wa(account_id=OWNER_A, conversation_id=GROUP, conversation_title="Team", sender_id=OWNER_A, direction="outgoing",
            sent_time=ns("2026-01-03T09:00:00Z"), store_row_id=1, body="hello"),
        _wa(account_id=OWNER_A, conversation_id=GROUP, conversation_title="Team", sender_id=OWNER_B, sender_name="Bob",
            direction="incoming", sent_time=ns("2026-01-03T09:05:00.250Z"), received_time=ns("2026-01-03T09:05:01Z"),
            read_time=ns("2026-01-03T09:06:00Z"), store_row_id=2, body=HOSTILE),
        _wa(account_id=OWNER_A, conversation_id="status@broadcast", sender_id=STRANGER, direction="incoming",
            sent_time=ns("2026-01-03T12:00:00Z"), store_row_id=3, body="status"),
        {"app": "Android SMS/MMS", "conversation_id": "12345", "sender_id": "12345", "direction": "incoming",
         "sent_time": ns("2026-01-03T13:00:00Z"), "path": "/data/mmssms.db", "entry_index": 8, "store_table": "sms",
         "store_row_id": 7, "body": "Your code is 1234"},
        _wa(account_id=OWNER_A, conversation_id=HOSTILE, sender_id=STRANGER, direction="incoming",
            sent_time=ns("2026-01-03T14:00:00Z"), store_table=HOSTILE_TABLE, store_row_id=4, body=None, message_kind="system"),
        _wa(account_id=OWNER_A, conversation_id="noisy-chat", sender_id=STRANGER, direction="incoming",
            sent_time=ns("2026-01-03T15:00:00Z"), store_row_id=5, body="x"),
    ],
    B: [
        _wa(account_id=OWNER_B, conversation_id=GROUP, conversation_title="Team", sender_id=OWNER_B, direction="outgoing",
            recipients=[{"id": OWNER_A, "name": "Alice"}], sent_time=ns("2026-01-03T09:05:00.250Z"), store_row_id=11, body=HOSTILE),
        _wa(account_id=OWNER_B, conversation_id="status@broadcast", sender_id=STRANGER, direction="incoming",
            sent_time=ns("2026-01-03T12:00:00Z"), store_row_id=12, body="status"),
        {"app": "Android SMS/MMS", "conversation_id": "12345", "sender_id": "12345", "direction": "incoming",
         "sent_time": ns("2026-01-03T13:00:00Z"), "path": "/data/mmssms.db", "entry_index": 3, "store_table": "sms",
         "store_row_id": 9, "body": "Your code is 9876"},
        _wa(account_id=OWNER_B, conversation_id=HOSTILE, sender_id=STRANGER, direction="incoming",
            sent_time=ns("2026-01-03T14:30:00Z"), store_row_id=13, body=None, message_kind="system"),
        _wa(account_id=OWNER_B, conversation_id="noisy-chat", sender_id=STRANGER, direction="incoming",
            sent_time=ns("2026-01-03T15:30:00Z"), store_row_id=14, body="y"),
    ],
    C: [
        _wa(app="WhatsApp", account_id=OWNER_B, conversation_id=GROUP, conversation_title="Team", sender_id=OWNER_B,
            direction="outgoing", sent_time=ns("2026-01-06T10:00:00Z"), store_row_id=21, body="from the desktop"),
    ],
}

# (kind, normalised identifier, raw text, origin message_index, origin field)
IDENTIFIERS = {
    A: [("phone", "+447700900001", OWNER_A, 0, "account_id"), ("phone", "+447700900002", OWNER_B, 1, "sender_id"),
        ("phone", "+15550000000", "555-0000", 5, "body"), ("email", "x@example.com", "X@Example.com", 0, "body"),
        ("phone", "+1234", "1234", 3, "body")],
    B: [("phone", "+447700900002", OWNER_B, 0, "account_id"), ("phone", "+447700900001", OWNER_A, 0, "recipients[0].id"),
        ("phone", "+15550000000", "+1 555 0000000", 4, "body"), ("phone", "+1234", "1234", 2, "body")],
    C: [("phone", "+447700900002", OWNER_B, 0, "account_id")],
}


def _identifiers(exhibit: str, rows: list[tuple[str, str, str, int, str]]) -> pa.Table:
    return pa.table({
        "case_id": pa.array([CASE] * len(rows)), "exhibit_id": pa.array([exhibit] * len(rows)),
        "identifier_index": pa.array(range(len(rows)), pa.int64()),
        "identifier_kind": pa.array([r[0] for r in rows]), "identifier": pa.array([r[1] for r in rows]),
        "identifier_raw": pa.array([r[2] for r in rows]), "origin_table": pa.array(["messages"] * len(rows)),
        "origin_index": pa.array([r[3] for r in rows], pa.int64()), "origin_field": pa.array([r[4] for r in rows]),
    })


MEDIA = {
    A: [{"media_index": 0, "entry_index": 0, "path": "/sdcard/DCIM/shared.jpg", "make": "Apple", "model": "iPhone 12",
         "latitude": 51.5, "longitude": -0.125, "container_format": "JPEG",
         "capture_time": ns("2026-01-01T10:00:00Z"), "digitized_time": None,
         "metadata_modified_time": ns("2026-01-01T10:00:00Z"), "gps_time": ns("2026-01-01T09:59:58Z")}],
}


def _media(exhibit: str, rows: list[dict]) -> pa.Table:
    def col(name: str) -> list:
        return [row[name] for row in rows]
    return pa.table({
        "case_id": pa.array([CASE] * len(rows)), "exhibit_id": pa.array([exhibit] * len(rows)),
        "media_index": pa.array(col("media_index"), pa.int64()), "entry_index": pa.array(col("entry_index"), pa.int64()),
        "path": pa.array(col("path")), "make": pa.array(col("make")), "model": pa.array(col("model")),
        "latitude": pa.array(col("latitude"), pa.float64()), "longitude": pa.array(col("longitude"), pa.float64()),
        "container_format": pa.array(col("container_format")),
        **{name: _times(col(name)) for name in ("capture_time", "digitized_time", "metadata_modified_time", "gps_time")},
    })


CUSTODY = [
    (0, A, "seized", "DC Jones", None, None, "=HYPERLINK(\"x\")", "Flat 4", ns("2026-01-07T08:00:00Z")),
    (1, A, "transferred", "DC Jones", "DC Jones", "Lab 3", None, None, ns("2026-01-07T12:00:00Z")),
    (2, B, "ingested", "A. Smith", None, None, None, None, ns("2026-01-03T09:05:00.250Z")),
]


def _custody() -> pa.Table:
    rows = CUSTODY
    return pa.table({
        "case_id": pa.array([CASE] * len(rows)), "event_index": pa.array([r[0] for r in rows], pa.int64()),
        "exhibit_id": pa.array([r[1] for r in rows]), "action": pa.array([r[2] for r in rows]),
        "actor_name": pa.array([r[3] for r in rows]), "from_party": pa.array([r[4] for r in rows], pa.string()),
        "to_party": pa.array([r[5] for r in rows], pa.string()), "notes": pa.array([r[6] for r in rows], pa.string()),
        "location": pa.array([r[7] for r in rows], pa.string()), "occurred_time": _times([r[8] for r in rows]),
    })


def build_case(root: Path, *, identifiers: bool = True, media: bool = True) -> Path:
    """Write the case under root/OP-TEST: one folder per exhibit, custody.parquet beside them."""
    case_dir = root / CASE
    for exhibit in (A, B, C):
        folder = case_dir / encode_id(exhibit)
        folder.mkdir(parents=True)
        pq.write_table(_artefacts(exhibit, ARTEFACTS[exhibit]), folder / "artefacts.parquet")
        pq.write_table(_messages(exhibit, MESSAGES[exhibit]), folder / "messages.parquet")
        if identifiers:
            pq.write_table(_identifiers(exhibit, IDENTIFIERS[exhibit]), folder / "identifiers.parquet")
        if media and exhibit in MEDIA:
            pq.write_table(_media(exhibit, MEDIA[exhibit]), folder / "media.parquet")
    pq.write_table(_custody(), case_dir / "custody.parquet")
    return case_dir


def _quoted(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def connect(case_dir: Path) -> duckdb.DuckDBPyConnection:
    """Views over the case the way case/views.py makes them: a view only for a part some exhibit has."""
    con = duckdb.connect()
    for name in ("artefacts", "messages", "identifiers", "media"):
        files = sorted(case_dir.glob(f"*/{name}.parquet"))
        if files:
            listing = ", ".join(_quoted(f) for f in files)
            con.execute(f"CREATE VIEW {name} AS SELECT * FROM read_parquet([{listing}], union_by_name = true)")
    con.execute(f"CREATE VIEW custody AS SELECT * FROM read_parquet([{_quoted(case_dir / 'custody.parquet')}])")
    return con
