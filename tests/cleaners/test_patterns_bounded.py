"""Every compiled regex in `cleaners/` finishes on adversarial strings of 100,000 characters.

The patterns are found by introspection, not listed: every module-level `re.Pattern` in every module
of the package (sub-packages included), and every pattern inside a rule pack (lists, tuples, sets,
dicts, dataclass instances and class attributes holding patterns), so a rule added tomorrow is
checked without touching this file. Each pattern meets inputs that are long runs of one character or
separator, runs of its own literal characters and literal sequences (near-matches), and the same with a
character that breaks the match at the end, which is what makes a backtracking engine go exponential
or quadratic. A match is stopped by SIGALRM after a generous budget (5 s, wide enough for a loaded CI
machine): this is a hang detector (a linear scan of 100,000 characters takes milliseconds, a quadratic
one tens of seconds), not a timed performance assertion.
"""
from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import re
import signal
from re import _parser as sre_parse  # the parser `re` itself uses; public enough for a test

import pytest

import cleaners

LENGTH = 100_000
BUDGET_SECONDS = 5.0
MAX_DERIVED = 12
# Letters, digits, white space, CJK text and punctuation, separators, markup: the runs rules meet.
GENERIC_UNITS = ("a", "0", " ", "\n", "\u3000", "中", "。", "-", "<", "<a ", "中 ", "a1", "\x00")
BREAKER = "\x00!"


def _modules():
    for info in pkgutil.walk_packages(cleaners.__path__, prefix="cleaners."):
        yield importlib.import_module(info.name)


def _patterns_in(value, where: str, found: dict, seen: set, depth: int = 0) -> None:
    if id(value) in seen or depth > 6:
        return
    seen.add(id(value))
    if isinstance(value, re.Pattern):
        found.setdefault((value.pattern, value.flags), where)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for index, item in enumerate(value):
            _patterns_in(item, f"{where}[{index}]", found, seen, depth + 1)
    elif isinstance(value, dict):
        for index, (key, item) in enumerate(value.items()):
            label = repr(key) if isinstance(key, str) else f"#{index}"  # stable test ids: no object reprs
            _patterns_in(key, f"{where}<key {label}>", found, seen, depth + 1)
            _patterns_in(item, f"{where}[{label}]", found, seen, depth + 1)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for spec in dataclasses.fields(value):
            _patterns_in(getattr(value, spec.name), f"{where}.{spec.name}", found, seen, depth + 1)
    elif isinstance(value, type):
        for name, item in vars(value).items():
            if not name.startswith("__"):
                _patterns_in(item, f"{where}.{name}", found, seen, depth + 1)


def collect_patterns() -> list[tuple[str, re.Pattern]]:
    """(where, pattern) for every distinct compiled pattern the cleaners package holds."""
    found: dict = {}
    for module in _modules():
        seen: set = set()
        for name, value in vars(module).items():
            if isinstance(value, type) and value.__module__ != module.__name__:
                continue  # an imported class is checked in its own module
            _patterns_in(value, f"{module.__name__}.{name}", found, seen)
    return [(where, re.compile(pattern, flags)) for (pattern, flags), where in sorted(found.items(),
                                                                                       key=lambda kv: kv[1])]


def _literal_runs(pattern: re.Pattern) -> list[str]:
    """Literal characters and runs of consecutive literals in the pattern, from its parse tree."""
    source = pattern.pattern if isinstance(pattern.pattern, str) else pattern.pattern.decode("latin-1")
    try:
        tree = sre_parse.parse(source, pattern.flags & ~re.LOCALE)
    except re.error:
        return []
    runs: list[str] = []

    def visit(items) -> None:
        run = ""
        for op, arg in items:
            if op is sre_parse.LITERAL:
                run += chr(arg)
                runs.append(chr(arg))
                continue
            if run:
                runs.append(run)
                run = ""
            if op is sre_parse.IN:
                runs.extend(chr(a) for kind, a in arg if kind is sre_parse.LITERAL)
                runs.extend(chr(a[0]) for kind, a in arg if kind is sre_parse.RANGE)
            elif op in (sre_parse.MAX_REPEAT, sre_parse.MIN_REPEAT, sre_parse.POSSESSIVE_REPEAT):
                visit(arg[2])
            elif op is sre_parse.SUBPATTERN:
                visit(arg[-1])
            elif op is sre_parse.BRANCH:
                for branch in arg[1]:
                    visit(branch)
            elif op in (sre_parse.ASSERT, sre_parse.ASSERT_NOT):
                visit(arg[1])
        if run:
            runs.append(run)

    visit(tree)
    return list(dict.fromkeys(runs))


def adversarial_inputs(pattern: re.Pattern) -> list[tuple[str, str]]:
    """(label, string of LENGTH characters) that a backtracking pattern is most likely to choke on."""
    derived = _literal_runs(pattern)[:MAX_DERIVED]
    units = list(GENERIC_UNITS) + derived + ["".join(derived)] if derived else list(GENERIC_UNITS)
    inputs = []
    for unit in dict.fromkeys(u for u in units if u):
        body = (unit * (LENGTH // len(unit) + 1))[:LENGTH]
        inputs.append((f"{unit!r}*", body))
        inputs.append((f"{unit!r}*+breaker", body[:-len(BREAKER)] + BREAKER))
        if len(unit) > 1:  # a near-match: the unit with its last character missing, over and over
            near = unit[:-1] + BREAKER[0]
            inputs.append((f"{near!r}*", (near * (LENGTH // len(near) + 1))[:LENGTH]))
    return inputs


class Hung(BaseException):
    pass


def _on_alarm(signum, frame):
    raise Hung()


def finishes(pattern: re.Pattern, subject: str | bytes) -> bool:
    """True if `findall` (a scan of every start position: as much work as `search`, or more) ends in budget."""
    signal.setitimer(signal.ITIMER_REAL, BUDGET_SECONDS)
    try:
        pattern.findall(subject)
        return True
    except Hung:
        return False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def runaway_inputs(pattern: re.Pattern) -> list[str]:
    """The label of the first adversarial input the pattern runs away on, if any.

    An input over budget is tried once more before it counts, so that a busy machine's pause is not
    taken for backtracking; one runaway input condemns the pattern (the others would each cost the budget).
    """
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        for label, text in adversarial_inputs(pattern):
            subject = text.encode("utf-8") if isinstance(pattern.pattern, bytes) else text
            if not finishes(pattern, subject) and not finishes(pattern, subject):
                return [label]
    finally:
        signal.signal(signal.SIGALRM, previous)
    return []


PATTERNS = collect_patterns()


def test_introspection_finds_the_patterns_of_known_modules():
    where = {w.split("[")[0] for w, _ in PATTERNS}
    assert {"cleaners.decode.DECLARED_CHARSET", "cleaners.html_extract.FURNITURE", "cleaners.title.DECORATION",
            "cleaners.normalize.SPACE_RUNS"} <= where


@pytest.mark.parametrize("where, pattern", PATTERNS, ids=[w for w, _ in PATTERNS])
def test_pattern_finishes_on_adversarial_100k_strings(where, pattern):
    assert runaway_inputs(pattern) == []
