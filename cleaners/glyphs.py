"""Repair the characters a broken PDF font map put in place of the right ones.

A PDF whose embedded font has a faulty ToUnicode map turns every affected
glyph into a wrong but valid character, usually 1 to 40 code points below the
right one (癿 for 的, 仸 for 任, 尿 for 局). The map belongs to the font, so
no fixed table fits every document, and some wrong characters are ordinary
ones (与 for 专, 规 for 视), so a table applied everywhere would corrupt clean
text. The stage therefore works from evidence, scored by a language model
built from jieba's lexicon (`charlm`):

1. Detect. An occurrence is *suspect* when its character is very rare in
   modern prose and a character up to 40 code points above it reads clearly
   better in its context. Suspects close together make a damaged block, if
   most very rare characters there are suspects (in traditional, Cantonese
   or classical text they mostly are not). Outside blocks nothing changes,
   so a page can mix clean and damaged sections.
2. Learn the block's own map, strongest evidence first: published pairs,
   then other very rare characters, each character choosing the candidate
   its occurrences prefer in sum; choices are then revised in the repaired
   context, singly and for neighbours damaged together (叇屔 → 发展).
3. Follow the map: a character the map now produces (不, once 丌→不 is
   learned) is *displaced*, its code belonging to another glyph, so its
   occurrences are repaired to their best candidate unless context clearly
   objects (人不自然 → 人与自然, 局面 → 层面). An ordinary character
   changes only where the model rejects it strongly and repeatedly
   (监规 → 监视); repairs made on weaker evidence are checked once more
   in the repaired context.

Every substitution goes into the draft's audit. Most candidates are
judged by bounds on their gain that need no DP (`CharLM.gain_bounds`): the
DP scores only what the bounds leave open, so every decision is the one
exact scores give.
"""
from __future__ import annotations

import bisect
import math
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import accumulate

from .charlm import ROUNDING_SLACK, CharLM, is_cjk, load_charlm
from .cjk import CJK_RANGES, CJK_RUN, GB2312, cjk_count
from .document import Audit, CleanContext, Page
from .glyph_pairs import KNOWN_PAIRS

OTHER_NON_ASCII = re.compile("[^\x00-\x7f\u4e00-\u9fff\u3400-\u4dbf]")
MAX_SHIFT = 40  # how far above the wrong character the right one may lie
WINDOW = 4  # characters of context on each side when scoring a candidate
MIN_CANDIDATE_FREQ = 300  # a repair target must be a character prose actually uses
VERY_RARE_FREQ = 800  # lexicon frequency below which a character is almost never modern prose
DETECT_GAIN = 7.0  # gain that makes a very rare character's occurrence evidence of damage
TRUSTED_GAIN = 2.0  # mean gain that settles a published pair in a block (prior included)
CONTEXT_GAIN = 1.0  # mean context gain that settles a published pair whose wrong character is not very rare
VERY_RARE_GAIN = 6.0  # mean gain that settles a very rare character no table lists
SINGLE_SITE_GAIN = 10.0  # the same when it occurs only once in the block
PLAIN_GAIN = 8.0  # mean gain needed to change any other character inside a block
PLAIN_MIN_SITES = 2  # ... at this many sites at least: a font's swap repeats, a fluke does not
COMMON_MIN_RATIO = 0.25  # a candidate must not be much rarer than the character it replaces
TOLERANCE = 2.5  # a settled or displaced character is repaired unless context prefers it by this much
TABLE_PRIOR = 2.0  # log-odds bonus for a published pair
RARE_TABLE_PRIOR = 5.0  # the same when the wrong character is one prose hardly ever uses
SHIFT_COST = 0.1  # per code point of shift, for pairs no table lists
MIN_BLOCK_SUSPECTS = 3  # a damaged block needs this much evidence in total
MIN_EXPLAINED = 0.8  # ... and most of its very rare characters must be repairable suspects
MIN_CHINESE = 0.95  # ... and its letters beyond ASCII must be Chinese characters
MAX_GAP_CJK = 300  # Chinese characters without a suspect that end a block
EDGE_CJK = 100  # a block takes in neighbouring lines up to this many Chinese characters each side
CORE_EDGE_CJK = 20  # ... and counts the nearest of them (a heading, a label) as damaged like itself
DECISION_SITES = 40  # occurrences that decide a character's repair
PLAIN_DECISION_SITES = 8  # ... for ordinary characters, of which a block holds thousands
SETTLED_VERDICTS = 8  # agreeing occurrences after which a character's suspect verdict is reused
MAX_ROUNDS = 5  # displacement chains (丌→不→与→专) are this deep at most
SITE_CACHE = 50_000  # judged sites remembered (about 200 bytes each)

TABLE: dict[str, tuple[str, ...]] = {}
for _wrong, _right in KNOWN_PAIRS:
    TABLE[_wrong] = TABLE.get(_wrong, ()) + (_right,)


@lru_cache(maxsize=65536)
def candidates(ch: str) -> tuple[str, ...]:
    """Characters `ch` may stand for: published pairs, and characters just above it that prose uses."""
    lm = load_charlm()
    found = list(TABLE.get(ch, ()))
    for shift in range(1, MAX_SHIFT + 1):
        cand = chr(ord(ch) + shift)
        if is_cjk(cand) and lm.char_count(cand) >= MIN_CANDIDATE_FREQ and cand not in found:
            found.append(cand)
    return tuple(found)


@lru_cache(maxsize=65536)
def plain_candidates(ch: str) -> tuple[str, ...]:
    """Candidates for a character with no other evidence against it.

    A candidate much rarer than `ch` is left out: that a common character
    stands for a rarer one is only believed when the map says so (displacement).
    """
    lm = load_charlm()
    floor = COMMON_MIN_RATIO * lm.char_count(ch)
    return tuple(c for c in candidates(ch) if lm.char_count(c) >= floor)


@lru_cache(maxsize=65536)
def is_very_rare(ch: str) -> bool:
    return is_cjk(ch) and load_charlm().char_count(ch) < VERY_RARE_FREQ and bool(candidates(ch))


def site(line: str, i: int) -> tuple[str, str, str]:
    """The window a candidate for `line[i]` is judged in: the context before, the character, the context after."""
    return line[max(0, i - WINDOW):i], line[i], line[i + 1:i + WINDOW + 1]


def gains(lm: CharLM, line: str, i: int, cands: tuple[str, ...]) -> tuple[float, ...]:
    """Log-probability gain of putting each candidate at `line[i]`, in a small window, in the order of `cands`."""
    left, wrong, right = site(line, i)
    return lm.substitution_gains(left, wrong, cands, priors(wrong, cands), right)


def gain_exceeds(lm: CharLM, line: str, i: int, options: Callable[[str], tuple[str, ...]], threshold: float) -> bool:
    """`max(gains(lm, line, i, options(line[i]))) > threshold`, mostly without a DP (`CharLM.gain_exceeds`)."""
    lo = max(0, i - WINDOW)
    return window_gain_exceeds(lm, line[lo:i + WINDOW + 1], i - lo, options, threshold)


@lru_cache(maxsize=SITE_CACHE)
def window_gain_exceeds(lm: CharLM, window: str, at: int, options: Callable[[str], tuple[str, ...]],
                        threshold: float) -> bool:
    """`gain_exceeds` for the character at `window[at]`, remembered: the same text recurs within a corpus."""
    wrong = window[at]
    cands = options(wrong)
    return lm.gain_exceeds(window[:at], wrong, cands, priors(wrong, cands), window[at + 1:], threshold)


@dataclass
class Evidence:
    """One candidate's gains at some sites: bounded (`CharLM.gain_bounds`), scored exactly only when asked."""

    lm: CharLM
    windows: list[tuple[str, str, str]]  # each site as `site` gives it
    cand: str
    offset: float  # its prior
    bounds: list[tuple[float, float]]  # (lower, upper) gain at each site; (gain, gain) once scored

    def supports(self, test: Callable[[list[float]], bool]) -> bool:
        """`test(gains)`, scoring the gains only when their bounds leave the answer open.

        `test` must be monotone (raising a gain never turns its answer from
        yes to no), as every `need` and `accept` is: then it holds for the
        gains when it holds for the lower bounds, less what rounding could
        account for, and fails when it fails for the upper bounds, plus that.
        """
        if test([lower - ROUNDING_SLACK for lower, _ in self.bounds]):
            return True
        if not test([upper + ROUNDING_SLACK for _, upper in self.bounds]):
            return False
        return test([self.lm.substitution_gains(left, wrong, (self.cand,), (self.offset,), right)[0]
                     for left, wrong, right in self.windows])

    def at(self, n: int) -> Evidence:
        """The evidence of the n-th site alone."""
        return Evidence(self.lm, self.windows[n:n + 1], self.cand, self.offset, self.bounds[n:n + 1])


def evidence_at(lm: CharLM, line: str, i: int, cand: str) -> Evidence:
    """The evidence of one site for one candidate."""
    left, wrong, right = site(line, i)
    offset = prior(wrong, cand)
    (lower,), (upper,) = lm.gain_bounds(left, wrong, (cand,), (offset,), right)
    return Evidence(lm, [(left, wrong, right)], cand, offset, [(lower, upper)])


def best_candidate(lm: CharLM, lines: list[str], sites: list[tuple[int, int]],
                   cands: tuple[str, ...]) -> tuple[int, Evidence]:
    """The candidate whose gains summed over `sites` are highest (the first of equal ones), and its evidence.

    The answer summing every candidate's `gains` would give, with most
    candidates never scored exactly. Their bounds (`CharLM.gain_bounds`),
    summed, often settle it: the candidate with the highest upper bound is
    the best when its lower bound beats every other upper bound by more than
    rounding could account for. Otherwise that candidate is scored first, then,
    together, the ones whose upper bounds its total does not rule out.
    """
    windows = [site(lines[li], i) for li, i in sites]
    offsets = priors(windows[0][1], cands)  # every site holds the same character
    site_bounds = [lm.gain_bounds(left, wrong, cands, offsets, right) for left, wrong, right in windows]
    uppers = tuple([sum(column) for column in zip(*[upper for _, upper in site_bounds])])  # in any order: bounds
    top = best_index(uppers)
    margin = ROUNDING_SLACK * len(sites)
    rivals = max((upper for j, upper in enumerate(uppers) if j != top), default=-math.inf)
    if sum(lower[top] for lower, _ in site_bounds) - margin > rivals + margin:
        return top, Evidence(lm, windows, cands[top], offsets[top],
                             [(lower[top], upper[top]) for lower, upper in site_bounds])
    top_gains = [lm.substitution_gains(left, wrong, cands[top:top + 1], offsets[top:top + 1], right)[0]
                 for left, wrong, right in windows]
    top_total = summed([(gain,) for gain in top_gains])[0]
    contenders = [j for j, upper in enumerate(uppers) if upper >= top_total - margin]
    if contenders == [top]:
        best, best_gains = top, top_gains
    else:
        chosen = tuple(cands[j] for j in contenders)
        chosen_offsets = tuple(offsets[j] for j in contenders)
        sample = [lm.substitution_gains(left, wrong, chosen, chosen_offsets, right) for left, wrong, right in windows]
        index = best_index(summed(sample))
        best, best_gains = contenders[index], [one[index] for one in sample]
    return best, Evidence(lm, windows, cands[best], offsets[best], [(gain, gain) for gain in best_gains])


def summed(sample: list[tuple[float, ...]]) -> tuple[float, ...]:
    """Each candidate's gains summed over the sites, site by site in order, so that totals compare alike."""
    totals = sample[0]
    for one in sample[1:]:
        totals = tuple([gain + total for total, gain in zip(totals, one)])
    return totals


def best_index(totals: tuple[float, ...]) -> int:
    """Position of the highest total; the first of equal ones."""
    return max(range(len(totals)), key=totals.__getitem__)


@lru_cache(maxsize=65536)
def priors(wrong: str, cands: tuple[str, ...]) -> tuple[float, ...]:
    """`prior(wrong, cand)` for each candidate: a character's candidates are scored at every site."""
    return tuple(prior(wrong, cand) for cand in cands)


def prior(wrong: str, right: str) -> float:
    """Log-odds that a font maps `right` to `wrong` before context is read.

    A published pair gets a bonus (a larger one when the wrong character is one
    prose hardly uses); any other pair pays a little for each code point of
    shift, since observed maps shift by a few code points more often than by many.
    """
    if right in TABLE.get(wrong, ()):
        return RARE_TABLE_PRIOR if is_very_rare(wrong) else TABLE_PRIOR
    return -SHIFT_COST * abs(ord(right) - ord(wrong))


def context_gain(lm: CharLM, wrong: str, right: str, gain: float) -> float:
    """The part of a gain that comes from context: without the prior and the two characters' own frequencies.

    A mid-frequency character (劣, 尿) alone next to Latin text or punctuation
    gains by the bare frequency of a commoner neighbour; that is no evidence
    that it is wrong.
    """
    own = lm.word_logp.get(right, lm.unknown_logp) - lm.word_logp.get(wrong, lm.unknown_logp)
    return gain - prior(wrong, right) - own


@lru_cache(maxsize=1)
def very_rare_pattern() -> re.Pattern:
    """One character class of every very rare character, so a clean line is scanned at C speed.

    Built once per process (every worker pays it), so `is_very_rare` is
    answered here without `candidates()` for all 27,000 code points: a
    character has a candidate above it when the nearest code point at or
    above `cp + 1` that prose uses (`MIN_CANDIDATE_FREQ`) lies within `MAX_SHIFT`.
    """
    lm = load_charlm()
    usable = sorted(cp for lo, hi in CJK_RANGES for cp in range(lo, hi + 1)
                    if lm.char_count(chr(cp)) >= MIN_CANDIDATE_FREQ)
    rare = []
    for lo, hi in CJK_RANGES:
        for cp in range(lo, hi + 1):
            ch = chr(cp)
            if lm.char_count(ch) >= VERY_RARE_FREQ:
                continue
            above = bisect.bisect_right(usable, cp)
            if ch in TABLE or (above < len(usable) and usable[above] - cp <= MAX_SHIFT):
                rare.append(ch)
    return re.compile(f"[{re.escape(''.join(rare))}]")


def suspect_offsets(lm: CharLM, line: str, verdicts: dict[str, list[bool]]) -> list[int]:
    """Offsets, counted in Chinese characters, of very rare characters a neighbour above clearly repairs.

    `verdicts` collects, per character, the outcome at its occurrences so
    far; once `SETTLED_VERDICTS` of them agree, later occurrences take the
    same verdict without being scored (a long damaged page stays fast).
    """
    found = []
    n_cjk = 0  # Chinese characters before the current match
    counted_to = 0
    for match in very_rare_pattern().finditer(line):
        i, ch = match.start(), match.group()
        n_cjk += cjk_count(line, counted_to, i)
        counted_to = i
        seen = verdicts.setdefault(ch, [])
        if len(seen) >= SETTLED_VERDICTS and len(set(seen[:SETTLED_VERDICTS])) == 1:
            suspect = seen[0]
        else:
            suspect = gain_exceeds(lm, line, i, candidates, DETECT_GAIN)
            seen.append(suspect)
        if suspect:
            found.append(n_cjk)
    return found


def damaged_blocks(lm: CharLM, lines: list[str]) -> list[range]:
    """Runs of lines holding damage: suspects no more than `MAX_GAP_CJK` Chinese characters apart.

    Measuring the gap in characters rather than lines makes the rule the same
    for hard-wrapped PDF text and for one long line per paragraph; a clean
    section (no suspects over a long stretch) separates two blocks, and a
    stray rare character in clean text never gathers enough company.
    Suspects are very rare characters, so a page with fewer of those than a
    block needs holds no block (most pages: one scan at C speed), nor does
    one with fewer suspects.
    """
    if len(very_rare_pattern().findall("\n".join(lines))) < MIN_BLOCK_SUSPECTS:
        return []
    verdicts: dict[str, list[bool]] = {}
    offsets = [suspect_offsets(lm, line, verdicts) for line in lines]
    if sum(map(len, offsets)) < MIN_BLOCK_SUSPECTS:
        return []
    spans: list[range] = []
    group: list[int] = []  # line index of each suspect in the current group
    last_at = None
    position = 0  # Chinese characters seen before the current line
    for index, line in enumerate(lines):
        for offset in offsets[index]:
            at = position + offset
            if last_at is not None and at - last_at > MAX_GAP_CJK:
                if len(group) >= MIN_BLOCK_SUSPECTS:
                    spans.append(range(group[0], group[-1] + 1))
                group = []
            group.append(index)
            last_at = at
        position += cjk_count(line)
    if len(group) >= MIN_BLOCK_SUSPECTS:
        spans.append(range(group[0], group[-1] + 1))
    return [span for span in spans
            if explained_share(lines, offsets, span) >= MIN_EXPLAINED and chinese_share(lines, span) >= MIN_CHINESE]


def chinese_share(lines: list[str], span: range) -> float:
    """Share of Chinese characters among the span's letters beyond ASCII.

    Broken-font text is Chinese text with some characters swapped; a stretch
    full of kana, Cyrillic, private-use or bopomofo characters is mojibake or
    another script, which this stage must not take for damage.
    """
    chinese = sum(cjk_count(lines[index]) for index in span)  # every Chinese character is a letter
    others = sum(1 for index in span for ch in OTHER_NON_ASCII.findall(lines[index])
                 if ch.isalpha() or "\ue000" <= ch <= "\uf8ff")
    return chinese / (chinese + others) if chinese + others else 0.0


def explained_share(lines: list[str], offsets: list[list[int]], span: range) -> float:
    """Share of the span's very rare or non-GB2312 characters that a neighbour above clearly repairs.

    In broken-font text nearly every rare character is there because of the
    font (0.93–1.0 in the samples); in text that is rare-charactered by
    nature — traditional characters, Cantonese, classical quotations — most
    are not (0.5–0.7), and the span is left alone.
    """
    suspects = sum(len(offsets[index]) for index in span)
    rare = sum(len(unexplained_pattern().findall(lines[index])) for index in span)
    return suspects / rare if rare else 0.0


@lru_cache(maxsize=1)
def unexplained_pattern() -> re.Pattern:
    """Characters that need explaining in a damaged block: the very rare ones, and those outside GB2312.

    Broken-font text is simplified Chinese, whose characters GB2312 holds, with
    some swapped for others; traditional text (會議 講話) holds many characters
    GB2312 lacks that no neighbour above repairs, and must not be taken for damage.
    """
    outside = "".join(chr(cp) for lo, hi in CJK_RANGES for cp in range(lo, hi + 1) if chr(cp) not in GB2312)
    return re.compile(f"{very_rare_pattern().pattern}|[{re.escape(outside)}]")


def widen(span: range, lines: list[str], edge: int) -> range:
    """Take in the short lines around a block: the damage rarely starts and ends on a suspect."""
    start, stop, budget = span.start, span.stop, edge
    while start > 0 and cjk_count(lines[start - 1]) <= budget:
        start, budget = start - 1, budget - cjk_count(lines[start - 1])
    budget = edge
    while stop < len(lines) and cjk_count(lines[stop]) <= budget:
        stop, budget = stop + 1, budget - cjk_count(lines[stop])
    return range(start, stop)


@dataclass
class BlockRepair:
    """One damaged block: its lines, the map learned from them, and the repairs made.

    `core` holds the lines from the first to the last suspect and the short
    lines right beside them; the lines further around (`widen`) only take
    repairs the model is sure of on its own. `text` is the lines as they
    came: a position's character changes only through `replace` (and
    `restore`), which keep `origin`, so an unrepaired position holds the
    character `text` has there, and positions are found by `str.find`.
    """

    lines: list[str]
    core: range
    mapping: dict[str, str] = field(default_factory=dict)
    settled: set[str] = field(default_factory=set)
    origin: dict[tuple[int, int], str] = field(default_factory=dict)  # repaired position -> wrong char
    revisable: set[tuple[int, int]] = field(default_factory=set)  # repairs made on weaker evidence
    text: str = field(init=False)
    starts: list[int] = field(init=False)  # where each line begins in `text`
    counts: Counter = field(init=False)  # occurrences in `text`: no fewer than a character's unrepaired positions

    def __post_init__(self) -> None:
        self.text = "\n".join(self.lines)
        self.counts = Counter(self.text)
        self.starts = list(accumulate((len(line) + 1 for line in self.lines[:-1]), initial=0))

    def first_sites(self, chars: Iterable[str], edges: bool, min_sites: int = 1) -> list[tuple[str, tuple[int, int]]]:
        """The unsettled `chars` that have an unrepaired position, each with the first one, in reading order.

        Characters that occur fewer than `min_sites` times are left out.
        """
        lo, hi = self.span(edges)
        found = []
        for ch in chars:
            if ch in self.settled or self.counts[ch] < min_sites:
                continue
            site = next(self._unrepaired(ch, lo, hi), None)
            if site is not None:
                found.append((site, ch))
        found.sort()
        return [(ch, site) for site, ch in found]

    def open_sites(self, ch: str, edges: bool) -> list[tuple[int, int]]:
        """Unrepaired positions of `ch`, in reading order."""
        return list(self._unrepaired(ch, *self.span(edges)))

    def _unrepaired(self, ch: str, lo: int, hi: int) -> Iterator[tuple[int, int]]:
        """The (line, offset) positions of `ch` in `text[lo:hi]` that no repair made, in reading order."""
        at = self.text.find(ch, lo, hi)
        while at >= 0:
            site = self.position(at)
            if site not in self.origin:
                yield site
            at = self.text.find(ch, at + 1, hi)

    def span(self, edges: bool) -> tuple[int, int]:
        """Where in `text` the lines lie that a settle reaches: all of them, or the core."""
        if edges:
            return 0, len(self.text)
        return self.starts[self.core.start], self.starts[self.core.stop - 1] + len(self.lines[self.core.stop - 1])

    def position(self, at: int) -> tuple[int, int]:
        """(line, offset in line) of an offset in `text`."""
        li = bisect.bisect_right(self.starts, at) - 1
        return li, at - self.starts[li]

    def put(self, li: int, i: int, ch: str) -> None:
        line = self.lines[li]
        self.lines[li] = line[:i] + ch + line[i + 1:]

    def replace(self, li: int, i: int, right: str, revisable: bool = False) -> None:
        self.origin[(li, i)] = self.lines[li][i]
        if revisable:
            self.revisable.add((li, i))
        self.put(li, i, right)

    def restore(self, li: int, i: int) -> None:
        self.put(li, i, self.origin.pop((li, i)))
        self.revisable.discard((li, i))

    def repairs(self) -> Counter:
        """(wrong, right) -> count of the substitutions that stand."""
        return Counter((wrong, self.lines[li][i]) for (li, i), wrong in self.origin.items()
                       if self.lines[li][i] != wrong)


def settle(lm: CharLM, block: BlockRepair, chars: Iterable[str], need, accept, options=candidates,
           revisable: bool = False, edges: bool = False, decision_sites: int = DECISION_SITES,
           screen_gain: float | None = None, min_sites: int = 1) -> None:
    """Decide the repair of each of `chars` still unsettled from all its occurrences, then apply it.

    Characters are taken in the order of their first unrepaired occurrence.
    The character maps to the candidate with the highest summed gain when
    `need(lm, ch, candidate, gains)` accepts the evidence of its sites (the
    first `decision_sites` of them: enough to decide, and a long block stays
    fast; with `screen_gain`, a character whose first site shows no candidate
    gaining that much is passed over at once, as is one with fewer sites than
    `min_sites`, the fewest `need` accepts); each occurrence is then changed
    where `accept(lm, ch, right, gain)` agrees: unless context clearly objects
    for characters that are wrong wherever they appear in a block, only where
    context itself prefers the repair for ordinary ones.
    """
    # A character's unrepaired positions change only when it is settled itself (a repair to it is
    # recorded in `origin`), so all of them are looked up only for the characters that get that far.
    for ch, (li, i) in block.first_sites(chars, edges, min_sites):
        cands = options(ch)
        if not cands:
            continue
        if screen_gain is not None and not gain_exceeds(lm, block.lines[li], i, options, screen_gain):
            continue
        sites = block.open_sites(ch, edges)
        best, sample = best_candidate(lm, block.lines, sites[:decision_sites], cands)
        right = cands[best]
        if not sample.supports(lambda site_gains: need(lm, ch, right, site_gains)):
            continue
        block.mapping[ch] = right
        block.settled.add(ch)
        for n, (li, i) in enumerate(sites):
            # the sample's sites as they were judged; later ones as the repairs so far left them
            evidence = sample.at(n) if n < len(sample.windows) else evidence_at(lm, block.lines[li], i, right)
            if evidence.supports(lambda site_gains: accept(lm, ch, right, site_gains[0])):
                block.replace(li, i, right, revisable)


def mean(values: list[float]) -> float:
    return sum(values) / len(values)


def table_need(lm: CharLM, wrong: str, right: str, site_gains: list[float]) -> bool:
    """A published pair: a very rare character needs little; another needs context on its side."""
    if right not in TABLE.get(wrong, ()):
        return False
    if is_very_rare(wrong):
        return mean(site_gains) > TRUSTED_GAIN
    return mean([context_gain(lm, wrong, right, g) for g in site_gains]) > CONTEXT_GAIN


def very_rare_need(lm: CharLM, wrong: str, right: str, site_gains: list[float]) -> bool:
    """A very rare character no table lists: a single sighting must make a stronger case."""
    need = VERY_RARE_GAIN if len(site_gains) > 1 else SINGLE_SITE_GAIN
    return mean(site_gains) > need


def plain_need(lm: CharLM, wrong: str, right: str, site_gains: list[float]) -> bool:
    """An ordinary character changes only when the model rejects it strongly and more than once."""
    return len(site_gains) >= PLAIN_MIN_SITES and mean(site_gains) > PLAIN_GAIN


def displaced_need(lm: CharLM, wrong: str, right: str, site_gains: list[float]) -> bool:
    return mean(site_gains) > -TOLERANCE


def displaced_accept(lm: CharLM, wrong: str, right: str, gain: float) -> bool:
    return gain > -TOLERANCE


def rare_accept(lm: CharLM, wrong: str, right: str, gain: float) -> bool:
    if is_very_rare(wrong):
        return gain > -TOLERANCE
    return context_gain(lm, wrong, right, gain) > -TOLERANCE


def plain_accept(lm: CharLM, wrong: str, right: str, gain: float) -> bool:
    return context_gain(lm, wrong, right, gain) > 0


def repair_block(lm: CharLM, block: BlockRepair) -> None:
    """Learn and apply the block's map, strongest evidence first.

    Published pairs, then very rare characters no table lists (in context
    already partly repaired), each choice then revised in the repaired
    context; then what the map displaces, then ordinary characters; finally
    repairs made on weaker evidence are checked again in the repaired context.
    """
    settle(lm, block, [ch for ch in TABLE if ch in block.text], table_need, rare_accept)
    settle(lm, block, dict.fromkeys(very_rare_pattern().findall(block.text)), very_rare_need, rare_accept,
           revisable=True)
    refine(lm, block)
    refine_pairs(lm, block)
    refine(lm, block)
    follow_displacement(lm, block)
    settle(lm, block, dict.fromkeys("".join(CJK_RUN.findall(block.text))), plain_need, plain_accept,
           plain_candidates, revisable=True, edges=True, decision_sites=PLAIN_DECISION_SITES,
           screen_gain=PLAIN_GAIN / 2, min_sites=PLAIN_MIN_SITES)
    revert_worse(lm, block)


def follow_displacement(lm: CharLM, block: BlockRepair) -> None:
    """Characters the map produces (不 once 丌→不 is known) stand for something else."""
    for _ in range(MAX_ROUNDS):
        displaced = set(block.mapping.values()) - block.settled
        if not displaced:
            return
        settle(lm, block, displaced, displaced_need, displaced_accept)
        block.settled |= displaced


def refine(lm: CharLM, block: BlockRepair) -> None:
    """Choose each learned character's repair again, now that its neighbours are repaired too.

    When two neighbours are both damaged (叇屔 for 发展) the first one was
    judged beside a still wrong character; with the rest of the map applied,
    its true candidate can win.
    """
    sites: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for position, wrong in block.origin.items():
        sites[wrong].append(position)
    for wrong, positions in sites.items():
        for li, i in positions:
            block.put(li, i, wrong)
        cands = candidates(wrong)
        if cands:
            block.mapping[wrong] = cands[best_candidate(lm, block.lines, positions[:DECISION_SITES], cands)[0]]
        right = block.mapping[wrong]
        for li, i in positions:
            block.put(li, i, right)


def refine_pairs(lm: CharLM, block: BlockRepair) -> None:
    """Choose the repairs of two learned characters that keep standing side by side together.

    Judged one at a time, 叇屔 (发展 in a font that damaged both) can settle
    on 又属: each choice is best given the other. For adjacent pairs seen
    more than once, the pairs of candidates that form a lexicon word compete
    with the current choice, scored jointly over all sites.
    """
    pairs: dict[tuple[str, str], list[tuple[int, int]]] = defaultdict(list)
    for (li, i), wrong in block.origin.items():
        after = block.origin.get((li, i + 1))
        if after is not None and after != wrong:
            pairs[(wrong, after)].append((li, i))
    for (first, second), sites in sorted(pairs.items(), key=lambda kv: -len(kv[1])):
        if len(sites) < 2:
            continue
        options = {(a, b) for a in candidates(first) for b in candidates(second) if a + b in lm.word_logp}
        options.add((block.mapping[first], block.mapping[second]))

        def joint(option: tuple[str, str]) -> float:
            total = 0.0
            for li, i in sites[:DECISION_SITES]:
                line = block.lines[li]
                lo, hi = max(0, i - WINDOW), min(len(line), i + WINDOW + 2)
                total += lm.score(line[lo:i] + option[0] + option[1] + line[i + 2:hi])
            return total

        best = max(sorted(options), key=joint)
        if best != (block.mapping[first], block.mapping[second]):
            for wrong, right in zip((first, second), best):
                block.mapping[wrong] = right
                for (li, i), was in block.origin.items():
                    if was == wrong:
                        block.put(li, i, right)


def revert_worse(lm: CharLM, block: BlockRepair) -> None:
    """Undo a repair that reads worse than the original once its neighbours are repaired too.

    A character is judged in a context that may itself be damaged (侥并 before
    并→幸 is known); with the whole block repaired, the original can win.
    """
    for li, i in sorted(block.revisable):
        wrong, right = block.origin[(li, i)], block.lines[li][i]
        # gains() adds prior(right, wrong) for going back; what counts is the prior of the repair
        back = gains(lm, block.lines[li], i, (wrong,))[0] - prior(right, wrong)
        if back > max(prior(wrong, right), 0.0):
            block.restore(li, i)


def repair_lines(lines: list[str], audit: Audit, lm: CharLM | None = None) -> list[str]:
    """Repair broken-font glyphs in the damaged blocks of `lines`; record each substitution."""
    lm = lm or load_charlm()
    out = list(lines)
    for span in damaged_blocks(lm, lines):
        rows, core = widen(span, lines, EDGE_CJK), widen(span, lines, CORE_EDGE_CJK)
        block = BlockRepair([out[r] for r in rows], range(core.start - rows.start, core.stop - rows.start))
        repair_block(lm, block)
        for r, line in zip(rows, block.lines):
            out[r] = line
        for (wrong, right), n in block.repairs().items():
            audit.repair(wrong, right, n)
    return out


def glyphs_stage(page: Page, ctx: CleanContext) -> Page:
    """Pipeline stage: repair broken-font glyphs in every draft, section by section."""
    for draft in page.drafts:
        draft.lines = repair_lines(draft.lines, draft.audit)
    return page
