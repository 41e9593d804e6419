"""Onboarding from manifests: idempotent, all-or-nothing, errors as `file: key.path: what`."""

from __future__ import annotations

import copy
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from models.organisation import Building, Community, Grid
from models.tenants import Tenant
from server.app import create_app
from tenants.context import unit_of_work
from tenants.manifests import MANIFESTS_DIR, ManifestError, load_manifest, parse_manifest
from tenants.onboarding import onboard
from tests.conftest import ALPHA, COMMUNITY_ADMIN, WORKER_1, Wanjia, _handle, settings_for
from tests.provision import ProvisionedDatabase
from tests.support import Api, fresh_phone, gid, staff


def gamma(**changes: object) -> dict:  # type: ignore[type-arg]
    manifest = copy.deepcopy(ALPHA)
    manifest.update({"slug": "gamma", "name": "伽马街道", **changes})
    return manifest


async def count(app, model: type) -> int:  # type: ignore[no-untyped-def]
    async with unit_of_work(app.state.services, tenant=None, viewer=None, writes=False) as ctx:
        assert ctx.session is not None
        return await ctx.session.scalar(select(func.count()).select_from(model))


async def test_rerunning_a_manifest_changes_nothing_and_an_edit_updates_only_that(app, api: Api) -> None:  # type: ignore[no-untyped-def]
    services = app.state.services
    first = await onboard(services, parse_manifest(gamma(), "gamma.toml"))
    assert first.created > 0
    again = await onboard(services, parse_manifest(gamma(), "gamma.toml"))
    assert (again.created, again.updated) == (0, 0) and again.unchanged == first.created
    edited = gamma()
    edited["communities"][1]["name"] = "西湖新社区"
    third = await onboard(services, parse_manifest(edited, "gamma.toml"))
    assert (third.created, third.updated) == (0, 1)
    services.directory.forget()
    data = await api.data("{ communities(first: 10) { edges { node { name } } } }", tenant="gamma")
    assert {e["node"]["name"] for e in data["communities"]["edges"]} == {"东风社区", "西湖新社区"}


async def test_rerunning_a_manifest_keeps_the_roles_the_app_gave_its_staff(app, api: Api) -> None:  # type: ignore[no-untyped-def]
    """A resident appointed building leader and later named staff in the manifest stays a resident
    and a leader: the manifest manages staff roles only."""
    office = await _handle(app, gamma(slug="epsilon", name="艾普西隆街道"))
    building = gid("Building", office.buildings["A1-G1-B1"])
    phone = fresh_phone()
    registered = await api.register_resident("epsilon", office.buildings["A1-G1-B1"], phone=phone, name="楼栋长")
    resident_id = registered["resident"]["id"]
    verify = "mutation($id: ID!) { verifyResident(input: {residentId: $id}) { errors { code } } }"
    verified = await api.data(verify, {"id": resident_id}, token=await api.token("epsilon", WORKER_1))
    assert verified["verifyResident"]["errors"] == []
    appoint = (
        """mutation($input: AppointBuildingLeaderInput!) { appointBuildingLeader(input: $input) { errors { code } } }"""
    )
    term = {"residentId": resident_id, "buildingId": building, "startsOn": "2026-12-01", "endsOn": "2027-11-30"}
    appointed = await api.data(appoint, {"input": term}, token=await api.token("epsilon", COMMUNITY_ADMIN))
    assert appointed["appointBuildingLeader"]["errors"] == []

    named = gamma(slug="epsilon", name="艾普西隆街道")
    named["staff"] = [*named["staff"], staff(phone, "楼栋长", {"role": "staff", "department": "civil"})]
    await onboard(app.state.services, parse_manifest(named, "epsilon.toml"))
    login = await api.login("epsilon", phone)
    me = await api.data("{ me { roles { role } } }", token=login["tokens"]["accessToken"])
    assert sorted(r["role"] for r in me["me"]["roles"]) == ["BUILDING_LEADER", "RESIDENT", "STAFF"]


def test_bad_input_is_reported_as_file_key_path_and_reason() -> None:
    broken = gamma()
    broken["communities"][0]["grids"][1]["code"] = ""
    broken["communities"][1]["grids"][0]["worker"] = "13900009999"
    broken["staff"][1]["roles"][0]["community"] = "ZZ"
    with pytest.raises(ManifestError) as error:
        parse_manifest(broken, "gamma.toml")
    assert error.value.problems[0].startswith("gamma.toml: communities[0].grids[1].code: ")
    broken["communities"][0]["grids"][1]["code"] = "A1-G2"
    with pytest.raises(ManifestError) as error:
        parse_manifest(broken, "gamma.toml")
    assert error.value.problems == [
        "gamma.toml: communities[1].grids[0].worker: 不是 staff 中具有 grid_worker 角色的手机号",
        "gamma.toml: staff[1].roles[0].community: 社区管理员须指明 communities 中的社区代码",
    ]


async def test_onboarding_that_fails_halfway_writes_nothing(app) -> None:  # type: ignore[no-untyped-def]
    services = app.state.services
    manifest = parse_manifest(gamma(slug="delta", name="德尔塔街道"), "delta.toml")
    written = 0

    def crash_halfway(step: int) -> None:
        nonlocal written
        written += step
        if written > manifest.size() // 2:
            raise RuntimeError("connection lost")

    before = [await count(app, model) for model in (Tenant, Community, Grid, Building)]
    with pytest.raises(RuntimeError):
        await onboard(services, manifest, crash_halfway)
    assert [await count(app, model) for model in (Tenant, Community, Grid, Building)] == before


@pytest.mark.parametrize("manifest", sorted(p.name for p in MANIFESTS_DIR.glob("*.toml")))
def test_shipped_manifests_are_valid(manifest: str) -> None:
    loaded = load_manifest(MANIFESTS_DIR / manifest)
    assert loaded.communities and loaded.staff


def test_wanqinglu_is_shaped_like_the_source_story() -> None:
    wanqinglu = load_manifest(MANIFESTS_DIR / "wanqinglu.toml")
    assert len(wanqinglu.communities) == 7
    assert sum(len(c.grids) for c in wanqinglu.communities) == 96
    assert len(wanqinglu.departments) == 5
    assert {c.name for c in wanqinglu.categories} == {
        "环境卫生",
        "物业管理",
        "基础设施",
        "城市管理",
        "疫情防控",
        "其他",
    }


def test_wanjia_tenants_onboard_runs_as_a_command(database: ProvisionedDatabase) -> None:
    """The suite's one run of a `wanjia` command through a real process (the entry point, the
    environment, the imports a command makes in its own body); every other command, of every
    group, is run in-process."""
    env = {
        **os.environ,
        "WANJIA_DATABASE_URL": database.app_url,
        "WANJIA_ARGON2_TIME_COST": "1",
        "WANJIA_ARGON2_MEMORY_KIB": "64",
    }
    done = subprocess.run(
        [sys.executable, "-m", "server.cli", "tenants", "onboard", str(MANIFESTS_DIR / "qingshanlu.toml")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    assert "qingshanlu" in done.stdout


async def test_the_cli_reports_a_bad_file_as_file_key_path_and_reason(wanjia: Wanjia, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('slug = "Bad Slug"\nname = "坏"\n', encoding="utf-8")
    failed = await wanjia("tenants", "onboard", str(bad))
    assert failed.exit_code == 1
    assert failed.stderr.splitlines() == [
        f"{bad}: slug: 格式不对（只能用字母、数字、- 和 _）",
        f"{bad}: communities: 缺少此项",
    ]


async def test_the_cli_onboards_a_street_office_that_the_list_then_shows(wanjia: Wanjia, tmp_path: Path) -> None:
    # A slug no other test onboards: the list can only show it if this onboarding wrote it.
    manifest = tmp_path / "listed.toml"
    manifest.write_text(
        'slug = "cli-listed"\nname = "列表街道"\n\n[[communities]]\ncode = "L1"\nname = "列表社区"\n', encoding="utf-8"
    )
    assert "cli-listed" not in (await wanjia("tenants", "list")).stdout
    done = await wanjia("tenants", "onboard", str(manifest))
    assert done.exit_code == 0, done.output
    assert "cli-listed" in (await wanjia("tenants", "list")).stdout


async def test_a_suspended_street_office_answers_as_unknown_until_resumed(
    database: ProvisionedDatabase, wanjia: Wanjia
) -> None:
    assert (await wanjia("tenants", "onboard", str(MANIFESTS_DIR / "qingshanlu.toml"))).exit_code == 0

    async def status() -> int:
        # A new app each time: none has the office cached from before the command.
        app = create_app(settings_for(database.app_url))
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            response = await client.post(
                "/graphql", json={"query": "{ tenant { name } }"}, headers={"X-Tenant": "qingshanlu"}
            )
        await app.state.engine.dispose()
        return response.status_code

    assert await status() == 200
    assert (await wanjia("tenants", "suspend", "qingshanlu")).exit_code == 0
    assert await status() == 404
    assert (await wanjia("tenants", "resume", "qingshanlu")).exit_code == 0
    assert await status() == 200
    assert (await wanjia("tenants", "suspend", "no-such-office")).exit_code == 1


async def test_shared_hashes_hash_each_initial_password_once_and_every_account_still_signs_in(app, api: Api) -> None:  # type: ignore[no-untyped-def]
    shared: dict[str, str] = {}
    await onboard(app.state.services, parse_manifest(gamma(), "gamma.toml"), shared_hashes=shared)
    await onboard(
        app.state.services, parse_manifest(gamma(slug="delta", name="德尔塔街道"), "delta.toml"), shared_hashes=shared
    )
    assert list(shared) == [ALPHA["staff"][0]["initial_password"]]
    app.state.services.directory.forget()
    for slug in ("gamma", "delta"):
        for member in ALPHA["staff"]:
            assert (await api.login(slug, member["phone"]))["errors"] == [], (slug, member["phone"])
