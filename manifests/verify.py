"""Checking a sealed exhibit: every part as recorded, nothing unlisted beside them, the root digest,
and a signature by a key the checker trusts. Every failure is reported, not just the first.

Needs only the exhibit folder and public keys: no network, no evidence, no Exhibit configuration.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from pathlib import Path

import pyarrow
import pyarrow.parquet as pq
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from manifests.keys import fingerprint
from manifests.seal import MANIFEST_NAME, file_sha256, root_digest


@dataclass(frozen=True)
class Check:
    """One line of the verification report."""

    exhibit: str
    what: str
    ok: bool
    detail: str


def verify_exhibit(folder: Path, trusted: list[Ed25519PublicKey]) -> list[Check]:
    name = folder.name
    checks: list[Check] = []

    def add(what: str, ok: bool, detail: str) -> None:
        checks.append(Check(name, what, ok, detail))

    manifest_path = folder / MANIFEST_NAME
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        add("manifest", False, f"{MANIFEST_NAME} cannot be read: {error}")
        return checks
    recorded = manifest.get("root_digest")
    computed = root_digest(manifest)
    add("root digest", recorded == computed, f"recorded {recorded}, computed {computed}")
    listed = set()
    for part in manifest.get("parts", []):
        listed.add(part["name"])
        _check_part(folder, part, add)
    for path in sorted(folder.iterdir()):
        if path.name != MANIFEST_NAME and path.name not in listed:
            add(f"part {path.name}", False, "not listed in the manifest (a stray or added file)")
    _check_signature(manifest, computed, trusted, add)
    return checks


def rehash_source(folder: Path) -> list[Check]:
    """Hash the source's container files again and compare with what the seal recorded."""
    name = folder.name
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        return [Check(name, "source", False, f"{MANIFEST_NAME} cannot be read: {error}")]
    files = (manifest.get("source") or {}).get("container_files") or []
    if not files:
        return [Check(name, "source", False, "the manifest records no container files to hash again (a folder source, or hashing was off)")]
    checks = []
    for entry in files:
        path = Path(entry["path"])
        try:
            digest = file_sha256(path)
        except OSError as error:
            checks.append(Check(name, f"source {entry['path']}", False, f"cannot be read: {error}"))
            continue
        same = digest == entry["sha256_before"]
        checks.append(Check(name, f"source {entry['path']}", same,
                            f"sha256 {digest}" + ("" if same else f" != recorded {entry['sha256_before']}")))
    return checks


def recorded_root_digest(folder: Path) -> str | None:
    try:
        return json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8")).get("root_digest")
    except (OSError, ValueError):
        return None


def _check_part(folder: Path, part: dict, add) -> None:
    path = folder / part["name"]
    if not path.is_file():
        add(f"part {part['name']}", False, "listed in the manifest but missing")
        return
    size, digest = path.stat().st_size, file_sha256(path)
    try:
        rows = pq.ParquetFile(path).metadata.num_rows
    except (OSError, pyarrow.ArrowException) as error:
        rows = f"unreadable ({error})"
    problems = []
    if size != part["size"]:
        problems.append(f"size {size} != recorded {part['size']}")
    if digest != part["sha256"]:
        problems.append(f"sha256 {digest} != recorded {part['sha256']}")
    if rows != part["rows"]:
        problems.append(f"rows {rows} != recorded {part['rows']}")
    add(f"part {part['name']}", not problems, "; ".join(problems) or f"{size} bytes, {rows} rows, sha256 {digest}")


def _check_signature(manifest: dict, computed: str, trusted: list[Ed25519PublicKey], add) -> None:
    signature = manifest.get("signature")
    if not signature:
        add("signature", False, "the manifest is unsigned")
        return
    wanted = signature.get("public_key_fingerprint")
    keys = [key for key in trusted if fingerprint(key) == wanted]
    if not keys:
        add("signature", False, f"signed by key {wanted}, which is not among the trusted keys (a valid signature by an unknown key proves nothing)")
        return
    try:
        keys[0].verify(base64.b64decode(signature.get("value", ""), validate=True), bytes.fromhex(computed))
    except (InvalidSignature, binascii.Error, ValueError):
        add("signature", False, f"signature by trusted key {wanted} does not match the manifest")
        return
    add("signature", True, f"valid Ed25519 signature by trusted key {wanted}")
