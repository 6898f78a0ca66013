"""One decorator declares an endpoint: path, method, roles, request models, summary.

The decorator enforces authentication, the role check and validation before the view runs,
records the access context for the audit record, and registers the operation so the OpenAPI
document is generated from the same declarations that the code obeys.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, get_args, get_origin

from flask import Blueprint, g, request
from pydantic import BaseModel, ValidationError

from search_api.context import services
from search_api.errors import ApiError, field_error, from_validation_error
from search_api.roles import Role
from search_api.tokens import COOKIE_NAME


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    roles: frozenset[Role] | None  # None: public
    summary: str
    tag: str
    query: type[BaseModel] | None = None
    body: type[BaseModel] | None = None
    body_content_type: str = "application/json"
    response: type[BaseModel] | None = None
    produces: tuple[str, ...] = ("application/json",)
    path_params: dict[str, dict[str, Any]] = field(default_factory=dict)
    success: int = 200  # the status of a successful call, as the OpenAPI document states it


OPERATIONS: list[Operation] = []


def _openapi_path(prefix: str, rule: str) -> str:
    out = prefix + rule
    while "<" in out:
        start, end = out.index("<"), out.index(">")
        name = out[start + 1 : end].split(":")[-1]
        out = out[:start] + "{" + name + "}" + out[end + 1 :]
    return out


def _is_list_field(annotation: Any) -> bool:
    if get_origin(annotation) in (list, tuple, set):
        return True
    return any(_is_list_field(arg) for arg in get_args(annotation) if arg is not type(None))


def parse_query(model: type[BaseModel]) -> BaseModel:
    data: dict[str, Any] = {}
    for key in request.args:
        info = model.model_fields.get(key)
        if info is not None and _is_list_field(info.annotation):
            values: list[str] = []
            for raw in request.args.getlist(key):
                values += [part for part in raw.split(",") if part != ""]
            data[key] = values
        else:
            data[key] = request.args.get(key)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def parse_body(model: type[BaseModel]) -> BaseModel:
    payload = request.get_json(silent=True)
    if payload is None:
        raise field_error("body", "a JSON object is required (Content-Type: application/json)")
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise from_validation_error(exc) from None


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header.startswith("Bearer "):
        return header[7:].strip() or None
    return request.cookies.get(COOKIE_NAME)


def authenticate() -> None:
    token = bearer_token()
    ctx = services()
    session = ctx.signer.verify(token) if token else None
    user = ctx.sessions.admit(session) if session else None
    if user is None:
        raise ApiError(
            401, "unauthenticated", "log in at /api/v1/auth/login and send 'Authorization: Bearer'"
        )
    g.user = user


def endpoint(
    bp: Blueprint,
    rule: str,
    *,
    method: str = "GET",
    roles: Iterable[Role] | None,
    summary: str,
    query: type[BaseModel] | None = None,
    body: type[BaseModel] | None = None,
    body_content_type: str = "application/json",
    response: type[BaseModel] | None = None,
    produces: tuple[str, ...] = ("application/json",),
    path_params: dict[str, dict[str, Any]] | None = None,
    success: int | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    allowed = frozenset(roles) if roles is not None else None
    prefix = bp.url_prefix or ""
    op = Operation(
        path=_openapi_path(prefix, rule),
        method=method.lower(),
        roles=allowed,
        summary=summary,
        tag=bp.name,
        query=query,
        body=body,
        body_content_type=body_content_type,
        response=response,
        produces=produces,
        path_params=path_params or {},
        success=success or (204 if method.lower() == "delete" else 200),
    )
    OPERATIONS.append(op)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapper(**path_args: Any) -> Any:
            g.operation = op
            if allowed is not None:
                authenticate()
                if g.user.role not in allowed:
                    raise ApiError(
                        403,
                        "forbidden",
                        f"role {g.user.role.value} may not use this endpoint",
                        allowed_roles=sorted(r.value for r in allowed),
                    )
            kwargs: dict[str, Any] = dict(path_args)
            if query is not None:
                parsed = parse_query(query)
                g.access = parsed
                kwargs["q"] = parsed
            elif request.args:
                raise field_error(next(iter(request.args)), "unknown parameter")
            if body is not None and body_content_type == "application/json":
                kwargs["body"] = parse_body(body)
            return view(**kwargs)

        bp.add_url_rule(rule, endpoint=view.__name__, view_func=wrapper, methods=[method])
        return wrapper

    return decorate
