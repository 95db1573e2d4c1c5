"""Measure how fast recorded API pages are harvested: parsed, mapped to RDF, validated and stored.

Run: `.venv/bin/python -m harvesters.benchmark [--fixtures ../shared/fixtures/real-api] [--rounds 5]`.
It prints records per second for each step on the recorded Zenodo OAI-PMH, Zenodo REST and
DataCite responses. Nothing is fetched: the pages are read from disk.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
import xml.etree.ElementTree as ET
from datetime import datetime, timezone
from pathlib import Path

from rdflib import URIRef

from catalog import PROJECT_ROOT
from catalog.setup import open_catalog
from catalog.validation import validate_graph

from .datacite import parse_datacite_doi
from .mapping import harvested_graph
from .model import HarvestedRecord
from .oai import parse_oai_record
from .runner import CatalogHarvest
from .zenodo import parse_zenodo_record

DEFAULT_FIXTURES = PROJECT_ROOT.parent / "shared" / "fixtures" / "real-api"


def recorded_pages(fixtures: Path) -> dict[str, list]:
    """Return the raw records of each recorded page, by page kind."""
    oai_root = ET.parse(fixtures / "zenodo-oai" / "listrecords-datacite-first-page-50-records.xml").getroot()
    zenodo_hits = []
    for path in sorted((fixtures / "zenodo-rdm").glob("search-*.json")):
        zenodo_hits += json.loads(path.read_text())["hits"]["hits"]
    datacite = [json.loads(path.read_text()) for path in sorted((fixtures / "datacite").glob("doi-*.json"))]
    return {
        "Zenodo OAI-PMH (datacite)": [element for element in oai_root.iter() if element.tag.endswith("}record")],
        "Zenodo REST search hits": zenodo_hits,
        "DataCite DOIs": datacite,
    }


def parse(kind: str, raw) -> HarvestedRecord | None:
    if kind.startswith("Zenodo OAI"):
        record = parse_oai_record(raw, "https://zenodo.org/oai2d")
        return record if isinstance(record, HarvestedRecord) else None
    if kind.startswith("Zenodo REST"):
        return parse_zenodo_record(raw, "https://zenodo.org/api/records")
    return parse_datacite_doi(raw, "https://api.datacite.org/dois")


def rate(step, items: list, rounds: int) -> float:
    """Return the median records per second of `step` over all items, across rounds."""
    rates = []
    for _ in range(rounds):
        start = time.perf_counter()
        for item in items:
            step(item)
        rates.append(len(items) / (time.perf_counter() - start))
    return statistics.median(rates)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES, help="folder of recorded API responses")
    parser.add_argument("--rounds", type=int, default=5, help="repetitions per measurement (median is shown)")
    arguments = parser.parse_args()
    moment = datetime.now(timezone.utc)
    dataset = URIRef("http://127.0.0.1:5000/candidates/benchmark")

    print(f"{'page':28} {'records':>7} {'parse/s':>9} {'+map/s':>9} {'+shapes/s':>10} {'+store/s':>9}")
    with tempfile.TemporaryDirectory() as folder:
        catalog = open_catalog(Path(folder) / "store", "http://127.0.0.1:5000", seed_if_empty=False)
        for kind, raws in recorded_pages(arguments.fixtures).items():
            records = [record for record in (parse(kind, raw) for raw in raws) if record is not None]
            parsed = rate(lambda raw: parse(kind, raw), raws, arguments.rounds)
            mapped = rate(lambda record: harvested_graph(record, dataset, moment), records, arguments.rounds)
            checked = rate(lambda record: validate_graph(harvested_graph(record, dataset, moment), shapes="harvest"),
                           records, arguments.rounds)
            harvest = CatalogHarvest(catalog)
            stored = rate(lambda record: harvest.store(record, moment), records, 1)
            print(f"{kind:28} {len(records):>7} {parsed:>9.0f} {_combined(parsed, mapped):>9.0f} "
                  f"{_combined(parsed, checked):>10.0f} {stored:>9.0f}")
        catalog.store.close()
    print("Each rate is records per second for that step and the ones before it (parse, map to RDF,")
    print("check with the harvest shapes); +store is the whole CatalogHarvest.store of a new record.")


def _combined(first: float, second: float) -> float:
    return 1 / (1 / first + 1 / second)


if __name__ == "__main__":
    main()
