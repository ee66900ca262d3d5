"""Every signal the app sends, declared in one place; create_app connects the receivers."""

from blinker import Namespace

_signals = Namespace()

#: After an event was deleted, with `event_id` (and `remote=True` when another process deleted
#: it): its live connections are closed and its kept reports removed.
event_deleted = _signals.signal("event-deleted")
#: After an event entered the results phase, with `event_id` and `language`: the PDF report is
#: prepared in the background.
results_opened = _signals.signal("results-opened")
#: After commit, with `user_id`, when a staff account is deleted or its credentials are revoked
#: (new role or password, deactivation, logout on all devices; `remote=True` from another
#: process): its live connections are closed, so that they cannot outlive the access they were
#: opened with.
access_changed = _signals.signal("access-changed")
#: After commit, with `event_id` and `ids`: cards were filed or changed (text, status, area or a
#: merge); similar cards are looked for again.
cards_changed = _signals.signal("cards-changed")
