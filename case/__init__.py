"""Case-level commands over a whole case folder: query, search, correlate, timeline, hash sets."""
