"""Structured (JSON lines) logging shared by every service."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

from anpr_core.redact import redact_credentials, redact_value

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact_credentials(record.getMessage()),
        }
        # Anything passed with `extra=` becomes a field of its own, so logs stay queryable.
        # Credentials in URLs (camera streams) are masked in every field: logs leave the host.
        entry.update({k: redact_value(v) for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info:
            entry["exc"] = redact_credentials(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO", service: str | None = None) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if service:
        old_factory = logging.getLogRecordFactory()

        def factory(*args: object, **kwargs: object) -> logging.LogRecord:
            record = old_factory(*args, **kwargs)  # type: ignore[arg-type]
            record.service = service
            return record

        logging.setLogRecordFactory(factory)
    for noisy in ("elastic_transport.transport", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
