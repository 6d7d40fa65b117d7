"""The `wenti` command line.

`main` is the console script. The root group reads the global options into a
`CliState`; commands build the app from it when they first need it. Commands
that plugins register through the `register_commands` hook are looked up after
the built-in ones, so a plugin that fails to load never hides `wenti init` or
`wenti config check`.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

import click

from wenti.cli.base import CliError, Group, Option, option, show_usage_error
from wenti.cli.state import CliState
from wenti.errors import WentiError
from wenti.i18n import N_, SUPPORTED_LOCALES, _, set_locale

log = logging.getLogger(__name__)

ENV_LOG_LEVEL = "WENTI_LOG_LEVEL"
# Exit code of an error wenti did not expect (EX_SOFTWARE in BSD's sysexits.h).
EXIT_UNEXPECTED = 70


class RootGroup(Group):
    """The `wenti` group: built-in commands first, then those plugins register."""

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        """Run click without its standalone handling, so every error prints in the user's language."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as error:
            show_usage_error(error)
            sys.exit(error.exit_code)
        except click.ClickException as error:
            error.show()
            sys.exit(error.exit_code)
        except WentiError as error:
            # Raised while resolving a command, before Group.invoke could translate it.
            cli_error = CliError.from_error(error)
            cli_error.show()
            sys.exit(cli_error.exit_code)
        except (click.Abort, KeyboardInterrupt, EOFError):
            click.echo(_("Aborted."), err=True)
            sys.exit(1)
        except Exception as error:  # noqa: BLE001 - the last line of defence of a console program
            _report_unexpected(error)
            sys.exit(EXIT_UNEXPECTED)
        # With standalone_mode=False click returns the code of a ctx.exit(code) call.
        sys.exit(result if isinstance(result, int) else 0)

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx))
        names.update(self._plugin_commands(ctx))
        return sorted(names)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        command = super().get_command(ctx, name)
        if command is not None:
            return command
        return self._plugin_commands(ctx).get(name)

    def _plugin_commands(self, ctx: click.Context) -> dict[str, click.Command]:
        state = ctx.find_object(CliState) or _state_from_params(ctx)
        ctx.obj = state
        try:
            records = state.plugin_host().hooks.commands()
        except WentiError as error:
            # Built-in commands still work; `wenti config check` shows the full error.
            log.warning("plugin commands unavailable: %s", error)
            return {}
        return {record.name: record.command for record in records if record.name not in self.commands}


def _apply_lang(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    # Eager, so `wenti --lang en --help` already prints English help.
    if value:
        set_locale(value)
    return value


def _report_unexpected(error: Exception) -> None:
    log.error("command failed with an unexpected error", exc_info=log.isEnabledFor(logging.DEBUG))
    click.echo(
        _("Error: unexpected failure: {error}. Run again with {variable}=DEBUG to see the traceback, and report it if it persists.").format(
            error=f"{type(error).__name__}: {error}", variable=ENV_LOG_LEVEL
        ),
        err=True,
    )


def _state_from_params(ctx: click.Context) -> CliState:
    params = ctx.params
    return CliState(params.get("config_path"), params.get("tenant"), params.get("username"), params.get("lang"))


@click.group(cls=RootGroup, help=N_("wenti: record, route, track and resolve problems."))
@option("--config", "config_path", metavar="FILE", help=N_("Configuration file (default: $WENTI_CONFIG, then ./wenti.toml)."))
@option("--tenant", metavar="ID", help=N_("Tenant to work in (default: $WENTI_TENANT, then \"default\")."))
@option("--as", "username", metavar="USER", help=N_("Act as this user (default: $WENTI_USER, then \"admin\")."))
@option(
    "--lang",
    type=click.Choice(SUPPORTED_LOCALES),
    envvar="WENTI_LANG",
    is_eager=True,
    callback=_apply_lang,
    help=N_("Language of the output (default: $WENTI_LANG, the user's language, then the instance's)."),
)
@click.version_option(package_name="wenti-core", prog_name="wenti", cls=Option, help=N_("Show the version and exit."))
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, tenant: str | None, username: str | None, lang: str | None) -> None:
    state = ctx.find_object(CliState)
    if state is None:
        state = CliState(config_path, tenant, username, lang)
    else:
        # A state passed in by a caller (tests) keeps its app; options given still apply.
        state.apply_options(config_path, tenant, username, lang)
    ctx.obj = state
    ctx.call_on_close(state.close)


def _register_builtin_commands() -> None:
    from wenti.cli import admin_cmds, demo_cmd, export_cmd, import_cmd, issue_cmds, outbox_cmds, queue_cmds

    for command in (
        admin_cmds.init,
        admin_cmds.config_group,
        admin_cmds.plugins_group,
        issue_cmds.issue_group,
        outbox_cmds.outbox_group,
        queue_cmds.queue_group,
        import_cmd.import_command,
        export_cmd.export_command,
        demo_cmd.demo,
    ):
        cli.add_command(command)


_register_builtin_commands()


def main(argv: list[str] | None = None) -> Any:
    """Run the command line; the console script `wenti` calls this."""
    level = os.environ.get(ENV_LOG_LEVEL, "WARNING").upper()
    logging.basicConfig(level=getattr(logging, level, logging.WARNING), stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    return cli.main(args=argv, prog_name="wenti")


__all__ = ["CliError", "cli", "main"]
