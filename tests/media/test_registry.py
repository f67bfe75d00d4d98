"""The media readers: each found, declared fully, tested and documented; no two claim the same file."""

from __future__ import annotations

from pathlib import Path

from parsers.media.driver import recognise
from parsers.media.registry import all_readers

ROOT = Path(__file__).resolve().parent.parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readers_are_declared_tested_and_documented() -> None:
    names = [reader.name for reader in all_readers()]
    assert names == ["camera_raw", "heif", "isobmff_video", "matroska", "riff_avi", "still_images"]
    for reader in all_readers():
        assert reader.version and reader.formats, reader.name
        assert f"`{reader.name}`" in README, f"{reader.name} is not in the README"
    tests = {p.stem for p in (ROOT / "tests" / "media").glob("test_*.py")}
    assert {"test_heif", "test_video", "test_still_images"} <= tests


def test_signatures_go_to_exactly_one_reader() -> None:
    heads = {
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00": "JPEG",
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR": "PNG",
        b"GIF89a\x01\x00\x01\x00": "GIF",
        b"RIFF\x00\x00\x00\x00WEBPVP8 ": "WebP",
        b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic": "HEIF",
        b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf": "AVIF",
        b"\x00\x00\x00\x18ftypcrx \x00\x00\x00\x01crx isom": "CR3",
        b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  ": "QuickTime",
        b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom": "MP4",
        b"\x00\x00\x00\x18ftyp3gp4\x00\x00\x02\x003gp4isom": "3GP",
        b"RIFF\x00\x00\x00\x00AVI LIST": "AVI",
        b"IIRO\x08\x00\x00\x00": "ORF",
        b"MMOR\x00\x00\x00\x08": "ORF",
        b"IIU\x00\x08\x00\x00\x00": "RW2",
        b"FUJIFILMCCD-RAW 0201": "RAF",
    }
    for head, container in heads.items():
        claims = [r.name for r in all_readers() if r.recognise(head + bytes(64)) is not None]
        assert len(claims) == 1, (container, claims)
        found = recognise(head + bytes(64))
        assert found is not None and found[1] == container, (container, found)
