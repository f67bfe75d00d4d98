"""End to end: phone images holding chat databases, ingested with `exhibit ingest`, give every message
in messages.parquet with its provenance, attachments tied to artefacts, WAL-only rows marked, and every
unreadable store as a row in errors.parquet."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import tarfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from ingest.cli import main
from tests.chat.helpers import build_database
from tests.chat.test_android_sms import SCHEMA
from tests.conftest import require_tool
from tests.images import make_ext4, sha256_file

TELEPHONY = "data/data/com.android.providers.telephony/databases"
PART_PATH = "/data/user_de/0/com.android.providers.telephony/app_parts/PART_1700000000_IMG_0001.jpg"
PICTURE = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00picture sent by MMS\xff\xd9"


def _android_tree(root: Path) -> None:
    """An Android userdata layout: mmssms.db whose WAL holds one message not yet checkpointed, the MMS
    picture it refers to, an unrelated SQLite database, and a zip named like a chat database."""
    databases = root / TELEPHONY
    databases.mkdir(parents=True)
    live = root.parent / "live"
    live.mkdir()
    db = build_database(live / "mmssms.db", SCHEMA, {
        "sms": [(1, 1, "+15550001", 1700000000000, 1699999999000, 1, 1, None, "first \u202eevil\u202c text", None)],
        "pdu": [(1, 1, 1700000100, 0, 2, 1, None, 128)],
        "part": [(1, 1, 0, "image/jpeg", "IMG_0001.jpg", None, None, PART_PATH, None)],
        "addr": [(1, 1, None, "+15550001", 151, 106)],
    }, journal_mode="wal")
    connection = sqlite3.connect(db)
    connection.execute("PRAGMA wal_autocheckpoint=0")
    connection.execute("INSERT INTO sms VALUES (2, 1, '+15550001', 1700000200000, 0, 0, 1, NULL, 'only in the WAL', NULL)")
    connection.commit()
    for suffix in ("", "-wal", "-shm"):
        shutil.copyfile(live / f"mmssms.db{suffix}", databases / f"mmssms.db{suffix}")
    connection.close()
    part = root / PART_PATH.lstrip("/")
    part.parent.mkdir(parents=True)
    part.write_bytes(PICTURE)
    other = root / "data/data/com.example.notes/databases"
    other.mkdir(parents=True)
    build_database(other / "notes.db", "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT);", {"notes": [(1, "not a chat")]})
    fake = root / "data/data/com.android.providers.telephony.backup/databases"
    fake.mkdir(parents=True)
    (fake / "mmssms.db").write_bytes(b"PK\x03\x04" + b"\x00" * 60)


def _ingest(source: Path, out: Path, *extra: str) -> tuple[int, str, Path]:
    result = CliRunner().invoke(main, ["ingest", str(source), "--case", "OP-1", "--exhibit", "PHONE/1", "--out", str(out), "--workers", "2", *extra],
                                catch_exceptions=False)
    return result.exit_code, result.output, out / "OP-1" / "PHONE%2F1"


@pytest.fixture(scope="module")
def android_ingest(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict]:
    require_tool("mkfs.ext4")
    folder = tmp_path_factory.mktemp("android")
    staging = folder / "tree"
    staging.mkdir()
    _android_tree(staging)
    image = make_ext4(staging, folder / "userdata.raw", "8M")
    before = sha256_file(image)
    code, output, exhibit = _ingest(image, folder / "cases")
    assert code == 0, output
    assert sha256_file(image) == before
    return image, exhibit, {"output": output}


def _rows(exhibit: Path, name: str) -> list[dict]:
    """Rows as dicts; timestamps as integer nanoseconds (Apple stores nanoseconds; datetime cannot hold them)."""
    from tests.conftest import Ingested

    return Ingested(0, "", exhibit).table(name)


def test_messages_with_provenance_wal_state_and_attachment(android_ingest: tuple[Path, Path, dict]) -> None:
    _image, exhibit, _ = android_ingest
    messages = _rows(exhibit, "messages")
    artefacts = {row["path"]: row for row in _rows(exhibit, "artefacts")}
    db = artefacts[f"/{TELEPHONY}/mmssms.db"]
    assert [(m["store_table"], m["store_row_id"], m["record_state"]) for m in messages] == [
        ("sms", 1, "live"), ("sms", 2, "wal_only"), ("pdu", 1, "live")]
    assert [m["message_index"] for m in messages] == [0, 1, 2]
    for message in messages:
        assert (message["path"], message["sha256"], message["entry_index"]) == (db["path"], db["sha256"], db["entry_index"])
        assert (message["case_id"], message["exhibit_id"], message["parser"], message["parser_version"]) == ("OP-1", "PHONE/1", "android_sms", "1")
    assert messages[0]["body"] == "first \u202eevil\u202c text"
    picture = artefacts[PART_PATH]
    assert messages[2]["attachments"] == [{"file_name": "IMG_0001.jpg", "mime_type": "image/jpeg", "size": None, "local_path": PART_PATH,
                                           "artefact_path": PART_PATH, "sha256": picture["sha256"]}]
    assert picture["sha256"] == hashlib.sha256(PICTURE).hexdigest()


def test_unreadable_store_is_an_error_row_and_unrelated_database_is_silent(android_ingest: tuple[Path, Path, dict]) -> None:
    _image, exhibit, _ = android_ingest
    parse_rows = [e for e in _rows(exhibit, "errors") if e["stage"] == "parse"]
    assert [(e["error_kind"], e["path"], e["parser"]) for e in parse_rows] == [
        ("not_sqlite", "/data/data/com.android.providers.telephony.backup/databases/mmssms.db", "android_sms")]


def test_chats_command_prints_escaped_conversation(android_ingest: tuple[Path, Path, dict]) -> None:
    _image, exhibit, _ = android_ingest
    result = CliRunner().invoke(main, ["chats", str(exhibit.parent), "--app", "sms"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.stdout.splitlines() if line] + result.stderr.splitlines()[-1:]
    assert result.stderr.splitlines()[0] == "read 1 exhibit(s): PHONE/1"
    assert lines[0] == (f"== PHONE/1 | Android SMS/MMS | conversation 1 | 3 messages, 2023-11-14 22:13:19Z to 2023-11-14 22:16:40Z"
                        f" | /{TELEPHONY}/mmssms.db")
    assert lines[1] == "2023-11-14 22:13:19Z <- +15550001: first \\u202eevil\\u202c text  (sms#1)"
    assert lines[2].startswith("2023-11-14 22:15:00Z -> me: [media] [file IMG_0001.jpg sha256 ")  # time order, not stored order
    assert lines[3] == "2023-11-14 22:16:40Z <- +15550001: only in the WAL [wal_only]  (sms#2)"
    assert lines[4] == "3 messages"
    grep = CliRunner().invoke(main, ["chats", str(exhibit.parent), "--grep", "WAL"])
    assert [line for line in grep.output.splitlines() if " <- " in line] == [lines[3]]
    terms = CliRunner().invoke(main, ["chats", str(exhibit.parent), "EVIL", "--since", "2023-11-14T22:13:19Z", "--until", "2023-11-14"])
    assert (terms.exit_code, [line for line in terms.stdout.splitlines() if line][1:] + terms.stderr.splitlines()[-1:]) == (0, [lines[1], "1 message"])
    none = CliRunner().invoke(main, ["chats", str(exhibit.parent), "--app", "whatsapp"])
    assert (none.exit_code, none.output.splitlines()[-1]) == (2, "Error: no such app: whatsapp (apps in this case: Android SMS/MMS)")


def test_chats_can_be_turned_off(tmp_path: Path) -> None:
    staging = tmp_path / "tree"
    staging.mkdir()
    _android_tree(staging)
    config = tmp_path / "no-chats.toml"
    config.write_text("[chats]\nenabled = false\n")
    code, output, exhibit = _ingest(staging, tmp_path / "cases", "--config", str(config))
    assert code == 0, output
    assert pq.read_table(exhibit / "messages.parquet").num_rows == 0


IOS_SMS = "amandawills__CS426-iphone-sms-forensics/sms.db"
IOS_WHATSAPP = ("abrignoni__iLEAPP/admin/test/cases/data/whatsApp/testdata.whatsApp.whatsAppMessages.josh_ios15_ffs.zip.extracted/"
                "filesystem2/mobile/Containers/Shared/AppGroup/694FBBC5-2E69-480A-A25B-FF8CC038BEF8/ChatStorage.sqlite")
IOS_WHATSAPP_CONTACTS = ("abrignoni__iLEAPP/admin/test/cases/data/whatsApp/testdata.whatsApp.whatsAppCallHistory.josh_ios15_ffs.zip.extracted/"
                         "filesystem2/mobile/Containers/Shared/AppGroup/694FBBC5-2E69-480A-A25B-FF8CC038BEF8/ContactsV2.sqlite")
ANDROID_WHATSAPP = "code-kuuhaku__lab-whatsapp/msgstore.db"
ANDROID_WHATSAPP_CONTACTS = "code-kuuhaku__lab-whatsapp/wa.db"
IOS_ATTACHMENT = "private/var/mobile/Library/SMS/Attachments/2d/13/D98C451D-FDE9-4BD9-8BB6-DC4BF0B84881/IMG_0067.jpg"


def _add(archive: tarfile.TarFile, source: Path, name: str) -> None:
    """Add a corpus file (and its -wal/-shm) under `name`; tarfile only reads the corpus."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = source.with_name(source.name + suffix)
        if path.exists():
            archive.add(path, arcname=name + suffix, recursive=False)


def test_ios_tar_extraction_with_messages_whatsapp_and_an_attachment(tmp_path: Path) -> None:
    from tests.chat.helpers import corpus_file

    sms = corpus_file(IOS_SMS)
    whatsapp = corpus_file(IOS_WHATSAPP)
    contacts = corpus_file(IOS_WHATSAPP_CONTACTS)
    group = "private/var/mobile/Containers/Shared/AppGroup/694FBBC5-2E69-480A-A25B-FF8CC038BEF8"
    picture = tmp_path / "IMG_0067.jpg"
    picture.write_bytes(b"\xff\xd8\xff\xe0 stand-in for the picture the message refers to \xff\xd9")
    archive_path = tmp_path / "iphone.tar"
    with tarfile.open(archive_path, "w", format=tarfile.PAX_FORMAT) as archive:
        _add(archive, sms, "private/var/mobile/Library/SMS/sms.db")
        _add(archive, whatsapp, f"{group}/ChatStorage.sqlite")
        _add(archive, contacts, f"{group}/ContactsV2.sqlite")
        archive.add(picture, arcname=IOS_ATTACHMENT)
    companions = (sms.with_name("sms.db-wal"), whatsapp.with_name("ChatStorage.sqlite-wal"))
    sources = {p: sha256_file(p) for p in (sms, whatsapp, contacts, *(c for c in companions if c.exists()))}
    code, output, exhibit = _ingest(archive_path, tmp_path / "cases")
    assert code == 0, output
    assert {p: sha256_file(p) for p in sources} == sources
    messages = _rows(exhibit, "messages")
    by_parser: dict[str, int] = {}
    for message in messages:
        by_parser[message["parser"]] = by_parser.get(message["parser"], 0) + 1
    assert by_parser == {"apple_messages": 105, "whatsapp_ios": 32}  # CHATS.tsv: message 105, ZWAMESSAGE 32
    # Walk order (a TAR is walked in member order), then each parser's own order.
    assert [m["path"] for m in messages] == ["/private/var/mobile/Library/SMS/sms.db"] * 105 + [f"/{group}/ChatStorage.sqlite"] * 32
    attached = [a for m in messages for a in (m["attachments"] or []) if a["local_path"] and a["local_path"].endswith("IMG_0067.jpg")]
    assert len(attached) == 1
    assert (attached[0]["artefact_path"], attached[0]["sha256"]) == (f"/{IOS_ATTACHMENT}", sha256_file(picture))
    assert [e for e in _rows(exhibit, "errors") if e["stage"] == "parse"] == []


def test_android_image_with_whatsapp_and_names_from_wa_db(tmp_path: Path) -> None:
    from tests.chat.helpers import corpus_file

    require_tool("mkfs.ext4")
    staging = tmp_path / "tree"
    databases = staging / "data/data/com.whatsapp/databases"
    databases.mkdir(parents=True)
    shutil.copyfile(corpus_file(ANDROID_WHATSAPP), databases / "msgstore.db")
    shutil.copyfile(corpus_file(ANDROID_WHATSAPP_CONTACTS), databases / "wa.db")
    fake = staging / "media/0/WhatsApp/Databases"
    fake.mkdir(parents=True)
    (fake / "msgstore.db").write_bytes(b"\x00\x01 encrypted backup, not SQLite")
    image = make_ext4(staging, tmp_path / "userdata.raw", "8M")
    code, output, exhibit = _ingest(image, tmp_path / "cases")
    assert code == 0, output
    messages = _rows(exhibit, "messages")
    assert len(messages) == 46  # CHATS.tsv: legacy messages table, 47 rows; row 1 the placeholder (an info row)
    assert {m["parser"] for m in messages} == {"whatsapp_android"}
    assert any(m["sender_name"] for m in messages), "names come from wa.db"
    parse_rows = [(e["error_kind"], e["severity"], e["path"], e["parser"], e["store_table"], e["store_row_id"])
                  for e in _rows(exhibit, "errors") if e["stage"] == "parse"]
    assert parse_rows == [
        ("placeholder_row", "info", "/data/data/com.whatsapp/databases/msgstore.db", "whatsapp_android", "messages", 1),
        ("not_sqlite", "warning", "/media/0/WhatsApp/Databases/msgstore.db", "whatsapp_android", None, None)]


def test_messages_are_the_same_whatever_the_worker_count(tmp_path: Path) -> None:
    staging = tmp_path / "tree"
    staging.mkdir()
    _android_tree(staging)
    databases = sorted((staging / TELEPHONY).iterdir())
    before = {p.name: sha256_file(p) for p in databases}
    assert sorted(before) == ["mmssms.db", "mmssms.db-shm", "mmssms.db-wal"]
    tables = []
    for workers in ("1", "2"):
        result = CliRunner().invoke(main, ["ingest", str(staging), "--case", "OP-1", "--exhibit", f"W{workers}", "--out", str(tmp_path / "cases"),
                                           "--workers", workers], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        rows = _rows(tmp_path / "cases" / "OP-1" / f"W{workers}", "messages")
        tables.append([{k: v for k, v in row.items() if k != "exhibit_id"} for row in rows])
    assert len(tables[0]) == 3
    assert tables[0] == tables[1]
    assert {p.name: sha256_file(p) for p in sorted((staging / TELEPHONY).iterdir())} == before  # the WAL was never checkpointed
