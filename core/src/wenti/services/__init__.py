"""The service layer: every change to wenti's data goes through these commands."""

from wenti.services.admin import AdminService
from wenti.services.importing import ImportedIssue, ImportResult, import_batch
from wenti.services.issues import IssueService

__all__ = ["AdminService", "ImportResult", "ImportedIssue", "IssueService", "import_batch"]
