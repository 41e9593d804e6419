"""community life

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 20:46:26.719948
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.migrations.tenant_isolation import disable_tenant_isolation, enable_tenant_isolation

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_OWNED_TABLES = (
    'building_leaders',
    'building_leader_events',
    'articles',
    'article_events',
    'notices',
    'notice_targets',
    'notice_receipts',
)


def upgrade() -> None:
    op.create_table('articles',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=True),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('summary', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('storage_key', sa.String(length=200), nullable=True),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('status', sa.Enum('draft', 'published', 'withdrawn', name='articlestatus', native_enum=False, length=32), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('listed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'author_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_articles_author_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'community_id'], ['communities.tenant_id', 'communities.id'], name=op.f('fk_articles_community_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_articles_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_articles'))
    )
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.create_index('ix_articles_community', ['tenant_id', 'community_id', 'status'], unique=False)
        batch_op.create_index('ix_articles_listing', ['tenant_id', 'status', 'pinned', 'listed_at', 'id'], unique=False)

    op.create_table('notices',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('scope', sa.Enum('street', 'community', 'grids', 'buildings', name='noticescope', native_enum=False, length=32), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=True),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=100), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('requires_confirmation', sa.Boolean(), nullable=False),
    sa.Column('is_public', sa.Boolean(), nullable=False),
    sa.Column('posted_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("(scope = 'street') = (community_id IS NULL)", name=op.f('ck_notices_community_unless_street')),
    sa.ForeignKeyConstraint(['tenant_id', 'author_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_notices_author_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'community_id'], ['communities.tenant_id', 'communities.id'], name=op.f('fk_notices_community_id')),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_notices_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_notices'))
    )
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.create_index('ix_notices_community', ['tenant_id', 'community_id', 'id'], unique=False)
        batch_op.create_index('ix_notices_public', ['tenant_id', 'is_public', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notices_tenant_id_author_id_id'), ['tenant_id', 'author_id', 'id'], unique=False)

    op.create_table('article_events',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('article_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.Enum('create', 'update', 'publish', 'withdraw', name='articleaction', native_enum=False, length=32), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=False),
    sa.Column('from_status', sa.Enum('draft', 'published', 'withdrawn', name='articlestatus', native_enum=False, length=32), nullable=True),
    sa.Column('to_status', sa.Enum('draft', 'published', 'withdrawn', name='articlestatus', native_enum=False, length=32), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'actor_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_article_events_actor_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'article_id'], ['articles.tenant_id', 'articles.id'], name=op.f('fk_article_events_article_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_article_events_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_article_events'))
    )
    with op.batch_alter_table('article_events', schema=None) as batch_op:
        batch_op.create_index('ix_article_events_article', ['tenant_id', 'article_id', 'id'], unique=False)

    op.create_table('notice_receipts',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('notice_id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('read_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant_id', 'notice_id'], ['notices.tenant_id', 'notices.id'], name=op.f('fk_notice_receipts_notice_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_notice_receipts_user_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_notice_receipts_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_notice_receipts')),
    sa.UniqueConstraint('tenant_id', 'notice_id', 'user_id', name=op.f('uq_notice_receipts_notice_id_user_id'))
    )
    with op.batch_alter_table('notice_receipts', schema=None) as batch_op:
        batch_op.create_index('ix_notice_receipts_notice', ['tenant_id', 'notice_id', 'read_at', 'id'], unique=False)

    op.create_table('building_leaders',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('building_id', sa.Uuid(), nullable=False),
    sa.Column('community_id', sa.Uuid(), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('appointed_by_id', sa.Uuid(), nullable=False),
    sa.Column('appointed_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dismissed_by_id', sa.Uuid(), nullable=True),
    sa.Column('dismissed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('dismissal_reason', sa.String(length=200), nullable=True),
    sa.CheckConstraint('starts_on <= ends_on', name=op.f('ck_building_leaders_term_in_order')),
    sa.ForeignKeyConstraint(['tenant_id', 'appointed_by_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_building_leaders_appointed_by_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'building_id'], ['buildings.tenant_id', 'buildings.id'], name=op.f('fk_building_leaders_building_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'community_id'], ['communities.tenant_id', 'communities.id'], name=op.f('fk_building_leaders_community_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'dismissed_by_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_building_leaders_dismissed_by_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'user_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_building_leaders_user_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_building_leaders_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_building_leaders'))
    )
    with op.batch_alter_table('building_leaders', schema=None) as batch_op:
        batch_op.create_index('ix_building_leaders_building', ['tenant_id', 'building_id', 'ends_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_building_leaders_tenant_id_community_id_id'), ['tenant_id', 'community_id', 'id'], unique=False)
        batch_op.create_index('ix_building_leaders_user', ['tenant_id', 'user_id', 'ends_on'], unique=False)

    op.create_table('notice_targets',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('notice_id', sa.Uuid(), nullable=False),
    sa.Column('grid_id', sa.Uuid(), nullable=True),
    sa.Column('building_id', sa.Uuid(), nullable=True),
    sa.CheckConstraint('(grid_id IS NULL) <> (building_id IS NULL)', name=op.f('ck_notice_targets_grid_or_building')),
    sa.ForeignKeyConstraint(['tenant_id', 'building_id'], ['buildings.tenant_id', 'buildings.id'], name=op.f('fk_notice_targets_building_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'grid_id'], ['grids.tenant_id', 'grids.id'], name=op.f('fk_notice_targets_grid_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'notice_id'], ['notices.tenant_id', 'notices.id'], name=op.f('fk_notice_targets_notice_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_notice_targets_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_notice_targets'))
    )
    with op.batch_alter_table('notice_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_notice_targets_tenant_id_building_id'), ['tenant_id', 'building_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_targets_tenant_id_grid_id'), ['tenant_id', 'grid_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_notice_targets_tenant_id_notice_id'), ['tenant_id', 'notice_id'], unique=False)

    op.create_table('building_leader_events',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('term_id', sa.Uuid(), nullable=False),
    sa.Column('action', sa.Enum('appoint', 'dismiss', name='leaderaction', native_enum=False, length=32), nullable=False),
    sa.Column('actor_id', sa.Uuid(), nullable=True),
    sa.Column('note', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tenant_id', 'actor_id'], ['users.tenant_id', 'users.id'], name=op.f('fk_building_leader_events_actor_id')),
    sa.ForeignKeyConstraint(['tenant_id', 'term_id'], ['building_leaders.tenant_id', 'building_leaders.id'], name=op.f('fk_building_leader_events_term_id'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tenant_id'], ['tenants.id'], name=op.f('fk_building_leader_events_tenant_id'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_building_leader_events'))
    )
    with op.batch_alter_table('building_leader_events', schema=None) as batch_op:
        batch_op.create_index('ix_building_leader_events_term', ['tenant_id', 'term_id', 'id'], unique=False)

    for table in TENANT_OWNED_TABLES:
        enable_tenant_isolation(table)


def downgrade() -> None:
    for table in TENANT_OWNED_TABLES:
        disable_tenant_isolation(table)
    with op.batch_alter_table('building_leader_events', schema=None) as batch_op:
        batch_op.drop_index('ix_building_leader_events_term')

    op.drop_table('building_leader_events')
    with op.batch_alter_table('notice_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notice_targets_tenant_id_notice_id'))
        batch_op.drop_index(batch_op.f('ix_notice_targets_tenant_id_grid_id'))
        batch_op.drop_index(batch_op.f('ix_notice_targets_tenant_id_building_id'))

    op.drop_table('notice_targets')
    with op.batch_alter_table('building_leaders', schema=None) as batch_op:
        batch_op.drop_index('ix_building_leaders_user')
        batch_op.drop_index(batch_op.f('ix_building_leaders_tenant_id_community_id_id'))
        batch_op.drop_index('ix_building_leaders_building')

    op.drop_table('building_leaders')
    with op.batch_alter_table('notice_receipts', schema=None) as batch_op:
        batch_op.drop_index('ix_notice_receipts_notice')

    op.drop_table('notice_receipts')
    with op.batch_alter_table('article_events', schema=None) as batch_op:
        batch_op.drop_index('ix_article_events_article')

    op.drop_table('article_events')
    with op.batch_alter_table('notices', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_notices_tenant_id_author_id_id'))
        batch_op.drop_index('ix_notices_public')
        batch_op.drop_index('ix_notices_community')

    op.drop_table('notices')
    with op.batch_alter_table('articles', schema=None) as batch_op:
        batch_op.drop_index('ix_articles_listing')
        batch_op.drop_index('ix_articles_community')

    op.drop_table('articles')
