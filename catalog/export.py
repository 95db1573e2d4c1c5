"""The whole catalog in one document: RDF in any common syntax, or records as CSV or JSON."""

from __future__ import annotations

import csv
import io
import json

from rdflib import Dataset, Graph, URIRef

from .fields import FIELDS
from .namespaces import bind_prefixes
from .record import Record
from .service import Catalog

RDFLIB_FORMATS = {"turtle": "turtle", "jsonld": "json-ld", "ntriples": "nt", "rdfxml": "xml",
                  "trig": "trig", "nquads": "nquads"}
QUAD_FORMATS = {"trig", "nquads"}


def catalog_graph(catalog: Catalog) -> Graph:
    """Return the catalog description and every dataset, merged into one graph."""
    graph = catalog.store.construct(f"""
        CONSTRUCT {{ ?s ?p ?o }} WHERE {{
          {{ GRAPH <{catalog.iri}> {{ ?s ?p ?o }} }}
          UNION
          {{ GRAPH <{catalog.iri}> {{ <{catalog.iri}> <http://www.w3.org/ns/dcat#dataset> ?g }}
             GRAPH ?g {{ ?s ?p ?o }} }}
        }}""")
    return bind_prefixes(graph)


def export_catalog(catalog: Catalog, export_format: str) -> bytes:
    if export_format in ("csv", "json"):
        records = [catalog.record(name) for name in catalog.names()]
        return records_csv(records) if export_format == "csv" else records_json(records)
    if export_format in QUAD_FORMATS:
        return _quads(catalog).serialize(format=RDFLIB_FORMATS[export_format], encoding="utf-8")
    return catalog_graph(catalog).serialize(format=RDFLIB_FORMATS[export_format], encoding="utf-8")


def _quads(catalog: Catalog) -> Dataset:
    dataset = Dataset()
    bind_prefixes(dataset)
    for name in catalog.names():
        named = dataset.graph(URIRef(f"{catalog.base_url}/datasets/{name}"))
        for triple in catalog.dataset_graph(name):
            named.add(triple)
    catalog_part = dataset.graph(catalog.iri)
    for triple in catalog.store.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{catalog.iri}> {{ ?s ?p ?o }} }}"):
        catalog_part.add(triple)
    return dataset


def records_json(records: list[Record]) -> bytes:
    return json.dumps([record.to_json() for record in records], indent=2, ensure_ascii=False).encode() + b"\n"


def records_csv(records: list[Record]) -> bytes:
    """Write one row per dataset and one column per field, joining several values with '; '."""
    output = io.StringIO()
    writer = csv.writer(output)
    writer.writerow([field.name for field in FIELDS])
    for record in records:
        writer.writerow([_cell(getattr(record, field.name)) for field in FIELDS])
    return output.getvalue().encode()


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        text = "; ".join(item.name if hasattr(item, "name") else str(item) for item in value)
    elif isinstance(value, float) and value.is_integer():
        text = str(int(value))
    else:
        text = str(value)
    # A cell starting with these is run as a formula by spreadsheet programs.
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
