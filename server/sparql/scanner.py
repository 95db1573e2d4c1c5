"""Checks on the query text before evaluation.

A scanner finds the query form and any SERVICE keyword outside comments, strings and IRIs. Empty,
oversized and update requests and federated queries are rejected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Iterator

from rdflib.plugins.sparql.parser import parseUpdate

from .errors import FederatedQueryRejected, InvalidQuery, ReadOnlyEndpoint, SparqlError

MAX_QUERY_CHARS = 100_000


# SPARQL 1.1 terminals (https://www.w3.org/TR/sparql11-query/#grammar), close enough to tell
# comments, strings and IRIs from keywords. The patterns are meant to err the safe way: where
# they split a token that a SPARQL parser keeps whole, the scanner reports an extra keyword.
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''
             | \"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
             | '(?:[^'\\\r\n]|\\.)*'
             | "(?:[^"\\\r\n]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<variable>[?$]\w*)
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<number>[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)
  | (?P<name>(?:[^\W\d]|:|\\[_~.!$&'()*+,;=/?\#@%-])
             (?:[\w:%\u00B7-]|\\[_~.!$&'()*+,;=/?\#@%-]|\.(?=[\w:%\u00B7\\-]))*)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)
_CODEPOINT_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

UPDATE_OPERATIONS = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}


@dataclass(frozen=True)
class QueryText:
    # First keyword after the prologue, upper case: SELECT, CONSTRUCT, INSERT, ...; None if absent.
    form: str | None
    uses_service: bool
    # The query names its own dataset with FROM or FROM NAMED.
    declares_dataset: bool = False


def scan_query(text: str) -> QueryText:
    """Find the query form and any SERVICE keyword outside comments, strings and IRIs.

    SPARQL 1.1 (section 19.2) decodes \\u and \\U escapes anywhere in the query text, so the text
    is scanned both as written and with those escapes decoded. pyoxigraph 0.5.13 decodes them only
    inside strings and IRIs, but a remote store may follow SPARQL 1.1.
    """
    keywords = _keywords(text)
    decoded = _CODEPOINT_ESCAPE.sub(_decode_escape, text)
    uses_service = "SERVICE" in keywords or (decoded != text and "SERVICE" in _keywords(decoded))
    return QueryText(_query_form(keywords), uses_service, "FROM" in keywords)


def _decode_escape(match: re.Match) -> str:
    code_point = int(match.group(1) or match.group(2), 16)
    return chr(code_point) if code_point <= 0x10FFFF else match.group(0)


def _tokens(text: str) -> Iterator[tuple[str, str]]:
    for match in _TOKEN.finditer(text):
        if match.lastgroup not in ("space", "comment"):
            yield match.lastgroup, match.group()


def _keywords(text: str) -> list[str]:
    """Return the bare words of the text in upper case, in order: keywords, `a`, `true`, ..."""
    return [value.upper() for kind, value in _tokens(text) if kind == "name" and ":" not in value]


def _query_form(keywords: list[str]) -> str | None:
    # The prologue contains BASE, PREFIX and (SPARQL 1.2) VERSION declarations, whose other
    # tokens are IRIs, prefixed names or strings and so never bare words.
    for keyword in keywords:
        if keyword not in ("BASE", "PREFIX", "VERSION"):
            return keyword
    return None


def looks_like_update(text: str) -> bool:
    """Tell whether text that is no valid query is a valid SPARQL update with an operation."""
    try:
        parsed = parseUpdate(text)
    except Exception:  # pyparsing raises several types, and deep nesting a RecursionError
        return False
    return "request" in parsed  # absent when the text has only a prologue


def check_query_text(text: str) -> QueryText:
    """Reject an empty, oversized or update request and a federated query, before evaluation."""
    if not text.strip():
        raise InvalidQuery("The query is empty.")
    if len(text) > MAX_QUERY_CHARS:
        raise SparqlError(413, f"The query has {len(text)} characters; this endpoint accepts at "
                               f"most {MAX_QUERY_CHARS}.")
    scanned = scan_query(text)
    if scanned.form in UPDATE_OPERATIONS:
        raise ReadOnlyEndpoint()
    if scanned.uses_service:
        raise FederatedQueryRejected()
    return scanned


def syntax_failure(text: str, message: str) -> SparqlError:
    """Return the error for a query that the engine could not parse."""
    if looks_like_update(text):
        return ReadOnlyEndpoint()
    return InvalidQuery(f"Invalid SPARQL query: {message}")
