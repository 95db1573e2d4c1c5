"""Mapping a harvested record to RDF: the statements of one source about one dataset.

They go into their own named graph, `{dataset}/harvest/{source}`, apart from the curated record,
with PROV-O provenance: the API URL they came from, when, and by which harvester version.
Domain values found in the text (muscle, device, plane, data type) become `umud:suggested…`
statements for curators, never `umud:muscle` and the like.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import re
from dataclasses import asdict
from datetime import datetime

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import FOAF, PROV, RDF, XSD

from catalog.namespaces import ADMS, BIBO, DCAT, DCTERMS, SDO, UMUD, bind_prefixes
from catalog.vocabulary import MANUFACTURER, Vocabulary, default_vocabulary

from . import HARVESTER_IRI
from .model import HarvestedRecord, Person

SPDX = "http://spdx.org/rdf/terms#"
RDF_HTML = URIRef("http://www.w3.org/1999/02/22-rdf-syntax-ns#HTML")
ACCESS_RIGHTS = "http://publications.europa.eu/resource/authority/access-right/"
ACCESS_RIGHT_CODES = {"open": "PUBLIC", "embargoed": "RESTRICTED", "restricted": "RESTRICTED", "closed": "NON_PUBLIC"}
# DataCite relation types that point from data to the publication that describes it.
PUBLICATION_RELATIONS = {"IsSupplementTo", "IsCitedBy", "IsDocumentedBy", "IsDescribedBy", "IsReferencedBy"}
SUGGESTED = {"muscle": UMUD.suggestedMuscle, "device": UMUD.suggestedDevice, "plane": UMUD.suggestedPlane,
             "data-type": UMUD.suggestedDataType}


def harvest_graph_iri(dataset: URIRef, source: str) -> URIRef:
    return URIRef(f"{dataset}/harvest/{source}")


def content_hash(record: HarvestedRecord) -> str:
    """Return a SHA-256 fingerprint of the harvested content, to detect an unchanged record on re-harvest."""
    content = asdict(record)
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def harvested_graph(record: HarvestedRecord, dataset: URIRef, harvested_at: datetime,
                    vocabulary: Vocabulary | None = None) -> Graph:
    """Return the graph of one source's statements about a dataset, with provenance."""
    vocabulary = vocabulary or default_vocabulary()
    graph = bind_prefixes(Graph())
    graph.bind("prov", PROV)
    name = harvest_graph_iri(dataset, record.source)
    # The dataset is not typed dcat:Dataset here: only the curated graph makes it one, so harvested
    # graphs never change what the catalog counts and lists.

    _add_basic_fields(graph, dataset, record)
    _add_people(graph, dataset, name, record)
    _add_relations(graph, dataset, record)
    _add_files(graph, dataset, name, record)
    _add_suggestions(graph, dataset, record, vocabulary)
    _add_provenance(graph, name, record, harvested_at)
    return graph


def _add_basic_fields(graph: Graph, dataset: URIRef, record: HarvestedRecord) -> None:
    graph.add((dataset, DCTERMS.title, Literal(record.title)))
    if record.description:
        graph.add((dataset, DCTERMS.description, Literal(record.description, datatype=RDF_HTML)))
    if record.doi:
        identifier = URIRef(f"https://doi.org/{record.doi}")
        graph.add((dataset, ADMS.identifier, identifier))
        graph.add((identifier, RDF.type, ADMS.Identifier))
    if record.landing_page:
        graph.add((dataset, DCAT.landingPage, URIRef(record.landing_page)))
    for predicate, value in ((DCTERMS.issued, record.issued), (DCTERMS.modified, record.modified)):
        if value:
            graph.add((dataset, predicate, _date_literal(value)))
    if record.version:
        graph.add((dataset, DCAT.version, Literal(record.version)))
    if record.license:
        graph.add((dataset, DCTERMS.license, URIRef(record.license)))
    elif record.license_label:
        graph.add((dataset, DCTERMS.rights, Literal(record.license_label)))
    for keyword in record.keywords:
        graph.add((dataset, DCAT.keyword, Literal(keyword)))
    if record.access_rights in ACCESS_RIGHT_CODES:
        graph.add((dataset, DCTERMS.accessRights, URIRef(ACCESS_RIGHTS + ACCESS_RIGHT_CODES[record.access_rights])))
    if record.resource_type:
        graph.add((dataset, DCTERMS.type, Literal(record.resource_type)))


def _date_literal(value: str) -> Literal:
    if re.fullmatch(r"\d{4}", value):
        return Literal(value, datatype=XSD.gYear)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return Literal(value, datatype=XSD.date)
    return Literal(value, datatype=XSD.dateTime) if "T" in value else Literal(value)


def _add_people(graph: Graph, dataset: URIRef, name: URIRef, record: HarvestedRecord) -> None:
    creators = [_agent(graph, person, URIRef(f"{name}/creators/{number}"))
                for number, person in enumerate(record.creators, start=1)]
    for agent in creators:
        graph.add((dataset, DCTERMS.creator, agent))
    if creators:
        author_list = BNode()
        Collection(graph, author_list, creators)
        graph.add((dataset, BIBO.authorList, author_list))
    for number, person in enumerate(record.contributors, start=1):
        graph.add((dataset, DCTERMS.contributor, _agent(graph, person, URIRef(f"{name}/contributors/{number}"))))


def _agent(graph: Graph, person: Person, fallback: URIRef) -> URIRef:
    agent = URIRef(f"https://orcid.org/{person.orcid}") if person.orcid else fallback
    graph.add((agent, RDF.type, FOAF.Organization if person.is_organisation else FOAF.Person))
    graph.add((agent, FOAF.name, Literal(person.name)))
    for affiliation in person.affiliations:
        organisation = URIRef(affiliation.ror) if affiliation.ror else BNode()
        graph.add((agent, SDO.affiliation, organisation))
        graph.add((organisation, RDF.type, FOAF.Organization))
        graph.add((organisation, FOAF.name, Literal(affiliation.name)))
    return agent


def _add_relations(graph: Graph, dataset: URIRef, record: HarvestedRecord) -> None:
    if record.concept_doi:
        graph.add((dataset, DCTERMS.isVersionOf, URIRef(f"https://doi.org/{record.concept_doi}")))
    for related in record.related:
        if not re.match(r"^https?://", related.identifier):
            continue
        target = URIRef(related.identifier)
        if related.relation in PUBLICATION_RELATIONS:
            graph.add((dataset, DCTERMS.isReferencedBy, target))
        elif related.relation == "IsVersionOf":
            graph.add((dataset, DCTERMS.isVersionOf, target))
        elif related.relation == "HasVersion":
            graph.add((dataset, DCTERMS.hasVersion, target))
        else:
            graph.add((dataset, DCTERMS.relation, target))


def _add_files(graph: Graph, dataset: URIRef, name: URIRef, record: HarvestedRecord) -> None:
    for number, harvested in enumerate(record.files, start=1):
        distribution = URIRef(f"{name}/files/{number}")
        graph.add((dataset, DCAT.distribution, distribution))
        graph.add((distribution, RDF.type, DCAT.Distribution))
        graph.add((distribution, DCTERMS.title, Literal(harvested.name)))
        if harvested.download_url:
            graph.add((distribution, DCAT.downloadURL, URIRef(harvested.download_url)))
        if record.landing_page:
            graph.add((distribution, DCAT.accessURL, URIRef(record.landing_page)))
        if harvested.size is not None:
            graph.add((distribution, DCAT.byteSize, Literal(harvested.size, datatype=XSD.integer)))
        media_type = harvested.media_type or mimetypes.guess_type(harvested.name)[0]
        if media_type:
            graph.add((distribution, DCAT.mediaType, URIRef(f"https://www.iana.org/assignments/media-types/{media_type}")))
        if harvested.checksum and ":" in harvested.checksum:
            _add_checksum(graph, distribution, harvested.checksum)
        if record.license:
            graph.add((distribution, DCTERMS.license, URIRef(record.license)))


def _add_checksum(graph: Graph, distribution: URIRef, checksum: str) -> None:
    algorithm, value = checksum.split(":", 1)
    node = BNode()
    graph.add((distribution, URIRef(SPDX + "checksum"), node))
    graph.add((node, RDF.type, URIRef(SPDX + "Checksum")))
    graph.add((node, URIRef(SPDX + "algorithm"), URIRef(f"{SPDX}checksumAlgorithm_{algorithm.lower()}")))
    graph.add((node, URIRef(SPDX + "checksumValue"), Literal(value.lower(), datatype=XSD.hexBinary)))


def suggest_concepts(record: HarvestedRecord, vocabulary: Vocabulary) -> dict[str, list[str]]:
    """Return concepts named in the title, description or keywords, by scheme (muscle, device, …)."""
    text = " ".join([record.title, re.sub(r"<[^>]+>", " ", record.description or ""), *record.keywords]).casefold()
    found: dict[str, list[str]] = {}
    for scheme, (pattern, concept_of_name) in _name_patterns(vocabulary).items():
        iris = {concept_of_name[match.group(0)] for match in pattern.finditer(text)}
        if iris:
            found[scheme] = sorted(iris)
    return found


_PATTERNS: dict[int, dict] = {}


def _name_patterns(vocabulary: Vocabulary) -> dict[str, tuple[re.Pattern, dict[str, str]]]:
    """Return, per scheme, one regular expression for all concept names (longer than 3 characters)."""
    if id(vocabulary) not in _PATTERNS:
        patterns = {}
        for scheme in SUGGESTED:
            # A manufacturer's name alone does not tell which of its devices recorded the data.
            concepts = [concept for concept in vocabulary.concepts(scheme) if MANUFACTURER not in concept.kinds]
            concept_of_name = {name.casefold(): concept.iri for concept in concepts
                               for name in (concept.label, *concept.alt_labels) if len(name) > 3}
            names = sorted(concept_of_name, key=len, reverse=True)
            alternatives = "|".join(re.escape(name) for name in names)
            patterns[scheme] = (re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])"), concept_of_name)
        _PATTERNS[id(vocabulary)] = patterns
    return _PATTERNS[id(vocabulary)]


def _add_suggestions(graph: Graph, dataset: URIRef, record: HarvestedRecord, vocabulary: Vocabulary) -> None:
    for scheme, iris in suggest_concepts(record, vocabulary).items():
        for iri in iris:
            graph.add((dataset, SUGGESTED[scheme], URIRef(iri)))


def _add_provenance(graph: Graph, name: URIRef, record: HarvestedRecord, harvested_at: datetime) -> None:
    activity = URIRef(f"{name}/activity")
    api_url = URIRef(record.api_url)
    moment = Literal(harvested_at.replace(microsecond=0).isoformat(), datatype=XSD.dateTime)
    graph.add((name, RDF.type, PROV.Entity))
    graph.add((name, PROV.wasDerivedFrom, api_url))
    graph.add((name, DCTERMS.source, api_url))
    graph.add((name, PROV.generatedAtTime, moment))
    graph.add((name, PROV.wasGeneratedBy, activity))
    graph.add((name, UMUD.harvestSource, Literal(record.source)))
    graph.add((name, UMUD.sourceIdentifier, Literal(record.source_id)))
    graph.add((name, UMUD.contentHash, Literal(content_hash(record))))
    graph.add((activity, RDF.type, PROV.Activity))
    graph.add((activity, PROV.used, api_url))
    graph.add((activity, PROV.endedAtTime, moment))
    graph.add((activity, PROV.wasAssociatedWith, URIRef(HARVESTER_IRI)))
