"""Incremental, idempotent, crash-safe runs: a real `corpus-clean run` killed with SIGKILL and run again."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from tests.flows.operations import (cli, document_rows, prefect_server, quarantine_rows, reference_run, start_cli,
                                    temporaries)

BATCH_FILES = "5"


def _manifests(out: Path) -> int:
    folder = out / "_state" / "manifest"
    return len([p for p in folder.glob("*.parquet") if not p.name.startswith(".")]) if folder.exists() else 0


def _kill_after(raw: Path, out: Path, committed: int) -> int:
    """Start a run, SIGKILL it once at least `committed` batches have committed; return how many had."""
    run = start_cli("run", "--raw", str(raw), "--out", str(out), "--batch-files", BATCH_FILES, env=prefect_server())
    try:
        while _manifests(out) < committed and run.poll() is None:
            time.sleep(0.005)
        os.kill(run.pid, signal.SIGKILL)
    finally:
        run.wait(timeout=60)
    assert run.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    return _manifests(out)


def test_killed_runs_then_a_rerun_give_exactly_the_uninterrupted_rows(tmp_path):
    raw, reference = reference_run()
    out = tmp_path / "out"
    seen = [_kill_after(raw, out, point) for point in (2, 9)]  # killed, restarted, killed again
    total_batches = _manifests(reference)
    assert seen[-1] < total_batches  # killed mid-run, not after the last commit

    done = cli("run", "--raw", str(raw), "--out", str(out), "--batch-files", BATCH_FILES, env=prefect_server())
    assert done.returncode == 0, done.stderr[-3000:]

    rows = document_rows(out)
    assert len(rows) == len(set(rows))  # no duplicate row
    assert rows == document_rows(reference)  # no lost file, no changed text
    assert quarantine_rows(out) == quarantine_rows(reference)
    assert temporaries(out) == []
    assert not list((out / "_state" / "lock").iterdir())  # the killed runs' locks were cleared


def test_second_run_skips_every_file_and_a_touched_file_is_checked_by_content(tmp_path):
    raw, reference = reference_run()
    env = prefect_server()
    out = tmp_path / "out"
    first = cli("run", "--raw", str(raw), "--out", str(out), env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    files = len([p for p in raw.rglob("*") if p.is_file()])
    touched = sorted(raw.rglob("*.txt"))[3]
    stat = touched.stat()
    try:
        os.utime(touched, (stat.st_atime, stat.st_mtime + 60))  # same content, new mtime
        again = cli("run", "--raw", str(raw), "--out", str(out), env=env)
    finally:
        os.utime(touched, (stat.st_atime, stat.st_mtime))
    assert again.returncode == 0, again.stderr[-3000:]
    assert f"files={files} skipped={files} documents=0 quarantined=0" in again.stdout
    assert document_rows(out) == document_rows(reference)
