"""The one kind of task every runner executes, and what a runner gives back for it.

A task is a module-level function applied to a list of plain-data items (a content unit's
artefacts, one chat store, one evidence-hash job) that returns one result list for them, in item
order. Because the items are plain data, any piece of a task is a task too: a runner that loses a
worker on a task retries it once, then runs it in halves down to the single item, and gives up
only the items that still fail. The local pool (`ingest.watchdog`) and the cluster runner
(`ingest.cluster`) both keep this contract, so the ingest does not care which one runs it.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

# Why an item was given up; each becomes an errors row of that error_kind.
UNIT_CRASHED = "unit_crashed"  # the worker died (a segfault in a native library, os.abort) or raised
UNIT_TIMEOUT = "unit_timeout"  # the task ran past its time limit and its worker was killed
UNIT_MEMORY = "unit_memory"  # the worker went over its memory cap (or ran out of memory)
FAILURE_KINDS = (UNIT_CRASHED, UNIT_TIMEOUT, UNIT_MEMORY)

TaskFunction = Callable[[list], list]


@dataclass(frozen=True)
class Limits:
    """How long a task may run and how much memory its worker may use."""

    base_seconds: float = 300.0  # every task gets at least this long
    seconds_per_gib: float = 600.0  # and this much more per GiB of content it reads (a floor of ~1.7 MiB/s)
    worker_memory_bytes: int = 4 << 30  # resident memory a worker may reach before it is killed; 0: no cap

    def seconds_for(self, content_bytes: int) -> float:
        return self.base_seconds + self.seconds_per_gib * max(0, content_bytes) / (1 << 30)


@dataclass(frozen=True)
class Failure:
    """One item given up after its retry and every split failed."""

    item: Any
    kind: str  # one of FAILURE_KINDS
    detail: str  # what was seen: the signal that killed the worker, the limit passed, the exception


@dataclass
class Outcome:
    """What came of one task: the results of every item that ran, in item order, and the items given up."""

    results: list = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    retries: int = 0  # pieces of the task that were run again after a failure


class Runner(Protocol):
    """Runs tasks somewhere (this machine's worker processes, a cluster); used as a context manager."""

    def submit(self, function: TaskFunction, items: list, sizes: list[int]) -> "Future[Outcome]":
        """Run `function(items)`; `sizes` are the items' content bytes, for the time limit and the halves."""
        ...

    def __enter__(self) -> "Runner": ...

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None: ...


__all__ = ["FAILURE_KINDS", "Failure", "Limits", "Outcome", "Runner", "TaskFunction", "UNIT_CRASHED", "UNIT_MEMORY", "UNIT_TIMEOUT"]
