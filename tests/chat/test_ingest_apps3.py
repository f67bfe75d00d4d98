"""End to end: an Android extraction (a TAR) holding Google Chat, Messenger Lite and Facebook Lite
stores, ingested with `exhibit ingest`: every message in messages.parquet with its parser and
provenance, and every store that cannot be read (truncated, undocumented) as one errors row."""

from __future__ import annotations

import tarfile
from pathlib import Path

from click.testing import CliRunner

from ingest.cli import main
from tests.chat import test_google_chat as chat
from tests.chat import test_messenger_lite as lite
from tests.chat.helpers import build_database, truncate_to_half
from tests.conftest import Ingested

DYNAMITE = "data/data/com.google.android.apps.dynamite/databases/user_accounts/ann.owner@example.com/dynamite.db"
MLITE = "data/data/com.facebook.mlite/databases"
DAMAGED = "data/user/10/com.facebook.mlite/databases/core.db"
FBLITE = "data/data/com.facebook.lite/databases"


def _extraction(tmp_path: Path) -> Path:
    built = tmp_path / "built"
    for name in ("chat", "lite", "damaged", "fblite"):
        (built / name).mkdir(parents=True)
    dynamite = chat._fixture(built / "chat")
    core, cross = lite._fixture(built / "lite")
    damaged, _ = lite._fixture(built / "damaged", [(i, f"m{i}", "Ray R", lite.DM, 1600000000000 + i, "q" * 2000, 0, None, None, None,
                                                    None, None, None, None, None, lite.RAY) for i in range(1, 120)])
    truncate_to_half(damaged)
    store = build_database(built / "fblite" / "lite_store.db", "CREATE TABLE kv (k TEXT PRIMARY KEY, v BLOB);", {"kv": [("a", b"1")]})
    webview = build_database(built / "fblite" / "webview.db", "CREATE TABLE cookies (_id INTEGER PRIMARY KEY, name TEXT);")
    archive_path = tmp_path / "android.tar"
    with tarfile.open(archive_path, "w", format=tarfile.PAX_FORMAT) as archive:
        for source, name in ((dynamite, DYNAMITE), (core, f"{MLITE}/core.db"), (cross, f"{MLITE}/cross_account.db"), (damaged, DAMAGED),
                             (store, f"{FBLITE}/lite_store.db"), (webview, f"{FBLITE}/webview.db")):
            archive.add(source, arcname=name, recursive=False)
    return archive_path


def test_android_extraction_with_the_three_apps(tmp_path: Path) -> None:
    archive = _extraction(tmp_path)
    result = CliRunner().invoke(main, ["ingest", str(archive), "--case", "OP-3", "--exhibit", "PHONE/3", "--out", str(tmp_path / "cases"),
                                       "--workers", "2"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    exhibit = Ingested(0, "", tmp_path / "cases" / "OP-3" / "PHONE%2F3")
    messages = exhibit.table("messages")
    counts: dict[tuple[str, str], int] = {}
    for message in messages:
        key = (message["parser"], message["path"])
        counts[key] = counts.get(key, 0) + 1
    assert counts == {("google_chat", f"/{DYNAMITE}"): 5, ("messenger_lite", f"/{MLITE}/core.db"): 8}
    assert [(m["direction"], m["body"]) for m in messages if m["parser"] == "google_chat"] == [
        ("incoming", "are you alone?"), ("outgoing", "yes"), ("incoming", ""), ("outgoing", "seen it"), ("incoming", "join here")]
    problems = sorted((e["error_kind"], e["path"], e["parser"], e["severity"]) for e in exhibit.table("errors") if e["stage"] == "parse")
    assert problems == [("database_unreadable", f"/{DAMAGED}", None, "warning"),
                        ("schema_unrecognised", f"/{FBLITE}/lite_store.db", None, "warning")]
    messages_of = {e["error_kind"]: e["message"] for e in exhibit.table("errors") if e["stage"] == "parse"}
    assert "expected by messenger_lite" in messages_of["database_unreadable"]
    assert "path expected by facebook_lite" in messages_of["schema_unrecognised"] and "tables: kv" in messages_of["schema_unrecognised"]
