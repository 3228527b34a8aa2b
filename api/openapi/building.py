"""The builders every area of the description uses: form fields as JSON Schema, strict
objects, `$ref`s and JSON answers."""

from django import forms

from generations import wan_api

# The size follows the picture unless asked for, so the API's default size is not the form's.
FORM_DEFAULTS = {
    name: value for name, value in wan_api.DEFAULTS.items() if name not in ("width", "height")
}


def ref(kind, name):
    return {"$ref": f"#/components/{kind}/{name}"}


def nullable(schema):
    """schema, or null: the answers write a missing value as null."""
    return {**schema, "type": [schema["type"], "null"]}


# --- requests: fields read from the forms, and the bodies that carry them -------------------


def field_schema(field):
    """A form field as JSON Schema: its type, limits, choices and help text."""
    if isinstance(field, forms.FileField):
        schema = {"type": "string", "contentMediaType": "application/octet-stream"}
    elif isinstance(field, forms.ModelChoiceField):  # before ChoiceField: it is one
        schema = {"type": "integer"}
    elif isinstance(field, forms.ChoiceField):
        schema = {"type": "string", "enum": [value for value, _ in field.choices if value]}
    elif isinstance(field, forms.BooleanField):  # NullBooleanField too
        schema = {"type": "boolean"}
    elif isinstance(field, forms.FloatField):  # before IntegerField: it is one
        schema = {"type": "number"}
    elif isinstance(field, forms.IntegerField):
        schema = {"type": "integer"}
    else:
        schema = {"type": "string"}
    limits = {
        "minimum": getattr(field, "min_value", None),
        "maximum": getattr(field, "max_value", None),
        "maxLength": getattr(field, "max_length", None),
    }
    schema.update({name: value for name, value in limits.items() if value is not None})
    if field.help_text:
        schema["description"] = str(field.help_text)
    return schema


def form_properties(form_class, names, notes):
    """{name: schema} for these fields of form_class, the API's defaults and notes added."""
    properties = {}
    for name in names:
        schema = field_schema(form_class.base_fields[name])
        if name in FORM_DEFAULTS:
            schema["default"] = FORM_DEFAULTS[name]
        if name in notes:
            schema["description"] = notes[name]
        properties[name] = schema
    return properties


def form_bodies(schema, *, json_too=False):
    bodies = {"multipart/form-data": {"schema": schema}}
    bodies["application/x-www-form-urlencoded"] = {"schema": schema}
    if json_too:
        bodies = {"application/json": {"schema": schema}, **bodies}
    return bodies


# --- answers --------------------------------------------------------------------------------

TIME = {"type": "string", "format": "date-time"}
LINK = {"type": "string", "format": "uri"}
SHA256 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}


def strict(properties, description=""):
    """An object that has every property and nothing else: a new field must be described."""
    schema = {
        "type": "object",
        "properties": properties,
        "required": list(properties),
        "additionalProperties": False,
    }
    if description:
        schema["description"] = description
    return schema


def json_answer(description, schema, example=None):
    media = {"schema": schema}
    if example is not None:
        media["example"] = example
    return {"description": description, "content": {"application/json": media}}
