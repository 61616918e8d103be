"""Where the flow's batches are cleaned: its own thread, a thread or process pool, or a Dask cluster.

The choice is a flow parameter (not the `@flow` decorator's `task_runner`) so
that a deployment run, a backfill from the UI and the CLI can all pick it.
Whatever the runner, the flow commits batches one at a time in the order they
were cut (duplicate assignment and the manifest's commit order depend on it),
so only cleaning is spread out; at most `in_flight` batches are submitted
ahead of the next commit, which bounds memory by the batch size.

- `sequential` (default): each batch is cleaned in the flow's thread, where a
  file's time budget can interrupt even a runaway regular expression.
- `thread`: a thread pool; overlaps reading with cleaning, little more (GIL).
- `process`: a process pool on this machine; real use of several cores. The
  Prefect task runs stay in threads of the flow's process (`WorkerPool`): only
  the cleaning goes to plain worker processes, which never report to Prefect.
- `dask`: prefect-dask; an existing cluster (`dask_address`,
  `tcp://HOST:PORT`) or, without one, a local cluster of `workers` processes.
  Workers must be able to import this package and read the raw folder at the
  same path.
"""
from __future__ import annotations

import atexit
import logging
import multiprocessing
import os
import threading
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, TypeVar

if TYPE_CHECKING:  # the CLI reads RUNNER_KINDS before Prefect's settings are in place
    from prefect import Task

RUNNER_KINDS = ("sequential", "thread", "process", "dask")

Item = TypeVar("Item")
Result = TypeVar("Result")
logger = logging.getLogger(__name__)


class WorkerPool:
    """Plain worker processes for the `process` runner; a pool whose worker died is replaced.

    Prefect's own process runner ran each task in a worker that imported
    Prefect and reported the task run to the API from there: with two
    workers on two cores, 53 % more CPU than one worker and 1.24x the speed
    (bench/run.py, 10,000 files; README → Performance). Here the task run stays in a thread
    of the flow's process, where Prefect tracks and retries it, and hands the
    batch to a worker of this pool, which only cleans. Workers are started
    with `spawn`: forking the flow's process would copy Prefect's threads and
    the locks they hold.

    A worker killed mid-batch (the OOM killer, a signal) breaks a
    `ProcessPoolExecutor` for good: every batch in it fails. The pool is
    then replaced and each failed batch tried once more on the new one, so
    a lost worker costs a retry, not the batches that shared the pool.
    """

    def __init__(self, workers: int):
        self.workers = workers
        self._lock = threading.Lock()
        self._executor = self._new_executor()
        self._retired: list[ProcessPoolExecutor] = []  # broken pools, their leftover workers killed at shutdown

    def _new_executor(self) -> ProcessPoolExecutor:
        """A pool whose workers start at once: the flow opens it before it recovers and surveys the raw
        folder, so a worker's imports and language model (about a second) overlap that instead of
        delaying the first batch. A warm-up that fails is left unread: the first batch meets the same
        failure and reports it."""
        from flows.batch import warm_up

        executor = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_exit_without_teardown)
        for _ in range(self.workers):
            executor.submit(warm_up)
        return executor

    def run(self, fn: Callable[..., Result], *args: Any) -> Result:
        """`fn(*args)` in a worker process; once more on a new pool if the worker died."""
        executor = self._executor
        try:
            return executor.submit(fn, *args).result()
        except BrokenProcessPool:
            with self._lock:
                if self._executor is executor:  # the first batch to see it replaces the pool
                    logger.warning("a worker process died; starting a new pool of %d", self.workers)
                    self._retired.append(executor)  # its own clean-up has begun: left to it until `shutdown`
                    self._executor = self._new_executor()
                executor = self._executor
            return executor.submit(fn, *args).result()

    def shutdown(self) -> None:
        """Stop the workers; kill what is left of broken pools.

        A worker that a broken pool started while it was breaking (another
        thread's submit racing the pool's own clean-up) is never told to stop,
        and the pool's clean-up, which the interpreter waits for at exit,
        waits for it: such leftovers are killed here.
        """
        self._executor.shutdown(wait=True, cancel_futures=True)
        for executor in self._retired:
            for process in list((executor._processes or {}).values()):  # no public way to a pool's workers
                process.kill()
                process.join()


def _exit_without_teardown() -> None:
    """Pool-worker initializer: at exit, close the logging handlers and leave without tearing the
    interpreter down. A spawned worker otherwise frees every module, cache and compiled pattern one
    object at a time, about half a CPU-second (a forked process never pays it: `os._exit` ends it),
    while the flow waits for it to stop. By then `multiprocessing` has run its own exit functions and
    flushed the standard streams."""
    atexit.register(_leave_now)


def _leave_now() -> None:
    logging.shutdown()
    os._exit(0)


@dataclass(frozen=True)
class RunnerChoice:
    """Which task runner cleans the batches, and how wide."""

    kind: str = "sequential"
    workers: int = 1
    dask_address: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in RUNNER_KINDS:
            raise ValueError(f"unknown task runner {self.kind!r}; choose one of {', '.join(RUNNER_KINDS)}")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if self.dask_address and self.kind != "dask":
            raise ValueError("a Dask address needs the dask task runner")

    @property
    def in_flight(self) -> int:
        """Batches submitted ahead: enough to keep every worker busy while the flow commits."""
        return 1 if self.kind == "sequential" else 2 * self.workers


class _Deferred:
    """A 'future' for the sequential runner: the task runs in the caller's thread when asked."""

    def __init__(self, task: Task, parameters: dict[str, Any]):
        self.task, self.parameters = task, parameters

    def result(self) -> Any:
        return self.task(**self.parameters)


def _prefect_runner(choice: RunnerChoice):
    if choice.kind == "thread":
        from prefect.task_runners import ThreadPoolTaskRunner
        return ThreadPoolTaskRunner(max_workers=choice.workers)
    if choice.kind == "process":
        # A thread per batch in flight, each waiting on its batch in the `WorkerPool`: the pool then
        # always holds the next batch, and a worker that finishes need not wait for a thread to free.
        from prefect.task_runners import ThreadPoolTaskRunner
        return ThreadPoolTaskRunner(max_workers=choice.in_flight)
    from prefect_dask import DaskTaskRunner
    if choice.dask_address:
        return DaskTaskRunner(address=choice.dask_address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": choice.workers, "threads_per_worker": 1,
                                          "processes": True, "dashboard_address": None})


@contextmanager
def task_submitter(choice: RunnerChoice) -> Iterator[Callable[[Task, dict[str, Any]], Any]]:
    """`submit(task, parameters) -> future` on the chosen runner, open for the block.

    A task submitted on the `process` runner gets one more parameter, `pool`
    (the run's `WorkerPool`), and must do its work through it.
    """
    if choice.kind == "sequential":
        yield _Deferred
        return
    if choice.kind == "process":
        from prefect.utilities.annotations import quote

        pool = WorkerPool(choice.workers)
        try:
            with _prefect_runner(choice) as runner:
                yield lambda task, parameters: runner.submit(task, {**parameters, "pool": quote(pool)})
        finally:
            pool.shutdown()
        return
    with _prefect_runner(choice) as runner:
        if choice.kind == "dask":
            yield lambda task, parameters: runner.submit(task, _unquoted(parameters))
        else:
            yield runner.submit


def _unquoted(parameters: dict[str, Any]) -> dict[str, Any]:
    """Parameters without `quote()` wrappers: Dask's argument packing turns the wrapper (a named
    tuple) into a plain tuple, so the task would get the tuple instead of the value."""
    from prefect.utilities.annotations import quote

    return {name: value.unquote() if isinstance(value, quote) else value for name, value in parameters.items()}


def in_order(items: Iterable[Item], submit: Callable[[Item], Any], limit: int) -> Iterator[tuple[Item, Any]]:
    """Submit items up to `limit` ahead and yield (item, future) in submission order."""
    pending: deque[tuple[Item, Any]] = deque()
    for item in items:
        pending.append((item, submit(item)))
        if len(pending) >= limit:
            yield pending.popleft()
    while pending:
        yield pending.popleft()
