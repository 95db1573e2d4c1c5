"""Finding and exploring datasets, served from the search index.

    /datasets   faceted search: filters, counts per value, full text, sort and pages
    /explore    the same filters as a sortable table and charts

Every state is a URL. The same URL with `format=json|csv|jsonld|ttl`, or the matching Accept
header, returns the same datasets in that format: JSON holds the page shown with its facet counts;
the downloads (CSV, JSON-LD, Turtle, and `format=records`: the full records as JSON) hold every
matching dataset unless the URL names a page.
`/explore?format=json` returns the chart data.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request, url_for

from catalog.export import records_csv, records_json
from catalog.fields import CONCEPT_FIELDS, FIELDS, FIELDS_BY_NAME, FILTER_FIELDS_NAMES, RANGED_FIELDS
from catalog.rdf_mapping import dataset_iri, graph_to_record
from catalog.search import FilterError, Query, parse_query
from catalog.search_index import MAX_PAGE_SIZE, SORTS, SearchResult, canonical_value
from catalog.service import Catalog

from .negotiation import HTML_TYPES, accepted
from .pages import rdf_response, with_labels

search = Blueprint("search", __name__)

# Default numbers of datasets per page; the explore table shows more rows at once.
PAGE_SIZE = 20
EXPLORE_PAGE_SIZE = 50
# Maximum number of datasets in one download; the whole catalog is at /catalog and /sparql.
DOWNLOAD_LIMIT = 10_000
# Rows of the data table under the scatter chart, which can hold thousands of points.
SCATTER_TABLE_ROWS = 200
# Parameters that choose how results are shown, not which datasets match.
VIEW_PARAMETERS = ("format", "page", "page_size", "sort")
BOOLEAN_LABELS = {"true": "Yes", "yes": "Yes", "1": "Yes", "false": "No", "no": "No", "0": "No"}
# Formats by `format` value: media type, and whether the format is a download of all matches.
FORMATS = {
    "html": ("text/html", False),
    "json": ("application/json", False),
    "csv": ("text/csv", True),
    "jsonld": ("application/ld+json", True),
    "ttl": ("text/turtle", True),
    # The full records in our JSON format, as `umud export --format json` writes and `umud load` reads.
    "records": ("application/json", True),
}
# The formats downloaded as files rather than shown as a page.
DOWNLOAD_FORMATS = {name for name, (_, download) in FORMATS.items() if download}
# The media types of search results, each once: HTML first, and XHTML last so that
# `Accept: application/*` gets JSON.
MEDIA_TYPES = list(dict.fromkeys([HTML_TYPES[0], *(media for media, _ in FORMATS.values()), *HTML_TYPES[1:]]))
SORT_LABELS = {
    "relevance": "Relevance",
    "name": "Name (A to Z)",
    "-year": "Newest first",
    "year": "Oldest first",
    "-sample_size": "Most participants",
    "-image_count": "Most images",
    "-video_count": "Most videos",
}
# Columns of the explore table: field name, heading, sort key.
TABLE_COLUMNS = (
    ("name", "Dataset", "name"),
    ("year", "Year", "year"),
    ("data_type", "Data type", None),
    ("muscle", "Muscles", None),
    ("sample_size", "Participants", "sample_size"),
    ("age", "Mean age", "age"),
    ("image_count", "Images", "image_count"),
    ("video_count", "Videos", "video_count"),
    ("labels", "Labels", None),
)


@dataclass
class Request:
    """A parsed search request: the query, how its results are shown, and the format."""

    query: Query
    format: str
    sort: str
    page: int
    page_size: int | None  # None: every match (downloads without a page)


def _catalog() -> Catalog:
    catalog: Catalog = current_app.extensions["umud"]
    catalog.refresh_index()
    return catalog


@search.after_request
def vary_on_accept(response: Response) -> Response:
    response.vary.add("Accept")
    return response


@search.get("/datasets")
def datasets():
    return _answer("datasets.html", PAGE_SIZE)


@search.get("/explore")
def explore():
    return _answer("explore.html", EXPLORE_PAGE_SIZE)


def _answer(template: str, page_size: int):
    catalog = _catalog()
    requested_format = _format()
    if requested_format is None:
        abort(406, description="Search results are served as " + ", ".join(MEDIA_TYPES) + ".")
    try:
        parsed = _parse(catalog, requested_format, page_size)
    except FilterError as error:
        if requested_format == "html":
            return render_template(template, error=str(error), **_page_context(catalog, None, None)), 400
        abort(400, description=str(error))
    if FORMATS[requested_format][1]:
        return _download(catalog, parsed)
    if requested_format == "json" and template == "explore.html":
        return jsonify(catalog.search_index.aggregates(parsed.query, catalog.vocabulary))
    result = catalog.search_index.search(parsed.query, catalog.vocabulary, sort=parsed.sort,
                                         page=parsed.page, page_size=parsed.page_size)
    _check_page(parsed, result.total)
    if requested_format == "json":
        return jsonify(_json_result(catalog, parsed, result))
    context = _page_context(catalog, parsed, result)
    if template == "explore.html" and result.total:
        context["charts"] = chart_tables(catalog.search_index.aggregates(parsed.query, catalog.vocabulary))
    return render_template(template, error=None, **context)


def _format() -> str | None:
    requested = request.args.get("format", "").strip().lower()
    if requested:
        # An unknown format value is a filter error, reported by _parse.
        return requested if requested in FORMATS else "html"
    best = accepted().best_match(MEDIA_TYPES)
    if best in HTML_TYPES:
        return "html"
    return next((name for name, (media, _) in FORMATS.items() if media == best), None)



def _parse(catalog: Catalog, requested_format: str, default_page_size: int) -> Request:
    arguments = request.args
    requested = arguments.get("format", "").strip().lower()
    if requested and requested not in FORMATS:
        raise FilterError(f"format: '{requested}' is not a format of search results; use one of "
                          + ", ".join(FORMATS))
    query = parse_query(arguments.items(multi=True), catalog)
    sort = arguments.get("sort", "").strip() or ("relevance" if query.text else "name")
    if sort.removeprefix("-") not in SORTS:
        raise FilterError(f"sort: '{sort}' is not a sort order; use one of {', '.join(SORTS)}, "
                          "with a leading '-' for descending order")
    page = _whole_number(arguments, "page", 1, 1, 10**9)
    downloads_all = FORMATS[requested_format][1] and not arguments.get("page", "").strip() and not arguments.get("page_size", "").strip()
    page_size = None if downloads_all else _whole_number(arguments, "page_size", default_page_size, 1, MAX_PAGE_SIZE)
    return Request(query, requested_format, sort, page, page_size)


def _whole_number(arguments, name: str, default: int, low: int, high: int) -> int:
    text = arguments.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise FilterError(f"{name}: '{text[:40]}' is not a whole number from {low} to {high:,}")
    return int(text)


def _last_page(total: int, page_size: int) -> int:
    return max(1, -(-total // page_size))


def _check_page(parsed: Request, total: int) -> None:
    """Abort with 404 for a page after the last one; with no match at all, page 1 is the last."""
    if parsed.page > _last_page(total, parsed.page_size):
        abort(404, description=f"Page {parsed.page} is past the last page of these results, page "
                               f"{_last_page(total, parsed.page_size)} ({parsed.page_size} datasets a page).")


# Downloads

def _download(catalog: Catalog, parsed: Request) -> Response:
    index = catalog.search_index
    if parsed.page_size is None:
        rows = index.matching(parsed.query, catalog.vocabulary, sort=parsed.sort, limit=DOWNLOAD_LIMIT + 1)
        if len(rows) > DOWNLOAD_LIMIT:
            abort(400, description=f"More than {DOWNLOAD_LIMIT:,} datasets match, more than one download "
                                   "holds. Add a filter, download page by page (page=1&page_size=1000), or "
                                   "get the whole catalog from /catalog.ttl or the SPARQL endpoint.")
        names = [row["name"] for row in rows]
    else:
        result = index.search(parsed.query, catalog.vocabulary, sort=parsed.sort, page=parsed.page,
                              page_size=parsed.page_size, facets=False)
        _check_page(parsed, result.total)
        names = result.names
    graph = catalog.datasets_graph(names)
    filename = f"umud-datasets.{'json' if parsed.format == 'records' else parsed.format}"
    if parsed.format in {"csv", "records"}:
        records = [graph_to_record(graph, dataset_iri(catalog.base_url, name), catalog.vocabulary) for name in names]
        if parsed.format == "csv":
            response = Response(records_csv(records), mimetype="text/csv")
        else:
            response = Response(records_json(records), mimetype="application/json")
        response.charset = "utf-8"
    else:
        response = rdf_response(with_labels(graph, catalog), FORMATS[parsed.format][0])
    response.headers["Content-Disposition"] = f"attachment; filename={filename}"
    response.headers["X-UMUD-Total"] = str(len(names))
    return response


# JSON

def _json_result(catalog: Catalog, parsed: Request, result: SearchResult) -> dict:
    last = _last_page(result.total, parsed.page_size)
    return {
        "total": result.total,
        # The datasets on this page; `total` counts every match.
        "count": len(result.rows),
        "page": parsed.page,
        "page_size": parsed.page_size,
        "sort": parsed.sort,
        "next": _url(page=parsed.page + 1) if parsed.page < last else None,
        "previous": _url(page=parsed.page - 1) if 1 < parsed.page <= last else None,
        "datasets": [_json_row(catalog, row) for row in result.rows],
        "facets": result.facets,
        "facet_groups": _facet_groups(catalog),
        "message": None if result.total else "No dataset matches these filters.",
    }


def _facet_groups(catalog: Catalog) -> dict[str, dict[str, list[str]]]:
    """Return, per facet, each group value with the values directly below it (muscle groups,
    manufacturers), so that a client can nest the flat counts of `facets` as the page does."""
    groups: dict[str, dict[str, list[str]]] = {}
    for field in CONCEPT_FIELDS:
        vocabulary = catalog.vocabulary
        for concept in vocabulary.concepts(field.scheme):
            for parent in concept.broader:
                group = vocabulary.concepts_by_iri.get(parent)
                if group is not None and group.scheme == concept.scheme:
                    groups.setdefault(field.name, {}).setdefault(canonical_value(field, group), []).append(
                        canonical_value(field, concept))
    return groups


def _json_row(catalog: Catalog, row: dict) -> dict:
    return {**row, "iri": str(dataset_iri(catalog.base_url, row["name"])),
            "page": url_for("pages.dataset", name=row["name"], _external=True)}


# HTML

def _url(endpoint: str | None = None, **changes) -> str:
    """Return the current URL with parameters replaced; a change to None removes the parameter."""
    pairs = [(name, value) for name, value in request.args.items(multi=True) if name not in changes and value]
    pairs += [(name, str(value)) for name, value in changes.items()
              if value is not None and not (name == "page" and value == 1)]
    path = url_for(endpoint or request.endpoint)
    return path + ("?" + urlencode(pairs) if pairs else "")


def _page_context(catalog: Catalog, parsed: Request | None, result: SearchResult | None) -> dict:
    facets = result.facets if result is not None else {}
    context = {
        "arguments": request.args,
        "facets": _facets(catalog, facets),
        "ranged": [field for field in RANGED_FIELDS],
        "text_fields": [field for field in FIELDS if field.name in FILTER_FIELDS_NAMES and field.kind in {"text", "special"}
                        and field.name not in {"description", "label_description", "title"}],
        "active": _active_filters(),
        "sorts": SORT_LABELS,
        "result": result,
        "parsed": parsed,
        "url": _url,
        "downloads": {name: _url(format=name, page=None, page_size=None) for name in ("csv", "records", "jsonld", "ttl")},
        "download_limit": DOWNLOAD_LIMIT,
        "columns": TABLE_COLUMNS,
        "pages": None,
    }
    if parsed is not None and result is not None:
        last = _last_page(result.total, parsed.page_size)
        context["pages"] = {"current": parsed.page, "last": last,
                            "first_row": (parsed.page - 1) * parsed.page_size + 1,
                            "last_row": min(result.total, parsed.page * parsed.page_size)}
    return context


def _facets(catalog: Catalog, counts: dict[str, dict[str, int]]) -> list[dict]:
    """Return each facet with its values in vocabulary order, the count and whether it is chosen.

    Values that no matching dataset has are left out unless they are chosen.
    """
    facets = []
    for field in CONCEPT_FIELDS:
        chosen = set(request.args.getlist(field.name))
        field_counts = counts.get(field.name, {})
        values = []
        for concept, depth in catalog.vocabulary.tree(field.scheme):
            value = canonical_value(field, concept)
            count = field_counts.get(value, 0)
            if count or value in chosen:
                values.append({"value": value, "label": concept.label, "depth": depth, "count": count,
                               "chosen": value in chosen})
        facets.append({"field": field, "values": values, "chosen": len(chosen)})
    labels = counts.get("labels", {})
    chosen = set(request.args.getlist("labels"))
    facets.append({"field": next(field for field in FIELDS if field.name == "labels"), "chosen": len(chosen),
                   "values": [{"value": value, "label": label, "depth": 0, "count": labels.get(value, 0),
                               "chosen": value in chosen}
                              for value, label in (("true", "Yes"), ("false", "No"))
                              if labels.get(value) or value in chosen]})
    return facets


def _active_filters() -> list[dict]:
    """Return the filters in the URL, each with the link that removes it."""
    pairs = [(name, value) for name, value in request.args.items(multi=True)
             if value and name not in VIEW_PARAMETERS]
    labels = {field.name: field.label for field in FIELDS}
    labels.update({f"{field.name}_{end}": f"{field.label} {word}" for field in RANGED_FIELDS
                   for end, word in (("min", "at least"), ("max", "at most"))})
    labels["q"] = "Text"
    active = []
    for index, (name, value) in enumerate(pairs):
        rest = [pair for position, pair in enumerate(pairs) if position != index]
        rest += [(name, value) for name, value in request.args.items(multi=True)
                 if name in VIEW_PARAMETERS and name != "page" and value]
        if name in FIELDS_BY_NAME and FIELDS_BY_NAME[name].kind == "boolean":
            # The facet's checkboxes read Yes and No, so the filter does too.
            value = BOOLEAN_LABELS.get(value.strip().casefold(), value)
        active.append({"name": name, "label": labels.get(name, name), "value": value,
                       "remove": url_for(request.endpoint) + ("?" + urlencode(rest) if rest else "")})
    return active


# Charts

def chart_tables(data: dict) -> list[dict]:
    """Return each chart of the explore page with its title and the data table that replaces it without JavaScript.

    The ids name the charts that `static/explore.js` draws from the same data, fetched as JSON.
    """
    data_types = sorted({row["data_type"] for row in data["per_muscle"]})
    muscles: dict[str, dict] = {}
    for row in data["per_muscle"]:
        entry = muscles.setdefault(row["muscle"], {"images": 0, **{data_type: 0 for data_type in data_types}})
        entry[row["data_type"]] += row["datasets"]
        entry["images"] += row["images"]
    by_datasets = sorted(muscles.items(), key=lambda item: (-sum(item[1][kind] for kind in data_types), item[0]))
    by_images = sorted(muscles.items(), key=lambda item: (-item[1]["images"], item[0]))
    several = "A dataset about several muscles counts once for each of them."
    return [
        {"id": "muscle-datasets", "title": "Datasets per muscle, by data type", "note": several,
         "headings": ["Muscle", *(f"{kind} datasets" for kind in data_types)],
         "rows": [[muscle, *(f"{entry[kind]:,}" for kind in data_types)] for muscle, entry in by_datasets]},
        {"id": "muscle-images", "title": "Images per muscle, by data type", "note": several,
         "headings": ["Muscle", "Images"],
         "rows": [[muscle, f"{entry['images']:,}"] for muscle, entry in by_images]},
        {"id": "ages", "title": "Mean age of the participants", "note": "Each dataset counts once, at its mean age.",
         "headings": ["Mean age (years)", "Datasets"],
         "rows": [[f"{row['from']:g} to {row['to'] - 1:g}", f"{row['datasets']:,}"] for row in data["ages"]]},
        {"id": "data-types", "title": "Data types", "note": None,
         "headings": ["Data type", "Datasets", "Images"],
         "rows": [[row["data_type"], f"{row['datasets']:,}", f"{row['images']:,}"] for row in data["data_types"]]},
        {"id": "years", "title": "Datasets per year", "note": None,
         "headings": ["Year", "Datasets"],
         "rows": [[row["year"], f"{row['datasets']:,}"] for row in data["years"]]},
        {"id": "devices", "title": "Ultrasound devices", "note": "The most used devices among the matching datasets.",
         "headings": ["Device", "Datasets"],
         "rows": [[row["device"], f"{row['datasets']:,}"] for row in data["devices"]]},
        {"id": "sample-images", "title": "Participants against images",
         "note": _scatter_note(len(data["sample_vs_images"]), data["total"]),
         "headings": ["Dataset", "Participants", "Images", "Data type"],
         "rows": [[row["name"], f"{row['sample_size']:,}", f"{row['image_count']:,}", row["data_type"]]
                  for row in data["sample_vs_images"][:SCATTER_TABLE_ROWS]]},
    ]


def _scatter_note(points: int, total: int) -> str:
    note = f"Each point is a dataset that gives both figures: {points:,} of the {total:,} matching datasets"
    if points >= SCATTER_TABLE_ROWS:
        note += f"; the table lists the first {SCATTER_TABLE_ROWS}"
    return note + "."
