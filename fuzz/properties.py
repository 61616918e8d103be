"""The properties every cleaning result must have, whatever the input: shared by the hypothesis
tests (tests/cleaners/test_properties.py) and the atheris target (fuzz/fuzz_clean.py).

1. No crash: `clean_bytes` returns a `FileOutcome` for any bytes (the caller checks it returned).
2. Valid UTF-8: every string that becomes a Parquet cell (title, text, removed text and rule,
   repair pairs) encodes as strict UTF-8, so no lone surrogate reaches the writer.
3. One answer: a file has documents or a quarantine reason, never both, never neither.
4. Idempotence, defined on the rendered document: a document is rendered as its title line (if it
   has a title) followed by its text, which is how a reader sees it. Cleaning that rendering again as
   a plain-text file with the live recipe must give back exactly one document whose rendering is
   the same string. Rendering makes the definition independent of where the title came from: on the
   second pass the title is found as the first line, or, if it is not title-like (two characters, a
   sentence), it stays the first line of the text; either way the rendering is unchanged. A second
   pass that drops, adds, splits or rewrites anything breaks the property.
"""
from __future__ import annotations

from cleaners.document import CleanContext
from cleaners.pipeline import CleanDoc, FileOutcome, clean_bytes, clean_text, documents_of

RECLEAN_PATH = "reclean.txt"


def render(title: str | None, text: str) -> str:
    """A document as a reader sees it: title line, then the text."""
    return f"{title}\n{text}" if title else text


def invalid_utf8(outcome: FileOutcome) -> list[str]:
    """The output strings of `outcome` that cannot be written as UTF-8."""
    strings: list[str] = [outcome.quarantine_reason or "", outcome.site or "", outcome.encoding or ""]
    for doc in outcome.docs:
        strings += [doc.title or "", doc.text]
        strings += [part for removal in doc.removed for part in (removal.text, removal.rule)]
        strings += [part for wrong, right, _ in doc.repairs for part in (wrong, right)]
    bad = []
    for value in strings:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            bad.append(value)
    return bad


def reclean(doc: CleanDoc, ctx: CleanContext | None = None) -> list[str]:
    """Renderings of the documents that cleaning `doc`'s rendering again gives."""
    page = clean_text(render(doc.title, doc.text), RECLEAN_PATH, ctx or CleanContext())
    return [render(again.title, again.text) for again in documents_of(page)]


def violations(outcome: FileOutcome) -> list[str]:
    """Every property `outcome` breaks, as readable messages (empty when it has them all)."""
    problems = [f"not valid UTF-8: {value[:80]!r}" for value in invalid_utf8(outcome)]
    if bool(outcome.docs) == bool(outcome.quarantine_reason):
        problems.append(f"documents={len(outcome.docs)} with quarantine_reason={outcome.quarantine_reason!r}")
    for doc in outcome.docs:
        if invalid_utf8(FileOutcome(docs=[doc])):
            continue  # already reported; re-cleaning text that cannot be written proves nothing more
        once = render(doc.title, doc.text)
        twice = reclean(doc)
        if twice != [once]:
            problems.append(f"not idempotent: {once[:300]!r} -> {[t[:300] for t in twice]!r}")
    return problems


def check_bytes(raw: bytes, source_path: str) -> list[str]:
    """Clean `raw` as the file `source_path` and return the properties it breaks."""
    return violations(clean_bytes(raw, source_path, CleanContext()))


def check_text(text: str, source_path: str) -> list[str]:
    """Clean decoded `text` (which may hold lone surrogates) and return the properties it breaks."""
    docs = documents_of(clean_text(text, source_path, CleanContext()))
    return violations(FileOutcome(docs=docs, quarantine_reason=None if docs else "no_content"))
