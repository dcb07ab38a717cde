"""Durability of MQTT ingestion: SIGKILL the ingestor process in the middle of a QoS 1 stream, restart it with
the same client id, and every reading is stored exactly once; a killed ingestor never leaves a broken store.

The ingestor runs as its own process (`python -m parkzero.ingest.mqtt`), as in production. Its log (DEBUG)
says which batches it committed: everything it reported committed must be in the store after the kill, and
after the restart the broker's redelivery of the unacknowledged messages completes the stream. A DuckDB file
belongs to one process at a time, so the test opens the store only while no ingestor runs.

Mosquitto keeps at most 1,000 queued messages per session by default (max_queued_messages): the stream is
800 messages of 25 readings, so even an ingestor that consumed nothing would lose nothing at the broker.
"""

from __future__ import annotations

import json
import random
import re
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from parkzero.registry import io as registry_io
from parkzero.registry.scope import Scope
from parkzero.store import open_store

from .test_mqtt import EXTRA_CHANNELS, HOST, PORT, close, connect, discard_session, park_doc, unique, wait_until

pytestmark = [pytest.mark.mqtt, pytest.mark.slow]

CHANNELS = ["steel.main", "steel.eaf", "office.main", "pv1.gen", "b1.lighting"]  # 15-minute interval channels
T0 = datetime(2025, 3, 1, tzinfo=UTC)
COMMITTED = re.compile(r"committed batch \d+: (\d+) message\(s\), (\d+) reading\(s\) \((\d+) new")


def reading(k: int) -> tuple[str, datetime, float]:
    """Reading number k of the stream: a distinct (channel, quarter hour) with an exactly representable value."""
    return CHANNELS[k % len(CHANNELS)], T0 + timedelta(minutes=15 * (k // len(CHANNELS))), k / 8


def message(i: int, per_message: int) -> bytes:
    rows = [reading(k) for k in range(i * per_message, (i + 1) * per_message)]
    return json.dumps([{"channel": c, "ts": ts.isoformat(), "value": v, "unit": "kWh"} for c, ts, v in rows]).encode()


class Ingestor:
    """`python -m parkzero.ingest.mqtt` in its own process, logging to a file."""

    def __init__(self, url: str, park: str, client_id: str, log_path: Path, protocol: str = "5"):
        self.log_path = log_path
        self.log = open(log_path, "wb")  # noqa: SIM115 - closed in wait()/kill()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "parkzero.ingest.mqtt",
                "--database-url",
                url,
                "--park",
                park,
                "--client-id",
                client_id,
                "--host",
                HOST,
                "--port",
                str(PORT),
                "--protocol",
                protocol,
                "--log-level",
                "DEBUG",
            ],
            stdout=subprocess.DEVNULL,
            stderr=self.log,
        )
        if not wait_until(lambda: "listening for park" in self.text() or self.proc.poll() is not None, 60):
            self.kill()
            pytest.fail(f"the ingestor did not start:\n{self.text()[-3000:]}")
        if self.proc.poll() is not None:
            pytest.fail(f"the ingestor exited with {self.proc.returncode}:\n{self.text()[-3000:]}")

    def text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def committed(self) -> tuple[int, int]:
        """(batches, new readings) the log reports committed (a line cut by SIGKILL does not match)."""
        found = COMMITTED.findall(self.text())
        return len(found), sum(int(new) for _, _, new in found)

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self.log.close()

    def terminate(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(60)
        self.log.close()
        return code


def store_state(url: str) -> dict:
    """Open the store (proving it is not corrupted) and read what the assertions need."""
    with open_store(url) as store:
        rows, keys = store.db.fetchone("SELECT count(*), count(DISTINCT (channel_id, ts_start)) FROM readings")
        total = store.db.fetchone("SELECT coalesce(sum(value), 0) FROM readings")[0]
        hourly = store.db.fetchone("SELECT coalesce(sum(value_sum), 0) FROM rollup_hourly")[0]
        daily = store.db.fetchone("SELECT coalesce(sum(value_sum), 0) FROM rollup_daily")[0]
        values = {
            (code, ts.astimezone(UTC)): value
            for code, ts, value in store.db.fetchall(
                "SELECT c.code, r.ts_start, r.value FROM readings r JOIN channels c ON c.id = r.channel_id"
            )
        }
        return {
            "rows": rows,
            "keys": keys,
            "check": store.check(),
            "sum": total,
            "hourly": hourly,
            "daily": daily,
            "values": values,
        }


def assert_consistent(state: dict) -> None:
    assert state["check"] == []
    assert state["rows"] == state["keys"]  # no key stored twice
    # readings and their rollups were committed together, never one without the other
    assert state["hourly"] == pytest.approx(state["sum"]) and state["daily"] == pytest.approx(state["sum"])


@pytest.fixture
def stream_park(store_url, tmp_path):
    """A fresh store with the park, closed again: the ingestor process opens it."""
    code = unique("dur")
    with open_store(store_url) as store:
        registry_io.import_registry(store, Scope.system(), park_doc(code, EXTRA_CHANNELS))
    client_id = unique("t-durable-")
    yield store_url, code, client_id, tmp_path
    discard_session(client_id)


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_sigkill_mid_stream_then_restart_stores_every_reading_exactly_once(stream_park, protocol):
    url, park, client_id, tmp = stream_park
    n_messages, per_message = 800, 25
    n = n_messages * per_message  # 20,000 distinct readings
    kill_at, restart_at = 300, 550
    pub = connect()
    infos = []
    topic = f"parkzero/{park}/batch"
    first = Ingestor(url, park, client_id, tmp / "first.log", protocol)
    second = None
    try:
        for i in range(kill_at):
            infos.append(pub.publish(topic, message(i, per_message), qos=1))
            time.sleep(0.001)
        assert wait_until(lambda: first.committed()[0] >= 2, 30), first.text()[-3000:]
        first.kill()  # SIGKILL while the stream is flowing: a batch may be half merged, acks half sent
        for i in range(kill_at, restart_at):  # the gateway keeps publishing while no ingestor runs
            infos.append(pub.publish(topic, message(i, per_message), qos=1))
            time.sleep(0.001)
        _, reported = first.committed()
        after_kill = store_state(url)  # the killed ingestor's store opens and is consistent
        assert_consistent(after_kill)
        # every batch the ingestor reported committed (and so every message it acknowledged) is stored
        assert reported <= after_kill["keys"] <= kill_at * per_message

        second = Ingestor(url, park, client_id, tmp / "second.log", protocol)
        for i in range(restart_at, n_messages):
            infos.append(pub.publish(topic, message(i, per_message), qos=1))
        for info in infos:
            info.wait_for_publish(30)
        assert all(info.is_published() for info in infos)  # the broker acknowledged every message
        # drained when what was stored before plus what the restarted ingestor inserted is the whole stream
        assert wait_until(lambda: after_kill["keys"] + second.committed()[1] >= n, 60), second.text()[-3000:]
        assert second.terminate() == 0
        assert "stopped:" in second.text()
    finally:
        close(pub)
        for proc in (first, second):
            if proc is not None and proc.proc.poll() is None:
                proc.kill()

    final = store_state(url)
    assert_consistent(final)
    assert final["keys"] == final["rows"] == n  # every published reading exactly once
    expected = {(c, ts): v for c, ts, v in map(reading, range(n))}
    assert final["values"] == expected  # and with its value
    assert final["sum"] == pytest.approx(sum(k / 8 for k in range(n)))  # 0/8 + ... + 19,999/8 = 24,998,750 kWh


def test_repeated_sigkill_never_corrupts_the_store(stream_park):
    """Kill the ingestor at random moments of a stream, three times: each time the store opens, passes its
    checks and holds a prefix-consistent subset; the last ingestor completes the stream."""
    url, park, client_id, tmp = stream_park
    per_message, per_round, rounds = 10, 150, 3
    pub = connect()
    rng = random.Random(7)
    topic = f"parkzero/{park}/batch"
    sent = 0
    infos = []
    try:
        for round_ in range(rounds):
            ingestor = Ingestor(url, park, client_id, tmp / f"round{round_}.log")
            try:
                for _ in range(per_round):
                    infos.append(pub.publish(topic, message(sent, per_message), qos=1))
                    sent += 1
                    time.sleep(0.002)
                assert wait_until(lambda ing=ingestor: ing.committed()[0] >= 1, 30), ingestor.text()[-3000:]
                time.sleep(rng.uniform(0.0, 0.3))
            finally:
                ingestor.kill()
            state = store_state(url)
            assert_consistent(state)
            assert ingestor.committed()[1] <= state["keys"] <= sent * per_message
        last = Ingestor(url, park, client_id, tmp / "last.log")
        for info in infos:
            info.wait_for_publish(30)
        total = sent * per_message
        assert wait_until(lambda: state["keys"] + last.committed()[1] >= total, 60), last.text()[-3000:]
        assert last.terminate() == 0
    finally:
        close(pub)
    state = store_state(url)
    assert_consistent(state)
    assert state["keys"] == sent * per_message
    assert state["values"] == {(c, ts): v for c, ts, v in map(reading, range(sent * per_message))}
