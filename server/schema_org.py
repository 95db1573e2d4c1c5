"""The schema.org view of a dataset, embedded as JSON-LD in its landing page, and its citation.

The @context is inline, so crawlers and offline tools parse the document without fetching anything.
It declares the properties whose values are links as IRIs (`@type: @id`), so that the values stay
plain strings for search engines and become IRIs for RDF tools.
"""

from __future__ import annotations

from catalog.record import Record
from catalog.service import CATALOG_TITLE, Catalog


LINK_PROPERTIES = ("url", "sameAs", "license", "contentUrl", "inDefinedTermSet")
# UMUD records no place: the data are recordings of people in laboratories and clinics.
SPATIAL_COVERAGE = "Not applicable: ultrasound recordings of human participants, with no geographic extent"
SCHEMA_ORG_CONTEXT = {"@vocab": "https://schema.org/",
                      **{name: {"@type": "@id"} for name in LINK_PROPERTIES}}


def dataset_jsonld(record: Record, iri: str, catalog: Catalog) -> dict:
    vocabulary = catalog.vocabulary
    licence = vocabulary.concept("license", record.license)
    document = {
        "@context": SCHEMA_ORG_CONTEXT,
        "@type": "Dataset",
        "@id": iri,
        "url": iri,
        "name": record.title,
        "alternateName": record.name,
        "description": record.description,
        "datePublished": str(record.year),
        "license": licence.iri if licence else record.license,
        "isAccessibleForFree": True,
        "creator": [_person(author) for author in record.authors],
        "keywords": [*record.muscle, record.data_type, *record.keywords],
        "measurementTechnique": "Ultrasonography",
        "about": [_muscle(label, catalog) for label in record.muscle],
        "distribution": [_download(record, value, catalog) for value in record.file_format or [None]],
        "includedInDataCatalog": {"@type": "DataCatalog", "name": CATALOG_TITLE, "url": catalog.base_url + "/"},
        "variableMeasured": _variables(record),
    }
    if record.doi:
        document["identifier"] = {"@type": "PropertyValue", "propertyID": "https://registry.identifiers.org/registry/doi",
                                  "value": f"doi:{record.doi}", "url": f"https://doi.org/{record.doi}"}
        document["sameAs"] = f"https://doi.org/{record.doi}"
    else:
        document["identifier"] = {"@type": "PropertyValue", "propertyID": "UMUD dataset IRI", "value": iri, "url": iri}
        # Without a DOI, the repository's page of the data is the other page about the same dataset.
        document["sameAs"] = record.link
    if record.version:
        document["version"] = record.version
    if record.publication:
        document["citation"] = {"@type": "CreativeWork", "@id": record.publication, "url": record.publication}
    # The data were recorded at some time up to their publication: an ISO 8601 interval open at its start.
    document["temporalCoverage"] = f"../{record.year}"
    document["spatialCoverage"] = SPATIAL_COVERAGE
    return document


def _person(author) -> dict:
    person = {"@type": "Person", "name": author.name}
    if author.orcid:
        person["@id"] = f"https://orcid.org/{author.orcid}"
        person["identifier"] = f"https://orcid.org/{author.orcid}"
    return person


def _muscle(label: str, catalog: Catalog) -> dict:
    concept = catalog.vocabulary.concept("muscle", label)
    term = {"@type": "DefinedTerm", "name": label, "inDefinedTermSet": "https://w3id.org/umud/vocab/muscle"}
    if concept is not None:
        term["@id"] = concept.iri
        uberon = [match for match in concept.exact_matches if "UBERON_" in match]
        if uberon:
            term["sameAs"] = uberon[0]
    return term


def _download(record: Record, file_format: str | None, catalog: Catalog) -> dict:
    download = {"@type": "DataDownload", "contentUrl": record.link}
    concept = catalog.vocabulary.concept("file-format", file_format) if file_format else None
    if concept is not None:
        media_type = concept.media_type.split("/media-types/", 1)[-1] if concept.media_type else None
        download["encodingFormat"] = media_type or concept.label
    return download


def _variables(record: Record) -> list[dict]:
    variables = [{"@type": "PropertyValue", "name": "participants", "value": record.sample_size}]
    for name, value, unit in (("mean age", record.age, "years"), ("mean height", record.height, "cm"),
                              ("mean body mass", record.body_mass, "kg"),
                              ("images", record.image_count, None), ("videos", record.video_count, None)):
        if value is not None:
            variable = {"@type": "PropertyValue", "name": name, "value": value}
            if unit:
                variable["unitText"] = unit
            variables.append(variable)
    return variables


def citation_text(record: Record, iri: str) -> str:
    """Format a citation in the DataCite recommended form: Creators (Year). Title. Version. Publisher. Identifier."""
    authors = _author_list([author.name for author in record.authors])
    version = f" (Version {record.version})" if record.version else ""
    identifier = f"https://doi.org/{record.doi}" if record.doi else record.link
    return f"{authors} ({record.year}). {record.title}{version} [Data set]. {identifier}"


def _author_list(names: list[str]) -> str:
    if len(names) > 20:
        return ", ".join(names[:19]) + ", … " + names[-1]
    if len(names) > 1:
        return ", ".join(names[:-1]) + " & " + names[-1]
    return names[0]
