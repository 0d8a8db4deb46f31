"""OpenAPI 3.1 documents of the platform's APIs, built from what serves them so they cannot drift.

Paths, methods, path parameters and who may call (a route behind the tenant authorizer needs a
bearer token) come from Chalice's routing table (``app.routes``); request bodies from the very
``BodySchema`` the handler validates with (``tenant_context.service.validation``). What the code
cannot say by itself (a summary, the success responses' shapes, the statuses a handler adds) is
one ``Operation`` per route, keyed by its method and path: a route without one, or one without
a route, fails the document's build (and so the test that builds every app's), naming it.

The statuses every route of a kind answers are added here, once: 401, 403 and 429 for an
authorized route (the authorizer and the usage plan), 400 for a body or a query parameter, 404
for a path parameter, and 415 for every route (Chalice refuses a ``Content-Type`` other than
JSON before any view, ``tenant_context.service.responses``). Each app serves its document on
a public route (``serve_document``): no token, no data, nothing but what the routes already
tell any caller.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from chalice import Chalice, Response

from tenant_context.errors import ConfigurationError
from tenant_context.service.chalice_app import PlatformApp
from tenant_context.service.responses import CORS, json_response
from tenant_context.service.validation import (
    BodySchema,
    Choice,
    Email,
    FieldSpec,
    ListOf,
    Number,
    Text,
)

OPENAPI_VERSION = "3.1.0"
DOCUMENT_PATH = "/openapi.json"  # an app's own document, under its base URL
BEARER = "bearerAuth"
JsonSchema = dict[str, Any]
# What the validators refuse in any text (``validation._CONTROL``), said the way JSON Schema can.
_NO_CONTROL_CHARACTERS = "^[^\\u0000-\\u001F\\u007F]*$"
_PATH_PARAMETER = re.compile(r"{([^}]+)}")


@dataclass(frozen=True)
class Schema:
    """A named schema: one entry of ``components/schemas``, referenced wherever it is used."""

    name: str
    schema: Mapping[str, Any]


SchemaSource = Schema | BodySchema[Any] | Mapping[str, Any]

ERROR = Schema("Error", {
    "type": "object", "required": ["message"],
    "properties": {"message": {"type": "string"},
                   "fields": {"type": "array", "items": {"type": "string"},
                              "description": "the offending fields (a 400)"}}})
# API Gateway's own 403 when the authorizer denies a route (``ACCESS_DENIED``, and chalice
# local's the same) is ``{"Message": ...}``; a handler's 403 is ``{"message": ...}``.
FORBIDDEN = Schema("Forbidden", {"anyOf": [
    ERROR, {"type": "object", "required": ["Message"],
            "properties": {"Message": {"type": "string"}}}]})
MESSAGE = Schema("Message", {"type": "object", "required": ["message"],
                             "properties": {"message": {"type": "string"}}})


@dataclass(frozen=True)
class Reply:
    """One documented response: what it means, its body and the headers it carries."""

    description: str
    schema: SchemaSource | None = ERROR
    headers: Mapping[str, str] = field(default_factory=dict)  # name -> description


@dataclass(frozen=True)
class Parameter:
    """A query or header parameter, or the schema of a path parameter: a validator's field
    (``Text`` ...) or a schema of its own."""

    name: str
    schema: FieldSpec | Mapping[str, Any]
    description: str = ""
    required: bool = False


@dataclass(frozen=True)
class Operation:
    """What ``app.routes`` cannot tell about one route."""

    summary: str
    responses: Mapping[int, Reply]
    body: BodySchema[Any] | None = None
    query: tuple[Parameter, ...] = ()
    headers: tuple[Parameter, ...] = ()
    path: tuple[Parameter, ...] = ()  # path parameters' schemas (default: a string)


Operations = Mapping[tuple[str, str], Operation]  # (METHOD, path as routed) -> its operation


@dataclass(frozen=True)
class ApiDescription:
    title: str
    description: str
    operations: Operations
    version: str = "1"


# --- validators -> JSON Schema -------------------------------------------------------------

def _number(value: Decimal | None) -> int | float | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def field_schema(spec: FieldSpec | Mapping[str, Any], *, strict: bool = True) -> JsonSchema:
    """A field's schema: with every rule of its validator (``strict``, for what a client
    sends) or its type only (what a response carries: stored values are not re-validated)."""
    if not isinstance(spec, Text | Choice | Number | ListOf):
        return dict(spec)
    if isinstance(spec, Text):
        schema: JsonSchema = {"type": "string"}
        if strict:
            schema |= {"minLength": spec.min_length, "maxLength": spec.max_length}
            if isinstance(spec, Email):
                schema["format"] = "email"
            schema["pattern"] = f"^(?:{spec.pattern.pattern})$" if spec.pattern \
                else _NO_CONTROL_CHARACTERS
            if spec.charset:
                schema["description"] = f"only {spec.charset}"
        return schema
    if isinstance(spec, Choice):
        return dict(spec.schema or {})
    if isinstance(spec, Number):
        schema = {"type": "integer" if spec.integer else "number"}
        if strict:
            bounds = {"minimum": _number(spec.minimum), "maximum": _number(spec.maximum)}
            schema |= {name: value for name, value in bounds.items() if value is not None}
        return schema
    items = body_schema(spec.element, strict=strict)
    if not strict:
        return {"type": "array", "items": items}
    return {"type": "array", "minItems": spec.min_items, "maxItems": spec.max_items,
            "items": items}


def body_schema(body: BodySchema[Any], *, strict: bool = True) -> JsonSchema:
    """A body's object schema from its ``BodySchema``: the fields it reads, those it requires,
    and whether it refuses fields it does not know (``ignore_unknown``)."""
    schema: JsonSchema = {
        "type": "object",
        "properties": {spec.name: field_schema(spec, strict=strict) for spec in body.fields}}
    required = [spec.name for spec in body.fields if spec.required]
    if required:
        schema["required"] = required
    if strict and not body.ignore_unknown:
        schema["additionalProperties"] = False
    return schema


def paging_parameters(maximum: int) -> tuple[Parameter, ...]:
    """``?limit=N[&nextToken=...]``: how both APIs page a listing."""
    return (Parameter("limit", {"type": "integer", "minimum": 1, "maximum": maximum},
                      "page size: answers a page {items, nextToken} instead of the array"),
            Parameter("nextToken", {"type": "string", "minLength": 1},
                      "from the previous page's nextToken"))


def listing(item: SchemaSource) -> JsonSchema:
    """A listing's answer: every item in one array, or one page when paging was asked for."""
    return {"anyOf": [{"type": "array", "items": item},
                      {"type": "object", "required": ["items", "nextToken"],
                       "properties": {"items": {"type": "array", "items": item},
                                      "nextToken": {"type": ["string", "null"]}}}]}


# --- the document ----------------------------------------------------------------------------

class _Components:
    """Named schemas met while building, each once (two different schemas of one name are a
    mistake in the code, refused)."""

    def __init__(self) -> None:
        self.schemas: dict[str, JsonSchema] = {}

    def add(self, name: str, schema: JsonSchema) -> JsonSchema:
        if self.schemas.setdefault(name, schema) != schema:
            raise ConfigurationError(f"two different schemas are named {name!r}")
        return {"$ref": f"#/components/schemas/{name}"}

    def resolve(self, source: SchemaSource, *, strict: bool = True) -> JsonSchema:
        if isinstance(source, Schema):
            return self.add(source.name, self.nested(source.schema))
        if isinstance(source, BodySchema):
            name = source.type.__name__ if strict else f"{source.type.__name__}View"
            return self.add(name, body_schema(source, strict=strict))
        return {key: self.nested(value) for key, value in source.items()}

    def nested(self, value: Any) -> Any:
        """``value`` with every ``Schema`` or ``BodySchema`` inside it by reference."""
        if isinstance(value, Schema | BodySchema):
            return self.resolve(value)
        if isinstance(value, Mapping):
            return {key: self.nested(element) for key, element in value.items()}
        if isinstance(value, list | tuple):
            return [self.nested(element) for element in value]
        return value


def _routed(app: Chalice) -> dict[tuple[str, str], Any]:
    return {(method, path): entry for path, methods in app.routes.items()
            for method, entry in methods.items()}


def undocumented(app: Chalice, operations: Operations) -> tuple[list[str], list[str]]:
    """(routes without an operation, operations without a route): both empty, or drift."""
    routed = _routed(app)
    return ([f"{method} {path}" for method, path in routed if (method, path) not in operations],
            [f"{method} {path}" for method, path in operations if (method, path) not in routed])


def _standard_replies(operation: Operation, path: str, authorized: bool) -> dict[int, Reply]:
    replies: dict[int, Reply] = {}
    if operation.body is not None or operation.query or operation.headers:
        replies[400] = Reply("malformed JSON, or a missing, unknown or wrongly typed field or "
                             "parameter: the message and ``fields`` name each one")
    if authorized:
        replies[401] = Reply("no token, or a token that fails verification")
        replies[403] = Reply("a valid token whose role or tenant may not do this", FORBIDDEN)
        replies[429] = Reply("over the tier's rate or daily quota")
    if _PATH_PARAMETER.search(path):
        replies[404] = Reply("no such item or name (another tenant's included)")
    replies[415] = Reply("a Content-Type other than application/json (refused before the "
                         "route runs, whatever the route)")
    return replies


def _parameter(parameter: Parameter, where: str) -> JsonSchema:
    described = {"name": parameter.name, "in": where,
                 "required": parameter.required or where == "path",
                 "schema": field_schema(parameter.schema)}
    if parameter.description:
        described["description"] = parameter.description
    return described


def _operation(components: _Components, operation: Operation, path: str, entry: Any
               ) -> JsonSchema:
    authorized = entry.authorizer is not None
    schemas = {parameter.name: parameter for parameter in operation.path}
    names = _PATH_PARAMETER.findall(path)
    if unknown := set(schemas) - set(names):
        raise ConfigurationError(f"{entry.method} {path}: no path parameter {sorted(unknown)}")
    parameters = [_parameter(schemas.get(name, Parameter(name, {"type": "string"})), "path")
                  for name in names]
    parameters += [_parameter(parameter, "query") for parameter in operation.query]
    parameters += [_parameter(parameter, "header") for parameter in operation.headers]
    described: JsonSchema = {"operationId": entry.view_name, "summary": operation.summary}
    if parameters:
        described["parameters"] = parameters
    if operation.body is not None:
        described["requestBody"] = {"required": True, "content": {
            "application/json": {"schema": components.resolve(operation.body)}}}
    responses: JsonSchema = {}
    replies = _standard_replies(operation, path, authorized) | dict(operation.responses)
    for status, reply in sorted(replies.items()):
        answer: JsonSchema = {"description": reply.description}
        if reply.schema is not None:
            answer["content"] = {"application/json": {
                "schema": components.resolve(reply.schema)}}
        if reply.headers:
            answer["headers"] = {name: {"description": text, "schema": {"type": "string"}}
                                 for name, text in reply.headers.items()}
        responses[str(status)] = answer
    described["responses"] = responses
    if authorized:
        described["security"] = [{BEARER: []}]
    return described


def document(app: Chalice, api: ApiDescription) -> JsonSchema:
    """The OpenAPI document of ``app``'s routes, or ConfigurationError naming every route
    without an operation and every operation without a route."""
    missing, stale = undocumented(app, api.operations)
    if missing or stale:
        raise ConfigurationError(f"{app.app_name}: the OpenAPI operations do not match the "
                                 f"routes: undocumented {missing}, without a route {stale}")
    components = _Components()
    paths: dict[str, JsonSchema] = {}
    for (method, path), entry in sorted(_routed(app).items()):
        paths.setdefault(path, {})[method.lower()] = _operation(
            components, api.operations[(method, path)], path, entry)
    return {
        "openapi": OPENAPI_VERSION,
        "info": {"title": api.title, "version": api.version, "description": api.description},
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.schemas.items())),
            "securitySchemes": {BEARER: {
                "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                "description": "the caller's Cognito ID token"}}},
    }


def merged(title: str, description: str, documents: Iterable[JsonSchema]) -> JsonSchema:
    """One document of several apps under one base URL (the tenant API: every tenant
    service's): their paths and components together; a path or a schema name claimed twice
    differently is refused."""
    paths: dict[str, Any] = {}
    components = _Components()
    version = "1"
    for each in documents:
        version = each["info"]["version"]
        for path, operations in each["paths"].items():
            if paths.setdefault(path, operations) != operations:
                raise ConfigurationError(f"{path} is served by two of the documents")
        for name, schema in each["components"]["schemas"].items():
            components.add(name, schema)
    return {"openapi": OPENAPI_VERSION,
            "info": {"title": title, "version": version, "description": description},
            "paths": dict(sorted(paths.items())),
            "components": {"schemas": dict(sorted(components.schemas.items())),
                           "securitySchemes": {BEARER: {
                               "type": "http", "scheme": "bearer", "bearerFormat": "JWT",
                               "description": "the caller's Cognito ID token"}}}}


def document_operation(path: str = DOCUMENT_PATH) -> Operations:
    return {("GET", path): Operation(
        "this OpenAPI document (public: no token, no data)",
        {200: Reply("the OpenAPI 3.1 document", {"type": "object"})})}


def serve_document(platform: PlatformApp, api: ApiDescription,
                   path: str = DOCUMENT_PATH) -> Callable[[], Response]:
    """Registers ``GET path`` on the app: its document, built on the first request (not at
    import: a cold start never pays for it) and kept. Public on purpose: it holds the routes
    and rules any caller meets anyway, and no data."""
    described = ApiDescription(api.title, api.description,
                               {**api.operations, **document_operation(path)}, api.version)
    built = functools.cache(lambda: document(platform.app, described))

    def openapi_document() -> Response:
        return json_response(built())

    platform.app.route(path, methods=["GET"], cors=CORS)(openapi_document)
    return openapi_document
