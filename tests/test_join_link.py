"""The join link on the board, in the QR code and on seat cards: the configured public URL, else
the address of the request only when its Host header names this machine (an IP address,
localhost, the machine's names, WORKSHOP_TRUSTED_HOSTS); a forged Host is refused."""

from __future__ import annotations

import re
import socket

import pytest

from workshop.web.helpers import trusted_host

NO_PUBLIC_URL = pytest.mark.app_config(WORKSHOP_PUBLIC_URL="")


def board(staff, code, host):
    return staff.client.get(f"/board/{code}", headers={"Host": host})


def shown(page) -> str:
    """The page's text without its tags (the board's join link is split into spans)."""
    return re.sub(r"<[^>]+>", "", page.get_data(as_text=True))


def seat_links(staff, code, host):
    return staff.client.post(
        f"/api/v1/events/{code}/seats",
        json={"count": 1},
        headers={**staff._headers(), "Host": host},
    )


@NO_PUBLIC_URL
@pytest.mark.parametrize("host", ["evil.example", "workshop.test.evil.example:80", "x@evil"])
def test_a_forged_host_never_becomes_the_join_link(make_event, staff, host):
    code = make_event()["code"]
    page = board(staff, code, host)
    assert page.status_code == 400 and f"{host}/j/" not in shown(page)
    response = seat_links(staff, code, host)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "untrusted_host"


@NO_PUBLIC_URL
@pytest.mark.parametrize(
    "host", ["192.168.1.20:5000", "[fe80::1]:8080", "localhost:5000", "10.0.0.7"]
)
def test_the_machines_own_addresses_make_the_link(make_event, staff, host):
    code = make_event()["code"]
    assert f"http://{host}/j/{code}" in shown(board(staff, code, host))
    url = seat_links(staff, code, host).json["seats"][0]["url"]
    assert url.startswith(f"http://{host}/j/{code}?seat=")


@NO_PUBLIC_URL
def test_the_machines_name_is_trusted(app):
    with app.test_request_context():
        assert trusted_host(socket.gethostname() + ":5000")
        assert trusted_host(f"{socket.gethostname()}.local")
        assert not trusted_host("evil.example")


@pytest.mark.app_config(WORKSHOP_PUBLIC_URL="", WORKSHOP_TRUSTED_HOSTS=[".example.org"])
def test_trusted_hosts_setting(make_event, staff):
    code = make_event()["code"]
    assert f"http://plenum.example.org/j/{code}" in shown(board(staff, code, "plenum.example.org"))
    assert board(staff, code, "example.org.evil.example").status_code == 400


def test_the_public_url_wins(make_event, staff):
    code = make_event()["code"]
    page = board(staff, code, "evil.example")
    assert page.status_code == 200
    assert f"http://workshop.test/j/{code}" in shown(page) and b"evil" not in page.data
