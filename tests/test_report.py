"""The printable report: an HTML page for staff that obeys the CSP, and a PDF whose text lists the
ranked topics (checked with poppler's pdftotext)."""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from helpers import wait_for
from multilingual import CORRECTED, TEXTS, multilingual_event

from workshop.config import ROOT
from workshop.domain import events, queries
from workshop.results import exports, pdf


def pdf_text(pdf: bytes, tmp_path) -> str:
    """The PDF's text, read by pdftotext (Debian: poppler-utils); required when CI is set."""
    if shutil.which("pdftotext") is None:
        if os.environ.get("CI"):
            pytest.fail("pdftotext is missing: install Debian's poppler-utils")
        pytest.skip("pdftotext is not installed (Debian package poppler-utils)")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    # pdftotext marks runs of right-to-left text with Unicode direction controls.
    return re.sub("[\u200e\u200f\u202a-\u202e\u2066-\u2069]", "", text)


def page(api, path: str, language: str | None = None):
    """A staff page outside the API, with the caller's bearer token (and browser language)."""
    headers = {"Authorization": f"Bearer {api.token}"}
    if language:
        headers["Accept-Language"] = language
    return api.client.get(path, headers=headers)


@pytest.fixture
def ranked_event(staff, make_event, join, submit):
    """Area 1: Kita (3 dots), Sprachcafé (1, with a merged original); Area 2: an Arabic card
    (2 dots) and one without dots."""
    event = make_event(areas=2)
    code = event["code"]
    first, second = (area["id"] for area in event["areas"])
    people = [join(code) for _ in range(2)]
    ids = {
        "kita": submit(people[0], code, "Mehr Kita-Plätze", area_id=first)["id"],
        "cafe": submit(people[0], code, "Sprachcafé", area_id=first, body="Abends im Stadtteil")[
            "id"
        ],
        "dup": submit(people[1], code, "Sprachcafé am Abend", area_id=first)["id"],
        "arabic": submit(people[1], code, "مقهى لغوي للجيران", area_id=second)["id"],
        "zero": submit(people[1], code, "Noch ein Vorschlag 🙂", area_id=second)["id"],
    }
    assert staff.post(f"/events/{code}/suggestions/{ids['dup']}/merge", json={"into": ids["cafe"]})
    assert staff.patch(f"/events/{code}", json={"phase": "vote"}).status_code == 200
    for person, votes in zip(
        people, [{"kita": 2, "cafe": 1}, {"kita": 1, "arabic": 2}], strict=True
    ):
        for name, dots in votes.items():
            url = f"/events/{code}/suggestions/{ids[name]}/dots"
            assert person.put(url, json={"dots": dots}).status_code == 200
    assert staff.patch(f"/events/{code}", json={"phase": "results"}).status_code == 200
    return code


def test_report_page_links_its_stylesheet_and_marks_user_text(staff, ranked_event):
    response = page(staff, f"/events/{ranked_event}/report")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert re.search(r'<link rel="stylesheet" href="/static/v/[0-9a-f]+/css/report.css">', html)
    # The site's CSP forbids inline styles and scripts.
    assert "<style" not in html and "style=" not in html and "<script" not in html
    assert '<strong lang="ar" dir="rtl">مقهى لغوي للجيران</strong>' in html
    assert "Sprachcafé am Abend" in html
    assert "<svg" in html


def test_report_stylesheet_is_for_a4():
    css = (ROOT / "static" / "css" / "report.css").read_text()
    assert "size: A4" in css


def test_pdf_lists_ranks_and_titles(staff, ranked_event, tmp_path):
    response = staff.get(f"/events/{ranked_event}/export?format=pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=plenum-")
    text = pdf_text(response.data, tmp_path)
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    areas = lines[lines.index("Area 1") :]
    ranked = [line for line in areas if re.match(r"^\d+\. ", line)]
    assert ranked == [
        "1. Mehr Kita-Plätze",
        "2. Sprachcafé",
        "1. مقهى لغوي للجيران",
    ]
    assert any("Sprachcafé am Abend" in line for line in lines)
    assert any("Noch ein Vorschlag" in line for line in lines)
    assert text.index("Noch ein Vorschlag") > text.index("مقهى لغوي للجيران")


def test_report_pdf_route_shows_the_pdf_inline(staff, ranked_event):
    response = page(staff, f"/events/{ranked_event}/report.pdf")
    assert response.status_code == 200
    assert response.data.startswith(b"%PDF-")
    assert response.headers["Content-Disposition"].startswith("inline; filename=")


def test_report_refuses_anonymous_callers(client, ranked_event):
    assert client.get(f"/events/{ranked_event}/report.pdf").status_code == 401


def kept_reports(app) -> list:
    return sorted((Path(app.config["WORKSHOP_REPORT_CACHE"])).glob("*.pdf"))


def test_pdf_is_kept_until_the_results_change(app, staff, ranked_event, tmp_path):
    first = staff.get(f"/events/{ranked_event}/export?format=pdf").data
    assert len(kept_reports(app)) == 1
    # Unchanged results: the kept file, byte for byte (its export time is when it was made).
    assert staff.get(f"/events/{ranked_event}/export?format=pdf").data == first

    results = staff.get(f"/events/{ranked_event}/results").get_json()
    kita = next(
        card
        for area in results["areas"]
        for card in area["suggestions"]
        if card["title"] == "Mehr Kita-Plätze"
    )
    hidden = staff.patch(
        f"/events/{ranked_event}/suggestions/{kita['id']}", json={"status": "hidden"}
    )
    assert hidden.status_code == 200

    second = staff.get(f"/events/{ranked_event}/export?format=pdf").data
    assert second != first
    assert "Mehr Kita-Plätze" in pdf_text(first, tmp_path)
    assert "Mehr Kita-Plätze" not in pdf_text(second, tmp_path)
    # Only the newest report of an event and language stays on disk.
    assert len(kept_reports(app)) == 1


def test_reports_are_kept_per_language(app, staff, ranked_event):
    german = staff.get(f"/events/{ranked_event}/export?format=pdf")
    english = staff.get(
        f"/events/{ranked_event}/export?format=pdf", headers={"Accept-Language": "en"}
    )
    assert german.data != english.data
    assert [path.name.split("-")[2] for path in kept_reports(app)] == ["de", "en"]


def test_opening_the_report_prepares_the_pdf(app, staff, ranked_event):
    app.config["WORKSHOP_PREPARE_REPORTS"] = True
    assert page(staff, f"/events/{ranked_event}/report").status_code == 200
    kept = wait_for(lambda: kept_reports(app), timeout=60)
    # The download is the prepared file, not a second rendering.
    assert staff.get(f"/events/{ranked_event}/export?format=pdf").data == kept[0].read_bytes()


def test_deleting_an_event_removes_its_kept_reports(app, staff, ranked_event):
    assert staff.get(f"/events/{ranked_event}/export?format=pdf").status_code == 200
    assert kept_reports(app)
    assert staff.delete(f"/events/{ranked_event}").status_code == 204
    assert kept_reports(app) == []


def test_the_pdf_is_made_outside_the_server_process(app, staff, ranked_event, monkeypatch):
    # WeasyPrint would hold the live server for seconds; the server itself never imports it.
    monkeypatch.delitem(sys.modules, "weasyprint", raising=False)
    assert staff.get(f"/events/{ranked_event}/export?format=pdf").data.startswith(b"%PDF-")
    assert "weasyprint" not in sys.modules


def test_the_results_phase_prepares_the_pdf(app, staff, make_event, join, submit):
    app.config["WORKSHOP_PREPARE_REPORTS"] = True
    code = make_event(areas=1)["code"]
    submit(join(code), code, "Mehr Kita-Plätze")
    assert staff.patch(f"/events/{code}", json={"phase": "vote"}).status_code == 200
    assert kept_reports(app) == []  # only the results phase prepares the report
    assert staff.patch(f"/events/{code}", json={"phase": "results"}).status_code == 200
    kept = wait_for(lambda: kept_reports(app), timeout=60)
    assert "-de-" in kept[0].name  # in the event's default language
    assert staff.get(f"/events/{code}/export?format=pdf").data == kept[0].read_bytes()


# -- languages and translations ----------------------------------------------------------------


@pytest.fixture
def multilingual(app, staff, join, submit):
    return multilingual_event(app, staff, join, submit)


def report(api, code: str, language: str | None = None) -> str:
    response = page(api, f"/events/{code}/report", language)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_report_gives_cards_in_the_default_language_with_the_original_beside(staff, multilingual):
    html = report(staff, multilingual.code)
    # A machine translation, marked, beside the Arabic original, which reads right to left.
    assert '<strong lang="de" dir="ltr">Sprachcafé für die Nachbarschaft</strong>' in html
    assert "Original (Arabisch)" in html
    assert '<p lang="ar" dir="rtl"><strong>مقهى لغوي للجيران</strong></p>' in html
    assert '<p class="body" lang="ar" dir="rtl">كل مساء في الحي</p>' in html
    assert '<p class="mark">Maschinelle Übersetzung</p>' in html
    # A person's translation, beside the Persian original.
    assert f'<strong lang="de" dir="ltr">{CORRECTED["title"]}</strong>' in html
    assert '<p class="mark">Übersetzung von der Moderation korrigiert</p>' in html
    assert '<p lang="fa" dir="rtl"><strong>کلاس‌های زبان آلمانی برای سالمندان</strong></p>' in html
    # A merged original in German, marked, with the Arabic after it.
    assert '<span lang="de" dir="ltr">Mehr Kindergärten</span> <span class="mark">' in html
    assert '<span lang="ar" dir="rtl">روضة أطفال أكثر</span>' in html
    # Written in German, of unknown language, or translated from an older text: as written.
    assert '<strong lang="de" dir="ltr">Mehr Kita-Plätze</strong>' in html
    assert '<strong dir="auto">Alte Karte ohne Sprache</strong>' in html
    assert '<span lang="en" dir="ltr">More bike lanes</span>' in html
    assert "Veraltete Übersetzung" not in html
    assert "المزيد من أماكن الحضانة" not in html  # the German card's Arabic translation
    assert html.count("Original (") == 3


def test_report_in_another_language_of_the_event_uses_its_translations(staff, multilingual):
    html = report(staff, multilingual.code, "en")
    assert f'<p class="question" lang="en" dir="auto">{TEXTS["question"]["en"]}</p>' in html
    assert '<span lang="en" dir="auto">Children</span>' in html
    assert '<span lang="de" dir="auto">Sprache</span>' in html  # not translated: as named
    assert '<strong lang="en" dir="ltr">Language café for neighbours</strong>' in html
    assert "Original (Arabic)" in html
    # Without an English translation the Persian card shows as written.
    assert '<strong lang="fa" dir="rtl">کلاس‌های زبان آلمانی برای سالمندان</strong>' in html
    assert CORRECTED["title"] not in html

    arabic = report(staff, multilingual.code, "ar")
    assert '<html lang="ar" dir="rtl">' in arabic
    assert f'<p class="question" lang="ar" dir="auto">{TEXTS["question"]["ar"]}</p>' in arabic
    assert '<strong lang="ar" dir="rtl">المزيد من أماكن الحضانة</strong>' in arabic
    assert '<p lang="de" dir="ltr"><strong>Mehr Kita-Plätze</strong></p>' in arabic


def test_report_in_a_language_the_event_does_not_work_in_gives_the_default(staff, multilingual):
    settings = {"settings": {"languages": ["de", "ar", "fa"]}}
    assert staff.patch(f"/events/{multilingual.code}", json=settings).status_code == 200
    html = report(staff, multilingual.code, "en")
    assert '<strong lang="de" dir="ltr">Sprachcafé für die Nachbarschaft</strong>' in html
    assert "Original (Arabic)" in html


def test_pdf_gives_translations_with_the_original_beside_them(staff, multilingual, tmp_path):
    response = staff.get(f"/events/{multilingual.code}/export?format=pdf")
    assert response.status_code == 200
    text = pdf_text(response.data, tmp_path)
    lines = [" ".join(line.split()) for line in text.splitlines() if line.strip()]
    ranked = [line for line in lines[lines.index("Kinder") :] if re.match(r"^\d+\. ", line)]
    # The original's label stands beside the translated title, on its line.
    assert ranked == [
        "1. Mehr Kita-Plätze",
        "1. Sprachcafé für die Nachbarschaft Original (Arabisch)",
        f"2. {CORRECTED['title']} Original (Persisch)",
        "3. Alte Karte ohne Sprache",
    ]
    for shown in (
        "مقهى لغوي للجيران",
        "Maschinelle Übersetzung",
        "Übersetzung von der Moderation korrigiert",
        "Mehr Kindergärten (Maschinelle Übersetzung) Original (Arabisch): روضة أطفال أكثر",
        "More bike lanes",
    ):
        assert any(shown in line for line in lines), shown
    assert "Veraltete Übersetzung" not in text


# -- hardening: one render at a time, a memory bound, back-off, private files, deletion -------


def cache(app) -> Path:
    return Path(app.config["WORKSHOP_REPORT_CACHE"])


def failing_render(calls: list):
    def render(html: str, css: Path) -> bytes:
        calls.append(html)
        raise pdf.RenderError("killed")

    return render


def test_a_failed_render_answers_503_and_backs_off(app, staff, ranked_event, monkeypatch):
    calls: list = []
    monkeypatch.setattr(pdf, "render", failing_render(calls))
    url = f"/events/{ranked_event}/export?format=pdf"
    first = staff.get(url)
    assert first.status_code == 503
    assert first.get_json()["error"]["code"] == "report_unavailable"
    assert first.headers["Retry-After"] == "60"
    # Within the back-off no new render is tried.
    second = staff.get(url)
    assert second.status_code == 503 and 0 < int(second.headers["Retry-After"]) <= 60
    assert len(calls) == 1
    # Once it has passed, the next failure doubles it.
    backoff = next(cache(app).glob("event-*.backoff"))
    backoff.write_text(backoff.read_text().replace('"until": ', '"until": 1, "was": '))
    assert staff.get(url).headers["Retry-After"] == "120"
    assert len(calls) == 2
    # A render that succeeds ends the back-off.
    monkeypatch.undo()
    backoff.write_text(backoff.read_text().replace('"until": ', '"until": 1, "was": '))
    assert staff.get(url).status_code == 200
    assert not list(cache(app).glob("*.backoff"))


def test_a_failed_render_is_a_page_in_the_users_language(staff, ranked_event, monkeypatch):
    monkeypatch.setattr(pdf, "render", failing_render([]))
    response = page(staff, f"/events/{ranked_event}/report.pdf", language="en")
    assert response.status_code == 503
    assert response.mimetype == "text/html"
    assert response.headers["Retry-After"] == "60"
    assert "Please try again in 60 seconds" in response.get_data(as_text=True)


@pytest.mark.app_config(WORKSHOP_REPORT_MEMORY_MB=64)
def test_the_memory_bound_stops_a_render_that_needs_more(app, staff, ranked_event):
    # 64 MiB of address space is not enough even to load WeasyPrint: the child fails cleanly.
    response = staff.get(f"/events/{ranked_event}/export?format=pdf")
    assert response.status_code == 503
    assert list(cache(app).glob("*.pdf")) == []
    with app.app_context():
        app.config["WORKSHOP_REPORT_MEMORY_MB"] = 0
        assert pdf.render("<p>x</p>", pdf.stylesheet()).startswith(b"%PDF-")


def test_a_render_waits_for_the_one_running_in_another_process(app, staff, ranked_event):
    folder = cache(app)
    folder.mkdir(parents=True, exist_ok=True)
    # Another server process sharing the folder holds the render lock (flock is per open file).
    handle = os.open(folder / pdf.LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(handle, fcntl.LOCK_EX)
    try:
        with (
            app.app_context(),
            pytest.raises(pdf.Unavailable),
            pdf.render_slot(folder, wait=0.3),
        ):
            pytest.fail("two renders at once")
    finally:
        os.close(handle)
    with app.app_context(), pdf.render_slot(folder, wait=0.3):
        pass  # free again


def test_one_render_at_a_time_in_the_process(app):
    folder = cache(app)
    folder.mkdir(parents=True, exist_ok=True)
    refused: list = []

    def second() -> None:
        try:
            with pdf.render_slot(folder, wait=0.3):
                refused.append(False)
        except pdf.Unavailable as error:
            refused.append(error.retry_after)

    with pdf.render_slot(folder, wait=0.3):
        worker = threading.Thread(target=second)
        worker.start()
        worker.join(timeout=30)
    assert refused == [30]


def test_the_report_folder_is_private(app, staff, ranked_event):
    folder = cache(app)
    folder.mkdir(mode=0o755, parents=True)
    os.chmod(folder, 0o755)
    assert staff.get(f"/events/{ranked_event}/export?format=pdf").status_code == 200
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    files = list(folder.iterdir())
    assert files and all(stat.S_IMODE(path.stat().st_mode) == 0o600 for path in files)


def event_id(app, code: str) -> int:
    with app.app_context():
        return events.get_event(code).id


def test_a_render_of_an_event_deleted_meanwhile_is_discarded(app, staff, ranked_event, monkeypatch):
    number = event_id(app, ranked_event)
    real = pdf.render

    def render_while_deleted(html: str, css: Path) -> bytes:
        content = real(html, css)
        pdf.on_event_deleted(None, event_id=number)  # the signal arrives while the child runs
        return content

    monkeypatch.setattr(pdf, "render", render_while_deleted)
    response = staff.get(f"/events/{ranked_event}/export?format=pdf")
    assert response.status_code == 404
    assert sorted(path.name for path in cache(app).iterdir()) == [
        f"deleted-{number}",
        pdf.LOCK_FILE,
    ]


def test_a_report_read_after_a_deletion_is_kept(app, staff, ranked_event):
    # The mark of a deleted event only discards renders of content read before it.
    pdf_dir = cache(app)
    with app.app_context():
        pdf.on_event_deleted(None, event_id=event_id(app, ranked_event))
    assert staff.get(f"/events/{ranked_event}/export?format=pdf").status_code == 200
    assert len(list(pdf_dir.glob("*.pdf"))) == 1


@pytest.mark.app_config(WORKSHOP_REPORT_DETAIL_LIMIT=1)
def test_a_large_report_lists_the_best_cards_and_counts_the_rest(staff, ranked_event):
    html = page(staff, f"/events/{ranked_event}/report").get_data(as_text=True)
    assert "Mehr Kita-Plätze" in html and "مقهى لغوي للجيران" in html
    # Sprachcafé (ranked second) and the card without dots are counted, not listed.
    assert "Abends im Stadtteil" not in html and "Noch ein Vorschlag" not in html
    assert html.count("1 more suggestion of this area is not listed here.") == 0  # German page
    assert html.count("1 weiterer Vorschlag dieses Bereichs ist hier nicht aufgeführt.") == 2
    assert "CSV" in html
    csv_file = staff.get(f"/events/{ranked_event}/export?format=csv").data.decode("utf-8-sig")
    assert "Abends im Stadtteil" in csv_file and "Noch ein Vorschlag" in csv_file


def test_snapshot_ranks_agree_with_the_live_results(app, ranked_event):
    with app.test_request_context():
        event = events.get_event(ranked_event)
        live = {
            card["id"]: card["rank"]
            for area in queries.results(event)["areas"]
            for card in area["suggestions"]
            if card["dots"]
        }
        snap = exports.snapshot(event)
        totals = queries.results(event)["totals"]
    assert {card.id: card.rank for card in snap.cards.values() if card.rank} == live
    assert snap.totals == totals


# -- issue 17: the overall top ten on the first page; withdrawn cards left out -------------------


def pdf_page(pdf: bytes, tmp_path, number: int) -> str:
    """The text of one page of the PDF (pdftotext, as `pdf_text`)."""
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext is not installed (Debian package poppler-utils)")
    path = tmp_path / "report.pdf"
    path.write_bytes(pdf)
    command = ["pdftotext", "-layout", "-f", str(number), "-l", str(number), str(path), "-"]
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout


TOP_TITLE = "Vorschlag Nummer {:02d}"


@pytest.fixture
def twelve_ranked(staff, make_event, join, submit):
    """Three areas, twelve cards with 12 to 1 dots and long titles, and a withdrawn card."""
    event = make_event(areas=3, vote_budget=100, max_dots_per_suggestion=20)
    code, areas = event["code"], [area["id"] for area in event["areas"]]
    person = join(code)
    ids = [
        submit(
            staff,  # a participant may file only a few cards a minute
            code,
            TOP_TITLE.format(number) + ": mehr Begegnung im Stadtteil für alle Generationen",
            area_id=areas[number % 3],
            body="Ein Treffpunkt, an dem Nachbarinnen und Nachbarn einander kennenlernen.",
        )["id"]
        for number in range(1, 13)
    ]
    gone = submit(person, code, "Zurückgezogener Vorschlag", area_id=areas[0])["id"]
    withdraw = person.patch(f"/events/{code}/suggestions/{gone}", json={"status": "withdrawn"})
    assert withdraw.status_code == 200, withdraw.json
    assert staff.patch(f"/events/{code}", json={"phase": "vote"}).status_code == 200
    for number, card in enumerate(ids, 1):
        url = f"/events/{code}/suggestions/{card}/dots"
        assert person.put(url, json={"dots": 13 - number}).status_code == 200
    assert staff.patch(f"/events/{code}", json={"phase": "results"}).status_code == 200
    return code


def test_pdf_gives_the_overall_top_ten_on_its_first_page(staff, twelve_ranked, tmp_path):
    pdf = staff.get(f"/events/{twelve_ranked}/export?format=pdf").data
    first = pdf_page(pdf, tmp_path, 1)
    assert "Plätze 1 bis 10 über alle Themenbereiche" in first
    places = [first.index(TOP_TITLE.format(number)) for number in range(1, 11)]
    assert places == sorted(places)
    assert TOP_TITLE.format(11) not in first
    # The first page is used, not left two-thirds empty after the figures (as it was).
    assert len([line for line in first.splitlines() if line.strip()]) >= 28


def test_the_areas_follow_a_short_top_ten_on_the_first_page(staff, ranked_event, tmp_path):
    first = pdf_page(staff.get(f"/events/{ranked_event}/export?format=pdf").data, tmp_path, 1)
    lines = [" ".join(line.split()) for line in first.splitlines() if line.strip()]
    # No page of its own for the title: the first area starts under the top ten.
    assert lines.index("Area 1") > next(i for i, line in enumerate(lines) if "Kita" in line)


def test_withdrawn_cards_are_not_in_the_report(staff, twelve_ranked, tmp_path):
    html = page(staff, f"/events/{twelve_ranked}/report").get_data(as_text=True)
    assert TOP_TITLE.format(1) in html and "Zurückgezogener Vorschlag" not in html
    pdf = staff.get(f"/events/{twelve_ranked}/export?format=pdf").data
    assert "Zurückgezogener Vorschlag" not in pdf_text(pdf, tmp_path)


def test_the_report_gives_times_in_the_events_time_zone(app, staff, ranked_event):
    html = page(staff, f"/events/{ranked_event}/report").get_data(as_text=True)
    assert "(Europe/Berlin)" in html and "(UTC)" not in html


# -- issue 18: balanced voting in the rules paragraph -----------------------------------------


def test_the_method_names_the_dots_per_area_cap_where_there_is_one(staff, make_event):
    capped = make_event(areas=2, vote_budget=6, max_dots_per_area=3)["code"]
    html = report(staff, capped, "de")
    assert "konnte jede Person höchstens 3 Punkte auf die Vorschläge eines Themenbereichs" in html
    assert "at most 3 dots on the suggestions of one area" in report(staff, capped, "en")
    assert "eines Themenbereichs geben" not in report(staff, make_event(areas=2)["code"], "de")
