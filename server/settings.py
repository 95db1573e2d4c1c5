"""Settings of a running catalog server, from the command line or the environment."""

from __future__ import annotations

from dataclasses import dataclass, field


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
    # The private database of curators and submissions; ":memory:" keeps it in this process only.
    curation_path: str = ":memory:"
    # Submissions one client address may make: (count, per seconds).
    submission_limit: tuple[int, float] = (10, 3600)
    # API base URLs that pre-filling the form from a DOI may ask ({"zenodo": ..., "osf": ...,
    # "datacite": ..., "oai": ...}); empty means the public services or the UMUD_*_URL variables.
    harvest_urls: dict = field(default_factory=dict)
    # The address that OAI-PMH's Identify gives for the repository's administrator.
    admin_email: str = "umud-admin@localhost"
