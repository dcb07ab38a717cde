"""The footprints page: each tenant sees its own footprints, suppliers and requests; the operator the park's;
the figures are those of the store; both languages."""

from __future__ import annotations

import re

import pytest

from parkzero.footprint import records
from parkzero.registry.scope import Scope
from tests.api.test_pact_host import footprint
from tests.conftest import enterprise_scope

SYSTEM = Scope.system("test")


@pytest.fixture
def with_footprints(web_store):
    steel, office = enterprise_scope(web_store, "steel"), enterprise_scope(web_store, "office")
    coil = records.create(web_store, steel, "p1", footprint("steel-coil", "steel", 1.85))
    for action in ("submit", "verify", "publish"):
        records.transition(web_store, SYSTEM, "p1", coil["id"], action)
    records.create(web_store, steel, "p1", footprint("steel-wire", "steel", 2.2))
    records.create(web_store, office, "p1", footprint("desk", "office", 12.0))
    records.create(web_store, steel, "p1", footprint("ore-pellet", "ore-co", 0.12), origin="supplier",
                   supplier="Ore Co.")  # fmt: skip
    return web_store


def kpi(html: str, name: str) -> str:
    found = re.search(rf'data-kpi="{name}" data-value="([^"]*)"', html)
    assert found, name
    return found.group(1)


def test_a_tenant_sees_its_own(login, with_footprints):
    html = login("steel-user").get("/footprints", params={"lang": "en"}).text
    rows = re.findall(r'<tr data-footprint="\d+"><td>([^<]+)</td>', html)
    assert sorted(rows) == ["steel-coil", "steel-wire"]  # not office's desk, not the supplier's pellet
    assert kpi(html, "published") == "1" and kpi(html, "suppliers") == "1"
    assert float(kpi(html, "primary_share")) == pytest.approx(60.0)  # both at 60 %
    assert 'data-supplier="Ore Co."' in html and "ore-pellet" in html
    assert "desk" not in html
    office = login("office-user").get("/footprints", params={"lang": "en"}).text
    assert "desk" in office and "steel" not in office.lower().replace("steel-user", "")


def test_the_operator_sees_the_park_in_chinese(login, with_footprints):
    html = login("op").get("/footprints", params={"lang": "zh"}).text
    assert "产品碳足迹" in html and "已发布" in html and "草稿" in html
    rows = re.findall(r'<tr data-footprint="\d+"><td>([^<]+)</td>', html)
    assert sorted(rows) == ["desk", "steel-coil", "steel-wire"]
    assert re.search(r"<td class=\"num\">1\.850</td>", html)  # 1.85 kgCO2e/kg as stored, shown to 3 decimals


def test_not_logged_in_goes_to_login(client):
    r = client.get("/footprints", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_a_published_footprint_links_its_label(login, with_footprints):
    client = login("steel-user")
    html = client.get("/footprints", params={"lang": "en"}).text
    links = re.findall(r'href="(/api/v1/parks/p1/footprints/\d+/label\.pdf\?lang=en)"', html)
    assert len(links) == 1  # the published coil only
    r = client.get(links[0])
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")


def test_hot_spots_of_a_computed_footprint(login, web_store):
    hot = [{"kind": "energy", "input": "steel.eaf", "source": "cn-electricity 2025.1", "kgco2e": 19.8, "share_pct": 41.0},
           {"kind": "supplier", "input": "alloy", "source": "supplier:Alloy Co.", "kgco2e": 20.0, "share_pct": 41.4}]  # fmt: skip
    records.create(web_store, enterprise_scope(web_store, "steel"), "p1", footprint("steel-coil", "steel", 48.3),
                   analysis={"hot_spots": hot})  # fmt: skip
    html = login("steel-user").get("/footprints", params={"lang": "en"}).text
    table = re.search(r'<table class="table" data-hot-spots="\d+">(.*?)</table>', html, re.S)
    assert table and "steel.eaf" in table.group(1) and "Supplier footprint" in table.group(1)
    assert "19.800" in table.group(1) and "41.4" in table.group(1)
