"""The carbon page: the same figures as the engine, in the caller's scope."""

from __future__ import annotations

import re

import pytest

from parkzero.accounting import engine, sources
from parkzero.registry.scope import Scope

SYSTEM = Scope.system("test")


def kpi_values(html: str) -> dict[str, float]:
    return {k: float(v) for k, v in re.findall(r'data-kpi="([a-z0-9_]+)" data-value="([^"]+)"', html)}


@pytest.fixture
def carbon_store(web_store):
    for ent in ("steel", "office"):
        sources.save_source(
            web_store,
            SYSTEM,
            "p1",
            {
                "code": f"{ent}.elec",
                "name": f"{ent} electricity",
                "enterprise": ent,
                "scope": 2,
                "category": "electricity",
                "method": "electricity",
                "factor_ref": "grid",
                "activity_unit": "kWh",
                "channels": [f"{ent}.main"],
            },
        )
    sources.save_source(
        web_store,
        SYSTEM,
        "p1",
        {
            "code": "op.elec",
            "name": "Park connection",
            "scope": 2,
            "category": "electricity",
            "method": "electricity",
            "factor_ref": "grid",
            "activity_unit": "kWh",
            "channels": ["grid.import"],
            "params": {"supply": "park_residual"},
        },
    )
    return web_store


def test_operator_sees_the_park_inventory(login, carbon_store):
    page = login("op").get("/carbon?year=2025&regime=ghg-protocol&lang=en")
    assert page.status_code == 200, page.text
    kpis = kpi_values(page.text)
    totals = engine.compute(carbon_store, SYSTEM, "p1", 2025, "ghg-protocol").totals()
    assert kpis["scope2_location"] == pytest.approx(totals["scope2_location"])
    assert kpis["scope2_market"] == pytest.approx(totals["scope2_market"])
    assert 'data-enterprise="steel"' in page.text and 'data-enterprise="office"' in page.text
    assert 'data-chart="carbon_monthly"' in page.text


def test_tenant_sees_only_itself(login, carbon_store):
    page = login("office-user").get("/carbon?year=2025&enterprise=steel&lang=en")
    assert page.status_code == 200
    totals = engine.compute(carbon_store, SYSTEM, "p1", 2025, "ghg-protocol", "office").totals()
    assert kpi_values(page.text)["scope2_location"] == pytest.approx(totals["scope2_location"])
    # the language links echo the query (enterprise=steel); nothing else names steel
    body = page.text.replace("enterprise=steel", "")
    assert "steel" not in body.lower()


def test_regulator_sees_no_tenant_figures(login, carbon_store):
    page = login("regulator-user").get("/carbon?year=2025&lang=en")
    assert page.status_code == 200
    assert 'id="carbon-kpis"' not in page.text and "steel" not in page.text.lower()


def test_a_missing_factor_is_a_message_not_a_crash(login, carbon_store):
    page = login("op").get("/carbon?year=2019&regime=cn-enterprise&lang=en")
    assert page.status_code == 200
    assert 'id="carbon-problem"' in page.text and "2019" in page.text
