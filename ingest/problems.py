"""Problems met during a run, kept as rows for errors.parquet: a failure is data, never only a log line."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from ingest.stopping import raise_if_stopped
from manifests.text import display_message


@dataclass
class Problems:
    """Ordered problem rows; the order is the order of discovery, which is deterministic."""

    rows: list[dict] = dataclasses.field(default_factory=list)

    def add(
        self,
        stage: str,
        kind: str,
        severity: str,
        message: str,
        *,
        volume_index: int | None = None,
        path: str | None = None,
        path_spec: str | None = None,
        offset: int | None = None,
        length: int | None = None,
        parser: str | None = None,
        store_table: str | None = None,
        store_row_id: int | None = None,
        store_field: str | None = None,
    ) -> None:
        raise_if_stopped()  # a failure seen while a stop is pending is the stop's doing
        self.rows.append(
            {
                "stage": stage,
                "error_kind": kind,
                "severity": severity,
                "volume_index": volume_index,
                "path": path,
                "path_spec": path_spec,
                "offset": offset,
                "length": length,
                "message": display_message(message),
                "parser": parser,
                "store_table": store_table,
                "store_row_id": store_row_id,
                "store_field": store_field,
            }
        )

    def count(self, severity: str) -> int:
        return sum(1 for row in self.rows if row["severity"] == severity)
