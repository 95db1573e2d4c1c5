"""Serialisation of pyoxigraph query results in the negotiated format, capped at a result limit."""

from __future__ import annotations

import json
from itertools import islice
from typing import Iterable, NamedTuple

import pyoxigraph as ox

from catalog.namespaces import PREFIXES

from .negotiation import GRAPH_FORMS, JSON_ALIAS, SOLUTION_MEDIA_TYPES, ResultTypes, content_type

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


class QueryResult(NamedTuple):
    body: bytes
    content_type: str
    # True when the query had more than `Settings.result_limit` solutions or triples.
    truncated: bool = False


def serialize_result(result, types: ResultTypes, limit: int, form: str | None = None) -> QueryResult:
    """Serialise a pyoxigraph result (solutions, boolean or triples), keeping at most `limit` items."""
    if isinstance(result, ox.QueryBoolean):
        media_type = types.for_form("ASK")
        return QueryResult(_serialize_boolean(bool(result), media_type), content_type(media_type))
    if isinstance(result, ox.QuerySolutions):
        media_type = types.for_form("SELECT")
        body, truncated = _serialize_solutions(result, media_type, limit)
        return QueryResult(body, content_type(media_type), truncated)
    media_type = types.for_form(form if form in GRAPH_FORMS else "CONSTRUCT")
    body, truncated = _serialize_triples(result, media_type, limit)
    return QueryResult(body, content_type(media_type), truncated)


def _serialize_solutions(solutions: ox.QuerySolutions, media_type: str, limit: int) -> tuple[bytes, bool]:
    # pyoxigraph serialises only a whole QuerySolutions, so the capped rows are written as SPARQL
    # Results JSON, read back and serialised in the requested format.
    names = [variable.value for variable in solutions.variables]
    rows = list(islice(solutions, limit + 1))
    truncated = len(rows) > limit
    bindings = [_bindings_json(row, names) for row in rows[:limit]]
    document = json.dumps({"head": {"vars": names}, "results": {"bindings": bindings}}).encode()
    return _convert_results_json(document, media_type), truncated


def _serialize_boolean(value: bool, media_type: str) -> bytes:
    document = json.dumps({"head": {}, "boolean": value}).encode()
    return _convert_results_json(document, media_type)


def _convert_results_json(document: bytes, media_type: str) -> bytes:
    if media_type in (SOLUTION_MEDIA_TYPES[0], JSON_ALIAS):
        return document
    parsed = ox.parse_query_results(document, format=ox.QueryResultsFormat.JSON)
    return parsed.serialize(format=ox.QueryResultsFormat.from_media_type(media_type))


def _bindings_json(solution: ox.QuerySolution, names: list[str]) -> dict:
    bindings = {}
    for name in names:
        term = solution[name]
        if term is not None:
            bindings[name] = _term_json(term)
    return bindings


def _term_json(term) -> dict:
    """Return a term as SPARQL 1.1 Results JSON, with the RDF 1.2 additions Oxigraph 0.5 writes."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        return _literal_json(term)
    if isinstance(term, ox.Triple):
        parts = {"subject": term.subject, "predicate": term.predicate, "object": term.object}
        return {"type": "triple", "value": {key: _term_json(part) for key, part in parts.items()}}
    raise TypeError(f"Unexpected RDF term in query results: {term!r}")


def _literal_json(literal: ox.Literal) -> dict:
    value = {"type": "literal", "value": literal.value}
    if literal.language:
        value["xml:lang"] = literal.language
        if literal.direction is not None:
            value["its:dir"] = str(literal.direction)
    elif literal.datatype.value != XSD_STRING:
        value["datatype"] = literal.datatype.value
    return value


def _serialize_triples(triples: Iterable[ox.Triple], media_type: str, limit: int) -> tuple[bytes, bool]:
    kept = list(islice(triples, limit + 1))
    truncated = len(kept) > limit
    prefixes = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
    body = ox.serialize(kept[:limit], format=ox.RdfFormat.from_media_type(media_type), prefixes=prefixes)
    return body, truncated


def result_table(result: QueryResult) -> dict:
    """Return a result for the HTML page: variables and rows of a SELECT, an ASK's boolean, or RDF text."""
    if result.content_type.startswith("text/turtle"):
        return {"kind": "graph", "text": result.body.decode("utf-8")}
    document = json.loads(result.body)
    if "boolean" in document:
        return {"kind": "boolean", "value": document["boolean"]}
    variables = document["head"]["vars"]
    rows = [[binding.get(variable) for variable in variables] for binding in document["results"]["bindings"]]
    return {"kind": "solutions", "variables": variables, "rows": rows}
