"""Run the atheris target over the kept inputs, as CI does: it must end cleanly.

CI replays, it does not mutate: every input of `fuzz/corpus/` (hand-made seeds) and of
`fuzz/regression/` (the inputs a 3,000-input run with seed 20261122 kept for their coverage) goes
through the live recipe once and must keep every property (`fuzz/properties.py`). A mutation run
with a fixed seed was meant to be the same run everywhere and was not: on a machine without the
language-model cache, and again inside the full suite on a fresh clone, the same seed tried other
inputs and met other findings, so CI went red or green by where it ran.

`FUZZ_RUNS=N` adds N mutated inputs (exploration). What it finds goes to
`tests/fixtures/fuzz_findings/`; what it keeps (the run's `corpus` folder under the test's
temporary folder) may be added to `fuzz/regression/`. libFuzzer reports a broken property or an
exception as a crash and an input slower than `-timeout` as a hang, and saves the input under the
test's temporary folder; nothing is written into the kept folders.
"""
from __future__ import annotations

import os
import subprocess
import sys

from tests.conftest import ROOT

FUZZ_RUNS = int(os.environ.get("FUZZ_RUNS", "0"))
BUDGET_SECONDS = 1800  # a stop for a run far slower than expected (the replay takes seconds, 3,000 inputs a minute)
INPUT_TIMEOUT_SECONDS = 60  # one input slower than this is a hang (typical inputs take milliseconds)
STARTUP_SECONDS = 300  # imports and instrumentation on a busy machine


def test_fuzz_target_keeps_every_property_on_the_kept_inputs(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    kept = [ROOT / "fuzz" / "corpus", ROOT / "fuzz" / "regression"]
    replayed = sum(len(list(folder.iterdir())) for folder in kept)
    # libFuzzer counts the kept inputs (and one empty input it tries first) in `-runs`
    command = [sys.executable, str(ROOT / "fuzz" / "fuzz_clean.py"), f"-runs={replayed + 1 + FUZZ_RUNS}",
               f"-timeout={INPUT_TIMEOUT_SECONDS}", "-seed=20261122", "-rss_limit_mb=3072", f"-artifact_prefix={tmp_path}/",
               "-print_final_stats=1", str(corpus), *map(str, kept)]
    done = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=tmp_path,
                          env={**os.environ, "PYTHONHASHSEED": "0"}, timeout=BUDGET_SECONDS + STARTUP_SECONDS)
    found = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("crash-", "timeout-", "oom-")))
    uncaught = done.stdout.find("=== Uncaught Python exception")
    report = done.stdout[uncaught:uncaught + 6000] if uncaught >= 0 else done.stdout[-6000:]
    assert done.returncode == 0 and not found, f"fuzzing failed ({done.returncode}), inputs {found}:\n{report}"
    assert "Done " in done.stdout
    executed = int(done.stdout.split("stat::number_of_executed_units:")[1].split()[0])
    assert executed >= replayed + FUZZ_RUNS  # every kept input ran, then the mutated ones
