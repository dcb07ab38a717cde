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
