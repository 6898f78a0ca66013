"""One webhook POST: the alert as JSON, signed so the receiver can trust and de-duplicate it.

Headers (docs/api.md, "Webhooks"):

- ``X-ANPR-Timestamp``: Unix seconds when this attempt was signed; a receiver refuses old ones
  (replay protection), e.g. more than 5 minutes off its clock;
- ``X-ANPR-Signature``: ``sha256=`` + hex HMAC-SHA256 over ``<timestamp>.<body bytes>`` with the
  subscription's secret;
- ``Idempotency-Key``: the alert id; every attempt and every redelivery of one alert carries the
  same key, so the receiver keeps the first and acknowledges the rest;
- ``X-ANPR-Delivery``: the delivery id (alert + subscription), ``X-ANPR-Attempt``: 1, 2, …
"""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from dataclasses import dataclass
from typing import Any

import orjson
import requests

SIGNATURE_HEADER = "X-ANPR-Signature"
TIMESTAMP_HEADER = "X-ANPR-Timestamp"
_local = threading.local()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(secret: str, headers: Any, body: bytes, max_age_s: float = 300.0) -> bool:
    """What a receiver does (and the tests do): signature matches and the timestamp is fresh."""
    timestamp = headers.get(TIMESTAMP_HEADER, "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > max_age_s:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), headers.get(SIGNATURE_HEADER, ""))


@dataclass(frozen=True)
class Outcome:
    ok: bool
    status: int | None = None
    error: str | None = None


def _session() -> requests.Session:
    # One keep-alive connection pool per delivery thread: no TCP handshake per alert.
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def post_alert(
    url: str,
    secret: str,
    delivery_id: str,
    alert: dict[str, Any],
    attempt: int,
    timeout_s: float,
    queued_at: str | None = None,
) -> Outcome:
    # `queued_at`: when the alert entered the outbox (stored in Elasticsearch), for the receiver's
    # own latency figures.
    body = orjson.dumps(
        {"event": "alert", "delivery_id": delivery_id, "queued_at": queued_at, "alert": alert}
    )
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "anpr-alerts/1",
        "X-ANPR-Event": "alert",
        "X-ANPR-Delivery": delivery_id,
        "X-ANPR-Attempt": str(attempt),
        "Idempotency-Key": str(alert["alert_id"]),
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(secret, timestamp, body),
    }
    try:
        response = _session().post(url, data=body, headers=headers, timeout=timeout_s, allow_redirects=False)
    except requests.RequestException as exc:
        return Outcome(False, None, f"{type(exc).__name__}: {exc}"[:500])
    if 200 <= response.status_code < 300:
        return Outcome(True, response.status_code)
    # Any other answer (a 500, a 429, a redirect, a 4xx from a misconfigured receiver) is retried
    # with back-off and dead-lettered after the last attempt, where an administrator sees it.
    return Outcome(False, response.status_code, f"HTTP {response.status_code}: {response.text[:200]}")
