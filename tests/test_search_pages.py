"""The search and explore pages: formats, paging, sorting, downloads and keeping the index in step."""

from __future__ import annotations

import csv
import io
import json

import pytest

from catalog.vocabulary import default_vocabulary
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF

from catalog.history import Change
from catalog.loader import read_records
from catalog.rdf_mapping import record_to_graph
from catalog.search_index import SearchIndex
from catalog.service import Catalog
from catalog.setup import open_catalog
from catalog.store import OxigraphStore

from .browser_support import (
    MUSCLE_GROUPS,
    SEED_DIR,
    names_in_range,
    names_with_muscle_in,
    names_with_text,
    names_with_value,
    parse_page,
    result_names,
    seed_records,
    sort_names,
)
from .conftest import BASE_URL

SEED = seed_records()
DCAT_DATASET = URIRef("http://www.w3.org/ns/dcat#Dataset")
BROWSER = {"Accept": "text/html"}


def identifiers(graph: Graph) -> list[str]:
    return sorted(str(graph.value(dataset, DCTERMS.identifier)) for dataset in graph.subjects(RDF.type, DCAT_DATASET))


# JSON: the page shown, its facets and links to the next page


def test_json_pages_cover_every_match_once(client):
    seen = []
    url = "/datasets?format=json&page_size=4&sort=name"
    pages = 0
    while url:
        document = client.get(url).get_json()
        assert document["total"] == len(SEED)
        assert len(document["datasets"]) <= 4
        seen += [entry["name"] for entry in document["datasets"]]
        url = document["next"] and document["next"].removeprefix("http://localhost")
        pages += 1
    assert pages == 4
    assert seen == sort_names(SEED)


def test_json_previous_link(client):
    document = client.get("/datasets?format=json&page_size=5&page=2").get_json()
    assert document["previous"].endswith("page_size=5")
    assert "page=" not in document["previous"]


def test_json_facets_follow_the_selection(client):
    document = client.get("/datasets?format=json&muscle=Soleus").get_json()
    soleus = names_with_value(SEED, "muscle", "Soleus")
    expected: dict[str, int] = {}
    for name in soleus:
        expected[SEED[name]["data_type"]] = expected.get(SEED[name]["data_type"], 0) + 1
    assert document["facets"]["data_type"] == expected
    # The muscle facet leaves out its own filter, so choosing Soleus keeps the other muscles' counts.
    assert document["facets"]["muscle"]["Biceps Brachii"] == len(names_with_value(SEED, "muscle", "Biceps Brachii"))


def test_json_entry_links(client):
    entry = client.get("/datasets?format=json&name=DeepACSA_2022").get_json()["datasets"][0]
    assert entry["iri"] == f"{BASE_URL}/datasets/DeepACSA_2022"
    assert entry["page"].endswith("/datasets/DeepACSA_2022")
    assert entry["muscle"] == sorted(SEED["DeepACSA_2022"]["muscle"])


# Downloads: every match, in each format, by parameter or Accept header


DOWNLOAD_QUERY = "muscle=Triceps+surae&age_min=25"


def expected_download() -> list[str]:
    in_group = set(names_with_muscle_in(SEED, MUSCLE_GROUPS["Triceps surae"]))
    return sorted(name for name in names_in_range(SEED, "age", 25, None) if name in in_group)


@pytest.mark.parametrize("rdf_format, media_type, rdflib_format", [
    ("jsonld", "application/ld+json", "json-ld"),
    ("ttl", "text/turtle", "turtle"),
])
def test_rdf_download_by_parameter_and_accept(client, rdf_format, media_type, rdflib_format):
    by_parameter = client.get(f"/datasets?{DOWNLOAD_QUERY}&format={rdf_format}&page_size=")
    by_accept = client.get(f"/datasets?{DOWNLOAD_QUERY}", headers={"Accept": media_type})
    for response in (by_parameter, by_accept):
        assert response.status_code == 200
        assert response.mimetype == media_type
        graph = Graph().parse(data=response.get_data(as_text=True), format=rdflib_format)
        assert identifiers(graph) == expected_download()


def test_download_holds_every_match_not_one_page(client):
    html = client.get("/datasets?page_size=2", headers=BROWSER).get_data(as_text=True)
    csv_link = next(href for href in parse_page(html).anchors if "format=csv" in href)
    assert "page_size" not in csv_link
    rows = list(csv.DictReader(io.StringIO(client.get(csv_link.replace("&amp;", "&")).get_data(as_text=True))))
    assert sorted(row["name"] for row in rows) == sorted(SEED)


def test_download_of_one_page(client):
    response = client.get("/datasets?format=csv&sort=name&page=2&page_size=5")
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [row["name"] for row in rows] == sort_names(SEED)[5:10]


def test_csv_download_has_every_field(client):
    rows = list(csv.DictReader(io.StringIO(client.get("/datasets?format=csv&name=DeepACSA_2022").get_data(as_text=True))))
    assert len(rows) == 1
    record = SEED["DeepACSA_2022"]
    assert rows[0]["link"] == record["link"]
    assert rows[0]["muscle"] == "; ".join(sorted(record["muscle"]))
    assert int(rows[0]["sample_size"]) == record["sample_size"]


def test_records_download_reloads(client, tmp_path):
    """format=records gives the full records as a JSON array that `umud load` reads back."""
    response = client.get(f"/datasets?{DOWNLOAD_QUERY}&format=records")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert "attachment" in response.headers["Content-Disposition"]
    path = tmp_path / "download.json"
    path.write_bytes(response.get_data())
    records, _warnings = read_records(path)
    assert sorted(record.name for record in records) == expected_download()
    assert {record.name: record.link for record in records} == {name: SEED[name]["link"] for name in expected_download()}


def test_empty_download(client):
    response = client.get("/datasets?format=ttl&muscle=Deltoid")
    assert response.status_code == 200
    assert identifiers(Graph().parse(data=response.get_data(as_text=True), format="turtle")) == []


# Sorting, paging and text


@pytest.mark.parametrize("sort, key, reverse", [
    ("year", "year", False), ("-year", "year", True), ("sample_size", "sample_size", False),
    ("-sample_size", "sample_size", True), ("-image_count", "image_count", True), ("age", "age", False),
])
def test_sort_orders(client, sort, key, reverse):
    names = [entry["name"] for entry in client.get(f"/datasets?format=json&sort={sort}").get_json()["datasets"]]
    known = [name for name in SEED if SEED[name].get(key) is not None]
    unknown = sort_names(name for name in SEED if SEED[name].get(key) is None)
    ordered = sorted(known, key=lambda name: name.casefold())
    ordered = sorted(ordered, key=lambda name: SEED[name][key], reverse=reverse)
    # Ties keep name order in both directions, and datasets without the value come last.
    ordered = sorted(ordered, key=lambda name: -SEED[name][key] if reverse else SEED[name][key])
    assert names == ordered + unknown


def test_text_defaults_to_relevance(client):
    document = client.get("/datasets?format=json&q=segmentation").get_json()
    assert document["sort"] == "relevance"
    assert sorted(entry["name"] for entry in document["datasets"]) == sorted(names_with_text(SEED, "segmentation"))
    assert document["datasets"][0]["name"] == "LuminousMultifidus_2020"


def test_html_pages(client):
    html = client.get("/datasets?page_size=4&page=2&sort=name", headers=BROWSER).get_data(as_text=True)
    assert result_names(html) == sort_names(SEED)[4:8]
    page = parse_page(html)
    assert "Page 2 of 4" in page.text_by_class["pager"][0]
    assert any("page=3" in href for href in page.anchors)


@pytest.mark.parametrize("query, named", [
    ("sort=size", "sort"),
    ("page=0", "page"),
    ("page=abc", "page"),
    ("page_size=100000", "page_size"),
    ("format=xml", "format"),
])
def test_bad_view_parameters(client, query, named):
    for headers in ({"Accept": "application/json"}, BROWSER):
        response = client.get(f"/datasets?{query}", headers=headers)
        assert response.status_code == 400
        assert named in response.get_data(as_text=True)


@pytest.mark.parametrize("query", [
    "page=99", "page=2&format=json", "page=2&format=csv", "page_size=4&page=5&format=ttl",
    "page=2&format=jsonld", "page=2&format=records", "q=no-such-word-anywhere&page=2",
])
def test_page_past_the_end(client, query):
    response = client.get(f"/datasets?{query}", headers=BROWSER)

    assert response.status_code == 404
    assert "past the last page" in response.get_data(as_text=True)


def test_last_page_of_a_download(client):
    response = client.get("/datasets?page_size=4&page=4&format=csv")

    assert response.status_code == 200
    assert response.headers["X-UMUD-Total"] == str(len(SEED) - 12)


def test_json_count_is_the_page(client):
    document = client.get("/datasets?format=json&page_size=4&page=2").get_json()
    assert (document["total"], document["count"], len(document["datasets"])) == (len(SEED), 4, 4)


def test_errors_of_format_json_are_json(client):
    response = client.get("/datasets?format=json&sort=bogus")
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    assert "sort" in response.get_json()["message"]


def test_unacceptable_format(client):
    response = client.get("/datasets", headers={"Accept": "image/png"})

    assert response.status_code == 406
    message = response.get_data(as_text=True)
    assert message.count("application/json") == 1
    assert "text/turtle" in message


def test_xhtml_is_served_as_html(client):
    response = client.get("/datasets", headers={"Accept": "application/xhtml+xml"})

    assert response.status_code == 200
    assert response.mimetype == "text/html"


@pytest.mark.parametrize("text", ['"fascicle"', "(fascicle),", "fascicle*", "\u201cfascicle\u201d"])
def test_punctuation_around_words_ignored(client, text):
    plain = client.get("/datasets?format=json&q=fascicle").get_json()

    quoted = client.get("/datasets", query_string={"format": "json", "q": text}).get_json()

    assert plain["total"] > 0
    assert [row["name"] for row in quoted["datasets"]] == [row["name"] for row in plain["datasets"]]


# Explore


def test_explore_json_counts(client):
    data = client.get("/explore?format=json&data_type=Image").get_json()
    images = names_with_value(SEED, "data_type", "Image")
    assert data["total"] == len(images)
    assert data["data_types"] == [{"data_type": "Image", "datasets": len(images),
                                   "images": sum(SEED[name].get("image_count") or 0 for name in images)}]
    per_muscle: dict[str, int] = {}
    for name in images:
        for muscle in SEED[name]["muscle"]:
            per_muscle[muscle] = per_muscle.get(muscle, 0) + 1
    assert {row["muscle"]: row["datasets"] for row in data["per_muscle"]} == per_muscle
    years: dict[int, int] = {}
    for name in images:
        years[SEED[name]["year"]] = years.get(SEED[name]["year"], 0) + 1
    assert {row["year"]: row["datasets"] for row in data["years"]} == years
    ages = [SEED[name]["age"] for name in images if SEED[name].get("age") is not None]
    assert sum(row["datasets"] for row in data["ages"]) == len(ages)
    for row in data["ages"]:
        assert row["datasets"] == sum(row["from"] <= age < row["to"] for age in ages)


def test_explore_html_has_a_table_for_every_chart(client):
    html = client.get("/explore", headers=BROWSER).get_data(as_text=True)
    page = parse_page(html)
    assert len(page.text_by_class["chart-figure"]) == 7
    assert len(page.text_by_class["chart-data"]) == 7
    assert result_names(html)[:3] == sort_names(SEED)[:3]
    assert "cdn" not in html.casefold()


def test_explore_empty(client):
    html = client.get("/explore?muscle=Deltoid", headers=BROWSER).get_data(as_text=True)
    assert "no-results" in parse_page(html).text_by_id


def test_untrusted_text_in_filters_is_escaped(client):
    html = client.get('/datasets?authors=<script>alert(1)</script>', headers=BROWSER).get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)" in html


# The index follows the store


@pytest.fixture()
def fresh_catalog(tmp_path):
    catalog = open_catalog(tmp_path / "store", BASE_URL)
    yield catalog, tmp_path
    catalog.store.close()


def seed_record(name: str):
    records, _warnings = read_records(SEED_DIR / f"{name}.json")
    return records[0]


def test_write_and_remove_update_the_index(fresh_catalog):
    catalog, tmp_path = fresh_catalog
    index = SearchIndex(tmp_path / "index.sqlite")
    assert catalog.attach_index(index).startswith("rebuilt with 15")
    record = seed_record("DeepACSA_2022").model_copy(update={"name": "DeepACSACopy_2022", "doi": None})
    revision = catalog.revision()

    catalog.write([(record.name, record_to_graph(record, BASE_URL, catalog.vocabulary))], Change("tests", "test record"))

    assert catalog.revision() != revision
    assert index.revision == catalog.revision()
    assert "DeepACSACopy_2022" in index.names()
    catalog.purge(["DeepACSACopy_2022"])
    assert "DeepACSACopy_2022" not in index.names()
    assert index.revision == catalog.revision()
    assert catalog.dataset_graph("DeepACSACopy_2022") is None


def test_index_file_is_reused_and_caught_up(fresh_catalog):
    """A restart reuses an index that reflects the store and updates one that does not."""
    catalog, tmp_path = fresh_catalog
    path = tmp_path / "index.sqlite"
    first = SearchIndex(path)
    catalog.attach_index(first)
    first.close()
    assert SearchIndex(path).sync(catalog) == "up to date"

    # Another writer (here a catalog without the index) changes one dataset and removes another.
    catalog.search_index = None
    changed = seed_record("FALLMUD_2017").model_copy(update={"sample_size": 999})
    catalog.write([(changed.name, record_to_graph(changed, BASE_URL, catalog.vocabulary))], Change("tests", "test record"))
    catalog.purge(["HEELRISE_2017"])

    again = SearchIndex(path)
    assert again.sync(catalog) == "updated 1 and removed 1 datasets"
    assert "HEELRISE_2017" not in again.names()
    query_rows = again.matching(parse("sample_size=999", catalog), catalog.vocabulary)
    assert [row["name"] for row in query_rows] == ["FALLMUD_2017"]


def test_server_catches_up_with_other_writers(fresh_catalog):
    """`refresh_index`, run by every search request, catches up with writes made past the index."""
    catalog, tmp_path = fresh_catalog
    catalog.attach_index(SearchIndex())
    other = Catalog(catalog.store, BASE_URL, catalog.vocabulary)
    other.purge(["GasFasTrack_2019"])
    assert "GasFasTrack_2019" in catalog.search_index.names()
    catalog.refresh_index()
    assert "GasFasTrack_2019" not in catalog.search_index.names()


def test_index_of_another_base_url_is_rebuilt(tmp_path):
    store_a = OxigraphStore(tmp_path / "a")
    catalog = Catalog(store_a, "http://a.example")
    catalog.prepare()
    record = seed_record("DeepACSA_2022")
    catalog.write([(record.name, record_to_graph(record, "http://a.example", catalog.vocabulary))], Change("tests", "test record"))
    path = tmp_path / "index.sqlite"
    SearchIndex(path).rebuild(catalog)
    store_a.close()

    other = open_catalog(tmp_path / "b", BASE_URL)
    try:
        assert other.attach_index(SearchIndex(path)) == "rebuilt with 15 datasets"
    finally:
        other.store.close()


def test_old_index_file_is_replaced(tmp_path, catalog):
    path = tmp_path / "old.sqlite"
    import sqlite3

    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE datasets (id INTEGER PRIMARY KEY, name TEXT)")
    connection.commit()
    connection.close()
    index = SearchIndex(path)
    assert index.sync(catalog).startswith("rebuilt")
    assert len(index.names()) == len(catalog.names())


def parse(query: str, catalog):
    from urllib.parse import parse_qsl

    from catalog.search import parse_query

    return parse_query(parse_qsl(query), catalog)


def test_summary_rows_are_json(catalog):
    index = SearchIndex()
    index.rebuild(catalog)
    row = index.matching(parse("name=DeepACSA_2022", catalog), catalog.vocabulary)[0]
    assert json.loads(json.dumps(row)) == row
    assert row["title"] == SEED["DeepACSA_2022"]["title"]


def test_file_extension_with_dot(client):
    plain = client.get("/datasets?format=json&file_format=tiff").get_json()

    dotted = client.get("/datasets?format=json&file_format=.tiff").get_json()

    assert plain["total"] > 0
    assert dotted["total"] == plain["total"]


def test_past_the_end_keeps_the_media_type(client):
    page = client.get("/datasets?page=2", headers={"Accept": "application/xhtml+xml"})
    download = client.get("/datasets?page=2&format=csv")

    assert (page.status_code, page.mimetype) == (404, "text/html")
    assert (download.status_code, download.mimetype) == (404, "text/plain")
    assert "past the last page" in download.get_data(as_text=True)


def test_any_application_type_gets_json(client):
    response = client.get("/datasets", headers={"Accept": "application/*"})

    assert response.status_code == 200
    assert response.mimetype == "application/json"


def test_manufacturer_finds_its_devices(client):
    models = [concept.label for concept in default_vocabulary().concepts("device")
              if concept.manufacturer == "Esaote"]
    any_model = client.get("/datasets", query_string=[("format", "json"), *(("device", model) for model in models)]).get_json()

    maker = client.get("/datasets?format=json&device=Esaote").get_json()

    assert maker["total"] > 0
    assert [row["name"] for row in maker["datasets"]] == [row["name"] for row in any_model["datasets"]]
    assert maker["facets"]["device"]["Esaote"] == maker["total"]


def test_json_facet_groups_nest_the_counts(client):
    document = client.get("/datasets?format=json").get_json()

    groups = document["facet_groups"]

    assert "Esaote MyLab 70" in groups["device"]["Esaote"]
    assert "Soleus" in groups["muscle"]["Triceps surae"]
    assert "Esaote" not in document["facet_groups"].get("sex", {})


@pytest.mark.parametrize("url, text", [
    ("/datasets", 'id="sex-hint"'),
    ("/datasets", "participants of both sexes"),
    ("/datasets?labels=true", "Labels provided: Yes"),
    ("/explore?q=DeepACSA", "dataset matches."),
    ("/datasets", '<input type="checkbox" name="device" value="Esaote"'),
    ("/datasets", "find an ultrasound device"),
    ("/datasets", "find a muscle"),
])
def test_page_wording(client, url, text):
    page = client.get(url, headers=BROWSER).get_data(as_text=True)

    assert text in page
