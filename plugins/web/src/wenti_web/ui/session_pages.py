"""Login, logout, language and personal settings (password, API tokens)."""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta

from litestar import Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.di import NamedDependency
from litestar.params import FromPath
from wenti.errors import ValidationFailed
from wenti.i18n import SUPPORTED_LOCALES, normalize_locale

from wenti_web import accounts, passwords, tokens
from wenti_web.threads import in_thread
from wenti_web.accounts import LoginFailed, LoginThrottled
from wenti_web.auth import (
    LOCALE_COOKIE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    Principal,
    client_ip,
    cookie_kwargs,
    provide_optional_principal,
    web_settings,
    wenti_app,
)
from wenti_web.problems import ApiProblem
from wenti_web.rendering import Translator, render
from wenti_web.sessions import cookie_value
from wenti_web.token_cache import token_cache
from wenti_web.ui.common import UI_DEPENDENCIES, FormData, checked_form, form_value, safe_next, see_other


def _login_page(request: Request, *, error: str = "", status: int = 200, username: str = "") -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)
    response = render(
        request,
        "login.html",
        status_code=status,
        login_csrf=token,
        error=error,
        username=username,
        next=safe_next(request.query_params.get("next")),
        tenant=web_settings(request).default_tenant,
    )
    response.set_cookie(Cookie(key=LOGIN_CSRF_COOKIE, value=token, max_age=3600, **cookie_kwargs(web_settings(request))))
    return response


@get("/login", include_in_schema=False)
@in_thread
def login_form(request: Request) -> Response:
    if provide_optional_principal(request) is not None:
        return see_other("/")
    return _login_page(request)


@post("/login", include_in_schema=False)
@in_thread
def login(request: Request, data: FormData) -> Response:
    translator = Translator(_anonymous_locale(request))
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    presented = form_value(data, "csrf_token")
    if not expected or not presented or not hmac.compare_digest(expected, presented):
        raise ApiProblem("csrf-failed", "The form's security token is missing or wrong. Reload the page and try again.")

    username = form_value(data, "username").strip()
    password = form_value(data, "password")
    tenant_id = form_value(data, "tenant").strip() or web_settings(request).default_tenant
    if not username or not password:
        return _login_page(request, error=translator("Enter your username and password."), status=400, username=username)

    app = wenti_app(request)
    config = web_settings(request)
    try:
        token, _session = accounts.log_in(
            app, config, tenant_id, username, password, client_ip(request), request.headers.get("user-agent", "")
        )
    except LoginThrottled as throttled:
        response = _login_page(
            request,
            error=translator("Too many failed sign-ins. Wait {seconds} seconds and try again.", seconds=throttled.retry_after),
            status=429,
            username=username,
        )
        response.headers["Retry-After"] = str(throttled.retry_after)
        return response
    except LoginFailed:
        return _login_page(request, error=translator("Wrong username or password."), status=401, username=username)

    response = see_other(safe_next(form_value(data, "next")))
    max_age = int(timedelta(hours=config.session_absolute_hours).total_seconds())
    response.set_cookie(Cookie(key=SESSION_COOKIE, value=cookie_value(token, tenant_id), max_age=max_age, **cookie_kwargs(config)))
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
    return response


def _anonymous_locale(request: Request) -> str:
    from wenti_web.auth import anonymous_locale

    return anonymous_locale(request)


@post("/logout", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def logout(request: Request, principal: NamedDependency[Principal], data: FormData) -> Response:
    checked_form(request, principal, data)
    if principal.session is not None:
        accounts.log_out(wenti_app(request), principal.session)
    response = see_other("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@get("/lang/{locale:str}", include_in_schema=False)
@in_thread
def choose_language(request: Request, locale: FromPath[str]) -> Response:
    """Switch the language of the login page (before anyone has signed in)."""
    response = see_other(safe_next(request.query_params.get("next")) if request.query_params.get("next") else "/login")
    if locale in SUPPORTED_LOCALES:
        response.set_cookie(Cookie(key=LOCALE_COOKIE, value=locale, max_age=365 * 86400, **cookie_kwargs(web_settings(request))))
    return response


@get("/settings", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def settings_page(request: Request, principal: NamedDependency[Principal]) -> Response:
    return _settings(request, principal)


def _settings(request: Request, principal: Principal, *, message: str = "", error: str = "", new_token: str = "", status: int = 200) -> Response:
    app = wenti_app(request)
    with app.uow(principal.ctx.tenant_id) as uow:
        my_tokens = tokens.list_for_user(uow.sql_connection(), principal.ctx.tenant_id, principal.username)
    return render(
        request,
        "settings.html",
        status_code=status,
        tokens=my_tokens,
        message=message,
        error=error,
        new_token=new_token,
        locales=SUPPORTED_LOCALES,
        scopes=tokens.SCOPES,
    )


@post("/settings/language", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def set_language(request: Request, principal: NamedDependency[Principal], data: FormData) -> Response:
    checked_form(request, principal, data)
    locale = normalize_locale(form_value(data, "locale"))
    app = wenti_app(request)
    set_own_locale(app, principal, locale)
    response = see_other("/settings")
    response.set_cookie(Cookie(key=LOCALE_COOKIE, value=locale, max_age=365 * 86400, **cookie_kwargs(web_settings(request))))
    return response


def set_own_locale(app, principal: Principal, locale: str) -> None:
    """Store a user's language on their user record, with an audit row."""
    app.admin.update_own_profile(principal.ctx, locale=locale)


@post("/settings/password", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def change_password(request: Request, principal: NamedDependency[Principal], data: FormData) -> Response:
    checked_form(request, principal, data)
    translator = Translator(principal.ctx.locale)
    app = wenti_app(request)
    current = form_value(data, "current_password")
    new = form_value(data, "new_password")
    if new != form_value(data, "confirm_password"):
        return _settings(request, principal, error=translator("The two new passwords differ."), status=400)
    try:
        accounts.log_in(app, web_settings(request), principal.ctx.tenant_id, principal.username, current, client_ip(request), "")
    except (LoginFailed, LoginThrottled):
        return _settings(request, principal, error=translator("The current password is wrong."), status=400)
    problem = passwords.policy_problem(new, principal.username)
    if problem:
        return _settings(request, principal, error=translator(problem), status=400)
    try:
        accounts.set_password(app, principal.ctx.tenant_id, principal.username, new)
    except ValidationFailed as error:
        return _settings(request, principal, error=translator(error.message_id, **error.params), status=400)
    # Every session ended with the password change, this one included: sign in again.
    response = see_other("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@post("/settings/tokens", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def create_token(request: Request, principal: NamedDependency[Principal], data: FormData) -> Response:
    checked_form(request, principal, data)
    translator = Translator(principal.ctx.locale)
    name = form_value(data, "name").strip()
    scopes = tuple(s for s in tokens.SCOPES if form_value(data, f"scope_{s}"))
    if not name or len(name) > 100 or not scopes:
        return _settings(request, principal, error=translator("Give the token a name and at least one scope."), status=400)
    app = wenti_app(request)
    with app.uow(principal.ctx.tenant_id) as uow:
        text, _token = tokens.create(uow.sql_connection(), principal.ctx.tenant_id, principal.username, name, scopes, app.clock.now())
        uow.commit()
    return _settings(request, principal, new_token=text, message=translator("Token created. Copy it now; it is shown only once."))


@post("/settings/tokens/{token_id:str}/revoke", include_in_schema=False, dependencies=UI_DEPENDENCIES)
@in_thread
def revoke_token(request: Request, principal: NamedDependency[Principal], token_id: FromPath[str], data: FormData) -> Response:
    checked_form(request, principal, data)
    app = wenti_app(request)
    with app.uow(principal.ctx.tenant_id) as uow:
        conn = uow.sql_connection()
        token = tokens.get(conn, principal.ctx.tenant_id, token_id)
        if token is not None and token.username == principal.username:
            tokens.revoke(conn, principal.ctx.tenant_id, token_id, app.clock.now())
            uow.commit()
            token_cache(app).invalidate(principal.ctx.tenant_id, token_id)
    return see_other("/settings")


SESSION_HANDLERS = [login_form, login, logout, choose_language, settings_page, set_language, change_password, create_token, revoke_token]
