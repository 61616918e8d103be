"""Duplicate detection on real speeches: the seed's copies and spun rewrites, clean reports that are not copies."""
from __future__ import annotations

import random

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cleaners.dedup import (DEFAULT_SCHEME, BandTable, DuplicateIndex, MinHashScheme, signature, signatures,
                            stale_rows, text_key)
from cleaners.document import CleanContext, Page
from cleaners.normalize import normalize_stage
from cleaners.split import split_stage
from tests.conftest import FIXTURES

SPLIT = FIXTURES / "split"
# Synonym swaps of the kind the seed's spun copies show (保护→疼惜, 经验→阅历, 安排→支配).
SPIN = {"保护": "疼惜", "经验": "阅历", "安排": "支配", "支持": "支撑", "重视": "注重", "加强": "增强",
        "工作": "作业", "推进": "推动", "发展": "进展", "提升": "提高", "坚持": "坚守", "全面": "全方位"}


def seed_speeches() -> list[str]:
    """The ten speeches of seed 003, as the split stage cuts them."""
    text = (SPLIT / "003_9847263fc28bd103.txt").read_text(encoding="utf-8")
    page = split_stage(normalize_stage(Page.from_lines(text.split("\n")), CleanContext()), CleanContext())
    return ["\n".join(d.lines) for d in page.drafts]


def report(name: str) -> str:
    return (SPLIT / name).read_text(encoding="utf-8")


def spun(text: str, rate: float, seed: int = 7) -> str:
    """`text` with each known synonym occurrence swapped with probability `rate`."""
    rng = random.Random(seed)
    for word, other in SPIN.items():
        parts = text.split(word)
        text = parts[0] + "".join((other if rng.random() < rate else word) + p for p in parts[1:])
    return text


def test_seed_copies_point_at_their_earliest_original():
    speeches = seed_speeches()
    assert len(speeches) == 10
    index = DuplicateIndex()
    found = index.assign((f"003#{i}", text, f"003.txt#{i}") for i, text in enumerate(speeches))
    # gold: 1 is a partial copy of 0, 5/6/9 spun copies of 4, 8 a near copy of 7
    assert found == {"003#1": "003#0", "003#5": "003#4", "003#6": "003#4", "003#9": "003#4", "003#8": "003#7"}


def test_distinct_reports_and_speeches_are_not_duplicates():
    index = DuplicateIndex()
    texts = [report("01_gwr_national_2025_wikisource.txt"), report("06_gwr_provincial_2025_beijing.txt")]
    texts += [seed_speeches()[i] for i in (0, 2, 3, 4, 7)]
    assert index.assign((str(i), t, None) for i, t in enumerate(texts)) == {}


@pytest.mark.parametrize("variant", [
    lambda t: t.replace("\n", "\n\n").replace("。", "."),  # white space and punctuation only: exact copy
    lambda t: spun(t, 0.5),  # synonym-spun
    lambda t: spun(t, 1.0),
    lambda t: t[: len(t) * 2 // 3],  # cut short
    lambda t: t[len(t) // 4:],  # head cut off
    lambda t: spun(t[len(t) // 3: len(t) * 4 // 5], 1.0),  # under half of it (Jaccard < 0.5), spun: contained
])
def test_copies_of_a_long_report_are_found(variant):
    original = report("06_gwr_provincial_2025_beijing.txt")
    index = DuplicateIndex()
    assert index.find_or_add("original", original) is None
    assert index.find_or_add("copy", variant(original)) == "original"


def test_a_full_text_after_its_excerpt_is_not_a_partial_copy_of_it():
    original = report("06_gwr_provincial_2025_beijing.txt")
    index = DuplicateIndex()
    assert index.find_or_add("excerpt", original[: len(original) // 3]) is None
    assert index.find_or_add("full", original) is None
    assert index.find_or_add("excerpt-again", original[len(original) // 3: len(original) * 2 // 3]) == "full"


def test_exact_copy_is_found_whatever_the_threshold():
    text = seed_speeches()[7]
    index = DuplicateIndex(threshold=1.0)
    index.find_or_add("a", text)
    assert text_key(text) == text_key(" ".join(text))
    assert index.find_or_add("b", text.replace("\n", " ")) == "a"


def test_earliest_copy_wins_even_when_a_later_copy_matches_better():
    original = report("01_gwr_national_2025_wikisource.txt")
    first_spin, second_spin = spun(original, 0.6, seed=1), spun(original, 0.6, seed=2)
    index = DuplicateIndex()
    assert index.find_or_add("original", original) is None
    assert index.find_or_add("spin1", first_spin) == "original"
    assert index.find_or_add("spin2", second_spin) == "original"


def test_a_document_is_never_its_own_duplicate():
    text = seed_speeches()[4]
    index = DuplicateIndex()
    assert index.find_or_add("doc", text, origin="a.txt#0") is None
    assert index.find_or_add("doc", text, origin="a.txt#0") is None  # the same doc_id again
    # a new version of the same document (re-processed, text changed a little) is not a copy of the old one
    assert index.find_or_add("doc-v2", text + "\n补充一句。", origin="a.txt#0") is None
    # a copy elsewhere points at the original's latest version (the dataset keeps a file's latest rows only)
    assert index.find_or_add("copy", text, origin="b.txt#0") == "doc-v2"


def test_index_survives_a_parquet_round_trip_in_any_row_order(tmp_path):
    speeches = seed_speeches()
    first = DuplicateIndex()
    first.assign((f"d{i}", speeches[i], f"s#{i}") for i in (0, 4, 7))
    later = DuplicateIndex.from_table(first.to_table())
    later.assign([("d5", speeches[5], "s#5")])
    table = pa.concat_tables([first.to_table(), later.to_table(["d5"])])
    pq.write_table(table.take(np.arange(table.num_rows)[::-1]), tmp_path / "state.parquet")

    reloaded = DuplicateIndex.from_table(pq.read_table(tmp_path / "state.parquet"))
    assert len(reloaded) == 4
    assert reloaded.duplicate_of("d5") == "d4"
    assert reloaded.find_or_add("d9", speeches[9], origin="s#9") == "d4"
    assert reloaded.find_or_add("d1", speeches[1], origin="s#1") == "d0"
    assert reloaded.find_or_add("d4") is None  # known doc_id: no text needed, never itself


def test_rows_of_another_scheme_are_skipped_and_counted():
    index = DuplicateIndex(scheme=MinHashScheme(ngram=4))
    index.find_or_add("a", seed_speeches()[0])
    table = index.to_table()
    assert stale_rows(table) == 1
    assert len(DuplicateIndex.from_table(table)) == 0
    assert len(DuplicateIndex.from_table(table, scheme=MinHashScheme(ngram=4))) == 1


def test_bulk_and_single_signatures_agree_and_short_texts_work():
    texts = ["", "短", "同志们:", seed_speeches()[2]]
    bulk = signatures(texts)
    assert bulk.shape == (4, DEFAULT_SCHEME.num_perm) and bulk.dtype == np.uint32
    assert all((signature(t) == row).all() for t, row in zip(texts, bulk))


def test_threshold_outside_0_1_is_refused():
    with pytest.raises(ValueError, match="threshold"):
        DuplicateIndex(threshold=0)


@pytest.mark.parametrize("merge_at", [1, 7, 100_000])  # merged after every add, now and then, never
def test_band_table_finds_every_document_with_a_key_before_and_after_merging(merge_at, monkeypatch):
    monkeypatch.setattr(BandTable, "MERGE_AT", merge_at)
    keys = np.random.default_rng(0).integers(0, 50, (40, 4)).astype(np.uint64)
    expected: dict[int, set[int]] = {}
    added, bulk = BandTable(), BandTable()
    for doc, row in enumerate(keys):
        added.add(doc, row)
        for key in row.tolist():
            expected.setdefault(key, set()).add(doc)
    bulk.add_many(np.arange(len(keys)), keys)
    for key in range(50):
        query = np.array([key], dtype=np.uint64)
        assert added.find(query) == bulk.find(query) == expected.get(key, set())
