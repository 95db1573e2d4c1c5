"""The Flask application factory: pages, RDF views and the SPARQL endpoint on one catalog."""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from catalog.curation import Curation
from catalog.service import Catalog
from harvesters.cli import default_urls, sources_for

from .negotiation import HTML_TYPES, accepted
from .auth import RateLimiter
from .contribute import CHECK_LIMIT, contribute
from .crawlers import crawlers
from .oai import oai
from .self_description import self_description
from .curate import curate
from .pages import pages
from .search_pages import DOWNLOAD_FORMATS, search
from .settings import Settings
from .sparql import SparqlService, create_sparql_blueprint

log = logging.getLogger("umud.server")


def create_app(catalog: Catalog, settings: Settings) -> Flask:
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = 2 * 1024 * 1024
    app.json.sort_keys = False
    app.extensions["umud"] = catalog
    app.extensions["umud_settings"] = settings
    service = SparqlService(catalog.store, settings)
    app.extensions["umud_sparql"] = service

    if catalog.search_index is None:
        from catalog.search_index import SearchIndex

        catalog.attach_index(SearchIndex())
    curation = Curation(settings.curation_path)
    app.extensions["umud_curation"] = curation
    app.secret_key = curation.secret_key()
    app.config.update(SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax",
                      SESSION_COOKIE_SECURE=settings.base_url.startswith("https://"),
                      PERMANENT_SESSION_LIFETIME=timedelta(hours=12))
    app.extensions["umud_submission_limit"] = RateLimiter(*settings.submission_limit)
    app.extensions["umud_check_limit"] = RateLimiter(*CHECK_LIMIT)
    app.extensions["umud_sign_in_limit"] = RateLimiter(10, 300)
    app.extensions["umud_harvest_sources"] = sources_for(settings.harvest_urls or default_urls(), timeout=15.0,
                                                         max_retries=1)
    app.add_template_filter(with_article, "article")
    app.register_blueprint(pages)
    app.register_blueprint(search)
    app.register_blueprint(contribute)
    app.register_blueprint(curate)
    app.register_blueprint(crawlers)
    app.register_blueprint(self_description)
    app.register_blueprint(oai)
    app.register_blueprint(create_sparql_blueprint(service), url_prefix="/sparql")
    _register_error_pages(app)
    return app


def with_article(noun: str) -> str:
    """Return the noun after "a" or "an", chosen by its first letter: "an ultrasound device"."""
    return f"{'an' if noun[:1].lower() in 'aeiou' else 'a'} {noun}"


def _register_error_pages(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        return _error_response(error.code or 500, error.name, error.description or "")

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        # Anything reaching here is a bug of ours; the client gets no traceback.
        log.exception("unexpected error on %s %s", request.method, request.path)
        return _error_response(500, "Internal Server Error", "The server failed to respond to this request because of an internal error.")


def _error_response(status: int, title: str, message: str):
    best = accepted().best_match(["text/html", "application/json", "text/plain", "application/xhtml+xml"])
    if request.path.startswith("/api/") or request.args.get("format") in {"json", "records"}:
        best = "application/json"
    elif request.args.get("format") in DOWNLOAD_FORMATS:
        # A download requested by format: the client reads data, not a page.
        best = "text/plain"
    if best == "application/json":
        return jsonify({"status": status, "error": title, "message": message}), status
    if best in HTML_TYPES:
        return render_template("error.html", status=status, title=title, message=message), status
    # A client that accepts none of these (an RDF client, say) still gets the reason in plain text.
    return f"{status} {title}: {message}\n", status, {"Content-Type": "text/plain; charset=utf-8"}
