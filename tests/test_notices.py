"""Notices (通知公告) through the endpoint: who may post where, who sees them, read receipts and
confirmations (已阅), counts of who has not read computed over the audience as it is, the
audience told in a fixed number of statements whatever its size."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from models.database import counting_statements
from tests.conftest import COMMUNITY_ADMIN, OTHER_COMMUNITY_ADMIN, TENANT_ADMIN, WORKER_1
from tests.support import Api, Clock, TenantHandle, gid
from tests.test_leaders import fresh_token, leader_of, verified

NOW = datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
NOTICE = "notice { id title scope isPublic requiresConfirmation readCounts { audience read unread confirmed } } errors { field code message }"
POST = f"mutation($input: PostNoticeInput!) {{ postNotice(input: $input) {{ {NOTICE} }} }}"
READ = f"mutation($input: NoticeReceiptInput!) {{ markNoticeRead(input: $input) {{ {NOTICE} }} }}"
CONFIRM = f"mutation($input: NoticeReceiptInput!) {{ confirmNotice(input: $input) {{ {NOTICE} }} }}"
SEEN = "query($id: ID!) { node(id: $id) { ... on Notice { id viewerReadAt viewerConfirmedAt } } }"
COUNTS = """query($id: ID!) { node(id: $id) { ... on Notice { readCounts { audience read unread confirmed }
  receipts(first: 100) { totalCount edges { node { reader { name phone } readAt confirmedAt } } } } } }"""


@pytest.fixture(autouse=True)
def frozen(clock: Clock) -> Iterator[None]:
    with clock.at(NOW):
        yield


async def post(api: Api, token: str, **values: Any) -> dict[str, Any]:
    body = {"title": "停水通知", "body": "12月3日9:00–17:00检修管道，届时停水。", **values}
    return dict((await api.data(POST, {"input": body}, token=token))["postNotice"])


def buildings(alpha: TenantHandle, *codes: str) -> dict[str, Any]:
    return {"scope": "BUILDINGS", "buildingIds": [gid("Building", alpha.buildings[c]) for c in codes]}


async def receipt(api: Api, document: str, name: str, phone: str, notice_id: str) -> dict[str, Any]:
    return dict(
        (await api.data(document, {"input": {"noticeId": notice_id}}, token=await api.token("alpha", phone)))[name]
    )


async def counts(api: Api, token: str, notice_id: str) -> dict[str, Any]:
    return dict((await api.data(COUNTS, {"id": notice_id}, token=token))["node"])


async def test_read_counts_are_exact_over_the_audience(api: Api, alpha: TenantHandle) -> None:
    readers = [await verified(api, alpha, "A1-G2-B1", name=f"读者{n}") for n in range(3)]
    admin = await api.token("alpha", COMMUNITY_ADMIN)
    posted = await post(api, admin, requiresConfirmation=True, **buildings(alpha, "A1-G2-B1"))
    assert posted["errors"] == [], posted
    notice_id = posted["notice"]["id"]
    audience = posted["notice"]["readCounts"]["audience"]
    assert audience >= 3
    assert posted["notice"]["readCounts"] == {"audience": audience, "read": 0, "unread": audience, "confirmed": 0}

    (first, _), (second, _), (third, _) = readers
    assert (await receipt(api, READ, "markNoticeRead", first, notice_id))["errors"] == []
    assert (await receipt(api, READ, "markNoticeRead", first, notice_id))["errors"] == []  # again: nothing changes
    assert (await receipt(api, CONFIRM, "confirmNotice", second, notice_id))["errors"] == []
    found = await counts(api, admin, notice_id)
    assert found["readCounts"] == {"audience": audience, "read": 2, "unread": audience - 2, "confirmed": 1}
    assert found["receipts"]["totalCount"] == 2
    assert [e["node"]["reader"]["name"] for e in found["receipts"]["edges"]] == ["读者0", "读者1"]
    assert [bool(e["node"]["confirmedAt"]) for e in found["receipts"]["edges"]] == [False, True]
    # The admin over the readers' community sees their phones whole.
    assert [e["node"]["reader"]["phone"] for e in found["receipts"]["edges"]] == [first, second]
    mine = (await api.data(SEEN, {"id": notice_id}, token=await api.token("alpha", second)))["node"]
    assert mine["viewerReadAt"] and mine["viewerConfirmedAt"]

    # One more resident moves in: the audience grows, nothing else changes.
    await verified(api, alpha, "A1-G2-B1")
    assert (await counts(api, admin, notice_id))["readCounts"] == {
        "audience": audience + 1,
        "read": 2,
        "unread": audience - 1,
        "confirmed": 1,
    }
    # Counts and receipts are the poster's and admins' only.
    assert (await counts(api, await api.token("alpha", third), notice_id))["readCounts"] is None
    assert (await counts(api, await api.token("alpha", third), notice_id))["receipts"]["edges"] == []
    assert (await counts(api, await api.token("alpha", TENANT_ADMIN), notice_id))["readCounts"]["read"] == 2


async def test_residents_see_what_reaches_their_home_and_anonymous_callers_what_is_public(
    api: Api, alpha: TenantHandle
) -> None:
    inside, _ = await verified(api, alpha, "A1-G2-B1")
    outside, _ = await verified(api, alpha, "A1-G1-B1")
    admin = await api.token("alpha", COMMUNITY_ADMIN)
    private = (await post(api, admin, title="楼内通知", **buildings(alpha, "A1-G2-B1")))["notice"]["id"]
    public = (await post(api, admin, title="公开通知", isPublic=True, **buildings(alpha, "A1-G2-B1")))["notice"]["id"]
    grid = (await post(api, admin, title="网格通知", scope="GRIDS", gridIds=[gid("Grid", alpha.grids["A1-G1"])]))[
        "notice"
    ]["id"]
    community = (
        await post(
            api, admin, title="社区通知", scope="COMMUNITY", communityId=gid("Community", alpha.communities["A1"])
        )
    )["notice"]["id"]
    street = (await post(api, await api.token("alpha", TENANT_ADMIN), title="街道通知", scope="STREET"))["notice"]["id"]

    async def visible(**who: Any) -> set[str]:
        listed = await api.data("{ notices(first: 100) { edges { node { id } } } }", **who)
        return {e["node"]["id"] for e in listed["notices"]["edges"]}

    assert {private, public, community, street} <= await visible(token=await api.token("alpha", inside))
    assert grid not in await visible(token=await api.token("alpha", inside))
    assert {public, grid, community, street} <= await visible(token=await api.token("alpha", outside))
    assert private not in await visible(token=await api.token("alpha", outside))
    anonymous = await visible(tenant="alpha")
    assert public in anonymous and not {private, grid, community, street} & anonymous
    assert not {private, public, community, grid, street} & await visible(token=await api.token("beta", TENANT_ADMIN))
    assert not {private, grid} & await visible(token=await api.token("alpha", OTHER_COMMUNITY_ADMIN))

    refused = await receipt(api, READ, "markNoticeRead", outside, private)
    assert [e["code"] for e in refused["errors"]] == ["NOT_FOUND"]
    public_elsewhere = await receipt(api, READ, "markNoticeRead", outside, public)
    assert [e["code"] for e in public_elsewhere["errors"]] == ["NOT_IN_AUDIENCE"]
    not_asked = await receipt(api, CONFIRM, "confirmNotice", inside, private)
    assert [e["code"] for e in not_asked["errors"]] == ["INVALID"]
    beta = await api.data(READ, {"input": {"noticeId": private}}, token=await api.token("beta", TENANT_ADMIN))
    assert beta["markNoticeRead"]["notice"] is None


@pytest.mark.parametrize(
    ("phone", "where", "code"),
    [
        (COMMUNITY_ADMIN, {"scope": "STREET"}, "FORBIDDEN"),
        (OTHER_COMMUNITY_ADMIN, {"scope": "COMMUNITY", "community": "A1"}, "OUT_OF_SCOPE"),
        (OTHER_COMMUNITY_ADMIN, {"scope": "BUILDINGS", "buildings": ["A1-G1-B1"]}, "OUT_OF_SCOPE"),
        (TENANT_ADMIN, {"scope": "BUILDINGS", "buildings": ["A1-G1-B1", "A2-G1-B1"]}, "INVALID"),
        (WORKER_1, {"scope": "BUILDINGS", "buildings": ["A1-G1-B1"]}, "FORBIDDEN"),
    ],
)
async def test_who_may_post_where(api: Api, alpha: TenantHandle, phone: str, where: dict[str, Any], code: str) -> None:
    values: dict[str, Any] = {"scope": where["scope"]}
    if "community" in where:
        values["communityId"] = gid("Community", alpha.communities[where["community"]])
    if "buildings" in where:
        values["buildingIds"] = [gid("Building", alpha.buildings[b]) for b in where["buildings"]]
    posted = await post(api, await api.token("alpha", phone), **values)
    assert posted["notice"] is None
    assert code in {e["code"] for e in posted["errors"]}, posted


async def test_a_building_leader_posts_to_their_own_building_only(api: Api, alpha: TenantHandle) -> None:
    neighbour, _ = await verified(api, alpha, "A1-G1-B2")
    phone, _ = await leader_of(api, alpha, "A1-G1-B2")
    token = await fresh_token(api, phone)
    own = await post(api, token, title="楼栋长通知", **buildings(alpha, "A1-G1-B2"))
    assert own["errors"] == [], own
    assert own["notice"]["readCounts"]["audience"] >= 2
    beyond = {
        "another building": buildings(alpha, "A1-G1-B1"),
        "a grid": {"scope": "GRIDS", "gridIds": [gid("Grid", alpha.grids["A1-G1"])]},
    }
    refused = {
        place: [e["code"] for e in (await post(api, token, **where))["errors"]] for place, where in beyond.items()
    }
    assert refused == {place: ["OUT_OF_SCOPE"] for place in beyond}
    told = await api.data(
        "{ notifications(first: 20) { edges { node { kind subject { ... on Notice { id } } } } } }",
        token=await api.token("alpha", neighbour),
    )
    assert {"kind": "NOTICE_POSTED", "subject": {"id": own["notice"]["id"]}} in [
        e["node"] for e in told["notifications"]["edges"]
    ]


async def test_posting_tells_the_whole_audience_in_the_same_statements_whatever_its_size(
    api: Api, alpha: TenantHandle
) -> None:
    admin = await api.token("alpha", TENANT_ADMIN)

    async def statements(*codes: str) -> tuple[int, int]:
        with counting_statements() as counter:
            posted = await post(api, admin, **buildings(alpha, *codes))
        assert posted["errors"] == []
        return counter.count, posted["notice"]["readCounts"]["audience"]

    await verified(api, alpha, "A1-G2-B1")
    await verified(api, alpha, "A1-G1-B1")
    few = await statements("A1-G2-B1")
    many = await statements("A1-G2-B1", "A1-G1-B1", "A1-G1-B2")
    assert few[1] < many[1]
    assert few[0] == many[0]


async def test_a_list_takes_the_same_statements_whatever_the_page(api: Api, alpha: TenantHandle) -> None:
    admin = await api.token("alpha", COMMUNITY_ADMIN)
    for n in range(3):
        await post(
            api,
            admin,
            title=f"计数{n}",
            scope="GRIDS",
            gridIds=[gid("Grid", alpha.grids["A1-G1"]), gid("Grid", alpha.grids["A1-G2"])],
        )
    query = """query($n: Int!) { notices(first: $n, postedByMe: true) { totalCount edges { node { id authorName community { name }
      grids { name } buildings { name } viewerReadAt readCounts { audience unread }
      receipts(first: 3) { totalCount edges { node { readAt } } } } } } }"""

    async def statements(n: int) -> int:
        return await api.statements(query, {"n": n}, token=admin)

    assert await statements(1) == await statements(3)


async def test_a_resident_confirming_on_two_devices_at_once_leaves_one_receipt(api: Api, alpha: TenantHandle) -> None:
    phone, _ = await verified(api, alpha, "A1-G2-B1")
    admin = await api.token("alpha", COMMUNITY_ADMIN)
    posted = await post(api, admin, requiresConfirmation=True, **buildings(alpha, "A1-G2-B1"))
    notice_id = posted["notice"]["id"]
    token = await api.token("alpha", phone)
    answers = await asyncio.gather(
        *(api.data(CONFIRM if n % 2 else READ, {"input": {"noticeId": notice_id}}, token=token) for n in range(8))
    )
    assert all(not next(iter(a.values()))["errors"] for a in answers), answers
    found = await counts(api, admin, notice_id)
    assert found["readCounts"]["read"] == found["readCounts"]["confirmed"] == 1
    assert found["receipts"]["totalCount"] == 1
