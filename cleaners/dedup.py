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
with numpy for many texts at once (`TextCodes`) and handed over as one flat
buffer per half million characters of a batch: 0.17 ms a document
against 3.3 ms for datasketch's MinHash, 0.87 ms for rensa fed Python n-gram
sets and 0.94 ms for a numpy-only MinHash (`bench/dedup_bench.py`, 2,000
documents of ~1,600 characters, 128 permutations). The index keeps its state as an
Arrow table (`to_table` / `from_table`, or `load` to stream it back) so that
the flow can persist new signatures with each committed batch and reload them
at the next run.

The index spans the whole dataset, so it keeps on disk what grows with it:
the fingerprints that find candidates (32-bit, in sorted runs of temporary
files, `KeyTable`: 370 bytes a document, 336 of them for the 42 LSH bands)
and each document's signature and strings (`RecordFile`). Memory holds 12
bytes a document and, while a batch is looked up or a run merged, a few runs
of at most 2 MB: the peak is set by the batch, not by the dataset. Every
fingerprint hit is checked on the full value, and a band key finds its 64
earliest rows (`DuplicateIndex.BAND_ROWS`), so that a cluster of thousands of
copies does not make each new copy check thousands.
"""
from __future__ import annotations

import bisect
import hashlib
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Callable, Iterable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import rensa

DEFAULT_THRESHOLD = 0.5
DEFAULT_CONTAINMENT = 0.8
MIN_CONTAINED_GRAMS = 200
SKETCH_PART_CHARS = 1 << 19  # characters sketched together (see `sketch`)

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
    return TextCodes.of([text]).gram_hashes(ngram)


@lru_cache(maxsize=1)
def kept_code_points() -> np.ndarray:
    """For every code point, whether `normalised` keeps it: made by running NOT_TEXT over all of them,
    so that the two cannot disagree (about 0.1 s, once per process)."""
    kept = NOT_TEXT.sub("", "".join(map(chr, range(0x110000))))
    mask = np.zeros(0x110000, dtype=bool)
    mask[np.frombuffer(kept.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)] = True
    return mask


@dataclass(frozen=True)
class TextCodes:
    """Several texts normalised at once, as the code points `normalised` keeps, end to end.

    Normalising text by text with NOT_TEXT and hashing its n-grams with
    numpy calls of its own cost two thirds of sketching a batch; as one
    array, the texts are normalised by a table lookup and their n-grams
    hashed with a handful of numpy calls for all of them.
    """

    codes: np.ndarray  # uint32: the kept code points of every text, one text after the other
    lengths: np.ndarray  # int64: how many belong to each text

    @classmethod
    def of(cls, texts: Sequence[str]) -> TextCodes:
        raw = np.frombuffer("".join(texts).encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
        kept = kept_code_points()[raw]
        owner = np.repeat(np.arange(len(texts)), [len(text) for text in texts])
        return cls(raw[kept], np.bincount(owner[kept], minlength=len(texts)).astype(np.int64))

    def normal_texts(self) -> list[str]:
        """Each text as `normalised` gives it."""
        joined = self.codes.tobytes().decode("utf-32-le", "surrogatepass")
        ends = np.cumsum(self.lengths).tolist()
        return [joined[start:end] for start, end in zip([0, *ends[:-1]], ends)]

    def gram_counts(self, ngram: int) -> np.ndarray:
        """How many n-grams each normalised text has: one for a text too short for one (padded, see `gram_hashes`)."""
        return np.maximum(self.lengths - ngram + 1, 1)

    def gram_hashes(self, ngram: int) -> np.ndarray:
        """`shingle_hashes` of every text, one text after the other (`gram_counts` each).

        A text shorter than `ngram` is padded with zero code points to one
        n-gram, as one text alone was: each text gets a segment of at least
        `ngram` codes, every position is hashed, and the starts whose n-gram
        runs into the next segment are left out.
        """
        segments = np.maximum(self.lengths, ngram)
        segment_starts = np.cumsum(segments) - segments
        text_starts = np.cumsum(self.lengths) - self.lengths
        padded = np.zeros(int(segments.sum()), dtype=np.uint64)
        owner = np.repeat(np.arange(len(self.lengths)), self.lengths)
        padded[np.arange(len(self.codes)) - text_starts[owner] + segment_starts[owner]] = self.codes
        windows = len(padded) - ngram + 1
        hashes = np.full(windows, FNV_OFFSET, dtype=np.uint64)
        for k in range(ngram):
            np.bitwise_xor(hashes, padded[k:k + windows], out=hashes)
            np.multiply(hashes, FNV_PRIME, out=hashes)
        counts = segments - ngram + 1
        count_starts = np.cumsum(counts) - counts
        starts = np.repeat(segment_starts - count_starts, counts) + np.arange(int(counts.sum()))
        return hashes[starts]


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
    """Sketch many texts with few calls into rensa (where the time would go one text at a time).

    Texts are normalised and their n-grams hashed together (`TextCodes`), in
    parts of about SKETCH_PART_CHARS characters so that the arrays a part
    needs stay small whatever the batch holds.
    """
    if not texts:
        return Sketches(np.zeros((0, scheme.num_perm), dtype=np.uint32), np.zeros(0, dtype=np.int64), [], scheme.name)
    parts, start, size = [], 0, 0
    for end, text in enumerate(texts, 1):
        size += len(text)
        if size >= SKETCH_PART_CHARS or end == len(texts):
            parts.append(_sketch_part(texts[start:end], scheme))
            start, size = end, 0
    return parts[0] if len(parts) == 1 else Sketches.joined(parts)


def _sketch_part(texts: list[str], scheme: MinHashScheme) -> Sketches:
    codes = TextCodes.of(texts)
    sizes = codes.gram_counts(scheme.ngram)
    offsets = np.zeros(len(texts) + 1, dtype=np.uint64)
    offsets[1:] = np.cumsum(sizes)
    matrix = rensa.RMinHash.digest_matrix_from_flat_token_hashes(codes.gram_hashes(scheme.ngram), offsets,
                                                                 scheme.num_perm, scheme.seed)
    sigs = np.asarray(matrix.to_rows(), dtype=np.uint32).reshape(len(texts), scheme.num_perm)
    return Sketches(sigs, sizes, [normalised_key(normal) for normal in codes.normal_texts()], scheme.name)


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
    """Which rows have each key: a multimap of uint32 fingerprints to int32 rows, kept on disk.

    A dict of Python ints costs about 100 bytes an entry and the band table
    alone has 42 entries a document, so the entries live in sorted runs, each
    in an unnamed temporary file (`SortedRun`); memory holds only the runs'
    lengths. Entries come a batch at a time as a sorted run; a new run is
    merged into the run before it while that one is no longer (a binary
    counter: an entry is merged about log2(MAX_RUN / batch) times) and the
    merged run stays within `MAX_RUN` entries, so a merge, like a lookup,
    holds at most a few runs of 2 MB in memory whatever the dataset's size.
    Past `MAX_RUNS` runs (some 60 million entries) runs merge beyond `MAX_RUN`,
    so that the files open stay bounded. A lookup reads every run once, one
    at a time, for a whole batch of keys. Fingerprints collide: callers check
    what a row found holds.

    With a `cap`, a key keeps only its `cap` earliest rows: a key shared by a
    large cluster of copies would otherwise make every later copy find, and
    the table store, every earlier one, so that time and memory per document
    grew with the cluster. Rows must then come in increasing order.
    """

    MAX_RUN = 1 << 18
    MAX_RUNS = 256
    LOOKUP_KEYS = 4096

    def __init__(self, cap: int | None = None) -> None:
        self._runs: list[SortedRun] = []
        self.cap = cap
        self._next_row = 0  # with a cap: rows below this were added

    def __len__(self) -> int:
        return sum(len(run) for run in self._runs)

    def add(self, keys: np.ndarray, rows: np.ndarray) -> None:
        if not len(keys):
            return
        order = np.lexsort((rows, keys))  # by key, then row: a capped key keeps its earliest rows
        new_keys, new_rows = keys[order].astype(np.uint32), rows[order].astype(np.int32)
        if self.cap is not None:
            if int(new_rows.min()) < self._next_row:
                raise ValueError(f"a capped key table takes rows in order: row {int(new_rows.min())} came after "
                                 f"row {self._next_row - 1}")
            self._next_row = int(new_rows.max()) + 1
            keep = rank_among_equals(new_keys) + self._held(new_keys) < self.cap
            new_keys, new_rows = new_keys[keep], new_rows[keep]
        while (self._runs and len(self._runs[-1]) <= len(new_keys)
               and (len(self._runs[-1]) + len(new_keys) <= self.MAX_RUN or len(self._runs) > self.MAX_RUNS)):
            old_keys, old_rows = self._runs.pop().read()  # a lookup sorts what it finds: rows keep no order
            at = np.searchsorted(old_keys, new_keys, side="right")
            new_keys, new_rows = np.insert(old_keys, at, new_keys), np.insert(old_rows, at, new_rows)
        self._runs.append(SortedRun(new_keys, new_rows))

    def _held(self, keys: np.ndarray) -> np.ndarray:
        """How many entries each of the sorted `keys` has in the table."""
        held = np.zeros(len(keys), dtype=np.int64)
        for run in self._runs:
            run_keys = run.keys()
            held += np.searchsorted(run_keys, keys, side="right") - np.searchsorted(run_keys, keys, side="left")
        return held

    def lookup(self, keys: np.ndarray, group: int = 1) -> Lookup:
        """The rows of each `group` consecutive keys (a document's bands), each row once, in row order.

        Searched for a whole batch of keys at once, run by run; what a run finds
        is gathered `LOOKUP_KEYS` keys at a time and reduced to distinct (group,
        row) pairs at once, so that the memory a lookup takes is bounded by the
        batch whatever the copies each key has.
        """
        keys = keys.astype(np.uint32)
        order = np.argsort(keys, kind="stable")
        in_order = keys[order]
        owners = (order // group).astype(np.uint64) << np.uint64(32)
        found = [np.zeros(0, dtype=np.uint64)]
        for run in self._runs:
            run_keys, run_rows = run.read()
            low = np.searchsorted(run_keys, in_order, side="left")
            lengths = np.searchsorted(run_keys, in_order, side="right") - low
            hit = np.flatnonzero(lengths)
            for start in range(0, len(hit), self.LOOKUP_KEYS):
                part = hit[start:start + self.LOOKUP_KEYS]
                part_lengths = lengths[part]
                # every position of the ranges [low, low + length) of these keys, in one array
                ends = np.cumsum(part_lengths)
                positions = np.repeat(low[part] - (ends - part_lengths), part_lengths) + np.arange(ends[-1])
                rows = run_rows[positions].astype(np.uint64)
                found.append(distinct(np.repeat(owners[part], part_lengths) | rows))
        pairs = distinct(np.concatenate(found))  # by group, then row
        counts = np.bincount((pairs >> np.uint64(32)).astype(np.int64), minlength=-(-len(keys) // group))
        rows = (pairs & np.uint64(0xFFFF_FFFF)).astype(np.int32)
        return Lookup(counts, np.concatenate([[0], np.cumsum(counts)]), rows)


def distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted: `np.unique` without its hash table, which is 10x slower on
    a million 64-bit values with many repeats (numpy 2.4)."""
    values = np.sort(values)
    keep = np.ones(len(values), dtype=bool)
    np.not_equal(values[1:], values[:-1], out=keep[1:])
    return values[keep]


def rank_among_equals(keys: np.ndarray) -> np.ndarray:
    """For sorted `keys`, each entry's position among the entries with its key (0 for the first)."""
    positions = np.arange(len(keys))
    first = np.ones(len(keys), dtype=bool)
    first[1:] = keys[1:] != keys[:-1]
    return positions - np.maximum.accumulate(np.where(first, positions, 0))


class SortedRun:
    """One sorted run of a `KeyTable`: its keys then its rows in an unnamed temporary file, read back whole."""

    def __init__(self, keys: np.ndarray, rows: np.ndarray) -> None:
        self._length = len(keys)
        self._file = tempfile.TemporaryFile(prefix="dedup-keys-", buffering=0)
        _write_all(self._file.fileno(), keys.tobytes() + rows.tobytes(), 0)

    def __len__(self) -> int:
        return self._length

    def read(self) -> tuple[np.ndarray, np.ndarray]:
        data = self._pread(2)
        keys = np.frombuffer(data, np.uint32, self._length)
        return keys, np.frombuffer(data, np.int32, self._length, keys.nbytes)

    def keys(self) -> np.ndarray:
        """The keys alone: half the bytes of `read`, for a count."""
        return np.frombuffer(self._pread(1), np.uint32, self._length)

    def _pread(self, halves: int) -> bytes:
        size = halves * 4 * self._length
        data = os.pread(self._file.fileno(), size, 0)
        if len(data) != size:
            raise RuntimeError("dedup key run: the temporary file was cut short")
        return data


@dataclass(frozen=True)
class Lookup:
    """The rows found for many groups of keys at once (`KeyTable.lookup`), grouped."""

    counts: np.ndarray  # distinct rows found per group
    starts: np.ndarray  # group n's rows are found[starts[n]:starts[n + 1]]
    found: np.ndarray

    def rows(self, start: int, stop: int) -> np.ndarray:
        """The rows of groups[start:stop], in row order within each group."""
        return self.found[self.starts[start]:self.starts[stop]]


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

    Memory per document (the index spans every run's documents): 12 bytes of
    arrays (its root, its origin's first and next version); its entries in
    four `KeyTable`s (42 bands, its doc_id, and its text and origin if it is
    the first with them) and its record are in temporary files.
    Candidates are checked root by root, earliest first, and only until one
    is similar, so a document with many earlier copies reads few records.
    A band key finds only its `BAND_ROWS` earliest rows: a new copy in a
    large cluster of copies still finds the cluster through its first
    members, and the work per document no longer grows with the cluster
    (on the benchmark's 4x corpus, where 97 % of 46,453 documents are copies
    of some 1,600 speeches, the peak during a batch's lookup fell by 50-100
    MB). A document whose only similar earlier row is past the 64th on every
    band they share is the one case where this differs from an unbounded
    index: there, 44 answers of 46,453 changed (11 copies missed, 33 pointed
    at another earlier copy).
    """

    BAND_ROWS = 64  # rows a band key keeps and finds, its earliest (see `KeyTable`)
    LOAD_ROWS = 8192  # rows whose bands `load` indexes at a time
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
        self._bands = KeyTable(cap=self.BAND_ROWS)
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
            hits = lookup.rows(n, n + 1)
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
                first = next((r for r in lookup.rows(k, k + 1).tolist() if self._strings(r)[1] == origin),
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
        shared = self._bands.lookup(band_fps, group=width)
        self._count = first + count
        for n in range(count):
            row = first + n
            found = shared.rows(n, n + 1)
            earlier = found[found < row]  # a row finds itself, and later rows of its batch
            root = row
            if len(earlier) or exact[n] >= 0:
                root = self._match(row, earlier, int(exact[n]), sketches.signatures[n], int(sketches.sizes[n]),
                                   bands[n], origins[n])
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
        for start in range(0, count, cls.LOAD_ROWS):  # in row order: a band key keeps its earliest rows
            rows = np.arange(start, min(count, start + cls.LOAD_ROWS))
            signatures = index._records.read(rows)["signature"]
            index._bands.add(key_fingerprints(band_keys(signatures, scheme)).reshape(-1), np.repeat(rows, scheme.bands))
        return index

    def _load_rows(self, rows: np.ndarray, batch: pa.RecordBatch) -> None:
        """Store persisted rows at their rows (`ReplayPlan` placed them) and index their doc_ids; `load`
        indexes their bands afterwards, in row order."""
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
