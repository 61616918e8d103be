"""Split a page that concatenates several documents into one draft per document.

Document sites glue speeches together: the page title repeated before each
one, `篇一 … 篇二 …` markers, several `在…上的讲话` headings each followed by
`同志们：`, or an initiative that ends with its signature and date and runs
straight into the next speech. A single long speech, on the other hand, has
internal headings (`一、` `第一，` `（一）`) that must not cut it.

So every line gets a boundary score from independent kinds of evidence (the
tables below are the rule pack; one place to add a pattern):
- the line is a heading: a speech-title shape (`…上的讲话`, `…主持词`,
  `…心得体会`), a part marker (`篇二`), or merely title-like;
- a separator comes right before it: a title-like line that recurs on the
  page and keeps being followed by a different heading (the page title used
  as a divider);
- an opening salutation (`同志们：`, `尊敬的…：`) follows within a few lines;
- the line before closes a document (a date, `谢谢大家！`).
Lines scoring at least `BOUNDARY_SCORE` start a new part, provided both parts
keep at least `min_part_chars` characters of prose. A page title such as
`(3篇)…` says how many parts to expect and lowers the bar to a title shape
alone. When fewer than two parts come out the page is left exactly as it was.

A heading broken over two lines is joined, a heading run together with the
first body line (`…上的讲话 习近平总书记…`) is cut off it, and each part's
heading becomes its first line and its `Draft.title` (the title stage then
drops the repeat). Separator lines go into the audit of the part they precede
with rule `split:separator`.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from functools import cached_property

from .document import Audit, CleanContext, Draft, Page
from .title import clean_title, is_title_like, squeeze

# What a document's own heading ends with (a speech, a report, an experience paper …).
DOCUMENT_KINDS = (
    "讲话", "主持词", "主持讲话", "发言", "表态发言", "交流发言", "致辞", "讲稿", "演讲稿", "报告",
    "工作报告", "述职报告", "述责述廉报告", "心得体会", "体会", "研讨材料", "交流材料", "汇报",
    "倡议书", "党课", "讲话提纲", "总结", "工作总结", "讲话要点", "动员讲话",
)
_KINDS = "|".join(sorted(map(re.escape, DOCUMENT_KINDS), key=len, reverse=True))
_NUMBER = r"[一二三四五六七八九十\d]{1,3}"
# A speech-title heading, maybe followed (after a space) by the start of the body or a byline.
TITLE_SHAPE = re.compile(
    rf"^(?P<head>[^。！？!?；;，,:：]{{2,70}}?(?:{_KINDS})(?:稿|材料|提纲)?(?:{_NUMBER}|[(（]{_NUMBER}[)）])?"
    rf"(?:[(（][^()（）]{{0,12}}[)）])?)(?:\s+(?P<rest>\S.*))?$")
# `篇一：…`, `【篇二】`, `第三篇`, `范文四`: an explicit part marker, maybe with the heading after it.
PART_MARKER = re.compile(
    rf"^[【\[(（]?\s*(?:篇\s*{_NUMBER}|第\s*{_NUMBER}\s*篇|范文\s*{_NUMBER})"
    r"(?:\s*[】\])）]\s*[:：、.．]?|\s*[:：、.．]|\s+|$)\s*(?P<rest>.*)$")
# `(3篇)…` or `…(3篇)` in the page title: how many documents the page holds.
PART_COUNT = re.compile(r"(?:^|[(（【\[]|(?<!第))\s{0,4}(?P<n>\d{1,2}|[一二三四五六七八九十]{1,2})\s{0,4}篇\s{0,4}(?:[)）】\]]|$)")
# Headings inside one document: never the start of another.
INTERNAL_HEADING = re.compile(
    r"^(?:[一二三四五六七八九十]+\s*[、.．]|[(（][一二三四五六七八九十\d]+[)）]|\d+\s*[.、．]|"
    r"第[一二三四五六七八九十\d]+[、,，.．:：\s]|[一二三四五六七八九十]+[是要个]|首先|其次|再次|最后|提纲)")
ADDRESSEES = r"(?:同志们|朋友们|同学们|老师们|女士们|先生们|来宾们?|嘉宾们?|领导|代表们?|委员们?|专家|同仁们?|家长们|大家)"
# A salutation that opens a speech; `同志们，…` inside a speech (comma, no colon) is not one.
OPENING = re.compile(
    rf"^(?:(?:(?:尊敬的|各位|亲爱的)[^。！？!?:：]{{0,100}}?)?{ADDRESSEES}"
    rf"(?:[、，,和及与][^。！？!?:：]{{0,60}}?{ADDRESSEES})*[:：]|大家(?:上午|下午|晚上)?好[!！])")
# How a document ends: a signature date, thanks.
CLOSING = re.compile(
    r"(?:\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日|[〇零一二三四五六七八九]{4}年[一二三四五六七八九十]{1,2}月"
    r"[一二三四五六七八九十]{1,3}日|谢谢(?:大家|各位)?[!！。]?)\s*[)）]?$")
EXCLAIMED = re.compile(r"[!！]$")
MARKDOWN_HEAD = re.compile(r"^(?:#{1,6}\s*|[·•●▪■◆]\s*)")
MARKDOWN_HEAD_STARTS = "#·•●▪■◆"  # what a `MARKDOWN_HEAD` match starts with: other lines skip the regex
SENTENCE_MARK = re.compile(r"[，,。；;！!？?]")

# Evidence weights; a boundary needs BOUNDARY_SCORE (COUNTED_SCORE when the title gives the count).
MARKER_WEIGHT = 4.0
SHAPE_WEIGHT = 2.0
TITLE_LIKE_WEIGHT = 0.5
SEPARATOR_WEIGHT = 2.0  # with a title shape it passes; a plain title-like line needs an opening too
OPENING_WEIGHT = 2.5
CLOSING_WEIGHT = 1.5
EXCLAIMED_WEIGHT = 0.5
BOUNDARY_SCORE = 3.0
COUNTED_SCORE = 2.0
OPENING_WINDOW = 3  # lines after a heading in which its opening salutation may come
MIN_PART_CHARS = 200
CN_DIGITS = {c: i for i, c in enumerate("一二三四五六七八九十", start=1)}


@dataclass(frozen=True)
class Heading:
    """A candidate document heading at lines[start:stop]."""

    start: int
    stop: int
    text: str  # the heading as one line (a broken one joined)
    rest: str | None  # body text that shared the heading's line
    weight: float
    marker: str | None = None  # a `篇二` part marker or `#` heading markup, removed as a separator

    @cached_property  # read at every step of scoring and choosing
    def title(self) -> str:
        return clean_title(self.text)


@dataclass(frozen=True)
class Boundary:
    heading: Heading
    score: float
    after_separator: bool


def _bare(line: str) -> str:
    return (MARKDOWN_HEAD.sub("", line) if line[:1] in MARKDOWN_HEAD_STARTS else line).strip()


def _key(line: str) -> str:
    return squeeze(clean_title(_bare(line)))


def _is_plain_heading(line: str) -> bool:
    return (is_title_like(line) and len(line) <= 50 and not SENTENCE_MARK.search(line)
            and ":" not in line and "：" not in line and not INTERNAL_HEADING.match(line))


def heading_at(lines: list[str], i: int) -> Heading | None:
    """The heading starting at line i, if the line (or it and the next) reads as one."""
    line = _bare(lines[i])
    if not line or INTERNAL_HEADING.match(line) or OPENING.match(line):
        return None
    markup = lines[i].strip()[: len(lines[i].strip()) - len(line)].strip() or None  # `#` of a Markdown heading
    marker = PART_MARKER.match(line)
    if marker:
        rest = marker.group("rest").strip()
        label = " ".join(filter(None, [markup, line[: len(line) - len(rest)].strip() if rest else line]))
        if rest:
            return Heading(i, i + 1, rest, None, MARKER_WEIGHT, label)
        if i + 1 < len(lines) and _is_plain_heading(_bare(lines[i + 1])):
            return Heading(i, i + 2, _bare(lines[i + 1]), None, MARKER_WEIGHT, label)
        return Heading(i, i + 1, "", None, MARKER_WEIGHT, label)
    shape = TITLE_SHAPE.match(line)
    if shape:
        return Heading(i, i + 1, shape.group("head"), shape.group("rest"), SHAPE_WEIGHT, markup)
    if i + 1 < len(lines) and _is_plain_heading(line) and len(line) <= 40:
        joined = TITLE_SHAPE.match(line + _bare(lines[i + 1]))
        if joined and not joined.group("rest") and len(_bare(lines[i + 1])) <= 20:
            return Heading(i, i + 2, joined.group("head"), None, SHAPE_WEIGHT)
    if _is_plain_heading(line):
        return Heading(i, i + 1, line, None, TITLE_LIKE_WEIGHT, markup)
    return None


def separator_lines(lines: list[str], headings: list[Heading | None], page_key: str | None) -> set[int]:
    """Lines of a recurring title-like line that divides documents (usually the page title).

    A line counts when it repeats the page's own title, or when its text
    recurs and at least twice the line after it is a heading with another title.
    """
    keys = [_key(line) if is_title_like(_bare(line)) else None for line in lines]
    counts = Counter(k for k in keys if k)
    dividing: Counter = Counter()
    for i, key in enumerate(keys[:-1]):
        nxt = headings[i + 1]
        if key and counts[key] >= 2 and nxt and keys[i + 1] != key and squeeze(nxt.title) != key:
            dividing[key] += 1
    chosen = {k for k, n in dividing.items() if n >= 2} | ({page_key} if page_key else set())
    return {i for i, k in enumerate(keys) if k in chosen}


def prose_chars(lines: list[str]) -> int:
    """Characters of sentence-like lines: what makes a stretch of lines a document rather than debris."""
    return sum(len(line) for line in lines if len(line) >= 20 and SENTENCE_MARK.search(line))


def expected_parts(page_title: str | None) -> int | None:
    """The `(3篇)` count in the page title, if any."""
    match = PART_COUNT.search(page_title or "")
    if not match:
        return None
    n = match.group("n")
    if n.isdigit():
        return int(n)
    tens, _, units = n.rpartition("十")
    return (CN_DIGITS.get(tens, 1) * 10 if "十" in n else 0) + CN_DIGITS.get(units, 0)


def score_boundaries(lines: list[str], headings: list[Heading | None], separators: set[int],
                     page_key: str | None) -> list[Boundary]:
    """Every heading with the evidence that a document starts there."""
    found = []
    for i, heading in enumerate(headings):
        if heading is None or i in separators or (page_key and _key(heading.title) == page_key):
            continue  # the page's own title is never where a second document starts
        score = heading.weight
        after_separator = i > 0 and (i - 1) in separators
        if after_separator:
            score += SEPARATOR_WEIGHT
        window = ([heading.rest] if heading.rest else []) + lines[heading.stop: heading.stop + OPENING_WINDOW]
        if any(OPENING.match(_bare(line)) for line in window):
            score += OPENING_WEIGHT
        previous = next((j for j in range(i - 1, -1, -1) if j not in separators), None)
        if previous is not None:
            if CLOSING.search(lines[previous]):
                score += CLOSING_WEIGHT
            elif EXCLAIMED.search(lines[previous]):
                score += EXCLAIMED_WEIGHT
        found.append(Boundary(heading, score, after_separator or heading.weight == MARKER_WEIGHT))
    return found


def choose_boundaries(lines: list[str], boundaries: list[Boundary], separators: set[int],
                      expected: int | None, min_chars: int) -> list[Boundary]:
    """Boundaries that pass the bar and leave every part with enough prose, in page order."""
    bar = COUNTED_SCORE if expected else BOUNDARY_SCORE

    def body(start: int, stop: int) -> list[str]:
        return [lines[j] for j in range(start, stop) if j not in separators]

    chosen: list[Boundary] = []
    for boundary in boundaries:
        if boundary.score < bar:
            continue
        head = boundary.heading
        if chosen:
            last = chosen[-1].heading
            if not boundary.after_separator and head.title and _key(head.title) == _key(last.title):
                continue  # the same heading again: a repeat inside one document
            if head.start < last.stop or prose_chars(body(last.stop, head.start)) < min_chars:
                if boundary.score > chosen[-1].score:  # the weaker start only led into this one
                    chosen[-1] = boundary
                continue
        chosen.append(boundary)
    while chosen and prose_chars(body(chosen[-1].heading.stop, len(lines))) < min_chars:
        chosen.pop()
    if expected and len(chosen) > expected:
        strongest = sorted(chosen, key=lambda b: -b.score)[:expected]
        chosen = [b for b in chosen if b in strongest]
    return chosen


def split_draft(draft: Draft, page_title: str | None, min_chars: int = MIN_PART_CHARS) -> list[Draft]:
    """One draft per document in `draft`; `[draft]` itself when it holds one document."""
    lines = draft.lines
    headings = [heading_at(lines, i) for i in range(len(lines))]
    page_key = _key(page_title) if page_title else None
    separators = separator_lines(lines, headings, page_key)
    chosen = choose_boundaries(lines, score_boundaries(lines, headings, separators, page_key), separators,
                               expected_parts(page_title), min_chars)
    preamble = [j for j in range(chosen[0].heading.start if chosen else 0) if j not in separators]
    own_preamble = bool(chosen) and prose_chars([lines[j] for j in preamble]) >= min_chars
    if len(chosen) + own_preamble < 2:
        return [draft]
    starts = [b.heading.start for b in chosen]
    parts: list[Draft] = []
    if own_preamble:  # a first document without a heading of its own: the page title above it names it
        title_line = next((j for j in sorted(separators) if j < starts[0] and _key(lines[j]) == page_key), None)
        if title_line is not None:
            separators = separators - {title_line}
            preamble = sorted(preamble + [title_line])
        parts.append(Draft(lines=[lines[j] for j in preamble], audit=draft.audit,
                           title=clean_title(_bare(lines[title_line])) if title_line is not None else None))
    for n, boundary in enumerate(chosen):
        head = boundary.heading
        stop = starts[n + 1] if n + 1 < len(starts) else len(lines)
        audit = draft.audit if not parts else Audit()
        if head.marker:
            audit.remove(head.marker, "split:separator")
        lead = [lines[j] for j in preamble] if n == 0 and not own_preamble else []
        heading_lines = ([head.text] if head.text else []) + ([head.rest] if head.rest else [])
        body = [lines[j] for j in range(head.stop, stop) if j not in separators]
        parts.append(Draft(lines=lead + heading_lines + body, title=head.title or None, audit=audit))
    # A separator belongs to the part whose heading follows it; trailing ones to the last part.
    for j in sorted(separators):
        following = next((n for n, start in enumerate(starts) if start > j), len(starts) - 1)
        parts[following + own_preamble].audit.remove(lines[j], "split:separator")
    return parts


def split_stage(page: Page, ctx: CleanContext) -> Page:
    """Pipeline stage: replace each draft by the documents it holds."""
    min_chars = int(ctx.options.get("split_min_part_chars", MIN_PART_CHARS))
    page_title = page.title_hint
    if not page_title and page.drafts and page.drafts[0].lines:  # a text file: its first line, if a heading
        first = _bare(page.drafts[0].lines[0])
        page_title = first if _is_plain_heading(first) or TITLE_SHAPE.match(first) else None
    drafts: list[Draft] = []
    for draft in page.drafts:
        drafts.extend(split_draft(draft, page_title, min_chars))
    page.drafts = drafts
    return page
