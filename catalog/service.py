"""The catalog on top of a store: writing validated records and answering the pages' questions.

Layout in the store: each dataset's statements in the named graph named by the dataset IRI,
the catalog's own statements in `{base}/catalog`, the vocabularies in the ontology graph, and in
`{base}/catalog/state` the revisions of the catalog and of each dataset: tokens that each write
changes, so that copies derived from the store (the search index) can tell what is current.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, FOAF, RDF, XSD

from .history import (Change, Version, current_form, entry_graph, history_iri, last_versions, read_history,
                      version_copy, version_iri)
from .namespaces import DCAT, ONTOLOGY_GRAPH, UMUD, sparql_prologue
from .rdf_mapping import catalog_iri, dataset_iri, graph_to_record
from .record import NAME_PATTERN, Record
from .store import CatalogStore, StoreError
from .vocabulary import Vocabulary, default_vocabulary

if TYPE_CHECKING:
    from .search_index import SearchIndex

CATALOG_TITLE = "UMUD: Universal Musculoskeletal Ultrasonography Database"
CATALOG_DESCRIPTION = (
    "A catalog of public ultrasound datasets of human muscles and tendons: images, videos and "
    "3D volumes, described with the muscles, devices, participants and labels they contain, "
    "with links to where the data are published.")


@dataclass(frozen=True)
class Totals:
    datasets: int
    images: int
    videos: int
    participants: int


class Catalog:
    """Reads and writes the datasets of one catalog in a `CatalogStore`."""

    def __init__(self, store: CatalogStore, base_url: str, vocabulary: Vocabulary | None = None):
        self.store = store
        self.base_url = base_url.rstrip("/")
        self.vocabulary = vocabulary or default_vocabulary()
        self.iri = catalog_iri(self.base_url)
        self.state_graph = URIRef(f"{self.iri}/state")
        # The search index kept in step with every write, once `attach_index` has given one.
        self.search_index: SearchIndex | None = None
        self._sync_lock = threading.Lock()
        # Writes read the last version numbers before they write, so they run one at a time.
        self._write_lock = threading.Lock()

    def attach_index(self, index: SearchIndex) -> str:
        """Bring `index` up to date with the store and keep it so on every write; returns what sync did."""
        report = index.sync(self)
        index.warm(self.vocabulary)
        self.search_index = index
        return report

    def refresh_index(self) -> None:
        """Catch the search index up with writes made by other processes (to a remote store)."""
        if self.search_index is None:
            return
        with self._sync_lock:
            if self.search_index.revision != self.revision():
                self.search_index.sync(self)

    # Setting up

    def prepare(self) -> None:
        """Check the store belongs to this base URL, then write the vocabularies and catalog."""
        self._check_base_url()
        self.replace_graph(URIRef(ONTOLOGY_GRAPH), self.vocabulary.graph)
        self.store.update(insert_data(self.iri, self._catalog_description()))

    def _check_base_url(self) -> None:
        rows = self.store.select(sparql_prologue() + "SELECT ?catalog WHERE { ?catalog a dcat:Catalog }")
        others = sorted(str(row["catalog"]) for row in rows if row["catalog"] != self.iri)
        if others:
            raise StoreError(
                f"This store contains the catalog {others[0]}, but the base URL is {self.base_url}. "
                f"Start with the base URL the store was built with, or use a new --store path.")

    def _catalog_description(self) -> Graph:
        graph = Graph()
        graph.add((self.iri, RDF.type, DCAT.Catalog))
        graph.add((self.iri, DCTERMS.title, Literal(CATALOG_TITLE, lang="en")))
        graph.add((self.iri, DCTERMS.description, Literal(CATALOG_DESCRIPTION, lang="en")))
        graph.add((self.iri, FOAF.homepage, URIRef(self.base_url + "/")))
        publisher = URIRef(f"{self.base_url}/agents/umud")
        graph.add((self.iri, DCTERMS.publisher, publisher))
        graph.add((publisher, RDF.type, FOAF.Organization))
        graph.add((publisher, FOAF.name, Literal("UMUD, the Universal Musculoskeletal Ultrasonography Database")))
        graph.add((self.iri, DCTERMS.license, URIRef("https://spdx.org/licenses/CC0-1.0")))
        graph.add((self.iri, DCTERMS.language, URIRef("http://id.loc.gov/vocabulary/iso639-1/en")))
        return graph

    def replace_graph(self, name: URIRef, graph: Graph) -> None:
        self.store.update(f"DROP SILENT GRAPH <{name}> ;\n" + insert_data(name, graph))

    # Writing

    def write(self, datasets: list[tuple[str, Graph]], change: Change) -> None:
        """Replace the graphs of datasets (name, graph), link them from the catalog and keep each as
        a new version made by `change`.

        All of it is one SPARQL update, so either every dataset is written or none is.
        """
        with self._write_lock:
            dataset_iris = [dataset_iri(self.base_url, name) for name, _ in datasets]
            last = last_versions(self.store, dataset_iris)
            time = _now()
            links = Graph()
            operations = []
            for (name, graph), dataset in zip(datasets, dataset_iris):
                number = last.get(dataset, (0, ""))[0] + 1
                kind = "created" if number == 1 else "updated"
                links.add((self.iri, DCAT.dataset, dataset))
                links.add((self.iri, DCAT.record, URIRef(f"{dataset}/record")))
                operations.append(f"DROP SILENT GRAPH <{dataset}>")
                operations.append(insert_data(dataset, graph))
                operations.append(insert_data(version_iri(dataset, number), version_copy(graph, dataset, number)))
                operations.append(insert_data(history_iri(dataset),
                                              entry_graph(self.base_url, dataset, number, kind, change, time)))
            operations.append(insert_data(self.iri, links))
            before, after = self._update_with_revision(operations, [name for name, _ in datasets])
        if self.search_index is not None:
            written = [graph_to_record(graph, dataset_iri(self.base_url, name), self.vocabulary)
                       for name, graph in datasets]
            self.search_index.record_written(self, written, before, after)

    def withdraw(self, name: str, change: Change) -> None:
        """Take a dataset out of the catalog, keeping its versions and a tombstone with the reason.

        Raises LookupError when there is no such dataset.
        """
        if self.dataset_graph(name) is None:
            raise LookupError(f"there is no dataset named '{name}' in this catalog")
        dataset = dataset_iri(self.base_url, name)
        with self._write_lock:
            number = last_versions(self.store, [dataset]).get(dataset, (0, ""))[0] + 1
            operations = self._unlink(name) + [insert_data(
                history_iri(dataset), entry_graph(self.base_url, dataset, number, "withdrawn", change, _now()))]
            before, after = self._update_with_revision(operations, [name], removed=True)
        if self.search_index is not None:
            self.search_index.record_removed([name], before, after)

    def purge(self, names: list[str]) -> None:
        """Delete datasets with their versions and history, as if they had never been written.

        Only for records that must not stay public at all (test data, personal data published by
        mistake); every other removal is a `withdraw`.
        """
        operations = []
        for name in names:
            dataset = dataset_iri(self.base_url, name)
            operations += self._unlink(name)
            operations.append(f"DROP SILENT GRAPH <{history_iri(dataset)}>")
            operations.append(f"DELETE {{ GRAPH ?version {{ ?s ?p ?o }} }} WHERE {{ GRAPH ?version {{ ?s ?p ?o }} "
                              f"FILTER(STRSTARTS(STR(?version), \"{dataset}/versions/\")) }}")
        with self._write_lock:
            before, after = self._update_with_revision(operations, names, removed=True)
        if self.search_index is not None:
            self.search_index.record_removed(names, before, after)

    def _unlink(self, name: str) -> list[str]:
        """Return the operations that drop a dataset's graph and its links from the catalog."""
        if not NAME_PATTERN.match(name):
            raise ValueError(f"'{name}' is not a dataset name")
        dataset = dataset_iri(self.base_url, name)
        operations = [f"DROP SILENT GRAPH <{dataset}>"]
        for predicate, target in ((DCAT.dataset, dataset), (DCAT.record, f"{dataset}/record")):
            operations.append(f"DELETE WHERE {{ GRAPH <{self.iri}> {{ <{self.iri}> <{predicate}> <{target}> }} }}")
        return operations

    def _update_with_revision(self, operations: list[str], names: list[str],
                              removed: bool = False) -> tuple[str | None, str]:
        """Run the operations in one update that also sets the catalog's modification time and the
        revision of the catalog and of each named dataset (removed datasets lose theirs).

        Returns the catalog's revision before and after the update.
        """
        before = self.revision() if self.search_index is not None else None
        after = uuid.uuid4().hex
        modified = Literal(_now(), datatype=XSD.dateTime).n3()
        token = Literal(after).n3()
        subjects = [self.iri, *(dataset_iri(self.base_url, name) for name in names)]
        revised = [self.iri] if removed else subjects
        revisions = "\n".join(f"<{subject}> <{UMUD.revision}> {token} ." for subject in revised)
        self.store.update(" ;\n".join([
            f"DELETE WHERE {{ GRAPH <{self.iri}> {{ <{self.iri}> <{DCTERMS.modified}> ?modified }} }}",
            *(f"DELETE WHERE {{ GRAPH <{self.state_graph}> {{ <{subject}> <{UMUD.revision}> ?revision }} }}"
              for subject in subjects),
            *operations,
            f"INSERT DATA {{ GRAPH <{self.iri}> {{ <{self.iri}> <{DCTERMS.modified}> {modified} }} }}",
            f"INSERT DATA {{ GRAPH <{self.state_graph}> {{\n{revisions}\n}} }}",
        ]))
        return before, after

    # Reading

    # The queries below read each dataset's curated graph (named by the dataset IRI) only, so
    # statements that harvests keep in other graphs never change what the catalog counts or lists.

    def revision(self) -> str | None:
        """Return the token of the last write of datasets, or None for a store never written to."""
        rows = self.store.select(
            f"SELECT ?revision WHERE {{ GRAPH <{self.state_graph}> {{ <{self.iri}> <{UMUD.revision}> ?revision }} }}")
        return str(rows[0]["revision"]) if rows else None

    def dataset_revisions(self) -> dict[str, str]:
        """Return the revision of each dataset's last write, by dataset name ("" when unknown)."""
        rows = self.store.select(sparql_prologue() + f"""
            SELECT ?name ?revision WHERE {{
              GRAPH ?dataset {{ ?dataset a dcat:Dataset ; dcterms:identifier ?name }}
              OPTIONAL {{ GRAPH <{self.state_graph}> {{ ?dataset umud:revision ?revision }} }}
            }}""")
        return {str(row["name"]): str(row.get("revision", "")) for row in rows}

    def datasets_graph(self, names: list[str]) -> Graph:
        """Return the statements about the named datasets, merged into one graph."""
        graphs = " ".join(f"<{dataset_iri(self.base_url, name)}>" for name in names if NAME_PATTERN.match(name))
        if not graphs:
            return Graph()
        return self.store.construct(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ VALUES ?g {{ {graphs} }} GRAPH ?g {{ ?s ?p ?o }} }}")

    def modification_times(self) -> dict[str, datetime]:
        """Return when each dataset's record was last modified, by dataset name, in one query."""
        rows = self.store.select(sparql_prologue() + """
            SELECT ?name ?modified WHERE { GRAPH ?dataset {
              ?dataset a dcat:Dataset ; dcterms:identifier ?name .
              ?record foaf:primaryTopic ?dataset ; dcterms:modified ?modified
            } }""")
        return {str(row["name"]): row["modified"].toPython() for row in rows}

    def withdrawn(self) -> dict[str, datetime]:
        """Return the datasets whose last version withdrew them, with the time of the withdrawal."""
        rows = self.store.select(sparql_prologue() + """
            SELECT ?dataset ?time WHERE {
              GRAPH ?history { ?version prov:specializationOf ?dataset ; umud:versionNumber ?number ;
                                        umud:changeKind "withdrawn" ; prov:generatedAtTime ?time }
              FILTER NOT EXISTS { GRAPH ?later { ?newer prov:specializationOf ?dataset ; umud:versionNumber ?next
                                                 FILTER(?next > ?number) } }
            }""")
        prefix = f"{self.base_url}/datasets/"
        return {str(row["dataset"]).removeprefix(prefix): row["time"].toPython() for row in rows
                if str(row["dataset"]).startswith(prefix)}

    def history(self, name: str) -> list[Version]:
        """Return the versions of a dataset, oldest first, also after a withdrawal; empty when unknown."""
        if not NAME_PATTERN.match(name):
            return []
        return read_history(self.store, dataset_iri(self.base_url, name))

    def history_graph(self, name: str) -> Graph:
        """Return the PROV-O statements about a dataset's versions (empty for an unknown name)."""
        if not NAME_PATTERN.match(name):
            return Graph()
        history = history_iri(dataset_iri(self.base_url, name))
        return self.store.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{history}> {{ ?s ?p ?o }} }}")

    def version_graph(self, name: str, number: int) -> Graph | None:
        """Return the version graph `number` of a dataset, with the version's own IRIs, or None."""
        if not NAME_PATTERN.match(name):
            return None
        graph = self.store.construct(
            f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{version_iri(dataset_iri(self.base_url, name), number)}> {{ ?s ?p ?o }} }}")
        return graph if len(graph) else None

    def version_record(self, name: str, number: int) -> Record | None:
        """Return the record as version `number` made it, or None when there is no such version."""
        graph = self.version_graph(name, number)
        if graph is None:
            return None
        dataset = dataset_iri(self.base_url, name)
        return graph_to_record(current_form(graph, dataset, number), dataset, self.vocabulary)

    def is_empty(self) -> bool:
        return not self.store.ask(sparql_prologue() + "ASK { GRAPH ?dataset { ?dataset a dcat:Dataset } }")

    def names(self) -> list[str]:
        rows = self.store.select(sparql_prologue() + """
            SELECT ?name WHERE { GRAPH ?dataset { ?dataset a dcat:Dataset ; dcterms:identifier ?name } }
            ORDER BY ?name""")
        return [str(row["name"]) for row in rows]

    def dataset_graph(self, name: str) -> Graph | None:
        """Return the statements about one dataset, or None when there is no such dataset."""
        if not NAME_PATTERN.match(name):
            # The name becomes part of an IRI in a query, so only a valid dataset name may pass.
            return None
        dataset = dataset_iri(self.base_url, name)
        graph = self.store.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{dataset}> {{ ?s ?p ?o }} }}")
        if (dataset, RDF.type, DCAT.Dataset) not in graph:
            return None
        return graph

    def record(self, name: str) -> Record | None:
        graph = self.dataset_graph(name)
        if graph is None:
            return None
        return graph_to_record(graph, dataset_iri(self.base_url, name), self.vocabulary)

    def modified(self, name: str) -> datetime | None:
        if not NAME_PATTERN.match(name):
            return None
        dataset = dataset_iri(self.base_url, name)
        rows = self.store.select(sparql_prologue() + f"""
            SELECT ?modified WHERE {{ GRAPH <{dataset}> {{ <{dataset}/record> dcterms:modified ?modified }} }}""")
        return rows[0]["modified"].toPython() if rows else None

    def totals(self) -> Totals:
        rows = self.store.select(sparql_prologue() + """
            SELECT (COUNT(?dataset) AS ?datasets) (SUM(?images) AS ?imageSum)
                   (SUM(?videos) AS ?videoSum) (SUM(?participants) AS ?participantSum)
            WHERE { GRAPH ?dataset {
              ?dataset a dcat:Dataset .
              OPTIONAL { ?dataset umud:imageCount ?imageCount }
              OPTIONAL { ?dataset umud:videoCount ?videoCount }
              OPTIONAL { ?dataset healthdcatap:numberOfUniqueIndividuals ?sampleSize }
              BIND(COALESCE(?imageCount, 0) AS ?images)
              BIND(COALESCE(?videoCount, 0) AS ?videos)
              BIND(COALESCE(?sampleSize, 0) AS ?participants)
            } }""")
        row = rows[0]

        def number(key: str) -> int:
            return int(row[key].toPython()) if key in row else 0

        return Totals(number("datasets"), number("imageSum"), number("videoSum"), number("participantSum"))

    def newest(self, count: int = 5) -> list[str]:
        rows = self.store.select(sparql_prologue() + f"""
            SELECT ?name WHERE {{ GRAPH ?dataset {{
              ?dataset a dcat:Dataset ; dcterms:identifier ?name ; dcterms:issued ?issued .
              OPTIONAL {{ ?record foaf:primaryTopic ?dataset ; dcterms:modified ?modified }}
            }} }} ORDER BY DESC(STR(?issued)) DESC(?modified) ?name LIMIT {int(count)}""")
        return [str(row["name"]) for row in rows]


def insert_data(graph_name: URIRef, graph: Graph) -> str:
    """Return a SPARQL INSERT DATA operation that adds a graph's triples to a named graph."""
    triples = graph.serialize(format="nt")
    return f"INSERT DATA {{ GRAPH <{graph_name}> {{\n{triples}}} }}"


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()
