"""Pages for people and the RDF views of the same resources.

    /                      home: totals and the newest datasets
    /datasets/{name}       landing page, or RDF by Accept or suffix (.ttl .jsonld .rdf .nt);
                           410 Gone with the reason once the dataset is withdrawn
    /datasets/{name}/history, /datasets/{name}/versions/{n}   every version, each viewable and exportable
    /catalog               the DCAT catalog (RDF), HTML for browsers
    /ontology, /shapes     the vocabularies and the SHACL shapes (HTML, or RDF by Accept or suffix)
    /about                 what UMUD is and how its metadata is modelled
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, url_for
from rdflib import Graph, URIRef
from rdflib.namespace import RDF, SKOS

from catalog.citations import CITATION_FORMATS, citation
from catalog.export import CATALOG_PAGE_SIZE, catalog_graph
from catalog.fields import FIELDS
from catalog.namespaces import ONTOLOGY_GRAPH, bind_prefixes
from catalog.rdf_mapping import dataset_iri
from catalog.service import Catalog, Totals
from catalog.validation import shapes_graph

from . import signposting
from .croissant import croissant
from .negotiation import BY_MEDIA_TYPE, BY_SUFFIX, accepted, negotiate, served_types, split_suffix
from .schema_org import citation_text, dataset_jsonld
from .shapes_view import describe_shapes
from .vocabulary_view import describe_vocabulary

pages = Blueprint("pages", __name__)


@pages.after_request
def vary_on_accept(response: Response) -> Response:
    """Tell caches that the pages' responses depend on the Accept header, as most of them do."""
    response.vary.add("Accept")
    return response


def _catalog() -> Catalog:
    return current_app.extensions["umud"]


@pages.get("/")
def home():
    catalog = _catalog()
    catalog.refresh_index()
    # The search index returns both in milliseconds, where SPARQL over a large store takes seconds.
    totals = Totals(*catalog.search_index.totals())
    return render_template("home.html", totals=totals, newest=catalog.search_index.newest(5))


@pages.get("/datasets/<path:name>")
def dataset(name: str):
    catalog = _catalog()
    if "/" in name:
        return _part_of_dataset(catalog, *name.split("/", 1))
    stem, suffix_format = split_suffix(name)
    graph = catalog.dataset_graph(stem)
    if graph is None:
        return _tombstone_or_404(catalog, stem)
    if suffix_format is not None:
        return rdf_response(with_labels(graph, catalog), suffix_format.media_type)

    wanted = negotiate()
    if wanted is None:
        abort(406, description=f"This dataset is served as {served_types()}.")
    if wanted != "html":
        return rdf_response(with_labels(graph, catalog), wanted, vary=True)
    record = catalog.record(stem)
    iri = str(dataset_iri(catalog.base_url, stem))
    response = Response(render_template(
        "dataset.html", record=record, iri=iri, jsonld=dataset_jsonld(record, iri, catalog),
        citation=citation_text(record, iri), vocabulary=catalog.vocabulary, fields=FIELDS,
        formats=BY_SUFFIX.values(), modified=catalog.modified(stem), citation_formats=CITATION_FORMATS))
    response.headers["Vary"] = "Accept"
    response.headers["Link"] = signposting.link_header(record, iri, catalog.vocabulary)
    return response


def _tombstone_or_404(catalog: Catalog, name: str):
    """Return 410 Gone with the reason for a withdrawn dataset, else 404."""
    history = catalog.history(name)
    if not history or history[-1].kind != "withdrawn":
        abort(404, description=f"There is no dataset named '{name}' in this catalog.")
    withdrawal = history[-1]
    message = (f"The dataset '{name}' was withdrawn from the catalog on {withdrawal.time:%Y-%m-%d} by "
               f"{withdrawal.agent}: {withdrawal.reason}")
    if accepted().best_match(["text/html", "application/json"]) != "text/html":
        return jsonify({"status": 410, "error": "Gone", "message": message, "name": name,
                        "history": url_for("pages.dataset", name=f"{name}/history", _external=True)}), 410
    return render_template("tombstone.html", name=name, withdrawal=withdrawal, versions=history), 410


def _history(catalog: Catalog, name: str, suffix: str | None = None):
    versions = catalog.history(name)
    if not versions:
        abort(404, description=f"There is no dataset named '{name}' in this catalog.")
    wanted = accepted().best_match(["text/html", "application/json", *BY_MEDIA_TYPE])
    if suffix is not None or wanted in BY_MEDIA_TYPE:
        # The PROV-O description of the versions, as stored in the dataset's history graph.
        return _graph_by_suffix_or_accept(catalog.history_graph(name), suffix)
    if wanted == "application/json":
        return jsonify({"name": name, "versions": [
            {"number": version.number, "kind": version.kind, "time": version.time.isoformat(), "agent": version.agent,
             "reason": version.reason,
             "url": url_for("pages.dataset", name=f"{name}/versions/{version.number}", _external=True)
             if version.has_graph else None} for version in versions]})
    current = catalog.dataset_graph(name) is not None
    return render_template("history.html", name=name, versions=list(reversed(versions)), current=current)


def _version(catalog: Catalog, name: str, number_text: str):
    stem, suffix_format = split_suffix(number_text)
    if not stem.isdigit():
        abort(404, description=f"'{number_text}' is not a version number of '{name}'.")
    graph = catalog.version_graph(name, int(stem))
    if graph is None:
        abort(404, description=f"The dataset '{name}' has no version {stem}.")
    if suffix_format is not None:
        return rdf_response(with_labels(graph, catalog), suffix_format.media_type)
    wanted = negotiate()
    if wanted is None:
        abort(406, description=f"This version is served as {served_types()}.")
    if wanted != "html":
        return rdf_response(with_labels(graph, catalog), wanted, vary=True)
    version = next(item for item in catalog.history(name) if item.number == int(stem))
    record = catalog.version_record(name, int(stem))
    return render_template("version.html", record=record, version=version, fields=FIELDS,
                           vocabulary=catalog.vocabulary, formats=BY_SUFFIX.values(),
                           current=catalog.dataset_graph(name) is not None)


def _part_of_dataset(catalog: Catalog, name: str, rest: str):
    """Serve the history and versions of a dataset, and redirect a resource described inside a
    dataset's graph (its record, distributions, authors).

    Those resources have no document of their own: 303 See Other points to the dataset's description.
    """
    if rest == "history" or rest.startswith("history."):
        return _history(catalog, name, rest.partition(".")[2] or None)
    if rest == "croissant.json":
        record = catalog.record(name)
        if record is None:
            return _tombstone_or_404(catalog, name)
        document = croissant(record, str(dataset_iri(catalog.base_url, name)),
                             url_for("pages.dataset", name=name, _external=True), catalog)
        response = jsonify(document)
        response.mimetype = "application/ld+json"
        response.headers["Access-Control-Allow-Origin"] = "*"
        return response
    if rest == "linkset" or rest.startswith("citation."):
        record = catalog.record(name)
        if record is None:
            return _tombstone_or_404(catalog, name)
        iri = str(dataset_iri(catalog.base_url, name))
        if rest == "linkset":
            landing_page = url_for("pages.dataset", name=name, _external=True)
            response = jsonify(signposting.linkset(record, iri, landing_page, catalog.vocabulary))
            response.mimetype = "application/linkset+json"
            return response
        suffix = rest.removeprefix("citation.")
        if suffix not in CITATION_FORMATS:
            abort(404, description=f"Unknown citation format '.{suffix}'; use .bib, .ris or .json.")
        response = Response(citation(record, suffix), mimetype=CITATION_FORMATS[suffix][0])
        response.charset = "utf-8"
        response.headers["Content-Disposition"] = f"attachment; filename={name}.{suffix}"
        return response
    if rest.startswith("versions/"):
        return _version(catalog, name, rest.removeprefix("versions/"))
    graph = catalog.dataset_graph(name)
    part = URIRef(f"{dataset_iri(catalog.base_url, name)}/{rest}")
    if graph is None or (part, None, None) not in graph:
        abort(404, description=f"There is no resource '{rest}' in the dataset '{name}'.")
    return redirect(url_for("pages.dataset", name=name), code=303)


@pages.get("/catalog")
@pages.get("/catalog.<suffix>")
def catalog_view(suffix: str | None = None):
    """The DCAT catalog; `?page=N` (and `page_size`, at most 1000) returns one page with Hydra links."""
    catalog = _catalog()
    catalog.refresh_index()
    # The search index lists the datasets in milliseconds; the store takes seconds for 100,000.
    names = catalog.search_index.names()
    page, page_size = _catalog_page(len(names))
    if suffix is not None:
        if suffix not in BY_SUFFIX:
            abort(404, description=f"Unknown format '.{suffix}'; use .ttl, .jsonld, .rdf or .nt.")
        return rdf_response(catalog_graph(catalog, page, page_size, names), BY_SUFFIX[suffix].media_type)
    wanted = negotiate()
    if wanted is None:
        abort(406, description=f"The catalog is served as {served_types()}.")
    if wanted == "html":
        return redirect(url_for("search.datasets"), code=303)
    return rdf_response(catalog_graph(catalog, page, page_size, names), wanted, vary=True)


def _catalog_page(total: int) -> tuple[int | None, int]:
    values = {}
    for name, default in (("page", None), ("page_size", CATALOG_PAGE_SIZE)):
        text = request.args.get(name, "").strip()
        if not text:
            values[name] = default
            continue
        if not text.isdigit() or not 1 <= int(text) <= (10**9 if name == "page" else 1000):
            abort(400, description=f"{name}: '{text[:40]}' is not a whole number from 1 to "
                                   f"{'1,000' if name == 'page_size' else '1,000,000,000'}")
        values[name] = int(text)
    if values["page"] is None and (request.args.get("page_size") or total > values["page_size"]):
        # A large catalog comes page by page, as CKAN serves DCAT; the first page links to the rest.
        values["page"] = 1
    return values["page"], values["page_size"]


# The suffix rule is registered last, so url_for("pages.ontology") builds /ontology.
@pages.get("/ontology.<suffix>")
@pages.get("/ontology")
def ontology(suffix: str | None = None):
    catalog = _catalog()
    if suffix is not None or negotiate() != "html":
        return _graph_by_suffix_or_accept(catalog.vocabulary.graph, suffix)
    return render_template("ontology.html", vocabulary=describe_vocabulary(catalog.vocabulary))


@pages.get("/shapes.<suffix>")
@pages.get("/shapes")
def shapes(suffix: str | None = None):
    if suffix is not None or negotiate() != "html":
        return _graph_by_suffix_or_accept(shapes_graph(), suffix)
    return render_template("shapes.html", shapes=describe_shapes(shapes_graph()))


@pages.get("/about")
def about():
    return render_template("about.html", fields=FIELDS, ontology_graph=ONTOLOGY_GRAPH)


def _graph_by_suffix_or_accept(graph: Graph, suffix: str | None):
    if suffix is not None:
        if suffix not in BY_SUFFIX:
            abort(404, description=f"Unknown format '.{suffix}'; use .ttl, .jsonld, .rdf or .nt.")
        return rdf_response(graph, BY_SUFFIX[suffix].media_type)
    wanted = negotiate()
    if wanted is None:
        abort(406, description=f"This resource is served as {served_types()}.")
    return rdf_response(graph, wanted, vary=True)


def rdf_response(graph: Graph, media_type: str, vary: bool = False) -> Response:
    rdf_format = BY_MEDIA_TYPE[media_type]
    bind_prefixes(graph)
    if rdf_format.rdflib_name == "json-ld":
        body = graph.serialize(format="json-ld", context=_jsonld_context(graph), auto_compact=True)
    else:
        body = graph.serialize(format=rdf_format.rdflib_name)
    response = Response(body, mimetype=media_type)
    if media_type.startswith("text/") or media_type == "application/n-triples":
        response.charset = "utf-8"
    if vary:
        response.headers["Vary"] = "Accept"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _jsonld_context(graph: Graph) -> dict:
    return {prefix: str(namespace) for prefix, namespace in graph.namespaces()
            if prefix and prefix in {"dcat", "dcterms", "foaf", "skos", "umud", "healthdcatap", "bibo",
                                     "adms", "vcard", "xsd", "rdfs", "owl", "schema", "sh", "prov"}}


def with_labels(graph: Graph, catalog: Catalog) -> Graph:
    """Add the preferred labels of the concepts a dataset refers to, for readers of the RDF."""
    result = Graph()
    for triple in graph:
        result.add(triple)
    for term in set(graph.objects()):
        concept = catalog.vocabulary.concepts_by_iri.get(str(term))
        if concept is not None:
            result.add((URIRef(concept.iri), RDF.type, SKOS.Concept))
            result.add((URIRef(concept.iri), SKOS.prefLabel, catalog.vocabulary.graph.value(
                URIRef(concept.iri), SKOS.prefLabel)))
    return result
