"""The record model: the 15 original UMUD entries are accepted with their quirks normalised, and
real errors are rejected with the file, the field and the reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from catalog.loader import read_records
from catalog.record import RecordError, parse_record
from catalog.umud_json import parse_umud_json

from .conftest import UMUD_RECORDS

SEED_DIR = Path(__file__).resolve().parent.parent / "catalog" / "seed"


def _entry(name: str) -> dict:
    return json.loads((UMUD_RECORDS / name).read_text())


def _warnings(name: str) -> list[str]:
    _, warnings = parse_umud_json(_entry(name), name)
    return [str(warning) for warning in warnings]


def test_all_entries_accepted(umud_entries):
    names = set()
    for path in umud_entries:
        records, _ = read_records(path)
        names.add(records[0].name)
    assert len(names) == 15


def test_list_given_as_string():
    record, _ = parse_umud_json(_entry("LuminousMulitifidus_2020.json"), "x.json")
    assert record.muscle == ["Lumbar Multifidus"]
    assert any(warning.startswith("MUSCLE: a single value") for warning in _warnings("LuminousMulitifidus_2020.json"))


def test_null_in_list_dropped():
    record, _ = parse_umud_json(_entry("LuminousMulitifidus_2020.json"), "x.json")
    assert record.transducer == []
    assert any(warning.startswith("TRANSDUCER: empty or null") for warning in _warnings("LuminousMulitifidus_2020.json"))


def test_empty_doi_is_unknown():
    record, _ = parse_umud_json(_entry("DeepMTJ_2021.json"), "x.json")
    assert record.doi is None
    assert "DOI: no value given; DOI is recorded as unknown" in _warnings("DeepMTJ_2021.json")


def test_zero_means_unknown():
    record, _ = parse_umud_json(_entry("NeuAgeOld_2024.json"), "x.json")
    assert record.sampling_rate is None
    assert any(warning.startswith("SAMPLING_RATE: 0 is read as 'unknown'") for warning in _warnings("NeuAgeOld_2024.json"))


def test_missing_sex_is_unknown():
    record, _ = parse_umud_json(_entry("SimpleMuscleArchitectureAnalysis_2019.json"), "x.json")
    assert record.sex is None
    assert any(warning.startswith("PARTICIPANT_SEX") for warning in _warnings("SimpleMuscleArchitectureAnalysis_2019.json"))


def test_duplicate_formats_merged():
    record, _ = parse_umud_json(_entry("NeuAgeYoung_2024.json"), "x.json")
    assert record.file_format == ["tiff"]
    assert any("duplicate values" in warning for warning in _warnings("NeuAgeYoung_2024.json"))


def test_mixed_case_format_normalised():
    record, _ = parse_umud_json(_entry("Leg3dUS_2024.json"), "x.json")
    assert record.file_format == ["mha"]
    assert "file_format: 'MHA' was normalised to 'mha'" in _warnings("Leg3dUS_2024.json")


def test_both_sexes_label():
    record, _ = parse_umud_json(_entry("DeepACSA_2022.json"), "x.json")
    assert record.sex == "Female and male"


def test_name_differs_from_file_name():
    record, _ = parse_umud_json(_entry("Heelraise_2017.json"), "Heelraise_2017.json")
    assert record.name == "HEELRISE_2017"


def _rejection(changes: dict, name: str = "DeepACSA_2022.json") -> RecordError:
    entry = _entry(name)
    for key, value in changes.items():
        if value is KeyError:
            del entry[key]
        else:
            entry[key] = value
    with pytest.raises(RecordError) as caught:
        parse_umud_json(entry, "broken.json")
    return caught.value


@pytest.mark.parametrize(("changes", "field", "reason"), [
    ({"MUSCLE": ["Vastus Lateralis", "Heart"]}, "MUSCLE", "'Heart' is not in the UMUD muscle list"),
    ({"SAMPLE_SIZE": -4}, "SAMPLE_SIZE", "greater than or equal to 1"),
    ({"DOI": "abc"}, "DOI", "'abc' is not a DOI"),
    ({"DATASET_LINK": "osf.io/a3u4v"}, "DATASET_LINK", "is not an http(s) URL"),
    ({"PUBLICATION_LINK": "javascript:alert(1)"}, "PUBLICATION_LINK", "is not an http(s) URL"),
    ({"SHORT_DESCRIPTION": KeyError}, "SHORT_DESCRIPTION", "is required but missing"),
    ({"DATA_TYPE": "Photograph"}, "DATA_TYPE", "not in the UMUD data type list"),
    ({"IMAGE_NUMBER": "many"}, "IMAGE_NUMBER", "valid integer"),
    ({"CONTACT": "paul at unibas"}, "CONTACT", "is not an e-mail address"),
    ({"LICENSE": "Proprietary"}, "LICENSE", "not in the UMUD licence list"),
    ({"DATASET_YEAR": "22"}, "DATASET_YEAR", "greater than or equal to 1900"),
    ({"COLOUR": "blue"}, "COLOUR", "is not a field of the UMUD JSON format"),
])
def test_real_errors_rejected(changes, field, reason):
    error = _rejection(changes)
    assert error.source == "broken.json"
    matching = [problem for problem in error.problems if problem.field == field]
    assert matching, [str(problem) for problem in error.problems]
    assert reason in matching[0].message
    assert "broken.json" in str(error)


def test_muscle_group_not_a_muscle():
    error = _rejection({"MUSCLE": ["Thigh muscles"]})
    assert error.problems[0].field == "MUSCLE"


def test_our_format_rejects_unknown_key():
    data = json.loads((SEED_DIR / "DeepACSA_2022.json").read_text())
    data["muscles"] = data.pop("muscle")
    with pytest.raises(RecordError) as caught:
        parse_record(data, "seed.json")
    fields = {problem.field for problem in caught.value.problems}
    assert fields == {"muscles", "muscle"}


def test_orcid_checked():
    data = json.loads((SEED_DIR / "DeepACSA_2022.json").read_text())
    data["authors"] = [{"name": "Paul Ritsche", "orcid": "0000-0001-9446-7872"}, {"name": "X", "orcid": "12"}]
    with pytest.raises(RecordError) as caught:
        parse_record(data, "seed.json")
    assert caught.value.problems[0].field == "authors.1.orcid"


@pytest.mark.parametrize("text", ["{", "[]", "null", '"text"', "{\"DATASET_NAME\": 5}"])
def test_malformed_json_file(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(RecordError) as caught:
        read_records(path)
    assert str(path) in str(caught.value)


def test_invalid_name_is_explained():
    from catalog.record import RecordError, parse_record

    with pytest.raises(RecordError) as error:
        parse_record({"name": "bad name!"}, "test")
    messages = [problem.message for problem in error.value.problems if problem.field == "name"]
    assert messages and "letters, digits" in messages[0]
    assert "[A-Za-z0-9]" not in messages[0]



def test_manufacturer_not_a_device():
    error = _rejection({"DEVICE": ["Esaote"]})
    assert error.problems[0].field == "DEVICE"
    assert "'Esaote' is a group in searches" in error.problems[0].message
    assert "Esaote MyLab 60" in error.problems[0].message
