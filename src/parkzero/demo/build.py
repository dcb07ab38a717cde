"""Put the demo park into a store: registry, users, and a year of 15-minute readings, idempotently."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc
from rich.progress import Progress

from parkzero.cli.output import err
from parkzero.errors import NotFound
from parkzero.registry import io as registry_io
from parkzero.registry import repo, users
from parkzero.registry.scope import Scope
from parkzero.store import Store
from parkzero.store.readings import merge_readings

DEMO_PASSWORD = "parkzero-demo"
SYSTEM = Scope.system("demo")


def build_demo(store: Store, *, seed: int = 42, year: int = 2025, progress: bool = True) -> dict:
    """Create (or complete) the demo park; running it twice changes nothing the second time."""
    from parkzero.demo.park import demo_registry, demo_summary
    from parkzero.demo.readings import demo_readings

    doc = demo_registry(seed)
    park_code = doc["parks"][0]["code"]
    registry_io.import_registry(store, SYSTEM, doc)
    _ensure_users(store, doc)
    index = repo.channel_index(store, SYSTEM, park_code)
    ids = pa.array([index[c].id for c in index], pa.int64())
    codes = pa.array(list(index), pa.string())
    n_channels = len(index)
    received = inserted = 0
    with Progress(console=err, transient=True, disable=not progress) as bar:
        task = bar.add_task(f"demo readings {year}", total=n_channels)
        for table in demo_readings(doc, year=year, seed=seed):
            positions = pc.index_in(table.column("channel_code"), value_set=codes)
            batch = pa.table(
                {
                    "channel_id": pc.take(ids, positions),
                    "ts_start": table.column("ts_start"),
                    "value": table.column("value"),
                }
            )
            result = merge_readings(store, batch, source="demo", actor="demo", park_id=index[codes[0].as_py()].park_id)
            received += result.received
            inserted += result.inserted
            bar.advance(task, len(set(table.column("channel_code").to_pylist())))
    from parkzero.demo.ledger import build_ledger

    ledger = build_ledger(store, year)
    return {
        **demo_summary(doc),
        "year": year,
        "seed": seed,
        "readings": received,
        "readings_new": inserted,
        "emission_sources": ledger["sources"],
    }


def _ensure_users(store: Store, doc: dict) -> None:
    park = doc["parks"][0]
    wanted = (
        [("operator", "operator", None)]
        + [(e["code"], "enterprise", e["code"]) for e in park["enterprises"] if e["code"] != "operator"]
        + [("verifier", "verifier", None), ("regulator", "regulator", None)]
    )
    for username, role, enterprise in wanted:
        try:
            users.get_user(store, username)
        except NotFound:
            users.create_user(
                store,
                SYSTEM,
                username,
                DEMO_PASSWORD,
                role,
                park_code=park["code"],
                enterprise_code=enterprise,
            )


def demo_figures(store: Store, year: int) -> list[dict]:
    """The park's energy figures for the year, computed from the stored readings."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from parkzero.energy.flows import energy_balance

    parks = repo.list_parks(store, SYSTEM)
    park = next(p for p in parks if p["code"] == "baoshan-demo")
    tz = ZoneInfo(park["timezone"])
    balance = energy_balance(
        store, SYSTEM, park["code"], datetime(year, 1, 1, tzinfo=tz), datetime(year + 1, 1, 1, tzinfo=tz)
    )
    return [
        {"figure": k, "value": round(v, 2) if isinstance(v, float) else v}
        for k, v in balance.as_dict().items()
        if isinstance(v, int | float)
    ]


def demo_inventory(store: Store, year: int, regime: str = "ghg-protocol") -> list[dict]:
    """The park's inventory for the year as a stored draft (recomputed on a second run), as figure rows."""
    from parkzero.accounting import inventory

    found = [
        i
        for i in inventory.list_inventories(store, SYSTEM, "baoshan-demo")
        if i["year"] == year and i["regime"] == regime and i["enterprise"] is None
    ]
    if found and found[-1]["status"] != "draft":
        inv = found[-1]
    else:
        inv = inventory.create(store, SYSTEM, "baoshan-demo", year, regime)
    result = inventory.result(store, SYSTEM, "baoshan-demo", inv["id"], with_lines=False)
    rows = [
        {"figure": f"{k} (tCO2e)" if k != "energy_tce" else "energy_use (tce)", "value": round(v, 1)}
        for k, v in result["totals"].items()
    ]
    rows.append({"figure": "inventory", "value": f"#{inv['id']} v{inv['version']} ({inv['status']})"})
    return rows
