"""Settings of a running catalog server, from the command line or the environment."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Settings:
    base_url: str
    store_location: str
    # Maximum run time of one SPARQL query, in seconds.
    query_timeout: float = 10.0
    # Maximum rows (SELECT) or triples (CONSTRUCT, DESCRIBE) in one SPARQL result.
    result_limit: int = 10000
    # Processes that evaluate SPARQL queries sent to /sparql.
    sparql_workers: int = 2
