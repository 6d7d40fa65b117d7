"""Who is making a request: session cookie or API token, and the CSRF check.

Every request passes through `resolve_principal` once; handlers declare the
`principal` dependency (API: 401 when nobody is signed in) or `ui_principal` (UI:
redirect to the login page). Cookie-authenticated requests that change something
must carry the session's CSRF token (form field `csrf_token` or header
`X-CSRF-Token`); token-authenticated requests need none, because a browser never
adds an Authorization header on its own.
"""

from __future__ import annotations

import hmac
import logging
from datetime import timedelta
from typing import Any

import attrs
from litestar import Request
from wenti.app import App, Context
from wenti.domain import Role
from wenti.errors import NotFound
from wenti.i18n import normalize_locale

from wenti_web import sessions, tokens
from wenti_web.config import WebConfig
from wenti_web.problems import ApiProblem, LoginRequired
from wenti_web.sessions import Session
from wenti_web.tokens import ApiToken

log = logging.getLogger(__name__)

SESSION_COOKIE = "wenti_session"
LOCALE_COOKIE = "wenti_locale"
LOGIN_CSRF_COOKIE = "wenti_login_csrf"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@attrs.frozen
class Principal:
    """The signed-in user of one request and how they proved it."""

    ctx: Context
    session: Session | None = None
    token: ApiToken | None = None

    @property
    def username(self) -> str:
        return self.ctx.username

    @property
    def role(self) -> Role:
        return self.ctx.user.role

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token if self.session else ""

    def has_scope(self, scope: str) -> bool:
        """API tokens carry scopes; a session has every scope its role allows."""
        return self.token is None or scope in self.token.scopes


def wenti_app(request: Request) -> App:
    return request.app.state["wenti"]


def web_settings(request: Request) -> WebConfig:
    return request.app.state["web_config"]


def client_ip(request: Request) -> str:
    client = request.client
    return client.host if client else ""


def anonymous_locale(request: Request) -> str:
    """Return the language for someone not signed in: `?lang=`, then the locale cookie, then Accept-Language."""
    chosen = request.query_params.get("lang") or request.cookies.get(LOCALE_COOKIE)
    if chosen:
        return normalize_locale(chosen)
    accept = request.headers.get("accept-language", "")
    first = accept.split(",", 1)[0].split(";", 1)[0].strip()
    return normalize_locale(first) if first else normalize_locale(None)


def _context(uow: Any, tenant_id: str, username: str, request: Request, is_api: bool) -> Context | None:
    """Build the acting context inside the unit of work that authenticated the request.

    Follows `App.context`: an unknown tenant or user, or a deactivated user, has no
    context. Reading them in the same transaction as the session or token saves a
    transaction per request.
    """
    tenant = uow.tenants.get(tenant_id)
    user = uow.users.get(username)
    if tenant is None or user is None or not user.active:
        return None
    ctx = Context(tenant_id=tenant_id, user=user, locale=user.locale or tenant.locale, timezone=tenant.timezone)
    # API callers may ask for another language per request; the UI follows the user's setting.
    accept = request.headers.get("accept-language") if is_api else None
    if is_api and accept and user.locale is None:
        ctx = attrs.evolve(ctx, locale=anonymous_locale(request))
    return ctx


def _from_token(app: App, request: Request, value: str) -> Principal | None:
    parsed = tokens.parse(value)
    if parsed is None:
        return None
    token_id, secret, tenant_id = parsed
    now = app.clock.now()
    with app.uow(tenant_id) as uow:
        token = tokens.authenticate(uow.sql_connection(), tenant_id, token_id, secret, now)
        ctx = _context(uow, tenant_id, token.username, request, is_api=True) if token is not None else None
        uow.commit()
    return None if ctx is None else Principal(ctx=ctx, token=token)


def _from_session(app: App, config: WebConfig, request: Request) -> Principal | None:
    parsed = sessions.parse_cookie(request.cookies.get(SESSION_COOKIE))
    if parsed is None:
        return None
    token, tenant_id = parsed
    now = app.clock.now()
    try:
        with app.uow(tenant_id) as uow:
            session = sessions.lookup(
                uow.sql_connection(),
                tenant_id,
                token,
                now,
                idle=timedelta(minutes=config.session_idle_minutes),
                absolute=timedelta(hours=config.session_absolute_hours),
            )
            is_api = request.url.path.startswith("/api/")
            ctx = _context(uow, tenant_id, session.username, request, is_api) if session is not None else None
            uow.commit()
    except NotFound:
        return None
    return None if ctx is None or session is None else Principal(ctx=ctx, session=session)


def resolve_principal(request: Request) -> Principal | None:
    """Authenticate the request once and cache the result in the request state."""
    state = request.scope.setdefault("state", {})
    if "principal" in state:
        return state["principal"]
    app = wenti_app(request)
    authorization = request.headers.get("authorization", "")
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise ApiProblem("not-authenticated", "The Authorization header must be 'Bearer <API token>'.")
        principal = _from_token(app, request, value.strip())
        if principal is None:
            raise ApiProblem("not-authenticated", "The API token is invalid, expired or revoked.")
    else:
        principal = _from_session(app, web_settings(request), request)
    state["principal"] = principal
    return principal


def check_csrf(request: Request, principal: Principal, form_token: str | None = None) -> None:
    """Reject a cookie-authenticated change whose CSRF token does not match the session's."""
    if request.method in SAFE_METHODS or principal.session is None:
        return
    presented = form_token or request.headers.get("x-csrf-token") or ""
    if not presented or not hmac.compare_digest(presented, principal.session.csrf_token):
        log.warning("CSRF check failed: tenant=%s user=%s path=%s", principal.ctx.tenant_id, principal.username, request.url.path)
        raise ApiProblem("csrf-failed", "The form's security token is missing or wrong. Reload the page and try again.")


def require_scope(principal: Principal, request: Request) -> None:
    needed = "read" if request.method in SAFE_METHODS else "write"
    if not principal.has_scope(needed):
        raise ApiProblem("forbidden", "This API token lacks the {scope} scope.", scope=needed)


def provide_principal(request: Request) -> Principal:
    """Dependency of API handlers: the signed-in principal, scope- and CSRF-checked, or 401."""
    principal = resolve_principal(request)
    if principal is None:
        raise ApiProblem(
            "not-authenticated",
            "Sign in or send an API token in the Authorization header.",
            headers={"WWW-Authenticate": 'Bearer realm="wenti"'},
        )
    require_scope(principal, request)
    check_csrf(request, principal)
    return principal


def provide_ui_principal(request: Request) -> Principal:
    """Dependency of UI handlers: the signed-in principal or a redirect to the login page."""
    principal = resolve_principal(request)
    if principal is None or principal.session is None:
        raise LoginRequired()
    return principal


def provide_optional_principal(request: Request) -> Principal | None:
    try:
        return resolve_principal(request)
    except ApiProblem:
        return None


def require_admin_scope(principal: Principal) -> None:
    if not principal.has_scope("admin"):
        raise ApiProblem("forbidden", "This API token lacks the {scope} scope.", scope="admin")


def cookie_kwargs(config: WebConfig) -> dict[str, Any]:
    return {"httponly": True, "samesite": "lax", "secure": config.secure_cookies, "path": "/"}
