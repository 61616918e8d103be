"""Progress of a run: counted per batch, drawn on a terminal only, and recorded for the report."""
from __future__ import annotations

import io
import shutil

import pytest

from cleaners.document import CleanContext
from flows import progress
from flows.batch import batches, clean_batch, discover
from tests.conftest import RAW_SAMPLE


class Terminal(io.StringIO):
    """A text stream that says it is a terminal, as stderr does in an interactive shell."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def raw_batches(tmp_path):
    pages = sorted((RAW_SAMPLE / "2026-11-20").glob("*.txt"))[:3] + [RAW_SAMPLE / "2026-11-22" / "scan_upload.txt"]
    for page in pages:
        shutil.copyfile(page, tmp_path / page.name)
    files = list(discover(tmp_path))
    return files, list(batches(files, max_files=2, max_bytes=1 << 30))


def _run(files, parts) -> list[str]:
    progress.run_started(len(files), sum(f.size for f in files))
    return [progress.batch_done(batch, clean_batch(batch, CleanContext())) for batch in parts]


def test_batch_lines_count_files_documents_and_quarantined(raw_batches):
    files, parts = raw_batches
    results = [clean_batch(batch, CleanContext()) for batch in parts]
    lines = _run(files, parts)
    for batch, result, line in zip(parts, results, lines):
        quarantined = sum(1 for r in result.records if r.outcome.quarantine_reason)
        documents = sum(len(r.outcome.docs) for r in result.records if not r.outcome.quarantine_reason)
        assert line.startswith(f"{len(batch)} files, {len(result.records)} new, 0 skipped, {documents} documents, "
                               f"{quarantined} quarantined")
    assert f"run so far {len(files)}/{len(files)} files" in lines[-1]


def test_progress_line_is_drawn_on_a_terminal_and_ended_with_a_newline(raw_batches):
    files, parts = raw_batches
    terminal = Terminal()
    with progress.shown_on(terminal):
        _run(files, parts)
    drawn = terminal.getvalue()
    assert drawn.count("\r") == 1 + len(parts)  # at the start and after each batch
    assert f"[{'#' * 24}] {len(files)}/{len(files)} files" in drawn
    assert drawn.endswith("\n")


def test_nothing_is_drawn_when_stderr_is_not_a_terminal(raw_batches):
    files, parts = raw_batches
    stream = io.StringIO()
    with progress.shown_on(stream):
        _run(files, parts)
    assert stream.getvalue() == ""


@pytest.mark.parametrize("done_bytes, total_bytes, filled", [(0, 100, 0), (50, 100, 12), (100, 100, 24), (0, 0, 24)])
def test_bar_fills_with_bytes_done(done_bytes, total_bytes, filled):
    state = progress.Progress(total_files=0 if not total_bytes else 4, total_bytes=total_bytes, bytes=done_bytes)
    assert state.bar().startswith(f"[{'#' * filled}{'.' * (24 - filled)}]")
