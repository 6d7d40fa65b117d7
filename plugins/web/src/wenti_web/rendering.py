"""Jinja2 rendering of UI pages, with the caller's language and sanitised Markdown."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import nh3
from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request, Response
from markdown_it import MarkdownIt
from markupsafe import Markup, escape
from wenti.clock import to_local
from wenti.i18n import N_

from wenti_web.translation import ngettext as _ngettext
from wenti_web.translation import translate_any

TEMPLATES = Path(__file__).parent / "templates"

# Labels of issue fields as history events and transitions name them.
FIELD_LABELS = {
    "title": N_("Title"),
    "description": N_("Description"),
    "priority": N_("Priority"),
    "category": N_("Category"),
    "status": N_("Status"),
    "assignee": N_("Assignee"),
    "reporter": N_("Reporter"),
    "queue": N_("Queue"),
    "tags": N_("Tags"),
    "resolution": N_("Resolution"),
    "custom_fields": N_("Custom fields"),
    "resolved_at": N_("Resolved at"),
    "closed_at": N_("Closed at"),
    "first_responded_at": N_("First response at"),
}

# Raw HTML in Markdown is off; nh3 still cleans the output in case a renderer rule
# ever lets markup through.
_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})
_ALLOWED_TAGS = {
    "p", "br", "strong", "em", "code", "pre", "blockquote", "ul", "ol", "li",
    "h1", "h2", "h3", "h4", "h5", "h6", "a", "hr", "table", "thead", "tbody", "tr", "th", "td",
}


def markdown(text: str) -> Markup:
    html = _markdown.render(text or "")
    clean = nh3.clean(html, tags=_ALLOWED_TAGS, attributes={"a": {"href", "title"}}, link_rel="noopener noreferrer nofollow")
    return Markup(clean)


def _make_environment(extra_loaders: list[Any] | None = None) -> Environment:
    environment = Environment(
        loader=FileSystemLoader([str(TEMPLATES)]),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["markdown"] = markdown
    return environment


environment = _make_environment()


class Translator:
    """`_` in templates: translate into one locale and fill `{name}` placeholders."""

    def __init__(self, locale: str) -> None:
        self.locale = locale

    def __call__(self, message: str, **params: Any) -> str:
        text = translate_any(message, self.locale)
        return text.format(**params) if params else text

    def plural(self, singular: str, plural: str, count: int, **params: Any) -> str:
        text = _ngettext(singular, plural, count, self.locale)
        return text.format(count=count, **params)


def format_time(value: datetime | None, timezone: str, locale: str) -> str:
    if value is None:
        return ""
    local = to_local(value, timezone)
    return local.strftime("%Y-%m-%d %H:%M")


def _plugin_text(plugin: str, message: str, locale: str) -> str:
    """Translate a msgid from a plugin's own catalog (domain `wenti_<plugin>`)."""
    from wenti.i18n import translate

    if not message:
        return ""
    return translate(message, locale)


def _event_label(translator: Translator, event_type: str) -> str:
    """Return the translated label of a history event, or the event type itself when the catalog has none."""
    key = f"event.{event_type}"
    label = translator(key)
    return event_type if label == key else label


def _nav_entries(request: Request, principal: Any) -> list[Any]:
    """Return the links plugins add to the top navigation for this user, keeping only local paths."""
    if principal is None:
        return []
    app = request.app.state["wenti"]
    entries = app.hooks.web_nav_entries(principal.ctx, app)
    return [entry for entry in entries if entry.path.startswith("/") and not entry.path.startswith("//")]


def template_blocks(request: Request, principal: Any, slots: tuple[str, ...], page: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Collect the HTML blocks plugins add to `slots` of one page, by slot name.

    Only a `markupsafe.Markup` value is inserted as HTML; any other string is
    escaped here. Pages for anonymous visitors get no blocks, because the hook
    needs the user's context.
    """
    if principal is None:
        return {}
    app = request.app.state["wenti"]
    found: dict[str, list[dict[str, Any]]] = {}
    for slot in slots:
        blocks = app.hooks.web_template_blocks(slot, page, principal.ctx, app)
        found[slot] = [{"plugin": block.plugin, "key": block.key, "html": _block_html(block.html)} for block in blocks]
    return found


def _block_html(html: str) -> Markup:
    if isinstance(html, Markup):
        return html
    # `str.__str__` drops a subclass, so an object that only claims to be HTML
    # through `__html__` is escaped like any plain string.
    return escape(str.__str__(html))


def _admin_views(request: Request, principal: Any) -> list[dict[str, str]]:
    # Imported here because the admin view pages import this module.
    from wenti_web.ui.admin_views import visible_views

    return visible_views(request, principal)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> Response:
    principal = request.scope.get("state", {}).get("principal")
    from wenti_web.problems import request_locale

    locale = request_locale(request)
    timezone = principal.ctx.timezone if principal else "Asia/Shanghai"
    translator = Translator(locale)
    base = {
        "_": translator,
        "ngettext": translator.plural,
        "locale": locale,
        "principal": principal,
        "user": principal.ctx.user if principal else None,
        "csrf_token": principal.csrf_token if principal else "",
        "time": lambda value: format_time(value, timezone, locale),
        "event_label": lambda event_type: _event_label(translator, event_type),
        "plugin_text": lambda plugin, message: _plugin_text(plugin, message, locale),
        "field_label": lambda name: translator(FIELD_LABELS[name]) if name in FIELD_LABELS else name,
        "nav_entries": _nav_entries(request, principal),
        "admin_views": lambda: _admin_views(request, principal),
        "request_path": request.url.path,
    }
    base.update(context)
    base["blocks"] = {
        **context.get("blocks", {}),
        **template_blocks(request, principal, ("base.footer",), {"path": request.url.path}),
    }
    html = environment.get_template(template).render(**base)
    return Response(html, status_code=status_code, media_type="text/html; charset=utf-8")
