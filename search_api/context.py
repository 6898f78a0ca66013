"""Per-application services (ES client, stores, signer, audit) and the current request's user."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from elasticsearch import Elasticsearch
from flask import current_app, g

from anpr_core.plates import ConfusionModel
from anpr_core.settings import Settings
from search_api.audit import AuditLog
from search_api.ratelimit import LoginRateLimiter
from search_api.sessions import SessionGate
from search_api.stream_slots import StreamSlots
from search_api.tokens import TokenSigner
from search_api.users import User, UserStore


@dataclass
class Services:
    settings: Settings
    es: Elasticsearch
    prefix: str
    users: UserStore
    signer: TokenSigner
    sessions: SessionGate
    audit: AuditLog
    login_limiter: LoginRateLimiter
    confusion: ConfusionModel
    streams: StreamSlots
    cameras: dict[str, dict[str, Any]] = field(default_factory=dict)


def services() -> Services:
    return current_app.extensions["anpr"]  # type: ignore[no-any-return]


def current_user() -> User | None:
    return g.get("user")


def set_result_count(count: int) -> None:
    """Recorded in the audit record of this request."""
    g.result_count = count


@dataclass(frozen=True)
class AuditPurpose:
    purpose: str
    case_number: str | None = None


def set_audit_purpose(purpose: str, case_number: str | None = None) -> None:
    """The purpose (and case) this request's audit record states, where the endpoint fixes it
    instead of the caller's `purpose`/`case_number` parameters (an alert's images, a snapshot)."""
    g.access = AuditPurpose(purpose, case_number)


def set_audit_change(**change: Any) -> None:
    """What this administrative write changed, recorded in its audit record (`change`)."""
    g.audit_change = change
