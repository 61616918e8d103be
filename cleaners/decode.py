"""Bytes to text, in the order that is cheapest and surest first.

1. A byte-order mark says it outright (UTF-8, UTF-16, UTF-32).
2. Strict UTF-8: most pages are UTF-8, and random non-UTF-8 bytes almost never
   pass a strict decode, so success is conclusive.
3. A declared charset (`<meta charset>`, `http-equiv`, XML declaration) in the
   first few KB, if the bytes decode under it.
4. chardet on a bounded sample, so a 50 MB file costs what 64 KB costs;
   first among the web's encodings only, which is a quarter of the work:
   a confident multi-byte CJK answer there is the answer chardet gives among
   all its encodings, anything else is asked again among all of them.

GB2312 and GBK answers are read as GB18030, which contains both: pages that
say GB2312 routinely use characters only GBK/GB18030 have. Big5 is read as
CP950 for the same reason. Files that are binary (known magic numbers, NUL
bytes outside UTF-16) or that no candidate decodes are reported with a reason
instead of being decoded into garbage; the caller quarantines them.
"""
from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

import chardet
from chardet import EncodingEra

SAMPLE_BYTES = 64 * 1024
DECLARATION_WINDOW = 4096
# chardet reads this much: on 4 KB it names the same encoding as on 64 KB (all 2,335 non-UTF-8 bench and
# fixture files), at a quarter of the cost; only its confidence figure moves, on a few short samples.
DETECT_SAMPLE_BYTES = 4 * 1024
# C0 controls other than the white space ones (\t \n \v \f \r): found by the regex engine, not a Python loop.
CONTROL_CHAR = re.compile(r"[\x00-\x08\x0e-\x1f]")
# Below this chardet confidence a single-byte guess is noise (random bytes "detected" as
# Greek EBCDIC). A multi-byte CJK guess is kept even at low confidence (short pages get
# low scores) because a strict multi-byte decode is itself evidence.
MIN_DETECT_CONFIDENCE = 0.2
MULTIBYTE_CJK = {"gb18030", "cp950", "big5hkscs", "euc_jp", "shift_jis", "cp932", "euc_kr", "cp949"}
# A multi-byte CJK answer among the web's encodings at this confidence or above is taken without asking
# among all of chardet's: on 9,565 real non-UTF-8 inputs (bench corpus, fixtures, seeds, web pages) and
# 6,000 mutated or random ones, every such answer equalled the full detection's, confidence included.
# Below it, or for another answer, the full detection decides: its legacy single-byte guesses are what
# marks random bytes as noise, where the web's encodings alone call them GB18030 or Shift-JIS.
WEB_ERA_MIN_CONFIDENCE = 0.1
# Share of U+FFFD a lenient decode may contain before the file counts as undecodable.
MAX_REPLACEMENT_SHARE = 0.001

# (mark, codec for the bytes after it, name recorded in `encoding`)
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16"),
)

BINARY_MAGIC = (
    (b"%PDF-", "pdf"),
    (b"PK\x03\x04", "zip"),
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "ole2 (doc/xls)"),
    (b"\x1f\x8b", "gzip"),
    (b"Rar!\x1a\x07", "rar"),
    (b"7z\xbc\xaf\x27\x1c", "7z"),
    (b"\x7fELF", "elf"),
    (b"RIFF", "riff"),
    (b"{\\rtf", "rtf"),
)

DECLARED_CHARSET = re.compile(
    rb"""<meta[^>]{1,512}?charset\s{0,8}=\s{0,8}["']?\s{0,8}([A-Za-z0-9_\-]+)"""
    rb"""|<\?xml[^>]{1,512}?encoding\s{0,8}=\s{0,8}["']([A-Za-z0-9_\-]+)""",
    re.IGNORECASE,
)

# Codecs that name a subset of a larger one we should read with instead.
SUPERSETS = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "cp936": "gb18030",
    "x-gbk": "gb18030",
    "euc-cn": "gb18030",
    "hz-gb-2312": "gb18030",
    "gb18030": "gb18030",
    "big5": "cp950",
    "big5-hkscs": "big5hkscs",
    "ascii": "utf-8",
    "iso-8859-1": "cp1252",
    "latin-1": "cp1252",
}


class Undecodable(Exception):
    """Raised with the quarantine reason when bytes are not text we can read."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    confidence: float


def canonical_codec(name: str) -> str | None:
    """Python codec to read a declared or detected charset with, or None if unknown."""
    key = name.strip().lower().replace("_", "-")
    key = SUPERSETS.get(key, key)
    try:
        return codecs.lookup(key).name
    except LookupError:
        return None


def sniff_binary(raw: bytes) -> str | None:
    """Name of the binary format `raw` starts with, or None if it may be text."""
    for magic, kind in BINARY_MAGIC:
        if raw.startswith(magic):
            return kind
    head = raw[:SAMPLE_BYTES]
    nul = head.count(0)
    if nul and not _looks_utf16(head):
        return "NUL bytes"
    return None


def _looks_utf16(sample: bytes) -> str | None:
    """'utf-16-le' / 'utf-16-be' when the NUL bytes sit on one parity, as in BOM-less UTF-16."""
    if len(sample) < 4:
        return None
    even = sample[0::2].count(0)
    odd = sample[1::2].count(0)
    half = len(sample) // 2
    # Chinese UTF-16 has few NULs; Latin UTF-16 has NUL in every other byte.
    if odd > 0.3 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.3 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def _strict(raw: bytes, codec: str) -> str | None:
    try:
        return raw.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _declared(raw: bytes) -> str | None:
    match = DECLARED_CHARSET.search(raw[:DECLARATION_WINDOW])
    if not match:
        return None
    return canonical_codec((match.group(1) or match.group(2)).decode("ascii"))


def _check_text(text: str) -> str:
    """Reject a decode that produced mostly control characters: binary in disguise."""
    sample = text[:SAMPLE_BYTES]
    if not sample or not CONTROL_CHAR.search(sample):
        return text
    controls = sum(1 for _ in CONTROL_CHAR.finditer(sample))
    if controls > 0.05 * len(sample):
        raise Undecodable("binary: control characters")
    return text


def decode_bytes(raw: bytes) -> Decoded:
    """Decode one file's bytes; raise Undecodable(reason) for empty, binary or unreadable input."""
    if not raw.strip():
        raise Undecodable("empty")
    for bom, codec, label in BOMS:
        if raw.startswith(bom):
            text = _strict(raw[len(bom):], codec)
            if text is None:
                raise Undecodable(f"undecodable: invalid {label} after its byte-order mark")
            return Decoded(_check_text(text), label, 1.0)
    binary = sniff_binary(raw)
    if binary:
        raise Undecodable(f"binary: {binary}")
    utf16 = _looks_utf16(raw[:SAMPLE_BYTES])
    if utf16:
        text = _strict(raw, utf16)
        if text is not None:
            return Decoded(_check_text(text), utf16, 0.9)
    text = _strict(raw, "utf-8")
    if text is not None:
        return Decoded(_check_text(text), "utf-8", 1.0)
    declared = _declared(raw)
    if declared:
        text = _strict(raw, declared)
        if text is not None:
            return Decoded(_check_text(text), declared, 0.99)
    return _detect(raw)


def detect_sample(sample: bytes) -> dict:
    """chardet's answer for `sample` among all its encodings, asked among the web's first
    (see WEB_ERA_MIN_CONFIDENCE)."""
    guess = chardet.detect(sample, encoding_era=EncodingEra.MODERN_WEB)
    name = guess.get("encoding")
    if (name and float(guess.get("confidence") or 0.0) >= WEB_ERA_MIN_CONFIDENCE
            and canonical_codec(name) in MULTIBYTE_CJK):
        return guess
    return chardet.detect(sample)


def _detect(raw: bytes) -> Decoded:
    guess = detect_sample(raw[:DETECT_SAMPLE_BYTES])
    detected = canonical_codec(guess.get("encoding") or "") if guess.get("encoding") else None
    confidence = float(guess.get("confidence") or 0.0)
    if detected is None or (confidence < MIN_DETECT_CONFIDENCE and detected not in MULTIBYTE_CJK):
        raise Undecodable(f"undecodable: no confident encoding (chardet said {guess.get('encoding')!r} "
                          f"at {confidence:.2f})")
    candidates = [c for c in (detected, "gb18030", "cp950", "utf-16") if c]
    for codec in dict.fromkeys(candidates):
        text = _strict(raw, codec)
        if text is not None:
            return Decoded(_check_text(text), codec, confidence if codec == detected else 0.5)
    # No strict decode: accept the detected codec if only a trace of bytes is bad
    # (a truncated last character, one corrupt sequence), never more.
    if detected:
        text = raw.decode(detected, errors="replace")
        if text.count("\ufffd") <= MAX_REPLACEMENT_SHARE * len(text):
            return Decoded(_check_text(text), detected, min(confidence, 0.5))
    raise Undecodable(f"undecodable: no encoding fits (chardet said {guess.get('encoding')!r})")
