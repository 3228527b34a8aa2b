"""GET /api/schema/ (the OpenAPI document) and GET /api/docs/ (the same, as a page for people).

Both are public, as /healthz is: they describe the code (as the README does), never anyone's
data; scripts and schema tools read them before they hold a token, and the page tells a newcomer
how to get one. Every operation they describe still asks for its token or session.
"""

import json

from django.contrib.auth.decorators import login_not_required
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET

from api import openapi

METHODS = ("get", "head", "post", "put", "patch", "delete")


@login_not_required
@require_GET
def schema(request):
    return JsonResponse(openapi.document(), json_dumps_params={"indent": 2})


@login_not_required
@require_GET
def docs(request):
    document = openapi.document()
    context = {
        "introduction": prose(document["info"]["description"]),
        "operations": operations(document),
        "objects": objects(document),
    }
    return render(request, "api/docs.html", context)


# --- the document, read for the page ---------------------------------------------------------


def prose(text):
    """text escaped, with its `code` spans marked up."""
    parts = str(text).split("`")
    marked = (
        f"<code>{escape(part)}</code>" if index % 2 else escape(part)
        for index, part in enumerate(parts)
    )
    return mark_safe("".join(marked))


def resolve(document, item):
    """item, or what its $ref points to."""
    while "$ref" in item:
        node = document
        for part in item["$ref"].removeprefix("#/").split("/"):
            node = node[part]
        item = node
    return item


def type_label(schema):
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    if "oneOf" in schema:
        return " or ".join(type_label(choice) for choice in schema["oneOf"])
    if "const" in schema:
        return json.dumps(schema["const"])
    kinds = schema.get("type", "any")
    names = []
    for kind in [kinds] if isinstance(kinds, str) else kinds:
        if kind == "array" and "items" in schema:
            names.append(f"list of {type_label(schema['items'])}")
        elif kind == "string" and "contentMediaType" in schema:
            names.append("file")
        else:
            names.append(kind)
    return " or ".join(names)


def number(value):
    return f"{value:g}" if isinstance(value, float) else str(value)


def object_names(schema):
    """The named objects a schema is, for links: Generation, or Generation and Batch."""
    choices = schema.get("oneOf", [schema])
    return [choice["$ref"].rsplit("/", 1)[1] for choice in choices if "$ref" in choice]


def rules(schema):
    """A value's limits, in words."""
    found = []
    if "enum" in schema:
        found.append("one of " + ", ".join(str(value) for value in schema["enum"]))
    if "minimum" in schema and "maximum" in schema:
        found.append(f"{number(schema['minimum'])} to {number(schema['maximum'])}")
    elif "minimum" in schema:
        found.append(f"at least {number(schema['minimum'])}")
    elif "maximum" in schema:
        found.append(f"at most {number(schema['maximum'])}")
    if "maxLength" in schema:
        found.append(f"at most {schema['maxLength']} characters")
    if "maxItems" in schema:
        found.append(f"at most {schema['maxItems']} items")
    if "format" in schema:
        found.append(schema["format"])
    if "default" in schema:
        found.append(f"default {json.dumps(schema['default'])}")
    return "; ".join(found)


def fields(document, schema):
    schema = resolve(document, schema)
    required = set(schema.get("required", ()))
    return [
        {
            "name": name,
            "type": type_label(value),
            "required": name in required,
            "rules": rules(value),
            "description": prose(value.get("description", "")),
        }
        for name, value in schema.get("properties", {}).items()
    ]


def pretty(example):
    return None if example is None else json.dumps(example, indent=2, ensure_ascii=False)


def who_may(document, operation):
    security = operation.get("security", document["security"])
    if not security:
        return "Anyone"
    if {} in security:
        return "Anyone; more with a token"
    return "A token or a session"


def parameter_row(document, parameter):
    parameter = resolve(document, parameter)
    return {
        "name": parameter["name"],
        "where": parameter["in"],
        "type": type_label(parameter["schema"]),
        "required": parameter.get("required", False),
        "rules": rules(parameter["schema"]),
        "description": prose(parameter.get("description", "")),
    }


def bodies(document, operation):
    """The request body by schema: media types that share one are shown once."""
    groups = []
    content = operation.get("requestBody", {}).get("content", {})
    for media, described in content.items():
        if groups and groups[-1]["schema"] == described["schema"]:
            groups[-1]["media"].append(media)
            continue
        groups.append(
            {
                "media": [media],
                "schema": described["schema"],
                "description": prose(described["schema"].get("description", "")),
                "fields": fields(document, described["schema"]),
                "example": pretty(described.get("example")),
            }
        )
    return groups


def response_rows(document, operation):
    rows = []
    for status, answer in operation["responses"].items():
        answer = resolve(document, answer)
        content = answer.get("content", {})
        json_schema = content.get("application/json", {}).get("schema", {})
        names = object_names(json_schema)
        rows.append(
            {
                "status": status,
                "description": prose(answer["description"]),
                "media": list(content),
                "objects": names,
                "type": "" if names or not json_schema else type_label(json_schema),
                "example": pretty(content.get("application/json", {}).get("example")),
            }
        )
    return rows


def operations(document):
    found = []
    for path, item in document["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            operation = item[method]
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "anchor": operation["operationId"],
                    "summary": operation["summary"],
                    "description": prose(operation.get("description", "")),
                    "who": who_may(document, operation),
                    "parameters": [
                        parameter_row(document, parameter)
                        for parameter in item.get("parameters", [])
                        + operation.get("parameters", [])
                    ],
                    "bodies": bodies(document, operation),
                    "responses": response_rows(document, operation),
                }
            )
    return found


def objects(document):
    return [
        {
            "name": name,
            "description": prose(schema.get("description", "")),
            "fields": fields(document, schema),
        }
        for name, schema in document["components"]["schemas"].items()
        if "properties" in schema
    ]
