"""The HTML report, built from a dataset the real flow wrote, read back and opened in a real browser."""
from __future__ import annotations

import shutil
import struct
import zlib
from collections import Counter
from pathlib import Path

import pyarrow.dataset as ds
import pytest
from bs4 import BeautifulSoup

from flows.report import (NO_SITE, SiteLine, bar_chart, column_chart, repair_kind, stacked_bar_chart,
                          write_report)
from tests.conftest import RAW_SAMPLE

SEEDS = RAW_SAMPLE / "2026-11-20"
# A page whose text is markup and script: the report must show it as text, never run or load it.
HOSTILE_PAGE = (
    "<script>alert('title')</script>关于开展安全生产大检查的通知\n"
    "各单位:<img src=x onerror=alert(1)>为切实做好安全生产工作,现将有关事项通知如下。\n"
    "一、检查范围为全市所有生产经营单位。\"><svg onload=alert(2)>\n"
    "二、各单位要高度重视,认真组织自查自纠,确保检查取得实效。<a href=\"https://evil.example/\">详情</a>\n"
)
# Raw folder of the fixture run: site folders as a crawler lays them out, a binary upload, a hostile page.
RAW_LAYOUT = {
    "siteA/000.txt": SEEDS / "000_50c214c9408719a2.txt",
    "siteA/001.txt": SEEDS / "001_2ac8868da414affe.txt",
    "siteB/002.txt": SEEDS / "002_fbfe30452411cec1.txt",
    "siteB/003.txt": SEEDS / "003_9847263fc28bd103.txt",
    "siteB/scan_upload.txt": RAW_SAMPLE / "2026-11-22" / "scan_upload.txt",
    "gongxun_000.html": RAW_SAMPLE / "2026-11-22" / "gongxun_000.html",
}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory, prefect_harness):
    """Two real runs of the flow over the fixture pages (the second finds nothing new), then the report."""
    from flows.clean_corpus import clean_corpus

    root = tmp_path_factory.mktemp("report")
    raw, out = root / "raw", root / "out"
    for name, source in RAW_LAYOUT.items():
        (raw / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, raw / name)
    (raw / "siteC").mkdir()
    (raw / "siteC" / "hostile.txt").write_text(HOSTILE_PAGE, encoding="utf-8")
    first = clean_corpus(raw=str(raw), out=str(out))
    second = clean_corpus(raw=str(raw), out=str(out))
    report = write_report(str(out), root / "report.html", raw_root=raw, samples=10)
    docs = ds.dataset(out / "documents", format="parquet").to_table().to_pylist()
    quarantine = ds.dataset(out / "quarantine", format="parquet").to_table().to_pylist()
    return {"raw": raw, "out": out, "report": report, "runs": [first, second], "docs": docs,
            "quarantine": quarantine, "soup": BeautifulSoup(report.read_text(encoding="utf-8"), "lxml")}


def _section(soup: BeautifulSoup, anchor: str):
    section = soup.find("section", id=anchor)
    assert section is not None, f"report has no section #{anchor}"
    return section


def _chart(soup: BeautifulSoup, title: str):
    svg = soup.find("svg", attrs={"aria-label": title})
    assert svg is not None, f"report has no chart {title!r}"
    return svg


def _bar_labels(svg) -> list[str]:
    return [text.title.get_text() for text in svg.find_all("text", class_="label")]


@pytest.mark.parametrize("anchor", ["runs", "charts", "site-lines", "samples", "quarantine"])
def test_every_section_is_present_and_linked(dataset, anchor):
    soup = dataset["soup"]
    _section(soup, anchor)
    assert soup.find("nav").find("a", href=f"#{anchor}") is not None


def test_run_history_has_a_row_per_run_with_the_flows_counts(dataset):
    rows = _section(dataset["soup"], "runs").find("table").find_all("tr")[1:]
    cells = [[td.get_text() for td in row.find_all("td")] for row in rows]
    assert len(cells) == len(dataset["runs"])
    for row, run in zip(cells, dataset["runs"]):
        # finished, run, files seen, skipped, files committed, documents, quarantined, MB, seconds, MB/s
        assert row[1] == run["run_id"][:13]
        assert (int(row[2]), int(row[3]), int(row[5]), int(row[6])) == \
            (run["files"], run["skipped"], run["documents"], run["quarantined"])
        assert float(row[7]) == pytest.approx(run["bytes_read"] / 1e6, abs=0.01)
        assert float(row[9]) >= 0
    assert int(cells[0][5]) == len(dataset["docs"])
    assert int(cells[1][4]) == 0  # the second run committed nothing: every file was done


def test_removed_lines_by_rule_chart_counts_every_recorded_removal(dataset):
    svg = _chart(dataset["soup"], "removed lines by rule")
    expected = Counter(item["rule"] for doc in dataset["docs"] for item in doc["removed"])
    shown = {label: int(value.get_text().replace(",", "")) for label, value in
             zip(_bar_labels(svg), svg.find_all("text", class_="value"))}
    assert shown == dict(sorted(expected.items(), key=lambda item: (-item[1], item[0]))[:25])
    assert len(svg.find_all("rect", class_="bar")) == len(shown)


def test_documents_by_site_and_duplicates_charts_match_the_dataset(dataset):
    sites = Counter(doc["site"] or NO_SITE for doc in dataset["docs"])
    assert sorted(_bar_labels(_chart(dataset["soup"], "documents by site"))) == sorted(sites)
    duplicates = _chart(dataset["soup"], "duplicates by site")
    totals = {label: text.get_text() for label, text in
              zip(_bar_labels(duplicates), duplicates.find_all("text", class_="value")[2:])}
    for site, count in sites.items():
        copies = sum(1 for doc in dataset["docs"] if (doc["site"] or NO_SITE) == site and doc["duplicate_of"])
        assert totals[site] == f"{count - copies:,} / {copies:,}"


def test_length_histogram_counts_every_document(dataset):
    svg = _chart(dataset["soup"], "document length")
    counts = [int(t.get_text().replace(",", "")) for t in svg.find_all("text", class_="value")]
    assert sum(counts) == len(dataset["docs"])


def test_site_table_lists_each_sites_most_removed_lines(dataset):
    section = _section(dataset["soup"], "site-lines")
    for site in {doc["site"] or NO_SITE for doc in dataset["docs"] if doc["removed"]}:
        removed = Counter((item["text"], item["rule"]) for doc in dataset["docs"]
                          if (doc["site"] or NO_SITE) == site for item in doc["removed"])
        heading = next(h for h in section.find_all("h3") if h.contents[0].strip() == site)
        rows = heading.find_next("table").find_all("tr")[1:]
        first = rows[0].find_all("td")
        assert int(first[0].get_text()) == max(removed.values())
        assert (first[3].get_text(), first[2].get_text()) in removed


def test_quarantine_list_has_every_quarantined_file_with_its_reason(dataset):
    rows = _section(dataset["soup"], "quarantine").find("table").find_all("tr")[1:]
    shown = {(row.find_all("td")[0].get_text(), row.find_all("td")[1].get_text()) for row in rows}
    assert shown == {(q["source_path"], q["reason"]) for q in dataset["quarantine"]}
    assert shown, "the fixture's binary upload must be quarantined"


def test_after_view_of_each_sample_is_exactly_the_stored_text(dataset):
    samples = _section(dataset["soup"], "samples").find_all("section", class_="sample")
    sources = {doc["source_path"] for doc in dataset["docs"]}
    assert len(samples) == len(sources)
    for sample in samples:
        source = sample.find("h3").code.get_text()
        parts = sorted((d for d in dataset["docs"] if d["source_path"] == source), key=lambda d: d["part_index"])
        documents: list[list[str]] = []
        for node in sample.find("div", class_="after").find_all("div", recursive=False):
            if "doc-title" in node["class"]:
                documents.append([])
            else:
                documents[-1].append(node.get_text())
        assert ["\n".join(lines) for lines in documents] == [part["text"] for part in parts]


def test_before_view_strikes_every_removal_with_its_rule(dataset):
    samples = _section(dataset["soup"], "samples").find_all("section", class_="sample")
    for sample in samples:
        source = sample.find("h3").code.get_text()
        before = sample.find("div", class_="before")
        shown = {rule for mark in before.find_all("span", class_="rule") for rule in mark.get_text().split(" + ")}
        recorded = Counter(item["rule"] for doc in dataset["docs"] if doc["source_path"] == source
                           for item in doc["removed"])
        assert set(recorded) <= set(shown), f"{source}: rules missing from the before view"
        for line in before.find_all("div", class_="removed"):
            assert line.find("del") is not None and line.find("span", class_="rule") is not None


def test_hostile_page_text_is_shown_as_text_and_nothing_loads(dataset):
    soup = dataset["soup"]
    assert soup.find_all(["script", "img", "iframe", "link", "object", "embed"]) == []
    for tag in soup.find_all(True):
        assert not [a for a in tag.attrs if a.lower().startswith("on")], f"event handler on <{tag.name}>"
        for attr in ("src", "href"):
            assert not tag.get(attr, "#").lower().startswith(("http", "//", "javascript")), tag
    text = soup.get_text()
    assert "<img src=x onerror=alert(1)>" in text
    assert "Content-Security-Policy" in str(soup.find("meta", attrs={"http-equiv": True}))


@pytest.mark.parametrize("wrong, right, kind", [
    ("⽅", "方", "look-alike (radical / compatibility form)"),
    ("Ａ", "A", "full-width form"),
    ("枂", "析", "CJK character (glyph)"),
    ("，，", "，", "punctuation"),
    ("\n", "", "line break"),
    ("\ufffd", "的", "replacement character"),
])
def test_repair_kind(wrong, right, kind):
    assert repair_kind(wrong, right) == kind


@pytest.mark.parametrize("draw, items, bars", [
    (lambda items: bar_chart(items, "t"), [("a", 3), ("<b>", 1)], 2),
    (lambda items: bar_chart(items, "t"), [(str(n), n) for n in range(1, 40)], 25),
    (lambda items: column_chart(items, "t"), [("0–100", 4), ("100–300", 0)], 2),
    (lambda items: stacked_bar_chart(items, [("u", "#000"), ("d", "#f00")], "t"), [("s", [2, 1]), ("t", [1, 0])], 3),
])
def test_charts_draw_one_bar_per_value_and_escape_labels(draw, items, bars):
    svg = BeautifulSoup(draw(items), "lxml").find("svg")
    assert len(svg.find_all("rect", class_="bar")) == bars
    assert svg.find("b") is None


@pytest.mark.parametrize("line, prose", [
    (SiteLine("热门文档", "related_list", 9, 9), False),
    (SiteLine("各单位要高度重视,认真组织自查自纠,确保检查取得实效,切实消除各类安全隐患,保障人民群众生命财产安全。",
              "contact", 9, 9), True),
])
def test_site_line_flags_removed_prose(line, prose):
    assert line.looks_like_prose is prose


def test_empty_dataset_gives_a_report_not_an_error(tmp_path):
    report = write_report(str(tmp_path / "nothing"), tmp_path / "r.html")
    soup = BeautifulSoup(report.read_text(encoding="utf-8"), "lxml")
    assert soup.find("section", id="samples").find("p", class_="empty") is not None


# --- in a real browser ---------------------------------------------------------------------------

def png_pixels(path: Path) -> tuple[int, int, set[tuple[int, int, int]]]:
    """Width, height and the set of RGB colours of an 8-bit RGB/RGBA PNG (enough to see what rendered)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, compressed = 8, b""
    while position < len(data):
        length = int.from_bytes(data[position:position + 4], "big")
        kind, body = data[position + 4:position + 8], data[position + 8:position + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color_type = struct.unpack(">IIBB", body[:10])
        elif kind == b"IDAT":
            compressed += body
        position += 12 + length
    assert depth == 8 and color_type in (2, 6), (depth, color_type)
    channels = 3 if color_type == 2 else 4
    stride, raw = width * channels, zlib.decompress(compressed)
    previous, colours = bytearray(stride), set()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                corner = previous[i - channels] if i >= channels else 0
                estimate = left + up - corner
                da, db, dc = abs(estimate - left), abs(estimate - up), abs(estimate - corner)
                line[i] = (line[i] + (left if da <= db and da <= dc else up if db <= dc else corner)) & 255
        colours.update(zip(line[0::channels], line[1::channels], line[2::channels]))
        previous = line
    return width, height, colours


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return tuple(int(hex_colour[i:i + 2], 16) for i in (1, 3, 5))


def test_report_renders_in_headless_chromium(dataset, run_chromium, tmp_path):
    report = dataset["report"]
    dom = BeautifulSoup(run_chromium(report, "--dump-dom"), "lxml")
    charts = dom.find_all("svg", class_="chart")
    assert len(charts) >= 5
    assert sum(len(svg.find_all("rect", class_="bar")) for svg in charts) >= 10
    samples = dom.find_all("section", class_="sample")
    assert samples and all(s.find("div", class_="before") and s.find("div", class_="after") for s in samples)
    assert dom.find("div", class_="before").find("del") is not None

    shot = tmp_path / "report.png"  # the whole page at half scale: 600 pixels wide
    run_chromium(report, f"--screenshot={shot}", "--window-size=1200,12000", "--force-device-scale-factor=0.5")
    width, height, colours = png_pixels(shot)
    assert (width, height) == (600, 6000)
    for colour in ("#e15759", "#4e79a7", "#59a14f", "#f28e2b"):  # bars: rules, sites, lengths, MB/s per run
        assert _rgb(colour) in colours, f"chart colour {colour} not drawn"
    assert _rgb("#fdecea") in colours, "no removed line drawn in the before view"
