"""A tenant's product system built from its own measured data, and its facility emissions allocated to products.

The product-system document
---------------------------
A JSON-able dict (or a TOML or JSON file read by `load_document`) describing one enterprise's production over
one reference period [start, end) in the park's time zone. One run of each process is the whole period: every
amount is what the line made or used in it. In TOML::

    format = "parkzero-product-system"     # optional; version = 1
    enterprise = "steel"                   # the registry enterprise; a tenant can only name itself
    period = { start = "2023-04-01", end = "2023-05-01" }   # local dates (midnight) or ISO datetimes
    regime = "ghg-protocol"                # optional: the factor-year rule and the default grid factor
    electricity = { set = "cn-electricity", id = "electricity.cn.east_china" }   # optional, see below

    [products.coil]                        # the code processes use for this product
    product = "coil"                       # a registry product of the enterprise: its name and declared unit
    pact_product_ids = ["urn:pact:park.example.cn:product-id:coil"]   # optional, carried along
    [products.billet]                      # an intermediate not in the registry: give name and declared_unit
    name = "EAF billet"
    declared_unit = "t"

    [[processes]]                          # one per production line
    code = "melt"
    name = "Melt shop"
    outputs = { billet = 1250.0 }          # [declared unit] made in the period ...
    inputs = [
      { footprint = "8f0c...", amount = 10.0, unit = "t" },
      { factor = { set = "desnz-2025", id = "transport.freight.hgv_average", year = 2025 }, amount = 4e4 },
    ]
    energy = [{ channel = "steel.eaf" }]

    [[processes]]
    code = "rolling"
    name = "Rolling mill"
    outputs = { coil = { output_channel = "steel.coil" } }   # ... or read from a production-output channel
    inputs = [{ product = "billet", amount = 1000.0 }]
    energy = [{ channel = "steel.main", less = ["steel.eaf"] }]

Fields of a process: ``code``, ``name``; ``outputs`` product -> amount [declared unit] or
``{ output_channel = <channel> }`` (a summable channel of the enterprise whose unit converts to the declared unit,
e.g. a mass channel in t); ``inputs``, each with exactly one of

- ``product``: a product of this document (cycles are allowed, e.g. scrap back to the furnace);
- ``footprint``: the ``pf_id`` of a supplier's PACT footprint the enterprise received
  (`parkzero.footprint.records`), used at its PCF per declared unit, source ``supplier:<name>``, primary data;
- ``factor``: ``{ set, id, year }`` an emission factor (``ef`` rows, every gas weighted by the regime's GWP) of
  the factor library, looked up for ``year`` (default: the period's) by the regime's rule;

and ``amount`` [``unit``], ``unit`` (default: the unit of what is used; t and kg etc. convert by
`parkzero.footprint.model.UNITS`), ``uncertainty`` (GSD, optional); ``energy``, each ``{ channel, less, factor }``:
the kWh of an electricity channel of the enterprise summed over the period, less the kWh of its sub-meters in
``less`` (the remainder of a main meter), priced with ``factor`` (default: the document's ``electricity``, else
the regime's grid factor, for the period's year); ``direct_kgco2e`` (optional, [kgCO2e] in the period);
``allocation``, ``allocation_factors``, ``prices``, ``substitutions`` as `parkzero.footprint.model.Process`.

A channel must have a reading for every interval of the period (fill gaps explicitly, with quality "filled").

Facility emissions and the reconciliation
-----------------------------------------
`allocate_inventory` takes the enterprise's lines of a stored inventory (`parkzero.accounting.inventory`) for the
months of the period, shares them among the processes by a basis and puts them as the processes'
``direct_kgco2e``. Scope 1 lines are always taken. Scope 2 lines (of the chosen method) are taken unless the
system already counts that electricity through its energy inputs: a Scope 2 source whose channels the energy
inputs cover exactly once (a channel used whole, or its remainder plus each sub-meter taken out of it) is left
out, since its kWh are priced in the footprints already; one covered only in part (only a sub-meter used) is
refused, as it would count part of the electricity twice. Scope 3 lines are not taken: upstream emissions come
into the footprints through the inputs.

The reconciliation shows, per product, footprint x output and its facility part, and sets the sum of the
facility parts against the inventory lines taken. The difference is not hidden. It is zero when every product
leaves the system; each unit of a product consumed inside the system (an intermediate, scrap returned) carries
its facility emissions into the footprint of what consumed it, so summing footprint x *output* counts them twice:
the difference is the sum of facility part x amount consumed inside [tCO2e]. Facility part x *delivered*
(output less consumption inside, negative where the lines drew on stock) sums to the inventory exactly, up to
system expansion credits: `Reconciliation.facility_delivered_tco2e` shows it. What was sold differs from what
was delivered by the change of stocks, so facility part x sold differs from the inventory by that change.
"""

from __future__ import annotations

import json
import math
import numbers
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from parkzero.accounting import inventory as ledger
from parkzero.accounting import rules
from parkzero.accounting.sources import list_sources
from parkzero.errors import Issue, ValidationFailed
from parkzero.factors import library
from parkzero.factors.units import parse_factor_unit
from parkzero.footprint import engine, records
from parkzero.footprint.model import (
    ALLOCATION_TOLERANCE,
    EnergyInput,
    Exchange,
    Process,
    Product,
    SecondaryFactor,
    System,
    unit_factor,
)
from parkzero.footprint.pact import DECLARED_UNITS
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store import Store
from parkzero.store.quality import quality_report
from parkzero.store.timeseries import check_range, series
from parkzero.units import QUANTITY_KINDS

FORMAT = "parkzero-product-system"
DEFAULT_REGIME = "ghg-protocol"
BASES = ("output_mass", "energy", "economic")
PACT_UNITS = {pact: ours for ours, (pact, k) in DECLARED_UNITS.items() if k == 1}  # "kilogram" -> "kg"


def load_document(path: str | Path) -> dict:
    """A product-system document from a ``.toml`` or ``.json`` file, as a JSON-able dict (dates as ISO text)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    try:
        doc = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ValidationFailed(f"{path.name}: not valid {path.suffix.lstrip('.').upper()}: {exc}") from None
    return json.loads(json.dumps(doc, default=lambda v: v.isoformat() if isinstance(v, date | time) else str(v)))


@dataclass
class Provenance:
    """Where every number of a built system came from.

    `records` has one dict per number: ``process`` (or "inventory"), ``field`` (as in the document, e.g.
    ``energy[0]``), ``kind`` ("given", "channel", "supplier", "factor", "electricity", "inventory" or
    "allocation"), ``value`` and ``unit``, and the details of its kind: channel code, kWh and period; factor set,
    version, id, gas, value and unit; supplier ``pf_id``; inventory line.
    """

    park: str
    enterprise: str
    start: datetime
    end: datetime
    products: dict[str, dict] = field(default_factory=dict)
    records: list[dict] = field(default_factory=list)

    def add(self, process: str, field_name: str, kind: str, value: Any, unit: str | None, **detail: Any) -> None:
        self.records.append(
            {"process": process, "field": field_name, "kind": kind, "value": value, "unit": unit, **detail}
        )

    def of(self, process: str, field_name: str | None = None) -> list[dict]:
        """The records of one process (and field; a field's prefix such as ``inputs[0]`` matches its parts)."""
        return [
            r
            for r in self.records
            if r["process"] == process and (field_name is None or r["field"].split(".")[0] == field_name)
        ]

    def as_dict(self) -> dict:
        return {
            "park": self.park,
            "enterprise": self.enterprise,
            "period": [self.start.isoformat(), self.end.isoformat()],
            "products": self.products,
            "records": self.records,
        }


@dataclass(frozen=True)
class ProductLine:
    """One product in a reconciliation; footprints [kgCO2e per declared unit], amounts [declared unit]."""

    product: str
    declared_unit: str
    footprint_kgco2e: float
    facility_kgco2e: float  # the part of the footprint that is allocated facility emissions
    output: float  # made in the period
    consumed_inside: float  # used by processes of the system in the period
    total_tco2e: float  # footprint x output [tCO2e]
    facility_tco2e: float  # facility part x output [tCO2e]

    @property
    def delivered(self) -> float:
        """Output that left the system [declared unit]."""
        return self.output - self.consumed_inside


@dataclass(frozen=True)
class Reconciliation:
    """Facility emissions allocated to products, against the inventory (see the module docstring).

    `facility_tco2e` is the sum over products of facility part x output, `inventory_tco2e` the inventory lines
    allocated, `difference_tco2e` = facility - inventory and `difference_pct` its share of the inventory [%]
    (None for an empty inventory). `lines` lists every inventory line looked at: allocated or why not.
    """

    products: list[ProductLine]
    facility_tco2e: float
    inventory_tco2e: float
    difference_tco2e: float
    difference_pct: float | None
    facility_delivered_tco2e: float
    basis: str
    shares: dict[str, float]  # process -> share of the facility emissions [-]
    lines: list[dict]
    system: System
    provenance: Provenance

    def product(self, code: str) -> ProductLine:
        return next(p for p in self.products if p.product == code)

    def as_dict(self) -> dict:
        return {
            "products": [{**p.__dict__, "delivered": p.delivered} for p in self.products],
            "facility_tco2e": self.facility_tco2e,
            "inventory_tco2e": self.inventory_tco2e,
            "difference_tco2e": self.difference_tco2e,
            "difference_pct": self.difference_pct,
            "facility_delivered_tco2e": self.facility_delivered_tco2e,
            "basis": self.basis,
            "shares": self.shares,
            "lines": self.lines,
            "provenance": self.provenance.as_dict(),
        }


# --- building -------------------------------------------------------------------------------------------------


def build_system(store: Store, scope: Scope, park_code: str, doc: Mapping) -> tuple[System, Provenance]:
    """The `System` of a product-system document, every number resolved through `scope`, and its provenance.

    Raises
    ------
    ValidationFailed
        Naming the process (or product) and field of every problem: an unknown channel or one not the
        enterprise's, a channel with no or incomplete readings in the period (how many are missing), a unit
        mismatch (a gas channel used as electricity, a footprint or factor whose unit does not convert), a
        missing declared unit, a supplier footprint or factor not found, electricity counted twice.
    NotFound
        For an enterprise not visible in `scope`.
    """
    return _Builder(store, scope, park_code, doc).build()


@dataclass(frozen=True)
class _Factor:
    kgco2e_per_unit: float
    unit: str
    source: str
    year: int
    version: str
    detail: dict


class _Builder:
    def __init__(self, store: Store, scope: Scope, park_code: str, doc: Mapping):
        if not isinstance(doc, Mapping):
            raise ValidationFailed("a product-system document is a JSON object")
        if doc.get("format", FORMAT) != FORMAT or doc.get("version", 1) != 1:
            raise ValidationFailed(f"document: format must be {FORMAT!r} version 1")
        self.store, self.scope, self.park_code, self.doc = store, scope, park_code, doc
        self.tz = ZoneInfo(repo.get_park(store, scope, park_code)["timezone"])
        if _blank(doc.get("enterprise")):
            raise ValidationFailed("document: enterprise: missing; name the enterprise whose product system this is")
        self.enterprise = repo.get_entity(store, scope, "enterprises", park_code, doc["enterprise"])
        period = doc.get("period") if isinstance(doc.get("period"), Mapping) else {}
        self.start, self.end = (self._instant(period.get(k), f"period.{k}") for k in ("start", "end"))
        check_range(self.start, self.end)
        self.year = self.start.astimezone(self.tz).year
        self.regime = rules.get_regime(doc.get("regime", DEFAULT_REGIME))
        self.factors = library.load_factors(store, scope)
        self.problems: list[Issue] = []
        self.messages: list[str] = []  # the problems as sentences naming the field
        self.prov = Provenance(park_code, self.enterprise["code"], self.start, self.end)
        self.secondary: dict[str, SecondaryFactor] = {}
        self.energy_uses: list[tuple[str, str, str, tuple[str, ...]]] = []  # process, field, channel, less
        self.parents = {c["code"]: c.get("parent") for c in repo.list_entities(store, scope, "channels", park_code)}
        self.footprints: dict[str, dict] | None = None  # the supplier footprints visible, read when first used

    def _instant(self, value: object, name: str) -> datetime:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise ValidationFailed(f"document: {name}: {value!r} is not an ISO date or datetime") from None
        if isinstance(value, date) and not isinstance(value, datetime):
            value = datetime.combine(value, time(0))
        if not isinstance(value, datetime):
            raise ValidationFailed(f"document: {name}: missing; give a date such as 2023-04-01 (park-local midnight)")
        return value if value.tzinfo is not None else value.replace(tzinfo=self.tz)

    def fail(self, where: str, field_name: str, reason: str) -> None:
        self.problems.append(Issue(f"{where}: {reason}", column=field_name))
        self.messages.append(f"{where}: {field_name}: {reason}")

    def raise_problems(self) -> None:
        if self.problems:
            many = self.problems if len(self.problems) > 1 else None
            raise ValidationFailed(f"the product system is not valid: {self.messages[0]}", issues=many)

    def build(self) -> tuple[System, Provenance]:
        products = self._products()
        specs = self.doc.get("processes")
        if not isinstance(specs, Sequence) or isinstance(specs, str) or not specs:
            self.fail("document", "processes", "missing; list one process per production line")
            specs = []
        specs = [s if isinstance(s, Mapping) else {} for s in specs]
        self.totals = self._read_channels(specs)
        processes = [p for p in (self._process(k, s, products) for k, s in enumerate(specs)) if p is not None]
        self._check_energy_counted_once()
        self.raise_problems()
        system = System(list(products.values()), processes, list(self.secondary.values()))
        return system, self.prov

    # products ---------------------------------------------------------------------------------------------
    def _products(self) -> dict[str, Product]:
        raw = self.doc.get("products")
        if not isinstance(raw, Mapping) or not raw:
            self.fail("document", "products", "missing; give each product of the system with its declared unit")
            return {}
        registry = {p["code"]: p for p in repo.list_entities(self.store, self.scope, "products", self.park_code)}
        out: dict[str, Product] = {}
        for code, spec in raw.items():
            where, spec = f"product {code!r}", spec if isinstance(spec, Mapping) else {}
            name, unit, ref = spec.get("name"), spec.get("declared_unit"), spec.get("product")
            if ref is not None:
                rec = registry.get(ref)
                if rec is None or rec.get("enterprise") != self.enterprise["code"]:
                    self.fail(where, "product", f"no product {ref!r} of {self.enterprise['code']!r} visible to you")
                    continue
                if unit is not None and unit != rec["declared_unit"]:
                    self.fail(where, "declared_unit", f"{unit!r} differs from {rec['declared_unit']!r} in the registry")
                    continue
                name, unit = name or rec["name"], rec["declared_unit"]
            if _blank(unit):
                self.fail(where, "declared_unit", "missing; give the unit its footprint is per (t, kg, kWh, piece ...)")
                continue
            out[code] = Product(code, name or code, unit)
            self.prov.products[code] = {
                "registry_product": ref,
                "name": name or code,
                "declared_unit": unit,
                "pact_product_ids": list(spec.get("pact_product_ids") or []),
            }
        return out

    # channels ---------------------------------------------------------------------------------------------
    def _read_channels(self, specs: list[Mapping]) -> dict[str, tuple[float, int, int]]:
        """{channel: (sum over the period [channel unit], readings present, intervals expected)} of every channel
        the document names that is the enterprise's; the others are reported."""
        uses: list[tuple[str, str, object]] = []
        for spec in specs:
            where = f"process {spec.get('code')!r}"
            outputs = spec.get("outputs") if isinstance(spec.get("outputs"), Mapping) else {}
            for product, out in outputs.items():
                if isinstance(out, Mapping):
                    uses.append((where, f"outputs.{product}.output_channel", out.get("output_channel")))
            for k, e in enumerate(_items(spec.get("energy"))):
                uses.append((where, f"energy[{k}].channel", e.get("channel")))
                uses += [(where, f"energy[{k}].less[{j}]", c) for j, c in enumerate(_list(e.get("less")))]
        index = repo.channel_index(self.store, self.scope, self.park_code)
        self.index = index
        good: set[str] = set()
        for where, name, code in uses:
            ch = index.get(code) if isinstance(code, str) else None
            if ch is None:
                self.fail(where, name, f"no channel {code!r} in park {self.park_code!r} visible to you")
            elif ch.enterprise_id != self.enterprise["id"]:
                self.fail(where, name, f"channel {code!r} is not of enterprise {self.enterprise['code']!r}")
            else:
                good.add(code)
        if not good:
            return {}
        codes = sorted(good)
        midnight = all(t.astimezone(self.tz).time() == time(0) for t in (self.start, self.end))
        found = series(
            self.store, self.scope, self.park_code, codes, self.start, self.end, "P1D" if midnight else "PT15M"
        )
        quality = {
            q.channel: q for q in quality_report(self.store, self.scope, self.park_code, self.start, self.end, codes)
        }
        return {
            s.channel: (
                math.fsum(v for v in s.values if v is not None),
                quality[s.channel].present,
                quality[s.channel].expected,
            )
            for s in found
        }

    def _channel_total(self, where: str, name: str, code: str, electricity: bool) -> float | None:
        """The channel's sum over the period, or None (reported) if it is unusable here."""
        if code not in self.totals:
            return None  # reported when the channels were read
        ch = self.index[code]
        if electricity and ch.quantity_kind != "active_energy":
            self.fail(
                where,
                name,
                f"unit mismatch: channel {code!r} measures {ch.quantity_kind} in {ch.unit}, not electricity in kWh",
            )
            return None
        if not electricity and not QUANTITY_KINDS[ch.quantity_kind].summable:
            self.fail(where, name, f"channel {code!r} measures {ch.quantity_kind}, which does not add up over a period")
            return None
        total, present, expected = self.totals[code]
        if present < expected:
            missing = "no readings" if present == 0 else f"{expected - present:,} of {expected:,} readings missing"
            self.fail(
                where,
                name,
                f"channel {code!r} has {missing} in [{self.start.isoformat()}, {self.end.isoformat()}); fill the gaps"
                " (quality 'filled') or choose a period it covers",
            )
            return None
        return total

    def _record_channel(self, where: str, name: str, code: str, value: float, unit: str, **more: Any) -> None:
        _, present, _ = self.totals[code]
        period = [self.start.isoformat(), self.end.isoformat()]
        self.prov.add(where, name, "channel", value, unit, channel=code, readings=present, period=period, **more)

    # processes --------------------------------------------------------------------------------------------
    def _process(self, k: int, spec: Mapping, products: dict[str, Product]) -> Process | None:
        code = spec.get("code")
        if _blank(code):
            self.fail(f"process {k}", "code", "missing")
            return None
        where = f"process {code!r}"
        n_problems = len(self.problems)
        for key in ("inputs", "energy"):
            if key in spec and (not isinstance(spec[key], Sequence) or isinstance(spec[key], str)):
                self.fail(where, key, "must be a list")
        outputs = self._outputs(where, code, spec.get("outputs"), products)
        inputs = [self._input(code, where, j, e, products) for j, e in enumerate(_items(spec.get("inputs")))]
        energy = [self._energy(code, where, j, e) for j, e in enumerate(_items(spec.get("energy")))]
        if len(self.problems) > n_problems:
            return None
        try:
            return Process(
                code,
                spec.get("name") or code,
                outputs,
                inputs,
                energy,
                direct_kgco2e=spec.get("direct_kgco2e", 0.0),
                allocation=spec.get("allocation"),
                allocation_factors=spec.get("allocation_factors"),
                substitutions=spec.get("substitutions"),
                prices=spec.get("prices"),
            )
        except ValidationFailed as exc:
            self.problems += exc.issues or [Issue(exc.detail)]
            self.messages += [str(i) for i in exc.issues] or [exc.detail]
            return None

    def _outputs(self, where: str, code: str, raw: object, products: dict[str, Product]) -> dict[str, float]:
        if not isinstance(raw, Mapping) or not raw:
            self.fail(where, "outputs", "missing; give product -> amount or { output_channel = <channel> }")
            return {}
        out = {}
        for product, value in raw.items():
            name = f"outputs.{product}"
            if product not in products:
                self.fail(where, name, f"{product!r} is not a product of the document")
                continue
            unit = products[product].declared_unit
            if not isinstance(value, Mapping):
                if not _number(value) or value <= 0:
                    self.fail(where, name, f"amount {value!r} must be a number > 0 [{unit}]")
                    continue
                out[product] = float(value)
                self.prov.add(code, name, "given", float(value), unit)
                continue
            channel = value.get("output_channel")
            total = self._channel_total(where, f"{name}.output_channel", channel, electricity=False)
            if total is None:
                continue
            factor = unit_factor(self.index[channel].unit, unit)
            if factor is None:
                self.fail(
                    where,
                    f"{name}.output_channel",
                    f"unit mismatch: channel {channel!r} is in {self.index[channel].unit}, which does not convert to "
                    f"{unit!r}, the declared unit of {product!r}",
                )
                continue
            out[product] = total * factor
            self._record_channel(code, name, channel, total * factor, unit, channel_total=total)
        return out

    def _input(self, code: str, where: str, j: int, spec: Mapping, products: dict[str, Product]) -> Exchange:
        name = f"inputs[{j}]"
        kinds = [k for k in ("product", "footprint", "factor") if k in spec]
        if len(kinds) != 1:
            self.fail(where, name, "give exactly one of product, footprint or factor")
            return Exchange("", 0.0, "")
        amount, unit, gsd = spec.get("amount"), spec.get("unit"), spec.get("uncertainty")
        if not _number(amount) or amount < 0:
            self.fail(where, f"{name}.amount", f"{amount!r} must be a number ≥ 0")
            return Exchange("", 0.0, "")
        kind, what = kinds[0], spec[kinds[0]]
        if kind == "product":
            if what not in products:
                self.fail(where, f"{name}.product", f"{what!r} is not a product of the document")
                return Exchange("", 0.0, "")
            flow, target, label = what, products[what].declared_unit, f"product {what!r}"
        else:
            found = (
                self._supplier(code, where, name, what)
                if kind == "footprint"
                else self._secondary(code, where, name, what)
            )
            if found is None:
                return Exchange("", 0.0, "")
            flow, target, label = (
                found.code,
                found.unit,
                f"{kind} {what!r}" if kind == "footprint" else f"factor {found.code!r}",
            )
        unit = unit or target
        if unit_factor(unit, target) is None:
            self.fail(
                where, f"{name}.unit", f"unit mismatch: {unit!r} does not convert to {target!r}, the unit of {label}"
            )
            return Exchange("", 0.0, "")
        self.prov.add(code, f"{name}.amount", "given", float(amount), unit, flow=flow)
        return Exchange(flow, float(amount), unit, gsd)

    def _supplier(self, code: str, where: str, name: str, pf_id: object) -> SecondaryFactor | None:
        """The supplier footprint `pf_id` as a primary-data secondary factor [kgCO2e per declared unit]."""
        if self.footprints is None:
            self.footprints = {r["pf_id"]: r for r in records.list_footprints(self.store, self.scope, self.park_code)}
        rec = self.footprints.get(pf_id) if isinstance(pf_id, str) else None
        field_name = f"{name}.footprint"
        if rec is None:
            self.fail(where, field_name, f"no footprint {pf_id!r} visible to you")
            return None
        if rec["origin"] != "supplier" or rec["enterprise_id"] != self.enterprise["id"]:
            self.fail(
                where,
                field_name,
                f"footprint {pf_id!r} is not a supplier's footprint received by {self.enterprise['code']!r}",
            )
            return None
        if _blank(rec["declared_unit"]):
            self.fail(where, field_name, f"footprint {pf_id!r} has no declared unit")
            return None
        document = records.get(self.store, self.scope, self.park_code, rec["id"])["document"]
        pcf = document.get("pcf") or {}
        per = float(pcf.get("declaredUnitAmount", 1)) if str(rec["spec_version"]).startswith("3") else 1.0
        start = str(pcf.get("referencePeriodStart") or rec["created_at"])
        supplier = rec["supplier"] or "unnamed"
        factor = SecondaryFactor(
            pf_id,
            float(rec["pcf_kgco2e"]) / per,
            PACT_UNITS.get(rec["declared_unit"], rec["declared_unit"]),
            f"supplier:{supplier}",
            datetime.fromisoformat(start).year,
            str(document.get("version", rec["spec_version"])),
            primary=True,
        )
        self.secondary[factor.code] = factor
        self.prov.add(
            code, name, "supplier", factor.kgco2e_per_unit, f"kgCO2e/{factor.unit}", pf_id=pf_id, supplier=supplier,
            declared_unit=rec["declared_unit"], pcf_kgco2e=rec["pcf_kgco2e"], spec_version=rec["spec_version"],
        )  # fmt: skip
        return factor

    def _secondary(self, code: str, where: str, name: str, ref: object) -> SecondaryFactor | None:
        found = self._factor(where, f"{name}.factor", ref)
        if found is None:
            return None
        d = found.detail
        factor = SecondaryFactor(
            f"{d['set']}/{d['factor_id']}/{d['year']}",
            found.kgco2e_per_unit,
            found.unit,
            found.source,
            found.year,
            found.version,
        )
        self.secondary[factor.code] = factor
        self.prov.add(code, name, "factor", factor.kgco2e_per_unit, f"kgCO2e/{factor.unit}", **d)
        return factor

    def _factor(self, where: str, name: str, ref: object) -> _Factor | None:
        """An ``ef`` factor of the library [kgCO2e per its activity unit], all its gases at the regime's GWP."""
        if not isinstance(ref, Mapping) or _blank(ref.get("set")) or _blank(ref.get("id")):
            self.fail(where, name, "give { set = <factor set code>, id = <factor id> } and optionally year")
            return None
        set_code, factor_id, year = ref["set"], ref["id"], ref.get("year", self.year)
        if not isinstance(year, int) or isinstance(year, bool):
            self.fail(where, f"{name}.year", f"{year!r} must be a year such as 2023")
            return None
        rows = [f for f in self.factors if f.set_code == set_code]
        if not rows:
            self.fail(where, f"{name}.set", f"no factor set {set_code!r} visible to you")
            return None
        gases = sorted({f.gas for f in rows if f.factor_id == factor_id and f.parameter == "ef"})
        if not gases:
            self.fail(where, f"{name}.id", f"no emission factor {factor_id!r} in set {set_code!r}")
            return None
        resolver, gwp = (
            rules.Resolver(rows, self.regime, year),
            rules.Resolver(self.factors, self.regime, year),
        )
        try:
            chosen = [(resolver.get(factor_id, "ef", gas), gwp.gwp(gas)) for gas in gases]
        except ValidationFailed as exc:
            self.fail(where, name, exc.detail)
            return None
        units = [parse_factor_unit(f.unit) for f, _ in chosen]
        if (
            any(u.measures != "mass_t" or u.denominator is None for u in units)
            or len({u.activity_canonical for u in units}) > 1
        ):
            self.fail(
                where,
                name,
                f"factor {factor_id!r} ({', '.join(f.unit for f, _ in chosen)}) is not a mass of gas per one "
                "activity unit",
            )
            return None
        kg = math.fsum(
            f.value * u.per_canonical_activity() * 1000.0 * g for (f, g), u in zip(chosen, units, strict=True)
        )
        first = chosen[0][0]
        detail = {
            "set": set_code,
            "version": first.set_version,
            "factor_id": factor_id,
            "year": year,
            "rows": [{**f.ref(), "gwp": g, "proxy_year": resolver.is_proxy(f)} for f, g in chosen],
        }
        source = f"{set_code} {first.set_version} {factor_id}: {first.source}"
        return _Factor(kg, units[0].activity_canonical, source, first.year_from or year, first.set_version, detail)

    def _energy(self, code: str, where: str, j: int, spec: Mapping) -> EnergyInput:
        name, channel, less = f"energy[{j}]", spec.get("channel"), tuple(_list(spec.get("less")))
        if isinstance(spec.get("less"), str):
            self.fail(where, f"{name}.less", 'must be a list of sub-meter channels, e.g. less = ["steel.eaf"]')
        kwh = self._channel_total(where, f"{name}.channel", channel, electricity=True)
        less_kwh = [self._channel_total(where, f"{name}.less[{i}]", c, electricity=True) for i, c in enumerate(less)]
        for i, c in enumerate(less):
            if c in self.totals and channel not in _lineage(c, self.parents)[1:]:
                self.fail(where, f"{name}.less[{i}]", f"channel {c!r} is not a sub-meter of {channel!r}")
        ref = spec.get("factor") or self.doc.get("electricity") or self._grid_factor()
        factor = self._factor(where, f"{name}.factor", ref)
        if factor is not None and factor.unit != "kWh":
            self.fail(
                where, f"{name}.factor", f"unit mismatch: factor {ref.get('id')!r} is per {factor.unit}, not per kWh"
            )
        if kwh is None or None in less_kwh or factor is None or factor.unit != "kWh":
            return EnergyInput(str(channel), 0.0, 0.0, "")
        amount = kwh - math.fsum(less_kwh)
        if amount < 0:
            self.fail(
                where, name, f"{channel!r} less {', '.join(less)} is negative ({amount:,.3f} kWh); check the meters"
            )
        self.energy_uses.append((code, name, channel, less))
        self._record_channel(
            code, name, channel, amount, "kWh", channel_kwh=kwh, less=dict(zip(less, less_kwh, strict=True))
        )
        self.prov.add(code, f"{name}.factor", "electricity", factor.kgco2e_per_unit, "kgCO2e/kWh", **factor.detail)
        label = channel if not less else f"{channel} - {' - '.join(less)}"
        return EnergyInput(label, amount, factor.kgco2e_per_unit, factor.source)

    def _grid_factor(self) -> dict:
        sets = [f.set_code for f in self.factors if f.factor_id == self.regime.electricity and f.parameter == "ef"]
        return {"set": sets[-1] if sets else "?", "id": self.regime.electricity}

    def _check_energy_counted_once(self) -> None:
        """No electricity counted twice inside the system: a channel inside another one used whole, or used twice."""
        uses = [(c, less) for _, _, c, less in self.energy_uses]
        for process, name, channel, _ in self.energy_uses:
            times, _ = _coverage(channel, uses, self.parents)
            if times > 1:
                self.fail(
                    f"process {process!r}",
                    f"{name}.channel",
                    f"the electricity of {channel!r} is counted {times} times (it is used again, or lies inside "
                    "another channel used whole); take sub-meters out with less = [...]",
                )


# --- allocating the inventory ---------------------------------------------------------------------------------


def allocate_inventory(
    store: Store,
    scope: Scope,
    park_code: str,
    doc: Mapping,
    inventory_id: int,
    *,
    basis: str | Mapping[str, float] = "output_mass",
    scope2_method: str = "location",
) -> Reconciliation:
    """Allocate the enterprise's inventory lines of the period to the processes, solve, and reconcile.

    Parameters
    ----------
    inventory_id : int
        A stored inventory of the document's enterprise for the year of the period; the period must be whole
        park-local months of that year (the ledger is monthly).
    basis : {"output_mass", "energy", "economic"} or dict
        How the facility emissions are shared among processes: by the mass of their outputs [kg], by their
        metered electricity [kWh], by the value of their outputs (output x ``prices``), or the given shares
        {process: share} (≥ 0, summing to 1; processes not named get 0).
    scope2_method : {"location", "market"}
        The Scope 2 lines taken (never both). Market lines cover the year: the period must then be the year.

    Returns
    -------
    Reconciliation
        Footprints [kgCO2e per declared unit] and totals [tCO2e] per product, the facility sum against the
        inventory with the difference shown, the lines taken or left out and why, and the provenance.
    """
    b = _Builder(store, scope, park_code, doc)
    system, prov = b.build()
    inv = ledger.result(store, scope, park_code, inventory_id, with_lines=False)
    meta = inv["inventory"]
    if meta["enterprise"] != prov.enterprise:
        raise ValidationFailed(
            f"inventory {inventory_id} is of {meta['enterprise'] or 'the park'!r}, not of enterprise "
            f"{prov.enterprise!r}"
        )
    months = _months(b.start, b.end, b.tz, int(meta["year"]))
    if scope2_method not in inv["regime"]["scope2_methods"]:
        raise ValidationFailed(
            f"scope2_method {scope2_method!r}: inventory {inventory_id} reports "
            f"{', '.join(inv['regime']['scope2_methods'])}"
        )
    given = [p.code for p in system.processes if p.direct_kgco2e]
    if given:
        raise ValidationFailed(
            f"process {given[0]!r}: direct_kgco2e is given in the document and would be counted again with the "
            "inventory's facility emissions; leave it out"
        )
    taken, lines = _inventory_lines(b, inventory_id, months, scope2_method)
    inventory_tco2e = math.fsum(ln["tco2e"] for ln in taken)
    shares = _shares(system, basis)
    processes = [replace(p, direct_kgco2e=shares[p.code] * inventory_tco2e * 1000.0) for p in system.processes]
    system = replace(system, processes=processes)
    name = basis if isinstance(basis, str) else "shares"
    for p in processes:
        prov.add(p.code, "direct_kgco2e", "allocation", p.direct_kgco2e, "kgCO2e", basis=name, share=shares[p.code],
                 inventory=inventory_id, inventory_tco2e=inventory_tco2e)  # fmt: skip
    return _reconcile(system, prov, inventory_tco2e, name, shares, lines)


def _months(start: datetime, end: datetime, tz: ZoneInfo, year: int) -> set[int]:
    """The park-local months [start, end) covers; whole months of `year` only."""
    s, e = start.astimezone(tz), end.astimezone(tz)
    if s.time() != time(0) or e.time() != time(0) or s.day != 1 or e.day != 1:
        raise ValidationFailed(
            "document: period: the inventory is monthly; allocating it needs whole park-local months, e.g. "
            f"{year}-04-01 .. {year}-05-01"
        )
    if s.year != year or (e.year, e.month) > (year + 1, 1):
        raise ValidationFailed(f"document: period: {s.date()} .. {e.date()} is not within the inventory year {year}")
    last = 12 if e.year > year else e.month - 1
    return set(range(s.month, last + 1))


def _inventory_lines(b: _Builder, inventory_id: int, months: set[int], method: str) -> tuple[list[dict], list[dict]]:
    """(lines allocated, every line looked at with its verdict) of Scope 1 and the Scope 2 `method`."""
    sources = {s["code"]: s["channels"] for s in list_sources(b.store, b.scope, b.park_code)}
    uses = [(c, less) for _, _, c, less in b.energy_uses]
    taken, looked = [], []
    for ln in ledger.lines(b.store, b.scope, b.park_code, inventory_id):
        if ln["scope"] not in (1, 2) or (ln["scope"] == 2 and ln["scope2_method"] != method):
            continue
        if ln["month"] == 0 and months != set(range(1, 13)):
            raise ValidationFailed(
                f"inventory line {ln['line_no']} ({ln['source']}) covers the whole year; allocate it over the whole "
                "year, or use scope2_method 'location'"
            )
        if ln["month"] != 0 and ln["month"] not in months:
            continue
        row = {k: ln[k] for k in ("line_no", "source", "scope", "category", "scope2_method", "month", "tco2e")}
        verdict = _scope2_verdict(ln, sources, uses, b.parents) if ln["scope"] == 2 else "allocated"
        if verdict == "partial":
            raise ValidationFailed(
                f"inventory line {ln['line_no']} ({ln['source']}, Scope 2): its electricity is counted in part by the "
                "energy inputs and would partly count twice; use the whole channel (its remainder with less = [...] "
                "plus each sub-meter), or no sub-meter of it"
            )
        if verdict == "counted":
            channels = _line_channels(ln, sources)
            processes = sorted({p for p, _, c, _ in b.energy_uses if _related(c, channels, b.parents)})
            row["reason"] = (
                f"electricity of {', '.join(channels)} counted through the energy inputs of {', '.join(processes)}"
            )
        row["allocated"] = verdict == "allocated"
        looked.append(row)
        b.prov.add(
            "inventory", f"line {ln['line_no']}", "inventory", ln["tco2e"], "tCO2e", inventory=inventory_id, **row
        )
        if row["allocated"]:
            taken.append(ln)
    return taken, looked


def _line_channels(line: dict, sources: dict[str, list[str]]) -> list[str]:
    trace = line.get("trace") or {}
    if trace.get("channels"):
        return [c["channel"] for c in trace["channels"]]
    return sorted({c for s in trace.get("sources", [line["source"]]) for c in sources.get(s, [])})


def _scope2_verdict(line: dict, sources: dict, uses: list[tuple[str, tuple[str, ...]]], parents: dict) -> str:
    """ "counted" (the energy inputs count the line's channels exactly once), "allocated" (not at all) or "partial"."""
    channels = _line_channels(line, sources)
    seen = {_coverage(c, uses, parents) for c in channels}
    if seen and seen <= {(1, False)}:
        return "counted"
    if not seen or seen <= {(0, False)}:
        return "allocated"
    return "partial"


def _lineage(code: str, parents: dict[str, str | None]) -> list[str]:
    """The channel and its parents up the sub-meter tree."""
    out = [code]
    while parents.get(out[-1]) and parents[out[-1]] not in out:
        out.append(parents[out[-1]])
    return out


def _related(channel: str, others: list[str], parents: dict) -> bool:
    """True where `channel` is one of `others`, inside one of them or contains one."""
    return any(o in _lineage(channel, parents) or channel in _lineage(o, parents) for o in others)


def _coverage(channel: str, uses: list[tuple[str, tuple[str, ...]]], parents: dict) -> tuple[int, bool]:
    """(times the energy inputs `uses` (channel, less) count the whole of `channel`, whether they count only part
    of it: an input or a taken-out sub-meter inside it that does not cancel)."""
    up = set(_lineage(channel, parents))
    times = sum(c in up for c, _ in uses) - sum(x in up for _, less in uses for x in less)
    inside: dict[str, int] = {}
    for c, less in uses:
        for code, sign in ((c, 1), *((x, -1) for x in less)):
            if code != channel and channel in _lineage(code, parents):
                inside[code] = inside.get(code, 0) + sign
    return times, any(inside.values())


def _shares(system: System, basis: str | Mapping[str, float]) -> dict[str, float]:
    """Share of the facility emissions of each process [-] under `basis`."""
    codes = [p.code for p in system.processes]
    if isinstance(basis, Mapping):
        unknown = sorted(set(basis) - set(codes))
        if unknown:
            raise ValidationFailed(f"basis: {', '.join(map(repr, unknown))} not processes of the document")
        if not all(_number(v) and v >= 0 for v in basis.values()):
            raise ValidationFailed("basis: shares must be numbers ≥ 0")
        total = math.fsum(basis.values())
        if abs(total - 1.0) > ALLOCATION_TOLERANCE:
            raise ValidationFailed(f"basis: shares sum to {total!r}, not 1")
        return {c: float(basis.get(c, 0.0)) for c in codes}
    weights: dict[str, float] = {}
    for p in system.processes:
        if basis == "output_mass":
            kg = {c: unit_factor(system.unit_of(c), "kg") for c in p.outputs}
            bad = [c for c, f in kg.items() if f is None]
            if bad:
                raise ValidationFailed(f"process {p.code!r}: outputs: basis output_mass, but {bad[0]!r} is not in mass")
            weights[p.code] = math.fsum(a * kg[c] for c, a in p.outputs.items())
        elif basis == "energy":
            weights[p.code] = math.fsum(e.amount_kwh for e in p.energy)
        elif basis == "economic":
            if p.prices is None:
                raise ValidationFailed(f"process {p.code!r}: prices: basis economic needs the price of each output")
            weights[p.code] = math.fsum(a * p.prices[c] for c, a in p.outputs.items())
        else:
            raise ValidationFailed(f"basis {basis!r} is unknown; one of {', '.join(BASES)} or {{process: share}}")
    total = math.fsum(weights.values())
    if not total > 0:
        raise ValidationFailed(f"basis {basis}: the processes have nothing to share by (total 0)")
    return {c: w / total for c, w in weights.items()}


def _reconcile(
    system: System, prov: Provenance, inventory_tco2e: float, basis: str, shares: dict, lines: list
) -> Reconciliation:
    fact = engine.factorise(system)
    m = fact.matrices
    total = engine.footprints(fact)
    direct = [i for i, burden in enumerate(m.burdens) if burden.kind == "direct"]
    b_facility = np.asarray(m.burden[direct].sum(axis=0)).ravel() if direct else np.zeros(len(m.columns))
    facility = fact.solve(b_facility, transpose=True)  # [kgCO2e per declared unit]
    table = system.exchanges
    consumed = np.bincount(table.flow[table.is_product], table.amount[table.is_product], minlength=len(system.products))
    made = {c: a for p in system.processes for c, a in p.outputs.items()}
    rows = []
    for j, product in enumerate(system.products):
        code, output = product.code, made[product.code]
        rows.append(
            ProductLine(
                code,
                product.declared_unit,
                total[code],
                float(facility[j]),
                output,
                float(consumed[j]),
                total[code] * output / 1000.0,
                float(facility[j]) * output / 1000.0,
            )
        )
    facility_tco2e = math.fsum(r.facility_tco2e for r in rows)
    difference = facility_tco2e - inventory_tco2e
    return Reconciliation(
        products=rows,
        facility_tco2e=facility_tco2e,
        inventory_tco2e=inventory_tco2e,
        difference_tco2e=difference,
        difference_pct=100.0 * difference / inventory_tco2e if inventory_tco2e else None,
        facility_delivered_tco2e=math.fsum(r.facility_kgco2e * r.delivered / 1000.0 for r in rows),
        basis=basis,
        shares=shares,
        lines=lines,
        system=system,
        provenance=prov,
    )


# --- helpers --------------------------------------------------------------------------------------------------


def _blank(text: object) -> bool:
    return not isinstance(text, str) or not text.strip()


def _number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


def _list(value: object) -> list:
    return list(value) if isinstance(value, Sequence) and not isinstance(value, str) else []


def _items(value: object) -> list[Mapping]:
    return [v if isinstance(v, Mapping) else {} for v in _list(value)]


__all__ = [
    "FORMAT",
    "Provenance",
    "ProductLine",
    "Reconciliation",
    "allocate_inventory",
    "build_system",
    "load_document",
]
