"""Every case-level command (query, correlate with its GraphML, timeline, chats, search, hashset import and
match) on a case ingested here from corpus data (issue 11).

Three exhibits, built from the shared corpus (read in place read-only; every file an exhibit holds
is a copy in tmp):

- A/1, a folder laid out as an iPhone: the WhatsApp iOS ``ChatStorage.sqlite`` of Josh Hickman's
  public iOS 15 image (iLEAPP's test case), two photos (the GoPro sample of exiftool's tests, and
  the iPhone sample of bulk_extractor's) and ``passwords.txt`` read out of C/3's disk image with
  The Sleuth Kit's ``icat``;
- B/2, a folder holding the WhatsApp ``CallHistory.sqlite`` of the same iOS image, a second copy of
  the GoPro photo and the DJI sample of plaso's tests;
- C/3, dfVFS's ``ext2.E01`` as it stands in the corpus.

So A/1 and B/2 share a photo and the people of the chat (the owner's account, the contact's phone),
A/1 and C/3 share ``passwords.txt``. Every expected value comes from another hand: hashlib over the
copies, sqlite3 over immutable copies of the databases, CHATS.tsv and MEDIA.tsv, exiftool,
phonenumbers, fls / istat / icat (hash sets: lists written here from hashlib's values); the rules
the README states (ranking, identifiers listed once per store and field, block order) are applied
to those facts here. One golden message record was checked by hand against the database.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal
from pathlib import Path

import phonenumbers
import pytest
from click.testing import CliRunner

from ingest.cli import main
from tests.corpus import check_untouched, require_corpus

CASE = "OP-CORPUS"
A, B, C = "A/1", "B/2", "C/3"
GROUP = "694FBBC5-2E69-480A-A25B-FF8CC038BEF8"
WHATSAPP_IOS = "abrignoni__iLEAPP/admin/test/cases/data/whatsApp"
CHAT_STORAGE = (f"{WHATSAPP_IOS}/testdata.whatsApp.whatsAppMessages.josh_ios15_ffs.zip.extracted/filesystem2/mobile/"
                f"Containers/Shared/AppGroup/{GROUP}/ChatStorage.sqlite")
CALL_HISTORY = (f"{WHATSAPP_IOS}/testdata.whatsApp.whatsAppCallHistory.josh_ios15_ffs.zip.extracted/filesystem2/mobile/"
                f"Containers/Shared/AppGroup/{GROUP}/CallHistory.sqlite")
GOPRO = "exiftool__exiftool/t/images/GoPro.jpg"
IPHONE = "simsong__bulk_extractor/src/tests/exif_demo1.jpg"
DJI = "log2timeline__plaso/test_data/testimage.jpg"
EXT2_E01 = "log2timeline__dfvfs/test_data/ext2.E01"
SIDECARS = ("", "-shm", "-wal")
APP_GROUP = f"private/var/mobile/Containers/Shared/AppGroup/{GROUP}"
# where each exhibit holds which corpus file (folder sources); C/3 is the E01 itself
LAYOUT: dict[str, dict[str, str]] = {
    A: {f"{APP_GROUP}/ChatStorage.sqlite{s}": CHAT_STORAGE + s for s in SIDECARS}
    | {"private/var/mobile/Media/DCIM/100APPLE/IMG_0001.JPG": GOPRO, "private/var/mobile/Media/DCIM/100APPLE/IMG_0002.JPG": IPHONE},
    B: {f"{APP_GROUP}/CallHistory.sqlite{s}": CALL_HISTORY + s for s in SIDECARS}
    | {"Download/gopro.jpg": GOPRO, "Download/drone.jpg": DJI},
}
PASSWORDS_COPY = "Documents/passwords.txt"  # on A/1, the bytes icat reads from C/3's /passwords.txt
# modification times set on the copies (the folder sources' times are the copies' own)
MTIMES = {A: 1_767_261_600_000_000_000, B: 1_767_348_000_123_456_789}  # 2026-01-01T10:00Z, 2026-01-02T10:00:00.123456789Z
APPLE_EPOCH = 978_307_200  # 2001-01-01T00:00:00Z, the epoch of Core Data dates
WHATSAPP_SYSTEM = 10  # ZWAMESSAGE.ZMESSAGETYPE of a system notice: no sender


def _ns_text(ns: int | None) -> str | None:
    """The query/correlate JSON form of a time: ISO 8601 UTC with nine fraction digits."""
    if ns is None:
        return None
    seconds, fraction = divmod(ns, 1_000_000_000)
    return datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction:09d}Z"


def _apple_ns(value: float) -> int:
    """A Core Data date (seconds since 2001, a REAL) as ns since 1970, from its shortest decimal text."""
    return int((Decimal(repr(value)) + APPLE_EPOCH) * 1_000_000_000)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- oracles -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChatFacts:
    """What sqlite3 says about ChatStorage.sqlite (A/1)."""

    messages: list[tuple[int, int, bool, int, str | None, str | None, int]]  # pk, session, from_me, time ns, from, to, type
    sessions: dict[int, tuple[str, str | None]]  # pk -> (contact JID, partner name)
    texts: dict[int, str]  # pk -> ZTEXT, where there is one


@dataclass(frozen=True)
class CallFacts:
    """What sqlite3 says about CallHistory.sqlite (B/2)."""

    calls: list[tuple[int, int, str]]  # pk, time ns, creator JID
    participants: list[str]


def _immutable(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)


def _chat_facts(copy: Path) -> ChatFacts:
    with _immutable(copy) as connection:
        rows = connection.execute("SELECT Z_PK, ZCHATSESSION, ZISFROMME, ZMESSAGEDATE, ZFROMJID, ZTOJID, ZMESSAGETYPE "
                                  "FROM ZWAMESSAGE ORDER BY Z_PK").fetchall()
        sessions = {pk: (jid, name) for pk, jid, name in connection.execute(
            "SELECT Z_PK, ZCONTACTJID, ZPARTNERNAME FROM ZWACHATSESSION ORDER BY Z_PK")}
        texts = dict(connection.execute("SELECT Z_PK, ZTEXT FROM ZWAMESSAGE WHERE ZTEXT IS NOT NULL ORDER BY Z_PK").fetchall())
    return ChatFacts([(pk, session, bool(me), _apple_ns(date), sender, to, kind) for pk, session, me, date, sender, to, kind in rows],
                     sessions, texts)


def _call_facts(copy: Path) -> CallFacts:
    with _immutable(copy) as connection:
        calls = connection.execute("SELECT Z_PK, ZDATE, ZGROUPCALLCREATORUSERJIDSTRING FROM ZWACDCALLEVENT ORDER BY Z_PK").fetchall()
        participants = [jid for (jid,) in connection.execute("SELECT ZJIDSTRING FROM ZWACDCALLEVENTPARTICIPANT ORDER BY Z_PK")]
    return CallFacts([(pk, _apple_ns(date), creator) for pk, date, creator in calls], participants)


def _tsv(name: str) -> dict[str, dict[str, str]]:
    with open(require_corpus() / name, newline="", encoding="utf-8") as handle:
        return {row["local_path"]: row for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)}


def _require_tool(name: str, package: str) -> str:
    """The oracle's program; skip without it, but fail under CI=true (scripts/setup.sh installs it), as require_corpus does."""
    found = shutil.which(name)
    if found is None:
        reason = f"{name} (Debian {package}) is not installed"
        if os.environ.get("CI", "").strip().lower() == "true":
            pytest.fail(f"{reason}; CI=true requires the oracles", pytrace=False)
        pytest.skip(reason)
    return found


def _exiftool(path: Path, *tags: str) -> dict[str, str]:
    exiftool = _require_tool("exiftool", "libimage-exiftool-perl")
    out = subprocess.run([exiftool, "-j", "-n", *[f"-{tag}" for tag in tags], str(path)], capture_output=True, check=True).stdout
    return {key: str(value) for key, value in json.loads(out)[0].items() if key != "SourceFile"}


@dataclass(frozen=True)
class TskEntry:
    path: str
    inode: int
    mode: str
    times: dict[str, int]  # accessed / modified / changed / created -> Unix seconds, only those set


_FLS_BODY = re.compile(r"^0\|(?P<name>.*)\|(?P<inode>\d+)\|(?P<mode>[^|]*)\|\d+\|\d+\|\d+\|(?P<a>\d+)\|(?P<m>\d+)\|(?P<c>\d+)\|(?P<cr>\d+)$")
_ISTAT_TIME = re.compile(r"^(?P<what>Accessed|File Modified|Inode Modified|Created|Deleted):\t(?P<when>[0-9-]+ [0-9:]+) \(UTC\)$")


def _tsk(image: Path) -> list[TskEntry]:
    """Every entry of the image as fls's body output lists it, and the root directory from istat."""
    env = {**os.environ, "TZ": "UTC", "LC_ALL": "C"}
    for tool in ("fls", "istat", "icat"):
        _require_tool(tool, "sleuthkit")
    body = subprocess.run(["fls", "-r", "-p", "-m", "/", str(image)], capture_output=True, check=True, env=env).stdout.decode()
    entries = []
    for line in body.splitlines():
        match = _FLS_BODY.match(line)
        assert match, line
        name = match["name"].split(" -> ")[0]
        times = {what: int(match[key]) for what, key in (("accessed", "a"), ("modified", "m"), ("changed", "c"), ("created", "cr"))
                 if int(match[key])}
        entries.append(TskEntry(name, int(match["inode"]), match["mode"], times))
    istat = subprocess.run(["istat", str(image), "2"], capture_output=True, check=True, env=env).stdout.decode()
    names = {"Accessed": "accessed", "File Modified": "modified", "Inode Modified": "changed", "Created": "created",
             "Deleted": "deleted"}
    root_times = {}
    for line in istat.splitlines():
        match = _ISTAT_TIME.match(line)
        if match:
            when = datetime.strptime(match["when"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=timezone.utc)
            root_times[names[match["what"]]] = int(when.timestamp())
    return [TskEntry("/", 2, "d/d", root_times), *entries]


@dataclass(frozen=True)
class Built:
    case: Path
    sources: dict[str, Path]  # folder exhibits' roots
    chat: ChatFacts
    calls: CallFacts
    tsk: list[TskEntry]
    shas: dict[str, str]  # corpus local path (or PASSWORDS_COPY) -> SHA-256 of the copy


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    corpus = require_corpus()
    root = tmp_path_factory.mktemp("corpus_case")
    image = corpus / EXT2_E01
    tsk = _tsk(image)
    passwords = next(entry for entry in tsk if entry.path == "/passwords.txt")
    sources: dict[str, Path] = {}
    shas: dict[str, str] = {}
    for exhibit, files in LAYOUT.items():
        source = root / exhibit.replace("/", "_")
        for relative, local in files.items():
            target = source / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(corpus / local, target)
            shas[local] = _sha256(target)
        sources[exhibit] = source
    copy = sources[A] / PASSWORDS_COPY
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_bytes(subprocess.run(["icat", str(image), str(passwords.inode)], capture_output=True, check=True).stdout)
    shas[PASSWORDS_COPY] = _sha256(copy)
    for exhibit, source in sources.items():
        for path in [source, *source.rglob("*")]:
            os.utime(path, ns=(MTIMES[exhibit], MTIMES[exhibit]), follow_symlinks=False)
    oracle = root / "oracle"
    oracle.mkdir()
    for local in (CHAT_STORAGE, CALL_HISTORY):  # the oracle reads its own copies, never the sources'
        for suffix in SIDECARS:
            shutil.copyfile(corpus / (local + suffix), oracle / (Path(local).name + suffix))
    out = root / "cases"
    for exhibit, source in [*sources.items(), (C, image)]:
        result = CliRunner().invoke(main, ["ingest", str(source), "--case", CASE, "--exhibit", exhibit, "--out", str(out),
                                           "--workers", "1", "--description", f"corpus exhibit {exhibit}"], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    return Built(out / CASE, sources, _chat_facts(oracle / "ChatStorage.sqlite"), _call_facts(oracle / "CallHistory.sqlite"), tsk, shas)


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout_bytes.decode("utf-8"), result.stderr


def _query(built: Built, sql: str) -> list[dict]:
    code, out, err = _run("query", "--format", "json", "--", str(built.case), sql)
    assert code == 0, err
    assert err.splitlines()[0] == "read 3 exhibit(s): A/1, B/2, C/3"
    return [json.loads(line) for line in out.splitlines()]


def _people(built: Built) -> tuple[str, str]:
    """(owner JID, contact JID) from the databases: the contact of the one two-party chat of A/1, whom B/2's calls
    all include; the owner, the other creator of B/2's calls, is the recipient of every incoming message on A/1 that names one."""
    contact = next(jid for jid, _ in built.chat.sessions.values() if jid.endswith("@s.whatsapp.net"))
    assert set(built.calls.participants) == {contact}
    (owner,) = {creator for _, _, creator in built.calls.calls} - {contact}
    assert {to for _, _, me, _, _, to, _ in built.chat.messages if not me and to} == {owner}
    return owner, contact


def _e164(jid: str) -> str:
    return phonenumbers.format_number(phonenumbers.parse("+" + jid.split("@")[0]), phonenumbers.PhoneNumberFormat.E164)


# --- query ---------------------------------------------------------------------------------------


def test_query_counts_per_exhibit_and_table(built: Built) -> None:
    chats = _tsv("CHATS.tsv")
    entries = {exhibit: 1 + sum(1 for _ in source.rglob("*")) for exhibit, source in built.sources.items()}
    entries[C] = len(built.tsk)  # fls's entries ($OrphanFiles included) and the root
    files = {exhibit: sum(1 for p in source.rglob("*") if p.is_file()) for exhibit, source in built.sources.items()}
    files[C] = sum(1 for entry in built.tsk if entry.mode.startswith("r/"))
    rows = _query(built, "SELECT exhibit_id, count(*) AS n, count(sha256) AS hashed FROM artefacts GROUP BY ALL ORDER BY 1")
    assert rows == [{"exhibit_id": x, "n": entries[x], "hashed": files[x]} for x in (A, B, C)]
    # messages: CHATS.tsv's count, which sqlite3 gives again on the oracle's copies
    assert int(chats[CHAT_STORAGE]["message_count"]) == len(built.chat.messages) == 32
    assert int(chats[CALL_HISTORY]["message_count"]) == len(built.calls.calls) == 4
    rows = _query(built, "SELECT exhibit_id, app, count(*) AS n, count(DISTINCT conversation_id) AS conversations FROM messages "
                         "GROUP BY ALL ORDER BY 1")
    assert rows == [{"exhibit_id": A, "app": "WhatsApp", "n": 32, "conversations": len(built.chat.sessions)},
                    {"exhibit_id": B, "app": "WhatsApp", "n": 4, "conversations": len(set(built.calls.participants))}]
    jpegs = {x: sum(1 for name in LAYOUT[x] if name.lower().endswith((".jpg", ".jpeg"))) for x in (A, B)}
    assert _query(built, "SELECT exhibit_id, count(*) AS n FROM media GROUP BY ALL ORDER BY 1") == [
        {"exhibit_id": x, "n": jpegs[x]} for x in (A, B)]
    assert _query(built, "SELECT exhibit_id, count(*) AS n FROM sources GROUP BY ALL ORDER BY 1") == [
        {"exhibit_id": x, "n": 1} for x in (A, B, C)]
    assert _query(built, "SELECT count(*) AS n FROM errors") == [{"n": 0}]
    assert _query(built, "SELECT exhibit_id, is_verified, outcome FROM exhibits ORDER BY 1") == [
        {"exhibit_id": x, "is_verified": True, "outcome": "completed"} for x in (A, B, C)]


def test_query_media_agree_with_media_tsv_and_exiftool(built: Built) -> None:
    media = _tsv("MEDIA.tsv")
    rows = _query(built, "SELECT exhibit_id, path, make, model, body_serial, latitude, longitude, sha256 FROM media "
                         "WHERE sha256 = '" + built.shas[GOPRO] + "' ORDER BY 1")
    fact = media[GOPRO]
    serial = _exiftool(require_corpus() / GOPRO, "SerialNumber")["SerialNumber"]
    assert [(r["exhibit_id"], r["path"], r["make"], r["model"], r["body_serial"]) for r in rows] == [
        (A, "/private/var/mobile/Media/DCIM/100APPLE/IMG_0001.JPG", fact["make"], fact["model"], serial),
        (B, "/Download/gopro.jpg", fact["make"], fact["model"], serial)]
    for row in rows:
        assert row["latitude"] == pytest.approx(float(fact["gps_lat_decimal"]), abs=1e-9)
        assert row["longitude"] == pytest.approx(float(fact["gps_lon_decimal"]), abs=1e-9)
    # camera serials become identifiers: the GoPro's on both, the drone's on B/2 only; the iPhone sample has none
    serials = {local: _exiftool(require_corpus() / local, "SerialNumber").get("SerialNumber") for local in (GOPRO, IPHONE, DJI)}
    assert serials[IPHONE] is None
    assert _query(built, "SELECT exhibit_id, identifier FROM identifiers WHERE identifier_kind = 'camera_serial' ORDER BY ALL") == sorted(
        [{"exhibit_id": A, "identifier": serials[GOPRO]}, {"exhibit_id": B, "identifier": serials[GOPRO]},
         {"exhibit_id": B, "identifier": serials[DJI]}], key=lambda r: (r["exhibit_id"], r["identifier"]))


def test_query_finds_the_shared_files_on_exactly_their_exhibits(built: Built) -> None:
    photo = _query(built, f"SELECT exhibit_id, path, size FROM artefacts WHERE sha256 = '{built.shas[GOPRO]}' ORDER BY 1")
    size = (require_corpus() / GOPRO).stat().st_size
    assert photo == [{"exhibit_id": A, "path": "/private/var/mobile/Media/DCIM/100APPLE/IMG_0001.JPG", "size": size},
                     {"exhibit_id": B, "path": "/Download/gopro.jpg", "size": size}]
    passwords = next(entry for entry in built.tsk if entry.path == "/passwords.txt")
    rows = _query(built, f"SELECT exhibit_id, path, modified_time FROM artefacts WHERE sha256 = '{built.shas[PASSWORDS_COPY]}' ORDER BY 1")
    assert rows == [{"exhibit_id": A, "path": "/" + PASSWORDS_COPY, "modified_time": _ns_text(MTIMES[A])},
                    {"exhibit_id": C, "path": "/passwords.txt", "modified_time": _ns_text(passwords.times["modified"] * 10**9)}]


# The first text of the two-party chat, every column, checked by hand against the copy of ChatStorage.sqlite:
# ZWAMESSAGE Z_PK 12 (the 12th row in Z_PK order, so message_index 11): ZISFROMME 1, ZMESSAGEDATE 704735807.2214981
# (+ 978307200 s: 2023-05-02T15:56:47.2214981Z), ZSENTDATE 704735807.2873411, ZMESSAGESTATUS 8, ZMESSAGETYPE 0 (text),
# ZSTANZAID 3AD2D4F6C4FC636222C7, ZTOJID 19198887386@s.whatsapp.net, ZTEXT "I’m here!"; its ZWACHATSESSION 5
# ("This Is DFIR Two"); the owner is the recipient of every incoming row; entry 11 is the database in A/1's walk
# (the twelfth entry: the root, Documents, private, Documents/passwords.txt, then private/var ... AppGroup/<group>).
GOLDEN_PATH = f"/{APP_GROUP}/ChatStorage.sqlite"
GOLDEN_MESSAGE = {
    "case_id": CASE, "exhibit_id": A, "message_index": 11, "app": "WhatsApp", "platform": "iOS", "app_version": None,
    "account_id": "19195794674@s.whatsapp.net", "conversation_id": "19198887386@s.whatsapp.net",
    "conversation_title": "This Is DFIR Two", "sender_id": "19195794674@s.whatsapp.net", "sender_name": None,
    "recipients": [{"id": "19198887386@s.whatsapp.net", "name": "This Is DFIR Two"}], "direction": "outgoing",
    "sent_time": "2023-05-02T15:56:47.221498100Z", "sent_time_raw": "704735807.2214981", "received_time": None,
    "read_time": None, "edited_time": None, "deleted_time": None, "body": "I\u2019m here!", "body_bytes": None,
    "message_kind": "text", "attachments": None, "latitude": None, "longitude": None, "location_name": None,
    "is_deleted": None, "is_edited": None, "is_forwarded": None, "is_view_once": None, "record_state": "live",
    "details": {"ZMESSAGESTATUS": "8", "ZMESSAGETYPE": "0", "ZSENTDATE": "704735807.2873411", "ZSTANZAID": "3AD2D4F6C4FC636222C7"},
    "path": GOLDEN_PATH, "path_bytes": GOLDEN_PATH.encode().hex(), "entry_index": 11,
    "sha256": "72509784f953d7396313962784d097e22b64b2ad32d70290a501fb87708a3b38", "store_table": "ZWAMESSAGE",
    "store_row_id": 12, "parser": "whatsapp_ios", "parser_version": "2",
}


def test_query_golden_message(built: Built) -> None:
    assert _query(built, "SELECT * FROM messages WHERE store_row_id = 12 AND exhibit_id = 'A/1'") == [GOLDEN_MESSAGE]
    assert GOLDEN_MESSAGE["sha256"] == built.shas[CHAT_STORAGE]
    assert _query(built, "SELECT path FROM artefacts WHERE exhibit_id = 'A/1' AND entry_index = 11") == [{"path": GOLDEN_PATH}]


# --- correlate -----------------------------------------------------------------------------------


def _expected_links(built: Built) -> list[dict]:
    """Every value on two exhibits, from the oracles, ranked as the README says."""
    owner, contact = _people(built)
    messages, calls = built.chat.messages, built.calls.calls
    session = next(pk for pk, (jid, _) in built.chat.sessions.items() if jid == contact)
    in_chat = [m for m in messages if m[1] == session]
    tsk_passwords = next(entry for entry in built.tsk if entry.path == "/passwords.txt")

    def first(rows: list, when: int = 3) -> int:
        return rows[0][when]

    # identifiers: an id is listed once per store and field, at the first message (stored order) carrying it
    contact_fields = {A: [first(in_chat),  # conversation_id
                          first([m for m in in_chat if not m[2] and m[6] != WHATSAPP_SYSTEM]),  # sender_id of an incoming message
                          first([m for m in in_chat if m[2]])],  # recipients[0].id of an outgoing one
                      B: [calls[0][1], first([c for c in calls if c[2] == contact], 1), first([c for c in calls if c[2] == owner], 1)]}
    owner_fields = {A: [messages[0][3], first([m for m in messages if m[2]])],  # account_id; sender_id of an outgoing message
                    B: [calls[0][1], first([c for c in calls if c[2] == owner], 1)]}
    every = [m[3] for m in messages] + [c[1] for c in calls]
    conversation = [m[3] for m in in_chat] + [c[1] for c in calls]
    links = [
        ("account:WhatsApp", owner, [A, B], len(messages) + len(calls), min(every), max(every)),
        ("conversation:WhatsApp", contact, [A, B], len(in_chat) + len(calls), min(conversation), max(conversation)),
    ]
    for kind, value in (("identifier:account_id", contact), ("identifier:phone", _e164(contact))):
        times = contact_fields[A] + contact_fields[B]
        links.append((kind, value, [A, B], len(times), min(times), max(times)))
    for kind, value in (("identifier:account_id", owner), ("identifier:phone", _e164(owner))):
        times = owner_fields[A] + owner_fields[B]
        links.append((kind, value, [A, B], len(times), min(times), max(times)))
    c_time = tsk_passwords.times["modified"] * 10**9
    links.append(("file_sha256", built.shas[PASSWORDS_COPY], [A, C], 2, min(c_time, MTIMES[A]), max(c_time, MTIMES[A])))
    links.append(("file_sha256", built.shas[GOPRO], [A, B], 2, MTIMES[A], MTIMES[B]))
    serial = _exiftool(require_corpus() / GOPRO, "SerialNumber", "OffsetTimeOriginal")
    assert "OffsetTimeOriginal" not in serial  # no UTC offset, so no capture time: the link has no times
    links.append(("identifier:camera_serial", serial["SerialNumber"], [A, B], 2, None, None))
    links.sort(key=lambda link: (-len(link[2]), -link[3], link[0], link[1]))
    return [{"link_kind": kind, "value": value, "exhibit_count": len(exhibits), "exhibits": exhibits, "occurrences": occurrences,
             "first_seen_time": _ns_text(first_seen), "last_seen_time": _ns_text(last_seen)}
            for kind, value, exhibits, occurrences, first_seen, last_seen in links]


def test_correlate_links_exactly(built: Built) -> None:
    code, out, err = _run("correlate", str(built.case), "--format", "json")
    assert code == 0, err
    assert [json.loads(line) for line in out.splitlines()] == _expected_links(built)
    assert err.splitlines()[-1] == "9 shared value(s)"


def test_correlate_the_phone_shared_by_the_chat_and_the_calls(built: Built) -> None:
    _, contact = _people(built)
    phone = _e164(contact)
    assert phone == "+19198887386"  # the JID's digits are a valid NANP number written with its country code
    code, out, _ = _run("correlate", str(built.case), "--format", "json", "--exhibit", A, "--exhibit", B)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert [(r["exhibits"], r["occurrences"]) for r in rows if (r["link_kind"], r["value"]) == ("identifier:phone", phone)] == [([A, B], 6)]
    rows = _query(built, f"SELECT exhibit_id, origin_field FROM identifiers WHERE identifier = '{phone}' ORDER BY ALL")
    fields = ["conversation_id", "recipients[0].id", "sender_id"]
    assert rows == [{"exhibit_id": x, "origin_field": f} for x in (A, B) for f in fields]


def test_correlate_graphml_nodes_and_edges(built: Built, tmp_path: Path) -> None:
    target = tmp_path / "links.graphml"
    code, _, err = _run("correlate", str(built.case), "--graphml", str(target), "--format", "csv")
    assert code == 0, err
    ns = {"g": "http://graphml.graphdrawing.org/xmlns"}
    graph = ET.parse(target).getroot().find("g:graph", ns)
    assert graph is not None and graph.get("edgedefault") == "directed"

    def data(element: ET.Element) -> dict[str, str]:
        return {d.get("key", "")[len(element.tag.split("}")[1]) + 1:]: d.text or "" for d in element.findall("g:data", ns)}

    nodes = {node.get("id"): data(node) for node in graph.findall("g:node", ns)}
    links = _expected_links(built)
    exhibits = [A, B, C]
    expected_nodes = {f"x{i}": {"node_kind": "exhibit", "label": x} for i, x in enumerate(exhibits)}
    for rank, link in enumerate(links, start=1):
        expected_nodes[f"v{rank}"] = {"node_kind": "value", "label": link["value"], "link_kind": link["link_kind"],
                                      "exhibit_count": str(link["exhibit_count"]), "occurrences": str(link["occurrences"])}
        for key in ("first_seen_time", "last_seen_time"):
            if link[key] is not None:
                expected_nodes[f"v{rank}"][key] = _graph_time(link[key])
    assert nodes == expected_nodes
    edges = [(edge.get("id"), edge.get("source"), edge.get("target"), data(edge)["role"]) for edge in graph.findall("g:edge", ns)]
    role = {"account": "account", "conversation": "conversation", "identifier": "identifier", "file_sha256": "file"}
    expected_edges = [(f"x{exhibits.index(x)}", f"v{rank}", role[link["link_kind"].split(":")[0]])
                      for rank, link in enumerate(links, start=1) for x in link["exhibits"]]
    assert [edge[1:] for edge in edges] == expected_edges
    assert [edge[0] for edge in edges] == [f"e{i}" for i in range(len(expected_edges))] and len(edges) == 18
    # each exhibit's file edge counts its one copy
    file_edges = [data(edge)["occurrences"] for edge in graph.findall("g:edge", ns)
                  if nodes[edge.get("target")]["link_kind"] == "file_sha256"]
    assert file_edges == ["1"] * 4


def _graph_time(text: str) -> str:
    """GraphML times: ISO 8601 with +00:00 and the fraction in groups of three digits, as many as it needs (0, 3, 6 or 9)."""
    whole, fraction = text[:-1].split(".")
    fraction = fraction.rstrip("0")
    fraction = fraction.ljust(-(-len(fraction) // 3) * 3, "0")
    return whole + (f".{fraction}" if fraction else "") + "+00:00"


# --- timeline ------------------------------------------------------------------------------------


def _timeline(built: Built, *args: str) -> list[dict[str, str]]:
    code, out, err = _run("timeline", str(built.case), *args)
    assert code == 0, err
    return list(csv.DictReader(io.StringIO(out)))


def test_timeline_of_the_disk_image_equals_the_sleuth_kit(built: Built) -> None:
    rows = _timeline(built, "--exhibit", C, "--kind", "artefacts")
    events = [(entry, what, when) for entry in built.tsk for what, when in entry.times.items()]
    assert len(rows) == len(events) == 21
    descs = {"created": "File created", "modified": "File modified", "accessed": "File accessed", "changed": "File metadata changed"}
    assert Counter((r["path"], r["timestamp_desc"], int(r["timestamp"]) // 10**6) for r in rows) == Counter(
        (entry.path, descs[what], when) for entry, what, when in events)
    earliest = min(when for _, _, when in events)
    # at the earliest second the root comes first (entry 0), with its first event of that second
    root = built.tsk[0]
    root_first = next(what for what in descs if root.times.get(what) == earliest)
    assert {k: rows[0][k] for k in ("message", "datetime", "timestamp_desc", "exhibit_id", "table", "path", "entry_index")} == {
        "message": "/", "datetime": datetime.fromtimestamp(earliest, timezone.utc).isoformat(), "timestamp_desc": descs[root_first],
        "exhibit_id": C, "table": "artefacts", "path": "/", "entry_index": "0"}
    latest = max(when for _, _, when in events)
    last_index = max(int(r["entry_index"]) for r in rows if int(r["timestamp"]) == latest * 10**6)
    last_path = next(r["path"] for r in rows if int(r["entry_index"]) == last_index)
    last_entry = next(entry for entry in built.tsk if entry.path == last_path)
    last_what = [what for what in descs if last_entry.times.get(what) == latest][-1]
    assert (rows[-1]["datetime"], rows[-1]["path"], rows[-1]["timestamp_desc"]) == (
        datetime.fromtimestamp(latest, timezone.utc).isoformat(), last_path, descs[last_what])
    assert [int(r["timestamp"]) for r in rows] == sorted(int(r["timestamp"]) for r in rows)


def test_timeline_of_the_calls_equals_sqlite(built: Built) -> None:
    rows = _timeline(built, "--exhibit", B, "--kind", "messages")
    calls = built.calls.calls
    assert len(rows) == len(calls) == int(_tsv("CHATS.tsv")[CALL_HISTORY]["message_count"])
    owner, contact = _people(built)
    for row, (pk, when, creator) in ((rows[0], calls[0]), (rows[-1], calls[-1])):
        direction = "outgoing" if creator == owner else "incoming"
        seconds, fraction = divmod(when, 10**9)
        assert row == {
            "message": f"WhatsApp call {direction} from {creator} in {contact}", "timestamp": str(when // 1000),
            "datetime": datetime.fromtimestamp(seconds, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{fraction:09d}+00:00",
            "timestamp_desc": "Message sent", "exhibit_id": B, "table": "messages", "path": f"/{APP_GROUP}/CallHistory.sqlite",
            "entry_index": row["entry_index"], "store_table": "ZWACDCALLEVENT", "store_row_id": str(pk),
            "row_index": str(calls.index((pk, when, creator)))}
    assert {r["entry_index"] for r in rows} == {str(_query(built, f"SELECT entry_index FROM artefacts WHERE exhibit_id = 'B/2' "
                                                                  f"AND sha256 = '{built.shas[CALL_HISTORY]}'")[0]["entry_index"])}
    # the CHATS.tsv range, to the second
    chats = _tsv("CHATS.tsv")[CALL_HISTORY]
    assert (rows[0]["datetime"][:19] + "Z", rows[-1]["datetime"][:19] + "Z") == (chats["earliest_utc"], chats["latest_utc"])


# --- chats ---------------------------------------------------------------------------------------


def _chat_time(ns: int) -> str:
    return datetime.fromtimestamp(ns // 10**9, timezone.utc).strftime("%Y-%m-%d %H:%M:%SZ")


def test_chats_one_block_per_conversation(built: Built) -> None:
    code, out, err = _run("chats", str(built.case), "--exhibit", A)
    assert code == 0, err
    messages = built.chat.messages
    # blocks in the order each conversation's first message is stored (Z_PK), one per ZWACHATSESSION with messages
    order = list(dict.fromkeys(m[1] for m in messages))
    assert len(order) == len(built.chat.sessions) == 5
    database = f"/{APP_GROUP}/ChatStorage.sqlite"
    blocks = [block.strip("\n").splitlines() for block in out.split("\n\n") if block.strip()]
    expected = []
    for session in order:
        jid, name = built.chat.sessions[session]
        rows = [m for m in messages if m[1] == session]
        times = [m[3] for m in rows]
        count = f"{len(rows)} message{'' if len(rows) == 1 else 's'}"
        header = (f"== {A} | WhatsApp | conversation {jid} \"{name}\" | {count}, {_chat_time(min(times))} to "
                  f"{_chat_time(max(times))} | {database}")
        # inside a block, time order (ZMESSAGEDATE), Z_PK breaking ties
        expected.append((header, [f"(ZWAMESSAGE#{m[0]})" for m in sorted(rows, key=lambda m: (m[3], m[0]))]))
    assert [(block[0], [re.search(r"\(ZWAMESSAGE#\d+\)$", line)[0] for line in block[1:]]) for block in blocks] == expected
    assert err.strip().splitlines()[-1] == f"{len(messages)} messages"
    # the calls: one conversation, the contact all of them include
    code, out, _ = _run("chats", str(built.case), "--exhibit", B)
    assert code == 0
    calls = built.calls.calls
    (contact,) = set(built.calls.participants)
    assert [line for line in out.splitlines() if line.startswith("== ")] == [
        f"== {B} | WhatsApp | conversation {contact} | {len(calls)} messages, {_chat_time(min(c[1] for c in calls))} to "
        f"{_chat_time(max(c[1] for c in calls))} | /{APP_GROUP}/CallHistory.sqlite"]


# EXIF date tag, its offset tag, its sub-second tag -> the timeline's description
PHOTO_TIMES = (("DateTimeOriginal", "OffsetTimeOriginal", "SubSecTimeOriginal", "Media captured"),
               ("CreateDate", "OffsetTimeDigitized", "SubSecTimeDigitized", "Media digitized"),
               ("ModifyDate", "OffsetTime", "SubSecTime", "Media metadata modified"))


def _photo_events(local: str) -> list[tuple[int, str]]:
    """(ns, description) of every time exiftool shows with its UTC offset, and the GPS time (UTC by definition)."""
    tags = _exiftool(require_corpus() / local, *[t for group in PHOTO_TIMES for t in group[:3]], "GPSDateStamp", "GPSTimeStamp")
    events = []
    for date, offset, subsec, desc in PHOTO_TIMES:
        if date in tags and offset in tags:
            local_time = datetime.strptime(tags[date] + tags[offset], "%Y:%m:%d %H:%M:%S%z")
            fraction = int(tags.get(subsec, "0").ljust(9, "0")[:9])
            events.append((int(local_time.timestamp()) * 10**9 + fraction, desc))
    if "GPSDateStamp" in tags and "GPSTimeStamp" in tags:
        gps = datetime.strptime(f"{tags['GPSDateStamp']} {tags['GPSTimeStamp']}", "%Y:%m:%d %H:%M:%S").replace(tzinfo=timezone.utc)
        events.append((int(gps.timestamp()) * 10**9, "Media GPS time"))
    return events


def test_timeline_of_the_photos_equals_exiftool(built: Built) -> None:
    rows = _timeline(built, "--kind", "media")
    media = _tsv("MEDIA.tsv")
    expected = []
    for exhibit in (A, B):
        for relative, local in LAYOUT[exhibit].items():
            if local in media:
                expected += [(when, exhibit, "/" + relative, desc) for when, desc in _photo_events(local)]
    # the iPhone sample's three times (with offsets and sub-seconds) and the GoPro's GPS time on A/1 and B/2;
    # neither the GoPro nor the drone records an offset, so they have no capture time
    assert len(expected) == 5
    assert [(int(r["timestamp"]) * 1000, r["exhibit_id"], r["path"], r["timestamp_desc"]) for r in rows] == sorted(
        expected, key=lambda e: (e[0], e[1]))
    for row in rows:
        fact = media[LAYOUT[row["exhibit_id"]][row["path"][1:]]]
        prefix, _, position = row["message"].rpartition(" at ")
        assert prefix == f"{row['path']} ({fact['make']} {fact['model']})"
        latitude, longitude = (float(part) for part in position.split(", "))
        assert (latitude, longitude) == (pytest.approx(float(fact["gps_lat_decimal"]), abs=1e-9),
                                         pytest.approx(float(fact["gps_lon_decimal"]), abs=1e-9))
    captured = next(r for r in rows if r["timestamp_desc"] == "Media captured")
    assert captured["datetime"] == "2021-12-19T17:04:36.912+00:00"  # 12:04:36.912 at -05:00, by hand


# --- hash sets -----------------------------------------------------------------------------------


def _file_hashes(built: Built) -> dict[tuple[str, str], dict[str, str]]:
    """(exhibit, path) -> md5 and sha256 of every file, by hashlib: over the folder copies, and over icat's bytes for C/3."""
    found = {}
    for exhibit, source in built.sources.items():
        for path in sorted(p for p in source.rglob("*") if p.is_file()):
            data = path.read_bytes()
            found[(exhibit, "/" + str(path.relative_to(source)))] = {"md5": hashlib.md5(data).hexdigest(),
                                                                      "sha256": hashlib.sha256(data).hexdigest()}
    image = require_corpus() / EXT2_E01
    for entry in built.tsk:
        if entry.mode.startswith("r/"):
            data = subprocess.run(["icat", str(image), str(entry.inode)], capture_output=True, check=True).stdout
            found[(C, entry.path)] = {"md5": hashlib.md5(data).hexdigest(), "sha256": hashlib.sha256(data).hexdigest()}
    return found


def test_hashset_import_and_match(built: Built, tmp_path: Path) -> None:
    case = tmp_path / CASE
    shutil.copytree(built.case, case, symlinks=True)  # the module's case stays as the other tests read it
    hashes = _file_hashes(built)
    # a notable list in sha256sum's format: the shared photo, the shared passwords.txt and a hash no exhibit holds;
    # a known list in md5sum's format: the image's a_directory/a_file
    notable = [(built.shas[GOPRO], "IMG_0001.JPG"), (built.shas[PASSWORDS_COPY], "passwords.txt"), ("0" * 64, "absent.bin")]
    known = [(hashes[(C, "/a_directory/a_file")]["md5"], "a_file")]
    sets = {"notable-1": ("notable", "case notes", "sha256", notable), "known-1": ("known", None, "md5", known)}
    for name, (kind, category, _, entries) in sets.items():
        listing = tmp_path / f"{name}.txt"
        listing.write_text("".join(f"{value}  {file}\n" for value, file in entries), encoding="utf-8")
        extra = ["--category", category] if category else []
        code, out, err = _run("hashset", "import", str(case), name, str(listing), "--kind", kind, *extra)
        assert code == 0, err
        facts = json.loads((case / "hashsets" / name / "hashset.json").read_text(encoding="utf-8"))
        assert (facts["rows"], facts["kind"], facts["file_sha256"], facts["skipped_total"]) == (
            len(entries), kind, _sha256(listing), 0)
    code, out, err = _run("hashset", "match", str(case))
    assert code == 0, err
    expected = sorted(
        (name, kind, category, str(line), exhibit, path, algorithm, value)
        for name, (kind, category, algorithm, entries) in sets.items()
        for line, (value, _) in enumerate(entries, start=1)
        for (exhibit, path), file_hashes in hashes.items() if file_hashes[algorithm] == value)
    assert len(expected) == 5  # the photo on A/1 and B/2, passwords.txt on A/1 and C/3, a_file on C/3
    code, rows_out, err = _run("query", "--format", "json", "--", str(case),
                               "SELECT h.set_name, h.set_kind, h.category, h.set_entry_id, h.exhibit_id, a.path, h.algorithm, "
                               "h.hash, h.path = a.path AS same_path FROM hash_hits h JOIN artefacts a USING (exhibit_id, entry_index)")
    assert code == 0, err
    rows = [json.loads(line) for line in rows_out.splitlines()]
    assert all(row.pop("same_path") for row in rows)
    assert sorted(tuple(row.values()) for row in rows) == expected
    # match's summary: one line per set and exhibit (artefacts hit, hit rows), then the total
    per = Counter((name, exhibit) for name, _, _, _, exhibit, _, _, _ in expected)
    lines = [line.split() for line in out.splitlines()[1:-1]]
    assert lines == [[name, sets[name][0], exhibit, str(per[(name, exhibit)]), str(per[(name, exhibit)])]
                     for name in sorted(sets) for exhibit in (A, B, C)]
    assert out.splitlines()[-1].startswith(f"{len(expected)} hit rows in 3 exhibits")
    # a new exhibit is matched at ingest: D/4 holds one more copy of passwords.txt, sealed with its count
    source = tmp_path / "D_4"
    (source / "notes").mkdir(parents=True)
    shutil.copyfile(built.sources[A] / PASSWORDS_COPY, source / "notes" / "pw.txt")
    result = CliRunner().invoke(main, ["ingest", str(source), "--case", CASE, "--exhibit", "D/4", "--out", str(tmp_path),
                                       "--workers", "1"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    manifest = json.loads((case / "D%2F4" / "manifest.json").read_text(encoding="utf-8"))
    assert [(h["set"], h["artefacts"]) for h in manifest["hash_set_hits"]] == [("known-1", 0), ("notable-1", 1)]
    code, rows_out, _ = _run("query", "--format", "json", "--", str(case),
                             "SELECT set_name, path, hash FROM hash_hits WHERE exhibit_id = 'D/4'")
    assert code == 0
    assert [json.loads(line) for line in rows_out.splitlines()] == [
        {"set_name": "notable-1", "path": "/notes/pw.txt", "hash": built.shas[PASSWORDS_COPY]}]


# --- search --------------------------------------------------------------------------------------


def _search_time(ns: int) -> str:
    """search's times: ISO 8601 UTC, the nine fraction digits of a stored ns time, none for a whole second."""
    text = _ns_text(ns)
    return text[:-11] + "Z" if ns % 10**9 == 0 else text


def _search(built: Built, *args: str) -> tuple[list[dict], list[str]]:
    code, out, err = _run("search", str(built.case), *args, "--format", "json")
    assert code == 0, err
    answer = json.loads(out)
    assert answer["complete"] is True
    return answer["hits"], answer["notes"]


def _paths(built: Built) -> dict[str, list[str]]:
    """Every artefact path of each exhibit, from os.walk's view of the copies and from fls."""
    paths = {x: ["/"] + ["/" + str(p.relative_to(source)) for p in source.rglob("*")] for x, source in built.sources.items()}
    paths[C] = [entry.path for entry in built.tsk]
    return paths


def test_search_terms_against_the_databases_and_the_file_names(built: Built) -> None:
    texts = built.chat.texts
    times = {m[0]: m[3] for m in built.chat.messages}
    paths = _paths(built)
    media = _tsv("MEDIA.tsv")
    makes = [media[local][key] for files in LAYOUT.values() for local in files.values() if local in media for key in ("make", "model")]
    passwords = next(entry for entry in built.tsk if entry.path == "/passwords.txt")
    for term in ("qnap", "password"):
        hits, notes = _search(built, term)
        expected = [(A, "messages", "body", text.casefold().find(term), pk) for pk, text in texts.items() if term in text.casefold()]
        expected += [(x, "artefacts", "path", path.casefold().find(term), None) for x in (A, B, C) for path in paths[x]
                     if term in path.casefold()]
        assert not [value for value in makes if term in value.casefold()]
        assert [(h["exhibit_id"], h["table"], h["field"], h["start"], h["store_row_id"]) for h in hits] == expected
        assert all(h["end"] - h["start"] == len(term) and h["match"].casefold() == term for h in hits)
        assert len(notes) == 1  # every table searched, no budget reached
        assert notes[0].startswith(f"{len(expected)} hit{'s' if len(expected) != 1 else ''} in messages, artefacts, media, identifiers (")
    # the one message about QNAP, every field of its hit
    (hit,) = _search(built, "qnap")[0]
    (pk,) = [pk for pk, text in texts.items() if "qnap" in text.casefold()]
    assert hit == {"exhibit_id": A, "table": "messages", "field": "body", "time": _search_time(times[pk]), "term": "qnap",
                   "start": 0, "end": 4, "match": texts[pk][:4], "context": texts[pk], "path": f"/{APP_GROUP}/ChatStorage.sqlite",
                   "entry_index": GOLDEN_MESSAGE["entry_index"], "store_table": "ZWAMESSAGE", "store_row_id": pk,
                   "message_index": [m[0] for m in built.chat.messages].index(pk), "media_index": None}
    # passwords.txt: the copy on A/1 at the time set on it, the original on C/3 at fls's modification time
    hits, _ = _search(built, "password")
    assert [(h["exhibit_id"], h["path"], h["time"]) for h in hits] == [
        (A, "/" + PASSWORDS_COPY, _search_time(MTIMES[A])), (C, "/passwords.txt", _search_time(passwords.times["modified"] * 10**9))]


def test_search_the_contacts_number_written_another_way(built: Built) -> None:
    owner, contact = _people(built)
    digits = contact.split("@")[0]
    number = phonenumbers.parse("+" + digits)
    written = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)  # +1 919-888-7386
    assert written != _e164(contact)
    hits, _ = _search(built, "--identifier", written)
    assert {h["match"] for h in hits} <= {digits, _e164(contact)}
    session = next(pk for pk, (jid, _) in built.chat.sessions.items() if jid == contact)
    chat = [m for m in built.chat.messages if m[1] == session]
    expected = Counter({
        # the chat: the contact receives the owner's messages and sends the others (a system notice has no sender)
        (A, "messages", "recipients[0].id"): sum(1 for m in chat if m[2] and m[5] == contact),
        (A, "messages", "sender_id"): sum(1 for m in chat if not m[2] and m[4] == contact and m[6] != WHATSAPP_SYSTEM),
        # the calls: the owner's calls go to the contact, the contact's come from them
        (B, "messages", "recipients[0].id"): sum(1 for c in built.calls.calls if c[2] == owner),
        (B, "messages", "sender_id"): sum(1 for c in built.calls.calls if c[2] == contact),
    })
    # identifiers (their rows are checked against the databases by the correlate tests): the JID (account_id) and the
    # phone it gives, each found by its value, and by its raw text where that differs (the phone's raw text is the JID's digits)
    rows = _query(built, f"SELECT exhibit_id, identifier, identifier_raw FROM identifiers WHERE identifier IN ('{contact}', '{_e164(contact)}')")
    assert Counter(r["exhibit_id"] for r in rows) == {A: 6, B: 6}
    for row in rows:
        expected[(row["exhibit_id"], "identifiers", "identifier")] += 1
        if row["identifier_raw"] != row["identifier"]:
            assert row["identifier_raw"] == digits
            expected[(row["exhibit_id"], "identifiers", "identifier_raw")] += 1
    assert Counter((h["exhibit_id"], h["table"], h["field"]) for h in hits) == expected
    assert sum(expected.values()) == len(hits)


def test_the_corpus_files_are_untouched(built: Built) -> None:
    """Every corpus file the case was built from still has the SHA-256 that SOURCES.tsv records."""
    used = sorted({local for files in LAYOUT.values() for local in files.values()} | {EXT2_E01})
    assert len(used) == 10
    assert [local for local in used if not check_untouched(local)] == []
