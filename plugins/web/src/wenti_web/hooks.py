"""Hook implementations of the web plugin."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from wenti import hookimpl
from wenti.records import BlobStore, CliCommand, PluginConfig, SqlSchema

from wenti_web.config import WebConfig

MIGRATIONS = Path(__file__).parent / "migrations" / "versions"


def _open_filesystem_store(app: Any) -> Any:
    from wenti_web.blobs import FilesystemBlobStore

    configured = app.config.attachments.path
    root = Path(configured) if configured else Path(app.config.instance.data_dir) / "attachments"
    if not root.is_absolute():
        root = Path(app.config.instance.data_dir) / root
    return FilesystemBlobStore(root)


@hookimpl
def register_config_classes() -> list[PluginConfig]:
    return [PluginConfig(name="web", config_class=WebConfig)]


@hookimpl
def register_sql_schemas() -> list[SqlSchema]:
    from wenti_web.tables import metadata

    return [SqlSchema(name="web", metadata=metadata, migrations=str(MIGRATIONS), branch="web")]


@hookimpl
def register_blob_stores() -> list[BlobStore]:
    return [BlobStore(name="filesystem", open=_open_filesystem_store)]


@hookimpl
def register_commands() -> list[CliCommand]:
    from wenti_web.cli import serve, web_group

    return [CliCommand(name="serve", command=serve), CliCommand(name="web", command=web_group)]
