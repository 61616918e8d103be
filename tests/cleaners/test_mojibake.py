"""Mojibake reversal: each kind of wrong decoding undone, real text in any script left alone."""
from __future__ import annotations

import random
import re

import pytest

from cleaners.document import Audit, CleanContext, Page
from cleaners.mojibake import (BOUNDARY, BOUNDARY_PUNCTUATION, GBK_CLASS, KINDS, LATIN_CLASS, LATIN_HIGH,
                               UTF8_START_IN_GBK, better, encode_gbk, encode_latin, mojibake_stage, repair_line)
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


@pytest.mark.parametrize("garbage", [
    # Big5 bytes read as GB18030 (a fuzzer finding): read as UTF-8 the bytes give 述职报告 among kana,
    # Greek, Sinhala and lost bytes; the word alone would pass `quality`, the strays around it do not
    "~旧\ue5f0竊\ue215搭鸿堪鑱屾姤鍛娤ノ\ue6a7ネ\ue215方\ue4c7琵竒蕾祇甶籔吏挂玂臔\ue0f6徊\ue0f6Θ\ue4c9",
])
def test_a_round_trip_that_gives_strays_around_a_word_is_refused(garbage):
    audit = Audit()
    assert repair_line(garbage, audit) == garbage
    assert not audit.repairs


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
UTF8_CHINESE_BYTES = re.compile(rb"[\xe3-\xe9][\x80-\xbf][\x80-\xbf]")  # U+3000–U+9FFF in UTF-8
WEB_PAGES = [path.read_text(encoding="utf-8") for path in sorted((FIXTURES / "web").glob("*.txt"))]


def partly_garbled(text: str, seed: int) -> str:
    """`text` with random stretches garbled by every kind, whole or cut anywhere (a byte lost, a half character)."""
    rng = random.Random(seed)
    damages = [utf8_read_as_gbk, gbk_read_as_latin1, gbk_read_as_cp1252, utf8_read_as_latin1]
    out = []
    for start in range(0, len(text), 40):
        chunk = text[start:start + 40]
        if rng.random() < 0.5:
            garbled = rng.choice(damages)(chunk)
            cut = rng.randrange(len(garbled) + 1)
            chunk = garbled[cut:] if rng.random() < 0.5 else garbled[:cut]
        out.append(chunk)
    return "".join(out)


@pytest.mark.parametrize("text", [utf8_read_as_gbk(SENTENCE), utf8_read_as_gbk(BODY), gbk_read_as_latin1(BODY),
                                  gbk_read_as_cp1252(BODY), utf8_read_as_latin1(BODY), SENTENCE]
                         + WEB_PAGES + [partly_garbled(page, seed) for seed, page in enumerate(WEB_PAGES)])
def test_repairable_turns_away_only_pieces_that_are_not_repaired(text):
    """Lines and stretches are skipped on the same pattern: a piece it does not match must be one `better` rejects."""
    for kind in KINDS:
        for match in kind.run.finditer(text):
            for piece in BOUNDARY.split(match.group()):
                if not kind.repairable.search(piece):
                    assert better(piece, kind) is None, (kind.name, piece)


@pytest.mark.parametrize("damage,text", [(utf8_read_as_gbk, SENTENCE), (utf8_read_as_gbk, BODY),
                                         (gbk_read_as_latin1, BODY), (gbk_read_as_cp1252, BODY),
                                         (utf8_read_as_latin1, BODY)])
def test_repairable_lets_real_mojibake_through(damage, text):
    assert any(kind.repairable.search(damage(text)) for kind in KINDS)


def test_repairable_passes_few_lines_of_real_text():
    """The point of the screen: ordinary Chinese lines are not cut into pieces and round-tripped."""
    lines = [line for page in WEB_PAGES for line in page.split("\n") if line]
    passed = [line for line in lines if any(kind.repairable.search(line) for kind in KINDS)]
    assert len(passed) * 10 < len(lines)


PIECE_CHARS = re.findall(f"[{GBK_CLASS}\x40-\x7f]", "".join(map(chr, range(0x10000))))
# What follows a character decides whether its bytes start a triple: one of each kind of start
# (two bytes 80–BF; 80–BF then C0–FE; C0–FE first; ASCII; a lost byte; four bytes).
FOLLOWERS = ["啊", "的", "中", "A", "\ufffd", "\u3400"]


@pytest.mark.parametrize("follower", FOLLOWERS)
def test_utf8_start_in_gbk_bounds_the_triples_of_every_character(follower):
    """Built by decoding byte pairs; checked here against `str.encode` for every character a piece may hold."""
    start = re.compile(UTF8_START_IN_GBK)
    for ch in PIECE_CHARS:
        if ch in BOUNDARY_PUNCTUATION:
            continue
        triples = (len(UTF8_CHINESE_BYTES.findall(encode_gbk(ch + follower)))
                   - len(UTF8_CHINESE_BYTES.findall(encode_gbk(follower))))
        assert triples <= (1 if start.match(ch + follower) else 0), (ch, follower)


@pytest.mark.parametrize("ch", re.findall(f"[{LATIN_CLASS}]", "".join(map(chr, range(0x10000)))))
def test_latin_high_is_every_character_a_latin_reader_made_of_a_byte_80_to_fe(ch):
    """`LATIN_REPAIRABLE` counts these: a piece with fewer than two cannot decode to two Chinese characters."""
    assert bool(re.fullmatch(f"[{LATIN_HIGH}]", ch)) == (0x80 <= encode_latin(ch)[0] <= 0xFE)
