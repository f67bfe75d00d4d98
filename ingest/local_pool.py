"""The local runner: tasks (`ingest.tasks`) in a process pool, or in the calling process when one worker is asked for."""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from ingest import confine
from ingest.content import ContentSettings
from ingest.tasks import Outcome, TaskFunction
from ingest.work import init_pool_worker, init_worker, release_worker


def _as_outcome(future: Future) -> "Future[Outcome]":
    outcome: Future = Future()

    def done(finished: Future) -> None:
        error = finished.exception()
        if error is not None:
            outcome.set_exception(error)
        else:
            outcome.set_result(Outcome(results=finished.result()))

    future.add_done_callback(done)
    return outcome


class LocalPool:
    """A process pool, or the calling process itself when one worker is asked for.

    Leaving it normally waits for the workers to finish; leaving it on an exception (a stop
    signal, a full disk) kills them first, so a worker busy hashing a big file does not hold the
    run, or the evidence, for minutes."""

    def __init__(self, workers: int, settings: ContentSettings, credentials: list, scratch: Path,
                 confinement: confine.Confinement | None = None) -> None:
        self.pool = None
        if workers > 1:
            self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("forkserver"),
                                            initializer=init_pool_worker,
                                            initargs=(settings, credentials, str(scratch), os.getpid(), confinement))
        else:
            init_worker(settings, credentials, confinement)

    def submit(self, function: TaskFunction, items: list, sizes: list[int]) -> "Future[Outcome]":
        if self.pool is not None:
            return _as_outcome(self.pool.submit(function, items))
        future: Future = Future()
        future.set_result(Outcome(results=function(items)))
        return future

    def __enter__(self) -> "LocalPool":
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if self.pool is None:
            release_worker()  # the in-process "worker" must not keep evidence handles open
            confine.activate(None)  # the run's confinement ends with the run
            return
        try:
            if exc_type is not None:
                self._kill_workers()
            self.pool.shutdown(wait=True, cancel_futures=True)
        finally:
            confine.activate(None)  # the run's confinement ends with the run

    def _kill_workers(self) -> None:
        # Python 3.11 has no public way to stop running tasks (3.14 adds terminate_workers); the
        # pool's own process table is the only handle on them.
        processes = list((self.pool._processes or {}).values())
        for process in processes:
            process.kill()
        for process in processes:
            process.join(timeout=5)


__all__ = ["LocalPool"]
