"""Undo mojibake: text that was decoded with the wrong codec somewhere upstream.

A scraped page may hold a stretch that some earlier tool decoded wrongly:
UTF-8 bytes read as GBK (`鍦ㄥ叏甯傛墦`), GBK bytes read as Latin-1
(`ÔÚÈ«ÊÐ`), UTF-8 read as Latin-1 or cp1252 (`åœ¨å…¨`). Each kind is
undone by re-encoding with the codec that was wrongly used and decoding with
the right one. A stretch is changed only when the round trip gives clearly
better Chinese (by the lexicon's character frequencies), so real text in any
script is never touched. Characters that were lost for good (`锟斤拷`, the
UTF-8 bytes of U+FFFD read as GBK, and runs of U+FFFD itself) are removed and
counted in the audit.

This stage runs before `normalize`, which drops C1 control characters that
Latin-1 mojibake is made of.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable

from .charlm import load_charlm
from .document import Audit, CleanContext, Page


def encode_latin(text: str) -> bytes:
    """The bytes a Latin-1 or cp1252 reader turned into `text` (browsers mix the two)."""
    out = bytearray()
    for ch in text:
        if ch < "\u0100":
            out.append(ord(ch))
        else:
            try:
                out += ch.encode("cp1252")
            except UnicodeEncodeError:
                out.append(LOST_BYTE)
    return bytes(out)


def encode_gbk(text: str) -> bytes:
    """The bytes a GBK reader turned into `text`; a replacement character stands for a lost byte."""
    # GB18030 is stateless, so encoding the pieces between replacement characters whole gives
    # the same bytes as encoding character by character, without a Python call per character.
    return bytes([LOST_BYTE]).join(piece.encode("gb18030") for piece in text.split("\ufffd"))


def may_hide_utf8_chinese(stretch: str) -> bool:
    """Whether the round trip of some piece of `stretch` can give two Chinese characters in UTF-8.

    Every Chinese character UTF-8 decodes is a lead byte E3–E9 and two continuation bytes, and a
    piece's bytes are a slice of the whole stretch's bytes (GB18030 is stateless), so fewer than two
    such triples in the stretch's bytes rule out every piece. Most stretches a GBK reader's class
    matches are ordinary Chinese, whose GB18030 bytes rarely hold them: one encode and one C-speed
    scan then replace the piece-by-piece round trip.
    """
    try:
        raw = encode_gbk(stretch)
    except UnicodeEncodeError:
        return True  # let the pieces decide
    found = UTF8_CJK_BYTES.search(raw)
    return found is not None and UTF8_CJK_BYTES.search(raw, found.end()) is not None


def always(stretch: str) -> bool:
    return True


@dataclass(frozen=True)
class MojibakeKind:
    """Text whose bytes in `right_codec` were read by a reader that `encode` undoes."""

    name: str
    encode: Callable[[str], bytes]
    right_codec: str
    run: re.Pattern  # the stretches this kind produces
    screen: Callable[[str], bool] = always  # cheap: False only if no piece of the stretch can be repaired


LOST_BYTE = 0xFF  # invalid in UTF-8 and GBK alike: decodes back to U+FFFD
UTF8_CJK_BYTES = re.compile(rb"[\xe3-\xe9][\x80-\xbf][\x80-\xbf]")  # U+3000–U+9FFF in UTF-8 (CJK_CHAR and more)
CJK_CHAR = re.compile("[\u4e00-\u9fff\u3400-\u4dbf]")  # what `is_cjk` accepts, counted at C speed
# A stretch of mojibake: characters the wrong reader produces, with short ASCII pieces
# between them (readers keep ASCII bytes as they are, and a GBK reader swallows some into pairs).
GBK_CLASS = "\u0391-\u0451\u2010-\u2312\u2460-\u2642\u2E80-\u9FFF\uE000-\uE864\uF900-\uFFEF\ufffd"
GBK_RUN = re.compile(f"[{GBK_CLASS}](?:[\x00-\x7f]{{0,8}}[{GBK_CLASS}])*")
CP1252_HIGH = "".join(sorted({bytes([b]).decode("cp1252", errors="ignore") for b in range(0x80, 0xA0)} - {""}))
LATIN_CLASS = f"\x80-\xff{re.escape(CP1252_HIGH)}\ufffd"
LATIN_RUN = re.compile(f"[{LATIN_CLASS}](?:[\x00-\x7f]{{0,8}}[{LATIN_CLASS}])*")

# One place to add a kind; tried in this order (Latin first: its stretches hold no CJK).
KINDS: tuple[MojibakeKind, ...] = (
    MojibakeKind("gbk_read_as_latin", encode_latin, "gb18030", LATIN_RUN),
    MojibakeKind("utf8_read_as_latin", encode_latin, "utf-8", LATIN_RUN),
    MojibakeKind("utf8_read_as_gbk", encode_gbk, "utf-8", GBK_RUN, may_hide_utf8_chinese),
)
# Where a stretch may be cut without cutting a character's bytes: real Chinese punctuation
# (no wrong reader produces it: UTF-8 `，` read as GBK is `锛�`) and ASCII below 0x40
# (spaces, digits, most symbols), which no GBK reader takes as the second byte of a pair.
BOUNDARY = re.compile(r"([，。；：！？、（）《》\x00-\x3f]+)")
LOST = re.compile(r"(?:锟斤拷)+|\ufffd+")
MIN_RUN = 4  # shorter stretches hold too little evidence either way
MIN_QUALITY = -8.0  # per-character log-probability of a stretch that reads as Chinese
MIN_GAIN = 3.0  # how much better per character the round trip must read


def quality(text: str) -> float:
    """Log-probability per Chinese character under the lexicon model: about -5 for prose, -11 for mojibake.

    Mojibake is made of real but unrelated characters that form no words;
    the word model sees that where single-character frequencies do not.
    Replacement characters (bytes lost upstream) are left out.
    """
    text = text.replace("\ufffd", " ")
    n_cjk = len(CJK_CHAR.findall(text))
    return load_charlm().score(text) / n_cjk if n_cjk else -math.inf


def round_trip(text: str, kind: MojibakeKind) -> str | None:
    """`text` turned back into bytes as the wrong reader saw them and decoded right, or None."""
    try:
        raw = kind.encode(text)
    except UnicodeEncodeError:
        return None
    return raw.decode(kind.right_codec, errors="replace")


def better(stretch: str, kind: MojibakeKind) -> str | None:
    if len(stretch) < MIN_RUN:
        return None
    fixed = round_trip(stretch, kind)
    if not fixed or fixed == stretch or len(CJK_CHAR.findall(fixed)) < 2:
        return None
    gained = quality(fixed)
    if gained >= MIN_QUALITY and gained >= quality(stretch) + MIN_GAIN:
        return fixed
    return None


def repair_stretch(stretch: str, kind: MojibakeKind, audit: Audit) -> str:
    fixed = better(stretch, kind)
    if fixed is None:
        return stretch
    audit.repair(stretch, fixed, 1)
    return fixed


def repair_line(line: str, audit: Audit) -> str:
    """Reverse every mojibake stretch of `line` that reads clearly better; drop lost characters.

    Stretches are cut at `BOUNDARY` into pieces judged on their own, so
    clean text beside mojibake stays as it is.
    """
    for kind in KINDS:
        def swap(match: re.Match, kind: MojibakeKind = kind) -> str:
            if not kind.screen(match.group()):
                return match.group()
            pieces = BOUNDARY.split(match.group())
            return "".join(piece if not piece or BOUNDARY.fullmatch(piece) else repair_stretch(piece, kind, audit)
                           for piece in pieces)

        line = kind.run.sub(swap, line)

    def drop(match: re.Match) -> str:
        audit.remove(match.group(), "mojibake_lost")
        return ""

    return LOST.sub(drop, line)


def mojibake_stage(page: Page, ctx: CleanContext) -> Page:
    """Pipeline stage: undo mojibake in every line and in the title hint."""
    for draft in page.drafts:
        draft.lines = [repair_line(line, draft.audit) for line in draft.lines]
    if page.title_hint:
        page.title_hint = repair_line(page.title_hint, page.drafts[0].audit if page.drafts else Audit())
    return page
