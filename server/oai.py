"""An OAI-PMH 2.0 data provider at /oai (https://www.openarchives.org/OAI/openarchivesprotocol.html).

It serves all six verbs, with metadata as `oai_dc` (Dublin Core) and `oai_datacite` (DataCite
kernel 4 in the wrapper that DataCite and Zenodo use). Sets group datasets by data type
(`data_type:image`) and by muscle group (`muscle:triceps-surae`). `from` and `until` take a day or
a second. Lists come PAGE_SIZE items at a time, continued with resumption tokens, and withdrawn
datasets stay listed as deleted records.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from dataclasses import dataclass
from datetime import datetime, timezone
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from flask import Blueprint, Response, current_app, request

from catalog.citations import publisher
from catalog.search import Query
from catalog.service import Catalog

oai = Blueprint("oai", __name__)

PAGE_SIZE = 100
OAI_NS = "http://www.openarchives.org/OAI/2.0/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
DC_NS = "http://purl.org/dc/elements/1.1/"
OAI_DC_NS = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DATACITE_NS = "http://datacite.org/schema/kernel-4"
OAI_DATACITE_NS = "http://schema.datacite.org/oai/oai-1.1/"
FORMATS = {
    "oai_dc": (OAI_DC_NS, "http://www.openarchives.org/OAI/2.0/oai_dc.xsd"),
    "oai_datacite": (OAI_DATACITE_NS, "http://schema.datacite.org/oai/oai-1.1/oai.xsd"),
}
VERBS = {
    "Identify": (set(), set()),
    "ListMetadataFormats": (set(), {"identifier"}),
    "ListSets": (set(), {"resumptionToken"}),
    "GetRecord": ({"identifier", "metadataPrefix"}, set()),
    "ListIdentifiers": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
    "ListRecords": ({"metadataPrefix"}, {"from", "until", "set", "resumptionToken"}),
}
EARLIEST = datetime(2000, 1, 1, tzinfo=timezone.utc)

for prefix, namespace in (("", OAI_NS), ("xsi", XSI_NS), ("dc", DC_NS), ("oai_dc", OAI_DC_NS)):
    ET.register_namespace(prefix, namespace)


class OaiError(Exception):
    """An OAI-PMH error condition: `code` is one of the protocol's error codes."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Item:
    name: str
    datestamp: datetime
    deleted: bool = False


@oai.route("/oai", methods=["GET", "POST"])
def endpoint():
    arguments = request.values
    root = ET.Element(f"{{{OAI_NS}}}OAI-PMH", {
        f"{{{XSI_NS}}}schemaLocation": f"{OAI_NS} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"})
    ET.SubElement(root, f"{{{OAI_NS}}}responseDate").text = _stamp(datetime.now(timezone.utc))
    request_element = ET.SubElement(root, f"{{{OAI_NS}}}request")
    request_element.text = request.base_url
    try:
        verb, values = _check_arguments(arguments)
        for key, value in values.items():
            request_element.set(key, value)
        request_element.set("verb", verb)
        HANDLERS[verb](root, values, current_app.extensions["umud"])
    except OaiError as error:
        ET.SubElement(root, f"{{{OAI_NS}}}error", {"code": error.code}).text = str(error)
    body = ET.tostring(root, encoding="unicode", xml_declaration=False)
    return Response('<?xml version="1.0" encoding="UTF-8"?>\n' + body, mimetype="text/xml")


def _check_arguments(arguments) -> tuple[str, dict[str, str]]:
    """Return the verb and its arguments, or raise badVerb or badArgument."""
    verbs = arguments.getlist("verb")
    if len(verbs) != 1 or verbs[0] not in VERBS:
        raise OaiError("badVerb", "the verb argument is missing, repeated or not one of " + ", ".join(VERBS))
    verb = verbs[0]
    required, optional = VERBS[verb]
    values = {}
    for key in arguments:
        if key == "verb":
            continue
        items = arguments.getlist(key)
        if key not in required | optional:
            raise OaiError("badArgument", f"'{key}' is not an argument of {verb}")
        if len(items) != 1:
            raise OaiError("badArgument", f"'{key}' is repeated")
        values[key] = items[0]
    if "resumptionToken" in values:
        if len(values) > 1:
            raise OaiError("badArgument", "resumptionToken is an exclusive argument")
        return verb, values
    missing = required - set(values)
    if missing:
        raise OaiError("badArgument", f"{verb} needs the argument {', '.join(sorted(missing))}")
    return verb, values


# Verbs


def identify(root, values: dict, catalog: Catalog) -> None:
    element = ET.SubElement(root, f"{{{OAI_NS}}}Identify")
    items = _items(catalog)
    earliest = min((item.datestamp for item in items), default=EARLIEST)
    for tag, text in (("repositoryName", "UMUD: Universal Musculoskeletal Ultrasonography Database"),
                      ("baseURL", request.base_url), ("protocolVersion", "2.0"),
                      ("adminEmail", current_app.extensions["umud_settings"].admin_email),
                      ("earliestDatestamp", _stamp(earliest)), ("deletedRecord", "persistent"),
                      ("granularity", "YYYY-MM-DDThh:mm:ssZ")):
        ET.SubElement(element, f"{{{OAI_NS}}}{tag}").text = text


def list_metadata_formats(root, values: dict, catalog: Catalog) -> None:
    if "identifier" in values:
        _item(catalog, values["identifier"])
    element = ET.SubElement(root, f"{{{OAI_NS}}}ListMetadataFormats")
    for prefix, (namespace, schema) in FORMATS.items():
        entry = ET.SubElement(element, f"{{{OAI_NS}}}metadataFormat")
        ET.SubElement(entry, f"{{{OAI_NS}}}metadataPrefix").text = prefix
        ET.SubElement(entry, f"{{{OAI_NS}}}schema").text = schema
        ET.SubElement(entry, f"{{{OAI_NS}}}metadataNamespace").text = namespace


def list_sets(root, values: dict, catalog: Catalog) -> None:
    if "resumptionToken" in values:
        raise OaiError("badResumptionToken", "ListSets returns every set in one response and uses no resumption tokens")
    element = ET.SubElement(root, f"{{{OAI_NS}}}ListSets")
    for spec, name in _sets(catalog).items():
        entry = ET.SubElement(element, f"{{{OAI_NS}}}set")
        ET.SubElement(entry, f"{{{OAI_NS}}}setSpec").text = spec
        ET.SubElement(entry, f"{{{OAI_NS}}}setName").text = name


def get_record(root, values: dict, catalog: Catalog) -> None:
    prefix = _metadata_prefix(values["metadataPrefix"])
    item = _item(catalog, values["identifier"])
    element = ET.SubElement(root, f"{{{OAI_NS}}}GetRecord")
    _record(element, item, prefix, catalog)


def list_identifiers(root, values: dict, catalog: Catalog) -> None:
    _list(root, values, catalog, with_metadata=False)


def list_records(root, values: dict, catalog: Catalog) -> None:
    _list(root, values, catalog, with_metadata=True)


HANDLERS = {"Identify": identify, "ListMetadataFormats": list_metadata_formats, "ListSets": list_sets,
            "GetRecord": get_record, "ListIdentifiers": list_identifiers, "ListRecords": list_records}


def _list(root, values: dict, catalog: Catalog, *, with_metadata: bool) -> None:
    if "resumptionToken" in values:
        values, cursor = _read_token(values["resumptionToken"])
    else:
        cursor = 0
    prefix = _metadata_prefix(values["metadataPrefix"])
    low = _date(values.get("from"), "from", end=False)
    high = _date(values.get("until"), "until", end=True)
    if "from" in values and "until" in values and len(values["from"]) != len(values["until"]):
        raise OaiError("badArgument", "from and until must have the same granularity")
    if low and high and low > high:
        raise OaiError("badArgument", "from is later than until")
    items = _items(catalog, values.get("set"))
    items = [item for item in items if (low is None or item.datestamp >= low) and (high is None or item.datestamp <= high)]
    if not items:
        raise OaiError("noRecordsMatch", "no record matches these arguments")
    if cursor >= len(items):
        raise OaiError("badResumptionToken", "the resumption token is past the end of the list")
    element = ET.SubElement(root, f"{{{OAI_NS}}}{'ListRecords' if with_metadata else 'ListIdentifiers'}")
    for item in items[cursor:cursor + PAGE_SIZE]:
        if with_metadata:
            _record(element, item, prefix, catalog)
        else:
            _header(element, item, catalog)
    if cursor + PAGE_SIZE < len(items) or cursor > 0:
        token = ET.SubElement(element, f"{{{OAI_NS}}}resumptionToken",
                              {"completeListSize": str(len(items)), "cursor": str(cursor)})
        if cursor + PAGE_SIZE < len(items):
            token.text = _write_token(values, cursor + PAGE_SIZE)


# Items, sets and tokens


def _items(catalog: Catalog, set_spec: str | None = None) -> list[Item]:
    """Return the datasets (and, without a set, the withdrawn ones) ordered by datestamp and name."""
    modified, withdrawn = _datestamps(catalog)
    if set_spec is not None:
        query = _set_query(catalog, set_spec)
        names = {row["name"] for row in catalog.search_index.matching(query, catalog.vocabulary)}
        items = [Item(name, _utc(time)) for name, time in modified.items() if name in names]
    else:
        items = [Item(name, _utc(time)) for name, time in modified.items()]
        items += [Item(name, _utc(time), deleted=True) for name, time in withdrawn.items() if name not in modified]
    return sorted(items, key=lambda item: (item.datestamp, item.name))


_datestamp_cache: dict = {}
_datestamp_lock = threading.Lock()


def _datestamps(catalog: Catalog) -> tuple[dict[str, datetime], dict[str, datetime]]:
    """Return the modification times of the datasets and the withdrawal times of withdrawn ones,
    read once per catalog revision, because harvesters page through long lists."""
    revision = catalog.revision()
    with _datestamp_lock:
        if _datestamp_cache.get("key") == (catalog.iri, revision):
            return _datestamp_cache["value"]
    value = (catalog.modification_times(), catalog.withdrawn())
    with _datestamp_lock:
        _datestamp_cache.update(key=(catalog.iri, revision), value=value)
    return value


def _sets(catalog: Catalog) -> dict[str, str]:
    sets = {}
    for concept in catalog.vocabulary.concepts("data-type"):
        sets[f"data_type:{_slug(concept.label)}"] = f"Data type: {concept.label}"
    for concept in catalog.vocabulary.concepts("muscle"):
        if concept.is_group:
            sets[f"muscle:{_slug(concept.label)}"] = f"Muscle group: {concept.label}"
    return sets


def _set_query(catalog: Catalog, set_spec: str) -> Query:
    kind, _, slug = set_spec.partition(":")
    scheme = {"data_type": "data-type", "muscle": "muscle"}.get(kind)
    if scheme is not None:
        for concept in catalog.vocabulary.concepts(scheme):
            if _slug(concept.label) == slug and (scheme != "muscle" or concept.is_group):
                return Query(values={kind: [concept.label]})
    raise OaiError("badArgument", f"there is no set '{set_spec}'; ListSets lists them")


def _slug(label: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", label.casefold()).strip("-")


def _write_token(values: dict, cursor: int) -> str:
    data = json.dumps({**{key: value for key, value in values.items() if key != "resumptionToken"}, "cursor": cursor})
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def _read_token(token: str) -> tuple[dict, int]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        cursor = int(data.pop("cursor"))
        if not isinstance(data.get("metadataPrefix"), str) or cursor < 0 or set(data) - {"metadataPrefix", "from", "until", "set"}:
            raise ValueError(token)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise OaiError("badResumptionToken", "the resumption token is invalid") from None
    return data, cursor


def _metadata_prefix(prefix: str) -> str:
    if prefix not in FORMATS:
        raise OaiError("cannotDisseminateFormat", f"'{prefix}' is not a metadata format of this repository; "
                                                  f"use {' or '.join(FORMATS)}")
    return prefix


def _identifier(catalog: Catalog, name: str) -> str:
    return f"oai:{urlsplit(catalog.base_url).hostname}:{name}"


def _item(catalog: Catalog, identifier: str) -> Item:
    prefix = f"oai:{urlsplit(catalog.base_url).hostname}:"
    name = identifier.removeprefix(prefix) if identifier.startswith(prefix) else None
    if name:
        modified_times, withdrawn_times = _datestamps(catalog)
        modified = modified_times.get(name)
        if modified is not None:
            return Item(name, _utc(modified))
        withdrawn = withdrawn_times.get(name)
        if withdrawn is not None:
            return Item(name, _utc(withdrawn), deleted=True)
    raise OaiError("idDoesNotExist", f"'{identifier}' is not an identifier of this repository")


def _date(text: str | None, name: str, *, end: bool) -> datetime | None:
    if text is None:
        return None
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            day = datetime.fromisoformat(text).replace(tzinfo=timezone.utc)
            return day.replace(hour=23, minute=59, second=59) if end else day
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", text):
            return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        pass
    raise OaiError("badArgument", f"{name}: '{text}' is not a date as YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ")


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(microsecond=0)


def _stamp(moment: datetime) -> str:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ")


# Records


def _header(parent, item: Item, catalog: Catalog):
    header = ET.SubElement(parent, f"{{{OAI_NS}}}header", {"status": "deleted"} if item.deleted else {})
    ET.SubElement(header, f"{{{OAI_NS}}}identifier").text = _identifier(catalog, item.name)
    ET.SubElement(header, f"{{{OAI_NS}}}datestamp").text = _stamp(item.datestamp)
    if not item.deleted:
        summary = catalog.search_index.summaries([item.name]).get(item.name)
        if summary is not None:
            for spec in _sets_of(catalog, summary):
                ET.SubElement(header, f"{{{OAI_NS}}}setSpec").text = spec
    return header


def _sets_of(catalog: Catalog, summary: dict) -> list[str]:
    specs = []
    if summary.get("data_type"):
        specs.append(f"data_type:{_slug(summary['data_type'])}")
    groups = set()
    for muscle in summary.get("muscle", []):
        concept = catalog.vocabulary.concept("muscle", muscle)
        if concept is None:
            continue
        for concept_iri in catalog.vocabulary.broader_closure(concept.iri):
            group = catalog.vocabulary.concepts_by_iri.get(concept_iri)
            if group is not None and group.is_group:
                groups.add(f"muscle:{_slug(group.label)}")
    return specs + sorted(groups)


def _record(parent, item: Item, prefix: str, catalog: Catalog) -> None:
    element = ET.SubElement(parent, f"{{{OAI_NS}}}record")
    _header(element, item, catalog)
    if item.deleted:
        return
    record = catalog.record(item.name)
    metadata = ET.SubElement(element, f"{{{OAI_NS}}}metadata")
    if prefix == "oai_dc":
        _dublin_core(metadata, record, catalog)
    else:
        _datacite(metadata, record, catalog)


def _dublin_core(parent, record, catalog: Catalog) -> None:
    root = ET.SubElement(parent, f"{{{OAI_DC_NS}}}dc", {
        f"{{{XSI_NS}}}schemaLocation": f"{OAI_DC_NS} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"})

    def add(tag: str, text) -> None:
        if text:
            ET.SubElement(root, f"{{{DC_NS}}}{tag}").text = str(text)

    add("title", record.title)
    for author in record.authors:
        add("creator", author.name)
    for subject in [*record.muscle, *record.keywords]:
        add("subject", subject)
    add("description", record.description)
    add("publisher", publisher(record))
    add("date", record.year)
    add("type", "Dataset")
    if record.doi:
        add("identifier", f"https://doi.org/{record.doi}")
    add("identifier", f"{catalog.base_url}/datasets/{record.name}")
    add("source", record.link)
    licence = catalog.vocabulary.concept("license", record.license)
    add("rights", licence.iri if licence else record.license)
    add("relation", record.publication)
    for file_format in record.file_format:
        concept = catalog.vocabulary.concept("file-format", file_format)
        add("format", concept.media_type.split("/media-types/", 1)[-1] if concept and concept.media_type else file_format)


def _datacite(parent, record, catalog: Catalog) -> None:
    wrapper = ET.SubElement(parent, f"{{{OAI_DATACITE_NS}}}oai_datacite", {
        f"{{{XSI_NS}}}schemaLocation": f"{OAI_DATACITE_NS} http://schema.datacite.org/oai/oai-1.1/oai.xsd"})
    ET.SubElement(wrapper, f"{{{OAI_DATACITE_NS}}}schemaVersion").text = "4.4"
    ET.SubElement(wrapper, f"{{{OAI_DATACITE_NS}}}datacentreSymbol").text = "UMUD"
    payload = ET.SubElement(wrapper, f"{{{OAI_DATACITE_NS}}}payload")
    resource = ET.SubElement(payload, f"{{{DATACITE_NS}}}resource", {
        f"{{{XSI_NS}}}schemaLocation": f"{DATACITE_NS} http://schema.datacite.org/meta/kernel-4.4/metadata.xsd"})

    def add(parent_element, tag: str, text=None, **attributes):
        child = ET.SubElement(parent_element, f"{{{DATACITE_NS}}}{tag}", {key: str(value) for key, value in attributes.items()})
        if text is not None:
            child.text = str(text)
        return child

    if record.doi:
        add(resource, "identifier", record.doi, identifierType="DOI")
    creators = add(resource, "creators")
    for author in record.authors:
        creator = add(creators, "creator")
        add(creator, "creatorName", author.name, nameType="Personal")
        if author.orcid:
            add(creator, "nameIdentifier", f"https://orcid.org/{author.orcid}", nameIdentifierScheme="ORCID",
                schemeURI="https://orcid.org")
    add(add(resource, "titles"), "title", record.title)
    add(resource, "publisher", publisher(record) or "Unknown")
    add(resource, "publicationYear", record.year)
    add(resource, "resourceType", record.data_type or "Dataset", resourceTypeGeneral="Dataset")
    subjects = add(resource, "subjects")
    for subject in [*record.muscle, *record.keywords]:
        add(subjects, "subject", subject)
    alternates = add(resource, "alternateIdentifiers")
    add(alternates, "alternateIdentifier", f"{catalog.base_url}/datasets/{record.name}", alternateIdentifierType="URL")
    if record.publication:
        related = add(resource, "relatedIdentifiers")
        add(related, "relatedIdentifier", record.publication, relatedIdentifierType="URL", relationType="IsDescribedBy")
    formats = add(resource, "formats")
    for file_format in record.file_format:
        add(formats, "format", file_format)
    if record.version:
        add(resource, "version", record.version)
    licence = catalog.vocabulary.concept("license", record.license)
    rights = add(resource, "rightsList")
    add(rights, "rights", licence.label if licence else record.license,
        **({"rightsURI": licence.iri} if licence else {}))
    add(add(resource, "descriptions"), "description", record.description, descriptionType="Abstract")
