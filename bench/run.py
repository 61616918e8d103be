"""Benchmark: generate a corpus, clean it with the Prefect flow and with a plain loop, compare with a peer.

    python bench/run.py                      # 10,000 files, 100 MB, 1 and 2 workers, peer
    python bench/run.py --scale 4            # also a 4x corpus through the flow: same peak memory?
    python bench/run.py --quick              # a tiny corpus: the smoke test

Every measured run is a child process of its own, so that each has its own
peak RSS and its own warm-up, and so that one run's caches cannot flatter
the next. Runs:

- `flow x1`  the `clean-corpus` Prefect flow, stages timed (`bench/instrument.py`);
  Prefect overhead = flow wall time minus the summed stage time
- `loop x1`  the same batches through `flows.batch.clean_batch` and the same
  storage commits in a plain Python loop, no Prefect: what orchestration costs
- `loop xN`  that loop with batches cleaned in N worker processes
- `flow xN`  the flow with a process-parallel task runner, when the flow offers one
- `peer xN`  the same corpus through datatrove (`bench/peer.py`)
- `flow x1, scale S` the flow on an S-times larger corpus: peak memory is set by
  the batch size, so it should not grow with the corpus

It prints one table (Markdown) of the figures, then a probe of the machine
for N workers (`machine_probe`): N processes of plain Python text work
against one, with the spread of its tries. The probe is as noisy as the
machine; the plain loop's own speed-up is the reference for the flow's.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import psutil

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path[:0] = [str(ROOT), str(BENCH)]

RESULT_PREFIX = "BENCH-RESULT "
DEFAULT_BATCH_FILES = 500
WARMUP_TASKS = 20
STAGE_ORDER = ("discover", "decode", "html")  # then the recipe, then these:
STAGE_TAIL = ("read+hash+assemble", "sketch", "dedup", "write")
STAGE_LABELS = {"discover": "walk, plan, recover", "read+hash+assemble": "read, hash, assemble",
                "sketch": "dedup sketches (in the batch)", "dedup": "dedup lookups and index"}


# ----------------------------------------------------------------------------- child runs

def restrict_recipe(stages: str | None) -> None:
    """Run only these recipe stages (comma-separated), to measure part of the pipeline; None: all.

    The recipe is a default argument of the pipeline's entry points, so it is
    replaced there, in this process (and, through the pool initializer, in the
    loop's workers; the Prefect process runner's workers cannot be reached).
    """
    if not stages:
        return
    import cleaners.pipeline as pipeline

    recipe = tuple(name for name in stages.split(",") if name)
    unknown = [name for name in recipe if name not in pipeline.STAGES]
    if unknown:
        raise SystemExit(f"unknown stages {unknown}; the recipe has {list(pipeline.RECIPE)}")
    for fn in (pipeline.run_recipe, pipeline.clean_text, pipeline.clean_bytes):
        fn.__defaults__ = tuple(recipe if value is pipeline.RECIPE else value for value in fn.__defaults__)
    pipeline.RECIPE = recipe


def _cpu_seconds() -> float:
    """CPU time of this process (all threads) and of its finished children (pool workers)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def _live_children_cpu() -> dict[int, float]:
    """CPU seconds so far of each live descendant process: the Prefect server the flow started (a
    subprocess that outlives the flow, so `os.times` never counts it) and pool workers."""
    found = {}
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.Error:  # gone meanwhile: counted by `os.times` once reaped
            continue
        found[child.pid] = times.user + times.system
    return found


def _live_children_cpu_since(before: dict[int, float]) -> float:
    """CPU the live descendants spent since `before`; one that has exited since is counted by `os.times`
    for its whole life, so what it had spent before is taken back."""
    after = _live_children_cpu()
    return (sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())
            - sum(cpu for pid, cpu in before.items() if pid not in after))


def _peak_rss_mb() -> float:
    return max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
               resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss) / 1024


def _child_flow(args) -> dict:
    """The Prefect flow, after a warm-up flow that starts the server and measures what a task costs."""
    from flows.cli import _prefect_env, embedded_run_settings

    _prefect_env()
    from prefect import flow, task
    from prefect.cache_policies import NO_CACHE

    @task(cache_policy=NO_CACHE)
    def noop(value: int) -> int:
        return value

    @flow(name="bench-warmup")
    def warmup(n: int) -> float:
        started = time.perf_counter()
        for index in range(n):
            noop(index)
        return (time.perf_counter() - started) / n

    warmup(2)  # starts the server and creates the flow/task records Prefect keeps
    task_seconds = warmup(WARMUP_TASKS)

    import flows.clean_corpus as clean_corpus_module
    from instrument import StageClock, install

    clock = install(StageClock()) if args.workers == 1 else None
    params = {"raw": args.raw, "out": args.out, "batch_files": args.batch_files}
    params.update(_parallel_params(clean_corpus_module.clean_corpus, args.workers))
    started, cpu_started, children_before = time.perf_counter(), _cpu_seconds(), _live_children_cpu()
    with embedded_run_settings():  # as `corpus-clean run` runs it
        summary = clean_corpus_module.clean_corpus(**params)
    server_cpu = _live_children_cpu_since(children_before)
    wall, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started + server_cpu
    return {"wall": wall, "cpu": cpu, "server_cpu": server_cpu, "files": summary["files"],
            "bytes": summary["bytes_read"],
            "documents": summary["documents"], "quarantined": summary["quarantined"],
            "stages": clock.report() if clock else None, "stages_cpu": clock.report(cpu=True) if clock else None,
            "recipe": list(clock.recipe) if clock else None,
            "task_ms": task_seconds * 1000, "peak_rss_mb": _peak_rss_mb(), "workers": args.workers}


def _parallel_params(clean_corpus, workers: int) -> dict:
    """Flow parameters for a process-parallel run with `workers` processes, or raise if the flow has none."""
    if workers == 1:
        return {}
    import inspect

    names = inspect.signature(clean_corpus.fn).parameters
    if "task_runner" not in names:
        raise SystemExit("the flow has no task_runner parameter: no process-parallel flow run")
    params = {"task_runner": "process"}
    for name in ("workers", "n_workers", "max_workers"):
        if name in names:
            params[name] = workers
    return params


def _clean_one_batch(job: tuple) -> object:
    """Worker-process body of the parallel loop: clean one batch (the flow's clean-batch task body)."""
    from flows.batch import clean_batch

    files, ctx, done, max_file_bytes = job
    return clean_batch(files, ctx, done, max_file_bytes)


def _child_loop(args) -> dict:
    """The flow's run (`flows.clean_corpus.process_corpus`) as a plain loop over the same parts, no Prefect.

    Lock, recover, load the duplicate index, discover, plan, then per batch:
    clean (in N worker processes when asked), mark duplicates, build the
    tables, commit, in the order the batches were cut, as the flow does.
    """
    from instrument import StageClock, install

    import flows.clean_corpus  # noqa: F401  (so that the clock also rebinds what it imported)
    clock = install(StageClock()) if args.workers == 1 else None
    from datetime import datetime, timezone

    import flows.batch as batch
    import flows.storage as storage
    from cleaners.document import CleanContext
    from cleaners.pipeline import PIPELINE_VERSION
    from flows.clean_corpus import DEFAULT_BATCH_BYTES, WorkPlan
    from flows.dedup_state import load_duplicate_index, mark_duplicates

    totals = {"bytes": 0, "documents": 0, "quarantined": 0}
    run_id = f"bench-loop-{os.getpid()}"
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    store = storage.OutputStore(args.out)
    with store.lock(run_id), batch.frozen_heap():  # as `process_corpus`
        store.recover()
        dedup = load_duplicate_index(store)
        plan = WorkPlan(store.index(), PIPELINE_VERSION)
        ctx = CleanContext()
        jobs = ((chunk, ctx, plan.done_in(chunk), batch.DEFAULT_MAX_FILE_BYTES)
                for chunk in batch.batches(plan.todo(batch.discover(args.raw)), args.batch_files, DEFAULT_BATCH_BYTES))

        def commit(index: int, result) -> None:
            totals["bytes"] += result.bytes_read
            for record in result.records:
                if record.outcome.quarantine_reason:
                    totals["quarantined"] += 1
                else:
                    totals["documents"] += len(record.outcome.docs)
            if result.records:
                duplicate_of, dedup_state = mark_duplicates(dedup, result.records)
                output = storage.batch_output(result.records, batch_id=f"{run_id}-{index:05d}", run_id=run_id,
                                              pipeline_version=PIPELINE_VERSION,
                                              processed_at=datetime.now(timezone.utc), duplicate_of=duplicate_of)
                output.state.update(dedup_state)
                store.commit_batch(output)

        if args.workers == 1:
            for index, job in enumerate(jobs):
                commit(index, batch.clean_batch(*job))
        else:
            with ProcessPoolExecutor(args.workers, initializer=restrict_recipe, initargs=(args.recipe,)) as pool:
                for index, result in enumerate(pool.map(_clean_one_batch, jobs)):
                    commit(index, result)
    wall, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
    return {"wall": wall, "cpu": cpu, "files": plan.seen, **totals, "stages": clock.report() if clock else None,
            "stages_cpu": clock.report(cpu=True) if clock else None,
            "recipe": list(clock.recipe) if clock else None, "peak_rss_mb": _peak_rss_mb(),
            "workers": args.workers}


def child_main(args) -> int:
    restrict_recipe(args.recipe)
    result = {"flow": _child_flow, "loop": _child_loop}[args.child](args)
    print(RESULT_PREFIX + json.dumps(result), flush=True)
    return 0


# ----------------------------------------------------------------------------- the machine

PROBE_REPEATS = 5
PROBE_ROUNDS = 4000  # about 1 s of work: long enough for a busy neighbour to show
PROBE_TEXT = "今天召开全市安全生产工作会议，主要任务是总结去年工作，分析当前形势，部署今年重点任务。" * 40


def _probe_work(_: int = 0) -> float:
    """A fixed piece of pure-Python text work (regex, slicing, dict counts); its wall seconds."""
    import re

    clause = re.compile("[^，。]+")
    started = time.perf_counter()
    counts: dict[str, int] = {}
    for _ in range(PROBE_ROUNDS):
        for match in clause.finditer(PROBE_TEXT):
            piece = match.group()
            for i in range(0, len(piece) - 1, 2):
                counts[piece[i:i + 2]] = counts.get(piece[i:i + 2], 0) + 1
    return time.perf_counter() - started


def machine_probe(workers: int) -> tuple[float, float, float]:
    """The speed-up `workers` processes of pure Python got on this machine: (median, lowest, highest) of the tries.

    The same work alone and in `workers` processes at once, `PROBE_REPEATS`
    times, each try one pair. Two busy vCPUs may share a physical core,
    caches or memory bandwidth, and then no code reaches `workers` x one;
    but a virtual machine's speed also drifts by a fifth or more from one
    second to the next, so one try is no bound: one run's probe read 1.27x
    while the plain loop in the same run cleaned 1.98x faster with two
    workers (README, Performance). Hence the spread, not a single figure.
    """
    ratios = []
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_probe_work, range(workers)))  # workers started and warm
        for _ in range(PROBE_REPEATS):
            alone = pool.submit(_probe_work).result()
            ratios.append(workers * alone / max(pool.map(_probe_work, range(workers))))
    return statistics.median(ratios), min(ratios), max(ratios)


# ----------------------------------------------------------------------------- the parent

def run_child(command: list[str], label: str, timeout: float) -> dict:
    """Run one measured child; its result, or {"error": …} with the reason."""
    print(f"[bench] {label} …", file=sys.stderr, flush=True)
    started = time.perf_counter()
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout:.0f} s"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith(RESULT_PREFIX):
            result = json.loads(line[len(RESULT_PREFIX):])
            print(f"[bench] {label}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
            return result
    tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
    print(f"[bench] {label} failed:\n" + "\n".join(tail), file=sys.stderr, flush=True)
    return {"error": (tail[-1] if tail else f"exit {proc.returncode}")[:80]}


def ours(mode: str, raw: Path, out: Path, workers: int, args) -> dict:
    if out.exists():
        shutil.rmtree(out)
    return run_child([sys.executable, str(BENCH / "run.py"), "--child", mode, "--raw", str(raw), "--out", str(out),
                      "--workers", str(workers), "--batch-files", str(args.batch_files),
                      *(["--recipe", args.recipe] if args.recipe else [])], f"{mode} x{workers}", args.timeout)


def peer(raw: Path, out: Path, workers: int, timeout: float) -> dict:
    try:
        import datatrove  # noqa: F401  (only to say clearly that the peer is not installed)
    except ImportError:
        return {"skipped": "datatrove not installed: pip install -e '.[bench]'"}
    if out.exists():
        shutil.rmtree(out)
    return run_child([sys.executable, str(BENCH / "peer.py"), str(raw), str(out), "--workers", str(workers)],
                     f"peer x{workers}", timeout)


def _fmt(value, digits: int = 2) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return f"{value:,.{digits}f}"


def table(columns: dict[str, dict]) -> str:
    """One Markdown table: a column per run, a row per measure; '—' where a measure does not apply."""
    ok = {name: r for name, r in columns.items() if "error" not in r and "skipped" not in r}
    recipe: list[str] = next((r["recipe"] for r in ok.values() if r.get("recipe")), [])
    stage_names = [*STAGE_ORDER, *recipe, *STAGE_TAIL]
    base_loop = ok.get("loop x1")
    rows: list[tuple[str, list[str]]] = []

    def row(label: str, fn) -> None:
        cells = []
        for name, r in columns.items():
            if "error" in r or "skipped" in r:
                reason = f"error: {r['error']}" if "error" in r else r["skipped"]
                cells.append(reason if label == "wall seconds" else "—")
                continue
            try:
                cells.append(_fmt(fn(name, r)))
            except (KeyError, TypeError, AttributeError, ZeroDivisionError):
                cells.append("—")
        rows.append((label, cells))

    def mb(r: dict) -> float:
        return r["bytes"] / 1e6

    def wall(r: dict) -> float:
        return r["wall"] if "wall" in r else r["seconds"]

    def pair(wall_value: float, cpu_value: float) -> str:
        return f"{wall_value:,.2f} / {cpu_value:,.2f}"

    row("files", lambda n, r: _fmt(r["files"], 0))
    row("MB read", lambda n, r: mb(r))
    row("documents written", lambda n, r: _fmt(r["documents"], 0))
    row("worker processes", lambda n, r: _fmt(r["workers"], 0))
    row("wall seconds", lambda n, r: wall(r))
    row("CPU seconds (all processes)", lambda n, r: r["cpu"])
    row("... of which the Prefect server's process", lambda n, r: r["server_cpu"])
    row("MB/s per core", lambda n, r: mb(r) / wall(r) / r["workers"])
    row("MB per CPU-second", lambda n, r: mb(r) / r["cpu"])
    row("documents/s per core", lambda n, r: r["documents"] / wall(r) / r["workers"])
    row("documents per CPU-second", lambda n, r: r["documents"] / r["cpu"])
    for stage in stage_names:
        row(f"s: {STAGE_LABELS.get(stage, stage)}",
            lambda n, r, stage=stage: pair(r["stages"][stage], r["stages_cpu"][stage])
            if stage in r["stages"] else "absent")
    row("s: summed stages", lambda n, r: pair(sum(r["stages"].values()), sum(r["stages_cpu"].values())))
    row("orchestration overhead s (wall − stages)", lambda n, r: r["wall"] - sum(r["stages"].values()))
    row("orchestration overhead % of wall",
        lambda n, r: 100 * (r["wall"] - sum(r["stages"].values())) / r["wall"])
    row("orchestration overhead % of CPU",
        lambda n, r: 100 * (r["cpu"] - sum(r["stages_cpu"].values())) / r["cpu"])
    row("flow vs plain loop, % more wall / CPU",
        lambda n, r: pair(100 * (r["wall"] / base_loop["wall"] - 1), 100 * (r["cpu"] / base_loop["cpu"] - 1))
        if n == "flow x1" else None)
    row("Prefect cost per task, ms (warm)", lambda n, r: r["task_ms"])
    row("peak RSS MB", lambda n, r: r["peak_rss_mb"])
    row("speed-up vs same run x1", lambda n, r: _speedup(n, r, ok))
    row("our MB/s ÷ peer MB/s (same workers), wall / CPU",
        lambda n, r: _peer_ratio(n, r, ok) if n.startswith("peer") else None)
    header = ["measure", *columns]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *[[label, *cells] for label, cells in rows])]
    lines = ["| " + " | ".join(str(h).ljust(w) for h, w in zip(header, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for label, cells in rows:
        lines.append("| " + " | ".join(str(c).ljust(w) for c, w in zip([label, *cells], widths)) + " |")
    return "\n".join(lines)


def _speedup(name: str, r: dict, ok: dict) -> float | None:
    kind, _, workers = name.partition(" x")
    if not workers.isdigit() or workers == "1":
        return None
    one = ok.get(f"{kind} x1")
    return (one["wall"] if "wall" in one else one["seconds"]) / (r["wall"] if "wall" in r else r["seconds"])


def _peer_ratio(name: str, r: dict, ok: dict) -> str | None:
    """Our throughput over the peer's with the same number of workers: by wall time, and per CPU-second."""
    workers = name.partition(" x")[2]
    mine = ok.get(f"flow x{workers}") or ok.get(f"loop x{workers}")
    if not mine:
        return None
    by_wall = (mine["bytes"] / mine["wall"]) / (r["bytes"] / r["seconds"])
    by_cpu = (mine["bytes"] / mine["cpu"]) / (r["bytes"] / r["cpu"])
    return f"{by_wall:.2f} / {by_cpu:.2f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=10_000, help="files in the corpus (default 10,000)")
    parser.add_argument("--mb", type=float, default=100.0, help="corpus size in MB (default 100)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the parallel runs (default 2)")
    parser.add_argument("--batch-files", type=int, default=DEFAULT_BATCH_FILES, help="files per batch (task)")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="also run the flow on a corpus this many times larger (peak memory should not grow)")
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the corpus and outputs")
    parser.add_argument("--quick", action="store_true", help="tiny corpus, one worker: a smoke test")
    parser.add_argument("--no-peer", action="store_true", help="skip the datatrove runs")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds allowed per run")
    parser.add_argument("--recipe", default=None,
                        help="only these recipe stages, comma-separated (e.g. normalize,title: the spine alone)")
    parser.add_argument("--child", choices=("flow", "loop"), help=argparse.SUPPRESS)
    parser.add_argument("--raw", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return child_main(args)
    if args.quick:
        args.files, args.mb, args.workers, args.scale = 40, 0.3, 1, 1.0
        args.batch_files = min(args.batch_files, 10)

    from generate import CorpusSpec, generate

    work = args.dir or Path(tempfile.mkdtemp(prefix="corpus-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        corpus = generate(work / "corpus", CorpusSpec(args.files, args.mb))
        print(f"[bench] corpus: {corpus.files} files, {corpus.bytes / 1e6:.1f} MB, kinds {corpus.kinds}, "
              f"encodings {corpus.encodings} ({time.perf_counter() - started:.1f} s)", file=sys.stderr)
        raw = work / "corpus" / "raw"
        columns: dict[str, dict] = {}
        columns["flow x1"] = ours("flow", raw, work / "out-flow-1", 1, args)
        columns["loop x1"] = ours("loop", raw, work / "out-loop-1", 1, args)
        if args.workers > 1:
            n = args.workers
            if not args.recipe:  # the Prefect process runner's workers would run the whole recipe
                columns[f"flow x{n}"] = ours("flow", raw, work / f"out-flow-{n}", n, args)
            columns[f"loop x{n}"] = ours("loop", raw, work / f"out-loop-{n}", n, args)
        if not args.no_peer:
            columns["peer x1"] = peer(raw, work / "out-peer-1", 1, args.timeout)
            if args.workers > 1:
                columns[f"peer x{args.workers}"] = peer(raw, work / f"out-peer-{args.workers}", args.workers,
                                                        args.timeout)
        if args.scale != 1:
            spec = CorpusSpec(int(args.files * args.scale), args.mb * args.scale)
            big = generate(work / "corpus-scaled", spec)
            print(f"[bench] scaled corpus: {big.files} files, {big.bytes / 1e6:.1f} MB", file=sys.stderr)
            columns[f"flow x1, {args.scale:g}x corpus"] = ours(
                "flow", work / "corpus-scaled" / "raw", work / "out-flow-scaled", 1, args)
        probe = machine_probe(args.workers) if args.workers > 1 else None
        (work / "results.json").write_text(json.dumps({**columns, "machine probe": probe}, indent=1))
        print(f"\nclean-corpus benchmark: {corpus.files:,} files, {corpus.bytes / 1e6:.1f} MB, "
              f"batches of {args.batch_files} files, {os.cpu_count()} CPUs, "
              f"recipe {args.recipe or 'full'}\n")
        print(table(columns))
        if probe:
            median, lowest, highest = probe
            print(f"\nmachine probe: {args.workers} processes of pure Python ran {median:.2f}x one on this machine "
                  f"(median of {PROBE_REPEATS} tries, {lowest:.2f}-{highest:.2f}x); a noisy reading, not a bound: "
                  f"the loop's x{args.workers} is the flow's reference")
        return 1 if any("error" in r for r in columns.values()) else 0  # a skipped peer is no error
    finally:
        if not args.keep and args.dir is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
