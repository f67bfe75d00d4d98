"""The watchdog pool: a crash, a hang or a memory blow-up costs the one item that caused it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ingest.stopping import Interrupted
from ingest.tasks import Failure, Limits, Outcome
from ingest.watchdog import InlineRunner, RunnerBroken, Supervisor
from tests.watchdog_tasks import act, init_fails, init_nothing

ROOT = Path(__file__).resolve().parent.parent
QUICK = Limits(base_seconds=20, seconds_per_gib=0, worker_memory_bytes=0)


def _ok(values: list) -> list:
    return [("ok", v) for v in values]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _gone(pids: list[int], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(_alive(p) for p in pids):
            return True
        time.sleep(0.05)
    return False


def test_items_succeed_in_order_over_many_tasks() -> None:
    with Supervisor(2, init_nothing, (), QUICK) as runner:
        futures = [runner.submit(act, _ok([t * 10 + i for i in range(5)]), [1] * 5) for t in range(6)]
        outcomes = [f.result(timeout=30) for f in futures]
        empty = runner.submit(act, [], []).result(timeout=1)
    assert outcomes == [Outcome(results=[t * 10 + i for i in range(5)], failures=[], retries=0) for t in range(6)]
    assert empty == Outcome()


def test_a_segfault_costs_exactly_its_item_and_the_pool_goes_on() -> None:
    items = _ok(range(8))
    items[3] = ("segv", 3)
    with Supervisor(2, init_nothing, (), QUICK) as runner:
        outcome = runner.submit(act, items, [1] * 8).result(timeout=60)
        later = [runner.submit(act, _ok([n]), [1]).result(timeout=30) for n in range(3)]
        assert len(runner.worker_pids()) == 2
    # [0,8) fails, is retried (1), fails: halves. [0,4) fails, retried (2): halves [0,2) ok and
    # [2,4), retried (3): halves [2,3) ok and [3,4), retried (4), given up. [4,8) ran fine.
    assert outcome == Outcome(results=[0, 1, 2, 4, 5, 6, 7], failures=[Failure(("segv", 3), "unit_crashed", "the worker process was killed by SIGSEGV")],
                              retries=4)
    assert later == [Outcome(results=[n]) for n in range(3)]


def test_abort_is_named_sigabrt() -> None:
    with Supervisor(1, init_nothing, (), QUICK) as runner:
        outcome = runner.submit(act, [("ok", "a"), ("abort", None)], [1, 1]).result(timeout=60)
    # [0,2) fails, retried (1), fails: halves [0,1) ok, [1,2) fails, retried (2), given up.
    assert outcome == Outcome(results=["a"], failures=[Failure(("abort", None), "unit_crashed", "the worker process was killed by SIGABRT")], retries=2)


def test_a_hang_is_killed_at_its_time_limit() -> None:
    with Supervisor(1, init_nothing, (), Limits(base_seconds=0.5, seconds_per_gib=0, worker_memory_bytes=0)) as runner:
        started = time.monotonic()
        outcome = runner.submit(act, [("sleep", 30)], [1 << 30]).result(timeout=30)
        seconds = time.monotonic() - started
    assert outcome == Outcome(results=[], failures=[Failure(("sleep", 30), "unit_timeout", "ran past its time limit of 0.5 s; the worker was killed")],
                              retries=1)
    assert seconds < 10


def test_a_worker_over_its_memory_cap_is_killed() -> None:
    limits = Limits(base_seconds=20, seconds_per_gib=0, worker_memory_bytes=300 << 20)
    with Supervisor(1, init_nothing, (), limits) as runner:
        outcome = runner.submit(act, [("alloc", 600)], [1]).result(timeout=60)
        raised = runner.submit(act, [("memerror", "no room")], [1]).result(timeout=30)
    assert (outcome.results, outcome.retries, len(outcome.failures)) == ([], 1, 1)
    failure = outcome.failures[0]
    assert (failure.item, failure.kind) == (("alloc", 600), "unit_memory")
    reached = int(failure.detail.split("reached ")[1].split(" MiB")[0])
    assert reached > 300 and failure.detail == f"the worker's resident memory reached {reached} MiB, over its cap of 300 MiB; the worker was killed"
    assert raised == Outcome(failures=[Failure(("memerror", "no room"), "unit_memory", "raised MemoryError: no room")], retries=1)


def test_a_fault_seen_once_passes_on_its_retry_in_a_fresh_worker(tmp_path: Path) -> None:
    marker = tmp_path / "crashed-once"
    with Supervisor(1, init_nothing, (), QUICK) as runner:
        outcome = runner.submit(act, [("once", str(marker))], [1]).result(timeout=30)
    (first_pid, second_pid), = outcome.results
    assert (outcome.failures, outcome.retries) == ([], 1)
    assert first_pid != second_pid


def test_a_python_exception_is_given_up_with_its_type_and_message() -> None:
    with Supervisor(1, init_nothing, (), QUICK) as runner:
        outcome = runner.submit(act, [("raise", "bad value")], [1]).result(timeout=30)
    assert outcome == Outcome(failures=[Failure(("raise", "bad value"), "unit_crashed", "raised ValueError: bad value")], retries=1)


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), Interrupted(signal.SIGINT)], ids=["oserror", "interrupted"])
def test_leaving_on_an_exception_kills_every_worker(error: BaseException) -> None:
    with pytest.raises(type(error)):
        with Supervisor(2, init_nothing, (), QUICK) as runner:
            future = runner.submit(act, [("sleep", 30)], [1])
            while len(runner.worker_pids()) < 2:
                time.sleep(0.05)
            pids = runner.worker_pids()
            time.sleep(0.3)
            started = time.monotonic()
            raise error
    assert time.monotonic() - started < 3
    assert not any(_alive(p) for p in pids)
    with pytest.raises(RunnerBroken):
        future.result(timeout=1)


def test_an_initializer_that_fails_breaks_the_runner() -> None:
    with Supervisor(1, init_fails, (), QUICK) as runner:
        future = runner.submit(act, _ok([1]), [1])
        with pytest.raises(RunnerBroken, match="before it was ready"):
            future.result(timeout=30)


def test_no_worker_outlives_a_killed_coordinator(tmp_path: Path) -> None:
    script = tmp_path / "coordinator.py"
    script.write_text(
        "import os, sys, time\n"
        "from ingest.content import ContentSettings\n"
        "from ingest.tasks import Limits\n"
        "from ingest.watchdog import Supervisor\n"
        "from ingest.work import init_pool_worker\n"
        "from tests.watchdog_tasks import act\n"
        "settings = ContentSettings(algorithms=('sha256',), chunk_size=1 << 20, magic_bytes=2048)\n"
        "if __name__ == '__main__':\n"
        f"  with Supervisor(2, init_pool_worker, (settings, [], {str(tmp_path)!r}, os.getpid(), None), Limits()) as runner:\n"
        "    runner.submit(act, [('sleep', 60)], [1])\n"
        "    while len(runner.worker_pids()) < 2:\n"
        "        time.sleep(0.05)\n"
        "    time.sleep(3)\n"
        "    print(*runner.worker_pids(), flush=True)\n"
        "    time.sleep(60)\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
    try:
        pids = [int(p) for p in process.stdout.readline().split()]
        assert len(pids) == 2 and all(_alive(p) for p in pids)
        process.kill()
        process.wait(timeout=5)
        assert _gone(pids)
    finally:
        process.kill()
        process.wait()


def test_inline_runner_keeps_the_contract_and_lets_exceptions_through() -> None:
    calls: list[str] = []
    with InlineRunner(lambda: calls.append("init"), (), lambda: calls.append("release")) as runner:
        assert runner.submit(act, _ok([1, 2]), [1, 1]).result() == Outcome(results=[1, 2])
        with pytest.raises(ValueError, match="bad"):
            runner.submit(act, [("raise", "bad")], [1])
    assert calls == ["init", "release"]


def test_watchdog_settings_are_read_checked_and_digested(tmp_path: Path) -> None:
    from ingest.config import ConfigError, load_config
    default = load_config()
    assert (default.isolation, default.limits()) == ("process", Limits(base_seconds=300, seconds_per_gib=600, worker_memory_bytes=4096 << 20))
    custom = tmp_path / "w.toml"
    custom.write_text('[watchdog]\nisolation = "inline"\nunit_seconds = 5\nseconds_per_gib = 0\nworker_memory_mb = 0\n')
    loaded = load_config(custom)
    assert (loaded.isolation, loaded.limits()) == ("inline", Limits(base_seconds=5, seconds_per_gib=0, worker_memory_bytes=0))
    assert loaded.digest() != default.digest()
    for bad in ('isolation = "thread"', 'unit_seconds = 0', 'seconds_per_gib = -1', 'worker_memory_mb = "4096"', 'unit_seconds = true'):
        custom.write_text(f"[watchdog]\n{bad}\n")
        with pytest.raises(ConfigError, match=r"\[watchdog\]"):
            load_config(custom)
