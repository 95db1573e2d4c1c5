"""The controlled vocabularies (SKOS concept schemes) that record values are checked against.

Values arrive as labels ("Gastrocnemius Medialis", "CC BY 4.0", "tif"); `Vocabulary.concept`
resolves one to its concept by preferred label, alternative label, notation or IRI, ignoring case.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SKOS

from . import ONTOLOGY_DIR
from .namespaces import DCAT, SDO, UMUD, UMUD_VOCAB, bind_prefixes

LICENSE_SCHEME = UMUD_VOCAB + "license"
# The kind of the device scheme's search groups: a manufacturer above its devices.
MANUFACTURER = "Manufacturer"


@dataclass(frozen=True)
class Concept:
    """One controlled value, e.g. the muscle Soleus or the licence CC-BY-4.0."""

    iri: str
    scheme: str
    label: str
    definition: str = ""
    notation: str | None = None
    alt_labels: tuple[str, ...] = ()
    broader: tuple[str, ...] = ()
    media_type: str | None = None
    manufacturer: str | None = None
    exact_matches: tuple[str, ...] = ()
    # Local names of the concept's umud: classes, e.g. {"Muscle", "MuscleGroup"}.
    kinds: frozenset[str] = frozenset()

    @property
    def is_group(self) -> bool:
        """Whether the concept groups others for searching (a muscle group, a device manufacturer)."""
        return bool({"MuscleGroup", MANUFACTURER} & self.kinds)


@dataclass
class Vocabulary:
    """All concept schemes of the catalog, indexed for look-ups by label."""

    graph: Graph
    concepts_by_iri: dict[str, Concept] = field(default_factory=dict)
    _index: dict[tuple[str, str], Concept] = field(default_factory=dict)

    @classmethod
    def load(cls, directory: Path = ONTOLOGY_DIR) -> "Vocabulary":
        graph = bind_prefixes(Graph())
        for path in sorted(directory.rglob("*.ttl")):
            graph.parse(path, format="turtle")
        vocabulary = cls(graph)
        vocabulary._build_index()
        return vocabulary

    def _build_index(self) -> None:
        for iri in set(self.graph.subjects(RDF.type, SKOS.Concept)):
            scheme_iri = self.graph.value(iri, SKOS.inScheme)
            if scheme_iri is None:
                continue
            self._add(self._read_concept(iri, str(scheme_iri)))
        for manufacturer in self._manufacturers():
            self._add(manufacturer)

    def _add(self, concept: Concept) -> None:
        self.concepts_by_iri[concept.iri] = concept
        keys = {concept.label, *concept.alt_labels, concept.iri}
        if concept.notation:
            keys.add(concept.notation)
        for key in keys:
            self._index[(concept.scheme, _fold(key))] = concept

    def _manufacturers(self) -> list[Concept]:
        """Return each device manufacturer as a group of the device scheme, for searching.

        In the vocabulary a device names its maker with schema:manufacturer, not skos:broader.
        Searching treats the maker as a group above its devices, as a muscle group is above its
        muscles, so that `device=Esaote` finds every Esaote device. Records name single devices.
        """
        makers = {}
        for device in self.graph.subjects(SDO.manufacturer, None):
            maker = self.graph.value(device, SDO.manufacturer)
            name = self.graph.value(maker, SDO.name)
            if name is not None and str(device) in self.concepts_by_iri:
                makers.setdefault(str(maker), str(name))
        return [Concept(iri=iri, scheme="device", label=name, kinds=frozenset({MANUFACTURER}))
                for iri, name in makers.items()]

    def _read_concept(self, iri: URIRef, scheme_iri: str) -> Concept:
        graph = self.graph
        manufacturer = graph.value(iri, SDO.manufacturer)
        media_type = graph.value(iri, DCAT.mediaType)
        notation = graph.value(iri, SKOS.notation)
        return Concept(
            iri=str(iri),
            scheme=scheme_iri.removeprefix(UMUD_VOCAB),
            label=str(graph.value(iri, SKOS.prefLabel) or iri),
            definition=str(graph.value(iri, SKOS.definition) or ""),
            notation=str(notation) if notation is not None else None,
            alt_labels=tuple(sorted(str(label) for label in graph.objects(iri, SKOS.altLabel))),
            broader=tuple(sorted({*(str(parent) for parent in graph.objects(iri, SKOS.broader)),
                                  *([str(manufacturer)] if manufacturer is not None else [])})),
            media_type=str(media_type) if media_type is not None else None,
            manufacturer=str(graph.value(manufacturer, SDO.name) or "") if manufacturer else None,
            exact_matches=tuple(sorted(str(match) for match in graph.objects(iri, SKOS.exactMatch))),
            kinds=frozenset(
                str(kind).removeprefix(str(UMUD)) for kind in graph.objects(iri, RDF.type)
                if str(kind).startswith(str(UMUD))),
        )

    def concept(self, scheme: str, value: str) -> Concept | None:
        """Return the concept of `scheme` that `value` names, or None."""
        return self._index.get((scheme, _fold(value)))

    def concepts(self, scheme: str) -> list[Concept]:
        """Return the concepts of a scheme sorted by label."""
        found = [concept for concept in self.concepts_by_iri.values() if concept.scheme == scheme]
        return sorted(found, key=lambda concept: concept.label.casefold())

    def labels(self, scheme: str, *, groups: bool = True) -> list[str]:
        return [concept.label for concept in self.concepts(scheme) if groups or not concept.is_group]

    def tree(self, scheme: str) -> list[tuple[Concept, int]]:
        """Return the concepts of a scheme depth first under their broader concepts, with their depth.

        A concept with several broader concepts in the scheme appears under each of them.
        """
        concepts = self.concepts(scheme)
        in_scheme = {concept.iri for concept in concepts}
        ordered: list[tuple[Concept, int]] = []

        def visit(concept: Concept, depth: int) -> None:
            ordered.append((concept, depth))
            for child in concepts:
                if concept.iri in child.broader and depth < 8:
                    visit(child, depth + 1)

        for concept in concepts:
            if not in_scheme.intersection(concept.broader):
                visit(concept, 0)
        return ordered

    def broader_closure(self, iri: str) -> set[str]:
        """Return `iri` and every concept above it through skos:broader links."""
        found = {iri}
        pending = [iri]
        while pending:
            concept = self.concepts_by_iri.get(pending.pop())
            for parent in concept.broader if concept is not None else ():
                if parent not in found:
                    found.add(parent)
                    pending.append(parent)
        return found

    def narrower_closure(self, iri: str) -> set[str]:
        """Return `iri` and every concept below it through skos:broader links."""
        found = {iri}
        changed = True
        while changed:
            changed = False
            for concept in self.concepts_by_iri.values():
                if concept.iri not in found and found.intersection(concept.broader):
                    found.add(concept.iri)
                    changed = True
        return found

    def scheme_examples(self, scheme: str, value: str = "", count: int = 3) -> str:
        """Return labels of a scheme for error messages: those closest to `value`, else the first few."""
        labels = self.labels(scheme, groups=False)
        close = difflib.get_close_matches(value, labels, n=count, cutoff=0.6) if value else []
        if close:
            return "did you mean " + " or ".join(f"'{label}'" for label in close) + "?"
        return "for example " + ", ".join(labels[:count]) + "; the catalog's /ontology page lists them all"


def _fold(value: str) -> str:
    return " ".join(value.split()).casefold()


@lru_cache(maxsize=1)
def default_vocabulary() -> Vocabulary:
    """Return the vocabulary shipped in `ontology/`, loaded once per process."""
    return Vocabulary.load()
