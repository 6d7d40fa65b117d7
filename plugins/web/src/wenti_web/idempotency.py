"""Idempotency-Key handling for POST requests that create something.

Semantics follow Stripe's documented behaviour:

* the first request with a key runs; once it has started executing, its status,
  body and key headers are stored, server errors included;
* a later request with the same key and the same body gets the stored response;
* the same key with a different body (or path) is rejected with 422;
* a request arriving while the first one is still running gets 409;
* a request rejected before it started (malformed body, validation, auth) stores
  nothing, so the client can fix it and retry with the same key;
* keys are scoped to (tenant, user) and forgotten after `idempotency_hours`.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from litestar import Response
from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from wenti.app import App

from wenti_web.problems import ApiProblem
from wenti_web.tables import aware, idempotency_keys

log = logging.getLogger(__name__)

MAX_KEY_LENGTH = 255
# Headers of the first response that a replay repeats.
_KEPT_HEADERS = ("location", "etag", "content-type")
# Statuses that mean the request never started executing, so nothing is stored.
_NOT_STORED = {400, 401, 413, 415, 422, 428, 429}


def request_hash(method: str, path: str, body: bytes) -> str:
    """Hash of what the request asks for; JSON bodies are canonicalised first."""
    try:
        canonical = json.dumps(json.loads(body), sort_keys=True, ensure_ascii=False).encode("utf-8")
    except (ValueError, UnicodeDecodeError):
        canonical = body
    digest = hashlib.sha256()
    for part in (method.encode(), b"\0", path.encode(), b"\0", canonical):
        digest.update(part)
    return digest.hexdigest()


def _condition(tenant_id: str, username: str, key: str) -> Any:
    return and_(
        idempotency_keys.c.tenant_id == tenant_id,
        idempotency_keys.c.username == username,
        idempotency_keys.c.key == key,
    )


def _replay(row: Any) -> Response:
    headers = json.loads(row.response_headers or "{}")
    media_type = headers.pop("content-type", "application/json")
    headers["Idempotent-Replayed"] = "true"
    return Response(content=row.response_body or b"", status_code=row.status_code, headers=headers, media_type=media_type)


def _claim(app: App, tenant_id: str, username: str, key: str, fingerprint: str) -> Response | None:
    """Record the key as in flight; return a stored response when this is a replay."""
    now = app.clock.now()
    ttl = timedelta(hours=app_state_ttl(app))
    with app.uow(tenant_id) as uow:
        conn = uow.sql_connection()
        row = conn.execute(select(idempotency_keys).where(_condition(tenant_id, username, key))).first()
        if row is not None and now - aware(row.created_at) > ttl:
            conn.execute(delete(idempotency_keys).where(_condition(tenant_id, username, key)))
            row = None
        if row is None:
            try:
                conn.execute(
                    insert(idempotency_keys).values(
                        tenant_id=tenant_id, username=username, key=key, request_hash=fingerprint, created_at=now
                    )
                )
                uow.commit()
                return None
            except IntegrityError:
                # Another request inserted the same key between our read and write.
                raise ApiProblem(
                    "idempotency-in-progress",
                    "A request with this Idempotency-Key is still being processed. Retry in a moment.",
                ) from None
    if row.request_hash != fingerprint:
        raise ApiProblem(
            "idempotency-key-reused",
            "This Idempotency-Key was used for a different request. Use a new key for a new request.",
        )
    if row.completed_at is None:
        raise ApiProblem(
            "idempotency-in-progress",
            "A request with this Idempotency-Key is still being processed. Retry in a moment.",
        )
    return _replay(row)


def _store(app: App, tenant_id: str, username: str, key: str, response: Response, body: bytes) -> None:
    headers = {name: value for name, value in response.headers.items() if name.lower() in _KEPT_HEADERS}
    headers["content-type"] = str(response.media_type or "application/json")
    with app.uow(tenant_id) as uow:
        uow.sql_connection().execute(
            update(idempotency_keys)
            .where(_condition(tenant_id, username, key))
            .values(
                completed_at=app.clock.now(),
                status_code=response.status_code,
                response_body=body,
                response_headers=json.dumps(headers),
            )
        )
        uow.commit()


def _forget(app: App, tenant_id: str, username: str, key: str) -> None:
    with app.uow(tenant_id) as uow:
        uow.sql_connection().execute(delete(idempotency_keys).where(_condition(tenant_id, username, key)))
        uow.commit()


def app_state_ttl(app: App) -> int:
    from wenti_web.config import web_config

    return web_config(app).idempotency_hours


def run_idempotent(
    app: App,
    tenant_id: str,
    username: str,
    key: str | None,
    fingerprint: str,
    execute: Callable[[], Response],
    encode: Callable[[Response], bytes],
    to_problem: Callable[[Exception], Response],
) -> Response:
    """Run `execute` at most once per key; see the module docstring for the rules.

    `encode` renders a response body to the bytes stored for replays, and
    `to_problem` turns an exception from `execute` into the error response.
    """
    if key is None:
        return execute()
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise ApiProblem("malformed-request", "The Idempotency-Key header must have 1 to 255 characters.")

    stored = _claim(app, tenant_id, username, key, fingerprint)
    if stored is not None:
        return stored

    try:
        response = execute()
    except Exception as error:  # noqa: BLE001 - every outcome is stored or forgotten
        response = to_problem(error)
    if response.status_code in _NOT_STORED:
        _forget(app, tenant_id, username, key)
        return response

    body = encode(response)
    _store(app, tenant_id, username, key, response, body)
    headers = dict(response.headers)
    return Response(content=body, status_code=response.status_code, headers=headers, media_type=response.media_type)
