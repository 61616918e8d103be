"""Safe normalisation: look-alike radicals and full-width forms mapped, Chinese punctuation kept."""
from __future__ import annotations

import pytest

from cleaners.normalize import NEWLINE_START, NEWLINES, normalize_text


@pytest.mark.parametrize("text,expected", [
    ("⾏政公⽂", "行政公文"),  # Kangxi radicals copied out of PDFs
    ("⼀⼆三、⽅案⾄关重要", "一二三、方案至关重要"),
    ("⻓江⼤保护", "长江大保护"),  # CJK radicals supplement, which NFKC leaves alone
    ("⻢上⻅效，⻔⼝开放", "马上见效，门口开放"),
    ("２０２４年ＧＤＰ增长５％", "2024年GDP增长5％"),  # full-width digits and letters, not the percent sign
    ("同志们：今天，我们（全体）召开会议！", "同志们：今天，我们（全体）召开会议！"),  # Chinese punctuation stays
    ("调\u200b研\u00ad报告", "调研报告"),  # invisibles go
    ("国务院总理\u3000李强", "国务院总理 李强"),
])
def test_normalize_text(text, expected):
    assert normalize_text(text) == expected


ALL_CHARACTERS = "".join(map(chr, range(0x10000)))


def test_every_newline_starts_with_a_character_the_guard_looks_for():
    """`normalize_text` runs `NEWLINES` only where `NEWLINE_START` finds something: no newline may start otherwise."""
    starts = {match.group()[0] for match in NEWLINES.finditer(ALL_CHARACTERS + "\r\n")}
    assert starts and all(NEWLINE_START.fullmatch(ch) for ch in starts)


@pytest.mark.parametrize("text", ["a\r\nb", "a\rb", "a\u2028b", "a\x0bb\x0cc\x85d", "a\u2029\nb", "无换行的文本"])
def test_newlines_become_line_breaks(text):
    assert normalize_text(text) == "\n".join(line for line in NEWLINES.sub("\n", text).split("\n") if line)
