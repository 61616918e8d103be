"""The peer for the side-by-side figure: the same raw corpus through datatrove.

datatrove (Hugging Face's data-processing library) does a comparable part of
our work with its own parts: a reader that makes one document per raw file
(UTF-8, else GB18030, with replacement: datatrove has no charset detection),
its FTFY formatter (mojibake and control-character repair), a regex line
filter of the site-chrome kind, and its Parquet writer. No HTML extraction,
title, split or audit trail, so the peer does less than we do; the ratio
says what our extra work and our orchestration cost against a lean peer.

Run as a child of `bench/run.py`: `python bench/peer.py RAW OUT --workers N`
prints one JSON line with wall seconds, bytes, documents and peak RSS.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import sys
import time
from pathlib import Path

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.formatters import FTFYFormatter
from datatrove.pipeline.formatters.base import BaseFormatter
from datatrove.pipeline.readers.base import BaseDiskReader
from datatrove.pipeline.writers import ParquetWriter

# Lines of the kinds of chrome document sites add (the same kinds our strip stage removes).
CHROME_LINE = re.compile(
    r"下载券|人已下载|继续阅读|分享到|责任编辑|上一篇|下一篇|当前位置|版权所有|Copyright|ICP备|举报电话|"
    r"浏览次数|来源[:：]网友投稿|热门文档|推荐阅读|相关范文|会员中心|登录|注册|上传人[:：]")


class RawTextReader(BaseDiskReader):
    """One document per raw file, decoded as UTF-8, else GB18030, with replacement characters."""

    name = "raw text"

    def read_file(self, filepath: str):
        with self.data_folder.open(filepath, "rb") as handle:
            data = handle.read()
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("utf-16") if data[:2] in (b"\xff\xfe", b"\xfe\xff") else data.decode(
                "gb18030", errors="replace")
        document = self.get_document_from_dict({"text": text, "id": filepath}, filepath, 0)
        if document:
            yield document


class ChromeLineFilter(BaseFormatter):
    """Drop every line that matches the chrome pattern."""

    name = "chrome lines"

    def format(self, text: str) -> str:
        return "\n".join(line for line in text.split("\n") if not CHROME_LINE.search(line))


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


def run(raw: str, out: str, workers: int) -> dict:
    from loguru import logger

    logger.remove()
    logger.add(sys.stderr, level="ERROR")
    executor = LocalPipelineExecutor(
        pipeline=[RawTextReader(raw, glob_pattern="**/*.*"), FTFYFormatter(), ChromeLineFilter(),
                  ParquetWriter(str(Path(out) / "data"), compression="zstd")],
        tasks=workers, workers=workers, logging_dir=str(Path(out) / "logs"), skip_completed=False)
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    executor.run()
    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
    files = [p for p in Path(raw).rglob("*") if p.is_file() and not p.name.startswith((".", "_"))]
    peak_kb = max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    # The CPU of datatrove's pool workers is not reported back to this process: known only for one worker.
    return {"seconds": seconds, "cpu": cpu if workers == 1 else None, "files": len(files), "bytes": sum(p.stat().st_size for p in files),
            "documents": len(files), "peak_rss_mb": peak_kb / 1024, "workers": workers}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("raw")
    parser.add_argument("out")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    print("BENCH-RESULT " + json.dumps(run(args.raw, args.out, args.workers)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
