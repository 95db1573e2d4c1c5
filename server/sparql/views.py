"""The Flask blueprint for /sparql: query results, the HTML page for people, errors and CORS."""

from __future__ import annotations

import logging

from flask import Blueprint, Response, render_template, request
from werkzeug.exceptions import HTTPException

from .errors import SparqlError
from .examples import EXAMPLE_QUERIES
from .negotiation import (GRAPH_FORMATS, GRAPH_MEDIA_TYPES, SOLUTION_FORMATS, SOLUTION_MEDIA_TYPES, ResultTypes,
                          negotiate_result_types, result_types_for_format)
from .protocol import ProtocolRequest, read_protocol_request
from .results import QueryResult, result_table
from .scanner import MAX_QUERY_CHARS
from .service import SparqlService

log = logging.getLogger("umud.sparql")

TRUNCATED_HEADER = "X-UMUD-Results-Truncated"
LIMIT_HEADER = "X-UMUD-Result-Limit"
HTML_TYPES = ("text/html", "application/xhtml+xml")
ALLOWED_METHODS = "GET, POST, HEAD, OPTIONS"
HOW_TO_QUERY = ("Send a SPARQL query as the `query` parameter of a GET request, as the `query` field "
                "of an application/x-www-form-urlencoded POST, or as the body of an "
                "application/sparql-query POST.")


def create_sparql_blueprint(service: SparqlService) -> Blueprint:
    """Return the blueprint for /sparql: the query endpoint and its page for people."""
    blueprint = Blueprint("sparql", __name__)

    # PUT, DELETE and PATCH are routed here only to return a 405 response with CORS headers.
    @blueprint.route("", methods=["GET", "POST", "OPTIONS", "PUT", "DELETE", "PATCH"],
                     provide_automatic_options=False)
    def endpoint():
        if request.method == "OPTIONS":
            return Response(status=204, headers={"Allow": ALLOWED_METHODS})
        if request.method not in ("GET", "POST", "HEAD"):
            raise SparqlError(405, f"{request.method} is not supported here; use GET or POST.")
        protocol_request = read_protocol_request()
        if _wants_page(protocol_request):
            return _page_response(service, protocol_request.query)
        if protocol_request.query is None:
            from ..self_description import service_description_response

            described = service_description_response() if request.method in ("GET", "HEAD") else None
            return described or _missing_query_response()
        if protocol_request.result_format == "html":
            return _table_response(service, protocol_request)
        types = _requested_types(protocol_request.result_format)
        result = service.run_query(protocol_request.query, types, protocol_request.default_graphs,
                                   protocol_request.named_graphs, base_iri=request.base_url)
        return _result_response(result, service.settings.result_limit)

    blueprint.register_error_handler(SparqlError, _error_response)
    blueprint.register_error_handler(HTTPException, _http_error_response)
    blueprint.after_request(_add_cors_headers)
    return blueprint


def _wants_page(protocol_request: ProtocolRequest) -> bool:
    """Tell whether a browser requested the HTML page rather than query results.

    Only an Accept header that names text/html counts (not */*), and with a query only when it
    rates HTML above every result format. A `format` parameter always requests results.
    """
    if request.method not in ("GET", "HEAD") or protocol_request.result_format is not None:
        return False
    accept = request.accept_mimetypes
    html_quality = max((quality for value, quality in accept if value in HTML_TYPES), default=0)
    if protocol_request.query is None:
        return html_quality > 0
    results_quality = max(accept.quality(media_type) for media_type in SOLUTION_MEDIA_TYPES + GRAPH_MEDIA_TYPES)
    return html_quality > results_quality


def _requested_types(result_format: str | None) -> ResultTypes:
    if result_format in (None, "", "auto"):
        return negotiate_result_types(request.accept_mimetypes)
    return result_types_for_format(result_format)


def _missing_query_response() -> Response:
    return _text_response(f"Missing query. {HOW_TO_QUERY} See {request.base_url} in a browser for "
                          f"examples.", 400)


def _page_response(service: SparqlService, query: str | None, status: int = 200, **results) -> Response:
    html = render_template("sparql.html", query=query or EXAMPLE_QUERIES[0].query, examples=EXAMPLE_QUERIES,
                           solution_formats=SOLUTION_FORMATS, graph_formats=GRAPH_FORMATS,
                           settings=service.settings, max_query_chars=MAX_QUERY_CHARS, **results)
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    response.vary.add("Accept")
    return response


def _table_response(service: SparqlService, protocol_request: ProtocolRequest) -> Response:
    """Run the query and show its result on the page, below the editor (`format=html`)."""
    types = ResultTypes(SOLUTION_FORMATS[0].media_type, GRAPH_FORMATS[0].media_type)
    try:
        result = service.run_query(protocol_request.query, types, protocol_request.default_graphs,
                                   protocol_request.named_graphs, base_iri=request.base_url)
    except SparqlError as error:
        log.info("%s %s rejected with %d: %s", request.method, request.path, error.status, error.message)
        return _page_response(service, protocol_request.query, error.status, error=error.message)
    return _page_response(service, protocol_request.query, table=result_table(result), truncated=result.truncated)


def _result_response(result: QueryResult, limit: int) -> Response:
    response = Response(result.body, content_type=result.content_type)
    response.vary.add("Accept")
    response.headers[LIMIT_HEADER] = str(limit)
    if result.truncated:
        response.headers[TRUNCATED_HEADER] = "true"
    return response


def _error_response(error: SparqlError) -> Response:
    level = logging.WARNING if error.status >= 500 else logging.INFO
    log.log(level, "%s %s rejected with %d: %s", request.method, request.path, error.status, error.message)
    response = _text_response(error.message, error.status)
    if error.status == 405:
        response.headers["Allow"] = ALLOWED_METHODS
    if error.status == 406:
        response.vary.add("Accept")
    return response


def _http_error_response(error: HTTPException) -> Response:
    log.info("%s %s failed with %s: %s", request.method, request.path, error.code, error.description)
    return _text_response(error.description or error.name, error.code or 400)


def _text_response(message: str, status: int) -> Response:
    return Response(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def _add_cors_headers(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = f"{TRUNCATED_HEADER}, {LIMIT_HEADER}"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type"
        response.headers["Access-Control-Max-Age"] = "86400"
    return response
