"""Effective configuration: pipeline.toml defaults, an optional --config file, then CLI options.

The digest of the effective configuration goes into every output, so that a run can be tied to
the exact choices it made.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from ingest.tasks import Limits
from manifests.schemas import HASH_ALGORITHMS
from parsers.identifiers import phones

DEFAULTS_FILE = Path(__file__).with_name("pipeline.toml")
VSS_POLICIES = ("none", "all")
ISOLATIONS = ("process", "inline")


class ConfigError(ValueError):
    """A configuration value is missing, unknown or of the wrong kind."""


@dataclass(frozen=True)
class Config:
    output_dir: str
    workers: int
    batch_size: int
    batch_bytes: int
    vss: str
    hash_deleted: bool
    verify_source_files: bool
    hash_media: bool
    algorithms: tuple[str, ...]
    chunk_size: int
    magic_bytes: int
    examiner: str
    lab: str
    signing_key: str = ""
    chats: bool = True
    app_keys_file: str = ""
    media: bool = True
    # [chats] query budget of one chat database: seconds SQLite may spend on it, rows it may return.
    chat_database_seconds: float = 60.0
    chat_database_rows: int = 100_000_000
    # [identifiers] extraction from messages and media, and the regions national phone numbers are resolved against.
    identifiers: bool = True
    identifier_regions: tuple[str, ...] = ()
    # [watchdog] where tasks run ("process": watched workers; "inline": this process) and their limits.
    isolation: str = "process"
    unit_seconds: float = 300.0
    seconds_per_gib: float = 600.0
    worker_memory_mb: int = 4096
    extra: dict[str, Any] = field(default_factory=dict)

    def digest(self) -> str:
        """SHA-256 of the canonical JSON of every setting."""
        text = json.dumps(asdict(self), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def limits(self) -> Limits:
        """The time and memory limits of one task piece in the watchdog pool."""
        return Limits(base_seconds=self.unit_seconds, seconds_per_gib=self.seconds_per_gib, worker_memory_bytes=self.worker_memory_mb << 20)

    def effective_workers(self) -> int:
        return self.workers if self.workers > 0 else (os.cpu_count() or 1)

    def with_overrides(self, **overrides: Any) -> "Config":
        """A copy with the given non-None settings replaced, checked like the file's."""
        changed = {k: v for k, v in overrides.items() if v is not None}
        return _validated(replace(self, **changed))


def _section(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}] must be a table")
    return value


def _merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    merged = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key].update(value)
        else:
            merged[key] = value
    return merged


def _from_dict(data: dict[str, Any]) -> Config:
    ingest, hashing = _section(data, "ingest"), _section(data, "hashing")
    identify, people = _section(data, "identify"), _section(data, "people")
    try:
        config = Config(
            output_dir=str(ingest["output_dir"]),
            workers=int(ingest["workers"]),
            batch_size=int(ingest["batch_size"]),
            batch_bytes=int(ingest["batch_bytes"]),
            vss=str(ingest["vss"]),
            hash_deleted=bool(ingest["hash_deleted"]),
            verify_source_files=bool(ingest["verify_source_files"]),
            hash_media=bool(ingest["hash_media"]),
            algorithms=tuple(str(a).lower() for a in hashing["algorithms"]),
            chunk_size=int(hashing["chunk_size"]),
            magic_bytes=int(identify["magic_bytes"]),
            examiner=str(people["examiner"]),
            lab=str(people["lab"]),
            signing_key=str(_section(data, "seal").get("signing_key", "")),
            chats=_flag(_section(data, "chats")["enabled"], "chats", "enabled"),
            app_keys_file=str(_section(data, "chats").get("app_keys_file", "")),
            media=_flag(_section(data, "media")["enabled"], "media", "enabled"),
            chat_database_seconds=float(_section(data, "chats").get("database_seconds", 60.0)),
            chat_database_rows=int(_section(data, "chats").get("database_rows", 100_000_000)),
            identifiers=_flag(_section(data, "identifiers").get("enabled", True), "identifiers", "enabled"),
            identifier_regions=_regions(_section(data, "identifiers").get("default_regions", [])),
            isolation=str(_section(data, "watchdog").get("isolation", "process")),
            unit_seconds=_number(_section(data, "watchdog").get("unit_seconds", 300.0), "unit_seconds"),
            seconds_per_gib=_number(_section(data, "watchdog").get("seconds_per_gib", 600.0), "seconds_per_gib"),
            worker_memory_mb=int(_number(_section(data, "watchdog").get("worker_memory_mb", 4096), "worker_memory_mb")),
        )
    except KeyError as missing:
        raise ConfigError(f"setting {missing} is missing") from None
    return _validated(config)


def _flag(value: Any, section: str, key: str) -> bool:
    """A setting that must be a TOML boolean: bool("false") is True, so a quoted "false" would silently switch it on."""
    if not isinstance(value, bool):
        raise ConfigError(f"[{section}] {key} must be true or false (a TOML boolean, unquoted); got {value!r}")
    return value


def _number(value: Any, key: str) -> float:
    """A [watchdog] number: a TOML integer or float (a bool or a quoted number is refused)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"[watchdog] {key} must be a number; got {value!r}")
    return value


def _regions(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"[identifiers] default_regions must be a list of region codes such as [\"PH\"]; got {value!r}")
    return tuple(value)


def _validated(config: Config) -> Config:
    unknown = [a for a in config.algorithms if a not in HASH_ALGORITHMS]
    if unknown or not config.algorithms:
        raise ConfigError(f"hash algorithms must be a non-empty list from {', '.join(HASH_ALGORITHMS)}; got {list(config.algorithms)}")
    if config.vss not in VSS_POLICIES:
        raise ConfigError(f"vss must be one of {', '.join(VSS_POLICIES)}; got {config.vss!r}")
    if config.isolation not in ISOLATIONS:
        raise ConfigError(f"[watchdog] isolation must be one of {', '.join(ISOLATIONS)}; got {config.isolation!r}")
    if not config.unit_seconds > 0 or not config.seconds_per_gib >= 0 or config.worker_memory_mb < 0:
        raise ConfigError("[watchdog] unit_seconds > 0, seconds_per_gib >= 0 and worker_memory_mb >= 0 are required")
    if config.chat_database_seconds <= 0 or config.chat_database_rows < 1:
        raise ConfigError("[chats] database_seconds > 0 and database_rows >= 1 are required")
    unsupported = [r for r in config.identifier_regions if not phones.supported_region(r)]
    if unsupported:
        raise ConfigError(f"[identifiers] default_regions: {unsupported} are not region codes phonenumbers knows (ISO 3166 alpha-2, upper case, e.g. PH, US, GB)")
    if config.workers < 0 or config.batch_size < 1 or config.batch_bytes < 1 or config.chunk_size < 4096 or config.magic_bytes < 1:
        raise ConfigError("workers >= 0, batch_size >= 1, batch_bytes >= 1, chunk_size >= 4096 and magic_bytes >= 1 are required")
    return config


def load_config(path: Path | None = None) -> Config:
    """Defaults from the shipped pipeline.toml, overlaid by the file at `path` if given."""
    with open(DEFAULTS_FILE, "rb") as handle:
        data = tomllib.load(handle)
    if path is not None:
        try:
            with open(path, "rb") as handle:
                data = _merge(data, tomllib.load(handle))
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{path}: {error}") from None
    return _from_dict(data)
