"""The W3C SPARQL 1.1 Protocol and Service Description tests, run against /sparql over HTTP.

The manifests are read as RDF; each test's requests are sent as written (method, path, headers,
body in its character encoding) to a live server on 127.0.0.1 whose store contains the tests' data
graphs. Tests of the update operation are skipped, because the endpoint rejects every update by
design (README: "The SPARQL endpoint"); the tests that expect an update to be rejected run.
"""

from __future__ import annotations

import http.client
import json
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pyoxigraph as ox
import pytest
from rdflib import Graph, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, RDFS
from waitress.server import create_server

from catalog.setup import open_catalog

from .conftest import BASE_URL, SHARED

TESTS = SHARED / "standards" / "w3c-sparql11-tests"
MF = Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
HT = Namespace("http://www.w3.org/2011/http#")
CNT = Namespace("http://www.w3.org/2011/content#")
HTS = Namespace("http://www.w3.org/2011/http-statusCodes#")
UT = Namespace("http://www.w3.org/2009/sparql/tests/test-update#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")

# Tests of the update operation that a read-only endpoint cannot pass: it rejects every update.
UPDATE_TESTS = {"update_dataset_default_graph", "update_dataset_default_graphs", "update_dataset_named_graphs",
                "update_dataset_full", "update_post_form", "update_post_direct", "update_base_uri"}


def _manifest(folder: str) -> Graph:
    path = TESTS / folder / "manifest.ttl"
    return Graph().parse(path, format="turtle", publicID=path.as_uri())


PROTOCOL = _manifest("protocol")


def _tests(manifest: Graph) -> list[URIRef]:
    root = next(manifest.subjects(RDF.type, MF.Manifest))
    return list(Collection(manifest, manifest.value(root, MF.entries)))


def _name(test: URIRef) -> str:
    return str(test).rsplit("#", 1)[-1]


@pytest.fixture(scope="module")
def endpoint(tmp_path_factory):
    """A server whose store contains every data graph the protocol tests name; yields host and port."""
    from server.app import create_app
    from server.settings import Settings

    folder = tmp_path_factory.mktemp("w3c")
    catalog = open_catalog(folder / "store", BASE_URL, seed_if_empty=False)
    for test in _tests(PROTOCOL):
        for data in PROTOCOL.objects(test, UT.graphData):
            source = Path(urlsplit(str(PROTOCOL.value(data, UT.graph))).path)
            name = ox.NamedNode(str(PROTOCOL.value(data, RDFS.label)))
            quads = [ox.Quad(triple.subject, triple.predicate, triple.object, name)
                     for triple in ox.parse(path=str(source), format=ox.RdfFormat.N_TRIPLES)]
            catalog.store._store.extend(quads)
    catalog.store.generation += 1
    app = create_app(catalog, Settings(base_url=BASE_URL, store_location=str(folder / "store"), sparql_workers=1))
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    yield "127.0.0.1", server.effective_port
    server.close()
    app.extensions["umud_sparql"].close()
    catalog.store.close()


def _send(endpoint, request) -> http.client.HTTPResponse:
    method = str(PROTOCOL.value(request, HT.methodName))
    path = str(PROTOCOL.value(request, HT.absolutePath)).replace("/sparql/", "/sparql", 1)
    headers = {}
    header_list = PROTOCOL.value(request, HT.headers)
    for header in Collection(PROTOCOL, header_list) if header_list is not None else []:
        headers[str(PROTOCOL.value(header, HT.fieldName))] = str(PROTOCOL.value(header, HT.fieldValue))
    body = None
    content = PROTOCOL.value(request, HT.body)
    if content is not None:
        encoding = str(PROTOCOL.value(content, CNT.characterEncoding) or "UTF-8")
        body = str(PROTOCOL.value(content, CNT.chars)).encode(encoding)
    connection = http.client.HTTPConnection(*endpoint, timeout=30)
    connection.request(method, path, body=body, headers=headers)
    return connection.getresponse()


def _check(response: http.client.HTTPResponse, expected) -> None:
    body = response.read()
    statuses = {str(status).rsplit("#StatusCode", 1)[-1] for status in PROTOCOL.objects(expected, MF.expectedStatus)}
    assert f"{str(response.status)[0]}xx" in statuses, (response.status, body[:300])
    result_format = PROTOCOL.value(expected, MF.expectedFormat)
    media_type = (response.getheader("Content-Type") or "").split(";")[0].strip()
    if result_format is None:
        return
    if str(result_format) in {"boolean", "tabular"}:
        assert media_type in {"application/sparql-results+json", "application/sparql-results+xml", "text/csv",
                              "text/tab-separated-values"}, media_type
        if media_type == "application/sparql-results+json":
            document = json.loads(body)
            assert ("boolean" in document) == (str(result_format) == "boolean")
            boolean = PROTOCOL.value(expected, MF.expectedBoolean)
            if boolean is not None:
                assert document["boolean"] is boolean.toPython()
    else:
        syntaxes = {"text/turtle": "turtle", "application/rdf+xml": "xml", "application/n-triples": "nt",
                    "application/ld+json": "json-ld"}
        assert media_type in syntaxes, media_type
        Graph().parse(data=body.decode("utf-8"), format=syntaxes[media_type])


@pytest.mark.parametrize("test", _tests(PROTOCOL), ids=_name)
def test_w3c_protocol(endpoint, test):
    if _name(test) in UPDATE_TESTS:
        pytest.skip("the endpoint is read-only and rejects every update by design")
    requests = Collection(PROTOCOL, PROTOCOL.value(PROTOCOL.value(test, MF.action), HT.requests))
    for request in requests:
        _check(_send(endpoint, request), PROTOCOL.value(request, HT.resp))


SERVICE_DESCRIPTION = _manifest("service-description")


@pytest.mark.parametrize("test", _tests(SERVICE_DESCRIPTION), ids=_name)
def test_w3c_service_description(endpoint, test):
    connection = http.client.HTTPConnection(*endpoint, timeout=30)
    connection.request("GET", "/sparql", headers={"Accept": "text/turtle, application/rdf+xml"})
    response = connection.getresponse()
    assert response.status == 200
    media_type = response.getheader("Content-Type").split(";")[0]
    description = Graph().parse(data=response.read().decode("utf-8"),
                                format={"text/turtle": "turtle", "application/rdf+xml": "xml"}[media_type])
    url = f"http://{endpoint[0]}:{endpoint[1]}/sparql"
    services = list(description.subjects(RDF.type, SD.Service))
    assert services
    if _name(test) == "has-endpoint-triple":
        assert (None, SD.endpoint, URIRef(url)) in description
    if _name(test) == "conforms-to-schema":
        for service in services:
            assert description.value(service, SD.endpoint) is not None
            for language in description.objects(service, SD.supportedLanguage):
                assert language in {SD.SPARQL10Query, SD.SPARQL11Query, SD.SPARQL11Update}
