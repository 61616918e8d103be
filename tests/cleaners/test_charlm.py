"""The lexicon model's window scores: the shared-prefix scorer must agree exactly with whole-window scoring."""
from __future__ import annotations

import pytest

from cleaners.charlm import load_charlm


@pytest.mark.parametrize("left,middles,right", [
    ("高度重", ("规", "视", "观"), "生态环境"),  # a candidate that completes a word across the cut
    ("", ("丌", "不", "与"), "断推进"),  # nothing on the left
    ("推动高质量发", ("屔", "展"), ""),  # nothing on the right
    ("2024年GDP增长5", ("%", "个"), "以上"),  # digits before the cut; a middle that is no Chinese
    ("增长3", ("5", ".", "个"), "8年"),  # a middle that joins a number across the cut: scored whole
    ("人", ("与", "不"), "自然和谐共生"),
])
def test_substitution_scores_equal_whole_window_scores(left, middles, right):
    lm = load_charlm()
    assert lm.substitution_scores(left, middles, right) == tuple(lm.score(left + m + right) for m in middles)
