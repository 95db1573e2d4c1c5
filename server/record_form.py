"""The record form, built from the field table and the vocabularies, and read back into a record.

Each field of `catalog.fields.FIELDS` becomes one input: a select of the field's concepts
(muscles under their anatomical groups, devices under their manufacturers), a number with its
unit, a yes/no choice, a URL, a text area, or repeatable rows for authors and contacts.
The contribution page and the curators' edit page share this form.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from werkzeug.datastructures import MultiDict

from catalog.fields import FIELDS, Field
from catalog.search_index import canonical_value
from catalog.vocabulary import MANUFACTURER, Vocabulary

# Fields written as one value per line in a text area.
LINE_FIELDS = ("keywords", "transducer")
LONG_TEXT_FIELDS = ("description", "label_description")


@dataclass
class Option:
    value: str
    label: str


@dataclass
class OptionGroup:
    label: str | None
    options: list[Option] = field(default_factory=list)


@dataclass
class FormField:
    """One input of the record form."""

    field: Field
    widget: str  # text, textarea, lines, number, year, url, select, multiselect, boolean, authors, contacts
    groups: list[OptionGroup] = field(default_factory=list)

    @property
    def required(self) -> bool:
        return self.field.level == "required"


def form_fields(vocabulary: Vocabulary) -> list[FormField]:
    return [FormField(record_field, _widget(record_field), _groups(record_field, vocabulary)) for record_field in FIELDS]


def _widget(record_field: Field) -> str:
    if record_field.name == "authors":
        return "authors"
    if record_field.name == "contact":
        return "contacts"
    if record_field.kind == "concept":
        return "multiselect" if record_field.many else "select"
    if record_field.kind in {"integer", "decimal"}:
        return "number"
    if record_field.kind == "year":
        return "year"
    if record_field.kind == "boolean":
        return "boolean"
    if record_field.kind == "url":
        return "url"
    if record_field.name in LINE_FIELDS:
        return "lines"
    if record_field.name in LONG_TEXT_FIELDS:
        return "textarea"
    return "text"


def _groups(record_field: Field, vocabulary: Vocabulary) -> list[OptionGroup]:
    """Return a concept field's choices: muscles under their top anatomical group, devices under
    their manufacturer, other fields in one group."""
    if record_field.kind != "concept":
        return []
    if record_field.scheme == "device":
        by_maker: dict[str, OptionGroup] = {}
        devices = [concept for concept in vocabulary.concepts("device") if MANUFACTURER not in concept.kinds]
        for concept in sorted(devices, key=lambda concept: concept.label.casefold()):
            maker = concept.manufacturer or "Other manufacturers"
            by_maker.setdefault(maker, OptionGroup(maker)).options.append(
                Option(canonical_value(record_field, concept), concept.label))
        return [by_maker[maker] for maker in sorted(by_maker, key=str.casefold)]
    groups: list[OptionGroup] = []
    for concept, depth in vocabulary.tree(record_field.scheme):
        option = Option(canonical_value(record_field, concept), "\u2003" * max(0, depth - 1) + concept.label)
        if record_field.scheme == "muscle" and depth == 0:
            groups.append(OptionGroup(concept.label))
            option.label = concept.label
        if not groups:
            groups.append(OptionGroup(None))
        groups[-1].options.append(option)
    return groups


def form_to_data(form: MultiDict) -> dict:
    """Read the submitted form into a record in our JSON format; empty inputs are left out."""
    data: dict = {}
    for record_field in FIELDS:
        name = record_field.name
        if name == "authors":
            names = form.getlist("author_name")
            orcids = form.getlist("author_orcid")
            authors = []
            for index, author in enumerate(names):
                if author.strip():
                    orcid = orcids[index].strip() if index < len(orcids) else ""
                    authors.append({"name": author.strip(), **({"orcid": orcid} if orcid else {})})
            if authors:
                data[name] = authors
        elif name in LINE_FIELDS:
            lines = [line.strip() for text in form.getlist(name) for line in text.splitlines() if line.strip()]
            if lines:
                data[name] = lines
        elif record_field.many:
            values = [value.strip() for value in form.getlist(name) if value.strip()]
            if values:
                data[name] = values
        else:
            value = form.get(name, "").strip()
            if value and record_field.kind == "boolean":
                data[name] = value == "true"
            elif value:
                data[name] = value
    return data


def record_to_form_values(data: dict) -> dict:
    """Return the values that fill the form from a record in our JSON format."""
    values: dict = {}
    for record_field in FIELDS:
        value = data.get(record_field.name)
        if value is None:
            continue
        if record_field.name in LINE_FIELDS:
            values[record_field.name] = "\n".join(value)
        elif record_field.kind == "boolean":
            values[record_field.name] = "true" if value else "false"
        else:
            values[record_field.name] = value
    return values
