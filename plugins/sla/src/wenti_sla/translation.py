"""The gettext domain of the SLA plugin."""

from __future__ import annotations

from pathlib import Path

from wenti.i18n import Domain

domain = Domain("wenti_sla", Path(__file__).parent / "locale")
_ = domain.gettext
