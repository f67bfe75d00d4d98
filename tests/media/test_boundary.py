"""One bad photo costs that photo: a media reader that raises anything (not one of the damaged-file
errors it anticipates) gives a `parser_failed` row for that file, the file still has its media row,
and every other photo is read. Through a real `exhibit ingest` of a folder (one worker, in this
process, so that the reader patched here is the one that runs)."""

from __future__ import annotations

import dataclasses
import io
from pathlib import Path

import pytest
from PIL import Image

from parsers.media import still_images
from tests.conftest import run_ingest


def _jpeg(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 8), colour).save(out, "JPEG")
    return out.getvalue()


def test_a_reader_that_raises_is_one_error_row_and_every_photo_keeps_its_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "phone" / "DCIM"
    source.mkdir(parents=True)
    for name, colour in (("a.jpg", (255, 0, 0)), ("b.jpg", (0, 255, 0)), ("c.jpg", (0, 0, 255))):
        (source / name).write_bytes(_jpeg(colour))
    original = still_images.READER.read

    def confused(source, container, context):
        if source.name == "b.jpg":
            raise AttributeError("'str' object has no attribute 'get'")
        return original(source, container, context)

    monkeypatch.setattr(still_images.READER, "read", confused)
    ingested = run_ingest(tmp_path / "phone", tmp_path / "cases")
    assert ingested.exit_code == 1, ingested.output  # completed, with one error
    errors = [(e["stage"], e["error_kind"], e["severity"], e["path"], e["parser"], e["message"]) for e in ingested.errors() if e["stage"] == "media"]
    assert errors == [("media", "parser_failed", "error", "/DCIM/b.jpg", "still_images",
                       "/DCIM/b.jpg: reader still_images (version 1) failed on this JPEG: AttributeError: 'str' object has no attribute 'get'")]
    media = {row["path"]: row for row in ingested.table("media")}
    assert sorted(media) == ["/DCIM/a.jpg", "/DCIM/b.jpg", "/DCIM/c.jpg"]
    assert (media["/DCIM/b.jpg"]["container_format"], media["/DCIM/b.jpg"]["flags"], media["/DCIM/b.jpg"]["width"]) == ("JPEG", ["metadata_unreadable"], None)
    assert [(media[p]["width"], media[p]["height"], media[p]["flags"]) for p in ("/DCIM/a.jpg", "/DCIM/c.jpg")] == [(16, 8, None), (16, 8, None)]


@pytest.mark.parametrize("change, error", [
    ({"width": "16"}, "ArrowInvalid: Could not convert '16' with type str: tried to convert to int32"),
    ({"width": 2 ** 70}, "OverflowError: Python int too large to convert to C long"),
])
def test_a_record_that_does_not_fit_the_table_costs_only_its_metadata(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                                      change: dict, error: str) -> None:
    """A reader bug that returns a record of the wrong types is caught where the record becomes a row."""
    source = tmp_path / "phone" / "DCIM"
    source.mkdir(parents=True)
    for name, colour in (("a.jpg", (255, 0, 0)), ("b.jpg", (0, 255, 0))):
        (source / name).write_bytes(_jpeg(colour))
    original = still_images.READER.read

    def confused(source, container, context):
        record = original(source, container, context)
        return dataclasses.replace(record, **change) if source.name == "b.jpg" else record

    monkeypatch.setattr(still_images.READER, "read", confused)
    ingested = run_ingest(tmp_path / "phone", tmp_path / "cases")
    assert ingested.exit_code == 1, ingested.output
    errors = [(e["error_kind"], e["severity"], e["path"], e["parser"], e["message"]) for e in ingested.errors() if e["stage"] == "media"]
    assert errors == [("parser_failed", "error", "/DCIM/b.jpg", "still_images",
                       f"/DCIM/b.jpg: reader still_images (version 1) gave a record that does not fit media.parquet: {error}")]
    media = {row["path"]: (row["container_format"], row["width"], row["flags"]) for row in ingested.table("media")}
    assert media == {"/DCIM/a.jpg": ("JPEG", 16, None), "/DCIM/b.jpg": ("JPEG", None, ["metadata_unreadable"])}
