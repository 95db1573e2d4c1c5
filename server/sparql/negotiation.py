"""Result formats by query form, and the choice among them by Accept header or `format` parameter."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import InvalidQuery, NotAcceptable


@dataclass(frozen=True)
class ResultFormat:
    name: str  # value of the `format` request parameter
    media_type: str
    label: str


SOLUTION_FORMATS = (
    ResultFormat("json", "application/sparql-results+json", "JSON"),
    ResultFormat("xml", "application/sparql-results+xml", "XML"),
    ResultFormat("csv", "text/csv", "CSV"),
    ResultFormat("tsv", "text/tab-separated-values", "TSV"),
)
GRAPH_FORMATS = (
    ResultFormat("ttl", "text/turtle", "Turtle"),
    ResultFormat("jsonld", "application/ld+json", "JSON-LD"),
    ResultFormat("rdf", "application/rdf+xml", "RDF/XML"),
    ResultFormat("nt", "application/n-triples", "N-Triples"),
)
FORMATS_BY_NAME = {result_format.name: result_format for result_format in SOLUTION_FORMATS + GRAPH_FORMATS}
# Served as SPARQL Results JSON, with the Content-Type that the client requested.
JSON_ALIAS = "application/json"
SOLUTION_MEDIA_TYPES = [SOLUTION_FORMATS[0].media_type, JSON_ALIAS] + [f.media_type for f in SOLUTION_FORMATS[1:]]
GRAPH_MEDIA_TYPES = [result_format.media_type for result_format in GRAPH_FORMATS]
SOLUTION_FORMS = {"SELECT", "ASK"}
GRAPH_FORMS = {"CONSTRUCT", "DESCRIBE"}


@dataclass(frozen=True)
class ResultTypes:
    """The response media type for each kind of result; None where the client accepts none."""

    solutions: str | None  # SELECT and ASK
    graph: str | None  # CONSTRUCT and DESCRIBE

    def for_form(self, form: str | None) -> str | None:
        """Return the media type for a query form, rejecting a form the client accepts nothing for."""
        if form in GRAPH_FORMS:
            return self._require(self.graph, form, GRAPH_FORMATS, [])
        if form in SOLUTION_FORMS:
            return self._require(self.solutions, form, SOLUTION_FORMATS, [JSON_ALIAS])
        return self.solutions or self.graph

    @staticmethod
    def _require(media_type, form, formats, aliases) -> str:
        if media_type is not None:
            return media_type
        served = ", ".join([f.media_type for f in formats] + aliases)
        names = ", ".join(f.name for f in formats)
        raise NotAcceptable(f"The result of a {form} query is available only as {served} (format "
                            f"parameter: {names}), and the request accepts none of them.")


def negotiate_result_types(accept) -> ResultTypes:
    """Choose from a parsed Accept header (werkzeug MIMEAccept); an absent header accepts all."""
    if not accept:
        return ResultTypes(SOLUTION_MEDIA_TYPES[0], GRAPH_MEDIA_TYPES[0])
    return ResultTypes(accept.best_match(SOLUTION_MEDIA_TYPES), accept.best_match(GRAPH_MEDIA_TYPES))


def result_types_for_format(name: str) -> ResultTypes:
    """Return the types that a `format` parameter (json, ttl, ...) selects."""
    result_format = FORMATS_BY_NAME.get(name)
    if result_format is None:
        raise InvalidQuery(f"Unknown format {name!r}; use one of {', '.join(FORMATS_BY_NAME)}, auto or html.")
    if result_format in GRAPH_FORMATS:
        return ResultTypes(None, result_format.media_type)
    return ResultTypes(result_format.media_type, None)


def content_type(media_type: str) -> str:
    return f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type
