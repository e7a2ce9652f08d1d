"""JSON request bodies are held to their declared types strictly.

Litestar 2 converts every handler argument with msgspec's lax rules
(`strict=False`): query strings need them ("5" is 5), but they also let a
JSON body say `"latitude": "40"` or `"sms_enabled": 0` where the OpenAPI
document says number and boolean. This `before_request` hook checks the
JSON body of each route that takes one against its declared type with the
strict rules first and refuses a mismatch with the 422 `validation_error`
Litestar itself answers; Litestar then parses the body as before.

One exception to strictness, JSON Schema's: `1.0` is an integer. One rule
beyond the types: no string holds NUL (`\u0000`), which PostgreSQL text
cannot store.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.exceptions import ValidationException
from litestar.params import BodyKwarg

_PATH = re.compile(r" - at `\$\.?(.*)`$")


def _refused(message: str, key: str) -> ValidationException:
    return ValidationException(
        detail=message, extra=[{"message": message, "key": key, "source": "body"}]
    )


def _normalised(value: Any, at: str = "") -> Any:
    """The decoded body with integral floats as ints; raises on a NUL anywhere."""
    if isinstance(value, str):
        if "\x00" in value:
            raise _refused("Text must not contain NUL characters", at or "body")
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [_normalised(v, f"{at}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {
            _normalised(k, at or "body"): _normalised(v, f"{at}.{k}" if at else k)
            for k, v in value.items()
        }
    return value


def _json_body_type(request: Request[Any, Any, Any]) -> Any:
    field = request.route_handler.parsed_fn_signature.parameters.get("data")
    if field is None:
        return None
    kwarg = field.kwarg_definition
    if isinstance(kwarg, BodyKwarg) and kwarg.media_type != RequestEncodingType.JSON:
        return None  # multipart and url-encoded forms are strings by nature
    return field.annotation


async def strict_json_body(request: Request[Any, Any, Any]) -> None:
    body_type = _json_body_type(request)
    if body_type is None:
        return
    raw = await request.body()
    if not raw.strip():
        return  # a missing body is Litestar's to judge (optional or required)
    try:
        value = _normalised(msgspec.json.decode(raw))
        msgspec.convert(value, body_type, strict=True)
    except msgspec.ValidationError as exc:
        message = str(exc)
        found = _PATH.search(message)
        key = found.group(1) if found and found.group(1) else "body"
        raise _refused(_PATH.sub("", message), key) from None
    except msgspec.DecodeError:
        return  # not JSON at all: Litestar answers 422 malformed_json
