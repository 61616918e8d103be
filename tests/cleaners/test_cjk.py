from __future__ import annotations

import pytest

from cleaners.charlm import is_cjk
from cleaners.cjk import CJK_CHAR, GB2312, cjk_count


@pytest.mark.parametrize("text", [
    "", "abc", "中文ABC中文", "㐀䶵一龥", "\u4dc0\u4dff", "ひらがなカタカナ中", "\ue000\uf8ff中", "Ωβ中文，。", "①②中", "ㄅㄆ中国",
])
def test_counts_and_class_match_is_cjk(text):
    assert cjk_count(text) == sum(1 for ch in text if is_cjk(ch)) == len(CJK_CHAR.findall(text))
    assert cjk_count(text, 1, 4) == sum(1 for ch in text[1:4] if is_cjk(ch))


@pytest.mark.parametrize("ch, held", [("的", True), ("发", True), ("癿", False), ("會", False), ("㐀", False),
                                      ("龥", False)])
def test_gb2312_holds_simplified_everyday_characters(ch, held):
    assert (ch in GB2312) is held


def test_gb2312_has_its_6763_characters():
    assert len(GB2312) == 6763
