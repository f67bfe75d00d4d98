"""The seal: manifest.json lists every part of an exhibit with its SHA-256, and a root digest over
all of it is signed with Ed25519, so anyone holding the public key can show nothing was changed.

The root digest is the SHA-256 of the manifest's canonical JSON (sorted keys, no spaces) without
its `root_digest` and `signature` members; the signature is over the 32 raw bytes of that digest.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from manifests.files import sha256_and_size
from manifests.keys import fingerprint
from manifests.schemas import TABLES

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = 1


def file_sha256(path: Path) -> str:
    return sha256_and_size(path)[0]


def part_entry(path: Path) -> dict:
    """What the manifest records of one Parquet part."""
    table = TABLES[path.stem]
    return {
        "name": path.name,
        "size": path.stat().st_size,
        "sha256": file_sha256(path),
        "rows": pq.ParquetFile(path).metadata.num_rows,
        "schema": table.name,
        "schema_version": table.version,
    }


def canonical(value: dict) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def root_digest(manifest: dict) -> str:
    body = {k: v for k, v in manifest.items() if k not in ("root_digest", "signature")}
    return hashlib.sha256(canonical(body)).hexdigest()


def seal(folder: Path, facts: dict, signing_key: Ed25519PrivateKey | None) -> dict:
    """Write manifest.json for the parts in `folder` (every *.parquet) and return it."""
    manifest = {"format": MANIFEST_FORMAT, **facts, "parts": [part_entry(p) for p in sorted(folder.glob("*.parquet"))]}
    manifest["root_digest"] = root_digest(manifest)
    if signing_key is None:
        manifest["signature"] = None
    else:
        public = signing_key.public_key()
        manifest["signature"] = {
            "algorithm": "Ed25519",
            "public_key_fingerprint": fingerprint(public),
            "value": base64.b64encode(signing_key.sign(bytes.fromhex(manifest["root_digest"]))).decode(),
        }
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest
