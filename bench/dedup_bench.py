"""Deduplication benchmark: MinHash libraries compared, then the index over 50,000 generated documents.

    .venv/bin/python bench/dedup_bench.py [--docs 50000] [--compare 2000] [--source bench/data/clean]

Documents are grown from the sentences of the clean government reports:
an original is 4–16 paragraphs of 2–6 random sentences, figures re-drawn; one in
five documents is instead a copy of an earlier original, of one of the kinds
document sites produce:
- `exact`    white space and punctuation changed only;
- `spun`     2-character words swapped for others at 1–4 swaps per 100
             characters (the seed's synonym-spun copies are at about 3);
- `partial`  a contiguous 50–90 % of the original;
- `partial+spun` both.
The run reports, with numbers: signature time per document for datasketch,
rensa fed Python n-gram sets, a numpy-only MinHash and our path (numpy
n-gram hashes fed to rensa in one call); then for the whole corpus through
`DuplicateIndex.assign` in batches of 2,000 (as the flow commits them)
seconds, documents/s, peak memory (`resource.getrusage`), resident growth per
document past the first fifth (the index's own cost), recall per copy kind
and false duplicates, and the persist/reload cost of the signatures.
"""
from __future__ import annotations

import argparse
import random
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cleaners.dedup import DEFAULT_SCHEME, DEFAULT_THRESHOLD, DuplicateIndex, normalised, signatures  # noqa: E402

COPY_KINDS = ("exact", "spun", "partial", "partial+spun")
BATCH = 2000


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def current_mb() -> float:
    """Resident memory now (Linux), to tell what the index holds from the peak its batches reach."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * resource.getpagesize() / 2**20
    except OSError:
        return float("nan")


def sentences(source: Path) -> list[str]:
    """The sentences of the reports' body paragraphs: the units originals are drawn from."""
    found = []
    for path in sorted(source.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if len(line.strip()) >= 40:
                found.extend(s for s in re.findall(r"[^。！？；]+[。！？；]", line.strip()) if len(s) >= 8)
    return found


def spin(text: str, rng: random.Random, per_100: float, vocabulary: list[str]) -> str:
    """Swap 2-character words for others, `per_100` swaps per 100 characters."""
    chars = list(text)
    for _ in range(int(len(chars) * per_100 / 100)):
        at = rng.randrange(max(1, len(chars) - 2))
        if "\u4e00" <= chars[at] <= "\u9fff" and "\u4e00" <= chars[at + 1] <= "\u9fff":
            chars[at:at + 2] = rng.choice(vocabulary)
    return "".join(chars)


def generate(n: int, pool: list[str], rng: random.Random) -> tuple[list[str], list[int | None], list[str | None]]:
    """n documents; for each, the index of the original it copies (None for originals) and the copy kind."""
    vocabulary = sorted({p[i:i + 2] for p in pool[:2000] for i in range(0, len(p) - 1, 7)
                         if all("\u4e00" <= c <= "\u9fff" for c in p[i:i + 2])})
    texts: list[str] = []
    truth: list[int | None] = []
    kinds: list[str | None] = []
    originals: list[int] = []
    for _ in range(n):
        if originals and rng.random() < 0.2:
            source = rng.choice(originals)
            kind = rng.choice(COPY_KINDS)
            text = texts[source]
            if kind == "exact":
                text = text.replace("\n", "\n\n").replace("，", ",").replace("。", ". ")
            if "partial" in kind:
                share = rng.uniform(0.5, 0.9)
                start = rng.randrange(int(len(text) * (1 - share)) + 1)
                text = text[start:start + int(len(text) * share)]
            if "spun" in kind:
                text = spin(text, rng, rng.uniform(1, 4), vocabulary)
            texts.append(text)
            truth.append(source)
            kinds.append(kind)
        else:
            body = "\n".join("".join(rng.sample(pool, rng.randint(2, 6))) for _ in range(rng.randint(4, 16)))
            body = re.sub(r"\d+(?:\.\d+)?", lambda m: str(rng.randint(1, 99999)), body)
            originals.append(len(texts))
            texts.append(body)
            truth.append(None)
            kinds.append(None)
    return texts, truth, kinds


def compare_libraries(texts: list[str]) -> None:
    """Signature time per document, same n-grams and permutation count for each library."""
    import datasketch
    import rensa

    n, perm = DEFAULT_SCHEME.ngram, DEFAULT_SCHEME.num_perm

    def gram_sets() -> list[set[str]]:
        return [{t[i:i + n] for i in range(max(1, len(t) - n + 1))} for t in map(normalised, texts)]

    def with_datasketch() -> None:
        for grams in gram_sets():
            sketch = datasketch.MinHash(num_perm=perm, seed=1)
            sketch.update_batch([g.encode("utf-8") for g in grams])

    def with_rensa_sets() -> None:
        rensa.RMinHash.digests_from_token_sets(gram_sets(), perm, 1)

    prime = np.uint64((1 << 61) - 1)
    draw = np.random.default_rng(1)
    a = draw.integers(1, 1 << 30, perm, dtype=np.uint64)[:, None]
    b = draw.integers(0, 1 << 30, perm, dtype=np.uint64)[:, None]

    def with_numpy() -> None:
        from cleaners.dedup import shingle_hashes
        for text in texts:
            hashes = np.unique(shingle_hashes(text, n) & np.uint64(0x3FFFFFFF))
            ((a * hashes + b) % prime).min(axis=1)

    def with_ours() -> None:
        signatures(texts)

    print(f"\nsignature time per document ({len(texts)} documents, {perm} permutations, {n}-grams):")
    timings = {}
    for name, run in (("datasketch MinHash.update_batch", with_datasketch),
                      ("rensa from Python n-gram sets", with_rensa_sets),
                      ("numpy only (universal hashing)", with_numpy),
                      ("numpy n-gram hashes -> rensa (ours)", with_ours)):
        started = time.perf_counter()
        run()
        timings[name] = time.perf_counter() - started
    ours = timings["numpy n-gram hashes -> rensa (ours)"]
    for name, seconds in timings.items():
        print(f"  {name:38} {seconds / len(texts) * 1000:7.3f} ms/doc  {seconds / ours:6.1f}x ours")


def run_index(texts: list[str], truth: list[int | None], kinds: list[str | None], threshold: float) -> None:
    before, resident = peak_mb(), current_mb()
    index = DuplicateIndex(threshold)
    ids = [f"doc{i:06d}" for i in range(len(texts))]
    found: dict[str, str] = {}
    warm: tuple[int, float] | None = None  # (documents, resident MB) once batch-sized buffers have been made
    started, cpu = time.perf_counter(), time.process_time()
    for start in range(0, len(texts), BATCH):
        stop = min(start + BATCH, len(texts))
        found.update(index.assign((ids[i], texts[i], f"gen#{i}") for i in range(start, stop)))
        if stop >= len(texts) // 5 and warm is None:
            warm = stop, current_mb()
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    after = peak_mb()
    print(f"\nindex: {len(texts)} documents in {seconds:.1f} s wall, {cpu:.1f} s CPU "
          f"({len(texts) / cpu:,.0f} docs per CPU second), threshold {threshold}; "
          f"peak RSS {before:.0f} MB before indexing, {after:.0f} MB after (+{after - before:.0f} MB); "
          f"resident {resident:.0f} MB before, {current_mb():.0f} MB after")
    if warm and len(texts) > warm[0]:
        grown = current_mb() - warm[1]
        print(f"  resident growth from {warm[0]} to {len(texts)} documents (what the index costs, with the "
              f"allocator's slack): {grown:.0f} MB, {grown * 2**20 / (len(texts) - warm[0]):,.0f} bytes a document")
    position = {doc_id: i for i, doc_id in enumerate(ids)}
    false = sum(1 for doc_id, dup in found.items() if truth[position[doc_id]] is None)
    wrong = sum(1 for doc_id, dup in found.items()
                if truth[position[doc_id]] is not None and position[dup] != truth[position[doc_id]])
    print(f"  marked {len(found)} duplicates; false duplicates (an original marked): {false}; "
          f"copies pointing at another document than their original: {wrong}")
    for kind in COPY_KINDS:
        members = [i for i, k in enumerate(kinds) if k == kind]
        hit = sum(1 for i in members if ids[i] in found)
        print(f"  recall {kind:13} {hit}/{len(members)} = {hit / max(1, len(members)):.4f}")

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "dedup.parquet"
        started = time.perf_counter()
        pq.write_table(index.to_table(), path, compression="zstd")
        written = time.perf_counter() - started
        del index
        started, cpu = time.perf_counter(), time.process_time()
        reloaded = DuplicateIndex.from_table(pq.read_table(path), threshold)
        loaded, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"  signatures on disk {path.stat().st_size / 1e6:.1f} MB; write {written:.1f} s; "
              f"reload {loaded:.1f} s wall, {cpu:.1f} s CPU ({len(reloaded)} rows); peak RSS now {peak_mb():.0f} MB")


def similarity_profile(texts: list[str], truth: list[int | None], kinds: list[str | None]) -> None:
    """Estimated Jaccard of copies to their original, by kind: what the default threshold must catch."""
    sample = [i for i, k in enumerate(kinds) if k][:2000]
    copies = signatures([texts[i] for i in sample])
    origins = signatures([texts[truth[i]] for i in sample])
    similarity = (copies == origins).mean(axis=1)
    print("\nestimated Jaccard of a copy to its original (min / 5th percentile / median):")
    for kind in COPY_KINDS:
        values = similarity[[k == kind for k in (kinds[i] for i in sample)]]
        print(f"  {kind:13} {values.min():.2f} / {np.percentile(values, 5):.2f} / {np.median(values):.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--compare", type=int, default=2000, help="documents for the library comparison")
    parser.add_argument("--threshold", type=float, default=None)
    parser.add_argument("--source", type=Path, default=ROOT / "bench" / "data" / "clean")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    pool = sentences(args.source)
    if not pool:
        print(f"no sentences under {args.source}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    texts, truth, kinds = generate(args.docs, pool, random.Random(args.seed))
    chars = sum(map(len, texts))
    print(f"peak RSS after generation {peak_mb():.0f} MB")
    print(f"generated {len(texts)} documents ({chars / 1e6:.1f} M characters, "
          f"{sum(k is not None for k in kinds)} copies) from {len(pool)} sentences "
          f"in {time.perf_counter() - started:.1f} s")
    run_index(texts, truth, kinds, args.threshold or DEFAULT_THRESHOLD)  # first, so its peak memory is its own
    similarity_profile(texts, truth, kinds)
    compare_libraries(texts[: args.compare])
    return 0


if __name__ == "__main__":
    sys.exit(main())
