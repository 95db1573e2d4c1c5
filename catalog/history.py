"""Versions of datasets: every write and every withdrawal is kept, with who, when and why (PROV-O).

Layout in the store, for the dataset `{dataset}`:

- `{dataset}/versions/{n}`: a named graph with a copy of the dataset's graph as version n made it,
  with every IRI under the dataset's renamed under `{dataset}/versions/{n}` and without the types
  dcat:Dataset and dcat:CatalogRecord. So a query over the union of all graphs, as /sparql runs
  by default, finds each dataset once, with its current values only.
- `{dataset}/history`: a named graph that describes every version as a `prov:Entity`:
  `prov:specializationOf` the dataset, `umud:versionNumber`, `prov:generatedAtTime`,
  `prov:wasAttributedTo` an agent (a curator or a tool), `prov:wasRevisionOf` the version before,
  `umud:changeKind` ("created", "updated" or "withdrawn") and the reason as `rdfs:comment`.
  A withdrawal is a version without a graph: the dataset's tombstone.

Both graphs are named apart from the dataset IRI, so the catalog's queries, which read the graph
named by the dataset IRI, see only the current version. `version_copy` and `current_form`
translate between a dataset's graph and a version graph.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import FOAF, PROV, RDF, RDFS, XSD

from .namespaces import DCAT, UMUD, sparql_prologue

# Types that only the current description of a dataset carries.
CURRENT_TYPES = {DCAT.Dataset, DCAT.CatalogRecord}

CHANGE_KINDS = ("created", "updated", "withdrawn")


@dataclass(frozen=True)
class Change:
    """The author of a change (a curator's account name or a tool) and its reason."""

    agent: str
    reason: str
    # "curator" for a person signed in, "tool" for a command such as `umud load`.
    agent_kind: str = "tool"


@dataclass(frozen=True)
class Version:
    """One entry of a dataset's history."""

    number: int
    kind: str
    time: datetime
    agent: str
    reason: str

    @property
    def has_graph(self) -> bool:
        return self.kind != "withdrawn"


def agent_iri(base_url: str, change: Change) -> URIRef:
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", change.agent).strip("-") or "unknown"
    folder = "curators" if change.agent_kind == "curator" else "tools"
    return URIRef(f"{base_url}/agents/{folder}/{slug}")


def version_iri(dataset: URIRef, number: int) -> URIRef:
    return URIRef(f"{dataset}/versions/{number}")


def history_iri(dataset: URIRef) -> URIRef:
    return URIRef(f"{dataset}/history")


def version_copy(graph: Graph, dataset: URIRef, number: int) -> Graph:
    """Return a dataset's graph as the content of its version graph `number` (see the module notes).

    Blank nodes are renamed too, since one SPARQL update may not share them between two blocks.
    """
    version = version_iri(dataset, number)
    copy = Graph()
    fresh: dict[BNode, BNode] = {}

    def rename(term):
        if isinstance(term, BNode):
            return fresh.setdefault(term, BNode())
        return _moved(term, str(dataset), str(version))

    for subject, predicate, value in graph:
        if predicate == RDF.type and value in CURRENT_TYPES:
            continue
        copy.add((rename(subject), predicate, rename(value)))
    copy.add((version, RDF.type, PROV.Entity))
    copy.add((version, PROV.specializationOf, dataset))
    return copy


def current_form(graph: Graph, dataset: URIRef, number: int) -> Graph:
    """Return the content of a version graph as the dataset's graph was then: the inverse of `version_copy`."""
    version = version_iri(dataset, number)
    restored = Graph()
    for subject, predicate, value in graph:
        if subject == version and (predicate, value) in {(RDF.type, PROV.Entity), (PROV.specializationOf, dataset)}:
            continue
        restored.add((_moved(subject, str(version), str(dataset)), predicate, _moved(value, str(version), str(dataset))))
    restored.add((dataset, RDF.type, DCAT.Dataset))
    for record in restored.subjects(FOAF.primaryTopic, dataset):
        restored.add((record, RDF.type, DCAT.CatalogRecord))
    return restored


def _moved(term, old: str, new: str):
    """Return `term` with the IRI `old`, or an IRI under `old/`, moved to `new`."""
    if isinstance(term, URIRef) and (str(term) == old or str(term).startswith(old + "/")):
        return URIRef(new + str(term)[len(old):])
    return term


def last_versions(store, datasets: list[URIRef]) -> dict[URIRef, tuple[int, str]]:
    """Return the number and kind of the last version of each dataset that has a history."""
    if not datasets:
        return {}
    values = " ".join(f"<{dataset}>" for dataset in datasets)
    rows = store.select(sparql_prologue() + f"""
        SELECT ?dataset ?number ?kind WHERE {{
          VALUES ?dataset {{ {values} }}
          GRAPH ?history {{ ?version prov:specializationOf ?dataset ; umud:versionNumber ?number ;
                                     umud:changeKind ?kind }}
        }}""")
    last: dict[URIRef, tuple[int, str]] = {}
    for row in rows:
        number = int(row["number"])
        if number > last.get(row["dataset"], (0, ""))[0]:
            last[row["dataset"]] = (number, str(row["kind"]))
    return last


def entry_graph(base_url: str, dataset: URIRef, number: int, kind: str, change: Change, time: str) -> Graph:
    """Return the history statements of one version."""
    if kind not in CHANGE_KINDS:
        raise ValueError(f"unknown change kind '{kind}'")
    version = version_iri(dataset, number)
    agent = agent_iri(base_url, change)
    graph = Graph()
    graph.add((version, RDF.type, PROV.Entity))
    graph.add((version, PROV.specializationOf, dataset))
    graph.add((version, UMUD.versionNumber, Literal(number, datatype=XSD.integer)))
    graph.add((version, UMUD.changeKind, Literal(kind)))
    graph.add((version, PROV.generatedAtTime, Literal(time, datatype=XSD.dateTime)))
    graph.add((version, PROV.wasAttributedTo, agent))
    graph.add((version, RDFS.comment, Literal(change.reason)))
    if number > 1:
        graph.add((version, PROV.wasRevisionOf, version_iri(dataset, number - 1)))
    graph.add((agent, RDF.type, PROV.Agent))
    graph.add((agent, RDFS.label, Literal(change.agent)))
    return graph


def read_history(store, dataset: URIRef) -> list[Version]:
    """Return the versions of a dataset, oldest first; empty when it has none."""
    rows = store.select(sparql_prologue() + f"""
        SELECT ?number ?kind ?time ?agent ?reason WHERE {{
          GRAPH <{history_iri(dataset)}> {{
            ?version prov:specializationOf <{dataset}> ; umud:versionNumber ?number ; umud:changeKind ?kind ;
                     prov:generatedAtTime ?time ; prov:wasAttributedTo ?agentIri ; rdfs:comment ?reason .
            ?agentIri rdfs:label ?agent .
          }}
        }}""")
    versions = [Version(int(row["number"]), str(row["kind"]), _time(row["time"]), str(row["agent"]), str(row["reason"]))
                for row in rows]
    return sorted(versions, key=lambda version: version.number)


def _time(term) -> datetime:
    return datetime.fromisoformat(str(term).replace("Z", "+00:00"))
