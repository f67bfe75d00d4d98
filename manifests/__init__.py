"""Output side of Exhibit: record schemas, Parquet writing, and (later) seal, custody and reports."""
