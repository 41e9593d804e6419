"""Complaint search through a trigram index on PostgreSQL, under row-level security.

Row-level security makes PostgreSQL's planner apply the tenant policy before any operator that is
not leakproof, and LIKE, ILIKE and pg_trgm's operators are not: for the app role a trigram index
on complaints is never used (0015). The index is therefore kept beside complaints, in
`complaints_search` (one row per complaint: its tenant, id, title and content, kept by triggers,
as SQLite's FTS5 table of the same name is), and read only through `complaints_matching(words)`:

- The function is SECURITY DEFINER, so it runs as the owner. complaints_search enables the
  tenant policy like every table but does not FORCE it, so the owner, and only the owner, reads
  it without the policy, and the planner serves ILIKE from the GIN index. (A function reading
  complaints itself would not do: complaints FORCEs its policy on the owner too.)
- In place of the policy it filters by the tenant the transaction set, the policy's own
  expression: with `app.tenant_id` unset or empty it compares with NULL and returns nothing, and
  a value that is not a uuid raises. It takes no tenant from its caller. Its answer is what the
  policy would show the caller of complaints_search: no more.
- Its search_path holds only pg_catalog (the table is named with its schema), and EXECUTE is
  revoked from PUBLIC; env.py grants it to the app role as it grants the tables.
- The app role, which owns nothing and cannot bypass row-level security, reads and writes the
  table only under the policy (the triggers run as it); the complaints it is given ids of are
  read under complaints' own policy again.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from models.migrations.tenant_isolation import CURRENT_TENANT

revision: str = '0018'
down_revision: str | None = '0017'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Inserts and deletes by statement (transition tables), so that a bulk COPY into complaints fills
# the index in one INSERT ... SELECT; an update only when the title or the content changes.
POSTGRESQL = (
    # pg_trgm and btree_gin (a uuid in a GIN index, leading it as every index is) come from 0013.
    "CREATE INDEX ix_complaints_search ON complaints_search "
    "USING gin (tenant_id, title gin_trgm_ops, content gin_trgm_ops)",
    "ALTER TABLE complaints_search ENABLE ROW LEVEL SECURITY",
    "CREATE POLICY tenant_isolation ON complaints_search "
    f"USING (tenant_id = {CURRENT_TENANT}) WITH CHECK (tenant_id = {CURRENT_TENANT})",
    "INSERT INTO complaints_search (tenant_id, id, title, content) SELECT tenant_id, id, title, content FROM complaints",
    """CREATE FUNCTION complaints_search_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.complaints_search (tenant_id, id, title, content)
    SELECT tenant_id, id, title, content FROM inserted;
    RETURN NULL;
END $$""",
    """CREATE FUNCTION complaints_search_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE public.complaints_search SET title = NEW.title, content = NEW.content
    WHERE tenant_id = OLD.tenant_id AND id = OLD.id;
    RETURN NULL;
END $$""",
    """CREATE FUNCTION complaints_search_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM public.complaints_search s USING deleted d WHERE s.tenant_id = d.tenant_id AND s.id = d.id;
    RETURN NULL;
END $$""",
    "CREATE TRIGGER complaints_search_insert AFTER INSERT ON complaints REFERENCING NEW TABLE AS inserted "
    "FOR EACH STATEMENT EXECUTE FUNCTION complaints_search_insert()",
    "CREATE TRIGGER complaints_search_update AFTER UPDATE OF title, content ON complaints FOR EACH ROW "
    "WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.content IS DISTINCT FROM NEW.content) "
    "EXECUTE FUNCTION complaints_search_update()",
    "CREATE TRIGGER complaints_search_delete AFTER DELETE ON complaints REFERENCING OLD TABLE AS deleted "
    "FOR EACH STATEMENT EXECUTE FUNCTION complaints_search_delete()",
    # `words` is matched as a substring, ignoring the case of Latin letters as the callers' ILIKE
    # does: LIKE's wildcards and escape character in it stand for themselves. ROWS: a phrase of
    # three characters or more is usually rare, so the planner starts from the matches.
    rf"""CREATE FUNCTION complaints_matching(words text) RETURNS SETOF uuid
LANGUAGE sql STABLE STRICT SECURITY DEFINER ROWS 100
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT s.id FROM public.complaints_search s
    WHERE s.tenant_id = {CURRENT_TENANT}
      AND (s.title ILIKE '%' || replace(replace(replace(words, '\', '\\'), '%', '\%'), '_', '\_') || '%'
        OR s.content ILIKE '%' || replace(replace(replace(words, '\', '\\'), '%', '\%'), '_', '\_') || '%')
$$""",
    "REVOKE ALL ON FUNCTION complaints_matching(text) FROM PUBLIC",
)


def upgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return  # SQLite's complaints_search (FTS5) is 0015's
    op.create_table('complaints_search',
    sa.Column('tenant_id', sa.Uuid(), nullable=False),
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('title', sa.String(length=50), nullable=False),
    sa.Column('content', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'id', name=op.f('pk_complaints_search')),
    )
    for statement in POSTGRESQL:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name != 'postgresql':
        return
    op.execute('DROP FUNCTION complaints_matching(text)')
    for change in ('insert', 'update', 'delete'):
        op.execute(f'DROP TRIGGER complaints_search_{change} ON complaints')
        op.execute(f'DROP FUNCTION complaints_search_{change}()')
    op.drop_table('complaints_search')
