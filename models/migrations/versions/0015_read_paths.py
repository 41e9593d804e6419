"""Read paths that stay flat as complaints grow: a handler's queue index (the grid worker's inbox
is merged from per-grid and per-handler ranges), and on SQLite an index for searching titles and
contents.

SQLite gets an FTS5 table with the trigram tokenizer for searching, kept by triggers (its answers
are those of PostgreSQL: resolvers.complaints.search_condition). SQLite's batch migrations
rebuild a table they alter and lose its triggers: a later migration that alters complaints must
recreate them (the search tests find no new complaint otherwise). PostgreSQL gets no trigram
index: under row-level security the planner applies the tenant policy before any operator that
is not leakproof, and LIKE, ILIKE and pg_trgm's operators are not, so such an index is never
used for the app role (measured: pg_trgm GIN built, plans unchanged).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0015'
down_revision: str | None = '0014'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE complaints_search USING fts5(complaint_id UNINDEXED, title, content, tokenize = 'trigram')",
    "INSERT INTO complaints_search (complaint_id, title, content) SELECT id, title, content FROM complaints",
    "CREATE TRIGGER complaints_search_insert AFTER INSERT ON complaints BEGIN "
    "INSERT INTO complaints_search (complaint_id, title, content) VALUES (new.id, new.title, new.content); END",
    "CREATE TRIGGER complaints_search_update AFTER UPDATE OF title, content ON complaints BEGIN "
    "UPDATE complaints_search SET title = new.title, content = new.content WHERE complaint_id = old.id; END",
    "CREATE TRIGGER complaints_search_delete AFTER DELETE ON complaints BEGIN "
    "DELETE FROM complaints_search WHERE complaint_id = old.id; END",
)


def upgrade() -> None:
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.create_index('ix_complaints_handler_queue', ['tenant_id', 'handler_id', 'status', 'resolve_due_at'], unique=False)
    if op.get_bind().dialect.name == 'sqlite':
        for statement in SQLITE_SEARCH:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        for change in ('insert', 'update', 'delete'):
            op.execute(f'DROP TRIGGER IF EXISTS complaints_search_{change}')
        op.execute('DROP TABLE complaints_search')
    with op.batch_alter_table('complaints', schema=None) as batch_op:
        batch_op.drop_index('ix_complaints_handler_queue')
