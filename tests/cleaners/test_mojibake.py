"""Mojibake reversal: each kind of wrong decoding undone, real text in any script left alone."""
from __future__ import annotations

import pytest

from cleaners.document import Audit, CleanContext, Page
from cleaners.mojibake import BOUNDARY, KINDS, better, mojibake_stage, repair_line
from cleaners.pipeline import clean_text
from tests.conftest import FIXTURES

SENTENCE = "在全市打好污染防治攻坚战，推动高质量发展。2024年GDP增长5%"


def utf8_read_as_gbk(text: str) -> str:
    return text.encode("utf-8").decode("gbk", errors="replace")


def gbk_read_as_latin1(text: str) -> str:
    return text.encode("gbk").decode("latin-1")


def gbk_read_as_cp1252(text: str) -> str:
    return text.encode("gbk").decode("cp1252", errors="replace")


def utf8_read_as_latin1(text: str) -> str:
    return text.encode("utf-8").decode("latin-1")


@pytest.mark.parametrize("damage", [gbk_read_as_latin1, gbk_read_as_cp1252, utf8_read_as_latin1])
def test_lossless_kinds_come_back_exactly(damage):
    garbled = damage(SENTENCE)
    assert garbled != SENTENCE
    audit = Audit()
    assert repair_line(garbled, audit) == SENTENCE
    assert audit.repairs


@pytest.mark.parametrize("garbled,expected,lost", [
    # UTF-8 read as GBK loses the last byte of a final 。 (銆�): the rest comes back, the stub goes
    (utf8_read_as_gbk(SENTENCE), "在全市打好污染防治攻坚战，推动高质量发展2024年GDP增长5%", 1),
    # UTF-8 read as cp1252: bytes cp1252 has no character for were lost upstream; the rest comes back
    (SENTENCE.encode("utf-8").decode("cp1252", errors="replace"), "在全市打好污染防治攻战，推动高质展。2024年GDP增长5%", 2),
    # a GBK reader swallowed the ASCII letter after a cut character (骞碐DP): it comes back too
    (utf8_read_as_gbk("增长年GDP"), "增长年GDP", 0),
])
def test_lossy_kinds_recover_what_is_left(garbled, expected, lost):
    audit = Audit()
    assert repair_line(garbled, audit) == expected
    assert len([r for r in audit.removed if r.rule == "mojibake_lost"]) == lost


BODY = "推动高质量发展，建设美丽中国"


@pytest.mark.parametrize("prefix,garble,suffix,expected", [
    # the GBK reader lost the bytes of 设 and 国 (odd byte counts): what is left comes back
    ("正常的中文开头，", utf8_read_as_gbk, " 结尾也正常。", "推动高质量发展，建美丽中"),
    ("正常的中文开头，", gbk_read_as_latin1, " 结尾也正常。", BODY),
    ("Report 2024: ", utf8_read_as_latin1, " (end)", BODY),
])
def test_only_the_garbled_stretch_changes(prefix, garble, suffix, expected):
    assert repair_line(prefix + garble(BODY) + suffix, Audit()) == prefix + expected + suffix


@pytest.mark.parametrize("text", [
    SENTENCE,
    "魑魅魍魉，饕餮貔貅，龘靐齉爩。",
    "α粒子与β衰变，Ω级别，①②③项目，№1、§2。",
    "Café au lait, naïve résumé — “2024” ™ • 50€",
    "Ærøskøbing straße Ünïcödé ÀÉÎÕÜ",
    "繁體中文：政府工作報告，經濟發展。",
    "한국어 텍스트와 日本語のテキスト",
])
def test_real_text_in_any_script_stays(text):
    audit = Audit()
    assert repair_line(text, audit) == text
    assert not audit.repairs and not audit.removed


@pytest.mark.parametrize("garbled,expected,removed", [
    ("数据锟斤拷锟斤拷丢失了", "数据丢失了", ["锟斤拷锟斤拷"]),
    ("无法显示\ufffd\ufffd的字符", "无法显示的字符", ["\ufffd\ufffd"]),
])
def test_lost_characters_are_removed_and_counted(garbled, expected, removed):
    audit = Audit()
    assert repair_line(garbled, audit) == expected
    assert [r.text for r in audit.removed] == removed
    assert all(r.rule == "mojibake_lost" for r in audit.removed)


def test_stage_repairs_lines_and_title_hint():
    page = Page.from_lines([gbk_read_as_latin1("政府工作报告"), "正文第一段。"],
                           title_hint=utf8_read_as_gbk("政府工作报告全文"))
    page = mojibake_stage(page, CleanContext())
    assert page.drafts[0].lines == ["政府工作报告", "正文第一段。"]
    assert page.title_hint == "政府工作报告全文"


def test_runs_before_normalize_so_c1_bytes_survive():
    """Latin-1 mojibake of UTF-8 is made of C1 controls that normalize would strip."""
    garbled = utf8_read_as_latin1("推动高质量发展，建设美丽中国")
    assert any("\x80" <= ch <= "\x9f" for ch in garbled)
    page = clean_text("标题\n" + garbled + "。这是正文的其余部分，内容足够长。", "site/doc.txt")
    assert "推动高质量发展，建设美丽中国" in "\n".join(page.drafts[0].lines)


@pytest.mark.parametrize("path", sorted((FIXTURES / "clean").glob("*.txt")) + sorted((FIXTURES / "web").glob("*.txt")),
                         ids=lambda p: p.parent.name + p.name[:2])
def test_real_pages_are_left_alone(path):
    audit = Audit()
    lines = path.read_text(encoding="utf-8").split("\n")
    assert [repair_line(line, audit) for line in lines] == lines
    assert not audit.repairs and not audit.removed


UTF8_READ_AS_GBK = next(kind for kind in KINDS if kind.name == "utf8_read_as_gbk")


@pytest.mark.parametrize("text", [utf8_read_as_gbk(SENTENCE), utf8_read_as_gbk("推动高质量发展，建设美丽中国"), SENTENCE]
                         + [path.read_text(encoding="utf-8") for path in sorted((FIXTURES / "web").glob("*.txt"))])
def test_screen_turns_away_only_stretches_no_piece_of_which_is_repaired(text):
    for match in UTF8_READ_AS_GBK.run.finditer(text):
        if not UTF8_READ_AS_GBK.screen(match.group()):
            pieces = [piece for piece in BOUNDARY.split(match.group()) if piece and not BOUNDARY.fullmatch(piece)]
            assert [better(piece, UTF8_READ_AS_GBK) for piece in pieces] == [None] * len(pieces)


@pytest.mark.parametrize("text", [SENTENCE, "推动高质量发展，建设美丽中国"])
def test_screen_lets_real_mojibake_through(text):
    assert UTF8_READ_AS_GBK.screen(utf8_read_as_gbk(text))
