"""The strip stage: chrome of every kind goes, body text stays, each removal is audited with its rule."""
from __future__ import annotations

import random
import re
from functools import lru_cache
from pathlib import Path
from re import _constants as sre_constants  # the parser `re` itself uses; public enough for a test
from re import _parser as sre_parse

import pytest

from cleaners.document import CleanContext, Page
from cleaners.normalize import normalize_lines
from cleaners.pipeline import clean_text
from cleaners.rules.chrome import KINDS, RULES
from cleaners.site_evidence import SiteLineCounts
from cleaners.strip import (CACHED_LINE_MAX, CJK_RE, CLAUSE_RULES, DOMAIN_RE, DOMAIN_WORDS, ELLIPSIS_RE, ELLIPSIS_WORDS,
                            END_WINDOW, LINE_BUCKETS, LINE_RULES, RUN_RULES, SPAN_INLINE, SPAN_RULES, _line_hit,
                            cjk_count, is_link_list, is_prose, line_cached, line_facts, repeated_watermarks,
                            required_words, strip_stage)
from cleaners.title import clean_title

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
SITES = sorted(p for p in (FIXTURES / "sites").iterdir() if p.is_dir())
CLEAN_REPORTS = sorted((FIXTURES / "clean").glob("*.txt"))

TITLE = "在全市安全生产工作会议上的讲话"
BODY = [
    "同志们：",
    "今天召开全市安全生产工作会议，主要任务是总结去年安全生产工作，分析当前形势，部署今年重点任务。",
    "去年以来，全市各级各部门认真贯彻落实上级决策部署，扎实开展安全生产专项整治，事故总量持续下降。",
    "一、提高政治站位，切实增强做好安全生产工作的责任感",
    "安全生产事关人民群众生命财产安全，事关改革发展稳定大局，必须坚持人民至上、生命至上，守牢安全底线。",
    "二、突出工作重点，全面推进安全生产治理体系现代化",
    "要聚焦重点行业领域，深入开展隐患排查治理，对发现的问题建立台账、限时整改，确保闭环管理到位。",
]


def strip_page(lines: list[str], ctx: CleanContext | None = None, site: str | None = "example", hint=None):
    page = Page.from_lines(normalize_lines(lines), site=site, title_hint=hint)
    page = strip_stage(page, ctx or CleanContext())
    draft = page.drafts[0]
    return draft.lines, [(r.text, r.rule) for r in draft.audit.removed]


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


# (case id, lines before the body, lines after it, the chrome text that must go, its rule label)
CHROME_CASES = [
    ("nav_desktop", ["添加某某网到电脑桌面"], [], "添加某某网到电脑桌面", "nav:desktop_shortcut"),
    ("nav_back_to_top", [], ["回到顶部"], "回到顶部", "nav:back_to_top"),
    ("nav_menu", ["首页 工作总结 工作计划 心得体会 述职报告"], [], "首页 工作总结 工作计划 心得体会 述职报告", "nav:menu_line"),
    ("nav_prev_next", [], ["上一篇：在全市防汛工作会议上的讲话"], "上一篇：在全市防汛工作会议上的讲话", "nav:prev_next"),
    ("nav_toolbar", ["【字体：大 中 小】【打印】【关闭】"], [], "【字体：大 中 小】【打印】【关闭】", "nav:toolbar"),
    ("breadcrumb", ["当前位置：首页 > 范文 > 讲话稿"], [], "当前位置：首页 > 范文 > 讲话稿", "breadcrumb:location"),
    ("nav_share_tail", ["2022年04月14日 来源：某某日报 分享到"], [], "2022年04月14日 来源：某某日报 分享到", "nav:share"),
    ("breadcrumb_path", ["首页 › 讲话稿 › 领导讲话"], [], "首页 › 讲话稿 › 领导讲话", "breadcrumb:home_path"),
    ("upload_meta", ["上传人：Ab****9 文档编号：1234567 上传时间：2023-05-01 格式：DOCX 页数：6 大小：21KB"], [],
     "上传人：Ab****9 文档编号：1234567", "upload_meta:fields"),
    ("upload_shared", ["《讲话稿.doc》由会员分享，可在线阅读，更多相关《讲话稿.doc》请在某某文库上搜索。"], [],
     "由会员分享", "upload_meta:shared_by_member"),
    ("page_marker_file", ["安全生产讲话.docx_第1页"], [], "安全生产讲话.docx_第1页", "page_marker:file_page"),
    ("page_marker_of", ["第2页 / 共9页"], [], "第2页 / 共9页", "page_marker:page_of"),
    ("page_marker_more", [], ["展开阅读全文"], "展开阅读全文", "page_marker:read_more"),
    ("page_marker_left", [], ["还剩5页未读，继续阅读"], "还剩5页未读，继续阅读", "page_marker:preview_left"),
    ("banner_vip", ["VIP会员"], [], "VIP会员", "banner:vip"),
    ("banner_app", ["打开APP阅读"], [], "打开APP阅读", "banner:vip"),
    ("page_marker_back", [], ["返回某某网，查看更多"], "返回某某网，查看更多", "page_marker:read_more"),
    ("disclaimer_statement", [], ["免责声明：本文内容仅代表作者个人观点，与本网无关。"],
     "免责声明：本文内容仅代表作者个人观点，与本网无关。", "disclaimer:site_terms"),
    ("related_news", [], ["相关新闻", "市政府召开全体会议", "全市防汛工作会议召开"], "全市防汛工作会议召开", "related_list:header"),
    ("banner_coupon", [], ["3下载券"], "3下载券", "banner:download"),
    ("contact_wechat", [], ["代写各类材料请加薇信：abc12345"], "代写各类材料请加薇信：abc12345", "contact:wechat"),
    ("contact_vx", [], ["VX：wenmi2024"], "VX：wenmi2024", "contact:wechat"),
    ("contact_qq", [], ["客服QQ：12345678"], "客服QQ：12345678", "contact:qq"),
    ("contact_hotline", [], ["投诉热线：400-123-4567"], "投诉热线：400-123-4567", "contact:hotline"),
    ("contact_email", [], ["邮箱：service@example.com"], "邮箱：service@example.com", "contact:email"),
    ("disclaimer", [], ["本站所有文档均由用户上传，仅供学习交流，如有侵权请联系删除。"],
     "本站所有文档均由用户上传，仅供学习交流，如有侵权请联系删除。", "disclaimer:site_terms"),
    ("disclaimer_block", [], ["1、当您付费下载文档后，您只拥有使用权限。", "2、所有内容均由网友提供，请自行判断。"],
     "2、所有内容均由网友提供，请自行判断。", "disclaimer:numbered_block"),
    ("related_header", [], ["热门文档", "学习心得体会范文", "支部会议记录范本", "述职报告模板"],
     "支部会议记录范本", "related_list:header"),
    ("related_dated", ["- 2024-08-28 08:57:57 学习研讨材料", "- 2024-08-07 09:23:21 支委会会议记录"], [],
     "- 2024-08-07 09:23:21 支委会会议记录", "related_list:dated_items"),
    ("related_counted", [], ["党课讲稿范文 (46)", "廉政谈话记录 (31)", "述职述廉报告 (12)"],
     "廉政谈话记录 (31)", "related_list:counted_titles"),
    ("related_trailing", [], ["刘某某：论基层治理的现代化路径", "张某某：新时代社区工作的几点思考", "王某某：城市更新中的群众工作方法"],
     "张某某：新时代社区工作的几点思考", "related_list:trailing_titles"),
    ("comment", [], ["发表评论", "请登录后发表评论"], "发表评论", "comment:box"),
    ("comment_forum", ["发表于 2024-3-5 10:20:33 | 只看该作者 | 倒序浏览"], [],
     "发表于 2024-3-5 10:20:33 | 只看该作者 | 倒序浏览", "comment:forum_post"),
    ("footer", [], ["Copyright © 2010-2024 某某网 版权所有 京ICP备12345678号"],
     "Copyright © 2010-2024 某某网 版权所有 京ICP备12345678号", "footer:icp_copyright"),
    ("footer_police", [], ["京公网安备 11010502030001号"], "京公网安备 11010502030001号", "footer:icp_copyright"),
    ("lead_in", ["下面是小编为大家整理的在全市安全生产工作会议上的讲话，供大家参考。"], [],
     "下面是小编为大家整理的在全市安全生产工作会议上的讲话，供大家参考。", "lead_in:editor_collected"),
    ("junk_script", [], ["var s = document.createElement('script');"], "var s = document.createElement('script');",
     "junk:script"),
    ("junk_rare_chars", [], ["龘靐齉爩麤灪鱻"], "龘靐齉爩麤灪鱻", "junk:rare_chars"),
    # kinds added in round 2: saved-page links, rankings, crawler meta, counters, service tails
    ("link_list", ["[首页](http://www.example.com/) / [范文](http://www.example.com/fw/) / [讲话稿](javascript:void(0))"], [],
     "[讲话稿](javascript:void(0))", "nav:link_list"),
    ("link_logo", ["[![img](files/logo.jpg)我的图书馆](http://www.example.com/login.aspx?reurl=1)"], [],
     "我的图书馆", "nav:link_list"),
    ("link_toolbar", [], ["[转藏到我的图书馆](javascript:void(0);)[献花（0）](javascript:void(0);)分享：[微信](javascript:void(0);)"],
     "献花", "nav:link_list"),
    ("ranking_header", [], ["下载该资料的人也在下载"], "下载该资料的人也在下载", "related_list:ranking_tail"),
    ("ranking_week", [], ["下载排行 本周"], "下载排行 本周", "related_list:ranking_tail"),
    ("file_listing", [], ["0.14 MB | 4次下载 | 免费 11.83 MB | 3次下载 | 2 积分"], "0.14 MB | 4次下载 | 免费",
     "related_list:file_listing"),
    ("crawl_meta", ["**Last Crawled**: 2025-02-21T17:02:00Z"], [], "**Last Crawled**: 2025-02-21T17:02:00Z", "junk:crawl_meta"),
    ("crawl_meta_cn", ["采集时间：2024-03-01 10:20"], [], "采集时间：2024-03-01 10:20", "junk:crawl_meta"),
    ("separator", [], ["---"], "---", "junk:separator"),
    ("front_matter", ["date: 2020-02-18 19:13:54", "tags: shell"], [], "tags: shell", "junk:front_matter"),
    ("service_tail", [], ["如有问题,请联系客服处理。"], "如有问题,请联系客服处理。", "disclaimer:site_terms"),
    ("visitors", [], ["已有 28335924 人来访过"], "已有 28335924 人来访过", "upload_meta:visitors"),
    ("read_time", ["3572字阅读11分54秒"], [], "3572字阅读11分54秒", "upload_meta:visitors"),
    ("blog_stats", [], ["博文: 14387"], "博文: 14387", "upload_meta:blog_stats"),
    ("breadcrumb_glued", ["首页基金理财" + TITLE], [], "首页基金理财" + TITLE, "breadcrumb:home_glued"),
    ("attachment", [], ["1.png (32.35 KB, 下载次数: 0)"], "1.png (32.35 KB, 下载次数: 0)", "upload_meta:attachment"),
    ("prev_next_one_line", [], ["上一篇：市政府召开全体会议 下一篇：全市防汛工作会议召开"], "下一篇：全市防汛工作会议召开", "nav:prev_next"),
    ("editor_trailer", [], ["责任编辑：张三 李四"], "责任编辑：张三 李四", "upload_meta:single_field"),
    ("action_words", [], ["收藏 | 分享 | 举报"], "收藏 | 分享 | 举报", "nav:action_words"),
    ("footer_links", [], ["网站地图 | 联系我们 | 法律声明"], "网站地图 | 联系我们 | 法律声明", "nav:action_words"),
    ("print_close", [], ["打印本页 关闭窗口"], "打印本页 关闭窗口", "nav:action_words"),
    ("font_size", ["A- A+"], [], "A- A+", "nav:font_size"),
    ("read_original", [], ["点击阅读原文"], "点击阅读原文", "nav:follow_prompt"),
    ("like_prompt", [], ["觉得不错，请点个在看"], "觉得不错，请点个在看", "nav:follow_prompt"),
    ("keywords", ["本文关键词：安全生产,讲话稿"], [], "本文关键词：安全生产,讲话稿", "upload_meta:keywords_field"),
    ("original_title", ["原标题：" + TITLE], [], "原标题：" + TITLE, "upload_meta:keywords_field"),
    ("image_credit", [], ["图片来源：视觉中国"], "图片来源：视觉中国", "upload_meta:image_credit"),
    ("views_wan", [], ["阅读 1.2万"], "阅读 1.2万", "upload_meta:counters"),
    ("page_number_dashes", [], ["- 1 -"], "- 1 -", "page_marker:page_number"),
    ("end_marker", [], ["- END -"], "- END -", "page_marker:end_marker"),
    ("download_full", [], ["下载完整版"], "下载完整版", "banner:download"),
    ("author_view", [], ["声明：本文内容由互联网用户自发贡献，该文观点仅代表作者本人。"],
     "声明：本文内容由互联网用户自发贡献，该文观点仅代表作者本人。", "disclaimer:site_terms"),
    ("comment_invite", [], ["我来说两句"], "我来说两句", "comment:box"),
    ("past_picks", [], ["往期推荐", "学习心得体会范文", "支部会议记录范本"], "支部会议记录范本", "related_list:header"),
    ("gambling_title", ["澳门威尼斯人娱乐城官网_最新网址登录"], [], "澳门威尼斯人娱乐城官网_最新网址登录",
     "seo_injection:gambling_brand"),
]


@pytest.mark.parametrize("before, after, chrome, rule", [c[1:] for c in CHROME_CASES], ids=[c[0] for c in CHROME_CASES])
def test_chrome_goes_and_body_stays(before, after, chrome, rule):
    kept, removed = strip_page(before + [TITLE] + BODY + after)
    assert kept == [TITLE] + BODY
    assert any(chrome in text and label == rule for text, label in removed), removed


# (case id, a body line with chrome inside it, what must be left, the rule label)
INLINE_CASES = [
    ("page_marker_glued", BODY[2] + "第 4 页 共 4 页", BODY[2], "page_marker:page_of"),
    ("truncation", BODY[4][:-1] + "...", BODY[4][:-1], "page_marker:truncation"),
    ("download_tail", BODY[2] + " 下载文档到电脑，查找使用更方便 2下载券 15人已下载", BODY[2], "page_marker:preview_left"),
    ("watermark_single", BODY[2][:10] + "文秘之窗—海量范文 www.wmzc.cn" + BODY[2][10:], BODY[2], "watermark_inline:brand_slogan_url"),
    ("ascii_junk_tail", BODY[4] + "aZ3kP9xQ2mW7", BODY[4], "junk:ascii_tail"),
    ("image_source", BODY[4][:20] + "(图片来源网络，侵删)" + BODY[4][20:], BODY[4], "disclaimer:image_source"),
    ("contact_clause", BODY[2] + "需要范文请加微信abc2024咨询。", BODY[2], "contact:wechat"),
    ("inline_fields", BODY[2] + " 文档格式:PDF | 页数:2 | 浏览次数:1 | " + BODY[4], BODY[2] + " " + BODY[4],
     "upload_meta:inline_fields"),
    ("repeated_preview", BODY[2][:30] + "... " + BODY[2], BODY[2], "page_marker:repeated_preview"),
    ("ranking_glued", BODY[2] + " 下载该资料的人也在下载 查看更多 下载排行 本周 0.14 MB | 4次下载 | 免费", BODY[2],
     "related_list:ranking_tail"),
    ("counted_links", BODY[4] + "(1727)次阅读|(10)个评论", BODY[4], "upload_meta:counted_links"),
    ("service_tail", BODY[2] + "如有问题,请联系客服处理。", BODY[2], "disclaimer:site_terms"),
    ("seo_brand_replaces_name", BODY[1][:12] + "美狮贵宾会" + BODY[1][12:], BODY[1], "seo_injection:gambling_brand"),
    ("seo_brand_bracketed", "【金沙网站】" + BODY[2], BODY[2], "seo_injection:gambling_brand"),
    ("seo_brand_with_code", BODY[4][:6] + "js333金沙线路" + BODY[4][6:], BODY[4], "seo_injection:gambling_brand"),
    ("seo_brand_casino", BODY[2][:8] + "威尼斯人娱乐城" + BODY[2][8:], BODY[2], "seo_injection:gambling_brand"),
    ("pinyin_gloss", "今(jin)天(tian)" + BODY[1][2:], BODY[1], "junk:pinyin_gloss"),
    ("pinyin_gloss_tone", BODY[2][:3] + "(yi3)" + BODY[2][3:], BODY[2], "junk:pinyin_gloss"),
    ("platform_suffix", BODY[2] + " - 知乎", BODY[2], "nav:platform_suffix"),
]


@pytest.mark.parametrize("line, left, rule", [c[1:] for c in INLINE_CASES], ids=[c[0] for c in INLINE_CASES])
def test_inline_chrome_is_cut_and_the_sentence_joined(line, left, rule):
    lines = [TITLE] + BODY[:2] + [line] + BODY[3:]
    kept, removed = strip_page(lines)
    assert left in kept
    assert len(kept) == len(lines)
    assert any(label == rule for _, label in removed), removed


def test_repeated_inline_watermark_of_an_unknown_brand_is_cut_everywhere():
    mark = "范文天地—每日更新海量精品 www.fwtd.net"
    lines = [TITLE, BODY[0],
             BODY[1][:12] + mark + BODY[1][12:],
             BODY[2][:20] + mark + BODY[2][20:],
             mark + BODY[4]]
    assert repeated_watermarks(lines) == [mark]
    kept, removed = strip_page(lines)
    assert kept == [TITLE, BODY[0], BODY[1], BODY[2], BODY[4]]
    assert [r for _, r in removed].count("watermark_inline:repeated_domain") == 3


# Lines that look like chrome to a careless rule but belong to the document.
BODY_LOOKALIKES = [
    "会议要求，各单位要在月底前上报联系电话和安全生产责任人名单，确保信息准确。",
    "他说，只要继续阅读文件、学习政策，就能把握工作方向，这是大家的共同体会。",
    "各地要加强网络版权保护，依法打击侵权盗版行为，维护创作者合法权益。",
    "来源：市应急管理局",
    "该公司各种注册和资质手续均齐备，且网站也有ICP备案，注册资金为两千万元。",
    "首先请市委书记讲话。",
    "一、目标要高点定位",
    "2024年5月6日",
    # gambling stems and words that are ordinary text on their own
    "加强金沙江流域生态保护，深化与澳门特别行政区合作，福利彩票公益金全部用于社会福利事业。",
    "银河系观测平台建成投用，真人秀节目规范管理，澳门博彩业收入回落。",
    # parentheses after Chinese text that are units or abbreviations, not pinyin glosses
    "全市新增装机容量120万千瓦(kW)，年发电量达到35亿千瓦时(kWh)，单位能耗下降(3%)。",
    # a notice's own contact request, not a site's customer service
    "如有疑问，请及时与市应急管理局联系，联系电话将另行通知。",
    # an ellipsis that is not followed by the same text
    "会议强调，要把安全生产放在首位……各单位要结合实际抓好落实。",
    "首页设计方案经过专家评审，已正式上线运行。",
    "关键词：安全生产；风险防控；责任落实",  # a paper's keywords inside the body are the paper's
    # a link inside the body is the document's reference, not a saved page's furniture
    "参考：[国务院关于安全生产的意见](http://www.gov.cn/zhengce/content/2024-03/12/content_1.htm)",
]


@pytest.mark.parametrize("line", BODY_LOOKALIKES)
def test_body_lines_that_resemble_chrome_stay(line):
    lines = [TITLE] + BODY[:3] + [line] + BODY[3:]
    kept, removed = strip_page(lines)
    assert kept == lines, removed


@pytest.mark.parametrize("line, expected", [
    ("[首页](http://www.example.com/) / [范文](http://www.example.com/fw/)", True),
    ("[![img](files/logo.jpg)](http://www.example.com/index.html)", True),
    ("来自： [政研笔记](http://www.example.com/u/1) > [《工作报告》](http://www.example.com/u/1?cid=9)", True),
    ("[全屏](javascript:void(0))[打印](javascript:void(0))", True),
    ("https://www.example.com/article/12345.html", True),
    (BODY[1] + "详见[通知原文](http://www.example.gov.cn/tz/1.html)。", False),
    ("参考：https://blog.example.net/u/1/article/details/53437000对于彩色图像，需要采集多种最基本的颜色，如rgb三种颜色。", False),
    (BODY[2], False),
])
def test_link_density_tells_link_lists_from_text_with_a_link(line, expected):
    assert is_link_list(line) is expected


def test_truncated_preview_on_the_line_before_its_full_text_goes():
    preview = BODY[1][:30] + "..."
    kept, removed = strip_page([TITLE, BODY[0], preview] + BODY[1:])
    assert kept == [TITLE] + BODY
    assert (preview, "page_marker:repeated_preview") in removed


def test_repeated_page_title_inside_the_body_stays_for_the_split_stage():
    lines = [TITLE] + BODY + [TITLE] + BODY[1:3] + [TITLE] + BODY[4:]
    kept, _ = strip_page(lines)
    assert kept == lines


def test_weak_rule_acts_outside_the_body_only():
    menu = "首页 政策 解读 服务 互动"
    lines = [menu, TITLE] + BODY[:4] + [menu] + BODY[4:]
    kept, removed = strip_page(lines)
    assert kept == [TITLE] + BODY[:4] + [menu] + BODY[4:]
    assert removed == [(menu, "nav:menu_line")]


def test_line_stranded_between_removed_lines_outside_the_body_goes():
    kept, removed = strip_page([TITLE] + BODY + ["发表评论", "笔墨飘香", "实名认证"])
    assert kept == [TITLE] + BODY
    assert ("笔墨飘香", "position:island") in removed


def test_site_evidence_removes_recurring_lines_no_rule_knows():
    sidebar = "本周精选栏目推荐"
    counts = SiteLineCounts()
    for index in range(8):
        counts.add_page("example", [sidebar, f"第{index}篇的正文内容各不相同，这里是其中一句话。"])
    kept, removed = strip_page([TITLE] + BODY + [sidebar], CleanContext(site_lines=counts))
    assert kept == [TITLE] + BODY
    assert removed == [(sidebar, "evidence:site_recurring")]
    other_site, _ = strip_page([TITLE] + BODY + [sidebar], CleanContext(site_lines=counts), site="elsewhere")
    assert other_site[-1] == sidebar


def test_site_evidence_never_takes_body_structure_or_rare_prose():
    counts = SiteLineCounts()
    for _ in range(8):
        counts.add_page("example", ["同志们：", BODY[1]])
    for _ in range(20):
        counts.add_page("example", ["另一篇文档"])
    kept, _ = strip_page([TITLE] + BODY, CleanContext(site_lines=counts))
    assert kept == [TITLE] + BODY


def test_rule_pack_is_data_of_known_kinds_and_unique_names():
    assert {rule.kind for rule in RULES} == set(KINDS)
    labels = [rule.label for rule in RULES]
    assert len(labels) == len(set(labels))
    for rule in RULES:
        re.compile(rule.pattern)
        assert rule.scope in ("line", "span", "tail", "clause", "block", "run")


@pytest.mark.parametrize("report", CLEAN_REPORTS, ids=lambda p: p.name[:2])
def test_clean_reports_lose_no_line_to_strip(report):
    lines = normalize_lines(report.read_text(encoding="utf-8").split("\n"))
    kept, removed = strip_page(lines, site="clean")
    assert removed == []
    assert kept == lines


def test_clean_reports_lose_only_their_shared_trailer_to_evidence_of_one_site():
    """Ten reports counted as one site share salutations, headings and stock sentences: those stay.
    What recurs and goes is the Wikisource licence notice after the last paragraph of the five
    Wikisource copies, which is the site's, not the report's."""
    pages = [normalize_lines(report.read_text(encoding="utf-8").split("\n")) for report in CLEAN_REPORTS]
    counts = SiteLineCounts()
    for lines in pages:
        counts.add_page("reports", lines)
    for lines in pages:
        kept, removed = strip_page(lines, CleanContext(site_lines=counts), site="reports")
        last_paragraph = max(i for i, line in enumerate(lines) if len(line) >= 100)
        assert kept[:last_paragraph + 1] == lines[:last_paragraph + 1]
        assert {rule for _, rule in removed} <= {"evidence:site_recurring"}


@pytest.mark.parametrize("report", CLEAN_REPORTS, ids=lambda p: p.name[:2])
def test_clean_reports_keep_every_line_through_the_pipeline(report):
    text = report.read_text(encoding="utf-8")
    page = clean_text(text, f"clean/{report.name}")
    output = squeeze("".join((d.title or "") + "".join(d.lines) for d in page.drafts))
    missing = [line for line in normalize_lines(text.split("\n")) if squeeze(clean_title(line)) not in output]
    assert missing == []


def test_is_prose_tells_running_text_from_furniture():
    assert is_prose(BODY[1])
    assert not is_prose("请 登录 后使用快捷导航 没有帐号？立即注册")
    assert not is_prose(TITLE)


@pytest.mark.parametrize("site", SITES, ids=lambda p: p.name)
def test_site_fixture_comes_out_as_expected(site):
    page_file = next(site.glob("input.*"))
    expected = (site / "expected.txt").read_text(encoding="utf-8")
    title = (site / "title.txt").read_text(encoding="utf-8").strip()
    page = clean_text(page_file.read_text(encoding="utf-8"), f"{site.name}/{page_file.name}")
    assert len(page.drafts) == 1
    draft = page.drafts[0]
    assert draft.title == title
    assert squeeze("".join(draft.lines)) == squeeze(expected)
    assert all(removal.rule for removal in draft.audit.removed)


# --- pre-checks: a rule is skipped on a line only where it cannot match ------------------------------

# (pattern, flags, the words one of which every match holds; None: none can be told)
REQUIRED_WORDS_CASES = [
    (r"abc", 0, {"abc"}),
    (r"(?:添加|加入).{0,12}到(?:电脑)?桌面", 0, {"到桌面", "到电脑桌面"}),  # the longer run of literals wins
    (r"\.{3,6}", 0, {"..."}),  # a repeat holds its least number of copies in a row
    (r"…{1,2}", 0, {"…"}),  # "……" holds "…": the longer word is dropped
    (r"a?b", 0, {"b"}),  # an optional item adds nothing that must be there
    (r"[Vv]信", 0, {"V信", "v信"}),  # a small character class expands
    (r"[A-Za-z]{3}\d", 0, None),  # a large one does not
    (r"\d+|\s", 0, None),
    (r"x|\d", 0, None),  # one branch without words: the pattern has none
    (r"x|y\d", 0, {"x", "y"}),
    (r"^(?:首页|主页)$", 0, {"首页", "主页"}),  # anchors are zero-width
    (r"(?<=中)文(?!字)", 0, {"文"}),  # what lookarounds look at is not in the match
    (r"[^a]b", 0, {"b"}),
    (r"(?i:abc)d", 0, {"d"}),  # a cased letter under IGNORECASE is not a word: "ABC" matches too
    (r"\.com", re.IGNORECASE, {"."}),
    (r"(?i:ab)(?-i:cd)", 0, {"cd"}),
    (r"(?:ab){0,2}", 0, None),
]


@pytest.mark.parametrize("pattern, flags, words", REQUIRED_WORDS_CASES, ids=[c[0] for c in REQUIRED_WORDS_CASES])
def test_required_words_are_what_every_match_holds(pattern, flags, words):
    assert required_words(re.compile(pattern, flags)) == words


POOL = ("中文的一是在不了有人这上为个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后多定行学法所丁七万丈三"
        "abcxyzABCXYZ0123456789 \t\u3000.,:;!?()[]{}<>|/-_+=*#@&%$~\"'，。：；！？、（）【】《》“”…—·•")


def _in_class(char: str, items: list) -> bool:
    categories = {sre_constants.CATEGORY_DIGIT: str.isdecimal, sre_constants.CATEGORY_SPACE: str.isspace,
                  sre_constants.CATEGORY_WORD: lambda c: c.isalnum() or c == "_",
                  sre_constants.CATEGORY_NOT_DIGIT: lambda c: not c.isdecimal(),
                  sre_constants.CATEGORY_NOT_SPACE: lambda c: not c.isspace(),
                  sre_constants.CATEGORY_NOT_WORD: lambda c: not (c.isalnum() or c == "_")}
    negate = bool(items) and items[0][0] is sre_constants.NEGATE
    found = False
    for op, arg in items[negate:]:
        if op is sre_constants.LITERAL:
            found |= char == chr(arg)
        elif op is sre_constants.RANGE:
            found |= arg[0] <= ord(char) <= arg[1]
        elif op is sre_constants.CATEGORY:
            found |= categories[arg](char)
    return found != negate


def _sample(items, rng: random.Random, members: dict[int, list[str]]) -> str:
    """A random text the parse items may match (lookarounds are ignored: callers keep what does match).
    `members` remembers the pool characters of each character class met."""
    out = []
    for op, arg in items:
        if op is sre_constants.LITERAL:
            out.append(chr(arg))
        elif op in (sre_constants.NOT_LITERAL, sre_constants.ANY, sre_constants.IN):
            if id(arg) not in members:
                items_in = arg if op is sre_constants.IN else [(sre_constants.NEGATE, None), (op, arg)]
                if op is sre_constants.ANY:
                    items_in = [(sre_constants.NEGATE, None)]
                elif op is sre_constants.NOT_LITERAL:
                    items_in = [(sre_constants.NEGATE, None), (sre_constants.LITERAL, arg)]
                members[id(arg)] = [c for c in POOL if _in_class(c, items_in)] or [""]
            literals = [chr(a) for kind, a in arg if kind is sre_constants.LITERAL] if op is sre_constants.IN else []
            if literals and arg[0][0] is not sre_constants.NEGATE and rng.random() < 0.5:
                out.append(rng.choice(literals))
            else:
                out.append(rng.choice(members[id(arg)]))
        elif op is sre_constants.BRANCH:
            out.append(_sample(rng.choice(arg[1]), rng, members))
        elif op is sre_constants.SUBPATTERN:
            out.append(_sample(arg[-1], rng, members))
        elif op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            low, high, sub = arg
            out.extend(_sample(sub, rng, members) for _ in range(rng.randint(low, min(high, low + 3))))
    return "".join(out)


@lru_cache(maxsize=None)
def generated_texts(pattern: re.Pattern, count: int = 300) -> list[str]:
    """Texts drawn from the pattern's parse tree, some inside other text, that the pattern does match."""
    rng = random.Random(pattern.pattern)
    tree = sre_parse.parse(pattern.pattern, pattern.flags)
    members: dict[int, list[str]] = {}
    texts = []
    for i in range(count):
        core = _sample(tree, rng, members)
        if pattern.flags & re.IGNORECASE and i % 2:
            core = core.swapcase()
        before = "".join(rng.choice(POOL) for _ in range(rng.randint(0, 3) * (i % 3 == 1)))
        after = "".join(rng.choice(POOL) for _ in range(rng.randint(0, 3) * (i % 3 == 2)))
        text = before + core + after
        if pattern.search(text):
            texts.append(text)
    return texts


def fixture_lines() -> list[str]:
    """The lines of the fixture pages (chrome of many kinds and body text) and of this file's cases."""
    lines = [line for case in CHROME_CASES for line in case[1] + case[2]] + [c[1] for c in INLINE_CASES]
    lines += BODY + BODY_LOOKALIKES
    for path in sorted(FIXTURES.glob("sites/*/input.*")) + sorted(FIXTURES.glob("web/*")) + CLEAN_REPORTS:
        lines += normalize_lines(path.read_text(encoding="utf-8").split("\n"))
    return list(dict.fromkeys(line for line in lines if line))


FIXTURE_LINES = fixture_lines()
ALL_RULES = LINE_RULES + RUN_RULES + SPAN_RULES + CLAUSE_RULES


@pytest.mark.parametrize("compiled", ALL_RULES, ids=[c.rule.label for c in ALL_RULES])
def test_every_match_of_a_rule_holds_one_of_its_derived_words(compiled):
    texts = generated_texts(compiled.regex)
    assert len(texts) >= 20 or compiled.words is None, "the sampler should reach most rules"
    for text in texts + [line for line in FIXTURE_LINES if compiled.regex.search(line)]:
        match = compiled.regex.search(text)
        assert compiled.words is None or any(word in match.group() for word in compiled.words), text


@pytest.mark.parametrize("pattern, words", [(DOMAIN_RE, DOMAIN_WORDS), (ELLIPSIS_RE, ELLIPSIS_WORDS)],
                         ids=["domain", "ellipsis"])
def test_a_words_check_finds_something_wherever_its_pattern_does(pattern, words):
    for text in generated_texts(pattern) + FIXTURE_LINES:
        assert words.search(text) or not pattern.search(text), text


def test_line_rule_pre_checks_never_hide_the_first_rule_that_matches():
    """`_line_hit` (pre-checks, then the rules whose words are there) finds what trying every rule finds."""
    lines = FIXTURE_LINES + [text for c in LINE_RULES for text in generated_texts(c.regex)]
    for line in lines:
        rules = next((rules for limit, _, rules in LINE_BUCKETS if len(line) <= limit), [])
        assert _line_hit(line) is next((c for c in rules if c.regex.search(line)), None), line


def test_span_rules_without_needed_words_are_skipped_only_where_none_matches_the_line_end():
    plain = [c for c in SPAN_RULES if not c.needs]
    for line in FIXTURE_LINES + [BODY[2] + text for c in plain for text in generated_texts(c.regex)]:
        tail = max(0, len(line) - END_WINDOW)
        if any(c.regex.search(line, tail) for c in plain):
            assert SPAN_INLINE.any_tail.search(line, tail), line


@pytest.mark.parametrize("text", ["", "abc", "中文", "第1页，共 4 页。", "ｶﾀｶﾅ与汉字〇", "\u3400\u4dff\u4e00\u9fff\ua000",
                                  BODY[1] * 5])
def test_cjk_count_counts_what_the_cjk_class_matches(text):
    assert cjk_count(text) == len(CJK_RE.findall(text))


def test_line_cache_holds_no_line_longer_than_its_bound():
    calls = []

    @line_cached
    def length(line: str) -> int:
        calls.append(line)
        return len(line)

    short, long = "短" * CACHED_LINE_MAX, "长" * (CACHED_LINE_MAX + 1)
    assert [length(short), length(short), length(long), length(long)] == [len(short)] * 2 + [len(long)] * 2
    assert calls == [short, long, long]  # the short line was remembered, the long one computed each time


def test_a_page_title_of_rare_character_noise_is_no_title():
    """A <title> of anti-scraping noise must not protect the same noise where the text repeats it."""
    noise = "婓尨毓⑹汜怓遠噫悵誘馴澄喳棧頗奻腔蔡趕VIP蚳砅"
    page = Page.from_lines(normalize_lines([BODY[0], noise, *BODY[1:]]), site="example", title_hint=noise)
    page = strip_stage(page, CleanContext())
    assert page.title_hint is None
    assert noise not in page.drafts[0].lines
    assert (noise, "junk:rare_chars") in [(r.text, r.rule) for r in page.drafts[0].audit.removed]


@pytest.mark.parametrize("line, claims, prose, title, structure, link_list, rare_junk", [
    ("在全市生态环境保护问题整改推进会上的讲话", False, False, "在全市生态环境保护问题整改推进会上的讲话", False, False, False),
    ("同志们：", False, False, None, True, False, False),
    ("今天，我们召开全市生态环境保护问题整改推进会，既是贯彻落实生态文明思想的具体行动，也是对当前问题的一次全面检视。",
     False, True, None, False, False, False),
    ("[首页](https://a.example.com/) [范文](https://a.example.com/fw/) [讲话](https://a.example.com/jh/)",
     True, False, None, False, True, False),
    ("Copyright © 2018-2026 某某文库 版权所有 京ICP备12345678号", True, False,
     "Copyright©2018-2026某某文库版权所有京ICP备12345678号", False, False, False),  # title-like: a rule still claims it
    ("龘靐齉齾爩鱻麤龗灪吁", True, False, "龘靐齉齾爩鱻麤龗灪吁", False, False, True),
], ids=["title", "salutation", "prose", "link-list", "icp-footer", "rare-junk"])
def test_a_lines_facts_say_what_the_stage_asks_of_its_text(line, claims, prose, title, structure, link_list,
                                                          rare_junk):
    facts = line_facts(line)
    assert (facts.claims, facts.prose, facts.structure, facts.link_list, facts.rare_junk) == (
        claims, prose, structure, link_list, rare_junk)
    assert (facts.title is None) is (title is None) and (title is None or facts.title == title)
    assert (facts.hit is not None) is (claims and not link_list and not rare_junk)
