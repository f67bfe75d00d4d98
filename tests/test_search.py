"""Case-wide search (case/search.py, case/fold.py) over a synthetic case of two exhibits written as Parquet here.

The tables carry the column names of issue 11 (sent_time, store_table, modified_time, capture_time, ...),
and DuckDB views over them stand in for case/views.py.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from case import search
from case.fold import fold, fold_with_map
from case.search_output import write_hits

UTC_NS = pa.timestamp("ns", tz="UTC")
PARTICIPANT = pa.struct([pa.field("id", pa.string()), pa.field("name", pa.string())])


def ns(text: str) -> int:
    moment = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
    return int(moment.timestamp()) * 1_000_000_000


MESSAGES_SCHEMA = pa.schema([
    ("case_id", pa.string()), ("exhibit_id", pa.string()), ("message_index", pa.int64()), ("app", pa.string()),
    ("conversation_id", pa.string()), ("conversation_title", pa.string()), ("sender_id", pa.string()), ("sender_name", pa.string()),
    ("recipients", pa.list_(PARTICIPANT)), ("direction", pa.string()), ("sent_time", UTC_NS), ("body", pa.string()),
    ("message_kind", pa.string()), ("path", pa.string()), ("entry_index", pa.int64()), ("store_table", pa.string()), ("store_row_id", pa.int64()),
])
ARTEFACTS_SCHEMA = pa.schema([
    ("case_id", pa.string()), ("exhibit_id", pa.string()), ("entry_index", pa.int64()), ("path", pa.string()), ("logical_path", pa.string()),
    ("modified_time", UTC_NS), ("is_deleted", pa.bool_()),
])
MEDIA_SCHEMA = pa.schema([
    ("case_id", pa.string()), ("exhibit_id", pa.string()), ("media_index", pa.int64()), ("entry_index", pa.int64()), ("path", pa.string()),
    ("capture_time", UTC_NS), ("make", pa.string()), ("model", pa.string()), ("body_serial", pa.string()), ("lens_serial", pa.string()),
])

DB = "/data/data/com.whatsapp/databases/msgstore.db"


def _message(exhibit: str, index: int, body: str | None, sent: str | None, **extra: object) -> dict:
    row = {"case_id": "OP-1", "exhibit_id": exhibit, "message_index": index, "app": "WhatsApp", "conversation_id": "c1",
           "conversation_title": None, "sender_id": None, "sender_name": None, "recipients": None, "direction": "incoming",
           "sent_time": ns(sent) if sent else None, "body": body, "message_kind": "text", "path": DB, "entry_index": 7,
           "store_table": "message", "store_row_id": 100 + index}
    row.update(extra)
    return row


MESSAGES = {
    "JS/1": [
        _message("JS/1", 0, "Magpadala ka ng PERA sa GCash", "2026-03-01T08:00:00", sender_name="Juan dela Cruz", sender_id="+63 917 123 4567",
                 conversation_title="Pamilya", recipients=[{"id": "+1 555 0001", "name": "Ana Péra"}]),
        _message("JS/1", 1, "envíe el dinero ahora", "2026-03-02T09:30:00"),
        _message("JS/1", 2, "Wohnt in der STRASSE 5 - péra? Pèra!", "2026-03-03T10:00:00"),
        _message("JS/1", 3, "=cmd|' /C calc'!A0 \u202eevil\x1b[31m pera", "2026-03-04T11:00:00"),
        _message("JS/1", 4, "pe\u0301ra decomposed, p\u200be\u202eRA hidden", None),
        _message("JS/1", 5, None, None, message_kind="media"),
    ],
    "JS/2": [
        _message("JS/2", 0, "Straße nach ＰＥＲＡ, tel 0917-123-4567 or 09171234567", "2026-03-05T12:00:00", sender_id="639171234567"),
    ],
}
ARTEFACTS = {
    "JS/1": [{"case_id": "OP-1", "exhibit_id": "JS/1", "entry_index": 7, "path": DB, "logical_path": None,
              "modified_time": ns("2026-03-04T12:00:00"), "is_deleted": False},
             {"case_id": "OP-1", "exhibit_id": "JS/1", "entry_index": 8, "path": "/sdcard/Download/pera.txt", "logical_path": None,
              "modified_time": ns("2026-02-01T00:00:00"), "is_deleted": True}],
    "JS/2": [{"case_id": "OP-1", "exhibit_id": "JS/2", "entry_index": 3, "path": "/DCIM/Straße.jpg", "logical_path": "CameraRollDomain/Media/Straße.jpg",
              "modified_time": None, "is_deleted": False}],
}
MEDIA = {
    "JS/2": [{"case_id": "OP-1", "exhibit_id": "JS/2", "media_index": 0, "entry_index": 3, "path": "/DCIM/Straße.jpg",
              "capture_time": ns("2026-03-05T07:00:00"), "make": "Ｃａｎｏｎ", "model": "EOS PÉRA", "body_serial": "0123-4567", "lens_serial": None}],
}


def _write(folder: Path, name: str, rows: list[dict], schema: pa.Schema) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), path)
    return path


def _views(connection: duckdb.DuckDBPyConnection, files: dict[str, list[Path]]) -> None:
    for view, paths in files.items():
        listing = ", ".join("'" + str(p).replace("'", "''") + "'" for p in paths)
        connection.execute(f"CREATE VIEW {view} AS SELECT * FROM read_parquet([{listing}], union_by_name=true)")


@pytest.fixture()
def case(tmp_path: Path) -> duckdb.DuckDBPyConnection:
    files: dict[str, list[Path]] = {"messages": [], "artefacts": [], "media": []}
    for exhibit, folder in (("JS/1", tmp_path / "JS%2F1"), ("JS/2", tmp_path / "JS%2F2")):
        files["messages"].append(_write(folder, "messages", MESSAGES[exhibit], MESSAGES_SCHEMA))
        files["artefacts"].append(_write(folder, "artefacts", ARTEFACTS[exhibit], ARTEFACTS_SCHEMA))
        files["media"].append(_write(folder, "media", MEDIA.get(exhibit, []), MEDIA_SCHEMA))
    connection = duckdb.connect()
    _views(connection, files)
    return connection


def _hits(connection: duckdb.DuckDBPyConnection, *terms: str, **options: object) -> list[tuple]:
    matcher = search.build_matcher(terms=terms, regexes=options.pop("regexes", ()), terms_files=options.pop("terms_files", ()),
                                   identifiers=options.pop("identifiers", ()))
    found = search.search(connection, matcher, search.Filters(**options))
    return [(h.exhibit_id, h.table, h.field, h.start, h.end, h.match) for h in found]


# ---- folding ----------------------------------------------------------------------------------------


def test_fold_is_case_accent_and_compatibility_insensitive() -> None:
    assert {fold(t) for t in ("pera", "PERA", "péra", "Pèra", "pe\u0301ra", "ＰＥＲＡ")} == {"pera"}
    assert fold("STRAßE") == fold("Straße") == fold("STRASSE") == "strasse"
    assert fold("ﬁle") == "file" and fold("İstanbul") == "istanbul" and fold("Ⅻ") == "xii"
    assert fold("pe\u200bra") == fold("pe\u202era") == fold("pe\u00adra") == "pera"  # nothing hidden in a word hides it


def test_fold_maps_every_folded_character_back_to_the_original() -> None:
    folded = fold_with_map("Straße pe\u0301ra")
    assert folded.text == "strasse pera"
    assert folded.origin == [0, 1, 2, 3, 4, 4, 5, 6, 7, 8, 10, 11]
    assert folded.original_span(4, 5, "Straße pe\u0301ra") == (4, 5)  # one "s" of "ß" is the whole "ß"
    assert folded.original_span(8, 10, "Straße pe\u0301ra") == (7, 10)  # "pe" takes the accent that follows it
    assert fold_with_map("ascii").origin is None


# ---- terms ------------------------------------------------------------------------------------------


def test_a_term_finds_every_folded_form_on_the_original_span(case: duckdb.DuckDBPyConnection) -> None:
    assert _hits(case, "pera") == [
        ("JS/1", "messages", "body", 16, 20, "PERA"),
        ("JS/1", "messages", "recipients[0].name", 4, 8, "Péra"),
        ("JS/1", "messages", "body", 25, 29, "péra"),
        ("JS/1", "messages", "body", 31, 35, "Pèra"),
        ("JS/1", "messages", "body", 30, 34, "pera"),
        ("JS/1", "messages", "body", 0, 5, "pe\u0301ra"),
        ("JS/1", "messages", "body", 18, 24, "p\\u200be\\u202eRA"),
        ("JS/1", "artefacts", "path", 17, 21, "pera"),
        ("JS/2", "messages", "body", 12, 16, "ＰＥＲＡ"),
        ("JS/2", "media", "model", 4, 8, "PÉRA"),
    ]


def test_sharp_s_matches_ss_both_ways(case: duckdb.DuckDBPyConnection) -> None:
    assert _hits(case, "STRASSE") == [
        ("JS/1", "messages", "body", 13, 20, "STRASSE"),
        ("JS/2", "messages", "body", 0, 6, "Straße"),
        ("JS/2", "artefacts", "path", 6, 12, "Straße"),
        ("JS/2", "artefacts", "logical_path", 23, 29, "Straße"),
    ]
    assert _hits(case, "straße") == _hits(case, "STRASSE")
    assert _hits(case, "canon") == [("JS/2", "media", "make", 0, 5, "Ｃａｎｏｎ")]


def test_one_complete_hit(case: duckdb.DuckDBPyConnection) -> None:
    matcher = search.build_matcher(terms=["gcash"])
    (hit,) = search.search(case, matcher)
    assert hit.as_dict() == {
        "exhibit_id": "JS/1", "table": "messages", "field": "body", "time": "2026-03-01T08:00:00Z", "term": "gcash",
        "start": 24, "end": 29, "match": "GCash", "context": "Magpadala ka ng PERA sa GCash",
        "path": DB, "entry_index": 7, "store_table": "message", "store_row_id": 100, "message_index": 0, "media_index": None}
    (artefact,) = search.search(case, search.build_matcher(terms=["download"]))
    assert artefact.as_dict() == {
        "exhibit_id": "JS/1", "table": "artefacts", "field": "path", "time": "2026-02-01T00:00:00Z", "term": "download",
        "start": 8, "end": 16, "match": "Download", "context": "/sdcard/Download/pera.txt",
        "path": "/sdcard/Download/pera.txt", "entry_index": 8, "store_table": None, "store_row_id": None, "message_index": None, "media_index": None}
    (media,) = search.search(case, search.build_matcher(terms=["0123-4567"]))
    assert (media.table, media.field, media.time_ns, media.get("media_index"), media.get("entry_index"), media.get("path")) == (
        "media", "body_serial", ns("2026-03-05T07:00:00"), 0, 3, "/DCIM/Straße.jpg")


def test_sender_conversation_and_recipient_names_are_searched(case: duckdb.DuckDBPyConnection) -> None:
    assert _hits(case, "dela cruz", "pamilya", "ana") == [
        ("JS/1", "messages", "sender_name", 5, 14, "dela Cruz"),
        ("JS/1", "messages", "conversation_title", 0, 7, "Pamilya"),
        ("JS/1", "messages", "recipients[0].name", 0, 3, "Ana"),
    ]


def test_context_is_about_forty_characters_each_side_and_escaped(case: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    (hit,) = search.search(case, search.build_matcher(terms=["evil"]))
    assert hit.context == "=cmd|' /C calc'!A0 \\u202eevil\\x1b[31m pera"
    assert hit.match == "evil"
    long_text = "a" * 100 + "pera" + "b" * 100
    assert search.context_of(long_text, 100, 104) == ("…" + "a" * 40, "b" * 40 + "…")


# ---- regexes and terms files -------------------------------------------------------------------------


def test_regex_runs_on_the_folded_text(case: duckdb.DuckDBPyConnection) -> None:
    assert _hits(case, regexes=[r"env[ií]e\s+el\s+\w+"]) == [("JS/1", "messages", "body", 0, 15, "envíe el dinero")]
    assert _hits(case, regexes=[r"P[EÉ]RA\b"])[:1] == [("JS/1", "messages", "body", 16, 20, "PERA")]


@pytest.mark.parametrize("pattern, message", [
    ("(unclosed", "invalid regex (unclosed: missing ), unterminated subpattern at position 0"),
    ("a*", "regex a* matches the empty string, so it would match every value"),
])
def test_bad_regexes_are_refused(pattern: str, message: str) -> None:
    with pytest.raises(search.SearchUsageError) as caught:
        search.build_matcher(regexes=[pattern])
    assert str(caught.value) == message


def test_terms_file_with_comments_regexes_and_languages(case: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    terms = tmp_path / "demands.txt"
    terms.write_text("# payment demands, Tagalog\nmagpadala ka\n\n  # Spanish\nenvíe el dinero\nre:g\\s*cash\n", encoding="utf-8")
    assert _hits(case, terms_files=[terms]) == [
        ("JS/1", "messages", "body", 0, 12, "Magpadala ka"),
        ("JS/1", "messages", "body", 24, 29, "GCash"),
        ("JS/1", "messages", "body", 0, 15, "envíe el dinero"),
    ]
    labels = [h.term for h in search.search(case, search.build_matcher(terms_files=[terms]))]
    assert labels == ["magpadala ka", "re:g\\s*cash", "envíe el dinero"]


def test_bad_terms_files_are_refused_with_their_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("pera\nre:[z-a]\n", encoding="utf-8")
    with pytest.raises(search.SearchUsageError, match=r"bad.txt line 2: invalid regex \[z-a\]: bad character range z-a"):
        search.read_terms_file(bad)
    (tmp_path / "latin1.txt").write_bytes("p\xe9ra\n".encode("latin-1"))
    with pytest.raises(search.SearchUsageError, match=r"is not UTF-8 \(byte 1\)"):
        search.read_terms_file(tmp_path / "latin1.txt")
    (tmp_path / "comments.txt").write_text("# only a comment\n\n", encoding="utf-8")
    with pytest.raises(search.SearchUsageError, match="holds no term"):
        search.read_terms_file(tmp_path / "comments.txt")
    with pytest.raises(search.SearchUsageError, match="empty search term"):
        search.build_matcher(terms=["\u0301"])
    with pytest.raises(search.SearchUsageError, match="nothing to search for"):
        search.build_matcher()


# ---- filters and budgets -----------------------------------------------------------------------------


def test_since_and_until_filter_on_each_tables_time(case: duckdb.DuckDBPyConnection) -> None:
    since, until = search.parse_time("2026-03-03"), search.parse_time("2026-03-04", end_of_day=True)
    assert _hits(case, "pera", since_ns=since, until_ns=until) == [
        ("JS/1", "messages", "body", 25, 29, "péra"),
        ("JS/1", "messages", "body", 31, 35, "Pèra"),
        ("JS/1", "messages", "body", 30, 34, "pera"),
    ]
    assert _hits(case, "pera", since_ns=search.parse_time("2026-03-05T06:59:59Z")) == [
        ("JS/2", "messages", "body", 12, 16, "ＰＥＲＡ"),
        ("JS/2", "media", "model", 4, 8, "PÉRA"),
    ]
    assert _hits(case, "pera", exhibits=("JS/2",)) == _hits(case, "pera")[-2:]
    with pytest.raises(search.SearchUsageError, match="without UTC offset"):
        search.parse_time("2026-03-01T08:00:00")
    assert search.parse_time("2026-03-01T16:00:00+08:00") == ns("2026-03-01T08:00:00")


def test_the_hit_budget_is_said(case: duckdb.DuckDBPyConnection) -> None:
    report = search.SearchReport()
    hits = list(search.search(case, search.build_matcher(terms=["pera"]), report=report, hit_budget=3))
    assert len(hits) == 3 and report.budget_reached and report.stopped_in == "JS/1 messages"
    assert report.lines(3, search.FIELD_BUDGET)[-1] == "hit budget of 3 reached: the search stopped in JS/1 messages; more hits may exist"
    exact = search.SearchReport()
    assert len(list(search.search(case, search.build_matcher(terms=["pera"]), report=exact, hit_budget=10))) == 10
    assert not exact.budget_reached  # ten hits exist: a budget of ten misses none


def test_the_field_budget_is_counted(case: duckdb.DuckDBPyConnection) -> None:
    report = search.SearchReport()
    assert [h.start for h in search.search(case, search.build_matcher(terms=["pera"]), report=report, field_budget=20)] == [16, 4, 0, 12, 4]
    assert report.values_cut == 8  # of the candidate values read; each is counted once per search
    assert "8 values longer than 20 characters were searched in their first 20 characters only" in report.lines(10, 20)


# ---- identifiers --------------------------------------------------------------------------------------


def test_identifier_is_normalised_as_the_extractor_does() -> None:
    assert search.normalised_identifiers("+63 917 123 4567") == ["+639171234567"]
    assert search.normalised_identifiers("0917 123 4567") == []  # a national number needs its region
    assert search.normalised_identifiers("0917 123 4567", ("PH",)) == ["+639171234567"]
    assert search.normalised_identifiers("Juan@Example.COM") == ["juan@example.com"]
    assert search.normalised_identifiers("GB82 WEST 1234 5698 7654 32") == ["GB82WEST12345698765432"]
    assert search.normalised_identifiers("pay pera 0917") == []  # not one identifier whole


def test_identifier_is_a_whole_token(tmp_path: Path) -> None:
    rows = [_message("T/1", 0, "mail juan@example.com or juan@example.community, call +639171234567 not +6391712345678", None)]
    connection = duckdb.connect()
    _views(connection, {"messages": [_write(tmp_path, "messages", rows, MESSAGES_SCHEMA)]})
    hits = [(h.start, h.match) for h in search.search(connection, search.build_matcher(identifiers=["Juan@Example.COM", "+63 917 123 4567"]))]
    assert hits == [(5, "juan@example.com"), (54, "+639171234567")]


def test_identifier_matches_literally_and_by_digits(case: duckdb.DuckDBPyConnection) -> None:
    assert _hits(case, identifiers=["+63 917 123 4567"]) == [
        ("JS/1", "messages", "sender_id", 0, 16, "+63 917 123 4567"),
        ("JS/2", "messages", "sender_id", 0, 12, "639171234567"),
    ]
    assert _hits(case, identifiers=["0917 123 4567"]) == [
        ("JS/2", "messages", "body", 22, 35, "0917-123-4567"),
        ("JS/2", "messages", "body", 39, 50, "09171234567"),
    ]


def test_identifier_table_is_searched_when_present(case: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """identifiers (the ident extractor's table) has no time of its own: a hit takes its origin row's."""
    base = {"case_id": "OP-1", "exhibit_id": "JS/1", "identifier_kind": "phone", "path": DB, "entry_index": 7, "store_table": "message",
            "origin_field": "body", "origin_offset": 0}
    rows = [dict(base, identifier_index=0, identifier="+639171234567", identifier_raw="(0917) 123-4567", origin_table="messages", origin_index=0,
                 store_row_id=100),
            dict(base, exhibit_id="JS/2", identifier_index=0, identifier="0123-4567", identifier_raw="0123-4567", origin_table="media", origin_index=0,
                 path="/DCIM/Straße.jpg", entry_index=3, store_table=None, store_row_id=None, identifier_kind="camera_serial")]
    path = tmp_path / "identifiers.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    _views(case, {"identifiers": [path]})
    assert _hits(case, identifiers=["+63 917 123 4567"]) == [
        ("JS/1", "messages", "sender_id", 0, 16, "+63 917 123 4567"),
        ("JS/1", "identifiers", "identifier", 0, 13, "+639171234567"),
        ("JS/2", "messages", "sender_id", 0, 12, "639171234567"),
    ]
    (raw,) = search.search(case, search.build_matcher(terms=["(0917)"]))
    assert raw.as_dict() == {
        "exhibit_id": "JS/1", "table": "identifiers", "field": "identifier_raw", "time": "2026-03-01T08:00:00Z", "term": "(0917)",
        "start": 0, "end": 6, "match": "(0917)", "context": "(0917) 123-4567", "path": DB, "entry_index": 7, "store_table": "message",
        "store_row_id": 100, "message_index": 0, "media_index": None}
    serials = [(h.exhibit_id, h.table, h.field, h.time_ns, h.get("media_index")) for h in
               search.search(case, search.build_matcher(terms=["0123-4567"]), search.Filters(since_ns=ns("2026-03-05T00:00:00")))]
    assert serials == [("JS/2", "media", "body_serial", ns("2026-03-05T07:00:00"), 0),
                       ("JS/2", "identifiers", "identifier", ns("2026-03-05T07:00:00"), 0)]  # its raw text is the same: one hit
    # A national number is normalised as the extractor does, given the region: it then finds the E.164 identifier.
    national = [(h.exhibit_id, h.table, h.field, h.match, h.term) for h in
                search.search(case, search.build_matcher(identifiers=["0917 123 4567"], regions=("PH",)))]
    assert national == [
        ("JS/1", "messages", "sender_id", "+63 917 123 4567", "identifier:0917 123 4567 (+639171234567)"),
        ("JS/1", "identifiers", "identifier", "+639171234567", "identifier:0917 123 4567 (+639171234567)"),
        ("JS/1", "identifiers", "identifier_raw", "0917) 123-4567", "identifier:0917 123 4567 (+639171234567)"),
        ("JS/2", "messages", "body", "0917-123-4567", "identifier:0917 123 4567 (+639171234567)"),
        ("JS/2", "messages", "body", "09171234567", "identifier:0917 123 4567 (+639171234567)"),
        ("JS/2", "messages", "sender_id", "639171234567", "identifier:0917 123 4567 (+639171234567)"),
    ]


# ---- output -------------------------------------------------------------------------------------------


def test_csv_neutralises_formulas_and_json_keeps_the_report(case: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    report = search.SearchReport()
    out = tmp_path / "hits.csv"
    write_hits(search.search(case, search.build_matcher(terms=["=cmd"]), report=report), "csv", out, report, 10, search.FIELD_BUDGET)
    rows = list(csv.reader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert rows[0] == list(search.HIT_COLUMNS)
    assert rows[1][:9] == ["JS/1", "messages", "body", "2026-03-04T11:00:00Z", "'=cmd", "0", "4", "'=cmd", "'=cmd|' /C calc'!A0 \\u202eevil\\x1b[31m pera"]
    report = search.SearchReport()
    out = tmp_path / "hits.json"
    write_hits(search.search(case, search.build_matcher(terms=["pera"]), report=report, hit_budget=2), "json", out, report, 2, search.FIELD_BUDGET)
    document = json.loads(out.read_text(encoding="utf-8"))
    assert [h["match"] for h in document["hits"]] == ["PERA", "Péra"]
    assert document["complete"] is False
    assert document["notes"][-1] == "hit budget of 2 reached: the search stopped in JS/1 messages; more hits may exist"


def test_table_output_escapes_hostile_text(case: duckdb.DuckDBPyConnection) -> None:
    report = search.SearchReport()
    handle = io.StringIO()
    write_hits(search.search(case, search.build_matcher(terms=["evil"]), report=report), "table", handle, report, 10, search.FIELD_BUDGET)
    lines = handle.getvalue().splitlines()
    assert lines[1] == ("JS/1  messages.body  2026-03-04 11:00:00Z  evil  =cmd|' /C calc'!A0 \\u202e[evil]\\x1b[31m pera"
                        f"  ({DB} message#103 message_index 3)")
    assert "\x1b" not in handle.getvalue() and "\u202e" not in handle.getvalue()


def test_hostile_tables_cost_their_field_only(tmp_path: Path) -> None:
    """A body that is not text, recipients that are not structs or hold nulls, a table store name with control
    characters, and a value far over the field budget: each is searched or skipped with a note, never a crash."""
    rows = [{"exhibit_id": "X\x1b/1", "message_index": 0, "body": 12345, "sender_name": "PERA \u202ex", "recipients": [None, {"id": None, "name": "pera"}],
             "store_table": "t\x07", "store_row_id": 1, "sent_time": None, "path": "/a"},
            {"exhibit_id": "X\x1b/1", "message_index": 1, "body": 7, "sender_name": "p" * 3_000_000 + "pera", "recipients": None,
             "store_table": "t", "store_row_id": 2, "sent_time": None, "path": "/a"}]
    schema = pa.schema([("exhibit_id", pa.string()), ("message_index", pa.int64()), ("body", pa.int64()), ("sender_name", pa.string()),
                        ("recipients", pa.list_(PARTICIPANT)), ("store_table", pa.string()), ("store_row_id", pa.int64()), ("sent_time", UTC_NS),
                        ("path", pa.string())])
    path = _write(tmp_path, "messages", rows, schema)
    connection = duckdb.connect()
    _views(connection, {"messages": [path], "artefacts": [_write(tmp_path / "a", "artefacts", [{"exhibit_id": "X\x1b/1", "entry_index": 0, "path": 5}],
                                                                    pa.schema([("exhibit_id", pa.string()), ("entry_index", pa.int64()), ("path", pa.int64())]))]})
    report = search.SearchReport()
    hits = list(search.search(connection, search.build_matcher(terms=["pera"]), report=report))
    assert [(h.field, h.start, h.end, h.match, h.before, h.after) for h in hits] == [
        ("sender_name", 0, 4, "PERA", "", " \\u202ex"), ("recipients[1].name", 0, 4, "pera", "", "")]
    assert hits[0].as_dict()["exhibit_id"] == "X\\x1b/1" and hits[0].as_dict()["store_table"] == "t\\x07"
    assert report.notes == ["media: not in this case, not searched", "identifiers: not in this case, not searched",
                            "messages.body: not text (BIGINT), not searched", "artefacts.path: not text (BIGINT), not searched"]
    assert report.unread == report.notes[2:] and not report.complete  # a field not searched: the search is not complete
    assert report.values_cut == 1  # the 3,000,004-character name: its "pera" lies past the budget


def test_the_duckdb_prefilter_never_drops_a_row_the_exact_match_finds(tmp_path: Path) -> None:
    """Seeded random bodies mixing ASCII, accents, combining marks, full-width forms, ligatures, ß, odd spaces and
    digits: the search (DuckDB pre-filter, then Python) finds exactly what matching every row in Python finds."""
    import random

    pieces = list("pPeErRaAsSkK019 -.()/") * 12 + ["é", "È", "\u0301", "\u0308", "ß", "ẞ", "ﬁ", "ＰＥＲＡ", "\u212a", "\x0b", "\u00a0", "\u2003", "０９", "😀", "İ"]
    generator = random.Random(11)
    bodies = ["".join(generator.choice(pieces) for _ in range(generator.randint(1, 24))) for _ in range(3000)]
    rows = [_message("R/1", index, body, None) for index, body in enumerate(bodies)]
    path = _write(tmp_path, "messages", rows, MESSAGES_SCHEMA)
    connection = duckdb.connect()
    _views(connection, {"messages": [path]})
    matcher = search.build_matcher(terms=["pera", "ssk", "fi", "äs"], identifiers=["0 1 9"])
    report = search.SearchReport()
    found = [(h.get("message_index"), h.start, h.end, h.term) for h in search.search(connection, matcher, report=report, hit_budget=10**9)
             if h.field == "body"]
    expected = [(index, start, end, pattern.label) for index, body in enumerate(bodies)
                for pattern, start, end in matcher.find(matcher.for_field("messages", "body"), body)]
    assert found == expected
    assert (len(expected), report.rows_read) == (674, 1496)  # the pre-filter let half of the 3,000 rows through


def test_rows_are_sorted_when_duckdb_may_reorder_them(case: duckdb.DuckDBPyConnection) -> None:
    streamed = _hits(case, "pera")
    case.execute("SET preserve_insertion_order = false")
    assert _hits(case, "pera") == streamed


def test_a_part_that_cannot_be_read_costs_its_table_and_is_said(case: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    good = _write(tmp_path / "g", "media", MEDIA["JS/2"], MEDIA_SCHEMA)
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(good.read_bytes()[:-40] + b"\x00" * 40)  # footer destroyed
    case.execute("DROP VIEW media")
    case.execute(f"CREATE VIEW media AS SELECT * FROM read_parquet(['{good}', '{broken}'], union_by_name=false)")
    report = search.SearchReport()
    with pytest.raises(duckdb.Error):
        case.execute("SELECT * FROM media").fetchall()
    hits = [(h.exhibit_id, h.table, h.field) for h in search.search(case, search.build_matcher(terms=["canon"]), report=report)]
    assert hits == []
    assert report.notes[-1].startswith("media: cannot be read, not searched: InvalidInputException: Invalid Input Error: No magic bytes found")
    assert report.tables == ["messages", "artefacts"]


def test_a_read_that_fails_midway_costs_that_exhibits_table_only(case: duckdb.DuckDBPyConnection) -> None:
    case.execute("ALTER VIEW messages RENAME TO messages_ok")
    case.execute("CREATE VIEW messages AS SELECT * REPLACE (CASE WHEN exhibit_id = 'JS/1' AND message_index = 3 THEN error('unreadable page')"
                 " ELSE body END AS body) FROM messages_ok")
    report = search.SearchReport()
    hits = [(h.exhibit_id, h.table, h.field) for h in search.search(case, search.build_matcher(terms=["pera"]), report=report)]
    assert hits == [("JS/1", "artefacts", "path"), ("JS/2", "messages", "body"), ("JS/2", "media", "model")]
    assert report.notes == ["identifiers: not in this case, not searched",
                            "JS/1 messages: reading stopped after 0 candidate rows: InvalidInputException: Invalid Input Error: unreadable page"]


def test_exhibits_sealed_before_the_renames_are_read_under_the_old_names(case: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    """A case whose views hold both names (union by name): times and provenance come from whichever is set."""
    old = pa.schema([("exhibit_id", pa.string()), ("message_index", pa.int64()), ("body", pa.string()), ("sent", UTC_NS), ("received", UTC_NS),
                     ("source_path", pa.string()), ("source_entry_index", pa.int64()), ("source_table", pa.string()), ("source_row_id", pa.int64())])
    path = _write(tmp_path / "old", "messages", [{"exhibit_id": "OLD/1", "message_index": 0, "body": "pera", "sent": None,
                                                   "received": ns("2020-01-01T00:00:00"), "source_path": "/sms.db", "source_entry_index": 4,
                                                   "source_table": "sms", "source_row_id": 9}], old)
    new = _write(tmp_path / "new", "messages", MESSAGES["JS/2"], MESSAGES_SCHEMA)
    case.execute("DROP VIEW messages")
    _views(case, {"messages": [new, path]})
    hits = [(h.exhibit_id, h.time_ns, h.get("path"), h.get("entry_index"), h.get("store_table"), h.get("store_row_id"))
            for h in search.search(case, search.build_matcher(terms=["pera"])) if h.table == "messages"]
    assert hits == [("JS/2", ns("2026-03-05T12:00:00"), DB, 7, "message", 100), ("OLD/1", ns("2020-01-01T00:00:00"), "/sms.db", 4, "sms", 9)]


def test_times_keep_nanoseconds_and_bad_dates_are_refused() -> None:
    assert search.parse_time("2026-03-01T08:00:00.123456789Z") == ns("2026-03-01T08:00:00") + 123_456_789
    assert search.parse_time("2026-03-01", end_of_day=True) == ns("2026-03-02T00:00:00") - 1
    with pytest.raises(search.SearchUsageError, match="not a date: 2026-02-30"):
        search.parse_time("2026-02-30")
    with pytest.raises(search.SearchUsageError, match="not an ISO 8601 time: yesterday"):
        search.parse_time("yesterday")


# ---- review fixes: one hit per occurrence, fixed order, parts read one by one, timeless rows ------------


@pytest.mark.parametrize(("text", "term", "spans"), [
    ("ß", "s", [(0, 1)]),  # folded "ss": two folded matches, one original character, one hit
    ("ßß", "ss", [(0, 1), (1, 2)]),  # two occurrences, two hits
    ("ßß", "sss", [(0, 2)]),
    ("Straße", "s", [(0, 1), (4, 5)]),
    ("ﬁle ﬁ", "f", [(0, 1), (4, 5)]),  # the ligature folds to "fi"
    ("ﬁle ﬁ", "i", [(0, 1), (4, 5)]),
    ("ﬁle", "fi", [(0, 1)]),
    ("e\u0301e\u0301", "e", [(0, 2), (2, 4)]),  # the combining accent belongs to its letter
    ("İİ", "i", [(0, 1), (1, 2)]),  # Turkish dotted capital I: "i" plus a combining dot, folded to "i"
    ("İstanbul", "istanbul", [(0, 8)]),
])
def test_one_hit_per_original_occurrence(text: str, term: str, spans: list[tuple[int, int]]) -> None:
    matcher = search.build_matcher(terms=[term])
    assert [(start, end) for _pattern, start, end in matcher.find(matcher.patterns, text)] == spans


def test_terms_with_regex_metacharacters_are_literal_in_the_prefilter(tmp_path: Path) -> None:
    rows = [_message("M/1", 0, "c++ and (x) a.b", None), _message("M/1", 1, "cxx and axb", None)]
    connection = duckdb.connect()
    _views(connection, {"messages": [_write(tmp_path, "messages", rows, MESSAGES_SCHEMA)]})
    assert _hits(connection, "c++", "(x)", "a.b") == [
        ("M/1", "messages", "body", 0, 3, "c++"), ("M/1", "messages", "body", 8, 11, "(x)"), ("M/1", "messages", "body", 12, 15, "a.b")]


IDENTIFIER_SCHEMA = pa.schema([("exhibit_id", pa.string()), ("identifier_index", pa.int64()), ("identifier", pa.string()),
                               ("identifier_raw", pa.string()), ("origin_table", pa.string()), ("origin_index", pa.int64())])


def test_identifier_hits_come_in_identifier_index_order(tmp_path: Path) -> None:
    """Stored out of order, and joined to their origin message for the time: the hits still come by identifier_index,
    so --max-hits N gives the same first N every time."""
    messages = _write(tmp_path, "messages", [_message("I/1", i, f"m{i}", f"2026-03-0{i + 1}T00:00:00") for i in range(3)], MESSAGES_SCHEMA)
    rows = [{"exhibit_id": "I/1", "identifier_index": index, "identifier": f"+6391700000{index:02d}", "identifier_raw": f"+6391700000{index:02d}",
             "origin_table": "messages", "origin_index": index % 3} for index in (7, 2, 9, 0, 5, 1, 8, 3, 6, 4)]
    identifiers = tmp_path / "identifiers.parquet"
    pq.write_table(pa.Table.from_pylist(rows, schema=IDENTIFIER_SCHEMA), identifiers, row_group_size=3)
    parts = {"messages": [messages], "identifiers": [identifiers]}
    connection = duckdb.connect()
    matcher = search.build_matcher(terms=["+63917"])
    found = [(h.get("message_index"), h.context, h.time_ns) for h in search.search(connection, matcher, parts=parts)]
    assert [match for _index, match, _time in found] == [f"+6391700000{index:02d}" for index in range(10)]
    assert found[:3] == [(0, "+639170000000", ns("2026-03-01T00:00:00")), (1, "+639170000001", ns("2026-03-02T00:00:00")),
                         (2, "+639170000002", ns("2026-03-03T00:00:00"))]
    for _ in range(3):
        report = search.SearchReport()
        assert [h.context for h in search.search(connection, matcher, report=report, hit_budget=4, parts=parts)] == [
            "+639170000000", "+639170000001", "+639170000002", "+639170000003"]
        assert not report.complete


def _parts_case(tmp_path: Path) -> dict[str, list[Path]]:
    """Three exhibits' messages parts, one folder each (as CaseViews.files lists them)."""
    return {"messages": [_write(tmp_path / f"P%2F{n}", "messages", [_message(f"P/{n}", 0, f"pera {n}", "2026-03-01T00:00:00")], MESSAGES_SCHEMA)
                         for n in (1, 2, 3)]}


def test_an_unreadable_part_is_said_and_the_search_is_incomplete(tmp_path: Path) -> None:
    parts = _parts_case(tmp_path)
    broken = parts["messages"][1]
    broken.write_bytes(broken.read_bytes()[:100])  # truncated: no footer
    report = search.SearchReport()
    hits = [(h.exhibit_id, h.match) for h in search.search(duckdb.connect(), search.build_matcher(terms=["pera"]), report=report, parts=parts)]
    assert hits == [("P/1", "pera"), ("P/3", "pera")]  # the other exhibits are searched
    assert len(report.unread) == 1 and report.unread[0].startswith(f"{broken}: messages: cannot be read, not searched: InvalidInputException: ")
    assert not report.complete
    assert report.lines(10, 10)[-1] == "the search is incomplete: 1 part(s), table(s) or field(s) could not be read or searched (named above)"
    out = io.StringIO()
    write_hits(iter([]), "json", out, report, 10, 10)
    assert json.loads(out.getvalue())["complete"] is False


def test_a_wrong_typed_part_costs_that_part_only(tmp_path: Path) -> None:
    parts = _parts_case(tmp_path)
    typed = parts["messages"][0]
    schema = MESSAGES_SCHEMA.set(MESSAGES_SCHEMA.get_field_index("body"), pa.field("body", pa.int64()))
    pq.write_table(pa.Table.from_pylist([_message("P/1", 0, 1234, "2026-03-01T00:00:00", conversation_title="pera title")], schema=schema), typed)
    report = search.SearchReport()
    hits = [(h.exhibit_id, h.field, h.match) for h in search.search(duckdb.connect(), search.build_matcher(terms=["pera"]), report=report, parts=parts)]
    assert hits == [("P/1", "conversation_title", "pera"), ("P/2", "body", "pera"), ("P/3", "body", "pera")]
    assert report.unread == [f"{typed}: messages.body: not text (BIGINT), not searched"]
    assert not report.complete


def test_rows_without_a_time_are_counted_under_since_and_until(case: duckdb.DuckDBPyConnection) -> None:
    report = search.SearchReport()
    matcher = search.build_matcher(terms=["pera"])
    hits = [(h.exhibit_id, h.table, h.get("message_index")) for h in search.search(case, matcher, search.Filters(since_ns=ns("2026-01-01T00:00:00")), report)]
    # message 0: its body and recipient Ana Péra; message 2: péra and Pèra
    assert hits == [("JS/1", "messages", 0), ("JS/1", "messages", 0), ("JS/1", "messages", 2), ("JS/1", "messages", 2), ("JS/1", "messages", 3), ("JS/1", "artefacts", None),
                    ("JS/2", "messages", 0), ("JS/2", "media", None)]
    assert report.timeless == 1  # message 4 (two hits, no time); message 5 has no body; JS/2's Straße.jpg has no "pera"
    assert "1 row with a hit but no time left out by --since/--until" in report.lines(10, 10)
    assert report.complete  # left out as asked, and said: nothing unread
    unbounded = search.SearchReport()
    list(search.search(case, matcher, report=unbounded))
    assert unbounded.timeless == 0
