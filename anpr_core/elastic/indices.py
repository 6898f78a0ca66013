"""Names of every index the service uses, derived from the configured prefix.

Kept in one place so the workers, the indexer, the retention job and the API agree. Mappings
and templates live with the indexer, which owns the storage layout.
"""

from __future__ import annotations

from datetime import date


def reads_index(prefix: str, day: date) -> str:
    """The read index holding the reads of ``day``: one index per UTC month.

    Monthly, not daily: a route or search over the retention period then touches 2–4 shards
    instead of 30–90, and per-shard overhead, not matching, is what a route query costs
    (docs/benchmarks.md, search API). Retention deletes whole months and, in the boundary
    month, the expired reads by query.
    """
    return f"{prefix}-reads-{day:%Y.%m}"


def reads_pattern(prefix: str) -> str:
    return f"{prefix}-reads-*"


def reads_alias(prefix: str) -> str:
    return f"{prefix}-reads"


def alerts_index(prefix: str) -> str:
    return f"{prefix}-alerts"


def watchlist_index(prefix: str) -> str:
    return f"{prefix}-watchlist"


def audit_index(prefix: str, day: date) -> str:
    """Audit records, one index a month (kept ≥ 2 years)."""
    return f"{prefix}-audit-{day:%Y.%m}"


def audit_pattern(prefix: str) -> str:
    return f"{prefix}-audit-*"


def users_index(prefix: str) -> str:
    return f"{prefix}-users"


def camera_health_index(prefix: str) -> str:
    return f"{prefix}-camera-health"


def webhooks_index(prefix: str) -> str:
    """Webhook subscriptions an administrator registered (URL, secret, filters)."""
    return f"{prefix}-webhooks"


def deliveries_index(prefix: str) -> str:
    """The alert outbox: one document per (alert, destination) with its delivery state."""
    return f"{prefix}-deliveries"


def corrections_index(prefix: str) -> str:
    """Read corrections and review verdicts: who said a read was wrong (or right), and why."""
    return f"{prefix}-corrections"


def people_status_index(prefix: str) -> str:
    """Live people counts and density levels, one document per analytics camera (issue 23)."""
    return f"{prefix}-people-status"
