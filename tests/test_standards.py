"""The catalog's outputs checked with the standards' own shapes, on every real dataset.

- schema.org JSON-LD of the landing pages: Google's required and recommended Dataset properties
  as SHACL (science-on-schema.org `googleRequired.ttl` and `googleRecommended.ttl`).
"""

from __future__ import annotations

import json
import re

import pyshacl
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

from .browser_support import embedded_jsonld, seed_records
from .conftest import SHARED

STANDARDS = SHARED / "standards"
NAMES = sorted(seed_records())
SCHEMA_HTTP = "http://schema.org/"
SCHEMA_HTTPS = "https://schema.org/"


def _shapes(*paths) -> Graph:
    graph = Graph()
    for path in paths:
        graph.parse(STANDARDS / path, format="turtle")
    return graph


GOOGLE_SHAPES = _shapes("science-on-schema-org/googleRequired.ttl", "science-on-schema-org/googleRecommended.ttl")


def as_google_shapes_read_it(document: dict) -> Graph:
    """Return the JSON-LD as RDF in the terms of the science-on-schema.org shapes.

    Those shapes name schema.org with http://, where schema.org's own context and the JSON-LD of
    the pages use https://. They also test `sh:class schema:URL` for a URL value, which JSON-LD
    writes as an IRI (license, url, sameAs): an IRI value of those properties is a schema:URL.
    """
    graph = Graph().parse(data=json.dumps(document), format="json-ld")
    http = Graph()
    for triple in graph:
        http.add(tuple(URIRef(SCHEMA_HTTP + term[len(SCHEMA_HTTPS):]) if isinstance(term, URIRef)
                       and str(term).startswith(SCHEMA_HTTPS) else term for term in triple))
    for name in ("license", "url", "sameAs"):
        for value in list(http.objects(None, URIRef(SCHEMA_HTTP + name))):
            if isinstance(value, URIRef):
                http.add((value, RDF.type, URIRef(SCHEMA_HTTP + "URL")))
    return http


@pytest.mark.parametrize("name", NAMES)
def test_landing_page_meets_google_dataset_properties(client, name):
    html = client.get(f"/datasets/{name}", headers={"Accept": "text/html"}).get_data(as_text=True)
    data = as_google_shapes_read_it(json.loads(embedded_jsonld(html)))
    assert (None, RDF.type, URIRef(SCHEMA_HTTP + "Dataset")) in data
    conforms, report, text = pyshacl.validate(data, shacl_graph=GOOGLE_SHAPES, inference="none", allow_warnings=True)
    assert conforms, text


def test_google_shapes_catch_a_missing_description(client):
    html = client.get("/datasets/DeepACSA_2022", headers={"Accept": "text/html"}).get_data(as_text=True)
    document = json.loads(embedded_jsonld(html))
    del document["description"], document["temporalCoverage"]
    conforms, report, _text = pyshacl.validate(as_google_shapes_read_it(document), shacl_graph=GOOGLE_SHAPES,
                                               inference="none", allow_warnings=True)
    assert not conforms
    paths = {str(path) for path in report.objects(None, SH.resultPath)}
    assert {SCHEMA_HTTP + "description", SCHEMA_HTTP + "temporalCoverage"} <= paths


def test_temporal_coverage_ends_with_the_year(client):
    html = client.get("/datasets/FALLMUD_2017", headers={"Accept": "text/html"}).get_data(as_text=True)
    document = json.loads(embedded_jsonld(html))
    assert re.fullmatch(r"\.\./2017", document["temporalCoverage"])
    assert document["identifier"]["url"] == "http://127.0.0.1:5000/datasets/FALLMUD_2017"
