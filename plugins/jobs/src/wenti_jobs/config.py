"""The `[plugins.jobs]` table."""

from __future__ import annotations

import attrs


@attrs.define
class JobsConfig:
    """Settings of the in-process scheduler.

    `autostart` starts the scheduler thread when the app starts, after
    `start_delay_seconds` so that short command-line runs finish first.
    `poll_seconds` is the time between looks for due jobs. `lease_seconds` is how long
    a claimed run is protected from other processes. `max_attempts` and
    `retry_seconds` apply to delayed jobs that fail, and the wait doubles each time.
    """

    runner: str = "inprocess"
    autostart: bool = True
    start_delay_seconds: float = 5.0
    poll_seconds: float = 5.0
    lease_seconds: float = 300.0
    max_attempts: int = 5
    retry_seconds: float = 60.0
