def test_health(client):
    assert client.get("/healthz").json == {"status": "ok"}


def test_event_roundtrip(make_event, join, submit):
    event = make_event(areas=2)
    me = join(event["code"])
    card = submit(me, event["code"], area_id=event["areas"][0]["id"])
    assert card["mine"] is True
