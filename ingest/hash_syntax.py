"""The ALG:HEX syntax of an expected media hash, shared by `exhibit ingest` and `exhibit case ingest`."""

from __future__ import annotations

import re

HASH_LENGTHS = {"md5": 32, "sha1": 40, "sha256": 64}


def parse_expected_hash(value: str) -> tuple[str, str]:
    """(algorithm, lower-case hex digest); ValueError naming the rule for anything else."""
    algorithm, _, digest = value.partition(":")
    algorithm = algorithm.lower().replace("-", "")
    length = HASH_LENGTHS.get(algorithm)
    if length is None or not re.fullmatch(rf"[0-9a-fA-F]{{{length}}}", digest):
        raise ValueError(f"{value!r}: use ALG:HEX with ALG one of md5, sha1, sha256 and a full hex digest")
    return algorithm, digest.lower()
