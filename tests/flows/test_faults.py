"""Faults injected into real runs of the clean-corpus flow, and what each may cost: nothing but itself.

- A batch task that raises is retried by Prefect, then cleaned file by file: only the bad file is lost
  (to quarantine), its neighbours keep their documents.
- An output folder that cannot be written, or a disk that fills during the commit, fails the run
  loudly, and nothing half-written is visible; the next run writes everything (rows lost: 0).
- A half-written Parquet file left by a crash is never read, by the store or by a plain reader.
"""
from __future__ import annotations

import resource
import shutil
import signal
from pathlib import Path

import duckdb
import pyarrow.dataset as ds
import pytest

import flows.clean_corpus as clean_corpus_module
from flows.clean_corpus import clean_corpus
from flows.storage import DOCUMENTS, QUARANTINE, OutputStore

PARAGRAPHS = ("各位代表：现在我代表政府向大会报告工作，请予审议。", "过去一年，我们坚持稳中求进，经济运行总体平稳。",
              "今年发展的主要预期目标是：国内生产总值增长百分之五左右。", "我们要坚持以人民为中心，持续增进民生福祉。")
POISON = "此文件让整批任务崩溃。"


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    """Six ordinary speeches, one of which carries the poison sentence."""
    folder = tmp_path / "raw" / "site"
    folder.mkdir(parents=True)
    for i in range(6):
        body = "\n".join(f"{p}（第{i}篇）" for p in PARAGRAPHS)
        (folder / f"speech_{i}.txt").write_text(f"关于第{i}项工作的讲话\n{body}\n" + (POISON if i == 4 else ""),
                                                encoding="utf-8")
    return tmp_path / "raw"


def _rows(out: Path, folder: str) -> list[dict]:
    return OutputStore(str(out)).read(folder).to_pylist()


def _visible_data_files(out: Path) -> list[Path]:
    """Files a reader of the dataset could pick up: not hidden, not temporary."""
    return [p for p in out.rglob("*.parquet") if not any(part.startswith(".") for part in p.relative_to(out).parts)]


def test_a_batch_that_raises_is_retried_then_split_so_only_the_bad_file_is_lost(prefect_harness, raw, tmp_path,
                                                                                monkeypatch):
    real_clean_batch = clean_corpus_module.clean_batch
    attempts: list[tuple[str, ...]] = []

    def clean_batch_that_dies_on_poison(files, *args, **kwargs):
        attempts.append(tuple(Path(f.path).name for f in files))
        if any(POISON in Path(f.path).read_text(encoding="utf-8") for f in files):
            raise MemoryError("worker killed while cleaning")
        return real_clean_batch(files, *args, **kwargs)

    monkeypatch.setattr(clean_corpus_module, "clean_batch", clean_batch_that_dies_on_poison)
    out = tmp_path / "out"
    summary = clean_corpus(raw=str(raw), out=str(out), batch_files=3)

    poisoned_batch = ("speech_3.txt", "speech_4.txt", "speech_5.txt")
    assert attempts.count(poisoned_batch) == 3  # the first try and Prefect's two retries
    assert attempts.count(("speech_4.txt",)) == 3  # alone, retried too, then given up
    assert attempts.count(("speech_3.txt",)) == attempts.count(("speech_5.txt",)) == 1
    docs = {row["source_path"] for row in _rows(out, DOCUMENTS)}
    assert docs == {f"site/speech_{i}.txt" for i in (0, 1, 2, 3, 5)}
    [quarantined] = _rows(out, QUARANTINE)
    assert quarantined["source_path"] == "site/speech_4.txt"
    assert quarantined["reason"] == "error: batch failed on this file: MemoryError: worker killed while cleaning"
    assert summary["files"] == 6 and summary["documents"] == 5 and summary["quarantined"] == 1


def test_an_output_path_that_is_not_a_folder_fails_the_run_loudly(prefect_harness, raw, tmp_path):
    out = tmp_path / "out"
    out.write_text("a file where the output folder should be")
    with pytest.raises(OSError):
        clean_corpus(raw=str(raw), out=str(out))
    assert out.read_text() == "a file where the output folder should be"


FULL_DISK_BYTES = 1024  # room for the lock and small state, not for a Parquet file


def test_a_disk_that_fills_during_the_commit_fails_the_run_and_hides_every_half_written_file(
        prefect_harness, raw, tmp_path):
    """RLIMIT_FSIZE makes every write past 1 KB fail with EFBIG, as a full disk fails it with ENOSPC."""
    out = tmp_path / "out"
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    previous = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the default action would kill the test process
    resource.setrlimit(resource.RLIMIT_FSIZE, (FULL_DISK_BYTES, hard))
    try:
        with pytest.raises(OSError, match="too large|No space"):
            clean_corpus(raw=str(raw), out=str(out))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, previous)
    assert _visible_data_files(out) == []
    assert _rows(out, DOCUMENTS) == [] and _rows(out, QUARANTINE) == []

    summary = clean_corpus(raw=str(raw), out=str(out))  # the disk has room again
    assert summary["documents"] == 6 and summary["quarantined"] == 0
    assert sorted(row["source_path"] for row in _rows(out, DOCUMENTS)) == [f"site/speech_{i}.txt" for i in range(6)]
    assert not [p for p in out.rglob("*.tmp")]


def test_a_half_written_parquet_file_left_by_a_crash_is_never_read(prefect_harness, raw, tmp_path):
    out = tmp_path / "out"
    clean_corpus(raw=str(raw), out=str(out))
    before = sorted(row["doc_id"] for row in _rows(out, DOCUMENTS))
    [committed] = [p for p in _visible_data_files(out) if p.is_relative_to(out / DOCUMENTS)]
    data = committed.read_bytes()
    # What a writer killed mid-file leaves: a truncated temporary beside the real file, never renamed.
    crashed = committed.parent / f".{committed.name}.crashed-batch.tmp"
    crashed.write_bytes(data[:len(data) // 2])

    assert sorted(row["doc_id"] for row in _rows(out, DOCUMENTS)) == before
    plain = ds.dataset(out / DOCUMENTS, format="parquet", partitioning="hive").to_table()
    assert sorted(plain.column("doc_id").to_pylist()) == before
    rows = duckdb.sql(f"select doc_id from read_parquet('{out / DOCUMENTS}/**/*.parquet') order by doc_id").fetchall()
    assert [r[0] for r in rows] == before

    shutil.copytree(raw / "site", raw / "more")  # the next run has work, and recovers first
    summary = clean_corpus(raw=str(raw), out=str(out))
    assert not crashed.exists()
    assert summary["documents"] == 6
    after = _rows(out, DOCUMENTS)
    assert len(after) == 12 and len({row["doc_id"] for row in after}) == 12
