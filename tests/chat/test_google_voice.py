"""Google Voice iOS (threadingStore.sqlite): corpus counts, iLEAPP row-for-row comparison, golden records.

Facts (own words; sources: the corpus store and iLEAPP's googleVoice module): ThreadItem.itemType
'SmsIn'/'SmsOut' are texts, 'IncomingCall'/'OutgoingCall'/'MissedCall'/'Voicemail' are calls;
timestamp is Unix seconds (REAL, millisecond precision); for outgoing items senderPhoneNumber is the
owner's own line. iLEAPP's "Google Voice - Messages" output lists texts only, with the timestamp
as whole Unix seconds (UTC, zone-free), Sender = senderPhoneNumber, Message = messageText,
Attachment Count = MMSAttachmentInfo rows, Unread/Deleted/From Me as 0/1.
"""

from __future__ import annotations

import json
from pathlib import Path

from manifests.records import Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, corpus_file, parse_files
from tests.corpus import require_corpus

STORE = ("abrignoni__iLEAPP/admin/test/cases/data/googleVoice/testdata.googleVoice.googleVoiceMessages.josh_ios17_ffs.zip.extracted/"
         "filesystem1/private/var/mobile/Containers/Shared/AppGroup/B77C4DDA-AA68-4862-AB30-930018A63FB1/Library/"
         "Application Support/116154953456844128063/threadingStore.sqlite")
ILEAPP = "abrignoni__iLEAPP/admin/test/results/googleVoice/googleVoice.googleVoiceMessages.josh_ios17_ffs.20260725220317.json"
LOGICAL = b"/private/var/mobile/Containers/Shared/AppGroup/B77C/Library/Application Support/1161/threadingStore.sqlite"


def _parsed():
    path = corpus_file(STORE)
    return parse_files(path, logical={path: LOGICAL})


def test_counts_texts_vs_calls_and_range() -> None:
    parsed = _parsed()
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"google_voice"}
    # CHATS.tsv: 152 ThreadItem rows. 118 are texts (what iLEAPP lists as messages); the other 34
    # are calls and voicemails, emitted too, as kind="call".
    assert len(parsed.messages) == 152
    texts = [m for m in parsed.messages if m.kind != "call"]
    calls = [m for m in parsed.messages if m.kind == "call"]
    assert (len(texts), len(calls)) == (118, 34)
    assert sorted({m.details["item_type"] for m in calls}) == ["IncomingCall", "MissedCall", "OutgoingCall", "Voicemail"]
    assert parsed.time_range() == ("2019-05-22T19:30:10Z", "2024-02-27T16:25:04Z")
    assert sum(1 for m in calls if "transcript" in m.details) == 4


def test_texts_match_ileapp_row_for_row() -> None:
    expected = json.loads((require_corpus() / ILEAPP).read_text(encoding="utf-8"))
    headers = expected["headers"]
    assert len(expected["data"]) == 118
    want = sorted(
        (row[headers.index("Timestamp")], row[headers.index("Direction")].lower(), row[headers.index("Sender")],
         row[headers.index("Message")], row[headers.index("Attachment Count")], row[headers.index("Deleted")])
        for row in expected["data"])
    texts = [m for m in _parsed().messages if m.kind != "call"]
    got = sorted((m.sent // 10**9, m.direction, m.sender.id if m.sender else None, m.body, len(m.attachments), int(bool(m.is_deleted)))
                 for m in texts)
    assert got == want


def test_golden_text_and_voicemail() -> None:
    messages = _parsed().messages
    text = next(m for m in messages if m.source_row_id == 8864)
    assert text == Message(
        source_table="ThreadItem", source_row_id=8864, conversation_id="t.+19198887386", sender=Participant("+19106215169"),
        recipients=(Participant("+19198887386"),), direction="outgoing", sent=1637526037191000000, sent_raw="1637526037.191",
        body="You there?  This is coming from my Google Voice number.", kind="text", is_deleted=False, account_id="+19106215169",
        details={"item_type": "SmsOut", "thread_item_key": "90af7047c64cccb83106fbd79e004c9fb770f84d", "is_unread": "0"},
    )
    voicemail = next(m for m in messages if m.source_row_id == 8468)
    assert (voicemail.kind, voicemail.direction, voicemail.sender, voicemail.body, voicemail.details["duration_seconds"]) == (
        "call", "incoming", Participant("+16502651193"), "", "18.0")
    assert voicemail.details["transcript"].startswith("Welcome to Google Voice.")


def test_named_like_threading_store_but_unknown_schema(tmp_path: Path) -> None:
    db = build_database(tmp_path / "threadingStore.sqlite", "CREATE TABLE ThreadItem (threadItemKey TEXT, messageText TEXT);",
                        {"ThreadItem": [("k", "x")]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


SCHEMA = """
CREATE TABLE Thread(threadKey TEXT NOT NULL, threadType INTEGER NOT NULL, isUnread INTEGER NOT NULL, timestamp REAL NOT NULL,
  groupName TEXT, PRIMARY KEY(threadKey,threadType));
CREATE TABLE ThreadParticipant(phoneNumberE164 TEXT NOT NULL, threadKey TEXT NOT NULL, threadType INTEGER NOT NULL,
  PRIMARY KEY(phoneNumberE164,threadKey,threadType));
CREATE TABLE ThreadItem(threadItemKey TEXT NOT NULL, threadItemType INTEGER NOT NULL, sortID INTEGER NOT NULL, isUnread INTEGER NOT NULL,
  messageText TEXT, senderPhoneNumber TEXT, isSystemMessage INTEGER NOT NULL, isDeleted INTEGER NOT NULL, duration REAL NOT NULL,
  timestamp REAL NOT NULL, itemType TEXT NOT NULL, threadKey TEXT, threadType INTEGER, PRIMARY KEY(threadItemKey,threadItemType));
"""


def test_group_text_without_media_tables_and_bad_time(tmp_path: Path) -> None:
    db = build_database(tmp_path / "threadingStore.sqlite", SCHEMA, {
        "Thread": [("g.1", 1, 0, 1700000000.5, "Climbing")],
        "ThreadParticipant": [("+15550001", "g.1", 1), ("+15550002", "g.1", 1)],
        "ThreadItem": [("a", 1, 1, 0, "Saturday?", "+15559999", 0, 0, 0.0, 1700000000.5, "SmsOut", "g.1", 1),
                       ("b", 1, 2, 1, "yes", "+15550001", 0, 1, 0.0, 99999999999.0, "SmsIn", "g.1", 1)],
    })
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(w.kind, w.table, w.field) for w in parsed.warnings] == [("bad_time", "ThreadItem", "timestamp")]
    sent, reply = parsed.messages
    assert sent == Message(
        source_table="ThreadItem", source_row_id=1, conversation_id="g.1", conversation_title="Climbing",
        sender=Participant("+15559999"), recipients=(Participant("+15550001"), Participant("+15550002")), direction="outgoing",
        sent=1700000000500000000, sent_raw="1700000000.5", body="Saturday?", kind="text", is_deleted=False, account_id="+15559999",
        details={"item_type": "SmsOut", "thread_item_key": "a", "is_unread": "0"},
    )
    assert (reply.sent, reply.sent_raw, reply.is_deleted, reply.direction) == (None, "99999999999.0", True, "incoming")


def test_thread_items_alone_with_only_the_minimum_columns(tmp_path: Path) -> None:
    # No Thread/ThreadParticipant tables and none of the optional item columns: the texts still come out.
    db = build_database(tmp_path / "threadingStore.sqlite", """CREATE TABLE ThreadItem (threadItemKey TEXT, messageText TEXT,
        timestamp REAL, itemType TEXT, threadKey TEXT);""", {"ThreadItem": [
        ("k1", "are you there", 1650000000.25, "SmsIn", "t:+15550001"), ("k2", "", 1650000100.0, "MissedCall", "t:+15550001")]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 2
    assert parsed.messages[0] == Message(
        source_table="ThreadItem", source_row_id=1, conversation_id="t:+15550001", direction="incoming",
        sent=1650000000 * 10**9 + 250_000_000, sent_raw="1650000000.25", body="are you there", kind="text",
        details={"item_type": "SmsIn", "thread_item_key": "k1"},
    )
    assert (parsed.messages[1].kind, parsed.messages[1].details) == ("call", {"item_type": "MissedCall", "thread_item_key": "k2"})
