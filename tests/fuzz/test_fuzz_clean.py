"""Run the atheris target for a fixed time budget, as CI does: it must end cleanly.

The budget is `FUZZ_SECONDS` (default 60); libFuzzer stops on its own at `-max_total_time`, reports a
broken property or an exception as a crash and an input slower than `-timeout` as a hang, and
saves the input under the test's temporary folder. New corpus entries go there too, never into
the seed corpus `fuzz/corpus/`.
"""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

FUZZ_SECONDS = int(os.environ.get("FUZZ_SECONDS", "60"))
INPUT_TIMEOUT_SECONDS = 60  # one input slower than this is a hang (typical inputs take milliseconds)
STARTUP_SECONDS = 300  # imports and instrumentation on a busy machine


def test_fuzz_target_runs_its_budget_without_a_crash_or_a_hang(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    command = [sys.executable, str(ROOT / "fuzz" / "fuzz_clean.py"), f"-max_total_time={FUZZ_SECONDS}",
               f"-timeout={INPUT_TIMEOUT_SECONDS}", "-seed=20261122", "-rss_limit_mb=3072", f"-artifact_prefix={tmp_path}/",
               "-print_final_stats=1", str(corpus), str(ROOT / "fuzz" / "corpus")]
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
                          timeout=FUZZ_SECONDS + INPUT_TIMEOUT_SECONDS + STARTUP_SECONDS)
    found = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "timeout-", "oom-")))
    uncaught = done.stdout.find("=== Uncaught Python exception")
    report = done.stdout[uncaught:uncaught + 6000] if uncaught >= 0 else done.stdout[-6000:]
    assert done.returncode == 0 and not found, f"fuzzing failed ({done.returncode}), inputs {found}:\n{report}"
    assert "Done " in done.stdout
