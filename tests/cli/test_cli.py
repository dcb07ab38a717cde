"""The `parkzero` command as a user runs it: real process, real DuckDB file, no traceback without --debug."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.conftest import SMALL_PARK


@pytest.fixture
def cli(tmp_path):
    env = {
        **os.environ,
        "PARKZERO_DATA_DIR": str(tmp_path),
        "PARKZERO_DATABASE_URL": f"duckdb:///{tmp_path / 'p.duckdb'}",
    }

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        out = subprocess.run(
            [sys.executable, "-m", "parkzero", *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
        if check and out.returncode != 0:
            raise AssertionError(f"exit {out.returncode}: {out.stderr}")
        return out

    return run


def test_registry_import_list_export(cli, tmp_path):
    doc = tmp_path / "park.json"
    doc.write_text(json.dumps(SMALL_PARK, ensure_ascii=False), encoding="utf-8")
    cli("registry", "import", str(doc))
    rows = json.loads(cli("registry", "list", "channels", "--park", "p1", "--format", "json").stdout)
    assert {r["code"] for r in rows} == {"steel.main", "steel.eaf", "steel.gas", "office.main", "pv1.gen"}
    csv_out = cli("registry", "list", "parks", "--format", "csv").stdout.splitlines()
    assert csv_out[0].startswith("id,code,name") and ",p1,Test Park," in csv_out[1]
    exported = json.loads(cli("registry", "export", "--park", "p1").stdout)
    steel = next(e for e in exported["parks"][0]["enterprises"] if e["code"] == "steel")
    assert steel["credit_code"] == "91310113MA1GKX5N3F"


def test_user_error_is_one_line_without_traceback(cli, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "parkzero-registry", "version": 1, "parks": [{"code": "x"}]}', encoding="utf-8")
    out = cli("registry", "import", str(bad), check=False)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert "name is required" in out.stderr and "timezone is required" in out.stderr
    debug = cli("--debug", "registry", "import", str(bad), check=False)
    assert "Traceback" in debug.stderr


def test_readings_query_needs_zone(cli, tmp_path):
    doc = tmp_path / "park.json"
    doc.write_text(json.dumps(SMALL_PARK), encoding="utf-8")
    cli("registry", "import", str(doc))
    out = cli(
        "readings",
        "query",
        "-p",
        "p1",
        "-c",
        "office.main",
        "--start",
        "2025-03-01T00:00",
        "--end",
        "2025-03-02T00:00+08:00",
        check=False,
    )
    assert out.returncode == 1 and "needs a time zone offset" in out.stderr and "Traceback" not in out.stderr


def test_users_and_db_commands(cli, tmp_path):
    doc = tmp_path / "park.json"
    doc.write_text(json.dumps(SMALL_PARK), encoding="utf-8")
    cli("registry", "import", str(doc))
    cli(
        "users",
        "create",
        "alice",
        "--role",
        "enterprise",
        "--park",
        "p1",
        "--enterprise",
        "steel",
        "--password",
        "correct-horse",
    )
    users = json.loads(cli("users", "list", "--format", "json").stdout)
    assert [(u["username"], u["role"]) for u in users] == [("alice", "enterprise")]
    key = cli("users", "api-key", "gw1", "--park", "p1").stdout.strip()
    assert key.startswith("pzk_")
    assert "schema at version" in cli("db", "upgrade").stderr
    assert "no problems" in cli("db", "check").stderr


def test_saved_mapping_is_reused_by_ingest(cli, tmp_path):
    doc = tmp_path / "park.json"
    doc.write_text(json.dumps(SMALL_PARK), encoding="utf-8")
    cli("registry", "import", str(doc))
    mapping = tmp_path / "ems.json"
    mapping.write_text(
        json.dumps(
            {"name": "ems", "unit": "万kWh", "timezone": "Asia/Shanghai", "channel_map": {"1#进线": "office.main"}},
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    cli("mappings", "save", str(mapping), "--park", "p1")
    assert [m["name"] for m in json.loads(cli("mappings", "list", "-p", "p1", "-f", "json").stdout)] == ["ems"]
    data = tmp_path / "export.csv"
    data.write_text(
        "时间,表计,数值\n2025-03-01 00:00,1#进线,0.0012\n2025-03-01 00:15,1#进线,0.0015\n", encoding="utf-8"
    )
    (report,) = json.loads(cli("ingest", str(data), "--park", "p1", "--mapping", "ems", "-f", "json").stdout)
    assert report["inserted"] == 2
    out = json.loads(
        cli(
            "readings",
            "query",
            "-p",
            "p1",
            "-c",
            "office.main",
            "--start",
            "2025-03-01T00:00+08:00",
            "--end",
            "2025-03-01T00:30+08:00",
            "--resolution",
            "PT15M",
            "-f",
            "json",
        ).stdout
    )
    # 0.0012 万kWh = 12 kWh and 0.0015 万kWh = 15 kWh, local time from the mapping's zone
    assert [(r["ts"], round(r["value"], 9)) for r in out] == [
        ("2025-03-01T00:00:00+08:00", 12.0),
        ("2025-03-01T00:15:00+08:00", 15.0),
    ]
