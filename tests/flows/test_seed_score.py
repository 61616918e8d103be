"""The seeds through the real flow, scored by the shared scorer against the hand-made gold answers.

`tests/fixtures/eval/` is a copy of `../shared/eval/` (gold and score.py), so the project checks its
own cleaning quality without `../shared`. The thresholds are the issues' "done when" lines.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys

from flows.clean_corpus import clean_corpus
from tests.conftest import FIXTURES, RAW_SAMPLE

EVAL = FIXTURES / "eval"


def test_seeds_meet_the_cleaning_targets(prefect_harness, tmp_path):
    raw, out = tmp_path / "seeds", tmp_path / "out"
    shutil.copytree(RAW_SAMPLE / "2026-11-20", raw)  # the five seed pages, as scraped
    clean_corpus(raw=str(raw), out=str(out))

    scored = subprocess.run(
        [sys.executable, str(EVAL / "score.py"), "--gold", str(EVAL / "gold"), "--parquet", str(out), "--json",
         "--min-worst-prec", "0.99", "--min-recall", "0.99", "--min-purity", "0.98", "--min-complete", "0.98",
         "--min-para-f1", "0.90", "--max-leaks", "0", "--max-glyphs", "0"],
        capture_output=True, text=True)
    assert scored.returncode == 0, scored.stdout + scored.stderr
    summary = json.loads(scored.stdout.splitlines()[-2])["summary"]
    assert summary["split"] == "5/5"
    assert summary["fixes"] == "61/61"
    assert summary["dups"] == "5/5"
    titles_ok, titles_total = map(int, summary["titles"].split("/"))
    assert titles_ok >= titles_total - 1
