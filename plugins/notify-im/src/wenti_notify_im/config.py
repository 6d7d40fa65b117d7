"""The `[plugins.notify-im]` table: one entry per group robot."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import attrs

from wenti.config import Secret

PROVIDERS = ("wecom", "dingtalk", "feishu")
FORMATS = ("text", "markdown", "card")

# Messages a robot accepts per minute. WeCom and DingTalk both document 20 per
# minute per robot, and DingTalk then throttles the robot for 10 minutes. Feishu's
# custom bot limit is commonly given as 100 per minute and 5 per second; that
# figure comes from secondary sources.
DEFAULT_PER_MINUTE = {"wecom": 20, "dingtalk": 20, "feishu": 100}


def reveal(value: Any) -> str:
    return value.reveal() if isinstance(value, Secret) else str(value)


@attrs.define
class Robot:
    """One group robot. `url` is its webhook address, which is itself a credential.

    `secret` is the signing secret (DingTalk `SEC...`, Feishu); WeCom has none.
    `keyword` is a DingTalk custom keyword that every message must contain.
    """

    name: str
    provider: str
    url: Secret
    secret: Secret | None = None
    keyword: str = ""
    format: str = "markdown"
    per_minute: int = 0
    timeout_seconds: float = 10.0

    def __attrs_post_init__(self) -> None:
        if self.provider not in PROVIDERS:
            raise ValueError(f"robot {self.name!r}: provider {self.provider!r} is unknown; use one of {', '.join(PROVIDERS)}")
        if self.format not in FORMATS:
            raise ValueError(f"robot {self.name!r}: format {self.format!r} is unknown; use one of {', '.join(FORMATS)}")
        url = reveal(self.url)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"robot {self.name!r}: url must be the robot's https:// webhook address")
        query = parse_qs(parts.query)
        if self.provider == "wecom" and not query.get("key"):
            raise ValueError(f"robot {self.name!r}: a WeCom robot url needs its ?key=... part")
        if self.provider == "dingtalk" and not query.get("access_token"):
            raise ValueError(f"robot {self.name!r}: a DingTalk robot url needs its ?access_token=... part")
        if self.provider == "dingtalk" and self.secret is not None and not reveal(self.secret).startswith("SEC"):
            raise ValueError(f"robot {self.name!r}: a DingTalk signing secret starts with SEC; copy it from the robot's security settings")
        if self.per_minute < 0:
            raise ValueError(f"robot {self.name!r}: per_minute = {self.per_minute} must be 0 (provider default) or more")
        if not 0 < self.timeout_seconds <= 60:
            raise ValueError(f"robot {self.name!r}: timeout_seconds = {self.timeout_seconds} must be between 0 and 60")

    @property
    def limit_per_minute(self) -> int:
        return self.per_minute or DEFAULT_PER_MINUTE[self.provider]


@attrs.define
class ImConfig:
    """Validated `[plugins.notify-im]`; nothing is sent until `enabled = true`."""

    enabled: bool = False
    robots: list[Robot] = attrs.Factory(list)

    def __attrs_post_init__(self) -> None:
        names = [robot.name for robot in self.robots]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"robot names must be unique; repeated: {', '.join(duplicates)}")

    def robot(self, name: str) -> Robot | None:
        for robot in self.robots:
            if robot.name == name:
                return robot
        return None
