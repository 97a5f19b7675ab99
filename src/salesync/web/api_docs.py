"""The API reference page, rendered on the server from the OpenAPI document.

No script or stylesheet comes from another site (the stock Swagger UI loads both from a CDN,
so it is blank offline and needs a looser Content-Security-Policy): the page is plain HTML.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from salesync.web.templating import render

router = APIRouter(include_in_schema=False)

_METHODS = ("get", "post", "put", "patch", "delete")


def type_of(schema: dict[str, Any]) -> str:
    """A short reading of a JSON schema: ``integer 1..9223372036854775807``, ``Person``…"""
    if "$ref" in schema:
        return str(schema["$ref"].rsplit("/", 1)[-1])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return " or ".join(type_of(sub) for sub in schema[key])
    if "enum" in schema:
        return " | ".join(str(value) for value in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    kind = str(schema.get("type", "any"))
    if kind == "array":
        return f"list of {type_of(schema.get('items', {}))}"
    limits = []
    if "minimum" in schema or "maximum" in schema:
        limits.append(f"{schema.get('minimum', '')}..{schema.get('maximum', '')}")
    if "maxLength" in schema:
        limits.append(f"≤ {schema['maxLength']} chars")
    if "format" in schema:
        limits.append(str(schema["format"]))
    return " ".join([kind, *limits])


def _operations(spec: dict[str, Any]) -> list[dict[str, Any]]:
    operations = []
    for path, items in spec.get("paths", {}).items():
        for method in _METHODS:
            operation = items.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody", {}).get("content", {})
            operations.append(
                {
                    "id": f"{method}-{path}".replace("/", "-").strip("-"),
                    "method": method.upper(),
                    "path": path,
                    "tag": (operation.get("tags") or ["other"])[0],
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "parameters": [
                        {
                            "name": p["name"],
                            "where": p["in"],
                            "required": p.get("required", False),
                            "type": type_of(p.get("schema", {})),
                        }
                        for p in operation.get("parameters", [])
                    ],
                    "body": [
                        {"media": media, "type": type_of(content.get("schema", {}))}
                        for media, content in body.items()
                    ],
                    "responses": [
                        {"status": status, "description": answer.get("description", "")}
                        for status, answer in operation.get("responses", {}).items()
                    ],
                }
            )
    return operations


def _schemas(spec: dict[str, Any]) -> list[dict[str, Any]]:
    schemas = []
    for name, schema in sorted(spec.get("components", {}).get("schemas", {}).items()):
        required = set(schema.get("required", []))
        fields = [
            {
                "name": field,
                "type": type_of(sub),
                "required": field in required,
                "description": sub.get("description", ""),
            }
            for field, sub in schema.get("properties", {}).items()
        ]
        schemas.append(
            {"name": name, "description": schema.get("description", ""), "fields": fields}
        )
    return schemas


@router.get("/api/v1/docs")
def api_docs(request: Request) -> Response:
    spec = request.app.openapi()
    context = {
        "title": spec["info"]["title"],
        "operations": _operations(spec),
        "schemas": _schemas(spec),
    }
    return render(request, "api_docs.html", context)
