"""Bound the work later stages do: a line longer than any paragraph is dropped, not cleaned.

No speech or report has a paragraph of 200,000 characters (a whole provincial
work report is about 30,000), even when a scraper lost every line break. A
line that long is a base64 blob, a minified script that leaked into the text,
or a fuzzer's 10 MB of one letter; cleaning it only spends the file's time
budget, and truncating it would keep a piece of garbage. So the line is
dropped and recorded in the audit (rule `limit:line_length`) with a short
preview, and the rest of the document survives; a file that was nothing but
such a line ends as `no_content` in quarantine. The limit is
`ctx.options["max_line_chars"]`; 0 or None switches it off.
"""
from __future__ import annotations

from .document import CleanContext, Page

DEFAULT_MAX_LINE_CHARS = 200_000
PREVIEW_CHARS = 200
RULE = "limit:line_length"


def line_limit(ctx: CleanContext) -> int | None:
    """The configured maximum line length in characters, or None for no limit."""
    return ctx.options.get("max_line_chars", DEFAULT_MAX_LINE_CHARS) or None


def limit_lines_stage(page: Page, ctx: CleanContext) -> Page:
    """Pipeline stage: drop every line longer than the limit, recording a preview of it."""
    limit = line_limit(ctx)
    if limit is None:
        return page
    for draft in page.drafts:
        if not any(len(line) > limit for line in draft.lines):
            continue
        kept = []
        for line in draft.lines:
            if len(line) > limit:
                draft.audit.remove(f"{line[:PREVIEW_CHARS]}… [{len(line)} chars]", RULE)
            else:
                kept.append(line)
        draft.lines = kept
    return page
