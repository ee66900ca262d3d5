"""Expensive reads against the real server: the card list is made once per change and shared by
every reader, an address has a budget of such reads, and an event takes a limited number of
cards."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import requests
from helpers import wait_for

READERS = 10


def list_url(server, code: str) -> str:
    return f"{server.url}/api/v1/events/{code}/suggestions"


def tag(server, code: str) -> str:
    response = requests.get(list_url(server, code), timeout=30)
    assert response.status_code == 200
    return response.headers["ETag"]


def made_by(etag: str) -> tuple[str, int]:
    """The process and the number of the list an ETag names."""
    process, number, _coding = etag.strip('"').split(".")
    return process, int(number)


def settled(server, code: str) -> str:
    """The list's tag once two reads in a row agree (tallies go out up to 100 ms after a write,
    and each is a change)."""
    return wait_for(lambda: (first := tag(server, code)) == tag(server, code) and first)


def file_card(server, token: str, code: str, title: str, **headers) -> requests.Response:
    return requests.post(
        list_url(server, code),
        json={"client_id": str(uuid.uuid4()), "title": title},
        headers={"Authorization": f"Bearer {token}", **headers},
        timeout=30,
    )


def test_every_reader_shares_one_list_per_change(start_server):
    server = start_server(extra_env={"WORKSHOP_RATELIMIT_READS": "1000 per minute"})
    code, token = server.demo_code, server.staff_token()
    before = settled(server, code)
    # The tag names the list the server made ("<process>.<list number>.<coding>"): ten readers at
    # once get the very same list, not ten lists made one after another.
    with ThreadPoolExecutor(READERS) as pool:
        tags = set(pool.map(lambda _: tag(server, code), range(READERS)))
    assert tags == {before}
    answer = requests.get(list_url(server, code), headers={"If-None-Match": before}, timeout=30)
    assert answer.status_code == 304 and not answer.content
    assert file_card(server, token, code, "A new card").status_code == 201
    after = settled(server, code)
    assert after != before
    # The same process made one list or more since (the change, and its tallies).
    assert made_by(after)[0] == made_by(before)[0] and made_by(after)[1] > made_by(before)[1]
    with ThreadPoolExecutor(READERS) as pool:
        assert set(pool.map(lambda _: tag(server, code), range(READERS))) == {after}


def test_reads_have_a_budget_and_events_a_card_limit(start_server):
    server = start_server(
        extra_env={"WORKSHOP_RATELIMIT_READS": "5 per minute", "WORKSHOP_MAX_CARDS_PER_EVENT": "2"}
    )
    staff_token = server.staff_token()
    event = requests.post(
        f"{server.url}/api/v1/events",
        json={"title": "Flood"},
        headers={"Authorization": f"Bearer {staff_token}"},
        timeout=30,
    ).json()
    code = event["code"]
    phone = requests.post(f"{server.url}/api/v1/events/{code}/participants", timeout=30).json()
    assert file_card(server, phone["token"], code, "One").status_code == 201
    assert file_card(server, phone["token"], code, "Two").status_code == 201
    refused = file_card(server, phone["token"], code, "Three", **{"Accept-Language": "de"})
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "event_full"
    assert refused.json()["error"]["message"].startswith("Diese Veranstaltung")
    statuses = [requests.get(list_url(server, code), timeout=30) for _ in range(6)]
    assert [response.status_code for response in statuses] == [200] * 5 + [429]
    limited = statuses[-1]
    assert limited.json()["error"]["code"] == "rate_limited"
    assert int(limited.headers["Retry-After"]) >= 1
    # Cheap reads are not counted.
    assert requests.get(f"{server.url}/api/v1/events/{code}", timeout=30).status_code == 200
