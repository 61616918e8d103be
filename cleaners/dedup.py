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
Arrow table (`to_table` / `from_table`, or `load` to stream it back) so that
the flow can persist new signatures with each committed batch and reload them
at the next run.

The index spans the whole dataset, so its memory is what grows with it: it
keeps in memory only what finds candidates, 32-bit fingerprints in sorted
numpy runs (`KeyTable`, about 370 bytes a document, 336 of them for the 42
LSH bands), and reads a candidate's signature back from a temporary file
(`RecordFile`); every fingerprint hit is checked on the full value, so the
answers are those of an index holding everything (the old one held about
1.9 KB a document in Python objects and a signature matrix).
"""
from __future__ import annotations

import bisect
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable, Sequence

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
EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
FINGERPRINT_MASK = 0xFFFF_FFFF  # the index's tables keep 32-bit fingerprints; every hit is checked on the full value


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
    return normalised_key(normalised(text))


def normalised_key(normal: str) -> bytes:
    return hashlib.blake2b(normal.encode("utf-8"), digest_size=16).digest()


def shingle_hashes(text: str, ngram: int) -> np.ndarray:
    """64-bit FNV-1a hashes of every character n-gram of the normalised text (numpy, no per-gram objects)."""
    normal = normalised(text)
    return gram_hashes(normal, ngram, np.empty(gram_count(normal, ngram), dtype=np.uint64))


def gram_count(normal: str, ngram: int) -> int:
    return max(len(normal) - ngram + 1, 1)  # too short for one n-gram: the whole text is the one token


def gram_hashes(normal: str, ngram: int, out: np.ndarray) -> np.ndarray:
    """`shingle_hashes` of an already normalised text, written into `out` (`gram_count` long)."""
    codes = np.frombuffer(normal.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if len(codes) < ngram:
        codes = np.concatenate([codes, np.zeros(ngram - len(codes), dtype=np.uint64)])
    windows = np.lib.stride_tricks.sliding_window_view(codes, ngram)
    out[:] = FNV_OFFSET
    for k in range(ngram):
        np.bitwise_xor(out, windows[:, k], out=out)
        np.multiply(out, FNV_PRIME, out=out)
    return out


@dataclass(frozen=True)
class Sketches:
    """What the index keeps of each of many texts: MinHash signatures, n-gram counts, exact-text keys.

    A pure function of the texts, so it can be made where the texts are (a worker process
    cleaning a batch) and handed to `DuplicateIndex.assign`, which then only looks up.
    """

    signatures: np.ndarray  # (n, num_perm) uint32
    sizes: np.ndarray  # (n,) n-grams: occurrences, a close bound on distinct ones in prose, without a sort
    keys: list[bytes]
    scheme: str  # `MinHashScheme.name`: sketches of another scheme cannot be used

    def __len__(self) -> int:
        return len(self.keys)

    def take(self, positions: Sequence[int] | slice) -> Sketches:
        """The sketches at `positions` (a slice keeps views of the arrays)."""
        if isinstance(positions, slice):
            return Sketches(self.signatures[positions], self.sizes[positions], self.keys[positions], self.scheme)
        at = np.asarray(positions, dtype=np.int64)
        return Sketches(self.signatures[at], self.sizes[at], [self.keys[i] for i in positions], self.scheme)

    @staticmethod
    def joined(parts: Sequence[Sketches]) -> Sketches:
        """The sketches of every part, in order (all of one scheme)."""
        if len({part.scheme for part in parts}) != 1:
            raise ValueError("sketches of different schemes cannot be joined")
        return Sketches(np.concatenate([part.signatures for part in parts]),
                        np.concatenate([part.sizes for part in parts]),
                        [key for part in parts for key in part.keys], parts[0].scheme)


def sketch(texts: list[str], scheme: MinHashScheme = DEFAULT_SCHEME) -> Sketches:
    """Sketch many texts with one call into rensa (where the time would go one text at a time).

    Every text is normalised once, and its n-gram hashes are written straight
    into the one buffer rensa reads (no per-text arrays to concatenate).
    """
    if not texts:
        return Sketches(np.zeros((0, scheme.num_perm), dtype=np.uint32), np.zeros(0, dtype=np.int64), [], scheme.name)
    normal = [normalised(t) for t in texts]
    sizes = np.array([gram_count(n, scheme.ngram) for n in normal], dtype=np.int64)
    offsets = np.zeros(len(texts) + 1, dtype=np.uint64)
    offsets[1:] = np.cumsum(sizes)
    flat = np.empty(int(offsets[-1]), dtype=np.uint64)
    for text, start, stop in zip(normal, offsets[:-1].tolist(), offsets[1:].tolist()):
        gram_hashes(text, scheme.ngram, flat[start:stop])
    matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(flat, offsets, scheme.num_perm, scheme.seed)
    sigs = np.asarray(matrix.to_rows(), dtype=np.uint32).reshape(len(texts), scheme.num_perm)
    return Sketches(sigs, sizes, [normalised_key(n) for n in normal], scheme.name)


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


def key_fingerprints(keys: np.ndarray) -> np.ndarray:
    """What the tables keep of 64-bit keys (band keys): their top 32 bits."""
    return ((keys >> np.uint64(32)) & np.uint64(FINGERPRINT_MASK)).astype(np.uint32)


def text_key_fingerprints(keys: list[bytes]) -> np.ndarray:
    """What the tables keep of exact-text keys: their first 32 bits."""
    return np.frombuffer(b"".join(keys), dtype=np.uint32).reshape(len(keys), 4)[:, 0] & np.uint32(FINGERPRINT_MASK)


def string_fingerprint(value: str | None) -> int:
    """What the tables keep of a doc_id or origin, in this process (never 0, which stands for "no origin")."""
    return 0 if value is None else (hash(value) & FINGERPRINT_MASK) | 1


def string_fingerprints(values: Iterable[str | None]) -> np.ndarray:
    """`string_fingerprint` of each value, as the uint32 array the tables take."""
    return np.array([string_fingerprint(value) for value in values], dtype=np.uint32)


class KeyTable:
    """Which rows have each key: a multimap of uint32 fingerprints to int32 rows, 8 bytes an entry.

    A dict of Python ints costs about 100 bytes an entry and the band table
    alone has 42 entries a document. Entries come a batch at a time as a
    sorted run; a new run is merged into the run before it while that one is
    no longer (a binary counter: an entry is merged about log2(entries / batch)
    times, and there are about as many runs) and the merged run stays within
    `MAX_RUN` entries, which bounds the transient copy a merge makes whatever
    the corpus size. A lookup is a `searchsorted` in every run, for a whole
    batch of keys at once. Fingerprints collide: callers check what a row
    found holds.
    """

    MAX_RUN = 1 << 21

    def __init__(self) -> None:
        self._runs: list[tuple[np.ndarray, np.ndarray]] = []

    def __len__(self) -> int:
        return sum(len(keys) for keys, _ in self._runs)

    def add(self, keys: np.ndarray, rows: np.ndarray) -> None:
        if not len(keys):
            return
        order = np.argsort(keys, kind="stable")
        new_keys, new_rows = keys[order].astype(np.uint32), rows[order].astype(np.int32)
        while (self._runs and len(self._runs[-1][0]) <= len(new_keys)
               and len(self._runs[-1][0]) + len(new_keys) <= self.MAX_RUN):
            old_keys, old_rows = self._runs.pop()
            at = np.searchsorted(old_keys, new_keys, side="right")
            new_keys, new_rows = np.insert(old_keys, at, new_keys), np.insert(old_rows, at, new_rows)
        self._runs.append((new_keys, new_rows))

    def lookup(self, keys: np.ndarray) -> Lookup:
        """Find many keys at once (searched in key order, where `searchsorted` narrows from the last answer)."""
        keys = keys.astype(np.uint32)
        order = np.argsort(keys, kind="stable")
        in_order = keys[order]
        counts = np.zeros(len(keys), dtype=np.int64)
        spans = []
        for run_index, (run, _) in enumerate(self._runs):
            low, high = np.empty(len(keys), dtype=np.int64), np.empty(len(keys), dtype=np.int64)
            low[order] = np.searchsorted(run, in_order, side="left")
            high[order] = np.searchsorted(run, in_order, side="right")
            found = np.flatnonzero(high > low)
            counts[found] += high[found] - low[found]
            spans.append(np.stack([found, np.full(len(found), run_index), low[found], high[found]]))
        spans = np.concatenate(spans, axis=1) if spans else np.zeros((4, 0), dtype=np.int64)
        spans = spans[:, np.argsort(spans[0], kind="stable")]
        return Lookup(counts, spans, [rows for _, rows in self._runs])


@dataclass(frozen=True)
class Lookup:
    """Where the rows of many keys lie in a `KeyTable`: searched for a batch at once, read a key range at a time."""

    counts: np.ndarray  # rows found per key
    spans: np.ndarray  # (4, n): key, run, first and end position of every key's rows in every run, by key
    runs: list[np.ndarray]  # each run's rows

    def rows(self, start: int, stop: int) -> np.ndarray:
        """The rows of keys[start:stop], a row once for every one of these keys it has."""
        first, end = np.searchsorted(self.spans[0], [start, stop]).tolist()
        found = [self.runs[run][low:high] for _, run, low, high in self.spans[:, first:end].T.tolist()]
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int32)


def consecutive_stretches(rows: np.ndarray) -> list[tuple[int, int]]:
    """(start, stop) positions of the stretches of `rows` that count up by one: one read or write each."""
    values = rows.tolist()  # mostly a few rows: a Python loop beats numpy's per-call cost
    breaks = [n for n in range(1, len(values)) if values[n] != values[n - 1] + 1]
    return list(zip([0, *breaks], [*breaks, len(values)])) if values else []


class RecordFile:
    """What only a candidate check or a persisted row needs of each document, in unnamed temporary files.

    A document's signature alone is 512 bytes. It is kept with the n-gram
    count, the exact-text key and the time added in a fixed-size record at
    row x record size of one file, and the doc_id and origin in a second
    file. They are read back with `os.pread` for the few rows a lookup found
    (from the page cache, which the kernel may write out and drop, not from
    this process's memory); the files go when the index or the process does.
    """

    def __init__(self, num_perm: int) -> None:
        self.dtype = np.dtype([("signature", np.uint32, (num_perm,)), ("n_grams", np.int64), ("added_at", np.int64),
                               ("text_key", np.uint64, (2,)), ("strings_at", np.int64), ("doc_id_bytes", np.int32),
                               ("origin_bytes", np.int32)])  # origin_bytes -1: no origin
        self._records = tempfile.TemporaryFile(prefix="dedup-records-", buffering=0)
        self._strings = tempfile.TemporaryFile(prefix="dedup-strings-", buffering=0)
        self._strings_end = 0

    def write(self, rows: np.ndarray, records: np.ndarray, doc_ids: list[str], origins: list[str | None]) -> None:
        """Store `records` at `rows` with their strings (this fills the records' string fields)."""
        ids = [doc_id.encode("utf-8") for doc_id in doc_ids]
        others = [b"" if origin is None else origin.encode("utf-8") for origin in origins]
        records["doc_id_bytes"] = [len(b) for b in ids]
        records["origin_bytes"] = [-1 if origin is None else len(b) for origin, b in zip(origins, others)]
        lengths = records["doc_id_bytes"].astype(np.int64) + np.maximum(records["origin_bytes"], 0)
        records["strings_at"] = self._strings_end + np.cumsum(lengths) - lengths
        blob = b"".join(part for pair in zip(ids, others) for part in pair)
        _write_all(self._strings.fileno(), blob, self._strings_end)
        self._strings_end += len(blob)
        for start, stop in consecutive_stretches(rows):
            _write_all(self._records.fileno(), records[start:stop].tobytes(), int(rows[start]) * self.dtype.itemsize)

    def read(self, rows: np.ndarray) -> np.ndarray:
        size, fd = self.dtype.itemsize, self._records.fileno()
        data = b"".join(os.pread(fd, (stop - start) * size, int(rows[start]) * size)
                        for start, stop in consecutive_stretches(rows))
        if len(data) != len(rows) * size:
            raise RuntimeError("dedup record file: a row asked for was never written")
        return np.frombuffer(data, dtype=self.dtype)

    def strings(self, record: np.void) -> tuple[str, str | None]:
        """(doc_id, origin) of one record."""
        return self.all_strings(record.reshape(1))[0]

    def all_strings(self, records: np.ndarray) -> list[tuple[str, str | None]]:
        """(doc_id, origin) of each record; one read for the strings of records written together."""
        starts = records["strings_at"].tolist()
        id_lengths = records["doc_id_bytes"].tolist()
        origin_lengths = records["origin_bytes"].tolist()
        ends = [at + n + max(m, 0) for at, n, m in zip(starts, id_lengths, origin_lengths)]
        breaks = [n for n in range(1, len(starts)) if starts[n] != ends[n - 1]]
        found: list[tuple[str, str | None]] = []
        for first, stop in zip([0, *breaks], [*breaks, len(starts)]) if starts else ():
            data = os.pread(self._strings.fileno(), ends[stop - 1] - starts[first], starts[first])
            for at, n, m in zip(starts[first:stop], id_lengths[first:stop], origin_lengths[first:stop]):
                at -= starts[first]
                origin = None if m < 0 else data[at + n:at + n + m].decode("utf-8")
                found.append((data[at:at + n].decode("utf-8"), origin))
        return found


def _write_all(fd: int, data: bytes, offset: int) -> None:
    view = memoryview(data)
    while view:
        written = os.pwrite(fd, view, offset)
        view, offset = view[written:], offset + written


class DuplicateIndex:
    """Documents seen so far, in the order they were added; answers "is this a copy, and of what?".

    The earliest copy wins: a document that matches several earlier ones points
    at the earliest original among them. A document whose `doc_id` is already
    indexed, or that matches only an earlier version of itself (same
    `origin`, e.g. `source_path#part_index`), is never called a copy of
    itself; since the dataset keeps only a file's latest rows, copies found
    later point at the latest version of their original.

    Memory per document (the index spans every run's documents, so this is
    what grows with the dataset): 8 bytes an entry in four `KeyTable`s (42
    bands, its doc_id, and its text and origin if it is the first with them)
    and 12 bytes of arrays (its root, its origin's first and next version),
    some 370 bytes; everything else is in a `RecordFile` on disk.
    Candidates are checked root by root, earliest first, and only until one
    is similar, so a document with many earlier copies reads few records.
    """

    FIRST_CHECK = 4  # candidate records read in the first step, doubling in each next one ...
    MOST_CHECKED = 256  # ... up to this many

    def __init__(self, threshold: float = DEFAULT_THRESHOLD, scheme: MinHashScheme = DEFAULT_SCHEME,
                 containment: float = DEFAULT_CONTAINMENT):
        for name, value in (("threshold", threshold), ("containment", containment)):
            if not 0 < value <= 1:
                raise ValueError(f"{name} must be in (0, 1], got {value}")
        self.threshold = threshold
        self.containment = containment
        self.scheme = scheme
        self.other_scheme_rows = 0  # rows `load` skipped: made with another scheme, their documents need new signatures
        self._count = 0
        self._root = np.zeros(1024, dtype=np.int32)  # the earliest original a row copies; itself if none
        self._first_version = np.zeros(1024, dtype=np.int32)  # first row of the same origin; -1: no origin
        self._next_version = np.zeros(1024, dtype=np.int32)  # next row of the same origin; 0: none yet
        self._bands = KeyTable()
        self._exact = KeyTable()  # the first row of each exact-text key
        self._ids = KeyTable()
        self._origins = KeyTable()  # the first row of each origin
        self._records = RecordFile(scheme.num_perm)

    def __len__(self) -> int:
        return self._count

    def __contains__(self, doc_id: str) -> bool:
        return self._rows_of([doc_id])[0] >= 0

    def _reserve(self, rows: int) -> None:
        if rows > len(self._root):
            grown = max(rows, 2 * len(self._root))
            self._root, self._first_version, self._next_version = (
                np.concatenate([values, np.zeros(grown - len(values), dtype=values.dtype)])
                for values in (self._root, self._first_version, self._next_version))

    def _strings(self, row: int) -> tuple[str, str | None]:
        return self._records.strings(self._records.read(np.array([row]))[0])

    def _doc_ids(self, rows: Iterable[int]) -> dict[int, str]:
        rows = np.unique(np.fromiter(rows, dtype=np.int64))
        strings = self._records.all_strings(self._records.read(rows))
        return {row: doc_id for row, (doc_id, _) in zip(rows.tolist(), strings)}

    def _rows_of(self, doc_ids: list[str]) -> np.ndarray:
        """The row of each doc_id, -1 for those not indexed."""
        rows = np.full(len(doc_ids), -1, dtype=np.int64)
        lookup = self._ids.lookup(string_fingerprints(doc_ids))
        hits = sorted((row, n) for n in np.flatnonzero(lookup.counts).tolist()
                      for row in lookup.rows(n, n + 1).tolist())
        if hits:  # checked on the doc_ids themselves, read together (a batch's rows are mostly consecutive)
            found = self._records.all_strings(self._records.read(np.array([row for row, _ in hits])))
            for (row, n), (doc_id, _) in zip(hits, found):
                if doc_id == doc_ids[n]:
                    rows[n] = row
        return rows

    def _exact_rows(self, keys: list[bytes], rows: np.ndarray) -> np.ndarray:
        """For each new text (at `rows`), the first earlier row with the same exact-text key, -1 if none."""
        found = np.full(len(keys), -1, dtype=np.int64)
        lookup = self._exact.lookup(text_key_fingerprints(keys))
        for n in np.flatnonzero(lookup.counts).tolist():
            hits = np.unique(lookup.rows(n, n + 1))
            same = hits[(self._records.read(hits)["text_key"] == np.frombuffer(keys[n], dtype=np.uint64)).all(axis=1)]
            if len(same):
                found[n] = same[0]
        first_in_batch: dict[bytes, int] = {}
        for n, key in enumerate(keys):
            if found[n] < 0:
                found[n] = first_in_batch.setdefault(key, int(rows[n]))
        return np.where(found == rows, -1, found)

    def _link_versions(self, rows: np.ndarray, origins: list[str | None]) -> None:
        """Chain each new row (in order) to the earlier rows of its origin; the first of an origin is its own first."""
        self._first_version[rows] = -1
        named = [n for n, origin in enumerate(origins) if origin is not None]
        fingerprints = string_fingerprints(origins[n] for n in named)
        lookup = self._origins.lookup(fingerprints)
        hits = lookup.counts
        latest: dict[str, int] = {}  # origin -> its latest row so far, for the origins of this batch
        firsts = []
        for k, n in enumerate(named):
            origin, row = origins[n], int(rows[n])
            if origin not in latest and hits[k]:
                first = next((r for r in np.unique(lookup.rows(k, k + 1)).tolist() if self._strings(r)[1] == origin),
                             None)
                if first is not None:
                    latest[origin] = self._latest_version(first, row)
            previous = latest.get(origin)
            if previous is None:
                self._first_version[row] = row
                firsts.append(k)
            else:
                self._next_version[previous] = row
                self._first_version[row] = self._first_version[previous]
            latest[origin] = row
        self._origins.add(fingerprints[firsts], rows[named][firsts])

    def _latest_version(self, row: int, before: int) -> int:
        """The latest row before `before` with the origin of `row`."""
        while (following := int(self._next_version[row])) and following < before:
            row = following
        return row

    def _latest_root(self, root: int, before: int) -> int:
        """Where copies of `root` point now: the root of its origin's latest version among rows before `before`."""
        return int(self._root[self._latest_version(root, before)])

    def _similar(self, rows: np.ndarray, sig: np.ndarray, size: int, bands: np.ndarray) -> np.ndarray:
        """Which rows share a band with the document and are close enough by Jaccard or contain most of it.

        Only the new document's containment counts: a full text that comes after
        an excerpt of it is not a "partial copy" of the excerpt.
        """
        records = self._records.read(rows)
        candidate = self._share_a_band(records["signature"], sig, bands)
        jaccard = (records["signature"] == sig).mean(axis=1)
        sizes = records["n_grams"]
        shared = jaccard * (sizes + size) / (1 + jaccard)  # |A ∩ B| from J = |A ∩ B| / |A ∪ B|
        contained = (shared >= self.containment * size) & (sizes >= size) & (size >= MIN_CONTAINED_GRAMS)
        return candidate & ((jaccard >= self.threshold) | contained)

    def _share_a_band(self, sigs: np.ndarray, sig: np.ndarray, bands: np.ndarray) -> np.ndarray:
        """Which signatures have one of the band keys `bands` (of `sig`): what a band-table lookup finds.

        Equal rows in a band make equal keys, so that cheap test settles most;
        the keys themselves are computed only for the signatures it does not
        (found through a fingerprint collision, or a key equal across bands).
        """
        used = self.scheme.bands * self.scheme.rows
        shared = (sigs[:, :used].reshape(len(sigs), self.scheme.bands, self.scheme.rows)
                  == sig[:used].reshape(self.scheme.bands, self.scheme.rows)).all(axis=2).any(axis=1)
        if not shared.all():
            shared[~shared] = (band_keys(sigs[~shared], self.scheme)[:, :, None] == bands).any(axis=(1, 2))
        return shared

    def _match(self, row: int, candidates: np.ndarray, exact: int, sig: np.ndarray, size: int, bands: np.ndarray,
               origin: str | None) -> int:
        """The earliest original the document at `row` copies, or `row`.

        `candidates`: earlier rows whose band fingerprints it shares; `exact`: the
        earlier row with its exact text, or -1.
        """
        if exact >= 0:
            candidates = np.union1d(candidates, [exact])
        if not len(candidates):
            return row
        roots = self._root[candidates]
        if (roots[1:] < roots[:-1]).any():
            order = np.lexsort((candidates, roots))
            candidates, roots = candidates[order], roots[order]
        similar = np.zeros(len(candidates), dtype=bool)
        edges = [0]  # steps of records read: the first few (often the original itself settles it), then more
        while edges[-1] < len(candidates):
            edges.append(min(len(candidates), edges[-1] + self.FIRST_CHECK * 2 ** (len(edges) - 1),
                             edges[-1] + self.MOST_CHECKED))
        checked = [False] * (len(edges) - 1)
        starts = [0, *(np.flatnonzero(roots[1:] != roots[:-1]) + 1).tolist()]
        for start, stop in zip(starts, [*starts[1:], len(candidates)]):
            root = int(roots[start])
            # A document processed again under the same origin replaced its old row: point at the current one.
            target = self._latest_root(root, row)
            if origin is not None and self._first_version[target] == self._first_version[row]:
                continue
            if exact >= 0 and self._root[exact] == root:
                return target
            step = bisect.bisect_right(edges, start) - 1
            while edges[step] < stop:
                at = slice(edges[step], edges[step + 1])
                if not checked[step]:
                    similar[at] = self._similar(candidates[at], sig, size, bands)
                    checked[step] = True
                if similar[max(start, at.start):min(stop, at.stop)].any():
                    return target
                step += 1
        return row

    def duplicate_of(self, doc_id: str) -> str | None:
        """The earliest copy an indexed document was found to copy, or None."""
        row = int(self._rows_of([doc_id])[0])
        if row < 0:
            raise KeyError(doc_id)
        root = int(self._root[row])
        return None if root == row else self._strings(root)[0]

    def find_or_add(self, doc_id: str, text: str | None = None, *, origin: str | None = None) -> str | None:
        """Return the doc_id of the earliest copy `doc_id` duplicates (None if original), then index it.

        The text may be left out when `doc_id` is already indexed.
        """
        if doc_id in self:
            return self.duplicate_of(doc_id)
        if text is None:
            raise ValueError(f"{doc_id} is not indexed yet: its text is needed")
        return self.assign([(doc_id, text, origin)]).get(doc_id)

    def assign(self, docs: Iterable[tuple[str, str, str | None]], sketches: Sketches | None = None) -> dict[str, str]:
        """Index (doc_id, text, origin) in order; return {doc_id: earliest copy} for the copies.

        The whole batch is sketched in one call, which is where the time goes, unless
        `sketches` (one per doc, in order, of this index's scheme) were made beforehand.
        """
        docs = list(docs)
        if sketches is not None and (len(sketches) != len(docs) or sketches.scheme != self.scheme.name):
            sketches = None  # not these docs' or not comparable: made again here
        rows = self._rows_of([doc_id for doc_id, _, _ in docs])
        fresh: dict[str, int] = {}  # doc_id -> position of its first occurrence (a doc twice: indexed once)
        for position, (row, (doc_id, _, _)) in enumerate(zip(rows.tolist(), docs)):
            if row < 0:
                fresh.setdefault(doc_id, position)
        new_rows = dict(zip(fresh, range(self._count, self._count + len(fresh))))
        if fresh:
            positions = list(fresh.values())
            self._add_batch(list(fresh), [docs[i][1] for i in positions], [docs[i][2] for i in positions],
                            sketches.take(positions) if sketches is not None else None)
        rows = np.array([row if row >= 0 else new_rows[doc_id] for row, (doc_id, _, _) in zip(rows.tolist(), docs)],
                        dtype=np.int64)
        copies = [(doc_id, root) for (doc_id, _, _), row, root in zip(docs, rows.tolist(), self._root[rows].tolist())
                  if root != row]
        names = self._doc_ids(root for _, root in copies)
        return {doc_id: names[root] for doc_id, root in copies}

    def _add_batch(self, doc_ids: list[str], texts: list[str], origins: list[str | None],
                   sketches: Sketches | None = None) -> None:
        """Index new documents in order, each checked against every row before it (earlier batches and its own)."""
        sketches = sketches if sketches is not None else sketch(texts, self.scheme)
        bands = band_keys(sketches.signatures, self.scheme)
        count, first, width = len(doc_ids), self._count, self.scheme.bands
        rows = np.arange(first, first + count)
        records = np.zeros(count, dtype=self._records.dtype)
        records["signature"] = sketches.signatures
        records["n_grams"] = sketches.sizes
        records["added_at"] = (datetime.now(timezone.utc) - EPOCH) // timedelta(microseconds=1)
        records["text_key"] = np.frombuffer(b"".join(sketches.keys), dtype=np.uint64).reshape(count, 2)
        self._records.write(rows, records, doc_ids, origins)
        self._reserve(first + count)
        self._link_versions(rows, origins)
        exact = self._exact_rows(sketches.keys, rows)
        band_fps = key_fingerprints(bands).reshape(-1)
        self._bands.add(band_fps, np.repeat(rows, width))
        shared = self._bands.lookup(band_fps)
        # every row finds itself: a key found twice has a candidate (or a row that comes later, skipped below)
        maybe = (shared.counts > 1).reshape(count, width).any(axis=1) | (exact >= 0)
        self._count = first + count
        for n in range(count):
            row = first + n
            root = row
            if maybe[n]:
                found = shared.rows(n * width, (n + 1) * width)
                root = self._match(row, np.unique(found[found < row]), int(exact[n]), sketches.signatures[n],
                                   int(sketches.sizes[n]), bands[n], origins[n])
            self._root[row] = root
        self._exact.add(text_key_fingerprints(sketches.keys)[exact < 0], rows[exact < 0])
        self._ids.add(string_fingerprints(doc_ids), rows)

    def to_table(self, doc_ids: Iterable[str] | None = None) -> pa.Table:
        """The index rows of `doc_ids` (all rows if None) as a table `from_table` reloads."""
        if doc_ids is None:
            rows = np.arange(self._count)
        else:
            doc_ids = list(doc_ids)
            found = self._rows_of(doc_ids)
            if (found < 0).any():
                raise KeyError(doc_ids[int(np.flatnonzero(found < 0)[0])])
            rows = np.unique(found)
        records = self._records.read(rows)
        strings = self._records.all_strings(records)
        roots = self._root[rows].tolist()
        names = self._doc_ids(root for row, root in zip(rows.tolist(), roots) if root != row)
        duplicate_of = [None if root == row else names[root] for row, root in zip(rows.tolist(), roots)]
        sig_flat = pa.array(records["signature"].reshape(-1), type=pa.uint32())
        columns = {
            "doc_id": pa.array([doc_id for doc_id, _ in strings], pa.string()),
            "origin": pa.array([origin for _, origin in strings], pa.string()),
            "duplicate_of": pa.array(duplicate_of, pa.string()),
            "text_key": pa.array([key.tobytes() for key in records["text_key"]], pa.binary(16)),
            "n_grams": pa.array(records["n_grams"], pa.int32()),
            "scheme": pa.array([self.scheme.name] * len(rows), pa.string()),
            "added_at": pa.array(records["added_at"], pa.timestamp("us", tz="UTC")),
            "position": pa.array(rows, pa.int32()),
            "signature": pa.FixedSizeListArray.from_arrays(sig_flat, self.scheme.num_perm),
        }
        return pa.table(columns)

    @classmethod
    def from_table(cls, table: pa.Table, threshold: float = DEFAULT_THRESHOLD,
                   scheme: MinHashScheme = DEFAULT_SCHEME, containment: float = DEFAULT_CONTAINMENT
                   ) -> DuplicateIndex:
        """Rebuild an index from rows written by `to_table` (possibly many batches, in any file order)."""
        if not table.num_rows:
            return cls(threshold, scheme, containment)
        return cls.load(lambda columns: table.select(columns).to_batches(), threshold, scheme, containment)

    @classmethod
    def load(cls, read: Callable[[list[str]], Iterable[pa.RecordBatch]], threshold: float = DEFAULT_THRESHOLD,
             scheme: MinHashScheme = DEFAULT_SCHEME, containment: float = DEFAULT_CONTAINMENT) -> DuplicateIndex:
        """Rebuild an index from rows written by `to_table`, which `read(columns)` yields (the same order each call).

        Rows are replayed in the order they were first added; a doc_id persisted
        twice (a re-processed or retried batch) keeps its first row; rows of
        another signature scheme are skipped and counted (`other_scheme_rows`).
        A first pass reads what fixes each row's place, root and versions
        (`ReplayPlan`); the second streams the signatures in a record batch at a
        time, so the persisted rows are never all in memory at once.
        """
        index = cls(threshold, scheme, containment)
        plan = ReplayPlan.read(read(ReplayPlan.COLUMNS), scheme)
        index.other_scheme_rows = plan.other_scheme_rows
        count = len(plan.roots)
        index._reserve(count)
        index._root[:count] = plan.roots
        index._first_version[:count] = plan.first_version
        index._next_version[:count] = plan.next_version
        index._count = count
        streamed = 0
        for batch in read(["doc_id", "origin", "text_key", "n_grams", "added_at", "signature"]):
            at = plan.rows[streamed:streamed + batch.num_rows]
            streamed += batch.num_rows
            take = np.flatnonzero(at >= 0)
            if len(take):
                index._load_rows(at[take], batch.take(take))
        if streamed != len(plan.rows):
            raise RuntimeError(f"the persisted index changed while it was read: {len(plan.rows)} rows, then {streamed}")
        index._exact.add(text_key_fingerprints(plan.first_text_keys), plan.first_texts)
        index._origins.add(string_fingerprints(plan.first_origin_names),
                           plan.first_origins)
        return index

    def _load_rows(self, rows: np.ndarray, batch: pa.RecordBatch) -> None:
        """Store persisted rows at their rows (`ReplayPlan` placed them) and index their keys."""
        sigs = batch.column("signature").flatten().to_numpy(zero_copy_only=False)
        sigs = sigs.astype(np.uint32).reshape(batch.num_rows, self.scheme.num_perm)
        records = np.zeros(batch.num_rows, dtype=self._records.dtype)
        records["signature"] = sigs
        records["n_grams"] = batch.column("n_grams").to_numpy(zero_copy_only=False)
        records["added_at"] = batch.column("added_at").cast(pa.int64()).to_numpy(zero_copy_only=False)
        keys = batch.column("text_key").to_pylist()
        records["text_key"] = np.frombuffer(b"".join(keys), dtype=np.uint64).reshape(batch.num_rows, 2)
        doc_ids = batch.column("doc_id").to_pylist()
        self._records.write(rows, records, doc_ids, batch.column("origin").to_pylist())
        self._ids.add(string_fingerprints(doc_ids), rows)
        self._bands.add(key_fingerprints(band_keys(sigs, self.scheme)).reshape(-1),
                        np.repeat(rows, self.scheme.bands))


@dataclass(frozen=True)
class ReplayPlan:
    """Where persisted index rows go, from the few columns that decide it (about 150 bytes a row, once).

    The rows of one scheme are replayed in the order they were added
    (`added_at`, then `position`); a doc_id's first row is kept; a row's root is
    the root of the row it was marked a copy of if that row comes before it.
    """

    COLUMNS = ["scheme", "doc_id", "duplicate_of", "origin", "text_key", "added_at", "position"]

    rows: np.ndarray  # per row read, in reading order: its row in the index, -1 if skipped
    roots: np.ndarray  # per index row
    first_version: np.ndarray  # per index row: the first row with its origin, -1 if it has none
    next_version: np.ndarray  # per index row: the next row with its origin, 0 if none
    first_texts: np.ndarray  # the first row of each exact-text key ...
    first_text_keys: list[bytes]  # ... and the key
    first_origins: np.ndarray  # the first row of each origin ...
    first_origin_names: list[str]  # ... and the origin
    other_scheme_rows: int

    @classmethod
    def read(cls, batches: Iterable[pa.RecordBatch], scheme: MinHashScheme) -> ReplayPlan:
        parts, read_rows, streamed = [], [], 0
        for batch in batches:
            same = pc.fill_null(pc.equal(batch.column("scheme"), scheme.name), False)
            parts.append(batch.filter(same).drop_columns(["scheme"]))
            read_rows.append(np.flatnonzero(same.to_numpy(zero_copy_only=False)) + streamed)
            streamed += batch.num_rows
        kept = sum(part.num_rows for part in parts)
        if not kept:
            nothing = np.zeros(0, dtype=np.int64)
            return cls(np.full(streamed, -1), nothing, nothing, nothing, nothing, [], nothing, [], streamed)
        table = pa.Table.from_batches(parts).append_column("read_row", pa.array(np.concatenate(read_rows)))
        table = table.sort_by([("added_at", "ascending"), ("position", "ascending")])
        table = table.take(np.sort(first_of_each(table.column("doc_id"))))
        count = table.num_rows
        position = np.arange(count)
        duplicate_of = table.column("duplicate_of")
        earlier = pc.fill_null(pc.index_in(duplicate_of, value_set=table.column("doc_id").combine_chunks()), -1)
        earlier = earlier.to_numpy()
        named = pc.fill_null(pc.greater(pc.binary_length(duplicate_of), 0), False).to_numpy(zero_copy_only=False)
        roots = np.where(named & (earlier >= 0) & (earlier < position), earlier, position)
        while (roots[roots] != roots).any():  # each row's chain of copies down to its original
            roots = roots[roots]
        origins = pc.fill_null(pc.dictionary_encode(table.column("origin").combine_chunks()).indices, -1).to_numpy()
        by_origin = np.lexsort((position, origins))  # the rows of each origin together, in order
        grouped = origins[by_origin]
        following = (grouped[1:] == grouped[:-1]) & (grouped[1:] >= 0)
        next_version = np.zeros(count, dtype=np.int64)
        next_version[by_origin[:-1][following]] = by_origin[1:][following]
        starts = np.diff(grouped, prepend=-2) != 0  # where each origin's group begins
        group_start = np.flatnonzero(starts)
        group_first = by_origin[group_start]
        first_version = np.empty(count, dtype=np.int64)
        first_version[by_origin] = group_first[np.cumsum(starts) - 1]
        first_version[origins < 0] = -1
        first_origins = np.sort(group_first[grouped[group_start] >= 0])
        first_texts = np.sort(first_of_each(table.column("text_key")))
        rows = np.full(streamed, -1, dtype=np.int64)
        rows[table.column("read_row").to_numpy()] = position
        return cls(rows, roots, first_version, next_version, first_texts,
                   table.column("text_key").take(first_texts).to_pylist(), first_origins,
                   table.column("origin").take(first_origins).to_pylist(), streamed - kept)


def first_of_each(values: pa.ChunkedArray) -> np.ndarray:
    """The position of the first occurrence of each distinct value."""
    codes = pc.dictionary_encode(values.combine_chunks()).indices.to_numpy()
    return np.unique(codes, return_index=True)[1]
