"""The public, read-only SPARQL 1.1 query endpoint at /sparql.

Every query is checked in the web process first: updates and SERVICE are rejected, and the
query form decides which result formats the client may get. On the embedded Oxigraph store the
query then runs in a worker process on a read-only snapshot of the store, so a query that
exceeds the time limit is stopped by ending its process. On a remote store the query is
forwarded to the store's own query endpoint. Either way at most `Settings.result_limit`
solutions or triples are returned.

The modules, in the order a query passes through them:

- `views` contains the Flask blueprint, which runs the steps below and sends the response.
- `protocol` reads the query operation from the HTTP request.
- `scanner` checks the query text, and `negotiation` chooses the result format.
- `service` runs the query on an engine: `embedded` (with `snapshots` and `workers`) or `remote`.
- `results` caps and serialises the result.

`errors` defines the exceptions with their HTTP status, and `examples` the queries of the HTML page.
"""

from .errors import (EngineUnavailable, FederatedQueryRejected, InvalidQuery, NotAcceptable, QueryTimeout,
                     ReadOnlyEndpoint, SparqlError)
from .examples import EXAMPLE_QUERIES, ExampleQuery
from .negotiation import (GRAPH_FORMATS, SOLUTION_FORMATS, ResultFormat, ResultTypes, negotiate_result_types,
                          result_types_for_format)
from .results import QueryResult, serialize_result
from .scanner import MAX_QUERY_CHARS, QueryText, check_query_text, looks_like_update, scan_query
from .service import SparqlService
from .snapshots import StoreSnapshots
from .views import LIMIT_HEADER, TRUNCATED_HEADER, create_sparql_blueprint

__all__ = [
    "EXAMPLE_QUERIES", "GRAPH_FORMATS", "LIMIT_HEADER", "MAX_QUERY_CHARS", "SOLUTION_FORMATS", "TRUNCATED_HEADER",
    "EngineUnavailable", "ExampleQuery", "FederatedQueryRejected", "InvalidQuery", "NotAcceptable", "QueryResult",
    "QueryText", "QueryTimeout", "ReadOnlyEndpoint", "ResultFormat", "ResultTypes", "SparqlError", "SparqlService",
    "StoreSnapshots", "check_query_text", "create_sparql_blueprint", "looks_like_update", "negotiate_result_types",
    "result_types_for_format", "scan_query", "serialize_result",
]
