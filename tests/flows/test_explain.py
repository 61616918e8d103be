"""`corpus-clean explain`: real pages through the real pipeline, and the page-order annotation, case by case."""
from __future__ import annotations

import re
from collections import Counter

import pytest

from cleaners.decode import decode_bytes
from cleaners.document import Removal
from cleaners.pipeline import clean_bytes, clean_text
from flows.cli import main
from flows.explain import (JOINED, UNRECORDED, Explanation, annotate, explain_bytes, normalised_lines,
                           printable, render, source_path_of)
from tests.conftest import RAW_SAMPLE

# One page per seed and style (the other encodings of the same pages are the decoder's business).
REAL_PAGES = sorted([*(RAW_SAMPLE / "2026-11-20").glob("*.txt"), RAW_SAMPLE / "2026-11-22" / "gongxun_000.html",
                     RAW_SAMPLE / "2026-11-21" / "tw_speech.big5.txt"])
BODY = "今天我们召开全市安全生产工作会议,主要任务是总结工作、分析形势、部署任务。"
BODY2 = "各地区各部门要切实增强责任感和紧迫感,扎实做好各项工作。"


def _plain(original, documents, removals=(), repairs=None, titles=None) -> list[str]:
    """The plain rendering of an annotation, without the header and legend lines."""
    explanation = Explanation("site/page.txt", titles=titles or [None] * len(documents),
                              annotated=annotate(original, documents, list(removals), Counter(repairs or {})),
                              repairs=Counter(repairs or {}))
    return render(explanation, color=False).splitlines()[2:]


# (what the case shows, page lines, cleaned documents, recorded removals, recorded repairs, expected output)
CASES = [
    ("header chrome removed by a rule",
     ["首页 文档 登录", BODY, BODY2], [[BODY, BODY2]], [Removal("首页 文档 登录", "nav")], {},
     ["- 首页 文档 登录  ‹nav›", "══ document 1: (untitled) ══", f"  {BODY}", f"  {BODY2}"]),
    ("a block removal covers each of its lines",
     [BODY, "热门文档", "工作总结范文", "述职报告范文"], [[BODY]], [Removal("热门文档\n工作总结范文\n述职报告范文", "related_list")], {},
     ["══ document 1: (untitled) ══", f"  {BODY}", "- 热门文档  ‹related_list›", "- 工作总结范文  ‹related_list›",
      "- 述职报告范文  ‹related_list›"]),
    ("inline watermark cut out of a sentence",
     ["今天我们召开秘书之家—全网资源每日更新 www.mishuzj.com全市会议。"], [["今天我们召开全市会议。"]],
     [Removal("秘书之家—全网资源每日更新 www.mishuzj.com", "watermark_inline")], {},
     ["══ document 1: (untitled) ══",
      "~ 今天我们召开[-秘书之家—全网资源每日更新 www.mishuzj.com-]‹watermark_inline›全市会议。"]),
    ("line broken inside a sentence joined again",
     ["今天我们召开全市", "安全生产工作会议。"], [["今天我们召开全市安全生产工作会议。"]], [], {},
     ["══ document 1: (untitled) ══", f"~ 今天我们召开全市[-⏎-]‹{JOINED}›安全生产工作会议。"]),
    ("glyph repaired",
     ["认真分枂当前形势。"], [["认真分析当前形势。"]], [], {("枂", "析"): 1},
     ["══ document 1: (untitled) ══", "~ 认真分{枂→析}当前形势。", "repairs: 枂→析×1"]),
    ("a line gone that no stage recorded",
     [BODY, "乙方联系电话。"], [[BODY]], [], {},
     ["══ document 1: (untitled) ══", f"  {BODY}", f"- 乙方联系电话。  ‹{UNRECORDED}›"]),
    ("one page split into two documents, each title taken out",
     ["讲话一", BODY, "讲话二", BODY2], [[BODY], [BODY2]],
     [Removal("讲话一", "title:repeat"), Removal("讲话二", "title:repeat")], {},
     ["- 讲话一  ‹title:repeat›", "══ document 1: 讲话一 ══", f"  {BODY}", "- 讲话二  ‹title:repeat›",
      "══ document 2: 讲话二 ══", f"  {BODY2}"]),
    ("markup removed before the text had lines is listed after the page",
     [BODY], [[BODY]], [Removal("分享到 微信 微博", "html:furniture")], {},
     ["══ document 1: (untitled) ══", f"  {BODY}",
      "removed before the text was cut into lines (markup) or not located:", "- 分享到 微信 微博  ‹html:furniture›"]),
    ("a line recorded after a glyph repair is still found with its rule",
     ["在縣政府會議上的講話", BODY], [[BODY]], [Removal("在繁政府有議上的講話", "title:repeat")], {},
     ["- 在縣政府會議上的講話  ‹title:repeat›", "══ document 1: 在繁政府有議上的講話 ══", f"  {BODY}"]),
    ("control characters in a hostile page are shown, not sent to the terminal",
     ["\x1b[2J清屏", BODY], [[BODY]], [Removal("\x1b[2J清屏", "junk")], {},
     ["- \\x1b[2J清屏  ‹junk›", "══ document 1: (untitled) ══", f"  {BODY}"]),
]


@pytest.mark.parametrize("original, documents, removals, repairs, expected",
                         [case[1:] for case in CASES], ids=[case[0] for case in CASES])
def test_annotation_in_page_order(original, documents, removals, repairs, expected):
    titles = [r.text for r in removals if r.rule == "title:repeat"] or [None] * len(documents)
    assert _plain(original, documents, removals, repairs, titles) == expected


def _after_view(explanation: Explanation) -> list[list[str]]:
    """The cleaned documents as the annotation shows them: kept, added and repaired text."""
    documents: list[list[str]] = [[] for _ in explanation.titles]
    for line in explanation.annotated.lines:
        if line.document is not None:
            documents[line.document].append("".join(s.text for s in line.spans if s.kind != "removed"))
    return documents


def _before_view(explanation: Explanation) -> str:
    """The page as the annotation shows it: kept, removed and the old side of repairs."""
    pieces = []
    for line in explanation.annotated.lines:
        for span in line.spans:
            pieces.append(span.rule if span.kind == "repaired" else "" if span.kind == "added" else span.text)
    return re.sub(r"\s+", "", "".join(pieces))


@pytest.mark.parametrize("path", REAL_PAGES, ids=[p.name for p in REAL_PAGES])
def test_explain_shows_a_real_page_whole_with_every_removal_and_the_documents_exactly(path):
    raw = path.read_bytes()
    source_path = source_path_of(path, RAW_SAMPLE)
    explanation = explain_bytes(raw, source_path)
    outcome = clean_bytes(raw, source_path)  # what a run stores for this file
    assert [doc.text.split("\n") for doc in outcome.docs] == [lines for lines in _after_view(explanation) if lines]
    original, _ = normalised_lines(decode_bytes(raw).text, source_path)
    assert _before_view(explanation) == re.sub(r"\s+", "", "".join(original))
    output = render(explanation, color=False)
    shown_rules = {rule for marks in re.findall(r"‹([^›]*)›", output) for rule in marks.split(" + ")}
    for doc in outcome.docs:
        for removal in doc.removed:
            assert removal.rule in shown_rules
            for line in removal.text.split("\n"):
                assert printable(line.strip()) in output, (removal.rule, line)
    assert "\x1b" not in output


def test_colour_marks_removals_on_a_terminal_and_nowhere_else():
    explanation = Explanation("site/page.txt", titles=[None],
                              annotated=annotate(["首页 登录", BODY], [[BODY]], [Removal("首页 登录", "nav")]))
    coloured, plain = render(explanation, color=True), render(explanation, color=False)
    assert "\x1b[9m首页 登录" in coloured and "‹nav›" in coloured
    assert "\x1b" not in plain and "- 首页 登录  ‹nav›" in plain


def test_explain_of_an_undecodable_file_gives_its_quarantine_reason():
    explanation = explain_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "site/scan.txt")
    assert explanation.quarantine_reason
    assert f"quarantined: {explanation.quarantine_reason}" in render(explanation)


@pytest.mark.parametrize("flags", [[], ["--no-color"]])
def test_cli_explain_prints_plain_text_when_not_on_a_terminal(flags, capsys):
    page = RAW_SAMPLE / "2026-11-22" / "gongxun_000.html"
    assert main(["explain", str(page), "--raw", str(RAW_SAMPLE), *flags]) == 0
    output = capsys.readouterr().out
    rules = {r.rule for d in clean_text(decode_bytes(page.read_bytes()).text, "2026-11-22/gongxun_000.html").drafts
             for r in d.audit.removed}
    assert output.startswith("2026-11-22/gongxun_000.html")
    shown_rules = {rule for marks in re.findall(r"‹([^›]*)›", output) for rule in marks.split(" + ")}
    assert rules and rules <= shown_rules
    assert "\x1b" not in output


def test_cli_explain_of_a_missing_file_says_so(tmp_path, capsys):
    assert main(["explain", str(tmp_path / "absent.txt")]) == 2
    assert "no such file" in capsys.readouterr().err


@pytest.mark.parametrize("relative, raw_root, expected", [
    ("siteA/2026-11-20/page.txt", "", "siteA/2026-11-20/page.txt"),  # inside the raw folder: as a run records it
    ("elsewhere/page.txt", "raw", "elsewhere/page.txt"),  # outside: its folder and name
])
def test_source_path_is_the_one_a_run_would_record(tmp_path, relative, raw_root, expected):
    path = tmp_path / relative
    path.parent.mkdir(parents=True)
    path.write_text(BODY)
    assert source_path_of(path, tmp_path / raw_root if raw_root else tmp_path) == expected
