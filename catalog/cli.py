"""The `umud` command: serve the catalog, load and validate records, export the catalog."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import time
from pathlib import Path

from . import DEFAULT_BASE_URL
from .store import StoreError

DEFAULT_STORE = "umud-store"
EXPORT_FORMATS = ("turtle", "jsonld", "ntriples", "rdfxml", "trig", "nquads", "csv", "json")


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = _parser()
    arguments = parser.parse_args(argv)
    try:
        return arguments.command(arguments)
    except StoreError as error:
        print(f"umud: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("umud: interrupted; every record written so far is complete", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of standard output (e.g. `| head`) has exited, so no message can reach anyone.
        sys.stderr.close()
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="umud", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="serve the catalog over HTTP (pages, RDF, SPARQL)")
    _store_options(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=5000, help="TCP port (default: %(default)s)")
    serve.add_argument("--threads", type=int, default=8, help="request threads (default: %(default)s)")
    serve.add_argument("--query-timeout", type=float, default=10.0,
                       help="maximum run time of one SPARQL query, in seconds (default: %(default)s)")
    serve.add_argument("--result-limit", type=int, default=10000,
                       help="maximum rows or triples in one SPARQL result (default: %(default)s)")
    serve.add_argument("--sparql-workers", type=int, default=2,
                       help="processes that run SPARQL queries at the same time (default: %(default)s)")
    serve.add_argument("--search-index", default=os.environ.get("UMUD_SEARCH_INDEX"),
                       help="SQLite file of the search index, derived from the store and rebuilt when "
                            "stale (env UMUD_SEARCH_INDEX; default: beside an Oxigraph store as "
                            "STORE.search.sqlite, in memory for a remote store)")
    serve.add_argument("--admin-email", default=os.environ.get("UMUD_ADMIN_EMAIL", "umud-admin@localhost"),
                       help="the administrator's address that OAI-PMH's Identify gives "
                            "(env UMUD_ADMIN_EMAIL; default: %(default)s)")
    _curation_option(serve)
    serve.set_defaults(command=_serve)

    load = commands.add_parser("load", help="validate files and write their datasets to the store")
    _store_options(load)
    load.add_argument("files", nargs="+", type=Path, help="UMUD JSON, Turtle (.ttl) or JSON-LD (.jsonld) files")
    load.set_defaults(command=_load)

    validate = commands.add_parser("validate", help="check files against the model and shapes without writing anything")
    validate.add_argument("--base-url", default=os.environ.get("UMUD_BASE_URL", DEFAULT_BASE_URL),
                          help="base of dataset IRIs (env UMUD_BASE_URL; default: %(default)s)")
    validate.add_argument("files", nargs="+", type=Path)
    validate.set_defaults(command=_validate)

    export = commands.add_parser("export", help="write the whole catalog in one format")
    _store_options(export)
    export.add_argument("--format", choices=EXPORT_FORMATS, default="turtle")
    export.add_argument("--output", "-o", type=Path, help="file to write (default: standard output)")
    export.set_defaults(command=_export)

    curator = commands.add_parser("curator", help="manage curator accounts")
    actions = curator.add_subparsers(required=True, metavar="ACTION")
    for action, help_text in (("add", "add a curator; the password is read from standard input"),
                              ("remove", "remove a curator and the curator's API tokens"),
                              ("list", "list the curators"),
                              ("token", "print a new API token of a curator, for scripts")):
        command = actions.add_parser(action, help=help_text)
        command.add_argument("--store", default=os.environ.get("UMUD_STORE", DEFAULT_STORE),
                             help="the store the server runs on; the curation database lies beside it")
        _curation_option(command)
        if action != "list":
            command.add_argument("name", help="the curator's sign-in name")
        command.set_defaults(command=_curator, action=action)

    from harvesters.cli import add_commands

    add_commands(commands, _store_options, _open)
    return parser


def _curation_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--curation-db", default=os.environ.get("UMUD_CURATION_DB"),
                        help="SQLite file of curators and pending submissions, private to the server "
                             "(env UMUD_CURATION_DB; default: beside an Oxigraph store as STORE.curation.sqlite, "
                             "umud-curation.sqlite for a remote store)")


def curation_path(store: str, given: str | None) -> str:
    if given:
        return given
    if str(store).startswith(("http://", "https://")):
        return "umud-curation.sqlite"
    return str(Path(store)) + ".curation.sqlite"


def _curator(arguments: argparse.Namespace) -> int:
    import getpass

    from .curation import Curation, CurationError

    curation = Curation(curation_path(arguments.store, arguments.curation_db))
    try:
        if arguments.action == "add":
            if sys.stdin.isatty():
                password = getpass.getpass(f"Password for {arguments.name}: ")
                if getpass.getpass("Repeat it: ") != password:
                    print("umud: the two passwords differ; nothing was changed", file=sys.stderr)
                    return 1
            else:
                password = sys.stdin.readline().rstrip("\n")
            curation.add_curator(arguments.name, password)
            print(f"added curator {arguments.name}")
        elif arguments.action == "remove":
            curation.remove_curator(arguments.name)
            print(f"removed curator {arguments.name}")
        elif arguments.action == "token":
            print(curation.create_token(arguments.name, "command line"))
        else:
            for name, created in curation.curators():
                print(f"{name}\tsince {created}")
    except CurationError as error:
        print(f"umud: {error}", file=sys.stderr)
        return 1
    finally:
        curation.close()
    return 0


def _store_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", default=os.environ.get("UMUD_STORE", DEFAULT_STORE),
                        help="Oxigraph store directory, or the http(s) URL of a SPARQL 1.1 server "
                             "(env UMUD_STORE; default: %(default)s)")
    parser.add_argument("--update-endpoint", default=os.environ.get("UMUD_UPDATE_ENDPOINT"),
                        help="SPARQL update URL of a remote store when it differs from --store "
                             "(env UMUD_UPDATE_ENDPOINT)")
    parser.add_argument("--base-url", default=os.environ.get("UMUD_BASE_URL", DEFAULT_BASE_URL),
                        help="base of dataset IRIs (env UMUD_BASE_URL; default: %(default)s)")


def _open(arguments: argparse.Namespace, *, seed_if_empty: bool = True):
    from .setup import open_catalog

    return open_catalog(arguments.store, arguments.base_url, seed_if_empty=seed_if_empty,
                        update_endpoint=arguments.update_endpoint)


def _stop_on_sigterm() -> None:
    """Turn SIGTERM into SystemExit, so that `finally` blocks end the query workers and flush the store."""
    def stop(signal_number, frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)


def _serve(arguments: argparse.Namespace) -> int:
    from waitress import serve

    from server.app import create_app

    from .search_index import SearchIndex
    from server.settings import Settings

    catalog = _open(arguments)
    index_path = search_index_path(arguments.store, arguments.search_index)
    started = time.perf_counter()
    report = catalog.attach_index(SearchIndex(index_path))
    logging.getLogger("umud").info("search index %s: %s in %.1f s", index_path, report, time.perf_counter() - started)
    settings = Settings(base_url=catalog.base_url, store_location=str(arguments.store),
                        curation_path=curation_path(arguments.store, arguments.curation_db),
                        admin_email=arguments.admin_email,
                        query_timeout=arguments.query_timeout, result_limit=arguments.result_limit,
                        sparql_workers=max(1, arguments.sparql_workers))
    app = create_app(catalog, settings)
    totals = catalog.totals()
    logging.getLogger("umud").info(
        "serving %d datasets from %s at http://%s:%d/ (dataset IRIs under %s)",
        totals.datasets, arguments.store, arguments.host, arguments.port, catalog.base_url)
    _stop_on_sigterm()
    try:
        serve(app, host=arguments.host, port=arguments.port, threads=arguments.threads, ident="umud")
    finally:
        app.extensions["umud_sparql"].close()
        catalog.store.close()
    return 0


def search_index_path(store: str, given: str | None) -> str:
    """Return where the search index lives: the given path, beside an Oxigraph store, or in memory."""
    if given:
        return given
    if str(store).startswith(("http://", "https://")):
        return ":memory:"
    return str(Path(store)) + ".search.sqlite"


def _load(arguments: argparse.Namespace) -> int:
    from .loader import process_files

    catalog = _open(arguments, seed_if_empty=False)
    results = process_files(arguments.files, catalog, write=True)
    catalog.store.close()
    return _report(results, "loaded")


def _validate(arguments: argparse.Namespace) -> int:
    from .loader import process_files
    from .service import Catalog

    results = process_files(arguments.files, Catalog(None, arguments.base_url), write=False)
    return _report(results, "valid")


def _report(results, verb: str) -> int:
    for result in results:
        failure = "FAILED, nothing written" if verb == "loaded" else "INVALID"
        status = f"{verb}: {', '.join(result.datasets)}" if result.ok else failure
        print(f"{result.source}: {status}")
        for problem in result.errors:
            print(f"  error: {problem}")
        for problem in result.warnings:
            print(f"  warning: {problem}")
    failed = sum(not result.ok for result in results)
    print(f"{len(results) - failed} of {len(results)} files {verb}" + (f", {failed} failed" if failed else ""))
    return 1 if failed else 0


def _export(arguments: argparse.Namespace) -> int:
    from .export import export_catalog

    catalog = _open(arguments, seed_if_empty=False)
    data = export_catalog(catalog, arguments.format)
    catalog.store.close()
    if arguments.output:
        arguments.output.write_bytes(data)
    else:
        sys.stdout.buffer.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
