"""The `umud harvest` and `umud candidates` commands."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Callable, Iterable, Iterator
from urllib.parse import urlsplit

from .model import HarvestError, HarvestedRecord

DEFAULT_URLS = {
    "zenodo": ("UMUD_ZENODO_URL", "https://zenodo.org"),
    "osf": ("UMUD_OSF_URL", "https://api.osf.io/v2"),
    "datacite": ("UMUD_DATACITE_URL", "https://api.datacite.org"),
    "oai": ("UMUD_OAI_URL", "https://zenodo.org/oai2d"),
}
# Zenodo allows about 30 search requests a minute; the other APIs are given the same polite pace.
REQUESTS_PER_MINUTE = 30.0


def add_commands(commands, store_options: Callable[[argparse.ArgumentParser], None], open_catalog) -> None:
    """Register `harvest` and `candidates` on the `umud` command's subparsers."""
    harvest = commands.add_parser("harvest", help="pull metadata from Zenodo, OSF and DataCite")
    sources = harvest.add_subparsers(required=True, metavar="SOURCE")

    doi = sources.add_parser("doi", help="harvest DOIs or landing URLs, each from the source that fits")
    doi.add_argument("values", nargs="+", help="DOIs (10.5281/zenodo.2598553) or landing URLs")
    zenodo = sources.add_parser("zenodo", help="harvest Zenodo records, a search or a community")
    zenodo.add_argument("records", nargs="*", help="Zenodo record ids")
    zenodo.add_argument("--search", help="a Zenodo search query; every page is harvested")
    zenodo.add_argument("--community", help="a Zenodo community id")
    osf = sources.add_parser("osf", help="harvest OSF nodes or a node search")
    osf.add_argument("nodes", nargs="*", help="OSF node ids, e.g. a3u4v")
    osf.add_argument("--search", help="a title to search for")
    oai = sources.add_parser("oai", help="harvest Zenodo over OAI-PMH")
    oai.add_argument("--set", dest="oai_set", help="an OAI-PMH set, e.g. a community")
    oai.add_argument("--from", dest="from_", help="first datestamp (YYYY-MM-DD) for an incremental run")
    oai.add_argument("--until", help="last datestamp (YYYY-MM-DD)")
    oai.add_argument("--prefix", default="datacite", choices=("datacite", "oai_dc"), help="metadata format")
    refresh = sources.add_parser("refresh", help="re-harvest every catalogued dataset that has a source")
    report = sources.add_parser("report", help="list where harvested metadata disagrees with curated facts")

    for kind, parser in (("doi", doi), ("zenodo", zenodo), ("osf", osf), ("oai", oai), ("refresh", refresh)):
        store_options(parser)
        _source_options(parser)
        parser.add_argument("--max", type=_positive, help="stop after this many records")
        parser.add_argument("--requests-per-minute", type=float, default=REQUESTS_PER_MINUTE,
                            help="most requests a minute to one API host (default: %(default)s)")
        parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
        parser.set_defaults(harvest_source=kind, command=lambda arguments: _harvest(arguments, open_catalog))
    store_options(report)
    report.set_defaults(command=lambda arguments: _report(arguments, open_catalog))

    from .candidates import add_candidate_commands

    add_candidate_commands(commands, store_options, open_catalog)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, not {value}")
    return value


def _source_options(parser: argparse.ArgumentParser) -> None:
    for source, (variable, default) in DEFAULT_URLS.items():
        parser.add_argument(f"--{source}-url", default=os.environ.get(variable, default),
                            help=f"base URL of the {source} API (env {variable}; default: %(default)s)")


def build_sources(arguments: argparse.Namespace) -> dict:
    """Return the four sources sharing one client that may contact only their base URLs."""
    urls = {source: getattr(arguments, f"{source}_url") for source in DEFAULT_URLS}
    rate = getattr(arguments, "requests_per_minute", REQUESTS_PER_MINUTE)
    if rate <= 0:
        raise ValueError(f"--requests-per-minute must be positive, not {rate}")
    return sources_for(urls, rate)


def sources_for(urls: dict[str, str], requests_per_minute: float = REQUESTS_PER_MINUTE, **client_options) -> dict:
    """Return the four sources at the given API base URLs, sharing one client that may contact only them."""
    from .datacite import DataCiteSource
    from .http import HarvestClient
    from .oai import OaiSource
    from .osf import OsfSource
    from .zenodo import ZenodoSource

    urls = {source: url.rstrip("/") for source, url in urls.items()}
    client = HarvestClient(urls.values(), requests_per_minute={urlsplit(url).hostname: requests_per_minute
                                                               for url in urls.values()}, **client_options)
    return {"zenodo": ZenodoSource(client, urls["zenodo"]), "osf": OsfSource(client, urls["osf"]),
            "datacite": DataCiteSource(client, urls["datacite"]), "oai": OaiSource(client, urls["oai"])}


def default_urls() -> dict[str, str]:
    """Return the API base URLs from the environment, else the public services."""
    return {source: os.environ.get(variable, default) for source, (variable, default) in DEFAULT_URLS.items()}


def _records(arguments: argparse.Namespace, sources: dict, catalog) -> Iterator[HarvestedRecord | HarvestError]:
    kind = arguments.harvest_source
    if kind == "doi":
        yield from _each(arguments.values, lambda value: by_identifier(value, sources))
    elif kind == "zenodo":
        yield from _each(arguments.records, sources["zenodo"].record)
        if arguments.search:
            yield from sources["zenodo"].search(arguments.search)
        if arguments.community:
            yield from sources["zenodo"].community(arguments.community)
    elif kind == "osf":
        yield from _each(arguments.nodes, sources["osf"].node)
        if arguments.search:
            yield from sources["osf"].search(arguments.search)
    elif kind == "oai":
        for item in sources["oai"].list_records(arguments.prefix, set=arguments.oai_set,
                                                from_=arguments.from_, until=arguments.until):
            # A deleted record has nothing to harvest; curators withdraw datasets themselves.
            if isinstance(item, (HarvestedRecord, HarvestError)):
                yield item
    elif kind == "refresh":
        for dataset, value in catalogued_sources(catalog):
            for item in _each([value], lambda identifier: by_identifier(identifier, sources)):
                if isinstance(item, HarvestError):
                    yield HarvestError(item.url, f"{item.reason} (refreshing {str(dataset).rsplit('/', 1)[-1]})")
                else:
                    yield dataset, item


def _each(values: Iterable, fetch) -> Iterator[HarvestedRecord | HarvestError]:
    for value in values:
        try:
            yield fetch(value)
        except HarvestError as error:
            yield error
        except ValueError as error:
            yield HarvestError(str(value), str(error))


def by_identifier(value: str, sources: dict) -> HarvestedRecord:
    """Fetch the record of a DOI or landing page URL from the source that serves it."""
    from .datacite import resolve_source

    from .http import HttpStatusError
    from .normalise import doi_from

    source, identifier = resolve_source(value)
    if source == "zenodo":
        try:
            return sources["zenodo"].record(identifier)
        except HttpStatusError as error:
            # A Zenodo DOI whose record Zenodo no longer serves may still be registered at DataCite.
            doi = doi_from(value)
            if error.status != 404 or doi is None:
                raise
            return sources["datacite"].doi(doi)
    if source == "osf":
        return sources["osf"].node(identifier)
    return sources["datacite"].doi(identifier)


def catalogued_sources(catalog) -> list[tuple]:
    """Return (dataset IRI, DOI or landing URL) for each catalogued dataset with a known source."""
    from catalog.rdf_mapping import dataset_iri

    from .datacite import resolve_source

    values = []
    for name in catalog.names():
        record = catalog.record(name)
        for value in (record.doi, record.link):
            if not value:
                continue
            try:
                resolve_source(value)
            except ValueError:
                continue
            values.append((dataset_iri(catalog.base_url, name), value))
            break
    return values


def _harvest(arguments: argparse.Namespace, open_catalog) -> int:
    from itertools import islice

    from .runner import CatalogHarvest

    nothing = {"zenodo": not (arguments.harvest_source != "zenodo" or arguments.records or arguments.search
                              or arguments.community),
               "osf": not (arguments.harvest_source != "osf" or arguments.nodes or arguments.search)}
    if nothing.get(arguments.harvest_source):
        print(f"umud: give what to harvest: ids, --search{' or --community' if arguments.harvest_source == 'zenodo' else ''}",
              file=sys.stderr)
        return 2
    try:
        sources = build_sources(arguments)
    except ValueError as error:
        print(f"umud: {error}; check the --zenodo-url, --osf-url, --datacite-url and --oai-url options "
              f"and the UMUD_*_URL environment variables", file=sys.stderr)
        return 2
    catalog = open_catalog(arguments, seed_if_empty=arguments.harvest_source == "refresh")
    items = _records(arguments, sources, catalog)
    if arguments.max:
        items = islice(items, arguments.max)
    try:
        summary = CatalogHarvest(catalog).run(items, progress=not arguments.no_progress and sys.stderr.isatty())
    except ValueError as error:
        # Raised before any request for an invalid option value, e.g. a malformed --from date.
        print(f"umud: {error}", file=sys.stderr)
        return 2
    finally:
        catalog.store.close()
    print(summary.line(arguments.harvest_source))
    for url, reason in summary.failed:
        print(f"  failed: {url}: {reason}")
    return 1 if summary.failed else 0


def _report(arguments: argparse.Namespace, open_catalog) -> int:
    from .runner import current_disagreements

    catalog = open_catalog(arguments, seed_if_empty=False)
    try:
        disagreements = current_disagreements(catalog)
    finally:
        catalog.store.close()
    if not disagreements:
        print("Harvested metadata agrees with every curated fact.")
        return 0
    for item in disagreements:
        print(f"{item['dataset']}: {item['field']}: curated {item['curated']}, {item['source']} says "
              f"{item['harvested']} (harvested {item['when']})")
    print(f"{len(disagreements)} disagreements for curators to resolve")
    return 0
