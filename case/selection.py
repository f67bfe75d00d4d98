"""Which exhibits a case-wide query reads: those whose seal holds, checked by verify's own code.

"The manifest verifies" here is the cheapest check that still proves the tables are the ones sealed:
the folder is not a link, the manifest is readable, its root digest recomputes, every listed part
has its recorded size, SHA-256 and row count, no unlisted file sits beside them, and the manifest
names the exhibit of its folder. With trusted keys the signature must also be by one of them.
Acquisition hashes and the custody links are `exhibit verify`'s business: they say whether the
evidence was acquired and handled well, not whether these tables are the sealed ones.

The case's ledger (custody.parquet) is read when its hash chain recomputes (with trusted keys,
every event's signature too). Other case-level files (hash_hits.parquet) carry no seal here and are
read as they are.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from manifests import custody, verify
from manifests.confined import brief
from manifests.text import display, display_message

SEAL_KINDS = frozenset({"exhibit folder", "manifest", "root digest", "part"})
CHAIN_KINDS = frozenset({"ledger", "chain"})


@dataclass(frozen=True)
class Exhibit:
    """One exhibit folder and what its seal check found; `failures` are display-escaped check lines."""

    exhibit_id: str | None  # the id its folder name encodes; None for a name Exhibit never wrote
    folder: Path
    manifest: dict | None
    failures: tuple[str, ...]

    @property
    def verified(self) -> bool:
        return not self.failures

    @property
    def label(self) -> str:
        """The exhibit for messages: its id escaped, or the folder name when the name encodes no id."""
        return display(self.exhibit_id) if self.exhibit_id is not None else display(self.folder.name)


@dataclass(frozen=True)
class CaseFile:
    """A case-level table file (custody.parquet, hash_hits.parquet) and why it would not be trusted."""

    name: str
    path: Path
    failures: tuple[str, ...]
    checked: bool = False  # a check was made (custody's chain); other case-level files carry no seal

    @property
    def verified(self) -> bool:
        return not self.failures


def assess_exhibit(exhibit_id: str | None, folder: Path, trusted: list[Ed25519PublicKey]) -> Exhibit:
    """The seal checks of one exhibit (verify.verify_exhibit's, without the acquisition hashes)."""
    kinds = SEAL_KINDS | ({"signature"} if trusted else set())
    failures = [f"{check.what}: {check.detail}" for check in verify.verify_exhibit(folder, trusted)
                if check.kind in kinds and not check.ok]
    try:
        manifest = verify.load_manifest(folder)
    except verify.ManifestError:
        manifest = None  # verify_exhibit has named why
    if manifest is not None:
        named = manifest.get("exhibit_id")
        if exhibit_id is None:
            failures.append(f"exhibit id: the folder name {folder.name!r} is the encoding of no exhibit id "
                            f"(the manifest names {brief(named)})")
        elif named != exhibit_id:
            failures.append(f"exhibit id: the manifest names exhibit {brief(named)}, but its folder is that of {exhibit_id!r}")
    return Exhibit(exhibit_id, folder, manifest, tuple(display_message(line) for line in failures))


def assess_exhibits(exhibits: list[tuple[str | None, Path]], trusted: list[Ed25519PublicKey]) -> list[Exhibit]:
    return [assess_exhibit(exhibit_id, folder, trusted) for exhibit_id, folder in exhibits]


def regular_file(path: Path) -> bool:
    """A regular file, not a symbolic link (nothing is followed out of the case)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def assess_case_file(case_dir: Path, name: str, trusted: list[Ed25519PublicKey]) -> CaseFile | None:
    """The case-level file `name`.parquet when it is there as a regular file; custody's chain is checked."""
    path = case_dir / f"{name}.parquet"
    if not regular_file(path):
        if os.path.lexists(path):
            return CaseFile(name, path, (f"{name}.parquet is not a regular file (a link or a device); not read",))
        return None
    if name != custody.LEDGER_NAME.removesuffix(".parquet"):
        return CaseFile(name, path, ())
    kinds = CHAIN_KINDS | ({"signature"} if trusted else set())
    failures = [f"{check.what}: {check.detail}" for check in custody.verify_chain(case_dir, trusted) if check.kind in kinds and not check.ok]
    return CaseFile(name, path, tuple(display_message(line) for line in failures), checked=True)
