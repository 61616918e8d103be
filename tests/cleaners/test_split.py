"""The split stage on real and hand-made pages of every layout, and on single documents that must stay whole."""
from __future__ import annotations

import re
from collections import Counter

import pytest

from cleaners.document import Audit, CleanContext, Draft, Page
from cleaners.normalize import normalize_stage
from cleaners.split import MARKDOWN_HEAD, MARKDOWN_HEAD_STARTS, expected_parts, heading_at, split_stage
from cleaners.title import clean_title
from tests.conftest import FIXTURES

SPLIT = FIXTURES / "split"


def split_page(name: str, ctx: CleanContext | None = None) -> tuple[Page, list[str]]:
    """The fixture normalised then split; also its lines before splitting."""
    text = (SPLIT / name).read_text(encoding="utf-8")
    page = normalize_stage(Page.from_lines(text.split("\n"), source_path=name), CleanContext())
    before = list(page.drafts[0].lines)
    return split_stage(page, ctx or CleanContext()), before


@pytest.mark.parametrize("name, titles", [
    # the page title repeated as a separator; a heading broken over two lines; a heading run into the body
    ("separator_title.txt", ["在全县安全生产工作会议上的讲话", "在全县安全生产工作推进会上的讲话",
                             "在全县防汛抗旱工作会议上的讲话"]),
    # 篇一：… / 篇二：… / 【篇三】 on its own line
    ("pian_markers.txt", ["在主题教育动员部署会上的讲话", "在主题教育专题读书班上的讲话", "在主题教育总结会议上的讲话"]),
    # (3篇) in the page title, pieces with only a title-shaped heading
    ("counted_title.txt", ["青年干部学习全会精神心得体会", "基层干部学习全会精神心得体会", "教师党员学习全会精神心得体会"]),
    # headings each followed by an opening salutation, no separator; the first heading is the page title
    ("openings.txt", ["在全市优化营商环境大会上的讲话", "市长在全市项目建设推进会上的讲话"]),
    # an initiative ending in signature and date, then a speech (hand-made, and the real PDF extract)
    ("run_together.txt", [None, "在全市生态环境保护委员会全体会议上的讲话"]),
    ("30_speech_pdf_extract_concatenated_docs_image_placeholder.txt",
     [None, "在北斗规模应用国际峰会专家委员会成立暨第一次全体会议上的主持讲话"]),
    # the seed page: ten speeches under a repeated page title (headings as the page spells them:
    # the broken-font 劢/癿 of doc 3 are repaired by the glyph stage, not here)
    ("003_9847263fc28bd103.txt", [
        "在全市打好污染防治攻坚战动员大会上的主持词", "在全市打好污染防治攻坚战动员大会上的主持词",
        "在全镇深入打好污染防治攻坚战动员大会上的讲话", "在全市打好污染防治攻坚战劢员大会上癿讲话",
        "在 XX 县环境污染防治攻坚战动员大会上的讲话", "在全市环境污染防治攻坚战动员大会上的讲话",
        "在全市环境污染防治攻坚战动员大会上的讲话", "在全市“三大攻坚战”推进大会上的发言",
        "在全市“三大攻坚战”推进大会上的发言", "在 2021 年全市环境污染防治攻坚战动员大会上的讲话"]),
])
def test_merged_page_becomes_one_titled_draft_per_document(name, titles):
    page, _ = split_page(name)
    assert [d.title for d in page.drafts] == titles
    for draft in page.drafts[1:]:  # the heading opens the part, for the title stage to drop as a repeat
        if draft.title:
            assert clean_title(draft.lines[0]) == draft.title


@pytest.mark.parametrize("name", [
    "long_speech.txt",  # 一、二、三、 第一，第二， （一）（二） and 谢谢大家！ inside one speech
    "000_50c214c9408719a2.txt",  # title, outline, the title again before 同志们：, the title again in the chrome
    "01_gwr_national_2025_wikisource.txt",  # clean long reports with many internal headings
    "06_gwr_provincial_2025_beijing.txt",
])
def test_single_document_stays_whole_and_untouched(name):
    page, before = split_page(name)
    assert len(page.drafts) == 1
    assert page.drafts[0].lines == before
    assert page.drafts[0].audit.removed == []


@pytest.mark.parametrize("name", [
    "separator_title.txt", "pian_markers.txt", "counted_title.txt", "openings.txt", "run_together.txt",
    "003_9847263fc28bd103.txt",
])
def test_split_loses_no_text_and_audits_what_it_removed(name):
    """Parts plus removed separators hold exactly the page's characters (only line breaks may move)."""
    page, before = split_page(name)
    kept = "".join("".join(d.lines) for d in page.drafts)
    removed = "".join(r.text for d in page.drafts for r in d.audit.removed)
    assert all(r.rule == "split:separator" for d in page.drafts for r in d.audit.removed)
    squeeze = lambda s: Counter(re.sub(r"\s+", "", s))  # noqa: E731
    assert squeeze(kept + removed) == squeeze("".join(before))


def test_separators_go_to_the_part_they_precede_and_part_0_keeps_the_page_audit():
    text = (SPLIT / "separator_title.txt").read_text(encoding="utf-8")
    page_audit = Audit()
    page_audit.remove("欢迎访问本站", "strip:site_chrome")
    page = Page(drafts=[Draft(lines=text.split("\n"), audit=page_audit)])
    page = split_stage(normalize_stage(page, CleanContext()), CleanContext())
    assert page.drafts[0].audit is page_audit
    assert [r.text for r in page.drafts[0].audit.removed] == ["欢迎访问本站", "关于安全生产工作的讲话汇编",
                                                               "关于安全生产工作的讲话汇编"]
    for later in page.drafts[1:]:
        assert [(r.text, r.rule) for r in later.audit.removed] == [("关于安全生产工作的讲话汇编", "split:separator")]


def test_broken_heading_is_joined_and_run_in_heading_is_cut_from_its_body():
    page, _ = split_page("separator_title.txt")
    first, second, third = page.drafts
    assert first.lines[0] == "在全县安全生产工作会议上的讲话(完整)"  # the site's decoration leaves the title only
    assert second.lines[:2] == ["在全县安全生产工作推进会上的讲话", "同志们:"]
    assert third.lines[:2] == ["在全县防汛抗旱工作会议上的讲话", "各位领导、同志们:"]


def test_minimum_part_size_is_an_option():
    page, before = split_page("separator_title.txt", CleanContext(options={"split_min_part_chars": 5000}))
    assert len(page.drafts) == 1 and page.drafts[0].lines == before


@pytest.mark.parametrize("title, count", [
    ("(3篇)学习贯彻党的二十届三中全会精神研讨材料", 3),
    ("党员教师学习全会精神心得体会（8篇）", 8),
    ("党委书记在主题教育工作会议上的讲话3篇", 3),
    ("优秀心得体会范文【十二篇】", 12),
    ("关于读书的第三篇", None),
    ("在全市生态环境保护问题整改推进会上的讲话", None),
])
def test_expected_parts_reads_the_count_in_a_page_title(title, count):
    assert expected_parts(title) == count


@pytest.mark.parametrize("line, is_heading", [
    ("在全市打好污染防治攻坚战动员大会上的主持词", True),
    ("篇二:在主题教育专题读书班上的讲话", True),
    ("一、目标要高点定位", False),
    ("第一,要打好大气治理的硬仗。", False),
    ("（二）千方百计提振消费。", False),
    ("同志们:", False),
    ("第三篇章是全面深化改革的生动实践", False),
    ("同志们,改善环境质量是一项重大而紧迫的政治任务和民生工程。", False),
])
def test_internal_headings_and_salutations_are_not_document_headings(line, is_heading):
    heading = heading_at([line], 0)
    assert (heading is not None and heading.weight >= 2) == is_heading


def test_markdown_heads_start_with_a_character_bare_looks_for():
    """`_bare` runs `MARKDOWN_HEAD` only on lines opening with one of `MARKDOWN_HEAD_STARTS`."""
    opening = {ch for ch in map(chr, range(0x10000)) if MARKDOWN_HEAD.match(ch + " 标题")}
    assert opening and opening <= set(MARKDOWN_HEAD_STARTS)
