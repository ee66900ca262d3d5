"""translations: the event's languages, translated cards, question and area names

Revision ID: 9d41b7c3e2a8
Revises: 5c2e7a9d1f40
Create Date: 2026-12-02 13:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "9d41b7c3e2a8"
down_revision = "5c2e7a9d1f40"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "languages",
                sa.String(length=200),
                server_default="de,en,ar,fa,uk,ru",
                nullable=False,
            )
        )
        batch_op.add_column(
            sa.Column(
                "board_translations", sa.String(length=200), server_default="de", nullable=False
            )
        )
    op.create_table(
        "card_translations",
        sa.Column("suggestion_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("machine", sa.Boolean(), nullable=False),
        sa.Column("source_hash", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["suggestion_id"],
            ["suggestions.id"],
            name=op.f("fk_card_translations_suggestion_id_suggestions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("suggestion_id", "language", name=op.f("pk_card_translations")),
    )
    op.create_table(
        "event_translations",
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("machine", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.id"],
            name=op.f("fk_event_translations_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "language", name=op.f("pk_event_translations")),
    )
    op.create_table(
        "area_translations",
        sa.Column("area_id", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("machine", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["area_id"],
            ["areas.id"],
            name=op.f("fk_area_translations_area_id_areas"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("area_id", "language", name=op.f("pk_area_translations")),
    )


def downgrade():
    op.drop_table("area_translations")
    op.drop_table("event_translations")
    op.drop_table("card_translations")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_column("board_translations")
        batch_op.drop_column("languages")
