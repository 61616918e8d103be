"""Rejoin paragraphs that PDF extraction and page breaks cut into pieces.

Text copied out of a PDF or a paged preview breaks where the page or the
visual line ended, not where the paragraph did. A line is joined to the next
when it is prose that stops mid-sentence (no closing punctuation) and the next
line does not start a heading or list item; headings, list items, salutations
and titles stay lines of their own. Alongside that:

- page markers (`— 3 —`, `第 4 页 共 4 页`) go, as lines or at a line's end;
- a line holding only punctuation (`。` left on its own by a page break)
  joins the line before it, or goes when that line already ends with it;
- page-chunk numbering (`1、…` `2、…` where each chunk carries on the sentence
  the previous one cut) is removed and the chunks joined;
- spaces extraction put between Chinese characters inside prose go.

Runs per draft, after the split stage, so each document is reflowed on its own.
"""
from __future__ import annotations

import re

from .cjk import cjk_count
from .document import Audit, CleanContext, Draft, Page

# Punctuation that may close a paragraph; a line ending otherwise was cut. A semicolon
# does not: speeches run 取法其上，仅得其中；取法其中… on within one paragraph.
CLOSING = "。！？!?…：:」』》）)”’】"
# Punctuation that shows a line is prose rather than a title, a file name or a by-line.
PROSE_MARKS = "，。、；,;！？"  # not the colon: 来源：北京日报 is a label

BULLET = r"[-*•·●○■□◆◇▪►]\s"  # a bullet item may wrap onto the next line like prose
# Starts of headings and list items: one place to add a kind.
HEADING_STARTS = (
    r"[一二三四五六七八九十百]+[、．.]",  # 一、
    r"[（(][一二三四五六七八九十百\d]+[）)]",  # (一) （1）
    r"\d+(?:\.\d+)*[、．.](?!\d)",  # 1、 1. 1.2.
    r"第[一二三四五六七八九十百\d]+[章节条部分篇项点][、，,：:\s]?",  # 第一章
    r"第[一二三四五六七八九十]+[，,、]",  # 第一,
    r"[一二三四五六七八九十]+(?:是|要|则|方面|来)",  # 一是 二要
    r"(?:首先|其次|再次|最后|另外|此外)[，,]",
    r"(?:提纲|附件|附录|目录)\s*\d*[：:]?",
    r"[①②③④⑤⑥⑦⑧⑨⑩⑪⑫⑬⑭⑮⑯⑰⑱⑲⑳❶❷❸❹❺]",
    r"[#＃]+\s*",  # markdown headings
    BULLET,
    r"[A-Za-z][、.．)](?=\s*\S)",  # A、 a)
    r"--?[A-Za-z][\w-]*\s*[:：]",  # -n : command-line options
)
HEADING = re.compile("^(?:" + "|".join(HEADING_STARTS) + ")")
BULLET_START = re.compile("^" + BULLET)
HEADING_MAX_CHARS = 60  # a marked line longer than this is a paragraph
SALUTATION = re.compile(r"^.{1,20}[：:]$")  # 同志们： 各位领导：
# Program text keeps its lines: comments, statement ends, braces, shell and C keywords.
CODE = re.compile(r"//|/\*|[A-Za-z0-9_)\]\"']\s*;\s*$|[{}]\s*$|^\s*[{}]|^\s*(?:#include|template\b|def |class |return\b|if \(|for \(|while \(|do\b|else\b|fi$|done$|echo )")
# A cut inside Chinese prose has Chinese beside it, or at least on both lines.
CHINESE_EDGE = re.compile(r"[\u4e00-\u9fff，、；“（《]")
CHINESE = re.compile(r"[\u4e00-\u9fff]")
PAGE_MARKER = re.compile(
    r"^\s*(?:[—–\-－~～]\s*\d{1,4}\s*[—–\-－~～]"  # — 3 —
    r"|第\s*\d{1,4}\s*页\s*(?:[/／,，]?\s*共\s*\d{1,4}\s*页)?"  # 第 4 页 共 4 页
    r"|\d{1,4}\s*/\s*\d{1,4}\s*页?)\s*$")  # 3 / 10
TRAILING_PAGE_MARKER = re.compile(r"(?<=[。！？!?”])\s*第\s*\d{1,4}\s*页\s*(?:[/／,，]?\s*共\s*\d{1,4}\s*页)\s*$")
PUNCTUATION_ONLY = re.compile(r"^[。，、；：！？…]+$")  # not ASCII: `;;` alone is shell syntax
CHUNK_NUMBER = re.compile(r"^(\d{1,3})、")
MIN_CHUNK_CHARS = 60  # page chunks are long; a numbered list of short items is a list
CJK_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])[ \u3000]+(?=[\u4e00-\u9fff])")
GARBAGE_SAMPLE = 40  # characters of a continuation judged for reading as Chinese
MIN_CHINESE_LETTERS = 0.95  # share of Chinese among the letters beyond ASCII of a continuation
SPACE_FIX_MIN_CJK = 20  # short lines (names, by-lines) keep their spacing


def is_heading(line: str) -> bool:
    """A heading or list item: a marked start, short, no full stop before its end.

    `三要加快新兴产业布局。充分发挥…` is a paragraph led by its point, not a heading.
    """
    return bool(HEADING.match(line)) and len(line) <= HEADING_MAX_CHARS and "。" not in line[:-1]


def starts_block(line: str) -> bool:
    """A line that begins something new: a heading, a list item or a salutation."""
    return bool(HEADING.match(line)) or bool(SALUTATION.match(line))


def is_prose(line: str) -> bool:
    return any(mark in line for mark in PROSE_MARKS)


def was_cut(line: str) -> bool:
    """Prose (or a bullet item) that stops mid-sentence; a heading stops where it means to."""
    return (bool(line) and line[-1] not in CLOSING and is_prose(line)
            and (not is_heading(line) or bool(BULLET_START.match(line))))


def continues(left: str, right: str) -> bool:
    """`right` can carry on the sentence `left` broke off: Chinese prose, not program text or garbage."""
    chinese = bool(CHINESE_EDGE.match(left[-1]) or CHINESE_EDGE.match(right[0])
                   or (CHINESE.search(left) and CHINESE.search(right)))
    return chinese and not CODE.search(left) and not CODE.search(right) and reads_as_chinese(right)


def reads_as_chinese(line: str) -> bool:
    """The start of `line` is written in Chinese characters, not mixed with kana, Cyrillic or private-use ones.

    Mojibake and binary read as text mix scripts; joining such a stretch into
    a paragraph would hide it from the stages that remove it.
    """
    letters = [ch for ch in line[:GARBAGE_SAMPLE] if ch >= "\x80" and ch.isalpha() or "\ue000" <= ch <= "\uf8ff"]
    return not letters or cjk_count("".join(letters)) / len(letters) >= MIN_CHINESE_LETTERS


def glue(left: str, right: str) -> str:
    """Join two pieces of one paragraph: no space, except between two Latin words or numbers."""
    if left[-1:].isascii() and left[-1:].isalnum() and right[:1].isascii() and right[:1].isalnum():
        return left + " " + right
    return left + right


def drop_page_markers(lines: list[str], audit: Audit) -> list[str]:
    out = []
    for line in lines:
        if PAGE_MARKER.match(line):
            audit.remove(line, "reflow_page_marker")
            continue
        trailing = TRAILING_PAGE_MARKER.search(line) if "页" in line else None  # the marker's one sure character
        if trailing:
            audit.remove(trailing.group().strip(), "reflow_page_marker")
            line = line[:trailing.start()]
        out.append(line)
    return out


def join_page_chunks(lines: list[str], audit: Audit) -> list[str]:
    """Remove site chunk numbers `1、` `2、` … that restart mid-sentence, and join the chunks.

    Taken as chunk numbering only when the numbers run 1, 2, 3 … over
    consecutive long lines and most chunks end cut: a real numbered list has
    items that end their sentences.
    """
    out: list[str] = []
    index = 0
    while index < len(lines):
        run = chunk_run(lines, index)
        if run <= 1:
            out.append(lines[index])
            index += 1
            continue
        chunks = lines[index:index + run]
        for chunk in chunks:
            audit.remove(CHUNK_NUMBER.match(chunk).group(), "reflow_chunk_number")
        bodies = [CHUNK_NUMBER.sub("", chunk, count=1) for chunk in chunks]
        joined = bodies[0]
        for body in bodies[1:]:
            joined = glue(joined, body)
        out.append(joined)
        index += run
    return out


def chunk_run(lines: list[str], start: int) -> int:
    """How many lines from `start` form a page-chunk run (0: none).

    Every chunk but the last is long (a page's worth), and most end cut.
    """
    end = start
    while end < len(lines):
        match = CHUNK_NUMBER.match(lines[end])
        if not match or int(match.group(1)) != end - start + 1:
            break
        end += 1
        if len(lines[end - 1]) < MIN_CHUNK_CHARS:
            break
    run = end - start
    if run < 2:
        return 0
    cut = sum(1 for line in lines[start:end - 1] if line[-1] not in CLOSING)
    return run if cut * 3 >= (run - 1) * 2 else 0


def join_broken_lines(lines: list[str], audit: Audit) -> list[str]:
    out: list[str] = []
    for line in lines:
        if out and PUNCTUATION_ONLY.match(line):
            if out[-1].endswith(line):
                audit.remove(line, "reflow_stray_punctuation")
            else:
                out[-1] += line
            continue
        if out and was_cut(out[-1]) and not starts_block(line) and continues(out[-1], line):
            out[-1] = glue(out[-1], line)
            continue
        out.append(line)
    return out


def close_cjk_spaces(line: str) -> str:
    # Most lines hold no space, or none between Chinese characters: cheap scans settle them before the count.
    if ((" " not in line and "\u3000" not in line) or CJK_SPACE.search(line) is None
            or cjk_count(line) < SPACE_FIX_MIN_CJK):
        return line
    return CJK_SPACE.sub("", line)


def reflow_lines(lines: list[str], audit: Audit) -> list[str]:
    """The lines of one document, with cut paragraphs joined and page debris gone."""
    lines = [line.strip() for line in lines if line.strip()]
    lines = drop_page_markers(lines, audit)
    lines = join_page_chunks(lines, audit)
    lines = join_broken_lines(lines, audit)
    return [close_cjk_spaces(line) for line in lines]


def reflow_draft(draft: Draft) -> None:
    draft.lines = reflow_lines(draft.lines, draft.audit)


def reflow_stage(page: Page, ctx: CleanContext) -> Page:
    """Pipeline stage: reflow every draft (document) of the page on its own."""
    for draft in page.drafts:
        reflow_draft(draft)
    return page
