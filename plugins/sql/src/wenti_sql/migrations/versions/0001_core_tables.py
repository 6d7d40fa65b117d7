"""Create the core tables.

The first revision of the `sql` branch: tenants, users, teams, queues, workflows,
issues and their tags, comments, attachments, links, history events, audit log
and outbox. Column types come from `wenti_sql.types`, so this script keeps
importing that module.

Revision ID: 0001_core
Revises: (none)
"""

from __future__ import annotations

from alembic import op
import sqlalchemy as sa

import wenti_sql.types


revision = '0001_core'
down_revision = None
branch_labels = ('sql',)
depends_on = None


def upgrade() -> None:
    op.create_table('wenti_audit',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=64), nullable=False),
    sa.Column('object_id', sa.String(length=255), nullable=False),
    sa.Column('at', wenti_sql.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('detail', sa.JSON(none_as_null=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wenti_audit')),
    mariadb_charset='utf8mb4',
    mariadb_collate='utf8mb4_bin',
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_bin'
    )
    op.create_index(op.f('ix_wenti_audit_tenant_id_object_type_object_id'), 'wenti_audit', ['tenant_id', 'object_type', 'object_id'], unique=False)

    op.create_table('wenti_events',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('issue_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('type', sa.String(length=64), nullable=False),
    sa.Column('actor', sa.String(length=64), nullable=False),
    sa.Column('at', wenti_sql.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('changes', sa.JSON(none_as_null=True), nullable=False),
    sa.Column('data', sa.JSON(none_as_null=True), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_wenti_events')),
    sa.UniqueConstraint('id', name=op.f('uq_wenti_events_id')),
    mariadb_charset='utf8mb4',
    mariadb_collate='utf8mb4_bin',
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_bin'
    )
    op.create_index(op.f('ix_wenti_events_tenant_id_issue_id_seq'), 'wenti_events', ['tenant_id', 'issue_id', 'seq'], unique=False)

    op.create_table('wenti_outbox',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('event_id', sa.String(length=64), nullable=False),
    sa.Column('hook', sa.String(length=64), nullable=False),
    sa.Column('plugin', sa.String(length=64), nullable=False),
    sa.Column('payload', sa.JSON(none_as_null=True), nullable=False),
    sa.Column('created_at', wenti_sql.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', wenti_sql.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lease_until', wenti_sql.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('delivered_at', wenti_sql.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wenti_outbox')),
    sa.UniqueConstraint('event_id', 'plugin', name=op.f('uq_wenti_outbox_event_id_plugin')),
    mariadb_charset='utf8mb4',
    mariadb_collate='utf8mb4_bin',
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_bin'
    )
    op.create_index(op.f('ix_wenti_outbox_tenant_id_status_next_attempt_at'), 'wenti_outbox', ['tenant_id', 'status', 'next_attempt_at'], unique=False)

    op.create_table('wenti_tenants',
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('locale', sa.String(length=16), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('created_at', wenti_sql.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('tenant_id', name=op.f('pk_wenti_tenants')),
    mariadb_charset='utf8mb4',
    mariadb_collate='utf8mb4_bin',
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_bin'
    )
    op.create_table('wenti_issues',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('queue', sa.String(length=64), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('reporter', sa.String(length=64), nullable=False),
    sa.Column('status', sa.String(length=64), nullable=False),
    sa.Column('priority', sa.String(length=16), nullable=False),
    sa.Column('priority_rank', sa.SmallInteger(), nullable=False),
    sa.Column('category', sa.String(length=200), nullable=True),
    sa.Column('tags', sa.JSON(none_as_null=True), nullable=False),
    sa.Column('custom_fields', sa.JSON(none_as_null=True), nullable=False),
    sa.Column('assignee', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('created_at', wenti_sql.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', wenti_sql.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('first_responded_at', wenti_sql.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolved_at', wenti_sql.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', wenti_sql.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['wenti_tenants.tenant_id'], name=op.f('fk_wenti_issues_tenant_id_wenti_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wenti_issues')),
    sa.UniqueConstraint('tenant_id', 'id', name=op.f('uq_wenti_issues_tenant_id_id')),
    sa.UniqueConstraint('tenant_id', 'source', 'external_id', name=op.f('uq_wenti_issues_tenant_id_source_external_id')),
    mariadb_charset='utf8mb4',
    mariadb_collate='utf8mb4_bin',
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_bin'
    )
    op.create_index(op.f('ix_wenti_issues_tenant_id_assignee_status_priority_rank'), 'wenti_issues', ['tenant_id', 'assignee', 'status', 'priority_rank'], unique=False)
    op.create_index(op.f('ix_wenti_issues_tenant_id_category_status'), 'wenti_issues', ['tenant_id', 'category', 'status'], unique=False)
    op.create_index(op.f('ix_wenti_issues_tenant_id_created_at'), 'wenti_issues', ['tenant_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_wenti_issues_tenant_id_queue_status'), 'wenti_issues', ['tenant_id', 'queue', 'status'], unique=False)

    op.create_table('wenti_queues',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('workflow_key', sa.String(length=64), nullable=False),
    sa.Column('team_key', sa.String(length=64), nullable=True),
    sa.Column('manager', sa.String(length=64), nullable=True),
    sa.Column('categories', sa.JSON(none_as_null=True), nullable=False),
    sa.Column('custom_fields', sa.JSON(none_as_null=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['wenti_tenants.tenant_id'], name=op.f('fk_wenti_queues_tenant_id_wenti_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wenti_queues')),
    sa.UniqueConstraint('tenant_id', 'key', name=op.f('uq_wenti_queues_tenant_id_key')),
    mariadb_charset='utf8mb4',
    mariadb_collate='utf8mb4_bin',
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_bin'
    )
    op.create_table('wenti_teams',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('members', sa.JSON(none_as_null=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['wenti_tenants.tenant_id'], name=op.f('fk_wenti_teams_tenant_id_wenti_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wenti_teams')),
    sa.UniqueConstraint('tenant_id', 'key', name=op.f('uq_wenti_teams_tenant_id_key')),
    mariadb_charset='utf8mb4',
    mariadb_collate='utf8mb4_bin',
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_bin'
    )
    op.create_table('wenti_users',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=32), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('locale', sa.String(length=16), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', wenti_sql.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id'], ['wenti_tenants.tenant_id'], name=op.f('fk_wenti_users_tenant_id_wenti_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wenti_users')),
    sa.UniqueConstraint('tenant_id', 'username', name=op.f('uq_wenti_users_tenant_id_username')),
    mariadb_charset='utf8mb4',
    mariadb_collate='utf8mb4_bin',
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_bin'
    )
    op.create_table('wenti_workflows',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('initial_state', sa.String(length=64), nullable=False),
    sa.Column('states', sa.JSON(none_as_null=True), nullable=False),
    sa.Column('transitions', sa.JSON(none_as_null=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id'], ['wenti_tenants.tenant_id'], name=op.f('fk_wenti_workflows_tenant_id_wenti_tenants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wenti_workflows')),
    sa.UniqueConstraint('tenant_id', 'key', name=op.f('uq_wenti_workflows_tenant_id_key')),
    mariadb_charset='utf8mb4',
    mariadb_collate='utf8mb4_bin',
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_bin'
    )
    op.create_table('wenti_attachments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('issue_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('comment_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('blob_id', sa.String(length=255), nullable=False),
    sa.Column('filename', sa.String(length=500), nullable=False),
    sa.Column('content_type', sa.String(length=200), nullable=False),
    sa.Column('size', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('uploaded_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', wenti_sql.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'issue_id'], ['wenti_issues.tenant_id', 'wenti_issues.id'], name=op.f('fk_wenti_attachments_tenant_id_issue_id_wenti_issues')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wenti_attachments')),
    mariadb_charset='utf8mb4',
    mariadb_collate='utf8mb4_bin',
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_bin'
    )
    op.create_index(op.f('ix_wenti_attachments_tenant_id_issue_id'), 'wenti_attachments', ['tenant_id', 'issue_id'], unique=False)

    op.create_table('wenti_comments',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('issue_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('author', sa.String(length=64), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('visibility', sa.String(length=16), nullable=False),
    sa.Column('created_at', wenti_sql.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('source', sa.String(length=64), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'issue_id'], ['wenti_issues.tenant_id', 'wenti_issues.id'], name=op.f('fk_wenti_comments_tenant_id_issue_id_wenti_issues')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wenti_comments')),
    sa.UniqueConstraint('tenant_id', 'source', 'external_id', name=op.f('uq_wenti_comments_tenant_id_source_external_id')),
    mariadb_charset='utf8mb4',
    mariadb_collate='utf8mb4_bin',
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_bin'
    )
    op.create_index(op.f('ix_wenti_comments_tenant_id_issue_id'), 'wenti_comments', ['tenant_id', 'issue_id'], unique=False)

    op.create_table('wenti_issue_tags',
    sa.Column('issue_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('tag', sa.String(length=200), nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'issue_id'], ['wenti_issues.tenant_id', 'wenti_issues.id'], name=op.f('fk_wenti_issue_tags_tenant_id_issue_id_wenti_issues'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('issue_id', 'tag', name=op.f('pk_wenti_issue_tags')),
    mariadb_charset='utf8mb4',
    mariadb_collate='utf8mb4_bin',
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_bin'
    )
    op.create_index(op.f('ix_wenti_issue_tags_tenant_id_tag'), 'wenti_issue_tags', ['tenant_id', 'tag'], unique=False)

    op.create_table('wenti_links',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('tenant_id', sa.String(length=64), nullable=False),
    sa.Column('source_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('target_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('type', sa.String(length=32), nullable=False),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', wenti_sql.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'source_id'], ['wenti_issues.tenant_id', 'wenti_issues.id'], name=op.f('fk_wenti_links_tenant_id_source_id_wenti_issues')),
    sa.ForeignKeyConstraint(['tenant_id', 'target_id'], ['wenti_issues.tenant_id', 'wenti_issues.id'], name=op.f('fk_wenti_links_tenant_id_target_id_wenti_issues')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wenti_links')),
    mariadb_charset='utf8mb4',
    mariadb_collate='utf8mb4_bin',
    mysql_charset='utf8mb4',
    mysql_collate='utf8mb4_bin'
    )
    op.create_index(op.f('ix_wenti_links_tenant_id_source_id'), 'wenti_links', ['tenant_id', 'source_id'], unique=False)
    op.create_index(op.f('ix_wenti_links_tenant_id_target_id'), 'wenti_links', ['tenant_id', 'target_id'], unique=False)



def downgrade() -> None:
    # Dropping a table drops its indexes; MariaDB refuses to drop an index a
    # foreign key still uses, so no index is dropped on its own.
    op.drop_table('wenti_links')
    op.drop_table('wenti_issue_tags')
    op.drop_table('wenti_comments')
    op.drop_table('wenti_attachments')
    op.drop_table('wenti_workflows')
    op.drop_table('wenti_users')
    op.drop_table('wenti_teams')
    op.drop_table('wenti_queues')
    op.drop_table('wenti_issues')
    op.drop_table('wenti_tenants')
    op.drop_table('wenti_outbox')
    op.drop_table('wenti_events')
    op.drop_table('wenti_audit')
