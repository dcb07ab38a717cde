"""The ledger commands as a user runs them: sources, activity with evidence, instruments, inventories."""

from __future__ import annotations

import json

from tests.cli.test_cli import cli  # noqa: F401 - the fixture
from tests.conftest import SMALL_PARK

SOURCES = [
    {
        "code": "steel.gas",
        "name": "Reheating gas",
        "enterprise": "steel",
        "scope": 1,
        "category": "stationary_combustion",
        "method": "combustion",
        "factor_ref": "fuel.natural_gas",
        "activity_unit": "Nm3",
    },
    {
        "code": "steel.elec",
        "name": "Electricity",
        "enterprise": "steel",
        "scope": 2,
        "category": "electricity",
        "method": "electricity",
        "factor_ref": "grid",
        "activity_unit": "kWh",
        "channels": ["steel.main"],
    },
]


def setup_park(cli, tmp_path):  # noqa: F811
    (tmp_path / "park.json").write_text(json.dumps(SMALL_PARK), encoding="utf-8")
    cli("registry", "import", str(tmp_path / "park.json"))
    (tmp_path / "sources.json").write_text(json.dumps(SOURCES), encoding="utf-8")
    cli("sources", "import", str(tmp_path / "sources.json"), "--park", "p1")


def test_activity_inventory_and_explain(cli, tmp_path):  # noqa: F811
    setup_park(cli, tmp_path)
    (tmp_path / "invoice.pdf").write_bytes(b"%PDF-1.4 gas invoice March")
    cli(
        "activity",
        "add",
        "--park",
        "p1",
        "--source",
        "steel.gas",
        "--start",
        "2023-03-01T00:00:00+08:00",
        "--end",
        "2023-04-01T00:00:00+08:00",
        "--amount",
        "10",
        "--unit",
        "万Nm3",
        "--evidence",
        str(tmp_path / "invoice.pdf"),
    )
    out = json.loads(
        cli(
            "inventory",
            "run",
            "--park",
            "p1",
            "--year",
            "2023",
            "--regime",
            "cn-enterprise",
            "--enterprise",
            "steel",
            "--save",
            "--format",
            "json",
        ).stdout
    )[0]
    # 10 x 10^4 Nm3 x 389.31 GJ/10^4 Nm3 x 15.3 tC/TJ / 1000 x 0.99 x 44/12 = 216.2189 tCO2
    assert abs(out["totals"]["scope1"] - 216.2189) < 1e-3
    inv_id = out["inventory"]["id"]
    lines = json.loads(cli("inventory", "lines", str(inv_id), "--park", "p1", "--format", "json").stdout)
    gas = next(ln for ln in lines if ln["source"] == "steel.gas")
    text = cli("inventory", "explain", str(inv_id), "--park", "p1", "--line", str(gas["line_no"])).stdout
    assert "fuel.natural_gas" in text and "invoice.pdf" in text and "44/12" in text
    for step in ("submit",):
        cli("inventory", step, str(inv_id), "--park", "p1")
    listed = json.loads(cli("inventory", "list", "--park", "p1", "--format", "json").stdout)
    assert listed[0]["status"] == "submitted"


def test_bad_activity_file_writes_nothing(cli, tmp_path):  # noqa: F811
    setup_park(cli, tmp_path)
    (tmp_path / "activity.csv").write_text(
        "source,period_start,period_end,amount,unit,note\n"
        "steel.gas,2023-01-01T00:00:00+08:00,2023-02-01T00:00:00+08:00,500,Nm3,ok\n"
        "steel.gas,2024-01-01T00:00:00+08:00,2024-02-01T00:00:00+08:00,500,Nm3,next year\n"
        "steel.gas,2023-02-01T00:00:00+08:00,2023-03-01T00:00:00+08:00,-5,Nm3,negative\n"
        "steel.coal,2023-02-01T00:00:00+08:00,2023-03-01T00:00:00+08:00,5,t,unknown source\n"
        "steel.gas,2023-03-01T00:00:00+08:00,2023-04-01T00:00:00+08:00,5,t,wrong unit\n",
        encoding="utf-8",
    )
    out = cli("activity", "import", str(tmp_path / "activity.csv"), "--park", "p1", "--year", "2023", check=False)
    assert out.returncode == 1 and "Traceback" not in out.stderr
    err = " ".join(out.stderr.split())
    assert "row 3" in err and "outside the period 2023" in err
    assert "row 4" in err and "negative amount" in err
    assert "row 5" in err and "steel.coal" in err
    assert "row 6" in err and "measures t" in err
    assert json.loads(cli("activity", "list", "--park", "p1", "--format", "json").stdout) == []


def test_factors_and_regimes(cli, tmp_path):  # noqa: F811
    sets = {r["code"] for r in json.loads(cli("factors", "list", "--format", "json").stdout)}
    assert {"cn-electricity", "gwp", "ipcc-2006-combustion", "desnz-2025"} <= sets
    rows = json.loads(cli("factors", "show", "cn-electricity", "--format", "json").stdout)
    assert any(r["factor_id"] == "electricity.cn.east_china" and r["value"] == "0.55" for r in rows)
    regimes = {r["code"] for r in json.loads(cli("factors", "regimes", "--format", "json").stdout)}
    assert regimes == {"ghg-protocol", "cn-enterprise", "cn-ets", "sh-ets", "zcp-910"}
