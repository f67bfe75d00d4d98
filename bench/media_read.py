#!/usr/bin/env python3
"""Read the metadata of every file named in LIST (one path per line) with Exhibit's media readers,
in one process, the way `exiftool -j -n -@ LIST` does in its batch mode; prints one JSON summary."""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from parsers.artefact import close_host_source, host_media_source  # noqa: E402
from parsers.media.driver import read_media  # noqa: E402


def main(list_file: str) -> int:
    files = [line for line in Path(list_file).read_text(encoding="utf-8").splitlines() if line]
    read = located = warnings = 0
    for name in files:
        source = host_media_source(Path(name))
        try:
            result = read_media(source)
        finally:
            close_host_source(source)
        read += result.record is not None
        located += result.record is not None and result.record.gps_latitude is not None
        warnings += len(result.warnings)
    print(json.dumps({"files": len(files), "read": read, "with_position": located, "warnings": warnings}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
