"""Translation on the real server under eventlet, with the stand-in LibreTranslate: cards reach
the board at once and their translations follow; an engine that is down holds nothing up, and
translations catch up when it is back."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.e2e.live_client import LiveClient
from tests.helpers import wait_for
from tests.standin_libretranslate import translated

OTHERS = {"en", "ar", "fa", "uk", "ru"}


@pytest.fixture
def server(start_server, standin):
    return start_server(extra_env={"WORKSHOP_TRANSLATE_URL": standin.url})


def file_card(server, token: str, title: str) -> dict:
    response = requests.post(
        f"{server.url}/api/v1/events/{server.demo_code}/suggestions",
        json={"client_id": str(uuid.uuid4()), "title": title},
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_the_board_hears_a_card_then_its_translations(server):
    assert any("Translation: on (http://127.0.0.1:" in line for line in server.output)
    board = LiveClient(server.url, server.demo_code).connect()
    try:
        card = file_card(server, server.staff_token(), "Deutschkurse mit Kinderbetreuung")
        assert card["language"] == "de" and card["translations"] == {}
        board.wait(lambda c: set(c.cards.get(card["id"], {}).get("translations", {})) >= OTHERS)
        arabic = board.cards[card["id"]]["translations"]["ar"]
        assert arabic["title"] == translated("Deutschkurse mit Kinderbetreuung", "de", "ar")
    finally:
        board.close()


def test_an_engine_that_is_down_holds_nothing_up_and_is_caught_up_with(server, standin):
    standin.mode = "down"
    token = server.staff_token()
    board = LiveClient(server.url, server.demo_code).connect()
    try:
        cards = [file_card(server, token, f"Mehr Sportangebote für Mädchen {i}") for i in range(3)]
        board.wait(lambda c: all(card["id"] in c.cards for card in cards))
        wait_for(lambda: standin.translations_asked() >= 1, timeout=30)
        assert all(board.cards[card["id"]]["translations"] == {} for card in cards)
        standin.mode = "ok"
        board.wait(
            lambda c: all(set(c.cards[card["id"]]["translations"]) == OTHERS for card in cards),
            timeout=60,
        )
    finally:
        board.close()
