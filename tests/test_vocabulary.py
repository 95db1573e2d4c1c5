"""The controlled vocabularies: every value of the original app resolves, UBERON links match the
verified table, and muscle groups contain the muscles a researcher expects."""

from __future__ import annotations

import csv

import pytest
from rdflib import URIRef
from rdflib.namespace import RDF, SKOS

from catalog.fields import CONCEPT_FIELDS
from catalog.vocabulary import default_vocabulary

from .conftest import SHARED

UBERON_TABLE = SHARED / "vocab" / "muscles-uberon.tsv"
SCHEMES = ("muscle", "region", "device", "data-type", "image-type", "plane", "sex", "file-format", "license")


@pytest.fixture(scope="module")
def vocabulary():
    return default_vocabulary()


def test_every_concept_has_label_definition_scheme(vocabulary):
    graph = vocabulary.graph
    concepts = set(graph.subjects(RDF.type, SKOS.Concept))
    assert len(concepts) > 150
    for concept in concepts:
        assert graph.value(concept, SKOS.prefLabel) is not None, concept
        assert graph.value(concept, SKOS.definition) is not None, concept
        assert graph.value(concept, SKOS.inScheme) is not None, concept


@pytest.mark.parametrize("scheme", SCHEMES)
def test_scheme_declared(vocabulary, scheme):
    assert vocabulary.concepts(scheme), f"no concepts in scheme {scheme}"
    iri = URIRef(f"https://w3id.org/umud/vocab/{scheme}")
    assert (iri, RDF.type, SKOS.ConceptScheme) in vocabulary.graph


def test_original_app_values_resolve(vocabulary, umud_entries):
    import json

    for path in umud_entries:
        entry = json.loads(path.read_text())
        for field in CONCEPT_FIELDS:
            values = entry.get(field.umud_key) or []
            for value in values if isinstance(values, list) else [values]:
                if value:
                    assert vocabulary.concept(field.scheme, value) is not None, f"{path.name}: {field.umud_key}={value!r}"


def test_app_lists_are_complete(vocabulary):
    assert len([concept for concept in vocabulary.concepts("muscle") if "Muscle" in concept.kinds]) == 32
    assert len([concept for concept in vocabulary.concepts("device") if not concept.is_group]) == 64
    for extension in ("dicom", "nifti", "nrrd", "mha", "vtk", "gipl", "tvd", "tif", "jpg", "mp4", "avi"):
        assert vocabulary.concept("file-format", extension) is not None, extension


def test_device_has_manufacturer(vocabulary):
    for device in vocabulary.concepts("device"):
        if not device.is_group:
            assert device.manufacturer, device.label
            assert vocabulary.concept("device", device.manufacturer).iri in device.broader


def test_manufacturer_groups_its_devices(vocabulary):
    esaote = vocabulary.concept("device", "Esaote")

    below = {vocabulary.concepts_by_iri[iri].label for iri in vocabulary.narrower_closure(esaote.iri)} - {"Esaote"}

    assert esaote.is_group
    assert "Esaote MyLab 70" in below
    assert all(label.startswith("Esaote ") for label in below)
    assert len([concept for concept in vocabulary.concepts("device") if concept.is_group]) == 16


def test_licences_are_spdx(vocabulary):
    cc_by = vocabulary.concept("license", "Creative Commons Attribution 4.0 International (CC BY 4.0)")
    assert cc_by.iri == "https://spdx.org/licenses/CC-BY-4.0"
    assert cc_by.notation == "CC-BY-4.0"
    for licence in vocabulary.concepts("license"):
        assert licence.iri == f"https://spdx.org/licenses/{licence.notation}"


def test_file_format_media_types(vocabulary):
    assert vocabulary.concept("file-format", "tif").media_type == \
        "https://www.iana.org/assignments/media-types/image/tiff"
    assert vocabulary.concept("file-format", "mp4").media_type == \
        "https://www.iana.org/assignments/media-types/video/mp4"


def test_uberon_links_match_verified_table(vocabulary):
    with UBERON_TABLE.open() as table:
        rows = {row["catalog_name"]: row["uberon_id"] for row in csv.DictReader(table, delimiter="\t")}
    checked = 0
    for muscle in vocabulary.concepts("muscle"):
        if "Muscle" not in muscle.kinds:
            continue
        matches = [match for match in muscle.exact_matches if "UBERON_" in match]
        table_id = rows.get(muscle.label, "")
        if muscle.label == "Peroneus Longus":
            table_id = rows["Peroneus Longus (fibularis longus)"]
        if muscle.label == "Extensor Carpi Radialis":
            table_id = rows["Extensor Carpi Radialis (longus/brevis)"]
        expected = [f"http://purl.obolibrary.org/obo/{table_id.replace(':', '_')}"] if table_id else []
        assert matches == expected, muscle.label
        checked += 1
    assert checked == 32


@pytest.mark.parametrize(("group", "members"), [
    ("Triceps surae", {"Soleus", "Gastrocnemius Medialis", "Gastrocnemius Lateralis"}),
    ("Lower leg", {"Soleus", "Gastrocnemius Medialis", "Tibialis Anterior", "Peroneus Longus"}),
    ("Thigh muscles", {"Rectus Femoris", "Vastus Lateralis", "Biceps Femoris", "Semitendinosus"}),
    ("Forearm muscles", {"Flexor Digitorum Profundus", "Pronator Teres", "Supinator"}),
])
def test_group_contains_muscles(vocabulary, group, members):
    concept = vocabulary.concept("muscle", group)
    inside = {vocabulary.concepts_by_iri[iri].label for iri in vocabulary.narrower_closure(concept.iri)}
    assert members <= inside


def test_triceps_surae_excludes_thigh(vocabulary):
    concept = vocabulary.concept("muscle", "Triceps surae")
    inside = {vocabulary.concepts_by_iri[iri].label for iri in vocabulary.narrower_closure(concept.iri)}
    assert "Vastus Lateralis" not in inside
