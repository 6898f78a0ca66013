"""The one place that builds an Elasticsearch client from the settings.

With ``elasticsearch.url`` set (production, or ``ANPR_ES_URL`` in tests: see the settings) the client talks to
that cluster; without it, to the project's local node recorded under ``var/elasticsearch``.
"""

from __future__ import annotations

import json

from elastic_transport import ConnectionError as TransportConnectionError
from elasticsearch import AuthenticationException, Elasticsearch
from elasticsearch.serializer import OrjsonSerializer

from anpr_core.settings import Settings


class _OrjsonCompatibilitySerializer(OrjsonSerializer):
    """orjson for the versioned media type the client sends and Elasticsearch answers with."""

    mimetype = "application/vnd.elasticsearch+json"


# The client's default is the stdlib json module; orjson parses a route's or a search's response
# several times faster, and every service is on the request path of some search.
_SERIALIZERS = {
    OrjsonSerializer.mimetype: OrjsonSerializer(),
    _OrjsonCompatibilitySerializer.mimetype: _OrjsonCompatibilitySerializer(),
}


class ElasticsearchUnavailable(RuntimeError):
    """Elasticsearch cannot be used; the message names the cause (auth, connection, config)."""


def resolve_connection(settings: Settings) -> tuple[str, str, str]:
    """Return (url, username, password) for the configured or the local cluster."""
    es = settings.elasticsearch
    url = es.url
    password = es.password.get_secret_value() if es.password is not None else None
    local_root = settings.paths.var_dir / "elasticsearch"
    if url is None:
        state_file = local_root / "node.json"
        if not state_file.is_file():
            raise ElasticsearchUnavailable(
                "no Elasticsearch configured: set ANPR_ELASTICSEARCH__URL, or start the local node "
                "with `anpr es start`"
            )
        url = json.loads(state_file.read_text())["url"]
    if password is None:
        password_file = local_root / "elastic-password"
        password = password_file.read_text().strip() if password_file.is_file() else ""
    return url, es.username, password


def make_client(settings: Settings, **options: object) -> Elasticsearch:
    url, username, password = resolve_connection(settings)
    es = settings.elasticsearch
    kwargs: dict[str, object] = {
        "basic_auth": (username, password),
        "request_timeout": es.request_timeout_s,
        "retry_on_timeout": True,
        "max_retries": 3,
        "serializers": _SERIALIZERS,
    }
    if url.startswith("https://"):
        kwargs["verify_certs"] = es.verify_certs
        if es.ca_file is not None:
            kwargs["ca_certs"] = str(es.ca_file)
    kwargs.update(options)
    return Elasticsearch(url, **kwargs)  # type: ignore[arg-type]


def check_connection(client: Elasticsearch) -> dict[str, object]:
    """Ask the cluster who we are; raise ElasticsearchUnavailable with the cause if that fails.

    `GET /` (client.info) is not served by the integ-test distribution, so the check uses the
    security API, which every secured cluster has and which also proves the credentials.
    """
    try:
        info = client.security.authenticate()
    except AuthenticationException as exc:
        raise ElasticsearchUnavailable(
            "Elasticsearch rejected the credentials (HTTP 401): check ANPR_ELASTICSEARCH__USERNAME "
            "and ANPR_ELASTICSEARCH__PASSWORD"
        ) from exc
    except TransportConnectionError as exc:
        raise ElasticsearchUnavailable(f"cannot connect to Elasticsearch: {exc}") from exc
    return dict(info.body)
