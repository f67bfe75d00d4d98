"""A lab's own parser or reader, installed beside Exhibit, is found through its entry point, and a
broken one costs the artefact it met, never the run.

The test writes a plug-in module and the `.dist-info` folder that declares its entry points (what
`pip install` of a lab's package leaves behind), puts both on the ingest's PYTHONPATH and runs a real
`exhibit ingest` in a subprocess, with the watched worker pool (workers=2) and in one process
(workers=1). Each broken plug-in raises something no parser anticipates (KeyError, ZeroDivisionError,
RecursionError, a LookupError while recognising) on one of two artefacts it takes or on every one,
or yields something that is not a Message.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from PIL import Image

REPO = Path(__file__).resolve().parent.parent

PLUGIN = '''
from manifests.records import MediaRecord, Message
from parsers.chat.base import FileChatParser
from parsers.media.base import MediaReader


class Broken(FileChatParser):
    """Takes every *.brk file: one message from good.brk, a KeyError on bad.brk."""

    name = "lab_broken"
    version = "0.3"
    app = "Lab notes"
    platform = "test"
    paths = ("*.brk",)

    def recognises(self, path, head):
        return self.path_matches(path)

    def parse(self, artefact, context):
        if artefact.path.endswith("bad.brk"):
            raise KeyError("sender")
        yield Message(source_table="notes", source_row_id=1, body="kept")


class Dividing(FileChatParser):
    """Fails on every file it takes, before its first message."""

    name = "lab_dividing"
    version = "1.0"
    app = "Lab division"
    platform = "test"
    paths = ("*.div",)

    def recognises(self, path, head):
        return self.path_matches(path)

    def parse(self, artefact, context):
        yield Message(source_table="t", source_row_id=len(artefact.path) // 0)


class Recursing(FileChatParser):
    """Recurses without end on the file it takes."""

    name = "lab_recursing"
    version = "1.0"
    app = "Lab recursion"
    platform = "test"
    paths = ("*.rec",)

    def recognises(self, path, head):
        return self.path_matches(path)

    def parse(self, artefact, context):
        def down(n):
            return down(n + 1)
        yield Message(source_table="t", source_row_id=down(0))


class Peeking(FileChatParser):
    """Raises while looking at the head of the file it would take."""

    name = "lab_peeking"
    version = "1.1"
    app = "Lab peeking"
    platform = "test"
    paths = ("*.peek",)

    def recognises(self, path, head):
        if self.path_matches(path):
            raise LookupError(f"no header in {len(head)} bytes")
        return False


class Confused(FileChatParser):
    """Yields a dict where a Message belongs: type confusion in a parser."""

    name = "lab_confused"
    version = "2"
    app = "Lab confusion"
    platform = "test"
    paths = ("*.tc",)

    def recognises(self, path, head):
        return self.path_matches(path)

    def parse(self, artefact, context):
        yield {"source_table": "t", "body": "not a Message"}


class JpegReader(MediaReader):
    """Takes every JPEG (its name sorts before still_images): a record for a.jpg, an AttributeError on
    b.jpg, a dict where a MediaRecord belongs for c.jpg."""

    name = "a_lab_jpeg"
    version = "0.9"
    formats = ("JPEG",)

    def recognise(self, head):
        return "JPEG" if head.startswith(b"\\xff\\xd8") else None

    def read(self, source, container, context):
        if source.name == "b.jpg":
            raise AttributeError("'NoneType' object has no attribute 'tags'")
        if source.name == "c.jpg":
            return {"container_format": "JPEG", "width": 7}
        return MediaRecord(container_format="JPEG", width=7, height=3)


BROKEN, DIVIDING, RECURSING, CONFUSED, PEEKING = Broken(), Dividing(), Recursing(), Confused(), Peeking()
READER = JpegReader()
'''

ENTRY_POINTS = '''[exhibit.chat_parsers]
lab_broken = labplugin:BROKEN
lab_dividing = labplugin:DIVIDING
lab_recursing = labplugin:RECURSING
lab_confused = labplugin:CONFUSED
lab_peeking = labplugin:PEEKING

[exhibit.media_readers]
a_lab_jpeg = labplugin
'''


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 8), (255, 0, 0)).save(out, "JPEG")
    return out.getvalue()


def _install(folder: Path) -> None:
    """What installing a lab's package leaves on sys.path: the module and its dist-info with entry points."""
    folder.mkdir()
    (folder / "labplugin.py").write_text(PLUGIN)
    info = folder / "labplugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: labplugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(ENTRY_POINTS)


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> dict[int, tuple[subprocess.CompletedProcess, Path]]:
    """One device folder, ingested with the plug-ins installed, by 2 watched workers and by 1."""
    root = tmp_path_factory.mktemp("plugins")
    _install(root / "site")
    device = root / "device"
    device.mkdir()
    for name in ("good.brk", "bad.brk", "x.div", "deep.rec", "odd.tc", "y.peek"):
        (device / name).write_bytes(b"notes " + name.encode())
    for name in ("a.jpg", "b.jpg", "c.jpg"):
        (device / name).write_bytes(_jpeg())
    env = {**os.environ, "PYTHONPATH": f"{root / 'site'}{os.pathsep}{REPO}"}
    runs = {}
    for workers in (2, 1):
        out = root / f"out{workers}"
        done = subprocess.run([sys.executable, "-m", "ingest", "ingest", str(device), "--case", "C", "--exhibit", "E", "--out", str(out),
                               "--workers", str(workers)], capture_output=True, text=True, env=env, timeout=300)
        runs[workers] = (done, out / "C" / "E")
    return runs


def _path_spec(exhibit: Path, path: str) -> str:
    rows = pq.read_table(exhibit / "artefacts.parquet", columns=["path", "path_spec"]).to_pylist()
    return next(r["path_spec"] for r in rows if r["path"] == path)


@pytest.mark.parametrize("workers", [2, 1])
def test_broken_plugins_cost_their_artefacts_and_the_run_completes_with_errors(ingested: dict, workers: int) -> None:
    done, exhibit = ingested[workers]
    assert done.returncode == 1, done.stderr  # completed with errors
    assert "completed with 7 errors: 10 entries, 9 files hashed" in done.stdout, done.stdout
    errors = [(e["stage"], e["error_kind"], e["severity"], e["path"], e["path_spec"], e["parser"], e["message"])
              for e in pq.read_table(exhibit / "errors.parquet").to_pylist() if e["error_kind"] == "parser_failed"]
    spec = {p: _path_spec(exhibit, p) for p in ("/bad.brk", "/x.div", "/deep.rec", "/odd.tc", "/y.peek", "/b.jpg", "/c.jpg")}
    assert errors == [
        ("media", "parser_failed", "error", "/b.jpg", spec["/b.jpg"], "a_lab_jpeg",
         "/b.jpg: reader a_lab_jpeg (version 0.9) failed on this JPEG: AttributeError: 'NoneType' object has no attribute 'tags'"),
        ("media", "parser_failed", "error", "/c.jpg", spec["/c.jpg"], "a_lab_jpeg",
         "/c.jpg: reader a_lab_jpeg (version 0.9) gave a record that does not fit media.parquet: TypeError: asdict() should be called on dataclass instances"),
        ("parse", "parser_failed", "error", "/bad.brk", spec["/bad.brk"], "lab_broken",
         "/bad.brk: parser lab_broken (version 0.3) failed after 0 messages: KeyError: 'sender'"),
        ("parse", "parser_failed", "error", "/deep.rec", spec["/deep.rec"], "lab_recursing",
         "/deep.rec: parser lab_recursing (version 1.0) failed after 0 messages: RecursionError: maximum recursion depth exceeded"),
        ("parse", "parser_failed", "error", "/odd.tc", spec["/odd.tc"], "lab_confused",
         "/odd.tc: parser lab_confused (version 2) failed after 0 messages: TypeError: gave a dict where a Message belongs"),
        ("parse", "parser_failed", "error", "/x.div", spec["/x.div"], "lab_dividing",
         "/x.div: parser lab_dividing (version 1.0) failed after 0 messages: ZeroDivisionError: integer division or modulo by zero"),
        ("parse", "parser_failed", "error", "/y.peek", spec["/y.peek"], "lab_peeking",
         "/y.peek: parser lab_peeking (version 1.1) failed after 0 messages: LookupError: no header in 12 bytes"),
    ]
    messages = [(m["path"], m["parser"], m["parser_version"], m["store_table"], m["store_row_id"], m["body"])
                for m in pq.read_table(exhibit / "messages.parquet").to_pylist()]
    assert messages == [("/good.brk", "lab_broken", "0.3", "notes", 1, "kept")]
    media = {m["path"]: (m["container_format"], m["width"], m["height"], m["flags"])
             for m in pq.read_table(exhibit / "media.parquet").to_pylist()}
    assert media == {"/a.jpg": ("JPEG", 7, 3, None), "/b.jpg": ("JPEG", None, None, ["metadata_unreadable"]),
                     "/c.jpg": ("JPEG", None, None, ["metadata_unreadable"])}
    manifest = json.loads((exhibit / "manifest.json").read_text())
    assert (manifest["units_retried"], manifest["artefacts_given_up"]) == (0, 0)


@pytest.mark.parametrize(("entry_points", "message"), [
    ("[exhibit.chat_parsers]\nagain = parsers.chat.android_sms:PARSER\n", "parsers: two ChatParsers share a name: android_sms"),
    ("[exhibit.chat_parsers]\nmissing = lab_nowhere:PARSER\n",
     "parsers: entry point exhibit.chat_parsers:missing (lab_nowhere:PARSER) does not load: ModuleNotFoundError: No module named 'lab_nowhere'"),
    ("[exhibit.media_readers]\nwrong = parsers.chat.android_sms:PARSER\n",
     "parsers: entry point exhibit.media_readers:wrong (parsers.chat.android_sms:PARSER) is not a MediaReader"),
    ("[exhibit.media_readers]\nempty = json\n", "parsers: entry point exhibit.media_readers:empty (json) is not a MediaReader"),
])
def test_a_plugin_that_cannot_be_used_is_named_before_anything_is_opened(tmp_path: Path, entry_points: str, message: str) -> None:
    info = tmp_path / "site" / "clash-0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: clash\nVersion: 0\n")
    (info / "entry_points.txt").write_text(entry_points)
    device = tmp_path / "device"
    device.mkdir()
    (device / "a.txt").write_bytes(b"a")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path / 'site'}{os.pathsep}{REPO}"}
    done = subprocess.run([sys.executable, "-m", "ingest", "ingest", str(device), "--case", "C", "--exhibit", "E", "--out", str(tmp_path / "out"),
                           "--workers", "1"], capture_output=True, text=True, env=env, timeout=120)
    assert (done.returncode, done.stdout, done.stderr.strip().splitlines()) == (2, "", [f"Error: {message}"])
    assert not (tmp_path / "out").exists()
