import requests


def test_run_py_serves_demo_event(server):
    assert server.demo_code, server.output
    event = requests.get(f"{server.url}/api/v1/events/{server.demo_code}", timeout=5).json()
    assert len(event["areas"]) == 8
    assert event["areas"][0]["name"] == "Willkommensstruktur und interkulturelle Öffnung"
