"""Error responses: every failure is JSON that names what went wrong."""

from __future__ import annotations

from typing import Any

from flask import Response, jsonify
from pydantic import ValidationError


class ApiError(Exception):
    """An error with an HTTP status and a JSON body; raised anywhere in a request."""

    def __init__(self, status: int, error: str, message: str = "", **extra: Any) -> None:
        super().__init__(message or error)
        self.status = status
        self.error = error
        self.message = message
        self.extra = extra

    def response(self) -> Response:
        body: dict[str, Any] = {"error": self.error}
        if self.message:
            body["message"] = self.message
        body.update(self.extra)
        resp = jsonify(body)
        resp.status_code = self.status
        return resp


class FieldError(ApiError):
    """400 naming one or more fields: `{"error": "validation", "fields": [{field, reason}]}`."""

    def __init__(self, fields: list[dict[str, str]]) -> None:
        super().__init__(400, "validation", fields=fields)


def field_error(field: str, reason: str) -> FieldError:
    return FieldError([{"field": field, "reason": reason}])


def from_validation_error(exc: ValidationError, location: str = "") -> FieldError:
    fields = []
    for err in exc.errors(include_url=False):
        name = ".".join(str(part) for part in err["loc"])
        reason = str(err["msg"]).removeprefix("Value error, ")
        if not name and ": " in reason:
            # Cross-field checks say which field they blame as "field: reason".
            name, reason = reason.split(": ", 1)
        fields.append({"field": name or location or "body", "reason": reason})
    return FieldError(fields)
