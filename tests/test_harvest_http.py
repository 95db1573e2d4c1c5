"""HarvestClient against a real HTTP server on 127.0.0.1 (pytest-httpserver).

Waits are recorded by a fake clock and sleep instead of being slept, so retries and rate limits
cost no real time. Only the timeout test waits for real, for about one second.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest
from werkzeug import Request, Response

from harvesters.http import HarvestClient, HttpStatusError, build_url, parse_retry_after, parse_xml
from harvesters.model import HarvestError

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
OAI_RESPONSE = f"""<?xml version="1.0" encoding="UTF-8"?>
<OAI-PMH xmlns="{OAI_NS}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <responseDate>2024-05-01T10:00:00Z</responseDate>
  <request verb="ListRecords" metadataPrefix="oai_datacite">https://zenodo.org/oai2d</request>
  <ListRecords>
    <record><header><identifier>oai:zenodo.org:2598553</identifier></header></record>
    <resumptionToken completeListSize="2" xml:lang="en">token-1</resumptionToken>
  </ListRecords>
</OAI-PMH>
"""

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<lolz>&lol3;</lolz>
"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE record [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<record>&secret;</record>
"""


class FakeTime:
    """A clock that only moves when `sleep` is called, and records every wait."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def make_client(httpserver, fake_time):
    """Build a HarvestClient allowed to request the test server's /api/ path, with fake time."""

    def make(**options) -> HarvestClient:
        options.setdefault("timeout", 5.0)
        return HarvestClient([httpserver.url_for("/api/")], sleep=fake_time.sleep, clock=fake_time.clock, **options)

    return make


def test_get_json_success(httpserver, make_client):
    httpserver.expect_request(
        "/api/records", query_string={"q": "ultrasound", "size": "2"},
        headers={"Accept": "application/json"},
    ).respond_with_json({"hits": {"total": 2}})
    client = make_client()

    data = client.get_json(httpserver.url_for("/api/records"), {"q": "ultrasound", "size": "2"})

    assert data == {"hits": {"total": 2}}
    assert client.requests_made == 1
    request, _ = httpserver.log[0]
    assert request.headers["User-Agent"].startswith("UMUD-harvester/")


def test_get_xml_success(httpserver, make_client):
    httpserver.expect_request(
        "/api/oai2d", query_string="verb=ListRecords&metadataPrefix=oai_datacite",
    ).respond_with_data(OAI_RESPONSE, content_type="text/xml")
    client = make_client()

    root = client.get_xml(httpserver.url_for("/api/oai2d"),
                          [("verb", "ListRecords"), ("metadataPrefix", "oai_datacite")])

    assert root.tag == f"{{{OAI_NS}}}OAI-PMH"
    identifier = root.find("oai:ListRecords/oai:record/oai:header/oai:identifier", {"oai": OAI_NS})
    assert identifier is not None
    assert identifier.text == "oai:zenodo.org:2598553"
    token = root.find(f"{{{OAI_NS}}}ListRecords/{{{OAI_NS}}}resumptionToken")
    assert token.text == "token-1"
    assert token.get("completeListSize") == "2"
    assert token.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"
    request, _ = httpserver.log[0]
    assert request.headers["Accept"] == "application/xml, text/xml"


def test_get_bytes_success(httpserver, make_client):
    payload = bytes(range(256)) * 1000
    httpserver.expect_request("/api/files/scan.bin").respond_with_data(payload)

    assert make_client().get_bytes(httpserver.url_for("/api/files/scan.bin")) == payload


def test_429_honours_retry_after(httpserver, make_client, fake_time):
    httpserver.expect_ordered_request("/api/records").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "2"})
    httpserver.expect_ordered_request("/api/records").respond_with_json({"ok": True})
    client = make_client()

    assert client.get_json(httpserver.url_for("/api/records")) == {"ok": True}
    assert fake_time.sleeps == [2.0]
    assert client.requests_made == 2


def test_retry_after_capped_at_max_backoff(httpserver, make_client, fake_time):
    later = format_datetime(datetime.now(timezone.utc) + timedelta(hours=1), usegmt=True)
    httpserver.expect_ordered_request("/api/records").respond_with_data(
        "maintenance", status=503, headers={"Retry-After": later})
    httpserver.expect_ordered_request("/api/records").respond_with_json([])

    assert make_client(max_backoff=5.0).get_json(httpserver.url_for("/api/records")) == []
    assert fake_time.sleeps == [5.0]


def test_5xx_retried_until_success(httpserver, make_client, fake_time):
    for status in (500, 502, 503):
        httpserver.expect_ordered_request("/api/records").respond_with_data("oops", status=status)
    httpserver.expect_ordered_request("/api/records").respond_with_json({"ok": True})
    client = make_client(backoff=1.0, max_backoff=3.0)

    assert client.get_json(httpserver.url_for("/api/records")) == {"ok": True}
    assert client.requests_made == 4
    assert len(fake_time.sleeps) == 3
    # Equal jitter: between half and all of 1, 2 and then 4 s capped at 3 s.
    for wait, delay in zip(fake_time.sleeps, (1.0, 2.0, 3.0)):
        assert delay / 2 <= wait <= delay


def test_persistent_500_raises_after_max_retries(httpserver, make_client, fake_time, caplog):
    httpserver.expect_request("/api/records").respond_with_data("database unavailable", status=500)
    client = make_client(max_retries=2)
    url = httpserver.url_for("/api/records")

    with caplog.at_level(logging.WARNING, logger="umud.harvest"):
        with pytest.raises(HttpStatusError) as caught:
            client.get_json(url, {"page": "3"})

    assert caught.value.status == 500
    assert "HTTP 500" in str(caught.value)
    assert "database unavailable" in str(caught.value)
    assert caught.value.url == url + "?page=3"
    assert len(httpserver.log) == 3
    assert len(fake_time.sleeps) == 2
    retries = [record for record in caplog.records if record.levelno == logging.WARNING]
    failures = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert len(retries) == 2
    assert "attempt 1 of 3" in retries[0].getMessage()
    assert len(failures) == 1
    assert url + "?page=3" in failures[0].getMessage()


def test_404_not_retried(httpserver, make_client, fake_time):
    body = b'<?xml version="1.0"?><OAI-PMH><error code="idDoesNotExist"/></OAI-PMH>'
    httpserver.expect_request("/api/oai2d").respond_with_data(body, status=404)
    client = make_client()

    with pytest.raises(HttpStatusError) as caught:
        client.get_xml(httpserver.url_for("/api/oai2d"), {"verb": "GetRecord"})

    assert caught.value.status == 404
    assert caught.value.body == body
    assert "HTTP 404 NOT FOUND" in str(caught.value).upper()
    assert client.requests_made == 1
    assert fake_time.sleeps == []


def test_truncated_json_rejected(httpserver, make_client):
    httpserver.expect_request("/api/records").respond_with_data('{"hits": [1, 2', content_type="application/json")

    with pytest.raises(HarvestError, match="malformed JSON"):
        make_client().get_json(httpserver.url_for("/api/records"))


def test_oversized_body_rejected(httpserver, make_client):
    httpserver.expect_request("/api/records").respond_with_data(json.dumps(["x" * 100] * 100))
    client = make_client(max_bytes=1000)

    with pytest.raises(HarvestError, match="response larger than 1000 bytes"):
        client.get_json(httpserver.url_for("/api/records"))
    assert client.requests_made == 1


def test_oversized_stream_without_length_cut_off(httpserver, make_client):
    def stream(request: Request) -> Response:
        def chunks():
            for _ in range(1000):
                yield b"x" * 1024

        return Response(chunks(), content_type="application/octet-stream")

    httpserver.expect_request("/api/files/big").respond_with_handler(stream)

    with pytest.raises(HarvestError, match="response larger than 4096 bytes"):
        make_client(max_bytes=4096).get_bytes(httpserver.url_for("/api/files/big"))


def test_body_of_exactly_max_bytes_accepted(httpserver, make_client):
    httpserver.expect_request("/api/files/exact").respond_with_data(b"y" * 4096)

    assert make_client(max_bytes=4096).get_bytes(httpserver.url_for("/api/files/exact")) == b"y" * 4096


def test_slow_answer_times_out(httpserver, make_client, fake_time):
    release = threading.Event()

    def slow(request: Request) -> Response:
        release.wait(2.0)
        return Response("{}", content_type="application/json")

    httpserver.expect_request("/api/slow").respond_with_handler(slow)
    client = make_client(timeout=0.5, max_retries=1)

    started = time.monotonic()
    try:
        with pytest.raises(HarvestError, match="timed out after 0.5 s"):
            client.get_json(httpserver.url_for("/api/slow"))
    finally:
        release.set()
    elapsed = time.monotonic() - started

    # The server handles one request at a time, so wait until it has responded to both before the next
    # test clears its log.
    deadline = time.monotonic() + 5.0
    while len(httpserver.log) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)

    assert client.requests_made == 2
    assert len(fake_time.sleeps) == 1
    assert elapsed < 1.9


def test_url_outside_allowed_bases_not_requested(httpserver, make_client):
    client = make_client()
    outside = [
        httpserver.url_for("/admin"),
        httpserver.url_for("/apiv2/records"),
        httpserver.url_for("/api/../admin"),
        httpserver.url_for("/api/%2e%2e/admin"),
        httpserver.url_for("/api/records").replace("http://", "https://"),
        f"http://127.0.0.2:{httpserver.port}/api/records",
        "file:///etc/passwd",
    ]

    for url in outside:
        with pytest.raises(HarvestError, match="is not one of the configured API hosts") as caught:
            client.get_json(url, {"page": "2"})
        assert caught.value.url == url + "?page=2"

    with pytest.raises(HarvestError, match="contains credentials") as caught:
        client.get_json(f"http://user:secret@127.0.0.1:{httpserver.port}/api/records")
    assert "secret" not in str(caught.value)

    assert client.requests_made == 0
    assert len(httpserver.log) == 0
    assert not client.is_allowed(outside[0])
    assert client.is_allowed(httpserver.url_for("/api/records?page=2"))


def test_redirect_within_base_followed(httpserver, make_client):
    httpserver.expect_request("/api/old").respond_with_data(
        "", status=301, headers={"Location": "/api/new?page=1"})
    httpserver.expect_request("/api/new", query_string="page=1").respond_with_json({"moved": True})
    client = make_client()

    assert client.get_json(httpserver.url_for("/api/old")) == {"moved": True}
    assert client.requests_made == 2


def test_redirect_to_other_host_rejected(httpserver, make_client):
    target = f"http://127.0.0.2:{httpserver.port}/api/records"
    httpserver.expect_request("/api/records").respond_with_data("", status=302, headers={"Location": target})
    client = make_client()

    with pytest.raises(HarvestError, match="is not one of the configured API hosts") as caught:
        client.get_json(httpserver.url_for("/api/records"))

    assert target in str(caught.value)
    assert client.requests_made == 1
    assert len(httpserver.log) == 1


def test_rate_limit_spaces_requests(httpserver, make_client, fake_time):
    httpserver.expect_request("/api/records").respond_with_json({})
    client = make_client(requests_per_minute={"127.0.0.1": 60})

    for _ in range(5):
        client.get_json(httpserver.url_for("/api/records"))

    assert fake_time.sleeps == pytest.approx([1.0, 1.0, 1.0, 1.0])
    assert client.requests_made == 5


def test_rate_limit_counts_elapsed_time(httpserver, make_client, fake_time):
    httpserver.expect_request("/api/records").respond_with_json({})
    client = make_client(requests_per_minute={"127.0.0.1": 30})

    client.get_json(httpserver.url_for("/api/records"))
    fake_time.now += 1.5
    client.get_json(httpserver.url_for("/api/records"))
    fake_time.now += 5.0
    client.get_json(httpserver.url_for("/api/records"))

    assert fake_time.sleeps == pytest.approx([0.5])


def test_rate_limit_ignores_other_hosts(httpserver, make_client, fake_time):
    httpserver.expect_request("/api/records").respond_with_json({})
    client = make_client(requests_per_minute={"zenodo.org": 1})

    for _ in range(3):
        client.get_json(httpserver.url_for("/api/records"))

    assert fake_time.sleeps == []


@pytest.mark.parametrize("document", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_xml_with_dtd_rejected(httpserver, make_client, document):
    httpserver.expect_request("/api/oai2d").respond_with_data(document, content_type="text/xml")

    with pytest.raises(HarvestError, match="document type declaration"):
        make_client().get_xml(httpserver.url_for("/api/oai2d"))


def test_xml_with_dtd_in_utf16_rejected():
    with pytest.raises(ValueError, match="document type declaration"):
        parse_xml(BILLION_LAUGHS.replace('version="1.0"', 'version="1.0" encoding="UTF-16"').encode("utf-16"))


def test_malformed_xml_rejected(httpserver, make_client):
    httpserver.expect_request("/api/oai2d").respond_with_data("<OAI-PMH><ListRecords></OAI-PMH>")

    with pytest.raises(HarvestError, match="malformed XML: mismatched tag"):
        make_client().get_xml(httpserver.url_for("/api/oai2d"))


def test_connection_refused_retried(fake_time):
    # The port was free a moment ago. Another process could take it in between, but that is unlikely.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base = f"http://127.0.0.1:{port}/"
    client = HarvestClient([base], max_retries=2, timeout=2.0, sleep=fake_time.sleep, clock=fake_time.clock)

    with pytest.raises(HarvestError, match="connection failed"):
        client.get_bytes(base + "records")

    assert client.requests_made == 3
    assert len(fake_time.sleeps) == 2


def test_build_url_appends_params():
    assert build_url("https://zenodo.org/api/records", {"q": "a b", "type": ["dataset", "software"]}) == (
        "https://zenodo.org/api/records?q=a+b&type=dataset&type=software")
    assert build_url("https://zenodo.org/oai2d?verb=ListRecords", [("resumptionToken", "x/y")]) == (
        "https://zenodo.org/oai2d?verb=ListRecords&resumptionToken=x%2Fy")
    assert build_url("https://zenodo.org/api/records", None) == "https://zenodo.org/api/records"


def test_parse_retry_after_forms():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("-1") is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
    later = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    assert 28.0 <= parse_retry_after(later) <= 30.0


def test_invalid_configuration_rejected():
    with pytest.raises(ValueError):
        HarvestClient([])
    with pytest.raises(ValueError):
        HarvestClient(["ftp://example.org/"])
    with pytest.raises(ValueError):
        HarvestClient(["https://zenodo.org/api/"], requests_per_minute={"zenodo.org": 0})
