"""MQTT ingestion: readings from a broker into the store, acknowledged only once they are committed.

    python -m parkzero.ingest.mqtt --database-url duckdb:///park.duckdb --park p1 --client-id parkzero-p1

Delivery guarantee
------------------
The ingestor holds a persistent session at the broker (a fixed client id; MQTT 5 with clean_start=0 and a
session that never expires, or MQTT 3.1.1 with clean_session=0) and subscribes with QoS 1 to
``parkzero/{park}/#``, ``tele/+/SENSOR``, ``+/events/rpc``, ``homeassistant/#`` and the state topics that
discovery registers. paho runs with ``manual_ack=True``: its network thread only queues incoming messages;
a worker thread decodes them, merges a whole batch into the store with `merge_readings` (one transaction)
and only then sends the PUBACK of every message of the batch. A message the broker delivered but the store
has not committed is therefore never acknowledged, and the broker delivers it again after a crash or a lost
connection; the idempotent merge (same key, same value: no-op) makes the repeat harmless. So every reading
the broker accepted is stored exactly once, whatever happens to this process.

A message that cannot be decoded or stored (not JSON, unknown device or channel, unit or grid mismatch) is
logged with the reason, counted, and published with the reason to ``parkzero/{park}/deadletter`` (QoS 1,
confirmed by the broker) before it is acknowledged. A batch whose merge fails as a whole is split in halves
until the messages at fault are isolated, so good readings are stored and only the bad messages go to the
dead-letter topic. Failures of the store itself (a lost database connection) are retried without acking.

Broker limits to know (Mosquitto)
---------------------------------
``max_inflight_messages`` (default 20) caps the unacknowledged QoS 1 messages the broker sends an MQTT 3.1.1
client, so with ack-after-commit a 3.1.1 batch holds at most that many messages; an MQTT 5 client sets the cap
itself (Receive Maximum, `receive_maximum`). ``max_queued_messages`` (default 1000) caps the messages queued
for a session beyond those in flight, including while the ingestor is down: raise it (or set 0) where
devices may publish faster than the store commits or the ingestor may be down for long, otherwise the BROKER
drops messages (Mosquitto counts them in ``$SYS/broker/publish/messages/dropped``).
"""

from __future__ import annotations

import argparse
import base64
import json
import logging
import queue
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt
import pyarrow as pa
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

from parkzero.errors import ParkzeroError, ValidationFailed
from parkzero.ingest.decoders import (
    DeviceMap,
    ResolvedRows,
    Router,
    UnknownChannel,
    UnknownTopic,
    resolve,
)
from parkzero.registry.repo import ChannelInfo, channel_index, get_park
from parkzero.registry.scope import Scope
from parkzero.store import Store, open_store
from parkzero.store.readings import merge_readings

__all__ = ["IngestStats", "MqttIngestor", "listen", "main"]

log = logging.getLogger("parkzero.ingest.mqtt")

_TS_TYPE = pa.timestamp("us", tz="UTC")
_SESSION_NEVER_EXPIRES = 0xFFFFFFFF


@dataclass
class IngestStats:
    """Counters of one ingestor since it started (messages are MQTT messages, readings are rows)."""

    received: int = 0  # messages delivered by the broker (repeats after a reconnect included)
    acked: int = 0  # messages acknowledged to the broker
    readings: int = 0  # readings committed to the store (unchanged repeats included)
    batches: int = 0  # store transactions that committed
    dead_letters: int = 0  # messages rejected and published to the dead-letter topic
    ignored: int = 0  # messages that carry no reading by design (discovery configs, our own dead letters)
    snapped_dropped: int = 0  # register readings whose grid slot already had a reading
    held: int = 0  # messages that waited for a discovery config to register their topic
    store_errors: int = 0  # failed store transactions retried (lost connection ...)
    started_at: float = field(default_factory=time.monotonic)

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "started_at"}


class _Message:
    __slots__ = ("topic", "payload", "mid", "qos", "generation", "received_at", "rows", "error", "held_since")

    def __init__(self, topic: str, payload: bytes, mid: int, qos: int, generation: int):
        self.topic = topic
        self.payload = payload
        self.mid = mid
        self.qos = qos
        self.generation = generation
        self.received_at = datetime.now(UTC)
        self.rows: ResolvedRows | None = None  # decoded and resolved; None: no reading by design
        self.error: str | None = None  # reason for the dead-letter topic
        self.held_since: float | None = None


_TRANSIENT: tuple[type[BaseException], ...] = (OSError, TimeoutError)
try:
    import psycopg

    _TRANSIENT += (psycopg.OperationalError, psycopg.InterfaceError)
except ImportError:  # pragma: no cover
    pass
try:
    import duckdb

    _TRANSIENT += (duckdb.IOException, duckdb.OutOfMemoryException, duckdb.ConnectionException)
except ImportError:  # pragma: no cover
    pass


class MqttIngestor:
    """Subscribe to a park's topics and merge the readings into `store`, acking after commit.

    Parameters
    ----------
    store : Store
        Open store with the park's registry. The ingestor writes readings from its worker thread.
    park_code : str
        Park whose channels the readings go to (native topics ``parkzero/{park}/...``).
    host, port : str, int
        MQTT broker.
    client_id : str
        Fixed client id: the broker keeps the session (subscriptions, unacknowledged messages) under it.
    device_map : DeviceMap or dict, optional
        Tasmota / Shelly devices and Home Assistant entities -> channels (see `decoders`).
    batch_max : int
        Readings per store transaction at most [-].
    batch_wait_s : float
        Longest time a message waits for its batch to fill [s].
    batch_idle_s : float
        A batch is closed when no message arrived for this long: the stream paused [s].
    protocol : {'5', '3.1.1'}
        MQTT version. 5 (the default) uses clean_start=0 with a session that never expires and announces
        `receive_maximum`, so a batch is not capped by the broker's max_inflight_messages; 3.1.1 uses
        clean_session=0 and, with Mosquitto's default of 20 messages in flight, commits at most 20 messages
        per transaction (about 50,000 readings/s with 100 readings per message on DuckDB, against 85,000
        with MQTT 5; see bench/ingest_mqtt.py).
    receive_maximum : int
        MQTT 5: unacknowledged messages the broker may have in flight to us [-].
    inflight_window : int
        MQTT 3.1.1: the broker's max_inflight_messages (Mosquitto's default 20). A batch is closed as soon as
        it holds this many messages, since the broker sends no more before they are acknowledged.
    hold_unknown_s : float
        How long a message on an unknown topic waits (unacknowledged) for a Home Assistant discovery config
        to register its topic before it is dead-lettered [s]. After a restart the broker delivers the queued
        state messages of the session before the retained discovery configs.
    on_commit : callable, optional
        Called with the stats after every acknowledged batch (from the worker thread).
    """

    def __init__(
        self,
        store: Store,
        park_code: str,
        *,
        host: str = "127.0.0.1",
        port: int = 1883,
        client_id: str,
        device_map: DeviceMap | dict | None = None,
        batch_max: int = 5000,
        batch_wait_s: float = 0.2,
        batch_idle_s: float = 0.01,
        protocol: Literal["3.1.1", "5"] = "5",
        receive_maximum: int = 1000,
        inflight_window: int = 20,
        keepalive: int = 30,
        hold_unknown_s: float = 10.0,
        on_commit: Callable[[IngestStats], None] | None = None,
    ):
        if protocol not in ("3.1.1", "5"):
            raise ValueError(f"protocol must be '3.1.1' or '5', not {protocol!r}")
        self.store = store
        self.park_code = park_code
        self.host, self.port = host, port
        self.client_id = client_id
        self.device_map = device_map if isinstance(device_map, DeviceMap) else DeviceMap.from_dict(device_map)
        self.batch_max = max(1, int(batch_max))
        self.batch_wait_s = float(batch_wait_s)
        self.batch_idle_s = min(float(batch_idle_s), self.batch_wait_s)
        self.protocol = protocol
        self.receive_maximum = max(1, min(int(receive_maximum), 65535))
        self.window = self.receive_maximum if protocol == "5" else max(1, int(inflight_window))
        self.keepalive = keepalive
        self.hold_unknown_s = hold_unknown_s
        self.on_commit = on_commit
        self.stats = IngestStats()
        self.actor = f"mqtt:{client_id}"
        self.deadletter_topic = f"parkzero/{park_code}/deadletter"

        park = get_park(store, Scope.system(), park_code)  # NotFound for an unknown park
        self.park_id = int(park["id"])
        zone = ZoneInfo(park["timezone"]) if park.get("timezone") else None
        self.router = Router(park_code, self.device_map, default_timezone=zone, on_state_topic=self._subscribe_state)
        self._channels: dict[str, ChannelInfo] = channel_index(store, Scope.system(), park_code)
        self._channels_at = time.monotonic()
        self._factors: dict[tuple[str, str], float] = {}

        self._queue: queue.SimpleQueue[_Message] = queue.SimpleQueue()
        self._held: list[_Message] = []
        self._conn_lock = threading.Lock()
        self._topics_lock = threading.Lock()
        self._state_topics: set[str] = set()  # registered by discovery, kept across reconnects
        self._generation = 0
        self._connected = False
        self._stopping = threading.Event()
        self._stopped = threading.Event()
        self.ready = threading.Event()  # set once the subscriptions are acknowledged
        self.failed: BaseException | None = None
        self._worker: threading.Thread | None = None
        self._client = self._make_client()

    # -- the paho side (network thread) ------------------------------------------------------------
    def _base_topics(self) -> list[str]:
        return [f"parkzero/{self.park_code}/#", "tele/+/SENSOR", "+/events/rpc", "homeassistant/#"]

    def _make_client(self) -> mqtt.Client:
        if self.protocol == "5":
            client = mqtt.Client(
                CallbackAPIVersion.VERSION2, client_id=self.client_id, protocol=mqtt.MQTTv5, manual_ack=True
            )
        else:
            client = mqtt.Client(
                CallbackAPIVersion.VERSION2,
                client_id=self.client_id,
                protocol=mqtt.MQTTv311,
                clean_session=False,
                manual_ack=True,
            )
        client.max_inflight_messages_set(100)  # our own outgoing QoS 1 (dead letters)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _subscriptions(self) -> list[tuple[str, Any]]:
        topics = self._base_topics()
        with self._topics_lock:
            extra = sorted(self._state_topics)
        if self.protocol == "5":
            own = f"parkzero/{self.park_code}/#"
            return [(t, SubscribeOptions(qos=1, noLocal=(t == own))) for t in topics + extra]
        return [(t, 1) for t in topics + extra]

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        if reason_code.is_failure:
            log.error("broker %s:%s refused the connection: %s", self.host, self.port, reason_code)
            return
        with self._conn_lock:
            self._generation += 1
            self._connected = True
        log.info(
            "connected to %s:%s as %s (MQTT %s, session present: %s)",
            self.host,
            self.port,
            self.client_id,
            self.protocol,
            bool(getattr(flags, "session_present", False)),
        )
        client.subscribe(self._subscriptions())

    def _on_subscribe(self, client: mqtt.Client, userdata: Any, mid: int, reason_codes: Any, properties: Any) -> None:
        failed = [rc for rc in reason_codes if rc.is_failure]
        if failed:
            log.error("broker refused subscriptions: %s", failed)
            return
        if not self.ready.is_set():
            log.info("listening for park %s on %s", self.park_code, ", ".join(t for t, _ in self._subscriptions()))
            self.ready.set()

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: Any, reason_code: Any, properties: Any) -> None:
        with self._conn_lock:
            self._connected = False
        if not self._stopping.is_set():
            log.warning("disconnected from the broker (%s); reconnecting", reason_code)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        self._queue.put(_Message(message.topic, bytes(message.payload), message.mid, message.qos, self._generation))

    def _subscribe_state(self, topic: str) -> None:
        """Called by the router (worker thread) when discovery registers a state topic."""
        if any(mqtt.topic_matches_sub(s, topic) for s in self._base_topics()):
            return
        with self._topics_lock:
            if topic in self._state_topics:
                return
            self._state_topics.add(topic)
        log.info("subscribing to Home Assistant state topic %s", topic)
        self._client.subscribe(topic, qos=1)

    # -- life cycle ------------------------------------------------------------------------------------
    def start(self) -> None:
        """Connect and start the network and worker threads; returns at once."""
        if self._worker is not None:
            raise RuntimeError("the ingestor is already started")
        self._worker = threading.Thread(target=self._work, name=f"mqtt-ingest-{self.park_code}", daemon=True)
        self._worker.start()
        if self.protocol == "5":
            props = Properties(PacketTypes.CONNECT)
            props.SessionExpiryInterval = _SESSION_NEVER_EXPIRES
            props.ReceiveMaximum = self.receive_maximum
            self._client.connect_async(self.host, self.port, self.keepalive, clean_start=False, properties=props)
        else:
            self._client.connect_async(self.host, self.port, self.keepalive)
        self._client.loop_start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish (commit and ack) the batch in progress, then disconnect. Unacked messages stay at the broker."""
        self._stopping.set()
        if self._worker is not None:
            self._worker.join(timeout)
        self._client.disconnect()
        self._client.loop_stop()
        self._stopped.set()

    def run(self, stop_event: threading.Event) -> None:
        """Ingest until `stop_event` is set (or the worker fails, which is raised)."""
        self.start()
        try:
            while not stop_event.wait(0.2):
                if self.failed is not None:
                    break
        finally:
            self.stop()
        if self.failed is not None:
            raise self.failed

    # -- the worker ------------------------------------------------------------------------------------
    def _work(self) -> None:
        try:
            while not self._stopping.is_set():
                batch = self._collect()
                if batch:
                    self._process(batch)
        except BaseException as exc:  # noqa: BLE001 - reported through run()
            log.exception("the MQTT ingest worker failed")
            self.failed = exc

    def _collect(self) -> list[_Message]:
        """Messages for one batch, decoded as they arrive."""
        batch: list[_Message] = []
        n_readings = 0
        if self._held:
            batch, n_readings = self._release_held()
        deadline = None if not batch else time.monotonic() + self.batch_wait_s
        idle_s = self.batch_idle_s
        while n_readings < self.batch_max and len(batch) + len(self._held) < self.window:
            try:
                msg = self._queue.get_nowait()
            except queue.Empty:
                now = time.monotonic()
                if deadline is None:
                    wait = 0.1  # nothing yet: wake up now and then to notice stop() and held messages
                else:
                    wait = min(idle_s, deadline - now)
                    if wait <= 0:
                        break
                try:
                    msg = self._queue.get(timeout=wait)
                except queue.Empty:
                    if deadline is None and self._held:
                        return self._release_held()[0]
                    if deadline is None:
                        return []
                    break  # the stream paused: commit what we have
            self.stats.received += 1
            if deadline is None:
                deadline = time.monotonic() + self.batch_wait_s
            if msg.generation != self._generation:
                continue  # from a connection that is gone: the broker delivers it again
            self._decode(msg)
            if msg.held_since is not None:
                self._held.append(msg)
                continue
            batch.append(msg)
            if msg.rows is not None:
                n_readings += len(msg.rows)
        return batch

    def _release_held(self) -> tuple[list[_Message], int]:
        """Held messages whose topic is now registered, or whose grace period is over (dead-lettered)."""
        now = time.monotonic()
        out, keep, n = [], [], 0
        for msg in self._held:
            if msg.generation != self._generation:
                continue
            self._decode(msg)
            if msg.held_since is not None and now - msg.held_since < self.hold_unknown_s:
                keep.append(msg)
                continue
            if msg.held_since is not None:
                msg.error = msg.error or f"no decoder for topic {msg.topic!r}"
                msg.held_since = None
            out.append(msg)
            n += len(msg.rows) if msg.rows is not None else 0
        self._held = keep
        return out, n

    def _decode(self, msg: _Message) -> None:
        msg.rows, msg.error = None, None
        try:
            readings = self.router.decode(msg.topic, msg.payload, msg.received_at)
            msg.held_since = None
            if readings is None:
                return
            msg.rows = self._resolve(readings)
        except UnknownTopic as exc:
            if msg.held_since is None:
                msg.held_since = time.monotonic()
                self.stats.held += 1
            msg.error = str(exc)
        except ValidationFailed as exc:
            msg.held_since = None
            msg.error = str(exc)
        except Exception as exc:  # noqa: BLE001 - a decoder bug must not stop the stream
            log.exception("decoding a message on %s failed", msg.topic)
            msg.held_since = None
            msg.error = f"internal error while decoding: {exc!r}"

    def _resolve(self, readings: list) -> ResolvedRows:
        try:
            return resolve(readings, self._channels, factors=self._factors)
        except UnknownChannel as unknown:
            if time.monotonic() - self._channels_at < 1.0:
                raise
            # channels may have been added while we run
            try:
                self._channels = channel_index(self.store, Scope.system(), self.park_code)
            except _TRANSIENT as exc:
                log.warning("cannot re-read the channels (%s)", exc)
                self._reset_connection()
                raise unknown from None
            finally:
                self._channels_at = time.monotonic()
            return resolve(readings, self._channels, factors=self._factors)

    def _process(self, batch: list[_Message]) -> None:
        groups = [m for m in batch if m.rows is not None and m.error is None and len(m.rows)]
        while True:
            try:
                self._drop_taken_slots(groups)
                break
            except _TRANSIENT as exc:
                if not self._store_unavailable(exc, groups):
                    break
        groups = [m for m in groups if len(m.rows) and m.generation != -1]  # type: ignore[arg-type]
        if groups:
            self._merge_split(groups)
        self._finish(batch)

    def _store_unavailable(self, exc: BaseException, groups: list[_Message]) -> bool:
        """Wait before retrying a store operation; False (and the messages left unacked) when stopping."""
        self.stats.store_errors += 1
        log.warning("store unavailable (%s); retrying in 1 s", exc)
        self._reset_connection()
        if self._stopping.wait(1.0):
            for m in groups:
                m.generation = -1  # not committed: do not ack
            return False
        return True

    def _merge_split(self, groups: list[_Message]) -> None:
        """Merge the readings of these messages in one transaction; on a data error, bisect."""
        while True:
            try:
                self._merge(groups)
                return
            except ParkzeroError as exc:
                if len(groups) == 1:
                    groups[0].error = f"store refused the readings: {exc}"
                    return
            except _TRANSIENT as exc:
                if not self._store_unavailable(exc, groups):
                    return
                continue
            except Exception as exc:  # noqa: BLE001 - isolate the message that triggers it
                log.exception("merging %d message(s) failed", len(groups))
                if len(groups) == 1:
                    groups[0].error = f"internal error while storing: {exc!r}"
                    return
            half = len(groups) // 2
            self._merge_split(groups[:half])
            self._merge_split(groups[half:])
            return

    def _merge(self, groups: list[_Message]) -> None:
        rows = ResolvedRows()
        for m in groups:
            rows.extend(m.rows)  # type: ignore[arg-type]
        table = pa.table(
            {
                "channel_id": pa.array(rows.channel_id, pa.int64()),
                "ts_start": pa.array(rows.ts_us, _TS_TYPE),
                "value": pa.array(rows.value, pa.float64()),
                "quality": pa.array(rows.quality, pa.int16()),
            }
        )
        result = merge_readings(self.store, table, source="mqtt", actor=self.actor, park_id=self.park_id)
        self.stats.batches += 1
        self.stats.readings += len(rows)
        log.debug(
            "committed batch %s: %d message(s), %d reading(s) (%d new, %d unchanged, %d revised)",
            result.batch_id,
            len(groups),
            len(rows),
            result.inserted,
            result.unchanged,
            result.revised,
        )

    def _drop_taken_slots(self, groups: list[_Message]) -> None:
        """Snapped register readings keep the first reading of an interval: drop later ones."""
        snapped = [(m, i) for m in groups for i, s in enumerate(m.rows.snapped) if s]  # type: ignore[union-attr]
        if not snapped:
            return
        ids = sorted({m.rows.channel_id[i] for m, i in snapped})  # type: ignore[union-attr]
        lo = min(m.rows.ts_us[i] for m, i in snapped)  # type: ignore[union-attr]
        hi = max(m.rows.ts_us[i] for m, i in snapped)  # type: ignore[union-attr]
        found = self.store.db.fetchall(
            f"SELECT channel_id, ts_start FROM readings WHERE channel_id IN ({', '.join(map(str, ids))})"
            " AND ts_start >= ? AND ts_start <= ?",
            (_from_us(lo), _from_us(hi)),
        )
        taken = {(int(c), _to_us(t)) for c, t in found}
        for m in groups:
            rows = m.rows
            assert rows is not None
            if not any(rows.snapped):
                continue
            keep = []
            for i, s in enumerate(rows.snapped):
                key = (rows.channel_id[i], rows.ts_us[i])
                if s and key in taken:
                    self.stats.snapped_dropped += 1
                    continue
                taken.add(key)
                keep.append(i)
            if len(keep) < len(rows):
                m.rows = ResolvedRows(
                    [rows.channel_id[i] for i in keep],
                    [rows.ts_us[i] for i in keep],
                    [rows.value[i] for i in keep],
                    [rows.quality[i] for i in keep],
                    [rows.snapped[i] for i in keep],
                )

    def _finish(self, batch: list[_Message]) -> None:
        """Dead-letter what was refused (confirmed by the broker), then ack the batch in order."""
        pending = []
        for m in batch:
            if m.error is None or m.generation == -1:
                continue
            self.stats.dead_letters += 1
            log.warning("dead letter from %s: %s", m.topic, m.error)
            pending.append((m, self._publish_dead_letter(m)))
        unconfirmed = set()
        for m, info in pending:
            try:
                info.wait_for_publish(timeout=10)
                ok = info.is_published()
            except (RuntimeError, ValueError):
                ok = False
            if not ok:
                unconfirmed.add(id(m))
                log.warning(
                    "dead letter from %s not confirmed by the broker; the message stays unacknowledged", m.topic
                )
        acked = 0
        with self._conn_lock:
            if self._connected:
                for m in batch:
                    if m.generation != self._generation or id(m) in unconfirmed:
                        continue
                    self._client.ack(m.mid, m.qos)
                    acked += 1
        self.stats.acked += acked
        if not acked and batch:
            log.info("connection changed during a batch: %d message(s) left to the broker to deliver again", len(batch))
        self.stats.ignored += sum(1 for m in batch if m.rows is None and m.error is None)
        if self.on_commit is not None:
            self.on_commit(self.stats)

    def _publish_dead_letter(self, m: _Message) -> mqtt.MQTTMessageInfo:
        try:
            text, encoding = m.payload.decode("utf-8"), None
        except UnicodeDecodeError:
            text, encoding = base64.b64encode(m.payload).decode("ascii"), "base64"
        doc = {
            "topic": m.topic,
            "reason": m.error,
            "received_at": m.received_at.isoformat(),
            "ingestor": self.client_id,
            "payload": text,
        }
        if encoding:
            doc["payload_encoding"] = encoding
        return self._client.publish(self.deadletter_topic, json.dumps(doc, ensure_ascii=False), qos=1)

    def _reset_connection(self) -> None:
        """Forget this thread's broken database connection so the next statement opens a new one."""
        self.store.db.reset_broken()


def _from_us(us: int) -> datetime:
    return datetime.fromtimestamp(us // 1_000_000, UTC).replace(microsecond=us % 1_000_000)


def _to_us(ts: datetime) -> int:
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return (ts - _EPOCH) // _ONE_US


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)


# -- entry point ---------------------------------------------------------------------------------------------
def listen(
    database_url: str | None,
    park_code: str,
    *,
    client_id: str | None = None,
    host: str | None = None,
    port: int | None = None,
    device_map: str | DeviceMap | dict | None = None,
    stop_event: threading.Event | None = None,
    **options: Any,
) -> IngestStats:
    """Open the store and ingest until SIGTERM/SIGINT (or `stop_event`); returns the final counters.

    This is what ``python -m parkzero.ingest.mqtt`` (and the CLI) runs. `options` go to `MqttIngestor`.
    """
    from parkzero.config import Settings

    settings = Settings.from_env()
    if isinstance(device_map, str):
        device_map = DeviceMap.load(device_map)
    stop = stop_event or threading.Event()
    if stop_event is None and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    store = open_store(database_url or settings.database_url)
    try:
        ingestor = MqttIngestor(
            store,
            park_code,
            host=host or settings.mqtt_host,
            port=port or settings.mqtt_port,
            client_id=client_id or f"parkzero-ingest-{park_code}",
            device_map=device_map,
            **options,
        )
        ingestor.run(stop)
        log.info("stopped: %s", json.dumps(ingestor.stats.as_dict()))
        return ingestor.stats
    finally:
        store.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m parkzero.ingest.mqtt", description=__doc__.split("\n")[0])
    ap.add_argument("--database-url", help="store URL (default PARKZERO_DATABASE_URL or the embedded file)")
    ap.add_argument("--park", required=True, help="park code")
    ap.add_argument("--client-id", help="fixed MQTT client id (default parkzero-ingest-<park>)")
    ap.add_argument("--host", help="broker host (default PARKZERO_MQTT_HOST or 127.0.0.1)")
    ap.add_argument("--port", type=int, help="broker port (default PARKZERO_MQTT_PORT or 1883)")
    ap.add_argument("--device-map", help="device map file (.json or .toml)")
    ap.add_argument("--protocol", choices=("3.1.1", "5"), default="5", help="MQTT version (default 5, see above)")
    ap.add_argument("--receive-maximum", type=int, default=1000, help="MQTT 5: messages in flight to us")
    ap.add_argument("--batch-max", type=int, default=5000, help="readings per transaction at most")
    ap.add_argument("--batch-wait", type=float, default=0.2, help="longest wait for a batch to fill [s]")
    ap.add_argument("--log-level", default="INFO", choices=("DEBUG", "INFO", "WARNING", "ERROR"))
    args = ap.parse_args(argv)
    logging.basicConfig(
        level=args.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        listen(
            args.database_url,
            args.park,
            client_id=args.client_id,
            host=args.host,
            port=args.port,
            device_map=args.device_map,
            protocol=args.protocol,
            receive_maximum=args.receive_maximum,
            batch_max=args.batch_max,
            batch_wait_s=args.batch_wait,
        )
    except ParkzeroError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
