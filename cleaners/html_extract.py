"""HTML to lines of text, with the page furniture that markup identifies dropped.

The text is parsed as a string (decode first, then parse: lxml given GB18030
bytes under a GBK `<meta>` returns empty text without an error). Elements
that are never the document (scripts, navigation, headers, footers, forms,
frames) and elements whose class or id names them as furniture (ads, share
bars, comments, related lists, breadcrumbs) are removed and recorded. Block
elements end lines, so paragraphs stay paragraphs. `<h1>`, else `<title>`,
is kept as the title hint.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from bs4 import BeautifulSoup, Comment, Doctype, ProcessingInstruction

from .document import Removal

NEVER_TEXT_TAGS = ("script", "style", "noscript", "template", "svg", "canvas", "object", "embed")
DROP_TAGS = ("nav", "header", "footer", "aside", "iframe", "form", "button", "select", "textarea")
# class/id words that name furniture, matched as whole words inside the attribute value
FURNITURE = re.compile(
    r"(?:^|[\s_\-])("
    r"ads?|advert\w*|banner|sponsor\w*|share\w*|social|comments?|reply|replies|"
    r"related|recommend\w*|hot(?:list|docs?)?|rank\w*|sidebar|side|breadcrumbs?|crumbs?|"
    r"nav\w*|menu\w*|toolbar|footer|header|copyright|login|signup|popup|modal|qrcode|"
    r"download-?bar|vip\w*|pager|pagination|tags?"
    r")(?:$|[\s_\-\d])",
    re.IGNORECASE,
)
BLOCK_TAGS = {"address", "article", "blockquote", "dd", "div", "dl", "dt", "fieldset",
              "figcaption", "figure", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "li", "main",
              "ol", "p", "pre", "section", "table", "tbody", "td", "th", "thead", "tr", "ul",
              "center", "body"}
HTML_SIGNATURE = re.compile(r"<(?:!doctype\s+html|html[\s>]|head[\s>]|body[\s>]|meta\s|div[\s>]|p>|br\s*/?>)",
                            re.IGNORECASE)
HTML_SUFFIXES = (".htm", ".html", ".xhtml", ".shtml")
MAX_REMOVAL_CHARS = 2000


@dataclass
class Extracted:
    lines: list[str]
    title_hint: str | None = None
    host: str | None = None
    removed: list[Removal] = field(default_factory=list)


def looks_like_html(text: str, path: str = "") -> bool:
    """True for a `.htm(l)` file or text whose first KB carries HTML markup."""
    return path.lower().endswith(HTML_SUFFIXES) or bool(HTML_SIGNATURE.search(text[:2048]))


def _is_furniture(tag) -> bool:
    attrs = getattr(tag, "attrs", None)
    if not attrs:
        return False
    names = attrs.get("class") or []
    value = " ".join(names) if isinstance(names, list) else str(names)
    value = f"{value} {attrs.get('id', '')}".strip()
    return bool(value) and bool(FURNITURE.search(value))


def _host(soup) -> str | None:
    for tag, attr in (("link", "href"), ("meta", "content"), ("base", "href")):
        for node in soup.find_all(tag):
            rel = " ".join(node.get("rel") or []) if tag == "link" else ""
            prop = node.get("property") or node.get("name") or ""
            if (tag == "link" and "canonical" in rel) or (tag == "meta" and prop in ("og:url", "twitter:url")) \
                    or tag == "base":
                host = urlsplit(node.get(attr) or "").hostname
                if host:
                    return host.lower().removeprefix("www.")
    return None


def extract_html(html: str) -> Extracted:
    """Lines of the page's text with furniture removed, plus title hint, host and removals."""
    soup = BeautifulSoup(html, "lxml")
    title_tag = soup.find("title")
    h1 = soup.find("h1")
    title_hint = None
    for candidate in (h1, title_tag):
        if candidate is not None and candidate.get_text(strip=True):
            title_hint = candidate.get_text(" ", strip=True)
            break
    host = _host(soup)
    removed: list[Removal] = []
    for node in soup.find_all(string=lambda s: isinstance(s, (Comment, Doctype, ProcessingInstruction))):
        node.extract()
    if soup.head is not None:
        soup.head.decompose()
    for node in soup.find_all(NEVER_TEXT_TAGS):
        node.decompose()
    # A wrapper that holds most of the page (an ASP.NET <form>, a "with-sidebar"
    # container) is layout, not furniture: dropping it would drop the document.
    wrapper_chars = 0.5 * len(soup.get_text(strip=True))
    for node in soup.find_all(lambda tag: tag.name in DROP_TAGS or _is_furniture(tag)):
        if node.parent is None or node.name in ("html", "body"):  # gone with an ancestor
            continue
        text = re.sub(r"\s+", " ", node.get_text(" ", strip=True))
        if len(text) > wrapper_chars:
            continue
        rule = f"html:{node.name}" if node.name in DROP_TAGS else "html:furniture"
        removed.append(Removal(text[:MAX_REMOVAL_CHARS], rule))
        node.decompose()
    for br in soup.find_all("br"):
        br.replace_with("\n")
    for node in soup.find_all(BLOCK_TAGS):
        node.insert_before("\n")
        node.append("\n")
    lines = [line.strip() for line in soup.get_text().split("\n")]
    return Extracted(lines=[line for line in lines if line], title_hint=title_hint, host=host,
                     removed=[r for r in removed if r.text])
