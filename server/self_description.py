"""Descriptions of the catalog for machines: the SPARQL 1.1 Service Description of /sparql and the
VoID description of the whole dataset at /.well-known/void (https://www.w3.org/TR/void/).

The statistics (triples, subjects, classes, properties) are counted with SPARQL over the union
of all graphs, as /sparql queries it, and kept until the catalog's revision changes.
"""

from __future__ import annotations

import threading

from flask import Blueprint, current_app, request, url_for
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, VOID, XSD

from catalog.namespaces import DCAT, PREFIXES, bind_prefixes
from catalog.service import CATALOG_DESCRIPTION, CATALOG_TITLE

from .negotiation import BY_MEDIA_TYPE, accepted, negotiate

SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
FORMATS = Namespace("http://www.w3.org/ns/formats/")
ENTAILMENT = Namespace("http://www.w3.org/ns/entailment/")

# Result formats of /sparql, as the W3C names them (https://www.w3.org/ns/formats/).
RESULT_FORMATS = ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
                  "Turtle", "JSON-LD", "RDF_XML", "N-Triples")

self_description = Blueprint("self_description", __name__)

_statistics_lock = threading.Lock()
_statistics: dict = {}


def statistics(catalog) -> dict:
    """Return triple, subject, class and property counts of the union graph, for the current revision."""
    revision = catalog.revision()
    with _statistics_lock:
        if _statistics.get("revision") == revision and _statistics.get("catalog") == catalog.iri:
            return _statistics["values"]
    store = catalog.store
    totals = store.select("SELECT (COUNT(*) AS ?triples) (COUNT(DISTINCT ?s) AS ?subjects) "
                          "(COUNT(DISTINCT ?p) AS ?properties) (COUNT(DISTINCT ?o) AS ?objects) WHERE { ?s ?p ?o }")[0]
    classes = store.select("SELECT ?class (COUNT(DISTINCT ?s) AS ?entities) WHERE { ?s a ?class } "
                           "GROUP BY ?class ORDER BY DESC(?entities) ?class")
    datasets = len(catalog.names())
    values = {
        "triples": int(totals["triples"]), "subjects": int(totals["subjects"]),
        "properties": int(totals["properties"]), "objects": int(totals["objects"]), "datasets": datasets,
        "classes": [(str(row["class"]), int(row["entities"])) for row in classes],
    }
    with _statistics_lock:
        _statistics.update(revision=revision, catalog=catalog.iri, values=values)
    return values


def void_graph(catalog, endpoint: str, void_iri: URIRef) -> Graph:
    """Return the VoID description of the catalog's data, with its statistics."""
    numbers = statistics(catalog)
    graph = Graph()
    bind_prefixes(graph)
    graph.bind("void", VOID)
    graph.add((void_iri, RDF.type, VOID.Dataset))
    graph.add((void_iri, DCTERMS.title, Literal(CATALOG_TITLE, lang="en")))
    graph.add((void_iri, DCTERMS.description, Literal(CATALOG_DESCRIPTION, lang="en")))
    graph.add((void_iri, DCTERMS.license, URIRef("https://spdx.org/licenses/CC0-1.0")))
    graph.add((void_iri, FOAF.homepage, URIRef(url_for("pages.home", _external=True))))
    graph.add((void_iri, VOID.sparqlEndpoint, URIRef(endpoint)))
    for suffix in ("ttl", "nt", "jsonld", "rdf"):
        graph.add((void_iri, VOID.dataDump, URIRef(url_for("pages.catalog_view", suffix=suffix, _external=True))))
    graph.add((void_iri, VOID.uriSpace, Literal(f"{catalog.base_url}/datasets/")))
    graph.add((void_iri, VOID.rootResource, catalog.iri))
    names = catalog.names()
    if names:
        graph.add((void_iri, VOID.exampleResource, URIRef(f"{catalog.base_url}/datasets/{names[0]}")))
    for prefix in ("dcat", "dcterms", "foaf", "prov", "skos", "vcard", "umud", "healthdcatap", "adms", "schema"):
        graph.add((void_iri, VOID.vocabulary, URIRef(str(PREFIXES[prefix]))))
    graph.add((void_iri, VOID.triples, Literal(numbers["triples"], datatype=XSD.integer)))
    graph.add((void_iri, VOID.distinctSubjects, Literal(numbers["subjects"], datatype=XSD.integer)))
    graph.add((void_iri, VOID.distinctObjects, Literal(numbers["objects"], datatype=XSD.integer)))
    graph.add((void_iri, VOID.properties, Literal(numbers["properties"], datatype=XSD.integer)))
    graph.add((void_iri, VOID.classes, Literal(len(numbers["classes"]), datatype=XSD.integer)))
    graph.add((void_iri, VOID.entities, Literal(numbers["datasets"], datatype=XSD.integer)))
    for class_iri, entities in numbers["classes"]:
        partition = BNode()
        graph.add((void_iri, VOID.classPartition, partition))
        graph.add((partition, VOID["class"], URIRef(class_iri)))
        graph.add((partition, VOID.entities, Literal(entities, datatype=XSD.integer)))
    return graph


def service_description(catalog, endpoint: str) -> Graph:
    """Return the SPARQL 1.1 Service Description of the endpoint at `endpoint`."""
    graph = Graph()
    bind_prefixes(graph)
    graph.bind("sd", SD)
    graph.bind("formats", FORMATS)
    graph.bind("void", VOID)
    service = URIRef(endpoint)
    graph.add((service, RDF.type, SD.Service))
    graph.add((service, SD.endpoint, service))
    graph.add((service, SD.supportedLanguage, SD.SPARQL11Query))
    for name in RESULT_FORMATS:
        graph.add((service, SD.resultFormat, FORMATS[name]))
    graph.add((service, SD.feature, SD.UnionDefaultGraph))
    graph.add((service, SD.defaultEntailmentRegime, ENTAILMENT.Simple))
    dataset = BNode()
    default_graph = BNode()
    graph.add((service, SD.defaultDataset, dataset))
    graph.add((dataset, RDF.type, SD.Dataset))
    graph.add((dataset, SD.defaultGraph, default_graph))
    graph.add((default_graph, RDF.type, SD.Graph))
    graph.add((default_graph, RDF.type, VOID.Dataset))
    graph.add((default_graph, VOID.triples, Literal(statistics(catalog)["triples"], datatype=XSD.integer)))
    graph.add((default_graph, DCTERMS.description, Literal(
        "The union of all named graphs: the catalog, each dataset's graph, their histories and the vocabularies.",
        lang="en")))
    graph.add((service, DCTERMS.title, Literal(f"SPARQL endpoint of {CATALOG_TITLE}", lang="en")))
    graph.add((service, DCAT.servesDataset, catalog.iri))
    return graph


@self_description.get("/.well-known/void")
@self_description.get("/.well-known/void.<suffix>")
def void(suffix: str | None = None):
    from .pages import _graph_by_suffix_or_accept

    catalog = current_app.extensions["umud"]
    void_iri = URIRef(url_for("self_description.void", _external=True))
    graph = void_graph(catalog, url_for("sparql.endpoint", _external=True), void_iri)
    if suffix is None and negotiate() == "html":
        # A browser gets Turtle as text, which it shows instead of downloading.
        return _graph_by_suffix_or_accept(graph, "ttl")
    return _graph_by_suffix_or_accept(graph, suffix)


def service_description_response():
    """Return the Service Description for a GET of /sparql without a query; None when the client accepts no RDF."""
    from .pages import rdf_response

    wanted = accepted().best_match(list(BY_MEDIA_TYPE))
    if wanted is None:
        return None
    catalog = current_app.extensions["umud"]
    return rdf_response(service_description(catalog, request.base_url), wanted, vary=True)

