"""Readings of the demo park: one year of 15-minute values for every channel of a registry document.

`demo_readings` yields one ``pyarrow.Table`` per meter with columns ``channel_code`` (string), ``ts_start``
(timestamp[us, UTC], interval start) and ``value`` (float64, in the channel's canonical unit):

- interval channels: the quantity in ``[ts_start, ts_start + 15 min)`` (kWh, kvarh, Nm3, m3, t), or its
  interval mean for irradiance [W/m2] and temperature [degC]; the battery's SOC is the value at the end of the
  interval [%];
- counter channels: the register at ``ts_start`` (the consumption before it since the meter was installed), so
  ``register[t+1] - register[t]`` is the consumption in interval ``t``; registers never reset.

Models (the parameters of each channel are in `parkzero.demo.park.ChannelModel`):

- weather: `parkzero.demo.weather.shanghai_weather` (documented stochastic cloud model);
- PV: pvlib physics per array from its registry ``params`` (`parkzero.energy.pv`);
- loads: the profiles in `DRIVERS` (office hours 8:30-18:00, three-shift industry, temperature-driven HVAC
  and data-centre cooling, 24/7 kilns with maintenance stops, EAF heats on a one-minute grid ...), working days
  and public holidays from `parkzero.calendar` (the steel, cathode and other plants shut down over the
  Spring Festival holiday), each with its own AR(1) noise;
- sub-metering: a channel with sub-channels (``parent`` links) reads the sum of its sub-channels plus its own
  unmetered remainder >= 0, so a sub-meter never exceeds its parent;
- battery: `parkzero.demo.battery` (charge in the valley and between the peaks, discharge in the peaks);
- grid: the park balance closes exactly in every interval over ``active_energy`` channels without a parent::

      import - export = load + battery_charge + ev_charging - pv_generation - battery_discharge

  where ``load``, ``ev_charging`` and ``pv_generation`` are the sums of the root channels with those
  purposes; import = max(balance, 0), export = max(-balance, 0).

All randomness comes from ``numpy.random.default_rng`` streams keyed by the seed and, per channel, by a CRC32 of
the channel code, so the same registry, year and seed give identical tables, and a shorter period (`start`,
`end`) gives exactly the corresponding slice of the full year.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa

from parkzero.calendar import SPRING_FESTIVAL, holiday_mask, working_day_mask
from parkzero.demo import loads
from parkzero.demo.battery import BatteryParams, dispatch, tou_actions
from parkzero.demo.park import ChannelModel, demo_channel_models, demo_summary, iter_channels, load_model
from parkzero.demo.weather import TIMEZONE, ar1, shanghai_weather, year_index
from parkzero.energy import pv

__all__ = ["READING_SCHEMA", "demo_readings", "demo_summary", "DRIVERS"]

READING_SCHEMA = pa.schema(
    [("channel_code", pa.string()), ("ts_start", pa.timestamp("us", tz="UTC")), ("value", pa.float64())]
)
INTERVAL_S = 900
DT_H = INTERVAL_S / 3600.0
SUMMABLE = {"active_energy", "reactive_energy", "gas_volume", "water_volume", "steam_mass", "heat", "mass"}
NOISE_EFOLD_H = 1.0
GRID_TAN_PHI_UNMETERED = 0.2  # reactive / active energy of loads without a reactive channel [kvarh/kWh]
SPECIAL_DRIVERS = {
    "pv",
    "sources",
    "battery_charge",
    "battery_discharge",
    "battery_soc",
    "grid_import",
    "grid_export",
    "grid_reactive",
}


@dataclass
class _Context:
    """Everything the channel models of one park-year share: time axis, calendar, weather, solar geometry."""

    year: int
    seed: int
    index: pd.DatetimeIndex  # local interval starts
    weather: pd.DataFrame
    sun: pv.SunGeometry
    assets: dict[str, dict]
    hour: np.ndarray = field(init=False)  # local hour of the interval midpoint [h]
    hour_start: np.ndarray = field(init=False)  # local hour of the interval start [h]
    day: np.ndarray = field(init=False)  # day number within the year, 0-based
    working: np.ndarray = field(init=False)
    shutdown: np.ndarray = field(init=False)  # Spring Festival public holiday
    cache: dict[str, np.ndarray] = field(default_factory=dict)

    def __post_init__(self) -> None:
        local = self.index.tz_localize(None)
        self.hour_start = np.asarray((local - local.normalize()) / pd.Timedelta(hours=1), dtype=float)
        self.hour = self.hour_start + DT_H / 2
        self.day = np.asarray((local.normalize() - pd.Timestamp(self.year, 1, 1)) // pd.Timedelta(days=1))
        self.working = working_day_mask(self.index)
        self.shutdown = holiday_mask(self.index, SPRING_FESTIVAL)

    @property
    def n(self) -> int:
        return len(self.index)

    @property
    def n_days(self) -> int:
        return int(self.day[-1]) + 1

    @property
    def temp(self) -> np.ndarray:
        return self.weather["temp_air_c"].to_numpy()

    @property
    def ghi(self) -> np.ndarray:
        return self.weather["ghi_w_m2"].to_numpy()

    def shared(self, name: str) -> np.ndarray:
        if name not in self.cache:
            if name.startswith("steel_") or name.startswith("eaf_"):
                self.cache.update(_steel_drivers(self))
            else:
                self.cache[name] = SHARED_DRIVERS[name](self)
        return self.cache[name]


def _occupancy(c: _Context) -> np.ndarray:
    return loads.office_occupancy(c.hour, c.working)


def _dc_filling(c: _Context) -> np.ndarray:
    """Hall 2 is being filled with racks: 55 % of its rows' rating in January, 95 % in December."""
    return loads.data_centre_it(c.day + 1.0, c.hour) * (0.55 + 0.40 * c.day / 365.0)


def _poa_reference(c: _Context) -> np.ndarray:
    return pv.plane_of_array(c.weather, c.sun, 25.0, 180.0)[0]


SHARED_DRIVERS: dict[str, Callable[[_Context], np.ndarray]] = {
    "zero": lambda c: np.zeros(c.n),
    "one": lambda c: np.ones(c.n),
    "shift3": lambda c: loads.shift3(c.hour_start),
    "shift2": lambda c: loads.shift2(c.hour),
    "office": _occupancy,
    "office_lighting_sockets": lambda c: _occupancy(c) * (1.0 - 0.3 * loads.daylight_fraction(c.ghi)),
    "lighting": lambda c: loads.lighting(_occupancy(c), c.ghi),
    "lighting_plant": lambda c: 1.0 - 0.6 * loads.daylight_fraction(c.ghi),
    "office_hvac_schedule": lambda c: loads.office_hvac_schedule(c.hour, c.working),
    "hvac_office": lambda c: loads.hvac(loads.office_hvac_schedule(c.hour, c.working), c.temp),
    "hvac_24h": lambda c: loads.hvac(np.ones(c.n), c.temp),
    "cooling_24h": lambda c: np.clip(0.1 + loads.cooling_demand(c.temp, 18.0, 34.0), 0.0, 1.0),
    "canteen": lambda c: loads.canteen(c.hour, c.working),
    "lab_day": lambda c: loads.lab_day(c.hour, c.working),
    "darkness": lambda c: loads.darkness(c.sun.zenith_deg),
    "dc_it": lambda c: loads.data_centre_it(c.day + 1.0, c.hour),
    "dc_it_filling": _dc_filling,
    "dc_chillers": lambda c: loads.data_centre_chillers(c.temp),
    "dc_chiller_peak": lambda c: np.clip((c.temp - 28.0) / 7.0, 0.0, 1.0),
    "dc_towers": lambda c: loads.data_centre_towers(c.temp),
    "ghi": lambda c: c.ghi,
    "dhi": lambda c: c.weather["dhi_w_m2"].to_numpy(),
    "temp_air": lambda c: c.temp,
    "poa_reference": _poa_reference,
    "temp_module": lambda c: pv.cell_temperature_c(_poa_reference(c), c.temp, c.weather["wind_speed_m_s"].to_numpy()),
}


def _steel_drivers(c: _Context) -> dict[str, np.ndarray]:
    """The meltshop's drivers at 15-minute resolution from a one-minute heat simulation."""
    per = INTERVAL_S // 60
    minute_offset = np.tile(np.arange(per) / 60.0, c.n)
    minute_hour = np.repeat(c.hour_start, per) + minute_offset
    weekday = np.repeat(c.index.day_of_week.to_numpy(), per)
    operating = loads.steel_operating_minutes(
        minute_hour, weekday, np.repeat(c.working, per), np.repeat(c.shutdown, per)
    )
    rng = np.random.default_rng([c.seed, zlib.crc32(b"steel-meltshop")])
    heats = loads.steel_heats(rng, operating)

    def mean(x: np.ndarray) -> np.ndarray:
        return x.reshape(c.n, per).mean(axis=1)

    return {
        "eaf_arc": mean(heats["arc"]),
        "eaf_on": mean((heats["arc"] > 0).astype(float)),
        "eaf_lf": mean(heats["lf"]),
        "steel_casting": mean(heats["casting"]),
        "steel_rolling": mean(heats["rolling"]),
        "steel_operating": mean(operating.astype(float)),
        "steel_rolled": heats["rolled_t"].reshape(c.n, per).sum(axis=1) / DT_H,  # [t/h]
    }


def _kiln(c: _Context, rng: np.random.Generator, model: ChannelModel) -> np.ndarray:
    """Roller-hearth kiln: 24/7 at full load except ~5 maintenance stops of 2-4 days a year."""
    return (~loads.maintenance_stops(rng, c.n_days))[c.day].astype(float)


def _lab_chamber(c: _Context, rng: np.random.Generator, model: ChannelModel) -> np.ndarray:
    """Test chamber or bench: multi-day test runs on ~65 % of days, cycling with a 6-hour period while on."""
    on = loads.persistent_days(rng, c.n_days, 0.65, 0.75)[c.day]
    phase = rng.uniform(0, 2 * np.pi)
    cycle = 0.75 + 0.25 * np.sin(2 * np.pi * c.hour / 6.0 + phase)
    return on * cycle


def _ev(pattern: str) -> Callable[[_Context, np.random.Generator, ChannelModel], np.ndarray]:
    def driver(c: _Context, rng: np.random.Generator, model: ChannelModel) -> np.ndarray:
        return loads.ev_charging(rng, pattern, c.hour, c.working, model.units, DT_H)

    driver.__doc__ = loads.ev_charging.__doc__
    return driver


STOCHASTIC_DRIVERS: dict[str, Callable[[_Context, np.random.Generator, ChannelModel], np.ndarray]] = {
    "kiln": _kiln,
    "lab_chamber": _lab_chamber,
    "ev_workplace": _ev("ev_workplace"),
    "ev_public_dc": _ev("ev_public_dc"),
    "ev_truck": _ev("ev_truck"),
}
DRIVERS = sorted(
    {
        *SHARED_DRIVERS,
        *STOCHASTIC_DRIVERS,
        *SPECIAL_DRIVERS,
        "eaf_arc",
        "eaf_on",
        "eaf_lf",
        "steel_casting",
        "steel_rolling",
        "steel_operating",
        "steel_rolled",
    }
)


def _fallback_model(ch: dict, assets: dict[str, dict]) -> ChannelModel:
    """A plausible model for a channel the demo park does not define (a registry edited by hand)."""
    purpose, kind = ch.get("purpose"), ch.get("quantity_kind")
    if purpose == "pv_generation":
        return ChannelModel(driver="pv", noise=0.0)
    if purpose in ("battery_charge", "battery_discharge", "battery_soc"):
        return ChannelModel(driver=purpose, noise=0.0)
    if purpose in ("grid_import", "grid_export"):
        return ChannelModel(
            driver="grid_reactive"
            if kind == "reactive_energy" and purpose == "grid_import"
            else purpose
            if kind == "active_energy"
            else "zero",
            noise=0.0,
        )
    if purpose == "ev_charging":
        params = assets.get(ch.get("asset") or "", {}).get("params", {})
        return ChannelModel(
            driver="ev_workplace", rate=float(params.get("power_kw", 7.0)), units=int(params.get("count", 1)), noise=0.0
        )
    if purpose == "weather" or kind in ("irradiance", "temperature"):
        return ChannelModel(driver="ghi" if kind == "irradiance" else "temp_air", rate=1.0, noise=0.0)
    if kind in ("state_of_charge", "mass") or purpose == "product_output":
        return ChannelModel(driver="zero", noise=0.0)
    rates = {
        "active_energy": 20.0,
        "reactive_energy": 5.0,
        "gas_volume": 10.0,
        "water_volume": 1.0,
        "steam_mass": 0.5,
        "heat": 0.2,
        "active_power": 20.0,
    }
    return load_model("office", rates.get(kind, 1.0), 0.2)


class _Evaluator:
    """Computes full-year values of channels on demand, children and sources first."""

    def __init__(self, ctx: _Context, channels: list[dict], models: dict[str, ChannelModel]) -> None:
        self.ctx = ctx
        self.channels = {ch["code"]: ch for ch in channels}
        self.children: dict[str, list[str]] = {}
        for ch in channels:
            if ch.get("parent"):
                self.children.setdefault(ch["parent"], []).append(ch["code"])
        self.models = {code: models.get(code) or _fallback_model(ch, ctx.assets) for code, ch in self.channels.items()}
        self.memo: dict[str, np.ndarray] = {}
        # battery and grid series by driver name (park totals) and by (driver, asset code)
        self.special: dict[object, np.ndarray] = {}

    def interval_values(self, code: str) -> np.ndarray:
        """Per-interval quantity of a channel (for a counter: its consumption, not the register)."""
        if code not in self.memo:
            self.memo[code] = self._compute(code)
        return self.memo[code]

    def _rng(self, code: str) -> np.random.Generator:
        return np.random.default_rng([self.ctx.seed, zlib.crc32(code.encode("utf-8"))])

    def _day_factor(self, model: ChannelModel) -> np.ndarray | float:
        if model.rest == 1.0 and model.shutdown == 1.0:
            return 1.0
        return np.where(self.ctx.shutdown, model.shutdown, np.where(self.ctx.working, 1.0, model.rest))

    def _compute(self, code: str) -> np.ndarray:
        ch, model, ctx = self.channels[code], self.models[code], self.ctx
        rng = self._rng(code)
        summable = ch["quantity_kind"] in SUMMABLE
        if model.driver in SPECIAL_DRIVERS - {"pv", "sources"}:
            return self._special(code, model.driver)
        if model.driver == "pv":
            array = pv.PvArray.from_params(ch["asset"], ctx.assets[ch["asset"]]["params"])
            own = pv.array_power_kw(ctx.weather, ctx.sun, array) * DT_H
        elif model.driver == "sources":
            covered = [s for child in self.children.get(code, ()) for s in self.models[child].sources]
            src = sum((self.interval_values(s) for s in model.sources), np.zeros(ctx.n))
            src = src - sum((self.interval_values(s) for s in covered), np.zeros(ctx.n))
            own = model.factor * np.clip(_lag(src, model.lag), 0.0, None) * self._day_factor(model)
        else:
            if model.driver in STOCHASTIC_DRIVERS:
                driver = STOCHASTIC_DRIVERS[model.driver](ctx, rng, model)
            else:
                driver = ctx.shared(model.driver)
            level = model.rate * (model.base + (1.0 - model.base) * _lag(driver, model.lag))
            own = level * self._day_factor(model) * (DT_H if summable else 1.0)
        if model.noise > 0:
            own = own * np.clip(1.0 + model.noise * ar1(rng, ctx.n, float(np.exp(-DT_H / NOISE_EFOLD_H))), 0.0, None)
        if summable:
            own = np.clip(own, 0.0, None)
        for child in self.children.get(code, ()):
            own = own + self.interval_values(child)
        return own

    def _special(self, code: str, driver: str) -> np.ndarray:
        """Battery and grid series, set by `_battery` and `_grid` once the rest of the park is known."""
        asset = self.channels[code].get("asset")
        series = self.special.get((driver, asset)) if (driver, asset) in self.special else self.special.get(driver)
        if series is None:
            raise KeyError(f"{code}: driver {driver!r} is computed after the park balance")
        return series.copy()

    def reported_values(self, code: str) -> np.ndarray:
        """Values as the channel reports them: interval quantities, or the register of a counter channel."""
        values = self.interval_values(code)
        if self.channels[code].get("behaviour") != "counter":
            return values
        rng = np.random.default_rng([self.ctx.seed, zlib.crc32(code.encode("utf-8")), 1])
        start = float(np.round(rng.uniform(1e4, 5e5)))  # register when the year starts
        return start + np.concatenate([[0.0], np.cumsum(values)[:-1]])


def _lag(x: np.ndarray, lag: int) -> np.ndarray:
    if lag <= 0:
        return x
    return np.r_[np.full(lag, x[0]), x[:-lag]]


def _period_slice(index: pd.DatetimeIndex, start: object, end: object) -> slice:
    """Positions of [start, end) in the local index; dates mean local midnight."""

    def loc(value: object, default: int) -> int:
        if value is None:
            return default
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            value = value.isoformat()  # a date is its local midnight
        ts = pd.Timestamp(value)
        ts = ts.tz_localize(index.tz) if ts.tzinfo is None else ts.tz_convert(index.tz)
        return int(index.searchsorted(ts, side="left"))

    lo, hi = loc(start, 0), loc(end, len(index))
    if lo >= hi:
        raise ValueError(f"empty period: start {start!r} is not before end {end!r} within the year")
    return slice(lo, hi)


def _is(ch: dict, purpose: str) -> bool:
    return ch.get("purpose") == purpose and ch.get("quantity_kind") == "active_energy" and not ch.get("parent")


def demo_readings(
    registry: dict, year: int = 2025, seed: int = 42, start: object = None, end: object = None
) -> Iterator[pa.Table]:
    """Generate the demo park's readings, one table per meter.

    Parameters
    ----------
    registry : dict
        A ``parkzero-registry`` document, normally `parkzero.demo.park.demo_registry`; channels the demo does
        not know get a generic model by purpose.
    year : int
        Local calendar year (Asia/Shanghai, the only time zone the demo models) to generate.
    seed : int
        Seed of all random streams (weather, heats, noise); same inputs, same tables.
    start, end : date, datetime, pandas.Timestamp or ISO string, optional
        Restrict the output to ``[start, end)`` within the year (naive values are park-local; a date means
        its midnight). Values are exactly those of the full year at the same timestamps.

    Yields
    ------
    pyarrow.Table
        Schema `READING_SCHEMA`: ``channel_code``, ``ts_start`` (UTC interval start), ``value`` (canonical unit).
        Meters are yielded in registry order, except that the battery and then the grid connection come last
        because they depend on every other channel.
    """
    park = registry["parks"][0]
    tz = park.get("timezone") or "Asia/Shanghai"
    latitude, longitude = float(park.get("latitude", 31.2)), float(park.get("longitude", 121.5))
    channels = iter_channels(registry)
    bad = [ch["code"] for ch in channels if int(ch.get("interval_s") or INTERVAL_S) != INTERVAL_S]
    if bad:
        raise ValueError(f"the demo generates 15-minute channels only; not: {', '.join(bad[:5])}")
    if tz != TIMEZONE:
        raise ValueError(f"the demo models a park in {TIMEZONE} (weather, tariffs, holidays), not {tz}")
    index = year_index(year, "15min", tz)
    weather = shanghai_weather(year, seed, latitude, longitude)
    ctx = _Context(
        year=year,
        seed=seed,
        index=index,
        weather=weather,
        sun=pv.sun_geometry(index, latitude, longitude),
        assets={a["code"]: a for a in park.get("assets", [])},
    )
    ev = _Evaluator(ctx, channels, demo_channel_models())
    period = _period_slice(index, start, end)
    ts = pa.array(index[period].tz_convert("UTC").as_unit("us").asi8, type=pa.timestamp("us", tz="UTC"))

    def stage(meter: dict) -> int:
        drivers = {ev.models[ch["code"]].driver for ch in meter["channels"]}
        return (
            2
            if drivers & {"grid_import", "grid_export", "grid_reactive"}
            else 1
            if drivers & {"battery_charge", "battery_discharge", "battery_soc"}
            else 0
        )

    meters = sorted(park["meters"], key=stage)  # stable: registry order within each stage
    # running park totals of root channels [kWh, kvarh]; "covered": active energy behind reactive channels
    totals = {k: np.zeros(ctx.n) for k in ("load", "ev_charging", "pv_generation", "reactive", "covered")}
    covered: set[str] = set()
    battery_done = False
    group: tuple | None = None
    for meter in meters:
        if stage(meter) >= 1 and not battery_done:
            _battery(ev, park, totals)
            battery_done = True
        if stage(meter) == 2 and "grid_import" not in ev.special:
            _grid(ev, totals)
        key = (meter.get("enterprise"), meter.get("building"))
        if key != group:  # free memory between tenants; values are recomputed identically if needed again
            ev.memo.clear()
            group = key
        codes, values = [], []
        for ch in meter["channels"]:
            code = ch["code"]
            for purpose in ("load", "ev_charging", "pv_generation"):
                if _is(ch, purpose):
                    totals[purpose] += ev.interval_values(code)
            if ch.get("purpose") == "load" and not ch.get("parent") and ch.get("quantity_kind") == "reactive_energy":
                totals["reactive"] += ev.interval_values(code)
                for source in set(ev.models[code].sources) - covered:
                    totals["covered"] += ev.interval_values(source)
                    covered.add(source)
            codes.append(code)
            values.append(ev.reported_values(code)[period])
        if not codes:
            continue
        n = period.stop - period.start
        dictionary = pa.DictionaryArray.from_arrays(
            pa.array(np.repeat(np.arange(len(codes), dtype=np.int32), n)), pa.array(codes, pa.string())
        )
        yield pa.Table.from_arrays(
            [dictionary.cast(pa.string()), pa.concat_arrays([ts] * len(codes)), pa.array(np.concatenate(values))],
            schema=READING_SCHEMA,
        )


def _battery(ev: _Evaluator, park: dict, totals: dict[str, np.ndarray]) -> None:
    """Dispatch the park's batteries (in registry order) on the net load and store their series."""
    ctx = ev.ctx
    net = totals["load"] + totals["ev_charging"] - totals["pv_generation"]
    actions = tou_actions(ctx.hour_start, ctx.index.month.to_numpy())
    charge, discharge, soc = np.zeros(ctx.n), np.zeros(ctx.n), np.zeros(ctx.n)
    for asset in (a for a in park.get("assets", []) if a["kind"] == "battery"):
        c, d, s = dispatch(net, actions, BatteryParams.from_params(asset["params"]), DT_H)
        net = net + c - d  # the next battery sees the park after this one
        charge, discharge, soc = charge + c, discharge + d, s
        ev.special.update(
            {
                ("battery_charge", asset["code"]): c,
                ("battery_discharge", asset["code"]): d,
                ("battery_soc", asset["code"]): s,
            }
        )
    ev.special.update({"battery_charge": charge, "battery_discharge": discharge, "battery_soc": soc})


def _grid(ev: _Evaluator, totals: dict[str, np.ndarray]) -> None:
    """Close the park balance: the connection meter's import and export, and its reactive import."""
    balance = (
        totals["load"]
        + ev.special["battery_charge"]
        + totals["ev_charging"]
        - totals["pv_generation"]
        - ev.special["battery_discharge"]
    )
    uncovered = totals["load"] - totals["covered"]  # loads without a reactive channel of their own
    reactive = totals["reactive"] + GRID_TAN_PHI_UNMETERED * (np.clip(uncovered, 0.0, None) + totals["ev_charging"])
    # the battery never discharges more than the net load, so the balance can be a rounding error off zero
    balance = np.where(np.abs(balance) < 1e-9, 0.0, balance)
    ev.special.update(
        {"grid_import": np.maximum(balance, 0.0), "grid_export": np.maximum(-balance, 0.0), "grid_reactive": reactive}
    )
