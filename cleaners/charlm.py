"""A small Chinese language model built from the lexicon that ships inside jieba.

The glyph-repair stage must judge whether `重视` reads better than `重规`, or
`人与自然` better than `人不自然`, for character pairs no table lists. A
hand-made list cannot do that; a real lexicon can. jieba's `dict.txt` holds
about 350 000 words with corpus frequencies; from it we take

- word log-probabilities (a unigram word model, as jieba itself uses), and
- character frequencies (the summed frequency of the words a character occurs
  in), which say how common a character is in modern prose.

A text window is scored by its best segmentation into dictionary words
(dynamic programming, like jieba's DAG), so a substitution that turns loose
characters into a known word scores higher. The many characters one
position may take share the rest of their window (`SubstitutionWindow`),
and a character no word can hold where it stands is a token of its own in
every segmentation: how much it can gain is known without a DP
(`gain_bounds`), which is how most candidates are ruled out. The model is
built once (one to two seconds) and kept in a cache file that later
processes read in a fraction of that (`load_charlm`).
"""
from __future__ import annotations

import hashlib
import importlib.util
import marshal
import math
import os
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

# Words longer than this add little evidence and slow the DP down.
MAX_WORD_LEN = 6
# Log-probability of a character the lexicon does not know at all, relative to
# the rarest known word: such a character is very unlikely in modern prose.
UNKNOWN_PENALTY = 3.0
# Arabic numbers read like Chinese ones (3个, 5年): scored as 一 so that the lexicon's
# numeral words (一个, 一年) give measure words their context.
SCORE_CACHE = 50_000  # window scores kept (well under 10 MB)
GAIN_CACHE = 20_000  # gains and bounds of recent windows kept (a few hundred bytes each)
DIGIT_RUN = re.compile(r"[0-9]+(?:\.[0-9]+)?")
DIGIT_CHARS = frozenset("0123456789.")  # what a DIGIT_RUN match is made of
# How far a gain bound summed in another order than the DP's (`gain_bounds`) may lie from the DP's
# own sums. Both add up a window's tokens, each addition rounding by at most half an ulp of the
# sum: for n characters of at most 21 nats each that is below n * n * 3e-15, under 1e-9 for windows
# up to 500 characters (the glyph stage scores 9); the margin is a thousand times that.
ROUNDING_SLACK = 1e-6
ADJACENT_PAIR = re.compile(r"(?=([^\n]{2}))")  # every pair of neighbours in newline-joined words
SAME_CHAR_RUN = re.compile(r"(.)\1*", re.S)
MODEL_FORMAT = 1  # raise when the tables a cached model holds change


def is_cjk(ch: str) -> bool:
    """A CJK unified ideograph (basic block or extension A)."""
    cp = ord(ch)
    return 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF


@dataclass(frozen=True, eq=False)
class CharLM:
    """Word and character statistics of one lexicon, and the window scorer built on them.

    Compared and hashed by identity, so that a stage's caches can be keyed by the model they used.
    """

    word_logp: dict[str, float]
    char_freq: dict[str, int]
    unknown_logp: float

    # Which characters stand next to which inside lexicon words, as a few thousand short strings
    # (a few MB, where sets of character pairs take tens): `ends_after[a]` holds every b such that
    # a word of two or more ends in ab. Where no word ends in the two characters before a
    # position, no longer word ends there either: the DP need not look further back (most
    # positions of prose), and its maximum is the same. `followers[a]` holds every b that
    # follows a inside some word. Both are derived from `word_logp` (`adjacency_tables`).
    ends_after: dict[str, str]
    followers: dict[str, str]

    def __post_init__(self) -> None:
        # Repairs score the same small windows many times over; remember recent ones.
        object.__setattr__(self, "score", lru_cache(maxsize=SCORE_CACHE)(self._score))
        object.__setattr__(self, "substitution_gains", lru_cache(maxsize=GAIN_CACHE)(self._substitution_gains))
        object.__setattr__(self, "gain_bounds", lru_cache(maxsize=GAIN_CACHE)(self._gain_bounds))
        object.__setattr__(self, "isolated_gains", lru_cache(maxsize=GAIN_CACHE)(self._isolated_gains))
        object.__setattr__(self, "followers_of", lru_cache(maxsize=GAIN_CACHE)(self._followers_of))

    def char_count(self, ch: str) -> int:
        return self.char_freq.get(ch, 0)

    def _score(self, text: str) -> float:
        """Log-probability of the best segmentation of `text` into lexicon words.

        Characters outside the lexicon are single tokens at `unknown_logp`;
        non-Chinese characters (Latin, digits, punctuation) cost nothing, so
        they neither help nor hurt a candidate. A number counts as 一.
        """
        return self._segment(DIGIT_RUN.sub("一", text), [0.0])[-1]

    def _substitution_gains(self, left: str, original: str, middles: tuple[str, ...],
                            offsets: tuple[float, ...], right: str) -> tuple[float, ...]:
        """`score(left + middle + right) - score(left + original + right) + offset` for each middle.

        What the middles share is prepared once (`SubstitutionWindow`).
        """
        window = SubstitutionWindow(self, left, right)
        base = window.score(original)
        return tuple([window.score(middle) - base + offset for middle, offset in zip(middles, offsets)])

    def _gain_bounds(self, left: str, original: str, middles: tuple[str, ...], offsets: tuple[float, ...],
                     right: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
        """Lower and upper bounds on the `substitution_gains` of the same arguments, up to `ROUNDING_SLACK`.

        Found without a DP for most middles. A middle no word can hold here
        (`_holds_none`) is a token of its own in every segmentation, while the
        original alone between the best of each side is one segmentation of
        the original's window: it gains at most its `isolated_gains`. Any other
        middle gains at most the larger of that and its `_word_gain_bound`.
        Where no word can hold the original either, that segmentation is the
        original's best, and any middle alone between the same sides is one of
        its own: every middle gains at least its `isolated_gains`; otherwise
        nothing is known below (minus infinity). Where the original or a middle
        is no Chinese character, nothing is known at all.
        """
        if not (len(original) == 1 and is_cjk(original) and all_chinese(middles)):
            return (-math.inf,) * len(middles), (math.inf,) * len(middles)
        left, right = DIGIT_RUN.sub("一", left), DIGIT_RUN.sub("一", right)
        isolated = self.isolated_gains(original, middles, offsets)
        lowers = isolated if self._holds_none(left, original, right) else (-math.inf,) * len(middles)
        return lowers, self._upper_bounds(left, original, middles, offsets, right, isolated)

    def gain_exceeds(self, left: str, original: str, middles: tuple[str, ...], offsets: tuple[float, ...],
                     right: str, threshold: float) -> bool:
        """Whether some middle's `substitution_gains` exceed `threshold`, mostly decided by bounds (`gain_bounds`).

        Only a middle whose bounds lie on both sides of the threshold, give or
        take `ROUNDING_SLACK`, is scored exactly, the most promising first.
        """
        lowers, uppers = self.gain_bounds(left, original, middles, offsets, right)
        if middles and max(lowers) > threshold + ROUNDING_SLACK:
            return True
        floor = threshold - ROUNDING_SLACK
        kept = [(upper, middle, offset) for middle, offset, upper in zip(middles, offsets, uppers) if upper > floor]
        if not kept:
            return False
        kept.sort(reverse=True)
        window = SubstitutionWindow(self, left, right)
        base = window.score(original)
        return any(window.score(middle) - base + offset > threshold for _, middle, offset in kept)

    def _isolated_gains(self, original: str, middles: tuple[str, ...],
                        offsets: tuple[float, ...]) -> tuple[float, ...]:
        """Each middle's own log-probability less the original's, plus its offset (see `gain_bounds`)."""
        logp, unknown = self.word_logp, self.unknown_logp
        own = logp.get(original, unknown)
        return tuple([logp.get(middle, unknown) - own + offset for middle, offset in zip(middles, offsets)])

    def _followers_of(self, middles: tuple[str, ...]) -> tuple[str, ...]:
        return tuple([self.followers.get(middle, "") for middle in middles])

    def _holds_none(self, left: str, middle: str, right: str) -> bool:
        """Whether no lexicon word can hold `middle` between `left` and `right` (as the DP sees them, numbers 一).

        A word that holds it either ends in the last character of `left` and
        the middle, or holds the middle and the first character of `right`.
        """
        return (middle not in self.ends_after.get(left[-1:], "")
                and (right[:1] or "\n") not in self.followers.get(middle, ""))  # no word holds a line break

    def _upper_bounds(self, left: str, original: str, middles: tuple[str, ...], offsets: tuple[float, ...],
                      right: str, isolated: tuple[float, ...]) -> tuple[float, ...]:
        """The upper bounds of `gain_bounds`, `left` and `right` as the DP sees them."""
        ending = self.ends_after.get(left[-1:], "")  # `_holds_none`, for every middle at once
        after = right[:1] or "\n"
        held = [k for k, (middle, follow) in enumerate(zip(middles, self.followers_of(middles)))
                if middle in ending or after in follow]
        if not held:
            return isolated
        bounds = list(isolated)
        spans = self._word_spans(left, right)
        for k in held:
            word_bound = self._word_gain_bound(left, original, middles[k], right, spans, middles[k] in ending)
            bounds[k] = max(bounds[k], word_bound + offsets[k])
        return tuple(bounds)

    def _word_spans(self, left: str, right: str) -> tuple[str, int, list[int]]:
        """Where words through a middle between `left` and `right` can reach, whatever the middle.

        Every pair of neighbours in a word is a pair inside some word
        (`followers`), and a word ends where its last two characters end one
        (`ends_after`). Returns what follows the last character of `left` in
        words, the first position of `left` a word through the middle can
        start at when the middle is one of those, and the lengths of the
        starts of `right` (two or more) that a word through the middle can end with.
        """
        followers, ends_after = self.followers, self.ends_after
        n_left = len(left)
        after_left = followers.get(left[-1], "") if left else ""
        reach = max(n_left - 1, 0)
        lowest = max(0, n_left + 1 - MAX_WORD_LEN)
        while reach > lowest and left[reach] in followers.get(left[reach - 1], ""):
            reach -= 1
        stops = []
        for stop in range(2, min(len(right), MAX_WORD_LEN - 1) + 1):
            end = right[stop - 1]
            if end not in followers.get(right[stop - 2], ""):
                break
            if (("\u4e00" <= end <= "\u9fff" or "\u3400" <= end <= "\u4dbf")
                    and end in ends_after.get(right[stop - 2], "")):
                stops.append(stop)
        return after_left, reach, stops

    def _word_gain_bound(self, left: str, original: str, middle: str, right: str,
                         spans: tuple[str, int, list[int]], ends_here: bool) -> float:
        """An upper bound, up to rounding, on what a word through `middle` gains it over `original` here.

        For Chinese `original` and `middle`, `left` and `right` as the DP sees
        them; `spans` from `_word_spans`, `ends_here` when a word ends in the
        last character of `left` and the middle. A segmentation whose token
        through the middle is a word has at most the best parts around that
        word's span; the original's window has the same best parts around the
        span, and at least the span's own best segmentation inside it. So the
        difference is at most the largest, over the words that can hold the
        middle here, of the word's log-probability less the best score of its
        span with the original in it (minus infinity where no word can).
        """
        logp, score = self.word_logp, self.score
        after_left, reach, stops = spans
        n_left = len(left)
        if middle not in after_left:
            reach = n_left  # no word holds the last character of `left` and the middle
        bound = -math.inf
        if ends_here:
            for start in range(reach, n_left):
                word_lp = logp.get(left[start:] + middle)
                if word_lp is not None:
                    bound = max(bound, word_lp - score(left[start:] + original))
        if right and right[0] in self.followers.get(middle, ""):
            first = right[0]
            if (("\u4e00" <= first <= "\u9fff" or "\u3400" <= first <= "\u4dbf")
                    and first in self.ends_after.get(middle, "")):
                stops = [1, *stops]
            for stop in stops:
                for start in range(max(reach, n_left + stop + 1 - MAX_WORD_LEN), n_left + 1):
                    word_lp = logp.get(left[start:] + middle + right[:stop])
                    if word_lp is not None:
                        bound = max(bound, word_lp - score(left[start:] + original + right[:stop]))
        return bound

    def _segment(self, text: str, best: list[float]) -> list[float]:
        """Extend `best` (best[k]: the best segmentation of text[:k], known for k < len(best)) to all of `text`."""
        logp = self.word_logp
        unknown = self.unknown_logp
        ends_after = self.ends_after
        for end in range(len(best), len(text) + 1):
            ch = text[end - 1]
            if not ("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"):
                best.append(best[end - 1])
                continue
            value = best[end - 1] + logp.get(ch, unknown)
            if end >= 2 and ch in ends_after.get(text[end - 2], ""):
                for start in range(max(0, end - MAX_WORD_LEN), end - 1):
                    word_lp = logp.get(text[start:end])
                    if word_lp is not None and best[start] + word_lp > value:
                        value = best[start] + word_lp
            best.append(value)
        return best


class SubstitutionWindow:
    """The window `left + ? + right`, prepared for scoring the many characters one position may take.

    What does not depend on the middle is computed once: the DP over `left`
    (the DP's value at a position depends only on the text before it), and
    for each character of `right` its log-probability and the lexicon words
    ending there that do not reach back to the middle. Per middle, only the
    words that hold the middle are looked up, and only where one of them can
    exist: where a word ends in the middle, or the middle is followed by the
    first character of `right` in some word (`CharLM.followers`).
    """

    __slots__ = ("lm", "raw_left", "raw_right", "left", "right", "head", "steps")

    def __init__(self, lm: CharLM, left: str, right: str) -> None:
        self.lm = lm
        self.raw_left, self.raw_right = left, right
        self.left = left = DIGIT_RUN.sub("一", left)
        self.right = right = DIGIT_RUN.sub("一", right)
        self.head = lm._segment(left, [0.0])
        logp, ends_after = lm.word_logp, lm.ends_after
        # Per character of `right`: None when it is no Chinese character (it costs nothing and ends no
        # word), else (its log-probability, the words right[s:k + 1] ending at it as (s, logp), whether
        # any word ends in right[k - 1:k + 1], which words through the middle need too).
        steps: list[tuple[float, list[tuple[int, float]], bool] | None] = []
        for k, ch in enumerate(right):
            if not ("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"):
                steps.append(None)
            elif k and ch in ends_after.get(right[k - 1], ""):
                inner = [(s, logp[right[s:k + 1]]) for s in range(max(0, k + 1 - MAX_WORD_LEN), k)
                         if right[s:k + 1] in logp]
                steps.append((logp.get(ch, lm.unknown_logp), inner, True))
            else:
                steps.append((logp.get(ch, lm.unknown_logp), [], False))
        self.steps = steps

    def score(self, middle: str) -> float:
        """`lm.score(left + middle + right)`, equal to the last bit.

        Each position's value is the maximum of the same sums `CharLM._segment`
        compares. A middle that is a digit or a point could join a number
        across the cut (3 + 5 + 年), so such a window is scored whole; one that
        is no Chinese character takes the plain DP from the shared `left`.
        """
        lm = self.lm
        if len(middle) != 1 or middle in DIGIT_CHARS:
            return lm.score(self.raw_left + middle + self.raw_right)
        if not is_cjk(middle):
            return lm._segment(self.left + middle + self.right, self.head.copy())[-1]
        logp, ends_after, head, left, right = lm.word_logp, lm.ends_after, self.head, self.left, self.right
        n_left = len(left)
        value = head[n_left] + logp.get(middle, lm.unknown_logp)
        if n_left and middle in ends_after.get(left[-1], ""):
            for start in range(max(0, n_left + 1 - MAX_WORD_LEN), n_left):
                word_lp = logp.get(left[start:] + middle)
                if word_lp is not None and head[start] + word_lp > value:
                    value = head[start] + word_lp
        tail = [value]  # tail[k]: the best segmentation of everything before right[k]
        reaches = bool(right) and right[0] in lm.followers.get(middle, "")  # a word may hold middle + right[0]
        for k, step in enumerate(self.steps):
            if step is None:
                tail.append(tail[k])
                continue
            unigram, inner, ends = step
            value = tail[k] + unigram
            for s, word_lp in inner:
                if tail[s] + word_lp > value:
                    value = tail[s] + word_lp
            if reaches and (ends if k else right[0] in ends_after.get(middle, "")):
                for start in range(max(0, n_left + k + 2 - MAX_WORD_LEN), n_left + 1):
                    word_lp = logp.get(left[start:] + middle + right[:k + 1])
                    if word_lp is not None and head[start] + word_lp > value:
                        value = head[start] + word_lp
            tail.append(value)
        return tail[-1]


@lru_cache(maxsize=65536)
def all_chinese(middles: tuple[str, ...]) -> bool:
    """Whether every middle is one Chinese character (a glyph stage's candidates always are)."""
    return all(len(middle) == 1 and is_cjk(middle) for middle in middles)


def grouped(pairs: set[str]) -> dict[str, str]:
    """Two-character strings grouped by their first character: a -> every b of the pairs ab, joined.

    Built by one sort and one C-speed pass over the sorted first characters.
    """
    joined = "".join(sorted(pairs))
    firsts, seconds = joined[0::2], joined[1::2]
    return {run.group(1): seconds[run.start():run.end()] for run in SAME_CHAR_RUN.finditer(firsts)}


def adjacency_tables(word_logp: dict[str, float]) -> tuple[dict[str, str], dict[str, str]]:
    """`ends_after` and `followers` of the lexicon's words (see `CharLM`)."""
    return (grouped({word[-2:] for word in word_logp if len(word) >= 2}),
            grouped(set(ADJACENT_PAIR.findall("\n".join(word_logp)))))


def build_charlm(lexicon: str) -> CharLM:
    """The model of a jieba-format lexicon ("word frequency [tag]" per line)."""
    freqs: dict[str, int] = {}
    char_freq: dict[str, int] = {}
    for line in lexicon.splitlines():
        parts = line.split(" ")
        if len(parts) < 2:
            continue
        word, freq = parts[0], int(parts[1])
        if not word or freq <= 0:
            continue
        if len(word) <= MAX_WORD_LEN:
            freqs[word] = freqs.get(word, 0) + freq
        for ch in word:
            char_freq[ch] = char_freq.get(ch, 0) + freq
    log_total = math.log(sum(freqs.values()))
    word_logp = {word: math.log(freq) - log_total for word, freq in freqs.items()}
    unknown_logp = -log_total - UNKNOWN_PENALTY
    return CharLM(word_logp, char_freq, unknown_logp, *adjacency_tables(word_logp))


def model_cache_dir() -> Path:
    """Where built models are kept: `$CORPUS_CLEAN_CACHE`, else the user's cache folder."""
    configured = os.environ.get("CORPUS_CLEAN_CACHE")
    if configured:
        return Path(configured)
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "corpus-clean"


def _cache_file(lexicon: bytes) -> Path:
    """The cache file of a model: named by the lexicon's bytes and everything else the build depends on."""
    key = hashlib.sha256(lexicon)
    key.update(f"{MODEL_FORMAT}|{MAX_WORD_LEN}|{UNKNOWN_PENALTY}|{sys.version_info[:2]}".encode())
    return model_cache_dir() / f"charlm-{key.hexdigest()[:20]}.marshal"


def _read_lexicon() -> bytes:
    """jieba's `dict.txt`, found without importing jieba: its `__init__` loads its own segmenter's
    tables and `pkg_resources` (about 0.1 s in every process, worker processes included), none of
    which the model needs."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("jieba is not installed: its dict.txt is the lexicon of cleaners.charlm")
    return (Path(next(iter(spec.submodule_search_locations))) / "dict.txt").read_bytes()


@lru_cache(maxsize=1)
def load_charlm() -> CharLM:
    """The model built from jieba's dictionary: built on first use, then shared in the process.

    Building takes one to two seconds, which every worker process of a parallel
    run would pay again; the built tables are therefore kept in a cache file
    (`marshal`, about 0.3 s to read) named by a hash of the lexicon and of the
    build's settings, so a changed lexicon or model never reads a stale file.
    A cache that cannot be read or written only costs the build.
    """
    lexicon = _read_lexicon()
    path = _cache_file(lexicon)
    try:
        return CharLM(*marshal.loads(path.read_bytes()))  # loads(): 3x faster than load() from a file
    except (OSError, EOFError, ValueError, TypeError):
        pass
    model = build_charlm(lexicon.decode("utf-8"))
    tables = (model.word_logp, model.char_freq, model.unknown_logp, model.ends_after, model.followers)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        partial.write_bytes(marshal.dumps(tables))
        os.replace(partial, path)  # readers see the whole file or none
    except OSError:
        pass
    return model
