"""The SPARQL endpoint at /sparql, against the seeded Oxigraph store: the SPARQL 1.1 Protocol,
result formats, content negotiation, the read-only and SERVICE checks and the limits."""

from __future__ import annotations

import csv
import http.server
import io
import json
import multiprocessing
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ElementTree
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCAT, RDF
from SPARQLWrapper import JSON as WRAPPER_JSON
from SPARQLWrapper import SPARQLWrapper

from catalog.store import SparqlStore
from server.sparql import (EXAMPLE_QUERIES, MAX_QUERY_CHARS, ResultTypes, SparqlError, SparqlService,
                           StoreSnapshots, looks_like_update, scan_query)

from .conftest import BASE_URL, REPO

DATASET_COUNT = 15
PREFIXES = """PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dcterms: <http://purl.org/dc/terms/>
"""
COUNT_QUERY = PREFIXES + "SELECT (COUNT(DISTINCT ?dataset) AS ?datasets) WHERE { ?dataset a dcat:Dataset }"
LIST_QUERY = PREFIXES + "SELECT ?dataset WHERE { ?dataset a dcat:Dataset }"
CONSTRUCT_QUERY = PREFIXES + "CONSTRUCT { ?dataset a dcat:Dataset } WHERE { ?dataset a dcat:Dataset }"
ALL_TRIPLES = "SELECT * WHERE { ?s ?p ?o }"
CROSS_JOIN = ("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l . "
              "?m ?n1 ?o }")
DEEPACSA = f"{BASE_URL}/datasets/DeepACSA_2022"
RESULTS_NS = "{http://www.w3.org/2005/sparql-results#}"


def _get(client, query: str, accept: str | None = None, **params):
    headers = {"Accept": accept} if accept else {}
    return client.get("/sparql", query_string={"query": query, **params}, headers=headers)


def _json_bindings(response) -> list[dict]:
    return json.loads(response.data)["results"]["bindings"]


def _single_count(response) -> int:
    (row,) = _json_bindings(response)
    return int(next(iter(row.values()))["value"])


def _store_size(catalog) -> int:
    rows = catalog.store.select("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }")
    return int(rows[0]["n"])


# Protocol operations


def test_get_select(client):
    response = _get(client, COUNT_QUERY)
    assert response.status_code == 200
    assert response.mimetype == "application/sparql-results+json"
    assert _single_count(response) == DATASET_COUNT


def test_post_form(client):
    response = client.post("/sparql", data={"query": COUNT_QUERY})
    assert response.status_code == 200
    assert _single_count(response) == DATASET_COUNT


def test_post_sparql_query_body(client):
    response = client.post("/sparql", data=COUNT_QUERY.encode(),
                           content_type="application/sparql-query")
    assert response.status_code == 200
    assert _single_count(response) == DATASET_COUNT


def test_post_body_with_graph_in_url(client):
    response = client.post("/sparql", query_string={"default-graph-uri": DEEPACSA},
                           data=LIST_QUERY.encode(), content_type="application/sparql-query")
    assert response.status_code == 200
    assert [row["dataset"]["value"] for row in _json_bindings(response)] == [DEEPACSA]


def test_post_body_rejects_query_in_url(client):
    response = client.post("/sparql", query_string={"query": COUNT_QUERY}, data=COUNT_QUERY.encode(),
                           content_type="application/sparql-query")
    assert response.status_code == 400


def test_two_queries_rejected(client):
    response = client.get("/sparql?" + urllib.parse.urlencode([("query", COUNT_QUERY), ("query", LIST_QUERY)]))
    assert response.status_code == 400
    assert b"exactly one" in response.data


# Result formats, each parsed back


def _csv_rows(text: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text), delimiter=delimiter))


def _datasets_from_json(data: bytes) -> set[str]:
    return {row["dataset"]["value"] for row in json.loads(data)["results"]["bindings"]}


def _datasets_from_xml(data: bytes) -> set[str]:
    root = ElementTree.fromstring(data)
    return {uri.text for uri in root.iter(f"{RESULTS_NS}uri")}


def _datasets_from_csv(data: bytes) -> set[str]:
    header, *rows = _csv_rows(data.decode(), ",")
    assert header == ["dataset"]
    return {row[0] for row in rows}


def _datasets_from_tsv(data: bytes) -> set[str]:
    header, *rows = _csv_rows(data.decode(), "\t")
    assert header == ["?dataset"]
    return {row[0].strip("<>") for row in rows}


@pytest.mark.parametrize("accept, read", [
    ("application/sparql-results+json", _datasets_from_json),
    ("application/json", _datasets_from_json),
    ("application/sparql-results+xml", _datasets_from_xml),
    ("text/csv", _datasets_from_csv),
    ("text/tab-separated-values", _datasets_from_tsv),
])
def test_select_formats(client, accept, read):
    response = _get(client, LIST_QUERY, accept)
    assert response.status_code == 200
    assert response.mimetype == accept
    datasets = read(response.data)
    assert len(datasets) == DATASET_COUNT
    assert DEEPACSA in datasets


@pytest.mark.parametrize("accept, rdflib_format", [
    ("text/turtle", "turtle"),
    ("application/ld+json", "json-ld"),
    ("application/rdf+xml", "xml"),
    ("application/n-triples", "nt"),
])
def test_construct_formats(client, accept, rdflib_format):
    response = _get(client, CONSTRUCT_QUERY, accept)
    assert response.status_code == 200
    assert response.mimetype == accept
    graph = Graph().parse(data=response.data, format=rdflib_format)
    assert len(set(graph.subjects(RDF.type, DCAT.Dataset))) == DATASET_COUNT


def test_describe_returns_dataset(client):
    response = _get(client, f"DESCRIBE <{DEEPACSA}>")
    assert response.status_code == 200
    assert response.mimetype == "text/turtle"
    graph = Graph().parse(data=response.data, format="turtle")
    assert (URIRef(DEEPACSA), RDF.type, DCAT.Dataset) in graph


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml",
                                    "text/csv", "text/tab-separated-values"])
def test_ask(client, accept):
    true_response = _get(client, PREFIXES + f"ASK {{ <{DEEPACSA}> a dcat:Dataset }}", accept)
    false_response = _get(client, PREFIXES + "ASK { <http://example.org/none> a dcat:Dataset }", accept)
    assert true_response.status_code == 200
    assert false_response.status_code == 200
    assert b"true" in true_response.data
    assert b"false" in false_response.data


def test_ask_json_boolean(client):
    response = _get(client, PREFIXES + f"ASK {{ <{DEEPACSA}> a dcat:Dataset }}")
    assert json.loads(response.data)["boolean"] is True


TERMS_QUERY = """SELECT ?iri ?plain ?typed ?tagged ?directional ?tripleTerm ?unbound WHERE {
  BIND(<http://example.org/a> AS ?iri)
  BIND("tab\\there \\"quoted\\"\\nnext line" AS ?plain)
  BIND(42 AS ?typed)
  BIND("Wade"@en-GB AS ?tagged)
  BIND(STRLANGDIR("x", "ar", "rtl") AS ?directional)
  BIND(<<( <http://example.org/s> <http://example.org/p> "o" )>> AS ?tripleTerm)
}"""


@pytest.mark.parametrize("accept", ["application/sparql-results+json", "application/sparql-results+xml",
                                    "text/csv", "text/tab-separated-values"])
def test_terms_match_pyoxigraph(client, accept):
    expected = ox.Store().query(TERMS_QUERY).serialize(format=ox.QueryResultsFormat.from_media_type(accept))
    response = _get(client, TERMS_QUERY, accept)
    assert response.status_code == 200
    if accept.endswith("json"):
        assert json.loads(response.data) == json.loads(expected)
    else:
        assert response.data == expected


# Dataset selection by the protocol


def test_default_graph_uri(client):
    response = _get(client, COUNT_QUERY, **{"default-graph-uri": DEEPACSA})
    assert _single_count(response) == 1


def test_two_default_graph_uris(client):
    other = f"{BASE_URL}/datasets/FALLMUD_2017"
    url = "/sparql?" + urllib.parse.urlencode(
        [("query", COUNT_QUERY), ("default-graph-uri", DEEPACSA), ("default-graph-uri", other)])
    assert _single_count(client.get(url)) == 2


def test_default_graph_uri_in_form(client):
    response = client.post("/sparql", data={"query": COUNT_QUERY, "default-graph-uri": DEEPACSA})
    assert _single_count(response) == 1


def test_named_graph_uri(client):
    query = PREFIXES + "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?dataset a dcat:Dataset } }"
    response = _get(client, query, **{"named-graph-uri": DEEPACSA})
    assert [row["g"]["value"] for row in _json_bindings(response)] == [DEEPACSA]


def test_named_graphs_without_selection(client):
    query = PREFIXES + "SELECT (COUNT(DISTINCT ?g) AS ?graphs) WHERE { GRAPH ?g { ?d a dcat:Dataset } }"
    assert _single_count(_get(client, query)) == DATASET_COUNT


def test_invalid_graph_iri(client):
    response = _get(client, COUNT_QUERY, **{"default-graph-uri": "not an iri"})
    assert response.status_code == 400


# Content negotiation


@pytest.mark.parametrize("accept, expected", [
    ("text/csv;q=0.5, application/sparql-results+xml", "application/sparql-results+xml"),
    ("application/sparql-results+json;q=0.1, text/tab-separated-values", "text/tab-separated-values"),
    ("text/csv;q=0, */*;q=0.1", "application/sparql-results+json"),
    ("text/turtle, text/csv;q=0.2", "text/csv"),
    ("*/*", "application/sparql-results+json"),
])
def test_select_quality_values(client, accept, expected):
    response = _get(client, COUNT_QUERY, accept)
    assert response.status_code == 200
    assert response.mimetype == expected
    assert "Accept" in response.headers["Vary"]


@pytest.mark.parametrize("accept, expected", [
    ("application/n-triples;q=0.9, text/turtle;q=0.2", "application/n-triples"),
    ("application/sparql-results+json, application/ld+json;q=0.5", "application/ld+json"),
    ("*/*", "text/turtle"),
])
def test_construct_quality_values(client, accept, expected):
    response = _get(client, CONSTRUCT_QUERY, accept)
    assert response.status_code == 200
    assert response.mimetype == expected


def test_no_accept_header_defaults(client):
    select = client.get("/sparql", query_string={"query": COUNT_QUERY})
    construct = client.get("/sparql", query_string={"query": CONSTRUCT_QUERY})
    assert select.mimetype == "application/sparql-results+json"
    assert construct.mimetype == "text/turtle"


def test_not_acceptable_select(client):
    response = _get(client, COUNT_QUERY, "text/turtle")
    assert response.status_code == 406
    assert response.mimetype == "text/plain"
    assert b"application/sparql-results+json" in response.data
    assert b"text/csv" in response.data


def test_not_acceptable_construct(client):
    response = _get(client, CONSTRUCT_QUERY, "text/csv")
    assert response.status_code == 406
    assert b"text/turtle" in response.data


def test_format_parameter_overrides_accept(client):
    response = _get(client, COUNT_QUERY, "application/sparql-results+json", format="csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert _csv_rows(response.data.decode(), ",") == [["datasets"], [str(DATASET_COUNT)]]


def test_format_parameter_for_graphs(client):
    response = _get(client, CONSTRUCT_QUERY, "text/html", format="nt")
    assert response.mimetype == "application/n-triples"
    assert len(Graph().parse(data=response.data, format="nt")) == DATASET_COUNT


def test_format_parameter_wrong_form(client):
    assert _get(client, COUNT_QUERY, format="ttl").status_code == 406
    assert _get(client, CONSTRUCT_QUERY, format="csv").status_code == 406


def test_unknown_format_parameter(client):
    response = _get(client, COUNT_QUERY, format="yaml")
    assert response.status_code == 400
    assert b"jsonld" in response.data


def test_format_auto_skips_page(client):
    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    response = _get(client, COUNT_QUERY, browser, format="auto")
    assert response.mimetype == "application/sparql-results+json"


# Read-only: updates are rejected and change nothing


UPDATES = [
    f"INSERT DATA {{ GRAPH <{BASE_URL}/datasets/Injected> {{ <http://example.org/s> <http://example.org/p> 1 }} }}",
    "DELETE WHERE { ?s ?p ?o }",
    "PREFIX dcat: <http://www.w3.org/ns/dcat#>\n# comment\nDELETE { ?d a dcat:Dataset } WHERE { ?d a dcat:Dataset }",
    "LOAD <http://127.0.0.1:9/data.ttl>",
    "CLEAR ALL",
    f"DROP GRAPH <{DEEPACSA}>",
    "CREATE GRAPH <http://example.org/new>",
    f"COPY <{DEEPACSA}> TO <http://example.org/copy>",
    f"MOVE <{DEEPACSA}> TO <http://example.org/moved>",
    f"ADD <{DEEPACSA}> TO <http://example.org/added>",
    f"WITH <{DEEPACSA}> DELETE {{ ?s ?p ?o }} WHERE {{ ?s ?p ?o }}",
]


@pytest.mark.parametrize("update", UPDATES)
def test_update_as_query_rejected(client, catalog, update):
    generation, size = catalog.store.generation, _store_size(catalog)
    get_response = _get(client, update)
    post_response = client.post("/sparql", data=update.encode(), content_type="application/sparql-query")
    assert get_response.status_code == 403
    assert post_response.status_code == 403
    assert b"read-only" in get_response.data
    assert catalog.store.generation == generation
    assert _store_size(catalog) == size


def test_update_form_field_rejected(client, catalog):
    size = _store_size(catalog)
    response = client.post("/sparql", data={"update": UPDATES[1]})
    assert response.status_code == 403
    assert b"read-only" in response.data
    assert _store_size(catalog) == size


def test_sparql_update_body_rejected(client, catalog):
    size = _store_size(catalog)
    response = client.post("/sparql", data=UPDATES[1].encode(), content_type="application/sparql-update")
    assert response.status_code == 403
    assert _store_size(catalog) == size


def test_update_parameter_in_get_rejected(client):
    response = client.get("/sparql", query_string={"update": "CLEAR ALL"})
    assert response.status_code == 403


def test_looks_like_update():
    assert looks_like_update("INSERT DATA { <http://a> <http://b> <http://c> }")
    assert looks_like_update("PREFIX ex: <http://e/> LOAD <http://x>")
    assert not looks_like_update("SELECT * WHERE { ?s ?p ?o }")
    assert not looks_like_update("PREFIX ex: <http://e/>")
    assert not looks_like_update("no sparql at all {")


# SERVICE is rejected before evaluation


class _RecordingHandler(http.server.BaseHTTPRequestHandler):
    paths: list[str] = []

    def do_GET(self):
        self.paths.append(self.path)
        self.send_response(500)
        self.end_headers()

    do_POST = do_GET

    def log_message(self, *args):
        pass


@pytest.fixture()
def federation_target():
    """A local HTTP server that records every request, as a SERVICE target."""
    _RecordingHandler.paths = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _RecordingHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/sparql", _RecordingHandler.paths
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("template", [
    "SELECT * WHERE {{ SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ service <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ SERVICE SILENT <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ ?x ?y ?z .SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ FILTER(true)SERVICE<{url}>{{ ?s ?p ?o }} }}",
    "PREFIX ex: <http://e/> SELECT * WHERE {{ ?x ?y ex:a\\# SERVICE <{url}> {{ ?s ?p ?o }} }}",
    "SELECT * WHERE {{ BIND('''it''' AS ?x) SERVICE <{url}> {{ ?s ?p ?o }} }} # SERVICE",
    "SELECT * WHERE {{ \\u0053ERVICE <{url}> {{ ?s ?p ?o }} }}",
])
def test_service_rejected(client, federation_target, template):
    url, requests_seen = federation_target
    response = _get(client, template.format(url=url))
    assert response.status_code == 400
    assert b"Federated queries" in response.data
    assert requests_seen == []


@pytest.mark.parametrize("query", [
    "SELECT ?service WHERE { BIND(1 AS ?service) }",
    "SELECT $SERVICE WHERE { BIND(1 AS $SERVICE) }",
    "PREFIX ex: <http://example.org/> SELECT ?x WHERE { BIND(ex:service AS ?x) }",
    "PREFIX service: <http://example.org/> SELECT ?x WHERE { BIND(service:x AS ?x) }",
    'SELECT ?x WHERE { BIND("SERVICE <http://127.0.0.1:9/> {}" AS ?x) }',
    "SELECT ?x WHERE { BIND('SERVICE' AS ?x) }",
    'SELECT ?x WHERE { BIND("""a "quoted" SERVICE""" AS ?x) }',
    'SELECT ?x WHERE { BIND("escaped \\" SERVICE" AS ?x) }',
    'SELECT ?x WHERE { BIND("x"@service AS ?x) }',
    "SELECT ?x WHERE { BIND(<http://x/SERVICE> AS ?x) }",
    "SELECT ?x WHERE { BIND(1 AS ?x) } # SERVICE <http://127.0.0.1:9/> {}",
    "PREFIX ex: <http://example.org/> SELECT ?x WHERE { BIND(ex:o.SERVICE AS ?x) }",
])
def test_service_lookalikes_accepted(client, query):
    response = _get(client, query)
    assert response.status_code == 200, response.data
    assert len(_json_bindings(response)) == 1


@pytest.mark.parametrize("query, form", [
    ("SELECT * WHERE { ?s ?p ?o }", "SELECT"),
    ("BASE <http://e/> PREFIX ex: <x#> PREFIX : <y#>\nconstruct WHERE { ?s ?p ?o }", "CONSTRUCT"),
    ("# SELECT\nPREFIX ex: <http://e/> ASK {}", "ASK"),
    ("PREFIX ex: <http://e/> INSERT DATA { ex:a ex:b ex:c }", "INSERT"),
    ("", None),
])
def test_scan_query_form(query, form):
    assert scan_query(query).form == form


# Errors


def test_syntax_error(client):
    response = _get(client, "SELECT ?x WHERE { ?x ?y }")
    assert response.status_code == 400
    assert response.mimetype == "text/plain"
    assert b"Invalid SPARQL query" in response.data
    assert b"error at 1:" in response.data


def test_missing_query_without_html(client):
    response = client.get("/sparql", headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 400
    assert b"application/sparql-query" in response.data


def test_post_without_query(client):
    response = client.post("/sparql", data={"default-graph-uri": DEEPACSA})
    assert response.status_code == 400


@pytest.mark.parametrize("query", ["", "   \n  "])
def test_empty_query(client, query):
    response = _get(client, query, "application/sparql-results+json")
    assert response.status_code == 400
    assert b"empty" in response.data


def test_oversized_query_body(client):
    query = "SELECT * WHERE { ?s ?p ?o } #" + "x" * MAX_QUERY_CHARS
    response = client.post("/sparql", data=query.encode(), content_type="application/sparql-query")
    assert response.status_code == 413


def test_oversized_query_form(client):
    query = "SELECT * WHERE { ?s ?p ?o } #" + "x" * MAX_QUERY_CHARS
    response = client.post("/sparql", data={"query": query})
    assert response.status_code == 413


def test_oversized_form_body(client):
    response = client.post("/sparql", data={"query": "é" * (4 * MAX_QUERY_CHARS)})
    assert response.status_code == 413


def test_non_utf8_body(client):
    response = client.post("/sparql", data=b"SELECT * WHERE { ?s ?p \xff }",
                           content_type="application/sparql-query")
    assert response.status_code == 400
    assert b"UTF-8" in response.data


def test_non_utf8_form(client):
    response = client.post("/sparql", data=b"query=SELECT%20%FF", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert b"UTF-8" in response.data


def test_non_utf8_url(client):
    response = client.get("/sparql?query=SELECT%20%FF")
    assert response.status_code == 400


def test_unsupported_content_type(client):
    response = client.post("/sparql", data=b"{}", content_type="application/json")
    assert response.status_code == 415


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_wrong_method(client, method):
    response = client.open("/sparql", method=method, query_string={"query": COUNT_QUERY})
    assert response.status_code == 405
    assert "GET" in response.headers["Allow"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"


# CORS


def test_cors_on_results_and_errors(client):
    assert _get(client, COUNT_QUERY).headers["Access-Control-Allow-Origin"] == "*"
    assert _get(client, "SELECT {").headers["Access-Control-Allow-Origin"] == "*"


def test_cors_preflight(client):
    response = client.options("/sparql", headers={"Origin": "https://example.org",
                                                  "Access-Control-Request-Method": "POST"})
    assert response.status_code == 204
    assert "PUT" not in response.headers["Allow"]
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in response.headers["Access-Control-Allow-Headers"]


# Limits


def test_timeout_then_recovery(client, settings):
    started = time.monotonic()
    response = _get(client, CROSS_JOIN)
    elapsed = time.monotonic() - started
    assert response.status_code == 503
    assert b"LIMIT" in response.data
    assert f"{settings.query_timeout:g} s".encode() in response.data
    assert elapsed < settings.query_timeout + 2
    assert _single_count(_get(client, COUNT_QUERY)) == DATASET_COUNT


def test_result_cap_select(client, settings):
    response = _get(client, ALL_TRIPLES)
    assert response.status_code == 200
    assert len(_json_bindings(response)) == settings.result_limit
    assert response.headers["X-UMUD-Results-Truncated"] == "true"
    assert response.headers["X-UMUD-Result-Limit"] == str(settings.result_limit)


def test_result_cap_csv(client, settings):
    response = _get(client, ALL_TRIPLES, "text/csv")
    rows = _csv_rows(response.data.decode(), ",")
    assert len(rows) == settings.result_limit + 1
    assert response.headers["X-UMUD-Results-Truncated"] == "true"


def test_result_cap_construct(client, settings):
    response = _get(client, "CONSTRUCT WHERE { ?s ?p ?o }", "application/n-triples")
    assert len(Graph().parse(data=response.data, format="nt")) == settings.result_limit
    assert response.headers["X-UMUD-Results-Truncated"] == "true"


def test_no_truncation_below_limit(client):
    response = _get(client, LIST_QUERY)
    assert len(_json_bindings(response)) == DATASET_COUNT
    assert "X-UMUD-Results-Truncated" not in response.headers


# The page for people


BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_page_for_browsers(client):
    response = client.get("/sparql", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.data.decode()
    assert "<textarea" in page
    assert 'name="format"' in page
    assert "https://w3id.org/umud/ontology#" in page
    assert "X-UMUD-Results-Truncated" in page
    assert page.count("format=json") == len(EXAMPLE_QUERIES)


def test_page_fills_editor(client):
    query = "SELECT ?x WHERE { BIND('</textarea><script>alert(1)</script>' AS ?x) }"
    response = _get(client, query, BROWSER_ACCEPT)
    assert response.mimetype == "text/html"
    page = response.data.decode()
    assert "<script>alert(1)" not in page
    assert "&lt;/textarea&gt;&lt;script&gt;" in page


def test_example_links_work(client):
    page = client.get("/sparql", headers={"Accept": "text/html"}).data.decode()
    links = [link.replace("&amp;", "&") for link in _links(page) if "format=json" in link]
    assert len(links) == len(EXAMPLE_QUERIES)
    for link in links:
        response = client.get(link)
        assert response.status_code == 200, link
        assert _json_bindings(response), link


def _links(page: str) -> list[str]:
    return [part.split('"', 1)[0] for part in page.split('href="')[1:]]


def test_example_queries(client):
    results = [_json_bindings(_get(client, example.query)) for example in EXAMPLE_QUERIES]
    assert all(results)
    assert int(results[0][0]["datasets"]["value"]) == DATASET_COUNT
    assert len(results[1]) == DATASET_COUNT


def test_triceps_example_follows_hierarchy(client):
    (example,) = [example for example in EXAMPLE_QUERIES if "triceps" in example.title]
    labels = {row["muscleLabel"]["value"] for row in _json_bindings(_get(client, example.query))}
    assert labels == {"Gastrocnemius Medialis", "Gastrocnemius Lateralis", "Soleus"}


# Snapshots follow writes to the store


def test_new_data_visible(client, catalog):
    name = "SparqlSnapshotTest_2099"
    dataset = f"{BASE_URL}/datasets/{name}"
    insert = f"""PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dcterms: <http://purl.org/dc/terms/>
INSERT DATA {{
  GRAPH <{dataset}> {{ <{dataset}> a dcat:Dataset ; dcterms:identifier "{name}" }}
  GRAPH <{catalog.iri}> {{ <{catalog.iri}> dcat:dataset <{dataset}> }}
}}"""
    assert _single_count(_get(client, COUNT_QUERY)) == DATASET_COUNT
    catalog.store.update(insert)
    try:
        assert _single_count(_get(client, COUNT_QUERY)) == DATASET_COUNT + 1
    finally:
        catalog.store.update(f"DROP GRAPH <{dataset}> ; "
                             f"DELETE DATA {{ GRAPH <{catalog.iri}> {{ <{catalog.iri}> "
                             f"<http://www.w3.org/ns/dcat#dataset> <{dataset}> }} }}")
    links = PREFIXES + f"SELECT (COUNT(*) AS ?links) WHERE {{ ?catalog dcat:dataset <{dataset}> }}"
    assert _single_count(_get(client, COUNT_QUERY)) == DATASET_COUNT
    assert _single_count(_get(client, links)) == 0


def test_snapshots_replaced_after_write(catalog):
    snapshots = StoreSnapshots(catalog.store)
    graph = "http://example.org/snapshot-test"
    first = snapshots.acquire()
    assert snapshots.acquire() == first
    snapshots.release(first)
    catalog.store.update(f"INSERT DATA {{ GRAPH <{graph}> {{ <http://example.org/s> <http://example.org/p> 1 }} }}")
    try:
        second = snapshots.acquire()
        assert second != first
        assert first.exists()  # a query still uses it
        snapshots.release(first)
        assert not first.exists()
        snapshots.release(second)
        assert second.exists()  # the current snapshot stays for the next query
    finally:
        catalog.store.update(f"DROP GRAPH <{graph}>")
        snapshots.close()
    assert not second.exists()


def test_stale_snapshots_removed(catalog):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True)
    temp = Path(tempfile.gettempdir())
    stale = temp / f"umud-sparql-{finished.stdout.strip()}-test"
    in_use = temp / f"umud-sparql-{os.getpid()}-test"
    stale.mkdir()
    in_use.mkdir()
    snapshots = StoreSnapshots(catalog.store)
    try:
        snapshots.release(snapshots.acquire())
        assert not stale.exists()
        assert in_use.exists()
    finally:
        snapshots.close()
        shutil.rmtree(stale, ignore_errors=True)
        shutil.rmtree(in_use, ignore_errors=True)


ORPHAN_SCRIPT = """
import multiprocessing, os, sys, threading, time
from catalog.store import OxigraphStore
from server.settings import Settings
from server.sparql import ResultTypes, SparqlService


def main():
    store = OxigraphStore(sys.argv[1])
    store.update("INSERT DATA { " + " ".join(f"<http://e/{i}> <http://e/p> {i} ." for i in range(200)) + " }")
    settings = Settings(base_url="http://127.0.0.1:5000", store_location=sys.argv[1], query_timeout=600,
                        sparql_workers=1)
    service = SparqlService(store, settings)
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
    types = ResultTypes("application/sparql-results+json", None)
    threading.Thread(target=service.run_query, args=(query, types), daemon=True).start()
    time.sleep(3)
    print(*[child.pid for child in multiprocessing.active_children()], flush=True)
    os._exit(0)  # ends the process without cleanup, as SIGKILL would


if __name__ == "__main__":
    main()
"""


def _process_running(pid: int) -> bool:
    """Tell whether a process exists and is no zombie (PID 1 of a container may not reap it)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads process states from /proc")
def test_worker_exits_with_parent(tmp_path):
    script = tmp_path / "orphan.py"
    script.write_text(ORPHAN_SCRIPT)
    parent = subprocess.Popen([sys.executable, str(script), str(tmp_path / "store")], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": str(REPO), "TMPDIR": str(tmp_path)})
    worker_pids = [int(pid) for pid in parent.stdout.readline().split()]
    parent.wait(timeout=60)
    assert len(worker_pids) == 1, parent.stderr.read()
    worker = worker_pids[0]
    try:
        deadline = time.monotonic() + 5
        while _process_running(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        still_running = _process_running(worker)
    finally:
        if _process_running(worker):
            os.kill(worker, signal.SIGKILL)
    assert not still_running


# Over a real socket


def _open(url: str, data: bytes | None = None, headers: dict | None = None):
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    return opener.open(urllib.request.Request(url, data=data, headers=headers or {}), timeout=30)


def test_live_get_csv(live_server):
    url = f"{live_server}/sparql?" + urllib.parse.urlencode({"query": COUNT_QUERY})
    with _open(url, headers={"Accept": "text/csv"}) as response:
        assert response.headers.get_content_type() == "text/csv"
        assert response.headers["Access-Control-Allow-Origin"] == "*"
        rows = _csv_rows(response.read().decode(), ",")
    assert rows == [["datasets"], [str(DATASET_COUNT)]]


def test_live_post_body(live_server):
    with _open(f"{live_server}/sparql", COUNT_QUERY.encode(),
               {"Content-Type": "application/sparql-query"}) as response:
        document = json.loads(response.read())
    assert int(document["results"]["bindings"][0]["datasets"]["value"]) == DATASET_COUNT


def test_live_error_status(live_server):
    url = f"{live_server}/sparql?" + urllib.parse.urlencode({"query": "CLEAR ALL"})
    with pytest.raises(urllib.error.HTTPError) as error:
        _open(url)
    assert error.value.code == 403


def test_live_sparqlwrapper(live_server):
    wrapper = SPARQLWrapper(f"{live_server}/sparql")
    wrapper.setQuery(COUNT_QUERY)
    wrapper.setReturnFormat(WRAPPER_JSON)
    document = wrapper.query().convert()
    assert int(document["results"]["bindings"][0]["datasets"]["value"]) == DATASET_COUNT


def test_live_concurrent_queries(live_server):
    url = f"{live_server}/sparql?" + urllib.parse.urlencode({"query": COUNT_QUERY})

    def count(_) -> int:
        with _open(url) as response:
            return int(json.loads(response.read())["results"]["bindings"][0]["datasets"]["value"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        counts = list(pool.map(count, range(24)))
    assert counts == [DATASET_COUNT] * 24


# The service on a remote store: our own endpoint behind SparqlStore


REMOTE_RESULT_LIMIT = 100


@pytest.fixture()
def remote_service(live_server, settings):
    # Below the endpoint's own cap, so that this service's cap is the one that acts.
    service = SparqlService(SparqlStore(f"{live_server}/sparql"),
                            replace(settings, result_limit=REMOTE_RESULT_LIMIT))
    yield service
    service.close()


JSON_TYPES = ResultTypes("application/sparql-results+json", "text/turtle")


def test_remote_select(remote_service):
    result = remote_service.run_query(COUNT_QUERY, JSON_TYPES)
    document = json.loads(result.body)
    assert int(document["results"]["bindings"][0]["datasets"]["value"]) == DATASET_COUNT
    assert not result.truncated


def test_remote_csv_and_cap(remote_service):
    result = remote_service.run_query(ALL_TRIPLES, ResultTypes("text/csv", None))
    assert result.content_type == "text/csv; charset=utf-8"
    assert len(_csv_rows(result.body.decode(), ",")) == REMOTE_RESULT_LIMIT + 1
    assert result.truncated


def test_remote_construct(remote_service):
    result = remote_service.run_query(CONSTRUCT_QUERY, JSON_TYPES)
    graph = Graph().parse(data=result.body, format="turtle")
    assert len(set(graph.subjects(RDF.type, DCAT.Dataset))) == DATASET_COUNT


def test_remote_default_graph(remote_service):
    result = remote_service.run_query(COUNT_QUERY, JSON_TYPES, default_graphs=[DEEPACSA])
    assert int(json.loads(result.body)["results"]["bindings"][0]["datasets"]["value"]) == 1


def test_remote_errors(remote_service, federation_target):
    url, requests_seen = federation_target
    cases = {"SELECT {": 400, "CLEAR ALL": 403, f"SELECT * WHERE {{ SERVICE <{url}> {{}} }}": 400}
    for query, status in cases.items():
        with pytest.raises(SparqlError) as error:
            remote_service.run_query(query, JSON_TYPES)
        assert error.value.status == status, query
    assert requests_seen == []


# Closing the service


def test_close_ends_workers(catalog, settings):
    before = set(multiprocessing.active_children())
    temp_before = set(Path(tempfile.gettempdir()).glob("umud-sparql-*"))
    service = SparqlService(catalog.store, settings)
    result = service.run_query(COUNT_QUERY, JSON_TYPES)
    assert json.loads(result.body)["results"]["bindings"]
    workers = set(multiprocessing.active_children()) - before
    snapshots = set(Path(tempfile.gettempdir()).glob("umud-sparql-*")) - temp_before
    assert len(workers) == settings.sparql_workers
    assert len(snapshots) == 1
    service.close()
    assert not any(worker.is_alive() for worker in workers)
    assert not any(path.exists() for path in snapshots)
    with pytest.raises(SparqlError) as error:
        service.run_query(COUNT_QUERY, JSON_TYPES)
    assert error.value.status == 503


def test_from_clause_selects_graph(client):
    graph = "http://127.0.0.1:5000/datasets/DeepACSA_2022"
    query = f"SELECT (COUNT(DISTINCT ?d) AS ?n) FROM <{graph}> WHERE {{ ?d a <http://www.w3.org/ns/dcat#Dataset> }}"
    response = client.get("/sparql", query_string={"query": query},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.status_code == 200
    assert response.get_json()["results"]["bindings"][0]["n"]["value"] == "1"


def test_from_unknown_graph_is_empty(client):
    query = "SELECT (COUNT(*) AS ?n) FROM <urn:example:nothing> WHERE { ?s ?p ?o }"
    response = client.get("/sparql", query_string={"query": query},
                          headers={"Accept": "application/sparql-results+json"})
    assert response.get_json()["results"]["bindings"][0]["n"]["value"] == "0"


def test_from_named_keeps_default_empty(client):
    graph = "http://127.0.0.1:5000/datasets/DeepACSA_2022"
    query = f"SELECT (COUNT(*) AS ?n) FROM NAMED <{graph}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}"
    response = client.get("/sparql", query_string={"query": query},
                          headers={"Accept": "application/sparql-results+json"})
    assert int(response.get_json()["results"]["bindings"][0]["n"]["value"]) > 50


def test_html_table_shows_rows(client):
    query = ("SELECT ?name WHERE { ?d a <http://www.w3.org/ns/dcat#Dataset> ; "
             "<http://purl.org/dc/terms/identifier> ?name } ORDER BY ?name")
    response = client.get("/sparql", query_string={"query": query, "format": "html"})
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "15 rows" in page
    assert "<td>DeepACSA_2022</td>" in page


def test_html_table_ask_and_construct(client):
    ask = client.get("/sparql", query_string={"query": "ASK { ?s ?p ?o }", "format": "html"}).get_data(as_text=True)
    assert '<p id="ask-result">true</p>' in ask
    construct = client.get("/sparql", query_string={
        "query": "CONSTRUCT { ?d a <http://www.w3.org/ns/dcat#Dataset> } WHERE { ?d a <http://www.w3.org/ns/dcat#Dataset> } LIMIT 1",
        "format": "html"}).get_data(as_text=True)
    assert '<pre class="rdf-text">' in construct


def test_html_table_escapes_values(client):
    query = 'SELECT ?x WHERE { BIND("<script>alert(1)</script>" AS ?x) }'
    page = client.get("/sparql", query_string={"query": query, "format": "html"}).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_html_table_reports_error(client):
    response = client.get("/sparql", query_string={"query": "SELEC * WHERE {}", "format": "html"})
    assert response.status_code == 400
    assert 'id="query-error"' in response.get_data(as_text=True)
