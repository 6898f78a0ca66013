"""The alert outbox: at-least-once delivery of every alert to webhooks and MQTT.

Durability. For each alert the indexer writes, one outbox document per destination (each
matching webhook subscription, and MQTT when configured) is created in ``<prefix>-deliveries``
as the batch is sent, before its reads and alerts are written (so delivery does not wait for
them) and *before* the journal position of the batch is committed. Its id is
``<alert id>.<destination>``:

- the indexer killed before the outbox write, or before the batch's commit: the batch is read
  again; whatever was written already (outbox entries, alerts) is a 409 no-op, the rest is written;
- killed after the outbox write but before delivery, or during it: the documents are still
  ``pending``; the dispatcher of the next indexer finds them and delivers;
- killed after delivery but before the ``delivered`` state was written: delivered again. The
  receiver de-duplicates by alert id (``Idempotency-Key``); that is the at-least-once contract.

Delivery. A new alert is handed to the dispatcher in memory at once (no polling on the fast
path); failures are retried with exponential back-off (``webhooks.first_retry_s`` doubling to
``webhooks.max_retry_s``) and, after ``webhooks.max_attempts``, the delivery is ``dead``: the
API lists it (``GET /api/v1/deliveries?state=dead``) and an administrator can send it again.
Every ``webhooks.poll_s`` the dispatcher also looks in Elasticsearch for pending deliveries that
are due (retries written by an earlier process, redeliveries asked for in the API).
"""

from __future__ import annotations

import heapq
import logging
import random
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch, helpers
from prometheus_client import Counter, Gauge, Histogram

from anpr_core.elastic.indices import deliveries_index, webhooks_index
from anpr_core.settings import WebhookSettings
from indexer.bulk import BulkBackpressure
from indexer.mqtt import MqttPublisher
from indexer.webhooks import Outcome, post_alert

log = logging.getLogger(__name__)

DELIVERIES = Counter(
    "anpr_alert_deliveries_total", "alert delivery attempts by outcome", ["target", "outcome"]
)
DELIVERY_LATENCY = Histogram(
    "anpr_alert_delivery_seconds", "alert written → delivered (receiver answered 2xx / broker PUBACK)",
    ["target"], buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300),
)  # fmt: skip
PENDING = Gauge("anpr_alert_deliveries_pending", "deliveries queued or in flight in this indexer")
DEAD = Counter(
    "anpr_alert_deliveries_dead_total", "deliveries dead-lettered after the last attempt", ["target"]
)

MQTT_TARGET = "mqtt"
# A delivery settled here is not taken from a scan for this long: the index (refreshed every
# second) may still show it pending. Longer would delay an administrator's redelivery.
RECENT_S = 3.0


def now_utc() -> datetime:
    return datetime.now(UTC)


def subscription_matches(subscription: dict[str, Any], alert: dict[str, Any]) -> bool:
    """Empty filters match everything; otherwise the alert's priority and camera must be listed."""
    if not subscription.get("active", True):
        return False
    priorities, cameras = subscription.get("priorities") or [], subscription.get("cameras") or []
    if priorities and alert.get("priority") not in priorities:
        return False
    return not cameras or alert.get("camera_id") in cameras


def backoff_s(settings: WebhookSettings, attempts: int) -> float:
    """Wait after the `attempts`-th failure: first_retry_s · 2^(attempts-1), capped, ±10 % jitter."""
    wait = min(settings.max_retry_s, settings.first_retry_s * 2 ** max(0, attempts - 1))
    return wait * random.uniform(0.9, 1.1)


class DeliveryOutbox:
    """Creates outbox documents and delivers them; one per indexer process."""

    def __init__(
        self,
        client: Elasticsearch,
        prefix: str,
        settings: WebhookSettings,
        mqtt: MqttPublisher | None = None,
        subscriptions_refresh_s: float = 2.0,
    ) -> None:
        self.client, self.prefix, self.settings, self.mqtt = client, prefix, settings, mqtt
        self.index = deliveries_index(prefix)
        self.subscriptions_refresh_s = subscriptions_refresh_s
        self._subscriptions: dict[str, dict[str, Any]] = {}
        self._subscriptions_at = 0.0
        self._lock = threading.Lock()
        self._wake = threading.Condition(self._lock)
        self._due: list[tuple[float, str]] = []  # (monotonic due time, delivery id)
        self._docs: dict[str, dict[str, Any]] = {}  # queued or in flight, by delivery id
        self._in_flight: set[str] = set()
        # Delivered here lately: the scan may still see them pending until the index refreshes.
        self._recent: dict[str, float] = {}
        self._pool = ThreadPoolExecutor(max_workers=settings.concurrency, thread_name_prefix="deliver")
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._last_scan = 0.0

    # ---- subscriptions ---------------------------------------------------------------------
    def subscriptions(self, force: bool = False) -> dict[str, dict[str, Any]]:
        if force or time.monotonic() - self._subscriptions_at >= self.subscriptions_refresh_s:
            try:
                hits = helpers.scan(
                    self.client, index=webhooks_index(self.prefix), query={"query": {"match_all": {}}}
                )
                self._subscriptions = {hit["_id"]: dict(hit["_source"]) for hit in hits}
                self._subscriptions_at = time.monotonic()
            except (ApiError, TransportError) as exc:
                log.warning("webhook subscriptions not refreshed: %s", exc)
        return self._subscriptions

    # ---- enqueue (indexer send thread, before the journal commit) --------------------------
    def enqueue(self, alerts: Iterable[dict[str, Any]]) -> int:
        """Create the outbox documents of these alerts; raises if Elasticsearch did not take them
        (the indexer then retries the whole batch, its position uncommitted). Returns how many new."""
        alerts = list(alerts)
        if not alerts:
            return 0
        # At most `subscriptions_refresh_s` (2 s) old: a new subscription gets alerts from then on.
        subscriptions = self.subscriptions()
        created_at = now_utc().isoformat()
        docs: list[dict[str, Any]] = []
        for alert in alerts:
            targets = [(f"wh-{sid}", "webhook", sid) for sid, sub in subscriptions.items()
                       if subscription_matches(sub, alert)]  # fmt: skip
            if self.mqtt is not None:
                targets.append((MQTT_TARGET, MQTT_TARGET, None))
            for suffix, target, subscription_id in targets:
                docs.append({
                    "delivery_id": f"{alert['alert_id']}.{suffix}", "alert_id": alert["alert_id"],
                    "target": target, "subscription_id": subscription_id, "state": "pending",
                    "attempts": 0, "next_attempt_at": created_at, "created_at": created_at,
                    "alert_created_at": alert.get("created_at", created_at),
                    "camera_id": alert.get("camera_id"), "priority": alert.get("priority"), "payload": alert,
                })  # fmt: skip
        if not docs:
            return 0
        actions = (
            {"_op_type": "create", "_index": self.index, "_id": d["delivery_id"], "_source": d} for d in docs
        )
        created: list[dict[str, Any]] = []
        failed: list[str] = []
        for (ok, item), doc in zip(
            helpers.streaming_bulk(self.client, actions, raise_on_error=False, raise_on_exception=True),
            docs,
            strict=True,
        ):
            status = item.get("create", {}).get("status", 0)
            if ok:
                created.append(doc)
            elif status != 409:  # 409: this alert's delivery exists already (a replayed batch)
                failed.append(f"{doc['delivery_id']}: {status} {item.get('create', {}).get('error')}")
        if failed:
            raise BulkBackpressure("outbox documents not written: " + "; ".join(failed[:3]))
        self._schedule(created, delay_s=0.0)
        return len(created)

    # ---- the dispatcher --------------------------------------------------------------------
    def start(self) -> DeliveryOutbox:
        self._thread = threading.Thread(target=self._run, name="outbox", daemon=True)
        self._thread.start()
        return self

    def stop(self, wait_s: float = 5.0) -> None:
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
        if self._thread is not None:
            self._thread.join(wait_s)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def pending_here(self) -> int:
        with self._lock:
            return len(self._docs)

    def _schedule(self, docs: Iterable[dict[str, Any]], delay_s: float) -> None:
        with self._wake:
            due = time.monotonic() + delay_s
            for doc in docs:
                if doc["delivery_id"] in self._docs:
                    continue
                self._docs[doc["delivery_id"]] = doc
                heapq.heappush(self._due, (due, doc["delivery_id"]))
            PENDING.set(len(self._docs))
            self._wake.notify_all()

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._stopping:
                    return
                now = time.monotonic()
                ready: list[dict[str, Any]] = []
                while self._due and self._due[0][0] <= now:
                    _, delivery_id = heapq.heappop(self._due)
                    doc = self._docs.get(delivery_id)
                    if doc is not None and delivery_id not in self._in_flight:
                        self._in_flight.add(delivery_id)
                        ready.append(doc)
                next_due = self._due[0][0] - now if self._due else self.settings.poll_s
                if not ready:
                    self._wake.wait(max(0.0, min(next_due, self.settings.poll_s)))
            for doc in ready:
                self._pool.submit(self._attempt, doc)
            if time.monotonic() - self._last_scan >= self.settings.poll_s:
                self._last_scan = time.monotonic()
                self._scan()

    def _scan(self) -> None:
        """Pending deliveries that are due and not already queued here (earlier processes' retries,
        deliveries the indexer was killed before finishing, redeliveries asked for in the API)."""
        cutoff = time.monotonic()
        self._recent = {k: t for k, t in self._recent.items() if cutoff - t < RECENT_S}
        try:
            hits = self.client.search(
                index=self.index, size=500, sort=[{"next_attempt_at": "asc"}],
                query={"bool": {"filter": [{"term": {"state": "pending"}},
                                           {"range": {"next_attempt_at": {"lte": "now"}}}]}},
                ignore_unavailable=True, allow_no_indices=True,
            )["hits"]["hits"]  # fmt: skip
        except (ApiError, TransportError) as exc:
            log.warning("outbox scan failed: %s", exc)
            return
        docs = [dict(hit["_source"]) for hit in hits if hit["_id"] not in self._recent]
        if docs:
            self._schedule(docs, delay_s=0.0)

    def _deliver(self, doc: dict[str, Any]) -> Outcome:
        alert, attempt = doc["payload"], int(doc.get("attempts", 0)) + 1
        if doc["target"] == MQTT_TARGET:
            if self.mqtt is None:
                return Outcome(False, None, "MQTT is not configured in this indexer")
            return self.mqtt.publish_alert(alert, self.settings.timeout_s)
        subscription = self.subscriptions().get(str(doc.get("subscription_id")))
        if subscription is None:
            subscription = self.subscriptions(force=True).get(str(doc.get("subscription_id")))
        if subscription is None:
            return Outcome(False, None, "subscription deleted")
        if not subscription.get("active", True):
            return Outcome(False, None, "subscription disabled")
        return post_alert(
            subscription["url"],
            subscription["secret"],
            doc["delivery_id"],
            alert,
            attempt,
            self.settings.timeout_s,
            doc.get("created_at"),
        )

    def _attempt(self, doc: dict[str, Any]) -> None:
        delivery_id, target = doc["delivery_id"], doc["target"]
        try:
            outcome = self._deliver(doc)
        except Exception as exc:  # a bug in one delivery must not stop the others
            log.exception("delivery %s failed unexpectedly", delivery_id)
            outcome = Outcome(False, None, f"{type(exc).__name__}: {exc}")
        attempts = int(doc.get("attempts", 0)) + 1
        now, settled = now_utc(), time.monotonic()  # back-off counts from here, not after the write
        update: dict[str, Any] = {"attempts": attempts, "updated_at": now.isoformat(),
                                  "last_status": outcome.status, "last_error": outcome.error}  # fmt: skip
        retry_in: float | None = None
        if outcome.ok:
            update.update(state="delivered", delivered_at=now.isoformat())
            DELIVERIES.labels(target, "delivered").inc()
            try:
                written = datetime.fromisoformat(str(doc.get("alert_created_at")))
                DELIVERY_LATENCY.labels(target).observe(max(0.0, (now - written).total_seconds()))
            except ValueError:
                pass
        else:
            DELIVERIES.labels(target, "failed").inc()
            final = attempts >= self.settings.max_attempts or outcome.error == "subscription deleted"
            if final:
                update["state"] = "dead"
                DEAD.labels(target).inc()
                log.error("delivery %s dead after %d attempts: %s", delivery_id, attempts, outcome.error)
            else:
                retry_in = backoff_s(self.settings, attempts)
                update["next_attempt_at"] = (now + timedelta(seconds=retry_in)).isoformat()
                log.warning("delivery %s attempt %d failed (%s); retry in %.1f s",
                            delivery_id, attempts, outcome.error, retry_in)  # fmt: skip
        try:
            self.client.update(index=self.index, id=delivery_id, doc=update)
        except (ApiError, TransportError) as exc:
            # The state stays as it was in Elasticsearch: delivered again later (at least once).
            log.warning("delivery %s state not written: %s", delivery_id, exc)
        with self._wake:
            self._in_flight.discard(delivery_id)
            if retry_in is None:
                self._docs.pop(delivery_id, None)
                self._recent[delivery_id] = time.monotonic()
            else:
                self._docs[delivery_id] = {**doc, **update}
                heapq.heappush(self._due, (settled + retry_in, delivery_id))
            PENDING.set(len(self._docs))
            self._wake.notify_all()
