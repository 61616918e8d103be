"""Chinese characters: which code points count as one, counting them, and which GB2312 holds.

Several stages ask these questions on every line (glyph repair, strip, mojibake,
reflow, title); answering them in one place keeps them answered the same way
and at C speed (a regex over runs rather than a Python call per character).
"""
from __future__ import annotations

import re
import sys

CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF))  # unified ideographs and extension A, as `charlm.is_cjk`
CJK_CHAR = re.compile("[\u4e00-\u9fff\u3400-\u4dbf]")
CJK_RUN = re.compile("[\u4e00-\u9fff\u3400-\u4dbf]+")  # counting by runs is cheaper than by characters


def cjk_count(line: str, start: int = 0, stop: int = sys.maxsize) -> int:
    """Chinese characters in `line[start:stop]`."""
    return sum(map(len, CJK_RUN.findall(line, start, stop)))


def _encodes_in_gb2312(ch: str) -> bool:
    try:
        ch.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


# The Chinese characters of GB2312: the 6,763 of simplified everyday text (extension A holds none).
GB2312: frozenset[str] = frozenset(chr(cp) for lo, hi in CJK_RANGES for cp in range(lo, hi + 1)
                                   if _encodes_in_gb2312(chr(cp)))
