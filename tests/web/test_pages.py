"""The server-rendered pages without a browser: log-in and cookie, redirects, tenant scoping, i18n, static."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

import pytest

from parkzero.api.deps import SESSION_COOKIE
from parkzero.energy import flows
from parkzero.registry.scope import Scope
from parkzero.web import pages

SYSTEM = Scope.system("test")


def kpi_values(html: str) -> dict[str, float | None]:
    found = re.findall(r'data-kpi="([a-z_]+)" data-value="([^"]*)"', html)
    return {k: (float(v) if v else None) for k, v in found}


@pytest.mark.parametrize("path", ["/", "/tenants/office", "/upload"])
def test_pages_redirect_to_login(client, path):
    r = client.get(path, follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"].startswith("/login?next=")
    assert client.get(r.headers["location"]).status_code == 200


def test_login_sets_httponly_lax_cookie_and_goes_to_next(client):
    r = client.post(
        "/login",
        data={"username": "op", "password": "correct horse battery", "next": "/upload"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/upload"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Path=/" in cookie
    # the same cookie authenticates the API
    assert client.get("/api/v1/auth/me").json()["username"] == "op"


def test_login_failure_and_open_redirect(client):
    r = client.post("/login", data={"username": "op", "password": "wrong-password"}, follow_redirects=False)
    assert r.status_code == 401 and SESSION_COOKIE not in r.headers.get("set-cookie", "")
    assert 'id="login-error"' in r.text
    r = client.post(
        "/login",
        data={"username": "op", "password": "correct horse battery", "next": "//evil.example/x"},
        follow_redirects=False,
    )
    assert r.headers["location"] == "/"


def test_logout_clears_cookie(login):
    client = login("op")
    assert client.get("/", follow_redirects=False).status_code == 200
    r = client.post("/logout", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303


def test_forged_cookie_is_a_login_redirect(client):
    client.cookies.set(SESSION_COOKIE, "not-a-jwt")
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_overview_kpis_match_energy_balance(login, web_store):
    html = login("op").get("/?lang=en").text
    # default period: the latest month with data, March 2025
    b = flows.energy_balance(web_store, SYSTEM, "p1", date(2025, 3, 1), date(2025, 4, 1))
    kpis = kpi_values(html)
    for key in (
        "self_sufficiency_pct",
        "self_consumption_pct",
        "pv_generation_kwh",
        "consumption_kwh",
        "grid_import_kwh",
        "grid_export_kwh",
    ):
        assert kpis[key] == pytest.approx(getattr(b, key)), key
    assert "Mar 2025" in html
    assert 'id="chart-sankey"' in html and "/static/echarts.min.js" in html
    assert "Office Tenant" in html and "Steel Processing" in html


def test_period_selector(login, web_store):
    client = login("op")
    html = client.get("/?period=30d&lang=en").text
    b = flows.energy_balance(web_store, SYSTEM, "p1", date(2025, 2, 3), date(2025, 3, 5))
    assert kpi_values(html)["grid_import_kwh"] == pytest.approx(b.grid_import_kwh)
    assert "2025-02-03 – 2025-03-04" in unescape(html)
    year = client.get("/?period=year&lang=en").text
    assert ">2025<" in year


def test_regulator_sees_overview(login):
    assert login("regulator-user").get("/", follow_redirects=False).status_code == 200


def test_enterprise_user_is_sent_to_its_own_page(login):
    client = login("office-user")
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/tenants/office"
    page = client.get("/tenants/office?lang=en")
    assert page.status_code == 200
    assert 'data-channel="office.main"' in page.text
    assert "steel" not in page.text.lower()
    # March 2025: office 4 days x (40 x 20 + 56 x 5 kWh) = 4 x 1,080 = 4,320 kWh
    assert kpi_values(page.text)["tenant_consumption_kwh"] == pytest.approx(4320.0)


@pytest.mark.parametrize("tenant", ["steel", "nonexistent"])
def test_enterprise_user_cannot_open_another_tenant(login, tenant):
    r = login("office-user").get(f"/tenants/{tenant}")
    assert r.status_code == 404
    assert "Steel Processing" not in r.text and "steel.main" not in r.text


def test_operator_opens_any_tenant(login):
    client = login("op")
    r = client.get("/tenants/steel?lang=en")
    assert r.status_code == 200
    assert 'data-channel="steel.main"' in r.text and 'data-channel="steel.eaf"' in r.text
    assert 'id="quality-table"' in r.text


def test_language_from_query_cookie_and_header(login):
    client = login("op")
    zh = client.get("/?lang=zh")
    assert "园区总览" in zh.text and "自给率" in zh.text and 'lang="zh-CN"' in zh.text
    assert client.cookies.get(pages.LANG_COOKIE) == "zh"
    assert "自给率" in client.get("/").text  # remembered
    client.cookies.delete(pages.LANG_COOKIE)
    assert "Self-sufficiency" in client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).text
    assert "自给率" in client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.8"}).text
    assert "自给率" in client.get("/", headers={"Accept-Language": "fr;q=1, zh;q=0.5, en;q=0.4"}).text


def test_catalogues_have_the_same_keys():
    assert set(pages.catalogue("zh")) == set(pages.catalogue("en"))
    assert pages.catalogue("zh")["kpi.self_sufficiency_pct"] == "自给率"


def test_chinese_energy_unit():
    t = pages.Translator("zh")
    assert t.kwh(123_456.0) == "12.35 万kWh"  # 123,456 kWh / 10,000 = 12.3456 万kWh
    assert pages.Translator("en").kwh(123_456.0) == "123,456 kWh"


def test_upload_page(login):
    html = login("office-user").get("/upload?lang=en").text
    assert 'id="upload-form"' in html and 'data-park="p1"' in html and "Asia/Shanghai" in html


def test_static_echarts_is_served(client):
    r = client.get("/static/echarts.min.js")
    assert r.status_code == 200 and len(r.content) > 500_000
    assert "echarts" in r.text[:2000].lower()
    assert client.get("/static/echarts-LICENSE").status_code == 200
    assert client.get("/static/parkzero.css").status_code == 200


def test_resolve_period():
    assert pages.resolve_period("month", date(2025, 2, 14)) == (date(2025, 2, 1), date(2025, 3, 1))
    assert pages.resolve_period("30d", date(2025, 3, 4)) == (date(2025, 2, 3), date(2025, 3, 5))
    assert pages.resolve_period("year", date(2025, 3, 4)) == (date(2025, 1, 1), date(2026, 1, 1))
