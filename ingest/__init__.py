"""Evidence side of Exhibit: open sources, walk volumes, hash and identify content, orchestrate, CLI."""

__version__ = "0.1.0"
