"""Inventory reports: every figure in the PDF and the Excel file is the API's figure."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from parkzero.accounting import inventory, sources
from parkzero.errors import ValidationFailed
from parkzero.registry.scope import Scope
from parkzero.reports.inventory import inventory_pdf, inventory_xlsx
from tests.accounting.conftest import STEEL_GAS, SYSTEM, YEAR, local


@pytest.fixture
def stored(ledger):
    sources.save_source(ledger, SYSTEM, "p1", STEEL_GAS)
    sources.add_activity(
        ledger, SYSTEM, "p1", "steel.gas", {"period_start": local(3, 1), "period_end": local(4, 1), "amount": 100_000.0}
    )
    inv = inventory.create(ledger, SYSTEM, "p1", YEAR, "ghg-protocol")
    return ledger, inv["id"]


def pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_excel_figures_equal_the_api(stored):
    store, inv_id = stored
    result = inventory.result(store, SYSTEM, "p1", inv_id)
    wb = load_workbook(io.BytesIO(inventory_xlsx(result)))
    summary = {r[0].value: r[1].value for r in wb["Summary"].iter_rows(min_row=2)}
    for key, value in result["totals"].items():
        unit = "tce" if key == "energy_tce" else "tCO2e"
        assert summary[f"{key} ({unit})"] == value
    scope2 = {r[0].value: (r[1].value, r[2].value) for r in wb["Scope 2"].iter_rows(min_row=2)}
    assert scope2["Purchased electricity"] == (
        result["by_category"]["electricity"]["location"],
        result["by_category"]["electricity"]["market"],
    )
    assert wb["Lines"].max_row - 1 == len(result["lines"])
    factor_ids = {r[2].value for r in wb["Factors"].iter_rows(min_row=2)}
    assert {"electricity.cn.east_china", "fuel.natural_gas"} <= factor_ids


def test_pdf_shows_totals_regime_and_sources(stored):
    store, inv_id = stored
    result = inventory.result(store, SYSTEM, "p1", inv_id)
    text = pdf_text(inventory_pdf(result, "ghg", "en"))
    assert result["regime"]["title"][:40] in " ".join(text.split())
    for key in ("scope1", "scope2_location", "scope2_market", "total_location"):
        assert f"{result['totals'][key]:,.2f}" in text, key
    flat = "".join(text.split())
    for f in result["factors_used"]:  # every factor's source document is printed
        assert "".join(f["source"].split())[:24] in flat, f["factor_id"]
    cn = pdf_text(inventory_pdf(result, "cn", "zh"))
    assert "温室气体排放量汇总" in cn and "排放因子及来源" in cn
    assert f"{result['totals']['scope1']:,.2f}" in cn


def test_regulator_report_has_no_lines(stored):
    store, inv_id = stored
    pid = store.db.fetchone("SELECT id FROM parks WHERE code = 'p1'")[0]
    verifier = Scope(actor="v", role="verifier", park_id=pid)
    for action, who in (("submit", SYSTEM), ("verify", verifier), ("close", SYSTEM)):
        inventory.transition(store, who, "p1", inv_id, action)
    result = inventory.result(store, Scope(actor="r", role="regulator", park_id=pid), "p1", inv_id)
    wb = load_workbook(io.BytesIO(inventory_xlsx(result)))
    assert "Lines" not in wb.sheetnames
    text = pdf_text(inventory_pdf(result))
    assert "steel.gas" not in text and "Sources and activity data" not in text


def test_bad_layout_is_refused(stored):
    store, inv_id = stored
    result = inventory.result(store, SYSTEM, "p1", inv_id)
    with pytest.raises(ValidationFailed, match="layout"):
        inventory_pdf(result, "iso")
