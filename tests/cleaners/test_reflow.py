"""Reflow: cut paragraphs joined, headings and lists kept apart, page debris removed."""
from __future__ import annotations

import re

import pytest

from cleaners.document import Audit, CleanContext, Draft, Page
from cleaners.normalize import normalize_lines
from cleaners.reflow import CJK_SPACE, TRAILING_PAGE_MARKER, reflow_lines, reflow_stage
from tests.conftest import FIXTURES

CHUNK_1 = "1、首先我代表区委、区政府向环保部巡查组一行表示欢送,同时向巡查组对我区攻坚战工作的支持表示真诚的感谢。秋冬季攻坚行动已经开展一个多月了。下面,结合巡查组"
CHUNK_2 = "2、李组长的讲话要求和近期的攻坚行动,我再强调几点意见:一是认识要再提升。大气污染防治工作开展以来,要求越来越严。随着秋冬季"
CHUNK_3 = "3、节降临,大气污染防治面临的任务越来越重,特别是我区是传统老区,工作量都是全市最重的,各单位必须厘清任务、负起责任。"
LIST_1 = "1、加强组织领导。各级各部门要把这项工作摆上重要议事日程,主要负责同志亲自抓,分管负责同志具体抓,层层压实责任。"
LIST_2 = "2、强化督查考核。把工作完成情况纳入年度考核,对工作不力、进展缓慢的单位和个人,要通报批评并严肃追责问责。"


@pytest.mark.parametrize("lines,expected", [
    # prose cut mid-sentence (PDF line or page break) is joined
    (["一要突出精准,科学治污。按照精准到行业、精准到", "企业的要求,梳理污染源。"],
     ["一要突出精准,科学治污。按照精准到行业、精准到企业的要求,梳理污染源。"]),
    # a semicolon does not close a paragraph
    (["取法其上,仅得其中;", "取法其中,仅得其下。"], ["取法其上,仅得其中;取法其中,仅得其下。"]),
    # a paragraph led by its point (三要…。) is prose, not a heading
    (["三要加快新兴产业布局。充分发挥区域位置、工业基础、在", "外乡贤等方面优势。"],
     ["三要加快新兴产业布局。充分发挥区域位置、工业基础、在外乡贤等方面优势。"]),
    # headings stay apart from their paragraph, with or without commas
    (["一、目标要高点定位", "取法其上,仅得其中。"], ["一、目标要高点定位", "取法其上,仅得其中。"]),
    (["一、坚持更高标准、强化重点攻坚,坚决深入打好污染防治攻坚战", "今年是开局之年。"],
     ["一、坚持更高标准、强化重点攻坚,坚决深入打好污染防治攻坚战", "今年是开局之年。"]),
    (["(一)从国之大者的高度把握生态环保的战略定位", "生态环境保护是国之大者。"],
     ["(一)从国之大者的高度把握生态环保的战略定位", "生态环境保护是国之大者。"]),
    # list items start their own line even after a cut line
    (["主要体现在以下几个方面,包括", "一是完成目标压力大。", "二是思想认识差距大。"],
     ["主要体现在以下几个方面,包括", "一是完成目标压力大。", "二是思想认识差距大。"]),
    (["对此,我们要抓好", "第一,要打好大气治理的硬仗。"], ["对此,我们要抓好", "第一,要打好大气治理的硬仗。"]),
    (["具体包括以下措施,如", "1.淘汰落后产能;", "2.推动产业转型。"], ["具体包括以下措施,如", "1.淘汰落后产能;", "2.推动产业转型。"]),
    (["提纲:", "一、深刻认识攻坚冲刺的极端重要性", "二、精准把握攻坚冲刺的主攻方向"],
     ["提纲:", "一、深刻认识攻坚冲刺的极端重要性", "二、精准把握攻坚冲刺的主攻方向"]),
    # a title line and a salutation stay lines of their own
    (["在示范区生态环境保护攻坚冲刺会上的讲话", "同志们:", "今天,我们召开冲刺会。"],
     ["在示范区生态环境保护攻坚冲刺会上的讲话", "同志们:", "今天,我们召开冲刺会。"]),
    (["来源:北京日报", "2025年1月14日在北京市第十六届人民代表大会第三次会议上"],
     ["来源:北京日报", "2025年1月14日在北京市第十六届人民代表大会第三次会议上"]),
    # a bullet item that wraps is joined like prose
    (["- 将各个资源部分(计算、内存、带宽等)精心安排给基础 NodeManager(YARN 的", "每节点代理)。"],
     ["- 将各个资源部分(计算、内存、带宽等)精心安排给基础 NodeManager(YARN 的每节点代理)。"]),
    # Chinese and Latin meet without a space; a Latin word cut beside Chinese keeps its space
    (["负责协调来自各方的资源,通过", "NodeManager 监视容器。"], ["负责协调来自各方的资源,通过NodeManager 监视容器。"]),
    (["资源管理器叫做 Resource,还有", "Node Manager 和它的代理。"], ["资源管理器叫做 Resource,还有Node Manager 和它的代理。"]),
    (["在集群中,启动一个 ApplicationMaster 来表示 version", "2 已提交的应用程序。"],
     ["在集群中,启动一个 ApplicationMaster 来表示 version 2 已提交的应用程序。"]),
    # text that is not Chinese prose, and program text, keep their lines
    (["This sentence, cut by the page, goes", "on here."], ["This sentence, cut by the page, goes", "on here."]),
    (["reset(); int clock = 0; int v = s; //初始化", "do //逐一检查所有顶点"],
     ["reset(); int clock = 0; int v = s; //初始化", "do //逐一检查所有顶点"]),
    (["Queue<int> Q; //引入辅助队列,", "status(v) = DISCOVERED;"], ["Queue<int> Q; //引入辅助队列,", "status(v) = DISCOVERED;"]),
    (["-n :不要执行 script，仅查询语法的问题;", "-v :先将 scripts 的内容输出到屏幕上;"],
     ["-n :不要执行 script，仅查询语法的问题;", "-v :先将 scripts 的内容输出到屏幕上;"]),
    (['echo "hello"', ";;"], ['echo "hello"', ";;"]),
    # random characters (mojibake, binary read as text) are not a continuation
    (["全力冲刺年度生态环境保护各项目标任务,距离年", "崩笆厚︹锣璶縩伐徊旧玻穨旧竊搭阂м砃躬纘ㄏノネ方"],
     ["全力冲刺年度生态环境保护各项目标任务,距离年", "崩笆厚︹锣璶縩伐徊旧玻穨旧竊搭阂м砃躬纘ㄏノネ方"]),
    # traditional characters are prose like any other
    (["這些成績來之不易,是全國各族人民", "團結奮鬥的結果。"], ["這些成績來之不易,是全國各族人民團結奮鬥的結果。"]),
    # a full stop left alone by a page break
    (["切实增强抓好生态建设的思想自觉和行动自觉。", "。", "一是要以更细措施打好水污染防治攻坚战。"],
     ["切实增强抓好生态建设的思想自觉和行动自觉。", "一是要以更细措施打好水污染防治攻坚战。"]),
    (["推动生态环境质量持续、根本性好转", "。"], ["推动生态环境质量持续、根本性好转。"]),
    # page markers go, as lines and at a paragraph's end; the paragraph they cut is joined
    (["这是第一段文字,到页尾还没有", "— 3 —", "结束的句子。"], ["这是第一段文字,到页尾还没有结束的句子。"]),
    (["第1页 / 共4页", "正文第一段。"], ["正文第一段。"]),
    (["以良好环境迎接党的十九大成功召开。第 4 页 共 4 页"], ["以良好环境迎接党的十九大成功召开。"]),
    # page-chunk numbering that restarts mid-sentence is removed and the chunks joined
    ([CHUNK_1, CHUNK_2, CHUNK_3], [CHUNK_1[2:] + CHUNK_2[2:] + CHUNK_3[2:]]),
    # a real numbered list (items end their sentences) stays
    ([LIST_1, LIST_2], [LIST_1, LIST_2]),
    # spaces extraction put between Chinese characters go inside prose; Latin spacing stays
    (["这个扇区通常是 512Bytes 的大 小,因为磁盘的第一个扇区非常重要，开 机管理程序就放在这里。"],
     ["这个扇区通常是 512Bytes 的大小,因为磁盘的第一个扇区非常重要，开机管理程序就放在这里。"]),
    (["国务院总理 李强"], ["国务院总理 李强"]),
])
def test_reflow(lines, expected):
    assert reflow_lines(lines, Audit()) == expected


@pytest.mark.parametrize("lines,rule,removed", [
    (["正文。", "— 12 —", "正文。"], "reflow_page_marker", ["— 12 —"]),
    (["正文结束。第 4 页 共 4 页"], "reflow_page_marker", ["第 4 页 共 4 页"]),
    (["自觉。", "。"], "reflow_stray_punctuation", ["。"]),
    ([CHUNK_1, CHUNK_2], "reflow_chunk_number", ["1、", "2、"]),
])
def test_removals_are_audited(lines, rule, removed):
    audit = Audit()
    reflow_lines(lines, audit)
    assert [r.text for r in audit.removed if r.rule == rule] == removed


@pytest.mark.parametrize("path", sorted((FIXTURES / "clean").glob("*.txt")), ids=lambda p: p.name[:2])
def test_clean_reports_lose_no_text(path):
    lines = normalize_lines(path.read_text(encoding="utf-8").split("\n"))
    out = reflow_lines(lines, Audit())
    squeeze = lambda text: re.sub(r"\s+", "", text)  # noqa: E731
    assert squeeze("".join(out)) == squeeze("".join(lines))
    # headings of the report stay on their own line
    assert [line for line in lines if re.match(r"^[一二三四五六七八九十]+、\S{2,30}$", line)] == \
        [line for line in out if re.match(r"^[一二三四五六七八九十]+、\S{2,30}$", line)]


def test_stage_reflows_each_draft_on_its_own():
    page = Page(drafts=[Draft(["前一篇的文字,到这里", "接着写完。"]), Draft(["后一篇的开头,没有结束"])])
    page = reflow_stage(page, CleanContext())
    assert [d.lines for d in page.drafts] == [["前一篇的文字,到这里接着写完。"], ["后一篇的开头,没有结束"]]


@pytest.mark.parametrize("line", ["全文完。第 3 页 共 4 页", "到此结束！第4页/共4页", "他说：“好。”第12页，共12页"])
def test_a_trailing_page_marker_needs_the_character_the_guard_looks_for(line):
    """`drop_page_markers` searches for a trailing marker only in lines holding 页."""
    assert TRAILING_PAGE_MARKER.search(line)
    assert not TRAILING_PAGE_MARKER.search(line.replace("页", ""))


def test_only_spaces_the_guard_looks_for_are_closed():
    """`close_cjk_spaces` looks for `CJK_SPACE` only in lines holding an ASCII or ideographic space."""
    closed = {ch for ch in map(chr, range(0x10000)) if CJK_SPACE.search("中" + ch + "国")}
    assert closed == {" ", "\u3000"}
