"""Citations of a dataset in the formats reference managers import: BibTeX, RIS and CSL-JSON.

Each record is cited as a data set: its authors in order, title, year, version, DOI (or landing
page) and, where known, the repository's host as publisher.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from .record import Record

# Characters with a meaning in BibTeX, and how to write them as text.
BIBTEX_ESCAPES = {"\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "%": r"\%", "&": r"\&", "#": r"\#",
                  "$": r"\$", "_": r"\_", "^": r"\^{}", "~": r"\~{}"}
CITATION_FORMATS = {
    "bib": ("application/x-bibtex", "BibTeX"),
    "ris": ("application/x-research-info-systems", "RIS"),
    "json": ("application/vnd.citationstyles.csl+json", "CSL-JSON"),
}


def citation(record: Record, citation_format: str) -> str:
    """Return the citation of a record in "bib", "ris" or "json" (CSL-JSON)."""
    if citation_format == "bib":
        return bibtex(record)
    if citation_format == "ris":
        return ris(record)
    if citation_format == "json":
        return json.dumps([csl_json(record)], indent=2, ensure_ascii=False) + "\n"
    raise ValueError(f"unknown citation format '{citation_format}'; use bib, ris or json")


def publisher(record: Record) -> str | None:
    """Return the host that publishes the data (zenodo.org, osf.io, …), from the DOI or the link."""
    if record.doi and record.doi.lower().startswith("10.5281/zenodo."):
        return "Zenodo"
    host = urlsplit(record.link).hostname if record.link else None
    return host.removeprefix("www.") if host else None


def bibtex(record: Record) -> str:
    fields = [("author", " and ".join(_bibtex_text(author.name) for author in record.authors)),
              ("title", "{" + _bibtex_text(record.title) + "}"),
              ("year", str(record.year))]
    if record.version:
        fields.append(("version", _bibtex_text(record.version)))
    host = publisher(record)
    if host:
        fields.append(("publisher", _bibtex_text(host)))
    if record.doi:
        fields.append(("doi", _bibtex_text(record.doi)))
    fields.append(("url", record.link))
    fields.append(("note", "Data set"))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
    return f"@misc{{{_bibtex_key(record.name)},\n{body}\n}}\n"


def ris(record: Record) -> str:
    lines = [("TY", "DATA")]
    lines += [("AU", author.name) for author in record.authors]
    lines += [("TI", record.title), ("PY", str(record.year))]
    if record.version:
        lines.append(("ET", record.version))
    host = publisher(record)
    if host:
        lines.append(("PB", host))
    if record.doi:
        lines.append(("DO", record.doi))
    lines.append(("UR", record.link))
    lines.append(("AB", record.description))
    lines += [("KW", keyword) for keyword in record.keywords]
    lines.append(("ER", ""))
    # RIS is line based: a line break inside a value would start a new, unknown tag.
    return "".join(f"{tag}  - {_one_line(value)}\r\n" for tag, value in lines)


def csl_json(record: Record) -> dict:
    item = {
        "id": record.name,
        "type": "dataset",
        "title": record.title,
        "author": [{"literal": author.name} for author in record.authors],
        "issued": {"date-parts": [[record.year]]},
        "URL": record.link,
        "abstract": record.description,
    }
    if record.version:
        item["version"] = record.version
    if record.doi:
        item["DOI"] = record.doi
    host = publisher(record)
    if host:
        item["publisher"] = host
    if record.keywords:
        item["keyword"] = ", ".join(record.keywords)
    return item


def _bibtex_text(text: str) -> str:
    return "".join(BIBTEX_ESCAPES.get(character, character) for character in _one_line(text))


def _bibtex_key(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_:-]", "", name) or "dataset"


def _one_line(text: str) -> str:
    return " ".join(text.split())
