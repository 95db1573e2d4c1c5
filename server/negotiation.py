"""Choosing a representation: by file suffix (`.ttl`) or by the Accept header."""

from __future__ import annotations

from dataclasses import dataclass

from flask import request
from werkzeug.datastructures import MIMEAccept


@dataclass(frozen=True)
class RdfFormat:
    suffix: str
    media_type: str
    rdflib_name: str


RDF_FORMATS = (
    RdfFormat("ttl", "text/turtle", "turtle"),
    RdfFormat("jsonld", "application/ld+json", "json-ld"),
    RdfFormat("rdf", "application/rdf+xml", "xml"),
    RdfFormat("nt", "application/n-triples", "nt"),
)
BY_SUFFIX = {rdf_format.suffix: rdf_format for rdf_format in RDF_FORMATS}
BY_MEDIA_TYPE = {rdf_format.media_type: rdf_format for rdf_format in RDF_FORMATS}
# Media types accepted as synonyms of the ones above.
ALIASES = {"application/json": "application/ld+json", "application/x-turtle": "text/turtle",
           "text/n3": "text/turtle", "application/xml": "application/rdf+xml",
           "text/plain": "application/n-triples"}
HTML_TYPES = ("text/html", "application/xhtml+xml")


def split_suffix(name: str) -> tuple[str, RdfFormat | None]:
    """Split `DeepACSA_2022.ttl` into the name and the format its suffix selects."""
    stem, dot, suffix = name.rpartition(".")
    if dot and suffix in BY_SUFFIX:
        return stem, BY_SUFFIX[suffix]
    return name, None


def accepted() -> MIMEAccept:
    """Return the request's Accept header; a request without one accepts anything (RFC 9110)."""
    if request.headers.get("Accept", "").strip():
        return request.accept_mimetypes
    return MIMEAccept([("*/*", 1)])


def negotiate(*, html: bool = True) -> str | None:
    """Return "html", an RDF media type, or None when nothing acceptable can be served."""
    offers = [*HTML_TYPES] if html else []
    offers += [rdf_format.media_type for rdf_format in RDF_FORMATS] + list(ALIASES)
    best = accepted().best_match(offers)
    if best is None:
        return None
    if best in HTML_TYPES:
        return "html"
    return ALIASES.get(best, best)


def served_types(html: bool = True) -> str:
    types = ([*HTML_TYPES] if html else []) + [rdf_format.media_type for rdf_format in RDF_FORMATS]
    return ", ".join(types)
