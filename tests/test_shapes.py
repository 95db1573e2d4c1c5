"""The SHACL shapes: they agree with the field table, the whole bundled catalog conforms, and
each missing or malformed field gives the violation or warning a contributor needs."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib import BNode, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import RDF, SH, XSD

from catalog.fields import FIELDS
from catalog.loader import read_records
from catalog.namespaces import DCAT, DCTERMS, HEALTHDCATAP, UMUD
from catalog.rdf_mapping import record_to_graph
from catalog.validation import shapes_graph, validate_graph

from .conftest import BASE_URL

SEED_FILES = sorted((Path(__file__).resolve().parent.parent / "catalog" / "seed").glob("*.json"))
DATASET = URIRef(f"{BASE_URL}/datasets/DeepACSA_2022")


def _path(graph, node) -> tuple:
    """A property path as a tuple of IRIs (a sequence path has several)."""
    if isinstance(node, URIRef):
        return (node,)
    return tuple(Collection(graph, node))


def _property_shapes():
    """Every property shape, including those inside sh:or conditions.

    Shapes under sh:not describe what must be absent and are left out. A member of an sh:or
    reports with the severity of the shape that contains the sh:or.
    """
    graph = shapes_graph()
    negated = set(graph.objects(None, SH["not"]))
    enclosing = {member: holder for holder, members in graph.subject_objects(SH["or"])
                 for member in Collection(graph, members)}
    for property_shape in set(graph.subjects(SH.path, None)) - negated:
        reporter = enclosing.get(property_shape, property_shape)
        yield {
                "path": _path(graph, graph.value(property_shape, SH.path)),
                "severity": graph.value(reporter, SH.severity),
                "min_count": int(graph.value(property_shape, SH.minCount) or 0),
                "message": graph.value(property_shape, SH.message),
            }


def _field_path(field) -> tuple:
    if field.name == "file_format":
        return (DCAT.distribution, DCTERMS.format)
    return (field.predicate,)


@pytest.mark.parametrize("field", FIELDS, ids=lambda field: field.name)
def test_shapes_agree_with_fields(field):
    shapes = [shape for shape in _property_shapes() if shape["path"] == _field_path(field)]
    demanding = [shape for shape in shapes if shape["min_count"] >= 1]
    severities = {shape["severity"] for shape in demanding}
    if field.level == "required":
        assert severities == {SH.Violation}, field.name
    elif field.level == "recommended":
        assert severities == {SH.Warning}, field.name
    else:
        assert severities == set(), field.name


def test_every_property_shape_has_message():
    for shape in _property_shapes():
        assert shape["message"] is not None, shape["path"]
        assert shape["severity"] is not None, shape["path"]


@pytest.fixture(scope="module")
def seed_graphs():
    graphs = {}
    for path in SEED_FILES:
        records, _ = read_records(path)
        graphs[records[0].name] = record_to_graph(records[0], BASE_URL)
    return graphs


def test_seed_catalog_conforms(seed_graphs):
    merged = sum(seed_graphs.values(), start=next(iter(seed_graphs.values())).__class__())
    report = validate_graph(merged)
    assert report.violations == []
    assert report.conforms


def _deepacsa(seed_graphs):
    graph = seed_graphs["DeepACSA_2022"].__class__()
    for triple in seed_graphs["DeepACSA_2022"]:
        graph.add(triple)
    return graph


@pytest.mark.parametrize("predicate", [
    DCTERMS.identifier, DCTERMS.title, DCTERMS.description, DCAT.landingPage, DCTERMS.license,
    DCTERMS.creator, UMUD.dataType, UMUD.muscle, HEALTHDCATAP.numberOfUniqueIndividuals, DCTERMS.issued,
    DCAT.distribution,
])
def test_missing_required_is_violation(seed_graphs, predicate):
    graph = _deepacsa(seed_graphs)
    graph.remove((DATASET, predicate, None))
    report = validate_graph(graph)
    assert not report.conforms
    assert any(result.path == str(predicate) for result in report.violations), [str(r) for r in report.violations]


@pytest.mark.parametrize("predicate", [
    DCAT.version, DCTERMS.isReferencedBy, DCAT.contactPoint, UMUD.muscleRegion, UMUD.device,
    UMUD.imagingPlane, UMUD.participantSex, UMUD.meanAge, UMUD.labelsProvided,
])
def test_missing_recommended_is_warning(seed_graphs, predicate):
    graph = _deepacsa(seed_graphs)
    graph.remove((DATASET, predicate, None))
    report = validate_graph(graph)
    assert report.conforms
    assert any(result.path == str(predicate) for result in report.warnings), [str(r) for r in report.warnings]


@pytest.mark.parametrize(("predicate", "value"), [
    (HEALTHDCATAP.numberOfUniqueIndividuals, Literal(-3, datatype=XSD.integer)),
    (DCTERMS.issued, Literal("1999", datatype=XSD.gYear)),
    (UMUD.muscle, URIRef("https://w3id.org/umud/vocab/device/esaote-mylab-70")),
    (DCTERMS.license, URIRef("https://spdx.org/licenses/NOT-A-LICENCE")),
    (DCTERMS.description, Literal("Too short.", lang="en")),
    (UMUD.meanAge, Literal("300", datatype=XSD.decimal)),
])
def test_malformed_value_is_violation(seed_graphs, predicate, value):
    graph = _deepacsa(seed_graphs)
    if predicate in (DCTERMS.description, UMUD.meanAge, HEALTHDCATAP.numberOfUniqueIndividuals):
        graph.remove((DATASET, predicate, None))
    graph.add((DATASET, predicate, value))
    report = validate_graph(graph)
    assert not report.conforms
    assert report.violations, predicate


def test_violation_message_for_contributor(seed_graphs):
    graph = _deepacsa(seed_graphs)
    graph.remove((DATASET, UMUD.muscle, None))
    report = validate_graph(graph)
    messages = [result.message for result in report.violations if result.path == str(UMUD.muscle)]
    assert messages
    assert "muscle" in messages[0].lower()


def test_blank_node_dataset_fails(seed_graphs):
    graph = _deepacsa(seed_graphs)
    stray = BNode()
    graph.add((stray, RDF.type, DCAT.Dataset))
    report = validate_graph(graph)
    assert any(result.focus == str(stray) for result in report.violations)


def test_image_type_warned_for_images(seed_graphs):
    graph = _deepacsa(seed_graphs)
    graph.remove((DATASET, UMUD.imageType, None))
    report = validate_graph(graph)
    assert report.conforms
    assert [result.shape_name for result in report.warnings] == ["image type"]


def test_image_type_not_warned_for_volumes(seed_graphs):
    graph = _deepacsa(seed_graphs)
    graph.remove((DATASET, UMUD.imageType, None))
    graph.set((DATASET, UMUD.dataType, URIRef("https://w3id.org/umud/vocab/data-type/volume")))
    assert validate_graph(graph).warnings == []


def test_label_description_warned_when_labelled(seed_graphs):
    graph = _deepacsa(seed_graphs)
    graph.remove((DATASET, UMUD.labelDescription, None))
    report = validate_graph(graph)
    assert [result.shape_name for result in report.warnings] == ["label description"]
    graph.set((DATASET, UMUD.labelsProvided, Literal(False)))
    assert validate_graph(graph).warnings == []


def test_one_result_per_problem(seed_graphs):
    graph = _deepacsa(seed_graphs)
    graph.set((DATASET, HEALTHDCATAP.numberOfUniqueIndividuals, Literal(-3, datatype=XSD.integer)))
    assert len(validate_graph(graph).violations) == 1
