"""`parkzero pathway …` as a user runs it: the shipped indicator sets and a zero-carbon park score card."""

from __future__ import annotations

import json

from tests.cli.test_cli import cli  # noqa: F401 - the fixture


def test_sets_list_the_shipped_files_with_their_verification(cli):  # noqa: F811
    rows = {r["name"]: r for r in json.loads(cli("pathway", "sets", "--format", "json").stdout)}
    assert {"zcp_910", "green_factory_gbt36132", "zero_carbon_factory_ceca", "green_dc"} <= set(rows)
    assert rows["zcp_910"]["source"].startswith("发改环资〔2025〕910号")
    assert rows["zcp_910"]["verified"] is False  # press-report figures, kept as data that can be corrected


def test_a_zero_carbon_park_score_card(cli, tmp_path):  # noqa: F811
    # 180,000 tCO2 / 1,000,000 tce = 0.18 tCO2/tce; a park of 1,000,000 tce/yr is in the >= 1M class (<= 0.3)
    values = tmp_path / "values.json"
    values.write_text(json.dumps({"co2_per_energy_use": 180_000 / 1_000_000, "clean_energy_share": 92.0}))
    out = cli("pathway", "evaluate", "zcp_910", "--values", str(values), "--size", "1000000", "--format", "json")
    rows = {r["indicator"]: r for r in json.loads(out.stdout)}
    core = rows["co2_per_energy_use"]
    assert core["status"] == "passed" and core["threshold"] == 0.3 and core["size_class"] == ">=1M"
    assert rows["clean_energy_share"]["status"] == "passed"  # 92 % >= 90 %
    assert rows["solid_waste_utilisation"]["status"] == "missing"  # never passed silently
    assert "missing: " in out.stderr and "solid_waste_utilisation" in out.stderr
    # a park of 500,000 tce/yr with 0.25 tCO2/tce fails its class (<= 0.2)
    values.write_text(json.dumps({"co2_per_energy_use": 0.25}))
    rows = {r["indicator"]: r for r in json.loads(
        cli("pathway", "evaluate", "zcp_910", "--values", str(values), "--size", "500000", "--format", "json").stdout)}  # fmt: skip
    assert rows["co2_per_energy_use"]["status"] == "failed" and rows["co2_per_energy_use"]["threshold"] == 0.2


def test_bad_values_are_said(cli, tmp_path):  # noqa: F811
    bad = tmp_path / "values.json"
    bad.write_text("{not json")
    out = cli("pathway", "evaluate", "zcp_910", "--values", str(bad), check=False)
    assert out.returncode == 1 and "values.json" in out.stderr and "Traceback" not in out.stderr
    bad.write_text("{}")
    unknown = cli("pathway", "evaluate", "no-such-set", "--values", str(bad), check=False)
    assert unknown.returncode == 1 and "zcp_910" in unknown.stderr


def test_targets_and_the_macc(cli):  # noqa: F811
    targets = {r["code"]: r for r in json.loads(cli("pathway", "targets", "--format", "json").stdout)}
    assert (
        targets["sh-energy-intensity-2025"]["value"] == 14.0
        and "沪府发〔2022〕7号" in targets["sh-peak-2030"]["source"]
    )
    out = cli("pathway", "macc", "--year", "2030", "--grid-factor", "0.5", "--format", "json")
    rows = json.loads(out.stdout)
    costs = [r["cost_cny_per_tco2e"] for r in rows]
    assert costs == sorted(costs)  # cheapest first
    assert rows[-1]["cumulative_tco2e"] == round(sum(r["abatement_tco2e"] for r in rows), 1)  # widths add up
    assert (
        "building-energy-management" in out.stderr and "baseline" in out.stderr
    )  # share-of-baseline measures are named, not dropped silently
