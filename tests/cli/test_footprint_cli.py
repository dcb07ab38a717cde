"""`parkzero footprint …` as a user runs it: partners, import of a PACT file (all or nothing), the review
lifecycle, sharing and export in either PACT version."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from parkzero.footprint import pact
from tests.cli.test_cli import cli  # noqa: F401 - the fixture
from tests.conftest import SMALL_PARK


def _coil(value: float) -> dict:
    return pact.footprint_from_result(
        version="2",
        product_ids=["urn:pact:p1.parkzero:product-id:coil"],
        product_name="Hot-rolled coil",
        product_description="Hot-rolled coil, EAF route, cradle to gate",
        company_name="Steel Processing Co.",
        company_ids=["urn:pact:company:customcode:vendor-assigned:91310113MA1GKX5N3F"],
        declared_unit="kg",
        pcf_excluding_biogenic=value,
        fossil_ghg_emissions=value,
        reference_period_start=datetime(2025, 1, 1, tzinfo=UTC),
        reference_period_end=datetime(2026, 1, 1, tzinfo=UTC),
        primary_data_share=55.0,
        product_category_cpc="41231",
        geography_country="CN",
        dqi={"coveragePercent": 95, "technologicalDQR": 1, "temporalDQR": 1, "geographicalDQR": 1,
             "completenessDQR": 1, "reliabilityDQR": 1},
    ).to_json()  # fmt: skip


def test_import_review_share_export(cli, tmp_path):  # noqa: F811
    (tmp_path / "park.json").write_text(json.dumps(SMALL_PARK), encoding="utf-8")
    cli("registry", "import", str(tmp_path / "park.json"))
    partner = json.loads(cli("footprint", "partner", "add", "Buyer Co.", "--park", "p1", "--format", "json").stdout)[0]
    assert partner["client_id"].startswith("pact-") and len(partner["client_secret"]) >= 32

    good = tmp_path / "coil.json"
    good.write_text(json.dumps({"data": [_coil(1.85)]}), encoding="utf-8")
    rows = json.loads(
        cli("footprint", "import", str(good), "--park", "p1", "--enterprise", "steel", "--format", "json").stdout
    )
    assert len(rows) == 1 and rows[0]["status"] == "draft" and rows[0]["pcf_kgco2e"] == 1.85
    fid = str(rows[0]["id"])

    # a file with one bad footprint writes nothing and names the field
    broken = _coil(2.0)
    del broken["companyIds"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([_coil(3.0), broken]), encoding="utf-8")
    out = cli("footprint", "import", str(bad), "--park", "p1", "--enterprise", "steel", check=False)
    assert out.returncode == 1 and "companyIds" in out.stderr and "Traceback" not in out.stderr
    listed = json.loads(cli("footprint", "list", "--park", "p1", "--format", "json").stdout)
    assert [r["id"] for r in listed] == [int(fid)]

    # the lifecycle in order; out of order is refused and says why
    early = cli("footprint", "publish", fid, "--park", "p1", check=False)
    assert early.returncode != 0 and "needs verified" in early.stderr
    for action in ("submit", "verify", "publish"):
        cli("footprint", action, fid, "--park", "p1")
    cli("footprint", "share", fid, "--park", "p1", "--partner", partner["client_id"])
    shown = json.loads(cli("footprint", "show", fid, "--park", "p1").stdout)
    assert [e["action"] for e in shown["events"]] == ["create", "submit", "verify", "publish"]

    for version in ("2", "3"):
        target = tmp_path / f"out-v{version}.json"
        cli("footprint", "export", "--park", "p1", "--out", str(target), "--version", version)
        (doc,) = json.loads(target.read_text(encoding="utf-8"))["data"]
        parsed = pact.parse_footprint(doc, version)
        assert parsed.id == shown["pf_id"] or str(parsed.id) == shown["pf_id"]
        pcf = doc["pcf"]
        assert float(pcf["pCfExcludingBiogenic" if version == "2" else "pcfExcludingBiogenicUptake"]) == 1.85
    # the carbon label of the published footprint
    label = tmp_path / "label.pdf"
    url = f"https://park.example/2/footprints/{shown['pf_id']}"
    cli("footprint", "label", fid, "--park", "p1", "--out", str(label), "--url", url, "--lang", "en")
    from pypdf import PdfReader

    text = "".join(page.extract_text() for page in PdfReader(label).pages)
    assert "1.85" in text and "Hot-rolled coil" in text and shown["pf_id"] in text.replace("\n", "")


def test_compute_a_product_system(cli, tmp_path):  # noqa: F811
    from parkzero.registry import io as registry_io
    from parkzero.registry.scope import Scope
    from parkzero.store import open_store
    from tests.footprint.test_systems import document, make_plant

    with open_store(f"duckdb:///{tmp_path / 'p.duckdb'}") as store:  # the database the command is configured with
        registry_io.import_registry(store, Scope.system(), SMALL_PARK)
        _, pf_id = make_plant(store)
    (tmp_path / "system.json").write_text(json.dumps(document(pf_id)), encoding="utf-8")
    out = cli("footprint", "compute", str(tmp_path / "system.json"), "--park", "p1", "--product", "coil",
              "--format", "json")  # fmt: skip
    footprints_part, hot_part = out.stdout.split("\n]\n", 1)
    values = {r["product"]: r["kgco2e_per_unit"] for r in json.loads(footprints_part + "\n]")}
    # the figures of tests/footprint/test_systems.py: 43,865.2 kgCO2e / 1,250 t and 43,438.68 / 900 t
    assert values["billet"] == pytest.approx(35.09216) and values["coil"] == pytest.approx(48.2652)
    hot = json.loads(hot_part)
    assert sum(r["kgco2e"] for r in hot) == pytest.approx(48.2652, abs=1e-5)
    assert hot[0]["share_pct"] >= hot[-1]["share_pct"]  # biggest first
    bad = cli("footprint", "compute", str(tmp_path / "nope.json"), "--park", "p1", check=False)
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    # no co-product process in this system: the sensitivity table is empty, and says so by being empty
    sens = cli("footprint", "compute", str(tmp_path / "system.json"), "--park", "p1", "--product", "coil",
               "--sensitivity", "--format", "csv")  # fmt: skip
    assert sens.returncode == 0 and "billet" in sens.stdout and "Traceback" not in sens.stderr
