"""End-to-end tests: select them with `-m e2e` (`./scripts/test -m e2e`), skip them with `-m "not e2e"`."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "e2e: the whole service end to end: simulator → workers → indexer → API (about a minute)"
    )
