"""Contributing and curating in headless Chromium, on a catalog of its own (accepting changes it)."""

from __future__ import annotations

import threading

import pytest
from waitress.server import create_server

from catalog.setup import open_catalog

from .conftest import BASE_URL
from .test_browser import WAIT_MS, browser, external_requests, page  # noqa: F401 (fixtures)

CURATOR = "grace"
PASSWORD = "a long curator passphrase"
NAME = "BrowserProbe_2025"


@pytest.fixture(scope="module")
def curation_server(tmp_path_factory):
    from server.app import create_app
    from server.settings import Settings

    folder = tmp_path_factory.mktemp("browser-curation")
    catalog = open_catalog(folder / "store", BASE_URL)
    app = create_app(catalog, Settings(base_url=BASE_URL, store_location=str(folder / "store"),
                                       curation_path=str(folder / "curation.sqlite"), sparql_workers=1))
    app.extensions["umud_curation"].add_curator(CURATOR, PASSWORD)
    server = create_server(app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    app.extensions["umud_sparql"].close()
    catalog.store.close()


def fill_record(page) -> None:
    """Fill every required field of a new record except the muscles."""
    page.fill("#input-name", NAME)
    page.fill("#input-title", "Browser probe: transverse images of the biceps brachii")
    page.fill("#input-description", "Transverse B-mode ultrasound images of the biceps brachii of twelve healthy "
                                    "adults, recorded at rest to test the contribution form of the catalog.")
    page.fill("#input-year", "2025")
    page.fill("#input-link", "https://example.org/data/browser-probe")
    page.select_option("#input-license", "CC-BY-4.0")
    page.locator('input[name="author_name"]').first.fill("Grace Hopper")
    page.select_option("#input-data_type", "Image")
    page.fill("#input-sample_size", "12")


def test_contribute_review_and_publish(page, curation_server):
    page.goto(curation_server + "/contribute")
    fill_record(page)
    page.wait_for_function("() => document.querySelector('#check-summary').dataset.violations === '1'",
                           timeout=WAIT_MS)
    with page.expect_navigation():
        page.get_by_role("button", name="Submit for review").click()

    # The server keeps the record back, keeps what was typed and names the missing field.
    assert "Nothing was submitted" in page.locator("#notice").inner_text()
    assert "Violation" in page.locator("#messages-muscle").inner_text()
    assert page.locator("#input-name").input_value() == NAME

    page.select_option("#input-muscle", ["Biceps Brachii"])
    page.wait_for_function("() => document.querySelector('#check-summary').dataset.violations === '0'",
                           timeout=WAIT_MS)
    assert page.locator("#messages-muscle li").count() == 0

    with page.expect_navigation():
        page.get_by_role("button", name="Submit for review").click()
    assert "/submissions/" in page.url
    assert "waiting for review" in page.locator("#submission-status").inner_text()
    assert page.request.get(f"{curation_server}/datasets/{NAME}").status == 404

    page.goto(curation_server + "/curate")
    assert "/curate/sign-in" in page.url
    page.fill("#curator-name", CURATOR)
    page.fill("#curator-password", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    assert page.url.endswith("/curate")
    with page.expect_navigation():
        page.get_by_role("link", name=NAME).click()
    assert page.locator("#validation-summary").inner_text().startswith("0 errors")
    with page.expect_navigation():
        page.locator("#accept").click()

    assert page.url == f"{curation_server}/datasets/{NAME}"
    assert page.locator("h1").inner_text() == "Browser probe: transverse images of the biceps brachii"
    with page.expect_navigation():
        page.locator("#history-link").click()
    rows = page.locator("#versions tbody tr")
    assert rows.count() == 1
    assert rows.first.inner_text().split("\t")[1:2] == ["created"]
    assert CURATOR in rows.first.inner_text()


def test_curate_refuses_anonymous_browser(page, curation_server):
    response = page.goto(curation_server + "/curate")
    assert "/curate/sign-in" in page.url
    assert response.status == 200
    assert page.locator("#curator-password").count() == 1
