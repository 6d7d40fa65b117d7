"""Helpers shared by the API handlers."""

from __future__ import annotations

import json
from typing import Any

import attrs
from litestar import Request, Response
from litestar.di import Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.serialization import encode_json

from wenti_web.auth import Principal, provide_principal, wenti_app
from wenti_web.idempotency import request_hash, run_idempotent
from wenti_web.problems import ApiProblem, handle_exception


async def provide_raw_body(request: Request) -> bytes:
    # Litestar caches the body, so reading it here does not stop `data` from parsing it.
    return await request.body()


def _problem(description: str) -> ResponseSpec:
    from wenti_web.api.models import ProblemDetails

    return ResponseSpec(data_container=ProblemDetails, media_type="application/problem+json", description=description)


# Error responses every API operation may give; documented so clients and schema
# checks know the problem-details body.
PROBLEM_RESPONSES = {
    400: _problem("Malformed request, unknown field or invalid header"),
    401: _problem("Not signed in, or the API token is invalid"),
    403: _problem("Permission denied, missing token scope or failed CSRF check"),
    404: _problem("Not found, or not visible to the caller"),
    405: _problem("Method not allowed"),
    409: _problem("A request with the same Idempotency-Key is still running"),
    412: _problem("If-Match does not match the current version"),
    413: _problem("Request body or file too large"),
    415: _problem("File type not allowed"),
    422: _problem("Input rejected by validation or the workflow"),
    428: _problem("If-Match header missing"),
    429: _problem("Too many requests"),
    500: _problem("Internal error"),
}

API_DEPENDENCIES = {
    "principal": Provide(provide_principal),
    "raw_body": Provide(provide_raw_body),
}


def reject_unknown_fields(raw_body: bytes, model: type) -> set[str]:
    """Raise 400 for keys the model does not declare; return the keys that were sent."""
    try:
        payload = json.loads(raw_body or b"{}")
    except ValueError as error:
        raise ApiProblem("malformed-request", "The request body is not valid JSON: {error}", error=str(error)) from None
    if not isinstance(payload, dict):
        raise ApiProblem("malformed-request", "The request body must be a JSON object.")
    known = set(attrs.fields_dict(model))
    unknown = sorted(set(payload) - known)
    if unknown:
        raise ApiProblem(
            "unknown-field",
            "Unknown field {fields}; accepted fields are: {known}.",
            fields=", ".join(unknown),
            known=", ".join(sorted(known)),
        )
    return set(payload)


def encode(response: Response) -> bytes:
    content = response.content
    if isinstance(content, bytes):
        return content
    return encode_json(content)


def problem_for(request: Request) -> Any:
    def convert(error: Exception) -> Response:
        return handle_exception(request, error)

    return convert


def idempotent_post(request: Request, principal: Principal, key: str | None, raw_body: bytes, execute) -> Response:
    """Run a creating POST's `execute` at most once per `Idempotency-Key`, keyed on its path and body."""
    return run_idempotent(
        wenti_app(request),
        principal.ctx.tenant_id,
        principal.username,
        key,
        request_hash("POST", request.url.path, raw_body),
        execute,
        encode,
        problem_for(request),
    )
