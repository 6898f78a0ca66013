"""Roles and what each may do (PIPA: least privilege, no role implies another)."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "operator"  # control room: alerts
    INVESTIGATOR = "investigator"  # police: search and route
    ANALYST = "analyst"  # search and export
    ADMIN = "admin"  # users, watchlist, audit


ALL_ROLES: frozenset[Role] = frozenset(Role)
SEARCHERS = frozenset({Role.INVESTIGATOR, Role.ANALYST})
ROUTE_READERS = frozenset({Role.INVESTIGATOR, Role.ANALYST})
EXPORTERS = frozenset({Role.ANALYST})
ALERT_HANDLERS = frozenset({Role.OPERATOR})
ADMINS = frozenset({Role.ADMIN})
# Live people counts and density levels (issue 23): aggregated, no personal data, but only the
# control room and administrators have a use for them. Event snapshots (persons): ALERT_HANDLERS.
PEOPLE_STATUS_READERS = frozenset({Role.OPERATOR, Role.ADMIN})
