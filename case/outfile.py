"""A command's output written whole or not at all: to --output through a temporary file beside it
(manifests/files.py `atomic_output`), or to standard output only once it is complete (spooled in a
temporary file meanwhile, so a run that fails half way prints nothing)."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from typing import BinaryIO, Callable, TypeVar

from manifests.files import atomic_output

T = TypeVar("T")


def write_whole(produce: Callable[[BinaryIO], T], output: Path | None, stdout: BinaryIO) -> T:
    """What `produce` writes, to `output` (atomically) or, once complete, to `stdout`; `produce`'s answer."""
    if output is not None:
        with atomic_output(output) as handle:
            return produce(handle)
    with tempfile.TemporaryFile() as spool:
        answer = produce(spool)
        spool.seek(0)
        shutil.copyfileobj(spool, stdout)
        stdout.flush()
    return answer
