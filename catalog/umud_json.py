"""Reading records in the original UMUD application's JSON format.

Those files use upper-case keys (`DATASET_NAME`, `MUSCLE`, ...) and carry known quirks: a list
given as a plain string, an empty-string DOI, 0 meaning "unknown", null inside lists, a missing
sex. Each quirk is normalised with a warning; real errors are reported by the record model.
"""

from __future__ import annotations

from typing import Any

from .fields import FIELDS
from .record import Problem, Record, RecordError, parse_record
from .vocabulary import Vocabulary, default_vocabulary

UMUD_KEYS = {field.umud_key: field for field in FIELDS if field.umud_key}
# Numeric fields where the original application wrote 0 for "unknown".
ZERO_MEANS_UNKNOWN = {"image_count", "video_count", "scanning_frequency", "sampling_rate", "age",
                      "height", "body_mass"}
# Free-text list fields that the original application took as comma-separated strings.
COMMA_SEPARATED = {"authors", "contact", "transducer"}


def is_umud_json(data: Any) -> bool:
    return isinstance(data, dict) and "DATASET_NAME" in data


def parse_umud_json(data: dict[str, Any], source: str,
                    vocabulary: Vocabulary | None = None) -> tuple[Record, list[Problem]]:
    """Validate an original UMUD entry and return it as a record with its warnings."""
    vocabulary = vocabulary or default_vocabulary()
    warnings: list[Problem] = []
    converted: dict[str, Any] = {}
    unknown = [key for key in data if key not in UMUD_KEYS]
    if unknown:
        raise RecordError(source, [Problem(key, "is not a field of the UMUD JSON format") for key in unknown])

    for key, value in data.items():
        field = UMUD_KEYS[key]
        normalised = _normalise(field.name, key, value, vocabulary, warnings)
        if normalised is not None:
            converted[field.name] = normalised

    try:
        return parse_record(converted, source, vocabulary, warnings)
    except RecordError as error:
        raise RecordError(source, [_with_umud_key(problem) for problem in error.problems]) from None


def _normalise(name: str, key: str, value: Any, vocabulary: Vocabulary,
               warnings: list[Problem]) -> Any:
    def warn(message: str) -> None:
        warnings.append(Problem(key, message))

    if value is None or value == "":
        if name in {"doi", "sex", "labels"}:
            warn(f"no value given; {key} is recorded as unknown")
        return None
    if isinstance(value, list):
        return _normalise_list(name, key, value, vocabulary, warn)
    if name in ZERO_MEANS_UNKNOWN and value == 0:
        warn("0 is read as 'unknown', as the original UMUD application meant it")
        return None
    if name == "year" and isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if name in COMMA_SEPARATED and isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if _is_list_field(name) and isinstance(value, str):
        warn(f"a single value was given as a plain string; read as the list ['{value}']")
        return _split_concepts(name, value, vocabulary)
    return value


def _normalise_list(name: str, key: str, value: list[Any], vocabulary: Vocabulary, warn) -> Any:
    items = [item for item in value if item is not None and item != ""]
    if len(items) < len(value):
        warn("empty or null items were removed from the list")
    if _is_list_field(name):
        return items or None
    # Single-valued fields (DATA_TYPE, LICENSE) that the JSON schema declared as arrays.
    if len(items) == 1:
        return items[0]
    return items or None


def _split_concepts(name: str, value: str, vocabulary: Vocabulary) -> list[str]:
    scheme = next(field.scheme for field in FIELDS if field.name == name)
    if scheme is None or vocabulary.concept(scheme, value) is not None or "," not in value:
        return [value]
    return [part.strip() for part in value.split(",") if part.strip()]


def _is_list_field(name: str) -> bool:
    return any(field.many for field in FIELDS if field.name == name)


def _with_umud_key(problem: Problem) -> Problem:
    field_name, _, rest = problem.field.partition(".")
    for key, field in UMUD_KEYS.items():
        if field.name == field_name:
            location = key + (f"[{rest}]" if rest else "")
            return Problem(location, problem.message)
    return problem


def record_to_umud_json(record: Record, vocabulary: Vocabulary | None = None) -> dict[str, Any]:
    """Return a record in the original UMUD application's JSON format.

    That format has no title, keywords or ORCID iDs, so those are left out; concepts are written
    as their labels, licences and file formats as the application listed them.
    """
    vocabulary = vocabulary or default_vocabulary()
    data: dict[str, Any] = {}
    for key, field in UMUD_KEYS.items():
        value = getattr(record, field.name)
        if field.name == "authors":
            value = [author.name for author in value]
        elif field.name == "license" and value is not None:
            concept = vocabulary.concept(field.scheme, value)
            value = concept.label if concept is not None else value
        elif field.name == "year" and value is not None:
            value = str(value)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        data[key] = value if value != [] else None
    return data
