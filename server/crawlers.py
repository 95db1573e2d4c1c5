"""Files for search engines: /robots.txt and /sitemap.xml (https://www.sitemaps.org/protocol.html).

The sitemap lists the main pages and every dataset's landing page with its last modification.
A sitemap file may hold 50,000 URLs, so a larger catalog gets a sitemap index that points to
numbered sitemaps (/sitemap-1.xml, …).
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from flask import Blueprint, Response, abort, current_app, url_for

crawlers = Blueprint("crawlers", __name__)

URLS_PER_SITEMAP = 50_000
MAIN_PAGES = ("pages.home", "search.datasets", "search.explore", "contribute.form", "pages.about")


@crawlers.get("/robots.txt")
def robots():
    lines = ["User-agent: *", "Allow: /",
             # Every combination of filters is a URL; crawlers should follow the landing pages instead.
             "Disallow: /datasets?", "Disallow: /explore?", "Disallow: /sparql", "Disallow: /curate",
             "Disallow: /api/", "Disallow: /submissions/", "",
             f"Sitemap: {url_for('crawlers.sitemap', _external=True)}", ""]
    return Response("\n".join(lines), mimetype="text/plain")


@crawlers.get("/sitemap.xml")
def sitemap():
    entries = _entries()
    if len(entries) <= URLS_PER_SITEMAP:
        return _urlset(entries)
    parts = range(1, -(-len(entries) // URLS_PER_SITEMAP) + 1)
    body = "".join(f"<sitemap><loc>{escape(url_for('crawlers.sitemap_part', number=number, _external=True))}</loc></sitemap>"
                   for number in parts)
    return _xml(f'<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</sitemapindex>')


@crawlers.get("/sitemap-<int:number>.xml")
def sitemap_part(number: int):
    entries = _entries()
    if number < 1 or (number - 1) * URLS_PER_SITEMAP >= len(entries):
        abort(404, description=f"There is no sitemap number {number}.")
    return _urlset(entries[(number - 1) * URLS_PER_SITEMAP:number * URLS_PER_SITEMAP])


def _entries() -> list[tuple[str, str | None]]:
    """Return (URL, last modification date) of the main pages and of every landing page."""
    catalog = current_app.extensions["umud"]
    entries = [(url_for(endpoint, _external=True), None) for endpoint in MAIN_PAGES]
    for name, modified in sorted(catalog.modification_times().items()):
        entries.append((url_for("pages.dataset", name=name, _external=True), modified.date().isoformat()))
    return entries


def _urlset(entries: list[tuple[str, str | None]]) -> Response:
    body = "".join(f"<url><loc>{escape(location)}</loc>" + (f"<lastmod>{modified}</lastmod>" if modified else "")
                   + "</url>" for location, modified in entries)
    return _xml(f'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{body}</urlset>')


def _xml(body: str) -> Response:
    return Response('<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n", mimetype="application/xml")
