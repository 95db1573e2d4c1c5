"""DataCite harvester: parsing recorded REST API responses, fetching over HTTP, and routing DOIs to sources.

The expected values below were read from the fixture files by hand, not produced by the parser.
HTTP tests run against a pytest-httpserver on 127.0.0.1 only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harvesters.datacite import DataCiteSource, identifier_iri, parse_datacite_doi, relation_type, resolve_source
from harvesters.http import HarvestClient
from harvesters.model import Affiliation, HarvestError, RelatedIdentifier

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "real-api" / "datacite"
ZENODO_1196821 = FIXTURES / "doi-10.5281-zenodo.1196821-dataset-orcid-related-include-media-client.json"
ZURICH = Affiliation("University of Zurich, Zurich, Switzerland")


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_zenodo_dataset_1196821():
    record = parse_datacite_doi(load(ZENODO_1196821), "https://api.datacite.org/dois/10.5281/zenodo.1196821")

    assert record.source == "datacite"
    assert record.source_id == "10.5281/zenodo.1196821"
    assert record.api_url == "https://api.datacite.org/dois/10.5281/zenodo.1196821"
    assert record.title == ("Pspm-Sc4B: Scr, Ecg, Emg, Psr And Respiration Measurements In A Delay Fear "
                            "Conditioning Task With Auditory Cs And Electrical Us")
    assert record.doi == "10.5281/zenodo.1196821"
    assert record.concept_doi is None
    assert record.landing_page == "https://zenodo.org/record/1196821"
    assert record.resource_type == "dataset"
    assert [person.name for person in record.creators] == [
        "Staib, Matthias", "Castegnetti, Giuseppe", "Tzovara, Athina", "Paulus, Philipp C.", "Hofer, Nicolas",
        "Bach, Dominik R."]
    assert [person.orcid for person in record.creators] == [
        "0000-0001-9688-838X", None, "0000-0002-7588-1418", "0000-0001-8090-3266", None, "0000-0003-3717-2036"]
    assert all(person.affiliations == (ZURICH,) for person in record.creators)
    assert all(not person.is_organisation for person in record.creators)
    assert record.contributors == []
    assert record.issued == "2018-03-14"
    assert record.modified is None
    assert record.version is None
    assert record.license == "https://spdx.org/licenses/CC-BY-SA-4.0"
    assert record.license_label is None
    assert record.access_rights == "open"
    assert record.keywords == [
        "Pupil Size Response", "Skin Conductance Response", "Electrocardiogram", "Electromyogram",
        "Electrodermal Activity", "Galvanic Skin Response", "PSR", "SCR", "ECG", "EMG", "EDA", "GSR"]
    assert record.related == [
        RelatedIdentifier("https://doi.org/10.1111/psyp.12637", "IsSupplementTo"),
        RelatedIdentifier("https://doi.org/10.1111/psyp.12801", "IsSupplementTo"),
        RelatedIdentifier("https://doi.org/10.5281/zenodo.1039580", "IsVersionOf"),
    ]
    assert record.files == []


def test_description_puts_abstract_first():
    record = parse_datacite_doi(load(ZENODO_1196821), "x")

    assert record.description.startswith("<p>This dataset includes pupil size response (PSR)")
    assert "See the readme file for more detail." in record.description
    assert record.description.index("This dataset includes") < record.description.index("See the readme file")


def test_description_abstract_first_when_listed_last():
    data = load(ZENODO_1196821)
    data["data"]["attributes"]["descriptions"].reverse()
    record = parse_datacite_doi(data, "x")

    assert record.description.startswith("<p>This dataset includes")


def test_zenodo_software_8347772_without_include():
    record = parse_datacite_doi(load(FIXTURES / "doi-10.5281-zenodo.8347772.json"), "x")

    assert record.title == "F-UJI - An Automated FAIR Data Assessment Tool"
    assert record.doi == "10.5281/zenodo.8347772"
    assert record.resource_type == "software"
    assert [(person.name, person.orcid) for person in record.creators] == [
        ("Devaraju, Anusuriya", "0000-0003-0870-3192"), ("Huber, Robert", "0000-0003-3000-0020")]
    assert record.creators[0].affiliations == ()
    assert record.license == "https://spdx.org/licenses/MIT"
    assert record.access_rights == "open"
    assert record.version == "v2.2.5"
    assert record.issued == "2023-09-15"
    assert len(record.keywords) == 9
    assert record.keywords[0] == "PANGAEA"
    assert record.keywords[-1] == "Metadata harvesting"
    assert record.related == [
        RelatedIdentifier("https://github.com/pangaea-data-publisher/fuji/tree/v2.2.5", "IsSupplementTo"),
        RelatedIdentifier("https://doi.org/10.5281/zenodo.6361400", "IsVersionOf"),
    ]
    assert record.landing_page == "https://zenodo.org/record/8347772"


def test_zenodo_software_48440():
    record = parse_datacite_doi(load(FIXTURES / "doi-10.5281-zenodo.48440-software-include-media-client.json"), "x")

    assert record.title == "Analysis Tools for Crossover Experiment of UI using Choice Architecture"
    assert record.resource_type == "software"
    assert [(person.name, person.orcid) for person in record.creators] == [("Garza, Kristian", None)]
    assert record.license == "https://spdx.org/licenses/CC-BY-NC-SA-4.0"
    assert record.version == "v1.0"
    assert record.issued == "2016-03-27"
    assert record.keywords == ["choice architecture", "crossover experiment", "hci"]
    assert record.related == [RelatedIdentifier(
        "https://github.com/kjgarza/frame_experiment_analysis/tree/v1.0", "IsSupplementTo")]


def test_dryad_dataset_8515():
    record = parse_datacite_doi(load(FIXTURES / "doi-10.5061-dryad.8515-dataset-include-media-client.json"), "x")

    assert record.title == "Data from: A new malaria agent in African hominids."
    assert record.doi == "10.5061/dryad.8515"
    assert record.landing_page == "https://datadryad.org/dataset/doi:10.5061/dryad.8515"
    assert record.resource_type == "dataset"
    assert len(record.creators) == 8
    assert record.creators[0].name == "Ollomo, Benjamin"
    assert record.creators[0].affiliations == (Affiliation("Centre International de Recherches Médicales de Franceville"),)
    assert record.creators[3].affiliations == ()
    assert record.creators[-1].name == "Renaud, François"
    assert all(person.orcid is None for person in record.creators)
    assert record.issued == "2011-02-01"  # the Issued date-time, reduced to its date
    assert record.version == "1"
    assert record.license == "https://spdx.org/licenses/CC0-1.0"
    assert record.access_rights is None
    assert record.keywords == ["Plasmodium", "Malaria", "mitochondrial genome", "Parasites"]
    assert record.related == [RelatedIdentifier("https://doi.org/10.1371/journal.ppat.1000446", "IsCitedBy")]


def test_pangaea_dataset_836178():
    record = parse_datacite_doi(load(FIXTURES / "doi-10.1594-pangaea.836178-dataset-orcid-include-media-client.json"), "x")

    assert record.title == "Hydrological and meteorological investigations in a lake near Kangerlussuaq, west Greenland"
    assert record.doi == "10.1594/pangaea.836178"
    assert record.source_id == "10.1594/pangaea.836178"
    assert record.landing_page == "https://doi.pangaea.de/10.1594/PANGAEA.836178"
    assert len(record.creators) == 8
    assert [person.name for person in record.creators if person.orcid] == ["van As, Dirk", "Laudon, Hjalmar"]
    assert [person.orcid for person in record.creators if person.orcid] == ["0000-0002-6553-8982", "0000-0001-6058-1466"]
    assert record.issued == "2014"
    assert record.license == "https://spdx.org/licenses/CC-BY-3.0"
    assert record.keywords == ["Multiple investigations", "GReenland Analogue Surface Project (GRASP)"]
    assert record.related == [
        RelatedIdentifier("https://doi.org/10.5194/essd-7-93-2015", "IsSupplementTo"),
        RelatedIdentifier("https://store.pangaea.de/Publications/JohanssonE_et_al_2014/twoboatlake_greenland.jpg",
                          "IsDocumentedBy"),
        RelatedIdentifier("https://store.pangaea.de/Publications/JohanssonE_et_al_2014/Timelapse_TBL.zip",
                          "IsDocumentedBy"),
    ]
    assert record.description.startswith("<p>Few hydrological studies have been made in Greenland")
    assert "Supplement to: Johansson, Emma" in record.description


def test_figshare_dataset_1449060():
    record = parse_datacite_doi(load(FIXTURES / "doi-10.6084-m9.figshare.1449060-dataset-include-media-client.json"), "x")

    assert record.title == ("Drosophila melanogaster wing images from low and high altitude populations in "
                            "Ethiopia and Zambia.")
    assert record.doi == "10.6084/m9.figshare.1449060"
    assert [(person.name, person.orcid) for person in record.creators] == [
        ("Dworkin, Ian", "0000-0002-2874-287X"), ("Pool, John", None), ("Pitchers, William", None),
        ("Pesevski, Maria", None)]
    assert record.issued == "2020"
    assert record.modified == "2020-06-02"
    assert record.license == "https://spdx.org/licenses/CC-BY-4.0"
    # "FOS: Biological sciences" appears twice in the subjects; it is kept once.
    assert record.keywords == ["Evolutionary Biology", "FOS: Biological sciences",
                               "60412 Quantitative Genetics (incl. Disease and Trait Mapping Genetics)"]
    assert record.related == []
    assert "<i>Drosophila melanogaster</i>" in record.description


def test_dois_list_items_parse():
    data = load(FIXTURES / "dois-list-page1-size5-2020.json")
    records = [parse_datacite_doi(item, "x") for item in data["data"]]

    assert [record.doi for record in records] == [
        "10.5281/zenodo.3596961", "10.5281/zenodo.3520062", "10.5281/zenodo.3520063", "10.15468/dl.msish2",
        "10.17605/osf.io/vr6nb"]
    assert records[1].related[0] == RelatedIdentifier("urn:isbn:978-83-7683-181-7", "IsIdenticalTo", "Text")
    assert records[1].resource_type == "text"
    assert records[3].creators[0].name == "Occdownload Gbif.Org"
    assert records[3].creators[0].is_organisation is True
    assert records[3].license == "https://spdx.org/licenses/CC-BY-NC-4.0"
    assert records[3].modified == "2020-01-02"
    assert records[0].license is None
    assert records[0].license_label is None
    assert records[0].access_rights == "open"


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("*.json")), ids=lambda path: path.name)
def test_every_datacite_fixture_parses(path):
    data = load(path)
    items = data["data"] if isinstance(data["data"], list) else [data]
    for item in items:
        record = parse_datacite_doi(item, str(path))
        assert record.title
        assert record.doi == record.source_id
        assert record.files == []


def test_affiliation_objects_with_ror():
    data = load(ZENODO_1196821)
    data["data"]["attributes"]["creators"][0]["affiliation"] = [
        {"name": "University of Zurich", "affiliationIdentifier": "https://ror.org/02crff812",
         "affiliationIdentifierScheme": "ROR"},
        {"name": "Wellcome Centre for Human Neuroimaging"},
    ]
    record = parse_datacite_doi(data, "x")

    assert record.creators[0].affiliations == (
        Affiliation("University of Zurich", "https://ror.org/02crff812"),
        Affiliation("Wellcome Centre for Human Neuroimaging"),
    )


def test_unknown_licence_keeps_label():
    data = load(ZENODO_1196821)
    data["data"]["attributes"]["rightsList"] = [
        {"rights": "Creative Commons Attribution Non Commercial Share Alike 3.0 Unported",
         "rightsIdentifier": "cc-by-nc-sa-3.0", "rightsUri": "https://creativecommons.org/licenses/by-nc-sa/3.0/"},
        {"rights": "Embargoed Access", "rightsUri": "info:eu-repo/semantics/embargoedAccess"},
    ]
    record = parse_datacite_doi(data, "x")

    assert record.license is None
    assert record.license_label == "cc-by-nc-sa-3.0"
    assert record.access_rights == "embargoed"


def test_opensource_licence_url():
    data = load(ZENODO_1196821)
    data["data"]["attributes"]["rightsList"] = [{"rights": "Apache", "rightsUri": "https://opensource.org/licenses/Apache-2.0"}]

    assert parse_datacite_doi(data, "x").license == "https://spdx.org/licenses/Apache-2.0"


def test_description_html_is_sanitised():
    data = load(ZENODO_1196821)
    data["data"]["attributes"]["descriptions"] = [{
        "descriptionType": "Abstract",
        "description": 'Echo <b>intensity</b><script>document.cookie</script><img src=x onerror="alert(1)">'}]
    record = parse_datacite_doi(data, "x")

    assert "<script" not in record.description
    assert "document.cookie" not in record.description
    assert "onerror" not in record.description
    assert record.description == "<p>Echo <b>intensity</b></p>"


def test_plain_text_description_gets_paragraphs():
    data = load(ZENODO_1196821)
    data["data"]["attributes"]["descriptions"] = [
        {"descriptionType": "Abstract", "description": "First paragraph,\nwrapped.\n\nSecond, p < 0.05."}]

    assert parse_datacite_doi(data, "x").description == "<p>First paragraph,\nwrapped.</p><p>Second, p &lt; 0.05.</p>"


def test_document_without_doi_is_rejected():
    with pytest.raises(HarvestError, match="no DOI"):
        parse_datacite_doi({"data": {"type": "dois", "attributes": {"titles": [{"title": "x"}]}}}, "x")


def test_list_document_is_rejected():
    with pytest.raises(HarvestError, match="not a list"):
        parse_datacite_doi(load(FIXTURES / "dois-list-page1-size5-2020.json"), "x")


def test_main_title_preferred_over_subtitle():
    data = load(ZENODO_1196821)
    data["data"]["attributes"]["titles"] = [{"title": "A subtitle", "titleType": "Subtitle"}, {"title": "Main"}]

    assert parse_datacite_doi(data, "x").title == "Main"


@pytest.mark.parametrize(("identifier", "scheme", "expected"), [
    ("10.1111/PSYP.12637", "DOI", "https://doi.org/10.1111/psyp.12637"),
    ("https://doi.org/10.1111/psyp.12637", "DOI", "https://doi.org/10.1111/psyp.12637"),
    ("https://github.com/x/y", "URL", "https://github.com/x/y"),
    ("arXiv:2004.03688", "arXiv", "https://arxiv.org/abs/2004.03688"),
    ("32450107", "PMID", "https://pubmed.ncbi.nlm.nih.gov/32450107"),
    ("11858/00-001M-0000-0013-8F2B-5", "Handle", "https://hdl.handle.net/11858/00-001M-0000-0013-8F2B-5"),
    ("978-83-7683-181-7", "ISBN", "urn:isbn:978-83-7683-181-7"),
    ("urn:lsid:zoobank.org:act:1", "lsid", "urn:lsid:zoobank.org:act:1"),
])
def test_identifier_iri(identifier, scheme, expected):
    assert identifier_iri(identifier, scheme) == expected


@pytest.mark.parametrize(("value", "expected"), [
    ("isSupplementTo", "IsSupplementTo"), ("issupplementto", "IsSupplementTo"), ("Cites", "Cites"),
    ("hasPart", "HasPart"), ("isNewRelation", "IsNewRelation"),
])
def test_relation_type(value, expected):
    assert relation_type(value) == expected


# resolve_source


@pytest.mark.parametrize(("value", "expected"), [
    ("10.5281/zenodo.1196821", ("zenodo", "1196821")),
    ("doi:10.5281/ZENODO.1196821", ("zenodo", "1196821")),
    ("https://doi.org/10.5281/zenodo.1196821", ("zenodo", "1196821")),
    ("https://zenodo.org/records/7834392", ("zenodo", "7834392")),
    ("https://zenodo.org/record/7834392/", ("zenodo", "7834392")),
    ("https://zenodo.org/records/7834392?preview=1", ("zenodo", "7834392")),
    ("  https://zenodo.org/records/7834392  ", ("zenodo", "7834392")),
    ("10.17605/OSF.IO/VR6NB", ("osf", "vr6nb")),
    ("https://doi.org/10.17605/osf.io/vr6nb", ("osf", "vr6nb")),
    ("https://osf.io/vr6nb/", ("osf", "vr6nb")),
    ("https://osf.io/VR6NB", ("osf", "vr6nb")),
    ("10.1594/PANGAEA.836178", ("datacite", "10.1594/pangaea.836178")),
    ("https://dx.doi.org/10.5061/dryad.8515", ("datacite", "10.5061/dryad.8515")),
    ("10.5281/zenodo.1196821.v2", ("datacite", "10.5281/zenodo.1196821.v2")),
])
def test_resolve_source(value, expected):
    assert resolve_source(value) == expected


@pytest.mark.parametrize("value", [
    "", "zenodo 7834392", "https://example.org/data", "https://example.org/10.1234/abc",
    "https://zenodo.org/communities/covid-19", "https://osf.io/preprints/", "7834392",
])
def test_resolve_source_rejects(value):
    with pytest.raises(ValueError, match="cannot harvest"):
        resolve_source(value)


# Fetching over HTTP (pytest-httpserver on 127.0.0.1)


@pytest.fixture
def source(httpserver):
    client = HarvestClient([httpserver.url_for("")], max_retries=0, sleep=lambda seconds: None)
    return DataCiteSource(client, base_url=httpserver.url_for(""))


def test_doi_fetched_over_http(httpserver, source):
    httpserver.expect_request("/dois/10.5281/zenodo.1196821", query_string={"affiliation": "true"}) \
        .respond_with_json(load(ZENODO_1196821), content_type="application/vnd.api+json")

    record = source.doi("https://doi.org/10.5281/zenodo.1196821")

    assert record.doi == "10.5281/zenodo.1196821"
    assert record.api_url == httpserver.url_for("/dois/10.5281/zenodo.1196821")
    assert len(record.creators) == 6
    httpserver.check_assertions()


def test_doi_not_found(httpserver, source):
    httpserver.expect_request("/dois/10.1234/missing").respond_with_json(
        {"errors": [{"status": "404", "title": "The resource you are looking for doesn't exist."}]}, status=404)

    with pytest.raises(HarvestError) as raised:
        source.doi("10.1234/missing")
    assert raised.value.reason == "DOI not found at DataCite"
    assert raised.value.url == httpserver.url_for("/dois/10.1234/missing")


def test_doi_value_is_checked(source):
    with pytest.raises(ValueError, match="invalid DOI"):
        source.doi("not a doi")

