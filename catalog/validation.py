"""SHACL validation of record graphs with the shapes in `shapes/` (pyshacl).

The vocabularies are added to the data graph, so shapes can check that a value is a concept of
the right scheme (pyshacl 0.40 mixes its `ont_graph` in only when it runs inference). Violations block a record; warnings (recommended fields) do not.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pyshacl
from rdflib import Graph
from rdflib.namespace import SH

from . import SHAPES_DIR
from .vocabulary import Vocabulary, default_vocabulary


@dataclass(frozen=True)
class ShapeResult:
    """One SHACL validation result, in the words a contributor reads."""

    severity: str  # "Violation", "Warning" or "Info"
    focus: str
    path: str
    message: str
    value: str = ""
    # sh:name of the shape that reported it, e.g. "licence"; empty when the shape has none.
    shape_name: str = ""

    @property
    def field(self) -> str:
        """The field in the words of the shapes, else the last part of the property IRI."""
        if self.shape_name:
            return self.shape_name
        return self.path.rsplit("/", 1)[-1].rsplit("#", 1)[-1] if self.path.startswith("http") else "record"

    def __str__(self) -> str:
        return f"{self.severity}: {self.field}: {self.message}"


@dataclass(frozen=True)
class ShapeReport:
    results: tuple[ShapeResult, ...]
    # The sh:ValidationReport that pyshacl wrote.
    graph: Graph | None = None

    @property
    def conforms(self) -> bool:
        return not self.violations

    @property
    def violations(self) -> list[ShapeResult]:
        return [result for result in self.results if result.severity == "Violation"]

    @property
    def warnings(self) -> list[ShapeResult]:
        return [result for result in self.results if result.severity != "Violation"]


@lru_cache(maxsize=2)
def shapes_graph(folder: str = "") -> Graph:
    """Return the shapes in `shapes/` (record shapes) or in a subfolder such as "harvest"."""
    graph = Graph()
    for path in sorted((SHAPES_DIR / folder).glob("*.ttl")):
        graph.parse(path, format="turtle")
    return graph


def validate_graph(data: Graph, vocabulary: Vocabulary | None = None, shapes: str = "") -> ShapeReport:
    """Validate a graph of one or more datasets against the catalog's shapes (or those of `shapes`)."""
    vocabulary = vocabulary or default_vocabulary()
    # The record shapes check values against the vocabularies; the harvest shapes need none.
    _, results_graph, _ = pyshacl.validate(
        data if shapes else data + vocabulary.graph, shacl_graph=shapes_graph(shapes), inference="none",
        advanced=True, allow_warnings=True, abort_on_first=False)
    results = []
    # Only the report's own results: those of sh:node checks repeat inside them as sh:detail.
    for node in results_graph.objects(None, SH.result):
        severity = results_graph.value(node, SH.resultSeverity)
        messages = [str(message) for message in results_graph.objects(node, SH.resultMessage)]
        source_shape = results_graph.value(node, SH.sourceShape)
        results.append(ShapeResult(
            severity=str(severity).rsplit("#", 1)[-1],
            focus=str(results_graph.value(node, SH.focusNode) or ""),
            path=str(results_graph.value(node, SH.resultPath) or ""),
            message=" ".join(sorted(set(messages))) or "does not conform",
            value=str(results_graph.value(node, SH.value) or ""),
            shape_name=str(shapes_graph(shapes).value(source_shape, SH.name) or "") if source_shape else "",
        ))
    results.sort(key=lambda result: (result.severity != "Violation", result.focus, result.path))
    return ShapeReport(tuple(results), results_graph)
