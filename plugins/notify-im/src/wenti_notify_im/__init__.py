"""wenti notify-im: WeCom, DingTalk and Feishu group robots as notification channels.

Registers the `wecom`, `dingtalk` and `feishu` channels. Point a queue at a robot
with `[[plugins.notify.queue_channels]]`; the notify plugin queues, retries and
folds bursts into digests.
"""

from __future__ import annotations

from typing import Any

from wenti import hookimpl
from wenti.records import Notifier, PluginConfig

from wenti_notify_im.channel import channels
from wenti_notify_im.config import ImConfig, Robot
from wenti_notify_im.providers import dingtalk_sign, feishu_sign

__all__ = ["ImConfig", "Robot", "dingtalk_sign", "feishu_sign"]


@hookimpl
def register_config_classes() -> list[PluginConfig]:
    return [PluginConfig(name="notify-im", config_class=ImConfig)]


@hookimpl
def register_notifiers() -> list[Notifier]:
    return [Notifier(name=name, send=channel) for name, channel in channels.items()]


@hookimpl
def shutdown(app: Any) -> None:
    for channel in channels.values():
        channel.close()
