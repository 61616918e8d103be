"""Stage timing for the benchmark, added from outside so that the pipeline carries no timing code.

`install(clock)` wraps, in this process, the functions each stage is made of
(decode, HTML extraction, every recipe stage in `cleaners.pipeline.STAGES`,
discovery, batch cleaning, deduplication when present, Parquet writing) with
a wrapper that adds its wall time to `clock`. Every module attribute that
holds one of those functions is rebound, so it does not matter whether a
caller imported the function by name (`from flows.batch import clean_batch`)
or calls it through its module. Stages that do not exist (yet) are skipped,
and the table shows them as absent rather than as zero.
"""
from __future__ import annotations

import functools
import inspect
import sys
import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Callable, Iterator

# (module, attribute, stage name) of plain functions to time; the first found of each name counts.
FUNCTIONS = (
    ("cleaners.pipeline", "decode_bytes", "decode"),
    ("cleaners.pipeline", "extract_html", "html"),
    ("flows.batch", "discover", "discover"),
    ("flows.batch", "clean_batch", "batch"),
    ("flows.batch", "sketch_documents", "sketch"),
    ("flows.storage", "batch_output", "write"),
    ("flows.dedup_state", "mark_duplicates", "dedup"),
    ("flows.dedup_state", "load_duplicate_index", "dedup"),
)
# (module, class, method, stage name) of methods to time.
METHODS = (
    ("flows.storage", "OutputStore", "commit_batch", "write"),
    ("flows.storage", "OutputStore", "recover", "discover"),
    ("flows.storage", "OutputStore", "index", "discover"),
    ("flows.clean_corpus", "WorkPlan", "survey", "discover"),
    ("flows.clean_corpus", "WorkPlan", "todo", "discover"),
    ("flows.clean_corpus", "WorkPlan", "done_in", "discover"),
)
_END = object()  # what `next` returns when a timed generator is done
# Stages that run inside `batch`: the rest of `batch` is reading, hashing and assembling documents.
INNER = ("decode", "html", "sketch")


class StageClock:
    """Wall seconds, CPU seconds (of the calling thread) and calls per stage name, summed over the process.

    CPU time is what the stage itself consumed: on a machine shared with other
    jobs, wall time also counts the waits for a core, CPU time does not.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.cpu: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._open: dict[str, int] = defaultdict(int)
        self.recipe: tuple[str, ...] = ()

    @contextmanager
    def timing(self, name: str) -> Iterator[None]:
        """Add the block's time to `name`, unless a block of the same stage is already being timed."""
        if self._open[name]:  # the walk's generator runs inside the planning generator: count once
            yield
            return
        self._open[name] += 1
        started, cpu_started = time.perf_counter(), time.thread_time()
        try:
            yield
        finally:
            self._open[name] -= 1
            self.seconds[name] += time.perf_counter() - started
            self.cpu[name] += time.thread_time() - cpu_started
            self.calls[name] += 1

    def wrap(self, name: str, fn: Callable) -> Callable:
        """`fn` timed as stage `name`; a generator function is timed while it makes each item."""
        if inspect.isgeneratorfunction(fn):
            @functools.wraps(fn)
            def timed_items(*args, **kwargs):
                items = fn(*args, **kwargs)
                while True:
                    with self.timing(name):
                        item = next(items, _END)
                    if item is _END:
                        return
                    yield item

            timed_items.__bench_wrapped__ = True
            return timed_items

        @functools.wraps(fn)
        def timed(*args, **kwargs):
            with self.timing(name):
                return fn(*args, **kwargs)

        timed.__bench_wrapped__ = True
        return timed

    def report(self, cpu: bool = False) -> dict[str, float]:
        """Stage seconds (wall, or CPU) with `batch` split into its inner stages and the rest ("read, hash, assemble")."""
        seconds = self.cpu if cpu else self.seconds
        out = {name: value for name, value in seconds.items() if name != "batch"}
        inner = sum(seconds.get(name, 0.0) for name in (*INNER, *self.recipe))
        if "batch" in seconds:
            out["read+hash+assemble"] = max(0.0, seconds["batch"] - inner)
        return out


def _rebind_everywhere(original: Callable, replacement: Callable) -> None:
    """Point every loaded project module's attribute that holds `original` at `replacement`."""
    for name, module in list(sys.modules.items()):
        if module is None or not name.startswith(("cleaners", "flows")):
            continue
        for attr, value in list(vars(module).items()):
            if value is original:
                setattr(module, attr, replacement)


def install(clock: StageClock) -> StageClock:
    """Time every stage that exists in this process; import the flow module first if it is to be timed."""
    import importlib

    import cleaners.pipeline as pipeline

    done: set[str] = set()
    for module_name, attr, stage in FUNCTIONS:
        if (module_name, attr) in done:
            continue
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        fn = getattr(module, attr, None)
        if fn is None or getattr(fn, "__bench_wrapped__", False):
            continue
        _rebind_everywhere(fn, clock.wrap(stage, fn))
        done.add((module_name, attr))
    for module_name, cls_name, method, stage in METHODS:
        try:
            cls = getattr(importlib.import_module(module_name), cls_name)
        except (ImportError, AttributeError):
            continue
        fn = getattr(cls, method, None)
        if fn is not None and not getattr(fn, "__bench_wrapped__", False):
            setattr(cls, method, clock.wrap(stage, fn))
    for name, stage_fn in list(pipeline.STAGES.items()):
        if not getattr(stage_fn, "__bench_wrapped__", False):
            pipeline.STAGES[name] = clock.wrap(name, stage_fn)
    clock.recipe = tuple(pipeline.RECIPE)
    return clock
