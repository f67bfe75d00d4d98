"""Case-level work over every sealed exhibit of a case: query, search, correlate, timeline, hash sets."""
