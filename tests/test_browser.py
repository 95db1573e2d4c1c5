"""The pages in a real headless Chromium (Debian's /usr/bin/chromium), driven by Playwright.

Playwright's own browser download is not used. Without Chromium the tests are skipped, except
when CI=true, where they fail so that a missing browser cannot pass unnoticed. A failing test
saves a screenshot to test-artifacts/{test name}.png.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from .browser_support import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    MUSCLE_GROUPS,
    displayed_totals,
    names_in_range,
    names_with_muscle_in,
    names_with_value,
    seed_records,
)

SEED = seed_records()
# Bounds every wait for a page or an element, in milliseconds.
WAIT_MS = 10_000


def unavailable(reason: str):
    """Fail the test on CI, where the browser must be installed, and skip it elsewhere."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing; install Debian's chromium package (make browser)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        unavailable("the playwright package is not installed; pip install -e '.[test]'")

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, timeout=30_000)
        yield launched
        launched.close()


@pytest.fixture()
def external_requests() -> list[str]:
    return []


@pytest.fixture()
def page(browser, request, external_requests):
    """Open a browser page that may reach only 127.0.0.1, and save a screenshot if the test fails."""
    context = browser.new_context()
    context.set_default_timeout(WAIT_MS)

    def keep_local(route):
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            external_requests.append(route.request.url)
            route.abort()

    context.route("**/*", keep_local)
    opened = context.new_page()
    failures_before = request.session.testsfailed
    yield opened
    if request.session.testsfailed > failures_before:
        ARTIFACTS.mkdir(exist_ok=True)
        opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def table_names(page) -> list[str]:
    """Return the dataset names in the results table, in the order shown."""
    return page.locator("table.dataset-table tbody tr td:first-child .meta").all_inner_texts()


def apply_filters(page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Apply filters").click()


@pytest.mark.parametrize("total", ["datasets", "images", "videos", "participants"])
def test_home_total(page, live_server, total):
    page.goto(live_server + "/")
    assert page.locator(f"#total-{total}").inner_text() == displayed_totals(SEED)[total]


def test_filter_by_muscle(page, live_server):
    page.goto(live_server + "/datasets")
    page.select_option("#filter-muscle", label="Soleus")
    apply_filters(page)
    assert "muscle=Soleus" in page.url
    assert table_names(page) == names_with_value(SEED, "muscle", "Soleus")


def test_filter_by_group(page, live_server):
    page.goto(live_server + "/datasets")
    page.select_option("#filter-muscle", label="Triceps surae")
    apply_filters(page)
    assert table_names(page) == names_with_muscle_in(SEED, MUSCLE_GROUPS["Triceps surae"])


def test_filter_two_muscles(page, live_server):
    page.goto(live_server + "/datasets")
    page.select_option("#filter-muscle", label=["Biceps Brachii", "Biceps Femoris"])
    apply_filters(page)
    assert table_names(page) == names_with_value(SEED, "muscle", "Biceps Brachii", "Biceps Femoris")


def test_range_narrows(page, live_server):
    page.goto(live_server + "/datasets")
    shown_before = table_names(page)
    page.get_by_label("Mean age at least").fill("30")
    apply_filters(page)
    expected = names_in_range(SEED, "age", 30, None)
    assert len(shown_before) == len(SEED)
    assert table_names(page) == expected
    assert len(expected) < len(SEED)


def test_filter_keeps_choices(page, live_server):
    """The form shows the filters of the current list."""
    page.goto(live_server + "/datasets?muscle=Soleus&age_min=20")
    assert page.locator("#filter-muscle").evaluate("select => [...select.selectedOptions].map(o => o.value)") == ["Soleus"]
    assert page.get_by_label("Mean age at least").input_value() == "20"


def test_no_match_message(page, live_server):
    page.goto(live_server + "/datasets")
    page.select_option("#filter-muscle", label="Deltoid")
    apply_filters(page)
    assert page.locator("#no-results").is_visible()
    assert page.locator("#no-results").inner_text().startswith("No dataset matches these filters.")
    assert table_names(page) == []


def test_open_dataset(page, live_server):
    name = "DeepACSA_2022"
    page.goto(live_server + "/datasets")
    with page.expect_navigation():
        page.get_by_role("link", name=SEED[name]["title"]).click()
    document = page.locator('script[type="application/ld+json"]').evaluate("element => JSON.parse(element.textContent)")
    assert page.url == f"{live_server}/datasets/{name}"
    assert page.locator("h1").inner_text() == SEED[name]["title"]
    assert document["@type"] == "Dataset"
    assert document["alternateName"] == name


def test_sparql_page(page, live_server):
    response = page.goto(live_server + "/sparql")
    assert response.status == 200
    assert page.locator("textarea").count() == 1
    assert page.locator("textarea").is_editable()


def test_nothing_external(page, live_server, external_requests):
    """The pages load nothing from other hosts."""
    for path in ("/", "/datasets", "/datasets/DeepACSA_2022", "/sparql", "/about"):
        page.goto(live_server + path, wait_until="load")
    assert external_requests == []


def test_no_console_errors(page, live_server):
    errors = []

    def keep_error(message):
        if message.type == "error":
            errors.append(message.text)

    page.on("console", keep_error)
    page.on("pageerror", lambda error: errors.append(str(error)))
    for path in ("/", "/datasets", "/datasets/DeepACSA_2022", "/sparql"):
        page.goto(live_server + path, wait_until="load")
    assert errors == []
