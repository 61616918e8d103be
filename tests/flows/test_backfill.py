"""`corpus-clean backfill`: file selection by date folder, mtime and pattern; forced re-processing that
replaces rows while a reader watches."""
from __future__ import annotations

import os
import threading
import time
from datetime import datetime, timezone

import pyarrow.dataset as ds
import pytest

from flows.backfill import Selection, file_time, parse_bound
from flows.batch import RawFile
from tests.flows.operations import cli, document_rows, generate_corpus, prefect_server, read_table

MTIME_2026_11_05 = datetime(2026, 11, 5, 10, 0, tzinfo=timezone.utc).timestamp()


def _raw(source_path: str, mtime: float = MTIME_2026_11_05) -> RawFile:
    return RawFile(f"/raw/{source_path}", source_path, 1, mtime)


@pytest.mark.parametrize("source_path, expected", [
    ("2026-11-01/a.txt", datetime(2026, 11, 1, tzinfo=timezone.utc)),
    ("site.example/20261102/a.txt", datetime(2026, 11, 2, tzinfo=timezone.utc)),
    ("2026-11-01/2026-11-03/a.txt", datetime(2026, 11, 3, tzinfo=timezone.utc)),  # the nearest folder
    ("site.example/a.txt", datetime(2026, 11, 5, 10, 0, tzinfo=timezone.utc)),  # no date folder: mtime
    ("20261399/a.txt", datetime(2026, 11, 5, 10, 0, tzinfo=timezone.utc)),  # not a real date
])
def test_file_time(source_path, expected):
    assert file_time(_raw(source_path)) == expected


@pytest.mark.parametrize("since, until, glob, source_path, selected", [
    ("2026-11-01", "2026-11-01", None, "2026-11-01/a.txt", True),  # a plain until includes its day
    ("2026-11-01", "2026-11-01", None, "2026-11-02/a.txt", False),
    ("2026-11-02", None, None, "2026-11-01/a.txt", False),
    (None, "2026-11-04", None, "site/a.txt", False),  # mtime 11-05
    ("2026-11-05T09:00", "2026-11-05T11:00", None, "site/a.txt", True),
    ("2026-11-05T10:00:01", None, None, "site/a.txt", False),
    (None, None, "*/site1.example/*", "2026-11-01/site1.example/a.txt", True),
    (None, None, "*.html", "2026-11-01/site1.example/a.txt", False),
    ("2026-11-01", None, "*.txt", "2026-11-03/x/a.txt", True),
])
def test_selection(since, until, glob, source_path, selected):
    assert Selection.parse(since, until, glob)(_raw(source_path)) is selected


@pytest.mark.parametrize("since, until, message", [
    ("yesterday", None, "not an ISO date"),
    ("2026-11-03", "2026-11-02", "empty range"),
])
def test_bad_selection_is_refused(since, until, message):
    with pytest.raises(ValueError, match=message):
        Selection.parse(since, until)


def test_parse_bound_reads_naive_times_as_utc():
    assert parse_bound("2026-11-01T08:00", end=False) == datetime(2026, 11, 1, 8, tzinfo=timezone.utc)


def _run_ids(out) -> dict[str, set[str]]:
    table = read_table(out, "documents")
    ids: dict[str, set[str]] = {}
    for source, run_id in zip(table.column("source_path").to_pylist(), table.column("run_id").to_pylist()):
        ids.setdefault(source, set()).add(run_id)
    return ids


def test_forced_backfill_replaces_the_selected_rows_and_a_reader_never_sees_both_or_neither(tmp_path):
    raw, out, env = generate_corpus(tmp_path / "raw"), tmp_path / "out", prefect_server()
    first = cli("run", "--raw", str(raw), "--out", str(out), "--batch-files", "10", env=env)
    assert first.returncode == 0, first.stderr[-3000:]
    before_rows, before_ids = document_rows(out), _run_ids(out)
    sources = set(before_ids)

    seen: list[str] = []
    stop = threading.Event()

    def reader() -> None:
        """Read the dataset the way a user would, again and again, while the backfill runs."""
        while not stop.is_set():
            table = ds.dataset(out / "documents", format="parquet").to_table(columns=["source_path", "run_id"])
            ids: dict[str, set[str]] = {}
            for source, run_id in zip(table.column("source_path").to_pylist(), table.column("run_id").to_pylist()):
                ids.setdefault(source, set()).add(run_id)
            if set(ids) != sources:
                seen.append(f"sources missing: {sorted(sources - set(ids))[:3]}")
            seen.extend(f"{s}: old and new rows" for s, runs in ids.items() if len(runs) > 1)
            time.sleep(0.01)  # leave the backfill a core

    watcher = threading.Thread(target=reader)
    watcher.start()
    try:
        backfill = cli("backfill", "--raw", str(raw), "--out", str(out), "--batch-files", "7",
                       "--since", "2026-11-02", "--until", "2026-11-03", "--glob", "*/site1.example/*",
                       "--force", env=env)
    finally:
        stop.set()
        watcher.join()
    assert backfill.returncode == 0, backfill.stderr[-3000:]
    assert seen == []

    after_ids = _run_ids(out)
    selected = {s for s in sources if s.startswith(("2026-11-02/site1.example/", "2026-11-03/site1.example/"))}
    assert selected and {s for s in sources if after_ids[s] != before_ids[s]} == selected
    assert all(len(runs) == 1 for runs in after_ids.values())
    assert document_rows(out) == before_rows  # same pipeline version: same text, now from the backfill run

    unforced = cli("backfill", "--raw", str(raw), "--out", str(out), "--glob", "*/site1.example/*", env=env)
    assert unforced.returncode == 0 and "documents=0 quarantined=0" in unforced.stdout


def test_backfill_rejects_a_bad_date_before_starting(tmp_path):
    done = cli("backfill", "--raw", str(tmp_path), "--out", str(tmp_path / "out"), "--since", "last week",
               env={**os.environ})
    assert done.returncode == 2 and "not an ISO date" in done.stderr
