"""OpenAPI 3.1 document generated from the endpoint registry and the pydantic models."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from search_api.registry import OPERATIONS, Operation, _is_list_field

REF = "#/components/schemas/{model}"


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=REF, by_alias=True)
    components.update(schema.pop("$defs", {}))
    return schema


def _parameters(op: Operation, components: dict[str, Any]) -> list[dict[str, Any]]:
    params: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": schema}
        for name, schema in op.path_params.items()
    ]
    if op.query is None:
        return params
    schema = _schema(op.query, components)
    required = set(schema.get("required", []))
    for name, info in op.query.model_fields.items():
        public = info.alias or name
        prop = schema["properties"][public]
        param: dict[str, Any] = {
            "name": public,
            "in": "query",
            "required": public in required,
            "schema": prop,
        }
        if info.description:
            param["description"] = info.description
        if _is_list_field(info.annotation):
            param.update(style="form", explode=True)
        params.append(param)
    return params


ERROR = {"$ref": "#/components/schemas/Error"}


def _responses(op: Operation) -> dict[str, Any]:
    ok = str(op.success)
    content = {mime: {"schema": {}} for mime in op.produces}
    responses: dict[str, Any] = {
        ok: {"description": "success"} | ({"content": content} if ok != "204" else {})
    }
    error = {"content": {"application/json": {"schema": ERROR}}}
    responses["400"] = {"description": "invalid parameter: the body names the field and the reason", **error}
    if op.roles is not None:
        responses["401"] = {"description": "not logged in, or the token expired", **error}
        responses["403"] = {"description": "the role may not use this endpoint", **error}
    if "{" in op.path:
        responses["404"] = {"description": "not found", **error}
    if op.path.endswith("/login"):
        responses["401"] = {"description": "wrong username or password", **error}
        responses["429"] = {"description": "too many failed logins", **error}
    return responses


def build_openapi(version: str = "1.0.0") -> dict[str, Any]:
    components: dict[str, Any] = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "properties": {"field": {"type": "string"}, "reason": {"type": "string"}},
                    },
                },
            },
        }
    }
    paths: dict[str, Any] = {}
    for op in OPERATIONS:
        entry: dict[str, Any] = {
            "summary": op.summary,
            "operationId": f"{op.tag}.{op.method}.{op.path}",
            "tags": [op.tag],
            "parameters": _parameters(op, components),
            "responses": _responses(op),
        }
        if op.roles is not None:
            entry["description"] = "roles: " + ", ".join(sorted(r.value for r in op.roles))
            entry["security"] = [{"bearer": []}, {"cookie": []}]
        else:
            entry["security"] = []
        if op.body is not None:
            entry["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": _schema(op.body, components)}},
            }
        elif op.body_content_type == "text/csv":
            entry["requestBody"] = {"required": True, "content": {"text/csv": {"schema": {"type": "string"}}}}
        paths.setdefault(op.path, {})[op.method] = entry
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ANPR vehicle search API",
            "version": version,
            "description": "Plate reads are personal information (PIPA): every call is authenticated, "
            "role-checked and audited; searches, routes and exports need a purpose and a case number.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "cookie": {"type": "apiKey", "in": "cookie", "name": "anpr_session"},
            },
        },
    }
