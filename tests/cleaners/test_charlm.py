"""The lexicon model's fast paths: shared-window scores, gains and their bounds must agree with whole-window scoring."""
from __future__ import annotations

import itertools

import pytest

import cleaners.charlm as charlm
from cleaners.charlm import ROUNDING_SLACK, SubstitutionWindow, build_charlm, is_cjk, load_charlm
from tests.conftest import FIXTURES

WINDOWS = [
    ("高度重", ("规", "视", "观"), "生态环境"),  # a candidate that completes a word across the cut
    ("", ("丌", "不", "与"), "断推进"),  # nothing on the left
    ("推动高质量发", ("屔", "展"), ""),  # nothing on the right
    ("2024年GDP增长5", ("%", "个"), "以上"),  # digits before the cut; a middle that is no Chinese
    ("增长3", ("5", ".", "个"), "8年"),  # a middle that joins a number across the cut: scored whole
    ("人", ("与", "不"), "自然和谐共生"),
    ("买了", ("A", "B"), "股票"),  # a lexicon word with a Latin letter in it (A股)
    ("中华人民共", ("和", "合", "禾"), "国成立"),  # words of five and more through the middle
    ("的", ("确", "碓"), "是"),
    ("", ("癿", "的"), ""),  # the middle alone
]


def real_windows(limit: int = 400) -> list[tuple[str, str, str]]:
    """(left, middle, right) around Chinese characters of the fixtures: clean reports and damaged notes."""
    texts = [path.read_text(encoding="utf-8") for path in sorted((FIXTURES / "clean").glob("*.txt"))[:2]]
    texts += [path.read_text(encoding="utf-8") for path in sorted((FIXTURES / "web").glob("2[5-9]_*.txt"))]
    found = []
    for text in texts:
        line = text.replace("\n", "")
        for i in range(0, min(len(line), 6000), 97):
            if is_cjk(line[i]):
                found.append((line[max(0, i - 4):i], line[i], line[i + 1:i + 5]))
    return found[:limit]


def neighbours(ch: str) -> tuple[str, ...]:
    """Characters just above and below `ch`: the candidates a glyph repair would try."""
    return tuple(chr(ord(ch) + shift) for shift in range(-3, 8) if shift and is_cjk(chr(ord(ch) + shift)))


@pytest.mark.parametrize("left,middles,right", WINDOWS)
def test_window_scores_equal_whole_window_scores(left, middles, right):
    lm = load_charlm()
    window = SubstitutionWindow(lm, left, right)
    assert [window.score(middle) for middle in middles] == [lm.score(left + middle + right) for middle in middles]


def test_window_scores_equal_whole_window_scores_in_real_text():
    lm = load_charlm()
    for left, middle, right in real_windows():
        window = SubstitutionWindow(lm, left, right)
        for cand in (middle, *neighbours(middle)):
            assert window.score(cand) == lm.score(left + cand + right), (left, cand, right)


@pytest.mark.parametrize("left,middles,right", WINDOWS)
def test_substitution_gains_are_score_differences(left, middles, right):
    lm = load_charlm()
    original, offsets = middles[0], tuple(0.5 * k for k in range(len(middles)))
    base = lm.score(left + original + right)
    assert lm.substitution_gains(left, original, middles, offsets, right) == tuple(
        lm.score(left + middle + right) - base + offset for middle, offset in zip(middles, offsets))


def test_gain_bounds_hold():
    """lower - slack <= gain <= upper + slack, for every middle of every window."""
    lm = load_charlm()
    cases = [(left, middles[0], middles, right) for left, middles, right in WINDOWS]
    cases += [(left, middle, neighbours(middle), right) for left, middle, right in real_windows()]
    for left, original, middles, right in cases:
        offsets = tuple(-0.1 * k for k in range(len(middles)))
        gains = lm.substitution_gains(left, original, middles, offsets, right)
        lowers, uppers = lm.gain_bounds(left, original, middles, offsets, right)
        for middle, gain, lower, upper in zip(middles, gains, lowers, uppers):
            assert lower - ROUNDING_SLACK <= gain <= upper + ROUNDING_SLACK, (left, original, middle, right)


@pytest.mark.parametrize("left,original,middles,right", [
    ("", "癿", ("的", "皀", "皃"), ""),
    ("，", "癿", ("的", "皀", "皃"), "。"),
    ("(", "丌", ("不", "与", "专"), ")"),
])
def test_gain_bounds_are_exact_where_no_word_holds_either_character(left, original, middles, right):
    """Between punctuation every character is a token of its own: the gain is the unigram difference."""
    lm = load_charlm()
    offsets = (0.0,) * len(middles)
    gains = lm.substitution_gains(left, original, middles, offsets, right)
    lowers, uppers = lm.gain_bounds(left, original, middles, offsets, right)
    for gain, lower, upper in zip(gains, lowers, uppers):
        assert abs(lower - gain) < ROUNDING_SLACK and abs(upper - gain) < ROUNDING_SLACK


def test_gain_exceeds_agrees_with_exact_gains_at_every_threshold():
    """Thresholds at, just around and far from each exact gain: the bounds never change the answer."""
    lm = load_charlm()
    cases = [(left, middles[0], middles[1:], right) for left, middles, right in WINDOWS]
    cases += [(left, middle, neighbours(middle), right) for left, middle, right in real_windows(150)]
    for left, original, middles, right in cases:
        offsets = tuple(0.3 - 0.1 * k for k in range(len(middles)))
        gains = lm.substitution_gains(left, original, middles, offsets, right)
        thresholds = {0.0, 4.0, 7.0, -5.0}
        for gain in gains:
            thresholds |= {gain, gain - 1e-9, gain + 1e-9, gain - 1.0, gain + 1.0}
        for threshold in thresholds:
            assert lm.gain_exceeds(left, original, middles, offsets, right, threshold) == (max(gains) > threshold), (
                left, original, right, threshold)


def test_neighbour_tables_hold_exactly_the_lexicon_pairs():
    """`ends_after` and `followers` prune the DP and the bounds: a missing pair would lose a word."""
    lm = load_charlm()
    words = [word for word in lm.word_logp if len(word) >= 2]
    ends = {word[-2:] for word in words}
    pairs = {word[k:k + 2] for word in words for k in range(len(word) - 1)}
    assert {a + b for a, bs in lm.ends_after.items() for b in bs} == ends
    assert {a + b for a, bs in lm.followers.items() for b in bs} == pairs
    assert all(len(bs) == len(set(bs)) for bs in itertools.chain(lm.ends_after.values(), lm.followers.values()))


LEXICON = "发展 900 v\n重视 500 v\n监视 300 v\n人 2000 n\n与 1500 p\n自然 800 n\n"


def _tables(model: charlm.CharLM) -> tuple:
    return model.word_logp, model.char_freq, model.unknown_logp, model.ends_after, model.followers


def test_model_is_built_once_then_read_from_the_cache_unchanged(tmp_path, monkeypatch):
    monkeypatch.setenv("CORPUS_CLEAN_CACHE", str(tmp_path))
    monkeypatch.setattr(charlm, "_read_lexicon", LEXICON.encode)
    built = charlm.load_charlm.__wrapped__()
    [cached_file] = tmp_path.glob("charlm-*.marshal")
    monkeypatch.setattr(charlm, "build_charlm", lambda text: pytest.fail("built again despite the cache"))
    assert _tables(charlm.load_charlm.__wrapped__()) == _tables(built) == _tables(build_charlm(LEXICON))
    assert cached_file.stat().st_size > 0


@pytest.mark.parametrize("damage", [b"", b"not marshal at all", b"\xe9\x03\x00\x00"])
def test_a_damaged_cache_file_is_rebuilt(tmp_path, monkeypatch, damage):
    monkeypatch.setenv("CORPUS_CLEAN_CACHE", str(tmp_path))
    monkeypatch.setattr(charlm, "_read_lexicon", LEXICON.encode)
    charlm._cache_file(LEXICON.encode()).write_bytes(damage)
    assert _tables(charlm.load_charlm.__wrapped__()) == _tables(build_charlm(LEXICON))


def test_another_lexicon_gets_another_cache_file(tmp_path, monkeypatch):
    monkeypatch.setenv("CORPUS_CLEAN_CACHE", str(tmp_path))
    assert charlm._cache_file(LEXICON.encode()) != charlm._cache_file((LEXICON + "新词 5 n\n").encode())


def test_an_unwritable_cache_only_costs_the_build(tmp_path, monkeypatch):
    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    monkeypatch.setenv("CORPUS_CLEAN_CACHE", str(blocker / "cache"))
    monkeypatch.setattr(charlm, "_read_lexicon", LEXICON.encode)
    assert _tables(charlm.load_charlm.__wrapped__()) == _tables(build_charlm(LEXICON))
