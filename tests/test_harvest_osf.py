"""The OSF harvester against recorded OSF API v2 responses, served on 127.0.0.1 (pytest-httpserver).

The recorded responses come from three OSF servers (api.osf.io, api.test.osf.io and a local
development server on localhost:8000) and from the OSF API documentation. Their API links are
rewritten to the test server's /v2 base when they are served, so the harvester follows them there.
Pages that no recording covers (a last page, the listing of a nested folder, user profiles) are
built here, and each is marked where it is built.
"""

from __future__ import annotations

import copy
import json
import logging
import re

import pytest

from harvesters.http import HarvestClient
from harvesters.model import Affiliation, HarvestedFile, HarvestError, Person, RelatedIdentifier
from harvesters.osf import OsfSource, osf_license, parse_osf_node

from .conftest import SHARED

FIXTURES = SHARED / "fixtures" / "real-api" / "osf"
API_ORIGINS = ("https://api.test.osf.io/v2", "https://api.osf.io/v2", "http://localhost:8000/v2")
EMPTY_LISTING = {"data": [], "links": {"first": None, "last": None, "prev": None, "next": None,
                                       "meta": {"total": 0, "per_page": 10}}}
MANY_FILES = "/v2/nodes/y8t6r/files/osfstorage/5d4ef2104e90e100146f7e53/"
NESTED_DIR = "/v2/nodes/y8t6r/files/osfstorage/5d4f01fb4fb5130014d6754d/"
DEEPER_DIR = "/v2/nodes/y8t6r/files/osfstorage/5d4f01fb4fb5130014d6799/"
# The order of the files in the two recorded pages of the "many-files" folder.
MANY_FILES_ORDER = [2, 3, 4, 5, 6, 7, 8, 9, 10, 1, *range(11, 21)]
SPDX = "https://spdx.org/licenses/"


@pytest.fixture
def base(httpserver) -> str:
    return httpserver.url_for("/v2")


@pytest.fixture
def source(base) -> OsfSource:
    client = HarvestClient([base], max_retries=0, timeout=5.0)
    return OsfSource(client, base)


def recorded(name: str, base: str | None = None) -> dict:
    """Return a recorded response, with its API links moved to `base` when one is given."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    if base:
        for origin in API_ORIGINS:
            text = text.replace(origin, base)
    return json.loads(text)


def file_entry(path: str, size: int, md5: str, download: str) -> dict:
    """Build an osfstorage file entry shaped like the recorded ones, with an MD5 hash only."""
    name = path.rsplit("/", 1)[-1]
    return {"id": f"built-{name}", "type": "files",
            "attributes": {"name": name, "kind": "file", "materialized_path": path, "size": size,
                           "provider": "osfstorage", "extra": {"hashes": {"md5": md5, "sha256": None}}},
            "links": {"download": download}}


def folder_entry(path: str, listing_url: str) -> dict:
    name = path.strip("/").rsplit("/", 1)[-1]
    return {"id": f"built-{name}", "type": "files",
            "attributes": {"name": name, "kind": "folder", "materialized_path": path, "size": None},
            "relationships": {"files": {"links": {"related": {"href": listing_url, "meta": {}}}}}}


def serve_y8t6r(httpserver, base: str, *, folder_page2_next: str | None = None) -> None:
    """Serve project y8t6r of the OSF test server with its whole osfstorage tree.

    The recorded "many-files" folder has four pages; the second is served as the last one. The
    "nested-dir" folder was not recorded, so its listing and a deeper folder are built here.
    """
    httpserver.expect_request("/v2/nodes/y8t6r/").respond_with_json(recorded("test-server-node-y8t6r.json", base))
    for listing in ("contributors", "identifiers"):
        httpserver.expect_request(f"/v2/nodes/y8t6r/{listing}/").respond_with_json(EMPTY_LISTING)
    httpserver.expect_request("/v2/nodes/y8t6r/files/osfstorage/").respond_with_json(
        recorded("test-server-node-y8t6r-files-osfstorage-root.json", base))

    page2 = recorded("test-server-node-y8t6r-files-osfstorage-folder-page2.json", base)
    page2["links"]["next"] = folder_page2_next
    httpserver.expect_request(MANY_FILES, query_string="page=2").respond_with_json(page2)
    httpserver.expect_request(MANY_FILES, query_string="").respond_with_json(
        recorded("test-server-node-y8t6r-files-osfstorage-folder-page1.json", base))

    httpserver.expect_request(NESTED_DIR).respond_with_json({**EMPTY_LISTING, "data": [
        file_entry("/nested-dir/notes.csv", 120, "0123456789ABCDEF0123456789ABCDEF", "https://test.osf.io/download/built1/"),
        folder_entry("/nested-dir/deeper/", base + DEEPER_DIR.removeprefix("/v2")),
    ]})
    httpserver.expect_request(DEEPER_DIR).respond_with_json({**EMPTY_LISTING, "data": [
        file_entry("/nested-dir/deeper/trace.txt", 64, "fedcba9876543210fedcba9876543210", "https://test.osf.io/download/built2/"),
    ]})


def served_paths(httpserver) -> list[str]:
    return [request.full_path.rstrip("?") for request, _ in httpserver.log]


# Parsing


def test_docs_example_node_exact_fields():
    record = parse_osf_node(
        recorded("docs-example-node-e81xl.json"), "https://api.osf.io/v2/nodes/e81xl/",
        contributors=recorded("docs-example-node-contributors-list.json")["data"],
        license=recorded("docs-example-license-detail.json")["data"],
        files=recorded("docs-example-node-files-list.json")["data"])

    assert record.source == "osf"
    assert record.source_id == "e81xl"
    assert record.api_url == "https://api.osf.io/v2/nodes/e81xl/"
    assert record.title == "Reproducibility Project: Cancer Biology"
    assert record.description == (
        "We are conducting a study to investigate the replicability of cancer biology studies. Selected results "
        "from a substantial number of high-profile papers in the field of cancer biology published between "
        "2010-2012 are being replicated by the Science Exchange network.")
    assert record.resource_type == "project"
    assert record.landing_page == "https://osf.io/e81xl/"
    assert record.issued == "2013-10-08"
    assert record.modified == "2017-01-18"
    assert record.keywords == ["cancer biology", "reproducibility", "replication", "open science"]
    assert record.access_rights == "open"
    assert record.doi is None
    assert record.license == SPDX + "BSD-2-Clause"
    assert record.license_label is None
    assert record.creators == [Person("Brian J. Geiger")]
    assert record.contributors == []
    assert record.files == [HarvestedFile(
        name="OSC2012.pdf",
        download_url="https://files.osf.io/v1/resources/ezcuj/providers/osfstorage/553e69248c5e4a219919ea54",
        size=216945,
        checksum="sha256:2450eb9ff3db92a1bff370368b0552b270bd4b5ca0745b773c37d2662f94df8e",
        media_type="application/pdf")]


def test_embedded_registration_exact_fields():
    """The local development server's registration carries contributors, licence and DOI as embeds."""
    record = parse_osf_node(
        recorded("registration-8gqkv-embeds-contributors-license-identifiers-localhost.json"),
        "http://localhost:8000/v2/registrations/8gqkv/")

    assert record.source_id == "8gqkv"
    assert record.title == "Test Component"
    assert record.description == "Test Description"
    assert record.resource_type is None
    assert record.landing_page == "http://localhost:5000/8gqkv/"
    assert record.doi == "10.70102/osf.io/guid0"
    assert record.issued == "2017-12-20"
    assert record.modified == "2017-12-08"
    assert record.creators == [Person("Brian Dawkins")]
    assert record.contributors == []
    assert record.license == SPDX + "CC0-1.0"
    assert record.license_label is None
    assert record.keywords == []
    assert record.access_rights == "open"
    assert record.related == []


def test_withdrawn_registration_is_closed():
    record = parse_osf_node(recorded("registration-pkdm6-production.json"), "https://api.osf.io/v2/registrations/pkdm6/")

    assert record.source_id == "pkdm6"
    assert record.title == "Root Registration with no children"
    assert record.description == "This is a fake registration to test how to structure our project."
    assert record.access_rights == "closed"
    assert record.resource_type is None
    assert record.keywords == []
    assert record.issued == "2021-02-08"
    assert record.landing_page == "https://osf.io/pkdm6/"


def test_contributor_order_and_roles():
    """Bibliographic contributors become creators in `index` order; the others, contributors."""
    template = recorded("docs-example-node-contributors-list.json")["data"][0]
    entries = []
    for index, name, bibliographic in ((2, "Third Author", True), (0, "First Author", True),
                                       (1, "Project Manager", False), (1, "Second Author", True)):
        entry = copy.deepcopy(template)
        entry["attributes"].update(index=index, bibliographic=bibliographic)
        entry["embeds"]["users"]["data"]["attributes"]["full_name"] = name
        entries.append(entry)

    record = parse_osf_node(recorded("docs-example-node-e81xl.json"), "u", contributors=entries)

    assert [person.name for person in record.creators] == ["First Author", "Second Author", "Third Author"]
    assert [person.name for person in record.contributors] == ["Project Manager"]


def test_contributor_orcid_and_affiliation():
    entry = recorded("docs-example-node-contributors-list.json")["data"][0]
    attributes = entry["embeds"]["users"]["data"]["attributes"]
    attributes["social"] = {"orcid": "0000-0002-1825-0097"}
    attributes["employment"] = [{"institution": "Example University", "ongoing": True},
                                {"institution": "Former Employer", "ongoing": False}]
    unregistered = {"attributes": {"index": 1, "bibliographic": True, "unregistered_contributor": "Una Registered"}}
    verified = copy.deepcopy(recorded("docs-example-node-contributors-list.json")["data"][0])
    verified["attributes"]["index"] = 2
    verified["embeds"]["users"]["data"]["attributes"]["external_identity"] = {
        "ORCID": {"0000-0001-0000-0001": "CREATE", "0000-0002-1694-233X": "VERIFIED"}}

    record = parse_osf_node(recorded("docs-example-node-e81xl.json"), "u", contributors=[entry, unregistered, verified])

    assert record.creators == [
        Person("Brian J. Geiger", orcid="0000-0002-1825-0097", affiliations=(Affiliation("Example University"),)),
        Person("Una Registered"),
        Person("Brian J. Geiger", orcid="0000-0002-1694-233X"),
    ]


@pytest.mark.parametrize("name, url, expected_iri, expected_label", [
    ("CC-By Attribution 4.0 International", None, SPDX + "CC-BY-4.0", None),
    ("CC-By Attribution-ShareAlike 4.0 International", None, SPDX + "CC-BY-SA-4.0", None),
    ("CC0 1.0 Universal", None, SPDX + "CC0-1.0", None),
    ("MIT License", None, SPDX + "MIT", None),
    ('BSD 2-Clause "Simplified" License', None, SPDX + "BSD-2-Clause", None),
    ('BSD 3-Clause "New"/"Revised" License', None, SPDX + "BSD-3-Clause", None),
    ("GNU General Public License (GPL) 3.0", None, SPDX + "GPL-3.0-only", None),
    ("Academic Free License (AFL) 3.0", None, SPDX + "AFL-3.0", None),
    ("Some Renamed Licence", "https://creativecommons.org/publicdomain/zero/1.0/legalcode", SPDX + "CC0-1.0", None),
    ("CC-By Attribution-NonCommercial-NoDerivatives 4.0 International", None, SPDX + "CC-BY-NC-ND-4.0", None),
    # A licence that is not on the catalog's licence list keeps its name.
    ("Some Institutional Licence", None, None, "Some Institutional Licence"),
    ("No license", None, None, "No license"),
])
def test_osf_license_names(name, url, expected_iri, expected_label):
    licence = {"type": "licenses", "attributes": {"name": name, **({"url": url} if url else {})}}

    assert osf_license(licence) == (expected_iri, expected_label)


def test_osf_license_missing():
    assert osf_license(None) == (None, None)


# Fetching


def test_node_with_file_tree(httpserver, base, source):
    serve_y8t6r(httpserver, base)

    record = source.node("y8t6r")

    httpserver.check_assertions()
    assert record.source == "osf"
    assert record.source_id == "y8t6r"
    assert record.api_url == f"{base}/nodes/y8t6r/"
    assert record.title == "osfr-testthat-project"
    assert record.description == "This project is for osfr's unit tests and should not be deleted."
    assert record.resource_type == "project"
    assert record.landing_page == "https://test.osf.io/y8t6r/"
    assert record.issued == "2019-08-10"
    assert record.modified == "2019-08-10"
    assert record.access_rights == "open"
    assert record.keywords == []
    assert record.doi is None
    assert record.license is None
    assert record.license_label is None
    assert record.creators == []
    assert [file.name for file in record.files] == [
        *(f"many-files/text-file-{number:02d}.txt" for number in MANY_FILES_ORDER),
        "image-file-01.pdf", "nested-dir/notes.csv", "nested-dir/deeper/trace.txt"]


def test_node_file_fields(httpserver, base, source):
    serve_y8t6r(httpserver, base)

    files = {file.name: file for file in source.node("y8t6r").files}

    assert files["many-files/text-file-02.txt"] == HarvestedFile(
        name="many-files/text-file-02.txt",
        download_url="https://test.osf.io/download/5d4ef2744e90e100146f7e5d/",
        size=1800,
        checksum="sha256:c43ae879b050122b1b4c65e3b95ff6c7d6f80f2c198af2bee6da6351e5116290",
        media_type="text/plain")
    assert files["many-files/text-file-20.txt"] == HarvestedFile(
        name="many-files/text-file-20.txt",
        download_url="https://test.osf.io/download/5d4ef2d84e90e100146f7eb9/",
        size=1797,
        checksum="sha256:829bc93ac935d4245f71b1b71666fa0e6246c2d00597542626bf1ff403151a0f",
        media_type="text/plain")
    assert files["image-file-01.pdf"] == HarvestedFile(
        name="image-file-01.pdf",
        download_url="https://test.osf.io/download/bexrz/",
        size=7709,
        checksum="sha256:09de58bd85494bf792e8838b1f77afd11ca43b4746362c8128fcbcdeea80cc49",
        media_type="application/pdf")
    # Without a SHA-256 the MD5 hash is kept, in lower case.
    assert files["nested-dir/notes.csv"] == HarvestedFile(
        name="nested-dir/notes.csv", download_url="https://test.osf.io/download/built1/", size=120,
        checksum="md5:0123456789abcdef0123456789abcdef", media_type="text/csv")


def test_folder_pages_each_read_once(httpserver, base, source):
    serve_y8t6r(httpserver, base)

    source.node("y8t6r")

    paths = served_paths(httpserver)
    assert paths.count(MANY_FILES) == 1
    assert paths.count(MANY_FILES + "?page=2") == 1
    assert paths.count(NESTED_DIR) == 1
    assert paths.count(DEEPER_DIR) == 1


def test_repeated_next_link_stops(httpserver, base, source, caplog):
    """The second folder page names itself as the next page; the walk reads it once and stops."""
    serve_y8t6r(httpserver, base, folder_page2_next=base + MANY_FILES.removeprefix("/v2") + "?page=2")

    with caplog.at_level(logging.WARNING, logger="umud.harvest.osf"):
        record = source.node("y8t6r")

    names = [file.name for file in record.files]
    assert len(names) == len(set(names)) == 23
    assert served_paths(httpserver).count(MANY_FILES + "?page=2") == 1
    assert any("already read" in message for message in caplog.messages)


def test_file_cap_stops_walk(httpserver, base, caplog):
    serve_y8t6r(httpserver, base)
    source = OsfSource(HarvestClient([base], max_retries=0), base, max_files=5)

    with caplog.at_level(logging.WARNING, logger="umud.harvest.osf"):
        record = source.node("y8t6r")

    assert [file.name for file in record.files] == [
        f"many-files/text-file-{number:02d}.txt" for number in MANY_FILES_ORDER[:5]]
    assert any("cap of 5 files" in message for message in caplog.messages)
    assert MANY_FILES + "?page=2" not in served_paths(httpserver)


def test_folder_depth_cap_skips_deeper(httpserver, base, caplog):
    serve_y8t6r(httpserver, base)
    source = OsfSource(HarvestClient([base], max_retries=0), base, max_folder_depth=1)

    with caplog.at_level(logging.WARNING, logger="umud.harvest.osf"):
        record = source.node("y8t6r")

    names = [file.name for file in record.files]
    assert "nested-dir/notes.csv" in names
    assert "nested-dir/deeper/trace.txt" not in names
    assert DEEPER_DIR not in served_paths(httpserver)
    assert any("more than 1 folders below the storage root" in message for message in caplog.messages)


def test_contributor_pages_and_users(httpserver, base, source):
    """Page 1 is the documentation's contributor list; page 2, a production list without embedded users.

    OSF no longer serves the two users of page 2, so their profiles are built here.
    """
    page1 = recorded("docs-example-node-contributors-list.json", base)
    page1["links"]["next"] = f"{base}/nodes/y8t6r/contributors/?page=2"
    httpserver.expect_request("/v2/nodes/y8t6r/contributors/", query_string="page=2").respond_with_json(
        recorded("registration-0zqbo-contributors-production-2017.json", base))
    httpserver.expect_request("/v2/nodes/y8t6r/contributors/", query_string="").respond_with_json(page1)
    httpserver.expect_request("/v2/users/vni4p/").respond_with_json({"data": {
        "id": "vni4p", "type": "users",
        "attributes": {"full_name": "First Production User", "social": {"orcid": "https://orcid.org/0000-0002-1825-0097"}}}})
    httpserver.expect_request("/v2/users/jym4z/").respond_with_json({"data": {
        "id": "jym4z", "type": "users", "attributes": {"full_name": "Second Production User", "social": {}}}})
    httpserver.expect_request("/v2/nodes/y8t6r/").respond_with_json(recorded("test-server-node-y8t6r.json", base))
    httpserver.expect_request(re.compile(r"/v2/nodes/y8t6r/(identifiers|files/osfstorage)/")).respond_with_json(EMPTY_LISTING)

    record = source.node("y8t6r")

    httpserver.check_assertions()
    assert record.creators == [Person("Brian J. Geiger"),
                               Person("First Production User", orcid="0000-0002-1825-0097"),
                               Person("Second Production User")]
    assert record.contributors == []


def test_licence_from_relationship(httpserver, base, source):
    """A node whose licence relationship leads to OSF's "No license" keeps that name as its label."""
    node = recorded("test-server-node-y8t6r.json", base)
    node["data"]["relationships"]["license"] = {
        "links": {"related": {"href": f"{base}/licenses/563c1cf88c5e4a3877f9e965/", "meta": {}}}}
    httpserver.expect_request("/v2/nodes/y8t6r/").respond_with_json(node)
    httpserver.expect_request("/v2/licenses/563c1cf88c5e4a3877f9e965/").respond_with_json(
        recorded("license-563c1cf88c5e4a3877f9e965-production-2017.json", base))
    httpserver.expect_request(re.compile(r"/v2/nodes/y8t6r/(contributors|identifiers|files/osfstorage)/")).respond_with_json(EMPTY_LISTING)

    record = source.node("y8t6r")

    httpserver.check_assertions()
    assert record.license is None
    assert record.license_label == "No license"


def test_registration_when_node_not_found(httpserver, base, source):
    httpserver.expect_request("/v2/nodes/8gqkv/").respond_with_json({"errors": [{"detail": "Not found."}]}, status=404)
    httpserver.expect_request("/v2/registrations/8gqkv/").respond_with_json(
        recorded("registration-8gqkv-embeds-contributors-license-identifiers-localhost.json", base))
    httpserver.expect_request("/v2/registrations/8gqkv/files/osfstorage/").respond_with_json(EMPTY_LISTING)

    record = source.node("8gqkv")

    httpserver.check_assertions()
    assert record.api_url == f"{base}/registrations/8gqkv/"
    assert record.doi == "10.70102/osf.io/guid0"
    assert record.creators == [Person("Brian Dawkins")]
    assert record.license == SPDX + "CC0-1.0"
    # Contributors, licence and identifiers were embedded, so only node, registration and files were requested.
    assert served_paths(httpserver) == ["/v2/nodes/8gqkv/", "/v2/registrations/8gqkv/",
                                        "/v2/registrations/8gqkv/files/osfstorage/"]


def test_withdrawn_registration_fetched(httpserver, base, source):
    httpserver.expect_request("/v2/nodes/pkdm6/").respond_with_json({"errors": [{"detail": "Not found."}]}, status=404)
    httpserver.expect_request("/v2/registrations/pkdm6/").respond_with_json(recorded("registration-pkdm6-production.json", base))
    httpserver.expect_request(re.compile(r"/v2/registrations/pkdm6/(contributors|identifiers)/")).respond_with_json(EMPTY_LISTING)
    httpserver.expect_request("/v2/registrations/pkdm6/files/osfstorage/").respond_with_json(
        {"errors": [{"detail": "This registration has been withdrawn."}]}, status=410)

    record = source.node("PKDM6")

    httpserver.check_assertions()
    assert record.source_id == "pkdm6"
    assert record.access_rights == "closed"
    assert record.files == []


def test_node_not_found(httpserver, base, source):
    for kind in ("nodes", "registrations"):
        httpserver.expect_request(f"/v2/{kind}/zzzzz/").respond_with_json({"errors": [{"detail": "Not found."}]}, status=404)

    with pytest.raises(HarvestError, match="OSF node or registration zzzzz not found"):
        source.node("zzzzz")


def test_invalid_node_id_rejected(httpserver, source):
    with pytest.raises(ValueError, match="invalid OSF node id"):
        source.node("../users/me")

    assert httpserver.log == []


def test_link_outside_base_skipped(httpserver, base, source, caplog):
    node = recorded("test-server-node-y8t6r.json", base)
    node["data"]["relationships"]["contributors"]["links"]["related"]["href"] = \
        "https://api.osf.io/v2/nodes/y8t6r/contributors/"
    httpserver.expect_request("/v2/nodes/y8t6r/").respond_with_json(node)
    httpserver.expect_request(re.compile(r"/v2/nodes/y8t6r/(identifiers|files/osfstorage)/")).respond_with_json(EMPTY_LISTING)

    with caplog.at_level(logging.WARNING, logger="umud.harvest.osf"):
        record = source.node("y8t6r")

    httpserver.check_assertions()
    assert record.creators == []
    assert any("https://api.osf.io/v2/nodes/y8t6r/contributors/ skipped" in message for message in caplog.messages)


def test_search_follows_pages(httpserver, base, source):
    """Page 1 is the documentation's node list; page 2, the test server's filtered children list."""
    page1 = recorded("docs-example-nodes-list.json", base)
    httpserver.expect_request("/v2/nodes/", query_string="page=2").respond_with_json(
        recorded("test-server-node-4fjxr-children-filter-title.json", base))
    httpserver.expect_request("/v2/nodes/", query_string="filter%5Btitle%5D=Reproducibility").respond_with_json(page1)
    httpserver.expect_request(re.compile(r"/v2/nodes/\w+/(contributors|identifiers|files/osfstorage)/")).respond_with_json(EMPTY_LISTING)

    records = list(source.search("Reproducibility"))

    httpserver.check_assertions()
    assert [record.source_id for record in records] == ["ezcuj", "ramg7"]
    assert records[0].title == "Reproducibility Project: Psychology"
    assert records[0].description is None
    assert records[0].keywords == ["replication", "reproducibility", "open science", "reproduction",
                                   "psychological science", "psychology", "metascience", "crowdsource"]
    assert records[0].issued == "2012-04-01"
    assert records[0].modified == "2016-12-08"
    assert records[1].title == "osfr-testthat-paginated-component-01"
    assert records[1].landing_page == "https://test.osf.io/ramg7/"


def test_search_yields_failed_node(httpserver, base, source):
    page = recorded("docs-example-nodes-list.json", base)
    page["links"]["next"] = None
    httpserver.expect_request("/v2/nodes/").respond_with_json(page)
    httpserver.expect_request("/v2/nodes/ezcuj/contributors/").respond_with_data("not JSON", content_type="application/json")

    items = list(source.search("Reproducibility"))

    assert len(items) == 1
    assert isinstance(items[0], HarvestError)
    assert "malformed JSON" in items[0].reason


def test_article_doi_becomes_related():
    node = recorded("registration-pkdm6-production.json")
    node["data"]["attributes"]["article_doi"] = "10.1037/xge0000123"

    record = parse_osf_node(node, "u")

    assert record.related == [RelatedIdentifier("https://doi.org/10.1037/xge0000123", "IsSupplementTo", "JournalArticle")]
