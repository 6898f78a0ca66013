"""Secrets never leave a service: credentials inside URLs are masked wherever text is kept.

Camera stream URLs carry the camera's user and password (`rtsp://admin:pw@10.0.0.5/stream`);
an error that quotes the URL would otherwise reach the camera-health documents every role can
read, and every log line. `redact_credentials` masks the userinfo part of any URL in a text.
"""

from __future__ import annotations

import re
from typing import Any

# scheme://userinfo@ — userinfo is everything up to the last '@' before the host ends.
_USERINFO = re.compile(r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)[^\s/?#]*@")
MASK = "***"


def redact_credentials(text: str) -> str:
    """`text` with each URL's `user:password@` replaced by `***@`."""
    if "@" not in text:
        return text
    return _USERINFO.sub(rf"\g<scheme>{MASK}@", text)


def redact_value(value: Any) -> Any:
    """Strings redacted, lists and dicts walked; anything else as it is."""
    if isinstance(value, str):
        return redact_credentials(value)
    if isinstance(value, dict):
        return {key: redact_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(item) for item in value]
    return value
