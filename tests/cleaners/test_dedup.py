"""Duplicate detection on real speeches: the seed's copies and spun rewrites, clean reports that are not copies."""
from __future__ import annotations

import random
import re

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import cleaners.dedup as dedup
from cleaners.dedup import (DEFAULT_SCHEME, DuplicateIndex, KeyTable, MinHashScheme, Sketches, distinct, signature,
                            TextCodes, signatures, sketch, text_key)
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
    skipped = DuplicateIndex.from_table(table)
    assert len(skipped) == 0 and skipped.other_scheme_rows == 1
    assert len(DuplicateIndex.from_table(table, scheme=MinHashScheme(ngram=4))) == 1


def test_loading_a_record_batch_at_a_time_gives_the_same_index():
    """`load` reads the persisted rows twice, in pieces; the index must not depend on how they are cut."""
    speeches = seed_speeches()
    first = DuplicateIndex()
    first.assign((f"d{i}", speeches[i], f"s#{i}") for i in (0, 4, 7, 5, 1))
    table = first.to_table()
    table = table.take(np.arange(table.num_rows)[::-1])
    whole = DuplicateIndex.from_table(table)
    pieces = DuplicateIndex.load(lambda columns: table.select(columns).to_batches(max_chunksize=1))
    assert pieces.to_table().equals(whole.to_table())
    assert pieces.find_or_add("d9", speeches[9], origin="s#9") == "d4"
    assert whole.find_or_add("d9", speeches[9], origin="s#9") == "d4"


def test_bulk_and_single_signatures_agree_and_short_texts_work():
    texts = ["", "短", "同志们:", seed_speeches()[2]]
    bulk = signatures(texts)
    assert bulk.shape == (4, DEFAULT_SCHEME.num_perm) and bulk.dtype == np.uint32
    assert all((signature(t) == row).all() for t, row in zip(texts, bulk))


def test_threshold_outside_0_1_is_refused():
    with pytest.raises(ValueError, match="threshold"):
        DuplicateIndex(threshold=0)


@pytest.mark.parametrize("max_run", [1, 7, 1 << 21])  # runs never merged, merged up to 7 entries, always merged
@pytest.mark.parametrize("add_order", ["rows in order", "rows shuffled"])  # a reloaded index adds files in any order
@pytest.mark.parametrize("lookup_keys", [3, 4096])  # keys gathered at a time
def test_key_table_finds_every_row_with_a_key_whatever_the_runs(max_run, add_order, lookup_keys, monkeypatch):
    monkeypatch.setattr(KeyTable, "MAX_RUN", max_run)
    monkeypatch.setattr(KeyTable, "LOOKUP_KEYS", lookup_keys)
    keys = np.random.default_rng(0).integers(0, 50, (40, 4)).astype(np.uint32)
    docs = list(range(len(keys)))
    if add_order == "rows shuffled":
        np.random.default_rng(1).shuffle(docs)
    expected: dict[int, list[int]] = {}
    added, bulk = KeyTable(), KeyTable()
    for doc in docs:
        added.add(keys[doc], np.full(keys.shape[1], doc))
    for doc, row in enumerate(keys):
        for key in sorted(set(row.tolist())):
            expected.setdefault(key, []).append(doc)
    bulk.add(keys.reshape(-1), np.repeat(np.arange(len(keys)), keys.shape[1]))
    lookup_added, lookup_bulk = added.lookup(np.arange(50)), bulk.lookup(np.arange(50))
    assert lookup_added.counts.tolist() == [len(expected.get(key, [])) for key in range(50)]  # rows, once each
    for key in range(50):
        assert lookup_added.rows(key, key + 1).tolist() == lookup_bulk.rows(key, key + 1).tolist() \
            == expected.get(key, [])  # in row order
    assert len(added) == len(bulk) == keys.size
    by_doc = added.lookup(keys[:5].reshape(-1), group=keys.shape[1])  # each document's keys together
    for doc in range(5):
        assert by_doc.rows(doc, doc + 1).tolist() == sorted({row for key in keys[doc].tolist()
                                                             for row in expected[key]})


@pytest.mark.parametrize("max_run", [1, 7, 1 << 21])
@pytest.mark.parametrize("cap", [1, 2, 5])
@pytest.mark.parametrize("per_add", [1, 7])  # documents a batch
def test_a_capped_key_table_keeps_each_keys_earliest_rows_only(max_run, cap, per_add, monkeypatch):
    monkeypatch.setattr(KeyTable, "MAX_RUN", max_run)
    keys = np.random.default_rng(2).integers(0, 6, (60, 3)).astype(np.uint32)
    table = KeyTable(cap=cap)
    for start in range(0, len(keys), per_add):
        part = keys[start:start + per_add]
        table.add(part.reshape(-1), np.repeat(np.arange(start, start + len(part)), keys.shape[1]))
    queries = np.array([0, 3, 3, 5, 9], dtype=np.uint32)  # a key asked twice, a key never added
    lookup = table.lookup(queries)
    for n, key in enumerate(queries.tolist()):
        entries = [doc for doc, row in enumerate(keys) for k in row.tolist() if k == key]  # a doc may hold it twice
        assert lookup.rows(n, n + 1).tolist() == list(dict.fromkeys(entries[:cap]))
    assert len(table) == sum(min(cap, int((keys == key).sum())) for key in range(6))  # nothing more is stored
    with pytest.raises(ValueError, match="in order"):
        table.add(np.array([1], dtype=np.uint32), np.array([3]))


def test_copies_past_the_band_cap_still_point_at_the_first_original(monkeypatch):
    """A cluster larger than `BAND_ROWS`: later copies find it through its earliest members."""
    monkeypatch.setattr(DuplicateIndex, "BAND_ROWS", 2)
    speech = seed_speeches()[4]
    sentences = speech.split("。")
    copies = [("original", speech, None)]
    copies += [(f"copy-{n}", "。".join(s + ("又" * n if i == n else "") for i, s in enumerate(sentences)), None)
               for n in range(1, 12)]  # each a different small change
    incremental = DuplicateIndex()
    first = incremental.assign(copies[:6])
    persisted = incremental.to_table()
    reloaded = DuplicateIndex.from_table(persisted.take(np.arange(persisted.num_rows)[::-1]))  # files in any order
    rest = incremental.assign(copies[6:])
    assert first | rest == {doc_id: "original" for doc_id, _, _ in copies[1:]}
    assert reloaded.assign(copies[6:]) == rest
    assert reloaded.to_table().drop_columns(["added_at"]).equals(incremental.to_table().drop_columns(["added_at"]))


@pytest.mark.parametrize("mask", [0x3, 0x1])  # 2 or 1 distinct fingerprints: every lookup finds (nearly) every row
@pytest.mark.parametrize("first_check, most_checked", [(4, 256), (1, 1), (1, 2)])
def test_fingerprint_collisions_and_read_steps_change_no_answer(mask, first_check, most_checked, monkeypatch):
    """The index's tables keep 32-bit fingerprints of band keys, texts, doc_ids and origins; what a
    fingerprint finds is checked on the full value, so answers must not depend on their width. Candidates
    are read a few at a time and only until one is similar: answers must not depend on the steps either."""
    speeches = seed_speeches()
    docs = [(f"003#{i}", text, f"003.txt#{i}") for i, text in enumerate(speeches)]
    docs += [("003#4-v2", speeches[4] + "\n补充一句。", "003.txt#4"), ("003#4", speeches[4], "003.txt#4"),
             ("exact-1", speeches[7].replace("\n", " "), None),
             ("unrelated", report("06_gwr_provincial_2025_beijing.txt"), None)]

    def answers() -> tuple[dict[str, str], dict[str, str], pa.Table]:
        index = DuplicateIndex()
        first = index.assign(docs[:6])
        rest = index.assign(docs[6:])
        table = DuplicateIndex.from_table(index.to_table()).to_table()
        return first, rest, table.drop_columns(["added_at"])

    wide = answers()
    # A band key keeps its 64 earliest rows, counted by fingerprint: at 1 or 2 bits all bands share a few.
    monkeypatch.setattr(DuplicateIndex, "BAND_ROWS", None)
    monkeypatch.setattr(dedup, "FINGERPRINT_MASK", mask)
    monkeypatch.setattr(DuplicateIndex, "FIRST_CHECK", first_check)
    monkeypatch.setattr(DuplicateIndex, "MOST_CHECKED", most_checked)
    narrow = answers()
    assert wide[0] == narrow[0] and wide[1] == narrow[1] and wide[2].equals(narrow[2])
    assert wide[1]["003#9"] == "003#4" and wide[1]["exact-1"] == "003#7" and "003#4-v2" not in wide[1]


def _sketches_made_beforehand(docs):
    return sketch([text for _, text, _ in docs])


# (case, the sketches handed to `assign` for a batch of docs): each must give the answers and the
# persisted rows of sketching inside `assign`; unusable ones are made again there.
SKETCH_CASES = [
    ("made beforehand, in one call", _sketches_made_beforehand),
    ("made per document, then joined", lambda docs: Sketches.joined([sketch([text]) for _, text, _ in docs])),
    ("of another scheme: made again", lambda docs: sketch([text for _, text, _ in docs], MinHashScheme(ngram=3))),
    ("one short: made again", lambda docs: _sketches_made_beforehand(docs).take(slice(1, None))),
]


@pytest.mark.parametrize("case, make", SKETCH_CASES, ids=[case for case, _ in SKETCH_CASES])
def test_sketches_made_beforehand_give_the_same_answers(case, make):
    """Workers sketch a batch's documents where they clean it; the flow's index only looks them up.
    Docs already indexed and a doc twice in one batch must take the sketch at their own position."""
    speeches = seed_speeches()
    first = [(f"003#{i}", text, f"003.txt#{i}") for i, text in enumerate(speeches[:5])]
    second = [("003#4", speeches[4], "003.txt#4"), *((f"003#{i}", t, f"003.txt#{i}") for i, t in
                                                     enumerate(speeches[5:], start=5)),
              ("003#9", speeches[9], "003.txt#9"), ("exact-1", speeches[7].replace("\n", " "), None)]

    def answers(hand) -> tuple[dict[str, str], dict[str, str], pa.Table]:
        index = DuplicateIndex()
        found = [index.assign(docs, hand(docs)) for docs in (first, second)]
        return found[0], found[1], index.to_table().drop_columns(["added_at"])

    inside = answers(lambda docs: None)
    handed = answers(make)
    assert handed[0] == inside[0] and handed[1] == inside[1] and handed[2].equals(inside[2])
    assert inside[1]["003#9"] == "003#4" and inside[1]["exact-1"] == "003#7"


def test_sketches_of_two_schemes_are_not_joined():
    with pytest.raises(ValueError):
        Sketches.joined([sketch(["一二三四五六"]), sketch(["一二三四五六"], MinHashScheme(ngram=3))])


@pytest.mark.parametrize("values", [[], [7], [3, 1, 3, 2, 1], [2**63 + 5, 1, 2**63 + 5]])
def test_distinct_is_the_sorted_set(values):
    assert distinct(np.array(values, dtype=np.uint64)).tolist() == sorted(set(values))


def _fnv_grams(text: str, ngram: int) -> list[int]:
    """The n-gram hashes by their definition, one text at a time in plain Python: FNV-1a over code points
    of the text less white space, punctuation and underscores, padded with zeros to one n-gram."""
    codes = [ord(ch) for ch in re.sub(r"[\W_]+", "", text)]
    codes += [0] * max(ngram - len(codes), 0)
    hashes = []
    for start in range(len(codes) - ngram + 1):
        value = 0xCBF29CE484222325
        for code in codes[start:start + ngram]:
            value = ((value ^ code) * 0x100000001B3) & 0xFFFF_FFFF_FFFF_FFFF
        hashes.append(value)
    return hashes


GRAM_TEXTS = ["", "a", "，。！", "___", "abcd", "abcde", "  同志们：今天 ", "\ud800前\udfff后", "𠀀𠀁𠀂𠀃𠀄𠀅",
              "١٢٣٤٥٦ ⅫⅪ½²³", "\x00\x01abc", "在全市生态环境保护问题整改推进会上的讲话。" * 3]


@pytest.mark.parametrize("texts", [GRAM_TEXTS, GRAM_TEXTS[::-1], GRAM_TEXTS[:1], GRAM_TEXTS[-1:]],
                         ids=["all", "reversed", "empty-alone", "prose-alone"])
def test_texts_normalised_and_hashed_together_match_each_text_alone(texts):
    codes = TextCodes.of(texts)
    assert codes.normal_texts() == [re.sub(r"[\W_]+", "", text) for text in texts]
    expected = [_fnv_grams(text, 5) for text in texts]
    assert codes.gram_counts(5).tolist() == [len(hashes) for hashes in expected]
    assert codes.gram_hashes(5).tolist() == [value for hashes in expected for value in hashes]


@pytest.mark.parametrize("part_chars", [1, 7, 40, 1 << 19])
def test_a_batch_sketched_in_parts_is_sketched_as_a_whole(part_chars, monkeypatch):
    texts = GRAM_TEXTS * 3
    whole = dedup.sketch(texts)
    monkeypatch.setattr(dedup, "SKETCH_PART_CHARS", part_chars)
    parts = dedup.sketch(texts)
    assert (parts.signatures == whole.signatures).all() and (parts.sizes == whole.sizes).all()
    assert parts.keys == whole.keys == [dedup.text_key(text) for text in texts]
