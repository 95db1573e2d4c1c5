"""RDF namespaces used by the catalog, bound once for every graph we build."""

from rdflib import Graph, Namespace
from rdflib.namespace import DCTERMS, FOAF, OWL, PROV, RDF, RDFS, SH, SKOS, XSD

# rdflib's DCAT namespace is closed at DCAT 2 and lacks DCAT 3 terms such as dcat:version.
DCAT = Namespace("http://www.w3.org/ns/dcat#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")

UMUD = Namespace("https://w3id.org/umud/ontology#")
UMUD_VOCAB = "https://w3id.org/umud/vocab/"
ONTOLOGY_GRAPH = "https://w3id.org/umud/ontology"
HEALTHDCATAP = Namespace("http://healthdataportal.eu/ns/health#")
BIBO = Namespace("http://purl.org/ontology/bibo/")
ADMS = Namespace("http://www.w3.org/ns/adms#")
SDO = Namespace("https://schema.org/")
SPDX_LICENSES = "https://spdx.org/licenses/"
UBERON = Namespace("http://purl.obolibrary.org/obo/UBERON_")

PREFIXES = {
    "dcat": DCAT,
    "dcterms": DCTERMS,
    "foaf": FOAF,
    "owl": OWL,
    "prov": PROV,
    "rdf": RDF,
    "rdfs": RDFS,
    "sh": SH,
    "skos": SKOS,
    "vcard": VCARD,
    "xsd": XSD,
    "umud": UMUD,
    "healthdcatap": HEALTHDCATAP,
    "bibo": BIBO,
    "adms": ADMS,
    "schema": SDO,
}


def bind_prefixes(graph: Graph) -> Graph:
    """Bind the catalog's prefixes to a graph so serialisations read well."""
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace, override=True, replace=True)
    return graph


def sparql_prologue() -> str:
    """Return PREFIX declarations for every catalog namespace, for queries we write."""
    return "".join(f"PREFIX {prefix}: <{namespace}>\n" for prefix, namespace in PREFIXES.items())
