"""RFC 9457 problem details for every API error.

Each kind of error has a stable `type` URI (`urn:wenti:problem:<slug>`) that clients
may branch on. `title` and `detail` are in the caller's language and may change.
"""

from __future__ import annotations

import logging
from typing import Any

from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotFoundException,
    ValidationException,
)
from litestar.response import Redirect
from wenti.errors import Conflict, NotFound, PermissionDenied, ValidationFailed, WentiError
from wenti.i18n import N_

from wenti_web.translation import translate_any
from wenti_web.uploads import UploadRejected

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:wenti:problem:"

# slug -> (HTTP status, English title msgid)
PROBLEM_TYPES: dict[str, tuple[int, str]] = {
    "malformed-request": (400, N_("Malformed request")),
    "unknown-field": (400, N_("Unknown field")),
    "not-authenticated": (401, N_("Not signed in")),
    "forbidden": (403, N_("Permission denied")),
    "csrf-failed": (403, N_("Security check failed")),
    "not-found": (404, N_("Not found")),
    "method-not-allowed": (405, N_("Method not allowed")),
    "idempotency-in-progress": (409, N_("Request still in progress")),
    "precondition-failed": (412, N_("The issue has changed")),
    "payload-too-large": (413, N_("File too large")),
    "unsupported-media-type": (415, N_("File type not allowed")),
    "validation-failed": (422, N_("Invalid input")),
    "idempotency-key-reused": (422, N_("Idempotency key reused")),
    "precondition-required": (428, N_("If-Match header required")),
    "too-many-requests": (429, N_("Too many attempts")),
    "internal-error": (500, N_("Internal error")),
}


class ApiProblem(Exception):
    """An error with a problem type, a translatable detail and optional extra members."""

    def __init__(
        self,
        slug: str,
        message_id: str,
        *,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
        **params: Any,
    ) -> None:
        if slug not in PROBLEM_TYPES:
            raise ValueError(f"unknown problem type {slug!r}; add it to PROBLEM_TYPES first")
        super().__init__(message_id.format(**params) if params else message_id)
        self.slug = slug
        self.status = PROBLEM_TYPES[slug][0]
        self.message_id = message_id
        self.params = params
        self.headers = headers or {}
        self.extra = extra or {}

    def detail(self, locale: str) -> str:
        text = translate_any(self.message_id, locale)
        return text.format(**self.params) if self.params else text


class LoginRequired(Exception):
    """Raised by UI handlers when nobody is signed in, so the response is a redirect to the login page."""


def request_locale(request: Request) -> str:
    principal = request.scope.get("state", {}).get("principal")
    if principal is not None:
        return principal.ctx.locale
    from wenti_web.auth import anonymous_locale

    return anonymous_locale(request)


def problem_response(request: Request, problem: ApiProblem) -> Response:
    locale = request_locale(request)
    title = translate_any(PROBLEM_TYPES[problem.slug][1], locale)
    body: dict[str, Any] = {
        "type": TYPE_PREFIX + problem.slug,
        "title": title,
        "status": problem.status,
        "detail": problem.detail(locale),
        "instance": request.url.path,
    }
    body.update(problem.extra)
    return Response(body, status_code=problem.status, media_type=PROBLEM_JSON, headers=problem.headers)


def from_wenti_error(error: WentiError) -> ApiProblem:
    """Map a service-layer error to its problem type, keeping its message and parameters."""
    if isinstance(error, NotFound):
        slug = "not-found"
    elif isinstance(error, PermissionDenied):
        slug = "forbidden"
    elif isinstance(error, Conflict):
        slug = "precondition-failed"
    elif isinstance(error, ValidationFailed):
        problem = ApiProblem("validation-failed", error.message_id, **error.params)
        if error.reasons:
            problem.extra["errors"] = list(error.reasons)
        return problem
    else:
        slug = "validation-failed"
    return ApiProblem(slug, error.message_id, **error.params)


def from_litestar_error(error: HTTPException) -> ApiProblem:
    if isinstance(error, ValidationException):
        detail = str(error.detail or "")
        if "malformed" in detail.lower() or "decode" in detail.lower():
            return ApiProblem("malformed-request", "The request body is not valid JSON: {error}", error=detail)
        fields = [f"{item.get('key', '?')}: {item.get('message', '')}" for item in (error.extra or []) if isinstance(item, dict)]
        return ApiProblem(
            "validation-failed",
            "The request does not match the schema: {errors}",
            errors="; ".join(fields) or detail,
            extra={"errors": fields},
        )
    if isinstance(error, NotFoundException):
        return ApiProblem("not-found", "No resource at this address.")
    if isinstance(error, MethodNotAllowedException):
        return ApiProblem("method-not-allowed", "This method is not allowed here.")
    if error.status_code == 413:
        return ApiProblem("payload-too-large", "The request body is too large.")
    if error.status_code == 415:
        return ApiProblem("unsupported-media-type", "This content type is not accepted here.")
    if error.status_code == 401:
        return ApiProblem("not-authenticated", "Sign in or send an API token in the Authorization header.")
    if error.status_code == 403:
        return ApiProblem("forbidden", "Permission denied.")
    return ApiProblem("malformed-request", "The request could not be processed: {error}", error=str(error.detail))


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _ui_error_page(request: Request, status: int, message: str) -> Response:
    from wenti_web.rendering import render

    return render(request, "error.html", status_code=status, status=status, message=message)


def handle_exception(request: Request, error: Exception) -> Response:
    """Turn any exception into problem details for the API, or an error page for the UI."""
    if isinstance(error, LoginRequired):
        target = request.url.path
        if request.url.query:
            target += "?" + request.url.query
        from urllib.parse import quote

        return Redirect(f"/login?next={quote(target, safe='')}")
    if isinstance(error, ApiProblem):
        problem = error
    elif isinstance(error, UploadRejected):
        slug = {413: "payload-too-large", 415: "unsupported-media-type"}.get(error.status, "validation-failed")
        problem = ApiProblem(slug, error.message_id, **error.params)
    elif isinstance(error, WentiError):
        problem = from_wenti_error(error)
    elif isinstance(error, HTTPException):
        problem = from_litestar_error(error)
    else:
        log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=error)
        problem = ApiProblem("internal-error", "Something went wrong on the server. The error has been logged; try again later.")

    if _is_api(request) or request.headers.get("accept", "").startswith("application/json"):
        return problem_response(request, problem)
    if problem.status == 401:
        return handle_exception(request, LoginRequired())
    return _ui_error_page(request, problem.status, problem.detail(request_locale(request)))
