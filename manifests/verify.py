"""Checking a sealed exhibit: every part as recorded, nothing unlisted beside them, the root digest,
a signature by a key the checker trusts, the acquisition hashes, and the custody ledger the seal
anchored. Every failure is reported, not just the first, and a malformed manifest or ledger is a
failing check, never an exception.

Needs only the case folder and public keys: no network, no evidence, no Exhibit configuration. It
reads only regular files directly inside the exhibit folder (no path, no symbolic link is followed).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Callable

import pyarrow
import pyarrow.parquet as pq
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from manifests import custody
from manifests.confined import Refused, brief, name_problem, open_inside, open_member, open_regular, sha256_of, short
from manifests.keys import fingerprint
from manifests.seal import MANIFEST_NAME, root_digest
from manifests.text import display, display_message

MAX_MANIFEST_BYTES = 16 << 20


@dataclass(frozen=True)
class Check:
    """One line of the verification report; `exhibit` is "" for a check of the whole case (the ledger)."""

    exhibit: str
    what: str
    ok: bool
    detail: str
    kind: str = ""


class ManifestError(ValueError):
    """The manifest cannot be used; the message says why."""


def load_manifest(folder: Path) -> dict:
    """The manifest as a JSON object; ManifestError when it is missing, a link, too big, not JSON or not an object."""
    try:
        descriptor = open_member(folder, MANIFEST_NAME, MAX_MANIFEST_BYTES)
    except Refused as error:
        raise ManifestError(f"{MANIFEST_NAME} {error}") from None
    if descriptor is None:
        raise ManifestError(f"{MANIFEST_NAME} is missing: the folder is not a sealed exhibit")
    try:
        with os.fdopen(descriptor, "rb") as handle:
            manifest = json.loads(handle.read(MAX_MANIFEST_BYTES + 1).decode("utf-8"), object_pairs_hook=_no_duplicate_keys)
    except (OSError, ValueError, RecursionError) as error:
        raise ManifestError(f"{MANIFEST_NAME} cannot be read as JSON: {type(error).__name__}: {error}") from None
    if not isinstance(manifest, dict):
        raise ManifestError(f"{MANIFEST_NAME} holds a JSON {type(manifest).__name__}, not an object")
    return manifest


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    """Two readers of a manifest must never see different values: a repeated key is refused, not resolved."""
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise ValueError(f"the key {brief(key)} appears more than once in one object")
        seen.add(key)
    return dict(pairs)


def verify_exhibit(folder: Path, trusted: list[Ed25519PublicKey]) -> list[Check]:
    name = folder.name
    checks: list[Check] = []

    def add(what: str, ok: bool, detail: str, kind: str = "") -> None:
        checks.append(Check(name, what, ok, detail, kind or what))

    if folder.is_symlink():
        add("exhibit folder", False, "is a symbolic link; not followed")
        return checks
    try:
        manifest = load_manifest(folder)
    except ManifestError as error:
        add("manifest", False, str(error))
        return checks
    recorded = manifest.get("root_digest")
    computed = root_digest(manifest)
    add("root digest", recorded == computed, f"recorded {short(recorded)}, computed {computed}")
    parts = manifest.get("parts")
    listed = set()
    if not isinstance(parts, list):
        add("manifest", False, f"'parts' is {type(parts).__name__}, not a list of parts")
        parts = []
    for position, part in enumerate(parts):
        if isinstance(part, dict) and isinstance(part.get("name"), str):
            listed.add(part["name"])
        _check_part(folder, position, part, add)
    for path in sorted(folder.iterdir()):
        if path.name != MANIFEST_NAME and path.name not in listed:
            add(f"part {path.name}", False, "not listed in the manifest (a stray or added file)", "part")
    _check_signature(manifest, computed, trusted, add)
    for check in acquisition_checks(manifest):
        checks.append(replace(check, exhibit=name))
    return checks


def acquisition_checks(manifest: dict) -> list[Check]:
    """One check per recorded acquisition hash (--expected-hash, the E01's stored hash): it must have matched."""
    source = manifest.get("source")
    entries = source.get("hash_checks") if isinstance(source, dict) else None
    if entries is None:
        return []
    if not isinstance(entries, list):
        return [Check("", "acquisition hashes", False, f"source.hash_checks is {type(entries).__name__}, not a list", "acquisition hash")]
    checks = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("origin", "algorithm")):
            checks.append(Check("", f"acquisition hash #{position}", False, f"malformed entry {brief(entry)}", "acquisition hash"))
            continue
        what = f"acquisition hash {short(entry['origin'])} {short(entry['algorithm'])}"
        stated = f"expected {short(entry.get('expected'))}, computed {short(entry.get('computed'))}"
        if "is_match" not in entry and "match" in entry:
            checks.append(Check("", what, False, f"{stated}: recorded as 'match' by an Exhibit before the column vocabulary "
                                "(this version reads 'is_match'); verify it with the version that sealed it", "acquisition hash"))
            continue
        match = entry.get("is_match")
        if match is True:
            checks.append(Check("", what, True, f"{stated}: MATCH", "acquisition hash"))
        elif match is False:
            checks.append(Check("", what, False, f"{stated}: MISMATCH", "acquisition hash"))
        else:
            checks.append(Check("", what, False, f"{stated}: could not be compared (the media was not hashed whole)", "acquisition hash"))
    return checks


def custody_checks(case_dir: Path, folder: Path, exhibit_id: str | None, ledger: custody.Ledger | None = None) -> list[Check]:
    """The exhibit against the case ledger: the manifest names this exhibit, the ledger still holds the head the
    seal recorded (with the chain up to it), and the exhibit's latest `ingested` event names this seal.

    `exhibit_id` None: the folder's name is the encoding of no id (a folder Exhibit never wrote).
    """
    ledger = ledger if ledger is not None else custody.read_ledger(case_dir)
    name = folder.name
    try:
        manifest = load_manifest(folder)
    except ManifestError as error:
        return [Check(name, "custody", False, f"cannot be checked: {error}", "custody seal")]
    checks = []
    named = manifest.get("exhibit_id")
    if exhibit_id is None:
        checks.append(Check(name, "exhibit id", False, f"the folder name {name!r} is the encoding of no exhibit id "
                            f"(the manifest names {brief(named)})", "exhibit id"))
    else:
        checks.append(Check(name, "exhibit id", named == exhibit_id, f"the manifest names exhibit {brief(named)}"
                            + ("" if named == exhibit_id else f", but its folder is that of {exhibit_id!r}"), "exhibit id"))
    if ledger.problem is not None:
        checks.append(Check(name, "custody anchor", False, f"cannot be checked: {ledger.problem}", "anchor"))
    else:
        anchor = custody.check_anchor(ledger.events, manifest.get("custody_head"))
        checks.append(Check(name, anchor.what, anchor.ok, anchor.detail, "anchor"))
    seal = custody.latest_seal_in(ledger.events, exhibit_id)
    current = manifest.get("root_digest")
    linked = seal is not None and seal == current
    checks.append(Check(name, "custody", linked, f"latest ingested event names seal {seal}, manifest root digest {short(current)}", "custody seal"))
    return checks


def verify_case(case_dir: Path, exhibits: list[tuple[str | None, Path]], trusted: list[Ed25519PublicKey], rehash: bool = False,
                known_head: dict | None = None) -> list[Check]:
    """Every check `exhibit verify` prints: the ledger (exhibit ""), then per (exhibit id, folder) its own.

    Checks of an exhibit carry its id (not its folder name). No exhibit at all is a failing check: an
    empty case verifies nothing. `known_head` ({"event_index", "event_sha256"}, kept outside the case)
    must still be in the ledger: the one way to catch the newest events cut off.
    """
    ledger = custody.read_ledger(case_dir)
    chain = custody.verify_chain(case_dir, trusted)
    if known_head is not None:
        chain.append(custody.check_anchor(ledger.events, known_head, "custody head given", "the head given is"))
    checks = [Check("", c.what, c.ok, c.detail, f"custody {c.kind}") for c in chain]
    if not exhibits:
        checks.append(Check("", "exhibits", False, f"no exhibit folder in {case_dir}: nothing sealed to verify", "exhibits"))
    for exhibit_id, folder in exhibits:
        own = verify_exhibit(folder, trusted)
        if rehash:
            own += rehash_source(folder) if _seal_holds(own) else [_rehash_refused(folder, own)]
        own += custody_checks(case_dir, folder, exhibit_id, ledger)
        checks += [replace(c, exhibit=exhibit_id if exhibit_id is not None else folder.name) for c in own]
    return checks


def _seal_holds(own: list[Check]) -> bool:
    """The manifest's root digest and its signature by a trusted key both hold: only then may its paths direct reads."""
    kinds = [c for c in own if c.kind in ("root digest", "signature")]
    return {c.kind for c in kinds} == {"root digest", "signature"} and all(c.ok for c in kinds)


def _rehash_refused(folder: Path, own: list[Check]) -> Check:
    failed = [c.what for c in own if c.kind in ("root digest", "signature") and not c.ok] or ["root digest and signature"]
    return Check(folder.name, "source", False, f"not hashed again: the manifest's {' and '.join(failed)} check did not hold, so the "
                 "paths it names are not read (a manifest anyone could have written must not direct reads)", "source")


def check_name(check: Check) -> str:
    return f"{check.exhibit} {check.what}" if check.exhibit else check.what


def verdict(checks: list[Check]) -> str:
    """The final sentence: VERIFIED only when every named check holds, otherwise the names of those that fail."""
    failed = [check for check in checks if not check.ok]
    if not checks:
        return "NOT VERIFIED: no check was made"
    if not failed:
        return f"VERIFIED: {len(checks)} checks hold"
    return f"NOT VERIFIED: {', '.join(check_name(c) for c in failed)} ({len(failed)} of {len(checks)} checks failed)"


def custody_verdict(checks: list[Check]) -> str:
    """The ledger's sentence (intact, broken, or intact but not signed by a trusted key) from verify_case's checks."""
    return custody.chain_verdict([custody.ChainCheck(c.what, c.ok, c.detail, c.kind.removeprefix("custody "))
                                  for c in checks if not c.exhibit and c.kind.startswith("custody ")])


def printed_lines(checks: list[Check], exhibits_checked: int, summary: bool = False) -> list[str]:
    """What `exhibit verify` prints, escaped for a terminal: OK/FAIL lines grouped by exhibit (with --summary one
    line per exhibit and only its failures), the ledger's sentence, the count, and the verdict last."""
    groups: dict[str, list[Check]] = {}
    for check in checks:
        groups.setdefault(check.exhibit, []).append(check)
    lines = []
    for exhibit, group in groups.items():
        failed = [c for c in group if not c.ok]
        if summary:
            state = f"NOT VERIFIED ({len(failed)} of {len(group)} checks failed)" if failed else f"VERIFIED ({len(group)} checks)"
            lines.append(f"{display(exhibit) if exhibit else 'case (custody ledger)'}: {state}")
        for check in failed if summary else group:
            prefix = f"{display(check.exhibit)}: " if check.exhibit else ""
            lines.append(f"{'OK  ' if check.ok else 'FAIL'} {prefix}{display_message(check.what)}: {display_message(check.detail)}")
    lines.append(display_message(custody_verdict(checks)))
    lines.append(f"{exhibits_checked} exhibit(s) checked, {sum(not c.ok for c in checks)} check(s) failed")
    lines.append(display_message(verdict(checks)))
    return lines


def rehash_source(folder: Path) -> list[Check]:
    """Hash the source again and compare with what the seal recorded: its container files, or for a folder
    source every file artefacts.parquet lists with a SHA-256, read inside that folder without following links."""
    name = folder.name
    try:
        manifest = load_manifest(folder)
    except ManifestError as error:
        return [Check(name, "source", False, str(error), "source")]
    source = manifest.get("source")
    if not isinstance(source, dict):
        return [Check(name, "source", False, "the manifest records no source", "source")]
    if source.get("kind") == "directory":
        return _rehash_folder(folder, source.get("path"))
    files = source.get("container_files")
    if not files:
        return [Check(name, "source", False, "the manifest records no container files to hash again (hashing was off, or a folder "
                                            "source sealed before its kind was recorded)", "source")]
    if not isinstance(files, list):
        return [Check(name, "source", False, f"source.container_files is {type(files).__name__}, not a list", "source")]
    checks = []
    for entry in files:
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or not isinstance(entry.get("sha256_before"), str):
            checks.append(Check(name, "source", False, f"malformed container file entry {brief(entry)}", "source"))
            continue
        digest, failure = _digest(partial(open_regular, entry["path"]))
        if failure is not None:
            checks.append(Check(name, f"source {entry['path']}", False, failure, "source"))
            continue
        same = digest == entry["sha256_before"]
        checks.append(Check(name, f"source {entry['path']}", same,
                            f"sha256 {digest}" + ("" if same else f" != recorded {entry['sha256_before']}"), "source"))
    return checks


def _digest(opener: Callable[[], int]) -> tuple[str | None, str | None]:
    """SHA-256 of the file `opener` opens (refusing links and non-regular files), or why there is none."""
    try:
        descriptor = opener()
    except Refused as error:
        return None, str(error)
    try:
        return sha256_of(descriptor)[0], None
    except OSError as error:
        return None, f"cannot be read: {error.strerror or error}"
    finally:
        os.close(descriptor)


def _rehash_folder(folder: Path, source_path: object) -> list[Check]:
    name = folder.name
    if not isinstance(source_path, str):
        return [Check(name, "source", False, f"source.path is {brief(source_path)}, not a folder path", "source")]
    what = f"source folder {source_path}"
    descriptor = None
    try:
        descriptor = open_inside(folder, [b"artefacts.parquet"])
        with os.fdopen(descriptor, "rb") as handle:
            table = pq.read_table(handle, columns=["path_bytes", "entry_type", "data_stream", "sha256"])
    except Refused as error:
        return [Check(name, what, False, f"artefacts.parquet {error}", "source")]
    except (OSError, pyarrow.ArrowException, ValueError, KeyError) as error:
        return [Check(name, what, False, f"artefacts.parquet cannot be read: {error}", "source")]
    checks = []
    listed = 0
    for row in table.to_pylist():
        if row["entry_type"] != "file" or row["data_stream"] is not None or not row["sha256"]:
            continue
        listed += 1
        relative = row["path_bytes"].decode("utf-8", errors="surrogateescape")
        parts = [p for p in row["path_bytes"].split(b"/") if p]
        digest, failure = _digest(partial(open_inside, Path(source_path), parts))
        if failure is not None:
            checks.append(Check(name, f"source file {relative}", False, failure, "source"))
            continue
        if digest != row["sha256"]:
            checks.append(Check(name, f"source file {relative}", False, f"sha256 {digest} != recorded {row['sha256']}", "source"))
    failed = len(checks)
    checks.append(Check(name, what, failed == 0 and listed > 0,
                        f"{listed - failed} of {listed} files listed with a SHA-256 in artefacts.parquet hash as recorded", "source"))
    return checks


def recorded_root_digest(folder: Path) -> str | None:
    try:
        digest = load_manifest(folder).get("root_digest")
    except ManifestError:
        return None
    return digest if isinstance(digest, str) else None


_PART_TYPES = {"size": int, "sha256": str, "rows": int}


def _check_part(folder: Path, position: int, part: object, add) -> None:
    if not isinstance(part, dict):
        add(f"part #{position}", False, f"the manifest's part entry is a {type(part).__name__}, not an object: {brief(part)}", "part")
        return
    problem = name_problem(part.get("name"))
    if problem is not None:
        add(f"part #{position}", False, problem, "part")
        return
    label = f"part {part['name']}"
    wrong = [f"{key} {brief(part.get(key))} is not {kind.__name__}" for key, kind in _PART_TYPES.items()
             if type(part.get(key)) is not kind]
    if wrong:
        add(label, False, f"malformed part entry: {'; '.join(wrong)}", "part")
        return
    path = folder / part["name"]
    if path.is_symlink():
        add(label, False, f"is a symbolic link (to {os.readlink(path)!r}); not followed", "part")
        return
    try:
        descriptor = open_inside(folder, [os.fsencode(part["name"])])
    except Refused as error:
        add(label, False, "listed in the manifest but missing" if str(error) == "missing" else str(error), "part")
        return
    with os.fdopen(descriptor, "rb") as handle:
        try:
            digest, size = sha256_of(descriptor)
            os.lseek(descriptor, 0, os.SEEK_SET)
        except OSError as error:
            add(label, False, f"cannot be read: {error.strerror or error}", "part")
            return
        try:
            rows = pq.ParquetFile(handle).metadata.num_rows
        except (OSError, ValueError, pyarrow.ArrowException) as error:
            rows = f"unreadable ({error})"
    problems = []
    if size != part["size"]:
        problems.append(f"size {size} != recorded {part['size']}")
    if digest != part["sha256"]:
        problems.append(f"sha256 {digest} != recorded {part['sha256']}")
    if rows != part["rows"]:
        problems.append(f"rows {rows} != recorded {part['rows']}")
    add(label, not problems, "; ".join(problems) or f"{size} bytes, {rows} rows, sha256 {digest}", "part")


def _check_signature(manifest: dict, computed: str, trusted: list[Ed25519PublicKey], add) -> None:
    signature = manifest.get("signature")
    if not signature:
        add("signature", False, "the manifest is unsigned")
        return
    if not isinstance(signature, dict) or not isinstance(signature.get("value"), str):
        add("signature", False, f"malformed signature entry {brief(signature)}")
        return
    wanted = short(signature.get("public_key_fingerprint"))
    keys = [key for key in trusted if fingerprint(key) == wanted]
    if not trusted:
        add("signature", False, f"signed by key {wanted}, not checked: no trusted key given (a signature by a key nobody trusted proves nothing)")
        return
    if not keys:
        add("signature", False, f"signed by key {wanted}, which is not among the trusted keys (a valid signature by an unknown key proves nothing)")
        return
    try:
        keys[0].verify(base64.b64decode(signature["value"], validate=True), bytes.fromhex(computed))
    except (InvalidSignature, binascii.Error, ValueError):
        add("signature", False, f"signature by trusted key {wanted} does not match the manifest")
        return
    add("signature", True, f"valid Ed25519 signature by trusted key {wanted}")
