"""Find exact and near-duplicate documents across the whole dataset.

Document sites re-post the same speech under new titles, cut parts out of it,
or "spin" it by swapping words for synonyms (保护→疼惜/爱护, 经验→阅历). Rows
are never dropped: a copy gets `duplicate_of` = the `doc_id` of the earliest
copy, so that users can filter and we can audit.

Two tests, cheapest first:
- exact: the same normalised text (white space and punctuation removed), by a
  128-bit hash of it;
- near: MinHash over character n-grams with banded LSH to find candidates,
  then either the signatures' agreement (an estimate of the n-gram Jaccard
  similarity) reaches `threshold`, or the estimated share of the new
  document's n-grams found in a larger earlier one (containment, from the
  Jaccard estimate and both n-gram counts) reaches `containment`: a copy of
  half a speech has Jaccard 0.5 but containment 1. LSH is tuned on Jaccard
  (see `MinHashScheme`), so an excerpt much smaller than its source (Jaccard
  below about 0.3) is found only by chance.

Measured on the seeds (`003…`) with n = 5: the spun copies score 0.67–0.82
against their original, the partial copy 0.70, the near copy 0.90; distinct
speeches on the same subject score <= 0.01 and the national work reports of
2024 and 2025 (the most alike distinct texts at hand) 0.12. `DEFAULT_THRESHOLD`
0.5 sits in that gap. On 50,000 generated documents (`bench/dedup_bench.py`)
spun copies score >= 0.60, partial copies (50–90 %) down to 0.45 Jaccard but
their containment stays high, hence `DEFAULT_CONTAINMENT` 0.8 for documents
of at least `MIN_CONTAINED_GRAMS` n-grams (a short text is contained in many).

Signatures are computed by `rensa` (Rust MinHash) from n-gram hashes built
with numpy and handed over as one flat buffer per batch: 0.17 ms a document
against 3.3 ms for datasketch's MinHash, 0.87 ms for rensa fed Python n-gram
sets and 0.94 ms for a numpy-only MinHash (`bench/dedup_bench.py`, 2,000
documents of ~1,600 characters, 128 permutations). The index keeps its state as an
Arrow table (`to_table` / `from_table`) so that the flow can persist new
signatures with each committed batch and reload them at the next run.
"""
from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import rensa

DEFAULT_THRESHOLD = 0.5
DEFAULT_CONTAINMENT = 0.8
MIN_CONTAINED_GRAMS = 200

NOT_TEXT = re.compile(r"[\W_]+")  # white space and punctuation: copies differ in them freely
FNV_OFFSET = np.uint64(0xCBF29CE484222325)
FNV_PRIME = np.uint64(0x100000001B3)
BAND_MIX = np.uint64(0x9E3779B97F4A7C15)


@dataclass(frozen=True)
class MinHashScheme:
    """How signatures are made; signatures of different schemes cannot be compared.

    `bands` x `rows` = the part of the signature used for LSH; 42 bands of 3
    rows find a pair of Jaccard 0.5 with probability 0.996 and of 0.3 with
    0.68, and every candidate is then checked on the whole signature.
    """

    ngram: int = 5
    num_perm: int = 128
    bands: int = 42
    seed: int = 1

    @property
    def rows(self) -> int:
        return self.num_perm // self.bands

    @property
    def name(self) -> str:
        return f"rensa-rminhash{rensa.RMinHash.ALGORITHM_VERSION}-char{self.ngram}-perm{self.num_perm}-seed{self.seed}"


DEFAULT_SCHEME = MinHashScheme()


def normalised(text: str) -> str:
    return NOT_TEXT.sub("", text)


def text_key(text: str) -> bytes:
    """128-bit hash of the normalised text: equal keys mean exact duplicates."""
    return hashlib.blake2b(normalised(text).encode("utf-8"), digest_size=16).digest()


def shingle_hashes(text: str, ngram: int) -> np.ndarray:
    """64-bit FNV-1a hashes of every character n-gram of the normalised text (numpy, no per-gram objects)."""
    codes = np.frombuffer(normalised(text).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(codes) < ngram:  # too short for one n-gram: the whole text is the one token
        codes = np.concatenate([codes, np.zeros(ngram - len(codes), dtype=np.uint64)])
    windows = np.lib.stride_tricks.sliding_window_view(codes, ngram)
    hashes = np.full(len(windows), FNV_OFFSET, dtype=np.uint64)
    for k in range(ngram):
        hashes = (hashes ^ windows[:, k]) * FNV_PRIME
    return hashes


@dataclass(frozen=True)
class Sketches:
    """What the index keeps of each of many texts: MinHash signatures, n-gram counts, exact-text keys."""

    signatures: np.ndarray  # (n, num_perm) uint32
    sizes: np.ndarray  # (n,) n-grams: occurrences, a close bound on distinct ones in prose, without a sort
    keys: list[bytes]


def sketch(texts: list[str], scheme: MinHashScheme = DEFAULT_SCHEME) -> Sketches:
    """Sketch many texts with one call into rensa (where the time would go one text at a time)."""
    if not texts:
        return Sketches(np.zeros((0, scheme.num_perm), dtype=np.uint32), np.zeros(0, dtype=np.int64), [])
    hashed = [shingle_hashes(t, scheme.ngram) for t in texts]
    sizes = np.array([len(h) for h in hashed], dtype=np.int64)
    offsets = np.zeros(len(hashed) + 1, dtype=np.uint64)
    offsets[1:] = np.cumsum(sizes)
    matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(
        np.concatenate(hashed), offsets, scheme.num_perm, scheme.seed)
    sigs = np.asarray(matrix.to_rows(), dtype=np.uint32).reshape(len(texts), scheme.num_perm)
    return Sketches(sigs, sizes, [text_key(t) for t in texts])


def signatures(texts: list[str], scheme: MinHashScheme = DEFAULT_SCHEME) -> np.ndarray:
    """MinHash signatures of many texts: a (len(texts), num_perm) uint32 matrix."""
    return sketch(texts, scheme).signatures


def signature(text: str, scheme: MinHashScheme = DEFAULT_SCHEME) -> np.ndarray:
    return signatures([text], scheme)[0]


def band_keys(sigs: np.ndarray, scheme: MinHashScheme) -> np.ndarray:
    """One 64-bit key per (document, band): equal keys mean the band's rows agree."""
    used = sigs[:, : scheme.bands * scheme.rows].reshape(len(sigs), scheme.bands, scheme.rows).astype(np.uint64)
    keys = np.broadcast_to(np.arange(scheme.bands, dtype=np.uint64) * BAND_MIX, used.shape[:2]).copy()
    for r in range(scheme.rows):
        keys = (keys ^ used[:, :, r]) * FNV_PRIME
        keys ^= keys >> np.uint64(29)
    return keys


class BandTable:
    """LSH buckets: which documents have each band key.

    A dict of Python ints costs about 100 bytes per (document, band): 50,000
    documents x 42 bands would take some 200 MB, and the whole dataset's index
    is loaded at every run. So the keys live in a sorted uint64 array beside
    an int32 array of documents (12 bytes an entry), queried with
    `searchsorted`; recent additions wait in a small dict and are merged in
    once it holds `MERGE_AT` entries (a sort of the few, an O(n) insert).
    """

    MERGE_AT = 100_000

    def __init__(self) -> None:
        self._keys = np.zeros(0, dtype=np.uint64)
        self._docs = np.zeros(0, dtype=np.int32)
        self._recent: dict[int, list[int]] = {}
        self._recent_entries = 0

    def add(self, doc: int, keys: np.ndarray) -> None:
        for key in keys.tolist():
            self._recent.setdefault(key, []).append(doc)
        self._recent_entries += len(keys)
        if self._recent_entries >= self.MERGE_AT:
            self._merge(*self._drain())

    def add_many(self, docs: np.ndarray, keys: np.ndarray) -> None:
        """Bulk load: `keys` is (len(docs), bands)."""
        self._merge(keys.reshape(-1), np.repeat(docs.astype(np.int32), keys.shape[1]))

    def _drain(self) -> tuple[np.ndarray, np.ndarray]:
        keys = np.fromiter((k for k, docs in self._recent.items() for _ in docs), np.uint64, self._recent_entries)
        docs = np.fromiter((d for ds in self._recent.values() for d in ds), np.int32, self._recent_entries)
        self._recent.clear()
        self._recent_entries = 0
        return keys, docs

    def _merge(self, keys: np.ndarray, docs: np.ndarray) -> None:
        order = np.argsort(keys, kind="stable")
        keys, docs = keys[order], docs[order]
        at = np.searchsorted(self._keys, keys, side="right")
        self._keys = np.insert(self._keys, at, keys)
        self._docs = np.insert(self._docs, at, docs)

    def find(self, keys: np.ndarray) -> set[int]:
        found: set[int] = set()
        if len(self._keys):
            low = np.searchsorted(self._keys, keys, side="left")
            high = np.searchsorted(self._keys, keys, side="right")
            hit = high > low
            for lo, hi in zip(low[hit].tolist(), high[hit].tolist()):
                found.update(self._docs[lo:hi].tolist())
        for key in keys.tolist():
            recent = self._recent.get(key)
            if recent:
                found.update(recent)
        return found


class DuplicateIndex:
    """Documents seen so far, in the order they were added; answers "is this a copy, and of what?".

    The earliest copy wins: a document that matches several earlier ones points
    at the earliest original among them. A document whose `doc_id` is already
    indexed, or that matches only an earlier version of itself (same
    `origin`, e.g. `source_path#part_index`), is never called a copy of
    itself; since the dataset keeps only a file's latest rows, copies found
    later point at the latest version of their original.
    """

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, scheme: MinHashScheme = DEFAULT_SCHEME,
                 containment: float = DEFAULT_CONTAINMENT):
        for name, value in (("threshold", threshold), ("containment", containment)):
            if not 0 < value <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {value}")
        self.threshold = threshold
        self.containment = containment
        self.scheme = scheme
        self._ids: list[str] = []
        self._pos: dict[str, int] = {}
        self._root: list[int] = []
        self._origin: list[str | None] = []
        self._latest: dict[str, int] = {}  # origin -> its latest version
        self._keys: list[bytes] = []
        self._exact: dict[bytes, int] = {}
        self._sigs = np.zeros((1024, scheme.num_perm), dtype=np.uint32)
        self._sizes = np.zeros(1024, dtype=np.int64)
        self._bands = BandTable()
        self._added_at: list[datetime] = []

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, doc_id: str) -> bool:
        return doc_id in self._pos

    def _similar(self, candidates: np.ndarray, sig: np.ndarray, size: int) -> np.ndarray:
        """The candidates close enough by Jaccard, or that contain most of the (smaller) document.

        Only the new document's containment counts: a full text that comes after
        an excerpt of it is not a "partial copy" of the excerpt.
        """
        jaccard = (self._sigs[candidates] == sig).mean(axis=1)
        sizes = self._sizes[candidates]
        shared = jaccard * (sizes + size) / (1 + jaccard)  # |A ∩ B| from J = |A ∩ B| / |A ∪ B|
        contained = (shared >= self.containment * size) & (sizes >= size) & (size >= MIN_CONTAINED_GRAMS)
        return candidates[(jaccard >= self.threshold) | contained]

    def _match(self, sig: np.ndarray, size: int, key: bytes, bands: np.ndarray, origin: str | None) -> int | None:
        """Index of the earliest original this document copies, or None."""
        candidates = self._bands.find(bands)
        exact = self._exact.get(key)
        if exact is not None:
            candidates.add(exact)
        if not candidates:
            return None
        similar = self._similar(np.fromiter(sorted(candidates), dtype=np.int64), sig, size)
        if exact is not None:
            similar = np.union1d(similar, [exact])
        for root in sorted({self._root[i] for i in similar.tolist()}):
            # A document processed again under the same origin replaced its old row: point at the current one.
            current = self._latest.get(self._origin[root], root) if self._origin[root] is not None else root
            target = self._root[current]
            if origin is None or self._origin[target] != origin:
                return target
        return None

    def _add(self, doc_id: str, sig: np.ndarray, size: int, key: bytes, bands: np.ndarray | None,
             origin: str | None, root: int | None, added_at: datetime) -> None:
        """Index one document; `bands` None when the caller loads band keys in bulk."""
        index = len(self._ids)
        if index == len(self._sigs):
            self._sigs = np.concatenate([self._sigs, np.zeros_like(self._sigs)])
            self._sizes = np.concatenate([self._sizes, np.zeros_like(self._sizes)])
        self._sigs[index] = sig
        self._sizes[index] = size
        self._ids.append(doc_id)
        self._pos[doc_id] = index
        self._root.append(index if root is None else root)
        self._origin.append(origin)
        if origin is not None:
            self._latest[origin] = index
        self._keys.append(key)
        self._added_at.append(added_at)
        self._exact.setdefault(key, index)
        if bands is not None:
            self._bands.add(index, bands)

    def duplicate_of(self, doc_id: str) -> str | None:
        """The earliest copy an indexed document was found to copy, or None."""
        index = self._pos[doc_id]
        root = self._root[index]
        return None if root == index else self._ids[root]

    def find_or_add(self, doc_id: str, text: str | None = None, *, origin: str | None = None) -> str | None:
        """Return the doc_id of the earliest copy `doc_id` duplicates (None if original), then index it.

        The text may be left out when `doc_id` is already indexed.
        """
        if doc_id in self._pos:
            return self.duplicate_of(doc_id)
        if text is None:
            raise ValueError(f"{doc_id} is not indexed yet: its text is needed")
        return self.assign([(doc_id, text, origin)]).get(doc_id)

    def assign(self, docs: Iterable[tuple[str, str, str | None]]) -> dict[str, str]:
        """Index (doc_id, text, origin) in order; return {doc_id: earliest copy} for the copies.

        The whole batch is sketched in one call, which is where the time goes.
        """
        docs = list(docs)
        fresh = [d for d in docs if d[0] not in self._pos]
        sketches = sketch([text for _, text, _ in fresh], self.scheme)
        all_bands = band_keys(sketches.signatures, self.scheme)
        now = datetime.now(timezone.utc)
        for n, ((doc_id, _, origin), bands) in enumerate(zip(fresh, all_bands)):
            if doc_id in self._pos:  # the same doc twice in one batch
                continue
            sig, size, key = sketches.signatures[n], int(sketches.sizes[n]), sketches.keys[n]
            root = self._match(sig, size, key, bands, origin)
            self._add(doc_id, sig, size, key, bands, origin, root, now)
        return {doc_id: dup for doc_id, _, _ in docs if (dup := self.duplicate_of(doc_id))}

    def to_table(self, doc_ids: Iterable[str] | None = None) -> pa.Table:
        """The index rows of `doc_ids` (all rows if None) as a table `from_table` reloads."""
        indices = list(range(len(self._ids))) if doc_ids is None else sorted({self._pos[d] for d in doc_ids})
        sig_flat = pa.array(self._sigs[indices].reshape(-1), type=pa.uint32())
        columns = {
            "doc_id": pa.array([self._ids[i] for i in indices], pa.string()),
            "origin": pa.array([self._origin[i] for i in indices], pa.string()),
            "duplicate_of": pa.array([self.duplicate_of(self._ids[i]) for i in indices], pa.string()),
            "text_key": pa.array([self._keys[i] for i in indices], pa.binary(16)),
            "n_grams": pa.array(self._sizes[indices], pa.int32()),
            "scheme": pa.array([self.scheme.name] * len(indices), pa.string()),
            "added_at": pa.array([self._added_at[i] for i in indices], pa.timestamp("us", tz="UTC")),
            "position": pa.array(indices, pa.int32()),
            "signature": pa.FixedSizeListArray.from_arrays(sig_flat, self.scheme.num_perm),
        }
        return pa.table(columns)

    @classmethod
    def from_table(cls, table: pa.Table, threshold: float = DEFAULT_THRESHOLD,
                   scheme: MinHashScheme = DEFAULT_SCHEME, containment: float = DEFAULT_CONTAINMENT
                   ) -> "DuplicateIndex":
        """Rebuild an index from rows written by `to_table` (possibly many batches, in any file order).

        Rows are replayed in the order they were first added; rows of another
        signature scheme are skipped (count them with `stale_rows`).
        """
        index = cls(threshold, scheme, containment)
        if not table.num_rows:
            return index
        table = table.filter(pc.equal(table.column("scheme"), scheme.name))
        if not table.num_rows:
            return index
        table = table.sort_by([("added_at", "ascending"), ("position", "ascending")])
        sigs = table.column("signature").combine_chunks().flatten().to_numpy(zero_copy_only=False)
        sigs = sigs.astype(np.uint32).reshape(table.num_rows, scheme.num_perm)
        columns = {name: table.column(name).to_pylist()
                   for name in ("doc_id", "origin", "duplicate_of", "text_key", "n_grams", "added_at")}
        kept = []
        for row, sig in enumerate(sigs):
            doc_id = columns["doc_id"][row]
            if doc_id in index._pos:  # persisted twice (a re-processed or retried batch): first row wins
                continue
            kept.append(row)
            dup = columns["duplicate_of"][row]
            root = index._pos.get(dup) if dup else None
            index._add(doc_id, sig, columns["n_grams"][row], columns["text_key"][row], None,
                       columns["origin"][row], None if root is None else index._root[root], columns["added_at"][row])
        index._bands.add_many(np.arange(len(kept)), band_keys(sigs[kept], scheme))
        return index


def stale_rows(table: pa.Table, scheme: MinHashScheme = DEFAULT_SCHEME) -> int:
    """Rows of a persisted index made with another scheme (their documents need new signatures)."""
    if not table.num_rows:
        return 0
    return table.num_rows - pc.sum(pc.equal(table.column("scheme"), scheme.name)).as_py()
