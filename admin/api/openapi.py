"""The OpenAPI 3 document, assembled from the API's routes and their `@operation` notes.

    @bp.get("/people/<int:person_id>")
    @any_role
    @operation("Một người được theo dõi", response="Person",
               schemas={"Person": {...}}, parameters=[...])
    def person(person_id): ...

Path parameters come from the route itself (an `int` is a row id, 0..2**63-1) and give the
operation a 404; every non-public operation gets the bearer security and the 401/403/429
responses.
"""

from __future__ import annotations

import re
from typing import Any, Callable, TypeVar

from flask import Flask

from admin.access import rule_of
from admin.converters import MAX_ROW_ID

F = TypeVar("F", bound=Callable)
OPERATION_ATTRIBUTE = "_callengine_openapi"
_PATH_PARAM = re.compile(r"<(?:(?P<converter>[a-z]+)(?:\([^)]*\))?:)?(?P<name>[a-z_]+)>")
ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"],
                             "properties": {"code": {"type": "string"},
                                            "message": {"type": "string"}}}},
}
STANDARD_ERRORS = {"401": "Chưa xác thực", "403": "Không có quyền", "429": "Quá nhiều yêu cầu"}
PATH_NOT_FOUND = {"404": "Không tìm thấy"}  # a path parameter that names nothing


def operation(summary: str, *, response: str | None = None, status: int = 200,
              schemas: dict[str, Any] | None = None, parameters: list[Any] | None = None,
              request_body: str | None = None, errors: dict[int, str] | None = None,
              list_of: bool = False, request_media: str = "application/json"
              ) -> Callable[[F], F]:
    """Describe an API view for the document; `response` and `request_body` name schemas in
    `schemas`; `request_media` is the body's media type (e.g. multipart/form-data)."""
    note = {"summary": summary, "response": response, "status": status,
            "schemas": schemas or {}, "parameters": parameters or [],
            "request_body": request_body, "errors": errors or {}, "list_of": list_of,
            "request_media": request_media}

    def decorate(view: F) -> F:
        setattr(view, OPERATION_ATTRIBUTE, note)
        return view
    return decorate


def list_schema(item: str) -> dict[str, Any]:
    """The schema of a list response: {"items": [item...], "next": cursor or null}."""
    return {"type": "object", "required": ["items", "next"],
            "properties": {"items": {"type": "array", "items": _ref(item)},
                           "next": {"type": ["string", "null"]}}}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ROW_ID = {"type": "integer", "minimum": 0, "maximum": MAX_ROW_ID}


def _path_parameters(rule: str) -> list[dict[str, Any]]:
    return [{"name": m["name"], "in": "path", "required": True,
             "schema": dict(_ROW_ID) if m["converter"] == "int" else {"type": "string"}}
            for m in _PATH_PARAM.finditer(rule)]


def _responses(note: dict[str, Any], public: bool, rule: str) -> dict[str, Any]:
    if note["response"] is None:
        success = {"description": "OK"}
    else:
        schema = list_schema(note["response"]) if note["list_of"] else _ref(note["response"])
        success = _json(schema, "OK")
    responses = {str(note["status"]): success}
    errors = {} if public else dict(STANDARD_ERRORS)
    if _PATH_PARAM.search(rule):
        errors.update(PATH_NOT_FOUND)
    errors.update({str(status): text for status, text in note["errors"].items()})
    for status, text in errors.items():
        responses[status] = _json(_ref("Error"), text)
    return responses


def _operation(note: dict[str, Any], rule: str, endpoint: str, public: bool) -> dict:
    op: dict[str, Any] = {"operationId": endpoint.replace(".", "_"), "summary": note["summary"],
                          "parameters": _path_parameters(rule) + note["parameters"],
                          "responses": _responses(note, public, rule)}
    if note["request_body"]:
        op["requestBody"] = {"required": True, "content": {
            note["request_media"]: {"schema": _ref(note["request_body"])}}}
    op["security"] = [] if public else [{"bearerAuth": []}]
    return op


def _merge_schemas(target: dict[str, Any], schemas: dict[str, Any], endpoint: str) -> None:
    for name, schema in schemas.items():
        if target.get(name, schema) != schema:
            raise ValueError(f"{endpoint}: schema {name!r} is defined twice, differently")
        target[name] = schema


def document(app: Flask, prefix: str = "/api/v1") -> dict[str, Any]:
    """The OpenAPI 3.1 document of every described route under `prefix`."""
    paths: dict[str, dict[str, Any]] = {}
    schemas: dict[str, Any] = {"Error": ERROR_SCHEMA}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        note = getattr(app.view_functions[rule.endpoint], OPERATION_ATTRIBUTE, None)
        if note is None or not rule.rule.startswith(prefix):
            continue
        public = rule_of(app, rule.endpoint).public
        path = _PATH_PARAM.sub(lambda m: "{" + m["name"] + "}", rule.rule)
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(
                note, rule.rule, rule.endpoint, public)
        _merge_schemas(schemas, note["schemas"], rule.endpoint)
    return {
        "openapi": "3.1.0",
        "info": {"title": "callengine admin API", "version": "1"},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer"}}},
    }
