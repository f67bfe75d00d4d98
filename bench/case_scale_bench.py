#!/usr/bin/env python3
"""Case-wide commands at scale: synthesise a sealed case of many exhibits, then time the commands on it.

The case (default 250 exhibits: 25,000,000 artefact rows, 2,500,000 messages, 250,000 media rows and
the identifiers found in those messages) is generated directly as Parquet by DuckDB over `range()`
(no Python loop per row), cast to each table's exact `arrow_schema()` (manifests/schemas.py) and
written one exhibit at a time, so memory stays at one exhibit's tables. Values are pseudo-random
but deterministic (DuckDB `hash()` of the row number and a seed, never `random()`):

- artefacts: Android-like paths 2-9 levels deep, names and extensions matching their MIME type,
  log-normal sizes per type, times spread over two years, 3 % deleted (a tenth of those orphans),
  directories and symbolic links besides files; MD5, SHA-1, SHA-256 of a content key: 2 % of the
  rows take their content from a shared pool (skewed: a few files on nearly every exhibit, a long
  tail on two or three), the others are unique to their exhibit;
- messages: WhatsApp, Android SMS, Telegram and Messenger, owners and contacts with phone
  numbers in E.164 drawn from a skewed shared pool (some contacts are other exhibits' owners),
  bodies of 1-120 words in English or Tagalog, a known small fraction containing one of ten
  search terms, a few carrying a phone number, an e-mail address or a PayPal handle;
- identifiers: the phones of each message's sender and owner account and those in bodies, with
  origin rows, fields and offsets as the extractor writes them;
- media: photos and videos pointing at image/video artefacts of the exhibit;
- sources and errors: one source row, a few error rows.

Every exhibit folder is sealed with manifests/seal.py's `seal` (parts with size, SHA-256, rows and
schema, root digest) and signed with a key generated for the run, so the commands read every
exhibit as verified with `--trusted-key`. Then each command runs in its own process
(`/usr/bin/time -v`: wall time and the peak RSS of the process), `--repeat` times (default 3), and
the median is reported. Never run inside the unit tests.

    .venv/bin/python bench/case_scale_bench.py                                    # full size
    .venv/bin/python bench/case_scale_bench.py --exhibits 10 --artefacts-per-exhibit 20000 \
        --messages-per-exhibit 2000 --media-per-exhibit 200 --hashes 1000000 --work /tmp/small
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from ingest.naming import encode_id  # noqa: E402
from manifests.schemas import ARTEFACTS, ERRORS, IDENTIFIERS, MEDIA, MESSAGES, SOURCES  # noqa: E402
from manifests.seal import seal  # noqa: E402

CASE_ID = "OP-SCALE"
SEED = 20261203
NS_2024 = 1_704_067_200_000_000_000  # 2024-01-01T00:00:00Z
TWO_YEARS_NS = 2 * 365 * 86_400 * 1_000_000_000
SHARED_FRACTION = 0.02
SHARED_POOL = 50_000
CONTACT_POOL = 20_000
TERM_FRACTION = 0.005  # messages holding one of the search terms
HASHSET_HITS_PER_EXHIBIT = 100
ROW_GROUP = 100_000

TERMS = ("shabu", "padala", "remittance", "passport", "bitcoin", "gcash", "smuggle", "firearm", "cocaine", "launder")

ENGLISH = ("the", "be", "to", "of", "and", "a", "in", "that", "have", "it", "for", "not", "on", "with", "he", "as", "you",
           "do", "at", "this", "but", "his", "by", "from", "they", "we", "say", "her", "she", "or", "an", "will", "my", "one",
           "all", "would", "there", "their", "what", "so", "up", "out", "if", "about", "who", "get", "which", "go", "me",
           "when", "make", "can", "like", "time", "no", "just", "him", "know", "take", "people", "into", "year", "your",
           "good", "some", "could", "them", "see", "other", "than", "then", "now", "look", "only", "come", "its", "over",
           "think", "also", "back", "after", "use", "two", "how", "our", "work", "first", "well", "way", "even", "new",
           "want", "because", "any", "these", "give", "day", "most", "us", "tomorrow", "tonight", "later", "ok", "thanks",
           "meet", "car", "house", "money", "phone", "call", "send", "need", "friday", "morning", "lol", "yes", "sure")
TAGALOG = ("ang", "ng", "sa", "na", "mga", "ako", "ikaw", "siya", "kami", "tayo", "sila", "ito", "iyan", "iyon", "hindi",
           "oo", "po", "opo", "salamat", "kumain", "ka", "na", "ba", "bukas", "mamaya", "ngayon", "kahapon", "bahay",
           "trabaho", "pera", "tawag", "text", "kita", "tayo", "punta", "dito", "doon", "saan", "kailan", "bakit", "paano",
           "sige", "lang", "naman", "talaga", "kasi", "pero", "at", "o", "kung", "para", "may", "wala", "meron", "gusto",
           "ayaw", "alam", "hintay", "kuya", "ate", "pare", "tol", "ingat", "mahal", "miss", "uwi", "kain", "tulog",
           "gising", "libre", "bayad", "utang", "sweldo", "jeep", "tricycle", "palengke", "merienda", "kape", "sabi")

# (mime type, extension, libmagic description, weight in 100 slots, log-normal mu of the size, sigma)
MIMES = (
    ("image/jpeg", "jpg", "JPEG image data, JFIF standard 1.01", 18, 13.0, 1.0),
    ("image/png", "png", "PNG image data", 10, 10.5, 1.5),
    ("video/mp4", "mp4", "ISO Media, MP4 v2 [ISO 14496-14]", 3, 16.5, 1.2),
    ("application/x-sqlite3", "db", "SQLite 3.x database", 4, 11.5, 1.8),
    ("text/plain", "txt", "ASCII text", 8, 8.0, 1.6),
    ("application/xml", "xml", "XML 1.0 document, ASCII text", 8, 8.5, 1.3),
    ("application/json", "json", "JSON text data", 6, 8.0, 1.5),
    ("application/octet-stream", "bin", "data", 14, 9.5, 2.2),
    ("application/x-sharedlib", "so", "ELF 64-bit LSB shared object, ARM aarch64", 8, 12.0, 1.4),
    ("application/zip", "apk", "Zip archive data, at least v2.0 to extract", 4, 15.0, 1.5),
    ("application/pdf", "pdf", "PDF document, version 1.7", 2, 12.0, 1.2),
    ("audio/ogg", "opus", "Ogg data, Opus audio", 5, 10.5, 1.0),
    ("text/html", "html", "HTML document, UTF-8 Unicode text", 4, 9.0, 1.2),
    ("inode/x-empty", "log", "empty", 6, 0.0, 0.0),
)
DIRECTORIES = ("/data/data/com.whatsapp/files", "/data/data/com.whatsapp/cache", "/data/data/org.telegram.messenger/files",
               "/data/data/com.facebook.orca/cache", "/data/app/~~x1/com.example.app-1/lib/arm64", "/system/lib64",
               "/system/app/Browser", "/system/framework", "/sdcard/DCIM/Camera", "/sdcard/Pictures/Screenshots",
               "/sdcard/Download", "/sdcard/WhatsApp/Media/WhatsApp Images", "/sdcard/WhatsApp/Media/WhatsApp Voice Notes",
               "/sdcard/Android/data/com.google.android.youtube/cache", "/sdcard/Telegram/Telegram Documents",
               "/data/misc/wifi", "/data/system/users/0", "/data/user_de/0/com.android.providers.telephony/databases",
               "/sdcard/Documents", "/sdcard/Music")
STORES = (  # entry_index, path, app, store table, parser
    (1, "/data/data/com.whatsapp/databases/msgstore.db", "WhatsApp", "message", "whatsapp_android"),
    (2, "/data/user_de/0/com.android.providers.telephony/databases/mmssms.db", "Android SMS/MMS", "sms", "android_sms"),
    (3, "/data/data/org.telegram.messenger/files/cache4.db", "Telegram", "messages_v2", "telegram_android"),
    (4, "/data/data/com.facebook.orca/databases/threads_db2", "Facebook Messenger", "messages", "messenger_android"),
)


def _sql_list(values: tuple) -> str:
    return "[" + ", ".join("'" + str(v).replace("'", "''") + "'" for v in values) + "]"


def _u(key: str, salt: int) -> str:
    """A deterministic uniform in [0, 1) from row key expression `key` and a salt (DuckDB hash of both and the seed)."""
    return f"((hash({key}, {salt}, {SEED}) % 1000000007)::DOUBLE / 1000000007)"


def _normal(key: str, salt: int) -> str:
    return f"(sqrt(-2 * ln(1 - {_u(key, salt)})) * cos(2 * pi() * {_u(key, salt + 1)}))"


def _mime_slots() -> list[int]:
    slots = [index for index, entry in enumerate(MIMES) for _ in range(entry[3])]
    assert len(slots) == 100, len(slots)
    return slots


def artefacts_sql(exhibit_no: int, rows: int) -> str:
    """The artefacts of one exhibit as one SELECT over range(rows), in the schema's column order."""
    slots = "[" + ", ".join(str(s + 1) for s in _mime_slots()) + "]"
    ext = _sql_list(tuple(m[1] for m in MIMES))
    mu = "[" + ", ".join(str(m[4]) for m in MIMES) + "]"
    sigma = "[" + ", ".join(str(m[5]) for m in MIMES) + "]"
    dirs = _sql_list(DIRECTORIES)
    store_paths = "CASE i " + " ".join(f"WHEN {e} THEN '{p}'" for e, p, *_ in STORES) + " END"
    key = f"{exhibit_no}, i"
    return f"""
    WITH base AS (
        SELECT i,
               CASE WHEN i BETWEEN 1 AND {len(STORES)} THEN 'file'
                    WHEN {_u(key, 1)} < 0.08 THEN 'directory' WHEN {_u(key, 1)} < 0.095 THEN 'symlink' ELSE 'file' END AS entry_type,
               {_u(key, 2)} < {SHARED_FRACTION} AND i > {len(STORES)} AS shared,
               {_u(key, 4)} < 0.03 AS is_deleted,
               {dirs}[1 + (hash({key}, 5) % {len(DIRECTORIES)})::INT] AS top,
               (hash({key}, 6) % 5)::INT AS depth,
               {NS_2024} + ({_u(key, 7)} * {TWO_YEARS_NS})::BIGINT AS created
        FROM range({rows}) t(i)),
    content AS (
        SELECT *, CASE WHEN shared THEN 'shared:' || floor({SHARED_POOL} * pow({_u(key, 3)}, 3))::BIGINT
                       ELSE 'x{exhibit_no}:' || i END AS ckey
        FROM base),
    typed AS (
        SELECT *, CASE WHEN i BETWEEN 1 AND {len(STORES)} THEN 4 ELSE {slots}[1 + (hash(ckey, 8) % 100)::INT] END AS m
        FROM content),
    named AS (
        SELECT *,
               CASE WHEN i BETWEEN 1 AND {len(STORES)} THEN {store_paths}
                    ELSE top || list_reduce(list_transform(range(depth + 1), lambda d: '/' || CASE WHEN d = depth THEN
                           (CASE WHEN entry_type = 'directory' THEN 'dir' ELSE
                              CASE {ext}[m] WHEN 'jpg' THEN 'IMG_' WHEN 'mp4' THEN 'VID_' WHEN 'opus' THEN 'PTT-' ELSE 'f' END END)
                           || i::VARCHAR || CASE WHEN entry_type = 'directory' THEN '' ELSE '.' || {ext}[m] END
                         ELSE 'd' || (hash(i // 200, d) % 40)::VARCHAR END), lambda a, b: a || b, '') END AS path,
               CASE WHEN entry_type <> 'file' THEN NULL WHEN {ext}[m] = 'log' THEN 0
                    ELSE greatest(1, exp({mu}[m] + {sigma}[m] * {_normal('ckey', 10)}))::BIGINT END AS fsize
        FROM typed)
    SELECT '{CASE_ID}' AS case_id, 'EX-{exhibit_no:03d}' AS exhibit_id, i AS entry_index, 0::INT AS volume_index,
           '/p1' AS volume_id, 'EXT' AS volume_type, 1048576::BIGINT AS volume_offset, path, path AS path_bytes,
           regexp_extract(path, '[^/]+$') AS name_bytes, NULL::VARCHAR AS data_stream, NULL::VARCHAR AS logical_path,
           (i + 11)::BIGINT AS inode, NULL::INT AS sequence, (hash(i // 200) % 100000)::BIGINT AS parent_inode, entry_type,
           CASE WHEN entry_type = 'directory' THEN 4096 WHEN entry_type = 'symlink' THEN 24 ELSE fsize END AS size,
           NOT is_deleted AS is_allocated, is_deleted, is_deleted AND {_u(key, 11)} < 0.1 AS is_orphan,
           created AS created_time, created + (abs({_normal(key, 12)}) * 86400e9 * 3)::BIGINT AS modified_time,
           created + (abs({_normal(key, 14)}) * 86400e9 * 30)::BIGINT AS accessed_time,
           created + (abs({_normal(key, 12)}) * 86400e9 * 3)::BIGINT AS changed_time,
           CASE WHEN is_deleted THEN created + ({_u(key, 16)} * 86400e9 * 60)::BIGINT END AS deleted_time,
           CASE entry_type WHEN 'directory' THEN 16889 WHEN 'symlink' THEN 41471 ELSE 33188 END::INT AS mode,
           CASE WHEN starts_with(path, '/sdcard') THEN 1023 ELSE 10000 + (hash({key}, 17) % 200) END::BIGINT AS uid,
           CASE WHEN starts_with(path, '/sdcard') THEN 1023 ELSE 10000 + (hash({key}, 17) % 200) END::BIGINT AS gid,
           CASE WHEN entry_type = 'symlink' THEN '/system/bin/toybox' END AS link_target,
           CASE WHEN entry_type = 'symlink' THEN '/system/bin/toybox' END AS link_target_bytes,
           '{{"type_indicator":"TSK","location":' || to_json(path) || ',"inode":' || (i + 11)::VARCHAR
             || ',"parent":{{"type_indicator":"TSK_PARTITION","location":"/p1"}}}}' AS path_spec,
           CASE WHEN entry_type <> 'file' THEN 'no_content' WHEN is_deleted AND {_u(key, 18)} < 0.5 THEN 'not_hashed_deleted'
                WHEN fsize = 0 THEN 'empty' ELSE 'hashed' END AS content_status,
           ckey, m
    FROM named"""


def _cast(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """`table` with exactly `schema`'s columns and types: ns integers become timestamp[ns, UTC], text becomes binary."""
    columns = []
    for field in schema:
        if field.name in table.column_names:
            columns.append(table[field.name].cast(field.type))
        else:
            columns.append(pa.nulls(len(table), field.type))
    return pa.Table.from_arrays(columns, schema=schema)


def write_artefacts(con: duckdb.DuckDBPyConnection, folder: Path, exhibit_no: int, rows: int,
                    hits: list[tuple[int, str, str, str]]) -> int:
    """Stream one exhibit's artefacts to artefacts.parquet; `hits` (entry_index, md5, sha1, sha256) override the hashes
    of those that are hashed files. Returns how many were planted."""
    sql = f"""
        SELECT * EXCLUDE (ckey, m),
               {_sql_list(tuple(m[0] for m in MIMES))}[m] AS mime_type, {_sql_list(tuple(m[2] for m in MIMES))}[m] AS magic_description,
               CASE WHEN content_status IN ('hashed', 'empty') THEN md5(CASE WHEN content_status = 'empty' THEN '' ELSE ckey END) END AS md5,
               CASE WHEN content_status IN ('hashed', 'empty') THEN sha1(CASE WHEN content_status = 'empty' THEN '' ELSE ckey END) END AS sha1,
               CASE WHEN content_status IN ('hashed', 'empty') THEN sha256(CASE WHEN content_status = 'empty' THEN '' ELSE ckey END) END AS sha256,
               CASE WHEN entry_type = 'file' THEN hash(ckey, 20) % 200 = 0 END AS is_extension_mismatch
        FROM ({artefacts_sql(exhibit_no, rows)}) ORDER BY entry_index"""
    schema = ARTEFACTS.arrow_schema()
    hit_index = {entry: (md5, sha1, sha256) for entry, md5, sha1, sha256 in hits}
    hit_entries = pa.array(sorted(hit_index), pa.int64())
    planted = 0
    with pq.ParquetWriter(str(folder / "artefacts.parquet"), schema, compression="zstd") as writer:
        reader = con.sql(sql).to_arrow_reader(ROW_GROUP)
        for batch in reader:
            table = pa.Table.from_batches([batch])
            if hit_index:
                table, count = _apply_hits(table, hit_index, hit_entries)
                planted += count
            writer.write_table(_cast(table, schema), row_group_size=ROW_GROUP)
    return planted


def _apply_hits(table: pa.Table, hits: dict[int, tuple[str, str, str]], entries: pa.Array) -> tuple[pa.Table, int]:
    """Vectorised: the rows of hashed files whose entry_index is in `hits` get the hit's three hashes."""
    mask = pc.and_(pc.is_in(table["entry_index"], value_set=entries), pc.equal(table["content_status"], "hashed")).combine_chunks()
    selected = pc.filter(table["entry_index"], mask).to_pylist()
    if not selected:
        return table, 0
    for column, k in (("md5", 0), ("sha1", 1), ("sha256", 2)):
        replaced = pc.replace_with_mask(table[column].combine_chunks(), mask, pa.array([hits[e][k] for e in selected], pa.string()))
        table = table.set_column(table.column_names.index(column), column, replaced)
    return table, len(selected)


def _phone(expr: str) -> str:
    """E.164 Philippine mobile number of pool index `expr` (+63917 followed by seven digits)."""
    return f"('+63917' || lpad(({expr})::VARCHAR, 7, '0'))"


def _owner(exhibit_expr: str) -> str:
    return f"('+63918' || lpad(({exhibit_expr})::VARCHAR, 7, '0'))"


def messages_sql(exhibit_no: int, rows: int, exhibits: int) -> str:
    key = f"{exhibit_no}, i"
    english = _sql_list(ENGLISH)
    tagalog = _sql_list(TAGALOG)
    terms = _sql_list(TERMS)
    apps = "CASE WHEN u_app < 0.45 THEN 1 WHEN u_app < 0.75 THEN 2 WHEN u_app < 0.9 THEN 3 ELSE 4 END"
    store = {n: _sql_list(tuple(s[n] for s in STORES)) for n in range(5)}
    return f"""
    WITH base AS (
        SELECT i, {_u(key, 30)} AS u_app, {_u(key, 31)} < 0.5 AS outgoing,
               CASE WHEN {_u(key, 32)} < 0.05 THEN {_owner(f'(({exhibit_no} + 1 + hash({key}, 33) % 5) % {exhibits})')}
                    ELSE {_phone(f'floor({CONTACT_POOL} * pow({_u(key, 34)}, 2))::BIGINT')} END AS contact,
               {_owner(str(exhibit_no))} AS owner,
               {NS_2024} + ({_u(key, 35)} * {TWO_YEARS_NS})::BIGINT AS sent,
               least(120, 1 + floor(exp(2.2 + 0.8 * {_normal(key, 36)})))::INT AS words,
               {_u(key, 38)} < 0.4 AS tagalog,
               CASE WHEN {_u(key, 39)} < {TERM_FRACTION} THEN {terms}[1 + (hash({key}, 40) % {len(TERMS)})::INT] END AS term,
               CASE WHEN {_u(key, 41)} < 0.01 THEN 'phone' WHEN {_u(key, 41)} < 0.015 THEN 'email'
                    WHEN {_u(key, 41)} < 0.018 THEN 'paypal' END AS embedded,
               floor({CONTACT_POOL} * pow({_u(key, 42)}, 2))::BIGINT AS embedded_no
        FROM range({rows}) t(i)),
    apps AS (SELECT *, {apps} AS s FROM base),
    texts AS (
        SELECT *,
               array_to_string(list_transform(range(words), lambda w:
                   CASE WHEN tagalog THEN {tagalog}[1 + (hash(i, w, {exhibit_no}) % {len(TAGALOG)})::INT]
                        ELSE {english}[1 + (hash(i, w, {exhibit_no}) % {len(ENGLISH)})::INT] END), ' ')
               || CASE WHEN term IS NULL THEN '' ELSE ' ' || term END
               || CASE embedded WHEN 'phone' THEN ' tawag ka sa 0917' || lpad(embedded_no::VARCHAR, 7, '0')
                                WHEN 'email' THEN ' email me at user' || embedded_no::VARCHAR || '@gmail.com'
                                WHEN 'paypal' THEN ' paypal.me/pay' || embedded_no::VARCHAR ELSE '' END AS body,
               CASE embedded WHEN 'phone' THEN '0917' || lpad(embedded_no::VARCHAR, 7, '0')
                             WHEN 'email' THEN 'user' || embedded_no::VARCHAR || '@gmail.com'
                             WHEN 'paypal' THEN 'paypal.me/pay' || embedded_no::VARCHAR END AS embedded_raw
        FROM apps)
    SELECT '{CASE_ID}' AS case_id, 'EX-{exhibit_no:03d}' AS exhibit_id, i AS message_index, {store[2]}[s] AS app,
           'Android' AS platform, NULL::VARCHAR AS app_version,
           CASE s WHEN 1 THEN substr(owner, 2) || '@s.whatsapp.net' WHEN 3 THEN substr(owner, 2) END AS account_id,
           CASE s WHEN 1 THEN substr(contact, 2) || '@s.whatsapp.net' WHEN 2 THEN ((hash(contact) % 900) + 100)::VARCHAR
                  WHEN 3 THEN substr(contact, 2) ELSE 't_' || (hash(contact) % 1000000)::VARCHAR END AS conversation_id,
           NULL::VARCHAR AS conversation_title,
           CASE WHEN outgoing THEN CASE s WHEN 1 THEN substr(owner, 2) || '@s.whatsapp.net' WHEN 2 THEN NULL ELSE substr(owner, 2) END
                ELSE CASE s WHEN 1 THEN substr(contact, 2) || '@s.whatsapp.net' WHEN 2 THEN contact ELSE substr(contact, 2) END END
             AS sender_id,
           CASE WHEN outgoing THEN NULL ELSE 'Contact ' || substr(contact, 7) END AS sender_name,
           CASE WHEN outgoing THEN [{{'id': CASE s WHEN 1 THEN substr(contact, 2) || '@s.whatsapp.net' WHEN 2 THEN contact
                                                   ELSE substr(contact, 2) END, 'name': 'Contact ' || substr(contact, 7)}}] END AS recipients,
           CASE WHEN outgoing THEN 'outgoing' ELSE 'incoming' END AS direction,
           sent AS sent_time, (sent // 1000000)::VARCHAR AS sent_time_raw,
           CASE WHEN NOT outgoing THEN sent + (hash(i, 43) % 5000000000)::BIGINT END AS received_time,
           CASE WHEN NOT outgoing AND hash(i, 44) % 3 > 0 THEN sent + (hash(i, 45) % 3600000000000)::BIGINT END AS read_time,
           body, 'text' AS message_kind, 'live' AS record_state,
           {store[1]}[s] AS path, {store[1]}[s] AS path_bytes, {store[0]}[s]::BIGINT AS entry_index,
           {store[3]}[s] AS store_table, (i + 1)::BIGINT AS store_row_id, {store[4]}[s] AS parser, '1' AS parser_version,
           contact, owner, s, outgoing, embedded, embedded_raw, embedded_no
    FROM texts"""


def identifiers_sql() -> str:
    """The identifiers of the messages in temp table `msg`, in origin row, field and offset order."""
    return f"""
    WITH found AS (
        SELECT exhibit_id, message_index, 0 AS field_rank, 'account_id' AS origin_field, 'phone' AS kind, owner AS identifier,
               substr(owner, 2) AS raw, 0 AS offs, 'whatsapp' AS service, path, entry_index, store_table, store_row_id, 'phones' AS extractor
        FROM msg WHERE account_id IS NOT NULL AND s = 1
        UNION ALL
        SELECT exhibit_id, message_index, 1, 'sender_id', 'phone', CASE WHEN outgoing THEN owner ELSE contact END,
               CASE WHEN s = 2 THEN sender_id ELSE split_part(sender_id, '@', 1) END, 0,
               CASE s WHEN 1 THEN 'whatsapp' WHEN 3 THEN 'telegram' END, path, entry_index, store_table, store_row_id, 'phones'
        FROM msg WHERE sender_id IS NOT NULL AND s IN (1, 2)
        UNION ALL
        SELECT exhibit_id, message_index, 2, 'recipients[0].id', 'phone', contact,
               CASE WHEN s = 2 THEN contact ELSE split_part(recipients[1].id, '@', 1) END, 0,
               CASE s WHEN 1 THEN 'whatsapp' END, path, entry_index, store_table, store_row_id, 'phones'
        FROM msg WHERE outgoing AND s IN (1, 2)
        UNION ALL
        SELECT exhibit_id, message_index, 3, 'body', CASE embedded WHEN 'phone' THEN 'phone' WHEN 'email' THEN 'email' ELSE 'paypal' END,
               CASE embedded WHEN 'phone' THEN {_phone('embedded_no')} ELSE embedded_raw END, embedded_raw,
               strpos(body, embedded_raw) - 1, CASE embedded WHEN 'paypal' THEN 'paypal' END,
               path, entry_index, store_table, store_row_id, CASE embedded WHEN 'phone' THEN 'phones' WHEN 'email' THEN 'internet' ELSE 'payments' END
        FROM msg WHERE embedded IS NOT NULL)
    SELECT '{CASE_ID}' AS case_id, exhibit_id, 0 AS identifier_index, kind AS identifier_kind, identifier,
           raw AS identifier_raw, service, CASE WHEN kind = 'phone' AND NOT starts_with(raw, '+') AND NOT starts_with(raw, '63') THEN 'PH' END AS region,
           'messages' AS origin_table, message_index AS origin_index, origin_field, offs AS origin_offset,
           path, path AS path_bytes, entry_index, store_table, store_row_id, extractor, '1' AS extractor_version,
           field_rank
    FROM found
    ORDER BY message_index, field_rank, origin_offset"""


def write_messages_and_identifiers(con: duckdb.DuckDBPyConnection, folder: Path, exhibit_no: int, rows: int, exhibits: int) -> None:
    con.execute(f"CREATE OR REPLACE TEMP TABLE msg AS {messages_sql(exhibit_no, rows, exhibits)}")
    messages = con.sql("SELECT * EXCLUDE (contact, owner, s, outgoing, embedded, embedded_raw, embedded_no) FROM msg "
                       "ORDER BY message_index").to_arrow_table()
    pq.write_table(_cast(messages, MESSAGES.arrow_schema()), folder / "messages.parquet", compression="zstd", row_group_size=ROW_GROUP)
    identifiers = con.sql(identifiers_sql()).to_arrow_table().drop_columns(["field_rank"])
    identifiers = identifiers.set_column(identifiers.column_names.index("identifier_index"), "identifier_index",
                                         pa.array(range(len(identifiers)), pa.int64()))
    pq.write_table(_cast(identifiers, IDENTIFIERS.arrow_schema()), folder / "identifiers.parquet", compression="zstd",
                   row_group_size=ROW_GROUP)


def write_media(folder: Path, rows: int) -> None:
    """Photos and videos: the exhibit's first `rows` image/video artefacts, with cameras and some positions."""
    sql = f"""
        SELECT case_id, exhibit_id, (row_number() OVER (ORDER BY entry_index) - 1) AS media_index, entry_index, volume_index,
               path, path_bytes, path_spec, sha256,
               CASE mime_type WHEN 'image/jpeg' THEN 'JPEG' WHEN 'image/png' THEN 'PNG' ELSE 'MP4' END AS container_format,
               CASE WHEN mime_type = 'video/mp4' THEN 'avc1' END AS codec, 4032 AS width, 3024 AS height, 1 AS orientation,
               strftime(modified_time + INTERVAL 8 HOUR, '%Y:%m:%d %H:%M:%S') AS capture_time_raw, '+08:00' AS capture_offset,
               modified_time AS capture_time, 'exif_datetime_original' AS capture_time_source,
               CASE hash(entry_index, 50) % 4 WHEN 0 THEN 'samsung' WHEN 1 THEN 'Xiaomi' WHEN 2 THEN 'Apple' ELSE 'OPPO' END AS make,
               'Model ' || (hash(entry_index, 51) % 30)::VARCHAR AS model,
               CASE WHEN hash(entry_index, 52) % 10 = 0 THEN 'SN' || (hash(entry_index, 53) % 500)::VARCHAR END AS body_serial,
               CASE WHEN hash(entry_index, 52) % 10 = 0 THEN 'exif_body_serial' END AS body_serial_source,
               CASE WHEN hash(entry_index, 54) % 3 = 0 THEN 14.5 + (hash(entry_index, 55) % 10000) / 20000.0 END AS latitude,
               CASE WHEN hash(entry_index, 54) % 3 = 0 THEN 121.0 + (hash(entry_index, 56) % 10000) / 20000.0 END AS longitude,
               CASE WHEN hash(entry_index, 54) % 3 = 0 THEN 'exif' END AS gps_source,
               false AS has_thumbnail, 'exif_reader' AS reader, '1' AS reader_version
        FROM read_parquet('{str(folder / "artefacts.parquet").replace("'", "''")}')
        WHERE mime_type IN ('image/jpeg', 'image/png', 'video/mp4') AND content_status = 'hashed'
        ORDER BY entry_index LIMIT {rows}"""
    con = duckdb.connect()
    table = con.sql(sql).to_arrow_table()
    con.close()
    pq.write_table(_cast(table, MEDIA.arrow_schema()), folder / "media.parquet", compression="zstd")


def write_small_tables(folder: Path, exhibit_id: str, started_ns: int) -> None:
    source = {"case_id": CASE_ID, "exhibit_id": exhibit_id, "source_path": f"/evidence/{exhibit_id}/phone.E01",
              "source_path_bytes": f"/evidence/{exhibit_id}/phone.E01".encode(), "source_kind": "storage_media_image",
              "format_chain": "EWF > GPT", "started_time": started_ns, "finished_time": started_ns + 3_600_000_000_000}
    sources = pa.Table.from_pylist([source])
    pq.write_table(_cast(sources, SOURCES.arrow_schema()), folder / "sources.parquet", compression="zstd")
    errors = pa.Table.from_pylist([{"case_id": CASE_ID, "exhibit_id": exhibit_id, "error_index": n, "stage": "read",
                                    "error_kind": "read_error", "severity": "error", "path": f"/data/bad{n}.bin",
                                    "message": "short read"} for n in range(5)])
    pq.write_table(_cast(errors, ERRORS.arrow_schema()), folder / "errors.parquet", compression="zstd")


def _digest(algorithm: str, number: int) -> str:
    """As bench/hashset_bench.py builds its list: the hash of the 8-byte little-endian counter."""
    return hashlib.new(algorithm, number.to_bytes(8, "little")).hexdigest()


def hashset_hits(exhibit_no: int, artefacts: int, set_size: int) -> list[tuple[int, str, str, str]]:
    """Artefacts of this exhibit whose content is line k of the hash list (an MD5 line: k % 10 != 9)."""
    if set_size <= 0:
        return []
    hits = []
    step = max(1, artefacts // HASHSET_HITS_PER_EXHIBIT)
    for n, entry in enumerate(range(len(STORES) + 7, artefacts, step)):
        k = (exhibit_no * 7919 + n * 104729) % set_size
        if k % 10 == 9:
            k -= 1
        hits.append((entry, _digest("md5", k), _digest("sha1", k), _digest("sha256", k)))
    return hits


def build_case(case_dir: Path, arguments: argparse.Namespace, key: Ed25519PrivateKey) -> dict:
    """Every exhibit, written and sealed; returns the counts written and the hit entries planted."""
    con = duckdb.connect(config={"memory_limit": "3GB", "threads": str(os.cpu_count() or 2)})
    planted = 0
    started = time.monotonic()
    for exhibit_no in range(arguments.exhibits):
        exhibit_id = f"EX-{exhibit_no:03d}"
        folder = case_dir / encode_id(exhibit_id)
        folder.mkdir(parents=True)
        hits = hashset_hits(exhibit_no, arguments.artefacts_per_exhibit, arguments.hashes)
        hits = [h for h in hits if h[0] < arguments.artefacts_per_exhibit]
        planted += write_artefacts(con, folder, exhibit_no, arguments.artefacts_per_exhibit, hits)
        write_messages_and_identifiers(con, folder, exhibit_no, arguments.messages_per_exhibit, arguments.exhibits)
        write_media(folder, arguments.media_per_exhibit)
        started_ns = NS_2024 + TWO_YEARS_NS + exhibit_no * 3_600_000_000_000
        write_small_tables(folder, exhibit_id, started_ns)
        iso = lambda ns: time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(ns / 1e9))  # noqa: E731
        seal(folder, {"case_id": CASE_ID, "exhibit_id": exhibit_id, "description": f"synthetic phone {exhibit_no}",
                      "tool": {"name": "exhibit bench/case_scale_bench.py", "version": "0"}, "examiner": "bench", "lab": "bench",
                      "host": "bench", "started": iso(started_ns), "finished": iso(started_ns + 3_600_000_000_000),
                      "outcome": "completed", "custody_head": None,
                      "source": {"path": f"/evidence/{exhibit_id}/phone.E01", "kind": "storage_media_image", "hash_checks": []}},
             key)
        if exhibit_no % 10 == 9 or exhibit_no == arguments.exhibits - 1:
            print(f"  {exhibit_no + 1} exhibit(s) written and sealed, {time.monotonic() - started:,.0f} s", flush=True)
    con.close()
    return {"planted_hits": planted}


def case_facts(case_dir: Path) -> dict:
    """Row counts and sizes of what was written, and the truths the timed commands are checked against."""
    con = duckdb.connect()
    glob = str(case_dir / "*" / "{}.parquet")
    facts = {}
    for name in ("artefacts", "messages", "media", "identifiers", "errors", "sources"):
        files = sorted(case_dir.glob(f"*/{name}.parquet"))
        facts[f"{name}_rows"] = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
        facts[f"{name}_bytes"] = sum(f.stat().st_size for f in files)
    facts["term_messages"] = con.execute(
        "SELECT count(*) FROM read_parquet(?) WHERE regexp_matches(body, ?)",
        [glob.format("messages"), r"\b(" + "|".join(TERMS) + r")\b"]).fetchone()[0]
    facts["shared_sha256"] = con.execute(
        "SELECT count(*) FROM (SELECT sha256 FROM read_parquet(?) WHERE sha256 IS NOT NULL AND size > 0 "
        "GROUP BY sha256 HAVING count(DISTINCT exhibit_id) > 1)", [glob.format("artefacts")]).fetchone()[0]
    facts["distinct_sha256"] = con.execute(
        "SELECT approx_count_distinct(sha256) FROM read_parquet(?)", [glob.format("artefacts")]).fetchone()[0]
    facts["top_shared_exhibits"] = con.execute(
        "SELECT max(n) FROM (SELECT count(DISTINCT exhibit_id) AS n FROM read_parquet(?) WHERE sha256 IS NOT NULL AND size > 0 "
        "GROUP BY sha256 HAVING n > 1)", [glob.format("artefacts")]).fetchone()[0]
    facts["probe_sha256"] = con.execute(
        "SELECT sha256 FROM read_parquet(?) WHERE sha256 IS NOT NULL AND size > 0 AND entry_index >= 1000 "
        "ORDER BY entry_index LIMIT 1", [str(case_dir / "EX-000" / "artefacts.parquet")]).fetchone()[0]
    con.close()
    return facts


def timed(name: str, command: list[str], repeat: int, log: Path, before=None) -> dict:
    """Run `command` `repeat` times, each under /usr/bin/time -v; the wall times and peak RSS of every run."""
    runs = []
    for attempt in range(repeat):
        if before is not None:
            before()
        out = log / f"{name}.{attempt}.out"
        err = log / f"{name}.{attempt}.err"
        with open(out, "wb") as stdout, open(err, "wb") as stderr:
            code = subprocess.run(["/usr/bin/time", "-v", *command], stdout=stdout, stderr=stderr, check=False,
                                  env={**os.environ, "PYTHONPATH": str(REPO)}).returncode
        text = err.read_text(errors="backslashreplace")
        wall = _wall(re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (\S+)", text).group(1))
        rss_kib = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
        runs.append({"exit": code, "wall_s": wall, "peak_rss_mib": rss_kib / 1024})
        print(f"  {name} run {attempt + 1}: exit {code}, {wall:.1f} s, peak RSS {rss_kib / 1024:,.0f} MiB", flush=True)
    summary = {"runs": runs, "median_wall_s": statistics.median(r["wall_s"] for r in runs),
               "median_peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in runs),
               "max_peak_rss_mib": max(r["peak_rss_mib"] for r in runs), "command": command}
    print(f"{name}: median {summary['median_wall_s']:.1f} s, peak RSS median {summary['median_peak_rss_mib']:,.0f} MiB "
          f"(max {summary['max_peak_rss_mib']:,.0f} MiB)", flush=True)
    return summary


def _wall(text: str) -> float:
    parts = [float(p) for p in text.split(":")]
    seconds = 0.0
    for part in parts:
        seconds = seconds * 60 + part
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--exhibits", type=int, default=250)
    parser.add_argument("--artefacts-per-exhibit", type=int, default=100_000)
    parser.add_argument("--messages-per-exhibit", type=int, default=10_000)
    parser.add_argument("--media-per-exhibit", type=int, default=1_000)
    parser.add_argument("--hashes", type=int, default=50_000_000, help="size of the hash set (0: no hash-set steps)")
    parser.add_argument("--hash-list", type=Path, default=None, help="an existing list from bench/hashset_bench.py's generator")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--import-repeat", type=int, default=1, help="runs of the (slow, case-independent) hash-set import")
    parser.add_argument("--work", type=Path, default=Path("/tmp/exhibit-case-scale-bench"))
    parser.add_argument("--keep", action="store_true", help="keep the generated case")
    parser.add_argument("--reuse", action="store_true", help="time an already generated case in --work")
    parser.add_argument("--only", nargs="*", default=None, help="time only these steps")
    parser.add_argument("--skip-import", action="store_true",
                        help="time hashset match only, against the set `big` an earlier run imported into --work's case")

    arguments = parser.parse_args()
    work = arguments.work
    case_dir = work / CASE_ID
    log = work / "logs"
    key_path, pub_path = work / "bench.key", work / "bench.pub"
    if not arguments.reuse:
        shutil.rmtree(case_dir, ignore_errors=True)
        case_dir.mkdir(parents=True)
        key = Ed25519PrivateKey.generate()
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        pub_path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        began = time.monotonic()
        built = build_case(case_dir, arguments, key)
        generation_s = time.monotonic() - began
        facts = {**case_facts(case_dir), **built, "generation_s": generation_s}
        (work / "facts.json").write_text(json.dumps(facts, indent=2))
    facts = json.loads((work / "facts.json").read_text())
    print(json.dumps(facts, indent=2), flush=True)
    log.mkdir(exist_ok=True)
    exhibit = sys.executable, "-m", "ingest"  # this checkout's code (PYTHONPATH), each command in its own process
    env_key = ["--trusted-key", str(pub_path)]
    out = work / "out"
    out.mkdir(exist_ok=True)
    steps = {
        "query_selective": [*exhibit, "query", str(case_dir), f"SELECT exhibit_id, entry_index, path FROM artefacts WHERE sha256 = '{facts['probe_sha256']}' ORDER BY ALL",
                            "--format", "csv", *env_key],
        "query_aggregate": [*exhibit, "query", str(case_dir), "SELECT exhibit_id, mime_type, count(*) AS files FROM artefacts GROUP BY ALL ORDER BY ALL",
                            "--format", "csv", "--output", str(out / "aggregate.csv"), *env_key],
        "search_ten_terms": [*exhibit, "search", str(case_dir), *TERMS, "--max-hits", "1000000", "--format", "csv",
                             "--output", str(out / "search.csv"), *env_key],
        "correlate": [*exhibit, "correlate", str(case_dir), "--format", "csv", "--output", str(out / "links.csv"), *env_key],
        "timeline_one_exhibit_day": [*exhibit, "timeline", str(case_dir), "--exhibit", "EX-001", "--since", "2025-03-01T00:00:00Z",
                                     "--until", "2025-03-01T23:59:59.999999999Z", "--output", str(out / "day.csv"), *env_key],
    }
    results = {}
    wanted = arguments.only
    for name, command in steps.items():
        if wanted is not None and name not in wanted:
            continue
        if name == "search_ten_terms" and subprocess.run([*exhibit, "search", "--help"], capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)}).returncode != 0:
            print("search: `exhibit search` is not in this checkout; skipped", flush=True)
            continue
        results[name] = timed(name, command, arguments.repeat, log)
    if arguments.skip_import and (wanted is None or "hashset" in wanted):
        results["hashset_match"] = timed("hashset_match", [*exhibit, "hashset", "match", str(case_dir)], arguments.repeat, log)
        results["hashset_match"]["hit_rows"] = pq.ParquetFile(case_dir / "hash_hits.parquet").metadata.num_rows
    elif arguments.hashes > 0 and (wanted is None or "hashset" in wanted):
        listing = arguments.hash_list or work / f"list-{arguments.hashes}.txt"
        if not listing.exists():
            sys.path.insert(0, str(REPO / "bench"))
            import hashset_bench  # noqa: PLC0415  (its generator, reused)
            began = time.monotonic()
            hashset_bench.build_list(listing.with_suffix(".partial"), arguments.hashes)
            listing.with_suffix(".partial").rename(listing)
            print(f"hash list written in {time.monotonic() - began:.0f} s", flush=True)

        def fresh_sets() -> None:  # each import starts from a case without the set or its custody event
            shutil.rmtree(case_dir / "hashsets", ignore_errors=True)
            for name in ("custody.parquet", "hash_hits.parquet"):
                (case_dir / name).unlink(missing_ok=True)

        results["hashset_import"] = timed("hashset_import", [*exhibit, "hashset", "import", str(case_dir), "big", str(listing),
                                                             "--kind", "notable", "--examiner", "bench"],
                                          arguments.import_repeat, log, before=fresh_sets)
        results["hashset_match"] = timed("hashset_match", [*exhibit, "hashset", "match", str(case_dir)], arguments.repeat, log)
        results["hashset_match"]["hit_rows"] = pq.ParquetFile(case_dir / "hash_hits.parquet").metadata.num_rows
    (work / f"results-{int(time.time())}.json").write_text(json.dumps({"facts": facts, "results": results}, indent=2))
    print(json.dumps({k: {"median_wall_s": v["median_wall_s"], "median_peak_rss_mib": v["median_peak_rss_mib"]}
                      for k, v in results.items()}, indent=2))
    if not arguments.keep:
        shutil.rmtree(case_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
