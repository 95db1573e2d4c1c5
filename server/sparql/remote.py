"""Evaluation of checked queries by the query endpoint of a remote SPARQL store."""

from __future__ import annotations

import logging
import urllib.error
import urllib.parse
import urllib.request

import pyoxigraph as ox

from catalog.store import SparqlStore

from ..settings import Settings
from .errors import QueryTimeout, SparqlError
from .negotiation import ResultTypes
from .results import QueryResult, serialize_result
from .scanner import syntax_failure

log = logging.getLogger("umud.sparql")

class _RejectRedirects(urllib.request.HTTPRedirectHandler):
    """Keep every request on the configured endpoint: a redirect becomes an HTTPError."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# Formats requested from the remote server, all of which pyoxigraph parses while reading.
_REMOTE_ACCEPT = ("application/sparql-results+json, application/sparql-results+xml;q=0.9, "
                  "application/n-triples, text/turtle;q=0.9")


class RemoteEngine:
    """Forwards queries to the query endpoint of a `SparqlStore` and nowhere else."""

    def __init__(self, store: SparqlStore, settings: Settings):
        self._endpoint = store.query_endpoint
        self._settings = settings
        self._opener = urllib.request.build_opener(_RejectRedirects())

    def run(self, query: str, form: str | None, default_graphs: tuple[str, ...],
            named_graphs: tuple[str, ...], types: ResultTypes, base_iri: str | None = None) -> QueryResult:
        # NOTE: the remote server resolves relative IRIs against its own base, not against `base_iri`.
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
