"""Run the atheris target for a fixed budget of inputs, as CI does: it must end cleanly.

The budget is `FUZZ_RUNS` inputs (default 3,000), not a time, so a faster pipeline does not reach
further and turn CI red by itself. The same inputs are tried on any machine: the seed is fixed, so
is Python's hash seed, and the target loads the language model before the first input (a model
built during it, on a machine without the cache, gave that input other coverage, and every later
input changed with it). `FUZZ_RUNS=50000` explores further; what it finds goes to
`tests/fixtures/fuzz_findings/`. libFuzzer stops on its own after `-runs`, reports a
broken property or an exception as a crash and an input slower than `-timeout` as a hang, and
saves the input under the test's temporary folder. New corpus entries go there too, never into
the seed corpus `fuzz/corpus/`.
"""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

FUZZ_RUNS = int(os.environ.get("FUZZ_RUNS", "3000"))
BUDGET_SECONDS = 1800  # a stop for a run far slower than expected (3,000 inputs take under a minute)
INPUT_TIMEOUT_SECONDS = 60  # one input slower than this is a hang (typical inputs take milliseconds)
STARTUP_SECONDS = 300  # imports and instrumentation on a busy machine


def test_fuzz_target_runs_its_budget_without_a_crash_or_a_hang(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    command = [sys.executable, str(ROOT / "fuzz" / "fuzz_clean.py"), f"-runs={FUZZ_RUNS}",
               f"-timeout={INPUT_TIMEOUT_SECONDS}", "-seed=20261122", "-rss_limit_mb=3072", f"-artifact_prefix={tmp_path}/",
               "-print_final_stats=1", str(corpus), str(ROOT / "fuzz" / "corpus")]
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONHASHSEED": "0"}, timeout=BUDGET_SECONDS + STARTUP_SECONDS)
    found = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "timeout-", "oom-")))
    uncaught = done.stdout.find("=== Uncaught Python exception")
    report = done.stdout[uncaught:uncaught + 6000] if uncaught >= 0 else done.stdout[-6000:]
    assert done.returncode == 0 and not found, f"fuzzing failed ({done.returncode}), inputs {found}:\n{report}"
    assert "Done " in done.stdout
