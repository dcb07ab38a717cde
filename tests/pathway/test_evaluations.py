"""Indicator sets as data files, evaluations and score cards, the 910 core indicator, recognitions."""

from __future__ import annotations

import json
import textwrap

import pytest

from parkzero.accounting.buildings import datacentre_metrics
from parkzero.errors import NotFound, ValidationFailed
from parkzero.pathway import evaluations as ev

HEADER = """
format = "parkzero-indicator-set"
format_version = 1
code = "test.set"
title = "Test set"
version = "1"
verified = false
[source]
document = "T/TEST 1-2025"
title = "Test standard"
"""

# A small green-factory-like tree: two first-level groups of 50 points, four scored indicators, one basic one.
TREE = (
    HEADER
    + """
[[groups]]
code = "energy"
name = "Energy low-carbonisation"
weight = 50

[[groups]]
code = "resource"
name = "Resource efficiency"
weight = 50

[[indicators]]
code = "no_accident"
name = "No major accident in three years"
unit = "yes=1/no=0"
direction = "min"
kind = "basic"
threshold = 1
evidence = "authorities' records"
verified = false

[[indicators]]
code = "renewable_share"
name = "Renewable share"
unit = "%"
direction = "min"
kind = "scored"
parent = "energy"
weight = 30
baseline = 10
leading = 50
evidence = "energy balance"
verified = false

[[indicators]]
code = "energy_intensity"
name = "Unit product energy use"
unit = "kgce/t"
direction = "max"
kind = "scored"
parent = "energy"
weight = 20
baseline = 100
leading = 60
evidence = "energy audit"
verified = false

[[indicators]]
code = "water_reuse"
name = "Water reuse"
unit = "%"
direction = "min"
kind = "scored"
parent = "resource"
weight = 30
baseline = 70
leading = 90
evidence = "water balance"
verified = false

[[indicators]]
code = "waste_utilisation"
name = "Solid-waste utilisation"
unit = "%"
direction = "min"
kind = "scored"
parent = "resource"
weight = 20
baseline = 60
leading = 100
evidence = "waste ledger"
verified = false

[[grades]]
code = "bronze"
name = "Bronze"
min_score = 50
verified = false

[[grades]]
code = "silver"
name = "Silver"
min_score = 60
verified = false

[[grades]]
code = "gold"
name = "Gold"
min_score = 80
verified = false
"""
)

TREE_VALUES = {
    "no_accident": 1,
    "renewable_share": 30,  # 30 x (30 - 10) / (50 - 10) = 30 x 0.5 = 15 points
    "energy_intensity": 70,  # 20 x (70 - 100) / (60 - 100) = 20 x 0.75 = 15 points
    "water_reuse": 95,  # (95 - 70) / (90 - 70) = 1.25, better than leading: capped at 30 points
    "waste_utilisation": 50,  # (50 - 60) / (100 - 60) = -0.25, worse than baseline: 0 points
}


def _write(tmp_path, body: str, name: str = "set.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


# -- the 910 core indicator -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("energy_tco2", "energy_use_tce", "size_class", "threshold", "passed"),
    [
        (36_000, 200_000, "200k-1M", 0.2, True),  # 36,000 tCO2 / 200,000 tce = 0.18 <= 0.2 (200,000 opens the class)
        (120_000, 600_000, "200k-1M", 0.2, True),  # 120,000 / 600,000 = 0.2 <= 0.2: the bound itself passes
        (110_000, 500_000, "200k-1M", 0.2, False),  # 110,000 / 500,000 = 0.22 > 0.2
        (250_000, 999_999, "200k-1M", 0.2, False),  # 250,000 / 999,999 = 0.25000025 > 0.2 (still below 1M)
        (250_000, 1_000_000, ">=1M", 0.3, True),  # 250,000 / 1,000,000 = 0.25 <= 0.3 (exactly 1M is in >=1M)
        (700_000, 2_000_000, ">=1M", 0.3, False),  # 700,000 / 2,000,000 = 0.35 > 0.3
    ],
)
def test_core_indicator_910_by_size_class(energy_tco2, energy_use_tce, size_class, threshold, passed):
    c = ev.core_indicator_910(energy_tco2, energy_use_tce)
    assert c.tco2_per_tce == pytest.approx(energy_tco2 / energy_use_tce)  # tCO2 / tce
    assert c.size_class == size_class
    assert c.threshold_tco2_per_tce == threshold
    assert c.passed is passed
    assert c.verified is False  # press reports, not the notice's annex
    assert f"{energy_tco2:,} tCO2 / {energy_use_tce:,} tce" in c.explanation


def test_core_indicator_910_exact_arithmetic_at_one_million():
    c = ev.core_indicator_910(180_000, 1_000_000)
    assert c.tco2_per_tce == pytest.approx(0.18)  # 180,000 tCO2 / 1,000,000 tce = 0.18 tCO2/tce <= 0.3 (>=1M class)
    assert (c.size_class, c.threshold_tco2_per_tce, c.passed) == (">=1M", 0.3, True)
    assert "[1,000,000, ∞) tce/yr" in c.explanation


def test_core_indicator_910_small_park_is_not_evaluated():
    c = ev.core_indicator_910(20_000, 150_000)  # 20,000 / 150,000 = 0.133 tCO2/tce, but 150,000 < 200,000 tce/yr
    assert c.passed is None  # no size class covers it: not evaluated, never passed
    assert c.size_class is None and c.threshold_tco2_per_tce is None
    assert "outside every size class" in c.explanation


def test_core_indicator_910_rejects_bad_input():
    with pytest.raises(ValidationFailed):
        ev.core_indicator_910(1_000, 0)  # no energy use: no ratio
    with pytest.raises(ValidationFailed):
        ev.core_indicator_910(-1, 300_000)


def test_guiding_indicators_910_arithmetic():
    d = ev.guiding_indicators_910(
        clean_energy_tce=270_000,
        total_energy_tce=300_000,
        solid_waste_utilised_t=45_000,
        solid_waste_generated_t=50_000,
        solid_waste_prior_stock_utilised_t=5_000,
        waste_energy_recovered_gj=60_000,
        waste_energy_recoverable_gj=100_000,
        water_reused_m3=4_000_000,
        fresh_water_m3=1_000_000,
    )
    assert d.values["clean_energy_share"] == pytest.approx(90.0)  # 270,000 / 300,000 tce = 90 %
    assert d.values["solid_waste_utilisation"] == pytest.approx(81.818181818)  # 45,000 / (50,000 + 5,000) t
    assert d.values["waste_energy_utilisation"] == pytest.approx(60.0)  # 60,000 / 100,000 GJ = 60 %
    assert d.values["industrial_water_reuse"] == pytest.approx(80.0)  # 4,000,000 / (4,000,000 + 1,000,000) m3
    assert d.formulas["clean_energy_share"] == "270,000 / 300,000 × 100 = 90 %"
    assert ev.guiding_indicators_910(clean_energy_tce=1, total_energy_tce=2).values == {"clean_energy_share": 50.0}
    with pytest.raises(ValidationFailed):
        ev.guiding_indicators_910(clean_energy_tce=1)  # one side of the ratio only
    with pytest.raises(ValidationFailed):
        ev.guiding_indicators_910(clean_energy_tce=3, total_energy_tce=2)  # a share above 100 %


def test_zero_carbon_park_score_card():
    values = {
        "co2_per_energy_use": 0.15,  # 60,000 tCO2 / 400,000 tce = 0.15 <= 0.2 (200k-1M class)
        "clean_energy_share": 92,  # 92 >= 90 %
        "product_energy_intensity": 1,  # yes
        "solid_waste_utilisation": 85,  # 85 >= 80 %
        "waste_energy_utilisation": 55,  # 55 >= 50 %
        "industrial_water_reuse": 75,  # 75 < 80 %: guiding, fails but does not fail the park
    }
    card = ev.evaluate("zcp_910", values, size_quantity=400_000)
    core = card.result("co2_per_energy_use")
    assert (core.status, core.threshold, core.size_class) == ("passed", 0.2, "200k-1M")
    assert "400,000 tce/yr is in size class '200k-1M'" in core.threshold_basis
    assert card.core_passed is True  # the one core indicator passed
    assert card.guiding_passed is False and card.failed == ("industrial_water_reuse",)
    assert card.status == "incomplete"  # no evidence attached yet
    assert set(card.evidence_missing) == set(values)
    assert "co2_per_energy_use" in card.unverified  # every 910 figure rests on press reports
    assert card.set_verified is False and "910" in card.source

    proofs = {code: [f"{code}-2025.pdf"] for code in values}
    card = ev.evaluate("cn.zcp-910", values, size_quantity=400_000, evidence=proofs)
    assert card.status == "passed"  # core passed, every value and every piece of evidence present
    assert card.result("clean_energy_share").evidence == ("clean_energy_share-2025.pdf",)
    assert json.dumps(card.as_dict(), ensure_ascii=False)  # serialisable for the API


def test_zero_carbon_park_without_size_quantity_is_not_evaluated():
    card = ev.evaluate("zcp_910", {"co2_per_energy_use": 0.1})  # 0.1 tCO2/tce, but no energy use given
    assert card.result("co2_per_energy_use").status == "not_evaluated"
    assert card.not_evaluated == ("co2_per_energy_use",)
    assert card.core_passed is False and card.status == "incomplete"


# -- a scored indicator tree --------------------------------------------------------------------------
def test_scored_tree_by_hand(tmp_path):
    s = ev.load_indicator_set(_write(tmp_path, TREE))
    card = ev.evaluate(s, TREE_VALUES, evidence={code: ["ref"] for code in TREE_VALUES})
    points = {r.code: r.score for r in card.results if r.kind == "scored"}
    assert points["renewable_share"] == pytest.approx(15.0)  # 30 x (30 - 10) / (50 - 10) = 15
    assert points["energy_intensity"] == pytest.approx(15.0)  # 20 x (70 - 100) / (60 - 100) = 15
    assert points["water_reuse"] == pytest.approx(30.0)  # 95 beyond the leading 90: full 30
    assert points["waste_utilisation"] == pytest.approx(0.0)  # 50 below the baseline 60: 0
    assert card.score == pytest.approx(60.0)  # 15 + 15 + 30 + 0 = 60 of 100
    assert card.max_score == 100
    groups = {g.code: g.score for g in card.groups}
    assert groups == pytest.approx({"energy": 30.0, "resource": 30.0})  # 15 + 15; 30 + 0
    assert card.grade == "silver"  # 60 >= 60 (silver, bound included) and < 80 (gold)
    assert card.grade_reason == "Silver: score 60 >= 60"
    assert card.status == "passed"
    assert card.result("energy_intensity").explanation == "20 × (70 − 100) / (60 − 100) = 20 × 0.75 = 15 points"
    assert "grade silver" in card.unverified


def test_missing_values_are_listed_and_never_passed(tmp_path):
    values = {k: v for k, v in TREE_VALUES.items() if k not in ("water_reuse", "no_accident")}
    card = ev.evaluate(_write(tmp_path, TREE), values)
    assert set(card.missing) == {"water_reuse", "no_accident"}
    water = card.result("water_reuse")
    assert (water.status, water.passed, water.score) == ("missing", None, 0.0)  # 0 points, not passed
    assert card.result("no_accident").passed is None
    assert card.score == pytest.approx(30.0)  # 15 + 15 + 0 (missing) + 0 = 30
    assert card.core_passed is False  # a basic requirement without a value fails the gate
    assert card.grade is None and card.grade_reason.startswith("no grade: core/basic indicator(s) not passed")
    assert card.status == "incomplete"

    card = ev.evaluate(_write(tmp_path, TREE), {**TREE_VALUES, "water_reuse": None})  # None is missing too
    assert card.missing == ("water_reuse",)
    assert card.grade is None and "values missing" in card.grade_reason  # 30 points short: no grade from a guess


def test_failed_basic_requirement_fails_the_card(tmp_path):
    card = ev.evaluate(_write(tmp_path, TREE), {**TREE_VALUES, "no_accident": 0})  # 0 < 1: an accident
    assert card.result("no_accident").status == "failed"
    assert card.status == "failed" and card.grade is None
    assert card.score == pytest.approx(60.0)  # the score is still shown: 15 + 15 + 30 + 0


def test_evidence_missing_is_flagged(tmp_path):
    card = ev.evaluate(_write(tmp_path, TREE), TREE_VALUES, evidence={"no_accident": ["district letter 2025-12"]})
    assert card.result("no_accident").evidence_missing is False
    assert card.result("water_reuse").evidence_missing is True
    assert card.result("water_reuse").evidence_required == "water balance"
    assert set(card.evidence_missing) == set(TREE_VALUES) - {"no_accident"}
    assert card.grade == "silver"  # the figures reach silver (60 points) ...
    assert card.status == "incomplete"  # ... but the card is not done until the evidence is there


def test_evaluate_rejects_unknown_codes_and_bad_values(tmp_path):
    path = _write(tmp_path, TREE)
    with pytest.raises(ValidationFailed, match="unknown indicator 'water_reus'"):
        ev.evaluate(path, {"water_reus": 90})  # a typo must not become a silently missing value
    with pytest.raises(ValidationFailed, match="finite number"):
        ev.evaluate(path, {"water_reuse": float("nan")})
    with pytest.raises(ValidationFailed, match="evidence for unknown"):
        ev.evaluate(path, {}, evidence={"nope": ["x"]})


# -- bad indicator files -------------------------------------------------------------------------------
INDICATOR = """
[[indicators]]
code = "{code}"
name = "X"
unit = "%"
direction = "{direction}"
kind = "core"
evidence = "a report"
verified = false
"""

BAD_FILES = {
    "missing threshold": (
        INDICATOR.format(code="clean_share", direction="min"),
        "clean_share",
        "threshold",
        "missing",
    ),
    "unknown direction": (
        INDICATOR.format(code="clean_share", direction="up") + "threshold = 90\n",
        "clean_share",
        "direction",
        "must be one of max, min",
    ),
    "overlapping size classes": (
        "[size_quantity]\nname = 'energy use'\nunit = 'tce/yr'\n"
        + INDICATOR.format(code="intensity", direction="max")
        + """
[[indicators.size_classes]]
code = "small"
lower = 0
upper = 300000
threshold = 0.2
[[indicators.size_classes]]
code = "large"
lower = 200000
threshold = 0.3
""",
        "intensity",
        "lower",
        "overlaps size class 'small'",  # [0, 300,000) and [200,000, ∞) share [200,000, 300,000)
    ),
    "size-class gap": (
        "[size_quantity]\nname = 'energy use'\nunit = 'tce/yr'\n"
        + INDICATOR.format(code="intensity", direction="max")
        + """
[[indicators.size_classes]]
code = "small"
lower = 0
upper = 200000
threshold = 0.2
[[indicators.size_classes]]
code = "large"
lower = 250000
threshold = 0.3
""",
        "intensity",
        "lower",
        "gap",  # nothing covers [200,000, 250,000)
    ),
    "weights not summing": (
        """
[[groups]]
code = "energy"
name = "Energy"
weight = 100
[[indicators]]
code = "renewable_share"
name = "Renewable share"
unit = "%"
direction = "min"
kind = "scored"
parent = "energy"
weight = 60
baseline = 10
leading = 50
evidence = "energy balance"
verified = false
[[indicators]]
code = "energy_intensity"
name = "Energy intensity"
unit = "kgce/t"
direction = "max"
kind = "scored"
parent = "energy"
weight = 30
baseline = 100
leading = 60
evidence = "energy audit"
verified = false
""",
        "energy_intensity",
        "weight",
        "sum to renewable_share 60 + energy_intensity 30 = 90, not the group's weight 100",
    ),
    "leading on the wrong side": (
        """
[[indicators]]
code = "energy_intensity"
name = "Energy intensity"
unit = "kgce/t"
direction = "max"
kind = "scored"
weight = 100
baseline = 60
leading = 100
evidence = "energy audit"
verified = false
""",
        "energy_intensity",
        "leading",
        "must be below the baseline",  # lower is better, so the leading value is below the baseline
    ),
    "unknown field": (
        INDICATOR.format(code="clean_share", direction="min") + "treshold = 90\n",
        "clean_share",
        "treshold",
        "unknown field",
    ),
}


@pytest.mark.parametrize("case", list(BAD_FILES), ids=list(BAD_FILES))
def test_bad_indicator_files_name_file_indicator_and_field(tmp_path, case):
    body, code, field_name, reason = BAD_FILES[case]
    path = _write(tmp_path, HEADER + body, name="local_standard.toml")
    with pytest.raises(ValidationFailed) as caught:
        ev.load_indicator_set(path)
    message = str(caught.value)
    assert "local_standard.toml" in message
    assert f"'{code}'" in message
    assert f"field '{field_name}'" in message
    assert reason in message
    assert any(i.file == str(path) and i.column == field_name for i in caught.value.issues)


def test_bad_toml_and_unknown_set(tmp_path):
    with pytest.raises(ValidationFailed, match="not valid TOML"):
        ev.load_indicator_set(_write(tmp_path, "code = ", name="broken.toml"))
    with pytest.raises(NotFound):
        ev.load_indicator_set("no_such_set")
    with pytest.raises(NotFound):
        ev.load_indicator_set(tmp_path / "absent.toml")


# -- shipped data files --------------------------------------------------------------------------------
def test_the_four_sets_are_shipped():
    stems = {p.stem for p in ev.shipped_indicator_sets().values()}
    assert stems >= {"zcp_910", "green_factory_gbt36132", "zero_carbon_factory_ceca", "green_dc"}


@pytest.mark.parametrize("path", ev._shipped(), ids=lambda p: p.stem)
def test_every_shipped_file_loads_and_validates(path):
    s = ev.load_indicator_set(path)
    assert s.source.document and s.source.read_at  # every set says where it was read
    assert ev.load_indicator_set(s.code) == s == ev.load_indicator_set(path.stem)
    for ind in s.indicators:
        assert ind.evidence  # every indicator says what proves it
        assert ind.verified or ind.notes or not ind.read_at  # an unconfirmed figure carries a note
    card = ev.evaluate(s, {})
    assert set(card.missing) | set(card.not_evaluated) == {i.code for i in s.indicators}  # nothing passes on air
    assert card.core_passed is False and card.grade is None


def test_zero_carbon_factory_six_star_grades():
    base = {
        "residual_emissions_neutralised": 100,  # all residual emissions neutralised
        "renewable_electricity_share": 100,  # 100 % renewable electricity
        "removals_share": 0,  # all by carbon credits
        "transport_and_products_covered": 0,  # scopes 1 and 2 only
    }
    card = ev.evaluate("zero_carbon_factory_ceca", base)
    assert card.grade == "type_i.six_star"  # 100 % RE + 100 % offsets
    card = ev.evaluate("zero_carbon_factory_ceca", {**base, "removals_share": 100, "transport_and_products_covered": 1})
    assert card.grade == "type_ii.six_star"  # wider boundary + 100 % RE + 100 % removals
    card = ev.evaluate("zero_carbon_factory_ceca", {**base, "renewable_electricity_share": 95})
    assert card.core_passed is True and card.grade is None  # 95 < 100 %: lower grades' criteria are not shipped
    assert card.grade_reason == "no grade reached"
    card = ev.evaluate("zero_carbon_factory_ceca", {**base, "residual_emissions_neutralised": 80})
    assert card.status == "failed"  # 80 < 100 %: not a zero-carbon factory


def test_green_data_centre_from_metered_pue():
    m = datacentre_metrics(12_800_000, 10_000_000, 6_790.0)  # 12,800,000 kWh / 10,000,000 kWh IT = PUE 1.28
    values = {"pue": m.pue, "gb40879_grade": 2, "standard_racks": 3_200, "rack_occupancy": 65}
    card = ev.evaluate("green_dc", values)
    assert card.result("pue").status == "passed"  # 1.28 <= 1.30
    assert card.core_passed is True  # 1.28 <= 1.30; grade 2 <= 2; 3,200 >= 3,000 racks; 65 >= 60 %
    card = ev.evaluate("green_dc", {**values, "pue": 1.31})
    assert card.status == "failed"  # 1.31 > 1.30
    assert "pue" in card.unverified and "standard_racks" not in card.unverified  # racks read in the notice's text


# -- recognitions --------------------------------------------------------------------------------------
RECOGNITION = {
    "park": "lingang",
    "holder": "ent-steel",
    "kind": "green_factory",
    "level": "national",
    "year": 2024,
    "issuer": "工业和信息化部",
    "list_name": "2024年度绿色制造名单",
    "evidence": ["工信厅节函〔2024〕 list, page 12"],
}


def test_recognition_registry_round_trip(tmp_path):
    reg = ev.RecognitionRegistry()
    reg.add(RECOGNITION)
    reg.add({**RECOGNITION, "kind": "green_product", "product": "hot-rolled coil", "level": "municipal"})
    reg.add({**RECOGNITION, "park": "other", "holder": "other"})
    path = tmp_path / "recognitions.json"
    reg.save(path)
    back = ev.RecognitionRegistry.load(path)
    assert back.recognitions == reg.recognitions
    assert len(back.for_park("lingang")) == 2 and len(back.for_holder("other", "other")) == 1
    assert json.loads(path.read_text(encoding="utf-8"))["format"] == "parkzero-recognitions"


def test_recognition_validation():
    reg = ev.RecognitionRegistry()
    reg.add(RECOGNITION)
    with pytest.raises(ValidationFailed, match="already held"):
        reg.add(RECOGNITION)
    with pytest.raises(ValidationFailed) as caught:
        reg.add({**RECOGNITION, "kind": "nice_factory", "level": "galactic", "year": 1900, "evidence": []})
    columns = {i.column for i in caught.value.issues}
    assert columns == {"kind", "level", "year", "evidence"}
    with pytest.raises(ValidationFailed, match="names the product"):
        reg.add({**RECOGNITION, "kind": "green_product"})
    assert len(reg.recognitions) == 1  # nothing bad was added

    doc = {"format": "parkzero-recognitions", "version": 1, "recognitions": [RECOGNITION, {**RECOGNITION, "year": "x"}]}
    with pytest.raises(ValidationFailed) as caught:
        ev.RecognitionRegistry.from_json(json.dumps(doc), "recognitions.json")
    assert [(i.row, i.column) for i in caught.value.issues] == [(2, "year")]  # the whole file is rejected
    with pytest.raises(NotFound):
        ev.RecognitionRegistry.load("/nonexistent/recognitions.json")


def test_second_level_groups(tmp_path):
    body = """
[[groups]]
code = "resource"
name = "Resource efficiency"
weight = 100
[[groups]]
code = "water"
name = "Water"
parent = "resource"
weight = 60
[[groups]]
code = "materials"
name = "Materials"
parent = "resource"
weight = 40
[[indicators]]
code = "water_reuse"
name = "Water reuse"
unit = "%"
direction = "min"
kind = "scored"
parent = "water"
weight = 60
baseline = 70
leading = 90
evidence = "water balance"
verified = false
[[indicators]]
code = "waste_utilisation"
name = "Solid-waste utilisation"
unit = "%"
direction = "min"
kind = "scored"
parent = "materials"
weight = 40
baseline = 60
leading = 100
evidence = "waste ledger"
verified = false
"""
    card = ev.evaluate(_write(tmp_path, HEADER + body), {"water_reuse": 85, "waste_utilisation": 90})
    groups = {g.code: g.score for g in card.groups}
    assert groups["water"] == pytest.approx(45.0)  # 60 x (85 - 70) / (90 - 70) = 60 x 0.75 = 45
    assert groups["materials"] == pytest.approx(30.0)  # 40 x (90 - 60) / (100 - 60) = 40 x 0.75 = 30
    assert groups["resource"] == pytest.approx(75.0)  # 45 + 30 = 75 of 100
    assert card.score == pytest.approx(75.0)
    assert card.grade is None and card.grade_reason == "the set defines no grades"

    bad = body.replace('parent = "resource"\nweight = 40', 'parent = "resource"\nweight = 50')
    with pytest.raises(ValidationFailed, match="weights under group 'resource' sum to water 60 \\+ materials 50 = 110"):
        ev.load_indicator_set(_write(tmp_path, HEADER + bad, name="bad.toml"))  # 60 + 50 = 110, not 100
