"""The mapping from records to RDF: the exact triples of one record, round trips of the seed
catalog, and agreement of the seed catalog with the original UMUD entries."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.compare import graph_diff, to_isomorphic
from rdflib.namespace import FOAF, RDF, SKOS, XSD

from catalog.loader import read_records
from catalog.namespaces import ADMS, BIBO, DCAT, DCTERMS, HEALTHDCATAP, UMUD, VCARD
from catalog.rdf_mapping import graph_to_record, record_to_graph
from catalog.umud_json import parse_umud_json

from .conftest import BASE_URL, UMUD_RECORDS

SEED_DIR = Path(__file__).resolve().parent.parent / "catalog" / "seed"
SEED_FILES = sorted(SEED_DIR.glob("*.json"))
VOCAB = "https://w3id.org/umud/vocab/"


def test_seed_has_fifteen():
    assert len(SEED_FILES) == 15


def test_deepacsa_triples():
    record, _ = parse_umud_json(json.loads((UMUD_RECORDS / "DeepACSA_2022.json").read_text()), "x")
    graph = record_to_graph(record, BASE_URL)
    dataset = URIRef(f"{BASE_URL}/datasets/DeepACSA_2022")

    def objects(predicate):
        return set(graph.objects(dataset, predicate))

    assert objects(DCTERMS.identifier) == {Literal("DeepACSA_2022")}
    assert objects(DCTERMS.issued) == {Literal("2022", datatype=XSD.gYear)}
    assert objects(DCAT.version) == {Literal("1.0")}
    assert objects(DCAT.landingPage) == {URIRef("https://osf.io/a3u4v/")}
    assert objects(DCTERMS.license) == {URIRef("https://spdx.org/licenses/Apache-2.0")}
    assert objects(ADMS.identifier) == {URIRef("https://doi.org/10.17605/OSF.IO/A3U4V")}
    assert (URIRef("https://doi.org/10.17605/OSF.IO/A3U4V"), SKOS.notation, Literal("10.17605/OSF.IO/A3U4V")) in graph
    assert objects(UMUD.muscle) == {URIRef(VOCAB + "muscle/" + slug) for slug in (
        "vastus-lateralis", "gastrocnemius-lateralis", "gastrocnemius-medialis", "rectus-femoris")}
    assert objects(UMUD.muscleRegion) == {URIRef(VOCAB + "region/" + slug) for slug in ("distal", "proximal", "middle")}
    assert objects(UMUD.device) == {URIRef(VOCAB + "device/" + slug) for slug in (
        "siemens-acuson-juniper", "esaote-mylab-70", "aixplorer-ultimate")}
    assert objects(UMUD.transducer) == {Literal("12 L3 ACUSON"), Literal("Superline SL10-2"), Literal("47-mm Esaote")}
    assert objects(UMUD.dataType) == {URIRef(VOCAB + "data-type/image")}
    assert objects(UMUD.imageType) == {URIRef(VOCAB + "image-type/panoramic")}
    assert objects(UMUD.imagingPlane) == {URIRef(VOCAB + "plane/transverse")}
    assert objects(UMUD.imageCount) == {Literal(1444, datatype=XSD.integer)}
    assert objects(UMUD.videoCount) == set()
    assert objects(HEALTHDCATAP.numberOfRecords) == {Literal(1444, datatype=XSD.integer)}
    assert objects(UMUD.meanAge) == {Literal("38", datatype=XSD.decimal)}
    assert objects(UMUD.participantSex) == {URIRef(VOCAB + "sex/female-and-male")}
    assert objects(HEALTHDCATAP.numberOfUniqueIndividuals) == {Literal(153, datatype=XSD.integer)}
    assert objects(UMUD.labelsProvided) == {Literal(True)}
    assert objects(DCTERMS.isReferencedBy) == {URIRef(
        "https://journals.lww.com/acsm-msse/fulltext/2022/12000/deepacsa__automatic_segmentation_of.21.aspx")}

    distribution = URIRef(f"{dataset}/distributions/tiff")
    assert objects(DCAT.distribution) == {distribution}
    assert (distribution, DCTERMS.format, URIRef(VOCAB + "file-format/tiff")) in graph
    assert (distribution, DCAT.mediaType, URIRef("https://www.iana.org/assignments/media-types/image/tiff")) in graph
    assert (distribution, DCAT.accessURL, URIRef("https://osf.io/a3u4v/")) in graph

    contact = URIRef(f"{dataset}/contact/1")
    assert objects(DCAT.contactPoint) == {contact}
    assert (contact, VCARD.hasEmail, URIRef("mailto:paul.ritsche@unibas.ch")) in graph

    authors = list(Collection(graph, graph.value(dataset, BIBO.authorList)))
    assert [str(graph.value(agent, FOAF.name)) for agent in authors] == record_authors(record)
    assert authors[0] == URIRef(f"{dataset}/authors/1")
    assert objects(DCTERMS.creator) == set(authors)


def record_authors(record) -> list[str]:
    return [author.name for author in record.authors]


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda path: path.stem)
def test_seed_round_trip(path):
    records, _ = read_records(path)
    record = records[0]
    graph = record_to_graph(record, BASE_URL)
    again = graph_to_record(graph, URIRef(f"{BASE_URL}/datasets/{record.name}"))
    assert _comparable(again) == _comparable(record)


def _comparable(record) -> dict:
    data = record.model_dump()
    for key, value in data.items():
        if isinstance(value, list) and key != "authors":
            data[key] = sorted(value)
    return data


@pytest.mark.parametrize("path", SEED_FILES, ids=lambda path: path.stem)
def test_seed_states_umud_facts(path, umud_entries):
    """Check that the bundled record states the facts of the original UMUD entry, with its own descriptions."""
    seed, _ = read_records(path)
    by_name = {}
    for entry_path in umud_entries:
        entry = json.loads(entry_path.read_text())
        by_name[entry["DATASET_NAME"]] = entry
    original, _ = parse_umud_json(by_name[seed[0].name], "entry")
    own_words = {"title", "description", "label_description", "keywords"}
    seed_facts = {key: value for key, value in _comparable(seed[0]).items() if key not in own_words}
    original_facts = {key: value for key, value in _comparable(original).items() if key not in own_words}
    assert seed_facts == original_facts
    assert seed[0].description != original.description


def test_graph_is_deterministic():
    records, _ = read_records(SEED_FILES[0])
    from datetime import datetime, timezone

    moment = datetime(2026, 1, 1, tzinfo=timezone.utc)
    first = record_to_graph(records[0], BASE_URL, modified=moment)
    second = record_to_graph(records[0], BASE_URL, modified=moment)
    _, only_first, only_second = graph_diff(to_isomorphic(first), to_isomorphic(second))
    assert len(only_first) == 0
    assert len(only_second) == 0


def test_orcid_becomes_agent_iri():
    data = json.loads((SEED_DIR / "DeepACSA_2022.json").read_text())
    data["authors"][0] = {"name": data["authors"][0], "orcid": "https://orcid.org/0000-0002-1825-0097"}
    from catalog.record import parse_record

    record, _ = parse_record(data, "x")
    graph = record_to_graph(record, BASE_URL)
    agent = URIRef("https://orcid.org/0000-0002-1825-0097")
    assert (agent, RDF.type, FOAF.Person) in graph
    assert (URIRef(f"{BASE_URL}/datasets/DeepACSA_2022"), DCTERMS.creator, agent) in graph


def test_base_url_sets_iris():
    records, _ = read_records(SEED_DIR / "DeepACSA_2022.json")
    graph = record_to_graph(records[0], "https://umud.example.org/")
    assert (URIRef("https://umud.example.org/datasets/DeepACSA_2022"), RDF.type, DCAT.Dataset) in graph
    assert not isinstance(next(iter(graph.subjects(RDF.type, DCAT.Dataset))), BNode)
    assert Graph is not None
