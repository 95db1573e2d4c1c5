"""The `umud` command run as a real process on Oxigraph stores in temporary directories.

Each store directory is opened by one process at a time, so the tests run the commands one after
another. Steps that read JSON-LD run under an audit hook that ends the process on any network
access, which shows that no remote context is fetched.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from rdflib import Dataset as RdfDataset
from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF

from .browser_support import (
    BASE_URL,
    UMUD_COMMAND,
    clean_environment,
    free_port,
    start_server,
    stop_server,
    wait_until_serving,
)

DCAT_DATASET = URIRef("http://www.w3.org/ns/dcat#Dataset")
DCAT_LINK = URIRef("http://www.w3.org/ns/dcat#dataset")
RDF_EXPORTS = {"turtle": "turtle", "jsonld": "json-ld", "ntriples": "nt", "rdfxml": "xml",
               "trig": "trig", "nquads": "nquads"}
NETWORK_EXIT_CODE = 97
# Python code that runs the command line and ends the process on any socket connection or name look-up.
OFFLINE_MAIN = textwrap.dedent(f"""
    import os, sys

    def exit_on_network_access(event, arguments):
        if event in ("socket.connect", "socket.getaddrinfo", "urllib.Request"):
            sys.stderr.write(f"network access attempted: {{event}} {{arguments!r}}\\n")
            sys.stderr.flush()
            os._exit({NETWORK_EXIT_CODE})

    sys.addaudithook(exit_on_network_access)
    from catalog.cli import main
    sys.exit(main(sys.argv[1:]))
""")


def umud(*arguments, cwd: Path, offline: bool = False, timeout: float = 180,
         **environment: str) -> subprocess.CompletedProcess:
    """Run `umud` with UMUD_* variables taken only from `environment`, and return the finished process."""
    command = [sys.executable, "-c", OFFLINE_MAIN] if offline else [str(UMUD_COMMAND)]
    return subprocess.run([*command, *map(str, arguments)], cwd=cwd, env=clean_environment(**environment),
                          capture_output=True, text=True, timeout=timeout)


def export(store: Path, export_format: str, cwd: Path, **environment: str) -> str:
    finished = umud("export", "--store", store, "--format", export_format, cwd=cwd, **environment)
    assert finished.returncode == 0, finished.stderr
    return finished.stdout


def exported_names(store: Path, cwd: Path) -> list[str]:
    return sorted(record["name"] for record in json.loads(export(store, "json", cwd)))


def entry_name(path: Path) -> str:
    return json.loads(path.read_text(encoding="utf-8"))["DATASET_NAME"]


def iri(name: str, base: str = BASE_URL) -> URIRef:
    return URIRef(f"{base}/datasets/{name}")


# Loading the original UMUD entries


class LoadedStore:
    """A closed store with the 15 original UMUD entries, the `umud load` run and cached exports."""

    def __init__(self, directory: Path, entries: list[Path]):
        self.directory = directory
        self.store = directory / "store"
        self.finished = umud("load", "--store", self.store, *entries, cwd=directory)
        self._exports: dict[str, str] = {}

    def export(self, export_format: str) -> str:
        if export_format not in self._exports:
            self._exports[export_format] = export(self.store, export_format, self.directory)
        return self._exports[export_format]


@pytest.fixture(scope="module")
def loaded(umud_entries, tmp_path_factory):
    return LoadedStore(tmp_path_factory.mktemp("loaded"), umud_entries)


def test_load_exit_code(loaded):
    finished = loaded.finished
    assert finished.returncode == 0, finished.stdout + finished.stderr


def test_load_reports_each_file(loaded, umud_entries):
    finished = loaded.finished
    for path in umud_entries:
        assert f"{path}: loaded: {entry_name(path)}" in finished.stdout


def test_load_summary(loaded, umud_entries):
    finished = loaded.finished
    assert finished.stdout.splitlines()[-1] == f"{len(umud_entries)} of {len(umud_entries)} files loaded"


def test_export_json_names(loaded, umud_entries):
    names = sorted(record["name"] for record in json.loads(loaded.export("json")))
    assert names == sorted(entry_name(path) for path in umud_entries)


@pytest.mark.parametrize("export_format", RDF_EXPORTS)
def test_export_rdf(loaded, umud_entries, export_format):
    text = loaded.export(export_format)
    if export_format in {"trig", "nquads"}:
        quads = RdfDataset().parse(data=text, format=RDF_EXPORTS[export_format])
        datasets = {subject for subject, _, _, _ in quads.quads((None, RDF.type, DCAT_DATASET, None))}
    else:
        datasets = set(Graph().parse(data=text, format=RDF_EXPORTS[export_format]).subjects(RDF.type, DCAT_DATASET))
    assert datasets == {iri(entry_name(path)) for path in umud_entries}


@pytest.mark.parametrize("export_format", ["trig", "nquads"])
def test_export_named_graphs(loaded, umud_entries, export_format):
    """Quad formats keep each dataset in the named graph named by its IRI."""
    quads = RdfDataset().parse(data=loaded.export(export_format), format=RDF_EXPORTS[export_format])
    for path in umud_entries:
        dataset = iri(entry_name(path))
        assert (dataset, RDF.type, DCAT_DATASET, dataset) in quads


def test_export_catalog_links(loaded, umud_entries):
    graph = Graph().parse(data=loaded.export("turtle"), format="turtle")
    linked = set(graph.objects(URIRef(f"{BASE_URL}/catalog"), DCAT_LINK))
    assert linked == {iri(entry_name(path)) for path in umud_entries}


def test_export_csv(loaded, umud_entries):
    text = loaded.export("csv")
    rows = list(csv.reader(io.StringIO(text)))
    assert len(text.splitlines()) == len(umud_entries) + 1
    assert rows[0][:3] == ["name", "title", "description"]
    assert sorted(row[0] for row in rows[1:]) == sorted(entry_name(path) for path in umud_entries)


def test_export_json_objects(loaded, umud_entries):
    records = json.loads(loaded.export("json"))
    assert len(records) == len(umud_entries)
    assert all(isinstance(record, dict) for record in records)


def test_export_to_file(loaded, tmp_path):
    target = tmp_path / "catalog.json"
    finished = umud("export", "--store", loaded.store, "--format", "json", "--output", target, cwd=tmp_path)
    assert finished.returncode == 0
    assert finished.stdout == ""
    assert target.read_text(encoding="utf-8") == loaded.export("json")


# Files that must not be written


# Marks a key that a broken variant leaves out.
DELETE = object()


def broken_entries(good: dict) -> dict[str, tuple[str, str, str]]:
    """Return {case: (file text, field named in the error, reason)} for broken variants of `good`."""
    renamed = {**good, "DATASET_NAME": "Broken_2024"}

    def variant(**changes) -> str:
        entry = {**renamed, **changes}
        return json.dumps({key: value for key, value in entry.items() if value is not DELETE})

    return {
        "malformed-json": ('{"DATASET_NAME": "Broken_2024",', "", "malformed JSON at line 1"),
        "unknown-muscle": (variant(MUSCLE=["Unicornus Maximus"]), "MUSCLE",
                           "'Unicornus Maximus' is not in the UMUD muscle list"),
        "negative-sample-size": (variant(SAMPLE_SIZE=-5), "SAMPLE_SIZE", "greater than or equal to 1"),
        "malformed-doi": (variant(DOI="abc"), "DOI", "'abc' is not a DOI"),
        "malformed-link": (variant(DATASET_LINK="osf.io/a3u4v"), "DATASET_LINK", "is not an http(s) URL"),
        "missing-description": (variant(SHORT_DESCRIPTION=DELETE), "SHORT_DESCRIPTION", "is required but missing"),
        "unknown-key": (variant(COLOUR="grey"), "COLOUR", "is not a field of the UMUD JSON format"),
    }


BROKEN_CASES = ["malformed-json", "unknown-muscle", "negative-sample-size", "malformed-doi", "malformed-link",
                "missing-description", "unknown-key"]


@pytest.fixture(scope="module")
def base_store(umud_entries, tmp_path_factory):
    """A closed store with one dataset, and its N-Quads export as a sorted list of lines."""
    directory = tmp_path_factory.mktemp("base")
    store = directory / "store"
    finished = umud("load", "--store", store, umud_entries[0], cwd=directory)
    assert finished.returncode == 0, finished.stdout
    return store, sorted(export(store, "nquads", directory).splitlines())


@pytest.fixture()
def store_copy(base_store, tmp_path):
    store, before = base_store
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    return copy, before


@pytest.mark.parametrize("case", BROKEN_CASES)
def test_broken_file_rejected(store_copy, umud_entries, tmp_path, case):
    store, before = store_copy
    text, field, reason = broken_entries(json.loads(umud_entries[0].read_text()))[case]
    path = tmp_path / f"{case}.json"
    path.write_text(text, encoding="utf-8")

    finished = umud("load", "--store", store, path, cwd=tmp_path)
    output = finished.stdout + finished.stderr
    assert finished.returncode != 0
    assert f"{path}: FAILED, nothing written" in output
    assert (f"error: {field}: " if field else "error: ") in output
    assert reason in output
    assert sorted(export(store, "nquads", tmp_path).splitlines()) == before


# (file name, content or None for no file, reason in the error)
BAD_INPUT_FILES = {
    "missing-file": ("missing.json", None, "cannot read the file"),
    "unknown-suffix": ("entry.txt", "{}", "file type '.txt'; give .json, .ttl, .jsonld, .nt or .rdf"),
    "malformed-turtle": ("broken.ttl", "<http://a.example/s> <http://a.example/p> .", "malformed turtle"),
    "turtle-without-dataset": ("empty.ttl", "<http://a.example/s> <http://a.example/p> <http://a.example/o> .",
                               "no dcat:Dataset found in the file"),
    "not-utf8": ("latin1.json", b'{"DATASET_NAME": "Caf\xe9_2024"}', "not UTF-8"),
}


@pytest.mark.parametrize("case", BAD_INPUT_FILES)
def test_bad_input_file_rejected(store_copy, tmp_path, case):
    store, before = store_copy
    file_name, content, reason = BAD_INPUT_FILES[case]
    path = tmp_path / file_name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    elif isinstance(content, bytes):
        path.write_bytes(content)

    finished = umud("load", "--store", store, path, cwd=tmp_path)
    assert finished.returncode != 0
    assert f"{path}: FAILED, nothing written" in finished.stdout
    assert reason in finished.stdout
    assert sorted(export(store, "nquads", tmp_path).splitlines()) == before


def test_batch_writes_good_files(umud_entries, tmp_path):
    good_first, good_second = umud_entries[0], umud_entries[6]
    bad = tmp_path / "bad.json"
    bad.write_text(broken_entries(json.loads(good_first.read_text()))["unknown-muscle"][0], encoding="utf-8")
    store = tmp_path / "store"

    finished = umud("load", "--store", store, good_first, bad, good_second, cwd=tmp_path)
    assert finished.returncode == 1
    assert finished.stdout.splitlines()[-1] == "2 of 3 files loaded, 1 failed"
    assert exported_names(store, tmp_path) == sorted([entry_name(good_first), entry_name(good_second)])


def test_reload_replaces_dataset(umud_entries, tmp_path):
    store = tmp_path / "store"
    first = umud("load", "--store", store, umud_entries[0], cwd=tmp_path)
    second = umud("load", "--store", store, umud_entries[0], cwd=tmp_path)
    graph = Graph().parse(data=export(store, "turtle", tmp_path), format="turtle")
    catalog = URIRef(f"{BASE_URL}/catalog")
    assert first.returncode == 0
    assert second.returncode == 0
    assert list(graph.objects(catalog, DCAT_LINK)) == [iri(entry_name(umud_entries[0]))]
    assert len(list(graph.objects(catalog, DCTERMS.modified))) == 1
    assert len(list(graph.objects(iri(entry_name(umud_entries[0])), DCTERMS.title))) == 1


# Validation writes nothing


def test_validate_accepts_entries(umud_entries, tmp_path):
    store = tmp_path / "store"
    finished = umud("validate", *umud_entries, cwd=tmp_path, UMUD_STORE=str(store))
    assert finished.returncode == 0
    assert finished.stdout.splitlines()[-1] == f"{len(umud_entries)} of {len(umud_entries)} files valid"
    assert not store.exists()
    assert list(tmp_path.iterdir()) == []


def test_validate_rejects_broken(umud_entries, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(broken_entries(json.loads(umud_entries[0].read_text()))["malformed-doi"][0], encoding="utf-8")
    finished = umud("validate", umud_entries[0], bad, cwd=tmp_path, UMUD_STORE=str(tmp_path / "store"))
    assert finished.returncode == 1
    assert f"{bad}: INVALID" in finished.stdout
    assert "error: DOI: 'abc' is not a DOI" in finished.stdout
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bad.json"]


# Environment variables


def test_store_from_environment(umud_entries, tmp_path):
    store = tmp_path / "from-environment"
    loaded = umud("load", umud_entries[0], cwd=tmp_path, UMUD_STORE=str(store))
    exported = umud("export", "--format", "json", cwd=tmp_path, UMUD_STORE=str(store))
    assert loaded.returncode == 0
    assert store.is_dir()
    assert [record["name"] for record in json.loads(exported.stdout)] == [entry_name(umud_entries[0])]


def test_base_url_from_environment(umud_entries, tmp_path):
    base = "https://umud.example/catalog-test"
    store = tmp_path / "store"
    loaded = umud("load", "--store", store, umud_entries[0], cwd=tmp_path, UMUD_BASE_URL=base)
    text = export(store, "turtle", tmp_path, UMUD_BASE_URL=base)
    graph = Graph().parse(data=text, format="turtle")
    assert loaded.returncode == 0
    assert (iri(entry_name(umud_entries[0]), base), RDF.type, DCAT_DATASET) in graph
    assert set(graph.objects(URIRef(f"{base}/catalog"), DCAT_LINK)) == {iri(entry_name(umud_entries[0]), base)}


def test_store_keeps_its_base_url(umud_entries, tmp_path):
    store = tmp_path / "store"
    umud("load", "--store", store, umud_entries[0], cwd=tmp_path, UMUD_BASE_URL="https://umud.example/a")
    finished = umud("export", "--store", store, cwd=tmp_path, UMUD_BASE_URL="https://umud.example/b")
    assert finished.returncode == 2
    assert "catalog https://umud.example/a/catalog, but the base URL is https://umud.example/b" in finished.stderr


# RDF files


@pytest.mark.parametrize(("export_format", "suffix"), [
    ("turtle", "ttl"),
    ("jsonld", "jsonld"),
    ("ntriples", "nt"),
    ("rdfxml", "rdf"),
])
def test_rdf_round_trip(loaded, tmp_path, export_format, suffix):
    """The exported catalog, loaded into a new store, gives the same records back."""
    path = tmp_path / f"catalog.{suffix}"
    path.write_text(loaded.export(export_format), encoding="utf-8")
    store = tmp_path / "store"

    finished = umud("load", "--store", store, path, cwd=tmp_path, offline=True)
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert json.loads(export(store, "json", tmp_path)) == json.loads(loaded.export("json"))


@pytest.mark.parametrize("suffix", ["ttl", "jsonld"])
def test_load_served_rdf(client, tmp_path, suffix):
    """A dataset's RDF as the server sends it can be loaded into another catalog."""
    name = "DeepACSA_2022"
    path = tmp_path / f"{name}.{suffix}"
    path.write_bytes(client.get(f"/datasets/{name}.{suffix}").get_data())
    store = tmp_path / "store"

    finished = umud("load", "--store", store, path, cwd=tmp_path, offline=True)
    original = client.get(f"/datasets/{name}.nt").get_data(as_text=True)
    copy = Graph().parse(data=export(store, "ntriples", tmp_path), format="nt")
    assert finished.returncode == 0, finished.stdout + finished.stderr
    assert f"{path}: loaded: {name}" in finished.stdout
    for predicate in (DCTERMS.identifier, DCTERMS.title, DCTERMS.description, DCTERMS.issued):
        expected = Graph().parse(data=original, format="nt").value(iri(name), predicate)
        assert copy.value(iri(name), predicate) == expected


REMOTE_CONTEXTS = {
    "string": {"@context": "https://schema.org/", "@type": "Dataset", "name": "Remote_2024"},
    "list": {"@context": ["https://schema.org/", {"dcat": "http://www.w3.org/ns/dcat#"}],
             "@type": "dcat:Dataset"},
    "import": {"@context": {"@import": "https://schema.org/", "@vocab": "https://schema.org/"},
               "@type": "Dataset"},
    "nested": {"@context": {"@vocab": "https://schema.org/"},
               "@graph": [{"@context": "https://w3id.org/remote-context.jsonld", "@type": "Dataset"}]},
    "top-level-list": [{"@context": "https://schema.org/", "@type": "Dataset"}],
}


@pytest.mark.parametrize("case", REMOTE_CONTEXTS)
def test_remote_context_rejected(tmp_path, case):
    path = tmp_path / "remote.jsonld"
    path.write_text(json.dumps(REMOTE_CONTEXTS[case]), encoding="utf-8")
    finished = umud("load", "--store", tmp_path / "store", path, cwd=tmp_path, offline=True)
    assert finished.returncode == 1, finished.stderr
    assert "error: @context: remote JSON-LD contexts are not fetched" in finished.stdout


def test_offline_guard_works(tmp_path):
    """The offline runner really ends a process that opens a connection."""
    finished = subprocess.run(
        [sys.executable, "-c", OFFLINE_MAIN.replace("from catalog.cli import main",
                                                    "import socket; socket.getaddrinfo('w3id.org', 443)")],
        cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert finished.returncode == NETWORK_EXIT_CODE


# A store in use by a server


def test_store_in_use(umud_entries, tmp_path):
    store = tmp_path / "store"
    log = tmp_path / "serve.log"
    port = free_port()
    server = start_server(store, port, log=log)
    try:
        wait_until_serving(server, f"http://127.0.0.1:{port}/", log)
        finished = umud("load", "--store", store, umud_entries[0], cwd=tmp_path)
    finally:
        stop_server(server)
    assert finished.returncode == 2
    assert f"The store at {store} is in use by another process" in finished.stderr


def test_json_export_loads_back(umud_entries, tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    assert umud("load", "--store", first, *umud_entries[:3], cwd=tmp_path).returncode == 0
    exported = tmp_path / "export.json"
    assert umud("export", "--store", first, "--format", "json", "-o", exported, cwd=tmp_path).returncode == 0
    loaded = umud("load", "--store", second, exported, cwd=tmp_path)
    assert loaded.returncode == 0, loaded.stdout
    assert exported_names(second, tmp_path) == exported_names(first, tmp_path)


def test_json_array_with_bad_record(umud_entries, tmp_path):
    records = [json.loads(path.read_text()) for path in umud_entries[:2]]
    records[1]["SAMPLE_SIZE"] = -1
    path = tmp_path / "two.json"
    path.write_text(json.dumps(records))
    finished = umud("load", "--store", tmp_path / "store", path, cwd=tmp_path)
    assert finished.returncode == 1
    assert "error: [1].SAMPLE_SIZE:" in finished.stdout
    assert exported_names(tmp_path / "store", tmp_path) == []
