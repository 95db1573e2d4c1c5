"""The search benchmark script, run on a tiny synthetic catalog."""

from __future__ import annotations

import re

from catalog import search_benchmark
from catalog.search_benchmark import SEARCHES, RecordGenerator, seed_records


def test_benchmark_prints_every_row(capsys):
    assert search_benchmark.main(["--sizes", "40", "--repeat", "2", "--naive-repeat", "1"]) == 0

    table = capsys.readouterr().out.split("Wall time in ms")[-1]
    for case in [*SEARCHES, "landing page"]:
        row = re.search(rf"^\s+40  {re.escape(case)}\s+([\d.]+) / ([\d.]+)\s+([\d.]+) / ([\d.]+)\s+"
                        rf"([\d.]+) / ([\d.]+)\s+(\d+)x$", table, re.MULTILINE)
        assert row, f"no complete row for {case} in:\n{table}"
        assert all(float(number) > 0 for number in row.groups()[:6])
    assert re.search(r"^\s+40  text, each word new\s+[\d.]+ / [\d.]+", table, re.MULTILINE)
    assert re.search(r"^\s+40  store write / rebuild\s+[\d.]+ s write\s+[\d.]+ s index rebuild", table, re.MULTILINE)


def test_synthetic_records_are_reproducible():
    seeds = seed_records()
    first, second = RecordGenerator(seeds), RecordGenerator(seeds)

    records = [first.record(number) for number in range(200)]

    assert [record.model_dump() for record in records[:5]] == [second.record(number).model_dump() for number in range(5)]
    assert len({record.name for record in records}) == 200
    seed_muscles = {muscle for seed in seeds for muscle in seed.muscle}
    assert {muscle for record in records for muscle in record.muscle} <= seed_muscles
    assert len({record.data_type for record in records}) == len({seed.data_type for seed in seeds})
