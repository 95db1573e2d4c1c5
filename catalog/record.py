"""The input contract of a catalog record: a pydantic model in UMUD's own JSON format.

`parse_record(data, source)` validates a mapping against the model and the vocabularies.
It returns the record with the warnings raised while normalising it, or raises `RecordError`,
whose problems name the source (file or URL), the field and the reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .fields import CONCEPT_FIELDS, FIELDS_BY_NAME
from .vocabulary import MANUFACTURER, Vocabulary, default_vocabulary

NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$")
DOI_PATTERN = re.compile(r"^10\.\d{4,9}/\S+$")
ORCID_PATTERN = re.compile(r"^\d{4}-\d{4}-\d{4}-\d{3}[\dX]$")
EMAIL_PATTERN = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
URL_PATTERN = re.compile(r"^https?://[^\s/$.?#][^\s]*$", re.IGNORECASE)

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


@dataclass(frozen=True)
class Problem:
    """One finding about a record: which field, and what is wrong or was changed."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class RecordError(ValueError):
    """A record that cannot be accepted; `problems` lists every reason."""

    def __init__(self, source: str, problems: list[Problem]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  {problem}" for problem in problems)
        super().__init__(f"{source}: invalid record\n{lines}")


class Author(BaseModel):
    """An author: a name and, where known, an ORCID iD (0000-0002-1825-0097)."""

    model_config = ConfigDict(extra="forbid")

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
    orcid: str | None = None

    @field_validator("orcid")
    @classmethod
    def check_orcid(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().removeprefix("https://orcid.org/").removeprefix("http://orcid.org/")
        if not ORCID_PATTERN.match(value):
            raise ValueError(f"'{value}' is not an ORCID iD; write it as 0000-0002-1825-0097")
        return value


class Record(BaseModel):
    """One dataset, as contributors write it and as the catalog stores it.

    Controlled values are stored in canonical form: the concept's label, or its notation for
    licences (SPDX id) and file formats (extension). Example: `catalog/seed/DeepACSA_2022.json`.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: Annotated[str, StringConstraints(pattern=NAME_PATTERN.pattern)]
    title: Annotated[str, StringConstraints(min_length=1, max_length=300)] | None = None
    description: Annotated[str, StringConstraints(min_length=1, max_length=5000)]
    doi: str | None = None
    version: Annotated[str, StringConstraints(min_length=1, max_length=50)] | None = None
    year: int = Field(ge=1900, le=2100)
    link: str
    publication: str | None = None
    license: str
    authors: list[Author] = Field(min_length=1)
    contact: list[str] = []
    keywords: list[Text] = []
    muscle: list[str] = Field(min_length=1)
    region: list[str] = []
    device: list[str] = []
    transducer: list[Text] = []
    data_type: str
    image_type: list[str] = []
    plane: list[str] = []
    file_format: list[str] = []
    image_count: int | None = Field(default=None, ge=0)
    video_count: int | None = Field(default=None, ge=0)
    scanning_frequency: float | None = Field(default=None, gt=0, le=100)
    sampling_rate: float | None = Field(default=None, gt=0, le=100000)
    age: float | None = Field(default=None, gt=0, le=120)
    height: float | None = Field(default=None, ge=40, le=250)
    body_mass: float | None = Field(default=None, ge=2, le=300)
    sex: str | None = None
    sample_size: int = Field(ge=1)
    labels: bool | None = None
    label_description: Annotated[str, StringConstraints(max_length=5000)] | None = None

    @field_validator("authors", mode="before")
    @classmethod
    def accept_author_names(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": item} if isinstance(item, str) else item for item in value]
        return value

    @field_validator("doi")
    @classmethod
    def check_doi(cls, value: str | None) -> str | None:
        if value is None:
            return None
        doi = re.sub(r"^(https?://(dx\.)?doi\.org/|doi:)", "", value.strip(), flags=re.IGNORECASE)
        if not DOI_PATTERN.match(doi):
            raise ValueError(f"'{value}' is not a DOI; write it as 10.5281/zenodo.2598553")
        return doi

    @field_validator("link", "publication")
    @classmethod
    def check_url(cls, value: str | None) -> str | None:
        if value is not None and not URL_PATTERN.match(value):
            raise ValueError(f"'{value}' is not an http(s) URL")
        return value

    @field_validator("contact")
    @classmethod
    def check_emails(cls, value: list[str]) -> list[str]:
        for address in value:
            if not EMAIL_PATTERN.match(address):
                raise ValueError(f"'{address}' is not an e-mail address")
        return value

    @field_validator(*(field.name for field in CONCEPT_FIELDS))
    @classmethod
    def resolve_concepts(cls, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            return None
        field = FIELDS_BY_NAME[info.field_name]
        values = value if isinstance(value, list) else [value]
        canonical = [_canonical_value(field.name, item, info) for item in values]
        unique = list(dict.fromkeys(canonical))
        if len(unique) < len(canonical):
            _warn(info, field.name, f"duplicate values {values} were merged into {unique}")
        return unique if isinstance(value, list) else unique[0]

    @model_validator(mode="after")
    def fill_title(self) -> "Record":
        if self.title is None:
            self.title = self.name
        return self

    def to_json(self) -> dict[str, Any]:
        """Return the record in our JSON format, leaving out empty fields."""
        return self.model_dump(mode="json", exclude_none=True, exclude_defaults=False,
                               exclude={key for key, value in self if value == []})


def _canonical_value(field_name: str, value: Any, info: ValidationInfo) -> str:
    field = FIELDS_BY_NAME[field_name]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a {field.label.lower()} name, got {value!r}")
    vocabulary = _vocabulary(info)
    concept = vocabulary.concept(field.scheme, value)
    if concept is None:
        raise ValueError(
            f"'{value}' is not in the UMUD {field.label.lower()} list; "
            f"{vocabulary.scheme_examples(field.scheme, value)}")
    # Group concepts such as "Thigh muscles" or the manufacturer "Esaote" serve searches; a
    # record names single muscles and devices.
    if field_name == "muscle" and "Muscle" not in concept.kinds or MANUFACTURER in concept.kinds:
        below = sorted(vocabulary.concepts_by_iri[iri].label for iri in vocabulary.narrower_closure(concept.iri)
                       if iri != concept.iri and not vocabulary.concepts_by_iri[iri].is_group)
        raise ValueError(
            f"'{value}' is a group in searches, not a single {field.label.lower()}; name the ones the "
            f"data show, for example {', '.join(below[:4])}")
    canonical = concept.notation if field.canonical == "notation" and concept.notation else concept.label
    if field_name == "file_format" and value != canonical:
        _warn(info, field_name, f"'{value}' was normalised to '{canonical}'")
    return canonical


def _vocabulary(info: ValidationInfo) -> Vocabulary:
    context = info.context or {}
    return context.get("vocabulary") or default_vocabulary()


def _warn(info: ValidationInfo, field: str, message: str) -> None:
    context = info.context or {}
    if "warnings" in context:
        context["warnings"].append(Problem(field, message))


def parse_record(data: Any, source: str, vocabulary: Vocabulary | None = None,
                 warnings: list[Problem] | None = None) -> tuple[Record, list[Problem]]:
    """Validate `data` (our JSON format) and return the record with its warnings.

    Raises RecordError naming `source`, each invalid field and the reason.
    """
    collected: list[Problem] = list(warnings or [])
    if not isinstance(data, dict):
        raise RecordError(source, [Problem("", f"expected a JSON object, got {type(data).__name__}")])
    context = {"vocabulary": vocabulary or default_vocabulary(), "warnings": collected}
    try:
        record = Record.model_validate(data, context=context)
    except ValidationError as error:
        raise RecordError(source, problems_from(error)) from None
    return record, collected


def problems_from(error: ValidationError) -> list[Problem]:
    """Turn pydantic's errors into problems that name the field in our words."""
    problems = []
    for detail in error.errors(include_url=False):
        location = ".".join(str(part) for part in detail["loc"])
        message = detail["msg"].removeprefix("Value error, ")
        if detail["type"] == "missing":
            message = "is required but missing"
        elif detail["type"] == "extra_forbidden":
            message = "is not a field of a UMUD record; check its spelling"
        elif detail["type"] == "string_pattern_mismatch" and location == "name":
            message = ("must start with a letter or digit and hold only letters, digits, '_' and '-' "
                       "(at most 100 characters), for example DeepACSA_2022")
        problems.append(Problem(location, message))
    return problems
