"""Finding raw files, cutting them into batches, and cleaning one batch within its limits.

Nothing here imports Prefect: the flow wraps `clean_batch` in a task, and the
benchmark calls it in a plain loop to show what orchestration costs.

Bad input costs only itself. A file larger than `max_file_bytes` is not read;
a file whose cleaning runs longer than `max_file_seconds` is stopped and
quarantined with reason `timeout`; a file whose cleaning raises is quarantined
with the error; and when a whole batch raises anyway (a worker lost, a bug
outside the per-file guard) `clean_with_fallback` cleans its files one by one
so the neighbours of the file that caused it keep their documents. Line length
is limited inside the recipe (`cleaners.limits`), configured through
`CleanContext.options["max_line_chars"]`.
"""
from __future__ import annotations

import ctypes
import gc
import hashlib
import os
import signal
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Iterable, Iterator, TypeVar

from cleaners.charlm import load_charlm
from cleaners.document import CleanContext
from cleaners.decode import Undecodable
from cleaners.dedup import Sketches, sketch
from cleaners.pipeline import FileOutcome, Prepared, clean_bytes, count_site_lines, finish, prepare, site_from_path
from cleaners.site_evidence import SiteLineCounts

RAW_SUFFIXES = {".txt", ".htm", ".html", ""}
DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024
# Far above what a real page needs (a 5 MB page of 100,000 lines cleans in about a minute on a busy
# core, an ordinary page in milliseconds), low enough that one pathological file cannot hold a run.
DEFAULT_MAX_FILE_SECONDS = 300.0
# Python's cycle collector runs whenever 700 more container objects have been made than freed. Cleaning
# makes millions of short-lived tuples and lists, so on the benchmark's corpus it ran about 370 times
# per 2,500 files and took 5-6 % of the CPU; after this many it runs 10 times and takes under 2 %,
# with the same peak memory (what it frees is the odd reference cycle, not the batch's data).
BATCH_GC_THRESHOLD = 20_000

Cleaner = Callable[[bytes, str, CleanContext], FileOutcome]
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RawFile:
    """A file found under the raw folder; one per file for the whole run, hence slots (no `__dict__`)."""

    path: str  # absolute, as the OS spells it
    source_path: str  # relative to the raw folder, posix
    size: int
    mtime: float


@dataclass
class FileRecord:
    """One raw file after cleaning: its outcome plus what the dataset records about the file."""

    file: RawFile
    raw_sha256: str
    outcome: FileOutcome
    # Its documents' dedup sketches, made where the batch was cleaned (a worker process), so that
    # the flow, which marks duplicates one batch at a time, only looks them up.
    sketches: Sketches | None = None


@dataclass
class BatchResult:
    records: list[FileRecord] = field(default_factory=list)
    skipped: int = 0  # already processed under this pipeline version
    bytes_read: int = 0
    site_lines: SiteLineCounts = field(default_factory=SiteLineCounts)  # this batch's pages, per site


def _source_path(root: Path, path: Path) -> str:
    rel = path.relative_to(root).as_posix()
    # Names that are not valid UTF-8 keep their bytes as surrogate escapes; record them readably.
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def _link_stays_inside(link: Path, root: Path) -> bool:
    """True if the symbolic link `link` ends at a file under `root`; loops and dangling links do not."""
    try:
        target = link.resolve(strict=True)
    except (OSError, RuntimeError):  # RuntimeError: a link loop, in Python 3.11
        return False
    return root in target.parents and target.is_file()


def discover(raw_root: str | Path) -> Iterator[RawFile]:
    """Every candidate file under `raw_root`, in sorted order, one at a time (a raw folder may hold
    millions; a run keeps none of them past its batch); links that leave the folder are not followed."""
    root = Path(raw_root).resolve()
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            if path.suffix.lower() not in RAW_SUFFIXES:
                continue
            if path.is_symlink() and not _link_stays_inside(path, root):
                continue
            try:
                stat = path.stat()
            except OSError:
                continue
            yield RawFile(str(path), _source_path(root, path), stat.st_size, stat.st_mtime)


def batches(files: Iterable[RawFile], max_files: int, max_bytes: int) -> Iterator[list[RawFile]]:
    """Cut the files, as they come, into batches of at most `max_files` files and about `max_bytes` bytes."""
    current: list[RawFile] = []
    size = 0
    for raw in files:
        if current and (len(current) >= max_files or size + raw.size > max_bytes):
            yield current
            current, size = [], 0
        current.append(raw)
        size += raw.size
    if current:
        yield current


def _digest(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


class FileTimeout(BaseException):
    """Raised inside a file's cleaning when its time budget runs out.

    A BaseException so that a stage's own `except Exception` cannot swallow it.
    """


@contextmanager
def time_budget(seconds: float | None) -> Iterator[None]:
    """Raise `FileTimeout` in the calling thread if the block runs longer than `seconds`.

    In the main thread (the CLI, and Prefect's default runner, which runs a
    directly called task in the flow's thread) a SIGALRM interval timer does
    it: the signal interrupts Python code and the regex engine alike, since
    `re` checks for signals while it backtracks. Any other thread (a thread
    pool task runner, a Dask worker) cannot receive signals, so a watchdog
    timer raises the exception asynchronously in the cleaning thread; that
    stops Python code at once but waits for a running C call (one regex
    match, one lxml parse) to return first.
    """
    if not seconds or seconds <= 0:
        yield
        return
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "setitimer"):
        with _alarm(seconds):
            yield
    else:
        with _watchdog(seconds):
            yield


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    armed = True

    def on_alarm(signum, frame):
        if armed:
            raise FileTimeout()

    previous_handler = signal.signal(signal.SIGALRM, on_alarm)
    previous_delay, previous_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        armed = False
        remaining, _ = signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_handler)
        if previous_delay:  # someone else's alarm (pytest-timeout, an outer budget): give it back
            signal.setitimer(signal.ITIMER_REAL, max(previous_delay - (seconds - remaining), 1e-3),
                             previous_interval)


_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_set_async_exc.argtypes = (ctypes.c_ulong, ctypes.py_object)


@contextmanager
def _watchdog(seconds: float) -> Iterator[None]:
    thread_id = threading.get_ident()
    lock = threading.Lock()
    state = {"armed": True, "fired": False}

    def fire() -> None:
        with lock:
            if state["armed"]:
                state["fired"] = True
                _set_async_exc(thread_id, FileTimeout)

    timer = threading.Timer(seconds, fire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        timer.cancel()
        with lock:
            state["armed"] = False
            if state["fired"]:  # fired but maybe not yet delivered: take it back
                _set_async_exc(thread_id, ctypes.py_object())


def _quarantined(raw: RawFile, reason: str) -> FileOutcome:
    return FileOutcome(site=site_from_path(raw.source_path), quarantine_reason=reason[:500])


def _guarded(raw: RawFile, max_seconds: float | None, work: Callable[[], T]) -> T | FileOutcome:
    """`work()` within the file's time budget; a timeout or an error becomes this file's quarantine outcome."""
    try:
        with time_budget(max_seconds):
            return work()
    except FileTimeout:
        return _quarantined(raw, f"timeout: cleaning took longer than {max_seconds:g} s")
    except Undecodable as exc:
        return _quarantined(raw, exc.reason)
    except Exception as exc:  # a bug on one page must not cost the batch its data
        return _quarantined(raw, f"error: {type(exc).__name__}: {exc}")


def warm_up() -> None:
    """Load what cleaning loads on first use (the language model; importing this module compiled the
    rule packs), so that a new worker process is ready before its first batch arrives."""
    load_charlm()


def clean_file(raw: RawFile, data: bytes, ctx: CleanContext, max_seconds: float | None = DEFAULT_MAX_FILE_SECONDS,
               cleaner: Cleaner = clean_bytes) -> FileOutcome:
    """Clean one file's bytes within its time budget; any failure is a quarantine reason for this file alone."""
    return _guarded(raw, max_seconds, lambda: cleaner(data, raw.source_path, ctx))


def _read(raw: RawFile, max_file_bytes: int) -> tuple[str, bytes | None]:
    """(raw_sha256, bytes); bytes are None for a file over the size limit, which is hashed but not kept."""
    if raw.size > max_file_bytes:
        return _digest(raw.path), None
    data = Path(raw.path).read_bytes()
    return hashlib.sha256(data).hexdigest(), data


@contextmanager
def rare_collections(threshold: int = BATCH_GC_THRESHOLD) -> Iterator[None]:
    """Run the block with the cycle collector's first threshold raised to `threshold` (see
    BATCH_GC_THRESHOLD), then put back what it was; a higher one, or 0 (collection switched off),
    is left as it is. The setting is the process's, so a block in another thread meanwhile shares it.
    Also a decorator (`@rare_collections()`), as every `contextmanager` is."""
    before = gc.get_threshold()
    if 0 < before[0] < threshold:
        gc.set_threshold(threshold, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Run the block with the objects alive when it starts left out of the cycle collector's work.

    The process of a run holds some 300,000 objects that outlive its
    batches (Prefect's client, settings and models, imported modules), and
    every full collection walked them all again: in the flow's process,
    with two workers on the benchmark's corpus, 1.3 of the 1.4 CPU-seconds
    spent collecting, while the thread receiving a cleaned batch held the
    interpreter. Frozen (`gc.freeze`), they are skipped: 0.3 s. What the
    block makes is collected as before; at its end they are put back. A
    heap another caller froze is left to that caller.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


@rare_collections()
def clean_batch(files: list[RawFile], ctx: CleanContext,
                done: set[tuple[str, str]] | frozenset[tuple[str, str]] = frozenset(),
                max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
                max_file_seconds: float | None = None, cleaner: Cleaner | None = None) -> BatchResult:
    """Clean every file of a batch whose (source_path, raw_sha256) is not in `done`.

    The batch's pages are decoded first and counted per site (`count_site_lines`): the
    strip stage then sees those counts added to what earlier runs committed
    (`ctx.site_lines`), and the batch returns its own counts for the flow to commit.
    Decoding and cleaning each get `max_file_seconds`, else the run's
    `ctx.options["max_file_seconds"]`, else `DEFAULT_MAX_FILE_SECONDS` (0 switches the
    budget off). `cleaner` replaces the recipe for a file's second half (tests put a
    hostile stage there).
    """
    if max_file_seconds is None:
        max_file_seconds = ctx.options.get("max_file_seconds", DEFAULT_MAX_FILE_SECONDS)
    result = BatchResult()
    pending: list[tuple[FileRecord, bytes, Prepared]] = []
    for raw in files:
        try:
            digest, data = _read(raw, max_file_bytes)
        except OSError as exc:
            result.records.append(FileRecord(raw, "", _quarantined(raw, f"unreadable: {exc.strerror or exc}")))
            continue
        result.bytes_read += raw.size
        if (raw.source_path, digest) in done:
            result.skipped += 1
            continue
        record = FileRecord(raw, digest, _quarantined(raw, f"oversize: {raw.size} bytes > {max_file_bytes}"))
        result.records.append(record)
        if data is not None:
            prepared = _guarded(raw, max_file_seconds, lambda: prepare(data, raw.source_path))
            if isinstance(prepared, FileOutcome):
                record.outcome = prepared
            else:
                pending.append((record, data, prepared))
    result.site_lines = count_site_lines([prepared for _, _, prepared in pending])
    batch_ctx = replace(ctx, site_lines=SiteLineCounts(ctx.site_lines).combined(result.site_lines))
    for record, data, prepared in pending:
        if cleaner is None:
            record.outcome = _guarded(record.file, max_file_seconds, lambda: finish(prepared, batch_ctx))
        else:
            record.outcome = clean_file(record.file, data, batch_ctx, max_file_seconds, cleaner)
    sketch_documents(result.records)
    return result


def with_documents(records: list[FileRecord]) -> list[FileRecord]:
    """The records whose documents are written (and indexed for dedup), in batch order."""
    return [record for record in records if record.outcome.docs and not record.outcome.quarantine_reason]


def sketch_documents(records: list[FileRecord]) -> None:
    """Give every record with documents the dedup sketches of its documents: one call for the batch."""
    with_docs = with_documents(records)
    sketches = sketch([doc.text for record in with_docs for doc in record.outcome.docs])
    start = 0
    for record in with_docs:
        stop = start + len(record.outcome.docs)
        record.sketches = sketches.take(slice(start, stop))
        start = stop


def clean_with_fallback(files: list[RawFile], clean: Callable[[list[RawFile]], BatchResult]) -> BatchResult:
    """`clean(files)`, or, if that raises, `clean([file])` for each file so one bad file costs only itself.

    `clean` is the batch as the flow runs it (a task with its own retries), so
    a batch is retried before it is split. A file whose own run still raises
    is quarantined with the error and recorded as processed, so the next run
    does not crash on it again; a new pipeline version retries it.
    """
    try:
        return clean(files)
    except Exception:
        pass
    result = BatchResult()
    for raw in files:
        try:
            part = clean([raw])
        except Exception as exc:
            try:
                digest = _digest(raw.path)
            except OSError:
                digest = ""
            part = BatchResult([FileRecord(raw, digest, _quarantined(raw, f"error: batch failed on this file: "
                                                                          f"{type(exc).__name__}: {exc}"))])
        result.records.extend(part.records)
        result.skipped += part.skipped
        result.bytes_read += part.bytes_read
        result.site_lines.merge(part.site_lines)
    return result
