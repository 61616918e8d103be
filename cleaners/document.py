"""The values that flow between cleaning stages.

A raw file becomes a `Page`: its text as a list of lines plus what is known
about it (title hint from HTML, site). Stages take a page and give it back
changed; every line or span a stage removes and every character it repairs is
written into the page's `Audit`, so that each output row can say what was done
to it and why (the `removed` and `repairs` columns).

Until the split stage runs a page holds one `Draft`; the split stage may turn
it into several, one per document, and the title stage names each of them.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Removal:
    """A line or span taken out of the text, and the rule that took it."""

    text: str
    rule: str


@dataclass
class Audit:
    """What the stages did to one document: removals in order, repairs counted."""

    removed: list[Removal] = field(default_factory=list)
    repairs: Counter = field(default_factory=Counter)  # (wrong, right) -> count

    def remove(self, text: str, rule: str) -> None:
        if text:
            self.removed.append(Removal(text, rule))

    def repair(self, wrong: str, right: str, count: int = 1) -> None:
        if wrong != right and count:
            self.repairs[(wrong, right)] += count

    def absorb(self, other: "Audit") -> None:
        self.removed.extend(other.removed)
        self.repairs.update(other.repairs)


@dataclass
class Draft:
    """One document in the making: its lines (paragraphs) and, once known, its title."""

    lines: list[str]
    title: str | None = None
    audit: Audit = field(default_factory=Audit)


@dataclass
class Page:
    """One decoded raw file on its way through the stages."""

    drafts: list[Draft]
    source_path: str = ""
    site: str | None = None
    title_hint: str | None = None  # from <title> / <h1>, when the input was HTML

    @classmethod
    def from_lines(cls, lines: list[str], **meta) -> "Page":
        return cls(drafts=[Draft(lines=list(lines))], **meta)


@dataclass
class CleanContext:
    """What a stage may know beyond the page: run options and cross-page evidence.

    `site_lines` maps a site to a mapping of normalised-line key to the number
    of distinct pages of that site the line was seen on (the strip stage's
    evidence that a line is the site's, not the document's):
    `site_lines[site][line_key(line)] -> pages`, and `site_lines[site][TOTAL_KEY]`
    (the empty key) -> pages of that site counted. Build it with
    `cleaners.site_evidence.SiteLineCounts` (`count_page_lines`, `merge`,
    `to_table`/`from_table`); an empty mapping means no cross-page evidence.
    """

    options: dict = field(default_factory=dict)
    site_lines: dict = field(default_factory=dict)
