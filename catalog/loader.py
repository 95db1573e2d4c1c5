"""Loading files into the catalog: UMUD JSON (original or our format), Turtle and JSON-LD.

Each file is read, checked with the record model and then with the SHACL shapes, and written
only when both pass, so a file that fails writes nothing and one bad file in a batch does not
stop the others. Errors name the file, the field and the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import DCTERMS, RDF

from .history import Change
from .namespaces import DCAT
from .rdf_mapping import graph_to_record, record_to_graph
from .record import Problem, Record, RecordError, parse_record
from .service import Catalog
from .umud_json import is_umud_json, parse_umud_json
from .validation import validate_graph

# Oxigraph's parsers (through oxrdflib) are strict and report the line and column of an error.
RDF_FORMATS = {".ttl": "ox-turtle", ".nt": "ox-ntriples", ".rdf": "ox-xml", ".owl": "ox-xml"}
MAX_FILE_BYTES = 10 * 1024 * 1024


@dataclass
class FileResult:
    """The outcome of loading or validating one input file."""

    source: str
    datasets: list[str] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)
    errors: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def read_records(path: Path, catalog_vocabulary=None) -> tuple[list[Record], list[Problem]]:
    """Read the records in one file; raises RecordError naming the file on any problem."""
    source = str(path)
    try:
        if path.stat().st_size > MAX_FILE_BYTES:
            raise RecordError(source, [Problem("", f"the file is larger than {MAX_FILE_BYTES} bytes")])
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise RecordError(source, [Problem("", f"cannot read the file: {error.strerror or error}")]) from None
    except UnicodeDecodeError as error:
        raise RecordError(source, [Problem("", f"the file is not UTF-8 text ({error.reason})")]) from None

    suffix = path.suffix.lower()
    if suffix in {".json", ".jsonld"}:
        return _read_json(text, source, catalog_vocabulary)
    if suffix in RDF_FORMATS:
        return _read_rdf(text, RDF_FORMATS[suffix], source, catalog_vocabulary)
    raise RecordError(source, [Problem("", f"unsupported file type '{suffix}'; give .json, .ttl, .jsonld, .nt or .rdf")])


def _read_json(text: str, source: str, vocabulary) -> tuple[list[Record], list[Problem]]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise RecordError(source, [Problem("", f"malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}")]) from None
    if isinstance(data, list) and data and all(_is_record_object(item) for item in data):
        return _read_record_list(data, source, vocabulary)
    if isinstance(data, list) or isinstance(data, dict) and ("@context" in data or "@graph" in data):
        remote = _remote_contexts(data)
        if remote:
            raise RecordError(source, [Problem("@context", f"remote JSON-LD contexts are not fetched ({remote[0]}); put the context inline")])
        return _read_rdf(text, "ox-json-ld", source, vocabulary)
    if is_umud_json(data):
        record, warnings = parse_umud_json(data, source, vocabulary)
    else:
        record, warnings = parse_record(data, source, vocabulary)
    return [record], warnings


def _is_record_object(item) -> bool:
    """Tell a record (ours or UMUD's) from a JSON-LD node, whose keys start with '@'."""
    return isinstance(item, dict) and not any(key.startswith("@") for key in item)


def _read_record_list(data: list[dict], source: str, vocabulary) -> tuple[list[Record], list[Problem]]:
    """Read a JSON array of records, as `umud export --format json` writes; any error fails the file."""
    records, warnings, problems = [], [], []
    for index, item in enumerate(data):
        try:
            if is_umud_json(item):
                record, found = parse_umud_json(item, source, vocabulary)
            else:
                record, found = parse_record(item, source, vocabulary)
        except RecordError as error:
            problems += [Problem(f"[{index}].{problem.field}".rstrip("."), problem.message) for problem in error.problems]
            continue
        records.append(record)
        warnings += [Problem(f"[{index}].{warning.field}".rstrip("."), warning.message) for warning in found]
    if problems:
        raise RecordError(source, problems)
    return records, warnings


def _remote_contexts(node) -> list[str]:
    """Return the context URLs a JSON-LD document refers to; parsing it would fetch them."""
    found = []
    if isinstance(node, list):
        for item in node:
            found += _remote_contexts(item)
    elif isinstance(node, dict):
        for key, value in node.items():
            if key == "@context":
                contexts = value if isinstance(value, list) else [value]
                found += [context for context in contexts if isinstance(context, str)]
                found += [url for context in contexts if isinstance(context, dict)
                          for url in [context.get("@import")] if isinstance(url, str)]
            found += _remote_contexts(value)
    return found


def _read_rdf(text: str, rdf_format: str, source: str, vocabulary) -> tuple[list[Record], list[Problem]]:
    graph = Graph()
    syntax = rdf_format.removeprefix("ox-")
    try:
        graph.parse(data=text, format=rdf_format)
    except (SyntaxError, ValueError, OSError) as error:
        message = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RecordError(source, [Problem("", f"malformed {syntax}: {message}")]) from None
    datasets = sorted(set(graph.subjects(RDF.type, DCAT.Dataset)), key=str)
    if not datasets:
        raise RecordError(source, [Problem("", "no dcat:Dataset found in the file; give a UMUD record, "
                                                   "a JSON array of records, or RDF that describes a dcat:Dataset")])
    records = []
    for dataset in datasets:
        records.append(_record_from_graph(graph, dataset, source, vocabulary))
    return records, []


def _record_from_graph(graph: Graph, dataset: URIRef, source: str, vocabulary) -> Record:
    if graph.value(dataset, DCTERMS.identifier) is None:
        raise RecordError(source, [Problem("name", f"the dataset {dataset} has no dcterms:identifier")])
    try:
        return graph_to_record(graph, dataset, vocabulary)
    except Exception as error:  # pydantic's ValidationError, reworded below
        from pydantic import ValidationError

        from .record import problems_from

        if isinstance(error, ValidationError):
            raise RecordError(f"{source} ({dataset})", problems_from(error)) from None
        raise


def check_record(record: Record, catalog: Catalog) -> tuple[Graph, list[Problem], list[Problem]]:
    """Map a record to RDF and validate it; returns the graph, shape violations and warnings."""
    graph = record_to_graph(record, catalog.base_url, catalog.vocabulary)
    report = validate_graph(graph, catalog.vocabulary)
    violations = [Problem(result.field, result.message) for result in report.violations]
    warnings = [Problem(result.field, result.message) for result in report.warnings]
    return graph, violations, warnings


def process_files(paths: list[Path], catalog: Catalog, *, write: bool, agent: str = "umud load") -> list[FileResult]:
    """Validate each file and, when `write` is set, store the records of every valid file.

    Each stored record becomes a new version attributed to `agent`, with the file as the reason.
    """
    results = []
    for path in paths:
        result = FileResult(str(path))
        try:
            records, result.warnings = read_records(path, catalog.vocabulary)
        except RecordError as error:
            result.errors = error.problems
            results.append(result)
            continue

        checked = []
        for record in records:
            graph, violations, warnings = check_record(record, catalog)
            result.warnings += warnings
            result.errors += violations
            checked.append((record.name, graph))
        if result.ok and write:
            catalog.write(checked, Change(agent, f"loaded from {path.name}"))
        result.datasets = [name for name, _ in checked]
        results.append(result)
    return results
