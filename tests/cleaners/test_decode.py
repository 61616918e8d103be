"""Every decoder path on real encoded bytes, the quarantine reasons, and the shipped raw/ sample."""
from __future__ import annotations

import codecs
import random
import re
from pathlib import Path

import chardet
import pytest

from cleaners.decode import DETECT_SAMPLE_BYTES, Undecodable, canonical_codec, decode_bytes, detect_sample
from tests.conftest import FIXTURES, RAW_SAMPLE

SPEECH = ("在全市生态环境保护问题整改推进会上的讲话\n同志们：\n今天，我们召开全市生态环境保护问题整改推进会，"
          "既是贯彻落实生态文明思想的具体行动，也是对当前生态环境突出问题的一次全面检视和再动员。" * 3)
TRADITIONAL = (FIXTURES / "encodings" / "tw_speech.utf8.txt").read_text(encoding="utf-8")
GB18030_ONLY = "上传人：李\U00020BB7。" + SPEECH  # a 4-byte GB18030 character GBK does not have


@pytest.mark.parametrize("raw, text, encoding", [
    (SPEECH.encode("utf-8"), SPEECH, "utf-8"),
    (codecs.BOM_UTF8 + SPEECH.encode("utf-8"), SPEECH, "utf-8-sig"),
    (SPEECH.encode("utf-16"), SPEECH, "utf-16"),
    (codecs.BOM_UTF16_BE + SPEECH.encode("utf-16-be"), SPEECH, "utf-16"),
    (codecs.BOM_UTF32_LE + SPEECH.encode("utf-32-le"), SPEECH, "utf-32"),
    (SPEECH.encode("gb18030"), SPEECH, "gb18030"),
    (SPEECH.encode("gbk"), SPEECH, "gb18030"),
    (TRADITIONAL.encode("cp950"), TRADITIONAL, "cp950"),
    ("会议纪要".encode("gb18030"), "会议纪要", "gb18030"),
    ("<html><head><meta charset='gb2312'></head><body><p>" + GB18030_ONLY + "</p></body></html>",
     None, "gb18030"),
    ('<?xml version="1.0" encoding="GBK"?><doc>' + GB18030_ONLY + "</doc>", None, "gb18030"),
    ("<html><head><meta http-equiv='Content-Type' content='text/html; charset=big5'></head><body>"
     + TRADITIONAL + "</body></html>", None, "cp950"),
], ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom", "utf32-bom", "gb18030-chardet", "gbk-as-gb18030",
        "big5-chardet", "gb18030-short-low-confidence", "meta-gb2312-holds-gb18030", "xml-declaration", "meta-http-equiv-big5"])
def test_decoder_paths(raw, text, encoding):
    if isinstance(raw, str):  # a declared page: encode it the way the page says
        text = raw
        declared = re.search(r"(?:charset|encoding)\s*=\s*['\"]?([\w-]+)", raw).group(1)
        raw = raw.encode(canonical_codec(declared))
    decoded = decode_bytes(raw)
    assert decoded.text == text
    assert decoded.encoding == encoding
    assert 0.0 < decoded.confidence <= 1.0


def test_bomless_utf16_of_latin_text_is_recognised():
    text = "Annual report of the environment bureau.\n" * 20
    assert decode_bytes(text.encode("utf-16-le")).text == text


@pytest.mark.parametrize("raw, reason", [
    (b"", "empty"),
    (b" \n\t\r\n ", "empty"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "binary: pdf"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary: png"),
    (b"PK\x03\x04\x14\x00\x06\x00word/document.xml", "binary: zip"),
    ("正文".encode("utf-8") + b"\x00\x01\x02\x00\x00\xff" * 50, "binary: NUL bytes"),
    (bytes(range(1, 32)) * 40, "binary: control characters"),
    (codecs.BOM_UTF8 + b"\xff\xfe\xfa broken", "undecodable: invalid utf-8-sig after its byte-order mark"),
], ids=["empty", "whitespace", "pdf", "png", "docx", "nul", "controls", "bad-after-bom"])
def test_unreadable_input_gives_a_reason(raw, reason):
    with pytest.raises(Undecodable) as caught:
        decode_bytes(raw)
    assert caught.value.reason == reason


def test_random_high_bytes_are_undecodable():
    noise = bytes((i * 97 + 13) % 128 + 128 for i in range(3000)) + b"\x81\x20\xfe\x7f"
    with pytest.raises(Undecodable) as caught:
        decode_bytes(noise)
    assert caught.value.reason.startswith("undecodable")


@pytest.mark.parametrize("name, codec", [("GB2312", "gb18030"), ("gbk", "gb18030"), ("x-gbk", "gb18030"),
                                         ("Big5", "cp950"), ("UTF_8", "utf-8"), ("no-such-charset", None)])
def test_declared_names_map_to_the_codec_that_contains_them(name, codec):
    assert canonical_codec(name) == codec


def _original_of(path: Path) -> str:
    """The UTF-8 text a sample file was encoded from (see raw/README.md)."""
    stem = path.name.split(".")[0]
    for candidate in (RAW_SAMPLE / "2026-11-20" / f"{stem}.txt",
                      FIXTURES / "encodings" / f"{stem}.utf8.txt",
                      FIXTURES / "encodings" / f"{stem}.utf8.html"):
        if candidate.exists():
            return candidate.read_text(encoding="utf-8")
    raise AssertionError(f"no UTF-8 original for {path}")


SAMPLE_TEXT_FILES = sorted(p for p in RAW_SAMPLE.rglob("*") if p.is_file() and p.name != "scan_upload.txt"
                           and p.suffix in (".txt", ".html"))


@pytest.mark.parametrize("path", SAMPLE_TEXT_FILES, ids=lambda p: str(p.relative_to(RAW_SAMPLE)))
def test_every_sample_file_decodes_to_its_utf8_original(path):
    assert decode_bytes(path.read_bytes()).text == _original_of(path)


def test_sample_covers_every_decoder_path():
    encodings = {decode_bytes(p.read_bytes()).encoding for p in SAMPLE_TEXT_FILES}
    assert {"utf-8", "utf-8-sig", "utf-16", "gb18030", "cp950"} <= encodings


def _detection_samples() -> list[bytes]:
    """Texts in the encodings chardet is asked about, whole, cut short, with bytes overwritten, and random
    bytes: the inputs on which asking among the web's encodings first could answer differently."""
    texts = [SPEECH, TRADITIONAL, "これは日本語の文章です。東京で会議がありました。" * 20,
             "한국어 문장입니다. 서울에서 회의가 열렸습니다. " * 20, "Привет, это русский текст. " * 30,
             "Ceci est un texte français, avec des accents : é è à ç ô. " * 20]
    codecs_ = ["gb18030", "cp950", "shift_jis", "euc_jp", "euc_kr", "cp1251", "koi8_r", "latin-1", "cp1252"]
    rng = random.Random(20261123)
    samples = []
    for _ in range(240):
        text = rng.choice(texts)
        start = rng.randrange(len(text) // 2)
        raw = text[start:start + rng.choice([12, 60, 400, 3000])].encode(rng.choice(codecs_), errors="ignore")
        kind = rng.random()
        if kind < 0.25:
            raw = bytes(rng.randrange(256) for _ in range(rng.choice([6, 20, 200, 3000])))
        elif kind < 0.5 and raw:
            damaged = bytearray(raw)
            for _ in range(rng.randrange(1, 20)):
                damaged[rng.randrange(len(damaged))] = rng.randrange(256)
            raw = bytes(damaged)
        samples.append(raw[:DETECT_SAMPLE_BYTES])
    return samples


def test_asking_among_the_web_encodings_first_gives_the_full_detections_answer():
    samples = _detection_samples()
    assert sum(1 for raw in samples if detect_sample(raw)["encoding"] == "GB18030") >= 10  # the fast path is taken
    for raw in samples:
        assert detect_sample(raw) == chardet.detect(raw), raw
