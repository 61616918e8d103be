"""Safe normalisation: look-alike radicals and full-width forms mapped, Chinese punctuation kept."""
from __future__ import annotations

import pytest

from cleaners.normalize import normalize_text


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
