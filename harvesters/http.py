"""The HTTP client that every harvester uses: allow-listed API hosts, timeouts, retries and rate limits.

`HarvestClient` only requests URLs under its configured API base URLs, so a link found in harvested
metadata (a "next" page, a file URL, a redirect) is never fetched unless it points into one of them.
It retries connection errors, timeouts, 429 and 5xx with exponential backoff, spaces the requests to
each host, bounds the size of every response and parses JSON or XML. Every failure is raised as
`HarvestError` (or its subclass `HttpStatusError`) naming the full URL, query string included.

It is built on `urllib.request` from the standard library.
"""

from __future__ import annotations

import email.utils
import http
import http.client
import json
import logging
import math
import random
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.message import Message
from importlib import metadata
from typing import Any
from xml.parsers import expat

from harvesters.model import HarvestError

log = logging.getLogger("umud.harvest")

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
MAX_REDIRECTS = 5
CHUNK_SIZE = 64 * 1024
EXCERPT_LENGTH = 200  # characters of an error body quoted in an exception message

QueryParams = dict[str, Any] | list[tuple[str, str]] | None


def _package_version() -> str:
    try:
        return metadata.version("umud")
    except metadata.PackageNotFoundError:
        return "0+unknown"


USER_AGENT = f"UMUD-harvester/{_package_version()}"


class HttpStatusError(HarvestError):
    """An HTTP error status, with the status code and the response body (at most `max_bytes`)."""

    def __init__(self, url: str, reason: str, *, status: int | None = None, body: bytes | None = None):
        super().__init__(url, reason)
        self.status = status
        self.body = body


@dataclass(frozen=True)
class _Response:
    url: str
    status: int
    reason: str
    headers: Message
    body: bytes
    truncated: bool


class _TransientError(Exception):
    """A failed attempt that may succeed when repeated: carries the error to raise and the server's wait."""

    def __init__(self, error: HarvestError, retry_after: float | None = None):
        super().__init__(error.reason)
        self.error = error
        self.retry_after = retry_after


@dataclass(frozen=True)
class _BaseUrl:
    """One allowed API base: scheme, host and port must match, and the path must lie under `path`."""

    scheme: str
    host: str
    port: int
    path: str  # without a trailing slash, so "" allows every path on the host
    text: str = field(default="", compare=False)  # the URL as configured, for messages

    @classmethod
    def parse(cls, url: str) -> _BaseUrl:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"invalid API base URL {url!r}: expected an absolute http or https URL")
        if parts.username is not None or parts.query or parts.fragment:
            raise ValueError(f"invalid API base URL {url!r}: it must not contain credentials, a query or a fragment")
        return cls(parts.scheme, parts.hostname, _port_of(parts), parts.path.rstrip("/"), url)

    def contains(self, parts: urllib.parse.SplitResult) -> bool:
        if (parts.scheme, parts.hostname, _port_of(parts)) != (self.scheme, self.host, self.port):
            return False
        return parts.path == self.path or parts.path.startswith(self.path + "/")

    def __str__(self) -> str:
        return self.text


def _port_of(parts: urllib.parse.SplitResult) -> int:
    """Return the explicit port or the scheme's default. Raises ValueError for a port out of range."""
    if parts.port is not None:
        return parts.port
    return 443 if parts.scheme == "https" else 80


class HarvestClient:
    """HTTP GET client for the harvesters' APIs. The module docstring lists what it guarantees.

    `timeout` is in seconds and applies to connecting and to each read from the socket. A request
    is tried at most `max_retries + 1` times. `backoff` is the first retry's wait in seconds, doubled
    for each further retry and capped at `max_backoff`. `requests_per_minute` maps a host name
    (e.g. "zenodo.org") to the maximum request rate sent to it; hosts not listed are not limited.
    `sleep` and `clock` are injectable so tests can record waits instead of sleeping.
    """

    def __init__(
        self,
        allowed_base_urls: Iterable[str],
        *,
        timeout: float = 30.0,
        max_retries: int = 4,
        backoff: float = 1.0,
        max_backoff: float = 60.0,
        max_bytes: int = 50 * 1024 * 1024,
        requests_per_minute: dict[str, float] | None = None,
        user_agent: str = USER_AGENT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.allowed_base_urls = tuple(_BaseUrl.parse(url) for url in allowed_base_urls)
        if not self.allowed_base_urls:
            raise ValueError("at least one API base URL is required")
        for name, value in (("timeout", timeout), ("max_bytes", max_bytes)):
            if not value > 0:
                raise ValueError(f"{name} must be positive, not {value!r}")
        for name, value in (("max_retries", max_retries), ("backoff", backoff), ("max_backoff", max_backoff)):
            if not value >= 0:
                raise ValueError(f"{name} must not be negative, not {value!r}")

        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_bytes = max_bytes
        self.user_agent = user_agent
        self.requests_made = 0

        self._intervals: dict[str, float] = {}
        for host, rate in (requests_per_minute or {}).items():
            if not rate > 0:
                raise ValueError(f"requests_per_minute for {host!r} must be positive, not {rate!r}")
            self._intervals[host.lower()] = 60.0 / rate
        self._next_slot: dict[str, float] = {}
        self._lock = threading.Lock()
        self._sleep = sleep
        self._clock = clock
        self._random = random.Random()

        # No HTTPRedirectHandler, so redirects are followed here after the allow-list check, and no
        # HTTPErrorProcessor, so every status arrives as a response instead of an exception.
        self._opener = urllib.request.OpenerDirector()
        for handler in (
            urllib.request.ProxyHandler(),
            urllib.request.HTTPHandler(),
            urllib.request.HTTPSHandler(context=ssl.create_default_context()),
        ):
            self._opener.add_handler(handler)

    # Public interface

    def get_json(self, url: str, params: QueryParams = None, *, accept: str = "application/json") -> Any:
        """Fetch `url` and parse the body as JSON."""
        full_url = build_url(url, params)
        body = self._fetch(full_url, accept)
        try:
            return json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise self._log_failure(HarvestError(full_url, f"malformed JSON: {error}")) from error
        except RecursionError as error:
            raise self._log_failure(HarvestError(full_url, "malformed JSON: nested too deeply")) from error

    def get_xml(self, url: str, params: QueryParams = None, *, accept: str = "application/xml, text/xml") -> ET.Element:
        """Fetch `url` and parse the body as XML. A document with a DTD is rejected."""
        full_url = build_url(url, params)
        body = self._fetch(full_url, accept)
        try:
            return parse_xml(body)
        except DtdRejectedError as error:
            raise self._log_failure(HarvestError(full_url, str(error))) from error
        except ValueError as error:
            raise self._log_failure(HarvestError(full_url, f"malformed XML: {error}")) from error

    def get_bytes(self, url: str, params: QueryParams = None, *, accept: str = "*/*") -> bytes:
        """Fetch `url` and return the body."""
        return self._fetch(build_url(url, params), accept)

    def is_allowed(self, url: str) -> bool:
        """Return whether `url` lies under one of the allowed API base URLs."""
        try:
            self._check_allowed(url, url)
        except HarvestError:
            return False
        return True

    # Requests, retries and redirects

    def _fetch(self, url: str, accept: str) -> bytes:
        """Return the body of a successful response to GET `url`, retrying transient failures."""
        attempts = self.max_retries + 1
        for attempt in range(1, attempts + 1):
            try:
                self._check_allowed(url, url)
                return self._fetch_following_redirects(url, accept)
            except _TransientError as failure:
                if attempt == attempts:
                    log.error("GET %s failed after %d attempts: %s", url, attempts, failure.error.reason)
                    raise failure.error from failure.__cause__
                wait = self._retry_wait(attempt, failure.retry_after)
                log.warning("GET %s: %s (attempt %d of %d); retrying in %.1f s",
                            url, failure.error.reason, attempt, attempts, wait)
                self._sleep(wait)
            except HarvestError as error:
                self._log_failure(error)
                raise
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _fetch_following_redirects(self, url: str, accept: str) -> bytes:
        current = url
        for _ in range(MAX_REDIRECTS + 1):
            response = self._request(url, current, accept)
            if 200 <= response.status < 300:
                return response.body
            if response.status in REDIRECT_STATUSES and response.headers.get("Location"):
                target = urllib.parse.urljoin(current, response.headers["Location"].strip())
                self._check_allowed(url, target, what="redirect target")
                log.debug("GET %s: HTTP %d redirect to %s", current, response.status, target)
                current = target
                continue
            raise self._status_error(url, response)
        raise HarvestError(url, f"more than {MAX_REDIRECTS} redirects, the last one to {current}")

    def _request(self, url: str, current: str, accept: str) -> _Response:
        """Send one GET for `current` (reached from `url`) and read the body within `max_bytes`."""
        self._wait_for_turn(urllib.parse.urlsplit(current).hostname or "")
        request = urllib.request.Request(current, headers={"User-Agent": self.user_agent, "Accept": accept})
        with self._lock:
            self.requests_made += 1
        log.debug("GET %s", current)

        # NOTE: the timeout bounds connecting and each socket read, not the whole response, so a
        # server that keeps sending a few bytes at a time is stopped only by max_bytes.
        try:
            with self._opener.open(request, timeout=self.timeout) as raw:
                success = 200 <= raw.status < 300
                body, truncated = self._read_body(url, raw, reject_oversized=success)
                return _Response(current, raw.status, raw.reason, raw.headers, body, truncated)
        except (OSError, http.client.HTTPException) as error:
            reason = self._describe_transport_error(error)
            if _is_certificate_error(error):
                raise HarvestError(url, reason) from error
            raise _TransientError(HarvestError(url, reason)) from error

    def _read_body(self, url: str, raw: http.client.HTTPResponse, *, reject_oversized: bool) -> tuple[bytes, bool]:
        """Read at most `max_bytes` of the body in chunks.

        A larger body raises HarvestError when `reject_oversized` is set. Otherwise it is cut off
        and reported as truncated, which is enough for an error body.
        """
        too_large = HarvestError(url, f"response larger than {self.max_bytes} bytes")
        declared = raw.headers.get("Content-Length", "").strip()
        if reject_oversized and declared.isdigit() and int(declared) > self.max_bytes:
            raise too_large

        chunks: list[bytes] = []
        received = 0
        while True:
            # Reading one byte beyond the limit distinguishes an exact fit from an oversized body.
            chunk = raw.read(min(CHUNK_SIZE, self.max_bytes + 1 - received))
            if not chunk:
                return b"".join(chunks), False
            received += len(chunk)
            if received > self.max_bytes:
                if reject_oversized:
                    raise too_large
                chunks.append(chunk[: len(chunk) - (received - self.max_bytes)])
                return b"".join(chunks), True
            chunks.append(chunk)

    def _status_error(self, url: str, response: _Response) -> HttpStatusError | _TransientError:
        """Build the error for a non-success status: transient for 429 and 5xx, final otherwise."""
        phrase = response.reason or _standard_phrase(response.status)
        reason = f"HTTP {response.status} {phrase}".rstrip()
        excerpt = _excerpt(response.body, response.truncated)
        if excerpt:
            reason += f": {excerpt}"
        if response.url != url:
            reason += f" (after a redirect to {response.url})"
        error = HttpStatusError(url, reason, status=response.status, body=response.body)

        if response.status == 429 or response.status >= 500:
            retry_after = None
            if response.status in (429, 503):
                retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return _TransientError(error, retry_after)
        return error

    def _retry_wait(self, attempt: int, retry_after: float | None) -> float:
        """Return the wait in seconds before retry number `attempt` (1-based)."""
        if retry_after is not None:
            return min(retry_after, self.max_backoff)
        # "Equal jitter": a random wait between half and all of the capped exponential delay, so
        # several clients that failed together do not retry in lockstep.
        delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
        return delay / 2 + self._random.uniform(0, delay / 2)

    def _wait_for_turn(self, host: str) -> None:
        """Sleep until `host` may receive another request under its requests-per-minute limit."""
        interval = self._intervals.get(host.lower())
        if interval is None:
            return
        with self._lock:
            now = self._clock()
            slot = max(now, self._next_slot.get(host.lower(), now))
            self._next_slot[host.lower()] = slot + interval
        if slot > now:
            self._sleep(slot - now)

    # Checks and messages

    def _check_allowed(self, url: str, target: str, *, what: str = "URL") -> None:
        """Raise HarvestError for `url` unless `target` lies under an allowed API base URL."""
        if any(ord(character) <= 0x20 or ord(character) == 0x7F for character in target):
            raise HarvestError(url, f"invalid {what} {target!r}: it contains whitespace or control characters")
        try:
            parts = urllib.parse.urlsplit(target)
            _port_of(parts)
        except ValueError as error:
            raise HarvestError(url, f"invalid {what} {target!r}: {error}") from error

        if parts.username is not None:
            # The credentials are left out of the error, because errors are logged.
            redacted = urllib.parse.urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))
            raise HarvestError(redacted if url == target else url,
                               f"{what} {redacted} contains credentials (user:password@), which are not sent")

        segments = urllib.parse.unquote(parts.path).split("/")
        allowed = (
            "." not in segments
            and ".." not in segments
            and any(base.contains(parts) for base in self.allowed_base_urls)
        )
        if not allowed:
            bases = ", ".join(str(base) for base in self.allowed_base_urls)
            raise HarvestError(url, f"{what} {target} is not one of the configured API hosts ({bases})")

    def _describe_transport_error(self, error: OSError | http.client.HTTPException) -> str:
        cause = error.reason if isinstance(error, urllib.error.URLError) else error
        if isinstance(cause, TimeoutError):
            return f"request timed out after {self.timeout:g} s"
        return f"connection failed: {cause}"

    def _log_failure(self, error: HarvestError) -> HarvestError:
        """Log a failure that is about to be raised, and return it.

        A 4xx status is logged as a warning, because callers often expect some (a 404 for a deleted
        record, an OAI-PMH error document) and decide themselves whether it is an error.
        """
        client_error = isinstance(error, HttpStatusError) and error.status is not None and 400 <= error.status < 500
        log.log(logging.WARNING if client_error else logging.ERROR, "GET %s failed: %s", error.url, error.reason)
        return error


def build_url(url: str, params: QueryParams) -> str:
    """Append `params` to the query string of `url` (percent-encoded, repeated keys kept in order)."""
    if not params:
        return url
    query = urllib.parse.urlencode(params, doseq=True)
    base, _, fragment = url.partition("#")
    if urllib.parse.urlsplit(base).query:
        separator = "&"
    elif base.endswith("?"):
        separator = ""
    else:
        separator = "?"
    return f"{base}{separator}{query}" + (f"#{fragment}" if fragment else "")


def parse_retry_after(value: str | None) -> float | None:
    """Return the wait in seconds from a Retry-After header (seconds or an HTTP date), or None if invalid."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return seconds if math.isfinite(seconds) and seconds >= 0 else None

    try:
        date = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if date.tzinfo is None:
        date = date.replace(tzinfo=timezone.utc)
    return max(0.0, (date - datetime.now(timezone.utc)).total_seconds())


class DtdRejectedError(ValueError):
    """An XML document with a document type declaration, rejected because of the entities it may declare."""


def parse_xml(data: bytes) -> ET.Element:
    """Parse an XML document into an ElementTree element. Raises ValueError if it is malformed or has a DTD.

    Expat reports the document type declaration before it reads any entity declaration, so raising
    there rejects internal and external entities (billion laughs, XXE) before any is expanded.
    Element and attribute names use ElementTree's "{namespace}local" form. Comments and processing
    instructions are dropped, as `xml.etree.ElementTree.fromstring` does.
    """
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate(namespace_separator="}")
    parser.buffer_text = True

    def qualify(name: str) -> str:
        return "{" + name if "}" in name else name

    def reject_dtd(*_args: object) -> None:
        raise DtdRejectedError("XML with a document type declaration (DTD) is not accepted, "
                               "because its entities could expand without bound or read local files")

    def start(name: str, attributes: dict[str, str]) -> None:
        builder.start(qualify(name), {qualify(key): value for key, value in attributes.items()})

    parser.StartDoctypeDeclHandler = reject_dtd
    parser.EntityDeclHandler = reject_dtd
    parser.StartElementHandler = start
    parser.EndElementHandler = lambda name: builder.end(qualify(name))
    parser.CharacterDataHandler = builder.data

    try:
        parser.Parse(data, True)
    except expat.ExpatError as error:
        raise ValueError(str(error)) from error
    return builder.close()


def _excerpt(body: bytes, truncated: bool) -> str:
    text = " ".join(body.decode("utf-8", errors="replace").split())
    if len(text) > EXCERPT_LENGTH or truncated:
        return text[:EXCERPT_LENGTH] + "…"
    return text


def _standard_phrase(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""


def _is_certificate_error(error: BaseException) -> bool:
    cause = error.reason if isinstance(error, urllib.error.URLError) else error
    return isinstance(cause, ssl.SSLCertVerificationError)
