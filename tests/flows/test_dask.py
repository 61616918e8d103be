"""Scale-out: batches cleaned on an existing Dask cluster of two workers, or a process pool, give exactly
the rows of the default (sequential) runner, even when a worker process is killed mid-run."""
from __future__ import annotations

import signal
import time

import psutil
import pytest

from tests.flows.operations import (cli, document_rows, prefect_server, quarantine_rows, read_table, reference_run,
                                    start_cli)


@pytest.fixture
def dask_cluster():
    """A local Dask cluster of two worker processes, started outside the run as an existing cluster is."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def _same_output_as_sequential(out, reference) -> None:
    assert document_rows(out) == document_rows(reference)
    assert quarantine_rows(out) == quarantine_rows(reference)
    mine, theirs = read_table(out, "documents"), read_table(reference, "documents")
    pick = ("source_path", "part_index", "doc_id", "title", "removed", "repairs", "duplicate_of")
    key = lambda row: (row["source_path"], row["part_index"])  # noqa: E731
    assert sorted(mine.select(pick).to_pylist(), key=key) == sorted(theirs.select(pick).to_pylist(), key=key)


def test_batches_on_an_existing_dask_cluster_give_the_sequential_output(tmp_path, dask_cluster):
    raw, reference = reference_run()
    out = tmp_path / "out"
    done = cli("run", "--raw", str(raw), "--out", str(out), "--batch-files", "5", "--task-runner", "dask",
               "--dask-address", dask_cluster, "--workers", "2", env=prefect_server())
    assert done.returncode == 0, done.stderr[-3000:]
    _same_output_as_sequential(out, reference)


def test_batches_in_a_process_pool_give_the_sequential_output(tmp_path):
    raw, reference = reference_run()
    out = tmp_path / "out"
    done = cli("run", "--raw", str(raw), "--out", str(out), "--batch-files", "5", "--task-runner", "process",
               "--workers", "2", env=prefect_server())
    assert done.returncode == 0, done.stderr[-3000:]
    _same_output_as_sequential(out, reference)


def _pool_workers(pid: int) -> list[psutil.Process]:
    """The worker processes a run's process pool started (`multiprocessing` spawn children)."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        try:
            if "spawn_main" in " ".join(child.cmdline()):
                found.append(child)
        except psutil.NoSuchProcess:
            continue
    return found


def test_a_worker_process_killed_mid_run_costs_nothing(tmp_path):
    """SIGKILL (as the OOM killer sends it) to a pool worker as soon as it starts: the pool is replaced,
    the batches it held are cleaned again, and the output is the sequential run's, every row."""
    raw, reference = reference_run()
    out = tmp_path / "out"
    run = start_cli("run", "--raw", str(raw), "--out", str(out), "--batch-files", "5", "--task-runner", "process",
                    "--workers", "2", env=prefect_server())
    killed = None
    deadline = time.monotonic() + 120
    while killed is None and run.poll() is None and time.monotonic() < deadline:
        workers = _pool_workers(run.pid)
        if workers:
            workers[0].send_signal(signal.SIGKILL)
            killed = workers[0].pid
        time.sleep(0.01)
    stdout, stderr = run.communicate(timeout=300)
    assert killed is not None, "no pool worker was seen"
    assert run.returncode == 0, stderr[-3000:]
    assert "a worker process died; starting a new pool" in stdout + stderr
    _same_output_as_sequential(out, reference)
