"""Smoke test of the benchmark: `bench/run.py --quick` runs end to end and prints every row of its table.

Only the table's shape is checked, never a timing: figures depend on the machine.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cleaners.pipeline import RECIPE

ROOT = Path(__file__).resolve().parents[2]
MEASURES = ["files", "MB read", "documents written", "worker processes", "wall seconds",
            "CPU seconds (all processes)", "... of which the Prefect server's process",
            "MB/s per core", "MB per CPU-second", "documents/s per core",
            "documents per CPU-second", "s: walk, plan, recover", "s: decode", "s: html",
            *(f"s: {stage}" for stage in RECIPE),
            "s: read, hash, assemble", "s: dedup sketches (in the batch)", "s: dedup lookups and index", "s: write",
            "s: summed stages",
            "orchestration overhead s (wall − stages)", "orchestration overhead % of wall",
            "orchestration overhead % of CPU", "flow vs plain loop, % more wall / CPU",
            "Prefect cost per task, ms (warm)", "peak RSS MB", "speed-up vs same run x1",
            "our MB/s ÷ peer MB/s (same workers), wall / CPU"]


@pytest.fixture(scope="module")
def quick_table(tmp_path_factory) -> dict[str, list[str]]:
    work = tmp_path_factory.mktemp("bench")
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--dir", str(work)],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, f"bench failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    rows = [line.strip("|").split("|") for line in done.stdout.splitlines() if line.startswith("| ")]
    return {cells[0].strip(): [cell.strip() for cell in cells[1:]] for cells in rows}


def test_table_has_a_column_per_run(quick_table):
    assert quick_table["measure"][:2] == ["flow x1", "loop x1"]


@pytest.mark.parametrize("measure", MEASURES)
def test_table_has_every_measure(quick_table, measure):
    assert measure in quick_table


@pytest.mark.parametrize("measure", ["files", "MB read", "wall seconds", "MB/s per core", "peak RSS MB",
                                     *(f"s: {stage}" for stage in RECIPE), "s: decode", "s: write",
                                     "s: dedup sketches (in the batch)", "s: dedup lookups and index"])
def test_measured_runs_fill_their_cells(quick_table, measure):
    flow, loop = quick_table[measure][:2]
    assert flow not in ("", "—", "absent") and loop not in ("", "—", "absent")


def test_the_flow_counts_the_cpu_of_the_prefect_server_it_started(quick_table):
    """The embedded server is a subprocess that outlives the flow: `os.times` never counts it."""
    flow, loop = quick_table["... of which the Prefect server's process"][:2]
    assert float(flow) > 0 and loop == "—"
    assert float(flow) < float(quick_table["CPU seconds (all processes)"][0])
