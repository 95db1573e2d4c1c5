"""Clean-up shared by every source: HTML sanitising, licence, DOI and ORCID normalisation."""

from __future__ import annotations

import re

import nh3

from catalog.vocabulary import default_vocabulary

# The HTML kept in harvested descriptions: structure and emphasis, links without scripts or styles.
ALLOWED_TAGS = {"p", "br", "ul", "ol", "li", "em", "strong", "b", "i", "sub", "sup", "a", "code", "pre", "blockquote"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}
DOI_IN_TEXT = re.compile(r"(10\.\d{4,9}/[^\s\"<>]+)")
ORCID_IN_TEXT = re.compile(r"(\d{4}-\d{4}-\d{4}-\d{3}[\dX])")
CREATIVE_COMMONS_URL = re.compile(
    r"creativecommons\.org/(licenses|publicdomain)/([a-z-]+)/(\d\.\d)", re.IGNORECASE)


def sanitise_html(text: str | None) -> str | None:
    """Return HTML reduced to a safe subset (nh3): no scripts, styles, event handlers or iframes."""
    if text is None:
        return None
    cleaned = nh3.clean(text, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                        url_schemes={"http", "https", "mailto"}, link_rel="noopener noreferrer nofollow")
    return cleaned.strip() or None


def doi_from(value: str | None) -> str | None:
    """Return the bare DOI in a DOI, doi: URI or doi.org URL, in lower case as DOIs compare."""
    if not value:
        return None
    match = DOI_IN_TEXT.search(value)
    return match.group(1).rstrip(".,;").lower() if match else None


def orcid_from(value: str | None) -> str | None:
    """Return the bare ORCID iD in an iD or an orcid.org URL."""
    if not value:
        return None
    match = ORCID_IN_TEXT.search(value)
    return match.group(1) if match else None


def spdx_iri(value: str | None) -> str | None:
    """Return the SPDX licence IRI for a licence id, name or URL in the licence vocabulary."""
    if not value:
        return None
    vocabulary = default_vocabulary()
    text = value.strip()
    creative_commons = CREATIVE_COMMONS_URL.search(text)
    if creative_commons:
        kind, variant, version = creative_commons.groups()
        text = "CC0-1.0" if variant.lower() == "zero" else f"CC-{variant.upper()}-{version}"
    text = text.removeprefix("https://spdx.org/licenses/").removeprefix("http://spdx.org/licenses/")
    concept = vocabulary.concept("license", text)
    return concept.iri if concept else None
