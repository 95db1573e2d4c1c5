"""Writing harvested records into the catalog: match, compare, store, and count.

A harvested record is matched to a catalogued dataset by DOI, concept DOI, source id or landing
page. Matched records go into the dataset's harvest graph; unmatched ones become candidates for
curators (`{base}/candidates/{source}-{id}`), never public datasets. Every record is one SPARQL
update, so an interrupted run leaves whole records behind, and the next run skips the unchanged.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import RDF

from catalog.namespaces import UMUD, sparql_prologue
from catalog.service import Catalog, insert_data
from catalog.validation import validate_graph

from .datacite import resolve_source
from .mapping import content_hash, harvest_graph_iri, harvested_graph
from .model import HarvestError, HarvestedRecord

log = logging.getLogger("umud.harvest")
# DataCite general resource types that may hold ultrasound data; None is a source that gives no type.
CANDIDATE_TYPES = {"dataset", "image", "audiovisual", "collection", None}


@dataclass
class HarvestSummary:
    """The outcome of one run: counts by outcome, and each failure with its URL and reason."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    candidates: int = 0
    # Records that match no dataset and are not data (articles, software): no candidate is made.
    skipped: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)

    def line(self, source: str) -> str:
        return (f"harvested from {source}: {self.new} new, {self.updated} updated, {self.unchanged} unchanged, "
                f"{self.candidates} new candidates, {self.skipped} skipped (not data), {len(self.failed)} failed")


class CatalogHarvest:
    """Stores harvested records for one catalog; build one per run."""

    def __init__(self, catalog: Catalog):
        self.catalog = catalog
        self._keys = self._catalogued_keys()
        # Source ids whose dataset the caller named (a refresh), which wins over matching by identifiers.
        self._forced: dict[str, URIRef] = {}

    def _catalogued_keys(self) -> dict[tuple[str, str], URIRef]:
        rows = self.catalog.store.select(sparql_prologue() + """
            SELECT ?dataset ?doi ?link WHERE { GRAPH ?dataset {
              ?dataset a dcat:Dataset .
              OPTIONAL { ?dataset adms:identifier/skos:notation ?doi }
              OPTIONAL { ?dataset dcat:landingPage ?link } } }""")
        keys: dict[tuple[str, str], URIRef] = {}
        for row in rows:
            dataset = row["dataset"]
            for value in (row.get("doi"), row.get("link")):
                for key in _keys_of(str(value) if value is not None else None):
                    keys.setdefault(key, dataset)
        return keys

    def target(self, record: HarvestedRecord) -> tuple[URIRef, bool]:
        """Return the dataset IRI the record describes and whether that is a new candidate."""
        if record.source_id.lower() in self._forced:
            return self._forced[record.source_id.lower()], False
        keys = {(record.source, record.source_id.lower())}
        for value in (record.doi, record.concept_doi, record.landing_page):
            keys |= _keys_of(value)
        for key in sorted(keys):
            if key in self._keys:
                return self._keys[key], False
        slug = re.sub(r"[^a-z0-9]+", "-", record.source_id.lower()).strip("-").removeprefix(f"{record.source}-")
        return URIRef(f"{self.catalog.base_url}/candidates/{record.source}-{slug}"), True

    def store(self, record: HarvestedRecord, harvested_at: datetime | None = None) -> str:
        """Write one record and return "new", "updated" or "unchanged"."""
        dataset, is_candidate = self.target(record)
        name = harvest_graph_iri(dataset, record.source)
        stored_hash = self._stored_hash(name)
        if not is_candidate:
            self._record_disagreements(dataset, name, record)
        if stored_hash == content_hash(record):
            return "unchanged"

        graph = harvested_graph(record, dataset, harvested_at or datetime.now(timezone.utc), self.catalog.vocabulary)
        report = validate_graph(graph, self.catalog.vocabulary, shapes="harvest")
        if not report.conforms:
            raise ValueError("; ".join(str(result) for result in report.violations))
        if is_candidate:
            # Candidate graphs stay out of the pages, the counts and the embedded /sparql endpoint,
            # whose snapshots drop them. NOTE: a remote store's own endpoint still serves them.
            graph.add((dataset, RDF.type, UMUD.Candidate))
        operations = [f"DROP SILENT GRAPH <{name}>", insert_data(name, graph)]
        if is_candidate and stored_hash is None:
            operations.append(insert_data(dataset, _candidate_status(dataset, "pending")))
        self.catalog.store.update(" ;\n".join(operations))
        return "updated" if stored_hash is not None else "new"

    def _stored_hash(self, name: URIRef) -> str | None:
        rows = self.catalog.store.select(
            sparql_prologue() + f"SELECT ?hash WHERE {{ GRAPH <{name}> {{ <{name}> umud:contentHash ?hash }} }}")
        return str(rows[0]["hash"]) if rows else None

    def _record_disagreements(self, dataset: URIRef, name: URIRef, record: HarvestedRecord) -> None:
        """Replace the graph `{harvest graph}/disagreements` with the facts the source now disputes.

        It is rewritten on every harvest, changed or not, so it follows the curators' edits too.
        """
        curated = self.catalog.record(str(dataset).rsplit("/", 1)[-1])
        if curated is None:
            return
        graph = Graph()
        for field_name, curated_value, harvested_value in compare(
                curated, record.issued, record.license, record.version, self.catalog):
            node = BNode()
            graph.add((name, UMUD.disagreement, node))
            graph.add((node, RDF.type, UMUD.Disagreement))
            graph.add((node, UMUD.field, Literal(field_name)))
            graph.add((node, UMUD.curatedValue, Literal(curated_value)))
            graph.add((node, UMUD.harvestedValue, Literal(harvested_value)))
        disagreements = URIRef(f"{name}/disagreements")
        self.catalog.store.update(f"DROP SILENT GRAPH <{disagreements}>" +
                                  (" ;\n" + insert_data(disagreements, graph) if len(graph) else ""))

    def run(self, items: Iterable[HarvestedRecord | HarvestError | tuple[URIRef, HarvestedRecord]], *,
            progress: bool = False) -> HarvestSummary:
        """Store every record; a failure is counted with its URL and reason, and the run goes on.

        An item may be a (dataset IRI, record) pair: the record then describes that dataset.
        """
        summary = HarvestSummary()
        bar = _progress_bar(progress)
        try:
            for item in _guarded(items, summary):
                if isinstance(item, HarvestError):
                    summary.failed.append((item.url, item.reason))
                    log.warning("harvest failed for %s: %s", item.url, item.reason)
                    continue
                if isinstance(item, tuple):
                    dataset, item = item
                    self._forced[item.source_id.lower()] = dataset
                outcome = self._store_one(item, summary)
                if outcome:
                    setattr(summary, outcome, getattr(summary, outcome) + 1)
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
        return summary

    def _store_one(self, record: HarvestedRecord, summary: HarvestSummary) -> str | None:
        try:
            _, is_candidate = self.target(record)
            if is_candidate and record.resource_type not in CANDIDATE_TYPES:
                return "skipped"
            outcome = self.store(record)
        except (ValueError, OSError, RuntimeError) as error:
            summary.failed.append((record.api_url, f"could not be stored: {error}"))
            log.warning("could not store %s: %s", record.api_url, error)
            return None
        if is_candidate and outcome == "new":
            summary.candidates += 1
        return outcome


def _guarded(items: Iterable, summary: HarvestSummary):
    """Yield the items; a HarvestError raised while iterating (a failed page) ends the run cleanly."""
    iterator = iter(items)
    while True:
        try:
            yield next(iterator)
        except StopIteration:
            return
        except HarvestError as error:
            summary.failed.append((error.url, error.reason))
            log.warning("harvest stopped at %s: %s", error.url, error.reason)
            return


def _progress_bar(enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(unit=" records", desc="harvesting", leave=False)


def _keys_of(value: str | None) -> set[tuple[str, str]]:
    """Return the match keys of a DOI or landing URL: ("doi", doi) and the source with its id."""
    if not value:
        return set()
    keys = set()
    from .normalise import doi_from

    doi = doi_from(value) if "doi.org/" in value or value.startswith("10.") else None
    if doi:
        keys.add(("doi", doi))
    try:
        source, identifier = resolve_source(value)
        keys.add((source, identifier.lower()))
    except ValueError:
        pass
    keys.add(("url", value.rstrip("/").lower()))
    return keys


def compare(curated, issued: str | None, license: str | None, version: str | None,
            catalog: Catalog) -> list[tuple[str, str, str]]:
    """Return (field, curated value, harvested value) for each fact a source disputes."""
    differences = []
    if issued and str(curated.year) != issued[:4]:
        differences.append(("year", str(curated.year), issued[:4]))
    licence = catalog.vocabulary.concept("license", curated.license)
    if license and licence and licence.iri != license:
        differences.append(("license", licence.iri, license))
    if version and curated.version and version != curated.version:
        differences.append(("version", curated.version, version))
    return differences


def current_disagreements(catalog: Catalog) -> list[dict]:
    """Compare every harvested graph of a catalogued dataset with its curated record, now."""
    rows = catalog.store.select(sparql_prologue() + """
        PREFIX prov: <http://www.w3.org/ns/prov#>
        SELECT ?dataset ?graph ?source ?when ?issued ?license ?version WHERE {
          GRAPH ?dataset { ?dataset a dcat:Dataset }
          GRAPH ?graph { ?graph umud:harvestSource ?source ; prov:generatedAtTime ?when .
                         OPTIONAL { ?dataset dcterms:issued ?issued } OPTIONAL { ?dataset dcterms:license ?license }
                         OPTIONAL { ?dataset dcat:version ?version } }
          FILTER(STRSTARTS(STR(?graph), CONCAT(STR(?dataset), "/harvest/")))
        } ORDER BY ?dataset ?source""")
    found = []
    for row in rows:
        name = str(row["dataset"]).rsplit("/", 1)[-1]
        curated = catalog.record(name)
        values = [str(row[key]) if key in row else None for key in ("issued", "license", "version")]
        for field_name, curated_value, harvested_value in compare(curated, *values, catalog):
            found.append({"dataset": name, "source": str(row["source"]), "when": str(row["when"]),
                          "field": field_name, "curated": curated_value, "harvested": harvested_value})
    return found


def _candidate_status(candidate: URIRef, status: str, reason: str | None = None) -> Graph:
    graph = Graph()
    graph.add((candidate, RDF.type, UMUD.Candidate))
    graph.add((candidate, UMUD.candidateStatus, Literal(status)))
    if reason:
        graph.add((candidate, UMUD.statusReason, Literal(reason)))
    return graph
