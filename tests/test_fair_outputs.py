"""Outputs for other tools: citations, signposting, the sitemap, VoID and the service description."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, VOID

from .browser_support import seed_records
from .conftest import BASE_URL

SEED = seed_records()
NAMES = sorted(SEED)
SD = "http://www.w3.org/ns/sparql-service-description#"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def authors_of(name: str) -> list[str]:
    return [author if isinstance(author, str) else author["name"] for author in SEED[name]["authors"]]


# Citations


@pytest.mark.parametrize("name", NAMES)
def test_bibtex(client, name):
    response = client.get(f"/datasets/{name}/citation.bib")
    assert response.status_code == 200
    assert response.mimetype == "application/x-bibtex"
    text = response.get_data(as_text=True)
    assert text.startswith(f"@misc{{{name},")
    assert text.rstrip().endswith("}")
    assert f"year = {{{SEED[name]['year']}}}" in text
    assert text.count("{") == text.count("}") + text.count("\\{") - text.count("\\}")
    if SEED[name].get("doi"):
        assert f"doi = {{{SEED[name]['doi'].replace('_', chr(92) + '_')}}}" in text


@pytest.mark.parametrize("name", NAMES)
def test_ris(client, name):
    text = client.get(f"/datasets/{name}/citation.ris").get_data(as_text=True)
    lines = text.split("\r\n")
    assert lines[0] == "TY  - DATA"
    assert lines[-2] == "ER  - "
    assert [line[6:] for line in lines if line.startswith("AU  - ")] == authors_of(name)
    assert all(re.fullmatch(r"[A-Z][A-Z0-9]  - .*", line) for line in lines if line)


@pytest.mark.parametrize("name", NAMES)
def test_csl_json(client, name):
    items = json.loads(client.get(f"/datasets/{name}/citation.json").get_data(as_text=True))
    assert len(items) == 1
    item = items[0]
    assert item["type"] == "dataset"
    assert item["title"] == SEED[name]["title"]
    assert item["issued"] == {"date-parts": [[SEED[name]["year"]]]}
    assert [author["literal"] for author in item["author"]] == authors_of(name)
    assert item.get("DOI") == SEED[name].get("doi")


def test_landing_page_offers_citations(client):
    html = client.get("/datasets/DeepACSA_2022", headers={"Accept": "text/html"}).get_data(as_text=True)
    for suffix in ("bib", "ris", "json"):
        assert f'href="/datasets/DeepACSA_2022/citation.{suffix}"' in html
    assert 'id="citation"' in html


def test_unknown_citation_format(client):
    assert client.get("/datasets/DeepACSA_2022/citation.doc").status_code == 404
    assert client.get("/datasets/NoSuch_2020/citation.bib").status_code == 404


# FAIR Signposting


def parse_link_header(value: str) -> list[dict]:
    links = []
    for match in re.finditer(r'<([^>]*)>((?:\s*;\s*[a-zA-Z-]+="[^"]*")*)', value):
        attributes = dict(re.findall(r'([a-zA-Z-]+)="([^"]*)"', match.group(2)))
        links.append({"href": match.group(1), **attributes})
    return links


@pytest.mark.parametrize("name", NAMES)
def test_signposting_level_one(client, name):
    response = client.get(f"/datasets/{name}", headers={"Accept": "text/html"})
    links = parse_link_header(response.headers["Link"])
    relations = {link["rel"] for link in links}
    assert {"cite-as", "describedby", "item", "type", "license", "linkset"} <= relations
    cite_as = [link["href"] for link in links if link["rel"] == "cite-as"]
    doi = SEED[name].get("doi")
    assert cite_as == [f"https://doi.org/{doi}" if doi else f"{BASE_URL}/datasets/{name}"]
    described = {link["type"]: link["href"] for link in links if link["rel"] == "describedby" and "profile" not in link}
    assert set(described) == {"text/turtle", "application/ld+json", "application/rdf+xml", "application/n-triples"}
    croissant = [link for link in links if link["rel"] == "describedby" and "profile" in link]
    assert [link["profile"] for link in croissant] == ["http://mlcommons.org/croissant/1.1"]
    assert client.get(croissant[0]["href"].removeprefix("http://localhost")).mimetype == "application/ld+json"
    for media_type, href in described.items():
        answer = client.get(href.removeprefix("http://localhost"))
        assert answer.status_code == 200
        assert answer.mimetype == media_type
    assert [link["href"] for link in links if link["rel"] == "item"] == [SEED[name]["link"]]
    assert {link["href"] for link in links if link["rel"] == "type"} == {"https://schema.org/Dataset",
                                                                         "https://schema.org/AboutPage"}
    orcids = [author["orcid"] for author in SEED[name]["authors"] if isinstance(author, dict) and author.get("orcid")]
    assert [link["href"] for link in links if link["rel"] == "author"] == [f"https://orcid.org/{orcid}" for orcid in orcids][:10]


@pytest.mark.parametrize("name", NAMES)
def test_signposting_linkset(client, name):
    response = client.get(f"/datasets/{name}/linkset")
    assert response.mimetype == "application/linkset+json"
    entry = response.get_json()["linkset"][0]
    assert entry["anchor"].endswith(f"/datasets/{name}")
    header = parse_link_header(client.get(f"/datasets/{name}", headers={"Accept": "text/html"}).headers["Link"])
    for link in header:
        if link["rel"] != "linkset":
            assert {key: value for key, value in link.items() if key != "rel"} in entry[link["rel"]]


def test_signposting_caps_authors(client):
    from catalog.record import Author
    from server.signposting import MAX_HEADER_AUTHORS, link_header

    catalog = client.application.extensions["umud"]
    record = catalog.record("DeepACSA_2022")
    many = record.model_copy(update={"authors": [Author(name=f"Author {number}", orcid="0000-0002-1825-0097")
                                                 for number in range(40)]})
    with client.application.test_request_context("/"):
        header = link_header(many, f"{BASE_URL}/datasets/DeepACSA_2022", catalog.vocabulary)
    assert [link["rel"] for link in parse_link_header(header)].count("author") == MAX_HEADER_AUTHORS


# Sitemap and robots.txt


def test_sitemap_lists_every_landing_page(client):
    response = client.get("/sitemap.xml")
    assert response.mimetype == "application/xml"
    root = ET.fromstring(response.data)
    entries = {element.find(f"{SITEMAP}loc").text: element.find(f"{SITEMAP}lastmod") for element in root}
    for name in NAMES:
        location = f"http://localhost/datasets/{name}"
        assert location in entries
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", entries[location].text)
    assert "http://localhost/" in entries


def test_robots_points_to_the_sitemap(client):
    text = client.get("/robots.txt").get_data(as_text=True)
    assert "Sitemap: http://localhost/sitemap.xml" in text.splitlines()
    assert "Disallow: /curate" in text.splitlines()


def test_sitemap_index_for_large_catalogs(client, monkeypatch):
    from server import crawlers

    monkeypatch.setattr(crawlers, "URLS_PER_SITEMAP", 4)
    root = ET.fromstring(client.get("/sitemap.xml").data)
    assert root.tag == f"{SITEMAP}sitemapindex"
    parts = [element.find(f"{SITEMAP}loc").text for element in root]
    assert len(parts) == -(-(len(NAMES) + len(crawlers.MAIN_PAGES)) // 4)
    seen = []
    for part in parts:
        seen += [element.find(f"{SITEMAP}loc").text for element in ET.fromstring(client.get(part.removeprefix("http://localhost")).data)]
    assert len(seen) == len(set(seen)) == len(NAMES) + len(crawlers.MAIN_PAGES)
    assert client.get(f"/sitemap-{len(parts) + 1}.xml").status_code == 404


# VoID and the service description


def test_void(client):
    response = client.get("/.well-known/void", headers={"Accept": "text/turtle"})
    assert response.mimetype == "text/turtle"
    graph = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    void = URIRef("http://localhost/.well-known/void")
    assert (void, RDF.type, VOID.Dataset) in graph
    assert str(graph.value(void, VOID.sparqlEndpoint)) == "http://localhost/sparql"
    assert int(graph.value(void, VOID.entities)) == len(NAMES)
    triples = int(graph.value(void, VOID.triples))
    count = client.get("/sparql", query_string={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
                       headers={"Accept": "application/sparql-results+json"}).get_json()
    assert triples == int(count["results"]["bindings"][0]["n"]["value"])
    partitions = {str(graph.value(partition, VOID["class"])): int(graph.value(partition, VOID.entities))
                  for partition in graph.objects(void, VOID.classPartition)}
    assert partitions["http://www.w3.org/ns/dcat#Dataset"] == len(NAMES)


@pytest.mark.parametrize("accept, rdf_format", [("text/turtle", "turtle"), ("application/rdf+xml", "xml"),
                                                ("application/ld+json", "json-ld"), ("*/*", "turtle")])
def test_service_description(client, accept, rdf_format):
    response = client.get("/sparql", headers={"Accept": accept})
    assert response.status_code == 200
    graph = Graph().parse(data=response.get_data(as_text=True), format=rdf_format)
    service = URIRef("http://localhost/sparql")
    assert (service, RDF.type, URIRef(SD + "Service")) in graph
    assert (service, URIRef(SD + "endpoint"), service) in graph
    assert (service, URIRef(SD + "supportedLanguage"), URIRef(SD + "SPARQL11Query")) in graph
    assert (service, URIRef(SD + "feature"), URIRef(SD + "UnionDefaultGraph")) in graph


def test_browser_still_gets_the_query_page(client):
    response = client.get("/sparql", headers={"Accept": "text/html"})
    assert response.mimetype == "text/html"
