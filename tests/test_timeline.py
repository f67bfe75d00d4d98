"""exhibit timeline's library: every time of a synthetic three-exhibit case in one order, its filters, the
Timesketch CSV and JSONL, and the body file (checked by mactime when it is installed)."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from case import timeline_output
from case.timeline import TimelineFilter, body_lines, events
from case.times import NaiveTimeError, iso_utc, parse_utc
from manifests.files import atomic_output
from tests.case_fixture import HOSTILE_TABLE, A, B, C, build_case, connect, ns

WA_DB = "/data/data/com.whatsapp/databases/msgstore.db"

# (datetime, timestamp_desc, exhibit, table, row_index), in the documented order: time, exhibit id,
# source (artefacts, media, messages, custody), row index, event order within the row.
ORDER = [
    ("2025-12-31T23:00:00+00:00", "File created", C, "artefacts", 0),
    ("2026-01-01T09:59:58+00:00", "Media GPS time", A, "media", 0),
    ("2026-01-01T10:00:00+00:00", "File created", A, "artefacts", 0),  # same time: artefacts before media
    ("2026-01-01T10:00:00+00:00", "Media captured", A, "media", 0),
    ("2026-01-01T10:00:00+00:00", "Media metadata modified", A, "media", 0),
    ("2026-01-01T10:00:00.500+00:00", "File modified", A, "artefacts", 0),
    ("2026-01-01T11:00:00+00:00", "File created", A, "artefacts", 1),
    ("2026-01-02T10:00:00+00:00", "File modified", B, "artefacts", 0),
    ("2026-01-03T09:00:00+00:00", "Message sent", A, "messages", 0),
    ("2026-01-03T09:05:00.250+00:00", "Message sent", A, "messages", 1),  # same time: exhibit A first,
    ("2026-01-03T09:05:00.250+00:00", "Message sent", B, "messages", 0),  # then B's message,
    ("2026-01-03T09:05:00.250+00:00", "Custody event", B, "custody", 2),  # then B's custody event
    ("2026-01-03T09:05:01+00:00", "Message received", A, "messages", 1),
    ("2026-01-03T09:06:00+00:00", "Message read", A, "messages", 1),
    ("2026-01-03T12:00:00+00:00", "Message sent", A, "messages", 2),
    ("2026-01-03T12:00:00+00:00", "Message sent", B, "messages", 1),
    ("2026-01-03T13:00:00+00:00", "Message sent", A, "messages", 3),
    ("2026-01-03T13:00:00+00:00", "Message sent", B, "messages", 2),
    ("2026-01-03T14:00:00+00:00", "Message sent", A, "messages", 4),
    ("2026-01-03T14:30:00+00:00", "Message sent", B, "messages", 3),
    ("2026-01-03T15:00:00+00:00", "Message sent", A, "messages", 5),
    ("2026-01-03T15:30:00+00:00", "Message sent", B, "messages", 4),
    ("2026-01-04T07:00:00+00:00", "File modified", B, "artefacts", 1),
    ("2026-01-04T08:00:00+00:00", "File modified", A, "artefacts", 3),
    ("2026-01-04T08:30:00+00:00", "File metadata changed", A, "artefacts", 3),
    ("2026-01-04T09:00:00+00:00", "File deleted", A, "artefacts", 3),
    ("2026-01-05T00:00:00+00:00", "File created", A, "artefacts", 2),  # same row, same time: created first
    ("2026-01-05T00:00:00+00:00", "File modified", A, "artefacts", 2),
    ("2026-01-05T00:00:00.123456789+00:00", "File accessed", A, "artefacts", 2),
    ("2026-01-06T10:00:00+00:00", "Message sent", C, "messages", 0),
    ("2026-01-07T08:00:00+00:00", "Custody event", A, "custody", 0),
    ("2026-01-07T12:00:00+00:00", "Custody event", A, "custody", 1),
]


@pytest.fixture()
def con(tmp_path: Path):
    return connect(build_case(tmp_path))


def _order(stream) -> list[tuple]:
    return [(iso_utc(e.time_ns), e.timestamp_desc, e.exhibit_id, e.table, e.row_index) for e in stream]


def test_every_time_in_one_order(con) -> None:
    assert _order(events(con, TimelineFilter())) == ORDER


def test_filters(con) -> None:
    since, until = parse_utc("2026-01-03T10:00:00+01:00"), parse_utc("2026-01-03T13:00:00Z")
    assert since == ns("2026-01-03T09:00:00Z")
    assert _order(events(con, TimelineFilter(since_ns=since, until_ns=until))) == ORDER[8:18]  # both ends inclusive
    assert _order(events(con, TimelineFilter(exhibits=[C]))) == [o for o in ORDER if o[2] == C]
    assert _order(events(con, TimelineFilter(kinds=("custody", "media")))) == [o for o in ORDER if o[3] in ("custody", "media")]
    assert _order(events(con, TimelineFilter(exhibits=[]))) == []
    with pytest.raises(ValueError, match="unknown timeline kind"):
        TimelineFilter(kinds=("registry",))
    with pytest.raises(ValueError, match="after --until"):
        TimelineFilter(since_ns=2, until_ns=1)


def test_times_need_an_offset() -> None:
    with pytest.raises(NaiveTimeError):
        parse_utc("2026-01-03T10:00:00")
    with pytest.raises(NaiveTimeError):
        parse_utc("2026-01-03")
    with pytest.raises(ValueError):
        parse_utc("yesterday")
    with pytest.raises(ValueError):
        parse_utc("2026-01-03T10:00:00.1234567891Z")  # ten fraction digits
    assert parse_utc("2026-01-03T10:00:00.123456789-02:30") == ns("2026-01-03T12:30:00.123456789Z")
    assert iso_utc(parse_utc("1969-12-31T23:59:59.999Z")) == "1969-12-31T23:59:59.999+00:00"


def test_a_missing_view_is_left_out(tmp_path: Path) -> None:
    con = connect(build_case(tmp_path, media=False))
    assert _order(events(con, TimelineFilter())) == [o for o in ORDER if o[3] != "media"]


def test_timesketch_csv(con, tmp_path: Path) -> None:
    target = tmp_path / "timeline.csv"
    with atomic_output(target) as handle:
        count = timeline_output.write_csv(events(con, TimelineFilter()), handle)
    assert count == len(ORDER)
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert rows[0] == ["message", "timestamp", "datetime", "timestamp_desc", "exhibit_id", "table", "path",
                       "entry_index", "store_table", "store_row_id", "row_index"]
    # golden row: the hostile incoming message, its body escaped, nothing lost but the control characters' power
    assert rows[10] == ["WhatsApp text incoming from Bob in Team: =cmd<&\"'\\x00\\u202e\ufffe>x", "1767431100250000",
                        "2026-01-03T09:05:00.250+00:00", "Message sent", A, "messages", WA_DB, "9", "message", "2", "1"]
    # a store table named like a formula gets its quote; the raw name stays in messages.parquet
    assert rows[19][8] == "'" + HOSTILE_TABLE
    assert rows[1] == ["/x/shared.jpg", "1767222000000000", "2025-12-31T23:00:00+00:00", "File created", C, "artefacts",
                       "/x/shared.jpg", "0", "", "", "0"]
    text = target.read_text(encoding="utf-8")
    assert "\x00" not in text and "\u202e" not in text and "\x1b" not in text
    assert rows[24][0] == "/sdcard/=cmd<&\">\\x1b\\u202e|.txt (deleted)"
    assert rows[31][0] == "seized by DC Jones at Flat 4: =HYPERLINK(\"x\")"


def test_timesketch_jsonl(con) -> None:
    out = io.BytesIO()
    assert timeline_output.write_jsonl(events(con, TimelineFilter(kinds=("artefacts",), exhibits=[A])), out) == 9
    assert out.getvalue().isascii()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[-1] == {"message": "/data/unique.bin", "timestamp": 1767571200123456,
                         "datetime": "2026-01-05T00:00:00.123456789+00:00", "timestamp_desc": "File accessed",
                         "exhibit_id": A, "table": "artefacts", "path": "/data/unique.bin", "entry_index": 2,
                         "store_table": None, "store_row_id": None, "row_index": 2}
    custody = io.BytesIO()
    timeline_output.write_jsonl(events(con, TimelineFilter(kinds=("custody",))), custody)
    first = json.loads(custody.getvalue().splitlines()[0])
    assert first["message"] == "ingested by A. Smith" and first["path"] is None and first["row_index"] == 2


BODY = [
    "11111111111111111111111111111111|A/1:/sdcard/DCIM/shared.jpg|12|r/rrw-r--r--|10001|10001|100|0|1767261600|0|1767261600",
    "d41d8cd98f00b204e9800998ecf8427e|A/1:/sdcard/empty.txt|13|r/rrw-r--r--|0|0|0|0|0|0|1767265200",
    "22222222222222222222222222222222|A/1:/data/unique.bin|14|r/rrwsr-xr-x|0|0|10|1767571200|1767571200|0|1767571200",
    "0|A/1:/sdcard/=cmd<&\">\\x1b\\u202e\\x7c.txt (deleted)|15|r/r---------|0|0|5|0|1767513600|1767515400|0",
    "11111111111111111111111111111111|B/2:/Download/shared.jpg|40|r/rrw-------|0|0|100|0|1767348000|0|0",
    "0|B/2:/x/hostile|41|r/rrw-r--r--|0|0|5|0|1767510000|0|0",
    "0|C/3:/x/shared.jpg|7|r/rrw-r--r--|0|0|100|0|0|0|1767222000",
]


def test_body_file_lines_exactly(con, tmp_path: Path) -> None:
    target = tmp_path / "case.body"
    with atomic_output(target) as handle:
        assert timeline_output.write_body(body_lines(con, TimelineFilter()), handle) == len(BODY)
    assert target.read_text(encoding="utf-8").splitlines() == BODY
    # a directory without times (and a file without any) has no line; every line has the 11 fields
    assert all(line.count("|") == 10 for line in BODY)
    in_range = TimelineFilter(since_ns=parse_utc("2026-01-04T00:00:00Z"), exhibits=[A])
    assert [timeline_output.body_line(b) for b in body_lines(con, in_range)] == [BODY[2], BODY[3]]
    with pytest.raises(ValueError, match="artefacts only"):
        list(body_lines(con, TimelineFilter(kinds=("messages",))))

    mactime = shutil.which("mactime")
    if mactime is None:
        pytest.skip("mactime (Debian sleuthkit) is not installed")
    result = subprocess.run([mactime, "-b", str(target), "-d", "-y", "-z", "UTC"], capture_output=True, check=True)
    lines = result.stdout.decode("utf-8").splitlines()
    assert lines[0] == "Date,Size,Type,Mode,UID,GID,Meta,File Name"
    dated = [line for line in lines[1:] if not line.startswith("0000-00-00")]
    assert dated[0] == '2025-12-31T23:00:00Z,100,...b,r/rrw-r--r--,0,0,7,"C/3:/x/shared.jpg"'
    assert '2026-01-04T08:00:00Z,5,m...,r/r---------,0,0,15,"A/1:/sdcard/=cmd<&"">\\x1b\\u202e\\x7c.txt (deleted)"' in dated
    assert dated[-1] == '2026-01-05T00:00:00Z,10,ma.b,r/rrwsr-xr-x,0,0,14,"A/1:/data/unique.bin"'


def test_mode_strings() -> None:
    assert timeline_output.mode_string("directory", 0o41777) == "d/drwxrwxrwt"
    assert timeline_output.mode_string("file", 0o102644) == "r/rrw-r-Sr--"
    assert timeline_output.mode_string("symlink", 0o120777) == "l/lrwxrwxrwx"
    assert timeline_output.mode_string("socket", None) == "s/s---------"
    assert timeline_output.mode_string("something new", 0o644) == "-/-rw-r--r--"


def test_long_body_is_cut_with_a_marker() -> None:
    from case.timeline import MAX_BODY_CHARS, event_message
    text = event_message("messages", ("WhatsApp", "incoming", "Bob", "Team", "x" * (MAX_BODY_CHARS + 1), "text"))
    assert text == "WhatsApp text incoming from Bob in Team: " + "x" * MAX_BODY_CHARS + " [...]"


def test_write_to_a_file_or_standard_output(con, tmp_path: Path) -> None:
    target = tmp_path / "t.jsonl"
    assert timeline_output.write(con, TimelineFilter(kinds=("custody",)), "jsonl", target, io.BytesIO()) == 3
    stdout = io.BytesIO()
    assert timeline_output.write(con, TimelineFilter(kinds=("custody",)), "jsonl", None, stdout) == 3
    assert stdout.getvalue() == target.read_bytes()
    with pytest.raises(ValueError):
        timeline_output.write(con, TimelineFilter(), "xml", None, io.BytesIO())
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_sources_not_read_are_named(tmp_path: Path) -> None:
    con = connect(build_case(tmp_path, media=False))
    con.execute("CREATE OR REPLACE VIEW artefacts AS SELECT * EXCLUDE (changed_time) RENAME (modified_time AS modified) "
                "FROM read_parquet('" + str(tmp_path / "OP-TEST" / "*" / "artefacts.parquet") + "')")
    from case.timeline import unread_notes
    assert unread_notes(con, TimelineFilter()) == [
        "artefacts times: not read (artefacts has no column modified_time, changed_time: written before the column "
        "vocabulary of issue 11?)",
        "media times: not read (the case has no media view)"]
    assert unread_notes(con, TimelineFilter(kinds=("messages",))) == []
    assert unread_notes(con, TimelineFilter(), body=True)[0].startswith("body file: not read (artefacts has no column")
    assert _order(events(con, TimelineFilter())) == [o for o in ORDER if o[3] in ("messages", "custody")]


def test_cli(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from ingest.cli import main

    case_dir = build_case(tmp_path)
    runner = CliRunner()
    target = tmp_path / "timeline.csv"
    result = runner.invoke(main, ["timeline", str(case_dir), "--unverified", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == f"{len(ORDER)} event(s) -> {target}"
    assert target.read_text(encoding="utf-8").splitlines()[0] == ",".join(timeline_output.TIMESKETCH_HEADER)

    jsonl = runner.invoke(main, ["timeline", str(case_dir), "--unverified", "--format", "jsonl", "--kind", "messages",
                                 "--exhibit", B, "--since", "2026-01-03T13:00:00+01:00", "--until", "2026-01-03T14:30:00Z"])
    assert jsonl.exit_code == 0
    assert [json.loads(line)["row_index"] for line in jsonl.stdout.splitlines()] == [1, 2, 3]

    body = runner.invoke(main, ["timeline", str(case_dir), "--unverified", "--format", "body", "--exhibit", C])
    assert body.exit_code == 0
    assert body.stdout.splitlines() == [BODY[-1]]

    assert runner.invoke(main, ["timeline", str(case_dir)]).exit_code == 1  # nothing verifies: skipped
    for arguments, message in (
        (["--since", "2026-01-03T13:00:00"], "no UTC offset"),
        (["--until", "soon"], "not an ISO 8601 time"),
        (["--since", "2026-01-04T00:00:00Z", "--until", "2026-01-03T00:00:00Z"], "after --until"),
        (["--format", "body", "--kind", "messages"], "artefacts only"),
        (["--kind", "registry"], "registry"),
        (["--output", str(case_dir / "t.csv")], "inside the case folder"),
    ):
        refused = runner.invoke(main, ["timeline", str(case_dir), "--unverified", *arguments])
        assert refused.exit_code == 2, arguments
        assert message in refused.output, refused.output


def test_a_type_confused_view_is_left_out(con) -> None:
    con.execute("CREATE OR REPLACE VIEW custody AS SELECT 'A/1' AS exhibit_id, 'zero' AS event_index, 'seized' AS action, "
                "'x' AS actor_name, NULL::VARCHAR AS from_party, NULL::VARCHAR AS to_party, NULL::VARCHAR AS notes, "
                "NULL::VARCHAR AS location, '2026-01-01' AS occurred_time")
    from case.timeline import unread_notes
    assert unread_notes(con, TimelineFilter(kinds=("custody",))) == [
        "custody times: not read (custody has a column of an unexpected type (event_index is VARCHAR; occurred_time is "
        "VARCHAR): an exhibit not written by Exhibit?)"]
    assert _order(events(con, TimelineFilter())) == [o for o in ORDER if o[3] != "custody"]


def _limits_case(tmp_path: Path):
    """One exhibit's artefacts with times before 1970, at the int64 limits (which DuckDB reads as +-infinity)
    and a path a spreadsheet would run; every other time column null."""
    import duckdb
    import pyarrow as pa
    import pyarrow.parquet as pq

    stamp = pa.timestamp("ns", tz="UTC")
    times = [-86_400 * 10**9, 2**63 - 1, -(2**63 - 1), -(2**63), -1]
    table = pa.table({
        "exhibit_id": pa.array(["L/1"] * 5), "entry_index": pa.array(range(5), pa.int64()),
        "path": pa.array(["/old.txt", "/max.txt", "/min.txt", "/lowest.txt", "-1+cmd|' /C calc'!A0"]),
        "is_deleted": pa.array([False] * 5), "entry_type": pa.array(["file"] * 5),
        "created_time": pa.array(times, stamp), "modified_time": pa.array([None] * 5, stamp),
        "accessed_time": pa.array([None] * 5, stamp), "changed_time": pa.array([None] * 5, stamp),
        "deleted_time": pa.array([None] * 5, stamp), "md5": pa.array([None] * 5, pa.string()),
        **{name: pa.array([None] * 5, pa.int64()) for name in ("inode", "mode", "uid", "gid", "size")}})
    path = tmp_path / "artefacts.parquet"
    pq.write_table(table, path)
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"CREATE VIEW artefacts AS SELECT * FROM read_parquet('{path}')")
    return con


def test_times_before_1970_and_at_the_int64_limits_are_written_as_numbers(tmp_path: Path) -> None:
    """A negative timestamp is a number, never neutralised as a formula; the free-text path still is. A time at
    int64 max (DuckDB's infinity) keeps its stored value instead of crashing the run."""
    con = _limits_case(tmp_path)
    target = tmp_path / "timeline.csv"
    with atomic_output(target) as handle:
        count = timeline_output.write_csv(events(con, TimelineFilter()), handle)
    assert count == 5
    rows = list(csv.reader(io.StringIO(target.read_text(encoding="utf-8"))))
    assert [row[:4] + row[6:8] for row in rows[1:]] == [
        ["/lowest.txt", "-9223372036854776", "1677-09-21T00:12:43.145224192+00:00", "File created", "/lowest.txt", "3"],
        ["/min.txt", "-9223372036854776", "1677-09-21T00:12:43.145224193+00:00", "File created", "/min.txt", "2"],
        ["/old.txt", "-86400000000", "1969-12-31T00:00:00+00:00", "File created", "/old.txt", "0"],
        ["'-1+cmd|' /C calc'!A0", "-1", "1969-12-31T23:59:59.999999999+00:00", "File created", "'-1+cmd|' /C calc'!A0", "4"],
        ["/max.txt", "9223372036854775", "2262-04-11T23:47:16.854775807+00:00", "File created", "/max.txt", "1"]]
    out = io.BytesIO()
    assert timeline_output.write_jsonl(events(con, TimelineFilter(since_ns=0)), out) == 1
    assert [(r["timestamp"], r["datetime"]) for r in map(json.loads, out.getvalue().splitlines())] == [
        (9223372036854775, "2262-04-11T23:47:16.854775807+00:00")]
    body = io.BytesIO()
    assert timeline_output.write_body(body_lines(con, TimelineFilter()), body) == 5
    assert [line.split("|")[-1] for line in body.getvalue().decode().splitlines()] == [
        "-86400", "9223372036", "-9223372037", "-9223372037", "-1"]


def test_a_closed_pipe_exits_141_quietly(tmp_path: Path) -> None:
    """`exhibit timeline CASE | head -1` with the reader gone: no "cannot write" claim, exit 141."""
    import os
    import sys

    case_dir = build_case(tmp_path)
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run([sys.executable, "-m", "ingest", "timeline", str(case_dir), "--unverified"], stdout=write_end,
                              stderr=subprocess.PIPE, check=False, env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
    finally:
        os.close(write_end)
    stderr = done.stderr.decode()
    assert done.returncode == 141
    assert "cannot write" not in stderr and "Traceback" not in stderr and "event(s)" not in stderr
