"""Compose the cleaning stages: one raw file in, its documents (or a quarantine reason) out.

The recipe is data: an ordered tuple of stage names looked up in `STAGES`.
Each stage lives in its own module and has the signature
`stage(page, ctx) -> page`; adding a stage is one entry here. Decoding and
HTML extraction come first and are not recipe entries because they turn bytes
into a `Page` rather than a page into a page.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Callable

from .decode import Decoded, Undecodable, decode_bytes
from .document import CleanContext, Page, Removal
from .glyphs import glyphs_stage
from .html_extract import extract_html, looks_like_html
from .limits import limit_lines_stage
from .mojibake import mojibake_stage
from .normalize import normalize_lines, normalize_stage
from .reflow import reflow_stage
from .site_evidence import SiteLineCounts
from .split import split_stage
from .strip import strip_stage
from .title import title_stage

PIPELINE_VERSION = "0.1.0"

Stage = Callable[[Page, CleanContext], Page]
STAGES: dict[str, Stage] = {
    "limit_lines": limit_lines_stage,
    "mojibake": mojibake_stage,
    "normalize": normalize_stage,
    "strip": strip_stage,
    "glyphs": glyphs_stage,
    "split": split_stage,
    "reflow": reflow_stage,
    "title": title_stage,
}
RECIPE: tuple[str, ...] = ("limit_lines", "mojibake", "normalize", "strip", "glyphs", "split", "reflow", "title")

DATE_FOLDER = re.compile(r"^\d{4}(?:-?\d{2}(?:-?\d{2})?)?$")


@dataclass
class CleanDoc:
    """One output document: what becomes a row of the documents table."""

    part_index: int
    title: str | None
    text: str
    removed: list[Removal]
    repairs: list[tuple[str, str, int]]

    def doc_id(self, source_path: str) -> str:
        """Stable id from the source and the cleaned text: the same input gives the same id."""
        key = f"{source_path}\x00{self.part_index}\x00{self.text}".encode("utf-8")
        return hashlib.sha256(key).hexdigest()[:24]


@dataclass
class FileOutcome:
    """The result of cleaning one raw file: documents, or one quarantine reason."""

    docs: list[CleanDoc] = field(default_factory=list)
    encoding: str | None = None
    encoding_confidence: float | None = None
    site: str | None = None
    quarantine_reason: str | None = None


def site_from_path(source_path: str) -> str | None:
    """The first folder of the raw-relative path that is not a date folder (`2026-11-01/`)."""
    for part in PurePosixPath(source_path).parts[:-1]:
        if not DATE_FOLDER.match(part):
            return part
    return None


def page_from_text(text: str, source_path: str) -> Page:
    """A page from decoded text: HTML is extracted, plain text split into lines."""
    site = site_from_path(source_path)
    if looks_like_html(text, source_path):
        extracted = extract_html(text)
        page = Page.from_lines(extracted.lines, source_path=source_path, site=extracted.host or site,
                               title_hint=extracted.title_hint)
        page.drafts[0].audit.removed.extend(extracted.removed)
        return page
    return Page.from_lines(text.split("\n"), source_path=source_path, site=site)


def run_recipe(page: Page, ctx: CleanContext, recipe: tuple[str, ...] = RECIPE) -> Page:
    for name in recipe:
        page = STAGES[name](page, ctx)
    return page


def clean_text(text: str, source_path: str, ctx: CleanContext | None = None,
               recipe: tuple[str, ...] = RECIPE) -> Page:
    """Run the recipe over decoded text; the page's drafts are its documents."""
    return run_recipe(page_from_text(text, source_path), ctx or CleanContext(), recipe)


def documents_of(page: Page) -> list[CleanDoc]:
    docs = []
    for draft in page.drafts:
        text = "\n".join(draft.lines).strip()
        if not text:
            continue
        repairs = [(wrong, right, count) for (wrong, right), count in sorted(draft.audit.repairs.items())]
        docs.append(CleanDoc(len(docs), draft.title, text, list(draft.audit.removed), repairs))
    return docs


@dataclass
class Prepared:
    """A file decoded into a page, before the recipe runs: what batch-level evidence is counted on."""

    page: Page
    encoding: str
    encoding_confidence: float


def prepare(raw: bytes, source_path: str) -> Prepared:
    """Decode one file and turn it into a page; raise `Undecodable` with the quarantine reason."""
    decoded: Decoded = decode_bytes(raw)
    return Prepared(page_from_text(decoded.text, source_path), decoded.encoding, decoded.confidence)


def count_site_lines(prepared: list[Prepared]) -> SiteLineCounts:
    """Per site, on how many of these pages each normalised line occurs: the strip stage's evidence.

    Counted on the lines as normalisation leaves them, which is what the strip stage sees.
    """
    counts = SiteLineCounts()
    for item in prepared:
        if item.page.site:
            counts.add_page(item.page.site, normalize_lines(item.page.drafts[0].lines))
    return counts


def finish(prepared: Prepared, ctx: CleanContext | None = None, recipe: tuple[str, ...] = RECIPE) -> FileOutcome:
    """Run the recipe over a prepared page; a page with nothing left gives a `no_content` reason."""
    page = run_recipe(prepared.page, ctx or CleanContext(), recipe)
    outcome = FileOutcome(documents_of(page), prepared.encoding, prepared.encoding_confidence, page.site)
    if not outcome.docs:
        outcome.quarantine_reason = "no_content: nothing left after cleaning"
    return outcome


def clean_bytes(raw: bytes, source_path: str, ctx: CleanContext | None = None,
                recipe: tuple[str, ...] = RECIPE) -> FileOutcome:
    """Decode and clean one file. Unreadable input gives a quarantine reason, not an exception."""
    try:
        prepared = prepare(raw, source_path)
    except Undecodable as exc:
        return FileOutcome(site=site_from_path(source_path), quarantine_reason=exc.reason)
    return finish(prepared, ctx, recipe)
