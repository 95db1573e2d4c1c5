"""Zenodo harvester: parsing the recorded legacy, current and InvenioRDM responses, and fetching over HTTP.

The expected values below were read from the fixture files by hand, not produced by the parser.
HTTP tests run against a pytest-httpserver on 127.0.0.1 only.
"""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path

import pytest

from harvesters.http import HarvestClient, HttpStatusError
from harvesters.model import Affiliation, HarvestedFile, HarvestError, RelatedIdentifier
from harvesters.zenodo import ZenodoSource, guess_media_type, parse_zenodo_record

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures" / "real-api"
LEGACY = FIXTURES / "zenodo-legacy"
RDM = FIXTURES / "zenodo-rdm"
COVID_LEGACY = LEGACY / "record-7834392-dataset-covid19-twitter-files-orcid-versions.json"
COVID_RDM = RDM / "record-7834392-dataset-covid19-twitter-files-orcid-versions.json"
CLDF_SEARCH = RDM / "search-keywords-cldf-generic-10-hits.json"

COVID_TITLE = ("A large-scale COVID-19 Twitter chatter dataset for open scientific research - "
               "an international collaboration")
COVID_CREATORS = ["Banda, Juan M.", "Tekumalla, Ramya", "Wang, Guanyu", "Yu, Jingyuan", "Liu, Tuo",
                  "Ding, Yuning", "Artemova, Katya", "Tutubalina, Elena", "Chowell, Gerardo"]
COVID_ORCIDS = ["0000-0001-8499-824X", "0000-0002-1606-4856", None, None, None, None, None, None,
                "0000-0003-2194-2251"]
COVID_RELATED = [
    RelatedIdentifier("http://www.panacealab.org/covid19/", "IsContinuedBy", "Other"),
    RelatedIdentifier("https://arxiv.org/abs/2004.03688", "IsSupplementTo", "Preprint"),
    RelatedIdentifier("https://doi.org/10.5281/zenodo.3723939", "IsVersionOf", None),
]
CLDF_IDS = ["8250015", "8250324", "8250303", "8249989", "8250130", "8250053", "7371912", "8250175",
            "8250307", "8249894"]


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def only_hit(path: Path) -> dict:
    hits = load(path)["hits"]["hits"]
    assert len(hits) == 1
    return hits[0]


# Legacy format (zenodo.org before October 2023)


def test_legacy_dataset_7834392():
    record = parse_zenodo_record(load(COVID_LEGACY), "https://zenodo.org/api/records/7834392")

    assert record.source == "zenodo"
    assert record.source_id == "7834392"
    assert record.api_url == "https://zenodo.org/api/records/7834392"
    assert record.title == COVID_TITLE
    assert record.doi == "10.5281/zenodo.7834392"
    assert record.concept_doi == "10.5281/zenodo.3723939"
    assert record.landing_page == "https://zenodo.org/record/7834392"
    assert record.resource_type == "dataset"
    assert [person.name for person in record.creators] == COVID_CREATORS
    assert [person.orcid for person in record.creators] == COVID_ORCIDS
    assert record.creators[0].affiliations == (Affiliation("Georgia State University"),)
    assert record.creators[3].affiliations == (Affiliation("Universitat Autònoma de Barcelona"),)
    assert record.contributors == []
    assert record.license is None
    assert record.license_label == "other-pd"
    assert record.keywords == ["social media", "twitter", "nlp", "covid-19", "covid19"]
    assert record.issued == "2023-04-16"
    assert record.modified == "2023-04-17"
    assert record.version == "162"
    assert record.related == COVID_RELATED
    assert record.access_rights == "open"
    assert record.description.startswith("<p><em><strong>Version 162")

    assert len(record.files) == 24
    assert record.files[0] == HarvestedFile(
        name="emojis.zip",
        download_url="https://zenodo.org/api/files/fafb41f4-4679-4ade-8ec6-1e48ecd43072/emojis.zip",
        size=15058751, checksum="md5:794aa07e49f5edf3ed72d552321bb2f5", media_type="application/zip")
    assert record.files[-1] == HarvestedFile(
        name="mentions.zip",
        download_url="https://zenodo.org/api/files/fafb41f4-4679-4ade-8ec6-1e48ecd43072/mentions.zip",
        size=341061233, checksum="md5:edafb832160d345c08f623dea7cc5525", media_type="application/zip")


def test_legacy_split_part_has_no_media_type():
    record = parse_zenodo_record(load(COVID_LEGACY), "https://zenodo.org/api/records/7834392")
    part = next(file for file in record.files if file.name == "full_dataset.tsv.gz.part-aa")

    assert part.size == 1073741824
    assert part.media_type is None  # The legacy "type" of this file is "part-aa", which is no media type.


def test_legacy_publication_5244404():
    record = parse_zenodo_record(load(LEGACY / "record-5244404-publication.json"), "https://zenodo.org/api/records/5244404")

    assert record.title == "The Origins of SARS-CoV-2: A Critical Review"
    assert record.doi == "10.5281/zenodo.5244404"
    assert record.concept_doi == "10.5281/zenodo.5075887"
    assert record.resource_type == "journalarticle"
    assert len(record.creators) == 21
    assert record.creators[0].name == "Holmes, Edward C"
    assert record.creators[-1].name == "Rambaut, Andrew"
    assert record.creators[-1].affiliations == (
        Affiliation("Institute of Evolutionary Biology, University of Edinburgh, Edinburgh, EH9 FL, UK"),)
    assert all(person.orcid is None for person in record.creators)
    assert record.license == "https://spdx.org/licenses/CC-BY-NC-ND-4.0"
    assert record.license_label is None
    assert record.keywords == ["sars-cov-2", "covid-19", "origins", "zoonosis"]
    assert record.issued == "2021-08-18"
    assert record.modified == "2022-07-01"
    assert record.version == "Authors' final version"
    assert record.related == [RelatedIdentifier("https://doi.org/10.5281/zenodo.5075887", "IsVersionOf")]
    assert record.access_rights == "open"
    assert len(record.files) == 3
    assert record.files[0] == HarvestedFile(
        name="gisaid_acknowledgement_table.pdf",
        download_url="https://zenodo.org/api/files/449ea104-433b-4347-889b-a4535cd37e92/gisaid_acknowledgement_table.pdf",
        size=5335, checksum="md5:b1b5979db4d4755601b85f160ce664b9", media_type="application/pdf")
    assert record.files[-1] == HarvestedFile(
        name="Holmes_et_al_(2021)_Cell_Supplementary.pdf",
        download_url="https://zenodo.org/api/files/449ea104-433b-4347-889b-a4535cd37e92/"
                     "Holmes_et_al_%282021%29_Cell_Supplementary.pdf",
        size=197003, checksum="md5:bdb88fc94708d8fd7d87854031faa8ab", media_type="application/pdf")


def test_legacy_software_7752775():
    record = parse_zenodo_record(load(LEGACY / "record-7752775-software-github-release.json"), "x")

    assert record.title == "commonmeta-ruby"
    assert record.doi == "10.5281/zenodo.7752775"
    assert record.concept_doi == "10.5281/zenodo.5785518"
    assert record.resource_type == "software"
    assert [(person.name, person.orcid) for person in record.creators] == [("Fenner, Martin", "0000-0003-1419-2405")]
    assert record.creators[0].affiliations == (Affiliation("Front Matter"),)
    assert record.license == "https://spdx.org/licenses/MIT"
    assert record.license_label is None
    assert record.keywords == ["ruby", "metadata", "software citation", "research software"]
    assert record.issued == "2023-03-20"
    assert record.version == "v3.0.1"
    assert record.related == [
        RelatedIdentifier("https://github.com/front-matter/commonmeta-ruby/tree/v3.0.1", "IsSupplementTo"),
        RelatedIdentifier("https://doi.org/10.5281/zenodo.5785518", "IsVersionOf"),
    ]
    assert record.access_rights == "open"
    assert record.files == [HarvestedFile(
        name="front-matter/commonmeta-ruby-v3.0.1.zip",
        download_url="https://zenodo.org/api/files/7cd6cc32-96a6-405d-b0ff-1811b378cc69/"
                     "front-matter/commonmeta-ruby-v3.0.1.zip",
        size=5061453, checksum="md5:3a1f043dffdd529035b7269449f17448", media_type="application/zip")]


def test_legacy_report_3871094():
    record = parse_zenodo_record(load(LEGACY / "record-3871094-report.json"), "x")

    assert record.title == "An open letter to Mehra et al and The Lancet"
    assert record.doi == "10.5281/zenodo.3871094"
    assert record.concept_doi == "10.5281/zenodo.3862788"
    assert record.resource_type == "report"
    assert [(person.name, person.orcid) for person in record.creators] == [
        ("James Watson on the behalf of 201 signatories", "0000-0001-5524-0325")]
    assert record.license == "https://spdx.org/licenses/CC-BY-4.0"
    assert record.keywords == ["Hydroxychloroquine", "The Lancet", "Open Science"]
    assert record.issued == "2020-05-28"
    assert record.modified == "2020-06-01"
    assert record.version == "4"
    assert record.related == [RelatedIdentifier("https://doi.org/10.5281/zenodo.3862788", "IsVersionOf")]
    assert record.files == [HarvestedFile(
        name="Open Letter V4.pdf",
        download_url="https://zenodo.org/api/files/bca8d7ca-c07a-4cc3-912a-10a34707c76f/Open%20Letter%20V4.pdf",
        size=130482, checksum="md5:8d686fae168ff94e45e59c076d2fb209", media_type="application/pdf")]


def test_legacy_search_hit_5173799():
    data = load(LEGACY / "search-keywords-cldf-wordlist-size1-mostrecent.json")
    assert data["hits"]["total"] == 123
    record = parse_zenodo_record(data["hits"]["hits"][0], data["links"]["self"])

    assert record.source_id == "5173799"
    assert record.title == "CLDF Dataset accompanying Greenhill et al.'s \"Origin of Uto-Aztecan\" from 2021"
    assert record.doi == "10.5281/zenodo.5173799"
    assert record.concept_doi == "10.5281/zenodo.4691101"
    assert record.resource_type == "dataset"
    assert len(record.creators) == 8
    assert record.creators[0].name == "Greenhill, Simon J."
    assert record.creators[-1].name == "Russell D. Gray"
    assert record.creators[0].affiliations == ()
    assert record.license == "https://spdx.org/licenses/CC-BY-4.0"
    assert record.keywords == ["cldf:Wordlist", "linguistics"]
    assert record.version == "v1.1"
    assert record.issued == "2021-08-10"
    assert record.related == [
        RelatedIdentifier("https://github.com/lexibank/utoaztecan/tree/v1.1", "IsSupplementTo"),
        RelatedIdentifier("https://doi.org/10.5281/zenodo.4691101", "IsVersionOf"),
    ]
    assert record.files == [HarvestedFile(
        name="lexibank/utoaztecan-v1.1.zip",
        download_url="https://zenodo.org/api/files/b7172d48-ecc1-4f85-a073-620cbae45947/lexibank/utoaztecan-v1.1.zip",
        size=805940, checksum="md5:43e15e8115e5610cb029dce137cbea6f", media_type="application/zip")]


# Current zenodo.org format (InvenioRDM-based, Zenodo-compatible)


def test_current_dataset_7834392():
    record = parse_zenodo_record(load(COVID_RDM), "https://zenodo.org/api/records/7834392")

    assert record.source_id == "7834392"
    assert record.title == COVID_TITLE
    assert record.doi == "10.5281/zenodo.7834392"
    assert record.concept_doi == "10.5281/zenodo.3723939"
    assert record.landing_page == "https://zenodo.org/records/7834392"
    assert record.resource_type == "dataset"
    assert [person.name for person in record.creators] == COVID_CREATORS
    assert [person.orcid for person in record.creators] == COVID_ORCIDS
    assert record.license is None
    assert record.license_label == "other-pd"
    assert record.keywords == ["social media", "twitter", "nlp", "covid-19", "covid19"]
    assert record.issued == "2023-04-16"
    assert record.modified == "2023-04-17"
    assert record.version == "162"
    # The current format drops IsVersionOf from related_identifiers; the parser adds it from conceptdoi.
    assert record.related == COVID_RELATED
    assert record.access_rights == "open"

    assert len(record.files) == 24
    assert record.files[0] == HarvestedFile(
        name="frequent_trigrams.csv",
        download_url="https://zenodo.org/api/records/7834392/files/frequent_trigrams.csv/content",
        size=24991, checksum="md5:b1f7edcfd008053c53659131f654f17d", media_type="text/csv")
    assert record.files[-1] == HarvestedFile(
        name="full_dataset_clean.tsv.gz.part-ab",
        download_url="https://zenodo.org/api/records/7834392/files/full_dataset_clean.tsv.gz.part-ab/content",
        size=1073741824, checksum="md5:222e3a9b3758c119db0a0e75c8f7d582", media_type=None)


def test_same_record_in_both_formats_agrees():
    legacy = parse_zenodo_record(load(COVID_LEGACY), "legacy")
    current = parse_zenodo_record(load(COVID_RDM), "current")

    assert legacy.title == current.title
    assert legacy.doi == current.doi
    assert legacy.concept_doi == current.concept_doi
    assert legacy.creators == current.creators
    assert legacy.license == current.license
    assert legacy.license_label == current.license_label
    assert legacy.related == current.related
    assert sorted(file.checksum for file in legacy.files) == sorted(file.checksum for file in current.files)


def test_current_publication_5244404():
    record = parse_zenodo_record(load(RDM / "record-5244404-publication.json"), "x")

    assert record.title == "The Origins of SARS-CoV-2: A Critical Review"
    assert record.doi == "10.5281/zenodo.5244404"
    assert record.concept_doi == "10.5281/zenodo.5075887"
    assert record.resource_type == "journalarticle"
    assert len(record.creators) == 21
    assert record.license == "https://spdx.org/licenses/CC-BY-NC-ND-4.0"
    assert record.license_label is None
    assert record.modified == "2024-07-18"
    assert record.related == [RelatedIdentifier("https://doi.org/10.5281/zenodo.5075887", "IsVersionOf")]
    assert len(record.files) == 3
    assert record.files[0] == HarvestedFile(
        name="Holmes_et_al_(2021)_Cell_Supplementary.pdf",
        download_url="https://zenodo.org/api/records/5244404/files/Holmes_et_al_(2021)_Cell_Supplementary.pdf/content",
        size=197003, checksum="md5:bdb88fc94708d8fd7d87854031faa8ab", media_type="application/pdf")
    assert record.files[-1] == HarvestedFile(
        name="gisaid_acknowledgement_table.pdf",
        download_url="https://zenodo.org/api/records/5244404/files/gisaid_acknowledgement_table.pdf/content",
        size=5335, checksum="md5:b1b5979db4d4755601b85f160ce664b9", media_type="application/pdf")


def test_current_report_3871094():
    record = parse_zenodo_record(load(RDM / "record-3871094-report.json"), "x")

    assert record.title == "An open letter to Mehra et al and The Lancet"
    assert record.resource_type == "report"
    assert record.license == "https://spdx.org/licenses/CC-BY-4.0"
    assert record.creators[0].orcid == "0000-0001-5524-0325"
    assert record.modified == "2024-07-19"
    assert record.files[0].download_url == "https://zenodo.org/api/records/3871094/files/Open%20Letter%20V4.pdf/content"


def test_current_presentation_8173303():
    record = parse_zenodo_record(load(RDM / "record-8173303-presentation.json"), "x")

    assert record.title == "ARCHIVE - 11 July 2023 (Day 2) CERN – NASA Open Science Summit Sketch Notes"
    assert record.doi == "10.5281/zenodo.8173303"
    assert record.concept_doi == "10.5281/zenodo.8173302"
    assert record.resource_type == "text"
    assert [(person.name, person.orcid) for person in record.creators] == [("Seibold, Heidi", "0000-0002-8960-9642")]
    assert record.creators[0].affiliations == ()  # "affiliation": null
    assert record.license == "https://spdx.org/licenses/CC-BY-4.0"
    assert record.keywords == []
    assert record.version is None
    assert record.issued == "2023-07-21"
    assert record.related == [RelatedIdentifier("https://doi.org/10.5281/zenodo.8173302", "IsVersionOf")]
    assert record.files == [HarvestedFile(
        name="20230711-CERN-NASA-Open-Science-Summit-Summary-Drawings.pdf",
        download_url="https://zenodo.org/api/records/8173303/files/"
                     "20230711-CERN-NASA-Open-Science-Summit-Summary-Drawings.pdf/content",
        size=13994803, checksum="md5:45d8b11d4ef0da78b9db5397d8e0e8d9", media_type="application/pdf")]


def test_current_preprint_8120771():
    record = parse_zenodo_record(load(RDM / "record-8120771-preprint.json"), "x")

    assert record.title == "A SYSTEMATIC REVIEW OF AUTOPSY FINDINGS IN DEATHS AFTER COVID-19 VACCINATION"
    assert record.resource_type == "preprint"
    assert len(record.creators) == 9
    assert record.creators[0].name == "Nicolas Hulscher, BS"
    assert record.creators[-1].name == "Peter A. McCullough, MD, MPH"
    assert record.creators[-1].affiliations == (Affiliation("Truth for Health Foundation"),)
    assert len(record.keywords) == 10
    assert record.keywords[0] == "autopsy"
    assert record.keywords[-1] == "organ system"
    assert record.license == "https://spdx.org/licenses/CC-BY-4.0"
    assert record.version is None
    assert len(record.files) == 2
    assert record.files[0] == HarvestedFile(
        name="(Zenodo) AUTOPSY REVIEW MANUSCRIPT.pdf",
        download_url="https://zenodo.org/api/records/8120771/files/(Zenodo)%20AUTOPSY%20REVIEW%20MANUSCRIPT.pdf/content",
        size=832057, checksum="md5:896b89af09c544d9e43197936e31c4a6", media_type="application/pdf")
    assert record.files[-1] == HarvestedFile(
        name="AUTOPSY REVIEW SUPPLEMENTAL TABLE 1.pdf",
        download_url="https://zenodo.org/api/records/8120771/files/AUTOPSY%20REVIEW%20SUPPLEMENTAL%20TABLE%201.pdf/content",
        size=904297, checksum="md5:bacd63be97a7f3c58c95cc512c10ddf2", media_type="application/pdf")


def test_current_poster_4927605():
    record = parse_zenodo_record(load(RDM / "record-4927605-poster.json"), "x")

    assert record.title == ("SPACE to evolve academic assessment: A rubric for analyzing institutional conditions "
                            "and progress indicators")
    assert record.resource_type == "text"
    assert [(person.name, person.orcid) for person in record.creators] == [
        ("Anna Hatch", "0000-0002-2111-3237"), ("Ruth Schmidt", "0000-0002-9390-8469")]
    assert record.keywords == ["Research Assessment", "Evaluation"]
    assert record.related == [
        RelatedIdentifier("https://doi.org/10.5281/zenodo.15389378", "IsSupplementedBy", "InteractiveResource"),
        RelatedIdentifier("https://doi.org/10.5281/zenodo.4927604", "IsVersionOf"),
    ]
    assert record.files == [HarvestedFile(
        name="21 0608 SPACE rubric_Final.pdf",
        download_url="https://zenodo.org/api/records/4927605/files/21%200608%20SPACE%20rubric_Final.pdf/content",
        size=231392, checksum="md5:673ab5bbfb15af035c7f5aa6b49c42ef", media_type="application/pdf")]


def test_search_hit_multifile_7085903():
    record = parse_zenodo_record(only_hit(RDM / "search-single-hit-record-7085903-dataset-multifile.json"), "x")

    assert record.title == ("CINWA: Database of Cultivated plants and their names in the indigenous languages "
                            "of South America")
    assert record.doi == "10.5281/zenodo.7085903"
    assert record.concept_doi == "10.5281/zenodo.7085902"
    assert [person.name for person in record.creators] == [
        "Aguilar Panchi, Evelyn Michelle", "Lee, Saetbyul", "Brodetsky, Evgenia", "Urban, Matthias"]
    assert record.creators[2].affiliations == (Affiliation("The Hebrew University of Jerusalem"),)
    assert record.keywords == []
    assert record.version == "0.9"
    assert record.modified == "2022-09-18"
    assert record.related == [RelatedIdentifier("https://doi.org/10.5281/zenodo.7085902", "IsVersionOf")]
    # Search hits give filename/filesize and a bare MD5 digest, and links.download is the file itself.
    assert len(record.files) == 5
    assert record.files[0] == HarvestedFile(
        name="plant_data.tsv", download_url="https://zenodo.org/api/records/7085903/files/plant_data.tsv/content",
        size=23569, checksum="md5:ee0e2bd34c66a49c6303b86aeaf8224c", media_type="text/tab-separated-values")
    assert record.files[-1] == HarvestedFile(
        name="main_data.tsv", download_url="https://zenodo.org/api/records/7085903/files/main_data.tsv/content",
        size=317589, checksum="md5:fa3974e57d8cf36f2fb76b29e1299aa7", media_type="text/tab-separated-values")


def test_search_hit_5173799():
    record = parse_zenodo_record(only_hit(RDM / "search-single-hit-record-5173799-dataset.json"), "x")

    assert record.source_id == "5173799"
    assert record.landing_page == "https://zenodo.org/records/5173799"
    assert record.license == "https://spdx.org/licenses/CC-BY-4.0"
    assert record.modified == "2022-07-20"
    assert record.files == [HarvestedFile(
        name="lexibank/utoaztecan-v1.1.zip",
        download_url="https://zenodo.org/api/records/5173799/files/lexibank/utoaztecan-v1.1.zip/content",
        size=805940, checksum="md5:43e15e8115e5610cb029dce137cbea6f", media_type="application/zip")]


def test_search_hit_external_doi_15482():
    record = parse_zenodo_record(only_hit(RDM / "search-single-hit-record-15482-external-doi-no-conceptdoi.json"), "x")

    assert record.source_id == "15482"
    assert record.title == "A revision of the New World species of Cremnops Förster (Hymenoptera: Braconidae: Agathidinae)"
    assert record.doi == "10.11646/zootaxa.3916.1.1"
    assert record.concept_doi is None
    assert record.resource_type == "journalarticle"
    assert [person.name for person in record.creators] == ["Tucker, Erika M.", "Chapman, Eric G.", "Sharkey, Michael J."]
    assert record.license is None
    assert record.license_label is None
    assert record.access_rights == "restricted"
    assert record.files == []
    assert record.keywords == ["Biodiversity", "Taxonomy", "Animalia", "Arthropoda", "Insecta", "Hymenoptera",
                               "Braconidae"]
    assert len(record.related) == 137
    assert record.related[0] == RelatedIdentifier(
        "http://www.gbif.org/dataset/a769b646-ed6a-4028-827b-98312f729588", "IsSourceOf", "Dataset")
    assert record.related[-1] == RelatedIdentifier("https://doi.org/10.1371/journal.pone.0015991", "Cites", "Text")
    assert RelatedIdentifier("urn:lsid:zoobank.org:act:BABE0628-EC5E-4B16-AA2E-832E8B2CAA1E", "HasPart", "Text") \
        in record.related
    assert not any(item.relation == "IsVersionOf" for item in record.related)


def test_search_page_of_ten_hits():
    data = load(CLDF_SEARCH)
    records = [parse_zenodo_record(hit, "x") for hit in data["hits"]["hits"]]

    assert [record.source_id for record in records] == CLDF_IDS
    assert records[0].contributors[0].name == "Simon J. Greenhill"
    assert [person.name for person in records[0].contributors] == ["Simon J. Greenhill", "Robert Forkel"]
    assert records[-1].license is None
    assert records[-1].license_label == "other-open"
    assert records[-1].concept_doi == "10.5281/zenodo.8248388"
    assert records[-1].files == [HarvestedFile(
        name="phlorest/atkinson2006-v1.1.zip",
        download_url="https://zenodo.org/api/records/8249894/files/phlorest/atkinson2006-v1.1.zip/content",
        size=21159, checksum="md5:2a2d0e67b61a8a070a97b016a42acdde", media_type="application/zip")]


# Native InvenioRDM format


def test_native_inveniordm_record():
    record = parse_zenodo_record(load(RDM / "inveniordm-native-rogue-scholar-pevm6-kx104-orcid-ror.json"), "x")

    assert record.source == "zenodo"
    assert record.source_id == "pevm6-kx104"
    assert record.title == ("The Petrol Tank for AI Discovery Might be Running Dry as Publishers close access to "
                            "scholarly content such as abstracts due to AI incentives")
    assert record.doi == "10.59350/5cj54-ha154"
    assert record.concept_doi == "10.59350/sfw0f-2fe65"
    assert record.landing_page == "https://rogue-scholar.org/records/pevm6-kx104"
    # publication-blogpost is no InvenioRDM default type, so its type "publication" gives Text.
    assert record.resource_type == "text"
    assert len(record.creators) == 1
    assert record.creators[0].name == "Tay, Aaron"
    assert record.creators[0].orcid == "0000-0003-0159-013X"
    assert record.creators[0].affiliations == (
        Affiliation("Singapore Management University", "https://ror.org/050qmg959"),)
    assert record.creators[0].is_organisation is False
    assert record.license == "https://spdx.org/licenses/CC-BY-4.0"
    assert record.keywords == ["Library and Information Sciences", "Other humanities"]
    assert record.issued == "2025-09-27"
    assert record.modified == "2026-07-23"
    assert record.version == "v1"
    assert record.related == [RelatedIdentifier("https://doi.org/10.59350/sfw0f-2fe65", "IsVersionOf")]
    assert record.access_rights == "open"
    assert record.files == []  # files.enabled is false
    assert record.description.startswith("Elicit.com, Consensus, and Undermind.ai")


def test_native_files_and_related_identifiers():
    data = load(RDM / "inveniordm-native-rogue-scholar-pevm6-kx104-orcid-ror.json")
    data["files"] = {"enabled": True, "order": ["b.csv", "a.dcm"], "entries": {
        "a.dcm": {"key": "a.dcm", "size": 10, "checksum": "md5:AA" + "0" * 30},
        "b.csv": {"key": "b.csv", "size": 20, "checksum": "md5:" + "1" * 32, "mimetype": "text/csv",
                  "links": {"content": "https://rogue-scholar.org/api/records/pevm6-kx104/files/b.csv/content"}},
    }}
    data["metadata"]["related_identifiers"] = [{
        "identifier": "arXiv:2004.03688", "scheme": "arxiv",
        "relation_type": {"id": "issupplementto"}, "resource_type": {"id": "publication-preprint"}}]
    data["access"]["files"] = "restricted"
    record = parse_zenodo_record(data, "x")

    assert [file.name for file in record.files] == ["b.csv", "a.dcm"]
    assert record.files[0].download_url == "https://rogue-scholar.org/api/records/pevm6-kx104/files/b.csv/content"
    assert record.files[1] == HarvestedFile(
        name="a.dcm", download_url="https://rogue-scholar.org/api/records/pevm6-kx104/files/a.dcm/content",
        size=10, checksum="md5:aa" + "0" * 30, media_type="application/dicom")
    assert record.related[0] == RelatedIdentifier("https://arxiv.org/abs/2004.03688", "IsSupplementTo", "Preprint")
    assert record.access_rights == "restricted"


# Every fixture, HTML sanitising, media types


@pytest.mark.parametrize("path", sorted([*LEGACY.glob("*.json"), *RDM.glob("*.json")]), ids=lambda path: path.name)
def test_every_zenodo_fixture_parses(path):
    data = load(path)
    items = data["hits"]["hits"] if "hits" in data else [data]
    for item in items:
        record = parse_zenodo_record(item, str(path))
        assert record.title
        assert record.source_id
        assert record.doi


def test_description_html_is_sanitised():
    data = load(COVID_RDM)
    data["metadata"]["description"] = (
        '<p onclick="steal()">Muscle <strong>thickness</strong><script>alert(1)</script></p>'
        '<img src="x" onerror="alert(2)"><a href="javascript:alert(3)">link</a><iframe src="https://x"></iframe>')
    record = parse_zenodo_record(data, "x")

    assert "<script" not in record.description
    assert "alert(1)" not in record.description
    assert "onclick" not in record.description
    assert "onerror" not in record.description
    assert "javascript:" not in record.description
    assert "<iframe" not in record.description
    assert "<strong>thickness</strong>" in record.description


def test_record_without_title_is_rejected():
    data = copy.deepcopy(load(COVID_RDM))
    data["metadata"]["title"] = " "
    data["title"] = None

    with pytest.raises(HarvestError, match="has no title"):
        parse_zenodo_record(data, "https://zenodo.org/api/records/7834392")


@pytest.mark.parametrize(("name", "expected"), [
    ("scan.dcm", "application/dicom"),
    ("frames.tsv.gz", "application/gzip"),
    ("clip.mp4", "video/mp4"),
    ("image.tif", "image/tiff"),
    ("volume.nii.gz", "application/gzip"),
    ("notes", None),
])
def test_guess_media_type(name, expected):
    assert guess_media_type(name) == expected


# Fetching over HTTP (pytest-httpserver on 127.0.0.1)


@pytest.fixture
def client(httpserver):
    return HarvestClient([httpserver.url_for("")], max_retries=0, sleep=lambda seconds: None)


@pytest.fixture
def source(httpserver, client):
    return ZenodoSource(client, base_url=httpserver.url_for(""))


def search_page(hits: list[dict], total: int, links: dict | None = None) -> dict:
    page = {"hits": {"hits": hits, "total": total}}
    if links is not None:
        page["links"] = links
    return page


def test_record_fetched_over_http(httpserver, source, client):
    httpserver.expect_request("/api/records/7834392").respond_with_json(load(COVID_RDM))

    record = source.record(7834392)

    assert record.source_id == "7834392"
    assert record.title == COVID_TITLE
    assert record.api_url == httpserver.url_for("/api/records/7834392")
    assert len(record.files) == 24
    assert client.requests_made == 1


def test_record_not_found_raises(httpserver, source):
    httpserver.expect_request("/api/records/1").respond_with_json({"status": 404, "message": "not found"}, status=404)

    with pytest.raises(HttpStatusError) as raised:
        source.record("1")
    assert raised.value.status == 404


def test_record_id_is_checked(source):
    with pytest.raises(ValueError, match="invalid Zenodo record id"):
        source.record("../communities")


def test_search_follows_next_links(httpserver, source, client):
    hits = load(CLDF_SEARCH)["hits"]["hits"]
    pages = [hits[0:4], hits[4:8], hits[8:10]]
    for number, page_hits in enumerate(pages, start=1):
        links = {"self": httpserver.url_for(f"/api/records?q=cldf&size=4&page={number}")}
        if number < len(pages):
            links["next"] = httpserver.url_for(f"/api/records?q=cldf&size=4&page={number + 1}")
        httpserver.expect_request("/api/records", query_string={"q": "cldf", "size": "4", "page": str(number)}) \
            .respond_with_json(search_page(page_hits, 10, links))

    records = list(source.search("cldf", size=4))

    assert [record.source_id for record in records] == CLDF_IDS
    assert client.requests_made == 3
    assert records[4].api_url == httpserver.url_for("/api/records?q=cldf&size=4&page=2")


def test_search_counts_pages_without_links(httpserver, source, client):
    hits = load(CLDF_SEARCH)["hits"]["hits"]
    for number, page_hits in enumerate([hits[0:4], hits[4:8], hits[8:10]], start=1):
        httpserver.expect_request("/api/records", query_string={"q": "cldf", "size": "4", "page": str(number)}) \
            .respond_with_json(search_page(page_hits, 29))

    records = list(source.search("cldf", size=4))

    assert [record.source_id for record in records] == CLDF_IDS
    assert client.requests_made == 3  # page 3 has fewer hits than the page size, so it is the last


def test_search_stops_on_looping_next_link(httpserver, source, client, caplog):
    hits = load(CLDF_SEARCH)["hits"]["hits"]
    httpserver.expect_request("/api/records", query_string={"q": "cldf", "size": "4", "page": "1"}).respond_with_json(
        search_page(hits[0:4], 29, {"next": httpserver.url_for("/api/records?q=cldf&size=4&page=2")}))
    # Page 2 points back to page 1, with the parameters in another order.
    httpserver.expect_request("/api/records", query_string={"q": "cldf", "size": "4", "page": "2"}).respond_with_json(
        search_page(hits[4:8], 29, {"next": httpserver.url_for("/api/records?page=1&size=4&q=cldf")}))

    with caplog.at_level(logging.WARNING, logger="umud.harvest"):
        records = list(source.search("cldf", size=4))

    assert [record.source_id for record in records] == CLDF_IDS[:8]
    assert client.requests_made == 2
    assert "already read" in caplog.text


def test_search_stops_when_page_repeats_hits(httpserver, source, client, caplog):
    hits = load(CLDF_SEARCH)["hits"]["hits"]
    for number in (1, 2):
        httpserver.expect_request("/api/records", query_string={"q": "cldf", "size": "4", "page": str(number)}) \
            .respond_with_json(search_page(hits[0:4], 29))

    with caplog.at_level(logging.WARNING, logger="umud.harvest"):
        records = list(source.search("cldf", size=4))

    assert [record.source_id for record in records] == CLDF_IDS[:4]
    assert client.requests_made == 2
    assert "repeats only records already read" in caplog.text


def test_search_ignores_next_link_to_another_host(httpserver, source, client):
    hits = load(CLDF_SEARCH)["hits"]["hits"]
    httpserver.expect_request("/api/records", query_string={"q": "cldf", "size": "4", "page": "1"}).respond_with_json(
        search_page(hits[0:4], 6, {"next": "https://zenodo.org/api/records?q=cldf&size=4&page=2"}))
    httpserver.expect_request("/api/records", query_string={"q": "cldf", "size": "4", "page": "2"}).respond_with_json(
        search_page(hits[4:6], 6))

    records = list(source.search("cldf", size=4))

    assert [record.source_id for record in records] == CLDF_IDS[:6]
    assert client.requests_made == 2


def test_search_stops_at_max_records(httpserver, source, client):
    hits = load(CLDF_SEARCH)["hits"]["hits"]
    for number, page_hits in enumerate([hits[0:4], hits[4:8], hits[8:10]], start=1):
        httpserver.expect_request("/api/records", query_string={"q": "cldf", "size": "4", "page": str(number)}) \
            .respond_with_json(search_page(page_hits, 10))

    records = list(source.search("cldf", size=4, max_records=5))

    assert [record.source_id for record in records] == CLDF_IDS[:5]
    assert client.requests_made == 2


def test_search_yields_unparseable_hit_as_error(httpserver, source):
    hits = copy.deepcopy(load(CLDF_SEARCH)["hits"]["hits"][0:2])
    hits[0]["metadata"]["title"] = ""
    hits[0]["title"] = ""
    httpserver.expect_request("/api/records", query_string={"q": "cldf", "size": "4", "page": "1"}) \
        .respond_with_json(search_page(hits, 2))

    items = list(source.search("cldf", size=4))

    assert isinstance(items[0], HarvestError)
    assert items[1].source_id == "8250324"


def test_search_response_without_hits_raises(httpserver, source):
    httpserver.expect_request("/api/records").respond_with_json({"message": "maintenance"})

    with pytest.raises(HarvestError, match="no hits.hits list"):
        list(source.search("cldf"))


def test_community_uses_communities_filter(httpserver, source, client):
    hits = load(CLDF_SEARCH)["hits"]["hits"]
    httpserver.expect_request("/api/records", query_string={"communities": "phlorest", "size": "25", "page": "1"}) \
        .respond_with_json(search_page(hits, 10))

    records = list(source.community("phlorest"))

    assert [record.source_id for record in records] == CLDF_IDS
    assert client.requests_made == 1


def test_search_counts_pages_after_next_links_end(httpserver, source, client):
    hits = load(CLDF_SEARCH)["hits"]["hits"]
    httpserver.expect_request("/api/records", query_string={"q": "cldf", "size": "4", "page": "1"}).respond_with_json(
        search_page(hits[0:4], 10, {"next": httpserver.url_for("/api/records?q=cldf&size=4&page=2")}))
    httpserver.expect_request("/api/records", query_string={"q": "cldf", "size": "4", "page": "2"}).respond_with_json(
        search_page(hits[4:8], 10))
    httpserver.expect_request("/api/records", query_string={"q": "cldf", "size": "4", "page": "3"}).respond_with_json(
        search_page(hits[8:10], 10))

    records = list(source.search("cldf", size=4))

    assert [record.source_id for record in records] == CLDF_IDS
    assert client.requests_made == 3


def test_search_stops_at_result_window(httpserver, source, client, caplog):
    def page_of(first: int) -> dict:
        hits = [{"id": number, "metadata": {"title": f"Record {number}"}} for number in range(first, first + 5000)]
        return search_page(hits, 20000)

    httpserver.expect_request("/api/records", query_string={"q": "all", "size": "5000", "page": "1"}) \
        .respond_with_json(page_of(1))
    httpserver.expect_request("/api/records", query_string={"q": "all", "size": "5000", "page": "2"}) \
        .respond_with_json(page_of(5001))

    with caplog.at_level(logging.WARNING, logger="umud.harvest"):
        records = list(source.search("all", size=5000))

    assert len(records) == 10000
    assert records[-1].source_id == "10000"
    assert client.requests_made == 2
    assert "stopping after 10000 hits" in caplog.text
