"""Measure search and landing pages on synthetic catalogs, against the naive way with rdflib.

Run: python -m catalog.search_benchmark [--sizes 1000 10000 100000] [--repeat 50]

For each size the script generates records whose values are drawn from the seed records
(`catalog/seed/*.json`) with a fixed random seed, writes them into a fresh Oxigraph store through
`Catalog.write`, rebuilds the `SearchIndex` and times requests to the web application in this
process (server time: routing, search, facet counts and the HTML page, without the network):
four searches and a landing page. The same searches also run as the SPARQL of `find_datasets`
on Oxigraph and on rdflib's in-memory Dataset, the naive way.
Synthetic records skip pydantic and SHACL validation, because they are built from validated values.
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from urllib.parse import urlencode
from datetime import datetime, timezone
from pathlib import Path

from rdflib import Dataset, Graph, URIRef

from . import DEFAULT_BASE_URL, SEED_DIR
from .history import Change
from .loader import read_records
from .rdf_mapping import dataset_iri, record_to_graph
from .record import Author, Record
from .search import find_datasets, parse_query
from .search_index import SearchIndex
from .service import Catalog
from .store import CatalogStore, OxigraphStore
from .vocabulary import default_vocabulary

RANDOM_SEED = 20240611
BATCH_SIZE = 500
MODIFIED = datetime(2025, 1, 1, tzinfo=timezone.utc)
# rdflib needs minutes per search at 10,000 datasets, so larger catalogs run it once, and a search
# that takes longer than NAIVE_TIMEOUT seconds is stopped and reported as "more than". Oxigraph's
# SPARQL takes up to a minute per search at 100,000 datasets, so from LARGE_SPARQL it runs thrice.
NAIVE_REPEAT_LARGE = 1
LARGE = 5_000
SPARQL_REPEAT_LARGE = 3
LARGE_SPARQL = 50_000
NAIVE_TIMEOUT = 300.0
# rdflib's graph of 100,000 datasets takes about 12 GB. A search that would take the child more
# than this much memory beyond what it had at its start is stopped and reported.
NAIVE_MEMORY_BYTES = 16 * 2**30

# The requests timed at every size, as /datasets query parameters.
SEARCHES = {
    "filter + facets": [("data_type", "Video")],
    "range": [("age_min", "20"), ("age_max", "30")],
    "text": [("q", "fascicle")],
    "group (Triceps surae)": [("muscle", "Triceps surae")],
}


class RdflibStore(CatalogStore):
    """rdflib's in-memory Dataset and SPARQL engine behind the catalog's store interface (read only)."""

    def __init__(self, dataset: Dataset):
        self.dataset = dataset

    def select(self, query: str):
        result = self.dataset.query(query)
        names = [str(variable) for variable in result.vars]
        return [{name: row[name] for name in names if row[name] is not None} for row in result]

    def ask(self, query: str) -> bool:
        return bool(self.dataset.query(query).askAnswer)

    def construct(self, query: str) -> Graph:
        graph = Graph()
        for triple in self.dataset.query(query):
            graph.add(triple)
        return graph

    def update(self, update: str) -> None:
        raise NotImplementedError("the benchmark's rdflib store is read only")


# Synthetic records

def seed_records() -> list[Record]:
    records = []
    for path in sorted(SEED_DIR.glob("*.json")):
        found, _warnings = read_records(path)
        records += found
    return records


class RecordGenerator:
    """Generator of records whose fields follow the values of the seed records, reproducibly."""

    def __init__(self, seeds: list[Record], random_seed: int = RANDOM_SEED):
        self.seeds = seeds
        self.random = random.Random(random_seed)
        # Pools of every value seen in the seeds, repeated as often as it occurs.
        self.pools = {name: [value for record in seeds for value in getattr(record, name)]
                      for name in ("muscle", "region", "device", "transducer", "image_type", "plane",
                                   "file_format", "keywords")}

    def record(self, number: int) -> Record:
        chance = self.random
        template = chance.choice(self.seeds)
        year = min(2025, max(2010, chance.choice(self.seeds).year + chance.randint(-3, 1)))
        name = f"Synthetic{number:06d}_{year}"
        return Record.model_construct(
            name=name,
            title=f"{template.title} (synthetic copy {number})",
            description=f"{chance.choice(self.seeds).description} Synthetic record {number}.",
            doi=f"10.5555/umud.synthetic.{number}",
            version="1.0",
            year=year,
            link=f"https://example.org/datasets/{name}",
            publication=None,
            license=chance.choice(self.seeds).license,
            authors=[Author(name=author.name) for author in chance.choice(self.seeds).authors],
            contact=[],
            keywords=self._sample("keywords", template.keywords),
            muscle=self._sample("muscle", template.muscle, minimum=1),
            region=self._sample("region", template.region),
            device=self._sample("device", template.device),
            transducer=self._sample("transducer", template.transducer),
            data_type=chance.choice(self.seeds).data_type,
            image_type=self._sample("image_type", template.image_type),
            plane=self._sample("plane", template.plane),
            file_format=self._sample("file_format", template.file_format),
            image_count=self._vary(chance.choice(self.seeds).image_count, whole=True),
            video_count=self._vary(chance.choice(self.seeds).video_count, whole=True),
            scanning_frequency=self._vary(chance.choice(self.seeds).scanning_frequency),
            sampling_rate=self._vary(chance.choice(self.seeds).sampling_rate),
            age=self._vary(chance.choice(self.seeds).age, low=1, high=120),
            height=self._vary(chance.choice(self.seeds).height, low=40, high=250),
            body_mass=self._vary(chance.choice(self.seeds).body_mass, low=2, high=300),
            sex=chance.choice(self.seeds).sex,
            sample_size=max(1, self._vary(chance.choice(self.seeds).sample_size, whole=True)),
            labels=chance.choice(self.seeds).labels,
            label_description=chance.choice(self.seeds).label_description,
        )

    def _sample(self, field: str, template: list[str], minimum: int = 0) -> list[str]:
        """Return as many values as the template has, drawn from the field's pool without repeats."""
        count = max(minimum, len(template))
        pool = self.pools[field]
        if not pool or count == 0:
            return []
        return sorted(set(self.random.choices(pool, k=count)))

    def _vary(self, value, *, whole: bool = False, low: float = 0.1, high: float = 100_000):
        """Return the value scaled by a random factor between 0.7 and 1.3, or None when it is None."""
        if value is None:
            return None
        varied = min(high, max(low, value * self.random.uniform(0.7, 1.3)))
        return round(varied) if whole else round(varied, 1)


# Loading

def load_catalog(size: int, directory: Path) -> tuple[Catalog, float]:
    """Write `size` synthetic records into a fresh Oxigraph store; returns the catalog and the seconds taken."""
    vocabulary = default_vocabulary()
    catalog = Catalog(OxigraphStore(directory / "oxigraph"), DEFAULT_BASE_URL, vocabulary)
    catalog.prepare()
    started = time.perf_counter()
    batch = []
    for number, named_graph in enumerate(_graphs(size, vocabulary), start=1):
        batch.append(named_graph)
        if len(batch) == BATCH_SIZE or number == size:
            catalog.write(batch, Change("search benchmark", "synthetic record"))
            _progress(f"  wrote {number} of {size} records")
            batch = []
    return catalog, time.perf_counter() - started


def _graphs(size: int, vocabulary):
    """Yield (name, graph) of each synthetic record, one at a time."""
    generator = RecordGenerator(seed_records())
    for number in range(size):
        record = generator.record(number)
        yield record.name, record_to_graph(record, DEFAULT_BASE_URL, vocabulary, MODIFIED)


def naive_catalog(size: int) -> Catalog:
    """Return the same synthetic records in rdflib's in-memory Dataset, behind the catalog's interface."""
    vocabulary = default_vocabulary()
    dataset = Dataset()
    for number, (name, graph) in enumerate(_graphs(size, vocabulary), start=1):
        named = dataset.graph(URIRef(dataset_iri(DEFAULT_BASE_URL, name)))
        named.addN((*triple, named) for triple in graph)
        if number % BATCH_SIZE == 0:
            # Python's cycle collector would otherwise walk the whole growing graph again and
            # again. Collect this batch's garbage, then exempt what is left from later collections.
            del graph
            gc.collect()
            gc.freeze()
    return Catalog(RdflibStore(dataset), DEFAULT_BASE_URL, vocabulary)


# Timing

def time_calls(call: Callable[[int], object], repeat: int) -> tuple[float, float]:
    """Return the median and the 95th percentile wall time of `repeat` calls, in milliseconds."""
    timings = []
    for attempt in range(repeat):
        started = time.perf_counter()
        call(attempt)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    percentile = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    return statistics.median(timings), percentile


def measure_naive(size: int, queries: dict, picks: list[str], repeat: int) -> dict:
    """Time the searches and record reads on rdflib, in a child process that builds its own graph.

    The child keeps the rdflib graph (many gigabytes at 100,000 datasets), so the server timings
    in this process are not slowed by it. A call that takes longer than NAIVE_TIMEOUT is stopped
    (SIGALRM) and reported as a lower bound: a negative median. A call that needs more memory than
    NAIVE_MEMORY_BYTES is reported as such, and so are calls left when the child ended early.
    """
    import multiprocessing

    context = multiprocessing.get_context("fork")
    receiver, sender = context.Pipe(duplex=False)
    child = context.Process(target=_naive_child, args=(size, queries, picks, repeat, sender))
    child.start()
    sender.close()
    results = {}
    while True:
        try:
            label, timing = receiver.recv()
        except EOFError:
            break
        if label is None:
            break
        results[label] = timing
    child.join()
    if child.exitcode:
        _progress(f"size {size}: the rdflib process ended with exit code {child.exitcode}")
        for label in [*queries, "landing page"]:
            results.setdefault(label, f"ended ({child.exitcode})")
    return results


def _naive_child(size: int, queries: dict, picks: list[str], repeat: int, sender) -> None:
    import resource
    import signal

    class Stopped(Exception):
        pass

    def stop(signal_number, frame):
        raise Stopped()

    signal.signal(signal.SIGALRM, stop)
    # The first field of /proc/self/statm is the process's virtual size in pages (Linux).
    pages = int(Path("/proc/self/statm").read_text().split()[0]) if Path("/proc/self/statm").exists() else 0
    limit = pages * resource.getpagesize() + NAIVE_MEMORY_BYTES
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    _progress(f"size {size}: building the rdflib graph")
    catalog = naive_catalog(size)

    def timed(label: str, call: Callable[[int], object]) -> None:
        timings = []
        for attempt in range(repeat):
            started = time.perf_counter()
            signal.alarm(int(NAIVE_TIMEOUT))
            try:
                call(attempt)
            except Stopped:
                sender.send((label, (-NAIVE_TIMEOUT * 1000, -NAIVE_TIMEOUT * 1000)))
                return
            except MemoryError:
                sender.send((label, "out of memory"))
                return
            finally:
                signal.alarm(0)
            timings.append((time.perf_counter() - started) * 1000)
        timings.sort()
        sender.send((label, (statistics.median(timings), timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))])))
        _progress(f"size {size}: timed {label} on rdflib")

    for label, query in queries.items():
        timed(label, lambda _attempt, query=query: find_datasets(query, catalog))
    timed("landing page", lambda attempt: catalog.record(picks[attempt % len(picks)]))
    sender.send((None, None))


def measure(size: int, repeat: int, naive_repeat: int, naive: bool) -> list[dict]:
    from server.app import create_app
    from server.settings import Settings

    rows = []
    with tempfile.TemporaryDirectory(prefix="umud-benchmark-") as directory:
        _progress(f"size {size}: generating and writing records")
        catalog, load_seconds = load_catalog(size, Path(directory))
        _progress(f"size {size}: wrote in {load_seconds:.1f} s; rebuilding the search index")
        index = SearchIndex(Path(directory) / "index.sqlite")
        started = time.perf_counter()
        catalog.attach_index(index)
        rebuild_seconds = time.perf_counter() - started
        _progress(f"size {size}: rebuilt the index in {rebuild_seconds:.1f} s; timing searches")
        app = create_app(catalog, Settings(base_url=catalog.base_url, store_location=directory, sparql_workers=1))
        client = app.test_client()
        naive_repeat = naive_repeat if size < LARGE else min(naive_repeat, NAIVE_REPEAT_LARGE)
        # Flask compiles each template on its first use; that happens once per process, so not timed.
        _get(client, "/datasets")
        _get(client, f"/datasets/{index.names()[0]}")

        queries = {}
        for label, parameters in SEARCHES.items():
            query = queries[label] = parse_query(parameters, catalog)
            url = "/datasets?" + urlencode(parameters)
            server_times = time_calls(lambda _: _get(client, url), repeat)
            oxigraph_times = time_calls(lambda _: find_datasets(query, catalog), sparql_repeat(size, repeat))
            rows.append(_row(size, label, server_times, oxigraph_times, None))
            _progress(f"size {size}: timed {label}")

        # The index keeps recent texts' matches in memory, so each request below asks a new word.
        words = _new_words(repeat)
        cold_times = time_calls(lambda attempt: _get(client, "/datasets?" + urlencode([("q", words[attempt])])), len(words))
        rows.append(_row(size, "text, each word new", cold_times, None, None))
        _progress(f"size {size}: timed new texts")

        chooser = random.Random(RANDOM_SEED)
        picks = [chooser.choice(index.names()) for _ in range(repeat)]
        page_times = time_calls(lambda attempt: _get(client, f"/datasets/{picks[attempt]}"), repeat)
        record_times = time_calls(lambda attempt: catalog.record(picks[attempt]), repeat)
        rows.append(_row(size, "landing page", page_times, record_times, None))
        rows.append({"size": size, "case": "load / rebuild (s)", "server": (load_seconds * 1000, rebuild_seconds * 1000)})
        app.extensions["umud_sparql"].close()
        index.close()
        catalog.store.close()
    if naive:
        # rdflib can take hours at the largest size: the rows measured so far are printed first.
        print(f"\nServer and Oxigraph rows of size {size}, before rdflib:", flush=True)
        print_table(rows, repeat, naive_repeat)
        naive_times = measure_naive(size, queries, picks, naive_repeat)
        for row in rows:
            if row["case"] in naive_times:
                row["rdflib"] = naive_times[row["case"]]
    return rows


def sparql_repeat(size: int, repeat: int) -> int:
    """Return how many times Oxigraph's SPARQL runs each search at a size."""
    return max(1, repeat // 5) if size < LARGE_SPARQL else min(max(1, repeat // 5), SPARQL_REPEAT_LARGE)


def _new_words(count: int) -> list[str]:
    """Return distinct words of the seed descriptions, picked with the fixed random seed."""
    words = sorted({word.strip(".,;:()").casefold() for record in seed_records()
                    for word in record.description.split() if len(word.strip(".,;:()")) >= 5})
    return random.Random(RANDOM_SEED).sample(words, min(count, len(words)))


def _get(client, url: str) -> None:
    response = client.get(url, headers={"Accept": "text/html"})
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} failed with status {response.status_code}")


def _row(size, label, server_times, oxigraph_times, naive_times) -> dict:
    return {"size": size, "case": label, "server": server_times, "oxigraph": oxigraph_times, "rdflib": naive_times}


def print_table(rows: list[dict], repeat: int, naive_repeat: int) -> None:
    print()
    print(f"Wall time in ms, median / p95. Server: the HTML page with all facet counts, {repeat} runs. "
          f"Oxigraph and rdflib: the SPARQL of find_datasets (names only, no facet counts), "
          f"{max(1, repeat // 5)} runs ({sparql_repeat(LARGE_SPARQL, repeat)} from {LARGE_SPARQL:,} datasets) "
          f"and {naive_repeat} runs ({NAIVE_REPEAT_LARGE} from {LARGE:,} datasets; "
          f"rdflib stopped after {NAIVE_TIMEOUT:.0f} s).")
    print("Landing page: server time of the HTML page; the SPARQL columns time Catalog.record.")
    print("The index keeps recent texts' matches in memory: 'text' repeats one word, "
          "'text, each word new' asks a new word each time.")
    print("Synthetic records were written without pydantic or SHACL validation.")
    header = (f"{'size':>7}  {'case':<22} {'server (index)':>17} {'oxigraph sparql':>17} "
              f"{'rdflib sparql':>21} {'rdflib/server':>13}")
    print(header)
    print("-" * len(header))
    for row in rows:
        if row["case"].startswith("load"):
            load, rebuild = row["server"]
            print(f"{row['size']:>7}  {'store write / rebuild':<22} {load / 1000:>8.1f} s write {rebuild / 1000:>8.2f} s index rebuild")
            continue
        server, oxigraph, naive = row["server"], row["oxigraph"], row["rdflib"]
        if oxigraph is None:
            print(f"{row['size']:>7}  {row['case']:<22} {server[0]:>7.2f} / {server[1]:<7.2f}")
            continue
        if isinstance(naive, str):
            naive_text, ratio = f"{naive:>21}", f"{'-':>13}"
        elif naive and naive[0] < 0:
            naive_text = f"{'> ' + format(-naive[0] / 1000, '.0f') + ' s (stopped)':>21}"
            ratio = f"{'> ' + format(-naive[0] / server[0], '.0f'):>12}x"
        else:
            naive_text = f"{naive[0]:>10.1f} / {naive[1]:<8.1f}" if naive else f"{'not run':>21}"
            ratio = f"{naive[0] / server[0]:>12.0f}x" if naive else f"{'-':>13}"
        print(f"{row['size']:>7}  {row['case']:<22} {server[0]:>7.2f} / {server[1]:<7.2f} "
              f"{oxigraph[0]:>7.1f} / {oxigraph[1]:<7.1f} {naive_text} {ratio}")


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m catalog.search_benchmark", description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000, 100_000],
                        help="numbers of synthetic datasets to measure (default: 1000 10000 100000)")
    parser.add_argument("--repeat", type=int, default=50, help="timed runs per index search (default: 50)")
    parser.add_argument("--naive-repeat", type=int, default=5,
                        help="timed runs per rdflib search (default: 5)")
    parser.add_argument("--no-naive", action="store_true",
                        help="skip rdflib, which needs much memory and minutes per search at 100,000 datasets")
    options = parser.parse_args(arguments)
    if options.repeat < 1 or options.naive_repeat < 1 or any(size < 1 for size in options.sizes):
        parser.error("sizes and repeat counts must be at least 1")

    rows = []
    for size in options.sizes:
        rows += measure(size, options.repeat, options.naive_repeat, not options.no_naive)
        print_table(rows, options.repeat, options.naive_repeat)
    return 0


if __name__ == "__main__":
    sys.exit(main())
