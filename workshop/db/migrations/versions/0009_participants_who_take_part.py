"""figures: a participant counts once it filed a card or gave a dot; staff test devices never

Revision ID: 6f1d2a8c4b93
Revises: 3b7e51c0d9a2
Create Date: 2026-12-03 08:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "6f1d2a8c4b93"
down_revision = "3b7e51c0d9a2"
branch_labels = None
depends_on = None


def upgrade():
    # Not in batch mode: SQLite adds columns itself, whereas a rebuilt table is dropped first,
    # and with foreign keys on that deletes every vote and unlinks every card from its author.
    op.add_column(
        "participants",
        sa.Column("took_part", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.add_column(
        "participants",
        sa.Column("staff_device", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    # Devices of existing events that already filed or voted keep counting; mere lookers stop.
    op.execute(
        "UPDATE participants SET took_part = true WHERE dots_used > 0 OR EXISTS "
        "(SELECT 1 FROM suggestions WHERE suggestions.participant_id = participants.id)"
    )


def downgrade():
    # Not in batch mode either (SQLite drops columns itself since 3.35), for the same reason.
    op.drop_column("participants", "staff_device")
    op.drop_column("participants", "took_part")
