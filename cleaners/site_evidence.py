"""Evidence across pages: how many distinct pages of a site each line appears on.

A site's furniture (its footer, its menu, its "扫码关注" box) is on every page;
a document's sentences are on one. Counting, per site, the number of DISTINCT
pages a normalised line occurs on lets the strip stage remove chrome that no
rule knows. The counts are a plain mapping so they can travel in
`CleanContext.site_lines`:

    counts[site][line_key(line)] -> number of pages of `site` holding the line
    counts[site][TOTAL_KEY]      -> number of pages of `site` counted

`SiteLineCounts` merges (counts from several batches or runs add up) and
round-trips through a pyarrow Table (columns site, key, pages; the total is
the row whose key is TOTAL_KEY) so the flow can keep it under
`OUT/_state/site_lines/` and scheduled runs learn from earlier pages.
"""
from __future__ import annotations

import re
from collections import Counter
from typing import Iterable

import pyarrow as pa

TOTAL_KEY = ""  # the reserved key under which a site's page count is kept
MAX_COUNTED_LINE = 300  # longer lines are prose, never furniture: not counted, keeps the table small
MAX_KEY_CHARS = 120
DIGITS = re.compile(r"\d+")
SCHEMA = pa.schema([("site", pa.string()), ("key", pa.string()), ("pages", pa.int64())])


def line_key(line: str) -> str:
    """The form a line is counted under: no white space, digit runs as '0', lower case, bounded length.

    Digits are folded so that "第1页 / 共4页" and "阅 166" count as the same
    furniture on every page whatever their numbers.
    """
    return DIGITS.sub("0", "".join(line.split())).lower()[:MAX_KEY_CHARS]  # str.split splits on what \s matches


class SiteLineCounts(dict):
    """site -> Counter(line key -> distinct pages); the Counter's TOTAL_KEY holds the page count."""

    def add_page(self, site: str | None, lines: Iterable[str]) -> "SiteLineCounts":
        """Count one page: each distinct line key once, and the page itself once."""
        if not site:
            return self
        keys = {line_key(line) for line in lines if line.strip() and len(line) <= MAX_COUNTED_LINE}
        keys.discard(TOTAL_KEY)
        counter = self.setdefault(site, Counter())
        counter.update(keys)
        counter[TOTAL_KEY] += 1
        return self

    def merge(self, other: "SiteLineCounts") -> "SiteLineCounts":
        """Add another set of counts into this one (pages of different batches are distinct pages)."""
        for site, counter in other.items():
            self.setdefault(site, Counter()).update(counter)
        return self

    def combined(self, other: "SiteLineCounts") -> "SiteLineCounts":
        """A new count of this one plus `other`, for the sites `other` has; neither is changed."""
        return SiteLineCounts({site: self.get(site, Counter()) + counter for site, counter in other.items()})

    def pruned(self, min_share: float) -> "SiteLineCounts":
        """Keep, per site, the lines on at least `min_share` of its pages (and at least two).

        A line far below the share at which the strip stage calls it furniture
        will not get there, and prose lines seen once are most of the table.
        """
        kept = SiteLineCounts()
        for site, counter in self.items():
            floor = max(2, min_share * counter.get(TOTAL_KEY, 0))
            kept[site] = Counter({key: n for key, n in counter.items() if key == TOTAL_KEY or n >= floor})
        return kept

    def pages(self, site: str) -> int:
        return self.get(site, Counter()).get(TOTAL_KEY, 0)

    def to_table(self) -> pa.Table:
        sites, keys, pages = [], [], []
        for site in sorted(self):
            for key, count in sorted(self[site].items()):
                sites.append(site)
                keys.append(key)
                pages.append(int(count))
        return pa.table({"site": sites, "key": keys, "pages": pages}, schema=SCHEMA)

    @classmethod
    def from_table(cls, table: pa.Table) -> "SiteLineCounts":
        """Counts from a table written by `to_table`; rows of the same site and key add up."""
        counts = cls()
        columns = table.select(["site", "key", "pages"]).to_pydict()
        for site, key, count in zip(columns["site"], columns["key"], columns["pages"]):
            counts.setdefault(site, Counter())[key] += count
        return counts


def count_page_lines(site: str | None, lines: Iterable[str]) -> SiteLineCounts:
    """The counts of one page: what the flow's pre-pass computes per file and merges."""
    return SiteLineCounts().add_page(site, lines)
