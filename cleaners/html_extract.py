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

from lxml import etree

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
# Elements whose text (at any depth) is not running text: ruby annotations (pronunciation over
# characters) and code. Scripts, styles and templates are dropped before the text is read, but the
# title hint is read before that.
NOT_TEXT_CONTAINERS = frozenset({"rt", "rp", "script", "style", "template"})
FEED_CHUNK = 512


@dataclass
class Extracted:
    lines: list[str]
    title_hint: str | None = None
    host: str | None = None
    removed: list[Removal] = field(default_factory=list)


def looks_like_html(text: str, path: str = "") -> bool:
    """True for a `.htm(l)` file or text that carries HTML markup anywhere.

    Not only near the start: a text file whose markup came late was read as text with its tags
    kept, and the same text cut shorter by cleaning was then read as HTML (a fuzzer finding).
    """
    return path.lower().endswith(HTML_SUFFIXES) or bool(HTML_SIGNATURE.search(text))


def _is_furniture(node) -> bool:
    attrs = node.attrib
    if not attrs:
        return False
    value = f"{' '.join(attrs.get('class', '').split())} {attrs.get('id', '')}".strip()
    return bool(value) and bool(FURNITURE.search(value))


def _host(root) -> str | None:
    for tag, attr in (("link", "href"), ("meta", "content"), ("base", "href")):
        for node in root.iter(tag):
            rel = node.get("rel") or "" if tag == "link" else ""
            prop = node.get("property") or node.get("name") or ""
            if (tag == "link" and "canonical" in rel) or (tag == "meta" and prop in ("og:url", "twitter:url")) \
                    or tag == "base":
                try:
                    host = urlsplit(node.get(attr) or "").hostname
                except ValueError:  # a malformed URL ("http://[/") names no host
                    continue
                if host:
                    return host.lower().removeprefix("www.")
    return None


def _parse(html: str):
    """The lxml tree of `html`, fed as text in chunks (decoding is done; a `<meta charset>` must not redo it)."""
    parser = etree.HTMLParser(recover=True)
    for start in range(0, len(html), FEED_CHUNK):
        parser.feed(html[start:start + FEED_CHUNK])
    try:
        return parser.close()
    except etree.XMLSyntaxError:  # nothing but white space
        return None


def _strings(root, skip: set, layout: bool = False) -> list[str]:
    """The text pieces under `root` in document order, one per text node, as they would be read.

    Comments, processing instructions and the subtrees in `skip` contribute
    only the text that follows them; nothing inside `NOT_TEXT_CONTAINERS` is
    text. With `layout`, a `<br>` reads as a line end and a block element
    starts and ends a line. lxml's walker does the traversal in C (no recursion,
    so deep nesting cannot overflow the stack); a subtree in `skip` is not entered.
    """
    out: list[str] = []
    ruby = int(any(a.tag in NOT_TEXT_CONTAINERS for a in root.iterancestors()))  # containers open around a node
    walker = etree.iterwalk(root, events=("start", "end", "comment", "pi"))
    for event, node in walker:
        if event == "start":
            if node in skip:
                walker.skip_subtree()  # its "end" comes next, for the tail
                continue
            tag = node.tag
            if tag in NOT_TEXT_CONTAINERS:
                ruby += 1
            if layout and (tag in BLOCK_TAGS or tag == "br"):
                out.append("\n")
            if node.text and not ruby:
                out.append(node.text)
            continue
        if event == "end" and node not in skip:
            tag = node.tag
            if tag in NOT_TEXT_CONTAINERS:
                ruby -= 1
            if layout and tag in BLOCK_TAGS:
                out.append("\n")
        if node is not root and node.tail and not ruby:
            out.append(node.tail)
    return out


def _text(node, skip: set, separator: str = " ") -> str:
    """The node's text pieces stripped and joined, empty pieces left out."""
    return separator.join(piece for piece in (p.strip() for p in _strings(node, skip)) if piece)


def _walk(root, skip: set):
    """Every element under `root` in document order, not descending into `skip` (which may grow meanwhile)."""
    stack = [root]
    while stack:
        node = stack.pop()
        if not isinstance(node.tag, str) or node in skip:
            continue
        yield node
        if node not in skip:  # the consumer may have just skipped it
            stack.extend(reversed(node))


def extract_html(html: str) -> Extracted:
    """Lines of the page's text with furniture removed, plus title hint, host and removals."""
    root = _parse(html)
    if root is None:
        return Extracted(lines=[])
    skip: set = set()
    title_hint = None
    for name in ("h1", "title"):
        candidate = next(root.iter(name), None)
        if candidate is not None and _text(candidate, skip, ""):
            title_hint = _text(candidate, skip)
            break
    host = _host(root)
    removed: list[Removal] = []
    head = next(root.iter("head"), None)
    if head is not None:
        skip.add(head)
    skip.update(node for node in root.iter(*NEVER_TEXT_TAGS))
    # A wrapper that holds most of the page (an ASP.NET <form>, a "with-sidebar"
    # container) is layout, not furniture: dropping it would drop the document.
    wrapper_chars = 0.5 * len(_text(root, skip, ""))
    for node in _walk(root, skip):
        if node.tag in ("html", "body") or not (node.tag in DROP_TAGS or _is_furniture(node)):
            continue
        text = re.sub(r"\s+", " ", _text(node, skip))
        if len(text) > wrapper_chars:
            continue
        rule = f"html:{node.tag}" if node.tag in DROP_TAGS else "html:furniture"
        removed.append(Removal(text[:MAX_REMOVAL_CHARS], rule))
        skip.add(node)
    lines = [line.strip() for line in "".join(_strings(root, skip, layout=True)).split("\n")]
    return Extracted(lines=[line for line in lines if line], title_hint=title_hint, host=host,
                     removed=[r for r in removed if r.text])
