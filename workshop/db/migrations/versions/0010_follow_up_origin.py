"""follow-up events: a card remembers the event and card it came from

Revision ID: 0c5e8f2a7d14
Revises: 6f1d2a8c4b93
Create Date: 2026-12-03 08:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0c5e8f2a7d14"
down_revision = "6f1d2a8c4b93"
branch_labels = None
depends_on = None


def upgrade():
    # Not in batch mode: SQLite adds columns itself, whereas a rebuilt suggestions table is
    # dropped first, and with foreign keys on that deletes every vote and translation of a card.
    op.add_column("suggestions", sa.Column("origin_event", sa.String(length=12), nullable=True))
    op.add_column("suggestions", sa.Column("origin_suggestion", sa.Integer(), nullable=True))
    op.create_index("ix_suggestions_origin_event", "suggestions", ["origin_event"])


def downgrade():
    # Not in batch mode either (SQLite drops columns itself since 3.35), for the same reason.
    op.drop_index("ix_suggestions_origin_event", table_name="suggestions")
    op.drop_column("suggestions", "origin_suggestion")
    op.drop_column("suggestions", "origin_event")
