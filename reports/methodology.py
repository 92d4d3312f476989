"""The methodology section of a report: the sections of docs/uptime.md that define its figures, quoted
as they are written (the one definition, never a paraphrase), turned into simple HTML."""

from __future__ import annotations

import re
from functools import cache
from html import escape
from pathlib import Path

from django.conf import settings
from django.utils.safestring import SafeString, mark_safe

SECTIONS = (
    "What counts as a failure",
    "Effective uptime",
    "Provider uptime",
    "Days and timezones",
    "Percentages",
    "Traffic totals and latency quantiles",
    "SLA reports",
)
_INLINE = [
    (re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"`(.+?)`"), r"<code>\1</code>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"<em>\1</em>"),
]


def _source() -> str:
    return (Path(settings.BASE_DIR) / "docs" / "uptime.md").read_text(encoding="utf-8")


def sections(text: str) -> list[tuple[str, str]]:
    """(heading, body) of each ``## `` section whose heading starts with one of SECTIONS, in order."""
    found = []
    for chunk in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        heading, _, body = chunk.partition("\n")
        if heading.strip().startswith(SECTIONS):
            found.append((heading.strip(), body.strip()))
    return found


def _inline(text: str) -> str:
    html = escape(text, quote=False)
    for pattern, replacement in _INLINE:
        html = pattern.sub(replacement, html)
    return html


def to_html(markdown: str) -> str:
    """Paragraphs, ``###`` headings, ``-`` and ``1.`` lists (with indented continuation lines), inline
    bold, emphasis and code: what docs/uptime.md uses."""
    out: list[str] = []
    blocks = re.split(r"\n\s*\n", markdown.strip())
    for block in blocks:
        lines = block.split("\n")
        if lines[0].startswith("### "):
            out.append(f"<h4>{_inline(lines[0][4:])}</h4>")
            lines = lines[1:]
            if not lines:
                continue
        first = lines[0]
        if first.startswith("- ") or re.match(r"\d+\. ", first):
            out.append(_list(lines, ordered=not first.startswith("- ")))
        else:
            out.append(f"<p>{_inline(' '.join(line.strip() for line in lines))}</p>")
    return "\n".join(out)


def _list(lines: list[str], *, ordered: bool) -> str:
    items: list[list[str]] = []
    for line in lines:
        marker = re.match(r"(- |\d+\. )", line)
        if marker:
            items.append([line[marker.end() :]])
        elif items:
            items[-1].append(line.strip())
    tag = "ol" if ordered else "ul"
    body = "".join(f"<li>{_inline(' '.join(item))}</li>" for item in items)
    return f"<{tag}>{body}</{tag}>"


@cache
def _rendered(text: str) -> str:
    return "\n".join(f"<h3>{_inline(h)}</h3>\n{to_html(body)}" for h, body in sections(text))


def methodology_html() -> SafeString:
    return mark_safe(_rendered(_source()))  # escaped text of our own docs, then our tags
