"""The `clean-corpus` Prefect flow: raw folder in, Parquet dataset out.

The flow only orchestrates. It recovers what a killed run left, lists the raw
files, cuts them into batches (thousands of documents per task, since a task
run costs milliseconds and kilobytes of Prefect database), cleans batches in
tasks, and commits each batch's output in order so that a re-run finds
exactly what was finished. All cleaning is in `cleaners/`, all layout in
`flows/storage.py`.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run

from cleaners.document import CleanContext
from cleaners.pipeline import PIPELINE_VERSION
from flows.batch import DEFAULT_MAX_FILE_BYTES, BatchResult, RawFile, batches, clean_batch, discover
from flows.storage import OutputStore, batch_output

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
    quarantine_reasons: dict[str, int] = field(default_factory=dict)

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

    def unaccounted(self) -> int:
        """Files that ended as neither a document, a quarantine row nor an earlier run's work."""
        return self.files - self.files_with_documents - self.quarantined - self.skipped

    def text(self) -> str:
        return (f"files={self.files} skipped={self.skipped} documents={self.documents} "
                f"quarantined={self.quarantined} MB={self.bytes_read / 1e6:.2f} "
                f"seconds={self.seconds:.2f} MB/s={self.mb_per_s:.2f}")

    def markdown(self) -> str:
        reasons = "".join(f"| quarantined: {k} | {v} |\n" for k, v in sorted(self.quarantine_reasons.items()))
        return (f"# clean-corpus run `{self.run_id}`\n\n| measure | value |\n|---|---|\n"
                f"| files seen | {self.files} |\n| already processed (skipped) | {self.skipped} |\n"
                f"| documents written | {self.documents} |\n| files quarantined | {self.quarantined} |\n"
                f"{reasons}| MB read | {self.bytes_read / 1e6:.2f} |\n| seconds | {self.seconds:.2f} |\n"
                f"| MB/s | {self.mb_per_s:.2f} |\n")


@task(name="clean-batch", retries=2, retry_delay_seconds=1, cache_policy=NO_CACHE)
def clean_batch_task(files: list[RawFile], ctx: CleanContext, done: set[str], max_file_bytes: int) -> BatchResult:
    return clean_batch(files, ctx, done, max_file_bytes)


@task(name="commit-batch", retries=3, retry_delay_seconds=2, cache_policy=NO_CACHE)
def commit_batch_task(store: OutputStore, result: BatchResult, batch_id: str, run_id: str) -> None:
    output = batch_output(result.records, batch_id=batch_id, run_id=run_id, pipeline_version=PIPELINE_VERSION,
                          processed_at=datetime.now(timezone.utc))
    store.commit_batch(output)


def _run_id() -> str:
    return str(flow_run.get_id() or uuid.uuid4())


@flow(name="clean-corpus")
def clean_corpus(raw: str = "raw", out: str = "parquet", batch_files: int = DEFAULT_BATCH_FILES,
                 batch_bytes: int = DEFAULT_BATCH_BYTES, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> dict:
    """Clean every new file under `raw` into the Parquet dataset under `out`; return the run summary."""
    logger = get_run_logger()
    started = time.perf_counter()
    run_id = _run_id()
    store = OutputStore(out)
    recovered = store.recover()
    if any(recovered.values()):
        logger.info("recovered from an interrupted run: %s", recovered)
    done = store.processed(PIPELINE_VERSION)
    files = discover(raw)
    summary = RunSummary(run_id=run_id, files=len(files))
    ctx = CleanContext()
    for index, batch in enumerate(batches(files, batch_files, batch_bytes)):
        result = clean_batch_task(batch, ctx, done, max_file_bytes)
        if result.records:
            commit_batch_task(store, result, f"{run_id}-{index:05d}", run_id)
        summary.add(result)
        logger.info("batch %d: %d files, %d new, %d skipped", index, len(batch), len(result.records),
                    result.skipped)
    summary.seconds = time.perf_counter() - started
    if summary.unaccounted():
        raise RuntimeError(f"file accounting failed: {summary.unaccounted()} files unaccounted for ({summary.text()})")
    create_markdown_artifact(key="clean-corpus-summary", markdown=summary.markdown(),
                             description="files, documents, quarantined and throughput of this run")
    logger.info("clean-corpus: %s", summary.text())
    return {"run_id": run_id, **{k: v for k, v in summary.__dict__.items() if k != "run_id"},
            "mb_per_s": summary.mb_per_s}
