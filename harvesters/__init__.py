"""Harvesters that pull dataset metadata from Zenodo, OSF and DataCite."""
