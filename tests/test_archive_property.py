"""Property test (issue 10): the catalogue of an archive, a folder or an ext4 image equals its tree.

The phantom-entry bug (dfVFS matched `data/user` as a prefix of `data/user_de/...` and listed
/data/user/user_de/...) shows only with names that share prefixes. Every tree here has them
(`data/user/` and `data/user_de/`, `a/b`, `a/bc`, `a/b.c`); one is fixed, the others come from a
seeded random generator of names with shared prefixes, depth 1 to 5. Each tree is written to a
folder (non-UTF-8 names are plain bytes on Linux, hard links made with os.link) and packed by
tarfile, zipfile and GNU tar (`tar -cf`, `--format=gnu`, `--format=pax`, gzip), with `./`
names, members whose folders have no entry of their own, long GNU/PAX names and a member
listed twice. Two independent oracles: the tree as written, and what tarfile/zipfile list.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import subprocess
import tarfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from manifests.text import display
from tests import images
from tests.chat.helpers import build_database
from tests.chat.test_android_sms import SCHEMA as SMS_SCHEMA
from tests.chat.test_whatsapp_android import CURRENT_DDL, CURRENT_ROWS
from tests.conftest import Ingested, require_tool, run_ingest


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- trees --------------------------------------------------------------------------------------

@dataclass
class Tree:
    """Files (relative byte paths), hard links to them and empty folders: what every catalogue must equal."""

    files: dict[bytes, bytes]
    links: dict[bytes, bytes] = field(default_factory=dict)  # new name -> existing file name
    empty: tuple[bytes, ...] = ()

    def contents(self) -> dict[bytes, bytes]:
        return {**self.files, **{name: self.files[target] for name, target in self.links.items()}}

    def catalogued(self) -> list[tuple[bytes, str]]:
        return sorted((b"/" + name, sha(data)) for name, data in self.contents().items())

    @property
    def duplicate(self) -> bytes:
        """The file some builders store twice."""
        return b"a/bc" if b"a/bc" in self.files else sorted(self.files)[1]

    def folders(self, empty: bool = True) -> set[bytes]:
        """Every folder of the tree (or only those holding files), as an absolute path, the root included."""
        kept = self.empty if empty else ()
        found = {b"/"} | {b"/" + folder for folder in kept}
        for name in [*self.contents(), *kept]:
            parts = name.split(b"/")
            found |= {b"/" + b"/".join(parts[:depth]) for depth in range(1, len(parts))}
        return found


LONG_100 = b"long-" + b"n" * 60 + b"/" + b"m" * 50 + b".txt"  # > 100 bytes: no ustar name field holds it
LONG_255 = b"deep-" + b"p" * 120 + b"/" + b"q" * 120 + b"/" + b"r" * 40 + b"/file.bin"  # > 255: no ustar prefix + name holds it

FIXED = Tree(
    files={
        b"data/user/0/com.example/files/a.txt": b"user 0\n",
        b"data/user_de/0/com.example/files/a.txt": b"user_de 0\n",
        b"data/data/com.example/files/a.txt": b"data data\n",
        b"a/b": b"a/b is a file\n",
        b"a/bc": b"a/bc\n",
        b"a/b.c": b"a/b.c\n",
        b"a/b_/x": b"a/b_/x\n",
        b"ab/b": b"ab/b\n",
        LONG_100: b"longer than 100 bytes\n",
        LONG_255: b"longer than 255 bytes\n",
        b"names/bad\xff\xfe.bin": b"0xff 0xfe name\n",
        b"names/caf\xe9.txt": b"latin-1 name\n",
        b"\xff/inner.txt": b"folder named 0xff\n",
        b"empty.txt": b"",
        b"big.bin": images.pseudo_random(70_000, seed=7),
    },
    links={b"links/hard-to-a-b": b"a/b", b"data/user_de/hard": b"data/user/0/com.example/files/a.txt",
           b"links/to-long": LONG_255, LONG_255[:-8] + b"hard-" + b"s" * 150: b"names/bad\xff\xfe.bin"},  # long link targets and names
    empty=(b"empty-folder", b"data/user_de/1"),
)

PIECES = (b"a", b"ab", b"a_b", b"a.b", b"b", b"user", b"user_de", b"user.de", b"0", b"caf\xe9", b"\xff", b"x" * 90)


def random_tree(seed: int, count: int = 40) -> Tree:
    """Names from a small set of prefix-sharing pieces, depth 1-5; no name is both a file and a folder."""
    chooser = random.Random(seed)
    files: dict[bytes, bytes] = {}
    folders: set[bytes] = set()
    while len(files) < count:
        depth = chooser.randint(1, 5)
        parts = [chooser.choice(PIECES) + (b"" if chooser.random() < 0.7 else chooser.choice(PIECES)) for _ in range(depth)]
        name = b"/".join(parts)
        parents = {b"/".join(parts[:d]) for d in range(1, depth)}
        if name in files or name in folders or parents & set(files):
            continue
        files[name] = chooser.randbytes(chooser.choice((0, 1, 17, 511, 512, 513, 4096, 20_000)))
        folders |= parents
    names = sorted(files)
    links = {names[0] + b".hard": names[1], b"hard-at-root": names[-1]}
    links = {new: old for new, old in links.items() if new not in folders and new not in files}
    return Tree(files, links, empty=(b"user_de", b"a/empty"))


TREES = {"fixed": FIXED, "random-1": random_tree(1), "random-2": random_tree(2)}


def write_folder(tree: Tree, folder: Path) -> Path:
    images.write_tree(folder, tree.files)
    base = os.fsencode(folder)
    for name, target in tree.links.items():
        os.makedirs(os.path.dirname(base + b"/" + name), exist_ok=True)
        os.link(base + b"/" + target, base + b"/" + name)
    for name in tree.empty:
        os.makedirs(base + b"/" + name, exist_ok=True)
    for directory, names, files in os.walk(base, topdown=False):  # fixed times again, after the links and folders
        for name in names + files:
            os.utime(os.path.join(directory, name), ns=(images.FIXED_EPOCH * 10**9,) * 2, follow_symlinks=False)
    return folder


# --- archives built from a tree -----------------------------------------------------------------

SECOND_COPY = b"a second, different a/bc\n"


@dataclass(frozen=True)
class Archive:
    path: Path
    duplicate: bool  # a second member of the tree's duplicate name holds SECOND_COPY
    empty_folders: bool = True  # the tree's empty folders are members


def _tar_member(name: bytes, data: bytes) -> tuple[tarfile.TarInfo, io.BytesIO]:
    info = tarfile.TarInfo(name.decode("utf-8", "surrogateescape"))
    info.size, info.mtime, info.mode = len(data), images.FIXED_EPOCH, 0o644
    return info, io.BytesIO(data)


def tarfile_whole_folder(tree: Tree, folder: Path, out: Path, compress: bool) -> Archive:
    """tarfile.add of the folder as `.`: `./` names, a folder member for each folder, hard links as links."""
    with tarfile.open(out, "w:gz" if compress else "w", format=tarfile.GNU_FORMAT, encoding="utf-8", errors="surrogateescape") as archive:
        archive.add(os.fsencode(folder).decode("utf-8", "surrogateescape"), arcname=".")
    return Archive(out, False)


def tarfile_files_only(tree: Tree, folder: Path, out: Path, compress: bool) -> Archive:
    """PAX members for files only (folders implied), every other one `./`-prefixed, one name twice."""
    with tarfile.open(out, "w:gz" if compress else "w", format=tarfile.PAX_FORMAT, encoding="utf-8", errors="surrogateescape") as archive:
        for number, (name, data) in enumerate(sorted(tree.contents().items())):
            archive.addfile(*_tar_member(b"./" + name if number % 2 else name, data))
        archive.addfile(*_tar_member(tree.duplicate, SECOND_COPY))
    return Archive(out, True, empty_folders=False)


def _gnu_tar(*args: str | os.PathLike, stdin: bytes | None = None) -> None:
    subprocess.run(["tar", *map(os.fspath, args)], check=True, capture_output=True, input=stdin,
                   env={"PATH": "/usr/bin:/bin", "LC_ALL": "C", "TZ": "UTC"})


def gnu_tar_dot(tree: Tree, folder: Path, out: Path, compress: bool) -> Archive:
    """`tar -cf out -C folder .` with the default format: `./` names, GNU long names."""
    _gnu_tar("-czf" if compress else "-cf", out, "--sort=name", "-C", folder, ".")
    return Archive(out, False)


def gnu_tar_listed(tree: Tree, folder: Path, out: Path, compress: bool, fmt: str = "gnu") -> Archive:
    """`tar --format=... --no-recursion -T list`: files only, so no folder has an entry; one file named twice
    (GNU tar stores the second as a hard link to the first)."""
    names = sorted(tree.contents()) + [tree.duplicate]
    _gnu_tar(f"--format={fmt}", "-C", folder, "--null", "--no-recursion", "-czf" if compress else "-cf", out, "-T", "-",
             stdin=b"\0".join(names) + b"\0")
    return Archive(out, False, empty_folders=False)


def gnu_tar_pax_top(tree: Tree, folder: Path, out: Path, compress: bool) -> Archive:
    """`tar --format=pax -cf out -C folder <top-level names>`: recursive, no `./`, PAX long names."""
    top = sorted({name.split(b"/")[0] for name in [*tree.contents(), *tree.empty]})
    _gnu_tar("--format=pax", "--sort=name", "-C", folder, "--null", "-czf" if compress else "-cf", out, "-T", "-", stdin=b"\0".join(top) + b"\0")
    return Archive(out, False)


class _RawNameInfo(zipfile.ZipInfo):
    """A ZipInfo whose stored name is exactly `raw` (no UTF-8 flag unless the bytes are UTF-8)."""

    __slots__ = ("raw",)

    def _encodeFilenameFlags(self):  # noqa: N802 - zipfile's own hook
        try:
            self.raw.decode("utf-8")
        except UnicodeDecodeError:
            return self.raw, self.flag_bits & ~0x800
        return self.raw, self.flag_bits | (0x800 if not self.raw.isascii() else 0)


def _zip_entry(raw: bytes) -> _RawNameInfo:
    info = _RawNameInfo(raw.decode("utf-8", "surrogateescape"), date_time=(2024, 1, 2, 3, 4, 5))
    info.raw = raw
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def zipfile_members(tree: Tree, folder: Path, out: Path, compress: bool) -> Archive:
    """Folder entries for the empty folders and one other folder, files `./`-prefixed every third one, one name twice."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Duplicate name": wanted here
        with zipfile.ZipFile(out, "w") as archive:
            some_folder = sorted(tree.folders(empty=False) - {b"/"})[0][1:]
            for name in (*tree.empty, some_folder):
                entry = _zip_entry(name + b"/")
                entry.external_attr = 0o40755 << 16 | 0x10
                archive.writestr(entry, b"")
            for number, (name, data) in enumerate(sorted(tree.contents().items())):
                archive.writestr(_zip_entry(b"./" + name if number % 3 == 1 else name), data)
            archive.writestr(_zip_entry(tree.duplicate), SECOND_COPY)
    return Archive(out, True)


BUILDERS = {
    "tarfile-folder.tar": tarfile_whole_folder,
    "tarfile-folder.tar.gz": tarfile_whole_folder,
    "tarfile-files-pax.tar": tarfile_files_only,
    "tarfile-files-pax.tar.gz": tarfile_files_only,
    "gnutar-dot.tar": gnu_tar_dot,
    "gnutar-dot.tar.gz": gnu_tar_dot,
    "gnutar-listed-gnu.tar": gnu_tar_listed,
    "gnutar-listed-pax.tar": lambda *a: gnu_tar_listed(*a, fmt="pax"),
    "gnutar-pax.tar": gnu_tar_pax_top,
    "gnutar-pax.tar.gz": gnu_tar_pax_top,
    "zipfile.zip": zipfile_members,
}


# --- the oracle: what tarfile / zipfile list ----------------------------------------------------

@dataclass(frozen=True)
class Member:
    raw: bytes  # the name exactly as stored
    kind: str  # file, directory or other
    sha256: str | None


def normalised(raw: bytes) -> bytes:
    return b"/" + b"/".join(part for part in raw.split(b"/") if part not in (b"", b"."))


def oracle(path: Path) -> list[Member]:
    """Every member in archive order; a hard link with the content tarfile extracts for it."""
    if path.suffix == ".zip":
        with zipfile.ZipFile(path) as archive:
            return [Member(i.orig_filename.encode("utf-8" if i.flag_bits & 0x800 else "cp437", "surrogateescape"),
                           "directory" if i.is_dir() else "file", None if i.is_dir() else sha(archive.read(i)))
                    for i in archive.infolist()]
    members = []
    with tarfile.open(path, encoding="utf-8", errors="surrogateescape") as archive:
        for info in archive.getmembers():
            raw = info.name.encode("utf-8", "surrogateescape")
            if info.isreg() or info.islnk():
                members.append(Member(raw, "file", sha(archive.extractfile(info).read())))
            else:
                members.append(Member(raw, "directory" if info.isdir() else "other", None))
    return members


def _ancestors(path: bytes) -> list[bytes]:
    parts = path.split(b"/")[1:]
    return [b"/" + b"/".join(parts[:depth]) for depth in range(len(parts))] if path != b"/" else []


def synthesised(members: list[Member]) -> set[bytes]:
    """Folders the walker must synthesise: a parent of a member that no folder member names before the
    first member below it (the root too, unless a `./` member names it first)."""
    named_before: set[bytes] = set()
    needed: set[bytes] = set()
    for member in members:
        path = normalised(member.raw)
        needed |= {folder for folder in _ancestors(path) if folder not in named_before}
        if member.kind == "directory":
            named_before.add(path)
    return needed | ({b"/"} if b"/" not in named_before else set())


# --- checks -------------------------------------------------------------------------------------

def ingest(source: Path, out: Path) -> Ingested:
    before = images.sha256_file(source) if source.is_file() else None
    result = run_ingest(source, out)
    assert result.exit_code == 0, result.output
    assert result.errors() == []
    if before is not None:
        assert images.sha256_file(source) == before
    return result


def file_rows(result: Ingested) -> list[tuple[bytes, str | None]]:
    return [(r["path_bytes"], r["sha256"]) for r in result.artefacts() if r["entry_type"] == "file"]


def assert_parents_come_first(rows: list[dict]) -> None:
    """Every row's folder was listed (stored or synthesised) before it: no row hangs from nothing."""
    listed: set[bytes] = set()
    for row in rows:
        path = row["path_bytes"]
        if path != b"/":
            assert (path.rsplit(b"/", 1)[0] or b"/") in listed, path
        if row["entry_type"] in ("directory", "virtual_directory"):
            listed.add(path)


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("trees")
    return {name: write_folder(tree, base / name) for name, tree in TREES.items()}


@pytest.mark.parametrize("tree_name", sorted(TREES))
@pytest.mark.parametrize("builder", sorted(BUILDERS))
def test_archive_catalogue_equals_the_tree_and_the_oracle(builder: str, tree_name: str, folders: dict[str, Path], tmp_path: Path) -> None:
    require_tool("tar")
    tree = TREES[tree_name]
    archive = BUILDERS[builder](tree, folders[tree_name], tmp_path / builder, builder.endswith(".gz"))
    archive.path.chmod(0o444)
    members = oracle(archive.path)
    result = ingest(archive.path, tmp_path / "out")
    rows = result.artefacts()

    # Files: exactly the oracle's members, in archive order, duplicates and hard links included ...
    listed = [(normalised(m.raw), m.sha256) for m in members if m.kind == "file"]
    assert file_rows(result) == listed
    # ... and exactly the tree (plus the second copy where the builder stored one).
    expected = tree.catalogued() + ([(b"/" + tree.duplicate, sha(SECOND_COPY))] if archive.duplicate else [])
    if builder.startswith("gnutar-listed"):
        expected.append((b"/" + tree.duplicate, sha(tree.contents()[tree.duplicate])))  # named twice: a hard link to itself
    assert sorted(listed) == sorted(expected)
    # Raw names are kept exactly (in path_spec member_name) while paths are normalised.
    stored = [json.loads(r["path_spec"])["member_name"].encode("utf-8", "surrogateescape") for r in rows if r["entry_type"] != "virtual_directory"]
    assert stored == [m.raw for m in members]
    for row in rows:
        assert row["path_bytes"] == normalised(row["path_bytes"])
        assert row["path"] == display(row["path_bytes"])
        assert row["name_bytes"] == (row["path_bytes"].rsplit(b"/", 1)[1] if row["path_bytes"] != b"/" else b"")

    # Folders: each directory row is a stored folder member; each synthesised one a parent of a member, listed once.
    assert [r["path_bytes"] for r in rows if r["entry_type"] == "directory"] == [normalised(m.raw) for m in members if m.kind == "directory"]
    virtual = [r["path_bytes"] for r in rows if r["entry_type"] == "virtual_directory"]
    assert len(virtual) == len(set(virtual))
    assert set(virtual) == synthesised(members)
    assert {r["path_bytes"] for r in rows if r["entry_type"] in ("directory", "virtual_directory")} == tree.folders(archive.empty_folders)
    assert {r["entry_type"] for r in rows} <= {"file", "directory", "virtual_directory"}
    assert_parents_come_first(rows)


def test_the_trees_have_what_the_property_needs() -> None:
    """The generated trees do hold prefix-sharing siblings, deep and non-UTF-8 names: the property is not vacuous."""
    for name, tree in TREES.items():
        folders = tree.folders()
        paths = [b"/" + p for p in tree.contents()] + sorted(folders)
        siblings = [(x, y) for x in paths for y in paths if x != y and y.startswith(x) and not y.startswith(x + b"/")
                    and x.rsplit(b"/", 1)[0] == y.rsplit(b"/", 1)[0]]
        assert len(siblings) >= 3, name
        assert any(not _utf8(p) for p in paths), name
        assert max(p.count(b"/") for p in paths) >= 4, name
    assert len(LONG_100) > 100 and len(LONG_255) > 255
    assert len(TREES["random-1"].files) == 40 and TREES["random-1"].files != TREES["random-2"].files
    assert random_tree(1) == TREES["random-1"]  # deterministic


def _utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- the same tree as a folder and as an ext4 image -------------------------------------------

@pytest.mark.parametrize("tree_name", sorted(TREES))
def test_folder_catalogue_equals_the_tree(tree_name: str, folders: dict[str, Path], tmp_path: Path) -> None:
    tree = TREES[tree_name]
    result = ingest(folders[tree_name], tmp_path / "out")
    rows = result.artefacts()
    assert sorted(file_rows(result)) == tree.catalogued()
    assert {r["path_bytes"] for r in rows if r["entry_type"] == "directory"} == tree.folders()
    assert len(rows) == len(tree.catalogued()) + len(tree.folders())  # nothing else, nothing twice
    assert {r["entry_type"] for r in rows} == {"file", "directory"}


# ext4 adds its own folder and The Sleuth Kit one virtual folder; nothing else may appear.
EXT4_OWN = {b"/lost+found": "directory"}
TSK_VIRTUAL = {b"/$OrphanFiles": "virtual_directory"}


@pytest.mark.parametrize("tree_name", sorted(TREES))
def test_ext4_image_catalogue_equals_the_tree(tree_name: str, folders: dict[str, Path], tmp_path: Path) -> None:
    require_tool("mkfs.ext4")
    tree = TREES[tree_name]
    image = images.make_ext4(folders[tree_name], tmp_path / "fs.raw", "16M", block_size=4096)
    image.chmod(0o444)
    result = ingest(image, tmp_path / "out")
    rows = result.artefacts()
    assert sorted(file_rows(result)) == tree.catalogued()
    extra = {r["path_bytes"]: r["entry_type"] for r in rows if r["entry_type"] != "file" and r["path_bytes"] not in tree.folders()}
    assert extra == {**EXT4_OWN, **TSK_VIRTUAL}
    assert {r["path_bytes"] for r in rows if r["entry_type"] == "directory"} == tree.folders() | set(EXT4_OWN)
    assert len(rows) == len(tree.catalogued()) + len(tree.folders()) + len(EXT4_OWN) + len(TSK_VIRTUAL)
    inodes = {r["path_bytes"]: r["inode"] for r in rows}
    for name, target in tree.links.items():  # mkfs.ext4 -d keeps hard links: one inode, two names
        assert inodes[b"/" + name] == inodes[b"/" + target]


# --- an Android layout: every store once, every message once ------------------------------------

WHATSAPP = b"data/user/0/com.whatsapp/databases/msgstore.db"
TELEPHONY_DE = b"data/user_de/0/com.android.providers.telephony/databases/mmssms.db"
TELEPHONY_LEGACY = b"data/data/com.android.providers.telephony/databases/mmssms.db"
NOTES = b"data/data/com.example.notes/databases/notes.db"


def _sms(row_id: int, body: str) -> tuple:
    return (row_id, 1, "+15550001", 1_700_000_000_000 + row_id * 1000, 0, 1, 1, None, body, None)


def android_tree(staging: Path) -> Tree:
    """WhatsApp (3 messages), telephony in user_de (3 SMS) and a legacy copy in data/data (2 other SMS)."""
    built = staging.parent / "built"
    built.mkdir()
    real = [row for row in CURRENT_ROWS["message"] if row[1] != -1]  # without WhatsApp's placeholder row: 3 messages
    build_database(built / "msgstore.db", CURRENT_DDL, dict(CURRENT_ROWS, message=real))
    build_database(built / "mmssms-de.db", SMS_SCHEMA, {"sms": [_sms(1, "one"), _sms(2, "two"), _sms(3, "three")]})
    build_database(built / "mmssms-legacy.db", SMS_SCHEMA, {"sms": [_sms(7, "legacy seven"), _sms(8, "legacy eight")]})
    build_database(built / "notes.db", "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT);", {"notes": [(1, "not a chat")]})
    tree = Tree({WHATSAPP: (built / "msgstore.db").read_bytes(), TELEPHONY_DE: (built / "mmssms-de.db").read_bytes(),
                 TELEPHONY_LEGACY: (built / "mmssms-legacy.db").read_bytes(), NOTES: (built / "notes.db").read_bytes(),
                 b"data/user/0/com.whatsapp/files/me": b"phone number\n"})
    write_folder(tree, staging)
    return tree


@pytest.mark.parametrize("builder", ["tarfile", "gnu-tar"])
def test_android_tar_lists_each_store_once_and_parses_it_once(builder: str, tmp_path: Path) -> None:
    staging = tmp_path / "phone"
    tree = android_tree(staging)
    archive = tmp_path / "userdata.tar"
    if builder == "tarfile":
        tarfile_whole_folder(tree, staging, archive, False)  # ./data/user/..., ./data/user_de/...
    else:
        require_tool("tar")
        _gnu_tar("-cf", archive, "--sort=name", "-C", staging, "data")  # data/data/..., data/user/..., data/user_de/...
    archive.chmod(0o444)
    result = ingest(archive, tmp_path / "out")
    rows = result.artefacts()
    assert sorted(file_rows(result)) == tree.catalogued()
    paths = [r["path_bytes"] for r in rows]
    assert len(paths) == len(set(paths)) == len(tree.catalogued()) + len(tree.folders())
    assert not [p for p in paths if b"/user/user_de" in p or b"/user_de/user" in p]  # the phantom listing dfVFS gave
    messages = result.table("messages")
    counted: dict[tuple[str, str], int] = {}
    for message in messages:
        key = (message["path"], message["parser"])
        counted[key] = counted.get(key, 0) + 1
    assert counted == {("/" + WHATSAPP.decode(), "whatsapp_android"): 3, ("/" + TELEPHONY_DE.decode(), "android_sms"): 3,
                       ("/" + TELEPHONY_LEGACY.decode(), "android_sms"): 2}
    assert [(m["store_table"], m["store_row_id"]) for m in messages if m["path"] == "/" + TELEPHONY_LEGACY.decode()] == [
        ("sms", 7), ("sms", 8)]
    assert [m["body"] for m in messages if m["path"] == "/" + TELEPHONY_DE.decode()] == ["one", "two", "three"]
    keys = [(m["path"], m["store_table"], m["store_row_id"]) for m in messages]
    assert len(keys) == len(set(keys))  # no message twice


# --- the dfVFS walker (APFS, XFS, file systems TSK refuses) -------------------------------------

def _utf8_only(tree: Tree) -> Tree:
    return Tree({n: d for n, d in tree.files.items() if _utf8(n)}, {n: t for n, t in tree.links.items() if _utf8(n) and _utf8(t)},
                tuple(n for n in tree.empty if _utf8(n)))


def _dfvfs_ext(image: Path):
    from dfvfs.lib import definitions
    from dfvfs.path import factory

    parent = factory.Factory.NewPathSpec(definitions.TYPE_INDICATOR_OS, location=os.fspath(image))
    return factory.Factory.NewPathSpec(definitions.TYPE_INDICATOR_EXT, location="/", parent=parent)


def _dfvfs_walk(image: Path) -> tuple[list[dict], list[tuple[str, str | None]], list[tuple[bytes, str]]]:
    """Rows, problems (kind, path) and (path, SHA-256) of every file, read through dfVFS as the workers do."""
    from ingest import dfvfs_walk

    problems: list[tuple[str, str | None]] = []
    items = list(dfvfs_walk.walk(_dfvfs_ext(image), lambda stage, kind, *a, **k: problems.append((kind, k.get("path"))), 0))
    hashed = [(item.row["path_bytes"], sha(dfvfs_walk.reader_for(item.target[1])(0, item.target[2]))) for item in items if item.target]
    return [item.row for item in items], problems, hashed


@pytest.mark.parametrize("tree_name", sorted(TREES))
def test_dfvfs_walker_lists_each_directory_record_once(tree_name: str, tmp_path: Path) -> None:
    """dfvfs_walk joins each child's own name to its folder's path and matches no prefixes: over a
    back end that lists directory records (libfsext here, as libfsapfs and libfsxfs do) the
    prefix-sharing siblings give no phantom. (dfVFS's TAR, ZIP and CPIO back ends do match
    prefixes, which is why archives have their own walker and never reach this one.)"""
    require_tool("mkfs.ext4")
    tree = _utf8_only(TREES[tree_name])
    image = images.make_ext4(write_folder(tree, tmp_path / "tree"), tmp_path / "fs.raw", "16M", block_size=4096)
    image.chmod(0o444)
    rows, problems, hashed = _dfvfs_walk(image)
    assert problems == []
    assert sorted(hashed) == tree.catalogued()
    assert sorted((r["path_bytes"], r["entry_type"]) for r in rows if r["entry_type"] != "file") == sorted(
        [(folder, "directory") for folder in tree.folders()] + [(b"/lost+found", "directory")])
    assert len(rows) == len(tree.catalogued()) + len(tree.folders()) + 1


def test_dfvfs_walker_reports_a_name_its_back_end_cannot_decode(tmp_path: Path) -> None:
    """libfsext (like the other libyal back ends) refuses a name that is not UTF-8, and dfVFS then stops
    listing the whole folder. The walker lists the rest of that folder by index: every sibling before
    and after the bad name is catalogued and hashed, and the bad entry is one `name_undecodable` error
    row carrying its inode (The Sleuth Kit's `fls` is the oracle for the inode), never a silent gap."""
    require_tool("mkfs.ext4")
    require_tool("fls")
    siblings = {f"inner/file{i:02}.txt".encode(): f"content {i}\n".encode() for i in range(12)}
    tree = Tree({b"inner/bad\xff.txt": b"bad\n", **siblings, b"other/fine.txt": b"fine\n"})
    image = images.make_ext4(write_folder(tree, tmp_path / "tree"), tmp_path / "fs.raw", "4M")
    rows, problems, hashed = _dfvfs_walk(image)
    assert problems == [("name_undecodable", "/inner")]
    assert sorted(hashed) == sorted([(b"/" + name, sha(data)) for name, data in siblings.items()] + [(b"/other/fine.txt", sha(b"fine\n"))])
    assert all(_utf8(r["path_bytes"]) for r in rows)
    listing = subprocess.run(["fls", "-r", "-p", os.fspath(image)], check=True, capture_output=True).stdout
    bad_inode = next(int(line.split(b":")[0].split()[-1]) for line in listing.splitlines() if line.endswith(b"inner/bad\xff.txt"))
    messages = _dfvfs_walk_messages(image)
    assert len(messages) == 1 and f"(inode or identifier {bad_inode})" in messages[0] and "not catalogued" in messages[0]


def _dfvfs_walk_messages(image: Path) -> list[str]:
    from ingest import dfvfs_walk

    messages: list[str] = []
    list(dfvfs_walk.walk(_dfvfs_ext(image), lambda stage, kind, severity, message, **k: messages.append(message), 0))
    return messages