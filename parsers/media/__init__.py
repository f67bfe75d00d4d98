"""Media metadata readers: one module per family, each binding `READER`; see base.py."""
