"""Closed-loop control: a plan's setpoints out over MQTT, the assets' acknowledgements back, never a crash.

Topics (DESIGN §7):

- ``parkzero/{park}/asset/{asset}/setpoint`` (QoS 1, published by the controller)::

      {"plan_id": "...", "asset": "bess-1", "ts_start": "2025-07-01T12:00:00+08:00",
       "valid_until": "2025-07-01T12:15:00+08:00", "power_kw": 850.0, "status": "optimal"}

  ``power_kw`` is the mean power over the step: a battery discharges when positive and charges when negative;
  a load (shiftable process, EV charger, chiller) draws it. ``status`` is ``optimal``, ``fallback`` (the safe
  plan: the solver failed or timed out) or ``hold`` (no plan could be made at all: batteries idle at 0 kW, loads
  keep their own local control).
- ``parkzero/{park}/asset/{asset}/ack`` (QoS 1, published by the asset's gateway)::

      {"plan_id": "...", "status": "accepted" | "rejected", "power_kw": 850.0, "reason": "..."}

`run_cycle` makes a plan, publishes the setpoints of one step, waits for the acknowledgements and reports which
assets accepted, rejected or stayed silent. Bad inputs, solver failures and broker trouble end up in the
report, never as an exception out of the loop.
"""

from __future__ import annotations

import json
import queue
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from parkzero.energy import dispatch
from parkzero.energy.dispatch import STEP_H, DispatchInput, DispatchPlan
from parkzero.errors import ParkzeroError


def setpoint_topic(park: str, asset: str) -> str:
    return f"parkzero/{park}/asset/{asset}/setpoint"


def ack_topic(park: str, asset: str) -> str:
    return f"parkzero/{park}/asset/{asset}/ack"


def setpoint_messages(park: str, plan: DispatchPlan, step: int, plan_id: str) -> dict[str, dict]:
    """Topic -> payload of every asset's setpoint for one step of `plan` (pure)."""
    ts = plan.frame.index[step]
    until = ts + plan.frame.index.freq if plan.frame.index.freq is not None else ts + _step()
    out = {}
    for asset, series in plan.setpoints().items():
        code = asset.split("#", 1)[0]  # a load split into windows is one asset
        topic = setpoint_topic(park, code)
        power = float(series.iloc[step])
        if topic in out:
            out[topic]["power_kw"] = round(out[topic]["power_kw"] + power, 3)
            continue
        out[topic] = {
            "plan_id": plan_id,
            "asset": code,
            "ts_start": ts.isoformat(),
            "valid_until": until.isoformat(),
            "power_kw": round(power, 3),
            "status": plan.status,
        }
    return out


def _step():
    import pandas as pd

    return pd.Timedelta(hours=STEP_H)


@dataclass
class CycleReport:
    """What one control cycle did."""

    plan_id: str
    status: str  # "optimal", "fallback" or "hold"
    reason: str = ""
    published: list[str] = field(default_factory=list)  # asset codes
    accepted: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # asset -> reason
    silent: list[str] = field(default_factory=list)
    plan: DispatchPlan | None = None
    solve_s: float = 0.0

    def as_dict(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k != "plan"}


class SetpointLink:
    """The controller's MQTT connection: QoS 1 publishes confirmed by the broker, acknowledgements queued."""

    def __init__(self, park: str, host: str = "127.0.0.1", port: int = 1883, client_id: str | None = None):
        self.park = park
        self.acks: queue.Queue[tuple[str, dict]] = queue.Queue()
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id or f"parkzero-control-{uuid.uuid4().hex[:8]}"
        )
        self._client.on_message = self._on_message
        self._subscribed = threading.Event()
        self._client.on_subscribe = lambda *args: self._subscribed.set()
        self._client.connect(host, port)
        self._client.loop_start()
        self._client.subscribe(f"parkzero/{park}/asset/+/ack", qos=1)
        if not self._subscribed.wait(10):
            raise ConnectionError(f"the MQTT broker {host}:{port} did not confirm the acknowledgement subscription")

    def _on_message(self, client, userdata, message) -> None:
        asset = message.topic.split("/")[3]
        try:
            doc = json.loads(message.payload)
        except ValueError:
            doc = {"status": "rejected", "reason": "acknowledgement is not JSON"}
        self.acks.put((asset, doc if isinstance(doc, dict) else {"status": "rejected", "reason": "not an object"}))

    def publish(self, messages: dict[str, dict], timeout_s: float = 10.0) -> None:
        infos = [self._client.publish(t, json.dumps(p), qos=1) for t, p in messages.items()]
        for info in infos:
            info.wait_for_publish(timeout_s)

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def run_cycle(
    link: SetpointLink,
    make_input: Callable[[], DispatchInput],
    *,
    step: int = 0,
    ack_timeout_s: float = 5.0,
    hold_assets: tuple[str, ...] = (),
) -> CycleReport:
    """Plan, publish step `step`'s setpoints, collect acknowledgements; never raises.

    Parameters
    ----------
    link : SetpointLink
        The MQTT connection.
    make_input : callable
        Builds the plan's inputs (forecasts, prices, the assets' states); any error it raises ends in a ``hold``.
    hold_assets : tuple of str
        Batteries to send a 0 kW ``hold`` setpoint when no plan can be made at all.
    """
    plan_id = uuid.uuid4().hex
    report = CycleReport(plan_id, "hold")
    try:
        inp = make_input()
        p = dispatch.plan(inp)
        report.status, report.reason, report.plan, report.solve_s = p.status, p.reason, p, p.solve_s
        messages = setpoint_messages(link.park, p, step, plan_id)
    except ParkzeroError as exc:  # bad inputs: no plan; batteries hold, loads stay on local control
        report.reason = str(exc)
        messages = {
            setpoint_topic(link.park, a): {"plan_id": plan_id, "asset": a, "power_kw": 0.0, "status": "hold"}
            for a in hold_assets
        }
    except Exception as exc:  # noqa: BLE001 - the loop must survive anything a plan can throw
        report.reason = f"unexpected error while planning: {exc!r}"
        messages = {
            setpoint_topic(link.park, a): {"plan_id": plan_id, "asset": a, "power_kw": 0.0, "status": "hold"}
            for a in hold_assets
        }
    try:
        link.publish(messages)
    except Exception as exc:  # noqa: BLE001 - a broker problem is reported, the next cycle tries again
        report.reason = (report.reason + "; " if report.reason else "") + f"publishing failed: {exc!r}"
        report.silent = [m["asset"] for m in messages.values()]
        return report
    report.published = [m["asset"] for m in messages.values()]
    waiting = set(report.published)
    deadline = time.monotonic() + ack_timeout_s
    while waiting and time.monotonic() < deadline:
        try:
            asset, doc = link.acks.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        if doc.get("plan_id") != plan_id or asset not in waiting:
            continue  # a late acknowledgement of an earlier cycle
        waiting.discard(asset)
        if doc.get("status") == "accepted":
            report.accepted.append(asset)
        else:
            report.rejected[asset] = str(doc.get("reason") or "rejected without a reason")
    report.silent = sorted(waiting)
    return report
