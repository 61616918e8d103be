"""atheris (libFuzzer) target: arbitrary bytes through decode and the live cleaning recipe.

Each input is cleaned as an HTML file or as a text file (the first byte decides) and must have every
property in `fuzz/properties.py`: no exception, valid UTF-8 out, one answer, idempotent. A broken
property raises, which libFuzzer reports as a crash with the input saved; an input that runs longer
than `-timeout` seconds is reported as a hang. Coverage guides the mutations through `cleaners/`.

    .venv/bin/python fuzz/fuzz_clean.py -max_total_time=60 -timeout=20 NEW_CORPUS_DIR fuzz/corpus

CI replays the kept inputs (`fuzz/corpus/`, `fuzz/regression/`) through tests/fuzz/test_fuzz_clean.py;
`FUZZ_RUNS=N` there adds N mutated inputs.
"""
from __future__ import annotations

import sys
from pathlib import Path

import atheris

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

with atheris.instrument_imports(include=["cleaners"]):
    from cleaners.charlm import load_charlm
    from fuzz.properties import check_bytes


class PropertyBroken(Exception):
    """A cleaning result broke one of the properties; the message says which."""


def test_one_input(data: bytes) -> None:
    if not data:
        return
    source_path = "fuzz/page.html" if data[0] & 1 else "fuzz/page.txt"
    problems = check_bytes(data[1:], source_path)
    if problems:
        raise PropertyBroken("; ".join(problems))


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    # Built (or read from its cache) before the first input, so that whether a model cache exists
    # does not change the coverage of that input and, through it, which inputs a fixed seed tries.
    load_charlm()
    atheris.Fuzz()


if __name__ == "__main__":
    main()
