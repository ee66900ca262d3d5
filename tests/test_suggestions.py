"""Cards: filing (idempotent), limits, pre-moderation, author edits and staff moderation."""

from __future__ import annotations

import threading

import pytest


def public_ids(api, code):
    return [card["id"] for card in api.get(f"/events/{code}/suggestions").json["suggestions"]]


def staff_card(staff, code, card_id):
    cards = staff.get(f"/events/{code}/suggestions").json["suggestions"]
    return next(card for card in cards if card["id"] == card_id)


def test_participant_files_a_card(make_event, join, submit):
    event = make_event()
    me = join(event["code"])
    card = submit(
        me,
        event["code"],
        "  Mehr Sprachcafés ",
        body="Im Stadtteil",
        area_id=event["areas"][1]["id"],
    )
    assert (card["title"], card["body"], card["area_id"]) == (
        "Mehr Sprachcafés",
        "Im Stadtteil",
        event["areas"][1]["id"],
    )
    assert (card["status"], card["mine"], card["my_dots"], card["merged_from"]) == (
        "visible",
        True,
        0,
        [],
    )
    assert me.get(f"/events/{event['code']}/me").json["suggestions"] == [card["id"]]


def test_resent_submission_is_stored_once(make_event, join):
    code = make_event()["code"]
    me = join(code)
    body = {"client_id": "phone-1-card-1", "title": "Once"}
    first = me.post(f"/events/{code}/suggestions", json=body)
    again = me.post(f"/events/{code}/suggestions", json={**body, "title": "Twice?"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json["id"] == first.json["id"] and again.json["title"] == "Once"
    assert public_ids(me, code) == [first.json["id"]]


def test_resent_submission_after_collecting_ended(make_event, staff, join):
    code = make_event()["code"]
    me = join(code)
    body = {"client_id": "late", "title": "Sent before the phase changed"}
    first = me.post(f"/events/{code}/suggestions", json=body)
    staff.patch(f"/events/{code}", json={"phase": "cluster"})
    assert me.post(f"/events/{code}/suggestions", json=body).json["id"] == first.json["id"]


def test_client_id_belongs_to_its_participant(make_event, join):
    code = make_event()["code"]
    body = {"client_id": "same", "title": "Two people, one id"}
    responses = [join(code).post(f"/events/{code}/suggestions", json=body) for _ in range(2)]
    assert [r.status_code for r in responses] == [201, 201]
    assert responses[0].json["id"] != responses[1].json["id"]


def test_staff_client_id_is_not_answered_with_another_events_card(make_event, staff):
    first, second = make_event()["code"], make_event()["code"]
    body = {"client_id": "flipchart-1", "title": "From the flipchart"}
    assert staff.post(f"/events/{first}/suggestions", json=body).status_code == 201
    response = staff.post(f"/events/{second}/suggestions", json=body)
    assert (response.status_code, response.json["error"]["code"]) == (409, "client_id_taken")
    assert staff.get(f"/events/{second}/suggestions").json["suggestions"] == []


def test_concurrent_resends_store_one_card(app, make_event, join):
    code = make_event()["code"]
    me, barrier, statuses = join(code), threading.Barrier(10), []

    def send():
        client = app.test_client()
        barrier.wait()
        response = client.post(
            f"/api/v1/events/{code}/suggestions",
            json={"client_id": "retry", "title": "Flaky network"},
            headers={"Authorization": f"Bearer {me.token}"},
        )
        statuses.append(response.status_code)

    threads = [threading.Thread(target=send) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] * 9 + [201]
    assert len(public_ids(me, code)) == 1


def test_limit_per_participant_counts_withdrawn_cards_out(make_event, join, submit):
    code = make_event(max_suggestions_per_participant=2)["code"]
    me = join(code)
    first, _ = submit(me, code), submit(me, code)
    response = me.post(f"/events/{code}/suggestions", json={"client_id": "third", "title": "3"})
    assert (response.status_code, response.json["error"]["code"]) == (409, "limit_reached")
    me.patch(f"/events/{code}/suggestions/{first['id']}", json={"status": "withdrawn"})
    assert (
        me.post(
            f"/events/{code}/suggestions", json={"client_id": "third", "title": "3"}
        ).status_code
        == 201
    )


# A draft is hidden from participants (test_drafts.py).
@pytest.mark.parametrize("phase", ["cluster", "vote", "results"])
def test_participants_file_cards_only_while_collecting(make_event, join, phase):
    code = make_event(phase=phase)["code"]
    me = join(code)
    response = me.post(f"/events/{code}/suggestions", json={"client_id": "x", "title": "Late"})
    assert (response.status_code, response.json["error"]["code"]) == (409, "wrong_phase")
    assert public_ids(me, code) == []


@pytest.mark.parametrize(("phase", "status"), [("cluster", 201), ("vote", 201), ("results", 409)])
def test_staff_file_cards_until_results(make_event, staff, phase, status):
    code = make_event(phase=phase)["code"]
    response = staff.post(
        f"/events/{code}/suggestions", json={"client_id": "s", "title": "From the flipchart"}
    )
    assert response.status_code == status


def test_pre_moderation_holds_cards_until_approved(make_event, staff, join, submit):
    code = make_event(moderation="pre")["code"]
    me = join(code)
    card = submit(me, code)
    assert card["status"] == "pending"
    assert public_ids(join(code), code) == []
    assert staff_card(staff, code, card["id"])["status"] == "pending"
    staff.patch(f"/events/{code}/suggestions/{card['id']}", json={"status": "visible"})
    assert public_ids(join(code), code) == [card["id"]]


def test_pre_moderation_checks_an_edited_card_again(make_event, staff, join, submit):
    code = make_event(moderation="pre")["code"]
    me = join(code)
    card = submit(me, code)
    staff.patch(f"/events/{code}/suggestions/{card['id']}", json={"status": "visible"})
    edited = me.patch(f"/events/{code}/suggestions/{card['id']}", json={"title": "Changed"}).json
    assert (edited["title"], edited["status"]) == ("Changed", "pending")
    assert public_ids(join(code), code) == []


def test_author_edits_and_withdraws_while_collecting(make_event, staff, join, submit):
    event = make_event()
    code, me = event["code"], join(event["code"])
    card = submit(me, code)
    edited = me.patch(
        f"/events/{code}/suggestions/{card['id']}",
        json={"title": "Better", "area_id": event["areas"][0]["id"]},
    )
    assert (edited.status_code, edited.json["title"], edited.json["area_id"]) == (
        200,
        "Better",
        event["areas"][0]["id"],
    )
    me.patch(f"/events/{code}/suggestions/{card['id']}", json={"status": "withdrawn"})
    assert public_ids(me, code) == []
    assert staff_card(staff, code, card["id"])["status"] == "withdrawn"


def test_only_the_author_edits(make_event, staff, join, submit):
    code = make_event()["code"]
    card = submit(join(code), code, "Original")
    response = join(code).patch(
        f"/events/{code}/suggestions/{card['id']}", json={"title": "Mine now"}
    )
    assert (response.status_code, response.json["error"]["code"]) == (403, "not_author")
    assert staff_card(staff, code, card["id"])["title"] == "Original"


# A draft is hidden from participants (test_drafts.py).
@pytest.mark.parametrize("phase", ["cluster", "vote", "results"])
def test_authors_edit_only_while_collecting(make_event, staff, join, submit, phase):
    code = make_event()["code"]
    me = join(code)
    card = submit(me, code, "Original")
    staff.patch(f"/events/{code}", json={"phase": phase})
    response = me.patch(f"/events/{code}/suggestions/{card['id']}", json={"title": "Too late"})
    assert (response.status_code, response.json["error"]["code"]) == (409, "wrong_phase")
    assert staff_card(staff, code, card["id"])["title"] == "Original"


def test_withdrawn_card_stays_withdrawn(make_event, staff, join, submit):
    code = make_event()["code"]
    me = join(code)
    card = submit(me, code)
    me.patch(f"/events/{code}/suggestions/{card['id']}", json={"status": "withdrawn"})
    response = me.patch(f"/events/{code}/suggestions/{card['id']}", json={"title": "Back"})
    assert (response.status_code, response.json["error"]["code"]) == (409, "not_editable")
    response = staff.patch(f"/events/{code}/suggestions/{card['id']}", json={"status": "visible"})
    assert (response.status_code, response.json["error"]["code"]) == (409, "withdrawn")


@pytest.mark.parametrize("phase", ["collect", "cluster", "vote"])
def test_staff_move_hide_and_show_cards(make_event, staff, join, submit, phase):
    event = make_event()
    code, area = event["code"], event["areas"][2]["id"]
    card = submit(join(code), code)
    staff.patch(f"/events/{code}", json={"phase": phase})
    assert (
        staff.patch(f"/events/{code}/suggestions/{card['id']}", json={"area_id": area}).json[
            "area_id"
        ]
        == area
    )
    staff.patch(f"/events/{code}/suggestions/{card['id']}", json={"status": "hidden"})
    assert public_ids(join(code), code) == []
    staff.patch(f"/events/{code}/suggestions/{card['id']}", json={"status": "visible"})
    assert public_ids(join(code), code) == [card["id"]]


def test_cards_can_leave_their_area(make_event, staff, submit):
    event = make_event()
    code = event["code"]
    card = submit(staff, code, area_id=event["areas"][0]["id"])
    assert (
        staff.patch(f"/events/{code}/suggestions/{card['id']}", json={"area_id": None}).json[
            "area_id"
        ]
        is None
    )


def test_stale_version_is_refused(make_event, staff, join, submit):
    code = make_event()["code"]
    me = join(code)
    card = submit(me, code, "Original")
    path = f"/events/{code}/suggestions/{card['id']}"
    fixed = staff.patch(path, json={"title": "Staff fix", "version": card["version"]}).json
    assert fixed["version"] == card["version"] + 1
    response = me.patch(path, json={"title": "Mine", "version": card["version"]})
    assert (response.status_code, response.json["error"]["code"]) == (409, "version_conflict")
    assert staff_card(staff, code, card["id"])["title"] == "Staff fix"


def test_version_conflict_hands_back_the_current_card(make_event, staff, submit):
    code = make_event()["code"]
    card = submit(staff, code, "Original")
    path = f"/events/{code}/suggestions/{card['id']}"
    staff.patch(path, json={"title": "First", "version": card["version"]})
    response = staff.patch(path, json={"title": "Second", "version": card["version"]})
    fresh = response.json["error"]["card"]
    assert (response.status_code, fresh["title"], fresh["version"]) == (409, "First", 2)
