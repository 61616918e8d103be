"""The properties every cleaning result must have, whatever the input: shared by the hypothesis
tests (tests/cleaners/test_properties.py) and the atheris target (fuzz/fuzz_clean.py).

1. No crash: `clean_bytes` returns a `FileOutcome` for any bytes (the caller checks it returned).
2. Valid UTF-8: every string that becomes a Parquet cell (title, text, removed text and rule,
   repair pairs) encodes as strict UTF-8, so no lone surrogate reaches the writer.
3. One answer: a file has documents or a quarantine reason, never both, never neither.
4. Idempotence, defined on the text: a document is written out again in the form it came in, and
   cleaned again with the live recipe. A document from a text file is written as its title line (if
   it has a title) then its text; one from HTML as a minimal page, the title in `<title>` and each
   line a `<p>` (so that lines HTML markup made paragraphs are not taken for broken PDF lines the
   second time). The second pass must give exactly one document with the same text, or, when a
   title that is not title-like (two characters, a sentence) stays in the text, the same title line
   plus text. The title may be re-derived (from the first line instead of a hint); the text may not
   change: a second pass that drops, adds, splits or rewrites anything breaks the property.
"""
from __future__ import annotations

from html import escape

from cleaners.decode import Undecodable, decode_bytes
from cleaners.document import CleanContext
from cleaners.html_extract import looks_like_html
from cleaners.pipeline import CleanDoc, FileOutcome, clean_bytes, clean_text, documents_of


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


def as_html(doc: CleanDoc) -> str:
    """A cleaned document as the smallest page that says the same: title in <title>, lines in <p>."""
    title = f"<title>{escape(doc.title)}</title>" if doc.title else ""
    body = "".join(f"<p>{escape(line)}</p>" for line in doc.text.split("\n"))
    return f"<!DOCTYPE html><html><head>{title}</head><body>{body}</body></html>"


def reclean(doc: CleanDoc, html: bool) -> list[CleanDoc]:
    """The documents that cleaning `doc` again, written out as HTML or as text, gives."""
    written, path = (as_html(doc), "reclean.html") if html else (render(doc.title, doc.text), "reclean.txt")
    return documents_of(clean_text(written, path, CleanContext()))


def idempotent(doc: CleanDoc, html: bool) -> bool:
    """Property 4: cleaning the document again changes nothing in its text."""
    again = reclean(doc, html)
    return ([d.text for d in again] == [doc.text]
            or [render(d.title, d.text) for d in again] == [render(doc.title, doc.text)])


def violations(outcome: FileOutcome, html: bool) -> list[str]:
    """Every property `outcome` breaks, as readable messages (empty when it has them all)."""
    problems = [f"not valid UTF-8: {value[:80]!r}" for value in invalid_utf8(outcome)]
    if bool(outcome.docs) == bool(outcome.quarantine_reason):
        problems.append(f"documents={len(outcome.docs)} with quarantine_reason={outcome.quarantine_reason!r}")
    for doc in outcome.docs:
        if invalid_utf8(FileOutcome(docs=[doc])):
            continue  # already reported; re-cleaning text that cannot be written proves nothing more
        if not idempotent(doc, html):
            twice = [(d.title, d.text[:300]) for d in reclean(doc, html)]
            problems.append(f"not idempotent: {(doc.title, doc.text[:300])!r} -> {twice!r}")
    return problems


def check_bytes(raw: bytes, source_path: str) -> list[str]:
    """Clean `raw` as the file `source_path` and return the properties it breaks."""
    outcome = clean_bytes(raw, source_path, CleanContext())
    try:
        html = looks_like_html(decode_bytes(raw).text, source_path)
    except Undecodable:
        html = False
    return violations(outcome, html)


def check_text(text: str, source_path: str) -> list[str]:
    """Clean decoded `text` (which may hold lone surrogates) and return the properties it breaks."""
    docs = documents_of(clean_text(text, source_path, CleanContext()))
    return violations(FileOutcome(docs=docs, quarantine_reason=None if docs else "no_content"),
                      looks_like_html(text, source_path))
