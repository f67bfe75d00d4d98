"""End to end: a phone image with photos and videos at phone paths yields one media.parquet row per
photo or video (chosen by content, not name), joined to the right artefacts row."""

from __future__ import annotations

import hashlib
import shutil

import pytest
from click.testing import CliRunner

from ingest.cli import main
from tests.conftest import Ingested, require_tool
from tests.corpus import require_corpus
from tests.images import make_ext4

PHOTO = "ianare__exif-samples/jpg/gps/DSCN0010.jpg"
HEIC = "photoprism__photoprism/internal/meta/testdata/iphone_7.heic"
VIDEO = "mindeng__nom-exif/testdata/meta.mov"

DAMAGED = "media/0/DCIM/Camera/IMG_0002_cut.heic"
LAYOUT = {
    "media/0/DCIM/Camera/DSCN0010.jpg": PHOTO,
    "media/0/DCIM/Camera/IMG_0001.heic": HEIC,
    "media/0/DCIM/Camera/VID_0001.mov": VIDEO,
    "media/0/WhatsApp/Media/WhatsApp Images/IMG-20240102-WA0001.jpg": PHOTO,
    "media/0/Download/holiday.dat": PHOTO,  # a photo under another name: found by its signature
}


@pytest.fixture(scope="module")
def ingested(tmp_path_factory: pytest.TempPathFactory) -> Ingested:
    require_tool("mkfs.ext4")
    corpus = require_corpus()
    folder = tmp_path_factory.mktemp("media")
    staging = folder / "tree"
    for target, source in LAYOUT.items():
        path = staging / target
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus / source, path)
    (staging / "media/0/DCIM/Camera/not_a_photo.jpg").write_bytes(b"just text pretending to be a photo\n")
    (staging / DAMAGED).write_bytes((corpus / HEIC).read_bytes()[:3000])  # cut inside its meta box
    image = make_ext4(staging, folder / "userdata.raw", "16M")
    result = CliRunner().invoke(main, ["ingest", str(image), "--case", "OP-2", "--exhibit", "PHONE/2", "--out", str(folder / "cases"),
                                       "--workers", "2"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return Ingested(result.exit_code, result.output, folder / "cases" / "OP-2" / "PHONE%2F2")


def test_one_row_per_photo_or_video_joined_to_its_artefact(ingested: Ingested) -> None:
    corpus = require_corpus()
    media = ingested.table("media")
    artefacts = {row["entry_index"]: row for row in ingested.artefacts()}
    assert sorted(row["path"] for row in media) == sorted(["/" + target for target in LAYOUT] + ["/" + DAMAGED])
    assert [row["media_index"] for row in media] == list(range(len(LAYOUT) + 1))
    for row in media:
        if row["path"] == "/" + DAMAGED:
            continue
        artefact = artefacts[row["entry_index"]]
        assert (artefact["path"], artefact["sha256"], artefact["path_spec"]) == (row["path"], row["sha256"], row["path_spec"])
        source = corpus / LAYOUT[row["path"].lstrip("/")]
        assert row["sha256"] == hashlib.sha256(source.read_bytes()).hexdigest()
    by_path = {row["path"]: row for row in media}
    assert "/media/0/DCIM/Camera/not_a_photo.jpg" not in by_path
    assert {row["container_format"] for row in media} == {"JPEG", "HEIF", "QuickTime"}


def test_photo_values_match_exiftool_facts(ingested: Ingested) -> None:
    """MEDIA.tsv (exiftool 12.57 -n): NIKON COOLPIX P6000, 43.4674483333333 11.8851266666639, 2008:10:22 16:28:39."""
    by_path = {row["path"]: row for row in ingested.table("media")}
    for path in ("/media/0/DCIM/Camera/DSCN0010.jpg", "/media/0/WhatsApp/Media/WhatsApp Images/IMG-20240102-WA0001.jpg",
                 "/media/0/Download/holiday.dat"):
        row = by_path[path]
        assert (row["make"], row["model"], row["capture_time_raw"]) == ("NIKON", "COOLPIX P6000", "2008:10:22 16:28:39")
        assert row["latitude"] == pytest.approx(43.4674483333333, abs=1e-6)
        assert row["longitude"] == pytest.approx(11.8851266666639, abs=1e-6)
        assert (row["gps_source"], row["reader"]) == ("exif", "still_images")
        assert row["capture_time"] is None  # no OffsetTimeOriginal: the zone is unknown


def test_damaged_file_is_a_row_and_a_warning_with_its_path(ingested: Ingested) -> None:
    (damaged,) = [row for row in ingested.table("media") if row["path"] == "/" + DAMAGED]
    assert (damaged["container_format"], damaged["flags"], damaged["reader"], damaged["make"]) == ("HEIF", ["metadata_unreadable"], "heif", None)
    problems = [(e["stage"], e["error_kind"], e["severity"], e["path"], e["parser"]) for e in ingested.errors() if e["stage"] == "media"]
    assert problems == [("media", "malformed_media", "warning", "/" + DAMAGED, "heif")]
    (problem,) = [e for e in ingested.errors() if e["stage"] == "media"]
    assert "meta' box is cut short: 2968 of 3242 bytes" in problem["message"]
