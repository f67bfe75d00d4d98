"""Instagram iOS direct messages (DirectSQLiteDatabase/<pk>.db): corpus sample from plaso's test data.

Facts (own words; sources: the corpus file itself and plaso `parsers/sqlite_plugins/ios_instagram.py`):
messages.archive is an NSKeyedArchiver plist; metadata.senderPk / serverTimestamp (Cocoa seconds) /
threadId; content.codedSubtype TEXT (string), MEDIA, THREAD_ACTIVITY (voipTitle / actionLogTitle).
threads.viewer_id is the account owner; threads.metadata archives IGUser objects (pk, userName, fullName).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from manifests.records import Message, Participant
from parsers.chat.times import cocoa_seconds, iso_text
from tests.chat.helpers import assert_no_warnings, build_database, corpus_file, parse_files

SAMPLE = "log2timeline__plaso/test_data/ios/9368974384.db"
LOGICAL = b"/private/var/mobile/Containers/Data/Application/ABCD/Library/Application Support/DirectSQLiteDatabase/9368974384.db"
DDL = """
CREATE TABLE threads (thread_id TEXT UNIQUE NOT NULL, thread_id_v2 TEXT, viewer_id TEXT NOT NULL, metadata BLOB,
  thread_messages_range BLOB, visual_message_info BLOB, row_id INTEGER PRIMARY KEY AUTOINCREMENT);
CREATE TABLE messages (message_id TEXT NOT NULL, thread_id TEXT NOT NULL, archive BLOB NOT NULL, class_name TEXT NOT NULL,
  row_id INTEGER PRIMARY KEY AUTOINCREMENT);
"""


def test_corpus_counts_range_and_golden_record() -> None:
    path = corpus_file(SAMPLE)
    parsed = parse_files(path, logical={path: LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 75  # CHATS.tsv: 75
    assert parsed.parser_names() == {"instagram_ios"}
    assert len({m.conversation_id for m in parsed.messages}) == 3  # CHATS.tsv: threads 3
    # CHATS.tsv's latest time (2023-05-27T16:33:42Z) is the expiry date of a photo's CDN link inside
    # message 1642's archive, not a message time; the newest serverTimestamp is 2023-04-27T17:57:03Z.
    assert parsed.time_range() == ("2020-03-22T19:12:02Z", "2023-04-27T17:57:03Z")
    expiries = [cocoa_seconds(m.details["media_url_expires"]) for m in parsed.messages if "media_url_expires" in m.details]
    assert iso_text(max(expiries)) == "2023-05-27T16:33:42Z"
    kinds = [m.kind for m in parsed.messages]
    assert (kinds.count("text"), kinds.count("call"), kinds.count("media"), kinds.count("system")) == (41, 25, 8, 1)
    assert parsed.messages[1] == Message(
        source_table="messages", source_row_id=1595, conversation_id="340282366841710300949128275677188323290",
        sender=Participant("22824420", "Instagram User"), recipients=(Participant("9368974384", "ThisIsDFIR"),),
        direction="incoming", sent=1585100477164115900, sent_raw="606793277.1641159",
        body="Clicked over to Threads. I still do not understand why this app exists.", kind="text",
        is_forwarded=False, account_id="9368974384", app_version="280.0.0.13.116",
        details={"message_id": "29239942833361339276378637605011456", "class_name": "IGDirectPublishedMessage",
                 "subtype": "SUBTYPE_TEXT", "clientContext": "6648393272678837248"},
    )
    call = parsed.messages[0]
    assert (call.kind, call.direction, call.body, call.sender) == ("call", "outgoing", "Video chat ended", Participant("9368974384", "ThisIsDFIR"))
    reacted = next(m for m in parsed.messages if m.source_row_id == 1616)
    assert reacted.details["reactions"] == "9368974384:❤️"
    photo = parsed.messages[5]
    assert photo.kind == "media" and photo.attachments[0].file_name == "90697930_220393875685423_3218385085483800637_n.jpg"


def _corpus_rows(sql: str) -> list[tuple]:
    connection = sqlite3.connect(f"file:{corpus_file(SAMPLE)}?mode=ro", uri=True)
    try:
        return connection.execute(sql).fetchall()
    finally:
        connection.close()


def test_bad_archive_is_a_warning_and_the_row_is_kept(tmp_path: Path) -> None:
    thread = _corpus_rows("SELECT thread_id, thread_id_v2, viewer_id, metadata, NULL, NULL, row_id FROM threads WHERE row_id = 1")
    good = _corpus_rows("SELECT message_id, thread_id, archive, class_name, row_id FROM messages WHERE row_id = 1595")
    bad = [("m-bad", good[0][1], b"bplist00 truncated", "IGDirectPublishedMessage", 2000)]
    db = build_database(tmp_path / "9368974384.db", DDL, {"threads": thread, "messages": good + bad})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(w.kind, w.table, w.row_id, w.field) for w in parsed.warnings] == [("bad_blob", "messages", 2000, "archive")]
    assert [m.source_row_id for m in parsed.messages] == [1595, 2000]
    assert parsed.messages[0].body.startswith("Clicked over")
    assert (parsed.messages[1].kind, parsed.messages[1].body, parsed.messages[1].account_id) == ("unknown", None, "9368974384")


def test_unknown_schema_at_instagram_path_is_reported(tmp_path: Path) -> None:
    db = build_database(tmp_path / "1.db", "CREATE TABLE messages (id INTEGER PRIMARY KEY, blob BLOB);")
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]


def _archive(objects: list, root: int = 1) -> bytes:
    import plistlib

    return plistlib.dumps({"$archiver": "NSKeyedArchiver", "$version": 100000, "$top": {"root": plistlib.UID(root)},
                           "$objects": objects}, fmt=plistlib.FMT_BINARY)


def test_nskeyed_collections_dates_cycles_and_errors() -> None:
    import plistlib

    import pytest

    from parsers.decode.nskeyed import ArchiveError, CocoaDate, unarchive

    UID = plistlib.UID
    objects = [
        "$null",
        {"$class": UID(2), "NSString*text": UID(3), "NSDate*when": UID(4), "items": UID(6), "BOOLisShh": False, "parent": UID(1),
         "nothing": UID(0)},
        {"$classname": "Thing", "$classes": ["Thing", "NSObject"]},
        "hello",
        {"$class": UID(5), "NS.time": 1.5},
        {"$classname": "NSDate", "$classes": ["NSDate", "NSObject"]},
        {"$class": UID(7), "NS.keys": [UID(3)], "NS.objects": [UID(8)]},
        {"$classname": "NSDictionary", "$classes": ["NSDictionary", "NSObject"]},
        {"$class": UID(9), "NS.objects": [UID(3), UID(3)]},
        {"$classname": "NSArray", "$classes": ["NSArray", "NSObject"]},
    ]
    root = unarchive(_archive(objects))
    assert root.classname == "Thing"
    assert (root.field("text"), root.field("when"), root.field("isShh"), root.field("nothing")) == ("hello", CocoaDate(1.5), False, None)
    assert root.field("items") == {"hello": ["hello", "hello"]}
    assert root.field("parent") is root  # a cycle resolves to the same object
    with pytest.raises(ArchiveError):
        unarchive(b"not a plist")
    with pytest.raises(ArchiveError):
        unarchive(_archive(["$null", {"$class": UID(2), "x": UID(40)}, {"$classname": "T", "$classes": ["T"]}]))


def _message_archive(metadata: int) -> bytes:
    """An archived IGDirectPublishedMessage; `metadata` is the object index its metadata refers to
    (3: the metadata object; 7: a string, as in a type-confused archive)."""
    import plistlib

    UID = plistlib.UID

    def cls(name: str) -> dict:
        return {"$classname": name, "$classes": [name, "NSObject"]}

    return _archive([
        "$null",
        {"$class": UID(2), "metadata": UID(metadata), "content": UID(5)},
        cls("IGDirectPublishedMessage"),
        {"$class": UID(4), "senderPk": UID(7), "serverTimestamp": UID(8)},
        cls("IGDirectPublishedMessageMetadata"),
        {"$class": UID(6), "codedSubtype": UID(9), "string": UID(10)},
        cls("IGDirectPublishedMessageContent"),
        "22824420",
        {"$class": UID(11), "NS.time": 606793277.5},
        "SUBTYPE_TEXT",
        "hello",
        cls("NSDate"),
    ])


def test_metadata_that_is_a_string_is_a_bad_value_and_the_other_rows_read(tmp_path: Path) -> None:
    """Type confusion: `metadata` archived as a string (once an AttributeError that lost the exhibit)."""
    db = build_database(tmp_path / "9368974384.db", DDL, {
        "threads": [("t1", None, "9368974384", None, None, None, 1)],
        "messages": [("m1", "t1", _message_archive(3), "IGDirectPublishedMessage", 1),
                     ("m2", "t1", _message_archive(7), "IGDirectPublishedMessage", 2),
                     ("m3", "t1", _message_archive(3), "IGDirectPublishedMessage", 3)],
    })
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(w.kind, w.message, w.table, w.row_id, w.field, w.severity) for w in parsed.warnings] == [
        ("bad_value", "archive.metadata is str, not an archived object; read as empty", "messages", 2, "archive.metadata", "warning")]
    assert [m.source_row_id for m in parsed.messages] == [1, 2, 3]
    good = Message(source_table="messages", source_row_id=1, conversation_id="t1", sender=Participant("22824420"), direction="incoming",
                   sent=cocoa_seconds(606793277.5), sent_raw="606793277.5", body="hello", kind="text", account_id="9368974384",
                   details={"message_id": "m1", "class_name": "IGDirectPublishedMessage", "subtype": "SUBTYPE_TEXT"})
    assert parsed.messages[0] == good
    assert parsed.messages[1] == Message(source_table="messages", source_row_id=2, conversation_id="t1", direction="unknown",
                                         body="hello", kind="text", account_id="9368974384",
                                         details={"message_id": "m2", "class_name": "IGDirectPublishedMessage", "subtype": "SUBTYPE_TEXT"})
    assert parsed.messages[2].body == "hello" and parsed.messages[2].source_row_id == 3
