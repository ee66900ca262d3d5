"""Hostile text everywhere it is shown: several hundred XSS payloads (tests/data/xss_payloads.txt)
filed as titles and details by participants, and used as area names, event texts and staff names,
rendered in headless Chromium on every page that shows them. Nothing may run, nothing may be
parsed as markup, every text must read exactly as it was stored, and the exports must neutralise
spreadsheet formulas.

Every browser test runs twice: once under the app's Content Security Policy (which must not report
a single violation: a violation means some markup got into the page) and once with the policy
switched off in the browser, so that the escaping alone is tested: there any injected handler
would really run and set `window.__xss` or open a dialog.
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from helpers import as_shown
from openpyxl import load_workbook
from playwright.sync_api import Browser, Page, expect

from workshop.validation import visible

from .conftest import ADMIN_PASSWORD, Server

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

CORPUS = Path(__file__).resolve().parents[1] / "data" / "xss_payloads.txt"
#: The server's length limits: card title and details, area name, event title and question,
#: staff user name; and the most areas an event may have.
TITLE_MAX, BODY_MAX, AREA_MAX = 140, 1000, 100
EVENT_TITLE_MAX, QUESTION_MAX, USERNAME_MAX = 200, 1000, 64
AREAS_MAX = 30
#: Cards each participant files: half the server's limit of 10 a minute, so that the author
#: can add its pending ones at once (the limit is per phone; many phones share the corpus).
CARDS_EACH = 5
SUBMIT_LIMIT = 10
STAFF_PASSWORD = "xss-staff-password"
#: What the exports must never begin a text cell with (OWASP: CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def load_corpus() -> dict[str, list[str]]:
    """The payloads by section. Split on "\\n" only: U+2028 and U+2029 belong to payloads."""
    sections: dict[str, list[str]] = {}
    name = ""
    for line in CORPUS.read_text(encoding="utf-8").split("\n"):
        if line.startswith("##"):
            name = line.lstrip("# ")
        elif line:
            sections.setdefault(name, []).append(line)
    return sections


SECTIONS = load_corpus()
PAYLOADS = [payload for payloads in SECTIONS.values() for payload in payloads]


def stored(text: str) -> str:
    """A text as the server keeps it: without the invisible characters that change how it reads
    (bidi overrides, zero-width spaces …: workshop/validation.py `visible`), NFC, stripped."""
    return unicodedata.normalize("NFC", visible(text.replace("\r\n", "\n"))).strip()


def fits(text: str, limit: int, multiline: bool = False) -> bool:
    """Whether the server takes this text: it removes invisible characters, strips it,
    normalises it to NFC and refuses control characters (bodies may keep line breaks and tabs),
    the two characters XML forbids (U+FFFE, U+FFFF: they would corrupt the XLSX export) and texts
    over the limit."""
    value = stored(text)
    allowed = {"\n", "\t"} if multiline else set()
    controls = any(unicodedata.category(c) == "Cc" and c not in allowed for c in value)
    return 0 < len(value) <= limit and not controls and not set(value) & {"\ufffe", "\uffff"}


def spread(items: list, count: int) -> list:
    """`count` items taken evenly from the whole list, so that every section is represented."""
    if count >= len(items):
        return list(items)
    return [items[math.floor(i * len(items) / count)] for i in range(count)]


def first(section: str, predicate) -> str:
    return next(payload for payload in SECTIONS[section] if predicate(payload))


# -- the API, as staff and as participants ------------------------------------------------------


class Api:
    """JSON calls under /api/v1 with an optional bearer token; `expect` checks the status."""

    def __init__(self, server: Server, token: str | None = None) -> None:
        self.url = f"{server.url}/api/v1"
        self.token = token
        self.session = requests.Session()

    def call(self, method: str, path: str, json=None, expect: int | None = 200):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = self.session.request(
            method, self.url + path, json=json, headers=headers, timeout=60
        )
        if expect is not None:
            assert response.status_code == expect, (method, path, json, response.text)
        return response

    def json(self, method: str, path: str, json=None, expect: int = 200):
        return self.call(method, path, json, expect).json()

    def close(self) -> None:
        self.session.close()


def form_login(session: requests.Session, server: Server, username: str, password: str) -> None:
    """Log a requests session in through the HTML login form, as a browser would."""
    page = session.get(f"{server.url}/login", timeout=10)
    response = session.post(
        f"{server.url}/login",
        data={"csrf_token": csrf_of(page.text), "username": username, "password": password},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code in (302, 303), response.text


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


# -- the world the pages show -------------------------------------------------------------------


@dataclass
class World:
    """One server holding the payloads everywhere, and what each page should therefore show."""

    server: Server
    staff: Api
    staff_name: str  # a payload: the admin account that runs the event
    usernames: list[str]
    code: str
    cards: dict[int, dict] = field(default_factory=dict)  # every card as staff see it
    author_token: str = ""  # the participant whose cards the attendee page shows as its own
    author_cards: set[int] = field(default_factory=set)
    extra_codes: list[str] = field(default_factory=list)
    storage_state: dict | None = None  # a browser logged in as `staff_name`
    refused: list[str] = field(default_factory=list)  # payloads refused as titles
    phones: list[Api] = field(default_factory=list)

    def phone(self, token: str | None = None) -> Api:
        """A participant's connection (closed with the world)."""
        api = Api(self.server, token)
        self.phones.append(api)
        return api

    def close(self) -> None:
        for api in [self.staff, *self.phones]:
            api.close()

    def event(self, code: str | None = None) -> dict:
        return self.staff.json("GET", f"/events/{code or self.code}")

    def refresh(self) -> None:
        listed = self.staff.json("GET", f"/events/{self.code}/suggestions")["suggestions"]
        self.cards = {card["id"]: card for card in listed}

    def set(self, code: str | None = None, **changes) -> dict:
        return self.staff.json("PATCH", f"/events/{code or self.code}", changes)

    def public_cards(self) -> list[dict]:
        return [card for card in self.cards.values() if card["status"] == "visible"]

    def event_texts(self, code: str | None = None) -> list[str]:
        event = self.event(code)
        return [event["title"], *event["question"].split("\n"), *area_names(event)]


def area_names(event: dict) -> list[str]:
    return [area["name"] for area in event["areas"]]


def card_texts(cards: list[dict]) -> list[str]:
    return [text for card in cards for text in (card["title"], card["body"]) if text]


@pytest.fixture(scope="module")
def world(tmp_path_factory, browser) -> Iterator[World]:
    # One admin sets up and visits everything within minutes: far more than a real moderator's
    # 300 requests a minute (the limits themselves are tested in tests/test_rate_limits.py).
    server = Server(
        tmp_path_factory.mktemp("xss"),
        extra_env={"WORKSHOP_RATELIMIT_DEVICE": "100000 per minute"},
    )
    world = None
    try:
        world = build_world(server, browser)
        yield world
    finally:
        if world:
            world.close()
        server.stop()


def build_world(server: Server, browser: Browser) -> World:
    """Payloads everywhere: staff names, events, areas, cards, merges, votes and the log."""
    usernames, staff = staff_accounts(server)

    # The main event: 29 payload areas now, a 30th later (so that "area created" is logged).
    area_payloads = [p for p in PAYLOADS if fits(p, AREA_MAX)]
    main_areas = spread(area_payloads, AREAS_MAX)
    rest_areas = [p for p in area_payloads if p not in main_areas]
    settings = {
        "vote_budget": 30,
        "max_dots_per_suggestion": 5,
        "max_suggestions_per_participant": CARDS_EACH,
        "hide_counts_while_voting": False,
    }
    event = staff.json(
        "POST",
        "/events",
        {
            "title": first("template syntax and format strings", lambda p: p.startswith("${{")),
            "question": first("markdown and links", lambda p: fits(p, QUESTION_MAX)),
            "areas": main_areas[:-1],
            "settings": settings,
            "phase": "collect",
        },
        expect=201,
    )
    world = World(server, staff, usernames[0], usernames, event["code"])

    # Every payload that fits is a title; the rest must be refused as titles.
    titles = [p for p in PAYLOADS if fits(p, TITLE_MAX)]
    world.refused = [p for p in PAYLOADS if not fits(p, TITLE_MAX)]
    area_ids = [area["id"] for area in event["areas"]]
    tokens, filed = file_cards(world, card_requests(titles, area_ids))
    world.author_token = tokens[0]
    world.author_cards = {card["id"] for card in filed[0][1]}
    refuse_titles(world)
    staff_work(world, sorted(card["id"] for card in filed[1][1]), main_areas[-1], titles)
    file_pending_breakouts(world, titles)
    vote_everywhere(world, tokens)
    world.extra_codes = extra_events(staff, rest_areas)
    world.storage_state = staff_browser_state(browser, server, world.staff_name)
    return world


def staff_accounts(server: Server) -> tuple[list[str], Api]:
    """Staff accounts named with payloads, made through the admin page; the API of the first."""
    # The first one is an admin and runs everything in the world, so that its name reaches the
    # activity log and the staff bar.
    usernames = [
        first(section, lambda p: fits(p, USERNAME_MAX))
        for section in (
            "script tags and breakouts",
            "event handler attributes",
            "template syntax and format strings",
            "bidi, invisible and unusual characters",
            "spreadsheet formulas",
        )
    ]
    admin = requests.Session()
    form_login(admin, server, "admin", ADMIN_PASSWORD)
    for index, name in enumerate(usernames):
        page = admin.get(f"{server.url}/admin/users", timeout=10)
        role = "admin" if index == 0 else "moderator"
        answer = admin.post(
            f"{server.url}/admin/users",
            data={
                "csrf_token": csrf_of(page.text),
                "username": name,
                "password": STAFF_PASSWORD,
                "role": role,
            },
            allow_redirects=False,
            timeout=10,
        )
        assert answer.status_code in (302, 303), answer.text
    admin.close()
    token = requests.post(
        f"{server.url}/api/v1/auth/token",
        json={"username": usernames[0], "password": STAFF_PASSWORD},
        timeout=10,
    )
    assert token.status_code == 200, token.text
    return usernames, Api(server, token.json()["token"])


def card_requests(titles: list[str], area_ids: list[int]) -> list[dict]:
    """A card for every title, the details spread over them, in every area and in none."""
    # Every payload that fits is a detail (several to a card, one a line, where there are more
    # details than cards).
    bodies: list[list[str]] = [[] for _ in titles]
    details = sorted((p for p in PAYLOADS if fits(p, BODY_MAX, multiline=True)), key=len)
    # Longest first, so that each long one gets a card of its own.
    for index, payload in enumerate(reversed(details)):
        # The next card, or else the first one with room left for it.
        slots = [bodies[index % len(titles)], *bodies]
        slot = next(s for s in slots if len("\n".join([*s, payload])) <= BODY_MAX)
        slot.append(payload)
    work = [
        {
            "client_id": str(uuid.uuid4()),
            "title": title,
            "body": "\n".join(body),
            "area_id": ([*area_ids, None])[index % (len(area_ids) + 1)],
        }
        for index, (title, body) in enumerate(zip(titles, bodies, strict=True))
    ]
    assert all(fits(item["body"], BODY_MAX, multiline=True) for item in work if item["body"])
    return work


def file_cards(world: World, work: list[dict]) -> tuple[list[str], list[tuple[str, list[dict]]]]:
    """Participants file the cards, CARDS_EACH each; their tokens, and each one's cards."""
    code = world.code
    batches = [work[i : i + CARDS_EACH] for i in range(0, len(work), CARDS_EACH)]

    def file(batch: list[dict]) -> tuple[str, list[dict]]:
        phone = world.phone()
        phone.token = phone.json("POST", f"/events/{code}/participants", expect=201)["token"]
        return phone.token, [
            phone.json("POST", f"/events/{code}/suggestions", body, expect=201) for body in batch
        ]

    with ThreadPoolExecutor(max_workers=6) as pool:
        filed = list(pool.map(file, batches))
    for item, card in zip(work, (card for _, cards in filed for card in cards), strict=True):
        # Stored as sent, up to the normalisation every text gets.
        assert card["title"] == stored(item["title"]), card
    return [token for token, _ in filed], filed


def refuse_titles(world: World) -> None:
    """Payloads that cannot be titles are refused with a validation error, never stored or a 500."""
    code = world.code
    for index, payload in enumerate(world.refused):
        if index % SUBMIT_LIMIT == 0:
            phone = world.phone()
            phone.token = phone.json("POST", f"/events/{code}/participants", expect=201)["token"]
        body = {"client_id": str(uuid.uuid4()), "title": payload}
        answer = phone.json("POST", f"/events/{code}/suggestions", body, expect=400)
        assert answer["error"]["code"] == "validation_error", answer


def staff_work(world: World, ids: list[int], last_area: str, titles: list[str]) -> None:
    """Staff edit, move, hide and merge cards and retitle the event, all with payloads."""
    # On cards that are not the author's, so that payloads reach the activity log and the
    # merged lists.
    staff, code = world.staff, world.code
    staff.json("POST", f"/events/{code}/areas", {"name": last_area}, expect=201)
    area_ids = [area["id"] for area in world.event()["areas"]]
    edited, moved, hidden, source, target = ids[:5]
    staff.json("PATCH", f"/events/{code}/suggestions/{edited}", {"title": titles[-1]})
    staff.json("PATCH", f"/events/{code}/suggestions/{moved}", {"area_id": area_ids[-1]})
    staff.json("PATCH", f"/events/{code}/suggestions/{hidden}", {"status": "hidden"})
    staff.json("POST", f"/events/{code}/suggestions/{source}/merge", {"into": target})
    staff_card = {"client_id": "staff-1", "title": titles[1], "body": titles[2]}
    staff.json("POST", f"/events/{code}/suggestions", staff_card, expect=201)
    # Breaks out of <title> and <textarea>, if anything can.
    title = first("script tags and breakouts", lambda p: "</title>" in p)
    assert fits(title, EVENT_TITLE_MAX)
    world.set(
        title=title,
        question="\n".join(
            [
                first("script tags and breakouts", lambda p: "</textarea>" in p),
                first("template syntax and format strings", lambda p: p == "{{7*7}}"),
                first("bidi, invisible and unusual characters", lambda p: "\u202e" in p),
            ]
        ),
    )


def file_pending_breakouts(world: World, titles: list[str]) -> None:
    """The author files a few more under pre-moderation: they wait, shown only to the author."""
    # Shown from the page's JSON data block, so `</script>` in them is a real test.
    world.set(settings={"moderation": "pre", "max_suggestions_per_participant": SUBMIT_LIMIT})
    author = world.phone(world.author_token)
    breakouts = [p for p in titles if "</script" in p.lower()][: SUBMIT_LIMIT - CARDS_EACH]
    for payload in breakouts:
        body = {"client_id": str(uuid.uuid4()), "title": payload, "body": payload}
        card = author.json("POST", f"/events/{world.code}/suggestions", body, expect=201)
        assert card["status"] == "pending"
        world.author_cards.add(card["id"])


def vote_everywhere(world: World, tokens: list[str]) -> None:
    """Votes on many cards, so that every area has a ranking and the top ten are payloads."""
    code = world.code
    world.set(phase="vote")
    world.refresh()
    public = sorted(card["id"] for card in world.public_cards())

    def vote(index_token: tuple[int, str]) -> None:
        index, token = index_token
        phone = world.phone(token)
        for k in range(6):
            card = public[(index * 11 + k * 37) % len(public)]
            phone.json("PUT", f"/events/{code}/suggestions/{card}/dots", {"dots": 5 - k % 3})

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(vote, enumerate(tokens)))
    world.set(phase="collect")
    world.refresh()


def extra_events(staff: Api, rest_areas: list[str]) -> list[str]:
    """Every other payload that fits an area name names an area of another event; their codes."""
    codes = []
    for start in range(0, len(rest_areas), AREAS_MAX):
        chunk = rest_areas[start : start + AREAS_MAX]
        extra = staff.json(
            "POST",
            "/events",
            {"title": chunk[0], "question": chunk[-1], "areas": chunk, "phase": "collect"},
            expect=201,
        )
        codes.append(extra["code"])
    return codes


def staff_browser_state(browser: Browser, server: Server, username: str) -> dict:
    """A browser session of the payload-named admin, for the staff pages."""
    context = browser.new_context(locale="de-DE")
    page = context.new_page()
    page.goto(f"{server.url}/login")
    page.fill("#username", username)
    page.fill("#password", STAFF_PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(re.compile(r"/moderate/"))
    state = context.storage_state()
    context.close()
    return state


# -- looking at a page --------------------------------------------------------------------------

#: Runs before any of the page's scripts: records Content Security Policy violations.
WATCH = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__violations.push(
    [event.violatedDirective, event.blockedURI, event.sample].filter(Boolean).join(" "));
});
"""

#: Every element the app itself puts on its pages; anything else came from a payload.
APP_TAGS = [
    *("html", "head", "meta", "title", "link", "script", "body", "noscript", "img", "svg", "rect"),
    *("header", "main", "footer", "nav", "section", "article", "aside", "div", "p", "span", "a"),
    *("h1", "h2", "h3", "h4", "ul", "ol", "li", "dl", "dt", "dd", "strong", "small", "em", "br"),
    *("table", "thead", "tbody", "tr", "th", "td", "time", "abbr", "details", "summary"),
    *("form", "input", "button", "label", "select", "option", "textarea", "fieldset", "legend"),
    *("dialog", "path", "wbr"),
]

#: Markup that made it into the DOM: unknown elements, handlers, foreign or script URLs.
DOM_PROBLEMS = """
(allowed) => {
  const known = new Set(allowed);
  const urls = new Set(["href", "src", "action", "formaction", "data", "poster", "background",
    "srcdoc", "srcset", "xlink:href", "ping", "codebase", "cite", "longdesc", "dynsrc", "lowsrc",
    "manifest", "icon"]);
  const problems = [];
  for (const el of document.querySelectorAll("*")) {
    const tag = el.localName;
    if (!known.has(tag)) problems.push(`<${tag}>`);
    for (const attr of el.attributes) {
      const name = attr.name.toLowerCase();
      if (name.startsWith("on")) problems.push(`<${tag} ${name}>`);
      // The pages' empty icon, which spares browsers a request for /favicon.ico.
      if (tag === "link" && el.rel === "icon" && attr.value === "data:,") continue;
      if (urls.has(name)) {
        let url = null;
        try { url = new URL(attr.value, document.baseURI); } catch {}
        if (!url || url.origin !== location.origin) problems.push(`<${tag} ${name}=${attr.value}>`);
      }
      if (name === "style" && /url\\(|expression|javascript|binding|behavior/i.test(attr.value)) {
        problems.push(`<${tag} style=${attr.value}>`);
      }
    }
    if (tag === "script" && !el.src && el.type !== "application/json") problems.push("<script>");
    if (tag === "img" && !el.classList.contains("qr")) problems.push(`<img ${el.src}>`);
    if (tag === "meta" && el.httpEquiv) problems.push(`<meta http-equiv=${el.httpEquiv}>`);
    // Texts written by people are shown in elements marked dir=auto that hold text only
    // (links and buttons of the app also carry icons).
    if (el.getAttribute("dir") === "auto" && el.children.length && !["a", "button"].includes(tag)) {
      problems.push(`<${tag} dir=auto> holds <${el.children[0].localName}>`);
    }
  }
  if (document.baseURI !== location.href.split("#")[0]) problems.push(`base ${document.baseURI}`);
  return problems;
}
"""

#: The text a person can read (text nodes and form fields, not scripts), one piece per node.
TEXTS = """
(selector) => {
  const root = document.querySelector(selector);
  const parts = [];
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    // The board's soft hyphens are for display only: the text itself must read literally.
    if (!node.parentElement.closest("script, style, template")) {
      parts.push(node.data.replaceAll("\u00ad", ""));
    }
  }
  for (const input of root.querySelectorAll("input, textarea")) parts.push(input.value);
  return parts;
}
"""

#: Bidi controls that leak out of the element holding them into text around it.
BIDI_LEAKS = """
() => {
  const controls = /[\\u202a-\\u202e\\u2066-\\u2069]/;
  const leaks = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!controls.test(node.data) || node.parentElement.closest("script, style")) continue;
    for (let el = node.parentElement; el; el = el.parentElement) {
      const style = getComputedStyle(el);
      if (style.display === "none") break;
      if (["isolate", "isolate-override", "plaintext"].includes(style.unicodeBidi)) break;
      if (style.display !== "inline" && style.display !== "contents") {
        if (el.textContent.trim() !== node.data.trim()) {
          const text = JSON.stringify(el.textContent.slice(0, 60));
          leaks.push(`<${el.localName} class="${el.className}">: ${text}`);
        }
        break;
      }
    }
  }
  return leaks;
}
"""

#: Texts written by people that stick out of their box, and a page wider than the window.
OVERFLOW = """
() => {
  const wide = [];
  const root = document.documentElement;
  if (root.scrollWidth > root.clientWidth + 1) {
    // Name the innermost elements that reach past the window's edge.
    const out = [...document.body.querySelectorAll("*")].filter(
      (el) => el.getBoundingClientRect().right > root.clientWidth + 1);
    const innermost = out.filter((el) => !out.some((other) => other !== el && el.contains(other)));
    const names = innermost.slice(0, 5).map(
      (el) => `<${el.localName} id="${el.id}" class="${el.className}">`);
    wide.push(`page ${root.scrollWidth} > ${root.clientWidth}: ${names.join(", ")}`);
  }
  for (const el of document.querySelectorAll("[dir=auto]")) {
    if (["INPUT", "TEXTAREA", "SELECT", "OPTION"].includes(el.tagName)) continue;
    const style = getComputedStyle(el);
    if (style.display === "inline" || !el.clientWidth) continue;
    // Shortened on purpose, with an ellipsis or after a number of lines.
    if (style.textOverflow === "ellipsis" || style.webkitLineClamp !== "none") continue;
    if (el.scrollWidth > el.clientWidth + 1) {
      const text = JSON.stringify(el.textContent.slice(0, 40));
      const sizes = `${el.scrollWidth} > ${el.clientWidth}`;
      wide.push(`<${el.localName} class="${el.className}"> ${sizes}: ${text}`);
    }
  }
  return wide;
}
"""

#: Two frames and a task: handlers queued by what was just drawn have had their turn.
SETTLE = """
() => new Promise((done) =>
  requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 0))))
"""


@dataclass
class Visit:
    """One page in its own browser context, and everything it did that it should not have."""

    page: Page
    csp: bool
    origin: str
    dialogs: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    checked: int = 0

    def watch(self) -> None:
        self.page.on("dialog", self._dialog)
        self.page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        self.page.on("console", self._console)
        self.page.on("request", self._request)

    def _dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    def _console(self, message) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    def _request(self, request) -> None:
        if not request.url.startswith(self.origin):
            self.foreign_requests.append(request.url)

    def check(self, where: str, texts: list[str], root: str = "body") -> None:
        """Assert that nothing ran or was injected, and that every text reads literally."""
        page = self.page
        page.evaluate(SETTLE)
        sentinels = page.evaluate(
            "() => [window.__xss, top.__xss, globalThis.__xss, ({}).__xss, document.__xss]"
        )
        assert sentinels == [None] * 5, f"{where}: a payload ran: {sentinels}"
        assert self.dialogs == [], f"{where}: a payload opened a dialog: {self.dialogs}"
        problems = page.evaluate(DOM_PROBLEMS, APP_TAGS)
        assert problems == [], f"{where}: markup from payloads in the page: {problems[:20]}"
        self.violations = page.evaluate("() => window.__violations")
        assert self.violations == [], f"{where}: CSP violations: {self.violations[:20]}"
        assert self.page_errors == [], f"{where}: script errors: {self.page_errors[:5]}"
        assert self.foreign_requests == [], f"{where}: requests elsewhere: {self.foreign_requests}"
        shown = page.evaluate(TEXTS, root)
        # Soft hyphens are invisible, and the board adds its own (display only): compared without.
        missing = [
            text
            for text in dict.fromkeys(texts)
            if not any(text.replace("\u00ad", "") in p for p in shown)
        ]
        assert missing == [], (
            f"{where}: {len(missing)} of {len(set(texts))} texts not shown literally, e.g. "
            f"{[text[:80] for text in missing[:8]]}"
        )
        leaks = page.evaluate(BIDI_LEAKS)
        assert leaks == [], f"{where}: bidi controls leak into other text: {leaks[:10]}"
        wide = page.evaluate(OVERFLOW)
        assert wide == [], f"{where}: text wider than its box: {wide[:10]}"
        self.checked += len(set(texts))

    def report(self, name: str) -> None:
        print(
            f"\n{name} (CSP {'enforced' if self.csp else 'off'}): {self.checked} texts checked, "
            f"{len(self.violations)} CSP violations, {len(self.console_errors)} console errors"
            + (f" {self.console_errors[:3]}" if self.console_errors else "")
        )


@contextmanager
def visit(
    browser: Browser,
    world: World,
    path: str,
    *,
    csp: bool,
    staff: bool = False,
    participant: str | None = None,
    code: str | None = None,
    size: tuple[int, int] = (1280, 900),
    status: int | None = 200,
) -> Iterator[Visit]:
    """Open `path` in a fresh context (as the payload admin, or as a participant's phone);
    `status` None: a refusal (4xx)."""
    context = browser.new_context(
        locale="de-DE",
        viewport={"width": size[0], "height": size[1]},
        bypass_csp=not csp,
        storage_state=world.storage_state if staff else None,
    )
    if participant:
        context.add_cookies(
            [
                {
                    "name": f"workshop_{code or world.code}",
                    "value": participant,
                    "url": world.server.url,
                }
            ]
        )
    context.add_init_script(WATCH)
    page = context.new_page()
    seen = Visit(page, csp, world.server.url)
    seen.watch()
    try:
        response = page.goto(world.server.url + path, timeout=180_000)
        if status is None:
            assert 400 <= response.status < 500, (path, response.status)
        else:
            assert response.status == status, (path, response.status)
        yield seen
        seen.report(path)
    finally:
        context.close()


@pytest.fixture(params=["csp", "no-csp"])
def csp(request) -> bool:
    return request.param == "csp"


def literally(locator, text: str) -> None:
    """The element reads exactly `text` (as rendered text, not only in the DOM); the board's soft
    hyphens in long words (display only) aside."""
    expect(locator).to_have_text(as_shown(text))
    assert locator.inner_text().replace("\u00ad", "") == text, (locator, text)


def samples(cards: list[dict]) -> list[dict]:
    """A few cards whose titles would do harm if parsed or evaluated, for exact comparisons."""
    wanted = [
        lambda t: t.lower().startswith("<script>"),
        lambda t: t.startswith("&lt;script&gt;"),
        lambda t: t == "{{7*7}}",
        lambda t: t.startswith("${"),
        lambda t: t.startswith("[click me](javascript:"),
        # (Bidi overrides and zero-width spaces are removed when a text is stored:
        # tests/test_invisible_text.py.)
        lambda t: t.startswith("<svg onload="),
        lambda t: t.startswith("=cmd"),
    ]
    picked = []
    for matches in wanted:
        card = next(c for c in cards if matches(c["title"]) and "  " not in c["title"])
        picked.append(card)
    return picked


# -- the pages ----------------------------------------------------------------------------------


def test_attendee_page_in_every_phase(world, browser, csp):
    world.set(phase="collect", display={"screen": "board", "spotlight": None})
    world.refresh()
    own = [world.cards[card_id] for card_id in world.author_cards]
    assert {card["status"] for card in own} == {"visible", "pending"}
    shown = world.public_cards() + [card for card in own if card["status"] == "pending"]
    code = world.code
    with visit(
        browser, world, f"/j/{code}", csp=csp, participant=world.author_token, size=(412, 915)
    ) as seen:
        page = seen.page
        for phase in ("collect", "vote"):
            world.set(phase=phase)
            expect(page.locator("body")).to_have_class(re.compile(rf"\bphase-{phase}\b"))
            # While voting the cards sit in groups by area (issue 17): count the cards.
            expect(page.locator("#cards .card")).to_have_count(len(shown))
            seen.check(f"attendee page, {phase}", world.event_texts() + card_texts(shown))
            # A full room's groups start closed while voting: open them to read each card.
            for summary in page.locator("#cards details > summary").all():
                if not summary.evaluate("node => node.parentElement.open"):
                    summary.click()
            for card in samples(world.public_cards()):
                literally(page.locator(f"#card-title-{card['id']}"), card["title"])
        # Own pending cards came from the page's JSON data block: reload to read them from there.
        page.reload()
        expect(page.locator("#cards .card")).to_have_count(len(shown))
        seen.check("attendee page, reloaded", card_texts(own))
        # In `results` the phone reloads into the results page (issue 18), with its own cards.
        world.set(phase="results")
        expect(page.locator("#top-ten")).to_be_visible()
        seen.check("results page", [world.event()["title"], *(card["title"] for card in own)])
        for card in own:
            literally(page.locator(f'.fate[data-id="{card["id"]}"] .card-title'), card["title"])
        for card in samples(world.public_cards()):
            literally(
                page.locator(f'#per-area li[data-id="{card["id"]}"] .card-title'), card["title"]
            )


def test_board_on_every_screen(world, browser, csp):
    world.set(phase="collect", display={"screen": "board", "spotlight": None, "timer_seconds": 0})
    world.refresh()
    public = world.public_cards()
    with visit(browser, world, f"/board/{world.code}", csp=csp, size=(1920, 1080)) as seen:
        page = seen.page
        columns = page.locator("#columns")
        expect(columns).to_have_attribute("aria-busy", "false")
        expect(page.locator(".board-card")).to_have_count(len(public))
        texts = world.event_texts() + card_texts(public)
        seen.check("board, collecting", texts)
        for card in samples(public):
            literally(page.locator(f"#card-{card['id']} .card-title"), card["title"])

        world.set(phase="vote")
        expect(page.locator(".board-card .badge-dots").first).to_be_visible()
        seen.check("board, voting", texts)

        world.set(display={"screen": "join"})
        expect(page.locator("#screen-join")).to_be_visible()
        event = world.event()
        seen.check("board, join screen", [event["title"], event["question"]], root="#screen-join")

        spotlit = max(
            (card for card in public if card["area_id"] is not None),
            key=lambda card: len(card["body"]),
        )
        world.set(display={"screen": "board", "spotlight": spotlit["id"], "timer_seconds": 300})
        expect(page.locator("#spotlight-card")).to_have_attribute("data-id", str(spotlit["id"]))
        area = next(a["name"] for a in event["areas"] if a["id"] == spotlit["area_id"])
        seen.check("board, spotlight", [*card_texts([spotlit]), area], root="#spotlight")
        literally(page.locator("#spotlight .spotlight-title"), spotlit["title"])

        world.set(phase="results", display={"screen": "results", "spotlight": None})
        expect(page.locator("#results-body")).to_be_visible()
        results = world.staff.json("GET", f"/events/{world.code}/results")
        expect(page.locator("#results-top > li")).to_have_count(len(results["top"]))
        ranked = [entry["title"] for entry in results["top"]] + [
            text
            for area in results["areas"]
            for text in [area["name"], *(entry["title"] for entry in area["suggestions"][:3])]
            if text
        ]
        seen.check("board, results screen", ranked, root="#screen-results")
        world.set(phase="collect", display={"screen": "board", "timer_seconds": 0})


def test_moderator_console(world, browser, csp):
    world.set(phase="collect", display={"screen": "board", "spotlight": None})
    world.refresh()
    shown = [c for c in world.cards.values() if c["status"] in ("visible", "hidden", "pending")]
    originals = [o["title"] for card in shown for o in card.get("merged_originals", [])]
    assert originals, "the seeding merged a card"
    with visit(browser, world, f"/moderate/{world.code}", csp=csp, staff=True) as seen:
        page = seen.page
        expect(page.locator("#mcolumns")).to_have_attribute("aria-busy", "false")
        expect(page.locator(".mcard")).to_have_count(len(shown))
        expect(page.locator("#audit-entries > li").first).to_be_visible()
        texts = world.event_texts()[:1] + area_names(world.event()) + card_texts(shown)
        seen.check("console", texts + originals + [world.staff_name])
        for card in samples(world.public_cards()):
            literally(page.locator(f"#mcard-{card['id']} .card-title"), card["title"])

        # A card's menu names the card, its area and every area it could move to.
        card = next(c for c in world.public_cards() if c["area_id"] is not None)
        page.locator(f"#mcard-{card['id']} .menu-button").click()
        expect(page.locator("#card-menu")).to_be_visible()
        seen.check("console, card menu", [card["title"], *area_names(world.event())], "#card-menu")
        page.keyboard.press("Escape")

        # The spotlight line names the card on the board.
        world.set(display={"spotlight": card["id"]})
        literally(page.locator("#spotlight-title"), card["title"])
        world.set(display={"spotlight": None})
        seen.check("console, after the spotlight", texts)


STAFF_PAGES = {
    "plain": "/moderate/{code}/plain",
    "settings": "/moderate/{code}/settings",
    "report": "/events/{code}/report",
    "dashboard": "/moderate/",
    "users": "/admin/users",
}


@pytest.mark.parametrize("name", STAFF_PAGES)
def test_server_rendered_staff_pages(world, browser, csp, name):
    world.set(phase="results")
    world.refresh()
    event = world.event()
    visible = [card for card in world.cards.values() if card["status"] == "visible"]
    results = world.staff.json("GET", f"/events/{world.code}/results")
    ranked = {
        entry["id"] for area in results["areas"] for entry in area["suggestions"] if entry["dots"]
    }
    texts = {
        "plain": world.event_texts() + card_texts(list(world.cards.values())) + [world.staff_name],
        "settings": world.event_texts(),
        "report": [event["title"], event["question"], *area_names(event)]
        + [card["title"] for card in visible]
        + [card["body"] for card in visible if card["body"] and card["id"] in ranked]
        + [o["title"] for card in visible for o in card.get("merged_originals", [])],
        "dashboard": [world.event(code)["title"] for code in [world.code, *world.extra_codes]]
        + [world.staff_name],
        "users": [stored(name) for name in world.usernames],
    }[name]
    path = STAFF_PAGES[name].format(code=world.code)
    with visit(browser, world, path, csp=csp, staff=True) as seen:
        if name == "plain":
            menu = seen.page.locator("select[name=into]").first.locator("option")
            assert menu.count() >= len(world.public_cards())
        seen.check(name, texts)
    world.set(phase="collect")


def test_seat_code_pages(world, browser, csp):
    """An event that wants seat codes asks for one, showing the event's title and what was typed
    (from the address: a reflected payload); staff print the cards, each with the title."""
    code = world.extra_codes[0]
    world.set(code, settings={"seat_codes_required": True})
    title = world.event(code)["title"]
    with visit(browser, world, f"/j/{code}", csp=csp) as seen:
        seen.check("seat code page", [title])
    typed = spread([p[:40] for p in PAYLOADS if re.search("[<>\"']", p[:40])], 16)
    for payload in typed:
        path = f"/j/{code}?seat={quote(payload, safe='')}"
        with visit(browser, world, path, csp=csp, status=None) as seen:
            field = seen.page.locator("#seat")
            assert field.input_value() == payload
            seen.check(f"seat code page with {payload!r}", [title, payload])
    with visit(browser, world, f"/moderate/{code}/settings", csp=csp, staff=True) as seen:
        seen.page.fill("#seat-count", "2")
        seen.page.locator("#seats button[type=submit]").click()
        expect(seen.page.locator(".seat-card")).to_have_count(2)
        seen.check("seat sheet", [title])
    world.set(code, settings={"seat_codes_required": False})


def test_area_names_of_other_events(world, browser, csp):
    """Every payload short enough is an area name somewhere; the board draws areas with script,
    the settings page and the report with the server's templates."""
    for code in world.extra_codes:
        texts = world.event_texts(code)
        with visit(browser, world, f"/board/{code}", csp=csp, size=(1920, 1080)) as seen:
            expect(seen.page.locator("#columns")).to_have_attribute("aria-busy", "false")
            seen.check(f"board {code}", texts)
        for path in (f"/moderate/{code}/settings", f"/events/{code}/report"):
            with visit(browser, world, path, csp=csp, staff=True) as seen:
                seen.check(path, texts)


# -- exports and refusals -----------------------------------------------------------------------


def test_exports_neutralise_formulas(world):
    world.refresh()
    code = world.code
    export = world.staff.call("GET", f"/events/{code}/export?format=csv")
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig")), delimiter=";"))
    cells = [cell for row in rows for cell in row]
    xlsx = world.staff.call("GET", f"/events/{code}/export?format=xlsx")
    book = load_workbook(io.BytesIO(xlsx.content))
    texts = [
        cell.value
        for sheet in book.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if isinstance(cell.value, str)
    ]
    for name, found in (("CSV", cells), ("XLSX", texts)):
        dangerous = [text for text in found if text.startswith(FORMULA_STARTS)]
        assert dangerous == [], f"{name} cells that a spreadsheet would run: {dangerous[:10]}"
    formulas = [c["title"] for c in world.cards.values() if c["title"].startswith(FORMULA_STARTS)]
    assert len(formulas) >= 10
    for title in formulas:
        assert "'" + title in cells
        assert "'" + title in texts
    # The other formats take the same text without failing.
    assert world.staff.call("GET", f"/events/{code}/export?format=json").json()["event"]
    pdf = world.staff.call("GET", f"/events/{code}/export?format=pdf")
    assert pdf.content.startswith(b"%PDF")


def test_css_in_an_area_colour_is_refused(world):
    for colour in ("red;background:url(//evil.invalid)", "expression(alert(1))", "#1f5fa8;}*{x:y"):
        answer = world.staff.json(
            "PATCH",
            f"/events/{world.code}/areas/{world.event()['areas'][0]['id']}",
            {"color": colour},
            expect=400,
        )
        assert answer["error"]["field"] == "color"
