"""How far a run has got while it runs, and what a finished run did, kept for the report.

The flow announces its total and each finished batch here; it does not draw
anything itself, because a run started by a deployment has no terminal: it logs
the line `batch_done` returns (the batch's counts and the run's so far) to
Prefect's log. Whoever calls the flow in-process (the CLI) may listen and draw
a progress line on stderr.

At the end of a run the flow writes one row to `OUT/_state/runs/<run_id>.parquet`:
files seen, bytes read and seconds taken. The manifest says which files each run
committed, but not how many bytes or how long, so the report's MB/s per run
comes from this table.
"""
from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable, Iterator, TextIO

import pyarrow as pa
import pyarrow.parquet as pq

from flows.batch import BatchResult, RawFile
from flows.storage import STATE, TMP_SUFFIX, OutputStore

if TYPE_CHECKING:
    from flows.clean_corpus import RunSummary

RUNS = "runs"  # the state table `_state/runs/`
RUN_SCHEMA = pa.schema([
    ("run_id", pa.string()),
    ("pipeline_version", pa.string()),
    ("finished_at", pa.timestamp("us", tz="UTC")),
    ("files", pa.int64()),
    ("skipped", pa.int64()),
    ("documents", pa.int64()),
    ("quarantined", pa.int64()),
    ("bytes_read", pa.int64()),
    ("seconds", pa.float64()),
])


@dataclass
class Progress:
    """Files and bytes done out of the run's total, and what the done part produced."""

    total_files: int
    total_bytes: int
    files: int = 0
    bytes: int = 0
    documents: int = 0
    quarantined: int = 0
    started: float = field(default_factory=time.monotonic)

    @property
    def finished(self) -> bool:
        return self.files >= self.total_files

    def counts(self) -> str:
        elapsed = time.monotonic() - self.started
        speed = self.bytes / 1e6 / elapsed if elapsed > 0 else 0.0
        return (f"{self.files}/{self.total_files} files {self.bytes / 1e6:.1f}/{self.total_bytes / 1e6:.1f} MB "
                f"{speed:.1f} MB/s documents={self.documents} quarantined={self.quarantined}")

    def bar(self, width: int = 24) -> str:
        """A bar over bytes, not files: files can differ in size by 10,000 times."""
        share = self.bytes / self.total_bytes if self.total_bytes else (1.0 if self.finished else 0.0)
        filled = int(round(min(share, 1.0) * width))
        return f"[{'#' * filled}{'.' * (width - filled)}] {self.counts()}"


Listener = Callable[[Progress], None]
_listeners: list[Listener] = []
_current: Progress | None = None


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Call `listener` with the run's progress at its start and after every batch, inside the block."""
    _listeners.append(listener)
    try:
        yield
    finally:
        _listeners.remove(listener)


def run_started(total_files: int, total_bytes: int) -> None:
    """The flow found its files: from now on progress is counted against these totals."""
    global _current
    _current = Progress(total_files, total_bytes)
    for listener in list(_listeners):
        listener(_current)


def batch_done(batch: list[RawFile], result: BatchResult) -> str:
    """The flow finished (and committed) one batch: count it, tell the listeners, return a log line."""
    quarantined = sum(1 for record in result.records if record.outcome.quarantine_reason)
    documents = sum(len(record.outcome.docs) for record in result.records if not record.outcome.quarantine_reason)
    size = sum(raw.size for raw in batch)
    line = (f"{len(batch)} files, {len(result.records)} new, {result.skipped} skipped, {documents} documents, "
            f"{quarantined} quarantined, {size / 1e6:.2f} MB")
    if _current is None:
        return line
    _current.files += len(batch)
    _current.bytes += size
    _current.documents += documents
    _current.quarantined += quarantined
    for listener in list(_listeners):
        listener(_current)
    return f"{line}; run so far {_current.counts()}"


class ProgressLine:
    """A progress line redrawn in place on a terminal; ended with a newline when the run ends."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.drawn = False

    def __call__(self, progress: Progress) -> None:
        self.stream.write("\r\x1b[2K" + progress.bar())
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False


@contextmanager
def shown_on(stream: TextIO = sys.stderr) -> Iterator[None]:
    """Draw the progress of runs inside the block on `stream`, only if it is a terminal."""
    if not stream.isatty():
        yield
        return
    line = ProgressLine(stream)
    try:
        with listening(line):
            yield
    finally:
        line.close()


def record_run(store: OutputStore, summary: "RunSummary", pipeline_version: str) -> None:
    """Write the finished run's counts, bytes and seconds as `_state/runs/<run_id>.parquet`."""
    row = {"run_id": summary.run_id, "pipeline_version": pipeline_version,
           "finished_at": datetime.now(timezone.utc), "files": summary.files, "skipped": summary.skipped,
           "documents": summary.documents, "quarantined": summary.quarantined,
           "bytes_read": summary.bytes_read, "seconds": summary.seconds}
    table = pa.table({name: [row[name]] for name in RUN_SCHEMA.names}, schema=RUN_SCHEMA)
    folder = store.path(STATE, RUNS)
    store.fs.create_dir(folder, recursive=True)
    tmp = f"{folder}/.{summary.run_id}.parquet.{summary.run_id}{TMP_SUFFIX}"  # hidden until renamed
    with store.fs.open_output_stream(tmp) as sink:
        pq.write_table(table, sink, compression="zstd")
    store.fs.move(tmp, f"{folder}/{summary.run_id}.parquet")
