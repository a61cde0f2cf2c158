"""`GET /kb/<article id>`: an article of the knowledge base as a page, for the links the
conversation shows (when the documents don't name an address of their own).

Served whether the web chat is on or off — it is the vendor's documentation, which the
conversation shows its customers anyway; put only documentation you would publish in
`[knowledge]`. The Markdown is rendered by a small, escaping renderer (headings, paragraphs,
lists, code, tables, bold, code spans, links to http(s) addresses): no HTML in a document is
ever passed through.
"""

from __future__ import annotations

import html
import re

from aiohttp import web

from adapters.web.routes import HANDLER
from bot.errors import KnowledgeError
from bot.knowledge.documents import ARTICLE_ID

_INLINE = re.compile(r"`([^`]+)`|\*\*(.+?)\*\*|\[([^\]]+)\]\((https?://[^)\s]+)\)")
_LIST = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font: 16px/1.55 system-ui, sans-serif; max-width: 46rem; margin: 2rem auto;
        padding: 0 1rem; color: #1d2430; }}
h1 {{ font-size: 1.6rem; line-height: 1.25; }} h2 {{ font-size: 1.2rem; margin-top: 1.8rem; }}
code, pre {{ background: #f2f4f7; border-radius: 4px; }} code {{ padding: 0 .25rem; }}
pre {{ padding: .75rem; overflow-x: auto; }} table {{ border-collapse: collapse; }}
td, th {{ border: 1px solid #d5dae1; padding: .3rem .6rem; text-align: left; }}
.source {{ color: #5b6573; font-size: .9rem; }}
</style></head><body>
<p class="source">{vendor} documentation · {source}</p>
{body}
</body></html>
"""


def _inline(text: str) -> str:
    out: list[str] = []
    last = 0
    for match in _INLINE.finditer(text):
        out.append(html.escape(text[last:match.start()]))
        code, bold, label, url = match.groups()
        if code is not None:
            out.append(f"<code>{html.escape(code)}</code>")
        elif bold is not None:
            out.append(f"<strong>{html.escape(bold)}</strong>")
        else:
            out.append(f'<a href="{html.escape(url, quote=True)}">{html.escape(label)}</a>')
        last = match.end()
    out.append(html.escape(text[last:]))
    return "".join(out)


def markdown_html(markdown: str) -> str:
    """Our documents' Markdown as HTML, every piece of text escaped."""
    out: list[str] = []
    paragraph: list[str] = []
    items: list[str] = []
    rows: list[list[str]] = []
    code: list[str] | None = None

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()
        if items:
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + "</ul>")
            items.clear()
        if rows:
            head, *body = rows
            out.append("<table><tr>" + "".join(f"<th>{_inline(c)}</th>" for c in head)
                       + "</tr>" + "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>"
                                                           for c in row) + "</tr>"
                                          for row in body) + "</table>")
            rows.clear()

    for line in markdown.splitlines():
        if line.strip().startswith("```"):
            if code is None:
                flush()
                code = []
            else:
                out.append(f"<pre><code>{html.escape(chr(10).join(code))}</code></pre>")
                code = None
            continue
        if code is not None:
            code.append(line)
            continue
        heading = _HEADING.match(line)
        listed = _LIST.match(line)
        if heading:
            flush()
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif line.strip().startswith("|"):
            if paragraph or items:
                flush()
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not all(re.fullmatch(r":?-{2,}:?", c) for c in cells):
                rows.append(cells)
        elif listed:
            if paragraph or rows:
                flush()
            items.append(listed.group(1))
        elif not line.strip():
            flush()
        elif items and line.startswith("  "):
            items[-1] += " " + line.strip()
        else:
            if items or rows:
                flush()
            paragraph.append(line.strip())
    if code is not None:
        out.append(f"<pre><code>{html.escape(chr(10).join(code))}</code></pre>")
    flush()
    return "\n".join(out)


async def article_page(request: web.Request) -> web.Response:
    article_id = request.match_info["article_id"].strip("/")
    handler = request.app[HANDLER]
    kb = handler.knowledge
    if kb is None:
        return web.json_response({"error": "this deployment has no knowledge base "
                                  "([knowledge] in the deployment file)"}, status=404)
    if not ARTICLE_ID.match(article_id):
        return web.json_response({"error": "no such article"}, status=404)
    try:
        found = kb.page(article_id)
    except KnowledgeError as exc:
        return web.json_response({"error": str(exc)}, status=503)
    if found is None:
        return web.json_response({"error": f"no article {article_id!r}"}, status=404)
    article, markdown = found
    page = _PAGE.format(title=html.escape(article.title),
                        vendor=html.escape(handler.directory.deployment.vendor.name),
                        source=html.escape(article.source), body=markdown_html(markdown))
    return web.Response(text=page, content_type="text/html",
                        headers={"Content-Security-Policy": "default-src 'none'; "
                                 "style-src 'unsafe-inline'"})


def add_article_routes(app: web.Application) -> None:
    app.router.add_get("/kb/{article_id:.+}", article_page)
