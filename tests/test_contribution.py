"""Contributions and curation: the submission API, the form's endpoints, curators, versions.

Each test module gets its own store and app here, because accepting and withdrawing change the
catalog that the other tests compare with the seed records.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import RDF, SH, XSD

from catalog.curation import Curation
from catalog.namespaces import DCAT, HEALTHDCATAP, UMUD
from catalog.loader import read_records
from catalog.rdf_mapping import record_to_graph
from catalog.setup import open_catalog
from catalog.umud_json import parse_umud_json

from .browser_support import UMUD_COMMAND, seed_records
from .conftest import BASE_URL, SHARED, UMUD_RECORDS

SEED = seed_records()
CURATOR = "ada"
PASSWORD = "correct horse battery staple"
JSON_ACCEPT = {"Accept": "application/json"}
SAMPLE_SIZE = HEALTHDCATAP.numberOfUniqueIndividuals


@pytest.fixture(scope="module")
def contribution_app(tmp_path_factory):
    from server.app import create_app
    from server.settings import Settings

    folder = tmp_path_factory.mktemp("contribution")
    catalog = open_catalog(folder / "store", BASE_URL)
    settings = Settings(base_url=BASE_URL, store_location=str(folder / "store"),
                        curation_path=str(folder / "curation.sqlite"), submission_limit=(1000, 60),
                        sparql_workers=1)
    app = create_app(catalog, settings)
    app.config["TESTING"] = True
    app.extensions["umud_curation"].add_curator(CURATOR, PASSWORD)
    yield app
    app.extensions["umud_sparql"].close()
    catalog.store.close()


@pytest.fixture()
def api(contribution_app):
    return contribution_app.test_client()


@pytest.fixture(scope="module")
def token(contribution_app):
    return contribution_app.extensions["umud_curation"].create_token(CURATOR, "tests")


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}", "Accept": "application/json"}


def broken_entry() -> dict:
    entry = json.loads((UMUD_RECORDS / "DeepACSA_2022.json").read_text(encoding="utf-8"))
    del entry["MUSCLE"]
    entry["SAMPLE_SIZE"] = -3
    return entry


# The submission API


@pytest.mark.parametrize("path", sorted(UMUD_RECORDS.glob("*.json")), ids=lambda path: path.stem)
def test_api_accepts_each_original_entry(api, path):
    response = api.post("/api/submissions", data=path.read_bytes(), content_type="application/json")
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["status"] == "pending"
    assert body["name"] == json.loads(path.read_text(encoding="utf-8"))["DATASET_NAME"]
    assert response.headers["Location"].endswith(f"/api/submissions/{body['id']}")


@pytest.mark.parametrize("name", ["DeepACSA_2022", "FALLMUD_2017", "Leg3dUS_2024"])
@pytest.mark.parametrize("syntax, media_type", [("turtle", "text/turtle"), ("json-ld", "application/ld+json")])
def test_api_accepts_rdf(api, contribution_app, name, syntax, media_type):
    catalog = contribution_app.extensions["umud"]
    record = read_records(Path("catalog/seed") / f"{name}.json")[0][0]
    body = record_to_graph(record, BASE_URL, catalog.vocabulary).serialize(format=syntax)
    response = api.post("/api/submissions", data=body.encode(), content_type=media_type)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json()["name"] == name


def test_api_reports_a_broken_record(api):
    response = api.post("/api/submissions", data=json.dumps(broken_entry()), content_type="application/json")
    assert response.status_code == 422
    report = response.get_json()
    assert report["conforms"] is False
    by_field = {result["field"].split(".")[0]: result for result in report["results"]}
    assert "MUSCLE" in by_field or "muscle" in by_field
    for result in report["results"]:
        assert set(result) >= {"severity", "focus", "path", "message"}
        assert result["severity"] in {"Violation", "Warning"}
        assert result["message"]


def test_api_reports_shape_violations(api, contribution_app):
    catalog = contribution_app.extensions["umud"]
    record = read_records(Path("catalog/seed") / "DeepACSA_2022.json")[0][0]
    graph = record_to_graph(record, BASE_URL, catalog.vocabulary)
    dataset = next(graph.subjects(RDF.type, DCAT.Dataset))
    # A sample size of zero passes the record model's type but breaks the shapes' minimum.
    graph.set((dataset, SAMPLE_SIZE, Literal(0, datatype=XSD.integer)))
    response = api.post("/api/submissions", data=graph.serialize(format="turtle").encode(), content_type="text/turtle")
    assert response.status_code == 422, response.get_data(as_text=True)
    results = response.get_json()["results"]
    assert any(result["severity"] == "Violation" and result["path"].endswith("numberOfUniqueIndividuals")
               and result["focus"] == f"{BASE_URL}/datasets/DeepACSA_2022" for result in results)


def test_api_report_as_shacl_rdf(api):
    response = api.post("/api/submissions", data=json.dumps(broken_entry()), content_type="application/json",
                        headers={"Accept": "text/turtle"})
    assert response.status_code == 422
    assert response.mimetype == "text/turtle"
    report = Graph().parse(data=response.get_data(as_text=True), format="turtle")
    reports = list(report.subjects(RDF.type, SH.ValidationReport))
    assert len(reports) == 1
    assert report.value(reports[0], SH.conforms).toPython() is False
    results = list(report.objects(reports[0], SH.result))
    assert len(results) >= 2
    for result in results:
        assert report.value(result, SH.sourceConstraintComponent) is not None
        assert report.value(result, SH.focusNode) is not None
        assert report.value(result, SH.resultSeverity) == SH.Violation


@pytest.mark.parametrize("body, media_type, reason", [
    (b"{not json", "application/json", "malformed JSON"),
    (b"[]", "application/json", "one record at a time"),
    (b"42", "application/json", "expected a JSON object"),
    (b"@prefix x: <http://x/> . x:a x:b", "text/turtle", "malformed"),
    (b"<http://x/a> <http://x/b> <http://x/c> .", "text/turtle", "no dcat:Dataset"),
    (b'{"@context": "https://schema.org/", "name": "x"}', "application/ld+json", "remote JSON-LD contexts"),
    (b"\xff\xfe", "application/json", "not UTF-8"),
])
def test_api_rejects_malformed_bodies(api, body, media_type, reason):
    response = api.post("/api/submissions", data=body, content_type=media_type)
    assert response.status_code == 400
    assert reason in response.get_json()["message"]


def test_api_rejects_other_media_types(api):
    response = api.post("/api/submissions", data=b"name,title", content_type="text/csv")
    assert response.status_code == 415
    assert "application/json" in response.get_json()["message"]


def test_api_limits_the_body_size(api):
    response = api.post("/api/submissions", data=b" " * (3 * 1024 * 1024), content_type="application/json",
                        headers=JSON_ACCEPT)
    assert response.status_code == 413


def test_api_rate_limit(tmp_path):
    from server.app import create_app
    from server.settings import Settings

    catalog = open_catalog(tmp_path / "store", BASE_URL)
    try:
        app = create_app(catalog, Settings(base_url=BASE_URL, store_location=str(tmp_path / "store"),
                                           submission_limit=(2, 3600), sparql_workers=1))
        client = app.test_client()
        body = (UMUD_RECORDS / "FALLMUD_2017.json").read_bytes()
        # Rejected submissions do not count: a contributor may fix a record and send it again.
        for _ in range(3):
            assert client.post("/api/submissions", data=b"{", content_type="application/json").status_code == 400
        statuses = [client.post("/api/submissions", data=body, content_type="application/json").status_code
                    for _ in range(3)]
        assert statuses == [201, 201, 429]
        limited = client.post("/api/submissions", data=body, content_type="application/json")
        assert int(limited.headers["Retry-After"]) > 0
        assert limited.get_json()["status"] == 429
        too_large = client.post("/api/submissions", data=b" " * (3 * 1024 * 1024), content_type="application/json")
        assert too_large.status_code == 413
        assert too_large.get_json()["status"] == 413
        app.extensions["umud_sparql"].close()
    finally:
        catalog.store.close()


def test_submission_state_hides_the_record(api):
    entry = UMUD_RECORDS / "Heelraise_2017.json"
    description = json.loads(entry.read_text(encoding="utf-8"))["SHORT_DESCRIPTION"][:40]
    created = api.post("/api/submissions", data=entry.read_bytes(), content_type="application/json").get_json()
    state = api.get(f"/api/submissions/{created['id']}").get_json()
    assert state["status"] == "pending"
    assert "record" not in state
    assert description not in json.dumps(state)
    page = api.get(f"/submissions/{created['id']}", headers={"Accept": "text/html"}).get_data(as_text=True)
    assert "waiting for review" in page
    assert description not in page


def test_unknown_submission(api):
    assert api.get("/api/submissions/" + "0" * 32).status_code == 404
    assert api.get("/api/submissions/../etc").status_code == 404


# Curators: access, CSRF, decisions


CURATOR_GETS = ["/curate", "/curate/submissions/" + "0" * 32, "/curate/candidates/zenodo-1"]
CURATOR_POSTS = ["/curate/submissions/" + "0" * 32 + "/accept", "/curate/submissions/" + "0" * 32 + "/reject",
                 "/curate/submissions/" + "0" * 32 + "/edit", "/curate/candidates/zenodo-1/accept",
                 "/curate/candidates/zenodo-1/reject", "/curate/datasets/DeepACSA_2022/withdraw", "/curate/withdraw"]


@pytest.mark.parametrize("path", CURATOR_GETS)
def test_anonymous_cannot_read_curation(api, path):
    assert api.get(path, headers=JSON_ACCEPT).status_code == 401
    browser = api.get(path, headers={"Accept": "text/html"})
    assert browser.status_code == 302
    assert "/curate/sign-in" in browser.headers["Location"]


@pytest.mark.parametrize("path", CURATOR_POSTS)
def test_anonymous_cannot_decide(api, path):
    assert api.post(path, data={"reason": "x"}, headers=JSON_ACCEPT).status_code == 401


def test_wrong_token_is_anonymous(api):
    assert api.get("/curate", headers=bearer("umud_not-a-token")).status_code == 401


def sign_in_client(app):
    client = app.test_client()
    page = client.get("/curate/sign-in", headers={"Accept": "text/html"}).get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/curate/sign-in", data={"name": CURATOR, "password": PASSWORD, "csrf_token": csrf})
    assert response.status_code == 303
    # Signing in starts a new session with a new CSRF token, which the pages carry.
    page = client.get("/curate", headers={"Accept": "text/html"}).get_data(as_text=True)
    fresh = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert fresh != csrf
    return client, fresh


def test_sign_in_needs_the_right_password(contribution_app):
    client = contribution_app.test_client()
    page = client.get("/curate/sign-in").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/curate/sign-in", data={"name": CURATOR, "password": "wrong password!", "csrf_token": csrf})
    assert response.status_code == 401
    assert client.get("/curate", headers=JSON_ACCEPT).status_code == 401


def test_sign_in_needs_csrf(contribution_app):
    client = contribution_app.test_client()
    client.get("/curate/sign-in")
    response = client.post("/curate/sign-in", data={"name": CURATOR, "password": PASSWORD})
    assert response.status_code == 403


@pytest.mark.parametrize("sent", [None, "forged-token"])
def test_session_posts_need_the_csrf_token(api, contribution_app, sent):
    created = api.post("/api/submissions", data=(UMUD_RECORDS / "GasFasTrack_2019.json").read_bytes(),
                       content_type="application/json").get_json()
    client, _csrf = sign_in_client(contribution_app)
    data = {"reason": "looks fine"} | ({"csrf_token": sent} if sent else {})
    response = client.post(f"/curate/submissions/{created['id']}/reject", data=data)
    assert response.status_code == 403
    assert contribution_app.extensions["umud_curation"].submission(created["id"]).status == "pending"


def test_session_reject_with_csrf(api, contribution_app):
    created = api.post("/api/submissions", data=(UMUD_RECORDS / "GasFasTrack_2019.json").read_bytes(),
                       content_type="application/json").get_json()
    client, csrf = sign_in_client(contribution_app)
    assert client.get("/curate", headers={"Accept": "text/html"}).status_code == 200
    response = client.post(f"/curate/submissions/{created['id']}/reject", data={"reason": "a duplicate", "csrf_token": csrf})
    assert response.status_code == 303
    state = api.get(f"/api/submissions/{created['id']}").get_json()
    assert (state["status"], state["reason"]) == ("rejected", "a duplicate")


def test_accept_publishes_a_new_version(api, contribution_app, token):
    entry = json.loads((UMUD_RECORDS / "DLTrackUS_2023.json").read_text(encoding="utf-8"))
    entry["SAMPLE_SIZE"] = 42
    created = api.post("/api/submissions", data=json.dumps(entry), content_type="application/json").get_json()
    review = api.get(f"/curate/submissions/{created['id']}", headers=bearer(token)).get_json()
    assert review["update"] is True
    assert {"name": "sample_size", "old": str(SEED["DLTrackUS_2023"]["sample_size"]), "new": "42",
            "field": "Participants"} in review["changes"]
    # A page of the catalog does not show the pending value.
    assert api.get("/datasets?format=json&sample_size=42").get_json()["total"] == 0

    response = api.post(f"/curate/submissions/{created['id']}/accept", json={"reason": "corrected sample size"},
                        headers=bearer(token))
    assert response.status_code == 200, response.get_data(as_text=True)
    assert api.get("/datasets?format=json&sample_size=42").get_json()["datasets"][0]["name"] == "DLTrackUS_2023"
    history = api.get("/datasets/DLTrackUS_2023/history", headers=JSON_ACCEPT).get_json()["versions"]
    assert [version["kind"] for version in history] == ["created", "updated"]
    assert history[-1]["agent"] == CURATOR
    assert history[-1]["reason"] == "corrected sample size"
    old = Graph().parse(data=api.get("/datasets/DLTrackUS_2023/versions/1.ttl").get_data(as_text=True), format="turtle")
    new = Graph().parse(data=api.get("/datasets/DLTrackUS_2023/versions/2.ttl").get_data(as_text=True), format="turtle")
    sizes = [{int(value) for value in graph.objects(None, SAMPLE_SIZE)} for graph in (old, new)]
    assert sizes == [{SEED["DLTrackUS_2023"]["sample_size"]}, {42}]
    assert api.get("/datasets/DLTrackUS_2023/versions/1", headers={"Accept": "text/html"}).status_code == 200
    # The union graph that /sparql queries by default contains the current value only.
    query = f"SELECT ?size WHERE {{ <{BASE_URL}/datasets/DLTrackUS_2023> <{SAMPLE_SIZE}> ?size }}"
    rows = api.get("/sparql", query_string={"query": query},
                   headers={"Accept": "application/sparql-results+json"}).get_json()["results"]["bindings"]
    assert [row["size"]["value"] for row in rows] == ["42"]
    assert api.get("/datasets/DLTrackUS_2023/versions/9").status_code == 404
    second = api.post(f"/curate/submissions/{created['id']}/accept", json={"reason": "again"}, headers=bearer(token))
    assert second.status_code == 409


def test_accept_refuses_a_submission_without_changes(api, contribution_app, token):
    catalog = contribution_app.extensions["umud"]
    record = catalog.record("BicepsFem3DUS_2024")
    body = json.dumps(record.to_json())
    created = api.post("/api/submissions", data=body, content_type="application/json").get_json()
    review = api.get(f"/curate/submissions/{created['id']}", headers=bearer(token)).get_json()
    assert review["changes"] == []
    response = api.post(f"/curate/submissions/{created['id']}/accept", json={"reason": "same"}, headers=bearer(token))
    assert response.status_code == 409
    assert "does not change" in response.get_json()["message"]
    assert [version.kind for version in catalog.history("BicepsFem3DUS_2024")] == ["created"]


def test_accept_needs_a_reason(api, token):
    created = api.post("/api/submissions", data=(UMUD_RECORDS / "NeuAgeOld_2024.json").read_bytes(),
                       content_type="application/json").get_json()
    response = api.post(f"/curate/submissions/{created['id']}/accept", json={"reason": "  "}, headers=bearer(token))
    assert response.status_code == 400
    assert "reason" in response.get_json()["message"]


def test_withdraw_leaves_a_tombstone(api, token):
    response = api.post("/curate/datasets/UltraTimTrack_2024/withdraw", json={"reason": "the data moved to a new DOI"},
                        headers=bearer(token))
    assert response.status_code == 200
    page = api.get("/datasets/UltraTimTrack_2024", headers={"Accept": "text/html"})
    assert page.status_code == 410
    assert "the data moved to a new DOI" in page.get_data(as_text=True)
    assert api.get("/datasets/UltraTimTrack_2024", headers=JSON_ACCEPT).status_code == 410
    assert "UltraTimTrack_2024" not in [entry["name"] for entry in api.get("/datasets?format=json&page_size=100").get_json()["datasets"]]
    history = api.get("/datasets/UltraTimTrack_2024/history", headers=JSON_ACCEPT).get_json()["versions"]
    assert [version["kind"] for version in history] == ["created", "withdrawn"]
    assert api.get("/datasets/UltraTimTrack_2024/versions/1.ttl").status_code == 200
    for part in ("croissant.json", "citation.bib", "linkset"):
        assert api.get(f"/datasets/UltraTimTrack_2024/{part}", headers=JSON_ACCEPT).status_code == 410
    history = Graph().parse(data=api.get("/datasets/UltraTimTrack_2024/history.ttl").get_data(as_text=True),
                            format="turtle")
    kinds = sorted(str(kind) for kind in history.objects(None, URIRef(str(UMUD) + "changeKind")))
    assert kinds == ["created", "withdrawn"]
    by_accept = api.get("/datasets/UltraTimTrack_2024/history", headers={"Accept": "text/turtle"})
    assert by_accept.mimetype == "text/turtle"
    assert api.post("/curate/datasets/UltraTimTrack_2024/withdraw", json={"reason": "again"},
                    headers=bearer(token)).status_code == 404


def test_pending_submission_not_in_sparql(api):
    api.post("/api/submissions", data=json.dumps(_renamed("DeepMTJ_2021", "PendingProbe_2024")),
             content_type="application/json")
    query = 'ASK { GRAPH ?g { ?s ?p "PendingProbe_2024" } }'
    response = api.get("/sparql", query_string={"query": query}, headers={"Accept": "application/sparql-results+json"})
    assert response.get_json()["boolean"] is False


def _renamed(name: str, new_name: str) -> dict:
    entry = json.loads((UMUD_RECORDS / f"{name}.json").read_text(encoding="utf-8"))
    entry["DATASET_NAME"] = new_name
    entry["DOI"] = ""
    return entry


# The form's endpoints


def form_of(name: str) -> dict:
    record = SEED[name]
    data = {key: value for key, value in record.items() if key not in {"authors", "contact"}}
    form = []
    for key, value in data.items():
        if key in {"keywords", "transducer"}:
            form.append((key, "\n".join(value)))
        elif isinstance(value, list):
            form += [(key, str(item)) for item in value]
        elif isinstance(value, bool):
            form.append((key, "true" if value else "false"))
        elif value is not None:
            form.append((key, str(value)))
    for author in record["authors"]:
        author = author if isinstance(author, dict) else {"name": author}
        form += [("author_name", author["name"]), ("author_orcid", author.get("orcid") or "")]
    form += [("contact", address) for address in record.get("contact", [])]
    return form


def test_form_has_every_field(api):
    html = api.get("/contribute", headers={"Accept": "text/html"}).get_data(as_text=True)
    from catalog.fields import FIELDS

    for field in FIELDS:
        assert f'id="field-{field.name}"' in html
    assert '<optgroup label="Lower limb muscles">' in html
    assert '<optgroup label="Esaote">' in html


def test_form_check_reports_fields(api):
    from werkzeug.datastructures import MultiDict

    form = MultiDict([pair for pair in form_of("DeepACSA_2022") if pair[0] != "muscle"])
    report = api.post("/contribute/check", data=form).get_json()
    assert report["conforms"] is False
    assert any(result["input"] == "muscle" and result["severity"] == "Violation" for result in report["results"])
    complete = api.post("/contribute/check", data=MultiDict(form_of("DeepACSA_2022"))).get_json()
    assert complete["conforms"] is True


@pytest.mark.parametrize("name", ["DeepACSA_2022", "LuminousMultifidus_2020"])
def test_form_download_in_the_original_format(api, name):
    from werkzeug.datastructures import MultiDict

    response = api.post("/contribute/download?format=umud", data=MultiDict(form_of(name)))
    assert response.status_code == 200
    assert f"filename={name}.json" in response.headers["Content-Disposition"]
    entry = json.loads(response.get_data(as_text=True))
    record, _warnings = parse_umud_json(entry, "download")
    assert record.name == name
    assert sorted(record.muscle) == sorted(SEED[name]["muscle"])
    turtle = api.post("/contribute/download?format=ttl", data=MultiDict(form_of(name)))
    graph = Graph().parse(data=turtle.get_data(as_text=True), format="turtle")
    assert len(graph) > 20


def test_form_submission_with_errors_is_kept_back(api, contribution_app):
    from werkzeug.datastructures import MultiDict

    before = len(contribution_app.extensions["umud_curation"].submissions())
    form = MultiDict([pair for pair in form_of("FALLMUD_2017") if pair[0] != "data_type"])
    response = api.post("/contribute", data=form, headers={"Accept": "text/html"})
    assert response.status_code == 422
    assert 'id="messages-data_type"' in response.get_data(as_text=True)
    assert "Violation" in response.get_data(as_text=True)
    assert len(contribution_app.extensions["umud_curation"].submissions()) == before


def test_form_submission(api):
    from werkzeug.datastructures import MultiDict

    response = api.post("/contribute", data=MultiDict(form_of("FALLMUD_2017")))
    assert response.status_code == 303
    assert re.search(r"/submissions/[0-9a-f]{32}$", response.headers["Location"])


# Curator accounts on the command line


def test_curator_commands(tmp_path):
    database = tmp_path / "curation.sqlite"
    def run(*arguments, stdin=""):
        return subprocess.run([str(UMUD_COMMAND), "curator", *arguments, "--curation-db", str(database)],
                              input=stdin, capture_output=True, text=True, timeout=60)

    assert run("add", "grace", stdin="short\n").returncode == 1
    added = run("add", "grace", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert run("add", "grace", stdin=PASSWORD + "\n").returncode == 1
    assert run("list").stdout.startswith("grace\t")
    token = run("token", "grace").stdout.strip()
    curation = Curation(database)
    assert curation.check_password("grace", PASSWORD)
    assert not curation.check_password("grace", PASSWORD + "x")
    assert curation.token_curator(token) == "grace"
    assert PASSWORD not in database.read_bytes().decode("latin-1")
    curation.close()
    assert run("remove", "grace").returncode == 0
    assert run("remove", "grace").returncode == 1
    assert Curation(database).token_curator(token) is None



# Harvest candidates in the curation pages


ZENODO_DATASET = SHARED / "fixtures" / "real-api" / "zenodo-legacy" / "record-7834392-dataset-covid19-twitter-files-orcid-versions.json"
DATACITE_DATASET = SHARED / "fixtures" / "real-api" / "datacite" / "doi-10.5061-dryad.8515-dataset-include-media-client.json"


def store_candidate(catalog) -> str:
    from harvesters.runner import CatalogHarvest
    from harvesters.zenodo import parse_zenodo_record

    record = parse_zenodo_record(json.loads(ZENODO_DATASET.read_text()), "http://127.0.0.1/api/records/7834392")
    CatalogHarvest(catalog).store(record)
    return "zenodo-7834392"


def test_candidate_review_and_accept(api, contribution_app, token):
    catalog = contribution_app.extensions["umud"]
    candidate = store_candidate(catalog)
    queue = api.get("/curate", headers=bearer(token)).get_json()
    assert candidate in [item["id"] for item in queue["candidates"]]
    sparql = api.get("/sparql", query_string={"query": f"ASK {{ GRAPH ?g {{ <{BASE_URL}/candidates/{candidate}> ?p ?o }} }}"},
                     headers={"Accept": "application/sparql-results+json"})
    assert sparql.get_json()["boolean"] is False

    review = api.get(f"/curate/candidates/{candidate}", headers=bearer(token)).get_json()
    assert review["record"]["title"].startswith("A large-scale COVID-19")
    assert isinstance(review["suggestions"], dict)
    page = api.get(f"/curate/candidates/{candidate}", headers={**bearer(token), "Accept": "text/html"})
    assert page.status_code == 200
    assert 'id="suggestions"' in page.get_data(as_text=True)
    assert any(result["input"] == "muscle" for result in review["results"])

    from werkzeug.datastructures import MultiDict

    form = MultiDict(form_of("DeepACSA_2022"))
    form.setlist("name", ["CandidateProbe_2023"])
    form.setlist("doi", [""])
    form.add("reason", "harvested, checked by hand")
    accepted = api.post(f"/curate/candidates/{candidate}/accept", data=form, headers=bearer(token))
    assert accepted.status_code == 200, accepted.get_data(as_text=True)
    assert api.get("/datasets/CandidateProbe_2023", headers={"Accept": "text/html"}).status_code == 200
    assert candidate not in [item["id"] for item in api.get("/curate", headers=bearer(token)).get_json()["candidates"]]
    again = api.post(f"/curate/candidates/{candidate}/accept", data=form, headers=bearer(token))
    assert again.status_code == 409


# Pre-filling the form from a DOI, against recorded API responses


@pytest.fixture()
def prefill_app(httpserver, tmp_path):
    from server.app import create_app
    from server.settings import Settings

    root = httpserver.url_for("").rstrip("/")
    catalog = open_catalog(tmp_path / "store", BASE_URL)
    app = create_app(catalog, Settings(base_url=BASE_URL, store_location=str(tmp_path / "store"), sparql_workers=1,
                                       harvest_urls={"zenodo": root, "osf": f"{root}/osf", "datacite": root,
                                                     "oai": f"{root}/oai2d"}))
    yield app
    app.extensions["umud_sparql"].close()
    catalog.store.close()


def input_value(html: str, name: str) -> str:
    match = re.search(rf'id="input-{name}" name="{name}"[^>]*value="([^"]*)"', html)
    return match.group(1) if match else ""


def test_prefill_from_a_zenodo_doi(httpserver, prefill_app):
    httpserver.expect_request("/api/records/7834392").respond_with_data(ZENODO_DATASET.read_bytes(),
                                                                        content_type="application/json")
    html = prefill_app.test_client().get("/contribute?doi=10.5281/zenodo.7834392",
                                         headers={"Accept": "text/html"}).get_data(as_text=True)
    source = json.loads(ZENODO_DATASET.read_text())
    assert input_value(html, "title") == source["metadata"]["title"].replace("&", "&amp;")
    assert input_value(html, "doi") == "10.5281/zenodo.7834392"
    assert "Filled in from what the repository publishes" in html
    assert source["metadata"]["creators"][0]["name"] in html


def test_prefill_from_a_datacite_doi(httpserver, prefill_app):
    httpserver.expect_request("/dois/10.5061/dryad.8515").respond_with_data(DATACITE_DATASET.read_bytes(),
                                                                             content_type="application/json")
    html = prefill_app.test_client().get("/contribute?doi=10.5061/dryad.8515").get_data(as_text=True)
    source = json.loads(DATACITE_DATASET.read_text())["data"]["attributes"]
    assert input_value(html, "title") == source["titles"][0]["title"]
    assert input_value(html, "year") == str(source["publicationYear"])


def test_prefill_failure_is_explained(httpserver, prefill_app):
    httpserver.expect_request("/dois/10.1234/missing").respond_with_data("{}", status=404,
                                                                           content_type="application/json")
    response = prefill_app.test_client().get("/contribute?doi=10.1234/missing")
    assert response.status_code == 200
    assert "could not be asked about 10.1234/missing" in response.get_data(as_text=True)
    bad = prefill_app.test_client().get("/contribute?doi=https://evil.example/x").get_data(as_text=True)
    assert "is not a DOI" in bad


# Versions written by the catalog itself


def test_versions_of_loads_and_purge(tmp_path):
    from catalog.history import Change
    from catalog.loader import process_files

    catalog = open_catalog(tmp_path / "store", BASE_URL)
    try:
        assert [version.kind for version in catalog.history("FALLMUD_2017")] == ["created"]
        assert catalog.history("FALLMUD_2017")[0].agent == "UMUD seed catalog"
        process_files([Path("catalog/seed/FALLMUD_2017.json")], catalog, write=True)
        versions = catalog.history("FALLMUD_2017")
        assert [(version.number, version.kind, version.agent) for version in versions] == [
            (1, "created", "UMUD seed catalog"), (2, "updated", "umud load")]
        assert versions[1].reason == "loaded from FALLMUD_2017.json"
        assert catalog.version_graph("FALLMUD_2017", 2) is not None
        assert catalog.version_record("FALLMUD_2017", 1) == catalog.record("FALLMUD_2017")
        catalog.withdraw("FALLMUD_2017", Change("tests", "checking withdrawal"))
        assert catalog.record("FALLMUD_2017") is None
        assert catalog.history("FALLMUD_2017")[-1].kind == "withdrawn"
        process_files([Path("catalog/seed/FALLMUD_2017.json")], catalog, write=True)
        assert [version.kind for version in catalog.history("FALLMUD_2017")] == ["created", "updated", "withdrawn", "updated"]
        catalog.purge(["FALLMUD_2017"])
        assert catalog.history("FALLMUD_2017") == []
        assert catalog.version_graph("FALLMUD_2017", 1) is None
        assert catalog.record("FALLMUD_2017") is None
    finally:
        catalog.store.close()


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example"])
def test_sign_in_never_redirects_off_site(contribution_app, target):
    client = contribution_app.test_client()
    page = client.get(f"/curate/sign-in?next={target}").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    response = client.post("/curate/sign-in", data={"name": CURATOR, "password": PASSWORD, "csrf_token": csrf,
                                                     "next": target})
    assert response.status_code == 303
    assert response.headers["Location"] == "/curate"


def test_sign_out_needs_csrf(contribution_app):
    client, csrf = sign_in_client(contribution_app)
    assert client.post("/curate/sign-out").status_code == 403
    assert client.get("/curate", headers=JSON_ACCEPT).status_code == 200
    assert client.post("/curate/sign-out", data={"csrf_token": csrf}).status_code == 303
    assert client.get("/curate", headers=JSON_ACCEPT).status_code == 401
