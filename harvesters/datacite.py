"""DataCite: the REST API's DOI records, DOI routing, and DataCite vocabulary shared by the harvesters.

`parse_datacite_doi` reads the JSON:API document of `GET https://api.datacite.org/dois/{doi}` (with
or without `include=...` and `affiliation=true`). `resolve_source` decides which harvester handles
a DOI or landing URL. The DataCite terms (relation types, related identifier types, access rights
from the info:eu-repo vocabulary) are also used by the Zenodo harvester, whose metadata follows
DataCite's.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from .http import HarvestClient, HttpStatusError
from .model import Affiliation, HarvestedRecord, HarvestError, Person, RelatedIdentifier
from .normalise import doi_from, orcid_from, sanitise_html, spdx_iri

DATACITE_API_URL = "https://api.datacite.org"

# The relationType values of the DataCite Metadata Schema, indexed by their lower-case form so that
# Zenodo's lower camel case ("isSupplementTo") and InvenioRDM's ids ("issupplementto") map back.
RELATION_TYPES = {name.lower(): name for name in (
    "IsCitedBy", "Cites", "IsSupplementTo", "IsSupplementedBy", "IsContinuedBy", "Continues",
    "IsDescribedBy", "Describes", "HasMetadata", "IsMetadataFor", "HasVersion", "IsVersionOf",
    "IsNewVersionOf", "IsPreviousVersionOf", "IsPartOf", "HasPart", "IsPublishedIn", "IsReferencedBy",
    "References", "IsDocumentedBy", "Documents", "IsCompiledBy", "Compiles", "IsVariantFormOf",
    "IsOriginalFormOf", "IsIdenticalTo", "IsReviewedBy", "Reviews", "IsDerivedFrom", "IsSourceOf",
    "IsRequiredBy", "Requires", "IsObsoletedBy", "Obsoletes", "IsCollectedBy", "Collects",
    "IsTranslationOf", "HasTranslation", "IsUsedBy", "Uses",
)}

# The info:eu-repo access-rights terms that DataCite records carry in rightsList, next to the licence.
EU_REPO_ACCESS_RIGHTS = {
    "info:eu-repo/semantics/openaccess": "open",
    "info:eu-repo/semantics/embargoedaccess": "embargoed",
    "info:eu-repo/semantics/restrictedaccess": "restricted",
    "info:eu-repo/semantics/closedaccess": "closed",
}

# Resolver IRIs for identifier schemes that have one, keyed by the lower-case scheme name as DataCite
# (relatedIdentifierType) or Zenodo (scheme) spell it. DOIs and URLs are handled separately.
SCHEME_RESOLVERS = {
    "arxiv": "https://arxiv.org/abs/",
    "handle": "https://hdl.handle.net/",
    "pmid": "https://pubmed.ncbi.nlm.nih.gov/",
    "bibcode": "https://ui.adsabs.harvard.edu/abs/",
    "ads": "https://ui.adsabs.harvard.edu/abs/",
    "ark": "https://n2t.net/",
}
URN_SCHEMES = {"isbn": "urn:isbn:", "issn": "urn:issn:", "eissn": "urn:issn:", "lissn": "urn:issn:"}

# Licence URL forms that `spdx_iri` does not read: opensource.org pages name the SPDX id in the path.
OPENSOURCE_LICENSE_URL = re.compile(r"^https?://(?:www\.)?opensource\.org/licenses?/([A-Za-z0-9.+-]+?)(?:\.php|\.html)?/?$")

ROR_ID = re.compile(r"(?:^|ror\.org/)(0[a-z0-9]{6}[0-9]{2})$")
STRICT_DOI = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
ZENODO_DOI = re.compile(r"^10\.5281/zenodo\.(\d+)$")
OSF_DOI = re.compile(r"^10\.17605/osf\.io/([a-z0-9]+)$")
ZENODO_LANDING_URL = re.compile(r"^https?://(?:www\.)?zenodo\.org/records?/(\d+)(?:[/?#]|$)", re.IGNORECASE)
OSF_LANDING_URL = re.compile(r"^https?://(?:www\.)?osf\.io/([a-z0-9]{5})(?:[/?#]|$)", re.IGNORECASE)

# The order in which DataCite descriptionType values are joined into one description.
DESCRIPTION_ORDER = ("Abstract", "Methods", "TechnicalInfo", "Other", "TableOfContents", "SeriesInformation")
BLOCK_TAG = re.compile(r"<(?:p|div|ul|ol|blockquote|pre|table|h[1-6])[\s>]", re.IGNORECASE)


class DataCiteSource:
    """Reads DOI metadata from the DataCite REST API at `base_url` (default https://api.datacite.org)."""

    def __init__(self, client: HarvestClient, base_url: str = DATACITE_API_URL):
        self.client = client
        self.base_url = base_url.rstrip("/")

    def doi(self, doi: str) -> HarvestedRecord:
        """Fetch and parse one DOI. Raises HarvestError if DataCite has no such DOI or cannot be read."""
        bare = doi_from(doi)
        if not bare:
            raise ValueError(f"invalid DOI {doi!r}: expected a DOI such as 10.5281/zenodo.1196821")
        url = f"{self.base_url}/dois/{quote(bare, safe='/')}"
        try:
            # affiliation=true makes DataCite return affiliations as objects with their ROR id.
            data = self.client.get_json(url, {"affiliation": "true"}, accept="application/vnd.api+json")
        except HttpStatusError as error:
            if error.status == 404:
                raise HarvestError(url, "DOI not found at DataCite") from error
            raise
        return parse_datacite_doi(data, url)


def parse_datacite_doi(data: dict[str, Any], api_url: str) -> HarvestedRecord:
    """Parse a DataCite REST API DOI document, or one resource object of a /dois list, into a record.

    Raises HarvestError unless the document contains exactly one DOI with a title.
    """
    item = data.get("data", data) if isinstance(data, dict) else None
    if not isinstance(item, dict):
        raise HarvestError(api_url, "expected one DataCite DOI object, not a list or a scalar")
    attributes = item.get("attributes") or {}
    doi = doi_from(attributes.get("doi") or item.get("id"))
    if not doi:
        raise HarvestError(api_url, "DataCite response has no DOI")
    title = _title(attributes.get("titles") or [])
    if not title:
        raise HarvestError(api_url, f"DataCite record {doi} has no title")

    license_found, license_label, access_rights = _rights(attributes.get("rightsList") or [])
    resource_type = _text((attributes.get("types") or {}).get("resourceTypeGeneral"))
    return HarvestedRecord(
        source="datacite",
        source_id=doi,
        api_url=api_url,
        title=title,
        resource_type=resource_type.lower() if resource_type else None,
        landing_page=_text(attributes.get("url")),
        doi=doi,
        description=_description(attributes.get("descriptions") or []),
        creators=[_person(entry) for entry in attributes.get("creators") or [] if _has_name(entry)],
        contributors=[_person(entry) for entry in attributes.get("contributors") or [] if _has_name(entry)],
        issued=_date_of_type(attributes, "Issued") or _year(attributes.get("publicationYear")),
        modified=_date_of_type(attributes, "Updated"),
        version=_text(attributes.get("version")),
        license=license_found,
        license_label=license_label,
        keywords=unique(_text(subject.get("subject")) for subject in attributes.get("subjects") or []
                        if isinstance(subject, dict)),
        related=_related(attributes.get("relatedIdentifiers") or []),
        access_rights=access_rights,
    )


def resolve_source(value: str) -> tuple[str, str]:
    """Return the harvester source and its id for a DOI or landing URL.

    Zenodo DOIs and record pages give ("zenodo", record id), OSF DOIs and project pages give
    ("osf", node id in lower case), and any other DOI gives ("datacite", DOI in lower case).
    Raises ValueError for a value that is neither a DOI nor a Zenodo or OSF landing URL.
    """
    text = value.strip()
    doi_match = STRICT_DOI.match(text)
    if doi_match:
        doi = doi_from(doi_match.group(1))
        if doi:
            zenodo = ZENODO_DOI.match(doi)
            if zenodo:
                return "zenodo", zenodo.group(1)
            osf = OSF_DOI.match(doi)
            if osf:
                return "osf", osf.group(1)
            return "datacite", doi

    zenodo_page = ZENODO_LANDING_URL.match(text)
    if zenodo_page:
        return "zenodo", zenodo_page.group(1)
    osf_page = OSF_LANDING_URL.match(text)
    if osf_page:
        return "osf", osf_page.group(1).lower()
    raise ValueError(
        f"cannot harvest {value!r}: expected a DOI (10.5281/zenodo.1196821, doi:..., https://doi.org/...), "
        "a Zenodo record URL (https://zenodo.org/records/N) or an OSF project URL (https://osf.io/abcde/)")


# Helpers shared with the Zenodo harvester


def relation_type(value: str) -> str:
    """Return the DataCite relationType spelling of a relation, e.g. "isSupplementTo" → "IsSupplementTo"."""
    text = value.strip()
    return RELATION_TYPES.get(text.lower(), text[:1].upper() + text[1:])


def identifier_iri(identifier: str, scheme: str | None) -> str:
    """Return a resolvable IRI for an identifier of a scheme where one exists, else the identifier as given.

    DOIs become https://doi.org/ IRIs in lower case, and URLs stay as they are.
    """
    text = identifier.strip()
    kind = (scheme or "").strip().lower()
    if kind == "doi" or (not kind and (text.startswith("10.") or "doi.org/" in text)):
        doi = doi_from(text)
        return f"https://doi.org/{doi}" if doi else text
    if kind in ("url", "purl", "w3id") or re.match(r"^https?://", text, re.IGNORECASE):
        return text
    if kind in SCHEME_RESOLVERS:
        local = re.sub(r"^(arxiv|pmid|hdl|ads):\s*", "", text, flags=re.IGNORECASE) if kind != "ark" else text
        return SCHEME_RESOLVERS[kind] + local
    if kind in URN_SCHEMES:
        return URN_SCHEMES[kind] + text.replace(" ", "")
    return text


def ror_iri(value: str | None) -> str | None:
    """Return the https://ror.org/ IRI for a ROR id or ROR URL, or None if `value` is not one."""
    if not value:
        return None
    match = ROR_ID.search(value.strip().rstrip("/").lower())
    return f"https://ror.org/{match.group(1)}" if match else None


def license_iri(*values: str | None) -> str | None:
    """Return the SPDX licence IRI of the first value (licence id, name or URL) that names a catalogued licence."""
    for value in values:
        if not value:
            continue
        iri = spdx_iri(value)
        if iri:
            return iri
        opensource = OPENSOURCE_LICENSE_URL.match(value.strip())
        if opensource:
            iri = spdx_iri(opensource.group(1))
            if iri:
                return iri
    return None


def date_part(value: str | None) -> str | None:
    """Return the date of an ISO 8601 date or date-time ("2023-04-17T14:26:45+00:00" → "2023-04-17")."""
    if not value:
        return None
    text = str(value).strip()
    return text.split("T", 1)[0] or None


def unique(values: Iterable[str | None]) -> list[str]:
    """Return the non-empty values in their first order, each once."""
    seen: dict[str, None] = {}
    for value in values:
        if value and value not in seen:
            seen[value] = None
    return list(seen)


# DataCite attribute parsing


def _title(titles: list[dict[str, Any]]) -> str | None:
    """Return the main title: the first without a titleType (AlternativeTitle, Subtitle, ...)."""
    main = [entry for entry in titles if isinstance(entry, dict) and not entry.get("titleType")]
    for entry in main or titles:
        text = _text(entry.get("title")) if isinstance(entry, dict) else None
        if text:
            return text
    return None


def _description(descriptions: list[dict[str, Any]]) -> str | None:
    """Join the descriptions into sanitised HTML, the Abstract first."""
    def rank(entry: dict[str, Any]) -> int:
        kind = entry.get("descriptionType")
        return DESCRIPTION_ORDER.index(kind) if kind in DESCRIPTION_ORDER else len(DESCRIPTION_ORDER)

    entries = sorted((entry for entry in descriptions if isinstance(entry, dict)), key=rank)
    texts = [text for text in (_text(entry.get("description")) for entry in entries) if text]
    if not texts:
        return None
    return sanitise_html("\n".join(_as_html(text) for text in texts))


def _as_html(text: str) -> str:
    """Return a description as HTML: HTML stays as it is, and plain text gets a paragraph per blank-line block.

    Single line breaks in plain text are left alone (HTML shows them as spaces) because DataCite
    records use them both for hard-wrapped prose and for list-like lines.
    """
    if BLOCK_TAG.search(text):
        return text
    paragraphs = [paragraph.strip() for paragraph in re.split(r"\n\s*\n", text)]
    return "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs if paragraph)


def _has_name(entry: Any) -> bool:
    return isinstance(entry, dict) and bool(_name(entry))


def _name(entry: dict[str, Any]) -> str | None:
    name = _text(entry.get("name"))
    if name:
        return name
    family_name, given_name = _text(entry.get("familyName")), _text(entry.get("givenName"))
    return ", ".join(part for part in (family_name, given_name) if part) or None


def _person(entry: dict[str, Any]) -> Person:
    orcid = None
    for identifier in entry.get("nameIdentifiers") or []:
        if isinstance(identifier, dict) and (identifier.get("nameIdentifierScheme") or "").upper() == "ORCID":
            orcid = orcid_from(identifier.get("nameIdentifier"))
            if orcid:
                break
    return Person(
        name=_name(entry) or "",
        orcid=orcid,
        affiliations=tuple(_affiliations(entry.get("affiliation") or [])),
        is_organisation=entry.get("nameType") == "Organizational",
    )


def _affiliations(values: list[Any]) -> Iterable[Affiliation]:
    """Yield affiliations given as names (the default) or as objects (with `affiliation=true`)."""
    for value in values:
        if isinstance(value, str) and value.strip():
            yield Affiliation(value.strip())
        elif isinstance(value, dict):
            ror = None
            if (value.get("affiliationIdentifierScheme") or "").upper() == "ROR":
                ror = ror_iri(value.get("affiliationIdentifier"))
            name = _text(value.get("name")) or ror
            if name:
                yield Affiliation(name, ror)


def _date_of_type(attributes: dict[str, Any], date_type: str) -> str | None:
    for entry in attributes.get("dates") or []:
        if isinstance(entry, dict) and entry.get("dateType") == date_type:
            date = date_part(entry.get("date"))
            if date:
                # A range ("2019-01-01/2019-12-31") is reduced to its start.
                return date.split("/", 1)[0] or None
    return None


def _year(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def _rights(rights_list: list[dict[str, Any]]) -> tuple[str | None, str | None, str | None]:
    """Return (licence IRI, licence label, access rights) from a rightsList.

    The label is kept only when no entry names a catalogued licence.
    """
    license_found = label = access = None
    for entry in rights_list:
        if not isinstance(entry, dict):
            continue
        uri = _text(entry.get("rightsUri"))
        if uri and uri.lower() in EU_REPO_ACCESS_RIGHTS:
            access = access or EU_REPO_ACCESS_RIGHTS[uri.lower()]
            continue
        name, identifier = _text(entry.get("rights")), _text(entry.get("rightsIdentifier"))
        license_found = license_found or license_iri(identifier, uri, name)
        label = label or identifier or name or uri
    return license_found, None if license_found else label, access


def _related(entries: list[dict[str, Any]]) -> list[RelatedIdentifier]:
    related: list[RelatedIdentifier] = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        identifier, relation = _text(entry.get("relatedIdentifier")), _text(entry.get("relationType"))
        if not identifier or not relation:
            continue
        item = RelatedIdentifier(identifier_iri(identifier, entry.get("relatedIdentifierType")),
                                 relation_type(relation), _text(entry.get("resourceTypeGeneral")))
        if item not in related:
            related.append(item)
    return related


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
