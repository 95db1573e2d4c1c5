"""The SQLite search index against the reference SPARQL search on the seeded catalog."""

from __future__ import annotations

import sqlite3

import pytest

from catalog.fields import RANGED_FIELDS
from catalog.search import find_datasets, parse_query
from catalog.search_index import FACET_FIELDS, TEXT_WEIGHTS, SearchIndex, canonical_value
from catalog.fields import FIELDS_BY_NAME

# Each case is a list of query parameters, as the /datasets page receives them.
QUERIES = [
    [],
    [("muscle", "Soleus")],
    [("muscle", "Soleus"), ("muscle", "Biceps Brachii")],
    [("muscle", "Gastrocnemius Medialis"), ("data_type", "Video")],
    [("muscle", "Triceps surae")],
    [("muscle", "Thigh muscles"), ("sex", "Male")],
    [("sex", "Female")],
    [("device", "Aixplorer Ultimate")],
    [("device", "Esaote")],
    [("device", "Telemed"), ("device", "Esaote MyLab 60")],
    [("file_format", "tiff")],
    [("license", "CC-BY-4.0")],
    [("plane", "Transverse"), ("image_type", "Static")],
    [("labels", "true")],
    [("labels", "false")],
    [("labels", "true"), ("data_type", "Image")],
    [("q", "segmentation")],
    [("q", "ACSA")],
    [("q", "fascicle video")],
    [("q", "ul panoramic")],
    [("q", 'muscle" OR NEAR(* -')],
    [("q", "no-such-word-anywhere")],
    [("year", "2024")],
    [("authors", "ritsche")],
    [("keywords", "segmentation")],
    [("description", "panoramic")],
    [("muscle", "Soleus"), ("data_type", "Volume"), ("year_min", "2023")],
    [("muscle", "Lumbar Multifidus"), ("data_type", "Video")],
]

# A lower bound, an upper bound and both, for every field that filters by a range.
RANGE_CASES = {
    "year": ("2020", "2023"),
    "sample_size": ("20", "100"),
    "image_count": ("500", "5000"),
    "video_count": ("10", "100"),
    "age": ("25", "40"),
    "height": ("170", "180"),
    "body_mass": ("65", "80"),
    "scanning_frequency": ("8", "12"),
    "sampling_rate": ("30", "100"),
}
for _name, (_low, _high) in RANGE_CASES.items():
    QUERIES += [[(f"{_name}_min", _low)], [(f"{_name}_max", _high)],
                [(f"{_name}_min", _low), (f"{_name}_max", _high)]]


@pytest.fixture(scope="module")
def index(catalog):
    index = SearchIndex()
    assert index.rebuild(catalog) == len(catalog.names())
    yield index
    index.close()


def _label(parameters) -> str:
    return "&".join(f"{name}={value}" for name, value in parameters) or "all"


def _facet_parameters(parameters, facet, value):
    """Return the parameters with the facet's own values replaced by one value."""
    return [(name, item) for name, item in parameters if name != facet] + [(facet, value)]


def test_range_cases_cover_ranged_fields():
    assert set(RANGE_CASES) == {field.name for field in RANGED_FIELDS}


@pytest.mark.parametrize("parameters", QUERIES, ids=[_label(case) for case in QUERIES])
def test_search_matches_find_datasets(index, catalog, parameters):
    query = parse_query(parameters, catalog)
    expected = find_datasets(query, catalog)

    result = index.search(query, catalog.vocabulary, sort="name", page_size=1000)

    assert result.names == expected
    assert result.total == len(expected)


@pytest.mark.parametrize("parameters", QUERIES[:14] + QUERIES[-12:],
                         ids=[_label(case) for case in QUERIES[:14] + QUERIES[-12:]])
def test_facet_counts_follow_other_filters(index, catalog, parameters):
    query = parse_query(parameters, catalog)
    facets = index.search(query, catalog.vocabulary).facets

    assert set(facets) == set(FACET_FIELDS)
    for facet, counts in facets.items():
        for value, count in counts.items():
            expected = find_datasets(parse_query(_facet_parameters(parameters, facet, value), catalog), catalog)
            assert count == len(expected), f"{facet}={value}"


@pytest.mark.parametrize("parameters", [[], [("muscle", "Triceps surae"), ("data_type", "Image")]],
                         ids=["all", "group-and-type"])
def test_facets_list_every_nonzero_value(index, catalog, parameters):
    query = parse_query(parameters, catalog)
    facets = index.search(query, catalog.vocabulary).facets

    for facet in FACET_FIELDS:
        if facet == "labels":
            values = ["true", "false"]
        else:
            field = FIELDS_BY_NAME[facet]
            values = [canonical_value(field, concept) for concept in catalog.vocabulary.concepts(field.scheme)]
        for value in values:
            expected = find_datasets(parse_query(_facet_parameters(parameters, facet, value), catalog), catalog)
            assert facets[facet].get(value, 0) == len(expected), f"{facet}={value}"


def test_group_facet_counts_datasets_once(index, catalog):
    facets = index.search(parse_query([], catalog), catalog.vocabulary).facets

    assert facets["muscle"]["Triceps surae"] == len(find_datasets(parse_query([("muscle", "Triceps surae")], catalog), catalog))
    assert facets["muscle"]["Triceps surae"] <= len(catalog.names())


def test_paging_slices_sorted_names(index, catalog):
    query = parse_query([], catalog)
    every = index.search(query, catalog.vocabulary, sort="name", page_size=1000).names

    second = index.search(query, catalog.vocabulary, sort="name", page=2, page_size=4)

    assert second.names == every[4:8]
    assert second.total == len(every)


def test_page_past_end_is_empty(index, catalog):
    result = index.search(parse_query([], catalog), catalog.vocabulary, page=100, page_size=20)

    assert result.names == []
    assert result.total == len(catalog.names())


@pytest.mark.parametrize("sort", ["year", "-year", "sample_size", "-sample_size", "image_count", "-image_count"])
def test_sort_by_number(index, catalog, sort):
    key = sort.removeprefix("-")
    records = {name: catalog.record(name) for name in catalog.names()}

    names = index.search(parse_query([], catalog), catalog.vocabulary, sort=sort, page_size=1000).names

    numbers = [getattr(records[name], key) for name in names]
    present = [number for number in numbers if number is not None]
    assert present == sorted(present, reverse=sort.startswith("-"))
    assert numbers[len(present):] == [None] * (len(numbers) - len(present)), "missing values sort last"


def test_sort_by_name_descending(index, catalog):
    names = index.search(parse_query([], catalog), catalog.vocabulary, sort="-name", page_size=1000).names

    assert names == list(reversed(find_datasets(parse_query([], catalog), catalog)))


def test_relevance_ranks_name_match_first(index, catalog):
    query = parse_query([("q", "DeepACSA")], catalog)

    names = index.search(query, catalog.vocabulary).names

    assert names[0] == "DeepACSA_2022"


@pytest.mark.parametrize("parameters", [
    [("q", "muscle")],
    [("q", "fascicle video")],
    [("q", "ultrasound"), ("data_type", "Image")],
    [("q", "ul muscle")],
])
@pytest.mark.parametrize("sort", ["relevance", "-relevance"])
def test_relevance_ties_follow_name(catalog, parameters, sort):
    """Copies of a record differ only in name, so their bm25 ties and their names decide."""
    index = SearchIndex()
    index.rebuild(catalog)
    records = [catalog.record(name) for name in catalog.names()]
    for number, record in enumerate(records[:4] * 3):
        index.upsert(record.model_copy(update={"name": f"Copy{(7 * number) % 12:02d}_{record.year}"}))
    query = parse_query(parameters, catalog)
    words = [word for word in query.text.split() if len(word) >= 3]
    direction = "DESC" if sort.startswith("-") else "ASC"
    # SQLite orders by bm25 itself here; the index ranks in Python.
    expected = [name for (name,) in index._connection.execute(
        "SELECT d.name FROM datasets d JOIN dataset_text ON dataset_text.rowid = d.id "
        f"WHERE dataset_text MATCH ? ORDER BY bm25(dataset_text, {', '.join(map(str, TEXT_WEIGHTS))}) "
        f"{direction}, d.name_key, d.name",
        [" AND ".join(f'"{word}"' for word in words)])]
    matching = {row["name"] for row in index.matching(query, catalog.vocabulary)}

    names = index.search(query, catalog.vocabulary, sort=sort, page_size=100).names

    assert names == [name for name in expected if name in matching]
    assert sum(name.startswith("Copy") for name in names) >= 3, "copies of equal rank match"
    index.close()


def test_relevance_without_text_sorts_by_name(index, catalog):
    query = parse_query([("data_type", "Image")], catalog)

    names = index.search(query, catalog.vocabulary).names

    assert names == find_datasets(query, catalog)[:20]


@pytest.mark.parametrize("sort", ["size", "-", "relevance desc"])
def test_invalid_sort_rejected(index, catalog, sort):
    with pytest.raises(ValueError, match="invalid sort"):
        index.search(parse_query([], catalog), catalog.vocabulary, sort=sort)


@pytest.mark.parametrize("page, page_size", [(0, 20), (1, 0), (1, 5000)])
def test_invalid_page_rejected(index, catalog, page, page_size):
    with pytest.raises(ValueError, match="invalid page"):
        index.search(parse_query([], catalog), catalog.vocabulary, page=page, page_size=page_size)


def _dump(index: SearchIndex) -> dict[str, list[tuple]]:
    """Return the rows of every table by dataset name, so indexes built differently compare equal."""
    connection = index._connection
    names = dict(connection.execute("SELECT id, name FROM datasets"))
    rows = {
        "datasets": sorted(row[1:] for row in connection.execute("SELECT * FROM datasets")),
        "dataset_values": sorted((names[row[0]], *row[1:]) for row in connection.execute("SELECT * FROM dataset_values")),
        "dataset_text": sorted((names[row[0]], *row[1:])
                               for row in connection.execute("SELECT rowid, * FROM dataset_text")),
        "dataset_facets": sorted((names[row[0]], *row[1:]) for row in connection.execute("SELECT * FROM dataset_facets")),
    }
    return rows


def test_rebuild_equals_upsert_of_records(index, catalog):
    upserted = SearchIndex()
    revisions = catalog.dataset_revisions()
    for name in catalog.names():
        upserted.upsert(catalog.record(name), revision=revisions[name])

    assert _dump(upserted) == _dump(index)


def test_upsert_and_delete_keep_index_in_sync(catalog):
    index = SearchIndex()
    index.rebuild(catalog)
    query = parse_query([("muscle", "Soleus")], catalog)
    before = index.search(query, catalog.vocabulary, page_size=1000)
    name = before.names[0]
    record = catalog.record(name)

    assert index.delete(name) is True
    assert index.delete(name) is False
    after_delete = index.search(query, catalog.vocabulary, page_size=1000)
    assert name not in after_delete.names
    assert after_delete.total == before.total - 1
    assert after_delete.facets["muscle"]["Soleus"] == before.facets["muscle"]["Soleus"] - 1

    changed = record.model_copy(update={"muscle": ["Biceps Brachii"]})
    index.upsert(changed)
    assert name not in index.search(query, catalog.vocabulary, page_size=1000).names
    assert name in index.search(parse_query([("muscle", "Biceps Brachii")], catalog), catalog.vocabulary).names

    index.upsert(record)
    index.upsert(record)
    assert index.search(query, catalog.vocabulary, page_size=1000).names == before.names
    assert len(index.names()) == len(catalog.names())


def test_index_file_reopens(tmp_path, catalog):
    path = tmp_path / "search.sqlite"
    first = SearchIndex(path)
    first.rebuild(catalog)
    first.close()

    reopened = SearchIndex(path)

    assert reopened.names() == sorted(catalog.names(), key=str.lower)
    assert reopened.search(parse_query([("q", "ACSA")], catalog), catalog.vocabulary).names == ["DeepACSA_2022"]
    reopened.close()


def test_fts_table_uses_trigram(index):
    sql = index._connection.execute("SELECT sql FROM sqlite_master WHERE name = 'dataset_text'").fetchone()[0]

    assert "trigram" in sql
    assert sqlite3.sqlite_version_info >= (3, 34)


def test_bitmaps_follow_upserts_and_deletes(catalog):
    """An index changed record by record after searching returns what one built afresh returns."""
    changed = SearchIndex()
    changed.rebuild(catalog)
    queries = [parse_query(parameters, catalog) for parameters in QUERIES[:16]]
    for query in queries:
        changed.search(query, catalog.vocabulary)
    records = {name: catalog.record(name) for name in catalog.names()}
    changed.delete("DeepACSA_2022")
    changed.upsert(records["FALLMUD_2017"].model_copy(update={"muscle": ["Biceps Brachii"], "labels": False}))
    changed.upsert(records["DeepACSA_2022"].model_copy(update={"name": "DeepACSA2_2022", "data_type": "Video"}))

    fresh = SearchIndex()
    for name, record in records.items():
        if name == "DeepACSA_2022":
            record = record.model_copy(update={"name": "DeepACSA2_2022", "data_type": "Video"})
        if name == "FALLMUD_2017":
            record = record.model_copy(update={"muscle": ["Biceps Brachii"], "labels": False})
        fresh.upsert(record)
    for query in queries:
        for sort in ("name", "-year", "relevance"):
            got, expected = changed.search(query, catalog.vocabulary, sort=sort), fresh.search(query, catalog.vocabulary, sort=sort)
            assert (got.total, got.names, got.facets) == (expected.total, expected.names, expected.facets)
        got, expected = changed.aggregates(query, catalog.vocabulary), fresh.aggregates(query, catalog.vocabulary)
        # The scatter sample's order follows row ids, which differ between the two indexes.
        for charts in (got, expected):
            charts["sample_vs_images"].sort(key=lambda point: point["name"])
        assert got == expected
