"""Chat parsers: one module per app, each binding `PARSER`; see base.py for the declaration."""
