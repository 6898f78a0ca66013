"""One settings object: environment, TOML file, and errors that name the setting."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from anpr_core.settings import PROJECT_ROOT, SettingsError, load_settings


def test_environment_overrides_nested_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANPR_RETENTION__READ_DAYS", "14")
    monkeypatch.setenv("ANPR_ELASTICSEARCH__URL", "https://es.asan.example:9200/")
    settings = load_settings()
    assert settings.retention.read_days == 14
    assert settings.elasticsearch.url == "https://es.asan.example:9200"


def test_config_file_is_read_and_env_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "anpr.toml"
    config.write_text('[elasticsearch]\nindex_prefix = "asan"\n[retention]\nread_days = 60\n')
    monkeypatch.setenv("ANPR_CONFIG", str(config))
    monkeypatch.setenv("ANPR_RETENTION__READ_DAYS", "20")
    settings = load_settings()
    assert settings.elasticsearch.index_prefix == "asan"
    assert settings.retention.read_days == 20


@pytest.mark.parametrize(
    ("env", "value", "named"),
    [
        ("ANPR_RETENTION__READ_DAYS", "0", "ANPR_RETENTION__READ_DAYS (retention.read_days)"),
        ("ANPR_RETENTION__AUDIT_DAYS", "100", "ANPR_RETENTION__AUDIT_DAYS (retention.audit_days)"),
        ("ANPR_ELASTICSEARCH__URL", "es.example:9200", "ANPR_ELASTICSEARCH__URL (elasticsearch.url)"),
        ("ANPR_ELASTICSEARCH__INDEX_PREFIX", "Bad Prefix", "ANPR_ELASTICSEARCH__INDEX_PREFIX"),
        ("ANPR_ELASTICSEARCH__CA_FILE", "/nonexistent/ca.pem", "ANPR_ELASTICSEARCH__CA_FILE"),
        ("ANPR_API__SECRET_KEY", "short", "ANPR_API__SECRET_KEY (api.secret_key)"),
        ("ANPR_VISION__THREADS", "many", "ANPR_VISION__THREADS (vision.threads)"),
    ],
)
def test_bad_values_fail_naming_the_setting(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, named: str
) -> None:
    monkeypatch.setenv(env, value)
    with pytest.raises(SettingsError) as err:
        load_settings()
    assert named in str(err.value)


def test_unknown_config_file_key_is_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "anpr.toml"
    config.write_text("[retention]\nread_dayz = 60\n")
    monkeypatch.setenv("ANPR_CONFIG", str(config))
    with pytest.raises(SettingsError, match=r"retention\.read_dayz"):
        load_settings()


def test_missing_config_file_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANPR_CONFIG", "/nonexistent/anpr.toml")
    with pytest.raises(SettingsError, match="ANPR_CONFIG"):
        load_settings()


def test_the_example_config_states_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    """config/anpr.example.toml writes defaults a second time, for operators to copy: it must say
    what the settings object does, so a default changed in one place only fails here."""
    for name in [n for n in os.environ if n.startswith("ANPR_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ANPR_CONFIG", str(PROJECT_ROOT / "config" / "anpr.example.toml"))
    example = load_settings().model_dump()
    monkeypatch.delenv("ANPR_CONFIG")
    assert example == load_settings().model_dump()
