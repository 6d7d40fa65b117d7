"""The `wecom`, `dingtalk` and `feishu` notification channels.

A delivery's recipient is a robot name from `[plugins.notify-im] robots`. Before
sending, the channel counts the robot's messages in the last minute. At the limit
it raises `RobotThrottled` with the seconds until a slot frees, so the notify
dispatcher puts the message back in the queue without counting an attempt. The
messages that pile up meanwhile are folded into one digest when the robot is free
again, because these channels declare `digest = True`.

NOTE: the per-minute window lives in this process's memory, so two processes
sending through one robot each allow the full limit; the provider's throttling
answer is still handled, so nothing is lost, but some requests are refused.
"""

from __future__ import annotations

import collections
import logging
import threading
from typing import TYPE_CHECKING, Any


from wenti_notify_im.config import ImConfig, Robot
from wenti_notify_im.providers import build_request, judge

if TYPE_CHECKING:
    import httpx

log = logging.getLogger(__name__)

WINDOW_SECONDS = 60.0


class RobotError(Exception):
    """A robot refused a message; `permanent` marks errors that retrying cannot fix."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class RobotThrottled(Exception):
    """The robot is over its limit; `retry_after` is in seconds."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


def config_of(app: Any) -> ImConfig:
    return app.plugin_config("notify-im")


class RateWindow:
    """Send times of one robot in the last minute, by the app's clock."""

    def __init__(self) -> None:
        self.sent: collections.deque[float] = collections.deque()

    def wait_seconds(self, now: float, limit: int) -> float:
        while self.sent and self.sent[0] <= now - WINDOW_SECONDS:
            self.sent.popleft()
        if len(self.sent) < limit:
            return 0.0
        return self.sent[0] + WINDOW_SECONDS - now

    def record(self, now: float) -> None:
        self.sent.append(now)


class RobotChannel:
    """The `send` callable of one provider's channel."""

    digest = True
    personal = False

    def __init__(self, provider: str) -> None:
        self.provider = provider
        self._windows: dict[tuple[int, str], RateWindow] = {}
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None

    def client(self) -> httpx.Client:
        # httpx is imported on first use: it takes most of a second to import, and
        # commands that send nothing should not pay for it.
        import httpx

        with self._lock:
            if self._client is None:
                self._client = httpx.Client(follow_redirects=False, trust_env=False)
            return self._client

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def is_enabled(self, app: Any) -> bool:
        config = config_of(app)
        return config.enabled and any(robot.provider == self.provider for robot in config.robots)

    def _window(self, app: Any, robot: Robot) -> RateWindow:
        key = (id(app), robot.name)
        with self._lock:
            if key not in self._windows:
                self._windows[key] = RateWindow()
            return self._windows[key]

    def __call__(self, message: dict[str, Any], app: Any) -> None:
        robot = config_of(app).robot(message["recipient"])
        if robot is None or robot.provider != self.provider:
            raise RobotError(
                f"no {self.provider} robot named {message['recipient']!r} in [plugins.notify-im] robots",
                permanent=True,
            )

        now = app.clock.now().timestamp()
        window = self._window(app, robot)
        wait = window.wait_seconds(now, robot.limit_per_minute)
        if wait > 0:
            raise RobotThrottled(
                f"robot {robot.name} sent {robot.limit_per_minute} messages in the last minute", retry_after=wait
            )

        import httpx

        url, body = build_request(robot, message, now)
        window.record(now)
        try:
            response = self.client().post(url, json=body, timeout=robot.timeout_seconds)
        except httpx.TimeoutException as error:
            raise RobotError(f"robot {robot.name} ({self.provider}) timed out after {robot.timeout_seconds:g} s") from error
        except httpx.TransportError as error:
            raise RobotError(f"robot {robot.name} ({self.provider}) could not be reached: {error}") from error

        if response.status_code != 200:
            raise RobotError(f"robot {robot.name} ({self.provider}) responded with HTTP {response.status_code}: {response.text[:200]}")
        try:
            payload = response.json()
        except ValueError:
            payload = response.text
        outcome = judge(robot, payload)
        if outcome.ok:
            return
        if outcome.throttled:
            log.info("robot throttled by provider robot=%s provider=%s code=%s", robot.name, self.provider, outcome.code)
            raise RobotThrottled(
                f"{self.provider} throttled robot {robot.name}: {outcome.code} {outcome.message}",
                retry_after=float(outcome.retry_after or WINDOW_SECONDS),
            )
        if outcome.bad_credentials:
            raise RobotError(
                f"{self.provider} rejected robot {robot.name}: {outcome.code} {outcome.message}. "
                "Check the robot's url and secret in [plugins.notify-im] robots "
                "(and the keyword, for DingTalk), then retry the dead deliveries with `wenti notify retry`.",
                permanent=True,
            )
        raise RobotError(f"{self.provider} rejected the message for robot {robot.name}: {outcome.code} {outcome.message}")


channels = {provider: RobotChannel(provider) for provider in ("wecom", "dingtalk", "feishu")}
