"""Closed loop over the real Mosquitto broker: setpoints out, acknowledgements back, fallbacks never crash."""

from __future__ import annotations

import json
import os
import threading
import uuid

import numpy as np
import paho.mqtt.client as mqtt
import pandas as pd
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from parkzero.energy.control import SetpointLink, run_cycle, setpoint_messages
from parkzero.energy.dispatch import Battery, DispatchInput, ShiftableLoad, plan
from parkzero.errors import ValidationFailed

PORT = int(os.environ.get("PARKZERO_TEST_MQTT_PORT", "1883"))


def inputs(time_limit_s: float = 10.0, n: int = 8) -> DispatchInput:
    return DispatchInput(
        pd.date_range("2025-07-01 12:00", periods=n, freq="15min", tz="Asia/Shanghai"),
        np.full(n, 500.0),
        np.zeros(n),
        np.r_[np.full(n // 2, 1.5), np.full(n - n // 2, 0.3)],
        batteries=[Battery("bess-1", 400.0, 200.0, degradation_cny_per_kwh=0.0)],
        shiftable=[ShiftableLoad("mill", 100.0, 0, n, 400.0)],
        soc_start_kwh={"bess-1": 200.0},
        time_limit_s=time_limit_s,
    )


def test_setpoint_messages_are_one_per_asset():
    p = plan(inputs())
    msgs = setpoint_messages("p1", p, 0, "abc")
    # dear first hour: the battery discharges (positive), the mill waits for the cheap steps
    battery = msgs["parkzero/p1/asset/bess-1/setpoint"]
    assert battery["power_kw"] > 0 and battery["status"] == "optimal"
    assert battery["ts_start"] == "2025-07-01T12:00:00+08:00" and battery["valid_until"] == "2025-07-01T12:15:00+08:00"
    assert msgs["parkzero/p1/asset/mill/setpoint"]["power_kw"] == 0.0


class Gateway:
    """A device gateway on the broker: acknowledges setpoints; `reject` assets refuse, `mute` ones never answer."""

    def __init__(self, park: str, reject: set[str], mute: set[str]):
        self.received: list[dict] = []
        self.ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"gw-{uuid.uuid4().hex[:8]}")
        self.client.on_subscribe = lambda *a: self.ready.set()

        def on_message(client, userdata, message):
            doc = json.loads(message.payload)
            self.received.append(doc)
            asset = message.topic.split("/")[3]
            if asset in mute:
                return
            status = "rejected" if asset in reject else "accepted"
            ack = {"plan_id": doc["plan_id"], "status": status, "power_kw": doc["power_kw"]}
            if status == "rejected":
                ack["reason"] = "local mode: operator has the battery"
            client.publish(f"parkzero/{park}/asset/{asset}/ack", json.dumps(ack), qos=1)

        self.client.on_message = on_message
        self.client.connect("127.0.0.1", PORT)
        self.client.loop_start()
        self.client.subscribe(f"parkzero/{park}/asset/+/setpoint", qos=1)
        assert self.ready.wait(10)

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def park():
    return f"ctl-{uuid.uuid4().hex[:8]}"


@pytest.mark.mqtt
def test_cycle_publishes_and_reads_acknowledgements(park):
    gw = Gateway(park, reject={"mill"}, mute=set())
    link = SetpointLink(park, port=PORT)
    try:
        report = run_cycle(link, inputs, ack_timeout_s=5)
    finally:
        link.close()
        gw.close()
    assert report.status == "optimal"
    assert sorted(report.published) == ["bess-1", "mill"]
    assert report.accepted == ["bess-1"] and report.rejected == {"mill": "local mode: operator has the battery"}
    assert report.silent == []
    assert {d["asset"] for d in gw.received} == {"bess-1", "mill"}


@pytest.mark.mqtt
def test_silent_asset_and_solver_time_out_are_reported_not_raised(park):
    gw = Gateway(park, reject=set(), mute={"bess-1"})
    link = SetpointLink(park, port=PORT)
    try:
        report = run_cycle(link, lambda: inputs(time_limit_s=0.0, n=12), ack_timeout_s=1)
    finally:
        link.close()
        gw.close()
    assert report.status == "fallback" and report.reason
    assert report.silent == ["bess-1"] and report.accepted == ["mill"]
    assert all(d["status"] == "fallback" for d in gw.received)


@pytest.mark.mqtt
def test_bad_inputs_hold_the_batteries(park):
    def broken() -> DispatchInput:
        raise ValidationFailed("price feed missing for 2025-07-01")

    gw = Gateway(park, reject=set(), mute=set())
    link = SetpointLink(park, port=PORT)
    try:
        report = run_cycle(link, broken, ack_timeout_s=5, hold_assets=("bess-1",))
    finally:
        link.close()
        gw.close()
    assert report.status == "hold" and "price feed missing" in report.reason
    assert report.accepted == ["bess-1"]
    assert gw.received[0]["power_kw"] == 0.0 and gw.received[0]["status"] == "hold"
