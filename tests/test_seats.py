"""Seat codes: single-use join codes for events that need one person, one budget."""

from __future__ import annotations

import json
import re
import threading

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade
from helpers import settle

from workshop.db.models import Event, Participant, SeatCode
from workshop.domain import seats
from workshop.domain.events import CODE_ALPHABET
from workshop.extensions import db

CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')
SHOWN = re.compile(rf"[{CODE_ALPHABET}]{{5}}-[{CODE_ALPHABET}]{{5}}")


@pytest.fixture
def seated(staff, make_event):
    """An event that requires seat codes, with four of them: (code, [plain codes])."""
    code = make_event(seat_codes_required=True)["code"]
    response = staff.post(f"/events/{code}/seats", json={"count": 4})
    assert response.status_code == 201, response.json
    return code, [seat["code"] for seat in response.json["seats"]]


def participants_of(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Participant.id)))


def counts(staff, code: str) -> dict:
    response = staff.get(f"/events/{code}/seats")
    assert response.status_code == 200
    return response.json


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("KXR4M-7HQTA", "KXR4M7HQTA"),
        (" kxr4m 7hqta ", "KXR4M7HQTA"),
        ("KXR4M–7HQTA", "KXR4M7HQTA"),  # an en dash, as phones like to type
        ("KXR4M-7HQT", None),  # too short
        ("KXR4M-7HQTO", None),  # O is not in the alphabet
        ("KXR4M-7HQTA1", None),
        (42, None),
    ],
)
def test_typed_codes_are_normalised(typed, expected):
    assert seats.normalise(typed) == expected


def test_codes_are_shown_in_two_groups():
    assert seats.display("KXR4M7HQTA") == "KXR4M-7HQTA"


def test_generated_codes_are_unique_readable_links(staff, make_event):
    code = make_event(seat_codes_required=True)["code"]
    response = staff.post(f"/events/{code}/seats", json={"count": 150})
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    data = response.json
    shown = [seat["code"] for seat in data["seats"]]
    assert len(set(shown)) == 150
    assert all(SHOWN.fullmatch(seat) for seat in shown)
    first = data["seats"][0]
    plain = first["code"].replace("-", "")
    assert first["url"] == f"http://workshop.test/j/{code}?seat={plain}"
    assert (data["required"], data["total"], data["used"], data["unused"]) == (True, 150, 0, 150)


def test_codes_are_stored_only_as_keyed_hashes(app, seated):
    code, shown = seated
    with app.app_context():
        event_id = db.session.scalar(sa.select(Event.id).where(Event.code == code))
        stored = set(db.session.scalars(sa.select(SeatCode.code_hash)))
        plain = shown[0].replace("-", "")
        assert seats.hash_code(event_id, plain) in stored
        assert plain not in stored
    database = db_bytes(app)
    for seat in shown:
        assert seat.replace("-", "").encode() not in database


def db_bytes(app) -> bytes:
    path = app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")
    with app.app_context():
        db.session.execute(sa.text("PRAGMA wal_checkpoint(FULL)"))
    with open(path, "rb") as file:
        return file.read()


@pytest.mark.parametrize(
    ("body", "field"),
    [({}, "count"), ({"count": 0}, "count"), ({"count": 501}, "count"), ({"count": "5"}, "count")],
)
def test_bad_generate_requests_are_refused(staff, make_event, body, field):
    code = make_event()["code"]
    response = staff.post(f"/events/{code}/seats", json=body)
    assert response.status_code == 400
    assert response.json["error"]["field"] == field


def test_only_the_events_staff_make_or_count_codes(app, make_staff, make_event):
    code = make_event(seat_codes_required=True)["code"]
    anonymous = app.test_client()
    assert anonymous.post(f"/api/v1/events/{code}/seats", json={"count": 1}).status_code == 401
    other = make_staff()
    assert other.post(f"/events/{code}/seats", json={"count": 1}).status_code == 403
    assert other.get(f"/events/{code}/seats").status_code == 403


def test_without_the_setting_anyone_joins_and_a_seat_code_is_ignored(app, make_event):
    code = make_event()["code"]
    client = app.test_client()
    response = client.post(f"/api/v1/events/{code}/participants", json={"seat_code": "nonsense"})
    assert response.status_code == 201
    assert client.post(f"/api/v1/events/{code}/participants").status_code == 201


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (None, 403, "seat_code_required"),
        ({"seat_code": ""}, 403, "seat_code_required"),
        ({"seat_code": "AAAAA-AAAAA"}, 403, "seat_code_invalid"),
        ({"seat_code": "not a code"}, 403, "seat_code_invalid"),
        ({"seat_code": 12}, 400, "validation_error"),
        ({"seat": "x"}, 400, "validation_error"),
    ],
)
def test_joining_without_a_valid_code_is_refused(app, seated, body, status, error):
    code, _shown = seated
    before = participants_of(app)
    response = app.test_client().post(f"/api/v1/events/{code}/participants", json=body)
    assert response.status_code == status
    assert response.json["error"]["code"] == error
    assert participants_of(app) == before


def test_a_code_joins_once(app, staff, seated):
    code, shown = seated
    client = app.test_client()
    typed = shown[0].lower().replace("-", " ")
    first = client.post(f"/api/v1/events/{code}/participants", json={"seat_code": typed})
    assert first.status_code == 201
    second = client.post(f"/api/v1/events/{code}/participants", json={"seat_code": shown[0]})
    assert second.status_code == 409
    assert second.json["error"]["code"] == "seat_code_used"
    assert (
        "already been used"
        in app.test_client()
        .post(
            f"/api/v1/events/{code}/participants",
            json={"seat_code": shown[0]},
            headers={"Accept-Language": "en"},
        )
        .json["error"]["message"]
    )
    assert (counts(staff, code)["used"], counts(staff, code)["unused"]) == (1, 3)
    # The phone that joined goes on with its token.
    me = client.get(
        f"/api/v1/events/{code}/me", headers={"Authorization": f"Bearer {first.json['token']}"}
    )
    assert me.status_code == 200


def test_a_code_is_bound_to_its_event(app, staff, make_event, seated):
    _code, shown = seated
    other = make_event(seat_codes_required=True)["code"]
    response = app.test_client().post(
        f"/api/v1/events/{other}/participants", json={"seat_code": shown[0]}
    )
    assert response.json["error"]["code"] == "seat_code_invalid"


def test_two_phones_racing_with_one_code_one_wins(app, seated):
    code, shown = seated
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def phone():
        client = app.test_client()
        barrier.wait()
        response = client.post(f"/api/v1/events/{code}/participants", json={"seat_code": shown[1]})
        statuses.append(response.status_code)

    threads = [threading.Thread(target=phone) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(statuses) == [201, 409]
    assert participants_of(app) == 1
    with app.app_context():
        used = db.session.scalars(sa.select(SeatCode).where(SeatCode.used_at.is_not(None))).all()
        assert len(used) == 1 and used[0].participant_id is not None


def test_replacing_revokes_unused_codes_and_keeps_used_ones(app, staff, seated):
    code, shown = seated
    joined = app.test_client().post(
        f"/api/v1/events/{code}/participants", json={"seat_code": shown[0]}
    )
    token = joined.json["token"]
    response = staff.post(f"/events/{code}/seats", json={"count": 2, "replace_unused": True})
    assert response.status_code == 201
    assert (response.json["total"], response.json["used"], response.json["unused"]) == (3, 1, 2)
    refused = app.test_client().post(
        f"/api/v1/events/{code}/participants", json={"seat_code": shown[1]}
    )
    assert refused.json["error"]["code"] == "seat_code_invalid"
    fresh = response.json["seats"][0]["code"]
    client = app.test_client()
    assert (
        client.post(f"/api/v1/events/{code}/participants", json={"seat_code": fresh}).status_code
        == 201
    )
    me = client.get(f"/api/v1/events/{code}/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200


def test_adding_codes_keeps_the_earlier_sheet_valid(app, staff, seated):
    code, shown = seated
    assert staff.post(f"/events/{code}/seats", json={"count": 3}).json["unused"] == 7
    response = app.test_client().post(
        f"/api/v1/events/{code}/participants", json={"seat_code": shown[3]}
    )
    assert response.status_code == 201


def test_making_codes_is_in_the_audit_log(staff, seated):
    code, _shown = seated
    entries = staff.get(f"/events/{code}/audit").json["entries"]
    assert entries[0]["action"] == "seat_codes_generated"
    assert entries[0]["details"] == {"count": 4, "revoked": 0}


def test_deleting_the_event_deletes_its_codes(app, staff, seated):
    code, _shown = seated
    assert (
        staff.client.delete(f"/api/v1/events/{code}", headers=staff._headers()).status_code == 204
    )
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(SeatCode.id))) == 0


def test_a_copy_keeps_the_setting_but_not_the_codes(staff, seated):
    code, _shown = seated
    copy = staff.post(f"/events/{code}/duplicate").json
    assert copy["settings"]["seat_codes_required"] is True
    assert counts(staff, copy["code"])["total"] == 0


def test_export_and_import_carry_the_setting_not_the_codes(app, staff, seated, runner, tmp_path):
    code, shown = seated
    exported = staff.get(f"/events/{code}/export?format=json")
    assert exported.status_code == 200
    document = exported.get_data(as_text=True)
    assert '"seat_codes_required": true' in document
    assert not any(seat.replace("-", "") in document or seat in document for seat in shown)
    path = tmp_path / "event.json"
    path.write_text(document, encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    new_code = re.search(r"as event (\w+)", result.output).group(1)
    imported = staff.get(f"/events/{new_code}")
    assert imported.json["settings"]["seat_codes_required"] is True


def test_an_export_without_the_setting_imports_with_it_off(staff, make_event, runner, tmp_path):
    code = make_event(seat_codes_required=True)["code"]
    document = staff.get(f"/events/{code}/export?format=json").json
    del document["event"]["settings"]["seat_codes_required"]
    path = tmp_path / "old.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = runner.invoke(args=["import", str(path)])
    assert result.exit_code == 0, result.output
    new_code = re.search(r"as event (\w+)", result.output).group(1)
    assert staff.get(f"/events/{new_code}").json["settings"]["seat_codes_required"] is False


# -- the attendee page -------------------------------------------------------------------------


def test_the_page_asks_for_the_code_on_the_card(app, seated):
    code, _shown = seated
    page = app.test_client().get(f"/j/{code}", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "seat code printed on your card" in html
    assert 'name="seat"' in html
    assert page.headers["Cache-Control"] == "no-store"
    assert participants_of(app) == 0


def test_the_cards_link_joins_and_drops_the_code_from_the_address(app, seated):
    code, shown = seated
    phone = app.test_client()
    response = phone.get(f"/j/{code.lower()}?seat={shown[0].replace('-', '')}")
    # The address is first normalised (with the code kept), then the code is used and dropped.
    assert response.status_code == 302
    response = phone.get(response.headers["Location"])
    assert response.status_code == 302
    assert response.headers["Location"] == f"/j/{code}"
    assert phone.get_cookie(f"workshop_{code}") is not None
    page = phone.get(f"/j/{code}")
    assert page.status_code == 200
    assert 'id="submit-form"' in page.get_data(as_text=True)
    # Scanning the card again on the same phone changes nothing.
    assert phone.get(f"/j/{code}?seat={shown[0]}").status_code == 302
    assert participants_of(app) == 1


def test_a_second_phone_with_the_same_card_is_refused(app, seated):
    code, shown = seated
    assert app.test_client().get(f"/j/{code}?seat={shown[0]}").status_code == 302
    second = app.test_client()
    page = second.get(f"/j/{code}?seat={shown[0]}", headers={"Accept-Language": "en"})
    assert page.status_code == 409
    html = page.get_data(as_text=True)
    assert "already been used on another phone" in html
    assert f'value="{shown[0]}"' in html and 'aria-invalid="true"' in html
    assert second.get_cookie(f"workshop_{code}") is None
    assert participants_of(app) == 1


def test_a_mistyped_code_is_explained(app, seated):
    code, _shown = seated
    page = app.test_client().get(f"/j/{code}?seat=%3Cb%3EAAAA", headers={"Accept-Language": "en"})
    assert page.status_code == 403
    html = page.get_data(as_text=True)
    assert "not valid" in html
    assert "<b>AAAA" not in html and "&lt;b&gt;AAAA" in html


# -- the staff pages ---------------------------------------------------------------------------


@pytest.fixture
def moderator(app, make_staff, make_event):
    """A logged-in moderator's event: (code, api, browser)."""
    owner = make_staff(username="sami")
    code = make_event(owner=owner)["code"]
    browser = app.test_client()
    token = CSRF.search(browser.get("/login").get_data(as_text=True)).group(1)
    form = {"username": "sami", "password": "password-123", "csrf_token": token}
    assert browser.post("/login", data=form).status_code == 302
    return code, owner, browser


def form_post(browser, code: str, path: str, **fields):
    settings = browser.get(f"/moderate/{code}/settings").get_data(as_text=True)
    token = CSRF.search(settings).group(1)
    return browser.post(path, data={"csrf_token": token, **fields})


def test_the_setting_is_saved_from_the_settings_page(moderator):
    code, owner, browser = moderator
    fields = {
        "part": "event",
        "title": "Plenum",
        "vote_budget": "5",
        "max_dots_per_suggestion": "2",
        "max_suggestions_per_participant": "10",
        "moderation": "post",
        "default_language": "de",
        "seat_codes_required": "on",
    }
    response = form_post(browser, code, f"/moderate/{code}/settings", **fields)
    assert response.status_code == 302
    assert owner.get(f"/events/{code}").json["settings"]["seat_codes_required"] is True


def test_the_sheet_shows_each_new_code_once_with_its_qr_code(app, moderator):
    code, _owner, browser = moderator
    response = form_post(browser, code, f"/moderate/{code}/seats", count="14")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    html = response.get_data(as_text=True)
    shown = SHOWN.findall(html)
    assert len(set(shown)) == 14
    assert html.count("<svg") == 14
    assert html.count('class="sheet-page"') == 2
    # The codes it shows are the ones that work.
    joined = app.test_client().post(
        f"/api/v1/events/{code}/participants", json={"seat_code": shown[5]}
    )
    assert joined.status_code == 201
    settings = browser.get(f"/moderate/{code}/settings").get_data(as_text=True)
    assert 'id="seats-used">0<' in settings  # the setting is off: the code was not needed
    assert 'id="seats-unused">14<' in settings
    assert not any(seat in settings for seat in shown)


def test_the_settings_page_counts_used_codes(app, moderator):
    code, owner, browser = moderator
    assert (
        owner.patch(f"/events/{code}", json={"settings": {"seat_codes_required": True}}).status_code
        == 200
    )
    shown = [
        seat["code"]
        for seat in owner.post(f"/events/{code}/seats", json={"count": 3}).json["seats"]
    ]
    app.test_client().get(f"/j/{code}?seat={shown[0]}")
    settings = browser.get(f"/moderate/{code}/settings").get_data(as_text=True)
    assert 'id="seats-used">1<' in settings and 'id="seats-unused">2<' in settings


def test_a_bad_count_on_the_form_is_explained(moderator):
    code, _owner, browser = moderator
    response = form_post(browser, code, f"/moderate/{code}/seats", count="0")
    assert response.status_code == 302
    assert 'class="flash flash-error"' in browser.get(response.headers["Location"]).get_data(
        as_text=True
    )


def test_other_moderators_cannot_make_a_sheet(app, moderator, make_staff, make_event):
    _code, _owner, browser = moderator
    other_code = make_event(owner=make_staff())["code"]
    response = form_post(browser, _code, f"/moderate/{other_code}/seats", count="3")
    assert response.status_code == 403


# -- the migration -----------------------------------------------------------------------------


def test_the_migration_goes_down_and_up_again(app, seated):
    settle(app)  # no flush of figures may read the tables while they change
    with app.app_context():
        downgrade(revision="1b85ec79e65b")
        columns = {c["name"] for c in sa.inspect(db.engine).get_columns("events")}
        assert "seat_codes_required" not in columns
        assert not sa.inspect(db.engine).has_table("seat_codes")
        upgrade()
        assert sa.inspect(db.engine).has_table("seat_codes")
        db.session.remove()
