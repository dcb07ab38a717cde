"""MQTT ingestion benchmark: a sustained QoS 1 stream through the real broker into a fresh store.

    python bench/ingest_mqtt.py                      # 60 s into a DuckDB file
    python bench/ingest_mqtt.py --seconds 5          # smoke run
    python bench/ingest_mqtt.py --database-url postgresql://postgres@127.0.0.1:5432/test   # pg_ prefix

A gateway publishes JSON lists of `--per-message` readings (one per channel, one quarter hour per message) to
``parkzero/{park}/batch`` with QoS 1 for `--seconds`; the ingestor (`parkzero.ingest.mqtt.MqttIngestor`) runs
in a separate process with its own persistent session and acknowledges each message only after its batch
is committed. The publisher keeps at most `--window` messages published but not yet acknowledged by the
ingestor, so the broker's per-session queue (Mosquitto's max_queued_messages, default 1000) never
overflows: what is measured is how fast the ingestor commits, and a loss would be the ingestor's, not the
broker's. After the stream the benchmark waits until everything is committed, stops the ingestor and counts
the rows in the store.

Prints `name=value unit` lines: mqtt_readings_per_s (stored readings / time from the first publish to the
last commit), mqtt_lost (published - stored distinct keys), mqtt_duplicated (rows - distinct keys), and the
shape of the run (messages, batches, readings per batch).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
import uuid
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import paho.mqtt.client as mqtt  # noqa: E402
from common import PARK, YEAR_START, fresh_store  # noqa: E402
from paho.mqtt.enums import CallbackAPIVersion  # noqa: E402

from parkzero.store import open_store  # noqa: E402

HOST, PORT = "127.0.0.1", 1883
STATS = ("acked", "readings", "batches", "dead_letters", "received")


def run_ingestor(url: str, client_id: str, protocol: str, batch_max: int, log_level: str, shared, ready, stop) -> None:
    """Child process: the ingestor, publishing its counters into shared memory after every batch."""
    import logging

    from parkzero.ingest.mqtt import MqttIngestor

    logging.basicConfig(level=log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    def on_commit(stats) -> None:
        for i, name in enumerate(STATS):
            shared[i] = getattr(stats, name)

    store = open_store(url, upgrade=False)
    try:
        ingestor = MqttIngestor(
            store,
            PARK,
            host=HOST,
            port=PORT,
            client_id=client_id,
            protocol=protocol,
            batch_max=batch_max,
            on_commit=on_commit,
        )
        ingestor.start()
        if not ingestor.ready.wait(30):
            raise SystemExit("the ingestor did not subscribe within 30 s")
        ready.set()
        while not stop.wait(0.2):
            if ingestor.failed is not None:
                break
        ingestor.stop()
        on_commit(ingestor.stats)
        if ingestor.failed is not None:
            raise ingestor.failed
    finally:
        store.close()


def payload(i: int, codes: list[str]) -> bytes:
    """Message i: one reading per channel for quarter hour i [kWh]."""
    ts = (YEAR_START + timedelta(minutes=15 * i)).isoformat()
    parts = [
        f'{{"channel":"{c}","ts":"{ts}","value":{((i * 7919 + k * 104729) % 100000) / 100}}}'
        for k, c in enumerate(codes)
    ]
    return ("[" + ",".join(parts) + "]").encode()


def discard_session(client_id: str) -> None:
    """Connect once with a clean session so the broker forgets the ingestor's persistent session."""
    c = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    c.connect(HOST, PORT)
    c.loop_start()
    time.sleep(0.2)
    c.disconnect()
    c.loop_stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=60.0, help="how long the gateway publishes [s]")
    ap.add_argument("--database-url", help="postgresql://... for the PostgreSQL figures (pg_ prefix)")
    ap.add_argument("--per-message", type=int, default=100, help="readings per MQTT message (channels)")
    ap.add_argument("--protocol", choices=("3.1.1", "5"), default="5")
    ap.add_argument("--batch-max", type=int, default=5000, help="readings per store transaction at most")
    ap.add_argument("--window", type=int, default=800, help="messages published but not yet acked at most")
    ap.add_argument("--log-level", default="WARNING", help="the ingestor's log level (DEBUG shows every batch)")
    args = ap.parse_args()
    prefix = "pg_" if args.database_url and args.database_url.startswith("postgres") else ""
    client_id = f"bench-ingest-{uuid.uuid4().hex[:8]}"
    ctx = mp.get_context("spawn")
    shared = ctx.Array("q", len(STATS), lock=False)
    ready, stop = ctx.Event(), ctx.Event()

    with fresh_store(args.database_url, args.per_message) as (store, url):
        codes = sorted(r[0] for r in store.db.fetchall("SELECT code FROM channels"))[: args.per_message]
        store.close()  # the ingestor process owns the database from here (DuckDB: one process per file)
        child = ctx.Process(
            target=run_ingestor,
            args=(url, client_id, args.protocol, args.batch_max, args.log_level, shared, ready, stop),
        )
        child.start()
        try:
            if not ready.wait(60):
                raise SystemExit("the ingestor did not start")
            pub = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"{client_id}-gw", protocol=mqtt.MQTTv311)
            pub.max_inflight_messages_set(1000)
            pub.max_queued_messages_set(0)
            pub.connect(HOST, PORT)
            pub.loop_start()
            topic = f"parkzero/{PARK}/batch"
            sent = 0
            infos = []
            t0 = time.perf_counter()
            end = t0 + args.seconds
            while time.perf_counter() < end:
                while sent - shared[0] >= args.window:  # the ingestor's acks pace the gateway
                    time.sleep(0.0005)
                infos.append(pub.publish(topic, payload(sent, codes), qos=1))
                sent += 1
            published_s = time.perf_counter() - t0
            for info in infos:
                info.wait_for_publish(60)
            broker_acked = sum(1 for info in infos if info.is_published())
            deadline = time.perf_counter() + 120
            while shared[0] < sent and time.perf_counter() < deadline:
                time.sleep(0.001)
            elapsed = time.perf_counter() - t0
            pub.disconnect()
            pub.loop_stop()
        finally:
            stop.set()
            child.join(120)
            if child.is_alive():
                child.kill()
            discard_session(client_id)
        with open_store(url, upgrade=False) as counted:
            rows, keys = counted.db.fetchone("SELECT count(*), count(DISTINCT (channel_id, ts_start)) FROM readings")  # type: ignore[misc]
        published = sent * len(codes)
        stats = dict(zip(STATS, shared[:], strict=True))
        print(f"{prefix}mqtt_seconds={published_s:.1f} s (publishing; {elapsed:.1f} s until the last commit)")
        print(f"{prefix}mqtt_messages={sent} messages ({len(codes)} readings each, QoS 1, MQTT {args.protocol})")
        print(f"{prefix}mqtt_broker_acked={broker_acked * len(codes)} readings")
        print(
            f"{prefix}mqtt_batches={stats['batches']} transactions "
            f"({stats['readings'] / max(stats['batches'], 1):.0f} readings each)"
        )
        print(f"{prefix}mqtt_dead_letters={stats['dead_letters']} messages")
        print(f"{prefix}mqtt_readings_per_s={keys / elapsed:.0f} readings/s")
        print(f"{prefix}mqtt_lost={published - keys} readings")
        print(f"{prefix}mqtt_duplicated={rows - keys} readings")
        sys.stdout.flush()


if __name__ == "__main__":
    main()
