"""Wi-Fi drops on the attendee page, in headless Chromium against a real `python run.py` server.

Cards and dots made without a connection wait in the browser's localStorage (static/js/outbox.js)
and are sent, with the client id they were made with, when the connection is back. Every live page
takes a fresh snapshot after it reconnects.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Route, expect

from .conftest import ADMIN_PASSWORD, add_card, wait_for
from .test_accessibility import axe_source, axe_violations  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

#: Keeps every WebSocket the page opens, so a test can cut the live connection as a lost network
#: would (Chromium's offline emulation leaves open sockets alone). Init scripts run before the
#: page's own scripts and are not subject to its CSP.
KEEP_SOCKETS = """
window.__sockets = [];
window.WebSocket = class extends window.WebSocket {
  constructor(...args) {
    super(...args);
    window.__sockets.push(this);
  }
};
"""
CUT_SOCKETS = "window.__sockets.forEach((socket) => socket.close())"
HAS_OPEN_SOCKET = "window.__sockets.some((socket) => socket.readyState === WebSocket.OPEN)"


def english_context(browser: Browser, server) -> BrowserContext:
    """A phone-sized context that reads the page in English (the texts are the msgids)."""
    context = browser.new_context(locale="en-GB", viewport={"width": 412, "height": 915})
    context.add_cookies([{"name": "workshop_lang", "value": "en", "url": server.url}])
    context.add_init_script(KEEP_SOCKETS)
    return context


@pytest.fixture
def phone(browser, server) -> Iterator[Page]:
    context = english_context(browser, server)
    yield context.new_page()
    context.close()


def open_attendee(page: Page, server) -> None:
    page.goto(f"{server.url}/j/{server.demo_code}")
    expect(page.locator("#cards")).to_have_attribute("aria-busy", "false")
    expect(page.locator("#connection")).to_be_hidden()


def go_offline(page: Page) -> None:
    """Cut the network, and wait until the page knows: before that, a request may still start
    and lose its answer (that case has a test of its own)."""
    page.context.set_offline(True)
    page.wait_for_function("!navigator.onLine")


def file_card(page: Page, title: str, area_id: int | None = None) -> None:
    page.fill("#new-title", title)
    page.check(f'#new-area input[value="{area_id or "none"}"]')
    page.click("#submit-button")


def cards_titled(staff, title: str) -> list[dict]:
    """The cards on the server (staff see every status) with this title."""
    cards = staff("GET", "/suggestions", status=200).json()["suggestions"]
    return [card for card in cards if card["title"] == title]


def stored_outbox(page: Page, server) -> list[dict]:
    raw = page.evaluate(
        "(name) => localStorage.getItem(name)", f"workshop-outbox:{server.demo_code}"
    )
    return json.loads(raw)["items"] if raw else []


def my_card(page: Page, title: str):
    return page.locator("#cards .card.mine", has=page.locator(".card-title", has_text=title))


# -- cards --------------------------------------------------------------------------------------


def test_a_card_filed_offline_waits_and_is_stored_once_when_back(
    server, phone, staff, areas, artifacts
):
    open_attendee(phone, server)
    go_offline(phone)
    file_card(phone, "Sprachcafé im Stadtteil", areas[1]["id"])

    status = phone.locator("#outbox-status")
    expect(status).to_have_attribute("role", "status")
    expect(status).to_contain_text("1 waiting to be sent")
    expect(status).to_contain_text("No connection")
    expect(phone.locator("#submit-done")).to_have_text(re.compile("Saved on this phone"))
    expect(phone.locator("#new-title")).to_have_value("")  # ready for the next card
    waiting = phone.locator("#waiting-cards .card.waiting")
    expect(waiting).to_have_count(1)
    expect(waiting.locator(".card-title")).to_have_text("Sprachcafé im Stadtteil")
    expect(waiting.locator(".card-area")).to_have_text(areas[1]["name"])
    expect(waiting.locator(".badge-waiting")).to_have_text("Not sent yet")

    file_card(phone, "Dolmetscher im Bürgeramt")
    expect(status).to_contain_text("2 waiting to be sent")
    items = stored_outbox(phone, server)
    assert [item["body"]["title"] for item in items] == [
        "Sprachcafé im Stadtteil",
        "Dolmetscher im Bürgeramt",
    ]
    assert cards_titled(staff, "Sprachcafé im Stadtteil") == []
    phone.screenshot(path=artifacts / "attendee-offline-412.png", full_page=True)

    phone.context.set_offline(False)
    expect(my_card(phone, "Sprachcafé im Stadtteil")).to_be_visible()
    expect(my_card(phone, "Dolmetscher im Bürgeramt")).to_be_visible()
    expect(status).to_have_text("Everything has been sent.")
    expect(waiting).to_have_count(0)
    expect(phone.locator("#connection")).to_be_hidden()
    assert stored_outbox(phone, server) == []
    stored = cards_titled(staff, "Sprachcafé im Stadtteil")
    assert len(stored) == 1
    assert stored[0]["area_id"] == areas[1]["id"]
    assert len(cards_titled(staff, "Dolmetscher im Bürgeramt")) == 1


def test_a_waiting_card_survives_closing_the_page(browser, server, staff):
    context = english_context(browser, server)
    try:
        page = context.new_page()
        open_attendee(page, server)
        go_offline(page)
        file_card(page, "Mehr Kitaplätze")
        expect(page.locator("#outbox-status")).to_contain_text("1 waiting to be sent")
        [item] = stored_outbox(page, server)
        page.close()  # the phone's browser drops the tab while the Wi-Fi is gone
        assert cards_titled(staff, "Mehr Kitaplätze") == []

        context.set_offline(False)
        page = context.new_page()
        open_attendee(page, server)
        expect(my_card(page, "Mehr Kitaplätze")).to_be_visible()
        expect(page.locator("#outbox-status")).to_have_text("Everything has been sent.")
        [stored] = cards_titled(staff, "Mehr Kitaplätze")
        assert stored_outbox(page, server) == []
        # It went out with the client id it was made with: a second, late copy of the first
        # request (a phone that did get through after all) changes nothing.
        replay = page.request.post(
            f"{server.url}/api/v1/events/{server.demo_code}/suggestions",
            data=item["body"],
            headers={
                "X-CSRFToken": page.locator('meta[name="csrf-token"]').get_attribute("content")
            },
        )
        assert replay.status == 200
        assert replay.json()["id"] == stored["id"]
        assert len(cards_titled(staff, "Mehr Kitaplätze")) == 1
    finally:
        context.close()


def test_a_lost_answer_is_sent_again_with_the_same_client_id_and_stored_once(server, phone, staff):
    """The server stored the card but its answer never reached the phone."""
    sent: list[dict] = []

    def lose_first_answer(route: Route) -> None:
        sent.append(route.request.post_data_json)
        if len(sent) == 1:
            route.fetch()  # reaches the server ...
            route.abort("connectionreset")  # ... but the phone hears nothing
        else:
            route.continue_()

    open_attendee(phone, server)
    phone.route("**/suggestions", lose_first_answer)
    file_card(phone, "Begegnungsfeste im Sommer")
    expect(phone.locator("#outbox-status")).to_contain_text("1 waiting to be sent")
    assert len(cards_titled(staff, "Begegnungsfeste im Sommer")) == 1  # stored already

    # No "online" event comes (the network never went away): the page tries again by itself.
    expect(my_card(phone, "Begegnungsfeste im Sommer")).to_be_visible(timeout=15_000)
    expect(phone.locator("#outbox-status")).to_have_text("Everything has been sent.")
    assert len(sent) == 2
    assert sent[0]["client_id"] == sent[1]["client_id"]
    assert len(cards_titled(staff, "Begegnungsfeste im Sommer")) == 1


@pytest.mark.parametrize(
    ("status", "headers", "explained"),
    [
        (429, {"Retry-After": "1"}, "The server is busy"),
        (503, {}, "No connection"),
    ],
)
def test_a_busy_or_failing_server_keeps_the_card_and_says_why(
    server, phone, staff, status, headers, explained
):
    answers: list[int] = []

    def fail_first(route: Route) -> None:
        if not answers:
            answers.append(status)
            body = {"error": {"code": "too_many_requests", "message": "Slow down."}}
            route.fulfill(status=status, headers=headers, json=body)
        else:
            answers.append(0)
            route.continue_()

    open_attendee(phone, server)
    phone.route("**/suggestions", fail_first)
    file_card(phone, "Patenschaften für Neuzugezogene")
    status_line = phone.locator("#outbox-status")
    expect(status_line).to_contain_text("1 waiting to be sent")
    expect(status_line).to_contain_text(explained)
    expect(phone.locator("#submit-error")).to_be_hidden()

    expect(my_card(phone, "Patenschaften für Neuzugezogene")).to_be_visible(timeout=15_000)
    assert answers == [status, 0]
    assert len(cards_titled(staff, "Patenschaften für Neuzugezogene")) == 1


def test_a_card_refused_when_sent_later_is_dropped_with_the_servers_reason(
    server, phone, staff, artifacts
):
    open_attendee(phone, server)
    go_offline(phone)
    file_card(phone, "Zu spät eingereicht")
    expect(phone.locator("#outbox-status")).to_contain_text("1 waiting to be sent")
    staff("PATCH", json={"phase": "cluster"}, status=200)  # collecting ends meanwhile

    phone.context.set_offline(False)
    problems = phone.locator("#outbox-problems")
    expect(problems).to_be_visible()
    expect(problems).to_have_attribute("role", "alert")
    expect(problems).to_contain_text("Zu spät eingereicht")
    expect(problems).to_contain_text("Suggestions can only be filed while collecting.")
    expect(phone.locator("#outbox-status")).to_have_text("")
    expect(phone.locator("#waiting-cards .card")).to_have_count(0)
    assert stored_outbox(phone, server) == []
    assert cards_titled(staff, "Zu spät eingereicht") == []
    # Nothing typed is lost: the text is back in the (now hidden) form for the next round.
    expect(phone.locator("#new-title")).to_have_value("Zu spät eingereicht")

    phone.screenshot(path=artifacts / "attendee-not-sent-412.png")
    phone.click("#outbox-problems-close")
    expect(problems).to_be_hidden()
    expect(phone.locator("#cards-heading")).to_be_focused()


# -- dots ---------------------------------------------------------------------------------------


def test_dots_set_offline_are_sent_as_last_wanted_when_back(server, phone, staff, artifacts):
    first = add_card(staff, "Sprachkurse mit Kinderbetreuung")
    second = add_card(staff, "Mehr Beratung in den Stadtteilen")
    staff("PATCH", json={"phase": "vote"}, status=200)
    open_attendee(phone, server)
    dots_left = phone.locator("#dots-left")
    expect(dots_left).to_have_attribute("data-dots-left", "5")

    go_offline(phone)
    a, b = phone.locator(f"#card-{first['id']}"), phone.locator(f"#card-{second['id']}")
    a_plus = a.locator('[data-focus="plus"]')
    a_plus.click()
    expect(a.locator("[data-my-dots]")).to_have_attribute("data-my-dots", "1")
    a_plus.click()
    expect(a.locator("[data-my-dots]")).to_have_attribute("data-my-dots", "2")
    # At the cap "+" stops while offline: the server would refuse, and only one wish is kept.
    expect(a_plus).to_have_attribute("aria-disabled", "true")
    expect(a_plus).to_be_focused()
    a.locator('[data-focus="minus"]').click()
    b.locator('[data-focus="plus"]').click()

    expect(a.locator("[data-my-dots]")).to_have_attribute("data-my-dots", "1")
    expect(b.locator("[data-my-dots]")).to_have_attribute("data-my-dots", "1")
    expect(a.locator(".badge-waiting")).to_have_text("Not sent yet")
    expect(dots_left).to_have_attribute("data-dots-left", "3")
    expect(phone.locator("#outbox-status")).to_contain_text("2 waiting to be sent")
    wishes = {item["card"]: item["dots"] for item in stored_outbox(phone, server)}
    assert wishes == {first["id"]: 1, second["id"]: 1}
    assert [card["dots"] for card in cards_titled(staff, first["title"])] == [0]
    phone.screenshot(path=artifacts / "attendee-dots-offline-412.png")

    phone.context.set_offline(False)
    expect(phone.locator("#outbox-status")).to_have_text("Everything has been sent.")
    expect(a.locator(".badge-waiting")).to_have_count(0)
    expect(dots_left).to_have_attribute("data-dots-left", "3")
    me = phone.request.get(f"{server.url}/api/v1/events/{server.demo_code}/me").json()
    assert me["dots"] == {str(first["id"]): 1, str(second["id"]): 1}
    assert me["dots_left"] == 3
    assert [card["dots"] for card in cards_titled(staff, first["title"])] == [1]


def test_dots_taken_back_offline_go_first_so_the_budget_holds(server, phone, staff):
    first = add_card(staff, "Sprachcafé")
    second = add_card(staff, "Kitaplätze")
    third = add_card(staff, "Beratung")
    staff("PATCH", json={"phase": "vote", "settings": {"vote_budget": 2}}, status=200)
    open_attendee(phone, server)
    a = phone.locator(f"#card-{first['id']}")
    a.locator('[data-focus="plus"]').click()
    expect(a.locator("[data-my-dots]")).to_have_attribute("data-my-dots", "1")
    phone.locator(f"#card-{second['id']} [data-focus='plus']").click()
    expect(phone.locator("#dots-left")).to_have_attribute("data-dots-left", "0")

    go_offline(phone)
    c_plus = phone.locator(f"#card-{third['id']} [data-focus='plus']")
    expect(c_plus).to_have_attribute("aria-disabled", "true")  # no dots left
    # Wished in this order: first -> 0, third -> 1, second -> 0, first -> 1 again. Sent in the
    # order of the wishes (first 1, third 1, second 0), the third would find no dot left.
    a.locator('[data-focus="minus"]').click()
    c_plus.click()
    phone.locator(f"#card-{second['id']} [data-focus='minus']").click()
    a.locator('[data-focus="plus"]').click()
    expect(a.locator("[data-my-dots]")).to_have_attribute("data-my-dots", "1")
    expect(phone.locator("#outbox-status")).to_contain_text("3 waiting to be sent")
    expect(phone.locator("#dots-left")).to_have_attribute("data-dots-left", "0")

    phone.context.set_offline(False)
    expect(phone.locator("#outbox-status")).to_have_text("Everything has been sent.")
    me = phone.request.get(f"{server.url}/api/v1/events/{server.demo_code}/me").json()
    assert me["dots"] == {str(first["id"]): 1, str(third["id"]): 1}
    assert me["dots_left"] == 0
    expect(phone.locator("#cards .field-error")).to_have_count(0)


# -- live pages catch up after a reconnect ------------------------------------------------------


@contextmanager
def live_page(browser, server, kind: str) -> Iterator[Page]:
    size = {"width": 412, "height": 915} if kind == "attendee" else {"width": 1280, "height": 800}
    context = browser.new_context(locale="de-DE", viewport=size)
    context.add_init_script(KEEP_SOCKETS)
    page = context.new_page()
    if kind == "attendee":
        open_attendee(page, server)
    elif kind == "board":
        page.goto(f"{server.url}/board/{server.demo_code}")
        expect(page.locator("#columns")).to_have_attribute("aria-busy", "false")
    else:
        page.goto(f"{server.url}/login?next=/moderate/{server.demo_code}")
        page.fill("#username", "admin")
        page.fill("#password", ADMIN_PASSWORD)
        page.locator("form.stack button[type=submit]").click()
        expect(page.locator("#mcolumns")).to_have_attribute("aria-busy", "false")
    try:
        yield page
    finally:
        context.close()


@pytest.mark.parametrize("kind", ["attendee", "board", "console"])
def test_a_live_page_shows_what_happened_while_it_was_cut_off(browser, server, staff, kind):
    areas = staff("GET", status=200).json()["areas"]
    gone = add_card(staff, "Wird ausgeblendet", area_id=areas[0]["id"])
    card_id = "#mcard-{}" if kind == "console" else "#card-{}"
    with live_page(browser, server, kind) as page:
        expect(page.locator(card_id.format(gone["id"]))).to_be_visible()
        wait_for(lambda: page.evaluate(HAS_OPEN_SOCKET), timeout=15)
        page.evaluate("window.__stayed = true")  # gone if the page were loaded again
        page.context.set_offline(True)
        page.evaluate(CUT_SOCKETS)
        expect(page.locator("#connection")).to_be_visible()

        new = add_card(staff, "Kam während der Pause", area_id=areas[0]["id"])
        staff("PATCH", f"/suggestions/{gone['id']}", json={"status": "hidden"}, status=200)
        staff("PATCH", json={"phase": "cluster"}, status=200)

        page.context.set_offline(False)
        expect(page.locator("#connection")).to_be_hidden(timeout=15_000)
        expect(page.locator(card_id.format(new["id"]))).to_be_visible()
        if kind == "console":  # staff see hidden cards, marked
            expect(page.locator(card_id.format(gone["id"]))).to_have_class(
                re.compile("status-hidden")
            )
            expect(page.locator('[data-phase="cluster"]')).to_have_attribute("aria-pressed", "true")
        else:
            expect(page.locator(card_id.format(gone["id"]))).to_have_count(0)
            expect(page.locator("body")).to_have_class(re.compile(r"\bphase-cluster\b"))
        assert page.evaluate("window.__stayed === true")


LIVE_ONLINE_SCRIPT = """
async () => {
  const { follow } = await import("/static/js/live.js");
  const handlers = {};
  const emitted = [];
  let closed = 0;
  let ack = null;
  const socket = {
    on: (name, fn) => (handlers[name] = fn),
    emit: (name) => emitted.push(name),
    timeout: () => ({ emit: (name, callback) => { emitted.push(name); ack = callback; } }),
    io: { engine: { close: () => (closed += 1) } },
    connected: true, id: "one", active: true, close() {},
  };
  const live = follow({ code: "X", role: "board", connect: () => socket, onUpdate: () => {} });
  handlers.snapshot({ seq: 1, event: {}, suggestions: [] });
  window.dispatchEvent(new Event("online"));
  ack(null);  // answered: the connection is fine
  const answered = closed;
  window.dispatchEvent(new Event("online"));
  ack(new Error("operation has timed out"));  // no answer: start a new connection
  const silent = closed;
  socket.connected = false;
  window.dispatchEvent(new Event("online"));  // reconnecting already: nothing to ask
  live.close();
  window.dispatchEvent(new Event("online"));  // closed: not listening any more
  return { emitted, answered, silent };
}
"""


def test_live_asks_for_a_snapshot_when_the_network_comes_back(server, page):
    """A connection may die silently while the phone is offline (live.js, fake socket)."""
    page.goto(f"{server.url}/login")
    result = page.evaluate(LIVE_ONLINE_SCRIPT)
    assert result == {"emitted": ["resync", "resync"], "answered": 0, "silent": 1}


# -- the outbox module on its own ---------------------------------------------------------------

OUTBOX_SCRIPT = """
async () => {
  const { Outbox, createSender, verdict } = await import("/static/js/outbox.js");
  localStorage.clear();
  const box = new Outbox("TEST");
  const first = box.put({ key: "dots:1", kind: "dots", card: 1, dots: 1 });
  box.put({ key: "card:a", kind: "suggestion", body: { client_id: "a", title: "A" } });
  const newer = box.put({ key: "dots:1", kind: "dots", card: 1, dots: 2 });
  box.remove(first);  // replaced meanwhile: the newer wish stays
  const again = new Outbox("TEST");  // another page of the same browser
  const kept = again.items.map((item) => [item.key, item.dots ?? item.body.title]);
  const other = new Outbox("OTHER").size;

  const calls = [];
  const states = [];
  const dropped = [];
  let fail = { code: "network", status: 0 };
  const sender = createSender(again, {
    send: async (item) => {
      calls.push(item.key);
      if (fail) throw fail;
      if (item.kind === "suggestion") {
        const error = { code: "wrong_phase", status: 409, message: "closed" };
        throw error;
      }
      return { ok: item.key };
    },
    onSent: () => {},
    onDropped: (item, error) => dropped.push([item.key, error.message]),
    onState: (state) => states.push(state),
  });
  await sender.flush();  // no network: stops at the first item, keeps everything
  const afterFailure = again.size;
  fail = null;
  await sender.flush();
  return {
    kept, other, afterFailure, calls, states, dropped, left: again.size,
    stored: localStorage.getItem("workshop-outbox:TEST"),
    newerKept: newer.dots,
    verdicts: [
      verdict({ code: "network" }), verdict({ code: "timeout" }), verdict({ status: 502 }),
      verdict({ status: 429 }), verdict({ status: 409 }), verdict({ status: 400 }),
    ],
  };
}
"""


def test_the_outbox_keeps_the_last_wish_per_key_in_local_storage(server, page):
    page.goto(f"{server.url}/login")
    result = page.evaluate(OUTBOX_SCRIPT)
    assert result["kept"] == [["dots:1", 2], ["card:a", "A"]]
    assert result["other"] == 0  # one outbox per event
    assert result["afterFailure"] == 2
    assert result["calls"] == ["dots:1", "dots:1", "card:a"]
    assert result["states"] == ["sending", "offline", "sending", "idle"]
    assert result["dropped"] == [["card:a", "closed"]]
    assert result["left"] == 0
    assert result["stored"] is None  # an empty outbox leaves nothing behind
    assert result["verdicts"] == ["retry", "retry", "retry", "later", "drop", "drop"]


# -- accessibility ------------------------------------------------------------------------------


def test_waiting_and_refused_entries_pass_axe(server, phone, staff, axe_source):  # noqa: F811
    open_attendee(phone, server)
    go_offline(phone)
    file_card(phone, "Wartet noch")
    file_card(phone, "Wird abgelehnt", area_id=None)
    expect(phone.locator("#waiting-cards .card")).to_have_count(2)
    assert axe_violations(phone, axe_source) == []

    staff("PATCH", json={"phase": "cluster"}, status=200)
    phone.context.set_offline(False)
    expect(phone.locator("#outbox-problems li")).to_have_count(2)
    assert axe_violations(phone, axe_source) == []


LIVE_REFUSED_RESYNC_SCRIPT = """
async () => {
  const { follow } = await import("/static/js/live.js");
  const handlers = {};
  window.__emitted = [];
  const socket = {
    on: (name, fn) => (handlers[name] = fn),
    emit: (name, callback) => window.__emitted.push([name, callback]),
    connected: true, id: "one", active: true, close() {},
  };
  const live = follow({ code: "X", role: "board", connect: () => socket, onUpdate: () => {} });
  window.__live = { live, handlers };
  handlers.snapshot({ seq: 1, event: {}, suggestions: [] });
  handlers.change({ seq: 3, type: "removed", data: { id: 9 } });  // seq 2 was lost
  const [name, answer] = window.__emitted[0];
  answer({ error: { code: "rate_limited", message: "Too many requests." } });
  return name;
}
"""


def test_live_asks_again_when_a_resync_was_refused(server, page):
    """A refused resync (rate limit) is asked again later, not left waiting (fake socket)."""
    page.goto(f"{server.url}/login")
    assert page.evaluate(LIVE_REFUSED_RESYNC_SCRIPT) == "resync"
    page.wait_for_function("() => window.__emitted.length === 2", timeout=10_000)
    # Answered this time (a snapshot follows): no third request.
    page.evaluate("window.__emitted[1][1](undefined); window.__live.live.close()")
    assert page.evaluate("window.__emitted.map(([name]) => name)") == ["resync", "resync"]
