"""NTFS names with unpaired UTF-16 surrogates keep their exact code units (as WTF-8), not TSK's '^'.

The image is built here: mkntfs, files copied in by ntfscp under placeholder names, then each
placeholder's UTF-16LE code unit patched to a lone surrogate wherever the name is stored (the MFT
entry's $FILE_NAME and the directory's $I30 index entry; neither patch touches a sector's last
two bytes, where NTFS keeps its update-sequence check). fls is the witness that TSK itself
cannot show these names.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from ingest import ntfs_names
from tests.conftest import require_tool, run_ingest
from tests.images import tool
from tests.oracle import icat_sha256

# placeholder name -> (the code unit that replaces its 'X', the exact name as WTF-8, as displayed)
NAMES = {
    "hiddenX.txt": (0xD800, b"hidden\xed\xa0\x80.txt", "hidden\\xed\\xa0\\x80.txt"),  # lone high surrogate before '.'
    "lowXtail.txt": (0xDC00, b"low\xed\xb0\x80tail.txt", "low\\xed\\xb0\\x80tail.txt"),  # lone low surrogate
}
PLAIN = "caret^name.txt"  # a real '^': must come back unchanged, with no warning


def _patch(image: Path, placeholder: str, unit: int) -> int:
    data = bytearray(image.read_bytes())
    needle = placeholder.encode("utf-16-le")
    where = placeholder.index("X") * 2
    places = []
    start = data.find(needle)
    while start >= 0:
        places.append(start)
        start = data.find(needle, start + 1)
    for place in places:
        assert (place + where) % 512 < 510, "the patch would touch an update-sequence slot"
        data[place + where:place + where + 2] = unit.to_bytes(2, "little")
    image.write_bytes(bytes(data))
    return len(places)


@pytest.fixture
def ntfs_image(tmp_path: Path) -> Path:
    require_tool("mkntfs")
    require_tool("ntfscp")
    image = tmp_path / "ntfs.img"
    with open(image, "wb") as handle:
        handle.truncate(8 << 20)
    tool(require_tool("mkntfs"), "-q", "-F", "-f", "-U", "-L", "EXHIBIT", image)
    for number, name in enumerate([*NAMES, PLAIN]):
        content = tmp_path / f"content{number}"
        content.write_bytes(b"content of %s\n" % name.encode())
        tool(require_tool("ntfscp"), "-q", image, content, name)
    for placeholder, (unit, _, _) in NAMES.items():
        assert _patch(image, placeholder, unit) == 2  # $FILE_NAME in the MFT entry, and the $I30 index entry
    return image


def test_fls_shows_only_carets(ntfs_image: Path) -> None:
    require_tool("fls")
    listing = subprocess.run(["fls", str(ntfs_image)], capture_output=True, check=True).stdout
    assert b"hidden^txt" in listing and b"low^tail.txt" in listing


def test_exact_names_are_kept_and_content_is_hashed(ntfs_image: Path, tmp_path: Path) -> None:
    result = run_ingest(ntfs_image, tmp_path / "cases")
    assert result.exit_code == 0, result.output
    rows = {row["name_bytes"]: row for row in result.table("artefacts") if row["volume_index"] is not None}
    for placeholder, (_, exact, shown) in NAMES.items():
        row = rows[exact]
        assert (row["path_bytes"], row["path"]) == (b"/" + exact, "/" + shown)
        assert row["sha256"] == icat_sha256(ntfs_image, row["inode"]), placeholder
    assert rows[PLAIN.encode()]["path_bytes"] == b"/" + PLAIN.encode()
    assert [e for e in result.table("errors") if e["stage"] == "walk"] == []


@dataclass
class _Info:
    type: int
    id: int
    size: int


@dataclass
class _Attribute:
    info: _Info


class _Entry:
    """Stands in for a pytsk3.File: its $FILE_NAME attributes and their bytes."""

    def __init__(self, names: list[tuple[int, int, str | bytes]]) -> None:
        self._data = []
        for parent, namespace, name in names:
            raw = name.encode("utf-16-le") if isinstance(name, str) else name
            self._data.append(parent.to_bytes(6, "little") + b"\x01\x00" + bytes(56) + bytes([len(raw) // 2, namespace]) + raw)

    def __iter__(self):
        return iter(_Attribute(_Info(0x30, index, len(data))) for index, data in enumerate(self._data))

    def read_random(self, offset: int, size: int, kind: int, attribute_id: int) -> bytes:
        return self._data[attribute_id][offset:offset + size]


def test_the_file_name_in_this_directory_outside_dos_namespace_is_taken() -> None:
    lone = "hidden".encode("utf-16-le") + b"\x00\xd8" + ".txt".encode("utf-16-le")
    entry = _Entry([(7, 1, lone), (5, 2, "HIDDEN~1.TXT"), (5, 1, lone)])
    assert ntfs_names.exact_name(entry, b"hidden^txt", 5, (OSError,)) == b"hidden\xed\xa0\x80.txt"


def test_a_reused_mft_entry_gives_no_exact_name() -> None:
    """A deleted name whose MFT entry now belongs to another file: its $FILE_NAME does not agree."""
    entry = _Entry([(5, 1, "somethingelse.doc")])
    assert ntfs_names.exact_name(entry, b"hidden^txt", 5, (OSError,)) is None


def test_agreement_rule() -> None:
    assert ntfs_names.agrees(b"a^b^c", b"a\xed\xa0\x80b\xed\xb0\x80c")
    assert ntfs_names.agrees(b"caret^name.txt", b"caret^name.txt")
    assert not ntfs_names.agrees(b"a^b", b"ab")  # '^' stands for at least one byte
    assert not ntfs_names.agrees(b"a^b", b"xa\xed\xa0\x80b")


def test_an_unconfirmed_name_is_kept_as_tsk_gives_it_with_a_warning(ntfs_image: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk's side of a reused MFT entry (exact_name finds no agreeing $FILE_NAME): a row per name."""
    monkeypatch.setattr(ntfs_names, "exact_name", lambda entry, name, parent, errors: None)
    result = run_ingest(ntfs_image, tmp_path / "cases")
    assert result.exit_code == 0, result.output
    names = {row["name_bytes"] for row in result.table("artefacts")}
    assert {b"hidden^txt", b"low^tail.txt", PLAIN.encode()} <= names
    warnings = sorted((e["error_kind"], e["severity"], e["path"]) for e in result.table("errors") if e["stage"] == "walk")
    assert warnings == [("name_not_exact", "warning", "/caret^name.txt"), ("name_not_exact", "warning", "/hidden^txt"),
                        ("name_not_exact", "warning", "/low^tail.txt")]
