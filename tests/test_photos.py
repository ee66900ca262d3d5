"""Photos of paper cards (domain/photos.py, engines/photos.py): cleaned of every piece of
metadata, shrunk, staff only, and gone with the card's event."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from PIL import Image

from workshop.clock import utcnow
from workshop.db.models import CardPhoto, Event
from workshop.engines import offhub
from workshop.engines import photos as engine
from workshop.extensions import db
from workshop.ops import retention

GPS = 0x8825
ORIENTATION = 0x0112
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


def jpeg_with_gps(size=(400, 200), orientation=6) -> bytes:
    """A camera-like JPEG: GPS position, camera make, a comment, and 'rotate 90°' in EXIF."""
    image = Image.new("RGB", size, "red")
    image.paste((0, 0, 255), (0, 0, size[0] // 2, size[1]))  # left half blue
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[0x010F] = "PhoneMaker"
    exif[GPS] = {1: "N", 2: (52.0, 31.0, 12.0), 3: "E", 4: (13.0, 24.0, 36.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"secret comment")
    return out.getvalue()


def png(size=(300, 300), mode="RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (0, 128, 0, 0) if mode == "RGBA" else "green").save(out, "PNG")
    return out.getvalue()


def bomb() -> bytes:
    """A tiny PNG whose header claims 40,000 × 40,000 pixels (its data is cut off)."""
    out = io.BytesIO()
    Image.new("1", (40_000, 40_000)).save(out, "PNG")
    return out.getvalue()[:2000]


def upload(api, code, card_id, data: bytes, name="card.jpg"):
    return api.client.put(
        f"/api/v1/events/{code}/suggestions/{card_id}/photo",
        data={"photo": (io.BytesIO(data), name)},
        headers=api._headers(),
        content_type="multipart/form-data",
    )


@pytest.fixture
def card(make_event, staff, submit):
    event = make_event()
    return event["code"], submit(staff, event["code"], "Vom Papier")["id"]


def test_a_camera_photo_comes_out_upright_small_and_without_metadata(staff, card):
    code, card_id = card
    response = upload(staff, code, card_id, jpeg_with_gps((3200, 1600)))
    assert response.status_code == 200, response.json
    photo = response.json["photo"]
    # Turned upright (EXIF orientation 6: 90° clockwise), then fitted into 1600 × 1600.
    assert (photo["width"], photo["height"]) == (800, 1600)
    assert photo["url"] == f"/api/v1/events/{code}/suggestions/{card_id}/photo"
    stored = staff.get(f"/events/{code}/suggestions/{card_id}/photo")
    assert stored.status_code == 200 and stored.mimetype == "image/jpeg"
    assert stored.headers["Cache-Control"] == "private, no-store"
    assert stored.headers["X-Content-Type-Options"] == "nosniff"
    image = Image.open(io.BytesIO(stored.data))
    assert image.size == (800, 1600)
    assert dict(image.getexif()) == {} and "exif" not in image.info
    assert not {"comment", "icc_profile", "xmp"} & set(image.info)
    for trace in (b"Exif", b"PhoneMaker", b"secret comment", b"http://ns.adobe.com/xap"):
        assert trace not in stored.data
    # The blue left half of the landscape photo is at the top once upright.
    assert image.getpixel((400, 100))[2] > 200 and image.getpixel((400, 1500))[0] > 200


def test_a_transparent_png_is_kept_on_white_as_jpeg(staff, card):
    code, card_id = card
    assert upload(staff, code, card_id, png(), "card.png").status_code == 200
    image = Image.open(io.BytesIO(staff.get(f"/events/{code}/suggestions/{card_id}/photo").data))
    assert (image.format, image.size, image.getpixel((5, 5))) == ("JPEG", (300, 300), (255,) * 3)


@pytest.mark.parametrize(
    ("data", "status", "code"),
    [
        (b"Just some text, not a photo.\n", 415, "photo_type"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", 415, "photo_type"),
        (bomb(), 413, "photo_too_large"),
        (jpeg_with_gps()[:300], 400, "photo_invalid"),
        (b"", 400, "photo_missing"),
    ],
    ids=["text-named-jpg", "heic", "bomb", "truncated", "empty"],
)
def test_what_is_no_usable_photo_is_refused_with_a_clear_error(staff, card, data, status, code):
    event_code, card_id = card
    response = upload(staff, event_code, card_id, data)
    assert (response.status_code, response.json["error"]["code"]) == (status, code)
    cards = staff.get(f"/events/{event_code}/suggestions").json["suggestions"]
    assert cards[0]["photo"] is None


def test_errors_come_in_the_callers_language(staff, card):
    code, card_id = card
    response = staff.client.put(
        f"/api/v1/events/{code}/suggestions/{card_id}/photo",
        data={"photo": (io.BytesIO(b"text"), "card.jpg")},
        headers={**staff._headers(), "Accept-Language": "de"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 415
    assert "JPEG" in response.json["error"]["message"]
    assert response.json["error"]["message"] != "Please send a photo as JPEG, PNG or WebP."


@pytest.mark.app_config(WORKSHOP_PHOTO_MAX_BYTES=50_000)
def test_an_upload_over_the_limit_is_refused(staff, card):
    code, card_id = card
    big = jpeg_with_gps() + b"\x00" * 60_000
    response = upload(staff, code, card_id, big)
    assert (response.status_code, response.json["error"]["code"]) == (413, "photo_too_large")


def test_a_photo_over_the_general_request_limit_is_taken(staff, card):
    """Every other request stays under MAX_CONTENT_LENGTH (64 KB); a photo may be larger."""
    code, card_id = card
    noise = Image.effect_noise((600, 400), 80).convert("RGB")
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=95)
    # Over 64 KB, under the 500 KB from which Werkzeug's test client spools to a file.
    assert 64 * 1024 < len(out.getvalue()) < 500_000
    assert upload(staff, code, card_id, out.getvalue()).status_code == 200


def test_replace_and_delete(staff, card):
    code, card_id = card
    upload(staff, code, card_id, png((100, 50), "RGB"), "a.png")
    assert upload(staff, code, card_id, png((60, 80), "RGB"), "b.png").json["photo"]["width"] == 60
    assert staff.delete(f"/events/{code}/suggestions/{card_id}/photo").status_code == 204
    assert staff.get(f"/events/{code}/suggestions/{card_id}/photo").status_code == 404
    assert staff.delete(f"/events/{code}/suggestions/{card_id}/photo").status_code == 404
    actions = [entry["action"] for entry in staff.get(f"/events/{code}/audit").json["entries"]]
    assert actions.count("photo_added") == 2 and actions.count("photo_removed") == 1


def test_the_photo_is_for_staff_only(app, staff, card, join, make_staff):
    code, card_id = card
    upload(staff, code, card_id, jpeg_with_gps())
    path = f"/events/{code}/suggestions/{card_id}/photo"
    participant, stranger = join(code), make_staff()
    anonymous = app.test_client()
    for api in (participant, stranger):
        assert api.get(path).status_code in (401, 403)
        assert upload(api, code, card_id, png()).status_code in (401, 403)
        assert api.delete(path).status_code in (401, 403)
    assert stranger.get(path).status_code == 403
    assert anonymous.get(f"/api/v1{path}").status_code == 401
    # Participants and the public lists never learn of it.
    public = participant.get(f"/events/{code}/suggestions").json["suggestions"]
    assert "photo" not in public[0]
    assert staff.get(path).status_code == 200


def test_a_card_of_another_event_is_not_found(staff, card, make_event):
    _code, card_id = card
    other = make_event()["code"]
    assert upload(staff, other, card_id, png()).status_code == 404
    assert staff.get(f"/events/{other}/suggestions/{card_id}/photo").status_code == 404


def test_the_staff_list_and_live_card_carry_the_photo(staff, card, listen):
    code, card_id = card
    before = staff.get(f"/events/{code}/suggestions").json["suggestions"][0]
    assert before["photo"] is None
    console = listen(code, "moderator", token=staff.token)
    console.get_received()
    upload(staff, code, card_id, png((120, 90), "RGB"))
    after = staff.get(f"/events/{code}/suggestions").json["suggestions"][0]
    assert after["photo"] == {
        "url": f"/api/v1/events/{code}/suggestions/{card_id}/photo",
        "width": 120,
        "height": 90,
    }
    changes = [m["args"][0] for m in console.get_received() if m["name"] == "change"]
    cards = [c["data"] for c in changes if c["type"] == "suggestion"]
    assert [card["photo"]["width"] for card in cards] == [120]


def photo_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(CardPhoto))


def test_deleting_the_event_deletes_its_photos(app, staff, card):
    code, card_id = card
    upload(staff, code, card_id, png())
    assert photo_rows(app) == 1
    assert staff.delete(f"/events/{code}").status_code == 204
    assert photo_rows(app) == 0


def test_the_retention_purge_deletes_the_photos(app, staff, card):
    code, card_id = card
    upload(staff, code, card_id, png())
    staff.patch(f"/events/{code}", json={"phase": "results"})
    with app.app_context():
        db.session.execute(sa.update(Event).values(updated_at=utcnow() - timedelta(days=400)))
        db.session.commit()
        assert [c for c, _ in retention.purge_expired().events] == [code]
    assert photo_rows(app) == 0


def test_the_engine_refuses_a_declared_size_over_its_pixel_limit():
    with pytest.raises(engine.PhotoError, match="pixels"):
        engine.clean(png((200, 200), "RGB"), max_pixels=100 * 100)


def test_a_logged_in_console_uploads_with_its_csrf_token(app, make_staff, make_event, submit):
    """A browser session (cookie) sends the CSRF token in a header; the form is parsed under
    the photo's limit, not the general 64 KB one."""
    owner = make_staff(username="owner")
    code = make_event(owner=owner)["code"]
    card_id = submit(owner, code)["id"]
    client = app.test_client()
    token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
    form = {"username": "owner", "password": "password-123", "csrf_token": token}
    assert client.post("/login", data=form).status_code == 302
    noise = Image.effect_noise((600, 400), 80).convert("RGB")
    out = io.BytesIO()
    noise.save(out, "JPEG", quality=95)
    path = f"/api/v1/events/{code}/suggestions/{card_id}/photo"
    data = {"photo": (io.BytesIO(out.getvalue()), "card.jpg")}
    refused = client.put(path, data=data, content_type="multipart/form-data")
    assert refused.json["error"]["code"] == "csrf_failed"
    data = {"photo": (io.BytesIO(out.getvalue()), "card.jpg")}
    response = client.put(
        path, data=data, content_type="multipart/form-data", headers={"X-CSRFToken": token}
    )
    assert response.status_code == 200, response.json


def test_decoding_and_resizing_run_off_the_hub(staff, card, monkeypatch):
    """Pillow blocks in C: under eventlet the work goes to a real thread (engines/offhub.py)."""
    ran, run = [], offhub.run

    def recorded(function, *args):
        ran.append(function)
        return run(function, *args)

    monkeypatch.setattr(offhub, "run", recorded)
    code, card_id = card
    assert upload(staff, code, card_id, png()).status_code == 200
    assert ran == [engine.clean]


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    "upload",
    [
        encoded(Image.new("RGBA", (50, 40), (1, 2, 3, 100)), "WEBP"),
        encoded(Image.new("I;16", (50, 40)), "PNG"),
        encoded(Image.new("CMYK", (50, 40)), "JPEG"),
        encoded(Image.new("P", (50, 40)), "PNG", transparency=0),
        encoded(Image.new("LA", (50, 40)), "PNG"),
    ],
    ids=["webp-alpha", "png-16-bit", "jpeg-cmyk", "png-palette", "png-grey-alpha"],
)
def test_the_engine_takes_every_mode_of_its_formats(upload):
    photo = engine.clean(upload)
    assert (photo.width, photo.height) == (50, 40)
    assert Image.open(io.BytesIO(photo.data)).mode == "RGB"


@pytest.mark.parametrize("fmt", ["GIF", "TIFF", "BMP"])
def test_the_engine_refuses_other_formats(fmt):
    with pytest.raises(engine.PhotoError, match="type"):
        engine.clean(encoded(Image.new("RGB", (50, 40)), fmt))
