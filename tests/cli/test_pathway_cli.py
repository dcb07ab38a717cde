"""`parkzero pathway …` as a user runs it: the shipped indicator sets and a zero-carbon park score card."""

from __future__ import annotations

import json

import pytest

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
    air = {r["measure"]: r for r in rows}
    # forklifts: NOx 200 t diesel x 85.11 kg/t - 800 MWh x 0.1029 = 16.940 t; SO2 0.004 - 0.052 = -0.048 t;
    # PM 1.197 - 0.012 = 1.185 t weighted 0.95/2.18: APeq = 16.940 - 0.048 + 0.516 = 17.408 t
    assert air["electric-forklifts"]["apeq_t"] == pytest.approx(17.408, abs=2e-3)
    assert air["electric-forklifts"]["co_control"] == "both reduced"
    assert air["eaf-instead-of-bf-bof"]["co_control"] == "not stated"  # no activity given: not taken as zero
    assert air["ccer-offsets-10kt"]["co_control"] == "carbon only"  # offsets clean no local air


def test_optimise_the_shipped_demo_scenario(cli):  # noqa: F811
    out = cli("pathway", "optimise", "--format", "json")
    plan = json.loads(out.stdout)[0]
    assert plan["park"] == "baoshan-demo" and plan["status"] == "Optimal"
    assert {t["code"]: t["met"] for t in plan["targets"]} == {"park-peak-2030": True, "park-neutral-2060": True}
    # neutral from 2060: net emissions of 2060 are <= 0, the gross residual is covered by offsets
    assert plan["net_tco2e"]["2060"] <= 1e-6 and plan["neutral_year"] == 2060
    assert plan["offsets_tco2e"]["2060"] >= plan["emissions_tco2e"]["2060"] - 1e-6  # offsets come in whole units
    assert plan["net_tco2e"]["2060"] == pytest.approx(plan["emissions_tco2e"]["2060"] - plan["offsets_tco2e"]["2060"])
    assert plan["peak_year"] <= 2030
    # every measure that pays for itself is built in 2025; offsets close the gap in 2060
    built = {b["code"]: (b["year"], b["units"]) for b in plan["builds"]}
    assert built == {"building-energy-management": (2025, 1), "electric-forklifts": (2025, 1),
                     "heat-pump-for-gas-boiler": (2025, 1), "rooftop-pv-1mwp": (2025, 8), "vfd-pumps-fans": (2025, 1),
                     "ccer-offsets-10kt": (2060, 6)}  # fmt: skip
    # NOx avoided in 2030 (all at full ramp), AP-42 and CEC factors of pollutant_factors.toml:
    #   forklifts  200 t diesel x 85.11 kg/t - 800 MWh x 0.1029 kg/MWh       = 17.022 - 0.082 = 16.940 t
    #   heat pump  1e6 Nm3 x 1.6931 kg/1000 Nm3 - 3,244 MWh x 0.1029 kg/MWh  =  1.693 - 0.334 =  1.359 t
    #   PV         8 x 1,100 MWh x 0.1029 kg/MWh                                               =  0.906 t
    #   VFDs       1,200 MWh x 0.1029 kg/MWh                                                   =  0.123 t
    #   building management (a share of the baseline: no activity stated) and offsets          =  0
    assert plan["air_pollutants_avoided_t"]["nox_t"]["2030"] == pytest.approx(16.940 + 1.359 + 0.906 + 0.123, abs=2e-3)
    # the plan's co-control against the baseline's air (its tenants' gas and diesel and the grid power they draw)
    cc = plan["co_control"]["2030"]
    assert cc["quadrant"] == "both reduced" and 0 < cc["apeq_reduction_t"] < cc["apeq_before_t"]
    assert "Els = " in cc["explanation"] and cc["elasticity"] > 1  # air falls faster than carbon here


def test_bad_scenarios_name_the_item(cli, tmp_path):  # noqa: F811
    bad = tmp_path / "scenario.toml"
    bad.write_text(
        '[scenario]\nname = "x"\npark = "p"\nfirst_year = 2025\n[grid_factor_tco2_per_mwh]\n2025 = 0.5\n'
        '[[tenant]]\ncode = "a"\nactivity = 1.0\ncolour = "red"\n'
        '[[target]]\ncode = "old-peak"\nsubject = "p"\nkind = "absolute_peak"\ntarget_year = 2020\n'
    )
    out = cli("pathway", "optimise", str(bad), check=False)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "scenario.toml" in out.stderr and "tenant a" in out.stderr and "colour" in out.stderr
    bad.write_text(bad.read_text().replace('colour = "red"\n', "direct_tco2e_per_unit = 1.0\n"))
    out = cli("pathway", "optimise", str(bad), check=False)
    assert out.returncode == 1 and "old-peak" in out.stderr and "target_year" in out.stderr


def test_progress_district_and_recognitions_on_a_store(cli, tmp_path):  # noqa: F811
    from tests.conftest import SMALL_PARK

    doc = tmp_path / "park.json"
    doc.write_text(json.dumps(SMALL_PARK, ensure_ascii=False), encoding="utf-8")
    cli("registry", "import", str(doc))
    recs = tmp_path / "recognitions.json"
    recs.write_text(json.dumps({"format": "parkzero-recognitions", "version": 1, "recognitions": [
        {"park": "p1", "holder": "steel", "kind": "green_factory", "level": "national", "year": 2024,
         "issuer": "工业和信息化部", "evidence": ["2024年度绿色制造名单"]}]}, ensure_ascii=False))  # fmt: skip
    out = cli("pathway", "recognitions", "--park", "p1", "--import", str(recs), "--format", "json")
    assert "recorded 1" in out.stderr and json.loads(out.stdout)[0]["holder"] == "steel"
    again = cli("pathway", "recognitions", "--park", "p1", "--import", str(recs), check=False)
    assert again.returncode == 1 and "already held" in again.stderr  # nothing recorded twice
    assert json.loads(cli("pathway", "progress", "--park", "p1", "--format", "json").stdout) == []
    rows = json.loads(cli("pathway", "district", "--format", "json").stdout)
    # no closed inventory yet: the park is listed, with nothing to compare
    assert rows == [{"park": "p1", "latest_year": None, "total_tco2e": None, "energy_tce": None,
                     "tco2e_per_10k_cny": None, "core_910_tco2_per_tce": None, "core_910_passed": None,
                     "targets_off_track": 0, "recognitions": 1}]  # fmt: skip


def test_macc_takes_the_latest_shipped_grid_factor_and_says_so(cli):  # noqa: F811
    out = cli("pathway", "macc", "--year", "2030", "--format", "json")
    assert "electricity.cn.east_china of 2023" in out.stderr and "0.55 tCO2/MWh" in out.stderr
    pv = next(r for r in json.loads(out.stdout) if r["measure"] == "rooftop-pv-1mwp")
    assert pv["abatement_tco2e"] == pytest.approx(8 * 1_100 * 0.55)  # 8 blocks x 1,100 MWh x 0.55 t/MWh = 4,840 t
