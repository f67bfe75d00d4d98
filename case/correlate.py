"""Links across devices: values (a file's SHA-256, an identifier, a conversation, an account) found on
more than one exhibit of a case, ranked by how many exhibits share them.

Works on an open DuckDB connection whose views (artefacts, messages, and identifiers when present)
cover the case (case/views.py). Every occurrence of a value becomes one row of a temporary
occurrence relation; known noise is dropped there, before exhibits are counted; the links and the
per-exhibit edges are then kept in two temporary tables of the connection, so that outputs stream
from DuckDB and nothing grows in Python with the size of the case.

Link kinds (`link_kind`; the family is the part before the first colon):
- `file_sha256`: the same content (SHA-256 of a non-empty file; the empty file's hash never counts).
- `identifier:<identifier_kind>`: the same normalised identifier (phone, email, ...).
- `conversation:<app>`: the same conversation id of one app.
- `account:<app>`: the same owner account id of one app (one account used on several devices).
- `contact_owner:<app>`: the owner account (account_id) of one exhibit appears on another as a
  sender or recipient id of that app; edges carry role `owner` or `contact`.
- `owner_identifier:<identifier_kind>`: an identifier found in an owner's account_id on one
  exhibit (a WhatsApp JID gives a phone number) appears on another in any other field of any app
  (an SMS sender, a number in a message body); roles `owner` and `contact`.
An exhibit that owns a value is never also counted as its contact, so an exhibit has one role per value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import duckdb
import pyarrow as pa

from case.noise import SHORT_CODE_DIGITS, Noise
from case.relations import bound, exhibit_filter, has_columns, missing_note
from manifests.schemas import UTC_NS, Column, Table

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
LINKS_TABLE = "exhibit_correlate_links"
EDGES_TABLE = "exhibit_correlate_edges"
BATCH_ROWS = 10_000

CORRELATIONS = Table(
    name="correlations",
    version=1,
    doc="`exhibit correlate` output: one row per value shared by at least --min-exhibits exhibits, most widely shared first.",
    columns=(
        Column("link_kind", pa.string(), "file_sha256, identifier:<kind>, conversation:<app>, account:<app>, contact_owner:<app> or owner_identifier:<kind>.", False),
        Column("value", pa.string(), "The shared value exactly (SHA-256 lowercase hex; identifiers normalised).", False),
        Column("exhibit_count", pa.int64(), "Number of exhibits the value is on.", False),
        Column("exhibits", pa.list_(pa.string()), "Those exhibits' ids, sorted.", False),
        Column("occurrences", pa.int64(), "Rows holding the value across those exhibits (files, identifier rows, messages).", False),
        Column("first_seen_time", UTC_NS, "Earliest time of an occurrence (file created or modified; message sent, else received), UTC."),
        Column("last_seen_time", UTC_NS, "Latest such time, UTC."),
    ),
)

_MESSAGE_TIME = "coalesce(sent_time, received_time)"

# (view, the columns read, the links they give)
_NEEDED: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("artefacts", ("exhibit_id", "sha256", "size", "created_time", "modified_time"), "file_sha256 links"),
    ("messages", ("exhibit_id", "message_index", "app", "conversation_id", "account_id", "sender_id", "recipients",
                  "sent_time", "received_time"), "conversation, account and contact_owner links"),
    ("identifiers", ("exhibit_id", "identifier_kind", "identifier", "origin_table", "origin_index", "origin_field"),
     "identifier and owner_identifier links"),
)


def _file_occurrences(exhibits: str) -> str:
    return f"""
    SELECT 'file_sha256' AS link_kind, lower(sha256) AS value, exhibit_id, 'file' AS role,
           least(created_time, modified_time) AS first_time, greatest(created_time, modified_time) AS last_time
    FROM artefacts
    WHERE sha256 IS NOT NULL AND size > 0 AND lower(sha256) <> '{EMPTY_SHA256}' AND {exhibits}"""


def _identifier_rows(exhibits_of_i: str, with_media: bool) -> str:
    """identifiers with the time of the row each was found in (a message's sent, else received, time; a
    photo's capture time), as the CTE corr_identifiers."""
    media_join = """
        LEFT JOIN media md ON i.origin_table = 'media' AND md.exhibit_id = i.exhibit_id AND md.media_index = i.origin_index""" if with_media else ""
    media_time = ", md.capture_time" if with_media else ""
    return f"""
    corr_identifiers AS (
        SELECT i.identifier_kind AS kind, i.identifier AS value, i.exhibit_id, i.origin_table, i.origin_field,
               CAST(coalesce(m.sent_time, m.received_time{media_time}) AS TIMESTAMPTZ_NS) AS t
        FROM identifiers i
        LEFT JOIN messages m ON i.origin_table = 'messages' AND m.exhibit_id = i.exhibit_id AND m.message_index = i.origin_index{media_join}
        WHERE i.identifier IS NOT NULL AND i.identifier_kind IS NOT NULL AND {exhibits_of_i})"""


_IDENTIFIER_OCCURRENCES = """
    SELECT 'identifier:' || kind AS link_kind, value, exhibit_id, 'identifier' AS role, t AS first_time, t AS last_time
    FROM corr_identifiers"""

# An owner's identifier: one found in a message's account_id field.
_OWNER_IDENTIFIER_CTES = """
    corr_owned_ids AS (
        SELECT DISTINCT kind, value, exhibit_id FROM corr_identifiers
        WHERE origin_table = 'messages' AND origin_field = 'account_id'),
    corr_id_hits AS (
        SELECT c.kind, c.value, c.exhibit_id, c.t FROM corr_identifiers c
        WHERE NOT (c.origin_table = 'messages' AND c.origin_field = 'account_id')
          AND EXISTS (SELECT 1 FROM corr_owned_ids o WHERE o.kind = c.kind AND o.value = c.value AND o.exhibit_id <> c.exhibit_id)
          AND NOT EXISTS (SELECT 1 FROM corr_owned_ids mine
                          WHERE mine.kind = c.kind AND mine.value = c.value AND mine.exhibit_id = c.exhibit_id))"""


def _owner_and_contact_rows(family: str, key: str, hits: str, owners: str, owner_condition: str = "") -> str:
    """The contact rows of a value (the CTE `hits`, grouped by the column `key`) and the owner rows (of
    the CTE `owners`, those meeting `owner_condition`) of every value that has a contact row."""
    return f"""
    SELECT '{family}:' || {key} AS link_kind, value, exhibit_id, 'contact' AS role, t AS first_time, t AS last_time
    FROM {hits}
    UNION ALL
    SELECT '{family}:' || o.{key}, o.value, o.exhibit_id, 'owner', o.t, o.t
    FROM {owners} o
    WHERE {owner_condition}EXISTS (SELECT 1 FROM {hits} h WHERE h.{key} = o.{key} AND h.value = o.value)"""


_OWNER_IDENTIFIER_OCCURRENCES = _owner_and_contact_rows(
    "owner_identifier", "kind", "corr_id_hits", "corr_identifiers", "o.origin_table = 'messages' AND o.origin_field = 'account_id' AND ")


def _message_occurrences(exhibits: str) -> str:
    return f"""
    SELECT 'conversation:' || app AS link_kind, conversation_id AS value, exhibit_id, 'conversation' AS role,
           {_MESSAGE_TIME} AS first_time, {_MESSAGE_TIME} AS last_time
    FROM messages WHERE conversation_id IS NOT NULL AND {exhibits}
    UNION ALL
    SELECT 'account:' || app, account_id, exhibit_id, 'account', {_MESSAGE_TIME}, {_MESSAGE_TIME}
    FROM messages WHERE account_id IS NOT NULL AND {exhibits}"""


def _contact_owner_occurrences(exhibits: str) -> tuple[str, str]:
    """The contact rows of an account owned on another exhibit (one per app it is owned in; never on an
    exhibit that owns it itself, so an exhibit has one role per value), and the owner rows of those
    accounts: the SELECT, and the CTEs it reads."""
    select = _owner_and_contact_rows("contact_owner", "app", "corr_contact_hits", "corr_owners")
    ctes = f"""
    corr_owners AS (
        SELECT app, account_id AS value, exhibit_id, {_MESSAGE_TIME} AS t
        FROM messages WHERE account_id IS NOT NULL AND {exhibits}),
    corr_owned AS (SELECT DISTINCT app, value, exhibit_id FROM corr_owners),
    corr_contacts AS (
        SELECT app, sender_id AS value, exhibit_id, {_MESSAGE_TIME} AS t
        FROM messages WHERE sender_id IS NOT NULL AND sender_id IS DISTINCT FROM account_id AND {exhibits}
        UNION ALL
        SELECT app, recipient.id, exhibit_id, t
        FROM (SELECT app, account_id, exhibit_id, {_MESSAGE_TIME} AS t, unnest(recipients) AS recipient
              FROM messages WHERE recipients IS NOT NULL AND {exhibits})
        WHERE recipient.id IS NOT NULL AND recipient.id IS DISTINCT FROM account_id),
    corr_contact_hits AS (
        SELECT o.app, c.value, c.exhibit_id, c.t
        FROM corr_contacts c JOIN (SELECT DISTINCT app, value FROM corr_owned) o ON c.app = o.app AND c.value = o.value
        WHERE NOT EXISTS (SELECT 1 FROM corr_owned mine
                          WHERE mine.app = o.app AND mine.value = o.value AND mine.exhibit_id = c.exhibit_id))"""
    return select, ctes


_NOT_NOISE = f"""
    trim(value) <> ''
    AND NOT list_contains($noise_anywhere::VARCHAR[], lower(trim(value)))
    AND NOT list_contains($noise_scoped::VARCHAR[], split_part(link_kind, ':', 1) || ':' || lower(trim(value)))
    AND NOT (link_kind <> 'file_sha256' AND regexp_full_match(trim(value), '[+-]?[0-9]{{1,{SHORT_CODE_DIGITS - 1}}}'))"""


def _occurrences(union: str, min_exhibits: int) -> str:
    """The CTE corr_occurrences: every occurrence, or (min_exhibits >= 2) only those of a value found on two
    exhibits or more.

    Nearly every file hash is on one exhibit only; grouping all of them by value, exhibit and role into
    the edges table and again into the links held every one in memory (13 GB and 85 s at 25 million
    artefacts, docs/benchmarks.md). The pre-filter groups by a 64-bit hash of (link_kind, value) alone
    and keeps the hashes whose rows name two exhibit ids: a value on two exhibits always passes (noise
    depends on the value only, so it can wait), a hash collision only lets a value through to the exact
    grouping below, so the result is exactly that of grouping everything. The union is read twice
    (NOT MATERIALIZED: it is never held whole)."""
    if min_exhibits < 2:
        return f"corr_occurrences AS ({union})"
    return f"""corr_every AS NOT MATERIALIZED ({union}),
        corr_shared AS (SELECT hash(link_kind, value) AS h FROM corr_every
                        GROUP BY h HAVING min(exhibit_id) <> max(exhibit_id)),
        corr_occurrences AS (SELECT * FROM corr_every WHERE hash(link_kind, value) IN (SELECT h FROM corr_shared))"""


@dataclass(frozen=True)
class Link:
    """One ranked row of the correlation table (times as nanoseconds since 1970 UTC)."""

    rank: int
    link_kind: str
    value: str
    exhibit_count: int
    exhibits: tuple[str, ...]
    occurrences: int
    first_seen_ns: int | None
    last_seen_ns: int | None


@dataclass(frozen=True)
class Edge:
    """Exhibit -> value: how often and when the value is on that exhibit, in which role."""

    rank: int
    exhibit_id: str
    role: str
    occurrences: int
    first_seen_ns: int | None
    last_seen_ns: int | None


class Correlation:
    """The links and edges of one correlate run, held in temporary tables of the connection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, notes: list[str]) -> None:
        self.con = con
        self.notes = notes  # what could not be read, for standard error

    def count(self) -> int:
        return self.con.execute(f"SELECT count(*) FROM {LINKS_TABLE}").fetchone()[0]

    def links(self) -> Iterator[Link]:
        cursor = self.con.execute(f"""
            SELECT link_rank, link_kind, value, exhibit_count, exhibits, occurrences,
                   epoch_ns(first_seen_time), epoch_ns(last_seen_time)
            FROM {LINKS_TABLE} ORDER BY link_rank""")
        while rows := cursor.fetchmany(BATCH_ROWS):
            for row in rows:
                yield Link(row[0], row[1], row[2], row[3], tuple(row[4]), row[5], row[6], row[7])

    def arrow_batches(self) -> pa.RecordBatchReader:
        """The links as Arrow batches in rank order, in the CORRELATIONS schema."""
        relation = self.con.sql(f"""
            SELECT link_kind, value, exhibit_count, exhibits, occurrences, first_seen_time, last_seen_time
            FROM {LINKS_TABLE} ORDER BY link_rank""")
        return relation.to_arrow_reader(BATCH_ROWS)

    def exhibits(self) -> list[str]:
        """Every exhibit with an edge, sorted."""
        rows = self.con.execute(f"SELECT DISTINCT exhibit_id FROM {EDGES_TABLE} ORDER BY exhibit_id").fetchall()
        return [row[0] for row in rows]

    def edges(self) -> Iterator[Edge]:
        """Edges in the order of their link's rank, then exhibit id, then role."""
        cursor = self.con.execute(f"""
            SELECT l.link_rank, e.exhibit_id, e.role, e.occurrences, epoch_ns(e.first_seen_time), epoch_ns(e.last_seen_time)
            FROM {EDGES_TABLE} e JOIN {LINKS_TABLE} l USING (link_kind, value)
            ORDER BY l.link_rank, e.exhibit_id, e.role""")
        while rows := cursor.fetchmany(BATCH_ROWS):
            for row in rows:
                yield Edge(*row)


def correlate(con: duckdb.DuckDBPyConnection, *, noise: Noise | None = None, min_exhibits: int = 2,
              exhibits: list[str] | None = None) -> Correlation:
    """Find every value shared by at least `min_exhibits` exhibits (of `exhibits`, default all).

    Ranked by exhibit_count (descending), then occurrences (descending), then link_kind and value
    (ascending, byte order), so the same case always gives the same order."""
    if min_exhibits < 1:
        raise ValueError("min_exhibits must be at least 1")
    noise = noise if noise is not None else Noise()
    where = exhibit_filter(exhibits)
    parts: list[str] = []
    ctes: list[str] = []
    notes = [note for note in (missing_note(con, name, columns, what) for name, columns, what in _NEEDED) if note]
    if has_columns(con, "artefacts", _NEEDED[0][1]):
        parts.append(_file_occurrences(where))
    with_messages = has_columns(con, "messages", _NEEDED[1][1])
    if with_messages and has_columns(con, "identifiers", _NEEDED[2][1]):
        with_media = has_columns(con, "media", ("exhibit_id", "media_index", "capture_time"))
        ctes.append(_identifier_rows(exhibit_filter(exhibits, "i"), with_media))
        ctes.append(_OWNER_IDENTIFIER_CTES)
        parts.append(_IDENTIFIER_OCCURRENCES)
        parts.append(_OWNER_IDENTIFIER_OCCURRENCES)
    if with_messages:
        parts.append(_message_occurrences(where))
        select, cte = _contact_owner_occurrences(where)
        parts.append(select)
        ctes.append(cte)
    if not parts:
        parts.append("SELECT NULL::VARCHAR AS link_kind, NULL::VARCHAR AS value, NULL::VARCHAR AS exhibit_id, "
                     "NULL::VARCHAR AS role, NULL::TIMESTAMPTZ_NS AS first_time, NULL::TIMESTAMPTZ_NS AS last_time WHERE FALSE")
    with_clause = ("WITH " + ",".join(ctes) + ",") if ctes else "WITH"
    edges_sql = f"""
        CREATE OR REPLACE TEMP TABLE {EDGES_TABLE} AS
        {with_clause} {_occurrences(' UNION ALL '.join(parts), min_exhibits)}
        SELECT link_kind, value, exhibit_id, role, count(*) AS occurrences,
               CAST(min(first_time) AS TIMESTAMPTZ_NS) AS first_seen_time, CAST(max(last_time) AS TIMESTAMPTZ_NS) AS last_seen_time
        FROM corr_occurrences
        WHERE {_NOT_NOISE}
        GROUP BY link_kind, value, exhibit_id, role"""
    params = {"exhibits": exhibits, "noise_anywhere": sorted(noise.anywhere), "noise_scoped": noise.scoped_keys()}
    con.execute(edges_sql, bound(edges_sql, params))
    links_sql = f"""
        CREATE OR REPLACE TEMP TABLE {LINKS_TABLE} AS
        SELECT row_number() OVER (ORDER BY exhibit_count DESC, occurrences DESC, link_kind, value) AS link_rank, *
        FROM (SELECT link_kind, value, count(DISTINCT exhibit_id) AS exhibit_count,
                     list(DISTINCT exhibit_id ORDER BY exhibit_id) AS exhibits,
                     CAST(sum(occurrences) AS BIGINT) AS occurrences,
                     min(first_seen_time) AS first_seen_time, max(last_seen_time) AS last_seen_time
              FROM {EDGES_TABLE} GROUP BY link_kind, value
              HAVING count(DISTINCT exhibit_id) >= $min_exhibits)"""
    con.execute(links_sql, {"min_exhibits": min_exhibits})
    con.execute(f"DELETE FROM {EDGES_TABLE} e WHERE NOT EXISTS "
                f"(SELECT 1 FROM {LINKS_TABLE} l WHERE l.link_kind = e.link_kind AND l.value = e.value)")
    return Correlation(con, notes)
