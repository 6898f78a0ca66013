"""The storage layout: index templates and mappings for reads, audit, users, watchlist,
alerts and camera health, and the calls that make sure they exist.

One module that the workers, the indexer, the retention job and the API all import, so no
service owns another's storage.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from elasticsearch import BadRequestError, Elasticsearch

from anpr_core.elastic.indices import (
    alerts_index,
    audit_pattern,
    camera_health_index,
    corrections_index,
    deliveries_index,
    people_status_index,
    reads_alias,
    reads_index,
    reads_pattern,
    users_index,
    watchlist_index,
    webhooks_index,
)
from anpr_core.people_events import SNAPSHOT_FIELD

KEYWORD = {"type": "keyword"}
DATE = {"type": "date"}

READ_PROPERTIES: dict[str, Any] = {
    "read_id": KEYWORD,
    "plate": KEYWORD,
    "plate_reversed": KEYWORD,
    "serial": KEYWORD,
    "digits": KEYWORD,
    "use_char": KEYWORD,
    "format": KEYWORD,
    "use": KEYWORD,
    "region": KEYWORD,
    "class_digits": KEYWORD,
    "vehicle_class": KEYWORD,
    "confidence": {"type": "half_float"},
    "alternatives": {"properties": {"plate": KEYWORD, "confidence": {"type": "half_float"}}},
    "camera_id": KEYWORD,
    "first_seen": DATE,
    "last_seen": DATE,
    "best_seen": DATE,
    "direction": KEYWORD,
    "box": {"type": "float", "index": False, "doc_values": False},
    "crop_ref": {"type": "keyword", "index": False, "doc_values": False},
    "frame_ref": {"type": "keyword", "index": False, "doc_values": False},
    "location": {"type": "geo_point"},
    "frames": {"type": "short", "index": False},
    "worker": {"type": "keyword", "index": False, "doc_values": False},
    # A person's correction (issue 21): `plate` and its search fields hold the corrected text,
    # `original_plate` what the recogniser read (still searchable); `reviewed` a verdict exists.
    "original_plate": KEYWORD,
    "corrected": {"type": "boolean"},
    "reviewed": KEYWORD,  # "confirmed" | "corrected"
    "reviewed_by": KEYWORD,
    "reviewed_at": DATE,
}

# People events (issue 23) are alerts too, on the same board, outbox and retention: what they add.
PEOPLE_ALERT_PROPERTIES: dict[str, Any] = {
    "kind": KEYWORD,  # "intrusion" | "loitering" | "density" (a plate alert has none: watchlist)
    "zone": KEYWORD,
    "level": KEYWORD,  # density: 관심/주의/경계/심각
    "event_at": DATE,
    "since": DATE,
    "track_id": {"type": "integer", "index": False},
    "count": {"type": "integer"},
    "density": {"type": "float"},
    # The frame with the zone drawn (JPEG, base64): personal data, served only through the
    # audited snapshot endpoint and never in lists, the live stream, webhooks or MQTT.
    SNAPSHOT_FIELD: {"type": "binary"},
}

_TEMPLATE_PRIORITY = 5


def ensure_indices(client: Elasticsearch, prefix: str) -> None:
    """Install the templates and create the fixed indices; safe to call from every process."""
    _ensure_templates_and_indices(client, prefix)


def ensure_read_index(client: Elasticsearch, prefix: str, seen: datetime) -> str:
    """Create the read index for the month of ``seen`` (the template adds the alias)."""
    name = reads_index(prefix, seen.astimezone(UTC).date())
    if not client.indices.exists(index=name):
        _create(client, name)
    return name


def _ensure_templates_and_indices(client: Elasticsearch, prefix: str) -> None:
    single = {"number_of_shards": 1, "number_of_replicas": 0}
    client.indices.put_index_template(
        name=f"{prefix}-api-reads",
        index_patterns=[reads_pattern(prefix)],
        priority=_TEMPLATE_PRIORITY,
        template={
            # Default (LZ4) codec: a route fetches up to thousands of documents, and
            # best_compression's slower decompression costs more than the disk it saves.
            "settings": {**single, "refresh_interval": "1s"},
            "mappings": {"dynamic": "strict", "properties": READ_PROPERTIES},
            "aliases": {reads_alias(prefix): {}},
        },
    )
    client.indices.put_index_template(
        name=f"{prefix}-api-audit",
        index_patterns=[audit_pattern(prefix)],
        priority=_TEMPLATE_PRIORITY,
        template={
            "settings": single,
            "mappings": {
                "properties": {
                    "at": DATE,
                    "user": KEYWORD,
                    "role": KEYWORD,
                    "endpoint": KEYWORD,
                    "method": KEYWORD,
                    "path": KEYWORD,
                    "query": {"type": "text"},
                    "purpose": {"type": "text", "fields": {"raw": {"type": "keyword", "ignore_above": 256}}},
                    "case_number": KEYWORD,
                    "result_count": {"type": "integer"},
                    "status": {"type": "short"},
                    "outcome": KEYWORD,
                    "client_address": KEYWORD,
                    "change": {"type": "text"},  # JSON: what an administrative write changed
                }
            },
        },
    )
    simple: dict[str, dict[str, Any]] = {
        users_index(prefix): {
            "username": KEYWORD,
            "role": KEYWORD,
            "password_hash": {"type": "keyword", "index": False},
            "disabled": {"type": "boolean"},
            "sessions_valid_after": DATE,  # tokens issued before it are refused (logout)
            "created_at": DATE,
        },
        watchlist_index(prefix): {
            "id": KEYWORD,
            "plate": KEYWORD,
            "pattern_kind": KEYWORD,
            "reason": KEYWORD,
            "priority": KEYWORD,
            "note": {"type": "text"},
            "case_number": KEYWORD,
            "active": {"type": "boolean"},
            "expires_at": DATE,
            "created_at": DATE,
            "created_by": KEYWORD,
            "updated_at": DATE,
            "updated_by": KEYWORD,
        },
        alerts_index(prefix): {
            "alert_id": KEYWORD,
            "sequence": {"type": "long"},
            "plate": KEYWORD,
            "camera_id": KEYWORD,
            "read_id": KEYWORD,
            "watchlist_id": KEYWORD,
            "priority": KEYWORD,
            "reason": KEYWORD,
            "created_at": DATE,
            "best_seen": DATE,
            "location": {"type": "geo_point"},
            "acknowledged": {"type": "boolean"},
            "acknowledged_by": KEYWORD,
            "acknowledged_at": DATE,
            "ack_note": {"type": "text"},
            **PEOPLE_ALERT_PROPERTIES,
        },
        people_status_index(prefix): {
            "camera_id": KEYWORD,
            "updated_at": DATE,
            "count": {"type": "integer"},
            "levels": {"type": "object", "enabled": False},
            "zones": {"type": "object", "enabled": False},
            "frame": {"type": "integer", "index": False},
        },
        webhooks_index(prefix): {
            "id": KEYWORD,
            "url": {"type": "keyword", "index": False},
            "secret": {"type": "keyword", "index": False, "doc_values": False},
            "priorities": KEYWORD,
            "cameras": KEYWORD,
            "active": {"type": "boolean"},
            "description": {"type": "text"},
            "created_at": DATE,
            "created_by": KEYWORD,
            "updated_at": DATE,
        },
        deliveries_index(prefix): {
            "delivery_id": KEYWORD,
            "alert_id": KEYWORD,
            "target": KEYWORD,  # "webhook" | "mqtt"
            "subscription_id": KEYWORD,
            "state": KEYWORD,  # "pending" | "delivered" | "dead"
            "attempts": {"type": "integer"},
            "next_attempt_at": DATE,
            "created_at": DATE,
            "alert_created_at": DATE,
            "updated_at": DATE,
            "delivered_at": DATE,
            "last_status": {"type": "short"},
            "last_error": {"type": "text"},
            "camera_id": KEYWORD,
            "priority": KEYWORD,
            "payload": {"type": "object", "enabled": False},
        },
        corrections_index(prefix): {
            "correction_id": KEYWORD,
            "read_id": KEYWORD,
            "read_index": KEYWORD,
            "verdict": KEYWORD,  # "corrected" | "confirmed"
            "original_plate": KEYWORD,
            "corrected_plate": KEYWORD,
            "reason": {"type": "text"},
            "by": KEYWORD,
            "role": KEYWORD,
            "at": DATE,
            "camera_id": KEYWORD,
            "rematched": {"type": "boolean"},
            "rematched_at": DATE,
            "alerts": KEYWORD,
        },
        camera_health_index(prefix): {
            "camera_id": KEYWORD,
            "state": KEYWORD,
            "fps": {"type": "float"},
            "last_frame_at": DATE,
            "last_read_at": DATE,
            "errors": {"type": "long"},
        },
    }
    for name, properties in simple.items():
        if not client.indices.exists(index=name):
            _create(client, name, settings=single, mappings={"properties": properties})
    # An alerts index created before the people events gets their fields (adding is always allowed).
    client.indices.put_mapping(index=alerts_index(prefix), properties=PEOPLE_ALERT_PROPERTIES)
    # Read indices created before a field was added get it too (adding fields is always allowed).
    client.indices.put_mapping(
        index=reads_pattern(prefix), properties=READ_PROPERTIES, allow_no_indices=True,
        ignore_unavailable=True,
    )  # fmt: skip


def _create(client: Elasticsearch, name: str, **body: Any) -> None:
    # Several gunicorn workers start at once; losing the race to create an index is fine.
    try:
        client.indices.create(index=name, **body)
    except BadRequestError as exc:
        if exc.error != "resource_already_exists_exception":
            raise
