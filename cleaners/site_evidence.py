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
import pyarrow.compute as pc

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
    def from_table(cls, table: pa.Table, min_share: float = 0.0) -> "SiteLineCounts":
        """Counts from a table written by `to_table`; rows of the same site and key add up.

        With `min_share`, keep per site only the lines on at least that share of
        its pages (and at least two): a line far below the share at which the
        strip stage calls it furniture will not get there, and prose lines seen
        once are most of the table. The rows of every batch ever committed are
        summed and pruned in Arrow, so only what is kept becomes Python objects.
        """
        summed = table.group_by(["site", "key"]).aggregate([("pages", "sum")])
        if min_share:
            totals = summed.filter(pc.equal(summed["key"], TOTAL_KEY)).select(["site", "pages_sum"])
            summed = summed.join(totals.rename_columns(["site", "site_pages"]), "site")
            site_pages = pc.fill_null(summed["site_pages"], 0).cast(pa.float64())
            floor = pc.max_element_wise(pc.multiply(site_pages, min_share), 2.0)
            summed = summed.filter(pc.or_(pc.equal(summed["key"], TOTAL_KEY),
                                          pc.greater_equal(summed["pages_sum"].cast(pa.float64()), floor)))
        counts = cls()
        columns = summed.select(["site", "key", "pages_sum"]).to_pydict()
        for site, key, count in zip(columns["site"], columns["key"], columns["pages_sum"]):
            counts.setdefault(site, Counter())[key] = count
        return counts


def count_page_lines(site: str | None, lines: Iterable[str]) -> SiteLineCounts:
    """The counts of one page: what the flow's pre-pass computes per file and merges."""
    return SiteLineCounts().add_page(site, lines)
