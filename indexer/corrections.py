"""The watchlist re-matched on corrected reads.

The API records a correction in ``<prefix>-corrections`` with ``rematched: false`` (and has
already re-indexed the read). Here, about once a second, each such correction's read is matched
against the watchlist with its corrected text; a hit is an alert like any other (same id rule:
read id + entry, so the hit the original text had already raised is not raised twice), written
and handed to the outbox, then the correction is marked ``rematched`` with the alerts it raised.
Matching stays in one place, the indexer, with the same matcher and watchlist as live reads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from elastic_transport import TransportError
from elasticsearch import ApiError, Elasticsearch, NotFoundError

from anpr_core.elastic.indices import corrections_index
from anpr_core.reads import PlateRead
from indexer.alerts import alert_document, write_alerts
from indexer.watchlist_matcher import WatchlistIndex

log = logging.getLogger(__name__)


class CorrectionRematcher:
    def __init__(
        self,
        client: Elasticsearch,
        prefix: str,
        watchlist: Callable[[], WatchlistIndex],
        on_alerts: Callable[[list[dict[str, Any]]], object] | None = None,
        every_s: float = 1.0,
    ) -> None:
        self.client, self.prefix, self.watchlist, self.on_alerts = client, prefix, watchlist, on_alerts
        self.every_s = every_s
        self._last = 0.0
        self.alerts_raised = 0

    def maybe_rematch(self) -> int:
        if time.monotonic() - self._last < self.every_s:
            return 0
        self._last = time.monotonic()
        try:
            return self.rematch()
        except (ApiError, TransportError) as exc:
            log.warning("corrections not re-matched now: %s", exc)
            return 0

    def rematch(self) -> int:
        hits = self.client.search(
            index=corrections_index(self.prefix), size=100, sort=[{"at": "asc"}],
            query={"bool": {"filter": [{"term": {"verdict": "corrected"}}, {"term": {"rematched": False}}]}},
            ignore_unavailable=True, allow_no_indices=True,
        )["hits"]["hits"]  # fmt: skip
        raised = 0
        for hit in hits:
            correction = hit["_source"]
            alerts = self._alerts_for(correction)
            if alerts:
                write_alerts(self.client, self.prefix, alerts)
                if self.on_alerts is not None:
                    self.on_alerts(alerts)  # before `rematched`: a crash here re-matches, never loses
            self.client.update(
                index=corrections_index(self.prefix), id=hit["_id"], refresh="wait_for",
                doc={"rematched": True, "rematched_at": datetime.now(UTC).isoformat(),
                     "alerts": [a["alert_id"] for a in alerts]},
            )  # fmt: skip
            raised += len(alerts)
        self.alerts_raised += raised
        return raised

    def _alerts_for(self, correction: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            source = self.client.get(index=correction["read_index"], id=correction["read_id"])["_source"]
        except NotFoundError:
            return []  # the read is gone (retention): nothing to match
        fields = {key: source[key] for key in PlateRead.model_fields if key in source}
        fields["plate"] = correction["corrected_plate"]
        read = PlateRead.model_validate(fields)
        alerts = []
        for match in self.watchlist().match(read):
            alert = alert_document(read, match)
            alert["from_correction"] = correction.get("correction_id")
            alerts.append(alert)
        return alerts
