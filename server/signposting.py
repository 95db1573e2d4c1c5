"""FAIR Signposting (https://signposting.org/FAIR/) for dataset landing pages.

Level 1: typed links in the `Link` header of the landing page (cite-as, describedby for each
metadata format, item for the data, license, type, author). Level 2: the same links, with every
author, as a linkset document (RFC 9264, application/linkset+json) at `{dataset}/linkset`.
"""

from __future__ import annotations

from flask import url_for

from catalog.record import Record
from catalog.vocabulary import Vocabulary

from .negotiation import BY_SUFFIX

# Author links in the Link header; more would make the header too long for some clients.
MAX_HEADER_AUTHORS = 10
SCHEMA_TYPES = ("https://schema.org/Dataset", "https://schema.org/AboutPage")
CROISSANT_PROFILE = "http://mlcommons.org/croissant/1.1"


def links(record: Record, iri: str, vocabulary: Vocabulary) -> dict[str, list[dict]]:
    """Return the typed links of a landing page, by relation: each link has `href` and maybe `type`."""
    result: dict[str, list[dict]] = {
        "cite-as": [{"href": f"https://doi.org/{record.doi}" if record.doi else iri}],
        "describedby": [*({"href": url_for("pages.dataset", name=f"{record.name}.{suffix}", _external=True),
                           "type": rdf_format.media_type} for suffix, rdf_format in BY_SUFFIX.items()),
                        {"href": url_for("pages.dataset", name=f"{record.name}/croissant.json", _external=True),
                         "type": "application/ld+json", "profile": CROISSANT_PROFILE}],
        "item": [{"href": record.link}],
        "type": [{"href": href} for href in SCHEMA_TYPES],
        "author": [{"href": f"https://orcid.org/{author.orcid}"} for author in record.authors if author.orcid],
    }
    concept = vocabulary.concept("license", record.license) if record.license else None
    if concept is not None:
        result["license"] = [{"href": concept.iri}]
    return result


def link_header(record: Record, iri: str, vocabulary: Vocabulary) -> str:
    """Return the value of the landing page's Link header, with at most MAX_HEADER_AUTHORS authors."""
    parts = []
    for relation, targets in links(record, iri, vocabulary).items():
        if relation == "author":
            targets = targets[:MAX_HEADER_AUTHORS]
        for target in targets:
            media_type = f'; type="{target["type"]}"' if "type" in target else ""
            profile = f'; profile="{target["profile"]}"' if "profile" in target else ""
            parts.append(f'<{_safe(target["href"])}>; rel="{relation}"{media_type}{profile}')
    linkset = url_for("pages.dataset", name=f"{record.name}/linkset", _external=True)
    parts.append(f'<{linkset}>; rel="linkset"; type="application/linkset+json"')
    return ", ".join(parts)


def linkset(record: Record, iri: str, landing_page: str, vocabulary: Vocabulary) -> dict:
    """Return the linkset document of a dataset (RFC 9264), anchored at its landing page."""
    return {"linkset": [{"anchor": landing_page, **links(record, iri, vocabulary)}]}


def _safe(href: str) -> str:
    """Percent-encode the characters that would end a link target, and drop line breaks."""
    return href.replace(">", "%3E").replace("<", "%3C").replace("\r", "").replace("\n", "")
