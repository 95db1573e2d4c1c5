"""The triple store behind the catalog, reached through one narrow interface.

`OxigraphStore` is the embedded default: Oxigraph on disk (pyoxigraph). `SparqlStore` puts any
SPARQL 1.1 Query and Update server behind the same four calls, so the code above this module
works with either. Every write is one SPARQL update, which both stores run atomically.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from pathlib import Path

import pyoxigraph as ox
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import XSD
from rdflib.term import Node

XSD_STRING = str(XSD.string)


class StoreError(RuntimeError):
    """Raised when the store cannot be opened or used; the message gives the reason and the fix."""


class CatalogStore(ABC):
    """The interface the catalog uses for a triple store: SPARQL 1.1 query and update."""

    # Increases with every write, so readers can tell whether their copy is stale.
    generation: int = 0

    @abstractmethod
    def select(self, query: str) -> list[dict[str, Node]]:
        """Run a SELECT query over the union of all graphs; unbound variables are absent."""

    @abstractmethod
    def ask(self, query: str) -> bool: ...

    @abstractmethod
    def construct(self, query: str) -> Graph: ...

    @abstractmethod
    def update(self, update: str) -> None:
        """Run a SPARQL update as one transaction."""

    def close(self) -> None:
        """Release the store; the default has nothing to release."""


class OxigraphStore(CatalogStore):
    """Oxigraph on disk. Only one process at a time may open a store directory."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._store = ox.Store(str(self.path))
        except OSError as error:
            if "lock" in str(error).lower():
                raise StoreError(
                    f"The store at {self.path} is in use by another process (is `umud serve` "
                    f"running on it?). Stop that process or give another --store path.") from None
            raise StoreError(f"Cannot open the store at {self.path}: {error}") from None
        self._lock = threading.Lock()
        self.generation = 0

    def select(self, query: str) -> list[dict[str, Node]]:
        solutions = self._store.query(query, use_default_graph_as_union=True)
        names = [variable.value for variable in solutions.variables]
        rows = []
        for solution in solutions:
            row = {}
            for name in names:
                term = solution[name]
                if term is not None:
                    row[name] = to_rdflib(term)
            rows.append(row)
        return rows

    def ask(self, query: str) -> bool:
        return bool(self._store.query(query, use_default_graph_as_union=True))

    def construct(self, query: str) -> Graph:
        graph = Graph()
        for triple in self._store.query(query, use_default_graph_as_union=True):
            graph.add((to_rdflib(triple.subject), to_rdflib(triple.predicate), to_rdflib(triple.object)))
        return graph

    def update(self, update: str) -> None:
        with self._lock:
            self._store.update(update)
            self.generation += 1

    def backup(self, target: Path) -> None:
        """Write a consistent copy that `pyoxigraph.Store.read_only` can open."""
        self._store.flush()
        self._store.backup(str(target))

    def close(self) -> None:
        self._store.flush()
        del self._store


class SparqlStore(CatalogStore):
    """A remote SPARQL 1.1 server, e.g. Oxigraph server, Fuseki, GraphDB or Virtuoso.

    The server must evaluate the default graph as the union of the named graphs (Oxigraph
    `--union-default-graph`, Fuseki `tdb:unionDefaultGraph true`).
    """

    def __init__(self, query_endpoint: str, update_endpoint: str | None = None, timeout: float = 30):
        from SPARQLWrapper import SPARQLWrapper

        self.query_endpoint = query_endpoint
        self.update_endpoint = update_endpoint or query_endpoint
        self._wrapper_class = SPARQLWrapper
        self.timeout = timeout
        self.generation = 0

    def _wrapper(self, endpoint: str):
        wrapper = self._wrapper_class(endpoint)
        wrapper.setTimeout(int(self.timeout))
        wrapper.setMethod("POST")
        return wrapper

    def select(self, query: str) -> list[dict[str, Node]]:
        from SPARQLWrapper import JSON

        wrapper = self._wrapper(self.query_endpoint)
        wrapper.setQuery(query)
        wrapper.setReturnFormat(JSON)
        document = wrapper.query().convert()
        return [{name: _from_json_binding(value) for name, value in binding.items()}
                for binding in document["results"]["bindings"]]

    def ask(self, query: str) -> bool:
        from SPARQLWrapper import JSON

        wrapper = self._wrapper(self.query_endpoint)
        wrapper.setQuery(query)
        wrapper.setReturnFormat(JSON)
        return bool(wrapper.query().convert()["boolean"])

    def construct(self, query: str) -> Graph:
        from SPARQLWrapper import N3

        wrapper = self._wrapper(self.query_endpoint)
        wrapper.setQuery(query)
        wrapper.setReturnFormat(N3)
        result = wrapper.query().convert()
        return result if isinstance(result, Graph) else Graph().parse(data=result, format="turtle")

    def update(self, update: str) -> None:
        wrapper = self._wrapper(self.update_endpoint)
        wrapper.setQuery(update)
        wrapper.query()
        self.generation += 1


def open_store(location: str | Path, update_endpoint: str | None = None) -> CatalogStore:
    """Open the store at a directory path, or a remote server given by its query endpoint URL.

    A remote server whose update endpoint differs from its query endpoint (Oxigraph server:
    /query and /update) needs `update_endpoint`.
    """
    text = str(location)
    if text.startswith(("http://", "https://")):
        return SparqlStore(text, update_endpoint)
    return OxigraphStore(Path(text))


def to_rdflib(term) -> Node:
    """Convert a pyoxigraph term to the equal rdflib term."""
    if isinstance(term, ox.NamedNode):
        return URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return Literal(term.value, lang=term.language)
        datatype = term.datatype.value
        return Literal(term.value) if datatype == XSD_STRING else Literal(term.value, datatype=URIRef(datatype))
    raise StoreError(f"Unsupported RDF term in the store: {term!r}")


def _from_json_binding(value: dict) -> Node:
    kind = value["type"]
    if kind == "uri":
        return URIRef(value["value"])
    if kind == "bnode":
        return BNode(value["value"])
    if "xml:lang" in value:
        return Literal(value["value"], lang=value["xml:lang"])
    if "datatype" in value and value["datatype"] != XSD_STRING:
        return Literal(value["value"], datatype=URIRef(value["datatype"]))
    return Literal(value["value"])
