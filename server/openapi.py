"""What the generated OpenAPI document needs beyond what Litestar writes.

Run once at startup (`finish_document`), over the document Litestar built:
- Litestar documents a 400 "Validation Exception" on every route with input;
  this server answers bad input with a 422 problem instead (errors.py), so
  the 400 goes and every operation that takes input documents the 422 (and
  413 for a body over MAX_REQUEST_BODY_BYTES); every one but /health
  documents the 503s of a database that is down, busy or too slow.
- Public routes (`opt={"exclude_from_auth": True}`, the ones the bearer
  middleware lets through) carry no security requirement; every other
  operation inherits the document's bearer requirement.
- Request bodies (the Structs declared with `forbid_unknown_fields`) are
  described by msgspec's own JSON Schema, which states every bound msgspec
  enforces: Litestar's generator drops those of a field typed
  `Annotated[...] | UnsetType` (every PATCH body) and of list items. They say
  `additionalProperties: false`, as the server refuses unknown fields.
  Checks a service makes itself, with its own `code`, are stated in the
  types as `Meta(extra_json_schema=...)` (push tokens, links, time zones).
- Rules across fields that JSON Schema can state, which a Struct cannot
  (`CROSS_FIELD`).
- Links from what a create returns to the routes of the thing created
  (`POST /v1/events` 201 → `/v1/events/{event_id}...` with `event_id` from
  the body's `id`), so clients and tools (Schemathesis' stateful phase) can
  follow them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import msgspec
from litestar import Litestar
from litestar.openapi.spec import (
    Link,
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    Reference,
    RequestBody,
    Schema,
)
from litestar.routes import HTTPRoute

from server.errors import DATABASE_PROBLEMS, PROBLEM_DESCRIPTION, PROBLEM_JSON

METHODS = ("get", "put", "post", "delete", "patch")
PUBLIC_OPT = "exclude_from_auth"
# Request body component → JSON Schema keywords, for rules the types cannot carry.
CROSS_FIELD: dict[str, dict[str, Any]] = {
    # PATCH /v1/me: the centre of the distance filter is set as a whole point.
    "MePatch": {
        "dependentRequired": {
            "home_latitude": ["home_longitude"],
            "home_longitude": ["home_latitude"],
        }
    },
}


def _structs(cls: type[msgspec.Struct] = msgspec.Struct) -> Iterator[type[msgspec.Struct]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _structs(sub)


def _request_bodies() -> dict[str, type[msgspec.Struct]]:
    """The Structs that refuse unknown fields (request bodies), by name, leaving
    out names shared with any other Struct."""
    found: dict[str, set[type[msgspec.Struct]]] = {}
    for struct in _structs():  # a class reached twice (two bases) counts once
        found.setdefault(struct.__name__, set()).add(struct)
    bodies = {}
    for name, structs in found.items():
        if len(structs) == 1:
            (struct,) = structs
            if struct.__struct_config__.forbid_unknown_fields:
                bodies[name] = struct
    return bodies


def _msgspec_schemas(structs: list[type[msgspec.Struct]]) -> dict[str, dict[str, Any]]:
    usable = []
    for struct in structs:
        try:
            msgspec.json.schema(struct)
        except TypeError:
            continue  # a multipart upload (UploadFile): Litestar's schema stays
        usable.append(struct)
    _, components = msgspec.json.schema_components(
        usable, ref_template="#/components/schemas/{name}"
    )
    return components


def _template(path: str) -> str:
    """A Litestar path (`/v1/events/{event_id:uuid}`) as the document writes it."""
    return re.sub(r"\{(\w+):\w+\}", r"{\1}", path)


Operations = set[tuple[str, str]]


def _operations(app: Litestar) -> tuple[Operations, Operations]:
    """(public operations, operations whose body may be left out), as (path, method)."""
    public: Operations = set()
    optional_body: Operations = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            keys = {(_template(route.path), m.lower()) for m in handler.http_methods}
            handler.resolve_opts()  # merges the owners' opt into handler.opt
            if handler.opt.get(PUBLIC_OPT):
                public |= keys
            body = handler.parsed_fn_signature.parameters.get("data")
            if body is not None and body.has_default:
                optional_body |= keys
    return public, optional_body


def _problem_response(codes: str) -> OpenAPIResponse:
    return OpenAPIResponse(
        description=PROBLEM_DESCRIPTION + codes,
        content={
            PROBLEM_JSON: OpenAPIMediaType(schema=Reference(ref="#/components/schemas/Problem"))
        },
    )


def _ours(response: OpenAPIResponse | Reference) -> bool:
    """A response errors.problems() declared (Litestar's own 400 is not)."""
    return isinstance(response, OpenAPIResponse) and response.description.startswith(
        PROBLEM_DESCRIPTION
    )


def _takes_input(operation: Operation) -> bool:
    return bool(operation.parameters) or operation.request_body is not None


def _has_cursor(operation: Operation) -> bool:
    return any(getattr(p, "name", None) == "cursor" for p in operation.parameters or [])


def _fields(response: OpenAPIResponse, schemas: dict[str, Any]) -> set[str]:
    """The top-level property names of a JSON response's body."""
    media = (response.content or {}).get("application/json")
    schema = media.schema if media is not None else None
    if isinstance(schema, Reference):
        schema = schemas.get(schema.ref.rsplit("/", 1)[-1])
    if isinstance(schema, Schema):
        return set(schema.properties or {})
    if isinstance(schema, dict):
        return set(schema.get("properties", {}))
    return set()


def _link_created(paths: dict[str, Any], schemas: dict[str, Any]) -> None:
    """On each create (POST answering 201 with an object) of a path P, a link to
    every operation of P/{x}...: x is the created object's field of that name
    if it has one (a block's `profile_id`), else its `id`; the parameters
    before it come from the create's own path."""
    for path, item in paths.items():
        create = getattr(item, "post", None)
        created = (create.responses or {}).get("201") if create else None
        if not isinstance(created, OpenAPIResponse):
            continue
        fields = _fields(created, schemas)
        if not fields:
            continue
        links: dict[str, Link | Reference] = {}
        for target, target_item in paths.items():
            found = re.fullmatch(re.escape(path) + r"/\{(\w+)\}(/[^{}]*)?", target)
            if not found:
                continue  # not below P, or it needs an id this response cannot give
            key = found.group(1)
            if key not in fields and "id" not in fields:
                continue
            parameters: dict[str, Any] = {key: f"$response.body#/{key if key in fields else 'id'}"}
            for name in re.findall(r"\{(\w+)\}", path):
                parameters[name] = f"$request.path.{name}"
            for method in METHODS:
                operation = getattr(target_item, method, None)
                if operation is not None and operation.operation_id:
                    links[f"{method}_{operation.operation_id}"] = Link(
                        operation_id=operation.operation_id, parameters=parameters
                    )
        if links:
            created.links = links


def finish_document(app: Litestar) -> None:
    document = app.openapi_schema
    public, optional_body = _operations(app)
    schemas: dict[str, Any] = document.components.schemas or {}
    assert isinstance(schemas.get("Problem"), Schema), "errors.Problem is in the document"
    bodies = {name: s for name, s in _request_bodies().items() if name in schemas}
    for name, schema in _msgspec_schemas(list(bodies.values())).items():
        if name in bodies or name not in schemas:
            schemas[name] = schema
    for name in bodies:
        schema = schemas[name]
        if isinstance(schema, Schema):
            schema.additional_properties = False
        else:
            schema["additionalProperties"] = False
    for name, keywords in CROSS_FIELD.items():
        schemas[name].update(keywords)
    _link_created(document.paths or {}, schemas)
    for path, item in (document.paths or {}).items():
        for method in METHODS:
            operation: Operation | None = getattr(item, method, None)
            if operation is None:
                continue
            responses = operation.responses if operation.responses is not None else {}
            generic = responses.get("400")
            if generic is not None and not _ours(generic):
                del responses["400"]
            if _takes_input(operation) and "422" not in responses:
                cursor = ", invalid_cursor" if _has_cursor(operation) else ""
                responses["422"] = _problem_response("validation_error" + cursor)
            if operation.request_body is not None and "413" not in responses:
                responses["413"] = _problem_response("payload_too_large")
            if path != "/health" and "503" not in responses:
                # Every route but /health can meet the database down, busy or slow.
                responses["503"] = _problem_response(", ".join(DATABASE_PROBLEMS))
            operation.responses = responses
            if (path, method) in public:
                operation.security = []
            if (path, method) in optional_body and isinstance(operation.request_body, RequestBody):
                operation.request_body.required = False
