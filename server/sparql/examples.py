"""Example queries for the HTML page at /sparql; the tests run each of them."""

from __future__ import annotations

from dataclasses import dataclass


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
