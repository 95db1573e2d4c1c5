"""Reading the query operation of the SPARQL 1.1 Protocol from the Flask request."""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass

from flask import request

from .errors import InvalidQuery, ReadOnlyEndpoint, SparqlError
from .scanner import MAX_QUERY_CHARS

# UTF-8 needs at most 4 bytes per character.
MAX_QUERY_BYTES = 4 * MAX_QUERY_CHARS
# A form body percent-encodes each of those bytes as 3 characters.
MAX_FORM_BYTES = 12 * MAX_QUERY_CHARS


@dataclass
class ProtocolRequest:
    query: str | None
    default_graphs: list[str]
    named_graphs: list[str]
    result_format: str | None  # value of the `format` parameter


def read_protocol_request() -> ProtocolRequest:
    """Read a query request (GET, form POST or sparql-query POST), rejecting updates and other bodies."""
    url_fields = _parse_form(request.query_string, "URL query string")
    if request.method in ("GET", "HEAD"):
        return _from_fields(url_fields)
    if request.mimetype == "application/x-www-form-urlencoded":
        return _from_fields(url_fields + _parse_form(_read_body(MAX_FORM_BYTES), "form body"))
    if request.mimetype == "application/sparql-query":
        return _from_query_body(url_fields)
    if request.mimetype == "application/sparql-update":
        raise ReadOnlyEndpoint()
    raise SparqlError(415, f"Unsupported Content-Type {request.mimetype or '(none)'!r}: POST a query as "
                           f"application/x-www-form-urlencoded or application/sparql-query.")


def _from_query_body(url_fields: list[tuple[str, str]]) -> ProtocolRequest:
    protocol_request = _from_fields(url_fields)
    if protocol_request.query is not None:
        raise InvalidQuery("An application/sparql-query POST carries the query in its body, so the "
                           "URL must not have a `query` parameter.")
    protocol_request.query = _decode_utf8(_read_body(MAX_QUERY_BYTES), "request body")
    return protocol_request


def _from_fields(fields: list[tuple[str, str]]) -> ProtocolRequest:
    names = [name for name, _ in fields]
    if "update" in names:
        raise ReadOnlyEndpoint()
    queries = [value for name, value in fields if name == "query"]
    if len(queries) > 1:
        raise InvalidQuery(f"The request has {len(queries)} `query` parameters; send exactly one.")
    formats = [value for name, value in fields if name == "format"]
    return ProtocolRequest(
        query=queries[0] if queries else None,
        default_graphs=[value for name, value in fields if name == "default-graph-uri"],
        named_graphs=[value for name, value in fields if name == "named-graph-uri"],
        result_format=formats[-1] if formats else None)


def _parse_form(data: bytes, where: str) -> list[tuple[str, str]]:
    """Parse application/x-www-form-urlencoded data, rejecting what is not UTF-8."""
    text = _decode_utf8(data, where)
    try:
        return urllib.parse.parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict",
                                      max_num_fields=1000)
    except UnicodeDecodeError:
        raise InvalidQuery(f"The {where} has percent-encoded bytes that are not UTF-8.") from None
    except ValueError as error:
        raise InvalidQuery(f"The {where} cannot be parsed: {error}") from None


def _read_body(max_bytes: int) -> bytes:
    if request.content_length is not None and request.content_length > max_bytes:
        raise _body_too_large(max_bytes)
    body = request.stream.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise _body_too_large(max_bytes)
    return body


def _body_too_large(max_bytes: int) -> SparqlError:
    return SparqlError(413, f"The request body is larger than {max_bytes} bytes; queries may have at "
                            f"most {MAX_QUERY_CHARS} characters.")


def _decode_utf8(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidQuery(f"The {where} is not valid UTF-8 (byte {error.start}).") from None
