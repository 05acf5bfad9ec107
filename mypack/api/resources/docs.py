"""``/api/v1/docs``: the API's reference as a plain HTML page (no script, no CDN),
made from the OpenAPI document that flask-smorest builds from the resources.

A flask-smorest Blueprint, so it is mounted like the other resources, but its route is
added with Flask's own ``add_url_rule``: the page is not itself part of the document.
"""

from __future__ import annotations

import json

import flask
from flask import render_template

from mypack.api.document import api
from mypack.api.parsing import Blueprint

blp = Blueprint("api_docs", __name__, url_prefix="/api/v1/docs",
                description="This reference, as HTML")

METHODS = ("get", "post", "put", "patch", "delete")


def _schema_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def describe_type(schema: dict) -> str:
    """A schema's type in a few words: ``string (date-time)``, ``array of Token`` ..."""
    if "$ref" in schema:
        return _schema_name(schema["$ref"])
    if "allOf" in schema:
        return " & ".join(describe_type(part) for part in schema["allOf"])
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if kind == "array":
        kind = f"array of {describe_type(schema.get('items', {}))}"
    elif schema.get("format"):
        kind = f"{kind} ({schema['format']})"
    if schema.get("enum"):
        kind += ": one of " + ", ".join(map(str, schema["enum"]))
    return kind


def _limits(schema: dict) -> str:
    words = []
    for key, label in (("minimum", "min"), ("maximum", "max"), ("minLength", "min length"),
                       ("maxLength", "max length"), ("default", "default")):
        if key in schema:
            words.append(f"{label} {json.dumps(schema[key])}")
    if schema.get("readOnly"):
        words.append("read-only")
    if schema.get("nullable"):
        words.append("may be null")
    return ", ".join(words)


def schema_fields(schema: dict, components: dict) -> list[dict]:
    """The fields of an object schema (a reference is followed), one dict each."""
    if "$ref" in schema:
        schema = components.get(_schema_name(schema["$ref"]), {})
    if schema.get("type") == "array":
        return schema_fields(schema.get("items", {}), components)
    required = set(schema.get("required", ()))
    return [{"name": name, "type": describe_type(field), "required": name in required,
             "limits": _limits(field), "description": field.get("description", "")}
            for name, field in schema.get("properties", {}).items()]


def _body(content: dict | None, components: dict) -> dict | None:
    if not content:
        return None
    media_type, body = next(iter(content.items()))
    schema = body.get("schema", {})
    return {"media_type": media_type, "type": describe_type(schema),
            "fields": schema_fields(schema, components)}


def _parameters(operation: dict, shared: list) -> list[dict]:
    found = []
    for parameter in [*shared, *operation.get("parameters", ())]:
        schema = parameter.get("schema", {})
        found.append({"name": parameter["name"], "in": parameter.get("in", ""),
                      "required": parameter.get("required", False),
                      "type": describe_type(schema), "limits": _limits(schema),
                      "description": parameter.get("description", "")})
    return found


def operations(spec: dict) -> list[dict]:
    """Every operation of the document, by path then method, ready to show."""
    components = spec.get("components", {}).get("schemas", {})
    found = []
    for path, item in sorted(spec.get("paths", {}).items()):
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            request_body = operation.get("requestBody") or {}
            responses = [{"status": status, "description": response.get("description", ""),
                          "body": _body(response.get("content"), components)}
                         for status, response in sorted(operation.get("responses", {}).items())]
            found.append({
                "path": path, "method": method.upper(),
                "anchor": f"{method}-{path}".replace("/", "-").strip("-"),
                "summary": operation.get("summary", ""),
                "description": operation.get("description", ""),
                "tags": operation.get("tags", []),
                "parameters": _parameters(operation, item.get("parameters", [])),
                "request": _body(request_body.get("content"), components),
                "request_required": request_body.get("required", False),
                "responses": responses,
            })
    return found


def docs_page():
    """The API reference."""
    spec = api.spec.to_dict()
    components = spec.get("components", {}).get("schemas", {})
    schemas = [{"name": name, "description": schema.get("description", ""),
                "fields": schema_fields(schema, components)}
               for name, schema in sorted(components.items())]
    return render_template("api/docs.html", info=spec.get("info", {}),
                           operations=operations(spec), schemas=schemas,
                           security=spec.get("components", {}).get("securitySchemes", {}))


# Flask's add_url_rule, not flask-smorest's: the page stays out of the OpenAPI document.
flask.Blueprint.add_url_rule(blp, "", "docs", docs_page, methods=["GET"])
