"""Every chat database in the corpus's CHATS.tsv, in one table: the parser that reads it and how many
rows it gives, against the count CHATS.tsv lists (measured by another hand with Python's sqlite3).

Where the two differ the reason is written beside the row; the per-app test modules check the
details (golden records, iLEAPP row-for-row comparisons). Each file's time range (earliest and latest
sent time, to the second) agrees with CHATS.tsv's, or differs for the reason written beside it.
"""

from __future__ import annotations

import csv
import hashlib
import time
from collections import Counter
from pathlib import Path

import pytest

from parsers.artefact import Catalog, HostArtefact
from parsers.chat.driver import parse_artefact
from tests.corpus import require_corpus

WHATSAPP_PLACEHOLDER = "messages row 1 is WhatsApp's placeholder (key_remote_jid '-1'), not a message: an info row instead"
# local_path -> ({parser: rows}, CHATS.tsv count, why they differ or "")
EXPECTED: dict[str, tuple[dict[str, int], int, str]] = {
    "log2timeline__plaso/test_data/android/mmssms.db": ({"android_sms": 9}, 9, ""),
    "log2timeline__plaso/test_data/android/babel.db": ({"hangouts": 14}, 14, ""),
    "log2timeline__plaso/test_data/tango_android_tc.db": ({"tango": 18}, 18, ""),
    "log2timeline__plaso/test_data/android/tango_profile.db": ({}, 12, "profiles only: no messages"),
    "log2timeline__plaso/test_data/android/twitter.db": ({"twitter": 1}, 1, ""),
    "log2timeline__plaso/test_data/android/viber_data": ({"viber": 4}, 4, "calls, emitted as kind call"),
    "log2timeline__plaso/test_data/android/contacts2.db": ({"android_call_log": 3}, 3, "call log, kind call"),
    "log2timeline__plaso/test_data/android/burners.sqlite": ({"burner": 16}, 16, ""),
    "log2timeline__plaso/test_data/ios/kik.sqlite": ({"kik": 60}, 60, ""),
    "log2timeline__plaso/test_data/ios/twitter.db": ({}, 67, "Statuses are tweets, not messages"),
    "log2timeline__plaso/test_data/ios/9368974384.db": ({"instagram_ios": 75}, 75, ""),
    "log2timeline__plaso/test_data/sqlite/imessage_chat.db": ({"apple_messages": 10}, 10, ""),
    "log2timeline__plaso/test_data/sqlite/skype_main.db": ({"skype_classic": 18}, 15, "15 Messages + 1 call + 2 file transfers no chat row announces"),
    "log2timeline__plaso/test_data/AwemeIM.db": ({}, 4, "contacts with a last-chat time, no message bodies (one info row)"),
    "sepinf-inc__IPED/iped-parsers/iped-parsers-impl/src/test/resources/test-files/test_whatsAppMsgStore.db": ({"whatsapp_android": 74}, 75, WHATSAPP_PLACEHOLDER),
    "sepinf-inc__IPED/iped-parsers/iped-parsers-impl/src/test/resources/test-files/test_whatsApp.db": ({}, 389, "contacts (wa.db), no messages"),
    "sepinf-inc__IPED/iped-parsers/iped-parsers-impl/src/test/resources/test-files/test_skypeMain.db": ({"skype_classic": 9}, 9, ""),
    "sepinf-inc__IPED/iped-parsers/iped-parsers-impl/src/test/resources/test-files/test_skypeS4lStreeguil1.db": ({}, 0, ""),
    "sepinf-inc__IPED/iped-parsers/iped-parsers-impl/src/test/resources/test-files/org.telegram.messenger.web/files/account1/cache4.db": ({}, 0, ""),
    "sepinf-inc__IPED/iped-parsers/iped-parsers-impl/src/test/resources/test-files/org.telegram.messenger.web/files/account2/cache4.db": ({}, 0, ""),
    "abrignoni__iLEAPP/admin/test/cases/data/whatsApp/testdata.whatsApp.whatsAppMessages.josh_ios15_ffs.zip.extracted/filesystem2/mobile/Containers/Shared/AppGroup/694FBBC5-2E69-480A-A25B-FF8CC038BEF8/ChatStorage.sqlite": ({"whatsapp_ios": 32}, 32, ""),
    "abrignoni__iLEAPP/admin/test/cases/data/whatsApp/testdata.whatsApp.whatsAppCallHistory.josh_ios15_ffs.zip.extracted/filesystem2/mobile/Containers/Shared/AppGroup/694FBBC5-2E69-480A-A25B-FF8CC038BEF8/CallHistory.sqlite": ({"whatsapp_ios_calls": 4}, 4, "calls, kind call"),
    "abrignoni__iLEAPP/admin/test/cases/data/whatsApp/testdata.whatsApp.whatsAppCallHistory.josh_ios15_ffs.zip.extracted/filesystem2/mobile/Containers/Shared/AppGroup/694FBBC5-2E69-480A-A25B-FF8CC038BEF8/ContactsV2.sqlite": ({}, 9, "contacts, no messages"),
    "abrignoni__iLEAPP/admin/test/cases/data/whatsApp/testdata.whatsApp.whatsAppContacts.mvs_ios_2023.zip.extracted/private/var/mobile/Containers/Shared/AppGroup/B651B3B1-8FA4-4FD9-B0E4-C6F8F8EBC5FD/ContactsV2.sqlite": ({}, 0, "contacts, no messages"),
    "abrignoni__iLEAPP/admin/test/cases/data/teams/testdata.teams.teamsMessages.josh_ios15_ffs.zip.extracted/filesystem2/mobile/Containers/Shared/AppGroup/E12BE95F-EA64-4826-8A15-DB2CF818F268/SkypeSpacesDogfood/148AB670-2197-4B7F-AD74-206D4AB2ED62/SkypeSpacesDogfood-9188040d-6c67-4c5b-b112-36a304b66dad.sqlite": ({"teams_ios": 81}, 81, ""),
    "abrignoni__iLEAPP/admin/test/cases/data/googleVoice/testdata.googleVoice.googleVoiceMessages.josh_ios17_ffs.zip.extracted/filesystem1/private/var/mobile/Containers/Shared/AppGroup/B77C4DDA-AA68-4862-AB30-930018A63FB1/Library/Application Support/116154953456844128063/threadingStore.sqlite": ({"google_voice": 152}, 152, "118 texts + 34 calls and voicemails (kind call)"),
    "abrignoni__iLEAPP/admin/test/cases/data/meWe/testdata.meWe.meWeMessages.josh_ios17_ffs.zip.extracted/filesystem1/private/var/mobile/Containers/Data/Application/B8B1A6C3-DCBA-468D-B2B4-EA42DD1B07AF/Documents/sgrouplesdb.sqlite": ({"mewe": 53}, 53, ""),
    "abrignoni__iLEAPP/admin/test/cases/data/truthSocial/testdata.truthSocial.truthSocialMessages.josh_ios17_ffs.zip.extracted/filesystem1/private/var/mobile/Containers/Shared/AppGroup/E9E0EAAD-CA38-4661-999B-1E6B130F3288/chat/v1/107848900006371409/ChatModel.sqlite": ({"truth_social": 39}, 13, "13 messages + 5 chat events (iLEAPP's 18), plus 21 older messages the WAL deleted (removed_in_wal)"),
    "abrignoni__iLEAPP/admin/test/cases/data/discord_cache/testdata.discord_cache.discord_cache.josh_ios15_ffs.zip.extracted/filesystem2/mobile/Containers/Data/Application/FC296D69-95CC-448D-8C8B-BBCFADD48A2F/Library/Caches/com.hammerandchisel.discord/Cache.db": ({"discord_ios": 156}, 65, "65 is cached responses; 8 hold channel messages: 156 message copies, 60 distinct ids"),
    "abrignoni__iLEAPP/admin/test/cases/data/burnerCache/testdata.burnerCache.burnerCache_messages.josh_ios15_ffs.zip.extracted/filesystem2/mobile/Containers/Data/Application/43637BC0-E3FA-4375-9A56-B85713075C0D/Library/Caches/com.adhoclabs.burner/Cache.db": ({"burner": 18}, 39, "39 is cached responses; they hold 18 messages"),
    "abrignoni__iLEAPP/admin/test/cases/data/voicemail/testdata.voicemail.voicemail.josh_ios15_ffs.zip.extracted/filesystem2/mobile/Library/Voicemail/voicemail.db": ({}, 0, ""),
    "mvt-project__mvt/tests/artifacts/ios_backup/3d/3d0d7e5fb2ce288813306e4d4636395e047a3d28": ({"apple_messages": 1}, 1, ""),
    "mvt-project__mvt/tests/artifacts/ios_backup/7c/7c7fba66680ef796b916b067077cc246adacf01d": ({"whatsapp_ios": 3}, 3, ""),
    "dfrc-korea__DFRWS_Challenge_2021/Part 3 Samsung Smartphone/[3-1] mmssms.db": ({"android_sms": 32}, 32, ""),
    "dfrc-korea__DFRWS_Challenge_2021/Part 3 Samsung Smartphone/[3-3] dec_mmssms.db": ({"android_sms": 32}, 27, "the app's sms table has 32 rows; dec_sms (27) is the challenge's added decrypted copy, not an app table"),
    "amandawills__CS426-iphone-sms-forensics/sms.db": ({"apple_messages": 105}, 105, ""),
    "dllsystem__whatsapp-msgstore-web-viewer/msgstore.db": ({"whatsapp_android": 9}, 9, ""),
    "code-kuuhaku__lab-whatsapp/msgstore.db": ({"whatsapp_android": 46}, 47, WHATSAPP_PLACEHOLDER),
    "code-kuuhaku__lab-whatsapp/wa.db": ({}, 11, "contacts (wa.db), no messages"),
    "Er-Simon__Sqlite3-restore-deleted-records/msgstore.db": ({"whatsapp_android": 19}, 20, WHATSAPP_PLACEHOLDER),
}

# Warnings a corpus file must give (kinds, in order); every other file gives none.
EXPECTED_WARNINGS: dict[str, list[str]] = {
    "log2timeline__plaso/test_data/sqlite/skype_main.db": ["bad_time"],  # Messages row 61: timestamp 13727168620
    # Statuses: a text and a date column over 67 rows, which no parser reads (tweets, not messages)
    "log2timeline__plaso/test_data/ios/twitter.db": ["chat_store_unrecognised"],
}


def _chats_rows() -> list[dict[str, str]]:
    with open(require_corpus() / "CHATS.tsv", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle, delimiter="\t"))


def test_every_chats_row_has_an_expectation() -> None:
    listed = {row["local_path"]: int(row["message_count"]) for row in _chats_rows()}
    assert sorted(listed) == sorted(EXPECTED)
    assert {path: EXPECTED[path][1] for path in listed} == listed
    for path, (by_parser, listed_count, why) in EXPECTED.items():
        if sum(by_parser.values()) != listed_count:
            assert why, f"{path}: a difference needs its reason"


def _catalog(database: Path, root: Path) -> tuple[HostArtefact, Catalog]:
    """The database and every file of its folder (siblings, companions, cache files), with their corpus paths."""
    artefacts = []
    main = None
    for path in sorted(p for p in database.parent.rglob("*") if p.is_file()):
        artefact = HostArtefact(path, path_bytes=b"/" + str(path.relative_to(root)).encode())
        artefacts.append(artefact)
        if path == database:
            main = artefact
    assert main is not None
    return main, Catalog.of(artefacts)


@pytest.mark.parametrize("relative", sorted(EXPECTED))
def test_corpus_database_gives_the_expected_rows(relative: str) -> None:
    root = require_corpus()
    database = root / relative
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    main, catalog = _catalog(database, root)
    result = parse_artefact(main, catalog)
    counts = Counter(parsed.parser.name for parsed in result.messages)
    assert dict(counts) == EXPECTED[relative][0]
    assert [w.kind for _, w in result.warnings if w.severity != "info"] == EXPECTED_WARNINGS.get(relative, [])
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before


CACHE_RANGE = "CHATS.tsv lists no range for a cache of server responses"
DATE_COLUMN = "CHATS.tsv ranges `date` (received if incoming, sent if outgoing); an incoming sent time is `date_sent`"
# local_path -> (our earliest, our latest, why they differ from CHATS.tsv's earliest_utc/latest_utc).
# Our range is over the `sent` time of every row but those the WAL removed; every other file agrees.
RANGE_DIFFERENCES: dict[str, tuple[str, str, str]] = {
    "log2timeline__plaso/test_data/tango_android_tc.db": (
        "2016-01-15T14:29:18Z", "2016-01-15T14:53:32Z",
        "CHATS.tsv ranges create_time; message 16777215 was stored 2014-04-30 but its send_time is 2016-01-15"),
    "log2timeline__plaso/test_data/ios/twitter.db": ("", "", "Statuses are tweets, not messages"),
    "log2timeline__plaso/test_data/ios/9368974384.db": (
        "2020-03-22T19:12:02Z", "2023-04-27T17:57:03Z",
        "CHATS.tsv's latest is a media link's expiration_date (row 1642), not a message time"),
    "log2timeline__plaso/test_data/sqlite/skype_main.db": (
        "2013-07-01T22:12:17Z", "2013-10-27T15:29:19Z", "the earliest row is call 110, not a Messages row"),
    "log2timeline__plaso/test_data/AwemeIM.db": ("", "", "contacts, no message bodies"),
    "abrignoni__iLEAPP/admin/test/cases/data/truthSocial/testdata.truthSocial.truthSocialMessages.josh_ios17_ffs.zip.extracted/filesystem1/private/var/mobile/Containers/Shared/AppGroup/E9E0EAAD-CA38-4661-999B-1E6B130F3288/chat/v1/107848900006371409/ChatModel.sqlite": (
        "2022-12-04T02:21:12Z", "2024-07-22T18:05:49Z", "the earliest rows are chat events (kind system), not messages"),
    "abrignoni__iLEAPP/admin/test/cases/data/discord_cache/testdata.discord_cache.discord_cache.josh_ios15_ffs.zip.extracted/filesystem2/mobile/Containers/Data/Application/FC296D69-95CC-448D-8C8B-BBCFADD48A2F/Library/Caches/com.hammerandchisel.discord/Cache.db": (
        "2021-02-04T16:24:40Z", "2023-04-24T20:49:03Z", CACHE_RANGE),
    "abrignoni__iLEAPP/admin/test/cases/data/burnerCache/testdata.burnerCache.burnerCache_messages.josh_ios15_ffs.zip.extracted/filesystem2/mobile/Containers/Data/Application/43637BC0-E3FA-4375-9A56-B85713075C0D/Library/Caches/com.adhoclabs.burner/Cache.db": (
        "2023-05-08T17:25:37Z", "2023-05-08T18:01:21Z", CACHE_RANGE),
    "dfrc-korea__DFRWS_Challenge_2021/Part 3 Samsung Smartphone/[3-1] mmssms.db": (
        "2021-04-08T09:14:06Z", "2021-04-18T15:30:22Z", DATE_COLUMN),
    "dfrc-korea__DFRWS_Challenge_2021/Part 3 Samsung Smartphone/[3-3] dec_mmssms.db": (
        "2021-04-08T09:14:06Z", "2021-04-18T15:30:22Z", DATE_COLUMN),
}
DATE_COLUMN_AGREES = {path for path, (_, _, why) in RANGE_DIFFERENCES.items() if why == DATE_COLUMN}


def _utc_second(nanoseconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(nanoseconds // 1_000_000_000))


def _range(values: list[int]) -> tuple[str, str]:
    return (_utc_second(min(values)), _utc_second(max(values))) if values else ("", "")


@pytest.mark.parametrize("relative", sorted(EXPECTED))
def test_corpus_database_time_range(relative: str) -> None:
    root = require_corpus()
    row = next(row for row in _chats_rows() if row["local_path"] == relative)
    main, catalog = _catalog(root / relative, root)
    kept = [p.message for p in parse_artefact(main, catalog).messages if p.record_state != "removed_in_wal"]
    ours = _range([m.sent for m in kept if m.sent is not None])
    listed = (row["earliest_utc"], row["latest_utc"])
    if relative in RANGE_DIFFERENCES:
        assert ours == RANGE_DIFFERENCES[relative][:2]
        assert ours != listed
    else:
        assert ours == listed
    if relative in DATE_COLUMN_AGREES:
        assert _range([m.sent if m.direction == "outgoing" else m.received for m in kept]) == listed
