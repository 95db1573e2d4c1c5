"""Helpers shared by the page, command-line, live-server and browser tests.

The expected results of the tests come from the seed records in `catalog/seed/*.json`, read here
with `json` and matched by plain Python rules, so that no expected result comes from the code
under test. The module also starts and stops `umud serve` processes, blocks network access to
other hosts than 127.0.0.1 during a test step, and launches Debian's Chromium through Playwright.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterable, Iterator

REPO = Path(__file__).resolve().parent.parent
SEED_DIR = REPO / "catalog" / "seed"
UMUD_COMMAND = REPO / ".venv" / "bin" / "umud"
BASE_URL = "http://127.0.0.1:5000"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = REPO / "test-artifacts"

# Members of the muscle groups, from anatomy. A group also matches itself and its subgroups.
TRICEPS_SURAE = {"Triceps surae", "Gastrocnemius", "Gastrocnemius Medialis", "Gastrocnemius Lateralis",
                 "Soleus"}
HAMSTRINGS = {"Hamstrings", "Biceps Femoris", "Semitendinosus", "Semimembranosus"}
QUADRICEPS = {"Quadriceps Femoris", "Rectus Femoris", "Vastus Lateralis", "Vastus Medialis",
              "Vastus Intermedius"}
MUSCLE_GROUPS = {
    "Triceps surae": TRICEPS_SURAE,
    "Hamstrings": HAMSTRINGS,
    "Thigh muscles": {"Thigh muscles"} | QUADRICEPS | HAMSTRINGS,
    "Lower leg muscles": {"Lower leg muscles", "Tibialis Anterior", "Peroneus Longus",
                          "Flexor Hallucis Longus", "Extensor Hallucis Longus", "Flexor Digitorum Longus",
                          "Extensor Digitorum Longus"} | TRICEPS_SURAE,
}

# Fields that the text search (`q`) looks in.
TEXT_SEARCH_FIELDS = ("name", "title", "description", "keywords", "label_description", "authors")


# The seed records and the rules that the filters follow


def seed_records() -> dict[str, dict[str, Any]]:
    """Return the bundled seed records by dataset name, read with `json` only."""
    records = {}
    for path in sorted(SEED_DIR.glob("*.json")):
        record = json.loads(path.read_text(encoding="utf-8"))
        records[record["name"]] = record
    return records


def sort_names(names: Iterable[str]) -> list[str]:
    """Sort dataset names as the catalog lists them: by name, ignoring case."""
    return sorted(names, key=str.casefold)


def values_of(record: dict[str, Any], field: str) -> list[Any]:
    """Return a field of a seed record as a list, which is empty when the field is absent."""
    value = record.get(field)
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def author_names(record: dict[str, Any]) -> list[str]:
    return [author if isinstance(author, str) else author["name"] for author in record["authors"]]


def names_where(records: dict[str, dict[str, Any]], test) -> list[str]:
    return sort_names(name for name, record in records.items() if test(record))


def names_with_value(records, field: str, *values: str) -> list[str]:
    """Datasets with any of the values in a field, compared without regard to case."""
    expected = {value.casefold() for value in values}
    return names_where(records, lambda record: any(
        str(item).casefold() in expected for item in values_of(record, field)))


def names_with_substring(records, field: str, text: str) -> list[str]:
    """Datasets where some value of a text field contains `text`, ignoring case."""
    def matches(record):
        items = author_names(record) if field == "authors" else values_of(record, field)
        return any(text.casefold() in str(item).casefold() for item in items)
    return names_where(records, matches)


def names_with_muscle_in(records, members: set[str]) -> list[str]:
    return names_where(records, lambda record: bool(members.intersection(record["muscle"])))


def names_in_range(records, field: str, low: float | None = None, high: float | None = None) -> list[str]:
    """Datasets whose value of a numeric field is known and lies within [low, high]."""
    def matches(record):
        value = record.get(field)
        if value is None:
            return False
        return (low is None or value >= low) and (high is None or value <= high)
    return names_where(records, matches)


def names_with_text(records, text: str) -> list[str]:
    """Datasets whose searchable text contains every word of `text`, ignoring case."""
    words = [word.casefold() for word in text.split()]

    def matches(record):
        parts = [record.get("title", record["name"])]
        for field in TEXT_SEARCH_FIELDS:
            if field == "authors":
                parts += author_names(record)
            elif field != "title":
                parts += [str(item) for item in values_of(record, field)]
        searchable = " ".join(parts).casefold()
        return all(word in searchable for word in words)
    return names_where(records, matches)


def seed_totals(records) -> dict[str, int]:
    return {
        "datasets": len(records),
        "images": sum(record.get("image_count") or 0 for record in records.values()),
        "videos": sum(record.get("video_count") or 0 for record in records.values()),
        "participants": sum(record["sample_size"] for record in records.values()),
    }


def displayed_totals(records) -> dict[str, str]:
    """The totals as the home page prints them, with thousands separators."""
    return {key: f"{value:,}" for key, value in seed_totals(records).items()}


# Reading pages


class PageParser(HTMLParser):
    """Collects the text of elements by id, class and heading tag, the links, and the table's links."""

    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict[str, str]]] = []
        self.text_by_id: dict[str, str] = {}
        self.text_by_class: dict[str, list[str]] = {}
        self.text_by_tag: dict[str, list[str]] = {}
        self.links: list[dict[str, str]] = []
        self.anchors: list[str] = []
        # Links in the result list of /datasets or in a table (the explore table).
        self.result_links: list[str] = []
        self._open: list[tuple[str, str, list[str]]] = []  # (tag, key, text parts)

    def handle_starttag(self, tag, attrs):
        attributes = {key: value or "" for key, value in attrs}
        if tag == "link":
            self.links.append(attributes)
        if tag == "a" and "href" in attributes:
            self.anchors.append(attributes["href"])
            if any(open_tag == "table" or "dataset-list" in open_attributes.get("class", "").split()
                   for open_tag, open_attributes in self.stack):
                self.result_links.append(attributes["href"])
        if tag in self.VOID:
            return
        self.stack.append((tag, attributes))
        for key in self._keys(tag, attributes):
            self._open.append((tag, key, []))

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        while self.stack:
            open_tag, attributes = self.stack.pop()
            self._close(open_tag, attributes)
            if open_tag == tag:
                break

    TAGS = {"title", "h1", "h2", "h3", "strong", "dt", "dd"}

    def _keys(self, tag: str, attributes: dict[str, str]) -> list[str]:
        keys = ["#" + attributes["id"]] if "id" in attributes else []
        keys += ["." + name for name in attributes.get("class", "").split()]
        return keys + (["<" + tag] if tag in self.TAGS else [])

    def _close(self, tag: str, attributes: dict[str, str]) -> None:
        collections = {"#": None, ".": self.text_by_class, "<": self.text_by_tag}
        for key in self._keys(tag, attributes):
            for index in range(len(self._open) - 1, -1, -1):
                if self._open[index][1] == key:
                    _, _, parts = self._open.pop(index)
                    text = " ".join("".join(parts).split())
                    if key.startswith("#"):
                        self.text_by_id[key[1:]] = text
                    else:
                        collections[key[0]].setdefault(key[1:], []).append(text)
                    break

    def handle_data(self, data):
        for _, _, parts in self._open:
            parts.append(data)


class MetadataParser(HTMLParser):
    """Collects, for each `<div class="field field-{name}">` of a landing page, the text and links of its `<dd>`."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.fields: dict[str, dict[str, Any]] = {}
        self._field: str | None = None
        self._in_value = False

    def handle_starttag(self, tag, attrs):
        attributes = {key: value or "" for key, value in attrs}
        classes = attributes.get("class", "").split()
        if tag == "div" and "field" in classes:
            names = [name.removeprefix("field-") for name in classes if name.startswith("field-")]
            self._field = names[0] if names else None
            if self._field:
                self.fields[self._field] = {"parts": [], "links": []}
        elif tag == "dd" and self._field:
            self._in_value = True
        elif tag == "a" and self._in_value:
            self.fields[self._field]["links"].append(attributes.get("href", ""))

    def handle_endtag(self, tag):
        if tag == "dd":
            self._in_value = False
        elif tag == "div" and not self._in_value:
            self._field = None

    def handle_data(self, data):
        if self._in_value and self._field:
            self.fields[self._field]["parts"].append(data)


def metadata_fields(html: str) -> dict[str, tuple[str, list[str]]]:
    """Return {field name: (text of its value, links in its value)} from a landing page."""
    parser = MetadataParser()
    parser.feed(html)
    parser.close()
    return {name: (" ".join("".join(found["parts"]).split()), found["links"])
            for name, found in parser.fields.items()}


def parse_page(html: str) -> PageParser:
    parser = PageParser()
    parser.feed(html)
    parser.close()
    return parser


def result_names(html: str) -> list[str]:
    """Return the dataset names linked from the results of /datasets or the table of /explore."""
    names = []
    for href in parse_page(html).result_links:
        if href.startswith("/datasets/"):
            names.append(href.removeprefix("/datasets/"))
    return names


def embedded_jsonld(html: str) -> str:
    """Return the text of the page's first `<script type="application/ld+json">` element."""
    opening = '<script type="application/ld+json">'
    start = html.index(opening) + len(opening)
    return html[start:html.index("</script>", start)]


# Network guard: tests that must not reach the network run their step inside `forbid_network()`.

_guard = threading.local()
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


class NetworkAccessError(RuntimeError):
    """A test step tried to reach another host than 127.0.0.1."""


def _audit(event: str, arguments: tuple) -> None:
    if not getattr(_guard, "active", False):
        return
    host = None
    if event == "socket.connect" and isinstance(arguments[1], tuple):
        host = arguments[1][0]
    elif event == "socket.getaddrinfo":
        host = arguments[0]
    elif event == "urllib.Request":
        host = urllib.request.urlparse(arguments[0]).hostname
    if host is not None and str(host) not in LOCAL_HOSTS:
        raise NetworkAccessError(f"network access to {host} during a test step that must stay offline")


sys.addaudithook(_audit)


@contextlib.contextmanager
def forbid_network() -> Iterator[None]:
    """Make every connection from this thread to another host than 127.0.0.1 raise."""
    _guard.active = True
    try:
        yield
    finally:
        _guard.active = False


# Processes of `umud serve`


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def clean_environment(**variables: str) -> dict[str, str]:
    """Return this process's environment without UMUD_* variables, plus `variables`."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("UMUD_")}
    environment.update(variables)
    return environment


def start_server(store: Path, port: int, *extra: str, log: Path, **environment: str) -> subprocess.Popen:
    """Start `umud serve` on 127.0.0.1:`port`, writing its output to the file `log`."""
    command = [str(UMUD_COMMAND), "serve", "--store", str(store), "--port", str(port),
               "--host", "127.0.0.1", *extra]
    with open(log, "wb") as output:
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT, cwd=store.parent,
                                env=clean_environment(**environment))


def wait_until_serving(process: subprocess.Popen, url: str, log: Path, timeout: float = 60.0) -> None:
    """Poll `url` until it returns 200, the process exits or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"umud serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.2)
    raise AssertionError(f"umud serve did not respond at {url} within {timeout:.0f} s:\n{log.read_text()}")


def stop_server(process: subprocess.Popen, timeout: float = 15.0) -> None:
    """Stop a server started by `start_server`: SIGTERM to its pid, then SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)
