"""What similar cards cost: CPU per card, time from submit to hint for bursts, the duplicates
query on big events, and the model's memory.

    python benchmarks/similarity_benchmark.py [--bursts 10 100] [--sizes 500 2000]

1. CPU per card: the local model embeds realistic cards (title only, and title with a body) in
   this process, one thread, as the server does.
2. Bursts: a real `python run.py` under eventlet; N cards are filed at once (10 threads), then
   the time until the last one is analysed (`pending` 0) and until an attendee typing its text
   gets it as a hint. Meanwhile a client asks `/healthz` back to back: how the hub answered.
3. The duplicates query at 500 and 2,000 cards (vectors inserted directly, as the analyser stores
   them), in process.
4. Memory: the resident size of this process before and after loading the model and embedding.

Prints figures; it never asserts a timing.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.realserver import Server  # noqa: E402

TITLES = [
    "Deutschkurse mit Kinderbetreuung",
    "دورات اللغة الألمانية للأمهات مع رعاية الأطفال",
    "Anerkennung ausländischer Berufsabschlüsse beschleunigen",
    "Більше безкоштовних юридичних консультацій для біженців",
    "Бесплатные курсы немецкого языка по вечерам",
    "کلاس‌های زبان آلمانی برای سالمندان",
    "More affordable housing for refugee families",
    "Sportvereine für Mädchen öffnen",
]
BODY = (
    "Viele Eltern können nicht an den Kursen teilnehmen, weil es keine Betreuung für kleine "
    "Kinder gibt; Kurse am Vormittag mit Betreuung im Nebenraum würden helfen."
)


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_per_card() -> None:
    before = rss_mb()
    from workshop.engines.embeddings import LocalE5
    from workshop.engines.neighbours import CARD_KIND

    engine = LocalE5(threads=1)
    loaded = rss_mb()
    print("## CPU per card (one thread)")
    for label, texts in (
        ("title only", TITLES * 8),
        ("title and body", [f"{t}. {BODY}" for t in TITLES] * 8),
    ):
        engine.embed(texts[:2], CARD_KIND)  # warm
        start = time.process_time()
        engine.embed(texts, CARD_KIND)
        cpu = (time.process_time() - start) / len(texts)
        print(f"{label:>16}: {cpu * 1000:6.1f} ms CPU per card ({len(texts)} cards)")
    print("## Memory")
    after = rss_mb()
    print(
        f"before the model {before:.0f} MB, loaded {loaded:.0f} MB, after embedding {after:.0f} MB"
    )


def burst(server: Server, count: int, round_: int) -> None:
    phone = requests.Session()
    phone_token = phone.post(f"{server.url}/api/v1/events/{server.code}/participants").json()
    phone.headers["Authorization"] = f"Bearer {phone_token['token']}"
    texts = [f"{TITLES[i % len(TITLES)]} ({round_}-{i})" for i in range(count)]
    slowest, answers, stop = [0.0], [0], threading.Event()

    def probe() -> None:
        with requests.Session() as session:
            while not stop.is_set():
                start = time.perf_counter()
                session.get(f"{server.url}/healthz", timeout=60)
                slowest[0] = max(slowest[0], time.perf_counter() - start)
                answers[0] += 1

    def file(text: str) -> None:
        body = {"client_id": str(uuid.uuid4()), "title": text}
        server.api("POST", "/suggestions", json=body).raise_for_status()

    prober = threading.Thread(target=probe, daemon=True)
    prober.start()
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=10) as pool:
        list(pool.map(file, texts))
    filed = time.perf_counter() - start
    while server.api("GET", "/duplicates").json()["pending"]:
        time.sleep(0.02)
    analysed = time.perf_counter() - start
    similar = f"{server.url}/api/v1/events/{server.code}/similar"
    while not phone.post(similar, json={"text": texts[-1]}, timeout=60).json()["similar"]:
        time.sleep(0.02)
    hinted = time.perf_counter() - start
    stop.set()
    prober.join()
    print(
        f"{count:>5} cards: filed in {filed:5.2f} s, all analysed after {analysed:5.2f} s, "
        f"the last one a hint after {hinted:5.2f} s; the hub answered {answers[0] / hinted:5.0f}"
        f" times a second meanwhile (slowest {slowest[0] * 1000:.0f} ms)"
    )


def bursts(counts: list[int]) -> None:
    print("## Bursts: submit to hint (real server, eventlet)")
    with tempfile.TemporaryDirectory() as directory:
        server = Server(Path(directory), WORKSHOP_EMBEDDINGS="local")
        try:
            for round_, count in enumerate(counts):
                burst(server, count, round_)
        finally:
            server.stop()


def duplicates_query(sizes: list[int]) -> None:
    from flask_migrate import upgrade

    from workshop import create_app
    from workshop.db.models import CardVector, Event, Suggestion
    from workshop.domain import similarity
    from workshop.engines import neighbours
    from workshop.extensions import db

    print("## The duplicates query (in process)")
    rng = np.random.default_rng(1)
    for size in sizes:
        with tempfile.TemporaryDirectory() as directory:
            app = create_app(
                {
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{directory}/d.sqlite3",
                    "SECRET_KEY": "bench",
                    "WORKSHOP_EMBEDDINGS": "local",
                }
            )
            with app.app_context():
                upgrade()
                event = Event(code="BENCH1", title="Bench")
                db.session.add(event)
                db.session.flush()
                model = app.extensions[similarity.EXTENSION].engine.name
                # Clustered vectors, so that there are pairs above the threshold to sort.
                centres = rng.normal(size=(size // 4, 384))
                for i in range(size):
                    vector = centres[i % len(centres)] + rng.normal(scale=0.6, size=384)
                    vector = (vector / np.linalg.norm(vector)).astype("<f4")
                    card = Suggestion(event_id=event.id, title=f"Karte {i}", body="")
                    db.session.add(card)
                    db.session.flush()
                    digest = similarity.text_hash(card.title, card.body)
                    db.session.add(
                        CardVector(
                            suggestion_id=card.id,
                            event_id=event.id,
                            model=model,
                            text_hash=digest,
                            vector=vector.tobytes(),
                        )
                    )
                db.session.commit()
                times = []
                for _ in range(3):
                    start = time.perf_counter()
                    found = similarity.duplicates(event)
                    times.append(time.perf_counter() - start)
                pairs = len(found["pairs"])
                print(
                    f"{size:>5} cards: best {min(times) * 1000:6.1f} ms, worst "
                    f"{max(times) * 1000:6.1f} ms ({pairs} pairs over {neighbours.DUPLICATE})"
                )
                db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bursts", type=int, nargs="*", default=[10, 100])
    parser.add_argument("--sizes", type=int, nargs="*", default=[500, 2000])
    args = parser.parse_args()
    print(f"cores: {os.cpu_count()}, load: {os.getloadavg()[0]:.2f}")
    cpu_per_card()
    duplicates_query(args.sizes)
    bursts(args.bursts)


if __name__ == "__main__":
    main()
