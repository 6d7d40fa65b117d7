"""Helpers shared by the UI handlers."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Redirect

from wenti_web.auth import Principal, check_csrf, provide_ui_principal
from wenti_web.problems import ApiProblem

UI_DEPENDENCIES = {"principal": Provide(provide_ui_principal, sync_to_thread=True)}

FormData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.URL_ENCODED)]
MultipartData = Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)]


def form_value(data: dict[str, Any], name: str, default: str = "") -> str:
    value = data.get(name, default)
    if isinstance(value, list):
        value = value[-1] if value else default
    return value if isinstance(value, str) else default


def form_values(data: dict[str, Any], name: str) -> list[str]:
    value = data.get(name)
    if value is None:
        return []
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return [value] if isinstance(value, str) else []


def checked_form(request: Request, principal: Principal, data: dict[str, Any]) -> dict[str, Any]:
    """Check the form's CSRF token and return the form."""
    check_csrf(request, principal, form_value(data, "csrf_token"))
    return data


def safe_next(target: str | None) -> str:
    """Only local paths, so the login form cannot redirect to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def see_other(path: str) -> Redirect:
    return Redirect(path, status_code=303)


def parse_int(value: str, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiProblem("validation-failed", "{field} must be a whole number, got {value!r}.", field=name, value=value) from None
