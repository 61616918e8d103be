"""The duplicate index across runs: loaded from the output folder, extended batch by batch.

Every committed batch stores the signatures of its documents as the state
table `_state/dedup/<batch_id>.parquet` (committed atomically with the
batch's rows, see `flows.storage`). A run streams all of them into the index
once (`DuplicateIndex.load`: never the whole table in memory), then marks
each batch's documents in batch order just before that batch is committed, so
`duplicate_of` always names the earliest copy in the whole dataset.
"""
from __future__ import annotations

import logging

import pyarrow as pa

from cleaners.dedup import DEFAULT_THRESHOLD, DuplicateIndex, Sketches
from flows.batch import FileRecord, with_documents
from flows.storage import OutputStore

DEDUP_STATE = "dedup"

logger = logging.getLogger(__name__)


def load_duplicate_index(store: OutputStore, threshold: float = DEFAULT_THRESHOLD) -> DuplicateIndex:
    """Every signature earlier runs committed, as one index."""
    index = DuplicateIndex.load(lambda columns: store.iter_state(DEDUP_STATE, columns), threshold)
    if index.other_scheme_rows:
        logger.warning("%d persisted signatures were made with another MinHash scheme and are ignored",
                       index.other_scheme_rows)
    return index


def mark_duplicates(index: DuplicateIndex, records: list[FileRecord]) -> tuple[dict[str, str], dict[str, pa.Table]]:
    """Index a batch's documents in order: ({doc_id: earliest copy}, {state name: rows to commit}).

    Safe to repeat for the same batch (a retried commit): indexed documents keep their answer
    and their rows are written again.
    """
    with_docs = with_documents(records)  # the same records, in the same order, as `sketch_documents` took
    docs = [(doc.doc_id(record.file.source_path), doc.text, f"{record.file.source_path}#{doc.part_index}")
            for record in with_docs for doc in record.outcome.docs]
    if not docs:
        return {}, {}
    made = [record.sketches for record in with_docs]
    # Sketches made where the batch was cleaned (`flows.batch.sketch_documents`); without them, made here.
    sketches = Sketches.joined(made) if all(part is not None for part in made) else None
    duplicate_of = index.assign(docs, sketches)
    return duplicate_of, {DEDUP_STATE: index.to_table([doc_id for doc_id, _, _ in docs])}
