"""A computed footprint becomes a PACT draft: the value of one product of a product system, its hot spots, and
its primary-data share, recorded for review (`records`, draft -> submitted -> verified -> published).

Primary-data share (PACT Methodology v2 §4.2.4, "share of the PCF from primary data"): the part of the footprint
from the tenant's own measured activity (metered energy, allocated facility emissions) and from suppliers'
footprints, against secondary (library) factors. The data-quality ratings of PACT v2.3 (required for reference
periods from 2025) are the user's to give: they are judgements of the data, not something to compute.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC
from typing import Any

from parkzero.errors import ValidationFailed
from parkzero.footprint import engine, pact, records, systems
from parkzero.registry import repo
from parkzero.registry.scope import Scope
from parkzero.store import Store

PRIMARY_KINDS = ("energy", "direct", "supplier")


def primary_share_pct(rows: list[engine.Contribution]) -> float:
    """Share of a footprint from primary data [%], from its contribution rows (credits counted as they come)."""
    total = sum(r.kgco2e for r in rows)
    if total <= 0:
        return 0.0
    return 100.0 * sum(r.kgco2e for r in rows if r.kind in PRIMARY_KINDS) / total


def record_computed(
    store: Store,
    scope: Scope,
    park_code: str,
    doc: Mapping,
    product: str,
    *,
    inventory_id: int | None = None,
    basis: str = "output_mass",
    dqi: Mapping[str, float] | None = None,
    geography_country: str = "CN",
) -> dict:
    """Compute `product` of the product-system `doc` (with the inventory's facility emissions allocated when
    `inventory_id` is given) and record it as a draft PACT v2.3 footprint of the tenant, with its hot spots and
    provenance kept as the record's analysis. Returns the record."""
    if inventory_id is not None:
        rec = systems.allocate_inventory(store, scope, park_code, doc, inventory_id, basis=basis)
        system, provenance = rec.system, rec.provenance
    else:
        system, provenance = systems.build_system(store, scope, park_code, doc)
    spec = (doc.get("products") or {}).get(product)
    if spec is None:
        raise ValidationFailed(
            f"products.{product}: no such product in the system (it has {', '.join(doc.get('products') or {})})"
        )
    cpc = spec.get("cpc")
    if not cpc:
        raise ValidationFailed(f'products.{product}.cpc: PACT v2.3 needs the product\'s UN CPC code (e.g. "41231")')
    fact = engine.factorise(system)
    value = engine.footprints(fact)[product]
    rows = engine.contributions(fact, product)
    info = provenance.products.get(product, {})
    enterprise = repo.get_entity(store, scope, "enterprises", park_code, provenance.enterprise)
    company_code = enterprise.get("credit_code") or f"{park_code}.{enterprise['code']}"
    unit = next(p.declared_unit for p in system.products if p.code == product)
    document = pact.footprint_from_result(
        version="2",
        product_ids=info.get("pact_product_ids") or [f"urn:pact:{park_code}.parkzero:product-id:{product}"],
        product_name=info.get("name") or product,
        product_description=f"{info.get('name') or product}, cradle to gate, computed by parkzero from metered data",
        company_name=enterprise["name"],
        company_ids=[f"urn:pact:company:customcode:vendor-assigned:{company_code}"],
        declared_unit=unit,
        pcf_excluding_biogenic=round(value, 6),
        fossil_ghg_emissions=round(value, 6),
        reference_period_start=provenance.start.astimezone(UTC),
        reference_period_end=provenance.end.astimezone(UTC),
        primary_data_share=round(primary_share_pct(rows), 2),
        product_category_cpc=str(cpc),
        geography_country=geography_country,
        dqi=dqi,
        boundary_processes_description="; ".join(f"{p.code}: {p.name}" for p in system.processes),
    ).to_json()
    analysis: dict[str, Any] = {
        "hot_spots": [
            {"kind": r.kind, "input": r.code, "source": r.source, "kgco2e": r.kgco2e, "share_pct": r.share_pct}
            for r in rows
        ],
        "provenance": provenance.as_dict(),
        "inventory_id": inventory_id,
        "basis": basis if inventory_id is not None else None,
    }
    return records.create(store, scope, park_code, document, enterprise_code=provenance.enterprise,
                          product_code=info.get("registry_product"), origin="computed", analysis=analysis)  # fmt: skip
