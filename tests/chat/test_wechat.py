"""WeChat Android EnMicroMsg.db, from fixtures built here from the documented schema (no corpus sample).

Facts used (see parsers/chat/wechat.py): SQLCipher with page size 1024, kdf_iter 4000, no HMAC,
PBKDF2-HMAC-SHA1 (Forensic Focus 2014); key = first 7 hex of MD5(IMEI + uin); `message`
(`msgId`, `msgSvrId`, `type`, `status`, `isSend`, `createTime` ms, `talker`, `content`, `imgPath`),
`rcontact` (`username`, `alias`, `conRemark`, `nickname`), `userinfo` id 2 = own id (wechat-dump).
The encrypted fixture is written with the sqlcipher3 module using those settings spelled out.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from manifests.records import Message, Participant, UndecodedText
from tests.chat.helpers import assert_no_warnings, build_database, parse_files, sqlcipher_encrypt

LOGICAL = b"/data/data/com.tencent.mm/MicroMsg/0123456789abcdef0123456789abcdef/EnMicroMsg.db"
IMEI, UIN = "356938035643809", "-1234567890"
KEY = hashlib.md5((IMEI + UIN).encode()).hexdigest()[:7]

SCHEMA = """
CREATE TABLE message (msgId INTEGER PRIMARY KEY, msgSvrId INTEGER, type INT, status INT, isSend INT, createTime INTEGER,
  talker TEXT, content TEXT, imgPath TEXT);
CREATE TABLE rcontact (username TEXT PRIMARY KEY, alias TEXT, conRemark TEXT, nickname TEXT);
CREATE TABLE userinfo (id INTEGER PRIMARY KEY, type INT, value TEXT);
"""
ROWS = {
    "rcontact": [("wxid_owner", "owner01", "", "Me Myself"), ("wxid_bob", "bob_w", "Bob (work)", "Bobby"),
                 ("wxid_carol", "", "", "Carol"), ("12345678@chatroom", "", "", "Hiking group")],
    "userinfo": [(2, 3, "wxid_owner")],
    "message": [
        (1, 7001, 1, 3, 0, 1700000000123, "wxid_bob", "hello from bob", None),
        (2, 7002, 1, 2, 1, 1700000060000, "wxid_bob", "hi bob", None),
        (3, 7003, 3, 3, 0, 1700000120000, "wxid_bob", "<msg><img/></msg>", "THUMBNAIL_DIRPATH://th_abc"),
        (4, 7004, 1, 3, 0, 1700000180000, "12345678@chatroom", "wxid_carol:\ngroup hello", None),
        (5, 7005, 1, 2, 1, 1700000240000, "12345678@chatroom", "my group reply", None),
        (6, 7006, 10000, 4, 0, 1700000300000, "12345678@chatroom", "Carol joined the group chat", None),
    ],
}
GOLDEN = Message(
    source_table="message", source_row_id=1, conversation_id="wxid_bob", conversation_title="Bob (work)",
    sender=Participant("wxid_bob", "Bob (work)"), direction="incoming", sent=1700000000123 * 10**6, sent_raw="1700000000123",
    body="hello from bob", kind="text", details={"type": "1 (text)", "msgSvrId": "7001", "status": "3"},
)


def _plain(tmp_path: Path, rows: dict | None = None, name: str = "EnMicroMsg.db") -> Path:
    return build_database(tmp_path / name, SCHEMA, ROWS if rows is None else rows)


SETTINGS = ("PRAGMA cipher_page_size = 1024", "PRAGMA kdf_iter = 4000", "PRAGMA cipher_kdf_algorithm = PBKDF2_HMAC_SHA1",
            "PRAGMA cipher_use_hmac = OFF")


def _encrypt(plain: Path, target: Path) -> Path:
    """`plain` exported into a new SQLCipher file with the documented WeChat settings and KEY."""
    sqlcipher_encrypt(plain, target, (f"PRAGMA key = '{KEY}'", *SETTINGS))
    assert not target.read_bytes().startswith(b"SQLite format 3")
    return target


def _encrypted(tmp_path: Path) -> Path:
    return _encrypt(_plain(tmp_path, name="plain.db"), tmp_path / "EnMicroMsg.db")


def _check_all(parsed) -> None:
    assert_no_warnings(parsed)
    assert parsed.parser_names() == {"wechat"}
    assert len(parsed.messages) == 6
    assert parsed.messages[0] == GOLDEN
    sent, image, group_in, group_out, system = parsed.messages[1:]
    assert (sent.direction, sent.sender, sent.recipients) == ("outgoing", Participant("wxid_owner", "Me Myself"),
                                                              (Participant("wxid_bob", "Bob (work)"),))
    assert (image.kind, image.details["imgPath"], image.details["type"]) == ("media", "THUMBNAIL_DIRPATH://th_abc", "3 (image)")
    assert (group_in.sender, group_in.body, group_in.conversation_title) == (Participant("wxid_carol", "Carol"), "group hello",
                                                                             "Hiking group")
    assert (group_out.direction, group_out.recipients, group_out.body) == ("outgoing", (), "my group reply")
    assert (system.kind, system.sender, system.body) == ("system", None, "Carol joined the group chat")


def test_encrypted_with_key_golden_record(tmp_path: Path) -> None:
    db = _encrypted(tmp_path)
    parsed = parse_files(db, logical={db: LOGICAL}, keys={"wechat": KEY})
    _check_all(parsed)
    assert parsed.time_range() == ("2023-11-14T22:13:20Z", "2023-11-14T22:18:20Z")


def test_key_derived_from_imei_and_uin(tmp_path: Path) -> None:
    db = _encrypted(tmp_path)
    _check_all(parse_files(db, logical={db: LOGICAL}, keys={"wechat_imei": IMEI, "wechat_uin": UIN}))


def test_encrypted_without_key_is_one_warning(tmp_path: Path) -> None:
    db = _encrypted(tmp_path)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    assert [(w.kind, w.message) for w in parsed.warnings] == [
        ("encrypted_no_key", f"{LOGICAL.decode()}: encrypted WeChat store; supply --app-key wechat=KEY to read it")]


def test_wrong_key_is_an_error_that_never_shows_the_key(tmp_path: Path) -> None:
    db = _encrypted(tmp_path)
    wrong = "abcdef1" if KEY != "abcdef1" else "1234567"
    parsed = parse_files(db, logical={db: LOGICAL}, keys={"wechat": wrong})
    assert parsed.messages == []
    (warning,) = parsed.warnings
    assert (warning.kind, warning.severity) == ("encrypted_bad_key", "error")
    assert warning.message == (f"{LOGICAL.decode()}: the supplied WeChat key did not open the database with any known setting "
                               "(sqlcipher 1 compatibility, page 1024, kdf_iter 4000, no hmac): a wrong key, or a damaged or truncated file")
    assert wrong not in warning.message


def test_malformed_key_is_refused_before_any_sql(tmp_path: Path) -> None:
    db = _encrypted(tmp_path)
    parsed = parse_files(db, logical={db: LOGICAL}, keys={"wechat": "abc'; --"})
    assert parsed.messages == []
    assert [(w.kind, w.severity) for w in parsed.warnings] == [("bad_key", "error")]
    assert "abc'" not in parsed.warnings[0].message


def test_truncated_encrypted_store_with_key(tmp_path: Path) -> None:
    db = _encrypted(tmp_path)
    data = db.read_bytes()
    db.write_bytes(data[:1500])
    parsed = parse_files(db, logical={db: LOGICAL}, keys={"wechat": KEY})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["encrypted_bad_key"]


def test_corrupt_encrypted_pages_end_as_a_row(tmp_path: Path) -> None:
    db = _encrypted(tmp_path)
    data = bytearray(db.read_bytes())
    for offset in range(1024, len(data), 7):  # every page after the first, the schema page stays readable
        data[offset] ^= 0x5A
    db.write_bytes(bytes(data))
    parsed = parse_files(db, logical={db: LOGICAL}, keys={"wechat": KEY})
    assert parsed.messages == []
    assert [(w.kind, w.severity, w.message) for w in parsed.warnings] == [("parse_stopped", "error", f"{LOGICAL.decode()}: "
                                                                          "reading the decrypted copy stopped: database disk image is malformed")]


def test_decrypted_copy_is_read_by_schema(tmp_path: Path) -> None:
    db = _plain(tmp_path)
    _check_all(parse_files(db, logical={db: LOGICAL}))
    renamed = _plain(tmp_path, name="decrypted.sqlite")
    _check_all(parse_files(renamed))


def test_wrong_types_become_row_warnings(tmp_path: Path) -> None:
    rows = {**ROWS, "message": [
        (1, 7001, 1, 3, 0, "yesterday", "wxid_bob", "time is text", None),
        (2, None, "one", None, "yes", 1700000060000, 42, b"\xff\xfe", None),
        (3, 7003, 1, 3, 0, 99999999999999999, "wxid_bob", "year 5138", None),
    ]}
    db = _plain(tmp_path, rows)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert [(w.kind, w.row_id, w.field) for w in parsed.warnings] == [("bad_time", 1, "createTime"), ("bad_time", 3, "createTime")]
    first, second, third = parsed.messages
    assert (first.sent, first.sent_raw, first.body) == (None, "yesterday", "time is text")
    assert (second.direction, second.kind, second.conversation_id, second.details, second.body) == (
        "unknown", "unknown", "42", {"type": "one (unlisted)"}, UndecodedText.of(b"\xff\xfe"))
    assert second.body.raw == b"\xff\xfe"  # the exact bytes, kept
    assert (third.sent, third.sent_raw) == (None, "99999999999999999")


def test_missing_message_table_at_wechat_path(tmp_path: Path) -> None:
    db = build_database(tmp_path / "EnMicroMsg.db", "CREATE TABLE rcontact (username TEXT, nickname TEXT);")
    parsed = parse_files(db, logical={db: LOGICAL})
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["schema_unrecognised"]
    assert "expected by wechat" in parsed.warnings[0].message


def test_truncated_plain_copy_is_unreadable(tmp_path: Path) -> None:
    rows = {**ROWS, "message": [(i, i, 1, 3, 0, 1700000000000 + i, "wxid_bob", "x" * 2000, None) for i in range(1, 100)]}
    db = _plain(tmp_path, rows, name="plain.db")
    db.write_bytes(db.read_bytes()[: db.stat().st_size // 2])
    parsed = parse_files(db)
    assert parsed.messages == []
    assert [w.kind for w in parsed.warnings] == ["database_unreadable"]


def test_decrypted_store_with_unknown_schema(tmp_path: Path) -> None:
    plain = build_database(tmp_path / "plain.db", "CREATE TABLE message_v2 (id INTEGER PRIMARY KEY, body TEXT);")
    target = _encrypt(plain, tmp_path / "EnMicroMsg.db")
    parsed = parse_files(target, logical={target: LOGICAL}, keys={"wechat": KEY})
    assert parsed.messages == []
    (warning,) = parsed.warnings
    assert warning.kind == "schema_unrecognised"
    assert warning.message.startswith(f"{LOGICAL.decode()}: decrypted, but no known WeChat schema variant matches (schema fingerprint ")
    assert warning.message.endswith("tables: message_v2)")


def test_ingest_reads_the_store_and_writes_no_key(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from ingest.cli import main
    from tests.conftest import Ingested

    tree = tmp_path / "tree"
    folder = tree / LOGICAL.decode().lstrip("/").rsplit("/", 1)[0]
    folder.mkdir(parents=True)
    _encrypted(tmp_path).rename(folder / "EnMicroMsg.db")
    out = tmp_path / "cases"
    result = CliRunner().invoke(main, ["ingest", str(tree), "--case", "OP-1", "--exhibit", "PHONE/2", "--out", str(out), "--workers", "1",
                                       "--app-key", f"wechat_imei={IMEI}", "--app-key", f"wechat_uin={UIN}"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    exhibit = Ingested(0, "", out / "OP-1" / "PHONE%2F2")
    messages = exhibit.table("messages")
    assert [(m["parser"], m["store_row_id"], m["body"]) for m in messages][:2] == [("wechat", 1, "hello from bob"), ("wechat", 2, "hi bob")]
    assert len(messages) == 6
    assert [e for e in exhibit.table("errors") if e["stage"] == "parse"] == []
    for path in (out / "OP-1" / "PHONE%2F2").rglob("*"):
        if path.is_file() and path.suffix != ".parquet":
            data = path.read_bytes()
            assert KEY.encode() not in data and IMEI.encode() not in data, path
    for name in ("messages", "errors", "artefacts", "sources"):
        text = repr(exhibit.table(name))
        assert KEY not in text and IMEI not in text, name


def test_minimum_columns_read_with_the_others_null(tmp_path: Path) -> None:
    db = build_database(tmp_path / "EnMicroMsg.db", "CREATE TABLE message (msgId INTEGER PRIMARY KEY, isSend INT, createTime INTEGER, "
                        "talker TEXT, content TEXT);", {"message": [(1, 0, 1600000000000, "wxid_bob", "older layout")]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert parsed.messages == [Message(
        source_table="message", source_row_id=1, conversation_id="wxid_bob", sender=Participant("wxid_bob"), direction="incoming",
        sent=1600000000000 * 10**6, sent_raw="1600000000000", body="older layout", kind="unknown")]


def test_a_hostile_copy_with_a_text_msg_id_keeps_its_messages(tmp_path: Path) -> None:
    # msgId is INTEGER PRIMARY KEY in the app; a rebuilt copy typed otherwise, and bodies that are numbers or blobs
    db = build_database(tmp_path / "EnMicroMsg.db", "CREATE TABLE message (msgId TEXT, isSend INT, createTime INTEGER, "
                        "talker TEXT, content BLOB);", {"message": [
                            ("m-1", 0, 1600000000000, "wxid_bob", 12.5), (7, 1, 1600000001000, "wxid_bob", b"\x01\x02"),
                            (b"\xff", 0, 1600000002000, "wxid_bob", 3)]})
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_no_warnings(parsed)
    assert [(m.source_row_id, m.details.get("msgId"), m.body) for m in parsed.messages] == [
        (None, "7", "\x01\x02"), (None, "m-1", "12.5"), (None, "\\xff", "3")]  # TEXT affinity stores 7 as "7"


def test_a_damaged_contact_table_costs_the_names_only(tmp_path: Path) -> None:
    from tests.chat.hostile import assert_side_table_stopped, rows_before_damage, wreck_last_page

    many = ROWS["rcontact"] + [(f"wxid_many{i:04d}", "", "", "x" * 300) for i in range(250)]
    # rcontact is filled last, so the file's last page is one of its leaves (with 200 rows it is a page of its key index)
    db = _plain(tmp_path, {"userinfo": ROWS["userinfo"], "message": ROWS["message"], "rcontact": many})
    wreck_last_page(db)
    assert rows_before_damage(db, "SELECT * FROM rcontact") < len(many)
    parsed = parse_files(db, logical={db: LOGICAL})
    assert_side_table_stopped(parsed, "rcontact", len(ROWS["message"]))
    assert parsed.messages[0] == GOLDEN  # names before the damaged page are kept
    assert parsed.messages[1].sender == Participant("wxid_owner", "Me Myself")
