"""The result of a harvest: the metadata of one record in a hosting repository.

Every source (Zenodo REST and OAI-PMH, OSF, DataCite) is parsed into `HarvestedRecord`, so the
mapping to RDF and the store code do not depend on any source's format.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class HarvestError(RuntimeError):
    """A request or a response that could not be used; names the URL and the reason."""

    def __init__(self, url: str, reason: str):
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")


@dataclass(frozen=True)
class Affiliation:
    name: str
    ror: str | None = None  # full ROR IRI, e.g. https://ror.org/01ggx4157


@dataclass(frozen=True)
class Person:
    """A creator or contributor: a person or an organisation."""

    name: str
    orcid: str | None = None  # bare ORCID iD, e.g. 0000-0002-1825-0097
    affiliations: tuple[Affiliation, ...] = ()
    is_organisation: bool = False


@dataclass(frozen=True)
class RelatedIdentifier:
    """A link to another resource, in DataCite's terms (relation IsSupplementTo, IsVersionOf, ...)."""

    identifier: str  # as an IRI where one exists: https://doi.org/..., https://arxiv.org/abs/...
    relation: str  # DataCite relationType, e.g. "IsSupplementTo"
    resource_type: str | None = None  # DataCite resourceTypeGeneral, e.g. "JournalArticle"


@dataclass(frozen=True)
class HarvestedFile:
    name: str
    download_url: str | None = None
    size: int | None = None  # bytes
    checksum: str | None = None  # "algorithm:hex", e.g. "md5:0e1f..."
    media_type: str | None = None  # e.g. "text/csv"


@dataclass
class HarvestedRecord:
    """One record of a hosting repository, in source-neutral form.

    `description` is already sanitised HTML (a small safe subset); never show it unsanitised.
    Dates are ISO 8601 strings (`2019-03-20` or `2019`), licences SPDX licence IRIs where the source's
    licence maps to one.
    """

    source: str  # "zenodo", "osf", "datacite" or "oai"
    source_id: str  # Zenodo record id, OSF node id, DOI or OAI identifier
    api_url: str  # the URL the metadata was read from
    title: str
    resource_type: str | None = None  # DataCite resourceTypeGeneral in lower case: "dataset", "software", ...
    landing_page: str | None = None
    doi: str | None = None  # bare DOI: 10.5281/zenodo.2598553
    concept_doi: str | None = None  # the DOI of all versions, where the source has one
    description: str | None = None
    creators: list[Person] = field(default_factory=list)
    contributors: list[Person] = field(default_factory=list)
    issued: str | None = None
    modified: str | None = None
    version: str | None = None
    license: str | None = None  # SPDX IRI, e.g. https://spdx.org/licenses/CC-BY-4.0
    license_label: str | None = None  # the source's own licence name or id, kept when no SPDX IRI fits
    keywords: list[str] = field(default_factory=list)
    related: list[RelatedIdentifier] = field(default_factory=list)
    access_rights: str | None = None  # "open", "embargoed", "restricted" or "closed"
    files: list[HarvestedFile] = field(default_factory=list)
