"""The catalog on a remote SPARQL 1.1 server: Oxigraph's own HTTP server (the `oxigraph` package)
on 127.0.0.1 is used through the same store interface as the embedded store."""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from catalog.loader import process_files
from catalog.setup import open_catalog

from .conftest import BASE_URL, UMUD_RECORDS


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _oxigraph_command() -> str:
    command = Path(sys.executable).with_name("oxigraph")
    found = str(command) if command.exists() else shutil.which("oxigraph")
    assert found, "the oxigraph server (PyPI package 'oxigraph') is not installed"
    return found


@pytest.fixture(scope="module")
def sparql_server(tmp_path_factory):
    port = _free_port()
    process = subprocess.Popen(
        [_oxigraph_command(), "serve", "--location", str(tmp_path_factory.mktemp("remote")),
         "--bind", f"127.0.0.1:{port}", "--union-default-graph"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    root = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{root}/query?query=ASK%7B%7D", timeout=2).read()
            break
        except OSError:
            assert process.poll() is None, process.stderr.read().decode()
            assert time.monotonic() < deadline, "the oxigraph server did not start within 30 s"
            time.sleep(0.2)
    yield root
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def remote_catalog(sparql_server):
    return open_catalog(f"{sparql_server}/query", BASE_URL, update_endpoint=f"{sparql_server}/update")


def test_seed_loaded_remotely(remote_catalog):
    totals = remote_catalog.totals()
    assert (totals.datasets, totals.images, totals.videos, totals.participants) == (15, 145464, 2674, 1911)


def test_record_read_back(remote_catalog, catalog):
    assert remote_catalog.record("DeepACSA_2022") == catalog.record("DeepACSA_2022")


def test_load_and_replace(remote_catalog, tmp_path):
    results = process_files([UMUD_RECORDS / "DeepACSA_2022.json"], remote_catalog, write=True)
    assert results[0].ok
    assert remote_catalog.totals().datasets == 15
    assert remote_catalog.record("DeepACSA_2022").title == "DeepACSA_2022"


def test_pages_on_remote_store(remote_catalog, settings):
    from server.app import create_app

    app = create_app(remote_catalog, settings)
    try:
        response = app.test_client().get("/datasets?muscle=Soleus&format=json")
        assert response.status_code == 200
        names = {dataset["name"] for dataset in response.get_json()["datasets"]}
        assert names == {name for name in remote_catalog.names()
                         if "Soleus" in remote_catalog.record(name).muscle}
    finally:
        app.extensions["umud_sparql"].close()


def test_store_parent_folders_created(tmp_path):
    from catalog.store import OxigraphStore

    store = OxigraphStore(tmp_path / "new" / "folders" / "store")
    try:
        assert store.ask("ASK { }")
    finally:
        store.close()
