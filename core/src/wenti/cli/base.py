"""Click building blocks shared by every `wenti` command.

Help texts are English msgids translated when help is shown, because the
language is only known after the global options (`--lang`, the user's locale)
have been read. Errors from the service layer become `CliError`s that print in
the user's language and exit with a code scripts can test (see `EXIT_CODES`).
"""

from __future__ import annotations

from typing import IO, Any

import click

from wenti.errors import ConfigError, Conflict, NotFound, PermissionDenied, ValidationFailed, WentiError
from wenti.i18n import N_, _, translate

# Exit codes, documented in docs/cli.md. Click's usage errors exit with 2.
EXIT_CODES: dict[type[WentiError], int] = {
    NotFound: 3,
    PermissionDenied: 4,
    Conflict: 5,
    ConfigError: 6,
    ValidationFailed: 1,
}


def exit_code_for(error: WentiError) -> int:
    for error_type, code in EXIT_CODES.items():
        if isinstance(error, error_type):
            return code
    return 1


class CliError(click.ClickException):
    """An error shown to a person: already translated, with the exit code chosen."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

    @classmethod
    def from_error(cls, error: WentiError) -> CliError:
        return cls(translate_error(error), exit_code_for(error))

    def show(self, file: IO[Any] | None = None) -> None:
        click.echo(_("Error: {message}").format(message=self.format_message()), err=True, file=file)


def translate_error(error: WentiError) -> str:
    """Translate the error's message into the current language, with a `ValidationFailed`'s reasons."""
    # `translate` also looks in plugins' catalogs, for errors raised by plugin commands.
    text = error.translated(translate)
    reasons = getattr(error, "reasons", None)
    if reasons and "{reasons}" not in error.message_id:
        text = text + "\n" + "\n".join(f"  - {translate(reason)}" for reason in reasons)
    return text


# Headings click writes in help pages, as msgids of the core catalog.
_HELP_HEADINGS = {
    "Options": N_("Options"),
    "Commands": N_("Commands"),
    "Positional arguments": N_("Positional arguments"),
}


class HelpFormatter(click.HelpFormatter):
    """Click's formatter with the usage prefix and section headings translated."""

    def write_usage(self, prog: str, args: str = "", prefix: str | None = None) -> None:
        super().write_usage(prog, args, prefix if prefix is not None else _("Usage: "))

    def section(self, name: str) -> Any:
        return super().section(_(_HELP_HEADINGS.get(name, name)))

    def write_heading(self, heading: str) -> None:
        # Chinese puts a full-width colon after a heading.
        self.write(f"{'':>{self.current_indent}}{_('{heading}:').format(heading=heading)}\n")


class Context(click.Context):
    formatter_class = HelpFormatter


def show_usage_error(error: click.UsageError) -> None:
    """Print a usage error in the user's language.

    NOTE: the detail click gives for a bad value (such as "0 is not in the range
    1<=x<=1000.") stays English; the sentence around it is translated.
    """
    if error.ctx is not None:
        command = error.ctx.command_path
        click.echo(error.ctx.get_usage(), err=True)
        click.echo(_("Try '{command} --help' for help.").format(command=command), err=True)
        click.echo("", err=True)
    click.echo(_("Error: {message}").format(message=usage_error_text(error)), err=True)


def usage_error_text(error: click.UsageError) -> str:
    """Translate the usage errors people meet most: missing, unknown and invalid parameters."""
    param = getattr(error, "param", None)
    hint = param.get_error_hint(error.ctx) if param is not None and error.ctx is not None else None
    if isinstance(error, click.MissingParameter) and hint is not None:
        if (error.param_type or param.param_type_name) == "argument":
            return _("Missing argument {name}.").format(name=_(hint.strip("'")))
        return _("Missing option {name}.").format(name=hint)
    if isinstance(error, click.NoSuchOption):
        if error.possibilities:
            names = ", ".join(sorted(error.possibilities))
            return _("No such option: {name}. Did you mean {names}?").format(name=error.option_name, names=names)
        return _("No such option: {name}.").format(name=error.option_name)
    if isinstance(error, click.BadParameter) and hint is not None:
        return _("Invalid value for {name}: {detail}").format(name=hint, detail=error.message)
    return error.format_message()


class _TranslatedHelp:
    """Mixin: `help` is stored as an English msgid and translated on every read.

    Lookup goes through every registered catalog, so a plugin whose commands use
    these classes gets its help texts from its own catalog.
    """

    @property
    def help(self) -> str | None:  # type: ignore[override]
        raw = self.__dict__.get("_help_msgid")
        return translate(raw) if raw else raw

    @help.setter
    def help(self, value: str | None) -> None:
        self.__dict__["_help_msgid"] = value

    @property
    def short_help(self) -> str | None:  # type: ignore[override]
        raw = self.__dict__.get("_short_help_msgid")
        return translate(raw) if raw else raw

    @short_help.setter
    def short_help(self, value: str | None) -> None:
        self.__dict__["_short_help_msgid"] = value


class _TranslatedHelpOption:
    """Mixin for commands: the --help option's own text goes through the catalog too."""

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)  # type: ignore[misc]
        if option is not None:
            option.help = _("Show this message and exit.")
        return option


# Metavars click and wenti write in usage lines and option lists, as msgids.
METAVARS = (
    N_("[OPTIONS]"),
    N_("COMMAND [ARGS]..."),
    N_("TEXT"),
    N_("INTEGER"),
    N_("INTEGER RANGE"),
    N_("FILE"),
    N_("DATE"),
    N_("USER"),
    N_("NAME"),
    N_("NAME=VALUE"),
    N_("ISSUE"),
    N_("KEY"),
    N_("CATEGORY"),
)


class _TranslatedUsage:
    """Mixin for commands: `[OPTIONS]` and argument names in the usage line go through the catalog."""

    def collect_usage_pieces(self, ctx: click.Context) -> list[str]:
        return [_(piece) for piece in super().collect_usage_pieces(ctx)]  # type: ignore[misc]


class Command(_TranslatedHelp, _TranslatedHelpOption, _TranslatedUsage, click.Command):
    context_class = Context


class Option(_TranslatedHelp, click.Option):
    """An option whose metavar and help extras (`[default: 1]`, `[required]`) are translated."""

    def make_metavar(self, ctx: click.Context) -> str:
        return _(super().make_metavar(ctx))

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        if self.hidden:
            return None
        help_text = self.help or ""
        extra = self.get_help_extra(ctx)
        items = []
        if "envvars" in extra:
            items.append(_("env var: {var}").format(var=", ".join(extra["envvars"])))
        if "default" in extra:
            items.append(_("default: {default}").format(default=extra["default"]))
        if "range" in extra:
            items.append(extra["range"])
        if "required" in extra:
            items.append(_("required"))
        if items:
            joined = "; ".join(items)
            help_text = f"{help_text}  [{joined}]" if help_text else f"[{joined}]"
        return self.get_help_spec(ctx), help_text


class Group(_TranslatedHelp, _TranslatedHelpOption, _TranslatedUsage, click.Group):
    command_class = Command
    context_class = Context

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # A group named without a subcommand shows its help and succeeds, instead of
        # click's "missing command" usage error.
        if not args and not self.invoke_without_command:
            click.echo(ctx.get_help(), color=ctx.color)
            ctx.exit(0)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except WentiError as error:
            raise CliError.from_error(error) from None
        except KeyboardInterrupt:
            from wenti.cli.state import CliState

            # CliState.close() then skips delivering events: the person wants to stop now.
            state = ctx.find_object(CliState)
            if state is not None:
                state.deliver_at_exit = False
            raise


Group.group_class = Group


def option(*param_decls: str, **attrs: Any) -> Any:
    """`click.option` with a translated help text."""
    attrs.setdefault("cls", Option)
    return click.option(*param_decls, **attrs)
