"""One typed settings object for every service.

Values come, highest priority first, from: keyword arguments, environment variables
(``ANPR_`` prefix, ``__`` between nested names, e.g. ``ANPR_ELASTICSEARCH__URL``), the TOML
file named by ``ANPR_CONFIG`` (or ``config/anpr.toml`` when it exists), then the defaults
below. A bad value fails at start with :class:`SettingsError`, whose message names the
setting both as an environment variable and as a TOML key.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG_FILE = PROJECT_ROOT / "config" / "anpr.toml"
ENV_PREFIX = "ANPR_"

_INDEX_PREFIX = re.compile(r"^[a-z0-9][a-z0-9_-]{0,40}$")


# Short names kept for running the tests against another cluster and for the shared data
# (`ANPR_ES_URL=https://... ANPR_ES_PASSWORD=... ./scripts/test`); the long names win.
SHORT_ENV_NAMES: dict[str, tuple[str, str]] = {
    "ANPR_ES_URL": ("elasticsearch", "url"),
    "ANPR_ES_PASSWORD": ("elasticsearch", "password"),
    "ANPR_SHARED_DATA": ("paths", "shared_data"),
}


class SettingsError(ValueError):
    """Raised when the configuration is invalid; the message names each bad setting."""


class _Section(BaseModel):
    # A misspelt key in the config file must fail loudly, not be ignored.
    model_config = ConfigDict(extra="forbid")


class ElasticsearchSettings(_Section):
    # None means "the project's local node" (scripts/elasticsearch); production sets a URL.
    url: str | None = None
    username: str = "elastic"
    password: SecretStr | None = None
    ca_file: Path | None = None
    verify_certs: bool = True
    index_prefix: str = "anpr"
    request_timeout_s: float = Field(default=30.0, gt=0, le=600)

    @field_validator("url")
    @classmethod
    def _url_is_http(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError("must be an http:// or https:// URL, e.g. https://es.example:9200")
        return value.rstrip("/")

    @field_validator("ca_file")
    @classmethod
    def _ca_file_exists(cls, value: Path | None) -> Path | None:
        if value is not None and not value.is_file():
            raise ValueError(f"CA file {value} does not exist")
        return value

    @field_validator("index_prefix")
    @classmethod
    def _index_prefix_is_legal(cls, value: str) -> str:
        if not _INDEX_PREFIX.match(value):
            raise ValueError("must be lowercase letters, digits, '_' or '-' (Elasticsearch index names)")
        return value


class LocalElasticsearchSettings(_Section):
    """The single node the project downloads and runs for development, tests and the demo."""

    version: str = Field(default="9.2.8", pattern=r"^9\.\d+\.\d+$")
    port: int = Field(default=9200, ge=1024, le=65535)
    # 2 cores / 24 GiB: a 2 GiB heap leaves the page cache most of the memory, which Lucene wants.
    heap_mb: int = Field(default=2048, ge=256, le=31744)
    startup_timeout_s: float = Field(default=180.0, gt=0)


class PathsSettings(_Section):
    var_dir: Path = PROJECT_ROOT / "var"
    journal_dir: Path | None = None
    crop_dir: Path | None = None
    # The API's audit records wait here (one file per worker, 0600) until Elasticsearch has them.
    audit_journal_dir: Path | None = None
    # People analytics (issue 23): the monitor's event journal, snapshots and live status.
    people_dir: Path | None = None
    # The real labelled data (not redistributed): plates/, scenes/ with their labels.
    shared_data: Path = PROJECT_ROOT.parent / "shared" / "data"
    # A folder with NanumGothicBold.ttf for the plate renderer and the PDF report; None: the
    # fonts of the koreanize-matplotlib package, then Debian's fonts-nanum.
    font_dir: Path | None = None

    @property
    def journal(self) -> Path:
        return self.journal_dir or self.var_dir / "journal"

    @property
    def audit_journal(self) -> Path:
        return self.audit_journal_dir or self.var_dir / "audit-journal"

    @property
    def crops(self) -> Path:
        return self.crop_dir or self.var_dir / "crops"

    @property
    def people(self) -> Path:
        return self.people_dir or self.var_dir / "people"


class RetentionSettings(_Section):
    read_days: int = Field(default=30, ge=1, le=3650)
    alert_days: int = Field(default=365, ge=1, le=3650)
    # PIPA access logs must be kept for at least two years.
    audit_days: int = Field(default=730, ge=730, le=3650)


class CameraSettings(_Section):
    registry_path: Path = PROJECT_ROOT / "config" / "cameras.toml"
    # A plate read again at the same camera within this many seconds is the same pass.
    repeat_window_s: float = Field(default=10.0, ge=0, le=300)


class VisionSettings(_Section):
    detector_model: Path = PROJECT_ROOT / "models" / "detector"
    recognizer_model: Path = PROJECT_ROOT / "models" / "recognizer"
    threads: int = Field(default=2, ge=1, le=64)
    # The camera workers' detector input (a 16:9 frame at 416 is a 416×256 canvas).
    detector_input_size: int = Field(default=416, ge=160, le=1280, multiple_of=32)
    # ... and for frames 1280 px wide or more (720p/1080p H.264 cameras; 0: detector_input_size):
    # on held-out real-plate feeds, 8 × 720p, recall 0.978 -> 1.000 and exact 0.77 -> 0.85 for
    # 0.114 -> 0.153 core a camera (docs/benchmarks.md, issue 20).
    detector_input_size_hd: int = Field(default=640, ge=0, le=1280, multiple_of=32)
    detector_min_score: float = Field(default=0.5, gt=0, lt=1)
    # `lpr read`, the public evaluation interface: the fp32 models at this detector input.
    read_input_size: int = Field(default=512, ge=160, le=1280, multiple_of=32)
    # ... plus a second pass at this input for far plates (narrower than 5 % of the frame; a small
    # frame enlarged at most 2.5×); 0 turns it off (held-out far CCTV recall 0.34 -> 0.78).
    read_far_input_size: int = Field(default=1280, ge=0, le=2560, multiple_of=32)
    # The camera workers' models: int8 (static quantisation of the convolutions, ~1.5–2× faster
    # on a CPU, same accuracy on held-out real data) or fp32. `lpr read` always uses fp32.
    detector_precision: Literal["int8", "fp32"] = "int8"
    recognizer_precision: Literal["int8", "fp32"] = "int8"
    # The workers' H.264 decoder skips the deblocking filter on these frames (FFmpeg's AVDiscard
    # names; "default": deblock every frame): "all" decodes 20-22 % cheaper and lost no plate on
    # held-out real-plate clips at 720p/1080p, 2 s GOP (docs/benchmarks.md, issue 20); cameras
    # with long GOPs (>= 4 s) should use "default" (8 s: 2 of 26 exact passes lost).
    decode_skip_loop_filter: Literal["default", "noref", "bidir", "nokey", "all"] = "all"


class PeopleSettings(_Section):
    """People analytics (issue 23, `monitor/`): the COCO person detector and the per-camera rules."""

    model: Path = PROJECT_ROOT / "models" / "people"
    precision: Literal["int8", "fp32"] = "fp32"
    threads: int = Field(default=1, ge=1, le=64)
    # Long side of the network input for a whole frame (or for each tile); chosen on the training
    # split of the real crowd photos (docs/benchmarks.md "People").
    input_size: int = Field(default=960, ge=160, le=2048, multiple_of=32)
    min_score: float = Field(default=0.25, gt=0, lt=1)
    nms_iou: float = Field(default=0.6, gt=0, lt=1)
    # Dense far crowds (elevated street views): tiles × tiles overlapping windows per frame.
    tiles: int = Field(default=1, ge=1, le=4)
    tile_overlap: float = Field(default=0.2, ge=0, lt=0.5)
    # Per-camera zones, schedules, rules and ground-plane calibration (monitor/analytics.py).
    analytics_path: Path = PROJECT_ROOT / "config" / "people.toml"


class ApiSettings(_Section):
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # None: a random secret is created once under var/ (development only).
    secret_key: SecretStr | None = None
    session_minutes: int = Field(default=480, ge=1, le=1440)
    # How stale a worker's view of a user (logged out, disabled, role) may be, in seconds.
    session_recheck_s: float = Field(default=5.0, ge=0, le=300)
    # gunicorn: worker processes (None: the cores, at least 2; Elasticsearch shares the machine)
    # and gthread threads per worker (an SSE alert stream holds one while it waits).
    workers: int | None = Field(default=None, ge=1, le=64)
    threads: int = Field(default=8, ge=1, le=256)
    # One line per request to stdout; off for load tests.
    access_log: bool = True
    # Live alert streams per gunicorn worker: each holds a thread, so keep it below `threads`
    # and raise both together for a bigger control room.
    max_streams_per_worker: int = Field(default=6, ge=1, le=1000)
    # Live alert streams one user holds at once in a worker: a console needs one, a spare
    # covers a reload; one token can no longer take every slot (issue 22).
    max_streams_per_user: int = Field(default=2, ge=1, le=1000)
    # Passwords (issue 22): length, and the strength zxcvbn estimates (0-4; 3 = "safely
    # unguessable": about 10^10 guesses).
    password_min_length: int = Field(default=12, ge=12, le=72)
    password_min_score: int = Field(default=3, ge=2, le=4)
    # Failed logins within `login_window_s` before a wait: per (address, username), and per
    # address whatever the username (password spraying).
    login_max_failures: int = Field(default=5, ge=1, le=1000)
    login_max_failures_per_address: int = Field(default=20, ge=1, le=100_000)
    login_window_s: float = Field(default=300.0, gt=0, le=86_400)
    # Reverse proxies in front of the API whose X-Forwarded-For (and -Proto) is believed: 0 = none
    # (the peer address is the client); 1 = the one proxy of docs/deploy.md. The client address
    # then drives the login limits, /metrics access and the audit's client_address.
    trusted_proxies: int = Field(default=0, ge=0, le=5)

    @field_validator("secret_key")
    @classmethod
    def _secret_is_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value


class WebhookSettings(_Section):
    """Alert delivery to the subscriptions an administrator registers (`/api/v1/webhooks`)."""

    # Attempts per delivery before it is dead-lettered; the waits between them double.
    max_attempts: int = Field(default=10, ge=1, le=100)
    first_retry_s: float = Field(default=1.0, gt=0, le=3600)
    max_retry_s: float = Field(default=300.0, gt=0, le=86400)
    # One POST may take this long (connect + answer) before it counts as failed and is retried.
    timeout_s: float = Field(default=5.0, gt=0, le=120)
    # Deliveries in flight at once (a slow receiver holds one).
    concurrency: int = Field(default=8, ge=1, le=128)
    # How often the indexer looks for deliveries due again (retries, and after a restart).
    poll_s: float = Field(default=1.0, gt=0, le=60)


class MqttSettings(_Section):
    """Alerts (QoS 1) and camera status (retained) to an MQTT broker; off while `host` is unset."""

    host: str | None = None
    port: int = Field(default=1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    # TLS: on with `tls = true`; `ca_file` to trust a private CA, `cert_file`/`key_file` for a
    # client certificate.
    tls: bool = False
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    topic_prefix: str = Field(default="anpr", pattern=r"^[A-Za-z0-9_/-]{1,64}$")
    client_id: str = Field(default="anpr-indexer", pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    keepalive_s: int = Field(default=30, ge=5, le=3600)
    # How often camera status is read from Elasticsearch and republished where it changed.
    camera_status_every_s: float = Field(default=5.0, gt=0, le=3600)
    # The local broker for the demo (`anpr/broker.py`); not 1883, where Debian's own mosquitto
    # service listens once the package is installed on a machine with systemd.
    local_port: int = Field(default=18830, ge=1024, le=65535)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter="__",
        extra="forbid",
        validate_default=True,
    )

    elasticsearch: ElasticsearchSettings = ElasticsearchSettings()
    local_elasticsearch: LocalElasticsearchSettings = LocalElasticsearchSettings()
    paths: PathsSettings = PathsSettings()
    retention: RetentionSettings = RetentionSettings()
    cameras: CameraSettings = CameraSettings()
    vision: VisionSettings = VisionSettings()
    api: ApiSettings = ApiSettings()
    webhooks: WebhookSettings = WebhookSettings()
    mqtt: MqttSettings = MqttSettings()
    people: PeopleSettings = PeopleSettings()
    log_level: str = Field(default="INFO", pattern=r"^(DEBUG|INFO|WARNING|ERROR)$")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [
            init_settings,
            env_settings,
            _ShortEnvNames(settings_cls),
        ]
        config_file = config_file_path()
        if config_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    @property
    def index_prefix(self) -> str:
        return self.elasticsearch.index_prefix


class _ShortEnvNames(PydanticBaseSettingsSource):
    """`SHORT_ENV_NAMES`, below the long `ANPR_SECTION__KEY` names and above the TOML file."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        values: dict[str, dict[str, str]] = {}
        for name, (section, key) in SHORT_ENV_NAMES.items():
            if os.environ.get(name):
                values.setdefault(section, {})[key] = os.environ[name]
        return values


def config_file_path() -> Path | None:
    named = os.environ.get(f"{ENV_PREFIX}CONFIG")
    if named:
        path = Path(named)
        if not path.is_file():
            raise SettingsError(f"{ENV_PREFIX}CONFIG: config file {path} does not exist")
        return path
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.is_file() else None


def _setting_name(location: tuple[Any, ...]) -> str:
    dotted = ".".join(str(part) for part in location if not isinstance(part, int))
    env = ENV_PREFIX + "__".join(str(part).upper() for part in location if not isinstance(part, int))
    return f"{env} ({dotted})"


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, turning validation errors into one message that names each setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = [f"{_setting_name(err['loc'])}: {err['msg']}" for err in exc.errors()]
        raise SettingsError("invalid configuration:\n  " + "\n  ".join(problems)) from None
