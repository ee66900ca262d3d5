"""Administration pages: staff accounts (admins only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user

from workshop.db.models import ROLES
from workshop.domain import accounts
from workshop.errors import WorkshopError

bp = Blueprint("admin", __name__, url_prefix="/admin")

ROLE_LABELS = {
    "admin": _l("Administrator"),
    "moderator": _l("Moderator"),
    "helper": _l("Helper (enters paper cards and dots only)"),
}


@bp.before_request
@login_required
def admins_only():
    # Every page here: anonymous callers go to the login page, moderators get a 403.
    accounts.require_admin(current_user)


def _done(message: str):
    flash(message, "success")
    return redirect(url_for("admin.users"))


def _refused(error: WorkshopError):
    flash(str(error.message), "error")
    return redirect(url_for("admin.users"))


@bp.get("/users")
def users():
    return render_template(
        "admin/users.html", users=accounts.list_users(), roles=ROLES, role_labels=ROLE_LABELS
    )


def _act(write: Callable[[], Any], done: Callable[[Any], str]):
    """Run one account write; say what was done, or why it was refused, on the users page."""
    try:
        result = write()
    except WorkshopError as exc:
        return _refused(exc)
    return _done(done(result))


@bp.post("/users")
def create_user():
    form = request.form
    return _act(
        lambda: accounts.create_user(
            form.get("username", ""), form.get("password", ""), form.get("role", "moderator")
        ),
        lambda user: _("The account %(name)s has been created.", name=user.username),
    )


def _stay_logged_in(user: Any) -> Any:
    """After an admin changed their own account (which revokes its sessions everywhere), keep
    this browser logged in with the new credential version; other devices stay logged out."""
    if user.id == current_user.id:
        login_user(user)
    return user


@bp.post("/users/<int:user_id>/role")
def set_role(user_id: int):
    return _act(
        lambda: _stay_logged_in(
            accounts.set_role(current_user, user_id, request.form.get("role", ""))
        ),
        lambda user: _("The role of %(name)s has been changed.", name=user.username),
    )


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int):
    return _act(
        lambda: _stay_logged_in(
            accounts.reset_password(current_user, user_id, request.form.get("password", ""))
        ),
        lambda user: _("The password of %(name)s has been changed.", name=user.username),
    )


@bp.post("/users/<int:user_id>/active")
def set_active(user_id: int):
    """Deactivate (`active=0`) or reactivate (`active=1`) an account."""
    active = request.form.get("active") == "1"
    return _act(
        lambda: accounts.set_active(current_user, user_id, active),
        lambda user: (
            _("The account %(name)s is active again.", name=user.username)
            if user.active
            else _("The account %(name)s has been deactivated.", name=user.username)
        ),
    )


@bp.post("/users/<int:user_id>/delete")
def delete_user(user_id: int):
    return _act(
        lambda: accounts.delete_user(current_user, user_id),
        lambda _none: _("The account has been deleted."),
    )
