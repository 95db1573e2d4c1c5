"""Harvesting Zenodo over OAI-PMH 2.0 (https://zenodo.org/oai2d), in DataCite or Dublin Core.

`OaiSource` sends the six OAI-PMH verbs and follows resumption tokens. `parse_oai_record` turns
one <record> into a `HarvestedRecord`, reading a DataCite kernel 4 <resource> (bare, as Zenodo's
`datacite` prefix returns it, or inside an oai_datacite <payload>) or an <oai_dc:dc>. Elements are
matched on their local names, because the DataCite namespace differs between kernel versions.
"""

from __future__ import annotations

import html
import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from urllib.parse import urlsplit

from .http import HarvestClient, HttpStatusError, build_url, parse_xml
from .model import Affiliation, HarvestedRecord, HarvestError, Person, RelatedIdentifier
from .normalise import doi_from, orcid_from, sanitise_html, spdx_iri

log = logging.getLogger("umud.harvest.oai")

ZENODO_OAI = "https://zenodo.org/oai2d"
DATACITE_PREFIXES = frozenset({"datacite", "datacite4", "oai_datacite", "oai_datacite4"})
SUPPORTED_PREFIXES = DATACITE_PREFIXES | {"oai_dc"}
# The OAI-PMH error code that means an empty list, not a failure.
NO_RECORDS_MATCH = "noRecordsMatch"

DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
SECOND = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
ISO_DATE_PREFIX = re.compile(r"\d{4}(-\d{2}(-\d{2})?)?")
ZENODO_IDENTIFIER = re.compile(r"oai:zenodo\.org:(\d+)")
ROR_ID = re.compile(r"(?:https?://ror\.org/)?(0[0-9a-z]{8})", re.IGNORECASE)

# The OpenAIRE access-rights terms that Zenodo puts in rightsList and dc:rights.
ACCESS_RIGHTS = {
    "info:eu-repo/semantics/openaccess": "open",
    "info:eu-repo/semantics/embargoedaccess": "embargoed",
    "info:eu-repo/semantics/restrictedaccess": "restricted",
    "info:eu-repo/semantics/closedaccess": "closed",
}
# Licence URLs that `spdx_iri` does not resolve: opensource.org pages named after the SPDX id,
# and the Apache Software Foundation's own URL of Apache-2.0.
OPENSOURCE_ORG_URL = re.compile(r"opensource\.org/licenses?/([A-Za-z0-9.+-]+?)(?:\.php|\.html)?/?$", re.IGNORECASE)
APACHE_2_URL = re.compile(r"apache\.org/licenses/LICENSE-2\.0", re.IGNORECASE)
# dc:type values of the info:eu-repo/semantics vocabulary (OpenAIRE guidelines) as DataCite
# resourceTypeGeneral in lower case. Unlisted ones keep their own name in lower case.
EU_REPO_TYPES = {
    "article": "journalarticle",
    "bachelorthesis": "dissertation",
    "masterthesis": "dissertation",
    "doctoralthesis": "dissertation",
    "book": "book",
    "bookpart": "bookchapter",
    "conferenceobject": "conferencepaper",
    "conferencepaper": "conferencepaper",
    "conferenceproceedings": "conferenceproceeding",
    "technicaldocumentation": "text",
    "workingpaper": "text",
    "lecture": "text",
    "annotation": "text",
    "review": "text",
    "contributiontoperiodical": "text",
}
# dc:relation does not name the kind of relation, so the RDF mapping writes it as dcterms:relation.
DC_RELATION = "Relation"


class OaiError(HarvestError):
    """An OAI-PMH <error> response: `code` is the OAI-PMH error code, e.g. badArgument."""

    def __init__(self, url: str, code: str, message: str = ""):
        self.code = code
        self.message = message
        super().__init__(url, f"OAI-PMH error {code}: {message}" if message else f"OAI-PMH error {code}")


@dataclass(frozen=True)
class DeletedRecord:
    """A record the repository reports as deleted (header status="deleted")."""

    identifier: str
    datestamp: str | None = None


# Parsing


def parse_oai_record(record: ET.Element, api_url: str) -> HarvestedRecord | DeletedRecord:
    """Parse one OAI-PMH <record>. Raises HarvestError when its metadata cannot be read."""
    header = _child(record, "header")
    if header is None:
        raise HarvestError(api_url, "OAI-PMH record has no <header>")
    identifier = _text(_child(header, "identifier")) or ""
    if header.get("status") == "deleted":
        return DeletedRecord(identifier, _text(_child(header, "datestamp")))

    metadata = _child(record, "metadata")
    if metadata is None or len(metadata) == 0:
        raise HarvestError(api_url, f"record {identifier} has no metadata")
    resource = _first_descendant(metadata, "resource")
    if resource is not None:
        return parse_datacite(resource, identifier, api_url)
    dublin_core = _first_descendant(metadata, "dc")
    if dublin_core is not None:
        return parse_oai_dc(dublin_core, identifier, api_url)
    raise HarvestError(api_url, f"record {identifier}: metadata <{_local(metadata[0].tag)}> is not supported; "
                                "request metadataPrefix datacite or oai_dc")


def parse_datacite(resource: ET.Element, identifier: str, api_url: str) -> HarvestedRecord:
    """Parse a DataCite kernel 4 <resource> of the OAI record `identifier`."""
    titles = _children(_child(resource, "titles"), "title")
    title = next((_text(element) for element in titles if not element.get("titleType") and _text(element)), None)
    title = title or next((_text(element) for element in titles if _text(element)), None)
    if not title:
        raise HarvestError(api_url, f"record {identifier} has no title")

    record = HarvestedRecord(source="oai", source_id=identifier, api_url=api_url, title=title)
    record.doi = next((doi_from(_text(element)) for element in _children(resource, "identifier")
                       if (element.get("identifierType") or "").upper() == "DOI"), None)
    resource_type = _child(resource, "resourceType")
    if resource_type is not None and resource_type.get("resourceTypeGeneral"):
        record.resource_type = resource_type.get("resourceTypeGeneral").lower()
    record.creators = _datacite_people(_children(_child(resource, "creators"), "creator"), "creatorName")
    record.contributors = _datacite_people(_children(_child(resource, "contributors"), "contributor"),
                                           "contributorName")
    record.description = _datacite_description(resource)
    _read_datacite_dates(resource, record)
    record.version = _text(_child(resource, "version"))
    _read_datacite_rights(resource, record)
    record.keywords = _unique(_text(element) for element in _children(_child(resource, "subjects"), "subject"))
    _read_datacite_relations(resource, record)
    record.landing_page = record.landing_page or zenodo_landing_page(identifier)
    return record


def parse_oai_dc(dublin_core: ET.Element, identifier: str, api_url: str) -> HarvestedRecord:
    """Parse an <oai_dc:dc> of the OAI record `identifier`."""
    values = {}
    for element in dublin_core:
        text = _text(element)
        if text:
            values.setdefault(_local(element.tag), []).append(text)
    title = next(iter(values.get("title", [])), None)
    if not title:
        raise HarvestError(api_url, f"record {identifier} has no title")

    record = HarvestedRecord(source="oai", source_id=identifier, api_url=api_url, title=title)
    record.creators = [Person(name) for name in values.get("creator", [])]
    record.contributors = [Person(name) for name in values.get("contributor", [])]
    # Zenodo sends a second description, a citation hint, after the abstract.
    record.description = _clean_description(next(iter(values.get("description", [])), None))
    record.issued = next((issued for value in values.get("date", []) if (issued := _iso_date(value))), None)
    record.keywords = _unique(values.get("subject", []))
    record.resource_type = _dc_type(values.get("type", []))

    for value in values.get("identifier", []):
        doi = _dc_doi(value)
        if doi:
            record.doi = record.doi or doi
        elif _is_zenodo_url(value) and not record.landing_page:
            record.landing_page = value
        elif value.startswith(("http://", "https://")):
            # Zenodo lists the URL of the original of a copied record, e.g. a Plazi treatment.
            record.related.append(RelatedIdentifier(value, "IsIdenticalTo"))
    record.landing_page = record.landing_page or zenodo_landing_page(identifier)

    licences = []
    for value in values.get("rights", []):
        access = ACCESS_RIGHTS.get(value.lower())
        if access:
            record.access_rights = record.access_rights or access
        else:
            licences.append(value)
    record.license = next((iri for value in licences if (iri := license_iri(value))), None)
    record.license_label = None if record.license else next(iter(licences), None)

    for value in values.get("relation", []):
        doi = _dc_doi(value)
        if doi and doi != record.doi:
            record.related.append(RelatedIdentifier(f"https://doi.org/{doi}", DC_RELATION))
        elif not doi and value.startswith(("http://", "https://")):
            record.related.append(RelatedIdentifier(value, DC_RELATION))
    return record


def _dc_doi(value: str) -> str | None:
    """Return the DOI of a doi: URI, doi.org URL or bare DOI, but not of a DOI inside another URL."""
    if value.lower().startswith(("doi:", "10.")) or urlsplit(value).hostname in ("doi.org", "dx.doi.org"):
        return doi_from(value)
    return None


def _is_zenodo_url(value: str) -> bool:
    host = (urlsplit(value).hostname or "").lower()
    return value.startswith(("http://", "https://")) and (host == "zenodo.org" or host.endswith(".zenodo.org"))


def zenodo_landing_page(identifier: str) -> str | None:
    """Return the Zenodo record page of an identifier such as oai:zenodo.org:10357859."""
    match = ZENODO_IDENTIFIER.fullmatch(identifier)
    return f"https://zenodo.org/records/{match.group(1)}" if match else None


def license_iri(value: str | None) -> str | None:
    """Return the SPDX IRI of a licence id, name or URL, including the URL forms `spdx_iri` misses."""
    if not value:
        return None
    iri = spdx_iri(value)
    if iri:
        return iri
    match = OPENSOURCE_ORG_URL.search(value)
    if match:
        return spdx_iri(match.group(1))
    return spdx_iri("Apache-2.0") if APACHE_2_URL.search(value) else None


def _datacite_people(elements: list[ET.Element], name_tag: str) -> list[Person]:
    people = []
    for element in elements:
        name_element = _child(element, name_tag)
        name = _text(name_element)
        if not name:
            parts = [_text(_child(element, "givenName")), _text(_child(element, "familyName"))]
            name = " ".join(part for part in parts if part)
        if not name:
            continue
        orcid = next((orcid_from(_text(identifier)) for identifier in _children(element, "nameIdentifier")
                      if (identifier.get("nameIdentifierScheme") or "").upper() == "ORCID"), None)
        affiliations = tuple(affiliation for affiliation in map(_affiliation, _children(element, "affiliation"))
                             if affiliation is not None)
        organisational = name_element is not None and name_element.get("nameType") == "Organizational"
        people.append(Person(name, orcid=orcid, affiliations=affiliations, is_organisation=organisational))
    return people


def _affiliation(element: ET.Element) -> Affiliation | None:
    name = _text(element)
    if not name:
        return None
    ror = None
    if (element.get("affiliationIdentifierScheme") or "").upper() == "ROR":
        match = ROR_ID.fullmatch((element.get("affiliationIdentifier") or "").strip())
        ror = f"https://ror.org/{match.group(1).lower()}" if match else None
    return Affiliation(name, ror)


def _datacite_description(resource: ET.Element) -> str | None:
    """Return the Abstract descriptions (or, without any, the untyped ones), sanitised."""
    descriptions = _children(_child(resource, "descriptions"), "description")
    chosen = [element for element in descriptions if element.get("descriptionType") == "Abstract"]
    chosen = chosen or [element for element in descriptions if not element.get("descriptionType")]
    texts = [text for text in map(_text_with_breaks, chosen) if text]
    return _clean_description("\n\n".join(texts)) if texts else None


def _read_datacite_dates(resource: ET.Element, record: HarvestedRecord) -> None:
    for element in _children(_child(resource, "dates"), "date"):
        value = _iso_date(_text(element))
        kind = element.get("dateType")
        if kind == "Issued" and value and not record.issued:
            record.issued = value
        elif kind == "Updated" and value and not record.modified:
            record.modified = value
    record.issued = record.issued or _iso_date(_text(_child(resource, "publicationYear")))


def _read_datacite_rights(resource: ET.Element, record: HarvestedRecord) -> None:
    label = None
    for rights in _children(_child(resource, "rightsList"), "rights"):
        uri = (rights.get("rightsURI") or "").strip()
        text = _text(rights)
        access = ACCESS_RIGHTS.get(uri.lower()) or ACCESS_RIGHTS.get((text or "").lower())
        if access:
            record.access_rights = record.access_rights or access
            continue
        iri = license_iri(rights.get("rightsIdentifier")) or license_iri(uri) or license_iri(text)
        if iri and not record.license:
            record.license = iri
        elif not iri and label is None:
            label = text or rights.get("rightsIdentifier") or uri or None
    record.license_label = None if record.license else label


def _read_datacite_relations(resource: ET.Element, record: HarvestedRecord) -> None:
    for element in _children(_child(resource, "relatedIdentifiers"), "relatedIdentifier"):
        value = _text(element)
        relation = element.get("relationType")
        if not value or not relation:
            continue
        kind = (element.get("relatedIdentifierType") or "").upper()
        if relation == "IsVersionOf" and kind == "DOI" and not record.concept_doi:
            # Zenodo links each version to the concept DOI that stands for all versions.
            record.concept_doi = doi_from(value)
        record.related.append(RelatedIdentifier(_identifier_iri(value, kind), relation,
                                                element.get("resourceTypeGeneral")))

    for element in _children(_child(resource, "alternateIdentifiers"), "alternateIdentifier"):
        value = _text(element)
        if not value or (element.get("alternateIdentifierType") or "").upper() != "URL":
            continue
        if _is_zenodo_url(value) and not record.landing_page:
            record.landing_page = value
        else:
            record.related.append(RelatedIdentifier(value, "IsIdenticalTo"))


def _identifier_iri(value: str, kind: str) -> str:
    """Return a related identifier as an IRI where its type has a resolver."""
    if kind == "DOI":
        doi = doi_from(value)
        return f"https://doi.org/{doi}" if doi else value
    if kind == "ARXIV":
        return f"https://arxiv.org/abs/{re.sub(r'^arxiv:', '', value, flags=re.IGNORECASE)}"
    if kind == "HANDLE" and not value.startswith(("http://", "https://")):
        return f"https://hdl.handle.net/{value}"
    if kind == "PMID" and value.isdigit():
        return f"https://pubmed.ncbi.nlm.nih.gov/{value}/"
    return value


def _dc_type(values: list[str]) -> str | None:
    """Return the first dc:type other than "other" as a DataCite type, or "other"."""
    types = []
    for value in values:
        name = value.rsplit("/", 1)[-1] if value.startswith("info:eu-repo/semantics/") else value
        types.append(EU_REPO_TYPES.get(name.lower(), name.lower()))
    return next((kind for kind in types if kind != "other"), types[0] if types else None)


def _clean_description(text: str | None) -> str | None:
    """Return a description as sanitised HTML.

    Zenodo's current oai_dc escapes its HTML twice, so the parsed text contains `&lt;p&gt;` instead
    of `<p>`. Such text is unescaped once before sanitising.
    """
    if not text:
        return None
    if "<" not in text and re.search(r"&lt;/?[a-zA-Z]", text):
        text = html.unescape(text)
    return sanitise_html(text)


def _iso_date(value: str | None) -> str | None:
    """Return the leading ISO date (YYYY, YYYY-MM or YYYY-MM-DD) of a date, datetime or range."""
    match = ISO_DATE_PREFIX.match((value or "").strip())
    return match.group(0) if match else None


def _unique(values) -> list[str]:
    unique: list[str] = []
    for value in values:
        if value and value not in unique:
            unique.append(value)
    return unique


# XML helpers: elements are matched on their local name, whatever their namespace.


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element | None, name: str) -> ET.Element | None:
    if element is None:
        return None
    return next((child for child in element if _local(child.tag) == name), None)


def _children(element: ET.Element | None, name: str) -> list[ET.Element]:
    if element is None:
        return []
    return [child for child in element if _local(child.tag) == name]


def _first_descendant(element: ET.Element, name: str) -> ET.Element | None:
    return next((child for child in element.iter() if child is not element and _local(child.tag) == name), None)


def _text(element: ET.Element | None) -> str | None:
    if element is None:
        return None
    text = "".join(element.itertext()).strip()
    return text or None


def _text_with_breaks(element: ET.Element) -> str | None:
    """Return an element's text with DataCite's <br/> children kept as HTML line breaks."""
    parts = [element.text or ""]
    for child in element:
        parts.append("<br>" if _local(child.tag) == "br" else "".join(child.itertext()))
        parts.append(child.tail or "")
    return "".join(parts).strip() or None


# Fetching


def oai_datestamp(value: str | date | None, name: str) -> str | None:
    """Return a from/until argument as an OAI-PMH datestamp. Raises ValueError when it is invalid.

    Accepts YYYY-MM-DD, YYYY-MM-DDThh:mm:ssZ (UTC), a `date` or a timezone-aware `datetime`.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"invalid {name} datetime {value!r}: give it a timezone, e.g. timezone.utc")
        return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, date):
        return value.isoformat()

    text = str(value).strip()
    invalid = ValueError(f"invalid {name} date {text!r}: expected YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ (UTC)")
    if DAY.fullmatch(text):
        pattern = "%Y-%m-%d"
    elif SECOND.fullmatch(text):
        pattern = "%Y-%m-%dT%H:%M:%SZ"
    else:
        raise invalid
    try:
        datetime.strptime(text, pattern)  # rejects a month 13 or an hour 25
    except ValueError:
        raise invalid from None
    return text


class OaiSource:
    """An OAI-PMH 2.0 repository, Zenodo by default.

    Every list method follows resumption tokens until the repository sends an empty or no token.
    A token that comes back a second time ends the list with a warning, so a repository that
    repeats a page cannot keep a harvest running forever. A resumed request carries only the
    verb and the token, as OAI-PMH requires.
    """

    def __init__(self, client: HarvestClient, base_url: str = ZENODO_OAI):
        self.client = client
        self.base_url = base_url.rstrip("/")

    def identify(self) -> dict[str, str | list[str] | None]:
        """Return the repository's Identify fields, with adminEmail as a list."""
        identify = self._container(self._request({"verb": "Identify"}), "Identify")
        fields: dict[str, str | list[str] | None] = {
            name: _text(_child(identify, name)) for name in (
                "repositoryName", "baseURL", "protocolVersion", "earliestDatestamp", "deletedRecord", "granularity")}
        fields["adminEmail"] = [text for text in map(_text, _children(identify, "adminEmail")) if text]
        return fields

    def list_metadata_formats(self, identifier: str | None = None) -> list[dict[str, str | None]]:
        """Return the metadata formats, each with metadataPrefix, schema and metadataNamespace."""
        params = {"verb": "ListMetadataFormats", **({"identifier": identifier} if identifier else {})}
        formats = self._container(self._request(params), "ListMetadataFormats")
        return [{name: _text(_child(element, name)) for name in ("metadataPrefix", "schema", "metadataNamespace")}
                for element in _children(formats, "metadataFormat")]

    def list_sets(self) -> Iterator[dict[str, str | None]]:
        """Yield each set with its setSpec, setName and setDescription (sanitised HTML or None)."""
        for element in self._list({"verb": "ListSets"}, "set"):
            description = _first_descendant(element, "description")
            yield {"setSpec": _text(_child(element, "setSpec")), "setName": _text(_child(element, "setName")),
                   "setDescription": _clean_description(_text(description))}

    def list_identifiers(self, metadata_prefix: str, set: str | None = None, from_: str | date | None = None,
                         until: str | date | None = None) -> Iterator[dict]:
        """Return an iterator over record headers: identifier, datestamp, setSpec (a list), deleted.

        The arguments are checked at the call, before any request, and invalid ones raise ValueError.
        """
        params = self._list_params("ListIdentifiers", metadata_prefix, set, from_, until)
        return (_header(element) for element in self._list(params, "header"))

    def list_records(self, metadata_prefix: str = "datacite", set: str | None = None,
                     from_: str | date | None = None, until: str | date | None = None,
                     ) -> Iterator[HarvestedRecord | DeletedRecord | HarvestError]:
        """Return an iterator over the records, parsed, with deleted ones as DeletedRecord.

        A record whose metadata cannot be parsed is yielded as its HarvestError and the list goes
        on. A failed page raises HarvestError (OaiError for an OAI-PMH error other than
        noRecordsMatch, which yields nothing). The arguments are checked at the call, before any
        request, and invalid ones raise ValueError.
        """
        _check_prefix(metadata_prefix)
        params = self._list_params("ListRecords", metadata_prefix, set, from_, until)
        return self._records(params, metadata_prefix)

    def get_record(self, identifier: str, metadata_prefix: str = "datacite") -> HarvestedRecord:
        """Fetch and parse one record. Raises OaiError (e.g. idDoesNotExist), or HarvestError if it is deleted."""
        _check_prefix(metadata_prefix)
        params = {"verb": "GetRecord", "identifier": identifier, "metadataPrefix": metadata_prefix}
        url = build_url(self.base_url, params)
        record = _child(self._container(self._request(params), "GetRecord"), "record")
        if record is None:
            raise HarvestError(url, "GetRecord response has no <record>")
        parsed = parse_oai_record(record, url)
        if isinstance(parsed, DeletedRecord):
            raise HarvestError(url, f"record {identifier} is deleted (datestamp {parsed.datestamp})")
        return parsed

    def _records(self, params: dict, metadata_prefix: str) -> Iterator[HarvestedRecord | DeletedRecord | HarvestError]:
        for element in self._list(params, "record"):
            identifier = _text(_child(_child(element, "header"), "identifier")) or ""
            # The GetRecord URL of the record, so its provenance does not change with the page it came on.
            url = build_url(self.base_url, {"verb": "GetRecord", "identifier": identifier,
                                            "metadataPrefix": metadata_prefix})
            try:
                yield parse_oai_record(element, url)
            except HarvestError as error:
                log.warning("OAI-PMH record %s skipped: %s", identifier, error.reason)
                yield error

    def _list_params(self, verb: str, metadata_prefix: str, set: str | None, from_, until) -> dict[str, str]:
        start = oai_datestamp(from_, "from")
        end = oai_datestamp(until, "until")
        if start and end:
            if len(start) != len(end):
                raise ValueError(f"from {start} and until {end} must have the same granularity (both dates or both datetimes)")
            if start > end:
                raise ValueError(f"from {start} is later than until {end}")
        if not metadata_prefix:
            raise ValueError("a metadataPrefix is required, e.g. datacite or oai_dc")
        params = {"verb": verb, "metadataPrefix": metadata_prefix}
        optional = {"set": set, "from": start, "until": end}
        params.update({key: value for key, value in optional.items() if value})
        return params

    def _list(self, params: dict[str, str], item: str) -> Iterator[ET.Element]:
        """Yield the `item` elements of a list response and of each page its resumption tokens lead to."""
        verb = params["verb"]
        seen: set[str] = set()
        while True:
            try:
                root = self._request(params)
            except OaiError as error:
                if error.code == NO_RECORDS_MATCH:
                    return
                raise
            container = self._container(root, verb, build_url(self.base_url, params))
            yield from _children(container, item)

            token = _text(_child(container, "resumptionToken"))
            if not token:
                return
            if token in seen:
                log.warning("OAI-PMH %s at %s stopped: resumption token %s came back a second time",
                            verb, self.base_url, token)
                return
            seen.add(token)
            params = {"verb": verb, "resumptionToken": token}

    def _request(self, params: dict[str, str]) -> ET.Element:
        """Send one OAI-PMH request. Raises OaiError for an <error> response, whatever its HTTP status."""
        url = build_url(self.base_url, params)
        try:
            root = self.client.get_xml(self.base_url, params)
        except HttpStatusError as error:
            # Zenodo returns OAI-PMH errors with HTTP 422 and the <error> document as the body.
            root = _error_document(error.body)
            if root is None:
                raise
        errors = _children(root, "error")
        if errors:
            code = errors[0].get("code") or "unknown"
            message = "; ".join(text for text in map(_text, errors) if text)
            raise OaiError(url, code, message)
        return root

    def _container(self, root: ET.Element, verb: str, url: str | None = None) -> ET.Element:
        container = _child(root, verb)
        if container is None:
            raise HarvestError(url or self.base_url, f"OAI-PMH response has no <{verb}> element")
        return container


def _check_prefix(metadata_prefix: str) -> None:
    if metadata_prefix not in SUPPORTED_PREFIXES:
        raise ValueError(f"metadataPrefix {metadata_prefix!r} cannot be parsed into records; "
                         f"use one of {', '.join(sorted(SUPPORTED_PREFIXES))}")


def _error_document(body: bytes | None) -> ET.Element | None:
    """Return an error response body as OAI-PMH XML, or None when it is something else."""
    if not body:
        return None
    try:
        root = parse_xml(body)
    except ValueError:
        return None
    return root if _local(root.tag) == "OAI-PMH" and _children(root, "error") else None


def _header(element: ET.Element) -> dict:
    return {
        "identifier": _text(_child(element, "identifier")),
        "datestamp": _text(_child(element, "datestamp")),
        "setSpec": [text for text in map(_text, _children(element, "setSpec")) if text],
        "deleted": element.get("status") == "deleted",
    }
