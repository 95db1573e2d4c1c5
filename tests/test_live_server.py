"""The real `umud serve` command on a new store, reached over sockets on 127.0.0.1.

The server loads the bundled seed into its empty store when it starts. Its SPARQL time limit is
5 s here, so a deliberately slow query ends quickly enough for the tests.
"""

from __future__ import annotations

import json
import os
import re
import signal
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from SPARQLWrapper import JSON, SPARQLWrapper

from .browser_support import (
    displayed_totals,
    free_port,
    parse_page,
    seed_records,
    sort_names,
    start_server,
    stop_server,
    wait_until_serving,
)

SEED = seed_records()
QUERY_TIMEOUT = 5
COUNT_QUERY = "SELECT (COUNT(DISTINCT ?d) AS ?n) WHERE { ?d a <http://www.w3.org/ns/dcat#Dataset> }"
# Every combination of three triples of the store. The seeded store has about 3,000 triples, so the
# query has about 3 * 10^10 rows to count, far more than 5 s of work.
SLOW_QUERY = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
SPARQL_JSON = "application/sparql-results+json"


class Server:
    """A running `umud serve` process with its root URL, log file and temporary directory."""

    def __init__(self, directory: Path, *extra: str):
        self.directory = directory
        self.temporary = directory / "tmp"
        self.temporary.mkdir()
        self.log = directory / "serve.log"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = start_server(directory / "store", self.port, "--query-timeout", str(QUERY_TIMEOUT),
                                    *extra, log=self.log, TMPDIR=str(self.temporary))
        try:
            wait_until_serving(self.process, self.url + "/", self.log)
        except AssertionError:
            stop_server(self.process)
            raise

    def worker_pids(self) -> list[int]:
        """Return the pids of the SPARQL worker processes that the server logged starting."""
        return [int(pid) for pid in re.findall(r"started umud-sparql-worker-\d+ \(pid (\d+)\)", self.log.read_text())]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    running = Server(tmp_path_factory.mktemp("live"))
    yield running
    stop_server(running.process)


def fetch(url: str, accept: str | None = None, timeout: float = 30) -> tuple[int, str]:
    """GET a URL; return the status and the body, also for error statuses."""
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8")


def sparql_url(server: Server, query: str) -> str:
    return f"{server.url}/sparql?" + urllib.parse.urlencode({"query": query})


@pytest.mark.parametrize("total", ["datasets", "images", "videos", "participants"])
def test_home_total(server, total):
    status, html = fetch(server.url + "/")
    assert status == 200
    assert parse_page(html).text_by_id[f"total-{total}"] == displayed_totals(SEED)[total]


def test_datasets_json(server):
    status, body = fetch(server.url + "/datasets?format=json")
    document = json.loads(body)
    assert status == 200
    assert document["count"] == len(SEED)
    assert [entry["name"] for entry in document["datasets"]] == sort_names(SEED)


def test_dataset_turtle(server):
    name = sort_names(SEED)[0]
    status, body = fetch(f"{server.url}/datasets/{name}", accept="text/turtle")
    assert status == 200
    assert f'dcterms:identifier "{name}"' in body


def test_sparql_count(server):
    status, body = fetch(sparql_url(server, COUNT_QUERY), accept=SPARQL_JSON)
    bindings = json.loads(body)["results"]["bindings"]
    assert status == 200
    assert bindings == [{"n": {"type": "literal", "value": str(len(SEED)),
                               "datatype": "http://www.w3.org/2001/XMLSchema#integer"}}]


def test_sparql_wrapper_count(server):
    wrapper = SPARQLWrapper(f"{server.url}/sparql")
    wrapper.setQuery(COUNT_QUERY)
    wrapper.setReturnFormat(JSON)
    wrapper.setTimeout(30)
    bindings = wrapper.query().convert()["results"]["bindings"]
    assert int(bindings[0]["n"]["value"]) == len(SEED)


def test_pages_answer_during_slow_query(server):
    """A query that runs into the time limit does not hold up other requests."""
    outcome: dict[str, object] = {}

    def run_slow_query():
        started = time.monotonic()
        outcome["status"], outcome["body"] = fetch(sparql_url(server, SLOW_QUERY), accept=SPARQL_JSON,
                                                   timeout=QUERY_TIMEOUT + 30)
        outcome["seconds"] = time.monotonic() - started

    slow = threading.Thread(target=run_slow_query, daemon=True)
    slow.start()
    time.sleep(1.0)  # lets the query reach the SPARQL worker

    durations = []
    for _ in range(5):
        started = time.monotonic()
        status, _ = fetch(server.url + "/", timeout=5)
        durations.append(time.monotonic() - started)
        assert status == 200
    still_running = slow.is_alive()
    slow.join(QUERY_TIMEOUT + 35)

    assert still_running
    assert max(durations) < 0.5, durations
    assert outcome["status"] == 503
    assert f"did not finish within {QUERY_TIMEOUT} s" in outcome["body"]
    assert QUERY_TIMEOUT - 0.5 <= outcome["seconds"] < QUERY_TIMEOUT + 10


def test_sparql_works_after_timeout(server):
    status, body = fetch(sparql_url(server, COUNT_QUERY), accept=SPARQL_JSON)
    assert status == 200
    assert json.loads(body)["results"]["bindings"][0]["n"]["value"] == str(len(SEED))


def test_log_names_store(server):
    assert f"serving {len(SEED)} datasets from {server.directory / 'store'}" in server.log.read_text()


def test_sigterm_removes_snapshots(tmp_path):
    server = Server(tmp_path)
    try:
        status, _ = fetch(sparql_url(server, COUNT_QUERY), accept=SPARQL_JSON)
        snapshots_while_serving = list(server.temporary.glob("umud-sparql-*"))
    finally:
        stop_server(server.process)
    assert status == 200
    assert snapshots_while_serving
    assert list(server.temporary.glob("umud-sparql-*")) == []


def is_running(pid: int) -> bool:
    """Whether a process exists and is not a zombie waiting to be reaped."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_sigterm_ends_workers(tmp_path):
    server = Server(tmp_path)
    try:
        fetch(sparql_url(server, COUNT_QUERY), accept=SPARQL_JSON)
        workers = server.worker_pids()
    finally:
        stop_server(server.process)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(is_running(pid) for pid in workers):
        time.sleep(0.1)
    remaining = [pid for pid in workers if is_running(pid)]
    for pid in remaining:
        os.kill(pid, signal.SIGKILL)  # the server started these workers for this test
    assert workers
    assert remaining == []
