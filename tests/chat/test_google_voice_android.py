"""Google Voice Android LegacyMsgDbInstance.db: fixtures built from the documented blob fields.

Facts (see parsers/chat/google_voice_android.py; iLEAPP googleVoice.py Android functions):
message_t(message_blob, conversation_id "t..." one-to-one / "g..." group); blob fields 1 id,
2 Unix ms, 3 own number, 4.1 other party, 6 read, 9 duration (float bits), 10 text, 13 type
(0 missed, 1 answered, 2 outgoing call, 3 voicemail, 5 text in, 6 text out), 22 missed marker,
7.2[].1 transcript words, 15 group message (1 text, 4[].1 members, 5 sender when received).
No corpus sample exists (CHATS.tsv lists none).
"""

from __future__ import annotations

import struct
from pathlib import Path

from manifests.records import Message, Participant
from parsers.decode.protobuf import FIXED32, encode_field, encode_varint
from tests.chat.helpers import assert_no_warnings, build_database, parse_files

LOGICAL = b"/data/data/com.google.android.apps.googlevoice/files/accounts/1/LegacyMsgDbInstance.db"
SCHEMA = "CREATE TABLE android_metadata (locale TEXT); CREATE TABLE message_t (message_blob BLOB, conversation_id TEXT);"
OWN, BOB, CAROL = "+15550000001", "+15550000002", "+15550000003"


def _float(number: int, value: float) -> bytes:
    return encode_varint(number << 3 | FIXED32) + struct.pack("<f", value)


def _blob(message_id: str, ms: int, code: int, *extra: bytes, other: str | None = BOB) -> bytes:
    parts = encode_field(1, message_id) + encode_field(2, ms) + encode_field(3, OWN)
    if other is not None:
        parts += encode_field(4, encode_field(1, other))
    return parts + encode_field(13, code) + b"".join(extra)


def _rows() -> list[tuple[bytes, str]]:
    transcript = encode_field(7, encode_field(2, encode_field(1, "call")) + encode_field(2, encode_field(1, "me")))
    group = encode_field(15, encode_field(1, "group hi") + encode_field(4, encode_field(1, BOB)) + encode_field(4, encode_field(1, CAROL))
                         + encode_field(5, BOB))
    group_out = encode_field(15, encode_field(1, "to all") + encode_field(4, encode_field(1, BOB)) + encode_field(4, encode_field(1, CAROL)))
    return [
        (_blob("m1", 1700000000123, 5, encode_field(6, 1), encode_field(10, "are you there?")), "t." + BOB),
        (_blob("m2", 1700000060000, 6, encode_field(10, "yes")), "t." + BOB),
        (_blob("c1", 1700000120000, 0, encode_field(22, 1)), "t." + BOB),
        (_blob("c2", 1700000180000, 2, _float(9, 61.5)), "t." + BOB),
        (_blob("v1", 1700000240000, 3, encode_field(6, 0), _float(9, 4.0), transcript), "t." + BOB),
        (_blob("g1", 1700000300000, 5, encode_field(6, 1), group, other=None), "g.group1"),
        (_blob("g2", 1700000360000, 6, group_out, other=None), "g.group1"),
    ]


def test_texts_calls_voicemail_and_group_messages(tmp_path: Path) -> None:
    db = build_database(tmp_path / "LegacyMsgDbInstance.db", SCHEMA, {"message_t": _rows()})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"google_voice_android"}
    assert len(parsed.messages) == 7
    assert parsed.messages[0] == Message(
        source_table="message_t", source_row_id=1, conversation_id="t." + BOB, sender=Participant(BOB),
        recipients=(Participant(OWN),), direction="incoming", sent=1700000000123 * 10**6, sent_raw="1700000000123",
        body="are you there?", kind="text", account_id=OWN, details={"message_id": "m1", "item_type": "5 (text incoming)", "is_read": "1"},
    )
    # The account's own number (blob field 3) names the account of every item, received ones too.
    assert [m.account_id for m in parsed.messages] == [OWN] * 7
    out, missed, call, voicemail, group, group_out = parsed.messages[1:]
    assert (out.direction, out.sender, out.recipients, out.account_id, out.body) == (
        "outgoing", Participant(OWN), (Participant(BOB),), OWN, "yes")
    assert (missed.kind, missed.direction, missed.details["missed"], missed.details["item_type"]) == ("call", "incoming", "1", "0 (missed call)")
    assert (call.kind, call.direction, call.details["duration_seconds"]) == ("call", "outgoing", "61.5")
    assert (voicemail.details["transcript"], voicemail.details["duration_seconds"], voicemail.details["is_read"]) == ("call me", "4", "0")
    assert (group.direction, group.sender, group.recipients, group.body) == (
        "incoming", Participant(BOB), (Participant(OWN), Participant(CAROL)), "group hi")
    assert (group_out.direction, group_out.sender, group_out.recipients, group_out.account_id) == (
        "outgoing", Participant(OWN), (Participant(BOB), Participant(CAROL)), OWN)


def test_received_items_name_the_account_too(tmp_path: Path) -> None:
    """account_id is the store's own number (field 3) on received texts, calls, voicemails and group messages, not only sent ones."""
    db = build_database(tmp_path / "LegacyMsgDbInstance.db", SCHEMA, {"message_t": _rows()})
    parsed = parse_files(db, logical={db: LOGICAL})
    received = [m for m in parsed.messages if m.direction == "incoming"]
    assert [(m.kind, m.account_id) for m in received] == [("text", OWN), ("call", OWN), ("call", OWN), ("text", OWN)]


def test_hostile_blobs_are_warnings_and_keep_the_row(tmp_path: Path) -> None:
    good = _blob("m1", 1700000000000, 5, encode_field(10, "ok"))
    db = build_database(tmp_path / "LegacyMsgDbInstance.db", SCHEMA, {"message_t": [
        (good[:-3], "t.1"),  # truncated inside the text field
        ("not a blob", "t.2"),  # type-confused
        (_blob("g", 1, 5, encode_field(15, b"\xff\xff"), other=None), "g.3"),  # a corrupt nested group message
        (_blob("x", 10**20, 99), "t.4"),  # an impossible time and an unknown item type
        (good, None),
    ]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(m.source_row_id, m.conversation_id, m.kind, m.body) for m in parsed.messages] == [
        (1, "t.1", "unknown", None), (2, "t.2", "unknown", None), (3, "g.3", "unknown", None), (4, "t.4", "unknown", None),
        (5, None, "text", "ok")]
    assert [(w.kind, w.row_id) for w in parsed.warnings] == [("bad_blob", 1), ("bad_blob", 2), ("bad_blob", 3), ("bad_time", 4)]
    assert parsed.messages[3].details == {"message_id": "x", "item_type": "99 (unknown)"}
    assert [m.account_id for m in parsed.messages] == [None, None, None, OWN, OWN]  # an unreadable blob names no account


def test_unknown_schema_at_the_voice_path(tmp_path: Path) -> None:
    db = build_database(tmp_path / "LegacyMsgDbInstance.db", "CREATE TABLE message_t (blob BLOB);")
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]
