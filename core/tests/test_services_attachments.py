"""Attachment metadata through the service layer, on a real SQLite store."""

from __future__ import annotations

import pytest

from wenti.domain import EventType
from wenti.errors import NotFound


@pytest.fixture
def app(wenti_app):
    return wenti_app


def test_attach_records_metadata_event_and_audit(app):
    agent = app.context("default", "agent")
    issue = app.issues.create(agent, title="扫描仪无法连接", reporter="reporter")

    attachment = app.issues.attach(
        agent, issue.id, blob_id="ab" * 16, filename="截图.png", content_type="image/png", size=1234
    )

    assert attachment.id is not None
    assert attachment.uploaded_by == "agent"
    assert [a.filename for a in app.issues.attachments(agent, issue.id)] == ["截图.png"]
    assert app.issues.attachment(agent, attachment.id).blob_id == "ab" * 16
    history = [event.type for event in app.issues.history(agent, issue.id)]
    assert history[-1] == EventType.ATTACHED.value
    with app.uow("default") as uow:
        actions = [entry.action for entry in uow.audit.list("issue", str(issue.id))]
    assert "attachment.create" in actions


def test_attachment_hidden_from_other_reporters(app):
    agent = app.context("default", "agent")
    admin = app.context("default", "admin")
    app.admin.create_user(admin, "reporter2", "Other reporter", "reporter")
    other = app.context("default", "reporter2")
    issue = app.issues.create(agent, title="门禁卡失效", reporter="reporter")
    attachment = app.issues.attach(agent, issue.id, blob_id="cd" * 16, filename="a.txt", content_type="text/plain", size=3)

    with pytest.raises(NotFound):
        app.issues.attachment(other, attachment.id)
    with pytest.raises(NotFound):
        app.issues.attachments(other, issue.id)
    with pytest.raises(NotFound):
        app.issues.attach(other, issue.id, blob_id="ef" * 16, filename="b.txt", content_type="text/plain", size=3)
    with pytest.raises(NotFound):
        app.issues.attachment(agent, 999999)
