"""UMUD catalog: record model, RDF mapping, SHACL validation and the triple store."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY_DIR = PROJECT_ROOT / "ontology"
SHAPES_DIR = PROJECT_ROOT / "shapes"
SEED_DIR = Path(__file__).resolve().parent / "seed"

DEFAULT_BASE_URL = "http://127.0.0.1:5000"
