"""The Flask application factory: pages, RDF views and the SPARQL endpoint on one catalog."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from catalog.service import Catalog

from .negotiation import accepted
from .pages import pages
from .search_pages import search
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
    app.register_blueprint(pages)
    app.register_blueprint(search)
    app.register_blueprint(create_sparql_blueprint(service), url_prefix="/sparql")
    _register_error_pages(app)
    return app


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
    best = accepted().best_match(["text/html", "application/json", "text/plain"])
    if best == "application/json":
        return jsonify({"status": status, "error": title, "message": message}), status
    if best == "text/html":
        return render_template("error.html", status=status, title=title, message=message), status
    # A client that accepts none of these (an RDF client, say) still gets the reason in plain text.
    return f"{status} {title}: {message}\n", status, {"Content-Type": "text/plain; charset=utf-8"}
