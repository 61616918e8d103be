"""`corpus-clean explain FILE`: one page in page order, with what cleaning removed and repaired shown in place.

The stages record every removal (text and rule) and every repair in the
draft's `Audit`, but not where on the page it was. The place is recovered by
aligning the page's lines (after the safe normalisation only) with the cleaned
documents' lines: lines only in the page were removed, and the removal whose
text they are names the rule; lines that changed are compared character by
character, so an inline watermark shows as a removed span and a repaired glyph
as a substitution. Removals that are not on any line (markup dropped during
HTML extraction) are listed after the page.

The same annotation draws the before/after samples of the HTML report, so the
terminal and the report cannot disagree about what happened to a page.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path

from cleaners.decode import Undecodable, decode_bytes
from cleaners.document import CleanContext, Removal
from cleaners.pipeline import clean_text, page_from_text, run_recipe

# Removal rules that are not in any audit: what the alignment itself infers.
JOINED = "joined"  # a line break taken out: two lines became one paragraph
UNRECORDED = "unrecorded"  # text gone that no stage recorded: a stage forgot its audit
# Character comparison is quadratic in the worst case; a larger changed block is shown as lines.
MAX_DIFF_CHARS = 60_000
# An equal run this short between two changes is a coincidence (a shared 的), not an anchor.
MAX_COINCIDENCE = 2
WHITESPACE = re.compile(r"\s+")
# A removed line and a recorded removal this alike are the same line, seen before and after a repair.
MIN_SIMILARITY = 0.75


@dataclass(frozen=True)
class Span:
    """A piece of a shown line: `kept`, `removed` (rule says why), `added`, or `repaired` (rule: the old text)."""

    text: str
    kind: str
    rule: str | None = None


@dataclass
class ShownLine:
    """One line of the page as shown: kept, removed whole, or changed inside."""

    kind: str  # "kept" | "removed" | "changed"
    spans: list[Span]
    document: int | None = None  # which output document the line went to; None for removed lines


@dataclass
class Annotated:
    """A page's lines in page order with their fate, and the removals not found on any line."""

    lines: list[ShownLine] = field(default_factory=list)
    unlocated: list[Removal] = field(default_factory=list)


@dataclass
class Explanation:
    """Everything `explain` prints about one file."""

    source_path: str
    site: str | None = None
    encoding: str | None = None
    quarantine_reason: str | None = None
    titles: list[str | None] = field(default_factory=list)
    annotated: Annotated = field(default_factory=Annotated)
    repairs: Counter = field(default_factory=Counter)


def _key(text: str) -> str:
    return WHITESPACE.sub("", text)


class RemovalIndex:
    """Finds the recorded removal behind a piece of removed text, using each removal once where it can."""

    def __init__(self, removals: list[Removal]):
        self.removals = removals
        self.keys = [_key(r.text) for r in removals]
        self.used = [False] * len(removals)
        self.by_key: dict[str, list[int]] = defaultdict(list)
        for index, key in enumerate(self.keys):
            self.by_key[key].append(index)

    def is_removal(self, line: str) -> bool:
        """Whether some removal's text is exactly this line (whether or not it was used already)."""
        return _key(line) in self.by_key

    def take_line(self, line: str) -> str | None:
        """The rule of an unused removal whose text is exactly this line."""
        for index in self.by_key.get(_key(line), ()):
            if not self.used[index]:
                self.used[index] = True
                return self.removals[index].rule
        return None

    def rule_for(self, text: str) -> str:
        """The rule of the removal that is this text, else of those inside it (in text order), else of
        the block that holds it; `joined` for a bare line break, `unrecorded` when no removal fits."""
        key = _key(text)
        if not key:
            return JOINED
        exact = self.take_line(text)
        if exact:
            return exact
        inside = sorted((key.find(other), index) for index, other in enumerate(self.keys)
                        if not self.used[index] and len(other) >= 2 and other in key)
        if inside:
            for _, index in inside:
                self.used[index] = True
            return " + ".join(dict.fromkeys(self.removals[index].rule for _, index in inside))
        for prefer_unused in (True, False):
            for index, other in enumerate(self.keys):
                if (not prefer_unused or not self.used[index]) and key in other:
                    self.used[index] = True
                    return self.removals[index].rule
        return self._similar(key) or UNRECORDED

    def _similar(self, key: str) -> str | None:
        """The rule of an unused removal that is this text with a few characters changed: a stage
        that repairs glyphs runs before the one that removes the line, which records it repaired."""
        best, best_ratio = None, MIN_SIMILARITY
        for index, other in enumerate(self.keys):
            if self.used[index] or abs(len(other) - len(key)) > max(2, len(key) // 10):
                continue
            ratio = SequenceMatcher(None, key, other, autojunk=False).ratio()
            if ratio >= best_ratio:
                best, best_ratio = index, ratio
        if best is None:
            return None
        self.used[best] = True
        return self.removals[best].rule

    def unlocated(self) -> list[Removal]:
        return [r for r, used in zip(self.removals, self.used) if not used]


def _char_opcodes(before: str, after: str) -> list[list]:
    """Character opcodes with coincidental short equal runs between changes folded into the change.

    A line break is never folded: it is where the shown lines are cut.
    """
    ops = [list(op) for op in SequenceMatcher(None, before, after, autojunk=False).get_opcodes()]
    folded: list[list] = []
    index = 0
    while index < len(ops):
        op = ops[index]
        if (folded and folded[-1][0] != "equal" and op[0] == "equal" and index + 1 < len(ops)
                and op[2] - op[1] <= MAX_COINCIDENCE and "\n" not in before[op[1]:op[2]]
                and ops[index + 1][0] != "equal"):
            following = ops[index + 1]
            folded[-1] = ["replace", folded[-1][1], following[2], folded[-1][3], following[4]]
            index += 2
            continue
        if folded and folded[-1][0] != "equal" and op[0] != "equal":
            folded[-1] = ["replace", folded[-1][1], op[2], folded[-1][3], op[4]]
        else:
            folded.append(op)
        index += 1
    return folded


def _substitution(old: str, new: str) -> bool:
    """Text replaced by text of about its length within a line: a repair, not a cut plus an insertion."""
    return "\n" not in old + new and abs(len(old) - len(new)) <= max(2, len(old) // 5)


def _change_spans(before: str, after: str, repairs: Counter) -> list[Span]:
    """Spans that turn `before` into `after`: kept, removed, added and repaired text (rules come later)."""
    spans: list[Span] = []
    for tag, i1, i2, j1, j2 in _char_opcodes(before, after):
        old, new = before[i1:i2], after[j1:j2]
        if tag == "equal":
            spans.append(Span(new, "kept"))
        elif not new:
            spans.append(Span(old, "removed"))
        elif not old:
            spans.append(Span(new, "added"))
        elif (old, new) in repairs or _substitution(old, new):
            spans.append(Span(new, "repaired", old))
        else:
            spans.extend((Span(old, "removed"), Span(new, "added")))
    return spans


def _spans_to_lines(spans: list[Span], first_line: int, document_of: list[int],
                    index: RemovalIndex) -> list[ShownLine]:
    """Cut spans into shown lines at the line breaks of the cleaned text (kept and added breaks).

    Each cleaned line is one shown line. Removed text that holds whole page lines at a
    cleaned line's start or end is shown as removed lines of their own, each with its own
    rule; removed text inside a cleaned line stays inside it (a joined break shows as ⏎).
    """
    lines: list[ShownLine] = []
    current: list[Span] = []
    line_no = first_line

    def finish() -> None:
        if current:
            kind = "kept" if all(s.kind == "kept" for s in current) else "changed"
            lines.append(ShownLine(kind, list(current), document_of[min(line_no, len(document_of) - 1)]))
            current.clear()

    def removed_lines(pieces: list[str]) -> None:
        lines.extend(ShownLine("removed", [Span(piece, "removed", index.rule_for(piece))])
                     for piece in pieces if piece.strip())

    for number, span in enumerate(spans):
        if span.kind == "removed":
            pieces = span.text.split("\n")
            at_line_end = number + 1 == len(spans) or spans[number + 1].text.startswith("\n")
            if len(pieces) > 1 and any(piece.strip() for piece in pieces[1:]) and (not current or at_line_end):
                if current:  # the cleaned line ends here: its tail, then the lines removed after it
                    if pieces[0]:
                        current.append(Span(pieces[0], "removed", index.rule_for(pieces[0])))
                    finish()
                    removed_lines(pieces[1:])
                else:  # a cleaned line starts here: the lines removed before it, then its head
                    removed_lines(pieces[:-1])
                    if pieces[-1]:
                        current.append(Span(pieces[-1], "removed", index.rule_for(pieces[-1])))
            elif not current and not at_line_end and span.text.endswith("\n"):
                removed_lines(pieces[:-1])
            else:
                current.append(Span(span.text, "removed", index.rule_for(span.text)))
            continue
        for part_no, part in enumerate(span.text.split("\n")):
            if part_no:
                finish()
                line_no += 1
            if part:
                current.append(Span(part, span.kind, span.rule))
    finish()
    return lines


def _changed_block(before: list[str], after: list[str], first_line: int, document_of: list[int],
                   index: RemovalIndex, repairs: Counter) -> list[ShownLine]:
    """Page lines `before` became cleaned lines `after` (which start at cleaned line `first_line`)."""
    if not after:
        return [ShownLine("removed", [Span(line, "removed", index.rule_for(line))]) for line in before]
    old, new = "\n".join(before), "\n".join(after)
    if len(old) + len(new) > MAX_DIFF_CHARS:
        shown = [ShownLine("removed", [Span(line, "removed", index.rule_for(line))]) for line in before]
        return shown + [ShownLine("changed", [Span(line, "added")], document_of[first_line + n])
                        for n, line in enumerate(after)]
    return _spans_to_lines(_change_spans(old, new, repairs), first_line, document_of, index)


def annotate(original: list[str], documents: list[list[str]], removals: list[Removal],
             repairs: Counter | None = None) -> Annotated:
    """Align a page's original lines with its cleaned documents' lines and say what happened to each.

    Lines are aligned first (most lines are kept or removed whole); where a run of page lines
    differs from a run of cleaned lines, page lines that are a recorded removal are taken out
    and, if one cleaned line is left per page line, each pair is compared by character;
    otherwise the runs are compared by character as a whole, which keeps page order.
    """
    repairs = repairs or Counter()
    index = RemovalIndex(removals)
    kept = [line for lines in documents for line in lines]
    document_of = [number for number, lines in enumerate(documents) for _ in lines]
    shown: list[ShownLine] = []
    matcher = SequenceMatcher(None, original, kept, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            shown.extend(ShownLine("kept", [Span(line, "kept")], document_of[j1 + n])
                         for n, line in enumerate(kept[j1:j2]))
            continue
        block = original[i1:i2]
        whole = [index.is_removal(line) for line in block]
        if whole.count(False) == j2 - j1:  # one cleaned line per page line left: compare them pairwise
            after = iter(range(j1, j2))
            for line, removed in zip(block, whole):
                if removed:
                    shown.append(ShownLine("removed", [Span(line, "removed", index.rule_for(line))]))
                else:
                    j = next(after)
                    shown.extend(_changed_block([line], [kept[j]], j, document_of, index, repairs))
        else:
            shown.extend(_changed_block(block, kept[j1:j2], j1, document_of, index, repairs))
    return Annotated(shown, index.unlocated())


def normalised_lines(text: str, source_path: str) -> tuple[list[str], list[Removal]]:
    """The page's lines after the safe normalisation alone, and what HTML extraction removed.

    Only the `normalize` stage runs (white space, invisible characters, look-alike forms): the
    lines are what a reader of the raw page sees, so that every change a repairing or removing
    stage makes, wherever it sits in the recipe, shows up as a difference.
    """
    page = run_recipe(page_from_text(text, source_path), CleanContext(), ("normalize",))
    draft = page.drafts[0]
    return list(draft.lines), list(draft.audit.removed)


def explain_text(text: str, source_path: str, ctx: CleanContext | None = None) -> Explanation:
    """Clean decoded text and annotate its page with what the pipeline did."""
    original, _ = normalised_lines(text, source_path)
    page = clean_text(text, source_path, ctx)
    removals = [r for draft in page.drafts for r in draft.audit.removed]
    repairs: Counter = Counter()
    for draft in page.drafts:
        repairs.update(draft.audit.repairs)
    return Explanation(source_path=source_path, site=page.site, titles=[d.title for d in page.drafts],
                       annotated=annotate(original, [d.lines for d in page.drafts], removals, repairs),
                       repairs=repairs)


def explain_bytes(raw: bytes, source_path: str, ctx: CleanContext | None = None) -> Explanation:
    """Decode and explain one file; an undecodable file gives its quarantine reason."""
    try:
        decoded = decode_bytes(raw)
    except Undecodable as exc:
        return Explanation(source_path=source_path, quarantine_reason=exc.reason)
    explanation = explain_text(decoded.text, source_path, ctx)
    explanation.encoding = decoded.encoding
    return explanation


def source_path_of(path: Path, raw_root: Path | None) -> str:
    """The path a run would record for this file: relative to the raw folder when it is inside it."""
    resolved = path.resolve()
    if raw_root is not None:
        root = raw_root.resolve()
        if root in resolved.parents:
            return resolved.relative_to(root).as_posix()
    return f"{resolved.parent.name}/{resolved.name}" if resolved.parent.name else resolved.name


# --- terminal rendering ---------------------------------------------------------------------

RESET, BOLD, DIM, STRIKE = "\x1b[0m", "\x1b[1m", "\x1b[2m", "\x1b[9m"
RED, GREEN, YELLOW, CYAN = "\x1b[31m", "\x1b[32m", "\x1b[33m", "\x1b[36m"


def printable(text: str) -> str:
    """Text safe for a terminal: control characters (an ESC in a hostile page) shown as escapes."""
    return "".join(ch if unicodedata.category(ch) != "Cc" else f"\\x{ord(ch):02x}" for ch in text)


class Style:
    """How marks are drawn: ANSI colour on a terminal, bracket marks in plain text."""

    def __init__(self, color: bool):
        self.color = color

    def paint(self, text: str, *codes: str) -> str:
        return "".join(codes) + text + RESET if self.color and codes else text

    def rule(self, rule: str | None) -> str:
        return self.paint(f"‹{printable(rule or UNRECORDED)}›", DIM, CYAN)

    def span(self, span: Span) -> str:
        text = printable(span.text.replace("\n", "⏎"))
        if span.kind == "kept":
            return text
        if span.kind == "removed":
            return (self.paint(text, RED, STRIKE) if self.color else f"[-{text}-]") + self.rule(span.rule)
        if span.kind == "added":
            return self.paint(text, GREEN) if self.color else f"{{+{text}+}}"
        old = printable(span.rule or "")
        if self.color:
            return self.paint(old, RED, STRIKE) + self.paint(text, BOLD, YELLOW)
        return f"{{{old}→{text}}}"


def render(explanation: Explanation, color: bool = False) -> str:
    """The explanation as text: `  ` kept, `- ` removed (with rule), `~ ` changed inside."""
    style = Style(color)
    out = [style.paint(f"{printable(explanation.source_path)}", BOLD)
           + f"  site={printable(explanation.site or '-')} encoding={explanation.encoding or '-'}"
           + f" documents={len(explanation.titles)}"]
    if explanation.quarantine_reason:
        out.append(style.paint(f"quarantined: {printable(explanation.quarantine_reason)}", RED))
        return "\n".join(out) + "\n"
    out.append("legend: '  ' kept   '- ' removed ‹rule›   '~ ' changed: "
               + ("red struck = removed, green = added, yellow = repaired"
                  if color else "[-removed-]‹rule›  {+added+}  {wrong→right} repaired"))
    current = None
    for line in explanation.annotated.lines:
        if line.document is not None and line.document != current:
            current = line.document
            title = explanation.titles[current] if current < len(explanation.titles) else None
            out.append(style.paint(f"══ document {current + 1}: {printable(title or '(untitled)')} ══", BOLD))
        if line.kind == "removed":
            span = line.spans[0]
            text = printable(span.text.replace("\n", "⏎"))
            out.append(style.paint("- ", RED) + (style.paint(text, RED, STRIKE) if color else text)
                       + "  " + style.rule(span.rule))
        else:
            marker = "  " if line.kind == "kept" else style.paint("~ ", YELLOW)
            out.append(marker + "".join(style.span(s) for s in line.spans))
    if explanation.annotated.unlocated:
        out.append(style.paint("removed before the text was cut into lines (markup) or not located:", BOLD))
        out.extend(style.paint("- ", RED) + printable(r.text.replace("\n", "⏎")[:200]) + "  " + style.rule(r.rule)
                   for r in explanation.annotated.unlocated)
    if explanation.repairs:
        pairs = ", ".join(f"{printable(w)}→{printable(r)}×{n}" for (w, r), n in explanation.repairs.most_common())
        out.append(style.paint("repairs: ", BOLD) + pairs)
    return "\n".join(out) + "\n"


def explain_file(path: str | Path, raw_root: str | Path | None = None, color: bool = False) -> str:
    """Clean one file as a run would (no Prefect) and render what happened to it."""
    path = Path(path)
    source_path = source_path_of(path, Path(raw_root) if raw_root else None)
    return render(explain_bytes(path.read_bytes(), source_path), color)
