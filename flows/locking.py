"""A lock on one output folder, so that two runs never write it at the same time.

Why a claim-file protocol rather than `O_EXCL`: the output folder may be any
pyarrow filesystem (a local path, `s3://…`), and pyarrow offers no atomic
create-if-absent. So each run writes its own claim file under
`OUT/_state/lock/` and then lists the folder: it holds the lock only if its
claim is the only live one. Two runs that claim at once both see each other
(each writes before it lists), both withdraw, and retry after a random pause;
whoever retries first wins and the other gets a clear `OutputLocked` message.
This needs a store whose listings show completed writes (local disks and S3
do).

A claim records pid, host, process start time, run id and a heartbeat that a
background thread refreshes. A claim is stale, and is removed by the next run,
when its process is gone (same host: pid not running, or running but a
different process) or, from another host, when its heartbeat is older than
`stale_after` seconds. The holder checks before every commit that its claim is
still there, so a run whose claim was taken over stops instead of writing.
"""
from __future__ import annotations

import json
import os
import random
import socket
import threading
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

import psutil
from pyarrow import fs as pafs

LOCK_FOLDER = "_state/lock"
HEARTBEAT_SECONDS = 30.0
STALE_AFTER_SECONDS = 600.0
CLAIM_ATTEMPTS = 6
WAIT_POLL_SECONDS = 2.0
WRITING_SUFFIX = ".writing"  # a claim being written, renamed to its `.json` name once whole


class OutputLocked(RuntimeError):
    """Another live run holds the output folder (or took it over from this run)."""


@dataclass(frozen=True)
class Claim:
    """What a lock file says about the run that holds it."""

    token: str
    pid: int
    host: str
    process_started: float  # psutil create_time, so a reused pid is not mistaken for the holder
    run_id: str
    started_at: float
    heartbeat_at: float

    def describe(self) -> str:
        started = datetime.fromtimestamp(self.started_at, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
        beat = datetime.fromtimestamp(self.heartbeat_at, timezone.utc).strftime("%H:%M:%S UTC")
        return (f"pid {self.pid} on host {self.host}, run {self.run_id}, since {started} "
                f"(last heartbeat {beat})")

    def is_stale(self, now: float, stale_after: float) -> bool:
        if self.host == socket.gethostname():
            return not _process_alive(self.pid, self.process_started)
        return now - self.heartbeat_at > stale_after


def _process_alive(pid: int, process_started: float) -> bool:
    try:
        process = psutil.Process(pid)
        return (abs(process.create_time() - process_started) < 1.0
                and process.status() != psutil.STATUS_ZOMBIE)
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:
        return True


def _delete_if_present(filesystem: pafs.FileSystem, path: str) -> None:
    try:
        filesystem.delete_file(path)
    except (FileNotFoundError, OSError):
        if filesystem.get_file_info(path).type != pafs.FileType.NotFound:
            raise


class OutputLock:
    """Hold the output folder for one run: `with OutputLock(fs, root, run_id): …`."""

    def __init__(self, filesystem: pafs.FileSystem, root: str, run_id: str, *, wait: float = 0.0,
                 stale_after: float = STALE_AFTER_SECONDS, heartbeat: float = HEARTBEAT_SECONDS):
        self.fs = filesystem
        self.folder = f"{root}/{LOCK_FOLDER}"
        self.run_id = run_id
        self.wait = wait  # seconds to wait for a live holder to finish before giving up
        self.stale_after = stale_after
        self.heartbeat = heartbeat
        self.claim: Claim | None = None
        self._stop = threading.Event()
        self._beater: threading.Thread | None = None

    @property
    def claim_path(self) -> str:
        assert self.claim is not None
        return f"{self.folder}/{self.claim.token}.json"

    def _claims(self) -> list[tuple[str, Claim | None, float]]:
        """(path, claim or None if unreadable, file mtime) of every claim file.

        A claim's side file (`_write_claim`) older than `stale_after` is removed on the way: its
        writer died between writing and renaming it, and nothing else would ever delete it.
        """
        selector = pafs.FileSelector(self.folder, allow_not_found=True)
        found = []
        for info in self.fs.get_file_info(selector):
            if info.type != pafs.FileType.File:
                continue
            if info.base_name.endswith(WRITING_SUFFIX):
                if info.mtime and time.time() - info.mtime.timestamp() > self.stale_after:
                    _delete_if_present(self.fs, info.path)
                continue
            if not info.base_name.endswith(".json"):
                continue
            try:
                with self.fs.open_input_stream(info.path) as source:
                    claim = Claim(**json.loads(source.read()))
            except (OSError, ValueError, TypeError):
                claim = None  # half written or foreign: judged by its file time
            found.append((info.path, claim, info.mtime.timestamp() if info.mtime else time.time()))
        return found

    def _live_others(self) -> list[Claim | None]:
        """Claims of other runs that are alive; stale ones are removed on the way."""
        now, live = time.time(), []
        for path, claim, mtime in self._claims():
            if self.claim and path == self.claim_path:
                continue
            stale = claim.is_stale(now, self.stale_after) if claim else now - mtime > self.stale_after
            if stale:
                _delete_if_present(self.fs, path)
            else:
                live.append(claim)
        return live

    def _write_claim(self) -> None:
        """Write the claim beside its name, then rename it there: a heartbeat rewrites the file while
        other runs read it, and a reader of a file being written would see no holder it can name."""
        written = f"{self.claim_path}{WRITING_SUFFIX}"  # not `.json`: `_claims` reads no claim from it
        with self.fs.open_output_stream(written) as sink:
            sink.write(json.dumps(asdict(self.claim)).encode())
        self.fs.move(written, self.claim_path)

    def _refused(self, holders: list[Claim | None]) -> OutputLocked:
        holder = next((h for h in holders if h), None)
        who = holder.describe() if holder else "a run whose lock file cannot be read"
        return OutputLocked(
            f"output folder {self.folder.rsplit('/', 2)[0]} is locked by {who}. Wait for that run to "
            f"finish; if it is dead, its lock is cleared automatically (same host: at once; other "
            f"hosts: after {self.stale_after:.0f} s without heartbeat) or delete the files in {self.folder}.")

    def acquire(self) -> None:
        """Take the lock, waiting up to `wait` seconds for a live holder; else raise `OutputLocked`."""
        deadline = time.monotonic() + self.wait
        while True:
            try:
                return self._try_acquire()
            except OutputLocked:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(min(WAIT_POLL_SECONDS, max(deadline - time.monotonic(), 0.0)))

    def _try_acquire(self) -> None:
        self.fs.create_dir(self.folder, recursive=True)
        me = psutil.Process()
        for attempt in range(CLAIM_ATTEMPTS):
            holders = self._live_others()
            if holders:
                raise self._refused(holders)
            now = time.time()
            self.claim = Claim(token=f"{time.time_ns()}-{uuid.uuid4().hex[:8]}", pid=os.getpid(),
                               host=socket.gethostname(), process_started=me.create_time(),
                               run_id=self.run_id, started_at=now, heartbeat_at=now)
            self._write_claim()
            rivals = self._live_others()
            if not rivals:
                self._start_heartbeat()
                return
            self.fs.delete_file(self.claim_path)
            self.claim = None
            if attempt == CLAIM_ATTEMPTS - 1:
                raise self._refused(rivals)
            time.sleep(random.uniform(0.05, 0.5) * (attempt + 1))

    def _start_heartbeat(self) -> None:
        self._stop.clear()
        self._beater = threading.Thread(target=self._beat, name="output-lock-heartbeat", daemon=True)
        self._beater.start()

    def _beat(self) -> None:
        while not self._stop.wait(self.heartbeat):
            if self.claim is None or self.fs.get_file_info(self.claim_path).type == pafs.FileType.NotFound:
                return  # taken over: `check()` will stop the run
            self.claim = Claim(**{**asdict(self.claim), "heartbeat_at": time.time()})
            self._write_claim()

    def check(self) -> None:
        """Raise if this run no longer holds the lock (another run judged it stale)."""
        if self.claim is None or self.fs.get_file_info(self.claim_path).type == pafs.FileType.NotFound:
            raise OutputLocked(f"this run lost its lock on {self.folder}: another run took it over; "
                               "stopping before the next commit")

    def release(self) -> None:
        self._stop.set()
        if self._beater:
            self._beater.join()
        if self.claim is not None:
            _delete_if_present(self.fs, self.claim_path)
            self.claim = None

    def __enter__(self) -> "OutputLock":
        self.acquire()
        return self

    def __exit__(self, *exc) -> None:
        self.release()
