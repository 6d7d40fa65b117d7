"""Message templates: the subject, plain text, HTML and Markdown of every notification.

Texts come from this plugin's gettext catalog, so each message is rendered in the
recipient's locale. Rendering happens once, when the message is queued, so a
retried message is byte for byte the one that failed.
"""

from __future__ import annotations

import hashlib
import html
from pathlib import Path
from typing import Any

import attrs

from wenti.i18n import Domain, N_, use_locale

domain = Domain("wenti_notify", Path(__file__).parent / "locale")
_ = domain.gettext

# Subject line of each event kind, filled in with the issue's `{key}` and `{title}`.
SUBJECTS: dict[str, str] = {
    "created": N_("[{key}] New issue: {title}"),
    "assigned": N_("[{key}] Assigned to {assignee}: {title}"),
    "commented": N_("[{key}] New reply from {actor}: {title}"),
    "note": N_("[{key}] Internal note from {actor}: {title}"),
    "transitioned": N_("[{key}] Status changed to {status}: {title}"),
    "resolved": N_("[{key}] Resolved: {title}"),
    "updated": N_("[{key}] Updated by {actor}: {title}"),
    "sla_warning": N_("[{key}] SLA warning: {title}"),
    "sla_breached": N_("[{key}] SLA breached: {title}"),
}

# SLA metrics as the SLA plugin names them in `sla.warning` and `sla.breached` events.
METRIC_NAMES = {
    "first_response": N_("First response"),
    "resolution": N_("Resolution"),
}

PRIORITY_NAMES = {
    "critical": N_("Critical"),
    "high": N_("High"),
    "normal": N_("Normal"),
    "low": N_("Low"),
}


@attrs.frozen
class Facts:
    """Facts a message shows about an issue and the change; all strings are ready to show."""

    kind: str
    key: str
    title: str
    queue: str
    status: str
    priority: str
    reporter: str
    assignee: str
    actor: str
    url: str
    comment: str | None = None
    detail: str | None = None
    sla_metric: str | None = None
    sla_due: str | None = None


def render(facts: Facts, locale: str) -> dict[str, str]:
    """Render one message in `locale`; returns subject, text, html and markdown."""
    with use_locale(locale):
        values = {
            "key": facts.key,
            "title": facts.title,
            "assignee": facts.assignee or _("nobody"),
            "actor": facts.actor,
            "status": facts.status,
        }
        subject = _(SUBJECTS.get(facts.kind, SUBJECTS["updated"])).format(**values)
        rows = [
            (_("Queue"), facts.queue),
            (_("Status"), facts.status),
            (_("Priority"), _(PRIORITY_NAMES.get(facts.priority, facts.priority))),
            (_("Reporter"), facts.reporter),
            (_("Assignee"), facts.assignee or _("nobody")),
        ]
        open_label = _("Open the issue")
        comment_label = _("Comment")
        detail = facts.detail
        if facts.sla_metric:
            metric = _(METRIC_NAMES[facts.sla_metric]) if facts.sla_metric in METRIC_NAMES else facts.sla_metric
            detail = _("{metric} is due at {due}.").format(metric=metric, due=facts.sla_due or "?")

    text_lines = [subject, ""]
    text_lines += [f"{label}: {value}" for label, value in rows]
    if detail:
        text_lines += ["", detail]
    if facts.comment:
        text_lines += ["", f"{comment_label}:", facts.comment]
    text_lines += ["", f"{open_label}: {facts.url}"]

    html_rows = "".join(
        f"<tr><th align=\"left\">{html.escape(label)}</th><td>{html.escape(value)}</td></tr>" for label, value in rows
    )
    html_parts = [f"<h3>{html.escape(subject)}</h3>", f"<table>{html_rows}</table>"]
    if detail:
        html_parts.append(f"<p>{html.escape(detail)}</p>")
    if facts.comment:
        body = html.escape(facts.comment).replace("\n", "<br>")
        html_parts.append(f"<p><b>{html.escape(comment_label)}:</b></p><blockquote>{body}</blockquote>")
    html_parts.append(f"<p><a href=\"{html.escape(facts.url, quote=True)}\">{html.escape(open_label)}</a></p>")

    markdown_lines = [f"**{_markdown_escape(subject)}**", ""]
    markdown_lines += [f"> {label}: {_markdown_escape(value)}" for label, value in rows]
    if detail:
        markdown_lines += ["", _markdown_escape(detail)]
    if facts.comment:
        markdown_lines += ["", f"{comment_label}: {_markdown_escape(_shorten(facts.comment, 500))}"]
    markdown_lines += ["", f"[{open_label}]({facts.url})"]

    return {
        "subject": subject,
        "text": "\n".join(text_lines),
        "html": "<html><body>" + "".join(html_parts) + "</body></html>",
        "markdown": "\n".join(markdown_lines),
    }


def render_digest(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Fold several queued messages for one recipient into one digest message.

    The digest keeps the first message's routing fields, lists every message's
    subject and link, and carries the originals in `items`. Its `id` is made from
    the ids it contains, so resending the same digest repeats the same id.
    """
    first = messages[0]
    ids = [str(item.get("id", "")) for item in messages]
    locale = first.get("locale", "zh_CN")
    with use_locale(locale):
        subject = domain.ngettext("{count} update", "{count} updates", len(messages), locale).format(count=len(messages))
    text_lines = [subject, ""]
    markdown_lines = [f"**{_markdown_escape(subject)}**", ""]
    html_items = []
    for item in messages:
        text_lines.append(f"- {item.get('subject', '')}  {item.get('link', '')}")
        markdown_lines.append(f"- [{_markdown_escape(item.get('subject', ''))}]({item.get('link', '')})")
        html_items.append(
            f"<li><a href=\"{html.escape(item.get('link', ''), quote=True)}\">{html.escape(item.get('subject', ''))}</a></li>"
        )
    digest = {key: value for key, value in first.items() if key not in ("subject", "text", "html", "markdown", "items")}
    digest.update(
        {
            "id": "digest-" + hashlib.sha256(" ".join(ids).encode()).hexdigest()[:32],
            "kind": "digest",
            "subject": subject,
            "text": "\n".join(text_lines),
            "markdown": "\n".join(markdown_lines),
            "html": f"<html><body><h3>{html.escape(subject)}</h3><ul>{''.join(html_items)}</ul></body></html>",
            "items": messages,
        }
    )
    return digest


def _shorten(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _markdown_escape(text: str) -> str:
    for char in ("\\", "*", "_", "[", "]", "`"):
        text = text.replace(char, "\\" + char)
    return text
