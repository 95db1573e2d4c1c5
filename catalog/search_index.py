"""A derived search index of the catalog in SQLite: filters, faceted counts and ranked full text.

The triple store stays the source of truth. `SearchIndex.rebuild` reads every dataset from it,
`upsert` and `delete` keep the index in step after a write, and `search` answers the same
questions as `catalog.search.find_datasets` with facet counts and paging on top.

Tables:

- `datasets`: one row per dataset, one column per single-valued field.
- `dataset_values(dataset_id, field, value)`: every value of every concept field, stored in the
  record's canonical form (the concept's label, or its notation for licences and file formats),
  and every value of the many-valued text fields (authors, keywords, transducer).
- `dataset_text`: an FTS5 table with the trigram tokenizer over the case-folded text that the
  free-text filter of `find_datasets` reads, so a word matches anywhere inside a longer word.
- `concept_closure(field, ancestor, descendant)`: each concept with the concepts it includes
  (muscle groups and their muscles), so facet counts of a group cover the muscles inside it.
- `dataset_facets(dataset_id, field, value)`: `dataset_values` joined with `concept_closure`,
  once per dataset and value, so a facet count is a plain COUNT(*) per value.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .fields import CONCEPT_FIELDS, FIELDS, FIELDS_BY_NAME, RANGED_FIELDS, Field
from .namespaces import sparql_prologue
from .record import Record
from .search import PATHS, TEXT_MATCH_FIELDS, Query
from .vocabulary import Concept, Vocabulary, default_vocabulary

# Columns of `datasets` besides `id`, `name` and `name_key`, by field name.
NUMBER_COLUMNS = ("year", "sample_size", "image_count", "video_count", "age", "height", "body_mass",
                  "scanning_frequency", "sampling_rate")
SINGLE_CONCEPT_COLUMNS = ("data_type", "sex", "license")
COLUMNS = ("title", *NUMBER_COLUMNS, *SINGLE_CONCEPT_COLUMNS, "labels", "doi", "version")

# Many-valued text fields kept in `dataset_values` next to the concept values.
LISTED_TEXT_FIELDS = ("authors", "keywords", "transducer")

# Columns of the FTS5 table: the parts of a record that the free-text filter of find_datasets reads.
TEXT_COLUMNS = ("name", "title", "description", "authors", "label_description", "keywords", "doi")

FACET_FIELDS = (*(field.name for field in CONCEPT_FIELDS), "labels")
SORTS = ("relevance", "year", "sample_size", "image_count", "name")
MAX_PAGE_SIZE = 1000
# find_datasets reads at most the first 10 words of the text.
MAX_TEXT_WORDS = 10
# The trigram tokenizer cannot match a word shorter than this through MATCH.
TRIGRAM = 3

SCHEMA = f"""
CREATE TABLE datasets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    name_key TEXT NOT NULL,
    title TEXT,
    year INTEGER, sample_size INTEGER, image_count INTEGER, video_count INTEGER,
    age REAL, height REAL, body_mass REAL, scanning_frequency REAL, sampling_rate REAL,
    data_type TEXT, sex TEXT, license TEXT,
    labels INTEGER,
    doi TEXT, version TEXT
);
CREATE INDEX datasets_name_key ON datasets (name_key);
CREATE INDEX datasets_year ON datasets (year);
CREATE INDEX datasets_sample_size ON datasets (sample_size);
CREATE INDEX datasets_image_count ON datasets (image_count);
CREATE TABLE dataset_values (
    dataset_id INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    field TEXT NOT NULL,
    value TEXT NOT NULL
);
CREATE INDEX dataset_values_lookup ON dataset_values (field, value, dataset_id);
CREATE INDEX dataset_values_dataset ON dataset_values (dataset_id);
CREATE TABLE dataset_facets (
    dataset_id INTEGER NOT NULL REFERENCES datasets (id) ON DELETE CASCADE,
    field TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (field, dataset_id, value)
) WITHOUT ROWID;
CREATE INDEX dataset_facets_dataset ON dataset_facets (dataset_id);
CREATE VIRTUAL TABLE dataset_text USING fts5 (
    {", ".join(TEXT_COLUMNS)}, tokenize = 'trigram case_sensitive 1'
);
CREATE TABLE concept_closure (
    field TEXT NOT NULL,
    ancestor TEXT NOT NULL,
    descendant TEXT NOT NULL,
    PRIMARY KEY (field, descendant, ancestor)
) WITHOUT ROWID;
"""


@dataclass
class SearchResult:
    """One page of a search: the total number of matches, the names on the page and facet counts."""

    total: int
    names: list[str]
    # Per facet field, value -> number of datasets that match the other filters and this value.
    facets: dict[str, dict[str, int]] = field(default_factory=dict)


@dataclass
class _Condition:
    """A SQL condition on the `datasets` row aliased `d`; `field` is the facet it belongs to."""

    field: str | None
    sql: str
    parameters: list[Any]


class SearchIndex:
    """The SQLite search index; `path` is a file, or ":memory:" for an index in this process only.

    One connection is shared by all threads and every call holds a lock, so calls run one at a time.
    """

    def __init__(self, path: str | Path = ":memory:"):
        self.path = str(path)
        self._connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._connection.execute("PRAGMA foreign_keys = ON")
        self._connection.create_function("casefold", 1, _casefold, deterministic=True)
        self._lock = threading.Lock()
        self._closure_vocabulary: Vocabulary | None = None
        with self._lock:
            exists = self._connection.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'datasets'").fetchone()
            if not exists:
                self._connection.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    # Writing

    def rebuild(self, catalog) -> int:
        """Replace the whole index with the datasets of `catalog`; returns how many were indexed.

        Reads the store with one SPARQL query per field instead of one `catalog.record` per
        dataset, which is much faster for large catalogs and yields the same values.
        """
        datasets = read_store_values(catalog)
        with self._lock, self._transaction():
            for table in ("dataset_facets", "dataset_values", "dataset_text", "datasets", "concept_closure"):
                self._connection.execute(f"DELETE FROM {table}")
            self._insert(datasets.values())
            self._write_closure(catalog.vocabulary)
            self._write_facets()
        return len(datasets)

    def upsert(self, record: Record, vocabulary: Vocabulary | None = None) -> None:
        """Index one record, replacing the row of a dataset with the same name.

        `vocabulary` defaults to the one of the last rebuild or search, else the bundled one.
        """
        vocabulary = vocabulary or self._closure_vocabulary or default_vocabulary()
        with self._lock, self._transaction():
            self._delete(record.name)
            dataset_id = self._insert([record_values(record)])[0]
            if self._closure_vocabulary is not vocabulary:
                self._write_closure(vocabulary)
                self._write_facets()
            else:
                self._write_facets(dataset_id)

    def delete(self, name: str) -> bool:
        """Remove a dataset from the index; returns False when it was not indexed."""
        with self._lock, self._transaction():
            return self._delete(name)

    def names(self) -> list[str]:
        with self._lock:
            rows = self._connection.execute("SELECT name FROM datasets ORDER BY name_key, name")
            return [name for (name,) in rows]

    def _transaction(self):
        return _Transaction(self._connection)

    def _delete(self, name: str) -> bool:
        row = self._connection.execute("SELECT id FROM datasets WHERE name = ?", (name,)).fetchone()
        if row is None:
            return False
        self._connection.execute("DELETE FROM dataset_facets WHERE dataset_id = ?", row)
        self._connection.execute("DELETE FROM dataset_values WHERE dataset_id = ?", row)
        self._connection.execute("DELETE FROM dataset_text WHERE rowid = ?", row)
        self._connection.execute("DELETE FROM datasets WHERE id = ?", row)
        return True

    def _insert(self, datasets: Iterable[dict[str, list[Any]]]) -> list[int]:
        """Insert datasets into every table but dataset_facets; returns their row ids."""
        connection = self._connection
        columns = ("name", "name_key", *COLUMNS)
        insert_row = (f"INSERT INTO datasets ({', '.join(columns)}) "
                      f"VALUES ({', '.join('?' for _ in columns)})")
        insert_text = (f"INSERT INTO dataset_text (rowid, {', '.join(TEXT_COLUMNS)}) "
                       f"VALUES (?, {', '.join('?' for _ in TEXT_COLUMNS)})")
        value_rows: list[tuple[int, str, str]] = []
        text_rows: list[tuple] = []
        dataset_ids = []
        for values in datasets:
            name = values["name"][0]
            row = [name, _sort_key(name)] + [_first(values.get(column)) for column in COLUMNS]
            dataset_id = connection.execute(insert_row, row).lastrowid
            dataset_ids.append(dataset_id)
            for field_name in (*(concept_field.name for concept_field in CONCEPT_FIELDS), *LISTED_TEXT_FIELDS):
                value_rows += [(dataset_id, field_name, value) for value in dict.fromkeys(values.get(field_name, []))]
            text_rows.append((dataset_id, *(_casefold("\n".join(values.get(column, [])))
                                            for column in TEXT_COLUMNS)))
        connection.executemany("INSERT INTO dataset_values VALUES (?, ?, ?)", value_rows)
        connection.executemany(insert_text, text_rows)
        return dataset_ids

    def _write_closure(self, vocabulary: Vocabulary) -> None:
        rows = set()
        for concept_field in CONCEPT_FIELDS:
            for concept in vocabulary.concepts(concept_field.scheme):
                ancestor = canonical_value(concept_field, concept)
                rows |= {(concept_field.name, ancestor, descendant)
                         for descendant in expand_values(concept_field, [concept.label], vocabulary)}
        self._connection.execute("DELETE FROM concept_closure")
        self._connection.executemany("INSERT INTO concept_closure VALUES (?, ?, ?)", sorted(rows))
        self._closure_vocabulary = vocabulary

    def _write_facets(self, dataset_id: int | None = None) -> None:
        """Fill dataset_facets from the closure, for one dataset or, by default, for all."""
        only = "AND v.dataset_id = ?" if dataset_id is not None else ""
        if dataset_id is None:
            self._connection.execute("DELETE FROM dataset_facets")
        else:
            self._connection.execute("DELETE FROM dataset_facets WHERE dataset_id = ?", (dataset_id,))
        self._connection.execute(
            "INSERT INTO dataset_facets SELECT DISTINCT v.dataset_id, v.field, c.ancestor "
            "FROM dataset_values v JOIN concept_closure c ON c.field = v.field AND c.descendant = v.value "
            f"WHERE TRUE {only}", [] if dataset_id is None else [dataset_id])

    # Searching

    def search(self, query: Query, vocabulary: Vocabulary, *, sort: str = "relevance", page: int = 1,
               page_size: int = 20) -> SearchResult:
        """Return one page of the datasets that match `query`, with facet counts.

        Matches what `catalog.search.find_datasets` returns for the same query. `sort` is one of
        SORTS, with a leading "-" for descending order; ties are broken by name.
        """
        order = _order_by(sort, has_ranked_text=bool(_long_words(query.text)))
        if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"invalid page {page} of size {page_size}: the page starts at 1 and "
                             f"the page size must be between 1 and {MAX_PAGE_SIZE}")
        conditions = build_conditions(query, vocabulary)
        with self._lock:
            if self._closure_vocabulary is not vocabulary:
                with self._transaction():
                    self._write_closure(vocabulary)
                    self._write_facets()
            total = self._count(conditions)
            names = self._page(conditions, query.text, order, page, page_size)
            facets = {facet: self._facet(facet, conditions) for facet in FACET_FIELDS}
        return SearchResult(total, names, facets)

    def _count(self, conditions: list[_Condition]) -> int:
        where, parameters = _where(conditions)
        return self._connection.execute(f"SELECT COUNT(*) FROM datasets d {where}", parameters).fetchone()[0]

    def _page(self, conditions: list[_Condition], text: str, order: str, page: int, page_size: int) -> list[str]:
        where, parameters = _where(conditions)
        join = ""
        if "bm25" in order:
            # Join the FTS5 table once more to rank by bm25; the condition itself filters the rows.
            join = "JOIN dataset_text ON dataset_text.rowid = d.id AND dataset_text MATCH ?"
            parameters = [_match_expression(_long_words(text)), *parameters]
        sql = f"SELECT d.name FROM datasets d {join} {where} ORDER BY {order} LIMIT ? OFFSET ?"
        rows = self._connection.execute(sql, [*parameters, page_size, (page - 1) * page_size])
        return [name for (name,) in rows]

    def _facet(self, facet: str, conditions: list[_Condition]) -> dict[str, int]:
        # Faceted counts leave out the facet's own filter, so choosing one value keeps its siblings.
        others = [condition for condition in conditions if condition.field != facet]
        where, parameters = _where(others)
        if facet == "labels":
            rows = self._connection.execute(
                f"SELECT d.labels, COUNT(*) FROM datasets d {where} "
                f"{'AND' if where else 'WHERE'} d.labels IS NOT NULL GROUP BY d.labels", parameters)
            return {"true" if value else "false": count for value, count in rows}
        selected = f"AND f.dataset_id IN (SELECT d.id FROM datasets d {where})" if where else ""
        rows = self._connection.execute(
            f"SELECT f.value, COUNT(*) FROM dataset_facets f WHERE f.field = ? {selected} "
            "GROUP BY f.value ORDER BY f.value", [facet, *parameters])
        return dict(rows.fetchall())


class _Transaction:
    """BEGIN ... COMMIT on a connection in autocommit mode, rolled back when the block raises."""

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection

    def __enter__(self):
        self.connection.execute("BEGIN")

    def __exit__(self, kind, error, traceback):
        self.connection.execute("ROLLBACK" if kind else "COMMIT")
        return False


# Values of a dataset, as both the store and a Record give them

def record_values(record: Record) -> dict[str, list[Any]]:
    """Return the indexed values of a record by field name, every value in a list."""
    values: dict[str, list[Any]] = {}
    for record_field in FIELDS:
        value = getattr(record, record_field.name)
        if record_field.name == "authors":
            value = [author.name for author in value]
        if value is None or value == []:
            continue
        # Sorted like the values read from the store, so both ways of indexing write equal rows.
        values[record_field.name] = sorted(value) if isinstance(value, list) else [value]
    return values


def read_store_values(catalog) -> dict[str, dict[str, list[Any]]]:
    """Read the indexed values of every dataset in the store, by dataset name, one query per field.

    Like the catalog's other queries, this reads only each dataset's curated graph.
    """
    datasets: dict[str, dict[str, list[Any]]] = {
        name: {"name": [name]} for name in catalog.names()}
    for record_field in FIELDS:
        if record_field.name in {"name", "contact", "link", "publication"}:
            continue
        path = PATHS.get(record_field.name, f"<{record_field.predicate}>")
        rows = catalog.store.select(sparql_prologue() + f"""
            SELECT ?name ?value WHERE {{ GRAPH ?dataset {{
              ?dataset a dcat:Dataset ; dcterms:identifier ?name ; {path} ?value
            }} }}""")
        for row in rows:
            values = datasets.get(str(row["name"]))
            value = _from_term(record_field, row["value"], catalog.vocabulary)
            if values is not None and value is not None:
                values.setdefault(record_field.name, []).append(value)
    for values in datasets.values():
        for name, items in values.items():
            if FIELDS_BY_NAME[name].many:
                items.sort()
    return datasets


def _from_term(record_field: Field, term, vocabulary: Vocabulary) -> Any:
    if record_field.kind == "concept":
        concept = vocabulary.concepts_by_iri.get(str(term))
        return canonical_value(record_field, concept) if concept is not None else None
    text = str(term)
    if record_field.kind == "year":
        return int(text[:4])
    if record_field.kind == "integer":
        return int(text)
    if record_field.kind == "decimal":
        return float(text)
    if record_field.kind == "boolean":
        return text in {"true", "1"}
    return text


def canonical_value(concept_field: Field, concept: Concept) -> str:
    """Return the form a Record stores a concept in: its notation or its label."""
    if concept_field.canonical == "notation" and concept.notation:
        return concept.notation
    return concept.label


def expand_values(concept_field: Field, values: Iterable[str], vocabulary: Vocabulary) -> set[str]:
    """Return the canonical values that a filter on `values` matches, as find_datasets expands them.

    A group matches every concept below it, and "Male" or "Female" also match "Female and male".
    An unknown value matches nothing.
    """
    iris: set[str] = set()
    for value in values:
        concept = vocabulary.concept(concept_field.scheme, value)
        if concept is None:
            continue
        iris |= vocabulary.narrower_closure(concept.iri)
        if concept_field.name == "sex":
            both = vocabulary.concept("sex", "Female and male")
            if both is not None:
                iris.add(both.iri)
    concepts = (vocabulary.concepts_by_iri.get(iri) for iri in iris)
    return {canonical_value(concept_field, concept) for concept in concepts if concept is not None}


# Query to SQL

def build_conditions(query: Query, vocabulary: Vocabulary) -> list[_Condition]:
    """Translate a Query into SQL conditions on `datasets d`, one per filtered field and for the text."""
    conditions = [_value_condition(FIELDS_BY_NAME[name], values, vocabulary)
                  for name, values in sorted(query.values.items())]
    conditions += [_range_condition(FIELDS_BY_NAME[name], low, high)
                   for name, (low, high) in sorted(query.ranges.items())]
    if query.text:
        conditions.append(_text_condition(query.text))
    return conditions


def _value_condition(record_field: Field, values: list[str], vocabulary: Vocabulary) -> _Condition:
    name = record_field.name
    if record_field.kind == "concept":
        expanded = sorted(expand_values(record_field, values, vocabulary))
        return _Condition(name, "d.id IN (SELECT dataset_id FROM dataset_values WHERE field = ? "
                                f"AND value IN ({_marks(expanded)}))", [name, *expanded])
    if record_field.kind == "boolean":
        truth = sorted({int(value.casefold() in {"true", "yes", "1"}) for value in values})
        return _Condition(name, f"d.labels IN ({_marks(truth)})", truth)
    if record_field.kind in {"integer", "decimal", "year"}:
        numbers = [float(value) for value in values]
        return _Condition(name, f"d.{name} IN ({_marks(numbers)})", numbers)
    folded = [_casefold(value) for value in values]
    if name in LISTED_TEXT_FIELDS:
        tests = " OR ".join("instr(casefold(value), ?) > 0" for _ in folded)
        return _Condition(name, "d.id IN (SELECT dataset_id FROM dataset_values WHERE field = ? "
                                f"AND ({tests}))", [name, *folded])
    if name in TEXT_MATCH_FIELDS:
        # The FTS5 table keeps these columns case-folded already.
        tests = " OR ".join(f"instr({name}, ?) > 0" for _ in folded)
        return _Condition(name, f"d.id IN (SELECT rowid FROM dataset_text WHERE {tests})", folded)
    # The remaining text fields (doi, version) match whole values, ignoring case.
    return _Condition(name, f"casefold(d.{name}) IN ({_marks(folded)})", folded)


def _range_condition(record_field: Field, low: float | None, high: float | None) -> _Condition:
    if record_field not in RANGED_FIELDS:
        raise ValueError(f"{record_field.name} cannot be filtered by a range")
    column = f"d.{record_field.name}"
    if low is not None and high is not None:
        return _Condition(record_field.name, f"{column} BETWEEN ? AND ?", [low, high])
    if low is not None:
        return _Condition(record_field.name, f"{column} >= ?", [low])
    if high is not None:
        return _Condition(record_field.name, f"{column} <= ?", [high])
    return _Condition(record_field.name, f"{column} IS NOT NULL", [])


def _text_condition(text: str) -> _Condition:
    """Match every word of `text` as a substring of the dataset's text, as find_datasets does."""
    # NOTE: the count, the page and every facet query repeat this MATCH. Storing the matched ids
    # once per search in a temporary table would make text searches with facets cheaper.
    words = [_casefold(word) for word in text.split()][:MAX_TEXT_WORDS]
    tests, parameters = [], []
    long_words = _long_words(text)
    if long_words:
        tests.append("dataset_text MATCH ?")
        parameters.append(_match_expression(long_words))
    # Words shorter than a trigram need a scan of the stored text.
    everything = " || char(10) || ".join(TEXT_COLUMNS)
    for word in words:
        if len(word) < TRIGRAM:
            tests.append(f"instr({everything}, ?) > 0")
            parameters.append(word)
    return _Condition(None, f"d.id IN (SELECT rowid FROM dataset_text WHERE {' AND '.join(tests)})",
                      parameters)


def _long_words(text: str) -> list[str]:
    words = [_casefold(word) for word in text.split()][:MAX_TEXT_WORDS]
    return [word for word in words if len(word) >= TRIGRAM]


def _match_expression(words: list[str]) -> str:
    """Return an FTS5 query that requires every word; each word is a quoted string, never syntax."""
    return " AND ".join('"' + word.replace('"', '""') + '"' for word in words)


def _order_by(sort: str, *, has_ranked_text: bool) -> str:
    descending = sort.startswith("-")
    key = sort.removeprefix("-")
    if key not in SORTS:
        choices = ", ".join(SORTS)
        raise ValueError(f"invalid sort '{sort}'; use one of {choices}, with a leading '-' for descending order")
    direction = "DESC" if descending else "ASC"
    if key == "relevance":
        # bm25() is lower for better matches, so ascending order puts the best match first.
        first = f"bm25(dataset_text) {'DESC' if descending else 'ASC'}" if has_ranked_text else f"d.name_key {direction}"
        return f"{first}, d.name_key, d.name"
    if key == "name":
        return f"d.name_key {direction}, d.name {direction}"
    return f"d.{key} IS NULL, d.{key} {direction}, d.name_key, d.name"


def _where(conditions: list[_Condition]) -> tuple[str, list[Any]]:
    if not conditions:
        return "", []
    sql = "WHERE " + " AND ".join(f"({condition.sql})" for condition in conditions)
    parameters = [parameter for condition in conditions for parameter in condition.parameters]
    return sql, parameters


def _marks(values: list[Any]) -> str:
    return ", ".join("?" for _ in values) or "NULL"


def _first(values: list[Any] | None) -> Any:
    if not values:
        return None
    value = values[0]
    return int(value) if isinstance(value, bool) else value


def _sort_key(name: str) -> str:
    # find_datasets orders by LCASE(STR(?name)), which is lower-casing, not case folding.
    return name.lower()


def _casefold(value: str | None) -> str | None:
    return value.casefold() if isinstance(value, str) else value
