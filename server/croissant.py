"""Croissant 1.1 (https://docs.mlcommons.org/croissant/docs/croissant-spec-1.1.html) descriptions of
datasets, for machine-learning tools, at /datasets/{name}/croissant.json.

UMUD describes datasets but does not hold their files, so a description names the dataset with the
properties the specification requires and recommends, and lists the data as a `cr:FileSet` per file
format at the repository's address. It has no record sets: UMUD does not know the files' columns.
"""

from __future__ import annotations

from catalog.citations import bibtex, publisher
from catalog.record import Record
from catalog.service import Catalog

CONFORMS_TO = "http://mlcommons.org/croissant/1.1"
# The Croissant 1.1 context of the specification's examples, with `equivalentProperty` and
# `sdVersion`, which its Appendix 1 adds.
CONTEXT = {
    "@language": "en",
    "@vocab": "https://schema.org/",
    "sc": "https://schema.org/",
    "cr": "http://mlcommons.org/croissant/",
    "rai": "http://mlcommons.org/croissant/RAI/",
    "dct": "http://purl.org/dc/terms/",
    "citeAs": "cr:citeAs",
    "column": "cr:column",
    "conformsTo": "dct:conformsTo",
    "containedIn": "cr:containedIn",
    "data": {"@id": "cr:data", "@type": "@json"},
    "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "equivalentProperty": "cr:equivalentProperty",
    "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract",
    "field": "cr:field",
    "fileObject": "cr:fileObject",
    "fileProperty": "cr:fileProperty",
    "fileSet": "cr:fileSet",
    "format": "cr:format",
    "includes": "cr:includes",
    "isLiveDataset": "cr:isLiveDataset",
    "jsonPath": "cr:jsonPath",
    "key": "cr:key",
    "md5": "cr:md5",
    "parentField": "cr:parentField",
    "path": "cr:path",
    "recordSet": "cr:recordSet",
    "references": "cr:references",
    "regex": "cr:regex",
    "repeated": "cr:repeated",
    "replace": "cr:replace",
    "samplingRate": "cr:samplingRate",
    "sdVersion": "cr:sdVersion",
    "separator": "cr:separator",
    "source": "cr:source",
    "subField": "cr:subField",
    "transform": "cr:transform",
}
# Properties of a dataset that Croissant 1.1 requires (section "Dataset-level information").
REQUIRED = ("@context", "@type", "conformsTo", "name", "description", "license", "url", "creator",
            "datePublished")


def croissant(record: Record, iri: str, landing_page: str, catalog: Catalog) -> dict:
    """Return the Croissant 1.1 JSON-LD of a dataset."""
    licence = catalog.vocabulary.concept("license", record.license)
    document = {
        "@context": CONTEXT,
        "@type": "sc:Dataset",
        "@id": iri,
        "conformsTo": CONFORMS_TO,
        "name": record.name,
        "alternateName": record.title,
        "description": record.description,
        "license": licence.iri if licence else record.license,
        "url": landing_page,
        "creator": [_person(author) for author in record.authors],
        "datePublished": str(record.year),
        "keywords": [*record.muscle, record.data_type, *record.keywords],
        "citeAs": bibtex(record),
        "isLiveDataset": False,
        "distribution": [_file_set(record, value, catalog) for value in record.file_format],
    }
    if record.version:
        document["version"] = record.version
    if record.doi:
        document["sameAs"] = f"https://doi.org/{record.doi}"
    host = publisher(record)
    if host:
        document["publisher"] = {"@type": "sc:Organization", "name": host}
    if record.publication:
        document["citation"] = record.publication
    return document


def missing_required(document: dict) -> list[str]:
    """Return the required Croissant properties that a document lacks or leaves empty."""
    return [name for name in REQUIRED if document.get(name) in (None, "", [], {})]


def _person(author) -> dict:
    person = {"@type": "sc:Person", "name": author.name}
    if author.orcid:
        person["url"] = f"https://orcid.org/{author.orcid}"
    return person


def _file_set(record: Record, file_format: str, catalog: Catalog) -> dict:
    concept = catalog.vocabulary.concept("file-format", file_format)
    media_type = concept.media_type.split("/media-types/", 1)[-1] if concept and concept.media_type else None
    extension = (concept.notation if concept and concept.notation else file_format).lower()
    return {
        "@type": "cr:FileSet",
        "@id": f"files-{extension}",
        "name": f"{extension} files",
        "description": f"The dataset's {concept.label if concept else file_format} files, downloaded from {record.link}.",
        "encodingFormat": media_type or f"application/x-{extension}",
        "includes": f"**/*.{extension}",
    }
