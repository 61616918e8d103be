"""Name each document and keep its title out of the head of its text.

The title comes from the split stage (a part's own heading, never overridden),
else the HTML `<h1>`/`<title>`, else the first title-like line. Site
decorations around it (`VIP专享`, `(完整)`, `.docx`, `_百度文库`, `- 豆丁网`,
`【精品】`) are stripped by the patterns in `TITLE_DECORATIONS`. A `<title>`
of the form "document - site" is resolved by the segment the text itself
opens with. The title is then removed from the head of the text, also when
the site glued it to the start of the first paragraph, possibly behind a
category prefix and repeated ("方案_<title><title>尊敬的…": the repeated part
is the title), so that it is not stored twice.
"""
from __future__ import annotations

import re

from .cjk import CJK_CHAR
from .document import CleanContext, Draft, Page

# Decorations that document sites add to a title; one place to add another.
TITLE_DECORATIONS = (
    r"\.(?:docx?|pdf|pptx?|xlsx?|txt|wps|rtf)$",  # file endings
    r"_第\s{0,2}\d{1,4}\s{0,2}页$",  # preview page suffix
    r"\s{0,3}[-_—|｜]\s{0,3}[^-_—|｜]{1,12}(?:文库|文档|网|资料|范文|秘书|图书馆|知道)[^-_—|｜]{0,8}$",  # "_百度文库", "- 豆丁网"
    r"\s{0,3}[(（【\[](?:完整|完整版|最新|精选|精品|word版|Word版|可编辑|范文|全文|优秀|推荐|免费|原创|附件|共\d+页|"
    r"\d+页珍藏版|\d+页)[)）】\]]$",
    r"^[【\[](?:精品|推荐|最新|热门|原创|免费|VIP|vip|word|Word|精选|优秀|可编辑|完整版|范文)[^】\]]{0,6}[】\]]\s{0,3}",
    r"\s{0,3}(?:VIP|vip)(?:专享|会员|免费|精品)?$",
    r"\s{0,3}[(（]?(?:word版|Word版|WORD版|可编辑|可修改|可复制|免费下载)[)）]?$",
    r"\s{0,3}(?:免费下载|下载|在线阅读|全文阅读|全文)$",
    r"^#{1,6}\s{0,3}",  # a markdown heading marker on a saved or dumped page
    r"^(?:title|标题)\s{0,2}[:：]\s{0,3}",  # a static blog's front matter
    # "title - author/site": a short last segment behind a spaced dash ("- 百家号", "- DoubleLi - 博客园")
    r"(?<=.{6})\s{1,3}[-–—|｜]\s{1,3}(?!\d{1,16}$)[^-–—|｜\s，。！？,.!?]{1,16}$",
)
# Every decoration is anchored at the start or the end, so cleaning only trims a title's ends.
DECORATION = re.compile("|".join(f"(?:{p})" for p in TITLE_DECORATIONS))
URL_LIKE = re.compile(r"^(?:https?:)?//|^www\.[\w-]{1,63}\.")
HINT_SEPARATOR = re.compile(r"\s{1,3}[-_|｜—–]{1,3}\s{1,3}|\s{0,3}[_|｜]\s{0,3}")
CHUNK_NUMBER = re.compile(r"^\d{1,2}、")
LIST_ITEM = re.compile(r"^(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十\d]+[)）]|\d+[.、])")
GLUE_SEPARATORS = "_-—|｜"
SENTENCE_END = "。！？!?；;…"
# A line ending in a colon or comma opens what follows (各位代表：, 同志们：): never a title.
NOT_TITLE_END = SENTENCE_END + "：:，,、"
MAX_TITLE_CHARS = 80
# Characters a Chinese title does not hold but wrongly decoded bytes give: private-use code points,
# kana, Cyrillic, Hangul, lost bytes (U+FFFD). A line with a few of them is garbage, not a title.
GARBLED_CHAR = re.compile("[\ue000-\uf8ff\u3040-\u30ff\u0400-\u04ff\uac00-\ud7af\ufffd]")
MAX_GARBLED_CHARS = 1
# Stray punctuation a repeated title line can carry at its ends once reflow has joined the one-mark
# lines around it (",", ";" left by a broken page) onto it: it does not make the line another text.
EDGE_PUNCTUATION = ",.;:，。；：、" + " \t"
MIN_GLUED_TITLE = 8  # shorter titles match the start of ordinary sentences by chance
HEAD_LINES = 5


def clean_title(title: str) -> str:
    """Strip site decorations from a title until none is left."""
    title = title.strip()
    while True:
        stripped = DECORATION.sub("", title).strip()
        if stripped == title or not stripped:
            return title
        title = stripped


def is_title_like(line: str) -> bool:
    """A short line that does not end like a sentence or a salutation, is not a list item, not an address
    and not garbled (more than `MAX_GARBLED_CHARS` characters of `GARBLED_CHAR`)."""
    return (4 <= len(line) <= MAX_TITLE_CHARS and line[-1] not in NOT_TITLE_END
            and not LIST_ITEM.match(line)
            and not URL_LIKE.match(line)
            and len(GARBLED_CHAR.findall(line)) <= MAX_GARBLED_CHARS)


def squeeze(text: str) -> str:
    """`text` without white space (`str.split` splits on what `\\s` matches, faster than a substitution)."""
    return "".join(text.split())


def reads_as(line: str, key: str) -> bool:
    """Whether `line`, cleaned of decorations and squeezed, is `key` (a squeezed title).

    Cleaning only trims a line's ends, so a line that is `key` once cleaned holds it: checking
    that first spares the decoration patterns a scan of every long paragraph. Stray punctuation at
    the line's ends (`EDGE_PUNCTUATION`) is ignored.
    """
    if key not in squeeze(line):
        return False
    return (squeeze(clean_title(line)) == key
            or squeeze(clean_title(line.strip(EDGE_PUNCTUATION))) == key.strip(EDGE_PUNCTUATION))


def hint_candidates(hint: str) -> list[str]:
    """The cleaned hint, then its segments: "document - section - site" titles put the document first."""
    candidates = [clean_title(hint)]
    segments = [clean_title(s) for s in HINT_SEPARATOR.split(hint) if s.strip()]
    if len(segments) > 1:
        candidates.extend(s for s in segments if len(s) >= 4)
    return candidates


def title_from_hint(hint: str, lines: list[str]) -> str:
    """The hint candidate the text opens with; else the first segment of a "document - site" hint."""
    candidates = hint_candidates(hint)
    for candidate in candidates:
        key = squeeze(candidate)
        if any(reads_as(line, key) for line in lines[:HEAD_LINES]):
            return candidate
    return candidates[1] if len(candidates) > 1 else candidates[0]


def _consume(line: str, pos: int, text: str, allow_separator: bool) -> tuple[int, int | None] | None:
    """Match `text` (squeezed) in `line` from `pos`, skipping white space and at most one
    separator when allowed. Returns (end in line, index in text where the separator sat)."""
    j, cut = 0, None
    while j < len(text):
        if pos >= len(line):
            return None
        ch = line[pos]
        if ch.isspace():
            pos += 1
        elif ch == text[j]:
            pos += 1
            j += 1
        elif allow_separator and cut is None and j and ch in GLUE_SEPARATORS:
            cut = j
            pos += 1
        else:
            return None
    return pos, cut


def unglue_title(title: str, line: str) -> tuple[str, str, str] | None:
    """Split a title glued to the start of a paragraph: (title, glued head, rest of the line), or None.

    "方案_<T><T>尊敬的…" under the page title "方案<T>" gives title <T>: the part
    after the separator that the site repeated is the document's own title.
    """
    key = squeeze(title)
    if len(key) < MIN_GLUED_TITLE:
        return None
    number = CHUNK_NUMBER.match(line)
    found = _consume(line, number.end() if number else 0, key, allow_separator=True)
    if found is None:
        return None
    pos, cut = found
    real = key[cut:] if cut else key
    repeated = False
    while True:
        again = _consume(line, pos, real, allow_separator=False)
        if again is None:
            break
        pos, repeated = again[0], True
    rest = line[pos:].lstrip()
    if len(rest) < 2:
        return None
    named = real if cut and repeated else title
    return named, line[:pos].strip(), rest


def drop_title_repeats(draft: Draft, key: str) -> None:
    """Drop the lines at the head of the text that repeat the title.

    Only lines without Chinese text (markup debris, a page number) may stand
    before a repeat: past the first line of Chinese text that is not the
    title, the document has begun.
    """
    if not key:
        return
    index = 0
    while index < min(len(draft.lines), HEAD_LINES):
        line = draft.lines[index]
        if reads_as(line, key):
            draft.audit.remove(draft.lines.pop(index), "title:repeat")
        elif CJK_CHAR.search(line):
            return
        else:
            index += 1


def name_draft(draft: Draft, fallback: str | None) -> None:
    """Set the draft's title and drop a repeat of it from the head of the text."""
    title = draft.title or (title_from_hint(fallback, draft.lines) if fallback else None)
    if not title and draft.lines and is_title_like(draft.lines[0]):
        title = draft.lines[0]
    if not title:
        return
    draft.title = clean_title(title)
    key = squeeze(draft.title)
    drop_title_repeats(draft, key)
    if draft.lines:
        glued = unglue_title(draft.title, draft.lines[0])
        if glued is not None:
            named, head, rest = glued
            draft.audit.remove(head, "title:glued")
            draft.lines[0] = rest
            draft.title = named


def title_stage(page: Page, ctx: CleanContext) -> Page:
    """Pipeline stage: title every draft; the page's HTML title serves the first."""
    for index, draft in enumerate(page.drafts):
        name_draft(draft, page.title_hint if index == 0 else None)
    return page
