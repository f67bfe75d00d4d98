"""The correlation table in `exhibit query`'s formats (case/output.py: table, csv, json lines, parquet).

The rows are handed over as a query Result in the CORRELATIONS schema, so the same writers give the
same escaping, formula neutralising, time text and atomic writing as every query.
"""

from __future__ import annotations

from typing import Iterator

import pyarrow as pa

from case.correlate import CORRELATIONS, Correlation
from case.query import Result

FORMATS = ("table", "csv", "json", "parquet")


def result(correlation: Correlation) -> Result:
    """The ranked links as a Result streaming Arrow batches in the CORRELATIONS schema."""
    schema = CORRELATIONS.arrow_schema()
    reader = correlation.arrow_batches()

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in reader:
            yield batch.cast(schema)

    return Result(schema, pa.RecordBatchReader.from_batches(schema, batches()))
