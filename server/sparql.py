"""The public, read-only SPARQL 1.1 query endpoint at /sparql.

Every query is checked in the web process first: updates and SERVICE are rejected, and the
query form decides which result formats the client may get. On the embedded Oxigraph store the
query then runs in a worker process on a read-only snapshot of the store, so a query that
exceeds the time limit is stopped by ending its process. On a remote store the query is
forwarded to the store's own query endpoint. Either way at most `Settings.result_limit`
solutions or triples are returned.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import queue
import re
import shutil
import signal
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Iterable, Iterator, NamedTuple

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, request
from rdflib.plugins.sparql.parser import parseUpdate
from werkzeug.exceptions import HTTPException

from catalog.namespaces import PREFIXES
from catalog.store import CatalogStore, OxigraphStore, SparqlStore

from .settings import Settings

log = logging.getLogger("umud.sparql")

MAX_QUERY_CHARS = 100_000
# UTF-8 needs at most 4 bytes per character.
MAX_QUERY_BYTES = 4 * MAX_QUERY_CHARS
# A form body percent-encodes each of those bytes as 3 characters.
MAX_FORM_BYTES = 12 * MAX_QUERY_CHARS
# Bounds a worker start that hangs. The imports of a new worker take about a second (an estimate).
WORKER_START_TIMEOUT = 60.0

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
TRUNCATED_HEADER = "X-UMUD-Results-Truncated"
LIMIT_HEADER = "X-UMUD-Result-Limit"


# Errors


class SparqlError(Exception):
    """A request that the endpoint rejects or cannot serve, with the HTTP status to send."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class InvalidQuery(SparqlError):
    def __init__(self, message: str):
        super().__init__(400, message)


class ReadOnlyEndpoint(SparqlError):
    def __init__(self):
        super().__init__(403, "This SPARQL endpoint is read-only: SPARQL updates (INSERT, DELETE, "
                              "LOAD, CLEAR, DROP, CREATE, ADD, MOVE, COPY) are not accepted.")


class FederatedQueryRejected(SparqlError):
    def __init__(self):
        super().__init__(400, "Federated queries (SERVICE) are not allowed, because the server would "
                              "fetch a URL that the client chose. Query the other endpoint directly.")


class NotAcceptable(SparqlError):
    def __init__(self, message: str):
        super().__init__(406, message)


class QueryTimeout(SparqlError):
    def __init__(self, seconds: float):
        super().__init__(503, f"The query did not finish within {seconds:g} s, the time limit of this "
                              f"endpoint. Add a LIMIT or use narrower patterns (fewer unbound "
                              f"variables, more fixed IRIs) and try again.")


class EngineUnavailable(SparqlError):
    def __init__(self, message: str):
        super().__init__(503, message)


# Query text: a scanner for the tokens that matter before the query is parsed


# SPARQL 1.1 terminals (https://www.w3.org/TR/sparql11-query/#grammar), close enough to tell
# comments, strings and IRIs from keywords. The patterns are meant to err the safe way: where
# they split a token that a SPARQL parser keeps whole, the scanner sees an extra keyword.
_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<comment>\#[^\r\n]*)
  | (?P<string>'''(?:[^'\\]|\\.|'(?!''))*'''
             | \"\"\"(?:[^"\\]|\\.|"(?!""))*\"\"\"
             | '(?:[^'\\\r\n]|\\.)*'
             | "(?:[^"\\\r\n]|\\.)*")
  | (?P<iri><[^<>"{}|^`\\\x00-\x20]*>)
  | (?P<variable>[?$]\w*)
  | (?P<langtag>@[A-Za-z]+(?:-[A-Za-z0-9]+)*)
  | (?P<number>[0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)
  | (?P<name>(?:[^\W\d]|:|\\[_~.!$&'()*+,;=/?\#@%-])
             (?:[\w:%\u00B7-]|\\[_~.!$&'()*+,;=/?\#@%-]|\.(?=[\w:%\u00B7\\-]))*)
  | (?P<other>.)
""", re.VERBOSE | re.DOTALL)
_CODEPOINT_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

UPDATE_OPERATIONS = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}


@dataclass(frozen=True)
class QueryText:
    # First keyword after the prologue, upper case: SELECT, CONSTRUCT, INSERT, ...; None if absent.
    form: str | None
    uses_service: bool


def scan_query(text: str) -> QueryText:
    """Find the query form and any SERVICE keyword outside comments, strings and IRIs.

    SPARQL 1.1 (section 19.2) decodes \\u and \\U escapes anywhere in the query text, so the text
    is scanned both as written and with those escapes decoded. pyoxigraph 0.5.13 decodes them only
    inside strings and IRIs, but a remote store may follow SPARQL 1.1.
    """
    keywords = _keywords(text)
    decoded = _CODEPOINT_ESCAPE.sub(_decode_escape, text)
    uses_service = "SERVICE" in keywords or (decoded != text and "SERVICE" in _keywords(decoded))
    return QueryText(_query_form(keywords), uses_service)


def _decode_escape(match: re.Match) -> str:
    code_point = int(match.group(1) or match.group(2), 16)
    return chr(code_point) if code_point <= 0x10FFFF else match.group(0)


def _tokens(text: str) -> Iterator[tuple[str, str]]:
    for match in _TOKEN.finditer(text):
        if match.lastgroup not in ("space", "comment"):
            yield match.lastgroup, match.group()


def _keywords(text: str) -> list[str]:
    """Return the bare words of the text in upper case, in order: keywords, `a`, `true`, ..."""
    return [value.upper() for kind, value in _tokens(text) if kind == "name" and ":" not in value]


def _query_form(keywords: list[str]) -> str | None:
    # The prologue contains BASE, PREFIX and (SPARQL 1.2) VERSION declarations, whose other
    # tokens are IRIs, prefixed names or strings and so never bare words.
    for keyword in keywords:
        if keyword not in ("BASE", "PREFIX", "VERSION"):
            return keyword
    return None


def looks_like_update(text: str) -> bool:
    """Tell whether text that is no valid query is a valid SPARQL update with an operation."""
    try:
        parsed = parseUpdate(text)
    except Exception:  # pyparsing raises several types, and deep nesting a RecursionError
        return False
    return "request" in parsed  # absent when the text has only a prologue


def check_query_text(text: str) -> QueryText:
    """Reject an empty, oversized or update request and a federated query, before evaluation."""
    if not text.strip():
        raise InvalidQuery("The query is empty.")
    if len(text) > MAX_QUERY_CHARS:
        raise SparqlError(413, f"The query has {len(text)} characters; this endpoint accepts at "
                               f"most {MAX_QUERY_CHARS}.")
    scanned = scan_query(text)
    if scanned.form in UPDATE_OPERATIONS:
        raise ReadOnlyEndpoint()
    if scanned.uses_service:
        raise FederatedQueryRejected()
    return scanned


def syntax_failure(text: str, message: str) -> SparqlError:
    """Return the error for a query that the engine could not parse."""
    if looks_like_update(text):
        return ReadOnlyEndpoint()
    return InvalidQuery(f"Invalid SPARQL query: {message}")


# Result formats and content negotiation


@dataclass(frozen=True)
class ResultFormat:
    name: str  # value of the `format` request parameter
    media_type: str
    label: str


SOLUTION_FORMATS = (
    ResultFormat("json", "application/sparql-results+json", "JSON"),
    ResultFormat("xml", "application/sparql-results+xml", "XML"),
    ResultFormat("csv", "text/csv", "CSV"),
    ResultFormat("tsv", "text/tab-separated-values", "TSV"),
)
GRAPH_FORMATS = (
    ResultFormat("ttl", "text/turtle", "Turtle"),
    ResultFormat("jsonld", "application/ld+json", "JSON-LD"),
    ResultFormat("rdf", "application/rdf+xml", "RDF/XML"),
    ResultFormat("nt", "application/n-triples", "N-Triples"),
)
FORMATS_BY_NAME = {result_format.name: result_format for result_format in SOLUTION_FORMATS + GRAPH_FORMATS}
# Served as SPARQL Results JSON, with the Content-Type that the client requested.
JSON_ALIAS = "application/json"
SOLUTION_MEDIA_TYPES = [SOLUTION_FORMATS[0].media_type, JSON_ALIAS] + [f.media_type for f in SOLUTION_FORMATS[1:]]
GRAPH_MEDIA_TYPES = [result_format.media_type for result_format in GRAPH_FORMATS]
SOLUTION_FORMS = {"SELECT", "ASK"}
GRAPH_FORMS = {"CONSTRUCT", "DESCRIBE"}


@dataclass(frozen=True)
class ResultTypes:
    """The response media type for each kind of result; None where the client accepts none."""

    solutions: str | None  # SELECT and ASK
    graph: str | None  # CONSTRUCT and DESCRIBE

    def for_form(self, form: str | None) -> str | None:
        """Return the media type for a query form, rejecting a form the client accepts nothing for."""
        if form in GRAPH_FORMS:
            return self._require(self.graph, form, GRAPH_FORMATS, [])
        if form in SOLUTION_FORMS:
            return self._require(self.solutions, form, SOLUTION_FORMATS, [JSON_ALIAS])
        return self.solutions or self.graph

    @staticmethod
    def _require(media_type, form, formats, aliases) -> str:
        if media_type is not None:
            return media_type
        served = ", ".join([f.media_type for f in formats] + aliases)
        names = ", ".join(f.name for f in formats)
        raise NotAcceptable(f"The result of a {form} query is available only as {served} (format "
                            f"parameter: {names}), and the request accepts none of them.")


def negotiate_result_types(accept) -> ResultTypes:
    """Choose from a parsed Accept header (werkzeug MIMEAccept); an absent header accepts all."""
    if not accept:
        return ResultTypes(SOLUTION_MEDIA_TYPES[0], GRAPH_MEDIA_TYPES[0])
    return ResultTypes(accept.best_match(SOLUTION_MEDIA_TYPES), accept.best_match(GRAPH_MEDIA_TYPES))


def result_types_for_format(name: str) -> ResultTypes:
    """Return the types that a `format` parameter (json, ttl, ...) selects."""
    result_format = FORMATS_BY_NAME.get(name)
    if result_format is None:
        raise InvalidQuery(f"Unknown format {name!r}; use one of {', '.join(FORMATS_BY_NAME)} or auto.")
    if result_format in GRAPH_FORMATS:
        return ResultTypes(None, result_format.media_type)
    return ResultTypes(result_format.media_type, None)


def content_type(media_type: str) -> str:
    return f"{media_type}; charset=utf-8" if media_type.startswith("text/") else media_type


# Serialising results, with the result cap


class QueryResult(NamedTuple):
    body: bytes
    content_type: str
    # True when the query had more than `Settings.result_limit` solutions or triples.
    truncated: bool = False


def serialize_result(result, types: ResultTypes, limit: int, form: str | None = None) -> QueryResult:
    """Serialise a pyoxigraph result (solutions, boolean or triples), keeping at most `limit` items."""
    if isinstance(result, ox.QueryBoolean):
        media_type = types.for_form("ASK")
        return QueryResult(_serialize_boolean(bool(result), media_type), content_type(media_type))
    if isinstance(result, ox.QuerySolutions):
        media_type = types.for_form("SELECT")
        body, truncated = _serialize_solutions(result, media_type, limit)
        return QueryResult(body, content_type(media_type), truncated)
    media_type = types.for_form(form if form in GRAPH_FORMS else "CONSTRUCT")
    body, truncated = _serialize_triples(result, media_type, limit)
    return QueryResult(body, content_type(media_type), truncated)


def _serialize_solutions(solutions: ox.QuerySolutions, media_type: str, limit: int) -> tuple[bytes, bool]:
    # pyoxigraph serialises only a whole QuerySolutions, so the capped rows are written as SPARQL
    # Results JSON, read back and serialised in the requested format.
    names = [variable.value for variable in solutions.variables]
    rows = list(islice(solutions, limit + 1))
    truncated = len(rows) > limit
    bindings = [_bindings_json(row, names) for row in rows[:limit]]
    document = json.dumps({"head": {"vars": names}, "results": {"bindings": bindings}}).encode()
    return _convert_results_json(document, media_type), truncated


def _serialize_boolean(value: bool, media_type: str) -> bytes:
    document = json.dumps({"head": {}, "boolean": value}).encode()
    return _convert_results_json(document, media_type)


def _convert_results_json(document: bytes, media_type: str) -> bytes:
    if media_type in (SOLUTION_MEDIA_TYPES[0], JSON_ALIAS):
        return document
    parsed = ox.parse_query_results(document, format=ox.QueryResultsFormat.JSON)
    return parsed.serialize(format=ox.QueryResultsFormat.from_media_type(media_type))


def _bindings_json(solution: ox.QuerySolution, names: list[str]) -> dict:
    bindings = {}
    for name in names:
        term = solution[name]
        if term is not None:
            bindings[name] = _term_json(term)
    return bindings


def _term_json(term) -> dict:
    """Return a term as SPARQL 1.1 Results JSON, with the RDF 1.2 additions Oxigraph 0.5 writes."""
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    if isinstance(term, ox.Literal):
        return _literal_json(term)
    if isinstance(term, ox.Triple):
        parts = {"subject": term.subject, "predicate": term.predicate, "object": term.object}
        return {"type": "triple", "value": {key: _term_json(part) for key, part in parts.items()}}
    raise TypeError(f"Unexpected RDF term in query results: {term!r}")


def _literal_json(literal: ox.Literal) -> dict:
    value = {"type": "literal", "value": literal.value}
    if literal.language:
        value["xml:lang"] = literal.language
        if literal.direction is not None:
            value["its:dir"] = str(literal.direction)
    elif literal.datatype.value != XSD_STRING:
        value["datatype"] = literal.datatype.value
    return value


def _serialize_triples(triples: Iterable[ox.Triple], media_type: str, limit: int) -> tuple[bytes, bool]:
    kept = list(islice(triples, limit + 1))
    truncated = len(kept) > limit
    prefixes = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
    body = ox.serialize(kept[:limit], format=ox.RdfFormat.from_media_type(media_type), prefixes=prefixes)
    return body, truncated


# Worker processes: evaluation of one query at a time on a read-only snapshot


@dataclass(frozen=True)
class _Job:
    snapshot: str
    query: str
    form: str | None
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    types: ResultTypes
    limit: int


@dataclass(frozen=True)
class _Failure:
    status: int
    message: str
    # Where the engine raised an error that is not the client's fault, for the web process log.
    engine_error: str | None = None


_READY = "ready"


def _worker_main(connection) -> None:
    """Run jobs sent over a pipe until the pipe closes or None arrives."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops the workers.
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


def _run_job(job: _Job, snapshot: _OpenSnapshot) -> QueryResult | _Failure:
    try:
        store = snapshot.open(job.snapshot)
        result = store.query(job.query, **dataset_arguments(job.default_graphs, job.named_graphs))
        return serialize_result(result, job.types, job.limit, job.form)
    except SparqlError as error:
        return _Failure(error.status, error.message)
    except SyntaxError as error:
        failure = syntax_failure(job.query, str(error))
        return _Failure(failure.status, failure.message)
    except ValueError as error:
        return _Failure(400, f"The query could not be evaluated: {error}")
    except (OSError, RuntimeError) as error:
        return _Failure(503, f"The query failed in the SPARQL engine: {error}", repr(error))


def dataset_arguments(default_graphs: Iterable[str], named_graphs: Iterable[str]) -> dict:
    """Return pyoxigraph query options for the protocol's default-graph-uri and named-graph-uri."""
    arguments = {}
    if default_graphs:
        arguments["default_graph"] = [ox.NamedNode(iri) for iri in default_graphs]
    else:
        arguments["use_default_graph_as_union"] = True
    if named_graphs:
        arguments["named_graphs"] = [ox.NamedNode(iri) for iri in named_graphs]
    return arguments


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self, context, number: int):
        self._connection, child_connection = context.Pipe()
        self.process = context.Process(target=_worker_main, args=(child_connection,),
                                       name=f"umud-sparql-worker-{number}", daemon=True)
        self.process.start()
        child_connection.close()
        self._ready = False

    def run(self, job: _Job, timeout: float) -> QueryResult | _Failure:
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


class _WorkerPool:
    """Worker processes started on first use; each runs one job at a time for one thread."""

    def __init__(self, size: int):
        self._size = max(1, size)
        self._context = multiprocessing.get_context("spawn")
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._workers: set[_Worker] = set()
        self._lock = threading.Lock()
        self._started = 0
        self._closed = False

    def run(self, job: _Job, timeout: float) -> QueryResult | _Failure:
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


# Snapshots of the embedded store


class StoreSnapshots:
    """Read-only copies of an Oxigraph store, taken when its generation changes.

    Opening the live store read-only while the web process writes to it is undefined behaviour
    in Oxigraph, so workers read these copies. A copy is removed once it is stale and no
    running query uses it.
    """

    def __init__(self, store: OxigraphStore):
        self._store = store
        self._lock = threading.Lock()
        self._root: Path | None = None
        self._count = 0
        self._current: tuple[int, Path] | None = None  # (store generation, path)
        self._users: dict[Path, int] = {}
        self._closed = False

    def acquire(self) -> Path:
        """Return the path of an up-to-date snapshot, marked in use until `release`."""
        with self._lock:
            if self._closed:
                raise EngineUnavailable("The SPARQL endpoint is shutting down.")
            generation = self._store.generation
            if self._current is None or self._current[0] != generation:
                self._current = (generation, self._take(generation))
                self._remove_unused()
            path = self._current[1]
            self._users[path] += 1
            return path

    def release(self, path: Path) -> None:
        with self._lock:
            if path in self._users:  # absent once close() has removed every snapshot
                self._users[path] -= 1
                self._remove_unused()

    def _take(self, generation: int) -> Path:
        if self._root is None:
            self._root = Path(tempfile.mkdtemp(prefix="umud-sparql-"))
        self._count += 1
        path = self._root / f"snapshot-{self._count}"
        try:
            self._store.backup(path)
        except (OSError, RuntimeError) as error:
            log.error("cannot copy the store %s to %s: %s", self._store.path, path, error)
            shutil.rmtree(path, ignore_errors=True)
            raise EngineUnavailable("The store could not be prepared for querying; try again.") from None
        self._users[path] = 0
        log.debug("took snapshot %s of store generation %d", path, generation)
        return path

    def _remove_unused(self) -> None:
        current = self._current[1] if self._current else None
        for path, users in list(self._users.items()):
            if path != current and users == 0:
                del self._users[path]
                shutil.rmtree(path, ignore_errors=True)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._root is not None:
                shutil.rmtree(self._root, ignore_errors=True)
            self._root, self._current, self._users = None, None, {}


# Engines: where a checked query runs


class _EmbeddedEngine:
    def __init__(self, store: OxigraphStore, settings: Settings):
        self._settings = settings
        self._snapshots = StoreSnapshots(store)
        self._pool = _WorkerPool(settings.sparql_workers)

    def run(self, query: str, form: str | None, default_graphs: tuple[str, ...],
            named_graphs: tuple[str, ...], types: ResultTypes) -> QueryResult:
        snapshot = self._snapshots.acquire()
        try:
            job = _Job(str(snapshot), query, form, default_graphs, named_graphs, types,
                       self._settings.result_limit)
            outcome = self._pool.run(job, self._settings.query_timeout)
        finally:
            self._snapshots.release(snapshot)
        if isinstance(outcome, _Failure):
            if outcome.engine_error:
                log.error("SPARQL engine error: %s", outcome.engine_error)
            raise SparqlError(outcome.status, outcome.message)
        return outcome

    def close(self) -> None:
        self._pool.close()
        self._snapshots.close()


class _RejectRedirects(urllib.request.HTTPRedirectHandler):
    """Keep every request on the configured endpoint: a redirect becomes an HTTPError."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# Formats requested from the remote server, all of which pyoxigraph parses while reading.
_REMOTE_ACCEPT = ("application/sparql-results+json, application/sparql-results+xml;q=0.9, "
                  "application/n-triples, text/turtle;q=0.9")


class _RemoteEngine:
    """Forwards queries to the query endpoint of a `SparqlStore` and nowhere else."""

    def __init__(self, store: SparqlStore, settings: Settings):
        self._endpoint = store.query_endpoint
        self._settings = settings
        self._opener = urllib.request.build_opener(_RejectRedirects())

    def run(self, query: str, form: str | None, default_graphs: tuple[str, ...],
            named_graphs: tuple[str, ...], types: ResultTypes) -> QueryResult:
        fields = [("query", query)] + [("default-graph-uri", iri) for iri in default_graphs]
        fields += [("named-graph-uri", iri) for iri in named_graphs]
        http_request = urllib.request.Request(
            self._endpoint, data=urllib.parse.urlencode(fields).encode(), method="POST",
            headers={"Content-Type": "application/x-www-form-urlencoded", "Accept": _REMOTE_ACCEPT})
        # NOTE: urllib applies the timeout to each socket operation, so a server that sends a
        # slow trickle of data can take longer than query_timeout in total.
        try:
            with self._opener.open(http_request, timeout=self._settings.query_timeout) as response:
                return self._read_result(response, query, form, types)
        except urllib.error.HTTPError as error:
            raise self._http_failure(error, query) from None
        except TimeoutError:
            raise QueryTimeout(self._settings.query_timeout) from None
        except urllib.error.URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise QueryTimeout(self._settings.query_timeout) from None
            raise self._unreachable(error) from None
        except (OSError, SyntaxError) as error:
            raise self._unreachable(error) from None

    def _unreachable(self, error: Exception) -> SparqlError:
        log.error("SPARQL server %s failed: %r", self._endpoint, error)
        return SparqlError(502, "The SPARQL server behind this endpoint could not be reached or sent "
                                "an invalid response.")

    def _read_result(self, response, query: str, form: str | None, types: ResultTypes) -> QueryResult:
        media_type = response.headers.get_content_type()
        limit = self._settings.result_limit
        if media_type in ("application/sparql-results+json", "application/sparql-results+xml"):
            result = ox.parse_query_results(response, format=ox.QueryResultsFormat.from_media_type(media_type))
            return serialize_result(result, types, limit, form)
        if media_type in ("application/n-triples", "text/turtle"):
            quads = ox.parse(response, format=ox.RdfFormat.from_media_type(media_type))
            return serialize_result((quad.triple for quad in quads), types, limit, form)
        log.error("SPARQL server %s returned %s for %r", self._endpoint, media_type, query[:200])
        raise SparqlError(502, f"The SPARQL server behind this endpoint sent {media_type}, "
                               f"which this endpoint cannot read.")

    def _http_failure(self, error: urllib.error.HTTPError, query: str) -> SparqlError:
        detail = error.read(2000).decode("utf-8", errors="replace").strip()
        if error.code == 400:
            return syntax_failure(query, detail)
        log.error("SPARQL server %s returned HTTP %d: %s", self._endpoint, error.code, detail)
        return SparqlError(502, f"The SPARQL server behind this endpoint returned HTTP {error.code}.")

    def close(self) -> None:
        pass


# The service


class SparqlService:
    """Checks and runs read-only SPARQL queries on the catalog's store, within the settings' limits."""

    def __init__(self, store: CatalogStore, settings: Settings):
        self.settings = settings
        if isinstance(store, OxigraphStore):
            self._engine = _EmbeddedEngine(store, settings)
        elif isinstance(store, SparqlStore):
            self._engine = _RemoteEngine(store, settings)
        else:
            raise TypeError(f"The SPARQL endpoint supports OxigraphStore and SparqlStore, not "
                            f"{type(store).__name__}.")

    def run_query(self, query: str, types: ResultTypes, default_graphs: Iterable[str] = (),
                  named_graphs: Iterable[str] = ()) -> QueryResult:
        """Run a query and return its serialised result; raise a SparqlError on rejection or failure."""
        scanned = check_query_text(query)
        types.for_form(scanned.form)
        default_graphs, named_graphs = tuple(default_graphs), tuple(named_graphs)
        _check_graph_iris(default_graphs + named_graphs)
        return self._engine.run(query, scanned.form, default_graphs, named_graphs, types)

    def close(self) -> None:
        """Stop the worker processes and remove the snapshots."""
        self._engine.close()


def _check_graph_iris(iris: tuple[str, ...]) -> None:
    for iri in iris:
        try:
            ox.NamedNode(iri)
        except ValueError as error:
            raise InvalidQuery(f"Invalid graph IRI {iri!r}: {error}") from None


# HTTP: the SPARQL 1.1 Protocol query operation


@dataclass
class _ProtocolRequest:
    query: str | None
    default_graphs: list[str]
    named_graphs: list[str]
    result_format: str | None  # value of the `format` parameter


HTML_TYPES = ("text/html", "application/xhtml+xml")
ALLOWED_METHODS = "GET, POST, HEAD, OPTIONS"
HOW_TO_QUERY = ("Send a SPARQL query as the `query` parameter of a GET request, as the `query` field "
                "of an application/x-www-form-urlencoded POST, or as the body of an "
                "application/sparql-query POST.")


def create_sparql_blueprint(service: SparqlService) -> Blueprint:
    """Return the blueprint for /sparql: the query endpoint and its page for people."""
    blueprint = Blueprint("sparql", __name__)

    # PUT, DELETE and PATCH are routed here only to return a 405 response with CORS headers.
    @blueprint.route("", methods=["GET", "POST", "OPTIONS", "PUT", "DELETE", "PATCH"],
                     provide_automatic_options=False)
    def endpoint():
        if request.method == "OPTIONS":
            return Response(status=204, headers={"Allow": ALLOWED_METHODS})
        if request.method not in ("GET", "POST", "HEAD"):
            raise SparqlError(405, f"{request.method} is not supported here; use GET or POST.")
        protocol_request = _read_protocol_request()
        if _wants_page(protocol_request):
            return _page_response(service, protocol_request.query)
        if protocol_request.query is None:
            return _missing_query_response()
        types = _requested_types(protocol_request.result_format)
        result = service.run_query(protocol_request.query, types, protocol_request.default_graphs,
                                   protocol_request.named_graphs)
        return _result_response(result, service.settings.result_limit)

    blueprint.register_error_handler(SparqlError, _error_response)
    blueprint.register_error_handler(HTTPException, _http_error_response)
    blueprint.after_request(_add_cors_headers)
    return blueprint


def _read_protocol_request() -> _ProtocolRequest:
    url_fields = _parse_form(request.query_string, "URL query string")
    if request.method in ("GET", "HEAD"):
        return _from_fields(url_fields)
    if request.mimetype == "application/x-www-form-urlencoded":
        return _from_fields(url_fields + _parse_form(_read_body(MAX_FORM_BYTES), "form body"))
    if request.mimetype == "application/sparql-query":
        return _from_query_body(url_fields)
    if request.mimetype == "application/sparql-update":
        raise ReadOnlyEndpoint()
    raise SparqlError(415, f"Unsupported Content-Type {request.mimetype or '(none)'!r}: POST a query as "
                           f"application/x-www-form-urlencoded or application/sparql-query.")


def _from_query_body(url_fields: list[tuple[str, str]]) -> _ProtocolRequest:
    protocol_request = _from_fields(url_fields)
    if protocol_request.query is not None:
        raise InvalidQuery("An application/sparql-query POST carries the query in its body, so the "
                           "URL must not have a `query` parameter.")
    protocol_request.query = _decode_utf8(_read_body(MAX_QUERY_BYTES), "request body")
    return protocol_request


def _from_fields(fields: list[tuple[str, str]]) -> _ProtocolRequest:
    names = [name for name, _ in fields]
    if "update" in names:
        raise ReadOnlyEndpoint()
    queries = [value for name, value in fields if name == "query"]
    if len(queries) > 1:
        raise InvalidQuery(f"The request has {len(queries)} `query` parameters; send exactly one.")
    formats = [value for name, value in fields if name == "format"]
    return _ProtocolRequest(
        query=queries[0] if queries else None,
        default_graphs=[value for name, value in fields if name == "default-graph-uri"],
        named_graphs=[value for name, value in fields if name == "named-graph-uri"],
        result_format=formats[-1] if formats else None)


def _parse_form(data: bytes, where: str) -> list[tuple[str, str]]:
    """Parse application/x-www-form-urlencoded data, rejecting what is not UTF-8."""
    text = _decode_utf8(data, where)
    try:
        return urllib.parse.parse_qsl(text, keep_blank_values=True, encoding="utf-8", errors="strict",
                                      max_num_fields=1000)
    except UnicodeDecodeError:
        raise InvalidQuery(f"The {where} has percent-encoded bytes that are not UTF-8.") from None
    except ValueError as error:
        raise InvalidQuery(f"The {where} cannot be parsed: {error}") from None


def _read_body(max_bytes: int) -> bytes:
    if request.content_length is not None and request.content_length > max_bytes:
        raise _body_too_large(max_bytes)
    body = request.stream.read(max_bytes + 1)
    if len(body) > max_bytes:
        raise _body_too_large(max_bytes)
    return body


def _body_too_large(max_bytes: int) -> SparqlError:
    return SparqlError(413, f"The request body is larger than {max_bytes} bytes; queries may have at "
                            f"most {MAX_QUERY_CHARS} characters.")


def _decode_utf8(data: bytes, where: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidQuery(f"The {where} is not valid UTF-8 (byte {error.start}).") from None


def _wants_page(protocol_request: _ProtocolRequest) -> bool:
    """Tell whether a browser asked for the HTML page rather than query results.

    Only an Accept header that names text/html counts (not */*), and with a query only when it
    rates HTML above every result format. A `format` parameter always requests results.
    """
    if request.method not in ("GET", "HEAD") or protocol_request.result_format is not None:
        return False
    accept = request.accept_mimetypes
    html_quality = max((quality for value, quality in accept if value in HTML_TYPES), default=0)
    if protocol_request.query is None:
        return html_quality > 0
    results_quality = max(accept.quality(media_type) for media_type in SOLUTION_MEDIA_TYPES + GRAPH_MEDIA_TYPES)
    return html_quality > results_quality


def _requested_types(result_format: str | None) -> ResultTypes:
    if result_format in (None, "", "auto"):
        return negotiate_result_types(request.accept_mimetypes)
    return result_types_for_format(result_format)


def _missing_query_response() -> Response:
    # A SPARQL 1.1 Service Description of this endpoint belongs here.
    return _text_response(f"Missing query. {HOW_TO_QUERY} See {request.base_url} in a browser for "
                          f"examples.", 400)


def _page_response(service: SparqlService, query: str | None) -> Response:
    html = render_template("sparql.html", query=query or EXAMPLE_QUERIES[0].query, examples=EXAMPLE_QUERIES,
                           solution_formats=SOLUTION_FORMATS, graph_formats=GRAPH_FORMATS,
                           settings=service.settings, max_query_chars=MAX_QUERY_CHARS)
    response = Response(html, content_type="text/html; charset=utf-8")
    response.vary.add("Accept")
    return response


def _result_response(result: QueryResult, limit: int) -> Response:
    response = Response(result.body, content_type=result.content_type)
    response.vary.add("Accept")
    response.headers[LIMIT_HEADER] = str(limit)
    if result.truncated:
        response.headers[TRUNCATED_HEADER] = "true"
    return response


def _error_response(error: SparqlError) -> Response:
    level = logging.WARNING if error.status >= 500 else logging.INFO
    log.log(level, "%s %s rejected with %d: %s", request.method, request.path, error.status, error.message)
    response = _text_response(error.message, error.status)
    if error.status == 405:
        response.headers["Allow"] = ALLOWED_METHODS
    if error.status == 406:
        response.vary.add("Accept")
    return response


def _http_error_response(error: HTTPException) -> Response:
    log.info("%s %s failed with %s: %s", request.method, request.path, error.code, error.description)
    return _text_response(error.description or error.name, error.code or 400)


def _text_response(message: str, status: int) -> Response:
    return Response(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def _add_cors_headers(response: Response) -> Response:
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = f"{TRUNCATED_HEADER}, {LIMIT_HEADER}"
    if request.method == "OPTIONS":
        response.headers["Access-Control-Allow-Methods"] = "GET, POST"
        response.headers["Access-Control-Allow-Headers"] = "Accept, Content-Type"
        response.headers["Access-Control-Max-Age"] = "86400"
    return response


# Example queries for the HTML page; the tests run each of them.


@dataclass(frozen=True)
class ExampleQuery:
    title: str
    query: str


_PROLOGUE = """PREFIX dcat: <http://www.w3.org/ns/dcat#>
PREFIX dcterms: <http://purl.org/dc/terms/>
PREFIX healthdcatap: <http://healthdataportal.eu/ns/health#>
PREFIX skos: <http://www.w3.org/2004/02/skos/core#>
PREFIX umud: <https://w3id.org/umud/ontology#>
"""

EXAMPLE_QUERIES = (
    ExampleQuery("Count the datasets", _PROLOGUE + """
SELECT (COUNT(DISTINCT ?dataset) AS ?datasets)
WHERE { ?dataset a dcat:Dataset }
"""),
    ExampleQuery("Datasets with title, year and sample size", _PROLOGUE + """
SELECT ?dataset ?title ?year ?participants
WHERE {
  ?dataset a dcat:Dataset ;
           dcterms:title ?title ;
           dcterms:issued ?year .
  OPTIONAL { ?dataset healthdcatap:numberOfUniqueIndividuals ?participants }
}
ORDER BY DESC(?year) ?title
"""),
    ExampleQuery("Datasets per muscle", _PROLOGUE + """
SELECT ?muscle ?label (COUNT(DISTINCT ?dataset) AS ?datasets)
WHERE {
  ?dataset a dcat:Dataset ;
           umud:muscle ?muscle .
  ?muscle skos:prefLabel ?label .
  FILTER(LANGMATCHES(LANG(?label), "en"))
}
GROUP BY ?muscle ?label
ORDER BY DESC(?datasets) ?label
"""),
    ExampleQuery("Datasets about any muscle of the triceps surae", _PROLOGUE + """
# skos:broader* follows the muscle hierarchy: gastrocnemius heads and soleus.
SELECT DISTINCT ?dataset ?title ?muscleLabel
WHERE {
  ?dataset a dcat:Dataset ;
           dcterms:title ?title ;
           umud:muscle ?muscle .
  ?muscle skos:broader* <https://w3id.org/umud/vocab/muscle/triceps-surae> ;
          skos:prefLabel ?muscleLabel .
}
ORDER BY ?title ?muscleLabel
"""),
    ExampleQuery("Total images and videos", _PROLOGUE + """
SELECT (COUNT(?dataset) AS ?datasets) (SUM(?images) AS ?totalImages) (SUM(?videos) AS ?totalVideos)
WHERE {
  ?dataset a dcat:Dataset .
  OPTIONAL { ?dataset umud:imageCount ?imageCount }
  OPTIONAL { ?dataset umud:videoCount ?videoCount }
  BIND(COALESCE(?imageCount, 0) AS ?images)
  BIND(COALESCE(?videoCount, 0) AS ?videos)
}
"""),
    ExampleQuery("Datasets that provide labels", _PROLOGUE + """
SELECT ?dataset ?title ?labelDescription
WHERE {
  ?dataset a dcat:Dataset ;
           dcterms:title ?title ;
           umud:labelsProvided true .
  OPTIONAL { ?dataset umud:labelDescription ?labelDescription }
}
ORDER BY ?title
"""),
)
