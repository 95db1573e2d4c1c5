"""Harvesters that pull dataset metadata from Zenodo, OSF and DataCite."""

HARVESTER_VERSION = "0.1.0"
# The software agent named in the provenance of every harvested graph.
HARVESTER_IRI = f"https://w3id.org/umud/software/harvester/{HARVESTER_VERSION}"
