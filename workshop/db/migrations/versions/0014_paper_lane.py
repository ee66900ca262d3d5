"""the paper lane: a helper role, and cards marked as entered from paper

Revision ID: 5b8d1e3f7a20
Revises: 5d8b3e1f7a26
Create Date: 2026-12-03 12:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5b8d1e3f7a20"
down_revision = "5d8b3e1f7a26"
branch_labels = None
depends_on = None

OLD = "role IN ('admin', 'moderator')"
NEW = "role IN ('admin', 'moderator', 'helper')"


def _set_role_check(old: str, new: str) -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
        op.create_check_constraint(op.f("ck_users_role"), "users", new)
        return
    # SQLite cannot alter a CHECK, and rebuilding the users table (batch mode) would drop it
    # first, which with foreign keys on nulls every event's owner and card's author. Widening
    # or narrowing a CHECK does not touch the stored rows, so SQLite's documented way applies:
    # edit the table's schema text and bump the schema version (sqlite.org/lang_altertable.html).
    version = op.get_bind().exec_driver_sql("PRAGMA schema_version").scalar_one()
    op.execute("PRAGMA writable_schema=ON")
    op.get_bind().exec_driver_sql(
        "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'users'",
        (old, new),
    )
    op.execute(f"PRAGMA schema_version={int(version) + 1}")
    op.execute("PRAGMA writable_schema=OFF")


def upgrade():
    _set_role_check(OLD, NEW)
    # Plain ADD COLUMN, not batch mode: a rebuilt suggestions table would lose its votes.
    op.add_column(
        "suggestions",
        sa.Column("from_paper", sa.Boolean(), nullable=False, server_default=sa.false()),
    )


def downgrade():
    # Helpers have no place in the older schema: they become deactivated moderators, logged out.
    op.execute(
        "UPDATE users SET role = 'moderator', active = false, "
        "credential_version = credential_version + 1 WHERE role = 'helper'"
    )
    _set_role_check(NEW, OLD)
    op.drop_column("suggestions", "from_paper")
