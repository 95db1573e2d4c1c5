"""Every metadata field of a catalog record, declared once.

Each `Field` gives the field's name in our record format and in query parameters (snake_case),
its key in the original UMUD JSON, the RDF predicate that carries it, its kind of value and how
strongly the shapes require it. The record model, the RDF mapping, the list
filters and the pages read this table; `tests/test_fields.py` checks that the SHACL shapes agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from rdflib import URIRef
from rdflib.namespace import DCTERMS

from .namespaces import ADMS, DCAT, HEALTHDCATAP, UMUD

Kind = Literal["text", "concept", "integer", "decimal", "year", "boolean", "url", "special"]
Level = Literal["required", "recommended", "optional"]


@dataclass(frozen=True)
class Field:
    """One record field: its names, its RDF predicate and how it is checked and shown."""

    name: str
    label: str
    predicate: URIRef
    kind: Kind
    level: Level
    umud_key: str | None = None
    many: bool = False
    scheme: str | None = None
    unit: str | None = None
    help: str = ""
    # Concept fields store the concept's notation (file extension, SPDX id) instead of its label.
    canonical: Literal["label", "notation"] = "label"
    # Filterable by a numeric range (`age_min`, `age_max`) instead of by values.
    ranged: bool = False


FIELDS: tuple[Field, ...] = (
    Field("name", "Name", DCTERMS.identifier, "text", "required", "DATASET_NAME",
          help="Short unique name of the dataset with its year, e.g. DeepACSA_2022."),
    Field("title", "Title", DCTERMS.title, "text", "required",
          help="A human-readable title."),
    Field("description", "Description", DCTERMS.description, "text", "required", "SHORT_DESCRIPTION",
          help="What the data shows, how and from whom it was acquired (50 to 5000 characters)."),
    Field("doi", "DOI", ADMS.identifier, "special", "recommended", "DOI",
          help="Digital Object Identifier of the dataset, e.g. 10.5281/zenodo.2598553."),
    Field("version", "Version", DCAT.version, "text", "recommended", "VERSION",
          help="Version of the dataset, e.g. 1.0."),
    Field("year", "Year", DCTERMS.issued, "year", "required", "DATASET_YEAR", ranged=True,
          help="Year the dataset was published."),
    Field("link", "Link to the data", DCAT.landingPage, "url", "required", "DATASET_LINK",
          help="Web page where the data can be obtained."),
    Field("publication", "Publication", DCTERMS.isReferencedBy, "url", "recommended", "PUBLICATION_LINK",
          help="Link to the article that describes the data."),
    Field("license", "Licence", DCTERMS.license, "concept", "required", "LICENSE",
          scheme="license", canonical="notation",
          help="Licence under which the data is shared, as an SPDX identifier such as CC-BY-4.0."),
    Field("authors", "Authors", DCTERMS.creator, "special", "required", "AUTHORS", many=True,
          help="Authors of the dataset in citation order, with ORCID where known."),
    Field("contact", "Contact", DCAT.contactPoint, "special", "recommended", "CONTACT", many=True,
          help="E-mail addresses to write to about the dataset."),
    Field("keywords", "Keywords", DCAT.keyword, "text", "optional", many=True,
          help="Free keywords."),
    Field("muscle", "Muscle", UMUD.muscle, "concept", "required", "MUSCLE", many=True, scheme="muscle",
          help="Muscles imaged."),
    Field("region", "Muscle region", UMUD.muscleRegion, "concept", "recommended", "MUSCLE_REGION",
          many=True, scheme="region", help="Parts of the muscle imaged."),
    Field("device", "Ultrasound device", UMUD.device, "concept", "recommended", "DEVICE", many=True,
          scheme="device", help="Ultrasound systems used."),
    Field("transducer", "Transducer", UMUD.transducer, "text", "optional", "TRANSDUCER", many=True,
          help="Probes used, as named by their maker."),
    Field("data_type", "Data type", UMUD.dataType, "concept", "required", "DATA_TYPE", scheme="data-type",
          help="Image, Video or Volume."),
    Field("image_type", "Image type", UMUD.imageType, "concept", "recommended", "IMAGE_TYPE", many=True,
          scheme="image-type", help="Static or Panoramic."),
    Field("plane", "Imaging plane", UMUD.imagingPlane, "concept", "recommended", "DATA_PLANE", many=True,
          scheme="plane", help="Longitudinal or Transverse."),
    Field("file_format", "File format", DCTERMS.format, "concept", "recommended", "FILE_TYPE", many=True,
          scheme="file-format", canonical="notation", help="File formats of the data, e.g. tiff, mp4."),
    Field("image_count", "Images", UMUD.imageCount, "integer", "optional", "IMAGE_NUMBER", ranged=True,
          help="Number of images."),
    Field("video_count", "Videos", UMUD.videoCount, "integer", "optional", "VIDEO_NUMBER", ranged=True,
          help="Number of videos."),
    Field("scanning_frequency", "Scanning frequency", UMUD.scanningFrequency, "decimal", "optional",
          "SCANNING_FREQUENCY", unit="MHz", ranged=True, help="Transducer frequency in MHz."),
    Field("sampling_rate", "Sampling rate", UMUD.samplingRate, "decimal", "optional", "SAMPLING_RATE",
          unit="Hz", ranged=True, help="Frames per second of videos."),
    Field("age", "Mean age", UMUD.meanAge, "decimal", "recommended", "PARTICIPANT_AGE", unit="years",
          ranged=True, help="Mean age of the participants in years."),
    Field("height", "Mean height", UMUD.meanHeight, "decimal", "optional", "PARTICIPANT_HEIGHT", unit="cm",
          ranged=True, help="Mean height of the participants in cm."),
    Field("body_mass", "Mean body mass", UMUD.meanBodyMass, "decimal", "optional", "PARTICIPANT_BODYMASS",
          unit="kg", ranged=True, help="Mean body mass of the participants in kg."),
    Field("sex", "Sex", UMUD.participantSex, "concept", "recommended", "PARTICIPANT_SEX", scheme="sex",
          help="Female, Male, or Female and male."),
    Field("sample_size", "Participants", HEALTHDCATAP.numberOfUniqueIndividuals, "integer", "required",
          "SAMPLE_SIZE", ranged=True, help="Number of participants."),
    Field("labels", "Labels provided", UMUD.labelsProvided, "boolean", "recommended", "DATA_LABELS",
          help="Whether the data come with labels (annotations)."),
    Field("label_description", "Labels", UMUD.labelDescription, "text", "recommended",
          "DATA_LABELS_DESCRIPTION", help="What the labels are and in which format."),
)

FIELDS_BY_NAME = {field.name: field for field in FIELDS}
CONCEPT_FIELDS = tuple(field for field in FIELDS if field.kind == "concept")
RANGED_FIELDS = tuple(field for field in FIELDS if field.ranged)

# Fields that the dataset list can filter by; links and e-mail addresses are not search criteria.
FILTER_FIELDS_NAMES = frozenset(field.name for field in FIELDS) - {"contact", "link", "publication"}
