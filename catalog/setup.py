"""Opening a catalog: the store, the vocabularies and, for an empty store, the seed datasets."""

from __future__ import annotations

import logging
from pathlib import Path

from . import SEED_DIR
from .loader import process_files
from .service import Catalog
from .store import open_store

log = logging.getLogger("umud")


def open_catalog(store_location: str | Path, base_url: str, *, seed_if_empty: bool = True,
                 update_endpoint: str | None = None) -> Catalog:
    """Open the store, write the vocabularies and load the seed catalog into an empty store."""
    catalog = Catalog(open_store(store_location, update_endpoint), base_url)
    catalog.prepare()
    if seed_if_empty and catalog.is_empty():
        load_seed(catalog)
    return catalog


def load_seed(catalog: Catalog) -> None:
    results = process_files(sorted(SEED_DIR.glob("*.json")), catalog, write=True, agent="UMUD seed catalog")
    failed = [result for result in results if not result.ok]
    for result in failed:
        log.error("seed file %s was not loaded: %s", result.source, "; ".join(map(str, result.errors)))
    log.info("loaded %d seed datasets into %s", len(results) - len(failed), catalog.iri)
