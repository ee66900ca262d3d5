"""who supports what: an event's list of affiliations, a participant's self-declared choice

Revision ID: 5d8b3e1f7a26
Revises: 7d3b9e1c4a62
Create Date: 2026-12-03 11:50:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5d8b3e1f7a26"
down_revision = "7d3b9e1c4a62"
branch_labels = None
depends_on = None


def upgrade():
    # Not in batch mode: a rebuilt events or participants table is dropped first, and with
    # foreign keys on that deletes every card, participant and dot. Empty list: feature off.
    op.add_column(
        "events",
        sa.Column("affiliations", sa.Text(), server_default="", nullable=False),
    )
    # Null: not asked yet; "": skipped; otherwise one entry of the event's list.
    op.add_column("participants", sa.Column("affiliation", sa.String(60), nullable=True))


def downgrade():
    # Not in batch mode either (SQLite drops columns itself since 3.35).
    op.drop_column("participants", "affiliation")
    op.drop_column("events", "affiliations")
