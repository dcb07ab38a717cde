"""The district report: the parks side by side in PDF and Excel, every figure the district view's own.

Park p1 of the `closed` fixture (tests/pathway/test_district.py) burns 100,000 / 120,000 / 110,000 Nm3 of natural
gas in 2022 / 2023 / 2024, each year's park inventory closed with an output value of 10,000 x 10^4 CNY; farpark
has nothing closed.
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from pypdf import PdfReader

from parkzero.errors import ValidationFailed
from parkzero.pathway import district, records
from parkzero.pathway.evaluations import core_indicator_910
from parkzero.pathway.targets import Target
from parkzero.reports.district import comparison_row, district_pdf, district_xlsx, label
from tests.accounting.conftest import SYSTEM
from tests.pathway.test_district import closed, regulator  # noqa: F401 - the fixture and the regulator's scope

CAP = Target(code="p1-cap-2030", subject="p1", kind="absolute_cap", target_year=2030, value=200.0, unit="tCO2e")
GREEN = {"holder": "p1", "kind": "green_park", "level": "municipal", "year": 2024, "issuer": "上海市经济和信息化委员会",
         "evidence": ["沪经信节〔2024〕1号"]}  # fmt: skip
POLLUTANTS = {
    "year": 2024, "so2_t": 0.0123, "nox_t": 0.4567, "pm_t": 0.0089, "voc_t": 0.0312, "apeq_t": 0.5091,
    "not_counted": ["grid electricity (no factor for East China)"],
    "co_control": {"quadrant": "both reduced", "elasticity": 0.82, "explanation": "CO2 and APeq both fell"},
}  # fmt: skip


@pytest.fixture
def summaries(closed):  # noqa: F811 - the fixture imported above
    records.add_target(closed, SYSTEM, "p1", CAP, today_year=2026)
    records.add_recognition(closed, SYSTEM, "p1", GREEN)
    return [s.as_dict() for s in district.district(closed, regulator(closed, None))]


def pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def flat(text: str) -> str:
    return "".join(text.split())


def with_thresholds(summaries: list[dict]) -> list[dict]:
    """p1 moved into the 200,000-1,000,000 tce/yr class (so a threshold applies), with pollutants; farpark as is."""
    far, p1 = summaries
    # 60,000 tCO2 / 250,000 tce = 0.24 tCO2/tce > 0.2 (the class's threshold, from press reports, not verified)
    core = {**core_indicator_910(60_000.0, 250_000.0).__dict__, "year": 2024}
    return [far, {**p1, "core_910": core, "pollutants": POLLUTANTS}]


def test_pdf_shows_every_park_and_its_figures(summaries):
    far, p1 = summaries
    data = district_pdf(summaries, "en")
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    assert "farpark" in text and "Farpark" in text and "p1" in text
    assert "closed park-level inventories only" in " ".join(text.split())
    # the side-by-side table: 2024's total [tCO2e], energy [tce] and intensity (total / 10,000 x 10^4 CNY)
    assert p1["latest_year"] == 2024 and far["latest_year"] is None
    for figure in (f"{p1['total_tco2e']:,.2f}", f"{p1['energy_tce']:,.2f}", f"{p1['tco2e_per_10k_cny']:,.4f}"):
        assert figure in text, figure
    for year, tco2e in p1["history_tco2e"].items():  # the history, one line a closed year
        assert f"{year} {tco2e:,.2f}" in text, year
    core = p1["core_910"]
    assert core is not None and f"{core['tco2_per_tce']:,.4f}" in text
    # a park of ~100 tce/yr is in no size class: not evaluated, never passed
    assert core["size_class"] is None and core["passed"] is None
    assert "notevaluated(nosizeclassapplies)" in flat(text)
    assert flat(core["explanation"])[:40] in flat(text)
    assert "no closed zcp-910 inventory" in text  # farpark's reason for no 910 indicator
    target = p1["targets"][0]
    assert target["status"] == "off track" and "p1-cap-2030" in text
    assert flat(target["explanation"])[:40] in flat(text)
    # on track / off track: 0 / 1 for p1, 0 / 0 for farpark
    assert "0 / 1" in text and "0 / 0" in text
    assert "green park 1" in " ".join(text.split())
    for header in ("Total [tCO2e]", "Energy use [tce]", "[tCO2e per 10^4 CNY]", "[tCO2/tce]"):
        assert header in " ".join(text.split()), header
    assert "steel" not in text and "office" not in text  # aggregates only


def test_unverified_threshold_pass_fail_and_pollutants_in_the_pdf(summaries):
    text = " ".join(pdf_text(district_pdf(with_thresholds(summaries), "en")).split())
    assert "200k-1M" in text and "0.2400" in text  # 60,000 / 250,000 = 0.24 tCO2/tce
    assert "0.20*" in text and "the pass/fail is indicative" in text  # flagged next to the value and in a note
    assert "0.20* · fail" in text  # 0.24 > 0.2: the 910 paragraph of p1
    assert "NOx 0.457" in text and "0.509" in text  # 0.4567 t and APeq 0.5091 t to 3 decimals
    assert "grid electricity (no factor for East China)" in text and "CO2 and APeq both fell" in text
    # without any threshold, nothing to flag
    assert "the pass/fail is indicative" not in " ".join(pdf_text(district_pdf(summaries, "en")).split())


def test_chinese_report(summaries):
    text = pdf_text(district_pdf(with_thresholds(summaries), "zh"))
    assert "园区对比报告" in text and "仅来自已关闭的园区级温室气体清单" in flat(text)
    for header in ("排放总量 [tCO2e]", "综合能耗 [tce]", "历年排放", "910 核心指标"):
        assert header in text, header
    assert "未达标" in flat(text) and "进度滞后" in flat(text) and "绿色工业园区" in flat(text)
    assert "阈值未在通知原文中核实" in flat(text) and "减污降碳协同:协同减排" in flat(text)
    wb = load_workbook(io.BytesIO(district_xlsx(summaries, "zh")))
    header = [c.value for c in wb["parks"][1]]
    assert header[:6] == ["园区", "名称", "核算规则", "最新关闭年度", "排放总量 [tCO2e]", "综合能耗 [tce]"]
    assert wb["targets"]["E2"].value == "进度滞后"


def test_excel_cells_are_the_summaries_numbers(summaries):
    far, p1 = summaries
    wb = load_workbook(io.BytesIO(district_xlsx(with_thresholds(summaries), "en")))
    assert wb.sheetnames == ["parks", "history", "targets"]
    ws = wb["parks"]
    header = [c.value for c in ws[1]]
    assert all("[" in h for h in header if h not in ("Park", "Name", "Accounting regime", "Latest closed year",
                                                     "910 year", "910 threshold verified", "910 result",
                                                     "Pollutants year", "Activity not counted (no factor)",
                                                     "Co-control quadrant"))  # fmt: skip
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert list(rows) == ["farpark", "p1"]
    got = rows["p1"]
    assert got["Latest closed year"] == 2024
    assert got["Total [tCO2e]"] == p1["total_tco2e"] and got["Energy use [tce]"] == p1["energy_tce"]
    assert got["Intensity [tCO2e per 10^4 CNY]"] == p1["tco2e_per_10k_cny"]
    assert got["Intensity [tCO2e per 10^4 CNY]"] == pytest.approx(p1["total_tco2e"] / 10_000.0)  # per 10^4 CNY
    # the 910 of `with_thresholds`: 60,000 tCO2 / 250,000 tce = 0.24 > 0.2 -> fail, threshold not verified
    assert got["910 core indicator [tCO2/tce]"] == pytest.approx(0.24)
    assert got["910 size class [tce/yr]"] == "200k-1M" and got["910 threshold [tCO2/tce]"] == 0.2
    assert got["910 threshold verified"] == "no" and got["910 result"] == "fail"
    assert (got["Targets on track [number]"], got["Targets off track [number]"]) == (0, 1)
    assert got["Recognitions: green park [number]"] == 1 and rows["farpark"]["Recognitions: green park [number]"] == 0
    assert got["NOx [t]"] == 0.4567 and got["Air pollutant equivalent APeq [t, SO2-normalised]"] == 0.5091
    assert got["Co-control quadrant"] == "both reduced (co-control)" and got["Co-control elasticity [-]"] == 0.82
    empty = rows["farpark"]
    assert empty["Total [tCO2e]"] is None and empty["910 result"] is None and empty["SO2 [t]"] is None
    history = [r for r in wb["history"].iter_rows(min_row=2, values_only=True)]
    assert history == [("p1", y, v) for y, v in sorted(p1["history_tco2e"].items())]
    assert [r[0] for r in history] == ["p1"] * 3  # three closed years of p1, none of farpark
    targets = [r for r in wb["targets"].iter_rows(min_row=2, values_only=True)]
    t = p1["targets"][0]
    assert targets == [("p1", "p1-cap-2030", "emissions cap", 2030, "off track", t["explanation"], t["measure"])]


def test_summaries_after_a_json_round_trip(summaries):
    """The API may hand the summaries through JSON: years become strings, the report reads them the same."""
    import json

    again = json.loads(json.dumps(summaries))
    wb = load_workbook(io.BytesIO(district_xlsx(again, "en")))
    assert [r[1] for r in wb["history"].iter_rows(min_row=2, values_only=True)] == [2022, 2023, 2024]
    assert comparison_row(again[1])["targets"]["off track"] == 1


def test_bad_language_is_refused(summaries):
    with pytest.raises(ValidationFailed, match="language"):
        district_pdf(summaries, "fr")
    with pytest.raises(ValidationFailed, match="language"):
        district_xlsx(summaries, "fr")
    assert label("total_tco2e", "zh") == "排放总量 [tCO2e]"
