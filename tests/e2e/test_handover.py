"""The handover package from the report page on the real server: offered, and it downloads."""

from __future__ import annotations

import json
import zipfile

import pytest
from playwright.sync_api import expect

from .conftest import ADMIN_PASSWORD, add_card

pytestmark = [pytest.mark.e2e, pytest.mark.browser]


def test_the_report_page_offers_the_handover_package(
    server, browser, staff, areas, artifacts, tmp_path
):
    add_card(staff, "Mehr Sprachcafés", area_id=areas[0]["id"])
    staff("PATCH", "", json={"phase": "vote"}, status=200)
    staff("PATCH", "", json={"phase": "results"}, status=200)
    context = browser.new_context(
        locale="de-DE", viewport={"width": 1280, "height": 800}, accept_downloads=True
    )
    try:
        page = context.new_page()
        page.goto(f"{server.url}/login?next=/events/{server.demo_code}/report")
        page.fill("#username", "admin")
        page.fill("#password", ADMIN_PASSWORD)
        page.locator("form.stack button[type=submit]").click()
        link = page.get_by_role("link", name="Übergabepaket (ZIP)")
        expect(link).to_be_visible()
        link.focus()
        page.screenshot(path=artifacts / "issue18-handover-report-link.png")
        with page.expect_download(timeout=120_000) as started:
            link.click()
        download = started.value
        assert download.suggested_filename.endswith(".zip")
        path = tmp_path / "handover.zip"
        download.save_as(path)
    finally:
        context.close()
    with zipfile.ZipFile(path) as archive:
        names = set(archive.namelist())
        listed = {entry["name"] for entry in json.loads(archive.read("manifest.json"))["files"]}
        assert listed == names - {"manifest.json", "SHA256SUMS"}
        assert {"report.pdf", "board-protocol.html", "README.txt"} <= names
        protocol = archive.read("board-protocol.html").decode()
    assert protocol.count('<section class="change">') == 2
    # The protocol as the administration sees it: a page per phase change.
    viewer = browser.new_page(viewport={"width": 1000, "height": 1400})
    try:
        viewer.set_content(protocol)
        expect(viewer.get_by_role("heading", name="Phasenwechsel 2", exact=False)).to_be_visible()
        viewer.screenshot(path=artifacts / "issue18-handover-board-protocol.png", full_page=True)
    finally:
        viewer.close()
