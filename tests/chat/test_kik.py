"""Kik: the plaso iOS kik.sqlite (counts, range, golden records) and an Android kikDatabase.db fixture.

Facts (see parsers/chat/kik.py): iOS ZKIKMESSAGE.ZTYPE 1 received / 2 sent / 3 group admin / 4 group
notice, ZTIMESTAMP Core Data seconds, ZUSER -> ZKIKUSER, chats linked through Z_3MESSAGES (iLEAPP's Kik
messages artifact). Android messagesTable: partner_jid, was_me, timestamp (Unix ms),
bin_id (conversation JID), content_id; KIKcontactsTable jid/display_name (ALEAPP's Kik artifact).
"""

from __future__ import annotations

from pathlib import Path

from manifests.records import Attachment, Message, Participant
from tests.chat.helpers import assert_no_warnings, build_database, corpus_file, parse_files

PLASO = "log2timeline__plaso/test_data/ios/kik.sqlite"
IOS_LOGICAL = b"/private/var/mobile/Containers/Shared/AppGroup/ABC/cores/private/xyz/kik.sqlite"
ANDROID_LOGICAL = b"/data/data/kik.android/databases/kikDatabase.db"
GROUP = "1100024090445_g@groups.kik.com"


def test_plaso_ios_counts_range_and_golden_records() -> None:
    path = corpus_file(PLASO)
    parsed = parse_files(path, logical={path: IOS_LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"kik"}
    assert len(parsed.messages) == 60  # CHATS.tsv: ZKIKMESSAGE 60
    assert parsed.time_range() == ("2015-06-29T08:46:12Z", "2015-07-02T09:16:58Z")
    assert parsed.messages[10] == Message(
        source_table="ZKIKMESSAGE", source_row_id=11, conversation_id=GROUP, conversation_title="EveryoneButRoss",
        sender=Participant("sbabadi61_jet@talk.kik.com", "Sina Babadi"), direction="incoming",
        sent=1435587560719000100, sent_raw="457280360.7190001", received=1435587561704937040, body="Hi there", kind="text",
        details={"type": "1 (received)", "state": "16", "system_state": "12",
                 "stanza_id": "340c4e48-f928-4188-a6ca-443b1fd6a869", "chat_pk": "2"},
    )
    # Sent in the group: addressed to the group user; message 2 is linked to two chats and goes to Ken's own.
    sent_to_group = parsed.messages[9]
    assert (sent_to_group.direction, sent_to_group.recipients, sent_to_group.conversation_id) == (
        "outgoing", (Participant(GROUP, "EveryoneButRoss"),), GROUP)
    assert parsed.messages[1].conversation_id == "ken.doh_khv@talk.kik.com"
    media = [m for m in parsed.messages if m.kind == "media"]
    assert [(m.source_row_id, m.attachments) for m in media] == [
        (20, (Attachment(file_name="a7160843-c595-4afb-a359-4151dcd79157"),)),
        (26, (Attachment(file_name="b98fc1f4-8862-48fd-9cba-cc0fc4d12037"),))]
    assert sum(m.kind == "system" for m in parsed.messages) == 5  # ZTYPE 3: 3 rows, ZTYPE 4: 2 rows


ANDROID_SCHEMA = """
CREATE TABLE messagesTable (_id INTEGER PRIMARY KEY AUTOINCREMENT, body VARCHAR, partner_jid VARCHAR, was_me INT,
  read_state INT, uid VARCHAR, length INT, timestamp LONG, bin_id VARCHAR, sys_msg VARCHAR, stat_msg VARCHAR,
  stat_user_jid VARCHAR, req_read_reciept BOOLEAN, content_id VARCHAR, app_id VARCHAR, message_retry_count INT,
  encryption_failure BOOLEAN, encryption_key VARCHAR, render_instructions VARCHAR);
CREATE TABLE KIKcontactsTable (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid VARCHAR UNIQUE, display_name VARCHAR,
  user_name VARCHAR, in_roster INT, is_blocked INT, is_group INT);
"""


def test_android_fixture(tmp_path: Path) -> None:
    db = build_database(tmp_path / "kikDatabase.db", ANDROID_SCHEMA, {
        "messagesTable": [
            (1, "hey", "bob_x1@talk.kik.com", 0, 500, "u-1", 3, 1600000000123, "bob_x1@talk.kik.com", None, None, None, 0, None, None, 0, 0, None, None),
            (2, "yo", "bob_x1@talk.kik.com", 1, 500, "u-2", 2, 1600000005000, "bob_x1@talk.kik.com", None, None, None, 0, None, None, 0, 0, None, None),
            (3, None, "carol_y2@talk.kik.com", 0, 500, "u-3", 0, 1600000006000, "123_g@groups.kik.com", None, None, None, 0,
             "c0ffee", "com.kik.ext.camera", 0, 0, None, None),
            (4, None, "carol_y2@talk.kik.com", 0, 500, "u-4", 0, 1600000007000, "123_g@groups.kik.com", None,
             "Carol has joined the chat", None, 0, None, None, 0, 0, None, None),
        ],
        "KIKcontactsTable": [(1, "bob_x1@talk.kik.com", "Bob", "bob", 1, 0, 0), (2, "carol_y2@talk.kik.com", None, "carol", 1, 0, 0),
                             (3, "123_g@groups.kik.com", "Crew", None, 1, 0, 1)],
    })
    parsed = parse_files(db, logical={db: ANDROID_LOGICAL})
    assert_no_warnings(parsed)
    assert len(parsed.messages) == 4
    assert parsed.messages[0] == Message(
        source_table="messagesTable", source_row_id=1, conversation_id="bob_x1@talk.kik.com", conversation_title="Bob",
        sender=Participant("bob_x1@talk.kik.com", "Bob"), direction="incoming", sent=1600000000123000000,
        sent_raw="1600000000123", body="hey", kind="text", details={"was_me": "0", "read_state": "500", "uid": "u-1"},
    )
    sent, photo, joined = parsed.messages[1:]
    assert (sent.direction, sent.sender, sent.recipients) == ("outgoing", None, (Participant("bob_x1@talk.kik.com", "Bob"),))
    assert (photo.kind, photo.conversation_title, photo.sender, photo.attachments) == (
        "media", "Crew", Participant("carol_y2@talk.kik.com", "carol"), (Attachment(file_name="c0ffee"),))
    assert (joined.kind, joined.body, joined.details["stat_msg"]) == ("system", None, "Carol has joined the chat")


def test_kik_with_unknown_schema_is_reported(tmp_path: Path) -> None:
    db = build_database(tmp_path / "kikDatabase.db", "CREATE TABLE messagesTable (_id INTEGER PRIMARY KEY, body TEXT);")
    parsed = parse_files(db, logical={db: ANDROID_LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]
