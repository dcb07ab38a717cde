"""MQTT decoders: the payloads devices really send (tests/data/mqtt) into readings, and clear refusals."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from parkzero.errors import ValidationFailed
from parkzero.ingest.decoders import (
    DecodedReading,
    DeviceMap,
    Router,
    UnknownChannel,
    UnknownTopic,
    decode_ha_state,
    decode_native,
    decode_shelly,
    decode_tasmota,
    parse_ha_config,
    resolve,
)

from .conftest import DATA, info

MQTT = DATA / "mqtt"
SHANGHAI = ZoneInfo("Asia/Shanghai")
T0815Z = datetime(2025, 3, 1, 0, 15, tzinfo=UTC)  # 08:15 in Shanghai


def sample(name: str) -> bytes:
    return (MQTT / name).read_bytes()


@pytest.fixture
def channels(channels):
    """The test park's channels (tests/ingest/conftest.py) plus the registers and power channels devices feed."""
    extra = (
        info("office.meter", 21, behaviour="counter"),
        info("office.power", 22, kind="active_power", unit="kW"),
        info("steel.meter", 23, behaviour="counter"),
        info("steel.power", 24, kind="active_power", unit="kW"),
        info("pv1.meter", 25, behaviour="counter"),
        info("pv1.aux", 26, behaviour="counter"),
    )
    return {**channels, **{c.code: c for c in extra}}


@pytest.fixture
def device_map() -> DeviceMap:
    return DeviceMap.load(MQTT / "device_map.toml")


def rows_of(readings, channels) -> list[tuple[str, str, float, int]]:
    """(code, UTC iso time, canonical value, quality) of resolved readings."""
    rows = resolve(readings, channels)
    by_id = {c.id: c.code for c in channels.values()}
    return [
        (by_id[cid], datetime.fromtimestamp(us / 1e6, UTC).isoformat(), v, q)
        for cid, us, v, q in zip(rows.channel_id, rows.ts_us, rows.value, rows.quality, strict=True)
    ]


def refused(fn, *args, **kw) -> str:
    with pytest.raises(ValidationFailed) as err:
        fn(*args, **kw)
    return str(err.value)


# -- native --------------------------------------------------------------------------------------------
def test_native_single_object(channels):
    readings = decode_native("parkzero/p1/steel.main", sample("native_single.json"), park_code="p1")
    assert readings == [
        DecodedReading("steel.main", datetime(2025, 3, 1, 8, 15, tzinfo=readings[0].ts.tzinfo), 12.5, "kWh", "measured")
    ]
    assert rows_of(readings, channels) == [("steel.main", "2025-03-01T00:15:00+00:00", 12.5, 0)]


def test_native_list_converts_units_and_keeps_quality(channels):
    readings = decode_native("parkzero/p1/office.main", sample("native_list.json"))
    assert rows_of(readings, channels) == [
        ("office.main", "2025-03-01T00:00:00+00:00", 12.5, 0),  # 0.0125 MWh x 1,000 = 12.5 kWh
        ("office.main", "2025-03-01T00:15:00+00:00", 12.75, 0),
        ("office.main", "2025-03-01T00:30:00+00:00", 13.0, 0),  # 'Z' is UTC
        ("office.main", "2025-03-01T00:45:00+00:00", 12.0, 1),  # estimated
    ]


def test_native_readings_envelope_with_chinese_units(channels):
    readings = decode_native("parkzero/p1/steel.eaf", sample("native_readings.json"))
    assert rows_of(readings, channels) == [
        ("steel.eaf", "2025-03-01T00:15:00+00:00", 12000.0, 0),  # 1.2 万kWh = 12,000 kWh
        ("steel.eaf", "2025-03-01T00:30:00+00:00", 11800.0, 0),
    ]


def test_native_batch_names_the_channel_of_every_reading(channels):
    rows = rows_of(decode_native("parkzero/p1/batch", sample("native_batch.json")), channels)
    assert rows == [
        ("steel.main", "2025-03-01T01:00:00+00:00", 1830.4, 0),
        ("office.main", "2025-03-01T01:00:00+00:00", 42.1, 0),
        ("pv1.gen", "2025-03-01T01:00:00+00:00", 96.5, 0),  # 96,500 Wh / 1,000 = 96.5 kWh
        ("steel.gas", "2025-03-01T01:00:00+00:00", pytest.approx(18562.0), 0),  # 1.8562 万Nm3 = 18,562 Nm3
    ]


@pytest.mark.parametrize(
    ("topic", "payload", "reason"),
    [
        ("parkzero/p1/steel.main", b"12.5 kWh", "payload is not JSON"),
        ("parkzero/p1/steel.main", b"\xff\xfe", "payload is not JSON"),
        ("parkzero/p1/steel.main", b'{"ts": "2025-03-01T08:15:00+08:00"}', "no value"),
        ("parkzero/p1/steel.main", b'{"ts": "2025-03-01T08:15:00+08:00", "value": "12.5"}', "value must be a number"),
        ("parkzero/p1/steel.main", b'{"ts": "2025-03-01T08:15:00+08:00", "value": true}', "value must be a number"),
        ("parkzero/p1/steel.main", b'{"ts": "2025-03-01T08:15:00", "value": 1}', "'ts' has no time zone"),
        ("parkzero/p1/steel.main", b'{"ts": "yesterday", "value": 1}', "'ts' is not an ISO 8601 time"),
        ("parkzero/p1/steel.main", b'{"ts": 1740788100, "value": 1}', "'ts' must be an ISO 8601 time"),
        (
            "parkzero/p1/steel.main",
            b'{"ts": "2025-03-01T08:15:00+08:00", "value": 1, "quality": "good"}',
            "quality must be one of",
        ),
        (
            "parkzero/p1/steel.main",
            b'[{"ts": "2025-03-01T08:15:00+08:00", "value": 1}, 7]',
            "reading 2: must be an object",
        ),
        ("parkzero/p1/steel.main", b'"12.5"', "payload must be a JSON object or a list"),
        ("parkzero/p1/steel.main", b'{"readings": {"value": 1}}', "'readings' must be a list"),
        (
            "parkzero/p1/steel.main",
            b'{"channel": "office.main", "ts": "2025-03-01T08:15:00+08:00", "value": 1}',
            "differs from the topic's",
        ),
        ("parkzero/p1/batch", b'[{"ts": "2025-03-01T08:15:00+08:00", "value": 1}]', "no 'channel'"),
        ("parkzero/p2/steel.main", b'{"ts": "2025-03-01T08:15:00+08:00", "value": 1}', "is for park 'p2'"),
        ("parkzero/p1/a/b", b"{}", "is not parkzero/<park>/<channel>"),
    ],
)
def test_native_refusals_say_why(topic, payload, reason):
    assert reason in refused(decode_native, topic, payload, park_code="p1")


def test_native_non_finite_values_are_refused():
    # the standard library reads NaN; orjson refuses it as JSON: either way the message is rejected
    with pytest.raises(ValidationFailed):
        decode_native("parkzero/p1/steel.main", b'{"ts": "2025-03-01T08:15:00+08:00", "value": NaN}')


def test_unknown_and_mismatched_units_are_refused(channels):
    stamp = datetime(2025, 3, 1, 8, 15, tzinfo=SHANGHAI)
    assert "unknown unit 'kWhh'" in refused(resolve, [DecodedReading("steel.main", stamp, 1.0, "kWhh")], channels)
    text = refused(resolve, [DecodedReading("steel.main", stamp, 1.0, "Nm3")], channels)
    assert "channel steel.main: unit 'Nm3' measures Nm3, but the channel's unit is kWh" in text


def test_unknown_channels_are_named(channels):
    stamp = datetime(2025, 3, 1, 8, 15, tzinfo=SHANGHAI)
    with pytest.raises(UnknownChannel) as err:
        resolve([DecodedReading("nope", stamp, 1.0, None), DecodedReading("steel.main", stamp, 1.0, None)], channels)
    assert err.value.codes == ["nope"]
    assert "no channel 'nope' in this park" in str(err.value)


def test_interval_readings_must_start_on_the_grid(channels):
    late = datetime(2025, 3, 1, 8, 20, tzinfo=SHANGHAI)
    text = refused(resolve, [DecodedReading("steel.main", late, 1.0, None, snap=True)], channels)
    assert "2025-03-01T08:20:00+08:00 is not on the channel's 15-minute grid" in text
    assert "stamped with the start of its interval" in text  # snap never moves interval readings
    text = refused(
        resolve, [DecodedReading("grid.hourly", datetime(2025, 3, 1, 8, 15, tzinfo=SHANGHAI), 1.0, None)], channels
    )
    assert "60-minute grid" in text


def test_counter_readings_snap_only_when_configured(channels):
    late = datetime(2025, 3, 1, 8, 22, 41, tzinfo=SHANGHAI)
    text = refused(resolve, [DecodedReading("office.meter", late, 5.0, None)], channels)
    assert "set snap: true" in text
    rows = resolve([DecodedReading("office.meter", late, 5.0, None, snap=True)], channels)
    assert rows.ts_us == [int(T0815Z.timestamp() * 1e6)]  # 08:22:41 floors to 08:15
    assert rows.snapped == [True]


# -- Tasmota -------------------------------------------------------------------------------------------
def test_tasmota_pow_total_and_power(channels, device_map):
    readings = decode_tasmota("tele/tasmota_8C1A2B/SENSOR", sample("tasmota_pow_r2_sensor.json"), device_map)
    assert [(r.channel_code, r.ts, r.value, r.unit) for r in readings] == [
        ("office.meter", datetime(2025, 3, 1, 8, 15, tzinfo=SHANGHAI), 123.456, "kWh"),
        ("office.power", datetime(2025, 3, 1, 8, 15, tzinfo=SHANGHAI), 1200.0, "W"),
    ]
    assert rows_of(readings, channels) == [
        ("office.meter", "2025-03-01T00:15:00+00:00", 123.456, 0),
        ("office.power", "2025-03-01T00:15:00+00:00", 1.2, 0),  # 1,200 W / 1,000 = 1.2 kW
    ]


def test_tasmota_dual_relay_lists_and_snap(channels, device_map):
    readings = decode_tasmota("tele/tasmota_DUALR3/SENSOR", sample("tasmota_dual_r3_sensor.json"), device_map)
    assert rows_of(readings, channels) == [("pv1.aux", "2025-03-01T00:15:00+00:00", 2.91, 0)]  # 08:22:41 -> 08:15
    unindexed = DeviceMap.from_dict({"devices": {"dual": {"fields": {"Total": "pv1.aux"}}}})
    text = refused(
        decode_tasmota, "tele/dual/SENSOR", sample("tasmota_dual_r3_sensor.json"), unindexed, default_timezone=SHANGHAI
    )
    assert "one value per relay; map Total.0 .. Total.1" in text


def test_tasmota_time_zone_comes_from_the_device_then_the_map_then_the_park():
    payload = sample("tasmota_pow_r2_sensor.json")
    fields = {"fields": {"Total": "office.meter"}}
    berlin = DeviceMap.from_dict(
        {"timezone": "Asia/Shanghai", "devices": {"d": {**fields, "timezone": "Europe/Berlin"}}}
    )
    assert decode_tasmota("tele/d/SENSOR", payload, berlin)[0].ts.utcoffset() == timedelta(hours=1)
    park_only = DeviceMap.from_dict({"devices": {"d": fields}})
    assert decode_tasmota("tele/d/SENSOR", payload, park_only, default_timezone=SHANGHAI)[0].ts == datetime(
        2025, 3, 1, 0, 15, tzinfo=UTC
    )
    assert "no time zone is configured" in refused(decode_tasmota, "tele/d/SENSOR", payload, park_only)
    with_offset = payload.replace(b'"2025-03-01T08:15:00"', b'"2025-03-01T08:15:00+08:00"')  # SetOption52
    assert decode_tasmota("tele/d/SENSOR", with_offset, park_only)[0].ts == datetime(2025, 3, 1, 0, 15, tzinfo=UTC)


def test_tasmota_refusals(device_map):
    assert "unknown Tasmota device 'kitchen'" in refused(
        decode_tasmota, "tele/kitchen/SENSOR", sample("tasmota_pow_r2_sensor.json"), device_map
    )
    assert "no 'Time'" in refused(decode_tasmota, "tele/tasmota_8C1A2B/SENSOR", b'{"ENERGY": {"Total": 1}}', device_map)
    assert "payload is not JSON" in refused(decode_tasmota, "tele/tasmota_8C1A2B/SENSOR", b"Online", device_map)
    text = refused(
        decode_tasmota,
        "tele/tasmota_8C1A2B/SENSOR",
        b'{"Time": "2025-03-01T08:15:00", "ENERGY": {"Total": "n/a"}}',
        device_map,
    )
    assert "field ENERGY.Total: value must be a number" in text
    odd = DeviceMap.from_dict({"timezone": "UTC", "devices": {"d": {"fields": {"SML.Total_in": "office.meter"}}}})
    text = refused(decode_tasmota, "tele/d/SENSOR", b'{"Time": "2025-03-01T08:15:00", "SML": {"Total_in": 5}}', odd)
    assert "unit of field SML.Total_in is not known; give 'unit'" in text


# -- Shelly --------------------------------------------------------------------------------------------
def test_shelly_pro3em_register_snaps_to_the_grid(channels, device_map):
    readings = decode_shelly(
        "shellypro3em-c8f09e8865a4/events/rpc", sample("shelly_pro3em_notifystatus.json"), device_map
    )
    # ts 1740788100.12 = 2025-03-01T00:15:00.12Z; total_act 1,612,415.2 Wh / 1,000 = 1,612.4152 kWh
    assert rows_of(readings, channels) == [("steel.meter", "2025-03-01T00:15:00+00:00", pytest.approx(1612.4152), 0)]


def test_shelly_power_is_instantaneous_and_cannot_fill_an_interval_channel(channels):
    power = DeviceMap.from_dict(
        {"devices": {"shellypro3em-c8f09e8865a4": {"snap": True, "fields": {"em:0.total_act_power": "steel.power"}}}}
    )
    readings = decode_shelly("shellypro3em-c8f09e8865a4/events/rpc", sample("shelly_pro3em_notifystatus.json"), power)
    assert readings[0].value == 2614.7 and readings[0].unit == "W"
    assert "not on the channel's 15-minute grid" in refused(resolve, readings, channels)


def test_shelly_switch_energy_and_lookup_by_src(channels, device_map):
    # a device with a custom MQTT topic prefix is found by the notification's src
    readings = decode_shelly("plant/b1/plug7/events/rpc", sample("shelly_plus1pm_notifystatus.json"), device_map)
    # aenergy.total 286,145.883 Wh = 286.145883 kWh at 00:16:00.45Z, floored to 00:15Z
    assert rows_of(readings, channels) == [("office.meter", "2025-03-01T00:15:00+00:00", pytest.approx(286.145883), 0)]


def test_shelly_events_and_partial_updates_carry_no_reading(device_map):
    assert decode_shelly("shellyplus1pm-441793d69718/events/rpc", sample("shelly_notifyevent.json"), device_map) == []
    partial = (
        b'{"src": "shellyplus1pm-441793d69718", "method": "NotifyStatus", "params": {"ts": 1740788170.2, '
        b'"sys": {"uptime": 30121}}}'
    )
    assert decode_shelly("shellyplus1pm-441793d69718/events/rpc", partial, device_map) == []


def test_shelly_refusals(device_map):
    payload = sample("shelly_pro3em_notifystatus.json")
    assert "unknown Shelly device 'shellyem-ffffff'" in refused(
        decode_shelly,
        "shellyem-ffffff/events/rpc",
        payload.replace(b"shellypro3em-c8f09e8865a4", b"shellyem-ffffff"),
        device_map,
    )
    no_ts = json.loads(payload)
    del no_ts["params"]["ts"]
    assert "without a Unix time 'ts'" in refused(
        decode_shelly, "shellypro3em-c8f09e8865a4/events/rpc", json.dumps(no_ts).encode(), device_map
    )
    assert "payload is not JSON" in refused(decode_shelly, "shellypro3em-c8f09e8865a4/events/rpc", b"{", device_map)


# -- Home Assistant discovery --------------------------------------------------------------------------
def test_ha_tasmota_style_config_with_abbreviations(channels, device_map):
    [entity] = parse_ha_config(
        "homeassistant/sensor/218FF9_ENERGY_Total/config", sample("ha_discovery_tasmota_total.json"), device_map
    )
    assert (entity.state_topic, entity.channel, entity.unit, entity.path) == (
        "tele/plug001/SENSOR",
        "office.meter",
        "kWh",
        ("ENERGY", "Total"),
    )
    at = datetime(2025, 3, 1, 0, 16, 3, tzinfo=UTC)
    readings = decode_ha_state(entity, sample("tasmota_pow_r2_sensor.json"), at)
    assert rows_of(readings, channels) == [("office.meter", "2025-03-01T00:15:00+00:00", 123.456, 0)]


def test_ha_base_topic_template_filter_and_wh(channels, device_map):
    [entity] = parse_ha_config(
        "homeassistant/sensor/pv_inverter/energy_total/config", sample("ha_discovery_inverter_energy.json"), device_map
    )
    assert entity.state_topic == "solar/inverter1/state"  # '~/state' with '~' = solar/inverter1
    readings = decode_ha_state(entity, sample("ha_state_inverter.json"), datetime(2025, 3, 1, 0, 29, 59, tzinfo=UTC))
    # 1,234,567 Wh / 1,000 = 1,234.567 kWh, received 00:29:59 -> register of the 00:15 interval
    assert rows_of(readings, channels) == [("pv1.meter", "2025-03-01T00:15:00+00:00", pytest.approx(1234.567), 0)]


def test_ha_plain_number_state_with_a_unit_chosen_in_the_device_map(channels, device_map):
    [entity] = parse_ha_config(
        "homeassistant/sensor/gasmeter/volume/config", sample("ha_discovery_gas.json"), device_map
    )
    assert entity.unit == "Nm3"  # the meter says m³; the map says the register is already standard m³
    readings = decode_ha_state(entity, b"4521.337", datetime(2025, 3, 1, 0, 15, 0, 500, tzinfo=UTC))
    assert rows_of(readings, channels) == [("steel.gas", "2025-03-01T00:15:00+00:00", 4521.337, 0)]
    assert decode_ha_state(entity, b"unavailable", datetime.now(UTC)) == []
    assert "state is not a number" in refused(decode_ha_state, entity, b"on", datetime.now(UTC))


def test_ha_device_discovery_registers_mapped_components(device_map):
    entities = parse_ha_config("homeassistant/device/meter01/config", sample("ha_discovery_device.json"), device_map)
    assert [(e.key, e.state_topic, e.unit, e.path) for e in entities] == [
        ("meter01_energy", "meters/meter01/state", "kWh", ("energy",))
    ]


def test_ha_unmapped_entities_and_removals_register_nothing(device_map):
    other = sample("ha_discovery_gas.json").replace(b"gasmeter_volume", b"garage_temperature")
    assert parse_ha_config("homeassistant/sensor/garage/temperature/config", other, device_map) == []
    assert parse_ha_config("homeassistant/sensor/gasmeter/volume/config", b"", device_map) == []
    assert parse_ha_config("homeassistant/switch/pump/config", sample("ha_discovery_gas.json"), device_map) == []


@pytest.mark.parametrize(
    ("template", "payload", "value"),
    [
        ("{{ value }}", b"12.5", 12.5),
        ("{{ value | float }}", b"12.5", 12.5),
        ("{{ value_json.a.b }}", b'{"a": {"b": 3}}', 3.0),
        ("{{ value_json['a'][\"b\"] }}", b'{"a": {"b": 3}}', 3.0),
        ("{{ value_json.list[1] }}", b'{"list": [1, 2]}', 2.0),
        ("{{ float(value_json.watt) | round(0) }}", b'{"watt": 1830.6}', 1831.0),
        ("{{ value_json.energy / 1000 }}", b'{"energy": "2500"}', 2.5),
        ("{{ (value_json.kwh * 10) | float(0) }}", b'{"kwh": 1.5}', 15.0),
    ],
)
def test_ha_simple_value_templates(template, payload, value):
    doc = {"state_topic": "x/state", "unique_id": "e1", "value_template": template}
    dm = DeviceMap.from_dict({"entities": {"e1": "steel.meter"}})
    [entity] = parse_ha_config("homeassistant/sensor/e1/config", json.dumps(doc).encode(), dm)
    assert decode_ha_state(entity, payload, datetime.now(UTC))[0].value == value


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ("{% if value_json.a %}1{% endif %}", "not a single {{ ... }} expression"),
        ("{{ value_json.a | multiply(2) }}", "filter 'multiply(2)' is not supported"),
        ("{{ states('sensor.x') }}", "must read value or value_json"),
        ("{{ value_json.a.b() }}", "not a simple value_json path"),
    ],
)
def test_ha_templates_that_are_not_simple_paths_are_refused(template, reason):
    doc = {"state_topic": "x/state", "unique_id": "e1", "value_template": template}
    dm = DeviceMap.from_dict({"entities": {"e1": "steel.meter"}})
    assert reason in refused(parse_ha_config, "homeassistant/sensor/e1/config", json.dumps(doc).encode(), dm)


def test_ha_state_without_the_templated_key_is_refused(device_map):
    [entity] = parse_ha_config(
        "homeassistant/sensor/pv_inverter/energy_total/config", sample("ha_discovery_inverter_energy.json"), device_map
    )
    assert "payload has no value_json.energy.total" in refused(
        decode_ha_state, entity, b'{"power": 3}', datetime.now(UTC)
    )


# -- routing -------------------------------------------------------------------------------------------
def test_router_dispatches_and_registers_state_topics(device_map):
    seen = []
    router = Router("p1", device_map, default_timezone=SHANGHAI, on_state_topic=seen.append)
    now = datetime(2025, 3, 1, 0, 20, tzinfo=UTC)
    assert router.decode("parkzero/p1/deadletter", b"{}", now) is None
    assert router.decode("parkzero/p1/asset/pv1/setpoint", b"{}", now) is None
    assert router.decode("parkzero/p2/steel.main", b"{}", now) is None
    assert router.decode("homeassistant/status", b"online", now) is None
    with pytest.raises(UnknownTopic, match="no decoder for topic 'gasmeter/volume'"):
        router.decode("gasmeter/volume", b"4521.337", now)
    assert router.decode("homeassistant/sensor/gasmeter/volume/config", sample("ha_discovery_gas.json"), now) is None
    assert seen == ["gasmeter/volume"]
    assert router.decode("gasmeter/volume", b"4521.337", now)[0].value == 4521.337
    router.decode("homeassistant/sensor/gasmeter/volume/config", b"", now)  # removed
    assert router.state_topics == set()
    assert len(router.decode("parkzero/p1/batch", sample("native_batch.json"), now)) == 4


def test_router_reads_a_tasmota_topic_both_as_device_and_as_discovered_entity():
    dm = DeviceMap.from_dict(
        {
            "devices": {"plug001": {"fields": {"ENERGY.Power": "office.power"}}},
            "entities": {"218FF9_ENERGY_Total": "office.meter"},
        }
    )
    router = Router("p1", dm, default_timezone=SHANGHAI)
    router.decode(
        "homeassistant/sensor/218FF9_ENERGY_Total/config", sample("ha_discovery_tasmota_total.json"), datetime.now(UTC)
    )
    got = router.decode("tele/plug001/SENSOR", sample("tasmota_pow_r2_sensor.json"), datetime.now(UTC))
    assert sorted((r.channel_code, r.value) for r in got) == [("office.meter", 123.456), ("office.power", 1200.0)]


# -- device map ----------------------------------------------------------------------------------------
def test_device_map_sample_loads(device_map):
    assert device_map.timezone == SHANGHAI and device_map.snap is False
    assert device_map.devices["tasmota_DUALR3"].fields["ENERGY.Total.1"].channel == "pv1.aux"
    assert device_map.entities["gasmeter_volume"].unit == "Nm3"


def test_device_map_problems_are_listed_together(tmp_path):
    with pytest.raises(ValidationFailed) as err:
        DeviceMap.from_dict(
            {
                "timezone": "Mars/Olympus",
                "devices": {"d": {"fields": {"Total": 5}, "snap": "yes"}},
                "entities": {"e": {"unit": "kWh"}},
                "colour": "red",
            }
        )
    text = str(err.value)
    for reason in (
        "unknown time zone 'Mars/Olympus'",
        "'snap' must be true or false",
        "must be a channel code",
        "unknown key(s) colour",
    ):
        assert reason in text
    bad = tmp_path / "map.toml"
    bad.write_text("devices = [", encoding="utf-8")
    assert "not valid toml" in refused(DeviceMap.load, bad)


# -- properties ----------------------------------------------------------------------------------------
UNITS = {"kWh": 1.0, "Wh": 1e-3, "MWh": 1e3, "万kWh": 1e4}


@given(
    quarter=st.integers(min_value=0, max_value=4 * 24 * 366 * 30),
    value=st.floats(min_value=-1e9, max_value=1e9, allow_nan=False),
    unit=st.sampled_from(sorted(UNITS)),
    offset_h=st.integers(min_value=-12, max_value=14),
)
def test_native_round_trip_property(quarter, value, unit, offset_h):
    """Any aligned time, in any offset, and any value in a known unit lands on the grid in kWh."""
    stamp = (datetime(2000, 1, 1, tzinfo=UTC) + timedelta(minutes=15 * quarter)).astimezone(
        ZoneInfo("UTC") if offset_h == 0 else _fixed(offset_h)
    )
    payload = json.dumps({"ts": stamp.isoformat(), "value": value, "unit": unit}).encode()
    rows = resolve(decode_native("parkzero/p1/steel.main", payload), {"steel.main": info("steel.main", 11)})
    assert rows.ts_us == [int((stamp - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1))]
    assert rows.ts_us[0] % 900_000_000 == 0
    assert rows.value == [value * UNITS[unit]]


def _fixed(hours: int):
    from datetime import timezone

    return timezone(timedelta(hours=hours))
