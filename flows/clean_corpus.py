"""The `clean-corpus` Prefect flow: raw folder in, Parquet dataset out.

The flow only orchestrates. It takes the output folder's lock, recovers what
a killed run left, walks the raw files and keeps those not yet processed under
this pipeline version (`WorkPlan`), cuts them as they come into batches (thousands of
documents per task, since a task run costs milliseconds and kilobytes of
Prefect database), cleans batches on the chosen task runner
(`flows.runners`), and commits each batch's output in order so that a re-run
finds exactly what was finished. All cleaning is in `cleaners/`, all layout
in `flows/storage.py`.

`process_corpus` is the run itself; the `clean-corpus` flow (every new file)
and the `backfill-corpus` flow (`flows.backfill`: a selection, optionally
forced) are thin wrappers, so that per-run state (the duplicate index, site
line evidence gathered over the files to clean) is built in one place.
"""
from __future__ import annotations

import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable, Iterable, Iterator

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from prefect.utilities.annotations import quote

from cleaners.dedup import DuplicateIndex
from cleaners.document import CleanContext
from cleaners.limits import DEFAULT_MAX_LINE_CHARS
from cleaners.pipeline import PIPELINE_VERSION
from flows.batch import (DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_FILE_SECONDS, BatchResult, RawFile, batches,
                         clean_batch, clean_with_fallback, discover, frozen_heap)
from flows.dedup_state import load_duplicate_index, mark_duplicates
from flows import progress
from flows.site_state import load_site_lines, site_lines_state
from flows.runners import RunnerChoice, WorkerPool, in_order, task_submitter
from flows.storage import ManifestIndex, OutputStore, batch_output

DEFAULT_BATCH_FILES = 2000
DEFAULT_BATCH_BYTES = 64 * 1024 * 1024


@dataclass
class RunSummary:
    """What a run did, for the printed summary, the artifact and the accounting check."""

    run_id: str
    files: int = 0
    skipped: int = 0
    documents: int = 0
    quarantined: int = 0
    files_with_documents: int = 0
    bytes_read: int = 0
    seconds: float = 0.0
    duplicates: int = 0
    quarantine_reasons: dict[str, int] = field(default_factory=dict)
    removed_by_rule: Counter = field(default_factory=Counter)  # lines and spans removed, per rule
    repairs_by_pair: Counter = field(default_factory=Counter)  # "wrong→right" -> characters repaired

    @property
    def mb_per_s(self) -> float:
        return self.bytes_read / 1e6 / self.seconds if self.seconds else 0.0

    def add(self, result: BatchResult) -> None:
        self.skipped += result.skipped
        self.bytes_read += result.bytes_read
        for record in result.records:
            reason = record.outcome.quarantine_reason
            if reason:
                self.quarantined += 1
                kind = reason.split(":", 1)[0]
                self.quarantine_reasons[kind] = self.quarantine_reasons.get(kind, 0) + 1
            else:
                self.files_with_documents += 1
                self.documents += len(record.outcome.docs)
                for doc in record.outcome.docs:
                    self.removed_by_rule.update(removal.rule for removal in doc.removed)
                    for wrong, right, count in doc.repairs:
                        self.repairs_by_pair[f"{wrong}→{right}"] += count

    def unaccounted(self) -> int:
        """Files that ended as neither a document, a quarantine row nor an earlier run's work."""
        return self.files - self.files_with_documents - self.quarantined - self.skipped

    def text(self) -> str:
        return (f"files={self.files} skipped={self.skipped} documents={self.documents} "
                f"quarantined={self.quarantined} MB={self.bytes_read / 1e6:.2f} "
                f"seconds={self.seconds:.2f} MB/s={self.mb_per_s:.2f}")

    def table(self, top: int = 20) -> list[dict[str, str | int | float]]:
        """Rows (measure, value) for the run's table artifact; the `top` most frequent rules and repairs."""
        rows: list[tuple[str, str | int | float]] = [
            ("files seen", self.files), ("already processed (skipped)", self.skipped),
            ("files with documents", self.files_with_documents), ("documents written", self.documents),
            ("files quarantined", self.quarantined), ("duplicates marked", self.duplicates),
            *((f"quarantined: {k}", v) for k, v in sorted(self.quarantine_reasons.items())),
            ("lines removed", sum(self.removed_by_rule.values())),
            *((f"removed by rule: {rule}", n) for rule, n in self.removed_by_rule.most_common(top)),
            ("characters repaired", sum(self.repairs_by_pair.values())),
            *((f"repaired: {pair}", n) for pair, n in self.repairs_by_pair.most_common(top)),
            ("MB read", round(self.bytes_read / 1e6, 2)), ("seconds", round(self.seconds, 2)),
            ("MB/s", round(self.mb_per_s, 2)),
        ]
        return [{"measure": measure, "value": value} for measure, value in rows]

    def markdown(self, title: str = "clean-corpus") -> str:
        """The table artifact's rows as a link-free markdown summary."""
        rows = "".join(f"| {row['measure']} | {row['value']} |\n" for row in self.table())
        return f"# {title} run `{self.run_id}`\n\n| measure | value |\n|---|---|\n{rows}"


@dataclass
class WorkPlan:
    """Which files a run cleans, decided one file at a time as the raw folder is walked.

    No list of the raw folder is kept: a run's memory must not grow with it.
    A file is skipped without being read if the manifest has it processed under
    this pipeline version with the same size and mtime; a file that changed
    only by stat is cleaned by a task that first hashes it and skips it if its
    content is what was processed (`done_in`). `force` re-processes every
    file; `rehash` skips the stat pre-check, so only content decides.
    """

    index: ManifestIndex
    pipeline_version: str
    force: bool = False
    rehash: bool = False
    seen: int = 0  # files walked by `todo`
    unchanged: int = 0  # of those, skipped by the stat pre-check

    def needs_work(self, raw: RawFile) -> bool:
        return (self.force or self.rehash
                or not self.index.unchanged(raw.source_path, raw.size, raw.mtime, self.pipeline_version))

    def survey(self, files: Iterable[RawFile]) -> tuple[int, int]:
        """(files, bytes) a walk would clean: the run's announced total, counted without keeping the files."""
        count = size = 0
        for raw in files:
            if self.needs_work(raw):
                count, size = count + 1, size + raw.size
        return count, size

    def todo(self, files: Iterable[RawFile]) -> Iterator[RawFile]:
        """The files to clean, as `files` yields them; counts what it walks and skips."""
        for raw in files:
            self.seen += 1
            if self.needs_work(raw):
                yield raw
            else:
                self.unchanged += 1

    def done_in(self, batch: list[RawFile]) -> set[tuple[str, str]]:
        """The (source_path, raw_sha256) pairs of a batch already processed (small to ship to a worker)."""
        if self.force:
            return set()
        return set(self.index.done((raw.source_path for raw in batch), self.pipeline_version).items())


@task(name="clean-batch", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def clean_batch_task(files: list[RawFile], ctx: CleanContext, done: set[tuple[str, str]],
                     max_file_bytes: int, pool: WorkerPool | None = None) -> BatchResult:
    """Clean one batch here, or in a worker process of `pool` (the `process` runner)."""
    if pool is not None:
        return pool.run(clean_batch, files, ctx, done, max_file_bytes)
    return clean_batch(files, ctx, done, max_file_bytes)


@task(name="commit-batch", retries=3, retry_delay_seconds=2, cache_policy=NO_CACHE)
def commit_batch_task(store: OutputStore, result: BatchResult, batch_id: str, run_id: str,
                      dedup: DuplicateIndex) -> int:
    """Commit one batch; return how many of its documents were marked duplicates."""
    duplicate_of, dedup_state = mark_duplicates(dedup, result.records)  # in commit order: earliest copy wins
    output = batch_output(result.records, batch_id=batch_id, run_id=run_id, pipeline_version=PIPELINE_VERSION,
                          processed_at=datetime.now(timezone.utc), duplicate_of=duplicate_of)
    output.state.update(dedup_state)
    output.state.update(site_lines_state(result.site_lines))
    store.commit_batch(output)
    return len(duplicate_of)


def _run_id() -> str:
    return str(flow_run.get_id() or uuid.uuid4())


@frozen_heap()
def process_corpus(raw: str, out: str, *, batch_files: int = DEFAULT_BATCH_FILES,
                   batch_bytes: int = DEFAULT_BATCH_BYTES, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
                   runner: RunnerChoice = RunnerChoice(), select: Callable[[RawFile], bool] | None = None,
                   force: bool = False, rehash: bool = False, lock_wait_seconds: float = 0.0,
                   title: str = "clean-corpus", max_file_seconds: float = DEFAULT_MAX_FILE_SECONDS,
                   max_line_chars: int = DEFAULT_MAX_LINE_CHARS) -> dict:
    """One run inside a flow: clean the selected files under `raw` that need it into `out`; return the summary."""
    logger = get_run_logger()
    started = time.perf_counter()
    run_id = _run_id()
    store = OutputStore(out)
    # The runner opens first: a process pool's workers start while the run recovers and surveys.
    with store.lock(run_id, wait=lock_wait_seconds) as lock, task_submitter(runner) as submit:
        recovered = store.recover()
        if any(recovered.values()):
            logger.info("recovered from an interrupted run: %s", recovered)
        dedup = load_duplicate_index(store)

        def selected() -> Iterator[RawFile]:
            return (raw_file for raw_file in discover(raw) if select is None or select(raw_file))

        plan = WorkPlan(store.index(), PIPELINE_VERSION, force=force, rehash=rehash)
        progress.run_started(*plan.survey(selected()))
        summary = RunSummary(run_id=run_id)
        ctx = CleanContext(options={"max_file_seconds": max_file_seconds, "max_line_chars": max_line_chars},
                           site_lines=load_site_lines(store))

        def clean(batch: list[RawFile]):
            # quote(): Prefect would otherwise walk every object of these looking for futures,
            # which cost more than cleaning (bench/run.py: Prefect overhead 14% -> see README, Performance).
            return submit(clean_batch_task, {"files": quote(batch), "ctx": quote(ctx),
                                             "done": quote(plan.done_in(batch)), "max_file_bytes": max_file_bytes})

        cut = batches(plan.todo(selected()), batch_files, batch_bytes)
        for index, (batch, future) in enumerate(in_order(cut, clean, runner.in_flight)):
            # The whole batch's answer is the future already submitted; only a failed batch is
            # cleaned again, file by file, so one bad file costs only itself.
            result = clean_with_fallback(batch, lambda part: (future if part is batch else clean(part)).result())
            if result.records:
                lock.check()
                summary.duplicates += commit_batch_task(store, quote(result), f"{run_id}-{index:05d}", run_id,
                                                        quote(dedup))
            summary.add(result)
            logger.info("batch %d: %s", index, progress.batch_done(batch, result))
        summary.files, summary.skipped = plan.seen, summary.skipped + plan.unchanged
        summary.seconds = time.perf_counter() - started
        if summary.unaccounted():
            raise RuntimeError(f"file accounting failed: {summary.unaccounted()} files unaccounted for "
                               f"({summary.text()})")
        progress.record_run(store, summary, PIPELINE_VERSION)
    create_table_artifact(key=f"{title}-table", table=summary.table(),
                          description="files, documents, quarantined, removals by rule, repairs, duplicates, MB/s")
    create_markdown_artifact(key=f"{title}-summary", markdown=summary.markdown(title),
                             description="files, documents, quarantined and throughput of this run")
    logger.info("%s: %s", title, summary.text())
    return {"run_id": run_id, **{k: (dict(v) if isinstance(v, dict) else v) for k, v in summary.__dict__.items()
                                 if k != "run_id"}, "mb_per_s": summary.mb_per_s}


@flow(name="clean-corpus")
def clean_corpus(raw: str = "raw", out: str = "parquet", batch_files: int = DEFAULT_BATCH_FILES,
                 batch_bytes: int = DEFAULT_BATCH_BYTES, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
                 task_runner: str = "sequential", workers: int = 1, dask_address: str | None = None,
                 rehash: bool = False, max_file_seconds: float = DEFAULT_MAX_FILE_SECONDS,
                 max_line_chars: int = DEFAULT_MAX_LINE_CHARS, lock_wait_seconds: float = 0.0) -> dict:
    """Clean every new file under `raw` into the Parquet dataset under `out`; return the run summary.

    A file is new if its path and content (raw_sha256) were not processed under this pipeline
    version; `rehash` checks content even for files whose size and mtime are unchanged. If another
    run holds the output folder, wait up to `lock_wait_seconds` for it, then fail naming the holder.
    """
    return process_corpus(raw, out, batch_files=batch_files, batch_bytes=batch_bytes,
                          max_file_bytes=max_file_bytes, runner=RunnerChoice(task_runner, workers, dask_address),
                          rehash=rehash, max_file_seconds=max_file_seconds, max_line_chars=max_line_chars,
                          lock_wait_seconds=lock_wait_seconds)
