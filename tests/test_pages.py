"""The web pages and RDF views through the Flask test client, on the seeded Oxigraph store.

Every expected result is computed from the seed records in `catalog/seed/*.json` by the rules in
`browser_support`, never taken from the code under test.
"""

from __future__ import annotations

import csv
import io
import json
from html import escape
from urllib.parse import quote_plus, urlencode

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SH, SKOS, XSD

from catalog.fields import FIELDS
from catalog.loader import process_files
from catalog.validation import validate_graph

from .browser_support import (
    BASE_URL,
    HAMSTRINGS,
    MUSCLE_GROUPS,
    REPO,
    NetworkAccessError,
    author_names,
    result_names,
    displayed_totals,
    embedded_jsonld,
    forbid_network,
    metadata_fields,
    names_in_range,
    names_where,
    names_with_muscle_in,
    names_with_substring,
    names_with_text,
    names_with_value,
    parse_page,
    seed_records,
    sort_names,
)

DCAT = "http://www.w3.org/ns/dcat#"
SCHEMA = "https://schema.org/"
UMUD = "https://w3id.org/umud/ontology#"
# The Accept header that Chromium sends for a page it navigates to.
BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8"}
JSON_ACCEPT = {"Accept": "application/json"}
RDF_TYPES = {
    "text/turtle": ("ttl", "turtle"),
    "application/ld+json": ("jsonld", "json-ld"),
    "application/rdf+xml": ("rdf", "xml"),
    "application/n-triples": ("nt", "nt"),
}
SEED = seed_records()
SEED_NAMES = sort_names(SEED)

def dataset_iri(name: str) -> URIRef:
    return URIRef(f"{BASE_URL}/datasets/{name}")


def get_names(client, parameters: list[tuple[str, str]]) -> list[str]:
    """Return the names of the matching datasets, sorted by name."""
    response = client.get("/datasets?" + urlencode(parameters + [("format", "json"), ("sort", "name")]))
    assert response.status_code == 200, response.get_data(as_text=True)
    return [entry["name"] for entry in response.get_json()["datasets"]]


# Home page


@pytest.mark.parametrize("total", ["datasets", "images", "videos", "participants"])
def test_home_total(client, total):
    page = parse_page(client.get("/", headers=BROWSER).get_data(as_text=True))
    assert page.text_by_id[f"total-{total}"] == displayed_totals(SEED)[total]


def test_home_newest_datasets(client):
    page = parse_page(client.get("/", headers=BROWSER).get_data(as_text=True))
    listed = [href.removeprefix("/datasets/") for href in page.anchors
              if href.startswith("/datasets/")]
    newest_years = sorted((record["year"] for record in SEED.values()), reverse=True)[:5]
    assert len(listed) == 5
    assert sorted((SEED[name]["year"] for name in listed), reverse=True) == newest_years


@pytest.mark.parametrize("href", [
    "/datasets",
    "/sparql",
    "/ontology",
    "/shapes",
    "/about",
    "/catalog.ttl",
])
def test_home_links(client, href):
    page = parse_page(client.get("/", headers=BROWSER).get_data(as_text=True))
    assert href in page.anchors


# Dataset list: filters. Each case is (query parameters, rule over the seed records).

FILTER_CASES = {
    # One value of each controlled field, given as a label in any case, an alternative label or a notation.
    "muscle": ([("muscle", "soleus")], lambda seed: names_with_value(seed, "muscle", "Soleus")),
    "muscle-alt-label": ([("muscle", "medial gastrocnemius")],
                         lambda seed: names_with_value(seed, "muscle", "Gastrocnemius Medialis")),
    "region": ([("region", "PROXIMAL")], lambda seed: names_with_value(seed, "region", "Proximal")),
    "device": ([("device", "esaote mylab 70")], lambda seed: names_with_value(seed, "device", "Esaote MyLab 70")),
    "data_type": ([("data_type", "video")], lambda seed: names_with_value(seed, "data_type", "Video")),
    "image_type": ([("image_type", "panoramic")], lambda seed: names_with_value(seed, "image_type", "Panoramic")),
    "plane": ([("plane", "Transverse")], lambda seed: names_with_value(seed, "plane", "Transverse")),
    "file_format-label": ([("file_format", "Tiff")], lambda seed: names_with_value(seed, "file_format", "tiff")),
    "file_format-alt-label": ([("file_format", "jpg")], lambda seed: names_with_value(seed, "file_format", "jpeg")),
    "sex-alt-label": ([("sex", "both")], lambda seed: names_with_value(seed, "sex", "Female and male")),
    "license-label": ([("license", "apache license 2.0")],
                      lambda seed: names_with_value(seed, "license", "Apache-2.0")),
    "license-spdx": ([("license", "cc-by-4.0")], lambda seed: names_with_value(seed, "license", "CC-BY-4.0")),
    # Several values of one field: any of them.
    "muscle-or": ([("muscle", "Soleus"), ("muscle", "Biceps Brachii")],
                  lambda seed: names_with_value(seed, "muscle", "Soleus", "Biceps Brachii")),
    "data_type-or": ([("data_type", "Video"), ("data_type", "Volume")],
                     lambda seed: names_with_value(seed, "data_type", "Video", "Volume")),
    # Several fields: all of them.
    "muscle-and-data_type": (
        [("muscle", "Gastrocnemius Medialis"), ("data_type", "Video")],
        lambda seed: sorted(set(names_with_value(seed, "muscle", "Gastrocnemius Medialis"))
                            & set(names_with_value(seed, "data_type", "Video")), key=str.casefold)),
    "muscle-or-and-plane": (
        [("muscle", "Soleus"), ("muscle", "Vastus Lateralis"), ("plane", "transverse")],
        lambda seed: sorted(set(names_with_value(seed, "muscle", "Soleus", "Vastus Lateralis"))
                            & set(names_with_value(seed, "plane", "Transverse")), key=str.casefold)),
    # Muscle groups match every muscle inside them.
    "group-triceps-surae": ([("muscle", "Triceps surae")],
                            lambda seed: names_with_muscle_in(seed, MUSCLE_GROUPS["Triceps surae"])),
    "group-lower-leg": ([("muscle", "Lower leg muscles")],
                        lambda seed: names_with_muscle_in(seed, MUSCLE_GROUPS["Lower leg muscles"])),
    "group-lower-leg-alt-label": ([("muscle", "calf")],
                                  lambda seed: names_with_muscle_in(seed, MUSCLE_GROUPS["Lower leg muscles"])),
    "group-thigh": ([("muscle", "Thigh muscles")],
                    lambda seed: names_with_muscle_in(seed, MUSCLE_GROUPS["Thigh muscles"])),
    "group-hamstrings": ([("muscle", "hamstrings")], lambda seed: names_with_muscle_in(seed, HAMSTRINGS)),
    # Ranges: the bounds are inclusive, and a dataset without the value never matches.
    "age_min": ([("age_min", "30")], lambda seed: names_in_range(seed, "age", 30, None)),
    "age_max": ([("age_max", "26")], lambda seed: names_in_range(seed, "age", None, 26)),
    "age-between": ([("age_min", "26.5"), ("age_max", "38")], lambda seed: names_in_range(seed, "age", 26.5, 38)),
    "height_min": ([("height_min", "175")], lambda seed: names_in_range(seed, "height", 175, None)),
    "height_max": ([("height_max", "171")], lambda seed: names_in_range(seed, "height", None, 171)),
    "body_mass-between": ([("body_mass_min", "70"), ("body_mass_max", "75")],
                          lambda seed: names_in_range(seed, "body_mass", 70, 75)),
    "sample_size_min": ([("sample_size_min", "100")], lambda seed: names_in_range(seed, "sample_size", 100, None)),
    "sample_size_max": ([("sample_size_max", "10")], lambda seed: names_in_range(seed, "sample_size", None, 10)),
    "image_count_min": ([("image_count_min", "1000")], lambda seed: names_in_range(seed, "image_count", 1000, None)),
    "image_count_max": ([("image_count_max", "999")], lambda seed: names_in_range(seed, "image_count", None, 999)),
    "video_count_min": ([("video_count_min", "200")], lambda seed: names_in_range(seed, "video_count", 200, None)),
    "video_count_max": ([("video_count_max", "151")], lambda seed: names_in_range(seed, "video_count", None, 151)),
    "scanning_frequency_min": ([("scanning_frequency_min", "7")],
                               lambda seed: names_in_range(seed, "scanning_frequency", 7, None)),
    "scanning_frequency_max": ([("scanning_frequency_max", "6.5")],
                               lambda seed: names_in_range(seed, "scanning_frequency", None, 6.5)),
    "sampling_rate-between": ([("sampling_rate_min", "60"), ("sampling_rate_max", "80")],
                              lambda seed: names_in_range(seed, "sampling_rate", 60, 80)),
    "sampling_rate_min": ([("sampling_rate_min", "100")],
                          lambda seed: names_in_range(seed, "sampling_rate", 100, None)),
    "year_min": ([("year_min", "2022")], lambda seed: names_in_range(seed, "year", 2022, None)),
    "year_max": ([("year_max", "2019")], lambda seed: names_in_range(seed, "year", None, 2019)),
    "year-between": ([("year_min", "2020"), ("year_max", "2021")], lambda seed: names_in_range(seed, "year", 2020, 2021)),
    "year": ([("year", "2024")], lambda seed: names_with_value(seed, "year", "2024")),
    "range-and-concept": ([("age_min", "30"), ("plane", "Longitudinal")],
                          lambda seed: sorted(set(names_in_range(seed, "age", 30, None))
                                              & set(names_with_value(seed, "plane", "Longitudinal")),
                                              key=str.casefold)),
    # Labels provided: a dataset that does not say is neither.
    "labels-true": ([("labels", "true")], lambda seed: names_where(seed, lambda record: record.get("labels") is True)),
    "labels-false": ([("labels", "FALSE")], lambda seed: names_where(seed, lambda record: record.get("labels") is False)),
    # Text.
    "q-word": ([("q", "panoramic")], lambda seed: names_with_text(seed, "panoramic")),
    "q-words": ([("q", "Gastrocnemius VIDEOS")], lambda seed: names_with_text(seed, "Gastrocnemius VIDEOS")),
    "q-author": ([("q", "cronin")], lambda seed: names_with_text(seed, "cronin")),
    "authors": ([("authors", "ritsche")], lambda seed: names_with_substring(seed, "authors", "ritsche")),
    "authors-or": ([("authors", "Sarto"), ("authors", "Baxter")],
                   lambda seed: sorted(set(names_with_substring(seed, "authors", "Sarto"))
                                       | set(names_with_substring(seed, "authors", "Baxter")), key=str.casefold)),
    "doi": ([("doi", "10.17605/osf.io/a3u4v")], lambda seed: names_with_value(seed, "doi", "10.17605/OSF.IO/A3U4V")),
    "name": ([("name", "neuage")], lambda seed: names_with_substring(seed, "name", "neuage")),
    "keywords": ([("keywords", "Segmentation")], lambda seed: names_with_substring(seed, "keywords", "segmentation")),
    "transducer": ([("transducer", "superline")], lambda seed: names_with_substring(seed, "transducer", "superline")),
}
EMPTY_CASES = {
    "empty-muscle": ([("muscle", "Deltoid")], lambda seed: []),
    "empty-range": ([("age_min", "90")], lambda seed: names_in_range(seed, "age", 90, None)),
    "empty-and": ([("data_type", "Volume"), ("image_type", "Panoramic")],
                  lambda seed: sorted(set(names_with_value(seed, "data_type", "Volume"))
                                      & set(names_with_value(seed, "image_type", "Panoramic")))),
}
ALL_CASES = {**FILTER_CASES, **EMPTY_CASES}


@pytest.mark.parametrize("case", FILTER_CASES)
def test_filter_case_is_selective(case):
    """Each filter case keeps some but not all seed datasets, so its test can fail."""
    expected = FILTER_CASES[case][1](SEED)
    assert 0 < len(expected) < len(SEED)


@pytest.mark.parametrize("case", EMPTY_CASES)
def test_empty_case_matches_nothing(case):
    assert EMPTY_CASES[case][1](SEED) == []


@pytest.mark.parametrize("case", ALL_CASES)
def test_filter_json(client, case):
    parameters, rule = ALL_CASES[case]
    assert get_names(client, parameters) == rule(SEED)


@pytest.mark.parametrize("case", ALL_CASES)
def test_filter_html(client, case):
    parameters, rule = ALL_CASES[case]
    response = client.get("/datasets?" + urlencode(parameters + [("sort", "name")]), headers=BROWSER)
    html = response.get_data(as_text=True)
    expected = rule(SEED)
    assert response.status_code == 200
    assert result_names(html) == expected
    assert ("no-results" in parse_page(html).text_by_id) == (not expected)


def test_list_all_json(client):
    response = client.get("/datasets", headers=JSON_ACCEPT)
    assert response.mimetype == "application/json"
    assert response.get_json()["count"] == len(SEED)


@pytest.mark.parametrize("name", SEED_NAMES)
def test_list_json_entry(client, name):
    entries = client.get("/datasets?format=json").get_json()["datasets"]
    entry = next(entry for entry in entries if entry["name"] == name)
    record = SEED[name]
    assert entry["iri"] == str(dataset_iri(name))
    assert entry["title"] == record.get("title", name)
    assert entry["link"] == record["link"]


def test_list_json_message(client):
    document = client.get("/datasets?format=json").get_json()
    assert document["message"] is None


def test_list_empty_json(client):
    document = client.get("/datasets?muscle=Deltoid", headers=JSON_ACCEPT).get_json()
    assert document["count"] == 0
    assert document["datasets"] == []
    assert "No dataset matches" in document["message"]


def test_list_empty_html(client):
    html = client.get("/datasets?muscle=Deltoid", headers=BROWSER).get_data(as_text=True)
    assert "No dataset matches" in parse_page(html).text_by_id["no-results"]


def test_list_html_count(client):
    html = client.get("/datasets?data_type=Video", headers=BROWSER).get_data(as_text=True)
    count = len(names_with_value(SEED, "data_type", "Video"))
    assert parse_page(html).text_by_id["result-count"].startswith(f"{count} datasets")


def test_list_csv(client):
    response = client.get("/datasets?format=csv&data_type=Video")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert response.mimetype == "text/csv"
    assert rows[0][0] == "name"
    assert {"name", "title", "muscle", "data_type", "sample_size", "license"} <= set(rows[0])
    assert [row[0] for row in rows[1:]] == names_with_value(SEED, "data_type", "Video")


def test_list_csv_by_accept(client):
    response = client.get("/datasets", headers={"Accept": "text/csv"})
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert response.mimetype == "text/csv"
    assert len(rows) == len(SEED) + 1


def test_list_without_accept_header(client):
    """A request without an Accept header accepts any media type (RFC 9110) and gets HTML."""
    response = client.get("/datasets")
    assert response.status_code == 200
    assert response.mimetype == "text/html"


BAD_FILTERS = [
    ([("colour", "red")], "colour"),
    ([("muscle", "Unicorn")], "muscle"),
    ([("data_type", "Photo")], "data_type"),
    ([("age_min", "abc")], "age_min"),
    ([("year_max", "twenty")], "year_max"),
    ([("sample_size_min", "nan")], "sample_size_min"),
    ([("height_max", "1e999")], "height_max"),
    ([("labels", "maybe")], "labels"),
    ([("muscle_min", "3")], "muscle_min"),
    ([("image_count", "many")], "image_count"),
]


@pytest.mark.parametrize(("parameters", "named"), BAD_FILTERS)
def test_bad_filter_json(client, parameters, named):
    response = client.get("/datasets?" + urlencode(parameters), headers=JSON_ACCEPT)
    assert response.status_code == 400
    assert named in response.get_json()["message"]


@pytest.mark.parametrize(("parameters", "named"), BAD_FILTERS)
def test_bad_filter_html(client, parameters, named):
    response = client.get("/datasets?" + urlencode(parameters), headers=BROWSER)
    page = parse_page(response.get_data(as_text=True))
    assert response.status_code == 400
    assert named in " ".join(page.text_by_class["error-message"])


@pytest.mark.parametrize(("parameters", "named"), BAD_FILTERS[:3])
def test_bad_filter_csv(client, parameters, named):
    response = client.get("/datasets?" + urlencode(parameters + [("format", "csv")]))
    assert response.status_code == 400
    assert named in response.get_data(as_text=True)


# Landing pages


def landing_page(client, name: str) -> str:
    response = client.get(f"/datasets/{name}", headers=BROWSER)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def number_text(value) -> str:
    """A number as the landing page prints it: thousands separators, no '.0' on whole numbers."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return str(value)


def expected_field_text(field: str, record: dict) -> str | None:
    """The text a landing page shows for a field of a seed record, or None to check links only."""
    value = record.get(field)
    if value is None or value == []:
        return "not given"
    if field == "authors":
        return ", ".join(author_names(record))
    if field in {"contact", "keywords", "transducer", "muscle", "region", "device", "image_type", "plane"}:
        return ", ".join(sorted(value))
    if field == "labels":
        return "yes" if value else "no"
    if field in {"image_count", "video_count", "sample_size", "age", "height", "body_mass",
                 "scanning_frequency", "sampling_rate"}:
        return number_text(value)
    if field in {"license", "file_format"}:
        return None
    return str(value)


def expected_field_links(field: str, record: dict) -> list[str]:
    value = record.get(field)
    if value is None:
        return []
    if field == "license":
        return [f"https://spdx.org/licenses/{value}"]
    if field in {"link", "publication"}:
        return [value]
    if field == "doi":
        return [f"https://doi.org/{value}"]
    if field == "contact":
        return [f"mailto:{address}" for address in sorted(value)]
    if field in {"muscle", "region", "device", "data_type", "image_type", "plane", "file_format", "sex"}:
        return [f"/datasets?{field}={quote_plus(item)}" for item in sorted(value if isinstance(value, list) else [value])]
    return []


SHOWN_FIELDS = [field.name for field in FIELDS if field.name not in {"name", "title", "description"}]


@pytest.mark.parametrize("name", SEED_NAMES)
def test_landing_fields(client, name):
    """Every metadata field of the record is on the page, with the value a reader expects."""
    on_page = metadata_fields(landing_page(client, name))
    record = SEED[name]
    wrong = {}
    for field in SHOWN_FIELDS:
        text, links = on_page.get(field, ("(missing)", []))
        expected_text = expected_field_text(field, record)
        if expected_text is not None and text != expected_text:
            wrong[field] = (text, expected_text)
        missing_links = [link for link in expected_field_links(field, record) if link not in links]
        if missing_links:
            wrong[field + " links"] = (links, missing_links)
    assert wrong == {}


@pytest.mark.parametrize("name", SEED_NAMES)
def test_landing_title_and_description(client, name):
    page = parse_page(landing_page(client, name))
    record = SEED[name]
    assert page.text_by_class["dataset"][0].startswith(record.get("title", name))
    assert page.text_by_class["description"] == [" ".join(record["description"].split())]


@pytest.mark.parametrize("name", SEED_NAMES)
def test_landing_data_link(client, name):
    html = landing_page(client, name)
    assert f'<a class="button" href="{escape(SEED[name]["link"])}"' in html


@pytest.mark.parametrize("name", [name for name in SEED_NAMES if SEED[name].get("publication")])
def test_landing_publication_link(client, name):
    page = parse_page(landing_page(client, name))
    assert SEED[name]["publication"] in page.anchors


@pytest.mark.parametrize("name", SEED_NAMES)
def test_landing_citation(client, name):
    citation = parse_page(landing_page(client, name)).text_by_class["citation"][0]
    record = SEED[name]
    identifier = f"https://doi.org/{record['doi']}" if record.get("doi") else record["link"]
    assert citation.startswith(author_names(record)[0])
    assert f"({record['year']}). {record.get('title', name)}" in citation
    assert citation.endswith(identifier)


@pytest.mark.parametrize("name", SEED_NAMES)
def test_landing_jsonld(client, name):
    text = embedded_jsonld(landing_page(client, name))
    document = json.loads(text)
    assert isinstance(document["@context"], dict)

    graph = Graph()
    with forbid_network():
        graph.parse(data=text, format="json-ld")
    iri = dataset_iri(name)
    assert (iri, RDF.type, URIRef(SCHEMA + "Dataset")) in graph
    assert str(graph.value(iri, URIRef(SCHEMA + "name"))) == SEED[name].get("title", name)
    assert str(graph.value(iri, URIRef(SCHEMA + "description"))) == SEED[name]["description"]


@pytest.mark.parametrize("name", SEED_NAMES)
def test_landing_canonical(client, name):
    links = parse_page(landing_page(client, name)).links
    canonical = [link["href"] for link in links if link.get("rel") == "canonical"]
    assert canonical == [str(dataset_iri(name))]


@pytest.mark.parametrize("name", SEED_NAMES)
def test_landing_alternates(client, name):
    links = parse_page(landing_page(client, name)).links
    alternates = {link["type"]: link["href"] for link in links if link.get("rel") == "alternate"}
    assert set(alternates) == set(RDF_TYPES)
    for media_type, href in alternates.items():
        assert client.get(href).mimetype == media_type


# A response chosen by the Accept header must say so, or a shared cache may give HTML to an RDF client.
@pytest.mark.parametrize(("path", "headers"), [
    (f"/datasets/{SEED_NAMES[0]}", BROWSER),
    (f"/datasets/{SEED_NAMES[0]}", {"Accept": "text/turtle"}),
    ("/catalog", {"Accept": "text/turtle"}),
    ("/ontology", {"Accept": "text/turtle"}),
    ("/shapes", {"Accept": "text/turtle"}),
    ("/datasets", BROWSER),
    ("/datasets", JSON_ACCEPT),
    ("/catalog", BROWSER),
    ("/ontology", BROWSER),
    ("/shapes", BROWSER),
], ids=lambda value: value.get("Accept", "")[:20] if isinstance(value, dict) else value)
def test_vary_accept(client, path, headers):
    response = client.get(path, headers=headers)
    assert "Accept" in response.headers.get("Vary", "")


# RDF of one dataset


def parse_rdf(text: str, rdflib_format: str) -> Graph:
    """Parse RDF with rdflib while network access is blocked, so no JSON-LD context is fetched."""
    with forbid_network():
        return Graph().parse(data=text, format=rdflib_format)


def test_network_guard_blocks_remote_context():
    """The guard used by parse_rdf stops rdflib before it fetches a remote JSON-LD context."""
    with pytest.raises(NetworkAccessError):
        parse_rdf('{"@context": "https://schema.org/", "@id": "urn:x", "name": "x"}', "json-ld")


def assert_dataset_graph(graph: Graph, name: str) -> None:
    iri = dataset_iri(name)
    assert (iri, RDF.type, URIRef(DCAT + "Dataset")) in graph
    assert (iri, DCTERMS.identifier, Literal(name)) in graph


@pytest.mark.parametrize("media_type", RDF_TYPES)
@pytest.mark.parametrize("name", SEED_NAMES)
def test_dataset_rdf_by_accept(client, name, media_type):
    response = client.get(f"/datasets/{name}", headers={"Accept": media_type})
    graph = parse_rdf(response.get_data(as_text=True), RDF_TYPES[media_type][1])
    assert response.mimetype == media_type
    assert response.headers["Vary"] == "Accept"
    assert_dataset_graph(graph, name)


@pytest.mark.parametrize("media_type", RDF_TYPES)
@pytest.mark.parametrize("name", SEED_NAMES)
def test_dataset_rdf_by_suffix(client, name, media_type):
    suffix, rdflib_format = RDF_TYPES[media_type]
    response = client.get(f"/datasets/{name}.{suffix}")
    graph = parse_rdf(response.get_data(as_text=True), rdflib_format)
    assert response.mimetype == media_type
    assert_dataset_graph(graph, name)


@pytest.mark.parametrize(("accept", "media_type"), [
    ("text/html;q=0.5, text/turtle;q=0.9", "text/turtle"),
    ("application/rdf+xml;q=0.1, text/html", "text/html"),
    ("text/turtle;q=0, application/ld+json", "application/ld+json"),
    ("application/n-triples;q=0.8, application/rdf+xml;q=0.9, text/html;q=0.2", "application/rdf+xml"),
    ("image/png, text/turtle;q=0.1", "text/turtle"),
    ("*/*", "text/html"),
])
def test_dataset_q_values(client, accept, media_type):
    response = client.get(f"/datasets/{SEED_NAMES[0]}", headers={"Accept": accept})
    assert response.mimetype == media_type


def test_dataset_png_not_acceptable(client):
    assert client.get(f"/datasets/{SEED_NAMES[0]}", headers={"Accept": "image/png"}).status_code == 406


@pytest.mark.parametrize("path", ["/datasets/NoSuchDataset_2020", "/datasets/NoSuchDataset_2020.ttl"])
def test_unknown_dataset(client, path):
    assert client.get(path, headers=BROWSER).status_code == 404


@pytest.mark.parametrize("path", ["/datasets/a%3Eb", "/datasets/a%20b", "/datasets/%00", "/datasets/a%22b.ttl",
                                  "/datasets/DeepACSA_2022.exe"])
def test_invalid_name_not_found(client, path):
    assert client.get(path, headers=BROWSER).status_code == 404


def test_dataset_without_accept_header(client):
    response = client.get(f"/datasets/{SEED_NAMES[0]}")
    assert response.status_code == 200
    assert response.mimetype == "text/html"


# The whole catalog


def seed_iris() -> set[URIRef]:
    return {dataset_iri(name) for name in SEED}


@pytest.mark.parametrize("media_type", RDF_TYPES)
def test_catalog_by_accept(client, media_type):
    response = client.get("/catalog", headers={"Accept": media_type})
    graph = parse_rdf(response.get_data(as_text=True), RDF_TYPES[media_type][1])
    linked = list(graph.objects(URIRef(f"{BASE_URL}/catalog"), URIRef(DCAT + "dataset")))
    assert response.mimetype == media_type
    assert response.headers["Vary"] == "Accept"
    assert len(linked) == len(SEED)
    assert set(linked) == seed_iris()


@pytest.mark.parametrize("media_type", RDF_TYPES)
def test_catalog_by_suffix(client, media_type):
    suffix, rdflib_format = RDF_TYPES[media_type]
    response = client.get(f"/catalog.{suffix}")
    graph = parse_rdf(response.get_data(as_text=True), rdflib_format)
    assert response.mimetype == media_type
    assert set(graph.objects(URIRef(f"{BASE_URL}/catalog"), URIRef(DCAT + "dataset"))) == seed_iris()
    assert set(graph.subjects(RDF.type, URIRef(DCAT + "Dataset"))) == seed_iris()


def test_catalog_redirects_browsers(client):
    response = client.get("/catalog", headers=BROWSER)
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/datasets")


def test_catalog_conforms(client):
    graph = Graph().parse(data=client.get("/catalog.ttl").get_data(as_text=True), format="turtle")
    report = validate_graph(graph)
    assert [str(result) for result in report.violations] == []


@pytest.mark.parametrize("predicate", [
    "http://healthdataportal.eu/ns/health#numberOfUniqueIndividuals",
    "http://healthdataportal.eu/ns/health#numberOfRecords",
    UMUD + "imageCount",
    UMUD + "videoCount",
])
def test_catalog_count_datatype(client, predicate):
    """Counts are xsd:integer, as ontology/README.md documents, also after a trip through the store."""
    graph = Graph().parse(data=client.get("/catalog.nt").get_data(as_text=True), format="nt")
    counts = set(graph.objects(None, URIRef(predicate)))
    assert counts
    assert {count.datatype for count in counts} == {XSD.integer}


# Ontology, shapes and about


def vocabulary_labels(scheme: str, kind: str | None = None) -> list[str]:
    """Preferred labels of the concepts of a scheme, read from its Turtle file with rdflib."""
    graph = Graph().parse(REPO / "ontology" / "vocab" / f"{scheme}.ttl", format="turtle")
    scheme_iri = URIRef(f"https://w3id.org/umud/vocab/{scheme}")
    concepts = set(graph.subjects(SKOS.inScheme, scheme_iri))
    if kind is not None:
        concepts &= set(graph.subjects(RDF.type, URIRef(UMUD + kind)))
    return sorted(str(graph.value(concept, SKOS.prefLabel)) for concept in concepts)


def ontology_strong_texts(client) -> list[str]:
    html = client.get("/ontology", headers=BROWSER).get_data(as_text=True)
    return parse_page(html).text_by_tag["strong"]


def test_ontology_device_count():
    assert len(vocabulary_labels("device")) == 64


@pytest.mark.parametrize("group", sorted(MUSCLE_GROUPS))
def test_ontology_lists_group(client, group):
    assert group in ontology_strong_texts(client)


def test_ontology_lists_all_groups(client):
    on_page = set(ontology_strong_texts(client))
    assert set(vocabulary_labels("muscle", "MuscleGroup")) <= on_page


def test_ontology_lists_devices(client):
    on_page = set(ontology_strong_texts(client))
    devices = vocabulary_labels("device")
    assert [device for device in devices if device not in on_page] == []


@pytest.mark.parametrize(("path", "headers"), [
    ("/ontology", {"Accept": "text/turtle"}),
    ("/ontology.ttl", BROWSER),
])
def test_ontology_turtle(client, path, headers):
    response = client.get(path, headers=headers)
    graph = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    devices = set(graph.subjects(SKOS.inScheme, URIRef("https://w3id.org/umud/vocab/device")))
    assert response.mimetype == "text/turtle"
    assert len(devices) == 64


def shape_names() -> list[str]:
    graph = Graph().parse(REPO / "shapes" / "umud-shapes.ttl", format="turtle")
    return sorted(str(graph.value(shape, SH.name) or "") for shape in graph.subjects(RDF.type, SH.NodeShape))


def test_shapes_html(client):
    response = client.get("/shapes", headers=BROWSER)
    headings = parse_page(response.get_data(as_text=True)).text_by_tag["h2"]
    named = [name for name in shape_names() if name]
    assert response.mimetype == "text/html"
    assert named
    assert [name for name in named if name not in headings] == []


@pytest.mark.parametrize(("path", "headers"), [
    ("/shapes", {"Accept": "text/turtle"}),
    ("/shapes.ttl", BROWSER),
])
def test_shapes_turtle(client, path, headers):
    response = client.get(path, headers=headers)
    graph = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    expected = Graph().parse(REPO / "shapes" / "umud-shapes.ttl", format="turtle")
    assert response.mimetype == "text/turtle"
    assert len(set(graph.subjects(RDF.type, SH.NodeShape))) == len(set(expected.subjects(RDF.type, SH.NodeShape)))


def test_about(client):
    response = client.get("/about", headers=BROWSER)
    assert response.status_code == 200
    assert "DCAT" in response.get_data(as_text=True)


@pytest.mark.parametrize("path", [
    "/",
    "/datasets",
    f"/datasets/{SEED_NAMES[0]}",
    "/about",
    "/ontology",
    "/shapes",
])
def test_local_links_resolve(client, path):
    """Every link to this site on the page leads to a page."""
    page = parse_page(client.get(path, headers=BROWSER).get_data(as_text=True))
    targets = sorted({href for href in page.anchors if href.startswith("/")})
    broken = {}
    for target in targets:
        response = client.get(target, headers=BROWSER)
        if response.status_code >= 400:
            broken[target] = response.status_code
    assert targets
    assert broken == {}


# Untrusted text is escaped


SCRIPT = "<script>alert(1)</script>"
ATTRIBUTE = '"><img src=x onerror=alert(1)>'
PROBE_NAME = "XssProbe_2025"
PROBE = {
    "name": PROBE_NAME,
    "title": f"=HYPERLINK(\"http://127.0.0.1/\") probe {SCRIPT}",
    "description": f"A probe dataset whose text tries to run script in the pages. {SCRIPT} {ATTRIBUTE} "
                   f"It closes the JSON-LD element: </script><script>alert(2)</script>",
    "year": 2025,
    "link": "https://data.invalid/xss-probe",
    "license": "CC-BY-4.0",
    "authors": [f"Mallory {SCRIPT}", f"Eve {ATTRIBUTE}"],
    "keywords": [SCRIPT],
    "muscle": ["Soleus"],
    "data_type": "Image",
    "sample_size": 1,
    "labels": True,
    "label_description": ATTRIBUTE,
}


def remove_dataset(catalog, name: str) -> None:
    """Delete a dataset written by a test: its graph and its links from the catalog graph."""
    catalog.purge([name])


@pytest.fixture(scope="class")
def probe_dataset(catalog, tmp_path_factory):
    path = tmp_path_factory.mktemp("probe") / f"{PROBE_NAME}.json"
    path.write_text(json.dumps(PROBE), encoding="utf-8")
    results = process_files([path], catalog, write=True)
    assert [str(problem) for problem in results[0].errors] == []
    yield PROBE_NAME
    remove_dataset(catalog, PROBE_NAME)
    assert PROBE_NAME not in catalog.names()


@pytest.mark.usefixtures("probe_dataset")
class TestEscaping:
    def test_landing_has_no_raw_markup(self, client):
        html = landing_page(client, PROBE_NAME)
        assert SCRIPT not in html
        assert "<img src=x" not in html

    def test_landing_shows_text(self, client):
        page = parse_page(landing_page(client, PROBE_NAME))
        assert page.text_by_class["description"] == [" ".join(PROBE["description"].split())]

    def test_landing_shows_authors(self, client):
        on_page = metadata_fields(landing_page(client, PROBE_NAME))
        assert on_page["authors"][0] == ", ".join(PROBE["authors"])

    def test_jsonld_stays_in_script(self, client):
        html = landing_page(client, PROBE_NAME)
        document = json.loads(embedded_jsonld(html))
        assert document["description"] == PROBE["description"]
        assert document["name"] == PROBE["title"]

    def test_jsonld_has_no_closing_tag(self, client):
        text = embedded_jsonld(landing_page(client, PROBE_NAME))
        assert "</" not in text
        assert "<!--" not in text

    def test_list_has_no_raw_markup(self, client):
        html = client.get(f"/datasets?name={PROBE_NAME}", headers=BROWSER).get_data(as_text=True)
        assert result_names(html) == [PROBE_NAME]
        assert SCRIPT not in html

    def test_list_shows_title(self, client):
        html = client.get(f"/datasets?name={PROBE_NAME}", headers=BROWSER).get_data(as_text=True)
        assert PROBE["title"] in parse_page(html).text_by_class["dataset-list"][0]

    def test_home_has_no_raw_markup(self, client):
        html = client.get("/", headers=BROWSER).get_data(as_text=True)
        assert PROBE_NAME in html
        assert SCRIPT not in html

    def test_csv_formula_neutralised(self, client):
        text = client.get(f"/datasets?name={PROBE_NAME}&format=csv").get_data(as_text=True)
        rows = list(csv.DictReader(io.StringIO(text)))
        assert rows[0]["title"] == "'" + PROBE["title"]


def test_probe_removed(client):
    """The escaping tests leave the catalog as they found it."""
    assert client.get(f"/datasets/{PROBE_NAME}", headers=BROWSER).status_code == 404
    assert client.get("/datasets?format=json").get_json()["count"] == len(SEED)


# No request makes the server fail

LONG = "x" * 20000
ODD_REQUESTS = [
    ("GET", f"/datasets?q={LONG}", {}),
    ("GET", f"/datasets?muscle={LONG}", {}),
    ("GET", f"/datasets?authors={LONG}", BROWSER),
    ("GET", "/datasets?name=%C3%9C%E6%97%A5%F0%9F%A6%B5", BROWSER),
    ("GET", "/datasets?q=%F0%9F%A6%B5%20%E2%80%AE", BROWSER),
    ("GET", "/datasets?muscle=%FF%FE", BROWSER),
    ("GET", "/datasets?q=%00", BROWSER),
    ("GET", "/datasets?authors=%00", JSON_ACCEPT),
    ("GET", "/datasets?doi=%22%29%20%7D%20DROP%20ALL%20%23", JSON_ACCEPT),
    ("GET", "/datasets?q=%22%29%29%20%7D%20%7D%20UNION%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D%20%23", JSON_ACCEPT),
    ("GET", "/datasets?name=%5C%22%5C", JSON_ACCEPT),
    ("GET", "/datasets?age_min=1e308&age_max=-1e308", JSON_ACCEPT),
    ("GET", "/datasets?year=99999999999999999999999999", JSON_ACCEPT),
    ("GET", "/datasets?age_min=inf", JSON_ACCEPT),
    ("GET", "/datasets?age_min=0x10", JSON_ACCEPT),
    ("GET", "/datasets?format=xml", BROWSER),
    ("GET", "/datasets?page=-1&sort=%00", BROWSER),
    ("GET", "/datasets?" + "&".join("muscle=Soleus" for _ in range(500)), JSON_ACCEPT),
    ("GET", "/datasets/../etc/passwd", BROWSER),
    ("GET", "/datasets/..%2F..%2Fetc%2Fpasswd", BROWSER),
    ("GET", "/datasets/DeepACSA_2022.exe", BROWSER),
    ("GET", "/datasets/DeepACSA_2022.ttl.ttl", BROWSER),
    ("GET", "/datasets/Deep.ACSA.2022", BROWSER),
    ("GET", "/datasets/.ttl", BROWSER),
    ("GET", "/datasets/" + "A" * 5000, BROWSER),
    ("GET", "/datasets/%E6%97%A5%E6%9C%AC", BROWSER),
    ("GET", "/datasets/a%3E%20%7B%20%3Fs%20%3Fp%20%3Fo%20%7D%20%7D%20%23", BROWSER),
    ("GET", "/catalog.exe", BROWSER),
    ("GET", "/catalog.", BROWSER),
    ("GET", "/ontology.xyz", BROWSER),
    ("GET", "/shapes.ttl/", BROWSER),
    ("GET", "/", {"Accept": "*/*;q=0"}),
    ("GET", "/datasets", {"Accept": "*/*;q=0"}),
    ("GET", "/datasets/DeepACSA_2022", {"Accept": "*/*;q=0"}),
    ("GET", "/catalog", {"Accept": "*/*;q=0"}),
    ("GET", "/ontology", {"Accept": "*/*;q=0"}),
    ("GET", "/shapes", {"Accept": "*/*;q=0"}),
    ("GET", "/about", {"Accept": "*/*;q=0"}),
    ("GET", "/datasets/DeepACSA_2022", {"Accept": ";;;,,,q=abc"}),
    ("GET", "/datasets/DeepACSA_2022", {"Accept": "text/turtle;q=2"}),
    ("GET", "/datasets/DeepACSA_2022", {"Accept": "x" * 8000}),
    ("GET", "/catalog", {"Accept": "application/json"}),
    ("HEAD", "/datasets/DeepACSA_2022", BROWSER),
    ("OPTIONS", "/datasets", BROWSER),
    ("DELETE", "/datasets/DeepACSA_2022", BROWSER),
    ("PUT", "/catalog", BROWSER),
]


# Names that are not valid in an IRI: they must not reach the SPARQL text of a store query.
ODD_REQUESTS += [("GET", path, BROWSER) for path in (
    "/datasets/%00", "/datasets/%00.ttl", "/datasets/a%3Eb", "/datasets/a%20b", "/datasets/a%22b",
    "/datasets/a%7Bb%7D", "/datasets/a%5Cb")]


def request_id(value) -> str:
    if isinstance(value, dict):
        return value.get("Accept", "")[:20] or "no-accept"
    return str(value)[:50]


@pytest.mark.parametrize(("method", "path", "headers"), ODD_REQUESTS, ids=request_id)
def test_odd_request(client, method, path, headers):
    response = client.open(path, method=method, headers=headers)
    assert response.status_code < 500


@pytest.mark.parametrize("path", ["/", "/datasets", "/datasets/DeepACSA_2022", "/catalog", "/ontology",
                                  "/shapes", "/about"])
def test_post_not_allowed(client, path):
    assert client.post(path, data={"muscle": "Soleus"}).status_code == 405


def test_catalog_intact_after_odd_requests(client):
    assert client.get("/datasets?format=json").get_json()["count"] == len(SEED)


@pytest.mark.parametrize("path", ["/ontology", "/shapes"])
def test_vocabulary_pages_unacceptable(client, path):
    response = client.get(path, headers={"Accept": "image/png"})
    assert response.status_code == 406


def test_active_filter_removal_links(client):
    html = client.get("/datasets?muscle=Soleus&labels=true", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert 'href="/datasets?labels=true"' in html
    assert 'href="/datasets?muscle=Soleus"' in html
    assert "Muscle: Soleus" in html


@pytest.mark.parametrize("part", ["record", "authors/1", "contact/1", "distributions/tiff"])
def test_dataset_part_redirects(client, part):
    response = client.get(f"/datasets/DeepACSA_2022/{part}", headers={"Accept": "text/turtle"})
    assert response.status_code == 303
    assert response.headers["Location"] == "/datasets/DeepACSA_2022"


def test_unknown_dataset_part_404(client):
    assert client.get("/datasets/DeepACSA_2022/distributions/exe").status_code == 404


@pytest.mark.parametrize(("path", "media_type"), [
    ("/ontology.jsonld", "application/ld+json"), ("/ontology.rdf", "application/rdf+xml"),
    ("/ontology.nt", "application/n-triples"), ("/shapes.jsonld", "application/ld+json"),
    ("/shapes.rdf", "application/rdf+xml"), ("/shapes.nt", "application/n-triples"),
])
def test_vocabulary_suffixes(client, path, media_type):
    response = client.get(path)
    assert response.status_code == 200
    assert response.mimetype == media_type
    assert len(Graph().parse(data=response.get_data(as_text=True), format=media_type)) > 100


def test_sex_filter_includes_mixed(client):
    expected = [name for name, record in SEED.items() if record.get("sex") in ("Male", "Female and male")]
    assert sorted(get_names(client, [("sex", "Male")])) == sorted(expected)


def test_text_search_finds_doi(client):
    assert get_names(client, [("q", "10.17605/OSF.IO/A3U4V")]) == ["DeepACSA_2022"]


def test_schema_org_links_are_iris(client):
    html = landing_page(client, "DeepACSA_2022")
    start = html.index('<script type="application/ld+json">') + len('<script type="application/ld+json">')
    document = html[start:html.index("</script>", start)]
    graph = Graph().parse(data=document, format="json-ld")
    dataset = URIRef("http://127.0.0.1:5000/datasets/DeepACSA_2022")
    schema = "https://schema.org/"
    assert graph.value(dataset, URIRef(schema + "license")) == URIRef("https://spdx.org/licenses/Apache-2.0")
    assert graph.value(dataset, URIRef(schema + "url")) == dataset


def test_error_for_rdf_client_is_text(client):
    response = client.get("/datasets/NoSuchDataset_2020", headers={"Accept": "text/turtle"})
    assert response.status_code == 404
    assert response.mimetype == "text/plain"
    assert "NoSuchDataset_2020" in response.get_data(as_text=True)
