"""Per-site counts of the distinct pages a line occurs on: counting, merging, and the Parquet round trip."""
from __future__ import annotations

import re
from collections import Counter

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from cleaners.site_evidence import TOTAL_KEY, SiteLineCounts, count_page_lines, line_key


@pytest.mark.parametrize("a, b", [
    ("第1页 / 共4页", "第 2 页/共 9 页"),  # numbers and spacing differ, the furniture is the same
    ("阅 166", "阅 2031"),
    ("Copyright © 2019", "copyright ©2024"),
    ("扫一扫  添加客服", "扫一扫添加客服"),
])
def test_line_key_folds_what_varies_between_pages(a, b):
    assert line_key(a) == line_key(b)


@pytest.mark.parametrize("a, b", [
    ("回到顶部", "返回顶部"),
    ("同志们：", "各位代表："),
])
def test_line_key_keeps_different_lines_apart(a, b):
    assert line_key(a) != line_key(b)


@pytest.mark.parametrize("line, key", [
    ("第 1 页\u3000共\xa04 页", "第0页共0页"),  # every kind of white space goes, as `\s` would take it
    ("A\tB\u2028C\x1cD", "abcd"),
    ("\u200b零宽", "\u200b零宽"),  # a zero-width space is not white space
    ("文" * 200, "文" * 120),
])
def test_line_key_is_the_squeezed_folded_line(line, key):
    assert line_key(line) == key == re.sub(r"\d+", "0", re.sub(r"\s+", "", line)).lower()[:120]


def test_a_page_counts_each_line_once_and_itself_once():
    counts = count_page_lines("site.example", ["回到顶部", "回到顶部", "正文第一句。", " "])
    assert counts["site.example"] == Counter({line_key("回到顶部"): 1, line_key("正文第一句。"): 1, TOTAL_KEY: 1})
    assert counts.pages("site.example") == 1


def test_pages_without_a_site_are_not_counted():
    assert count_page_lines(None, ["回到顶部"]) == {}


def test_long_lines_are_not_counted():
    counts = count_page_lines("s", ["长" * 400, "短行"])
    assert set(counts["s"]) == {line_key("短行"), TOTAL_KEY}


def test_merge_adds_pages_of_the_same_site_and_keeps_sites_apart():
    merged = SiteLineCounts()
    for site, lines in [("a", ["菜单", "正文一"]), ("a", ["菜单", "正文二"]), ("b", ["菜单"])]:
        merged.merge(count_page_lines(site, lines))
    assert merged["a"][line_key("菜单")] == 2
    assert merged["a"][line_key("正文一")] == 1
    assert merged.pages("a") == 2
    assert merged["b"][line_key("菜单")] == 1
    assert merged.pages("b") == 1
    assert merged.pages("c") == 0


def test_table_round_trip_through_parquet(tmp_path):
    counts = SiteLineCounts()
    counts.add_page("a", ["菜单", "页脚 ICP备"]).add_page("a", ["菜单"]).add_page("b", ["扫码关注"])
    path = tmp_path / "site_lines.parquet"
    pq.write_table(counts.to_table(), path)
    table = pq.read_table(path)
    assert table.column_names == ["site", "key", "pages"]
    assert SiteLineCounts.from_table(table) == counts


def test_from_table_adds_rows_of_the_same_key():
    first = count_page_lines("a", ["菜单"]).to_table()
    second = count_page_lines("a", ["菜单", "新栏目"]).to_table()
    both = SiteLineCounts.from_table(pa.concat_tables([first, second]))
    assert both["a"][line_key("菜单")] == 2
    assert both.pages("a") == 2


def _pages(site: str, pages: int, lines: dict[str, int]) -> list[pa.Table]:
    """The tables of `pages` pages of `site`, each committed by a batch of its own; line -> pages holding it."""
    return [count_page_lines(site, [line for line, on in lines.items() if n < on]).to_table() for n in range(pages)]


# (pages of the site, {line: pages holding it}, min_share, lines kept)
PRUNE_CASES = [
    (10, {"菜单": 8, "正文一": 1, "半数": 5, "四页": 4}, 0.5, {"菜单", "半数"}),  # floor 5
    (10, {"菜单": 8, "正文一": 1, "两页": 2}, 0.05, {"菜单", "两页"}),  # floor max(2, 0.5) = 2
    (2, {"菜单": 2, "正文一": 1}, 0.5, {"菜单"}),
    (3, {"菜单": 3, "正文一": 1}, 0.0, {"菜单", "正文一"}),  # no pruning
]


@pytest.mark.parametrize("pages, lines, min_share, kept", PRUNE_CASES)
def test_from_table_keeps_lines_on_a_share_of_their_sites_pages(pages, lines, min_share, kept):
    other = _pages("b", 40, {"菜单": 1})  # another site's share does not move site a's floor
    loaded = SiteLineCounts.from_table(pa.concat_tables(_pages("a", pages, lines) + other), min_share)
    assert set(loaded["a"]) - {TOTAL_KEY} == {line_key(line) for line in kept}
    assert loaded.pages("a") == pages and loaded.pages("b") == 40
    assert all(loaded["a"][line_key(line)] == lines[line] for line in kept)
