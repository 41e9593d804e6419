"""What a resident does for themself: reset a forgotten password with a code sent to their phone,
change their password, correct their name or move to another room."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import STAFF, WORKER_1
from tests.support import PASSWORD, Api, TenantHandle, fresh_phone, gid

RESET = """mutation($input: ResetPasswordInput!) { resetPassword(input: $input) {
  tokens { accessToken refreshToken } errors { field code message } } }"""
CHANGE = """mutation($input: ChangePasswordInput!) { changePassword(input: $input) {
  tokens { accessToken refreshToken } errors { field code message } } }"""
PROFILE = """mutation($input: UpdateMyProfileInput!) { updateMyProfile(input: $input) {
  resident { name status room building { name } } errors { field code message } } }"""
REFRESH = "mutation($t: String!) { refreshToken(input: {refreshToken: $t}) { errors { code } } }"
VERIFY = "mutation($id: ID!) { verifyResident(input: {residentId: $id}) { resident { status } errors { code } } }"
NEW_PASSWORD = "New@2026password"


async def resident(api: Api, alpha: TenantHandle, building: str = "A1-G1-B1") -> tuple[str, dict[str, Any]]:
    phone = fresh_phone()
    registered = await api.register_resident("alpha", alpha.buildings[building], phone=phone, name="孙八")
    assert registered["errors"] == []
    return phone, registered


async def works(api: Api, token: str) -> bool:
    return (await api.post("{ me { name } }", token=token)).status_code == 200


async def reset(api: Api, phone: str, code: str, password: str = NEW_PASSWORD) -> dict[str, Any]:
    values = {"phone": phone, "phoneCode": code, "newPassword": password}
    return (await api.data(RESET, {"input": values}, tenant="alpha"))["resetPassword"]


async def test_a_forgotten_password_is_reset_with_a_code_and_every_old_session_ends(
    api: Api, alpha: TenantHandle
) -> None:
    phone, registered = await resident(api, alpha)
    old = registered["tokens"]
    result = await reset(api, phone, await api.phone_code("alpha", phone, "RESET_PASSWORD"))
    assert result["errors"] == []
    assert await works(api, result["tokens"]["accessToken"])
    assert not await works(api, old["accessToken"])
    assert (await api.data(REFRESH, {"t": old["refreshToken"]}, tenant="alpha"))["refreshToken"]["errors"]
    assert (await api.login("alpha", phone, PASSWORD))["errors"][0]["code"] == "INVALID_CREDENTIALS"
    assert (await api.login("alpha", phone, NEW_PASSWORD))["errors"] == []


async def test_a_reset_lifts_the_lock_out_of_the_phone(api: Api, alpha: TenantHandle) -> None:
    phone, _ = await resident(api, alpha)
    for _ in range(6):
        await api.login("alpha", phone, "forgotten")
    assert (await api.login("alpha", phone, PASSWORD))["errors"][0]["code"] == "ACCOUNT_LOCKED"
    assert (await reset(api, phone, await api.phone_code("alpha", phone, "RESET_PASSWORD")))["errors"] == []
    assert (await api.login("alpha", phone, NEW_PASSWORD))["errors"] == []


@pytest.mark.parametrize(
    ("purpose", "password", "errors"),
    [
        ("REGISTER", NEW_PASSWORD, [{"field": "phoneCode", "code": "CODE_INVALID"}]),
        ("RESET_PASSWORD", "short", [{"field": "newPassword", "code": "INVALID"}]),
    ],
)
async def test_a_reset_needs_the_reset_code_and_a_good_password(
    api: Api, alpha: TenantHandle, purpose: str, password: str, errors: list[dict[str, str]]
) -> None:
    phone, _ = await resident(api, alpha)
    result = await reset(api, phone, await api.phone_code("alpha", phone, purpose), password)
    assert [{"field": e["field"], "code": e["code"]} for e in result["errors"]] == errors
    assert (await api.login("alpha", phone, PASSWORD))["errors"] == []


async def test_a_reset_for_a_phone_without_an_account_says_so_only_to_its_owner(api: Api) -> None:
    phone = fresh_phone()
    assert [e["code"] for e in (await reset(api, phone, "123456"))["errors"]] == ["CODE_INVALID"]
    result = await reset(api, phone, await api.phone_code("alpha", phone, "RESET_PASSWORD"))
    assert [e["code"] for e in result["errors"]] == ["NO_ACCOUNT"]


async def test_changing_the_password_needs_the_current_one_and_ends_the_other_sessions(
    api: Api, alpha: TenantHandle
) -> None:
    phone, registered = await resident(api, alpha)
    other_device = (await api.login("alpha", phone))["tokens"]
    token = registered["tokens"]["accessToken"]
    wrong = await api.data(CHANGE, {"input": {"currentPassword": "guess", "newPassword": NEW_PASSWORD}}, token=token)
    assert wrong["changePassword"]["errors"] == [
        {"field": "currentPassword", "code": "WRONG_PASSWORD", "message": "当前密码不正确。"}
    ]
    changed = await api.data(CHANGE, {"input": {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}}, token=token)
    assert changed["changePassword"]["errors"] == []
    assert await works(api, changed["changePassword"]["tokens"]["accessToken"])
    assert not await works(api, other_device["accessToken"])
    assert (await api.data(REFRESH, {"t": other_device["refreshToken"]}, tenant="alpha"))["refreshToken"]["errors"]
    assert (await api.login("alpha", phone, NEW_PASSWORD))["errors"] == []


async def test_guessing_the_current_password_is_throttled_like_a_login(api: Api, alpha: TenantHandle) -> None:
    _, registered = await resident(api, alpha)
    token = registered["tokens"]["accessToken"]
    codes = []
    for i in range(6):
        body = await api.data(CHANGE, {"input": {"currentPassword": f"g{i}", "newPassword": NEW_PASSWORD}}, token=token)
        codes.append(body["changePassword"]["errors"][0]["code"])
    assert codes == ["WRONG_PASSWORD"] * 5 + ["ACCOUNT_LOCKED"]


async def test_changing_the_password_needs_a_signed_in_caller(api: Api) -> None:
    body = await api.data(CHANGE, {"input": {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}}, tenant="alpha")
    assert body["changePassword"]["errors"][0]["code"] == "UNAUTHENTICATED"


async def test_a_resident_corrects_their_name_without_losing_their_verification(api: Api, alpha: TenantHandle) -> None:
    _, registered = await resident(api, alpha)
    await api.data(VERIFY, {"id": registered["resident"]["id"]}, token=await api.token("alpha", WORKER_1))
    token = registered["tokens"]["accessToken"]
    body = await api.data(PROFILE, {"input": {"name": "  孙小八 "}}, token=token)
    assert body["updateMyProfile"] == {
        "resident": {"name": "孙小八", "status": "VERIFIED", "room": "1-101", "building": {"name": "1号楼"}},
        "errors": [],
    }


async def test_a_resident_who_moves_waits_for_verification_again(api: Api, alpha: TenantHandle) -> None:
    _, registered = await resident(api, alpha)
    await api.data(VERIFY, {"id": registered["resident"]["id"]}, token=await api.token("alpha", WORKER_1))
    token = registered["tokens"]["accessToken"]
    moved = {"buildingId": gid("Building", alpha.buildings["A1-G2-B1"]), "room": "5-502"}
    body = await api.data(PROFILE, {"input": moved}, token=token)
    assert body["updateMyProfile"]["resident"] == {
        "name": "孙八",
        "status": "PENDING",
        "room": "5-502",
        "building": {"name": "3号楼"},
    }
    me = await api.data("{ me { resident { gridWorker { name } } } }", token=token)
    assert me["me"]["resident"]["gridWorker"] == {"name": "网格员二"}


@pytest.mark.parametrize(
    ("change", "field"),
    [({"name": " "}, "name"), ({"room": ""}, "room"), ({"buildingId": "other-tenant"}, "buildingId")],
)
async def test_a_bad_profile_change_changes_nothing(
    api: Api, alpha: TenantHandle, beta: TenantHandle, change: dict[str, str], field: str
) -> None:
    _, registered = await resident(api, alpha)
    if change.get("buildingId") == "other-tenant":
        change = {"buildingId": gid("Building", beta.buildings["B1-G1-B1"])}
    token = registered["tokens"]["accessToken"]
    body = await api.data(PROFILE, {"input": change}, token=token)
    assert [e["field"] for e in body["updateMyProfile"]["errors"]] == [field]
    me = await api.data("{ me { name resident { room status } } }", token=token)
    assert me["me"] == {"name": "孙八", "resident": {"room": "1-101", "status": "PENDING"}}


async def test_only_residents_have_a_profile_to_update(api: Api) -> None:
    body = await api.data(PROFILE, {"input": {"name": "改名"}}, token=await api.token("alpha", STAFF))
    assert body["updateMyProfile"]["errors"][0]["code"] == "FORBIDDEN"
