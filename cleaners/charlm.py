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
characters into a known word scores higher. The model is built once per
process (about a second) and cached.
"""
from __future__ import annotations

import importlib.resources
import math
import re
from dataclasses import dataclass
from functools import lru_cache

# Words longer than this add little evidence and slow the DP down.
MAX_WORD_LEN = 6
# Log-probability of a character the lexicon does not know at all, relative to
# the rarest known word: such a character is very unlikely in modern prose.
UNKNOWN_PENALTY = 3.0
# Arabic numbers read like Chinese ones (3个, 5年): scored as 一 so that the lexicon's
# numeral words (一个, 一年) give measure words their context.
SCORE_CACHE = 50_000  # window scores kept (well under 10 MB)
DIGIT_RUN = re.compile(r"[0-9]+(?:\.[0-9]+)?")
DIGIT_CHARS = frozenset("0123456789.")  # what a DIGIT_RUN match is made of


def is_cjk(ch: str) -> bool:
    """A CJK unified ideograph (basic block or extension A)."""
    cp = ord(ch)
    return 0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF


@dataclass(frozen=True)
class CharLM:
    """Word and character statistics of one lexicon, and the window scorer built on them."""

    word_logp: dict[str, float]
    char_freq: dict[str, int]
    unknown_logp: float

    def __post_init__(self) -> None:
        # Repairs score the same small windows many times over; remember recent ones.
        object.__setattr__(self, "score", lru_cache(maxsize=SCORE_CACHE)(self._score))
        object.__setattr__(self, "substitution_scores",
                           lru_cache(maxsize=SCORE_CACHE)(self._substitution_scores))
        # The last two characters of every word of two or more. Where no word ends in the two
        # characters before a position, no longer word ends there either: the DP need not look
        # further back (most positions of prose), and its maximum is the same.
        object.__setattr__(self, "word_ends", frozenset(word[-2:] for word in self.word_logp if len(word) >= 2))

    def char_count(self, ch: str) -> int:
        return self.char_freq.get(ch, 0)

    def _score(self, text: str) -> float:
        """Log-probability of the best segmentation of `text` into lexicon words.

        Characters outside the lexicon are single tokens at `unknown_logp`;
        non-Chinese characters (Latin, digits, punctuation) cost nothing, so
        they neither help nor hurt a candidate. A number counts as 一.
        """
        return self._segment(DIGIT_RUN.sub("一", text), [0.0])[-1]

    def _substitution_scores(self, left: str, middles: tuple[str, ...], right: str) -> tuple[float, ...]:
        """`score(left + middle + right)` for each middle, the DP over `left` computed once for all of them.

        The DP's value at a position depends only on the text before it, so
        the candidates of one position share the left half of the window.
        A middle that is a digit or a point could join a number across the
        cut (3 + 5 + 年), so such a window is scored whole.
        """
        if any(len(middle) != 1 or middle in DIGIT_CHARS for middle in middles):
            return tuple(self.score(left + middle + right) for middle in middles)
        left, right = DIGIT_RUN.sub("一", left), DIGIT_RUN.sub("一", right)
        head = self._segment(left, [0.0])
        return tuple(self._segment(left + middle + right, head.copy())[-1] for middle in middles)

    def _segment(self, text: str, best: list[float]) -> list[float]:
        """Extend `best` (best[k]: the best segmentation of text[:k], known for k < len(best)) to all of `text`."""
        logp = self.word_logp
        unknown = self.unknown_logp
        word_ends = self.word_ends
        for end in range(len(best), len(text) + 1):
            ch = text[end - 1]
            if not ("\u4e00" <= ch <= "\u9fff" or "\u3400" <= ch <= "\u4dbf"):
                best.append(best[end - 1])
                continue
            value = best[end - 1] + logp.get(ch, unknown)
            if text[end - 2:end] in word_ends:
                for start in range(max(0, end - MAX_WORD_LEN), end - 1):
                    word_lp = logp.get(text[start:end])
                    if word_lp is not None and best[start] + word_lp > value:
                        value = best[start] + word_lp
            best.append(value)
        return best


def _read_lexicon() -> str:
    return (importlib.resources.files("jieba") / "dict.txt").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def load_charlm() -> CharLM:
    """The model built from jieba's dictionary; built on first use, then shared."""
    freqs: dict[str, int] = {}
    char_freq: dict[str, int] = {}
    for line in _read_lexicon().splitlines():
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
    return CharLM(word_logp, char_freq, unknown_logp)
