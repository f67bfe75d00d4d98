"""Google Hangouts (babel.db): plaso's corpus store, one golden record, media/location/rename fixture.

Facts (own words; sources: the corpus store's schema, plaso's android_hangouts plugin and its
formatter android.yaml): messages.timestamp is Unix microseconds; messages.type 1 = sent by the
owner, 2 = received; messages.status 0 = unread, 4 = read; latitude/longitude 0.0 mean no place;
conversation_participants lists every member, the owner included.
"""

from __future__ import annotations

from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, corpus_file, parse_files

PLASO = "log2timeline__plaso/test_data/android/babel.db"
LOGICAL = b"/data/data/com.google.android.talk/databases/babel1.db"


def test_plaso_babel_counts_range_and_golden_record() -> None:
    path = corpus_file(PLASO)
    parsed = parse_files(path, logical={path: LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"hangouts"}
    assert len(parsed.messages) == 14  # CHATS.tsv: messages 14
    assert parsed.time_range() == ("2017-07-17T04:39:08Z", "2017-07-17T06:05:40Z")
    assert [m.direction for m in parsed.messages].count("outgoing") == 6
    assert parsed.messages[6] == Message(
        source_table="messages", source_row_id=7, conversation_id="UgzjuBCEJq0DKNmrqBB4AaABAagBiLyIDA",
        conversation_title="John Macron", sender=Participant("108778762612058411235", "John Macron"),
        recipients=(Participant("112549252980293459976", "Hallym Betty"),), direction="incoming",
        sent=1500271452743024000, sent_raw="1500271452743024", body="It&#39;s too late now! U promised", kind="text",
        details={"message_id": "8V673ca04908V6GoJY0lOf", "type": "2 (received)", "status": "4 (read)", "transport_type": "1 (hangouts)"},
    )


SCHEMA = """
CREATE TABLE messages (_id INTEGER PRIMARY KEY, message_id TEXT, message_type INT, conversation_id TEXT, author_chat_id TEXT,
  author_gaia_id TEXT, text TEXT, timestamp INT, status INT, type INT, local_url TEXT, remote_url TEXT, attachment_content_type TEXT,
  latitude DOUBLE, longitude DOUBLE, address ADDRESS, transport_type INT NOT NULL DEFAULT(1), attachment_name TEXT,
  new_conversation_name TEXT);
CREATE TABLE participants (_id INTEGER PRIMARY KEY, participant_type INT DEFAULT 1, gaia_id TEXT, chat_id TEXT, first_name TEXT,
  full_name TEXT, fallback_name TEXT);
CREATE TABLE conversations (_id INTEGER PRIMARY KEY, conversation_id TEXT, conversation_type INT, name TEXT, generated_name TEXT);
CREATE TABLE conversation_participants (_id INTEGER PRIMARY KEY, participant_row_id INT, participant_type INT, conversation_id TEXT,
  sequence INT, active INT);
"""


def test_group_media_location_and_rename(tmp_path: Path) -> None:
    db = build_database(tmp_path / "babel0.db", SCHEMA, {
        "messages": [
            (1, "m1", None, "c1", "11", "11", None, 1600000000000001, 4, 1, "content://media/1", "https://lh3/x.jpg", "image/jpeg",
             0.0, 0.0, None, 1, "x.jpg", None),
            (2, "m2", None, "c1", "22", "22", "here", 1600000001000000, 0, 2, None, None, None, 52.5, 13.4, "Alexanderplatz", 1, None, None),
            (3, "m3", None, "c1", "33", "33", None, 1600000002000000, 4, 2, None, None, None, 0.0, 0.0, None, 1, None, "Trip"),
        ],
        "participants": [(1, 1, "11", "11", "Me", "Me Owner", None), (2, 1, "22", "22", None, None, "b@example.com"),
                         (3, 1, "33", "33", "C", "Cee", None)],
        "conversations": [(1, "c1", 2, "Trip", "Me, b, Cee")],
        "conversation_participants": [(1, 1, 1, "c1", 1, 1), (2, 2, 1, "c1", 2, 1), (3, 3, 1, "c1", 3, 1)],
    })
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    media, place, rename = parsed.messages
    assert media == Message(
        source_table="messages", source_row_id=1, conversation_id="c1", conversation_title="Trip",
        sender=Participant("11", "Me Owner"), recipients=(Participant("22", "b@example.com"), Participant("33", "Cee")),
        direction="outgoing", sent=1600000000000001000, sent_raw="1600000000000001", kind="media",
        attachments=(Attachment(file_name="x.jpg", mime_type="image/jpeg", local_path="content://media/1"),), account_id="11",
        details={"message_id": "m1", "type": "1 (sent)", "status": "4 (read)", "transport_type": "1 (hangouts)",
                 "remote_url": "https://lh3/x.jpg"},
    )
    assert (place.kind, place.latitude, place.longitude, place.location_name, place.body) == ("location", 52.5, 13.4, "Alexanderplatz", "here")
    assert (rename.kind, rename.details["new_conversation_name"]) == ("system", "Trip")


def test_named_like_babel_but_unknown_schema(tmp_path: Path) -> None:
    db = build_database(tmp_path / "babel0.db", "CREATE TABLE messages (_id INTEGER PRIMARY KEY, text TEXT);", {"messages": [(1, "x")]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


def test_messages_table_alone_with_only_the_minimum_columns(tmp_path: Path) -> None:
    # Only what a message cannot be read without (time, body, direction, conversation, sender); the
    # name tables and every other column absent: the messages still come out, the rest null.
    db = build_database(tmp_path / "babel1.db", """CREATE TABLE messages (_id INTEGER PRIMARY KEY, conversation_id TEXT,
        author_chat_id TEXT, text TEXT, timestamp INTEGER, type INTEGER);""", {"messages": [
        (1, "c9", "44", "hi there", 1500000000000000, 2), (2, "c9", "11", "bye", 1500000060000000, 1)]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 2
    assert parsed.messages[0] == Message(
        source_table="messages", source_row_id=1, conversation_id="c9", conversation_title=None,
        sender=Participant("44", None), direction="incoming", sent=1500000000000000000, sent_raw="1500000000000000",
        body="hi there", kind="text", details={"type": "2 (received)"},
    )
    assert (parsed.messages[1].direction, parsed.messages[1].account_id) == ("outgoing", "11")
