"""Static URLs versioned and kept a year, responses compressed, pages revalidated (assets.py)."""

from __future__ import annotations

import gzip
import re

import brotli
import pytest
from flask import Response, stream_with_context, url_for

from workshop.config import ROOT
from workshop.web import assets
from workshop.web.security import HEADERS

STATIC = ROOT / "static"
YEAR = "max-age=31536000"


def decoded(response) -> bytes:
    encoding = response.headers.get("Content-Encoding")
    if encoding == "br":
        return brotli.decompress(response.data)
    if encoding == "gzip":
        return gzip.decompress(response.data)
    assert encoding is None, encoding
    return response.data


def static_url(app, filename: str) -> str:
    with app.test_request_context():
        return url_for("static", filename=filename)


def test_static_urls_carry_the_folder_version(app, client, make_event):
    version = app.config["WORKSHOP_STATIC_VERSION"]
    assert re.fullmatch(r"[0-9a-f]{12}", version)
    assert static_url(app, "js/participant.js") == f"/static/v/{version}/js/participant.js"
    code = make_event()["code"]
    html = client.get(f"/j/{code}").get_data(as_text=True)
    assert f'href="/static/v/{version}/css/app.css"' in html
    assert f'src="/static/v/{version}/js/participant.js"' in html
    assert "/static/css/" not in html and "/static/js/" not in html


def test_any_changed_file_changes_the_version(tmp_path):
    (tmp_path / "js").mkdir()
    (tmp_path / "js" / "a.js").write_text("export const a = 1;\n")
    (tmp_path / "b.css").write_text("body {}\n")
    before = assets.folder_version(tmp_path)
    assert assets.folder_version(tmp_path) == before
    (tmp_path / "js" / "a.js").write_text("export const a = 2;\n")
    changed = assets.folder_version(tmp_path)
    assert changed != before
    (tmp_path / "js" / "c.js").write_text("")
    assert assets.folder_version(tmp_path) != changed


@pytest.mark.parametrize(
    ("accept", "encoding"), [("gzip", "gzip"), ("gzip, deflate, br, zstd", "br"), ("", None)]
)
def test_versioned_static_files_are_kept_a_year_and_compressed(app, client, accept, encoding):
    for filename in ("js/participant.js", "css/app.css", "vendor/socket.io/socket.io.esm.min.js"):
        response = client.get(static_url(app, filename), headers={"Accept-Encoding": accept})
        assert response.status_code == 200
        cache_control = response.headers["Cache-Control"]
        assert YEAR in cache_control and "immutable" in cache_control and "public" in cache_control
        assert response.headers.get("Content-Encoding") == encoding
        assert decoded(response) == (STATIC / filename).read_bytes()
        if encoding:
            assert len(response.data) < len(decoded(response)) / 2
        assert "Accept-Encoding" in response.headers["Vary"]
        # Cookies never change a static file: no Vary on them, and none set.
        assert "Cookie" not in response.headers["Vary"]
        assert "Set-Cookie" not in response.headers


def test_unversioned_and_stale_static_urls_are_revalidated(app, client):
    for url in ("/static/js/dom.js", "/static/v/0123456789ab/js/dom.js"):
        response = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-cache"
        assert decoded(response) == (STATIC / "js" / "dom.js").read_bytes()


def test_modules_import_each_other_under_the_same_version(app, client):
    # Relative imports resolve against the importing module's URL, version included.
    url = static_url(app, "js/live.js")
    script = decoded(client.get(url)).decode()
    imported = re.search(r'from "(\.\./vendor/socket\.io/[^"]+)"', script).group(1)
    resolved = url.rsplit("/", 2)[0] + imported.removeprefix("..")
    assert resolved == static_url(app, "vendor/socket.io/socket.io.esm.min.js")
    assert client.get(resolved).status_code == 200


def test_static_files_answer_if_none_match(app, client):
    url = static_url(app, "css/app.css")
    for accept in ("br", ""):
        first = client.get(url, headers={"Accept-Encoding": accept})
        etag = first.headers["ETag"]
        again = client.get(url, headers={"Accept-Encoding": accept, "If-None-Match": etag})
        assert again.status_code == 304
        assert again.data == b""
        assert YEAR in again.headers["Cache-Control"]


def test_missing_static_file_is_a_plain_404(app, client):
    response = client.get(static_url(app, "js/nothing-here.js"))
    assert response.status_code == 404
    assert YEAR not in response.headers.get("Cache-Control", "")


def test_pages_are_revalidated_and_the_attendee_page_is_not_stored(app, client, make_event):
    for path in ("/", "/accessibility", "/login"):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "no-cache"
    code = make_event()["code"]
    assert client.get(f"/j/{code}").headers["Cache-Control"] == "no-store"


def test_compressed_responses_keep_the_security_headers(app, client, make_event):
    code = make_event()["code"]
    urls = [f"/j/{code}", "/", static_url(app, "js/participant.js"), f"/api/v1/events/{code}"]
    for url in urls:
        for accept in ("gzip", "br"):
            response = client.get(url, headers={"Accept-Encoding": accept})
            assert response.status_code == 200, url
            assert response.headers.get("Content-Encoding") == accept, url
            for name, value in HEADERS.items():
                assert response.headers.get(name) == value, (url, name)


def test_pages_are_compressed_each_for_itself(client, make_event):
    # The compressed copies kept for static files must never stand in for a page.
    for code in (make_event()["code"], make_event()["code"]):
        response = client.get(f"/j/{code}", headers={"Accept-Encoding": "br"})
        assert response.headers["Content-Encoding"] == "br"
        assert f'"code": "{code}"' in decoded(response).decode()


def test_streamed_responses_are_left_alone(app):
    @app.get("/test-stream")
    def stream():
        def rows():
            for number in range(200):
                yield f"<p>row {number}</p>\n"

        return Response(stream_with_context(rows()), mimetype="text/html")

    response = app.test_client().get("/test-stream", headers={"Accept-Encoding": "gzip, br"})
    assert response.is_streamed
    assert "Content-Encoding" not in response.headers
    assert response.get_data(as_text=True).count("<p>row") == 200
