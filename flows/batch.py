"""Finding raw files, cutting them into batches, and cleaning one batch.

Nothing here imports Prefect: the flow wraps `clean_batch` in a task, and the
benchmark calls it in a plain loop to show what orchestration costs.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

from cleaners.document import CleanContext
from cleaners.pipeline import FileOutcome, clean_bytes, site_from_path

RAW_SUFFIXES = {".txt", ".htm", ".html", ""}
DEFAULT_MAX_FILE_BYTES = 50 * 1024 * 1024


@dataclass(frozen=True)
class RawFile:
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


@dataclass
class BatchResult:
    records: list[FileRecord] = field(default_factory=list)
    skipped: int = 0  # already processed under this pipeline version
    bytes_read: int = 0


def _source_path(root: Path, path: Path) -> str:
    rel = path.relative_to(root).as_posix()
    # Names that are not valid UTF-8 keep their bytes as surrogate escapes; record them readably.
    return rel.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def discover(raw_root: str | Path) -> list[RawFile]:
    """Every candidate file under `raw_root`, sorted; links that leave the folder are not followed."""
    root = Path(raw_root).resolve()
    found: list[RawFile] = []
    for folder, dirs, names in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            if name.startswith("."):
                continue
            path = Path(folder) / name
            if path.suffix.lower() not in RAW_SUFFIXES:
                continue
            if path.is_symlink():
                target = path.resolve()
                if root not in target.parents or not target.is_file():
                    continue
            try:
                stat = path.stat()
            except OSError:
                continue
            found.append(RawFile(str(path), _source_path(root, path), stat.st_size, stat.st_mtime))
    return found


def batches(files: list[RawFile], max_files: int, max_bytes: int) -> list[list[RawFile]]:
    """Cut the file list into batches of at most `max_files` files and about `max_bytes` bytes."""
    out: list[list[RawFile]] = []
    current: list[RawFile] = []
    size = 0
    for raw in files:
        if current and (len(current) >= max_files or size + raw.size > max_bytes):
            out.append(current)
            current, size = [], 0
        current.append(raw)
        size += raw.size
    if current:
        out.append(current)
    return out


def _digest(path: str) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def clean_file(raw: RawFile, data: bytes, ctx: CleanContext) -> FileOutcome:
    """Clean one file's bytes; any failure becomes a quarantine reason for this file alone."""
    try:
        return clean_bytes(data, raw.source_path, ctx)
    except Exception as exc:  # a bug on one page must not cost the batch its data
        return FileOutcome(site=site_from_path(raw.source_path),
                           quarantine_reason=f"error: {type(exc).__name__}: {exc}"[:500])


def clean_batch(files: list[RawFile], ctx: CleanContext, done: set[str] | frozenset[str] = frozenset(),
                max_file_bytes: int = DEFAULT_MAX_FILE_BYTES) -> BatchResult:
    """Clean every file of a batch whose content (raw_sha256) is not in `done`."""
    result = BatchResult()
    for raw in files:
        site = site_from_path(raw.source_path)
        try:
            if raw.size > max_file_bytes:
                digest, data = _digest(raw.path), b""
            else:
                data = Path(raw.path).read_bytes()
                digest = hashlib.sha256(data).hexdigest()
        except OSError as exc:
            reason = f"unreadable: {exc.strerror or exc}"
            result.records.append(FileRecord(raw, "", FileOutcome(site=site, quarantine_reason=reason)))
            continue
        result.bytes_read += raw.size
        if digest in done:
            result.skipped += 1
            continue
        if raw.size > max_file_bytes:
            outcome = FileOutcome(site=site, quarantine_reason=f"oversize: {raw.size} bytes > {max_file_bytes}")
        else:
            outcome = clean_file(raw, data, ctx)
        result.records.append(FileRecord(raw, digest, outcome))
    return result
