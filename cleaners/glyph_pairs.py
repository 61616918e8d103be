"""Published broken-font glyph pairs: wrong character → the character it stands for.

These pairs circulate in public lists of "PDF copy gives 癿 for 的" repairs.
They are NOT applied as a fixed table: which pairs a document shows depends
on its font, and several wrong characters are ordinary ones elsewhere (尿素,
违反, 徇私). The glyph stage uses them only as extra candidates and a small
prior next to the candidates it derives from code-point neighbours, and only
inside spans it has already found damaged. One place to add a pair.
"""
from __future__ import annotations

KNOWN_PAIRS: tuple[tuple[str, str], ...] = (
    ("癿", "的"), ("仸", "任"), ("収", "发"), ("丌", "不"), ("迚", "进"), ("绊", "经"),
    ("亍", "于"), ("挃", "指"), ("尿", "局"), ("夗", "多"), ("觃", "规"), ("幵", "并"),
    ("挄", "按"), ("丼", "举"), ("叏", "取"), ("挅", "挑"), ("卲", "即"), ("隑", "隔"),
    ("枃", "林"), ("枂", "析"), ("劢", "动"), ("乢", "书"), ("釐", "金"), ("伓", "优"),
    ("徆", "很"), ("刉", "划"), ("吅", "合"), ("垄", "型"), ("叱", "史"), ("诧", "语"),
    ("屁", "居"), ("违", "连"), ("徇", "律"), ("刊", "列"), ("极", "构"), ("乊", "之"),
    ("乀", "之"), ("叐", "受"), ("斱", "方"), ("刜", "初"), ("刡", "到"), ("戒", "或"),
    ("诠", "该"), ("讵", "访"), ("弻", "归"), ("弼", "当"), ("扂", "扇"), ("讣", "认"),
    ("丏", "且"), ("劣", "助"), ("吨", "含"), ("迕", "这"), ("亊", "事"),
    ("兲", "关"), ("冴", "况"), ("俆", "信"), ("伕", "会"),
)
