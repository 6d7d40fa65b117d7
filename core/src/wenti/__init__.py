"""wenti: a problem-management framework built from pluggy plugins.

The names exported here, and the documented submodules (`wenti.domain`,
`wenti.store`, `wenti.records`, `wenti.hookspecs`, `wenti.app`, `wenti.i18n`,
`wenti.errors`, `wenti.clock`, `wenti.config`, `wenti.converter`,
`wenti.testing`), are the public API that plugins may import.

`App` and `Context` are imported on first use, so `import wenti` stays light and
plugin modules can import `wenti` while the app module itself is loading.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from wenti.domain import (
    Attachment,
    AuditEntry,
    Change,
    Comment,
    CommentVisibility,
    CustomFieldDef,
    DeliveryStatus,
    Event,
    EventType,
    Issue,
    Link,
    LinkType,
    OutboxMessage,
    Priority,
    Queue,
    Role,
    State,
    StateCategory,
    Team,
    Tenant,
    Transition,
    User,
    Workflow,
)
from wenti.errors import (
    ConfigError,
    Conflict,
    NotFound,
    PermissionDenied,
    PluginError,
    ValidationFailed,
    WentiError,
)
from wenti.hookspecs import hookimpl
from wenti.records import (
    BlobStore,
    BusinessCalendar,
    Classifier,
    CliCommand,
    Connector,
    JobRunner,
    Metric,
    Notifier,
    PluginConfig,
    ReportGenerator,
    SearchBackend,
    SlaPolicyType,
    SqlSchema,
    StorageBackend,
    Suggestion,
    WebRoute,
)
from wenti.store import IssueQuery, Page

if TYPE_CHECKING:
    from wenti.app import App, Context

__version__ = "0.1.0"

# The plugin API generation. A plugin module may set `wenti_api_version`; when it
# differs from this number the loader skips the plugin (or fails in strict mode).
API_VERSION = 1

_LAZY = {"App": "wenti.app", "Context": "wenti.app"}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module 'wenti' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value
    return value


__all__ = [
    "API_VERSION",
    "App",
    "Attachment",
    "AuditEntry",
    "BlobStore",
    "BusinessCalendar",
    "Change",
    "Classifier",
    "CliCommand",
    "Comment",
    "CommentVisibility",
    "ConfigError",
    "Conflict",
    "Connector",
    "Context",
    "CustomFieldDef",
    "DeliveryStatus",
    "Event",
    "EventType",
    "Issue",
    "IssueQuery",
    "JobRunner",
    "Link",
    "LinkType",
    "Metric",
    "NotFound",
    "Notifier",
    "OutboxMessage",
    "Page",
    "PermissionDenied",
    "PluginConfig",
    "PluginError",
    "Priority",
    "Queue",
    "ReportGenerator",
    "Role",
    "SearchBackend",
    "SlaPolicyType",
    "SqlSchema",
    "State",
    "StateCategory",
    "StorageBackend",
    "Suggestion",
    "Team",
    "Tenant",
    "Transition",
    "User",
    "ValidationFailed",
    "WebRoute",
    "WentiError",
    "Workflow",
    "__version__",
    "hookimpl",
]
