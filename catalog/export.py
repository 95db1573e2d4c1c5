"""The whole catalog in one document: RDF in any common syntax, or records as CSV or JSON."""

from __future__ import annotations

import csv
import io
import json

from urllib.parse import quote, urlsplit

from rdflib import BNode, Dataset, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, SKOS, XSD

from .fields import FIELDS
from .namespaces import ADMS, DCAT, bind_prefixes
from .rdf_mapping import dataset_iri
from .record import Record
from .service import Catalog

RDFLIB_FORMATS = {"turtle": "turtle", "jsonld": "json-ld", "ntriples": "nt", "rdfxml": "xml",
                  "trig": "trig", "nquads": "nquads"}
QUAD_FORMATS = {"trig", "nquads"}
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
# Datasets on one page of the catalog, when it is requested page by page.
CATALOG_PAGE_SIZE = 100
# The classes that DCAT-AP 3 expects the values of these properties to have.
RANGE_CLASSES = {
    DCTERMS.creator: FOAF.Agent,
    DCTERMS.publisher: FOAF.Agent,
    DCTERMS.license: DCTERMS.LicenseDocument,
    DCTERMS.format: DCTERMS.MediaTypeOrExtent,
    DCAT.mediaType: DCTERMS.MediaType,
    DCAT.landingPage: FOAF.Document,
    FOAF.homepage: FOAF.Document,
    FOAF.page: FOAF.Document,
    DCTERMS.language: DCTERMS.LinguisticSystem,
    DCTERMS.isReferencedBy: FOAF.Document,
}
# ADMS status of a catalog record whose description is complete (DCAT-AP recommends adms:status).
ADMS_STATUS_COMPLETED = URIRef("http://purl.org/adms/status/Completed")
EU_THEMES = URIRef("http://publications.europa.eu/resource/authority/data-theme")
EU_THEME_HEALTH = URIRef("http://publications.europa.eu/resource/authority/data-theme/HEAL")


def catalog_graph(catalog: Catalog, page: int | None = None, page_size: int = CATALOG_PAGE_SIZE,
                  names: list[str] | None = None) -> Graph:
    """Return the catalog description and its datasets, merged into one graph, in DCAT-AP's terms.

    Without `page`, every dataset is included. With it, only that page of `page_size` datasets
    (by name), and a Hydra `PartialCollectionView` that links to the first, previous, next and
    last pages, as CKAN pages its DCAT catalogs. `names` are the datasets in page order, by default
    read from the store.
    """
    names = catalog.names() if names is None else names
    # The catalog's own statements without its links to datasets, which are added for the datasets shown.
    graph = catalog.store.construct(f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{catalog.iri}> {{ ?s ?p ?o }}
        FILTER(?p NOT IN (<{DCAT.dataset}>, <{DCAT.record}>)) }}""")
    shown = names
    if page is not None:
        if page < 1 or page_size < 1:
            raise ValueError("the page and the page size start at 1")
        shown = names[(page - 1) * page_size:page * page_size]
        _add_page_view(graph, catalog, page, page_size, len(names))
    for name in shown:
        dataset = dataset_iri(catalog.base_url, name)
        graph.add((catalog.iri, DCAT.dataset, dataset))
        graph.add((catalog.iri, DCAT.record, URIRef(f"{dataset}/record")))
    graph += catalog.datasets_graph(shown)
    return bind_prefixes(dcat_ap_view(graph, catalog))


def _add_page_view(graph: Graph, catalog: Catalog, page: int, page_size: int, total: int) -> None:
    last = max(1, -(-total // page_size))

    def page_iri(number: int) -> URIRef:
        return URIRef(f"{catalog.iri}?page={number}" + (f"&page_size={page_size}" if page_size != CATALOG_PAGE_SIZE else ""))

    view = page_iri(page)
    graph.bind("hydra", HYDRA)
    graph.add((view, RDF.type, HYDRA.PartialCollectionView))
    graph.add((catalog.iri, HYDRA.view, view))
    graph.add((view, HYDRA.totalItems, Literal(total, datatype=XSD.integer)))
    graph.add((view, HYDRA.itemsPerPage, Literal(page_size, datatype=XSD.integer)))
    graph.add((view, HYDRA.first, page_iri(1)))
    graph.add((view, HYDRA.last, page_iri(last)))
    if page > 1:
        graph.add((view, HYDRA.previous, page_iri(min(page - 1, last))))
    if page < last:
        graph.add((view, HYDRA.next, page_iri(page + 1)))


def dcat_ap_view(graph: Graph, catalog: Catalog) -> Graph:
    """Add what DCAT-AP 3 checks and our records leave implicit: the classes of linked resources
    (a licence is a dcterms:LicenseDocument, a landing page a foaf:Document, …), the publisher of
    each dataset (the repository that hosts the data) and the status of each catalog record."""
    for predicate, resource_class in RANGE_CLASSES.items():
        for value in set(graph.objects(None, predicate)):
            if isinstance(value, (URIRef, BNode)):
                graph.add((value, RDF.type, resource_class))
    for dataset in set(graph.subjects(RDF.type, DCAT.Dataset)):
        graph.add((dataset, RDF.type, DCAT.Resource))
        host = _publisher_name(graph, dataset)
        if host and graph.value(dataset, DCTERMS.publisher) is None:
            agent = URIRef(f"{catalog.base_url}/agents/publishers/{quote(host, safe='')}")
            graph.add((dataset, DCTERMS.publisher, agent))
            graph.add((agent, RDF.type, FOAF.Agent))
            graph.add((agent, FOAF.name, Literal(host)))
    for record in set(graph.subjects(RDF.type, DCAT.CatalogRecord)):
        if graph.value(record, ADMS.status) is None:
            graph.add((record, ADMS.status, ADMS_STATUS_COMPLETED))
            graph.add((ADMS_STATUS_COMPLETED, RDF.type, SKOS.Concept))
            graph.add((ADMS_STATUS_COMPLETED, SKOS.prefLabel, Literal("Completed", lang="en")))
    # Every dataset is about health, in the EU's data theme vocabulary that DCAT-AP names.
    for dataset in set(graph.subjects(RDF.type, DCAT.Dataset)):
        graph.add((dataset, DCAT.theme, EU_THEME_HEALTH))
    if (catalog.iri, RDF.type, DCAT.Catalog) in graph:
        graph.add((catalog.iri, DCAT.themeTaxonomy, EU_THEMES))
        graph.add((EU_THEMES, RDF.type, SKOS.ConceptScheme))
        graph.add((EU_THEMES, DCTERMS.title, Literal("Data theme", lang="en")))
    if (None, DCAT.theme, EU_THEME_HEALTH) in graph:
        graph.add((EU_THEME_HEALTH, RDF.type, SKOS.Concept))
        graph.add((EU_THEME_HEALTH, SKOS.prefLabel, Literal("Health", lang="en")))
    return graph


def _publisher_name(graph: Graph, dataset: URIRef) -> str | None:
    identifier = graph.value(dataset, ADMS.identifier)
    doi = str(graph.value(identifier, SKOS.notation) or "") if identifier is not None else ""
    if doi.lower().startswith("10.5281/zenodo."):
        return "Zenodo"
    landing_page = graph.value(dataset, DCAT.landingPage)
    host = urlsplit(str(landing_page)).hostname if landing_page is not None else None
    return host.removeprefix("www.") if host else None


def export_catalog(catalog: Catalog, export_format: str) -> bytes:
    if export_format in ("csv", "json"):
        records = [catalog.record(name) for name in catalog.names()]
        return records_csv(records) if export_format == "csv" else records_json(records)
    if export_format in QUAD_FORMATS:
        return _quads(catalog).serialize(format=RDFLIB_FORMATS[export_format], encoding="utf-8")
    return catalog_graph(catalog).serialize(format=RDFLIB_FORMATS[export_format], encoding="utf-8")


def _quads(catalog: Catalog) -> Dataset:
    dataset = Dataset()
    bind_prefixes(dataset)
    for name in catalog.names():
        named = dataset.graph(URIRef(f"{catalog.base_url}/datasets/{name}"))
        for triple in catalog.dataset_graph(name):
            named.add(triple)
    catalog_part = dataset.graph(catalog.iri)
    for triple in catalog.store.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{catalog.iri}> {{ ?s ?p ?o }} }}"):
        catalog_part.add(triple)
    return dataset


def records_json(records: list[Record]) -> bytes:
    return json.dumps([record.to_json() for record in records], indent=2, ensure_ascii=False).encode() + b"\n"


def records_csv(records: list[Record]) -> bytes:
    """Write one row per dataset and one column per field, joining several values with '; '."""
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow([field.name for field in FIELDS])
    for record in records:
        writer.writerow([_cell(getattr(record, field.name)) for field in FIELDS])
    return output.getvalue().encode()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        text = "; ".join(item.name if hasattr(item, "name") else str(item) for item in value)
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = str(value)
    # A cell starting with these is run as a formula by spreadsheet programs.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
