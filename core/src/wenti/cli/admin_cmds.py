"""Instance commands: `wenti init`, `wenti config check|show`, `wenti plugins list`."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import click

from wenti.cli.base import Command, Group, option, translate_error
from wenti.cli.output import echo_json, echo_table
from wenti.cli.state import CliState, pass_state
from wenti.i18n import N_, _, normalize_locale, set_locale

DEFAULT_QUEUE_KEY = "general"


@click.command("init", cls=Command, help=N_("Create an instance: configuration file, database, tenant, admin user and a first queue."))
@option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path), default=Path("."), show_default=True, help=N_("Folder of the new instance."))
@option("--tenant", "tenant_id", metavar="ID", help=N_("Tenant to create (default: the global --tenant, then \"default\")."))
@option("--admin", "admin", default="admin", show_default=True, metavar="USER", help=N_("Username of the first admin."))
@option("--timezone", default="Asia/Shanghai", show_default=True, help=N_("IANA time zone of the tenant."))
@pass_state
def init(state: CliState, directory: Path, tenant_id: str | None, admin: str, timezone: str) -> None:
    from wenti.app import App
    from wenti.config import CONFIG_FILENAME, write_default_config

    locale = normalize_locale(state.lang)
    set_locale(locale)
    config_path = (directory / CONFIG_FILENAME).resolve()
    tenant_id = tenant_id or state.tenant

    if config_path.exists():
        click.echo(_("Using the existing configuration {file}.").format(file=config_path))
    else:
        write_default_config(config_path, locale=locale, timezone=timezone, plugin_tables=_plugin_templates(config_path))
        click.echo(_("Wrote the configuration {file}.").format(file=config_path))

    app = App.create(config_path)
    state.adopt(app)
    state.config_path = str(config_path)
    app.admin.ensure_tenant(
        tenant_id,
        tenant_id,
        locale=locale,
        timezone=timezone,
        admin_username=admin,
        default_queue=(DEFAULT_QUEUE_KEY, _("General")),
    )
    click.echo(_("Tenant {tenant} is ready, with admin user {admin} and queue {queue}.").format(tenant=tenant_id, admin=admin, queue=DEFAULT_QUEUE_KEY))
    click.echo(_("Database: {url}").format(url=redact_url(app.config.storage.url)))
    click.echo(_("Next: cd {dir} && wenti issue create --title \"...\", or wenti demo to load a demo organisation.").format(dir=config_path.parent))


def _plugin_templates(config_path: Path) -> dict[str, str]:
    """The starting `[plugins.<name>]` tables that installed plugins offer a new instance."""
    from wenti.config import Config
    from wenti.plugins import load_plugins

    host = load_plugins(Config.default(config_path.parent))
    return {record.name: record.template for record in host.hooks.config_classes() if record.template}


@click.group("config", cls=Group, help=N_("Check or show the configuration."))
def config_group() -> None:
    pass


@config_group.command("check", cls=Command, help=N_("Load the configuration and the plugins and report every problem."))
@pass_state
def config_check(state: CliState) -> None:
    from wenti.cli.base import EXIT_CODES
    from wenti.errors import ConfigError

    config = state.config()
    host = state.plugin_host()
    statuses = list(host.statuses)
    failed = [status for status in statuses if status.status == "failed"]

    # Problems that only show once plugins are known: the commands would fail on them.
    problems = _unknown_plugin_names(config, statuses)
    try:
        host.hooks.storage_backend_for(config)
    except ConfigError as error:
        problems.append(translate_error(error))

    if problems:
        click.echo(_("Configuration {file} has {count} problem(s):").format(file=config.file_label, count=len(problems)), err=True)
        for problem in problems:
            click.echo(f"  - {problem}", err=True)
    else:
        click.echo(_("Configuration {file} is valid.").format(file=config.file_label))
    click.echo(
        _("Plugins: {active} active, {disabled} disabled, {failed} failed.").format(
            active=sum(1 for s in statuses if s.status == "active"),
            disabled=sum(1 for s in statuses if s.status == "disabled"),
            failed=len(failed),
        )
    )
    for status in failed:
        click.echo(_("Plugin {plugin} failed to load: {error}").format(plugin=status.name, error=getattr(status, "error", "")), err=True)
    if problems:
        raise click.exceptions.Exit(EXIT_CODES[ConfigError])
    if failed:
        raise click.exceptions.Exit(1)


def _unknown_plugin_names(config: Any, statuses: list[Any]) -> list[str]:
    """Describe each name in the plugin lists that no installed plugin has."""
    from wenti.config import ENV_DISABLE_PLUGINS, ENV_LOAD_PLUGINS, env_plugin_list

    installed = sorted(status.name for status in statuses if not getattr(status, "builtin", False))
    sources = [
        (f"{config.file_label}: [plugins] enabled", config.plugins.enabled or []),
        (f"{config.file_label}: [plugins] disabled", config.plugins.disabled),
        (f"${ENV_LOAD_PLUGINS}", env_plugin_list(ENV_LOAD_PLUGINS) or []),
        (f"${ENV_DISABLE_PLUGINS}", env_plugin_list(ENV_DISABLE_PLUGINS) or []),
    ]
    problems: list[str] = []
    for source, names in sources:
        for name in names:
            if name not in installed:
                problems.append(
                    _("{source} names {plugin!r}, but no installed plugin has that name (installed: {installed}). Fix the name or install the plugin.").format(
                        source=source, plugin=name, installed=", ".join(installed) or _("none")
                    )
                )
    return problems


@config_group.command("show", cls=Command, help=N_("Print the effective configuration as TOML, with secrets redacted."))
@pass_state
def config_show(state: CliState) -> None:
    config = state.config()
    state.plugin_host()
    click.echo(config.show(), nl=False)


@click.group("plugins", cls=Group, help=N_("Inspect installed plugins."))
def plugins_group() -> None:
    pass


@plugins_group.command("list", cls=Command, help=N_("List plugins with distribution, version, status and hooks."))
@option("--json", "as_json", is_flag=True, help=N_("Print JSON instead of a table."))
@pass_state
def plugins_list(state: CliState, as_json: bool) -> None:
    statuses = list(state.plugin_host().statuses)
    records = [_status_record(status) for status in statuses]
    if as_json:
        echo_json(records)
        return
    headers = [_("Name"), _("Distribution"), _("Version"), _("Status"), _("Hooks")]
    rows = [
        [record["name"], record["distribution"] or "", record["version"] or "", _status_label(record["status"]), ", ".join(record["hooks"])]
        for record in records
    ]
    echo_table(headers, rows)
    # Reasons for disabled plugins are in --json; only failures need attention here.
    for record in records:
        if record["error"] and record["status"] == "failed":
            click.echo(_("{plugin}: {error}").format(plugin=record["name"], error=record["error"]), err=True)


def redact_url(url: str) -> str:
    """Hide the password of a database URL such as `postgresql://wenti:secret@host/db`."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _status_record(status: Any) -> dict[str, Any]:
    return {
        "name": status.name,
        "distribution": getattr(status, "distribution", None),
        "version": getattr(status, "version", None),
        "status": status.status,
        "hooks": list(getattr(status, "hooks", ()) or ()),
        "error": getattr(status, "error", None),
    }


def _status_label(status: str) -> str:
    labels = {"active": N_("active"), "disabled": N_("disabled"), "failed": N_("failed")}
    return _(labels[status]) if status in labels else status
