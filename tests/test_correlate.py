"""exhibit correlate's library: links across exhibits of a synthetic three-exhibit case, ranked, with the
known-noise list, the output formats, and GraphML/GEXF read back by xml.etree and networkx."""

from __future__ import annotations

import csv
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from case import correlate as correlate_module
from case import correlate_output, graph_export, output
from case.correlate import CORRELATIONS, correlate
from case.noise import Noise, NoiseFileError, load_noise, parse_line
from case.times import iso_utc
from manifests.files import atomic_output
from tests.case_fixture import GROUP, H_HOSTILE, H_SHARED, HOSTILE, OWNER_A, OWNER_B, A, B, C, build_case, connect, ns

EVERY = (A, B, C)


@pytest.fixture()
def case_dir(tmp_path: Path) -> Path:
    return build_case(tmp_path)


def _rows(correlation) -> list[tuple]:
    return [(l.link_kind, l.value, l.exhibit_count, l.exhibits, l.occurrences, l.first_seen_ns, l.last_seen_ns)
            for l in correlation.links()]


# Every link of the case, in rank order, before any noise file: what each one is, and why it is here.
ALL_LINKS = [
    # OWNER_B owns B and C (WhatsApp) and is the sender of A's message 1: 1 contact row + 4 + 1 owner rows
    ("contact_owner:WhatsApp", OWNER_B, 3, EVERY, 6, ns("2026-01-03T09:05:00.250Z"), ns("2026-01-06T10:00:00Z")),
    ("conversation:WhatsApp", GROUP, 3, EVERY, 4, ns("2026-01-03T09:00:00Z"), ns("2026-01-06T10:00:00Z")),
    # the upper-case hash of C counts with the others; first = C's created, last = B's modified
    ("file_sha256", H_SHARED, 3, EVERY, 3, ns("2025-12-31T23:00:00Z"), ns("2026-01-02T10:00:00Z")),
    # the identifiers carry the time of the message they were found in
    ("identifier:phone", "+447700900002", 3, EVERY, 3, ns("2026-01-03T09:05:00.250Z"), ns("2026-01-06T10:00:00Z")),
    # OWNER_B's number: from the account_id of B and C, and a sender id on A
    ("owner_identifier:phone", "+447700900002", 3, EVERY, 3, ns("2026-01-03T09:05:00.250Z"), ns("2026-01-06T10:00:00Z")),
    # OWNER_A owns A (5 messages) and is a recipient on B
    ("contact_owner:WhatsApp", OWNER_A, 2, (A, B), 6, ns("2026-01-03T09:00:00Z"), ns("2026-01-03T15:00:00Z")),
    ("account:WhatsApp", OWNER_B, 2, (B, C), 5, ns("2026-01-03T09:05:00.250Z"), ns("2026-01-06T10:00:00Z")),
    ("conversation:WhatsApp", HOSTILE, 2, (A, B), 2, ns("2026-01-03T14:00:00Z"), ns("2026-01-03T14:30:00Z")),
    ("conversation:WhatsApp", "noisy-chat", 2, (A, B), 2, ns("2026-01-03T15:00:00Z"), ns("2026-01-03T15:30:00Z")),
    ("file_sha256", H_HOSTILE, 2, (A, B), 2, ns("2026-01-04T07:00:00Z"), ns("2026-01-04T08:00:00Z")),
    ("identifier:phone", "+15550000000", 2, (A, B), 2, ns("2026-01-03T15:00:00Z"), ns("2026-01-03T15:30:00Z")),
    ("identifier:phone", "+447700900001", 2, (A, B), 2, ns("2026-01-03T09:00:00Z"), ns("2026-01-03T09:05:00.250Z")),
    # OWNER_A's number: A's account_id, a recipient on B
    ("owner_identifier:phone", "+447700900001", 2, (A, B), 2, ns("2026-01-03T09:00:00Z"), ns("2026-01-03T09:05:00.250Z")),
]
# Never links: the empty file's hash, a 0-byte file's hash (on B and C), status@broadcast (default noise),
# the SMS conversation and sender 12345 and the identifier +1234 (short codes), STRANGER (a contact owned
# nowhere), OWNER_A as an account (one exhibit only).


def test_every_link_ranked_exactly(case_dir: Path) -> None:
    con = connect(case_dir)
    correlation = correlate(con)
    assert _rows(correlation) == ALL_LINKS
    assert correlation.count() == 13
    assert correlation.exhibits() == [A, B, C]


def test_edges_carry_role_occurrences_and_times(case_dir: Path) -> None:
    correlation = correlate(connect(case_dir))
    edges = [(e.rank, e.exhibit_id, e.role, e.occurrences, e.first_seen_ns, e.last_seen_ns) for e in correlation.edges()]
    assert edges[:3] == [
        (1, A, "contact", 1, ns("2026-01-03T09:05:00.250Z"), ns("2026-01-03T09:05:00.250Z")),
        (1, B, "owner", 4, ns("2026-01-03T09:05:00.250Z"), ns("2026-01-03T15:30:00Z")),
        (1, C, "owner", 1, ns("2026-01-06T10:00:00Z"), ns("2026-01-06T10:00:00Z")),
    ]
    assert [(e[0], e[1], e[2]) for e in edges[12:17]] == [(5, A, "contact"), (5, B, "owner"), (5, C, "owner"),
                                                          (6, A, "owner"), (6, B, "contact")]
    assert len(edges) == 3 * 5 + 2 * 8
    # one edge per exhibit and value: an exhibit never is both owner and contact of one account
    assert len({(e[0], e[1]) for e in edges}) == len(edges)


def test_noise_file_kind_scoped_and_bare(case_dir: Path, tmp_path: Path) -> None:
    noise_file = tmp_path / "noise.txt"
    noise_file.write_text("# lab noise\n\nidentifier:+15550000000\n  noisy-chat  \naccount:" + GROUP + "\n*:file_sha256:x\n",
                          encoding="utf-8")
    noise = load_noise(noise_file)
    assert noise.by_family == frozenset({("identifier", "+15550000000"), ("account", GROUP.lower())})
    assert "noisy-chat" in noise.anywhere and "file_sha256:x" in noise.anywhere and "status@broadcast" in noise.anywhere
    rows = _rows(correlate(connect(case_dir), noise=noise))
    # the account-scoped GROUP entry does not touch the conversation of that id
    assert rows == [row for row in ALL_LINKS if row[1] not in ("+15550000000", "noisy-chat")]


def test_noise_matches_case_insensitively_and_defaults_apply(case_dir: Path) -> None:
    noise = Noise(anywhere=Noise().anywhere | {H_SHARED.upper().lower(), "447700900002@S.WHATSAPP.NET".lower()})
    rows = _rows(correlate(connect(case_dir), noise=noise))
    assert [r[1] for r in rows] == [GROUP, "+447700900002", "+447700900002", OWNER_A, HOSTILE, "noisy-chat", H_HOSTILE,
                                    "+15550000000", "+447700900001", "+447700900001"]


def test_noise_lines() -> None:
    assert parse_line("   ") is None and parse_line("# x") is None
    assert parse_line("conversation:ABC@g.us") == ("conversation", "abc@g.us")
    assert parse_line("https://x.example/a") == (None, "https://x.example/a")  # not a family: a bare value
    assert parse_line("*:account:x") == (None, "account:x")
    assert parse_line("identifier:") is None  # a family with no value names nothing


def test_noise_file_hostile(tmp_path: Path) -> None:
    missing = tmp_path / "none.txt"
    with pytest.raises(NoiseFileError, match="cannot be read"):
        load_noise(missing)
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"ok\n\xff\xfe\n")
    with pytest.raises(NoiseFileError, match="not UTF-8"):
        load_noise(bad)
    big = tmp_path / "big.txt"
    with open(big, "wb") as handle:
        handle.truncate(16 * 1024 * 1024 + 1)
    with pytest.raises(NoiseFileError, match="larger than"):
        load_noise(big)
    with pytest.raises(NoiseFileError, match="cannot be read"):
        load_noise(tmp_path)  # a folder


def test_min_exhibits_and_exhibit_selection(case_dir: Path) -> None:
    con = connect(case_dir)
    assert _rows(correlate(con, min_exhibits=3)) == ALL_LINKS[:5]
    assert [r[:5] for r in _rows(correlate(con, exhibits=[A, B]))] == [
        ("contact_owner:WhatsApp", OWNER_A, 2, (A, B), 6),
        ("contact_owner:WhatsApp", OWNER_B, 2, (A, B), 5),
        ("conversation:WhatsApp", GROUP, 2, (A, B), 3),
        ("conversation:WhatsApp", HOSTILE, 2, (A, B), 2),
        ("conversation:WhatsApp", "noisy-chat", 2, (A, B), 2),
        ("file_sha256", H_SHARED, 2, (A, B), 2),
        ("file_sha256", H_HOSTILE, 2, (A, B), 2),
        ("identifier:phone", "+15550000000", 2, (A, B), 2),
        ("identifier:phone", "+447700900001", 2, (A, B), 2),
        ("identifier:phone", "+447700900002", 2, (A, B), 2),
        ("owner_identifier:phone", "+447700900001", 2, (A, B), 2),
        ("owner_identifier:phone", "+447700900002", 2, (A, B), 2),
    ]
    assert _rows(correlate(con, exhibits=[C])) == []
    with pytest.raises(ValueError):
        correlate(con, min_exhibits=0)


def _edges(correlation) -> list[tuple]:
    names = {l.rank: (l.link_kind, l.value) for l in correlation.links()}
    return [(*names[e.rank], e.exhibit_id, e.role, e.occurrences, e.first_seen_ns, e.last_seen_ns) for e in correlation.edges()]


def test_the_shared_value_prefilter_changes_nothing(case_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With min_exhibits >= 2 only values whose 64-bit hash is on two exhibits are grouped exactly (the 25-million
    artefact case, docs/benchmarks.md): the links and edges are those of grouping every occurrence, and hashes
    that collide all the time change nothing either (a collision only lets a value through to the exact count)."""
    con = connect(case_dir)
    unfiltered = correlate(con, min_exhibits=1)
    assert "corr_shared" not in correlate_module._occurrences("SELECT 1", 1)
    wide = [r for r in _rows(unfiltered) if r[2] >= 2]
    wide_edges = [e for e in _edges(unfiltered) if (e[0], e[1]) in {(r[0], r[1]) for r in wide}]
    assert len(_rows(unfiltered)) > len(wide)  # values on one exhibit exist, so the filter has work to do
    assert wide == ALL_LINKS
    filtered = correlate(con)
    assert _rows(filtered) == ALL_LINKS
    assert _edges(filtered) == wide_edges
    occurrences = correlate_module._occurrences
    monkeypatch.setattr(correlate_module, "_occurrences",
                        lambda union, n: occurrences(union, n).replace("hash(link_kind, value)", "length(value) % 3"))
    colliding = correlate(con)
    assert _rows(colliding) == ALL_LINKS
    assert _edges(colliding) == wide_edges
    assert _rows(correlate(con, min_exhibits=3)) == ALL_LINKS[:5]


def test_without_identifiers_or_messages(tmp_path: Path) -> None:
    case_dir = build_case(tmp_path, identifiers=False)
    rows = _rows(correlate(connect(case_dir)))
    assert [r for r in rows if "identifier" in r[0]] == []
    assert len(rows) == 8
    con = connect(case_dir)
    con.execute("DROP VIEW messages")
    assert [r[0] for r in _rows(correlate(con))] == ["file_sha256", "file_sha256"]


def _written(correlation, output_format: str) -> bytes:
    out = io.BytesIO()
    output.WRITERS[output_format](correlate_output.result(correlation), out)
    return out.getvalue()


def test_formats_are_those_of_query(case_dir: Path, tmp_path: Path) -> None:
    correlation = correlate(connect(case_dir))
    rows = list(csv.reader(io.StringIO(_written(correlation, "csv").decode("utf-8"))))
    assert rows[0] == list(CORRELATIONS.column_names())
    assert rows[1] == ["contact_owner:WhatsApp", OWNER_B, "3", '["A/1", "B/2", "C/3"]', "6", "2026-01-03T09:05:00.250000000Z",
                       "2026-01-06T10:00:00.000000000Z"]
    # CSV keeps text exact, as query's CSV does, but a formula-like cell gets its quote
    assert rows[8][1] == "'" + HOSTILE
    assert rows[4][1] == "'+447700900002"

    lines = _written(correlation, "json").splitlines()
    assert all(line.isascii() for line in lines)
    assert json.loads(lines[7])["value"] == HOSTILE  # exact
    assert json.loads(lines[0]) == {"link_kind": "contact_owner:WhatsApp", "value": OWNER_B, "exhibit_count": 3,
                                    "exhibits": [A, B, C], "occurrences": 6, "first_seen_time": "2026-01-03T09:05:00.250000000Z",
                                    "last_seen_time": "2026-01-06T10:00:00.000000000Z"}

    table = _written(correlation, "table").decode("utf-8")
    assert table.splitlines()[9].startswith("conversation:WhatsApp  | =cmd<&\"'\\x00\\u202e\ufffe>x ")
    assert "\x00" not in table and "\u202e" not in table

    target = tmp_path / "links.parquet"
    assert output.write(correlate_output.result(correlation), "parquet", target, io.BytesIO()).rows == 13
    written = pq.read_table(target)
    assert written.schema.equals(CORRELATIONS.arrow_schema(), check_metadata=False)
    assert written.schema.metadata[b"exhibit.table"] == b"correlations"
    first = written.slice(0, 1).to_pylist()[0]
    assert first["value"] == OWNER_B and first["exhibits"] == [A, B, C]
    assert written.column("first_seen_time").cast("int64").to_pylist()[0] == ns("2026-01-03T09:05:00.250Z")
    assert written.column("value").to_pylist()[7] == HOSTILE


def _expected_nodes() -> dict[str, dict]:
    """Nodes of the full case's graph as networkx reads them back (GraphML types)."""
    nodes: dict[str, dict] = {"x0": {"node_kind": "exhibit", "label": A}, "x1": {"node_kind": "exhibit", "label": B},
                              "x2": {"node_kind": "exhibit", "label": C}}
    labels = {HOSTILE: "=cmd<&\"'\\x00\\u202e\\ufffe>x"}
    for rank, (kind, value, count, _, occurrences, first, last) in enumerate(ALL_LINKS, start=1):
        node = {"node_kind": "value", "label": labels.get(value, value), "link_kind": kind, "exhibit_count": count,
                "occurrences": occurrences}
        if first is not None:
            node["first_seen_time"] = iso_utc(first)
            node["last_seen_time"] = iso_utc(last)
        nodes[f"v{rank}"] = node
    return nodes


def test_graphml_and_gexf_parse_back(case_dir: Path, tmp_path: Path) -> None:
    correlation = correlate(connect(case_dir))
    graphml, gexf = tmp_path / "links.graphml", tmp_path / "links.gexf"
    graph_export.write_files(correlation, graphml, gexf)
    raw = graphml.read_bytes()
    assert b"\x00" not in raw and "\u202e".encode() not in raw and "\ufffe".encode() not in raw
    assert b"=cmd&lt;&amp;\"'\\x00\\u202e\\ufffe&gt;x" in raw

    namespace = {"g": graph_export.GRAPHML_NS}
    root = ET.parse(graphml).getroot()
    node_ids = [n.get("id") for n in root.iterfind("g:graph/g:node", namespace)]
    assert node_ids == ["x0", "x1", "x2"] + [f"v{i}" for i in range(1, 14)]
    edges = [(e.get("id"), e.get("source"), e.get("target")) for e in root.iterfind("g:graph/g:edge", namespace)]
    assert edges[:4] == [("e0", "x0", "v1"), ("e1", "x1", "v1"), ("e2", "x2", "v1"), ("e3", "x0", "v2")]
    assert len(edges) == 31
    gexf_root = ET.parse(gexf).getroot()
    gexf_ns = {"x": graph_export.GEXF_NS}
    assert [n.get("label") for n in gexf_root.iterfind("x:graph/x:nodes/x:node", gexf_ns)][10] == "=cmd<&\"'\\x00\\u202e\\ufffe>x"
    assert [e.get("weight") for e in gexf_root.iterfind("x:graph/x:edges/x:edge", gexf_ns)][:3] == ["1", "4", "1"]

    # the same case gives the same bytes
    again = tmp_path / "again.graphml"
    with atomic_output(again) as handle:
        graph_export.write_graphml(correlate(connect(case_dir)), handle)
    assert again.read_bytes() == raw


def test_graph_files_read_by_networkx(case_dir: Path, tmp_path: Path) -> None:
    nx = pytest.importorskip("networkx")
    correlation = correlate(connect(case_dir))
    graphml, gexf = tmp_path / "links.graphml", tmp_path / "links.gexf"
    graph_export.write_files(correlation, graphml, gexf)
    expected_nodes = _expected_nodes()
    expected_edges = {}
    for index, edge in enumerate(correlation.edges()):
        data = {"role": edge.role, "occurrences": edge.occurrences, "id": f"e{index}"}
        if edge.first_seen_ns is not None:
            data["first_seen_time"] = iso_utc(edge.first_seen_ns)
            data["last_seen_time"] = iso_utc(edge.last_seen_ns)
        source = {A: "x0", B: "x1", C: "x2"}[edge.exhibit_id]
        expected_edges[(source, f"v{edge.rank}")] = data

    from_graphml = nx.read_graphml(graphml)
    assert from_graphml.is_directed()
    assert dict(from_graphml.nodes(data=True)) == expected_nodes
    assert {(u, v): d for u, v, d in from_graphml.edges(data=True)} == expected_edges

    from_gexf = nx.read_gexf(gexf)
    assert dict(from_gexf.nodes(data=True)) == expected_nodes
    assert {(u, v): d for u, v, d in from_gexf.edges(data=True)} == {
        key: {**data, "weight": float(data["occurrences"])} for key, data in expected_edges.items()}


def test_xml_text_escapes_what_xml_cannot_hold() -> None:
    assert graph_export.xml_text("a\x00b\x1f\ufffe\uffff\u202e\\") == "a\\x00b\\x1f\\ufffe\\uffff\\u202e\\\\"
    assert graph_export.xml_text("\U0001F600 ok <&>") == "\U0001F600 ok <&>"


def test_atomic_output_leaves_nothing_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.csv"
    target.write_text("before")
    with pytest.raises(RuntimeError):
        with atomic_output(target) as handle:
            handle.write(b"half")
            raise RuntimeError("stop")
    assert target.read_text() == "before"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]


def test_identifier_times_come_from_their_message_or_photo(case_dir: Path) -> None:
    con = connect(case_dir)
    found = pa.table({
        "exhibit_id": [A, B], "identifier_kind": ["camera_serial", "camera_serial"], "identifier": ["SN 0042", "SN 0042"],
        "origin_table": ["media", "messages"], "origin_index": pa.array([0, 0], pa.int64()),
        "origin_field": ["body_serial", "body"],
    })
    con.register("found_identifiers", found)
    con.execute("CREATE OR REPLACE VIEW identifiers AS SELECT * FROM found_identifiers")
    rows = [r for r in _rows(correlate(con)) if "identifier" in r[0]]
    # A's from its photo's capture time, B's from its message 0
    assert rows == [("identifier:camera_serial", "SN 0042", 2, (A, B), 2, ns("2026-01-01T10:00:00Z"), ns("2026-01-03T09:05:00.250Z"))]


def test_links_not_read_are_named(tmp_path: Path) -> None:
    con = connect(build_case(tmp_path, identifiers=False))
    correlation = correlate(con)
    assert correlation.notes == ["identifier and owner_identifier links: not read (the case has no identifiers view)"]


def test_cli(case_dir: Path, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from ingest.cli import main

    out = tmp_path / "out"
    out.mkdir()
    noise = out / "noise.txt"
    noise.write_text("noisy-chat\n", encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(main, ["correlate", str(case_dir), "--unverified", "--format", "csv", "--output", str(out / "links.csv"),
                                  "--graphml", str(out / "links.graphml"), "--gexf", str(out / "links.gexf"),
                                  "--noise", str(noise), "--min-exhibits", "2"])
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines()[-1] == (f"12 shared value(s) -> {out / 'links.csv'}, {out / 'links.graphml'}, "
                                              f"{out / 'links.gexf'}")
    rows = list(csv.reader(io.StringIO((out / "links.csv").read_text(encoding="utf-8"))))
    assert [row[1].removeprefix("'") for row in rows[1:]] == [row[1] for row in ALL_LINKS if row[1] != "noisy-chat"]
    ET.parse(out / "links.graphml")
    ET.parse(out / "links.gexf")

    only = runner.invoke(main, ["correlate", str(case_dir), "--unverified", "--format", "json", "--exhibit", A, "--exhibit", B,
                                "--min-exhibits", "2"])
    assert only.exit_code == 0
    assert [json.loads(line)["exhibits"] for line in only.stdout.splitlines()][:2] == [[A, B], [A, B]]

    # nothing verifies: every exhibit skipped (named), exit 1
    skipped = runner.invoke(main, ["correlate", str(case_dir)])
    assert skipped.exit_code == 1
    assert f"skipped {A}: its manifest does not verify" in skipped.stderr

    for arguments, message in (
        (["--noise", str(out / "none.txt")], "cannot be read"),
        (["--output", str(case_dir / "x.csv")], "inside the case folder"),
        (["--graphml", str(case_dir / "A%2F1" / "g.graphml")], "inside the case folder"),
        (["--format", "parquet"], "needs --output"),
        (["--gexf", str(out / "missing" / "g.gexf")], "no such folder"),
        (["--min-exhibits", "0"], "0"),
    ):
        refused = runner.invoke(main, ["correlate", str(case_dir), "--unverified", *arguments])
        assert refused.exit_code == 2, arguments
        assert message in refused.output
    assert sorted(p.name for p in case_dir.iterdir()) == ["A%2F1", "B%2F2", "C%2F3", "custody.parquet"]


def test_a_type_confused_view_is_left_out_and_named(case_dir: Path) -> None:
    con = connect(case_dir)
    con.execute("CREATE OR REPLACE VIEW artefacts AS SELECT 'X' AS exhibit_id, 'big' AS size, 5 AS sha256, "
                "'yesterday' AS created_time, 1.5 AS modified_time")
    correlation = correlate(con)
    assert correlation.notes == ["file_sha256 links: not read (artefacts has a column of an unexpected type (sha256 is INTEGER; "
                                 "size is VARCHAR; created_time is VARCHAR; modified_time is DECIMAL(2,1)): an exhibit not "
                                 "written by Exhibit?)"]
    assert [r for r in _rows(correlation) if r[0] == "file_sha256"] == []
    assert len(_rows(correlation)) == 11
