"""The line limit: lines longer than any paragraph are dropped with a preview in the audit, the rest kept."""
from __future__ import annotations

import pytest

from cleaners.document import CleanContext, Page
from cleaners.limits import DEFAULT_MAX_LINE_CHARS, PREVIEW_CHARS, RULE, limit_lines_stage


@pytest.mark.parametrize("lines, options, kept, previews", [
    (["短句。", "长" * 11, "又一句。"], {"max_line_chars": 10}, ["短句。", "又一句。"], ["长" * 11 + "… [11 chars]"]),
    (["长" * 10], {"max_line_chars": 10}, ["长" * 10], []),  # at the limit: kept
    (["长" * 11], {"max_line_chars": 0}, ["长" * 11], []),  # 0 switches the limit off
    (["长" * 11], {"max_line_chars": None}, ["长" * 11], []),
    (["a" * (DEFAULT_MAX_LINE_CHARS + 1), "b"], {}, ["b"],
     ["a" * PREVIEW_CHARS + f"… [{DEFAULT_MAX_LINE_CHARS + 1} chars]"]),  # the default limit
])
def test_limit_lines_stage(lines, options, kept, previews):
    page = limit_lines_stage(Page.from_lines(lines), CleanContext(options=options))
    [draft] = page.drafts
    assert draft.lines == kept
    assert [(r.text, r.rule) for r in draft.audit.removed] == [(p, RULE) for p in previews]
