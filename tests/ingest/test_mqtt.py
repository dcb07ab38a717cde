"""MqttIngestor against the real broker (in-process, both engines): readings land, bad messages are
dead-lettered with a reason, refused batches are split, devices and Home Assistant discovery work end to end.

Every test uses its own park code, device names and client id, so runs on the shared broker do not meet, and
discards its persistent session afterwards.
"""

from __future__ import annotations

import copy
import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from parkzero.ingest.decoders import DeviceMap
from parkzero.ingest.mqtt import MqttIngestor
from parkzero.registry import io as registry_io
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from tests.conftest import SMALL_PARK

from .conftest import DATA, stored

pytestmark = pytest.mark.mqtt

HOST = os.environ.get("PARKZERO_TEST_MQTT_HOST", "127.0.0.1")
PORT = int(os.environ.get("PARKZERO_TEST_MQTT_PORT", "1883"))
MQTT_DATA = DATA / "mqtt"

EXTRA_CHANNELS = [  # registers and power channels that devices feed
    {"code": "office.meter", "name": "Office register", "quantity_kind": "active_energy", "behaviour": "counter"},
    {"code": "office.power", "name": "Office power", "quantity_kind": "active_power"},
    {"code": "steel.meter", "name": "Steel register", "quantity_kind": "active_energy", "behaviour": "counter"},
    {"code": "pv1.meter", "name": "PV register", "quantity_kind": "active_energy", "behaviour": "counter"},
    {"code": "b1.lighting", "name": "Lighting", "quantity_kind": "active_energy"},
]


# -- helpers shared with test_mqtt_durability ------------------------------------------------------------
def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def park_doc(code: str, extra: list[dict] | None = None) -> dict:
    """SMALL_PARK under another park code (topics are per park), optionally with more channels."""
    doc = copy.deepcopy(SMALL_PARK)
    park = doc["parks"][0]
    park["code"] = code
    if extra:
        park["meters"][1]["channels"].extend(copy.deepcopy(extra))
    return doc


def connect(client_id: str | None = None) -> mqtt.Client:
    """A connected client with its network loop running (publisher or observer)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id or unique("t-pub-"))
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect(HOST, PORT)
    client.loop_start()
    return client


def close(client: mqtt.Client) -> None:
    client.disconnect()
    client.loop_stop()


def discard_session(client_id: str) -> None:
    """Connect once with a clean session so the broker forgets the persistent session of `client_id`."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=True)
    connected = threading.Event()
    client.on_connect = lambda *a: connected.set()
    client.connect(HOST, PORT)
    client.loop_start()
    connected.wait(5)
    close(client)


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, step: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return predicate()


class Observer:
    """Collects the messages published to one topic (the dead-letter topic)."""

    def __init__(self, topic: str):
        self.messages: list[dict] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=unique("t-obs-"))
        subscribed = threading.Event()
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.on_connect = lambda c, *a: c.subscribe(topic, qos=1)
        self.client.on_message = lambda c, u, m: self.messages.append(json.loads(m.payload))
        self.client.connect(HOST, PORT)
        self.client.loop_start()
        assert subscribed.wait(5)

    def close(self) -> None:
        close(self.client)


# -- fixtures --------------------------------------------------------------------------------------------
@pytest.fixture
def mqtt_park(store):
    """The store with SMALL_PARK (plus device channels) under a park code of this test alone."""
    code = unique("mq")
    registry_io.import_registry(store, Scope.system(), park_doc(code, EXTRA_CHANNELS))
    return store, code


@contextmanager
def ingesting(store, park_code: str, **options) -> Iterator[MqttIngestor]:
    client_id = options.pop("client_id", None) or unique("t-ingest-")
    keep_session = options.pop("keep_session", False)
    ingestor = MqttIngestor(store, park_code, host=HOST, port=PORT, client_id=client_id, **options)
    stop = threading.Event()
    thread = threading.Thread(target=ingestor.run, args=(stop,), daemon=True)
    thread.start()
    try:
        assert ingestor.ready.wait(10), "the ingestor did not subscribe"
        yield ingestor
    finally:
        stop.set()
        thread.join(30)
        assert not thread.is_alive()
        if not keep_session:
            discard_session(client_id)


def publish_all(client: mqtt.Client, messages: list[tuple[str, bytes]], **kw) -> None:
    infos = [client.publish(topic, payload, qos=1, **kw) for topic, payload in messages]
    for info in infos:
        info.wait_for_publish(10)
        assert info.is_published()


# -- tests -------------------------------------------------------------------------------------------------
def test_native_payloads_land_in_canonical_units(mqtt_park):
    store, code = mqtt_park
    pub = connect()
    try:
        with ingesting(store, code) as ingestor:
            publish_all(
                pub,
                [
                    (f"parkzero/{code}/steel.eaf", (MQTT_DATA / "native_single.json").read_bytes()),
                    (f"parkzero/{code}/office.main", (MQTT_DATA / "native_list.json").read_bytes()),
                    (f"parkzero/{code}/b1.lighting", (MQTT_DATA / "native_readings.json").read_bytes()),
                    (f"parkzero/{code}/batch", (MQTT_DATA / "native_batch.json").read_bytes()),
                ],
            )
            assert wait_until(lambda: ingestor.stats.acked >= 4)
            assert ingestor.stats.dead_letters == 0
            assert ingestor.stats.readings == 11
    finally:
        close(pub)
    assert stored(store, "steel.eaf") == [("2025-03-01T00:15:00+00:00", 12.5, 0)]
    assert stored(store, "office.main") == [
        ("2025-03-01T00:00:00+00:00", 12.5, 0),  # 0.0125 MWh x 1,000 = 12.5 kWh
        ("2025-03-01T00:15:00+00:00", 12.75, 0),
        ("2025-03-01T00:30:00+00:00", 13.0, 0),
        ("2025-03-01T00:45:00+00:00", 12.0, 1),  # estimated
        ("2025-03-01T01:00:00+00:00", 42.1, 0),  # from the batch topic
    ]
    assert stored(store, "b1.lighting") == [
        ("2025-03-01T00:15:00+00:00", 12000.0, 0),  # 1.2 万kWh = 12,000 kWh
        ("2025-03-01T00:30:00+00:00", 11800.0, 0),
    ]
    assert stored(store, "pv1.gen") == [("2025-03-01T01:00:00+00:00", 96.5, 0)]  # 96,500 Wh = 96.5 kWh
    [(_, gas, _)] = stored(store, "steel.gas")
    assert gas == pytest.approx(18562.0)  # 1.8562 万Nm3 = 18,562 Nm3
    sources = store.db.fetchall("SELECT DISTINCT source, actor FROM ingest_batches WHERE n_readings > 0")
    assert sources == [("mqtt", f"mqtt:{ingestor.client_id}")]


def test_bad_messages_go_to_the_dead_letter_topic_with_their_reason(mqtt_park):
    store, code = mqtt_park
    observer = Observer(f"parkzero/{code}/deadletter")
    pub = connect()
    good = b'{"ts": "2025-03-01T08:15:00+08:00", "value": 7.5}'
    bad = {
        f"parkzero/{code}/steel.main": (b"12.5 kWh", "payload is not JSON"),
        f"parkzero/{code}/steel.eaf": (b'{"ts": "2025-03-01T08:15:00+08:00"}', "no value"),
        f"parkzero/{code}/office.main": (b'{"ts": "2025-03-01T08:15:00", "value": 1}', "'ts' has no time zone"),
        f"parkzero/{code}/pv1.gen": (
            b'{"ts": "2025-03-01T08:15:00+08:00", "value": 1, "unit": "kWhh"}',
            "unknown unit 'kWhh'",
        ),
        f"parkzero/{code}/no.such": (good, "no channel 'no.such' in this park"),
        f"parkzero/{code}/b1.lighting": (b'{"ts": "2025-03-01T08:20:00+08:00", "value": 1}', "15-minute grid"),
        f"tele/{unique('tasmota_')}/SENSOR": (
            (MQTT_DATA / "tasmota_pow_r2_sensor.json").read_bytes(),
            "unknown Tasmota device",
        ),
    }
    try:
        with ingesting(store, code) as ingestor:
            publish_all(pub, [(t, p) for t, (p, _) in bad.items()] + [(f"parkzero/{code}/steel.main", good)])
            mine = lambda: [m for m in observer.messages if m["topic"] in bad]  # noqa: E731 - other runs share tele/+
            assert wait_until(lambda: len(mine()) == len(bad)), observer.messages
            assert wait_until(lambda: ingestor.stats.readings == 1)
            assert ingestor.stats.dead_letters >= len(bad)
    finally:
        close(pub)
        observer.close()
    for letter in mine():
        payload, reason = bad[letter["topic"]]
        assert reason in letter["reason"]
        assert letter["payload"] == payload.decode()
        assert letter["ingestor"] == ingestor.client_id
    assert stored(store, "steel.main") == [("2025-03-01T00:15:00+00:00", 7.5, 0)]  # the good one is not held up


def test_a_batch_the_store_refuses_is_split_and_only_the_bad_message_is_dead_lettered(mqtt_park):
    store, code = mqtt_park
    repo.create_entity(
        store,
        Scope.system(),
        "channels",
        code,
        {
            "code": "tmp.gone",
            "name": "Removed while running",
            "quantity_kind": "active_energy",
            "meter": "m-office",
        },
    )
    observer = Observer(f"parkzero/{code}/deadletter")
    pub = connect()
    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    messages = [
        (
            f"parkzero/{code}/steel.main",
            json.dumps({"ts": (t0 + timedelta(minutes=15 * i)).isoformat(), "value": float(i)}).encode(),
        )
        for i in range(6)
    ]
    messages.insert(3, (f"parkzero/{code}/tmp.gone", json.dumps({"ts": t0.isoformat(), "value": 1.0}).encode()))
    try:
        # a long idle time so that the seven messages form one batch
        with ingesting(store, code, batch_idle_s=1.0, batch_wait_s=3.0) as ingestor:
            # the ingestor knows the channel; it disappears before the readings arrive, so the merge fails
            repo.delete_entity(store, Scope.system(), "channels", code, "tmp.gone")
            publish_all(pub, messages)
            assert wait_until(lambda: ingestor.stats.acked >= 7)
            assert ingestor.stats.dead_letters == 1
    finally:
        close(pub)
        observer.close()
    assert [v for _, v, _ in stored(store, "steel.main")] == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    assert wait_until(lambda: len(observer.messages) == 1)
    [letter] = observer.messages
    assert letter["topic"] == f"parkzero/{code}/tmp.gone"
    assert "store refused the readings" in letter["reason"] and "does not exist" in letter["reason"]


def test_a_channel_added_while_running_is_found(mqtt_park):
    store, code = mqtt_park
    pub = connect()
    reading = b'{"ts": "2025-03-01T08:15:00+08:00", "value": 3.25}'
    try:
        with ingesting(store, code) as ingestor:
            publish_all(pub, [(f"parkzero/{code}/late.chan", reading)])
            assert wait_until(lambda: ingestor.stats.dead_letters == 1)
            repo.create_entity(
                store,
                Scope.system(),
                "channels",
                code,
                {
                    "code": "late.chan",
                    "name": "Added later",
                    "quantity_kind": "active_energy",
                    "meter": "m-office",
                },
            )
            time.sleep(1.1)  # the channel index is re-read at most once a second
            publish_all(pub, [(f"parkzero/{code}/late.chan", reading)])
            assert wait_until(lambda: ingestor.stats.readings == 1)
            assert ingestor.stats.dead_letters == 1
    finally:
        close(pub)
    assert stored(store, "late.chan") == [("2025-03-01T00:15:00+00:00", 3.25, 0)]


def _device_map(tasmota: str, shelly: str, entity: str) -> DeviceMap:
    return DeviceMap.from_dict(
        {
            "timezone": "Asia/Shanghai",
            "devices": {
                tasmota: {"snap": True, "fields": {"ENERGY.Total": "office.meter", "ENERGY.Power": "office.power"}},
                shelly: {"snap": True, "fields": {"emdata:0.total_act": "steel.meter"}},
            },
            "entities": {
                entity: {"channel": "pv1.meter", "snap": True},
                "gas_" + entity: {"channel": "steel.gas", "unit": "Nm3", "snap": True},
            },
        }
    )


def test_tasmota_shelly_and_home_assistant_through_the_broker(mqtt_park):
    store, code = mqtt_park
    tasmota, shelly, entity = unique("tasmota_"), unique("shellypro3em-"), unique("inv_")
    state_topic = f"solar/{entity}"
    config = json.loads((MQTT_DATA / "ha_discovery_inverter_energy.json").read_bytes())
    config.update({"~": state_topic, "unique_id": entity})
    pub = connect()
    try:
        with ingesting(store, code, device_map=_device_map(tasmota, shelly, entity)) as ingestor:
            publish_all(
                pub,
                [
                    (f"tele/{tasmota}/SENSOR", (MQTT_DATA / "tasmota_pow_r2_sensor.json").read_bytes()),
                    (f"{shelly}/events/rpc", (MQTT_DATA / "shelly_pro3em_notifystatus.json").read_bytes()),
                    (f"homeassistant/sensor/{entity}/energy/config", json.dumps(config).encode()),
                ],
            )
            assert wait_until(lambda: f"{state_topic}/state" in ingestor.router.state_topics)
            time.sleep(0.3)  # the SUBSCRIBE for the state topic reaches the broker
            received = datetime.now(UTC)
            publish_all(pub, [(f"{state_topic}/state", (MQTT_DATA / "ha_state_inverter.json").read_bytes())])
            assert wait_until(lambda: ingestor.stats.readings == 4), ingestor.stats
            assert ingestor.stats.dead_letters == 0
    finally:
        close(pub)
    assert stored(store, "office.meter") == [("2025-03-01T00:15:00+00:00", 123.456, 0)]  # Beijing 08:15
    assert stored(store, "office.power") == [("2025-03-01T00:15:00+00:00", 1.2, 0)]  # 1,200 W = 1.2 kW
    [(ts, value, _)] = stored(store, "steel.meter")  # 00:15:00.12Z snapped; 1,612,415.2 Wh = 1,612.4152 kWh
    assert (ts, value) == ("2025-03-01T00:15:00+00:00", pytest.approx(1612.4152))
    [(ts, value, _)] = stored(store, "pv1.meter")  # stamped when received, floored to the quarter hour
    slot = received.replace(minute=received.minute // 15 * 15, second=0, microsecond=0)
    assert datetime.fromisoformat(ts) in (slot, slot + timedelta(minutes=15))
    assert value == pytest.approx(1234.567)  # 1,234,567 Wh


def test_state_messages_queued_before_discovery_wait_for_the_retained_config(mqtt_park):
    """After a restart the broker hands over the session's queued state messages before the retained discovery
    configs: those messages wait (unacknowledged) until their topic is registered, and are then stored."""
    store, code = mqtt_park
    entity = unique("gasmeter_")
    state_topic = f"gasmeter/{entity}/volume"
    config_topic = f"homeassistant/sensor/{entity}/volume/config"
    config = json.loads((MQTT_DATA / "ha_discovery_gas.json").read_bytes())
    config.update({"state_topic": state_topic, "unique_id": "gas_" + entity})
    device_map = _device_map(unique("t"), unique("s"), entity)
    client_id = unique("t-ingest-")
    pub = connect()
    try:
        publish_all(pub, [(config_topic, json.dumps(config).encode())], retain=True)
        with ingesting(store, code, device_map=device_map, client_id=client_id, keep_session=True) as first:
            assert wait_until(lambda: state_topic in first.router.state_topics)
            time.sleep(0.3)
        publish_all(pub, [(state_topic, b"4521.337")])  # queued in the session while nobody listens
        with ingesting(store, code, device_map=device_map, client_id=client_id) as second:
            assert wait_until(lambda: second.stats.readings == 1), second.stats
            assert second.stats.held == 1 and second.stats.dead_letters == 0
    finally:
        publish_all(pub, [(config_topic, b"")], retain=True)  # clear the retained config
        close(pub)
    [(_, value, _)] = stored(store, "steel.gas")
    assert value == 4521.337  # the meter's m³ register taken as Nm3 by the device map


class _DiesAfterCommit(MqttIngestor):
    """Commits its first batch and then stops without acknowledging it, as a process killed at that moment."""

    def _finish(self, batch):
        if not getattr(self, "died", False):
            self.died = True
            self._stopping.set()  # the worker ends here: no PUBACK is ever sent for this batch
            return
        super()._finish(batch)


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_messages_committed_but_not_acknowledged_are_delivered_again_and_change_nothing(mqtt_park, protocol):
    store, code = mqtt_park
    client_id = unique("t-ingest-")
    t0 = datetime(2025, 3, 1, tzinfo=UTC)
    messages = [
        (
            f"parkzero/{code}/steel.main",
            json.dumps({"ts": (t0 + timedelta(minutes=15 * i)).isoformat(), "value": i / 4}).encode(),
        )
        for i in range(10)
    ]
    pub = connect()
    try:
        with ingesting(
            store, code, client_id=client_id, keep_session=True, protocol=protocol, batch_idle_s=0.5, batch_wait_s=2.0
        ) as first:
            first.__class__ = _DiesAfterCommit
            publish_all(pub, messages)
            assert wait_until(lambda: first.stats.batches == 1)
            assert first.stats.acked == 0
        committed = stored(store, "steel.main")
        assert len(committed) >= 1
        with ingesting(store, code, client_id=client_id, protocol=protocol) as second:
            assert wait_until(lambda: len(stored(store, "steel.main")) == 10)
            assert wait_until(lambda: second.stats.acked >= 10)
    finally:
        close(pub)
    assert stored(store, "steel.main") == [((t0 + timedelta(minutes=15 * i)).isoformat(), i / 4, 0) for i in range(10)]
    unchanged = store.db.fetchone("SELECT sum(n_unchanged), sum(n_revised) FROM ingest_batches")
    assert unchanged == (len(committed), 0)  # the repeats were recognised as such: no revision, no duplicate
    assert store.check() == []


def test_a_store_failure_is_retried_without_acknowledging_or_dead_lettering(mqtt_park, monkeypatch):
    import psycopg

    from parkzero.ingest import mqtt as ingest_mqtt

    store, code = mqtt_park
    real = ingest_mqtt.merge_readings
    failures = []

    def flaky(*args, **kw):
        if not failures:
            failures.append(1)
            raise psycopg.OperationalError("server closed the connection unexpectedly")
        return real(*args, **kw)

    monkeypatch.setattr(ingest_mqtt, "merge_readings", flaky)
    pub = connect()
    try:
        with ingesting(store, code) as ingestor:
            publish_all(pub, [(f"parkzero/{code}/steel.main", b'{"ts": "2025-03-01T08:15:00+08:00", "value": 4.5}')])
            assert wait_until(lambda: ingestor.stats.acked == 1)
            assert (ingestor.stats.store_errors, ingestor.stats.dead_letters, ingestor.stats.batches) == (1, 0, 1)
    finally:
        close(pub)
    assert stored(store, "steel.main") == [("2025-03-01T00:15:00+00:00", 4.5, 0)]
