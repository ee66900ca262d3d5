"""similar cards: card vectors and dismissed pairs

Revision ID: 5c2e7a9d1f40
Revises: 8f09587d180a
Create Date: 2026-12-02 13:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "5c2e7a9d1f40"
down_revision = "8f09587d180a"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "card_vectors",
        sa.Column("suggestion_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("model", sa.String(length=100), nullable=False),
        sa.Column("text_hash", sa.String(length=32), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_card_vectors_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["suggestion_id"],
            ["suggestions.id"],
            name=op.f("fk_card_vectors_suggestion_id_suggestions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("suggestion_id", name=op.f("pk_card_vectors")),
    )
    with op.batch_alter_table("card_vectors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_card_vectors_event_id"), ["event_id"], unique=False)

    op.create_table(
        "dismissed_pairs",
        sa.Column("a_id", sa.Integer(), nullable=False),
        sa.Column("b_id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("a_id < b_id", name=op.f("ck_dismissed_pairs_ordered")),
        sa.ForeignKeyConstraint(
            ["a_id"],
            ["suggestions.id"],
            name=op.f("fk_dismissed_pairs_a_id_suggestions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["b_id"],
            ["suggestions.id"],
            name=op.f("fk_dismissed_pairs_b_id_suggestions"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_dismissed_pairs_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_dismissed_pairs_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("a_id", "b_id", name=op.f("pk_dismissed_pairs")),
    )
    with op.batch_alter_table("dismissed_pairs", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_dismissed_pairs_event_id"), ["event_id"], unique=False
        )


def downgrade():
    op.drop_table("dismissed_pairs")
    op.drop_table("card_vectors")
