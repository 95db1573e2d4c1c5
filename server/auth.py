"""Curator sign-in, CSRF protection and rate limits.

A curator signs in with a password and gets a session cookie (signed by Flask, HttpOnly,
SameSite=Lax). Every POST made with that session must carry the session's CSRF token, in the
form field `csrf_token` or the header `X-CSRF-Token`. Scripts send `Authorization: Bearer TOKEN`
with a token from `umud curator token NAME` instead, and need no CSRF token, because a browser
never adds that header by itself.
"""

from __future__ import annotations

import functools
import hmac
import secrets
import threading
import time
from collections import deque

from flask import abort, current_app, g, request, session

from catalog.curation import Curation

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


def curation() -> Curation:
    return current_app.extensions["umud_curation"]


def current_curator() -> str | None:
    """Return the signed-in curator of this request (by session or API token), or None."""
    if "curator" in g:
        return g.curator
    name = None
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        name = curation().token_curator(header.removeprefix("Bearer ").strip())
        g.by_token = name is not None
    elif session.get("curator") and curation().is_curator(session["curator"]):
        name = session["curator"]
    g.curator = name
    return name


def csrf_token() -> str:
    """Return this session's CSRF token, making one on first use."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return session[CSRF_FIELD]


def check_csrf() -> None:
    """Reject a state-changing request of a session without the session's CSRF token (403)."""
    if g.get("by_token"):
        return
    sent = request.form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER) or ""
    expected = session.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(sent, expected):
        abort(403, description="The form's security token is missing or out of date. Reload the page and try again.")


def sign_in(name: str) -> None:
    session.clear()
    session["curator"] = name
    session.permanent = True
    csrf_token()


def sign_out() -> None:
    session.clear()


def curator_required(view):
    """Let only signed-in curators through: 401 for API clients, a redirect to sign in for browsers."""
    @functools.wraps(view)
    def wrapped(*args, **kwargs):
        if current_curator() is None:
            from flask import redirect, url_for

            from .negotiation import accepted

            if accepted().best_match(["text/html", "application/json"]) == "text/html" and request.method == "GET":
                return redirect(url_for("curate.sign_in_page", next=request.full_path.rstrip("?")))
            abort(401, description="Sign in as a curator, or send an API token as 'Authorization: Bearer TOKEN'.")
        if request.method == "POST":
            check_csrf()
        return view(*args, **kwargs)
    return wrapped


class RateLimiter:
    """At most `limit` requests per client in any `window` seconds (a sliding window in memory)."""

    def __init__(self, limit: int, window: float):
        self.limit = limit
        self.window = window
        self._times: dict[str, deque] = {}
        self._lock = threading.Lock()

    def retry_after(self, client: str, record: bool = True) -> int:
        """Return 0 when `client` may make a request, else the seconds to wait.

        With `record`, an allowed request counts against the limit at once; otherwise the caller
        counts it later with `count`, for example only once a submission has been accepted.
        """
        now = time.monotonic()
        with self._lock:
            times = self._times.setdefault(client, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            if len(times) >= self.limit:
                return max(1, int(times[0] + self.window - now) + 1)
            if record:
                times.append(now)
            if len(self._times) > 10_000:
                # Forget idle clients so the table cannot grow without bound.
                for key in [key for key, value in self._times.items() if not value]:
                    del self._times[key]
            return 0

    def count(self, client: str) -> None:
        """Count a request of `client` against the limit."""
        with self._lock:
            self._times.setdefault(client, deque()).append(time.monotonic())
