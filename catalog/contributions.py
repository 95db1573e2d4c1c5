"""Checking a contributed record: from the form or a submitted document to a validation report.

A document that cannot be read as one record (bad syntax, no dataset, several records) is
`MalformedDocument`. A readable record is checked by the record model and the SHACL shapes; the
`Check` lists each result with its severity, focus node, path and message, so the contributor
gets every problem at once. Violations block a submission, warnings do not.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, SH

from .fields import FIELDS, FIELDS_BY_NAME

FIELDS_BY_UMUD_KEY = {field.umud_key: field for field in FIELDS if field.umud_key}
from .loader import _read_json, _read_rdf, check_record
from .namespaces import DCAT
from .rdf_mapping import dataset_iri
from .record import NAME_PATTERN, Problem, Record, RecordError, parse_record
from .service import Catalog
from .validation import validate_graph

# Media types of submitted documents, and the parser each one takes.
DOCUMENT_TYPES = {
    "application/json": "json",
    "application/ld+json": "json-ld",
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
}


# The focus node of results about a record whose name is missing or invalid.
SUBMITTED_DOCUMENT = URIRef("urn:umud:submitted-document")


def _component(message: str) -> URIRef:
    """Return the SHACL constraint component that matches a record-model problem best."""
    if "missing" in message:
        return SH.MinCountConstraintComponent
    if "greater than" in message:
        return SH.MinInclusiveConstraintComponent
    if "less than" in message:
        return SH.MaxInclusiveConstraintComponent
    if "must start with" in message or "pattern" in message:
        return SH.PatternConstraintComponent
    if "is not in the UMUD" in message or "not a field" in message:
        return SH.InConstraintComponent
    return SH.DatatypeConstraintComponent


class MalformedDocument(ValueError):
    """A document that cannot be read as one record; the message gives the reason."""


class UnsupportedMediaType(MalformedDocument):
    """A document in a syntax that submissions do not take."""


@dataclass
class Check:
    """The outcome of checking one record."""

    record: Record | None
    graph: Graph | None
    # Each result: severity ("Violation" or "Warning"), field, focus, path and message.
    results: list[dict] = field(default_factory=list)
    report: Graph | None = None

    @property
    def conforms(self) -> bool:
        return self.record is not None and not any(result["severity"] == "Violation" for result in self.results)

    @property
    def warnings(self) -> list[dict]:
        return [result for result in self.results if result["severity"] != "Violation"]

    def report_graph(self) -> Graph:
        """Return the results as a SHACL validation report (sh:ValidationReport)."""
        if self.report is not None:
            return self.report
        graph = Graph()
        graph.bind("sh", SH)
        report = BNode()
        graph.add((report, RDF.type, SH.ValidationReport))
        graph.add((report, SH.conforms, Literal(self.conforms)))
        for item in self.results:
            node = BNode()
            graph.add((report, SH.result, node))
            graph.add((node, RDF.type, SH.ValidationResult))
            graph.add((node, SH.resultSeverity, SH[item["severity"]]))
            graph.add((node, SH.resultMessage, Literal(item["message"])))
            graph.add((node, SH.sourceConstraintComponent, _component(item["message"])))
            # Every result needs a focus node; a record without a usable name is the submitted document.
            graph.add((node, SH.focusNode, URIRef(item["focus"]) if item["focus"] else SUBMITTED_DOCUMENT))
            if item["path"]:
                graph.add((node, SH.resultPath, URIRef(item["path"])))
        return graph


def check_data(data: dict, catalog: Catalog, source: str) -> Check:
    """Check a record given as a dict in our JSON format (as the form sends it)."""
    try:
        record, warnings = parse_record(data, source, catalog.vocabulary)
    except RecordError as error:
        return _model_problems(error.problems, data.get("name"), catalog)
    return _check_shapes(record, warnings, catalog)


def check_document(body: bytes, media_type: str, catalog: Catalog, source: str) -> Check:
    """Check one record sent as UMUD JSON (original or ours), JSON-LD or Turtle.

    Raises MalformedDocument when the body is not one readable record.
    """
    syntax = DOCUMENT_TYPES.get(media_type)
    if syntax is None:
        raise UnsupportedMediaType(f"unsupported Content-Type '{media_type}'; send application/json, "
                                "application/ld+json or text/turtle")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise MalformedDocument(f"the body is not UTF-8 text ({error.reason})") from None
    parsed = None
    if syntax in {"json", "json-ld"}:
        try:
            parsed = json.loads(text)
        except json.JSONDecodeError as error:
            raise MalformedDocument(f"malformed JSON at line {error.lineno}, column {error.colno}: {error.msg}") from None
        if syntax == "json" and isinstance(parsed, list):
            raise MalformedDocument("the body is a JSON array; submit one record at a time")
        if not isinstance(parsed, (dict, list)):
            raise MalformedDocument(f"expected a JSON object, got {type(parsed).__name__}")
    try:
        if parsed is not None:
            records, warnings = _read_json(text, source, catalog.vocabulary)
        else:
            records, warnings = _read_rdf(text, "ox-turtle", source, catalog.vocabulary)
    except RecordError as error:
        if all(problem.field in {"", "@context"} for problem in error.problems):
            raise MalformedDocument("; ".join(problem.message for problem in error.problems)) from None
        if isinstance(parsed, dict):
            name = parsed.get("name") or parsed.get("DATASET_NAME")
        else:
            name = _rdf_dataset_name(text, "ox-json-ld" if parsed is not None else "ox-turtle")
        return _model_problems(error.problems, name if isinstance(name, str) else None, catalog)
    if len(records) != 1:
        raise MalformedDocument(f"the document describes {len(records)} datasets; submit one record at a time")
    return _check_shapes(records[0], warnings, catalog)


def _rdf_dataset_name(text: str, rdf_format: str) -> str | None:
    """Return the dcterms:identifier of the one dataset an RDF document describes, else None."""
    graph = Graph().parse(data=text, format=rdf_format)
    datasets = list(graph.subjects(RDF.type, DCAT.Dataset))
    if len(datasets) != 1:
        return None
    identifier = graph.value(datasets[0], DCTERMS.identifier)
    return str(identifier) if identifier is not None else None


def _check_shapes(record: Record, warnings: list[Problem], catalog: Catalog) -> Check:
    graph, _violations, _warnings = check_record(record, catalog)
    report = validate_graph(graph, catalog.vocabulary)
    focus = str(dataset_iri(catalog.base_url, record.name))
    results = [_result("Warning", problem, focus) for problem in warnings]
    results += [{"severity": "Violation" if result.severity == "Violation" else "Warning", "field": result.field,
                 "input": _input_of(result.path, result.field), "focus": result.focus, "path": result.path,
                 "message": result.message}
                for result in report.results]
    return Check(record, graph, results, report.graph if not warnings else None)


def _model_problems(problems: list[Problem], name: str | None, catalog: Catalog) -> Check:
    focus = str(dataset_iri(catalog.base_url, name)) if isinstance(name, str) and NAME_PATTERN.match(name) else ""
    return Check(None, None, [_result("Violation", problem, focus) for problem in problems])


def _result(severity: str, problem: Problem, focus: str) -> dict:
    field_name = problem.field.split(".", 1)[0].split("[", 1)[0]
    known = FIELDS_BY_NAME.get(field_name) or FIELDS_BY_UMUD_KEY.get(field_name)
    return {"severity": severity, "field": problem.field, "input": known.name if known else "", "focus": focus,
            "path": str(known.predicate) if known else "", "message": problem.message}


def _input_of(path: str, shape_field: str) -> str:
    """Return the record field a shape result is about, by its path or the shape's name; "" if none."""
    for known in FIELDS:
        if str(known.predicate) == path or shape_field.casefold() in {known.name, known.label.casefold()}:
            return known.name
    if shape_field.casefold() in {"licence", "file format", "file formats"}:
        return "license" if shape_field.casefold() == "licence" else "file_format"
    return ""
