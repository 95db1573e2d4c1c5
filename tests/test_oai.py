"""The OAI-PMH 2.0 data provider, harvested with Sickle (a real OAI-PMH client) over HTTP on 127.0.0.1."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sickle import Sickle
from sickle.oaiexceptions import BadArgument, BadResumptionToken, CannotDisseminateFormat, IdDoesNotExist, NoRecordsMatch
from waitress.server import create_server

from catalog.history import Change
from catalog.setup import open_catalog

from .browser_support import MUSCLE_GROUPS, names_with_muscle_in, names_with_value, seed_records
from .conftest import BASE_URL

SEED = seed_records()
WITHDRAWN = "GasFasTrack_2019"
PREFIX = "oai:127.0.0.1:"
DC = "{http://purl.org/dc/elements/1.1/}"
DATACITE = "{http://datacite.org/schema/kernel-4}"


@pytest.fixture(scope="module")
def oai_url(tmp_path_factory):
    from server import oai
    from server.app import create_app
    from server.settings import Settings

    folder = tmp_path_factory.mktemp("oai")
    catalog = open_catalog(folder / "store", BASE_URL)
    catalog.withdraw(WITHDRAWN, Change("tests", "a test of deleted records"))
    app = create_app(catalog, Settings(base_url=BASE_URL, store_location=str(folder / "store"), sparql_workers=1,
                                       admin_email="curators@example.org"))
    page_size = oai.PAGE_SIZE
    oai.PAGE_SIZE = 4  # several pages from 15 records, to exercise resumption tokens
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    threading.Thread(target=server.run, daemon=True).start()
    yield f"http://127.0.0.1:{server.effective_port}/oai"
    server.close()
    oai.PAGE_SIZE = page_size
    app.extensions["umud_sparql"].close()
    catalog.store.close()


@pytest.fixture()
def sickle(oai_url):
    return Sickle(oai_url, max_retries=0, timeout=30)


def current_names() -> list[str]:
    return sorted(name for name in SEED if name != WITHDRAWN)


def test_identify(sickle):
    identify = sickle.Identify()
    assert identify.protocolVersion == "2.0"
    assert identify.deletedRecord == "persistent"
    assert identify.granularity == "YYYY-MM-DDThh:mm:ssZ"
    assert identify.adminEmail == "curators@example.org"
    assert identify.baseURL.endswith("/oai")


def test_list_metadata_formats(sickle):
    prefixes = {entry.metadataPrefix for entry in sickle.ListMetadataFormats()}
    assert prefixes == {"oai_dc", "oai_datacite"}
    assert {entry.metadataPrefix for entry in sickle.ListMetadataFormats(identifier=PREFIX + "DeepACSA_2022")} == prefixes


def test_list_sets(sickle):
    specs = {entry.setSpec: entry.setName for entry in sickle.ListSets()}
    assert {"data_type:image", "data_type:video", "data_type:volume", "muscle:triceps-surae"} <= set(specs)
    assert specs["muscle:triceps-surae"] == "Muscle group: Triceps surae"


def test_list_records_pages_through_everything(sickle):
    records = list(sickle.ListRecords(metadataPrefix="oai_dc"))
    live = [record for record in records if not record.deleted]
    deleted = [record for record in records if record.deleted]
    assert sorted(record.header.identifier.removeprefix(PREFIX) for record in live) == current_names()
    assert [record.header.identifier for record in deleted] == [PREFIX + WITHDRAWN]
    by_name = {record.header.identifier.removeprefix(PREFIX): record for record in live}
    deep = by_name["DeepACSA_2022"].metadata
    assert deep["title"] == [SEED["DeepACSA_2022"]["title"]]
    assert deep["creator"] == [author if isinstance(author, str) else author["name"]
                               for author in SEED["DeepACSA_2022"]["authors"]]
    assert deep["date"] == [str(SEED["DeepACSA_2022"]["year"])]
    assert f"https://doi.org/{SEED['DeepACSA_2022']['doi']}" in deep["identifier"]


def test_list_identifiers_by_data_type(sickle):
    headers = list(sickle.ListIdentifiers(metadataPrefix="oai_dc", set="data_type:video"))
    expected = [name for name in names_with_value(SEED, "data_type", "Video") if name != WITHDRAWN]
    assert sorted(header.identifier.removeprefix(PREFIX) for header in headers) == sorted(expected)
    assert all("data_type:video" in header.setSpecs for header in headers)


def test_list_identifiers_by_muscle_group(sickle):
    headers = list(sickle.ListIdentifiers(metadataPrefix="oai_dc", set="muscle:triceps-surae"))
    expected = [name for name in names_with_muscle_in(SEED, MUSCLE_GROUPS["Triceps surae"]) if name != WITHDRAWN]
    assert sorted(header.identifier.removeprefix(PREFIX) for header in headers) == sorted(expected)


def test_from_and_until(sickle):
    now = datetime.now(timezone.utc)
    tomorrow = (now + timedelta(days=1)).strftime("%Y-%m-%d")
    yesterday = (now - timedelta(days=1)).strftime("%Y-%m-%d")
    assert len(list(sickle.ListIdentifiers(metadataPrefix="oai_dc", **{"from": yesterday}))) == len(SEED)
    with pytest.raises(NoRecordsMatch):
        list(sickle.ListIdentifiers(metadataPrefix="oai_dc", **{"from": tomorrow}))
    with pytest.raises(NoRecordsMatch):
        list(sickle.ListIdentifiers(metadataPrefix="oai_dc", until="2001-01-01T00:00:00Z"))
    with pytest.raises(BadArgument):
        list(sickle.ListIdentifiers(metadataPrefix="oai_dc", until="yesterday"))
    with pytest.raises(BadArgument):
        list(sickle.ListIdentifiers(metadataPrefix="oai_dc", until="2030-01-01", **{"from": "2001-01-01T00:00:00Z"}))


def test_get_record_datacite(sickle):
    record = sickle.GetRecord(identifier=PREFIX + "DeepACSA_2022", metadataPrefix="oai_datacite")
    resource = record.xml.find(f".//{DATACITE}resource")
    assert resource.find(f"{DATACITE}identifier").text == SEED["DeepACSA_2022"]["doi"]
    assert resource.find(f"{DATACITE}publicationYear").text == str(SEED["DeepACSA_2022"]["year"])
    assert resource.find(f"{DATACITE}resourceType").get("resourceTypeGeneral") == "Dataset"
    names = [element.text for element in resource.iter(f"{DATACITE}creatorName")]
    assert len(names) == len(SEED["DeepACSA_2022"]["authors"])


def test_get_record_of_a_withdrawn_dataset(sickle):
    record = sickle.GetRecord(identifier=PREFIX + WITHDRAWN, metadataPrefix="oai_dc")
    assert record.deleted
    assert record.xml.find(".//{http://www.openarchives.org/OAI/2.0/}metadata") is None


@pytest.mark.parametrize("call, error", [
    (lambda sickle: sickle.GetRecord(identifier=PREFIX + "NoSuch_2020", metadataPrefix="oai_dc"), IdDoesNotExist),
    (lambda sickle: sickle.GetRecord(identifier="oai:elsewhere:DeepACSA_2022", metadataPrefix="oai_dc"), IdDoesNotExist),
    (lambda sickle: sickle.GetRecord(identifier=PREFIX + "DeepACSA_2022", metadataPrefix="marc21"), CannotDisseminateFormat),
    (lambda sickle: list(sickle.ListRecords(metadataPrefix="oai_dc", set="muscle:no-such-group")), BadArgument),
    (lambda sickle: list(sickle.ListRecords(metadataPrefix="oai_dc", resumptionToken="not-a-token")), BadArgument),
    (lambda sickle: sickle.ListRecords(resumptionToken="bm90LWEtdG9rZW4"), BadResumptionToken),
    (lambda sickle: sickle._request({"verb": "Frobnicate"}), None),
])
def test_protocol_errors(sickle, call, error):
    if error is None:
        response = call(sickle)
        assert 'code="badVerb"' in response.text
        return
    with pytest.raises(error):
        call(sickle)


def test_bad_verb_and_missing_arguments(oai_url):
    import urllib.request

    def fetch(query: str) -> str:
        with urllib.request.urlopen(f"{oai_url}?{query}", timeout=30) as response:
            return response.read().decode()

    assert 'code="badVerb"' in fetch("")
    assert 'code="badVerb"' in fetch("verb=Identify&verb=Identify")
    assert 'code="badArgument"' in fetch("verb=ListRecords")
    assert 'code="badArgument"' in fetch("verb=Identify&extra=1")
    bad = fetch("verb=ListRecords")
    assert "<request>" in bad or 'verb="ListRecords"' not in bad


def test_resumption_tokens_carry_the_list(sickle):
    response = sickle.ListIdentifiers(metadataPrefix="oai_dc")
    first = response.oai_response
    token = first.xml.find(".//{http://www.openarchives.org/OAI/2.0/}resumptionToken")
    assert token.get("completeListSize") == str(len(SEED))
    assert token.get("cursor") == "0"
    assert token.text
    exclusive = sickle._request({"verb": "ListIdentifiers", "resumptionToken": token.text, "metadataPrefix": "oai_dc"})
    assert 'code="badArgument"' in exclusive.text
