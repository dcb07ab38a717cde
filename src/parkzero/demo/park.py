"""The demo park: a registry document modelled on Baoshan's carbon-neutral industrial parks.

`demo_registry` returns the whole park as one ``parkzero-registry`` document (zones, buildings, tenants,
assets, meters with their channels, products); `demo_channel_models` returns, for every channel code, the
model `parkzero.demo.readings` uses to generate its readings. The seed only changes identifiers (credit codes,
meter serials); the park's layout is fixed.

The park (about 180 GWh of load a year for seed 42, 8.8 MWp of PV, a 5 MWh / 2.5 MW battery, 72 EV charge
points):

- north zone (heavy industry): a scrap-based EAF mini-mill rolling rebar (EAF, ladle furnace, caster,
  gas-fired reheating furnace, rolling mill); a battery-materials plant calcining NCM and LFP cathode material
  in six roller-hearth kilns;
- central zone (services): a 2.8 MW-IT data centre; the park service centre (canteen, control room, battery);
  a parking building with EV chargers; the park wastewater plant and street lighting;
- south zone (innovation): two office towers with three tenants; an incubator with five start-ups; a testing
  and certification centre.

Metering follows Chinese sub-metering practice (分项计量): every tenant has one incoming meter (purpose
``load``, no parent) and sub-meters per line, floor or end use whose ``parent`` is that incoming channel, so
a tenant's total is its incoming channel alone. The park operator's common areas are metered per building
the same way. PV arrays, the battery and the EV chargers are metered separately on the park's 10 kV network
(they are not behind any tenant meter), and the park connection meter sees the balance of all of them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from parkzero.demo.identifiers import make_credit_code, make_serial
from parkzero.units import QUANTITY_KINDS

PARK_CODE = "baoshan-demo"
OPERATOR = "operator"
INTERVAL_S = 900

UNITS = {kind: q.canonical_unit for kind, q in QUANTITY_KINDS.items()}


@dataclass(frozen=True)
class ChannelModel:
    """How the demo generates one channel's readings.

    The channel's own value per interval is::

        rate * (base + (1 - base) * driver[t - lag]) * day_factor * (1 + noise * x_t) * dt

    where ``driver`` is a named profile (see `parkzero.demo.readings.DRIVERS`), ``day_factor`` is `rest`
    on rest days and `shutdown` during the tenant's Spring Festival shutdown, ``x_t`` is unit AR(1) noise with
    a one-hour memory, and ``dt`` the interval length in hours for summable quantities (1 for temperature,
    irradiance and state of charge). With `sources`, the driver is instead ``factor`` times the summed values
    of those channels minus what their own sub-channels cover (reactive energy from active energy, product
    output from kiln energy). A channel with sub-meters adds their sum to its own value, which is then the
    unmetered remainder.

    Attributes
    ----------
    driver : str
        Name of the profile driving the channel.
    rate : float
        Value per hour at driver 1 [channel unit/h] (kW for energy channels); the level for non-summable ones.
    base : float
        Share of `rate` drawn whatever the driver (standby, auxiliaries) [-].
    noise : float
        Relative standard deviation of the noise [-].
    rest, shutdown : float
        Factors on rest days and during the Spring Festival shutdown [-].
    lag : int
        Delay of the driver [intervals].
    sources : tuple of str
        Channel codes whose values drive this one (with `factor`).
    factor : float
        Multiplier on the sources (tan phi [kvarh/kWh], tonnes per kWh ...).
    units : int
        Number of identical units behind the channel (EV charge points).
    """

    driver: str = "one"
    rate: float = 0.0
    base: float = 0.0
    noise: float = 0.03
    rest: float = 1.0
    shutdown: float = 1.0
    lag: int = 0
    sources: tuple[str, ...] = ()
    factor: float = 1.0
    units: int = 1


NONE = ChannelModel(driver="zero", noise=0.0)


@dataclass
class _Builder:
    """Collects the registry records and the channel models while the park is laid out."""

    rng: np.random.Generator
    zones: list[dict] = field(default_factory=list)
    buildings: list[dict] = field(default_factory=list)
    enterprises: list[dict] = field(default_factory=list)
    assets: list[dict] = field(default_factory=list)
    meters: list[dict] = field(default_factory=list)
    products: list[dict] = field(default_factory=list)
    models: dict[str, ChannelModel] = field(default_factory=dict)

    def zone(self, code: str, name: str, name_zh: str) -> None:
        self.zones.append({"code": code, "name": name, "name_zh": name_zh})

    def building(
        self, code: str, name: str, name_zh: str, zone: str, floor_area_m2: float, use: str, year_built: int
    ) -> None:
        self.buildings.append(
            {
                "code": code,
                "name": name,
                "name_zh": name_zh,
                "zone": zone,
                "floor_area_m2": float(floor_area_m2),
                "use": use,
                "year_built": year_built,
            }
        )

    def enterprise(
        self, code: str, name: str, name_zh: str, industry_code: str, building: str, is_startup: bool = False
    ) -> None:
        self.enterprises.append(
            {
                "code": code,
                "name": name,
                "name_zh": name_zh,
                "credit_code": make_credit_code(self.rng),
                "industry_code": industry_code,
                "is_startup": is_startup,
                "building": building,
            }
        )

    def asset(
        self, code: str, name: str, kind: str, building: str | None, enterprise: str | None, **params: float | int | str
    ) -> None:
        self.assets.append(
            {
                "code": code,
                "name": name,
                "kind": kind,
                "building": building,
                "enterprise": enterprise,
                "params": dict(params),
            }
        )

    def meter(
        self, code: str, name: str, building: str | None, enterprise: str | None, model: str = "DTSD1352"
    ) -> _Meter:
        record = {
            "code": code,
            "name": name,
            "building": building,
            "enterprise": enterprise,
            "serial": make_serial(self.rng, model),
            "channels": [],
        }
        self.meters.append(record)
        return _Meter(self, record)

    def product(self, code: str, name: str, enterprise: str, declared_unit: str = "t") -> None:
        self.products.append({"code": code, "name": name, "enterprise": enterprise, "declared_unit": declared_unit})


@dataclass
class _Meter:
    builder: _Builder
    record: dict

    def channel(
        self,
        code: str,
        name: str,
        quantity_kind: str,
        purpose: str,
        model: ChannelModel = NONE,
        *,
        parent: str | None = None,
        asset: str | None = None,
        behaviour: str = "interval",
    ) -> str:
        self.record["channels"].append(
            {
                "code": code,
                "name": name,
                "quantity_kind": quantity_kind,
                "unit": UNITS[quantity_kind],
                "interval_s": INTERVAL_S,
                "behaviour": behaviour,
                "purpose": purpose,
                "building": self.record["building"],
                "enterprise": self.record["enterprise"],
                "asset": asset,
                "parent": parent,
            }
        )
        self.builder.models[code] = model
        return code

    def kwh(
        self,
        code: str,
        name: str,
        model: ChannelModel = NONE,
        *,
        parent: str | None = None,
        asset: str | None = None,
        purpose: str = "load",
    ) -> str:
        return self.channel(code, name, "active_energy", purpose, model, parent=parent, asset=asset)

    def kvarh(
        self, code: str, name: str, active: str, tan_phi: float, *, parent: str | None = None, asset: str | None = None
    ) -> str:
        model = ChannelModel(driver="sources", sources=(active,), factor=tan_phi, noise=0.02)
        return self.channel(code, name, "reactive_energy", "load", model, parent=parent, asset=asset)


def load_model(driver: str, rate: float, base: float = 0.0, **kw: float) -> ChannelModel:
    """Shorthand for a profile-driven `ChannelModel`: `rate` [unit/h] at driver 1, `base` share always on."""
    return ChannelModel(driver=driver, rate=rate, base=base, **kw)


# ---------------------------------------------------------------------------------------------------------------
# the park, area by area


def _layout(b: _Builder) -> None:
    b.zone("north", "North Zone - Advanced Manufacturing", "北区·先进制造")
    b.zone("central", "Central Zone - Park Services and Digital Infrastructure", "中区·园区服务与数字基础设施")
    b.zone("south", "South Zone - Science and Innovation", "南区·科创")
    for args in (
        ("steel-works", "Meltshop and Rolling Mill", "炼钢轧钢车间", "north", 46000, "industrial", 2009),
        ("cathode-plant", "Cathode Materials Plant", "正极材料厂房", "north", 31000, "industrial", 2019),
        ("data-centre", "Data Centre", "数据中心", "central", 12500, "data_centre", 2021),
        ("service-centre", "Park Service Centre", "园区服务中心", "central", 7200, "office", 2015),
        ("parking", "Parking Building", "立体停车楼", "central", 16000, "parking", 2020),
        ("office-a", "Office Tower A", "A座办公楼", "south", 26000, "office", 2016),
        ("office-b", "Office Tower B", "B座办公楼", "south", 19000, "office", 2018),
        ("incubator", "Innovation Incubator", "创新孵化器", "south", 9500, "office", 2020),
        ("testing-centre", "Testing and Certification Centre", "检测认证中心", "south", 8800, "laboratory", 2017),
    ):
        b.building(*args)

    for code, name, name_zh, industry, building in ENTERPRISES:
        b.enterprise(code, name, name_zh, industry, building)
    for code, name, name_zh, industry in STARTUPS:
        b.enterprise(code, name, name_zh, industry, "incubator", is_startup=True)


# code, name, Chinese name, GB/T 4754-2017 industry class, building
# fmt: off
ENTERPRISES = (
    (OPERATOR, "Shanghai Baoshan Zero-Carbon Park Operation Co., Ltd.", "上海宝山零碳园区运营有限公司",
     "L7221", "service-centre"),  # 园区管理服务
    ("steel", "Shanghai Yuepu Precision Steel Co., Ltd.", "上海月浦精密钢材有限公司",
     "C3120", "steel-works"),  # 炼钢
    ("cathode", "Shanghai Luodian New Energy Materials Co., Ltd.", "上海罗店新能源材料有限公司",
     "C3985", "cathode-plant"),  # 电子专用材料制造
    ("datacentre", "Shanghai Songnan Cloud Data Co., Ltd.", "上海淞南云数据科技有限公司",
     "I6450", "data-centre"),  # 互联网数据服务
    ("design", "Shanghai Wusong Engineering Design Institute Co., Ltd.", "上海吴淞工程设计院有限公司",
     "M7484", "office-a"),  # 工程设计活动
    ("software", "Shanghai Gucun Digital Technology Co., Ltd.", "上海顾村数字科技有限公司",
     "I6513", "office-a"),  # 应用软件开发
    ("trading", "Shanghai Yanghang Metals Trading Co., Ltd.", "上海杨行金属贸易有限公司",
     "F5164", "office-b"),  # 金属及金属矿批发
    ("testing", "Shanghai Dachang Testing and Certification Co., Ltd.", "上海大场检测认证有限公司",
     "M7452", "testing-centre"),  # 检测服务
)
# fmt: on
# start-ups in the incubator: code, name, Chinese name, industry class (节能 / 新能源 / 软件 / 新材料 / 环保技术推广)
STARTUPS = (
    ("carbonsense", "Shanghai CarbonSense Technology Co., Ltd.", "上海碳感科技有限公司", "M7514"),
    ("hydrogen", "Shanghai Qingyuan Hydrogen Technology Co., Ltd.", "上海氢源新能源科技有限公司", "M7515"),
    ("gridmind", "Shanghai GridMind Intelligent Technology Co., Ltd.", "上海智网慧算科技有限公司", "I6513"),
    ("newmat", "Shanghai Xincai Advanced Materials Co., Ltd.", "上海新材先进材料科技有限公司", "M7513"),
    ("recycle", "Shanghai Xunhuan Battery Recycling Technology Co., Ltd.", "上海循环电池回收科技有限公司", "M7516"),
)

# PV arrays: code, name, building, kWp, tilt [deg], azimuth [deg, 180 = south], mounting
PV_ARRAYS = (  # code, name, building, kWp, tilt, azimuth, mounting, usable surface [m2] (sizing's area limit)
    ("pv-steel-roof", "Meltshop roof PV", "steel-works", 4000.0, 5.0, 180.0, "roof", 38000.0),
    ("pv-cathode-roof", "Cathode plant roof PV", "cathode-plant", 2500.0, 10.0, 180.0, "roof", 24000.0),
    ("pv-dc-roof", "Data centre roof PV", "data-centre", 400.0, 15.0, 180.0, "roof", 4500.0),
    ("pv-parking-canopy", "Parking canopy PV", "parking", 800.0, 10.0, 200.0, "roof", 6000.0),
    ("pv-office-a-roof", "Office A roof PV", "office-a", 260.0, 25.0, 180.0, "roof", 2000.0),
    ("pv-office-b-roof", "Office B roof PV", "office-b", 200.0, 22.0, 170.0, "roof", 1600.0),
    ("pv-testing-roof", "Testing centre roof PV", "testing-centre", 300.0, 25.0, 180.0, "roof", 2200.0),
    ("pv-incubator-roof", "Incubator roof PV", "incubator", 150.0, 20.0, 165.0, "roof", 1400.0),
    ("pv-office-a-facade", "Office A south facade BIPV", "office-a", 120.0, 90.0, 180.0, "facade", 2400.0),
    ("pv-service-facade", "Service centre west facade BIPV", "service-centre", 60.0, 90.0, 270.0, "facade", 900.0),
)


def _grid_storage_weather(b: _Builder) -> None:
    # the data centre's standby diesel sets (2 x 2,000 kW), fuel for about 12 h at rated output as data-centre
    # design practice asks of a class A room (GB 50174-2017, figure from memory): 4,000 kW x 12 h /
    # (0.38 x 0.84 kg/L x 11.85 kWh/kg) = 12,700 L; they run only in outages, so they have no meter here
    b.asset(
        "dc-diesel",
        "Data centre standby diesel generators (2 x 2,000 kW)",
        "generator",
        "data-centre",
        "datacentre",
        power_kw=4000.0,
        efficiency=0.38,
        fuel_litres=13000.0,
    )
    b.asset(
        "park-grid",
        "35 kV park connection",
        "grid_connection",
        "service-centre",
        OPERATOR,
        transformer_kva=50000,
        contracted_demand_kw=32000,
        voltage_kv=35,
    )
    m = b.meter("m-grid", "Park connection revenue meter", "service-centre", OPERATOR, model="DTZ341")
    m.kwh(
        "park.grid.import.kwh",
        "Grid import",
        purpose="grid_import",
        asset="park-grid",
        model=ChannelModel(driver="grid_import", noise=0.0),
    )
    m.kwh(
        "park.grid.export.kwh",
        "Grid export",
        purpose="grid_export",
        asset="park-grid",
        model=ChannelModel(driver="grid_export", noise=0.0),
    )
    m.channel(
        "park.grid.import.kvarh",
        "Grid reactive import",
        "reactive_energy",
        "grid_import",
        ChannelModel(driver="grid_reactive", noise=0.0),
        asset="park-grid",
    )

    b.asset(
        "bess-1",
        "Park battery storage",
        "battery",
        "service-centre",
        OPERATOR,
        energy_kwh=5000.0,
        power_kw=2500.0,
        eta_charge=0.95,
        eta_discharge=0.95,
        soc_min_pct=10.0,
        soc_max_pct=95.0,
    )
    m = b.meter("m-bess", "Battery PCS meter", "service-centre", OPERATOR, model="DTSD1352")
    m.kwh(
        "bess.charge.kwh",
        "Battery charging",
        purpose="battery_charge",
        asset="bess-1",
        model=ChannelModel(driver="battery_charge", noise=0.0),
    )
    m.kwh(
        "bess.discharge.kwh",
        "Battery discharging",
        purpose="battery_discharge",
        asset="bess-1",
        model=ChannelModel(driver="battery_discharge", noise=0.0),
    )
    m.channel(
        "bess.soc.pct",
        "Battery state of charge (end of interval)",
        "state_of_charge",
        "battery_soc",
        ChannelModel(driver="battery_soc", noise=0.0),
        asset="bess-1",
    )

    for code, name, building, kwp, tilt, azimuth, mounting, surface_m2 in PV_ARRAYS:
        b.asset(
            code,
            name,
            "pv_array",
            building,
            OPERATOR,
            kwp=kwp,
            tilt_deg=tilt,
            azimuth_deg=azimuth,
            mounting=mounting,
            losses_pct=14.0,
            surface_area_m2=surface_m2,
        )
        m = b.meter(f"m-{code}", f"{name} inverter meter", building, OPERATOR, model="DTSD1352")
        m.kwh(
            f"{code.removeprefix('pv-')}.pv.kwh",
            f"{name} generation",
            purpose="pv_generation",
            asset=code,
            model=ChannelModel(driver="pv", noise=0.0),
        )

    m = b.meter("m-weather", "Park weather station", "service-centre", OPERATOR, model="PWS-100")
    m.channel(
        "weather.ghi.w_m2",
        "Global horizontal irradiance",
        "irradiance",
        "weather",
        ChannelModel(driver="ghi", rate=1.0, noise=0.0),
    )
    m.channel(
        "weather.dhi.w_m2",
        "Diffuse horizontal irradiance",
        "irradiance",
        "weather",
        ChannelModel(driver="dhi", rate=1.0, noise=0.0),
    )
    m.channel(
        "weather.poa.w_m2",
        "Plane-of-array irradiance (25 deg, south)",
        "irradiance",
        "weather",
        ChannelModel(driver="poa_reference", rate=1.0, noise=0.0),
    )
    m.channel(
        "weather.temp-air.degc",
        "Air temperature",
        "temperature",
        "weather",
        ChannelModel(driver="temp_air", rate=1.0, noise=0.0),
    )
    m.channel(
        "weather.temp-module.degc",
        "Reference module temperature",
        "temperature",
        "weather",
        ChannelModel(driver="temp_module", rate=1.0, noise=0.0),
    )


def _steel(b: _Builder) -> None:
    e, bd = "steel", "steel-works"
    b.asset(
        "steel-eaf",
        "30 MVA electric arc furnace (15 t heats)",
        "flexible_load",
        bd,
        e,
        power_max_kw=9000.0,
        power_min_kw=0.0,
        shiftable_energy_kwh_per_day=40000.0,
        window_start="22:00",
        window_end="08:00",
    )
    sd = 0.05  # share of standby loads kept during the Spring Festival shutdown
    m = b.meter("m-steel-main", "Meltshop 35 kV incoming", bd, e, model="DTZ341")
    main = m.kwh("steel.main.kwh", "Steel works incoming", load_model("shift3", 180, 0.5, shutdown=0.3))
    main_q = m.kvarh("steel.main.kvarh", "Steel works incoming reactive", main, 0.45)
    m = b.meter("m-steel-eaf", "EAF transformer", bd, e, model="DTZ341")
    eaf = m.kwh(
        "steel.eaf.kwh",
        "Electric arc furnace",
        load_model("eaf_arc", 8500, 0.01, shutdown=sd, noise=0.02),
        parent=main,
        asset="steel-eaf",
    )
    m.kvarh("steel.eaf.kvarh", "Electric arc furnace reactive", eaf, 0.75, parent=main_q)
    m = b.meter("m-steel-lf", "Ladle furnace transformer", bd, e, model="DTZ341")
    lf = m.kwh("steel.lf.kwh", "Ladle furnace", load_model("eaf_lf", 2000, 0.02, shutdown=sd), parent=main)
    m.kvarh("steel.lf.kvarh", "Ladle furnace reactive", lf, 0.6, parent=main_q)
    m = b.meter("m-steel-rolling", "Rolling mill drives", bd, e, model="DTZ341")
    rolling = m.kwh(
        "steel.rolling.kwh", "Rolling mill", load_model("steel_rolling", 1500, 0.1, shutdown=sd), parent=main
    )
    m.kvarh("steel.rolling.kvarh", "Rolling mill reactive", rolling, 0.35, parent=main_q)
    m = b.meter("m-steel-aux", "Meltshop auxiliaries MCC", bd, e, model="AMC96L")
    m.kwh("steel.caster.kwh", "Continuous caster", load_model("steel_casting", 450, 0.15, shutdown=sd), parent=main)
    m.kwh(
        "steel.reheat-fans.kwh",
        "Reheating furnace combustion fans",
        load_model("steel_rolling", 300, 0.35, shutdown=sd),
        parent=main,
    )
    m.kwh(
        "steel.dedusting.kwh",
        "Fume extraction and bag filter",
        load_model("eaf_on", 700, 0.3, shutdown=sd),
        parent=main,
    )
    m.kwh(
        "steel.water-pumps.kwh",
        "Cooling water pumps",
        load_model("steel_operating", 320, 0.3, shutdown=sd),
        parent=main,
    )
    m.kwh("steel.compressors.kwh", "Compressed air", load_model("steel_operating", 300, 0.25, shutdown=sd), parent=main)
    m.kwh("steel.cranes.kwh", "Overhead cranes", load_model("eaf_on", 380, 0.2, shutdown=sd, noise=0.15), parent=main)
    m.kwh(
        "steel.scrap-yard.kwh",
        "Scrap yard magnet cranes and shear",
        load_model("steel_operating", 300, 0.1, shutdown=sd, noise=0.2),
        parent=main,
    )
    m.kwh("steel.oxygen.kwh", "Oxygen and nitrogen supply", load_model("eaf_on", 350, 0.3, shutdown=sd), parent=main)
    m = b.meter("m-steel-building", "Workshop building services", bd, e, model="AMC96L")
    m.kwh("steel.lighting.kwh", "Workshop lighting", load_model("lighting_plant", 160, 0.3, shutdown=0.2), parent=main)
    m.kwh(
        "steel.hvac.kwh", "Control rooms and offices HVAC", load_model("hvac_24h", 220, 0.1, shutdown=0.2), parent=main
    )
    m.kwh("steel.office.kwh", "Office and welfare building", load_model("office", 90, 0.1), parent=main)

    m = b.meter("m-steel-gas", "Natural gas station", bd, e, model="TBQZ-G400")
    gas = m.channel(
        "steel.gas.main.nm3",
        "Natural gas incoming",
        "gas_volume",
        "gas",
        load_model("steel_operating", 25, 0.5, shutdown=0.1),
    )
    m.channel(
        "steel.gas.reheat.nm3",
        "Reheating furnace natural gas",
        "gas_volume",
        "gas",
        load_model("steel_rolling", 420, 0.3, shutdown=0.02),
        parent=gas,
    )
    m.channel(
        "steel.gas.ladle-preheat.nm3",
        "Ladle preheating natural gas",
        "gas_volume",
        "gas",
        load_model("steel_operating", 60, 0.4, shutdown=0.05),
        parent=gas,
    )
    m = b.meter("m-steel-water", "Make-up water meter", bd, e, model="LXS-100")
    m.channel(
        "steel.water.m3",
        "Make-up water register",
        "water_volume",
        "water",
        load_model("steel_operating", 7.0, 0.25, shutdown=0.1, noise=0.1),
        behaviour="counter",
    )
    m = b.meter("m-steel-scale", "Finished product weighbridge", bd, e, model="SCS-120")
    m.channel(
        "steel.output.rebar.t",
        "Rebar HRB400 output",
        "mass",
        "product_output",
        ChannelModel(driver="steel_rolled", rate=1.0, noise=0.0),
    )
    b.product("rebar-hrb400", "Hot-rolled ribbed bar HRB400 (热轧带肋钢筋)", e)


def _cathode(b: _Builder) -> None:
    e, bd = "cathode", "cathode-plant"
    b.asset(
        "cathode-milling",
        "Jet milling and classifying line (shiftable)",
        "flexible_load",
        bd,
        e,
        power_max_kw=900.0,
        power_min_kw=0.0,
        shiftable_energy_kwh_per_day=6000.0,
        window_start="22:00",
        window_end="06:00",
    )
    m = b.meter("m-cathode-main", "Cathode plant 10 kV incoming", bd, e, model="DTZ341")
    main = m.kwh("cathode.main.kwh", "Cathode plant incoming", load_model("one", 120, 0.0, shutdown=0.5))
    m.kvarh("cathode.main.kvarh", "Cathode plant incoming reactive", main, 0.3)
    kilns = []
    for i in range(1, 7):
        ncm = i <= 4
        m = b.meter(f"m-cathode-kiln-{i}", f"Roller-hearth kiln {i} feeder", bd, e, model="DTSD1352")
        kilns.append(
            m.kwh(
                f"cathode.kiln-{i}.kwh",
                f"Roller-hearth kiln {i} ({'NCM' if ncm else 'LFP'})",
                load_model("kiln", 680 if ncm else 560, 0.0, shutdown=0.3, noise=0.02),
                parent=main,
            )
        )
    m = b.meter("m-cathode-process", "Process MCC", bd, e, model="AMC96L")
    m.kwh(
        "cathode.mixing.kwh",
        "Precursor and lithium mixing",
        load_model("shift3", 320, 0.15, shutdown=0.05, noise=0.08),
        parent=main,
    )
    m.kwh(
        "cathode.milling.kwh",
        "Jet milling and classifying",
        load_model("shift3", 500, 0.1, shutdown=0.05, noise=0.06),
        parent=main,
        asset="cathode-milling",
    )
    m.kwh(
        "cathode.coating.kwh",
        "LFP carbon coating and sintering aux",
        load_model("shift3", 240, 0.2, shutdown=0.1),
        parent=main,
    )
    m.kwh("cathode.spray-dryer.kwh", "Spray dryer fans", load_model("shift3", 260, 0.1, shutdown=0.05), parent=main)
    m.kwh(
        "cathode.packaging.kwh",
        "Sieving, demagnetising and packaging",
        load_model("shift2", 180, 0.1, rest=0.7, shutdown=0.05),
        parent=main,
    )
    m = b.meter("m-cathode-utilities", "Utilities MCC", bd, e, model="AMC96L")
    m.kwh(
        "cathode.oxygen.kwh",
        "Oxygen and nitrogen generation (PSA)",
        load_model("one", 420, 0.0, shutdown=0.3),
        parent=main,
    )
    m.kwh("cathode.compressors.kwh", "Compressed air", load_model("shift3", 300, 0.3, shutdown=0.2), parent=main)
    m.kwh(
        "cathode.dry-room.kwh", "Dry room dehumidification", load_model("hvac_24h", 380, 0.4, shutdown=0.3), parent=main
    )
    m.kwh("cathode.chillers.kwh", "Process chillers", load_model("cooling_24h", 420, 0.25, shutdown=0.2), parent=main)
    m.kwh(
        "cathode.wastewater.kwh",
        "Wastewater and ammonia recovery",
        load_model("one", 150, 0.0, shutdown=0.6),
        parent=main,
    )
    m.kwh("cathode.lighting.kwh", "Plant lighting", load_model("lighting_plant", 110, 0.3), parent=main)
    m.kwh("cathode.office.kwh", "Offices and QC lab", load_model("office", 120, 0.15), parent=main)
    m = b.meter("m-cathode-steam", "Steam flow meter", bd, e, model="V-BAR")
    m.channel(
        "cathode.steam.t",
        "Purchased steam (evaporation, drying)",
        "steam_mass",
        "steam",
        load_model("shift3", 1.4, 0.3, shutdown=0.1, noise=0.08),
    )
    m = b.meter("m-cathode-gas", "Natural gas meter (spray dryer burner)", bd, e, model="TBQZ-G100")
    m.channel(
        "cathode.gas.nm3",
        "Natural gas register",
        "gas_volume",
        "gas",
        load_model("shift3", 140, 0.2, shutdown=0.05, noise=0.06),
        behaviour="counter",
    )
    m = b.meter("m-cathode-water", "Water meter", bd, e, model="LXS-80")
    m.channel(
        "cathode.water.m3",
        "Process water register",
        "water_volume",
        "water",
        load_model("shift3", 9.0, 0.3, shutdown=0.2, noise=0.1),
        behaviour="counter",
    )
    m = b.meter("m-cathode-scale", "Packaging line scales", bd, e, model="SCS-3")
    # product from kiln energy: NCM 1,500 kWh/t, LFP 1,250 kWh/t of calcination energy
    m.channel(
        "cathode.output.ncm.t",
        "NCM811 cathode output",
        "mass",
        "product_output",
        ChannelModel(driver="sources", sources=tuple(kilns[:4]), factor=1 / 1500, shutdown=0.0, noise=0.0, lag=8),
    )
    m.channel(
        "cathode.output.lfp.t",
        "LFP cathode output",
        "mass",
        "product_output",
        ChannelModel(driver="sources", sources=tuple(kilns[4:]), factor=1 / 1250, shutdown=0.0, noise=0.0, lag=8),
    )
    b.product("ncm811", "NCM811 cathode material (镍钴锰酸锂正极材料)", e)
    b.product("lfp", "Lithium iron phosphate cathode material (磷酸铁锂正极材料)", e)


def _data_centre(b: _Builder) -> None:
    e, bd = "datacentre", "data-centre"
    b.asset(
        "dc-chillers",
        "Data centre chiller plant (3 x 1,400 kW cooling)",
        "hvac",
        bd,
        e,
        cooling_kw=4200.0,
        cop_nominal=6.2,
        free_cooling=True,
    )
    m = b.meter("m-dc-main", "Data centre 10 kV incoming", bd, e, model="DTZ341")
    # UPS and transformer losses: ~5 % of IT
    main = m.kwh("dc.main.kwh", "Data centre incoming", load_model("dc_it", 140, 0.0, noise=0.01))
    m.kvarh("dc.main.kvarh", "Data centre incoming reactive", main, 0.15)
    m = b.meter("m-dc-ups", "UPS output (IT load)", bd, e, model="DTSD1352")
    it = m.kwh(
        "dc.it.kwh", "IT load (UPS output)", load_model("dc_it", 25, 0.0, noise=0.01), parent=main, purpose="it_load"
    )
    for hall in (1, 2):
        m = b.meter(f"m-dc-hall-{hall}-pdu", f"Hall {hall} PDU multi-circuit meter", bd, e, model="AMC16Z")
        for row in "abcdef":
            driver = "dc_it" if hall == 1 else "dc_it_filling"
            rate = 260 if hall == 1 else 215
            m.kwh(
                f"dc.it.hall-{hall}-row-{row}.kwh",
                f"Hall {hall} row {row.upper()} racks",
                load_model(driver, rate, 0.0, noise=0.02),
                parent=it,
            )
    m = b.meter("m-dc-cooling", "Cooling plant MCC", bd, e, model="AMC96L")
    cooling = m.kwh("dc.cooling.kwh", "Cooling plant total", load_model("one", 10, 0.0, noise=0.05), parent=main)
    for i in (1, 2, 3):
        driver = "dc_chillers" if i < 3 else "dc_chiller_peak"
        m.kwh(
            f"dc.cooling.chiller-{i}.kwh",
            f"Chiller {i}",
            load_model(driver, 240, 0.0, noise=0.04),
            parent=cooling,
            asset="dc-chillers",
        )
    m.kwh(
        "dc.cooling.towers.kwh", "Cooling towers", load_model("dc_towers", 75, 0.0), parent=cooling, asset="dc-chillers"
    )
    m.kwh(
        "dc.cooling.pumps-chw.kwh",
        "Chilled water pumps",
        load_model("dc_towers", 70, 0.4),
        parent=cooling,
        asset="dc-chillers",
    )
    m.kwh(
        "dc.cooling.pumps-cw.kwh",
        "Condenser water pumps",
        load_model("dc_towers", 60, 0.3),
        parent=cooling,
        asset="dc-chillers",
    )
    m.kwh(
        "dc.cooling.crah.kwh", "Computer-room air handlers", load_model("dc_it", 150, 0.0, noise=0.02), parent=cooling
    )
    m = b.meter("m-dc-building", "Building services", bd, e, model="AMC96L")
    m.kwh("dc.lighting.kwh", "Lighting", load_model("lighting_plant", 25, 0.4), parent=main)
    m.kwh("dc.office.kwh", "NOC and offices", load_model("office", 45, 0.3), parent=main)
    m = b.meter("m-dc-water", "Cooling tower make-up water meter", bd, e, model="LXS-80")
    m.channel(
        "dc.water.m3",
        "Cooling water register",
        "water_volume",
        "water",
        load_model("dc_towers", 9.0, 0.05, noise=0.08),
        behaviour="counter",
    )


def _office_tenant(b: _Builder, e: str, bd: str, floors: range, floor_area_m2: float) -> None:
    m = b.meter(f"m-{e}-main", f"{e} incoming", bd, e, model="DTSD1352")
    main = m.kwh(f"{e}.main.kwh", "Tenant incoming", load_model("office", 0.004 * floor_area_m2 * len(floors), 0.2))
    m.kvarh(f"{e}.main.kvarh", "Tenant incoming reactive", main, 0.25)
    for f in floors:
        m = b.meter(f"m-{e}-floor-{f:02d}", f"Floor {f} distribution board", bd, e, model="AMC16Z")
        m.kwh(
            f"{e}.floor-{f:02d}.lighting-sockets.kwh",
            f"Floor {f} lighting and sockets",
            load_model("office_lighting_sockets", 0.018 * floor_area_m2, 0.12, noise=0.06),
            parent=main,
        )
        m.kwh(
            f"{e}.floor-{f:02d}.hvac.kwh",
            f"Floor {f} fan-coil units",
            load_model("hvac_office", 0.008 * floor_area_m2, 0.0, noise=0.06),
            parent=main,
        )
    m = b.meter(f"m-{e}-it", "Server room", bd, e, model="AMC16Z")
    m.kwh(
        f"{e}.server-room.kwh",
        "Server room and its air conditioning",
        load_model("cooling_24h", 20, 0.7, noise=0.03),
        parent=main,
    )


def _building_common(b: _Builder, bd: str, area_m2: float, chillers: bool = True) -> None:
    """The operator's common-area meters of one building (lifts, public lighting, central plant, water)."""
    e = OPERATOR
    m = b.meter(f"m-{bd}-common", f"{bd} public distribution", bd, e, model="DTSD1352")
    main = m.kwh(f"{bd}.common.kwh", "Common areas incoming", load_model("office", 0.002 * area_m2, 0.3))
    if chillers:
        b.asset(
            f"{bd}-chillers",
            f"{bd} central chiller / heat-pump plant",
            "hvac",
            bd,
            e,
            cooling_kw=round(0.09 * area_m2),
            cop_nominal=5.5,
        )
        m.kwh(
            f"{bd}.common.chillers.kwh",
            "Central chillers / heat pumps",
            load_model("hvac_office", 0.025 * area_m2, 0.0, noise=0.05),
            parent=main,
            asset=f"{bd}-chillers",
        )
        m.kwh(
            f"{bd}.common.pumps.kwh",
            "Chilled / hot water pumps",
            load_model("hvac_office", 0.006 * area_m2, 0.15),
            parent=main,
            asset=f"{bd}-chillers",
        )
    m.kwh(
        f"{bd}.common.ahu.kwh",
        "Air handling units (fresh air)",
        load_model("office_hvac_schedule", 0.004 * area_m2, 0.05),
        parent=main,
    )
    m.kwh(f"{bd}.common.lifts.kwh", "Lifts", load_model("office", 0.0015 * area_m2, 0.15, noise=0.15), parent=main)
    m.kwh(
        f"{bd}.common.lighting.kwh", "Public area lighting", load_model("lighting", 0.0025 * area_m2, 0.25), parent=main
    )
    m = b.meter(f"m-{bd}-water", f"{bd} water meter", bd, e, model="LXS-50")
    m.channel(
        f"{bd}.water.m3",
        "Building water register",
        "water_volume",
        "water",
        load_model("office", 0.00012 * area_m2, 0.05, noise=0.2),
        behaviour="counter",
    )


def _offices(b: _Builder) -> None:
    _office_tenant(b, "design", "office-a", range(3, 9), 1500.0)
    _office_tenant(b, "software", "office-a", range(9, 15), 1500.0)
    _office_tenant(b, "trading", "office-b", range(2, 10), 1400.0)
    _building_common(b, "office-a", 26000.0)
    _building_common(b, "office-b", 19000.0)


def _incubator(b: _Builder) -> None:
    _building_common(b, "incubator", 9500.0, chillers=False)
    for i, (code, _name, _zh, _ind) in enumerate(STARTUPS):
        m = b.meter(f"m-{code}", f"{code} unit meter", "incubator", code, model="DDSU666")
        area = 250.0 + 120.0 * i
        main = m.kwh(f"{code}.main.kwh", "Unit incoming", load_model("office", 0.01 * area, 0.2, noise=0.08))
        if i < 3:  # the larger units have sub-circuits
            m.kwh(
                f"{code}.lighting-sockets.kwh",
                "Lighting and sockets",
                load_model("office_lighting_sockets", 0.02 * area, 0.12, noise=0.08),
                parent=main,
            )
            m.kwh(
                f"{code}.hvac.kwh",
                "Split air conditioners",
                load_model("hvac_office", 0.035 * area, 0.0, noise=0.1),
                parent=main,
            )
        if code == "hydrogen":
            m.kwh(
                f"{code}.electrolyser-lab.kwh",
                "Electrolyser test bench",
                load_model("lab_chamber", 45, 0.05, noise=0.1),
                parent=main,
            )


def _testing(b: _Builder) -> None:
    e, bd = "testing", "testing-centre"
    m = b.meter("m-testing-main", "Testing centre incoming", bd, e, model="DTSD1352")
    main = m.kwh("testing.main.kwh", "Testing centre incoming", load_model("office", 30, 0.3))
    m.kvarh("testing.main.kvarh", "Testing centre incoming reactive", main, 0.3)
    m = b.meter("m-testing-labs", "Laboratory distribution", bd, e, model="AMC16Z")
    m.kwh("testing.emc-lab.kwh", "EMC chamber", load_model("lab_day", 160, 0.1, noise=0.15), parent=main)
    for i in (1, 2, 3):
        m.kwh(
            f"testing.climate-chamber-{i}.kwh",
            f"Climatic test chamber {i}",
            load_model("lab_chamber", 55 + 10 * i, 0.05, noise=0.08),
            parent=main,
        )
    m.kwh(
        "testing.battery-lab.kwh",
        "Battery safety and cycling lab",
        load_model("lab_chamber", 240, 0.15, noise=0.1),
        parent=main,
    )
    m.kwh(
        "testing.materials-lab.kwh",
        "Materials and chemistry lab (fume hoods)",
        load_model("lab_day", 90, 0.25),
        parent=main,
    )
    m = b.meter("m-testing-building", "Building services", bd, e, model="AMC16Z")
    m.kwh("testing.hvac.kwh", "Laboratory HVAC (100 % fresh air)", load_model("hvac_24h", 260, 0.3), parent=main)
    m.kwh("testing.lighting.kwh", "Lighting", load_model("lighting", 45, 0.15), parent=main)
    m.kwh("testing.office.kwh", "Offices and reception", load_model("office", 60, 0.1), parent=main)
    m = b.meter("m-testing-water", "Water meter", bd, e, model="LXS-40")
    m.channel(
        "testing.water.m3",
        "Laboratory water register",
        "water_volume",
        "water",
        load_model("lab_day", 1.2, 0.1, noise=0.2),
        behaviour="counter",
    )


def _services(b: _Builder) -> None:
    e = OPERATOR
    bd = "service-centre"
    m = b.meter("m-service-main", "Service centre incoming", bd, e, model="DTSD1352")
    main = m.kwh("service.main.kwh", "Service centre incoming", load_model("office", 25, 0.3))
    m = b.meter("m-service-sub", "Service centre distribution", bd, e, model="AMC16Z")
    m.kwh("service.canteen.kwh", "Canteen kitchen (electric)", load_model("canteen", 180, 0.05, noise=0.1), parent=main)
    m.kwh("service.hvac.kwh", "HVAC (VRF)", load_model("hvac_office", 200, 0.0), parent=main)
    m.kwh("service.lighting.kwh", "Lighting", load_model("lighting", 40, 0.1), parent=main)
    m.kwh("service.control-room.kwh", "Park control room and IT", load_model("one", 35, 0.0, noise=0.03), parent=main)
    m = b.meter("m-service-water", "Service centre water meter", bd, e, model="LXS-50")
    m.channel(
        "service.water.m3",
        "Service centre water register",
        "water_volume",
        "water",
        load_model("canteen", 2.5, 0.05, noise=0.2),
        behaviour="counter",
    )

    m = b.meter("m-street-lighting", "Street lighting cabinet", None, e, model="DTSD1352")
    m.kwh("park.street-lighting.kwh", "Street and landscape lighting", load_model("darkness", 95, 0.0, noise=0.01))
    m = b.meter("m-wwtp", "Park wastewater treatment plant", None, e, model="DTSD1352")
    wwtp = m.kwh("park.wwtp.kwh", "Wastewater plant incoming", load_model("one", 25, 0.0))
    m.kwh("park.wwtp.aeration.kwh", "Aeration blowers", load_model("shift3", 160, 0.5, noise=0.1), parent=wwtp)
    m.kwh("park.wwtp.pumps.kwh", "Lift and sludge pumps", load_model("one", 70, 0.0, noise=0.15), parent=wwtp)

    bd = "parking"
    m = b.meter("m-parking-main", "Parking building incoming", bd, e, model="DTSD1352")
    main = m.kwh("parking.main.kwh", "Parking building incoming", load_model("one", 8, 0.0))
    m.kwh("parking.lighting.kwh", "Parking lighting (radar dimmed)", load_model("office", 60, 0.35), parent=main)
    m.kwh(
        "parking.ventilation.kwh",
        "Car park ventilation (CO sensors)",
        load_model("office", 75, 0.1, noise=0.1),
        parent=main,
    )


# EV charger groups: asset, name, building, enterprise, power per point [kW], points, usage pattern,
# individual sub-meters per point
EV_GROUPS = (
    ("ev-parking-dc", "Public DC fast chargers", "parking", OPERATOR, 120.0, 8, "ev_public_dc", True),
    ("ev-parking-ac", "Parking AC chargers", "parking", OPERATOR, 7.0, 40, "ev_workplace", False),
    ("ev-office-a", "Office A basement AC chargers", "office-a", OPERATOR, 7.0, 20, "ev_workplace", False),
    ("ev-steel-trucks", "Electric heavy-truck chargers", "steel-works", "steel", 240.0, 4, "ev_truck", True),
)


def _ev(b: _Builder) -> None:
    for asset, name, bd, e, power_kw, count, pattern, individual in EV_GROUPS:
        b.asset(asset, name, "ev_charger", bd, e, power_kw=power_kw, count=count)
        m = b.meter(f"m-{asset}", f"{name} meter", bd, e, model="DTSD1352")
        short = asset.removeprefix("ev-")
        if individual:
            group = m.kwh(
                f"ev.{short}.kwh",
                f"{name} total",
                load_model("one", 0.4 * count, 0.0, noise=0.02),
                purpose="ev_charging",
                asset=asset,
            )
            for i in range(1, count + 1):
                m.kwh(
                    f"ev.{short}.{i:02d}.kwh",
                    f"{name} point {i}",
                    load_model(pattern, power_kw, 0.0, noise=0.0),
                    purpose="ev_charging",
                    asset=asset,
                    parent=group,
                )
        else:
            m.kwh(
                f"ev.{short}.kwh",
                f"{name} total",
                ChannelModel(driver=pattern, rate=power_kw, units=count, noise=0.0),
                purpose="ev_charging",
                asset=asset,
            )


def _build(seed: int) -> tuple[dict, dict[str, ChannelModel]]:
    b = _Builder(rng=np.random.default_rng([seed, 20250101]))
    _layout(b)
    _grid_storage_weather(b)
    _steel(b)
    _cathode(b)
    _data_centre(b)
    _offices(b)
    _incubator(b)
    _testing(b)
    _services(b)
    _ev(b)
    park = {
        "code": PARK_CODE,
        "name": "Baoshan Carbon-Neutral Demo Park",
        "name_zh": "宝山碳中和示范园区",
        "timezone": "Asia/Shanghai",
        "latitude": 31.2,
        "longitude": 121.5,
        "zones": b.zones,
        "buildings": b.buildings,
        "enterprises": b.enterprises,
        "assets": b.assets,
        "meters": b.meters,
        "products": b.products,
    }
    return {"format": "parkzero-registry", "version": 1, "parks": [park]}, b.models


def demo_registry(seed: int = 42) -> dict:
    """The demo park as one ``parkzero-registry`` document (format version 1).

    Parameters
    ----------
    seed : int
        Seed of the fictitious identifiers (credit codes, meter serials); the layout does not depend on it.

    Returns
    -------
    dict
        ``{"format": "parkzero-registry", "version": 1, "parks": [park]}`` with the park's zones,
        buildings, enterprises, assets, meters (with nested channels) and products; references are codes.
    """
    return _build(seed)[0]


def demo_channel_models() -> dict[str, ChannelModel]:
    """The generating model of every channel of `demo_registry`, by channel code."""
    return _build(0)[1]


def iter_channels(registry: dict) -> list[dict]:
    """All channels of the (single) park of a registry document, each with its ``meter`` code added."""
    park = registry["parks"][0]
    return [{**ch, "meter": m["code"]} for m in park["meters"] for ch in m["channels"]]


def demo_summary(registry: dict) -> dict:
    """Headline counts of a registry document, for printing after ``parkzero demo``.

    Returns
    -------
    dict
        ``park``, ``zones``, ``buildings``, ``floor_area_m2``, ``enterprises``, ``tenants`` (enterprises other
        than the operator), ``startups``, ``meters``, ``channels``, ``channels_by_kind``, ``counter_channels``,
        ``products``, ``pv_arrays``, ``pv_kwp`` [kWp], ``battery_kwh`` [kWh], ``battery_kw`` [kW],
        ``ev_charge_points`` and ``ev_kw`` [kW].
    """
    park = registry["parks"][0]
    channels = iter_channels(registry)
    assets = park["assets"]

    def of_kind(kind: str) -> list[dict]:
        return [a for a in assets if a["kind"] == kind]

    return {
        "park": park["code"],
        "zones": len(park["zones"]),
        "buildings": len(park["buildings"]),
        "floor_area_m2": sum(bd.get("floor_area_m2") or 0.0 for bd in park["buildings"]),
        "enterprises": len(park["enterprises"]),
        "tenants": sum(1 for e in park["enterprises"] if e["code"] != OPERATOR),
        "startups": sum(1 for e in park["enterprises"] if e.get("is_startup")),
        "meters": len(park["meters"]),
        "channels": len(channels),
        "channels_by_kind": dict(Counter(ch["quantity_kind"] for ch in channels)),
        "counter_channels": sum(1 for ch in channels if ch["behaviour"] == "counter"),
        "products": len(park["products"]),
        "pv_arrays": len(of_kind("pv_array")),
        "pv_kwp": sum(a["params"]["kwp"] for a in of_kind("pv_array")),
        "battery_kwh": sum(a["params"]["energy_kwh"] for a in of_kind("battery")),
        "battery_kw": sum(a["params"]["power_kw"] for a in of_kind("battery")),
        "ev_charge_points": sum(a["params"]["count"] for a in of_kind("ev_charger")),
        "ev_kw": sum(a["params"]["count"] * a["params"]["power_kw"] for a in of_kind("ev_charger")),
    }
