"""Shared fixtures: a real Oxigraph store seeded with the bundled catalog, the Flask app on it,
and the same app behind a real waitress server on 127.0.0.1."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from waitress.server import create_server

from catalog import DEFAULT_BASE_URL
from catalog.setup import open_catalog

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
UMUD_RECORDS = SHARED / "records" / "umud"
BASE_URL = DEFAULT_BASE_URL


@pytest.fixture(scope="session")
def umud_entries() -> list[Path]:
    paths = sorted(UMUD_RECORDS.glob("*.json"))
    assert len(paths) == 15, f"expected the 15 original UMUD entries in {UMUD_RECORDS}"
    return paths


@pytest.fixture(scope="session")
def catalog(tmp_path_factory):
    catalog = open_catalog(tmp_path_factory.mktemp("store") / "oxigraph", BASE_URL)
    yield catalog
    catalog.store.close()


@pytest.fixture(scope="session")
def settings(catalog):
    from server.settings import Settings

    return Settings(base_url=BASE_URL, store_location=str(catalog.store.path),
                    query_timeout=3.0, result_limit=500, sparql_workers=2)


@pytest.fixture(scope="session")
def app(catalog, settings):
    from server.app import create_app

    app = create_app(catalog, settings)
    app.config["TESTING"] = True
    yield app
    app.extensions["umud_sparql"].close()


@pytest.fixture()
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def live_server(app):
    """The app behind waitress on a free port of 127.0.0.1; yields its root URL."""
    server = create_server(app, host="127.0.0.1", port=0, threads=8)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()


@pytest.fixture()
def httpserver(httpserver_ipv4):
    """pytest-httpserver listening on 127.0.0.1 (the plugin's default host is "localhost")."""
    return httpserver_ipv4
