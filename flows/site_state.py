"""Site line evidence across runs: loaded from the output folder, extended batch by batch.

Each batch counts, per site, on how many of its new pages every normalised
line occurs (`cleaners.pipeline.count_site_lines`) and cleans with those
counts added to the ones earlier runs committed; its own counts are committed
with it as the state table `_state/site_lines/<batch_id>.parquet`. A batch
never sees another batch of the same run, so the output does not depend on
how many batches run at once or in which order they finish.
"""
from __future__ import annotations

import pyarrow as pa

from cleaners.site_evidence import SiteLineCounts
from flows.storage import OutputStore

SITE_LINES_STATE = "site_lines"
# Lines on fewer than this share of a site's pages are dropped when the counts are loaded: the
# strip stage needs 20% or more, so they cannot matter, and they are most of the rows.
PRUNE_SHARE = 0.05


def load_site_lines(store: OutputStore) -> SiteLineCounts:
    """The per-site line counts every earlier committed batch added, pruned to what can matter."""
    table = store.read_state(SITE_LINES_STATE)
    if not table.num_rows:
        return SiteLineCounts()
    return SiteLineCounts.from_table(table, PRUNE_SHARE)


def site_lines_state(counts: SiteLineCounts) -> dict[str, pa.Table]:
    """The state table a batch commits for its own counts (nothing when it counted no page)."""
    return {SITE_LINES_STATE: counts.to_table()} if counts else {}
