"""Programmatic Alembic: the core tables' branch and one branch per plugin.

The core tables are the branch labelled `sql`, with its scripts in
`migrations/versions`. A plugin that owns tables returns a
`wenti.records.SqlSchema` from `register_sql_schemas`: its metadata, the folder of
its version scripts and its branch label. Its first script has
`down_revision = None`, `branch_labels = ("<branch>",)`, and, when its tables refer
to core tables, `depends_on = "<a core revision>"`. One version table,
`wenti_alembic_version`, records the head of every branch.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, Engine, MetaData

from wenti.records import SqlSchema
from wenti_sql.errors import UnknownRevision
from wenti_sql.tables import metadata as core_metadata

log = logging.getLogger(__name__)

SCRIPT_LOCATION = Path(__file__).parent
CORE_VERSIONS = SCRIPT_LOCATION / "versions"
CORE_BRANCH = "sql"
VERSION_TABLE = "wenti_alembic_version"


def alembic_config(schemas: Sequence[SqlSchema]) -> Config:
    """An Alembic config over the core scripts and every plugin's scripts."""
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    locations = [str(CORE_VERSIONS)]
    for schema in schemas:
        folder = Path(schema.migrations)
        if not folder.is_dir():
            raise ValueError(
                f"plugin {schema.plugin or schema.name!r} declares the migration folder {folder}, which does not exist; "
                "point SqlSchema.migrations at the folder of its Alembic version scripts"
            )
        locations.append(str(folder))
    # The OS path separator lets folder names contain spaces.
    config.set_main_option("path_separator", "os")
    config.set_main_option("version_path_separator", "os")
    config.set_main_option("version_locations", os.pathsep.join(locations))
    config.attributes["target_metadata"] = [core_metadata, *(schema.metadata for schema in schemas)]
    config.attributes["version_table"] = VERSION_TABLE
    return config


def upgrade(engine: Engine, schemas: Sequence[SqlSchema], target: str = "heads") -> None:
    """Run `alembic upgrade <target>` (all branches by default) on `engine`."""
    config = alembic_config(schemas)
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        with _known_revisions(config, connection):
            command.upgrade(config, target)
        connection.commit()
    log.info("schema upgraded to %s: branches %s", target, ", ".join([CORE_BRANCH, *(s.branch for s in schemas)]))


def downgrade(engine: Engine, schemas: Sequence[SqlSchema], target: str) -> None:
    """Run `alembic downgrade <target>`: `base`, `<branch>@base`, `<branch>@-1` or a revision id."""
    config = alembic_config(schemas)
    with engine.connect() as connection:
        config.attributes["connection"] = connection
        with _known_revisions(config, connection):
            command.downgrade(config, target)
        connection.commit()
    log.info("schema downgraded to %s", target)


@contextlib.contextmanager
def _known_revisions(config: Config, connection: Connection) -> Iterator[None]:
    """Turn Alembic's error about a revision of an unloaded plugin into `UnknownRevision`."""
    script = ScriptDirectory.from_config(config)
    heads = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_heads()
    connection.rollback()
    for head in heads:
        try:
            script.get_revision(head)
        except CommandError:
            log.error("database revision %s belongs to no loaded plugin", head)
            raise UnknownRevision(revision=head) from None
    yield


def applied_revisions(engine: Engine, schemas: Sequence[SqlSchema] = ()) -> set[str]:
    """Every revision the database is at or past, across all branches.

    The version table holds only the heads; a head that `depends_on` a core
    revision implies it, so this walks down from the heads.
    """
    script = ScriptDirectory.from_config(alembic_config(schemas))
    with engine.connect() as connection:
        heads = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE}).get_current_heads()
    if not heads:
        return set()
    return {revision.revision for revision in script.iterate_revisions(heads, "base")}


def schema_differences(engine: Engine, schemas: Sequence[SqlSchema] = ()) -> list[object]:
    """Differences between the database and the metadata, as Alembic's autogenerate sees them."""
    metadatas: list[MetaData] = [core_metadata, *(schema.metadata for schema in schemas)]
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "version_table": VERSION_TABLE, "target_metadata": metadatas}
        )
        return list(compare_metadata(context, metadatas))
