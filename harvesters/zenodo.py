"""Zenodo: records from the REST API of zenodo.org (or another InvenioRDM instance) by id, search or community.

`parse_zenodo_record` reads the three JSON shapes that `/api/records` has served:

- legacy zenodo.org (before its October 2023 move to InvenioRDM): `metadata.creators[]` with
  name/orcid/affiliation, `metadata.license.id`, `files[]` with bucket/key/"md5:" checksum/links.self;
- current zenodo.org (`application/json`, Zenodo-compatible): the same metadata, `files[]` with
  id/key/size/checksum and links.self ending in `/content`; search hits list files as
  filename/filesize/checksum (bare MD5 hex) with links.download;
- native InvenioRDM (`application/vnd.inveniordm.v1+json`): `metadata.creators[].person_or_org`,
  `resource_type.id`, `rights[]`, `pids.doi`, `parent.pids.doi` and `files.entries`.

Links inside records (file URLs, landing pages) are stored as data and never fetched.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

from .datacite import date_part, identifier_iri, license_iri, relation_type, ror_iri, unique
from .http import HarvestClient, build_url
from .model import Affiliation, HarvestedFile, HarvestedRecord, HarvestError, Person, RelatedIdentifier
from .normalise import doi_from, orcid_from, sanitise_html

log = logging.getLogger("umud.harvest")

ZENODO_URL = "https://zenodo.org"
RECORD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
ACCESS_RIGHTS = {"open", "embargoed", "restricted", "closed"}
# Since November 2025 zenodo.org rejects an anonymous search for more than 25 hits a page with HTTP 400
# (the limit is 100 with an access token). It also rejects any page that reaches beyond the first 10,000 hits.
DEFAULT_PAGE_SIZE = 25
MAX_RESULT_WINDOW = 10_000

# InvenioRDM resource type ids (Zenodo's "type-subtype") and the DataCite resourceTypeGeneral of each,
# from the props.datacite_general of invenio-rdm-records' resource_types.yaml vocabulary. Legacy
# Zenodo's "publication-thesis" is InvenioRDM's "publication-dissertation".
RESOURCE_TYPES = {
    "publication": "Text",
    "publication-annotationcollection": "Collection",
    "publication-book": "Book",
    "publication-section": "BookChapter",
    "publication-conferencepaper": "ConferencePaper",
    "publication-conferenceproceeding": "ConferenceProceeding",
    "publication-datamanagementplan": "OutputManagementPlan",
    "publication-journal": "Journal",
    "publication-article": "JournalArticle",
    "publication-patent": "Text",
    "publication-peerreview": "PeerReview",
    "publication-preprint": "Preprint",
    "publication-deliverable": "Text",
    "publication-milestone": "Text",
    "publication-proposal": "Text",
    "publication-report": "Report",
    "publication-softwaredocumentation": "Text",
    "publication-taxonomictreatment": "Text",
    "publication-technicalnote": "Text",
    "publication-workingpaper": "Text",
    "publication-datapaper": "DataPaper",
    "publication-dissertation": "Dissertation",
    "publication-thesis": "Dissertation",
    "publication-standard": "Standard",
    "publication-other": "Text",
    "poster": "Text",
    "presentation": "Text",
    "event": "Event",
    "dataset": "Dataset",
    "image": "Image",
    "model": "Model",
    "video": "Audiovisual",
    "audio": "Sound",
    "software": "Software",
    "software-computationalnotebook": "ComputationalNotebook",
    "lesson": "InteractiveResource",
    "other": "Other",
    "physicalobject": "PhysicalObject",
    "workflow": "Workflow",
}

# Media types from Python's built-in table only, so the guess does not depend on the host's
# /etc/mime.types, plus the DICOM type (RFC 3240) that ultrasound data often uses.
MEDIA_TYPES = mimetypes.MimeTypes()
MEDIA_TYPES.add_type("application/dicom", ".dcm")
# The media type of a compressed file named by its outer compression (`data.tsv.gz` is a gzip file).
COMPRESSION_MEDIA_TYPES = {"gzip": "application/gzip", "bzip2": "application/x-bzip2", "xz": "application/x-xz",
                           "br": "application/x-brotli", "compress": "application/x-compress"}


class ZenodoSource:
    """Reads records from the Zenodo REST API under `base_url` (default https://zenodo.org).

    Only URLs under `base_url` are requested, and the caller's HarvestClient rejects any other.
    """

    def __init__(self, client: HarvestClient, base_url: str = ZENODO_URL):
        self.client = client
        self.base_url = base_url.rstrip("/")

    def record(self, record_id: str | int) -> HarvestedRecord:
        """Fetch and parse one record (GET {base}/api/records/{id}). Raises HarvestError if it cannot be read."""
        identifier = str(record_id).strip()
        if not RECORD_ID.fullmatch(identifier):
            raise ValueError(f"invalid Zenodo record id {record_id!r}: expected a record number such as 7834392")
        url = f"{self.base_url}/api/records/{quote(identifier)}"
        return parse_zenodo_record(self.client.get_json(url), url)

    def search(self, query: str, *, size: int = DEFAULT_PAGE_SIZE,
               max_records: int | None = None) -> Iterator[HarvestedRecord | HarvestError]:
        """Yield the records that a Zenodo search query finds (GET {base}/api/records?q=...), page by page.

        A hit that cannot be parsed is yielded as its HarvestError and the search goes on. A page
        that cannot be fetched raises HarvestError.
        """
        return self._search({"q": query}, size=size, max_records=max_records)

    def community(self, community_id: str, *, size: int = DEFAULT_PAGE_SIZE,
                  max_records: int | None = None) -> Iterator[HarvestedRecord | HarvestError]:
        """Yield the records of a community, by its identifier in URLs (e.g. "covid-19").

        Uses GET {base}/api/records?communities={id}, Zenodo's record search filtered by community,
        rather than the InvenioRDM form {base}/api/communities/{id}/records.
        """
        return self._search({"communities": community_id}, size=size, max_records=max_records)

    def _search(self, filters: dict[str, str], *, size: int,
                max_records: int | None) -> Iterator[HarvestedRecord | HarvestError]:
        """Page through /api/records with `filters`, following links.next or else counting pages.

        Stops when the hits run out, when the server gives no next link, at `max_records`, at the
        result window, and (with a warning) when a next link repeats a page already read or a page
        holds only records already read.
        """
        if size < 1:
            raise ValueError(f"invalid search page size {size}: expected 1 or more")
        search_url = f"{self.base_url}/api/records"
        page = 1
        url, params = search_url, {**filters, "size": size, "page": page}
        requested: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
        seen_records: set[str] = set()
        yielded = 0

        while max_records is None or yielded < max_records:
            page_key = _page_key(url, params)
            page_url = build_url(url, params)
            if page_key in requested:
                log.warning("Zenodo search: next page %s was already read; stopping to avoid a loop", page_url)
                return
            requested.add(page_key)

            data = self.client.get_json(url, params)
            hits, total = _search_hits(data, page_url)
            if not hits:
                return
            new_hits = [hit for hit in hits if _hit_key(hit) not in seen_records]
            if not new_hits:
                log.warning("Zenodo search: page %s repeats only records already read; stopping", page_url)
                return

            for hit in new_hits:
                seen_records.add(_hit_key(hit))
                try:
                    yield parse_zenodo_record(hit, page_url)
                except HarvestError as error:
                    log.warning("Zenodo search: a hit on %s could not be parsed: %s", page_url, error.reason)
                    yield error
                yielded += 1
                if max_records is not None and yielded >= max_records:
                    return

            page += 1  # from here on, the number of the next page
            links = data.get("links") if isinstance(data.get("links"), dict) else None
            next_link = links.get("next") if links else None
            if next_link and next_link.startswith(self.base_url + "/"):
                url, params = next_link, None
                continue
            if links and "self" in links and not next_link:
                return  # the server lists its pages and this one is the last
            # No links, or a next link to another host (e.g. zenodo.org behind a mirror): count pages.
            if len(hits) < size or (total is not None and (page - 1) * size >= total):
                return
            if page * size > MAX_RESULT_WINDOW:
                log.warning("Zenodo search: stopping after %d hits, the most a search can page through",
                            MAX_RESULT_WINDOW)
                return
            url, params = search_url, {**filters, "size": size, "page": page}


def parse_zenodo_record(data: dict[str, Any], api_url: str) -> HarvestedRecord:
    """Parse a Zenodo or InvenioRDM record (or search hit) in any of the three shapes into a record.

    Raises HarvestError if the record has no id or no title.
    """
    if not isinstance(data, dict):
        raise HarvestError(api_url, "expected a Zenodo record object")
    if _is_native(data):
        return _parse_native(data, api_url)
    return _parse_zenodo_compatible(data, api_url)


# Legacy and current Zenodo-compatible records


def _parse_zenodo_compatible(data: dict[str, Any], api_url: str) -> HarvestedRecord:
    metadata = data.get("metadata") or {}
    record_id = _record_id(data, api_url)
    doi = doi_from(data.get("doi") or metadata.get("doi"))
    concept_doi = doi_from(data.get("conceptdoi"))
    license_value = metadata.get("license")
    license_fields = license_value if isinstance(license_value, dict) else {"id": license_value}
    license_found = license_iri(license_fields.get("id"), license_fields.get("url"), license_fields.get("title"))
    resource_type = metadata.get("resource_type") if isinstance(metadata.get("resource_type"), dict) else {}
    access = str(metadata.get("access_right") or "").lower()

    return HarvestedRecord(
        source="zenodo",
        source_id=record_id,
        api_url=api_url,
        title=_title(data, metadata, api_url),
        resource_type=_general_type(_type_id(resource_type.get("type"), resource_type.get("subtype")), lower=True),
        landing_page=_landing_page(data.get("links") or {}),
        doi=doi,
        concept_doi=concept_doi,
        description=sanitise_html(_text(metadata.get("description"))),
        creators=[_zenodo_person(entry) for entry in metadata.get("creators") or [] if _has_text(entry, "name")],
        contributors=[_zenodo_person(entry) for entry in metadata.get("contributors") or [] if _has_text(entry, "name")],
        issued=_text(metadata.get("publication_date")),
        modified=date_part(data.get("modified") or data.get("updated")),
        version=_text(metadata.get("version")),
        license=license_found,
        license_label=None if license_found else _text(license_fields.get("id") or license_fields.get("title")),
        keywords=unique(_text(keyword) for keyword in metadata.get("keywords") or []),
        related=_with_concept(_zenodo_related(metadata.get("related_identifiers") or []), concept_doi),
        access_rights=access if access in ACCESS_RIGHTS else None,
        files=[_zenodo_file(entry) for entry in data.get("files") or []
               if _has_text(entry, "key") or _has_text(entry, "filename")],
    )


def _zenodo_person(entry: dict[str, Any]) -> Person:
    affiliation = _text(entry.get("affiliation"))
    return Person(
        name=_text(entry.get("name")) or "",
        orcid=orcid_from(entry.get("orcid")),
        affiliations=(Affiliation(affiliation),) if affiliation else (),
    )


def _zenodo_related(entries: list[dict[str, Any]]) -> list[RelatedIdentifier]:
    related: list[RelatedIdentifier] = []
    for entry in entries:
        if not isinstance(entry, dict) or not _text(entry.get("identifier")) or not _text(entry.get("relation")):
            continue
        item = RelatedIdentifier(identifier_iri(entry["identifier"], entry.get("scheme")),
                                 relation_type(entry["relation"]), _general_type(_text(entry.get("resource_type"))))
        if item not in related:
            related.append(item)
    return related


def _zenodo_file(entry: dict[str, Any]) -> HarvestedFile:
    """Return a file of a single record (key/size) or of a search hit (filename/filesize)."""
    name = _text(entry.get("key")) or _text(entry.get("filename")) or ""
    links = entry.get("links") or {}
    given_type = _text(entry.get("mimetype")) or _text(entry.get("type"))
    return HarvestedFile(
        name=name,
        # A search hit's links.self is the file's metadata, while links.download (or .../content) is the file.
        download_url=links.get("download") or links.get("content") or links.get("self"),
        size=_integer(entry.get("size", entry.get("filesize"))),
        checksum=_checksum(entry.get("checksum")),
        # Legacy records give the extension ("zip") as the type, which is not a media type.
        media_type=given_type if given_type and "/" in given_type else guess_media_type(name),
    )


# Native InvenioRDM records


def _parse_native(data: dict[str, Any], api_url: str) -> HarvestedRecord:
    metadata = data.get("metadata") or {}
    links = data.get("links") or {}
    parent_pids = (data.get("parent") or {}).get("pids") or {}
    concept_doi = doi_from((parent_pids.get("doi") or {}).get("identifier"))
    license_found, license_label = _native_rights(metadata.get("rights") or [])

    return HarvestedRecord(
        source="zenodo",
        source_id=_record_id(data, api_url),
        api_url=api_url,
        title=_title(data, metadata, api_url),
        resource_type=_general_type(_id_of(metadata.get("resource_type")), lower=True),
        landing_page=_landing_page(links),
        doi=doi_from(((data.get("pids") or {}).get("doi") or {}).get("identifier")),
        concept_doi=concept_doi,
        description=sanitise_html(_text(metadata.get("description"))),
        creators=_native_people(metadata.get("creators") or []),
        contributors=_native_people(metadata.get("contributors") or []),
        # publication_date is an EDTF date or range ("2020-01/2020-03"), and a range is reduced to its start.
        issued=(_text(metadata.get("publication_date")) or "").split("/", 1)[0] or None,
        modified=date_part(data.get("updated")),
        version=_text(metadata.get("version")),
        license=license_found,
        license_label=license_label,
        keywords=unique(_text(subject.get("subject")) for subject in metadata.get("subjects") or []
                        if isinstance(subject, dict)),
        related=_with_concept(_native_related(metadata.get("related_identifiers") or []), concept_doi),
        access_rights=_native_access(data.get("access") or {}),
        files=_native_files(data.get("files"), links),
    )


def _native_people(entries: list[Any]) -> list[Person]:
    people = [_native_person(entry) for entry in entries if isinstance(entry, dict)]
    return [person for person in people if person.name]


def _native_person(entry: dict[str, Any]) -> Person:
    person = entry.get("person_or_org") if isinstance(entry.get("person_or_org"), dict) else {}
    name = _text(person.get("name")) or ", ".join(
        part for part in (_text(person.get("family_name")), _text(person.get("given_name"))) if part)
    orcid = None
    for identifier in person.get("identifiers") or []:
        if isinstance(identifier, dict) and str(identifier.get("scheme")).lower() == "orcid":
            orcid = orcid_from(identifier.get("identifier"))
            break

    affiliations = []
    for affiliation in entry.get("affiliations") or []:
        if not isinstance(affiliation, dict):
            continue
        # InvenioRDM's affiliation ids come from its ROR-based vocabulary, and ror_iri rejects any other id.
        ror = ror_iri(affiliation.get("id"))
        for identifier in affiliation.get("identifiers") or []:
            if not ror and isinstance(identifier, dict) and str(identifier.get("scheme")).lower() == "ror":
                ror = ror_iri(identifier.get("identifier"))
        affiliation_name = _text(affiliation.get("name")) or ror
        if affiliation_name:
            affiliations.append(Affiliation(affiliation_name, ror))

    return Person(name=name, orcid=orcid, affiliations=tuple(affiliations),
                  is_organisation=person.get("type") == "organizational")


def _native_rights(rights: list[dict[str, Any]]) -> tuple[str | None, str | None]:
    """Return (licence IRI, licence label). The label is kept only when no entry names a catalogued licence."""
    label = None
    for entry in rights:
        if not isinstance(entry, dict):
            continue
        title = entry.get("title")
        title_text = _text(title.get("en")) if isinstance(title, dict) else _text(title)
        found = license_iri(_text(entry.get("id")), _text((entry.get("props") or {}).get("url")), title_text)
        if found:
            return found, None
        label = label or _text(entry.get("id")) or title_text
    return None, label


def _native_related(entries: list[dict[str, Any]]) -> list[RelatedIdentifier]:
    related: list[RelatedIdentifier] = []
    for entry in entries:
        if not isinstance(entry, dict):
            continue
        identifier, relation = _text(entry.get("identifier")), _id_of(entry.get("relation_type"))
        if not identifier or not relation:
            continue
        item = RelatedIdentifier(identifier_iri(identifier, entry.get("scheme")), relation_type(relation),
                                 _general_type(_id_of(entry.get("resource_type"))))
        if item not in related:
            related.append(item)
    return related


def _native_access(access: dict[str, Any]) -> str | None:
    """Return the access rights of a native record. Public metadata and files, or public metadata only, is open."""
    if not access:
        return None
    if (access.get("embargo") or {}).get("active"):
        return "embargoed"
    if access.get("record") == "restricted":
        return "closed"
    if access.get("files") == "restricted":
        return "restricted"
    return "open"


def _native_files(files: Any, links: dict[str, Any]) -> list[HarvestedFile]:
    if not isinstance(files, dict) or not files.get("enabled", True):
        return []
    entries = files.get("entries") or {}
    if isinstance(entries, dict):
        order = [key for key in files.get("order") or [] if key in entries]
        items = [entries[key] for key in order] + [entry for key, entry in entries.items() if key not in order]
    else:
        items = list(entries)

    harvested = []
    for entry in items:
        name = _text(entry.get("key")) if isinstance(entry, dict) else None
        if not name:
            continue
        content = (entry.get("links") or {}).get("content")
        if not content and links.get("files"):
            content = f"{links['files']}/{quote(name)}/content"
        harvested.append(HarvestedFile(
            name=name, download_url=content, size=_integer(entry.get("size")),
            checksum=_checksum(entry.get("checksum")),
            media_type=_text(entry.get("mimetype")) or guess_media_type(name)))
    return harvested


# Helpers shared by the shapes


def guess_media_type(name: str) -> str | None:
    """Return the media type that a file name's extension suggests, or None."""
    media_type, encoding = MEDIA_TYPES.guess_type(name, strict=False)
    if encoding:
        return COMPRESSION_MEDIA_TYPES.get(encoding)
    return media_type


def _is_native(data: dict[str, Any]) -> bool:
    if "pids" in data or isinstance(data.get("files"), dict):
        return True
    creators = (data.get("metadata") or {}).get("creators") or []
    return any(isinstance(creator, dict) and "person_or_org" in creator for creator in creators)


def _record_id(data: dict[str, Any], api_url: str) -> str:
    record_id = _text(data.get("id")) or _text(data.get("recid"))
    if not record_id:
        raise HarvestError(api_url, "Zenodo record has no id")
    return record_id


def _title(data: dict[str, Any], metadata: dict[str, Any], api_url: str) -> str:
    title = _text(metadata.get("title")) or _text(data.get("title"))
    if not title:
        raise HarvestError(api_url, f"Zenodo record {_record_id(data, api_url)} has no title")
    return title


def _landing_page(links: dict[str, Any]) -> str | None:
    """Return the record's web page: links.self_html (current) or links.html (legacy), else derived from links.self."""
    page = _text(links.get("self_html")) or _text(links.get("html"))
    if page:
        return page
    api = _text(links.get("self"))
    if api and "/api/records/" in api:
        return api.replace("/api/records/", "/records/", 1)
    return None


def _with_concept(related: list[RelatedIdentifier], concept_doi: str | None) -> list[RelatedIdentifier]:
    """Add IsVersionOf the concept DOI, which only the legacy format lists among related identifiers."""
    if not concept_doi:
        return related
    concept = f"https://doi.org/{concept_doi}"
    if any(item.identifier == concept and item.relation == "IsVersionOf" for item in related):
        return related
    return [*related, RelatedIdentifier(concept, "IsVersionOf")]


def _type_id(kind: Any, subtype: Any) -> str | None:
    kind, subtype = _text(kind), _text(subtype)
    if not kind:
        return None
    return f"{kind}-{subtype}" if subtype else kind


def _general_type(type_id: str | None, *, lower: bool = False) -> str | None:
    """Return the DataCite resourceTypeGeneral of a Zenodo or InvenioRDM resource type id.

    An unknown subtype falls back to its type ("publication-blogpost" → "Text").
    """
    if not type_id:
        return None
    key = type_id.strip().lower()
    general = RESOURCE_TYPES.get(key) or RESOURCE_TYPES.get(key.split("-", 1)[0])
    if general is None:
        return None
    return general.lower() if lower else general


def _checksum(value: Any) -> str | None:
    """Return "algorithm:hex". A bare hex digest, as in Zenodo search hits, is Zenodo's MD5."""
    text = _text(value)
    if not text:
        return None
    if ":" in text:
        algorithm, digest = text.split(":", 1)
        return f"{algorithm.lower()}:{digest.lower()}"
    return f"md5:{text.lower()}" if re.fullmatch(r"[0-9a-fA-F]{32}", text) else None


def _page_key(url: str, params: dict[str, Any] | None) -> tuple[str, tuple[tuple[str, str], ...]]:
    """Return a search page's identity: its path and sorted query, so that reordered parameters compare equal."""
    parts = urlsplit(build_url(url, params))
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}", tuple(sorted(parse_qsl(parts.query)))


def _search_hits(data: Any, page_url: str) -> tuple[list[dict[str, Any]], int | None]:
    """Return the hits of a search page and the total it reports (a number, or OpenSearch's {"value": n})."""
    hits = data.get("hits") if isinstance(data, dict) else None
    if not isinstance(hits, dict) or not isinstance(hits.get("hits"), list):
        raise HarvestError(page_url, "Zenodo search response has no hits.hits list")
    total = hits.get("total")
    if isinstance(total, dict):
        total = total.get("value")
    return [hit for hit in hits["hits"] if isinstance(hit, dict)], total if isinstance(total, int) else None


def _hit_key(hit: dict[str, Any]) -> str:
    return (_text(hit.get("id")) or _text(hit.get("recid")) or _text(hit.get("doi"))
            or json.dumps(hit, sort_keys=True, default=str))


def _id_of(value: Any) -> str | None:
    """Return the id of an InvenioRDM vocabulary entry ({"id": "dataset", ...}) or a bare id."""
    return _text(value.get("id")) if isinstance(value, dict) else _text(value)


def _has_text(entry: Any, key: str) -> bool:
    return isinstance(entry, dict) and bool(_text(entry.get(key)))


def _integer(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    text = str(value).strip()
    return text or None
