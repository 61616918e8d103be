"""Strip site chrome, ads and watermarks: what the site added goes, every sentence of the document stays.

Three kinds of evidence decide, strongest first:

1. Rules (`cleaners.rules.chrome.RULES`): named patterns of a KIND of furniture.
   Strong rules apply everywhere; weak ones only outside the body.
2. Position: chrome sits in a header before the body and a footer after it.
   The body span runs from the first to the last line of prose that no rule
   claims, widened over the unclaimed lines that touch it (a title, a
   salutation, an outline). Outside it the stage is strict (weak rules, lists
   of titles, short lines stranded between removed lines, lines repeated on the
   page); inside it only strong rules act, so a body paragraph is never lost
   on a weak signal.
3. Recurrence: a line seen on many distinct pages of the same site
   (`ctx.site_lines`, see `cleaners.site_evidence`) is the site's, not the
   document's. Prose needs far more pages than a short line; the document's
   own structure (title, salutations, headings) is never taken on frequency.

Two kinds are measured rather than matched: a line that is mostly link syntax
(markdown links and images, URLs; `is_link_list`) is a saved page's navigation
and goes outside the body; a search snippet's preview cut short with "..."
and then given in full (in the same line or the next) goes anywhere.

Inline spans (watermarks injected mid-sentence, page markers glued to a line,
a preview's trailing "...", gambling brands spliced into sentences, pinyin
glosses inside words) are cut out and the sentence joined again. A
domain that recurs inside running text with the same words before it is an
injected watermark even when no rule knows its brand. Every removal is
written to the draft's audit as "<kind>:<name>".

Cost: most lines meet no rule, so rules are searched only where they can
match. Each rule's pattern says which words every match of it holds
(`required_words`, read from the parse tree); one trie scan for those words,
one match at the line's start for the rules anchored there, and the rules
themselves only on the lines these let through. Verdicts that depend on a
line's text alone are remembered (`line_cached`): a page is stripped in
several passes over mostly the same lines, and a site's chrome recurs.
"""
from __future__ import annotations

import re
import re._constants as sre_constants
import re._parser as sre_parse
from collections import Counter, defaultdict
from dataclasses import dataclass
from functools import lru_cache, wraps
from typing import Callable, TypeVar

from .cjk import GB2312
from .document import CleanContext, Draft, Page
from .rules.chrome import (BODY_STRUCTURE, INLINE_DOMAIN, LINK_LIST_MAX_TEXT, LINK_SHARE_OUTSIDE, LINK_SYNTAX,
                           MIN_WATERMARK_CONTEXT,
                           RARE_CHAR_MIN, RARE_CHAR_SHARE, RULES, ChromeRule)
from .site_evidence import TOTAL_KEY, line_key
from .title import clean_title, hint_candidates, is_title_like, squeeze

CJK_RE = re.compile(r"[\u4e00-\u9fff]")
NOT_CJK_RUN = re.compile(r"[^\u4e00-\u9fff]+")
PROSE_PUNCT = re.compile(r"[，。；！？,;!?、：]")
SENTENCE_END = re.compile(r"[。！？!?；;]")
CLAUSE_END = re.compile(r"[，,。！？!?；;]")
SITE_NAME_TRIM = re.compile(r"^[\s\-_—|｜:：]{1,8}|[\s\-_—|｜:：]{1,8}$|\.(?:docx?|pdf|pptx?|xlsx?|txt|wps|rtf)$")
LABEL_LINE = re.compile(r"^[^：:]{1,8}[:：]|[:：]$")  # "来源：…", "记者：…", "提纲：": bylines and labels, not titles
CONTEXT_BREAK = re.compile(r"[，。；！？,;!?：:、“”\"'()（）《》【】\[\]]")
ONLY_PUNCT = re.compile(r"^[\s\W_]*$")
BODY_STRUCTURE_RE = re.compile(BODY_STRUCTURE)
DOMAIN_RE = re.compile(INLINE_DOMAIN, re.IGNORECASE)
LINK_RE = re.compile(LINK_SYNTAX)
LINK_HINT = re.compile(r"\]\(|https?://|javascript:")
ELLIPSIS_RE = re.compile(r"\s?(?:\.{3,6}|…{1,2})")

PROSE_MIN_CJK = 20  # a line with this many CJK characters and punctuation reads as prose
PROSE_LONG_CJK = 40  # ... and one with this many reads as prose whatever its punctuation
PROSE_SAMPLE = 160  # characters looked at to decide (bounds the cost on long paragraphs)
SHORT_LINE = 40  # lines up to this length may be taken on position or repetition
CLAIM_SHARE = 1 / 3  # a clause this large a share of its line makes the line chrome, not body
MAX_CLAUSE = 200  # a "sentence" longer than this is cut back to its comma-clause
ISLAND_MAX = 24  # a line this short between two removed lines outside the body is chrome too
EDGE_ISLAND_MAX = 8  # at the page's edge only a line as short as a site's name counts as stranded
MIN_EVIDENCE_CJK = 2  # position and repetition judge only lines with Chinese text
MAX_TITLE_LINE = 120  # longer lines are never the page title
END_WINDOW = 64  # end-anchored patterns are searched in this many last characters
MAX_HITS_PER_RULE = 20
RARE_CHECK_MAX = 200  # junk lines of rare characters are short; longer lines are not checked
PREVIEW_PROBE = 12  # characters before a preview's "..." looked for again in the full text after it
PREVIEW_MIN = 20  # a truncated preview repeats at least this much of the text that follows it
PREVIEW_MAX = 2000  # ... and is compared back at most this far (bounds the cost on long lines)
PREVIEW_TRIES = 8  # ellipses of one line looked at
# Verdicts that depend on a line's text alone are remembered for this many distinct lines: a page is
# stripped in several passes over mostly the same lines, and a site's chrome recurs on its pages.
LINE_CACHE = 4096
CACHED_LINE_MAX = 1000  # ... of at most this many characters: what the caches hold stays bounded
# Site evidence: a line recurring on at least this many pages (and this share of the site's pages).
SITE_MIN_PAGES_OUTSIDE, SITE_SHARE_OUTSIDE = 3, 0.2
SITE_MIN_PAGES_INSIDE, SITE_SHARE_INSIDE = 5, 0.5
SITE_MIN_PAGES_PROSE, SITE_SHARE_PROSE = 10, 0.5


Result = TypeVar("Result")


def line_cached(verdict: Callable[..., Result]) -> Callable[..., Result]:
    """`verdict(line, ...)` remembered for the LINE_CACHE most recent distinct arguments whose line is at
    most CACHED_LINE_MAX characters long (longer lines are paragraphs, rarely met twice, and would make
    the memory the cache holds depend on the input)."""
    cached = lru_cache(maxsize=LINE_CACHE)(verdict)

    @wraps(verdict)
    def remembered(line: str, *args):
        return cached(line, *args) if len(line) <= CACHED_LINE_MAX else verdict(line, *args)

    return remembered


def _rare_class() -> re.Pattern:
    """A character class of the CJK characters outside GB2312, as code-point ranges."""
    ranges, start = [], None
    for cp in range(0x4E00, 0xA001):
        rare = cp < 0xA000 and chr(cp) not in GB2312
        if rare and start is None:
            start = cp
        elif not rare and start is not None:
            ranges.append(f"\\u{start:04x}-\\u{cp - 1:04x}" if cp - 1 > start else f"\\u{start:04x}")
            start = None
    return re.compile("[" + "".join(ranges) + "]")


RARE_CJK_RE = _rare_class()


# --- words every match of a pattern holds: cheap pre-checks ---------------------------------------

MAX_WORDS = 64  # literal strings kept when expanding a pattern's alternatives (bounds import-time work)
MAX_CLASS_CHARS = 8  # a character class this small counts as a set of literal characters
MAX_EXPANDED_REPEAT = 3  # a repeat of literals is expanded up to this many copies
Words = frozenset  # a set of literal strings


def _concat(left: Words, right: Words) -> Words | None:
    """Every string of `left` followed by every string of `right`; None when that is more than MAX_WORDS."""
    if len(left) * len(right) > MAX_WORDS:
        return None
    return frozenset(a + b for a in left for b in right)


def _literal(char: str, ignore_case: bool) -> Words | None:
    """A literal character as the strings it matches; None for a cased letter under IGNORECASE."""
    if ignore_case and (char.lower() != char or char.upper() != char):
        return None
    return frozenset(char)


def _class_chars(items: list, ignore_case: bool) -> Words | None:
    """A small character class of literals and ranges as its characters; None for anything else."""
    chars: set[str] = set()
    for op, arg in items:
        if op is sre_constants.LITERAL:
            chars.add(chr(arg))
        elif op is sre_constants.RANGE and arg[1] - arg[0] < MAX_CLASS_CHARS:
            chars.update(chr(code) for code in range(arg[0], arg[1] + 1))
        else:  # negation, categories (\d, \s), wide ranges
            return None
    if len(chars) > MAX_CLASS_CHARS or any(_literal(char, ignore_case) is None for char in chars):
        return None
    return frozenset(chars)


def _minimal(words: Words) -> Words:
    """`words` without those that hold another of them (where the longer one is, the shorter one is too)."""
    return frozenset(w for w in words if not any(v != w and v in w for v in words))


def _best(candidates: list[Words]) -> Words | None:
    """The most selective of several word sets each of which a match must hold: longest shortest word, then fewest."""
    usable = [_minimal(words) for words in candidates if "" not in words]
    return max(usable, key=lambda words: (min(map(len, words)), -len(words))) if usable else None


def _analyse_item(op, arg, ignore_case: bool) -> tuple[Words | None, Words | None]:
    """(exact, needed) of one parse item: a finite superset of the strings it matches (None if not
    finite or too large), and words one of which every match holds (None if none are known)."""
    if op is sre_constants.LITERAL:
        exact = _literal(chr(arg), ignore_case)
        return exact, exact
    if op is sre_constants.IN:
        exact = _class_chars(arg, ignore_case)
        return exact, exact
    if op in (sre_constants.AT, sre_constants.ASSERT, sre_constants.ASSERT_NOT):
        return frozenset([""]), None  # zero-width: matches the empty string
    if op is sre_constants.SUBPATTERN:
        _, add_flags, del_flags, sub = arg
        if add_flags & sre_constants.SRE_FLAG_IGNORECASE:
            ignore_case = True
        elif del_flags & sre_constants.SRE_FLAG_IGNORECASE:
            ignore_case = False
        return _analyse(sub, ignore_case)
    if op is sre_constants.ATOMIC_GROUP:
        return _analyse(arg, ignore_case)
    if op is sre_constants.BRANCH:
        results = [_analyse(branch, ignore_case) for branch in arg[1]]
        exact = None
        if all(e is not None for e, _ in results):
            union = frozenset().union(*(e for e, _ in results))
            exact = union if len(union) <= MAX_WORDS else None
        if any(n is None for _, n in results):
            return exact, None
        return exact, frozenset().union(*(n for _, n in results))
    if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT):
        low, high, sub = arg
        exact, needed = _analyse(sub, ignore_case)
        if low == 0:
            needed = None
        if exact is None:
            return None, needed
        copies: list[Words | None] = [frozenset([""])]  # copies[k]: k copies of the item in a row
        for _ in range(min(high, MAX_EXPANDED_REPEAT)):
            copies.append(_concat(copies[-1], exact) if copies[-1] is not None else None)
        repeated = None
        if high <= MAX_EXPANDED_REPEAT and all(c is not None for c in copies[low:]):
            repeated = frozenset().union(*copies[low:])
            repeated = repeated if len(repeated) <= MAX_WORDS else None
        in_a_row = copies[min(low, MAX_EXPANDED_REPEAT)]  # every match starts with this many copies
        if low and in_a_row is not None:
            needed = _best([in_a_row] + ([needed] if needed is not None else []))
        return repeated, needed
    return None, None  # any character, negated literals, group references: no literal known


def _analyse(items, ignore_case: bool) -> tuple[Words | None, Words | None]:
    """(exact, needed) of a sequence: runs of items with exact strings are joined into longer words."""
    run: Words = frozenset([""])
    candidates: list[Words] = []
    exact_all = True
    for op, arg in items:
        exact, needed = _analyse_item(op, arg, ignore_case)
        joined = _concat(run, exact) if exact is not None else None
        if joined is not None:
            run = joined
            continue
        exact_all = False
        candidates.append(run)
        run = exact if exact is not None else frozenset([""])
        if needed is not None:
            candidates.append(needed)
    candidates.append(run)
    return (run if exact_all else None), _best(candidates)


def required_words(pattern: re.Pattern) -> Words | None:
    """Words one of which every match of `pattern` contains; None when the pattern has none to tell.

    Read from the parse tree: runs of literals (small character classes and
    short repeats expanded), alternations of them, the most selective such set
    along the pattern. A text that holds none of the words cannot match, so the
    pattern need not be searched in it. Cased letters under IGNORECASE are not
    taken as words (case folding has more forms than lower and upper).
    """
    tree = sre_parse.parse(pattern.pattern, pattern.flags)
    return _analyse(tree, bool(tree.state.flags & sre_constants.SRE_FLAG_IGNORECASE))[1]


def _trie_pattern(words: set[str]) -> str:
    """An alternation of `words` factored by common prefixes, so a scan tries each character once."""
    if "" in words and len(words) == 1:
        return ""
    by_first: dict[str, set[str]] = defaultdict(set)
    for word in words:
        if word:
            by_first[word[0]].add(word[1:])
    branches = [re.escape(first) + _trie_pattern(rests) for first, rests in sorted(by_first.items())]
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if "" in words else body


def _trie(words: set[str] | frozenset[str]) -> re.Pattern | None:
    """`words` as one compiled trie scan; None for no words."""
    return re.compile(_trie_pattern(words)) if words else None


def words_check(pattern: re.Pattern) -> re.Pattern:
    """A scan that finds something in every text in which `pattern` finds something: the pattern's required
    words as one trie, or the pattern itself when it has none."""
    return _trie(required_words(pattern)) or pattern


# Scans that find a line worth searching for a domain or an ellipsis (most lines have neither).
DOMAIN_WORDS = words_check(DOMAIN_RE)
ELLIPSIS_WORDS = words_check(ELLIPSIS_RE)


def _anchored_at_start(pattern: str) -> bool:
    """True when every match of `pattern` starts at the start of the line (the parser moves a `^` shared by
    all branches in front of them), so `search` tries one position only."""
    items = list(sre_parse.parse(pattern))
    return bool(items) and items[0] == (sre_constants.AT, sre_constants.AT_BEGINNING)


@dataclass(frozen=True)
class CompiledRule:
    rule: ChromeRule
    regex: re.Pattern
    follow: re.Pattern | None
    at_end: bool  # anchored at the end of the line only: search just the line's tail
    at_start: bool  # anchored at the start of the line: one position to try
    needs: frozenset[str]  # the rule runs only on lines where one of these words was found
    words: Words | None  # derived from the pattern: one of these is in every match (None: not known)
    words_scan: re.Pattern | None  # the words as one trie, for a rule not anchored at the start


def _anchored_at_end(pattern: str) -> bool:
    """True when every match of `pattern` ends at the end of the line and none must start at its beginning.

    A top-level alternation parses as a single BRANCH item, so a pattern of more
    than one item ending in `$` cannot escape the anchor.
    """
    items = list(sre_parse.parse(pattern))
    return (len(items) > 1 and items[-1] == (sre_constants.AT, sre_constants.AT_END)
            and items[0] != (sre_constants.AT, sre_constants.AT_BEGINNING))


def _compile(rules: tuple[ChromeRule, ...]) -> list[CompiledRule]:
    compiled = []
    for rule in rules:
        regex = re.compile(rule.pattern)
        at_start, words = _anchored_at_start(rule.pattern), required_words(regex)
        compiled.append(CompiledRule(rule, regex, re.compile(rule.follow) if rule.follow else None,
                                     _anchored_at_end(rule.pattern), at_start, frozenset(rule.needs), words,
                                     None if at_start else _trie(words)))
    return compiled


# Block rules first: a block's opening line must start the block even if a line rule also knows it.
LINE_RULES = _compile(tuple(sorted((r for r in RULES if r.scope in ("line", "block")),
                                  key=lambda r: r.scope != "block")))
RUN_RULES = _compile(tuple(r for r in RULES if r.scope == "run"))
# Spans and tails are cut first (a download banner glued to a body line must not take the line with it);
# clauses, which depend on the body span, after the lines are classified.
SPAN_RULES = _compile(tuple(r for r in RULES if r.scope in ("span", "tail")))
CLAUSE_RULES = _compile(tuple(r for r in RULES if r.scope == "clause"))
# One scan per line finds the words inline rules need; rules whose words are absent are not tried.
ALL_NEEDED = {w for r in RULES for w in r.needs}
NEEDED_WORDS = re.compile(_trie_pattern(ALL_NEEDED))
# The trie reports the longest word at a place; the shorter needed words it starts with are present too.
WORDS_WITHIN = {w: frozenset(p for p in ALL_NEEDED if w.startswith(p)) for w in ALL_NEEDED}


@line_cached
def words_present(line: str) -> frozenset[str]:
    """The needed words in `line` (a line meets the span, clause and claim checks: counted once)."""
    return frozenset().union(*(WORDS_WITHIN[w] for w in set(NEEDED_WORDS.findall(line))))


@dataclass(frozen=True)
class AnyRule:
    """A check that finds something in every text in which one of some rules matches, in up to three
    scans: the rules anchored at the text's start as one pattern tried at that one position, the words
    the other rules need (`required_words`) as one trie, the rules without such words as one
    alternation. Most lines meet no rule, and one alternation of every rule would try each branch at
    every position of them."""

    at_start: re.Pattern | None
    words: re.Pattern | None
    others: re.Pattern | None

    def search(self, text: str, pos: int = 0) -> bool:
        """Whether one of the rules may match `text` from `pos` on (the rules anchored at the start are
        tried at the start whatever `pos`: a check may say yes in vain, never no in vain)."""
        return bool(self.at_start is not None and self.at_start.match(text)
                    or self.words is not None and self.words.search(text, pos)
                    or self.others is not None and self.others.search(text, pos))


def _alternation(rules: list[CompiledRule], prefix: str = "") -> re.Pattern | None:
    """The rules' patterns as one alternation (None for no rules)."""
    return re.compile(prefix + "(?:" + "|".join(f"(?:{c.rule.pattern})" for c in rules) + ")") if rules else None


def _any_rule(rules: list[CompiledRule]) -> AnyRule:
    """The pre-check of `rules`: each rule in the one scan that suits it."""
    at_start = [c for c in rules if c.at_start]
    worded = [c for c in rules if not c.at_start and c.words]
    others = [c for c in rules if not c.at_start and not c.words]
    words = set().union(*(c.words for c in worded))
    return AnyRule(_alternation(at_start, "^"), _trie(words),
                   _alternation(others))


@dataclass(frozen=True, eq=False)  # hashed by identity: a key of the candidates cache
class InlineRules:
    """Inline rules of some scopes, and what picks the few worth trying on a line."""

    rules: list[CompiledRule]
    without_needs: list[CompiledRule]  # tried on every line
    tails_only: bool  # ... and all of them only look at the line's end
    any_tail: AnyRule  # their pre-check


def _inline_rules(rules: list[CompiledRule]) -> InlineRules:
    plain = [c for c in rules if not c.needs]
    return InlineRules(rules, plain, all(c.at_end for c in plain), _any_rule(plain))


SPAN_INLINE = _inline_rules(SPAN_RULES)
CLAUSE_INLINE = _inline_rules(CLAUSE_RULES)


@lru_cache(maxsize=4096)
def _rules_needing(rules: InlineRules, present: frozenset[str]) -> list[CompiledRule]:
    """The rules without needed words and those needing one of `present`, in their order (few distinct sets)."""
    return [c for c in rules.rules if not c.needs or not c.needs.isdisjoint(present)]


@line_cached
def _candidates(line: str, rules: InlineRules) -> tuple[list[CompiledRule], bool]:
    """The rules worth trying on `line`: those without needed words, and those whose words it holds; and
    whether one of those without needed words may match the line as it is (when none of them can, they
    need only be tried once another rule has cut something from it)."""
    plain_may_match = not rules.tails_only or rules.any_tail.search(line, max(0, len(line) - END_WINDOW))
    present = words_present(line)
    if not present:
        return (rules.without_needs if plain_may_match else []), plain_may_match
    return _rules_needing(rules, present), plain_may_match


def cjk_count(text: str) -> int:
    """The number of CJK characters in `text`: what is left once the runs of other characters are cut
    (one pass, no list of one-character matches)."""
    return len(NOT_CJK_RUN.sub("", text))


@line_cached
def is_prose(line: str) -> bool:
    """Reads like running text: enough CJK characters with punctuation, or very many of them."""
    if len(line) < PROSE_MIN_CJK:
        return False
    cjk = cjk_count(line[:PROSE_SAMPLE])
    return cjk >= PROSE_LONG_CJK or cjk >= PROSE_MIN_CJK and bool(PROSE_PUNCT.search(line))


def is_rare_junk(line: str) -> bool:
    """A line made mostly of CJK characters outside GB2312: anti-scraping noise, not text."""
    if len(line) > RARE_CHECK_MAX or not RARE_CJK_RE.search(line):
        return False
    cjk = cjk_count(line)
    return cjk >= RARE_CHAR_MIN and len(RARE_CJK_RE.findall(line)) >= RARE_CHAR_SHARE * cjk


# The `where` values (`ChromeRule.where`) of the rules trusted inside the body, before it and after it.
INSIDE_BODY = frozenset({"anywhere"})
BEFORE_BODY = frozenset({"anywhere", "outside"})
AFTER_BODY = frozenset({"anywhere", "outside", "after"})


def _trusted(index: int, span: tuple[int, int]) -> frozenset[str]:
    """The `where` values of the rules that apply to line `index`, given the body span."""
    start, end = span
    if index > end:
        return AFTER_BODY
    return BEFORE_BODY if index < start else INSIDE_BODY


def _applies(rule: ChromeRule, index: int, span: tuple[int, int]) -> bool:
    return rule.where in _trusted(index, span)


# --- inline watermarks that repeat on the page ---------------------------------------------------

def _common_suffix(texts: list[str]) -> str:
    first = texts[0]
    size = 0
    while size < len(first) and all(len(t) > size and t[-1 - size] == first[-1 - size] for t in texts):
        size += 1
    return first[len(first) - size:] if size else ""


@line_cached
def _domains_in(line: str) -> tuple[tuple[str, str], ...]:
    """Each domain inside running text, with the words before it up to the last break (comma, quote...)."""
    if len(line) < 20 or not DOMAIN_WORDS.search(line):
        return ()
    return tuple((match.group(), CONTEXT_BREAK.split(line[max(0, match.start() - 30):match.start()])[-1])
                 for match in DOMAIN_RE.finditer(line))


def repeated_watermarks(lines: list[str]) -> list[str]:
    """Spans "<brand><slogan> <domain>" that recur inside running text with the same words before the domain."""
    contexts: dict[str, list[str]] = defaultdict(list)
    for line in lines:
        for domain, left in _domains_in(line):
            contexts[domain].append(left)
    spans = []
    for domain, lefts in contexts.items():
        if len(lefts) < 2:
            continue
        brand = _common_suffix(lefts).lstrip()
        if cjk_count(brand) >= MIN_WATERMARK_CONTEXT:
            spans.append(brand + domain)
    return sorted(spans, key=len, reverse=True)


# --- links and repeated previews -----------------------------------------------------------------

def link_share(line: str) -> float:
    """Share of the line's non-space characters that is link syntax (markdown links and images, URLs)."""
    if not LINK_HINT.search(line):
        return 0.0
    size = len(squeeze(line))
    covered = sum(len(squeeze(match.group())) for match in LINK_RE.finditer(line))
    return covered / size if size else 0.0


def is_link_list(line: str) -> bool:
    """Mostly link syntax, with little Chinese text beside the links (a URL is long, a sentence next to it
    is what matters): a saved page's navigation, toolbar or recommendation line."""
    return (link_share(line) >= LINK_SHARE_OUTSIDE
            and cjk_count(LINK_RE.sub("", line)) < LINK_LIST_MAX_TEXT)


@line_cached
def _preview_in_line(line: str) -> tuple[int, int] | None:
    """The span of a truncated preview "text..." that the same line then gives in full."""
    if not ELLIPSIS_WORDS.search(line):
        return None
    for tries, match in enumerate(ELLIPSIS_RE.finditer(line)):
        cut = match.start()
        if tries >= PREVIEW_TRIES:
            break
        probe = line[cut - PREVIEW_PROBE:cut]
        if cut < PREVIEW_MIN or not CJK_RE.search(probe):
            continue
        found = line.find(probe, match.end())
        if found < 0:
            continue
        size = 0  # how far back the preview and the full text agree
        full_end = found + PREVIEW_PROBE
        while (size < min(cut, PREVIEW_MAX) and full_end - 1 - size >= match.end()
               and line[cut - 1 - size] == line[full_end - 1 - size]):
            size += 1
        if size >= PREVIEW_MIN:
            return cut - size, match.end()
    return None


def drop_repeated_previews(lines: list[str], draft: Draft) -> list[str]:
    """A search snippet's preview cut short with "..." and then repeated in full is the site's, not
    the document's: cut it, within a line or as the line right before its full text."""
    kept: list[str] = []
    for i, line in enumerate(lines):
        span = _preview_in_line(line) if len(line) > 2 * PREVIEW_MIN else None
        if span is not None:
            draft.audit.remove(line[span[0]:span[1]].strip(), "page_marker:repeated_preview")
            line = _remove_span(line, *span)
        tail = ELLIPSIS_RE.search(line, max(0, len(line) - 8))
        if tail is not None and tail.end() == len(line):
            key = squeeze(line[:tail.start()])
            if len(key) >= PREVIEW_MIN and i + 1 < len(lines) and squeeze(lines[i + 1]).startswith(key):
                draft.audit.remove(line, "page_marker:repeated_preview")
                continue
        if line:
            kept.append(line)
    return kept


# --- the stage ------------------------------------------------------------------------------------

@line_cached
def _decoration(raw: str) -> str:
    """What `clean_title` strips from a title line, without separators: the site's name ("百度文库")."""
    clean = clean_title(raw)
    if raw.startswith(clean):
        rest = raw[len(clean):]
    elif raw.endswith(clean):
        rest = raw[:-len(clean)]
    else:
        return ""
    return squeeze(SITE_NAME_TRIM.sub("", rest))


def title_key(line: str) -> str | None:
    """The squeezed title a title-like line gives once its site decorations are stripped; None for other lines."""
    return squeeze(clean_title(line)) if len(line) <= MAX_TITLE_LINE and is_title_like(line) else None


def page_title_keys(page: Page, lines: list[str], facts: list[LineFacts],
                    claimed: list[bool]) -> tuple[set[str], set[str]]:
    """Squeezed forms of the page's title (the HTML title and its segments, and the title line of the
    text), and of the site's name as its title decorations give it ("百度文库" from "…_百度文库").

    The title line is a title-like line before the first prose that no rule
    claims and that is not a salutation: the one the page repeats if any (a
    title shown twice), else one the site decorated ("….docx", "…_百度文库"),
    else the one nearest the prose (a site's name sits above it).
    """
    keys = {squeeze(c) for c in hint_candidates(page.title_hint)} if page.title_hint else set()
    site_names = {_decoration(page.title_hint)} if page.title_hint else set()
    first_prose = next((i for i, fact in enumerate(facts) if not claimed[i] and fact.prose), len(lines))
    candidates = [(fact.title, squeeze(line)) for i, (line, fact) in enumerate(zip(lines[:first_prose], facts))
                  if not claimed[i] and fact.title is not None and not fact.structure and not LABEL_LINE.search(line)]
    if candidates:
        seen = Counter(fact.title for fact in facts if fact.title is not None)
        repeated = [key for key, _ in candidates if seen[key] >= 2]
        decorated = [key for key, raw in candidates if key != raw]
        keys.add((repeated or decorated or [candidates[-1][0]])[0])
        site_names.update(_decoration(line) for line, fact in zip(lines[:first_prose], facts) if fact.title is not None)
    keys.discard("")
    return keys, {name for name in site_names if len(name) >= 2 and name not in keys}


def _line_buckets() -> list[tuple[int, AnyRule, list[CompiledRule]]]:
    """For each distinct max_len, the line rules that may take a line that long, and their pre-check."""
    buckets = []
    for limit in sorted({c.rule.max_len for c in LINE_RULES}):
        rules = [c for c in LINE_RULES if c.rule.max_len >= limit]
        buckets.append((limit, _any_rule(rules), rules))
    return buckets


LINE_BUCKETS = _line_buckets()


def _line_hit(line: str) -> CompiledRule | None:
    """The first line/block rule that matches (where-conditions are checked later)."""
    for limit, check, rules in LINE_BUCKETS:
        if len(line) <= limit:
            if not check.search(line):
                return None
            return next((c for c in rules if (c.words_scan is None or c.words_scan.search(line))
                         and c.regex.search(line)), None)
    return None


def _run_matches(line: str) -> tuple[bool, ...]:
    """For each run rule, whether it matches the line as one item of a list."""
    return tuple(len(line) <= c.rule.max_len and c.regex.search(line) is not None for c in RUN_RULES)


def _run_hits(line_matches: list[tuple[bool, ...]]) -> list[CompiledRule | None]:
    """Lines that belong to a run of list items (related-article lists), from each line's `_run_matches`."""
    n = len(line_matches)
    found: list[CompiledRule | None] = [None] * n
    for index, compiled in enumerate(RUN_RULES):
        matches = [found_here[index] for found_here in line_matches]
        start = 0
        while start < n:
            if not matches[start]:
                start += 1
                continue
            end = start
            while end < n and matches[end]:
                end += 1
            if end - start >= compiled.rule.min_run:
                for i in range(start, end):
                    found[i] = found[i] or compiled
            start = end
    return found


@dataclass(frozen=True, slots=True)
class LineFacts:
    """What the stage asks of a line before it knows the body span, all of it from the line's text alone.

    Remembered as one verdict (`line_facts`): a page's lines were asked
    about one question at a time, each through its own cache, some of them
    several times, in every pass; most of the stage's time went to asking.
    """

    hit: CompiledRule | None  # `_line_hit`
    runs: tuple[bool, ...]  # `_run_matches`
    link_list: bool  # `is_link_list`
    rare_junk: bool  # `is_rare_junk`
    claims: bool  # a line rule, a link list, rare junk or a strong clause takes it (lists of items aside)
    prose: bool  # `is_prose`
    title: str | None  # `title_key`
    structure: bool  # the document's own structure (`BODY_STRUCTURE`): a heading, a salutation


@line_cached
def line_facts(line: str) -> LineFacts:
    hit, link_list, rare_junk = _line_hit(line), is_link_list(line), is_rare_junk(line)
    return LineFacts(hit, _run_matches(line), link_list, rare_junk,
                     bool(hit) or link_list or rare_junk or _clause_claims(line), is_prose(line), title_key(line),
                     bool(BODY_STRUCTURE_RE.search(line)))


def body_span(lines: list[str], claimed: list[bool], protected: list[bool], prose: list[bool]) -> tuple[int, int]:
    """First and last line of the body: prose no rule claims, widened over unclaimed neighbours."""
    anchors = [i for i in range(len(lines)) if not claimed[i] and prose[i]]
    if not anchors:
        return 0, len(lines) - 1
    start, end = anchors[0], anchors[-1]
    while start > 0 and (not claimed[start - 1] or protected[start - 1]):
        start -= 1
    while end < len(lines) - 1 and not claimed[end + 1]:
        end += 1
    return start, end


def _clause_claims(line: str) -> bool:
    """A line that is mostly what a strong clause rule takes (a disclaimer paragraph, an ad line):
    it marks the edge of the body. A body paragraph with one ad sentence in it does not."""
    for compiled in _candidates(line, CLAUSE_INLINE)[0]:
        rule = compiled.rule
        if rule.where != "anywhere" or len(line) > rule.max_len:
            continue
        match = compiled.regex.search(line)
        if match:
            left, right = _clause_bounds(line, match.start(), match.end())
            if right - left >= CLAIM_SHARE * len(line):
                return True
    return False


site_key = line_cached(line_key)  # the key a line is counted under across the site's pages


def _site_says_chrome(line: str, inside: bool, site_counts, total: int) -> bool:
    if not site_counts or total < SITE_MIN_PAGES_OUTSIDE:
        return False
    pages = site_counts.get(site_key(line), 0)
    if is_prose(line):  # prose inside the body is never taken on frequency: templates share sentences
        return not inside and pages >= SITE_MIN_PAGES_PROSE and pages >= SITE_SHARE_PROSE * total
    if inside:
        return pages >= SITE_MIN_PAGES_INSIDE and pages >= SITE_SHARE_INSIDE * total
    return pages >= SITE_MIN_PAGES_OUTSIDE and pages >= SITE_SHARE_OUTSIDE * total


def _remove_span(line: str, start: int, end: int) -> str:
    left, right = line[:start], line[end:]
    if left.endswith(" ") and right.startswith(" "):
        right = right.lstrip()
    return (left + right).strip()


def _bounds(line: str, start: int, end: int, stops: re.Pattern) -> tuple[int, int]:
    left = 0
    for match in stops.finditer(line, 0, start):
        left = match.end()
    match = stops.search(line, end)
    return left, match.end() if match else len(line)


def _clause_bounds(line: str, start: int, end: int) -> tuple[int, int]:
    """The sentence of `line` that holds [start, end); only its comma-clause when the sentence is long."""
    left, right = _bounds(line, start, end, SENTENCE_END)
    if right - left > MAX_CLAUSE:
        left, right = _bounds(line, start, end, CLAUSE_END)
    return left, right


def _search(compiled: CompiledRule, line: str) -> re.Match | None:
    """Search a line; patterns anchored at the line's end look only at its last characters (speed)."""
    if compiled.at_end and len(line) > END_WINDOW:
        offset = len(line) - END_WINDOW
        match = compiled.regex.search(line, offset)
        return match
    return compiled.regex.search(line)


@line_cached
def strip_inline(line: str, inside: bool, trusted: frozenset[str],
                 rules: InlineRules) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Apply inline rules (span, tail, clause scopes) whose `where` is `trusted` to one line: what is left
    of it ('' when nothing is), and the removals (text, rule label) in order, for the draft's audit."""
    removals: list[tuple[str, str]] = []
    candidates, plain_may_match = _candidates(line, rules)
    for compiled in candidates:
        rule = compiled.rule
        if rule.where not in trusted or not (compiled.needs or plain_may_match):
            continue
        for _ in range(MAX_HITS_PER_RULE):
            if len(line) < rule.min_len:
                break
            match = _search(compiled, line)
            if not match or match.end() == match.start():
                break
            if rule.scope == "span":
                start, end = match.start(), match.end()
            elif rule.scope == "tail":
                start, end = match.start(), len(line)
            elif len(line) <= (SHORT_LINE if inside else rule.max_len):
                start, end = 0, len(line)
            else:
                start, end = _clause_bounds(line, match.start(), match.end())
            removals.append((line[start:end].strip(), rule.label))
            line = _remove_span(line, start, end)
            plain_may_match = True  # what is left is a new text
            if not line:
                return "", tuple(removals)
    return line, tuple(removals)


def _record(draft: Draft, removals: tuple[tuple[str, str], ...]) -> None:
    """Write what `strip_inline` cut to the draft's audit (kept apart so that its verdict can be remembered)."""
    for text, label in removals:
        draft.audit.remove(text, label)


def strip_draft(draft: Draft, page: Page, ctx: CleanContext) -> None:
    """Remove chrome lines and spans from one draft, recording each removal in its audit."""
    lines = list(draft.lines)
    if not lines:
        return
    for watermark in repeated_watermarks(lines):
        for i, line in enumerate(lines):
            count = line.count(watermark)
            if count:
                for _ in range(count):
                    draft.audit.remove(watermark, "watermark_inline:repeated_domain")
                lines[i] = line.replace(watermark, "").strip()
    lines = drop_repeated_previews(lines, draft)
    cut = []
    for line in lines:  # no body span yet: every span rule is tried
        after, removals = strip_inline(line, True, AFTER_BODY, SPAN_INLINE)
        _record(draft, removals)
        cut.append(after)
    for before, after in zip(lines, cut):
        if after != before and after and ONLY_PUNCT.match(after):
            draft.audit.remove(after, "junk:leftover")
    lines = [after for before, after in zip(lines, cut) if after and (after == before or not ONLY_PUNCT.match(after))]
    n = len(lines)
    if not n:
        draft.lines = []
        return
    facts = [line_facts(line) for line in lines]
    line_hits = [fact.hit for fact in facts]
    run_hits = _run_hits([fact.runs for fact in facts])
    claimed = [fact.claims or hit is not None and hit.rule.where != "after" for fact, hit in zip(facts, run_hits)]
    # Lists trusted only after the body are judged against the last prose no other rule claims.
    prose = [fact.prose for fact in facts]
    last_prose = max((i for i in range(n) if not claimed[i] and prose[i]), default=n)
    run_hits = [hit if hit is None or hit.rule.where != "after" or i > last_prose else None
                for i, hit in enumerate(run_hits)]
    claimed = [claimed[i] or run_hits[i] is not None for i in range(n)]
    title_keys, site_names = page_title_keys(page, lines, facts, claimed)
    is_title = [bool(title_keys) and fact.title in title_keys for fact in facts]
    claimed = [claimed[i] and not is_title[i] for i in range(n)]
    structural = [is_title[i] or fact.structure for i, fact in enumerate(facts)]
    span = body_span(lines, claimed, is_title, prose)
    start, end = span

    removed: list[str | None] = [None] * n
    block: CompiledRule | None = None
    for i, line in enumerate(lines):
        inside = start <= i <= end
        protected = is_title[i] and i <= end
        if block is not None:
            rule = block.rule
            if (not protected and len(line) <= rule.max_len and block.follow.search(line)
                    and (not inside or rule.follow_inside)):
                own = line_hits[i]
                removed[i] = own.rule.label if own else rule.label
                continue
            block = None
        hit = line_hits[i]
        if hit is not None and not protected and _applies(hit.rule, i, span):
            removed[i] = hit.rule.label
            if hit.rule.scope == "block" and hit.follow is not None:
                block = hit
            continue
        run = run_hits[i]
        if run is not None and not protected and _applies(run.rule, i, span):
            removed[i] = run.rule.label
            continue
        if facts[i].link_list and not protected and not inside:
            removed[i] = "nav:link_list"
            continue
        if not protected and facts[i].rare_junk:
            removed[i] = "junk:rare_chars"

    # Inline spans of the lines kept so far; a line they consume entirely counts as removed.
    texts: list[str] = list(lines)
    for i, line in enumerate(lines):
        if removed[i]:
            continue
        stripped, removals = strip_inline(line, start <= i <= end, _trusted(i, span), CLAUSE_INLINE)
        _record(draft, removals)
        if stripped != line and ONLY_PUNCT.match(stripped) and not SENTENCE_END.search(stripped):
            draft.audit.remove(stripped, "junk:leftover")
            stripped = ""
        texts[i] = stripped
        if not stripped:
            removed[i] = "inline"

    # Evidence beyond rules: recurrence across the site's pages and within this page, position.
    site_counts = ctx.site_lines.get(page.site) if page.site and ctx.site_lines else None
    total = site_counts.get(TOTAL_KEY, 0) if site_counts else 0
    in_page = Counter(squeeze(line) for line in lines if len(line) <= SHORT_LINE)
    for i, line in enumerate(texts):
        if removed[i] or structural[i]:
            continue
        inside = start <= i <= end
        if not inside and squeeze(line) in site_names:
            removed[i] = "nav:site_name"
        elif _site_says_chrome(line, inside, site_counts, total):
            removed[i] = "evidence:site_recurring"
        elif (not inside and len(line) <= SHORT_LINE and not is_prose(line) and in_page[squeeze(line)] >= 2
              and cjk_count(line) >= MIN_EVIDENCE_CJK):
            removed[i] = "evidence:page_repeat"
    for _ in range(2):
        for i, line in enumerate(texts):
            if removed[i] or start <= i <= end or len(line) > ISLAND_MAX or is_prose(line):
                continue
            if is_title[i] and i < start or structural[i] and not is_title[i]:
                continue
            if cjk_count(line) < MIN_EVIDENCE_CJK:  # code, numbers: not the site's furniture
                continue
            # The page's edge counts as removed: a site name above the header, a stray line below the footer.
            at_edge = i == 0 or i == n - 1
            if at_edge and len(line) > EDGE_ISLAND_MAX:
                continue
            if (i == 0 or removed[i - 1]) and (i == n - 1 or removed[i + 1]):
                removed[i] = "position:island"

    kept = []
    for i, line in enumerate(texts):
        if removed[i] == "inline":
            continue
        if removed[i]:
            draft.audit.remove(line, removed[i])
            continue
        kept.append(line)
    draft.lines = kept


# Removing a line can expose another: junk gone from the end of a page leaves a related-titles
# list as the new tail. Passes repeat until one removes nothing (in practice two at most).
MAX_STRIP_PASSES = 4


def strip_stage(page: Page, ctx: CleanContext) -> Page:
    """Pipeline stage: strip chrome from every draft of the page, until a pass finds nothing more.

    A page title that is anti-scraping noise (`is_rare_junk`) is no title: kept as the hint, it would
    protect the same noise in the text and name the document after it.
    """
    if page.title_hint and is_rare_junk(page.title_hint):
        page.title_hint = None
    for draft in page.drafts:
        for _ in range(MAX_STRIP_PASSES):
            before = len(draft.audit.removed)
            strip_draft(draft, page, ctx)
            if len(draft.audit.removed) == before:
                break
    return page
