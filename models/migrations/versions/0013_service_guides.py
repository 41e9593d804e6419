"""Service guides (便民服务): guides in versions with their search index, applications made online
through one to three review levels, their files and timeline, and community certificates.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.migrations.tenant_isolation import disable_tenant_isolation, enable_tenant_isolation

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_OWNED_TABLES = (
    'service_guides',
    'service_guide_versions',
    'service_applications',
    'service_application_events',
    'service_application_files',
    'service_certificates',
)

# Substring search of guides, the same answers on both databases (models.guides.searchable is
# the one normal form): on PostgreSQL a trigram GIN index serves LIKE '%term%', led by the
# tenant as every index is (btree_gin puts a uuid in a GIN index). Both extensions are trusted,
# so the database's owner may create them.
SEARCH_INDEX_POSTGRESQL = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE EXTENSION IF NOT EXISTS btree_gin",
    "CREATE INDEX ix_service_guide_versions_search ON service_guide_versions "
    "USING gin (tenant_id, search_text gin_trgm_ops)",
)
# On SQLite an FTS5 table with the trigram tokenizer, kept by triggers (versions are written
# once and deleted only with their guide).
SEARCH_INDEX_SQLITE = (
    "CREATE VIRTUAL TABLE service_guide_versions_fts USING fts5("
    "tenant_id UNINDEXED, version_id UNINDEXED, search_text, tokenize = 'trigram')",
    "CREATE TRIGGER service_guide_versions_fts_insert AFTER INSERT ON service_guide_versions BEGIN "
    "INSERT INTO service_guide_versions_fts (tenant_id, version_id, search_text) "
    "VALUES (new.tenant_id, new.id, new.search_text); END",
    "CREATE TRIGGER service_guide_versions_fts_update AFTER UPDATE OF search_text ON service_guide_versions BEGIN "
    "UPDATE service_guide_versions_fts SET search_text = new.search_text WHERE version_id = new.id; END",
    "CREATE TRIGGER service_guide_versions_fts_delete AFTER DELETE ON service_guide_versions BEGIN "
    "DELETE FROM service_guide_versions_fts WHERE version_id = old.id; END",
)


def upgrade() -> None:
    op.create_table('service_guides',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('policy', 'community_direct', 'community_certificate', 'two_level', 'three_level', 'other', name='guidekind', native_enum=False, length=32), nullable=False),
    sa.Column('department_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.Enum('draft', 'published', 'unpublished', name='guidestatus', native_enum=False, length=32), nullable=False),
    sa.Column('latest_version', sa.Integer(), nullable=False),
    sa.Column('published_version', sa.Integer(), nullable=True),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.CheckConstraint("(kind = 'three_level') = (department_id IS NOT NULL)", name=op.f('ck_service_guides_department_for_third_level_only')),
    sa.CheckConstraint('published_version IS NULL OR published_version <= latest_version', name=op.f('ck_service_guides_published_exists')),
    sa.ForeignKeyConstraint(['tenant_id', 'created_by_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_service_guides_created_by_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'department_id'], ['departments.tenant_id', 'departments.id'], name=op.f('fk_service_guides_department_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_service_guides_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_service_guides'))
    )
    with op.batch_alter_table('service_guides', schema=None) as batch_op:
        batch_op.create_index('ix_service_guides_listing', ['tenant_id', 'status', 'kind', 'id'], unique=False)

    op.create_table('service_guide_versions',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('guide_id', sa.Uuid(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('summary', sa.String(length=500), nullable=False),
    sa.Column('conditions', sa.Text(), nullable=False),
    sa.Column('materials', sa.JSON(), nullable=False),
    sa.Column('steps', sa.JSON(), nullable=False),
    sa.Column('where_to_go', sa.String(length=200), nullable=False),
    sa.Column('office_hours', sa.String(length=100), nullable=False),
    sa.Column('phone', sa.String(length=50), nullable=False),
    sa.Column('fees', sa.String(length=200), nullable=False),
    sa.Column('time_limit_days', sa.Integer(), nullable=False),
    sa.Column('search_title', sa.String(length=100), nullable=False),
    sa.Column('search_text', sa.Text(), nullable=False),
    sa.Column('edited_by_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('time_limit_days >= 0', name=op.f('ck_service_guide_versions_time_limit_not_negative')),
    sa.ForeignKeyConstraint(['tenant_id', 'edited_by_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_service_guide_versions_edited_by_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'guide_id'], ['service_guides.tenant_id', 'service_guides.id'], name=op.f('fk_service_guide_versions_guide_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_service_guide_versions_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_service_guide_versions')),
    sa.UniqueConstraint('tenant_id', 'guide_id', 'number', name=op.f('uq_service_guide_versions_guide_id_number'))
    )
    op.create_table('service_applications',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('guide_id', sa.Uuid(), nullable=False),
    sa.Column('guide_version_id', sa.Uuid(), nullable=False),
    sa.Column('applicant_id', sa.Uuid(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('policy', 'community_direct', 'community_certificate', 'two_level', 'three_level', 'other', name='guidekind', native_enum=False, length=32), nullable=False),
    sa.Column('department_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.Enum('in_review', 'returned', 'approved', 'rejected', 'withdrawn', 'revoked', name='applicationstatus', native_enum=False, length=32), nullable=False),
    sa.Column('level', sa.Enum('community', 'street_office', 'department', name='reviewlevel', native_enum=False, length=32), nullable=False),
    sa.Column('reached', sa.Integer(), nullable=False),
    sa.Column('purpose', sa.String(length=200), nullable=False),
    sa.Column('reason', sa.String(length=500), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('overdue_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('row_version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'applicant_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_service_applications_applicant_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'community_id'], ['communities.tenant_id', 'communities.id'], name=op.f('fk_service_applications_community_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'department_id'], ['departments.tenant_id', 'departments.id'], name=op.f('fk_service_applications_department_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'guide_id'], ['service_guides.tenant_id', 'service_guides.id'], name=op.f('fk_service_applications_guide_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'guide_version_id'], ['service_guide_versions.tenant_id', 'service_guide_versions.id'], name=op.f('fk_service_applications_guide_version_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_service_applications_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_service_applications'))
    )
    with op.batch_alter_table('service_applications', schema=None) as batch_op:
        batch_op.create_index('ix_service_applications_applicant', ['tenant_id', 'applicant_id', 'id'], unique=False)
        batch_op.create_index('ix_service_applications_community', ['tenant_id', 'community_id', 'id'], unique=False)
        batch_op.create_index('ix_service_applications_queue', ['tenant_id', 'status', 'level', 'due_at'], unique=False)

    op.create_table('service_application_events',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('application_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.Enum('submit', 'forward', 'approve', 'return', 'reject', 'resubmit', 'withdraw', 'revoke', 'mark_overdue', name='applicationaction', native_enum=False, length=32), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('level', sa.Enum('community', 'street_office', 'department', name='reviewlevel', native_enum=False, length=32), nullable=False),
    sa.Column('from_status', sa.Enum('in_review', 'returned', 'approved', 'rejected', 'withdrawn', 'revoked', name='applicationstatus', native_enum=False, length=32), nullable=True),
    sa.Column('to_status', sa.Enum('in_review', 'returned', 'approved', 'rejected', 'withdrawn', 'revoked', name='applicationstatus', native_enum=False, length=32), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'actor_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_service_application_events_actor_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'application_id'], ['service_applications.tenant_id', 'service_applications.id'], name=op.f('fk_service_application_events_application_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_service_application_events_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_service_application_events'))
    )
    with op.batch_alter_table('service_application_events', schema=None) as batch_op:
        batch_op.create_index('ix_service_application_events_application', ['tenant_id', 'application_id', 'id'], unique=False)

    op.create_table('service_certificates',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('application_id', sa.Uuid(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('holder_name', sa.String(length=50), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('statement', sa.String(length=1000), nullable=False),
    sa.Column('issuer', sa.String(length=100), nullable=False),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('revoked_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('revoke_reason', sa.String(length=200), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'application_id'], ['service_applications.tenant_id', 'service_applications.id'], name=op.f('fk_service_certificates_application_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'community_id'], ['communities.tenant_id', 'communities.id'], name=op.f('fk_service_certificates_community_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_service_certificates_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_service_certificates')),
    sa.UniqueConstraint('tenant_id', 'application_id', name=op.f('uq_service_certificates_application_id')),
    sa.UniqueConstraint('tenant_id', 'code', name=op.f('uq_service_certificates_code'))
    )
    op.create_table('service_application_files',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('application_id', sa.Uuid(), nullable=False),
    sa.Column('event_id', sa.Uuid(), nullable=False),
    sa.Column('material', sa.String(length=100), nullable=False),
    sa.Column('kind', sa.Enum('image', 'video', name='attachmentkind', native_enum=False, length=32), nullable=False),
    sa.Column('content_type', sa.String(length=50), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=False),
    sa.Column('uploaded_by_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'application_id'], ['service_applications.tenant_id', 'service_applications.id'], name=op.f('fk_service_application_files_application_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'event_id'], ['service_application_events.tenant_id', 'service_application_events.id'], name=op.f('fk_service_application_files_event_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'uploaded_by_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_service_application_files_uploaded_by_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_service_application_files_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_service_application_files')),
    sa.UniqueConstraint('tenant_id', 'storage_key', name=op.f('uq_service_application_files_storage_key'))
    )
    with op.batch_alter_table('service_application_files', schema=None) as batch_op:
        batch_op.create_index('ix_service_application_files_application', ['tenant_id', 'application_id', 'id'], unique=False)

    statements = SEARCH_INDEX_POSTGRESQL if op.get_bind().dialect.name == 'postgresql' else SEARCH_INDEX_SQLITE
    for statement in statements:
        op.execute(statement)
    for table in TENANT_OWNED_TABLES:
        enable_tenant_isolation(table)


def downgrade() -> None:
    for table in TENANT_OWNED_TABLES:
        disable_tenant_isolation(table)
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP INDEX IF EXISTS ix_service_guide_versions_search')
    else:
        op.execute('DROP TABLE IF EXISTS service_guide_versions_fts')
    with op.batch_alter_table('service_application_files', schema=None) as batch_op:
        batch_op.drop_index('ix_service_application_files_application')

    op.drop_table('service_application_files')
    op.drop_table('service_certificates')
    with op.batch_alter_table('service_application_events', schema=None) as batch_op:
        batch_op.drop_index('ix_service_application_events_application')

    op.drop_table('service_application_events')
    with op.batch_alter_table('service_applications', schema=None) as batch_op:
        batch_op.drop_index('ix_service_applications_queue')
        batch_op.drop_index('ix_service_applications_community')
        batch_op.drop_index('ix_service_applications_applicant')

    op.drop_table('service_applications')
    op.drop_table('service_guide_versions')
    with op.batch_alter_table('service_guides', schema=None) as batch_op:
        batch_op.drop_index('ix_service_guides_listing')

    op.drop_table('service_guides')
