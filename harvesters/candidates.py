"""Harvest candidates: records found by a search that are not in the catalog yet.

A candidate is never a public dataset. `umud candidates accept` turns one into a curated record
from the harvested metadata plus the domain values a curator gives (`--set muscle=Soleus`).
The record passes the same model and shapes as any other. `reject` keeps the candidate with its
reason, so that later searches do not propose it again.
"""

from __future__ import annotations

import html
import re
import sys

from rdflib import Graph, Literal, URIRef
from rdflib.collection import Collection
from rdflib.namespace import FOAF

from catalog.namespaces import ADMS, BIBO, DCAT, DCTERMS, sparql_prologue

from .mapping import SUGGESTED

SCHEME_OF_SUGGESTION = {predicate: scheme for scheme, predicate in SUGGESTED.items()}
FIELD_OF_SCHEME = {"muscle": "muscle", "device": "device", "plane": "plane", "data-type": "data_type"}


def add_candidate_commands(commands, store_options, open_catalog) -> None:
    candidates = commands.add_parser("candidates", help="review records that harvesting found")
    actions = candidates.add_subparsers(required=True, metavar="ACTION")
    listing = actions.add_parser("list", help="list candidates and their status")
    listing.add_argument("--all", action="store_true", help="include accepted and rejected candidates")
    accept = actions.add_parser("accept", help="publish a candidate as a catalog record")
    accept.add_argument("candidate", help="candidate id, e.g. zenodo-2598553")
    accept.add_argument("--name", help="dataset name, e.g. GasFasTrack_2019 (default: from the title and year)")
    accept.add_argument("--set", dest="values", action="append", default=[], metavar="FIELD=VALUE",
                        help="a record field, e.g. muscle=Soleus or sample_size=12; repeat for more; "
                             "several values of a list field are separated by ';'")
    reject = actions.add_parser("reject", help="reject a candidate, with the reason")
    reject.add_argument("candidate")
    reject.add_argument("--reason", required=True)
    for parser, action in ((listing, _list), (accept, _accept), (reject, _reject)):
        store_options(parser)
        parser.set_defaults(command=lambda arguments, action=action: action(arguments, open_catalog))


def candidate_iri(base_url: str, candidate: str) -> URIRef:
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", candidate):
        raise ValueError(f"'{candidate}' is not a candidate id; `umud candidates list` shows them")
    return URIRef(f"{base_url}/candidates/{candidate}")


def list_candidates(catalog, include_done: bool = False) -> list[dict]:
    rows = catalog.store.select(sparql_prologue() + """
        SELECT ?candidate ?status ?title ?source WHERE {
          GRAPH ?candidate { ?candidate umud:candidateStatus ?status }
          OPTIONAL { GRAPH ?harvest { ?candidate dcterms:title ?title . ?harvest umud:harvestSource ?source } }
        } ORDER BY ?candidate""")
    found = [{"id": str(row["candidate"]).rsplit("/", 1)[-1], "status": str(row["status"]),
              "title": str(row.get("title", "")), "source": str(row.get("source", ""))} for row in rows]
    return [item for item in found if include_done or item["status"] == "pending"]


def _list(arguments, open_catalog) -> int:
    catalog = open_catalog(arguments, seed_if_empty=False)
    items = list_candidates(catalog, arguments.all)
    catalog.store.close()
    for item in items:
        print(f"{item['id']}\t{item['status']}\t{item['source']}\t{item['title']}")
    print(f"{len(items)} candidates")
    return 0


def record_data(catalog, candidate: URIRef) -> dict:
    """Return the harvested metadata of a candidate as a record in our JSON format."""
    graph = catalog.store.construct(f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{
        GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{candidate}/harvest/")) }}""")
    data = _descriptive_fields(graph, candidate, catalog)

    author_list = graph.value(candidate, BIBO.authorList)
    agents = list(Collection(graph, author_list)) if author_list is not None else []
    data["authors"] = [_author(graph, agent) for agent in agents]
    data["keywords"] = sorted(str(keyword) for keyword in graph.objects(candidate, DCAT.keyword))

    data.update(_suggested_fields(graph, candidate, catalog))
    return data


def suggested_values(catalog, candidate: URIRef) -> dict:
    """Return the values the harvester suggested from the candidate's text, by record field."""
    graph = catalog.store.construct(f"""CONSTRUCT {{ ?s ?p ?o }} WHERE {{
        GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{candidate}/harvest/")) }}""")
    return _suggested_fields(graph, candidate, catalog)


def _descriptive_fields(graph: Graph, candidate: URIRef, catalog) -> dict:
    data: dict = {"title": str(graph.value(candidate, DCTERMS.title) or "")}
    description = graph.value(candidate, DCTERMS.description)
    if description is not None:
        text = html.unescape(re.sub(r"<[^>]+>", " ", str(description)))
        data["description"] = re.sub(r"\s+", " ", text).strip()
    identifier = graph.value(candidate, ADMS.identifier)
    if identifier is not None:
        data["doi"] = str(identifier).removeprefix("https://doi.org/")
    for key, predicate in (("version", DCAT.version), ("link", DCAT.landingPage),
                           ("publication", DCTERMS.isReferencedBy)):
        value = graph.value(candidate, predicate)
        if value is not None:
            data[key] = str(value)
    issued = graph.value(candidate, DCTERMS.issued)
    if issued is not None:
        data["year"] = int(str(issued)[:4])
    licence = graph.value(candidate, DCTERMS.license)
    concept = catalog.vocabulary.concepts_by_iri.get(str(licence)) if licence is not None else None
    if concept is not None:
        data["license"] = concept.notation
    return data


def _suggested_fields(graph: Graph, candidate: URIRef, catalog) -> dict:
    """Return the suggested domain values as record fields; a data type only when one was found."""
    data: dict = {}
    for predicate, scheme in SCHEME_OF_SUGGESTION.items():
        concepts = [catalog.vocabulary.concepts_by_iri.get(str(iri)) for iri in graph.objects(candidate, predicate)]
        # A record names single muscles; a group that the text mentioned stays a suggestion only.
        labels = sorted(concept.label for concept in concepts
                        if concept is not None and (scheme != "muscle" or "Muscle" in concept.kinds))
        field = FIELD_OF_SCHEME[scheme]
        if field == "data_type" and len(labels) == 1:
            data[field] = labels[0]
        elif field != "data_type" and labels:
            data[field] = labels
    return data


def _author(graph: Graph, agent) -> dict:
    author = {"name": str(graph.value(agent, FOAF.name) or agent)}
    if str(agent).startswith("https://orcid.org/"):
        author["orcid"] = str(agent).removeprefix("https://orcid.org/")
    return author


def apply_values(data: dict, values: list[str]) -> dict:
    """Add `field=value` settings of a curator; list fields take several values separated by ';'."""
    from catalog.fields import FIELDS_BY_NAME

    for setting in values:
        field_name, separator, value = setting.partition("=")
        field = FIELDS_BY_NAME.get(field_name.strip())
        if not separator or field is None:
            raise ValueError(f"'{setting}' is not FIELD=VALUE with a record field such as muscle or sample_size")
        parts = [part.strip() for part in value.split(";") if part.strip()]
        data[field.name] = parts if field.many else value.strip()
    return data


def _accept(arguments, open_catalog) -> int:
    from catalog.history import Change
    from catalog.loader import check_record
    from catalog.record import RecordError, parse_record

    catalog = open_catalog(arguments, seed_if_empty=False)
    try:
        candidate = candidate_iri(catalog.base_url, arguments.candidate)
        require_status(catalog, candidate, "pending")
        data = apply_values(record_data(catalog, candidate), arguments.values)
        data["name"] = arguments.name or data.get("name") or name_from(data)
        require_new(catalog, data)
        record, warnings = parse_record(data, f"candidate {arguments.candidate}", catalog.vocabulary)
        graph, violations, shape_warnings = check_record(record, catalog)
        if violations:
            raise RecordError(f"candidate {arguments.candidate}", violations)
        catalog.write([(record.name, graph)],
                      Change("umud candidates accept", f"accepted harvest candidate {arguments.candidate}"))
        set_status(catalog, candidate, "accepted", f"published as {record.name}")
    except (ValueError, RecordError) as error:
        print(f"umud: {error}", file=sys.stderr)
        if isinstance(error, RecordError):
            print("Give missing or corrected values with --set FIELD=VALUE, e.g. --set muscle=Soleus.", file=sys.stderr)
        return 1
    finally:
        catalog.store.close()
    print(f"{arguments.candidate}: accepted as {record.name}")
    for warning in warnings + shape_warnings:
        print(f"  warning: {warning}")
    return 0


def require_status(catalog, candidate: URIRef, expected: str) -> None:
    rows = catalog.store.select(sparql_prologue() + f"""
        SELECT ?status ?reason WHERE {{ GRAPH <{candidate}> {{ <{candidate}> umud:candidateStatus ?status .
                                                          OPTIONAL {{ <{candidate}> umud:statusReason ?reason }} }} }}""")
    if not rows:
        raise ValueError(f"there is no candidate {candidate.rsplit('/', 1)[-1]}; `umud candidates list` shows them")
    status = str(rows[0]["status"])
    if status != expected:
        reason = f" ({rows[0]['reason']})" if "reason" in rows[0] else ""
        raise ValueError(f"candidate {candidate.rsplit('/', 1)[-1]} is {status} already{reason}")


def require_new(catalog, data: dict) -> None:
    """Refuse a name or DOI that a catalogued dataset has already: accepting never overwrites one."""
    if catalog.dataset_graph(data["name"]) is not None:
        raise ValueError(f"a dataset named {data['name']} is in the catalog already; choose another --name")
    doi = data.get("doi")
    if doi:
        rows = catalog.store.select(sparql_prologue() + f"""
            SELECT ?name WHERE {{ GRAPH ?dataset {{ ?dataset a dcat:Dataset ; dcterms:identifier ?name ;
                                                     adms:identifier/skos:notation ?doi }}
                                 FILTER(LCASE(STR(?doi)) = {Literal(doi.lower()).n3()}) }}""")
        if rows:
            raise ValueError(f"the catalogued dataset {rows[0]['name']} has the DOI {doi} already; "
                             f"`umud harvest refresh` links harvested metadata to it")


def _reject(arguments, open_catalog) -> int:
    catalog = open_catalog(arguments, seed_if_empty=False)
    try:
        if not arguments.reason.strip():
            raise ValueError("give the reason for rejecting with --reason")
        candidate = candidate_iri(catalog.base_url, arguments.candidate)
        require_status(catalog, candidate, "pending")
        set_status(catalog, candidate, "rejected", arguments.reason.strip())
    except ValueError as error:
        print(f"umud: {error}", file=sys.stderr)
        return 1
    finally:
        catalog.store.close()
    print(f"{arguments.candidate}: rejected")
    return 0


def set_status(catalog, candidate: URIRef, status: str, reason: str) -> None:
    reason_literal = Literal(reason).n3()
    catalog.store.update(sparql_prologue() + f"""
        DELETE WHERE {{ GRAPH <{candidate}> {{ <{candidate}> umud:candidateStatus ?old }} }} ;
        DELETE WHERE {{ GRAPH <{candidate}> {{ <{candidate}> umud:statusReason ?oldReason }} }} ;
        INSERT DATA {{ GRAPH <{candidate}> {{ <{candidate}> umud:candidateStatus "{status}" ;
                                                          umud:statusReason {reason_literal} }} }}""")


def name_from(data: dict) -> str:
    title = html.unescape(re.sub(r"<[^>]+>", " ", data.get("title", "")))
    words = re.findall(r"[A-Za-z0-9]+", title)[:3]
    stem = "".join(word[:1].upper() + word[1:] for word in words) or "Dataset"
    return f"{stem[:60]}_{data.get('year', '')}".rstrip("_")
