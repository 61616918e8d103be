"""`corpus-clean report`: one self-contained HTML page about what the pipeline did to a dataset.

People trust a cleaner they can audit. The page answers, from the committed
Parquet alone: what each run did (files, documents, quarantined, MB/s); which
rules removed how much and which repairs were made; how documents spread over
sites, lengths and duplicates; per site, the removed lines that recur most (a
rule that eats body text shows up there as a long sentence removed on many
pages); a sample of pages before and after; and the quarantine list.

The file opens offline: charts are inline SVG drawn here, the styles are inline
and a Content-Security-Policy forbids every fetch. Every string that came from
a page is escaped, because pages are hostile input.

Reading the dataset (`collect`) is separate from drawing it (`render_html`), so
the drawing is pure functions of plain values.
"""
from __future__ import annotations

import hashlib
import html
import unicodedata
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from cleaners.decode import Undecodable, decode_bytes
from cleaners.document import Removal
from flows.explain import Annotated, ShownLine, Span, annotate, normalised_lines
from flows.progress import RUN_SCHEMA, RUNS
from flows.storage import (DOCUMENT_SCHEMA, DOCUMENTS, MANIFEST, MANIFEST_SCHEMA, QUARANTINE, QUARANTINE_SCHEMA, STATE,
                           OutputStore)

DEFAULT_SAMPLES = 6
TOP_LINES_PER_SITE = 10
OPEN_SITES = 3  # per-site tables shown unfolded
MAX_SAMPLE_LINES = 400
MAX_QUARANTINE_ROWS = 1000
MAX_CHART_BARS = 25
NO_SITE = "(no site)"
# Document length bins in characters: a corpus spans tweets to 100-page reports.
LENGTH_EDGES = (0, 100, 300, 1_000, 3_000, 10_000, 30_000, 100_000)
# A removed line this long that ends like a sentence is probably body text: flagged in the site table.
PROSE_MIN_CHARS = 40
SENTENCE_END = "。！？!?…”"
SAMPLE_COLUMNS = ["source_path", "part_index", "title", "text", "site", "raw_sha256", "removed", "repairs", "run_id"]


# --- the numbers ------------------------------------------------------------------------------

@dataclass
class RunRow:
    """One run: what the manifest says it committed, and what its run record says it read and took."""

    run_id: str
    when: datetime | None
    files_committed: int
    documents: int
    quarantined: int
    files_seen: int | None = None
    skipped: int | None = None
    bytes_read: int | None = None
    seconds: float | None = None

    @property
    def mb_per_s(self) -> float | None:
        if self.bytes_read is None or not self.seconds:
            return None
        return self.bytes_read / 1e6 / self.seconds


@dataclass
class SiteLine:
    """A removed line and how often it was removed on one site."""

    text: str
    rule: str
    removals: int
    documents: int

    @property
    def looks_like_prose(self) -> bool:
        text = self.text.strip()
        return len(text) >= PROSE_MIN_CHARS and text[-1] in SENTENCE_END


@dataclass
class Sample:
    """One source file shown before and after: annotated page order when the raw file is at hand."""

    source_path: str
    site: str | None
    titles: list[str | None]
    texts: list[str]
    removed: list[Removal]
    repairs: Counter
    annotated: Annotated | None = None
    note: str = ""


@dataclass
class ReportData:
    out: str
    generated_at: datetime
    documents: int = 0
    files: int = 0
    quarantined: int = 0
    removed_lines: int = 0
    repairs: int = 0
    runs: list[RunRow] = field(default_factory=list)
    removed_by_rule: list[tuple[str, int]] = field(default_factory=list)
    repairs_by_kind: list[tuple[str, int]] = field(default_factory=list)
    repair_pairs: list[tuple[str, int]] = field(default_factory=list)
    documents_by_site: list[tuple[str, int]] = field(default_factory=list)
    length_bins: list[tuple[str, int]] = field(default_factory=list)
    duplicates_by_site: list[tuple[str, list[int]]] = field(default_factory=list)  # site, [unique, duplicate]
    site_lines: dict[str, list[SiteLine]] = field(default_factory=dict)
    samples: list[Sample] = field(default_factory=list)
    quarantine: list[dict] = field(default_factory=list)


def repair_kind(wrong: str, right: str) -> str:
    """A coarse class of a repair from the Unicode classes of its characters."""
    if "\n" in wrong or "\n" in right:
        return "line break"
    if "\ufffd" in wrong:
        return "replacement character"
    names = [unicodedata.name(ch, "") for ch in wrong]
    if any("RADICAL" in name or "COMPATIBILITY" in name for name in names):
        return "look-alike (radical / compatibility form)"
    chars = [ch for ch in wrong + right if not ch.isspace()]
    if chars and all(unicodedata.category(ch).startswith("P") for ch in chars):
        return "punctuation"
    if any(name.startswith("FULLWIDTH") for name in names):
        return "full-width form"
    if chars and all(name.startswith("CJK") for name in (unicodedata.name(ch, "") for ch in chars)):
        return "CJK character (glyph)"
    return "other"


def _read(store: OutputStore, folder: str, schema: pa.Schema, columns: list[str]) -> pa.Table:
    table = store.read(folder, columns)
    return table if table.num_columns else schema.empty_table().select(columns)


def _counts(values: pa.Array | pa.ChunkedArray) -> list[tuple[str, int]]:
    counted = pc.value_counts(values).to_pylist() if len(values) else []
    rows = [(NO_SITE if c["values"] is None else str(c["values"]), c["counts"]) for c in counted]
    return sorted(rows, key=lambda row: (-row[1], row[0]))


def _runs(manifest: pa.Table, docs: pa.Table, quarantine: pa.Table, records: pa.Table) -> list[RunRow]:
    rows: dict[str, RunRow] = {}
    if manifest.num_rows:
        grouped = pa.table({"run_id": manifest["run_id"], "n_docs": manifest["n_docs"],
                            "quarantined": pc.cast(manifest["quarantined"], pa.int64())}).group_by("run_id")
        for row in grouped.aggregate([("n_docs", "count"), ("n_docs", "sum"), ("quarantined", "sum")]).to_pylist():
            rows[row["run_id"]] = RunRow(row["run_id"], None, row["n_docs_count"], row["n_docs_sum"] or 0,
                                         row["quarantined_sum"] or 0)
    for table in (docs, quarantine):
        if table.num_rows:
            latest = table.select(["run_id", "processed_at"]).group_by("run_id").aggregate([("processed_at", "max")])
            for row in latest.to_pylist():
                run = rows.setdefault(row["run_id"], RunRow(row["run_id"], None, 0, 0, 0))
                if run.when is None or row["processed_at_max"] > run.when:
                    run.when = row["processed_at_max"]
    for record in records.to_pylist():
        run = rows.setdefault(record["run_id"], RunRow(record["run_id"], None, 0, 0, 0))
        run.when = record["finished_at"]
        run.files_seen, run.skipped = record["files"], record["skipped"]
        run.bytes_read, run.seconds = record["bytes_read"], record["seconds"]
    epoch = datetime.min.replace(tzinfo=timezone.utc)
    return sorted(rows.values(), key=lambda run: (run.when or epoch, run.run_id))


def _site_lines(docs: pa.Table, per_site: int) -> dict[str, list[SiteLine]]:
    removed = docs["removed"].combine_chunks()
    flat = pc.list_flatten(removed)
    if not len(flat):
        return {}
    parents = pc.list_parent_indices(removed)
    sites = pc.fill_null(docs["site"].combine_chunks(), NO_SITE)
    table = pa.table({"site": pc.take(sites, parents), "text": pc.struct_field(flat, "text"),
                      "rule": pc.struct_field(flat, "rule"), "doc": parents})
    grouped = table.group_by(["site", "text", "rule"]).aggregate([("doc", "count"), ("doc", "count_distinct")])
    grouped = grouped.sort_by([("site", "ascending"), ("doc_count", "descending"), ("text", "ascending")])
    out: dict[str, list[SiteLine]] = {}
    for site, text, rule, count, distinct in zip(*(grouped[name].to_pylist() for name in
                                                   ("site", "text", "rule", "doc_count", "doc_count_distinct"))):
        lines = out.setdefault(site, [])
        if len(lines) < per_site:
            lines.append(SiteLine(text or "", rule or "", count, distinct))
    return out


def _compact(number: int) -> str:
    return f"{number // 1000}k" if number >= 1000 and number % 1000 == 0 else str(number)


def _length_bins(n_chars: pa.ChunkedArray) -> list[tuple[str, int]]:
    counts = Counter(bisect_right(LENGTH_EDGES, v) - 1 for v in n_chars.to_pylist() if v is not None)
    labels = [f"{_compact(lo)}–{_compact(hi)}" for lo, hi in zip(LENGTH_EDGES, LENGTH_EDGES[1:])]
    labels.append(f"≥{_compact(LENGTH_EDGES[-1])}")
    return [(label, counts[index]) for index, label in enumerate(labels)]


def _choose_samples(docs: pa.Table, count: int) -> list[tuple[str, str, str]]:
    """Source files (path, sha, run) with the most removals and repairs, taking sites in turn."""
    if not docs.num_rows or count <= 0:
        return []
    repaired = pc.list_value_length(docs["repairs"])
    score = pc.add(pc.fill_null(pc.list_value_length(docs["removed"]), 0), pc.fill_null(repaired, 0))
    table = pa.table({"source_path": docs["source_path"], "raw_sha256": docs["raw_sha256"],
                      "run_id": docs["run_id"], "site": pc.fill_null(docs["site"], NO_SITE), "score": score})
    grouped = table.group_by(["source_path", "raw_sha256", "run_id", "site"]).aggregate([("score", "sum")])
    ranked = sorted(grouped.to_pylist(), key=lambda r: (-r["score_sum"], r["source_path"], r["run_id"]))
    by_site: dict[str, list[tuple[str, str, str]]] = {}
    for row in ranked:  # sites in the order of their best file, each site's files best first
        by_site.setdefault(row["site"], []).append((row["source_path"], row["raw_sha256"], row["run_id"]))
    chosen: list[tuple[str, str, str]] = []
    for turn in range(count):
        chosen.extend(files[turn] for files in by_site.values() if turn < len(files))
    return chosen[:count]


def _original_lines(raw_root: Path | None, source_path: str, sha256: str) -> tuple[list[str] | None, str]:
    """The page's normalised lines from the raw file, if it is still there unchanged."""
    if raw_root is None:
        return None, "no raw folder given: removed lines are listed in the order the stages removed them"
    path = raw_root / source_path
    try:
        data = path.read_bytes()
    except OSError:
        return None, "raw file not found: removed lines are listed in the order the stages removed them"
    if hashlib.sha256(data).hexdigest() != sha256:
        return None, "raw file changed since the run: removed lines are listed in the order the stages removed them"
    try:
        text = decode_bytes(data).text
    except Undecodable as exc:
        return None, f"raw file undecodable now ({exc.reason})"
    return normalised_lines(text, source_path)[0], ""


def _samples(store: OutputStore, docs: pa.Table, count: int, raw_root: Path | None) -> list[Sample]:
    chosen = _choose_samples(docs, count)
    if not chosen:
        return []
    dataset = ds.dataset(store.path(DOCUMENTS), format="parquet", filesystem=store.fs)
    rows = dataset.to_table(columns=SAMPLE_COLUMNS,
                            filter=pc.field("source_path").isin(sorted({c[0] for c in chosen}))).to_pylist()
    samples = []
    for source_path, sha256, run_id in chosen:
        parts = sorted((r for r in rows if (r["source_path"], r["raw_sha256"], r["run_id"]) ==
                        (source_path, sha256, run_id)), key=lambda r: r["part_index"])
        removed = [Removal(item["text"], item["rule"]) for part in parts for item in part["removed"] or ()]
        repairs: Counter = Counter()
        for part in parts:
            for item in part["repairs"] or ():
                repairs[(item["from"], item["to"])] += item["count"]
        sample = Sample(source_path, parts[0]["site"], [p["title"] for p in parts], [p["text"] for p in parts],
                        removed, repairs)
        original, sample.note = _original_lines(raw_root, source_path, sha256)
        if original is not None:
            sample.annotated = annotate(original, [t.split("\n") for t in sample.texts], removed, repairs)
        samples.append(sample)
    return samples


def collect(out: str, raw_root: str | Path | None = None, samples: int = DEFAULT_SAMPLES,
            top_lines: int = TOP_LINES_PER_SITE) -> ReportData:
    """Read the committed dataset under `out` and compute everything the report shows."""
    store = OutputStore(out)
    doc_columns = ["source_path", "n_chars", "site", "raw_sha256", "removed", "repairs", "duplicate_of",
                   "run_id", "processed_at"]
    docs = _read(store, DOCUMENTS, DOCUMENT_SCHEMA, doc_columns)
    quarantine = _read(store, QUARANTINE, QUARANTINE_SCHEMA, QUARANTINE_SCHEMA.names)
    manifest = _read(store, MANIFEST, MANIFEST_SCHEMA, ["raw_sha256", "source_path", "n_docs", "quarantined", "run_id"])
    records = _read(store, f"{STATE}/{RUNS}", RUN_SCHEMA, RUN_SCHEMA.names)
    data = ReportData(out=out, generated_at=datetime.now(timezone.utc), documents=docs.num_rows,
                      files=len(pc.unique(docs["source_path"])) if docs.num_rows else 0,
                      quarantined=quarantine.num_rows)
    data.runs = _runs(manifest, docs, quarantine, records)
    removed_flat = pc.list_flatten(docs["removed"].combine_chunks()) if docs.num_rows else pa.array([])
    data.removed_lines = len(removed_flat)
    if len(removed_flat):
        data.removed_by_rule = _counts(pc.struct_field(removed_flat, "rule"))
    repairs_flat = pc.list_flatten(docs["repairs"].combine_chunks()) if docs.num_rows else pa.array([])
    if len(repairs_flat):
        kinds: Counter = Counter()
        pairs: Counter = Counter()
        for item in repairs_flat.to_pylist():
            kinds[repair_kind(item["from"], item["to"])] += item["count"]
            pairs[f"{item['from']} → {item['to']}"] += item["count"]
        data.repairs = sum(kinds.values())
        data.repairs_by_kind = kinds.most_common()
        data.repair_pairs = pairs.most_common()
    data.documents_by_site = _counts(docs["site"])
    data.length_bins = _length_bins(docs["n_chars"])
    duplicate = Counter()
    unique = Counter()
    for site, dup in zip(docs["site"].to_pylist(), docs["duplicate_of"].to_pylist()):
        (duplicate if dup else unique)[site or NO_SITE] += 1
    data.duplicates_by_site = [(site, [unique[site], duplicate[site]]) for site, _ in data.documents_by_site]
    data.site_lines = _site_lines(docs, top_lines) if docs.num_rows else {}
    data.samples = _samples(store, docs, samples, Path(raw_root) if raw_root else None)
    data.quarantine = sorted(quarantine.to_pylist(), key=lambda r: (r["source_path"] or "", r["run_id"] or ""))
    return data


# --- the drawing (pure) -------------------------------------------------------------------------

def esc(value) -> str:
    return html.escape(str(value), quote=True)


def _short(label: str, units: int = 26) -> str:
    """The label cut to fit a chart's label column: wide (CJK) characters count double."""
    used = 0
    for index, ch in enumerate(label):
        used += 2 if unicodedata.east_asian_width(ch) in "WF" else 1
        if used > units:
            return label[:index - 1] + "…"
    return label


def _visible(text: str) -> str:
    """Invisible characters made visible, so a repair of a zero-width space can be seen."""
    return "".join(ch if unicodedata.category(ch)[0] not in "CZ" or ch == " " else f"U+{ord(ch):04X}"
                   for ch in text)


def bar_chart(items: list[tuple[str, float]], title: str, color: str = "#4e79a7",
              value_format: str = "{:,.0f}") -> str:
    """Horizontal bars, one per (label, value), largest scale to the full width; inline SVG."""
    shown = items[:MAX_CHART_BARS]
    if not shown:
        return '<p class="empty">nothing recorded</p>'
    label_w, bar_w, row_h, pad = 170, 340, 22, 6
    more = len(items) - len(shown)
    width, height = label_w + bar_w + 90, pad * 2 + row_h * (len(shown) + (1 if more else 0))
    top = max(value for _, value in shown) or 1
    out = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{esc(title)}"><title>{esc(title)}</title>']
    for row, (label, value) in enumerate(shown):
        y = pad + row * row_h
        w = bar_w * value / top if value else 0
        out.append(f'<text class="label" x="{label_w - 6}" y="{y + 15}" text-anchor="end">'
                   f'{esc(_short(_visible(label)))}<title>{esc(_visible(label))}</title></text>')
        out.append(f'<rect class="bar" x="{label_w}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" '
                   f'fill="{color}"><title>{esc(_visible(label))}: {esc(value_format.format(value))}</title></rect>')
        out.append(f'<text class="value" x="{label_w + w + 5:.1f}" y="{y + 15}">{esc(value_format.format(value))}</text>')
    if more:
        out.append(f'<text class="value" x="{label_w}" y="{pad + len(shown) * row_h + 15}">'
                   f'… and {more:,} more</text>')
    out.append("</svg>")
    return "".join(out)


def stacked_bar_chart(rows: list[tuple[str, list[int]]], series: list[tuple[str, str]], title: str) -> str:
    """Horizontal stacked bars: one row per label, one segment per series (name, colour), with a legend."""
    shown = rows[:MAX_CHART_BARS]
    if not shown:
        return '<p class="empty">nothing recorded</p>'
    label_w, bar_w, row_h, pad, legend_h = 170, 320, 22, 6, 22
    width, height = label_w + bar_w + 110, legend_h + pad * 2 + row_h * len(shown)
    top = max(sum(values) for _, values in shown) or 1
    out = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{esc(title)}"><title>{esc(title)}</title>']
    x = label_w
    for name, color in series:
        out.append(f'<rect x="{x}" y="4" width="12" height="12" fill="{color}"/>'
                   f'<text class="value" x="{x + 16}" y="15">{esc(name)}</text>')
        x += 30 + 8 * len(name)
    for row, (label, values) in enumerate(shown):
        y = legend_h + pad + row * row_h
        out.append(f'<text class="label" x="{label_w - 6}" y="{y + 15}" text-anchor="end">'
                   f'{esc(_short(label))}<title>{esc(label)}</title></text>')
        x = float(label_w)
        for (name, color), value in zip(series, values):
            w = bar_w * value / top
            if w:
                out.append(f'<rect class="bar" x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" '
                           f'fill="{color}"><title>{esc(label)} {esc(name)}: {value:,}</title></rect>')
            x += w
        out.append(f'<text class="value" x="{x + 5:.1f}" y="{y + 15}">'
                   f'{esc(" / ".join(f"{v:,}" for v in values))}</text>')
    out.append("</svg>")
    return "".join(out)


def column_chart(bins: list[tuple[str, int]], title: str, color: str = "#59a14f") -> str:
    """Vertical columns for a histogram; labels under the columns."""
    if not bins or not any(count for _, count in bins):
        return '<p class="empty">nothing recorded</p>'
    col_w, gap, plot_h, base = 62, 8, 180, 40
    width, height = len(bins) * (col_w + gap) + gap, plot_h + base + 20
    top = max(count for _, count in bins) or 1
    out = [f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" '
           f'height="{height}" viewBox="0 0 {width} {height}" aria-label="{esc(title)}"><title>{esc(title)}</title>']
    for index, (label, count) in enumerate(bins):
        x = gap + index * (col_w + gap)
        h = plot_h * count / top
        y = 20 + plot_h - h
        out.append(f'<rect class="bar" x="{x}" y="{y:.1f}" width="{col_w}" height="{h:.1f}" fill="{color}">'
                   f'<title>{esc(label)} characters: {count:,}</title></rect>')
        out.append(f'<text class="value" x="{x + col_w / 2}" y="{y - 4:.1f}" text-anchor="middle">{count:,}</text>')
        out.append(f'<text class="label" x="{x + col_w / 2}" y="{20 + plot_h + 16}" text-anchor="middle">'
                   f'{esc(label)}</text>')
    out.append("</svg>")
    return "".join(out)


def _fmt(value, spec: str = "{:,}") -> str:
    return "–" if value is None else spec.format(value)


def runs_section(runs: list[RunRow]) -> str:
    head = ("<tr><th>finished</th><th>run</th><th>files seen</th><th>skipped</th><th>files committed</th>"
            "<th>documents</th><th>quarantined</th><th>MB read</th><th>seconds</th><th>MB/s</th></tr>")
    body = "".join(
        f"<tr><td>{esc(run.when.strftime('%Y-%m-%d %H:%M:%S') if run.when else '–')}</td>"
        f"<td><code>{esc(run.run_id[:13])}</code></td><td>{_fmt(run.files_seen)}</td><td>{_fmt(run.skipped)}</td>"
        f"<td>{run.files_committed:,}</td><td>{run.documents:,}</td><td>{run.quarantined:,}</td>"
        f"<td>{_fmt(None if run.bytes_read is None else run.bytes_read / 1e6, '{:,.2f}')}</td>"
        f"<td>{_fmt(run.seconds, '{:,.2f}')}</td><td>{_fmt(run.mb_per_s, '{:,.2f}')}</td></tr>"
        for run in runs)
    chart = bar_chart([(f"{run.when:%m-%d %H:%M} {run.run_id[:8]}" if run.when else run.run_id[:8], run.mb_per_s)
                       for run in runs if run.mb_per_s is not None], "MB/s per run", "#f28e2b", "{:,.2f}")
    note = ("<p class='note'>Files seen, bytes and seconds come from each run's record "
            "(<code>_state/runs</code>); a run killed before its end has only the manifest's counts.</p>")
    return f'<table class="runs">{head}{body}</table>{note}<h3>MB/s per run</h3>{chart}'


def site_lines_section(site_lines: dict[str, list[SiteLine]], documents_by_site: dict[str, int]) -> str:
    parts = []
    for site in sorted(site_lines, key=lambda s: (-documents_by_site.get(s, 0), s)):
        rows = []
        for line in site_lines[site]:
            share = line.documents / documents_by_site[site] if documents_by_site.get(site) else 0
            flag = ' class="prose" title="long and ends like a sentence: body text?"' if line.looks_like_prose else ""
            rows.append(f"<tr{flag}><td class='num'>{line.removals:,}</td><td class='num'>{line.documents:,}"
                        f" ({share:.0%})</td><td><code>{esc(line.rule)}</code></td>"
                        f"<td class='text'>{esc(line.text)}</td></tr>")
        opened = " open" if len(parts) < OPEN_SITES else ""  # the largest sites open, the rest a click away
        parts.append(f"<details{opened}><summary><h3>{esc(site)} <small>{documents_by_site.get(site, 0):,} "
                     f"documents</small></h3></summary><table class='lines'><tr><th>removed</th><th>documents</th>"
                     f"<th>rule</th><th>line</th></tr>{''.join(rows)}</table></details>")
    return "".join(parts) or '<p class="empty">nothing removed</p>'


def _span_html(span: Span, before: bool) -> str:
    text = esc(span.text.replace("\n", "⏎"))
    if span.kind == "kept":
        return text
    if span.kind == "removed":
        return f'<del>{text}</del><span class="rule">{esc(span.rule)}</span>' if before else ""
    if span.kind == "added":
        return f"<ins>{text}</ins>"
    old = esc(_visible(span.rule or ""))
    if before:
        return f'<del class="old">{old}</del><mark title="repaired from {old}">{text}</mark>'
    return f'<mark title="repaired from {old}">{text}</mark>'


def _before_line(line: ShownLine) -> str:
    if line.kind == "removed":
        span = line.spans[0]
        return (f'<div class="ln removed"><del>{esc(span.text)}</del>'
                f'<span class="rule">{esc(span.rule)}</span></div>')
    return f'<div class="ln {line.kind}">{"".join(_span_html(s, True) for s in line.spans)}</div>'


def _after_lines(annotated: Annotated, titles: list[str | None]) -> str:
    out, current = [], None
    for line in annotated.lines:
        if line.kind == "removed" or line.document is None:
            continue
        if line.document != current:
            current = line.document
            title = titles[current] if current < len(titles) else None
            out.append(f'<div class="doc-title">{esc(title or "(untitled)")}</div>')
        out.append(f'<div class="ln">{"".join(_span_html(s, False) for s in line.spans)}</div>')
    return "".join(out)


def _marked_text(text: str, repairs: Counter) -> str:
    """Stored text with the recorded repairs' results highlighted (at most as often as each was made)."""
    budget = {right: count for (_, right), count in repairs.items() if right.strip()}
    froms = {right: wrong for (wrong, right) in repairs if right.strip()}
    out, index = [], 0
    while index < len(text):
        hit = next((r for r in sorted(budget, key=len, reverse=True)
                    if budget[r] > 0 and text.startswith(r, index)), None)
        if hit:
            out.append(f'<mark title="repaired from {esc(_visible(froms[hit]))}">{esc(hit)}</mark>')
            budget[hit] -= 1
            index += len(hit)
        else:
            out.append(esc(text[index]))
            index += 1
    return "".join(out)


def sample_section(sample: Sample) -> str:
    head = (f'<h3><code>{esc(sample.source_path)}</code> <small>{esc(sample.site or NO_SITE)} · '
            f'{len(sample.texts)} document(s) · {len(sample.removed):,} removed · '
            f'{sum(sample.repairs.values()):,} repaired</small></h3>')
    if sample.annotated is not None:
        lines = sample.annotated.lines
        before = "".join(_before_line(line) for line in lines[:MAX_SAMPLE_LINES])
        if len(lines) > MAX_SAMPLE_LINES:
            before += f'<div class="more">… {len(lines) - MAX_SAMPLE_LINES:,} more lines</div>'
        if sample.annotated.unlocated:
            before += ('<div class="more">removed from the markup (before the text was cut into lines):</div>'
                       + "".join(f'<div class="ln removed"><del>{esc(r.text)}</del>'
                                 f'<span class="rule">{esc(r.rule)}</span></div>' for r in sample.annotated.unlocated))
        after = _after_lines(sample.annotated, sample.titles)
    else:
        before = (f'<div class="more">{esc(sample.note)}</div>'
                  + "".join(f'<div class="ln removed"><del>{esc(r.text)}</del><span class="rule">{esc(r.rule)}</span>'
                            f'</div>' for r in sample.removed[:MAX_SAMPLE_LINES]))
        after = "".join(f'<div class="doc-title">{esc(title or "(untitled)")}</div>'
                        + "".join(f'<div class="ln">{_marked_text(line, sample.repairs)}</div>'
                                  for line in text.split("\n")[:MAX_SAMPLE_LINES])
                        for title, text in zip(sample.titles, sample.texts))
    return (f'<section class="sample">{head}<div class="pair"><div class="before"><h4>Before</h4>{before}</div>'
            f'<div class="after"><h4>After</h4>{after}</div></div></section>')


def quarantine_section(rows: list[dict]) -> str:
    if not rows:
        return '<p class="empty">no file quarantined</p>'
    body = "".join(f"<tr><td><code>{esc(r['source_path'])}</code></td><td>{esc(r['reason'])}</td>"
                   f"<td class='num'>{_fmt(r['size'])}</td><td><code>{esc((r['run_id'] or '')[:13])}</code></td></tr>"
                   for r in rows[:MAX_QUARANTINE_ROWS])
    more = f"<p class='note'>{len(rows) - MAX_QUARANTINE_ROWS:,} more not shown</p>" if len(rows) > MAX_QUARANTINE_ROWS else ""
    return f"<table class='quarantine'><tr><th>file</th><th>reason</th><th>bytes</th><th>run</th></tr>{body}</table>{more}"


STYLE = """
body{font-family:"Noto Sans CJK SC","Noto Sans SC","PingFang SC","Microsoft YaHei",sans-serif;margin:24px auto;
max-width:1200px;color:#222;line-height:1.45;padding:0 16px}
h1{margin-bottom:4px}h2{border-bottom:2px solid #ddd;padding-bottom:4px;margin-top:36px}
nav a{margin-right:12px}small{color:#777;font-weight:normal}.note,.empty,.more{color:#777;font-size:90%}
.cards{display:flex;gap:12px;flex-wrap:wrap}.card{background:#f4f6f8;border-radius:6px;padding:10px 16px}
.card b{display:block;font-size:22px}
table{border-collapse:collapse;font-size:90%;margin:6px 0}td,th{border:1px solid #ddd;padding:3px 8px;
vertical-align:top;text-align:left}td.num{text-align:right;white-space:nowrap}td.text{max-width:640px}
tr.prose td{background:#fff3cd}svg.chart{display:block;margin:6px 0;max-width:100%;height:auto}svg .label,svg .value{font-size:12px;fill:#333}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(540px,1fr));gap:8px 24px}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:12px}.before,.after{border:1px solid #ddd;border-radius:6px;
padding:8px;font-size:90%;max-height:560px;overflow:auto;word-break:break-all}
.ln{padding:1px 4px;border-left:3px solid transparent}.ln.removed{background:#fdecea;border-left-color:#d9534f}
.ln.changed{background:#fffbe6;border-left-color:#f0ad4e}del{color:#a33}ins{background:#d4f7d4;text-decoration:none}
mark{background:#ffe066}del.old{color:#a33;font-size:85%}.rule{font-family:monospace;font-size:80%;color:#fff;
background:#6c757d;border-radius:3px;padding:0 4px;margin-left:6px;white-space:nowrap}
summary h3{display:inline-block;margin:10px 0 4px}summary{cursor:pointer}
.doc-title{font-weight:bold;margin:6px 0 2px;color:#2a4d7f}
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def render_html(data: ReportData) -> str:
    """The whole report as one HTML document."""
    sites = dict(data.documents_by_site)
    cards = "".join(f'<div class="card"><b>{value}</b>{esc(label)}</div>' for label, value in (
        ("documents", f"{data.documents:,}"), ("source files", f"{data.files:,}"),
        ("quarantined files", f"{data.quarantined:,}"), ("sites", f"{len(sites):,}"),
        ("removed lines/spans", f"{data.removed_lines:,}"), ("characters repaired", f"{data.repairs:,}"),
        ("runs", f"{len(data.runs):,}")))
    sections = [
        ("runs", "Run history", runs_section(data.runs)),
        ("charts", "What was done", '<div class="grid">'
         f'<div><h3>Removed lines by rule</h3>{bar_chart(data.removed_by_rule, "removed lines by rule", "#e15759")}</div>'
         f'<div><h3>Repairs by kind</h3>{bar_chart(data.repairs_by_kind, "repairs by kind", "#edc948")}'
         f'<h3>Most frequent repairs</h3>{bar_chart(data.repair_pairs, "most frequent repairs", "#b07aa1")}</div>'
         f'<div><h3>Documents by site</h3>{bar_chart(data.documents_by_site, "documents by site")}</div>'
         f'<div><h3>Document length (characters)</h3>{column_chart(data.length_bins, "document length")}</div>'
         f'<div><h3>Duplicates by site</h3>{stacked_bar_chart(data.duplicates_by_site, [("unique", "#4e79a7"), ("duplicate", "#e15759")], "duplicates by site")}</div>'
         "</div>"),
        ("site-lines", "Most frequent removed lines per site",
         "<p class='note'>Highlighted rows are long and end like a sentence: if a rule removes such lines on "
         "many pages, it may be eating body text.</p>" + site_lines_section(data.site_lines, sites)),
        ("samples", "Before and after",
         "<p class='note'>Removed lines are struck through with the rule that removed them; repaired characters "
         "are highlighted (the old character struck before them); text added by a stage is green.</p>"
         + ("".join(sample_section(s) for s in data.samples) or '<p class="empty">no documents</p>')),
        ("quarantine", "Quarantined files", quarantine_section(data.quarantine)),
    ]
    nav = "".join(f'<a href="#{anchor}">{esc(title)}</a>' for anchor, title, _ in sections)
    body = "".join(f'<section id="{anchor}"><h2>{esc(title)}</h2>{content}</section>'
                   for anchor, title, content in sections)
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
            f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>corpus-clean report: {esc(data.out)}</title><style>{STYLE}</style></head><body>'
            f'<h1>corpus-clean report</h1><p class="note">dataset <code>{esc(data.out)}</code> · generated '
            f'{data.generated_at:%Y-%m-%d %H:%M:%S} UTC</p><div class="cards">{cards}</div><nav>{nav}</nav>'
            f'{body}</body></html>')


def write_report(out: str, to: str | Path, raw_root: str | Path | None = None,
                 samples: int = DEFAULT_SAMPLES) -> Path:
    """Collect the dataset's numbers and write the report to `to` (replaced whole, never half-written)."""
    target = Path(to)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(render_html(collect(out, raw_root, samples)), encoding="utf-8")
    tmp.replace(target)
    return target
