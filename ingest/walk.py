"""Walk every volume and cut what it finds into units of work.

Each volume is walked by The Sleuth Kit where TSK opens its file system, by dfVFS otherwise, or
as a folder or an archive. Every entry becomes an artefacts row at once, numbered in walk order;
the entries with content to read are grouped into units (`ingest.work.Unit`), which the content
phase hands to the runner. The walk is deterministic, so the same source and configuration always
give the same rows, units and unit ids: that is what lets a resumed run pick up finished units.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from ingest import archive_walk, dfvfs_walk, folder_walk, itunes_backup, tsk
from ingest.config import Config
from ingest.problems import Problems
from ingest.scan import Layout, Volume, tsk_file_system_name
from ingest.work import VolumeRecipe

TSK_FILE_SYSTEMS = frozenset({"EXT", "NTFS", "FAT", "HFS", "TSK", "EXFAT", "ISO9660"})
CONTENT_FIELDS = ("md5", "sha1", "sha256", "sha512", "mime_type", "magic_description", "is_extension_mismatch",
                  "read_error_kind", "read_error_offset", "read_error_length", "read_error_message")


@dataclass
class Batch:
    """Consecutive artefacts rows of one volume, and the unit that reads their content (None: nothing to read)."""

    recipe: VolumeRecipe
    rows: list[dict]
    items: list  # [entry_index, target, name as latin-1 text] per entry with content to read
    sizes: list[int]  # content bytes of each item
    unit_id: str | None


def volume_items(volume: Volume, layout: Layout, problems: Problems) -> Iterator[tuple[VolumeRecipe, Iterator]]:
    """The walker for a volume: TSK where it opens the file system, dfVFS otherwise."""
    if volume.role == "archive":
        recipe = VolumeRecipe(index=volume.index, walker="archive", root=os.fsdecode(layout.source.absolute()))
        yield recipe, archive_walk.walk(layout.source, volume, "GZIP" in layout.format_chain, problems.add)
        return
    if volume.role == "folder":
        recipe = VolumeRecipe(index=volume.index, walker="folder", root=volume.location)
        folder = Path(volume.location)
        logical_paths = None
        if itunes_backup.is_itunes_backup(folder):
            layout.kind = "itunes_backup"
            logical_paths = _backup_logical_paths(folder, volume, problems)
        yield recipe, folder_walk.walk(folder, problems.add, volume.index, logical_paths)
        return
    if volume.file_system in TSK_FILE_SYSTEMS:
        tsk_volume = tsk.tsk_volume_for(volume.path_spec, volume.offset)
        try:
            fs, read_volume = tsk_volume.open_for_walk()
        except tsk.TSK_READ_ERRORS as error:
            problems.add("walk", "tsk_refused", "warning", f"The Sleuth Kit cannot open this {volume.file_system} file system ({error}); "
                         "walked with dfVFS instead (allocated entries only)", volume_index=volume.index, path_spec=volume.path_spec_json())
        else:
            if volume.file_system == "TSK":
                volume.file_system = tsk_file_system_name(int(fs.info.ftype))
            recipe = VolumeRecipe(index=volume.index, walker="tsk", tsk_parent_spec=tsk_volume.parent_spec,
                                  tsk_raw_file=tsk_volume.raw_file, tsk_offset=tsk_volume.offset)
            yield recipe, tsk.walk(fs, tsk_volume.parent_spec, problems.add, volume.index, read_volume)
            return
    recipe = VolumeRecipe(index=volume.index, walker="dfvfs")
    yield recipe, dfvfs_walk.walk(volume.path_spec, problems.add, volume.index)


def _backup_logical_paths(folder: Path, volume: Volume, problems: Problems) -> dict[bytes, str] | None:
    """Stored name -> DOMAIN/relativePath from Manifest.db (read from a copy, never in place)."""
    with tempfile.TemporaryDirectory(prefix="exhibit-backup-", dir=os.environ.get("EXHIBIT_SCRATCH")) as scratch:
        try:
            manifest = itunes_backup.read_manifest(folder, Path(scratch))
        except (itunes_backup.BackupError, OSError) as error:
            problems.add("walk", "backup_manifest_unreadable", "error", f"iTunes backup manifest: {error}; files are catalogued by stored name only",
                         volume_index=volume.index, path="/Manifest.db")
            return None
    for row_error in manifest.errors:
        problems.add("walk", "backup_manifest_row", "warning", f"Manifest.db row {row_error.row_id} field {row_error.field}: {row_error.why}",
                     volume_index=volume.index, path="/Manifest.db")
    return {stored.encode("utf-8", errors="surrogateescape"): entry.logical_path for stored, entry in manifest.files.items()}


def volume_id(volume: Volume, layout: Layout) -> str:
    """The location that tells a volume apart: its own, or its nearest ancestor's (/p1, /lvm1, /vss2); '/' for a bare one."""
    if volume.role == "folder":
        return "/"
    node: Volume | None = volume
    while node is not None:
        if node.location not in (None, "/", "\\"):
            return node.location
        node = layout.volumes[node.parent_index] if node.parent_index is not None else None
    return "/"


class UnitCutter:
    """Numbers every entry in walk order and cuts the entries with content into units.

    A unit ends at batch_size entries or batch_bytes of content, so a few big files are spread
    over the workers instead of landing in one unit on one core."""

    def __init__(self, config: Config, ids: dict) -> None:
        self.config = config
        self.ids = ids
        self.entry_index = 0
        self.unit_number = 0

    def batches(self, volume: Volume, recipe: VolumeRecipe, items: Iterator, location: str | None) -> Iterator[Batch]:
        base = {**self.ids, "volume_index": volume.index, "volume_id": location, "volume_type": volume.file_system,
                "volume_offset": volume.offset, "logical_path": None}
        first_index = self.entry_index
        batch = self._empty(recipe)
        unit_bytes = 0
        for item in items:
            row = self._row(base, item.row)
            if item.target is not None:
                if row["is_deleted"] and not self.config.hash_deleted:
                    row["content_status"] = "not_hashed_deleted"
                else:
                    batch.items.append((self.entry_index, list(item.target), row["name_bytes"].decode("latin-1")))
                    batch.sizes.append(row["size"] or 0)
                    unit_bytes += row["size"] or 0
            batch.rows.append(row)
            self.entry_index += 1
            if len(batch.rows) >= self.config.batch_size or unit_bytes >= self.config.batch_bytes:
                yield self._named(batch)
                batch, unit_bytes = self._empty(recipe), 0
        if batch.rows:
            yield self._named(batch)
        volume.entries = self.entry_index - first_index

    def _row(self, base: dict, walked: dict) -> dict:
        row = {**base, **walked}
        row["entry_index"] = self.entry_index
        row.setdefault("content_status", "no_content")
        row.setdefault("logical_path", None)
        for name in CONTENT_FIELDS:
            row.setdefault(name, None)
        return row

    @staticmethod
    def _empty(recipe: VolumeRecipe) -> Batch:
        return Batch(recipe=recipe, rows=[], items=[], sizes=[], unit_id=None)

    def _named(self, batch: Batch) -> Batch:
        if batch.items:
            batch.unit_id = f"{batch.recipe.index}-{self.unit_number}"
            self.unit_number += 1
        return batch


__all__ = ["Batch", "CONTENT_FIELDS", "TSK_FILE_SYSTEMS", "UnitCutter", "volume_id", "volume_items"]
