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

import anyio.to_thread
import attrs
from litestar import Request
from wenti.app import App, Context
from wenti.domain import Role, Tenant, User
from wenti.errors import NotFound
from wenti.i18n import normalize_locale

from wenti_web import sessions, tokens
from wenti_web.config import WebConfig
from wenti_web.problems import ApiProblem, LoginRequired
from wenti_web.proxies import client_address, parse_networks
from wenti_web.sessions import Session
from wenti_web.token_cache import token_cache
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
    """Return the client address: the socket peer, or what trusted proxies forwarded."""
    client = request.client
    peer = client.host if client else ""
    trusted = parse_networks(web_settings(request).trusted_proxies)
    return client_address(peer, request.headers.getall("x-forwarded-for", []), trusted)


def anonymous_locale(request: Request) -> str:
    """Return the language for someone not signed in: `?lang=`, then the locale cookie, then Accept-Language."""
    chosen = request.query_params.get("lang") or request.cookies.get(LOCALE_COOKIE)
    if chosen:
        return normalize_locale(chosen)
    accept = request.headers.get("accept-language", "")
    first = accept.split(",", 1)[0].split(";", 1)[0].strip()
    return normalize_locale(first) if first else normalize_locale(None)


def _tenant_and_user(app: App, uow: Any, tenant_id: str, username: str) -> tuple[Tenant | None, User | None]:
    """Read the tenant and the user through the reference cache, loading misses in `uow`.

    The admin service clears a tenant's cache entries when it changes a user, so a
    user deactivated through this process is rejected on the next request. A change
    made by another process shows within `app.references.ttl_seconds` (5 by default). With
    the token cache switched off, both are read from `uow` on every request.
    """
    if token_cache(app).ttl_seconds <= 0:
        return uow.tenants.get(tenant_id), uow.users.get(username)
    tenant = app.references.get("tenant", tenant_id, tenant_id, lambda: uow.tenants.get(tenant_id))
    user = app.references.get("user", tenant_id, username, lambda: uow.users.get(username))
    return tenant, user


def _context(tenant_id: str, tenant: Tenant | None, user: User | None, request: Request, is_api: bool) -> Context | None:
    """Build the acting context of a request.

    Follows `App.context`: an unknown tenant or user, or a deactivated user, has no
    context.
    """
    if tenant is None or user is None or not user.active:
        return None
    ctx = Context(tenant_id=tenant_id, user=user, locale=user.locale or tenant.locale, timezone=tenant.timezone)
    # API callers may ask for another language per request; the UI follows the user's setting.
    accept = request.headers.get("accept-language") if is_api else None
    if is_api and accept and user.locale is None:
        ctx = attrs.evolve(ctx, locale=anonymous_locale(request))
    return ctx


def _from_cached_token(app: App, request: Request, value: str) -> Principal | None:
    """Build the principal from cached rows only, without I/O. Return None when the database must be asked."""
    parsed = tokens.parse(value)
    if parsed is None:
        return None
    token_id, secret, tenant_id = parsed
    token = token_cache(app).get(tenant_id, token_id, secret, app.clock.now())
    if token is None:
        return None
    tenant_found, tenant = app.references.peek("tenant", tenant_id, tenant_id)
    user_found, user = app.references.peek("user", tenant_id, token.username)
    if not (tenant_found and user_found):
        return None
    ctx = _context(tenant_id, tenant, user, request, is_api=True)
    return None if ctx is None else Principal(ctx=ctx, token=token)


def _from_token(app: App, request: Request, value: str) -> Principal | None:
    parsed = tokens.parse(value)
    if parsed is None:
        return None
    token_id, secret, tenant_id = parsed
    now = app.clock.now()
    cache = token_cache(app)
    generation = cache.generation
    ctx = None
    with app.uow(tenant_id) as uow:
        token = tokens.authenticate(uow.sql_connection(), tenant_id, token_id, secret, now)
        if token is not None:
            tenant, user = _tenant_and_user(app, uow, tenant_id, token.username)
            ctx = _context(tenant_id, tenant, user, request, is_api=True)
        uow.commit()
    if ctx is None or token is None:
        return None
    cache.put(token, secret, generation)
    return Principal(ctx=ctx, token=token)


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
            ctx = None
            if session is not None:
                # Read fresh rather than through the reference cache: a session has no cached
                # fast path, so this read is what ends it when another process deactivates the user.
                tenant, user = uow.tenants.get(tenant_id), uow.users.get(session.username)
                ctx = _context(tenant_id, tenant, user, request, is_api=request.url.path.startswith("/api/"))
            uow.commit()
    except NotFound:
        return None
    return None if ctx is None or session is None else Principal(ctx=ctx, session=session)


def _bearer_value(request: Request) -> str | None:
    """Return the token of an `Authorization: Bearer` header, or None without the header.

    Raises a 401 problem when the header is malformed.
    """
    authorization = request.headers.get("authorization", "")
    if not authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiProblem("not-authenticated", "The Authorization header must be 'Bearer <API token>'.")
    return value.strip()


def resolve_principal(request: Request) -> Principal | None:
    """Authenticate the request once and cache the result in the request state."""
    state = request.scope.setdefault("state", {})
    if "principal" in state:
        return state["principal"]
    app = wenti_app(request)
    value = _bearer_value(request)
    if value is not None:
        principal = _from_cached_token(app, request, value) or _from_token(app, request, value)
        if principal is None:
            raise ApiProblem("not-authenticated", "The API token is invalid, expired or revoked.")
    else:
        principal = _from_session(app, web_settings(request), request)
    state["principal"] = principal
    return principal


def resolve_cached_principal(request: Request) -> Principal | None:
    """Authenticate an API-token request from the caches alone, without I/O.

    Returns None when the database has to be asked; `resolve_principal` does that.
    """
    state = request.scope.setdefault("state", {})
    if "principal" in state:
        return state["principal"]
    value = _bearer_value(request)
    if value is None:
        return None
    principal = _from_cached_token(wenti_app(request), request, value)
    if principal is not None:
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


async def provide_principal(request: Request) -> Principal:
    """Dependency of API handlers: the signed-in principal, scope- and CSRF-checked, or 401.

    A token found in the caches is checked on the event loop; everything else runs in
    a worker thread, because it reads the database.
    """
    principal = resolve_cached_principal(request)
    if principal is None:
        principal = await anyio.to_thread.run_sync(resolve_principal, request)
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
