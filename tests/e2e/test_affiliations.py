"""Who supports what (issue 18) in the browser: a 390×844 phone answers the one question in
German and in Arabic (axe clean), is not asked again after a reload, and the moderator sets the
list of groups on the settings page with the suggested list as a start."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .test_accessibility import axe_source, axe_violations, settings_page
from .test_phone import phone

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

__all__ = ["axe_source"]  # the fixture, shared with test_accessibility

GROUPS = ["Verwaltung", "Verein oder Initiative", "Migrantenorganisation", "Bildung"]


@pytest.mark.parametrize(
    ("language", "question", "skip", "thanks"),
    [
        (
            "de",
            "Zu welcher Gruppe gehörst du?",
            "Möchte ich nicht sagen",
            "Danke für deine Antwort.",
        ),
        ("ar", "إلى أي مجموعة تنتمي؟", "أفضّل عدم الإجابة", "شكرًا على إجابتك."),
    ],
)
def test_the_phone_asks_once_which_group(
    server, browser, staff, artifacts, axe_source, language, question, skip, thanks
):
    staff("PATCH", json={"settings": {"affiliations": GROUPS}}, status=200)
    with phone(browser, server, language) as page:
        panel = page.locator("#affiliation")
        expect(panel.get_by_role("heading")).to_have_text(question)
        expect(panel.get_by_role("radio")).to_have_count(len(GROUPS) + 1)
        expect(panel.get_by_label(skip)).to_be_visible()
        # Sending without a choice says what is missing and sends nothing.
        page.locator("#affiliation-send").click()
        expect(page.locator("#affiliation-error")).to_be_visible()
        panel.get_by_label("Bildung").check()
        panel.screenshot(path=artifacts / f"issue18-affiliation-choice-{language}.png")
        assert axe_violations(page, axe_source) == []
        page.locator("#affiliation-send").click()
        expect(page.locator("#affiliation-done")).to_have_text(thanks)
        expect(panel).to_have_count(0)
        page.screenshot(path=artifacts / f"issue18-affiliation-answered-{language}.png")
        # Asked once: a reload shows no question, and the server kept the answer.
        page.reload()
        expect(page.locator("#cards")).to_have_attribute("aria-busy", "false")
        expect(page.locator("#affiliation")).to_have_count(0)
        me = page.evaluate(
            "code => fetch(`/api/v1/events/${code}/me`).then(r => r.json())", server.demo_code
        )
        assert (me["affiliation"], me["affiliation_answered"]) == ("Bildung", True)


def test_no_list_no_question(server, browser, staff):
    with phone(browser, server, "de") as page:
        expect(page.locator("#submit-section")).to_be_visible()
        expect(page.locator("#affiliation")).to_have_count(0)


def test_the_moderator_sets_the_groups_on_the_settings_page(
    server, browser, staff, artifacts, axe_source
):
    with settings_page(browser, server) as page:
        field = page.get_by_label("Gruppen, eine pro Zeile")
        expect(field).to_have_value("")
        page.get_by_role("button", name="Vorgeschlagene Liste verwenden").click()
        expect(field).to_have_value(
            "Verwaltung\nVerein oder Initiative\nMigrantenorganisation\nBildung\nPrivatperson"
        )
        page.locator("#affiliations button[type=submit]").click()
        expect(page.locator("#affiliations-list")).to_have_value(
            "Verwaltung\nVerein oder Initiative\nMigrantenorganisation\nBildung\nPrivatperson"
        )
        assert staff("GET", status=200).json()["settings"]["affiliations"][0] == "Verwaltung"
        page.locator("#affiliations").scroll_into_view_if_needed()
        page.locator("#affiliations").screenshot(
            path=artifacts / "issue18-affiliation-settings.png"
        )
        assert axe_violations(page, axe_source) == []
