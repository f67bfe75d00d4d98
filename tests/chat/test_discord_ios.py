"""Discord iOS NSURLCache (iLEAPP discord_cache sample): messages from cached API answers.

Facts and sources are in parsers/chat/discord_ios.py (Discord "Message Resource" docs; iLEAPP
`scripts/artifacts/discordCache.py` for which cached URLs hold messages). CHATS.tsv and iLEAPP's
discord_cache both count cache entries (65), not messages: iLEAPP lists every cached response.
The comparison here is entry for entry: each iLEAPP row whose URL is a channel's messages answer
must give messages from that entry_ID, stored at the same cache time, starting with the message
id iLEAPP's payload preview starts with; no other entry may give messages. 156 messages come
from 8 such entries (pages overlap, so 60 distinct message ids).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, corpus_file, parse_files

DIR = ("abrignoni__iLEAPP/admin/test/cases/data/discord_cache/testdata.discord_cache.discord_cache.josh_ios15_ffs.zip.extracted/"
       "filesystem2/mobile/Containers/Data/Application/FC296D69-95CC-448D-8C8B-BBCFADD48A2F/Library/Caches/com.hammerandchisel.discord")
LOGICAL = b"/private/var/mobile/Containers/Data/Application/FC296D69-95CC-448D-8C8B-BBCFADD48A2F/Library/Caches/com.hammerandchisel.discord"
ILEAPP = "abrignoni__iLEAPP/admin/test/results/discord_cache/discord_cache.discord_cache.josh_ios15_ffs.20260529215019.json"
MESSAGES_URL = re.compile(r"^https://discord\.com/api/v\d+/channels/\d+/messages(\?|$)")
OWNER = "672145484864815124"


def _files() -> tuple[Path, list[Path], dict[Path, bytes]]:
    cache = corpus_file(f"{DIR}/Cache.db")
    bodies = sorted((cache.parent / "fsCachedData").iterdir())
    logical = {cache: LOGICAL + b"/Cache.db"}
    logical.update({f: LOGICAL + b"/fsCachedData/" + f.name.encode() for f in bodies})
    return cache, bodies, logical


def test_discord_cache_against_ileapp_entries() -> None:
    cache, bodies, logical = _files()
    parsed = parse_files(cache, *bodies, logical=logical)
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"discord_ios"}
    expected = json.loads(corpus_file(ILEAPP).read_text())
    rows = expected["data"]
    assert expected["metadata"]["number_of_rows"] == len(rows) == 65  # CHATS.tsv: cfurl_cache_response 65
    message_rows = [r for r in rows if MESSAGES_URL.match(r[3])]
    by_entry: dict[int, list[Message]] = {}
    for message in parsed.messages:
        by_entry.setdefault(message.source_row_id, []).append(message)
    assert sorted(by_entry) == sorted(r[0] for r in message_rows) == [19, 33, 35, 37, 39, 43, 47, 49]
    for entry_id, stored, *_rest in message_rows:
        first = by_entry[entry_id][0]
        preview = _rest[11]  # "Payload Preview"
        assert preview.lstrip("[").startswith('{"id": "' + first.details["message_id"] + '"')
        assert first.details["cache_stored"] == stored
    assert len(parsed.messages) == 156
    assert len({m.details["message_id"] for m in parsed.messages}) == 60
    assert parsed.time_range() == ("2021-02-04T16:24:40Z", "2023-04-24T20:49:03Z")
    assert {m.account_id for m in parsed.messages} == {OWNER}
    assert {p.record_state for p in parsed.parsed} == {"live"}


def test_golden_records() -> None:
    cache, bodies, logical = _files()
    parsed = parse_files(cache, *bodies, logical=logical)
    sent = next(m for m in parsed.messages if m.source_row_id == 49)
    assert sent == Message(
        source_table="cfurl_cache_receiver_data", source_row_id=49, conversation_id="691283137615101955",
        sender=Participant(OWNER, "ThisIsDFIR"), direction="outgoing", sent=1682369343726000000,
        sent_raw="2023-04-24T20:49:03.726000+00:00", body="Deleted.", kind="text", is_edited=False, account_id=OWNER,
        details={"message_id": "1100161508866015394", "type": "0", "author_username": "ThisIsDFIR#6767",
                 "cache_source": "receiver_data", "cache_item": "0", "cache_stored": "2023-04-24 20:27:02"},
    )
    picture = next(m for m in parsed.messages if m.details["message_id"] == "1041012392089370735" or
                   any(a.file_name == "IMG_1953.jpg" for a in m.attachments))
    assert (picture.kind, picture.direction, picture.attachments) == (
        "media", "incoming", (Attachment(file_name="IMG_1953.jpg", mime_type="image/jpeg", size=2149749),))
    calls = [m for m in parsed.messages if m.kind == "call"]
    assert calls and all(m.body == "" and "call_participants" in m.details for m in calls)


URLCACHE = """
CREATE TABLE cfurl_cache_response(entry_ID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, version INTEGER, hash_value INTEGER,
  storage_policy INTEGER, request_key TEXT UNIQUE, time_stamp NOT NULL DEFAULT CURRENT_TIMESTAMP, partition TEXT);
CREATE TABLE cfurl_cache_receiver_data(entry_ID INTEGER PRIMARY KEY, isDataOnFS INTEGER, receiver_data BLOB);
"""


def test_fixture_without_login_bad_time_and_bad_json(tmp_path: Path) -> None:
    good = {"id": "1", "type": 0, "content": "hi", "channel_id": "9", "author": {"id": "5", "username": "u", "discriminator": "0"},
            "attachments": [], "timestamp": "2023-01-01T00:00:00.5+00:00", "edited_timestamp": "2023-01-01T00:01:00+00:00"}
    bad_time = dict(good, id="2", timestamp="yesterday")
    db = build_database(tmp_path / "Cache.db", URLCACHE, {
        "cfurl_cache_response": [(1, 0, 0, 0, "https://discord.com/api/v9/channels/9/messages?limit=50", "2023-01-01 00:02:00", None),
                                 (2, 0, 0, 0, "https://discord.com/api/v9/channels/9/messages?before=1", "2023-01-01 00:03:00", None),
                                 (3, 0, 0, 0, "https://discord.com/api/v9/channels/9/messages/1/ack", "2023-01-01 00:04:00", None)],
        "cfurl_cache_receiver_data": [(1, 0, json.dumps([good, bad_time]).encode()), (2, 0, b"\xff\xfe"), (3, 0, b"{}")],
    })
    parsed = parse_files(db, logical={db: LOGICAL + b"/Cache.db"})
    assert sorted((w.kind, w.row_id) for w in parsed.warnings) == [("bad_json", 2), ("bad_time", 1)]
    assert [m.details["message_id"] for m in parsed.messages] == ["1", "2"]
    first = parsed.messages[0]
    assert (first.direction, first.sent, first.edited, first.is_edited, first.details["author_username"]) == (
        "unknown", 1672531200500000000, 1672531260000000000, True, "u")
    assert parsed.messages[1].sent is None


def test_unknown_schema_at_discord_path_warns_once(tmp_path: Path) -> None:
    db = build_database(tmp_path / "Cache.db", "CREATE TABLE cfurl_cache_response (entry_ID INTEGER PRIMARY KEY);")
    parsed = parse_files(db, logical={db: LOGICAL + b"/Cache.db"})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]
