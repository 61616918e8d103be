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
- `process`: a process pool on this machine; real use of several cores.
- `dask`: prefect-dask; an existing cluster (`dask_address`,
  `tcp://HOST:PORT`) or, without one, a local cluster of `workers` processes.
  Workers must be able to import this package and read the raw folder at the
  same path.
"""
from __future__ import annotations

from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, TypeVar

if TYPE_CHECKING:  # the CLI reads RUNNER_KINDS before Prefect's settings are in place
    from prefect import Task

RUNNER_KINDS = ("sequential", "thread", "process", "dask")

Item = TypeVar("Item")


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
        from prefect.task_runners import ProcessPoolTaskRunner
        return ProcessPoolTaskRunner(max_workers=choice.workers)
    from prefect_dask import DaskTaskRunner
    if choice.dask_address:
        return DaskTaskRunner(address=choice.dask_address)
    return DaskTaskRunner(cluster_kwargs={"n_workers": choice.workers, "threads_per_worker": 1,
                                          "processes": True, "dashboard_address": None})


@contextmanager
def task_submitter(choice: RunnerChoice) -> Iterator[Callable[[Task, dict[str, Any]], Any]]:
    """`submit(task, parameters) -> future` on the chosen runner, open for the block."""
    if choice.kind == "sequential":
        yield _Deferred
        return
    with _workers_report_here(choice), _prefect_runner(choice) as runner:
        if choice.kind == "dask":
            yield lambda task, parameters: runner.submit(task, _unquoted(parameters))
        else:
            yield runner.submit


@contextmanager
def _workers_report_here(choice: RunnerChoice) -> Iterator[None]:
    """Point the process pool's workers at the API server the flow itself uses.

    Without a configured `PREFECT_API_URL` the flow talks to a temporary
    server it started; the worker processes inherit the flow's settings, which
    name no server, so each of them started a temporary server of its own
    (a uvicorn process, its database and migrations) and reported its task
    runs there: seconds of CPU per worker, taken from the cleaning on a
    machine with as many cores as workers (bench/run.py: 2 workers 0.9x one,
    README, Performance). Naming the flow's server in the settings the runner
    hands to its workers removes those servers, and the task runs land where
    the flow run is.
    """
    from prefect.settings import PREFECT_API_URL, temporary_settings

    if choice.kind != "process" or PREFECT_API_URL.value():
        yield
        return
    from prefect.client.orchestration import get_client

    with temporary_settings(updates={PREFECT_API_URL: str(get_client(sync_client=True).api_url)}):
        yield


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
