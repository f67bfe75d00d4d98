"""Twitter/X iOS DM cache (com.atebits.tweetie.direct-message.cache/<account>): iLEAPP's test case josh_ios17_ffs.

Facts (own words; sources: the corpus file itself and the columns of iLEAPP's expected output
admin/test/results/twitterX/...json): one NSKeyedArchiver plist; inbox.context.userID/accountID = owner;
trusted/untrusted/low_quality timelines -> conversations (identifier.canonicalID) -> entries:
TFNDirectMessageEntry (time = Cocoa seconds, sender, originalText, attachment.entityMedia.mediaURL /
displayURL, inReplyToMessageEntry, marked_as_spam/abuse), TFNDirectMessageReactionCreatedEntry,
TFNDirectMessageEndAvBroadcastEntry (calls: is_caller, started_at, ended_at).

Field mapping versus iLEAPP (checked row for row below):
- iLEAPP's "Timestamp" is not UTC: it equals the UTC second plus the America/Chicago offset of that
  moment (+5 h in summer time, +6 h otherwise; truncated to the second), i.e. the report was made with
  a local-time conversion on a US Central machine. Our `sent` is UTC from the stored Cocoa seconds.
- Body = originalText, as iLEAPP's "Message"; reactions and calls have no body in both.
- "Account ID" (the file name / accountID) is details["account_key"]; our account_id is the owner's userID.
- Calls: iLEAPP gives no sender and From Me = 0 for all four; we take direction from the stored
  `is_caller` (two outgoing, two incoming) and name the owner as the sender of outgoing calls.
"""

from __future__ import annotations

import json
import plistlib
import re
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

from manifests.records import Attachment, Message, Participant
from parsers.chat.registry import file_parsers
from tests.chat.helpers import assert_no_warnings, corpus_file, parse_files

SAMPLE = ("abrignoni__iLEAPP/admin/test/cases/data/twitterX/testdata.twitterX.twitterDirectMessages.josh_ios17_ffs.zip.extracted/"
          "filesystem1/private/var/mobile/Containers/Data/Application/491A1D31-3D27-4EC3-9B98-80FC51F3AE6D/Library/Caches/"
          "com.atebits.tweetie.direct-message.cache/TDfir-725479270958694")
EXPECTED = "abrignoni__iLEAPP/admin/test/results/twitterX/twitterX.twitterDirectMessages.josh_ios17_ffs.20260725220335.json"
LOGICAL = (b"/private/var/mobile/Containers/Data/Application/491A1D31-3D27-4EC3-9B98-80FC51F3AE6D/Library/Caches/"
           b"com.atebits.tweetie.direct-message.cache/TDfir-725479270958694")
OWNER = "1068228364824178689"
CENTRAL = ZoneInfo("America/Chicago")


def _parsed(path: Path, logical: bytes = LOGICAL):
    return parse_files(path, logical={path: logical})


def test_corpus_counts_kinds_range_and_golden_record() -> None:
    parsed = _parsed(corpus_file(SAMPLE))
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"twitter_x_ios"}
    assert len(parsed.messages) == 72  # iLEAPP: 72 rows
    kinds = [m.kind for m in parsed.messages]
    assert (kinds.count("text"), kinds.count("media"), kinds.count("reaction"), kinds.count("call")) == (51, 15, 2, 4)
    assert len({m.conversation_id for m in parsed.messages}) == 4
    assert parsed.time_range() == ("2019-01-18T21:02:38Z", "2024-07-07T18:22:17Z")
    assert parsed.messages[9] == Message(
        source_table="entries", source_row_id=10, conversation_id="1068228364824178689-1809677946439000064",
        sender=Participant("1809677946439000064", "ldehner505 (@ldehner505)"),
        recipients=(Participant(OWNER, "ThisIsDFIR (@TDfir)"),), direction="incoming",
        sent=1720367212 * 10**9, sent_raw="742060012.0", body=" https://t.co/Z8bV0bZIU7", kind="media",
        attachments=(Attachment(file_name="qMMqJqya.jpg"),),
        account_id=OWNER,
        details={"timeline": "trusted", "entry_class": "TFNDirectMessageEntry", "account_key": "TDfir-725479270958694",
                 "model_version": "317", "message_id": "1809977393236377822", "marked_as_spam": "false",
                 "marked_as_abuse": "false", "attachment_class": "TFNDirectMessageMediaAttachment",
                 "media_url": "https://ton.twitter.com/1.1/ton/data/dm/1809977393236377822/1809977388677115904/qMMqJqya.jpg",
                 "display_url": "pic.twitter.com/Z8bV0bZIU7", "expanded_url": "https://twitter.com/messages/media/1809977393236377822",
                 "media_id": "1809977388677115904", "media_type": "1"},
    )
    reaction = parsed.messages[4]
    assert (reaction.kind, reaction.body, reaction.details["emoji_reaction"], reaction.details["reacted_to_message_id"]) == (
        "reaction", None, "❤️", "1809967773944303688")
    calls = [m for m in parsed.messages if m.kind == "call"]
    assert [(m.direction, m.sender) for m in calls] == [
        ("incoming", None), ("outgoing", Participant(OWNER, "ThisIsDFIR (@TDfir)")),
        ("incoming", None), ("outgoing", Participant(OWNER, "ThisIsDFIR (@TDfir)"))]


def test_rows_match_ileapp_expected_output() -> None:
    rows = json.loads(corpus_file(EXPECTED).read_text(encoding="utf-8"))["data"]
    parsed = _parsed(corpus_file(SAMPLE))
    assert len(rows) == len(parsed.messages) == 72
    for row, message in zip(rows, parsed.messages, strict=True):
        (stamp, conversation, conversation_id, timeline, sender_name, sender_id, body, media_url, display_url,
         spam, abuse, reply_to, message_id, account, from_me) = row
        utc = datetime.fromtimestamp(message.sent // 10**9, timezone.utc)
        assert stamp - message.sent // 10**9 == -utc.astimezone(CENTRAL).utcoffset().total_seconds()
        assert (conversation_id, timeline.lower(), str(message_id), account) == (
            message.conversation_id, message.details["timeline"], message.details["message_id"], message.details["account_key"])
        assert message.body == body
        assert media_url == message.details.get("media_url", "") and display_url == message.details.get("display_url", "")
        assert str(reply_to) == message.details.get("reply_to_message_id", "")
        assert (spam, abuse) == ("", "")
        others = [p.name for p in (message.sender, *message.recipients) if p is not None and p.id != OWNER]
        if message.kind == "call":
            assert (sender_id, sender_name, from_me) == (None, "", 0)  # iLEAPP: no sender for calls; ours from is_caller
            continue
        assert conversation in others
        assert (str(sender_id), sender_name) == (message.sender.id, message.sender.name)
        assert from_me == (1 if message.direction == "outgoing" else 0)


def test_truncated_copy_is_a_warning(tmp_path: Path) -> None:
    data = corpus_file(SAMPLE).read_bytes()
    cut = tmp_path / "TDfir-725479270958694"
    cut.write_bytes(data[: len(data) // 2])
    parsed = _parsed(cut)
    assert parsed.messages == []
    assert [(w.kind, w.severity) for w in parsed.warnings] == [("bad_archive", "error")]


def test_other_archive_at_the_path_is_a_warning(tmp_path: Path) -> None:
    other = tmp_path / "acct"
    UID = plistlib.UID
    other.write_bytes(plistlib.dumps({"$archiver": "NSKeyedArchiver", "$version": 100000, "$top": {"root": UID(1)},
                                      "$objects": ["$null", {"$class": UID(2), "x": 1},
                                                   {"$classname": "Other", "$classes": ["Other", "NSObject"]}]},
                                     fmt=plistlib.FMT_BINARY))
    parsed = _parsed(other)
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["bad_archive"]


def test_recognition_needs_path_and_bplist_head() -> None:
    parser = next(p for p in file_parsers() if p.name == "twitter_x_ios")
    path = LOGICAL.decode()
    assert parser.recognises(path, b"bplist00\xd4\x00")
    assert not parser.recognises(path, b"SQLite format 3\x00")
    assert not parser.recognises("/private/var/mobile/Library/Caches/other/TDfir-1", b"bplist00\xd4\x00")


def test_damaged_key_loses_a_timeline_with_a_warning(tmp_path: Path) -> None:
    data = corpus_file(SAMPLE).read_bytes()
    key = re.compile(rb"(?<!un)trusted_conversations_timeline")  # not the 'untrusted_...' key
    assert len(key.findall(data)) == 1
    damaged = tmp_path / "TDfir-725479270958694"
    damaged.write_bytes(key.sub(b"trus\x1aed_conversations_timeline", data))  # a flipped byte in the key name
    parsed = _parsed(damaged)
    assert parsed.messages == []  # every conversation of the sample is in the trusted timeline
    assert [w.kind for w in parsed.warnings] == ["missing_section"]
