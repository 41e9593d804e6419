"""Residents register themselves; the grid worker of their grid verifies or rejects them."""

from __future__ import annotations

from typing import Any

from tests.conftest import COMMUNITY_ADMIN, STAFF, TENANT_ADMIN, WORKER_1, WORKER_2, WORKER_3
from tests.support import Api, TenantHandle, code_of, fresh_phone, gid

QUEUE = """query($after: String) { residentsAwaitingReview(first: 100, after: $after) {
  edges { node { id name phone status room building { name } grid { code } } } pageInfo { hasNextPage endCursor } } }"""
VERIFY = "mutation($id: ID!) { verifyResident(input: {residentId: $id}) { resident { status } errors { field code message } } }"
REJECT = "mutation($id: ID!, $reason: String!) { rejectResident(input: {residentId: $id, reason: $reason}) { resident { status rejectionReason } errors { field code message } } }"
RESIDENT = "query($id: ID!) { node(id: $id) { ... on Resident { name phone status household: room } } }"


async def register(api: Api, alpha: TenantHandle, building: str = "A1-G1-B1", room: str = "1-101") -> dict:  # type: ignore[type-arg]
    result = await api.register_resident("alpha", alpha.buildings[building], room=room, name="李四")
    assert result["errors"] == [], result
    return result


async def queue(api: Api, phone: str) -> list[dict[str, Any]]:
    """The whole queue, page by page: the suite's other tests keep residents waiting too."""
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        page = (await api.data(QUEUE, {"after": after}, token=await api.token("alpha", phone)))[
            "residentsAwaitingReview"
        ]
        nodes += [e["node"] for e in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            return nodes
        after = page["pageInfo"]["endCursor"]


async def queue_ids(api: Api, phone: str) -> set[str]:
    return {node["id"] for node in await queue(api, phone)}


async def test_a_registered_resident_is_signed_in_at_once_and_waits_for_review(api: Api, alpha: TenantHandle) -> None:
    result = await register(api, alpha)
    assert result["resident"]["status"] == "PENDING"
    me = await api.data(
        "{ me { name resident { status room building { name } gridWorker { name } } } }",
        token=result["tokens"]["accessToken"],
    )
    assert me["me"] == {
        "name": "李四",
        "resident": {
            "status": "PENDING",
            "room": "1-101",
            "building": {"name": "1号楼"},
            "gridWorker": {"name": "网格员一"},
        },
    }


async def test_registration_explains_every_bad_field_and_writes_nothing(api: Api) -> None:
    body = await api.data(
        """mutation { registerResident(input: {phone: "12345", phoneCode: "000000", password: "short", name: " ", buildingId: "QnVpbGRpbmc6MDEwMDAwMDAtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAw", room: "1-1"}) {
             resident { id } tokens { accessToken } errors { field code message } } }""",
        tenant="alpha",
    )
    result = body["registerResident"]
    assert result["resident"] is None and result["tokens"] is None
    assert {e["field"] for e in result["errors"]} == {"phone", "password", "name", "buildingId"}
    assert all(e["message"] for e in result["errors"])


async def test_a_phone_already_registered_in_the_tenant_is_refused_but_another_tenant_accepts_it(
    api: Api, alpha: TenantHandle, beta: TenantHandle
) -> None:
    phone = fresh_phone()
    assert (await api.register_resident("alpha", alpha.buildings["A1-G1-B1"], phone=phone))["errors"] == []
    again = await api.register_resident("alpha", alpha.buildings["A1-G1-B2"], phone=phone)
    assert again["errors"] == [{"field": "phone", "code": "PHONE_TAKEN", "message": "该手机号已注册，请直接登录。"}]
    assert (await api.register_resident("beta", beta.buildings["B1-G1-B1"], phone=phone))["errors"] == []


async def test_a_building_of_another_tenant_cannot_be_chosen(api: Api, alpha: TenantHandle) -> None:
    result = await api.register_resident("beta", alpha.buildings["A1-G1-B1"])
    assert [e["field"] for e in result["errors"]] == ["buildingId"]


async def test_the_queue_shows_each_grid_worker_only_their_grids_with_phones_masked(
    api: Api, alpha: TenantHandle
) -> None:
    mine = await register(api, alpha, "A1-G1-B1")
    other = await register(api, alpha, "A1-G2-B1")
    worker_1 = await queue_ids(api, WORKER_1)
    assert mine["resident"]["id"] in worker_1 and other["resident"]["id"] not in worker_1
    assert other["resident"]["id"] in await queue_ids(api, WORKER_2)
    phones = [node["phone"] for node in await queue(api, WORKER_1)]
    assert phones and all("****" in p for p in phones)


async def test_admins_see_their_community_or_the_whole_tenant_with_whole_phones(api: Api, alpha: TenantHandle) -> None:
    in_a1 = await register(api, alpha, "A1-G2-B1")
    in_a2 = await register(api, alpha, "A2-G1-B1")
    community_admin = await queue_ids(api, COMMUNITY_ADMIN)
    assert in_a1["resident"]["id"] in community_admin and in_a2["resident"]["id"] not in community_admin
    assert {in_a1["resident"]["id"], in_a2["resident"]["id"]} <= await queue_ids(api, TENANT_ADMIN)
    node = await api.data(RESIDENT, {"id": in_a2["resident"]["id"]}, token=await api.token("alpha", TENANT_ADMIN))
    assert "****" not in node["node"]["phone"]


async def test_residents_and_staff_have_no_review_queue(api: Api, alpha: TenantHandle) -> None:
    resident = await register(api, alpha)
    callers = {"resident": resident["tokens"]["accessToken"], "staff": await api.token("alpha", STAFF)}
    answered = {}
    for who, token in callers.items():
        body = await api.run(QUEUE, token=token)
        answered[who] = (code_of(body), body["data"])
    assert answered == dict.fromkeys(callers, ("FORBIDDEN", None))


async def test_grid_worker_verifies_and_the_resident_joins_their_household(api: Api, alpha: TenantHandle) -> None:
    first = await register(api, alpha, "A1-G1-B2", room="2-301")
    second = await register(api, alpha, "A1-G1-B2", room="2-301")
    token = await api.token("alpha", WORKER_1)
    verified = [
        (await api.data(VERIFY, {"id": registered["resident"]["id"]}, token=token))["verifyResident"]
        for registered in (first, second)
    ]
    assert verified == [{"resident": {"status": "VERIFIED"}, "errors": []}] * 2
    assert first["resident"]["id"] not in await queue_ids(api, WORKER_1)
    mine = await api.data("{ me { resident { status } } }", token=first["tokens"]["accessToken"])
    assert mine["me"]["resident"]["status"] == "VERIFIED"
    again = (await api.data(VERIFY, {"id": first["resident"]["id"]}, token=token))["verifyResident"]
    assert again["errors"][0]["code"] == "ALREADY_REVIEWED"


async def test_a_grid_worker_of_another_grid_cannot_verify_and_nothing_changes(api: Api, alpha: TenantHandle) -> None:
    registered = await register(api, alpha, "A1-G1-B1")
    result = (await api.data(VERIFY, {"id": registered["resident"]["id"]}, token=await api.token("alpha", WORKER_3)))[
        "verifyResident"
    ]
    assert result == {
        "resident": None,
        "errors": [{"field": "residentId", "code": "NOT_FOUND", "message": "未找到该居民。"}],
    }
    assert registered["resident"]["id"] in await queue_ids(api, WORKER_1)


async def test_residents_cannot_verify_themselves(api: Api, alpha: TenantHandle) -> None:
    registered = await register(api, alpha)
    result = (await api.data(VERIFY, {"id": registered["resident"]["id"]}, token=registered["tokens"]["accessToken"]))[
        "verifyResident"
    ]
    assert result["errors"][0]["code"] == "FORBIDDEN"


async def test_a_grid_worker_of_another_tenant_gets_not_found(api: Api, alpha: TenantHandle) -> None:
    registered = await register(api, alpha)
    result = (await api.data(VERIFY, {"id": registered["resident"]["id"]}, token=await api.token("beta", WORKER_1)))[
        "verifyResident"
    ]
    assert result["errors"][0]["code"] == "NOT_FOUND"
    assert registered["resident"]["id"] in await queue_ids(api, WORKER_1)


async def test_rejection_needs_a_reason_which_the_resident_then_sees(api: Api, alpha: TenantHandle) -> None:
    registered = await register(api, alpha)
    token = await api.token("alpha", WORKER_1)
    empty = (await api.data(REJECT, {"id": registered["resident"]["id"], "reason": " "}, token=token))["rejectResident"]
    assert empty["errors"][0]["field"] == "reason" and registered["resident"]["id"] in await queue_ids(api, WORKER_1)
    done = (await api.data(REJECT, {"id": registered["resident"]["id"], "reason": "查无此房号"}, token=token))[
        "rejectResident"
    ]
    assert done == {"resident": {"status": "REJECTED", "rejectionReason": "查无此房号"}, "errors": []}
    seen = await api.data("{ me { resident { status rejectionReason } } }", token=registered["tokens"]["accessToken"])
    assert seen["me"]["resident"] == {"status": "REJECTED", "rejectionReason": "查无此房号"}


async def test_a_resident_is_visible_to_themself_but_not_to_another_resident(api: Api, alpha: TenantHandle) -> None:
    one = await register(api, alpha)
    two = await register(api, alpha)
    own = await api.data(RESIDENT, {"id": one["resident"]["id"]}, token=one["tokens"]["accessToken"])
    assert own["node"]["name"] == "李四" and "****" not in own["node"]["phone"]
    other = await api.data(RESIDENT, {"id": one["resident"]["id"]}, token=two["tokens"]["accessToken"])
    assert other == {"node": None}


async def test_a_malformed_id_is_an_input_error(api: Api) -> None:
    result = (await api.data(VERIFY, {"id": gid("Community", "x")}, token=await api.token("alpha", WORKER_1)))[
        "verifyResident"
    ]
    assert result["errors"] == [{"field": "residentId", "code": "INVALID_ID", "message": "编号无效。"}]


async def test_an_identity_number_is_checked_and_shown_masked_to_the_grid_worker(api: Api, alpha: TenantHandle) -> None:
    mutation = """mutation($input: RegisterResidentInput!) { registerResident(input: $input) {
      resident { id } tokens { accessToken } errors { field code } } }"""
    phone = fresh_phone()
    values = {
        "phone": phone,
        "phoneCode": await api.phone_code("alpha", phone),
        "password": "Test@2026pw",
        "name": "周先生",
        "buildingId": gid("Building", alpha.buildings["A1-G1-B1"]),
        "room": "1-101",
    }
    wrong = await api.data(mutation, {"input": {**values, "idNumber": "150203199001011235"}}, tenant="alpha")
    assert wrong["registerResident"]["errors"] == [{"field": "idNumber", "code": "INVALID"}]
    done = (await api.data(mutation, {"input": {**values, "idNumber": "15020319900101103x"}}, tenant="alpha"))[
        "registerResident"
    ]
    assert done["errors"] == []
    query = "query($id: ID!) { node(id: $id) { ... on Resident { idNumber } } }"
    own = await api.data(query, {"id": done["resident"]["id"]}, token=done["tokens"]["accessToken"])
    worker = await api.data(query, {"id": done["resident"]["id"]}, token=await api.token("alpha", WORKER_1))
    assert own["node"]["idNumber"] == "15020319900101103X"
    assert worker["node"]["idNumber"] == "150***********103X"
