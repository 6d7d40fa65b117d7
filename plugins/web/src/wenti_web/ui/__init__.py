"""Server-rendered pages."""

from wenti_web.ui.admin_pages import ADMIN_HANDLERS
from wenti_web.ui.admin_views import ADMIN_VIEW_HANDLERS
from wenti_web.ui.issue_pages import ISSUE_HANDLERS
from wenti_web.ui.session_pages import SESSION_HANDLERS

UI_HANDLERS = [*SESSION_HANDLERS, *ISSUE_HANDLERS, *ADMIN_HANDLERS, *ADMIN_VIEW_HANDLERS]
