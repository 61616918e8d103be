"""Name each document and keep its title out of the head of its text.

The title comes from the split stage (a part's own heading), else the HTML
`<h1>`/`<title>`, else the first title-like line. Site decorations around it
(`VIP专享`, `(完整)`, `.docx`, `_百度文库`, `- 豆丁网`) are stripped by the
patterns in `TITLE_DECORATIONS`; the title line, when it opens the text, is
removed from the text so that it is not stored twice.
"""
from __future__ import annotations

import re

from .document import CleanContext, Draft, Page

# Decorations that document sites add to a title; one place to add another.
TITLE_DECORATIONS = (
    r"\.(?:docx?|pdf|pptx?|xlsx?|txt|wps|rtf)$",  # file endings
    r"\s*[-_—|｜]\s*[^-_—|｜]{1,12}(?:文库|文档|网|资料|范文|秘书)[^-_—|｜]{0,8}$",  # "_百度文库", "- 豆丁网"
    r"\s*[(（【\[](?:完整|完整版|最新|精选|精品|word版|可编辑|范文|全文|优秀|推荐|免费|原创|附件|共\d+页)[)）】\]]$",
    r"\s*(?:VIP|vip)(?:专享|会员|免费|精品)?$",
    r"\s*(?:免费下载|下载|在线阅读|全文阅读|全文)$",
)
DECORATION = re.compile("|".join(f"(?:{p})" for p in TITLE_DECORATIONS))
SENTENCE_END = "。！？!?；;…"
MAX_TITLE_CHARS = 80


def clean_title(title: str) -> str:
    """Strip site decorations from a title until none is left."""
    title = title.strip()
    while True:
        stripped = DECORATION.sub("", title).strip()
        if stripped == title or not stripped:
            return title
        title = stripped


def is_title_like(line: str) -> bool:
    """A short line that does not end like a sentence and is not a list item."""
    return (4 <= len(line) <= MAX_TITLE_CHARS and line[-1] not in SENTENCE_END
            and not re.match(r"^(?:[一二三四五六七八九十]+、|[(（][一二三四五六七八九十\d]+[)）]|\d+[.、])", line))


def _squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def name_draft(draft: Draft, fallback: str | None) -> None:
    """Set the draft's title and drop a repeat of it from the head of the text."""
    title = draft.title or fallback
    if not title and draft.lines and is_title_like(draft.lines[0]):
        title = draft.lines[0]
    if not title:
        return
    draft.title = clean_title(title)
    key = _squeeze(draft.title)
    while draft.lines and key and _squeeze(clean_title(draft.lines[0])) == key:
        draft.audit.remove(draft.lines.pop(0), "title:repeat")


def title_stage(page: Page, ctx: CleanContext) -> Page:
    """Pipeline stage: title every draft; the page's HTML title serves the first."""
    for index, draft in enumerate(page.drafts):
        name_draft(draft, page.title_hint if index == 0 else None)
    return page
