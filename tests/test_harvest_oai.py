"""The OAI-PMH harvester against recorded Zenodo responses, served on 127.0.0.1 (pytest-httpserver).

The recordings are of https://zenodo.org/oai2d from 2015 (legacy Zenodo), 2024 and 2026
(InvenioRDM). Pages that no recording covers (the last page of a list, an oai_datacite wrapper,
ROR affiliations) are built here, and each is marked where it is built.
"""

from __future__ import annotations

import html
import logging
import re
from datetime import date, datetime, timedelta, timezone
from urllib.parse import parse_qs, urlsplit

import pytest

from harvesters.http import HarvestClient, build_url, parse_xml
from harvesters.model import Affiliation, HarvestedRecord, HarvestError, Person, RelatedIdentifier
from harvesters.normalise import sanitise_html
from harvesters.oai import DeletedRecord, OaiError, OaiSource, parse_oai_record

from .conftest import SHARED

FIXTURES = SHARED / "fixtures" / "real-api" / "zenodo-oai"
SPDX = "https://spdx.org/licenses/"
OAI_HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><responseDate>2026-08-13T18:00:00Z</responseDate>'
            '<request>https://zenodo.org/oai2d</request>')
# A small record for the last page of a list, which no recording has.
LAST_PAGE_RECORD = """<record><header><identifier>oai:zenodo.org:99</identifier><datestamp>2026-04-01T00:00:00Z</datestamp></header>
<metadata><oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:title>Last page record</dc:title><dc:identifier>https://doi.org/10.5281/zenodo.99</dc:identifier></oai_dc:dc></metadata></record>"""
RECORD_COUNTS = {
    "getrecord-10357859-datacite-2024-01.xml": 1,
    "getrecord-10357859-datacite-software-orcid.xml": 1,
    "getrecord-10357859-oai_dc.xml": 1,
    "legacy-2015-listrecords-oai_dc-from-until.xml": 7,
    "listrecords-datacite-2024-01-trimmed-3-records.xml": 3,
    "listrecords-datacite-first-page-50-records.xml": 50,
    "listrecords-oai_dc-from-until-first-page.xml": 50,
    "listrecords-oai_dc-resumptiontoken-page-cursor50-trimmed-3-records.xml": 3,
}


@pytest.fixture
def base(httpserver) -> str:
    return httpserver.url_for("/oai2d")


@pytest.fixture
def source(base) -> OaiSource:
    return OaiSource(HarvestClient([base], max_retries=0, timeout=5.0), base)


def fixture_text(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def serve(httpserver, name_or_body: str, query: dict[str, str], status: int = 200, *, once: bool = False) -> None:
    """Serve a recorded response (by file name) or a built body for exactly the query `query`.

    With `once`, a second identical request finds no handler and gets HTTP 500.
    """
    body = fixture_text(name_or_body) if name_or_body.endswith(".xml") else name_or_body
    expect = httpserver.expect_oneshot_request if once else httpserver.expect_request
    expect("/oai2d", query_string=query).respond_with_data(body, status=status, content_type="text/xml; charset=utf-8")


def token_of(name: str) -> str:
    return re.search(r"<resumptionToken[^>]*>([^<]+)</resumptionToken>", fixture_text(name)).group(1)


def record_xml(name: str, identifier: str) -> str:
    """Return the <record> element of `identifier` in a recorded response, as text."""
    for record in re.findall(r"<record>.*?</record>", fixture_text(name), re.DOTALL):
        if f"<identifier>{identifier}</identifier>" in record:
            return record
    raise AssertionError(f"{identifier} not in {name}")


def parsed(name: str, identifier: str, api_url: str = "u") -> HarvestedRecord | DeletedRecord:
    """Parse one record of a recorded response on its own, inside a GetRecord envelope."""
    document = f'{OAI_HEAD}<GetRecord>{record_xml(name, identifier)}</GetRecord></OAI-PMH>'
    record = next(element for element in parse_xml(document.encode()).iter() if element.tag.endswith("}record"))
    return parse_oai_record(record, api_url)


def requested_queries(httpserver) -> list[dict[str, list[str]]]:
    return [parse_qs(urlsplit(request.url).query) for request, _ in httpserver.log]


# Parsing every recording


@pytest.mark.parametrize("name, count", sorted(RECORD_COUNTS.items()))
def test_every_recorded_record_parses(name, count):
    root = parse_xml((FIXTURES / name).read_bytes())
    records = [element for element in root.iter() if element.tag.endswith("}record")]

    results = [parse_oai_record(record, "u") for record in records]

    assert len(results) == count
    for result in results:
        assert isinstance(result, (HarvestedRecord, DeletedRecord))
        if isinstance(result, HarvestedRecord):
            assert result.source == "oai"
            assert result.source_id.startswith("oai:zenodo.org:")
            assert result.title
            assert result.doi


def test_first_datacite_page_resource_types():
    root = parse_xml((FIXTURES / "listrecords-datacite-first-page-50-records.xml").read_bytes())
    results = [parse_oai_record(record, "u") for record in root.iter() if record.tag.endswith("}record")]

    types = [result.resource_type for result in results]
    assert types.count("dataset") == 29
    assert types.count("software") == 4
    assert all(result.access_rights == "open" for result in results)
    assert sum(1 for result in results if result.concept_doi) == 42


# Exact fields


def test_getrecord_datacite_exact(httpserver, base, source):
    name = "getrecord-10357859-datacite-software-orcid.xml"
    query = {"verb": "GetRecord", "identifier": "oai:zenodo.org:10357859", "metadataPrefix": "datacite"}
    serve(httpserver, name, query)
    abstract = re.search(r'<description descriptionType="Abstract">(.*?)</description>', fixture_text(name), re.DOTALL)

    record = source.get_record("oai:zenodo.org:10357859")

    httpserver.check_assertions()
    assert record.source == "oai"
    assert record.source_id == "oai:zenodo.org:10357859"
    assert record.api_url == build_url(base, query)
    assert record.title == "Research Data Management Organiser (RDMO)"
    assert record.resource_type == "software"
    assert record.doi == "10.5281/zenodo.10357859"
    assert record.concept_doi == "10.5281/zenodo.596581"
    assert record.landing_page == "https://zenodo.org/records/10357859"
    assert record.version == "2.1.0"
    assert record.issued == "2023-12-11"
    assert record.modified == "2023-12-11"
    assert record.license == SPDX + "Apache-2.0"
    assert record.license_label is None
    assert record.access_rights == "open"
    assert record.keywords == []
    assert record.description == sanitise_html(html.unescape(abstract.group(1)))
    assert record.related == [
        RelatedIdentifier("https://github.com/rdmorganiser/rdmo/tree/2.1.0", "IsSupplementTo", "Software"),
        RelatedIdentifier("https://doi.org/10.5281/zenodo.596581", "IsVersionOf"),
        RelatedIdentifier("https://zenodo.org/communities/rdmo/", "IsPartOf"),
    ]
    assert record.creators == [
        Person("Klar, Jochen", orcid="0000-0002-5883-4273"),
        Person("Michaelis, Olaf", orcid="0000-0002-5282-703X"),
        Person("Wallace, David", orcid="0000-0001-8958-4601"),
        Person("Schröder, Max", orcid="0000-0003-1522-494X"),
        Person("Fütterer, Heinz-Alexander", orcid="0000-0003-4397-027X"),
        Person("Lanza, Giacomo", orcid="0000-0002-2239-3955"),
        Person("Martínez Muñoz, David"),
        Person("Pilori, Dario", orcid="0000-0003-4499-8573"),
        Person("Harry, Enke", orcid="0000-0002-2366-8316"),
    ]
    assert record.contributors == []
    assert record.files == []


def test_datacite_2024_recording_of_same_record():
    """The January 2024 recording (kernel-4.3 schema) lacks the Updated date, community and access term."""
    record = parsed("getrecord-10357859-datacite-2024-01.xml", "oai:zenodo.org:10357859")

    assert record.doi == "10.5281/zenodo.10357859"
    assert record.concept_doi == "10.5281/zenodo.596581"
    assert record.issued == "2023-12-11"
    assert record.modified is None
    assert record.access_rights is None
    assert record.license == SPDX + "Apache-2.0"
    assert len(record.creators) == 9
    assert [related.relation for related in record.related] == ["IsSupplementTo", "IsVersionOf"]


def test_getrecord_oai_dc_exact(httpserver, source):
    serve(httpserver, "getrecord-10357859-oai_dc.xml",
          {"verb": "GetRecord", "identifier": "oai:zenodo.org:10357859", "metadataPrefix": "oai_dc"})

    record = source.get_record("oai:zenodo.org:10357859", "oai_dc")

    assert record.title == "Research Data Management Organiser (RDMO)"
    assert record.doi == "10.5281/zenodo.10357859"
    assert record.landing_page == "https://zenodo.org/records/10357859"
    assert record.issued == "2023-12-11"
    assert record.resource_type == "other"
    assert record.license == SPDX + "Apache-2.0"
    assert record.access_rights == "open"
    assert record.concept_doi is None
    assert [person.name for person in record.creators] == [
        "Klar, Jochen", "Michaelis, Olaf", "Wallace, David", "Schröder, Max", "Fütterer, Heinz-Alexander",
        "Lanza, Giacomo", "Martínez Muñoz, David", "Pilori, Dario", "Harry, Enke"]
    assert all(person.orcid is None for person in record.creators)
    assert record.related == [
        RelatedIdentifier("https://github.com/rdmorganiser/rdmo/tree/2.1.0", "Relation"),
        RelatedIdentifier("https://zenodo.org/communities/rdmo/", "Relation"),
        RelatedIdentifier("https://doi.org/10.5281/zenodo.596581", "Relation"),
    ]
    # Zenodo escapes this HTML twice; it arrives as markup, not as visible tags.
    assert record.description.startswith(
        '<a href="https://github.com/rdmorganiser/rdmo/compare/2.0.2...2.1.0" rel="noopener noreferrer nofollow">'
        "RDMO 2.1.0</a> (Dec 11, 2023)\n<ul>\n<li>Refactor progress bar and overview<ul>")
    assert "<li>Allow <code>textarea</code> as additional input for options</li>" in record.description
    assert "&lt;" not in record.description


def test_datacite_dataset_exact():
    record = parsed("listrecords-datacite-first-page-50-records.xml", "oai:zenodo.org:8433767")

    assert record.title == "Data accompanying the GitHub repository bartonlab/paper-clonal-dynamics"
    assert record.resource_type == "dataset"
    assert record.doi == "10.5281/zenodo.8433767"
    assert record.concept_doi == "10.5281/zenodo.8433766"
    assert record.landing_page == "https://zenodo.org/records/8433767"
    assert record.version == "1.0.0"
    assert record.issued == "2023-10-12"
    assert record.modified == "2023-10-12"
    assert record.license == SPDX + "CC-BY-4.0"
    assert record.access_rights == "open"
    assert record.keywords == []
    assert record.related == [RelatedIdentifier("https://doi.org/10.5281/zenodo.8433766", "IsVersionOf")]
    assert record.creators == [
        Person("Li, Yunxiao", orcid="0000-0002-5537-3774",
               affiliations=(Affiliation("University of California Riverside"),)),
        Person("Barton, John", orcid="0000-0003-1467-421X",
               affiliations=(Affiliation("University of Pittsburgh School of Medicine"),)),
    ]
    assert record.description == (
        "This dataset contains data&nbsp;that accompany the GitHub repository&nbsp;bartonlab/paper-covariance-estimation. "
        "The GitHub repository contains code and scripts for reproducing results described in the manuscript "
        '"Correlated allele frequency changes reveal clonal structure and selection in temporal genetic data." '
        "See the GitHub repository for details on the interpretation and analysis of this data.")


def test_datacite_dryad_dataset_exact():
    record = parsed("listrecords-datacite-first-page-50-records.xml", "oai:zenodo.org:8433037")

    assert record.title == "Birth and death dates for individuals of twelve Rhododendron species"
    assert record.doi == "10.5061/dryad.cz8w9gj8q"
    assert record.concept_doi is None
    assert record.version is None
    assert record.license == SPDX + "CC0-1.0"
    assert record.keywords == ["Rhododendron", "botanic garden", "age"]
    assert record.related == []
    assert record.creators == [
        Person("Dahlgren, Johan", orcid="0000-0002-1125-9769", affiliations=(Affiliation("University of Southern Denmark"),)),
        Person("Baden, Heide Maria", affiliations=(Affiliation("University of Southern Denmark"),)),
        Person("Colchero, Fernando", affiliations=(Affiliation("University of Southern Denmark"),)),
        Person("Cubey, Robert", affiliations=(Affiliation("Royal Botanic Garden Edinburgh"),)),
    ]
    # Only the Abstract is the description. The "Other" one contains funding notes.
    assert record.description == (
        "Birth (planting) date, depart date, and depart type (C = censored (not dead), D = dead), for individuals "
        "of twelve Rhododendron species planted at the Royal Botanic Garden Edinburgh.")


def test_datacite_alternate_url_outside_zenodo():
    record = parsed("listrecords-datacite-first-page-50-records.xml", "oai:zenodo.org:8436503")

    assert record.landing_page == "https://zenodo.org/records/8436503"
    assert RelatedIdentifier("http://treatment.plazi.org/id/23593C1D04231753FF114995FC52DAA9",
                             "IsIdenticalTo") in record.related


def test_datacite_licence_outside_vocabulary_kept_as_label():
    record = parsed("listrecords-datacite-first-page-50-records.xml", "oai:zenodo.org:8433329")

    assert record.license is None
    assert record.license_label == "Creative Commons Attribution 1.0 Generic"


def test_oai_dc_licence_url_forms():
    """MIT appears as "MIT License" and https://opensource.org/licenses/MIT in Zenodo's oai_dc."""
    record = parsed("listrecords-oai_dc-from-until-first-page.xml", "oai:zenodo.org:19370410")

    assert record.license == SPDX + "MIT"


def test_oai_dc_embargoed_and_copied_record():
    embargoed = parsed("listrecords-oai_dc-from-until-first-page.xml", "oai:zenodo.org:18078267")
    copied = parsed("listrecords-oai_dc-from-until-first-page.xml", "oai:zenodo.org:19373574")

    assert embargoed.access_rights == "embargoed"
    assert embargoed.issued is not None and not embargoed.issued.startswith("info:")
    assert copied.landing_page == "https://zenodo.org/records/19373574"
    assert copied.doi == "10.5281/zenodo.19373574"
    assert RelatedIdentifier("http://treatment.plazi.org/id/03CD9530D44CFFFB95ABF91301EDF8C2",
                             "IsIdenticalTo") in copied.related
    assert copied.keywords[:3] == ["Biodiversity", "Taxonomy", "Animalia"]
    assert copied.title == "Holopothrips irregularis Lindner, Ferrari, Mound & Cavalleri 2018"


def test_oai_datacite_wrapper_with_ror():
    """No recording has the oai_datacite wrapper or a ROR affiliation, so this record is built."""
    document = f"""{OAI_HEAD}<GetRecord><record>
      <header><identifier>oai:zenodo.org:123</identifier><datestamp>2024-05-01T10:00:00Z</datestamp></header>
      <metadata><oai_datacite xmlns="http://schema.datacite.org/oai/oai-1.1/">
        <schemaVersion>3</schemaVersion><datacentreSymbol>CERN.ZENODO</datacentreSymbol>
        <payload><resource xmlns="http://datacite.org/schema/kernel-3">
          <identifier identifierType="DOI">10.5281/ZENODO.123</identifier>
          <creators>
            <creator><creatorName nameType="Personal">Muller, Anna</creatorName>
              <nameIdentifier nameIdentifierScheme="ORCID" schemeURI="https://orcid.org/">https://orcid.org/0000-0002-1825-0097</nameIdentifier>
              <affiliation affiliationIdentifier="https://ror.org/01GGX4157" affiliationIdentifierScheme="ROR">CERN</affiliation>
            </creator>
            <creator><creatorName nameType="Organizational">Ultrasound Consortium</creatorName></creator>
          </creators>
          <titles><title>Gastrocnemius ultrasound</title><title titleType="TranslatedTitle">Ultraschall</title></titles>
          <publicationYear>2024</publicationYear>
          <resourceType resourceTypeGeneral="Dataset">Image set</resourceType>
          <alternateIdentifiers><alternateIdentifier alternateIdentifierType="URL">https://zenodo.org/record/123</alternateIdentifier></alternateIdentifiers>
          <rightsList><rights rightsURI="https://creativecommons.org/licenses/by/4.0/legalcode">Creative Commons Attribution 4.0</rights>
            <rights rightsURI="info:eu-repo/semantics/restrictedAccess">Restricted Access</rights></rightsList>
          <descriptions><description descriptionType="Abstract">Line one<br/>line two &lt;script&gt;x&lt;/script&gt;</description></descriptions>
          <relatedIdentifiers><relatedIdentifier relatedIdentifierType="arXiv" relationType="IsSupplementTo">arXiv:2101.00001</relatedIdentifier></relatedIdentifiers>
        </resource></payload></oai_datacite></metadata></record></GetRecord></OAI-PMH>"""
    element = next(e for e in parse_xml(document.encode()).iter() if e.tag.endswith("}record"))

    record = parse_oai_record(element, "u")

    assert record.title == "Gastrocnemius ultrasound"
    assert record.doi == "10.5281/zenodo.123"
    assert record.resource_type == "dataset"
    assert record.issued == "2024"
    assert record.landing_page == "https://zenodo.org/record/123"
    assert record.license == SPDX + "CC-BY-4.0"
    assert record.access_rights == "restricted"
    assert record.description == "Line one<br>line two"
    assert record.related == [RelatedIdentifier("https://arxiv.org/abs/2101.00001", "IsSupplementTo")]
    assert record.creators == [
        Person("Muller, Anna", orcid="0000-0002-1825-0097",
               affiliations=(Affiliation("CERN", "https://ror.org/01ggx4157"),)),
        Person("Ultrasound Consortium", is_organisation=True),
    ]


def test_legacy_2015_oai_dc_page(httpserver, source):
    query = {"verb": "ListRecords", "metadataPrefix": "oai_dc",
             "from": "2015-04-27T00:00:00Z", "until": "2015-04-28T00:00:00Z"}
    serve(httpserver, "legacy-2015-listrecords-oai_dc-from-until.xml", query)

    records = list(source.list_records("oai_dc", from_="2015-04-27T00:00:00Z", until="2015-04-28T00:00:00Z"))

    httpserver.check_assertions()
    assert [record.source_id for record in records] == [
        "oai:zenodo.org:13841", "oai:zenodo.org:14165", "oai:zenodo.org:17183", "oai:zenodo.org:17185",
        "oai:zenodo.org:17188", "oai:zenodo.org:17189", "oai:zenodo.org:17190"]
    first = records[0]
    assert first.title == ("Einsatz von Forschungsinformationssystemen an Universitäten und Hochschulen mit "
                           "Promotionsrecht in Deutschland. Ergebnisbericht")
    assert first.creators == [Person("Sticht, Kendra")]
    assert first.issued == "2015-01-08"
    assert first.doi == "10.5281/zenodo.13841"
    assert first.landing_page == "http://zenodo.org/record/13841"
    assert first.resource_type == "journalarticle"
    assert first.access_rights == "open"
    # Legacy Zenodo put a licence family without version in dc:subject; it stays a keyword.
    assert first.keywords == ["cc-by"]
    assert first.license is None
    assert first.license_label is None
    assert first.description.startswith(
        "<p>Ergebnisse aus der Masterthesis „Untersuchung zum Einsatz von Forschungsinformationssystemen")
    assert records[1].description == "<p>Uploaded by Plazi from Antbase. HNS:4047</p>"
    # One dc:creator naming three people stays one creator: the separator is ambiguous.
    assert records[4].creators == [Person("M. Arshad Shehzad Hassan, Guobing Song, Xiaoning Kang")]


# Lists and resumption


def test_list_records_follows_tokens(httpserver, base, source):
    """Page 1 and the resumed page 2 are recorded; the last page, without a token, is built here."""
    first = "listrecords-oai_dc-from-until-first-page.xml"
    second = "listrecords-oai_dc-resumptiontoken-page-cursor50-trimmed-3-records.xml"
    serve(httpserver, first, {"verb": "ListRecords", "metadataPrefix": "oai_dc",
                              "from": "2026-04-01", "until": "2026-04-02"})
    serve(httpserver, second, {"verb": "ListRecords", "resumptionToken": token_of(first)})
    serve(httpserver, f"{OAI_HEAD}<ListRecords>{LAST_PAGE_RECORD}</ListRecords></OAI-PMH>",
          {"verb": "ListRecords", "resumptionToken": token_of(second)})

    items = list(source.list_records("oai_dc", from_="2026-04-01", until="2026-04-02"))

    httpserver.check_assertions()
    assert len(items) == 54
    assert items[0].source_id == "oai:zenodo.org:19355137"
    assert items[50] == DeletedRecord("oai:zenodo.org:8433364", "2023-10-12T03:01:25Z")
    assert [item.source_id for item in items[51:]] == ["oai:zenodo.org:8333281", "oai:zenodo.org:8321258",
                                                        "oai:zenodo.org:99"]
    assert items[51].api_url == build_url(base, {"verb": "GetRecord", "identifier": "oai:zenodo.org:8333281",
                                                 "metadataPrefix": "oai_dc"})
    queries = requested_queries(httpserver)
    assert queries[0] == {"verb": ["ListRecords"], "metadataPrefix": ["oai_dc"],
                          "from": ["2026-04-01"], "until": ["2026-04-02"]}
    assert queries[1] == {"verb": ["ListRecords"], "resumptionToken": [token_of(first)]}
    assert queries[2] == {"verb": ["ListRecords"], "resumptionToken": [token_of(second)]}


def test_empty_token_ends_list(httpserver, source):
    page = fixture_text("listrecords-datacite-2024-01-trimmed-3-records.xml")
    page = re.sub(r"<resumptionToken([^>]*)>[^<]+</resumptionToken>", r"<resumptionToken\1/>", page)
    serve(httpserver, page, {"verb": "ListRecords", "metadataPrefix": "datacite"})

    records = list(source.list_records())

    assert [record.title for record in records] == [
        "Some Remarkable Oxidation-Products of Benzidine", "Luminous Worms", "Origin of the Numerals"]
    assert len(httpserver.log) == 1


def test_repeating_token_stops(httpserver, source, caplog):
    """The recorded page is served again for its own token, so the same token comes back."""
    name = "listrecords-datacite-2024-01-trimmed-3-records.xml"
    serve(httpserver, name, {"verb": "ListRecords", "metadataPrefix": "datacite"})
    serve(httpserver, name, {"verb": "ListRecords", "resumptionToken": token_of(name)}, once=True)

    with caplog.at_level(logging.WARNING, logger="umud.harvest.oai"):
        records = list(source.list_records("datacite"))

    assert len(records) == 6
    assert len(httpserver.log) == 2
    assert any("came back a second time" in message for message in caplog.messages)


def test_no_records_match_422_is_empty(httpserver, source):
    serve(httpserver, "error-422-noRecordsMatch.xml",
          {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2030-01-01"}, status=422)

    assert list(source.list_records("oai_dc", from_="2030-01-01")) == []
    httpserver.check_assertions()


def test_bad_argument_422_raises(httpserver, source):
    serve(httpserver, "error-422-badArgument-metadataPrefix.xml",
          {"verb": "ListIdentifiers", "metadataPrefix": "XXX"}, status=422)

    with pytest.raises(OaiError) as raised:
        list(source.list_identifiers("XXX"))

    assert raised.value.code == "badArgument"
    assert raised.value.message == "metadataPrefix does not exist"
    assert isinstance(raised.value, HarvestError)


def test_id_does_not_exist_422_raises(httpserver, source):
    serve(httpserver, "error-422-idDoesNotExist.xml",
          {"verb": "GetRecord", "identifier": "oai:zenodo.org:XXX", "metadataPrefix": "oai_dc"}, status=422)

    with pytest.raises(OaiError) as raised:
        source.get_record("oai:zenodo.org:XXX", "oai_dc")

    assert raised.value.code == "idDoesNotExist"
    assert raised.value.message == "No matching identifier"
    assert "identifier=oai%3Azenodo.org%3AXXX" in raised.value.url


def test_error_with_http_200_raises(httpserver, source):
    """OAI-PMH itself sends errors with HTTP 200; Zenodo's 422 is its own choice."""
    serve(httpserver, "error-422-badArgument-metadataPrefix.xml", {"verb": "ListIdentifiers", "metadataPrefix": "XXX"})

    with pytest.raises(OaiError, match="badArgument"):
        list(source.list_identifiers("XXX"))


def test_422_without_oai_body_raises_status(httpserver, source):
    serve(httpserver, "Unprocessable", {"verb": "Identify"}, status=422)

    with pytest.raises(HarvestError, match="HTTP 422"):
        source.identify()


def test_deleted_record_from_get_record(httpserver, source):
    record = record_xml("listrecords-oai_dc-resumptiontoken-page-cursor50-trimmed-3-records.xml", "oai:zenodo.org:8433364")
    serve(httpserver, f"{OAI_HEAD}<GetRecord>{record}</GetRecord></OAI-PMH>",
          {"verb": "GetRecord", "identifier": "oai:zenodo.org:8433364", "metadataPrefix": "oai_dc"})

    with pytest.raises(HarvestError, match="oai:zenodo.org:8433364 is deleted"):
        source.get_record("oai:zenodo.org:8433364", "oai_dc")


def test_record_without_title_yielded_as_error(httpserver, source):
    untitled = LAST_PAGE_RECORD.replace("<dc:title>Last page record</dc:title>", "")
    serve(httpserver, f"{OAI_HEAD}<ListRecords>{untitled}{LAST_PAGE_RECORD}</ListRecords></OAI-PMH>",
          {"verb": "ListRecords", "metadataPrefix": "oai_dc"})

    items = list(source.list_records("oai_dc"))

    assert isinstance(items[0], HarvestError)
    assert "oai:zenodo.org:99 has no title" in items[0].reason
    assert items[1].title == "Last page record"


# Argument checks


@pytest.mark.parametrize("from_, until, message", [
    ("2026-13-01", None, "invalid from date"),
    ("2026-04-01T00:00:00", None, "invalid from date"),
    ("01.04.2026", None, "invalid from date"),
    (None, "2026-04-01T25:00:00Z", "invalid until date"),
    ("2026-04-01", "2026-04-02T00:00:00Z", "same granularity"),
    ("2026-04-03", "2026-04-02", "later than until"),
    (datetime(2026, 4, 1), None, "give it a timezone"),
])
def test_invalid_dates_rejected_before_request(httpserver, source, from_, until, message):
    with pytest.raises(ValueError, match=message):
        source.list_records("oai_dc", from_=from_, until=until)
    with pytest.raises(ValueError, match=message):
        source.list_identifiers("oai_dc", from_=from_, until=until)

    assert httpserver.log == []


def test_date_objects_become_datestamps(httpserver, source):
    serve(httpserver, "error-422-noRecordsMatch.xml",
          {"verb": "ListRecords", "metadataPrefix": "datacite", "from": "2026-04-01T22:00:00Z",
           "until": "2026-04-02T10:30:00Z"}, status=422)

    items = list(source.list_records(from_=datetime(2026, 4, 2, 0, 0, tzinfo=timezone(timedelta(hours=2))),
                                     until=datetime(2026, 4, 2, 10, 30, tzinfo=timezone.utc)))

    assert items == []
    httpserver.check_assertions()


def test_date_object_day_granularity(httpserver, source):
    serve(httpserver, "error-422-noRecordsMatch.xml",
          {"verb": "ListRecords", "metadataPrefix": "datacite", "set": "user-rdmo", "from": "2026-04-01"}, status=422)

    assert list(source.list_records(set="user-rdmo", from_=date(2026, 4, 1))) == []
    httpserver.check_assertions()


def test_unparseable_prefix_rejected(httpserver, source):
    with pytest.raises(ValueError, match="marcxml"):
        source.get_record("oai:zenodo.org:1", "marcxml")
    with pytest.raises(ValueError, match="marcxml"):
        source.list_records("marcxml")

    assert httpserver.log == []


# The other verbs


def test_identify(httpserver, source):
    serve(httpserver, "identify.xml", {"verb": "Identify"})

    assert source.identify() == {
        "repositoryName": "Zenodo", "baseURL": "https://zenodo.org/oai2d", "protocolVersion": "2.0",
        "earliestDatestamp": "2014-02-03T14:41:33Z", "deletedRecord": "no", "granularity": "YYYY-MM-DDThh:mm:ssZ",
        "adminEmail": ["info@zenodo.org"]}


@pytest.mark.parametrize("name, prefixes", [
    ("listmetadataformats.xml",
     ["marcxml", "oai_dc", "dcat", "marc21", "datacite", "oai_datacite", "datacite4", "oai_datacite4"]),
    ("legacy-2023-listmetadataformats.xml", None),
])
def test_list_metadata_formats(httpserver, source, name, prefixes):
    serve(httpserver, name, {"verb": "ListMetadataFormats"})

    formats = source.list_metadata_formats()

    recorded = re.findall(r"<metadataPrefix>([^<]+)</metadataPrefix>", fixture_text(name))
    assert [entry["metadataPrefix"] for entry in formats] == (prefixes or recorded)
    assert formats[1]["metadataPrefix"] in {"oai_dc", "oai_datacite4"}
    assert all(entry["schema"] and entry["metadataNamespace"] for entry in formats)


def test_list_metadata_formats_datacite_entry(httpserver, source):
    serve(httpserver, "listmetadataformats.xml", {"verb": "ListMetadataFormats"})

    datacite = next(entry for entry in source.list_metadata_formats() if entry["metadataPrefix"] == "datacite")

    assert datacite == {"metadataPrefix": "datacite", "schema": "http://schema.datacite.org/meta/kernel-4.5/metadata.xsd",
                        "metadataNamespace": "http://datacite.org/schema/kernel-4"}


def test_list_sets_follows_token(httpserver, source):
    """The first page is recorded; the last page is built here."""
    name = "listsets-first-page.xml"
    serve(httpserver, name, {"verb": "ListSets"})
    serve(httpserver, f"{OAI_HEAD}<ListSets><set><setSpec>user-last</setSpec><setName>Last</setName></set>"
                      "<resumptionToken/></ListSets></OAI-PMH>",
          {"verb": "ListSets", "resumptionToken": token_of(name)})

    sets = list(source.list_sets())

    assert len(sets) == fixture_text(name).count("<set>") + 1
    assert sets[0] == {"setSpec": "user-harmonic-radar", "setName": "Harmonic Radar",
                       "setDescription": "<p>Radar using a non-linear element with the radar receiver at a multiple "
                                         "of the transmitter frequency.</p>"}
    assert sets[1] == {"setSpec": "user-eliminatinewq", "setName": "Eliminating Flies", "setDescription": None}
    assert sets[-1]["setSpec"] == "user-last"


def test_list_identifiers_follows_token(httpserver, source):
    """The first page (set software) is recorded; the last page is built here."""
    name = "listidentifiers-oai_dc-set-software.xml"
    serve(httpserver, name, {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "set": "software"})
    serve(httpserver, f'{OAI_HEAD}<ListIdentifiers><header status="deleted"><identifier>oai:zenodo.org:1</identifier>'
                      "<datestamp>2020-01-01T00:00:00Z</datestamp></header></ListIdentifiers></OAI-PMH>",
          {"verb": "ListIdentifiers", "resumptionToken": token_of(name)})

    headers = list(source.list_identifiers("oai_dc", set="software"))

    httpserver.check_assertions()
    assert len(headers) == 51
    assert headers[0] == {"identifier": "oai:zenodo.org:8434414", "datestamp": "2023-10-12T09:38:57Z",
                          "setSpec": ["software"], "deleted": False}
    assert headers[3]["setSpec"] == ["user-dryad", "software"]
    assert headers[-1] == {"identifier": "oai:zenodo.org:1", "datestamp": "2020-01-01T00:00:00Z",
                           "setSpec": [], "deleted": True}
