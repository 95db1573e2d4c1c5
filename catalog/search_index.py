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
- `meta(key, value)`: the schema version and the store revision and base URL the index reflects.
- `concept_closure(field, ancestor, descendant)`: each concept with the concepts it includes
  (muscle groups and their muscles), so facet counts of a group cover the muscles inside it.
- `dataset_facets(dataset_id, field, value)`: `dataset_values` joined with `concept_closure`,
  once per dataset and value, so a facet count is a plain COUNT(*) per value.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from .fields import CONCEPT_FIELDS, FIELDS, FIELDS_BY_NAME, RANGED_FIELDS, Field
from .namespaces import sparql_prologue
from .record import Record
from .search import PATHS, TEXT_MATCH_FIELDS, Query
from .search_bitmaps import AGE_BIN, MATCH_ONLY, SHUFFLED, Bitmaps, ChartBitmaps, take
from .vocabulary import Concept, Vocabulary, default_vocabulary

# Columns of `datasets` besides `id`, `name` and `name_key`, by field name.
NUMBER_COLUMNS = ("year", "sample_size", "image_count", "video_count", "age", "height", "body_mass",
                  "scanning_frequency", "sampling_rate")
SINGLE_CONCEPT_COLUMNS = ("data_type", "sex", "license")
COLUMNS = ("title", *NUMBER_COLUMNS, *SINGLE_CONCEPT_COLUMNS, "labels", "doi", "version", "link", "revision")
# The values a result row shows, kept as JSON so a page of results needs no store query.
SUMMARY_FIELDS = ("name", "title", "year", "data_type", "muscle", "device", "sample_size", "image_count",
                  "video_count", "age", "labels", "license", "doi", "link")
# Bump when SCHEMA changes: an index file with another version is rebuilt.
SCHEMA_VERSION = "3"

# Many-valued text fields kept in `dataset_values` next to the concept values.
LISTED_TEXT_FIELDS = ("authors", "keywords", "transducer")

# Columns of the FTS5 table: the parts of a record that the free-text filter of find_datasets reads.
TEXT_COLUMNS = ("name", "title", "description", "authors", "label_description", "keywords", "doi")
# bm25 weights of those columns: a word in a name, DOI, title or keywords is a stronger sign of
# what a dataset is about than the same word in its description.
TEXT_WEIGHTS = (5.0, 4.0, 1.0, 2.0, 1.0, 3.0, 5.0)

FACET_FIELDS = (*(field.name for field in CONCEPT_FIELDS), "labels")
SORTS = ("relevance", "year", "sample_size", "image_count", "video_count", "age", "name")
MAX_PAGE_SIZE = 1000
# How many devices the device chart shows.
TOP_DEVICES = 15
# find_datasets reads at most the first 10 words of the text.
MAX_TEXT_WORDS = 10
# About 2 GB, the default of SQLite's compile-time bound SQLITE_MAX_MMAP_SIZE. SQLite maps at
# most the file's size.
MEMORY_MAP_BYTES = 0x7FFF0000

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
    doi TEXT, version TEXT, link TEXT, revision TEXT,
    summary TEXT NOT NULL
);
CREATE INDEX datasets_name_key ON datasets (name_key);
CREATE INDEX datasets_year ON datasets (year);
CREATE INDEX datasets_sample_size ON datasets (sample_size);
CREATE INDEX datasets_image_count ON datasets (image_count);
CREATE INDEX datasets_video_count ON datasets (video_count);
CREATE INDEX datasets_age ON datasets (age);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
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
    # The values a result list shows for each dataset on the page (SUMMARY_FIELDS), in page order.
    rows: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Condition:
    """A condition on datasets; `field` is the facet it belongs to.

    A filter on a facet field gives its `chosen` values in facet form, evaluated on the bitmaps in
    memory. Other filters give `sql`, a condition on the `datasets` row aliased `d`, with its
    `parameters`; the free-text condition also gives its `text`.
    """

    field: str | None
    sql: str = ""
    parameters: list[Any] = field(default_factory=list)
    chosen: list[str] | None = None
    text: str | None = None


class SearchIndex:
    """The SQLite search index; `path` is a file, or ":memory:" for an index in this process only.

    One connection is shared by all threads and every call holds a lock, so calls run one at a time.
    """

    def __init__(self, path: str | Path = ":memory:"):
        self.path = str(path)
        self._connection = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._connection.execute("PRAGMA foreign_keys = ON")
        # Reading the file through a memory map spares SQLite a copy of every page it reads. A text
        # search over tens of thousands of matches ran about a tenth faster at 100,000 datasets.
        self._connection.execute(f"PRAGMA mmap_size = {MEMORY_MAP_BYTES}")
        self._connection.create_function("casefold", 1, _casefold, deterministic=True)
        self._lock = threading.Lock()
        self._closure_vocabulary: Vocabulary | None = None
        # The bitmaps of the index as it is now; every write sets this to None.
        self._bitmaps: Bitmaps | None = None
        with self._lock:
            if self._meta("schema") != SCHEMA_VERSION:
                self._create_schema()

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def _create_schema(self) -> None:
        """Create the tables, dropping those of an index file written with another schema."""
        rows = self._connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql NOT LIKE 'CREATE VIRTUAL%' "
            "AND name NOT LIKE 'dataset_text_%'").fetchall()
        with self._transaction():
            self._connection.execute("DROP TABLE IF EXISTS dataset_text")
            for (table,) in rows:
                self._connection.execute(f'DROP TABLE IF EXISTS "{table}"')
        self._connection.executescript(SCHEMA)
        self._connection.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))

    def _meta(self, key: str) -> str | None:
        try:
            row = self._connection.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        except sqlite3.OperationalError:
            # No meta table: a new file, or one written before the index had a schema version.
            return None
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self._connection.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @property
    def revision(self) -> str | None:
        """The store revision the index reflects, or None when it was never synchronised."""
        with self._lock:
            return self._meta("revision")

    # Writing

    def sync(self, catalog) -> str:
        """Bring the index up to date with the store; returns what was done, for the log.

        Nothing happens when the index already reflects the store's revision. An index of another
        base URL, or an empty one, is rebuilt. Otherwise only the datasets whose revision differs
        from the indexed one are read again, and removed datasets are dropped.
        """
        revision = catalog.revision()
        with self._lock:
            same_base = self._meta("base_url") == catalog.base_url
            if same_base and revision is not None and self._meta("revision") == revision:
                return "up to date"
            indexed = dict(self._connection.execute("SELECT name, revision FROM datasets"))
        if not same_base or not indexed:
            count = self.rebuild(catalog, revision)
            return f"rebuilt with {count} datasets"
        stored = catalog.dataset_revisions()
        changed = [name for name, revision in stored.items() if indexed.get(name) != revision]
        removed = [name for name in indexed if name not in stored]
        if len(changed) > max(100, len(stored) // 10):
            count = self.rebuild(catalog, revision)
            return f"rebuilt with {count} datasets"
        records = [(catalog.record(name), stored[name]) for name in changed]
        vocabulary = catalog.vocabulary
        with self._lock, self._transaction():
            for name in removed:
                self._delete(name)
            for record, dataset_revision in records:
                if record is not None:
                    self._upsert(record, vocabulary, dataset_revision)
            self._set_revision(catalog, revision)
        return f"updated {len(changed)} and removed {len(removed)} datasets"

    def rebuild(self, catalog, revision: str | None = None) -> int:
        """Replace the whole index with the datasets of `catalog`; returns how many were indexed.

        Reads the store with one SPARQL query per field instead of one `catalog.record` per
        dataset, which is much faster for large catalogs and yields the same values.
        `revision` is the store revision read before the store was, which the index then reflects.
        """
        if revision is None:
            revision = catalog.revision()
        datasets = read_store_values(catalog)
        with self._lock, self._transaction():
            for table in ("dataset_facets", "dataset_values", "dataset_text", "datasets", "concept_closure"):
                self._connection.execute(f"DELETE FROM {table}")
            self._insert(datasets.values())
            self._write_closure(catalog.vocabulary, force=True)
            self._write_facets()
            self._set_revision(catalog, revision)
        return len(datasets)

    def warm(self, vocabulary: Vocabulary) -> None:
        """Build what the first search and the first explore page would otherwise wait for."""
        self.search(Query(), vocabulary, sort="name")
        self.aggregates(Query(), vocabulary)

    def record_written(self, catalog, records: list[Record], before: str | None, after: str) -> None:
        """Index records the catalog has just written, with the store revisions before and after.

        When the index reflected the revision before the write, it reflects the one after it.
        Otherwise another writer came first, so the index stays behind until the next `sync`.
        """
        with self._lock, self._transaction():
            for record in records:
                self._upsert(record, catalog.vocabulary, after)
            if before is not None and self._meta("revision") == before:
                self._set_revision(catalog, after)

    def record_removed(self, names: list[str], before: str | None, after: str) -> None:
        """Drop datasets the catalog has just removed; the revisions work as in `record_written`."""
        with self._lock, self._transaction():
            for name in names:
                self._delete(name)
            if before is not None and self._meta("revision") == before:
                self._set_meta("revision", after)

    def upsert(self, record: Record, vocabulary: Vocabulary | None = None, revision: str | None = None) -> None:
        """Index one record, replacing the row of a dataset with the same name.

        `vocabulary` defaults to the one of the last rebuild or search, else the bundled one.
        """
        with self._lock, self._transaction():
            self._upsert(record, vocabulary, revision)

    def _upsert(self, record: Record, vocabulary: Vocabulary | None, revision: str | None) -> None:
        vocabulary = vocabulary or self._closure_vocabulary or default_vocabulary()
        self._delete(record.name)
        values = record_values(record)
        if revision is not None:
            values["revision"] = [revision]
        dataset_id = self._insert([values])[0]
        if self._closure_vocabulary is not vocabulary and self._write_closure(vocabulary):
            self._write_facets()
        else:
            self._write_facets(dataset_id)

    def _set_revision(self, catalog, revision: str | None) -> None:
        self._set_meta("base_url", catalog.base_url)
        if revision is None:
            self._connection.execute("DELETE FROM meta WHERE key = 'revision'")
        else:
            self._set_meta("revision", revision)

    def delete(self, name: str) -> bool:
        """Remove a dataset from the index; returns False when it was not indexed."""
        with self._lock, self._transaction():
            return self._delete(name)

    def totals(self) -> tuple[int, int, int, int]:
        """Return the number of datasets and the sums of their images, videos and participants."""
        with self._lock:
            return tuple(self._connection.execute(
                "SELECT COUNT(*), COALESCE(SUM(image_count), 0), COALESCE(SUM(video_count), 0), "
                "COALESCE(SUM(sample_size), 0) FROM datasets").fetchone())

    def newest(self, count: int) -> list[dict]:
        """Return the result rows of the `count` datasets published last, by year, then by name."""
        with self._lock:
            rows = self._connection.execute(
                "SELECT summary FROM datasets ORDER BY year IS NULL, year DESC, name_key, name LIMIT ?", (count,))
            return [json.loads(summary) for (summary,) in rows]

    def summaries(self, names: list[str]) -> dict[str, dict]:
        """Return the result rows of the named datasets that are indexed, by name."""
        found: dict[str, dict] = {}
        with self._lock:
            for start in range(0, len(names), 500):
                chunk = names[start:start + 500]
                rows = self._connection.execute(
                    f"SELECT name, summary FROM datasets WHERE name IN ({_marks(chunk)})", chunk)
                found.update((name, json.loads(summary)) for name, summary in rows)
        return found

    def names(self) -> list[str]:
        with self._lock:
            rows = self._connection.execute("SELECT name FROM datasets ORDER BY name_key, name")
            return [name for (name,) in rows]

    def _transaction(self):
        return _Transaction(self._connection)

    def _delete(self, name: str) -> bool:
        self._bitmaps = None
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
        self._bitmaps = None
        connection = self._connection
        columns = ("name", "name_key", *COLUMNS, "summary")
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
            row.append(json.dumps(_summary(values), ensure_ascii=False))
            dataset_id = connection.execute(insert_row, row).lastrowid
            dataset_ids.append(dataset_id)
            for field_name in (*(concept_field.name for concept_field in CONCEPT_FIELDS), *LISTED_TEXT_FIELDS):
                value_rows += [(dataset_id, field_name, value) for value in dict.fromkeys(values.get(field_name, []))]
            text_rows.append((dataset_id, *(_casefold("\n".join(values.get(column, [])))
                                            for column in TEXT_COLUMNS)))
        connection.executemany("INSERT INTO dataset_values VALUES (?, ?, ?)", value_rows)
        connection.executemany(insert_text, text_rows)
        return dataset_ids

    def _write_closure(self, vocabulary: Vocabulary, force: bool = False) -> bool:
        """Write the concept closure of `vocabulary`; returns False when the stored one was equal.

        The closure's digest is kept in `meta`, so an index file opened again with the same
        vocabulary needs no rewrite of its facets.
        """
        rows = set()
        for concept_field in CONCEPT_FIELDS:
            for concept in vocabulary.concepts(concept_field.scheme):
                ancestor = canonical_value(concept_field, concept)
                rows |= {(concept_field.name, ancestor, descendant)
                         for descendant in expand_values(concept_field, [concept.label], vocabulary)}
        ordered = sorted(rows)
        digest = hashlib.sha256(json.dumps(ordered).encode()).hexdigest()
        self._closure_vocabulary = vocabulary
        if not force and self._meta("closure") == digest:
            return False
        self._connection.execute("DELETE FROM concept_closure")
        self._connection.executemany("INSERT INTO concept_closure VALUES (?, ?, ?)", ordered)
        self._set_meta("closure", digest)
        return True

    def _write_facets(self, dataset_id: int | None = None) -> None:
        """Fill dataset_facets from the closure, for one dataset or, by default, for all."""
        self._bitmaps = None
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
               page_size: int = 20, facets: bool = True) -> SearchResult:
        """Return one page of the datasets that match `query`, with facet counts unless `facets` is False.

        Matches what `catalog.search.find_datasets` returns for the same query. `sort` is one of
        SORTS, with a leading "-" for descending order; ties are broken by name.
        """
        if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"invalid page {page} of size {page_size}: the page starts at 1 and "
                             f"the page size must be between 1 and {MAX_PAGE_SIZE}")
        with self._lock:
            total, rows, counts = self._select(query, vocabulary, sort, page_size, (page - 1) * page_size, facets)
        return SearchResult(total, [row["name"] for row in rows], counts, rows)

    def matching(self, query: Query, vocabulary: Vocabulary, *, sort: str = "name",
                 limit: int | None = None) -> list[dict[str, Any]]:
        """Return the result rows of every dataset that matches, or of the first `limit` of them."""
        with self._lock:
            return self._select(query, vocabulary, sort, limit, 0, False)[1]

    def _select(self, query: Query, vocabulary: Vocabulary, sort: str, limit: int | None, offset: int,
                facets: bool) -> tuple[int, list[dict], dict[str, dict[str, int]]]:
        """Return the number of matches, the rows of `limit` of them (all for None) from `offset`
        in `sort` order, and the facet counts when `facets` is true."""
        relevance = sort.removeprefix("-") == "relevance" and bool(_long_words(query.text))
        order = _order_by(sort)
        bitmaps, masks, selection, ranked = self._selection(
            query, vocabulary, ranked=relevance, descending=sort.startswith("-"))
        counts = {}
        if facets:
            for facet in FACET_FIELDS:
                # A facet's counts leave out its own filter, so choosing one value keeps its siblings.
                others = bitmaps.everything
                for facet_field, mask in masks:
                    if facet_field != facet:
                        others &= mask
                values = bitmaps.facets.get(facet, {})
                counted = {value: (bitmap & others).bit_count() for value, bitmap in sorted(values.items())}
                counts[facet] = {value: count for value, count in counted.items() if count}
        ids = take(ranked if relevance else bitmaps.order(order), selection, bitmaps.bytes, offset, limit)
        return selection.bit_count(), self._rows(ids), counts

    def _selection(self, query: Query, vocabulary: Vocabulary, *, ranked: bool = False, descending: bool = False):
        """Return the bitmaps, each condition's (field, bitmap), the matching datasets' bitmap and,
        when `ranked`, the datasets that match the text in order of relevance (worst first when
        `descending`)."""
        self._use_vocabulary(vocabulary)
        if self._bitmaps is None:
            self._bitmaps = Bitmaps(self._connection)
        bitmaps = self._bitmaps
        ranking: list[int] = []
        masks = []
        for condition in build_conditions(query, vocabulary):
            if condition.text is not None:
                mask, ranking = bitmaps.text(condition.text, condition.sql, condition.parameters,
                                             match=_match_expression(_long_words(condition.text)),
                                             weights=TEXT_WEIGHTS,
                                             ranked=ranked, descending=descending, by_name=_order_by("name"))
            elif condition.chosen is not None:
                mask = 0
                for value in condition.chosen:
                    mask |= bitmaps.facets.get(condition.field, {}).get(value, 0)
            else:
                mask = bitmaps.from_ids(id_ for (id_,) in self._connection.execute(
                    f"SELECT d.id FROM datasets d WHERE {condition.sql}", condition.parameters))
            masks.append((condition.field, mask))
        selection = bitmaps.everything
        for _, mask in masks:
            selection &= mask
        return bitmaps, masks, selection, ranking

    def _rows(self, ids: list[int]) -> list[dict]:
        """Return the summaries of datasets by id, in the order of `ids`."""
        summaries: dict[int, str] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            summaries.update(self._connection.execute(
                f"SELECT id, summary FROM datasets WHERE id IN ({_marks(chunk)})", chunk))
        return [json.loads(summaries[id_]) for id_ in ids]

    def aggregates(self, query: Query, vocabulary: Vocabulary, *, points: int = 2000) -> dict[str, Any]:
        """Summaries of the matching datasets for charts: per muscle, age, data type, year, device.

        `sample_vs_images` contains at most `points` datasets, a fixed pseudo-random pick when more match.
        """
        with self._lock:
            bitmaps, _masks, selection, _ranked = self._selection(query, vocabulary)
            if bitmaps.charts is None:
                bitmaps.charts = ChartBitmaps(self._connection, bitmaps)
            charts = bitmaps.charts
            types = charts.data_types
            per_muscle = []
            for muscle, muscle_bitmap in sorted(charts.direct["muscle"].items()):
                within = muscle_bitmap & selection
                for data_type, type_bitmap in types.items():
                    both = within & type_bitmap
                    if both:
                        per_muscle.append({"muscle": muscle, "data_type": data_type, "datasets": both.bit_count(),
                                           "images": charts.image_sum(both)})
            ages = [{"from": low, "to": low + AGE_BIN, "datasets": (bitmap & selection).bit_count()}
                    for low, bitmap in sorted(charts.ages.items()) if bitmap & selection]
            data_types = sorted(({"data_type": data_type, "datasets": (bitmap & selection).bit_count(),
                                  "images": charts.image_sum(bitmap & selection)}
                                 for data_type, bitmap in types.items() if bitmap & selection),
                                key=lambda row: (-row["datasets"], row["data_type"]))
            years = [{"year": year, "datasets": (bitmap & selection).bit_count()}
                     for year, bitmap in sorted(charts.years.items()) if bitmap & selection]
            devices = sorted(({"device": device, "datasets": (bitmap & selection).bit_count()}
                              for device, bitmap in charts.direct["device"].items() if bitmap & selection),
                             key=lambda row: (-row["datasets"], row["device"]))[:TOP_DEVICES]
            picked = take(bitmaps.order(SHUFFLED), selection & charts.plotted, bitmaps.bytes, 0, points)
            scatter = []
            if picked:
                rows = {id_: row for id_, *row in self._connection.execute(
                    "SELECT id, name, sample_size, image_count, data_type FROM datasets "
                    "WHERE id IN (SELECT value FROM json_each(?))", [json.dumps(picked)])}
                scatter = [{"name": rows[id_][0], "sample_size": rows[id_][1], "image_count": rows[id_][2],
                            "data_type": rows[id_][3] or "unknown"} for id_ in picked]
        return {"total": selection.bit_count(), "per_muscle": per_muscle, "ages": ages, "data_types": data_types,
                "years": years, "devices": devices, "sample_vs_images": scatter}

    def _use_vocabulary(self, vocabulary: Vocabulary) -> None:
        """Rewrite the concept closure and the facets when the vocabulary's closure differs."""
        if self._closure_vocabulary is not vocabulary:
            with self._transaction():
                if self._write_closure(vocabulary):
                    self._write_facets()


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
        if record_field.name in {"name", "contact", "publication"}:
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
    for name, revision in catalog.dataset_revisions().items():
        if name in datasets:
            datasets[name]["revision"] = [revision]
    for values in datasets.values():
        for name, items in values.items():
            if name in FIELDS_BY_NAME and FIELDS_BY_NAME[name].many:
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
    """Translate a Query into conditions, one per filtered field and one for the text."""
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
        # The facet of a concept counts every dataset below it (dataset_facets), so the chosen
        # values themselves select the datasets that expand_values describes.
        concepts = (vocabulary.concept(record_field.scheme, value) for value in values)
        chosen = sorted({canonical_value(record_field, concept) for concept in concepts if concept is not None})
        return _Condition(name, chosen=chosen)
    if record_field.kind == "boolean":
        truth = {value.casefold() in {"true", "yes", "1"} for value in values}
        return _Condition(name, chosen=sorted("true" if value else "false" for value in truth))
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
    if tests == ["dataset_text MATCH ?"]:
        return _Condition(None, MATCH_ONLY, parameters, text=" ".join(words))
    return _Condition(None, f"d.id IN (SELECT rowid FROM dataset_text WHERE {' AND '.join(tests)})",
                      parameters, text=" ".join(words))


def _long_words(text: str) -> list[str]:
    words = [_casefold(word) for word in text.split()][:MAX_TEXT_WORDS]
    return [word for word in words if len(word) >= TRIGRAM]


def _match_expression(words: list[str]) -> str:
    """Return an FTS5 query that requires every word; each word is a quoted string, never syntax."""
    return " AND ".join('"' + word.replace('"', '""') + '"' for word in words)


def _order_by(sort: str) -> str:
    """Return the SQL order of `datasets d` for a sort key; relevance without a text is by name.

    Relevance with a text is bm25, which `Bitmaps.text` ranks with ties in the order by name.
    """
    descending = sort.startswith("-")
    key = sort.removeprefix("-")
    if key not in SORTS:
        choices = ", ".join(SORTS)
        raise ValueError(f"invalid sort '{sort}'; use one of {choices}, with a leading '-' for descending order")
    direction = "DESC" if descending else "ASC"
    if key in ("relevance", "name"):
        return f"d.name_key {direction}, d.name {direction}"
    return f"d.{key} IS NULL, d.{key} {direction}, d.name_key, d.name"


def _marks(values: list[Any]) -> str:
    return ", ".join("?" for _ in values) or "NULL"


def _summary(values: dict[str, list[Any]]) -> dict[str, Any]:
    summary = {}
    for name in SUMMARY_FIELDS:
        items = values.get(name, [])
        summary[name] = list(items) if name in FIELDS_BY_NAME and FIELDS_BY_NAME[name].many else (
            items[0] if items else None)
    return summary


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
