"""Intake end to end: Maildir, mbox and a real dovecot IMAP server into issues and comments."""

from __future__ import annotations

import mailbox

import pytest

from wenti.store import IssueQuery
from wenti_intake_email import import_folder, poll_imap, service_for
from wenti_intake_email.config import ImapSettings

CONFIG = """
[plugins.intake-email]
enabled = true
queue = "general"
own_domain = "wenti.example.com"
"""


@pytest.fixture
def intake_app(make_wenti_app):
    return make_wenti_app(config_toml=CONFIG)


def _email_issues(app):
    ctx = app.context("default", "admin")
    return app.issues.list(ctx, IssueQuery(source="email", limit=500)).items


def _maildir(tmp_path, corpus):
    box = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    for _name, raw, _expected in corpus:
        box.add(raw)
    box.close()
    return tmp_path / "Maildir"


def _creatable(corpus):
    return [expected for _n, _r, expected in corpus if "action" not in expected]


@pytest.mark.parametrize("archive", [True, False])
def test_maildir_corpus_becomes_issues(intake_app, mail_corpus, tmp_path, archive):
    counts = import_folder(service_for(intake_app), _maildir(tmp_path, mail_corpus), archive=archive)

    expected_created = len(_creatable(mail_corpus))
    expected_ignored = sum(1 for *_rest, e in mail_corpus if e.get("action") == "ignored")
    expected_quarantined = sum(1 for *_rest, e in mail_corpus if e.get("action") == "quarantined")
    assert counts["created"] == expected_created
    assert counts["ignored"] == expected_ignored
    assert counts["quarantined"] == expected_quarantined
    titles = sorted(issue.title for issue in _email_issues(intake_app))
    assert titles == sorted(e["subject"] for e in _creatable(mail_corpus))
    quarantined = service_for(intake_app).quarantined()
    assert len(quarantined) == expected_quarantined
    assert all(row["reason"] for row in quarantined)


def test_attachments_are_kept(intake_app, mail_corpus, tmp_path):
    import_folder(service_for(intake_app), _maildir(tmp_path, mail_corpus))
    admin = intake_app.context("default", "admin")

    names = []
    for issue in _email_issues(intake_app):
        names.extend(attachment.filename for attachment in intake_app.issues.attachments(admin, issue.id))

    expected = [name for e in _creatable(mail_corpus) for name in e.get("attachments", [])]
    assert sorted(names) == sorted(expected)


def test_archive_keeps_mail_date(intake_app, mail_corpus, tmp_path, frozen_clock):
    frozen_clock.advance(days=1)
    import_folder(service_for(intake_app), _maildir(tmp_path, mail_corpus))

    issue = next(issue for issue in _email_issues(intake_app) if issue.external_id == "<c01@customer.example>")
    history = intake_app.issues.history(intake_app.context("default", "admin"), issue.id)

    assert issue.created_at.isoformat() == "2026-03-02T01:15:00+00:00"
    assert [event.type for event in history] == ["issue.imported"]


def test_reply_in_same_archive_becomes_comment(intake_app, mail_corpus, tmp_path):
    original = next(raw for name, raw, _ in mail_corpus if name.startswith("gb2312 label"))
    box = mailbox.mbox(str(tmp_path / "thread.mbox"), create=True)
    box.add(original)
    box.add(_reply(in_reply_to="<c01@customer.example>"))
    box.close()

    counts = import_folder(service_for(intake_app), tmp_path / "thread.mbox")

    assert counts["created"] == 1
    assert counts["commented"] == 1


def test_fetched_twice_creates_one_issue(intake_app, mail_corpus, tmp_path):
    folder = _maildir(tmp_path, mail_corpus)
    import_folder(service_for(intake_app), folder)

    again = import_folder(service_for(intake_app), folder)

    assert again["created"] == 0
    assert again["duplicate"] >= len(_creatable(mail_corpus))
    assert len(_email_issues(intake_app)) == len(_creatable(mail_corpus))


def test_unknown_sender_gets_reporter_account(intake_app, mail_corpus):
    raw = next(raw for name, raw, _ in mail_corpus if name.startswith("gb2312 label"))

    outcome = service_for(intake_app).take(raw, "test")

    admin = intake_app.context("default", "admin")
    issue = intake_app.issues.get(admin, outcome.issue_id)
    assert issue.reporter == "wangzhe@customer.example"
    assert issue.source == "email"
    assert issue.external_id == "<c01@customer.example>"
    with intake_app.uow("default") as uow:
        user = uow.users.get("wangzhe@customer.example")
    assert user.display_name == "王喆"
    assert getattr(user.role, "value", user.role) == "reporter"


def _reply(in_reply_to=None, references=None, subject="Re: 问题", body="已经好了，谢谢", message_id="r1@customer.example"):
    lines = [
        b"From: wangzhe@customer.example",
        b"To: helpdesk+GENERAL-1@example.com" if "GENERAL" in subject else b"To: helpdesk@example.com",
        b"Subject: =?utf-8?B?" + __import__("base64").b64encode(subject.encode()) + b"?=",
        b"Message-ID: <" + message_id.encode() + b">",
    ]
    if in_reply_to:
        lines.append(b"In-Reply-To: " + in_reply_to.encode())
    if references:
        lines.append(b"References: " + references.encode())
    lines += [b"Content-Type: text/plain; charset=utf-8", b"", (body + "\n\n在 2026年3月2日，IT 服务台 写道：\n> 旧内容").encode()]
    return b"\r\n".join(lines)


@pytest.mark.parametrize("how", ["in-reply-to", "thread-root", "subject-key"])
def test_reply_becomes_public_comment(intake_app, mail_corpus, how):
    service = service_for(intake_app)
    original = next(raw for name, raw, _ in mail_corpus if name.startswith("gb2312 label"))
    created = service.take(original, "test")
    issue_id = created.issue_id
    key = f"GENERAL-{issue_id}"
    if how == "in-reply-to":
        reply = _reply(in_reply_to="<c01@customer.example>")
    elif how == "thread-root":
        reply = _reply(references=f"<x@elsewhere> <issue.default.{issue_id}@wenti.example.com>")
    else:
        reply = _reply(subject=f"回复：[{key}] 打印机")

    outcome = service.take(reply, "test")

    admin = intake_app.context("default", "admin")
    comments = intake_app.issues.comments(admin, issue_id)
    assert outcome.action == "commented"
    assert outcome.issue_id == issue_id
    assert [c.body for c in comments] == ["已经好了，谢谢"]
    assert getattr(comments[0].visibility, "value", comments[0].visibility) == "public"
    assert comments[0].external_id == "<r1@customer.example>"
    assert service.take(reply, "test").action == "duplicate"


def test_bad_message_does_not_block_the_next(intake_app, mail_corpus, tmp_path):
    path = tmp_path / "mail.mbox"
    box = mailbox.mbox(str(path), create=True)
    box.add(b"From: nobody\r\nSubject: broken\r\n\r\nno address")
    good = next(raw for name, raw, _ in mail_corpus if name.startswith("HTML-only"))
    box.add(good)
    box.close()

    counts = import_folder(service_for(intake_app), path)

    assert counts["quarantined"] == 1
    assert counts["created"] == 1


def test_import_rejects_missing_path(intake_app, tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        import_folder(service_for(intake_app), tmp_path / "nothing")


def test_imap_poll_takes_corpus_once(intake_app, mail_corpus, dovecot):
    client = dovecot.client()
    for _name, raw, _expected in mail_corpus:
        client.append("INBOX", raw)
    client.logout()
    settings = ImapSettings(
        host="127.0.0.1", port=dovecot.port, security="none", username=dovecot.username, password=dovecot.password
    )
    service = service_for(intake_app)

    first = poll_imap(service, settings)
    second = poll_imap(service, settings)

    assert first["created"] == len(_creatable(mail_corpus))
    assert sum(second.values()) == 0
    check = dovecot.client()
    assert check.folder_exists("wenti-quarantine")
    check.select_folder("wenti-quarantine")
    quarantined = sum(1 for *_rest, e in mail_corpus if e.get("action") == "quarantined")
    assert len(check.search("ALL")) == quarantined
    check.select_folder("INBOX")
    remaining = len(check.search("ALL"))
    check.logout()
    assert remaining == len(mail_corpus) - quarantined


def test_imap_refetch_after_lost_state_dedupes(intake_app, mail_corpus, dovecot):
    client = dovecot.client()
    for _name, raw, _expected in mail_corpus[:5]:
        client.append("INBOX", raw)
    client.logout()
    settings = ImapSettings(
        host="127.0.0.1", port=dovecot.port, security="none", username=dovecot.username, password=dovecot.password
    )
    service = service_for(intake_app)
    poll_imap(service, settings)
    with intake_app.uow("default") as uow:
        from wenti_intake_email.schema import mailbox_states

        uow.sql_connection().execute(mailbox_states.delete())
        uow.commit()

    again = poll_imap(service, settings)

    assert again["created"] == 0
    assert again["duplicate"] == 5
    assert len(_email_issues(intake_app)) == 5


def test_imap_wrong_password_is_clear(intake_app, dovecot):
    settings = ImapSettings(host="127.0.0.1", port=dovecot.port, security="none", username="helpdesk", password="wrong")

    with pytest.raises(Exception, match="(?i)authentication failed"):
        poll_imap(service_for(intake_app), settings)


def test_cli_import_and_quarantine(make_wenti_app, mail_corpus, tmp_path):
    from click.testing import CliRunner

    from wenti.cli import cli

    make_wenti_app(config_toml=CONFIG, data_dir=tmp_path / "instance")
    config = str(tmp_path / "instance" / "wenti.toml")
    folder = _maildir(tmp_path, mail_corpus)

    imported = CliRunner().invoke(cli, ["--config", config, "--lang", "en", "intake", "import", str(folder)])
    chinese = CliRunner().invoke(cli, ["--config", config, "--lang", "zh_CN", "intake", "import", str(folder)])
    listed = CliRunner().invoke(cli, ["--config", config, "intake", "quarantine"])

    created = len(_creatable(mail_corpus))
    assert imported.exit_code == 0, imported.output
    assert imported.output.startswith(f"Created {created}, commented 0")
    assert chinese.exit_code == 0, chinese.output
    assert chinese.output.startswith("新建问题 0，新增回复 0")
    assert listed.exit_code == 0, listed.output
    assert "contains no e-mail address" in listed.output


def test_poll_job_reads_configured_mailbox(make_wenti_app, mail_corpus, dovecot):
    import wenti_intake_email

    client = dovecot.client()
    for _name, raw, _expected in mail_corpus[:3]:
        client.append("INBOX", raw)
    client.logout()
    app = make_wenti_app(
        config_toml=CONFIG
        + f"""
[plugins.intake-email.imap]
host = "127.0.0.1"
port = {dovecot.port}
security = "none"
username = "{dovecot.username}"
password = "{dovecot.password}"
"""
    )
    jobs = {job.name: job for job in wenti_intake_email.register_jobs()}

    jobs["intake.poll"].run(app, {})

    assert len(_email_issues(app)) == 3


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_imap_over_tls(intake_app, mail_corpus, dovecot, security):
    from wenti.config import Secret

    client = dovecot.client()
    client.append("INBOX", mail_corpus[0][1])
    client.logout()
    settings = ImapSettings(
        host="127.0.0.1",
        port=dovecot.tls_port if security == "tls" else dovecot.port,
        security=security,
        username=dovecot.username,
        password=Secret(dovecot.password),
        ca_file=dovecot.ca_path,
    )

    counts = poll_imap(service_for(intake_app), settings)

    assert counts["created"] == 1


def test_imap_rejects_untrusted_certificate(intake_app, dovecot):
    import ssl

    settings = ImapSettings(
        host="127.0.0.1", port=dovecot.tls_port, security="tls", username=dovecot.username, password=dovecot.password
    )

    with pytest.raises(ssl.SSLCertVerificationError):
        poll_imap(service_for(intake_app), settings)
