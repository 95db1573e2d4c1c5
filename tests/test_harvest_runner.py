"""Harvesting into the catalog end to end: `umud harvest` and `umud candidates` against recorded
API responses served on 127.0.0.1, the exact triples a record yields, curated values surviving a
re-harvest, and an interrupted run that ends like an uninterrupted one."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph as ox
import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic
from rdflib.namespace import FOAF, PROV, XSD

from catalog.namespaces import BIBO, DCAT, DCTERMS, UMUD
from harvesters.datacite import parse_datacite_doi
from harvesters.mapping import harvested_graph, suggest_concepts
from harvesters.model import HarvestedRecord
from harvesters.oai import parse_oai_record
from harvesters.osf import parse_osf_node
from harvesters.zenodo import parse_zenodo_record
from catalog.validation import validate_graph
from catalog.vocabulary import default_vocabulary

from .conftest import SHARED

FIXTURES = SHARED / "fixtures" / "real-api"
ZENODO_DATASET = FIXTURES / "zenodo-legacy" / "record-7834392-dataset-covid19-twitter-files-orcid-versions.json"
DATACITE_MENDELEY_STAND_IN = FIXTURES / "datacite" / "doi-10.5061-dryad.8515-dataset-include-media-client.json"
OAI_FIRST_PAGE = FIXTURES / "zenodo-oai" / "listrecords-datacite-first-page-50-records.xml"
OAI_SECOND_PAGE = FIXTURES / "zenodo-oai" / "listrecords-datacite-2024-01-trimmed-3-records.xml"
DATASET = URIRef("http://127.0.0.1:5000/datasets/Probe_2024")
TIMES = {str(PROV.generatedAtTime), str(PROV.endedAtTime)}


@pytest.fixture()
def httpserver(httpserver_ipv4):
    """Return the local API, which responds 404 to paths it does not serve, as the real APIs do."""
    httpserver_ipv4.no_handler_status_code = 404
    yield httpserver_ipv4
    httpserver_ipv4.no_handler_status_code = 500


def umud(*arguments, timeout: float = 180) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "catalog.cli", *map(str, arguments)]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout)


def api_options(httpserver) -> list[str]:
    root = httpserver.url_for("").rstrip("/")
    # The polite pace for public APIs would only slow the tests down against a local server.
    return ["--zenodo-url", root, "--osf-url", f"{root}/osf", "--datacite-url", root, "--oai-url", f"{root}/oai2d",
            "--no-progress", "--requests-per-minute", "6000"]


# The exact triples of one record


def test_zenodo_record_triples():
    record = parse_zenodo_record(json.loads(ZENODO_DATASET.read_text()), "https://zenodo.org/api/records/7834392")
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    graph = harvested_graph(record, DATASET, moment)
    name = URIRef(f"{DATASET}/harvest/zenodo")

    assert graph.value(DATASET, DCTERMS.title) == Literal(record.title)
    assert set(graph.objects(DATASET, DCTERMS.isVersionOf)) == {URIRef("https://doi.org/10.5281/zenodo.3723939")}
    assert URIRef("https://arxiv.org/abs/2004.03688") in set(graph.objects(DATASET, DCTERMS.isReferencedBy))
    authors = list(Collection(graph, graph.value(DATASET, BIBO.authorList)))
    assert authors[0] == URIRef("https://orcid.org/0000-0001-8499-824X")
    assert graph.value(authors[0], FOAF.name) == Literal("Banda, Juan M.")
    assert len(authors) == 9
    distributions = set(graph.objects(DATASET, DCAT.distribution))
    assert len(distributions) == len(record.files) == 24
    first = URIRef(f"{name}/files/1")
    assert graph.value(first, DCTERMS.title) == Literal(record.files[0].name)
    assert graph.value(first, DCAT.byteSize) == Literal(record.files[0].size, datatype=XSD.integer)
    assert graph.value(name, PROV.wasDerivedFrom) == URIRef("https://zenodo.org/api/records/7834392")
    assert graph.value(name, PROV.generatedAtTime) == Literal("2026-01-02T03:04:05+00:00", datatype=XSD.dateTime)
    assert graph.value(name, UMUD.harvestSource) == Literal("zenodo")
    assert (DATASET, None, DCAT.Dataset) not in graph


def _dataset_fixtures():
    records = sorted((FIXTURES / "zenodo-legacy").glob("record-*.json")) + sorted((FIXTURES / "zenodo-rdm").glob("*.json"))
    for path in records:
        data = json.loads(path.read_text())
        for number, hit in enumerate(data["hits"]["hits"] if "hits" in data else [data]):
            yield pytest.param(lambda hit=hit: parse_zenodo_record(hit, "https://zenodo.org/api/records/x"),
                               id=f"{path.name}-{number}")
    for path in sorted((FIXTURES / "zenodo-legacy").glob("search-*.json")):
        for number, hit in enumerate(json.loads(path.read_text())["hits"]["hits"]):
            yield pytest.param(lambda hit=hit: parse_zenodo_record(hit, "https://zenodo.org/api/records/x"),
                               id=f"{path.name}-{number}")
    for path in sorted((FIXTURES / "datacite").glob("doi-*.json")):
        yield pytest.param(lambda path=path: parse_datacite_doi(json.loads(path.read_text()), "https://api.datacite.org/dois/x"), id=path.name)
    for path in sorted((FIXTURES / "osf").glob("*node-*.json")) + sorted((FIXTURES / "osf").glob("registration-*.json")):
        data = json.loads(path.read_text())
        if isinstance(data.get("data"), dict) and "attributes" in data["data"] and "title" in data["data"]["attributes"]:
            yield pytest.param(lambda data=data: parse_osf_node(data["data"], "https://api.osf.io/v2/nodes/x/"), id=path.name)


@pytest.mark.parametrize("parse", list(_dataset_fixtures()))
def test_fixture_conforms_to_harvest_shapes(parse):
    record = parse()
    graph = harvested_graph(record, DATASET, datetime.now(timezone.utc))
    report = validate_graph(graph, shapes="harvest")
    assert report.violations == []
    assert len(set(graph.objects(DATASET, DCAT.distribution))) == len(record.files)


def test_oai_records_conform():
    import xml.etree.ElementTree as ET

    root = ET.parse(OAI_FIRST_PAGE).getroot()
    records = [element for element in root.iter() if element.tag.endswith("}record")]
    assert len(records) == 50
    for element in records:
        record = parse_oai_record(element, "https://zenodo.org/oai2d?verb=ListRecords")
        report = validate_graph(harvested_graph(record, DATASET, datetime.now(timezone.utc)), shapes="harvest")
        assert report.violations == [], record.source_id


# The command line against a served API


def test_zenodo_record_becomes_candidate(httpserver, tmp_path):
    httpserver.expect_request("/api/records/7834392").respond_with_data(ZENODO_DATASET.read_bytes(),
                                                                        content_type="application/json")
    store = tmp_path / "store"
    finished = umud("harvest", "zenodo", "7834392", "--store", store, *api_options(httpserver))
    assert finished.returncode == 0, finished.stderr
    assert ("harvested from zenodo: 1 new, 0 updated, 0 unchanged, 1 new candidates, 0 skipped (not data), 0 failed"
            in finished.stdout)
    listed = umud("candidates", "list", "--store", store)
    assert "zenodo-7834392\tpending\tzenodo\tA large-scale COVID-19" in listed.stdout
    assert umud("export", "--store", store, "--format", "json").stdout.strip() == "[]"


def test_candidate_accept_and_reject(httpserver, tmp_path):
    httpserver.expect_request("/api/records/7834392").respond_with_data(ZENODO_DATASET.read_bytes(),
                                                                        content_type="application/json")
    httpserver.expect_request("/dois/10.5061/dryad.8515").respond_with_data(
        DATACITE_MENDELEY_STAND_IN.read_bytes(), content_type="application/json")
    store = tmp_path / "store"
    assert umud("harvest", "doi", "10.5281/zenodo.7834392", "10.5061/dryad.8515", "--store", store,
                *api_options(httpserver)).returncode == 0

    missing = umud("candidates", "accept", "zenodo-7834392", "--store", store)
    assert missing.returncode == 1
    assert "muscle" in missing.stderr

    accepted = umud("candidates", "accept", "zenodo-7834392", "--store", store, "--name", "CovidProbe_2023",
                    "--set", "muscle=Soleus", "--set", "data_type=Image", "--set", "sample_size=5",
                    "--set", "license=CC0-1.0", "--set", "description=" + "A stand-in record. " * 5)
    assert accepted.returncode == 0, accepted.stderr
    exported = json.loads(umud("export", "--store", store, "--format", "json").stdout)
    assert [record["name"] for record in exported] == ["CovidProbe_2023"]
    assert exported[0]["muscle"] == ["Soleus"]
    assert exported[0]["doi"] == "10.5281/zenodo.7834392"

    rejected = umud("candidates", "reject", "datacite-10-5061-dryad-8515", "--store", store, "--reason", "not ultrasound")
    assert rejected.returncode == 0, rejected.stderr
    assert umud("candidates", "list", "--store", store).stdout.strip().endswith("0 candidates")


def test_refresh_keeps_curated_values(httpserver, tmp_path):
    # GasFasTrack_2019 has the Zenodo concept DOI 10.5281/zenodo.2598552, so a recorded Zenodo record is served there.
    httpserver.expect_request("/api/records/2598552").respond_with_data(ZENODO_DATASET.read_bytes(),
                                                                        content_type="application/json")
    store = tmp_path / "store"
    seed = sorted((Path(__file__).resolve().parent.parent / "catalog" / "seed").glob("*.json"))
    assert umud("load", "--store", store, *seed).returncode == 0
    before = umud("export", "--store", store, "--format", "json").stdout
    assert len(json.loads(before)) == 15

    first = umud("harvest", "refresh", "--store", store, *api_options(httpserver))
    assert "harvested from refresh: 1 new, 0 updated, 0 unchanged, 0 new candidates" in first.stdout
    assert "failed: http://127.0.0.1" in first.stdout
    assert umud("export", "--store", store, "--format", "json").stdout == before

    report = umud("harvest", "report", "--store", store)
    assert "GasFasTrack_2019: year: curated 2019, zenodo says 2023" in report.stdout

    again = umud("harvest", "refresh", "--store", store, *api_options(httpserver))
    assert "harvested from refresh: 0 new, 0 updated, 1 unchanged" in again.stdout

    # A curator settles the year: the report follows at once, without another harvest.
    edited = json.loads((seed[0].parent / "GasFasTrack_2019.json").read_text())
    edited["year"] = 2023
    edited_path = tmp_path / "GasFasTrack_2019.json"
    edited_path.write_text(json.dumps(edited))
    assert umud("load", "--store", store, edited_path).returncode == 0
    report = umud("harvest", "report", "--store", store)
    assert "year:" not in report.stdout
    assert "GasFasTrack_2019: version: curated 1.0, zenodo says" in report.stdout


# Interrupted runs


def _serve_oai(httpserver, second_page_requested=None):
    first = OAI_FIRST_PAGE.read_text()
    token = re.search(r"<resumptionToken[^>]*>([^<]+)</resumptionToken>", first).group(1)
    last = re.sub(r"<resumptionToken[^>]*>[^<]*</resumptionToken>", "<resumptionToken/>", OAI_SECOND_PAGE.read_text())

    def second_page(request):
        from werkzeug import Response

        if second_page_requested is not None:
            second_page_requested.set()
            time.sleep(5)
        return Response(last, content_type="text/xml")

    httpserver.expect_request("/oai2d", query_string={"verb": "ListRecords", "metadataPrefix": "datacite"}) \
        .respond_with_data(first, content_type="text/xml")
    httpserver.expect_request("/oai2d", query_string={"verb": "ListRecords", "resumptionToken": token}) \
        .respond_with_handler(second_page)


def _store_graphs(path: Path) -> dict[str, Graph]:
    """Read a store into graphs by name, leaving out harvest times, which differ between runs."""
    from catalog.store import to_rdflib

    store = ox.Store.read_only(str(path))
    graphs: dict[str, Graph] = defaultdict(Graph)
    for quad in store:
        name = str(quad.graph_name)
        if quad.predicate.value in TIMES or (quad.predicate.value == str(DCTERMS.modified) and name.endswith("/catalog")):
            continue
        graphs[name].add((to_rdflib(quad.subject), to_rdflib(quad.predicate), to_rdflib(quad.object)))
    return graphs


def _assert_same_store(left: Path, right: Path) -> None:
    first, second = _store_graphs(left), _store_graphs(right)
    assert sorted(first) == sorted(second)
    for name in first:
        assert isomorphic(first[name], second[name]), name


def test_interrupted_run_finishes_the_job(httpserver, tmp_path):
    _serve_oai(httpserver)
    whole, interrupted = tmp_path / "whole", tmp_path / "interrupted"
    assert umud("harvest", "oai", "--store", whole, *api_options(httpserver)).returncode == 0

    partial = umud("harvest", "oai", "--store", interrupted, "--max", "10", *api_options(httpserver))
    assert "6 new, 0 updated, 0 unchanged, 6 new candidates, 4 skipped (not data)" in partial.stdout
    finished = umud("harvest", "oai", "--store", interrupted, *api_options(httpserver))
    assert "25 new, 0 updated, 6 unchanged, 25 new candidates, 22 skipped (not data), 0 failed" in finished.stdout
    assert umud("candidates", "list", "--store", interrupted).stdout.strip().endswith("31 candidates")
    _assert_same_store(whole, interrupted)


def test_killed_run_leaves_store_consistent(httpserver, tmp_path):
    import threading

    second_page_requested = threading.Event()
    _serve_oai(httpserver, second_page_requested)
    store = tmp_path / "killed"
    command = [sys.executable, "-m", "catalog.cli", "harvest", "oai", "--store", str(store), *api_options(httpserver)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert second_page_requested.wait(timeout=60), "the harvest never reached the second page"
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)

    httpserver.clear()
    _serve_oai(httpserver)
    finished = umud("harvest", "oai", "--store", store, *api_options(httpserver))
    counts = re.search(r"(\d+) new, 0 updated, (\d+) unchanged", finished.stdout)
    assert counts, finished.stdout
    assert int(counts.group(1)) + int(counts.group(2)) == 31
    assert int(counts.group(2)) > 0

    whole = tmp_path / "whole"
    assert umud("harvest", "oai", "--store", whole, *api_options(httpserver)).returncode == 0
    _assert_same_store(whole, store)


def test_invalid_from_date_rejected(httpserver, tmp_path):
    finished = umud("harvest", "oai", "--store", tmp_path / "store", "--from", "2026-13-45", *api_options(httpserver))
    assert finished.returncode == 2
    assert "invalid from date '2026-13-45'" in finished.stderr
    assert len(httpserver.log) == 0


def test_unknown_doi_reported(httpserver, tmp_path):
    finished = umud("harvest", "doi", "10.1234/nothing.here", "not-a-doi", "--store", tmp_path / "store",
                    *api_options(httpserver))
    assert finished.returncode == 1
    assert "0 new, 0 updated, 0 unchanged, 0 new candidates, 0 skipped (not data), 2 failed" in finished.stdout
    assert "/dois/10.1234/nothing.here" in finished.stdout
    assert "failed: not-a-doi:" in finished.stdout


def test_accept_never_overwrites(httpserver, tmp_path):
    httpserver.expect_request("/api/records/7834392").respond_with_data(ZENODO_DATASET.read_bytes(),
                                                                        content_type="application/json")
    store = tmp_path / "store"
    seed = Path(__file__).resolve().parent.parent / "catalog" / "seed" / "GasFasTrack_2019.json"
    assert umud("load", "--store", store, seed).returncode == 0
    assert umud("harvest", "zenodo", "7834392", "--store", store, *api_options(httpserver)).returncode == 0
    values = ["--set", "muscle=Soleus", "--set", "data_type=Image", "--set", "sample_size=5",
              "--set", "license=CC0-1.0", "--set", "description=" + "A stand-in record. " * 5]

    name_in_use = umud("candidates", "accept", "zenodo-7834392", "--store", store, "--name", "GasFasTrack_2019", *values)
    assert name_in_use.returncode == 1
    assert "a dataset named GasFasTrack_2019 is in the catalog already" in name_in_use.stderr
    assert json.loads(umud("export", "--store", store, "--format", "json").stdout)[0]["doi"] == "10.5281/zenodo.2598552"

    assert umud("candidates", "accept", "zenodo-7834392", "--store", store, "--name", "Probe_2023", *values).returncode == 0
    again = umud("candidates", "accept", "zenodo-7834392", "--store", store, "--name", "Probe2_2023", *values)
    assert "candidate zenodo-7834392 is accepted already (published as Probe_2023)" in again.stderr
    rejected = umud("candidates", "reject", "zenodo-7834392", "--store", store, "--reason", "late")
    assert rejected.returncode == 1
    unknown = umud("candidates", "accept", "zenodo-1", "--store", store, *values)
    assert "there is no candidate zenodo-1" in unknown.stderr


def test_zenodo_doi_falls_back_to_datacite(httpserver, tmp_path):
    datacite = FIXTURES / "datacite" / "doi-10.5281-zenodo.1196821-dataset-orcid-related-include-media-client.json"
    httpserver.expect_request("/dois/10.5281/zenodo.1196821").respond_with_data(datacite.read_bytes(),
                                                                              content_type="application/json")
    finished = umud("harvest", "doi", "10.5281/zenodo.1196821", "--store", tmp_path / "store", *api_options(httpserver))
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert "1 new candidates" in finished.stdout
    assert [entry.path for entry, _ in httpserver.log] == ["/api/records/1196821", "/dois/10.5281/zenodo.1196821"]


def test_device_suggestions_leave_out_manufacturers():
    vocabulary = default_vocabulary()
    record = HarvestedRecord(source="zenodo", source_id="1", api_url="http://127.0.0.1:9/records/1",
                             title="Calf muscle images",
                             description="<p>Recorded with an Esaote MyLab 70; Esaote makes the probe too.</p>")

    suggested = suggest_concepts(record, vocabulary)

    assert suggested["device"] == [vocabulary.concept("device", "Esaote MyLab 70").iri]
