"""Mapping between a `Record` and its RDF graph (DCAT 3, DCTERMS, schema.org and umud: terms).

The predicate of every field comes from `fields.FIELDS`. Simple fields are written and read
through that table. The few structured ones (DOI, authors, contact points, distributions) are
written by the named steps below. `ontology/README.md` documents the resulting graph.
"""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import DCTERMS, FOAF, RDF, SKOS, XSD

from .fields import FIELDS, Field
from .namespaces import ADMS, BIBO, DCAT, HEALTHDCATAP, VCARD, bind_prefixes
from .record import Record
from .vocabulary import Vocabulary, default_vocabulary

# Counts are xsd:integer, not xsd:nonNegativeInteger: Oxigraph stores every integer-derived literal
# as xsd:integer, and a graph read back from the store must equal the graph written.
DATATYPES = {"integer": XSD.integer, "decimal": XSD.decimal, "year": XSD.gYear,
             "boolean": XSD.boolean}


def dataset_iri(base_url: str, name: str) -> URIRef:
    return URIRef(f"{base_url.rstrip('/')}/datasets/{name}")


def catalog_iri(base_url: str) -> URIRef:
    return URIRef(f"{base_url.rstrip('/')}/catalog")


def record_to_graph(record: Record, base_url: str, vocabulary: Vocabulary | None = None,
                    modified: datetime | None = None) -> Graph:
    """Return the RDF graph of one record; its subjects all belong to the dataset."""
    vocabulary = vocabulary or default_vocabulary()
    graph = bind_prefixes(Graph())
    dataset = dataset_iri(base_url, record.name)
    graph.add((dataset, RDF.type, DCAT.Dataset))

    for field in FIELDS:
        value = getattr(record, field.name)
        if field.kind != "special" and field.name != "file_format" and value not in (None, []):
            for item in value if field.many else [value]:
                graph.add((dataset, field.predicate, _to_rdf(field, item, vocabulary)))

    _add_doi(graph, dataset, record.doi)
    _add_authors(graph, dataset, record.authors)
    _add_contact_points(graph, dataset, record.contact)
    _add_distributions(graph, dataset, record, vocabulary)
    _add_record_counts(graph, dataset, record)
    _add_catalog_record(graph, dataset, modified or datetime.now(timezone.utc))
    return graph


def _to_rdf(field: Field, value: Any, vocabulary: Vocabulary) -> URIRef | Literal:
    if field.kind == "concept":
        return URIRef(vocabulary.concept(field.scheme, value).iri)
    if field.kind == "url":
        return URIRef(value)
    if field.kind == "text":
        # Names and version strings are not prose, so they carry no language tag.
        return Literal(value) if field.name in {"name", "version", "transducer"} else Literal(value, lang="en")
    if field.kind == "decimal":
        return Literal(Decimal(str(value)).normalize(), datatype=XSD.decimal)
    if field.kind == "year":
        return Literal(f"{value:04d}", datatype=XSD.gYear)
    return Literal(value, datatype=DATATYPES[field.kind])


def _add_doi(graph: Graph, dataset: URIRef, doi: str | None) -> None:
    if doi is None:
        return
    identifier = URIRef(f"https://doi.org/{doi}")
    graph.add((dataset, ADMS.identifier, identifier))
    graph.add((identifier, RDF.type, ADMS.Identifier))
    graph.add((identifier, SKOS.notation, Literal(doi)))


def _add_authors(graph: Graph, dataset: URIRef, authors) -> None:
    agents = []
    for position, author in enumerate(authors, start=1):
        # Without an ORCID iD a name does not identify a person across datasets (spellings vary,
        # namesakes exist), so the agent is the author at this position of this dataset.
        if author.orcid:
            agent = URIRef(f"https://orcid.org/{author.orcid}")
        else:
            agent = URIRef(f"{dataset}/authors/{position}")
        graph.add((agent, RDF.type, FOAF.Person))
        graph.add((agent, FOAF.name, Literal(author.name)))
        graph.add((dataset, DCTERMS.creator, agent))
        agents.append(agent)
    author_list = BNode()
    Collection(graph, author_list, agents)
    graph.add((dataset, BIBO.authorList, author_list))


def _add_contact_points(graph: Graph, dataset: URIRef, addresses: list[str]) -> None:
    for number, address in enumerate(addresses, start=1):
        contact = URIRef(f"{dataset}/contact/{number}")
        graph.add((dataset, DCAT.contactPoint, contact))
        graph.add((contact, RDF.type, VCARD.Kind))
        graph.add((contact, VCARD.hasEmail, URIRef(f"mailto:{address}")))


def _add_distributions(graph: Graph, dataset: URIRef, record: Record, vocabulary: Vocabulary) -> None:
    formats = [vocabulary.concept("file-format", value) for value in record.file_format]
    licence = URIRef(vocabulary.concept("license", record.license).iri)
    for concept in formats or [None]:
        suffix = concept.notation if concept else "data"
        distribution = URIRef(f"{dataset}/distributions/{suffix}")
        graph.add((dataset, DCAT.distribution, distribution))
        graph.add((distribution, RDF.type, DCAT.Distribution))
        graph.add((distribution, DCAT.accessURL, URIRef(record.link)))
        graph.add((distribution, DCTERMS.license, licence))
        if concept is not None:
            graph.add((distribution, DCTERMS.title, Literal(f"{record.name} ({concept.label})", lang="en")))
            graph.add((distribution, DCTERMS.format, URIRef(concept.iri)))
            if concept.media_type:
                graph.add((distribution, DCAT.mediaType, URIRef(concept.media_type)))


def _add_record_counts(graph: Graph, dataset: URIRef, record: Record) -> None:
    counts = [count for count in (record.image_count, record.video_count) if count is not None]
    if counts:
        graph.add((dataset, HEALTHDCATAP.numberOfRecords,
                   Literal(sum(counts), datatype=XSD.integer)))


def _add_catalog_record(graph: Graph, dataset: URIRef, modified: datetime) -> None:
    catalog_record = URIRef(f"{dataset}/record")
    graph.add((catalog_record, RDF.type, DCAT.CatalogRecord))
    graph.add((catalog_record, FOAF.primaryTopic, dataset))
    graph.add((catalog_record, DCTERMS.modified,
               Literal(modified.replace(microsecond=0).isoformat(), datatype=XSD.dateTime)))


def graph_to_record(graph: Graph, dataset: URIRef, vocabulary: Vocabulary | None = None) -> Record:
    """Read a record back from the graph of one dataset (the inverse of `record_to_graph`)."""
    vocabulary = vocabulary or default_vocabulary()
    data: dict[str, Any] = {}
    for field in FIELDS:
        if field.kind == "special" or field.name == "file_format":
            continue
        values = [_from_rdf(field, term, vocabulary) for term in graph.objects(dataset, field.predicate)]
        values = sorted(value for value in values if value is not None) if field.many else values
        if values:
            data[field.name] = values if field.many else values[0]

    identifier = graph.value(dataset, ADMS.identifier)
    if identifier is not None:
        data["doi"] = str(graph.value(identifier, SKOS.notation) or identifier).removeprefix("https://doi.org/")
    data["authors"] = _read_authors(graph, dataset)
    data["contact"] = sorted(
        str(graph.value(contact, VCARD.hasEmail)).removeprefix("mailto:")
        for contact in graph.objects(dataset, DCAT.contactPoint))
    data["file_format"] = sorted(
        vocabulary.concepts_by_iri[str(term)].notation
        for distribution in graph.objects(dataset, DCAT.distribution)
        for term in graph.objects(distribution, DCTERMS.format)
        if str(term) in vocabulary.concepts_by_iri)
    return Record.model_validate(data, context={"vocabulary": vocabulary})


def _from_rdf(field: Field, term, vocabulary: Vocabulary) -> Any:
    if field.kind == "concept":
        concept = vocabulary.concepts_by_iri.get(str(term))
        if concept is None:
            return None
        return concept.notation if field.canonical == "notation" and concept.notation else concept.label
    if field.kind == "url":
        return str(term)
    value = term.toPython() if isinstance(term, Literal) else str(term)
    if field.kind == "year":
        return int(str(term)[:4])
    if field.kind == "decimal":
        return float(value)
    if field.kind == "integer":
        return int(value)
    return value if not isinstance(value, str) else str(term)


def _read_authors(graph: Graph, dataset: URIRef) -> list[dict[str, str]]:
    author_list = graph.value(dataset, BIBO.authorList)
    agents = list(Collection(graph, author_list)) if author_list is not None else []
    listed = set(agents)
    agents += sorted(set(graph.objects(dataset, DCTERMS.creator)) - listed, key=str)
    authors = []
    for agent in agents:
        author = {"name": str(graph.value(agent, FOAF.name) or agent)}
        if str(agent).startswith("https://orcid.org/"):
            author["orcid"] = str(agent).removeprefix("https://orcid.org/")
        authors.append(author)
    return authors

