"""Run `wenti` commands against an app in tests, for core and for plugin authors.

    result = invoke_cli(wenti_app, "issue", "list", "--json", user="agent", lang="en")
    assert result.exit_code == 0, result.output

The app is used as it is (its clock, its plugins) and stays open afterwards.
The language of the run is reset when the call returns.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from click.testing import CliRunner, Result

from wenti.cli import cli
from wenti.cli.state import CliState
from wenti.i18n import current_locale, set_locale

if TYPE_CHECKING:
    from wenti.app import App


def invoke_cli(app: App, *args: str, user: str = "admin", tenant: str = "default", lang: str | None = "en", input: str | None = None) -> Result:
    """Invoke `wenti ARGS...` as `user` in `tenant`; return click's `Result`.

    `user`, `tenant` and `lang` are passed as the global options `--as`, `--tenant`
    and `--lang`, so they win over `WENTI_USER`, `WENTI_TENANT` and `WENTI_LANG`.
    """
    state = CliState(None, tenant, user, lang)
    state.adopt(app, owned=False)
    options = ["--tenant", tenant, "--as", user]
    if lang:
        options += ["--lang", lang]
    previous = current_locale()
    try:
        return CliRunner().invoke(cli, [*options, *args], obj=state, input=input, prog_name="wenti")
    finally:
        set_locale(previous)
