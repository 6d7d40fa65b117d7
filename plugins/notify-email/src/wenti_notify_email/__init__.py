"""wenti notify-email: notifications by e-mail over SMTP.

Registers the `email` channel, a personal channel: the notify plugin sends one
message per user who chose e-mail (the default channel of users without a
preference) and has an address.
"""

from __future__ import annotations

from wenti import hookimpl
from wenti.records import Notifier, PluginConfig

from wenti_notify_email.channel import channel, send_mail
from wenti_notify_email.config import EmailConfig
from wenti_notify_email.mail import THREAD_ROOT, build_message, message_id, thread_root

__all__ = ["THREAD_ROOT", "EmailConfig", "build_message", "message_id", "send_mail", "thread_root"]


@hookimpl
def register_config_classes() -> list[PluginConfig]:
    return [PluginConfig(name="notify-email", config_class=EmailConfig)]


@hookimpl
def register_notifiers() -> list[Notifier]:
    return [Notifier(name="email", send=channel)]
