"""A synthetic raw corpus for the benchmark, grown from the real pages in `bench/data/`.

The benchmark needs thousands of files and hundreds of MB, far more than the
few real pages we have, and it needs the same mix of dirt as the real input
so that every stage does its real amount of work. Each generated file is
built from body paragraphs of the clean reports (`data/clean/`) and dressed
as one of the kinds of page the pipeline meets:

- `clean`    a plain report excerpt (the controls: nothing to remove)
- `chrome`   a speech wrapped in its site's header, breadcrumb, meta and footer lines
- `html`     the same as an HTML page: nav, header, footer, share bar, scripts
- `merged`   several documents run together, as search-result and PDF dumps are
- `glyphs`   text copied from a PDF with a broken font map (进→迚, 的→癿 …)
- `real`     one of the real dirty pages (`data/seeds/`, `data/web/`) with a varied tail

and written in one of the encodings met in the wild: UTF-8 (most), GB18030
(often declared as GBK), UTF-16 with a byte-order mark, and Big5 when the
text happens to be encodable. Files sit under `<site>/<date>/` folders so
that a site's chrome repeats across its pages, as it does on real sites.

Generation is deterministic for a given seed, so two runs measure the same corpus.
"""
from __future__ import annotations

import argparse
import json
import random
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
MARKER = "corpus.json"  # beside the raw folder, so no reader mistakes it for a page

# Kinds of page and how often each occurs.
KIND_WEIGHTS = {"clean": 20, "chrome": 30, "html": 25, "merged": 10, "glyphs": 10, "real": 5}
# Encodings of non-HTML pages and how often each occurs (Big5 falls back to UTF-8 when it cannot encode).
ENCODING_WEIGHTS = {"utf-8": 70, "gb18030": 18, "utf-16": 7, "big5": 5}
SITES = 40
# Broken-font glyph map seen in PDF-copied text: the right character -> the glyph that replaces it.
BROKEN_GLYPHS = {"进": "迚", "的": "癿", "动": "劢", "任": "仸", "不": "丌", "到": "刡", "并": "幵",
                 "于": "亍", "或": "戒", "初": "刜", "发": "収", "该": "诠", "举": "丼", "归": "弻",
                 "当": "弼", "认": "讣", "且": "丏", "取": "叏", "指": "挃"}
GLYPH_TABLE = str.maketrans(BROKEN_GLYPHS)
# Site chrome lines of the kinds real document sites add; {n} and {d} are filled per page.
CHROME_HEADERS = (
    "欢迎来到{site}! 心得体会 工作总结 工作计划 述职报告 思想汇报 事迹材料",
    "当前位置:首页 > 专题范文 > 公文范文 > 正文",
    "首页 | 范文大全 | 讲话稿 | 工作报告 | 会员中心 | 登录 注册",
    "电脑桌面 添加{site}到电脑桌面 安装后可以在桌面快捷访问",
    "上传人:Wo****{n} 文档编号:{n}{n} 上传时间:{d} 格式:DOC 页数:{p} 大小:{p}4.50KB",
    "返回 下载 相关 举报",
)
CHROME_META = (
    "时间:{d} 18:55:02 来源:网友投稿",
    "发布时间：{d} 浏览次数：{n} 作者：佚名",
    "下面是小编为大家整理的{title},供大家参考。",
    "下载文档到电脑，查找使用更方便 {p}下载券 {n}人已下载",
)
CHROME_FOOTERS = (
    "还剩{p}页未读，继续阅读",
    "上一篇：{other} 下一篇：{other}",
    "责任编辑：{editor}",
    "本文由用户上传，如有侵权请联系删除 举报电话：{n}{n}",
    "Copyright © 2018-2026 {site} 版权所有 京ICP备{n}号",
    "分享到： 微信 微博 QQ空间",
    "热门文档 推荐阅读 相关范文",
)
TITLE_DECORATIONS = ("", "", "(完整)", "VIP专享", ".docx", "_百度文库", "(最新)", "- 豆丁网")
TITLE_FORMS = ("在全市{topic}工作会议上的讲话", "关于{topic}的工作报告", "在{topic}推进会上的讲话",
               "{topic}工作总结", "市委书记在{topic}动员大会上的讲话", "{topic}专题研讨发言材料")
TOPICS = ("生态环境保护", "污染防治攻坚", "优化营商环境", "安全生产", "乡村振兴", "基层治理",
          "科技创新", "招商引资", "民生保障", "文明城市创建", "防汛抗旱", "城市更新")


@dataclass(frozen=True)
class CorpusSpec:
    files: int
    mb: float
    seed: int = 7


@dataclass
class CorpusStats:
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    kinds: dict | None = None
    encodings: dict | None = None


class Sources:
    """The real text the generator draws on: report paragraphs, real pages, a few titles."""

    def __init__(self, data: Path = DATA):
        self.paragraphs: list[str] = []
        for path in sorted((data / "clean").glob("*.txt")):
            text = path.read_text("utf-8").replace("\r\n", "\n")
            self.paragraphs.extend(line.strip() for line in text.split("\n") if len(line.strip()) >= 20)
        self.real_pages = [p.read_text("utf-8") for folder in ("seeds", "web")
                           for p in sorted((data / folder).glob("*.txt"))]
        if not self.paragraphs or not self.real_pages:
            raise SystemExit(f"bench data missing under {data}")


class PageMaker:
    """Builds one page's text of a given kind from the sources, with a random generator."""

    def __init__(self, sources: Sources, rng: random.Random):
        self.src = sources
        self.rng = rng

    def title(self) -> str:
        rng = self.rng
        return rng.choice(TITLE_FORMS).format(topic=rng.choice(TOPICS))

    def body(self, chars: int) -> list[str]:
        """A contiguous run of report paragraphs about `chars` long (real text reads in order)."""
        paras = self.src.paragraphs
        start = self.rng.randrange(len(paras))
        out, size = [], 0
        index = start
        while size < chars:
            para = paras[index % len(paras)]
            out.append(para)
            size += len(para)
            index += 1
        return out

    def fill(self, template: str, site: str, title: str) -> str:
        rng = self.rng
        return template.format(site=site, n=rng.randrange(10, 99999), p=rng.randrange(2, 30),
                               d=f"20{rng.randrange(18, 26)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                               title=title, other=self.title(), editor=rng.choice("王李张刘陈杨赵黄") + "编辑")

    def speech(self, chars: int) -> tuple[str, list[str]]:
        title = self.title()
        lines = ["同志们:"] if self.rng.random() < 0.6 else []
        return title, lines + self.body(chars)

    def page(self, kind: str, site: str, chrome: tuple[list[str], list[str], list[str]], chars: int) -> str:
        rng = self.rng
        head, meta, foot = chrome
        if kind == "clean":
            title, lines = self.speech(chars)
            return "\n".join([title, *lines]) + "\n"
        if kind == "real":
            page = rng.choice(self.src.real_pages)
            return page + "\n" + "\n".join(self.body(rng.randrange(200, 2000))) + "\n"
        if kind == "merged":
            parts = []
            for _ in range(rng.randrange(2, 6)):
                title, lines = self.speech(chars // 3)
                parts.append("\n".join([title + rng.choice(TITLE_DECORATIONS), *lines]))
            return "\n\n".join(parts) + "\n"
        title, lines = self.speech(chars)
        if kind == "glyphs":
            lines = [line.translate(GLYPH_TABLE) if rng.random() < 0.8 else line for line in lines]
        shown = title + rng.choice(TITLE_DECORATIONS)
        top = [self.fill(t, site, title) for t in head] + [shown] + [self.fill(t, site, title) for t in meta]
        bottom = [self.fill(t, site, title) for t in foot]
        if kind == "html":
            return self.html(site, shown, top, lines, bottom)
        if kind == "chrome" and rng.random() < 0.3:  # a download banner injected mid-text
            cut = rng.randrange(len(lines))
            lines = lines[:cut] + [self.fill(CHROME_META[3], site, title)] + lines[cut:]
        return "\n".join(top + [""] + lines + [""] + bottom) + "\n"

    def html(self, site: str, title: str, top: list[str], lines: list[str], bottom: list[str]) -> str:
        rng = self.rng
        nav = "".join(f'<li><a href="/c{i}.html">{t}</a></li>' for i, t in enumerate(TOPICS[:8]))
        body = "\n".join(f"<p>{line}</p>" for line in lines)
        return (
            "<!DOCTYPE html>\n<html><head><meta charset=\"{charset}\"><title>" + title + f" - {site}</title>\n"
            f'<link rel="canonical" href="https://www.{site}/doc/{rng.randrange(10**6)}.html">\n'
            "<script>var _hmt=_hmt||[];(function(){var hm=document.createElement('script');})();</script>\n"
            "<style>.nav{float:left}</style></head>\n<body>\n"
            f'<div class="header"><div class="logo">{site}</div><ul class="nav">{nav}</ul></div>\n'
            f'<div class="breadcrumb">{top[0] if top else ""}</div>\n'
            f'<div class="main-wrap"><div class="article"><h1>{title}</h1>\n'
            + "".join(f'<div class="info">{line}</div>\n' for line in top[1:])
            + f'<div class="content">\n{body}\n</div>\n'
            f'<div class="share-bar">分享到： 微信 微博 QQ空间</div>\n'
            f'<div class="related"><h3>相关文章</h3><ul>'
            + "".join(f"<li>{self.title()}</li>" for _ in range(5))
            + '</ul></div></div>\n<div class="sidebar"><div class="hotlist">'
            + "".join(f"<p>{self.title()}</p>" for _ in range(5))
            + "</div></div></div>\n<div class=\"footer\">"
            + "<br>".join(bottom)
            + "</div>\n<script src=\"/js/stat.js\"></script>\n</body></html>\n"
        )


def encode(text: str, encoding: str, kind: str) -> tuple[bytes, str]:
    """The page's bytes in `encoding`; HTML declares its charset, and GB18030 HTML declares GBK as sites do."""
    if kind == "html":
        if encoding in ("gb18030", "big5"):
            try:
                return text.replace("{charset}", "gbk" if encoding == "gb18030" else "big5").encode(
                    "gb18030" if encoding == "gb18030" else "cp950"), encoding
            except UnicodeEncodeError:
                pass
        return text.replace("{charset}", "utf-8").encode("utf-8"), "utf-8"
    if encoding == "gb18030":
        return text.encode("gb18030"), encoding
    if encoding == "utf-16":
        return text.encode("utf-16"), encoding  # with a byte-order mark
    if encoding == "big5":
        try:
            return text.encode("cp950"), encoding
        except UnicodeEncodeError:
            pass
    return text.encode("utf-8"), "utf-8"


def site_chrome(rng: random.Random) -> tuple[list[str], list[str], list[str]]:
    """One site's own choice of header, meta and footer lines, repeated on each of its pages."""
    return (rng.sample(CHROME_HEADERS, rng.randrange(1, 4)), rng.sample(CHROME_META, rng.randrange(1, 3)),
            rng.sample(CHROME_FOOTERS, rng.randrange(1, 4)))


def generate(out: Path, spec: CorpusSpec, sources: Sources | None = None) -> CorpusStats:
    """Write the corpus under `out/raw` (reused as is when a corpus of the same spec is already there)."""
    marker = out / MARKER
    if marker.exists():
        saved = json.loads(marker.read_text())
        if saved.get("spec") == asdict(spec):
            return CorpusStats(**saved["stats"])
    if out.exists():
        shutil.rmtree(out)
    raw = out / "raw"
    raw.mkdir(parents=True)
    started = time.perf_counter()
    rng = random.Random(spec.seed)
    maker = PageMaker(sources or Sources(), rng)
    chrome = [site_chrome(rng) for _ in range(SITES)]
    kinds, weights = zip(*KIND_WEIGHTS.items())
    encodings, enc_weights = zip(*ENCODING_WEIGHTS.items())
    target_bytes = int(spec.mb * 1e6)
    mean_bytes = target_bytes / spec.files
    stats = CorpusStats(kinds={}, encodings={})
    while stats.files < spec.files or stats.bytes < target_bytes:
        site_index = rng.randrange(SITES)
        kind = rng.choices(kinds, weights)[0]
        # File sizes spread like real pages: many short, a few long (log-normal around the mean).
        chars = max(300, int(rng.lognormvariate(0, 0.6) * mean_bytes / 3.6))
        text = maker.page(kind, f"site{site_index:02d}.example.cn", chrome[site_index], chars)
        data, encoding = encode(text, rng.choices(encodings, enc_weights)[0], kind)
        folder = raw / f"site{site_index:02d}" / f"2026-11-{stats.files % 28 + 1:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        suffix = ".html" if kind == "html" else ".txt"
        (folder / f"{stats.files:06d}_{kind}{suffix}").write_bytes(data)
        stats.files += 1
        stats.bytes += len(data)
        stats.kinds[kind] = stats.kinds.get(kind, 0) + 1
        stats.encodings[encoding] = stats.encodings.get(encoding, 0) + 1
    stats.seconds = time.perf_counter() - started
    marker.write_text(json.dumps({"spec": asdict(spec), "stats": asdict(stats)}))
    return stats


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--files", type=int, default=10_000)
    parser.add_argument("--mb", type=float, default=100.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    stats = generate(args.out, CorpusSpec(args.files, args.mb, args.seed))
    print(json.dumps(asdict(stats)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
