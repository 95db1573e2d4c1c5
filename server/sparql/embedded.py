"""Evaluation of checked queries on the embedded Oxigraph store, in worker processes."""

from __future__ import annotations

import logging

from catalog.store import OxigraphStore

from ..settings import Settings
from .errors import SparqlError
from .negotiation import ResultTypes
from .results import QueryResult
from .snapshots import StoreSnapshots
from .workers import Failure, Job, WorkerPool

log = logging.getLogger("umud.sparql")


class EmbeddedEngine:
    def __init__(self, store: OxigraphStore, settings: Settings):
        self._settings = settings
        self._snapshots = StoreSnapshots(store, (f"{settings.base_url.rstrip('/')}/candidates/",))
        self._pool = WorkerPool(settings.sparql_workers)

    def run(self, query: str, form: str | None, default_graphs: tuple[str, ...],
            named_graphs: tuple[str, ...], types: ResultTypes, base_iri: str | None = None) -> QueryResult:
        snapshot = self._snapshots.acquire()
        try:
            job = Job(str(snapshot), query, form, default_graphs, named_graphs, types,
                      self._settings.result_limit, base_iri)
            outcome = self._pool.run(job, self._settings.query_timeout)
        finally:
            self._snapshots.release(snapshot)
        if isinstance(outcome, Failure):
            if outcome.engine_error:
                log.error("SPARQL engine error: %s", outcome.engine_error)
            raise SparqlError(outcome.status, outcome.message)
        return outcome

    def close(self) -> None:
        self._pool.close()
        self._snapshots.close()
