"""Grid workers' badges: a resident scans one to register in the worker's grid; a badge can be
revoked; `wanjia qr badges` prints them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from tests.conftest import COMMUNITY_ADMIN, TENANT_ADMIN, WORKER_1, WORKER_2, WORKER_3, Wanjia
from tests.support import PASSWORD, Api, TenantHandle, fresh_phone, gid

MY_BADGES = "{ myBadges { token qrPayload gridName communityName workerName grid { name } } }"
SCANNED = "query($t: String!) { registrationBadge(token: $t) { workerName communityName grid { name buildings(first: 5) { edges { node { name } } } } } }"
REGISTER = """mutation($input: RegisterResidentInput!) { registerResident(input: $input) {
  resident { id status grid { name } } tokens { accessToken } errors { field code message } } }"""
REVOKE = "mutation($input: RevokeBadgeInput!) { revokeBadge(input: $input) { revoked errors { field code message } } }"


async def badge_of(api: Api, phone: str) -> dict[str, Any]:
    [badge] = (await api.data(MY_BADGES, token=await api.token("alpha", phone)))["myBadges"]
    return badge


async def register(api: Api, building: Any, badge: str, tenant: str = "alpha") -> dict[str, Any]:
    phone = fresh_phone()
    values = {
        "phone": phone,
        "phoneCode": await api.phone_code(tenant, phone),
        "password": PASSWORD,
        "name": "扫码居民",
        "buildingId": gid("Building", building),
        "room": "2-301",
        "badge": badge,
    }
    return (await api.data(REGISTER, {"input": values}, tenant=tenant))["registerResident"]


async def test_a_resident_registers_by_scanning_their_grid_workers_badge(api: Api, alpha: TenantHandle) -> None:
    badge = await badge_of(api, WORKER_1)
    assert badge["gridName"] == "东风一网格" and badge["workerName"] == "网格员一"
    assert "?badge=" in badge["qrPayload"] and badge["qrPayload"].endswith(badge["token"])
    scanned = (await api.data(SCANNED, {"t": badge["token"]}, tenant="alpha"))["registrationBadge"]
    assert scanned["workerName"] == "网格员一" and scanned["grid"]["name"] == "东风一网格"
    assert [e["node"]["name"] for e in scanned["grid"]["buildings"]["edges"]] == ["1号楼", "2号楼"]
    assert (await api.data(SCANNED, {"t": badge["token"]}, tenant="beta"))["registrationBadge"] is None
    registered = await register(api, alpha.buildings["A1-G1-B2"], badge["token"])
    assert registered["errors"] == [] and registered["resident"]["status"] == "PENDING"
    me = await api.data("{ me { resident { referrer { name } } } }", token=registered["tokens"]["accessToken"])
    assert me["me"]["resident"]["referrer"]["name"] == "网格员一"
    worker = await api.token("alpha", WORKER_1)
    queue = await api.data(
        "{ residentsAwaitingReview(first: 100) { edges { node { id referrer { name } } } } }", token=worker
    )
    assert registered["resident"]["id"] in [e["node"]["id"] for e in queue["residentsAwaitingReview"]["edges"]]
    notes = await api.data("{ notifications(first: 20) { edges { node { kind } } } }", token=worker)
    assert "RESIDENT_REGISTERED" in [e["node"]["kind"] for e in notes["notifications"]["edges"]]


@pytest.mark.parametrize(
    ("building", "token_change", "tenant", "field", "code"),
    [
        ("A1-G2-B1", None, "alpha", "buildingId", "INVALID"),  # not the badge's grid
        ("A1-G1-B1", "tampered", "alpha", "badge", "INVALID_BADGE"),
        ("A1-G1-B1", "garbage", "alpha", "badge", "INVALID_BADGE"),
    ],
)
async def test_a_badge_registers_only_into_its_own_grid_and_only_as_signed(
    api: Api, alpha: TenantHandle, building: str, token_change: str | None, tenant: str, field: str, code: str
) -> None:
    token = (await badge_of(api, WORKER_1))["token"]
    if token_change == "tampered":
        token = token[:10] + ("A" if token[10] != "A" else "B") + token[11:]
    elif token_change == "garbage":
        token = "不是工作牌"
    refused = await register(api, alpha.buildings[building], token, tenant)
    assert refused["resident"] is None
    assert (refused["errors"][0]["field"], refused["errors"][0]["code"]) == (field, code)


async def test_another_street_offices_badge_is_refused(api: Api, alpha: TenantHandle, beta: TenantHandle) -> None:
    token = (await badge_of(api, WORKER_1))["token"]
    refused = await register(api, beta.buildings["B1-G1-B1"], token, "beta")
    assert refused["errors"][0]["code"] == "INVALID_BADGE"


async def test_a_revoked_badge_stops_working_and_its_replacement_works(api: Api, alpha: TenantHandle) -> None:
    old = (await badge_of(api, WORKER_2))["token"]
    assert (await api.data(REVOKE, {"input": {}}, token=await api.token("alpha", WORKER_2)))["revokeBadge"] == {
        "revoked": True,
        "errors": [],
    }
    assert (await api.data(SCANNED, {"t": old}, tenant="alpha"))["registrationBadge"] is None
    assert (await register(api, alpha.buildings["A1-G2-B1"], old))["errors"][0]["code"] == "INVALID_BADGE"
    new = (await badge_of(api, WORKER_2))["token"]
    assert new != old and (await register(api, alpha.buildings["A1-G2-B1"], new))["errors"] == []
    by_admin = await api.data(
        REVOKE,
        {"input": {"gridId": gid("Grid", alpha.grids["A1-G2"])}},
        token=await api.token("alpha", COMMUNITY_ADMIN),
    )
    assert by_admin["revokeBadge"]["revoked"] is True
    assert (await api.data(SCANNED, {"t": new}, tenant="alpha"))["registrationBadge"] is None


@pytest.mark.parametrize(
    ("tenant", "phone", "grid", "code"),
    [
        ("alpha", COMMUNITY_ADMIN, "A2-G1", "NOT_FOUND"),  # another community's grid
        ("alpha", WORKER_3, "A1-G2", "NOT_FOUND"),  # another worker's grid
        ("beta", TENANT_ADMIN, "A1-G2", "NOT_FOUND"),
        ("alpha", TENANT_ADMIN, "A2-G2", "NO_WORKER"),
    ],
)
async def test_who_may_not_revoke_which_badge(
    api: Api, alpha: TenantHandle, tenant: str, phone: str, grid: str, code: str
) -> None:
    token = (await badge_of(api, WORKER_3))["token"]
    refused = await api.data(
        REVOKE, {"input": {"gridId": gid("Grid", alpha.grids[grid])}}, token=await api.token(tenant, phone)
    )
    assert refused["revokeBadge"]["errors"][0]["code"] == code
    assert (await api.data(SCANNED, {"t": token}, tenant="alpha"))["registrationBadge"] is not None


async def test_a_resident_has_no_badge_to_revoke(api: Api, alpha: TenantHandle) -> None:
    registered = await api.register_resident("alpha", alpha.buildings["A1-G1-B1"])
    refused = await api.data(REVOKE, {"input": {}}, token=registered["tokens"]["accessToken"])
    assert refused["revokeBadge"]["errors"][0]["code"] == "FORBIDDEN"


async def test_the_qr_command_prints_a_png_and_an_svg_badge_per_grid_worker(
    wanjia: Wanjia, alpha: TenantHandle, tmp_path: Path
) -> None:
    done = await wanjia(
        "qr",
        "badges",
        "--tenant",
        "alpha",
        "--out",
        str(tmp_path),
        "--register-url",
        "https://alpha.example.gov.cn/register",
    )
    assert done.exit_code == 0, done.output
    names = sorted(p.name for p in tmp_path.iterdir())  # noqa: ASYNC240 - the test's own tmp dir
    assert names == [
        "A1-G1-网格员一.png",
        "A1-G1-网格员一.svg",
        "A1-G2-网格员二.png",
        "A1-G2-网格员二.svg",
        "A2-G1-网格员三.png",
        "A2-G1-网格员三.svg",
    ]
    with Image.open(tmp_path / "A1-G1-网格员一.png") as image:
        assert image.size == (640, 900)
        # The QR code's quiet zone and finder pattern: white around, black at its top left.
        assert image.getpixel((101, 181)) == (255, 255, 255)
    drawing = (tmp_path / "A1-G1-网格员一.svg").read_text(encoding="utf-8")
    assert "网格员一" in drawing and "东风社区 · 东风一网格" in drawing and "阿尔法街道" in drawing
    unknown = await wanjia(
        "qr", "badges", "--tenant", "nowhere", "--out", str(tmp_path), "--register-url", "https://x.example/r"
    )
    assert unknown.exit_code == 1
    nowhere_to_point = await wanjia("qr", "badges", "--tenant", "alpha", "--out", str(tmp_path))
    assert nowhere_to_point.exit_code == 2
