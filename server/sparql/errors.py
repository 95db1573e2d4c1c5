"""The errors of the SPARQL endpoint, each with the HTTP status that the endpoint sends for it."""

from __future__ import annotations


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
