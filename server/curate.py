"""Curation: signed-in curators review submissions and harvest candidates, and publish them.

    GET/POST /curate/sign-in, POST /curate/sign-out
    GET  /curate                                   pending submissions and candidates
    GET  /curate/submissions/{id}                  record, report, diff against the published version
    POST /curate/submissions/{id}/edit|accept|reject
    GET  /curate/candidates/{id}, POST /curate/candidates/{id}/accept|reject
    POST /curate/datasets/{name}/withdraw (or /curate/withdraw with the name in the form)

Every POST needs the session's CSRF token, or an API token in `Authorization: Bearer`.
Accepting publishes a new version of the dataset, attributed to the curator with the reason.
"""

from __future__ import annotations

import logging

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for

from catalog.contributions import check_data
from catalog.fields import FIELDS
from catalog.history import Change
from harvesters import candidates as harvest_candidates

from .auth import RateLimiter, check_csrf, csrf_token, curation, curator_required, current_curator, sign_in, sign_out
from .negotiation import accepted
from .record_form import form_fields, form_to_data, record_to_form_values

log = logging.getLogger("umud.curate")

curate = Blueprint("curate", __name__, url_prefix="/curate")


def _catalog():
    return current_app.extensions["umud"]


def _wants_json() -> bool:
    return accepted().best_match(["text/html", "application/json"]) == "application/json"


def _reason() -> str:
    body = request.get_json(silent=True) if request.is_json else None
    reason = (body or {}).get("reason") if isinstance(body, dict) else None
    reason = (reason if isinstance(reason, str) else request.form.get("reason", "")).strip()
    if not reason:
        abort(400, description="reason: give the reason for this decision; it is kept in the dataset's history")
    if len(reason) > 2000:
        abort(400, description="reason: at most 2000 characters")
    return reason


def _done(message: str, target: str):
    if _wants_json():
        return jsonify({"message": message})
    flash(message)
    return redirect(target, code=303)


# Signing in


@curate.get("/sign-in")
def sign_in_page():
    return render_template("curate_sign_in.html", next=_safe_next(request.args.get("next")), error=None,
                           csrf=csrf_token())


@curate.post("/sign-in")
def sign_in_post():
    check_csrf()
    limiter: RateLimiter = current_app.extensions["umud_sign_in_limit"]
    wait = limiter.retry_after(request.remote_addr or "unknown")
    if wait:
        abort(429, description=f"Too many sign-in attempts; try again in {wait} seconds.")
    name = request.form.get("name", "").strip()
    if not curation().check_password(name, request.form.get("password", "")):
        log.warning("failed sign-in as %r from %s", name, request.remote_addr)
        return render_template("curate_sign_in.html", next=_safe_next(request.form.get("next")),
                               error="Unknown name or wrong password.", csrf=csrf_token()), 401
    sign_in(name)
    log.info("curator %s signed in from %s", name, request.remote_addr)
    return redirect(_safe_next(request.form.get("next")) or url_for("curate.queue"), code=303)


@curate.post("/sign-out")
def sign_out_post():
    check_csrf()
    sign_out()
    return redirect(url_for("pages.home"), code=303)


def _safe_next(target: str | None) -> str | None:
    """Return a local path to go to after signing in; anything else could send the curator off-site."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


# The queue


@curate.get("")
@curator_required
def queue():
    catalog = _catalog()
    submissions = curation().submissions("pending")
    candidates = harvest_candidates.list_candidates(catalog)
    if _wants_json():
        return jsonify({"submissions": [{"id": item.id, "name": item.name, "submitted": item.submitted,
                                         "origin": item.origin, "update": catalog.dataset_graph(item.name) is not None}
                                        for item in submissions],
                        "candidates": candidates})
    updates = {item.id: catalog.dataset_graph(item.name) is not None for item in submissions}
    return render_template("curate.html", submissions=submissions, updates=updates, candidates=candidates,
                           curator=current_curator(), csrf=csrf_token())


# Submissions


def _submission(submission_id: str, pending: bool = False):
    """Return a submission, or abort with 404, and with 409 when `pending` and it was decided already."""
    item = curation().submission(submission_id)
    if item is None:
        abort(404, description="There is no submission with this id.")
    if pending and item.status != "pending":
        abort(409, description=f"This submission is {item.status} already.")
    return item


@curate.get("/submissions/<submission_id>")
@curator_required
def submission(submission_id: str):
    item = _submission(submission_id)
    catalog = _catalog()
    checked = check_data(item.record, catalog, f"submission {item.id}")
    published = catalog.record(item.name)
    changes = _diff(published.to_json() if published else None, item.record)
    if _wants_json():
        return jsonify({"id": item.id, "status": item.status, "record": item.record, "results": checked.results,
                        "changes": changes, "update": published is not None})
    return render_template("curate_submission.html", item=item, results=checked.results, changes=changes,
                           update=published is not None, fields=form_fields(catalog.vocabulary),
                           values=record_to_form_values(item.record), csrf=csrf_token(), curator=current_curator())


@curate.post("/submissions/<submission_id>/edit")
@curator_required
def edit_submission(submission_id: str):
    item = _submission(submission_id, pending=True)
    catalog = _catalog()
    data = form_to_data(request.form)
    checked = check_data(data, catalog, f"submission {item.id}")
    if checked.record is None:
        return render_template("curate_submission.html", item=item, results=checked.results,
                               changes=[], update=catalog.dataset_graph(item.name) is not None,
                               fields=form_fields(catalog.vocabulary), values=record_to_form_values(data),
                               csrf=csrf_token(), curator=current_curator()), 422
    curation().edit(item.id, checked.record.to_json(), checked.warnings)
    log.info("curator %s edited submission %s", current_curator(), item.id)
    return _done("The edits are saved.", url_for("curate.submission", submission_id=item.id))


@curate.post("/submissions/<submission_id>/accept")
@curator_required
def accept_submission(submission_id: str):
    item = _submission(submission_id, pending=True)
    reason = _reason()
    catalog = _catalog()
    checked = check_data(item.record, catalog, f"submission {item.id}")
    if not checked.conforms:
        abort(422, description="The record has violations; edit it before accepting.")
    published = catalog.record(item.name)
    if published is not None and not _diff(published.to_json(), checked.record.to_json()):
        abort(409, description="The submission does not change the published version; reject it instead.")
    catalog.write([(checked.record.name, checked.graph)], Change(current_curator(), reason, "curator"))
    curation().decide(item.id, "accepted", current_curator(), reason)
    log.info("curator %s accepted submission %s as %s", current_curator(), item.id, item.name)
    return _done(f"Published {item.name}.", url_for("pages.dataset", name=item.name))


@curate.post("/submissions/<submission_id>/reject")
@curator_required
def reject_submission(submission_id: str):
    item = _submission(submission_id, pending=True)
    reason = _reason()
    curation().decide(item.id, "rejected", current_curator(), reason)
    log.info("curator %s rejected submission %s", current_curator(), item.id)
    return _done(f"Rejected the submission of {item.name}.", url_for("curate.queue"))


def _diff(published: dict | None, proposed: dict) -> list[dict]:
    """Return the fields whose value the proposed record changes, with the old and the new value."""
    changes = []
    for field in FIELDS:
        old = published.get(field.name) if published else None
        new = proposed.get(field.name)
        if old != new and not (old in (None, [], "") and new in (None, [], "")):
            changes.append({"field": field.label, "name": field.name, "old": _shown(old), "new": _shown(new)})
    return changes


def _shown(value) -> str:
    if value is None or value == []:
        return ""
    if isinstance(value, list):
        return "; ".join(item.get("name", "") if isinstance(item, dict) else str(item) for item in value)
    return str(value)


# Harvest candidates


@curate.get("/candidates/<candidate_id>")
@curator_required
def candidate(candidate_id: str):
    catalog = _catalog()
    iri = _candidate_iri(candidate_id)
    data = harvest_candidates.record_data(catalog, iri)
    data["name"] = harvest_candidates.name_from(data)
    checked = check_data(data, catalog, f"candidate {candidate_id}")
    suggestions = harvest_candidates.suggested_values(catalog, iri)
    if _wants_json():
        return jsonify({"id": candidate_id, "record": data, "suggestions": suggestions, "results": checked.results})
    return render_template("curate_candidate.html", candidate_id=candidate_id, data=data, results=checked.results,
                           suggestions=suggestions, labels={field.name: field.label for field in FIELDS},
                           fields=form_fields(catalog.vocabulary), values=record_to_form_values(data),
                           csrf=csrf_token(), curator=current_curator())


@curate.post("/candidates/<candidate_id>/accept")
@curator_required
def accept_candidate(candidate_id: str):
    catalog = _catalog()
    iri = _candidate_iri(candidate_id)
    reason = _reason()
    data = form_to_data(request.form) if request.form.get("name") else harvest_candidates.record_data(catalog, iri)
    data.setdefault("name", harvest_candidates.name_from(data))
    try:
        harvest_candidates.require_status(catalog, iri, "pending")
        harvest_candidates.require_new(catalog, data)
    except ValueError as error:
        abort(409, description=str(error))
    checked = check_data(data, catalog, f"candidate {candidate_id}")
    if not checked.conforms:
        if _wants_json():
            return jsonify({"message": "The record has violations.", "results": checked.results}), 422
        return render_template("curate_candidate.html", candidate_id=candidate_id, data=data,
                               results=checked.results, fields=form_fields(catalog.vocabulary),
                               suggestions=harvest_candidates.suggested_values(catalog, iri),
                               labels={field.name: field.label for field in FIELDS},
                               values=record_to_form_values(data), csrf=csrf_token(), curator=current_curator()), 422
    catalog.write([(checked.record.name, checked.graph)], Change(current_curator(), reason, "curator"))
    harvest_candidates.set_status(catalog, iri, "accepted", f"published as {checked.record.name}")
    log.info("curator %s accepted candidate %s as %s", current_curator(), candidate_id, checked.record.name)
    return _done(f"Published {checked.record.name}.", url_for("pages.dataset", name=checked.record.name))


@curate.post("/candidates/<candidate_id>/reject")
@curator_required
def reject_candidate(candidate_id: str):
    catalog = _catalog()
    iri = _candidate_iri(candidate_id)
    reason = _reason()
    try:
        harvest_candidates.require_status(catalog, iri, "pending")
    except ValueError as error:
        abort(409, description=str(error))
    harvest_candidates.set_status(catalog, iri, "rejected", reason)
    log.info("curator %s rejected candidate %s", current_curator(), candidate_id)
    return _done(f"Rejected the candidate {candidate_id}.", url_for("curate.queue"))


def _candidate_iri(candidate_id: str):
    try:
        return harvest_candidates.candidate_iri(_catalog().base_url, candidate_id)
    except ValueError as error:
        abort(404, description=str(error))


# Withdrawing


@curate.post("/withdraw")
@curator_required
def withdraw_form():
    return withdraw(request.form.get("name", "").strip())


@curate.post("/datasets/<name>/withdraw")
@curator_required
def withdraw(name: str):
    reason = _reason()
    try:
        _catalog().withdraw(name, Change(current_curator(), reason, "curator"))
    except (LookupError, ValueError) as error:
        abort(404, description=str(error))
    log.info("curator %s withdrew %s", current_curator(), name)
    return _done(f"Withdrew {name}; its page now says why.", url_for("pages.dataset", name=name))

