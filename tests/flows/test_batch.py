"""Finding, bounding and cleaning raw files: real files on disk, the real recipe, one hostile file at a time.

A hostile "cleaner" stands in for a stage that hangs or crashes on one page (the stages themselves
are checked in tests/cleaners); everything around it — reading, budgets, quarantine — is the real code.
"""
from __future__ import annotations

import gc
import os
import re
import threading
import weakref
from pathlib import Path

import numpy as np
import pytest

from cleaners.dedup import sketch
from cleaners.document import CleanContext
from cleaners.pipeline import clean_bytes
from flows.batch import (BATCH_GC_THRESHOLD, BatchResult, FileRecord, RawFile, clean_batch, clean_with_fallback,
                         discover, frozen_heap)

SPEECH = "各位代表：现在我代表政府向大会报告工作，请予审议。\n过去一年，我们坚持稳中求进，经济运行总体平稳。\n"
POISON = "毒".encode()


def _raw_folder(tmp_path: Path, names: list[str | bytes]) -> Path:
    raw = tmp_path / "raw"
    (raw / "site").mkdir(parents=True)
    for name in names:
        path = os.path.join(os.fsencode(raw / "site"), name if isinstance(name, bytes) else os.fsencode(name))
        with open(path, "wb") as handle:
            handle.write(SPEECH.encode())
    return raw


ODD_NAMES = [
    ("with spaces and  double  spaces.txt", "site/with spaces and  double  spaces.txt"),
    ("政府工作报告（2026）①.txt", "site/政府工作报告（2026）①.txt"),
    ("e\u0301migre\u0301 \U0001f600 \u202eevil.txt", "site/e\u0301migre\u0301 \U0001f600 \u202eevil.txt"),
    (b"gbk-\xd5\xfe\xb8\xae.txt", "site/gbk-\\xd5\\xfe\\xb8\\xae.txt"),  # 政府 in GBK: not UTF-8
    (b"lone-\xff.txt", "site/lone-\\xff.txt"),
]


@pytest.mark.parametrize("name, recorded", ODD_NAMES, ids=["spaces", "cjk", "combining-emoji-bidi", "gbk-bytes",
                                                           "lone-byte"])
def test_odd_file_names_are_found_cleaned_and_recorded_as_utf8(tmp_path, name, recorded):
    raw = _raw_folder(tmp_path, [name])
    [found] = discover(raw)
    assert found.source_path == recorded
    found.source_path.encode("utf-8")  # writable to Parquet
    [record] = clean_batch([found], CleanContext()).records
    assert record.outcome.quarantine_reason is None and "稳中求进" in record.outcome.docs[0].text


def test_links_that_leave_the_raw_folder_are_not_followed(tmp_path):
    raw = _raw_folder(tmp_path, ["inside.txt"])
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(SPEECH, encoding="utf-8")
    (raw / "site" / "to_secret.txt").symlink_to(outside / "secret.txt")
    (raw / "site" / "to_outside_dir").symlink_to(outside, target_is_directory=True)
    (raw / "site" / "to_parent.txt").symlink_to(Path("..") / ".." / "outside" / "secret.txt")
    (raw / "site" / "dangling.txt").symlink_to(tmp_path / "missing.txt")
    (raw / "site" / "to_inside.txt").symlink_to(raw / "site" / "inside.txt")
    (raw / "site" / "loop").symlink_to(raw / "site", target_is_directory=True)
    (raw / "site" / "loop_a.txt").symlink_to("loop_b.txt")
    (raw / "site" / "loop_b.txt").symlink_to("loop_a.txt")
    assert [f.source_path for f in discover(raw)] == ["site/inside.txt", "site/to_inside.txt"]


def test_a_raw_folder_reached_through_a_link_is_read(tmp_path):
    raw = _raw_folder(tmp_path, ["inside.txt"])
    (tmp_path / "raw_link").symlink_to(raw, target_is_directory=True)
    assert [f.source_path for f in discover(tmp_path / "raw_link")] == ["site/inside.txt"]


def _hang_on_poison(kind: str):
    """A cleaner that never finishes on a poisoned file, the real one on every other."""
    def cleaner(data: bytes, source_path: str, ctx: CleanContext):
        if POISON in data:
            if kind == "catastrophic regex":
                re.match(r"(a+)+$", "a" * 64 + "b")
            while True:
                pass
        return clean_bytes(data, source_path, ctx)
    return cleaner


def _files(tmp_path: Path, contents: dict[str, bytes]) -> list[RawFile]:
    raw = tmp_path / "raw"
    (raw / "site").mkdir(parents=True, exist_ok=True)
    for name, data in contents.items():
        (raw / "site" / name).write_bytes(data)
    return list(discover(raw))


# Off the main thread a running C call (one regex match) cannot be interrupted (see `time_budget`),
# so the catastrophic regex is checked where the CLI and Prefect's default runner clean: the main thread.
@pytest.mark.parametrize("thread, kind", [("main thread", "python loop"), ("main thread", "catastrophic regex"),
                                          ("worker thread", "python loop")])
def test_a_file_over_its_time_budget_is_quarantined_as_timeout_and_the_batch_goes_on(tmp_path, thread, kind):
    files = _files(tmp_path, {"a.txt": SPEECH.encode(), "b.txt": POISON + SPEECH.encode(), "c.txt": SPEECH.encode()})
    results: list[BatchResult] = []

    def run() -> None:
        results.append(clean_batch(files, CleanContext(), max_file_seconds=0.5, cleaner=_hang_on_poison(kind)))

    if thread == "main thread":
        run()
    else:
        worker = threading.Thread(target=run)
        worker.start()
        worker.join()
    reasons = {r.file.source_path: r.outcome.quarantine_reason for r in results[0].records}
    assert reasons["site/b.txt"] == "timeout: cleaning took longer than 0.5 s"
    assert reasons["site/a.txt"] is None and reasons["site/c.txt"] is None


def test_the_time_budget_comes_from_the_run_options_when_not_given(tmp_path):
    files = _files(tmp_path, {"b.txt": POISON})
    [record] = clean_batch(files, CleanContext(options={"max_file_seconds": 0.2}),
                           cleaner=_hang_on_poison("python loop")).records
    assert record.outcome.quarantine_reason == "timeout: cleaning took longer than 0.2 s"


LONG_LINE = "长" * 5000


@pytest.mark.parametrize("max_line_chars, expected_text, removed_rules", [
    (1000, SPEECH.strip(), ["limit:line_length"]),
    (0, f"{SPEECH}{LONG_LINE}".strip(), []),
    (None, f"{SPEECH}{LONG_LINE}".strip(), []),  # the default limit (200,000) is far above 5,000
])
def test_over_long_lines_are_dropped_and_recorded_and_the_limit_is_configurable(tmp_path, max_line_chars,
                                                                                 expected_text, removed_rules):
    files = _files(tmp_path, {"a.txt": f"{SPEECH}{LONG_LINE}".encode()})
    options = {} if max_line_chars is None else {"max_line_chars": max_line_chars}
    [record] = clean_batch(files, CleanContext(options=options)).records
    [doc] = record.outcome.docs
    assert doc.text == expected_text
    assert [r.rule for r in doc.removed if r.rule.startswith("limit:")] == removed_rules


@pytest.mark.parametrize("contents, reason_prefix", [
    ({"b.txt": b"x" * 2000}, "oversize: 2000 bytes > 1000"),
    ({"b.txt": b""}, "empty"),
    ({"b.txt": b"%PDF-1.4 binary"}, "binary: pdf"),
])
def test_limits_and_unreadable_content_are_quarantined_with_a_reason(tmp_path, contents, reason_prefix):
    [record] = clean_batch(_files(tmp_path, contents), CleanContext(), max_file_bytes=1000).records
    assert record.outcome.quarantine_reason.startswith(reason_prefix)
    assert record.raw_sha256  # recorded as processed: a re-run does not read it again


def test_a_file_that_vanishes_before_it_is_read_is_quarantined_alone(tmp_path):
    files = _files(tmp_path, {"a.txt": SPEECH.encode(), "b.txt": SPEECH.encode()})
    Path(files[1].path).unlink()
    reasons = [r.outcome.quarantine_reason for r in clean_batch(files, CleanContext()).records]
    assert reasons[0] is None and reasons[1].startswith("unreadable")


def test_a_crashing_stage_costs_only_its_file(tmp_path):
    def crash_on_poison(data: bytes, source_path: str, ctx: CleanContext):
        if POISON in data:
            raise RecursionError("maximum recursion depth exceeded")
        return clean_bytes(data, source_path, ctx)

    files = _files(tmp_path, {"a.txt": SPEECH.encode(), "b.txt": POISON + SPEECH.encode()})
    reasons = [r.outcome.quarantine_reason for r in clean_batch(files, CleanContext(), cleaner=crash_on_poison).records]
    assert reasons == [None, "error: RecursionError: maximum recursion depth exceeded"]


def test_a_batch_that_raises_is_cleaned_file_by_file_so_only_the_bad_file_is_lost(tmp_path):
    files = _files(tmp_path, {f"{i}.txt": (POISON if i == 2 else b"") + SPEECH.encode() for i in range(5)})
    calls: list[int] = []

    def batch_that_dies_on_poison(part: list[RawFile]) -> BatchResult:
        calls.append(len(part))
        if any(POISON in Path(raw.path).read_bytes() for raw in part):
            raise MemoryError("worker killed")
        return clean_batch(part, CleanContext())

    result = clean_with_fallback(files, batch_that_dies_on_poison)
    assert calls == [5, 1, 1, 1, 1, 1]
    reasons = {r.file.source_path: r.outcome.quarantine_reason for r in result.records}
    assert reasons.pop("site/2.txt") == "error: batch failed on this file: MemoryError: worker killed"
    assert set(reasons) == {f"site/{i}.txt" for i in (0, 1, 3, 4)} and set(reasons.values()) == {None}
    assert all(isinstance(r, FileRecord) and r.raw_sha256 for r in result.records)


def test_every_record_with_documents_carries_its_documents_sketches(tmp_path):
    """The batch sketches its documents where it is cleaned (a worker process), one row per document in
    the record's order, the same rows as sketching them one by one; quarantined records carry none."""
    raw = tmp_path / "raw" / "site"
    raw.mkdir(parents=True)
    merged = "在全市安全生产工作会议上的讲话\n同志们：今天召开会议，部署安全生产工作。\n" \
             "在全市防汛工作会议上的讲话\n同志们：今天召开会议，部署防汛抗旱工作。\n"
    (raw / "merged.txt").write_text(merged * 3, encoding="utf-8")
    (raw / "speech.txt").write_text(SPEECH, encoding="utf-8")
    (raw / "empty.txt").write_bytes(b"")
    result = clean_batch(list(discover(tmp_path / "raw")), CleanContext())
    by_name = {Path(record.file.path).name: record for record in result.records}
    assert by_name["empty.txt"].outcome.quarantine_reason and by_name["empty.txt"].sketches is None
    for name in ("merged.txt", "speech.txt"):
        record = by_name[name]
        alone = [sketch([doc.text]) for doc in record.outcome.docs]
        assert len(record.sketches) == len(record.outcome.docs) >= 1
        assert (record.sketches.signatures == np.concatenate([s.signatures for s in alone])).all()
        assert record.sketches.keys == [key for s in alone for key in s.keys]


class _Node:
    """A container that can hold itself: a reference cycle only the cycle collector frees."""

    def __init__(self) -> None:
        self.me = self


def _tracked(obj: object) -> bool:
    """Whether the collector's generations hold `obj` (frozen objects are in none of them)."""
    return any(found is obj for found in gc.get_objects())


def test_the_heap_a_run_starts_with_is_frozen_while_new_cycles_are_still_collected():
    early = [object()]
    assert gc.get_freeze_count() == 0
    with frozen_heap():
        assert gc.get_freeze_count() > 0 and not _tracked(early)
        late = [object()]
        assert _tracked(late)
        cycle = weakref.ref(_Node())
        gc.collect()
        assert cycle() is None
    assert gc.get_freeze_count() == 0 and _tracked(early)


def test_a_heap_frozen_by_another_caller_stays_frozen():
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with frozen_heap():
            assert gc.get_freeze_count() == frozen
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


@pytest.mark.parametrize("before, during", [((700, 10, 10), (BATCH_GC_THRESHOLD, 10, 10)),
                                            ((50_000, 5, 5), (50_000, 5, 5)),
                                            ((0, 10, 10), (0, 10, 10))],
                         ids=["default-raised", "higher-kept", "switched-off-kept"])
def test_a_batch_is_cleaned_with_rare_collections_and_the_setting_is_put_back(tmp_path, before, during):
    raw = _raw_folder(tmp_path, ["a.txt", "毒.txt"])
    seen = []

    def record_then_crash_on_poison(data: bytes, source_path: str, ctx: CleanContext):
        seen.append(gc.get_threshold())
        if POISON.decode() in source_path:
            raise RuntimeError("boom")
        return clean_bytes(data, source_path, ctx)

    saved = gc.get_threshold()
    gc.set_threshold(*before)
    try:
        result = clean_batch(list(discover(raw)), CleanContext(), cleaner=record_then_crash_on_poison)
        assert gc.get_threshold() == before
    finally:
        gc.set_threshold(*saved)
    assert seen == [during, during]
    assert [bool(r.outcome.docs) for r in result.records] == [True, False]
