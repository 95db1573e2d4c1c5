"""Content of the /shapes page: each node shape with its property constraints and messages."""

from __future__ import annotations

from rdflib import Graph
from rdflib.namespace import RDF, SH


def describe_shapes(graph: Graph) -> list[dict]:
    shapes = []
    for shape in sorted(set(graph.subjects(RDF.type, SH.NodeShape)), key=str):
        target = graph.value(shape, SH.targetClass)
        properties = []
        for property_shape in graph.objects(shape, SH.property):
            path = graph.value(property_shape, SH.path)
            properties.append({
                "name": str(graph.value(property_shape, SH.name) or ""),
                "path": graph.namespace_manager.normalizeUri(path) if path is not None and not isinstance(path, type(property_shape)) else str(path or ""),
                "severity": str(graph.value(property_shape, SH.severity) or SH.Violation).rsplit("#", 1)[-1],
                "message": str(graph.value(property_shape, SH.message) or ""),
                "min_count": graph.value(property_shape, SH.minCount),
                "max_count": graph.value(property_shape, SH.maxCount),
            })
        properties.sort(key=lambda item: (item["severity"] != "Violation", item["name"] or item["path"]))
        shapes.append({
            "iri": str(shape),
            "name": str(graph.value(shape, SH.name) or str(shape).rsplit("#", 1)[-1]),
            "description": str(graph.value(shape, SH.description) or ""),
            "target": graph.namespace_manager.normalizeUri(target) if target is not None else "",
            "properties": properties,
        })
    return shapes
