"""Harvesting OSF projects, components and registrations through the OSF API v2 (JSON:API).

`parse_osf_node` turns a node and the resources it links to (contributors, licence, identifiers,
osfstorage files) into a `HarvestedRecord`. `OsfSource` fetches those resources: it follows the
node's relationship links and every listing's `links.next`, but only to URLs under its base URL.
"""

from __future__ import annotations

import html
import logging
import mimetypes
import re
from collections.abc import Iterable, Iterator
from urllib.parse import urlencode

from .http import HarvestClient, HttpStatusError
from .model import Affiliation, HarvestedFile, HarvestedRecord, HarvestError, Person, RelatedIdentifier
from .normalise import doi_from, orcid_from, sanitise_html, spdx_iri

log = logging.getLogger("umud.harvest.osf")

OSF_API = "https://api.osf.io/v2"
MAX_FILES = 10_000
MAX_FOLDER_DEPTH = 20
MAX_PAGES = 1_000  # pages read of one listing, at 10 entries per page unless page[size] is set
# OSF GUIDs are five lower-case letters and digits. Longer ids are accepted in case OSF lengthens them.
NODE_ID = re.compile(r"[a-z0-9]{5,24}")
# Statuses of a linked resource (licence, file listing, user) that leave the record without it
# instead of failing the whole node: not visible to an anonymous client, or deleted.
MISSING_STATUSES = frozenset({401, 403, 404, 410})

# OSF licence names (`attributes.name` of /v2/licenses/) mapped to SPDX ids, for the names that
# `spdx_iri` does not resolve by itself. The SPDX id still has to be in the catalog's licence
# vocabulary, so e.g. CC-BY-NC-ND-4.0 ends up in `license_label` until the vocabulary has it.
# NOTE: OSF's GPL and LGPL names do not say whether later versions are allowed; "-only" is assumed.
OSF_LICENSES = {
    "cc-by attribution 4.0 international": "CC-BY-4.0",
    "cc-by attribution-sharealike 4.0 international": "CC-BY-SA-4.0",
    "cc-by attribution-noncommercial-noderivatives 4.0 international": "CC-BY-NC-ND-4.0",
    "cc0 1.0 universal": "CC0-1.0",
    "academic free license (afl) 3.0": "AFL-3.0",
    'bsd 3-clause "new"/"revised" license': "BSD-3-Clause",
    "eclipse public license 1.0": "EPL-1.0",
    "gnu general public license (gpl) 2.0": "GPL-2.0-only",
    "gnu general public license (gpl) 3.0": "GPL-3.0-only",
    "gnu lesser general public license (lgpl) 2.1": "LGPL-2.1-only",
    "gnu lesser general public license (lgpl) 3.0": "LGPL-3.0-only",
}
# The licence OSF shows for a node whose owners chose none.
NO_LICENSE = "no license"


# Parsing


def parse_osf_node(node: dict, api_url: str, *, contributors: Iterable[dict] = (), license: dict | None = None,
                   identifiers: Iterable[dict] = (), files: Iterable[dict] = ()) -> HarvestedRecord:
    """Build the record of an OSF node or registration from its JSON:API resource objects.

    `node` is the `data` object of /v2/nodes/{id}/ (a whole response document is accepted too).
    `contributors`, `identifiers` and `files` are the `data` entries of the related listings, and
    `license` the `data` object of the node's licence. Where one is not given, the node's `embeds`
    of the same name are used, as OSF returns them for `?embed=contributors` and the like.
    """
    if "attributes" not in node and isinstance(node.get("data"), dict):
        node = node["data"]
    attributes = node.get("attributes") or {}
    embeds = node.get("embeds") or {}
    contributors = list(contributors) or _embedded_list(embeds, "contributors")
    identifiers = list(identifiers) or _embedded_list(embeds, "identifiers")
    license = license or _embedded_object(embeds, "license")

    creators, others = _people(contributors)
    license_iri, license_label = osf_license(license)
    return HarvestedRecord(
        source="osf",
        source_id=str(node.get("id", "")).lower(),
        api_url=api_url,
        title=html.unescape(attributes.get("title") or "").strip(),
        resource_type=_resource_type(attributes.get("category")),
        landing_page=(node.get("links") or {}).get("html"),
        doi=_doi(node, identifiers),
        description=sanitise_html(attributes.get("description")),
        creators=creators,
        contributors=others,
        issued=_date(attributes.get("date_created")),
        modified=_date(attributes.get("date_modified")),
        license=license_iri,
        license_label=license_label,
        keywords=_keywords(attributes),
        related=_related(attributes),
        access_rights=_access_rights(attributes),
        files=[parsed for parsed in map(parse_osf_file, files) if parsed is not None],
    )


def osf_license(license: dict | None) -> tuple[str | None, str | None]:
    """Return the SPDX IRI and, when none fits, the OSF name of a licence resource object."""
    if not license:
        return None, None
    attributes = license.get("attributes") or {}
    name = (attributes.get("name") or "").strip()
    if name.casefold() == NO_LICENSE:
        return None, name
    iri = spdx_iri(attributes.get("url")) or spdx_iri(OSF_LICENSES.get(name.casefold())) or spdx_iri(name)
    return iri, (None if iri else name or None)


def parse_osf_file(entry: dict) -> HarvestedFile | None:
    """Return the file of an osfstorage listing entry, or None for a folder."""
    attributes = entry.get("attributes") or {}
    if attributes.get("kind") != "file":
        return None
    name = attributes.get("name") or ""
    # The path inside the storage keeps files of the same name in different folders apart.
    path = (attributes.get("materialized_path") or name).lstrip("/")
    hashes = (attributes.get("extra") or {}).get("hashes") or {}
    checksum = None
    for algorithm in ("sha256", "md5"):
        if hashes.get(algorithm):
            checksum = f"{algorithm}:{hashes[algorithm].lower()}"
            break
    size = attributes.get("size")
    return HarvestedFile(
        name=path or name,
        download_url=(entry.get("links") or {}).get("download"),
        size=size if isinstance(size, int) else None,
        checksum=checksum,
        media_type=mimetypes.guess_type(name)[0],
    )


def _people(contributors: list[dict]) -> tuple[list[Person], list[Person]]:
    """Return the bibliographic contributors (the creators) in `index` order, and the others."""

    def position(item: tuple[int, dict]) -> tuple[int, int]:
        index = (item[1].get("attributes") or {}).get("index")
        return (index if isinstance(index, int) else item[0], item[0])

    creators: list[Person] = []
    others: list[Person] = []
    for _, contributor in sorted(enumerate(contributors), key=position):
        person = _person(contributor)
        if person is None:
            log.warning("OSF contributor %s left out: it has no name", contributor.get("id"))
            continue
        bibliographic = (contributor.get("attributes") or {}).get("bibliographic", True)
        (creators if bibliographic else others).append(person)
    return creators, others


def _person(contributor: dict) -> Person | None:
    attributes = contributor.get("attributes") or {}
    user = ((contributor.get("embeds") or {}).get("users") or {}).get("data") or {}
    user_attributes = user.get("attributes") or {}
    name = (user_attributes.get("full_name") or attributes.get("unregistered_contributor")
            or attributes.get("full_name") or "").strip()
    if not name:
        return None
    return Person(name=html.unescape(name), orcid=_orcid(user_attributes),
                  affiliations=_affiliations(user_attributes))


def _orcid(user_attributes: dict) -> str | None:
    orcid = orcid_from((user_attributes.get("social") or {}).get("orcid"))
    if orcid:
        return orcid
    # OSF's user model keeps ORCID logins as {"ORCID": {"0000-...": "VERIFIED"}}, and only a verified
    # iD counts. NOTE: the users API may not return `external_identity`; `social.orcid` is the usual source.
    identities = (user_attributes.get("external_identity") or {}).get("ORCID") or {}
    return next((orcid_from(value) for value, status in identities.items()
                 if status == "VERIFIED" and orcid_from(value)), None)


def _affiliations(user_attributes: dict) -> tuple[Affiliation, ...]:
    """Return the institutions of the user's current employment entries."""
    names = []
    for job in user_attributes.get("employment") or []:
        institution = (job.get("institution") or "").strip() if isinstance(job, dict) else ""
        if institution and job.get("ongoing") and institution not in names:
            names.append(institution)
    return tuple(Affiliation(name) for name in names)


def _resource_type(category: str | None) -> str | None:
    category = (category or "").strip().lower()
    if not category:
        return None
    return "dataset" if category == "data" else category


def _doi(node: dict, identifiers: list[dict]) -> str | None:
    for identifier in identifiers:
        attributes = identifier.get("attributes") or {}
        if (attributes.get("category") or "").lower() == "doi":
            doi = doi_from(attributes.get("value"))
            if doi:
                return doi
    return doi_from((node.get("links") or {}).get("doi"))


def _keywords(attributes: dict) -> list[str]:
    keywords: list[str] = []
    subjects = [subject for path in attributes.get("subjects") or [] if isinstance(path, list) for subject in path]
    texts = [*(attributes.get("tags") or []), *(subject.get("text") for subject in subjects if isinstance(subject, dict))]
    for text in texts:
        keyword = html.unescape(text or "").strip()
        if keyword and keyword not in keywords:
            keywords.append(keyword)
    return keywords


def _related(attributes: dict) -> list[RelatedIdentifier]:
    # A registration's `article_doi` is the DOI of the article that reports it.
    doi = doi_from(attributes.get("article_doi"))
    return [RelatedIdentifier(f"https://doi.org/{doi}", "IsSupplementTo", "JournalArticle")] if doi else []


def _access_rights(attributes: dict) -> str | None:
    if attributes.get("withdrawn"):
        return "closed"
    if attributes.get("embargoed"):
        return "embargoed"
    public = attributes.get("public")
    if public is None:
        return None
    return "open" if public else "restricted"


def _date(value: str | None) -> str | None:
    """Return the date part of an OSF timestamp such as 2019-08-10T16:33:29.246805."""
    match = re.match(r"\d{4}-\d{2}-\d{2}", value or "")
    return match.group(0) if match else None


def _embedded_list(embeds: dict, name: str) -> list[dict]:
    data = (embeds.get(name) or {}).get("data")
    return list(data) if isinstance(data, list) else []


def _embedded_object(embeds: dict, name: str) -> dict | None:
    data = (embeds.get(name) or {}).get("data")
    return data if isinstance(data, dict) else None


def _related_href(resource: dict, relationship: str) -> str | None:
    """Return the `related` link of a relationship, given as a string or as an object with `href`."""
    related = (((resource.get("relationships") or {}).get(relationship) or {}).get("links") or {}).get("related")
    if isinstance(related, dict):
        related = related.get("href")
    return related or None


# Fetching


class OsfSource:
    """Reads OSF nodes and registrations with their contributors, licence, identifiers and files.

    `max_files` caps the files listed per node, and `max_folder_depth` the folders walked below
    the osfstorage root. Reaching either cap is logged and leaves the file list incomplete.
    """

    def __init__(self, client: HarvestClient, base_url: str = OSF_API, *, max_files: int = MAX_FILES,
                 max_folder_depth: int = MAX_FOLDER_DEPTH, max_pages: int = MAX_PAGES):
        self.client = client
        self.base_url = base_url.rstrip("/")
        self.max_files = max_files
        self.max_folder_depth = max_folder_depth
        self.max_pages = max_pages

    def node(self, node_id: str) -> HarvestedRecord:
        """Fetch one node, or the registration of that id when no node has it.

        Raises ValueError for a malformed id and HarvestError when the node cannot be read.
        """
        node_id = node_id.strip().lower()
        if not NODE_ID.fullmatch(node_id):
            raise ValueError(f"invalid OSF node id {node_id!r}: expected letters and digits, e.g. a3u4v")
        kind, data = self._fetch_node(node_id)
        return self._record(data, kind)

    def search(self, title: str) -> Iterator[HarvestedRecord | HarvestError]:
        """Yield the record of every public node whose title contains `title`.

        A node whose related resources fail is yielded as its HarvestError and the search goes
        on; a failed search page raises HarvestError.
        """
        for node in self._pages(f"{self.base_url}/nodes/", {"filter[title]": title}):
            try:
                yield self._record(node, "nodes")
            except HarvestError as error:
                yield error

    def _fetch_node(self, node_id: str) -> tuple[str, dict]:
        for kind in ("nodes", "registrations"):
            url = f"{self.base_url}/{kind}/{node_id}/"
            try:
                return kind, self.client.get_json(url)["data"]
            except HttpStatusError as error:
                if error.status != 404:
                    raise
            except (KeyError, TypeError) as error:
                raise HarvestError(url, "response has no JSON:API `data` object") from error
        raise HarvestError(f"{self.base_url}/registrations/{node_id}/", f"OSF node or registration {node_id} not found")

    def _record(self, node: dict, kind: str) -> HarvestedRecord:
        node_id = str(node.get("id", "")).lower()
        embeds = node.get("embeds") or {}
        contributors = self._contributors(node)
        license = _embedded_object(embeds, "license") or self._license(node)
        identifiers = _embedded_list(embeds, "identifiers") or self._listing(node, "identifiers")
        files = self._files(f"{self.base_url}/{kind}/{node_id}/files/osfstorage/")
        return parse_osf_node(node, f"{self.base_url}/{kind}/{node_id}/", contributors=contributors,
                              license=license, identifiers=identifiers, files=files)

    def _contributors(self, node: dict) -> list[dict]:
        embedded = (node.get("embeds") or {}).get("contributors") or {}
        if isinstance(embedded.get("data"), list) and not (embedded.get("links") or {}).get("next"):
            contributors = embedded["data"]
        else:
            contributors = self._listing(node, "contributors")
        return [self._with_user(contributor) for contributor in contributors]

    def _with_user(self, contributor: dict) -> dict:
        """Return the contributor with its user embedded, fetching the user when OSF left it out."""
        embeds = contributor.get("embeds") or {}
        if (embeds.get("users") or {}).get("data") or (contributor.get("attributes") or {}).get("unregistered_contributor"):
            return contributor
        url = _related_href(contributor, "users")
        user = self._optional(url, "user") if url else None
        if not user or not isinstance(user.get("data"), dict):
            return contributor
        return {**contributor, "embeds": {**embeds, "users": {"data": user["data"]}}}

    def _license(self, node: dict) -> dict | None:
        url = _related_href(node, "license")
        document = self._optional(url, "licence") if url else None
        data = (document or {}).get("data")
        return data if isinstance(data, dict) else None

    def _listing(self, node: dict, relationship: str) -> list[dict]:
        url = _related_href(node, relationship)
        if not url:
            return []
        try:
            return list(self._pages(url))
        except HttpStatusError as error:
            if error.status not in MISSING_STATUSES:
                raise
            log.warning("OSF %s of node %s not readable, left out: %s", relationship, node.get("id"), error.reason)
            return []

    def _optional(self, url: str, resource_name: str) -> dict | None:
        """Fetch a linked document, or log and return None when it is missing or hidden."""
        if not self._allowed(url):
            return None
        try:
            return self.client.get_json(url)
        except HttpStatusError as error:
            if error.status not in MISSING_STATUSES:
                raise
            log.warning("OSF %s at %s not readable, left out: %s", resource_name, url, error.reason)
            return None

    def _files(self, root_url: str) -> list[dict]:
        """Return the file entries of the osfstorage tree, walking folders depth first."""
        found: list[dict] = []
        try:
            self._walk(root_url, 0, found, {root_url})
        except HttpStatusError as error:
            if error.status not in MISSING_STATUSES:
                raise
            log.warning("OSF file listing %s not readable, files left out: %s", root_url, error.reason)
        return found

    def _walk(self, url: str, depth: int, found: list[dict], visited: set[str]) -> bool:
        """Add the files below `url` to `found`, and return False once the file cap is reached."""
        for entry in self._pages(url):
            kind = (entry.get("attributes") or {}).get("kind")
            if kind == "file":
                if len(found) >= self.max_files:
                    log.warning("OSF file listing %s: stopped at the cap of %d files", url, self.max_files)
                    return False
                found.append(entry)
            elif kind == "folder":
                folder = _related_href(entry, "files")
                if not folder or folder in visited or not self._allowed(folder):
                    continue
                if depth + 1 > self.max_folder_depth:
                    log.warning("OSF folder %s skipped: more than %d folders below the storage root", folder, self.max_folder_depth)
                    continue
                visited.add(folder)
                if not self._walk(folder, depth + 1, found, visited):
                    return False
        return True

    def _pages(self, url: str, params: dict | None = None) -> Iterator[dict]:
        """Yield the `data` entries of a listing and of each page its `links.next` leads to."""
        if not self._allowed(url):
            return
        seen = {f"{url}?{urlencode(params)}" if params else url}
        for _ in range(self.max_pages):
            document = self.client.get_json(url, params)
            data = document.get("data") if isinstance(document, dict) else None
            if not isinstance(data, list):
                raise HarvestError(url, "response has no JSON:API `data` list")
            yield from (entry for entry in data if isinstance(entry, dict))

            next_url = (document.get("links") or {}).get("next")
            if isinstance(next_url, dict):
                next_url = next_url.get("href")
            if not next_url:
                return
            if next_url in seen:
                log.warning("OSF listing %s stopped: its next page %s was already read", url, next_url)
                return
            if not self._allowed(next_url):
                return
            seen.add(next_url)
            url, params = next_url, None
        log.warning("OSF listing %s: stopped after %d pages", url, self.max_pages)

    def _allowed(self, url: str) -> bool:
        """Return whether `url` lies under the base URL, and log a warning when it does not."""
        if url.startswith(self.base_url + "/") and self.client.is_allowed(url):
            return True
        log.warning("OSF link %s skipped: it is not under %s", url, self.base_url)
        return False
