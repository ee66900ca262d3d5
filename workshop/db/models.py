"""Tables in SQLAlchemy 2.0 style. No request logic here."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workshop.clock import utcnow
from workshop.extensions import db

PHASES = ("draft", "collect", "cluster", "vote", "results")
SCREENS = ("board", "join", "results")
BOARD_LAYOUTS = ("scroll", "condense")
BOARD_THEMES = ("light", "dark")
#: "helper": files paper cards and gives dots on behalf at the desk, nothing else
#: (web/auth.HELPER_ENDPOINTS).
ROLES = ("admin", "moderator", "helper")
MODERATION_MODES = ("post", "pre")
#: The languages an event works in unless its staff choose others.
EVENT_LANGUAGES = "de,en,ar,fa,uk,ru"
#: Moderation states of a card; being merged into another card is recorded separately.
STATUSES = ("pending", "visible", "hidden", "withdrawn")


class User(UserMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    #: "admin" manages users and every event; "moderator" runs their own events.
    role: Mapped[str] = mapped_column(String(16), default="moderator")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: Part of every session and token; bumped to revoke them all (password, role, logout …).
    credential_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: A deactivated account keeps its history but can no longer log in.
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=sa.true())

    __table_args__ = (CheckConstraint("role IN ('admin', 'moderator', 'helper')", name="role"),)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_helper(self) -> bool:
        return self.role == "helper"

    def get_id(self) -> str:
        """What a login session stores: id and credential version ("7:3"), so that a bump
        revokes it (accounts.user_from_session)."""
        return f"{self.id}:{self.credential_version}"


class Event(db.Model):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    #: Short join code people type or scan; no 0/O or 1/I.
    code: Mapped[str] = mapped_column(String(12), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    question: Mapped[str] = mapped_column(Text, default="")
    phase: Mapped[str] = mapped_column(String(16), default="collect")
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    vote_budget: Mapped[int] = mapped_column(Integer, default=5)
    max_dots_per_suggestion: Mapped[int] = mapped_column(Integer, default=2)
    max_suggestions_per_participant: Mapped[int] = mapped_column(Integer, default=10)
    #: Balanced voting: at most this many of one participant's dots on the cards of one area
    #: (cards without an area count as one group of their own); null: no limit.
    max_dots_per_area: Mapped[int | None] = mapped_column(Integer, default=None)
    #: Who supports what: the affiliations an attendee may declare, one per line; empty: off.
    affiliations: Mapped[str] = mapped_column(Text, default="", server_default="")
    moderation: Mapped[str] = mapped_column(String(8), default="post")
    hide_counts_while_voting: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Phones join only with an unused code from a printed card (one person, one budget).
    seat_codes_required: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )
    #: What the projected board shows: the columns, the join screen or the results.
    screen: Mapped[str] = mapped_column(String(16), default="board", server_default="board")
    #: A card the board shows full-screen (ignored unless it is public).
    spotlight_id: Mapped[int | None] = mapped_column(Integer)
    #: End of the countdown the board shows, if one runs.
    timer_ends_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: Long columns scroll by themselves, or condense to fit.
    board_layout: Mapped[str] = mapped_column(String(16), default="scroll", server_default="scroll")
    board_theme: Mapped[str] = mapped_column(String(16), default="light", server_default="light")
    #: Language code (see WORKSHOP_LANGUAGES) for devices whose browser asks for none we offer.
    default_language: Mapped[str] = mapped_column(String(16), default="de", server_default="de")
    #: Comma-separated language codes the board also shows its instruction in, besides German.
    board_languages: Mapped[str] = mapped_column(String(200), default="", server_default="")
    #: Comma-separated language codes the event works in: cards and the event's texts are
    #: translated into each (plain German reads the German text).
    languages: Mapped[str] = mapped_column(
        String(200), default=EVENT_LANGUAGES, server_default=EVENT_LANGUAGES
    )
    #: Comma-separated language codes the board shows under a card written in another language
    #: (its translation into each); empty: none.
    board_translations: Mapped[str] = mapped_column(String(200), default="de", server_default="de")
    #: Set when staff archive the event: it stays readable, participants can no longer write.
    archived_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    owner: Mapped[User | None] = relationship()
    areas: Mapped[list[Area]] = relationship(
        back_populates="event", order_by="Area.position", cascade="all, delete-orphan"
    )
    translations: Mapped[list[EventTranslation]] = relationship(
        cascade="all, delete-orphan", order_by="EventTranslation.language"
    )

    __table_args__ = (
        CheckConstraint(
            "phase IN ('draft', 'collect', 'cluster', 'vote', 'results')", name="phase"
        ),
        CheckConstraint("moderation IN ('post', 'pre')", name="moderation"),
        CheckConstraint("screen IN ('board', 'join', 'results')", name="screen"),
        CheckConstraint("board_layout IN ('scroll', 'condense')", name="board_layout"),
        CheckConstraint("board_theme IN ('light', 'dark')", name="board_theme"),
        CheckConstraint("vote_budget BETWEEN 1 AND 100", name="vote_budget"),
        CheckConstraint("max_dots_per_suggestion BETWEEN 1 AND 100", name="max_dots"),
        CheckConstraint("max_suggestions_per_participant BETWEEN 1 AND 100", name="max_sugg"),
        CheckConstraint("max_dots_per_area BETWEEN 1 AND 100", name="max_dots_per_area"),
    )


class Area(db.Model):
    __tablename__ = "areas"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    #: "#rrggbb"
    color: Mapped[str] = mapped_column(String(7))
    position: Mapped[int] = mapped_column(Integer, default=0)

    event: Mapped[Event] = relationship(back_populates="areas")
    #: Loaded with the areas (one query for all of an event's areas).
    translations: Mapped[list[AreaTranslation]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="AreaTranslation.language"
    )


class Participant(db.Model):
    """One device in one event; known only by the hash of its random token."""

    __tablename__ = "participants"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: Counter of dots spent, kept with the votes in one transaction.
    dots_used: Mapped[int] = mapped_column(Integer, default=0)
    #: The event's budget, copied so that the database itself can refuse overspending.
    dots_budget: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: A short keyed hash of the address it joined from: joins per bucket make vote stuffing
    #: visible to staff, without keeping the address.
    join_bucket: Mapped[str | None] = mapped_column(String(16), default=None)
    #: Set by its first card or dot: only such devices count as participants (queries.py), so
    #: a phone that merely opened the page is no participant.
    took_part: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa.false())
    #: Joined while a staff session was logged in (a test phone): never counted as a participant.
    staff_device: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa.false())
    #: Self-declared affiliation, asked once: null not asked yet, "" skipped, else one entry of
    #: the event's list (events.affiliations).
    affiliation: Mapped[str | None] = mapped_column(String(60), default=None)

    __table_args__ = (
        CheckConstraint("dots_used >= 0 AND dots_used <= dots_budget", name="budget"),
    )

    @property
    def dots_left(self) -> int:
        return self.dots_budget - self.dots_used


class Suggestion(db.Model):
    __tablename__ = "suggestions"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id", ondelete="SET NULL"))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: Chosen by the client so that a resent submission is stored once.
    client_id: Mapped[str | None] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(140))
    body: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default="visible")
    #: The language the card is written in, e.g. "ar": detected from its text (or the author's
    #: interface language when unsure), corrected by the author or staff; null if unknown.
    language: Mapped[str | None] = mapped_column(String(16))
    merged_into_id: Mapped[int | None] = mapped_column(
        ForeignKey("suggestions.id", ondelete="SET NULL"), index=True
    )
    #: Where a follow-up event's card came from: the source event's code and the card's id there.
    #: Plain values, no foreign key, so that deleting the source event leaves the trail intact.
    origin_event: Mapped[str | None] = mapped_column(String(12), index=True)
    origin_suggestion: Mapped[int | None] = mapped_column(Integer)
    #: Entered by a helper from a handwritten card (the paper lane): it belongs to no phone.
    from_paper: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa.false())
    #: Counters kept with the votes, so a tally never needs a COUNT over all votes.
    dots: Mapped[int] = mapped_column(Integer, default=0)
    voters: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    #: Loaded on demand; lists and snapshots load them for all their cards at once.
    translations: Mapped[list[CardTranslation]] = relationship(
        cascade="all, delete-orphan", order_by="CardTranslation.language"
    )

    __table_args__ = (
        UniqueConstraint("participant_id", "client_id", name="uq_suggestions_participant_client"),
        UniqueConstraint("created_by_id", "client_id", name="uq_suggestions_staff_client"),
        CheckConstraint("status IN ('pending', 'visible', 'hidden', 'withdrawn')", name="status"),
        CheckConstraint("dots >= 0 AND voters >= 0", name="counters"),
    )

    @hybrid_property
    def is_public(self) -> bool:
        """Whether the board and participants may see this card: visible and not merged away.

        The one definition of a public card, in Python and (below) in SQL for every query.
        """
        return self.status == "visible" and self.merged_into_id is None

    @is_public.inplace.expression
    @classmethod
    def _is_public_expression(cls) -> sa.ColumnElement[bool]:
        return sa.and_(cls.status == "visible", cls.merged_into_id.is_(None))


class Vote(db.Model):
    """The dots one participant has put on one card (no row for zero)."""

    __tablename__ = "votes"

    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    suggestion_id: Mapped[int] = mapped_column(
        ForeignKey("suggestions.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    dots: Mapped[int] = mapped_column(Integer)

    __table_args__ = (CheckConstraint("dots > 0", name="positive"),)


class MergedVote(db.Model):
    """What a merge did to one participant's dots, so that unmerge can put them back."""

    __tablename__ = "merged_votes"

    #: The card that was merged away.
    suggestion_id: Mapped[int] = mapped_column(
        ForeignKey("suggestions.id", ondelete="CASCADE"), primary_key=True
    )
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True
    )
    #: Dots the participant had on the merged card.
    moved: Mapped[int] = mapped_column(Integer)
    #: Dots the participant had on the target before the merge.
    before: Mapped[int] = mapped_column(Integer)
    #: Dots on the target right after the merge (capped).
    after: Mapped[int] = mapped_column(Integer)


class AuditEntry(db.Model):
    """One staff write on an event, kept so that moderators can see who changed what."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    #: Who did it; null once the account is deleted.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    #: What was done, e.g. "card_moved" or "phase_changed" (see docs/api.md).
    action: Mapped[str] = mapped_column(String(32))
    #: The card concerned; no foreign key, so the entry outlives the card.
    suggestion_id: Mapped[int | None] = mapped_column(Integer)
    #: JSON: what changed, with old values (an edited card's original text is kept here).
    details: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    user: Mapped[User | None] = relationship()


class SeatCode(db.Model):
    """One printed seat card: a single-use code that lets one phone join, kept only as a hash."""

    __tablename__ = "seat_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    #: Keyed hash of the code (see seats.hash_code); the code itself is shown once, on the sheet.
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    #: Set by the one join that consumed the code; null while the card is unused.
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    #: The phone that joined with it.
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="SET NULL"), unique=True
    )

    __table_args__ = (UniqueConstraint("event_id", "code_hash", name="uq_seat_codes_event_code"),)


class CardVector(db.Model):
    """A card's sentence embedding, for finding cards that say the same (domain/similarity.py).

    Derived data: made again when the card's text or the engine's model changes, deleted with
    the card and the event, never exported.
    """

    __tablename__ = "card_vectors"

    suggestion_id: Mapped[int] = mapped_column(
        ForeignKey("suggestions.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    #: The engine's model; a vector made by another one is stale.
    model: Mapped[str] = mapped_column(String(100))
    #: Hash of the text the vector was made from; an edited card's vector is stale.
    text_hash: Mapped[str] = mapped_column(String(32))
    #: float32, little-endian, length 1.
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CardPhoto(db.Model):
    """A photo of a paper card (the paper lane), cleaned by engines/photos.py: a JPEG without
    metadata. Kept in the database so that it goes with its card and event (cascade) on SQLite
    and PostgreSQL alike; staff only, never public."""

    __tablename__ = "card_photos"

    suggestion_id: Mapped[int] = mapped_column(
        ForeignKey("suggestions.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    content_type: Mapped[str] = mapped_column(String(32), default="image/jpeg")
    data: Mapped[bytes] = mapped_column(LargeBinary)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class DismissedPair(db.Model):
    """Two cards a moderator said are not duplicates: never offered as a pair again."""

    __tablename__ = "dismissed_pairs"

    #: The lower card id of the pair.
    a_id: Mapped[int] = mapped_column(
        ForeignKey("suggestions.id", ondelete="CASCADE"), primary_key=True
    )
    b_id: Mapped[int] = mapped_column(
        ForeignKey("suggestions.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (CheckConstraint("a_id < b_id", name="ordered"),)


class CardTranslation(db.Model):
    """A card's title and body in another language: by the engine, or corrected by staff."""

    __tablename__ = "card_translations"

    suggestion_id: Mapped[int] = mapped_column(
        ForeignKey("suggestions.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text, default="")
    #: False once a person corrected it: the engine never overwrites it then.
    machine: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Hash of the original (language, title, body) it was made from; stale when that changes.
    source_hash: Mapped[str] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class EventTranslation(db.Model):
    """The event's question in another language (typed by staff, or a machine suggestion they
    accepted)."""

    __tablename__ = "event_translations"

    event_id: Mapped[int] = mapped_column(
        ForeignKey("events.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    machine: Mapped[bool] = mapped_column(Boolean, default=False)


class AreaTranslation(db.Model):
    """An area's name in another language."""

    __tablename__ = "area_translations"

    area_id: Mapped[int] = mapped_column(
        ForeignKey("areas.id", ondelete="CASCADE"), primary_key=True
    )
    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    machine: Mapped[bool] = mapped_column(Boolean, default=False)
