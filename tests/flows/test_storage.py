"""The commit protocol of `flows.storage`: a batch is visible whole or not at all, whatever step fails.

Failures are injected into the filesystem (a pyarrow `PyFileSystem` over the
local disk that raises at the Nth rename), not into the store, so the store's
own code runs exactly as in production.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from pyarrow import fs as pafs

from cleaners.pipeline import CleanDoc, FileOutcome
from flows.batch import FileRecord, RawFile
from flows.clean_corpus import WorkPlan
from flows.storage import (MANIFEST, MANIFEST_SCHEMA, REMOVED_TYPE, REPAIRS_TYPE, ListColumn, ManifestIndex,
                           OutputStore, Processed, batch_output)

WHEN = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


class FailingMoves(pafs.FileSystemHandler):
    """The local filesystem, except that rename number `fail_at` (counting from 1) raises."""

    def __init__(self, fail_at: int | None = None):
        self.local = pafs.LocalFileSystem()
        self.fail_at = fail_at
        self.moves = 0

    def move(self, src, dest):
        self.moves += 1
        if self.moves == self.fail_at:
            raise OSError(f"injected failure at rename {self.moves}")
        self.local.move(src, dest)

    def get_type_name(self): return "failing-moves"
    def equals(self, other): return self is other
    def get_file_info(self, paths): return self.local.get_file_info(paths)
    def get_file_info_selector(self, selector): return self.local.get_file_info(selector)
    def create_dir(self, path, recursive): self.local.create_dir(path, recursive=recursive)
    def delete_dir(self, path): self.local.delete_dir(path)
    def delete_dir_contents(self, path, missing_dir_ok=False): self.local.delete_dir_contents(path, missing_dir_ok)
    def delete_root_dir_contents(self): raise NotImplementedError
    def delete_file(self, path): self.local.delete_file(path)
    def copy_file(self, src, dest): self.local.copy_file(src, dest)
    def open_input_stream(self, path): return self.local.open_input_stream(path)
    def open_input_file(self, path): return self.local.open_input_file(path)
    def open_output_stream(self, path, metadata): return self.local.open_output_stream(path)
    def open_append_stream(self, path, metadata): return self.local.open_append_stream(path)
    def normalize_path(self, path): return path


def _record(source: str, text: str | None, mtime: float = 1.0) -> FileRecord:
    raw = RawFile(path=f"/raw/{source}", source_path=source, size=len(text or ""), mtime=mtime)
    if text is None:
        return FileRecord(raw, f"sha-{source}-bad", FileOutcome(quarantine_reason="empty"))
    doc = CleanDoc(0, None, text, [], [])
    return FileRecord(raw, f"sha-{source}-{text}", FileOutcome([doc], "utf-8", 1.0, None))


def _commit(store: OutputStore, batch_id: str, records: list[FileRecord]) -> None:
    store.commit_batch(batch_output(records, batch_id=batch_id, run_id="run", pipeline_version="v1",
                                    processed_at=WHEN))


def _rows(out: Path) -> set[tuple[str, str]]:
    folder = out / "documents"
    if not folder.exists():
        return set()
    table = ds.dataset(folder, format="parquet").to_table(columns=["source_path", "text"])
    rows = list(zip(table.column("source_path").to_pylist(), table.column("text").to_pylist()))
    assert len(rows) == len(set(rows)), "a row is duplicated"
    return set(rows)


def _quarantined(out: Path) -> list[str]:
    folder = out / "quarantine"
    return ds.dataset(folder, format="parquet").to_table().column("source_path").to_pylist() if folder.exists() else []


FIRST = [_record("a.txt", "甲"), _record("b.txt", "乙"), _record("c.txt", None)]
# The second batch: a.txt changed, c.txt now has content, b.txt untouched, d.txt new.
SECOND = [_record("a.txt", "甲二"), _record("c.txt", "丙"), _record("d.txt", "丁")]
BEFORE = {("a.txt", "甲"), ("b.txt", "乙")}
AFTER = {("a.txt", "甲二"), ("b.txt", "乙"), ("c.txt", "丙"), ("d.txt", "丁")}
# The second commit renames 4 files: its manifest (the commit point), then the rewritten documents
# file of a.txt and b.txt, its own documents file (c.txt, d.txt) and the rewritten quarantine file.
RENAMES = 4


@pytest.mark.parametrize("fail_at", range(1, RENAMES + 1))
def test_a_commit_that_fails_at_any_rename_is_old_or_new_and_recovery_finishes_it(tmp_path, fail_at):
    out = tmp_path / "out"
    _commit(OutputStore(str(out)), "b1", FIRST)
    handler = FailingMoves(fail_at)
    store = OutputStore(str(out), pafs.PyFileSystem(handler))
    with pytest.raises(OSError, match="injected"):
        _commit(store, "b2", SECOND)
    committed = (out / MANIFEST / "b2.parquet").exists()
    # Readers see either the old rows or (per source) the new ones, never both versions of a file.
    for source, text in _rows(out):
        assert (source, text) in BEFORE | AFTER
    recovered = OutputStore(str(out))
    result = recovered.recover()
    assert not [p for p in out.rglob("*.tmp")]
    assert _rows(out) == (AFTER if committed else BEFORE)
    assert sorted(_quarantined(out)) == ([] if committed else ["c.txt"])
    assert result["finished" if committed else "dropped"] > 0


def test_the_manifest_rename_is_the_commit_point(tmp_path):
    out = tmp_path / "out"
    _commit(OutputStore(str(out)), "b1", FIRST)
    handler = FailingMoves()
    store = OutputStore(str(out), pafs.PyFileSystem(handler))
    _commit(store, "b2", SECOND)
    renames = handler.moves
    for fail_at, committed in ((1, False), (2, True)):
        out2 = tmp_path / f"out{fail_at}"
        _commit(OutputStore(str(out2)), "b1", FIRST)
        with pytest.raises(OSError):
            _commit(OutputStore(str(out2), pafs.PyFileSystem(FailingMoves(fail_at))), "b2", SECOND)
        assert (out2 / MANIFEST / "b2.parquet").exists() == committed
    assert renames == RENAMES


def test_reprocessed_files_replace_their_rows_in_place_and_the_index_follows(tmp_path):
    out = tmp_path / "out"
    store = OutputStore(str(out))
    _commit(store, "b1", FIRST)
    first_files = sorted(p.name for p in (out / "documents").rglob("*.parquet"))
    _commit(store, "b2", SECOND)
    assert _rows(out) == AFTER
    assert _quarantined(out) == []  # c.txt's quarantine row went when it got documents
    # a.txt's new rows went into the file that held its old ones: one rename swapped them.
    index = OutputStore(str(out)).index()
    latest = index.latest(["a.txt", "b.txt", "c.txt", "d.txt", "never.txt"])
    assert latest["a.txt"].documents_file == latest["b.txt"].documents_file
    assert latest["a.txt"].documents_file.endswith(first_files[0])
    assert latest["d.txt"].documents_file.endswith("b2.parquet")
    assert latest["a.txt"].raw_sha256 == "sha-a.txt-甲二" and index.next_seq == 2
    assert "never.txt" not in latest and len(index) == len(latest) == 4
    assert store.index().latest(latest) == latest  # the running store kept its index current


def test_a_retried_commit_gives_the_same_dataset(tmp_path):
    out = tmp_path / "out"
    store = OutputStore(str(out))
    _commit(store, "b1", FIRST)
    with pytest.raises(OSError):
        _commit(OutputStore(str(out), pafs.PyFileSystem(FailingMoves(3))), "b2", SECOND)
    _commit(store, "b2", SECOND)  # the task's retry, before any recovery
    assert _rows(out) == AFTER
    assert not [p for p in out.rglob("*.tmp")]


def _manifest(seq: int | None, **latest: Processed) -> pa.Table:
    """Manifest rows of one commit (`seq`, None: written before commits were numbered)."""
    rows = [{"source_path": name.replace("_", "."), **{f: getattr(p, f) for f in Processed.__slots__},
             "commit_seq": seq} for name, p in latest.items()]
    return pa.Table.from_pylist(rows, schema=MANIFEST_SCHEMA)


def _index(**latest: Processed) -> ManifestIndex:
    index = ManifestIndex()
    index.record(_manifest(0, **latest))
    return index


DONE = Processed("sha-a", "v1", 10, 5.0, "documents/x.parquet", None)


@pytest.mark.parametrize("size, mtime, version, force, rehash, todo, done", [
    (10, 5.0, "v1", False, False, [], set()),  # unchanged: skipped without reading
    (10, 6.0, "v1", False, False, ["a.txt"], {("a.txt", "sha-a")}),  # touched: hashed, skipped if same content
    (11, 5.0, "v1", False, False, ["a.txt"], {("a.txt", "sha-a")}),  # grew
    (10, 5.0, "v2", False, False, ["a.txt"], set()),  # new pipeline version: redo
    (10, 5.0, "v1", False, True, ["a.txt"], {("a.txt", "sha-a")}),  # rehash: content decides
    (10, 5.0, "v1", True, False, ["a.txt"], set()),  # force: redo
])
def test_work_plan(size, mtime, version, force, rehash, todo, done):
    files = [RawFile("/raw/a.txt", "a.txt", size, mtime), RawFile("/raw/new.txt", "new.txt", 3, 1.0)]
    plan = WorkPlan(_index(a_txt=DONE), version, force=force, rehash=rehash)
    announced = plan.survey(iter(files))
    todo_files = list(plan.todo(iter(files)))
    assert [f.source_path for f in todo_files] == todo + ["new.txt"]
    assert announced == (len(todo_files), sum(f.size for f in todo_files))
    assert plan.done_in(todo_files) == done and plan.seen == 2 and plan.unchanged == 2 - len(todo_files)


@pytest.mark.parametrize("order", [(0, 1, 2), (2, 1, 0), (1, 2, 0)])
def test_manifest_index_keeps_the_latest_commit_whatever_order_manifests_are_read_in(order):
    commits = [_manifest(None, a_txt=DONE),  # written before commits were numbered: oldest
               _manifest(3, a_txt=replace(DONE, raw_sha256="sha-3"), b_txt=DONE),
               _manifest(7, a_txt=replace(DONE, raw_sha256="sha-7"))]
    index = ManifestIndex()
    for n in order:
        index.record(commits[n])
    latest = index.latest(["a.txt", "b.txt"])
    assert latest["a.txt"].raw_sha256 == "sha-7" and latest["b.txt"] == DONE and index.next_seq == 8


def test_manifest_written_before_a_column_existed_reads_it_as_null(tmp_path):
    folder = tmp_path / "out" / MANIFEST
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"raw_sha256": ["s"], "source_path": ["old.txt"], "pipeline_version": ["v0"]}),
                   folder / "old.parquet")
    index = OutputStore(str(tmp_path / "out")).index()
    assert index.get("old.txt") == Processed("s", "v0", None, None, None, None)
    assert index.next_seq == 0


def test_state_streamed_in_record_batches_is_every_committed_row_in_the_same_order_each_time(tmp_path):
    """`DuplicateIndex.load` reads a state table twice and relies on seeing the same rows in the same order."""
    store = OutputStore(str(tmp_path / "out"))
    assert list(store.iter_state("dedup", ["n"])) == []  # no state yet
    for batch_id, values in (("b2", [3, 4, 5]), ("b1", [1, 2])):
        output = batch_output([_record(f"{batch_id}.txt", "甲")], batch_id=batch_id, run_id="run",
                              pipeline_version="v1", processed_at=WHEN)
        output.state["dedup"] = pa.table({"n": values, "other": [str(v) for v in values]})
        store.commit_batch(output)
    (tmp_path / "out" / "_state" / "dedup" / ".b3.parquet.b3.tmp").write_bytes(b"an uncommitted temporary")

    def passes() -> list[list[int]]:
        return [batch.column("n").to_pylist() for batch in store.iter_state("dedup", ["n"], batch_rows=2)]

    assert passes() == passes() == [[1, 2], [3, 4], [5]]  # file by file in path order, at most 2 rows a batch
    assert sorted(store.read_state("dedup").column("n").to_pylist()) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("type_, rows", [
    (REMOVED_TYPE, [[("页眉", "nav:header"), ("上一篇", "nav:pager")], [], [("广告", "ad:banner")]]),
    (REPAIRS_TYPE, [[], [("癿", "的", 3), ("仸", "任", 1)], []]),
    (REMOVED_TYPE, []),
], ids=["removals", "repairs", "no-rows"])
def test_list_columns_hold_what_arrow_makes_of_the_same_rows(type_, rows):
    column = ListColumn(type_)
    for row in rows:
        column.add(row)
    names = [field.name for field in type_.value_type]
    expected = pa.array([[dict(zip(names, item)) for item in row] for row in rows], type_)
    assert column.array().equals(expected)
