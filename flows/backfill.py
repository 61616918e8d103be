"""The `backfill-corpus` Prefect flow: clean again a chosen part of the raw folder.

Used after a rule changed: select files by date and path pattern, and with
`force` re-process them even if this pipeline version already did. Each
re-processed file's old rows are replaced by its new ones in the same data
file, one rename per file (see `flows.storage`), so a reader sees a file's
old rows or its new rows, never both and never neither. Backfills check
content (they hash every selected file) rather than trusting size and mtime.

A file's date is the date folder in its path (`raw/2026-11-01/…`, or
`raw/site/20261101/…`) when it has one, otherwise its modification time (UTC).
`since` and `until` are ISO dates or date-times (naive ones are UTC); a plain
date as `until` includes that whole day. `glob` is a shell pattern matched
against the path relative to the raw folder, in which `*` also matches `/`.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from fnmatch import fnmatchcase
from pathlib import PurePosixPath

from prefect import flow

from cleaners.limits import DEFAULT_MAX_LINE_CHARS
from flows.batch import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_FILE_SECONDS, RawFile
from flows.clean_corpus import DEFAULT_BATCH_BYTES, DEFAULT_BATCH_FILES, process_corpus
from flows.runners import RunnerChoice

DAY_FOLDER = re.compile(r"^(\d{4})-?(\d{2})-?(\d{2})$")


def parse_bound(text: str | None, *, end: bool) -> datetime | None:
    """An ISO date or date-time as an aware UTC datetime; a plain date as `end` means the next midnight."""
    if not text:
        return None
    text = text.strip()
    try:
        day = date.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            raise ValueError(f"not an ISO date or date-time: {text!r} (e.g. 2026-11-01 or 2026-11-01T12:00)")
        return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    moment = datetime.combine(day, time(), timezone.utc)
    return moment + timedelta(days=1) if end else moment


def file_time(raw: RawFile) -> datetime:
    """The date folder nearest the file (midnight UTC), else the file's modification time."""
    for part in reversed(PurePosixPath(raw.source_path).parts[:-1]):
        match = DAY_FOLDER.match(part)
        if match:
            try:
                return datetime(*map(int, match.groups()), tzinfo=timezone.utc)
            except ValueError:
                continue  # 20261399 looks like a date but is not one
    return datetime.fromtimestamp(raw.mtime, timezone.utc)


@dataclass(frozen=True)
class Selection:
    """Which raw files a backfill takes: since <= file time < until, and path matching `glob`."""

    since: datetime | None = None
    until: datetime | None = None
    glob: str | None = None

    @classmethod
    def parse(cls, since: str | None = None, until: str | None = None, glob: str | None = None) -> "Selection":
        selection = cls(parse_bound(since, end=False), parse_bound(until, end=True), glob or None)
        if selection.since and selection.until and selection.since >= selection.until:
            raise ValueError(f"empty range: since {since} is not before until {until}")
        return selection

    def __call__(self, raw: RawFile) -> bool:
        if self.glob and not fnmatchcase(raw.source_path, self.glob):
            return False
        if self.since or self.until:
            moment = file_time(raw)
            if (self.since and moment < self.since) or (self.until and moment >= self.until):
                return False
        return True


@flow(name="backfill-corpus")
def backfill_corpus(raw: str = "raw", out: str = "parquet", since: str | None = None, until: str | None = None,
                    glob: str | None = None, force: bool = False, batch_files: int = DEFAULT_BATCH_FILES,
                    batch_bytes: int = DEFAULT_BATCH_BYTES, max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
                    task_runner: str = "sequential", workers: int = 1, dask_address: str | None = None,
                    max_file_seconds: float = DEFAULT_MAX_FILE_SECONDS, max_line_chars: int = DEFAULT_MAX_LINE_CHARS,
                    lock_wait_seconds: float = 0.0) -> dict:
    """Clean the files under `raw` selected by date and pattern; with `force`, even those already done.

    Without `force` a backfill cleans the selected files that this pipeline version has not
    processed; with it, every selected file, replacing its rows. If another run holds the output
    folder, wait up to `lock_wait_seconds` for it.
    """
    return process_corpus(raw, out, batch_files=batch_files, batch_bytes=batch_bytes, max_file_bytes=max_file_bytes,
                          runner=RunnerChoice(task_runner, workers, dask_address),
                          select=Selection.parse(since, until, glob), force=force, rehash=True,
                          max_file_seconds=max_file_seconds, max_line_chars=max_line_chars,
                          lock_wait_seconds=lock_wait_seconds, title="backfill-corpus")
