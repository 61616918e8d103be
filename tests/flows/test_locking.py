"""The output folder's lock: one writer at a time, a clear message for the other, stale locks cleared."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import asdict

import psutil
import pytest
from pyarrow import fs as pafs

from flows.cli import EXIT_LOCKED
from flows.locking import LOCK_FOLDER, Claim, OutputLock, OutputLocked
from tests.flows.operations import (cli, document_rows, prefect_server, quarantine_rows, reference_run, start_cli,
                                    temporaries)


def _lock(root, run_id: str) -> OutputLock:
    return OutputLock(pafs.LocalFileSystem(), str(root), run_id, heartbeat=0.05)


def _write_claim(root, claim: Claim) -> None:
    folder = root / LOCK_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{claim.token}.json").write_text(json.dumps(asdict(claim)))


def _dead_pid() -> tuple[int, float]:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    started = psutil.Process(child.pid).create_time()
    child.wait()
    return child.pid, started


def test_second_holder_is_refused_with_who_holds_it_then_gets_it_after_release(tmp_path):
    first, second = _lock(tmp_path, "run-one"), _lock(tmp_path, "run-two")
    with first:
        with pytest.raises(OutputLocked, match=r"locked by pid \d+ on host .+, run run-one, since"):
            second.acquire()
        time.sleep(0.2)  # heartbeats rewrite the claim meanwhile
        first.check()
    with second:
        second.check()
    assert not list((tmp_path / LOCK_FOLDER).iterdir())


def _claim(host: str, pid: int, process_started: float, heartbeat_age: float) -> Claim:
    now = time.time()
    return Claim(token="1-foreign", pid=pid, host=host, process_started=process_started, run_id="old-run",
                 started_at=now - heartbeat_age, heartbeat_at=now - heartbeat_age)


@pytest.mark.parametrize("describe, stale", [
    ("same host, process gone", True),
    ("same host, pid reused by another process", True),
    ("same host, process alive", False),
    ("other host, heartbeat fresh", False),
    ("other host, heartbeat older than the limit", True),
])
def test_stale_claims_are_cleared_and_live_ones_refuse(tmp_path, describe, stale):
    me = psutil.Process()
    dead_pid, dead_started = _dead_pid()
    claim = {
        "same host, process gone": _claim(socket.gethostname(), dead_pid, dead_started, 1),
        "same host, pid reused by another process": _claim(socket.gethostname(), me.pid, me.create_time() - 50, 1),
        "same host, process alive": _claim(socket.gethostname(), me.pid, me.create_time(), 1),
        "other host, heartbeat fresh": _claim("elsewhere", 1, 0.0, 1),
        "other host, heartbeat older than the limit": _claim("elsewhere", 1, 0.0, 7200),
    }[describe]
    _write_claim(tmp_path, claim)
    lock = _lock(tmp_path, "new-run")
    if stale:
        with lock:
            assert [p.name for p in (tmp_path / LOCK_FOLDER).iterdir()] == [f"{lock.claim.token}.json"]
    else:
        with pytest.raises(OutputLocked, match="run old-run"):
            lock.acquire()
        assert (tmp_path / LOCK_FOLDER / "1-foreign.json").exists()


def test_a_run_whose_lock_was_taken_over_stops_before_its_next_commit(tmp_path):
    with _lock(tmp_path, "run-one") as lock:
        (tmp_path / LOCK_FOLDER / f"{lock.claim.token}.json").unlink()
        with pytest.raises(OutputLocked, match="lost its lock"):
            lock.check()


def test_two_real_runs_started_at_once_do_not_corrupt_the_output(tmp_path):
    raw, reference = reference_run()
    out = tmp_path / "out"
    env = prefect_server()
    runs = [start_cli("run", "--raw", str(raw), "--out", str(out), "--batch-files", "5", env=env) for _ in range(2)]
    results = [(run.wait(timeout=180), *run.communicate()) for run in runs]
    codes = sorted(code for code, _, _ in results)
    assert codes in ([0, 0], [0, EXIT_LOCKED]), [err[-2000:] for _, _, err in results]
    for code, _, err in results:
        if code == EXIT_LOCKED:
            assert "is locked by pid" in err and "Wait for that run to finish" in err
    rows = document_rows(out)
    assert rows == document_rows(reference) and len(rows) == len(set(rows))
    assert quarantine_rows(out) == quarantine_rows(reference)
    assert temporaries(out) == []


def test_a_run_started_while_another_holds_the_folder_is_refused_and_leaves_it_alone(tmp_path):
    raw, reference = reference_run()
    out = tmp_path / "out"
    with _lock(out, "the-running-one"):  # this test process is the live holder
        refused = cli("run", "--raw", str(raw), "--out", str(out), env=prefect_server())
        assert not (out / "documents").exists() and not (out / "_state" / "manifest").exists()
    assert refused.returncode == EXIT_LOCKED, refused.stderr[-3000:]
    assert "is locked by pid" in refused.stderr and "run the-running-one" in refused.stderr


def test_a_claim_read_while_its_heartbeat_rewrites_it_names_its_holder(tmp_path):
    """Another run reads the claim files while the holder's heartbeat rewrites its own: it must
    always read a whole claim (a half-written one made the refusal name no holder)."""
    reader = _lock(tmp_path, "reader")
    with _lock(tmp_path, "holder") as holder:
        deadline = time.monotonic() + 1.0  # about 20 heartbeats
        reads = 0
        while time.monotonic() < deadline:
            claims = [claim for _, claim, _ in reader._claims()]
            assert [claim and claim.token for claim in claims] == [holder.claim.token], claims
            reads += 1
        assert reads > 20


@pytest.mark.parametrize("age, removed", [(7200, True), (1, False)], ids=["left-by-a-dead-writer", "being-written"])
def test_a_claims_side_file_is_removed_once_stale(tmp_path, age, removed):
    """A run killed between writing its claim's side file and renaming it leaves the side file behind."""
    folder = tmp_path / LOCK_FOLDER
    folder.mkdir(parents=True)
    leftover = folder / "1-dead.json.writing"
    leftover.write_text(json.dumps(asdict(_claim(socket.gethostname(), 1, 0.0, age))))
    written = time.time() - age
    os.utime(leftover, (written, written))
    with _lock(tmp_path, "new-run") as lock:
        assert lock.claim is not None
    assert leftover.exists() is not removed
