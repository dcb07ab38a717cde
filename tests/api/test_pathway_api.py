"""Road-to-zero routes: targets with progress, recognitions, the district view for regulators."""

from __future__ import annotations

from parkzero.api.security import issue_token
from parkzero.registry import users as users_mod
from tests.api.conftest import PASSWORD, SECRET, SYSTEM, World, assert_problem


def district_regulator(world: World) -> dict[str, str]:
    users_mod.create_user(world.store, SYSTEM, "district-user", PASSWORD, "regulator")  # no park: the district
    return {"Authorization": f"Bearer {issue_token('district-user', SECRET, 60)}"}


def test_targets_answer_with_their_standing(world: World):
    got = world.call("steel", "GET", "parks/p1/targets").json()["data"]
    assert [t["code"] for t in got] == ["steel-cap-2035"]
    # steel has an open draft inventory only: nothing closed to judge on yet
    assert got[0]["progress"] is None and got[0]["reason"] == "no closed inventory yet"
    bad = world.call("op", "POST", "parks/p1/targets",
                     json={"code": "p1-cap", "subject": "p1", "kind": "absolute_cap", "target_year": 2010,
                           "value": 5.0})  # fmt: skip
    problem = assert_problem(bad, 422)
    assert "p1-cap: target_year" in str(problem) and "past" in str(problem)
    missing = world.call("op", "POST", "parks/p1/targets",
                         json={"code": "p1-cap", "subject": "p1", "kind": "absolute_cap", "target_year": 2040})  # fmt: skip
    assert "p1-cap: value" in str(assert_problem(missing, 422))


def test_district_side_by_side_for_regulators_only(world: World):
    headers = district_regulator(world)
    whole = world.client.get("/api/v1/district", headers=headers)
    assert whole.status_code == 200, whole.text
    assert [p["park"] for p in whole.json()["data"]] == ["farpark", "p1"]
    # the park regulator sees its own park only, and no tenant appears in either answer
    own = world.call("regulator", "GET", "district").json()["data"]
    assert [p["park"] for p in own] == ["p1"]
    for text in (whole.text, world.call("regulator", "GET", "district").text):
        assert "steel" not in text and "office" not in text
    # a regulator may read the park's recognitions but not record one
    assert world.call("regulator", "GET", "parks/p1/recognitions").json()["count"] == 2
    refused = world.call("regulator", "POST", "parks/p1/recognitions",
                         json={"holder": "p1", "kind": "zero_carbon_park", "level": "municipal", "year": 2025,
                               "issuer": "上海市发展和改革委员会", "evidence": ["list"]})  # fmt: skip
    assert_problem(refused, 403)
