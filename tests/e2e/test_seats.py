"""Seat cards in headless Chromium: the printed sheet's QR codes scan, a card's link joins once,
a second phone with the same card is refused, and a typed code works too."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from .conftest import ADMIN_PASSWORD
from .test_accessibility import axe_source, axe_violations  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

SHOWN = re.compile(r"[A-Z0-9]{5}-[A-Z0-9]{5}")


@contextmanager
def phone(browser: Browser, locale: str = "de-DE") -> Iterator[Page]:
    context = browser.new_context(locale=locale, viewport={"width": 412, "height": 915})
    try:
        yield context.new_page()
    finally:
        context.close()


@contextmanager
def sheet_of(browser: Browser, server, count: int, axe: str | None = None) -> Iterator[Page]:
    """Log in as the admin and make `count` seat cards from the settings page: the sheet.
    With `axe` (its source), the settings page is checked for WCAG 2.1 AA on the way."""
    context = browser.new_context(locale="de-DE", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{server.url}/login?next=/moderate/{server.demo_code}/settings")
    page.fill("#username", "admin")
    page.fill("#password", ADMIN_PASSWORD)
    page.locator("form.stack button[type=submit]").click()
    page.wait_for_url(re.compile(r"/settings$"))
    if axe is not None:
        assert axe_violations(page, axe) == []
    page.fill("#seat-count", str(count))
    page.locator("#seats form button[type=submit]").click()
    expect(page.locator(".seat-card")).to_have_count(count, timeout=30_000)
    try:
        yield page
    finally:
        context.close()


def decode(path: Path) -> list[str]:
    zxingcpp = pytest.importorskip("zxingcpp")
    image = pytest.importorskip("PIL.Image")
    with image.open(path) as picture:
        return sorted(found.text for found in zxingcpp.read_barcodes(picture))


def card_codes(sheet: Page) -> list[str]:
    return [SHOWN.search(text).group(0) for text in sheet.locator(".seat-code").all_inner_texts()]


def link(server, code: str) -> str:
    return f"{server.url}/j/{server.demo_code}?seat={code.replace('-', '')}"


def test_cards_scan_join_once_and_are_counted(server, browser, staff, artifacts, axe_source):  # noqa: F811
    staff("PATCH", "", json={"settings": {"seat_codes_required": True}}, status=200)
    with sheet_of(browser, server, 14, axe=axe_source) as sheet:
        codes = card_codes(sheet)
        assert len(set(codes)) == 14
        expect(sheet.locator("#print-sheet")).to_be_visible()
        assert axe_violations(sheet, axe_source) == []
        # Every card's QR code is its own join link.
        for index, card in enumerate(sheet.locator(".seat-card").all()):
            path = artifacts / f"seat-card-{index}.png"
            card.locator(".seat-qr").screenshot(path=path)
            assert decode(path) == [link(server, codes[index])]
        sheet.screenshot(path=artifacts / "seat-sheet.png", full_page=True)

    join_url = f"{server.url}/j/{server.demo_code}"
    with phone(browser) as first:
        first.goto(link(server, codes[0]))
        # Joined: the code is gone from the address, the page is live and survives a reload.
        expect(first.locator("#submit-form")).to_be_visible()
        assert first.url == join_url
        expect(first.locator("#cards")).to_have_attribute("aria-busy", "false")
        first.reload()
        expect(first.locator("#submit-form")).to_be_visible()
        expect(first.locator("#connection")).to_be_hidden()

        with phone(browser, "en-US") as second:
            second.goto(link(server, codes[0]))
            expect(second.locator("#seat-error")).to_contain_text(
                "already been used on another phone"
            )
            expect(second.locator("#seat")).to_have_attribute("aria-invalid", "true")
            expect(second.locator("#submit-form")).to_have_count(0)
            assert axe_violations(second, axe_source) == []
            second.screenshot(path=artifacts / "seat-refused.png")
            # Without the card's link (the board's QR code) the page asks for the code.
            second.goto(join_url)
            expect(second.locator("#seat-error")).to_have_count(0)
            second.fill("#seat", codes[1].lower().replace("-", " "))
            second.locator("form.stack button[type=submit]").click()
            expect(second.locator("#submit-form")).to_be_visible()
            assert second.url == join_url

    counts = staff("GET", "/seats", status=200).json()
    assert (counts["used"], counts["unused"]) == (2, 12)
    # Two phones joined; neither filed nor voted, so neither counts as a participant yet.
    assert staff("GET", "/joins", status=200).json()["participants"] == 2
    assert staff("GET", status=200).json()["counts"]["participants"] == 0


def test_the_printed_sheet_has_twelve_cards_a_page_that_scan(server, browser, tmp_path):
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        if os.environ.get("CI"):
            pytest.fail("CI must install poppler-utils (see .ci/run)")
        pytest.skip("pdftoppm (poppler-utils) is needed to read the printed sheet")
    with sheet_of(browser, server, 14) as sheet:
        codes = card_codes(sheet)
        pdf = tmp_path / "seat-sheet.pdf"
        sheet.pdf(path=pdf, prefer_css_page_size=True)
    subprocess.run([pdftoppm, "-r", "150", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) == 2
    # A4 at 150 dpi is 1240 x 1754 pixels.
    image = pytest.importorskip("PIL.Image")
    with image.open(pages[0]) as picture:
        assert picture.size == (1240, 1754)
    first, second = decode(pages[0]), decode(pages[1])
    assert (len(first), len(second)) == (12, 2)
    assert sorted(first + second) == sorted(link(server, code) for code in codes)
