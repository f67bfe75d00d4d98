"""End to end: a folder holding an Android SMS database and a photo, ingested with a default region,
gives identifiers.parquet rows exactly, tied to their message and media rows, sealed like every part."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from PIL import Image

from ingest.cli import main
from parsers.identifiers import registry
from tests.chat.helpers import build_database
from tests.chat.test_android_sms import SCHEMA
from tests.conftest import Ingested

TELEPHONY = "data/data/com.android.providers.telephony/databases"
DB_PATH = f"/{TELEPHONY}/mmssms.db"
PHOTO_PATH = "/media/0/DCIM/Camera/IMG_0001.jpg"


def _photo() -> bytes:
    image = Image.new("RGB", (8, 8), "red")
    exif = image.getexif()
    exif[0x010F], exif[0x0110] = "Canon", "Canon EOS 80D"
    camera = exif.get_ifd(0x8769)
    camera[0xA431], camera[0xA435] = "123456789012", "0000c1234"  # BodySerialNumber, LensSerialNumber
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _tree(root: Path) -> None:
    databases = root / TELEPHONY
    databases.mkdir(parents=True)
    build_database(databases / "mmssms.db", SCHEMA, {"sms": [
        (1, 1, "+639171234567", 1700000000000, 0, 1, 1, None, "ipadala mo sa gcash 0917 123 4567 ha", None),
        (2, 1, "+639171234567", 1700000100000, 0, 1, 1, None, "send $500 to paypal.me/someone, MTCN: 1234567890", None),
        (3, 2, "09181234567", 1700000200000, 0, 1, 1, None, "meet 2023-10-15 at 10:30, PHP 15,000.00, order 1234567890", None),
    ]})
    photo = root / PHOTO_PATH.lstrip("/")
    photo.parent.mkdir(parents=True)
    photo.write_bytes(_photo())


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    folder = tmp_path_factory.mktemp("identifiers")
    _tree(folder / "evidence")
    return _ingest(folder, "--config", str(_ph_config(folder)))


def _ph_config(folder: Path) -> Path:
    config = folder / "ph.toml"
    config.write_text('[identifiers]\ndefault_regions = ["PH"]\n', encoding="utf-8")
    return config


def _ingest(folder: Path, *extra: str) -> Ingested:
    result = CliRunner().invoke(main, ["ingest", str(folder / "evidence"), "--case", "OP-9", "--exhibit", "PHONE/9", "--out",
                                       str(folder / "cases"), "--workers", "1", *extra], catch_exceptions=False)
    return Ingested(result.exit_code, result.output, folder / "cases" / "OP-9" / "PHONE%2F9")


def test_rows_exactly(ingested: Ingested) -> None:
    assert ingested.exit_code == 0, ingested.output
    assert ", 3 messages, 10 identifiers, 0 errors, 0 warnings, " in ingested.output
    rows = ingested.table("identifiers")
    artefacts = {row["path"]: row for row in ingested.artefacts()}
    db, photo = artefacts[DB_PATH], artefacts[PHOTO_PATH]
    assert [row["identifier_index"] for row in rows] == list(range(10))
    assert [(r["identifier_kind"], r["identifier"], r["identifier_raw"], r["service"], r["region"], r["origin_table"], r["origin_index"],
             r["origin_field"], r["origin_offset"], r["store_row_id"], r["extractor"]) for r in rows] == [
        ("mobile_wallet", "+639171234567", "0917 123 4567", "gcash", "PH", "messages", 0, "body", 20, 1, "payments"),
        ("phone", "+639171234567", "0917 123 4567", None, "PH", "messages", 0, "body", 20, 1, "phones"),
        ("phone", "+639171234567", "+639171234567", None, None, "messages", 0, "sender_id", 0, 1, "phones"),
        # message 1's sender is the same id in the same store: listed once, at message 0
        ("domain", "paypal.me", "paypal.me", None, None, "messages", 1, "body", 13, 2, "internet"),
        ("paypal", "paypal.me/someone", "paypal.me/someone", "paypal", None, "messages", 1, "body", 13, 2, "payments"),
        ("url", "paypal.me/someone", "paypal.me/someone", None, None, "messages", 1, "body", 13, 2, "internet"),
        ("mtcn", "1234567890", "1234567890", "western_union", None, "messages", 1, "body", 38, 2, "payments"),
        # message 2's body (a date, a time, a price, an unlabelled 10-digit order number) gives nothing
        ("phone", "+639181234567", "09181234567", None, "PH", "messages", 2, "sender_id", 0, 3, "phones"),
        ("camera_serial", "123456789012", "123456789012", None, None, "media", 0, "body_serial", 0, None, "devices"),
        ("lens_serial", "0000c1234", "0000c1234", None, None, "media", 0, "lens_serial", 0, None, "devices"),
    ]
    assert rows[0] == {
        "case_id": "OP-9", "exhibit_id": "PHONE/9", "identifier_index": 0, "identifier_kind": "mobile_wallet", "identifier": "+639171234567",
        "identifier_raw": "0917 123 4567", "service": "gcash", "region": "PH", "origin_table": "messages", "origin_index": 0,
        "origin_field": "body", "origin_offset": 20, "path": DB_PATH, "path_bytes": DB_PATH.encode(), "entry_index": db["entry_index"],
        "store_table": "sms", "store_row_id": 1, "extractor": "payments", "extractor_version": "1"}
    assert (rows[-1]["path"], rows[-1]["path_bytes"], rows[-1]["entry_index"], rows[-1]["store_table"]) == (
        PHOTO_PATH, PHOTO_PATH.encode(), photo["entry_index"], None)
    messages = ingested.table("messages")
    for row in rows[:8]:
        body_or_id = messages[row["origin_index"]]["body" if row["origin_field"] == "body" else "sender_id"]
        assert body_or_id[row["origin_offset"]:row["origin_offset"] + len(row["identifier_raw"])] == row["identifier_raw"]


def test_sealed_with_extractor_versions_and_config_digest(ingested: Ingested) -> None:
    manifest = json.loads((ingested.folder / "manifest.json").read_text(encoding="utf-8"))
    (part,) = [p for p in manifest["parts"] if p["name"] == "identifiers.parquet"]
    assert (part["rows"], part["schema"], part["schema_version"]) == (10, "identifiers", 1)
    metadata = pq.read_schema(ingested.folder / "identifiers.parquet").metadata
    assert {k: v for k, v in metadata.items() if k.startswith(b"exhibit.extractor.")} == {
        b"exhibit.extractor.accounts": b"1", b"exhibit.extractor.crypto": b"1", b"exhibit.extractor.devices": b"1",
        b"exhibit.extractor.internet": b"1", b"exhibit.extractor.payments": b"1", b"exhibit.extractor.phones": b"1"}
    assert metadata[b"exhibit.config_digest"] == pq.read_schema(ingested.folder / "messages.parquet").metadata[b"exhibit.config_digest"]
    result = CliRunner().invoke(main, ["verify", str(ingested.folder.parent)])  # unsigned, so not verified as a whole; the part checks
    assert f"OK   PHONE/9: part identifiers.parquet: {part['size']} bytes, 10 rows, sha256 {part['sha256']}" in result.output


def test_without_a_default_region_national_numbers_are_not_guessed(tmp_path: Path) -> None:
    _tree(tmp_path / "evidence")
    result = _ingest(tmp_path)
    assert result.exit_code == 0, result.output
    rows = result.table("identifiers")
    # the wallet number still counts (GCash is Philippine); the plain phone reading of it and the national sender do not
    assert [(r["identifier_kind"], r["identifier"], r["region"], r["origin_index"], r["origin_field"]) for r in rows] == [
        ("mobile_wallet", "+639171234567", "PH", 0, "body"), ("phone", "+639171234567", None, 0, "sender_id"),
        ("domain", "paypal.me", None, 1, "body"), ("paypal", "paypal.me/someone", None, 1, "body"), ("url", "paypal.me/someone", None, 1, "body"),
        ("mtcn", "1234567890", None, 1, "body"), ("camera_serial", "123456789012", None, 0, "body_serial"),
        ("lens_serial", "0000c1234", None, 0, "lens_serial")]


def test_budget_passed_is_a_warning_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(registry, "MAX_PER_FIELD", 2)
    monkeypatch.setattr(registry, "MAX_TEXT_CHARS", 40)
    _tree(tmp_path / "evidence")
    result = _ingest(tmp_path)
    assert result.exit_code == 0, result.output
    warnings = [(e["error_kind"], e["severity"], e["parser"], e["path"], e["message"]) for e in result.table("errors") if e["parser"] == "identifiers"]
    assert warnings == [
        ("identifier_text_truncated", "warning", "identifiers", DB_PATH,
         "messages row 1 body: only the first 40 of 48 characters were searched for identifiers"),
        ("identifier_limit", "warning", "identifiers", DB_PATH, "messages row 1 body: more than 2 identifiers in one field: the first 2 were kept"),
        ("identifier_text_truncated", "warning", "identifiers", DB_PATH,
         "messages row 2 body: only the first 40 of 57 characters were searched for identifiers")]
    rows = result.table("identifiers")
    assert [(r["identifier_kind"], r["origin_index"], r["origin_field"]) for r in rows if r["origin_table"] == "messages"] == [
        ("mobile_wallet", 0, "body"), ("phone", 0, "sender_id"), ("domain", 1, "body"), ("paypal", 1, "body")]
    # no default region: the national sender of message 2 is not guessed; the URL is the third hit of its field, the MTCN past the budget


def test_disabled_writes_an_empty_part(tmp_path: Path) -> None:
    _tree(tmp_path / "evidence")
    config = tmp_path / "off.toml"
    config.write_text("[identifiers]\nenabled = false\n", encoding="utf-8")
    result = _ingest(tmp_path, "--config", str(config))
    assert result.exit_code == 0, result.output
    assert result.table("identifiers") == []
    assert ", 3 messages, 0 identifiers, " in result.output


def test_unknown_region_is_a_usage_error(tmp_path: Path) -> None:
    _tree(tmp_path / "evidence")
    config = tmp_path / "bad.toml"
    config.write_text('[identifiers]\ndefault_regions = ["Philippines"]\n', encoding="utf-8")
    result = _ingest(tmp_path, "--config", str(config))
    assert result.exit_code == 2
    assert "default_regions: ['Philippines'] are not region codes" in result.output
    assert not (tmp_path / "cases").exists()


def test_default_regions_are_part_of_the_config_digest(tmp_path: Path) -> None:
    from ingest.config import load_config

    config = tmp_path / "ph.toml"
    config.write_text('[identifiers]\ndefault_regions = ["PH", "US"]\n', encoding="utf-8")
    plain, ph = load_config(), load_config(config)
    assert (plain.identifier_regions, ph.identifier_regions) == ((), ("PH", "US"))
    assert plain.digest() != ph.digest()
    config.write_text('[identifiers]\ndefault_regions = "PH"\n', encoding="utf-8")
    from ingest.config import ConfigError

    with pytest.raises(ConfigError, match="default_regions must be a list of region codes"):
        load_config(config)


def test_a_field_that_fails_is_an_error_row_and_the_run_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest import identifiers

    real = identifiers.extract

    def fails_on_mtcn(text: str, context):
        if "MTCN" in text:
            raise ValueError("a defect met on strange text")
        return real(text, context)

    monkeypatch.setattr(identifiers, "extract", fails_on_mtcn)
    _tree(tmp_path / "evidence")
    result = _ingest(tmp_path)
    assert result.exit_code == 1, result.output
    assert [(e["stage"], e["error_kind"], e["severity"], e["parser"], e["path"], e["store_table"], e["store_row_id"], e["message"])
            for e in result.table("errors")] == [("parse", "identifier_extraction_failed", "error", "identifiers", DB_PATH, "sms", 2,
                                                  "messages row 1 body: ValueError: a defect met on strange text")]
    assert [(r["identifier_kind"], r["origin_index"]) for r in result.table("identifiers") if r["origin_table"] == "messages"] == [
        ("mobile_wallet", 0), ("phone", 0)]


def test_repeated_ids_are_remembered_within_a_budget(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ingest import identifiers

    monkeypatch.setattr(identifiers, "MAX_SEEN", 1)  # the one sender is forgotten as soon as the next id is remembered
    _tree(tmp_path / "evidence")
    result = _ingest(tmp_path, "--config", str(_ph_config(tmp_path)))
    senders = [(r["origin_index"], r["identifier"]) for r in result.table("identifiers") if r["origin_field"] == "sender_id"]
    # message 0's conversation id pushed its sender out, so message 1 lists the same sender again (the default budget does not)
    assert senders == [(0, "+639171234567"), (1, "+639171234567"), (2, "+639181234567")]
