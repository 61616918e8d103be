"""HTML extraction on a real site page and on the layouts that trip extractors."""
from __future__ import annotations

import pytest

from cleaners.html_extract import extract_html, looks_like_html
from tests.conftest import FIXTURES

PAGE = (FIXTURES / "encodings" / "gongxun_000.utf8.html").read_text(encoding="utf-8")


def test_site_page_keeps_the_body_as_paragraph_lines():
    extracted = extract_html(PAGE)
    assert extracted.title_hint == "在示范区生态环境保护攻坚冲刺会上的讲话"
    assert extracted.host == "gongxun.example"
    assert "同志们:" in extracted.lines
    body = [line for line in extracted.lines if line.startswith(("一是严管扬尘污染源", "二是深挖工业污染源"))]
    assert len(body) == 2  # two paragraphs stay two lines


@pytest.mark.parametrize("furniture", [
    "首页", "当前位置：首页 > 讲话稿 > 生态环境", "分享到：微信 微博 QQ空间", "开通VIP会员，免费下载全站文档",
    "参与评论可获取积分奖励", "您可能关注的文档", "京ICP备12345678号-1", "客服QQ：800012345",
])
def test_site_page_furniture_is_removed_and_recorded(furniture):
    extracted = extract_html(PAGE)
    assert not any(furniture in line for line in extracted.lines)
    assert any(furniture in removal.text for removal in extracted.removed)


def test_scripts_and_styles_leave_no_text():
    extracted = extract_html(PAGE)
    assert not any("_hmt" in line or "color: red" in line for line in extracted.lines)


@pytest.mark.parametrize("html, lines", [
    ("<p>第一段<br>第二行</p><div>第三段</div>", ["第一段", "第二行", "第三段"]),
    ("<table><tr><td>单位</td><td>金额</td></tr></table><p>正文</p>", ["单位", "金额", "正文"]),
    ("<ul><li>一、总体要求</li><li>二、重点任务</li></ul>", ["一、总体要求", "二、重点任务"]),
    ("<p>文字<span>不</span>断行</p>", ["文字不断行"]),
    ("<!-- 注释 --><p>正文</p><script>alert(1)</script><style>p{}</style>", ["正文"]),
], ids=["br-and-blocks", "table-cells", "list-items", "inline-spans", "comments-scripts"])
def test_block_structure_becomes_lines(html, lines):
    assert extract_html(f"<html><body>{html}</body></html>").lines == lines


def test_a_form_wrapping_the_whole_page_is_layout_not_furniture():
    body = "".join(f"<p>第{i}段正文内容，这是文档的主体。</p>" for i in range(10))
    html = f"<html><body><form id='aspnetForm'><div class='sidebar'>推荐文档</div>{body}</form></body></html>"
    extracted = extract_html(html)
    assert len(extracted.lines) == 10
    assert "推荐文档" not in extracted.lines


@pytest.mark.parametrize("text, path, expected", [
    ("<!DOCTYPE html><html>", "a.txt", True),
    ("纯文本，没有标记。", "a.html", True),
    ("纯文本，<没有>标记。", "a.txt", False),
    ("<div class='x'>正文</div>", "", True),
    # markup far into a text file: read as HTML all the same, so that its cleaned (shorter) text is too
    ("纯文本，没有标记。\n" * 400 + "<p>同志们:</p>", "a.txt", True),
])
def test_html_is_recognised_by_suffix_or_markup(text, path, expected):
    assert looks_like_html(text, path) is expected
