"""balanced voting: at most so many of one participant's dots on the cards of one area

Revision ID: a4c2e7d91f05
Revises: 0c5e8f2a7d14
Create Date: 2026-12-03 09:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "a4c2e7d91f05"
down_revision = "0c5e8f2a7d14"
branch_labels = None
depends_on = None


def upgrade():
    # Not in batch mode: a rebuilt events table is dropped first, and with foreign keys on that
    # deletes every card, participant and dot. Plain SQL because Alembic's add_column leaves out
    # a column's CHECK; both SQLite and PostgreSQL accept it in ADD COLUMN. Null: no limit.
    op.execute(
        "ALTER TABLE events ADD COLUMN max_dots_per_area INTEGER "
        "CONSTRAINT ck_events_max_dots_per_area CHECK (max_dots_per_area BETWEEN 1 AND 100)"
    )


def downgrade():
    # Not in batch mode either (SQLite drops columns itself since 3.35); the CHECK goes with it.
    op.drop_column("events", "max_dots_per_area")
