"""Site line evidence through the real flow: counted per batch, committed, and learned from by later runs."""
from __future__ import annotations

from pathlib import Path

import pyarrow.dataset as ds
import pytest

from cleaners.site_evidence import SiteLineCounts
from flows.clean_corpus import clean_corpus
from flows.site_state import SITE_LINES_STATE, load_site_lines
from flows.storage import OutputStore
from tests.conftest import FIXTURES

# Furniture no rule knows: a line this made-up site prints on every page.
FURNITURE = "本页面由示例公文库智能排版系统生成"
REPORT = (FIXTURES / "clean" / "06_gwr_provincial_2025_beijing.txt").read_text(encoding="utf-8")
# The line ends the page next to the body, where the strip stage asks for five pages and half the site.
NEW_PAGES = 5
PARAGRAPHS = [p.strip() for p in REPORT.split("\n") if len(p) > 60]


def _write_pages(raw: Path, first: int, count: int) -> None:
    folder = raw / "gongwenku"
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(first, first + count):
        body = "\n".join(PARAGRAPHS[n * 3:n * 3 + 3])
        (folder / f"page{n:02d}.txt").write_text(f"关于第{n}项工作的讲话\n{body}\n{FURNITURE}\n", encoding="utf-8")


def _texts(out: Path) -> dict[str, str]:
    table = ds.dataset(out / "documents", format="parquet", partitioning="hive").to_table()
    return dict(zip(table.column("source_path").to_pylist(), table.column("text").to_pylist()))


@pytest.mark.parametrize("first_run_pages", [0, 2])
def test_a_line_on_every_page_of_a_site_is_removed_once_the_site_has_enough_pages(prefect_harness, tmp_path,
                                                                                   first_run_pages):
    raw, out = tmp_path / "raw", tmp_path / "out"
    _write_pages(raw, 0, first_run_pages)
    if first_run_pages:
        clean_corpus(raw=str(raw), out=str(out))
        texts = _texts(out)
        assert all(FURNITURE in text for text in texts.values())  # two pages are not evidence yet
        assert load_site_lines(OutputStore(str(out))).pages("gongwenku") == first_run_pages
    _write_pages(raw, first_run_pages, NEW_PAGES)
    clean_corpus(raw=str(raw), out=str(out))

    texts = _texts(out)
    new_pages = [f"gongwenku/page{n:02d}.txt" for n in range(first_run_pages, first_run_pages + NEW_PAGES)]
    assert all(FURNITURE not in texts[page] for page in new_pages)
    assert all(PARAGRAPHS[int(page[-6:-4]) * 3] in texts[page] for page in new_pages)  # the body stays
    stored = SiteLineCounts.from_table(OutputStore(str(out)).read_state(SITE_LINES_STATE))
    assert stored.pages("gongwenku") == first_run_pages + NEW_PAGES
