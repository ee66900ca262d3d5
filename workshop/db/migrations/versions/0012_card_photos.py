"""paper lane: an optional photo of a paper card

Revision ID: 7d3b9e1c4a62
Revises: a4c2e7d91f05
Create Date: 2026-12-03 12:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "7d3b9e1c4a62"
down_revision = "a4c2e7d91f05"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "card_photos",
        sa.Column("suggestion_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_card_photos_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["suggestion_id"],
            ["suggestions.id"],
            name=op.f("fk_card_photos_suggestion_id_suggestions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("suggestion_id", name=op.f("pk_card_photos")),
    )
    with op.batch_alter_table("card_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_card_photos_event_id"), ["event_id"], unique=False)


def downgrade():
    op.drop_table("card_photos")
