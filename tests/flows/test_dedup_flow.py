"""Duplicates across runs through the real clean-corpus flow: separate runs, separate writes, Parquet read back."""
from __future__ import annotations

from pathlib import Path

import pyarrow.dataset as ds
import pytest

from cleaners.dedup import DuplicateIndex
from cleaners.document import CleanContext, Page
from cleaners.normalize import normalize_stage
from cleaners.pipeline import CleanDoc, FileOutcome
from cleaners.split import split_stage
from flows.batch import FileRecord, RawFile
from flows.clean_corpus import clean_corpus
from flows.dedup_state import DEDUP_STATE, mark_duplicates
from flows.storage import OutputStore
from tests.conftest import FIXTURES


@pytest.fixture(scope="module")
def speeches() -> list[str]:
    """Real speeches: the ten parts of seed 003 (4 is an original, 6 a synonym-spun copy of it)."""
    text = (FIXTURES / "split" / "003_9847263fc28bd103.txt").read_text(encoding="utf-8")
    page = split_stage(normalize_stage(Page.from_lines(text.split("\n")), CleanContext()), CleanContext())
    return ["\n".join(draft.lines) for draft in page.drafts]


def write(raw: Path, relative: str, text: str, newline: str = "\n") -> None:
    path = raw / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))


def documents(out: Path) -> list[dict]:
    table = ds.dataset(out / "documents", format="parquet", partitioning="hive").to_table(
        columns=["doc_id", "source_path", "duplicate_of", "run_id"])
    return table.to_pylist()


def test_copy_written_by_a_later_run_points_at_the_earlier_runs_row(prefect_harness, tmp_path, speeches):
    out = tmp_path / "out"
    write(tmp_path / "raw1", "site-a/original.txt", speeches[4])
    write(tmp_path / "raw2", "site-b/spun_copy.txt", speeches[6])
    write(tmp_path / "raw2", "site-b/unrelated.txt", speeches[7])

    first = clean_corpus(raw=str(tmp_path / "raw1"), out=str(out))
    second = clean_corpus(raw=str(tmp_path / "raw2"), out=str(out))

    rows = {r["source_path"]: r for r in documents(out)}
    assert rows["site-a/original.txt"]["run_id"] == first["run_id"]
    assert rows["site-b/spun_copy.txt"]["run_id"] == second["run_id"]
    assert rows["site-b/spun_copy.txt"]["duplicate_of"] == rows["site-a/original.txt"]["doc_id"]
    assert rows["site-a/original.txt"]["duplicate_of"] is None
    assert rows["site-b/unrelated.txt"]["duplicate_of"] is None
    # each run committed the signatures of its own documents beside its rows
    state = OutputStore(str(out)).read_state(DEDUP_STATE)
    assert sorted(state.column("doc_id").to_pylist()) == sorted(r["doc_id"] for r in rows.values())


def test_running_again_over_the_same_files_makes_no_self_duplicates(prefect_harness, tmp_path, speeches):
    out, raw = tmp_path / "out", tmp_path / "raw"
    write(raw, "site-a/original.txt", speeches[0])
    write(raw, "site-a/partial_copy.txt", speeches[1])
    clean_corpus(raw=str(raw), out=str(out))
    clean_corpus(raw=str(raw), out=str(out))  # nothing new: every file is skipped
    assert len(documents(out)) == 2

    # The same file re-processed (its bytes changed, its cleaned text did not): same doc_id, its row replaced.
    write(raw, "site-a/original.txt", speeches[0], newline="\r\n")
    third = clean_corpus(raw=str(raw), out=str(out))
    rows = {r["source_path"]: r for r in documents(out)}
    assert len(rows) == 2 and rows["site-a/original.txt"]["run_id"] == third["run_id"]
    assert rows["site-a/original.txt"]["duplicate_of"] is None
    assert rows["site-a/partial_copy.txt"]["duplicate_of"] == rows["site-a/original.txt"]["doc_id"]


def test_a_retried_commit_marks_and_persists_the_same_rows_again(speeches):
    """The commit task retries; marking the same batch twice must give the same answer and the same state."""
    records = [FileRecord(RawFile(f"/raw/{name}", name, 0, 0.0), f"sha-{name}",
                          FileOutcome([CleanDoc(0, None, text, [], [])]))
               for name, text in (("a.txt", speeches[4]), ("b.txt", speeches[5]), ("bad.txt", ""))]
    records[2].outcome.quarantine_reason = "empty"
    index = DuplicateIndex()
    first = mark_duplicates(index, records)
    again = mark_duplicates(index, records)
    a_id, b_id = (records[i].outcome.docs[0].doc_id(records[i].file.source_path) for i in (0, 1))
    assert first[0] == again[0] == {b_id: a_id}
    assert first[1][DEDUP_STATE].equals(again[1][DEDUP_STATE])
    assert first[1][DEDUP_STATE].column("doc_id").to_pylist() == [a_id, b_id]
