"""Worker processes that evaluate one query at a time on a read-only snapshot of the store.

A query that exceeds the time limit is stopped by ending its worker process, which the pool then
replaces. The workers start in the multiprocessing 'spawn' context, so `_worker_main` must stay
importable from this module.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
from dataclasses import dataclass
from typing import Iterable

import pyoxigraph as ox

from .errors import EngineUnavailable, QueryTimeout, SparqlError
from .negotiation import ResultTypes
from .results import QueryResult, serialize_result
from .scanner import scan_query, syntax_failure

log = logging.getLogger("umud.sparql")

# Bounds a worker start that hangs. The imports of a new worker take about a second (an estimate).
WORKER_START_TIMEOUT = 60.0


@dataclass(frozen=True)
class Job:
    snapshot: str
    query: str
    form: str | None
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    types: ResultTypes
    limit: int
    # The IRI that relative IRIs in the query resolve against: the endpoint's URL.
    base_iri: str | None = None


@dataclass(frozen=True)
class Failure:
    status: int
    message: str
    # Where the engine raised an error that is not the client's fault, for the web process log.
    engine_error: str | None = None


_READY = "ready"


def _worker_main(connection) -> None:
    """Run jobs sent over a pipe until the pipe closes or None arrives."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops the workers.
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    snapshot = _OpenSnapshot()
    connection.send(_READY)
    while True:
        try:
            job = connection.recv()
        except EOFError:
            return
        if job is None:
            return
        connection.send(_run_job(job, snapshot))


def _exit_with_parent(parent_pid: int) -> None:
    """End this worker once the web process is gone, also in the middle of a query.

    pyoxigraph releases the GIL while it evaluates a query, so this thread keeps running.
    """
    while os.getppid() == parent_pid:
        time.sleep(1)
    os._exit(1)


class _OpenSnapshot:
    """The read-only store of the last snapshot this worker used; older ones are let go."""

    def __init__(self):
        self.path: str | None = None
        self.store: ox.Store | None = None

    def open(self, path: str) -> ox.Store:
        if path != self.path:
            self.store = None
            self.store = ox.Store.read_only(path)
            self.path = path
        return self.store


def _run_job(job: Job, snapshot: _OpenSnapshot) -> QueryResult | Failure:
    try:
        store = snapshot.open(job.snapshot)
        declares_dataset = scan_query(job.query).declares_dataset
        result = store.query(job.query, base_iri=job.base_iri,
                             **dataset_arguments(job.default_graphs, job.named_graphs, declares_dataset))
        return serialize_result(result, job.types, job.limit, job.form)
    except SparqlError as error:
        return Failure(error.status, error.message)
    except SyntaxError as error:
        failure = syntax_failure(job.query, str(error))
        return Failure(failure.status, failure.message)
    except ValueError as error:
        return Failure(400, f"The query could not be evaluated: {error}")
    except (OSError, RuntimeError) as error:
        return Failure(503, f"The query failed in the SPARQL engine: {error}", repr(error))


def dataset_arguments(default_graphs: Iterable[str], named_graphs: Iterable[str],
                      declares_dataset: bool = False) -> dict:
    """Return pyoxigraph query options for the protocol's default-graph-uri and named-graph-uri.

    Without either, the default graph is the union of all graphs, unless the query names its own
    dataset with FROM or FROM NAMED: pyoxigraph would let the union option override that clause.
    """
    arguments = {}
    if default_graphs:
        arguments["default_graph"] = [ox.NamedNode(iri) for iri in default_graphs]
    elif not declares_dataset:
        arguments["use_default_graph_as_union"] = True
    if named_graphs:
        arguments["named_graphs"] = [ox.NamedNode(iri) for iri in named_graphs]
    return arguments


class _Worker:
    """A worker process and the parent's end of its pipe."""

    def __init__(self, context, number: int):
        self._connection, child_connection = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child_connection,),
                                       name=f"umud-sparql-worker-{number}", daemon=True)
        self.process.start()
        child_connection.close()
        self._ready = False

    def run(self, job: Job, timeout: float) -> QueryResult | Failure:
        """Send a job and wait for its outcome; raise TimeoutError after `timeout` seconds."""
        self._wait_until_ready()
        self._connection.send(job)
        if not self._connection.poll(timeout):
            raise TimeoutError(f"no result within {timeout:g} s")
        return self._connection.recv()

    def _wait_until_ready(self) -> None:
        # The start-up imports do not count against the query's time limit.
        if self._ready:
            return
        if not self._connection.poll(WORKER_START_TIMEOUT):
            raise EOFError(f"the worker process did not start within {WORKER_START_TIMEOUT:g} s")
        self._connection.recv()
        self._ready = True

    def stop(self) -> None:
        """End the process at once: SIGTERM, then SIGKILL if it is still alive after a second."""
        self.process.terminate()
        self.process.join(1)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self._connection.close()

    def shut_down(self) -> None:
        """Ask the process to exit after its current job, then stop it if it does not."""
        try:
            self._connection.send(None)
        except OSError:
            pass
        self.process.join(2)
        self.stop()


class WorkerPool:
    """Worker processes started on first use; each runs one job at a time for one thread."""

    def __init__(self, size: int):
        self._size = max(1, size)
        self._context = multiprocessing.get_context("spawn")
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()
        self._started = 0
        self._closed = False

    def run(self, job: Job, timeout: float) -> QueryResult | Failure:
        """Run a job on an idle worker; a job that exceeds `timeout` raises QueryTimeout."""
        deadline = time.monotonic() + timeout
        worker = self._check_out(deadline, timeout)
        try:
            outcome = worker.run(job, max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            log.warning("query timed out after %g s; restarting %s", timeout, worker.process.name)
            self._replace(worker)
            raise QueryTimeout(timeout) from None
        except (EOFError, OSError) as error:
            log.error("%s failed: %r; restarting it", worker.process.name, error)
            self._replace(worker)
            raise EngineUnavailable("The query process stopped unexpectedly; try again.") from None
        self._idle.put(worker)
        return outcome

    def _check_out(self, deadline: float, timeout: float) -> _Worker:
        self._start_if_needed()
        try:
            return self._idle.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise EngineUnavailable(f"All {self._size} query processes were busy for {timeout:g} s; "
                                    f"try again later.") from None

    def _start_if_needed(self) -> None:
        """Start workers until the pool is full, also after a failed start or a restart."""
        with self._lock:
            if self._closed:
                raise EngineUnavailable("The SPARQL endpoint is shutting down.")
            while len(self._workers) < self._size:
                self._start_worker()

    def _start_worker(self) -> None:
        self._started += 1
        try:
            worker = _Worker(self._context, self._started)
        except (OSError, RuntimeError) as error:
            log.error("cannot start a SPARQL worker process: %s", error)
            raise EngineUnavailable("The query process could not be started; try again later.") from None
        self._workers.add(worker)
        self._idle.put(worker)
        log.info("started %s (pid %s)", worker.process.name, worker.process.pid)

    def _replace(self, worker: _Worker) -> None:
        worker.stop()
        with self._lock:
            self._workers.discard(worker)
            if not self._closed:
                try:
                    self._start_worker()
                except EngineUnavailable:
                    pass  # logged; the next query tries again

    def close(self) -> None:
        with self._lock:
            self._closed = True
            workers, self._workers = list(self._workers), set()
        for worker in workers:
            worker.shut_down()
        if workers:
            log.info("stopped %d SPARQL worker processes", len(workers))
