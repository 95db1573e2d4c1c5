"""Content of the /ontology page: the ontology's terms and every concept scheme as a tree."""

from __future__ import annotations

from rdflib import URIRef
from rdflib.namespace import OWL, RDF, RDFS, SKOS

from catalog.namespaces import DCTERMS, UMUD
from catalog.vocabulary import MANUFACTURER, Concept, Vocabulary


def describe_vocabulary(vocabulary: Vocabulary) -> dict:
    graph = vocabulary.graph
    properties = []
    for kind in (OWL.ObjectProperty, OWL.DatatypeProperty, OWL.Class):
        for term in sorted(graph.subjects(RDF.type, kind), key=str):
            if str(term).startswith(str(UMUD)):
                properties.append({
                    "iri": str(term), "name": str(term).removeprefix(str(UMUD)),
                    "kind": str(kind).rsplit("#", 1)[-1],
                    "label": str(graph.value(term, RDFS.label) or ""),
                    "comment": str(graph.value(term, RDFS.comment) or ""),
                    "range": _prefixed(graph, graph.value(term, RDFS.range)),
                })
    schemes = []
    for scheme in sorted(graph.subjects(RDF.type, SKOS.ConceptScheme), key=str):
        slug = str(scheme).rsplit("/", 1)[-1]
        # Manufacturers group devices only for searching; the scheme itself does not hold them.
        concepts = [concept for concept in vocabulary.concepts(slug) if MANUFACTURER not in concept.kinds]
        schemes.append({
            "iri": str(scheme), "slug": slug,
            "title": str(graph.value(scheme, SKOS.prefLabel) or graph.value(scheme, DCTERMS.title) or slug),
            "definition": str(graph.value(scheme, SKOS.definition) or ""),
            "tree": _tree(concepts),
        })
    return {"iri": "https://w3id.org/umud/ontology",
            "title": str(graph.value(URIRef("https://w3id.org/umud/ontology"), DCTERMS.title) or "UMUD ontology"),
            "properties": properties, "schemes": schemes}


def _prefixed(graph, term) -> str:
    """Return `skos:Concept` for an IRI whose namespace has a prefix, else the IRI."""
    if term is None:
        return ""
    try:
        return graph.namespace_manager.normalizeUri(term)
    except ValueError:
        return str(term)


def _tree(concepts: list[Concept]) -> list[dict]:
    """Nest concepts under their broader concepts; a concept with several parents shows under each."""
    in_scheme = {concept.iri for concept in concepts}
    children: dict[str, list[Concept]] = {}
    roots = []
    for concept in concepts:
        parents = [parent for parent in concept.broader if parent in in_scheme]
        for parent in parents:
            children.setdefault(parent, []).append(concept)
        if not parents:
            roots.append(concept)

    def node(concept: Concept, depth: int) -> dict:
        below = children.get(concept.iri, []) if depth < 8 else []
        return {"concept": concept, "children": [node(child, depth + 1) for child in below]}

    return [node(concept, 0) for concept in roots]
