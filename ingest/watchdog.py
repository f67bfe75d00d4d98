"""The watchdog pool: worker processes that each run one piece of a task, so a fault costs one unit.

A process pool loses the whole run when one worker segfaults in a native library (The Sleuth
Kit, libyal) or hangs on a hostile file. Here every worker runs ONE piece at a time and talks to a
coordinator thread over its own pipe; the coordinator waits on the pipes and on the processes'
sentinels, so it sees at once a result, an exception, a worker that died (and of which signal), a
piece past its time limit or a worker over its memory cap (the last two it kills with SIGKILL).
A dead worker is replaced by a fresh one. A failed piece is retried once in a fresh worker, then
run in halves, each half the same way, down to the single item, which alone is given up as a
`tasks.Failure`; the rest of the task's results come back in item order (`tasks.Outcome`).

`InlineRunner` keeps the same contract in the calling process, with no watchdog, for debugging
and for tests that monkeypatch parsers.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing import connection
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from multiprocessing.reduction import ForkingPickler
from typing import Callable

from ingest.tasks import UNIT_CRASHED, UNIT_MEMORY, UNIT_TIMEOUT, Failure, Limits, Outcome, TaskFunction

MEMORY_POLL_SECONDS = 0.2  # how often a busy worker's resident memory is read
STOP_SECONDS = 5.0  # how long a worker told to stop may take before it is killed
DETAIL_CHARACTERS = 1000  # an exception message is cut here: hostile input can make it huge
ISOLATIONS = ("process", "inline")

# What a result sent back by a worker can raise while it is unpickled in the coordinator.
_UNPICKLE_ERRORS = (pickle.UnpicklingError, AttributeError, ImportError, TypeError, ValueError, IndexError, EOFError)
# What a piece's function or items can raise while they are pickled to be sent to a worker.
_PICKLE_ERRORS = (pickle.PicklingError, AttributeError, TypeError, ValueError, RecursionError)


class RunnerBroken(RuntimeError):
    """The runner cannot run tasks any more (a worker's initializer failed, or the runner was
    stopped); every task not finished gets this exception."""


# ---------------------------------------------------------------------------------------------
# The worker side


def _worker_main(conn: Connection, initializer: Callable[..., None] | None, initargs: tuple) -> None:
    """A worker's life: set up, say it is ready, then run one piece per message until told to stop.

    An initializer that raises ends the process before it is ready (its traceback goes to standard
    error); the coordinator then reports the runner as broken rather than starting it again forever.
    """
    if initializer is not None:
        initializer(*initargs)
    conn.send(("ready", os.getpid()))
    while True:
        try:
            message = conn.recv()
        except EOFError:  # the coordinator closed its end: nothing more will come
            return
        if message is None:
            return
        function, items = message
        conn.send_bytes(_run_piece(function, items))


def _run_piece(function: TaskFunction, items: list) -> bytes:
    """The pickled report of one piece: ("done", results), ("memory", detail) or ("raised", detail)."""
    try:
        return bytes(ForkingPickler.dumps(("done", function(items))))
    except MemoryError as error:
        return bytes(ForkingPickler.dumps(("memory", _exception_detail(error))))
    # The one place that catches anything: whatever the function (or pickling its results) raises
    # is the piece's failure, reported to the coordinator as data, and the worker lives on to say so.
    except BaseException as error:  # noqa: BLE001
        return bytes(ForkingPickler.dumps(("raised", _exception_detail(error))))


def _exception_detail(error: BaseException) -> str:
    """'module.Type: message', the message cut to DETAIL_CHARACTERS."""
    kind = type(error)
    name = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    message = str(error)
    if len(message) > DETAIL_CHARACTERS:
        message = message[:DETAIL_CHARACTERS] + f"... ({len(message)} characters)"
    return f"{name}: {message}" if message else name


# ---------------------------------------------------------------------------------------------
# The coordinator side


@dataclass(eq=False)
class _Task:
    """One submitted task and what its pieces gave so far."""

    function: TaskFunction
    items: list
    sizes: list[int]
    future: Future
    results: dict[int, list] = field(default_factory=dict)  # a finished piece's results, by its first item
    failures: list[tuple[int, Failure]] = field(default_factory=list)
    retries: int = 0
    open_pieces: int = 1
    started: bool = False

    def outcome(self) -> Outcome:
        results: list = []
        for start in sorted(self.results):
            results.extend(self.results[start])
        return Outcome(results=results, failures=[f for _, f in sorted(self.failures, key=lambda pair: pair[0])], retries=self.retries)


@dataclass(frozen=True)
class _Piece:
    """Items [start, stop) of a task; `retried` when this is the piece's second run."""

    task: _Task
    start: int
    stop: int
    retried: bool = False

    def items(self) -> list:
        return self.task.items[self.start:self.stop]

    def content_bytes(self) -> int:
        return sum(self.task.sizes[self.start:self.stop])


@dataclass(eq=False)
class _Worker:
    process: BaseProcess
    conn: Connection
    ready: bool = False
    fresh: bool = True  # has run no piece yet: the only kind a retry may go to
    dying: bool = False  # killed or told to stop; waiting for its sentinel
    piece: _Piece | None = None
    limit_seconds: float = 0.0
    deadline: float = 0.0


def _exit_detail(exitcode: int | None) -> str:
    """How a worker ended, in words: the signal's name, or the exit code."""
    if exitcode is None:
        return "the worker process ended without an exit status"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        return f"the worker process was killed by {name}"
    return f"the worker process exited with code {exitcode}"


def resident_bytes(pid: int) -> int | None:
    """The process's resident set size (VmRSS in /proc/PID/status), or None once it is gone."""
    try:
        with open(f"/proc/{pid}/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmRSS:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None  # a zombie has no VmRSS line


class Supervisor:
    """Runs tasks in watched worker processes (a `tasks.Runner`); use it as a context manager.

    `initializer(*initargs)` runs in every worker, again in each replacement; in the ingest it is
    `ingest.work.init_pool_worker`, which also makes sure no worker outlives this process, even
    on `kill -9`. Workers come from the forkserver context, so task functions must be importable
    module-level functions and items plain data. Leaving the context normally waits for every
    task; leaving it on an exception (a stop signal, a full disk) kills every worker at once, and
    tasks not finished get RunnerBroken.
    """

    def __init__(self, workers: int, initializer: Callable[..., None] | None, initargs: tuple, limits: Limits) -> None:
        if workers < 1:
            raise ValueError(f"a Supervisor needs at least one worker; got {workers}")
        self.workers = workers
        self.initializer = initializer
        self.initargs = initargs
        self.limits = limits
        self._context = multiprocessing.get_context("forkserver")
        self._inbox: deque[_Task] = deque()  # submitted, not yet seen by the coordinator
        self._queue: deque[_Piece] = deque()  # pieces to run, in order
        self._retry_queue: deque[_Piece] = deque()  # second runs, for fresh workers only
        self._open: set[_Task] = set()
        self._pool: list[_Worker] = []
        self._closing = False
        self._aborting = False
        self._broken: RunnerBroken | None = None
        self._next_memory_poll = 0.0
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self._thread = threading.Thread(target=self._coordinate, name="exhibit-watchdog", daemon=True)

    # -- the caller's side -------------------------------------------------------------------

    def __enter__(self) -> "Supervisor":
        self._thread.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if exc_type is not None:
            self._aborting = True
        self._closing = True
        self._wake()
        finished = False
        try:
            self._thread.join()  # a stop signal while waiting here still kills the workers (below)
            finished = True
        finally:
            if not finished:
                self._aborting = True
                self._wake()
                self._thread.join(timeout=STOP_SECONDS)
            os.close(self._wake_read)
            os.close(self._wake_write)

    def submit(self, function: TaskFunction, items: list, sizes: list[int]) -> "Future[Outcome]":
        """Run `function(items)` in the workers; the future's Outcome holds results in item order.

        `sizes` are the items' content bytes: they set each piece's time limit. A task with no
        items resolves at once to an empty Outcome.
        """
        if len(sizes) != len(items):
            raise ValueError(f"{len(items)} items but {len(sizes)} sizes")
        if self._broken is not None:
            raise self._broken
        if self._closing or not self._thread.is_alive():
            raise RuntimeError("submit() on a Supervisor that is not running (use it as a context manager)")
        future: Future = Future()
        if not items:
            future.set_result(Outcome())
            return future
        self._inbox.append(_Task(function, list(items), list(sizes), future))
        self._wake()
        return future

    def worker_pids(self) -> list[int]:
        """The process ids of the workers now alive (for tests and diagnostics)."""
        return [w.process.pid for w in list(self._pool) if w.process.pid is not None and not w.dying]

    def _wake(self) -> None:
        try:
            os.write(self._wake_write, b"\0")
        except BlockingIOError:  # the pipe is full: the coordinator is about to wake anyway
            pass

    # -- the coordinator thread ---------------------------------------------------------------

    def _coordinate(self) -> None:
        """The coordinator's loop: start workers, hand out pieces, watch, until closed or aborted."""
        try:
            while not self._aborting and not (self._closing and not self._open and not self._inbox) and self._broken is None:
                self._take_submissions()
                self._staff()
                self._dispatch()
                ready = connection.wait(self._waitables(), timeout=self._timeout())
                self._handle(ready)
                self._enforce_limits()
        except OSError as error:  # starting a worker or a pipe failed: nothing more can run
            self._broken = RunnerBroken(f"the watchdog pool stopped: {error}")
        finally:
            self._stop_workers(kill=self._aborting or self._broken is not None or bool(self._open or self._inbox))
            self._fail_unfinished()

    def _take_submissions(self) -> None:
        while self._inbox:
            task = self._inbox.popleft()
            self._open.add(task)
            self._queue.append(_Piece(task, 0, len(task.items)))

    def _staff(self) -> None:
        """Start workers until `workers` are alive (a dying one no longer counts)."""
        while sum(1 for w in self._pool if not w.dying) < self.workers:
            ours, theirs = self._context.Pipe(duplex=True)
            process = self._context.Process(target=_worker_main, args=(theirs, self.initializer, self.initargs),
                                            name="exhibit-watchdog-worker")
            process.start()
            theirs.close()
            self._pool.append(_Worker(process, ours))

    def _dispatch(self) -> None:
        """Give every idle worker a piece: a retry first if the worker is fresh, else the next in line."""
        for worker in self._pool:
            if worker.dying or not worker.ready or worker.piece is not None:
                continue
            piece = self._next_piece(worker.fresh)
            if piece is None:
                continue
            self._send(worker, piece)

    def _next_piece(self, fresh: bool) -> _Piece | None:
        while True:
            if fresh and self._retry_queue:
                piece = self._retry_queue.popleft()
            elif self._queue:
                piece = self._queue.popleft()
            else:
                return None
            task = piece.task
            if task.started:
                return piece
            task.started = True
            if task.future.set_running_or_notify_cancel():
                return piece
            self._open.discard(task)  # the caller cancelled it before it began

    def _send(self, worker: _Worker, piece: _Piece) -> None:
        try:
            payload = ForkingPickler.dumps((piece.task.function, piece.items()))
        except _PICKLE_ERRORS as error:
            self._failed(piece, UNIT_CRASHED, f"the piece could not be sent to a worker: {_exception_detail(error)}")
            return
        worker.fresh = False
        worker.piece = piece
        worker.limit_seconds = self.limits.seconds_for(piece.content_bytes())
        worker.deadline = time.monotonic() + worker.limit_seconds
        try:
            worker.conn.send_bytes(payload)
        except OSError:  # the worker died as it was given the piece; its sentinel says how, and the piece pays
            pass

    def _waitables(self) -> list:
        objects: list = [self._wake_read]
        for worker in self._pool:
            objects.append(worker.process.sentinel)
            if not worker.dying:
                objects.append(worker.conn)
        return objects

    def _timeout(self) -> float | None:
        busy = [w for w in self._pool if w.piece is not None]
        if not busy:
            return None
        now = time.monotonic()
        timeout = min(w.deadline for w in busy) - now
        if self.limits.worker_memory_bytes > 0:
            timeout = min(timeout, self._next_memory_poll - now)
        return max(0.0, timeout)

    def _handle(self, ready: list) -> None:
        if self._wake_read in ready:
            self._drain_wake()
        for worker in list(self._pool):
            if not worker.dying and worker.conn in ready:
                self._receive(worker)
        for worker in list(self._pool):
            if worker.process.sentinel in ready:
                self._reap(worker)

    def _drain_wake(self) -> None:
        try:
            while os.read(self._wake_read, 4096):
                pass
        except BlockingIOError:
            pass

    def _receive(self, worker: _Worker) -> None:
        """One message from a worker: it is ready, or its piece is done or failed."""
        try:
            message = worker.conn.recv()
        except (EOFError, OSError):  # the worker is gone; its sentinel says how
            worker.dying = True
            return
        except _UNPICKLE_ERRORS as error:
            message = ("raised", f"its results could not be read back: {_exception_detail(error)}")
        kind = message[0]
        if kind == "ready":
            worker.ready = True
            return
        piece, worker.piece = worker.piece, None
        if piece is None:
            return
        if kind == "done":
            self._done(piece, message[1])
        else:
            # A worker whose function raised is not trusted with the next piece (its state may be
            # half-changed, a MemoryError may have left it short): it is replaced.
            self._retire(worker)
            self._failed(piece, UNIT_MEMORY if kind == "memory" else UNIT_CRASHED, f"raised {message[1]}")

    def _reap(self, worker: _Worker) -> None:
        """A worker's process ended: charge its piece to the death, or call the runner broken."""
        if not worker.dying:
            self._drain_messages(worker)
        worker.process.join()
        exitcode = worker.process.exitcode
        worker.process.close()  # its sentinel and pipe fds: a long run may replace many workers
        worker.conn.close()
        self._pool.remove(worker)
        piece, worker.piece = worker.piece, None
        if piece is not None:
            self._failed(piece, UNIT_CRASHED, _exit_detail(exitcode))
        elif not worker.ready and not self._aborting:
            self._broken = RunnerBroken(f"a worker process ended before it was ready ({_exit_detail(exitcode)}): "
                                        "its initializer failed; its traceback is on standard error")

    def _drain_messages(self, worker: _Worker) -> None:
        """Read what a dead worker sent before it died: a result that arrived before the death counts."""
        try:
            while not worker.dying and worker.conn.poll(0):
                self._receive(worker)
        except (EOFError, OSError):
            pass

    def _retire(self, worker: _Worker) -> None:
        worker.process.kill()
        worker.dying = True

    def _enforce_limits(self) -> None:
        now = time.monotonic()
        for worker in self._pool:
            if worker.piece is not None and now >= worker.deadline:
                self._kill(worker, UNIT_TIMEOUT, f"ran past its time limit of {worker.limit_seconds:g} s; the worker was killed")
        cap = self.limits.worker_memory_bytes
        if cap <= 0 or now < self._next_memory_poll:
            return
        self._next_memory_poll = now + MEMORY_POLL_SECONDS
        for worker in self._pool:
            if worker.piece is None or worker.process.pid is None:
                continue
            rss = resident_bytes(worker.process.pid)
            if rss is not None and rss > cap:
                self._kill(worker, UNIT_MEMORY, f"the worker's resident memory reached {rss >> 20} MiB, over its cap of "
                                                f"{cap >> 20} MiB; the worker was killed")

    def _kill(self, worker: _Worker, kind: str, detail: str) -> None:
        piece, worker.piece = worker.piece, None
        self._retire(worker)
        if piece is not None:
            self._failed(piece, kind, detail)

    # -- the containment policy ---------------------------------------------------------------

    def _done(self, piece: _Piece, results: list) -> None:
        piece.task.results[piece.start] = list(results)
        self._close_piece(piece.task)

    def _failed(self, piece: _Piece, kind: str, detail: str) -> None:
        """Retry once in a fresh worker; then halves (each treated the same); a single item is given up."""
        task = piece.task
        if not piece.retried:
            task.retries += 1
            self._retry_queue.append(_Piece(task, piece.start, piece.stop, retried=True))
        elif piece.stop - piece.start > 1:
            middle = (piece.start + piece.stop) // 2
            task.open_pieces += 1
            # at the front of the line: the caller is most likely waiting for this task first
            self._queue.appendleft(_Piece(task, middle, piece.stop))
            self._queue.appendleft(_Piece(task, piece.start, middle))
        else:
            task.failures.append((piece.start, Failure(task.items[piece.start], kind, detail)))
            self._close_piece(task)

    def _close_piece(self, task: _Task) -> None:
        task.open_pieces -= 1
        if task.open_pieces == 0:
            self._open.discard(task)
            task.future.set_result(task.outcome())

    # -- the end ------------------------------------------------------------------------------

    def _stop_workers(self, kill: bool) -> None:
        """Normally: tell each worker to stop and wait; on an abort: kill them all at once, then wait."""
        for worker in self._pool:
            if kill or worker.dying:
                worker.process.kill()
            else:
                try:
                    worker.conn.send(None)
                except OSError:  # already gone
                    pass
        deadline = time.monotonic() + STOP_SECONDS
        for worker in self._pool:
            worker.process.join(timeout=max(0.0, deadline - time.monotonic()))
            if worker.process.exitcode is None:
                worker.process.kill()
                worker.process.join()
            worker.process.close()
            worker.conn.close()
        self._pool.clear()

    def _fail_unfinished(self) -> None:
        error = self._broken or RunnerBroken("the watchdog pool was stopped before this task finished")
        unfinished = list(self._open) + list(self._inbox)
        self._open.clear()
        self._inbox.clear()
        for task in unfinished:
            if not task.future.done():
                task.future.set_exception(error)


class InlineRunner:
    """Runs tasks in the calling process, one after the other, with no watchdog (a `tasks.Runner`).

    For debugging (a debugger or a traceback reaches the parser) and for tests that monkeypatch
    parsers. A Python exception raised by the function propagates out of `submit` itself, and a
    crash or hang takes the calling process with it: nothing is retried or given up. Pass an
    in-process initializer such as `ingest.work.init_worker` (never `init_pool_worker`, which arms a
    parent-death signal and ignores Ctrl-C in the caller) and, as finalizer, `release_worker`.
    """

    def __init__(self, initializer: Callable[..., None] | None = None, initargs: tuple = (),
                 finalizer: Callable[[], None] | None = None) -> None:
        self.initializer = initializer
        self.initargs = initargs
        self.finalizer = finalizer

    def __enter__(self) -> "InlineRunner":
        if self.initializer is not None:
            self.initializer(*self.initargs)
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if self.finalizer is not None:
            self.finalizer()

    def submit(self, function: TaskFunction, items: list, sizes: list[int]) -> "Future[Outcome]":
        """Run `function(items)` now; the exception it raises, if any, is raised here."""
        if len(sizes) != len(items):
            raise ValueError(f"{len(items)} items but {len(sizes)} sizes")
        future: Future = Future()
        future.set_result(Outcome(results=list(function(list(items))) if items else []))
        return future


__all__ = ["ISOLATIONS", "InlineRunner", "RunnerBroken", "Supervisor", "resident_bytes"]
