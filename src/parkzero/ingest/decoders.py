"""MQTT payloads into normalised readings: pure functions of (topic, payload bytes) and configuration.

Each decoder turns one message into a list of `DecodedReading` (channel code, timezone-aware time, value, unit,
quality) or raises `ValidationFailed` with a reason a person can act on. A message is all or nothing: one bad
reading rejects the whole message. `resolve` then maps readings onto the registry (channel ids, the channel's
canonical unit, its interval grid); `Router` picks the decoder for a topic and keeps what Home Assistant
discovery has registered.

Conventions decoded
-------------------
native ``parkzero/{park}/{channel}``
    JSON ``{"ts": "2025-03-01T08:15:00+08:00", "value": 12.5, "unit": "kWh", "quality": "measured"}``, a list
    of such objects, or ``{"readings": [...]}``; ``unit`` (default: the channel's canonical unit) and
    ``quality`` (default ``measured``) are optional. ``ts`` is ISO 8601 with an offset (``Z`` allowed); a
    time without zone is refused. On ``parkzero/{park}/batch`` each object also names its ``channel``.
Tasmota ``tele/<device>/SENSOR``
    ``{"Time": "2025-03-01T08:15:00", "ENERGY": {"Total": 123.456, "Power": 1200, ...}}``. ``Time`` is the
    device's local time without zone (with an offset when SetOption52 is on); the zone is the device's
    ``timezone`` in the device map, else the map's, else the park's. ENERGY units: Total/Today/Yesterday kWh,
    Power W; several relays give lists (``"Total": [0.0, 2.91]``), mapped as ``ENERGY.Total.1``.
Shelly Gen2+ ``<device>/events/rpc``
    RPC notifications ``{"src": "shellypro3em-...", "method": "NotifyStatus", "params": {"ts": 1740788100.12,
    "emdata:0": {"total_act": ...}, "em:0": {"total_act_power": ...}}}``; ``ts`` is Unix time (UTC).
    Energies (``total_act``, ``*_energy``, ``aenergy.total``) are Wh, powers (``apower``, ``*act_power``) W.
    NotifyStatus carries only what changed, so a message may hold none of the mapped fields (no reading).
Home Assistant MQTT discovery ``homeassistant/sensor/[<node>/]<object>/config``
    Registers ``state_topic`` (with ``~`` and the abbreviations HA accepts: ``stat_t``, ``unit_of_meas``,
    ``val_tpl`` ...) for an entity named in the device map by ``unique_id``, ``<node>/<object>`` or object id;
    device-based discovery (``homeassistant/device/<id>/config`` with ``cmps``) too. State payloads are a
    plain number or JSON read by a simple ``value_template`` (``{{ value_json.x.y }}``, ``value_json['x']``,
    optional ``| float``, ``| round(n)``, ``* k``, ``/ k``). A state carries no time: it is stamped with the
    time it was received. ``unavailable``/``unknown`` states are no reading.

Timestamps and the interval grid
--------------------------------
A reading of an ``interval`` channel covers [ts, ts + interval): its ts must lie on the channel's grid. A
``counter`` channel stores the register; devices report it whenever they like, so a device or entity whose
configuration says ``snap: true`` has its counter timestamps floored to the grid (the first reading in an
interval is kept, see `mqtt`); without ``snap`` a counter ts must be aligned too.

Device map
----------
A dict (from JSON or TOML, see `DeviceMap.load`)::

    {"timezone": "Asia/Shanghai", "snap": false,
     "devices": {"tasmota_8C1A2B": {"timezone": "Asia/Shanghai", "snap": true,
                                    "fields": {"ENERGY.Total": "office.meter", "ENERGY.Power": "office.power"}},
                 "shellypro3em-c8f09e8865a4": {"snap": true, "fields": {"emdata:0.total_act": "steel.reg",
                                               "em:0.total_act_power": {"channel": "steel.kw", "unit": "W"}}}},
     "entities": {"218FF9_ENERGY_Total": {"channel": "office.meter", "snap": true},
                  "gas_meter_total": {"channel": "steel.gas", "unit": "Nm3"}}}

A field or entity maps to a channel code, or to ``{"channel": ..., "unit": ...}`` when the unit is not the
convention's (a gas register labelled m3 that the channel counts in Nm3 is such a deliberate choice).
"""

from __future__ import annotations

import json as _json
import math
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from parkzero.errors import Issue, ValidationFailed
from parkzero.registry.repo import ChannelInfo
from parkzero.store.readings import QUALITY_CODES
from parkzero.units import conversion_factor

try:  # orjson parses the payloads 2-3x faster when it is installed; the standard library is the fallback
    import orjson as _orjson  # type: ignore[import-not-found, unused-ignore]

    _loads: Callable[[bytes], Any] = _orjson.loads
except ImportError:  # pragma: no cover - depends on the environment
    _loads = _json.loads

__all__ = [
    "DecodedReading",
    "DeviceConfig",
    "DeviceMap",
    "FieldTarget",
    "HaEntity",
    "ResolvedRows",
    "Router",
    "UnknownChannel",
    "UnknownTopic",
    "decode_ha_state",
    "decode_native",
    "decode_shelly",
    "decode_tasmota",
    "parse_ha_config",
    "resolve",
]

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


class DecodedReading(NamedTuple):
    """One reading as a device sent it, before the registry is consulted.

    channel_code : channel code in the park's registry
    ts : timezone-aware start of the interval (interval channels) or time of the register (counters)
    value : the value in `unit`
    unit : unit as sent; None means the channel's canonical unit
    quality : measured, estimated, filled or rejected
    snap : floor ts to the channel's grid if the channel is a counter (set from the device configuration)
    """

    channel_code: str
    ts: datetime
    value: float
    unit: str | None
    quality: str = "measured"
    snap: bool = False


class UnknownChannel(ValidationFailed):
    """Readings name channel codes the registry does not have (yet: the caller may refresh and retry)."""

    def __init__(self, codes: list[str]):
        self.codes = codes
        shown = ", ".join(repr(c) for c in codes[:10])
        more = f" and {len(codes) - 10} more" if len(codes) > 10 else ""
        super().__init__(f"no channel {shown}{more} in this park")


class UnknownTopic(ValidationFailed):
    """A message on a topic that no decoder claims (e.g. a state topic whose discovery config is not known)."""


def _reject(reason: str, value: Any = None) -> ValidationFailed:
    shown = None if value is None else _short(value)
    return ValidationFailed(reason if shown is None else f"{reason} (got {shown})")


def _short(value: Any, limit: int = 80) -> str:
    text = value.decode("utf-8", "replace") if isinstance(value, bytes | bytearray) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _parse_json(payload: bytes, what: str) -> Any:
    try:
        return _loads(payload)
    except ValueError as exc:  # json.JSONDecodeError, orjson.JSONDecodeError and UnicodeDecodeError
        raise _reject(f"{what}: payload is not JSON ({exc})", payload) from None


def _number(value: Any, where: str) -> float:
    if type(value) is float:
        number = value
    elif type(value) is int:
        number = float(value)
    else:
        if value is None:
            raise _reject(f"{where}: no value")
        raise _reject(f"{where}: value must be a number", value)
    if not math.isfinite(number):
        raise _reject(f"{where}: value must be a finite number", value)
    return number


# -- device map ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FieldTarget:
    """Where one device field or discovered entity goes: a channel, and the unit if not the convention's."""

    channel: str
    unit: str | None = None
    snap: bool | None = None  # None: the device's (or map's) setting


@dataclass(frozen=True)
class DeviceConfig:
    fields: dict[str, FieldTarget]
    timezone: tzinfo | None = None
    snap: bool | None = None


@dataclass(frozen=True)
class DeviceMap:
    """Which device fields and Home Assistant entities feed which channels (see the module docstring)."""

    devices: dict[str, DeviceConfig] = field(default_factory=dict)
    entities: dict[str, FieldTarget] = field(default_factory=dict)
    timezone: tzinfo | None = None
    snap: bool = False

    @classmethod
    def from_dict(cls, doc: Mapping[str, Any] | None) -> DeviceMap:
        """Validate a device map document; raises ValidationFailed listing every problem."""
        doc = doc or {}
        issues: list[Issue] = []
        if not isinstance(doc, Mapping):
            raise ValidationFailed("device map: must be an object")
        unknown = set(doc) - {"timezone", "snap", "devices", "entities"}
        if unknown:
            issues.append(Issue(f"unknown key(s) {', '.join(sorted(unknown))}", column="device map"))
        zone = _zone(doc.get("timezone"), "device map", issues)
        snap = _flag(doc.get("snap", False), "device map", issues)
        devices: dict[str, DeviceConfig] = {}
        raw_devices = doc.get("devices") or {}
        if not isinstance(raw_devices, Mapping):
            issues.append(Issue("'devices' must be an object of device id -> settings", column="device map"))
            raw_devices = {}
        for name, spec in raw_devices.items():
            where = f"device {name}"
            if not isinstance(spec, Mapping):
                issues.append(Issue("must be an object with 'fields'", column=where))
                continue
            extra = set(spec) - {"fields", "timezone", "snap"}
            if extra:
                issues.append(Issue(f"unknown key(s) {', '.join(sorted(extra))}", column=where))
            raw_fields = spec.get("fields") or {}
            if not isinstance(raw_fields, Mapping) or not raw_fields:
                issues.append(Issue("'fields' must map device fields to channel codes", column=where))
                raw_fields = {}
            fields = {}
            for path, target in raw_fields.items():
                parsed = _target(target, f"{where} field {path}", issues)
                if parsed is not None:
                    fields[_norm_path(str(path))] = parsed
            devices[str(name)] = DeviceConfig(
                fields,
                _zone(spec.get("timezone"), where, issues),
                None if spec.get("snap") is None else _flag(spec["snap"], where, issues),
            )
        entities: dict[str, FieldTarget] = {}
        raw_entities = doc.get("entities") or {}
        if not isinstance(raw_entities, Mapping):
            issues.append(Issue("'entities' must be an object of unique_id -> channel", column="device map"))
            raw_entities = {}
        for name, target in raw_entities.items():
            parsed = _target(target, f"entity {name}", issues)
            if parsed is not None:
                entities[str(name)] = parsed
        if issues:
            raise ValidationFailed("device map rejected", issues=issues)
        return cls(devices, entities, zone, snap)

    @classmethod
    def load(cls, path: str | Path) -> DeviceMap:
        """Read a device map from a .json or .toml file."""
        path = Path(path)
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise ValidationFailed(f"device map {path}: cannot read ({exc.strerror})") from None
        try:
            doc = tomllib.loads(raw.decode("utf-8")) if path.suffix == ".toml" else _json.loads(raw)
        except (ValueError, tomllib.TOMLDecodeError) as exc:
            raise ValidationFailed(
                f"device map {path}: not valid {path.suffix.lstrip('.') or 'JSON'} ({exc})"
            ) from None
        return cls.from_dict(doc)

    def device(self, name: str) -> DeviceConfig | None:
        return self.devices.get(name)


def _zone(name: Any, where: str, issues: list[Issue]) -> tzinfo | None:
    if name is None:
        return None
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        issues.append(Issue(f"unknown time zone {name!r} (use an IANA name such as Asia/Shanghai)", column=where))
        return None


def _flag(value: Any, where: str, issues: list[Issue]) -> bool:
    if not isinstance(value, bool):
        issues.append(Issue(f"'snap' must be true or false, not {value!r}", column=where))
        return False
    return value


def _target(spec: Any, where: str, issues: list[Issue]) -> FieldTarget | None:
    if isinstance(spec, str) and spec:
        return FieldTarget(spec)
    if isinstance(spec, Mapping) and isinstance(spec.get("channel"), str) and spec["channel"]:
        extra = set(spec) - {"channel", "unit", "snap"}
        if extra:
            issues.append(Issue(f"unknown key(s) {', '.join(sorted(extra))}", column=where))
        unit = spec.get("unit")
        if unit is not None and not isinstance(unit, str):
            issues.append(Issue("'unit' must be text such as 'Wh'", column=where))
            unit = None
        snap = None if spec.get("snap") is None else _flag(spec["snap"], where, issues)
        return FieldTarget(spec["channel"], unit, snap)
    issues.append(Issue('must be a channel code or {"channel": ..., "unit": ...}', column=where))
    return None


_INDEX = re.compile(r"\[(\d+)\]")


def _norm_path(path: str) -> str:
    """'ENERGY.Power[1]' -> 'ENERGY.Power.1'."""
    return _INDEX.sub(r".\1", path.strip())


def _walk(obj: Any, path: str) -> Any:
    """The value at a dotted path ('ENERGY.Total.1', 'emdata:0.total_act'); None where it is absent."""
    for key in path.split("."):
        if isinstance(obj, dict):
            obj = obj.get(key)
        elif isinstance(obj, list) and key.isdigit() and int(key) < len(obj):
            obj = obj[int(key)]
        else:
            return None
        if obj is None:
            return None
    return obj


# -- native ------------------------------------------------------------------------------------------------
def _items(doc: Any, what: str) -> list[Any]:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        inner = doc.get("readings")
        if inner is None:
            return [doc]
        if isinstance(inner, list):
            return inner
        raise _reject(f"{what}: 'readings' must be a list", inner)
    raise _reject(f"{what}: payload must be a JSON object or a list of objects", doc)


def decode_native(topic: str, payload: bytes, *, park_code: str | None = None) -> list[DecodedReading]:
    """Decode ``parkzero/{park}/{channel}`` and ``parkzero/{park}/batch`` payloads (see the module docstring)."""
    parts = topic.split("/")
    if len(parts) != 3 or parts[0] != "parkzero" or not parts[2]:
        raise ValidationFailed(f"topic {topic!r} is not parkzero/<park>/<channel> or parkzero/<park>/batch")
    if park_code is not None and parts[1] != park_code:
        raise ValidationFailed(f"topic {topic!r} is for park {parts[1]!r}, not {park_code!r}")
    batch = parts[2] == "batch"
    topic_channel = None if batch else parts[2]
    items = _items(_parse_json(payload, topic), topic)
    out: list[DecodedReading] = []
    append = out.append
    stamps: dict[str, datetime] = {}  # a gateway sends many channels with one time
    channel: Any
    for i, item in enumerate(items):
        if type(item) is not dict:
            raise _reject(f"{topic} reading {i + 1}: must be an object with ts and value", item)
        if batch:
            channel = item.get("channel")
            if not isinstance(channel, str) or not channel:
                raise _reject(
                    f"{topic} reading {i + 1}: no 'channel' (a batch names the channel of every reading)", item
                )
        else:
            channel = item.get("channel", topic_channel)
            if channel != topic_channel:
                raise _reject(
                    f"{topic} reading {i + 1}: channel {channel!r} differs from the topic's {topic_channel!r}"
                )
        text = item.get("ts")
        ts = stamps.get(text) if isinstance(text, str) else None
        if ts is None:
            ts = _aware(text, f"{topic} reading {i + 1}")
            stamps[text] = ts  # type: ignore[index]  # _aware refuses anything but text
        value = item.get("value")
        if type(value) is not float:
            value = _number(value, f"{topic} reading {i + 1}")
        elif value - value != 0.0:  # NaN or infinity
            raise _reject(f"{topic} reading {i + 1}: value must be a finite number", value)
        unit = item.get("unit")
        if unit is not None and (type(unit) is not str or not unit):
            raise _reject(f"{topic} reading {i + 1}: unit must be text such as 'kWh'", unit)
        quality = item.get("quality", "measured")
        if quality != "measured" and (type(quality) is not str or quality not in QUALITY_CODES):
            raise _reject(f"{topic} reading {i + 1}: quality must be one of {', '.join(QUALITY_CODES)}", quality)
        append(DecodedReading(channel, ts, value, unit, quality))
    return out


def _aware(text: Any, where: str) -> datetime:
    if not isinstance(text, str):
        raise _reject(f"{where}: 'ts' must be an ISO 8601 time with offset such as 2025-03-01T08:15:00+08:00", text)
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise _reject(f"{where}: 'ts' is not an ISO 8601 time", text) from None
    if ts.tzinfo is None:
        raise _reject(f"{where}: 'ts' has no time zone; write the offset, e.g. 2025-03-01T08:15:00+08:00", text)
    return ts


# -- Tasmota ----------------------------------------------------------------------------------------------
_TASMOTA_UNITS = {
    "Total": "kWh",
    "Today": "kWh",
    "Yesterday": "kWh",
    "Power": "W",
    "ApparentPower": "VA",
    "ReactivePower": "var",
    "Voltage": "V",
    "Current": "A",
}


def decode_tasmota(
    topic: str, payload: bytes, device_map: DeviceMap, *, default_timezone: tzinfo | None = None
) -> list[DecodedReading]:
    """Decode a Tasmota ``tele/<device>/SENSOR`` telemetry message.

    `default_timezone` is the park's zone, used when neither the device nor the map names one.
    """
    parts = topic.split("/")
    if len(parts) != 3 or parts[0] != "tele" or parts[2] != "SENSOR":
        raise ValidationFailed(f"topic {topic!r} is not tele/<device>/SENSOR")
    device = parts[1]
    config = device_map.device(device)
    if config is None:
        raise ValidationFailed(f"unknown Tasmota device {device!r}: add it to the device map's devices")
    doc = _parse_json(payload, topic)
    if not isinstance(doc, dict):
        raise _reject(f"{topic}: payload must be a JSON object", doc)
    zone = config.timezone or device_map.timezone or default_timezone
    ts = _tasmota_time(doc.get("Time"), zone, topic)
    snap = config.snap if config.snap is not None else device_map.snap
    out = []
    for path, target in config.fields.items():
        raw = _walk(doc, path)
        if raw is None and "." not in path and isinstance(doc.get("ENERGY"), dict):
            raw = doc["ENERGY"].get(path)  # 'Total' is short for 'ENERGY.Total'
        if raw is None:
            continue  # this telemetry message does not carry the field
        if isinstance(raw, list):
            raise _reject(
                f"{topic}: field {path} holds one value per relay; map {path}.0 .. {path}.{len(raw) - 1}", raw
            )
        out.append(_field_reading(topic, path, raw, target, target.unit or _tasmota_unit(path, doc), ts, snap))
    return out


def _tasmota_unit(path: str, doc: dict) -> str | None:
    keys = [k for k in path.split(".") if not k.isdigit()]
    last = keys[-1] if keys else path
    if last == "Temperature":
        return doc.get("TempUnit", "C")
    return _TASMOTA_UNITS.get(last)


def _tasmota_time(text: Any, zone: tzinfo | None, topic: str) -> datetime:
    if not isinstance(text, str):
        raise _reject(f"{topic}: no 'Time' (Tasmota telemetry carries the device time)", text)
    try:
        ts = datetime.fromisoformat(text)
    except ValueError:
        raise _reject(f"{topic}: 'Time' is not an ISO 8601 time", text) from None
    if ts.tzinfo is not None:  # SetOption52 adds the offset
        return ts
    if zone is None:
        raise _reject(f"{topic}: 'Time' has no zone and no time zone is configured for the device", text)
    local = ts.replace(tzinfo=zone)
    if local.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != ts:
        raise _reject(f"{topic}: 'Time' does not exist in {zone} (a daylight-saving gap)", text)
    return local


# -- Shelly -----------------------------------------------------------------------------------------------
def _shelly_unit(path: str) -> str | None:
    keys = path.split(".")
    last = keys[-1]
    parent = keys[-2] if len(keys) > 1 else ""
    if last == "total" and parent in ("aenergy", "ret_aenergy"):
        return "Wh"
    if "energy" in last or last in ("total_act", "total_act_ret"):
        return "Wh"
    if last.endswith("aprt_power"):
        return "VA"
    if last.endswith("power") or last == "apower":
        return "W"
    if last.endswith("voltage"):
        return "V"
    if last.endswith("current"):
        return "A"
    if last == "tC":
        return "degC"
    return None


def decode_shelly(topic: str, payload: bytes, device_map: DeviceMap) -> list[DecodedReading]:
    """Decode a Shelly Gen2+ RPC notification on ``<device>/events/rpc`` (NotifyStatus, NotifyFullStatus).

    The device is looked up in the device map by its topic prefix, then by the notification's ``src``.
    NotifyEvent and other methods carry no reading.
    """
    if not topic.endswith("/events/rpc") or topic == "/events/rpc":
        raise ValidationFailed(f"topic {topic!r} is not <device>/events/rpc")
    prefix = topic[: -len("/events/rpc")]
    doc = _parse_json(payload, topic)
    if not isinstance(doc, dict):
        raise _reject(f"{topic}: payload must be a JSON object (an RPC notification)", doc)
    src = doc.get("src")
    config = device_map.device(prefix) or (device_map.device(src) if isinstance(src, str) else None)
    if config is None:
        raise ValidationFailed(f"unknown Shelly device {src or prefix!r}: add it to the device map's devices")
    method = doc.get("method")
    if method not in ("NotifyStatus", "NotifyFullStatus"):
        if isinstance(method, str):
            return []
        raise _reject(f"{topic}: not an RPC notification (no 'method')", doc)
    params = doc.get("params")
    if not isinstance(params, dict):
        raise _reject(f"{topic}: {method} without 'params'", params)
    epoch = params.get("ts")
    if isinstance(epoch, bool) or not isinstance(epoch, int | float) or not math.isfinite(epoch):
        raise _reject(f"{topic}: {method} without a Unix time 'ts' in params", epoch)
    try:
        ts = datetime.fromtimestamp(epoch, UTC)
    except (OverflowError, OSError, ValueError):
        raise _reject(f"{topic}: 'ts' is not a Unix time", epoch) from None
    snap = config.snap if config.snap is not None else device_map.snap
    out = []
    for path, target in config.fields.items():
        raw = _walk(params, path)
        if raw is None:
            continue  # partial update without this field
        out.append(_field_reading(topic, path, raw, target, target.unit or _shelly_unit(path), ts, snap))
    return out


def _field_reading(topic: str, path: str, raw: object, target, unit: str | None, ts: datetime, snap: bool):
    """One device field as a reading of its mapped channel (the device map's snap wins over the default)."""
    if unit is None:
        raise ValidationFailed(f"{topic}: unit of field {path} is not known; give 'unit' in the device map")
    value = _number(raw, f"{topic} field {path}")
    return DecodedReading(target.channel, ts, value, unit, "measured", snap if target.snap is None else target.snap)


# -- Home Assistant discovery -----------------------------------------------------------------------------
_HA_ABBREVIATIONS = {
    "stat_t": "state_topic",
    "unit_of_meas": "unit_of_measurement",
    "dev_cla": "device_class",
    "stat_cla": "state_class",
    "uniq_id": "unique_id",
    "val_tpl": "value_template",
    "obj_id": "object_id",
    "def_ent_id": "default_entity_id",
    "p": "platform",
    "cmps": "components",
    "dev": "device",
    "o": "origin",
}


@dataclass(frozen=True)
class HaEntity:
    """A Home Assistant sensor registered by discovery and mapped to a channel."""

    key: str  # unique_id, or <node>/<object>, as matched in the device map
    config_topic: str
    state_topic: str
    channel: str
    unit: str | None
    path: tuple[str, ...] | None  # value_json path; None: the payload is the value
    scale: float = 1.0
    digits: int | None = None
    snap: bool = False


def _expand(doc: dict) -> dict:
    out = {_HA_ABBREVIATIONS.get(k, k): v for k, v in doc.items()}
    base = out.get("~")
    if isinstance(base, str):
        for k, v in out.items():
            if k.endswith("_topic") and isinstance(v, str):
                if v.startswith("~"):
                    out[k] = base + v[1:]
                elif v.endswith("~"):
                    out[k] = v[:-1] + base
    return out


def parse_ha_config(topic: str, payload: bytes, device_map: DeviceMap) -> list[HaEntity]:
    """The mapped entities a discovery config registers ([] for unmapped ones and for removals).

    Raises ValidationFailed when a mapped entity's config is unusable (no state topic, a template that is not
    a simple value_json path).
    """
    parts = topic.split("/")
    if len(parts) not in (4, 5) or parts[-1] != "config":
        raise ValidationFailed(f"topic {topic!r} is not <prefix>/<component>/[<node>/]<object>/config")
    if not payload.strip():
        return []  # an empty config removes the entity
    component = parts[1]
    node, object_id = (parts[2], parts[3]) if len(parts) == 5 else (None, parts[2])
    doc = _parse_json(payload, topic)
    if not isinstance(doc, dict):
        raise _reject(f"{topic}: discovery config must be a JSON object", doc)
    doc = _expand(doc)
    if component == "device":  # device-based discovery: one config, many components
        comps = doc.get("components")
        if not isinstance(comps, dict):
            raise _reject(f"{topic}: device discovery without 'components'", comps)
        shared = {k: v for k, v in doc.items() if k.endswith("_topic") or k in ("~", "qos")}
        out = []
        for comp_id, comp in comps.items():
            if not isinstance(comp, dict):
                continue
            comp = {**shared, **_expand(comp)}
            if comp.get("platform") != "sensor":
                continue
            entity = _ha_entity(topic, comp, device_map, (object_id, str(comp_id)))
            if entity:
                out.append(entity)
        return out
    if component != "sensor":
        return []
    candidates = (f"{node}/{object_id}", object_id) if node else (object_id,)
    entity = _ha_entity(topic, doc, device_map, candidates)
    return [entity] if entity else []


def _ha_entity(topic: str, doc: dict, device_map: DeviceMap, candidates: tuple[str, ...]) -> HaEntity | None:
    keys = [doc["unique_id"]] if isinstance(doc.get("unique_id"), str) else []
    keys += [c for c in candidates if c]
    target = key = None
    for key in keys:
        target = device_map.entities.get(key)
        if target is not None:
            break
    if target is None:
        return None  # an entity the park does not meter (temperature, a switch ...)
    state_topic = doc.get("state_topic")
    if not isinstance(state_topic, str) or not state_topic or "+" in state_topic or "#" in state_topic:
        raise _reject(f"{topic}: entity {key} has no usable state_topic", state_topic)
    unit = target.unit or doc.get("unit_of_measurement")
    if unit is not None and (not isinstance(unit, str) or not unit.strip()):
        unit = None
    path, scale, digits = _template(doc.get("value_template"), topic)
    snap = target.snap if target.snap is not None else device_map.snap
    return HaEntity(str(key), topic, state_topic, target.channel, unit, path, scale, digits, snap)


_TPL_PATH = re.compile(r"""\.([A-Za-z_][A-Za-z0-9_]*)|\[\s*(?:'([^']*)'|"([^"]*)"|(\d+))\s*\]""")
_TPL_EXPR = re.compile(r"^\{\{-?\s*(.*?)\s*-?\}\}$", re.S)
_TPL_FLOAT_CALL = re.compile(r"^(?:float|int)\((.*?)(?:,\s*[-\d.]+)?\)$")
_TPL_OP = re.compile(r"^(.*?)\s*([*/])\s*([-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?)$")
_TPL_FILTER = re.compile(r"^(float|int)(?:\([-\d.]*\))?$|^round(?:\((\d+)\))?$")


def _template(template: Any, topic: str) -> tuple[tuple[str, ...] | None, float, int | None]:
    """(value_json path or None, scale, round digits) of a simple value_template; refuses anything else."""
    if template is None:
        return None, 1.0, None
    if not isinstance(template, str):
        raise _reject(f"{topic}: value_template must be text", template)
    m = _TPL_EXPR.match(template.strip())
    if not m:
        raise _reject(f"{topic}: value_template is not a single {{{{ ... }}}} expression", template)
    pieces = [p.strip() for p in m.group(1).split("|")]
    expr, filters = pieces[0], pieces[1:]
    scale, digits = 1.0, None
    while True:
        call = _TPL_FLOAT_CALL.match(expr)
        op = _TPL_OP.match(expr)
        if call:
            expr = call.group(1).strip()
        elif op:
            factor = float(op.group(3))
            if op.group(2) == "/" and factor == 0:
                raise _reject(f"{topic}: value_template divides by zero", template)
            scale *= factor if op.group(2) == "*" else 1.0 / factor
            expr = op.group(1).strip()
        elif expr.startswith("(") and expr.endswith(")"):
            expr = expr[1:-1].strip()
        else:
            break
    for f in filters:
        fm = _TPL_FILTER.match(f)
        if not fm:
            raise _reject(f"{topic}: value_template filter {f!r} is not supported (float, int, round)", template)
        if f.startswith("round"):
            digits = int(fm.group(2) or 0)
    if expr == "value":
        return None, scale, digits
    if not expr.startswith("value_json"):
        raise _reject(f"{topic}: value_template must read value or value_json", template)
    rest = expr[len("value_json") :]
    path: list[str] = []
    pos = 0
    while pos < len(rest):
        pm = _TPL_PATH.match(rest, pos)
        if not pm:
            raise _reject(f"{topic}: value_template is not a simple value_json path", template)
        path.append(next(g for g in pm.groups() if g is not None))
        pos = pm.end()
    if not path:
        raise _reject(f"{topic}: value_template reads value_json without a key", template)
    return tuple(path), scale, digits


_HA_NO_STATE = {"", "unknown", "unavailable", "none", "null"}


def decode_ha_state(entity: HaEntity, payload: bytes, received_at: datetime) -> list[DecodedReading]:
    """Decode a state message of a discovered entity, stamped with the time it was received."""
    where = f"{entity.state_topic} (entity {entity.key})"
    if entity.path is None:
        try:
            text = payload.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise _reject(f"{where}: state is not UTF-8 text", payload) from None
        if text.lower() in _HA_NO_STATE:
            return []
        if len(text) > 1 and text[0] == text[-1] == '"':
            text = text[1:-1].strip()  # a JSON string
        try:
            raw: Any = float(text)
        except ValueError:
            raise _reject(f"{where}: state is not a number", payload) from None
    else:
        doc = _parse_json(payload, where)
        raw = doc
        for key in entity.path:
            if isinstance(raw, dict):
                raw = raw.get(key)
            elif isinstance(raw, list) and key.isdigit() and int(key) < len(raw):
                raw = raw[int(key)]
            else:
                raw = None
            if raw is None:
                raise _reject(f"{where}: payload has no value_json.{'.'.join(entity.path)}", payload)
        if isinstance(raw, str):
            if raw.strip().lower() in _HA_NO_STATE:
                return []
            try:
                raw = float(raw)
            except ValueError:
                raise _reject(f"{where}: value_json.{'.'.join(entity.path)} is not a number", raw) from None
    value = _number(raw, where) * entity.scale
    if entity.digits is not None:
        value = round(value, entity.digits)
    return [DecodedReading(entity.channel, received_at, value, entity.unit, "measured", entity.snap)]


# -- routing -----------------------------------------------------------------------------------------------
class Router:
    """Picks the decoder for a topic and keeps the state topics that Home Assistant discovery registered.

    Not thread-safe: one thread decodes. `decode` returns the readings of a message, or None for a message
    that carries no reading by design (the dead-letter topic, setpoints, HA status, discovery configs);
    it raises ValidationFailed for a bad message and UnknownTopic for a topic no decoder claims.
    """

    def __init__(
        self,
        park_code: str,
        device_map: DeviceMap | None = None,
        *,
        default_timezone: tzinfo | None = None,
        on_state_topic: Callable[[str], None] | None = None,
    ):
        self.park_code = park_code
        self.device_map = device_map or DeviceMap()
        self.default_timezone = default_timezone
        self.on_state_topic = on_state_topic
        self._by_config: dict[str, list[HaEntity]] = {}
        self._by_state: dict[str, list[HaEntity]] = {}

    @property
    def state_topics(self) -> set[str]:
        return set(self._by_state)

    def decode(self, topic: str, payload: bytes, received_at: datetime) -> list[DecodedReading] | None:
        parts = topic.split("/")
        head = parts[0]
        if head == "parkzero":
            if len(parts) != 3 or parts[1] != self.park_code or parts[2] == "deadletter":
                return None  # our own dead letters, setpoints going out, other parks
            return decode_native(topic, payload, park_code=self.park_code)
        if head == "homeassistant" and parts[-1] == "config":
            self._register(topic, payload)
            return None
        entities = self._by_state.get(topic)
        if entities is not None:
            out: list[DecodedReading] = []
            for entity in entities:
                out.extend(decode_ha_state(entity, payload, received_at))
            if head == "tele" and len(parts) == 3 and parts[2] == "SENSOR" and self.device_map.device(parts[1]):
                out.extend(decode_tasmota(topic, payload, self.device_map, default_timezone=self.default_timezone))
            return out
        if head == "tele" and len(parts) == 3 and parts[2] == "SENSOR":
            return decode_tasmota(topic, payload, self.device_map, default_timezone=self.default_timezone)
        if topic.endswith("/events/rpc"):
            return decode_shelly(topic, payload, self.device_map)
        if head == "homeassistant":
            return None  # homeassistant/status (birth and will), attributes ...
        raise UnknownTopic(f"no decoder for topic {topic!r} (no Home Assistant discovery config registers it)")

    def _register(self, topic: str, payload: bytes) -> None:
        old = self._by_config.pop(topic, [])
        for entity in old:
            remaining = [e for e in self._by_state.get(entity.state_topic, []) if e.config_topic != topic]
            if remaining:
                self._by_state[entity.state_topic] = remaining
            else:
                self._by_state.pop(entity.state_topic, None)
        entities = parse_ha_config(topic, payload, self.device_map)
        if not entities:
            return
        self._by_config[topic] = entities
        for entity in entities:
            known = entity.state_topic in self._by_state
            self._by_state.setdefault(entity.state_topic, []).append(entity)
            if not known and self.on_state_topic is not None:
                self.on_state_topic(entity.state_topic)


# -- onto the registry -------------------------------------------------------------------------------------
@dataclass
class ResolvedRows:
    """Readings as merge-ready columns: channel id, ts [us since epoch, UTC], value [canonical unit], quality.

    `snapped` flags rows whose counter timestamp was floored to the grid (first reading in an interval wins).
    """

    channel_id: list[int] = field(default_factory=list)
    ts_us: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    quality: list[int] = field(default_factory=list)
    snapped: list[bool] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.channel_id)

    def extend(self, other: ResolvedRows) -> None:
        self.channel_id += other.channel_id
        self.ts_us += other.ts_us
        self.value += other.value
        self.quality += other.quality
        self.snapped += other.snapped


def resolve(
    readings: Iterable[DecodedReading],
    channels: Mapping[str, ChannelInfo],
    *,
    factors: dict[tuple[str, str], float] | None = None,
) -> ResolvedRows:
    """Map decoded readings onto channels: ids, canonical units, the interval grid.

    Parameters
    ----------
    channels : mapping of channel code to ChannelInfo
        The park's channels (`registry.repo.channel_index`).
    factors : dict, optional
        A cache of unit conversion factors kept by the caller between messages.

    Raises UnknownChannel for codes not in `channels`, ValidationFailed for units that do not convert and for
    timestamps off the channel's grid (a counter with snap is floored instead).
    """
    factors = {} if factors is None else factors
    rows = ResolvedRows()
    ids, stamps, values, qualities, snapped = rows.channel_id, rows.ts_us, rows.value, rows.quality, rows.snapped
    unknown: list[str] = []
    for r in readings:
        info = channels.get(r.channel_code)
        if info is None:
            if r.channel_code not in unknown:
                unknown.append(r.channel_code)
            continue
        value = r.value
        if r.unit is not None and r.unit != info.unit:
            key = (r.unit, info.unit)
            factor = factors.get(key)
            if factor is None:
                try:
                    factor = conversion_factor(r.unit, info.unit)
                except ValidationFailed as exc:
                    raise ValidationFailed(f"channel {info.code}: {exc.detail}") from None
                factors[key] = factor
            value = value * factor
        us = (r.ts - _EPOCH) // _US
        step = info.interval_s * 1_000_000
        off = us % step
        snap = False
        if off:
            if r.snap and info.behaviour == "counter":
                us -= off
                snap = True
            else:
                raise ValidationFailed(_misaligned(r, info))
        ids.append(info.id)
        stamps.append(us)
        values.append(value)
        qualities.append(QUALITY_CODES[r.quality])
        snapped.append(snap)
    if unknown:
        raise UnknownChannel(unknown)
    return rows


def _misaligned(r: DecodedReading, info: ChannelInfo) -> str:
    grid = f"{info.interval_s} s grid" if info.interval_s % 60 else f"{info.interval_s // 60}-minute grid"
    if info.behaviour == "counter":
        hint = "set snap: true for the device in the device map to floor register times to the grid"
    else:
        hint = "an interval reading is stamped with the start of its interval"
    return f"channel {info.code}: {r.ts.isoformat()} is not on the channel's {grid} ({hint})"
