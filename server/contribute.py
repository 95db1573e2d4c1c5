"""Contributing datasets: the form at /contribute and the submission API.

    GET  /contribute                  the form, with the steps of contributing; ?doi= pre-fills it
    POST /contribute/check            the validation report of the form's record (JSON), as one types
    POST /contribute/download         the form's record as a file: format=umud (the original app's
                                      JSON), json (ours) or ttl
    POST /contribute                  submit the form for review
    POST /api/submissions             submit a document: UMUD JSON, JSON-LD or Turtle
    GET  /submissions/{id}            the state of a submission (and /api/submissions/{id} as JSON)

A submission waits in the private curation database until a curator decides; only its state and
the curator's reason are public, never the pending record.
"""

from __future__ import annotations

import json
import logging
import re

from flask import Blueprint, Response, abort, current_app, jsonify, redirect, render_template, request, url_for

from catalog.namespaces import SPDX_LICENSES
from catalog.contributions import Check, MalformedDocument, UnsupportedMediaType, check_data, check_document
from catalog.rdf_mapping import record_to_graph
from catalog.umud_json import record_to_umud_json

from .auth import RateLimiter, curation
from .negotiation import accepted
from .pages import rdf_response
from .record_form import form_fields, form_to_data, record_to_form_values

log = logging.getLogger("umud.contribute")

contribute = Blueprint("contribute", __name__)

# Checks as one types that a client (by IP address) may make: (count, per seconds).
CHECK_LIMIT = (120, 60)
DOI_PATTERN = re.compile(r"^10\.\d{4,9}/\S+$")


def _catalog():
    return current_app.extensions["umud"]


def _limited(limiter_name: str, record: bool = True) -> None:
    """Reject the request with 429 when its client has used up the limit."""
    limiter: RateLimiter = current_app.extensions[limiter_name]
    wait = limiter.retry_after(request.remote_addr or "unknown", record)
    if wait:
        log.warning("rate limit: %s from %s, retry after %d s", request.path, request.remote_addr, wait)
        response = jsonify({"status": 429, "error": "Too Many Requests",
                            "message": f"Too many requests from your address; try again in {wait} seconds."})
        response.status_code = 429
        response.headers["Retry-After"] = str(wait)
        abort(response)


# The form


@contribute.get("/contribute")
def form():
    values: dict = {}
    notice = None
    doi = request.args.get("doi", "").strip()
    if doi:
        values, notice = _prefill(doi)
    return render_template("contribute.html", fields=form_fields(_catalog().vocabulary), values=values,
                           results=[], notice=notice, doi=doi)


@contribute.post("/contribute/check")
def check():
    _limited("umud_check_limit")
    result = check_data(form_to_data(request.form), _catalog(), "the form")
    return jsonify(_report(result))


@contribute.post("/contribute/download")
def download():
    requested_format = request.args.get("format", "umud")
    if requested_format not in {"umud", "json", "ttl"}:
        abort(400, description=f"format: '{requested_format}' is not a download format; use umud, json or ttl")
    catalog = _catalog()
    data = form_to_data(request.form)
    result = check_data(data, catalog, "the form")
    if result.record is None:
        return _form_again(data, result, "The record cannot be downloaded yet: fix the errors marked below.")
    name = result.record.name
    if requested_format == "ttl":
        response = rdf_response(record_to_graph(result.record, catalog.base_url, catalog.vocabulary), "text/turtle")
    else:
        document = record_to_umud_json(result.record, catalog.vocabulary) if requested_format == "umud" else result.record.to_json()
        response = Response(json.dumps(document, indent=2, ensure_ascii=False) + "\n", mimetype="application/json")
    suffix = "ttl" if requested_format == "ttl" else "json"
    response.headers["Content-Disposition"] = f"attachment; filename={name}.{suffix}"
    return response


@contribute.post("/contribute")
def submit_form():
    _limited("umud_submission_limit", record=False)
    catalog = _catalog()
    data = form_to_data(request.form)
    result = check_data(data, catalog, "the form")
    if not result.conforms:
        return _form_again(data, result, "Nothing was submitted: fix the errors marked below and submit again.")
    submission = curation().submit(result.record.to_json(), result.warnings, "form")
    _count_submission()
    log.info("submission %s of %s from the form", submission.id, submission.name)
    return redirect(url_for("contribute.submission_page", submission_id=submission.id), code=303)


def _count_submission() -> None:
    """Count an accepted submission against its client's limit; rejected ones do not count."""
    current_app.extensions["umud_submission_limit"].count(request.remote_addr or "unknown")


def _form_again(data: dict, result: Check, notice: str):
    return render_template("contribute.html", fields=form_fields(_catalog().vocabulary),
                           values=record_to_form_values(data), results=result.results, notice=notice,
                           doi=""), 422


def _prefill(doi: str) -> tuple[dict, str]:
    """Return form values for a DOI from DataCite (and Zenodo for Zenodo DOIs), with a notice."""
    if not DOI_PATTERN.match(doi):
        return {}, f"'{doi}' is not a DOI such as 10.5281/zenodo.1234567; the form is empty."
    from harvesters.cli import by_identifier
    from harvesters.model import HarvestError

    try:
        record = by_identifier(doi, current_app.extensions["umud_harvest_sources"])
    except (HarvestError, ValueError) as error:
        log.warning("pre-filling from DOI %s failed: %s", doi, error)
        return {"doi": doi}, f"The repository could not be asked about {doi} ({error}); fill in the form yourself."
    return record_to_form_values(_harvested_data(record, doi)), (
        f"Filled in from what the repository publishes about {doi}. Check every field and add what UMUD "
        "needs besides: muscles, device, data type, participants and labels.")


def _harvested_data(record, doi: str) -> dict:
    data = {"doi": doi, "title": record.title, "description": record.description, "link": record.landing_page,
            "version": record.version, "keywords": list(record.keywords or [])}
    if record.issued and record.issued[:4].isdigit():
        data["year"] = int(record.issued[:4])
    if record.license and record.license.startswith(SPDX_LICENSES):
        data["license"] = record.license.removeprefix(SPDX_LICENSES)
    data["authors"] = [{"name": creator.name, **({"orcid": creator.orcid} if creator.orcid else {})}
                       for creator in record.creators]
    return {key: value for key, value in data.items() if value not in (None, "", [])}


# The API


@contribute.post("/api/submissions")
def submit_document():
    # Reading the body first makes a body above the size limit get 413 before any other status.
    body = request.get_data(cache=False)
    _limited("umud_submission_limit", record=False)
    media_type = (request.mimetype or "").lower()
    try:
        result = check_document(body, media_type, _catalog(), "the request body")
    except UnsupportedMediaType as error:
        return _problem(415, "Unsupported Media Type", str(error))
    except MalformedDocument as error:
        return _problem(400, "Bad Request", str(error))
    if not result.conforms:
        if accepted().best_match(["application/json", "text/turtle", "application/ld+json"]) in {"text/turtle", "application/ld+json"}:
            requested_format = accepted().best_match(["text/turtle", "application/ld+json"])
            response = rdf_response(result.report_graph(), requested_format)
            response.status_code = 422
            return response
        body = {"status": 422, "error": "Unprocessable Content",
                "message": "The record does not conform to the UMUD shapes; nothing was submitted.", **_report(result)}
        return jsonify(body), 422
    submission = curation().submit(result.record.to_json(), result.warnings, "api")
    _count_submission()
    log.info("submission %s of %s through the API", submission.id, submission.name)
    response = jsonify({"id": submission.id, "status": submission.status, "name": submission.name,
                        "url": url_for("contribute.submission_api", submission_id=submission.id, _external=True),
                        "warnings": result.warnings})
    response.status_code = 201
    response.headers["Location"] = url_for("contribute.submission_api", submission_id=submission.id, _external=True)
    return response


@contribute.get("/api/submissions/<submission_id>")
def submission_api(submission_id: str):
    submission = _submission_or_404(submission_id)
    return jsonify(_public_state(submission))


@contribute.get("/submissions/<submission_id>")
def submission_page(submission_id: str):
    return render_template("submission.html", submission=_public_state(_submission_or_404(submission_id)))


def _submission_or_404(submission_id: str):
    submission = curation().submission(submission_id) if re.fullmatch(r"[0-9a-f]{32}", submission_id) else None
    if submission is None:
        abort(404, description="There is no submission with this id.")
    return submission


def _public_state(submission) -> dict:
    """Return what anyone with the submission's address may see: not the pending record itself."""
    state = {"id": submission.id, "name": submission.name, "status": submission.status,
             "submitted": submission.submitted, "decided": submission.decided, "reason": submission.reason}
    if submission.status == "accepted":
        state["dataset"] = url_for("pages.dataset", name=submission.name, _external=True)
    return state


def _report(result: Check) -> dict:
    return {"conforms": result.conforms, "results": result.results}


def _problem(status: int, title: str, message: str):
    return jsonify({"status": status, "error": title, "message": message}), status
