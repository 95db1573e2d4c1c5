"""The catalog's outputs checked with the standards' own shapes, on every real dataset.

- schema.org JSON-LD of the landing pages: Google's required and recommended Dataset properties
  as SHACL (science-on-schema.org `googleRequired.ttl` and `googleRecommended.ttl`).
- /catalog in every RDF syntax: the DCAT-AP 3.0.1 shapes, and its Hydra pages.
- Croissant 1.1: `mlcroissant validate` and the specification's required properties.
"""

from __future__ import annotations

import json
import re
import subprocess

import pyshacl
import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SH

from .browser_support import embedded_jsonld, seed_records
from .conftest import REPO, SHARED

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


# DCAT-AP 3.0.1 on /catalog

DCAT_AP = STANDARDS / "dcat-ap-3.0.1"
# The shapes of the HTML release (mandatory, ranges, recommended, deprecated terms) and the
# combined file of the SHACL release. `mdr-vocabularies.shape.ttl` is left out: it checks values
# against EU controlled vocabularies that must be downloaded from the EU Publications Office.
DCAT_AP_SHAPE_SETS = {
    "html-release": ("html-shacl/shapes.ttl", "html-shacl/range.ttl", "html-shacl/shapes_recommended.ttl",
                     "html-shacl/deprecateduris.ttl"),
    "shacl-release": ("shacl/dcat-ap-SHACL.ttl",),
}
DCAT_AP_SHAPES = {name: _shapes(*(f"dcat-ap-3.0.1/{path}" for path in paths))
                  for name, paths in DCAT_AP_SHAPE_SETS.items()}
CATALOG_FORMATS = {"ttl": "turtle", "jsonld": "json-ld", "rdf": "xml", "nt": "nt"}


def dcat_ap_violations(data: Graph, shape_set: str) -> list[str]:
    conforms, report, _text = pyshacl.validate(data, shacl_graph=DCAT_AP_SHAPES[shape_set], inference="none",
                                               allow_warnings=True, advanced=True)
    violations = [result for result in report.objects(None, SH.result)
                  if report.value(result, SH.resultSeverity) == SH.Violation]
    return [f"{report.value(result, SH.focusNode)} {report.value(result, SH.resultPath)}: "
            f"{report.value(result, SH.resultMessage)}" for result in violations]


@pytest.mark.parametrize("shape_set", DCAT_AP_SHAPE_SETS)
@pytest.mark.parametrize("suffix", CATALOG_FORMATS)
def test_catalog_passes_dcat_ap(client, suffix, shape_set):
    response = client.get(f"/catalog.{suffix}")
    assert response.status_code == 200
    data = Graph().parse(data=response.get_data(as_text=True), format=CATALOG_FORMATS[suffix])
    assert len(list(data.subjects(RDF.type, URIRef("http://www.w3.org/ns/dcat#Dataset")))) == len(NAMES)
    assert dcat_ap_violations(data, shape_set) == []


def test_dcat_ap_shapes_catch_a_missing_title(client):
    data = Graph().parse(data=client.get("/catalog.ttl").get_data(as_text=True), format="turtle")
    dataset = URIRef("http://127.0.0.1:5000/datasets/DeepACSA_2022")
    data.remove((dataset, URIRef("http://purl.org/dc/terms/title"), None))
    assert any("DeepACSA_2022" in violation for violation in dcat_ap_violations(data, "html-release"))


HYDRA = "http://www.w3.org/ns/hydra/core#"


def test_catalog_pages(client):
    seen = []
    url = "/catalog.ttl?page=1&page_size=4"
    pages = 0
    while url:
        data = Graph().parse(data=client.get(url).get_data(as_text=True), format="turtle")
        assert dcat_ap_violations(data, "html-release") == []
        catalog = URIRef("http://127.0.0.1:5000/catalog")
        view = data.value(catalog, URIRef(HYDRA + "view"))
        assert int(data.value(view, URIRef(HYDRA + "totalItems"))) == len(NAMES)
        datasets = sorted(str(value).rsplit("/", 1)[-1] for value in data.objects(catalog, URIRef("http://www.w3.org/ns/dcat#dataset")))
        assert len(datasets) <= 4
        seen += datasets
        following = data.value(view, URIRef(HYDRA + "next"))
        url = str(following).replace("http://127.0.0.1:5000/catalog", "/catalog.ttl") if following else None
        pages += 1
    assert pages == 4
    assert sorted(seen) == NAMES


@pytest.mark.parametrize("query", ["page=0", "page=x", "page_size=5000"])
def test_catalog_page_errors(client, query):
    assert client.get(f"/catalog.ttl?{query}").status_code == 400


# Croissant 1.1

MLCROISSANT = REPO / ".venv" / "bin" / "mlcroissant"


def croissant_of(client, name: str) -> dict:
    response = client.get(f"/datasets/{name}/croissant.json")
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    return response.get_json()


def mlcroissant_validate(path) -> subprocess.CompletedProcess:
    return subprocess.run([str(MLCROISSANT), "validate", "--jsonld", str(path)], capture_output=True, text=True,
                          timeout=120)


@pytest.mark.parametrize("name", NAMES)
def test_croissant_passes_mlcroissant(client, name, tmp_path):
    document = croissant_of(client, name)
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    checked = mlcroissant_validate(path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "warning" not in (checked.stdout + checked.stderr).lower()


@pytest.mark.parametrize("name", NAMES)
def test_croissant_has_required_properties(client, name):
    from server.croissant import REQUIRED, missing_required

    document = croissant_of(client, name)
    assert missing_required(document) == []
    assert document["conformsTo"] == "http://mlcommons.org/croissant/1.1"
    assert document["@type"] == "sc:Dataset"
    assert set(REQUIRED) <= set(document)
    context = json.loads((STANDARDS / "croissant" / "context-1.1.jsonld").read_text())["@context"]
    assert document["@context"] == context


def test_mlcroissant_rejects_a_broken_description(client, tmp_path):
    document = croissant_of(client, "DeepACSA_2022")
    del document["distribution"][0]["encodingFormat"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    checked = mlcroissant_validate(path)
    assert checked.returncode != 0
    assert "encodingFormat" in checked.stdout + checked.stderr


def test_required_properties_check_finds_a_missing_name(client):
    from server.croissant import missing_required

    document = croissant_of(client, "DeepACSA_2022")
    del document["name"]
    document["creator"] = []
    assert missing_required(document) == ["name", "creator"]


def test_landing_page_links_croissant(client):
    html = client.get("/datasets/DeepACSA_2022", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'href="/datasets/DeepACSA_2022/croissant.json"' in html


def test_large_catalog_comes_in_pages(client, monkeypatch):
    from server import pages

    monkeypatch.setattr(pages, "CATALOG_PAGE_SIZE", 10)
    data = Graph().parse(data=client.get("/catalog.ttl").get_data(as_text=True), format="turtle")
    catalog = URIRef("http://127.0.0.1:5000/catalog")
    assert len(list(data.objects(catalog, URIRef("http://www.w3.org/ns/dcat#dataset")))) == 10
    view = data.value(catalog, URIRef(HYDRA + "view"))
    assert data.value(view, URIRef(HYDRA + "next")) is not None
