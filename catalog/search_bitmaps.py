"""The search index in memory as bitmaps, for facet counts and chart data in microseconds.

A bitmap is a Python integer whose bit `id` is set for each dataset id of the SQLite index
(`catalog.search_index`). The index owns one `Bitmaps`, keeps it in step with its writes and
drops it when it rebuilds.
"""

from __future__ import annotations

import sqlite3
from collections import OrderedDict
from itertools import groupby
from typing import Any, Iterable

# Charts: the width of an age bin in years.
AGE_BIN = 10

# A fixed pseudo-random order of datasets (Knuth's multiplicative hash of the id), for samples.
SHUFFLED = "(d.id * 2654435761) % 4294967296, d.id"

# The condition of a text whose every word has three letters or more: its full-text match alone.
MATCH_ONLY = "d.id IN (SELECT rowid FROM dataset_text WHERE dataset_text MATCH ?)"


class ChartBitmaps:
    """Bitmaps for the charts of the explore page, from the index as `bitmaps` describes it.

    Image counts are kept as bit slices: `image_slices[k]` contains the datasets whose image count
    has bit k set, so the images of any selection sum up as sum(2**k * popcount(slice & selection)).
    """

    def __init__(self, connection: sqlite3.Connection, bitmaps: Bitmaps):
        self.direct: dict[str, dict[str, int]] = {"muscle": {}, "device": {}}
        rows = connection.execute("SELECT field, value, dataset_id FROM dataset_values "
                                  "WHERE field IN ('muscle', 'device') ORDER BY field, value")
        for (facet, value), group in groupby(rows, key=lambda row: (row[0], row[1])):
            self.direct[facet][value] = bitmaps.from_ids(row[2] for row in group)
        self.data_types = self._groups(connection, bitmaps, "data_type")
        known = 0
        for bitmap in self.data_types.values():
            known |= bitmap
        if bitmaps.everything & ~known:
            self.data_types["unknown"] = bitmaps.everything & ~known
        self.years = self._groups(connection, bitmaps, "year")
        self.ages = self._groups(connection, bitmaps, f"CAST(age / {AGE_BIN} AS INTEGER) * {AGE_BIN}", "age")
        self.plotted = bitmaps.from_ids(id_ for (id_,) in connection.execute(
            "SELECT id FROM datasets WHERE sample_size IS NOT NULL AND image_count IS NOT NULL"))
        counts = connection.execute("SELECT id, image_count FROM datasets WHERE image_count > 0").fetchall()
        top = max((count for _, count in counts), default=0)
        self.image_slices = [bitmaps.from_ids(id_ for id_, count in counts if count >> bit & 1)
                             for bit in range(top.bit_length())]

    @staticmethod
    def _groups(connection, bitmaps: Bitmaps, expression: str, column: str | None = None) -> dict[Any, int]:
        rows = connection.execute(f"SELECT {expression} AS grouped, id FROM datasets "
                                  f"WHERE {column or expression} IS NOT NULL ORDER BY grouped")
        return {value: bitmaps.from_ids(row[1] for row in group)
                for value, group in groupby(rows, key=lambda row: row[0])}

    def image_sum(self, selection: int) -> int:
        return sum((bitmap & selection).bit_count() << bit for bit, bitmap in enumerate(self.image_slices))


class Bitmaps:
    """The index in memory as bitmaps: Python integers whose bit `id` is set for each dataset id.

    `facets[field][value]` contains the datasets a facet value counts, `everything` every dataset.
    Counting a facet value within a selection is `(bitmap & selection).bit_count()`, which takes
    microseconds at 100,000 datasets, where a SQL COUNT per facet takes tens of milliseconds.
    Orders of all datasets by each sort key and the matches of recent texts are kept here too.
    """

    TEXTS_KEPT = 64

    def __init__(self, connection: sqlite3.Connection):
        self.connection = connection
        top = connection.execute("SELECT COALESCE(MAX(id), 0) FROM datasets").fetchone()[0]
        self.bytes = top // 8 + 1
        self.everything = self.from_ids(id_ for (id_,) in connection.execute("SELECT id FROM datasets"))
        self.facets: dict[str, dict[str, int]] = {}
        rows = connection.execute("SELECT field, value, dataset_id FROM dataset_facets ORDER BY field, value")
        for (facet, value), group in groupby(rows, key=lambda row: (row[0], row[1])):
            self.facets.setdefault(facet, {})[value] = self.from_ids(row[2] for row in group)
        labels = connection.execute("SELECT labels, id FROM datasets WHERE labels IS NOT NULL ORDER BY labels")
        self.facets["labels"] = {"true" if truth else "false": self.from_ids(row[1] for row in group)
                                 for truth, group in groupby(labels, key=lambda row: row[0])}
        self.orders: dict[str, list[int]] = {}
        self.places: dict[str, list[int]] = {}
        # Recent texts: the bitmap of their matches, and the matches in a ranked order.
        self.texts: OrderedDict[str, int] = OrderedDict()
        self.rankings: OrderedDict[tuple[str, bool], list[int]] = OrderedDict()
        # The bitmaps of the explore page's charts, built on first use.
        self.charts: ChartBitmaps | None = None

    def from_ids(self, ids: Iterable[int]) -> int:
        bits = bytearray(self.bytes)
        for id_ in ids:
            bits[id_ >> 3] |= 1 << (id_ & 7)
        return int.from_bytes(bits, "little")

    def order(self, order: str) -> list[int]:
        """Return every dataset id in a SQL order of `datasets d`, kept until the index changes."""
        if order not in self.orders:
            self.orders[order] = [id_ for (id_,) in self.connection.execute(f"SELECT d.id FROM datasets d ORDER BY {order}")]
        return self.orders[order]

    def positions(self, order: str) -> list[int]:
        """Return each dataset id's place in `order`, as a list indexed by id."""
        if order not in self.places:
            places = [0] * (self.bytes * 8)
            for place, id_ in enumerate(self.order(order)):
                places[id_] = place
            self.places[order] = places
        return self.places[order]

    def text(self, text: str, sql: str, parameters: list, *, match: str | None = None,
             weights: tuple[float, ...] = (), ranked: bool = False, descending: bool = False,
             by_name: str = "") -> tuple[int, list[int]]:
        """Return the datasets that match a text, and, when `ranked`, them in order of relevance.

        `sql` and `parameters` are the text's whole condition on `datasets d`; `match` is the FTS5
        query of its words of three letters or more. Relevance is bm25 over `match` with the
        columns' `weights`, which is lower for better matches: ascending puts the best first,
        `descending` the worst. Ties follow the SQL order `by_name`. When `sql` tests nothing but
        `match`, one pass over the full-text index gives both the matches and their ranks, where
        a text asked for the first time would otherwise need two.
        """
        key = (text, descending)
        if ranked and key not in self.rankings:
            scores = dict(self.connection.execute(
                f"SELECT rowid, bm25(dataset_text{''.join(f', {weight}' for weight in weights)}) "
                "FROM dataset_text WHERE dataset_text MATCH ?", [match]))
            if sql == MATCH_ONLY and text not in self.texts:
                self._keep(self.texts, text, self.from_ids(scores))
            # Sorting is stable, so datasets of equal rank stay in the order of their names.
            ranking = sorted(scores, key=self.positions(by_name).__getitem__)
            ranking.sort(key=scores.__getitem__, reverse=descending)
            self._keep(self.rankings, key, ranking)
        if text not in self.texts:
            self._keep(self.texts, text, self.from_ids(id_ for (id_,) in self.connection.execute(
                f"SELECT d.id FROM datasets d WHERE {sql}", parameters)))
        self.texts.move_to_end(text)
        if not ranked:
            return self.texts[text], []
        self.rankings.move_to_end(key)
        return self.texts[text], self.rankings[key]

    def _keep(self, memory: OrderedDict, key, value) -> None:
        memory[key] = value
        if len(memory) > self.TEXTS_KEPT:
            memory.popitem(last=False)


def take(order: list[int], selection: int, size: int, offset: int, limit: int | None) -> list[int]:
    """Return the ids in `order` whose bit is set in `selection`, skipping `offset`, at most `limit`."""
    if limit is not None and limit <= 0:
        return []
    bits = selection.to_bytes(size, "little")
    selected: list[int] = []
    skip = offset
    for id_ in order:
        if bits[id_ >> 3] >> (id_ & 7) & 1:
            if skip:
                skip -= 1
                continue
            selected.append(id_)
            if limit is not None and len(selected) == limit:
                break
    return selected
