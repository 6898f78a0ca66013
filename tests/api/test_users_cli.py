"""An administrator adds API users from the command line."""

from __future__ import annotations

import io

import pytest
from flask import Flask

from anpr.cli import main
from anpr_core.settings import Settings


def test_anpr_users_add_then_list(
    api_app: Flask, es_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    es = es_settings.elasticsearch
    monkeypatch.setenv("ANPR_ELASTICSEARCH__URL", str(es.url))
    monkeypatch.setenv("ANPR_ELASTICSEARCH__PASSWORD", es.password.get_secret_value() if es.password else "")
    monkeypatch.setenv("ANPR_ELASTICSEARCH__INDEX_PREFIX", es.index_prefix)
    monkeypatch.setenv("ANPR_PATHS__VAR_DIR", str(es_settings.paths.var_dir))
    monkeypatch.setattr("sys.stdin", io.StringIO("a-strong-password\n"))
    assert main(["users", "add", "park.analyst", "--role", "analyst"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "add", "lee.x", "--role", "analyst"]) == 2
    assert main(["users", "list"]) == 0
    out = capsys.readouterr()
    assert "park.analyst\tanalyst\tactive" in out.out
    assert "lee.x" not in out.out and "password: at least 12 characters" in out.err
    assert api_app.extensions["anpr"].users.authenticate("park.analyst", "a-strong-password") is not None
