"""Finding datasets by their metadata: the filters of the /datasets page as SPARQL.

Filters arrive as query parameters named after the record fields (`muscle=Soleus`,
`data_type=Video`, `age_min=60`). Several values of one field match any of them (OR); different
fields must all match (AND). A muscle group ("Triceps surae", "Lower leg") matches every muscle
inside it.
"""

from __future__ import annotations

import string
from dataclasses import dataclass, field
from typing import Iterable

from rdflib import Literal

from .fields import FIELDS, FIELDS_BY_NAME, FILTER_FIELDS_NAMES, RANGED_FIELDS, Field
from .namespaces import sparql_prologue
from .service import Catalog

# Property paths for the fields that are not a direct statement on the dataset.
PATHS = {
    "file_format": "dcat:distribution/dcterms:format",
    "authors": "dcterms:creator/foaf:name",
    "doi": "adms:identifier/skos:notation",
}
TEXT_MATCH_FIELDS = {"name", "title", "description", "authors", "transducer", "keywords", "label_description"}
FILTER_FIELDS = tuple(field for field in FIELDS if field.name in FILTER_FIELDS_NAMES)
# Characters stripped from both ends of each word of a search text: ASCII punctuation and
# typographic quotes.
WORD_EDGES = string.punctuation + "\u2018\u2019\u201c\u201d\u00ab\u00bb"


class FilterError(ValueError):
    """A filter value that cannot be used; the message names the parameter and the reason."""


@dataclass
class Query:
    """A validated dataset search: values per field, numeric ranges, and free text."""

    values: dict[str, list[str]] = field(default_factory=dict)
    ranges: dict[str, tuple[float | None, float | None]] = field(default_factory=dict)
    text: str = ""

    def is_empty(self) -> bool:
        return not (self.values or self.ranges or self.text)


def parse_query(parameters: Iterable[tuple[str, str]], catalog: Catalog) -> Query:
    """Validate query parameters (name, value pairs) into a Query; raises FilterError."""
    query = Query()
    known = {field.name for field in FILTER_FIELDS} | {"q", "format", "page", "page_size", "sort"}
    ranged = {f"{field.name}_{end}" for field in RANGED_FIELDS for end in ("min", "max")}
    for name, raw in parameters:
        value = raw.strip()
        if name not in known | ranged:
            raise FilterError(f"unknown parameter '{name}'; filters are named after the record fields, "
                              f"for example muscle, data_type or age_min")
        if not value or name in {"format", "page", "page_size", "sort"}:
            continue
        if name == "q":
            query.text = search_words(value[:200])
        elif name in ranged:
            _add_range(query, name, value)
        else:
            query.values.setdefault(name, []).append(_check_value(FIELDS_BY_NAME[name], value, catalog))
    return query


def search_words(text: str) -> str:
    """Return the words of a search text without the quotes and punctuation around them.

    Each word must then occur in a dataset's text: `"fascicle tracking"` finds what `fascicle
    tracking` finds, and `(fascicle),` what `fascicle` finds. Punctuation inside a word stays, so
    device models, DOIs and e-mail addresses are searched as written.
    """
    words = (word.strip(WORD_EDGES) for word in text.split())
    return " ".join(word for word in words if word)


def _check_value(field: Field, value: str, catalog: Catalog) -> str:
    if field.name == "file_format" and value.startswith("."):
        # Accept the extension with the dot that precedes it in a file name.
        value = value[1:]
    if field.kind == "concept" and catalog.vocabulary.concept(field.scheme, value) is None:
        suggestion = catalog.vocabulary.scheme_examples(field.scheme, value)
        raise FilterError(f"{field.name}: '{value}' is not in the UMUD {field.label.lower()} list; {suggestion}")
    if field.kind == "boolean" and value.casefold() not in {"true", "false", "yes", "no", "1", "0"}:
        raise FilterError(f"{field.name}: give true or false, not '{value}'")
    if field.kind in {"integer", "decimal", "year"}:
        _number(field.name, value)
    return value[:200]


def _add_range(query: Query, name: str, value: str) -> None:
    field_name, _, end = name.rpartition("_")
    low, high = query.ranges.get(field_name, (None, None))
    number = _number(name, value)
    query.ranges[field_name] = (number, high) if end == "min" else (low, number)


def _number(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise FilterError(f"{name}: '{value}' is not a number") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise FilterError(f"{name}: '{value}' is not a finite number")
    return number


def find_datasets(query: Query, catalog: Catalog) -> list[str]:
    """Return the names of the datasets that match, sorted by name."""
    patterns = [_value_pattern(FIELDS_BY_NAME[name], values, number, catalog)
                for number, (name, values) in enumerate(sorted(query.values.items()))]
    patterns += [_range_pattern(FIELDS_BY_NAME[name], low, high, number)
                 for number, (name, (low, high)) in enumerate(sorted(query.ranges.items()))]
    if query.text:
        patterns.append(_text_pattern(query.text))
    # Only the curated graph of each dataset (named by the dataset IRI) counts, not harvested statements.
    sparql = sparql_prologue() + (
        "SELECT DISTINCT ?name WHERE { GRAPH ?dataset {\n  ?dataset a dcat:Dataset ; dcterms:identifier ?name .\n"
        + "\n".join(patterns) + "\n} } ORDER BY LCASE(STR(?name))")
    return [str(row["name"]) for row in catalog.store.select(sparql)]


def _path(field: Field) -> str:
    return PATHS.get(field.name, f"<{field.predicate}>")


def _value_pattern(field: Field, values: list[str], number: int, catalog: Catalog) -> str:
    variable = f"?value{number}"
    if field.kind == "concept":
        iris = set()
        for value in values:
            concept = catalog.vocabulary.concept(field.scheme, value)
            iris |= catalog.vocabulary.narrower_closure(concept.iri)
            if field.name == "sex":
                # Participants of both sexes include female and male participants alike.
                iris.add(catalog.vocabulary.concept("sex", "Female and male").iri)
        terms = " ".join(f"<{iri}>" for iri in sorted(iris))
        return f"  ?dataset {_path(field)} {variable} . VALUES {variable} {{ {terms} }}"
    if field.kind == "boolean":
        truth = {value.casefold() in {"true", "yes", "1"} for value in values}
        terms = " ".join(Literal(item).n3() for item in sorted(truth))
        return f"  ?dataset {_path(field)} {variable} . VALUES {variable} {{ {terms} }}"
    if field.kind in {"integer", "decimal", "year"}:
        numbers = ", ".join(repr(float(value)) for value in values)
        return f"  ?dataset {_path(field)} {variable} . FILTER({_numeric(field, variable)} IN ({numbers}))"
    if field.name in TEXT_MATCH_FIELDS:
        tests = " || ".join(f"CONTAINS(LCASE(STR({variable})), {Literal(value.casefold()).n3()})"
                            for value in values)
        return f"  ?dataset {_path(field)} {variable} . FILTER({tests})"
    terms = " || ".join(f"LCASE(STR({variable})) = {Literal(value.casefold()).n3()}" for value in values)
    return f"  ?dataset {_path(field)} {variable} . FILTER({terms})"


def _range_pattern(field: Field, low: float | None, high: float | None, number: int) -> str:
    variable = f"?range{number}"
    value = _numeric(field, variable)
    tests = []
    if low is not None:
        tests.append(f"{value} >= {low!r}")
    if high is not None:
        tests.append(f"{value} <= {high!r}")
    return f"  ?dataset {_path(field)} {variable} . FILTER({' && '.join(tests)})"


def _numeric(field: Field, variable: str) -> str:
    """Return a SPARQL expression of the variable's value as a number (a gYear's year)."""
    if field.kind == "year":
        return f"xsd:decimal(SUBSTR(STR({variable}), 1, 4))"
    return f"xsd:decimal({variable})"


def _text_pattern(text: str) -> str:
    words = [word.casefold() for word in text.split()][:10]
    tests = " && ".join(f"CONTAINS(?text, {Literal(word).n3()})" for word in words)
    return ("  { SELECT ?dataset (LCASE(GROUP_CONCAT(STR(?part); separator=' ')) AS ?text) WHERE {\n"
            "      ?dataset dcterms:identifier|dcterms:title|dcterms:description|dcat:keyword"
            "|umud:labelDescription|dcterms:creator/foaf:name|adms:identifier/skos:notation ?part }\n"
            f"    GROUP BY ?dataset }}\n  FILTER({tests})")

