"""The SPARQL service: checks a query and runs it on the engine that fits the catalog's store."""

from __future__ import annotations

from typing import Iterable

import pyoxigraph as ox

from catalog.store import CatalogStore, OxigraphStore, SparqlStore

from ..settings import Settings
from .embedded import EmbeddedEngine
from .errors import InvalidQuery
from .negotiation import ResultTypes
from .remote import RemoteEngine
from .results import QueryResult
from .scanner import check_query_text


class SparqlService:
    """Checks and runs read-only SPARQL queries on the catalog's store, within the settings' limits."""

    def __init__(self, store: CatalogStore, settings: Settings):
        self.settings = settings
        if isinstance(store, OxigraphStore):
            self._engine = EmbeddedEngine(store, settings)
        elif isinstance(store, SparqlStore):
            self._engine = RemoteEngine(store, settings)
        else:
            raise TypeError(f"The SPARQL endpoint supports OxigraphStore and SparqlStore, not "
                            f"{type(store).__name__}.")

    def run_query(self, query: str, types: ResultTypes, default_graphs: Iterable[str] = (),
                  named_graphs: Iterable[str] = (), base_iri: str | None = None) -> QueryResult:
        """Run a query and return its serialised result; raise a SparqlError on rejection or failure."""
        scanned = check_query_text(query)
        types.for_form(scanned.form)
        default_graphs, named_graphs = tuple(default_graphs), tuple(named_graphs)
        _check_graph_iris(default_graphs + named_graphs)
        return self._engine.run(query, scanned.form, default_graphs, named_graphs, types, base_iri)

    def close(self) -> None:
        """Stop the worker processes and remove the snapshots."""
        self._engine.close()


def _check_graph_iris(iris: tuple[str, ...]) -> None:
    for iri in iris:
        try:
            ox.NamedNode(iri)
        except ValueError as error:
            raise InvalidQuery(f"Invalid graph IRI {iri!r}: {error}") from None
