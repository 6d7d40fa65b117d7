"""Robots end to end: issue change -> notify queue -> robot channel -> loopback provider fake."""

from __future__ import annotations

from datetime import timedelta

import pytest

from wenti_notify import service_for
from wenti_notify.queue import DEAD, DELIVERED, PENDING

DINGTALK_SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"
FEISHU_SECRET = "feishu-secret-for-tests"


def _config(fakes, provider, *, secret=None, fmt="markdown", per_minute=0, digest_max_items=30, keyword="", events='["created", "resolved"]'):
    if provider == "wecom":
        url = f"{fakes.base}/cgi-bin/webhook/send?key=wecom-key"
    elif provider == "dingtalk":
        url = f"{fakes.base}/robot/send?access_token=ding-token"
    else:
        url = f"{fakes.base}/open-apis/bot/v2/hook/feishu-hook"
    secret_line = f'secret = "{secret}"' if secret else ""
    return f"""
[plugins.notify]
dispatch_in_process = false
digest_max_items = {digest_max_items}

[[plugins.notify.queue_channels]]
queue = "general"
channel = "{provider}"
target = "ops"
events = {events}

[plugins.notify-im]
enabled = true

[[plugins.notify-im.robots]]
name = "ops"
provider = "{provider}"
url = "{url}"
{secret_line}
format = "{fmt}"
per_minute = {per_minute}
keyword = "{keyword}"
"""


@pytest.fixture
def robot_app(make_wenti_app, robot_fakes):
    def build(provider, **options):
        robot_fakes.wecom_keys.add("wecom-key")
        robot_fakes.dingtalk["ding-token"] = (DINGTALK_SECRET, "问题")
        robot_fakes.feishu["feishu-hook"] = FEISHU_SECRET
        app = make_wenti_app(config_toml=_config(robot_fakes, provider, **options))
        return app

    return build


def _create(app, count, title="打印机卡纸"):
    ctx = app.context("default", "agent")
    issues = [app.issues.create(ctx, queue="general", title=f"{title} {n}") for n in range(count)]
    app.outbox.dispatch_pending()
    return issues


def _rows(app, channel):
    return service_for(app).list_deliveries(app.context("default", "admin"), channel=channel, limit=1000)


def _texts(fakes):
    return [str(item["body"]) for item in fakes.accepted]


@pytest.mark.parametrize(
    ("provider", "secret", "fmt"),
    [
        ("wecom", None, "markdown"),
        ("wecom", None, "text"),
        ("wecom", None, "card"),
        ("dingtalk", DINGTALK_SECRET, "markdown"),
        ("dingtalk", DINGTALK_SECRET, "text"),
        ("dingtalk", DINGTALK_SECRET, "card"),
        ("feishu", FEISHU_SECRET, "markdown"),
        ("feishu", FEISHU_SECRET, "text"),
        ("feishu", FEISHU_SECRET, "card"),
    ],
)
def test_robot_accepts_each_format(robot_app, robot_fakes, provider, secret, fmt):
    app = robot_app(provider, secret=secret, fmt=fmt, keyword="问题" if provider == "dingtalk" else "")
    issue = _create(app, 1)[0]

    service_for(app).dispatcher().run_once()

    assert [row.status for row in _rows(app, provider)] == [DELIVERED]
    assert len(robot_fakes.accepted) == 1
    assert robot_fakes.accepted[0]["provider"] == provider
    assert issue.key in _texts(robot_fakes)[0]


def test_burst_becomes_one_digest(robot_app, robot_fakes):
    app = robot_app("dingtalk", secret=DINGTALK_SECRET, keyword="问题")
    issues = _create(app, 25)

    result = service_for(app).dispatcher().run_once()

    assert result.digests == 1
    assert result.delivered == 25
    assert len(robot_fakes.accepted) == 1
    text = _texts(robot_fakes)[0]
    assert "25" in text
    assert all(issue.key in text for issue in issues)


def test_own_limit_queues_then_digests(robot_app, robot_fakes, frozen_clock):
    app = robot_app("wecom", per_minute=2)
    dispatcher = service_for(app).dispatcher()
    _create(app, 1)
    dispatcher.run_once()
    _create(app, 1)
    dispatcher.run_once()
    later = _create(app, 6)

    throttled = dispatcher.run_once()
    rows = _rows(app, "wecom")
    assert throttled.postponed == 6
    assert sorted(row.status for row in rows) == [DELIVERED] * 2 + [PENDING] * 6
    assert all(row.attempts == 0 for row in rows if row.status == PENDING)
    assert len(robot_fakes.accepted) == 2

    frozen_clock.advance(seconds=61)
    folded = dispatcher.run_once()
    assert folded.digests == 1
    assert {row.status for row in _rows(app, "wecom")} == {DELIVERED}
    assert len(robot_fakes.accepted) == 3
    assert all(issue.key in _texts(robot_fakes)[2] for issue in later)


def test_provider_throttling_loses_nothing(robot_app, robot_fakes, frozen_clock):
    app = robot_app("dingtalk", secret=DINGTALK_SECRET, keyword="问题", per_minute=100, digest_max_items=1)
    _create(app, 24)
    dispatcher = service_for(app).dispatcher()

    first = dispatcher.run_once()
    assert first.delivered == 20
    assert first.postponed == 4
    assert 130101 in [answer.get("errcode") for answer in robot_fakes.answers]

    frozen_clock.advance(seconds=300)
    assert dispatcher.run_once().delivered == 0

    frozen_clock.advance(seconds=301)
    dispatcher.run_until_idle()
    rows = _rows(app, "dingtalk")
    assert {row.status for row in rows} == {DELIVERED}
    assert len(rows) == 24
    assert len(robot_fakes.accepted) == 24


@pytest.mark.parametrize(
    ("provider", "secret", "code"),
    [
        ("dingtalk", "SECwrong-secret-wrong-secret-wrong-secret", "310000"),
        ("feishu", "wrong-feishu-secret", "19021"),
    ],
)
def test_wrong_secret_is_dead_with_clear_error(robot_app, robot_fakes, provider, secret, code):
    app = robot_app(provider, secret=secret, keyword="问题" if provider == "dingtalk" else "")
    _create(app, 1)

    service_for(app).dispatcher().run_once()

    row = _rows(app, provider)[0]
    assert row.status == DEAD
    assert row.attempts == 1
    assert code in row.last_error
    assert "Check the robot's url and secret" in row.last_error
    assert robot_fakes.accepted == []


def test_wrong_wecom_key_is_dead(robot_app, robot_fakes):
    app = robot_app("wecom")
    robot_fakes.wecom_keys.clear()
    _create(app, 1)

    service_for(app).dispatcher().run_once()

    row = _rows(app, "wecom")[0]
    assert row.status == DEAD
    assert "93000" in row.last_error


def test_missing_dingtalk_keyword_is_rejected(robot_app, robot_fakes):
    app = robot_app("dingtalk", secret=DINGTALK_SECRET, keyword="")
    robot_fakes.dingtalk["ding-token"] = (DINGTALK_SECRET, "告警")
    _create(app, 1)

    service_for(app).dispatcher().run_once()

    row = _rows(app, "dingtalk")[0]
    assert row.status == DEAD
    assert "keywords not in content" in row.last_error


def test_wecom_text_is_cut_to_2048_bytes(robot_app, robot_fakes):
    app = robot_app("wecom", fmt="text", events='["commented"]')
    issue = _create(app, 1)[0]
    app.issues.comment(app.context("default", "agent"), issue.id, "服务器宕机，" * 400)
    app.outbox.dispatch_pending()

    service_for(app).dispatcher().run_once()

    content = robot_fakes.accepted[0]["body"]["text"]["content"]
    assert len(content.encode("utf-8")) <= 2048
    assert content.endswith("…")


def test_stale_timestamp_is_refused_by_fakes(robot_app, robot_fakes, frozen_clock):
    app = robot_app("feishu", secret=FEISHU_SECRET)
    _create(app, 1)
    robot_fakes.now = lambda: frozen_clock.now().timestamp() + 2 * 3600

    service_for(app).dispatcher().run_once()

    row = _rows(app, "feishu")[0]
    assert row.status == DEAD
    assert "timestamp is not within one hour" in row.last_error


def test_robot_config_rejects_bad_values():
    from wenti_notify_im.config import Robot

    with pytest.raises(ValueError, match="provider 'slack' is unknown"):
        Robot(name="x", provider="slack", url="https://example.invalid/?key=1")
    with pytest.raises(ValueError, match="needs its \\?access_token"):
        Robot(name="x", provider="dingtalk", url="https://oapi.example.invalid/robot/send")
    with pytest.raises(ValueError, match="starts with SEC"):
        Robot(name="x", provider="dingtalk", url="https://o.example.invalid/robot/send?access_token=t", secret="abc")
