"""The pages in a real headless Chromium (Debian's /usr/bin/chromium), driven by Playwright.

Playwright's own browser download is not used. Without Chromium the tests are skipped, except
when CI=true, where they fail so that a missing browser cannot pass unnoticed. A failing test
saves a screenshot to test-artifacts/{test name}.png.
"""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF

from catalog.search_index import TEXT_COLUMNS, TEXT_WEIGHTS

from .browser_support import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    MUSCLE_GROUPS,
    displayed_totals,
    names_in_range,
    names_with_muscle_in,
    names_with_text,
    names_with_value,
    seed_records,
    sort_names,
    values_of,
)

SEED = seed_records()
DCAT_DATASET = URIRef("http://www.w3.org/ns/dcat#Dataset")
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


def shown_names(page) -> list[str]:
    """Return the dataset names of the result list of /datasets, in the order shown."""
    return page.locator(".dataset-item").evaluate_all("items => items.map(item => item.dataset.name)")


def table_rows(page) -> list[str]:
    """Return the dataset names of the explore table, in the order shown."""
    return page.locator("#explore-table tbody tr").evaluate_all("rows => rows.map(row => row.dataset.name)")


def facet_counts(page, field: str) -> dict[str, int]:
    """Return {value: count} of a facet as the page shows it."""
    return page.locator(f"#facet-{field} li").evaluate_all(
        "items => Object.fromEntries(items.map(item => [item.querySelector('input').value, "
        "Number(item.querySelector('.facet-count').textContent)]))")


def tick(page, field: str, value: str) -> None:
    """Tick a facet value and wait until the results for the new URL are in place."""
    before = page.url
    page.locator(f'#facet-{field} input[value="{value}"]').check()
    page.wait_for_function("before => location.href !== before", arg=before)
    wait_for_results(page)


def wait_for_results(page) -> None:
    page.wait_for_selector('#results[aria-busy="false"]')


def expected_counts(records: dict, field: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in records.values():
        for value in values_of(record, field):
            counts[str(value)] = counts.get(str(value), 0) + 1
    return counts


def weighted_occurrences(record: dict, word: str) -> float:
    """Count a word in a record's text columns, each count times the column's relevance weight."""
    weights = dict(zip(TEXT_COLUMNS, TEXT_WEIGHTS))
    columns = {"name": [record["name"]], "title": [record["title"]], "description": [record["description"]],
               "label_description": [record.get("label_description") or ""],
               "keywords": values_of(record, "keywords")}
    return sum(weights[column] * sum(part.casefold().count(word) for part in parts)
               for column, parts in columns.items())


@pytest.mark.parametrize("total", ["datasets", "images", "videos", "participants"])
def test_home_total(page, live_server, total):
    page.goto(live_server + "/")
    assert page.locator(f"#total-{total}").inner_text() == displayed_totals(SEED)[total]


def test_facet_changes_results_and_counts_without_reload(page, live_server):
    page.goto(live_server + "/datasets")
    page.evaluate("window.loadedOnce = true")
    assert shown_names(page) == sort_names(SEED)
    assert facet_counts(page, "data_type") == expected_counts(SEED, "data_type")

    tick(page, "muscle", "Soleus")

    with_soleus = {name: SEED[name] for name in names_with_value(SEED, "muscle", "Soleus")}
    assert "muscle=Soleus" in page.url
    assert page.evaluate("window.loadedOnce") is True, "the page was reloaded"
    assert shown_names(page) == sort_names(with_soleus)
    assert facet_counts(page, "data_type") == expected_counts(with_soleus, "data_type")
    assert page.locator("#result-count strong").inner_text() == str(len(with_soleus))


def test_two_values_of_a_facet_combine_with_or(page, live_server):
    page.goto(live_server + "/datasets")
    tick(page, "muscle", "Biceps Brachii")
    tick(page, "muscle", "Biceps Femoris")
    assert shown_names(page) == names_with_value(SEED, "muscle", "Biceps Brachii", "Biceps Femoris")


def test_facets_combine_with_and(page, live_server):
    page.goto(live_server + "/datasets")
    tick(page, "data_type", "Video")
    tick(page, "labels", "true")
    expected = [name for name in names_with_value(SEED, "data_type", "Video") if SEED[name].get("labels") is True]
    assert shown_names(page) == expected


def test_anatomy_group_finds_its_muscles(page, live_server):
    page.goto(live_server + "/datasets")
    tick(page, "muscle", "Triceps surae")
    expected = names_with_muscle_in(SEED, MUSCLE_GROUPS["Triceps surae"])
    assert shown_names(page) == expected
    assert facet_counts(page, "muscle")["Triceps surae"] == len(expected)


def test_manufacturer_finds_its_devices(page, live_server):
    page.goto(live_server + "/datasets")
    page.evaluate("window.loadedOnce = true")
    tick(page, "device", "Esaote")
    expected = sort_names(name for name, record in SEED.items()
                          if any(device.startswith("Esaote ") for device in values_of(record, "device")))
    assert expected
    assert shown_names(page) == expected
    assert facet_counts(page, "device")["Esaote"] == len(expected)
    assert page.evaluate("window.loadedOnce") is True, "the page reloaded"


def test_range_narrows(page, live_server):
    page.goto(live_server + "/datasets")
    before = page.url
    page.get_by_label("Mean age at least").fill("30")
    page.wait_for_function("before => location.href !== before", arg=before)
    wait_for_results(page)
    expected = names_in_range(SEED, "age", 30, None)
    assert len(expected) < len(SEED)
    assert shown_names(page) == expected


@pytest.mark.parametrize("word", ["fascicle", "segmentation"])
def test_text_search_ranks_by_relevance(page, live_server, word):
    page.goto(live_server + "/datasets")
    before = page.url
    page.get_by_label("Search text").fill(word)
    page.wait_for_function("before => location.href !== before", arg=before)
    wait_for_results(page)
    shown = shown_names(page)
    assert sorted(shown) == sorted(names_with_text(SEED, word))
    counts = {name: weighted_occurrences(SEED[name], word) for name in shown}
    assert counts[shown[0]] == max(counts.values())
    assert page.locator("#sort strong").inner_text() == "Relevance"


def test_sort_by_images(page, live_server):
    page.goto(live_server + "/datasets")
    page.get_by_role("link", name="Most images").click()
    page.wait_for_url("**sort=-image_count**")
    wait_for_results(page)
    with_images = [name for name in SEED if SEED[name].get("image_count") is not None]
    expected = sorted(with_images, key=lambda name: (-SEED[name]["image_count"], name.casefold()))
    assert shown_names(page)[:len(expected)] == expected


def test_back_button_restores_results(page, live_server):
    page.goto(live_server + "/datasets")
    tick(page, "data_type", "Volume")
    assert shown_names(page) == names_with_value(SEED, "data_type", "Volume")
    page.go_back()
    page.wait_for_function("() => !location.search")
    wait_for_results(page)
    assert shown_names(page) == sort_names(SEED)


def test_works_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    context.set_default_timeout(WAIT_MS)
    try:
        page = context.new_page()
        page.goto(live_server + "/datasets")
        page.locator('#facet-muscle input[value="Soleus"]').check()
        page.get_by_label("Mean age at least").fill("20")
        with page.expect_navigation():
            page.get_by_role("button", name="Apply filters").click()
        assert "muscle=Soleus" in page.url
        assert "age_min=20" in page.url
        expected = [name for name in names_with_value(SEED, "muscle", "Soleus")
                    if name in names_in_range(SEED, "age", 20, None)]
        assert shown_names(page) == expected
    finally:
        context.close()


def test_empty_state_offers_to_remove_a_filter(page, live_server):
    page.goto(live_server + "/datasets?muscle=Lumbar+Multifidus&data_type=Volume")
    message = page.locator("#no-results")
    assert message.is_visible()
    assert message.inner_text().startswith("No dataset matches these filters.")
    assert shown_names(page) == []
    message.get_by_role("link", name="Data type: Volume").click()
    page.wait_for_function("() => !location.search.includes('data_type')")
    wait_for_results(page)
    assert shown_names(page) == names_with_value(SEED, "muscle", "Lumbar Multifidus")


@pytest.mark.parametrize("path", ["/datasets", "/explore"])
def test_downloads_hold_the_shown_datasets(page, live_server, path):
    page.goto(live_server + path + "?muscle=Triceps+surae&labels=true")
    shown = shown_names(page) if path == "/datasets" else table_rows(page)
    assert shown and len(shown) < len(SEED)
    links = {name: page.locator("#downloads").get_by_role("link", name=name, exact=True).get_attribute("href")
             for name in ("CSV", "JSON-LD", "Turtle")}

    with page.expect_download() as download:
        page.locator("#downloads").get_by_role("link", name="CSV", exact=True).click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text(encoding="utf-8"))))
    assert sorted(row["name"] for row in rows) == sorted(shown)

    records = page.request.get(live_server + page.locator("#downloads").get_by_role(
        "link", name="JSON", exact=True).get_attribute("href")).json()
    assert sorted(record["name"] for record in records) == sorted(shown)

    for name, rdf_format in (("JSON-LD", "json-ld"), ("Turtle", "turtle")):
        response = page.request.get(live_server + links[name])
        assert response.ok
        graph = Graph().parse(data=response.text(), format=rdf_format)
        identifiers = {str(graph.value(dataset, DCTERMS.identifier))
                       for dataset in graph.subjects(RDF.type, DCAT_DATASET)}
        assert identifiers == set(shown)


def test_explore_empty_chart_explained(page, live_server):
    assert not SEED["DeepMTJ_2021"].get("age")
    page.goto(live_server + "/explore?q=DeepMTJ")
    page.wait_for_selector('#charts[data-drawn="true"]')

    ages = page.locator('[data-chart="ages"]')

    assert ages.inner_text() == "No data among the matching datasets."
    assert ages.locator("svg").count() == 0
    assert page.locator('[data-chart="data-types"] svg .mark-rect path').count() == 1
    ticks = page.locator('[data-chart="data-types"] svg .role-axis-label text').all_text_contents()
    assert "1" in ticks
    assert all("." not in tick for tick in ticks), ticks


def test_explore_charts_render(page, live_server):
    page.goto(live_server + "/explore")
    page.wait_for_selector('#charts[data-drawn="true"]')
    charts = page.locator("#charts .chart")
    assert charts.count() == 7
    for index in range(charts.count()):
        chart = charts.nth(index)
        assert chart.get_attribute("data-drawn") == "true"
        assert chart.locator("svg .mark-rect path, svg .mark-symbol path").count() > 0, chart.get_attribute("data-chart")
        figure = page.locator(".chart-figure").nth(index)
        assert figure.locator("h2").inner_text()
        assert figure.locator("details table tbody tr").count() > 0
    bars = page.locator('[data-chart="data-types"] svg .mark-rect path')
    assert bars.count() == len(expected_counts(SEED, "data_type"))


def test_explore_follows_filters(page, live_server):
    page.goto(live_server + "/explore")
    page.wait_for_selector('#charts[data-drawn="true"]')
    assert table_rows(page) == sort_names(SEED)
    tick(page, "data_type", "Video")
    page.wait_for_selector('#charts[data-drawn="true"]')
    videos = names_with_value(SEED, "data_type", "Video")
    assert table_rows(page) == videos
    assert page.locator('[data-chart="data-types"] svg .mark-rect path').count() == 1
    year_rows = page.locator("#figure-years details tbody tr").evaluate_all(
        "rows => rows.map(row => [row.cells[0].textContent, Number(row.cells[1].textContent)])")
    expected_years = expected_counts({name: SEED[name] for name in videos}, "year")
    assert {year: count for year, count in year_rows} == expected_years


def test_explore_table_sorts(page, live_server):
    page.goto(live_server + "/explore")
    page.locator("#explore-table thead").get_by_role("link", name="Participants").click()
    page.wait_for_url("**sort=sample_size**")
    wait_for_results(page)
    expected = sorted(SEED, key=lambda name: (SEED[name]["sample_size"], name.casefold()))
    assert table_rows(page) == expected
    assert page.locator("#explore-table thead th[aria-sort=ascending]").inner_text().startswith("Participants")


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
    for path in ("/", "/datasets", "/explore", "/datasets/DeepACSA_2022", "/sparql", "/about"):
        page.goto(live_server + path, wait_until="load")
    assert external_requests == []


def test_no_console_errors(page, live_server):
    errors = []

    def keep_error(message):
        if message.type == "error":
            errors.append(message.text)

    page.on("console", keep_error)
    page.on("pageerror", lambda error: errors.append(str(error)))
    for path in ("/", "/datasets", "/explore", "/datasets/DeepACSA_2022", "/sparql"):
        page.goto(live_server + path, wait_until="load")
    assert errors == []


def test_explore_fits_the_window(browser, live_server):
    context = browser.new_context(viewport={"width": 1300, "height": 900})
    context.set_default_timeout(WAIT_MS)
    try:
        page = context.new_page()
        warnings = []
        page.on("console", lambda message: warnings.append(message.text) if message.type in {"warning", "error"} else None)
        page.goto(live_server + "/explore")
        page.wait_for_selector('#charts[data-drawn="true"]')
        assert page.evaluate("document.documentElement.scrollWidth") <= 1300
        assert warnings == []
    finally:
        context.close()
